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
// tensor cores). No key warps to merge: each thread writes its partial
// outputs and its rows' (max, sum) straight from the accumulators, after,
// for MFA-KR, one more product applying the post-transform.
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
  int64_t N = p.tileRows, DK = p.keyWidth, DV = p.valueWidth;
  int64_t VG = p.warpgroups, NG = N / VG, DG = DV / VG;
  int64_t NS = NG / 8, NV = DG / 8;
  int64_t eb = int64_t(p.elementBytes());

  gpu::GPUFuncOp func = makeMmaKernel(ob, loc, p, name);
  Block &entry = func.getBody().front();
  ImplicitLocOpBuilder b(loc, ob);
  b.setInsertionPointToStart(&entry);
  KernelBuilder k(b);
  ForwardFrame f(k, entry, p);
  MmaStaging stage(k, f, p);
  const FlashPlan::MmaLayout &lay = stage.lay;
  MmaLane ln(k, f.tid);
  Warpgroup wg{b, p.storage.isBF16() ? NVVM::WGMMATypes::bf16
                                     : NVVM::WGMMATypes::f16};
  Type f32 = k.f32(), i64 = b.getI64Type();

  auto loadTile = [&](Value j0, Value slot) { stage.loadTile(j0, slot); };
  // Copies land, become visible to wgmma's proxy, then to every warp.
  auto handOff = [&] {
    wg.fenceProxy();
    k.barrier();
  };
  stage.loadQuery();
  stage.commit();
  if (p.tensorMaps)
    stage.initTileBarriers();
  Value jBegin = k.min(f.jBegin, f.jEnd);
  if (!p.seesaw) // which issues its own first copies
    stage.prefetch(jBegin, loadTile);

  WarpgroupFrame w(k, f, stage, p, ln, wg);
  // Workgroup addresses of the buffers, as descriptor arithmetic takes them.
  auto addr = [&](int64_t byteOffset) { return w.addr(byteOffset); };
  // Byte address of the tile in `slot` of the buffer at `offset`.
  auto tileAddr = [&](int64_t offset, Value slot, int64_t pitch) {
    return arith::AddIOp::create(
        b, addr(offset),
        arith::IndexCastOp::create(b, i64, k.mul(slot, k.idx(N * pitch * eb))));
  };
  // Core matrices of a buffer with `pitch` columns sit 128 bytes apart
  // along the columns and 8 x pitch elements apart down the rows.
  auto colBytes = [](int64_t col) { return col / 8 * 128; };
  auto groupBytes = [&](int64_t pitch) { return 8 * pitch * eb; };
  // Byte of column `col` in row 0 of a swizzled tile: its 64-column block
  // (N rows of 128 bytes), then the column (row 0 is not permuted).
  auto blockBytes = [&](int64_t col) {
    return col / 64 * N * 128 + col % 64 * eb;
  };
  Value ps = stage.view(lay.p, p.rowsPerBlock * lay.pPitch, p.storage);

  // Warpgroup g scores tile rows g NG .. and owns value columns g DG ..
  Value group = w.group;
  Value keyRow0 = k.mul(group, k.idx(NG));
  Value valueCol0 = k.mul(group, k.idx(DG));
  Value mlBuf = w.mlBuf;
  auto rowOf = [&](int64_t h) { return w.rowOf(h); };
  auto asI64 = [&](Value index) {
    return arith::IndexCastOp::create(b, i64, index);
  };

  // Scores of the tile in `slot`: one wgmma chain over the key view's
  // 16-column steps, issued and committed, not waited for.
  auto issueScores = [&](Value slot) {
    Value kTile = tileAddr(lay.k, slot, lay.kPitch);
    // This warpgroup's rows of the tile, 128 bytes each.
    Value kRows = arith::AddIOp::create(
        b, kTile, asI64(k.mul(keyRow0, k.idx(128))));
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
  assert(!(pipelined && p.tensorMaps) && "tensor maps in the two-stage loop");
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
    stage.wait(ST - 2); // the query rows and tile 0
    handOff();
    wg.fence();
    SmallVector<Value> s0 = issueScores(k.idx(0));
    wg.wait(0);
    init.append(s0.begin(), s0.end());
  }
  SmallVector<Value> state =
      p.seesaw
          ? buildSeesawLoop(w, jBegin)
          : k.loop(
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
                  Value grew =
                      arith::ConstantIntOp::create(b, b.getI1Type(), 0);
                  Value col0 =
                      k.add(k.add(j0, keyRow0), k.mul(ln.t4, k.idx(2)));
                  // The sum below as a balanced tree too.
                  SmallVector<Value> rowMax;
                  for (int64_t h = 0; h < 2; ++h)
                    rowMax.push_back(w.maskedRowMax(s, h, col0, in[nO + h]));
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
                        rowMax[h] = k.maxf(
                            rowMax[h],
                            memref::LoadOp::create(
                                b, mlBuf, k.add(k.idx(64 * g), rowOf(h))));
                  }
                  for (int64_t h = 0; h < 2; ++h) {
                    Value mx = rowMax[h];
                    Value mSafe = k.finiteMax(mx);
                    Value alpha = k.exp2(k.subf(in[nO + h], mSafe));
                    Value sum = w.exponentiate(s, h, mx);
                    grew = k.lor(grew, k.fgt(mx, in[nO + h]));
                    out[nO + h] = mx;
                    Value &l = out[nO + 2 + h];
                    l = k.addf(k.mulf(l, alpha), sum);
                    alphas.push_back(alpha);
                  }
                  // Tile t - 1's P V is done: its outputs, P and slot are free.
                  wg.wait(0);
                  // Rescale the outputs only where some row of the warp grew.
                  SmallVector<Value> rescaled = rescaleIfAnyGrew(
                      k, grew, ArrayRef<Value>(out).take_front(nO),
                      [&](MutableArrayRef<Value> scaled) {
                        for (int64_t i = 0; i < nO; ++i)
                          scaled[i] = k.mulf(scaled[i], alphas[(i % 4) / 2]);
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
                          k.add(keyRow0,
                                k.add(k.idx(8 * ns), k.mul(ln.t4, k.idx(2)))),
                          lay.pPitch);
                      vector::StoreOp::create(b, pair, ps, ValueRange{at},
                                              /*nontemporal=*/false,
                                              llvm::MaybeAlign(4));
                    }
                  // P (and, pipelined, tile t + 1) visible to every warpgroup's
                  // wgmma; then, pipelined, the copies of tile t + ST - 1 into
                  // tile t - 1's slot.
                  wg.fenceProxy();
                  if (!pipelined) {
                    k.barrier();
                    wg.fence();
                    SmallVector<Value> o =
                        issueValues(slot, ArrayRef<Value>(out).take_front(nO));
                    wg.wait(0);
                    std::copy(o.begin(), o.end(), out.begin());
                    return out;
                  }
                  stage.wait(ST - 3);
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
  wg.wait(0);
  stage.wait(0);
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
        lSum[h] = k.addf(lSum[h], memref::LoadOp::create(
                                      b, mlBuf, k.add(k.idx(64 * g), rowOf(h))));
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
  // Partial outputs and (max, sum) straight from the accumulators.
  auto storePartials = [&] {
    for (int64_t h = 0; h < 2; ++h) {
      Value rho = k.add(f.rho0, rowOf(h));
      Value l = lSum[h];
      k.ifThen(k.lt(rho, f.rowsTotal), [&] {
        Value rowAt = k.add(k.mul(f.partRow(rho), k.idx(DV)), valueCol0);
        for (int64_t nv = 0; nv < NV; ++nv) {
          Value pair = outPair(h, nv);
          vector::StoreOp::create(b, pair, f.oPart,
                                  ValueRange{k.add(rowAt, outCol(nv))});
        }
        Value writer = k.land(k.eq(ln.t4, k.idx(0)), k.eq(group, k.idx(0)));
        k.ifThen(writer, [&] { f.storeRowState(rho, state[nO + h], l); });
      });
    }
  };
  if (!p.directOutput()) {
    storePartials();
  } else {
    // One split: the outputs normalised straight into `out`, no combine
    // (a row that saw nothing stores zeros, as the combine would).
    Value single = f.storesResult();
    k.ifThen(single, [&] {
      for (int64_t h = 0; h < 2; ++h) {
        Value rho = k.add(f.rho0, rowOf(h));
        Value l = lSum[h];
        Value inv = k.reciprocalOrZero(l);
        k.ifThen(k.lt(rho, f.rowsTotal), [&] {
          Value rowAt = k.add(k.mul(f.queryRow(rho), k.idx(DV)), valueCol0);
          for (int64_t nv = 0; nv < NV; ++nv) {
            Value pair = outPair(h, nv, inv);
            vector::StoreOp::create(b,
                                    arith::TruncFOp::create(b, storePair, pair),
                                    f.out, ValueRange{k.add(rowAt, outCol(nv))},
                                    /*nontemporal=*/false, llvm::MaybeAlign(4));
          }
        });
      }
    });
    k.ifThen(k.lnot(single), storePartials);
  }
  if (p.gridMerge())
    k.ifThen(f.mergesInGrid(), [&] {
      f.mergeInGrid(stage.view(0, p.gridMergeLayout().total, f32), p.threads);
    });
  gpu::ReturnOp::create(b);
  return func;
}
