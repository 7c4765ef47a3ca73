#!/usr/bin/env bash
# Compiles every bundled example, in bf16 (as written), f32 and f16, to fused
# kernels for one target: gpu-artifacts/<target>/<example>-<dtype>/.
# Usage: [LABEL=dir] [EXTRA="attn-compile options"] scripts/gpu-artifacts.sh
# [target] (default sm_90a): EXTRA builds a variant for comparisons or
# studies (e.g. EXTRA=no-narrow LABEL=base, EXTRA=trace-blocks LABEL=trace)
# into gpu-artifacts/$LABEL (default: the target's name).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OPT=${ATTN_BUILD_DIR:-$ROOT/build}/bin/attn-opt
TARGET=${1:-sm_90a}
OUT=$ROOT/gpu-artifacts/${LABEL:-$TARGET}
OPTS="target=$TARGET formats=bin${EXTRA:+ $EXTRA}"
rm -rf "$OUT"; mkdir -p "$OUT"
for f in "$ROOT"/examples/*.mlir; do
  name=$(basename "$f" .mlir)
  "$OPT" "$f" --attn-compile="$OPTS output=$OUT/$name-bf16" -o /dev/null
  for dtype in f32 f16; do
    sed "s/bf16/$dtype/g" "$f" | "$OPT" --attn-compile="$OPTS output=$OUT/$name-$dtype" -o /dev/null
  done
done
# Benchmark-only shapes (bf16): bench/variants/.
for f in "$ROOT"/bench/variants/*.mlir; do
  name=$(basename "$f" .mlir)
  "$OPT" "$f" --attn-compile="$OPTS output=$OUT/$name-bf16" -o /dev/null
done
echo "artifacts in $OUT"
