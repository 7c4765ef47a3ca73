//===- MmaRegisterKernel.cpp - tensor cores, softmax in registers ---------===//
//
// The mma schedule's form for memory-bound groups (few rows per group, or
// narrow values: MQA, MLA with 16 heads, GTA). A block of W = KW x RW x VW
// warps holds R query rows in workgroup memory and walks its cache rows in
// tiles of N = KW x NW rows, buffered 2 or 3 deep by cp.async. Key warp
// slice kw owns rows kw*NW .. of every tile; its RW row warps each own
// R / RW query rows (16 x MT), and their VW value warps DV / VW value
// columns each:
//
//   scores  S[R x NW] = Q K^T   accumulators in registers (recomputed by
//                               each value warp of a key slice)
//   softmax                      on the accumulators: a row lives in the 4
//                               lanes of a quad, two shuffles per reduction
//   values  O[R x DV/VW] += P V  P's accumulators repacked as A fragments
//
// Each key slice copies its own rows of every tile and keeps its own
// running max and sum, so the loop has no block-wide barrier (a warp sync,
// or a named barrier over a slice's value warps, hands each buffer back to
// the copies); the key warps' states are merged through workgroup memory
// once, at the end.
//
//===----------------------------------------------------------------------===//
#include "MmaFragments.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

using namespace mlir;
using namespace mlir::attn;

gpu::GPUFuncOp mlir::attn::buildMmaRegisterKernel(OpBuilder &ob, Location loc,
                                                  const FlashPlan &p,
                                                  StringRef name) {
  int64_t R = p.rowsPerBlock, N = p.tileRows, NT = p.threads;
  int64_t RW = p.rowWarps, MT = R / 16 / RW; // m16 tiles per warp
  int64_t DK = p.keyWidth, DV = p.valueWidth;
  int64_t VW = p.valueWarps, KW = p.keyWarps();
  int64_t NW = N / KW, DW = DV / VW; // rows per key warp, columns per warp
  int64_t NS = NW / 8, NV = DW / 8, ST = p.stages;

  gpu::GPUFuncOp func = makeMmaKernel(ob, loc, p, name);
  Block &entry = func.getBody().front();
  ImplicitLocOpBuilder b(loc, ob);
  b.setInsertionPointToStart(&entry);
  KernelBuilder k(b);
  MmaFragments mma{k, p.storage};
  ForwardFrame f(k, entry, p);
  MmaStaging stage(k, f, p);
  const FlashPlan::MmaLayout &lay = stage.lay;
  MmaLane ln(k, f.tid);
  // warp = (kw * RW + rw) * VW + vw
  Value vw = k.rem(ln.warp, k.idx(VW));
  Value rw = k.rem(k.div(ln.warp, k.idx(VW)), k.idx(RW));
  Value kw = k.div(ln.warp, k.idx(VW * RW));
  Value rowBase = k.mul(rw, k.idx(16 * MT)); // this warp's query rows
  Type f32 = k.f32();

  // Each key slice (its VW warps) copies and waits for its own rows of
  // every tile, synchronising only among themselves: no block-wide barrier
  // in the loop, so warps drift and hide each other's latencies.
  Value keyRow0 = k.mul(kw, k.idx(NW)); // this warp's rows of a tile
  int64_t sliceWarps = RW * VW; // the warps that read a key slice
  Value sliceThread =
      k.add(k.mul(k.add(k.mul(rw, k.idx(VW)), vw), k.idx(32)), ln.lane);
  auto loadMine = [&](Value j0, Value slot) {
    stage.loadTileRows(j0, slot, keyRow0, NW, sliceThread, 32 * sliceWarps);
  };
  auto syncSlice = [&] {
    if (sliceWarps == 1) {
      NVVM::SyncWarpOp::create(b, arith::ConstantIntOp::create(
                                      b, b.getI32Type(), -1));
      return;
    }
    if (KW == 1)
      return k.barrier();
    // Named barrier 1 + kw (0 is the block's) over the slice's threads.
    Value id = arith::IndexCastOp::create(b, b.getI32Type(),
                                          k.add(kw, k.idx(1)));
    NVVM::BarrierOp::create(
        b, TypeRange{}, id,
        arith::ConstantIntOp::create(b, b.getI32Type(), 32 * sliceWarps),
        {}, Value());
  };
  stage.loadQuery();
  stage.commit();
  Value jBegin = k.min(f.jBegin, f.jEnd);
  stage.prefetch(jBegin, loadMine);
  // The query rows, copied by every thread, before the first tile.
  stage.wait(ST - 1);
  k.barrier();

  // The lane's accumulator rows 16 mt + 8 h + g, and (unless the mask is
  // stride-aware) the end of the cache rows each sees.
  auto rowOf = [&](int64_t mt, int64_t h) {
    return k.add(rowBase, k.add(k.idx(16 * mt + 8 * h), ln.g));
  };
  SmallVector<Value> rowEnd;
  if (p.mask != Mask::StrideAwareCausal)
    for (int64_t mt = 0; mt < MT; ++mt)
      for (int64_t h = 0; h < 2; ++h)
        rowEnd.push_back(f.visibleEnd(k.add(f.rho0, rowOf(mt, h))));

  // Carried: O[mt][nv][4], then per (mt, h) the running max (base 2) and
  // this lane's share of the running sum.
  int64_t nO = MT * NV * 4;
  SmallVector<Value> init(nO, k.f(0.0));
  init.append(2 * MT, k.negInf());
  init.append(2 * MT, k.f(0.0));
  SmallVector<Value> state = stage.loop(
      jBegin, init, loadMine, syncSlice,
      [&](Value j0, Value slot, ValueRange in) -> SmallVector<Value> {
        // Scores of this warp's NW rows.
        Value kBase = k.mul(slot, k.idx(N * lay.kPitch));
        SmallVector<Value> zeros(MT * NS * 4, k.f(0.0));
        SmallVector<Value> s = k.loop(
            k.idx(0), k.idx(DK / 16), k.idx(1), zeros,
            [&](Value ks, ValueRange accIn) -> SmallVector<Value> {
              SmallVector<Value> acc(accIn.begin(), accIn.end());
              Value d = k.mul(ks, k.idx(16));
              SmallVector<SmallVector<Value>> a;
              for (int64_t mt = 0; mt < MT; ++mt)
                a.push_back(mma.load(
                    stage.qs,
                    k.add(k.mul(k.add(rowBase, k.add(k.idx(16 * mt), ln.aRow)),
                                k.idx(lay.qPitch)),
                          k.add(d, ln.aCol)),
                    4, false));
              Value col = f.tileKeyColumn(k.add(d, ln.bCol));
              for (int64_t n16 = 0; n16 < NW / 16; ++n16) {
                Value n = k.add(keyRow0, k.add(k.idx(16 * n16), ln.bRow));
                SmallVector<Value> bf = mma.load(
                    stage.kt,
                    k.add(kBase, k.add(k.mul(n, k.idx(lay.kPitch)), col)), 4,
                    false);
                for (int64_t h = 0; h < 2; ++h)
                  for (int64_t mt = 0; mt < MT; ++mt) {
                    auto first = acc.begin() + (mt * NS + 2 * n16 + h) * 4;
                    SmallVector<Value> c(first, first + 4);
                    SmallVector<Value> r =
                        mma.mma(a[mt], {bf[2 * h], bf[2 * h + 1]}, c);
                    std::copy(r.begin(), r.end(), first);
                  }
              }
              return acc;
            });

        // Online softmax on the accumulators (base 2: scale * log2 e folded
        // into the scores, exp2 is one instruction).
        SmallVector<Value> out(in.begin(), in.end());
        SmallVector<Value> alphas;
        Value grew = arith::ConstantIntOp::create(b, b.getI1Type(), 0);
        Value col0 = k.add(j0, k.add(keyRow0, k.mul(ln.t4, k.idx(2))));
        for (int64_t mt = 0; mt < MT; ++mt)
          for (int64_t h = 0; h < 2; ++h) {
            Value rho = k.add(f.rho0, rowOf(mt, h));
            Value mx = in[nO + 2 * mt + h];
            for (int64_t ns = 0; ns < NS; ++ns)
              for (int64_t e = 0; e < 2; ++e) {
                Value &x = s[(mt * NS + ns) * 4 + 2 * h + e];
                Value j = k.add(col0, k.idx(8 * ns + e));
                Value vis = rowEnd.empty()
                                ? k.land(f.visible(j, rho), k.lt(j, f.jEnd))
                                : k.lt(j, rowEnd[2 * mt + h]);
                x = k.select(vis, k.mulf(x, k.f(p.scale * M_LOG2E)),
                             k.negInf());
                mx = k.maxf(mx, x);
              }
            mx = k.laneReduce(mx, 4, /*max=*/true);
            Value mSafe = k.finiteMax(mx);
            Value alpha = k.exp2(k.subf(in[nO + 2 * mt + h], mSafe));
            Value sum = k.f(0.0);
            for (int64_t ns = 0; ns < NS; ++ns)
              for (int64_t e = 0; e < 2; ++e) {
                Value &x = s[(mt * NS + ns) * 4 + 2 * h + e];
                x = k.exp2(k.subf(x, mSafe));
                sum = k.addf(sum, x);
              }
            grew = k.lor(grew, k.fgt(mx, in[nO + 2 * mt + h]));
            out[nO + 2 * mt + h] = mx;
            Value &l = out[nO + 2 * MT + 2 * mt + h];
            l = k.addf(k.mulf(l, alpha), sum);
            alphas.push_back(alpha);
          }
        // Rescale the outputs where some row's max grew (alpha < 1).
        SmallVector<Value> o = rescaleIfAnyGrew(
            k, grew, ArrayRef<Value>(out).take_front(nO),
            [&](MutableArrayRef<Value> scaled) {
              for (int64_t mt = 0; mt < MT; ++mt)
                for (int64_t h = 0; h < 2; ++h)
                  for (int64_t nv = 0; nv < NV; ++nv)
                    for (int64_t e = 0; e < 2; ++e) {
                      Value &v = scaled[(mt * NV + nv) * 4 + 2 * h + e];
                      v = k.mulf(v, alphas[2 * mt + h]);
                    }
            });
        std::copy(o.begin(), o.end(), out.begin());

        // P V: the probabilities of key rows 16c .. 16c + 15 are the
        // accumulators of n tiles 2c and 2c + 1, in A-fragment order.
        Value vBase = p.separate() ? k.mul(slot, k.idx(N * lay.vPitch)) : kBase;
        int64_t vCol0 = p.separate() ? 0 : p.valueBegin;
        Value vCol = k.add(k.mul(vw, k.idx(DW)),
                           k.add(k.idx(vCol0), k.mul(ln.upper, k.idx(8))));
        for (int64_t c = 0; c < NW / 16; ++c) {
          SmallVector<SmallVector<Value>> a;
          for (int64_t mt = 0; mt < MT; ++mt) {
            auto at = [&](int64_t ns, int64_t e) {
              return s[(mt * NS + ns) * 4 + e];
            };
            a.push_back({mma.pack(at(2 * c, 0), at(2 * c, 1)),
                         mma.pack(at(2 * c, 2), at(2 * c, 3)),
                         mma.pack(at(2 * c + 1, 0), at(2 * c + 1, 1)),
                         mma.pack(at(2 * c + 1, 2), at(2 * c + 1, 3))});
          }
          Value vRow = k.add(keyRow0, k.add(k.idx(16 * c), ln.aRow));
          Value rowAt = k.add(vBase, k.mul(vRow, k.idx(lay.vPitch)));
          for (int64_t nv = 0; nv < NV; nv += 2) {
            SmallVector<Value> bf = mma.load(
                stage.vt, k.add(rowAt, k.add(vCol, k.idx(8 * nv))), 4, true);
            for (int64_t h = 0; h < 2; ++h)
              for (int64_t mt = 0; mt < MT; ++mt) {
                auto first = out.begin() + (mt * NV + nv + h) * 4;
                SmallVector<Value> cIn(first, first + 4);
                SmallVector<Value> d =
                    mma.mma(a[mt], {bf[2 * h], bf[2 * h + 1]}, cIn);
                std::copy(d.begin(), d.end(), first);
              }
          }
        }
        return out;
      });

  // Merge the key warps: each row's max over them, each warp's outputs
  // rescaled to it and summed, one partial result per block and split.
  k.barrier();
  Value oBuf = stage.view(lay.o, KW * R * lay.oPitch, f32);
  Value mlBuf = stage.view(lay.ml, KW * R * 2, f32);
  SmallVector<Value> lSum;
  for (int64_t i = 0; i < 2 * MT; ++i)
    lSum.push_back(k.laneReduce(state[nO + 2 * MT + i], 4, /*max=*/false));
  Value zero = k.idx(0);
  k.ifThen(k.land(k.eq(vw, zero), k.eq(ln.t4, zero)), [&] {
    for (int64_t mt = 0; mt < MT; ++mt)
      for (int64_t h = 0; h < 2; ++h) {
        Value at = k.mul(k.add(k.mul(kw, k.idx(R)), rowOf(mt, h)), k.idx(2));
        k.store(state[nO + 2 * mt + h], mlBuf, at);
        k.store(lSum[2 * mt + h], mlBuf, k.add(at, k.idx(1)));
      }
  });
  k.barrier();
  auto rowMax = [&](Value row) {
    Value m = k.negInf();
    for (int64_t w = 0; w < KW; ++w)
      m = k.maxf(m, memref::LoadOp::create(
                        b, mlBuf, k.mul(k.add(k.idx(w * R), row), k.idx(2))));
    return k.finiteMax(m);
  };
  for (int64_t mt = 0; mt < MT; ++mt)
    for (int64_t h = 0; h < 2; ++h) {
      Value row = rowOf(mt, h);
      Value scale = k.exp2(k.subf(state[nO + 2 * mt + h], rowMax(row)));
      Value rowAt = k.mul(k.add(k.mul(kw, k.idx(R)), row), k.idx(lay.oPitch));
      for (int64_t nv = 0; nv < NV; ++nv)
        for (int64_t e = 0; e < 2; ++e) {
          Value col = k.add(k.mul(vw, k.idx(DW)),
                            k.add(k.idx(8 * nv + e), k.mul(ln.t4, k.idx(2))));
          k.store(k.mulf(state[(mt * NV + nv) * 4 + 2 * h + e], scale), oBuf,
                  k.add(rowAt, col));
        }
    }
  k.barrier();
  k.loop(f.tid, k.idx(R * DV), k.idx(NT), [&](Value i) {
    Value row = k.div(i, k.idx(DV)), col = k.rem(i, k.idx(DV));
    Value rho = k.add(f.rho0, row);
    k.ifThen(k.lt(rho, f.rowsTotal), [&] {
      Value sum = k.f(0.0);
      for (int64_t w = 0; w < KW; ++w)
        sum = k.addf(sum, memref::LoadOp::create(
                              b, oBuf,
                              k.add(k.mul(k.add(k.idx(w * R), row),
                                          k.idx(lay.oPitch)),
                                    col)));
      k.store(sum, f.oPart, k.add(k.mul(f.partRow(rho), k.idx(DV)), col));
    });
  });
  k.loop(f.tid, k.idx(R), k.idx(NT), [&](Value row) {
    Value rho = k.add(f.rho0, row);
    k.ifThen(k.lt(rho, f.rowsTotal), [&] {
      Value m = rowMax(row);
      Value l = k.f(0.0);
      for (int64_t w = 0; w < KW; ++w) {
        Value at = k.mul(k.add(k.idx(w * R), row), k.idx(2));
        Value mw = memref::LoadOp::create(b, mlBuf, at);
        Value lw = memref::LoadOp::create(b, mlBuf, k.add(at, k.idx(1)));
        l = k.addf(l, k.mulf(lw, k.exp2(k.subf(mw, m))));
      }
      f.storeRowState(rho, m, l);
    });
  });
  gpu::ReturnOp::create(b);
  return func;
}
