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

#endif // ATTN_TARGET_PASSES_TD
