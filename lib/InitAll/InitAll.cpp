//===- InitAll.cpp - register everything attn-opt offers ------------------===//
#include "attn/InitAll.h"
#include "attn/Conversion/Passes.h"
#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "attn/Pipelines/Pipelines.h"
#include "attn/Target/Passes.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"

void mlir::attn::registerAllDialects(DialectRegistry &registry) {
  registry.insert<AttnDialect>();
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
}

void mlir::attn::registerAllPasses() {
  mlir::registerAllPasses();
  registerAttnPasses();
  registerAttnConversionPasses();
  registerAttnTargetPasses();
  registerAttnPipelines();
}
