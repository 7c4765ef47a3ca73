//===- Pipelines.h - attn pass pipelines ------------------------*- C++ -*-===//
#ifndef ATTN_PIPELINES_PIPELINES_H
#define ATTN_PIPELINES_PIPELINES_H

#include "attn/Conversion/Passes.h"
#include "mlir/Pass/PassManager.h"
#include <string>

namespace mlir::attn {
/// attn (or linalg on tensors) to the LLVM dialect for the host CPU, through
/// the naive lowering: functions take and return memrefs with identity
/// layouts; mark them `llvm.emit_c_interface` to call them from C.
void buildLowerToCPUPipeline(OpPassManager &pm);

/// Beyond the target: the toolkit root for device libraries (empty: the
/// configured default) and attn-to-flash's fixed schedule knobs for
/// experiments (0: the plan chooses; `tensorCores` and `warpgroupMma`
/// follow the target, the latter unless `noWgmma`).
struct GPUCompileOptions {
  std::string toolkit;
  AttnToFlashOptions schedule;
  bool noWgmma = false;
  bool noTensorMaps = false; // the wgmma kernel's tiles by cp.async instead
  bool noSeesaw = false;     // never the seesaw over tile pairs (MLA)
  bool noNarrow = false;     // never the narrow wgmma kernel (few rows)
};

/// What the fused kernels may use on `target`: mma.sync tensor cores
/// (NVIDIA sm_80 and newer) and wgmma (the architecture-specific sm_90a).
struct GPUTargetFeatures {
  bool nvidia = false, tensorCores = false, warpgroupMma = false;
};
GPUTargetFeatures gpuTargetFeatures(StringRef target);

/// attn to fused GPU kernels for `target` (sm_80, sm_90a, gfx90a, gfx942),
/// written with their manifest into `output`. Fails on an unknown target.
LogicalResult buildCompilePipeline(OpPassManager &pm, StringRef target,
                                   StringRef output,
                                   ArrayRef<std::string> formats,
                                   const GPUCompileOptions &extra = {});

/// Registers `attn-lower-to-cpu` and the other pipelines.
void registerAttnPipelines();
/// Registers `attn-compile` (GPUPipeline.cpp).
void registerAttnGPUPipelines();
} // namespace mlir::attn

#endif // ATTN_PIPELINES_PIPELINES_H
