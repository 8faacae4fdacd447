#!/usr/bin/env bash
# Quota bench (issues 4, 9): in-process silos saturate one shared upstream limit; checks the limit held on arrival
# times and prints authority calls per 1,000 requests and grant latency. Bounded (each run <= 30 s), in-process.
# Usage: bench/quota.sh [seconds] [upstreamRpm] [silos] [callersPerAppPerSilo]
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build -c Release bench/QuotaBench -v q -nologo >/dev/null
seconds="${1:-10}"; (( seconds > 30 )) && seconds=30
exec timeout 120 dotnet bench/QuotaBench/bin/Release/net10.0/Gatehouse.QuotaBench.dll "$seconds" "${2:-6000}" "${3:-3}" "${4:-16}"
