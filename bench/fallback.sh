#!/usr/bin/env bash
# Fallback latency: what a failing primary upstream adds to a request that the fallback answers.
#
#   bench/fallback.sh [--duration 15] [--rate 1000] [--conns 16]
#
# Builds the silo in Release, then runs ../shared/bench/compare.sh (gateway pinned to CPU 0; mock
# upstream and wrk on CPU 1) against three Gatehouse configurations of the alias gpt-4o-mini, each
# started alone:
#   gh-backup    the alias targets the mock's /backup/v1 only (the baseline: no failure)
#   gh-fallback  primary = a second mock instance that answers every call with 500, circuit breaker
#                effectively off (FailureThreshold 1e9): every request pays a failed call, then the
#                fallback alias answers from /backup/v1
#   gh-breaker   the same, with the default breaker (5 consecutive failures, 10 s break): after the
#                first failures the primary is skipped until a probe every 10 s
# The "primary" mock runs on CPU 1 next to the main one; it is started and stopped with each gateway.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
SHARED="${SHARED_BENCH:-$ROOT/../shared/bench}"
WORK="${GATEHOUSE_FALLBACK_BENCH_DIR:-/tmp/gatehouse-issue6-bench}"
DURATION=15
RATE=1000
CONNS=16
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) DURATION="$2"; shift 2 ;;
    --rate) RATE="$2"; shift 2 ;;
    --conns) CONNS="$2"; shift 2 ;;
    *) echo "fallback.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
(( DURATION <= 30 )) || { echo "fallback.sh: --duration is at most 30" >&2; exit 2; }

mkdir -p "$WORK"
echo "building the silo (Release) into $WORK/silo" >&2
dotnet publish "$ROOT/src/Silo" -c Release -o "$WORK/silo" --nologo -v q >"$WORK/publish.log" 2>&1 \
  || { cat "$WORK/publish.log" >&2; exit 1; }
MOCK_DLL="${BENCH_BUILD_DIR:-/tmp/gatehouse-bench-build}/out/MockUpstream.dll"

# config NAME PRIMARY_PORT THRESHOLD: writes $WORK/NAME.json; PRIMARY_PORT empty = no primary.
config() {
  local name="$1" primary_port="$2" threshold="$3" primary="" models
  if [[ -n "$primary_port" ]]; then
    primary=",\"primary\":{\"Kind\":\"OpenAICompatible\",\"BaseUrl\":\"http://127.0.0.1:$primary_port/primary/v1\",\"CircuitBreaker\":{\"FailureThreshold\":$threshold}}"
    models='"gpt-4o-mini":{"Targets":[{"Provider":"primary","Model":"gpt-4o-mini"}],"Fallbacks":["backup"]},"backup":{"Targets":[{"Provider":"backup","Model":"gpt-4o-mini"}]}'
  else
    models='"gpt-4o-mini":{"Targets":[{"Provider":"backup","Model":"gpt-4o-mini"}]}'
  fi
  cat > "$WORK/$name.json" <<JSON
{"Gatehouse":{
  "Providers":{"backup":{"Kind":"OpenAICompatible","BaseUrl":"http://127.0.0.1:18080/backup/v1"}$primary},
  "Models":{$models},
  "Apps":{"bench":{"Keys":["gk-bench-fallback"]}}}}
JSON
}
config gh-backup "" 0
config gh-fallback 18081 1000000000
config gh-breaker 18082 5

# start NAME HTTP_PORT SILO_PORT PRIMARY_PORT: the command compare.sh runs (pinned to the gateway CPU).
start() {
  local primary=""
  if [[ -n "$4" ]]; then
    # The failing primary belongs with the upstreams on CPU 1; same process group as the silo, so it stops with it.
    primary="MOCK_PORT=$4 MOCK_FAIL_RATE=1 MOCK_FAIL_STATUS=500 taskset -c 1 dotnet '$MOCK_DLL' >/dev/null 2>&1 & "
  fi
  echo "${primary}exec env GATEHOUSE_CONFIG='$WORK/$1.json' Gatehouse__Cluster__SiloPort=$3 Gatehouse__Cluster__GatewayPort=$(( $3 + 1 )) \
DOTNET_gcServer=0 Logging__LogLevel__Default=Error dotnet '$WORK/silo/Gatehouse.Silo.dll' --urls http://127.0.0.1:$2"
}

exec "$SHARED/compare.sh" \
  --gateway gh-backup=http://127.0.0.1:8191 --start gh-backup="$(start gh-backup 8191 11191 '')" \
  --header gh-backup='Authorization: Bearer gk-bench-fallback' \
  --gateway gh-fallback=http://127.0.0.1:8192 --start gh-fallback="$(start gh-fallback 8192 11193 18081)" \
  --header gh-fallback='Authorization: Bearer gk-bench-fallback' \
  --gateway gh-breaker=http://127.0.0.1:8193 --start gh-breaker="$(start gh-breaker 8193 11195 18082)" \
  --header gh-breaker='Authorization: Bearer gk-bench-fallback' \
  --stop-between --conns "$CONNS" --rate "$RATE" --latencies 0 --duration "$DURATION" --warmup 3 \
  --out "$WORK/fallback-table.md"
