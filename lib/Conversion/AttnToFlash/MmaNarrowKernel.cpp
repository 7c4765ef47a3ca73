//===- MmaNarrowKernel.cpp - wgmma (sm_90a) with the query rows as N ------===//
//
// The warpgroup kernel's narrow variant, for a decode step's 4 to 32 query
// rows per cache group (MQA, MLA-16, MTLA, Sun's GTA, GTA), which the 64-row
// form pads to wgmma's M of 64. Here the products are transposed, so that the
// rows are N (rounded up to 8) and the 64 cache rows of a tile are M:
//
//   scores  S^T[64 x R] = K Q^T   A: the key tile (K-major, 128-byte
//                                 swizzle), B: the query rows (K-major,
//                                 same swizzle)
//   softmax                       down each accumulator column (a query
//                                 row): a lane's two rows, its 8-lane
//                                 column by shuffles, the 4 warps through
//                                 workgroup memory, one barrier a tile
//   values  O^T[DV x R] += V^T P^T  A: the value tile read M-major (its
//                                 columns are M), one m64 block per 64
//                                 value columns; B: P^T, K-major
//
// One warpgroup holds every output (MLA-16: 8 blocks of 64 x 16, 64 f32 a
// thread). The loop takes one tile at a time (scores, softmax, values) with
// ST - 1 tiles in flight behind it. The outputs are staged through
// workgroup memory and stored as whole rows, in the forms the 64-row
// kernel stores (partial outputs, normalised rows, the result): one bulk
// copy a row where a later kernel reads them, the threads' 16-byte stores
// for the result and for the grid merge, which reads its partials back.
//
//===----------------------------------------------------------------------===//
#include "Wgmma.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::attn;

gpu::GPUFuncOp mlir::attn::buildMmaNarrowKernel(OpBuilder &ob, Location loc,
                                                const FlashPlan &p,
                                                StringRef name) {
  int64_t R = p.rowsPerBlock, N = p.tileRows, DK = p.keyWidth,
          DV = p.valueWidth, ST = p.stages;
  int64_t NR = R / 8;    // 8-column groups of an accumulator (query rows)
  int64_t MB = DV / 64;  // m64 blocks of the outputs
  int64_t nAcc = NR * 4; // a lane's accumulators per m64 block
  int64_t nCol = NR * 2; // a lane's query rows: 8 i + 2 t4 + e
  int64_t eb = int64_t(p.elementBytes());
  assert(p.narrow && N == 64 && p.threads == 128 && R % 8 == 0 &&
         "one warpgroup, 64-row tiles");

  gpu::GPUFuncOp func = makeMmaKernel(ob, loc, p, name);
  Block &entry = func.getBody().front();
  ImplicitLocOpBuilder b(loc, ob);
  b.setInsertionPointToStart(&entry);
  KernelBuilder k(b);
  const bool trace = p.traceBlocks;
  Value tEntry = trace ? k.timer() : Value();
  ForwardFrame f(k, entry, p);
  MmaStaging stage(k, f, p);
  const FlashPlan::MmaLayout &lay = stage.lay;
  MmaLane ln(k, f.tid);
  Warpgroup wg{b, p.storage.isBF16() ? NVVM::WGMMATypes::bf16
                                     : NVVM::WGMMATypes::f16};
  Type f32 = k.f32(), i64 = b.getI64Type();

  // The first tiles go out before the query rows where TMA copies them
  // (one thread), as in the 64-row kernel.
  auto loadTile = [&](Value j0, Value slot) { stage.loadTile(j0, slot); };
  Value jBegin = k.min(f.jBegin, f.jEnd);
  if (p.tensorMaps) {
    stage.initTileBarriers();
    stage.prefetch(jBegin, loadTile);
  }
  stage.loadQuery();
  stage.commit();
  if (!p.tensorMaps)
    stage.prefetch(jBegin, loadTile);

  // Workgroup addresses (i64) of the buffers, as descriptors take them.
  Value base = arith::IndexCastOp::create(
      b, i64, memref::ExtractAlignedPointerAsIndexOp::create(b, stage.qs));
  auto addr = [&](int64_t byteOffset) {
    return arith::AddIOp::create(b, base, wg.i64(byteOffset - lay.q));
  };
  auto tileAddr = [&](int64_t offset, Value slot, int64_t pitch) {
    return arith::AddIOp::create(
        b, addr(offset),
        arith::IndexCastOp::create(b, i64, k.mul(slot, k.idx(N * pitch * eb))));
  };
  // Byte of column `col` in row 0 of a swizzled buffer of `rows` rows.
  auto blockBytes = [&](int64_t col, int64_t rows) {
    return col / 64 * rows * 128 + col % 64 * eb;
  };
  Value ps = stage.view(lay.p, R * lay.pPitch, p.storage);
  Value mlBuf = stage.view(lay.ml, 6 * R, f32);

  // The lane's accumulator rows (cache rows of a tile, or value columns of
  // an m64 block) 16 w + 8 h + g, and columns (query rows) 8 i + 2 t4 + e,
  // column c = 2 i + e of the lane.
  Value warpRow0 = k.mul(ln.warp, k.idx(16));
  auto accRow = [&](int64_t h) {
    return k.add(warpRow0, k.add(k.idx(8 * h), ln.g));
  };
  SmallVector<Value> col, rho, rowValid;
  for (int64_t c = 0; c < nCol; ++c) {
    col.push_back(k.add(k.idx(8 * (c / 2) + c % 2), k.mul(ln.t4, k.idx(2))));
    rho.push_back(k.add(f.rho0, col.back()));
    rowValid.push_back(k.lt(rho.back(), f.rowsTotal));
  }
  // The accumulator of column c, row half h.
  auto accOf = [](int64_t c, int64_t h) { return c / 2 * 4 + 2 * h + c % 2; };
  // Max (or sum) over a column's 8 lanes (g), then its 4 warps through
  // workgroup memory (in warp order).
  auto columnReduce = [&](SmallVector<Value> v, bool max) {
    for (Value &x : v)
      for (int64_t off : {4, 8, 16}) {
        Value o = gpu::ShuffleOp::create(b, x, off, 32, gpu::ShuffleMode::XOR)
                      .getShuffleResult();
        x = max ? k.maxf(x, o) : k.addf(x, o);
      }
    k.ifThen(k.eq(ln.g, k.idx(0)), [&] {
      for (int64_t c = 0; c < nCol; ++c)
        k.store(v[c], mlBuf, k.add(k.mul(ln.warp, k.idx(R)), col[c]));
    });
    k.barrier();
    for (int64_t c = 0; c < nCol; ++c) {
      Value x = memref::LoadOp::create(b, mlBuf, col[c]);
      for (int64_t w = 1; w < 4; ++w) {
        Value y = memref::LoadOp::create(b, mlBuf, k.add(k.idx(w * R), col[c]));
        x = max ? k.maxf(x, y) : k.addf(x, y);
      }
      v[c] = x;
    }
    return v;
  };

  // P^T by stmatrix.trans, four fragments a store, where keys and values
  // are separate (MQA, Sun's GTA): the lane's accumulators of column group
  // i and row half h are an 8 x 8 mma fragment (cache rows 16 w + 8 h ..,
  // query rows 8 i ..) whose transpose lands with lane l giving the
  // address of row l % 8 (query row 8 i + l % 8) of fragment l / 8: 16
  // bytes of 8 cache rows, one chunk of the swizzle. MQA's loop is bound
  // by its compute, and its forward took 1-4% less time (B=16-64); the
  // latent loops wait on memory, measured 0.3-0.6 us slower end to end
  // with it, and store a probability at a time (docs/performance.md step
  // 100).
  MmaFragments frag{k, p.storage};
  auto storeTransposed = [&](ArrayRef<Value> s) {
    for (int64_t m0 = 0; m0 < 2 * NR; m0 += 4) {
      int64_t n = std::min<int64_t>(4, 2 * NR - m0);
      Value m = k.add(k.idx(m0), k.min(k.div(ln.lane, k.idx(8)), k.idx(n - 1)));
      Value q =
          k.add(k.mul(k.div(m, k.idx(2)), k.idx(8)), k.rem(ln.lane, k.idx(8)));
      Value c0 = k.add(warpRow0, k.mul(k.rem(m, k.idx(2)), k.idx(8)));
      Value at = k.add(memref::ExtractAlignedPointerAsIndexOp::create(b, ps),
                       k.mul(stage.swizzledAt(q, c0, R), k.idx(eb)));
      SmallVector<Value> regs;
      for (int64_t j = m0; j < m0 + n; ++j) {
        int64_t i = j / 2, h = j % 2;
        regs.push_back(frag.pack(s[i * 4 + 2 * h], s[i * 4 + 2 * h + 1]));
      }
      frag.store(LLVM::IntToPtrOp::create(
                     b,
                     LLVM::LLVMPointerType::get(b.getContext(), /*shared=*/3),
                     arith::IndexCastOp::create(b, i64, at).getResult()),
                 regs, /*trans=*/true);
    }
  };

  Value qDesc = wg.descriptor(addr(lay.q), 16, 1024, true);
  Value pDesc = wg.descriptor(addr(lay.p), 16, 1024, true);
  auto issueScores = [&](Value slot) {
    Value kDesc =
        wg.descriptor(tileAddr(lay.k, slot, lay.kPitch), 16, 1024, true);
    SmallVector<Value> s(nAcc, k.f(0.0));
    for (int64_t ks = 0; ks < DK / 16; ++ks)
      s = wg.mma(wg.advance(kDesc, blockBytes(p.tileKeyColumn(16 * ks), N)),
                 wg.advance(qDesc, blockBytes(16 * ks, R)), s,
                 /*zero=*/ks == 0, /*transB=*/false);
    wg.commit();
    return s;
  };
  // O^T += V^T P^T: each m64 block's 64 value columns (one 64-column block
  // of the tile, M-major), k steps of 16 cache rows (two 8-row groups of
  // 1024 bytes; 32 bytes along P^T's rows).
  auto issueValues = [&](Value slot, ArrayRef<Value> o) {
    Value vTile = p.separate() ? tileAddr(lay.v, slot, lay.vPitch)
                               : tileAddr(lay.k, slot, lay.kPitch);
    int64_t vBlock0 = (p.separate() ? 0 : p.valueBegin) / 64;
    Value vDesc = wg.descriptor(vTile, N * 128, 1024, true);
    SmallVector<Value> out(o.begin(), o.end());
    for (int64_t mb = 0; mb < MB; ++mb) {
      SmallVector<Value> acc(out.begin() + mb * nAcc,
                             out.begin() + (mb + 1) * nAcc);
      for (int64_t c = 0; c < N / 16; ++c)
        acc = wg.mma(wg.advance(vDesc, (vBlock0 + mb) * N * 128 + c * 2048),
                     wg.advance(pDesc, 32 * c), acc, /*zero=*/false,
                     /*transB=*/false, /*transA=*/true);
      std::copy(acc.begin(), acc.end(), out.begin() + mb * nAcc);
    }
    wg.commit();
    return out;
  };

  // Carried: the outputs O^T[mb][c, h], then per column the running max
  // (base 2) and the lane's share of the sum.
  int64_t nO = MB * nAcc;
  SmallVector<Value> init(nO, k.f(0.0));
  init.append(nCol, k.negInf());
  init.append(nCol, k.f(0.0));
  // Traced, carried after the state (kTraceCarried i64): when the first
  // and the last tile landed, when the last iteration ended, then the sums
  // over tiles of the wait for a tile (past the first), its scores, its
  // softmax up to P^T's stores and its value product, and the tiles.
  constexpr int64_t kTraceCarried = 8;
  auto i64c = [&](int64_t v) {
    return arith::ConstantIntOp::create(b, i64, v).getResult();
  };
  Value tLoop;
  if (trace) {
    tLoop = k.timer();
    init.append(
        {tLoop, tLoop, tLoop, i64c(0), i64c(0), i64c(0), i64c(0), i64c(0)});
  }
  SmallVector<Value> state = k.loop(
      jBegin, f.jEnd, k.idx(N), init,
      [&](Value j0, ValueRange in) -> SmallVector<Value> {
        Value t = k.div(k.sub(j0, jBegin), k.idx(N));
        Value slot = k.rem(t, k.idx(ST));
        stage.waitTile(j0, t, ST - 2);
        Value landed = trace ? k.timer() : Value();
        // Copies visible to wgmma's proxy, then to every warp; every warp
        // is done with tile t - 1, whose slot takes tile t + ST - 1.
        wg.handOff();
        Value ahead = k.add(j0, k.idx((ST - 1) * N));
        k.ifThen(k.lt(ahead, f.jEnd), [&] {
          loadTile(ahead, k.rem(k.add(t, k.idx(ST - 1)), k.idx(ST)));
        });
        stage.commit();
        wg.fence();
        SmallVector<Value> s = issueScores(slot);
        wg.wait(0);
        Value scored = trace ? k.timer() : Value();

        // Masked, scaled (base 2) scores; each column's max over the tile.
        SmallVector<Value> j;
        for (int64_t h = 0; h < 2; ++h)
          j.push_back(k.add(j0, accRow(h)));
        SmallVector<Value> tileMax;
        for (int64_t c = 0; c < nCol; ++c) {
          for (int64_t h = 0; h < 2; ++h) {
            Value vis = k.lt(j[h], f.jEnd);
            vis = k.land(vis, p.mask == Mask::None ? rowValid[c]
                                                   : f.visible(j[h], rho[c]));
            Value &x = s[accOf(c, h)];
            x = k.select(vis, k.mulf(x, k.f(p.scale * M_LOG2E)), k.negInf());
          }
          tileMax.push_back(k.maxf(s[accOf(c, 0)], s[accOf(c, 1)]));
        }
        tileMax = columnReduce(tileMax, /*max=*/true);

        SmallVector<Value> out(in.begin(), in.end());
        SmallVector<Value> alpha;
        Value grew = arith::ConstantIntOp::create(b, b.getI1Type(), 0);
        for (int64_t c = 0; c < nCol; ++c) {
          Value mOld = in[nO + c];
          Value mNew = k.maxf(mOld, tileMax[c]);
          Value mSafe = k.finiteMax(mNew);
          alpha.push_back(k.exp2(k.subf(mOld, mSafe)));
          grew = k.lor(grew, k.fgt(mNew, mOld));
          Value sum = k.f(0.0);
          for (int64_t h = 0; h < 2; ++h) {
            Value &x = s[accOf(c, h)];
            x = k.exp2(k.subf(x, mSafe));
            sum = k.addf(sum, x);
          }
          out[nO + c] = mNew;
          out[nO + nCol + c] = k.addf(k.mulf(in[nO + nCol + c], alpha[c]), sum);
        }
        SmallVector<Value> rescaled =
            rescaleIfAnyGrew(k, grew, ArrayRef<Value>(out).take_front(nO),
                             [&](MutableArrayRef<Value> o) {
                               for (int64_t i = 0; i < nO; ++i) {
                                 int64_t a = i % nAcc;
                                 o[i] = k.mulf(o[i], alpha[a / 4 * 2 + a % 2]);
                               }
                             });
        std::copy(rescaled.begin(), rescaled.end(), out.begin());

        // P^T into workgroup memory: query row (column) c's probabilities
        // along its row of 64 cache rows.
        if (p.separate())
          storeTransposed(s);
        else
          for (int64_t c = 0; c < nCol; ++c)
            for (int64_t h = 0; h < 2; ++h)
              memref::StoreOp::create(
                  b, arith::TruncFOp::create(b, p.storage, s[accOf(c, h)]), ps,
                  ValueRange{stage.swizzledAt(col[c], accRow(h), R)});
        Value softmaxed = trace ? k.timer() : Value();
        SmallVector<Value> o = wg.handOffAndWait([&] {
          return issueValues(slot, ArrayRef<Value>(out).take_front(nO));
        });
        std::copy(o.begin(), o.end(), out.begin());
        if (trace) {
          Value valued = k.timer();
          size_t at = out.size() - kTraceCarried;
          auto add = [&](Value x, Value y) {
            return arith::AddIOp::create(b, x, y).getResult();
          };
          auto since = [&](Value x, Value y) {
            return arith::SubIOp::create(b, x, y).getResult();
          };
          Value first = k.eq(t, k.idx(0));
          out[at] = arith::SelectOp::create(b, first, landed, in[at]);
          out[at + 1] = landed;
          out[at + 2] = valued;
          out[at + 3] = add(in[at + 3],
                            arith::SelectOp::create(b, first, i64c(0),
                                                    since(landed, in[at + 2])));
          out[at + 4] = add(in[at + 4], since(scored, landed));
          out[at + 5] = add(in[at + 5], since(softmaxed, scored));
          out[at + 6] = add(in[at + 6], since(valued, softmaxed));
          out[at + 7] = add(in[at + 7], i64c(1));
        }
        return out;
      });
  wg.wait(0);
  stage.wait(0);
  SmallVector<Value> stamps, tileSums;
  if (trace) {
    SmallVector<Value> carried(state.end() - kTraceCarried, state.end());
    state.resize(state.size() - kTraceCarried);
    stamps = {tEntry, tLoop, carried[0], carried[1], k.timer()};
    tileSums.assign(carried.begin() + 3, carried.end());
  }
  stage.releaseTileBarriers();

  // Each row's sum over the block, and its (max, sum) in workgroup memory
  // for whichever thread stores the row.
  k.barrier(); // every warp is done with the loop's exchanges
  SmallVector<Value> lSum = columnReduce(
      SmallVector<Value>(state.begin() + nO + nCol, state.end()), false);
  Value rowM = stage.view(lay.ml + 4 * R * 4, R, f32);
  Value rowL = stage.view(lay.ml + 5 * R * 4, R, f32);
  k.ifThen(k.land(k.eq(ln.g, k.idx(0)), k.eq(ln.warp, k.idx(0))), [&] {
    for (int64_t c = 0; c < nCol; ++c) {
      k.store(state[nO + c], rowM, col[c]);
      k.store(lSum[c], rowL, col[c]);
    }
  });
  // The outputs leave through workgroup memory: the lanes stage them (f32
  // partials, or normalised in the storage type), then lane r of warp 0
  // copies row r out with one bulk copy (cp.async.bulk), the rows that a
  // kernel after this one reads: the forward alone ended 0.2-1.0 us sooner
  // than with the threads' 16-byte stores (MTLA B=16, 32: 1.0, 0.6; MLA-16
  // 0.2; docs/performance.md step 94).
  Value oBuf = stage.view(lay.o, R * lay.oPitch, f32);
  const int64_t pitchS = DV + 8; // 16-bit rows: 16-byte aligned, and a
                                 // warp's writes (query rows 2 apart) meet
                                 // 4 banks apart
  auto stageRows = [&](bool normalised, bool bulk) {
    int64_t pitch = normalised ? pitchS : lay.oPitch;
    Value buf = normalised ? stage.view(lay.o, R * pitchS, p.storage) : oBuf;
    SmallVector<Value> inv;
    if (normalised)
      for (int64_t c = 0; c < nCol; ++c)
        inv.push_back(k.reciprocalOrZero(lSum[c]));
    for (int64_t mb = 0; mb < MB; ++mb)
      for (int64_t c = 0; c < nCol; ++c)
        for (int64_t h = 0; h < 2; ++h) {
          Value x = state[mb * nAcc + accOf(c, h)];
          if (normalised)
            x = arith::TruncFOp::create(b, p.storage, k.mulf(x, inv[c]));
          k.store(x, buf,
                  k.add(k.mul(col[c], k.idx(pitch)),
                        k.add(k.idx(64 * mb), accRow(h))));
        }
    // Visible to the bulk copies' proxy, then past every warp's writes.
    if (bulk)
      wg.fenceProxy();
    k.barrier();
    return buf;
  };
  // Row r of the staged rows (`pitchBytes` apart, `rowBytes` each) to `to`
  // at element rowAt(rho0 + r), for the rows that exist, kept in L2 ahead
  // of the rest for the kernel that reads them (0.3-1.0 us more off MLA-16
  // and MTLA B=16, step 96); the lane waits until its copy has read the
  // row (the block's memory may then go).
  auto bulkRows = [&](int64_t pitchBytes, int64_t rowBytes, Value to,
                      function_ref<Value(Value)> rowAt) {
    Value r = f.tid;
    k.ifThen(
        k.land(k.lt(r, k.idx(R)), k.lt(k.add(f.rho0, r), f.rowsTotal)), [&] {
          Type i64t = b.getI64Type();
          Value src = arith::AddIOp::create(
              b, addr(lay.o),
              arith::IndexCastOp::create(b, i64t, k.mul(r, k.idx(pitchBytes))));
          Value dstAt =
              k.add(memref::ExtractAlignedPointerAsIndexOp::create(b, to),
                    k.mul(rowAt(k.add(f.rho0, r)), k.idx(rowBytes / DV)));
          Value dst = LLVM::IntToPtrOp::create(
              b, LLVM::LLVMPointerType::get(b.getContext(), /*global=*/1),
              arith::IndexCastOp::create(b, i64t, dstAt).getResult());
          NVVM::CpAsyncBulkSharedCTAToGlobalOp::create(
              b, dst,
              LLVM::IntToPtrOp::create(
                  b, LLVM::LLVMPointerType::get(b.getContext(), /*shared=*/3),
                  src),
              arith::ConstantIntOp::create(b, b.getI32Type(), rowBytes),
              k.l2Policy("evict_last"), Value());
          NVVM::CpAsyncBulkCommitGroupOp::create(b);
          NVVM::CpAsyncBulkWaitGroupOp::create(b, 0, b.getUnitAttr());
        });
  };

  // Whole rows out by the threads, 16 bytes a store: `per` values of
  // staged row `row` from column `c0`, through `emit(row, rho, c0,
  // values)` for the rows that exist. For the grid merge's partials, read
  // back within this grid, and the result (with bulk copies MQA B=128's
  // step took 0.7% longer, run 9).
  auto forEachPiece = [&](int64_t per,
                          function_ref<void(Value, Value, Value, Value)> emit) {
    int64_t perRow = DV / per, pieces = R * perRow;
    auto vec = VectorType::get({per}, f32);
    for (int64_t i = 0, n = llvm::divideCeil(pieces, p.threads); i < n; ++i) {
      Value piece = k.add(f.tid, k.idx(i * p.threads));
      Value row = k.div(piece, k.idx(perRow));
      Value c0 = k.mul(k.rem(piece, k.idx(perRow)), k.idx(per));
      Value r = k.add(f.rho0, row);
      Value inside = k.lt(r, f.rowsTotal);
      if (pieces % p.threads)
        inside = k.land(inside, k.lt(piece, k.idx(pieces)));
      k.ifThen(inside, [&] {
        Value v = vector::LoadOp::create(
            b, vec, oBuf, ValueRange{k.add(k.mul(row, k.idx(lay.oPitch)), c0)},
            /*nontemporal=*/false, llvm::MaybeAlign(16));
        emit(row, r, c0, v);
      });
    }
  };
  auto storeRowStates = [&] {
    k.ifThen(
        k.land(k.lt(f.tid, k.idx(R)), k.lt(k.add(f.rho0, f.tid), f.rowsTotal)),
        [&] {
          f.storeRowState(k.add(f.rho0, f.tid),
                          memref::LoadOp::create(b, rowM, f.tid),
                          memref::LoadOp::create(b, rowL, f.tid));
        });
  };
  auto partRowAt = [&](Value r) { return k.mul(f.partRow(r), k.idx(DV)); };
  auto queryRowAt = [&](Value r) { return k.mul(f.queryRow(r), k.idx(DV)); };
  auto storePartials = [&] {
    stageRows(false, true);
    bulkRows(lay.oPitch * 4, DV * 4, f.oPart, partRowAt);
    storeRowStates();
  };
  // The rows normalised in the storage type (zeros for a row that saw
  // nothing), by the threads from the staged f32 rows, row r's at
  // `rowAt(r)` in `to`.
  auto storeNormalised = [&](Value to, function_ref<Value(Value)> rowAt) {
    stageRows(false, false);
    auto narrowVec = VectorType::get({8}, p.storage);
    forEachPiece(8, [&](Value row, Value r, Value c0, Value v) {
      Value inv = k.reciprocalOrZero(memref::LoadOp::create(b, rowL, row));
      Value x = arith::MulFOp::create(
          b, v, vector::BroadcastOp::create(b, v.getType(), inv));
      vector::StoreOp::create(b, arith::TruncFOp::create(b, narrowVec, x), to,
                              ValueRange{k.add(rowAt(r), c0)},
                              /*nontemporal=*/false, llvm::MaybeAlign(16));
    });
  };
  auto storeMergedPartials = [&] {
    if (p.gridMergeRows()) {
      storeNormalised(f.oRows, partRowAt);
    } else {
      stageRows(false, false);
      forEachPiece(4, [&](Value, Value r, Value c0, Value v) {
        vector::StoreOp::create(b, v, f.oPart,
                                ValueRange{k.add(partRowAt(r), c0)},
                                /*nontemporal=*/false, llvm::MaybeAlign(16));
      });
    }
    storeRowStates();
  };
  auto storeResult = [&] { storeNormalised(f.out, queryRowAt); };
  if (p.directOutput()) {
    Value single = f.storesResult();
    k.ifThen(single, storeResult);
    k.ifThen(k.lnot(single), [&] {
      if (!p.gridMerge())
        return storePartials();
      k.ifThenElse(f.mergesInGrid(), storeMergedPartials, storePartials);
    });
  } else if (p.normalisedRows()) {
    // For project_rows and project_slices: each split's rows normalised
    // in the storage type.
    k.ifThenElse(
        f.storesNormalisedRows(),
        [&] {
          stageRows(true, true);
          bulkRows(pitchS * eb, DV * eb, f.oRows, partRowAt);
          k.ifThen(k.lt(k.idx(1), f.S), storeRowStates);
        },
        storePartials);
  } else {
    storePartials();
  }
  // Traced: entry, loop start, first and last tile landed, loop end, stored,
  // exit, then the per-tile sums and the tiles.
  f.finishBlock([&] { return stage.gridMergeScratch(); }, p.threads, stamps,
                tileSums);
  gpu::ReturnOp::create(b);
  return func;
}
