//===- EmitArtifacts.cpp - binaries and manifest of the fused kernels -----===//
#include "attn/Conversion/AttnToFlash/Manifest.h"
#include "attn/Target/Passes.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/LLVMIR/ROCDLDialect.h"
#include "mlir/IR/Builders.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#ifndef ATTN_DEFAULT_CUDA_PATH
#define ATTN_DEFAULT_CUDA_PATH "/usr/local/cuda"
#endif
#ifndef ATTN_DEFAULT_ROCM_PATH
#define ATTN_DEFAULT_ROCM_PATH "/opt/rocm"
#endif

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNEMITARTIFACTS
#include "attn/Target/Passes.h.inc"

namespace {
struct Target {
  std::string chip, vendor;
  bool nvidia;
};

FailureOr<Target> targetOf(gpu::GPUModuleOp module) {
  ArrayAttr targets = module.getTargetsAttr();
  if (!targets || targets.size() != 1)
    return module.emitError()
           << "attn-emit-artifacts: '" << module.getName()
           << "' needs exactly one target (run nvvm-attach-target or "
              "rocdl-attach-target first)";
  if (auto nv = dyn_cast<NVVM::NVVMTargetAttr>(targets[0]))
    return Target{nv.getChip().str(), "nvidia", true};
  if (auto amd = dyn_cast<ROCDL::ROCDLTargetAttr>(targets[0]))
    return Target{amd.getChip().str(), "amd", false};
  return module.emitError() << "attn-emit-artifacts: unsupported target "
                            << targets[0];
}

struct AttnEmitArtifactsPass
    : impl::AttnEmitArtifactsBase<AttnEmitArtifactsPass> {
  using Base::Base;

  /// Serializes a copy of `module` in `format`; returns the object bytes.
  FailureOr<std::string> serialize(gpu::GPUModuleOp module,
                                   gpu::CompilationTarget format,
                                   StringRef toolkitPath) {
    OpBuilder b(module.getContext());
    OwningOpRef<ModuleOp> holder = ModuleOp::create(module.getLoc());
    b.setInsertionPointToEnd(holder->getBody());
    b.clone(*module);
    gpu::TargetOptions options(toolkitPath, {}, {}, {}, format);
    if (failed(gpu::transformGpuModulesToBinaries(*holder, nullptr, options)))
      return failure();
    auto binary = *holder->getOps<gpu::BinaryOp>().begin();
    auto object = cast<gpu::ObjectAttr>(binary.getObjects()[0]);
    return object.getObject().str();
  }

  void runOnOperation() override {
    ModuleOp top = getOperation();
    SmallVector<std::string> fmts(formats.begin(), formats.end());
    if (fmts.empty())
      fmts = {"isa", "bin"};
    for (const std::string &f : fmts)
      if (f != "isa" && f != "bin") {
        top.emitError() << "attn-emit-artifacts: unknown format '" << f
                        << "' (expected isa or bin)";
        return signalPassFailure();
      }
    if (std::error_code ec = llvm::sys::fs::create_directories(output)) {
      top.emitError() << "attn-emit-artifacts: cannot create '" << output
                      << "': " << ec.message();
      return signalPassFailure();
    }
    llvm::json::Array modules;
    std::string chip;
    for (auto module : top.getOps<gpu::GPUModuleOp>()) {
      auto info = module->getAttrOfType<DictionaryAttr>("attn.manifest");
      if (!info)
        continue;
      FailureOr<Target> target = targetOf(module);
      if (failed(target))
        return signalPassFailure();
      chip = target->chip;
      std::string kit = !toolkit.empty() ? std::string(toolkit)
                        : target->nvidia ? std::string(ATTN_DEFAULT_CUDA_PATH)
                                         : ATTN_DEFAULT_ROCM_PATH;
      llvm::json::Object entry = *attributeToJSON(info).getAsObject();
      llvm::json::Object files;
      for (const std::string &f : fmts) {
        bool isa = f == "isa";
        FailureOr<std::string> bytes = serialize(
            module,
            isa ? gpu::CompilationTarget::Assembly
                : gpu::CompilationTarget::Binary,
            kit);
        if (failed(bytes))
          return signalPassFailure();
        std::string ext = target->nvidia ? (isa ? "ptx" : "cubin")
                                         : (isa ? "s" : "hsaco");
        std::string name = (module.getName() + "." + chip + "." + ext).str();
        llvm::SmallString<256> path(output);
        llvm::sys::path::append(path, name);
        std::error_code ec;
        llvm::raw_fd_ostream os(path, ec);
        if (ec) {
          module.emitError() << "attn-emit-artifacts: cannot write '" << path
                             << "': " << ec.message();
          return signalPassFailure();
        }
        os << *bytes;
        files[ext] = name;
      }
      entry["files"] = std::move(files);
      entry["target"] = chip;
      entry["vendor"] = target->vendor;
      modules.push_back(std::move(entry));
    }
    llvm::SmallString<256> path(output);
    llvm::sys::path::append(path, "manifest.json");
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    if (ec) {
      top.emitError() << "attn-emit-artifacts: cannot write '" << path
                      << "': " << ec.message();
      return signalPassFailure();
    }
    llvm::json::Object manifest{{"version", 1},
                                {"target", chip},
                                {"abi", "memref1d"},
                                {"modules", std::move(modules)}};
    os << llvm::formatv("{0:2}", llvm::json::Value(std::move(manifest)))
       << "\n";
    markAllAnalysesPreserved();
  }
};
} // namespace
} // namespace mlir::attn
