#!/usr/bin/env bash
# On a GPU machine (no MLIR needed): builds the runtime and attn-run, then runs
# every artifact in gpu-artifacts/<target>/ at odd sizes and checks every
# element against attn-run's float64 reference. Prints one line per run.
# Usage: [DTYPES=bf16|f32|f16] [JOBS=n] scripts/gpu-check.sh [target]
# (default sm_90a). JOBS > 1 checks that many artifact directories side by
# side (the float64 reference runs on the CPU), printing each one's lines
# in order once all are done.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${1:-sm_90a}
source "$ROOT/scripts/gpu-runtime.sh" || { echo "runtime build failed"; exit 1; }
RUN="$BUILD/bin/attn-run"
dirs=("$ROOT"/gpu-artifacts/$TARGET/*-${DTYPES:-*}/)
if [ "${JOBS:-1}" -gt 1 ] && [ -z "${GPU_CHECK_DIR:-}" ]; then
  logs=$(mktemp -d)
  for i in "${!dirs[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do sleep 0.2; done
    GPU_CHECK_DIR=${dirs[$i]} "$0" "$TARGET" > "$logs/$i.log" 2>&1 &
  done
  wait
  passed=0; failed=0; total=0
  for i in "${!dirs[@]}"; do
    grep -v '^gpu-check:' "$logs/$i.log"
    read -r p f t < <(sed -n 's/^gpu-check: \([0-9]*\) passed, \([0-9]*\) failed of \([0-9]*\)$/\1 \2 \3/p' "$logs/$i.log")
    [ -n "${t:-}" ] || { echo "${dirs[$i]}: no summary (killed?)"; p=0; f=1; t=1; }
    passed=$((passed+p)); failed=$((failed+f)); total=$((total+t))
  done
  rm -rf "$logs"
  echo "gpu-check: $passed passed, $failed failed of $total"
  [ $failed = 0 ]; exit
fi
[ -n "${GPU_CHECK_DIR:-}" ] && dirs=("$GPU_CHECK_DIR")
fail=0; total=0
# One attn-run on $dir, counted.
check() { total=$((total+1)); "$RUN" "$dir" "$@" || fail=$((fail+1)); }
# The decode modules of $dir whose manifest entry m satisfies the Python
# expression $1.
decode_modules() {
  python3 -c "import json,sys; [print(m['module']) for m in json.load(open(sys.argv[1]))['modules'] if 'decode' in m['module'] and ($1)]" "$dir/manifest.json"
}
for dir in "${dirs[@]}"; do
  case "$(basename "$dir")" in
    mla-*|gla-*|mfa-*|mfa_kr-*) big=1 ;; *) big=0 ;;
  esac
  # Decode: one token over caches of odd lengths, one and several sequences,
  # mixed lengths; L = 1 and L not a multiple of the tile; more splits than
  # two per lane of a warp (S = 100).
  for args in "--batch 1 --tokens 1 --cache 1" "--batch 3 --tokens 1 --cache 77 --mixed-lengths" \
              "--batch 2 --tokens 1 --cache 1000 --mixed-lengths" "--batch 1 --tokens 2 --cache 300" \
              "--batch 1 --tokens 1 --cache 3000 --splits 100"; do
    for fn in $(grep -o '"module": "[a-z0-9_]*decode_attn[0-9]*"' "$dir/manifest.json" | cut -d'"' -f4); do
      check --module "$fn" $args --iters 3
    done
  done
  # The combine over several batch rows, forced where a decode module has
  # one: a partial block of rows; two blocks with two tokens; mixed lengths.
  # Two or three splits: with one, a direct_output forward kernel stores
  # the result itself and no combine runs. Five splits over a second block
  # of 64 rows; twelve, past the splits merged all at once. Where the module
  # has project_rows (normalised_rows), it takes the place of combine_rows up
  # to 8 splits: 2, 3 and 5 merged from normalised rows, and one split (a
  # second block of rows; two tokens) taken as they are.
  for fn in $(decode_modules "m.get('combine_rows', 0) > 1"); do
    for args in "--batch 3 --tokens 1 --cache 77 --mixed-lengths --splits 2" "--batch 11 --tokens 2 --cache 300 --mixed-lengths --splits 3" \
                "--batch 67 --tokens 1 --cache 50 --mixed-lengths --splits 5" "--batch 5 --tokens 1 --cache 900 --splits 12" \
                "--batch 67 --tokens 1 --cache 300 --mixed-lengths --splits 1" "--batch 5 --tokens 2 --cache 77 --splits 1"; do
      check --module "$fn" $args --combine rows --iters 2
    done
  done
  # The one-row combine on the plan's threads and on more (combine_wide),
  # forced where a decode module has both: auto takes the wide one at these
  # few blocks. S = 100 and 37: groups of threads in use and a last one short.
  # One split: partial outputs in f32 (no normalised rows: no combine_rows).
  for fn in $(decode_modules "any(k['name'] == 'combine_wide' for k in m['kernels'])"); do
    for args in "--batch 3 --tokens 1 --cache 77 --mixed-lengths --combine row" \
                "--batch 4 --tokens 1 --cache 300 --mixed-lengths --splits 1 --combine row" \
                "--batch 1 --tokens 1 --cache 3000 --splits 100 --combine row" \
                "--batch 2 --tokens 2 --cache 5000 --splits 37 --combine wide"; do
      check --module "$fn" $args --iters 2
    done
  done
  # The one-row combine in column slices (combine_slices), forced beyond the
  # one-wave shapes auto gives it: many rows' arrival counters over several
  # waves of blocks, two tokens, one split and 100; three launches each, so
  # a counter left short of zero would show.
  for fn in $(decode_modules "any(k['name'] == 'combine_slices' for k in m['kernels'])"); do
    for args in "--batch 7 --tokens 2 --cache 2000 --mixed-lengths --splits 20" \
                "--batch 3 --tokens 1 --cache 300 --splits 1" \
                "--batch 2 --tokens 1 --cache 5000 --mixed-lengths --splits 100"; do
      check --module "$fn" $args --combine slices --iters 3
    done
  done
  # project_slices (16 batch rows and one latent slice of a head a block),
  # forced beyond the batches auto gives it: a partial block of rows, several
  # blocks and two tokens, mixed lengths; one split (normalised rows copied
  # in) and 2, 3, 5 and 8 merged; three launches each.
  for fn in $(decode_modules "m.get('project_slices', 0) > 0"); do
    for args in "--batch 3 --tokens 1 --cache 77 --mixed-lengths --splits 2" \
                "--batch 37 --tokens 2 --cache 300 --mixed-lengths --splits 3" \
                "--batch 16 --tokens 1 --cache 2000 --splits 8" \
                "--batch 20 --tokens 1 --cache 900 --mixed-lengths --splits 5" \
                "--batch 33 --tokens 1 --cache 300 --splits 1" \
                "--batch 70 --tokens 1 --cache 200 --mixed-lengths --splits 2"; do
      check --module "$fn" $args --combine latent-slices --iters 3
    done
  done
  # The splits merged by the forward kernel itself (grid_merge), forced (2
  # and 3 splits merged all at once, 12 in two rounds of loads); and the
  # combine kernel where auto would take that merge.
  for fn in $(decode_modules "m.get('grid_merge')"); do
    for args in "--batch 1 --tokens 1 --cache 3000 --splits 2 --combine grid" \
                "--batch 1 --tokens 2 --cache 777 --splits 3 --combine grid" \
                "--batch 1 --tokens 1 --cache 3000 --mixed-lengths --splits 12 --combine grid" \
                "--batch 2 --tokens 1 --cache 5000 --mixed-lengths --splits 2 --combine row"; do
      check --module "$fn" $args --iters 2
    done
  done
  # Prefill: causal over the prompt itself, and a chunk at the end of a cache.
  if [ $big = 1 ]; then sizes="1 37"; else sizes="1 37 130"; fi
  for fn in $(grep -o '"module": "[a-z0-9_]*prefill_attn[0-9]*"' "$dir/manifest.json" | cut -d'"' -f4); do
    for t in $sizes; do
      check --module "$fn" --batch 2 --tokens $t --cache $t --iters 2
    done
    if ! grep -q stride_aware "$dir/manifest.json"; then
      check --module "$fn" --batch 1 --tokens 5 --cache 61 --iters 2
    fi
  done
  # Cache updates, in place: a decode step, a prompt, mid-slot starts.
  for mod in $(grep -o '"module": "[a-z0-9_]*update[0-9]*"' "$dir/manifest.json" | cut -d'"' -f4); do
    for args in "--batch 2 --tokens 1 --cache 64 --mixed-lengths" "--batch 1 --tokens 7 --cache 40" \
                "--batch 3 --tokens 13 --cache 100 --mixed-lengths"; do
      check --module "$mod" $args
    done
  done
done
echo "gpu-check: $((total-fail)) passed, $fail failed of $total"
[ $fail = 0 ]
