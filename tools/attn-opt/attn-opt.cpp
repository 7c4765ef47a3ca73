//===- attn-opt.cpp - the attn optimizer driver ---------------------------===//
//
// An mlir-opt with the attn dialect, its passes and pipelines, and the
// upstream dialects, passes and LLVM IR translations they rely on.
//
//===----------------------------------------------------------------------===//
#include "attn/InitAll.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::attn::registerAllPasses();
  mlir::DialectRegistry registry;
  mlir::attn::registerAllDialects(registry);
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "attn optimizer driver\n", registry));
}
