//===- AttnOps.td - attn operations ------------------------*- tablegen -*-===//
//
// The core attention op and the layer ops around it.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_IR_ATTNOPS_TD
#define ATTN_DIALECT_ATTN_IR_ATTNOPS_TD

include "attn/Dialect/Attn/IR/AttnDialect.td"
include "attn/Dialect/Attn/IR/AttnEnums.td"
include "attn/Dialect/Attn/IR/AttnAttrs.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/CommonAttrConstraints.td"

def Attn_FloatTensor : RankedTensorOf<[AnyFloat]>;
def Attn_IndexTensor : RankedTensorOf<[I32, I64]>;

//===----------------------------------------------------------------------===//
// attention
//===----------------------------------------------------------------------===//

def Attn_AttentionOp : Attn_Op<"attention", [Pure, AttrSizedOperandSegments]> {
  let summary = "attention of query tokens over cache rows, for any variant";
  let description = [{
    Computes, for every batch entry `b`, query token `t` and output head `i`,

    ```
    o[b, t, i] = epilogue_i( sum_j softmax_j(softmax_scale * q[b, t, m(i)] . k_j) * v_j )
    ```

    where the key `k_j` and value `v_j` are views of the cache rows that the
    variant's `kv_form` names:

    * `separate`: `keys` `[B, L, num_kv_heads, qk_head_dim]` and `values`
      `[B, L, num_v_heads, v_head_dim]` (`latent_dim` for Sun's GTA).
    * `tied`: `rows` `[B, L, num_kv_heads, tie.row]`; the key is the tie's key
      slice followed by `rope_keys[b, j]` when the rotary key is shared, the
      value is the tie's value slice.
    * `latent`: `rows` `[B, L, num_kv_heads, latent_dim]` and `rope_keys`
      `[B, L, rope.dim]`. Unabsorbed, `up_k` `[num_q_heads, latent_dim,
      qk_head_dim - rope.dim]` builds each head's key and `up_v`
      `[num_q_heads, latent_dim, v_head_dim]` its value. With `absorbed` the
      query is already `[q_nope up_k_i^T ; q_rope]` (`latent_dim + rope.dim`
      wide), the key is the raw row and `up_v` is applied after aggregation.

    `query` is `[B, Tq, num_q_heads, width]` and already rotated. The
    optional `seq_lens` `[B]` gives the valid rows of each sequence (all `L`
    when absent). The `mask` is bottom-right aligned: query `t` sees rows
    `j <= seq_len - Tq + t` (`causal`); `stride_aware_causal` is MTLA's
    prefill mask over per-token partial slot states. The epilogue operands
    are `gate` `[B, Tq, num_out_heads * v_head_dim]` and `decoder`
    `[num_out_heads, latent_dim, v_head_dim]` (Sun's GTA), `alpha` `[row]`
    and `transform` `[row, row]` (MFA-KR). The result is
    `[B, Tq, num_out_heads, v_head_dim]`.

    Example, one GQA decode step over 8 KV heads:

    ```mlir
    #gqa = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
                         qk_head_dim = 128, v_head_dim = 128,
                         rope = #attn.rope<placement = full_head, dim = 128>,
                         softmax_scale = 0.088388347648318433>
    %o = attn.attention #gqa query(%q : tensor<4x1x32x128xbf16>)
           keys(%k : tensor<4x?x8x128xbf16>) values(%v : tensor<4x?x8x128xbf16>)
           seq_lens(%len : tensor<4xi32>) -> tensor<4x1x32x128xbf16>
    ```
  }];
  let arguments = (ins
    Attn_VariantAttr:$variant,
    Attn_FloatTensor:$query,
    Optional<Attn_FloatTensor>:$keys,
    Optional<Attn_FloatTensor>:$values,
    Optional<Attn_FloatTensor>:$rows,
    Optional<Attn_FloatTensor>:$rope_keys,
    Optional<Attn_FloatTensor>:$up_k,
    Optional<Attn_FloatTensor>:$up_v,
    Optional<Attn_IndexTensor>:$seq_lens,
    Optional<Attn_FloatTensor>:$gate,
    Optional<Attn_FloatTensor>:$decoder,
    Optional<Attn_FloatTensor>:$alpha,
    Optional<Attn_FloatTensor>:$transform,
    DefaultValuedAttr<Attn_MaskAttr, "::mlir::attn::Mask::Causal">:$mask,
    UnitAttr:$absorbed);
  let results = (outs Attn_FloatTensor:$result);
  let assemblyFormat = [{
    $variant `query` `(` $query `:` type($query) `)`
    (`keys` `(` $keys^ `:` type($keys) `)`)?
    (`values` `(` $values^ `:` type($values) `)`)?
    (`rows` `(` $rows^ `:` type($rows) `)`)?
    (`rope_keys` `(` $rope_keys^ `:` type($rope_keys) `)`)?
    (`up_k` `(` $up_k^ `:` type($up_k) `)`)?
    (`up_v` `(` $up_v^ `:` type($up_v) `)`)?
    (`seq_lens` `(` $seq_lens^ `:` type($seq_lens) `)`)?
    (`gate` `(` $gate^ `:` type($gate) `)`)?
    (`decoder` `(` $decoder^ `:` type($decoder) `)`)?
    (`alpha` `(` $alpha^ `:` type($alpha) `)`)?
    (`transform` `(` $transform^ `:` type($transform) `)`)?
    (`mask` `=` `` $mask^)? (`absorbed` $absorbed^)?
    attr-dict `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Layer ops
//===----------------------------------------------------------------------===//

def Attn_LinearOp : Attn_Op<"linear", [Pure]> {
  let summary = "a projection y = act(x . W + b) over the trailing dimensions";
  let description = [{
    Contracts the trailing `contract` dimensions of `input` (`[..., I1..Ik]`)
    with the leading ones of `weight` (`[I1..Ik, O1..Om]`), adds an optional
    `bias` (`[O1..Om]`) and applies `activation`; the result is
    `[..., O1..Om]`. A weight shaped `[in, heads, width]` therefore yields
    per-head tensors directly, and an output projection contracts
    `[heads, width]` with `contract = 2`. Query, key/value, latent, gate and
    output projections are all `attn.linear`, so weight absorption can find
    and rewrite them.

    ```mlir
    %q = attn.linear %x, %wq : tensor<2x7x4096xbf16>, tensor<4096x32x128xbf16> -> tensor<2x7x32x128xbf16>
    %y = attn.linear %o, %wo contract = 2
           : tensor<2x7x32x128xbf16>, tensor<32x128x4096xbf16> -> tensor<2x7x4096xbf16>
    %g = attn.linear %x, %wg bias(%bg : tensor<1280xf32>) activation = sigmoid
           : tensor<1x7x1280xf32>, tensor<1280x1280xf32> -> tensor<1x7x1280xf32>
    ```
  }];
  let arguments = (ins Attn_FloatTensor:$input, Attn_FloatTensor:$weight,
                       Optional<Attn_FloatTensor>:$bias,
                       DefaultValuedAttr<I64Attr, "1">:$contract,
                       DefaultValuedAttr<Attn_ActivationAttr,
                         "::mlir::attn::Activation::None">:$activation);
  let results = (outs Attn_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`bias` `(` $bias^ `:` type($bias) `)`)?
    (`contract` `=` $contract^)? (`activation` `=` `` $activation^)? attr-dict
    `:` type($input) `,` type($weight) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Attn_NormOp : Attn_Op<"norm", [Pure, AttrSizedOperandSegments,
                                   AllTypesMatch<["input", "result"]>]> {
  let summary = "RMS or layer normalisation over the last dimension";
  let description = [{
    `rms`: `x / sqrt(mean(x^2) + epsilon) * weight`; `layer`:
    `(x - mean(x)) / sqrt(var(x) + epsilon) * weight + bias`. The optional
    `weight` and `bias` are `[last dim]`. A latent cache of several latent
    heads (`[..., heads, width]`) is normalised per head.

    ```mlir
    %c = attn.norm rms %a {epsilon = 1.000000e-06 : f64} : tensor<1x7x512xf32>
    ```
  }];
  let arguments = (ins Attn_NormKindAttr:$kind, Attn_FloatTensor:$input,
                       Optional<Attn_FloatTensor>:$weight,
                       Optional<Attn_FloatTensor>:$bias,
                       DefaultValuedAttr<F64Attr, "1.0e-6">:$epsilon);
  let results = (outs Attn_FloatTensor:$result);
  let assemblyFormat = [{
    $kind $input (`weight` `(` $weight^ `:` type($weight) `)`)?
    (`bias` `(` $bias^ `:` type($bias) `)`)? attr-dict `:` type($input)
  }];
  let hasVerifier = 1;
}

def Attn_RopeOp : Attn_Op<"rope", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "rotary position embedding of the last `rope.dim` channels";
  let description = [{
    Rotates the last `rope.dim` channels of every head of `input`
    (`[B, T, heads, width]`, or `[B, T, width]` for a shared rotary key) by the
    angles `positions[b, t] * theta^(-2k / dim)` (YaRN-corrected when the rope
    carries `yarn`), pairing channels as the rope's `layout` says. Other
    channels pass through.

    ```mlir
    %kr = attn.rope #attn.rope<placement = decoupled_shared_key, dim = 64, layout = interleaved>
            %r positions(%pos : tensor<1x7xi64>) : tensor<1x7x64xf32>
    ```
  }];
  let arguments = (ins Attn_FloatTensor:$input, Attn_IndexTensor:$positions,
                       Attn_RopeAttr:$rope);
  let results = (outs Attn_FloatTensor:$result);
  let assemblyFormat = [{
    $rope $input `positions` `(` $positions `:` type($positions) `)`
    attr-dict `:` type($input)
  }];
  let hasVerifier = 1;
}

def Attn_MergeWeightsOp : Attn_Op<"merge_weights", [Pure]> {
  let summary = "MTLA's per-token weight for merging a token into its slot";
  let description = [{
    `w[b, t] = sigmoid(<PE(positions[b, t] / time_stride) chunk_weight +
    chunk_bias, latent[b, t] token_weight + token_bias>)`, where `PE(p)` is the
    interleaved sinusoidal embedding of width `latent` (`sin` at even, `cos`
    at odd channels, base 10000). `latent` is `[B, T, d_c]`, the weights
    `[d_c, r]`, the biases `[r]`; the result is `[B, T]`.

    ```mlir
    %w = attn.merge_weights %c positions(%pos : tensor<1x7xi64>)
           chunk(%wc, %bc : tensor<256x64xf32>, tensor<64xf32>)
           token(%wp, %bp : tensor<256x64xf32>, tensor<64xf32>)
           time_stride = 2 : tensor<1x7x256xf32> -> tensor<1x7xf32>
    ```
  }];
  let arguments = (ins Attn_FloatTensor:$latent, Attn_IndexTensor:$positions,
                       Attn_FloatTensor:$chunk_weight, Attn_FloatTensor:$chunk_bias,
                       Attn_FloatTensor:$token_weight, Attn_FloatTensor:$token_bias,
                       I64Attr:$time_stride);
  let results = (outs Attn_FloatTensor:$result);
  let assemblyFormat = [{
    $latent `positions` `(` $positions `:` type($positions) `)`
    `chunk` `(` $chunk_weight `,` $chunk_bias `:` type($chunk_weight) `,` type($chunk_bias) `)`
    `token` `(` $token_weight `,` $token_bias `:` type($token_weight) `,` type($token_bias) `)`
    `time_stride` `=` $time_stride attr-dict `:` type($latent) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Attn_PartialSlotsOp : Attn_Op<"partial_slots", [Pure, AllTypesMatch<["rows", "result"]>]> {
  let summary = "MTLA's per-token partial slot states of a prompt";
  let description = [{
    `result[b, i] = sum_j weights[b, j] * rows[b, j]` over the tokens `j <= i`
    of this call whose slot `positions[b, j] / time_stride` is the slot of
    token `i`: a segmented inclusive prefix sum. For a prompt that starts a
    slot (a fresh prompt) this is the state each slot has after token `i`,
    the keys MTLA's stride-aware prefill attends over. `rows` is
    `[B, T, ...]`, `weights` and `positions` are `[B, T]`.

    ```mlir
    %p = attn.partial_slots %c weights(%w : tensor<1x7xf32>)
           positions(%pos : tensor<1x7xi64>) time_stride = 2 : tensor<1x7x1x256xf32>
    ```
  }];
  let arguments = (ins Attn_FloatTensor:$rows, Attn_FloatTensor:$weights,
                       Attn_IndexTensor:$positions, I64Attr:$time_stride);
  let results = (outs Attn_FloatTensor:$result);
  let assemblyFormat = [{
    $rows `weights` `(` $weights `:` type($weights) `)`
    `positions` `(` $positions `:` type($positions) `)`
    `time_stride` `=` $time_stride attr-dict `:` type($rows)
  }];
  let hasVerifier = 1;
}

def Attn_CacheUpdateOp : Attn_Op<"cache_update", [Pure, AllTypesMatch<["cache", "result"]>]> {
  let summary = "write new rows into a cache: append, or MTLA's slot merge";
  let description = [{
    `cache` is `[B, capacity, ...]` and `rows` `[B, T, ...]` with the same
    trailing dims. `lengths[b]` counts the tokens already seen by sequence
    `b`. Token `t = lengths[b] + i` goes to slot `t / time_stride`. With
    `time_stride = 1` the rows are appended. With a larger stride `merge`
    says what happens: `weighted_sum` writes `weights[b, i] * row` when `t`
    starts a slot and adds it otherwise (MTLA's latent), `replace` overwrites
    the slot (the rotary key of the last token merged). The caller guarantees
    the slots written fit in `capacity`.

    ```mlir
    %c2 = attn.cache_update %cache, %c lengths(%len : tensor<1xi32>)
            weights(%w : tensor<1x1xf32>) time_stride = 2 merge = weighted_sum
            : tensor<1x1024x1x256xf32>, tensor<1x1x1x256xf32>
    ```
  }];
  let arguments = (ins Attn_FloatTensor:$cache, Attn_FloatTensor:$rows,
                       Attn_IndexTensor:$lengths,
                       Optional<Attn_FloatTensor>:$weights,
                       DefaultValuedAttr<I64Attr, "1">:$time_stride,
                       OptionalAttr<Attn_SlotMergeAttr>:$merge);
  let results = (outs Attn_FloatTensor:$result);
  let assemblyFormat = [{
    $cache `,` $rows `lengths` `(` $lengths `:` type($lengths) `)`
    (`weights` `(` $weights^ `:` type($weights) `)`)?
    (`time_stride` `=` $time_stride^)? (`merge` `=` `` $merge^)?
    attr-dict `:` type($cache) `,` type($rows)
  }];
  let hasVerifier = 1;
}

#endif // ATTN_DIALECT_ATTN_IR_ATTNOPS_TD
