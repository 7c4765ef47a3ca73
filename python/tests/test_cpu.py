"""compile(..., target="cpu"): attention and whole layers run on numpy arrays,
checked against the float64 reference (reference/attn_reference.py) and the
prefill = step-by-step decode invariant, with the caller's weights and
caches."""
import os
import sys

import numpy as np
import pytest

import attn

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "reference"))
import attn_reference as ref  # noqa: E402

RNG = np.random.default_rng(7)


def randn(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("hq, hkv, d", [(8, 2, 16), (4, 4, 8), (6, 1, 32)])
def test_decode_step_matches_reference(hq, hkv, d):
    v = attn.GQA(hq, hkv, d)
    step = attn.compile(v, target="cpu", dtype="f32")["gqa"]
    B, L = 3, 29
    q, k, val = randn(B, 1, hq, d), randn(B, L, hkv, d), randn(B, L, hkv, d)
    lens = np.array([L, 11, 1], np.int32)
    got = step(q, k, val, lens)
    want = ref.core_attention(q.astype(np.float64), kv_form="separate",
                              softmax_scale=v.fields["softmax_scale"], keys=k.astype(np.float64),
                              values=val.astype(np.float64), seq_lens=lens)
    assert got.shape == (B, 1, hq, d) and np.isfinite(got).all()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_absorbed_mla_step_matches_reference():
    v = attn.MLA(num_q_heads=4, latent_dim=32, rope_dim=8, qk_nope_dim=16, v_head_dim=16)
    step = attn.compile(v, target="cpu", dtype="f32")["mla"]
    B, L = 2, 13
    q, rows, kr = randn(B, 1, 4, 40), randn(B, L, 1, 32), randn(B, L, 8)
    up_v, lens = randn(4, 32, 16), np.array([L, 5], np.int32)
    got = step(q, rows, kr, up_v, lens)
    f64 = lambda a: a.astype(np.float64)  # noqa: E731
    want = ref.core_attention(f64(q), kv_form="latent", softmax_scale=v.fields["softmax_scale"],
                              rows=f64(rows), rope_keys=f64(kr), up_v=f64(up_v), absorbed=True,
                              seq_lens=lens)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


# A GQA layer at small sizes: prefill writes the cache, decode appends one
# token and attends over it. The caller owns weights and caches.
LAYER = """
#gqa = #attn.variant<kv_form = separate, num_q_heads = 4, num_kv_heads = 2,
                     qk_head_dim = 8, v_head_dim = 8,
                     rope = #attn.rope<placement = full_head, dim = 8>, softmax_scale = 0.35>
#rope = #attn.rope<placement = full_head, dim = 8>
func.func @prefill(%x: tensor<?x?x32xf32>, %pos: tensor<?x?xi64>,
                   %kc: tensor<?x16x2x8xf32>, %vc: tensor<?x16x2x8xf32>, %len: tensor<?xi32>,
                   %wq: tensor<32x4x8xf32>, %wk: tensor<32x2x8xf32>, %wv: tensor<32x2x8xf32>,
                   %wo: tensor<4x8x32xf32>)
    -> (tensor<?x?x32xf32>, tensor<?x16x2x8xf32>, tensor<?x16x2x8xf32>) {
  %q0 = attn.linear %x, %wq : tensor<?x?x32xf32>, tensor<32x4x8xf32> -> tensor<?x?x4x8xf32>
  %k0 = attn.linear %x, %wk : tensor<?x?x32xf32>, tensor<32x2x8xf32> -> tensor<?x?x2x8xf32>
  %v = attn.linear %x, %wv : tensor<?x?x32xf32>, tensor<32x2x8xf32> -> tensor<?x?x2x8xf32>
  %q = attn.rope #rope %q0 positions(%pos : tensor<?x?xi64>) : tensor<?x?x4x8xf32>
  %k = attn.rope #rope %k0 positions(%pos : tensor<?x?xi64>) : tensor<?x?x2x8xf32>
  %kc2 = attn.cache_update %kc, %k lengths(%len : tensor<?xi32>) : tensor<?x16x2x8xf32>, tensor<?x?x2x8xf32>
  %vc2 = attn.cache_update %vc, %v lengths(%len : tensor<?xi32>) : tensor<?x16x2x8xf32>, tensor<?x?x2x8xf32>
  %o = attn.attention #gqa query(%q : tensor<?x?x4x8xf32>) keys(%k : tensor<?x?x2x8xf32>)
         values(%v : tensor<?x?x2x8xf32>) -> tensor<?x?x4x8xf32>
  %y = attn.linear %o, %wo contract = 2 : tensor<?x?x4x8xf32>, tensor<4x8x32xf32> -> tensor<?x?x32xf32>
  return %y, %kc2, %vc2 : tensor<?x?x32xf32>, tensor<?x16x2x8xf32>, tensor<?x16x2x8xf32>
}
func.func @decode(%x: tensor<?x1x32xf32>, %pos: tensor<?x1xi64>,
                  %kc: tensor<?x16x2x8xf32>, %vc: tensor<?x16x2x8xf32>,
                  %len: tensor<?xi32>, %valid: tensor<?xi32>,
                  %wq: tensor<32x4x8xf32>, %wk: tensor<32x2x8xf32>, %wv: tensor<32x2x8xf32>,
                  %wo: tensor<4x8x32xf32>)
    -> (tensor<?x1x32xf32>, tensor<?x16x2x8xf32>, tensor<?x16x2x8xf32>) {
  %q0 = attn.linear %x, %wq : tensor<?x1x32xf32>, tensor<32x4x8xf32> -> tensor<?x1x4x8xf32>
  %k0 = attn.linear %x, %wk : tensor<?x1x32xf32>, tensor<32x2x8xf32> -> tensor<?x1x2x8xf32>
  %v = attn.linear %x, %wv : tensor<?x1x32xf32>, tensor<32x2x8xf32> -> tensor<?x1x2x8xf32>
  %q = attn.rope #rope %q0 positions(%pos : tensor<?x1xi64>) : tensor<?x1x4x8xf32>
  %k = attn.rope #rope %k0 positions(%pos : tensor<?x1xi64>) : tensor<?x1x2x8xf32>
  %kc2 = attn.cache_update %kc, %k lengths(%len : tensor<?xi32>) : tensor<?x16x2x8xf32>, tensor<?x1x2x8xf32>
  %vc2 = attn.cache_update %vc, %v lengths(%len : tensor<?xi32>) : tensor<?x16x2x8xf32>, tensor<?x1x2x8xf32>
  %o = attn.attention #gqa query(%q : tensor<?x1x4x8xf32>) keys(%kc2 : tensor<?x16x2x8xf32>)
         values(%vc2 : tensor<?x16x2x8xf32>) seq_lens(%valid : tensor<?xi32>) -> tensor<?x1x4x8xf32>
  %y = attn.linear %o, %wo contract = 2 : tensor<?x1x4x8xf32>, tensor<4x8x32xf32> -> tensor<?x1x32xf32>
  return %y, %kc2, %vc2 : tensor<?x1x32xf32>, tensor<?x16x2x8xf32>, tensor<?x16x2x8xf32>
}
"""


def test_layer_prefill_then_decode_equals_longer_prefill():
    layer = attn.compile(LAYER, target="cpu")
    w = dict(wq=randn(32, 4, 8), wk=randn(32, 2, 8), wv=randn(32, 2, 8), wo=randn(4, 8, 32))
    B, T = 2, 6
    x = randn(B, T, 32)
    pos = np.tile(np.arange(T, dtype=np.int64), (B, 1))
    poison = lambda: np.full((B, 16, 2, 8), np.nan, np.float32)  # noqa: E731
    zero_len = np.zeros(B, np.int32)
    y_full, _, _ = layer.prefill(x, pos, poison(), poison(), zero_len, *w.values())

    y_head, kc, vc = layer.prefill(x[:, :T - 1], pos[:, :T - 1], poison(), poison(), zero_len,
                                   *w.values())
    assert np.isfinite(kc[:, :T - 1]).all() and np.isnan(kc[:, T - 1:]).all()
    lens = np.full(B, T - 1, np.int32)
    kc_before = kc.copy()
    y_last, kc2, vc = layer.decode(x[:, T - 1:], pos[:, T - 1:], kc, vc, lens, lens + 1,
                                   *w.values())
    assert np.array_equal(kc, kc_before, equal_nan=True)  # the caller's cache is untouched
    kc = kc2
    assert np.isfinite(kc[:, :T]).all()
    np.testing.assert_allclose(y_head, y_full[:, :T - 1], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(y_last, y_full[:, T - 1:], rtol=1e-4, atol=1e-5)


def test_cpu_errors():
    with pytest.raises(attn.AttnError, match="takes 4 arrays"):
        attn.compile(attn.MHA(2, 8), target="cpu", dtype="f32")["mha"](np.zeros(1))
    with pytest.raises(attn.AttnError, match="compilation for the CPU failed"):
        attn.compile("func.func @f( {", target="cpu")


def test_bf16_example_layer_runs():
    """examples/gqa.mlir as written (bf16, d_model 4096): one decode step with
    float32 arrays in and out, against the f32 run of the same function."""
    text = open(os.path.join(os.path.dirname(__file__), "..", "..", "examples", "gqa.mlir")).read()
    bf16 = attn.compile(text, target="cpu")["gqa_decode"]
    f32 = attn.compile(text.replace("bf16", "f32"), target="cpu")["gqa_decode"]
    B, L = 2, 9
    q, k, val = randn(B, 1, 32, 128), randn(B, L, 8, 128), randn(B, L, 8, 128)
    lens = np.array([L, 4], np.int32)
    got = bf16(q, k, val, lens)
    assert got.dtype == np.float32 and np.isfinite(got).all()
    want = f32(q, k, val, lens)
    assert np.abs(got - want).max() / np.abs(want).max() < 2e-2


def _weights(v, D):
    """Random weights in the order and shapes layer_mlir's functions take."""
    text = v.layer_mlir(d_model=D, capacity=12, dtype="f32")
    sig = text.split("@" + v.name + "_prefill(")[1].split(")")[0]
    shapes = []
    for arg in sig.split(", "):
        name, ty = arg.split(": ")
        if name[1] in "wb" or name in ("%uk", "%uv", "%dec", "%alpha", "%tr"):
            shapes.append(tuple(int(x) for x in ty[len("tensor<"):-1].split("x")[:-1]))
    return text, [randn(*s) * s[0] ** -0.5 if len(s) > 1 else randn(*s) * 0.1 for s in shapes]


@pytest.mark.parametrize("make", [
    lambda: attn.GQA(4, 2, 8), lambda: attn.MHA(2, 16), lambda: attn.MQA(4, 8),
    lambda: attn.GTA(4, 2, 16, rope_dim=8),
    lambda: attn.MLA(4, latent_dim=16, rope_dim=8, qk_nope_dim=8, v_head_dim=8),
    lambda: attn.GLA(4, num_latent_heads=2, latent_dim=16, rope_dim=8, qk_nope_dim=8,
                     v_head_dim=8),
    lambda: attn.MFA_KR(4, 16), lambda: attn.GTASun(2, 4, 8, 16),
], ids=["gqa", "mha", "mqa", "gta", "mla", "gla", "mfa_kr", "gta_sun"])
def test_variant_layer_prefill_then_decode(make):
    """A layer from the declaration alone: prefill T-1 tokens, decode the
    last, equal to a prefill of all T, with the caller's weights; the
    caches hold exactly the rows written."""
    v = make()
    D, C = 24, 12
    text, w = _weights(v, D)
    layer = attn.compile(text, target="cpu")
    prefill, decode = layer[f"{v.name}_prefill"], layer[f"{v.name}_decode"]
    B, T = 2, 5
    x, pos = randn(B, T, D), np.tile(np.arange(T, dtype=np.int64), (B, 1))
    # Poisoned caches: rows a step must not touch stay NaN.
    caches = lambda: [np.full((B, C) + tuple(int(d) for d in ty.split("x")[2:-1]),  # noqa: E731
                              np.nan, np.float32) for ty in _cache_types(text, v.name)]
    zero = np.zeros(B, np.int32)
    y_full = prefill(x, pos, *caches(), zero, *w)[0]
    _, *cs = prefill(x[:, :-1], pos[:, :-1], *caches(), zero, *w)
    lens = np.full(B, T - 1, np.int32)
    y_last, *cs = decode(x[:, -1:], pos[:, -1:], *cs, lens, lens + 1, *w)
    np.testing.assert_allclose(y_last, y_full[:, -1:], rtol=1e-4, atol=1e-5)
    for c in cs:
        assert np.isfinite(c[:, :T]).all() and np.isnan(c[:, T:]).all()


def _cache_types(text, name):
    """The cache argument types of `<name>_prefill` (after %x and %pos)."""
    sig = text.split("@" + name + "_prefill(")[1].split(")")[0].split(", ")
    return [a.split(": ")[1] for a in sig[2:] if a.split(": ")[0] in
            ("%kc", "%vc", "%rc", "%krc")]


@pytest.mark.parametrize("T", [5, 6])
def test_mtla_layer_prefill_then_decode(T):
    """MTLA s=2: the decode step either opens a slot (T odd) or completes
    the half-filled last one (T even); either way it equals the prefill's
    view of the last token, and only the slots in use are written."""
    v = attn.MTLA(4, time_stride=2, latent_dim=16, rope_dim=8, qk_nope_dim=8, v_head_dim=8)
    D, C, B = 24, 6, 2
    text, w = _weights(v, D)
    layer = attn.compile(text.replace("x12x", f"x{C}x"), target="cpu")
    prefill, decode = layer["mtla_prefill"], layer["mtla_decode"]
    x, pos = randn(B, T, D), np.tile(np.arange(T, dtype=np.int64), (B, 1))
    caches = lambda: [np.full((B, C, 1, 16), np.nan, np.float32),  # noqa: E731
                      np.full((B, C, 8), np.nan, np.float32)]
    zero = np.zeros(B, np.int32)
    y_full = prefill(x, pos, *caches(), zero, *w)[0]
    _, *cs = prefill(x[:, :-1], pos[:, :-1], *caches(), zero, *w)
    lens = np.full(B, T - 1, np.int32)
    slots = np.full(B, (T + 1) // 2, np.int32)
    y_last, *cs = decode(x[:, -1:], pos[:, -1:], *cs, lens, slots, *w)
    np.testing.assert_allclose(y_last, y_full[:, -1:], rtol=1e-4, atol=1e-5)
    for c in cs:
        n = (T + 1) // 2
        assert np.isfinite(c[:, :n]).all() and np.isnan(c[:, n:]).all()

