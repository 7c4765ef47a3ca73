//===- GPUPipeline.cpp - attn to GPU binaries and a manifest --------------===//
#include "attn/Conversion/Passes.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"
#include "attn/Pipelines/Pipelines.h"
#include "attn/Target/Passes.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Pass/PassOptions.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace {
struct CompileOptions : public PassPipelineOptions<CompileOptions> {
  Option<std::string> target{*this, "target",
                             llvm::cl::desc("sm_80, sm_90a, gfx90a or gfx942"),
                             llvm::cl::init("sm_90a")};
  Option<std::string> output{*this, "output",
                             llvm::cl::desc("Artifact directory"),
                             llvm::cl::init("attn-out")};
  ListOption<std::string> formats{
      *this, "formats", llvm::cl::desc("isa, bin (default: both)")};
  Option<int64_t> mmaWarps{*this, "mma-warps",
                           llvm::cl::desc("Fix the mma kernel's warps (0: planned)"),
                           llvm::cl::init(0)};
  Option<int64_t> mmaRows{*this, "mma-rows",
                          llvm::cl::desc("Fix the mma kernel's query rows per block (0: planned)"),
                          llvm::cl::init(0)};
  Option<int64_t> mmaTile{*this, "mma-tile",
                          llvm::cl::desc("Fix the mma kernel's cache rows per tile (0: planned)"),
                          llvm::cl::init(0)};
  Option<int64_t> mmaStages{*this, "mma-stages",
                            llvm::cl::desc("Fix the mma kernel's buffered tiles, 2 or 3 (0: planned)"),
                            llvm::cl::init(0)};
  Option<int64_t> mmaValueWarps{*this, "mma-value-warps",
                                llvm::cl::desc("Fix the register-softmax mma kernel's warps per key slice (0: planned)"),
                                llvm::cl::init(0)};
  Option<int64_t> mmaRowWarps{*this, "mma-row-warps",
                              llvm::cl::desc("Fix the register-softmax mma kernel's row warps (0: planned)"),
                              llvm::cl::init(0)};
  Option<bool> mmaSharedSoftmax{*this, "mma-shared-softmax",
                                llvm::cl::desc("Never use the register-softmax mma kernel"),
                                llvm::cl::init(false)};
  Option<bool> noWgmma{*this, "no-wgmma",
                       llvm::cl::desc("Never use the wgmma kernel, even on sm_90a"),
                       llvm::cl::init(false)};
  Option<bool> noTma{
      *this, "no-tma",
      llvm::cl::desc("Copy the wgmma kernel's cache tiles by cp.async, not "
                     "by tensor maps"),
      llvm::cl::init(false)};
  Option<bool> noSeesaw{
      *this, "no-seesaw",
      llvm::cl::desc("Never split tile pairs between the wgmma kernel's "
                     "warpgroups (MLA's seesaw)"),
      llvm::cl::init(false)};
  Option<bool> noNarrow{
      *this, "no-narrow",
      llvm::cl::desc("Never the narrow wgmma kernel (a token's 4 to 32 "
                     "query rows per group as wgmma's N)"),
      llvm::cl::init(false)};
  Option<bool> traceBlocks{
      *this, "trace-blocks",
      llvm::cl::desc("For timing studies: blocks print %globaltimer stamps "
                     "(attn-to-flash's trace-blocks)"),
      llvm::cl::init(false)};
  Option<bool> mmaSmallGroups{*this, "mma-small-groups",
                              llvm::cl::desc("Use the mma kernel also for <= 8 query rows per group"),
                              llvm::cl::init(false)};
  Option<bool> noStreamMma{
      *this, "no-stream-mma",
      llvm::cl::desc("Never the streaming kernel's tensor-core form"),
      llvm::cl::init(false)};
  Option<int64_t> streamUnroll{
      *this, "stream-unroll",
      llvm::cl::desc("Fix the streaming tensor-core kernel's steps in flight "
                     "(0: planned)"),
      llvm::cl::init(0)};
};
} // namespace

mlir::attn::GPUTargetFeatures mlir::attn::gpuTargetFeatures(StringRef target) {
  GPUTargetFeatures f;
  f.nvidia = target.starts_with("sm_");
  unsigned sm = 0;
  StringRef digits = target.drop_front(3);
  f.tensorCores = f.nvidia && !digits.consumeInteger(10, sm) && sm >= 80;
  f.warpgroupMma = f.tensorCores && sm == 90 && digits == "a";
  return f;
}

LogicalResult mlir::attn::buildCompilePipeline(OpPassManager &pm,
                                               StringRef target,
                                               StringRef output,
                                               ArrayRef<std::string> formats,
                                               const GPUCompileOptions &extra) {
  GPUTargetFeatures features = gpuTargetFeatures(target);
  bool nvidia = features.nvidia;
  if (!nvidia && !target.starts_with("gfx"))
    return failure();
  // The fused path works on the canonical (absorbed) form.
  AttnAbsorbLatentOptions absorb;
  absorb.policy = AbsorbPolicy::Always;
  pm.addPass(createAttnAbsorbLatent(absorb));
  AttnToFlashOptions flash = extra.schedule;
  flash.tensorCores = features.tensorCores;
  flash.warpgroupMma = features.warpgroupMma && !extra.noWgmma;
  flash.tensorMapCopies = flash.warpgroupMma && !extra.noTensorMaps;
  flash.seesaw = flash.tensorMapCopies && !extra.noSeesaw;
  flash.narrowQuery = flash.warpgroupMma && !extra.noNarrow;
  pm.addPass(createAttnToFlash(flash));
  if (nvidia) {
    GpuNVVMAttachTargetOptions attach;
    attach.chip = target.str();
    attach.features = "+ptx80";
    attach.optLevel = 3;
    pm.addPass(createGpuNVVMAttachTarget(attach));
  } else {
    GpuROCDLAttachTargetOptions attach;
    attach.chip = target.str();
    attach.optLevel = 3;
    pm.addPass(createGpuROCDLAttachTarget(attach));
  }
  OpPassManager &gpu = pm.nest<gpu::GPUModuleOp>();
  gpu.addPass(createSCFToControlFlowPass());
  if (nvidia) {
    gpu.addPass(createConvertNVGPUToNVVMPass());
    gpu.addPass(createConvertGpuOpsToNVVMOps());
    // wgmma.mma_async has no LLVM intrinsic form: inline PTX.
    gpu.addPass(createConvertNVVMToLLVMPass());
    gpu.addNestedPass<LLVM::LLVMFuncOp>(createAttnTensorMapParams());
  } else {
    ConvertGpuOpsToROCDLOpsOptions rocdl;
    rocdl.chipset = target.str();
    gpu.addPass(createConvertGpuOpsToROCDLOps(rocdl));
  }
  gpu.addPass(createCanonicalizerPass());
  gpu.addPass(createCSEPass());
  gpu.addPass(createReconcileUnrealizedCastsPass());
  AttnEmitArtifactsOptions emit;
  emit.output = output.str();
  emit.formats = SmallVector<std::string>(formats.begin(), formats.end());
  emit.toolkit = extra.toolkit;
  pm.addPass(createAttnEmitArtifacts(emit));
  return success();
}

void mlir::attn::registerAttnGPUPipelines() {
  PassPipelineRegistration<CompileOptions>(
      "attn-compile",
      "Compile every attn.attention to fused GPU kernels: binaries for "
      "`target` plus manifest.json in `output`",
      [](OpPassManager &pm, const CompileOptions &o) {
        SmallVector<std::string> formats(o.formats.begin(), o.formats.end());
        GPUCompileOptions extra;
        extra.schedule.mmaWarps = o.mmaWarps;
        extra.schedule.mmaRows = o.mmaRows;
        extra.schedule.mmaTile = o.mmaTile;
        extra.schedule.mmaStages = o.mmaStages;
        extra.schedule.mmaValueWarps = o.mmaValueWarps;
        extra.schedule.mmaRowWarps = o.mmaRowWarps;
        extra.schedule.mmaSharedSoftmax = o.mmaSharedSoftmax;
        extra.schedule.mmaSmallGroups = o.mmaSmallGroups;
        extra.schedule.noStreamMma = o.noStreamMma;
        extra.schedule.streamUnroll = o.streamUnroll;
        extra.schedule.traceBlocks = o.traceBlocks;
        extra.noWgmma = o.noWgmma;
        extra.noTensorMaps = o.noTma;
        extra.noSeesaw = o.noSeesaw;
        extra.noNarrow = o.noNarrow;
        if (failed(buildCompilePipeline(pm, o.target, o.output, formats,
                                        extra)))
          llvm::report_fatal_error("attn-compile: unknown target '" +
                                   Twine(o.target) +
                                   "' (expected sm_80, sm_90a, gfx90a, gfx942)");
      });
}
