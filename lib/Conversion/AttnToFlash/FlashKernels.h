//===- FlashKernels.h - the fused attention kernels -------------*- C++ -*-===//
#ifndef ATTN_LIB_CONVERSION_ATTNTOFLASH_FLASHKERNELS_H
#define ATTN_LIB_CONVERSION_ATTNTOFLASH_FLASHKERNELS_H

#include "attn/Conversion/AttnToFlash/FlashPlan.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"

namespace mlir::attn {
class KernelBuilder;

/// What both forward kernels share: their argument list, and at entry the
/// block's place in the problem (batch, cache group, split, query rows) and
/// its range of cache rows. The split and mask rules live here only.
struct ForwardFrame {
  /// The forward kernels' argument types, in the manifest's order.
  static SmallVector<Type> argumentTypes(OpBuilder &b, const FlashPlan &p);

  /// Reads the arguments and block ids and computes the row range.
  ForwardFrame(KernelBuilder &k, Block &entry, const FlashPlan &p);

  Value q, keys, values, rows, rope, lens, oPart, mlPart; // arguments
  Value alpha, transform; // with plan.forwardEpilogue: MFA-KR's alpha, N
  Value out;              // with plan.directOutput(): the result
  Value gridSync, merge;  // with plan.gridMerge(): counters, the launch's flag
  Value oRows;            // with plan.storesRows(): normalised rows
  Value normalise;        // with plan.normalisedRows(): the launch's flag
  SmallVector<Value> tensorMaps; // with plan.tensorMaps: plan.tileStreams()'
  Value B, Tq, L, S;                                      // sizes
  Value tid, split, gk, bIdx, G, Hq, Hkv;                 // block coordinates
  Value rowBlock, batchGroup;                             // grid x, y
  Value rowsTotal, rho0, len, jBegin, jEnd;               // rows to cover

  /// ((b * Tq + t) * Hq + head) of query row `rho` of this block's group.
  Value queryRow(Value rho);
  /// Query head of row `rho`.
  Value headOf(Value rho);
  /// ((split * B + b) * Tq + t) * Hq + head: the partial outputs' row.
  Value partRow(Value rho) { return partRowOf(split, rho); }
  /// The same row of split `s`.
  Value partRowOf(Value s, Value rho);
  /// Column of a staged cache tile (the stored row, then the shared rotary
  /// key at rowWidth) that holds key-view column `d`.
  Value tileKeyColumn(Value d);
  /// Whether `mask` lets query row `rho` see cache row `j`.
  Value visible(Value j, Value rho);
  /// For masks none and causal, where a row sees a prefix of this block's
  /// rows: the end of what query row `rho` sees (0 past the last row).
  Value visibleEnd(Value rho);
  /// Whether this launch stores the normalised result in `out` itself
  /// (plan.directOutput() and one split) instead of partial outputs.
  Value storesResult();
  /// Whether this launch stores its rows normalised in `o_rows`
  /// (plan.normalisedRows() and the runtime's flag).
  Value storesNormalisedRows();
  /// ml_part of query row `rho`: its max, kept in base 2 by the tensor-core
  /// kernels (exp2 of scaled scores), back in the natural exponent the
  /// combine merges in, and its sum; a row that saw nothing keeps max -inf
  /// and sum 0.
  void storeRowState(Value rho, Value maxBase2, Value sum);
  /// Whether this launch merges the splits in the grid (plan.gridMerge(),
  /// the runtime's `merge` flag, more than one split).
  Value mergesInGrid();
  /// Called by every thread once the block's partial outputs and (max,
  /// sum) are stored, where mergesInGrid(): waits for the group's other
  /// splits, then merges this block's 1/S of the group's values into
  /// `out`. `scratch`: f32 workgroup memory of plan.gridMergeLayout().total
  /// elements, free by now; `threads`: the block's.
  void mergeInGrid(Value scratch, int64_t threads);
  /// The warpgroup kernels' end, once the block's outputs are stored: the
  /// grid merge where this launch merges (`scratch` builds mergeInGrid's
  /// workgroup memory there); with plan.traceBlocks, `stamps` then the
  /// stores' end and the exit, then `after`, printed (traceBlock "fwd").
  void finishBlock(function_ref<Value()> scratch, int64_t threads,
                   SmallVector<Value> stamps, ArrayRef<Value> after = {});

private:
  KernelBuilder &k;
  const FlashPlan &p;
};

/// Merges `count` vectors of 4 values over S <= kMaxFewSplits splits
/// (SplitMerge.cpp): thread `tid` of `threads` takes items tid, tid +
/// threads, ...; split s's (max, sum) of an item is at ml_part[2 rowOf(s,
/// item)], its partial vector at o_part[width rowOf(s, item) +
/// columnOf(item)]; `store` receives each normalised f32 vector. A thread
/// has `inFlight` (8 or 16) partial vectors loading at once. With
/// `normalisedRows`, the partials are o_rows' instead: 8 values of the
/// storage type a vector (16 bytes), each split's already divided by its
/// sum, so weighted by sum_s exp(m_s - M).
constexpr int64_t kMaxFewSplits = 8;
void mergeFewSplits(KernelBuilder &k, Value oPart, Value mlPart, int64_t width,
                    Value S, Value tid, int64_t threads, Value count,
                    function_ref<Value(Value s, Value item)> rowOf,
                    function_ref<Value(Value item)> columnOf,
                    function_ref<void(Value item, Value merged)> store,
                    int64_t inFlight, bool normalisedRows = false);
/// The 16-bit A operand of project_rows and project_slices, from o_rows:
/// `count` items of 8 values (16 bytes), item i at `dst`[dstAt(i)], each
/// split's row and column as for mergeFewSplits; at one split copied in as
/// they are (cp.async, committed here), with 2 to kMaxFewSplits merged from
/// every split's at once (8 in flight) and rounded.
void loadNormalisedRows(KernelBuilder &k, Value oRows, Value mlPart,
                        int64_t width, Value S, Value tid, int64_t threads,
                        Value count,
                        function_ref<Value(Value s, Value item)> rowOf,
                        function_ref<Value(Value item)> columnOf, Value dst,
                        function_ref<Value(Value item)> dstAt);

/// The split-KV forward kernel: online softmax over cache tiles for a block
/// of query rows that share one cache group, writing unnormalised partial
/// outputs and (max, sum) per row and split. Arguments, in order: query,
/// keys + values (separate) or rows, rope_keys, seq_lens (when present),
/// alpha and transform (plan.forwardEpilogue), o_part (f32), ml_part (f32),
/// out (plan.directOutput()), grid_sync (plan.gridMerge()), then the sizes
/// B, Tq, L (cache rows), S (splits) and, with plan.gridMerge(), merge. Every
/// tensor is a flat memref; see docs/architecture.md.
gpu::GPUFuncOp buildForwardKernel(OpBuilder &b, Location loc,
                                  const FlashPlan &plan, StringRef name);

/// The streaming variant of the forward kernel (plan.streaming): same
/// arguments and outputs, cache rows streamed through registers by warps.
gpu::GPUFuncOp buildStreamingForwardKernel(OpBuilder &b, Location loc,
                                           const FlashPlan &plan,
                                           StringRef name);

/// The streaming kernel's tensor-core form (plan.streamMma): same
/// arguments and outputs; warps load cache rows from global memory straight
/// into mma.sync fragments, no workgroup staging in the loop.
gpu::GPUFuncOp buildMmaStreamKernel(OpBuilder &b, Location loc,
                                    const FlashPlan &plan, StringRef name);
/// The tensor-core variant (plan.mma): same arguments and outputs, both
/// products on mma.sync, cache tiles double buffered in dynamic workgroup
/// memory (plan.sharedBytes() bytes, passed at launch).
gpu::GPUFuncOp buildMmaForwardKernel(OpBuilder &b, Location loc,
                                     const FlashPlan &plan, StringRef name);

/// The register-softmax form of the tensor-core kernel
/// (plan.registerSoftmax): same arguments and outputs; warps split each
/// tile's cache rows and keep scores and probabilities in registers.
gpu::GPUFuncOp buildMmaRegisterKernel(OpBuilder &b, Location loc,
                                      const FlashPlan &plan, StringRef name);

/// The warpgroup form (plan.warpgroup, sm_90a): same arguments and outputs;
/// one or two warpgroups per 64-row block run both products on wgmma with
/// operands in workgroup memory (cache tiles in the 128-byte swizzle).
gpu::GPUFuncOp buildMmaWarpgroupKernel(OpBuilder &b, Location loc,
                                       const FlashPlan &plan, StringRef name);
/// Its narrow variant (plan.narrow): same arguments and outputs; one
/// warpgroup computes K Q^T and V^T P^T, the block's query rows as wgmma's
/// N dimension.
gpu::GPUFuncOp buildMmaNarrowKernel(OpBuilder &b, Location loc,
                                    const FlashPlan &plan, StringRef name);

/// The combine kernel: merges the splits of `rows` batch rows of one
/// (token, output head), normalises, applies the value epilogue and stores
/// the result (grid: output heads, tokens, ceildiv(B, rows)). Arguments:
/// o_part, ml_part, the epilogue operands (up_v; gate, decoder; alpha,
/// transform), out, then B, Tq, S. More than one row needs
/// plan.combineRows(); `threads` is plan.threads or, for one row,
/// plan.combineWideThreads() (combine_wide). With `slices` > 1
/// (combine_slices: one row, plan.combineSlices()) grid x is output heads
/// times slices, and combine_part and combine_sync follow `out`.
gpu::GPUFuncOp buildCombineKernel(OpBuilder &b, Location loc,
                                  const FlashPlan &plan, StringRef name,
                                  int64_t rows, int64_t threads,
                                  int64_t slices = 1);
/// combine_rows on tensor cores (plan.combinesOnTensorCores()): the same
/// arguments as the combine kernel (latent_up or key_reuse_post),
/// kCombineMmaRows batch rows
/// per block (grid: output heads, tokens, ceildiv(B, rows)), at most
/// kCombineMmaSplits splits, plan.combineMmaLayout().total bytes of dynamic
/// workgroup memory. With `projectRows` (plan.normalisedRows()), its
/// project_rows form: o_rows in o_part's place, each split's rows
/// normalised in the storage type, taken as they are at one split or
/// merged from at most kProjectRowsMaxSplits.
gpu::GPUFuncOp buildCombineMmaKernel(OpBuilder &b, Location loc,
                                     const FlashPlan &plan, StringRef name,
                                     bool projectRows = false);
/// project_slices (plan.projectSlices() > 0): project_rows' merge and
/// up-projection over kProjectSliceRows batch rows and one latent slice of
/// one head a block (grid: output heads times slices, tokens,
/// ceildiv(B, rows)), the slices of a head (where several) one cluster
/// whose blocks add their partial products through distributed workgroup
/// memory. Arguments
/// (project_rows'): o_rows, ml_part, up_v, out, then B, Tq, S; at most
/// kProjectRowsMaxSplits splits, plan.projectSlicesLayout().dynamic bytes
/// of dynamic workgroup memory.
gpu::GPUFuncOp buildProjectSlicesKernel(OpBuilder &b, Location loc,
                                        const FlashPlan &plan, StringRef name);
/// The cache update kernel of an attn.cache_update op, updating the cache in
/// place: one thread per (slot touched, row element, sequence). Arguments:
/// cache, rows, lengths, weights (weighted_sum only), then B, T (new
/// tokens), C (cache capacity). `rowElements` is the product of the trailing
/// (static) dimensions of a cache row.
gpu::GPUFuncOp buildCacheUpdateKernel(OpBuilder &b, Location loc,
                                      CacheUpdateOp op, int64_t rowElements,
                                      StringRef name);
} // namespace mlir::attn

#endif // ATTN_LIB_CONVERSION_ATTNTOFLASH_FLASHKERNELS_H
