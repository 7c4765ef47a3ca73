//===- Passes.td - attn target passes ----------------------*- tablegen -*-===//

#ifndef ATTN_TARGET_PASSES_TD
#define ATTN_TARGET_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnEmitArtifacts : Pass<"attn-emit-artifacts", "ModuleOp"> {
  let summary = "Serialize the fused kernels and write binaries plus a manifest";
  let description = [{
    For every `gpu.module` that attn-to-flash produced (already lowered to
    NVVM or ROCDL and carrying its target), serializes a copy through
    upstream's gpu-module-to-binary machinery once per requested format
    (`isa`: PTX or AMDGPU assembly; `bin`: cubin or HSACO) and writes the
    results into `output`, with `manifest.json` describing every kernel:
    name, target, launch geometry as a function of the problem sizes,
    workgroup memory, argument order, shapes and dtypes (llvm::json). The
    module itself is left unchanged.
  }];
  let options = [
    Option<"output", "output", "std::string", /*default=*/"\"attn-out\"",
           "Directory to write the artifacts into">,
    ListOption<"formats", "formats", "std::string",
               "Formats to write: isa, bin (default: isa,bin)">,
    Option<"toolkit", "toolkit", "std::string", /*default=*/"\"\"",
           "CUDA or ROCm toolkit path (default: the one found at build time)">
  ];
}

def AttnTensorMapParams
    : Pass<"attn-tensor-map-params", "::mlir::LLVM::LLVMFuncOp"> {
  let summary = "Pass a lowered kernel's tensor maps by value";
  let description = [{
    `cp.async.bulk.tensor` reads its tensor map (CUtensorMap, 128 bytes) from
    the parameter, constant or global space. The wgmma kernel takes its tensor
    maps as kernel parameters, as CUDA's `const __grid_constant__
    CUtensorMap` does: the runtime encodes them per launch and no device
    memory holds them. On an NVVM kernel whose attribute
    `attn.tensor_map_args = N` says that its last N arguments are tensor maps
    (`!llvm.ptr` after gpu-to-nvvm, which keeps no byval attribute), this
    pass marks each `llvm.byval = !llvm.array<128 x i8>`, `llvm.align = 64`
    and `nvvm.grid_constant`: the parameter is then 128 bytes in the
    parameter space and the pointer the kernel uses is its generic address.

    Example:

    ```mlir
    llvm.func @k(%a: !llvm.ptr, %map: !llvm.ptr)
        attributes {nvvm.kernel, attn.tensor_map_args = 1 : i64}
    // becomes
    llvm.func @k(%a: !llvm.ptr, %map: !llvm.ptr {llvm.align = 64 : i64,
        llvm.byval = !llvm.array<128 x i8>, nvvm.grid_constant})
        attributes {nvvm.kernel}
    ```
  }];
  let dependentDialects = ["::mlir::NVVM::NVVMDialect"];
}

#endif // ATTN_TARGET_PASSES_TD
