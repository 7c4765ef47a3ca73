#!/usr/bin/env bash
# Compiles every bundled example, in bf16 (as written) and in f32, to fused
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
  sed 's/bf16/f32/g' "$f" | "$OPT" --attn-compile="target=$TARGET output=$OUT/$name-f32 formats=bin" -o /dev/null
done
echo "artifacts in $OUT"
