//===- AttnAttrs.td - attn attributes ----------------------*- tablegen -*-===//
//
// The variant attribute and its parts. One `#attn.variant` declares what is
// cached and how keys and values are viewed from it.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_IR_ATTNATTRS_TD
#define ATTN_DIALECT_ATTN_IR_ATTNATTRS_TD

include "attn/Dialect/Attn/IR/AttnDialect.td"
include "attn/Dialect/Attn/IR/AttnEnums.td"

// A double printed so that it round-trips exactly.
class Attn_F64Parameter<string desc, string default = "">
    : AttrParameter<"::llvm::APFloat", desc> {
  let parser = [{ ::mlir::attn::detail::parseF64($_parser) }];
  let printer = [{ $_printer.printFloat($_self) }];
  let comparator = "$_lhs.bitwiseIsEqual($_rhs)";
  let defaultValue = !if(!empty(default), "", "::llvm::APFloat(" # default # ")");
}

// An optional list of integers written `[a, b, c]`.
class Attn_I64ListParameter<string desc> : OptionalArrayRefParameter<"int64_t", desc> {
  let parser = [{ ::mlir::attn::detail::parseI64List($_parser) }];
  let printer = [{ ::mlir::attn::detail::printI64List($_printer, $_self) }];
}

class Attn_EnumParameter<EnumAttrInfo info, string default>
    : EnumParameter<info> {
  let defaultValue = default;
}

def Attn_YarnAttr : Attn_Attr<"Yarn", "yarn"> {
  let summary = "YaRN context extension of the rotary frequencies";
  let description = [{
    DeepSeek's YaRN: rotary frequencies between the `beta_fast` and
    `beta_slow` rotations (counted over `original_len` positions) are blended
    towards `1 / factor` of their value. The matching softmax rescale
    (`m = 0.1 * mscale * ln(factor) + 1`, scale times `m^2`) is folded into the
    variant's `softmax_scale` by whoever builds the variant; `mscale` is kept
    here so tools can explain it.

    ```mlir
    #attn.yarn<factor = 4.000000e+01, original_len = 4096>
    ```
  }];
  let parameters = (ins
    Attn_F64Parameter<"frequency scaling factor">:$factor,
    "int64_t":$original_len,
    Attn_F64Parameter<"rotations above which frequencies are kept", "32.0">:$beta_fast,
    Attn_F64Parameter<"rotations below which frequencies are fully scaled", "1.0">:$beta_slow,
    Attn_F64Parameter<"attention temperature multiplier", "1.0">:$mscale);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Attn_RopeAttr : Attn_Attr<"Rope", "rope"> {
  let summary = "rotary position embedding: placement, width, layout, base";
  let description = [{
    RoPE always rotates the last `dim` channels of a query or key head (all of
    them for `full_head`). With the `*_shared_key` placements the rotary part
    of the key is one stream shared by all groups, stored beside the rows.

    ```mlir
    #attn.rope<placement = decoupled_shared_key, dim = 64, layout = interleaved, theta = 1.000000e+04>
    ```
  }];
  let parameters = (ins
    Attn_EnumParameter<Attn_RopePlacement, "::mlir::attn::RopePlacement::None">:$placement,
    DefaultValuedParameter<"int64_t", "0">:$dim,
    Attn_EnumParameter<Attn_RopeLayout, "::mlir::attn::RopeLayout::Half">:$layout,
    Attn_F64Parameter<"rotary base", "10000.0">:$theta,
    OptionalParameter<"::mlir::attn::YarnAttr">:$yarn);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// True when the rotary key is one stream shared by every group.
    bool hasSharedKey() const;
  }];
}

def Attn_TieAttr : Attn_Attr<"Tie", "tie"> {
  let summary = "which columns of a tied row serve as key and as value";
  let description = [{
    A tied cache stores one `row`-wide vector per head and token. The key's
    non-rotary part is columns `key_begin : key_end` of it (half-open, as a
    Python slice), the value is columns `value_begin : value_end`. Dao's GTA ties the first
    `d_h - d_R` columns as key and the whole row as value; MFA-KR ties the
    whole row as both.

    ```mlir
    #attn.tie<row = 128, key = 0 : 64, value = 0 : 128>
    ```
  }];
  let parameters = (ins "int64_t":$row, "int64_t":$key_begin, "int64_t":$key_end,
                        "int64_t":$value_begin, "int64_t":$value_end);
  let assemblyFormat = [{
    `<` `row` `=` $row `,` `key` `=` $key_begin `:` $key_end `,`
        `value` `=` $value_begin `:` $value_end `>`
  }];
  let genVerifyDecl = 1;
}

def Attn_VariantAttr : Attn_Attr<"Variant", "variant"> {
  let summary = "an attention variant: heads, grouping, cache form, rope, stride";
  let description = [{
    Declares one attention variant. Query head `i` reads KV / tied / latent
    head `i / (num_q_heads / num_kv_heads)` (contiguous groups).

    | parameter | meaning |
    |---|---|
    | `kv_form` | `separate` K and V heads, `tied` (one row serves both), or `latent` rows with per-head up-projections |
    | `num_q_heads` | score maps per token (h_q) |
    | `num_out_heads` | output heads (Sun's GTA: more output heads than score maps); default `num_q_heads` |
    | `num_kv_heads` | K heads, tied heads, or latent heads (h_kv, h_c) |
    | `num_v_heads` | V heads when they differ from K heads (Sun's GTA); default `num_kv_heads` |
    | `qk_head_dim` | query-key dot width per head before absorption, rotary part included |
    | `v_head_dim` | value / output width per output head |
    | `latent_dim` | latent row width per latent head (d_c), or the latent value width (d_l) of Sun's GTA |
    | `rope` | `#attn.rope<...>`: placement, rotary width, layout, base, YaRN |
    | `tie` | `#attn.tie<...>`: the key and value column slices of a tied row |
    | `softmax_scale` | sigma, explicit (it is never derived from the absorbed width) |
    | `time_stride`, `temporal_merge`, `cache_update`, `slot_rope` | MTLA's merge of adjacent tokens into one slot |
    | `latent_norm` | normalisation of a latent row before it is cached |
    | `value_epilogue` | per-head work after aggregation |
    | `score_map_of_head`, `latent_of_head` | Sun's GTA: explicit output head to score map and to latent head assignment |

    ```mlir
    // GQA, Llama-3-8B: 32 query heads over 8 KV heads of 128.
    #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
                  qk_head_dim = 128, v_head_dim = 128,
                  rope = #attn.rope<placement = full_head, dim = 128, theta = 5.000000e+05>,
                  softmax_scale = 0.088388347648318433>
    ```
  }];
  let parameters = (ins
    EnumParameter<Attn_KvForm>:$kv_form,
    "int64_t":$num_q_heads,
    OptionalParameter<"std::optional<int64_t>">:$num_out_heads,
    "int64_t":$num_kv_heads,
    OptionalParameter<"std::optional<int64_t>">:$num_v_heads,
    "int64_t":$qk_head_dim,
    "int64_t":$v_head_dim,
    OptionalParameter<"std::optional<int64_t>">:$latent_dim,
    "::mlir::attn::RopeAttr":$rope,
    OptionalParameter<"::mlir::attn::TieAttr">:$tie,
    Attn_F64Parameter<"softmax scale">:$softmax_scale,
    DefaultValuedParameter<"int64_t", "1">:$time_stride,
    Attn_EnumParameter<Attn_TemporalMerge, "::mlir::attn::TemporalMerge::None">:$temporal_merge,
    Attn_EnumParameter<Attn_CacheUpdate, "::mlir::attn::CacheUpdate::Append">:$cache_update,
    Attn_EnumParameter<Attn_SlotRope, "::mlir::attn::SlotRope::PerToken">:$slot_rope,
    Attn_EnumParameter<Attn_NormKind, "::mlir::attn::NormKind::None">:$latent_norm,
    Attn_EnumParameter<Attn_ValueEpilogue, "::mlir::attn::ValueEpilogue::None">:$value_epilogue,
    Attn_I64ListParameter<"score map of each output head">:$score_map_of_head,
    Attn_I64ListParameter<"latent head of each output head">:$latent_of_head);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Output heads (defaults to the query heads).
    int64_t getNumOutputHeads() const;
    /// Value heads (defaults to the KV heads).
    int64_t getNumValueHeads() const;
    /// Query heads per KV / tied / latent head.
    int64_t getGroupSize() const;
    /// Rotary channels per query head.
    int64_t getRopeDim() const;
    /// Non-rotary query-key channels per head (before absorption).
    int64_t getNopeDim() const;
    /// True when the rotary key is a stream of its own shared by all groups.
    bool hasSharedRopeKey() const;
    /// Score map read by output head `head` (Sun's GTA; identity otherwise).
    int64_t getScoreMapOfHead(int64_t head) const;
    /// Latent / value head read by output head `head`.
    int64_t getValueHeadOfOutputHead(int64_t head) const;
    /// Width of the query operand of `attn.attention` (absorbed or not).
    int64_t getQueryWidth(bool absorbed) const;
    /// Cache elements stored per token per layer (averaged over a slot for a
    /// time stride above one).
    double getCacheElementsPerToken() const;
  }];
}

#endif // ATTN_DIALECT_ATTN_IR_ATTNATTRS_TD
