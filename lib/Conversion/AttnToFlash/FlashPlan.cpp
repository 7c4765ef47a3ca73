//===- FlashPlan.cpp - what a fused attention kernel computes -------------===//
#include "attn/Conversion/AttnToFlash/FlashPlan.h"
#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;
using namespace mlir::attn;

// Static workgroup memory is capped at 48 KiB without an opt-in; stay under
// it with room for the runtime's own use.
static constexpr int64_t kSharedBudget = 44 * 1024;

int64_t FlashPlan::tileWidth() const {
  return separate() ? keyWidth : rowWidth + ropeDim;
}

int64_t FlashPlan::sharedBytes() const {
  int64_t floats = rowsPerBlock * keyWidth          // query rows
                   + tileRows * tileWidth()         // key (and value) rows
                   + (separate() ? tileRows * valueWidth : 0)
                   + rowsPerBlock * tileRows        // scores
                   + 3 * rowsPerBlock;              // max, sum, rescale
  return floats * 4;
}

FailureOr<FlashPlan> FlashPlan::get(AttentionOp op) {
  VariantAttr v = op.getVariant();
  FlashPlan p;
  p.form = v.getKvForm();
  p.qHeads = v.getNumQHeads();
  p.kvHeads = v.getNumKvHeads();
  p.group = v.getGroupSize();
  p.mask = op.getMask();
  p.timeStride = v.getTimeStride();
  p.scale = v.getSoftmaxScale().convertToDouble();
  p.storage = cast<RankedTensorType>(op.getQuery().getType()).getElementType();
  p.lengthType = op.getSeqLens()
                     ? cast<RankedTensorType>(op.getSeqLens().getType())
                           .getElementType()
                     : Type();
  p.epilogue = v.getValueEpilogue();
  p.outHeads = v.getNumOutputHeads();
  p.outWidth = v.getVHeadDim();
  p.ropeDim = v.hasSharedRopeKey() ? v.getRopeDim() : 0;
  switch (p.form) {
  case KvForm::Separate:
    if (v.getNumValueHeads() != p.kvHeads)
      return op.emitOpError()
             << "fused path: value heads (" << v.getNumValueHeads()
             << ") must equal key heads (" << p.kvHeads << ")";
    p.keyWidth = v.getQkHeadDim();
    p.rowWidth = p.keyWidth;
    p.keyBegin = 0;
    p.keyNope = p.keyWidth;
    p.valueBegin = 0;
    p.valueWidth = p.epilogue == ValueEpilogue::GatedLatentDecoder
                       ? *v.getLatentDim()
                       : v.getVHeadDim();
    break;
  case KvForm::Tied: {
    TieAttr tie = v.getTie();
    p.keyWidth = v.getQkHeadDim();
    p.rowWidth = tie.getRow();
    p.keyBegin = tie.getKeyBegin();
    p.keyNope = tie.getKeyEnd() - tie.getKeyBegin();
    p.valueBegin = tie.getValueBegin();
    p.valueWidth = tie.getValueEnd() - tie.getValueBegin();
    break;
  }
  case KvForm::Latent:
    if (!op.getAbsorbed())
      return op.emitOpError() << "fused path needs the absorbed form of "
                                 "latent attention; run attn-absorb-latent "
                                 "first";
    p.rowWidth = *v.getLatentDim();
    p.keyWidth = p.rowWidth + p.ropeDim;
    p.keyBegin = 0;
    p.keyNope = p.rowWidth;
    p.valueBegin = 0;
    p.valueWidth = p.rowWidth;
    break;
  }
  if (!v.getScoreMapOfHead().empty() || !v.getLatentOfHead().empty())
    return op.emitOpError() << "fused path: explicit 'score_map_of_head' / "
                               "'latent_of_head' maps are not supported yet";

  // Schedule: up to 16 query rows per block (a group's heads times tokens,
  // PackGQA), then the largest cache tile that fits workgroup memory.
  auto qType = cast<RankedTensorType>(op.getQuery().getType());
  int64_t tq = qType.getDimSize(1);
  int64_t rows = ShapedType::isDynamic(tq) ? 16 : p.group * tq;
  p.rowsPerBlock = 1;
  while (p.rowsPerBlock < rows && p.rowsPerBlock < 16)
    p.rowsPerBlock *= 2;
  p.threads = 128;
  for (p.tileRows = 64; p.tileRows > 4 && p.sharedBytes() > kSharedBudget;
       p.tileRows /= 2)
    ;
  while (p.sharedBytes() > kSharedBudget && p.rowsPerBlock > 1)
    p.rowsPerBlock /= 2;
  if (p.sharedBytes() > kSharedBudget)
    return op.emitOpError() << "fused path: a " << p.tileWidth()
                            << "-wide cache row does not fit a tile in "
                            << kSharedBudget << " bytes of workgroup memory";
  return p;
}
