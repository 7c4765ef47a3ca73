//===- FlashPlan.cpp - what a fused attention kernel computes -------------===//
#include "attn/Conversion/AttnToFlash/FlashPlan.h"
#include "attn/Dialect/Attn/IR/AttnAnalysis.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/Support/MathExtras.h"
#include <algorithm>
#include <numeric>
#include <tuple>

using namespace mlir;
using namespace mlir::attn;

// Static workgroup memory is capped at 48 KiB without an opt-in; stay under
// it with room for the runtime's own use.
static constexpr int64_t kSharedBudget = 44 * 1024;

LogicalResult
FlashOptions::verify(function_ref<InFlightDiagnostic()> emitError) const {
  auto pow2In = [](int64_t v, int64_t lo, int64_t hi) {
    return v == 0 || (llvm::isPowerOf2_64(v) && v >= lo && v <= hi);
  };
  auto bad = [&](StringRef name, int64_t v, StringRef allowed) {
    return emitError() << "attn-to-flash: " << name << " must be 0 (planned) "
                       << allowed << ", got " << v;
  };
  if (!pow2In(mmaWarps, 1, 16))
    return bad("mma-warps", mmaWarps, "or a power of two up to 16");
  if (!pow2In(mmaRows, 16, 128))
    return bad("mma-rows", mmaRows, "or 16, 32, 64, 128");
  if (mmaTile && (mmaTile % 16 || mmaTile > 256))
    return bad("mma-tile", mmaTile, "or a multiple of 16 up to 256");
  if (mmaStages && (mmaStages < 2 || mmaStages > 8))
    return bad("mma-stages", mmaStages, "or 2 to 8");
  if (!pow2In(mmaValueWarps, 1, 4))
    return bad("mma-value-warps", mmaValueWarps, "or 1, 2, 4");
  if (!pow2In(mmaRowWarps, 1, 8))
    return bad("mma-row-warps", mmaRowWarps, "or 1, 2, 4, 8");
  if (streamUnroll < 0 || streamUnroll > 4)
    return bad("stream-unroll", streamUnroll, "or 1 to 4");
  // Each permission builds on the one before it: one asked for without it
  // would silently do nothing.
  auto needs = [&](StringRef name, StringRef other) {
    return emitError() << "attn-to-flash: " << name << " needs " << other;
  };
  if (warpgroupMma && !tensorCores)
    return needs("warpgroup-mma", "tensor-cores");
  if (tensorMapCopies && !warpgroupMma)
    return needs("tensor-map-copies", "warpgroup-mma");
  if (narrowQuery && !warpgroupMma)
    return needs("narrow-query", "warpgroup-mma");
  if (seesaw && !tensorMapCopies)
    return needs("seesaw", "tensor-map-copies");
  // The stamps read NVIDIA's timer, in the wgmma kernels they study.
  if (traceBlocks && !warpgroupMma)
    return needs("trace-blocks", "warpgroup-mma");
  return success();
}

int64_t FlashPlan::tileWidth() const {
  return separate() ? keyWidth : rowWidth + ropeDim;
}

SmallVector<FlashPlan::TileStream> FlashPlan::tileStreams() const {
  if (separate())
    return {{"keys", keyWidth, true, 0, 0}, {"values", valueWidth, true, 0, 1}};
  SmallVector<TileStream> s = {{"rows", rowWidth, true, 0, 0}};
  if (ropeDim)
    s.push_back({"rope_keys", ropeDim, false, rowWidth, 0});
  return s;
}

int64_t FlashPlan::seesawScoreBlock() const {
  for (int64_t b = tileBlocks() - 1; b >= 0; --b)
    if (b * kTileBlockColumns >= valueBegin + valueWidth ||
        (b + 1) * kTileBlockColumns <= valueBegin)
      return b;
  return -1;
}

int64_t FlashPlan::tileCopyBytes() const {
  int64_t bytes = 0;
  for (const TileStream &s : tileStreams())
    bytes += llvm::divideCeil(s.width, kTileBlockColumns) * tileRows *
             kTileBlockColumns * int64_t(elementBytes());
  return bytes;
}

// The streaming kernel maps lanes onto the key view and the value view of
// a cache row separately (32 lanes x vec columns per chunk).
double FlashPlan::elementBytes() const {
  return cast<FloatType>(storage).getWidth() / 8.0;
}

int64_t FlashPlan::keySlots() const {
  return llvm::divideCeil(keyWidth, 32 * vecK) * vecK;
}
int64_t FlashPlan::valueSlots() const {
  return llvm::divideCeil(valueWidth, 32 * vecV) * vecV;
}
int64_t FlashPlan::accWidth() const {
  return llvm::divideCeil(valueWidth, 32 * vecV) * 32 * vecV;
}

/// Elements per 16-byte-or-less vector load: a power of two dividing
/// `width` (and `align`, so a vector never straddles two streams), small
/// enough that 32 lanes cover the width.
static int64_t pickVector(int64_t width, int64_t align, int64_t maxVec) {
  int64_t v = maxVec;
  while (v > 1 && (width % v || align % v || 32 * v > std::max<int64_t>(width, 32)))
    v /= 2;
  return v;
}

// Row pitches keep every ldmatrix row 16-byte aligned and make the pitch an
// odd number of 16-byte units, so the 8 rows one ldmatrix reads fall in
// distinct banks.
static int64_t mmaPitch(int64_t width) {
  return width + ((width / 8) % 2 == 0 ? 8 : 16);
}
static int64_t align16(int64_t bytes) { return (bytes + 15) / 16 * 16; }

FlashPlan::MmaLayout FlashPlan::mmaLayout() const {
  MmaLayout l{};
  int64_t eb = cast<FloatType>(storage).getWidth() / 8;
  int64_t R = rowsPerBlock, N = tileRows;
  l.qPitch = mmaPitch(keyWidth);
  l.kPitch = mmaPitch(tileWidth());
  l.vPitch = separate() ? mmaPitch(valueWidth) : l.kPitch;
  l.sPitch = N + 4;
  l.pPitch = mmaPitch(N);
  l.q = 0;
  l.k = align16(l.q + R * l.qPitch * eb);
  l.v = align16(l.k + stages * N * l.kPitch * eb);
  l.s = separate() ? align16(l.v + stages * N * l.vPitch * eb) : l.v;
  l.oPitch = valueWidth + 4;
  auto align1k = [](int64_t bytes) { return (bytes + 1023) / 1024 * 1024; };
  if (narrow) {
    // Every operand in 64-column blocks of the 128-byte swizzle, each
    // starting on a 1024-byte boundary: the query rows (R rows, the
    // scores' B), the tiles (A of both products), P^T (R rows of the
    // tile's 64 cache rows, the values' B). Then 4 warps' row maxima (and
    // after the loop sums), and each row's max and sum.
    l.qPitch = llvm::alignTo(keyWidth, 64);
    l.kPitch = llvm::alignTo(tileWidth(), 64);
    l.vPitch = separate() ? llvm::alignTo(valueWidth, 64) : l.kPitch;
    l.pPitch = 64;
    l.q = 0;
    l.k = align1k(R * l.qPitch * eb);
    l.v = align1k(l.k + stages * N * l.kPitch * eb);
    l.p = align1k(separate() ? l.v + stages * N * l.vPitch * eb : l.v);
    l.ml = align16(l.p + R * l.pPitch * eb);
    l.barriers = align16(l.ml + (4 + 2) * R * 4);
    l.total = l.barriers + (tensorMaps ? 8 * tileBarriers() : 0) + 1024 - 16;
    // After the loop, the f32 outputs staged for whole-row stores, R rows
    // padded so a warp's stores meet every bank once, over the tiles.
    l.oPitch = valueWidth + 8;
    l.o = l.k;
    l.total = std::max(l.total, l.o + R * l.oPitch * 4 + 1024);
    l.s = l.alpha = l.transform = 0;
    return l;
  }
  if (warpgroup) {
    // Core matrices need no padding: each 8-row group of a buffer is one
    // run of 16-byte columns, read by wgmma through descriptors.
    l.qPitch = keyWidth;
    // Whole 64-column blocks of the 128-byte swizzle (MTLA's 256 + 32
    // columns take 320; the last 32 are never read).
    l.kPitch = llvm::alignTo(tileWidth(), 64);
    l.vPitch = separate() ? llvm::alignTo(valueWidth, 64) : l.kPitch;
    l.pPitch = N;
    // The tiles' 128-byte swizzle repeats every 1024 bytes: they start on
    // such a boundary, and the kernel aligns the allocation at run time
    // (up to 1008 bytes more).
    l.k = align1k(l.q + R * l.qPitch * eb);
    l.v = align1k(l.k + stages * N * l.kPitch * eb);
    l.s = l.alpha = l.o = 0; // no scores, merge or rescale buffers
    l.p = separate() ? align16(l.v + stages * N * l.vPitch * eb) : l.v;
    // A row max per warpgroup and row, then (after the loop) a row sum.
    l.ml = align16(l.p + R * l.pPitch * eb);
    l.barriers = align16(l.ml + warpgroups * R * 4);
    // The dynamic allocation starts 16-byte aligned: the shift to the next
    // 1024-byte boundary is at most 1008 bytes.
    l.total = l.barriers + (tensorMaps ? 8 * tileBarriers() : 0) + 1024 - 16;
    l.transform = l.k;
    if (forwardEpilogue)
      l.total = std::max<int64_t>(
          l.total,
          l.transform + valueWidth * llvm::alignTo(valueWidth, 64) * eb + 1024);
    return l;
  }
  if (registerSoftmax) {
    l.p = l.alpha = l.s;
    l.o = 0;
    l.ml = align16(keyWarps() * R * l.oPitch * 4);
    l.total = std::max(l.s, align16(l.ml + keyWarps() * R * 2 * 4));
    return l;
  }
  l.p = align16(l.s + threads / 32 * R * l.sPitch * 4);
  l.alpha = align16(l.p + R * l.pPitch * eb);
  l.o = l.ml = l.total = align16(l.alpha + R * 4);
  return l;
}

int64_t FlashPlan::combineVector(int64_t nt) const {
  if (combineEpilogue() == ValueEpilogue::None)
    return 0;
  // The threads must tile the outputs in whole vectors.
  for (int64_t vec = 16 / int64_t(elementBytes()); vec >= 1; vec /= 2)
    if (outWidth % vec == 0 && outWidth / vec <= nt &&
        nt % (outWidth / vec) == 0)
      return vec;
  return 0; // one thread per output instead
}

int64_t FlashPlan::combineSlices() const {
  if (!combineWideThreads() || combineEpilogue() != ValueEpilogue::LatentUp ||
      !(mma || streamMma))
    return 1;
  int64_t s = 1;
  while (outHeads * 2 * s <= kCombineSliceBlocks &&
         valueWidth % (2 * s * 64) == 0)
    s *= 2;
  return s;
}

int64_t FlashPlan::combineMmaThreads() const {
  // Warps beyond 4 split the slice's columns, in whole pairs of n8 tiles.
  for (int64_t nt = kCombineMmaThreads; nt > 128; nt /= 2)
    if (combineMmaSliceWidth() % (16 * (nt / 128)) == 0)
      return nt;
  return 128;
}

int64_t FlashPlan::combineMmaSlices() const {
  int64_t s = 1;
  while (outHeads * 2 * s <= 128 && outWidth % (2 * s * 16) == 0)
    s *= 2;
  return s;
}

FlashPlan::GridMergeLayout FlashPlan::gridMergeLayout() const {
  // A block's share of its rows' vectors spans at most R + 3 S (row, split)
  // pairs; its vectors, for S >= 2, at most half the rows', or with fewer
  // vectors than threads, lanes times vectors at most the threads.
  GridMergeLayout l;
  int64_t pairs = llvm::alignTo(rowsPerBlock + 3 * kMaxSplits + 1, 4);
  int64_t W = gridMergeWidth();
  l.weights = 0;
  l.spare = pairs - 1;
  l.sums = pairs;
  l.acc = 2 * pairs;
  l.total =
      l.acc + W * std::max(threads, rowsPerBlock * valueWidth / (2 * W) + 1);
  return l;
}

bool FlashPlan::gridMerge() const {
  if (!directOutput() || valueWidth % 4 != 0)
    return false;
  // The scratch reuses what the loop used: the warpgroup kernel's dynamic
  // workgroup memory, the streaming kernel's buffer of its warps' outputs.
  int64_t floats =
      warpgroup ? sharedBytes() / 4 : threads / 32 * rowsPerBlock * valueWidth;
  return gridMergeLayout().total <= floats;
}

bool FlashPlan::combinesOnTensorCores() const {
  bool matrix = combineEpilogue() == ValueEpilogue::LatentUp ||
                combineEpilogue() == ValueEpilogue::KeyReusePost;
  return mma && matrix && valueWidth % 16 == 0 && outWidth % 16 == 0 &&
         combineMmaLayout().total <= kSharedPerBlockMax;
}

FlashPlan::CombineMmaLayout FlashPlan::combineMmaLayout() const {
  CombineMmaLayout l;
  int64_t eb = int64_t(elementBytes());
  l.mergedPitch = mmaPitch(valueWidth);
  l.weightPitch = mmaPitch(combineMmaSliceWidth());
  l.merged = 0;
  l.weights = align16(kCombineMmaRows * l.mergedPitch * eb);
  l.splits = align16(l.weights + valueWidth * l.weightPitch * eb);
  l.total = l.splits + kCombineMmaRows * kCombineMmaSplits * 4;
  return l;
}

// project_slices' workgroup memory with `slices` latent slices a head,
// unpadded (dynamic = total).
static FlashPlan::ProjectSlicesLayout projectSlicesBytes(const FlashPlan &p,
                                                         int64_t slices) {
  FlashPlan::ProjectSlicesLayout l;
  int64_t eb = int64_t(p.elementBytes());
  int64_t width = p.valueWidth / slices;
  l.mergedPitch = mmaPitch(width);
  l.weightPitch = mmaPitch(p.outWidth);
  l.merged = 0;
  l.weights = align16(FlashPlan::kProjectSliceRows * l.mergedPitch * eb);
  l.sums = align16(l.weights + width * l.weightPitch * eb);
  // The partial products that the cluster's blocks add (one slice: none).
  l.total =
      l.sums + (slices > 1 ? FlashPlan::kProjectSliceRows * p.outWidth * 4 : 0);
  l.dynamic = l.total;
  return l;
}

int64_t FlashPlan::projectSlices() const {
  if (!normalisedRows())
    return 0;
  int64_t s = 1;
  while (outHeads * 2 * s <= kCombineSliceBlocks &&
         2 * s <= kMaxClusterBlocks && valueWidth % (2 * s * 16) == 0 &&
         outWidth % (2 * s * 4) == 0)
    s *= 2;
  // The whole slice of the head's up-projection must fit beside the rows.
  return projectSlicesBytes(*this, s).total <= kSharedPerBlockMax ? s : 0;
}

FlashPlan::ProjectSlicesLayout FlashPlan::projectSlicesLayout() const {
  ProjectSlicesLayout l = projectSlicesBytes(*this, projectSlices());
  l.dynamic = combineRowsOverlaps()
                  ? std::max(l.total, align16(kSharedPerSM - sharedBytes() -
                                              2 * kSharedReservedPerBlock + 1))
                  : l.total;
  return l;
}

int64_t FlashPlan::combineRows() const {
  if (combinesOnTensorCores())
    return kCombineMmaRows;
  // A plain merge: rows per block only make the blocks fewer and longer.
  if (combineEpilogue() == ValueEpilogue::None)
    return kCombineRows;
  int64_t nt = combineThreads();
  int64_t vec = combineVector(nt);
  if (!vec)
    return 0;
  int64_t groups = nt / (outWidth / vec); // threads sharing a column
  return llvm::isPowerOf2_64(groups) && groups <= 32 ? kCombineRows : 0;
}

int64_t FlashPlan::sharedBytes() const {
  if (mma)
    return mmaLayout().total;
  if (streaming) {
    int64_t warps = threads / 32;
    return 4 * warps * rowsPerBlock *
           ((streamMma ? valueWidth : accWidth()) + 2);
  }
  int64_t floats = rowsPerBlock * keyWidth          // query rows
                   + tileRows * (tileWidth() + 1)   // key (and value) rows, padded
                   + (separate() ? tileRows * valueWidth : 0)
                   + rowsPerBlock * tileRows        // scores
                   + 3 * rowsPerBlock;              // max, sum, rescale
  return floats * 4;
}

double FlashPlan::predictDecodeMicros(AttentionOp op, int64_t B, int64_t L,
                                      double bandwidth, double fp32Flops,
                                      double mmaFlops) const {
  DecodeCost cost = computeDecodeCost(op.getVariant());
  double bytes = cost.bytesPerToken(elementBytes()) * B * L;
  double flops = cost.flopsPerToken * B * L;
  constexpr double kLaunchMicros = 8.0; // forward + combine
  double rate = warpgroup          ? kWgmmaFlops
                : mma || streamMma ? mmaFlops
                                   : fp32Flops;
  return std::max(bytes / bandwidth, flops / rate) * 1e6 + kLaunchMicros;
}

/// Whether mma.sync can take `p`'s shapes: 16-bit caches, 16-wide k steps
/// over the key view, 32-column value slices, and key and value views that
/// start on 8-element (16-byte) boundaries of the stored row. If so, marks
/// `p` as an mma schedule.
static bool takeMma(FlashPlan &p) {
  auto ft = cast<FloatType>(p.storage);
  if (!ft.isBF16() && !ft.isF16())
    return false;
  auto all8 = [](std::initializer_list<int64_t> xs) {
    return llvm::all_of(xs, [](int64_t x) { return x % 8 == 0; });
  };
  if (p.keyWidth % 16 || p.valueWidth % 32 ||
      !all8({p.rowWidth, p.ropeDim, p.keyBegin, p.keyNope, p.valueBegin}))
    return false;
  p.mma = true;
  p.streaming = false;
  return true;
}

/// The shared-softmax form of the mma schedule (MmaKernel.cpp): warps split
/// the scores' k steps and the value columns, with no recomputed work.
static std::optional<FlashPlan> planMma(FlashPlan p, int64_t rows,
                                        const FlashOptions &o) {
  if (!takeMma(p))
    return std::nullopt;
  // Warps: 4, each owning a quarter of the value columns. (8 warps measured
  // slower on every variant: docs/performance.md, step 11.)
  int64_t warps = o.mmaWarps ? o.mmaWarps : 4;
  if (p.valueWidth % (8 * warps))
    return std::nullopt;
  p.threads = 32 * warps;
  // Query rows: as many m16 tiles as the group fills, at most 64 f32
  // accumulators a thread (rows x valueWidth / threads) and 4 tiles. Where
  // that leaves more than 4 blocks re-reading each cache tile of a group
  // (MLA's 128 heads over a 512-wide value: 8), up to 128 accumulators, so
  // half the blocks do the per-tile work (measured: MLA-128 B=64 713 ->
  // 622 us, docs/performance.md step 14).
  auto tiles = [&](int64_t accumulators) {
    int64_t cap = std::max<int64_t>(
        1, accumulators * p.threads / (16 * p.valueWidth));
    int64_t mt =
        std::clamp<int64_t>((rows + 15) / 16, 1, std::min<int64_t>(cap, 4));
    return int64_t(llvm::bit_floor(uint64_t(mt)));
  };
  int64_t mt = tiles(64);
  if (rows > 4 * 16 * mt)
    mt = tiles(128);
  p.rowsPerBlock = o.mmaRows ? o.mmaRows : 16 * mt;
  // The largest tile that lets two blocks share a multiprocessor, else one
  // that fits alone; three tiles in flight where they fit as well as two.
  // The softmax threads of a row need a column each.
  constexpr int64_t kTwoBlocks = 112 * 1024, kOneBlock = 220 * 1024;
  int64_t minTile = std::max<int64_t>(16, p.threads / p.rowsPerBlock);
  for (int64_t limit : {kTwoBlocks, kOneBlock})
    for (int64_t n : {64, 32, 16}) {
      for (int64_t st : {3, 2}) {
        p.tileRows = o.mmaTile ? o.mmaTile : n;
        p.stages = o.mmaStages ? o.mmaStages : st;
        if (p.tileRows >= minTile && p.mmaLayout().total <= limit) {
          p.blocksPerSM = limit == kTwoBlocks ? 2 : 1;
          return p;
        }
      }
    }
  return std::nullopt;
}

/// The register-softmax form of the mma schedule (MmaRegisterKernel.cpp)
/// for `rows` query rows per group. A warp keeps its outputs within 128
/// accumulators: first by owning fewer of the block's rows (row warps, no
/// recomputed work), then, where one 16-row tile of values is already too
/// wide (512-wide latent values), by splitting the value columns (value
/// warps, each recomputing its key slice's scores). Measured against the
/// shared-softmax form (docs/performance.md, steps 15 and 20): without
/// value warps it wins or ties everywhere (MQA, MFA, GLA, MFA-KR, GTA,
/// Sun's GTA); with them only while the recomputed scores stay under half
/// the mma.sync ridge (MLA-16 at 46 FLOP/B ties; MTLA at 92 and MLA-128
/// lose). Blocks of up to 64 rows (the whole group where it fits: each
/// cache tile read once per group), the larger first.
static std::optional<FlashPlan> planRegisterMma(FlashPlan p, int64_t rows,
                                                const FlashOptions &o) {
  if (!takeMma(p))
    return std::nullopt;
  int64_t eb = cast<FloatType>(p.storage).getWidth() / 8;
  int64_t DK = p.keyWidth, DV = p.valueWidth;
  double rowBytes =
      double(p.separate() ? DK + DV : p.rowWidth + double(p.ropeDim) / p.kvHeads) *
      eb;
  constexpr int64_t kAccumulators = 128;
  SmallVector<int64_t> candidates;
  if (o.mmaRows)
    candidates.push_back(o.mmaRows);
  else
    for (int64_t R = 64; R >= 16; R /= 2)
      if (R == 16 || R / 2 < rows)
        candidates.push_back(R);
  bool fixed = o.mmaRows || o.mmaValueWarps || o.mmaTile || o.mmaStages ||
               o.mmaWarps || o.mmaRowWarps;
  for (int64_t R : candidates) {
    int64_t mt = R / 16, rw = 1, vw = 1; // m16 tiles per warp, row warps
    if (o.mmaRowWarps) {
      rw = o.mmaRowWarps;
      mt = R / 16 / rw;
    } else {
      while (mt > 1 && mt * DV / 2 > kAccumulators) {
        mt /= 2;
        rw *= 2;
      }
    }
    if (mt < 1 || mt * 16 * rw != R)
      continue;
    if (o.mmaValueWarps)
      vw = o.mmaValueWarps;
    else
      while (mt * DV / (2 * vw) > kAccumulators)
        vw *= 2;
    if (DV % (16 * vw) || rw * vw > 4)
      continue;
    double padded = double((rows + R - 1) / R * R);
    double intensity = 2 * padded * (DK * vw + DV) / rowBytes;
    if (!fixed && vw > 1 && intensity > FlashPlan::kValueWarpIntensity)
      continue;
    p.registerSoftmax = true;
    p.rowsPerBlock = R;
    p.valueWarps = vw;
    p.rowWarps = rw;
    p.threads = 32 * std::max<int64_t>(vw * rw, o.mmaWarps ? o.mmaWarps : 4);
    if (p.threads > 1024)
      continue;
    int64_t kw = p.keyWarps();
    // Cache rows per key warp and tile: 16 where several key warps split a
    // tile, 32 where one slice reads all of it (measured: MFA 80.5 -> 77.4
    // us, GLA 175 -> 155, MFA-KR 86 -> 76).
    int64_t nw = kw == 1 ? 32 : 16;
    // Registers: the outputs, the scores, ~64 for addresses and fragments.
    int64_t regs = mt * DV / (2 * vw) + mt * nw / 2 + 64;
    int64_t byRegs = 65536 / (p.threads * regs);
    // Three tiles in flight where two blocks still fit a multiprocessor,
    // else two. One block per multiprocessor caps nothing but leaves the
    // registers unbounded (measured: MFA with 16-row blocks and one block
    // 121 us against 89 for the shared softmax), so that form is not taken
    // unless the knobs ask for it.
    p.tileRows = o.mmaTile ? o.mmaTile : kw * nw;
    if (p.tileRows % (16 * kw))
      return std::nullopt;
    for (int64_t minBlocks : {2, 1}) {
      if (minBlocks == 1 && !fixed)
        break;
      for (int64_t st : {3, 2}) {
        p.stages = o.mmaStages ? o.mmaStages : st;
        int64_t bySmem = FlashPlan::residentBlocks(p.mmaLayout().total);
        p.blocksPerSM = std::clamp<int64_t>(std::min(byRegs, bySmem), 0, 4);
        if (p.blocksPerSM >= minBlocks)
          return p;
      }
    }
  }
  return std::nullopt;
}

/// The cache bytes one tile of `p` stages (its rows of the key or tied
/// stream, with the rotary key, and of a separate value stream).
static int64_t cacheTileBytes(const FlashPlan &p) {
  return p.tileRows * (p.tileWidth() + (p.separate() ? p.valueWidth : 0)) *
         int64_t(p.elementBytes());
}

/// Whether tensor maps can copy `p`'s tiles: every stream starts on a
/// 64-column block of the tile (MTLA's rope at 256 of 256 + 32; the last
/// 32 columns of its block are zero-filled) and is whole 16-byte rows.
static bool tensorMapsFit(const FlashPlan &p) {
  return llvm::all_of(p.tileStreams(), [](const FlashPlan::TileStream &s) {
    return s.column % FlashPlan::kTileBlockColumns == 0 && s.width % 8 == 0;
  });
}

/// The narrow warpgroup form (MmaNarrowKernel.cpp) for a decode step's 4
/// to 32 query rows per cache group, which the 64-row form pads 2-4x and
/// the mma.sync register form pads to 16: one warpgroup, 64-row tiles
/// (wgmma's M), the rows rounded up to 8 as N. Sun's GTA (5 rows)
/// measured 3-10% faster on it than on the register form at every shape
/// but B=1 L=32k (+4%), GTA (4 rows of a tied row) 4-6% slower on one
/// block an SM (docs/performance.md step 68) but 4-11% faster from B=16
/// on two (step 113; B=1 L=32k +5%).
/// Its accumulators are small (MLA-16: 64 a thread for the 512 values,
/// against 128 in each of two warpgroups), so the choice is the stages:
/// the loop takes one tile at a time and keeps the other ST - 1 in flight.
/// One block an SM, with the fewest stages whose tiles ahead reach
/// kNarrowBytesAhead, or as many as fit: MQA (32 KB tiles) measured
/// fastest at 4 stages, ahead of 6 at every batch but one and of two
/// blocks of 3 stages at B >= 16 (docs/performance.md steps 68 and 112);
/// the latent tiles (72 KB) fit 2. With 8 rows or fewer (one n8 step: a
/// tile's products are a few instructions, and the block mostly waits on
/// its copies) two blocks an SM, each with half those bytes ahead: Sun's
/// GTA (5 rows) measured 1.5-7% faster at every batch on two blocks of 3
/// stages than on one of 5 (step 112). Tiles by TMA where the streams
/// allow, at any depth (by cp.async MLA-16 and MTLA were 4-12% slower at
/// B >= 64).
static constexpr int64_t kNarrowBytesAhead = 96 * 1024;
static constexpr int64_t kNarrowMinRows = 4;
static std::optional<FlashPlan> planNarrowMma(FlashPlan p, int64_t rows,
                                              const FlashOptions &o) {
  if (rows < kNarrowMinRows || rows > 32 || p.valueWidth % 64 ||
      p.forwardEpilogue)
    return std::nullopt;
  p.narrow = true;
  p.warpgroups = 1;
  p.threads = 128;
  p.rowsPerBlock = llvm::alignTo(rows, 8);
  p.tileRows = 64;
  int64_t R = p.rowsPerBlock;
  // Outputs (valueWidth / 64 blocks of R / 2), scores, ~64 for the rest.
  int64_t regs = p.valueWidth / 64 * R / 2 + R / 2 + 64;
  int64_t tileBytes = cacheTileBytes(p);
  auto plan = [&](int64_t blocks) -> std::optional<FlashPlan> {
    if (65536 / (p.threads * regs) < blocks)
      return std::nullopt;
    std::optional<FlashPlan> best;
    for (int64_t st = 2; st <= 8; ++st) {
      FlashPlan c = p;
      c.blocksPerSM = blocks;
      c.stages = o.mmaStages ? o.mmaStages : st;
      c.tensorMaps = o.tensorMapCopies && tensorMapsFit(c);
      if (FlashPlan::residentBlocks(c.mmaLayout().total) < blocks)
        break;
      best = c;
      if (o.mmaStages ||
          blocks * (c.stages - 1) * tileBytes >= kNarrowBytesAhead)
        break;
    }
    return best;
  };
  if (R <= 8)
    if (std::optional<FlashPlan> two = plan(2))
      return two;
  return plan(1);
}

/// The warpgroup form (MmaWarpgroupKernel.cpp, sm_90a) for groups of 16
/// query rows or more, padded to the 64-row warpgroup tile, with values one
/// or two warpgroups' accumulators hold (64 x 256 f32 each: 128 a thread).
/// wgmma reads each cache tile once per warpgroup from workgroup memory,
/// where mma.sync reads it once per warp (GLA's register form spent as long
/// on those reads as on DRAM; docs/performance.md step 29). Padded rows
/// cost tensor-core work only, well under the wgmma ridge: measured faster
/// than mma.sync from 16 rows up, not below (steps 34 and 36).
static std::optional<FlashPlan> planWarpgroupMma(FlashPlan p, int64_t rows,
                                                 bool decode,
                                                 const FlashOptions &o) {
  if (!o.warpgroupMma || !takeMma(p) || p.valueWidth > 512)
    return std::nullopt;
  // Tiles in 64-column blocks (128-byte swizzle): every 16-column step of
  // the key view inside one block, the value view starting on one.
  if (p.valueBegin % 64)
    return std::nullopt;
  for (int64_t d = 0; d < p.keyWidth; d += 16)
    if (p.tileKeyColumn(d) % 16 || p.tileKeyColumn(d + 8) != p.tileKeyColumn(d) + 8)
      return std::nullopt;
  p.registerSoftmax = true;
  p.warpgroup = true;
  if (decode && o.narrowQuery && !o.mmaRows && !o.mmaTile)
    if (std::optional<FlashPlan> n = planNarrowMma(p, rows, o))
      return n;
  if ((o.mmaRows && o.mmaRows != 64) || (!o.mmaRows && rows < 16))
    return std::nullopt;
  p.rowsPerBlock = 64;
  p.warpgroups = p.valueWidth > 256 ? 2 : 1;
  if ((p.valueWidth / p.warpgroups) % 64)
    return std::nullopt;
  p.threads = 128 * p.warpgroups;
  // A shared linear epilogue becomes one more product of the block: its
  // outputs (A, in the query rows' bytes) times the transform (B, where
  // the tiles were). One warpgroup holds all the value columns.
  p.forwardEpilogue = p.epilogue == ValueEpilogue::KeyReusePost &&
                      p.warpgroups == 1 && p.outWidth == p.valueWidth &&
                      p.keyWidth >= p.valueWidth && p.valueWidth % 64 == 0 &&
                      llvm::isPowerOf2_64(p.valueWidth);
  // The kernel's pipeline (three or more stages) keeps two tiles in use
  // (one being scored, one multiplied into the values), so ST - 2 tiles
  // stream in ahead; without it (two stages) one does.
  // Bytes in flight per multiprocessor hide DRAM latency up to about
  // kBytesAheadEnough; past it the larger tile wins (fewer per-tile waits,
  // barriers and softmax reductions): MFA's 64-row tiles on two stages (64
  // KB ahead) measured 2-12% faster at every batch than 32-row tiles on
  // five (96 KB; docs/performance.md step 106). So take the tile, stages
  // and resident blocks with the most bytes in flight up to that, then the
  // larger tile, then one block an SM (two split the grid's splits and
  // measured slower, step 43), then the fewest bytes: stages past that
  // only cost registers and slot arithmetic (MFA-KR's five spilled 112
  // bytes and took the slot as a remainder by 5; on four it was 0.5-6%
  // faster at every batch, step 115). Registers: the outputs, two sets of
  // scores, ~64 for addresses and the softmax.
  constexpr int64_t kBytesAheadEnough = 64 * 1024;
  auto rank = [&](const FlashPlan &c, int64_t inFlight) {
    return std::make_tuple(std::min(inFlight, kBytesAheadEnough), c.tileRows,
                           -c.blocksPerSM, -inFlight);
  };
  std::optional<FlashPlan> best;
  std::tuple<int64_t, int64_t, int64_t, int64_t> bestRank{0, 0, 0, 0};
  for (int64_t n : {64, 32})
    for (int64_t st = 2; st <= 6; ++st) {
      FlashPlan c = p;
      c.tileRows = o.mmaTile ? o.mmaTile : n;
      c.stages = o.mmaStages ? o.mmaStages : st;
      if (c.tileRows % (16 * c.warpgroups) || c.tileRows > 256)
        continue;
      int64_t regs = c.valueWidth / c.warpgroups / 2 +
                     c.tileRows / c.warpgroups + 64;
      int64_t byRegs = 65536 / (c.threads * regs);
      int64_t bySmem = FlashPlan::residentBlocks(c.mmaLayout().total);
      c.blocksPerSM = std::clamp<int64_t>(std::min(byRegs, bySmem), 0, 2);
      int64_t ahead = c.stages >= 3 ? c.stages - 2 : 1;
      int64_t inFlight = c.blocksPerSM * ahead * cacheTileBytes(c);
      if (c.blocksPerSM >= 1 && rank(c, inFlight) > bestRank) {
        best = c;
        bestRank = rank(c, inFlight);
      }
    }
  // Tile copies by TMA for the two-stage loop, where every warp otherwise
  // issues the next tile's copies between its waits (MLA-128 B=64: 205 ->
  // 197 us), where the streams fit (tensorMapsFit). The pipelined loop
  // already hides them and measured 1-2% slower with TMA (docs/
  // performance.md step 52); it takes them only at decode over separate
  // keys and values, where the tiles' L2 policy then made MFA's (32-row
  // tiles, before step 106) 0.2-5% faster (step 102; GLA, with or without a
  // hint on its shared rope stream, was 5-10% slower from B=16, step 103, and
  // MFA-KR 5% at B=128). The schedule is chosen first: its mbarriers must fit
  // beside it.
  bool pipelinedTma = decode && best && best->separate();
  if (best && o.tensorMapCopies && (best->stages == 2 || pipelinedTma) &&
      tensorMapsFit(*best)) {
    FlashPlan c = *best;
    c.tensorMaps = true;
    if (FlashPlan::residentBlocks(c.mmaLayout().total) >= c.blocksPerSM)
      best = c;
  }
  // The seesaw, where every 64-row block is full (the tensor cores are then
  // the bound: MLA-128 B=64 L=4k 196 -> 173 us; MLA-16's padded blocks,
  // memory-bound, were 1-3% slower; docs/performance.md step 53). It needs
  // a tile 0 probability block (64 x 64, one 64-column block of 64 rows)
  // that only the scores read, and its per-block mbarriers beside the rest.
  if (best && best->tensorMaps && o.seesaw && std::max(rows, p.group) >= 64 &&
      best->warpgroups == 2 && best->tileRows == 64 && !best->separate() &&
      !best->forwardEpilogue) {
    FlashPlan c = *best;
    c.seesaw = true;
    if (c.seesawScoreBlock() >= 0 &&
        FlashPlan::residentBlocks(c.mmaLayout().total) >= c.blocksPerSM)
      best = c;
  }
  // Where the tiles come by cp.async, at decode tile 0 before the query
  // rows (the TMA forms issue their first tiles first anyway).
  if (best)
    best->tileBeforeQuery = decode && !best->tensorMaps;
  return best;
}

/// The streaming kernel's tensor-core form (MmaStreamKernel.cpp) for the
/// streaming plan `s`: separate 16-bit keys and values that lanes load in
/// 16-byte chunks (keys in multiples of 32 columns, values of 64), and at
/// most 8 query rows (the real rows of one m16 tile's first half).
static std::optional<FlashPlan> planStreamMma(FlashPlan s,
                                              const FlashOptions &o) {
  auto ft = cast<FloatType>(s.storage);
  if (!s.separate() || (!ft.isBF16() && !ft.isF16()) || s.keyWidth % 32 ||
      s.valueWidth % 64 || s.rowsPerBlock > 8)
    return std::nullopt;
  s.streamMma = true;
  s.butterfly = false;
  // 8 warps of 2 steps (16 KB) in flight each: one block per (batch,
  // group) fills an SM's registers, so a batch that has about one per SM
  // needs no split and no combine. Measured on the H100 against 4 warps
  // (two blocks per SM, the runtime then splitting twice): GQA B=16 L=8k
  // 180 -> 176 us, L=2k 52.3 -> 48.9; B >= 64 within 1% (4 warps ahead).
  s.threads = 256;
  s.vecK = s.vecV = 8;
  // What a lane holds: `u` steps of rows ((key + value) / 4 registers
  // each), the outputs and the query's fragments. Up to ~224 of them
  // compile without spills (ptxas, sm_90a: keys and values of 128 with
  // two steps, 254 registers; of 192 with one, 255; of 256 with one it
  // spills 112 bytes), so two steps where they fit, else one, else the
  // CUDA-core kernel.
  auto held = [&](int64_t u) {
    return u * (s.keyWidth + s.valueWidth) / 4 + s.valueWidth / 2 +
           s.keyWidth / 8;
  };
  constexpr int64_t kHeldRegisters = 224;
  s.unroll = o.streamUnroll;
  if (!s.unroll) {
    s.unroll = 2;
    while (s.unroll > 1 && held(s.unroll) > kHeldRegisters)
      --s.unroll;
    if (held(s.unroll) > kHeldRegisters)
      return std::nullopt;
  }
  s.blocksPerSM = 1;
  if (s.sharedBytes() > kSharedBudget)
    return std::nullopt;
  return s;
}

FailureOr<FlashPlan> FlashPlan::get(AttentionOp op, bool forAnalysis,
                                    const FlashOptions &options) {
  // Diagnostics only when compiling; the report asks silently.
  auto fail = [&]() -> InFlightDiagnostic {
    InFlightDiagnostic diag = op.emitOpError();
    if (forAnalysis)
      diag.abandon();
    return diag;
  };
  VariantAttr v = op.getVariant();
  FlashPlan p;
  p.form = v.getKvForm();
  p.qHeads = v.getNumQHeads();
  p.kvHeads = v.getNumKvHeads();
  p.group = v.getGroupSize();
  p.mask = op.getMask();
  p.timeStride = v.getTimeStride();
  p.scale = v.getSoftmaxScale().convertToDouble();
  p.storage = cast<RankedTensorType>(op.getQuery().getType()).getElementType();
  p.lengthType = op.getSeqLens()
                     ? cast<RankedTensorType>(op.getSeqLens().getType())
                           .getElementType()
                     : Type();
  p.epilogue = v.getValueEpilogue();
  p.outHeads = v.getNumOutputHeads();
  p.outWidth = v.getVHeadDim();
  p.ropeDim = v.hasSharedRopeKey() ? v.getRopeDim() : 0;
  p.traceBlocks = options.traceBlocks;
  switch (p.form) {
  case KvForm::Separate:
    if (v.getNumValueHeads() != p.kvHeads)
      return fail()
             << "fused path: value heads (" << v.getNumValueHeads()
             << ") must equal key heads (" << p.kvHeads << ")";
    p.keyWidth = v.getQkHeadDim();
    p.rowWidth = p.keyWidth;
    p.keyBegin = 0;
    p.keyNope = p.keyWidth;
    p.valueBegin = 0;
    p.valueWidth = p.epilogue == ValueEpilogue::GatedLatentDecoder
                       ? *v.getLatentDim()
                       : v.getVHeadDim();
    break;
  case KvForm::Tied: {
    TieAttr tie = v.getTie();
    p.keyWidth = v.getQkHeadDim();
    p.rowWidth = tie.getRow();
    p.keyBegin = tie.getKeyBegin();
    p.keyNope = tie.getKeyEnd() - tie.getKeyBegin();
    p.valueBegin = tie.getValueBegin();
    p.valueWidth = tie.getValueEnd() - tie.getValueBegin();
    break;
  }
  case KvForm::Latent:
    if (!op.getAbsorbed() && !forAnalysis)
      return fail() << "fused path needs the absorbed form of "
                                 "latent attention; run attn-absorb-latent "
                                 "first";
    p.rowWidth = *v.getLatentDim();
    p.keyWidth = p.rowWidth + p.ropeDim;
    p.keyBegin = 0;
    p.keyNope = p.rowWidth;
    p.valueBegin = 0;
    p.valueWidth = p.rowWidth;
    break;
  }
  if (!v.getScoreMapOfHead().empty() || !v.getLatentOfHead().empty())
    return fail() << "fused path: explicit 'score_map_of_head' / "
                               "'latent_of_head' maps are not supported yet";

  // Schedule: up to 16 query rows per block (a group's heads times tokens,
  // PackGQA), then the largest cache tile that fits workgroup memory.
  auto qType = cast<RankedTensorType>(op.getQuery().getType());
  int64_t tq = qType.getDimSize(1);
  int64_t rows = ShapedType::isDynamic(tq) ? 16 : p.group * tq;
  p.rowsPerBlock = 1;
  while (p.rowsPerBlock < rows && p.rowsPerBlock < 16)
    p.rowsPerBlock *= 2;
  p.threads = 128;
  for (p.tileRows = 64; p.tileRows > 4 && p.sharedBytes() > kSharedBudget;
       p.tileRows /= 2)
    ;
  while (p.sharedBytes() > kSharedBudget && p.rowsPerBlock > 1)
    p.rowsPerBlock /= 2;
  // Few query rows per group (decode of MHA, GQA, GTA...): stream the cache
  // row by row through registers instead of staging tiles, when the lanes'
  // slices of the query and the accumulators fit in registers.
  if (!ShapedType::isDynamic(tq) && p.group * tq <= 8 &&
      !(options.tensorCores && options.mmaSmallGroups)) {
    FlashPlan s = p;
    s.streaming = true;
    s.rowsPerBlock = p.group * tq;
    s.tileRows = 32; // split granularity: rows a block streams per round
    int64_t bits = cast<FloatType>(p.storage).getWidth();
    int64_t maxVec = 128 / bits; // 16-byte loads
    // Vectors must not straddle the key slice and the rotary key, and must
    // start aligned inside the row.
    int64_t keyAlign =
        p.separate() ? p.keyWidth
                     : std::gcd(std::gcd(p.keyNope, p.ropeDim),
                                p.keyBegin ? p.keyBegin : p.keyNope);
    int64_t valueAlign =
        p.separate() ? p.valueWidth
                     : std::gcd(p.valueWidth,
                                p.valueBegin ? p.valueBegin : p.valueWidth);
    s.vecK = pickVector(p.keyWidth, keyAlign, maxVec);
    s.vecV = pickVector(p.valueWidth, valueAlign, maxVec);
    int64_t perRow = s.rowsPerBlock * (s.keySlots() + s.valueSlots());
    if (perRow <= 128 && s.sharedBytes() <= kSharedBudget) {
      int64_t rowRegs = s.keySlots() + s.valueSlots();
      // Rows in flight per warp: as many as ~64 registers of row data
      // allow, fewer when the query slices and accumulators are large.
      s.unroll = std::clamp<int64_t>(64 / rowRegs, 1, 8);
      if (perRow > 48)
        s.unroll = std::min<int64_t>(s.unroll, 4);
      // With power-of-two counts the iteration's unroll x rows scores fit
      // the lanes of a warp: one reduce-scatter instead of one reduction
      // per score.
      if (llvm::isPowerOf2_64(s.rowsPerBlock) && s.rowsPerBlock <= 32) {
        s.butterfly = true;
        s.unroll = std::min<int64_t>(int64_t(llvm::bit_floor(uint64_t(s.unroll))),
                                     32 / s.rowsPerBlock);
      }
      // Streaming issues CUDA-core instructions per loaded element; it
      // keeps up with memory only for separate keys and values with a
      // power-of-two group (one butterfly per iteration). A tied row (two
      // views per element) or an odd group is issue-bound there and runs
      // 1.6-2.3x faster on tensor cores (docs/performance.md, step 15).
      bool issueBound = !(s.separate() && s.butterfly);
      if (options.tensorCores && issueBound) {
        if (std::optional<FlashPlan> m =
                planWarpgroupMma(p, rows, /*decode=*/true, options))
          return *m;
        if (std::optional<FlashPlan> m = planRegisterMma(p, rows, options))
          return *m;
      }
      // Only where streaming was not issue-bound already: Sun's GTA (5
      // rows, 64-wide keys) measured slower on this form than on the
      // register form (B=64 L=8k 90.0 vs 82.1 us; docs/performance.md,
      // step 45).
      if (options.tensorCores && !options.noStreamMma)
        if (std::optional<FlashPlan> m = planStreamMma(s, options))
          return *m;
      return s;
    }
  }
  if (options.tensorCores) {
    if (std::optional<FlashPlan> m =
            planWarpgroupMma(p, rows, !ShapedType::isDynamic(tq), options))
      return *m;
    if (!options.mmaSharedSoftmax)
      if (std::optional<FlashPlan> m = planRegisterMma(p, rows, options))
        return *m;
    if (std::optional<FlashPlan> m = planMma(p, rows, options))
      return *m;
  }
  if (p.sharedBytes() > kSharedBudget)
    return fail() << "fused path: a " << p.tileWidth()
                            << "-wide cache row does not fit a tile in "
                            << kSharedBudget << " bytes of workgroup memory";
  return p;
}
