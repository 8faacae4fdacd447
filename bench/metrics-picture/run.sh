#!/usr/bin/env bash
# Draws bench/metrics-picture/gatehouse-metrics.png from a real run: builds the silo (Release), starts it on 127.0.0.1
# with a Simulated provider, an upstream that refuses connections (alias `chain` falls back to `sim`) and an app with
# 120 requests a minute, drives 60 s of load in three phases while scraping GET /metrics, stops the silo, renders.
# Needs python3-matplotlib (apt-get install -y python3-matplotlib).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OUT_DIR="${GATEHOUSE_BENCH_DIR:-/tmp/gatehouse-picture-silo}"
PORT="${GATEHOUSE_PORT:-18095}"
# Debian's python3 (where apt installs matplotlib), not one first on PATH.
PY="${PYTHON:-/usr/bin/python3}"
dotnet publish "$REPO/src/Silo" -c Release -o "$OUT_DIR" --nologo -v quiet >/dev/null
cat > "$OUT_DIR/picture-config.json" <<'JSON'
{
  "Gatehouse": {
    "Providers": {
      "sim": { "Kind": "Simulated", "LatencyMs": 5 },
      "down": { "Kind": "OpenAICompatible", "BaseUrl": "http://127.0.0.1:1/v1", "CircuitBreaker": { "FailureThreshold": 1000000 } }
    },
    "Models": {
      "sim": { "Targets": [ { "Provider": "sim", "Model": "sim-1" } ] },
      "chain": { "Targets": [ { "Provider": "down", "Model": "down-1" } ], "Fallbacks": [ "sim" ] }
    },
    "Apps": {
      "picture": { "Keys": [ "gk-picture-FAKE-key" ] },
      "tiny": { "Keys": [ "gk-picture-tiny-FAKE-key" ], "RequestsPerMinute": 120 }
    },
    "Cluster": { "SiloPort": 21211, "GatewayPort": 31200 }
  }
}
JSON
GATEHOUSE_CONFIG="$OUT_DIR/picture-config.json" setsid dotnet "$OUT_DIR/Gatehouse.Silo.dll" --urls "http://127.0.0.1:$PORT" \
  > "$OUT_DIR/silo.log" 2>&1 < /dev/null &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.5; done
"$PY" "$HERE/drive.py" "http://127.0.0.1:$PORT" "$OUT_DIR/scrapes.json"
kill "$pid"; wait "$pid" 2>/dev/null || true
"$PY" "$HERE/render.py" "$OUT_DIR/scrapes.json" "$HERE/gatehouse-metrics.png"
