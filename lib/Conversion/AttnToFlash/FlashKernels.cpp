//===- FlashKernels.cpp - the fused attention kernels ---------------------===//
//
// One forward kernel serves every variant through the canonical decode form
// (variants.md §1.6): a block holds the query rows of one cache group (the
// group's heads times the query tokens, PackGQA), streams that group's cache
// rows tile by tile through workgroup memory, and takes both the key and the
// value view from the same loaded row where the variant ties them (tied,
// absorbed latent). The shared rotary stream is loaded once per tile beside
// the rows. Scores, the online softmax and the aggregation run on CUDA cores
// in f32.
//
//===----------------------------------------------------------------------===//
#include "FlashKernels.h"
#include "KernelBuilder.h"

using namespace mlir;
using namespace mlir::attn;

gpu::GPUFuncOp mlir::attn::buildForwardKernel(OpBuilder &ob, Location loc,
                                              const FlashPlan &p,
                                              StringRef name) {
  MLIRContext *ctx = ob.getContext();
  bool sep = p.separate();
  int64_t R = p.rowsPerBlock, N = p.tileRows, NT = p.threads;
  int64_t DK = p.keyWidth, DV = p.valueWidth, TW = p.tileWidth();
  // Rows of the tile are padded by one float: threads of a warp read
  // consecutive rows at the same column, which would otherwise fall in one
  // bank whenever the width is a multiple of 32.
  int64_t TWP = TW + 1;

  SmallVector<Type> args = ForwardFrame::argumentTypes(ob, p);
  auto shared = [&](int64_t n) { return workgroupBuffer(ctx, n); };
  SmallVector<Type> wg = {shared(R * DK), shared(N * TWP), shared(R * N),
                          shared(R), shared(R), shared(R)};
  if (sep)
    wg.push_back(shared(N * DV));
  gpu::GPUFuncOp func = makeKernel(ob, loc, name, args, wg, NT);

  Block &entry = func.getBody().front();
  ImplicitLocOpBuilder b(loc, ob);
  b.setInsertionPointToStart(&entry);
  KernelBuilder k(b);
  ForwardFrame f(k, entry, p);
  Value q = f.q, keys = f.keys, values = f.values, rows = f.rows,
        rope = f.rope, oPart = f.oPart, mlPart = f.mlPart, L = f.L;
  Value qs = func.getWorkgroupAttributions()[0];
  Value ks = func.getWorkgroupAttributions()[1];
  Value ss = func.getWorkgroupAttributions()[2];
  Value mrow = func.getWorkgroupAttributions()[3];
  Value lrow = func.getWorkgroupAttributions()[4];
  Value arow = func.getWorkgroupAttributions()[5];
  Value vs = sep ? Value(func.getWorkgroupAttributions()[6]) : Value();

  Value tid = f.tid, nt = k.idx(NT), one = k.idx(1), zero = k.idx(0);
  Value Hkv = f.Hkv, gk = f.gk, bIdx = f.bIdx, rowsTotal = f.rowsTotal,
        rho0 = f.rho0, jBegin = f.jBegin, jEnd = f.jEnd;

  // Row state and the query rows.
  k.loop(tid, k.idx(R), nt, [&](Value r) {
    k.store(k.negInf(), mrow, r);
    k.store(k.f(0.0), lrow, r);
  });
  k.loop(tid, k.idx(R * DK), nt, [&](Value i) {
    Value r = k.div(i, k.idx(DK)), d = k.rem(i, k.idx(DK));
    Value rho = k.add(rho0, r);
    Value valid = k.lt(rho, rowsTotal);
    Value rhoC = k.min(rho, k.sub(rowsTotal, one));
    Value v = k.loadF32(q, k.add(k.mul(f.queryRow(rhoC), k.idx(DK)), d));
    k.store(k.select(valid, v, k.f(0.0)), qs, i);
  });
  k.barrier();

  int64_t K = (R * DV + NT - 1) / NT;
  SmallVector<Value> init(K, k.f(0.0));
  Value jBeginC = k.min(jBegin, jEnd);
  SmallVector<Value> acc = k.loop(
      jBeginC, jEnd, k.idx(N), init,
      [&](Value j0, ValueRange accIn) -> SmallVector<Value> {
        // Load the tile: each cache row once, with the shared rotary key.
        auto cacheRow = [&](Value n) {
          Value j = k.add(j0, n);
          Value valid = k.lt(j, jEnd);
          Value jC = k.min(j, k.sub(L, one));
          Value tok = k.add(k.mul(bIdx, L), jC); // b * L + j
          return std::make_tuple(valid, jC, tok);
        };
        k.loop(tid, k.idx(N * TW), nt, [&](Value i) {
          Value n = k.div(i, k.idx(TW)), c = k.rem(i, k.idx(TW));
          auto [valid, jC, tok] = cacheRow(n);
          Value head = k.add(k.mul(tok, Hkv), gk);
          Value v;
          if (sep) {
            v = k.loadF32(keys, k.add(k.mul(head, k.idx(DK)), c));
          } else {
            Value W = k.idx(p.rowWidth);
            Value inRow = k.lt(c, W);
            Value cr = k.min(c, k.sub(W, one));
            v = k.loadF32(rows, k.add(k.mul(head, W), cr));
            if (p.ropeDim) {
              Value cp = k.max(k.sub(c, W), zero);
              Value rv = k.loadF32(
                  rope, k.add(k.mul(tok, k.idx(p.ropeDim)), cp));
              v = k.select(inRow, v, rv);
            }
          }
          k.store(k.select(valid, v, k.f(0.0)), ks,
                  k.add(k.mul(n, k.idx(TWP)), c));
        });
        if (sep)
          k.loop(tid, k.idx(N * DV), nt, [&](Value i) {
            Value n = k.div(i, k.idx(DV)), c = k.rem(i, k.idx(DV));
            auto [valid, jC, tok] = cacheRow(n);
            Value head = k.add(k.mul(tok, Hkv), gk);
            Value v = k.loadF32(values, k.add(k.mul(head, k.idx(DV)), c));
            k.store(k.select(valid, v, k.f(0.0)), vs, i);
          });
        k.barrier();

        // Scores, scaled and masked.
        k.loop(tid, k.idx(R * N), nt, [&](Value i) {
          Value r = k.div(i, k.idx(N)), n = k.rem(i, k.idx(N));
          Value qBase = k.mul(r, k.idx(DK)), kBase = k.mul(n, k.idx(TWP));
          Value dot = k.reduce(zero, k.idx(DK), k.f(0.0), [&](Value d, Value s) {
            Value col = f.tileKeyColumn(d);
            Value x = memref::LoadOp::create(b, qs, k.add(qBase, d));
            Value y = memref::LoadOp::create(b, ks, k.add(kBase, col));
            return k.addf(s, k.mulf(x, y));
          });
          Value j = k.add(j0, n), rho = k.add(rho0, r);
          Value vis = k.land(f.visible(j, rho), k.lt(j, jEnd));
          Value s = k.mulf(dot, k.f(p.scale));
          k.store(k.select(vis, s, k.negInf()), ss, i);
        });
        k.barrier();

        // Online softmax: new running max, rescale factor, probabilities.
        k.loop(tid, k.idx(R), nt, [&](Value r) {
          Value base = k.mul(r, k.idx(N));
          Value mOld = memref::LoadOp::create(b, mrow, r);
          Value mx = k.reduce(zero, k.idx(N), mOld, [&](Value n, Value m) {
            return k.maxf(m, memref::LoadOp::create(b, ss, k.add(base, n)));
          });
          // Nothing visible yet: keep exponents finite (p = 0, alpha = 0).
          Value mSafe = k.finiteMax(mx);
          Value alpha = k.exp(k.subf(mOld, mSafe));
          Value sum = k.reduce(zero, k.idx(N), k.f(0.0), [&](Value n, Value s) {
            Value at = k.add(base, n);
            Value pr = k.exp(k.subf(memref::LoadOp::create(b, ss, at), mSafe));
            k.store(pr, ss, at);
            return k.addf(s, pr);
          });
          Value lOld = memref::LoadOp::create(b, lrow, r);
          k.store(k.addf(k.mulf(lOld, alpha), sum), lrow, r);
          k.store(mx, mrow, r);
          k.store(alpha, arow, r);
        });
        k.barrier();

        // Aggregate: each thread owns K (row, column) outputs.
        SmallVector<Value> accOut;
        for (int64_t kk = 0; kk < K; ++kk) {
          Value e = k.add(tid, k.idx(kk * NT));
          Value eC = k.min(e, k.idx(R * DV - 1));
          Value r = k.div(eC, k.idx(DV)), d = k.rem(eC, k.idx(DV));
          Value alpha = memref::LoadOp::create(b, arow, r);
          Value pBase = k.mul(r, k.idx(N));
          Value sum =
              k.reduce(zero, k.idx(N), k.mulf(accIn[kk], alpha),
                       [&](Value n, Value s) {
                         Value pr = memref::LoadOp::create(b, ss, k.add(pBase, n));
                         Value at =
                             sep ? k.add(k.mul(n, k.idx(DV)), d)
                                 : k.add(k.mul(n, k.idx(TWP)),
                                         k.add(d, k.idx(p.valueBegin)));
                         Value v = memref::LoadOp::create(b, sep ? vs : ks, at);
                         return k.addf(s, k.mulf(pr, v));
                       });
          accOut.push_back(sum);
        }
        k.barrier();
        return accOut;
      });

  // Partial results of this split.
  for (int64_t kk = 0; kk < K; ++kk) {
    Value e = k.add(tid, k.idx(kk * NT));
    Value r = k.div(e, k.idx(DV)), d = k.rem(e, k.idx(DV));
    Value rho = k.add(rho0, r);
    k.ifThen(k.land(k.lt(e, k.idx(R * DV)), k.lt(rho, rowsTotal)), [&] {
      k.store(acc[kk], oPart, k.add(k.mul(f.partRow(rho), k.idx(DV)), d));
    });
  }
  k.loop(tid, k.idx(R), nt, [&](Value r) {
    Value rho = k.add(rho0, r);
    k.ifThen(k.lt(rho, rowsTotal), [&] {
      Value at = k.mul(f.partRow(rho), k.idx(2));
      k.store(memref::LoadOp::create(b, mrow, r), mlPart, at);
      k.store(memref::LoadOp::create(b, lrow, r), mlPart, k.add(at, one));
    });
  });
  gpu::ReturnOp::create(b);
  return func;
}
