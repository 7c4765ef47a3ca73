//===- InitAll.h - register everything attn-opt offers ----------*- C++ -*-===//
#ifndef ATTN_INITALL_H
#define ATTN_INITALL_H

#include "mlir/IR/DialectRegistry.h"

namespace mlir::attn {
/// Our dialect plus every upstream dialect, extension and LLVM IR translation
/// the pipelines rely on (gpu-module-to-binary needs the translations).
void registerAllDialects(DialectRegistry &registry);
/// Our passes and pipelines plus the upstream ones.
void registerAllPasses();
} // namespace mlir::attn

#endif // ATTN_INITALL_H
