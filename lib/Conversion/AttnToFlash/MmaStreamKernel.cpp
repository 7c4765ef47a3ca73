//===- MmaStreamKernel.cpp - streaming decode on tensor cores -------------===//
//
// The streaming kernel's tensor-core form (plan.streamMma), for few query
// rows per group with separate keys and values (GQA, MHA): warps load cache
// rows straight from global memory into mma.sync fragments, with no
// workgroup staging and no barrier in the loop. The CUDA-core streaming
// kernel spends ~100 instructions per cache row (an FMA per element and
// query row, the reductions); this one spends ~6, so it stays memory-bound
// where that one is issue-bound (ncu, GQA B=64 L=8k: 434M instructions,
// 80% of issue slots).
//
// A warp takes 16 cache rows per step, the (at most 8) query rows padded to
// 16 as the A operand:
//
//   scores  S[16 x 8] = Q K^T, twice   K^T as B: lane (g, t) loads row g of
//                                      each 8-row half, 16 bytes at chunks
//                                      4 i + t: its (b0, b1) pairs of two k
//                                      steps; the query is loaded with the
//                                      same column order (a dot product
//                                      does not care which)
//   softmax                            on the accumulators, a row in a quad
//   values  O[16 x DV] += P V          P: the scores' accumulators repacked
//                                      as A; V as B: lane (g, t) loads rows
//                                      2t, 2t+1, 2t+8, 2t+9 at chunks g + 8m
//                                      and pairs equal columns of two rows
//                                      (n tile 8 m + e holds columns
//                                      64 m + 8 g + e, un-permuted at the
//                                      end)
//
// Each warp keeps its own running max, sum and outputs; they merge through
// workgroup memory once, at the end, as in the streaming kernel.
//
//===----------------------------------------------------------------------===//
#include "MmaFragments.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::attn;

gpu::GPUFuncOp mlir::attn::buildMmaStreamKernel(OpBuilder &ob, Location loc,
                                                const FlashPlan &p,
                                                StringRef name) {
  MLIRContext *ctx = ob.getContext();
  const int64_t R = p.rowsPerBlock, NT = p.threads, NW = NT / 32;
  const int64_t DK = p.keyWidth, DV = p.valueWidth, U = p.unroll;
  const int64_t KC = DK / 32; // key loads a lane makes per 8 rows
  const int64_t VC = DV / 64; // value loads a lane makes per row
  const int64_t NV = DV / 8;  // n tiles of the outputs
  gpu::GPUFuncOp func = makeMmaKernel(ob, loc, p, name,
                                      {workgroupBuffer(ctx, NW * R * DV),
                                       workgroupBuffer(ctx, NW * R),
                                       workgroupBuffer(ctx, NW * R)});
  Block &entry = func.getBody().front();
  ImplicitLocOpBuilder b(loc, ob);
  b.setInsertionPointToStart(&entry);
  KernelBuilder k(b);
  MmaFragments mma{k, p.storage};
  ForwardFrame f(k, entry, p);
  MmaLane ln(k, f.tid);
  Value oW = func.getWorkgroupAttributions()[0];
  Value mW = func.getWorkgroupAttributions()[1];
  Value lW = func.getWorkgroupAttributions()[2];

  auto vec8 = VectorType::get({8}, p.storage);
  auto load8 = [&](Value mem, Value at) -> Value {
    return vector::LoadOp::create(b, vec8, mem, ValueRange{at},
                                  /*nontemporal=*/false, llvm::MaybeAlign(16));
  };
  // Register i of an 8-element vector: its elements 2 i and 2 i + 1.
  auto pairOf = [&](Value v, int64_t i) {
    return mma.reg(vector::ShuffleOp::create(
        b, v, v, ArrayRef<int64_t>{2 * i, 2 * i + 1}));
  };
  // Element e of two rows' vectors as one register (a B pair along k).
  auto across = [&](Value lo, Value hi, int64_t e) {
    return mma.reg(
        vector::ShuffleOp::create(b, lo, hi, ArrayRef<int64_t>{e, 8 + e}));
  };
  Value zeroReg = mma.pack(k.f(0.0), k.f(0.0));

  // The query's A fragments, k step s = 2 i + h: row g of the block (zeros
  // past its rows; rows 8-15 are padding), columns 8 (4 i + t) + 4 h +
  // {0, 1} (a0) and + {2, 3} (a2), the order the key fragments take.
  Value zeros8 = arith::ConstantOp::create(
      b, vec8, DenseElementsAttr::get(vec8, b.getZeroAttr(p.storage)));
  auto queryChunks = [&](Value r) {
    Value rho = k.add(f.rho0, r);
    Value ok = k.land(k.lt(r, k.idx(R)), k.lt(rho, f.rowsTotal));
    Value base =
        k.mul(f.queryRow(k.min(rho, k.sub(f.rowsTotal, k.idx(1)))), k.idx(DK));
    SmallVector<Value> v;
    for (int64_t i = 0; i < KC; ++i)
      v.push_back(k.select(
          ok,
          load8(f.q, k.add(base, k.mul(k.add(k.idx(4 * i), ln.t4), k.idx(8)))),
          zeros8));
    return v;
  };
  SmallVector<Value> q0 = queryChunks(ln.g);
  SmallVector<SmallVector<Value>> qa; // [k step][4]
  for (int64_t s = 0; s < DK / 16; ++s) {
    int64_t i = s / 2, h = s % 2;
    qa.push_back(
        {pairOf(q0[i], 2 * h), zeroReg, pairOf(q0[i], 2 * h + 1), zeroReg});
  }

  // Where the lane's row's visible cache rows end (a prefix for masks none
  // and causal).
  Value laneRow = k.add(f.rho0, ln.g);
  Value rowEnd =
      p.mask != Mask::StrideAwareCausal ? f.visibleEnd(laneRow) : Value();
  Value Hkv = f.Hkv, jEnd = f.jEnd;
  Value rowBase = k.mul(f.bIdx, f.L);
  // Element offset of cache row j's head slice (rows past jEnd clamped).
  auto rowAt = [&](Value j, int64_t width) {
    Value tok = k.add(rowBase, k.min(j, k.sub(jEnd, k.idx(1))));
    return k.mul(k.add(k.mul(tok, Hkv), f.gk), k.idx(width));
  };

  // Carried: O[NV][4] (elements 2, 3: padding rows), then the running max
  // (base 2) of row g and this lane's share of its running sum.
  int64_t nO = NV * 4;
  SmallVector<Value> init(nO, k.f(0.0));
  init.append({k.negInf(), k.f(0.0)});
  // Warp w takes rows j0 + 16 (w U + u) .. of each block-wide step.
  Value jBegin = k.min(f.jBegin, jEnd);
  SmallVector<Value> state = k.loop(
      k.add(jBegin, k.mul(ln.warp, k.idx(16 * U))), jEnd, k.idx(16 * U * NW),
      init, [&](Value j0, ValueRange in) -> SmallVector<Value> {
        // Every load of the iteration first: keys, then values.
        SmallVector<SmallVector<Value>> kv(2 * U), vv(4 * U);
        for (int64_t u = 0; u < U; ++u)
          for (int64_t t = 0; t < 2; ++t) {
            Value at = rowAt(k.add(j0, k.add(k.idx(16 * u + 8 * t), ln.g)), DK);
            for (int64_t i = 0; i < KC; ++i)
              kv[2 * u + t].push_back(load8(
                  f.keys,
                  k.add(at, k.mul(k.add(k.idx(4 * i), ln.t4), k.idx(8)))));
          }
        for (int64_t u = 0; u < U; ++u)
          for (int64_t r = 0; r < 4; ++r) {
            Value row = k.add(k.mul(ln.t4, k.idx(2)),
                              k.idx(16 * u + (r % 2) + 8 * (r / 2)));
            Value at = rowAt(k.add(j0, row), DV);
            for (int64_t m = 0; m < VC; ++m)
              vv[4 * u + r].push_back(
                  load8(f.values,
                        k.add(at, k.mul(k.add(ln.g, k.idx(8 * m)), k.idx(8)))));
          }

        // Scores: per step and half t, accumulator (row g, cache rows
        // 2 t4, 2 t4 + 1 of the half; then padding rows).
        SmallVector<SmallVector<Value>> s(2 * U);
        for (int64_t c = 0; c < 2 * U; ++c) {
          SmallVector<Value> acc(4, k.f(0.0));
          for (int64_t st = 0; st < DK / 16; ++st) {
            int64_t i = st / 2, h = st % 2;
            acc = mma.mma(
                qa[st], {pairOf(kv[c][i], 2 * h), pairOf(kv[c][i], 2 * h + 1)},
                acc);
          }
          s[c] = acc;
        }

        // Online softmax (base 2: scale * log2 e folded into the scores).
        SmallVector<Value> out(in.begin(), in.end());
        Value col0 = k.add(j0, k.mul(ln.t4, k.idx(2)));
        Value mOld = in[nO], mx = mOld;
        for (int64_t c = 0; c < 2 * U; ++c)
          for (int64_t e = 0; e < 2; ++e) {
            Value &x = s[c][e];
            Value j = k.add(col0, k.idx(8 * c + e));
            Value vis = rowEnd ? k.lt(j, rowEnd)
                               : k.land(f.visible(j, laneRow), k.lt(j, jEnd));
            x = k.select(vis, k.mulf(x, k.f(p.scale * M_LOG2E)), k.negInf());
            mx = k.maxf(mx, x);
          }
        mx = k.laneReduce(mx, 4, /*max=*/true);
        Value mSafe = k.finiteMax(mx);
        Value alpha = k.exp2(k.subf(mOld, mSafe));
        Value sum = k.f(0.0);
        for (int64_t c = 0; c < 2 * U; ++c)
          for (int64_t e = 0; e < 2; ++e) {
            Value &x = s[c][e];
            x = k.exp2(k.subf(x, mSafe));
            sum = k.addf(sum, x);
          }
        out[nO] = mx;
        out[nO + 1] = k.addf(k.mulf(in[nO + 1], alpha), sum);
        SmallVector<Value> o = rescaleIfAnyGrew(
            k, k.fgt(mx, mOld), ArrayRef<Value>(out).take_front(nO),
            [&](MutableArrayRef<Value> scaled) {
              for (int64_t nv = 0; nv < NV; ++nv)
                for (int64_t e = 0; e < 2; ++e)
                  scaled[nv * 4 + e] = k.mulf(scaled[nv * 4 + e], alpha);
            });
        std::copy(o.begin(), o.end(), out.begin());

        // P V per step: P's k index is the step's cache row (halves 0, 1).
        for (int64_t u = 0; u < U; ++u) {
          SmallVector<Value> &s0 = s[2 * u], &s1 = s[2 * u + 1];
          SmallVector<Value> a = {mma.pack(s0[0], s0[1]), zeroReg,
                                  mma.pack(s1[0], s1[1]), zeroReg};
          for (int64_t m = 0; m < VC; ++m)
            for (int64_t e = 0; e < 8; ++e) {
              int64_t nv = 8 * m + e;
              auto first = out.begin() + nv * 4;
              SmallVector<Value> c(first, first + 4);
              SmallVector<Value> d =
                  mma.mma(a,
                          {across(vv[4 * u][m], vv[4 * u + 1][m], e),
                           across(vv[4 * u + 2][m], vv[4 * u + 3][m], e)},
                          c);
              std::copy(d.begin(), d.end(), first);
            }
        }
        return out;
      });

  // Merge the warps: each row's max over them, each warp's outputs rescaled
  // to it and summed.
  Value zero = k.idx(0);
  Value lSum = k.laneReduce(state[nO + 1], 4, /*max=*/false);
  k.ifThen(k.lt(ln.g, k.idx(R)), [&] {
    Value slot = k.add(k.mul(ln.warp, k.idx(R)), ln.g);
    k.ifThen(k.eq(ln.t4, zero), [&] {
      k.store(state[nO], mW, slot);
      k.store(lSum, lW, slot);
    });
    // n tile 8 m + e, accumulator column 2 t4 + x: value column
    // 64 m + 8 (2 t4 + x) + e.
    for (int64_t nv = 0; nv < NV; ++nv)
      for (int64_t x = 0; x < 2; ++x) {
        int64_t m = nv / 8, e = nv % 8;
        Value col = k.add(k.idx(64 * m + 8 * x + e), k.mul(ln.t4, k.idx(16)));
        k.store(state[nv * 4 + x], oW, k.add(k.mul(slot, k.idx(DV)), col));
      }
  });
  k.barrier();
  auto rowMax = [&](Value r) {
    Value m = k.negInf();
    for (int64_t w = 0; w < NW; ++w)
      m = k.maxf(m, memref::LoadOp::create(b, mW, k.add(k.idx(w * R), r)));
    return k.finiteMax(m);
  };
  // Sum over the warps of element `col` of (warp, row r)'s `pitch` values
  // in `buf`, each weighted by exp2(its max - m).
  auto warpSum = [&](Value buf, Value r, Value m, int64_t pitch, Value col) {
    Value sum = k.f(0.0);
    for (int64_t w = 0; w < NW; ++w) {
      Value slot = k.add(k.idx(w * R), r);
      Value wt = k.exp2(k.subf(memref::LoadOp::create(b, mW, slot), m));
      Value at = k.add(k.mul(slot, k.idx(pitch)), col);
      sum = k.fma(wt, memref::LoadOp::create(b, buf, at), sum);
    }
    return sum;
  };
  // With one split (plan.directOutput), the rows normalised straight into
  // `out` and no combine (a row that saw nothing stores zeros, as the
  // combine would); else the partial outputs and (max, sum).
  Value single = f.storesResult(), several = k.lnot(single);
  k.loop(f.tid, k.idx(R * DV), k.idx(NT), [&](Value i) {
    Value r = k.div(i, k.idx(DV)), col = k.rem(i, k.idx(DV));
    Value rho = k.add(f.rho0, r);
    k.ifThen(k.lt(rho, f.rowsTotal), [&] {
      Value m = rowMax(r), o = warpSum(oW, r, m, DV, col);
      k.ifThen(several, [&] {
        k.store(o, f.oPart, k.add(k.mul(f.partRow(rho), k.idx(DV)), col));
      });
      if (p.directOutput())
        k.ifThen(single, [&] {
          Value l = warpSum(lW, r, m, 1, zero);
          k.storeF32(k.mulf(o, k.reciprocalOrZero(l)), f.out,
                     k.add(k.mul(f.queryRow(rho), k.idx(DV)), col));
        });
    });
  });
  k.loop(f.tid, k.idx(R), k.idx(NT), [&](Value r) {
    Value rho = k.add(f.rho0, r);
    k.ifThen(k.land(several, k.lt(rho, f.rowsTotal)), [&] {
      Value m = rowMax(r);
      f.storeRowState(rho, m, warpSum(lW, r, m, 1, zero));
    });
  });
  if (p.gridMerge())
    k.ifThen(f.mergesInGrid(), [&] { f.mergeInGrid(oW, NT); });
  gpu::ReturnOp::create(b);
  return func;
}
