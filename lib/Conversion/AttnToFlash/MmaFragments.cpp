//===- MmaFragments.cpp - what both tensor-core kernels share -------------===//
#include "MmaFragments.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "llvm/ADT/DenseMap.h"

using namespace mlir;
using namespace mlir::attn;

/// bf16 pairs travel as i32 (what nvvm.mma.sync takes for bf16); f16 pairs
/// as vector<2xf16>.
static Value asRegister(ImplicitLocOpBuilder &b, Value pair) {
  auto vt = cast<VectorType>(pair.getType());
  if (!vt.getElementType().isBF16())
    return pair;
  auto word = VectorType::get({1}, b.getI32Type());
  Value w = vector::BitCastOp::create(b, word, pair);
  return vector::ExtractOp::create(b, w, ArrayRef<int64_t>{0});
}

gpu::GPUFuncOp mlir::attn::makeMmaKernel(OpBuilder &b, Location loc,
                                         const FlashPlan &p, StringRef name,
                                         ArrayRef<Type> workgroup) {
  int32_t NT = int32_t(p.threads);
  gpu::GPUFuncOp func = makeKernel(
      b, loc, name, ForwardFrame::argumentTypes(b, p), workgroup, NT);
  func->setAttr(NVVM::NVVMDialect::getMaxntidAttrName(),
                b.getDenseI32ArrayAttr({NT, 1, 1}));
  func->setAttr(NVVM::NVVMDialect::getMinctasmAttrName(),
                b.getI32IntegerAttr(int32_t(p.blocksPerSM)));
  if (p.tensorMaps)
    func->setAttr(kTensorMapArgsAttrName,
                  b.getI64IntegerAttr(int64_t(p.tileStreams().size())));
  return func;
}

SmallVector<Value> MmaFragments::load(Value mem, Value index, int tiles,
                                      bool trans) {
  ImplicitLocOpBuilder &b = k.b;
  auto type = VectorType::get({tiles, 2}, elem);
  Value v = nvgpu::LdMatrixOp::create(b, type, mem, ValueRange{index}, trans,
                                      tiles);
  SmallVector<Value> regs;
  for (int i = 0; i < tiles; ++i)
    regs.push_back(
        asRegister(b, vector::ExtractOp::create(b, v, ArrayRef<int64_t>{i})));
  return regs;
}

void MmaFragments::store(Value ptr, ArrayRef<Value> regs, bool trans) {
  ImplicitLocOpBuilder &b = k.b;
  SmallVector<Value> words;
  for (Value r : regs)
    words.push_back(r.getType().isInteger(32)
                        ? r
                        : LLVM::BitcastOp::create(b, b.getI32Type(), r));
  NVVM::StMatrixOp::create(b, ptr, words,
                           trans ? NVVM::MMALayout::col : NVVM::MMALayout::row,
                           NVVM::LdStMatrixShapeAttr::get(b.getContext(), 8, 8),
                           NVVM::LdStMatrixEltType::B16);
}

SmallVector<Value> MmaFragments::mma(ArrayRef<Value> a, ArrayRef<Value> bFrag,
                                     ArrayRef<Value> c) {
  ImplicitLocOpBuilder &b = k.b;
  Type f32 = b.getF32Type();
  auto resTy =
      LLVM::LLVMStructType::getLiteral(b.getContext(), {f32, f32, f32, f32});
  NVVM::MMATypes t = elem.isBF16() ? NVVM::MMATypes::bf16 : NVVM::MMATypes::f16;
  Value d = NVVM::MmaOp::create(
      b, resTy, a, bFrag, c, ArrayRef<int64_t>{16, 8, 16}, std::nullopt,
      std::nullopt, std::array<NVVM::MMATypes, 2>{t, t},
      std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                     NVVM::MMALayout::col});
  SmallVector<Value> out;
  for (int64_t i = 0; i < 4; ++i)
    out.push_back(LLVM::ExtractValueOp::create(b, d, ArrayRef<int64_t>{i}));
  return out;
}

Value MmaFragments::pack(Value lo, Value hi) {
  ImplicitLocOpBuilder &b = k.b;
  Value pair = vector::FromElementsOp::create(
      b, VectorType::get({2}, k.f32()), ValueRange{lo, hi});
  pair = arith::TruncFOp::create(b, VectorType::get({2}, elem), pair);
  return asRegister(b, pair);
}

Value MmaFragments::reg(Value pair) { return asRegister(k.b, pair); }

SmallVector<Value>
mlir::attn::rescaleIfAnyGrew(KernelBuilder &k, Value grew, ArrayRef<Value> o,
                             function_ref<void(MutableArrayRef<Value>)> scale) {
  ImplicitLocOpBuilder &b = k.b;
  Value anyGrew = NVVM::VoteSyncOp::create(
      b, b.getI1Type(), arith::ConstantIntOp::create(b, b.getI32Type(), -1),
      grew, NVVM::VoteSyncKind::any);
  SmallVector<Type> types(o.size(), k.f32());
  auto rescale = scf::IfOp::create(b, types, anyGrew, true);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(rescale.thenBlock());
    SmallVector<Value> scaled(o.begin(), o.end());
    scale(scaled);
    scf::YieldOp::create(b, scaled);
    b.setInsertionPointToStart(rescale.elseBlock());
    scf::YieldOp::create(b, o);
  }
  return SmallVector<Value>(rescale.getResults());
}

SmallVector<Value> MmaFragments::rowTileProduct(const MmaLane &ln, Value a,
                                                Value row0, int64_t aPitch,
                                                Value w, int64_t wPitch,
                                                Value colBase, int64_t kSteps,
                                                int64_t nv) {
  assert(nv % 2 == 0 && "x4 B loads of two n tiles");
  SmallVector<Value> zeros(nv * 4, k.f(0.0));
  return k.loop(
      k.idx(0), k.idx(kSteps), k.idx(1), zeros,
      [&](Value ks, ValueRange in) -> SmallVector<Value> {
        SmallVector<Value> acc(in.begin(), in.end());
        Value kk = k.mul(ks, k.idx(16));
        Value aRow = row0 ? k.add(row0, ln.aRow) : ln.aRow;
        SmallVector<Value> af = load(
            a, k.add(k.mul(aRow, k.idx(aPitch)), k.add(kk, ln.aCol)), 4, false);
        Value wRow = k.mul(k.add(kk, ln.aRow), k.idx(wPitch));
        for (int64_t n = 0; n < nv; n += 2) {
          Value col =
              k.add(colBase, k.add(k.mul(ln.upper, k.idx(8)), k.idx(8 * n)));
          SmallVector<Value> bf = load(w, k.add(wRow, col), 4, true);
          for (int64_t h = 0; h < 2; ++h) {
            auto first = acc.begin() + (n + h) * 4;
            SmallVector<Value> cIn(first, first + 4);
            SmallVector<Value> d = mma(af, {bf[2 * h], bf[2 * h + 1]}, cIn);
            std::copy(d.begin(), d.end(), first);
          }
        }
        return acc;
      });
}

void mlir::attn::copyRowsAsync(KernelBuilder &k, Value src,
                               function_ref<Value(Value, Value)> srcAt,
                               int64_t rows, int64_t cols, Value dst,
                               int64_t dstPitch, Value tid, int64_t nt) {
  const int64_t chunk = 8, perRow = cols / chunk;
  assert(cols % chunk == 0 && "whole 16-byte copies");
  k.loop(tid, k.idx(rows * perRow), k.idx(nt), [&](Value c) {
    Value row = k.div(c, k.idx(perRow));
    Value col = k.mul(k.rem(c, k.idx(perRow)), k.idx(chunk));
    Value from = srcAt(row, col);
    k.copyAsync16(src, from, dst, k.add(k.mul(row, k.idx(dstPitch)), col),
                  chunk);
  });
}

MmaLane::MmaLane(KernelBuilder &k, Value tid) {
  lane = k.rem(tid, k.idx(32));
  warp = k.div(tid, k.idx(32));
  g = k.div(lane, k.idx(4));
  t4 = k.rem(lane, k.idx(4));
  Value l8 = k.rem(lane, k.idx(8));
  half = k.rem(k.div(lane, k.idx(8)), k.idx(2));
  upper = k.div(lane, k.idx(16));
  // A (x4): matrices 0-3 are (rows 0-7, k 0-7), (rows 8-15, k 0-7),
  // (rows 0-7, k 8-15), (rows 8-15, k 8-15).
  aRow = k.add(l8, k.mul(half, k.idx(8)));
  aCol = k.mul(upper, k.idx(8));
  // B (x4, two 8-row n tiles): (n 0-7, k 0-7), (n 0-7, k 8-15),
  // (n 8-15, k 0-7), (n 8-15, k 8-15).
  bRow = k.add(l8, k.mul(upper, k.idx(8)));
  bCol = k.mul(half, k.idx(8));
}

MmaStaging::MmaStaging(KernelBuilder &k, ForwardFrame &f, const FlashPlan &p)
    : lay(p.mmaLayout()), k(k), f(f), p(p) {
  ImplicitLocOpBuilder &b = k.b;
  smem = k.dynamicWorkgroupMemory();
  chunk = 16 / (cast<FloatType>(p.storage).getWidth() / 8);
  if (p.warpgroup) {
    // The 128-byte swizzle repeats every 1024 bytes of workgroup address:
    // the buffers start at the first such boundary of the allocation
    // (FlashPlan::MmaLayout leaves room for the shift).
    Value base = memref::ExtractAlignedPointerAsIndexOp::create(b, smem);
    shift = k.sub(k.mul(k.div(k.add(base, k.idx(1023)), k.idx(1024)),
                        k.idx(1024)),
                  base);
  }
  if (p.tensorMaps && p.group <= p.rowsPerBlock) {
    oneRowBlock = k.eq(gpu::GridDimOp::create(b, gpu::Dimension::x), k.idx(1));
    evictFirst = k.l2Policy("evict_first");
  }
  int64_t R = p.rowsPerBlock, N = p.tileRows;
  qs = view(lay.q, R * lay.qPitch, p.storage);
  kt = view(lay.k, p.stages * N * lay.kPitch, p.storage);
  vt = p.separate() ? view(lay.v, p.stages * N * lay.vPitch, p.storage) : kt;
}

Value MmaStaging::view(int64_t offset, int64_t n, Type elem) {
  Value at = shift ? k.add(shift, k.idx(offset)) : k.idx(offset);
  return k.workgroupView(smem, at, n, elem);
}

void MmaStaging::copy(Value src, Value srcAt, Value dst, Value dstAt,
                      Value valid) {
  k.copyAsync16(src, srcAt, dst, dstAt, chunk,
                k.select(valid, k.idx(chunk), k.idx(0)));
}

void MmaStaging::commit() { NVVM::CpAsyncCommitGroupOp::create(k.b); }

void MmaStaging::wait(int64_t pending) {
  NVVM::CpAsyncWaitGroupOp::create(k.b, pending);
}

void MmaStaging::staticLoop(int64_t count, Value index, int64_t threads,
                            function_ref<void(Value)> body) {
  // Unrolled when every thread takes the same number of steps: the index
  // arithmetic then depends on the thread only and leaves the tile loop.
  if (count % threads || count / threads > 16)
    return k.loop(index, k.idx(count), k.idx(threads), body);
  for (int64_t c = 0; c < count / threads; ++c)
    body(k.add(index, k.idx(c * threads)));
}

Value MmaStaging::at(Value r, Value c, int64_t pitch) {
  if (!p.warpgroup)
    return k.add(k.mul(r, k.idx(pitch)), c);
  // Core matrices: 8-row groups of `pitch` columns, each a run of 8 x 8
  // blocks (128 bytes) along the columns.
  Value group = k.mul(k.div(r, k.idx(8)), k.idx(8 * pitch));
  Value block = k.mul(k.div(c, k.idx(8)), k.idx(64));
  return k.add(k.add(group, block),
               k.add(k.mul(k.rem(r, k.idx(8)), k.idx(8)), k.rem(c, k.idx(8))));
}

Value MmaStaging::tileAt(Value n, Value c, int64_t pitch) {
  if (!p.warpgroup)
    return at(n, c, pitch);
  return swizzledAt(n, c, p.tileRows);
}

Value MmaStaging::swizzledAt(Value n, Value c, int64_t rows) {
  // 128-byte swizzle: 64-column blocks of the tile's rows, each row's 128
  // bytes contiguous with its 16-byte chunks permuted by (row mod 8), so
  // the 8 copies of one line of a row fill one line of workgroup memory.
  Value block = k.mul(k.div(c, k.idx(64)), k.idx(rows * 64));
  Value chunk8 = arith::XOrIOp::create(k.b, k.rem(k.div(c, k.idx(8)), k.idx(8)),
                                       k.rem(n, k.idx(8)));
  return k.add(k.add(block, k.mul(n, k.idx(64))),
               k.add(k.mul(chunk8, k.idx(8)), k.rem(c, k.idx(8))));
}

std::pair<Value, Value> MmaStaging::chunkAt(Value i, int64_t per,
                                            int64_t rows, Value first) {
  auto offset = [&](Value r) { return first ? k.add(first, r) : r; };
  if (!p.warpgroup || per % 8) {
    Value r = offset(k.div(i, k.idx(per)));
    return {r, k.mul(k.rem(i, k.idx(per)), k.idx(chunk))};
  }
  // Eight consecutive copies fill one 128-byte line of a row, then the next
  // rows: a warp reads whole lines of 4 rows, one L2 request each (the
  // swizzled tiles also store each line as one line of workgroup memory).
  Value line = k.div(i, k.idx(8));
  Value r = k.rem(line, k.idx(rows));
  Value c = k.add(k.mul(k.div(line, k.idx(rows)), k.idx(8)),
                  k.rem(i, k.idx(8)));
  return {offset(r), k.mul(c, k.idx(chunk))};
}

void MmaStaging::loadQuery() {
  int64_t R = p.rowsPerBlock, DK = p.keyWidth, qChunks = DK / chunk;
  Value one = k.idx(1);
  staticLoop(R * qChunks, f.tid, p.threads, [&](Value i) {
    auto [r, c] = chunkAt(i, qChunks, R);
    Value rho = k.add(f.rho0, r);
    Value rhoC = k.min(rho, k.sub(f.rowsTotal, one));
    // The narrow kernel reads the query rows as a K-major B operand, in
    // the tiles' swizzle.
    Value to = p.narrow ? swizzledAt(r, c, R) : at(r, c, lay.qPitch);
    copy(f.q, k.add(k.mul(f.queryRow(rhoC), k.idx(DK)), c), qs, to,
         k.lt(rho, f.rowsTotal));
  });
}

void MmaStaging::loadTile(Value j0, Value slot) {
  if (p.tensorMaps)
    return copyTileByTensorMaps(j0, slot);
  loadTileRows(j0, slot, k.idx(0), p.tileRows, f.tid, p.threads);
}

Value MmaStaging::sharedPointer(Value bytes) {
  ImplicitLocOpBuilder &b = k.b;
  Value base = memref::ExtractAlignedPointerAsIndexOp::create(b, smem);
  Value at = k.add(k.add(base, shift), bytes);
  return LLVM::IntToPtrOp::create(
      b, LLVM::LLVMPointerType::get(b.getContext(), /*shared=*/3),
      Value(arith::IndexCastOp::create(b, b.getI64Type(), at)));
}

Value MmaStaging::tileBarrier(Value slot) {
  return sharedPointer(k.add(k.idx(lay.barriers), k.mul(slot, k.idx(8))));
}

Value MmaStaging::blockBarrier(Value slot, int64_t block) {
  return tileBarrier(k.add(k.mul(slot, k.idx(p.tileBlocks())), k.idx(block)));
}

void MmaStaging::initTileBarriers() {
  ImplicitLocOpBuilder &b = k.b;
  Value one = arith::ConstantIntOp::create(b, b.getI32Type(), 1);
  k.ifThen(k.eq(f.tid, k.idx(0)), [&] {
    for (int64_t s = 0; s < p.tileBarriers(); ++s)
      NVVM::MBarrierInitOp::create(b, tileBarrier(k.idx(s)), one,
                                   /*predicate=*/Value());
    // Initialised before the async proxy (the copies) uses them.
    NVVM::FenceMbarrierInitOp::create(b);
  });
  k.barrier();
}

void MmaStaging::copyBlock(Value j0, Value slot, int64_t stream, int64_t column,
                           Value bar) {
  ImplicitLocOpBuilder &b = k.b;
  int64_t N = p.tileRows, eb = int64_t(p.elementBytes());
  auto i32 = [&](Value index) {
    return arith::IndexCastOp::create(b, b.getI32Type(), index);
  };
  const FlashPlan::TileStream s = p.tileStreams()[stream];
  int64_t offset = s.buffer ? lay.v : lay.k;
  int64_t pitch = s.buffer ? lay.vPitch : lay.kPitch;
  int64_t block = (s.column + column) / FlashPlan::kTileBlockColumns;
  Value tile = k.add(k.idx(offset), k.mul(slot, k.idx(N * pitch * eb)));
  // The block's N rows of 128 bytes, in the swizzle wgmma reads (the
  // tensor map's).
  Value dst = LLVM::AddrSpaceCastOp::create(
      b, LLVM::LLVMPointerType::get(b.getContext(), 7),
      sharedPointer(k.add(tile, k.idx(block * N * 128))));
  SmallVector<Value> at = {
      arith::ConstantIntOp::create(b, b.getI32Type(), column)};
  if (s.perHead)
    at.push_back(i32(f.gk));
  at.append({i32(j0), i32(f.bIdx)});
  auto copy = [&](Value hint) {
    NVVM::CpAsyncBulkTensorGlobalToSharedClusterOp::create(
        b, dst, f.tensorMaps[stream], at, bar, /*im2colOffsets=*/ValueRange(),
        /*multicastMask=*/Value(), /*l2CacheHint=*/hint,
        NVVM::TMALoadMode::TILE, /*isCTAOnly=*/false,
        /*group=*/NVVM::CTAGroupKindAttr(), /*predicate=*/Value());
  };
  if (!oneRowBlock)
    return copy(Value());
  k.ifThenElse(
      oneRowBlock, [&] { copy(evictFirst); }, [&] { copy(Value()); });
}

void MmaStaging::copyTileByTensorMaps(Value j0, Value slot) {
  ImplicitLocOpBuilder &b = k.b;
  k.ifThen(k.eq(f.tid, k.idx(0)), [&] {
    Value bar = tileBarrier(slot);
    NVVM::MBarrierArriveExpectTxOp::create(
        b, /*res=*/Type(), bar,
        arith::ConstantIntOp::create(b, b.getI32Type(), p.tileCopyBytes()),
        NVVM::MemScopeKind::CTA, /*relaxed=*/false, /*predicate=*/Value());
    for (auto [i, s] : llvm::enumerate(p.tileStreams()))
      for (int64_t c = 0; c < s.width; c += FlashPlan::kTileBlockColumns)
        copyBlock(j0, slot, i, c, bar);
  });
}

void MmaStaging::copyBlocks(Value j0, Value slot, ArrayRef<int64_t> blocks) {
  ImplicitLocOpBuilder &b = k.b;
  int64_t cols = FlashPlan::kTileBlockColumns;
  int64_t bytes = p.tileRows * cols * int64_t(p.elementBytes());
  SmallVector<FlashPlan::TileStream> streams = p.tileStreams();
  for (int64_t block : blocks) {
    // The stream whose columns hold the block (one buffer: no separate
    // value tiles).
    auto s = llvm::find_if(streams, [&](const FlashPlan::TileStream &s) {
      return block * cols >= s.column && block * cols < s.column + s.width;
    });
    assert(s != streams.end() && !s->buffer && "a block of the key tiles");
    Value bar = blockBarrier(slot, block);
    NVVM::MBarrierArriveExpectTxOp::create(
        b, /*res=*/Type(), bar,
        arith::ConstantIntOp::create(b, b.getI32Type(), bytes),
        NVVM::MemScopeKind::CTA, /*relaxed=*/false, /*predicate=*/Value());
    copyBlock(j0, slot, s - streams.begin(), block * cols - s->column, bar);
  }
}

void MmaStaging::waitBlock(Value slot, int64_t block, Value parity) {
  ImplicitLocOpBuilder &b = k.b;
  NVVM::MBarrierTryWaitParityOp::create(
      b, blockBarrier(slot, block),
      arith::IndexCastOp::create(b, b.getI32Type(), parity),
      arith::ConstantIntOp::create(b, b.getI32Type(), 1000000));
}

void MmaStaging::clearRowsPast(Value j0, Value slot, ArrayRef<int64_t> blocks,
                               Value index, int64_t threads) {
  int64_t N = p.tileRows;
  Value first = k.max(k.sub(f.jEnd, j0), k.idx(0));
  k.ifThen(k.lt(first, k.idx(N)), [&] {
    Value base = k.mul(slot, k.idx(N * lay.kPitch));
    for (int64_t block : blocks)
      zeroRowsFrom(kt, k.add(base, k.idx(block * N * 64)), 1, first, index,
                   threads);
  });
}

void MmaStaging::zeroRowsFrom(Value buf, Value base, int64_t blocks,
                              Value first, Value index, int64_t threads) {
  ImplicitLocOpBuilder &b = k.b;
  int64_t N = p.tileRows;
  auto zero = arith::ConstantOp::create(
      b, DenseElementsAttr::get(VectorType::get({chunk}, p.storage),
                                b.getFloatAttr(p.storage, 0.0)));
  staticLoop(N * blocks * 8, index, threads, [&](Value i) {
    Value r = k.div(i, k.idx(8));
    if (blocks > 1)
      r = k.rem(r, k.idx(N));
    k.ifThen(k.le(first, r), [&] {
      vector::StoreOp::create(b, zero, buf,
                              ValueRange{k.add(base, k.mul(i, k.idx(chunk)))},
                              /*nontemporal=*/false, llvm::MaybeAlign(16));
    });
  });
}

void MmaStaging::waitTile(Value j0, Value t, int64_t pending) {
  if (!p.tensorMaps)
    return wait(pending);
  ImplicitLocOpBuilder &b = k.b;
  int64_t N = p.tileRows, ST = p.stages;
  wait(0);
  Value parity = arith::IndexCastOp::create(
      b, b.getI32Type(), k.rem(k.div(t, k.idx(ST)), k.idx(2)));
  Value slot = k.rem(t, k.idx(ST));
  NVVM::MBarrierTryWaitParityOp::create(
      b, tileBarrier(slot), parity,
      arith::ConstantIntOp::create(b, b.getI32Type(), 1000000));
  // Rows first .. N - 1 of every 64-column block of the slot's tiles.
  Value first = k.max(k.sub(f.jEnd, j0), k.idx(0));
  k.ifThen(k.lt(first, k.idx(N)), [&] {
    auto clear = [&](Value buf, int64_t pitch) {
      zeroRowsFrom(buf, k.mul(slot, k.idx(N * pitch)), pitch / 64, first, f.tid,
                   p.threads);
    };
    clear(kt, lay.kPitch);
    if (p.separate())
      clear(vt, lay.vPitch);
  });
}

void MmaStaging::releaseTileBarriers() {
  if (!p.tensorMaps)
    return;
  k.barrier();
  k.ifThen(k.eq(f.tid, k.idx(0)), [&] {
    for (int64_t s = 0; s < p.tileBarriers(); ++s)
      NVVM::MBarrierInvalOp::create(k.b, tileBarrier(k.idx(s)));
  });
}

void MmaStaging::loadTileRows(Value j0, Value slot, Value first,
                              int64_t count, Value index, int64_t threads) {
  int64_t N = p.tileRows;
  Value one = k.idx(1);
  auto stream = [&](Value src, int64_t width, bool perHead, Value dst,
                    int64_t pitch, int64_t col0) {
    int64_t per = width / chunk;
    Value base = k.mul(slot, k.idx(N * pitch));
    staticLoop(count * per, index, threads, [&](Value i) {
      auto [n, c] = chunkAt(i, per, count, first);
      Value j = k.add(j0, n);
      Value jC = k.min(j, k.sub(f.L, one));
      Value row = k.add(k.mul(f.bIdx, f.L), jC); // b * L + j
      if (perHead)
        row = k.add(k.mul(row, f.Hkv), f.gk);
      copy(src, k.add(k.mul(row, k.idx(width)), c), dst,
           k.add(base, tileAt(n, k.add(c, k.idx(col0)), pitch)),
           k.lt(j, f.jEnd));
    });
  };
  if (p.separate()) {
    stream(f.keys, p.keyWidth, true, kt, lay.kPitch, 0);
    stream(f.values, p.valueWidth, true, vt, lay.vPitch, 0);
  } else {
    stream(f.rows, p.rowWidth, true, kt, lay.kPitch, 0);
    if (p.ropeDim)
      stream(f.rope, p.ropeDim, false, kt, lay.kPitch, p.rowWidth);
  }
}

void MmaStaging::loadScaledMatrix(Value src, Value scale, int64_t rows,
                                  int64_t cols, int64_t offset,
                                  function_ref<void()> whileCopying) {
  ImplicitLocOpBuilder &b = k.b;
  // Each thread copies one 16-byte column chunk c of rows r0 + i stride
  // (a warp reads whole rows) by cp.async, all in flight at once, then
  // scales the chunks it copied in place: its own copies need no barrier.
  // Addresses are a per-thread base plus constants: with stride a power of
  // two and r0 < stride, row r0 + i stride permutes chunks by
  // (c / 8 ^ r0) ^ (i stride mod 8). (Through registers, 8 loads in flight,
  // the L2 round trips took 8 us of MFA-KR's forward kernel at B=16; the
  // scaling with 2-byte accesses 6 us.)
  int64_t per = cols / chunk, stride = p.threads / per;
  assert(p.threads % per == 0 && llvm::isPowerOf2_64(stride) &&
         rows % stride == 0 && "whole rounds of rows");
  Value dst = view(offset, rows * llvm::alignTo(cols, 64), p.storage);
  Value c = k.mul(k.rem(f.tid, k.idx(per)), k.idx(chunk));
  Value r0 = k.div(f.tid, k.idx(per));
  Value c8 = k.rem(k.div(c, k.idx(8)), k.idx(8));
  Value perm = arith::XOrIOp::create(b, c8, k.rem(r0, k.idx(8)));
  Value dstBase =
      k.add(k.mul(k.div(c, k.idx(64)), k.idx(rows * 64)), k.mul(r0, k.idx(64)));
  Value srcBase = k.add(k.mul(r0, k.idx(cols)), c);
  llvm::SmallDenseMap<int64_t, Value, 8> chunkOf; // by i stride mod 8
  SmallVector<Value> at;
  for (int64_t i = 0; i < rows / stride; ++i) {
    int64_t key = i * stride % 8;
    Value &ch = chunkOf[key];
    if (!ch)
      ch = k.mul(arith::XOrIOp::create(b, perm, k.idx(key)), k.idx(8));
    at.push_back(k.add(k.add(dstBase, k.idx(i * stride * 64)), ch));
  }
  Value valid = arith::ConstantIntOp::create(b, b.getI1Type(), 1);
  for (int64_t i = 0; i < rows / stride; ++i)
    copy(src, k.add(srcBase, k.idx(i * stride * cols)), dst, at[i], valid);
  commit();
  whileCopying();
  wait(0);
  auto vec = VectorType::get({chunk}, p.storage);
  auto wide = VectorType::get({chunk}, b.getF32Type());
  // 16-byte accesses: without the alignment LLVM splits them by element.
  llvm::MaybeAlign align(16);
  Value a = arith::ExtFOp::create(
      b, wide,
      Value(vector::LoadOp::create(b, vec, scale, ValueRange{c},
                                   /*nontemporal=*/false, align)));
  for (int64_t i0 = 0; i0 < rows / stride; i0 += 8) {
    SmallVector<Value> m;
    int64_t n = std::min<int64_t>(8, rows / stride - i0);
    for (int64_t i = i0; i < i0 + n; ++i)
      m.push_back(vector::LoadOp::create(b, vec, dst, ValueRange{at[i]},
                                         /*nontemporal=*/false, align));
    for (int64_t i = i0; i < i0 + n; ++i) {
      Value x = arith::MulFOp::create(
          b, Value(arith::ExtFOp::create(b, wide, m[i - i0])), a);
      vector::StoreOp::create(b, arith::TruncFOp::create(b, vec, x), dst,
                              ValueRange{at[i]}, /*nontemporal=*/false, align);
    }
  }
}

void MmaStaging::prefetch(Value begin, function_ref<void(Value, Value)> fill,
                          int64_t from) {
  for (int64_t t = from; t + 1 < p.stages; ++t) {
    Value j = k.add(begin, k.idx(t * p.tileRows));
    k.ifThen(k.lt(j, f.jEnd), [&] { fill(j, k.idx(t)); });
    commit();
  }
}

SmallVector<Value> MmaStaging::loop(
    Value begin, ValueRange init, function_ref<void(Value, Value)> fill,
    function_ref<void()> handOff,
    function_ref<SmallVector<Value>(Value, Value, ValueRange)> body) {
  int64_t N = p.tileRows, ST = p.stages;
  SmallVector<Value> out = k.loop(
      begin, f.jEnd, k.idx(N), init,
      [&](Value j0, ValueRange in) -> SmallVector<Value> {
        // All but the newest ST - 2 groups are complete: tile t is in.
        Value t = k.div(k.sub(j0, begin), k.idx(N));
        Value slot = k.rem(t, k.idx(ST));
        wait(ST - 2);
        handOff();
        Value ahead = k.add(j0, k.idx((ST - 1) * N));
        k.ifThen(k.lt(ahead, f.jEnd), [&] {
          fill(ahead, k.rem(k.add(t, k.idx(ST - 1)), k.idx(ST)));
        });
        commit();
        return body(j0, slot, in);
      });
  // Drain the (zero-filled) copies of a block that had no tile to compute.
  wait(0);
  return out;
}
