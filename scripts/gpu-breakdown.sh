#!/usr/bin/env bash
# On the GPU machine: time each of our kernels (forward, combine) on its own
# with Nsight Compute at benchmark shapes, e.g.
#   scripts/gpu-breakdown.sh sm_90a mqa:16:8192,mla16:16:8192
# One line per kernel launch: duration, DRAM and L2 throughput, grid, registers,
# and how evenly the SMs were busy.
# Caches are not flushed between kernels (--cache-control none), as in the bench.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${1:?label}; SHAPES=${2:?variant:B:L[,...]}
source "$ROOT/scripts/gpu-runtime.sh"
IFS=, read -ra list <<<"$SHAPES"
for s in "${list[@]}"; do
  echo "=== $s"
  ncu --cache-control none --clock-control none -k regex:"^(fwd|combine)" \
    --launch-skip 8 --launch-count 4 --csv --page raw \
    --metrics "$(python3 "$ROOT/bench/ncu_kernels.py" --metrics)" \
    python3 "$ROOT/bench/bench_decode.py" --artifacts "$ROOT/gpu-artifacts/$TARGET" \
      --runtime "$BUILD/lib/libattn_runtime.so" --shapes "$s" --json /dev/null --eager 2>/dev/null |
    python3 "$ROOT/bench/ncu_kernels.py"
done
