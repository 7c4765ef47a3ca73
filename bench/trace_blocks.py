"""Where a decode step's time goes, block by block (a timing study).

Runs artifacts compiled with attn-compile's `trace-blocks` (each block of the
wgmma forward kernels and of the combines records its SM and %globaltimer
stamps in a global of its module, attn_trace_<kernel>, which the runtime
prints and clears after each step) at the given shapes, as the bench runs
them (rotating caches past L2, launches back to back), and tabulates the last
launch: per phase of the forward kernel and of the combine after it
(KERNEL_PHASES; the CUDA-core combines stamp entry and exit only), the min /
median / max over blocks, in microseconds.

  python3 bench/trace_blocks.py --runtime libattn_runtime.so \
      --artifacts gpu-artifacts/trace --shapes mla16:16:8192,mqa:1:32768

The kernels of a step run back to back as in the bench (the runtime reads
the records once the step has ended), so the gap from the forward's last
block to the combine's is measured; the steps are not back to back (each
waits for the last one's records to be read). Before session 20 the blocks
printed their lines with printf, and a kernel that calls a function has
every wgmma serialised by ptxas (C7510): the traced loops of the wgmma
kernels then read far longer than the bench's (MLA-16 B=16's narrow tile
3.3 us of compute against 1.7 without the call; docs/performance.md, step
126).
"""
import argparse
import ctypes
import os
import statistics
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(__file__))
import bench_decode as bd  # noqa: E402
from attn.runtime import Artifact  # noqa: E402

# Stamps a forward line carries, by count: the narrow kernel's twelve (seven
# times, then its loop's sums over tiles and the tiles), the 64-row warpgroup
# kernel's five (no per-tile stamps).
FWD_PHASES = {
    12: [("prologue", 0, 1), ("first tile wait", 1, 2), ("tiles 2..n", 2, 3),
         ("last tile compute", 3, 4), ("stores", 4, 5), ("grid merge", 5, 6)],
    5: [("prologue", 0, 1), ("loop", 1, 2), ("stores", 2, 3), ("grid merge", 3, 4)],
}
# The narrow loop's per-tile phases: index of the sum among the stamps, and
# whether the first tile is left out (its wait is "first tile wait").
TILE_PHASES = [("a tile's wait", 7, True), ("scores", 8, False),
               ("softmax, P^T stored", 9, False), ("value product", 10, False)]
# The phases of a second kernel's blocks, by its name (consecutive stamps);
# one not named here has two stamps, entry and exit.
KERNEL_PHASES = {
    "project_slices": ["wait for the forward", "merge", "product, cluster barrier",
                       "slice sums stored", "last cluster barrier"],
    "project_rows": ["matrix copies issued", "wait for the forward", "merge",
                     "matrix staged", "product, stores"],
    "combine_rows": ["matrix copies issued", "wait for the forward", "merge",
                     "matrix staged", "product, stores"],
}


def run_traced(mod, B, L, launches):
    """The printed lines of `launches` back-to-back launches (after warm-up)."""
    _, ours, _, _ = bd.decode_inputs(mod, B, L)
    # The runtime prints the records to the C library's stdout after each
    # step: send file descriptor 1 to a file for the warm-up and the traced
    # launches, and read back what the traced ones printed.
    libc = ctypes.CDLL(None)
    with tempfile.TemporaryFile() as f:
        sys.stdout.flush()
        saved = os.dup(1)
        os.dup2(f.fileno(), 1)
        try:
            for i in range(4):
                ours(i)
            torch.cuda.synchronize()
            libc.fflush(None)
            start = os.lseek(1, 0, os.SEEK_CUR)
            for i in range(launches):
                ours(i)
            torch.cuda.synchronize()
            libc.fflush(None)
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        f.seek(start)
        return [line.decode().split() for line in f if line.strip()]


def summary(name, xs):
    xs = sorted(xs)
    return (f"  {name:20} {xs[0]:7.2f} {statistics.median(xs):7.2f} {xs[-1]:7.2f}")


def report(lines, launches):
    fwd = [list(map(int, r[1:])) for r in lines if r[0] == "fwd"]
    comb = {}
    for r in lines:
        if r[0].startswith("combine") or r[0] in KERNEL_PHASES:
            comb.setdefault(r[0], []).append(list(map(int, r[1:])))
    if not fwd or len(fwd) % launches:
        print(f"  {len(fwd)} forward lines for {launches} launches: a trace-blocks build traces "
              "the wgmma forward kernels only (this variant's may be another)")
        return
    last = fwd[-len(fwd) // launches:]  # the last launch's blocks
    us = 1e-3
    t0 = min(r[4] for r in last)
    stamps = len(last[0]) - 4
    if stamps not in FWD_PHASES:
        print(f"  forward lines of {stamps} stamps: not this tool's build")
        return
    exit_at = 4 + FWD_PHASES[stamps][-1][2]  # the grid merge ends at the exit
    print(f"  forward: {len(last)} blocks on {len(set(r[3] for r in last))} SMs, "
          f"first entry to last exit {(max(r[exit_at] for r in last) - t0) * us:.2f} us")
    print(f"  {'(us, over blocks)':20} {'min':>7} {'median':>7} {'max':>7}")
    print(summary("entry after first", [(r[4] - t0) * us for r in last]))
    for name, a, b in FWD_PHASES[stamps]:
        print(summary(name, [(r[4 + b] - r[4 + a]) * us for r in last]))
    if stamps == 12:
        print(f"  per tile (mean over the block's {last[0][-1]} tiles):")
        for name, at, skip_first in TILE_PHASES:
            print(summary(name, [r[4 + at] * us / max(1, r[-1] - skip_first) for r in last]))
    print(summary("exit after first", [(r[exit_at] - t0) * us for r in last]))
    # When each block reaches each stamp, from the first entry: how far
    # apart the blocks' tiles land and their loops end (the tail's spread).
    for name, _, b in FWD_PHASES[stamps]:
        print(summary(f"end {name}"[:20], [(r[4 + b] - t0) * us for r in last]))
    fwd_end = max(r[exit_at] for r in last)
    for kname, rows in comb.items():
        rows = rows[-len(rows) // launches:]
        c0 = min(r[4] for r in rows)
        print(f"  {kname}: {len(rows)} blocks, first entry to last exit "
              f"{(max(r[-1] for r in rows) - c0) * us:.2f} us, last exit "
              f"{(max(r[-1] for r in rows) - fwd_end) * us:.2f} us after the forward's")
        print(summary("entry after first", [(r[4] - c0) * us for r in rows]))
        # (The CUDA-core combine_rows stamps entry and exit only.)
        phases = KERNEL_PHASES.get(kname, [])
        if len(rows[0]) - 4 != len(phases) + 1:
            phases = ["block"]
        for i, name in enumerate(phases):
            print(summary(name, [(r[5 + i] - r[4 + i]) * us for r in rows]))
        if "wait for the forward" in phases:  # launched early: when it let go
            at = 5 + phases.index("wait for the forward")
            print(summary("past the wait - fwd end", [(r[at] - fwd_end) * us for r in rows]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--artifacts", required=True, help="a trace-blocks build")
    ap.add_argument("--runtime", required=True)
    ap.add_argument("--shapes", required=True, help="comma-separated variant:B:L")
    ap.add_argument("--launches", type=int, default=4)
    args = ap.parse_args()
    torch.zeros(1, device="cuda")
    for s in args.shapes.split(","):
        name, B, L = s.split(":")
        art = Artifact(os.path.join(args.artifacts, f"{name}-bf16"), args.runtime)
        mod = art.module(f"{name}_decode_attn0")
        print(f"{name} B={B} L={L} ({mod.info['schedule']})")
        report(run_traced(mod, int(B), int(L), args.launches), args.launches)


if __name__ == "__main__":
    main()
