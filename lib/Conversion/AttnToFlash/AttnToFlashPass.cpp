//===- AttnToFlashPass.cpp - the attn-to-flash pass -----------------------===//
#include "FlashKernels.h"
#include "attn/Conversion/AttnToFlash/FlashPlan.h"
#include "attn/Conversion/AttnToFlash/Manifest.h"
#include "attn/Conversion/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNTOFLASH
#include "attn/Conversion/Passes.h.inc"

namespace {
struct AttnToFlashPass : impl::AttnToFlashBase<AttnToFlashPass> {
  using Base::Base;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    FlashOptions options{
        tensorCores,     mmaWarps,      mmaRows,     mmaTile,
        mmaStages,       mmaValueWarps, mmaRowWarps, mmaSharedSoftmax,
        mmaSmallGroups,  warpgroupMma,  noStreamMma, streamUnroll,
        tensorMapCopies, seesaw,        narrowQuery, traceBlocks};
    if (mlir::failed(options.verify([&] { return module.emitError(); })))
      return signalPassFailure();
    SmallVector<AttentionOp> ops;
    module.walk([&](AttentionOp op) { ops.push_back(op); });
    OpBuilder b(module.getContext());
    b.setInsertionPointToEnd(module.getBody());
    bool failed = false;
    llvm::StringMap<unsigned> perFunction;
    for (AttentionOp op : ops) {
      FailureOr<FlashPlan> plan =
          FlashPlan::get(op, /*forAnalysis=*/false, options);
      if (mlir::failed(plan)) {
        failed = true;
        continue;
      }
      auto func = op->getParentOfType<func::FuncOp>();
      std::string base = func ? func.getSymName().str() : "attention";
      std::string name = base + "_attn" + std::to_string(perFunction[base]++);
      auto gpuModule = gpu::GPUModuleOp::create(b, op.getLoc(), name);
      OpBuilder inner(gpuModule.getBodyRegion());
      if (plan->narrow)
        buildMmaNarrowKernel(inner, op.getLoc(), *plan, "fwd");
      else if (plan->warpgroup)
        buildMmaWarpgroupKernel(inner, op.getLoc(), *plan, "fwd");
      else if (plan->registerSoftmax)
        buildMmaRegisterKernel(inner, op.getLoc(), *plan, "fwd");
      else if (plan->mma)
        buildMmaForwardKernel(inner, op.getLoc(), *plan, "fwd");
      else if (plan->streamMma)
        buildMmaStreamKernel(inner, op.getLoc(), *plan, "fwd");
      else if (plan->streaming)
        buildStreamingForwardKernel(inner, op.getLoc(), *plan, "fwd");
      else
        buildForwardKernel(inner, op.getLoc(), *plan, "fwd");
      buildCombineKernel(inner, op.getLoc(), *plan, "combine", 1,
                         plan->combineThreads());
      if (int64_t wide = plan->combineWideThreads())
        buildCombineKernel(inner, op.getLoc(), *plan, "combine_wide", 1, wide);
      if (int64_t slices = plan->combineSlices(); slices > 1)
        buildCombineKernel(inner, op.getLoc(), *plan, "combine_slices", 1,
                           plan->combineWideThreads(), slices);
      if (plan->combinesOnTensorCores())
        buildCombineMmaKernel(inner, op.getLoc(), *plan, "combine_rows");
      else if (int64_t rows = plan->combineRows())
        buildCombineKernel(inner, op.getLoc(), *plan, "combine_rows", rows,
                           plan->combineRowsThreads());
      if (plan->normalisedRows())
        buildCombineMmaKernel(inner, op.getLoc(), *plan, "project_rows",
                              /*projectRows=*/true);
      if (plan->projectSlices())
        buildProjectSlicesKernel(inner, op.getLoc(), *plan, "project_slices");
      gpuModule->setAttr("attn.manifest",
                         buildManifestEntry(op, *plan, name, base));
    }
    // Cache updates: one kernel each, updating the cache in place.
    SmallVector<CacheUpdateOp> updates;
    module.walk([&](CacheUpdateOp op) { updates.push_back(op); });
    for (CacheUpdateOp op : updates) {
      auto type = op.getCache().getType();
      int64_t rowElements = 1;
      for (int64_t d : type.getShape().drop_front(2))
        rowElements = ShapedType::isDynamic(d) ? ShapedType::kDynamic
                                               : rowElements * d;
      if (ShapedType::isDynamic(rowElements)) {
        op.emitOpError() << "fused path: cache rows need static trailing "
                            "dimensions, got "
                         << type;
        failed = true;
        continue;
      }
      auto func = op->getParentOfType<func::FuncOp>();
      std::string base = func ? func.getSymName().str() : "cache";
      std::string name =
          base + "_update" + std::to_string(perFunction[base + "#u"]++);
      auto gpuModule = gpu::GPUModuleOp::create(b, op.getLoc(), name);
      OpBuilder inner(gpuModule.getBodyRegion());
      buildCacheUpdateKernel(inner, op.getLoc(), op, rowElements, "update");
      gpuModule->setAttr("attn.manifest", buildCacheUpdateManifest(
                                              op, rowElements, name, base));
    }
    if (!ops.empty() || !updates.empty())
      module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                      b.getUnitAttr());
    if (failed)
      signalPassFailure();
  }
};
} // namespace
} // namespace mlir::attn
