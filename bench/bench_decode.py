"""Decode benchmark: attn's kernels next to the peers, in one process run.

Run on the GPU machine (PyTorch there), after scripts/gpu-artifacts.sh here:
    python3 bench/bench_decode.py --artifacts gpu-artifacts/sm_90a --runtime /tmp/attn-rt/lib/libattn_runtime.so
Prints one table (us, GB/s of unique cache bytes, fraction of the measured
copy bandwidth, ratio to the best peer) and writes bench/results.json (or
--json). Every attn result is checked against a PyTorch float32 computation
of the same attention first. Each side (ours and every peer) is timed as
eager calls and as CUDA-graph replays and reported at the faster of the two
(--eager: eager calls only); --sweep runs every variant over batch
1/16/64/128 x cache 2k/8k/32k. A shape's L counts cache rows: for MTLA
(time_stride 2) its slots, each two tokens.
"""
import argparse
import json
import math
import os
import statistics
import sys

import torch
import torch.nn.functional as F

# The runtime binding of the Python package; it needs no compiler build.
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
from attn.runtime import Artifact  # noqa: E402

DEV = "cuda"
SPLITS = 0  # --splits
COMBINE = "auto"  # --combine
ROUNDS = 2  # --rounds
BF16 = torch.bfloat16


def timed(fn, iters=20, trials=5):
    """Median over trials of the mean time of up to `iters` calls, in
    microseconds (fewer calls per trial where one call passes ~2 ms, so
    that sweeps over large shapes stay short)."""
    fn()
    torch.cuda.synchronize()
    a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    a.record()
    fn()
    b.record()
    torch.cuda.synchronize()
    iters = max(3, min(iters, int(2000 / max(a.elapsed_time(b) * 1e3, 1.0))))
    res = []
    for _ in range(trials):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        for i in range(iters):
            fn(i)
        b.record()
        torch.cuda.synchronize()
        res.append(a.elapsed_time(b) * 1e3 / iters)
    return statistics.median(res)


def graphed(fn, n):
    """`fn(i)` for each of the n rotating inputs captured into a CUDA graph;
    returns a replay(i). Timing replays measures the GPU, not the Python and
    launch overhead that dominates calls of a few tens of microseconds."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):  # warm up (allocations) outside capture
        for i in range(n):
            fn(i)
    torch.cuda.current_stream().wait_stream(side)
    torch.cuda.synchronize()
    graphs = []
    for i in range(n):
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g):
            fn(i)
        graphs.append(g)
    return lambda i=0: graphs[i % n].replay()


GRAPHS = True  # --eager turns it off


def timed_call(fn, n):
    """Microseconds per call of fn(i) (i cycling over n inputs), and how:
    the faster of eager calls and CUDA-graph replays, the same rule for us
    and every peer. Eager calls of a few tens of microseconds measure host
    overhead; graph replays of large memory-bound kernels ran slower on the
    H100 here (PyTorch's own 1 GB copy: 362 us eager, 443 us replayed;
    docs/performance.md step 25). Both times are kept."""
    times = {"eager": timed(fn)}
    if GRAPHS:
        try:
            times["graph"] = timed(graphed(fn, n))
        except Exception:  # capture unsupported: eager only
            torch.cuda.synchronize()
    how = min(times, key=times.get)
    return times[how], how, times


def ceilings():
    n = 1 << 28
    x = torch.empty(n, dtype=BF16, device=DEV)
    y = torch.empty_like(x)
    us = timed(lambda i=0: y.copy_(x), iters=10)
    copy_gbs = 2 * n * 2 / (us * 1e-6) / 1e9
    a = torch.randn(8192, 8192, dtype=BF16, device=DEV)
    bm = torch.randn(8192, 8192, dtype=BF16, device=DEV)
    us = timed(lambda i=0: a @ bm, iters=5)
    tflops = 2 * 8192 ** 3 / (us * 1e-6) / 1e12
    del x, y, a, bm
    return copy_gbs, tflops


def shapes_of(info, B, L):
    hq, kv = int(info["num_q_heads"]), int(info["num_kv_heads"])
    hout, kw = int(info["num_out_heads"]), int(info["key_width"])
    vw, rw = int(info["value_width"]), int(info["row_width"])
    rd, ow = int(info["rope_dim"]), int(info["out_width"])
    return {"query": (B, 1, hq, kw), "keys": (B, L, kv, kw), "values": (B, L, kv, vw),
            "rows": (B, L, kv, rw), "rope_keys": (B, L, rd), "seq_lens": (B,),
            "up_v": (hq, vw, ow), "gate": (B, 1, hout * ow), "decoder": (hout, vw, ow),
            "alpha": (vw,), "transform": (vw, vw), "out": (B, 1, hout, ow)}


CACHE = ("keys", "values", "rows", "rope_keys")


def torch_attention(info, t, i=0):
    """The same attention in PyTorch (fp32 math): the check, and 'plain PyTorch'."""
    form, hq = info["kv_form"], int(info["num_q_heads"])
    kv, g = int(info["num_kv_heads"]), int(info["group"])
    scale = float(info["softmax_scale"])
    q = t["query"][0].float()[:, 0]  # [B, hq, kw]
    if form == "separate":
        k, v = t["keys"][i % len(t["keys"])].float(), t["values"][i % len(t["values"])].float()
    else:
        rows = t["rows"][i % len(t["rows"])].float()
        kb, nope, vb = int(info["key_begin"]), int(info["key_nope"]), int(info["value_begin"])
        k = rows[..., kb:kb + nope]
        if int(info["rope_dim"]):
            rk = t["rope_keys"][i % len(t["rope_keys"])].float()
            k = torch.cat([k, rk[:, :, None, :].expand(-1, -1, kv, -1)], -1)
        v = rows[..., vb:vb + int(info["value_width"])]
    B = q.shape[0]
    qg = q.view(B, kv, g, -1)
    s = torch.einsum("bhgd,blhd->bhgl", qg, k) * scale
    p = torch.softmax(s, -1)
    o = torch.einsum("bhgl,blhd->bhgd", p, v).reshape(B, hq, -1)
    epi = info["value_epilogue"]
    if epi == "latent_up":
        o = torch.einsum("bhc,hce->bhe", o, t["up_v"][0].float())
    elif epi == "gated_latent_decoder":
        hout = int(info["num_out_heads"])
        om = o.repeat_interleave(hout // hq, 1)
        o = torch.einsum("bhc,hce->bhe", om, t["decoder"][0].float())
        o = o * t["gate"][0].float().view(B, hout, -1)
    elif epi == "key_reuse_post":
        o = o + t["alpha"][0].float() * (o @ t["transform"][0].float())
    return o


def decode_inputs(mod, B, L):
    """The decode module's inputs at (B, L), the cache rotated over enough
    copies to pass the 50 MB L2, and ours(i) running it on copy i:
    (tensors by input name, ours, cache bytes of one copy, copies)."""
    info = mod.info
    if COMBINE != "auto":
        try:
            mod.set_combine(COMBINE)
        except RuntimeError:
            pass  # the module has no such kernel: the runtime's choice
    shapes = shapes_of(info, B, L)
    cache_bytes = sum(math.prod(shapes[n]) * 2 for n in mod.inputs if n in CACHE)
    copies = max(1, math.ceil(200e6 / cache_bytes))  # rotate past the 50 MB L2
    t = {}
    for n in mod.inputs:
        if n == "seq_lens":
            t[n] = [torch.full((B,), L, dtype=torch.int32, device=DEV)]
        elif n == "out":
            t[n] = [torch.full(shapes[n], float("nan"), dtype=BF16, device=DEV)]
        else:
            k = copies if n in CACHE else 1
            t[n] = [torch.randn(shapes[n], dtype=BF16, device=DEV) * (0.5 if n == "gate" else 1.0)
                    for _ in range(k)]

    def ours(i=0):
        bufs = {n: v[i % len(v)].data_ptr() for n, v in t.items()}
        mod.run(bufs, B, 1, L, SPLITS, torch.cuda.current_stream().cuda_stream)

    return t, ours, cache_bytes, copies


def bench_variant(art, name, B, L, copy_gbs, peers):
    mod = art.module(f"{name}_decode_attn0")
    info = mod.info
    t, ours, cache_bytes, copies = decode_inputs(mod, B, L)
    ours()
    torch.cuda.synchronize()
    want = torch_attention(info, t)
    got = t["out"][0].float().view(want.shape)
    err = ((got - want).abs().max() / want.abs().max()).item()
    ok = bool(torch.isfinite(got).all()) and err < 2e-2
    row = {"variant": name, "B": B, "L": L, "cache_MB": cache_bytes / 1e6, "err": err, "ok": ok}
    # Each side is timed ROUNDS times, taking turns (ours, the peers, ours,
    # ...), and keeps its fastest round, so neither always runs first after
    # the previous shape nor gains from a lone quiet moment. (Rounds differed
    # by up to 4% at the large shapes of session 10's run 10; they did not
    # explain why some small latent shapes read 2-5 us slower in a process
    # that times peers than in one that does not.)
    contestants = [("attn", ours)] + list(peers(info, t))
    for r in range(ROUNDS):
        for pname, fn in contestants:
            if row.get(pname + "_error"):
                continue
            try:
                if pname == "flex":
                    us, how, both = timed(fn), "graph", {"graph": None}
                else:
                    us, how, both = timed_call(fn, copies)
            except Exception as e:  # a peer that cannot run this shape
                row[pname + "_us"] = None
                row[pname + "_error"] = str(e).splitlines()[0][:120]
                continue
            row.setdefault(pname + "_us_rounds", []).append(us)
            if row.get(pname + "_us") is None or us < row[pname + "_us"]:
                row[pname + "_us"], row[pname + "_timing"] = us, how
                row.update({f"{pname}_us_{k}": v for k, v in both.items() if v is not None})
    row["attn_GBs"] = cache_bytes / (row["attn_us"] * 1e-6) / 1e9
    row["attn_frac_copy"] = row["attn_GBs"] / copy_gbs
    # The compiler's roofline (FlashPlan::predictDecodeMicros, attn-report),
    # with this run's copy bandwidth: cache bytes or FLOPs (CUDA cores at
    # 67 TFLOP/s, mma.sync at 490 (mma, mma-stream), wgmma at 770), whichever is slower, plus
    # 8 us for the two launches. L counts cache rows: MTLA's slots hold
    # time_stride tokens each, and the manifest's costs are per token.
    tokens = B * L * int(info.get("time_stride", 1))
    rate = {"mma": 490e12, "mma-stream": 490e12, "wgmma": 770e12,
            "wgmma-narrow": 770e12}.get(info["schedule"], 67e12)
    row["schedule"] = info["schedule"]
    row["predicted_us"] = max(float(info["cache_bytes_per_token"]) * tokens / (copy_gbs * 1e9),
                              float(info["flops_per_token"]) * tokens / rate) * 1e6 + 8.0
    best = min((row[p + "_us"] for p, _ in contestants[1:] if row.get(p + "_us") is not None),
               default=None)
    row["best_peer_us"] = best
    row["speedup_vs_best_peer"] = best / row["attn_us"] if best else None
    return row


def sdpa_peers(info, t):
    if info["kv_form"] != "separate" or info["value_epilogue"] != "none":
        return [("torch", lambda i=0: torch_attention(info, t, i))]
    from torch.nn.attention import SDPBackend, sdpa_kernel
    scale = float(info["softmax_scale"])

    def sdpa(backend):
        def run(i=0):
            q = t["query"][0].transpose(1, 2)
            k = t["keys"][i % len(t["keys"])].transpose(1, 2)
            v = t["values"][i % len(t["values"])].transpose(1, 2)
            with sdpa_kernel(backend):
                return F.scaled_dot_product_attention(q, k, v, scale=scale, enable_gqa=True)
        return run
    peers = [("sdpa_flash", sdpa(SDPBackend.FLASH_ATTENTION)),
             ("sdpa_cudnn", sdpa(SDPBackend.CUDNN_ATTENTION))]
    if FLEX:
        peers.append(("flex", flex_peer(info, t)))
    return peers


FLEX = False


def flex_peer(info, t):
    """FlexAttention at its best for decode: compiled for this shape
    (dynamic=False) and replayed as a CUDA graph (anchors.md)."""
    from torch.nn.attention.flex_attention import flex_attention
    scale = float(info["softmax_scale"])
    fn = torch.compile(flex_attention, dynamic=False)
    q = t["query"][0].transpose(1, 2)
    ks = [k.transpose(1, 2) for k in t["keys"]]
    vs = [v.transpose(1, 2) for v in t["values"]]
    graphs = []
    for k, v in zip(ks, vs):
        for _ in range(2):  # compile and warm up outside the graph
            fn(q, k, v, scale=scale, enable_gqa=True)
        torch.cuda.synchronize()
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g):
            fn(q, k, v, scale=scale, enable_gqa=True)
        graphs.append(g)
    return lambda i=0: graphs[i % len(graphs)].replay()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--artifacts", required=True)
    ap.add_argument("--runtime", required=True)
    ap.add_argument("--json", default=os.path.join(os.path.dirname(__file__), "results.json"))
    ap.add_argument("--quick", action="store_true", help="fewer shapes")
    ap.add_argument("--sweep", action="store_true",
                    help="every variant at batch 1/16/64/128 x cache 2k/8k/32k (issue 5's grid)")
    ap.add_argument("--only", default="", help="comma-separated variants to run")
    ap.add_argument("--shapes", default="",
                    help="comma-separated variant:B:L to run instead of the plan, e.g. gqa:16:8192")
    ap.add_argument("--splits", type=int, default=0,
                    help="fix the split count (0: the runtime's choice)")
    ap.add_argument("--combine", default="auto", choices=["auto", "row", "rows", "wide", "slices", "latent-slices", "grid"],
                    help="fix the combine kernel: one batch row per block, the same on more threads, "
                         "several rows (where a module has it), or none: the forward kernel merges (grid)")
    ap.add_argument("--eager", action="store_true",
                    help="time eager calls only (no CUDA-graph replays)")
    ap.add_argument("--rounds", type=int, default=2,
                    help="times each side is timed, taking turns; each keeps its fastest")
    ap.add_argument("--no-peers", action="store_true",
                    help="time our kernels only (A/B runs of our own builds; the output is still checked)")
    ap.add_argument("--flex", action="store_true",
                    help="also FlexAttention (compiled per shape, CUDA graph; slow to compile)")
    args = ap.parse_args()
    global FLEX, SPLITS, COMBINE, GRAPHS, ROUNDS
    FLEX = args.flex
    GRAPHS = not args.eager
    SPLITS = args.splits
    COMBINE = args.combine
    ROUNDS = args.rounds
    torch.manual_seed(0)
    copy_gbs, tflops = ceilings()
    print(f"device {torch.cuda.get_device_name()}: copy {copy_gbs:.0f} GB/s, bf16 matmul {tflops:.0f} TFLOP/s; "
          f"{'faster of eager calls and CUDA-graph replays' if GRAPHS else 'eager calls'} timed")
    plan = []
    for B in (1, 16, 64, 128):
        for L in (2048, 8192, 32768):
            plan.append(("gqa", B, L))
    plan += [("mha", 16, 8192), ("mha", 64, 8192), ("mqa", 16, 8192), ("gta", 16, 8192),
             ("gta", 64, 8192), ("mla", 16, 4096), ("mla", 64, 4096), ("mla16", 16, 8192),
             ("mla16", 64, 8192), ("gla", 32, 4096),
             ("mfa", 16, 8192), ("mfa_kr", 16, 8192), ("gta_sun", 16, 8192), ("mtla", 32, 4096)]
    if args.sweep:
        plan = [(v, B, L) for v in ("gqa", "mha", "mqa", "gta", "mla", "mla16", "gla", "mfa",
                                    "mfa_kr", "gta_sun", "mtla")
                for B in (1, 16, 64, 128) for L in (2048, 8192, 32768)]
    if args.quick:
        plan = [p for p in plan if p[0] != "gqa" or p[1] in (1, 16)]
    if args.only:
        plan = [p for p in plan if p[0] in args.only.split(",")]
    if args.shapes:
        # Exactly these shapes, in this order (any B and L).
        plan = [(v, int(b), int(l)) for v, b, l in (x.split(":") for x in args.shapes.split(","))]
    rows = []
    hdr = (f"{'variant':8} {'B':>4} {'L':>6} {'MB':>7} {'ok':>3} {'pred us':>8} {'attn us':>9} {'GB/s':>7} "
           f"{'%copy':>6} {'best peer':>10} {'peer us':>9} {'x peer':>7}")
    print(hdr)
    for name, B, L in plan:
        art = Artifact(os.path.join(args.artifacts, f"{name}-bf16"), args.runtime)
        try:
            r = bench_variant(art, name, B, L, copy_gbs,
                              (lambda info, t: []) if args.no_peers else sdpa_peers)
        except torch.cuda.OutOfMemoryError:
            print(f"{name:8} {B:>4} {L:>6}  out of memory")
            torch.cuda.empty_cache()
            continue
        rows.append(r)
        peer = min((k for k in r if k.endswith("_us") and r[k] is not None
                    and k not in ("attn_us", "best_peer_us", "predicted_us")),
                   key=lambda k: r[k], default=None)
        print(f"{name:8} {B:>4} {L:>6} {r['cache_MB']:>7.1f} {'y' if r['ok'] else 'N':>3} "
              f"{r['predicted_us']:>8.1f} {r['attn_us']:>9.1f} {r['attn_GBs']:>7.0f} {100 * r['attn_frac_copy']:>5.1f}% "
              f"{(peer or '-')[:-3]:>10} {r.get(peer, float('nan')) or float('nan'):>9.1f} "
              f"{r['speedup_vs_best_peer'] or float('nan'):>7.2f}"
              # which timing each side's number is (g: graph replays, e: eager calls)
              + (f"  {r['attn_timing'][0]}/{r.get((peer or '')[:-3] + '_timing', '-')[0]}"
                 if GRAPHS else ""), flush=True)
        torch.cuda.empty_cache()
    with open(args.json, "w") as f:
        json.dump({"device": torch.cuda.get_device_name(), "copy_GBs": copy_gbs,
                   "timing": "graph" if GRAPHS else "eager",
                   "matmul_TFLOPs": tflops, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
