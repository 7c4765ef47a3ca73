#!/usr/bin/env bash
# Compiles every bundled example, in bf16 (as written), f32 and f16, to fused
# kernels for one target: gpu-artifacts/<target>/<example>-<dtype>/.
# Usage: scripts/gpu-artifacts.sh [target] (default sm_90a)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OPT=${ATTN_BUILD_DIR:-$ROOT/build}/bin/attn-opt
TARGET=${1:-sm_90a}
OUT=$ROOT/gpu-artifacts/$TARGET
rm -rf "$OUT"; mkdir -p "$OUT"
for f in "$ROOT"/examples/*.mlir; do
  name=$(basename "$f" .mlir)
  "$OPT" "$f" --attn-compile="target=$TARGET output=$OUT/$name-bf16 formats=bin" -o /dev/null
  for dtype in f32 f16; do
    sed "s/bf16/$dtype/g" "$f" | "$OPT" --attn-compile="target=$TARGET output=$OUT/$name-$dtype formats=bin" -o /dev/null
  done
done
# Benchmark-only shapes (bf16): bench/variants/.
for f in "$ROOT"/bench/variants/*.mlir; do
  name=$(basename "$f" .mlir)
  "$OPT" "$f" --attn-compile="target=$TARGET output=$OUT/$name-bf16 formats=bin" -o /dev/null
done
echo "artifacts in $OUT"
