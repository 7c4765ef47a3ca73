"""attn.attention compiled for the CPU against the float64 reference.

Every variant's core op, prefill (causal over the whole prompt), chunked
prefill (3 queries at the end of longer sequences), decode (one query over
caches of different lengths) and MTLA's stride-aware prefill, in f32 (within
1e-5 of max|y|) and f64 (1e-12). Outputs are poisoned by nothing we control
(the compiled code allocates them), so every element is compared.
"""
import math

import numpy as np
import pytest

import attn_reference as ref
from harness import Module, function, tensor_type

B, L = 2, 7
RNG = np.random.default_rng(1234)


def rope_attr(placement, dim):
    if placement == "none":
        return "#attn.rope<placement = none>"
    return f"#attn.rope<placement = {placement}, dim = {dim}>"


# name -> (variant attribute text, operand shapes (per batch B, rows L), ref kwargs)
def cases():
    c = {}
    def sep(name, hq, hkv, d):
        c[name] = dict(
            variant=(f"kv_form = separate, num_q_heads = {hq}, num_kv_heads = {hkv}, "
                     f"qk_head_dim = {d}, v_head_dim = {d}, rope = {rope_attr('full_head', d)}, "
                     f"softmax_scale = {1 / math.sqrt(d)!r}"),
            q=(hq, d), operands={"keys": (L, hkv, d), "values": (L, hkv, d)},
            ref=dict(kv_form="separate"), out=(hq, d), scale=1 / math.sqrt(d))
    sep("mha", 4, 4, 8)
    sep("gqa", 4, 2, 8)
    sep("mqa", 4, 1, 8)
    sep("mfa", 4, 1, 16)
    c["gta"] = dict(
        variant=("kv_form = tied, num_q_heads = 4, num_kv_heads = 2, qk_head_dim = 8, "
                 f"v_head_dim = 8, rope = {rope_attr('q_suffix_shared_key', 4)}, "
                 "tie = #attn.tie<row = 8, key = 0 : 4, value = 0 : 8>, "
                 f"softmax_scale = {1 / math.sqrt(8)!r}"),
        q=(4, 8), operands={"rows": (L, 2, 8), "rope_keys": (L, 4)},
        ref=dict(kv_form="tied", tie=(0, 4, 0, 8)), out=(4, 8), scale=1 / math.sqrt(8))
    # A tie that does not start at column 0 (value slice inside the row).
    c["tied_offset"] = dict(
        variant=("kv_form = tied, num_q_heads = 4, num_kv_heads = 2, qk_head_dim = 6, "
                 f"v_head_dim = 5, rope = {rope_attr('q_suffix_shared_key', 2)}, "
                 "tie = #attn.tie<row = 9, key = 3 : 7, value = 2 : 7>, "
                 "softmax_scale = 0.4"),
        q=(4, 6), operands={"rows": (L, 2, 9), "rope_keys": (L, 2)},
        ref=dict(kv_form="tied", tie=(3, 7, 2, 7)), out=(4, 5), scale=0.4)
    c["mfa_kr"] = dict(
        variant=("kv_form = tied, num_q_heads = 4, num_kv_heads = 1, qk_head_dim = 16, "
                 f"v_head_dim = 16, rope = {rope_attr('full_head', 16)}, "
                 "tie = #attn.tie<row = 16, key = 0 : 16, value = 0 : 16>, "
                 "softmax_scale = 0.25, value_epilogue = key_reuse_post"),
        q=(4, 16), operands={"rows": (L, 1, 16), "alpha": (16,), "transform": (16, 16)},
        ref=dict(kv_form="tied"), out=(4, 16), scale=0.25)
    for name, hc, dc in (("mla", 1, 16), ("gla", 2, 8)):
        variant = (f"kv_form = latent, num_q_heads = 4, num_kv_heads = {hc}, qk_head_dim = 12, "
                   f"v_head_dim = 8, latent_dim = {dc}, "
                   f"rope = {rope_attr('decoupled_shared_key', 4)}, "
                   f"softmax_scale = {1 / math.sqrt(12)!r}, latent_norm = rms, "
                   "value_epilogue = latent_up")
        c[name] = dict(variant=variant, q=(4, 12),
                       operands={"rows": (L, hc, dc), "rope_keys": (L, 4),
                                 "up_k": (4, dc, 8), "up_v": (4, dc, 8)},
                       ref=dict(kv_form="latent"), out=(4, 8), scale=1 / math.sqrt(12))
        c[name + "_absorbed"] = dict(variant=variant, q=(4, dc + 4), absorbed=True,
                                     operands={"rows": (L, hc, dc), "rope_keys": (L, 4),
                                               "up_v": (4, dc, 8)},
                                     ref=dict(kv_form="latent"), out=(4, 8),
                                     scale=1 / math.sqrt(12))
    c["gta_sun"] = dict(
        variant=("kv_form = separate, num_q_heads = 2, num_out_heads = 4, num_kv_heads = 1, "
                 "num_v_heads = 1, qk_head_dim = 8, v_head_dim = 4, latent_dim = 8, "
                 f"rope = {rope_attr('full_head', 8)}, softmax_scale = 0.35, "
                 "value_epilogue = gated_latent_decoder"),
        q=(2, 8), operands={"keys": (L, 1, 8), "values": (L, 1, 8), "gate": "gate",
                            "decoder": (4, 8, 4)},
        ref=dict(kv_form="separate", num_out_heads=4), out=(4, 4), scale=0.35)
    c["gta_sun_maps"] = dict(
        variant=("kv_form = separate, num_q_heads = 2, num_out_heads = 4, num_kv_heads = 1, "
                 "num_v_heads = 2, qk_head_dim = 8, v_head_dim = 4, latent_dim = 8, "
                 f"rope = {rope_attr('full_head', 8)}, softmax_scale = 0.35, "
                 "value_epilogue = gated_latent_decoder, "
                 "score_map_of_head = [1, 0, 1, 0], latent_of_head = [0, 0, 1, 1]"),
        q=(2, 8), operands={"keys": (L, 1, 8), "values": (L, 2, 8), "gate": "gate",
                            "decoder": (4, 8, 4)},
        ref=dict(kv_form="separate", num_out_heads=4, score_map_of_head=[1, 0, 1, 0],
                 latent_of_head=[0, 0, 1, 1]), out=(4, 4), scale=0.35)
    return c


CASES = cases()
ORDER = ["keys", "values", "rows", "rope_keys", "up_k", "up_v", "seq_lens", "gate",
         "decoder", "alpha", "transform"]
# (function, query tokens, seq_lens or None, mask)
MODES = [("prefill", L, None, "causal"), ("chunk", 3, [7, 5], "causal"),
         ("decode", 1, [7, 4], "causal"), ("decode_nomask", 1, [6, 1], "none")]


def operand_shapes(case, tq):
    shapes = {}
    for name, s in case["operands"].items():
        if s == "gate":
            shapes[name] = (B, tq, case["out"][0] * case["out"][1])
        elif name in ("keys", "values", "rows", "rope_keys"):
            shapes[name] = (B,) + s
        else:
            shapes[name] = s
    return shapes


def build_module(case, dtype, modes):
    funcs = []
    for fname, tq, lens, mask in modes:
        shapes = operand_shapes(case, tq)
        qt = tensor_type((B, tq) + case["q"], dtype)
        ot = tensor_type((B, tq) + case["out"], dtype)
        args = [("q", qt)]
        parts = [f"query(%q : {qt})"]
        for name in ORDER:
            if name == "seq_lens":
                if lens is not None:
                    t = tensor_type((B,), np.int32)
                    args.append((name, t))
                    parts.append(f"seq_lens(%seq_lens : {t})")
                continue
            if name in shapes:
                t = tensor_type(shapes[name], dtype)
                args.append((name, t))
                parts.append(f"{name}(%{name} : {t})")
        extra = " absorbed" if case.get("absorbed") else ""
        extra = (f" mask = {mask}" if mask != "causal" else "") + extra
        body = [f"%o = attn.attention #attn.variant<{case['variant']}> {' '.join(parts)}"
                f"{extra} -> {ot}", f"return %o : {ot}"]
        funcs.append(function(fname, args, ot, body))
    return Module("\n".join(funcs))


@pytest.fixture(scope="module", params=[np.float32, np.float64], ids=["f32", "f64"])
def dtype(request):
    return request.param


_MODULES = {}


def compiled(name, dtype):
    key = (name, np.dtype(dtype).name)
    if key not in _MODULES:
        _MODULES[key] = build_module(CASES[name], dtype, MODES)
    return _MODULES[key]


def check(got, want, dtype):
    assert got.shape == want.shape
    assert np.all(np.isfinite(got))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    err = np.max(np.abs(got - want)) / np.max(np.abs(want))
    assert err <= tol, f"max relative error {err:.3g} > {tol}"


@pytest.mark.parametrize("mode", MODES, ids=[m[0] for m in MODES])
@pytest.mark.parametrize("name", sorted(CASES))
def test_core_attention(name, mode, dtype):
    case = CASES[name]
    fname, tq, lens, mask = mode
    mod = compiled(name, dtype)
    shapes = operand_shapes(case, tq)
    data = {"q": RNG.standard_normal((B, tq) + case["q"])}
    for n, s in shapes.items():
        data[n] = RNG.standard_normal(s)
    args = [data["q"].astype(dtype)]
    for n in ORDER:
        if n == "seq_lens":
            if lens is not None:
                args.append(np.array(lens, dtype=np.int32))
        elif n in data:
            args.append(data[n].astype(dtype))
    got = mod.call(fname, args, 4, dtype)
    kw = dict(case["ref"])
    kw.update({n: data[n].astype(dtype).astype(np.float64) for n in shapes})
    want = ref.core_attention(data["q"].astype(dtype).astype(np.float64),
                              softmax_scale=case["scale"], seq_lens=lens, mask=mask,
                              absorbed=case.get("absorbed", False), **kw)
    check(got, want, dtype)


@pytest.mark.parametrize("stride", [2, 3])
def test_mtla_stride_aware_prefill(stride, dtype):
    """MTLA's prefill over per-token partial slot states, unabsorbed."""
    variant = ("kv_form = latent, num_q_heads = 4, num_kv_heads = 1, qk_head_dim = 12, "
               "v_head_dim = 8, latent_dim = 16, "
               "rope = #attn.rope<placement = decoupled_shared_key, dim = 4>, "
               f"softmax_scale = 0.3, time_stride = {stride}, "
               "temporal_merge = hypernet_sigmoid_dot, "
               "cache_update = append_or_accumulate_last, slot_rope = last_in_slot, "
               "latent_norm = layer, value_epilogue = latent_up")
    shapes = {"q": (B, L, 4, 12), "rows": (B, L, 1, 16), "rope_keys": (B, L, 4),
              "up_k": (4, 16, 8), "up_v": (4, 16, 8)}
    t = {n: tensor_type(s, dtype) for n, s in shapes.items()}
    ot = tensor_type((B, L, 4, 8), dtype)
    body = [f"%o = attn.attention #attn.variant<{variant}> query(%q : {t['q']}) "
            f"rows(%rows : {t['rows']}) rope_keys(%rope_keys : {t['rope_keys']}) "
            f"up_k(%up_k : {t['up_k']}) up_v(%up_v : {t['up_v']}) "
            f"mask = stride_aware_causal -> {ot}", f"return %o : {ot}"]
    mod = Module(function("f", [(n, t[n]) for n in shapes], ot, body))
    data = {n: RNG.standard_normal(s).astype(dtype) for n, s in shapes.items()}
    got = mod.call("f", [data[n] for n in shapes], 4, dtype)
    f64 = {n: v.astype(np.float64) for n, v in data.items()}
    want = ref.core_attention(f64["q"], kv_form="latent", softmax_scale=0.3,
                              rows=f64["rows"], rope_keys=f64["rope_keys"],
                              up_k=f64["up_k"], up_v=f64["up_v"],
                              mask="stride_aware_causal", time_stride=stride)
    check(got, want, dtype)


def test_empty_rows_give_zeros(dtype):
    """A sequence with no valid rows yields zeros, not NaN."""
    mod = compiled("gqa", dtype)
    q = RNG.standard_normal((B, 1, 4, 8)).astype(dtype)
    k = RNG.standard_normal((B, L, 2, 8)).astype(dtype)
    v = RNG.standard_normal((B, L, 2, 8)).astype(dtype)
    got = mod.call("decode", [q, k, v, np.array([0, 3], np.int32)], 4, dtype)
    assert np.all(got[0] == 0)
    want = ref.core_attention(q[1:].astype(np.float64), kv_form="separate",
                              softmax_scale=1 / math.sqrt(8), keys=k[1:].astype(np.float64),
                              values=v[1:].astype(np.float64), seq_lens=[3])
    check(got[1:], want, dtype)
