"""Float64 reference implementation of the attention variants of variants.md.

This is the oracle that the compiler's numerical tests compare against. It is
written straight from variants.md (sections 1-8 for the maths, 10.3 for the
canonical decode forms, 11 for the test data) and prefers obviously-right loops
to speed. Only numpy is used.

Conventions (variants.md §1 and §11.1):

* Row-vector weights: ``y = x @ W`` with ``W`` shaped ``[in, out]``.
* Head ``h`` of a projection owns columns ``[h*w, (h+1)*w)``; inside a head the
  non-rotary part comes first and the rotary part last.
* Query head ``i`` reads KV / tied / latent head ``i // (h_q // h_kv)``.
* RoPE rotates the LAST ``d_R`` channels of a vector; the position of a token
  is its index 0, 1, 2, ... in the sequence.
* No biases, except the optional ones of MTLA's merge-weight hyper-network.
* RMSNorm has no weight (eps 1e-6); LayerNorm has no affine part (eps 1e-5).

Each variant is a layer class built from a frozen config dataclass. A layer
creates its weights with ``make_weight``, tid = 1, 2, 3, ... in the order that
its docstring lists (also available at run time as ``layer.weight_order``), and
offers, for one sequence ``x`` of shape ``[T, D]``:

* ``prefill(x)`` -> ``(y [T, D], cache)``: causal attention over the T tokens,
  written in the paper's form (keys and values materialised per head);
* ``step(x_new, cache)`` -> ``(y_new, cache)``: one decode step for
  ``L_q = len(x_new)`` new tokens, in the canonical form of §10.3, through
  ``core_attention`` (the semantics of the compiler's ``attn.attention`` op);
* ``decode(x, cache=None)`` -> ``(y, cache)``: ``step`` one token at a time.

Caches are dicts ``{"len": tokens seen, name: array [rows, ...]}``; ``step``
returns a new cache and never modifies the one it is given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import numpy as np

__all__ = [
    "lowbias32", "u", "make_input", "make_weight",
    "Yarn", "Rope", "rope", "rope_frequencies", "rms_norm", "layer_norm",
    "sinusoidal_pe", "sigmoid", "visible_rows", "core_attention",
    "GQAConfig", "GQA", "GTADaoConfig", "GTADao", "MLAConfig", "MLA",
    "GLAConfig", "GLA", "MFAConfig", "MFA", "GTASunConfig", "GTASun",
    "gta_sun_tiled_decoder", "MTLAConfig", "MTLA",
    "cache_elements_per_token", "decode_cost", "dao_arithmetic_intensity",
    "TINY", "make_layer",
]

# ---------------------------------------------------------------------------
# Deterministic test data (§11.1)
# ---------------------------------------------------------------------------

_MASK32 = np.uint64(0xFFFFFFFF)


def lowbias32(x):
    """The 32-bit integer hash of §11.1, all arithmetic mod 2^32.

    Accepts a Python int (returns an int) or an integer array (returns uint64).
    """
    scalar = np.ndim(x) == 0
    v = np.asarray(x, dtype=np.uint64) & _MASK32
    v = v ^ (v >> np.uint64(16))
    v = (v * np.uint64(0x7FEB352D)) & _MASK32  # product < 2^64: no uint64 overflow
    v = v ^ (v >> np.uint64(15))
    v = (v * np.uint64(0x846CA68B)) & _MASK32
    v = v ^ (v >> np.uint64(16))
    return int(v) if scalar else v


def u(tid, f):
    """u(tid, f) = lowbias32(tid * 0x9E3779B9 + f) / 2^31 - 1, in [-1, 1)."""
    seed = np.uint64((int(tid) * 0x9E3779B9) & 0xFFFFFFFF)
    h = lowbias32((np.asarray(f, dtype=np.uint64) + seed) & _MASK32)
    r = np.asarray(h, dtype=np.float64) / 2.0**31 - 1.0
    return float(r) if np.ndim(f) == 0 else r


def make_input(T, D):
    """X[t][k] = sqrt(3) * u(0, t*D + k): T tokens of width D, unit variance."""
    return math.sqrt(3.0) * u(0, np.arange(T * D)).reshape(T, D)


def make_weight(tid, rows, cols):
    """W_tid[i][j] = sqrt(3/rows) * u(tid, i*cols + j), shaped [in=rows, out=cols]."""
    return math.sqrt(3.0 / rows) * u(tid, np.arange(rows * cols)).reshape(rows, cols)


# ---------------------------------------------------------------------------
# RoPE, norms, positional embedding (§1.1, §1.2, §8.3)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Yarn:
    """DeepSeek-V3's YaRN frequency correction (DSV3-C ``precompute_freqs_cis``).

    Applied unconditionally here: DeepSeek applies it when max_seq_len >
    original_seq_len, which is the only case where one would configure it.
    """

    factor: float
    original_seq_len: int
    beta_fast: float = 32.0
    beta_slow: float = 1.0
    mscale: float = 1.0

    def softmax_multiplier(self):
        """m^2 with m = 0.1 * mscale * ln(factor) + 1 (§1.1): sigma <- sigma * m^2."""
        m = 0.1 * self.mscale * math.log(self.factor) + 1.0
        return m * m


def rope_frequencies(dim, theta=1e4, yarn=None):
    """inv_freq[k] = theta^(-2k/dim), k < dim/2, optionally YaRN-corrected."""
    freqs = theta ** (-np.arange(0, dim, 2, dtype=np.float64) / dim)
    if yarn is None:
        return freqs

    def correction_dim(rotations):
        return dim * math.log(yarn.original_seq_len / (rotations * 2 * math.pi)) / (2 * math.log(theta))

    low = max(math.floor(correction_dim(yarn.beta_fast)), 0)
    high = min(math.ceil(correction_dim(yarn.beta_slow)), dim - 1)
    if low == high:
        high += 0.001  # as DeepSeek: avoid a zero-width ramp
    ramp = np.clip((np.arange(dim // 2, dtype=np.float64) - low) / (high - low), 0.0, 1.0)
    smooth = 1.0 - ramp  # 1: keep the frequency (fast channels), 0: divide by factor
    return freqs / yarn.factor * (1.0 - smooth) + freqs * smooth


def rope(x, pos, dim=None, layout="half", theta=1e4, yarn=None):
    """Rotate the last ``dim`` channels of ``x[..., W]`` (all W when dim is None).

    ``pos`` broadcasts against ``x.shape[:-1]``. Pairs are (k, k + dim/2) for
    the "half" layout (GPT-NeoX) and (2k, 2k+1) for "interleaved" (GPT-J /
    DeepSeek); pair k turns by pos * inv_freq[k]: (a, b) -> (a cos - b sin,
    a sin + b cos).
    """
    x = np.asarray(x, dtype=np.float64)
    W = x.shape[-1]
    d = W if dim is None else dim
    if d == 0:
        return x.copy()
    if d % 2 or d > W:
        raise ValueError(f"rotary width {d} must be even and at most {W}")
    ang = np.asarray(pos, dtype=np.float64)[..., None] * rope_frequencies(d, theta, yarn)
    ang = np.broadcast_to(ang, x.shape[:-1] + (d // 2,))
    cos, sin = np.cos(ang), np.sin(ang)
    r = x[..., W - d:]
    if layout == "half":
        a, b = r[..., : d // 2], r[..., d // 2:]
    elif layout == "interleaved":
        a, b = r[..., 0::2], r[..., 1::2]
    else:
        raise ValueError(f"unknown rope layout {layout!r}")
    ra, rb = a * cos - b * sin, a * sin + b * cos
    out = x.copy()
    if layout == "half":
        out[..., W - d: W - d // 2] = ra
        out[..., W - d // 2:] = rb
    else:
        out[..., W - d::2] = ra
        out[..., W - d + 1::2] = rb
    return out


@dataclass(frozen=True)
class Rope:
    """RoPE settings of a layer: pairing layout, base, optional YaRN."""

    layout: str = "half"
    theta: float = 1e4
    yarn: Optional[Yarn] = None

    def apply(self, x, pos, dim=None):
        return rope(x, pos, dim, self.layout, self.theta, self.yarn)

    def softmax_multiplier(self):
        return 1.0 if self.yarn is None else self.yarn.softmax_multiplier()


def rms_norm(x, eps=1e-6):
    """x / sqrt(mean(x^2) + eps) over the last axis, no weight."""
    x = np.asarray(x, dtype=np.float64)
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps)


def layer_norm(x, eps=1e-5):
    """(x - mean) / sqrt(var + eps) over the last axis (biased variance), no affine."""
    x = np.asarray(x, dtype=np.float64)
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps)


def sinusoidal_pe(pos, d):
    """MTLA's PE (§8.3): [2k] = sin(p * 10000^(-2k/d)), [2k+1] = cos(same)."""
    ang = np.asarray(pos, dtype=np.float64)[..., None] * 10000.0 ** (-2.0 * np.arange(d // 2) / d)
    pe = np.empty(ang.shape[:-1] + (d,))
    pe[..., 0::2] = np.sin(ang)
    pe[..., 1::2] = np.cos(ang)
    return pe


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


def _softmax(s):
    e = np.exp(s - s.max())
    return e / e.sum()


# ---------------------------------------------------------------------------
# Core attention: the semantics of the compiler's attn.attention op
# ---------------------------------------------------------------------------


def visible_rows(seq_len, Tq, t, mask, time_stride=1):
    """Cache rows that query ``t`` of ``Tq`` may attend to, in a sequence of ``seq_len`` rows.

    Queries are aligned bottom-right: query t sits at position p = seq_len - Tq + t.
    "causal" keeps rows j <= p; "stride_aware_causal" (MTLA, §8.4) keeps j == p
    and the complete-chunk rows j <= p with (j + 1) % time_stride == 0.
    """
    p = seq_len - Tq + t
    j = np.arange(seq_len)
    if mask == "none":
        return j
    if mask == "causal":
        return j[j <= p]
    if mask == "stride_aware_causal":
        return j[(j == p) | ((j <= p) & ((j + 1) % time_stride == 0))]
    raise ValueError(f"unknown mask {mask!r}")


def core_attention(query, *, kv_form, softmax_scale, keys=None, values=None, rows=None,
                   rope_keys=None, up_k=None, up_v=None, absorbed=False, seq_lens=None,
                   mask="causal", time_stride=1, tie=None, num_out_heads=None,
                   decoder=None, gate=None, score_map_of_head=None, latent_of_head=None,
                   alpha=None, transform=None):
    """Attention of query tokens over cache rows, for any variant (``attn.attention``).

    query: [B, Tq, h_q, Wq], already rotated. For output head i of b, t:

        o[b, t, i] = epilogue_i( sum_j softmax_j(softmax_scale * q[b, t, m(i)] . k_j) v_j )

    over the rows j that ``visible_rows`` allows (j < seq_lens[b], default L).

    kv_form:
      "separate": keys [B, L, h_k, Wq], values [B, L, h_v, d_v]. Query head m
          reads key head m // (h_q // h_k) and value head m // (h_q // h_v).
      "tied": rows [B, L, h_kv, R]; tie = (kb, ke, vb, ve) (default the whole
          row for both). Key = rows[..., kb:ke] followed by rope_keys[b, j]
          ([B, L, d_R], shared by all heads) when given; value = rows[..., vb:ve].
      "latent": rows [B, L, h_c, d_c], rope_keys [B, L, d_R] (optional). Query
          head m reads latent head g = m // (h_q // h_c). Unabsorbed:
          key = [c @ up_k[m] ; kR], value = c @ up_v[m] (up_k [h_q, d_c, d_nope],
          up_v [h_q, d_c, d_v]). Absorbed: the query is [q_nope @ up_k[m]^T ; q_rope],
          key = [c ; kR], value = c, and up_v[m] (when given) is applied after
          aggregation.

    mask: "none", "causal" (bottom-right aligned) or "stride_aware_causal"
    (with ``time_stride``); see ``visible_rows``. The default is the op's.

    Epilogues:
      Sun's GTA (``decoder`` [h_out, d_l, d_v], ``gate`` [B, Tq, h_out*d_v] or
          None, ``num_out_heads`` h_out): output head i aggregates score map
          m = score_map_of_head[i] (default i // (h_out // h_q)) over value
          head latent_of_head[i] (default i // (h_out // h_v)), then
          o_i = (o_bar @ decoder[i]) * gate[b, t, i*d_v:(i+1)*d_v].
      MFA-KR (``alpha`` [C], ``transform`` N [C, C]): o = o_bar + alpha * (o_bar @ N).

    Returns [B, Tq, h_out, d_v] (h_out = h_q without a decoder).
    """
    q = np.asarray(query, dtype=np.float64)
    B, Tq, h_q, Wq = q.shape
    if kv_form == "separate":
        if rows is not None or rope_keys is not None:
            raise ValueError("separate form takes keys and values only")
        k_store, v_store = np.asarray(keys, np.float64), np.asarray(values, np.float64)
    elif kv_form in ("tied", "latent"):
        k_store = v_store = np.asarray(rows, dtype=np.float64)
    else:
        raise ValueError(f"unknown kv_form {kv_form!r}")
    if rope_keys is not None:
        rope_keys = np.asarray(rope_keys, dtype=np.float64)
    L, h_k, h_v = k_store.shape[1], k_store.shape[2], v_store.shape[2]
    if h_q % h_k:
        raise ValueError(f"{h_q} query heads do not group onto {h_k} kv heads")
    if kv_form == "latent" and not absorbed and up_k is None:
        raise ValueError("unabsorbed latent attention needs up_k")
    seq = [L] * B if seq_lens is None else [int(n) for n in seq_lens]
    if any(n > L for n in seq):
        raise ValueError("seq_lens exceed the cache length")

    h_out = h_q if num_out_heads is None else num_out_heads
    if decoder is None:
        if h_out != h_q or score_map_of_head is not None or latent_of_head is not None:
            raise ValueError("output heads and head maps need a decoder epilogue")
        if h_q % h_v:
            raise ValueError(f"{h_q} query heads do not group onto {h_v} value heads")
        smap = list(range(h_q))
        vmap = [m // (h_q // h_v) for m in smap]
    else:
        smap = ([i // (h_out // h_q) for i in range(h_out)] if score_map_of_head is None
                else list(score_map_of_head))
        vmap = ([i // (h_out // h_v) for i in range(h_out)] if latent_of_head is None
                else list(latent_of_head))
    if kv_form == "tied":
        R = k_store.shape[3]
        kb, ke, vb, ve = (0, R, 0, R) if tie is None else tie

    def key(b, m):
        g = m // (h_q // h_k)
        if kv_form == "separate":
            k = k_store[b, :, g]
        elif kv_form == "tied":
            k = k_store[b, :, g, kb:ke]
        else:
            k = k_store[b, :, g] if absorbed else k_store[b, :, g] @ up_k[m]
        if rope_keys is not None:
            k = np.concatenate([k, rope_keys[b]], axis=-1)
        return k

    def value(b, m, vh):
        if kv_form == "separate":
            return v_store[b, :, vh]
        if kv_form == "tied":
            return v_store[b, :, vh, vb:ve]
        return v_store[b, :, vh] if absorbed else v_store[b, :, vh] @ up_v[m]

    out = []
    for b in range(B):
        for t in range(Tq):
            vis = visible_rows(seq[b], Tq, t, mask, time_stride)
            if len(vis) == 0:
                raise ValueError(f"query {t} of sequence {b} sees no rows")
            for i in range(h_out):
                m = smap[i]
                k = key(b, m)[vis]
                if k.shape[1] != Wq:
                    raise ValueError(f"query width {Wq} != key width {k.shape[1]}")
                o = _softmax(softmax_scale * (k @ q[b, t, m])) @ value(b, m, vmap[i])[vis]
                if kv_form == "latent" and absorbed and up_v is not None:
                    o = o @ up_v[m]
                if decoder is not None:
                    o = o @ decoder[i]
                    if gate is not None:
                        o = o * gate[b, t, i * len(o):(i + 1) * len(o)]
                if alpha is not None:
                    o = o + alpha * (o @ transform)
                out.append(o)
    return np.array(out).reshape(B, Tq, h_out, -1)


# ---------------------------------------------------------------------------
# Layer plumbing
# ---------------------------------------------------------------------------


class _Params:
    """Creates weights with make_weight, tid = 1, 2, 3, ... in call order."""

    def __init__(self):
        self.tid = 0
        self.w = {}
        self.order = []

    def new(self, name, rows, cols):
        self.tid += 1
        self.order.append((self.tid, name, (rows, cols)))
        self.w[name] = make_weight(self.tid, rows, cols)


def _attend(q, k, v, scale, visible):
    """One head: softmax(scale * q k^T, masked by visible [Tq, L]) v."""
    s = np.where(visible, scale * (q @ k.T), -np.inf)
    p = np.exp(s - s.max(axis=1, keepdims=True))
    return (p / p.sum(axis=1, keepdims=True)) @ v


def _causal(Tq, L):
    """Bottom-right aligned causal visibility [Tq, L]."""
    return np.arange(L)[None, :] <= (L - Tq + np.arange(Tq))[:, None]


def _extend(cache, n, **new_rows):
    out = dict(cache)
    out["len"] = cache["len"] + n
    for name, r in new_rows.items():
        out[name] = np.concatenate([cache[name], r], axis=0)
    return out


class _Layer:
    """Base: weight creation, and decode as a loop of single-token steps."""

    def __init__(self, cfg, weights=None):
        self.cfg = cfg
        p = _Params()
        self._create(p)
        self.weight_order = p.order  # [(tid, name, (rows, cols))]
        self.w = dict(p.w)
        if weights is not None:
            unknown = set(weights) - set(self.w)
            if unknown:
                raise KeyError(f"unknown weights {sorted(unknown)}")
            self.w.update({k: np.asarray(v, np.float64) for k, v in weights.items()})

    def decode(self, x, cache=None, **kw):
        cache = self.empty_cache() if cache is None else cache
        ys = []
        for t in range(len(x)):
            y, cache = self.step(x[t:t + 1], cache, **kw)
            ys.append(y)
        return np.concatenate(ys), cache


def _latent_core(q_nope, q_rope, rows, kr, up_k, up_v, scale, mask, absorbed, time_stride=1):
    """Latent attention of one sequence through core_attention.

    q_nope [Tq, h, d_nope], q_rope [Tq, h, d_R], rows [L, h_c, d_c], kr [L, d_R].
    Returns [Tq, h, d_v].
    """
    if absorbed:
        q_lat = np.einsum("thn,hcn->thc", q_nope, up_k)  # q_nope_i @ up_k[i]^T
        q = np.concatenate([q_lat, q_rope], axis=-1)
        return core_attention(q[None], kv_form="latent", rows=rows[None], rope_keys=kr[None],
                              up_v=up_v, absorbed=True, softmax_scale=scale, mask=mask,
                              time_stride=time_stride)[0]
    q = np.concatenate([q_nope, q_rope], axis=-1)
    return core_attention(q[None], kv_form="latent", rows=rows[None], rope_keys=kr[None],
                          up_k=up_k, up_v=up_v, softmax_scale=scale, mask=mask,
                          time_stride=time_stride)[0]


# ---------------------------------------------------------------------------
# MHA / GQA / MQA (§2)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GQAConfig:
    """MHA (h_kv = h_q), GQA, MQA (h_kv = 1). rope_dim: rotary channels, the LAST
    ones of each head (None = the full head). softmax_scale defaults to 1/sqrt(d_h)."""

    D: int
    h_q: int
    h_kv: int
    d_h: int
    rope_dim: Optional[int] = None
    rope: Rope = Rope()
    softmax_scale: Optional[float] = None

    @property
    def d_R(self):
        return self.d_h if self.rope_dim is None else self.rope_dim

    @property
    def scale(self):
        return self.d_h ** -0.5 if self.softmax_scale is None else self.softmax_scale


class GQA(_Layer):
    """MHA / GQA / MQA (§2).

    tid order: 1 W_Q [D, h_q*d_h], 2 W_K [D, h_kv*d_h], 3 W_V [D, h_kv*d_h],
    4 W_O [h_q*d_h, D].
    Cache per token: "k" [h_kv, d_h] (rotated), "v" [h_kv, d_h].
    """

    def _create(self, p):
        c = self.cfg
        p.new("W_Q", c.D, c.h_q * c.d_h)
        p.new("W_K", c.D, c.h_kv * c.d_h)
        p.new("W_V", c.D, c.h_kv * c.d_h)
        p.new("W_O", c.h_q * c.d_h, c.D)

    def _project(self, x, pos):
        c, w, T = self.cfg, self.w, len(x)
        q = c.rope.apply((x @ w["W_Q"]).reshape(T, c.h_q, c.d_h), pos[:, None], c.d_R)
        k = c.rope.apply((x @ w["W_K"]).reshape(T, c.h_kv, c.d_h), pos[:, None], c.d_R)
        v = (x @ w["W_V"]).reshape(T, c.h_kv, c.d_h)
        return q, k, v

    def empty_cache(self):
        c = self.cfg
        return {"len": 0, "k": np.zeros((0, c.h_kv, c.d_h)), "v": np.zeros((0, c.h_kv, c.d_h))}

    def prefill(self, x):
        c, T = self.cfg, len(x)
        q, k, v = self._project(x, np.arange(T))
        g_q = c.h_q // c.h_kv
        o = np.stack([_attend(q[:, i], k[:, i // g_q], v[:, i // g_q], c.scale, _causal(T, T))
                      for i in range(c.h_q)], axis=1)
        return o.reshape(T, -1) @ self.w["W_O"], {"len": T, "k": k, "v": v}

    def step(self, x_new, cache):
        c, n = self.cfg, len(x_new)
        q, k, v = self._project(x_new, cache["len"] + np.arange(n))
        cache = _extend(cache, n, k=k, v=v)
        o = core_attention(q[None], kv_form="separate", keys=cache["k"][None],
                           values=cache["v"][None], softmax_scale=c.scale, mask="causal")[0]
        return o.reshape(n, -1) @ self.w["W_O"], cache


# ---------------------------------------------------------------------------
# GTA, Grouped-Tied Attention (Zadouri, Strauss, Dao; §4)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GTADaoConfig:
    """h_kv tied heads of width d_h; the key is the tied row's first d_h - d_R
    columns followed by one rotary key of width d_R shared by all groups."""

    D: int
    h_q: int
    h_kv: int
    d_h: int
    d_R: int
    rope: Rope = Rope()
    softmax_scale: Optional[float] = None

    @property
    def scale(self):
        return self.d_h ** -0.5 if self.softmax_scale is None else self.softmax_scale


class GTADao(_Layer):
    """Dao's GTA (§4.3).

    tid order: 1 W_Q [D, h_q*d_h], 2 W_KV [D, h_kv*d_h], 3 W_KR [D, d_R],
    4 W_O [h_q*d_h, D].
    Query head: [q_nope (d_h - d_R) ; RoPE(q_rope) (d_R, the LAST channels)].
    Cache per token: "kv" [h_kv, d_h] (never rotated), "kr" [d_R] (rotated, one
    stream shared by every group).
    """

    def _create(self, p):
        c = self.cfg
        p.new("W_Q", c.D, c.h_q * c.d_h)
        p.new("W_KV", c.D, c.h_kv * c.d_h)
        p.new("W_KR", c.D, c.d_R)
        p.new("W_O", c.h_q * c.d_h, c.D)

    def _project(self, x, pos):
        c, w, T = self.cfg, self.w, len(x)
        q = c.rope.apply((x @ w["W_Q"]).reshape(T, c.h_q, c.d_h), pos[:, None], c.d_R)
        kv = (x @ w["W_KV"]).reshape(T, c.h_kv, c.d_h)
        kr = c.rope.apply(x @ w["W_KR"], pos)
        return q, kv, kr

    def empty_cache(self):
        c = self.cfg
        return {"len": 0, "kv": np.zeros((0, c.h_kv, c.d_h)), "kr": np.zeros((0, c.d_R))}

    def prefill(self, x):
        c, T = self.cfg, len(x)
        q, kv, kr = self._project(x, np.arange(T))
        g_q = c.h_q // c.h_kv
        o = np.zeros((T, c.h_q, c.d_h))
        for i in range(c.h_q):
            g = i // g_q
            K = np.concatenate([kv[:, g, : c.d_h - c.d_R], kr], axis=1)
            o[:, i] = _attend(q[:, i], K, kv[:, g], c.scale, _causal(T, T))
        return o.reshape(T, -1) @ self.w["W_O"], {"len": T, "kv": kv, "kr": kr}

    def step(self, x_new, cache):
        c, n = self.cfg, len(x_new)
        q, kv, kr = self._project(x_new, cache["len"] + np.arange(n))
        cache = _extend(cache, n, kv=kv, kr=kr)
        o = core_attention(q[None], kv_form="tied", rows=cache["kv"][None],
                           rope_keys=cache["kr"][None], tie=(0, c.d_h - c.d_R, 0, c.d_h),
                           softmax_scale=c.scale, mask="causal")[0]
        return o.reshape(n, -1) @ self.w["W_O"], cache


# ---------------------------------------------------------------------------
# MLA (DeepSeek-V2/V3; §3)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MLAConfig:
    """DeepSeek MLA. q_lora = 0: dense query projection. softmax_scale defaults
    to (d_nope + d_R)^-1/2, times YaRN's m^2 when the rope carries YaRN."""

    D: int
    h: int
    d_c: int
    d_nope: int
    d_R: int
    d_v: int
    q_lora: int = 0
    rope: Rope = Rope()
    softmax_scale: Optional[float] = None

    @property
    def scale(self):
        if self.softmax_scale is not None:
            return self.softmax_scale
        return (self.d_nope + self.d_R) ** -0.5 * self.rope.softmax_multiplier()


class MLA(_Layer):
    """DeepSeek MLA (§3.2 materialised prefill, §3.4 absorbed decode).

    tid order, q_lora == 0: 1 wq [D, h*(d_nope+d_R)], 2 wkv_a [D, d_c+d_R],
    3 wkv_b [d_c, h*(d_nope+d_v)], 4 wo [h*d_v, D].
    tid order, q_lora > 0: 1 wq_a [D, q_lora], 2 wq_b [q_lora, h*(d_nope+d_R)],
    3 wkv_a, 4 wkv_b, 5 wo (shapes as above).
    wkv_a: columns [0, d_c) latent, [d_c, d_c+d_R) rotary key. wkv_b, head i:
    columns [i*(d_nope+d_v), i*(d_nope+d_v)+d_nope) are W^UK_i, the next d_v W^UV_i.
    Query: c^Q = RMSNorm(x wq_a) when q_lora > 0.
    Cache per token: "c" = RMSNorm(latent) [d_c], "kr" [d_R] (rotated).
    """

    # The norm on the latent and on the low-rank query (MTLA: LayerNorm).
    _norm = staticmethod(rms_norm)

    def _create(self, p):
        c = self.cfg
        if c.q_lora:
            p.new("wq_a", c.D, c.q_lora)
            p.new("wq_b", c.q_lora, c.h * (c.d_nope + c.d_R))
        else:
            p.new("wq", c.D, c.h * (c.d_nope + c.d_R))
        p.new("wkv_a", c.D, c.d_c + c.d_R)
        p.new("wkv_b", c.d_c, c.h * (c.d_nope + c.d_v))
        p.new("wo", c.h * c.d_v, c.D)

    def _queries(self, x, pos):
        c, w, T = self.cfg, self.w, len(x)
        cq = self._norm(x @ w["wq_a"]) @ w["wq_b"] if c.q_lora else x @ w["wq"]
        q = cq.reshape(T, c.h, c.d_nope + c.d_R)
        return q[..., : c.d_nope], c.rope.apply(q[..., c.d_nope:], pos[:, None])

    def _latents(self, x, pos):
        c = self.cfg
        a = x @ self.w["wkv_a"]
        return self._norm(a[:, : c.d_c]), c.rope.apply(a[:, c.d_c:], pos)

    def up_k(self):
        """[h, d_c, d_nope]: W^UK_i."""
        c = self.cfg
        return self.w["wkv_b"].reshape(c.d_c, c.h, c.d_nope + c.d_v)[:, :, : c.d_nope].transpose(1, 0, 2)

    def up_v(self):
        """[h, d_c, d_v]: W^UV_i."""
        c = self.cfg
        return self.w["wkv_b"].reshape(c.d_c, c.h, c.d_nope + c.d_v)[:, :, c.d_nope:].transpose(1, 0, 2)

    def empty_cache(self):
        c = self.cfg
        return {"len": 0, "c": np.zeros((0, c.d_c)), "kr": np.zeros((0, c.d_R))}

    def prefill(self, x, absorbed=False):
        c, T = self.cfg, len(x)
        pos = np.arange(T)
        qn, qr = self._queries(x, pos)
        lat, kr = self._latents(x, pos)
        if absorbed:
            o = _latent_core(qn, qr, lat[:, None, :], kr, self.up_k(), self.up_v(), c.scale,
                             "causal", absorbed=True)
        else:
            o = np.zeros((T, c.h, c.d_v))
            wb, w = self.w["wkv_b"], c.d_nope + c.d_v
            for i in range(c.h):
                W_uk, W_uv = wb[:, i * w: i * w + c.d_nope], wb[:, i * w + c.d_nope: (i + 1) * w]
                K = np.concatenate([lat @ W_uk, kr], axis=1)
                Q = np.concatenate([qn[:, i], qr[:, i]], axis=1)
                o[:, i] = _attend(Q, K, lat @ W_uv, c.scale, _causal(T, T))
        return o.reshape(T, -1) @ self.w["wo"], {"len": T, "c": lat, "kr": kr}

    def step(self, x_new, cache, absorbed=True):
        c, n = self.cfg, len(x_new)
        pos = cache["len"] + np.arange(n)
        qn, qr = self._queries(x_new, pos)
        lat, kr = self._latents(x_new, pos)
        cache = _extend(cache, n, c=lat, kr=kr)
        o = _latent_core(qn, qr, cache["c"][:, None, :], cache["kr"], self.up_k(), self.up_v(),
                         c.scale, "causal", absorbed)
        return o.reshape(n, -1) @ self.w["wo"], cache


# ---------------------------------------------------------------------------
# GLA, Grouped Latent Attention (Zadouri, Strauss, Dao; §5)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GLAConfig:
    """h_c latent heads of width d_c; d_h is both the non-rotary key and the
    value width; q_lora = 0 means a dense query projection. softmax_scale
    defaults to (d_h + d_R)^-1/2."""

    D: int
    h_q: int
    h_c: int
    d_c: int
    d_h: int
    d_R: int
    q_lora: int = 0
    rope: Rope = Rope()
    softmax_scale: Optional[float] = None

    @property
    def scale(self):
        return (self.d_h + self.d_R) ** -0.5 if self.softmax_scale is None else self.softmax_scale


class GLA(_Layer):
    """GLA (§5.3 materialised prefill, §5.5 absorbed decode).

    tid order: q_lora > 0: 1 W_dQ [D, q_lora], 2 W_uQ [q_lora, h_q*(d_h+d_R)];
    q_lora == 0: 1 W_Q [D, h_q*(d_h+d_R)]. Then W_dKV [D, h_c*d_c + d_R], then
    W_ukv_0, ..., W_ukv_{h_c-1} [d_c, g_q*2*d_h], then W_O [h_q*d_h, D].
    W_dKV: latent head g = columns [g*d_c, (g+1)*d_c), rotary key = last d_R.
    W_ukv_g, local query head l of group g: columns [2l*d_h, (2l+1)*d_h) give
    k_nope, the next d_h give v (interleaved blocks).
    Query: RMSNorm(x W_dQ) W_uQ. Latent: RMSNorm per latent head.
    Cache per token: "c" [h_c, d_c] (normalised), "kr" [d_R] (rotated, shared).
    """

    def _create(self, p):
        c = self.cfg
        if c.q_lora:
            p.new("W_dQ", c.D, c.q_lora)
            p.new("W_uQ", c.q_lora, c.h_q * (c.d_h + c.d_R))
        else:
            p.new("W_Q", c.D, c.h_q * (c.d_h + c.d_R))
        p.new("W_dKV", c.D, c.h_c * c.d_c + c.d_R)
        for g in range(c.h_c):
            p.new(f"W_ukv_{g}", c.d_c, (c.h_q // c.h_c) * 2 * c.d_h)
        p.new("W_O", c.h_q * c.d_h, c.D)

    def _queries(self, x, pos):
        c, w, T = self.cfg, self.w, len(x)
        cq = rms_norm(x @ w["W_dQ"]) @ w["W_uQ"] if c.q_lora else x @ w["W_Q"]
        q = cq.reshape(T, c.h_q, c.d_h + c.d_R)
        return q[..., : c.d_h], c.rope.apply(q[..., c.d_h:], pos[:, None])

    def _latents(self, x, pos):
        c = self.cfg
        a = x @ self.w["W_dKV"]
        lat = np.stack([rms_norm(a[:, g * c.d_c:(g + 1) * c.d_c]) for g in range(c.h_c)], axis=1)
        return lat, c.rope.apply(a[:, c.h_c * c.d_c:], pos)

    def _up(self, offset):
        c = self.cfg
        g_q = c.h_q // c.h_c
        mats = []
        for i in range(c.h_q):
            g, l = divmod(i, g_q)
            start = 2 * l * c.d_h + offset
            mats.append(self.w[f"W_ukv_{g}"][:, start: start + c.d_h])
        return np.stack(mats)

    def up_k(self):
        """[h_q, d_c, d_h]."""
        return self._up(0)

    def up_v(self):
        """[h_q, d_c, d_h]."""
        return self._up(self.cfg.d_h)

    def empty_cache(self):
        c = self.cfg
        return {"len": 0, "c": np.zeros((0, c.h_c, c.d_c)), "kr": np.zeros((0, c.d_R))}

    def prefill(self, x, absorbed=False):
        c, T = self.cfg, len(x)
        pos = np.arange(T)
        qn, qr = self._queries(x, pos)
        lat, kr = self._latents(x, pos)
        if absorbed:
            o = _latent_core(qn, qr, lat, kr, self.up_k(), self.up_v(), c.scale, "causal", True)
        else:
            g_q = c.h_q // c.h_c
            o = np.zeros((T, c.h_q, c.d_h))
            for i in range(c.h_q):
                g, l = divmod(i, g_q)
                kv = lat[:, g] @ self.w[f"W_ukv_{g}"][:, l * 2 * c.d_h:(l + 1) * 2 * c.d_h]
                K = np.concatenate([kv[:, : c.d_h], kr], axis=1)
                Q = np.concatenate([qn[:, i], qr[:, i]], axis=1)
                o[:, i] = _attend(Q, K, kv[:, c.d_h:], c.scale, _causal(T, T))
        return o.reshape(T, -1) @ self.w["W_O"], {"len": T, "c": lat, "kr": kr}

    def step(self, x_new, cache, absorbed=True):
        c, n = self.cfg, len(x_new)
        pos = cache["len"] + np.arange(n)
        qn, qr = self._queries(x_new, pos)
        lat, kr = self._latents(x_new, pos)
        cache = _extend(cache, n, c=lat, kr=kr)
        o = _latent_core(qn, qr, cache["c"], cache["kr"], self.up_k(), self.up_v(), c.scale,
                         "causal", absorbed)
        return o.reshape(n, -1) @ self.w["W_O"], cache


# ---------------------------------------------------------------------------
# MFA and MFA-KR (§6)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MFAConfig:
    """MFA: h_q query heads of width C over one K and one V head; low-rank
    query of rank q_lora. key_reuse=True gives MFA-KR. softmax_scale defaults
    to C^-1/2."""

    D: int
    h_q: int
    C: int
    q_lora: int
    key_reuse: bool = False
    rope: Rope = Rope()
    softmax_scale: Optional[float] = None

    @property
    def scale(self):
        return self.C ** -0.5 if self.softmax_scale is None else self.softmax_scale


class MFA(_Layer):
    """MFA (§6.2) and MFA-KR (§6.4). RoPE over the full head of q and k.

    tid order, MFA: 1 W_qa [D, q_lora], 2 W_qb [q_lora, h_q*C], 3 W_k [D, C],
    4 W_v [D, C], 5 W_o [h_q*C, D].
    tid order, MFA-KR: 1 W_qa, 2 W_qb, 3 W_k, 4 alpha [1, C] (used as a C-vector),
    5 N [C, C], 6 W_o.
    Query: RoPE(RMSNorm(x W_qa) W_qb). MFA-KR value: v_j = k_j + alpha * (k_j N)
    from the post-RoPE key (the §11 assumption; §12 lists it as open).
    Cache per token: MFA "k" [1, C] (rotated) and "v" [1, C]; MFA-KR "k" only,
    decoded as tied attention followed by the post-transform.
    """

    def _create(self, p):
        c = self.cfg
        p.new("W_qa", c.D, c.q_lora)
        p.new("W_qb", c.q_lora, c.h_q * c.C)
        p.new("W_k", c.D, c.C)
        if c.key_reuse:
            p.new("alpha", 1, c.C)
            p.new("N", c.C, c.C)
        else:
            p.new("W_v", c.D, c.C)
        p.new("W_o", c.h_q * c.C, c.D)

    def _project(self, x, pos):
        c, w, T = self.cfg, self.w, len(x)
        q = c.rope.apply((rms_norm(x @ w["W_qa"]) @ w["W_qb"]).reshape(T, c.h_q, c.C), pos[:, None])
        k = c.rope.apply(x @ w["W_k"], pos)
        v = None if c.key_reuse else x @ w["W_v"]
        return q, k, v

    def empty_cache(self):
        c = self.cfg
        cache = {"len": 0, "k": np.zeros((0, 1, c.C))}
        if not c.key_reuse:
            cache["v"] = np.zeros((0, 1, c.C))
        return cache

    def prefill(self, x):
        c, T = self.cfg, len(x)
        q, k, v = self._project(x, np.arange(T))
        if c.key_reuse:
            v = k + self.w["alpha"][0] * (k @ self.w["N"])  # V = f(K), materialised
        o = np.stack([_attend(q[:, i], k, v, c.scale, _causal(T, T)) for i in range(c.h_q)], axis=1)
        cache = {"len": T, "k": k[:, None, :]}
        if not c.key_reuse:
            cache["v"] = v[:, None, :]
        return o.reshape(T, -1) @ self.w["W_o"], cache

    def step(self, x_new, cache):
        c, n = self.cfg, len(x_new)
        q, k, v = self._project(x_new, cache["len"] + np.arange(n))
        if c.key_reuse:
            cache = _extend(cache, n, k=k[:, None, :])
            o = core_attention(q[None], kv_form="tied", rows=cache["k"][None],
                               alpha=self.w["alpha"][0], transform=self.w["N"],
                               softmax_scale=c.scale, mask="causal")[0]
        else:
            cache = _extend(cache, n, k=k[:, None, :], v=v[:, None, :])
            o = core_attention(q[None], kv_form="separate", keys=cache["k"][None],
                               values=cache["v"][None], softmax_scale=c.scale, mask="causal")[0]
        return o.reshape(n, -1) @ self.w["W_o"], cache


# ---------------------------------------------------------------------------
# GTA, Grouped-head latenT Attention (Sun et al.; §7)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GTASunConfig:
    """n_h output heads of width d_h = D / n_h; n_q score maps (query width
    d_k), n_k key heads, n_c latent value heads of width d_l. Head maps default
    to contiguous nested groups; pass explicit tuples for other assignments.
    softmax_scale defaults to 1/sqrt(d_h) (the eager path's head_dim)."""

    D: int
    n_h: int
    n_q: int
    n_k: int
    n_c: int
    d_k: int
    d_l: int
    score_map_of_head: Optional[Tuple[int, ...]] = None
    latent_of_head: Optional[Tuple[int, ...]] = None
    rope: Rope = Rope()
    softmax_scale: Optional[float] = None

    @property
    def d_h(self):
        return self.D // self.n_h

    @property
    def scale(self):
        return self.d_h ** -0.5 if self.softmax_scale is None else self.softmax_scale

    def smap(self):
        if self.score_map_of_head is not None:
            return list(self.score_map_of_head)
        return [i // (self.n_h // self.n_q) for i in range(self.n_h)]

    def lmap(self):
        if self.latent_of_head is not None:
            return list(self.latent_of_head)
        return [i // (self.n_h // self.n_c) for i in range(self.n_h)]


class GTASun(_Layer):
    """Sun's GTA (§7.3) with the general per-head decoder P_i.

    tid order: 1 W_q [D, n_q*d_k], 2 W_k [D, n_k*d_k], 3 W_v [D, n_c*d_l],
    4 P [d_l, n_h*d_h] (head i's decoder P_i = columns [i*d_h, (i+1)*d_h)),
    5 W_g [D, D], 6 W_o [D, D].
    Map m uses key head m // (n_q // n_k); output head i uses map smap[i] and
    latent head lmap[i]; its gate is sigmoid(x_t W_g)[i*d_h:(i+1)*d_h], x_t the
    query token's hidden state.
    Cache per token: "k" [n_k, d_k] (rotated), "c" [n_c, d_l].
    """

    def _create(self, p):
        c = self.cfg
        p.new("W_q", c.D, c.n_q * c.d_k)
        p.new("W_k", c.D, c.n_k * c.d_k)
        p.new("W_v", c.D, c.n_c * c.d_l)
        p.new("P", c.d_l, c.n_h * c.d_h)
        p.new("W_g", c.D, c.D)
        p.new("W_o", c.D, c.D)

    def decoder(self):
        """[n_h, d_l, d_h]: P_i."""
        c = self.cfg
        return self.w["P"].reshape(c.d_l, c.n_h, c.d_h).transpose(1, 0, 2)

    def _project(self, x, pos):
        c, w, T = self.cfg, self.w, len(x)
        q = c.rope.apply((x @ w["W_q"]).reshape(T, c.n_q, c.d_k), pos[:, None])
        k = c.rope.apply((x @ w["W_k"]).reshape(T, c.n_k, c.d_k), pos[:, None])
        lat = (x @ w["W_v"]).reshape(T, c.n_c, c.d_l)
        gate = sigmoid(x @ w["W_g"])
        return q, k, lat, gate

    def empty_cache(self):
        c = self.cfg
        return {"len": 0, "k": np.zeros((0, c.n_k, c.d_k)), "c": np.zeros((0, c.n_c, c.d_l))}

    def _latent_attention(self, q, gate, cache, mask):
        c = self.cfg
        return core_attention(q[None], kv_form="separate", keys=cache["k"][None],
                              values=cache["c"][None], num_out_heads=c.n_h,
                              decoder=self.decoder(), gate=gate[None],
                              score_map_of_head=c.smap(), latent_of_head=c.lmap(),
                              softmax_scale=c.scale, mask=mask)[0]

    def prefill(self, x, latent=False):
        """latent=False: per-head decoded values v_{j,i} = (c_j P_i) * gate_{t,i}
        (the paper's form); latent=True: latent aggregation, then decoding."""
        c, T = self.cfg, len(x)
        q, k, lat, gate = self._project(x, np.arange(T))
        cache = {"len": T, "k": k, "c": lat}
        if latent:
            o = self._latent_attention(q, gate, cache, "causal")
        else:
            smap, lmap, d = c.smap(), c.lmap(), c.d_h
            o = np.zeros((T, c.n_h, d))
            for t in range(T):  # decoded values depend on the query token through its gate
                for i in range(c.n_h):
                    m, b = smap[i], lmap[i]
                    a = m // (c.n_q // c.n_k)
                    vals = (lat[: t + 1, b] @ self.w["P"][:, i * d:(i + 1) * d]) * gate[t, i * d:(i + 1) * d]
                    o[t, i] = _attend(q[t:t + 1, m], k[: t + 1, a], vals, c.scale,
                                      np.ones((1, t + 1), bool))[0]
        return o.reshape(T, -1) @ self.w["W_o"], cache

    def step(self, x_new, cache):
        n = len(x_new)
        q, k, lat, gate = self._project(x_new, cache["len"] + np.arange(n))
        cache = _extend(cache, n, k=k, c=lat)
        o = self._latent_attention(q, gate, cache, "causal")
        return o.reshape(n, -1) @ self.w["W_o"], cache


def gta_sun_tiled_decoder(V, n_h, d_h):
    """The released code's decoder as per-head P_i (§7.3): P_i = (E + V_m)[:, l*d_h:(l+1)*d_h].

    V: [n_q, d_l, H/n_q] (the re-viewed ``v_b_proj``); E tiles the d_l identity
    r = H/(n_q*d_l) times; head i = (map m, local l) with contiguous groups.
    Returns [n_h, d_l, d_h].
    """
    n_q, d_l, width = V.shape
    if width % d_l:
        raise ValueError("H/n_q must be a multiple of d_l for the tiled decoder")
    E = np.tile(np.eye(d_l), (1, width // d_l))
    per_map = n_h // n_q
    return np.stack([(E + V[i // per_map])[:, (i % per_map) * d_h:(i % per_map + 1) * d_h]
                     for i in range(n_h)])


# ---------------------------------------------------------------------------
# MTLA, Multi-head Temporal Latent Attention (Deng and Woodland; §8)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MTLAConfig:
    """MLA whose cache merges every s tokens into one slot. hyper_dim defaults
    to d_c // 4; hyper_bias adds the hyper-network biases. q_lora = 0 means a
    dense query projection (LayerNorm on the low-rank query otherwise).
    softmax_scale defaults to (d_nope + d_R)^-1/2."""

    D: int
    h: int
    d_c: int
    d_nope: int
    d_R: int
    d_v: int
    s: int
    q_lora: int = 0
    hyper_dim: Optional[int] = None
    hyper_bias: bool = True
    rope: Rope = Rope()
    softmax_scale: Optional[float] = None

    @property
    def r(self):
        return self.d_c // 4 if self.hyper_dim is None else self.hyper_dim

    @property
    def scale(self):
        return (self.d_nope + self.d_R) ** -0.5 if self.softmax_scale is None else self.softmax_scale


class MTLA(MLA):
    """MTLA (§8.4 stride-aware prefill, §8.5 append-or-accumulate decode).

    tid order: q_lora == 0: 1 wq [D, h*(d_nope+d_R)]; q_lora > 0: 1 wq_a
    [D, q_lora], 2 wq_b [q_lora, h*(d_nope+d_R)]. Then wkv_a [D, d_c+d_R],
    wkv_b [d_c, h*(d_nope+d_v)], wo [h*d_v, D], W_hc [d_c, r], b_hc [1, r]
    (only with hyper_bias), W_hp [d_c, r], b_hp [1, r] (only with hyper_bias).
    wkv_a / wkv_b column layouts as MLA. Norms: LayerNorm (no affine) on the
    latent and on the low-rank query.
    Merge weight of token j (a scalar): w_j = sigmoid(<PE(j // s) W_hc + b_hc,
    c_j W_hp + b_hp>), PE of width d_c (``sinusoidal_pe``), c_j the normalised
    latent.
    Cache: ceil(tokens / s) slots, "c" [d_c] = sum of w_j c_j over the slot's
    tokens so far, "kr" [d_R] = rotated key of the last token merged.
    """

    _norm = staticmethod(layer_norm)

    def _create(self, p):
        c = self.cfg
        super()._create(p)  # MLA's projections, in MLA's order
        p.new("W_hc", c.d_c, c.r)
        if c.hyper_bias:
            p.new("b_hc", 1, c.r)
        p.new("W_hp", c.d_c, c.r)
        if c.hyper_bias:
            p.new("b_hp", 1, c.r)

    def merge_weights(self, lat, pos):
        """w_j for normalised latents lat [T, d_c] at token positions pos [T]."""
        c, w = self.cfg, self.w
        chunk = sinusoidal_pe(np.asarray(pos) // c.s, c.d_c) @ w["W_hc"]
        token = lat @ w["W_hp"]
        if c.hyper_bias:
            chunk, token = chunk + w["b_hc"][0], token + w["b_hp"][0]
        return sigmoid(np.sum(chunk * token, axis=-1))

    def prefill(self, x, absorbed=False):
        """Training form over per-token partial slot states with the stride-aware
        mask; the cache keeps rows {s-1, 2s-1, ...} and T-1."""
        c, T = self.cfg, len(x)
        pos = np.arange(T)
        qn, qr = self._queries(x, pos)
        lat, kr = self._latents(x, pos)
        wts = self.merge_weights(lat, pos)
        part = np.zeros_like(lat)  # partial slot state after each token
        for i in range(T):
            for j in range((i // c.s) * c.s, i + 1):
                part[i] += wts[j] * lat[j]
        if absorbed:
            o = _latent_core(qn, qr, part[:, None, :], kr, self.up_k(), self.up_v(), c.scale,
                             "stride_aware_causal", True, time_stride=c.s)
        else:
            i_, j_ = np.arange(T)[:, None], np.arange(T)[None, :]
            vis = (j_ == i_) | ((j_ <= i_) & ((j_ + 1) % c.s == 0))
            o = np.zeros((T, c.h, c.d_v))
            wb, w = self.w["wkv_b"], c.d_nope + c.d_v
            for h in range(c.h):
                W_uk, W_uv = wb[:, h * w: h * w + c.d_nope], wb[:, h * w + c.d_nope:(h + 1) * w]
                K = np.concatenate([part @ W_uk, kr], axis=1)
                Q = np.concatenate([qn[:, h], qr[:, h]], axis=1)
                o[:, h] = _attend(Q, K, part @ W_uv, c.scale, vis)
        keep = [j for j in range(T) if (j + 1) % c.s == 0 or j == T - 1]
        return o.reshape(T, -1) @ self.w["wo"], {"len": T, "c": part[keep], "kr": kr[keep]}

    def step(self, x_new, cache, absorbed=True):
        c = self.cfg
        if len(x_new) != 1:
            # Each new query would need its own partial slot state (§10.4).
            raise NotImplementedError("MTLA decode steps take one token")
        t = cache["len"]
        pos = np.array([t])
        qn, qr = self._queries(x_new, pos)
        lat, kr = self._latents(x_new, pos)
        wl = self.merge_weights(lat, pos)[0] * lat[0]
        if t % c.s == 0:  # the token opens a new slot
            cache = _extend(cache, 1, c=wl[None], kr=kr)
        else:  # accumulate into the last slot; its rope key is replaced
            cache = dict(cache, len=t + 1, c=cache["c"].copy(), kr=cache["kr"].copy())
            cache["c"][-1] += wl
            cache["kr"][-1] = kr[0]
        assert len(cache["c"]) == t // c.s + 1
        o = _latent_core(qn, qr, cache["c"][:, None, :], cache["kr"], self.up_k(), self.up_v(),
                         c.scale, "none", absorbed)
        return o.reshape(1, -1) @ self.w["wo"], cache


# ---------------------------------------------------------------------------
# Cache size and decode arithmetic intensity (§1.5, §9)
# ---------------------------------------------------------------------------


def _decode_shape(cfg):
    """(row elements, tokens per row, summed score widths, summed value widths,
    query elements, output elements) per query token in the canonical decode form."""
    if isinstance(cfg, GQAConfig):
        hd = cfg.h_q * cfg.d_h
        return 2 * cfg.h_kv * cfg.d_h, 1, hd, hd, hd, hd
    if isinstance(cfg, GTADaoConfig):
        hd = cfg.h_q * cfg.d_h  # key width d_h - d_R + d_R
        return cfg.h_kv * cfg.d_h + cfg.d_R, 1, hd, hd, hd, hd
    if isinstance(cfg, (MLAConfig, MTLAConfig)):
        w, s = cfg.d_c + cfg.d_R, getattr(cfg, "s", 1)
        return w, s, cfg.h * w, cfg.h * cfg.d_c, cfg.h * w, cfg.h * cfg.d_c
    if isinstance(cfg, GLAConfig):
        w = cfg.d_c + cfg.d_R
        return cfg.h_c * cfg.d_c + cfg.d_R, 1, cfg.h_q * w, cfg.h_q * cfg.d_c, cfg.h_q * w, cfg.h_q * cfg.d_c
    if isinstance(cfg, MFAConfig):
        hc = cfg.h_q * cfg.C
        return (1 if cfg.key_reuse else 2) * cfg.C, 1, hc, hc, hc, hc
    if isinstance(cfg, GTASunConfig):
        pairs = len(set(zip(cfg.smap(), cfg.lmap())))  # one latent aggregation per used pair
        return (cfg.n_k * cfg.d_k + cfg.n_c * cfg.d_l, 1, cfg.n_q * cfg.d_k, pairs * cfg.d_l,
                cfg.n_q * cfg.d_k, pairs * cfg.d_l)
    raise TypeError(f"unknown config {type(cfg).__name__}")


def cache_elements_per_token(cfg):
    """Cached elements per token per layer (§9), averaged over a slot for MTLA."""
    row, per_row = _decode_shape(cfg)[:2]
    return row / per_row


def decode_cost(cfg, L, L_q=1, bytes_per_element=2):
    """FLOPs, bytes and arithmetic intensity of one decode step of one sequence.

    Canonical (absorbed) form: every cache row is read once; each query token
    spends 2*width FLOPs per row on each score map and on each aggregation.
    bytes counts the cache rows plus the queries read and outputs written
    (the "exact form" of §1.5); the limit drops the latter (L >> heads).
    """
    row, per_row, score_w, value_w, q_el, o_el = _decode_shape(cfg)
    rows = -(-L // per_row)
    flops_row = 2 * (score_w + value_w) * L_q
    flops = rows * flops_row
    nbytes = bytes_per_element * (rows * row + L_q * (q_el + o_el))
    return {
        "cache_elements_per_token": row / per_row,
        "cache_rows": rows,
        "flops": flops,
        "bytes": nbytes,
        "arithmetic_intensity": flops / nbytes,
        "arithmetic_intensity_limit": flops_row / (bytes_per_element * row),
    }


def dao_arithmetic_intensity(L, h_q, g_q, m_kv):
    """§1.5: AI = 2 L h_q / (2 h_q + m_kv h_q L / g_q); about 2 g_q / m_kv for L >> h_q."""
    return 2 * L * h_q / (2 * h_q + m_kv * h_q * L / g_q)


# ---------------------------------------------------------------------------
# The tiny configurations of §11.2 (T = 7 tokens, D = 32)
# ---------------------------------------------------------------------------

TINY = {
    "mha": GQAConfig(D=32, h_q=4, h_kv=4, d_h=8),
    "gqa": GQAConfig(D=32, h_q=4, h_kv=2, d_h=8),
    "mqa": GQAConfig(D=32, h_q=4, h_kv=1, d_h=8),
    "gta_dao": GTADaoConfig(D=32, h_q=4, h_kv=2, d_h=8, d_R=4),
    "mla": MLAConfig(D=32, h=4, d_c=16, d_nope=8, d_R=4, d_v=8),
    "mla_qlora": MLAConfig(D=32, h=4, d_c=16, d_nope=8, d_R=4, d_v=8, q_lora=12),
    "gla2": GLAConfig(D=32, h_q=4, h_c=2, d_c=8, d_h=8, d_R=4, q_lora=12),
    "mfa": MFAConfig(D=32, h_q=4, C=16, q_lora=12),
    "mfa_kr": MFAConfig(D=32, h_q=4, C=16, q_lora=12, key_reuse=True),
    "gta_sun": GTASunConfig(D=32, n_h=4, n_q=2, n_k=1, n_c=1, d_k=8, d_l=8),
    "mtla_s1": MTLAConfig(D=32, h=4, d_c=16, d_nope=8, d_R=4, d_v=8, s=1),
    "mtla_s2": MTLAConfig(D=32, h=4, d_c=16, d_nope=8, d_R=4, d_v=8, s=2),
    "mtla_s3": MTLAConfig(D=32, h=4, d_c=16, d_nope=8, d_R=4, d_v=8, s=3),
}

_LAYERS = {GQAConfig: GQA, GTADaoConfig: GTADao, MLAConfig: MLA, GLAConfig: GLA,
           MFAConfig: MFA, GTASunConfig: GTASun, MTLAConfig: MTLA}


def make_layer(cfg, weights=None):
    """The layer class for a config (weights from make_weight unless given)."""
    return _LAYERS[type(cfg)](cfg, weights)
