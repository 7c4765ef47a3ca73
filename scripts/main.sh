#!/usr/bin/env bash
# Sets up, builds, then compiles every bundled example variant as far as the
# compiler goes (today: parse, verify, analyse) and prints the report.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${ATTN_BUILD_DIR:-$ROOT/build}
"$ROOT/scripts/setup.sh" >/dev/null
"$ROOT/scripts/build.sh" >/dev/null
OPT="$BUILD/bin/attn-opt"
first=1
for f in "$ROOT"/examples/*.mlir; do
  report=$("$OPT" "$f" --attn-report -o /dev/null)
  if [ $first = 1 ]; then echo "$report"; first=0; else echo "$report" | tail -n +2; fi
done
