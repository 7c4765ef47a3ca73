//===- Passes.td - attn dialect passes ---------------------*- tablegen -*-===//

#ifndef ATTN_DIALECT_ATTN_TRANSFORMS_PASSES_TD
#define ATTN_DIALECT_ATTN_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnReport : Pass<"attn-report", "ModuleOp"> {
  let summary = "Print cache size and decode arithmetic intensity per attention op";
  let description = [{
    For every `attn.attention` op prints one line: the function, the variant's
    cache form and heads, the cache elements and bytes stored per token per
    layer (averaged over a slot when tokens merge), the ratio to an MHA cache
    of the same output width (`2 * num_out_heads * v_head_dim`), and the
    decode arithmetic intensity: FLOPs per cache row over the row's bytes,
    for one query token, latent variants counted in absorbed form (the form
    they decode in). The IR is left unchanged.

    Example: `attn-opt --attn-report -o /dev/null examples/gqa.mlir`.
  }];
  let options = [
    Option<"outputFile", "output", "std::string", /*default=*/"\"-\"",
           "Where to write the report ('-' for stdout)">
  ];
}

#endif // ATTN_DIALECT_ATTN_TRANSFORMS_PASSES_TD
