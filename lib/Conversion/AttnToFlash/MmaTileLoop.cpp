//===- MmaTileLoop.cpp - the wgmma kernel's loop over single tiles --------===//
//
// The cache loop of the warpgroup kernel (MmaWarpgroupKernel.cpp) where it
// takes one tile at a time: two stages (each tile's copies waited for, then
// its scores, softmax and P V in turn, only the copies overlapping) or,
// with three or more, a pipeline (the softmax of tile t while tile t - 1's
// P V is on the tensor cores).
//
//===----------------------------------------------------------------------===//
#include "Wgmma.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::attn;

SmallVector<Value> WarpgroupFrame::tileLoop(Value jBegin) {
  ImplicitLocOpBuilder &b = k.b;
  const FlashPlan::MmaLayout &lay = stage.lay;
  int64_t N = p.tileRows, DK = p.keyWidth, DV = p.valueWidth;
  int64_t VG = p.warpgroups, NG = N / VG, DG = DV / VG;
  int64_t NS = NG / 8, NV = DG / 8;
  int64_t eb = int64_t(p.elementBytes());
  Type f32 = k.f32(), i64 = b.getI64Type();
  auto loadTile = [&](Value j0, Value slot) { stage.loadTile(j0, slot); };
  // Byte address of the tile in `slot` of the buffer at `offset`.
  auto tileAddr = [&](int64_t offset, Value slot, int64_t pitch) {
    return arith::AddIOp::create(
        b, addr(offset),
        arith::IndexCastOp::create(b, i64, k.mul(slot, k.idx(N * pitch * eb))));
  };
  // Byte of column `col` in row 0 of a swizzled tile: its 64-column block
  // (N rows of 128 bytes), then the column (row 0 is not permuted).
  auto blockBytes = [&](int64_t col) {
    return col / 64 * N * 128 + col % 64 * eb;
  };
  Value ps = stage.view(lay.p, p.rowsPerBlock * lay.pPitch, p.storage);

  // Warpgroup g scores tile rows g NG .. and owns value columns g DG ..
  Value keyRow0 = k.mul(group, k.idx(NG));
  auto asI64 = [&](Value index) {
    return arith::IndexCastOp::create(b, i64, index);
  };

  // Scores of the tile in `slot`: one wgmma chain over the key view's
  // 16-column steps, issued and committed, not waited for.
  auto issueScores = [&](Value slot) {
    Value kTile = tileAddr(lay.k, slot, lay.kPitch);
    // This warpgroup's rows of the tile, 128 bytes each.
    Value kRows =
        arith::AddIOp::create(b, kTile, asI64(k.mul(keyRow0, k.idx(128))));
    SmallVector<Value> s(NS * 4, k.f(0.0));
    Value qBase =
        wg.descriptor(addr(lay.q), 128, groupBytes(lay.qPitch), false);
    Value kBase = wg.descriptor(kRows, 16, 1024, true);
    for (int64_t ks = 0; ks < DK / 16; ++ks) {
      // The key view's 16 columns of this step, wherever the tile holds
      // them (the row, then the shared rotary key): inside one 64-column
      // block (FlashPlan checks), 2 bytes a column.
      int64_t c0 = p.tileKeyColumn(16 * ks);
      s = wg.mma(wg.advance(qBase, colBytes(16 * ks)),
                 wg.advance(kBase, blockBytes(c0)), s, /*zero=*/ks == 0,
                 /*transB=*/false);
    }
    wg.commit();
    return s;
  };
  // O += P V for the tile in `slot`, issued and committed.
  auto issueValues = [&](Value slot, ArrayRef<Value> o) {
    Value vTile = p.separate() ? tileAddr(lay.v, slot, lay.vPitch)
                               : tileAddr(lay.k, slot, lay.kPitch);
    // This warpgroup's value columns: whole 64-column blocks.
    Value vCols = arith::AddIOp::create(
        b, vTile, asI64(k.mul(k.div(valueCol0, k.idx(64)), k.idx(N * 128))));
    int64_t vCol = p.separate() ? 0 : p.valueBegin;
    // k steps of 16 tile rows (two 8-row groups of 1024 bytes); the value
    // tile is read transposed, its columns the n dimension.
    SmallVector<Value> out(o.begin(), o.end());
    Value pBase =
        wg.descriptor(addr(lay.p), 128, groupBytes(lay.pPitch), false);
    Value vBase = wg.descriptor(vCols, N * 128, 1024, true);
    for (int64_t c = 0; c < N / 16; ++c)
      out = wg.mma(wg.advance(pBase, colBytes(16 * c)),
                   wg.advance(vBase, blockBytes(vCol) + 2 * c * 1024), out,
                   /*zero=*/false, /*transB=*/true);
    wg.commit();
    return out;
  };

  // With three or more stages, a pipeline: iteration t holds tile t's
  // scores; it runs the softmax while tile t - 1's P V is still on the
  // tensor cores, then issues tile t + 1's scores and tile t's P V together
  // and waits for the scores only. Tiles t and t + 1 are in use and t - 1
  // is free once its P V is done: the copies of tile t + ST - 1 go into
  // its slot. With two (the only depth that fits 72 KB tiles next to
  // MLA's query rows), each iteration waits for its copies, scores, runs
  // the softmax and P V in turn, and only the copies overlap.
  int64_t nO = NV * 4, ST = p.stages;
  bool pipelined = ST >= 3;
  auto fillAhead = [&](Value j0, Value t) {
    Value ahead = k.add(j0, k.idx((ST - 1) * N));
    k.ifThen(k.lt(ahead, f.jEnd), [&] {
      loadTile(ahead, k.rem(k.add(t, k.idx(ST - 1)), k.idx(ST)));
    });
    stage.commit();
  };
  // Carried: O[nv][4] (rows g, g + 8; columns 8 nv + 2 t4, + 1), then per
  // row half h the running max (base 2) and this lane's share of the sum,
  // then (pipelined) the tile's scores S[ns][4].
  SmallVector<Value> init(nO, k.f(0.0));
  init.append(2, k.negInf());
  init.append(2, k.f(0.0));
  if (pipelined) {
    // The query rows and tile 0 (by TMA: only where the block has a tile,
    // or no copy would complete its mbarrier).
    if (p.tensorMaps) {
      stage.wait(0);
      k.ifThen(k.lt(jBegin, f.jEnd),
               [&] { stage.waitTile(jBegin, k.idx(0), 0); });
    } else {
      stage.wait(ST - 2);
    }
    handOff();
    wg.fence();
    SmallVector<Value> s0 = issueScores(k.idx(0));
    wg.wait(0);
    init.append(s0.begin(), s0.end());
  }
  return k.loop(
      jBegin, f.jEnd, k.idx(N), init,
      [&](Value j0, ValueRange in) -> SmallVector<Value> {
        Value t = k.div(k.sub(j0, jBegin), k.idx(N));
        Value slot = k.rem(t, k.idx(ST));
        SmallVector<Value> s(in.begin() + nO + 4, in.end());
        if (!pipelined) {
          stage.waitTile(j0, t, ST - 2);
          handOff();
          fillAhead(j0, t);
          wg.fence();
          s = issueScores(slot);
          wg.wait(0);
        }
        // Online softmax on the accumulators (base 2).
        SmallVector<Value> out(in.begin(), in.begin() + nO + 4);
        SmallVector<Value> alphas;
        Value grew = arith::ConstantIntOp::create(b, b.getI1Type(), 0);
        Value col0 = k.add(k.add(j0, keyRow0), k.mul(ln.t4, k.idx(2)));
        // The sum below as a balanced tree too.
        SmallVector<Value> rowMax;
        for (int64_t h = 0; h < 2; ++h)
          rowMax.push_back(maskedRowMax(s, h, col0, in[nO + h]));
        // With two warpgroups, each row's max over both halves of the
        // tile.
        if (VG > 1) {
          k.ifThen(k.eq(ln.t4, k.idx(0)), [&] {
            for (int64_t h = 0; h < 2; ++h)
              k.store(rowMax[h], mlBuf,
                      k.add(k.mul(group, k.idx(64)), rowOf(h)));
          });
          k.barrier();
          for (int64_t h = 0; h < 2; ++h)
            for (int64_t g = 0; g < VG; ++g)
              rowMax[h] = k.maxf(rowMax[h],
                                 memref::LoadOp::create(
                                     b, mlBuf, k.add(k.idx(64 * g), rowOf(h))));
        }
        for (int64_t h = 0; h < 2; ++h) {
          Value mx = rowMax[h];
          Value mSafe = k.finiteMax(mx);
          Value alpha = k.exp2(k.subf(in[nO + h], mSafe));
          Value sum = exponentiate(s, h, mx);
          grew = k.lor(grew, k.fgt(mx, in[nO + h]));
          out[nO + h] = mx;
          Value &l = out[nO + 2 + h];
          l = k.addf(k.mulf(l, alpha), sum);
          alphas.push_back(alpha);
        }
        // Tile t - 1's P V is done: its outputs, P and slot are free.
        wg.wait(0);
        // Rescale the outputs only where some row of the warp grew.
        SmallVector<Value> rescaled =
            rescaleIfAnyGrew(k, grew, ArrayRef<Value>(out).take_front(nO),
                             [&](MutableArrayRef<Value> scaled) {
                               for (int64_t i = 0; i < nO; ++i)
                                 scaled[i] =
                                     k.mulf(scaled[i], alphas[(i % 4) / 2]);
                             });
        std::copy(rescaled.begin(), rescaled.end(), out.begin());

        // P into workgroup memory (core matrices, k = the tile's
        // rows): a lane's pair (row r, columns 8 ns + 2 t4, + 1) is
        // one 4-byte store, a warp's 32 stores one 128-byte line.
        auto pairType = VectorType::get({2}, p.storage);
        for (int64_t h = 0; h < 2; ++h)
          for (int64_t ns = 0; ns < NS; ++ns) {
            Value pair = vector::FromElementsOp::create(
                b, VectorType::get({2}, f32),
                ValueRange{s[ns * 4 + 2 * h], s[ns * 4 + 2 * h + 1]});
            pair = arith::TruncFOp::create(b, pairType, pair);
            Value at = stage.at(
                rowOf(h),
                k.add(keyRow0, k.add(k.idx(8 * ns), k.mul(ln.t4, k.idx(2)))),
                lay.pPitch);
            vector::StoreOp::create(b, pair, ps, ValueRange{at},
                                    /*nontemporal=*/false, llvm::MaybeAlign(4));
          }
        // P (and, pipelined, tile t + 1) visible to every warpgroup's
        // wgmma; then, pipelined, the copies of tile t + ST - 1 into
        // tile t - 1's slot.
        if (!pipelined) {
          SmallVector<Value> o = wg.handOffAndWait([&] {
            return issueValues(slot, ArrayRef<Value>(out).take_front(nO));
          });
          std::copy(o.begin(), o.end(), out.begin());
          return out;
        }
        wg.fenceProxy();
        // Tile t + 1 (by TMA: its mbarrier, where it exists; past the
        // range its scores are issued on stale bytes and never used).
        if (p.tensorMaps) {
          Value j1 = k.add(j0, k.idx(N));
          k.ifThen(k.lt(j1, f.jEnd), [&] {
            stage.waitTile(j1, k.add(t, k.idx(1)), 0);
          });
        } else {
          stage.wait(ST - 3);
        }
        handOff();
        fillAhead(j0, t);
        wg.fence();
        SmallVector<Value> next =
            issueScores(k.rem(k.add(t, k.idx(1)), k.idx(ST)));
        SmallVector<Value> o =
            issueValues(slot, ArrayRef<Value>(out).take_front(nO));
        wg.wait(1); // the scores only
        std::copy(o.begin(), o.end(), out.begin());
        out.append(next.begin(), next.end());
        return out;
      });
}
