#!/usr/bin/env bash
# On the GPU machine: Nsight Compute profile of our forward kernel ("fwd")
# at benchmark shapes, e.g. scripts/gpu-profile.sh mla:16:4096,mqa:16:8192;
# KERNEL=combine (or combine_rows, combine_wide) profiles that kernel
# instead. One profiled launch per shape (after warm-up); speed of light,
# warp stalls, occupancy, pipe and memory utilisation.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHAPES=${1:?variant:B:L[,...]}
TARGET=${2:-sm_90a}
source "$ROOT/scripts/gpu-runtime.sh"
IFS=, read -ra list <<<"$SHAPES"
for s in "${list[@]}"; do
  echo "=== $s"
  ncu --clock-control none -k "${KERNEL:-fwd}" --launch-skip 3 --launch-count 1 \
    --section SpeedOfLight --section WarpStateStats --section Occupancy \
    --section ComputeWorkloadAnalysis --section MemoryWorkloadAnalysis \
    --section LaunchStats \
    --metrics smsp__average_warps_issue_stalled_barrier_per_issue_active.ratio,smsp__average_warps_issue_stalled_long_scoreboard_per_issue_active.ratio,smsp__average_warps_issue_stalled_short_scoreboard_per_issue_active.ratio,smsp__average_warps_issue_stalled_mio_throttle_per_issue_active.ratio,smsp__average_warps_issue_stalled_math_pipe_throttle_per_issue_active.ratio,smsp__average_warps_issue_stalled_wait_per_issue_active.ratio,smsp__average_warps_issue_stalled_lg_throttle_per_issue_active.ratio,smsp__average_warps_issue_stalled_not_selected_per_issue_active.ratio,smsp__average_warps_issue_stalled_selected_per_issue_active.ratio,smsp__average_warps_issue_stalled_dispatch_stall_per_issue_active.ratio,smsp__average_warps_issue_stalled_no_instruction_per_issue_active.ratio,smsp__average_warps_issue_stalled_tex_throttle_per_issue_active.ratio,smsp__average_warps_issue_stalled_membar_per_issue_active.ratio,sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active,l1tex__data_pipe_lsu_wavefronts_mem_shared.sum,l1tex__data_bank_conflicts_pipe_lsu_mem_shared.sum \
    python3 "$ROOT/bench/bench_decode.py" --artifacts "$ROOT/gpu-artifacts/$TARGET" \
      --runtime "$BUILD/lib/libattn_runtime.so" --shapes "$s" --json /dev/null 2>&1 |
    grep -vE "^==PROF==|^ +-+ +-+|^$" | grep -E "Duration|Throughput|Pipe|Stall|Warp Cycles|Occupancy|Registers|Shared Memory|Block Limit|Issue|Executed Ipc|Grid Size|L1/TEX Hit|L2 Hit|Mem Busy|Max Bandwidth|attn|variant|stalled|hmma|wavefronts|bank_conflicts" || true
done
