//===- AttnEnums.td - attn enumerations --------------------*- tablegen -*-===//
//
// The enumerations that the variant attribute and the ops are built from.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_IR_ATTNENUMS_TD
#define ATTN_DIALECT_ATTN_IR_ATTNENUMS_TD

include "mlir/IR/EnumAttr.td"
include "attn/Dialect/Attn/IR/AttnDialect.td"

class Attn_I32Enum<string name, string summary, list<I32EnumAttrCase> cases>
    : I32EnumAttr<name, summary, cases> {
  let cppNamespace = "::mlir::attn";
  let genSpecializedAttr = 0;
}

def Attn_KvForm : Attn_I32Enum<"KvForm", "how keys and values derive from the cache", [
  I32EnumAttrCase<"Separate", 0, "separate">,
  I32EnumAttrCase<"Tied", 1, "tied">,
  I32EnumAttrCase<"Latent", 2, "latent">]>;

def Attn_RopePlacement : Attn_I32Enum<"RopePlacement", "where rotary embedding applies", [
  I32EnumAttrCase<"None", 0, "none">,
  // RoPE over the whole query and key head (MHA, GQA, MFA, Sun's GTA).
  I32EnumAttrCase<"FullHead", 1, "full_head">,
  // The last `dim` query channels meet one rotary key stream shared by every
  // group; the rest of the key is a slice of the tied row (Dao's GTA).
  I32EnumAttrCase<"QSuffixSharedKey", 2, "q_suffix_shared_key">,
  // Decoupled RoPE: the last `dim` query channels meet one rotary key stream
  // shared by every latent head (MLA, GLA, MTLA).
  I32EnumAttrCase<"DecoupledSharedKey", 3, "decoupled_shared_key">]>;

def Attn_RopeLayout : Attn_I32Enum<"RopeLayout", "how rotary channels pair up", [
  // Pairs (k, k + dim/2): GPT-NeoX / HF rotate_half.
  I32EnumAttrCase<"Half", 0, "half">,
  // Pairs (2k, 2k + 1): GPT-J / DeepSeek reference.
  I32EnumAttrCase<"Interleaved", 1, "interleaved">]>;

def Attn_Mask : Attn_I32Enum<"Mask", "score mask", [
  I32EnumAttrCase<"None", 0, "none">,
  // Causal, aligned to the bottom-right when there are fewer queries than keys.
  I32EnumAttrCase<"Causal", 1, "causal">,
  // MTLA prefill over per-token partial slot states: query i sees key j iff
  // j == i or (j <= i and (j + 1) mod stride == 0).
  I32EnumAttrCase<"StrideAwareCausal", 2, "stride_aware_causal">]>;

def Attn_TemporalMerge : Attn_I32Enum<"TemporalMerge", "how tokens merge into a slot", [
  I32EnumAttrCase<"None", 0, "none">,
  // MTLA: w_j = sigmoid(<PE(j / s) W_c + b_c, c_j W_p + b_p>).
  I32EnumAttrCase<"HypernetSigmoidDot", 1, "hypernet_sigmoid_dot">]>;

def Attn_CacheUpdate : Attn_I32Enum<"CacheUpdate", "how a decode step writes the cache", [
  I32EnumAttrCase<"Append", 0, "append">,
  // MTLA: a token that starts a slot appends it, the others accumulate into it.
  I32EnumAttrCase<"AppendOrAccumulateLast", 1, "append_or_accumulate_last">]>;

def Attn_SlotRope : Attn_I32Enum<"SlotRope", "which rotary key a slot keeps", [
  I32EnumAttrCase<"PerToken", 0, "per_token">,
  // MTLA: the rotary key of the last token merged so far replaces the old one.
  I32EnumAttrCase<"LastInSlot", 1, "last_in_slot">]>;

def Attn_NormKind : Attn_I32Enum<"NormKind", "normalisation", [
  I32EnumAttrCase<"None", 0, "none">,
  I32EnumAttrCase<"Rms", 1, "rms">,
  I32EnumAttrCase<"Layer", 2, "layer">]>;

def Attn_ValueEpilogue : Attn_I32Enum<"ValueEpilogue", "per-head work after aggregation", [
  I32EnumAttrCase<"None", 0, "none">,
  // o_i = ō_i W_UV_i (MLA, GLA, MTLA).
  I32EnumAttrCase<"LatentUp", 1, "latent_up">,
  // Sun's GTA: o_i = (ō_m(i) P_i) * gate_i.
  I32EnumAttrCase<"GatedLatentDecoder", 2, "gated_latent_decoder">,
  // MFA-KR: o_i = ō_i + alpha * (ō_i N).
  I32EnumAttrCase<"KeyReusePost", 3, "key_reuse_post">]>;

def Attn_Activation : Attn_I32Enum<"Activation", "elementwise activation after a projection", [
  I32EnumAttrCase<"None", 0, "none">,
  I32EnumAttrCase<"Sigmoid", 1, "sigmoid">]>;

def Attn_SlotMerge : Attn_I32Enum<"SlotMerge", "how a cache update combines with a slot", [
  // The first token of a slot writes w * row, later ones add w * row.
  I32EnumAttrCase<"WeightedSum", 0, "weighted_sum">,
  // Every token overwrites the slot (a rotary key kept per slot).
  I32EnumAttrCase<"Replace", 1, "replace">]>;

def Attn_MaskAttr : EnumAttr<Attn_Dialect, Attn_Mask, "mask">;
def Attn_NormKindAttr : EnumAttr<Attn_Dialect, Attn_NormKind, "norm_kind">;
def Attn_ActivationAttr : EnumAttr<Attn_Dialect, Attn_Activation, "activation">;
def Attn_SlotMergeAttr : EnumAttr<Attn_Dialect, Attn_SlotMerge, "slot_merge">;

#endif // ATTN_DIALECT_ATTN_IR_ATTNENUMS_TD
