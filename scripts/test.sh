#!/usr/bin/env bash
# Sets up, builds and runs every test: the lit suite and the Python tests.
# Prints one summary line "N passed, M failed" and exits non-zero on failure.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${ATTN_BUILD_DIR:-$ROOT/build}
"$ROOT/scripts/setup.sh" || exit 1
"$ROOT/scripts/build.sh" || exit 1
"$ROOT/scripts/build.sh" --target mlir-doc >/dev/null || exit 1

passed=0; failed=0
log=$(mktemp)
/usr/lib/llvm-22/bin/lit -sv "$BUILD/test" 2>&1 | tee "$log"
p=$(sed -n 's/^ *Passed *: *\([0-9]*\).*/\1/p' "$log" | tail -1)
f=$(sed -n 's/^ *Failed *: *\([0-9]*\).*/\1/p' "$log" | tail -1)
passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
[ -z "$p" ] && failed=$((failed + 1))   # lit did not run at all

# The float64 reference's own tests, then compiled code against it on CPU.
if [ -d "$ROOT/reference" ]; then
  (cd "$ROOT" && ATTN_BUILD_DIR="$BUILD" python3 -m pytest -q -p no:cacheprovider \
      reference test/Integration) 2>&1 | tee "$log"
  p=$(grep -Eo '[0-9]+ passed' "$log" | tail -1 | cut -d' ' -f1)
  f=$(grep -Eo '[0-9]+ (failed|error)' "$log" | awk '{s+=$1} END {print s+0}')
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
  [ -z "$p" ] && [ "${f:-0}" = 0 ] && failed=$((failed + 1))
fi
# The Python package, installed from source against this build, and its
# tests (GPU tests skip without a GPU).
if python3 -m pip install -q --disable-pip-version-check --no-build-isolation \
     "$ROOT/python" > "$log" 2>&1; then
  (cd "$ROOT" && python3 -m pytest -q -p no:cacheprovider python/tests) 2>&1 | tee "$log"
  p=$(grep -Eo '[0-9]+ passed' "$log" | tail -1 | cut -d' ' -f1)
  f=$(grep -Eo '[0-9]+ (failed|error)' "$log" | awk '{s+=$1} END {print s+0}')
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
  [ -z "$p" ] && [ "${f:-0}" = 0 ] && failed=$((failed + 1))
else
  cat "$log"; echo "pip install ./python failed"; failed=$((failed + 1))
fi
rm -f "$log"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
