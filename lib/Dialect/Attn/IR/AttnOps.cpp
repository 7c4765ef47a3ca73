//===- AttnOps.cpp - attn operations and their verifiers ------------------===//
//
// Op verifiers check that operands agree with the (already verified) variant:
// presence by kv_form, ranks, and every static dimension. Dynamic dimensions
// are accepted and unified across operands where they are static.
//
//===----------------------------------------------------------------------===//
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include <cmath>

using namespace mlir;
using namespace mlir::attn;

#define GET_OP_CLASSES
#include "attn/Dialect/Attn/IR/AttnOps.cpp.inc"

namespace {
/// One expected dimension: a value (or kDynamic for "anything") and what it
/// stands for, so a mismatch names both.
struct Dim {
  int64_t size;
  StringRef what;
};

/// Checks `value`'s rank and every static dimension against `expected`.
/// An expected dimension that is still dynamic takes `value`'s static size,
/// so later operands sharing the same Dim must agree with the first static
/// size seen (dimensions are unified across operands).
LogicalResult checkShape(Operation *op, StringRef name, Value value,
                         ArrayRef<Dim *> expected) {
  auto type = cast<RankedTensorType>(value.getType());
  if (type.getRank() != static_cast<int64_t>(expected.size())) {
    InFlightDiagnostic diag = op->emitOpError()
                              << "'" << name << "' must have rank "
                              << expected.size() << " [";
    llvm::interleaveComma(expected, diag, [&](Dim *d) { diag << d->what; });
    return diag << "], got " << type;
  }
  for (auto [i, d] : llvm::enumerate(expected)) {
    int64_t actual = type.getDimSize(i);
    if (ShapedType::isDynamic(actual))
      continue;
    if (ShapedType::isDynamic(d->size)) {
      d->size = actual;
      continue;
    }
    if (actual != d->size)
      return op->emitOpError()
             << "'" << name << "' dimension " << i << " (" << d->what
             << ") is " << actual << ", expected " << d->size;
  }
  return success();
}

/// The named float tensors of an op share one element type.
LogicalResult
checkElementTypes(Operation *op,
                  ArrayRef<std::pair<Value, StringRef>> namedValues) {
  Type elementType;
  StringRef firstName;
  for (auto [value, name] : namedValues) {
    if (!value)
      continue;
    Type t = cast<RankedTensorType>(value.getType()).getElementType();
    if (!elementType) {
      elementType = t;
      firstName = name;
      continue;
    }
    if (t != elementType)
      return op->emitOpError() << "'" << name << "' element type " << t
                               << " differs from '" << firstName
                               << "' element type " << elementType;
  }
  return success();
}

/// Operand presence: `required` says whether it must be there; `condition`
/// names what decides it (e.g. "'kv_form = separate'").
LogicalResult checkPresence(Operation *op, Value v, StringRef name,
                            bool required, StringRef condition) {
  if (required && !v)
    return op->emitOpError() << "needs '" << name << "' with " << condition;
  if (!required && v)
    return op->emitOpError() << "does not take '" << name << "' without "
                             << condition;
  return success();
}
} // namespace

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

LogicalResult AttentionOp::verify() {
  VariantAttr v = getVariant();
  Operation *op = getOperation();
  KvForm form = v.getKvForm();
  bool latent = form == KvForm::Latent;
  bool separate = form == KvForm::Separate;
  ValueEpilogue epi = v.getValueEpilogue();
  bool gated = epi == ValueEpilogue::GatedLatentDecoder;
  bool keyReuse = epi == ValueEpilogue::KeyReusePost;

  if (getAbsorbed() && !latent)
    return emitOpError() << "'absorbed' needs 'kv_form = latent', got '"
                         << stringifyKvForm(form) << "'";
  if (getAbsorbed() && getUpK())
    return emitOpError() << "does not take 'up_k' once 'absorbed': the query "
                            "already carries it";

  const char *gatedWhy = "'value_epilogue = gated_latent_decoder'";
  const char *reuseWhy = "'value_epilogue = key_reuse_post'";
  if (failed(checkPresence(op, getKeys(), "keys", separate,
                           "'kv_form = separate'")) ||
      failed(checkPresence(op, getValues(), "values", separate,
                           "'kv_form = separate'")) ||
      failed(checkPresence(op, getRows(), "rows", !separate,
                           "'kv_form = tied' or 'kv_form = latent'")) ||
      failed(checkPresence(op, getRopeKeys(), "rope_keys",
                           v.hasSharedRopeKey(),
                           "a shared rotary key (rope placement "
                           "'q_suffix_shared_key' or 'decoupled_shared_key')")) ||
      failed(checkPresence(op, getUpK(), "up_k", latent && !getAbsorbed(),
                           "'kv_form = latent' before absorption")) ||
      failed(checkPresence(op, getUpV(), "up_v", latent,
                           "'kv_form = latent'")) ||
      failed(checkPresence(op, getGate(), "gate", gated, gatedWhy)) ||
      failed(checkPresence(op, getDecoder(), "decoder", gated, gatedWhy)) ||
      failed(checkPresence(op, getAlpha(), "alpha", keyReuse, reuseWhy)) ||
      failed(checkPresence(op, getTransform(), "transform", keyReuse,
                           reuseWhy)))
    return failure();

  if (failed(checkElementTypes(
          op, {{getQuery(), "query"},
               {getKeys(), "keys"},
               {getValues(), "values"},
               {getRows(), "rows"},
               {getRopeKeys(), "rope_keys"},
               {getUpK(), "up_k"},
               {getUpV(), "up_v"},
               {getGate(), "gate"},
               {getDecoder(), "decoder"},
               {getAlpha(), "alpha"},
               {getTransform(), "transform"},
               {getResult(), "result"}})))
    return failure();

  const int64_t dyn = ShapedType::kDynamic;
  Dim batch{dyn, "batch"}, tokens{dyn, "query tokens"},
      rows{dyn, "cache rows"};
  Dim qHeads{v.getNumQHeads(), "num_q_heads"};
  Dim qWidth{v.getQueryWidth(getAbsorbed()),
             getAbsorbed() ? "latent_dim + rope dim" : "qk_head_dim"};
  if (failed(checkShape(op, "query", getQuery(),
                        {&batch, &tokens, &qHeads, &qWidth})))
    return failure();

  auto cache4 = [&](StringRef name, Value value, int64_t heads,
                    StringRef headsWhat, int64_t width,
                    StringRef widthWhat) -> LogicalResult {
    Dim h{heads, headsWhat}, w{width, widthWhat};
    return checkShape(op, name, value, {&batch, &rows, &h, &w});
  };
  if (separate) {
    if (failed(cache4("keys", getKeys(), v.getNumKvHeads(), "num_kv_heads",
                      v.getQkHeadDim(), "qk_head_dim")) ||
        failed(cache4("values", getValues(), v.getNumValueHeads(),
                      "num_v_heads",
                      gated ? *v.getLatentDim() : v.getVHeadDim(),
                      gated ? "latent_dim" : "v_head_dim")))
      return failure();
  } else if (form == KvForm::Tied) {
    if (failed(cache4("rows", getRows(), v.getNumKvHeads(), "num_kv_heads",
                      v.getTie().getRow(), "tie row")))
      return failure();
  } else {
    if (failed(cache4("rows", getRows(), v.getNumKvHeads(), "num_kv_heads",
                      *v.getLatentDim(), "latent_dim")))
      return failure();
  }
  if (getRopeKeys()) {
    Dim r{v.getRopeDim(), "rope dim"};
    if (failed(checkShape(op, "rope_keys", getRopeKeys(), {&batch, &rows, &r})))
      return failure();
  }
  Dim qh{v.getNumQHeads(), "num_q_heads"};
  Dim dc{latent ? *v.getLatentDim() : dyn, "latent_dim"};
  if (getUpK()) {
    Dim nope{v.getNopeDim(), "non-rotary key width"};
    if (failed(checkShape(op, "up_k", getUpK(), {&qh, &dc, &nope})))
      return failure();
  }
  Dim dv{v.getVHeadDim(), "v_head_dim"};
  if (getUpV() && failed(checkShape(op, "up_v", getUpV(), {&qh, &dc, &dv})))
    return failure();
  if (getSeqLens() && failed(checkShape(op, "seq_lens", getSeqLens(), {&batch})))
    return failure();
  int64_t outHeads = v.getNumOutputHeads();
  Dim oh{outHeads, "num_out_heads"};
  if (getGate()) {
    Dim width{outHeads * v.getVHeadDim(), "num_out_heads * v_head_dim"};
    if (failed(checkShape(op, "gate", getGate(), {&batch, &tokens, &width})))
      return failure();
  }
  if (getDecoder()) {
    Dim dl{*v.getLatentDim(), "latent_dim"};
    if (failed(checkShape(op, "decoder", getDecoder(), {&oh, &dl, &dv})))
      return failure();
  }
  if (getAlpha()) {
    Dim row{v.getTie().getRow(), "tie row"}, row2 = row;
    if (failed(checkShape(op, "alpha", getAlpha(), {&row})) ||
        failed(checkShape(op, "transform", getTransform(), {&row, &row2})))
      return failure();
  }
  if (failed(checkShape(op, "result", getResult(), {&batch, &tokens, &oh, &dv})))
    return failure();

  // Masks.
  int64_t q = tokens.size, l = rows.size;
  bool known = !ShapedType::isDynamic(q) && !ShapedType::isDynamic(l);
  if (getMask() == Mask::StrideAwareCausal) {
    if (v.getTimeStride() < 2)
      return emitOpError() << "'mask = stride_aware_causal' needs a variant "
                              "with 'time_stride' > 1, got "
                           << v.getTimeStride();
    if (known && q != l)
      return emitOpError() << "'mask = stride_aware_causal' attends over one "
                              "partial slot state per query token: query "
                              "tokens ("
                           << q << ") must equal cache rows (" << l << ")";
  }
  if (getMask() == Mask::Causal && known && q > l)
    return emitOpError() << "causal attention with more query tokens (" << q
                         << ") than cache rows (" << l
                         << ") leaves the first queries with nothing to see";
  return success();
}

//===----------------------------------------------------------------------===//
// LinearOp
//===----------------------------------------------------------------------===//

LogicalResult LinearOp::verify() {
  Operation *op = getOperation();
  if (failed(checkElementTypes(op, {{getInput(), "input"},
                                    {getWeight(), "weight"},
                                    {getBias(), "bias"},
                                    {getResult(), "result"}})))
    return failure();
  auto in = getInput().getType();
  auto w = getWeight().getType();
  int64_t k = getContract();
  if (k < 1 || k > in.getRank() || k > w.getRank())
    return emitOpError() << "'contract' (" << k
                         << ") must be between 1 and the rank of both "
                            "'input' ("
                         << in.getRank() << ") and 'weight' (" << w.getRank()
                         << ")";
  if (k == w.getRank())
    return emitOpError() << "'weight' " << w
                         << " has no output dimensions left after contracting "
                         << k;
  int64_t lead = in.getRank() - k;
  SmallVector<Dim> dims;
  dims.reserve(in.getRank() + w.getRank());
  for (int64_t i = 0; i < lead; ++i)
    dims.push_back({in.getDimSize(i), "input dimension"});
  for (int64_t i = 0; i < k; ++i)
    dims.push_back({in.getDimSize(lead + i), "contracted input dimension"});
  for (int64_t i = k; i < w.getRank(); ++i)
    dims.push_back({ShapedType::kDynamic, "output dimension"});
  auto refs = [&](int64_t from, int64_t to) {
    SmallVector<Dim *> r;
    for (int64_t i = from; i < to; ++i)
      r.push_back(&dims[i]);
    return r;
  };
  int64_t outs = w.getRank() - k;
  SmallVector<Dim *> weight = refs(lead, lead + k + outs);
  if (failed(checkShape(op, "weight", getWeight(), weight)))
    return failure();
  SmallVector<Dim *> out = refs(lead + k, lead + k + outs);
  if (getBias() && failed(checkShape(op, "bias", getBias(), out)))
    return failure();
  SmallVector<Dim *> result = refs(0, lead);
  result.append(out.begin(), out.end());
  return checkShape(op, "result", getResult(), result);
}

//===----------------------------------------------------------------------===//
// NormOp
//===----------------------------------------------------------------------===//

LogicalResult NormOp::verify() {
  Operation *op = getOperation();
  if (getKind() == NormKind::None)
    return emitOpError() << "kind 'none' is not a normalisation; drop the op";
  double eps = getEpsilon().convertToDouble();
  if (!(eps > 0.0) || !std::isfinite(eps))
    return emitOpError() << "'epsilon' must be a finite positive value, got "
                         << eps;
  if (getBias() && getKind() != NormKind::Layer)
    return emitOpError() << "'bias' is only defined for 'layer' normalisation";
  if (failed(checkElementTypes(op, {{getInput(), "input"},
                                    {getWeight(), "weight"},
                                    {getBias(), "bias"}})))
    return failure();
  auto in = getInput().getType();
  if (in.getRank() < 1)
    return emitOpError() << "'input' must have rank >= 1, got " << in;
  Dim last{in.getDimSize(in.getRank() - 1), "normalised width"};
  if (getWeight() && failed(checkShape(op, "weight", getWeight(), {&last})))
    return failure();
  if (getBias() && failed(checkShape(op, "bias", getBias(), {&last})))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// RopeOp
//===----------------------------------------------------------------------===//

LogicalResult RopeOp::verify() {
  Operation *op = getOperation();
  RopeAttr rope = getRope();
  if (rope.getPlacement() == RopePlacement::None)
    return emitOpError() << "rope with 'placement = none' rotates nothing";
  auto in = getInput().getType();
  if (in.getRank() != 3 && in.getRank() != 4)
    return emitOpError() << "'input' must be [batch, tokens, width] or "
                            "[batch, tokens, heads, width], got "
                         << in;
  int64_t width = in.getDimSize(in.getRank() - 1);
  if (!ShapedType::isDynamic(width) && width < rope.getDim())
    return emitOpError() << "rope 'dim' (" << rope.getDim()
                         << ") is wider than the input's last dimension ("
                         << width << ")";
  Dim b{in.getDimSize(0), "batch"}, t{in.getDimSize(1), "tokens"};
  return checkShape(op, "positions", getPositions(), {&b, &t});
}

//===----------------------------------------------------------------------===//
// MergeWeightsOp
//===----------------------------------------------------------------------===//

LogicalResult MergeWeightsOp::verify() {
  Operation *op = getOperation();
  if (getTimeStride() < 2)
    return emitOpError() << "'time_stride' must be at least 2 for a merge, got "
                         << getTimeStride();
  if (failed(checkElementTypes(op, {{getLatent(), "latent"},
                                    {getChunkWeight(), "chunk_weight"},
                                    {getChunkBias(), "chunk_bias"},
                                    {getTokenWeight(), "token_weight"},
                                    {getTokenBias(), "token_bias"},
                                    {getResult(), "result"}})))
    return failure();
  const int64_t dyn = ShapedType::kDynamic;
  Dim b{dyn, "batch"}, t{dyn, "tokens"}, w{dyn, "latent width"},
      r{dyn, "hypernetwork width"};
  if (failed(checkShape(op, "latent", getLatent(), {&b, &t, &w})))
    return failure();
  if (!ShapedType::isDynamic(w.size) && w.size % 2 != 0)
    return emitOpError() << "latent width (" << w.size
                         << ") must be even: the chunk embedding pairs "
                            "sin and cos channels";
  if (failed(checkShape(op, "chunk_weight", getChunkWeight(), {&w, &r})) ||
      failed(checkShape(op, "chunk_bias", getChunkBias(), {&r})) ||
      failed(checkShape(op, "token_weight", getTokenWeight(), {&w, &r})) ||
      failed(checkShape(op, "token_bias", getTokenBias(), {&r})) ||
      failed(checkShape(op, "positions", getPositions(), {&b, &t})) ||
      failed(checkShape(op, "result", getResult(), {&b, &t})))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// PartialSlotsOp
//===----------------------------------------------------------------------===//

LogicalResult PartialSlotsOp::verify() {
  Operation *op = getOperation();
  if (getTimeStride() < 2)
    return emitOpError() << "'time_stride' must be at least 2 for slots to "
                            "merge tokens, got "
                         << getTimeStride();
  if (failed(checkElementTypes(op, {{getRows(), "rows"},
                                    {getWeights(), "weights"}})))
    return failure();
  auto rowsType = getRows().getType();
  if (rowsType.getRank() < 3)
    return emitOpError() << "'rows' must be [batch, tokens, ..., width], got "
                         << rowsType;
  Dim b{rowsType.getDimSize(0), "batch"}, t{rowsType.getDimSize(1), "tokens"};
  if (failed(checkShape(op, "weights", getWeights(), {&b, &t})))
    return failure();
  return checkShape(op, "positions", getPositions(), {&b, &t});
}

//===----------------------------------------------------------------------===//
// CacheUpdateOp
//===----------------------------------------------------------------------===//

LogicalResult CacheUpdateOp::verify() {
  Operation *op = getOperation();
  int64_t stride = getTimeStride();
  if (stride < 1)
    return emitOpError() << "'time_stride' must be at least 1, got " << stride;
  std::optional<SlotMerge> merge = getMerge();
  if ((stride > 1) != merge.has_value())
    return emitOpError() << "'merge' must be given exactly when "
                            "'time_stride' > 1 (time_stride is "
                         << stride << ")";
  bool weighted = merge == SlotMerge::WeightedSum;
  if (weighted != static_cast<bool>(getWeights()))
    return emitOpError() << "'weights' must be given exactly when "
                            "'merge = weighted_sum'";
  if (failed(checkElementTypes(op, {{getCache(), "cache"},
                                    {getRows(), "rows"},
                                    {getWeights(), "weights"}})))
    return failure();
  auto cache = getCache().getType();
  if (cache.getRank() < 3)
    return emitOpError() << "'cache' must be [batch, slots, ..., width], got "
                         << cache;
  SmallVector<Dim> dims;
  dims.push_back({cache.getDimSize(0), "batch"});
  dims.push_back({ShapedType::kDynamic, "new tokens"});
  for (int64_t i = 2; i < cache.getRank(); ++i)
    dims.push_back({cache.getDimSize(i), "cache row dimension"});
  SmallVector<Dim *> rowRefs;
  for (Dim &d : dims)
    rowRefs.push_back(&d);
  if (failed(checkShape(op, "rows", getRows(), rowRefs)))
    return failure();
  int64_t t = dims[1].size, capacity = cache.getDimSize(1);
  if (stride == 1 && !ShapedType::isDynamic(t) &&
      !ShapedType::isDynamic(capacity) && t > capacity)
    return emitOpError() << "appends " << t
                         << " rows to a cache of capacity " << capacity;
  if (failed(checkShape(op, "lengths", getLengths(), {&dims[0]})))
    return failure();
  if (getWeights() &&
      failed(checkShape(op, "weights", getWeights(), {&dims[0], &dims[1]})))
    return failure();
  return success();
}
