#!/usr/bin/env bash
# Cache-hit throughput and latency of Gatehouse, through HTTP (wrk via the shared harness) and through the grain client.
#
#   bench/cache.sh [--duration 10] [--warmup 3] [--conns 16,64] [--stream]
#
# Builds the silo and bench/GrainClientBench in Release under /tmp, then:
#  1. HTTP: ../shared/bench/compare.sh starts the silo pinned to CPU 0 (taskset) with a config whose only upstream is the
#     shared mock upstream, and runs wrk (CPU 1) with byte-identical bodies (--mode identical). The bench body has no
#     temperature, so the requests opt in with `x-gatehouse-cache: force`; after the first, every request is a hit.
#  2. Grain client: starts the mock (CPU 1) and the silo (CPU 0) itself, then runs GrainClientBench (CPU 1): a closed
#     loop of identical temperature-0 requests through IChatClient.
# Every load run is bounded (duration <= 30 s); everything listens on 127.0.0.1; the script stops only what it started,
# by PID (each started as its own process group with setsid).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
SHARED_BENCH="${SHARED_BENCH:-$ROOT/../shared/bench}"
[[ -x "$SHARED_BENCH/compare.sh" ]] || { echo "cache.sh: no compare.sh in $SHARED_BENCH (set SHARED_BENCH)" >&2; exit 2; }
OUT_DIR="${GATEHOUSE_BENCH_DIR:-/tmp/gatehouse-cache-bench}"
DURATION=10
WARMUP=3
CONNS="16,64"
STREAM=""
HTTP_PORT="${HTTP_PORT:-18290}"
SILO_PORT="${SILO_PORT:-21290}"
GATEWAY_PORT="${GATEWAY_PORT:-31290}"
MOCK_PORT="${MOCK_PORT:-18390}"
KEY=gk-bench-cache

while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) DURATION="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --conns) CONNS="$2"; shift 2 ;;
    --stream) STREAM=--stream; shift ;;
    *) echo "cache.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
(( DURATION <= 30 )) || { echo "cache.sh: --duration is at most 30" >&2; exit 2; }

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
mkdir -p "$OUT_DIR"

log "building the silo and GrainClientBench (Release) into $OUT_DIR"
dotnet publish "$ROOT/src/Silo/Gatehouse.Silo.csproj" -c Release -o "$OUT_DIR/silo" --nologo -v q >/dev/null
dotnet publish "$HERE/GrainClientBench/GrainClientBench.csproj" -c Release -o "$OUT_DIR/client" --nologo -v q >/dev/null

# The upstream's base URL comes from the environment (MOCK_URL, set by compare.sh), so one file serves both runs.
cat > "$OUT_DIR/gatehouse.json" <<JSON
{
  "Gatehouse": {
    "Providers": { "mock": { "Kind": "OpenAICompatible", "BaseUrl": "http://127.0.0.1:$MOCK_PORT/v1", "TimeoutSeconds": 30 } },
    "Models": { "gpt-4o-mini": { "Targets": [ { "Provider": "mock", "Model": "gpt-4o-mini" } ] } },
    "Apps": { "bench": { "Keys": [ "$KEY" ] } },
    "Cache": { "Enabled": true, "TtlSeconds": 3600 },
    "Cluster": { "Kind": "Localhost", "SiloPort": $SILO_PORT, "GatewayPort": $GATEWAY_PORT }
  }
}
JSON
SILO_CMD="exec env GATEHOUSE_CONFIG=$OUT_DIR/gatehouse.json DOTNET_ENVIRONMENT=Production ASPNETCORE_ENVIRONMENT=Production dotnet $OUT_DIR/silo/Gatehouse.Silo.dll --urls http://127.0.0.1:$HTTP_PORT"

log "1/2 HTTP cache hits (wrk, identical bodies)"
"$SHARED_BENCH/compare.sh" \
  --gateway gatehouse=http://127.0.0.1:$HTTP_PORT \
  --start gatehouse="$SILO_CMD" \
  --header gatehouse="Authorization: Bearer $KEY" \
  --header gatehouse="x-gatehouse-cache: force" \
  --mode identical $STREAM --conns "$CONNS" --latencies 0 \
  --duration "$DURATION" --warmup "$WARMUP" --mock-port "$MOCK_PORT" \
  --out "$OUT_DIR/http.md"

log "2/2 grain client cache hits"
. "$HERE/started-processes.sh"

MOCK_DLL="${BENCH_BUILD_DIR:-/tmp/gatehouse-bench-build}/out/MockUpstream.dll"
MOCK_PORT=$MOCK_PORT setsid taskset -c 1 dotnet "$MOCK_DLL" >"$OUT_DIR/mock.log" 2>&1 </dev/null &
STARTED+=($!)
wait_port "$MOCK_PORT" 30 || { cat "$OUT_DIR/mock.log" >&2; exit 1; }
setsid taskset -c 0 bash -c "$SILO_CMD" >"$OUT_DIR/silo.log" 2>&1 </dev/null &
STARTED+=($!)
wait_port "$HTTP_PORT" 90 || { cat "$OUT_DIR/silo.log" >&2; exit 1; }
wait_port "$GATEWAY_PORT" 30 || { cat "$OUT_DIR/silo.log" >&2; exit 1; }
for c in ${CONNS//,/ }; do
  taskset -c 1 dotnet "$OUT_DIR/client/GrainClientBench.dll" --gateway-port "$GATEWAY_PORT" --key "$KEY" --model gpt-4o-mini \
    --concurrency "$c" --duration "$DURATION" --warmup "$WARMUP" | tee -a "$OUT_DIR/grain-client.txt"
done
log "mock upstream calls during the grain client runs: $(curl -fsS "http://127.0.0.1:$MOCK_PORT/stats" | jq '.requests')"
