#!/usr/bin/env bash
# On the GPU machine: builds the runtime and runs bench/bench_decode.py over
# gpu-artifacts/<target> (made here by scripts/gpu-artifacts.sh).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${1:-sm_90a}; shift || true
source "$ROOT/scripts/gpu-runtime.sh"
PYTHONUNBUFFERED=1 python3 "$ROOT/bench/bench_decode.py" --artifacts "$ROOT/gpu-artifacts/$TARGET" \
  --runtime "$BUILD/lib/libattn_runtime.so" "$@"
