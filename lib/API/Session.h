//===- Session.h - one API call's MLIR context and diagnostics --*- C++ -*-===//
#ifndef ATTN_LIB_API_SESSION_H
#define ATTN_LIB_API_SESSION_H

#include "attn/API/Compiler.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

namespace attn::detail {

/// A private MLIRContext with every dialect attn uses, whose diagnostics are
/// all captured (with their notes) into `diagnostics`.
class Session {
public:
  explicit Session(std::vector<Diagnostic> &diagnostics);
  mlir::MLIRContext context;

  /// Parses `source` as a module; diagnostics are located in `name`.
  mlir::OwningOpRef<mlir::ModuleOp> parse(std::string_view source,
                                          llvm::StringRef name);
  /// Records an error with no location.
  void error(std::string message);
  /// Whether an error was recorded.
  bool failed() const;

private:
  void record(mlir::Diagnostic &d);
  std::vector<Diagnostic> &diagnostics;
  mlir::ScopedDiagnosticHandler handler;
};

} // namespace attn::detail

#endif // ATTN_LIB_API_SESSION_H
