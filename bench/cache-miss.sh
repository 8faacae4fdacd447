#!/usr/bin/env bash
# What the cache costs on the miss path and what it saves on hits, in one script run with the shared harness:
#
#   bench/cache-miss.sh [--duration 10] [--warmup 3] [--conns 16,64]
#
# One silo (CPU 0) in front of the shared mock upstream (CPU 1), limits on as a real deployment has them.
#  1. unique bodies: "bypass" (no header: the bench body has no temperature, so it is not cached) against "miss"
#     (`x-gatehouse-cache: force`: every request is deterministic-by-opt-in and unique, so each one is a cache miss that
#     goes through its shard, is recorded and stored), and the direct baseline.
#  2. identical bodies with `x-gatehouse-cache: force`: after the first request every one is a hit.
# Goals (issue 11): miss >= 80% of bypass RPS, hit >= 60% of direct RPS. Every load run is bounded (duration <= 30 s);
# everything listens on 127.0.0.1; compare.sh stops only what it started, by PID.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
SHARED_BENCH="${SHARED_BENCH:-$ROOT/../shared/bench}"
[[ -x "$SHARED_BENCH/compare.sh" ]] || { echo "cache-miss.sh: no compare.sh in $SHARED_BENCH (set SHARED_BENCH)" >&2; exit 2; }
OUT_DIR="${GATEHOUSE_BENCH_DIR:-/tmp/gatehouse-cache-miss-bench}"
DURATION=10 WARMUP=3 CONNS="16,64"
PORT="${GATEHOUSE_PORT:-18490}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) DURATION="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --conns) CONNS="$2"; shift 2 ;;
    *) echo "cache-miss.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$OUT_DIR"
dotnet publish "$ROOT/src/Silo" -c Release -o "$OUT_DIR/silo" --nologo -v quiet >/dev/null
cat > "$OUT_DIR/config.json" <<'JSON'
{
  "Logging": { "LogLevel": { "Default": "Warning" } },
  "Gatehouse": {
    "Providers": {
      "mock": { "Kind": "OpenAICompatible", "BaseUrl": "http://127.0.0.1:18080/v1", "TimeoutSeconds": 30,
                "RequestsPerMinute": 10000000, "TokensPerMinute": 1000000000, "MaxConcurrency": 10000 }
    },
    "Models": { "gpt-4o-mini": { "Targets": [ { "Provider": "mock", "Model": "gpt-4o-mini" } ] } },
    "Apps": { "bench": { "Keys": [ "gk-bench" ], "RequestsPerMinute": 10000000, "TokensPerMinute": 1000000000 } },
    "Cache": { "Enabled": true, "TtlSeconds": 3600 }
  }
}
JSON
start="exec env GATEHOUSE_CONFIG='$OUT_DIR/config.json' Gatehouse__Providers__mock__BaseUrl=\"\$MOCK_URL/v1\" \
  Gatehouse__Cluster__SiloPort=21490 Gatehouse__Cluster__GatewayPort=31490 DOTNET_gcServer=0 \
  dotnet '$OUT_DIR/silo/Gatehouse.Silo.dll' --urls http://127.0.0.1:$PORT"
common=(--conns "$CONNS" --latencies 0 --duration "$DURATION" --warmup "$WARMUP")

echo "## 1. unique bodies: bypass vs deterministic miss"
"$SHARED_BENCH/compare.sh" "${common[@]}" --mode unique \
  --gateway bypass=http://127.0.0.1:$PORT --header bypass='Authorization: Bearer gk-bench' --start bypass="$start" \
  --gateway miss=http://127.0.0.1:$PORT --header miss='Authorization: Bearer gk-bench' --header miss='x-gatehouse-cache: force' \
  --out "$OUT_DIR/miss.md"

echo "## 2. identical bodies: hits"
"$SHARED_BENCH/compare.sh" "${common[@]}" --mode identical \
  --gateway hit=http://127.0.0.1:$PORT --header hit='Authorization: Bearer gk-bench' --header hit='x-gatehouse-cache: force' --start hit="$start" \
  --out "$OUT_DIR/hit.md"
