//===- TensorMapParams.cpp - tensor maps as by-value kernel parameters ----===//
#include "attn/Conversion/AttnToFlash/FlashPlan.h"
#include "attn/Target/Passes.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNTENSORMAPPARAMS
#include "attn/Target/Passes.h.inc"

namespace {
struct TensorMapParams : impl::AttnTensorMapParamsBase<TensorMapParams> {
  void runOnOperation() override {
    LLVM::LLVMFuncOp func = getOperation();
    auto count = func->getAttrOfType<IntegerAttr>(kTensorMapArgsAttrName);
    if (!count)
      return;
    int64_t n = count.getInt(), args = func.getNumArguments();
    if (!func->hasAttr(NVVM::NVVMDialect::getKernelFuncAttrName())) {
      func.emitError() << "'" << kTensorMapArgsAttrName
                       << "' on a function that is not an NVVM kernel";
      return signalPassFailure();
    }
    if (n < 0 || n > args) {
      func.emitError() << "'" << kTensorMapArgsAttrName << "' = " << n
                       << " but the kernel has " << args << " arguments";
      return signalPassFailure();
    }
    Builder b(func.getContext());
    auto bytes = LLVM::LLVMArrayType::get(b.getI8Type(), 128);
    for (int64_t i = args - n; i < args; ++i) {
      if (!isa<LLVM::LLVMPointerType>(func.getArgument(i).getType())) {
        func.emitError() << "tensor map argument " << i << " is "
                         << func.getArgument(i).getType()
                         << ", expected !llvm.ptr";
        return signalPassFailure();
      }
      func.setArgAttr(i, LLVM::LLVMDialect::getByValAttrName(),
                      TypeAttr::get(bytes));
      func.setArgAttr(i, LLVM::LLVMDialect::getAlignAttrName(),
                      b.getI64IntegerAttr(64));
      func.setArgAttr(i, NVVM::NVVMDialect::getGridConstantAttrName(),
                      b.getUnitAttr());
    }
    func->removeAttr(kTensorMapArgsAttrName);
  }
};
} // namespace
} // namespace mlir::attn
