//===- Passes.td - attn conversion passes ------------------*- tablegen -*-===//

#ifndef ATTN_CONVERSION_PASSES_TD
#define ATTN_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnToLinalg : Pass<"attn-to-linalg"> {
  let summary = "Lower attn ops to linalg on tensors, naively and exactly";
  let description = [{
    The reference lowering of every attn op: attention materialises each
    head's keys and values from the cache rows (tied slices, latent
    up-projections, the shared rotary key), computes all scores, masks them
    (causal bottom-right, MTLA's stride-aware mask, per-sequence lengths),
    takes the softmax and aggregates, then applies the value epilogue (latent
    up-projection, Sun's gated decoder, MFA-KR's post-transform). Layer ops
    become contractions and elementwise generics. Arithmetic runs in f32 for
    16-bit floats (f64 stays f64); a row with no visible key yields zeros.
    Slow and obviously right: fast kernels are checked against it.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::tensor::TensorDialect"];
}

def AttnMemrefCopyToLinalg : Pass<"attn-memref-copy-to-linalg"> {
  let summary = "Rewrite memref.copy as linalg.copy so CPU code needs no runtime";
  let description = [{
    Bufferization expresses copies (e.g. of a `tensor.concat`) as
    `memref.copy`, which `finalize-memref-to-llvm` lowers to a call to
    `memrefCopy` from MLIR's C runner utilities when a side is not
    contiguous. As `linalg.copy` the copy becomes plain loops, so the CPU
    pipeline's output needs nothing beyond libc and libm.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def AttnToFlash : Pass<"attn-to-flash", "ModuleOp"> {
  let summary = "Generate fused GPU kernels for every attn.attention op";
  let description = [{
    For each `attn.attention` (latent ones absorbed first) builds a
    `gpu.module` holding two kernels: `fwd`, the split-KV forward kernel
    (online softmax over cache tiles, the query heads of one cache group
    packed as the rows of a block, one load of a cache row feeding both the
    key and the value view, the shared rotary stream loaded beside it), and
    `combine`, which merges the splits, normalises and applies the value
    epilogue (latent up-projection, Sun's gated decoder, MFA-KR's
    post-transform). A third kernel, `combine_rows`, does the same for 8
    batch rows per block, so that each load of a head's epilogue weights
    serves all of them, or, for a plain merge, so that large batches take
    fewer, longer blocks; the runtime picks one of the two by size. The
    schedule (rows per block, cache rows per tile, threads) and the kernels'
    argument order and launch geometry are recorded in an `attn.manifest`
    attribute on the module. Host functions are left as
    they are: the runtime launches the kernels.

    With `tensor-cores` (NVIDIA sm_80 and newer), blocks of many query rows
    per cache group with bf16 or f16 caches get a forward kernel on warp-level
    `mma.sync` instead: cache tiles double buffered by `cp.async` in dynamic
    workgroup memory, both products on tensor cores. Mostly the
    register-softmax form: warps split each tile's cache rows (key warps)
    and the block's query rows (row warps), keep scores and probabilities in
    registers and synchronise once per tile; value warps, which recompute
    their key slice's scores, only while that stays under half the mma.sync
    ridge. Otherwise (512-wide latent values over many heads: MLA-128,
    MTLA) the shared-softmax form, whose warps split the scores' k steps and
    the value columns and exchange scores through workgroup memory.

    With `warpgroup-mma` as well (sm_90a), groups of 16 query rows or more
    (padded to 64) whose values fit one or two warpgroups' accumulators (at
    most 512 wide: MLA, GLA, MFA, MFA-KR, MQA, MTLA, prefill) get the
    warpgroup form: one warpgroup per 64-row block (two for values wider
    than 256), both products on `wgmma` with operands read by descriptor
    from cache tiles staged in the 128-byte swizzled layout, so each tile is
    read from workgroup memory once per block instead of once per warp;
    pipelined (scores of the next tile and values of this one in flight
    together) where three or more tiles fit. There MFA-KR's post-transform,
    one linear map for every row, runs in the forward kernel on each
    split's unnormalised outputs (one more wgmma product per block), and
    its combine only merges.

    With `narrow-query` as well, a decode step's 4 to 32 query rows per
    cache group (MQA, MLA-16, MTLA, Sun's GTA, GTA; on sm_90a these take it
    over the 64-row form, which pads them to 64, and over the mma.sync
    register form, which pads fewer than 16 to 16) get the narrow variant:
    one warpgroup computes scores^T = K Q^T and O^T = V^T P^T, the
    rows (rounded up to 8) as wgmma's N dimension and a tile's 64 cache rows
    as its M, so no rows are padded to 64; the softmax runs down the
    accumulators' columns (the 4 warps meet their column maxima in
    workgroup memory), and the outputs are staged in workgroup memory and
    stored as whole rows: one bulk copy (`cp.async.bulk`) a row where a
    later kernel reads them, 16-byte stores for the result and the grid
    merge's partials.

    On tensor-core targets the latent up-projection after the split merge
    (MLA, GLA, MTLA) also has a `combine_rows` kernel on `mma.sync`: 64
    batch rows of one head per block against the head's whole
    up-projection in workgroup memory (and for MFA-KR's post-transform
    behind an `mma.sync` forward kernel, against the shared transform),
    and `combine_slices`: the one-row combine of that up-projection in
    column slices, a block each (for a token's few rows at batch 1), whose
    partial sums the row's last block to arrive adds in slice order.
    Behind the warpgroup forward kernels, which then store each split's rows
    normalised, `project_rows` merges and multiplies them on combine_rows'
    grid, and `project_slices` takes 16 batch rows of one head and one slice
    of the latent columns a block (for batches of up to 32 rows), the
    slices of a head one thread-block cluster whose blocks add their partial
    products through distributed workgroup memory.
  }];
  let options = [
    Option<"tensorCores", "tensor-cores", "bool", /*default=*/"false",
           "Allow the mma.sync forward kernel (NVIDIA sm_80 and newer)">,
    Option<"mmaWarps", "mma-warps", "int64_t", /*default=*/"0",
           "Fix the mma kernel's warps per block, 4 or 8 (0: planned)">,
    Option<"mmaRows", "mma-rows", "int64_t", /*default=*/"0",
           "Fix the mma kernel's query rows per block, 16/32/64 (0: planned)">,
    Option<"mmaTile", "mma-tile", "int64_t", /*default=*/"0",
           "Fix the mma kernel's cache rows per tile, 16/32/64 (0: planned)">,
    Option<"mmaStages", "mma-stages", "int64_t", /*default=*/"0",
           "Fix the mma kernel's buffered cache tiles, 2 or 3 (0: planned)">,
    Option<"mmaValueWarps", "mma-value-warps", "int64_t", /*default=*/"0",
           "Fix the register-softmax mma kernel's warps per key slice, "
           "1/2/4 (0: planned)">,
    Option<"mmaRowWarps", "mma-row-warps", "int64_t", /*default=*/"0",
           "Fix the register-softmax mma kernel's warps splitting a block's "
           "query rows (0: planned)">,
    Option<"mmaSharedSoftmax", "mma-shared-softmax", "bool",
           /*default=*/"false",
           "Never use the register-softmax form of the mma kernel">,
    Option<"mmaSmallGroups", "mma-small-groups", "bool", /*default=*/"false",
           "Use the mma kernel also for <= 8 query rows per cache group">,
    Option<"warpgroupMma", "warpgroup-mma", "bool", /*default=*/"false",
           "Allow the wgmma forward kernel for groups of 16 query rows or "
           "more (NVIDIA sm_90a; needs tensor-cores)">,
    Option<"noStreamMma", "no-stream-mma", "bool", /*default=*/"false",
           "Never the streaming kernel's tensor-core form (CUDA cores "
           "instead)">,
    Option<"streamUnroll", "stream-unroll", "int64_t", /*default=*/"0",
           "Fix the streaming tensor-core kernel's 16-row steps in flight "
           "per warp, 1 to 4 (0: planned)">,
    Option<"tensorMapCopies", "tensor-map-copies", "bool", /*default=*/"false",
           "Copy the wgmma kernel's cache tiles by the tensor memory "
           "accelerator, through tensor maps the runtime encodes (NVIDIA "
           "sm_90a; needs warpgroup-mma)">,
    Option<"seesaw", "seesaw", "bool", /*default=*/"false",
           "Split each pair of tiles between two warpgroups, one scoring "
           "while the other multiplies values (FlashMLA's seesaw), where "
           "the TMA loop takes 64-row tiles (needs tensor-map-copies)">,
    Option<"narrowQuery", "narrow-query", "bool", /*default=*/"false",
           "Decode with 4 to 32 query rows per cache group on the narrow "
           "wgmma kernel: the rows as wgmma's N dimension, not padded to "
           "64 (needs warpgroup-mma)">,
    Option<"traceBlocks", "trace-blocks", "bool", /*default=*/"false",
           "For timing studies, not for use: each block of the wgmma "
           "forward kernels and of the combines after them records its SM "
           "and %globaltimer stamps in a global of the module, which the "
           "runtime prints after each step (bench/trace_blocks.py reads "
           "them; needs warpgroup-mma)">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::gpu::GPUDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::NVVM::NVVMDialect",
                           "::mlir::nvgpu::NVGPUDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect"];
}

#endif // ATTN_CONVERSION_PASSES_TD
