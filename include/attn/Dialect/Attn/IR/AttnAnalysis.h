//===- AttnAnalysis.h - cache size and intensity of a variant ---*- C++ -*-===//
//
// The numbers of variants.md §1.5 and §9, computed from a variant alone, so
// the report, the schedule choice and the tests agree on one definition.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_DIALECT_ATTN_IR_ATTNANALYSIS_H
#define ATTN_DIALECT_ATTN_IR_ATTNANALYSIS_H

#include "attn/Dialect/Attn/IR/AttnAttrs.h"

namespace mlir::attn {
struct DecodeCost {
  /// Cache elements stored per token (averaged over a slot when merging).
  double cacheElementsPerToken;
  /// The same for an MHA cache of equal output width (2 * h_out * d_v).
  double mhaElementsPerToken;
  /// FLOPs one query token spends per cached token (score and aggregation,
  /// latent variants in absorbed form; epilogues excluded).
  double flopsPerToken;
  /// Cache bytes stored per token for elements of `elementBytes` bytes.
  double bytesPerToken(double elementBytes) const {
    return cacheElementsPerToken * elementBytes;
  }
  /// flops / cache bytes.
  double intensity(double elementBytes) const {
    return flopsPerToken / bytesPerToken(elementBytes);
  }
};

/// The per-token decode cost of `variant`.
DecodeCost computeDecodeCost(VariantAttr variant);
} // namespace mlir::attn

#endif // ATTN_DIALECT_ATTN_IR_ATTNANALYSIS_H
