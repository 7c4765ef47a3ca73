//===- ForwardFrame.cpp - what both forward kernels share -----------------===//
#include "FlashKernels.h"
#include "KernelBuilder.h"

using namespace mlir;
using namespace mlir::attn;

SmallVector<Type> ForwardFrame::argumentTypes(OpBuilder &b,
                                              const FlashPlan &p) {
  SmallVector<Type> args = {flatMemRef(p.storage), flatMemRef(p.storage)};
  if (p.separate())
    args.push_back(flatMemRef(p.storage));
  if (p.ropeDim)
    args.push_back(flatMemRef(p.storage));
  if (p.lengthType)
    args.push_back(flatMemRef(p.lengthType));
  if (p.forwardEpilogue) // alpha, transform
    args.append({flatMemRef(p.storage), flatMemRef(p.storage)});
  Type idx = b.getIndexType();
  args.append({flatMemRef(b.getF32Type()), flatMemRef(b.getF32Type())});
  if (p.directOutput())
    args.push_back(flatMemRef(p.storage)); // out
  args.append({idx, idx, idx, idx});
  return args;
}

ForwardFrame::ForwardFrame(KernelBuilder &k, Block &entry, const FlashPlan &p)
    : k(k), p(p) {
  unsigned a = 0;
  q = entry.getArgument(a++);
  if (p.separate()) {
    keys = entry.getArgument(a++);
    values = entry.getArgument(a++);
  } else {
    rows = entry.getArgument(a++);
  }
  if (p.ropeDim)
    rope = entry.getArgument(a++);
  if (p.lengthType)
    lens = entry.getArgument(a++);
  if (p.forwardEpilogue) {
    alpha = entry.getArgument(a++);
    transform = entry.getArgument(a++);
  }
  oPart = entry.getArgument(a++);
  mlPart = entry.getArgument(a++);
  if (p.directOutput())
    out = entry.getArgument(a++);
  B = entry.getArgument(a++);
  Tq = entry.getArgument(a++);
  L = entry.getArgument(a++);
  S = entry.getArgument(a++);

  ImplicitLocOpBuilder &b = k.b;
  tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  Value rb = gpu::BlockIdOp::create(b, gpu::Dimension::x);
  Value by = gpu::BlockIdOp::create(b, gpu::Dimension::y);
  split = gpu::BlockIdOp::create(b, gpu::Dimension::z);
  Value one = k.idx(1);
  G = k.idx(p.group);
  Hq = k.idx(p.qHeads);
  Hkv = k.idx(p.kvHeads);
  gk = k.rem(by, Hkv);
  bIdx = k.div(by, Hkv);
  rowsTotal = k.mul(Tq, G);
  rho0 = k.mul(rb, k.idx(p.rowsPerBlock));
  len = lens ? k.loadIndex(lens, bIdx) : L;

  // This block's cache rows: its split's share, clipped to the sequence and,
  // for causal masks, to what its last query row may see.
  Value chunk = k.div(k.add(L, k.sub(S, one)), S);
  jBegin = k.mul(split, chunk);
  jEnd = k.min(k.add(jBegin, chunk), len);
  if (p.mask != Mask::None) {
    Value lastRow =
        k.sub(k.min(k.add(rho0, k.idx(p.rowsPerBlock)), rowsTotal), one);
    jEnd = k.min(jEnd, k.add(k.sub(len, Tq), k.add(k.div(lastRow, G), one)));
  }
}

Value ForwardFrame::headOf(Value rho) {
  return k.add(k.mul(gk, G), k.rem(rho, G));
}

Value ForwardFrame::queryRow(Value rho) {
  Value t = k.div(rho, G);
  return k.add(k.mul(k.add(k.mul(bIdx, Tq), t), Hq), headOf(rho));
}

Value ForwardFrame::partRow(Value rho) {
  Value t = k.div(rho, G);
  Value st = k.add(k.mul(k.add(k.mul(split, B), bIdx), Tq), t);
  return k.add(k.mul(st, Hq), headOf(rho));
}

// FlashPlan::tileKeyColumn for a column known at run time only.
Value ForwardFrame::tileKeyColumn(Value d) {
  if (p.separate() || (p.keyBegin == 0 && p.keyNope == p.rowWidth))
    return d;
  return k.select(k.lt(d, k.idx(p.keyNope)), k.add(d, k.idx(p.keyBegin)),
                  k.add(d, k.idx(p.rowWidth - p.keyNope)));
}

Value ForwardFrame::visibleEnd(Value rho) {
  assert(p.mask != Mask::StrideAwareCausal && "not a prefix");
  Value end = jEnd;
  if (p.mask == Mask::Causal) {
    Value pos = k.add(k.sub(len, Tq), k.div(rho, G));
    end = k.min(end, k.add(pos, k.idx(1)));
  }
  return k.select(k.lt(rho, rowsTotal), end, k.idx(0));
}

Value ForwardFrame::visible(Value j, Value rho) {
  Value vis = k.lt(rho, rowsTotal);
  // The query's own position, bottom-right aligned.
  Value pos = k.add(k.sub(len, Tq), k.div(rho, G));
  if (p.mask == Mask::Causal)
    vis = k.land(vis, k.le(j, pos));
  if (p.mask == Mask::StrideAwareCausal) {
    Value closes = k.eq(k.rem(k.add(j, k.idx(1)), k.idx(p.timeStride)),
                        k.idx(0));
    vis = k.land(vis, k.lor(k.eq(j, pos), k.land(k.le(j, pos), closes)));
  }
  return vis;
}

Value ForwardFrame::storesResult() {
  if (!p.directOutput())
    return arith::ConstantIntOp::create(k.b, k.b.getI1Type(), 0);
  return k.eq(S, k.idx(1));
}

void ForwardFrame::storeRowState(Value rho, Value maxBase2, Value sum) {
  Value m =
      k.select(k.feq(sum, k.f(0.0)), k.negInf(), k.mulf(maxBase2, k.f(M_LN2)));
  Value at = k.mul(partRow(rho), k.idx(2));
  k.store(m, mlPart, at);
  k.store(sum, mlPart, k.add(at, k.idx(1)));
}
