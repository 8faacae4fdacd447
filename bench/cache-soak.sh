#!/usr/bin/env bash
# The cache's memory under a soak of unique deterministic requests at the box's max rate: the silo's RSS sampled every
# 10 s, and its store's figures at the end.
#
#   bench/cache-soak.sh [--minutes 10] [--conns 16] [--budget-mb 16 | --budget-kb 64]
#
# One silo (CPU 0) with the cache on and Cache:MaxBytesPerSilo = --budget-mb, in front of the shared mock upstream;
# wrk (CPU 1, the shared lua/chat.lua, unique bodies, `x-gatehouse-cache: force`) drives it in 60 s segments, so that
# every request is a miss whose answer is stored and the budget fills and is then held by eviction.
# Goal (issue 11): RSS flat within 10% once the budget is full, and at most 250 MB. Prints one CSV line per sample
# (elapsed s, RSS MB, requests so far) and a summary. Bounded: --minutes <= 15. Stops only what it started, by PID.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
SHARED_BENCH="${SHARED_BENCH:-$ROOT/../shared/bench}"
OUT_DIR="${GATEHOUSE_BENCH_DIR:-/tmp/gatehouse-cache-soak}"
MINUTES=10 CONNS=16 BUDGET_MB=16 BUDGET_KB=""
HTTP_PORT=18590 MOCK_PORT=18591
while [[ $# -gt 0 ]]; do
  case "$1" in
    --minutes) MINUTES="$2"; shift 2 ;;
    --conns) CONNS="$2"; shift 2 ;;
    --budget-mb) BUDGET_MB="$2"; shift 2 ;;
    --budget-kb) BUDGET_KB="$2"; shift 2 ;;
    *) echo "cache-soak.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
(( MINUTES >= 1 && MINUTES <= 15 )) || { echo "cache-soak.sh: --minutes is 1..15" >&2; exit 2; }
command -v wrk >/dev/null || { echo "cache-soak.sh: wrk is needed (run ../shared/bench/compare.sh once, or apt-get install wrk)" >&2; exit 2; }
MOCK_DLL="${BENCH_BUILD_DIR:-/tmp/gatehouse-bench-build}/out/MockUpstream.dll"
[[ -f "$MOCK_DLL" ]] || { echo "cache-soak.sh: no mock at $MOCK_DLL (run ../shared/bench/compare.sh once to build it)" >&2; exit 2; }
mkdir -p "$OUT_DIR"
rm -f "$OUT_DIR"/wrk-*.txt
dotnet publish "$ROOT/src/Silo" -c Release -o "$OUT_DIR/silo" --nologo -v quiet >/dev/null

cat > "$OUT_DIR/config.json" <<JSON
{
  "Logging": { "LogLevel": { "Default": "Warning" } },
  "Gatehouse": {
    "Providers": {
      "mock": { "Kind": "OpenAICompatible", "BaseUrl": "http://127.0.0.1:$MOCK_PORT/v1", "TimeoutSeconds": 30,
                "RequestsPerMinute": 10000000, "TokensPerMinute": 1000000000, "MaxConcurrency": 10000 }
    },
    "Models": { "gpt-4o-mini": { "Targets": [ { "Provider": "mock", "Model": "gpt-4o-mini" } ] } },
    "Apps": { "bench": { "Keys": [ "gk-bench" ], "RequestsPerMinute": 10000000, "TokensPerMinute": 1000000000 } },
    "Cache": { "Enabled": true, "TtlSeconds": 3600, "MaxBytesPerSilo": $(( ${BUDGET_KB:-$(( BUDGET_MB * 1024 ))} * 1024 )) },
    "Cluster": { "SiloPort": 21590, "GatewayPort": 31590 }
  }
}
JSON
printf 'Authorization: Bearer gk-bench\nx-gatehouse-cache: force\n' > "$OUT_DIR/headers.txt"

. "$HERE/started-processes.sh"
rss_mb() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

MOCK_PORT=$MOCK_PORT setsid taskset -c 1 dotnet "$MOCK_DLL" >"$OUT_DIR/mock.log" 2>&1 </dev/null &
STARTED+=($!)
wait_port "$MOCK_PORT" 30 || { cat "$OUT_DIR/mock.log" >&2; exit 1; }
GATEHOUSE_CONFIG="$OUT_DIR/config.json" DOTNET_gcServer=0 setsid taskset -c 0 \
  dotnet "$OUT_DIR/silo/Gatehouse.Silo.dll" --urls "http://127.0.0.1:$HTTP_PORT" >"$OUT_DIR/silo.log" 2>&1 </dev/null &
SILO=$!
STARTED+=($SILO)
wait_port "$HTTP_PORT" 90 || { cat "$OUT_DIR/silo.log" >&2; exit 1; }
# The dotnet host is the process that holds the heap (setsid execs it directly).
echo "elapsed_s,rss_mb,upstream_requests"
echo "0,$(rss_mb $SILO),0"

segments=$MINUTES
start=$(date +%s)
for (( s = 0; s < segments; s++ )); do
  BENCH_MODE=unique BENCH_HEADERS_FILE="$OUT_DIR/headers.txt" BENCH_THREADS=1 \
    setsid taskset -c 1 wrk -t1 -c"$CONNS" -d60s --timeout 10s -s "$SHARED_BENCH/lua/chat.lua" "http://127.0.0.1:$HTTP_PORT/v1/chat/completions" \
    >"$OUT_DIR/wrk-$s.txt" 2>&1 </dev/null &
  WRK=$!
  STARTED+=($WRK)
  for (( i = 0; i < 6; i++ )); do
    sleep 10
    echo "$(( $(date +%s) - start )),$(rss_mb $SILO),$(curl -fsS "http://127.0.0.1:$MOCK_PORT/stats" | jq '.requests')"
  done
  wait "$WRK" || true
done
echo "# wrk segments (requests, errors):"
for f in "$OUT_DIR"/wrk-*.txt; do grep -E "requests in|Non-2xx|Socket errors" "$f" | tr '\n' ' '; echo; done
