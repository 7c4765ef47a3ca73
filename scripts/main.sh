#!/usr/bin/env bash
# Sets up, builds, compiles every bundled example variant to fused GPU kernels
# (PTX + cubin for sm_90a, assembly + HSACO for gfx942) into out/, and prints
# the report: cache size and decode intensity per attention op, then the
# kernels written for each example with their schedule.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${ATTN_BUILD_DIR:-$ROOT/build}
OUTDIR=${ATTN_OUT:-$ROOT/out}
"$ROOT/scripts/setup.sh" >/dev/null
"$ROOT/scripts/build.sh" >/dev/null
OPT="$BUILD/bin/attn-opt"
COMPILE="$BUILD/bin/attn-compile" # the library API's command line

first=1
for f in "$ROOT"/examples/*.mlir; do
  report=$("$OPT" "$f" --attn-report -o /dev/null)
  if [ $first = 1 ]; then echo "$report"; first=0; else echo "$report" | tail -n +2; fi
done
echo
for f in "$ROOT"/examples/*.mlir; do
  name=$(basename "$f" .mlir)
  for target in sm_90a gfx942; do
    "$COMPILE" "$f" --target="$target" -o "$OUTDIR/$target/$name" --quiet >/dev/null
  done
done
python3 - "$OUTDIR" <<'PY'
import json, os, sys
out = sys.argv[1]
print(f"{'kernel module':26} {'target':7} {'schedule':>9} {'rows/blk':>8} {'tile':>5} {'smem B':>7}  files")
for target in ("sm_90a", "gfx942"):
    for ex in sorted(os.listdir(os.path.join(out, target))):
        m = json.load(open(os.path.join(out, target, ex, "manifest.json")))
        for mod in m["modules"]:
            k = mod["kernels"][0]
            sched = (f"{mod.get('schedule', '-'):>9} {mod.get('rows_per_block', '-'):>8} {mod.get('tile_rows', '-'):>5}"
                     if mod["op"] == "attention" else f"{'update':>9} {'-':>8} {'-':>5}")
            print(f"{mod['module']:26} {target:7} {sched} {k['shared_bytes']:>7}  "
                  + ", ".join(sorted(mod["files"].values())))
print(f"\nartifacts written to {out}/<target>/<example>/ (manifest.json describes every kernel)")
PY
