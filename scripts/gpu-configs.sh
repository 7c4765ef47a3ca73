#!/usr/bin/env bash
# Schedule experiments: compiles one example (or bench variant) under fixed
# schedule knobs, here, into gpu-artifacts/<label>/<variant>-bf16, for
# scripts/gpu-bench.sh <label> --only <variant> on the GPU machine.
# Usage: scripts/gpu-configs.sh label:variant[:knob=value,...] ...
#   e.g. scripts/gpu-configs.sh vw2:mqa:mma-value-warps=2 shared:gla:mma-shared-softmax=true
#        nowg:mla:no-wgmma=true (mma.sync instead of wgmma on sm_90a)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OPT=${ATTN_BUILD_DIR:-$ROOT/build}/bin/attn-opt
TARGET=${TARGET:-sm_90a}
for spec in "$@"; do
  IFS=: read -r label variant knobs <<<"$spec"
  src=$ROOT/examples/$variant.mlir
  [ -f "$src" ] || src=$ROOT/bench/variants/$variant.mlir
  out=$ROOT/gpu-artifacts/$label/$variant-bf16
  rm -rf "$out"; mkdir -p "$out"
  "$OPT" "$src" --attn-compile="target=$TARGET output=$out formats=bin ${knobs//,/ }" -o /dev/null
  echo "$label/$variant: $(grep -o '"softmax": "[a-z-]*"' "$out/manifest.json" | sort | uniq -c | tr '\n' ' ')"
done
