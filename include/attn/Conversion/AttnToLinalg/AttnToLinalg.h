//===- AttnToLinalg.h - naive lowering of attn to linalg --------*- C++ -*-===//
#ifndef ATTN_CONVERSION_ATTNTOLINALG_ATTNTOLINALG_H
#define ATTN_CONVERSION_ATTNTOLINALG_ATTNTOLINALG_H

#include "mlir/IR/PatternMatch.h"

namespace mlir::attn {
/// attn.attention to linalg on tensors (LowerAttention.cpp).
void populateLowerAttentionPatterns(RewritePatternSet &patterns);
/// The layer ops to linalg on tensors (LowerLayerOps.cpp).
void populateLowerLayerOpsPatterns(RewritePatternSet &patterns);
} // namespace mlir::attn

#endif // ATTN_CONVERSION_ATTNTOLINALG_ATTNTOLINALG_H
