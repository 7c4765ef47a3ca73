"""Whole attention layers written in the attn dialect, compiled for the CPU.

For every tiny configuration of reference/attn_reference.py (variants.md
§11.2: T = 7 tokens, D = 32, batch 1) the prefill layer is written like
examples/<variant>.mlir at the tiny sizes, fed the reference layer's own
weights (make_weight, in its tid order, reshaped [in, h*w] -> [in, h, w] and
so on) and the deterministic §11.1 input, and checked against the reference's
prefill(x): the layer output y and every cache the layer writes (the rows the
prompt fills; the spare capacity must stay as it was). MTLA s = 1 is written
with merge_weights / partial_slots at stride 2 on positions 2p (the ops
require a stride >= 2; see Spec._mtla).

Conventions of §11.1 made explicit in the IR: half-split RoPE, theta 1e4,
positions 0..6, RMSNorm eps 1e-6 without weight, LayerNorm eps 1e-5 without
affine, no biases (except MTLA's hyper-network biases).

Each variant's module holds four functions: prefill and decode (one token:
the same projections, attn.cache_update, attention over the cache with
seq_lens) at batch 1 with static shapes, and both again with dynamic batch
(and token) dimensions. Invariants through compiled code:
* prefill == step-by-step decode (7 steps), for every variant;
* two sequences at different lengths decode together in one batch;
* absorbed == materialised: the latent layers compiled with and without
  `attn-opt --attn-absorb-latent=policy=always` agree (prefill, MTLA's
  stride-aware one included, and absorbed decode).

f32 within 1e-5 of max|y|, f64 within 1e-12; every element is compared.
Print a variant's module with `python3 test_layers.py <variant> [f32|f64]`.
"""

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "reference"))
import attn_reference as ref  # noqa: E402
from layer_harness import call, check, compile_module, function, rounded, tensor_type

T, D = 7, 32
CAP = 8          # capacity of the appended caches (one spare row)
SLOTS = 5        # capacity of MTLA's slot caches (ceil(7/2) = 4 used)
ABSORB = ("--attn-absorb-latent=policy=always",)


def f(x):
    return f"{x:.17e}"


def rope_attr(placement, dim):
    # §11.1: half-split layout, theta 1e4 (the attribute's defaults).
    return f"#attn.rope<placement = {placement}, dim = {dim}>"


# ---------------------------------------------------------------------------
# A tiny IR builder that tracks shapes
# ---------------------------------------------------------------------------


class G:
    def __init__(self, dtype):
        self.E = dtype
        self.args, self.lines, self.shapes, self.dtypes = [], [], {}, {}

    def t(self, name):
        return tensor_type(self.shapes[name], self.dtypes.get(name, self.E))

    def arg(self, name, shape, dtype=None):
        self.shapes[name] = tuple(shape)
        if dtype is not None:
            self.dtypes[name] = dtype
        self.args.append((name, self.t(name)))

    def emit(self, out, shape, text):
        self.shapes[out] = tuple(shape)
        self.lines.append(f"%{out} = " + text.replace("@T", self.t(out)))

    def linear(self, out, x, w, contract=1, bias=None, act=None):
        xs, ws = self.shapes[x], self.shapes[w]
        extra = f" bias(%{bias} : {self.t(bias)})" if bias else ""
        extra += f" contract = {contract}" if contract != 1 else ""
        extra += f" activation = {act}" if act else ""
        self.emit(out, xs[:len(xs) - contract] + ws[contract:],
                  f"attn.linear %{x}, %{w}{extra} : {self.t(x)}, {self.t(w)} -> @T")

    def norm(self, out, x, kind, eps=None):
        e = f" {{epsilon = {f(eps)} : f64}}" if eps is not None else ""
        self.emit(out, self.shapes[x], f"attn.norm {kind} %{x}{e} : @T")

    def rope(self, out, x, rope, pos="pos"):
        self.emit(out, self.shapes[x],
                  f"attn.rope {rope} %{x} positions(%{pos} : {self.t(pos)}) : @T")

    def cache_update(self, out, cache, rows, weights=None, stride=1, merge=None):
        extra = f" weights(%{weights} : {self.t(weights)})" if weights else ""
        extra += f" time_stride = {stride} merge = {merge}" if stride != 1 else ""
        self.emit(out, self.shapes[cache],
                  f"attn.cache_update %{cache}, %{rows} lengths(%len : {self.t('len')}){extra}"
                  f" : {self.t(cache)}, {self.t(rows)}")

    def attention(self, out, variant, shape, mask=None, **operands):
        q = operands.pop("query")
        parts = [f"query(%{q} : {self.t(q)})"]
        for name in ("keys", "values", "rows", "rope_keys", "up_k", "up_v", "seq_lens", "gate",
                     "decoder", "alpha", "transform"):
            if name in operands:
                v = operands[name]
                parts.append(f"{name}(%{v} : {self.t(v)})")
        m = f" mask = {mask}" if mask else ""
        self.emit(out, shape, f"attn.attention #attn.variant<{variant}> {' '.join(parts)}{m} -> @T")

    def collapse(self, out, x):
        s = self.shapes[x]
        self.emit(out, s[:2] + (s[2] * s[3],),
                  f"tensor.collapse_shape %{x} [[0], [1], [2, 3]] : {self.t(x)} into @T")

    def merge_weights(self, out, c3, pos, s):
        wt, bt = self.t("w_hc"), self.t("b_hc")
        self.emit(out, self.shapes[c3][:2],
                  f"attn.merge_weights %{c3} positions(%{pos} : {self.t(pos)}) "
                  f"chunk(%w_hc, %b_hc : {wt}, {bt}) token(%w_hp, %b_hp : {wt}, {bt}) "
                  f"time_stride = {s} : {self.t(c3)} -> @T")

    def partial_slots(self, out, rows, w, pos, s):
        self.emit(out, self.shapes[rows],
                  f"attn.partial_slots %{rows} weights(%{w} : {self.t(w)}) "
                  f"positions(%{pos} : {self.t(pos)}) time_stride = {s} : @T")

    def text(self, name, results):
        rt = [self.t(r) for r in results]
        body = self.lines + [f"return {', '.join('%' + r for r in results)} : {', '.join(rt)}"]
        return function(name, self.args, f"({', '.join(rt)})", body)


def attention(g, out, variant, shape, query, mask=None, **operands):
    g.attention(out, variant, shape, mask=mask, query=query, **operands)


# ---------------------------------------------------------------------------
# The variants: weights from the reference layer, caches, and the layer's IR
# ---------------------------------------------------------------------------


class Spec:
    """One tiny variant.

    weights(layer) -> {arg name: array} in argument order; caches: [(reference
    cache key, compiled row shape, capacity)]; body(g, decode) emits the layer
    between the arguments and the return of y and the updated caches."""

    def __init__(self, name):
        self.name = name
        self.cfg = ref.TINY[name]
        kind = type(self.cfg).__name__[:-6].lower()  # GQAConfig -> gqa
        getattr(self, "_" + kind)()

    # MHA / GQA / MQA ------------------------------------------------------
    def _gqa(self):
        c = self.cfg
        self.variant = (f"kv_form = separate, num_q_heads = {c.h_q}, num_kv_heads = {c.h_kv}, "
                        f"qk_head_dim = {c.d_h}, v_head_dim = {c.d_h}, "
                        f"rope = {rope_attr('full_head', c.d_h)}, softmax_scale = {f(c.scale)}")
        self.caches = [("k", (c.h_kv, c.d_h), CAP), ("v", (c.h_kv, c.d_h), CAP)]
        self.weights = lambda L: {
            "wq": L.w["W_Q"].reshape(D, c.h_q, c.d_h), "wk": L.w["W_K"].reshape(D, c.h_kv, c.d_h),
            "wv": L.w["W_V"].reshape(D, c.h_kv, c.d_h), "wo": L.w["W_O"].reshape(c.h_q, c.d_h, D)}
        rope = rope_attr("full_head", c.d_h)

        def body(g, decode):
            b, n = g.shapes["x"][:2]
            g.linear("q0", "x", "wq")
            g.linear("k0", "x", "wk")
            g.linear("v", "x", "wv")
            g.rope("q", "q0", rope)
            g.rope("k", "k0", rope)
            g.cache_update("k_cache2", "k_cache", "k")
            g.cache_update("v_cache2", "v_cache", "v")
            kv = (dict(keys="k_cache2", values="v_cache2", seq_lens="valid") if decode
                  else dict(keys="k", values="v"))
            attention(g, "o", self.variant, (b, n, c.h_q, c.d_h), "q", **kv)
            g.linear("y", "o", "wo", contract=2)
        self.body = body

    # Dao's GTA --------------------------------------------------------------
    def _gtadao(self):
        c = self.cfg
        rope = rope_attr("q_suffix_shared_key", c.d_R)
        self.variant = (f"kv_form = tied, num_q_heads = {c.h_q}, num_kv_heads = {c.h_kv}, "
                        f"qk_head_dim = {c.d_h}, v_head_dim = {c.d_h}, rope = {rope}, "
                        f"tie = #attn.tie<row = {c.d_h}, key = 0 : {c.d_h - c.d_R}, "
                        f"value = 0 : {c.d_h}>, softmax_scale = {f(c.scale)}")
        self.caches = [("kv", (c.h_kv, c.d_h), CAP), ("kr", (c.d_R,), CAP)]
        self.weights = lambda L: {
            "wq": L.w["W_Q"].reshape(D, c.h_q, c.d_h), "wkv": L.w["W_KV"].reshape(D, c.h_kv, c.d_h),
            "wkr": L.w["W_KR"], "wo": L.w["W_O"].reshape(c.h_q, c.d_h, D)}

        def body(g, decode):
            b, n = g.shapes["x"][:2]
            g.linear("q0", "x", "wq")
            g.rope("q", "q0", rope)  # only the last d_R query channels rotate
            g.linear("kv", "x", "wkv")
            g.linear("r0", "x", "wkr")
            g.rope("kr", "r0", rope)
            g.cache_update("kv_cache2", "kv_cache", "kv")
            g.cache_update("kr_cache2", "kr_cache", "kr")
            ops = (dict(rows="kv_cache2", rope_keys="kr_cache2", seq_lens="valid") if decode
                   else dict(rows="kv", rope_keys="kr"))
            attention(g, "o", self.variant, (b, n, c.h_q, c.d_h), "q", **ops)
            g.linear("y", "o", "wo", contract=2)
        self.body = body

    # MLA and GLA share the latent layer -------------------------------------
    def _latent_layer(self, h_q, h_c, d_c, d_nope, d_R, d_v, q_lora, names, norm, eps,
                      extra_variant=""):
        qk = d_nope + d_R
        rope = rope_attr("decoupled_shared_key", d_R)
        self.variant = (f"kv_form = latent, num_q_heads = {h_q}, num_kv_heads = {h_c}, "
                        f"qk_head_dim = {qk}, v_head_dim = {d_v}, latent_dim = {d_c}, "
                        f"rope = {rope}, softmax_scale = {f(self.cfg.scale)}, "
                        f"latent_norm = {norm}, value_epilogue = latent_up{extra_variant}")
        self.rope = rope

        def weights(L):
            w = {}
            if q_lora:
                w["wqa"] = L.w[names["qa"]]
                w["wqb"] = L.w[names["qb"]].reshape(q_lora, h_q, qk)
            else:
                w["wq"] = L.w[names["q"]].reshape(D, h_q, qk)
            w["wdkv"] = L.w[names["dkv"]][:, :h_c * d_c].reshape(D, h_c, d_c)
            w["wkr"] = L.w[names["dkv"]][:, h_c * d_c:]
            w.update(self.extra_weights(L))
            w["uk"], w["uv"] = L.up_k(), L.up_v()
            w["wo"] = L.w[names["o"]].reshape(h_q, d_v, D)
            return w
        self.weights = weights
        self.extra_weights = lambda L: {}

        def queries(g):
            if q_lora:
                g.linear("cq0", "x", "wqa")
                g.norm("cq", "cq0", "rms")
                g.linear("q0", "cq", "wqb")
            else:
                g.linear("q0", "x", "wq")
            g.rope("q", "q0", rope)
            g.linear("a", "x", "wdkv")
            g.norm("c", "a", norm, eps)
            g.linear("r", "x", "wkr")
            g.rope("kr", "r", rope)
        self.queries = queries

        def body(g, decode):
            b, n = g.shapes["x"][:2]
            queries(g)
            g.cache_update("c_cache2", "c_cache", "c")
            g.cache_update("kr_cache2", "kr_cache", "kr")
            ops = (dict(rows="c_cache2", rope_keys="kr_cache2", seq_lens="valid") if decode
                   else dict(rows="c", rope_keys="kr"))
            attention(g, "o", self.variant, (b, n, h_q, d_v), "q", up_k="uk", up_v="uv", **ops)
            g.linear("y", "o", "wo", contract=2)
        self.body = body

    def _mla(self):
        c = self.cfg
        self._latent_layer(c.h, 1, c.d_c, c.d_nope, c.d_R, c.d_v, c.q_lora,
                           dict(q="wq", qa="wq_a", qb="wq_b", dkv="wkv_a", o="wo"), "rms", None)
        self.caches = [("c", (1, c.d_c), CAP), ("kr", (c.d_R,), CAP)]

    def _gla(self):
        c = self.cfg
        self._latent_layer(c.h_q, c.h_c, c.d_c, c.d_h, c.d_R, c.d_h, c.q_lora,
                           dict(q="W_Q", qa="W_dQ", qb="W_uQ", dkv="W_dKV", o="W_O"), "rms", None)
        self.caches = [("c", (c.h_c, c.d_c), CAP), ("kr", (c.d_R,), CAP)]

    # MTLA ---------------------------------------------------------------------
    def _mtla(self):
        c = self.cfg
        s = c.s
        extra = ""
        if s > 1:
            extra = (f", time_stride = {s}, temporal_merge = hypernet_sigmoid_dot, "
                     "cache_update = append_or_accumulate_last, slot_rope = last_in_slot")
        self._latent_layer(c.h, 1, c.d_c, c.d_nope, c.d_R, c.d_v, c.q_lora,
                           dict(q="wq", qa="wq_a", qb="wq_b", dkv="wkv_a", o="wo"),
                           "layer", 1e-5, extra)
        assert c.q_lora == 0 and c.hyper_bias
        self.extra_weights = lambda L: {"w_hc": L.w["W_hc"], "b_hc": L.w["b_hc"][0],
                                        "w_hp": L.w["W_hp"], "b_hp": L.w["b_hp"][0]}
        cap = SLOTS if s > 1 else CAP
        self.caches = [("c", (1, c.d_c), cap), ("kr", (c.d_R,), cap)]
        self.pos2 = s == 1
        queries = self.queries

        def body(g, decode):
            b, n = g.shapes["x"][:2]
            queries(g)
            g.collapse("c3", "c")
            if s == 1:
                # merge_weights and partial_slots need time_stride >= 2. With
                # positions 2p and stride 2, chunk index (2p)/2 = p is s = 1's
                # chunk index and every token is alone in its slot, so the
                # "partial state" is w_t c_t: exactly MTLA s = 1's slot row.
                g.merge_weights("w", "c3", "pos2", 2)
                g.partial_slots("wc", "c", "w", "pos2", 2)
                g.cache_update("c_cache2", "c_cache", "wc")
                g.cache_update("kr_cache2", "kr_cache", "kr")
                ops = (dict(rows="c_cache2", rope_keys="kr_cache2", seq_lens="valid") if decode
                       else dict(rows="wc", rope_keys="kr"))
                attention(g, "o", self.variant, (b, n, c.h, c.d_v), "q", up_k="uk", up_v="uv",
                          **ops)
            else:
                g.merge_weights("w", "c3", "pos", s)
                g.cache_update("c_cache2", "c_cache", "c", weights="w", stride=s,
                               merge="weighted_sum")
                g.cache_update("kr_cache2", "kr_cache", "kr", stride=s, merge="replace")
                if decode:  # over the slots, the last one possibly partial
                    attention(g, "o", self.variant, (b, n, c.h, c.d_v), "q", rows="c_cache2",
                              rope_keys="kr_cache2", up_k="uk", up_v="uv", seq_lens="valid")
                else:  # stride-aware prefill over the per-token partial slot states
                    g.partial_slots("part", "c", "w", "pos", s)
                    attention(g, "o", self.variant, (b, n, c.h, c.d_v), "q", rows="part",
                              rope_keys="kr", up_k="uk", up_v="uv", mask="stride_aware_causal")
            g.linear("y", "o", "wo", contract=2)
        self.body = body

    # MFA and MFA-KR -----------------------------------------------------------
    def _mfa(self):
        c = self.cfg
        rope = rope_attr("full_head", c.C)
        if c.key_reuse:
            self.variant = (f"kv_form = tied, num_q_heads = {c.h_q}, num_kv_heads = 1, "
                            f"qk_head_dim = {c.C}, v_head_dim = {c.C}, rope = {rope}, "
                            f"tie = #attn.tie<row = {c.C}, key = 0 : {c.C}, value = 0 : {c.C}>, "
                            f"softmax_scale = {f(c.scale)}, value_epilogue = key_reuse_post")
            self.caches = [("k", (1, c.C), CAP)]
        else:
            self.variant = (f"kv_form = separate, num_q_heads = {c.h_q}, num_kv_heads = 1, "
                            f"qk_head_dim = {c.C}, v_head_dim = {c.C}, rope = {rope}, "
                            f"softmax_scale = {f(c.scale)}")
            self.caches = [("k", (1, c.C), CAP), ("v", (1, c.C), CAP)]

        def weights(L):
            w = {"wqa": L.w["W_qa"], "wqb": L.w["W_qb"].reshape(c.q_lora, c.h_q, c.C),
                 "wk": L.w["W_k"].reshape(D, 1, c.C)}
            if c.key_reuse:
                w["alpha"], w["n"] = L.w["alpha"][0], L.w["N"]
            else:
                w["wv"] = L.w["W_v"].reshape(D, 1, c.C)
            w["wo"] = L.w["W_o"].reshape(c.h_q, c.C, D)
            return w
        self.weights = weights

        def body(g, decode):
            b, n = g.shapes["x"][:2]
            g.linear("cq0", "x", "wqa")
            g.norm("cq", "cq0", "rms")
            g.linear("q0", "cq", "wqb")
            g.rope("q", "q0", rope)
            g.linear("k0", "x", "wk")
            g.rope("k", "k0", rope)
            g.cache_update("k_cache2", "k_cache", "k")
            out = (b, n, c.h_q, c.C)
            valid = dict(seq_lens="valid") if decode else {}
            if c.key_reuse:
                attention(g, "o", self.variant, out, "q", rows="k_cache2" if decode else "k",
                          alpha="alpha", transform="n", **valid)
            else:
                g.linear("v", "x", "wv")
                g.cache_update("v_cache2", "v_cache", "v")
                kv = (dict(keys="k_cache2", values="v_cache2") if decode
                      else dict(keys="k", values="v"))
                attention(g, "o", self.variant, out, "q", **kv, **valid)
            g.linear("y", "o", "wo", contract=2)
        self.body = body

    # Sun's GTA ----------------------------------------------------------------
    def _gtasun(self):
        c = self.cfg
        rope = rope_attr("full_head", c.d_k)
        self.variant = (f"kv_form = separate, num_q_heads = {c.n_q}, num_out_heads = {c.n_h}, "
                        f"num_kv_heads = {c.n_k}, num_v_heads = {c.n_c}, qk_head_dim = {c.d_k}, "
                        f"v_head_dim = {c.d_h}, latent_dim = {c.d_l}, rope = {rope}, "
                        f"softmax_scale = {f(c.scale)}, value_epilogue = gated_latent_decoder")
        self.caches = [("k", (c.n_k, c.d_k), CAP), ("c", (c.n_c, c.d_l), CAP)]
        self.weights = lambda L: {
            "wq": L.w["W_q"].reshape(D, c.n_q, c.d_k), "wk": L.w["W_k"].reshape(D, c.n_k, c.d_k),
            "wv": L.w["W_v"].reshape(D, c.n_c, c.d_l), "dec": L.decoder(), "wg": L.w["W_g"],
            "wo": L.w["W_o"].reshape(c.n_h, c.d_h, D)}

        def body(g, decode):
            b, n = g.shapes["x"][:2]
            g.linear("q0", "x", "wq")
            g.rope("q", "q0", rope)
            g.linear("k0", "x", "wk")
            g.rope("k", "k0", rope)
            g.linear("c", "x", "wv")
            g.linear("gate", "x", "wg", act="sigmoid")
            g.cache_update("k_cache2", "k_cache", "k")
            g.cache_update("c_cache2", "c_cache", "c")
            kv = (dict(keys="k_cache2", values="c_cache2", seq_lens="valid") if decode
                  else dict(keys="k", values="c"))
            attention(g, "o", self.variant, (b, n, c.n_h, c.d_h), "q", gate="gate",
                      decoder="dec", **kv)
            g.linear("y", "o", "wo", contract=2)
        self.body = body

    # -------------------------------------------------------------------------
    def function_text(self, fname, dtype, decode, shapes, dynamic=False):
        """prefill (T tokens) or decode (one token, attention over the cache);
        dynamic: batch and token counts unknown at compile time (as in
        examples/*.mlir)."""
        n = 1 if decode else T
        b = 1
        if dynamic:
            b, n = None, (1 if decode else None)
        g = G(dtype)
        g.arg("x", (b, n, D))
        g.arg("pos", (b, n), np.int64)
        if getattr(self, "pos2", False):
            g.arg("pos2", (b, n), np.int64)
        for key, row, cap in self.caches:
            g.arg(key + "_cache", (b, cap) + row)
        g.arg("len", (b,), np.int32)
        if decode:
            g.arg("valid", (1,), np.int32)
        for name, shape in shapes.items():
            g.arg(name, shape)
        self.body(g, decode)
        return g.text(fname, ["y"] + [key + "_cache2" for key, _, _ in self.caches])

    def module_text(self, dtype, shapes):
        return "\n".join([self.function_text("prefill", dtype, False, shapes),
                          self.function_text("decode", dtype, True, shapes),
                          self.function_text("prefill_dynamic", dtype, False, shapes, True),
                          self.function_text("decode_dynamic", dtype, True, shapes, True)])


VARIANTS = ["mha", "gqa", "mqa", "gta_dao", "mla", "mla_qlora", "gla2", "mfa", "mfa_kr",
            "gta_sun", "mtla_s1", "mtla_s2", "mtla_s3"]
LATENT = ["mla", "mla_qlora", "gla2", "mtla_s1", "mtla_s2", "mtla_s3"]
SPECS = {name: Spec(name) for name in VARIANTS}


# ---------------------------------------------------------------------------
# Compilation (cached per variant, element type and pass list) and calls
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module", params=[np.float32, np.float64], ids=["f32", "f64"])
def dtype(request):
    return request.param


class Case:
    """A compiled variant: the reference layer (weights rounded to the element
    type), the weight arguments and the compiled module."""

    def __init__(self, name, dtype, passes):
        self.spec, self.dtype = SPECS[name], dtype
        base = ref.make_layer(self.spec.cfg)
        self.layer = ref.make_layer(self.spec.cfg, {k: rounded(v, dtype) for k, v in base.w.items()})
        self.w = self.spec.weights(self.layer)
        shapes = {k: v.shape for k, v in self.w.items()}
        self.module = compile_module(self.spec.module_text(dtype, shapes), passes)
        self.x = rounded(ref.make_input(T, D), dtype)

    def empty_caches(self):
        return [np.zeros((1, cap) + row, self.dtype) for _, row, cap in self.spec.caches]

    def results(self, n):
        return [(3, self.dtype)] + [(2 + len(row), self.dtype) for _, row, _ in self.spec.caches]

    def positions(self, pos):
        p = np.array([pos], np.int64)
        return [p, 2 * p] if getattr(self.spec, "pos2", False) else [p]

    def weights(self):
        return [w.astype(self.dtype) for w in self.w.values()]

    def prefill(self):
        args = ([self.x[None].astype(self.dtype)] + self.positions(list(range(T)))
                + self.empty_caches() + [np.zeros(1, np.int32)] + self.weights())
        out = call(self.module, "prefill", args, self.results(T))
        return out[0][0], out[1:]

    def valid_rows(self, tokens):
        """Cache rows (MTLA: slots) after `tokens` tokens."""
        s = getattr(self.spec.cfg, "s", 1)
        return -(-tokens // s)

    def step(self, fname, x, t, caches):
        """One decode step of every sequence b: token x[b] at position t[b]."""
        t = np.asarray(t)
        pos = t[:, None].astype(np.int64)
        pos = [pos, 2 * pos] if getattr(self.spec, "pos2", False) else [pos]
        valid = np.array([self.valid_rows(int(v) + 1) for v in t], np.int32)
        args = ([x[:, None].astype(self.dtype)] + pos + caches + [t.astype(np.int32), valid]
                + self.weights())
        out = call(self.module, fname, args, self.results(1))
        return out[0][:, 0], out[1:]

    def decode(self, x=None, steps=T):
        """One-token steps, each feeding the caches the last one wrote."""
        x = self.x if x is None else x
        caches, ys = self.empty_caches(), []
        for t in range(steps):
            y, caches = self.step("decode", x[None, t], [t], caches)
            ys.append(y[0])
        return np.stack(ys), caches


_CASES = {}


def case(name, dtype, absorbed=False):
    key = (name, np.dtype(dtype).name, absorbed)
    if key not in _CASES:
        _CASES[key] = Case(name, dtype, ABSORB if absorbed else ())
    return _CASES[key]


def reference_caches(c, ref_cache):
    """The reference's caches in the compiled layout ([rows, ...] per key)."""
    out = []
    for key, row, _ in c.spec.caches:
        out.append(ref_cache[key].reshape((-1,) + row))
    return out


def check_caches(c, got, want_rows, what):
    for (key, row, cap), g, w in zip(c.spec.caches, got, want_rows):
        n = len(w)
        check(g[0, :n], w, c.dtype, f"{what}: cache {key!r}")
        # The spare capacity keeps what it held (zeros).
        assert np.all(g[0, n:] == 0), f"{what}: cache {key!r} written beyond row {n}"


# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", VARIANTS)
def test_prefill_matches_reference(name, dtype):
    c = case(name, dtype)
    y, caches = c.prefill()
    want_y, want_cache = c.layer.prefill(c.x)
    check(y, want_y, dtype, f"{name} y")
    rows = reference_caches(c, want_cache)
    if name.startswith("mtla"):
        s = c.spec.cfg.s
        assert len(rows[0]) == -(-T // s)  # ceil(7 / s) slots
    check_caches(c, caches, rows, name)


@pytest.mark.parametrize("name", VARIANTS)
def test_dynamic_batch_prefill(name, dtype):
    """The prefill with dynamic batch and token dimensions on two sequences:
    the §11.1 input and the next 7 tokens of the same generator."""
    c = case(name, dtype)
    xs = np.stack([c.x, rounded(ref.make_input(2 * T, D)[T:], dtype)])
    pos = np.tile(np.arange(T), (2, 1))
    pos = [pos, 2 * pos] if getattr(c.spec, "pos2", False) else [pos]
    caches = [np.zeros((2, cap) + row, dtype) for _, row, cap in c.spec.caches]
    out = call(c.module, "prefill_dynamic", [xs.astype(dtype)] + pos + caches
               + [np.zeros(2, np.int32)] + c.weights(), c.results(T))
    for b in range(2):
        want_y, want_cache = c.layer.prefill(xs[b])
        check(out[0][b], want_y, dtype, f"{name} y[{b}]")
        check_caches(c, [o[b:b + 1] for o in out[1:]], reference_caches(c, want_cache),
                     f"{name}[{b}]")


@pytest.mark.parametrize("name", VARIANTS)
def test_decode_steps_match_prefill(name, dtype):
    """prefill == step-by-step decode, both compiled (materialised latent)."""
    c = case(name, dtype)
    y, caches = c.prefill()
    ys, dcaches = c.decode()
    check(ys, y, dtype, f"{name} decode y vs prefill y")
    for (key, _, _), a, b in zip(c.spec.caches, dcaches, caches):
        check(a, b, dtype, f"{name} decode cache {key!r} vs prefill")
    # And against the reference's own step-by-step decode.
    want_y, want_cache = c.layer.decode(c.x)
    check(ys, want_y, dtype, f"{name} decode y vs reference decode")
    check_caches(c, dcaches, reference_caches(c, want_cache), f"{name} decode")


@pytest.mark.parametrize("name", VARIANTS)
def test_ragged_batch_decode(name, dtype):
    """Decode steps of two sequences at different lengths in one batch
    (dynamic batch): sequence 1 (the next 7 tokens of the §11.1 generator)
    is 3 tokens ahead of sequence 0 (the §11.1 input), so their cache
    updates and visible rows differ (MTLA s = 2: one opens a slot while the
    other accumulates)."""
    c = case(name, dtype)
    x0, x1 = c.x, rounded(ref.make_input(2 * T, D)[T:], dtype)
    head = 3
    _, caches1 = c.decode(x1, steps=head)
    caches = [np.concatenate([np.zeros_like(k), k]) for k in caches1]
    ys0, ys1 = [], []
    for k in range(T - head):
        y, caches = c.step("decode_dynamic", np.stack([x0[k], x1[head + k]]), [k, head + k],
                           caches)
        ys0.append(y[0])
        ys1.append(y[1])
    want0, want1 = c.layer.prefill(x0)[0], c.layer.prefill(x1)
    check(np.stack(ys0), want0[:T - head], dtype, f"{name} sequence 0")
    check(np.stack(ys1), want1[0][head:], dtype, f"{name} sequence 1")
    check_caches(c, [k[1:] for k in caches], reference_caches(c, want1[1]), f"{name} seq 1")
    _, cache0 = c.layer.decode(x0[:T - head])
    check_caches(c, [k[:1] for k in caches], reference_caches(c, cache0), f"{name} seq 0")


@pytest.mark.parametrize("name", LATENT)
def test_absorbed_matches_materialised(name, dtype):
    """The same latent layers with --attn-absorb-latent=policy=always: the
    prefill (MTLA: stride-aware over partial slot states) and the decode
    steps agree with the materialised compilation and the reference."""
    plain, absorbed = case(name, dtype), case(name, dtype, absorbed=True)
    y, caches = plain.prefill()
    ya, caches_a = absorbed.prefill()
    check(ya, y, dtype, f"{name} absorbed prefill vs materialised")
    for a, b in zip(caches_a, caches):
        assert np.array_equal(a, b)  # the caches do not depend on absorption
    ys, _ = absorbed.decode()
    check(ys, y, dtype, f"{name} absorbed decode vs materialised prefill")
    check(ya, plain.layer.prefill(plain.x, absorbed=True)[0], dtype, f"{name} vs reference")


def absorbed_ir(name):
    c = case(name, np.float32)
    return c.spec.module_text(np.float32, {k: v.shape for k, v in c.w.items()})


@pytest.mark.parametrize("name", ["mla", "mtla_s2"])
def test_absorb_pass_rewrites_latent_attention(name):
    """policy=always leaves no latent attention with an up_k operand."""
    import subprocess
    import tempfile
    from harness import ATTN_OPT
    with tempfile.NamedTemporaryFile("w", suffix=".mlir") as fh:
        fh.write(absorbed_ir(name))
        fh.flush()
        out = subprocess.run([ATTN_OPT, fh.name, *ABSORB], capture_output=True, text=True,
                             check=True).stdout
    ops = [l for l in out.splitlines() if "attn.attention" in l]
    assert len(ops) == 4 and all("absorbed" in l and "up_k" not in l for l in ops), out


def test_absorbed_module_is_self_contained():
    """The CPU pipeline's output, absorbed or not, needs nothing beyond libc/libm
    (attn-memref-copy-to-linalg turns the absorbed query's concat into loops)."""
    from layer_harness import lower_to_llvm_ir
    assert "memrefCopy" not in lower_to_llvm_ir(absorbed_ir("mla"))  # materialised: fine
    assert "memrefCopy" not in lower_to_llvm_ir(absorbed_ir("mla"), ABSORB)


if __name__ == "__main__":
    name = sys.argv[1] if len(sys.argv) > 1 else "mla"
    dt = np.float64 if sys.argv[2:] == ["f64"] else np.float32
    spec = SPECS[name]
    layer = ref.make_layer(spec.cfg)
    print(spec.module_text(dt, {k: v.shape for k, v in spec.weights(layer).items()}))
