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
/// Dimensions that `expected` leaves dynamic but `value` fixes are written
/// back, so later operands must agree with the first static size seen.
LogicalResult checkShape(Operation *op, StringRef name, Value value,
                         MutableArrayRef<Dim> expected) {
  auto type = cast<RankedTensorType>(value.getType());
  if (type.getRank() != static_cast<int64_t>(expected.size())) {
    InFlightDiagnostic diag = op->emitOpError()
                              << "'" << name << "' must have rank "
                              << expected.size() << " [";
    llvm::interleaveComma(expected, diag, [&](const Dim &d) { diag << d.what; });
    return diag << "], got " << type;
  }
  for (auto [i, d] : llvm::enumerate(expected)) {
    int64_t actual = type.getDimSize(i);
    if (ShapedType::isDynamic(actual))
      continue;
    if (ShapedType::isDynamic(d.size)) {
      d.size = actual;
      continue;
    }
    if (actual != d.size)
      return op->emitOpError()
             << "'" << name << "' dimension " << i << " (" << d.what
             << ") is " << actual << ", expected " << d.size;
  }
  return success();
}

/// All float operands and results of an op share one element type.
LogicalResult checkElementTypes(Operation *op) {
  Type elementType;
  StringRef firstName;
  auto check = [&](Value v, StringRef name) -> LogicalResult {
    auto t = dyn_cast<RankedTensorType>(v.getType());
    if (!t || !isa<FloatType>(t.getElementType()))
      return success();
    if (!elementType) {
      elementType = t.getElementType();
      firstName = name;
      return success();
    }
    if (t.getElementType() != elementType)
      return op->emitOpError() << "'" << name << "' element type "
                               << t.getElementType() << " differs from '"
                               << firstName << "' element type " << elementType;
    return success();
  };
  for (OpOperand &operand : op->getOpOperands()) {
    std::string name = "operand #" + std::to_string(operand.getOperandNumber());
    if (failed(check(operand.get(), name)))
      return failure();
  }
  for (OpResult result : op->getResults())
    if (failed(check(result, "result")))
      return failure();
  return success();
}

/// Operand presence: `required` says whether it must be there; `why` explains.
LogicalResult checkPresence(Operation *op, Value v, StringRef name,
                            bool required, StringRef why) {
  if (required && !v)
    return op->emitOpError() << "needs '" << name << "' " << why;
  if (!required && v)
    return op->emitOpError() << "does not take '" << name << "' " << why;
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
  std::string formWhy =
      ("with 'kv_form = " + stringifyKvForm(form) + "'").str();
  bool latent = form == KvForm::Latent;
  bool separate = form == KvForm::Separate;
  ValueEpilogue epi = v.getValueEpilogue();
  bool gated = epi == ValueEpilogue::GatedLatentDecoder;
  bool keyReuse = epi == ValueEpilogue::KeyReusePost;

  if (getAbsorbed() && !latent)
    return emitOpError() << "'absorbed' needs 'kv_form = latent', got '"
                         << stringifyKvForm(form) << "'";

  if (failed(checkPresence(op, getKeys(), "keys", separate, formWhy)) ||
      failed(checkPresence(op, getValues(), "values", separate, formWhy)) ||
      failed(checkPresence(op, getRows(), "rows", !separate, formWhy)) ||
      failed(checkPresence(op, getRopeKeys(), "rope_keys",
                           v.hasSharedRopeKey(),
                           "with rope placement '" +
                               stringifyRopePlacement(v.getRope().getPlacement())
                                   .str() +
                               "'")) ||
      failed(checkPresence(op, getUpK(), "up_k", latent && !getAbsorbed(),
                           latent ? (getAbsorbed() ? "once 'absorbed'"
                                                   : "before absorption")
                                  : formWhy)) ||
      failed(checkPresence(op, getUpV(), "up_v", latent, formWhy)) ||
      failed(checkPresence(op, getGate(), "gate", gated,
                           "unless 'value_epilogue = gated_latent_decoder'")) ||
      failed(checkPresence(op, getDecoder(), "decoder", gated,
                           "unless 'value_epilogue = gated_latent_decoder'")) ||
      failed(checkPresence(op, getAlpha(), "alpha", keyReuse,
                           "unless 'value_epilogue = key_reuse_post'")) ||
      failed(checkPresence(op, getTransform(), "transform", keyReuse,
                           "unless 'value_epilogue = key_reuse_post'")))
    return failure();

  if (failed(checkElementTypes(op)))
    return failure();

  const int64_t dyn = ShapedType::kDynamic;
  Dim query[] = {{dyn, "batch"},
                 {dyn, "query tokens"},
                 {v.getNumQHeads(), "num_q_heads"},
                 {v.getQueryWidth(getAbsorbed()),
                  getAbsorbed() ? "latent_dim + rope dim" : "qk_head_dim"}};
  if (failed(checkShape(op, "query", getQuery(), query)))
    return failure();
  Dim batch = query[0], tokens = query[1];
  Dim rows = {dyn, "cache rows"};

  auto cache4 = [&](StringRef name, Value value, int64_t heads,
                    StringRef headsWhat, int64_t width,
                    StringRef widthWhat) -> LogicalResult {
    Dim dims[] = {batch, rows, {heads, headsWhat}, {width, widthWhat}};
    if (failed(checkShape(op, name, value, dims)))
      return failure();
    batch = dims[0];
    rows = dims[1];
    return success();
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
    Dim dims[] = {batch, rows, {v.getRopeDim(), "rope dim"}};
    if (failed(checkShape(op, "rope_keys", getRopeKeys(), dims)))
      return failure();
    batch = dims[0];
    rows = dims[1];
  }
  if (getUpK()) {
    Dim dims[] = {{v.getNumQHeads(), "num_q_heads"},
                  {*v.getLatentDim(), "latent_dim"},
                  {v.getNopeDim(), "non-rotary key width"}};
    if (failed(checkShape(op, "up_k", getUpK(), dims)))
      return failure();
  }
  if (getUpV()) {
    Dim dims[] = {{v.getNumQHeads(), "num_q_heads"},
                  {*v.getLatentDim(), "latent_dim"},
                  {v.getVHeadDim(), "v_head_dim"}};
    if (failed(checkShape(op, "up_v", getUpV(), dims)))
      return failure();
  }
  if (getSeqLens()) {
    Dim dims[] = {batch};
    if (failed(checkShape(op, "seq_lens", getSeqLens(), dims)))
      return failure();
  }
  int64_t outHeads = v.getNumOutputHeads();
  if (getGate()) {
    Dim dims[] = {batch, tokens,
                  {outHeads * v.getVHeadDim(), "num_out_heads * v_head_dim"}};
    if (failed(checkShape(op, "gate", getGate(), dims)))
      return failure();
  }
  if (getDecoder()) {
    Dim dims[] = {{outHeads, "num_out_heads"},
                  {*v.getLatentDim(), "latent_dim"},
                  {v.getVHeadDim(), "v_head_dim"}};
    if (failed(checkShape(op, "decoder", getDecoder(), dims)))
      return failure();
  }
  if (getAlpha()) {
    int64_t row = v.getTie().getRow();
    Dim a[] = {{row, "tie row"}};
    Dim t[] = {{row, "tie row"}, {row, "tie row"}};
    if (failed(checkShape(op, "alpha", getAlpha(), a)) ||
        failed(checkShape(op, "transform", getTransform(), t)))
      return failure();
  }
  Dim result[] = {batch, tokens, {outHeads, "num_out_heads"},
                  {v.getVHeadDim(), "v_head_dim"}};
  if (failed(checkShape(op, "result", getResult(), result)))
    return failure();

  // Masks.
  int64_t q = result[1].size, l = rows.size;
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
  if (failed(checkElementTypes(op)))
    return failure();
  auto in = getInput().getType();
  auto w = getWeight().getType();
  int64_t k = getContract();
  if (k < 1 || k > in.getRank() || k > w.getRank())
    return emitOpError() << "'contract' (" << k
                         << ") must be between 1 and the rank of both "
                            "'input' (" << in.getRank() << ") and 'weight' ("
                         << w.getRank() << ")";
  if (k == w.getRank())
    return emitOpError() << "'weight' " << w
                         << " has no output dimensions left after contracting "
                         << k;
  int64_t lead = in.getRank() - k;
  SmallVector<Dim> wd;
  for (int64_t i = 0; i < k; ++i)
    wd.push_back({in.getDimSize(lead + i), "contracted input dimension"});
  for (int64_t i = k; i < w.getRank(); ++i)
    wd.push_back({ShapedType::kDynamic, "output dimension"});
  if (failed(checkShape(op, "weight", getWeight(), wd)))
    return failure();
  SmallVector<Dim> out(wd.begin() + k, wd.end());
  if (getBias()) {
    if (failed(checkShape(op, "bias", getBias(), out)))
      return failure();
  }
  SmallVector<Dim> r;
  for (int64_t i = 0; i < lead; ++i)
    r.push_back({in.getDimSize(i), "input dimension"});
  r.append(out.begin(), out.end());
  return checkShape(op, "result", getResult(), r);
}

//===----------------------------------------------------------------------===//
// NormOp
//===----------------------------------------------------------------------===//

LogicalResult NormOp::verify() {
  Operation *op = getOperation();
  if (getKind() == NormKind::None)
    return emitOpError() << "kind 'none' is not a normalisation; drop the op";
  if (!(getEpsilon().convertToDouble() > 0.0))
    return emitOpError() << "'epsilon' must be positive, got "
                         << getEpsilon().convertToDouble();
  if (getBias() && getKind() != NormKind::Layer)
    return emitOpError() << "'bias' is only defined for 'layer' normalisation";
  if (failed(checkElementTypes(op)))
    return failure();
  auto in = getInput().getType();
  if (in.getRank() < 1)
    return emitOpError() << "'input' must have rank >= 1, got " << in;
  Dim last[] = {{in.getDimSize(in.getRank() - 1), "normalised width"}};
  if (getWeight() && failed(checkShape(op, "weight", getWeight(), last)))
    return failure();
  if (getBias() && failed(checkShape(op, "bias", getBias(), last)))
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
  Dim pos[] = {{in.getDimSize(0), "batch"}, {in.getDimSize(1), "tokens"}};
  return checkShape(op, "positions", getPositions(), pos);
}

//===----------------------------------------------------------------------===//
// MergeWeightsOp
//===----------------------------------------------------------------------===//

LogicalResult MergeWeightsOp::verify() {
  Operation *op = getOperation();
  if (getTimeStride() < 2)
    return emitOpError() << "'time_stride' must be at least 2 for a merge, got "
                         << getTimeStride();
  if (failed(checkElementTypes(op)))
    return failure();
  const int64_t dyn = ShapedType::kDynamic;
  Dim latent[] = {{dyn, "batch"}, {dyn, "tokens"}, {dyn, "latent width"}};
  if (failed(checkShape(op, "latent", getLatent(), latent)))
    return failure();
  int64_t width = latent[2].size;
  if (!ShapedType::isDynamic(width) && width % 2 != 0)
    return emitOpError() << "latent width (" << width
                         << ") must be even: the chunk embedding pairs "
                            "sin and cos channels";
  Dim cw[] = {{width, "latent width"}, {dyn, "hypernetwork width"}};
  if (failed(checkShape(op, "chunk_weight", getChunkWeight(), cw)))
    return failure();
  Dim cb[] = {cw[1]};
  Dim tw[] = {{width, "latent width"}, cw[1]};
  if (failed(checkShape(op, "chunk_bias", getChunkBias(), cb)) ||
      failed(checkShape(op, "token_weight", getTokenWeight(), tw)))
    return failure();
  Dim tb[] = {tw[1]};
  if (failed(checkShape(op, "token_bias", getTokenBias(), tb)))
    return failure();
  Dim pos[] = {latent[0], latent[1]};
  Dim res[] = {latent[0], latent[1]};
  if (failed(checkShape(op, "positions", getPositions(), pos)) ||
      failed(checkShape(op, "result", getResult(), res)))
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
  if (failed(checkElementTypes(op)))
    return failure();
  auto rows = getRows().getType();
  if (rows.getRank() < 3)
    return emitOpError() << "'rows' must be [batch, tokens, ..., width], got "
                         << rows;
  Dim bt[] = {{rows.getDimSize(0), "batch"}, {rows.getDimSize(1), "tokens"}};
  if (failed(checkShape(op, "weights", getWeights(), bt)))
    return failure();
  return checkShape(op, "positions", getPositions(), bt);
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
  if (failed(checkElementTypes(op)))
    return failure();
  auto cache = getCache().getType();
  if (cache.getRank() < 3)
    return emitOpError() << "'cache' must be [batch, slots, ..., width], got "
                         << cache;
  SmallVector<Dim> rows;
  rows.push_back({cache.getDimSize(0), "batch"});
  rows.push_back({ShapedType::kDynamic, "new tokens"});
  for (int64_t i = 2; i < cache.getRank(); ++i)
    rows.push_back({cache.getDimSize(i), "cache row dimension"});
  if (failed(checkShape(op, "rows", getRows(), rows)))
    return failure();
  int64_t t = rows[1].size, capacity = cache.getDimSize(1);
  if (stride == 1 && !ShapedType::isDynamic(t) &&
      !ShapedType::isDynamic(capacity) && t > capacity)
    return emitOpError() << "appends " << t
                         << " rows to a cache of capacity " << capacity;
  Dim len[] = {rows[0]};
  if (failed(checkShape(op, "lengths", getLengths(), len)))
    return failure();
  if (getWeights()) {
    Dim w[] = {rows[0], rows[1]};
    if (failed(checkShape(op, "weights", getWeights(), w)))
      return failure();
  }
  return success();
}
