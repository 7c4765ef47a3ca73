//===- AttnAttrs.h - attn attributes ----------------------------*- C++ -*-===//
#ifndef ATTN_DIALECT_ATTN_IR_ATTNATTRS_H
#define ATTN_DIALECT_ATTN_IR_ATTNATTRS_H

#include "mlir/IR/Attributes.h"
#include "llvm/ADT/APFloat.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"
#include <optional>

#include "attn/Dialect/Attn/IR/AttnEnums.h.inc"

namespace mlir::attn::detail {
/// Parses a floating-point literal as an f64 attribute parameter.
FailureOr<llvm::APFloat> parseF64(AsmParser &parser);
/// Parses `[a, b, ...]` as a list of integers.
FailureOr<SmallVector<int64_t>> parseI64List(AsmParser &parser);
/// Prints a list of integers as `[a, b, ...]`.
void printI64List(AsmPrinter &printer, ArrayRef<int64_t> values);
} // namespace mlir::attn::detail

#define GET_ATTRDEF_CLASSES
#include "attn/Dialect/Attn/IR/AttnAttrs.h.inc"

#endif // ATTN_DIALECT_ATTN_IR_ATTNATTRS_H
