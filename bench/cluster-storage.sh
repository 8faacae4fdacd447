#!/usr/bin/env bash
# What PostgreSQL costs on the request path: one silo with Memory grain storage against one silo of a
# scripts/cluster.sh cluster (AdoNet membership, grant records in PostgreSQL), the same config with limits on
# (every request passes the app's and the upstream's leases), measured in the same run by the shared harness.
#
#   bench/cluster-storage.sh [compare.sh options]     e.g. --conns 16,64 --latencies 0 --duration 15
#
# The cluster's silo is moved to the gateway CPU (0) like the harness's started gateways; its PostgreSQL runs
# with fsync on, as a deployment's does. Stops everything it started (cluster.sh down) on exit.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
SHARED_BENCH="${SHARED_BENCH:-$REPO/../shared/bench}"
OUT_DIR="${GATEHOUSE_BENCH_DIR:-/tmp/gatehouse-bench-storage}"
MEMORY_PORT="${GATEHOUSE_PORT:-18090}"
MOCK_PORT=18080

mkdir -p "$OUT_DIR"
dotnet build "$REPO/src/Silo" -c Release --nologo -v quiet >/dev/null
SILO_DLL="$REPO/src/Silo/bin/Release/net10.0/Gatehouse.Silo.dll"

cat > "$OUT_DIR/bench-config.json" <<JSON
{
  "Logging": { "LogLevel": { "Default": "Warning" } },
  "Gatehouse": {
    "Providers": {
      "mock": { "Kind": "OpenAICompatible", "BaseUrl": "http://127.0.0.1:$MOCK_PORT/v1", "TimeoutSeconds": 30,
                "RequestsPerMinute": 10000000, "TokensPerMinute": 1000000000, "MaxConcurrency": 10000 }
    },
    "Models": { "gpt-4o-mini": { "Targets": [ { "Provider": "mock", "Model": "gpt-4o-mini" } ] } },
    "Apps": { "bench": { "Keys": [ "gk-bench" ], "RequestsPerMinute": 10000000, "TokensPerMinute": 1000000000 } }
  }
}
JSON

export GATEHOUSE_CLUSTER_DIR="$OUT_DIR/cluster"
export GATEHOUSE_SILO_DLL="$SILO_DLL"
trap 'bash "$REPO/scripts/cluster.sh" down >/dev/null || true' EXIT
bash "$REPO/scripts/cluster.sh" down >/dev/null 2>&1 || true
up="$(bash "$REPO/scripts/cluster.sh" up 1 --config "$OUT_DIR/bench-config.json")"
echo "$up" >&2
pg_url="$(sed -n 's/^silo 1 http=\([^ ]*\) .*/\1/p' <<<"$up")"
pg_pid="$(sed -n 's/^silo 1 .* pid=\([0-9]*\).*/\1/p' <<<"$up")"
taskset -a -cp 0 "$pg_pid" >/dev/null

memory="cd '$(dirname "$SILO_DLL")' && exec env GATEHOUSE_CONFIG='$OUT_DIR/bench-config.json' Gatehouse__Cluster__SiloPort=21111 Gatehouse__Cluster__GatewayPort=31000 \
  dotnet '$SILO_DLL' --urls http://127.0.0.1:$MEMORY_PORT"

"$SHARED_BENCH/compare.sh" --mock-port "$MOCK_PORT" \
  --gateway memory=http://127.0.0.1:$MEMORY_PORT --header memory='Authorization: Bearer gk-bench' --start memory="$memory" \
  --gateway postgres="$pg_url" --header postgres='Authorization: Bearer gk-bench' \
  "$@"
