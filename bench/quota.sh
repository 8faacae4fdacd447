#!/usr/bin/env bash
# Quota bench (issue 4): in-process silos saturate one shared upstream limit; prints admitted vs limit per
# window and authority calls per 1,000 requests. Bounded (each run <= 30 s), in-process, nothing to stop afterwards.
# Usage: bench/quota.sh [seconds] [upstreamRpm] [silos] [callersPerAppPerSilo]
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build -c Release bench/QuotaBench -v q -nologo >/dev/null
seconds="${1:-10}"; (( seconds > 30 )) && seconds=30
exec timeout 120 dotnet bench/QuotaBench/bin/Release/net10.0/Gatehouse.QuotaBench.dll "$seconds" "${2:-6000}" "${3:-3}" "${4:-16}"
