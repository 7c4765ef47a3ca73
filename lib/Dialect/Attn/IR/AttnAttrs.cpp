//===- AttnAttrs.cpp - attn attributes and their verifiers ----------------===//
//
// Every rule that makes a variant self-consistent lives here; the op verifiers
// only check that operands agree with an already valid variant.
//
//===----------------------------------------------------------------------===//
#include "attn/Dialect/Attn/IR/AttnAttrs.h"
#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"
#include <cmath>

using namespace mlir;
using namespace mlir::attn;

#include "attn/Dialect/Attn/IR/AttnEnums.cpp.inc"

FailureOr<llvm::APFloat> mlir::attn::detail::parseF64(AsmParser &parser) {
  double value;
  if (parser.parseFloat(value))
    return failure();
  return llvm::APFloat(value);
}

FailureOr<SmallVector<int64_t>>
mlir::attn::detail::parseI64List(AsmParser &parser) {
  SmallVector<int64_t> values;
  if (parser.parseCommaSeparatedList(AsmParser::Delimiter::Square, [&] {
        return parser.parseInteger(values.emplace_back());
      }))
    return failure();
  return values;
}

void mlir::attn::detail::printI64List(AsmPrinter &printer,
                                      ArrayRef<int64_t> values) {
  printer << '[';
  llvm::interleaveComma(values, printer);
  printer << ']';
}

#define GET_ATTRDEF_CLASSES
#include "attn/Dialect/Attn/IR/AttnAttrs.cpp.inc"

void AttnDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "attn/Dialect/Attn/IR/AttnAttrs.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// YarnAttr
//===----------------------------------------------------------------------===//

LogicalResult YarnAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                               APFloat factorF, int64_t originalLen,
                               APFloat betaFastF, APFloat betaSlowF,
                               APFloat mscaleF) {
  double factor = factorF.convertToDouble();
  double betaFast = betaFastF.convertToDouble();
  double betaSlow = betaSlowF.convertToDouble();
  double mscale = mscaleF.convertToDouble();
  if (!(factor >= 1.0) || !std::isfinite(factor))
    return emitError() << "yarn 'factor' must be a finite value >= 1, got "
                       << factor;
  if (originalLen < 1)
    return emitError() << "yarn 'original_len' must be positive, got "
                       << originalLen;
  if (!(betaFast > betaSlow) || !(betaSlow > 0.0) || !std::isfinite(betaFast))
    return emitError() << "yarn needs finite 'beta_fast' > 'beta_slow' > 0, got "
                       << betaFast << " and " << betaSlow;
  if (!(mscale > 0.0) || !std::isfinite(mscale))
    return emitError() << "yarn 'mscale' must be a finite positive value, got "
                       << mscale;
  return success();
}

//===----------------------------------------------------------------------===//
// RopeAttr
//===----------------------------------------------------------------------===//

LogicalResult RopeAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                               RopePlacement placement, int64_t dim,
                               RopeLayout layout, APFloat thetaF, YarnAttr yarn) {
  double theta = thetaF.convertToDouble();
  if (placement == RopePlacement::None) {
    if (dim != 0)
      return emitError() << "rope 'placement = none' needs 'dim = 0', got "
                         << dim;
    if (yarn)
      return emitError() << "rope 'yarn' needs a rotary placement";
    return success();
  }
  if (dim <= 0)
    return emitError() << "rope 'dim' must be positive for placement '"
                       << stringifyRopePlacement(placement) << "', got " << dim;
  if (dim % 2 != 0)
    return emitError() << "rope 'dim' must be even (channels rotate in pairs), "
                          "got "
                       << dim;
  if (!(theta > 0.0) || !std::isfinite(theta))
    return emitError() << "rope 'theta' must be a finite positive value, got "
                       << theta;
  return success();
}

bool RopeAttr::hasSharedKey() const {
  return getPlacement() == RopePlacement::QSuffixSharedKey ||
         getPlacement() == RopePlacement::DecoupledSharedKey;
}

//===----------------------------------------------------------------------===//
// TieAttr
//===----------------------------------------------------------------------===//

LogicalResult TieAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                              int64_t row, int64_t keyBegin, int64_t keyEnd,
                              int64_t valueBegin, int64_t valueEnd) {
  if (row < 1)
    return emitError() << "tie 'row' must be positive, got " << row;
  auto checkSlice = [&](StringRef name, int64_t begin,
                        int64_t end) -> LogicalResult {
    if (begin < 0 || end > row || begin >= end)
      return emitError() << "tie '" << name << "' slice [" << begin << ", "
                         << end << ") is empty or outside the row [0, " << row
                         << ")";
    return success();
  };
  if (failed(checkSlice("key", keyBegin, keyEnd)) ||
      failed(checkSlice("value", valueBegin, valueEnd)))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// VariantAttr
//===----------------------------------------------------------------------===//

LogicalResult VariantAttr::verify(
    function_ref<InFlightDiagnostic()> emitError, KvForm kvForm,
    int64_t numQHeads, std::optional<int64_t> numOutHeads, int64_t numKvHeads,
    std::optional<int64_t> numVHeads, int64_t qkHeadDim, int64_t vHeadDim,
    std::optional<int64_t> latentDim, RopeAttr rope, TieAttr tie,
    APFloat softmaxScaleF, int64_t timeStride, TemporalMerge temporalMerge,
    CacheUpdate cacheUpdate, SlotRope slotRope, NormKind latentNorm,
    ValueEpilogue valueEpilogue, ArrayRef<int64_t> scoreMapOfHead,
    ArrayRef<int64_t> latentOfHead) {
  double softmaxScale = softmaxScaleF.convertToDouble();
  StringRef form = stringifyKvForm(kvForm);
  auto positive = [&](StringRef name, int64_t v) -> LogicalResult {
    if (v < 1)
      return emitError() << "variant '" << name << "' must be positive, got "
                         << v;
    return success();
  };
  if (failed(positive("num_q_heads", numQHeads)) ||
      failed(positive("num_kv_heads", numKvHeads)) ||
      failed(positive("qk_head_dim", qkHeadDim)) ||
      failed(positive("v_head_dim", vHeadDim)))
    return failure();
  if (numOutHeads && failed(positive("num_out_heads", *numOutHeads)))
    return failure();
  if (numVHeads && failed(positive("num_v_heads", *numVHeads)))
    return failure();
  if (latentDim && failed(positive("latent_dim", *latentDim)))
    return failure();

  // Grouping: contiguous groups of query heads per KV head.
  if (numQHeads % numKvHeads != 0)
    return emitError() << "variant 'num_q_heads' (" << numQHeads
                       << ") is not divisible by 'num_kv_heads' ("
                       << numKvHeads << ")";

  if (!(softmaxScale > 0.0) || !std::isfinite(softmaxScale))
    return emitError() << "variant 'softmax_scale' must be a finite positive "
                          "value, got "
                       << softmaxScale;

  // Rotary placement against the head and the cache form.
  int64_t ropeDim = rope.getDim();
  RopePlacement placement = rope.getPlacement();
  if (ropeDim > qkHeadDim)
    return emitError() << "variant rope 'dim' (" << ropeDim
                       << ") is wider than 'qk_head_dim' (" << qkHeadDim << ")";
  if (placement == RopePlacement::FullHead && ropeDim != qkHeadDim)
    return emitError() << "variant rope 'placement = full_head' needs 'dim' "
                          "equal to 'qk_head_dim' ("
                       << qkHeadDim << "), got " << ropeDim;
  if (rope.hasSharedKey() && ropeDim == qkHeadDim)
    return emitError() << "variant rope placement '"
                       << stringifyRopePlacement(placement)
                       << "' leaves no non-rotary channels: 'dim' (" << ropeDim
                       << ") equals 'qk_head_dim'";
  if (placement == RopePlacement::QSuffixSharedKey && kvForm != KvForm::Tied)
    return emitError() << "variant rope 'placement = q_suffix_shared_key' "
                          "needs 'kv_form = tied', got '"
                       << form << "'";
  if (placement == RopePlacement::DecoupledSharedKey &&
      kvForm != KvForm::Latent)
    return emitError() << "variant rope 'placement = decoupled_shared_key' "
                          "needs 'kv_form = latent', got '"
                       << form << "'";
  int64_t nopeDim = rope.hasSharedKey() ? qkHeadDim - ropeDim : qkHeadDim;

  // Tying.
  if ((kvForm == KvForm::Tied) != static_cast<bool>(tie))
    return emitError() << "variant 'tie' must be given exactly when "
                          "'kv_form = tied' (kv_form is '"
                       << form << "')";
  if (tie) {
    int64_t keyWidth = tie.getKeyEnd() - tie.getKeyBegin();
    int64_t valueWidth = tie.getValueEnd() - tie.getValueBegin();
    if (keyWidth != nopeDim)
      return emitError() << "variant tie 'key' slice is " << keyWidth
                         << " wide, expected " << nopeDim
                         << " (the non-rotary key channels)";
    if (valueWidth != vHeadDim)
      return emitError() << "variant tie 'value' slice is " << valueWidth
                         << " wide, expected 'v_head_dim' (" << vHeadDim << ")";
  }

  // Latent rows.
  bool gated = valueEpilogue == ValueEpilogue::GatedLatentDecoder;
  if (kvForm == KvForm::Latent && !latentDim)
    return emitError() << "variant 'kv_form = latent' needs 'latent_dim'";
  if (latentDim && kvForm != KvForm::Latent && !gated)
    return emitError() << "variant 'latent_dim' is only meaningful with "
                          "'kv_form = latent' or 'value_epilogue = "
                          "gated_latent_decoder'";
  if ((kvForm == KvForm::Latent) != (valueEpilogue == ValueEpilogue::LatentUp))
    return emitError() << "variant 'value_epilogue = latent_up' goes with "
                          "'kv_form = latent' and only with it (kv_form is '"
                       << form << "', value_epilogue is '"
                       << stringifyValueEpilogue(valueEpilogue) << "')";
  if (kvForm == KvForm::Latent && placement != RopePlacement::None &&
      placement != RopePlacement::DecoupledSharedKey)
    return emitError() << "variant 'kv_form = latent' cannot rotate the "
                          "latent: rope placement must be "
                          "'decoupled_shared_key' or 'none', got '"
                       << stringifyRopePlacement(placement) << "'";
  if (latentNorm != NormKind::None && kvForm != KvForm::Latent)
    return emitError() << "variant 'latent_norm' needs 'kv_form = latent'";

  // Temporal merge (MTLA).
  if (timeStride < 1)
    return emitError() << "variant 'time_stride' must be at least 1, got "
                       << timeStride;
  bool strided = timeStride > 1;
  if (strided && kvForm != KvForm::Latent)
    return emitError() << "variant 'time_stride' (" << timeStride
                       << ") above 1 needs 'kv_form = latent'";
  if (strided != (temporalMerge != TemporalMerge::None))
    return emitError() << "variant 'temporal_merge' must be set exactly when "
                          "'time_stride' > 1 (time_stride is "
                       << timeStride << ")";
  if (strided != (cacheUpdate == CacheUpdate::AppendOrAccumulateLast))
    return emitError() << "variant 'cache_update = append_or_accumulate_last' "
                          "goes with 'time_stride' > 1 and only with it "
                          "(time_stride is "
                       << timeStride << ")";
  if (slotRope == SlotRope::LastInSlot && (!strided || !rope.hasSharedKey()))
    return emitError() << "variant 'slot_rope = last_in_slot' needs "
                          "'time_stride' > 1 and a shared rotary key";
  if (strided && rope.hasSharedKey() && slotRope != SlotRope::LastInSlot)
    return emitError() << "variant with 'time_stride' > 1 and a shared rotary "
                          "key needs 'slot_rope = last_in_slot'";

  // Output and value heads (Sun's GTA).
  int64_t outHeads = numOutHeads.value_or(numQHeads);
  int64_t vHeads = numVHeads.value_or(numKvHeads);
  if (numOutHeads && !gated)
    return emitError() << "variant 'num_out_heads' is only meaningful with "
                          "'value_epilogue = gated_latent_decoder'";
  if (numVHeads && kvForm != KvForm::Separate)
    return emitError() << "variant 'num_v_heads' needs 'kv_form = separate'";
  if (numQHeads % vHeads != 0)
    return emitError() << "variant 'num_q_heads' (" << numQHeads
                       << ") is not divisible by 'num_v_heads' (" << vHeads
                       << ")";
  if (gated) {
    if (kvForm != KvForm::Separate || !latentDim)
      return emitError() << "variant 'value_epilogue = gated_latent_decoder' "
                            "needs 'kv_form = separate' and 'latent_dim'";
    if (scoreMapOfHead.empty() && outHeads % numQHeads != 0)
      return emitError() << "variant 'num_out_heads' (" << outHeads
                         << ") is not a multiple of 'num_q_heads' ("
                         << numQHeads
                         << "); give 'score_map_of_head' explicitly";
    if (latentOfHead.empty() && outHeads % vHeads != 0)
      return emitError() << "variant 'num_out_heads' (" << outHeads
                         << ") is not a multiple of 'num_v_heads' (" << vHeads
                         << "); give 'latent_of_head' explicitly";
  }
  auto checkMap = [&](StringRef name, ArrayRef<int64_t> map,
                      int64_t bound) -> LogicalResult {
    if (map.empty())
      return success();
    if (!gated)
      return emitError() << "variant '" << name
                         << "' needs 'value_epilogue = gated_latent_decoder'";
    if (static_cast<int64_t>(map.size()) != outHeads)
      return emitError() << "variant '" << name << "' has " << map.size()
                         << " entries, expected 'num_out_heads' (" << outHeads
                         << ")";
    for (auto [i, v] : llvm::enumerate(map))
      if (v < 0 || v >= bound)
        return emitError() << "variant '" << name << "' entry " << i << " is "
                           << v << ", outside [0, " << bound << ")";
    return success();
  };
  if (failed(checkMap("score_map_of_head", scoreMapOfHead, numQHeads)) ||
      failed(checkMap("latent_of_head", latentOfHead, vHeads)))
    return failure();

  // MFA-KR: the whole tied row is key and value, rotated or not.
  if (valueEpilogue == ValueEpilogue::KeyReusePost) {
    if (kvForm != KvForm::Tied)
      return emitError() << "variant 'value_epilogue = key_reuse_post' needs "
                            "'kv_form = tied'";
    if (tie.getKeyBegin() != 0 || tie.getKeyEnd() != tie.getRow() ||
        tie.getValueBegin() != 0 || tie.getValueEnd() != tie.getRow())
      return emitError() << "variant 'value_epilogue = key_reuse_post' needs "
                            "the tie's key and value to be the whole row";
  }
  return success();
}

int64_t VariantAttr::getNumOutputHeads() const {
  return getNumOutHeads().value_or(getNumQHeads());
}
int64_t VariantAttr::getNumValueHeads() const {
  return getNumVHeads().value_or(getNumKvHeads());
}
int64_t VariantAttr::getGroupSize() const {
  return getNumQHeads() / getNumKvHeads();
}
int64_t VariantAttr::getRopeDim() const { return getRope().getDim(); }
bool VariantAttr::hasSharedRopeKey() const { return getRope().hasSharedKey(); }
int64_t VariantAttr::getNopeDim() const {
  return hasSharedRopeKey() ? getQkHeadDim() - getRopeDim() : getQkHeadDim();
}

int64_t VariantAttr::getScoreMapOfHead(int64_t head) const {
  if (!getScoreMapOfHead().empty())
    return getScoreMapOfHead()[head];
  return head / (getNumOutputHeads() / getNumQHeads());
}

int64_t VariantAttr::getValueHeadOfOutputHead(int64_t head) const {
  if (!getLatentOfHead().empty())
    return getLatentOfHead()[head];
  return head / (getNumOutputHeads() / getNumValueHeads());
}

int64_t VariantAttr::getQueryWidth(bool absorbed) const {
  if (absorbed)
    return *getLatentDim() + (hasSharedRopeKey() ? getRopeDim() : 0);
  return getQkHeadDim();
}

double VariantAttr::getCacheElementsPerToken() const {
  int64_t perSlot = 0;
  int64_t rope = hasSharedRopeKey() ? getRopeDim() : 0;
  switch (getKvForm()) {
  case KvForm::Separate:
    perSlot = getNumKvHeads() * getQkHeadDim() +
              getNumValueHeads() *
                  (getValueEpilogue() == ValueEpilogue::GatedLatentDecoder
                       ? *getLatentDim()
                       : getVHeadDim());
    break;
  case KvForm::Tied:
    perSlot = getNumKvHeads() * getTie().getRow() + rope;
    break;
  case KvForm::Latent:
    perSlot = getNumKvHeads() * *getLatentDim() + rope;
    break;
  }
  return static_cast<double>(perSlot) / static_cast<double>(getTimeStride());
}
