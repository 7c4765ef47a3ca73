//===- CombineKernel.cpp - merging the splits of a decode -----------------===//
//
// One block per (output head, query token, batch row) merges the S partial
// outputs of its score map, normalises them, applies the value epilogue and
// stores the result. What it reads is small and sits in L2, so the kernel is
// bound by load latency, not bytes: every step issues a thread's loads
// together and uses them after (the splits' (max, sum) in one round across
// the lanes of a warp; several splits and elements per round in the merge;
// several weight rows per round in the mat-vec). A chain of one load per
// split or per weight row waited out the L2 latency up to a few hundred
// times per block (docs/performance.md, step 22).
//
//===----------------------------------------------------------------------===//
#include "FlashKernels.h"
#include "KernelBuilder.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::attn;

static int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Loads in flight per thread that the merge and the mat-vec aim for.
static constexpr int64_t kLoadsInFlight = 16;

gpu::GPUFuncOp mlir::attn::buildCombineKernel(OpBuilder &ob, Location loc,
                                              const FlashPlan &p,
                                              StringRef name) {
  MLIRContext *ctx = ob.getContext();
  Type idxT = ob.getIndexType();
  const int64_t DV = p.valueWidth, DO = p.outWidth, NT = p.threads;
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
  Value red = func.getWorkgroupAttributions()[2];

  Value tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  Value i = gpu::BlockIdOp::create(b, gpu::Dimension::x);
  Value t = gpu::BlockIdOp::create(b, gpu::Dimension::y);
  Value bIdx = gpu::BlockIdOp::create(b, gpu::Dimension::z);
  Value zero = k.idx(0), one = k.idx(1);
  Value Hq = k.idx(p.qHeads), Hout = k.idx(p.outHeads);
  // Output head i reads score map i / (outHeads / qHeads).
  Value m = k.div(i, k.idx(p.outHeads / p.qHeads));
  auto base = [&](Value s) {
    return k.add(k.mul(k.add(k.mul(k.add(k.mul(s, B), bIdx), Tq), t), Hq), m);
  };

  // Split weights exp(m_s - M) / sum: lane j of every warp holds splits j,
  // j + 32, ... (S <= kMaxSplits), so each warp finds M and the sum with
  // two shuffle reductions after one round of loads; the first warp stores
  // the weights (every warp holds the same values, and no lane diverges
  // around the shuffles).
  Value lane = k.rem(tid, k.idx(32)), lastSplit = k.sub(S, one);
  const int64_t slots = ceilDiv(FlashPlan::kMaxSplits, 32);
  SmallVector<Value> splitOf, ok, ms, ls;
  for (int64_t j = 0; j < slots; ++j) {
    Value s = k.add(lane, k.idx(32 * j));
    Value at = k.mul(base(k.min(s, lastSplit)), k.idx(2));
    splitOf.push_back(s);
    ok.push_back(k.lt(s, S));
    ms.push_back(memref::LoadOp::create(b, mlPart, at));
    ls.push_back(memref::LoadOp::create(b, mlPart, k.add(at, one)));
  }
  Value M = k.negInf();
  for (int64_t j = 0; j < slots; ++j)
    M = k.maxf(M, k.select(ok[j], ms[j], k.negInf()));
  Value mSafe = k.finiteMax(k.laneReduce(M, 32, /*max=*/true));
  SmallVector<Value> es;
  Value total = k.f(0.0);
  for (int64_t j = 0; j < slots; ++j) {
    es.push_back(k.select(ok[j], k.exp(k.subf(ms[j], mSafe)), k.f(0.0)));
    total = k.fma(es[j], k.select(ok[j], ls[j], k.f(0.0)), total);
  }
  total = k.laneReduce(total, 32, /*max=*/false);
  // A row that saw nothing yields zeros rather than NaN.
  Value inv = k.select(k.fgt(total, k.f(0.0)), k.divf(k.f(1.0), total),
                       k.f(0.0));
  Value firstWarp = k.lt(tid, k.idx(32));
  for (int64_t j = 0; j < slots; ++j)
    k.ifThen(k.land(firstWarp, ok[j]),
             [&] { k.store(k.mulf(es[j], inv), weights, splitOf[j]); });
  k.barrier();

  // The merge: thread tid owns elements tid + j NT and takes U splits per
  // step, its J x U loads independent of each other.
  const int64_t J = ceilDiv(DV, NT);
  const int64_t U = std::clamp<int64_t>(kLoadsInFlight / J, 1, 8);
  const bool wholeElems = DV % NT == 0;
  auto element = [&](int64_t j) { return k.add(tid, k.idx(j * NT)); };
  auto mergeStep = [&](Value s0, int64_t n, ValueRange in) {
    SmallVector<Value> w, v;
    for (int64_t u = 0; u < n; ++u) {
      Value s = k.add(s0, k.idx(u));
      w.push_back(memref::LoadOp::create(b, weights, s));
      for (int64_t j = 0; j < J; ++j) {
        Value e = wholeElems ? element(j) : k.min(element(j), k.idx(DV - 1));
        v.push_back(memref::LoadOp::create(
            b, oPart, k.add(k.mul(base(s), k.idx(DV)), e)));
      }
    }
    SmallVector<Value> acc(in);
    for (int64_t u = 0; u < n; ++u)
      for (int64_t j = 0; j < J; ++j)
        acc[j] = k.fma(w[u], v[u * J + j], acc[j]);
    return acc;
  };
  Value SU = k.mul(k.div(S, k.idx(U)), k.idx(U));
  SmallVector<Value> init(J, k.f(0.0));
  SmallVector<Value> merged = k.loop(
      zero, SU, k.idx(U), init,
      [&](Value s0, ValueRange in) { return mergeStep(s0, U, in); });
  merged = k.loop(SU, S, one, merged, [&](Value s, ValueRange in) {
    return mergeStep(s, 1, in);
  });
  for (int64_t j = 0; j < J; ++j) {
    if (wholeElems)
      k.store(merged[j], obar, element(j));
    else
      k.ifThen(k.lt(element(j), k.idx(DV)),
               [&] { k.store(merged[j], obar, element(j)); });
  }
  k.barrier();

  Value outRow = k.add(k.mul(k.add(k.mul(bIdx, Tq), t), Hout), i);
  // The epilogue's mat-vec, sum_c obar[c] * w[(head * DV + c) * DO + e]
  // (up-projection, decoder, post-transform), into workgroup memory: each
  // thread owns VEC adjacent outputs (one 16-byte load of w per c) and every
  // cGroups-th c, several c per step; the block's loads are coalesced and
  // the cGroups partial sums of an output are added below.
  int64_t VEC = p.combineVector(), cGroups = VEC ? NT / (DO / VEC) : 1;
  auto matvec = [&](Value w, Value head) {
    auto weightAt = [&](Value c, Value e) {
      return k.add(k.mul(k.add(k.mul(head, k.idx(DV)), c), k.idx(DO)), e);
    };
    if (!VEC) {
      // One thread per output, eight independent loads per step.
      k.loop(tid, k.idx(DO), k.idx(NT), [&](Value e) {
        int64_t U = DV % 8 == 0 ? 8 : 1;
        SmallVector<Value> init(U, k.f(0.0));
        SmallVector<Value> parts = k.loop(
            zero, k.idx(DV), k.idx(U), init,
            [&](Value c0, ValueRange in) -> SmallVector<Value> {
              SmallVector<Value> outs;
              for (int64_t u = 0; u < U; ++u) {
                Value c = k.add(c0, k.idx(u));
                outs.push_back(k.fma(memref::LoadOp::create(b, obar, c),
                                     k.loadF32(w, weightAt(c, e)), in[u]));
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
    // Rows c = c0 + u cGroups, u < UC, of this thread per step.
    const int64_t perThread = ceilDiv(DV, cGroups);
    const int64_t UC = std::min<int64_t>(8, perThread);
    const bool exact = DV % cGroups == 0 && perThread % UC == 0;
    SmallVector<Value> init(VEC, k.f(0.0));
    SmallVector<Value> acc = k.loop(
        cg, k.idx(DV), k.idx(cGroups * UC), init,
        [&](Value c0, ValueRange in) -> SmallVector<Value> {
          SmallVector<Value> xs, vs;
          for (int64_t u = 0; u < UC; ++u) {
            Value c = k.add(c0, k.idx(u * cGroups));
            Value cc = exact ? c : k.min(c, k.idx(DV - 1));
            Value x = memref::LoadOp::create(b, obar, cc);
            xs.push_back(exact ? x : k.select(k.lt(c, k.idx(DV)), x, k.f(0.0)));
            vs.push_back(vector::LoadOp::create(b, vt, w,
                                                ValueRange{weightAt(cc, col)},
                                                /*nontemporal=*/false,
                                                llvm::MaybeAlign(bytes)));
          }
          SmallVector<Value> outs(in);
          for (int64_t u = 0; u < UC; ++u)
            for (int64_t e = 0; e < VEC; ++e) {
              Value we = vector::ExtractOp::create(b, vs[u], e);
              if (cast<FloatType>(elem).getWidth() < 32)
                we = arith::ExtFOp::create(b, k.f32(), we);
              outs[e] = k.fma(xs[u], we, outs[e]);
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
  k.loop(tid, k.idx(DO), k.idx(NT), [&](Value e) {
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
