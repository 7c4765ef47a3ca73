# Sourced by the scripts that run on the GPU machine (no MLIR there): builds
# the runtime and attn-run from lib/Runtime into $BUILD (ATTN_RT_BUILD,
# default /tmp/attn-rt). Needs ROOT.
BUILD=${ATTN_RT_BUILD:-/tmp/attn-rt}
cmake -S "$ROOT/lib/Runtime" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null &&
  cmake --build "$BUILD" >/dev/null
