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
    they decode in). It then shows what the fused path chooses for a
    one-token decode step and why: the `streaming` schedule (warps stream
    cache rows through registers) when a cache group serves at most 8 query
    rows, on tensor cores `mma-stream` (rows loaded straight into mma.sync
    fragments, with `tensor-cores`, separate 16-bit keys and values),
    otherwise `wgmma` (sm_90a warpgroups, with `warpgroup-mma`) or `mma`
    (tensor cores, 16-bit caches, with `tensor-cores`) or `tiled` (CUDA
    cores); the query rows per block; the rows (mma-stream: 16-row steps)
    each warp keeps in flight; the reason; and a roofline prediction of one
    step at B = 16,
    L = 8192 on an H100 (cache bytes at 3.0 TB/s, or the step's FLOPs at 67
    TFLOP/s on CUDA cores, 490 on mma.sync or 770 on wgmma, whichever is
    slower, plus launches). The IR is left unchanged.

    Example: `attn-opt --attn-report -o /dev/null examples/gqa.mlir`.
  }];
  let options = [
    Option<"outputFile", "output", "std::string", /*default=*/"\"-\"",
           "Where to write the report ('-' for stdout)">,
    Option<"tensorCores", "tensor-cores", "bool", /*default=*/"true",
           "Report the schedule of a tensor-core target (sm_80 and newer)">,
    Option<"warpgroupMma", "warpgroup-mma", "bool", /*default=*/"true",
           "With tensor-cores: of an sm_90a target, whose wgmma kernel takes "
           "groups of 16 query rows or more">
  ];
}

def AttnAbsorbLatent : Pass<"attn-absorb-latent"> {
  let summary = "Absorb the key up-projection of latent attention into the query";
  let description = [{
    Rewrites unabsorbed latent `attn.attention` ops (MLA, GLA, MTLA) into
    their absorbed form: the query becomes `[q_nope up_k_i^T ; q_rope]`
    (`latent_dim + rope dim` wide, computed by a per-head contraction), the
    key is the cached latent row itself and `up_v` stays as the value
    epilogue. The variant, and so `softmax_scale`, is unchanged: the scale
    belongs to the unabsorbed key width (variants.md §1.3), never to the
    absorbed one.

    Legality (variants.md §10.4 item 5): nothing nonlinear may sit between
    the cached latent and the up-projections and RoPE must not rotate the
    latent. The op form guarantees the first; the pass follows the rows back
    through cache updates and rejects latents produced by `attn.rope`.

    `policy`: `always` absorbs every latent op; `decode` only ops whose query
    token count is static and at most `max-decode-tokens`; `auto` absorbs when
    the absorbed form costs fewer FLOPs than materialising the keys and values
    (`Tq * ((2 d_c + d_R) - (d_qk + d_v)) < d_c * (d_nope + d_v)`, per cached
    token and head), which needs a static query token count.
  }];
  let options = [
    Option<"policy", "policy", "::mlir::attn::AbsorbPolicy",
           /*default=*/"::mlir::attn::AbsorbPolicy::Auto",
           "When to absorb", [{::llvm::cl::values(
             clEnumValN(::mlir::attn::AbsorbPolicy::Auto, "auto",
                        "when the absorbed form costs fewer FLOPs"),
             clEnumValN(::mlir::attn::AbsorbPolicy::Always, "always",
                        "every latent attention"),
             clEnumValN(::mlir::attn::AbsorbPolicy::Decode, "decode",
                        "static query token count <= max-decode-tokens"))}]>,
    Option<"maxDecodeTokens", "max-decode-tokens", "int64_t", /*default=*/"8",
           "Largest static query token count the decode policy absorbs">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

#endif // ATTN_DIALECT_ATTN_TRANSFORMS_PASSES_TD
