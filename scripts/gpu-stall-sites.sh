#!/usr/bin/env bash
# On the GPU machine: where the warps of our forward kernel ("fwd") wait, by
# SASS instruction. Nsight Compute samples warp states per program counter
# (SourceCounters); this prints the TOP instructions by stall samples with
# their SASS, address and share, and the sampled stall reasons of each
# where the report has them. scripts/gpu-stall-sites.sh mla:64:4096 [TOP]
# [ARTIFACTS] (default gpu-artifacts/sm_90a); STALL_DUMP=FILE also writes
# every instruction (address, samples, SASS) there; SPLITS=S runs the shape
# at S splits (few blocks at a small batch: a compute-bound loop).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHAPE=${1:?variant:B:L}
TOP=${2:-40}
ARTIFACTS=${3:-$ROOT/gpu-artifacts/sm_90a}
source "$ROOT/scripts/gpu-runtime.sh"
REP=$(mktemp -d)/stalls
ncu --clock-control none -k "${KERNEL:-fwd}" --launch-skip 3 --launch-count 1 \
  --section SourceCounters --section WarpStateStats -o "$REP" \
  python3 "$ROOT/bench/bench_decode.py" --artifacts "$ARTIFACTS" \
  --runtime "$BUILD/lib/libattn_runtime.so" --shapes "$SHAPE" \
  ${SPLITS:+--splits $SPLITS} --json /dev/null >/dev/null 2>&1
ncu -i "$REP.ncu-rep" --page source --csv --print-source sass >"$REP.csv"
python3 - "$REP.csv" "$TOP" "${STALL_DUMP:-}" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
head = next(i for i, r in enumerate(rows) if any("Source" == c for c in r))
cols, body = rows[head], rows[head + 1:]
src = cols.index("Source")
def col(name):
    return next((i for i, c in enumerate(cols) if c.startswith(name)), None)
allS = col("Warp Stall Sampling (All")
addr = col("Address") if col("Address") is not None else col("#")
num = lambda s: float(s.replace(",", "") or 0)
body = [r for r in body if len(r) == len(cols)]
total = sum(num(r[allS]) for r in body) or 1
reasons = [i for i, c in enumerate(cols) if c.startswith("stall_") or "Stall" in c and i != allS]
if sys.argv[3]:  # every instruction: address, samples, SASS
    with open(sys.argv[3], "w") as f:
        for r in body:
            f.write(f"{r[addr] if addr is not None else ''}\t{num(r[allS]):.0f}\t{r[src].strip()}\n")
print("columns:", "; ".join(cols))
print(f"total stall samples {total:.0f} over {len(body)} instructions")
for r in sorted(body, key=lambda r: -num(r[allS]))[:int(sys.argv[2])]:
    why = sorted(((num(r[i]), cols[i]) for i in reasons if num(r[i]) > 0), reverse=True)[:3]
    print(f"{100 * num(r[allS]) / total:5.1f}%  {r[addr] if addr is not None else '':>8}  {r[src].strip()[:70]:70}  "
          + ", ".join(f"{n}={v:.0f}" for v, n in why))
PY
