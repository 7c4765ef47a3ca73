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
#include "mlir/Dialect/Vector/IR/VectorOps.h"

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

gpu::GPUFuncOp mlir::attn::buildCombineKernel(OpBuilder &ob, Location loc,
                                              const FlashPlan &p,
                                              StringRef name) {
  MLIRContext *ctx = ob.getContext();
  Type idxT = ob.getIndexType();
  int64_t DV = p.valueWidth, DO = p.outWidth, NT = p.threads;
  auto flat = flatMemRef;
  SmallVector<Type> args = {flat(ob.getF32Type()), flat(ob.getF32Type())};
  switch (p.epilogue) {
  case ValueEpilogue::None:
    break;
  case ValueEpilogue::LatentUp:
    args.push_back(flat(p.storage));
    break;
  case ValueEpilogue::GatedLatentDecoder:
  case ValueEpilogue::KeyReusePost:
    args.append({flat(p.storage), flat(p.storage)});
    break;
  }
  args.append({flat(p.storage), idxT, idxT, idxT});
  gpu::GPUFuncOp func = makeKernel(
      ob, loc, name, args,
      {workgroupBuffer(ctx, DV), workgroupBuffer(ctx, FlashPlan::kMaxSplits),
       workgroupBuffer(ctx, std::max(p.combineVector() * NT, DO))},
      NT);
  Block &entry = func.getBody().front();
  ImplicitLocOpBuilder b(loc, ob);
  b.setInsertionPointToStart(&entry);
  KernelBuilder k(b);
  unsigned a = 0;
  Value oPart = entry.getArgument(a++), mlPart = entry.getArgument(a++);
  Value w0, w1;
  if (p.epilogue != ValueEpilogue::None)
    w0 = entry.getArgument(a++);
  if (p.epilogue == ValueEpilogue::GatedLatentDecoder ||
      p.epilogue == ValueEpilogue::KeyReusePost)
    w1 = entry.getArgument(a++);
  Value out = entry.getArgument(a++);
  Value B = entry.getArgument(a++), Tq = entry.getArgument(a++),
        S = entry.getArgument(a++);
  Value obar = func.getWorkgroupAttributions()[0];
  Value weights = func.getWorkgroupAttributions()[1];

  Value tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  Value i = gpu::BlockIdOp::create(b, gpu::Dimension::x);
  Value t = gpu::BlockIdOp::create(b, gpu::Dimension::y);
  Value bIdx = gpu::BlockIdOp::create(b, gpu::Dimension::z);
  Value zero = k.idx(0), one = k.idx(1), nt = k.idx(NT);
  Value Hq = k.idx(p.qHeads), Hout = k.idx(p.outHeads);
  // Output head i reads score map i / (outHeads / qHeads).
  Value m = k.div(i, k.idx(p.outHeads / p.qHeads));
  auto base = [&](Value s) {
    return k.add(k.mul(k.add(k.mul(k.add(k.mul(s, B), bIdx), Tq), t), Hq), m);
  };
  auto mOf = [&](Value s) {
    return memref::LoadOp::create(b, mlPart, k.mul(base(s), k.idx(2)))
        .getResult();
  };
  Value M = k.reduce(zero, S, k.negInf(),
                     [&](Value s, Value acc) { return k.maxf(acc, mOf(s)); });
  Value mSafe = k.finiteMax(M);
  Value total = k.reduce(zero, S, k.f(0.0), [&](Value s, Value acc) {
    Value l = memref::LoadOp::create(
        b, mlPart, k.add(k.mul(base(s), k.idx(2)), one));
    return k.addf(acc, k.mulf(k.exp(k.subf(mOf(s), mSafe)), l));
  });
  // A row that saw nothing yields zeros rather than NaN.
  Value inv = k.select(k.fgt(total, k.f(0.0)), k.divf(k.f(1.0), total),
                       k.f(0.0));
  // Each split's weight once, in workgroup memory: the merge below is then
  // a multiply-add per split and element.
  k.loop(tid, S, nt, [&](Value s) {
    k.store(k.mulf(k.exp(k.subf(mOf(s), mSafe)), inv), weights, s);
  });
  k.barrier();
  // Four splits per step, their loads independent (the partial outputs sit
  // in L2; a chain of one load per step would wait out its latency S times).
  Value S4 = k.mul(k.div(S, k.idx(4)), k.idx(4));
  auto term = [&](Value s, Value e) {
    Value v = memref::LoadOp::create(b, oPart,
                                     k.add(k.mul(base(s), k.idx(DV)), e));
    return k.mulf(memref::LoadOp::create(b, weights, s), v);
  };
  k.loop(tid, k.idx(DV), nt, [&](Value e) {
    SmallVector<Value> init = {k.f(0.0)};
    Value acc = k.loop(zero, S4, k.idx(4), init,
                       [&](Value s, ValueRange in) -> SmallVector<Value> {
                         SmallVector<Value> ts;
                         for (int64_t d = 0; d < 4; ++d)
                           ts.push_back(term(k.add(s, k.idx(d)), e));
                         Value sum = k.addf(k.addf(ts[0], ts[1]),
                                            k.addf(ts[2], ts[3]));
                         return {k.addf(in[0], sum)};
                       })[0];
    acc = k.reduce(S4, S, acc, [&](Value s, Value a) {
      return k.addf(a, term(s, e));
    });
    k.store(acc, obar, e);
  });
  k.barrier();

  Value outRow = k.add(k.mul(k.add(k.mul(bIdx, Tq), t), Hout), i);
  // The epilogue's mat-vec, sum_c obar[c] * w[(head * DV + c) * DO + e]
  // (up-projection, decoder, post-transform), into workgroup memory: each
  // thread owns VEC adjacent outputs (one 16-byte load of w per c) and every
  // cGroups-th c, so its loads are independent and the block's are
  // coalesced; the cGroups partial sums of an output are added below.
  Value red = func.getWorkgroupAttributions()[2];
  int64_t VEC = p.combineVector(), cGroups = VEC ? NT / (DO / VEC) : 1;
  auto matvec = [&](Value w, Value head) {
    if (!VEC) {
      // One thread per output, eight independent loads per step.
      k.loop(tid, k.idx(DO), nt, [&](Value e) {
        int64_t U = DV % 8 == 0 ? 8 : 1;
        SmallVector<Value> init(U, k.f(0.0));
        SmallVector<Value> parts = k.loop(
            zero, k.idx(DV), k.idx(U), init,
            [&](Value c0, ValueRange in) -> SmallVector<Value> {
              SmallVector<Value> outs;
              for (int64_t u = 0; u < U; ++u) {
                Value c = k.add(c0, k.idx(u));
                Value at = k.add(
                    k.mul(k.add(k.mul(head, k.idx(DV)), c), k.idx(DO)), e);
                outs.push_back(k.addf(
                    in[u], k.mulf(memref::LoadOp::create(b, obar, c),
                                  k.loadF32(w, at))));
              }
              return outs;
            });
        Value sum = parts[0];
        for (int64_t u = 1; u < U; ++u)
          sum = k.addf(sum, parts[u]);
        k.store(sum, red, e);
      });
      k.barrier();
      return;
    }
    Value cg = k.div(tid, k.idx(DO / VEC));
    Value col = k.mul(k.rem(tid, k.idx(DO / VEC)), k.idx(VEC));
    Type elem = cast<MemRefType>(w.getType()).getElementType();
    auto vt = VectorType::get({VEC}, elem);
    int64_t bytes = VEC * cast<FloatType>(elem).getWidth() / 8;
    SmallVector<Value> init(VEC, k.f(0.0));
    SmallVector<Value> acc =
        k.loop(cg, k.idx(DV), k.idx(cGroups), init,
               [&](Value c, ValueRange in) -> SmallVector<Value> {
                 Value x = memref::LoadOp::create(b, obar, c);
                 Value at = k.add(
                     k.mul(k.add(k.mul(head, k.idx(DV)), c), k.idx(DO)), col);
                 Value v = vector::LoadOp::create(b, vt, w, ValueRange{at},
                                                  /*nontemporal=*/false,
                                                  llvm::MaybeAlign(bytes));
                 SmallVector<Value> outs;
                 for (int64_t u = 0; u < VEC; ++u) {
                   Value wu = vector::ExtractOp::create(b, v, u);
                   if (cast<FloatType>(elem).getWidth() < 32)
                     wu = arith::ExtFOp::create(b, k.f32(), wu);
                   outs.push_back(k.addf(in[u], k.mulf(x, wu)));
                 }
                 return outs;
               });
    for (int64_t u = 0; u < VEC; ++u)
      k.store(acc[u], red, k.add(k.mul(cg, k.idx(DO)), k.add(col, k.idx(u))));
    k.barrier();
  };
  if (p.epilogue == ValueEpilogue::LatentUp)
    matvec(w0, i);
  else if (p.epilogue == ValueEpilogue::GatedLatentDecoder)
    matvec(w1, i);
  else if (p.epilogue == ValueEpilogue::KeyReusePost)
    matvec(w1, zero);
  k.loop(tid, k.idx(DO), nt, [&](Value e) {
    auto mixed = [&] {
      Value sum = k.f(0.0);
      for (int64_t g = 0; g < cGroups; ++g)
        sum = k.addf(sum, memref::LoadOp::create(
                              b, red, k.add(k.idx(g * DO), e)));
      return sum;
    };
    Value val;
    switch (p.epilogue) {
    case ValueEpilogue::None:
      val = memref::LoadOp::create(b, obar, e);
      break;
    case ValueEpilogue::LatentUp:
      val = mixed();
      break;
    case ValueEpilogue::GatedLatentDecoder:
      val = k.mulf(mixed(),
                   k.loadF32(w0, k.add(k.mul(outRow, k.idx(DO)), e)));
      break;
    case ValueEpilogue::KeyReusePost:
      val = k.addf(memref::LoadOp::create(b, obar, e),
                   k.mulf(k.loadF32(w0, e), mixed()));
      break;
    }
    k.storeF32(val, out, k.add(k.mul(outRow, k.idx(DO)), e));
  });
  gpu::ReturnOp::create(b);
  return func;
}
