//===- Pipelines.h - attn pass pipelines ------------------------*- C++ -*-===//
#ifndef ATTN_PIPELINES_PIPELINES_H
#define ATTN_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"

namespace mlir::attn {
/// attn (or linalg on tensors) to the LLVM dialect for the host CPU, through
/// the naive lowering: functions take and return memrefs with identity
/// layouts; mark them `llvm.emit_c_interface` to call them from C.
void buildLowerToCPUPipeline(OpPassManager &pm);

/// Registers `attn-lower-to-cpu` and the other pipelines.
void registerAttnPipelines();
} // namespace mlir::attn

#endif // ATTN_PIPELINES_PIPELINES_H
