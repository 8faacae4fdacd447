#!/usr/bin/env bash
# What an embeddings request costs against a chat request on the same silo (Simulated provider, unique texts, so every
# input misses the cache and goes through the per-input lookup, the shared flight and the store): one input per
# request, and sixteen.
#
#   bench/embeddings.sh [conns (default 16)] [seconds per round (default 10)] [rounds (default 2)]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BENCH_VARIANTS="chat:chat:true:1 embeddings-1:embeddings:true:1 embeddings-16:embeddings:true:16" exec "$HERE/responses.sh" "$@"
