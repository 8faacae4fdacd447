#!/usr/bin/env bash
# Measures Gatehouse with the shared harness (../shared/bench/compare.sh): builds the silo in Release,
# starts it pinned to the gateway CPU with a config whose upstream is the harness's mock, and passes
# every other argument to compare.sh (e.g. --conns 16,64 --latencies 0 --rate 1000 --duration 10).
#
#   bench/run-gatehouse.sh [compare.sh options]
#
# The app and the mock upstream have limits far above what the box can reach, as a real deployment has limits:
# every request passes the app's and the upstream's leases and a concurrency slot.
# BENCH_MODEL=sim-bench measures the gateway alone (Simulated provider, no upstream HTTP call).
# Env: SHARED_BENCH (default ../shared/bench next to the repo), GATEHOUSE_BENCH_DIR (build output,
# default /tmp/gatehouse-bench-silo), GATEHOUSE_PORT (default 18090).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
SHARED_BENCH="${SHARED_BENCH:-$REPO/../shared/bench}"
OUT_DIR="${GATEHOUSE_BENCH_DIR:-/tmp/gatehouse-bench-silo}"
PORT="${GATEHOUSE_PORT:-18090}"

dotnet publish "$REPO/src/Silo" -c Release -o "$OUT_DIR" --nologo -v quiet >/dev/null

# The mock's URL is only known to compare.sh (MOCK_URL in the started command's environment), so the
# config refers to it through Gatehouse__ environment variables set in the start command.
cat > "$OUT_DIR/bench-config.json" <<'JSON'
{
  "Logging": { "LogLevel": { "Default": "Warning" } },
  "Gatehouse": {
    "Providers": {
      "mock": { "Kind": "OpenAICompatible", "BaseUrl": "http://127.0.0.1:18080/v1", "TimeoutSeconds": 30,
                "RequestsPerMinute": 10000000, "TokensPerMinute": 1000000000, "MaxConcurrency": 10000 },
      "sim":  { "Kind": "Simulated", "LatencyMs": 0 }
    },
    "Models": {
      "gpt-4o-mini": { "Targets": [ { "Provider": "mock", "Model": "gpt-4o-mini" } ] },
      "sim-bench":   { "Targets": [ { "Provider": "sim", "Model": "sim-1" } ] }
    },
    "Apps": { "bench": { "Keys": [ "gk-bench" ], "RequestsPerMinute": 10000000, "TokensPerMinute": 1000000000 } }
  }
}
JSON

# The same config without any limit, for BENCH_UNLIMITED=1 (what the quota path costs, in the same run).
jq 'del(.Gatehouse.Providers.mock.RequestsPerMinute, .Gatehouse.Providers.mock.TokensPerMinute, .Gatehouse.Providers.mock.MaxConcurrency,
        .Gatehouse.Apps.bench.RequestsPerMinute, .Gatehouse.Apps.bench.TokensPerMinute)' \
  "$OUT_DIR/bench-config.json" > "$OUT_DIR/bench-config-unlimited.json"

start="exec env GATEHOUSE_CONFIG='$OUT_DIR/bench-config.json' Gatehouse__Providers__mock__BaseUrl=\"\$MOCK_URL/v1\" \
  Gatehouse__Cluster__SiloPort=21111 Gatehouse__Cluster__GatewayPort=31000 \
  DOTNET_TieredPGO=1 DOTNET_gcServer=0 \
  dotnet '$OUT_DIR/Gatehouse.Silo.dll' --urls http://127.0.0.1:$PORT"

unlimited=()
if [ "${BENCH_UNLIMITED:-0}" = 1 ]; then
  unlimited=(--gateway unlimited=http://127.0.0.1:$PORT --header unlimited='Authorization: Bearer gk-bench'
    --start unlimited="${start//bench-config.json/bench-config-unlimited.json}")
fi

exec "$SHARED_BENCH/compare.sh" \
  --gateway gatehouse=http://127.0.0.1:$PORT \
  --header gatehouse='Authorization: Bearer gk-bench' \
  --start gatehouse="$start" \
  "${unlimited[@]}" \
  "$@"
