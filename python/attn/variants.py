"""Attention variants with the parameters their papers use.

Each constructor writes the `#attn.variant` attribute (docs/Dialects/
AttnDialect.md, ../shared/docs/variants.md) and has the compiler verify it at
once, so a bad declaration raises AttnError with the verifier's own message.
"""
from .errors import AttnError


def _fmt(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def rope(placement, dim, theta=None):
    """A `#attn.rope` attribute: placement full_head, q_suffix_shared_key or
    decoupled_shared_key; `dim` rotary columns."""
    theta = "" if theta is None else f", theta = {float(theta)!r}"
    return f"#attn.rope<placement = {placement}, dim = {dim}{theta}>"


class Variant:
    """One attention variant: `name` and the attribute's fields in order."""

    def __init__(self, name, **fields):
        self.name = name
        self.fields = fields
        self.mlir()  # verify now: errors surface where the variant is declared

    def attribute(self):
        """The `#attn.variant<...>` text."""
        body = ", ".join(f"{k} = {_fmt(v)}" for k, v in self.fields.items())
        return f"#attn.variant<{body}>"

    def mlir(self, dtype="bf16", query_tokens=1, absorbed=True, seq_lens=True,
             mask=None, function=None):
        """MLIR of one attention step of this variant (decode by default:
        one query token, latent variants absorbed); `query_tokens=0` for a
        prefill of any length."""
        from .compiler import _ext
        if mask is None:
            mask = "causal"
        m = _ext().build_attention(self.attribute(), dtype, query_tokens, absorbed,
                                   seq_lens, mask, function or self.name)
        if not m.ok:
            raise AttnError(f"invalid {self.name} variant", m.diagnostics)
        return m.text

    def report(self, dtype="bf16", tensor_cores=True):
        """The compiler's report for a decode step: cache bytes per token,
        decode intensity, the kernel schedule chosen and why."""
        from .compiler import _ext
        r = _ext().report(self.mlir(dtype=dtype), tensor_cores)
        if not r.ok:
            raise AttnError(f"report of {self.name} failed", r.diagnostics)
        return r.report

    _COLUMNS = ("function", "kv_form", "h_q", "h_kv", "h_out", "cache_elements",
                "cache_bytes", "vs_mha", "decode_intensity", "schedule",
                "rows_per_block", "unroll", "predicted_decode_us", "why")

    def decode_facts(self, dtype="bf16", tensor_cores=True):
        """The report's row as a dict: cache_bytes (per token per layer),
        vs_mha, decode_intensity (FLOP/byte), schedule, rows_per_block,
        predicted_decode_us (H100 roofline at B=16, L=8192), why."""
        row = self.report(dtype, tensor_cores).splitlines()[1]
        facts = dict(zip(self._COLUMNS, row.split(None, len(self._COLUMNS) - 1)))
        for k in ("cache_elements", "cache_bytes", "vs_mha", "decode_intensity",
                  "predicted_decode_us"):
            facts[k] = float(facts[k])
        return facts

    def cache_bytes_per_token(self, dtype="bf16"):
        """Cache bytes stored per token per layer."""
        return self.decode_facts(dtype)["cache_bytes"]

    def layer_mlir(self, d_model, capacity, dtype="bf16"):
        """MLIR of a whole attention layer over caches of `capacity` rows, as
        two functions taking the input, the positions, the caches, the
        cache lengths and the weights:

        * `<name>_prefill(x [B,T,D], positions [B,T], caches..., lengths,
          weights...) -> (y, caches...)`: causal over the prompt, its rows
          written into the caches at `lengths`;
        * `<name>_decode(x [B,1,D], positions [B,1], caches..., lengths,
          valid, weights...) -> (y, caches...)`: appends one row and attends
          over the first `valid` rows.

        Caches and weights by form:
        * separate (MHA, MQA, GQA, MFA): k_cache, v_cache [B,C,h_kv,d];
          wq [D,h_q,d], wk, wv [D,h_kv,d], wo [h_q,d,D];
        * tied (GTA): row_cache [B,C,h_kv,row], rope_cache [B,C,d_R];
          wq [D,h_q,d], wkv [D,h_kv,row], wkr [D,d_R], wo [h_q,d,D];
        * latent (MLA, GLA): latent_cache [B,C,h_c,d_c], rope_cache
          [B,C,d_R]; wq [D,h_q,d_nope+d_R], wkv [D,h_c,d_c], wkr [D,d_R],
          up_k [h_q,d_c,d_nope], up_v [h_q,d_c,d_v], wo [h_q,d_v,D]
          (the latent is normalised when the variant says latent_norm).
        * tied without a shared rotary key (MFA-KR): row_cache only, the
          rows rotated; MFA-KR adds alpha [row], transform [row,row];
        * Sun's GTA (separate, gated latent decoder): v_cache holds the
          latent [B,C,h_v,d_l]; adds wg [D,h_out*d_v] (sigmoid gate) and
          decoder [h_out,d_l,d_v]; wo is [h_out,d_v,D].
        * MTLA (latent, time_stride s): the caches hold slots (capacity
          counts slots), each the merge-weighted sum of s tokens' latents and
          the rotary key of its last token; adds the merge hyper-network
          whc, whp [d_c, d_c/4] and bhc, bhp [d_c/4]. Prefill attends over
          each token's partial slot state (stride-aware mask); decode's
          `valid` counts slots (ceil(tokens / s))."""
        f = self.fields
        form, epi = f["kv_form"], f.get("value_epilogue")
        stride = f.get("time_stride", 1)
        t, D, C, n = dtype, d_model, capacity, self.name
        hq, hkv, qk, dv = (f["num_q_heads"], f["num_kv_heads"], f["qk_head_dim"],
                           f["v_head_dim"])
        hout = f.get("num_out_heads", hq)
        rope_attr = f["rope"]
        dr = int(rope_attr.split("dim = ")[1].split(",")[0].split(">")[0])
        shared_key = "shared_key" in rope_attr
        gated = epi == "gated_latent_decoder"

        def ty(*dims):
            return "tensor<" + "x".join(str(x) for x in dims) + f"x{t}>"

        if form == "separate":
            hv = f.get("num_v_heads", hkv)
            vw = f["latent_dim"] if gated else dv
            caches = [("kc", ty("?", C, hkv, qk), "k", hkv, qk),
                      ("vc", ty("?", C, hv, vw), "v", hv, vw)]
            weights = [("wq", ty(D, hq, qk)), ("wk", ty(D, hkv, qk)), ("wv", ty(D, hv, vw))]
            if gated:
                weights += [("wg", ty(D, hout * dv)), ("dec", ty(hout, vw, dv))]
        else:
            row = f["latent_dim"] if form == "latent" else int(
                f["tie"].split("row = ")[1].split(",")[0])
            caches = [("rc", ty("?", C, hkv, row), "r", hkv, row)]
            weights = [("wq", ty(D, hq, qk)), ("wkv", ty(D, hkv, row))]
            if shared_key:
                caches.append(("krc", ty("?", C, dr), "kr", None, dr))
                weights.append(("wkr", ty(D, dr)))
            if stride > 1:
                hid = max(8, row // 4)
                weights += [("whc", ty(row, hid)), ("bhc", ty(hid)),
                            ("whp", ty(row, hid)), ("bhp", ty(hid))]
            if form == "latent":
                weights += [("uk", ty(hq, row, qk - dr)), ("uv", ty(hq, row, dv))]
            if epi == "key_reuse_post":
                weights += [("alpha", ty(row)), ("tr", ty(row, row))]
        weights.append(("wo", ty(hout, dv, D)))

        def function(fn, T):
            x, pos, q = ty("?", T, D), f"tensor<?x{T}xi64>", ty("?", T, hq, qk)
            o = ty("?", T, hout, dv)
            new = {c[2]: (ty("?", T, c[3], c[4]) if c[3] else ty("?", T, c[4]))
                   for c in caches}
            lines = [f"%q0 = attn.linear %x, %wq : {x}, {ty(D, hq, qk)} -> {q}",
                     f"%q = attn.rope {rope_attr} %q0 positions(%pos : {pos}) : {q}"]
            if form == "separate":
                k, v = new["k"], new["v"]
                lines += [f"%k0 = attn.linear %x, %wk : {x}, {ty(D, hkv, qk)} -> {k}",
                          f"%v = attn.linear %x, %wv : {x}, {weights[2][1]} -> {v}",
                          f"%k = attn.rope {rope_attr} %k0 positions(%pos : {pos}) : {k}"]
                if gated:
                    lines.append(f"%gate = attn.linear %x, %wg activation = sigmoid : {x}, "
                                 f"{ty(D, hout * dv)} -> {ty('?', T, hout * dv)}")
            else:
                r = new["r"]
                norm = f.get("latent_norm") if form == "latent" else None
                # Rows rotate only when the key has no shared rotary part.
                post = "norm" if norm else None if shared_key or form == "latent" else "rope"
                lines += [f"%{'r0' if post else 'r'} = attn.linear %x, %wkv : {x}, "
                          f"{ty(D, hkv, caches[0][4])} -> {r}"]
                if post == "norm":
                    lines.append(f"%r = attn.norm {norm} %r0 : {r}")
                elif post == "rope":
                    lines.append(f"%r = attn.rope {rope_attr} %r0 positions(%pos : {pos}) : {r}")
                if shared_key:
                    kr = new["kr"]
                    lines += [f"%kr0 = attn.linear %x, %wkr : {x}, {ty(D, dr)} -> {kr}",
                              f"%kr = attn.rope {rope_attr} %kr0 positions(%pos : {pos}) : {kr}"]
            merge = ""
            if stride > 1:  # the slot merge weights of MTLA's hyper-network
                row = caches[0][4]
                c3, wt = ty("?", T, row), ty("?", T)
                lines += [f"%c3 = tensor.collapse_shape %r [[0], [1], [2, 3]] : {new['r']} "
                          f"into {c3}",
                          f"%w = attn.merge_weights %c3 positions(%pos : {pos}) "
                          f"chunk(%whc, %bhc : {weights[3][1]}, {weights[4][1]}) "
                          f"token(%whp, %bhp : {weights[5][1]}, {weights[6][1]}) "
                          f"time_stride = {stride} : {c3} -> {wt}"]
            for name, ctype, ssa, _, _ in caches:
                if stride > 1:
                    merge = (f" weights(%w : {wt}) time_stride = {stride} merge = weighted_sum"
                             if ssa == "r" else f" time_stride = {stride} merge = replace")
                lines.append(f"%{name}2 = attn.cache_update %{name}, %{ssa} lengths(%len : "
                             f"tensor<?xi32>){merge} : {ctype}, {new[ssa]}")
            decode = fn == "decode"
            if stride > 1 and not decode:  # each token's partial slot state
                lines.append(f"%part = attn.partial_slots %r weights(%w : {wt}) positions(%pos "
                             f": {pos}) time_stride = {stride} : {new['r']}")
            src = {c[2]: (f"%{c[0]}2", c[1]) if decode else (f"%{c[2]}", new[c[2]])
                   for c in caches}
            if form == "separate":
                operands = (f"keys({src['k'][0]} : {src['k'][1]}) "
                            f"values({src['v'][0]} : {src['v'][1]})")
            else:
                rows = ("%part", new["r"]) if stride > 1 and not decode else src["r"]
                operands = f"rows({rows[0]} : {rows[1]})"
                if shared_key:
                    operands += f" rope_keys({src['kr'][0]} : {src['kr'][1]})"
                if form == "latent":
                    operands += (f" up_k(%uk : {ty(hq, caches[0][4], qk - dr)})"
                                 f" up_v(%uv : {ty(hq, caches[0][4], dv)})")
            if decode:
                operands += " seq_lens(%valid : tensor<?xi32>)"
            if gated:  # the op's operand order: seq_lens, then the epilogue's
                operands += (f" gate(%gate : {ty('?', T, hout * dv)})"
                             f" decoder(%dec : {weights[4][1]})")
            if epi == "key_reuse_post":
                row = caches[0][4]
                operands += f" alpha(%alpha : {ty(row)}) transform(%tr : {ty(row, row)})"
            if stride > 1 and not decode:
                operands += " mask = stride_aware_causal"
            lines += [f"%o = attn.attention {self.attribute()} query(%q : {q}) {operands} -> {o}",
                      f"%y = attn.linear %o, %wo contract = 2 : {o}, {ty(hout, dv, D)} -> {x}",
                      "return %y, " + ", ".join(f"%{c[0]}2" for c in caches) + " : "
                      + ", ".join([x] + [c[1] for c in caches])]
            args = ([f"%x: {x}", f"%pos: {pos}"] + [f"%{c[0]}: {c[1]}" for c in caches]
                    + ["%len: tensor<?xi32>"] + (["%valid: tensor<?xi32>"] if decode else [])
                    + [f"%{w}: {wt}" for w, wt in weights])
            results = ", ".join([x] + [c[1] for c in caches])
            body = "\n  ".join(lines)
            return (f"func.func @{n}_{fn}({', '.join(args)})\n    -> ({results}) {{\n"
                    f"  {body}\n}}\n")

        return function("prefill", "?") + "\n" + function("decode", 1)

    def __repr__(self):
        return f"{self.name}({self.attribute()})"


def _scale(qk_dim, softmax_scale):
    return float(softmax_scale) if softmax_scale is not None else qk_dim ** -0.5


def GQA(num_q_heads, num_kv_heads, head_dim, theta=10000.0, softmax_scale=None,
        name="gqa"):
    """Grouped-query attention: num_q_heads / num_kv_heads query heads share
    each key/value head (MHA and MQA are the two ends)."""
    return Variant(name, kv_form="separate", num_q_heads=num_q_heads,
                   num_kv_heads=num_kv_heads, qk_head_dim=head_dim,
                   v_head_dim=head_dim, rope=rope("full_head", head_dim, theta),
                   softmax_scale=_scale(head_dim, softmax_scale))


def MHA(num_heads, head_dim, theta=10000.0, softmax_scale=None):
    """Multi-head attention: one key/value head per query head."""
    return GQA(num_heads, num_heads, head_dim, theta, softmax_scale, name="mha")


def MQA(num_q_heads, head_dim, theta=10000.0, softmax_scale=None):
    """Multi-query attention: one key/value head for all query heads."""
    return GQA(num_q_heads, 1, head_dim, theta, softmax_scale, name="mqa")


def GTA(num_q_heads, num_kv_heads, head_dim, rope_dim=64, theta=10000.0,
        softmax_scale=None):
    """Grouped-tied attention: one stored row per KV head serves as the value
    and (its first head_dim - rope_dim columns) as the key; one rotary key of
    rope_dim is shared by all heads."""
    return Variant("gta", kv_form="tied", num_q_heads=num_q_heads,
                   num_kv_heads=num_kv_heads, qk_head_dim=head_dim,
                   v_head_dim=head_dim,
                   rope=rope("q_suffix_shared_key", rope_dim, theta),
                   tie=f"#attn.tie<row = {head_dim}, key = 0 : {head_dim - rope_dim}, "
                       f"value = 0 : {head_dim}>",
                   softmax_scale=_scale(head_dim, softmax_scale))


def MLA(num_q_heads, latent_dim=512, rope_dim=64, qk_nope_dim=128,
        v_head_dim=128, num_latent_heads=1, latent_norm="rms",
        softmax_scale=None, name="mla"):
    """Multi-head latent attention: one latent row (latent_dim) plus a shared
    rotary key (rope_dim) per token, up-projected per head (absorbed at
    decode)."""
    qk = qk_nope_dim + rope_dim
    fields = dict(kv_form="latent", num_q_heads=num_q_heads,
                  num_kv_heads=num_latent_heads, qk_head_dim=qk,
                  v_head_dim=v_head_dim, latent_dim=latent_dim,
                  rope=rope("decoupled_shared_key", rope_dim),
                  softmax_scale=_scale(qk, softmax_scale))
    if latent_norm:
        fields["latent_norm"] = latent_norm
    fields["value_epilogue"] = "latent_up"
    return Variant(name, **fields)


def GLA(num_q_heads, num_latent_heads=2, latent_dim=256, rope_dim=64,
        qk_nope_dim=128, v_head_dim=128, softmax_scale=None):
    """Grouped latent attention: MLA with several latent heads, each serving
    a group of query heads."""
    return MLA(num_q_heads, latent_dim, rope_dim, qk_nope_dim, v_head_dim,
               num_latent_heads, "rms", softmax_scale, name="gla")


def MFA(num_q_heads, head_dim, theta=10000.0, softmax_scale=None):
    """Multi-matrix factorization attention: many query heads over one wide
    shared key/value head."""
    return GQA(num_q_heads, 1, head_dim, theta, softmax_scale, name="mfa")


def MFA_KR(num_q_heads, head_dim, theta=10000.0, softmax_scale=None):
    """MFA with key reuse: the stored key row is also the value, corrected by
    a learned post-transform (alpha, transform)."""
    return Variant("mfa_kr", kv_form="tied", num_q_heads=num_q_heads,
                   num_kv_heads=1, qk_head_dim=head_dim, v_head_dim=head_dim,
                   rope=rope("full_head", head_dim, theta),
                   tie=f"#attn.tie<row = {head_dim}, key = 0 : {head_dim}, "
                       f"value = 0 : {head_dim}>",
                   softmax_scale=_scale(head_dim, softmax_scale),
                   value_epilogue="key_reuse_post")


def GTASun(num_score_heads, num_out_heads, head_dim, latent_dim,
           softmax_scale=None):
    """Sun's GTA: num_score_heads shared score maps over one key head, a
    latent value (latent_dim) decoded per output head through a gate."""
    return Variant("gta_sun", kv_form="separate", num_q_heads=num_score_heads,
                   num_out_heads=num_out_heads, num_kv_heads=1, num_v_heads=1,
                   qk_head_dim=head_dim, v_head_dim=head_dim,
                   latent_dim=latent_dim, rope=rope("full_head", head_dim),
                   softmax_scale=_scale(head_dim, softmax_scale),
                   value_epilogue="gated_latent_decoder")


def MTLA(num_q_heads, time_stride=2, latent_dim=512, rope_dim=64,
         qk_nope_dim=128, v_head_dim=128, softmax_scale=None):
    """Multi-head temporal latent attention: MLA whose cache merges every
    time_stride adjacent tokens into one slot (hypernetwork weights)."""
    qk = qk_nope_dim + rope_dim
    return Variant("mtla", kv_form="latent", num_q_heads=num_q_heads,
                   num_kv_heads=1, qk_head_dim=qk, v_head_dim=v_head_dim,
                   latent_dim=latent_dim,
                   rope=rope("decoupled_shared_key", rope_dim),
                   softmax_scale=_scale(qk, softmax_scale),
                   time_stride=time_stride,
                   temporal_merge="hypernet_sigmoid_dot",
                   cache_update="append_or_accumulate_last",
                   slot_rope="last_in_slot", latent_norm="layer",
                   value_epilogue="latent_up")
