//===- ForwardFrame.cpp - what both forward kernels share -----------------===//
#include "FlashKernels.h"
#include "KernelBuilder.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

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
  if (p.storesRows())
    args.push_back(flatMemRef(p.storage)); // o_rows
  if (p.directOutput())
    args.push_back(flatMemRef(p.storage)); // out
  if (p.gridMerge())
    args.push_back(flatMemRef(b.getI32Type())); // grid_sync
  args.append({idx, idx, idx, idx});
  if (p.gridMerge())
    args.push_back(idx); // merge
  if (p.normalisedRows())
    args.push_back(idx); // normalise
  // Tensor maps last, each passed by value (attn-tensor-map-params).
  if (p.tensorMaps)
    args.append(p.tileStreams().size(),
                LLVM::LLVMPointerType::get(b.getContext()));
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
  if (p.storesRows())
    oRows = entry.getArgument(a++);
  if (p.directOutput())
    out = entry.getArgument(a++);
  if (p.gridMerge())
    gridSync = entry.getArgument(a++);
  B = entry.getArgument(a++);
  Tq = entry.getArgument(a++);
  L = entry.getArgument(a++);
  S = entry.getArgument(a++);
  if (p.gridMerge())
    merge = entry.getArgument(a++);
  if (p.normalisedRows())
    normalise = entry.getArgument(a++);
  if (p.tensorMaps)
    for (size_t i = 0; i < p.tileStreams().size(); ++i)
      tensorMaps.push_back(entry.getArgument(a++));

  ImplicitLocOpBuilder &b = k.b;
  // combine_rows may launch now; it waits for this grid before it reads
  // anything this grid writes.
  if (p.combineRowsOverlaps())
    NVVM::GriddepcontrolOp::create(b,
                                   NVVM::GridDepActionKind::launch_dependents);
  tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  Value rb = rowBlock = gpu::BlockIdOp::create(b, gpu::Dimension::x);
  Value by = batchGroup = gpu::BlockIdOp::create(b, gpu::Dimension::y);
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

Value ForwardFrame::partRowOf(Value s, Value rho) {
  Value t = k.div(rho, G);
  Value st = k.add(k.mul(k.add(k.mul(s, B), bIdx), Tq), t);
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

Value ForwardFrame::storesNormalisedRows() {
  if (!p.normalisedRows())
    return arith::ConstantIntOp::create(k.b, k.b.getI1Type(), 0);
  return k.eq(normalise, k.idx(1));
}

void ForwardFrame::finishBlock(function_ref<Value()> scratch, int64_t threads,
                               SmallVector<Value> stamps,
                               ArrayRef<Value> after) {
  if (p.traceBlocks)
    stamps.push_back(k.timer());
  if (p.gridMerge())
    k.ifThen(mergesInGrid(), [&] { mergeInGrid(scratch(), threads); });
  if (p.traceBlocks) {
    stamps.push_back(k.timer());
    stamps.append(after.begin(), after.end());
    k.traceBlock("fwd", stamps);
  }
}

Value ForwardFrame::mergesInGrid() {
  if (!p.gridMerge())
    return arith::ConstantIntOp::create(k.b, k.b.getI1Type(), 0);
  return k.land(k.eq(merge, k.idx(1)), k.lt(k.idx(1), S));
}

// The S blocks of a group first meet: thread 0 of each makes its block's
// stores visible on the device, then counts itself in with an atomic
// increment that wraps at S - 1 (the last one back to 0, which leaves the
// counter ready for the next launch) and waits for 0. The cooperative launch
// keeps every block resident, so the wait ends. Then the group's rows are
// R_g x DV/W vectors of W values (plan.gridMergeWidth(): 4 f32 partial
// outputs, or 8 normalised values of o_rows), block `split` merging
// ceil(V / S) of them. With at most 8 splits a thread merges whole vectors
// from every split's (max, sum) and partial values, all loaded at once
// (mergeFewSplits). With more, in two rounds of loads: the (max, sum) of each
// (row, split) it touches, into a weight per pair (exp(m_s - M) / sum_s
// exp(m_s - M) l_s, as the combine, times l_s for normalised rows); the
// partial vectors, which `tpv` lanes per vector take every
// tpv-th split of, each summing in registers in split order and storing
// its sum in its own workgroup slot (no atomics: the result is the same
// every run); the slots added in lane order and stored.
void ForwardFrame::mergeInGrid(Value scratch, int64_t NT) {
  ImplicitLocOpBuilder &b = k.b;
  const bool normalised = p.gridMergeRows();
  const int64_t W = p.gridMergeWidth(), DV = p.valueWidth, VR = DV / W,
                NW = NT / 32;
  Value src = normalised ? oRows : oPart;
  const FlashPlan::GridMergeLayout lay = p.gridMergeLayout();
  Type i32 = b.getI32Type();
  Value zero = k.idx(0), one = k.idx(1);

  k.barrier(); // the block's partial outputs are stored
  k.ifThen(k.eq(tid, zero), [&] {
    Value counter =
        k.add(k.mul(batchGroup, gpu::GridDimOp::create(b, gpu::Dimension::x)),
              rowBlock);
    Value ptr = k.counterPointer(gridSync, counter);
    Value last = arith::IndexCastOp::create(b, i32, k.sub(S, one));
    Value old = k.arrive(ptr, last);
    Value zero32 = arith::ConstantIntOp::create(b, i32, 0);
    k.ifThen(
        arith::CmpIOp::create(b, arith::CmpIPredicate::ne, old, last), [&] {
          auto wait = scf::WhileOp::create(b, TypeRange{}, ValueRange{});
          b.createBlock(&wait.getBefore());
          Value now = LLVM::LoadOp::create(b, i32, ptr, /*alignment=*/4,
                                           /*isVolatile=*/true);
          scf::ConditionOp::create(
              b,
              arith::CmpIOp::create(b, arith::CmpIPredicate::ne, now, zero32),
              ValueRange{});
          b.createBlock(&wait.getAfter());
          scf::YieldOp::create(b);
          b.setInsertionPointAfter(wait);
        });
    k.deviceFence();
  });
  k.barrier();

  // This block's vectors [v0, v0 + cnt) of the group's V, rows rFirst ..
  Value rows = k.min(k.idx(p.rowsPerBlock), k.sub(rowsTotal, rho0));
  Value V = k.mul(rows, k.idx(VR));
  Value c = k.div(k.add(V, k.sub(S, one)), S);
  Value v0 = k.min(k.mul(split, c), V);
  Value cnt = k.sub(k.min(k.add(v0, c), V), v0);

  auto f32x2 = VectorType::get({2}, k.f32());
  auto f32xW = VectorType::get({W}, k.f32());
  auto srcW =
      VectorType::get({W}, cast<MemRefType>(src.getType()).getElementType());
  // Vector v of the group (W values of a row), merged, into `out`.
  auto storeOut = [&](Value v, Value sum) {
    Value rho = k.add(rho0, k.div(v, k.idx(VR)));
    Value at = k.add(k.mul(queryRow(rho), k.idx(DV)),
                     k.mul(k.rem(v, k.idx(VR)), k.idx(W)));
    // One store (the runtime takes 16-byte aligned buffers only).
    Type vt = VectorType::get({W}, p.storage);
    Value rounded = sum;
    if (!p.storage.isF32())
      rounded = arith::TruncFOp::create(b, vt, sum);
    vector::StoreOp::create(b, rounded, out, ValueRange{at},
                            /*nontemporal=*/false,
                            llvm::MaybeAlign(W * p.elementBytes()));
  };

  auto general = [&] {
    Value rFirst = k.div(v0, k.idx(VR));
    Value nRows =
        k.add(k.sub(k.div(k.sub(k.add(v0, cnt), one), k.idx(VR)), rFirst), one);
    Value pairs = k.mul(nRows, S);
    Value lastPair = k.sub(pairs, one);

    // (max, sum) of pair i = (row r, split s) at weights[i], sums[i].
    const int64_t UA = llvm::divideCeil(lay.sums, NT);
    k.loop(tid, pairs, k.idx(UA * NT), [&](Value i0) {
      SmallVector<Value> is, ml;
      for (int64_t u = 0; u < UA; ++u) {
        Value i = k.add(i0, k.idx(u * NT));
        Value ic = k.min(i, lastPair);
        Value r = k.div(ic, S), s = k.rem(ic, S);
        Value rho = k.add(rho0, k.add(rFirst, r));
        is.push_back(i);
        ml.push_back(vector::LoadOp::create(
            b, f32x2, mlPart, ValueRange{k.mul(partRowOf(s, rho), k.idx(2))},
            /*nontemporal=*/false, llvm::MaybeAlign(8)));
      }
      // Stores the compiler cannot sink the loads into: lanes past the
      // pairs write a spare slot (conditional stores each waited for their
      // own load, one L2 round trip after another).
      for (int64_t u = 0; u < UA; ++u) {
        Value at = k.select(k.lt(is[u], pairs), is[u], k.idx(lay.spare));
        for (int64_t e = 0; e < 2; ++e)
          k.store(vector::ExtractOp::create(b, ml[u], e), scratch,
                  k.add(at, k.idx(e ? lay.sums : lay.weights)));
      }
    });

    // Lanes per vector: a power of two, with lanes x vectors <= threads.
    Value tpv = one;
    for (int64_t t = 2; t <= 32; t *= 2)
      tpv = k.select(k.le(k.mul(cnt, k.idx(t)), k.idx(NT)), k.idx(t), tpv);
    Value zeros = arith::ConstantOp::create(
        b, f32xW, DenseElementsAttr::get(f32xW, 0.0f));
    auto accAt = [&](Value slot) {
      return k.add(k.idx(lay.acc), k.mul(slot, k.idx(W)));
    };
    k.barrier();

    // Warp w turns rows w, w + NW, ... into weights, lanes over the splits.
    Value lane = k.rem(tid, k.idx(32));
    k.loop(k.div(tid, k.idx(32)), nRows, k.idx(NW), [&](Value r) {
      Value at0 = k.mul(r, S);
      auto mOf = [&](Value s) {
        return memref::LoadOp::create(b, scratch, k.add(at0, s)).getResult();
      };
      // Lanes take splits lane, lane + 32, ...
      Value M = k.loop(lane, S, k.idx(32), ValueRange{k.negInf()},
                       [&](Value s, ValueRange in) -> SmallVector<Value> {
                         return {k.maxf(in[0], mOf(s))};
                       })[0];
      M = k.finiteMax(k.laneReduce(M, 32, /*max=*/true));
      auto lOf = [&](Value s) {
        return memref::LoadOp::create(b, scratch,
                                      k.add(k.add(at0, s), k.idx(lay.sums)))
            .getResult();
      };
      Value d = k.loop(lane, S, k.idx(32), ValueRange{k.f(0.0)},
                       [&](Value s, ValueRange in) -> SmallVector<Value> {
                         Value l = lOf(s);
                         return {k.fma(k.exp(k.subf(mOf(s), M)), l, in[0])};
                       })[0];
      Value inv = k.reciprocalOrZero(k.laneReduce(d, 32, /*max=*/false));
      k.loop(lane, S, k.idx(32), [&](Value s) {
        Value w = k.mulf(k.exp(k.subf(mOf(s), M)), inv);
        k.store(normalised ? k.mulf(w, lOf(s)) : w, scratch, k.add(at0, s));
      });
    });
    k.barrier();
    // Thread (vector slot q0, lane sub) takes vectors q0 + m (NT / tpv)
    // and of each the splits sub + n tpv, summed in registers: MU vectors
    // by U splits of loads in flight, each used unconditionally (weight 0
    // past the splits), then one store per vector into its workgroup slot.
    // (Loads used only under a condition were sunk into it by the
    // compiler and waited for one after another: 10 us at MFA B=16.) The
    // shape of those 16 loads follows the splits a lane takes (Sp), so that
    // few splits (S = 2 at B=64) do not leave most of them idle.
    Value perPass = k.div(k.idx(NT), tpv);
    Value q0 = k.div(tid, tpv), sub = k.rem(tid, tpv);
    Value Sp = k.div(k.add(S, k.sub(tpv, one)), tpv);
    Value Jt = k.div(k.add(cnt, k.sub(perPass, one)), perPass);
    Value lastVec = k.sub(cnt, one), lastSplit = k.sub(S, one);
    auto sums = [&](int64_t MU, int64_t U) {
      k.loop(zero, Jt, k.idx(MU), [&](Value m0) {
        SmallVector<Value> q, qc, rowW, rowAt, col;
        for (int64_t mu = 0; mu < MU; ++mu) {
          q.push_back(k.add(q0, k.mul(k.add(m0, k.idx(mu)), perPass)));
          qc.push_back(k.min(q[mu], lastVec));
          Value v = k.add(v0, qc[mu]);
          Value row = k.div(v, k.idx(VR));
          rowW.push_back(k.mul(k.sub(row, rFirst), S));
          rowAt.push_back(k.add(rho0, row));
          col.push_back(k.mul(k.rem(v, k.idx(VR)), k.idx(W)));
        }
        SmallVector<Value> acc = k.loop(
            zero, Sp, k.idx(U), SmallVector<Value>(MU, zeros),
            [&](Value n0, ValueRange in) -> SmallVector<Value> {
              SmallVector<Value> x, w;
              for (int64_t mu = 0; mu < MU; ++mu)
                for (int64_t u = 0; u < U; ++u) {
                  Value sp = k.add(sub, k.mul(k.add(n0, k.idx(u)), tpv));
                  Value sc = k.min(sp, lastSplit);
                  Value at = k.add(k.mul(partRowOf(sc, rowAt[mu]), k.idx(DV)),
                                   col[mu]);
                  Value xv = vector::LoadOp::create(
                      b, srcW, src, ValueRange{at},
                      /*nontemporal=*/false, llvm::MaybeAlign(16));
                  x.push_back(normalised ? arith::ExtFOp::create(b, f32xW, xv)
                                         : xv);
                  Value wt =
                      memref::LoadOp::create(b, scratch, k.add(rowW[mu], sc));
                  w.push_back(k.select(k.lt(sp, S), wt, k.f(0.0)));
                }
              SmallVector<Value> out(in);
              for (int64_t mu = 0; mu < MU; ++mu)
                for (int64_t u = 0; u < U; ++u)
                  out[mu] = vector::FMAOp::create(
                      b, vector::BroadcastOp::create(b, f32xW, w[mu * U + u]),
                      x[mu * U + u], out[mu]);
              return out;
            });
        for (int64_t mu = 0; mu < MU; ++mu)
          k.ifThen(k.lt(q[mu], cnt), [&] {
            vector::StoreOp::create(
                b, acc[mu], scratch,
                ValueRange{accAt(k.add(k.mul(qc[mu], tpv), sub))});
          });
      });
    };
    // (MU, U) by the splits and vectors a lane takes; one form per branch.
    k.ifThenElse(
        k.lt(k.idx(4), Sp), [&] { sums(2, 8); },
        [&] {
          k.ifThenElse(
              k.lt(k.idx(2), Sp), [&] { sums(4, 4); },
              [&] {
                k.ifThenElse(
                    k.lt(one, Jt), [&] { sums(8, 2); }, [&] { sums(1, 2); });
              });
        });
    k.barrier();
    // Each vector: its lanes' slots in lane order, rounded into `out`.
    k.loop(tid, cnt, k.idx(NT), [&](Value q) {
      Value sum = k.loop(zero, tpv, one, ValueRange{zeros},
                         [&](Value l, ValueRange in) -> SmallVector<Value> {
                           Value a = vector::LoadOp::create(
                               b, f32xW, scratch,
                               ValueRange{accAt(k.add(k.mul(q, tpv), l))});
                           return {arith::AddFOp::create(b, in[0], a)};
                         })[0];
      storeOut(k.add(v0, q), sum);
    });
  };
  k.ifThen(k.lt(zero, cnt), [&] {
    k.ifThenElse(
        k.le(S, k.idx(kMaxFewSplits)),
        [&] {
          mergeFewSplits(
              k, src, mlPart, DV, S, tid, NT, cnt,
              [&](Value s, Value q) {
                return partRowOf(s,
                                 k.add(rho0, k.div(k.add(v0, q), k.idx(VR))));
              },
              [&](Value q) {
                return k.mul(k.rem(k.add(v0, q), k.idx(VR)), k.idx(W));
              },
              [&](Value q, Value sum) { storeOut(k.add(v0, q), sum); },
              /*inFlight=*/16, /*normalisedRows=*/normalised);
        },
        general);
  });
}
