#!/usr/bin/env bash
# Configures (once) and builds attn into ${ATTN_BUILD_DIR:-build}.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${ATTN_BUILD_DIR:-$ROOT/build}
if [ ! -f "$BUILD/build.ninja" ]; then
  cmake -G Ninja -S "$ROOT" -B "$BUILD" \
    -DCMAKE_BUILD_TYPE=${ATTN_BUILD_TYPE:-Release} \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DLLVM_USE_LINKER=lld
fi
cmake --build "$BUILD" "$@"
# A full build also installs into build/install: the library, headers and
# CMake package that the Python package (python/) builds against.
if [ $# = 0 ]; then
  cmake --install "$BUILD" --prefix "$BUILD/install" >/dev/null
fi
