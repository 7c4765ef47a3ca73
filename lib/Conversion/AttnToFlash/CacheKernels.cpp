//===- CacheKernels.cpp - the cache update kernel -------------------------===//
//
// Appends rows, or merges them into MTLA slots (weighted sum into the slot a
// token lands in, or replacement for the rotary key), in place. A thread owns
// one element of one touched slot and gathers the at most `time_stride`
// tokens of this call that land there, so no two threads write one element.
//
//===----------------------------------------------------------------------===//
#include "FlashKernels.h"
#include "KernelBuilder.h"

using namespace mlir;
using namespace mlir::attn;

static constexpr int64_t kThreads = 128;

gpu::GPUFuncOp mlir::attn::buildCacheUpdateKernel(OpBuilder &ob, Location loc,
                                                  CacheUpdateOp op,
                                                  int64_t W, StringRef name) {
  Type elem = op.getCache().getType().getElementType();
  Type lenType = op.getLengths().getType().getElementType();
  auto flat = flatMemRef;
  bool weighted = op.getMerge() == SlotMerge::WeightedSum;
  int64_t stride = op.getTimeStride();
  SmallVector<Type> args = {flat(elem), flat(elem), flat(lenType)};
  if (weighted)
    args.push_back(flat(elem));
  Type idxT = ob.getIndexType();
  args.append({idxT, idxT, idxT});
  gpu::GPUFuncOp func = makeKernel(ob, loc, name, args, {}, kThreads);

  Block &entry = func.getBody().front();
  ImplicitLocOpBuilder b(loc, ob);
  b.setInsertionPointToStart(&entry);
  KernelBuilder k(b);
  unsigned a = 0;
  Value cache = entry.getArgument(a++), rows = entry.getArgument(a++),
        lengths = entry.getArgument(a++);
  Value weights = weighted ? entry.getArgument(a++) : Value();
  Value T = entry.getArgument(a + 1), C = entry.getArgument(a + 2);

  Value tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  Value bx = gpu::BlockIdOp::create(b, gpu::Dimension::x);
  Value by = gpu::BlockIdOp::create(b, gpu::Dimension::y);
  Value bIdx = gpu::BlockIdOp::create(b, gpu::Dimension::z);
  Value zero = k.idx(0), s = k.idx(stride), w = k.idx(W);
  Value c = k.add(k.mul(bx, k.idx(kThreads)), tid);
  Value len = k.loadIndex(lengths, bIdx);
  Value slot = k.add(k.div(len, s), by);
  Value first = k.sub(k.mul(slot, s), len); // call token of the slot's start
  Value touched = k.land(k.lt(k.mul(slot, s), k.add(len, T)), k.lt(slot, C));
  k.ifThen(k.land(k.lt(c, w), touched), [&] {
    Value at = k.add(k.mul(k.add(k.mul(bIdx, C), slot), w), c);
    auto inCall = [&](Value i) {
      return k.land(k.le(zero, i), k.lt(i, T));
    };
    // Reads of tokens outside this call are clamped and discarded.
    auto rowAt = [&](Value i) {
      Value ic = k.min(k.max(i, zero), k.sub(T, k.idx(1)));
      return std::make_pair(ic, k.loadF32(rows, k.add(
                                    k.mul(k.add(k.mul(bIdx, T), ic), w), c)));
    };
    Value old = k.loadF32(cache, at);
    Value v = weighted ? k.select(inCall(first), k.f(0.0), old) : old;
    for (int64_t u = 0; u < stride; ++u) {
      Value i = k.add(first, k.idx(u));
      auto [ic, row] = rowAt(i);
      Value next = row;
      if (weighted)
        next = k.addf(v, k.mulf(k.loadF32(weights, k.add(k.mul(bIdx, T), ic)),
                                row));
      v = k.select(inCall(i), next, v);
    }
    k.storeF32(v, cache, at);
  });
  gpu::ReturnOp::create(b);
  return func;
}
