//===- FlashPlan.h - what a fused attention kernel computes -----*- C++ -*-===//
//
// A FlashPlan is everything the fused kernels need to know about one
// attn.attention op: the canonical decode form of variants.md §1.6 (query
// rows per cache group, the key and value views of one cache row stream, the
// shared rotary stream), the mask, the epilogue, and the schedule (rows per
// block, cache rows per tile, threads). The kernel builders, the manifest and
// the report all read this one struct.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_CONVERSION_ATTNTOFLASH_FLASHPLAN_H
#define ATTN_CONVERSION_ATTNTOFLASH_FLASHPLAN_H

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "mlir/Support/LLVM.h"

namespace mlir::attn {

/// What the target allows and, for experiments, fixed schedule knobs
/// (0: chosen by the plan).
struct FlashOptions {
  bool tensorCores = false; // mma.sync (NVIDIA sm_80 and newer)
  int64_t mmaWarps = 0;     // warps per block of the mma kernel (4 or 8)
  int64_t mmaRows = 0;      // query rows per block (16, 32, 64)
  int64_t mmaTile = 0;      // cache rows per tile (16, 32, 64)
  int64_t mmaStages = 0;    // tiles buffered (2 or 3)
  int64_t mmaValueWarps = 0; // register softmax: value warps per key slice
  int64_t mmaRowWarps = 0;   // register softmax: row warps per key slice
  bool mmaSharedSoftmax = false; // never the register-softmax form
  bool mmaSmallGroups = false;   // mma also for <= 8 rows per group
  bool warpgroupMma = false;     // wgmma (NVIDIA sm_90a)
  bool noStreamMma = false;      // never streaming on tensor cores
  int64_t streamUnroll = 0;      // streaming on tensor cores: steps in flight
  bool tensorMapCopies = false;  // wgmma tiles by TMA (NVIDIA sm_90a)
  bool seesaw = false;           // MLA's seesaw where the TMA loop allows
  bool narrowQuery = false;      // wgmma with a token's heads as N
  bool traceBlocks = false;      // print each block's timer stamps

  /// Checks each fixed knob against the values the kernels can take (the
  /// message names the pass option). A knob that fits no form of a given op
  /// leaves that op to the forms it does fit.
  LogicalResult verify(function_ref<InFlightDiagnostic()> emitError) const;
};

/// On a kernel: how many of its last arguments are tensor maps, which
/// attn-tensor-map-params passes by value once lowered to LLVM.
inline constexpr llvm::StringLiteral kTensorMapArgsAttrName =
    "attn.tensor_map_args";

struct FlashPlan {
  // Problem (from the variant and the operand types).
  KvForm form;
  int64_t qHeads;     // query rows per token (score maps)
  int64_t kvHeads;    // cache groups
  int64_t group;      // query heads per cache group
  int64_t keyWidth;   // query-key dot width (absorbed for latent)
  int64_t valueWidth; // aggregated value width
  int64_t rowWidth;   // stored row width (tied row, latent dc, separate key)
  int64_t ropeDim;    // shared rotary stream width (0: none)
  int64_t keyBegin;   // first row column of the key view
  int64_t keyNope;    // key columns taken from the row
  int64_t valueBegin; // first row column of the value view
  Mask mask;
  int64_t timeStride;
  double scale;
  Type storage;        // cache / query / output element type
  Type lengthType;     // seq_lens element type (null: no seq_lens)
  ValueEpilogue epilogue;
  int64_t outHeads;
  int64_t outWidth;    // v_head_dim of the result
  // Schedule.
  int64_t rowsPerBlock; // R: query rows (token x head-in-group) per block
  int64_t tileRows;     // N: cache rows per tile
  int64_t threads;      // threads per block
  // The streaming decode schedule: each warp streams whole cache rows with
  // vector loads, lanes own column slices, scores are warp reductions.
  bool streaming = false;
  int64_t vecK = 1; // elements per vector load of the key (or tied) stream
  int64_t vecV = 1; // elements per vector load of a separate value stream
  int64_t unroll = 1; // cache rows a warp has in flight per iteration
  bool butterfly = false; // reduce all of an iteration's scores at once
  // Its tensor-core form (MmaStreamKernel.cpp; tensor-core targets,
  // separate 16-bit keys and values, at most 8 rows per group): warps load
  // 16 cache rows per step from global memory straight into mma.sync
  // fragments, `unroll` steps in flight, the query rows padded to 16;
  // `blocksPerSM` caps the registers.
  bool streamMma = false;
  // The tensor-core schedule (sm_80+, bf16/f16 caches, many query rows per
  // group): warp-level mma.sync for both products, cache tiles double
  // buffered in dynamic workgroup memory by cp.async.
  bool mma = false;
  int64_t blocksPerSM = 1; // resident blocks the mma schedule is sized for
  int64_t stages = 2;      // cache tiles in flight or in use (mma)
  // The register-softmax form of the mma schedule, for memory-bound
  // groups: the warps split each tile's cache rows (key warps) and, where
  // the accumulators would not fit one warp, the value columns (value
  // warps, each recomputing its key slice's scores); scores, softmax and
  // probabilities never leave registers, one barrier per tile.
  // Row warps, where the group is large enough, each own a slice of the
  // block's query rows (FlashAttention-2's split): no recomputed scores.
  bool registerSoftmax = false;
  int64_t valueWarps = 1;
  int64_t rowWarps = 1;
  int64_t keyWarps() const { return threads / 32 / valueWarps / rowWarps; }
  // The warpgroup form (sm_90a): warpgroups of 4 warps hold 64 query rows
  // of a group per block; both products on wgmma with operands read
  // straight from workgroup memory (cache tiles in the 128-byte swizzled
  // layout), scores and outputs in the warpgroups' accumulators,
  // probabilities through workgroup memory. The block owns all of a tile:
  // no merge of key warps.
  bool warpgroup = false;
  // Warpgroups per block of that form: each owns valueWidth / warpgroups
  // value columns (at most 256: its accumulators) and scores its share of
  // every tile's rows; the row maxima meet in workgroup memory.
  int64_t warpgroups = 1;
  // The warpgroup kernel applies the value epilogue to its unnormalised
  // partial outputs, where that epilogue is one linear map shared by every
  // row (MFA-KR's o + alpha (o N)): it then commutes with the combine's
  // merge and runs as one more wgmma product per block instead of a
  // mat-vec per output row in the combine, which only merges.
  bool forwardEpilogue = false;
  // The warpgroup form's cache tiles, in its two-stage loop (and in the
  // pipelined one at decode over separate keys and values), copied by the
  // tensor memory accelerator (planWarpgroupMma says why): one thread
  // issues a 64-column block of a tile per cp.async.bulk.tensor, through a
  // tensor map of each cache stream that the runtime encodes per launch
  // (manifest `tensor_map` arguments), into the 128-byte swizzled layout
  // wgmma reads; each slot's mbarrier counts its bytes in. The warps then
  // issue no copies and compute no addresses for them. Needs every stream
  // to start on a 64-column block of the tile.
  bool tensorMaps = false;
  // FlashMLA's seesaw, for that two-stage loop with two warpgroups and
  // 64-row tiles (MLA): the loop takes the tiles in pairs; warpgroup g
  // scores tile g of the pair on m64n64 while the other multiplies
  // probabilities into its half of the values, the row max chained from
  // tile 0 to tile 1 (each warpgroup's outputs rescaled to it), so one
  // warpgroup's softmax runs beside the other's products. Every 64-column
  // block of a slot has its own mbarrier and is copied again as soon as
  // its last reader is done. Tile 0's probabilities take its slot's block
  // that only the scores read (seesawScoreBlock), tile 1's the
  // probability buffer.
  bool seesaw = false;
  // The 64-row form's cp.async tiles at decode: tile 0 goes out before the
  // query rows, in their commit group (a group's query rows, shared by its
  // splits, come from L2 and the tile from DRAM: MFA-KR 2-6% faster at
  // B <= 16, up to 1.5% at B=32-64, GLA unchanged; at prefill -1 to +1.3%,
  // docs/performance.md step 119).
  bool tileBeforeQuery = false;
  // The warpgroup form's narrow variant (MmaNarrowKernel.cpp), for decode
  // with few query rows per cache group (4 to 32: MQA, MLA-16, MTLA, Sun's
  // GTA, GTA): one warpgroup computes scores^T = K Q^T (m64, the tile's 64
  // cache rows, by n = rowsPerBlock, the group's rows rounded up to 8) and O^T
  // = V^T P^T (m64 per 64 value columns), so the rows are wgmma's N dimension
  // instead of being padded to its 64-row M; the softmax runs down the
  // accumulators' columns (a row max through workgroup memory per tile).
  bool narrow = false;
  // A timing study's build (option trace-blocks): the warpgroup forward
  // kernels and the CUDA-core combines print each block's %globaltimer
  // stamps (KernelBuilder::traceBlock).
  bool traceBlocks = false;
  /// The forward kernel's name in the report and the manifest.
  StringRef scheduleName() const {
    return narrow      ? "wgmma-narrow"
           : warpgroup ? "wgmma"
           : mma       ? "mma"
           : streamMma ? "mma-stream"
           : streaming ? "streaming"
                       : "tiled";
  }
  /// The tile's 64-column blocks (of the 128-byte swizzle).
  int64_t tileBlocks() const {
    return llvm::divideCeil(tileWidth(), kTileBlockColumns);
  }
  /// The last block of a tile outside the value view (-1: none).
  int64_t seesawScoreBlock() const;
  /// mbarriers of the TMA loop: one per slot, or per block with seesaw.
  int64_t tileBarriers() const {
    return seesaw ? stages * tileBlocks() : stages;
  }
  /// The cache streams a tile holds, as the tensor maps describe them:
  /// the manifest's tensor name, its width, whether it has a head
  /// dimension ([B, L, heads, width] rather than [B, L, width]) and the
  /// tile column and buffer (0: key tiles, 1: value tiles) it lands at.
  struct TileStream {
    StringRef tensor;
    int64_t width;
    bool perHead;
    int64_t column;
    int buffer;
  };
  SmallVector<TileStream> tileStreams() const;
  /// Columns of one block of the 128-byte swizzle (16-bit elements): what
  /// one tensor-map copy brings, for N rows of one head.
  static constexpr int64_t kTileBlockColumns = 64;
  /// That copy's box, per dimension of the stream's tensor (the manifest's
  /// `box`).
  SmallVector<int64_t> tileBox(const TileStream &s) const {
    if (s.perHead)
      return {1, tileRows, 1, kTileBlockColumns};
    return {1, tileRows, kTileBlockColumns};
  }
  /// Bytes one tile's copies bring in: whole blocks of N rows (columns
  /// past a stream's width are zero-filled, and counted).
  int64_t tileCopyBytes() const;
  /// The epilogue the combine kernels apply.
  ValueEpilogue combineEpilogue() const {
    return forwardEpilogue ? ValueEpilogue::None : epilogue;
  }
  /// Whether the forward kernel, given one split, normalises its outputs
  /// and stores them in `out` itself, so the runtime launches no combine:
  /// the warpgroup form and the streaming tensor-core form, where the
  /// combine would only merge and the outputs are the query rows' (no
  /// second launch and its ~5 us at MFA-KR B=128).
  bool directOutput() const {
    return (warpgroup || streamMma) &&
           combineEpilogue() == ValueEpilogue::None && outHeads == qHeads &&
           outWidth == valueWidth;
  }
  /// Whether the forward kernel, given the runtime's `normalise` flag,
  /// stores each split's rows normalised in the storage type (`o_rows`,
  /// [S, B, Tq, qHeads, valueWidth], over the partial outputs' bytes; with
  /// several splits also their (max, sum)), and a second tensor-core kernel,
  /// project_rows, merges them (as combine_rows would, weighting each
  /// split's normalised rows by its sum) and multiplies them by the
  /// up-projection (manifest normalised_rows). The runtime sets the flag
  /// where combine_rows would follow at most kProjectRowsMaxSplits splits,
  /// and launches project_rows instead. At one split the result is
  /// combine_rows' (which rounds its merged rows to the storage type before
  /// the product anyway); with more, each split's rows are rounded once
  /// more before the merge, as precise as the cache rows they average.
  /// Half the partial bytes written and read.
  bool normalisedRows() const {
    return warpgroup && combinesOnTensorCores() &&
           combineEpilogue() == ValueEpilogue::LatentUp;
  }
  /// Whether the forward kernel can also merge S > 1 splits itself
  /// (manifest grid_merge): launched cooperatively, so that every block is
  /// resident, the S blocks of a (row block, batch row, group) meet at a
  /// counter in grid_sync and each merges 1/S of their rows' values into
  /// `out`; the runtime then launches no combine. Where directOutput()
  /// holds and the merge's scratch (gridMergeLayout) fits the workgroup
  /// memory the kernel has after its loop.
  bool gridMerge() const;
  /// Values a grid merge's vector holds: 8 where the splits' rows are
  /// normalised in a 2-byte storage type (gridMergeRows), else 4 f32
  /// partial outputs.
  int64_t gridMergeWidth() const {
    return warpgroup && elementBytes() < 4 && valueWidth % 8 == 0 ? 8 : 4;
  }
  /// Whether a launch that merges in the grid stores each split's rows
  /// normalised in the storage type (`o_rows`, with their (max, sum) in
  /// ml_part), which the merge weights by their sums, as project_rows does:
  /// half the bytes the blocks write and read back at the end of the step,
  /// in half the sector writes (docs/performance.md, step 121: MFA and MFA-KR
  /// 0.4-1.7 us faster at B=1 and B=16, 1-4 at B=64). Each split's rows are
  /// rounded once more before the merge, as precise as the cache rows they
  /// average. The warpgroup forms only: the streaming form stores an
  /// element a thread, and its rows in 2 bytes measured slower (GQA B=1).
  bool gridMergeRows() const { return gridMerge() && gridMergeWidth() == 8; }
  /// Whether the forward kernel takes `o_rows`.
  bool storesRows() const { return normalisedRows() || gridMergeRows(); }
  /// That scratch, in f32 elements: each (row, split)'s max, then weight
  /// (`weights`), its sum (`sums`), a pair slot past every pair (`spare`),
  /// then the sums (`acc`, one per value of a vector of gridMergeWidth(),
  /// for every lane that takes some of a vector's splits).
  struct GridMergeLayout {
    int64_t weights, sums, spare, acc, total;
  };
  GridMergeLayout gridMergeLayout() const;

  /// Blocks per multiprocessor the runtime's split count aims to fill (0:
  /// as many as are resident). The register-softmax kernel takes one: two
  /// co-resident blocks stream no faster than one, so twice the splits only
  /// add per-block prologues, merges and partial outputs (measured:
  /// docs/performance.md, step 18).
  int64_t waveBlocksPerSM() const {
    return registerSoftmax && !warpgroup ? 1 : 0;
  }

  /// Byte offsets of the tensor-core kernel's dynamic workgroup memory:
  /// query rows, `stages` cache tiles (and value tiles when separate), then
  /// for the shared softmax the f32 partial scores of the warps, the
  /// probabilities in the storage type and the rescale factors; for the
  /// register softmax, after the loop and over the same bytes, each key
  /// warp's f32 outputs and (max, sum) per row for the block's merge.
  /// For the warpgroup form the query rows and probabilities are in core
  /// matrices (8 rows x 16 bytes, 128 contiguous bytes each) and the cache
  /// tiles in 64-column blocks of the 128-byte swizzle (a pitch is then the
  /// row width, rounded up to whole blocks for tiles); the probabilities
  /// follow the tiles, then the warpgroups' (max, sum) exchange.
  /// With tensorMaps the stages' mbarriers follow.
  /// With forwardEpilogue, after the loop, the epilogue's transform takes
  /// the tiles' bytes (`transform`, same swizzle, valueWidth rows) and the
  /// outputs, rounded to the storage type, the query rows' (as the A
  /// operand).
  struct MmaLayout {
    int64_t qPitch, kPitch, vPitch, sPitch, pPitch, oPitch; // elements
    int64_t q, k, v, s, p, alpha, o, ml, transform, total; // byte offsets, size
    int64_t barriers; // with tensorMaps: tileBarriers() 8-byte mbarriers
  };
  MmaLayout mmaLayout() const;

  /// Builds the plan for `op`, or explains why the fused path cannot take it.
  /// With `forAnalysis`, a latent op is planned as if absorbed and failures
  /// are silent (the report asks what the fused path would do).
  /// With `options.tensorCores`, blocks of many query rows may use the
  /// mma.sync schedule (NVIDIA sm_80 and newer).
  static FailureOr<FlashPlan> get(AttentionOp op, bool forAnalysis = false,
                                  const FlashOptions &options = {});

  /// A roofline prediction of one decode step (one query token per sequence)
  /// over B sequences of L cache rows on an H100-class device: the slower of
  /// streaming the cache at `bandwidth` bytes/s and doing the step's FLOPs on
  /// the engine this schedule uses (CUDA cores, f32 FMAs, at `fp32Flops`),
  /// plus the two launches. The tensor-core schedule's FLOPs run at
  /// `mmaFlops` (mma.sync, bf16 with f32 accumulation).
  double predictDecodeMicros(AttentionOp op, int64_t B, int64_t L,
                             double bandwidth = kBandwidth,
                             double fp32Flops = kCudaCoreFlops,
                             double mmaFlops = kMmaFlops) const;
  /// The H100-class rates the predictions assume: HBM bytes/s, f32 FMA
  /// FLOP/s on CUDA cores, bf16 mma.sync FLOP/s.
  static constexpr double kBandwidth = 3.0e12, kCudaCoreFlops = 6.7e13,
                          kMmaFlops = 4.9e14, kWgmmaFlops = 7.7e14;
  /// The most tensor-core FLOP/B (recomputed scores included) the register
  /// softmax takes with value warps: half the mma.sync ridge (measured,
  /// docs/performance.md steps 15 and 20).
  static constexpr double kValueWarpIntensity = kMmaFlops / kBandwidth / 2;

  /// The most splits the combine kernel merges (one weight each in its
  /// workgroup memory); the runtime never launches more.
  static constexpr int64_t kMaxSplits = 128;

  /// Threads of the one-row combine's wide form (combine_wide), which the
  /// runtime launches where the one-row blocks are fewer than the SMs: a
  /// block then merges a row's S splits alone (16 blocks at MLA-16, B = 1)
  /// and the loads it has in flight set its time (docs/performance.md,
  /// step 38). 0 where the plan's threads are as many (no wide form).
  static constexpr int64_t kCombineWideThreads = 512;
  int64_t combineWideThreads() const {
    return combineThreads() < kCombineWideThreads ? kCombineWideThreads : 0;
  }
  /// Threads of the one-row combine, and of combine_rows off the tensor
  /// cores: the forward kernel's, or behind the narrow form (one
  /// warpgroup) one per two values of a merged row, as the 64-row form's
  /// two warpgroups gave MLA's 512 (MLA-16 B=16: 12.1 us on 128 threads,
  /// 9.2 on 256; ncu, docs/performance.md step 68).
  int64_t combineThreads() const {
    return narrow ? std::max<int64_t>(threads, valueWidth / 2) : threads;
  }
  /// Outputs each of `nt` combine threads' mat-vec step covers (one 16-byte
  /// load of the epilogue weights per cached value element); 0 without a
  /// mat-vec or where the threads cannot tile the outputs (one thread per
  /// output).
  int64_t combineVector(int64_t nt) const;
  /// The merge of a combine over `rows` batch rows on `nt` threads: values
  /// per load (4: one 16-byte load of a partial output), vectors in the
  /// block, and up to `groups` groups of threads that take every group-th
  /// split of the same vectors where the block has more threads than
  /// vectors (at most 16: with 4 loads in flight each they take the 128
  /// splits in two steps, and their sums are added serially).
  struct CombineMerge {
    int64_t width, vectors, groups;
  };
  /// (`slices`: combine_slices' column slices, each merging valueWidth /
  /// slices columns.)
  CombineMerge combineMerge(int64_t rows, int64_t nt,
                            int64_t slices = 1) const {
    int64_t width = valueWidth % 4 == 0 ? 4 : 1;
    int64_t vectors = rows * (valueWidth / slices) / width;
    return {width, vectors, std::clamp<int64_t>(nt / vectors, 1, 16)};
  }
  /// Column slices of the latent up-projection's one-row combine on
  /// combine_wide's threads (combine_slices; grid x: output heads times
  /// slices), 1 where there is no such kernel. Where a token's rows are far
  /// fewer than the SMs, one block merging a whole row and multiplying it
  /// by the head's up-projection is bound by the loads one SM keeps in
  /// flight (MLA-16 B=1, L=32k: 16 blocks of 12.8 us, each 256 KB of
  /// partial outputs and 128 KB of weights). A slice merges valueWidth /
  /// slices columns of every split and multiplies them by its rows of the
  /// up-projection; the partial sums meet in the workspace (combine_part),
  /// and the row's last block to arrive (combine_sync counts them) adds
  /// them in slice order. Enough slices that one token's heads make ~128
  /// blocks, each of 64 columns or more. Only for latent_up (the plain
  /// merge and Sun's gated decoder measured 2-8% slower sliced at B=1:
  /// their rows are small, and the counter adds round trips;
  /// docs/performance.md step 63) behind an NVIDIA tensor-core forward
  /// kernel (the counter's fences are NVVM's).
  static constexpr int64_t kCombineSliceBlocks = 128;
  int64_t combineSlices() const;
  /// Batch rows per block of the second combine kernel (combine_rows), 0
  /// where there is none: with an epilogue mat-vec, each load of a head's
  /// weights then serves this many batch rows instead of one. Needs the
  /// mat-vec's column groups of threads (combineVector) in runs of a power
  /// of two lanes of one warp, whose partial sums it adds by shuffles.
  /// Without a mat-vec (a plain merge) it has fewer, longer blocks than the
  /// one-row kernel, for batches whose one-row blocks take several waves.
  static constexpr int64_t kCombineRows = 8;
  int64_t combineRows() const;
  /// Whether combine_rows is the tensor-core kernel (CombineMmaKernel.cpp):
  /// for latent up-projections (latent_up) and MFA-KR's post-transform
  /// (key_reuse_post) behind an mma forward kernel,
  /// kCombineMmaRows batch rows per block multiplied on mma.sync, merging
  /// at most kCombineMmaSplits splits.
  bool combinesOnTensorCores() const;
  static constexpr int64_t kCombineMmaRows = 64, kCombineMmaSplits = 16;
  /// The most splits project_rows merges: all loaded at once (SplitMerge).
  static constexpr int64_t kProjectRowsMaxSplits = 8;
  /// Its threads: kCombineMmaThreads copy and merge; of them, 4 warps of
  /// 16 rows times up to 2 groups of output columns run the product
  /// (combineMmaThreads). One block of 4 warps per SM left it latency-bound
  /// (MFA-KR B=128: 6% occupancy, 9% of issue slots, long-scoreboard
  /// stalls); 8 warps took MFA-KR B=64 from 141 to 133 us, 16 warps to 131
  /// but GLA B=128 from 256 to 262 (docs/performance.md step 40).
  static constexpr int64_t kCombineMmaThreads = 256;
  int64_t combineMmaThreads() const;
  /// Blocks that split one head's output columns in that kernel (grid x:
  /// output heads times slices), so that a batch of 64 rows has ~128
  /// blocks where the heads are few (MTLA's 32: 4 slices of 32 columns;
  /// MLA-16: 8 of 16). With one block per head, MTLA B=64 ran 32 blocks
  /// of 20 us, each staging the whole 512 x 128 up-projection.
  int64_t combineMmaSlices() const;
  /// H100-class workgroup memory: the most one block may take, what one SM
  /// holds, and what each resident block reserves besides its own.
  static constexpr int64_t kSharedPerBlockMax = 227 * 1024,
                           kSharedPerSM = 228 * 1024,
                           kSharedReservedPerBlock = 1024;
  /// Blocks of `bytes` of dynamic workgroup memory resident on one SM, as
  /// the plans count them.
  static int64_t residentBlocks(int64_t bytes) {
    return kSharedPerBlockMax / (bytes + kSharedReservedPerBlock);
  }
  /// Whether that kernel may start while the forward kernel still runs
  /// (manifest combine_rows_overlaps; programmatic dependent launch,
  /// sm_90): each forward block lets it launch as it starts, and it stages
  /// its slice of the matrix before it waits for the forward's partial
  /// outputs. Behind the warpgroup form only: the two kernels' workgroup
  /// memory cannot share an SM, so its early blocks take SMs the forward
  /// left idle or is done with, never the forward's issue slots.
  bool combineRowsOverlaps() const {
    return warpgroup && combinesOnTensorCores() &&
           sharedBytes() + combineMmaLayout().total +
                   2 * kSharedReservedPerBlock >
               kSharedPerSM;
  }
  int64_t combineMmaSliceWidth() const { return outWidth / combineMmaSlices(); }
  /// combine_rows blocks per output head, of either kind.
  int64_t combineRowsSlices() const {
    return combinesOnTensorCores() ? combineMmaSlices() : 1;
  }
  /// Threads of combine_rows, of either kind.
  int64_t combineRowsThreads() const {
    return combinesOnTensorCores() ? kCombineMmaThreads : combineThreads();
  }
  /// Its dynamic workgroup memory: the merged rows (storage type), the
  /// block's slice of the head's up-projection (padded rows), the rows'
  /// split weights (f32).
  struct CombineMmaLayout {
    int64_t mergedPitch, weightPitch; // elements
    int64_t merged, weights, splits, total; // byte offsets, size
  };
  CombineMmaLayout combineMmaLayout() const;
  /// Latent slices per head of project_slices (ProjectSlicesKernel.cpp), 0
  /// where there is no such kernel: with normalised rows (project_rows'
  /// forward form), a block takes kProjectSliceRows batch rows of one head
  /// and one slice of the latent columns (the merge's columns and the
  /// up-projection's rows), so that the blocks read each split's rows and
  /// the head's weights once between them, where project_rows' column
  /// slices each read all of a row's latent values and the one-row combine
  /// the weights once per row; and its 16 rows are one m16 tile whose
  /// output columns the 8 warps share, where project_rows' warps each take
  /// 16 of 64 rows (filled or not) and half the columns. The slices of a
  /// head are one thread-block cluster, whose blocks add their partial
  /// products through distributed workgroup memory, so at most
  /// kMaxClusterBlocks. About kCombineSliceBlocks blocks per row block
  /// (MLA-16: 8 slices of 64 latent columns; MTLA: 4 of 128; MLA-128 and
  /// GLA, 128 heads: 1, no cluster).
  static constexpr int64_t kProjectSliceRows = 16, kMaxClusterBlocks = 8;
  int64_t projectSlices() const;
  /// Its dynamic workgroup memory: the merged rows (storage type), the
  /// slice of the head's up-projection (padded rows), the block's partial
  /// product (f32); padded (`dynamic`) so that its blocks and the forward's
  /// cannot share an SM (it launches early, as combine_rows does, and its
  /// waiting blocks would otherwise sit beside the forward's: steps 28 and
  /// 67 measured that slower).
  struct ProjectSlicesLayout {
    int64_t mergedPitch, weightPitch;              // elements
    int64_t merged, weights, sums, total, dynamic; // byte offsets, sizes
  };
  ProjectSlicesLayout projectSlicesLayout() const;
  /// The f32 workgroup buffers of the combine kernel over `rows` batch
  /// rows on `nt` threads: the merged values (per group of threads) and one
  /// weight per split of each row, and for
  /// one row the mat-vec's partial sums (0: none; several rows add them by
  /// shuffles).
  struct CombineBuffers {
    int64_t merged, weights, partials;
  };
  CombineBuffers combineBuffers(int64_t rows, int64_t nt,
                                int64_t slices = 1) const {
    return {combineMerge(rows, nt, slices).groups * rows *
                (valueWidth / slices),
            rows * kMaxSplits,
            rows == 1 ? std::max(combineVector(nt) * nt, outWidth) : 0};
  }
  int64_t combineSharedBytes(int64_t rows, int64_t nt,
                             int64_t slices = 1) const {
    CombineBuffers c = combineBuffers(rows, nt, slices);
    return (c.merged + c.weights + c.partials) * 4;
  }

  /// Workgroup memory of the forward kernel in bytes (dynamic for mma).
  int64_t sharedBytes() const;
  /// Per-lane columns of the key stream and of the aggregated stream, and
  /// the padded accumulator width of the streaming kernel.
  int64_t keySlots() const;
  int64_t valueSlots() const;
  int64_t accWidth() const;
  /// Width of one cache row as stored in workgroup memory (row + rope).
  int64_t tileWidth() const;
  /// Column of a staged cache tile (the stored row, then the shared rotary
  /// key at rowWidth) that holds key-view column `d`.
  int64_t tileKeyColumn(int64_t d) const {
    if (separate() || d < keyNope)
      return separate() ? d : keyBegin + d;
    return rowWidth + (d - keyNope);
  }
  bool separate() const { return form == KvForm::Separate; }
  /// Bytes of one stored element.
  double elementBytes() const;
};

} // namespace mlir::attn

#endif // ATTN_CONVERSION_ATTNTOFLASH_FLASHPLAN_H
