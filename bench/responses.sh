#!/usr/bin/env bash
# What the Responses API costs against Chat Completions on the same silo: a Release silo with the Simulated provider
# (no upstream HTTP call, so the gateway's own work is what is measured), unique prompts, wrk closed loop on one CPU
# and the silo on the other. Rounds alternate chat, responses (store: true, the default) and responses with
# store: false, so drift on this shared box falls on all three alike.
#
#   bench/responses.sh [conns (default 16)] [seconds per round (default 10)] [rounds (default 2)]
#
# BENCH_VARIANTS replaces the variants, each label:api:store:inputs (bench/embeddings.sh sets it).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
CONNS="${1:-16}"; SECONDS_PER_ROUND="${2:-10}"; ROUNDS="${3:-2}"
OUT_DIR="${GATEHOUSE_BENCH_DIR:-/tmp/gatehouse-bench-silo}"
PORT="${GATEHOUSE_PORT:-18091}"

dotnet publish "$REPO/src/Silo" -c Release -o "$OUT_DIR" --nologo -v quiet >/dev/null
cat > "$OUT_DIR/bench-responses.json" <<'JSON'
{
  "Logging": { "LogLevel": { "Default": "Warning" } },
  "Gatehouse": {
    "Cluster": { "SiloPort": 21112, "GatewayPort": 31001 },
    "Providers": { "sim": { "Kind": "Simulated", "LatencyMs": 0, "RequestsPerMinute": 10000000, "TokensPerMinute": 1000000000 } },
    "Models": {
      "sim-bench": { "Targets": [ { "Provider": "sim", "Model": "sim-1" } ] },
      "sim-embed": { "Type": "Embeddings", "Targets": [ { "Provider": "sim", "Model": "sim-embed-1" } ] }
    },
    "Apps": { "bench": { "Keys": [ "gk-bench" ], "RequestsPerMinute": 10000000, "TokensPerMinute": 1000000000 } }
  }
}
JSON

GATEHOUSE_CONFIG="$OUT_DIR/bench-responses.json" DOTNET_gcServer=0 \
  setsid taskset -c 1 dotnet "$OUT_DIR/Gatehouse.Silo.dll" --urls "http://127.0.0.1:$PORT" > "$OUT_DIR/bench-responses.log" 2>&1 < /dev/null &
SILO=$!
trap 'kill "$SILO" 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$PORT/readyz" > /dev/null && break; sleep 1; done

VARIANTS="${BENCH_VARIANTS:-chat:chat:true:1 responses-stored:responses:true:1 responses-unstored:responses:false:1}"

run() { # label api store inputs seconds
  BENCH_API="$2" BENCH_STORE="$3" BENCH_INPUTS="$4" BENCH_RUN="$1-$(date +%s%N)" taskset -c 0 wrk -t1 -c"$CONNS" -d"${5}s" --timeout 10s \
    -s "$HERE/lua/endpoints.lua" "http://127.0.0.1:$PORT" | grep '^BENCHJSON' | sed "s/^BENCHJSON /$1 /"
}

# Warm-up for JIT and pools, not measured; every variant gets the same.
for variant in $VARIANTS; do IFS=: read -r label api store inputs <<< "$variant"; run warmup "$api" "$store" "$inputs" 3 > /dev/null; done
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round ($(date -u +%H:%MZ))"
  for variant in $VARIANTS; do
    IFS=: read -r label api store inputs <<< "$variant"
    run "$label" "$api" "$store" "$inputs" "$SECONDS_PER_ROUND"
  done
done
echo "silo RSS after the runs: $(( $(awk '/VmRSS/ {print $2}' /proc/$SILO/status) / 1024 )) MiB"
