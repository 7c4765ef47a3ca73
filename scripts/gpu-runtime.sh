# Sourced by the scripts that run on the GPU machine (no MLIR there): builds
# the runtime and attn-run from lib/Runtime into $BUILD (ATTN_RT_BUILD,
# default /tmp/attn-rt). Needs ROOT.
BUILD=${ATTN_RT_BUILD:-/tmp/attn-rt}
# One build at a time: checks may run side by side (gpu-check.sh JOBS).
mkdir -p "$BUILD" &&
  flock "$BUILD/.lock" sh -c 'cmake -S "$1/lib/Runtime" -B "$2" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null &&
    cmake --build "$2" >/dev/null' sh "$ROOT" "$BUILD"
