"""The attn layer ops compiled for the CPU, one op at a time, against float64.

attn.linear, attn.norm, attn.rope, attn.merge_weights, attn.partial_slots and
attn.cache_update on seeded random data of several shapes (odd sizes, ranks 3
and 4, positions that do not start at 0 and differ per batch entry), plus the
deterministic data of variants.md §11.1 for linear and rope. The expected
values come from reference/attn_reference.py (rope, norms, sinusoidal PE) or
from a direct numpy transcription of the op's description in
docs/Dialects/AttnDialect.md. f32 results must lie within 1e-5 of max|y|,
f64 within 1e-12; every element is compared.

All functions of one op are compiled into one module per element type.
"""
import math

import numpy as np
import pytest

import attn_reference as ref
from layer_harness import call, check, compile_module, function, rounded, tensor_type


@pytest.fixture(scope="module", params=[np.float32, np.float64], ids=["f32", "f64"])
def dtype(request):
    return request.param


_MODULES = {}


def module_for(op, dtype, builder):
    """Compiles (once per op and element type) the module builder(dtype) returns."""
    key = (op, np.dtype(dtype).name)
    if key not in _MODULES:
        _MODULES[key] = compile_module(builder(dtype))
    return _MODULES[key]


def rng_for(*key):
    """A numpy generator seeded from the test's identity (order independent)."""
    return np.random.default_rng([ord(c) for c in "/".join(map(str, key))])


# ---------------------------------------------------------------------------
# attn.linear
# ---------------------------------------------------------------------------

# name -> (input shape, weight shape, contract, bias shape or None, activation)
LINEAR = {
    "heads": ((2, 5, 13), (13, 3, 7), 1, None, "none"),
    "heads_bias": ((2, 5, 13), (13, 3, 7), 1, (3, 7), "none"),
    "matrix_bias": ((3, 1, 9), (9, 11), 1, (11,), "none"),
    "per_head_input": ((2, 5, 3, 7), (7, 5), 1, None, "none"),
    "out_proj": ((2, 5, 3, 7), (3, 7, 9), 2, None, "none"),
    "out_proj_bias": ((1, 7, 3, 7), (3, 7, 11), 2, (11,), "none"),
    "contract3": ((2, 3, 2, 5), (3, 2, 5, 4), 3, None, "none"),
    "sigmoid_bias": ((2, 5, 13), (13, 13), 1, (13,), "sigmoid"),
    "sigmoid_heads": ((3, 1, 6), (6, 2, 5), 1, None, "sigmoid"),
    "vector": ((13,), (13, 5), 1, (5,), "none"),
    # §11.1 data: X [7, 32], W_1 [32, 32] viewed [32, 4, 8] (GQA's W_Q), and
    # an output projection W_4 [32, 32] viewed [4, 8, 32].
    "det_q": ((1, 7, 32), (32, 4, 8), 1, None, "none"),
    "det_out": ((1, 7, 4, 8), (4, 8, 32), 2, None, "none"),
}


def linear_out_shape(case):
    xs, ws, k, _, _ = case
    return xs[:len(xs) - k] + ws[k:]


def build_linear(dtype):
    funcs = []
    for name, case in LINEAR.items():
        xs, ws, k, bs, act = case
        xt, wt = tensor_type(xs, dtype), tensor_type(ws, dtype)
        ot = tensor_type(linear_out_shape(case), dtype)
        args = [("x", xt), ("w", wt)]
        extra = ""
        if bs is not None:
            bt = tensor_type(bs, dtype)
            args.append(("b", bt))
            extra += f" bias(%b : {bt})"
        if k != 1:
            extra += f" contract = {k}"
        if act != "none":
            extra += f" activation = {act}"
        body = [f"%y = attn.linear %x, %w{extra} : {xt}, {wt} -> {ot}", f"return %y : {ot}"]
        funcs.append(function("linear_" + name, args, ot, body))
    return "\n".join(funcs)


def linear_data(name):
    xs, ws, k, bs, _ = LINEAR[name]
    if name == "det_q":
        return ref.make_input(7, 32)[None], ref.make_weight(1, 32, 32).reshape(ws), None
    if name == "det_out":
        return (ref.make_input(7, 32).reshape(xs),
                ref.make_weight(4, 32, 32).reshape(ws), None)
    rng = rng_for("linear", name)
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    b = rng.standard_normal(bs) if bs is not None else None
    return x, w, b


@pytest.mark.parametrize("name", list(LINEAR))
def test_linear(name, dtype):
    mod = module_for("linear", dtype, build_linear)
    xs, ws, k, bs, act = LINEAR[name]
    x, w, b = linear_data(name)
    args = [x, w] + ([b] if b is not None else [])
    (got,) = call(mod, "linear_" + name, [a.astype(dtype) for a in args],
                  [(len(linear_out_shape(LINEAR[name])), dtype)])
    x, w = rounded(x, dtype), rounded(w, dtype)
    want = np.tensordot(x, w, axes=k)
    if b is not None:
        want = want + rounded(b, dtype)
    if act == "sigmoid":
        want = ref.sigmoid(want)
    if name == "det_q":  # the reference's own head split of x @ W_Q
        assert np.allclose(want, (x[0] @ w.reshape(32, 32)).reshape(1, 7, 4, 8), 0, 1e-13)
    if name == "det_out":  # concat_h o_h @ W_O
        assert np.allclose(want, x.reshape(1, 7, 32) @ w.reshape(32, 32), 0, 1e-13)
    check(got, want, dtype, name)


# ---------------------------------------------------------------------------
# attn.norm
# ---------------------------------------------------------------------------

# name -> (kind, shape, weight?, bias?, epsilon or None (op default 1e-6), input scale)
NORM = {
    "rms": ("rms", (2, 5, 13), False, False, None, 1.0),
    "rms_per_head": ("rms", (2, 5, 3, 7), False, False, 1e-6, 1.0),
    "rms_weight_per_head": ("rms", (2, 5, 3, 7), True, False, None, 1.0),
    "rms_eps": ("rms", (1, 7, 2, 9), True, False, 0.25, 0.3),
    "rms_rank2": ("rms", (5, 6), False, False, 1e-3, 0.1),
    "rms_rank1": ("rms", (9,), True, False, None, 1.0),
    "layer_width1": ("layer", (2, 3, 1), True, True, 1e-5, 1.0),
    "layer": ("layer", (2, 5, 13), False, False, 1e-5, 1.0),
    "layer_per_head": ("layer", (2, 5, 3, 7), False, False, 1e-5, 1.0),
    "layer_affine_per_head": ("layer", (2, 5, 3, 7), True, True, 1e-5, 1.0),
    "layer_bias_only": ("layer", (1, 7, 2, 9), False, True, 0.5, 0.4),
    "layer_weight_eps": ("layer", (2, 3, 11), True, False, 0.1, 0.2),
}


def build_norm(dtype):
    funcs = []
    for name, (kind, shape, has_w, has_b, eps, _) in NORM.items():
        t = tensor_type(shape, dtype)
        vt = tensor_type(shape[-1:], dtype)
        args = [("x", t)]
        extra = ""
        if has_w:
            args.append(("w", vt))
            extra += f" weight(%w : {vt})"
        if has_b:
            args.append(("b", vt))
            extra += f" bias(%b : {vt})"
        if eps is not None:
            extra += f" {{epsilon = {eps:.17e} : f64}}"
        body = [f"%y = attn.norm {kind} %x{extra} : {t}", f"return %y : {t}"]
        funcs.append(function("norm_" + name, args, t, body))
    return "\n".join(funcs)


def norm_reference(kind, x, w, b, eps):
    y = ref.rms_norm(x, eps) if kind == "rms" else ref.layer_norm(x, eps)
    if w is not None:
        y = y * w
    if b is not None:
        y = y + b
    return y


@pytest.mark.parametrize("name", list(NORM))
def test_norm(name, dtype):
    kind, shape, has_w, has_b, eps, scale = NORM[name]
    mod = module_for("norm", dtype, build_norm)
    rng = rng_for("norm", name)
    x = scale * rng.standard_normal(shape) + (0.3 * scale if kind == "layer" else 0.0)
    w = rng.standard_normal(shape[-1:]) if has_w else None
    b = rng.standard_normal(shape[-1:]) if has_b else None
    args = [a for a in (x, w, b) if a is not None]
    (got,) = call(mod, "norm_" + name, [a.astype(dtype) for a in args], [(len(shape), dtype)])
    r = [None if a is None else rounded(a, dtype) for a in (x, w, b)]
    e = 1e-6 if eps is None else eps
    want = norm_reference(kind, *r, e)
    check(got, want, dtype, name)
    if eps is not None and eps >= 1e-3:
        # The epsilon matters at this input scale: ignoring it would fail.
        other = norm_reference(kind, *r, 1e-6)
        assert np.max(np.abs(other - want)) > 100 * 1e-5 * np.max(np.abs(want))


# ---------------------------------------------------------------------------
# attn.rope
# ---------------------------------------------------------------------------


def rope_text(placement, dim, layout="half", theta=None, yarn=None):
    s = f"placement = {placement}, dim = {dim}"
    if layout != "half":
        s += f", layout = {layout}"
    if theta is not None:
        s += f", theta = {theta:.17e}"
    if yarn is not None:
        y = f"factor = {yarn.factor:.17e}, original_len = {yarn.original_seq_len}"
        if yarn.beta_fast != 32.0 or yarn.beta_slow != 1.0:
            y += f", beta_fast = {yarn.beta_fast:.17e}, beta_slow = {yarn.beta_slow:.17e}"
        if yarn.mscale != 1.0:
            y += f", mscale = {yarn.mscale:.17e}"
        s += f", yarn = #attn.yarn<{y}>"
    return f"#attn.rope<{s}>"


def starts(*s):
    return ("starts", s)


# name -> (shape, placement, dim, layout, theta, yarn, positions, position dtype)
# positions: ("starts", (p0, p1, ...)) = p_b + t, or ("random", high), or "det".
ROPE = {
    "half_full": ((2, 5, 3, 8), "full_head", 8, "half", None, None, starts(3, 11), np.int64),
    "interleaved_full": ((2, 5, 3, 8), "full_head", 8, "interleaved", None, None,
                         starts(0, 17), np.int64),
    "half_partial_12": ((2, 5, 3, 12), "decoupled_shared_key", 4, "half", None, None,
                        starts(2, 9), np.int64),
    "interleaved_partial_12": ((2, 5, 3, 12), "decoupled_shared_key", 4, "interleaved", None,
                               None, starts(5, 1), np.int64),
    "odd_width_partial": ((2, 3, 5, 7), "q_suffix_shared_key", 4, "half", None, None,
                          ("random", 40), np.int32),
    "shared_key": ((2, 5, 6), "decoupled_shared_key", 6, "half", None, None,
                   starts(4, 30), np.int64),
    "shared_key_partial": ((3, 4, 10), "q_suffix_shared_key", 4, "interleaved", None, None,
                           starts(1, 7, 20), np.int32),
    "theta_5e5": ((2, 5, 2, 8), "full_head", 8, "half", 5.0e5, None, starts(6, 13), np.int64),
    "theta_1e6_interleaved": ((2, 3, 2, 16), "decoupled_shared_key", 10, "interleaved", 1.0e6,
                              None, ("random", 50), np.int64),
    "yarn_dsv3": ((2, 5, 2, 24), "decoupled_shared_key", 16, "interleaved", None,
                  ref.Yarn(40.0, 4096), starts(7, 2), np.int64),
    "yarn_custom": ((2, 5, 1, 16), "full_head", 16, "half", 5.0e4,
                    ref.Yarn(8.0, 64, beta_fast=16.0, beta_slow=2.0, mscale=0.707),
                    starts(10, 3), np.int64),
    "yarn_shared_key": ((2, 4, 12), "decoupled_shared_key", 8, "half", None,
                        ref.Yarn(4.0, 256), ("random", 60), np.int32),
    # Degenerate ramp (DeepSeek's "low == high: high += 0.001"): every
    # correction dimension is negative, so low = high = 0.
    "yarn_degenerate_ramp": ((1, 5, 2, 8), "full_head", 8, "half", None,
                             ref.Yarn(10.0, 4), starts(3), np.int64),
    # §11.1: X [7, 32] viewed [1, 7, 4, 8], half-split, theta 1e4, positions 0..6.
    "det_half": ((1, 7, 4, 8), "full_head", 8, "half", None, None, starts(0), np.int64),
    # §11.1 spot value: RoPE([1, 2, 3, 4], pos = 1).
    "det_spot": ((1, 1, 4), "full_head", 4, "half", None, None, starts(1), np.int64),
}


def rope_positions(name):
    shape, pos = ROPE[name][0], ROPE[name][6]
    B, T = shape[:2]
    if pos[0] == "starts":
        return np.array([[p + t for t in range(T)] for p in pos[1]])
    return rng_for("rope_pos", name).integers(0, pos[1], (B, T))


def build_rope(dtype):
    funcs = []
    for name, (shape, placement, dim, layout, theta, yarn, _, pdt) in ROPE.items():
        t = tensor_type(shape, dtype)
        pt = tensor_type(shape[:2], pdt)
        body = [f"%y = attn.rope {rope_text(placement, dim, layout, theta, yarn)} %x "
                f"positions(%pos : {pt}) : {t}", f"return %y : {t}"]
        funcs.append(function("rope_" + name, [("x", t), ("pos", pt)], t, body))
    return "\n".join(funcs)


@pytest.mark.parametrize("name", list(ROPE))
def test_rope(name, dtype):
    shape, placement, dim, layout, theta, yarn, _, pdt = ROPE[name]
    mod = module_for("rope", dtype, build_rope)
    if name == "det_half":
        x = ref.make_input(7, 32).reshape(shape)
    elif name == "det_spot":
        x = np.array([1.0, 2.0, 3.0, 4.0]).reshape(shape)
    else:
        x = rng_for("rope", name).standard_normal(shape)
    pos = rope_positions(name)
    (got,) = call(mod, "rope_" + name, [x.astype(dtype), pos.astype(pdt)], [(len(shape), dtype)])
    p = pos if len(shape) == 3 else pos[:, :, None]
    want = ref.rope(rounded(x, dtype), p, dim, layout, 1e4 if theta is None else theta, yarn)
    check(got, want, dtype, name)
    if name == "det_spot":
        assert np.allclose(got.reshape(4), [-1.984111, 1.959901, 2.462378, 4.019800], atol=1e-6)
    if yarn is not None:  # YaRN changes these frequencies: the test can tell
        plain = ref.rope(rounded(x, dtype), p, dim, layout, 1e4 if theta is None else theta)
        assert np.max(np.abs(plain - want)) > 1e-3 * np.max(np.abs(want))


# ---------------------------------------------------------------------------
# attn.merge_weights (MTLA's hyper-network weight, variants.md §8.3)
# ---------------------------------------------------------------------------

# name -> (B, T, d_c, r, time_stride, position starts or "random", position dtype)
MERGE = {
    "s2": (2, 7, 16, 4, 2, (0, 5), np.int64),
    "s3": (2, 7, 16, 4, 3, (0, 4), np.int64),
    "s3_odd_r": (3, 5, 6, 3, 3, (2, 9, 0), np.int32),
    "s2_random_pos": (2, 6, 10, 5, 2, "random", np.int64),
    "s4_wide": (1, 9, 12, 7, 4, (13,), np.int32),
}


def merge_positions(name):
    B, T, _, _, _, st, _ = MERGE[name]
    if st == "random":
        return rng_for("merge_pos", name).integers(0, 200, (B, T))
    return np.array([[p + t for t in range(T)] for p in st])


def build_merge(dtype):
    funcs = []
    for name, (B, T, dc, r, s, _, pdt) in MERGE.items():
        lt, wt, bt = (tensor_type((B, T, dc), dtype), tensor_type((dc, r), dtype),
                      tensor_type((r,), dtype))
        pt, ot = tensor_type((B, T), pdt), tensor_type((B, T), dtype)
        args = [("c", lt), ("pos", pt), ("wc", wt), ("bc", bt), ("wp", wt), ("bp", bt)]
        body = [f"%w = attn.merge_weights %c positions(%pos : {pt}) chunk(%wc, %bc : {wt}, {bt}) "
                f"token(%wp, %bp : {wt}, {bt}) time_stride = {s} : {lt} -> {ot}",
                f"return %w : {ot}"]
        funcs.append(function("merge_" + name, args, ot, body))
    return "\n".join(funcs)


@pytest.mark.parametrize("name", list(MERGE))
def test_merge_weights(name, dtype):
    B, T, dc, r, s, _, pdt = MERGE[name]
    mod = module_for("merge_weights", dtype, build_merge)
    rng = rng_for("merge", name)
    # A layer-normalised latent, as MTLA feeds it; weights of the hyper-network's scale.
    c = ref.layer_norm(rng.standard_normal((B, T, dc)))
    wc, wp = rng.standard_normal((dc, r)) / math.sqrt(dc), rng.standard_normal((dc, r)) / math.sqrt(dc)
    bc, bp = 0.5 * rng.standard_normal(r), 0.5 * rng.standard_normal(r)
    pos = merge_positions(name)
    args = [c, pos.astype(pdt), wc, bc, wp, bp]
    (got,) = call(mod, "merge_" + name,
                  [a if a.dtype.kind == "i" else a.astype(dtype) for a in args], [(2, dtype)])
    c, wc, bc, wp, bp = (rounded(a, dtype) for a in (c, wc, bc, wp, bp))
    chunk = ref.sinusoidal_pe(pos // s, dc) @ wc + bc
    token = c @ wp + bp
    want = ref.sigmoid(np.sum(chunk * token, axis=-1))
    check(got, want, dtype, name)
    # The chunk index, not the raw position, feeds the embedding.
    wrong = ref.sigmoid(np.sum((ref.sinusoidal_pe(pos, dc) @ wc + bc) * token, axis=-1))
    assert np.max(np.abs(wrong - want)) > 1e-3


def test_merge_weights_match_mtla_layer(dtype):
    """The op on the tiny MTLA (s = 2) layer's weights equals MTLA.merge_weights."""
    layer = ref.make_layer(ref.TINY["mtla_s2"])
    w = {k: rounded(v, dtype) for k, v in layer.w.items()}
    layer = ref.make_layer(ref.TINY["mtla_s2"], w)
    x = rounded(ref.make_input(7, 32), dtype)
    lat, _ = layer._latents(x, np.arange(7))
    mod = module_for("merge_weights", dtype, build_merge)
    # "s2" is [2, 7, 16] with r = 4: batch 0 at positions 0..6, batch 1 at 5..11.
    lat2 = np.stack([lat, lat])
    (got,) = call(mod, "merge_s2", [lat2.astype(dtype), merge_positions("s2"),
                                    w["W_hc"].astype(dtype), w["b_hc"][0].astype(dtype),
                                    w["W_hp"].astype(dtype), w["b_hp"][0].astype(dtype)],
                  [(2, dtype)])
    want = np.stack([layer.merge_weights(rounded(lat, dtype), np.arange(7)),
                     layer.merge_weights(rounded(lat, dtype), np.arange(5, 12))])
    check(got, want, dtype, "mtla_s2 merge weights")


# ---------------------------------------------------------------------------
# attn.partial_slots
# ---------------------------------------------------------------------------

# name -> (rows shape, time_stride, position starts, position dtype)
PARTIAL = {
    "s2_from0": ((2, 7, 1, 5), 2, (0, 0), np.int64),
    "s2_offset": ((2, 7, 1, 5), 2, (0, 3), np.int64),
    "s3_from0": ((1, 8, 2, 3), 3, (0,), np.int32),
    "s3_offset": ((3, 7, 6), 3, (1, 2, 7), np.int64),
    "s2_rank5": ((2, 5, 2, 3, 2), 2, (4, 1), np.int32),
}


def build_partial(dtype):
    funcs = []
    for name, (shape, s, _, pdt) in PARTIAL.items():
        t = tensor_type(shape, dtype)
        wt, pt = tensor_type(shape[:2], dtype), tensor_type(shape[:2], pdt)
        body = [f"%p = attn.partial_slots %r weights(%w : {wt}) positions(%pos : {pt}) "
                f"time_stride = {s} : {t}", f"return %p : {t}"]
        funcs.append(function("partial_" + name, [("r", t), ("w", wt), ("pos", pt)], t, body))
    return "\n".join(funcs)


def partial_reference(rows, w, pos, s):
    """Segmented inclusive prefix sum, straight from the op description."""
    out = np.zeros_like(rows)
    B, T = w.shape
    for b in range(B):
        for i in range(T):
            for j in range(i + 1):
                if pos[b, j] // s == pos[b, i] // s:
                    out[b, i] += w[b, j] * rows[b, j]
    return out


@pytest.mark.parametrize("name", list(PARTIAL))
def test_partial_slots(name, dtype):
    shape, s, st, pdt = PARTIAL[name]
    mod = module_for("partial_slots", dtype, build_partial)
    rng = rng_for("partial", name)
    rows, w = rng.standard_normal(shape), rng.uniform(0.1, 1.0, shape[:2])
    pos = np.array([[p + t for t in range(shape[1])] for p in st])
    (got,) = call(mod, "partial_" + name, [rows.astype(dtype), w.astype(dtype), pos.astype(pdt)],
                  [(len(shape), dtype)])
    want = partial_reference(rounded(rows, dtype), rounded(w, dtype), pos, s)
    check(got, want, dtype, name)


def test_partial_slots_match_mtla_layer(dtype):
    """On the tiny MTLA (s = 2) layer the op reproduces the reference's partial
    slot states, whose rows {1, 3, 5, 6} are its prefill cache."""
    layer = ref.make_layer(ref.TINY["mtla_s2"])
    x = ref.make_input(7, 32)
    lat, _ = layer._latents(x, np.arange(7))
    wts = layer.merge_weights(lat, np.arange(7))
    # The first 5 latent channels fit the compiled [2, 7, 1, 5] case.
    rows = np.stack([lat[:, :5].reshape(7, 1, 5)] * 2)
    mod = module_for("partial_slots", dtype, build_partial)
    (got,) = call(mod, "partial_s2_from0", [rows.astype(dtype), np.stack([wts, wts]).astype(dtype),
                                            np.tile(np.arange(7), (2, 1))], [(4, dtype)])
    _, cache = layer.prefill(x)
    check(got[0, [1, 3, 5, 6], 0], cache["c"][:, :5], dtype, "slot states")
    check(got[1], got[0], dtype, "batch entries")


# ---------------------------------------------------------------------------
# attn.cache_update
# ---------------------------------------------------------------------------

# name -> (cache shape, new tokens T, time_stride, merge, lengths, lengths dtype)
CACHE = {
    "append": ((3, 10, 2, 5), 4, 1, None, (0, 3, 6), np.int32),
    "append_rank3": ((2, 9, 7), 3, 1, None, (5, 1), np.int64),
    "append_one": ((4, 6, 1, 3), 1, 1, None, (0, 2, 5, 4), np.int32),
    "s2_weighted": ((3, 6, 1, 4), 5, 2, "weighted_sum", (3, 4, 0), np.int32),
    "s2_weighted_one": ((3, 4, 1, 4), 1, 2, "weighted_sum", (5, 2, 1), np.int64),
    "s3_weighted": ((4, 5, 2, 3), 4, 3, "weighted_sum", (1, 2, 6, 0), np.int32),
    "s3_weighted_rank3": ((2, 4, 5), 7, 3, "weighted_sum", (0, 4), np.int64),
    "s2_replace": ((3, 6, 4), 5, 2, "replace", (3, 4, 0), np.int32),
    "s3_replace": ((4, 5, 2, 3), 4, 3, "replace", (1, 2, 6, 0), np.int64),
    "s3_replace_one": ((2, 4, 4), 1, 3, "replace", (4, 3), np.int32),
}


def build_cache(dtype):
    funcs = []
    for name, (cshape, T, s, merge, lens, ldt) in CACHE.items():
        B = cshape[0]
        ct = tensor_type(cshape, dtype)
        rt = tensor_type((B, T) + cshape[2:], dtype)
        lt = tensor_type((B,), ldt)
        args = [("cache", ct), ("rows", rt), ("len", lt)]
        extra = ""
        if merge == "weighted_sum":
            wt = tensor_type((B, T), dtype)
            args.append(("w", wt))
            extra += f" weights(%w : {wt})"
        if s != 1:
            extra += f" time_stride = {s} merge = {merge}"
        body = [f"%c = attn.cache_update %cache, %rows lengths(%len : {lt}){extra} : {ct}, {rt}",
                f"return %c : {ct}"]
        funcs.append(function("cache_" + name, args, ct, body))
    return "\n".join(funcs)


def cache_reference(cache, rows, lengths, s, merge, w):
    """The op description: token t = lengths[b] + i goes to slot t / s; stride 1
    appends; weighted_sum writes w * row when t starts a slot and adds it
    otherwise; replace overwrites the slot."""
    out = cache.copy()
    for b in range(rows.shape[0]):
        for i in range(rows.shape[1]):
            t = int(lengths[b]) + i
            slot = t // s
            if s == 1 or merge == "replace":
                out[b, slot] = rows[b, i]
            elif t % s == 0:
                out[b, slot] = w[b, i] * rows[b, i]
            else:
                out[b, slot] = out[b, slot] + w[b, i] * rows[b, i]
    return out


@pytest.mark.parametrize("name", list(CACHE))
def test_cache_update(name, dtype):
    cshape, T, s, merge, lens, ldt = CACHE[name]
    mod = module_for("cache_update", dtype, build_cache)
    rng = rng_for("cache", name)
    B = cshape[0]
    # A cache full of old values: slots before lengths[b] / s hold real state
    # (the last one partially filled), the others garbage that must be
    # overwritten (a new slot) or left alone (beyond the update).
    cache = rng.standard_normal(cshape)
    rows = rng.standard_normal((B, T) + cshape[2:])
    w = rng.uniform(0.1, 1.0, (B, T))
    lengths = np.array(lens)
    for b in range(B):  # the caller guarantees the slots fit
        assert (lens[b] + T - 1) // s < cshape[1]
    args = [cache.astype(dtype), rows.astype(dtype), lengths.astype(ldt)]
    if merge == "weighted_sum":
        args.append(w.astype(dtype))
    (got,) = call(mod, "cache_" + name, args, [(len(cshape), dtype)])
    want = cache_reference(rounded(cache, dtype), rounded(rows, dtype), lengths, s, merge,
                           rounded(w, dtype))
    check(got, want, dtype, name)
    # Slots the update does not touch keep their bits.
    for b in range(B):
        first, last = lens[b] // s, (lens[b] + T - 1) // s
        untouched = [j for j in range(cshape[1]) if j < first or j > last]
        assert np.array_equal(got[b, untouched], cache.astype(dtype)[b, untouched]), name


# ---------------------------------------------------------------------------
# Dynamic shapes (as in examples/*.mlir: batch and tokens unknown at compile time)
# ---------------------------------------------------------------------------


def build_dynamic(dtype):
    def t(shape, dt=dtype):
        return tensor_type(shape, dt)
    N = None
    x3, x4 = t((N, N, 13)), t((N, N, 3, 7))
    p = t((N, N), np.int64)
    funcs = [
        function("linear_heads", [("x", x3), ("w", t((13, 3, 7))), ("b", t((3, 7)))], x4,
                 [f"%y = attn.linear %x, %w bias(%b : {t((3, 7))}) : {x3}, {t((13, 3, 7))} -> {x4}",
                  f"return %y : {x4}"]),
        function("linear_out", [("o", x4), ("w", t((3, 7, 9)))], t((N, N, 9)),
                 [f"%y = attn.linear %o, %w contract = 2 : {x4}, {t((3, 7, 9))} -> {t((N, N, 9))}",
                  f"return %y : {t((N, N, 9))}"]),
        function("norm_layer", [("x", x4), ("w", t((7,))), ("b", t((7,)))], x4,
                 [f"%y = attn.norm layer %x weight(%w : {t((7,))}) bias(%b : {t((7,))}) "
                  f"{{epsilon = 1.0e-05 : f64}} : {x4}", f"return %y : {x4}"]),
        function("rope_heads", [("x", t((N, N, 3, 12))), ("pos", p)], t((N, N, 3, 12)),
                 [f"%y = attn.rope {rope_text('decoupled_shared_key', 4, 'interleaved', None, ref.Yarn(4.0, 256))} "
                  f"%x positions(%pos : {p}) : {t((N, N, 3, 12))}", f"return %y : {t((N, N, 3, 12))}"]),
        function("rope_shared", [("x", t((N, N, 10))), ("pos", p)], t((N, N, 10)),
                 [f"%y = attn.rope {rope_text('q_suffix_shared_key', 4)} %x positions(%pos : {p}) "
                  f": {t((N, N, 10))}", f"return %y : {t((N, N, 10))}"]),
        function("merge", [("c", t((N, N, 16))), ("pos", p), ("wc", t((16, 4))), ("bc", t((4,))),
                           ("wp", t((16, 4))), ("bp", t((4,)))], t((N, N)),
                 [f"%w = attn.merge_weights %c positions(%pos : {p}) "
                  f"chunk(%wc, %bc : {t((16, 4))}, {t((4,))}) token(%wp, %bp : {t((16, 4))}, {t((4,))}) "
                  f"time_stride = 3 : {t((N, N, 16))} -> {t((N, N))}", f"return %w : {t((N, N))}"]),
        function("partial", [("r", t((N, N, 1, 5))), ("w", t((N, N))), ("pos", p)], t((N, N, 1, 5)),
                 [f"%y = attn.partial_slots %r weights(%w : {t((N, N))}) positions(%pos : {p}) "
                  f"time_stride = 2 : {t((N, N, 1, 5))}", f"return %y : {t((N, N, 1, 5))}"]),
        function("cache_append", [("c", t((N, N, 2, 5))), ("r", t((N, N, 2, 5))),
                                  ("len", t((N,), np.int32))], t((N, N, 2, 5)),
                 [f"%y = attn.cache_update %c, %r lengths(%len : {t((N,), np.int32)}) "
                  f": {t((N, N, 2, 5))}, {t((N, N, 2, 5))}", f"return %y : {t((N, N, 2, 5))}"]),
        function("cache_weighted", [("c", t((N, 6, 1, 4))), ("r", t((N, N, 1, 4))),
                                    ("len", t((N,), np.int64)), ("w", t((N, N)))], t((N, 6, 1, 4)),
                 [f"%y = attn.cache_update %c, %r lengths(%len : {t((N,), np.int64)}) "
                  f"weights(%w : {t((N, N))}) time_stride = 3 merge = weighted_sum "
                  f": {t((N, 6, 1, 4))}, {t((N, N, 1, 4))}", f"return %y : {t((N, 6, 1, 4))}"]),
    ]
    return "\n".join(funcs)


def dynamic_case(name, dtype, rng):
    """(args, result rank, expected) for one dynamic function on B = 3, T = 5."""
    B, T = 3, 5
    n = rng.standard_normal
    r = lambda a: rounded(a, dtype)
    pos = np.array([[s + t for t in range(T)] for s in (0, 4, 9)])
    if name == "linear_heads":
        x, w, b = n((B, T, 13)), n((13, 3, 7)), n((3, 7))
        return [x, w, b], 4, np.tensordot(r(x), r(w), 1) + r(b)
    if name == "linear_out":
        o, w = n((B, T, 3, 7)), n((3, 7, 9))
        return [o, w], 3, np.tensordot(r(o), r(w), 2)
    if name == "norm_layer":
        x, w, b = n((B, T, 3, 7)), n(7), n(7)
        return [x, w, b], 4, ref.layer_norm(r(x), 1e-5) * r(w) + r(b)
    if name == "rope_heads":
        x = n((B, T, 3, 12))
        return [x, pos], 4, ref.rope(r(x), pos[:, :, None], 4, "interleaved", 1e4, ref.Yarn(4.0, 256))
    if name == "rope_shared":
        x = n((B, T, 10))
        return [x, pos], 3, ref.rope(r(x), pos, 4, "half")
    if name == "merge":
        c, wc, wp, bc, bp = n((B, T, 16)), n((16, 4)) / 4, n((16, 4)) / 4, n(4), n(4)
        want = ref.sigmoid(np.sum((ref.sinusoidal_pe(pos // 3, 16) @ r(wc) + r(bc))
                                  * (r(c) @ r(wp) + r(bp)), axis=-1))
        return [c, pos, wc, bc, wp, bp], 2, want
    if name == "partial":
        rows, w = n((B, T, 1, 5)), rng.uniform(0.1, 1, (B, T))
        return [rows, w, pos], 4, partial_reference(r(rows), r(w), pos, 2)
    if name == "cache_append":
        cache, rows, lens = n((B, 9, 2, 5)), n((B, T, 2, 5)), np.array([0, 4, 2])
        return ([cache, rows, lens.astype(np.int32)], 4,
                cache_reference(r(cache), r(rows), lens, 1, None, None))
    if name == "cache_weighted":
        T2 = 7
        cache, rows = n((B, 6, 1, 4)), n((B, T2, 1, 4))
        lens, w = np.array([0, 4, 11]), rng.uniform(0.1, 1, (B, T2))
        return ([cache, rows, lens, w], 4,
                cache_reference(r(cache), r(rows), lens, 3, "weighted_sum", r(w)))
    raise KeyError(name)


DYNAMIC = ["linear_heads", "linear_out", "norm_layer", "rope_heads", "rope_shared", "merge",
           "partial", "cache_append", "cache_weighted"]


@pytest.mark.parametrize("name", DYNAMIC)
def test_dynamic_shapes(name, dtype):
    mod = module_for("dynamic", dtype, build_dynamic)
    args, rank, want = dynamic_case(name, dtype, rng_for("dynamic", name))
    args = [a if a.dtype.kind == "i" else a.astype(dtype) for a in args]
    (got,) = call(mod, name, args, [(rank, dtype)])
    check(got, want, dtype, name)
