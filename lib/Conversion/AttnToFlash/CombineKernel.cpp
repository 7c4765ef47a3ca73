//===- CombineKernel.cpp - merging the splits of a decode -----------------===//
//
// One block per (output head, query token, batch row) merges the S partial
// outputs of its score map, normalises them, applies the value epilogue and
// stores the result; combine_rows takes several batch rows per block, so
// that each load of the epilogue's weights serves all of them. What a block
// reads is small and sits in L2, so it is bound by load latency more than by
// bytes: every step issues a thread's loads together and uses them after
// (the splits' (max, sum) in one round across the lanes of a warp; several
// splits and elements per round in the merge; several weight rows per round
// in the mat-vec). A chain of one load per split or per weight row waited
// out the L2 latency up to a few hundred times per block (docs/performance.md,
// steps 22 and 23).
//
//===----------------------------------------------------------------------===//
#include "FlashKernels.h"
#include "KernelBuilder.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::attn;

// Loads in flight per thread that the merge and the mat-vec aim for (in
// the merge, 4-byte registers: with 16-byte loads 8 splits of one vector
// took 80 registers at MFA-KR, 6 blocks per SM instead of 10).
static constexpr int64_t kLoadsInFlight = 16;

gpu::GPUFuncOp mlir::attn::buildCombineKernel(OpBuilder &ob, Location loc,
                                              const FlashPlan &p,
                                              StringRef name, int64_t BB,
                                              int64_t NT, int64_t slices) {
  assert((BB == 1 || BB == p.combineRows()) && "no combine over these rows");
  assert((slices == 1 || BB == 1) && "column slices of one row only");
  const ValueEpilogue epi = p.combineEpilogue();
  // A slice's outputs are partial sums of the epilogue's mat-vec, added
  // across slices in the workspace: a plain merge has none, and the
  // post-transform's outputs also add the merged values of their column.
  assert((slices == 1 || epi == ValueEpilogue::LatentUp ||
          epi == ValueEpilogue::GatedLatentDecoder) &&
         "column slices of a mat-vec epilogue only");
  MLIRContext *ctx = ob.getContext();
  Type idxT = ob.getIndexType();
  const int64_t DV = p.valueWidth, DO = p.outWidth;
  // The block's columns of the merge: DVS of each row, from sliceCol.
  const int64_t DVS = DV / slices;
  const int64_t MS = FlashPlan::kMaxSplits;
  auto flat = flatMemRef;
  SmallVector<Type> args = {flat(ob.getF32Type()), flat(ob.getF32Type())};
  switch (epi) {
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
  args.push_back(flat(p.storage));
  if (slices > 1)
    args.append({flat(ob.getF32Type()), flat(ob.getI32Type())});
  args.append({idxT, idxT, idxT});
  FlashPlan::CombineBuffers buffers = p.combineBuffers(BB, NT, slices);
  SmallVector<Type> wg = {workgroupBuffer(ctx, buffers.merged),
                          workgroupBuffer(ctx, buffers.weights)};
  if (buffers.partials)
    wg.push_back(workgroupBuffer(ctx, buffers.partials));
  gpu::GPUFuncOp func = makeKernel(ob, loc, name, args, wg, NT);
  Block &entry = func.getBody().front();
  ImplicitLocOpBuilder b(loc, ob);
  b.setInsertionPointToStart(&entry);
  KernelBuilder k(b);
  // Traced (plan.traceBlocks): the block's entry and exit stamps.
  Value tEntry = p.traceBlocks ? k.timer() : Value();
  auto traceExit = [&] {
    if (p.traceBlocks)
      k.traceBlock(name, {tEntry, k.timer()});
  };
  unsigned a = 0;
  Value oPart = entry.getArgument(a++), mlPart = entry.getArgument(a++);
  Value w0, w1;
  if (epi != ValueEpilogue::None)
    w0 = entry.getArgument(a++);
  if (epi == ValueEpilogue::GatedLatentDecoder ||
      epi == ValueEpilogue::KeyReusePost)
    w1 = entry.getArgument(a++);
  Value out = entry.getArgument(a++);
  Value slicePart, sliceSync;
  if (slices > 1) {
    slicePart = entry.getArgument(a++);
    sliceSync = entry.getArgument(a++);
  }
  Value B = entry.getArgument(a++), Tq = entry.getArgument(a++),
        S = entry.getArgument(a++);
  Value obar = func.getWorkgroupAttributions()[0];
  Value weights = func.getWorkgroupAttributions()[1];

  Value tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  Value i = gpu::BlockIdOp::create(b, gpu::Dimension::x);
  Value slice, sliceCol;
  if (slices > 1) {
    slice = k.rem(i, k.idx(slices));
    sliceCol = k.mul(slice, k.idx(DVS));
    i = k.div(i, k.idx(slices));
  }
  Value t = gpu::BlockIdOp::create(b, gpu::Dimension::y);
  Value b0 = k.mul(gpu::BlockIdOp::create(b, gpu::Dimension::z), k.idx(BB));
  Value zero = k.idx(0), one = k.idx(1);
  Value Hq = k.idx(p.qHeads), Hout = k.idx(p.outHeads);
  // Output head i reads score map i / (outHeads / qHeads).
  Value m = k.div(i, k.idx(p.outHeads / p.qHeads));
  // Batch row of the block's row r, clamped so that rows past B (the last
  // block's) load real data; they are never stored.
  Value lastBatch = k.sub(B, one);
  auto batchOf = [&](Value r) {
    return BB == 1 ? b0 : k.min(k.add(b0, r), lastBatch);
  };
  auto base = [&](Value s, Value bIdx) {
    return k.add(k.mul(k.add(k.mul(k.add(k.mul(s, B), bIdx), Tq), t), Hq), m);
  };
  auto outRow = [&](Value bIdx) {
    return k.add(k.mul(k.add(k.mul(bIdx, Tq), t), Hout), i);
  };

  // The merge: the block's BB x DV values in vectors of W (one 16-byte
  // load of a partial output each; the runtime's workspace starts with the
  // partial outputs, DV values a row, so W-aligned columns are aligned).
  // Where the block has more threads than vectors, up to G groups of threads
  // take every GS-th split of the same vectors, GS = min(G, ceil(S / U))
  // groups in use, and add their sums through workgroup memory; otherwise
  // thread tid owns vectors tid + j NT. U splits per step, their loads
  // independent, the splits past S weighted 0. The first step's loads are
  // issued before the split weights, so their L2 latency overlaps that of
  // the (max, sum) loads. The runtime takes combine_slices only where its
  // blocks fit one an SM (KernelModule::combinesInSlices), so registers are
  // free there: twice the loads, 16 groups of 8 take 128 splits in one
  // round (MLA-16 B=1 L=32k's combine 7.2 -> 6.9 us, docs/performance.md
  // step 82).
  const FlashPlan::CombineMerge mg = p.combineMerge(BB, NT, slices);
  const int64_t W = mg.width, V = mg.vectors, G = mg.groups;
  const int64_t J = llvm::divideCeil(V, NT);
  const int64_t inFlight = slices > 1 ? 2 * kLoadsInFlight : kLoadsInFlight;
  const int64_t U = std::clamp<int64_t>(inFlight / (J * W), 1, 8);
  Value lastSplit = k.sub(S, one);
  Value GS = one, group = zero, active;
  if (G > 1) {
    GS = k.min(k.idx(G), k.div(k.add(S, k.idx(U - 1)), k.idx(U)));
    // Threads of the groups not in use start past every split.
    active = k.lt(tid, k.mul(GS, k.idx(V)));
    group = k.select(active, k.div(tid, k.idx(V)), S);
  }
  SmallVector<Value> vecOf, rowOf, colOf, batch;
  for (int64_t j = 0; j < J; ++j) {
    Value v = G > 1 ? k.rem(tid, k.idx(V)) : k.add(tid, k.idx(j * NT));
    vecOf.push_back(v);
    Value vc = V % NT == 0 || G > 1 ? v : k.min(v, k.idx(V - 1));
    rowOf.push_back(BB == 1 ? zero : k.div(vc, k.idx(DV / W)));
    colOf.push_back(k.mul(BB == 1 ? vc : k.rem(vc, k.idx(DV / W)), k.idx(W)));
    if (slices > 1)
      colOf.back() = k.add(colOf.back(), sliceCol);
    batch.push_back(batchOf(rowOf[j]));
  }
  Type accT = W == 1 ? Type(k.f32()) : VectorType::get({W}, k.f32());
  auto loadParts = [&](Value s0, int64_t n) {
    SmallVector<Value> v;
    for (int64_t u = 0; u < n; ++u) {
      Value s = k.min(k.add(s0, k.mul(k.idx(u), GS)), lastSplit);
      for (int64_t j = 0; j < J; ++j) {
        Value at = k.add(k.mul(base(s, batch[j]), k.idx(DV)), colOf[j]);
        v.push_back(W == 1 ? memref::LoadOp::create(b, oPart, at).getResult()
                           : vector::LoadOp::create(
                                 b, accT, oPart, ValueRange{at},
                                 /*nontemporal=*/false, llvm::MaybeAlign(4 * W))
                                 .getResult());
      }
    }
    return v;
  };
  // acc[j] += weight(s) * v for the n splits s0, s0 + GS, ... (0 past S).
  auto accumulate = [&](Value s0, int64_t n, ArrayRef<Value> v, ValueRange in) {
    SmallVector<Value> acc(in);
    for (int64_t u = 0; u < n; ++u) {
      Value s = k.add(s0, k.mul(k.idx(u), GS));
      Value w;
      for (int64_t j = 0; j < J; ++j) {
        // One row: one weight per split for all of the thread's vectors.
        if (BB > 1 || j == 0)
          w = k.select(k.lt(s, S),
                       memref::LoadOp::create(b, weights,
                                              k.add(k.mul(rowOf[j], k.idx(MS)),
                                                    k.min(s, lastSplit))),
                       k.f(0.0));
        Value wv = W == 1 ? w : vector::BroadcastOp::create(b, accT, w);
        acc[j] = W == 1 ? k.fma(w, v[u * J + j], acc[j])
                        : vector::FMAOp::create(b, wv, v[u * J + j], acc[j])
                              .getResult();
      }
    }
    return acc;
  };
  // The epilogue's mat-vec weights, set up before the merge: its first
  // step's loads depend on no merged value.
  Value head = epi == ValueEpilogue::KeyReusePost ? zero : i;
  Value w = epi == ValueEpilogue::LatentUp ? w0 : w1;
  // The weight of the slice's merged column c for output e.
  auto weightAt = [&](Value c, Value e) {
    if (slices > 1)
      c = k.add(c, sliceCol);
    return k.add(k.mul(k.add(k.mul(head, k.idx(DV)), c), k.idx(DO)), e);
  };
  // Rows share a thread's weight loads: one row keeps the column groups
  // apart (cg = tid / columns) so a warp's loads cover two whole weight rows;
  // several rows put the groups in adjacent lanes for the shuffles.
  const int64_t VEC = p.combineVector(NT);
  const int64_t cGroups = VEC ? NT / (DO / VEC) : 1;
  const bool vecMatVec = epi != ValueEpilogue::None && VEC;
  Value cg, col;
  Type elem;
  int64_t bytes = 0, UC = 1;
  bool exact = true;
  if (vecMatVec) {
    cg = BB == 1 ? k.div(tid, k.idx(DO / VEC)) : k.rem(tid, k.idx(cGroups));
    col = k.mul(BB == 1 ? k.rem(tid, k.idx(DO / VEC))
                        : k.div(tid, k.idx(cGroups)),
                k.idx(VEC));
    elem = cast<MemRefType>(w.getType()).getElementType();
    bytes = VEC * cast<FloatType>(elem).getWidth() / 8;
    const int64_t perThread = llvm::divideCeil(DVS, cGroups);
    UC = std::min<int64_t>(BB == 1 ? 8 : 4, perThread);
    exact = DVS % cGroups == 0 && perThread % UC == 0;
  }
  // One step's weight vectors: columns c0 + u cGroups, u < UC (clamped).
  auto loadWeights = [&](Value c0) {
    SmallVector<Value> vs;
    auto vt = VectorType::get({VEC}, elem);
    for (int64_t u = 0; u < UC; ++u) {
      Value c = k.add(c0, k.idx(u * cGroups));
      vs.push_back(vector::LoadOp::create(
          b, vt, w,
          ValueRange{weightAt(exact ? c : k.min(c, k.idx(DVS - 1)), col)},
          /*nontemporal=*/false, llvm::MaybeAlign(bytes)));
    }
    return vs;
  };
  // A step's FMAs into every row's outputs (columns past DVS weighted 0).
  auto matVecStep = [&](Value c0, ArrayRef<Value> vs, ValueRange in) {
    SmallVector<Value> outs(in);
    for (int64_t u = 0; u < UC; ++u) {
      Value c = k.add(c0, k.idx(u * cGroups));
      Value cIn = exact ? c : k.min(c, k.idx(DVS - 1));
      SmallVector<Value> we;
      for (int64_t e = 0; e < VEC; ++e) {
        Value x = vector::ExtractOp::create(b, vs[u], e);
        if (cast<FloatType>(elem).getWidth() < 32)
          x = arith::ExtFOp::create(b, k.f32(), x);
        we.push_back(x);
      }
      Value valid = k.lt(c, k.idx(DVS));
      for (int64_t r = 0; r < BB; ++r) {
        Value x = memref::LoadOp::create(b, obar, k.add(k.idx(r * DVS), cIn));
        if (!exact)
          x = k.select(valid, x, k.f(0.0));
        for (int64_t e = 0; e < VEC; ++e)
          outs[r * VEC + e] = k.fma(x, we[e], outs[r * VEC + e]);
      }
    }
    return outs;
  };
  // The mat-vec's first weights go out now, before the merge, so that their
  // latency overlaps that of the split loads (docs/performance.md, step 72).
  SmallVector<Value> firstWeights;
  if (vecMatVec)
    firstWeights = loadWeights(cg);
  SmallVector<Value> first = loadParts(group, U);
  Value accZero =
      W == 1
          ? k.f(0.0)
          : arith::ConstantOp::create(
                b, accT, DenseElementsAttr::get(cast<VectorType>(accT), 0.0f))
                .getResult();
  SmallVector<Value> init(J, accZero);

  // Split weights exp(m_s - M) / sum of each row: lane j of a warp holds
  // splits j, j + 32, ... (S <= kMaxSplits), so the warp finds M and the
  // sum with two shuffle reductions after one round of loads. Warp w takes
  // rows w, w + warps, ...; with one row every warp computes it (no lane
  // diverges around the shuffles) and the first stores it.
  Value lane = k.rem(tid, k.idx(32)), warp = k.div(tid, k.idx(32));
  const int64_t NW = NT / 32, slots = llvm::divideCeil(MS, 32);
  const int64_t rounds = llvm::divideCeil(BB, NW);
  for (int64_t rr = 0; rr < rounds; ++rr) {
    Value r = BB == 1 ? zero : k.add(warp, k.idx(rr * NW));
    Value mine = BB == 1 ? k.eq(warp, zero) : k.lt(r, k.idx(BB));
    Value bIdx = batchOf(r);
    SmallVector<Value> splitOf, ok, ms, ls;
    for (int64_t j = 0; j < slots; ++j) {
      Value s = k.add(lane, k.idx(32 * j));
      Value at = k.mul(base(k.min(s, lastSplit), bIdx), k.idx(2));
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
    Value inv = k.reciprocalOrZero(total);
    for (int64_t j = 0; j < slots; ++j)
      k.ifThen(k.land(mine, ok[j]), [&] {
        k.store(k.mulf(es[j], inv), weights,
                k.add(k.mul(r, k.idx(MS)), splitOf[j]));
      });
  }
  k.barrier();

  SmallVector<Value> merged = accumulate(group, U, first, init);
  Value step = k.mul(GS, k.idx(U));
  merged =
      k.loop(k.add(group, step), S, step, merged, [&](Value s0, ValueRange in) {
        return accumulate(s0, U, loadParts(s0, U), in);
      });
  auto storeVec = [&](Value v, Value at) {
    if (W == 1)
      k.store(v, obar, at);
    else
      vector::StoreOp::create(b, v, obar, ValueRange{at}, /*nontemporal=*/false,
                              llvm::MaybeAlign(4 * W));
  };
  if (G > 1) {
    // Each group's sums, then thread e adds element e of every group.
    k.ifThen(active, [&] {
      storeVec(merged[0],
               k.add(k.mul(group, k.idx(BB * DVS)), k.mul(vecOf[0], k.idx(W))));
    });
    k.barrier();
    k.loop(tid, k.idx(BB * DVS), k.idx(NT), [&](Value e) {
      Value sum = k.reduce(
          one, GS, memref::LoadOp::create(b, obar, e), [&](Value g, Value acc) {
            return k.addf(acc,
                          memref::LoadOp::create(
                              b, obar, k.add(e, k.mul(g, k.idx(BB * DVS)))));
          });
      k.store(sum, obar, e);
    });
  } else {
    for (int64_t j = 0; j < J; ++j) {
      Value at = k.mul(vecOf[j], k.idx(W));
      if (V % NT == 0)
        storeVec(merged[j], at);
      else
        k.ifThen(k.lt(vecOf[j], k.idx(V)), [&] { storeVec(merged[j], at); });
    }
  }
  k.barrier();

  // The stored value of output e of row r, given the mat-vec's sum.
  auto finish = [&](Value r, Value bIdx, Value e, Value sum) {
    Value val;
    switch (epi) {
    case ValueEpilogue::None:
      val = memref::LoadOp::create(b, obar, k.add(k.mul(r, k.idx(DV)), e));
      break;
    case ValueEpilogue::LatentUp:
      val = sum;
      break;
    case ValueEpilogue::GatedLatentDecoder:
      val = k.mulf(sum, k.loadF32(w0, k.add(k.mul(outRow(bIdx), k.idx(DO)), e)));
      break;
    case ValueEpilogue::KeyReusePost:
      val = k.addf(
          memref::LoadOp::create(b, obar, k.add(k.mul(r, k.idx(DV)), e)),
          k.mulf(k.loadF32(w0, e), sum));
      break;
    }
    k.storeF32(val, out, k.add(k.mul(outRow(bIdx), k.idx(DO)), e));
  };

  // One row's output e, given the block's mat-vec sum over its slice: with
  // one slice the result; with several the slice's partial sum, stored in
  // combine_part for the row's last block (lastSliceFinishes).
  Value sliceRow = outRow(b0);
  auto finishRow = [&](Value e, Value sum) {
    if (slices == 1)
      return finish(zero, b0, e, sum);
    k.store(
        sum, slicePart,
        k.add(k.mul(k.add(k.mul(sliceRow, k.idx(slices)), slice), k.idx(DO)),
              e));
  };
  // The row's blocks count their arrivals once their sums are stored; the
  // last adds the slices' sums in slice order (the same result every run)
  // and finishes the row.
  auto lastSliceFinishes = [&] {
    if (slices == 1)
      return;
    Value flag = weights; // the split weights are used by now
    k.barrier();
    k.ifThen(k.eq(tid, zero), [&] {
      Value old =
          k.arrive(k.counterPointer(sliceSync, sliceRow),
                   arith::ConstantIntOp::create(b, b.getI32Type(), slices - 1));
      k.deviceFence();
      Value last = arith::CmpIOp::create(
          b, arith::CmpIPredicate::eq, old,
          arith::ConstantIntOp::create(b, b.getI32Type(), slices - 1));
      k.store(k.select(last, k.f(1.0), k.f(0.0)), flag, zero);
    });
    k.barrier();
    k.ifThen(k.feq(memref::LoadOp::create(b, flag, zero), k.f(1.0)), [&] {
      k.loop(tid, k.idx(DO), k.idx(NT), [&](Value e) {
        Value at = k.add(k.mul(k.mul(sliceRow, k.idx(slices)), k.idx(DO)), e);
        SmallVector<Value> parts;
        for (int64_t s = 0; s < slices; ++s)
          parts.push_back(
              memref::LoadOp::create(b, slicePart, k.add(at, k.idx(s * DO))));
        Value sum = parts[0];
        for (int64_t s = 1; s < slices; ++s)
          sum = k.addf(sum, parts[s]);
        finish(zero, b0, e, sum);
      });
    });
  };

  // The epilogue's mat-vec, sum_c obar[r][c] * w[(head * DV + c) * DO + e]
  // (up-projection, decoder, post-transform). Each thread owns VEC adjacent
  // outputs (one 16-byte load of w per c) of all the block's rows and every
  // cGroups-th c, UC of them per step; the cGroups partial sums of an
  // output are added through workgroup memory (one row) or by shuffles
  // (several rows: the groups are adjacent lanes).
  if (epi != ValueEpilogue::None && !VEC) {
    // One thread per output, eight independent loads per step.
    Value red = func.getWorkgroupAttributions()[2];
    k.loop(tid, k.idx(DO), k.idx(NT), [&](Value e) {
      int64_t U8 = DVS % 8 == 0 ? 8 : 1;
      SmallVector<Value> parts = k.loop(
          zero, k.idx(DVS), k.idx(U8), SmallVector<Value>(U8, k.f(0.0)),
          [&](Value c0, ValueRange in) -> SmallVector<Value> {
            SmallVector<Value> outs;
            for (int64_t u = 0; u < U8; ++u) {
              Value c = k.add(c0, k.idx(u));
              outs.push_back(k.fma(memref::LoadOp::create(b, obar, c),
                                   k.loadF32(w, weightAt(c, e)), in[u]));
            }
            return outs;
          });
      Value sum = parts[0];
      for (int64_t u = 1; u < U8; ++u)
        sum = k.addf(sum, parts[u]);
      k.store(sum, red, e);
    });
    k.barrier();
    k.loop(tid, k.idx(DO), k.idx(NT),
           [&](Value e) { finishRow(e, memref::LoadOp::create(b, red, e)); });
    lastSliceFinishes();
    traceExit();
    gpu::ReturnOp::create(b);
    return func;
  }
  if (epi == ValueEpilogue::None) {
    if (BB == 1)
      k.loop(tid, k.idx(DO), k.idx(NT),
             [&](Value e) { finish(zero, b0, e, Value()); });
    else // the block's rows, those past B not stored
      k.loop(tid, k.idx(BB * DO), k.idx(NT), [&](Value e) {
        Value r = k.div(e, k.idx(DO)), bIdx = k.add(b0, r);
        k.ifThen(k.lt(bIdx, B),
                 [&] { finish(r, bIdx, k.rem(e, k.idx(DO)), Value()); });
      });
    traceExit();
    gpu::ReturnOp::create(b);
    return func;
  }
  SmallVector<Value> zeros(BB * VEC, k.f(0.0));
  // The first step's weights were loaded with the first partial outputs.
  SmallVector<Value> acc = matVecStep(cg, firstWeights, zeros);
  acc = k.loop(k.add(cg, k.idx(cGroups * UC)), k.idx(DVS), k.idx(cGroups * UC),
               acc, [&](Value c0, ValueRange in) -> SmallVector<Value> {
                 return matVecStep(c0, loadWeights(c0), in);
               });
  if (BB == 1) {
    Value red = func.getWorkgroupAttributions()[2];
    for (int64_t u = 0; u < VEC; ++u)
      k.store(acc[u], red, k.add(k.mul(cg, k.idx(DO)), k.add(col, k.idx(u))));
    k.barrier();
    k.loop(tid, k.idx(DO), k.idx(NT), [&](Value e) {
      Value sum = k.f(0.0);
      for (int64_t g = 0; g < cGroups; ++g)
        sum = k.addf(sum, memref::LoadOp::create(
                              b, red, k.add(k.idx(g * DO), e)));
      finishRow(e, sum);
    });
    lastSliceFinishes();
    traceExit();
    gpu::ReturnOp::create(b);
    return func;
  }
  for (Value &v : acc)
    v = k.laneReduce(v, cGroups, /*max=*/false);
  // Every lane of a group holds the sums; lane r % cGroups stores row r.
  for (int64_t r = 0; r < BB; ++r) {
    Value bIdx = k.add(b0, k.idx(r));
    k.ifThen(k.land(k.eq(cg, k.idx(r % cGroups)), k.lt(bIdx, B)), [&] {
      for (int64_t e = 0; e < VEC; ++e)
        finish(k.idx(r), bIdx, k.add(col, k.idx(e)), acc[r * VEC + e]);
    });
  }
  traceExit();
  gpu::ReturnOp::create(b);
  return func;
}
