//===- MmaWarpgroupKernel.cpp - wgmma (sm_90a), warpgroups per group -----===//
//
// The warpgroup form of the tensor-core kernel. A block holds 64 query rows
// of a cache group (fewer rows are padded) in one warpgroup, or two for
// values wider than 256 (warpgroup g owns value columns g DV/2 ..); its
// cache rows come in tiles of N rows, buffered ST deep by cp.async into
// workgroup memory, which wgmma reads through matrix descriptors:
//
//   scores  S[64 x N]  = Q K^T    wgmma m64n(N/VG)k16 per warpgroup (each
//                                 scores its share of the tile's rows); Q
//                                 in core matrices (8 rows x 16 bytes), the
//                                 tile in the 128-byte swizzled layout
//   softmax                       on the accumulators (warp w holds rows
//                                 16w .. 16w + 15, a row in one quad; two
//                                 warpgroups meet their row maxima in
//                                 workgroup memory)
//   values  O[64 x DV/VG] += P V  P written to workgroup memory as bf16/f16,
//                                 the value tile read transposed (it is the
//                                 key tile itself for tied and latent rows)
//
// Where mma.sync makes every warp read every tile from workgroup memory,
// wgmma reads it once per warpgroup. With three or more stages the loop is
// a pipeline (the softmax of tile t while tile t - 1's values are on the
// tensor cores); MmaTileLoop.cpp builds it, and MmaSeesawLoop.cpp the
// seesaw over tile pairs (MLA-128's full blocks on two stages). No key
// warps to merge: each thread writes its rows' (max, sum) and its partial
// outputs (through workgroup memory, in 16-byte pieces of a row, where a
// combine kernel reads them), after, for MFA-KR, one more product applying
// the post-transform.
//
//===----------------------------------------------------------------------===//
#include "Wgmma.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::attn;

WarpgroupFrame::WarpgroupFrame(KernelBuilder &k, ForwardFrame &f,
                               MmaStaging &stage, const FlashPlan &p,
                               MmaLane &ln, Warpgroup &wg)
    : k(k), f(f), stage(stage), p(p), ln(ln), wg(wg) {
  ImplicitLocOpBuilder &b = k.b;
  base = arith::IndexCastOp::create(
      b, b.getI64Type(),
      memref::ExtractAlignedPointerAsIndexOp::create(b, stage.qs));
  // Lane 0's warpgroup, which ptxas knows is the warp's: branches on it
  // are then not divergent (wgmma in a divergent path is serialized).
  Value g32 =
      arith::IndexCastOp::create(b, b.getI32Type(), k.div(ln.warp, k.idx(4)));
  group = arith::IndexCastOp::create(
      b, b.getIndexType(),
      gpu::ShuffleOp::create(b, g32, 0, 32, gpu::ShuffleMode::IDX)
          .getShuffleResult());
  mlBuf = stage.view(stage.lay.ml, 64 * p.warpgroups, k.f32());
  if (p.mask != Mask::StrideAwareCausal)
    for (int64_t h = 0; h < 2; ++h)
      rowEnd.push_back(f.visibleEnd(k.add(f.rho0, rowOf(h))));
  valueCol0 = k.mul(group, k.idx(p.valueWidth / p.warpgroups));
}

Value WarpgroupFrame::rowOf(int64_t h) {
  return k.add(k.mul(k.rem(ln.warp, k.idx(4)), k.idx(16)),
               k.add(k.idx(8 * h), ln.g));
}

Value WarpgroupFrame::addr(int64_t byteOffset) {
  return arith::AddIOp::create(k.b, base, wg.i64(byteOffset - stage.lay.q));
}

Value WarpgroupFrame::exponentiate(MutableArrayRef<Value> s, int64_t h,
                                   Value m) {
  Value mSafe = k.finiteMax(m);
  SmallVector<Value> xs;
  for (int64_t ns = 0; ns < int64_t(s.size()) / 4; ++ns)
    for (int64_t e = 0; e < 2; ++e) {
      Value &x = s[ns * 4 + 2 * h + e];
      x = k.exp2(k.subf(x, mSafe));
      xs.push_back(x);
    }
  // A balanced tree, like the max.
  return k.tree(xs, /*max=*/false);
}

Value WarpgroupFrame::maskedRowMax(MutableArrayRef<Value> s, int64_t h,
                                   Value col0, Value prev) {
  Value rho = k.add(f.rho0, rowOf(h));
  SmallVector<Value> xs = {prev};
  for (int64_t ns = 0; ns < int64_t(s.size()) / 4; ++ns)
    for (int64_t e = 0; e < 2; ++e) {
      Value &x = s[ns * 4 + 2 * h + e];
      Value j = k.add(col0, k.idx(8 * ns + e));
      Value vis = rowEnd.empty() ? k.land(f.visible(j, rho), k.lt(j, f.jEnd))
                                 : k.lt(j, rowEnd[h]);
      x = k.select(vis, k.mulf(x, k.f(p.scale * M_LOG2E)), k.negInf());
      xs.push_back(x);
    }
  // A balanced tree: each tile's softmax lies on its critical path.
  return k.laneReduce(k.tree(xs, /*max=*/true), 4, /*max=*/true);
}

gpu::GPUFuncOp mlir::attn::buildMmaWarpgroupKernel(OpBuilder &ob, Location loc,
                                                   const FlashPlan &p,
                                                   StringRef name) {
  int64_t DV = p.valueWidth, VG = p.warpgroups, NV = DV / VG / 8;

  gpu::GPUFuncOp func = makeMmaKernel(ob, loc, p, name);
  Block &entry = func.getBody().front();
  ImplicitLocOpBuilder b(loc, ob);
  b.setInsertionPointToStart(&entry);
  KernelBuilder k(b);
  const bool trace = p.traceBlocks;
  SmallVector<Value> stamps;
  if (trace)
    stamps.push_back(k.timer());
  ForwardFrame f(k, entry, p);
  MmaStaging stage(k, f, p);
  const FlashPlan::MmaLayout &lay = stage.lay;
  MmaLane ln(k, f.tid);
  Warpgroup wg{b, p.storage.isBF16() ? NVVM::WGMMATypes::bf16
                                     : NVVM::WGMMATypes::f16};
  Type f32 = k.f32();

  auto loadTile = [&](Value j0, Value slot) { stage.loadTile(j0, slot); };
  // The two-stage TMA loop's first tile (thread 0) goes out before the
  // query rows, which take every thread ~17 cp.async of address arithmetic
  // (MLA-16, MTLA ~1% faster at B=16-64); its waits cover every cp.async
  // group, the query's included. Measured slower for the seesaw's first
  // pair (MLA-128 +2-4%: the query's loads queue behind 147 KB), which
  // issues it after the query rows.
  bool tilesFirst = p.tensorMaps && !p.seesaw;
  Value jBegin;
  if (tilesFirst) {
    jBegin = k.min(f.jBegin, f.jEnd);
    stage.initTileBarriers();
    stage.prefetch(jBegin, loadTile);
  }
  // cp.async tiles at decode (plan.tileBeforeQuery): tile 0's copies go
  // out before the query rows', in their commit group; the loop's waits
  // count the groups after a tile's.
  if (p.tileBeforeQuery) {
    jBegin = k.min(f.jBegin, f.jEnd);
    k.ifThen(k.lt(jBegin, f.jEnd), [&] { loadTile(jBegin, k.idx(0)); });
  }
  stage.loadQuery();
  stage.commit();
  if (p.tileBeforeQuery)
    stage.prefetch(jBegin, loadTile, /*from=*/1);
  else if (!tilesFirst) {
    if (p.tensorMaps)
      stage.initTileBarriers();
    jBegin = k.min(f.jBegin, f.jEnd);
    if (!p.seesaw) // which issues its own first copies
      stage.prefetch(jBegin, loadTile);
  }

  WarpgroupFrame w(k, f, stage, p, ln, wg);
  auto handOff = [&] { w.handOff(); };
  // Workgroup addresses of the buffers, as descriptor arithmetic takes them.
  auto addr = [&](int64_t byteOffset) { return w.addr(byteOffset); };
  auto colBytes = WarpgroupFrame::colBytes;
  auto groupBytes = [&](int64_t pitch) { return w.groupBytes(pitch); };
  Value group = w.group, valueCol0 = w.valueCol0, mlBuf = w.mlBuf;
  auto rowOf = [&](int64_t h) { return w.rowOf(h); };
  int64_t nO = NV * 4;
  if (trace)
    stamps.push_back(k.timer());
  SmallVector<Value> state =
      p.seesaw ? w.seesawLoop(jBegin) : w.tileLoop(jBegin);
  wg.wait(0);
  stage.wait(0);
  if (trace)
    stamps.push_back(k.timer());
  stage.releaseTileBarriers();

  // Each row's sum: this lane's share, its quad's, then with two
  // warpgroups the other half of every tile's (same max in both).
  SmallVector<Value> lSum;
  for (int64_t h = 0; h < 2; ++h)
    lSum.push_back(k.laneReduce(state[nO + 2 + h], 4, /*max=*/false));
  if (VG > 1) {
    k.barrier(); // every warpgroup is done with the max exchange
    k.ifThen(k.eq(ln.t4, k.idx(0)), [&] {
      for (int64_t h = 0; h < 2; ++h)
        k.store(lSum[h], mlBuf, k.add(k.mul(group, k.idx(64)), rowOf(h)));
    });
    k.barrier();
    for (int64_t h = 0; h < 2; ++h) {
      lSum[h] = k.f(0.0);
      for (int64_t g = 0; g < VG; ++g)
        lSum[h] = k.addf(
            lSum[h],
            memref::LoadOp::create(b, mlBuf, k.add(k.idx(64 * g), rowOf(h))));
    }
  }
  // The lane's outputs of row half h at columns 8 nv + 2 t4 and + 1 (times
  // `scale` where given), and that first column.
  auto outPair = [&](int64_t h, int64_t nv, Value scale = Value()) -> Value {
    Value x = state[nv * 4 + 2 * h], y = state[nv * 4 + 2 * h + 1];
    if (scale) {
      x = k.mulf(x, scale);
      y = k.mulf(y, scale);
    }
    return vector::FromElementsOp::create(b, VectorType::get({2}, f32),
                                          ValueRange{x, y});
  };
  auto outCol = [&](int64_t nv) {
    return k.add(k.idx(8 * nv), k.mul(ln.t4, k.idx(2)));
  };
  auto storePair = VectorType::get({2}, p.storage);

  // The shared epilogue, o + alpha (o N), as one more product of the block
  // (one warpgroup, all value columns): the outputs, rounded to the storage
  // type, in the query rows' bytes as the A operand; N diag(alpha), rounded
  // likewise, where the tiles were; accumulated onto the f32 outputs.
  // Measured slower: adding alpha (o N) to the stored partial outputs (a
  // load after each store: 15 us at MFA-KR B=16), and (o N) in separate
  // accumulators, its whole or column slices (ptxas spills).
  if (p.forwardEpilogue) {
    k.barrier(); // every warp is done with the tiles and the query rows
    stage.loadScaledMatrix(f.transform, f.alpha, DV, DV, lay.transform, [&] {
      for (int64_t h = 0; h < 2; ++h)
        for (int64_t nv = 0; nv < NV; ++nv) {
          Value pair = outPair(h, nv);
          vector::StoreOp::create(
              b, arith::TruncFOp::create(b, storePair, pair), stage.qs,
              ValueRange{stage.at(rowOf(h), outCol(nv), lay.qPitch)},
              /*nontemporal=*/false, llvm::MaybeAlign(4));
        }
    });
    handOff();
    wg.fence();
    SmallVector<Value> o(state.begin(), state.begin() + nO);
    Value oBase =
        wg.descriptor(addr(lay.q), 128, groupBytes(lay.qPitch), false);
    Value nBase = wg.descriptor(addr(lay.transform), DV * 128, 1024, true);
    for (int64_t c = 0; c < DV / 16; ++c)
      o = wg.mma(wg.advance(oBase, colBytes(16 * c)),
                 wg.advance(nBase, 2 * c * 1024), o, /*zero=*/false,
                 /*transB=*/true);
    wg.commit();
    wg.wait(0);
    std::copy(o.begin(), o.end(), state.begin());
  }
  // Rows through workgroup memory where a combine kernel reads them:
  // straight from the accumulators a warp's store covers 8 rows x 32 bytes,
  // 8 partial lines (as 4-byte stores, 10% of MLA-128's warp samples in
  // ncu); staged, each lane stores 16 contiguous bytes of one row. Rows
  // padded by 8 elements, so the pair writes meet every bank once per 8
  // rows. `pairOf(h, nv)` is the lane's pair of row half h in `elem`, and
  // the row of query row rho starts at `rowAt(rho)` in `to`; `rowDone(h,
  // rho)` runs for each row the lane holds that exists, after its stores
  // (in the same branch where unstaged). Measured slower where the blocks
  // merge in the grid (MFA-KR +25%, MFA and MQA +1.5-2%), which keep the
  // direct stores, as does the result stored in `out` (`mayStage` false;
  // not measured staged).
  int64_t W = NV * 8;
  auto storeRows = [&](Type elem, function_ref<Value(int64_t, int64_t)> pairOf,
                       Value to, function_ref<Value(Value)> rowAt,
                       bool mayStage,
                       function_ref<void(int64_t, Value)> rowDone) {
    int64_t eb = elem.getIntOrFloatBitWidth() / 8, pitch = W + 8,
            perPiece = 16 / eb, piecesPerRow = W / perPiece;
    bool staged = mayStage && !p.gridMerge() &&
                  VG * 64 * pitch * eb <= lay.total && W % perPiece == 0;
    if (!staged) {
      for (int64_t h = 0; h < 2; ++h) {
        Value rho = k.add(f.rho0, rowOf(h));
        k.ifThen(k.lt(rho, f.rowsTotal), [&] {
          Value at = k.add(rowAt(rho), valueCol0);
          for (int64_t nv = 0; nv < NV; ++nv)
            vector::StoreOp::create(
                b, pairOf(h, nv), to, ValueRange{k.add(at, outCol(nv))},
                /*nontemporal=*/false, llvm::MaybeAlign(2 * eb));
          if (rowDone)
            rowDone(h, rho);
        });
      }
      return;
    }
    k.barrier(); // every warp is done with the tiles and the query rows
    Value buf = stage.view(0, VG * 64 * pitch, elem);
    Value rowBase = k.mul(group, k.idx(64 * pitch));
    for (int64_t h = 0; h < 2; ++h)
      for (int64_t nv = 0; nv < NV; ++nv)
        vector::StoreOp::create(
            b, pairOf(h, nv), buf,
            ValueRange{k.add(rowBase,
                             k.add(k.mul(rowOf(h), k.idx(pitch)), outCol(nv)))},
            /*nontemporal=*/false, llvm::MaybeAlign(2 * eb));
    k.barrier();
    Value t = k.rem(f.tid, k.idx(128));
    auto pieceType = VectorType::get({perPiece}, elem);
    int64_t pieces = 64 * piecesPerRow;
    for (int64_t i = 0, n = llvm::divideCeil(pieces, 128); i < n; ++i) {
      Value piece = k.add(t, k.idx(128 * i));
      Value row = k.div(piece, k.idx(piecesPerRow));
      Value col = k.mul(k.rem(piece, k.idx(piecesPerRow)), k.idx(perPiece));
      Value rho = k.add(f.rho0, row);
      Value inside = k.lt(rho, f.rowsTotal);
      if (pieces % 128)
        inside = k.land(inside, k.lt(piece, k.idx(pieces)));
      k.ifThen(inside, [&] {
        Value v = vector::LoadOp::create(
            b, pieceType, buf,
            ValueRange{k.add(rowBase, k.add(k.mul(row, k.idx(pitch)), col))},
            /*nontemporal=*/false, llvm::MaybeAlign(16));
        vector::StoreOp::create(
            b, v, to, ValueRange{k.add(rowAt(rho), k.add(valueCol0, col))},
            /*nontemporal=*/false, llvm::MaybeAlign(16));
      });
    }
    if (rowDone)
      for (int64_t h = 0; h < 2; ++h) {
        Value rho = k.add(f.rho0, rowOf(h));
        k.ifThen(k.lt(rho, f.rowsTotal), [&] { rowDone(h, rho); });
      }
  };
  // Row rho's (max, sum), by one lane of its quad.
  auto storeRowState = [&](int64_t h, Value rho) {
    Value l = lSum[h];
    Value writer = k.land(k.eq(ln.t4, k.idx(0)), k.eq(group, k.idx(0)));
    k.ifThen(writer, [&] { f.storeRowState(rho, state[nO + h], l); });
  };
  // Where query row rho's row of this split starts: in o_part or o_rows,
  // or in `out`.
  auto partRowAt = [&](Value rho) { return k.mul(f.partRow(rho), k.idx(DV)); };
  auto queryRowAt = [&](Value rho) {
    return k.mul(f.queryRow(rho), k.idx(DV));
  };
  auto storePartials = [&] {
    storeRows(
        f32, [&](int64_t h, int64_t nv) { return outPair(h, nv); }, f.oPart,
        partRowAt, /*mayStage=*/true, storeRowState);
  };
  // The rows normalised and rounded to the storage type (a row that saw
  // nothing stores zeros, as the combine would), the row at `rowAt(rho)`.
  auto storeNormalised = [&](Value to, function_ref<Value(Value)> rowAt,
                             bool mayStage,
                             function_ref<void(int64_t, Value)> rowDone) {
    Value inv[2] = {k.reciprocalOrZero(lSum[0]), k.reciprocalOrZero(lSum[1])};
    storeRows(
        p.storage,
        [&](int64_t h, int64_t nv) -> Value {
          return arith::TruncFOp::create(b, storePair, outPair(h, nv, inv[h]));
        },
        to, rowAt, mayStage, rowDone);
  };
  // The rows normalised in a 16-bit storage type, 4 adjacent values a lane:
  // a quad's lanes hold 2 adjacent values of each 8-column block; lanes t4
  // and t4 ^ 1 swap one pair of each two blocks, so that a warp's store
  // fills 8 rows x 32 bytes, whole sectors (stored a pair a lane, the rows
  // took as many sector writes as f32 partials, and MFA B=16 no less time).
  // Shuffled outside the per-row branch, so every lane takes part (the
  // branches around it are the block's). Buffers are 16-byte aligned and
  // rows a multiple of 8 values: each lane's 8 bytes are aligned.
  auto storeQuads = [&](Value to, function_ref<Value(Value)> rowAt,
                        function_ref<void(int64_t, Value)> rowDone) {
    if (NV % 2 || p.elementBytes() != 2 || DV % 8)
      return storeNormalised(to, rowAt, false, rowDone);
    Type i32 = b.getI32Type();
    auto i32x2 = VectorType::get({2}, i32);
    auto quad = VectorType::get({4}, p.storage);
    // Lane t4 stores columns 2 t4 .. + 3 of block 2j (t4 even) or
    // 2 (t4 - 1) .. + 3 of block 2j + 1 (t4 odd).
    Value parity = k.rem(ln.t4, k.idx(2));
    Value odd = k.eq(parity, k.idx(1));
    Value col0 =
        k.add(k.mul(parity, k.idx(8)), k.mul(k.sub(ln.t4, parity), k.idx(2)));
    auto packed = [&](int64_t h, int64_t nv, Value inv) -> Value {
      Value pair = arith::TruncFOp::create(b, storePair, outPair(h, nv, inv));
      return vector::ExtractOp::create(
          b, vector::BitCastOp::create(b, VectorType::get({1}, i32), pair), 0);
    };
    for (int64_t h = 0; h < 2; ++h) {
      Value inv = k.reciprocalOrZero(lSum[h]);
      SmallVector<Value> quads;
      for (int64_t j = 0; j < NV / 2; ++j) {
        Value a = packed(h, 2 * j, inv), c = packed(h, 2 * j + 1, inv);
        Value y = gpu::ShuffleOp::create(b, k.select(odd, a, c), 1, 32,
                                         gpu::ShuffleMode::XOR)
                      .getShuffleResult();
        Value v = vector::FromElementsOp::create(
            b, i32x2, ValueRange{k.select(odd, y, a), k.select(odd, c, y)});
        quads.push_back(vector::BitCastOp::create(b, quad, v));
      }
      Value rho = k.add(f.rho0, rowOf(h));
      k.ifThen(k.lt(rho, f.rowsTotal), [&] {
        Value at = k.add(k.add(rowAt(rho), valueCol0), col0);
        for (int64_t j = 0; j < NV / 2; ++j)
          vector::StoreOp::create(b, quads[j], to,
                                  ValueRange{k.add(at, k.idx(16 * j))},
                                  /*nontemporal=*/false, llvm::MaybeAlign(8));
        if (rowDone)
          rowDone(h, rho);
      });
    }
  };
  if (p.directOutput()) {
    // One split: the result itself in `out`, no combine follows.
    Value single = f.storesResult();
    k.ifThen(single, [&] { storeQuads(f.out, queryRowAt, nullptr); });
    k.ifThen(k.lnot(single), [&] {
      if (!p.gridMergeRows())
        return storePartials();
      // Merged in the grid: the rows normalised, in half the bytes.
      k.ifThenElse(
          f.mergesInGrid(),
          [&] { storeQuads(f.oRows, partRowAt, storeRowState); },
          storePartials);
    });
  } else if (p.normalisedRows()) {
    // For project_rows, which merges them (with each split's (max, sum))
    // or, at one split, takes them as they are.
    k.ifThenElse(
        f.storesNormalisedRows(),
        [&] {
          Value several = k.lt(k.idx(1), f.S);
          storeNormalised(f.oRows, partRowAt, /*mayStage=*/true,
                          [&](int64_t h, Value rho) {
                            k.ifThen(several, [&] { storeRowState(h, rho); });
                          });
        },
        storePartials);
  } else {
    storePartials();
  }
  // Traced: entry, loop start, loop end, stored, exit.
  f.finishBlock([&] { return stage.gridMergeScratch(); }, p.threads, stamps);
  gpu::ReturnOp::create(b);
  return func;
}
