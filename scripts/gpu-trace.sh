#!/usr/bin/env bash
# On the GPU machine: where a decode step's time goes, block by block, e.g.
#   scripts/gpu-trace.sh trace mla16:16:8192,mqa:1:32768
# over gpu-artifacts/<label>, compiled here with
#   EXTRA=trace-blocks LABEL=trace scripts/gpu-artifacts.sh sm_90a
# (bench/trace_blocks.py says what it prints).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LABEL=${1:?label}; SHAPES=${2:?variant:B:L[,...]}
source "$ROOT/scripts/gpu-runtime.sh"
python3 "$ROOT/bench/trace_blocks.py" --artifacts "$ROOT/gpu-artifacts/$LABEL" \
  --runtime "$BUILD/lib/libattn_runtime.so" --shapes "$SHAPES"
