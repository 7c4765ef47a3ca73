//===- AttnAnalysis.cpp - cache size and intensity of a variant -----------===//
#include "attn/Dialect/Attn/IR/AttnAnalysis.h"

using namespace mlir;
using namespace mlir::attn;

DecodeCost mlir::attn::computeDecodeCost(VariantAttr v) {
  DecodeCost cost;
  cost.cacheElementsPerToken = v.getCacheElementsPerToken();
  cost.mhaElementsPerToken =
      2.0 * static_cast<double>(v.getNumOutputHeads() * v.getVHeadDim());
  // Each score map does one dot product of the key width and one
  // multiply-add of the aggregated width per cached row.
  double maps = static_cast<double>(v.getNumQHeads());
  double keyWidth = 0, valueWidth = 0;
  switch (v.getKvForm()) {
  case KvForm::Separate:
    keyWidth = v.getQkHeadDim();
    valueWidth = v.getValueEpilogue() == ValueEpilogue::GatedLatentDecoder
                     ? *v.getLatentDim()
                     : v.getVHeadDim();
    break;
  case KvForm::Tied:
    keyWidth = v.getQkHeadDim();
    valueWidth = v.getVHeadDim();
    break;
  case KvForm::Latent:
    keyWidth = v.getQueryWidth(/*absorbed=*/true);
    valueWidth = *v.getLatentDim();
    break;
  }
  // A slot merges time_stride tokens: per token, 1/s of a row's work.
  cost.flopsPerToken = 2.0 * maps * (keyWidth + valueWidth) /
                       static_cast<double>(v.getTimeStride());
  return cost;
}
