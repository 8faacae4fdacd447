#!/usr/bin/env bash
# The full product path of two builds side by side, with a bare YARP forwarder as the floor of a .NET hop, in one run of
# the shared harness (../shared/bench/compare.sh): each gateway alone on CPU 0, the mock upstream and wrk on CPU 1.
#
#   bench/pipeline.sh BEFORE_REF [compare.sh options]      e.g. bench/pipeline.sh 77dc1e3 --conns 16,64 --duration 10
#
# "Full product path": the app has a key, requests/tokens per minute and a daily budget, the upstream has requests/tokens
# per minute and a concurrency cap, the alias is priced (ledger, metrics), and every request is cached and de-duplicated
# (`CacheAllRequests`), so each unique body is a cache lookup (near store, then its shard grain) that misses.
# BEFORE_REF is published from a temporary worktree; the working tree is "after". Order: before, after, yarp; run it
# twice with BENCH_REVERSE=1 the second time, since the order alone moves figures on this shared box.
# Env: SHARED_BENCH (default ../shared/bench next to the repo), PIPELINE_BENCH_DIR (default /tmp/gatehouse-bench-pipeline).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
SHARED_BENCH="${SHARED_BENCH:-$REPO/../shared/bench}"
DIR="${PIPELINE_BENCH_DIR:-/tmp/gatehouse-bench-pipeline}"
PORT=18700
[ $# -ge 1 ] || { sed -n '2,12s/^# \{0,1\}//p' "$0" >&2; exit 2; }
BEFORE_REF="$1"; shift
mkdir -p "$DIR"

if [ ! -f "$DIR/before/Gatehouse.Silo.dll" ] || [ "$(cat "$DIR/before/ref" 2>/dev/null)" != "$BEFORE_REF" ]; then
  git -C "$REPO" worktree add -q --detach "$DIR/src-before" "$BEFORE_REF"
  trap 'git -C "$REPO" worktree remove --force "$DIR/src-before"' EXIT
  dotnet publish "$DIR/src-before/src/Silo" -c Release -o "$DIR/before" --nologo -v quiet >/dev/null
  echo "$BEFORE_REF" > "$DIR/before/ref"
fi
dotnet publish "$REPO/src/Silo" -c Release -o "$DIR/after" --nologo -v quiet >/dev/null
if [ ! -f "$DIR/yarp/YarpPeer.dll" ]; then
  rm -rf "$DIR/yarp-src" && cp -r "$SHARED_BENCH/yarp-peer" "$DIR/yarp-src"
  dotnet publish "$DIR/yarp-src" -c Release -o "$DIR/yarp" --nologo -v quiet >/dev/null
fi

cat > "$DIR/full-path.json" <<'JSON'
{
  "Logging": { "LogLevel": { "Default": "Warning" } },
  "Gatehouse": {
    "Providers": {
      "mock": { "Kind": "OpenAICompatible", "BaseUrl": "http://127.0.0.1:18080/v1", "TimeoutSeconds": 30,
                "RequestsPerMinute": 10000000, "TokensPerMinute": 1000000000, "MaxConcurrency": 10000 }
    },
    "Models": {
      "gpt-4o-mini": { "Targets": [ { "Provider": "mock", "Model": "gpt-4o-mini" } ],
                       "Pricing": { "InputPerMillion": 0.15, "OutputPerMillion": 0.6 } }
    },
    "Apps": { "bench": { "Keys": [ "gk-bench" ], "RequestsPerMinute": 10000000, "TokensPerMinute": 1000000000,
                         "BudgetUsdPerDay": 1000000000, "CacheAllRequests": true } },
    "Cache": { "Enabled": true }
  }
}
JSON

silo() { # build dir
  echo "exec env GATEHOUSE_CONFIG='$DIR/full-path.json' Gatehouse__Providers__mock__BaseUrl=\"\$MOCK_URL/v1\" \
    Gatehouse__Cluster__SiloPort=21111 Gatehouse__Cluster__GatewayPort=31000 DOTNET_TieredPGO=1 DOTNET_gcServer=0 \
    dotnet '$1/Gatehouse.Silo.dll' --urls http://127.0.0.1:$PORT"
}
before=(--gateway before=http://127.0.0.1:$PORT --header before='Authorization: Bearer gk-bench' --start before="$(silo "$DIR/before")")
after=(--gateway after=http://127.0.0.1:$PORT --header after='Authorization: Bearer gk-bench' --start after="$(silo "$DIR/after")")
yarp=(--gateway yarp=http://127.0.0.1:18093 --start yarp="exec env DOTNET_gcServer=0 dotnet '$DIR/yarp/YarpPeer.dll' --urls http://127.0.0.1:18093")
if [ "${BENCH_REVERSE:-0}" = 1 ]; then order=("${yarp[@]}" "${after[@]}" "${before[@]}"); else order=("${before[@]}" "${after[@]}" "${yarp[@]}"); fi
"$SHARED_BENCH/compare.sh" "${order[@]}" "$@"
