"""Tests of the float64 reference (variants.md §11): generator spot values, the
invariants of §11.3 on the tiny configurations of §11.2, and the core op contract
against an oracle written here independently of attn_reference."""

import math

import numpy as np
import pytest

import attn_reference as ar

T, D = 7, 32
TOL = 1e-12


def close(a, b, tol=TOL):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    err = np.max(np.abs(a - b)) if a.size else 0.0
    assert err <= tol * max(1.0, np.max(np.abs(b))), f"max deviation {err}"


def x7():
    return ar.make_input(T, D)


def oracle(q, k, v, scale, vis):
    """Independent attention: q [B,Tq,H,d], k [B,L,H,d], v [B,L,H,dv] (one KV per
    query head already), vis [B,Tq,L] bool -> [B,Tq,H,dv]."""
    s = scale * np.einsum("bthd,bjhd->bthj", q, k)
    s = np.where(vis[:, :, None, :], s, -np.inf)
    p = np.exp(s - s.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    return np.einsum("bthj,bjhd->bthd", p, v)


def causal_vis(B, Tq, L, seq_lens=None):
    seq = [L] * B if seq_lens is None else seq_lens
    vis = np.zeros((B, Tq, L), bool)
    for b in range(B):
        for t in range(Tq):
            vis[b, t, : seq[b] - Tq + t + 1] = True
    return vis


def rand(rng, *shape):
    return rng.standard_normal(shape)


# ---------------------------------------------------------------------------
# §11.1 spot values
# ---------------------------------------------------------------------------


def test_lowbias32_spot():
    assert ar.lowbias32(1) == 1753845952
    assert ar.lowbias32(0) == 0
    arr = ar.lowbias32(np.array([0, 1, 2, 0xFFFFFFFF], dtype=np.uint64))
    assert [int(v) for v in arr] == [ar.lowbias32(i) for i in (0, 1, 2, 0xFFFFFFFF)]


def test_input_spot():
    X = ar.make_input(7, 32)
    assert X.shape == (7, 32)
    close(X[0, :4], [-1.732051, -0.317488, 1.097075, -0.596137], 1e-6)
    # unit variance, as advertised
    assert abs(X.var() - 1.0) < 0.2


def test_weight_spot():
    W = ar.make_weight(1, 32, 16)
    assert W.shape == (32, 16)
    close(W[0, :4], [-0.301431, 0.074905, -0.287953, -0.269001], 1e-6)
    assert abs(W[1, 0] - (-0.0775171)) < 1e-6


def test_rope_spot():
    close(ar.rope(np.array([1.0, 2, 3, 4]), 1), [-1.984111, 1.959901, 2.462378, 4.019800], 1e-6)


def test_pe_spot():
    close(ar.sinusoidal_pe(1, 16)[:4], [0.841471, 0.540302, 0.310984, 0.950415], 1e-6)


# ---------------------------------------------------------------------------
# RoPE, YaRN, norms
# ---------------------------------------------------------------------------


def test_rope_interleaved_value():
    c1, s1, c2, s2 = math.cos(1), math.sin(1), math.cos(0.01), math.sin(0.01)
    want = [c1 - 2 * s1, s1 + 2 * c1, 3 * c2 - 4 * s2, 3 * s2 + 4 * c2]
    close(ar.rope(np.array([1.0, 2, 3, 4]), 1, layout="interleaved"), want)


def test_rope_rotates_last_channels():
    v = np.arange(1.0, 9.0)
    r = ar.rope(v, 3, dim=4)
    close(r[:4], v[:4])
    close(r[4:], ar.rope(v[4:], 3))
    assert np.max(np.abs(r[4:] - v[4:])) > 0.1


def test_rope_half_vs_interleaved_permutation():
    d = 8
    v = np.random.default_rng(0).standard_normal(d)
    # interleaved channel 2k holds half channel k, 2k+1 holds k + d/2
    idx = np.ravel(np.column_stack([np.arange(d // 2), np.arange(d // 2) + d // 2]))
    for pos in (1, 5):
        half = ar.rope(v, pos, layout="half")
        inter = ar.rope(v[idx], pos, layout="interleaved")
        close(inter, half[idx])
        assert np.max(np.abs(ar.rope(v[idx], pos, layout="half") - half[idx])) > 1e-3


@pytest.mark.parametrize("layout", ["half", "interleaved"])
@pytest.mark.parametrize("yarn", [None, ar.Yarn(factor=40, original_seq_len=64)])
def test_rope_scores_depend_on_relative_position(layout, yarn):
    rng = np.random.default_rng(1)
    q, k = rng.standard_normal(16), rng.standard_normal(16)

    def score(pq, pk):
        return ar.rope(q, pq, layout=layout, yarn=yarn) @ ar.rope(k, pk, layout=layout, yarn=yarn)

    close(score(5, 2), score(13, 10))
    close(np.linalg.norm(ar.rope(q, 7, layout=layout, yarn=yarn)), np.linalg.norm(q))
    assert abs(score(5, 2) - score(5, 4)) > 1e-6


def test_yarn_frequencies():
    # DeepSeek-V3 shape: dim 64, base 1e4, original length 4096, betas 32 / 1 give the
    # correction range [10, 23] (floor(10.47), ceil(22.5)).
    dim, factor = 64, 40.0
    base = 1e4 ** (-np.arange(0, dim, 2) / dim)
    f = ar.rope_frequencies(dim, 1e4, ar.Yarn(factor=factor, original_seq_len=4096))
    close(f[:11], base[:11])
    close(f[23:], base[23:] / factor)
    ramp = (16 - 10) / 13
    close(f[16], base[16] / factor * ramp + base[16] * (1 - ramp))
    close(ar.rope_frequencies(dim, 1e4, ar.Yarn(factor=1.0, original_seq_len=4096)), base)


def test_yarn_softmax_multiplier():
    m = 0.1 * math.log(40) + 1
    close(ar.Yarn(40, 4096).softmax_multiplier(), m * m)
    close(ar.Yarn(40, 4096, mscale=0.707).softmax_multiplier(), (0.0707 * math.log(40) + 1) ** 2)
    cfg = ar.MLAConfig(D=32, h=4, d_c=16, d_nope=8, d_R=4, d_v=8, rope=ar.Rope(yarn=ar.Yarn(40, 4096)))
    close(cfg.scale, 12 ** -0.5 * m * m)


def test_default_softmax_scales():
    # §1.3: never derived from the absorbed width
    assert ar.GQAConfig(D=32, h_q=4, h_kv=2, d_h=8, rope_dim=4).scale == 8 ** -0.5
    assert ar.GTADaoConfig(D=32, h_q=4, h_kv=2, d_h=8, d_R=4).scale == 8 ** -0.5
    assert ar.MLAConfig(D=32, h=4, d_c=16, d_nope=8, d_R=4, d_v=6).scale == 12 ** -0.5
    assert ar.GLAConfig(D=32, h_q=4, h_c=2, d_c=8, d_h=6, d_R=4).scale == 10 ** -0.5
    assert ar.MFAConfig(D=32, h_q=4, C=16, q_lora=12).scale == 16 ** -0.5
    assert ar.GTASunConfig(D=32, n_h=4, n_q=2, n_k=1, n_c=1, d_k=6, d_l=8).scale == 8 ** -0.5
    assert ar.MTLAConfig(D=32, h=4, d_c=16, d_nope=8, d_R=4, d_v=6, s=2).scale == 12 ** -0.5
    assert ar.MLAConfig(D=32, h=4, d_c=16, d_nope=8, d_R=4, d_v=6, softmax_scale=0.25).scale == 0.25


def test_norms():
    close(ar.rms_norm(np.array([3.0, 4.0])), np.array([3.0, 4.0]) / math.sqrt(12.5 + 1e-6))
    close(ar.layer_norm(np.array([1.0, 2.0, 3.0])), np.array([-1.0, 0, 1]) / math.sqrt(2 / 3 + 1e-5))


# ---------------------------------------------------------------------------
# core_attention against the oracle
# ---------------------------------------------------------------------------


def test_core_separate_grouping_causal_seq_lens():
    rng = np.random.default_rng(2)
    B, Tq, L, h_q, h_kv, d, dv = 2, 3, 6, 6, 2, 5, 4
    q, k, v = rand(rng, B, Tq, h_q, d), rand(rng, B, L, h_kv, d), rand(rng, B, L, h_kv, dv)
    seq = [4, 6]
    got = ar.core_attention(q, kv_form="separate", keys=k, values=v, seq_lens=seq,
                            softmax_scale=0.3, mask="causal")
    rep = h_q // h_kv
    want = oracle(q, np.repeat(k, rep, axis=2), np.repeat(v, rep, axis=2), 0.3, causal_vis(B, Tq, L, seq))
    close(got, want)


def test_core_value_heads_differ_from_key_heads():
    rng = np.random.default_rng(3)
    B, L, h_q = 1, 5, 4
    q, k, v = rand(rng, B, 1, h_q, 3), rand(rng, B, L, 1, 3), rand(rng, B, L, 2, 6)
    got = ar.core_attention(q, kv_form="separate", keys=k, values=v, softmax_scale=0.5)
    want = oracle(q, np.repeat(k, 4, axis=2), np.repeat(v, 2, axis=2), 0.5, np.ones((1, 1, L), bool))
    close(got, want)


def test_core_tied_slices_and_shared_rope_key():
    rng = np.random.default_rng(4)
    B, Tq, L, h_q, h_kv, R, dR = 1, 2, 5, 4, 2, 8, 3
    rows, kr = rand(rng, B, L, h_kv, R), rand(rng, B, L, dR)
    kb, ke, vb, ve = 1, 5, 2, 8
    q = rand(rng, B, Tq, h_q, ke - kb + dR)
    got = ar.core_attention(q, kv_form="tied", rows=rows, rope_keys=kr, tie=(kb, ke, vb, ve),
                            softmax_scale=0.4, mask="causal")
    keys = np.concatenate([rows[..., kb:ke], np.repeat(kr[:, :, None], h_kv, axis=2)], axis=-1)
    want = oracle(q, np.repeat(keys, 2, axis=2), np.repeat(rows[..., vb:ve], 2, axis=2), 0.4,
                  causal_vis(B, Tq, L))
    close(got, want)


def test_core_latent_absorbed_and_unabsorbed():
    rng = np.random.default_rng(5)
    B, Tq, L, h_q, h_c, d_c, dn, dR, dv = 2, 2, 5, 4, 2, 6, 3, 2, 4
    rows, kr = rand(rng, B, L, h_c, d_c), rand(rng, B, L, dR)
    up_k, up_v = rand(rng, h_q, d_c, dn), rand(rng, h_q, d_c, dv)
    qn, qr = rand(rng, B, Tq, h_q, dn), rand(rng, B, Tq, h_q, dR)
    g = np.arange(h_q) // (h_q // h_c)
    # materialise per-head keys and values by hand
    K = np.stack([np.concatenate([rows[:, :, g[i]] @ up_k[i], kr], -1) for i in range(h_q)], axis=2)
    V = np.stack([rows[:, :, g[i]] @ up_v[i] for i in range(h_q)], axis=2)
    want = oracle(np.concatenate([qn, qr], -1), K, V, 0.7, causal_vis(B, Tq, L))
    got = ar.core_attention(np.concatenate([qn, qr], -1), kv_form="latent", rows=rows, rope_keys=kr,
                            up_k=up_k, up_v=up_v, softmax_scale=0.7)
    close(got, want)
    q_abs = np.concatenate([np.einsum("bthn,hcn->bthc", qn, up_k), qr], -1)
    got_abs = ar.core_attention(q_abs, kv_form="latent", rows=rows, rope_keys=kr, up_v=up_v,
                                absorbed=True, softmax_scale=0.7)
    close(got_abs, want)


def test_core_seq_lens_equals_truncation():
    rng = np.random.default_rng(6)
    L, h, d = 6, 2, 4
    q, k, v = rand(rng, 2, 2, h, d), rand(rng, 2, L, h, d), rand(rng, 2, L, h, d)
    seq = [3, 5]
    k[0, 3:] = 1e3  # garbage beyond the valid rows must not leak in
    v[0, 3:] = -1e3
    k[1, 5:] = 1e3
    for mask in ("none", "causal"):
        got = ar.core_attention(q, kv_form="separate", keys=k, values=v, seq_lens=seq,
                                softmax_scale=0.5, mask=mask)
        for b in range(2):
            n = seq[b]
            want = ar.core_attention(q[b:b + 1], kv_form="separate", keys=k[b:b + 1, :n],
                                     values=v[b:b + 1, :n], softmax_scale=0.5, mask=mask)
            close(got[b:b + 1], want)
    assert np.all(np.abs(got) < 10)


def test_core_stride_aware_mask():
    rng = np.random.default_rng(7)
    L, h, d = 7, 2, 4
    q, rows = rand(rng, 1, L, h, d), rand(rng, 1, L, 1, d)
    for s in (1, 2, 3):
        got = ar.core_attention(q, kv_form="tied", rows=rows, softmax_scale=0.5,
                                mask="stride_aware_causal", time_stride=s)
        # the paper's rule, 1-based: row m sees column n iff n == m or (n < m and n % s == 0)
        vis = np.array([[n == m or (n < m and n % s == 0) for n in range(1, L + 1)]
                        for m in range(1, L + 1)])
        want = oracle(q, np.repeat(rows, h, 2), np.repeat(rows, h, 2), 0.5, vis[None])
        close(got, want)


@pytest.mark.parametrize("maps", [None, ((0, 1, 0, 1), (0, 0, 1, 1))])
def test_core_gta_sun_epilogue(maps):
    rng = np.random.default_rng(8)
    B, Tq, L, n_q, n_k, n_c, n_h, dk, dl, dv = 1, 2, 5, 2, 1, 2, 4, 3, 5, 4
    q, k, c = rand(rng, B, Tq, n_q, dk), rand(rng, B, L, n_k, dk), rand(rng, B, L, n_c, dl)
    P, gate = rand(rng, n_h, dl, dv), rand(rng, B, Tq, n_h * dv)
    smap, lmap = maps if maps else ([0, 0, 1, 1], [0, 0, 1, 1])
    got = ar.core_attention(q, kv_form="separate", keys=k, values=c, num_out_heads=n_h, decoder=P,
                            gate=gate, score_map_of_head=None if maps is None else smap,
                            latent_of_head=None if maps is None else lmap, softmax_scale=0.6)
    # per-head decoded values v_{j,i} = c_{j,lat(i)} P_i, then the query-side gate
    Q = np.stack([q[:, :, smap[i]] for i in range(n_h)], axis=2)
    K = np.stack([k[:, :, smap[i] // (n_q // n_k)] for i in range(n_h)], axis=2)
    V = np.stack([c[:, :, lmap[i]] @ P[i] for i in range(n_h)], axis=2)
    want = oracle(Q, K, V, 0.6, causal_vis(B, Tq, L)) * gate.reshape(B, Tq, n_h, dv)
    close(got, want)


def test_core_mfa_kr_epilogue():
    rng = np.random.default_rng(9)
    L, h, C = 6, 3, 5
    q, k = rand(rng, 1, 2, h, C), rand(rng, 1, L, 1, C)
    alpha, N = rand(rng, C), rand(rng, C, C)
    got = ar.core_attention(q, kv_form="tied", rows=k, alpha=alpha, transform=N, softmax_scale=0.4)
    v = k + alpha * (k @ N)  # V = f(K)
    want = oracle(q, np.repeat(k, h, 2), np.repeat(v, h, 2), 0.4, causal_vis(1, 2, L))
    close(got, want)


# ---------------------------------------------------------------------------
# Layers: §11.3 invariants
# ---------------------------------------------------------------------------

EXTRA = {
    "gqa_partial_rope": ar.GQAConfig(D=32, h_q=4, h_kv=2, d_h=8, rope_dim=4, rope=ar.Rope(theta=5e5)),
    "gta_dao_1": ar.GTADaoConfig(D=32, h_q=4, h_kv=1, d_h=8, d_R=2),
    "mla_interleaved_yarn": ar.MLAConfig(D=32, h=4, d_c=16, d_nope=8, d_R=4, d_v=8, q_lora=12,
                                         rope=ar.Rope("interleaved", yarn=ar.Yarn(40, 4096))),
    "gla4_dense_q": ar.GLAConfig(D=32, h_q=4, h_c=4, d_c=8, d_h=6, d_R=4),
    "gta_sun_nonnested": ar.GTASunConfig(D=32, n_h=4, n_q=2, n_k=1, n_c=2, d_k=6, d_l=8,
                                         score_map_of_head=(0, 1, 0, 1), latent_of_head=(0, 0, 1, 1)),
    "mtla_s2_qlora_interleaved": ar.MTLAConfig(D=32, h=4, d_c=16, d_nope=8, d_R=4, d_v=8, s=2,
                                               q_lora=12, rope=ar.Rope("interleaved")),
    "mtla_s3_nobias": ar.MTLAConfig(D=32, h=4, d_c=16, d_nope=8, d_R=4, d_v=8, s=3, hyper_bias=False),
}
ALL = {**ar.TINY, **EXTRA}
LATENT = [n for n, c in ALL.items() if isinstance(c, (ar.MLAConfig, ar.GLAConfig, ar.MTLAConfig))]
NOT_MTLA = [n for n, c in ALL.items() if not isinstance(c, ar.MTLAConfig)]


@pytest.mark.parametrize("name", list(ALL))
def test_prefill_equals_decode(name):
    layer = ar.make_layer(ALL[name])
    y, _ = layer.prefill(x7())
    assert y.shape == (T, D) and np.max(np.abs(y)) > 0.1
    y_dec, cache = layer.decode(x7())
    assert cache["len"] == T
    close(y_dec, y)


@pytest.mark.parametrize("name", list(ALL))
def test_prefill_cache_continues_decode(name):
    layer = ar.make_layer(ALL[name])
    y, _ = layer.prefill(x7())
    for k in range(1, T):
        _, cache = layer.prefill(x7()[:k])
        y_rest, _ = layer.decode(x7()[k:], cache)
        close(y_rest, y[k:])


@pytest.mark.parametrize("name", LATENT)
def test_materialised_equals_absorbed(name):
    layer = ar.make_layer(ALL[name])
    y_mat, c_mat = layer.prefill(x7(), absorbed=False)
    y_abs, c_abs = layer.prefill(x7(), absorbed=True)
    close(y_abs, y_mat)
    close(c_abs["c"], c_mat["c"])
    y_dec_mat, _ = layer.decode(x7(), absorbed=False)
    close(y_dec_mat, y_mat)


def test_mfa_kr_tied_equals_materialised_value():
    layer = ar.MFA(ar.TINY["mfa_kr"])
    y, cache = layer.prefill(x7())  # V = f(K) materialised
    assert set(cache) == {"len", "k"}  # only the key is cached
    y_dec, _ = layer.decode(x7())  # tied attention + post-transform
    close(y_dec, y)
    # the transform matters: without it the result differs
    plain = ar.MFA(ar.TINY["mfa_kr"], weights={"alpha": np.zeros((1, 16))})
    assert np.max(np.abs(plain.prefill(x7())[0] - y)) > 1e-3


@pytest.mark.parametrize("name", ["gta_sun", "gta_sun_nonnested"])
def test_gta_sun_latent_equals_per_head(name):
    layer = ar.make_layer(ALL[name])
    close(layer.prefill(x7(), latent=True)[0], layer.prefill(x7(), latent=False)[0])


def test_gta_sun_tiled_decoder_matches_released_form():
    rng = np.random.default_rng(10)
    n_q, n_h, d_l, d_h = 2, 8, 4, 4  # H = 32, H / n_q = 16 = 4 d_l
    V = rand(rng, n_q, d_l, 16)
    P = ar.gta_sun_tiled_decoder(V, n_h, d_h)
    o_bar = rand(rng, n_q, d_l)
    for m in range(n_q):
        u = np.tile(o_bar[m], 4) + o_bar[m] @ V[m]  # tile_r(o) + o V_m
        per_head = np.concatenate([o_bar[m] @ P[m * 4 + l] for l in range(4)])
        close(per_head, u)


def _independent_gqa(layer, x):
    c, w = layer.cfg, layer.w
    pos = np.arange(len(x))
    q = ar.rope((x @ w["W_Q"]).reshape(T, c.h_q, c.d_h), pos[:, None])
    k = ar.rope((x @ w["W_K"]).reshape(T, c.h_kv, c.d_h), pos[:, None])
    v = (x @ w["W_V"]).reshape(T, c.h_kv, c.d_h)
    rep = c.h_q // c.h_kv
    o = oracle(q[None], np.repeat(k, rep, 1)[None], np.repeat(v, rep, 1)[None], c.d_h ** -0.5,
               causal_vis(1, T, T))[0]
    return o.reshape(T, -1) @ w["W_O"]


def test_gqa_full_heads_equals_mha_loop():
    layer = ar.GQA(ar.TINY["mha"])
    x = x7()
    w, c = layer.w, layer.cfg
    # an MHA written as a plain loop over heads, tokens and keys
    pos = np.arange(T)
    q = ar.rope((x @ w["W_Q"]).reshape(T, 4, 8), pos[:, None])
    k = ar.rope((x @ w["W_K"]).reshape(T, 4, 8), pos[:, None])
    v = (x @ w["W_V"]).reshape(T, 4, 8)
    o = np.zeros((T, 4, 8))
    for h in range(4):
        for t in range(T):
            s = [q[t, h] @ k[j, h] / math.sqrt(8) for j in range(t + 1)]
            e = [math.exp(si - max(s)) for si in s]
            o[t, h] = sum(e[j] / sum(e) * v[j, h] for j in range(t + 1))
    want = o.reshape(T, -1) @ w["W_O"]
    close(layer.prefill(x)[0], want)
    close(layer.decode(x)[0], want)
    close(_independent_gqa(layer, x), want)


@pytest.mark.parametrize("name", ["mqa", "gqa"])
def test_gqa_grouped_equals_independent(name):
    layer = ar.GQA(ar.TINY[name])
    want = _independent_gqa(layer, x7())
    close(layer.prefill(x7())[0], want)
    close(layer.decode(x7())[0], want)


def test_mqa_is_gqa_with_one_kv_head():
    # MQA: every query head attends over the same K and V
    layer = ar.GQA(ar.TINY["mqa"])
    x, w = x7(), layer.w
    pos = np.arange(T)
    q = ar.rope((x @ w["W_Q"]).reshape(T, 4, 8), pos[:, None])
    k, v = ar.rope(x @ w["W_K"], pos), x @ w["W_V"]
    s = np.einsum("thd,jd->htj", q, k) / math.sqrt(8) + np.where(np.tri(T, dtype=bool), 0, -np.inf)
    p = np.exp(s - s.max(-1, keepdims=True))
    o = np.einsum("htj,jd->thd", p / p.sum(-1, keepdims=True), v)
    close(layer.prefill(x)[0], o.reshape(T, -1) @ w["W_O"])


def test_gla_one_latent_head_equals_mla():
    gla = ar.GLA(ar.GLAConfig(D=32, h_q=4, h_c=1, d_c=16, d_h=8, d_R=4, q_lora=12))
    mla = ar.MLA(ar.MLAConfig(D=32, h=4, d_c=16, d_nope=8, d_R=4, d_v=8, q_lora=12))
    # same tids, same shapes: the two layers hold the same matrices
    assert [s for _, _, s in gla.weight_order] == [s for _, _, s in mla.weight_order]
    y_mla = mla.prefill(x7())[0]
    close(gla.prefill(x7())[0], y_mla)
    close(gla.decode(x7())[0], y_mla)


@pytest.mark.parametrize("name", NOT_MTLA)
def test_speculative_step_equals_two_steps(name):
    layer = ar.make_layer(ALL[name])
    x = x7()
    _, cache = layer.prefill(x[:3])
    y2, c2 = layer.step(x[3:5], cache)
    ya, ca = layer.step(x[3:4], cache)
    yb, cb = layer.step(x[4:5], ca)
    close(y2, np.concatenate([ya, yb]))
    close(y2, layer.prefill(x[:5])[0][3:5])
    assert c2["len"] == cb["len"] == 5


@pytest.mark.parametrize("s,slots", [(1, 7), (2, 4), (3, 3)])
def test_mtla_prefill_slots(s, slots):
    layer = ar.MTLA(ar.TINY[f"mtla_s{s}"])
    x = x7()
    _, cache = layer.prefill(x)
    assert len(cache["c"]) == len(cache["kr"]) == slots == math.ceil(T / s)
    # slot k: weighted sum of its tokens, rope key of its last token
    pos = np.arange(T)
    lat, kr = layer._latents(x, pos)
    w = layer.merge_weights(lat, pos)
    for k in range(slots):
        toks = range(k * s, min((k + 1) * s, T))
        close(cache["c"][k], sum(w[j] * lat[j] for j in toks))
        close(cache["kr"][k], kr[toks[-1]])
    # decoding from scratch builds the same slots
    _, dec = layer.decode(x)
    close(dec["c"], cache["c"])
    close(dec["kr"], cache["kr"])


def test_mtla_merge_weights_formula():
    layer = ar.MTLA(ar.TINY["mtla_s2"])
    w = layer.w
    lat = ar.layer_norm(x7() @ w["wkv_a"][:, :16])
    for j in (0, 3, 6):
        pe = np.array([f(j // 2 * 10000.0 ** (-(i - i % 2) / 16)) for i, f in
                       zip(range(16), [math.sin, math.cos] * 8)])
        want = 1 / (1 + math.exp(-((pe @ w["W_hc"] + w["b_hc"][0]) @ (lat[j] @ w["W_hp"] + w["b_hp"][0]))))
        close(layer.merge_weights(lat[j:j + 1], [j])[0], want)


def test_mtla_speculative_is_undefined():
    layer = ar.MTLA(ar.TINY["mtla_s2"])
    _, cache = layer.prefill(x7()[:3])
    with pytest.raises(NotImplementedError):
        layer.step(x7()[3:5], cache)


def test_rope_layout_is_a_weight_permutation():
    cfg = ar.MLAConfig(D=32, h=4, d_c=16, d_nope=8, d_R=4, d_v=8)
    half = ar.MLA(cfg)
    idx = np.array([0, 2, 1, 3])  # interleaved channel p holds half channel idx[p]
    wq, wkv_a = half.w["wq"].copy(), half.w["wkv_a"].copy()
    for i in range(4):
        base = i * 12 + 8
        wq[:, base:base + 4] = half.w["wq"][:, base + idx]
    wkv_a[:, 16:] = half.w["wkv_a"][:, 16 + idx]
    inter_cfg = ar.MLAConfig(D=32, h=4, d_c=16, d_nope=8, d_R=4, d_v=8, rope=ar.Rope("interleaved"))
    inter = ar.MLA(inter_cfg, weights={"wq": wq, "wkv_a": wkv_a})
    y = half.prefill(x7())[0]
    close(inter.prefill(x7())[0], y)
    close(inter.decode(x7())[0], y)
    # without permuting the weights, the layouts disagree
    assert np.max(np.abs(ar.MLA(inter_cfg).prefill(x7())[0] - y)) > 1e-6


# ---------------------------------------------------------------------------
# Weight creation order (the compiler's tests replicate it)
# ---------------------------------------------------------------------------

ORDER = {
    "mha": ["W_Q", "W_K", "W_V", "W_O"],
    "gta_dao": ["W_Q", "W_KV", "W_KR", "W_O"],
    "mla": ["wq", "wkv_a", "wkv_b", "wo"],
    "mla_qlora": ["wq_a", "wq_b", "wkv_a", "wkv_b", "wo"],
    "gla2": ["W_dQ", "W_uQ", "W_dKV", "W_ukv_0", "W_ukv_1", "W_O"],
    "mfa": ["W_qa", "W_qb", "W_k", "W_v", "W_o"],
    "mfa_kr": ["W_qa", "W_qb", "W_k", "alpha", "N", "W_o"],
    "gta_sun": ["W_q", "W_k", "W_v", "P", "W_g", "W_o"],
    "mtla_s2": ["wq", "wkv_a", "wkv_b", "wo", "W_hc", "b_hc", "W_hp", "b_hp"],
    "mtla_s3_nobias": ["wq", "wkv_a", "wkv_b", "wo", "W_hc", "W_hp"],
}


@pytest.mark.parametrize("name", list(ORDER))
def test_weight_order(name):
    layer = ar.make_layer(ALL[name])
    assert [n for _, n, _ in layer.weight_order] == ORDER[name]
    for i, (tid, n, (rows, cols)) in enumerate(layer.weight_order):
        assert tid == i + 1
        close(layer.w[n], ar.make_weight(tid, rows, cols))


def test_weight_shapes_mla_qlora():
    layer = ar.MLA(ar.TINY["mla_qlora"])
    assert [s for _, _, s in layer.weight_order] == [(32, 12), (12, 48), (32, 20), (16, 64), (32, 32)]


# ---------------------------------------------------------------------------
# Cache size and arithmetic intensity (§1.5, §9, §11.4)
# ---------------------------------------------------------------------------

V3 = ar.MLAConfig(D=7168, h=128, d_c=512, d_nope=128, d_R=64, d_v=128, q_lora=1536)


@pytest.mark.parametrize("cfg,elements", [
    (ar.GQAConfig(D=4096, h_q=32, h_kv=32, d_h=128), 8192),
    (ar.GQAConfig(D=4096, h_q=32, h_kv=8, d_h=128), 2048),
    (ar.GQAConfig(D=4096, h_q=32, h_kv=1, d_h=128), 256),
    (ar.GTADaoConfig(D=2048, h_q=16, h_kv=4, d_h=128, d_R=64), 576),
    (ar.GTADaoConfig(D=4096, h_q=32, h_kv=8, d_h=128, d_R=64), 1088),
    (V3, 576),
    (ar.GLAConfig(D=7168, h_q=128, h_c=2, d_c=256, d_h=128, d_R=64), 576),
    (ar.GLAConfig(D=7168, h_q=128, h_c=8, d_c=256, d_h=128, d_R=64), 2112),
    (ar.MFAConfig(D=7168, h_q=64, C=256, q_lora=2048), 512),
    (ar.MFAConfig(D=7168, h_q=64, C=256, q_lora=2048, key_reuse=True), 256),
    (ar.GTASunConfig(D=1280, n_h=20, n_q=5, n_k=1, n_c=1, d_k=64, d_l=128), 192),
    (ar.MTLAConfig(D=512, h=8, d_c=256, d_nope=64, d_R=32, d_v=64, s=2), 144),
    (ar.MTLAConfig(D=512, h=8, d_c=256, d_nope=64, d_R=32, d_v=64, s=3), 96),
])
def test_cache_elements(cfg, elements):
    assert ar.cache_elements_per_token(cfg) == elements
    assert ar.decode_cost(cfg, 4096)["cache_elements_per_token"] == elements


def test_decode_ai_limits():
    def lim(cfg):
        return ar.decode_cost(cfg, 1 << 20)["arithmetic_intensity_limit"]

    close(lim(V3), 128 * 2176 / 1152)  # FlashMLA: 1.89 h_q, about 242
    assert abs(lim(V3) - 242) < 0.5
    assert lim(ar.GQAConfig(D=4096, h_q=32, h_kv=8, d_h=128)) == 4
    assert lim(ar.MFAConfig(D=7168, h_q=64, C=256, q_lora=2048)) == 64
    assert lim(ar.MFAConfig(D=7168, h_q=64, C=256, q_lora=2048, key_reuse=True)) == 128
    assert lim(ar.GTASunConfig(D=1280, n_h=20, n_q=5, n_k=1, n_c=1, d_k=64, d_l=128)) == 5
    assert lim(ar.GLAConfig(D=7168, h_q=128, h_c=2, d_c=256, d_h=128, d_R=64)) == 128
    mtla = ar.MTLAConfig(D=512, h=8, d_c=256, d_nope=64, d_R=32, d_v=64, s=2)
    close(lim(mtla), 8 * (2 * 288 + 2 * 256) / (2 * 288))
    assert ar.decode_cost(mtla, 4096)["cache_rows"] == 2048
    assert ar.decode_cost(mtla, 7)["cache_rows"] == 4
    # MTLA's per-token intensity is MLA's; its work is 1/s of it
    mla_like = ar.MLAConfig(D=512, h=8, d_c=256, d_nope=64, d_R=32, d_v=64)
    assert ar.decode_cost(mla_like, 4096)["flops"] == 2 * ar.decode_cost(mtla, 4096)["flops"]
    # L_q = 2 doubles the intensity (FlashMLA: about 2 h_q s_q)
    close(ar.decode_cost(V3, 1 << 20, L_q=2)["arithmetic_intensity_limit"], 2 * lim(V3))


@pytest.mark.parametrize("L", [1, 64, 4096])
def test_decode_ai_matches_dao_exact_form(L):
    h, d = 32, 128
    cases = [  # (config, g_q, m_kv), rope-free so that only the tied / latent state counts
        (ar.GQAConfig(D=4096, h_q=h, h_kv=h, d_h=d), 1, 2),
        (ar.GQAConfig(D=4096, h_q=h, h_kv=1, d_h=d), h, 2),
        (ar.GQAConfig(D=4096, h_q=h, h_kv=8, d_h=d), 4, 2),
        (ar.GTADaoConfig(D=4096, h_q=h, h_kv=8, d_h=d, d_R=0), 4, 1),
        (ar.MLAConfig(D=4096, h=h, d_c=512, d_nope=d, d_R=0, d_v=d), h, 1),
        (ar.GLAConfig(D=4096, h_q=h, h_c=2, d_c=256, d_h=d, d_R=0), h // 2, 1),
    ]
    for cfg, g_q, m_kv in cases:
        close(ar.decode_cost(cfg, L)["arithmetic_intensity"], ar.dao_arithmetic_intensity(L, h, g_q, m_kv))
    # the table's closed forms
    close(ar.dao_arithmetic_intensity(L, h, 1, 2), L / (1 + L))
    close(ar.dao_arithmetic_intensity(L, h, h, 2), L * h / (h + L))
    close(ar.dao_arithmetic_intensity(L, h, h, 1), L / (1 + L / (2 * h)))


# ---------------------------------------------------------------------------
# Each layer against its section's equations, written here independently
# (vectorised over heads) so that errors in the shared projections show up
# ---------------------------------------------------------------------------


def rms(a):
    return a / np.sqrt(np.mean(a * a, -1, keepdims=True) + 1e-6)


def ln(a):
    mu = a.mean(-1, keepdims=True)
    return (a - mu) / np.sqrt(((a - mu) ** 2).mean(-1, keepdims=True) + 1e-5)


def attend_all(q, k, v, scale, vis=None):
    """q [T,H,d], k [T,H,d], v [T,H,dv]: causal (or vis [T,T]) attention of one sequence."""
    vis = causal_vis(1, len(q), len(k)) if vis is None else vis[None]
    return oracle(q[None], k[None], v[None], scale, vis)[0]


POS = np.arange(T)


def test_gta_dao_matches_spec():
    layer = ar.GTADao(ar.TINY["gta_dao"])
    x, w = x7(), layer.w
    q = (x @ w["W_Q"]).reshape(T, 4, 8)
    q = np.concatenate([q[..., :4], ar.rope(q[..., 4:], POS[:, None])], -1)  # rotary part = last d_R
    KV = (x @ w["W_KV"]).reshape(T, 2, 8)
    kR = ar.rope(x @ w["W_KR"], POS)
    K = np.concatenate([KV[..., :4], np.repeat(kR[:, None], 2, 1)], -1)
    o = attend_all(q, np.repeat(K, 2, 1), np.repeat(KV, 2, 1), 8 ** -0.5)
    close(layer.prefill(x)[0], o.reshape(T, -1) @ w["W_O"])


@pytest.mark.parametrize("name", ["mla", "mla_qlora"])
def test_mla_matches_spec(name):
    layer = ar.MLA(ar.TINY[name])
    x, w = x7(), layer.w
    cq = rms(x @ w["wq_a"]) @ w["wq_b"] if "wq_a" in w else x @ w["wq"]
    q = cq.reshape(T, 4, 12)
    q = np.concatenate([q[..., :8], ar.rope(q[..., 8:], POS[:, None])], -1)
    a = x @ w["wkv_a"]
    c, kR = rms(a[:, :16]), ar.rope(a[:, 16:], POS)
    kv = (c @ w["wkv_b"]).reshape(T, 4, 16)  # head i: [k_nope | v]
    K = np.concatenate([kv[..., :8], np.repeat(kR[:, None], 4, 1)], -1)
    o = attend_all(q, K, kv[..., 8:], 12 ** -0.5)
    close(layer.prefill(x)[0], o.reshape(T, -1) @ w["wo"])


def test_gla2_matches_spec():
    layer = ar.GLA(ar.TINY["gla2"])
    x, w = x7(), layer.w
    q = (rms(x @ w["W_dQ"]) @ w["W_uQ"]).reshape(T, 4, 12)
    q = np.concatenate([q[..., :8], ar.rope(q[..., 8:], POS[:, None])], -1)
    a = x @ w["W_dKV"]
    kR = ar.rope(a[:, 16:], POS)
    # latent head g serves query heads 2g, 2g+1; per local head an interleaved [k_nope | v] block
    kv = np.concatenate([(rms(a[:, 8 * g:8 * g + 8]) @ w[f"W_ukv_{g}"]).reshape(T, 2, 16)
                         for g in range(2)], axis=1)
    K = np.concatenate([kv[..., :8], np.repeat(kR[:, None], 4, 1)], -1)
    o = attend_all(q, K, kv[..., 8:], 12 ** -0.5)
    close(layer.prefill(x)[0], o.reshape(T, -1) @ w["W_O"])


@pytest.mark.parametrize("name", ["mfa", "mfa_kr"])
def test_mfa_matches_spec(name):
    layer = ar.MFA(ar.TINY[name])
    x, w = x7(), layer.w
    q = ar.rope((rms(x @ w["W_qa"]) @ w["W_qb"]).reshape(T, 4, 16), POS[:, None])
    k = ar.rope(x @ w["W_k"], POS)
    v = k + w["alpha"][0] * (k @ w["N"]) if name == "mfa_kr" else x @ w["W_v"]
    o = attend_all(q, np.repeat(k[:, None], 4, 1), np.repeat(v[:, None], 4, 1), 16 ** -0.5)
    want = o.reshape(T, -1) @ w["W_o"]
    close(layer.prefill(x)[0], want)
    close(layer.decode(x)[0], want)


def test_gta_sun_matches_spec():
    # §7.3 as written: latent aggregation per map, u_m = o_m P_m, y = (sigm(x W_g) * u) W_o
    layer = ar.GTASun(ar.TINY["gta_sun"])
    x, w = x7(), layer.w
    q = ar.rope((x @ w["W_q"]).reshape(T, 2, 8), POS[:, None])
    k = ar.rope(x @ w["W_k"], POS)
    c = x @ w["W_v"]
    o = attend_all(q, np.repeat(k[:, None], 2, 1), np.repeat(c[:, None], 2, 1), 8 ** -0.5)
    u = np.concatenate([o[:, m] @ w["P"][:, 16 * m:16 * (m + 1)] for m in range(2)], axis=1)
    want = (1 / (1 + np.exp(-(x @ w["W_g"]))) * u) @ w["W_o"]
    close(layer.prefill(x)[0], want)
    close(layer.decode(x)[0], want)


@pytest.mark.parametrize("name", ["mtla_s1", "mtla_s2", "mtla_s3", "mtla_s2_qlora_interleaved"])
def test_mtla_matches_spec(name):
    cfg = ALL[name]
    layer = ar.MTLA(cfg)
    x, w, s = x7(), layer.w, cfg.s
    cq = ln(x @ w["wq_a"]) @ w["wq_b"] if cfg.q_lora else x @ w["wq"]
    q = cq.reshape(T, 4, 12)
    q = np.concatenate([q[..., :8], ar.rope(q[..., 8:], POS[:, None], layout=cfg.rope.layout)], -1)
    a = x @ w["wkv_a"]
    c, kR = ln(a[:, :16]), ar.rope(a[:, 16:], POS, layout=cfg.rope.layout)
    kappa = (POS // s)[:, None]
    pe = np.where(np.arange(16) % 2 == 0, np.sin(kappa * 1e4 ** (-(np.arange(16) // 2 * 2) / 16)),
                  np.cos(kappa * 1e4 ** (-(np.arange(16) // 2 * 2) / 16)))
    wts = 1 / (1 + np.exp(-np.sum((pe @ w["W_hc"] + w["b_hc"]) * (c @ w["W_hp"] + w["b_hp"]), -1)))
    # the reference code's form: partial states (W * ChunkMask) @ C
    i_, j_ = POS[:, None], POS[None, :]
    chunk_mask = (i_ // s == j_ // s) & (j_ <= i_)
    part = (chunk_mask * wts[None, :]) @ c
    vis = (j_ == i_) | ((j_ < i_) & ((j_ + 1) % s == 0))
    kv = (part @ w["wkv_b"]).reshape(T, 4, 16)
    K = np.concatenate([kv[..., :8], np.repeat(kR[:, None], 4, 1)], -1)
    o = attend_all(q, K, kv[..., 8:], 12 ** -0.5, vis)
    want = o.reshape(T, -1) @ w["wo"]
    close(layer.prefill(x)[0], want)
    close(layer.decode(x)[0], want)
