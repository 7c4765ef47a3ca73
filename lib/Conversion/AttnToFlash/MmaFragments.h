//===- MmaFragments.h - what both tensor-core kernels share -----*- C++ -*-===//
//
// Warp-level mma.sync on fragments held as SSA values, and the staging of
// query rows and cache tiles into dynamic workgroup memory by cp.async.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_LIB_CONVERSION_ATTNTOFLASH_MMAFRAGMENTS_H
#define ATTN_LIB_CONVERSION_ATTNTOFLASH_MMAFRAGMENTS_H

#include "FlashKernels.h"
#include "KernelBuilder.h"

namespace mlir::attn {

/// An empty forward kernel of the mma schedule: the frame's arguments, the
/// plan's threads, and each thread's registers capped for the plan's
/// resident blocks (ptxas reads maxntid and minctasm), with the given
/// static workgroup buffers.
gpu::GPUFuncOp makeMmaKernel(OpBuilder &b, Location loc, const FlashPlan &p,
                             StringRef name, ArrayRef<Type> workgroup = {});

struct MmaLane;

/// m16n8k16 mma.sync (bf16 or f16 in, f32 accumulate) and its fragments.
struct MmaFragments {
  KernelBuilder &k;
  Type elem; // bf16 or f16

  /// ldmatrix of `tiles` 8x8 matrices; lane l supplies the address of row
  /// l % 8 of matrix l / 8. Returns one 32-bit register per matrix, typed as
  /// mma.sync takes it (i32 for bf16, vector<2xf16> for f16).
  SmallVector<Value> load(Value mem, Value index, int tiles, bool trans);
  /// stmatrix of `regs.size()` (1, 2 or 4) 8x8 matrices, each a register
  /// as `pack` makes it, to the workgroup pointer `ptr`: lane l supplies
  /// the address of row l % 8 of matrix l / 8; `trans` stores each one
  /// transposed.
  void store(Value ptr, ArrayRef<Value> regs, bool trans);
  /// D = A B + C for one m16n8k16 tile: A 4 registers, B 2, C 4 floats.
  SmallVector<Value> mma(ArrayRef<Value> a, ArrayRef<Value> b,
                         ArrayRef<Value> c);
  /// Two f32 values rounded into one A/B register (`lo` at the lower k).
  Value pack(Value lo, Value hi);
  /// A vector<2 x elem> as one A/B register.
  Value reg(Value pair);
  /// One warp's product of an m16 tile of `a` (row-major in workgroup
  /// memory, rows `aPitch` apart, the tile's first row at `row0`, or 0 where
  /// null) and 8 `nv` (even) columns of `w` (row-major [k][n], `wPitch`),
  /// from `colBase`, over `kSteps` steps of 16: nv x 4 accumulators.
  SmallVector<Value> rowTileProduct(const MmaLane &ln, Value a, Value row0,
                                    int64_t aPitch, Value w, int64_t wPitch,
                                    Value colBase, int64_t kSteps, int64_t nv);
};

/// The outputs `o`, rescaled by `scale` (which multiplies them in place)
/// only where some lane of the warp saw its row's max grow (`grew`): past
/// the first tiles that is rare, and the rescale is a multiply per
/// accumulator. Both register-softmax kernels use it.
SmallVector<Value> rescaleIfAnyGrew(
    KernelBuilder &k, Value grew, ArrayRef<Value> o,
    function_ref<void(MutableArrayRef<Value>)> scale);

/// Asynchronous copies (cp.async, 16 bytes of 8 16-bit elements each) of
/// `rows` x `cols` elements into workgroup memory `dst`, its rows `dstPitch`
/// elements apart; element (row, col) of `src` at srcAt(row, col). Threads
/// tid, tid + nt, ... take every nt-th 16 bytes. The caller commits them.
void copyRowsAsync(KernelBuilder &k, Value src,
                   function_ref<Value(Value row, Value col)> srcAt,
                   int64_t rows, int64_t cols, Value dst, int64_t dstPitch,
                   Value tid, int64_t nt);

/// The lane's coordinates in the mma fragments.
struct MmaLane {
  MmaLane(KernelBuilder &k, Value tid);
  Value lane, warp;
  Value g, t4;       // accumulator rows g, g + 8; columns 2 t4, 2 t4 + 1
  Value aRow, aCol;  // x4 A load: row (0-15) and k offset (0, 8) of the lane
  Value bRow, bCol;  // x4 B load of two n tiles: row (0-15) and k offset
  Value half, upper; // matrix index bits of an x4 load (l / 8 % 2, l / 16)
};

/// The dynamic workgroup memory of a tensor-core kernel and the
/// asynchronous copies that fill it (16 bytes per copy, zero-filled where
/// invalid).
class MmaStaging {
public:
  MmaStaging(KernelBuilder &k, ForwardFrame &f, const FlashPlan &p);
  /// A view of `n` elements of `elem` at byte `offset`.
  Value view(int64_t offset, int64_t n, Type elem);
  /// The grid merge's f32 scratch (plan.gridMergeLayout()): the whole of
  /// the workgroup memory, free once the block's outputs are stored.
  Value gridMergeScratch() {
    return view(0, p.gridMergeLayout().total, k.f32());
  }
  /// The block's query rows (zeros past the last row) into `qs`.
  void loadQuery();
  /// Cache rows j0 .. j0 + N into tile buffer `slot`: each stream's row
  /// slice at its column of the tile, rows past jEnd zero-filled so their
  /// (zero) probabilities never meet stale values. With plan.tensorMaps,
  /// thread 0 issues the tile's tensor-map copies on the slot's mbarrier
  /// (waitTile zeroes the rows past jEnd).
  void loadTile(Value j0, Value slot);
  /// With plan.tensorMaps, before the first loadTile: thread 0 initialises
  /// each stage's mbarrier (every thread calls it; a barrier follows).
  void initTileBarriers();
  /// Waits for tile `t` (rows j0 ..) in slot t % stages. With tensor maps:
  /// any cp.async copies (the query rows), then the slot's mbarrier phase
  /// t / stages, then zeroes the rows past jEnd the boxes brought in (other
  /// splits' rows, or whatever lies past a sequence's length: a zero
  /// probability times a NaN is NaN). Without: the cp.async groups, at most
  /// `pending` left in flight. The caller makes the tile visible (handOff).
  void waitTile(Value j0, Value t, int64_t pending);
  /// With tensor maps, once every thread is done waiting: invalidates the
  /// mbarriers, whose bytes may then be reused.
  void releaseTileBarriers();
  /// The seesaw's copies (plan.seesaw), by the one calling thread: tile
  /// rows j0 .. of each of `blocks` (64-column blocks of the key tiles)
  /// into `slot`, each on its own mbarrier.
  void copyBlocks(Value j0, Value slot, ArrayRef<int64_t> blocks);
  /// Waits for `block` of `slot` to land: its mbarrier's phase `parity`.
  void waitBlock(Value slot, int64_t block, Value parity);
  /// Zeroes the rows past jEnd of the tile (rows j0 ..) in `slot`, in
  /// `blocks`, by the `threads` threads numbered `index`.
  void clearRowsPast(Value j0, Value slot, ArrayRef<int64_t> blocks,
                     Value index, int64_t threads);
  /// Element index of (row n, column c) in the 128-byte swizzled layout of
  /// a tile of `rows` rows.
  Value swizzledAt(Value n, Value c, int64_t rows);
  /// Rows first .. first + count of that tile only, copied by the `threads`
  /// threads numbered `index` (a key slice's warps filling their own rows).
  void loadTileRows(Value j0, Value slot, Value first, int64_t count,
                    Value index, int64_t threads);
  /// The `rows` x `cols` matrix at `src` (row-major, storage type) with
  /// its columns scaled by `scale` (cols, storage type) into the 128-byte
  /// swizzled layout at byte `offset`, as a tile of `rows` rows (the B
  /// operand of a product that reads it transposed). `whileCopying` runs
  /// between issuing the copies and waiting for them.
  void loadScaledMatrix(Value src, Value scale, int64_t rows, int64_t cols,
                        int64_t offset, function_ref<void()> whileCopying);
  void commit();
  /// Waits until at most `pending` commit groups are in flight.
  void wait(int64_t pending);

  /// Issues the first stages - 1 tiles from cache row `begin`, one commit
  /// group each (empty past jEnd, so that group counts stay uniform);
  /// `fill(j0, slot)` issues one tile's copies. From tile `from` on (the
  /// earlier ones issued already).
  void prefetch(Value begin, function_ref<void(Value, Value)> fill,
                int64_t from = 0);
  /// The cache loop from `begin` (after `prefetch`): tile t, rows j0 ..,
  /// sits in slot t % stages and is computed by `body(j0, slot, carried)`
  /// once this thread's copies have landed and `handOff()` has made them
  /// visible to their readers; past that point every reader has finished
  /// tile t - 1, whose slot takes tile t + stages - 1. Drains the copies at
  /// the end.
  SmallVector<Value>
  loop(Value begin, ValueRange init, function_ref<void(Value, Value)> fill,
       function_ref<void()> handOff,
       function_ref<SmallVector<Value>(Value, Value, ValueRange)> body);

  /// Element index of (row r, column c) in a buffer of `pitch` columns:
  /// padded rows, or core matrices for the warpgroup form.
  Value at(Value r, Value c, int64_t pitch);

  FlashPlan::MmaLayout lay;
  Value qs, kt, vt; // query rows, key (or tied) tiles, value tiles

private:
  void copy(Value src, Value srcAt, Value dst, Value dstAt, Value valid);
  /// The tensor-map copies of loadTile.
  void copyTileByTensorMaps(Value j0, Value slot);
  /// The workgroup address `bytes` (index) past the aligned buffers' start,
  /// as a pointer of the shared space.
  Value sharedPointer(Value bytes);
  /// The mbarrier numbered `slot`: one per slot, or with plan.seesaw one
  /// per block of each slot (blockBarrier).
  Value tileBarrier(Value slot);
  /// With plan.seesaw, the mbarrier of `block` of `slot`.
  Value blockBarrier(Value slot, int64_t block);
  /// One tensor-map copy: columns `column` .. + 64 of `stream` (of
  /// plan.tileStreams()), tile rows j0 .., into their block of `slot`, on
  /// mbarrier `bar`.
  void copyBlock(Value j0, Value slot, int64_t stream, int64_t column,
                 Value bar);
  /// Copy `i` of `rows` rows of `per` 16-byte chunks each: its row (plus
  /// `first`, if given) and first column.
  std::pair<Value, Value> chunkAt(Value i, int64_t per, int64_t rows,
                                  Value first = Value());
  /// Element index of (row n, column c) of one cache tile of `pitch`
  /// columns: `at`, or for the warpgroup form the 128-byte swizzled layout
  /// wgmma reads (64-column blocks of the tile's rows).
  Value tileAt(Value n, Value c, int64_t pitch);
  /// for (i = index; i < count; i += threads) body(i)
  void staticLoop(int64_t count, Value index, int64_t threads,
                  function_ref<void(Value)> body);
  /// Zeroes rows `first` .. of `blocks` consecutive 64-column blocks of a
  /// tile in `buf` from element `base`, 16 bytes a store, by the `threads`
  /// threads numbered `index` (the swizzle permutes within a row: whole
  /// rows are zeroed wherever it put their bytes).
  void zeroRowsFrom(Value buf, Value base, int64_t blocks, Value first,
                    Value index, int64_t threads);
  KernelBuilder &k;
  ForwardFrame &f;
  const FlashPlan &p;
  Value smem;
  Value shift;   // bytes from the allocation to the buffers (warpgroup)
  int64_t chunk; // elements per 16-byte copy
  /// With plan.tensorMaps, where a group's rows fit one block: whether the
  /// grid has one row block (as at decode), and the policy its tile copies
  /// then take. No other block reads this block's cache rows, so they are
  /// evicted from L2 first and what is read again stays: the query rows,
  /// the rows this grid writes and the next kernel reads, its weights
  /// (docs/performance.md step 96: MLA-16 B=16 L=8k 2.0-2.6 us and MTLA
  /// B=16 / 32 2.6-3.6 us faster, B=1 L=32k 12-16%). Otherwise the copies
  /// take no hint: MLA-128's two row blocks share their tiles, and
  /// evict_first cost it 1 us at B=64, an explicit evict_normal 2.4.
  Value oneRowBlock, evictFirst;
};

} // namespace mlir::attn

#endif // ATTN_LIB_CONVERSION_ATTNTOFLASH_MMAFRAGMENTS_H
