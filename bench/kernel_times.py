"""Each kernel of our decode steps on its own: device time of the forward
and of the combine that follows it, the gap between them, and the span of
the step, from the CUDA profiler's kernel records (torch.profiler, CUPTI)
of CUDA-graph replays of back-to-back steps, as bench_decode.py times
them. Answers what the step time alone cannot: how much of it the combine
and its launch take, and what the forward alone reads per second (the rate
that attention kernels without a value epilogue, FlashMLA's, report).

Run on the GPU machine (PyTorch there), after scripts/gpu-artifacts.sh here:
    python3 bench/kernel_times.py --artifacts gpu-artifacts/sm_90a \\
        --runtime /tmp/attn-rt/lib/libattn_runtime.so --shapes mla:64:4096,mqa:1:32768
Prints one row per shape (medians over the profiled steps, microseconds)
and writes --json if given.
"""
import argparse
import json
import os
import statistics
import sys

import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_decode as bd  # noqa: E402


def kernel_records(prof):
    """(name, start us, end us) of every kernel the profiler saw, by start."""
    out = []
    for e in prof.events():
        if e.device_type != torch.autograd.DeviceType.CUDA:
            continue
        name = e.name
        if name.startswith("Memcpy") or name.startswith("Memset"):
            continue
        out.append((name, e.time_range.start, e.time_range.end))
    return sorted(out, key=lambda r: r[1])


def steps_of(records, first):
    """The records cut into steps, each starting at a kernel named `first`."""
    steps = []
    for r in records:
        if r[0] == first or not steps:
            steps.append([])
        steps[-1].append(r)
    return [s for s in steps if s and s[0][0] == first]


def measure(art, name, B, L, iters):
    mod = art.module(f"{name}_decode_attn0")
    _, ours, cache_bytes, copies = bd.decode_inputs(mod, B, L)
    replay = bd.graphed(ours, copies)
    step_us = bd.timed(replay)
    for i in range(copies):  # warm
        replay(i)
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for i in range(iters):
            replay(i)
        torch.cuda.synchronize()
    steps = steps_of(kernel_records(prof), "fwd")
    if not steps:
        raise RuntimeError("the profiler recorded no kernel named fwd")
    shape = [r[0] for r in steps[len(steps) // 2]]
    steps = [s for s in steps if [r[0] for r in s] == shape]
    med = lambda xs: statistics.median(xs)  # noqa: E731
    row = {"variant": name, "B": B, "L": L, "cache_MB": cache_bytes / 1e6,
           "step_us": step_us, "steps": len(steps), "kernels": shape,
           "kernel_us": [med([s[k][2] - s[k][1] for s in steps]) for k in range(len(shape))],
           "gap_us": [med([s[k + 1][1] - s[k][2] for s in steps]) for k in range(len(shape) - 1)],
           "span_us": med([s[-1][2] - s[0][1] for s in steps])}
    row["fwd_GBs"] = cache_bytes / (row["kernel_us"][0] * 1e-6) / 1e9
    row["step_GBs"] = cache_bytes / (step_us * 1e-6) / 1e9
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--artifacts", required=True)
    ap.add_argument("--runtime", required=True)
    ap.add_argument("--shapes", required=True, help="comma-separated variant:B:L")
    ap.add_argument("--iters", type=int, default=40, help="steps profiled per shape")
    ap.add_argument("--json", default="")
    args = ap.parse_args()
    art_dirs = {}
    rows = []
    print(f"{'variant':8} {'B':>4} {'L':>6} {'step':>7} {'span':>7} {'fwd':>7} {'fwd GB/s':>9}  then")
    for spec in args.shapes.split(","):
        name, B, L = spec.split(":")
        if name not in art_dirs:
            art_dirs[name] = bd.Artifact(os.path.join(args.artifacts, f"{name}-bf16"), args.runtime)
        r = measure(art_dirs[name], name, int(B), int(L), args.iters)
        rows.append(r)
        rest = "  ".join(f"+{g:.1f} gap, {k} {u:.1f}" for k, u, g in
                         zip(r["kernels"][1:], r["kernel_us"][1:], r["gap_us"]))
        print(f"{name:8} {int(B):>4} {int(L):>6} {r['step_us']:>7.1f} {r['span_us']:>7.1f} "
              f"{r['kernel_us'][0]:>7.1f} {r['fwd_GBs']:>9.0f}  {rest}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": torch.cuda.get_device_name(), "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
