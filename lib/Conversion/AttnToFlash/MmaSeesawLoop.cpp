//===- MmaSeesawLoop.cpp - the wgmma kernel's seesaw over tile pairs ------===//
//
// FlashMLA's seesaw (plan.seesaw) for the two-stage TMA loop of the
// warpgroup kernel: warpgroup g owns value columns g DV/2 .. (O_g) and the
// loop takes the tiles in pairs, tile A in slot 0 and tile B in slot 1:
//
//   WG0  S_A = Q K_A^T (m64n64)        WG1  S_B = Q K_B^T (m64n64)
//        m_A = max(m, rowmax S_A)  ->       m_B = max(m_A, rowmax S_B)
//        P_A = exp2(S_A - m_A)     ->       P_B = exp2(S_B - m_B)
//        O_0 = O_0 a + P_A V_A0             O_1 = O_1 a' + P_A V_A1
//        O_0 = O_0 exp2(m_A - m_B)     <-   O_1 = O_1 exp2(m_A - m_B)
//              + P_B V_B0                         + P_B V_B1
//
// so that one warpgroup's softmax runs while the other's products are on
// the tensor cores. The row maxima and P pass through workgroup memory
// (P_A in the block of slot 0 that only the scores read, P_B in the
// probability buffer, both in the 128-byte swizzle the A operand takes),
// ordered by named barriers; P_A is stored once, at m_A's scale (each
// warpgroup moves its accumulators to m_B's between its two products).
// Each 64-column block of a slot has its own mbarrier; a block is copied
// again (the next pair's tile) by the warpgroup that reads it last, as
// soon as it is done: WG0 its value blocks, WG1 every other block (slot
// 0's once both P_A products are done, barrier kReleasedA). Each
// warpgroup scores the blocks it refills first (the others come in later).
//
// Every pair's two tiles are copied, tile B also past the cache range
// (rows beyond the tensor come in as zeros): the scores mask it and the
// rows past jEnd are zeroed in the value blocks before P V, so every
// mbarrier completes once per pair and no wait is conditional.
//
//===----------------------------------------------------------------------===//
#include "Wgmma.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::attn;

namespace {
/// Named barriers (0 is the block's): the pair's hand-overs between the
/// warpgroups (256 threads: one arrives, the other waits) and each
/// warpgroup's own (128).
enum NamedBarrier : int64_t {
  kMaxA = 1,      // WG0 published m_A
  kMaxB = 2,      // WG1 published m_B and P_B
  kProbsA = 3,    // WG0 published P_A
  kReleasedA = 4, // WG0's products of tile A are done
  kOwnBase = 5,   // + g: warpgroup g's threads
};
} // namespace

SmallVector<Value> WarpgroupFrame::seesawLoop(Value jBegin) {
  ImplicitLocOpBuilder &b = k.b;
  const FlashPlan::MmaLayout &lay = stage.lay;
  int64_t N = p.tileRows, DK = p.keyWidth, DG = p.valueWidth / 2;
  int64_t eb = int64_t(p.elementBytes()), cols = FlashPlan::kTileBlockColumns;
  int64_t nO = DG / 8 * 4, NS = N / 8;
  assert(p.seesaw && N == 64 && p.warpgroups == 2 && !p.separate() &&
         "the seesaw's plan");

  // Blocks: warpgroup 0's value blocks, and every other one (warpgroup 1's
  // values, the rotary key, the block P_A takes).
  SmallVector<int64_t> blocks0, others;
  for (int64_t c = 0; c < p.tileBlocks(); ++c) {
    int64_t col = c * cols;
    bool mine = col >= p.valueBegin && col < p.valueBegin + DG;
    (mine ? blocks0 : others).push_back(c);
  }
  SmallVector<int64_t> blocks1;
  for (int64_t c = (p.valueBegin + DG) / cols;
       c < (p.valueBegin + 2 * DG) / cols; ++c)
    blocks1.push_back(c);
  int64_t slotBytes = N * lay.kPitch * eb;
  int64_t probsA = lay.k + p.seesawScoreBlock() * N * 128, probsB = lay.p;

  auto i32 = [&](int64_t v) {
    return arith::ConstantIntOp::create(b, b.getI32Type(), v);
  };
  auto sync = [&](int64_t id, int64_t threads) {
    NVVM::BarrierOp::create(b, TypeRange{}, i32(id), i32(threads), {}, Value());
  };
  auto arrive = [&](int64_t id) {
    NVVM::BarrierArriveOp::create(b, i32(id), i32(256));
  };
  // The workgroup address `bytes` into the buffers, plus a zero that LLVM
  // cannot see through: with static slots every descriptor of the loop is
  // invariant, and hoisting them all (~140 registers) made ptxas spill.
  Value zero;
  auto addrInLoop = [&](int64_t bytes) {
    return arith::AddIOp::create(b, addr(bytes), zero);
  };
  // Scores of the tile in `slot`, its blocks waited for and multiplied in
  // `order`: one m64n64 chain, committed, not waited for.
  auto issueScores = [&](int64_t slot, ArrayRef<int64_t> order, Value parity) {
    SmallVector<Value> s(NS * 4, k.f(0.0));
    Value qBase =
        wg.descriptor(addrInLoop(lay.q), 128, 8 * lay.qPitch * eb, false);
    Value kBase =
        wg.descriptor(addrInLoop(lay.k + slot * slotBytes), 16, 1024, true);
    bool first = true;
    for (int64_t c : order) {
      SmallVector<int64_t> steps;
      for (int64_t ks = 0; ks < DK / 16; ++ks)
        if (p.tileKeyColumn(16 * ks) / cols == c)
          steps.push_back(ks);
      if (steps.empty())
        continue;
      stage.waitBlock(k.idx(slot), c, parity);
      // What ptxas would insert after the wait (C7519): the registers the
      // chain uses are this thread's again.
      wg.fence();
      for (int64_t ks : steps) {
        int64_t c0 = p.tileKeyColumn(16 * ks);
        s = wg.mma(wg.advance(qBase, 16 * ks / 8 * 128),
                   wg.advance(kBase, c0 / cols * N * 128 + c0 % cols * eb), s,
                   /*zero=*/first, /*transB=*/false);
        first = false;
      }
    }
    wg.commit();
    return s;
  };
  // O += P V for warpgroup g's value blocks of the tile in `slot`, P at
  // byte `probs`: committed, not waited for.
  auto issueValues = [&](int64_t g, int64_t slot, int64_t probs,
                         ArrayRef<Value> o) {
    Value pBase = wg.descriptor(addrInLoop(probs), 16, 1024, true);
    int64_t firstBlock = (p.valueBegin + g * DG) / cols;
    Value vBase = wg.descriptor(
        addrInLoop(lay.k + slot * slotBytes + firstBlock * N * 128), N * 128,
        1024, true);
    SmallVector<Value> out(o.begin(), o.end());
    wg.fence();
    for (int64_t c = 0; c < N / 16; ++c)
      out = wg.mma(wg.advance(pBase, 32 * c), wg.advance(vBase, 2 * c * 1024),
                   out, /*zero=*/false, /*transB=*/true);
    wg.commit();
    return out;
  };
  // The lane's probabilities (rows rowOf(h), times scale[h] if given) into
  // the 64 x 64 block at byte `probs`.
  Value probsAView = stage.view(probsA, N * 64, p.storage);
  Value probsBView = stage.view(probsB, N * 64, p.storage);
  auto storeProbs = [&](ArrayRef<Value> s, Value view,
                        ArrayRef<Value> scale = {}) {
    auto pairType = VectorType::get({2}, p.storage);
    for (int64_t h = 0; h < 2; ++h)
      for (int64_t ns = 0; ns < NS; ++ns) {
        Value x = s[ns * 4 + 2 * h], y = s[ns * 4 + 2 * h + 1];
        if (!scale.empty()) {
          x = k.mulf(x, scale[h]);
          y = k.mulf(y, scale[h]);
        }
        Value pair = vector::FromElementsOp::create(
            b, VectorType::get({2}, k.f32()), ValueRange{x, y});
        Value col = k.add(k.idx(8 * ns), k.mul(ln.t4, k.idx(2)));
        vector::StoreOp::create(b, arith::TruncFOp::create(b, pairType, pair),
                                view,
                                ValueRange{stage.swizzledAt(rowOf(h), col, 64)},
                                /*nontemporal=*/false, llvm::MaybeAlign(4));
      }
  };
  auto exponentiateBoth = [&](MutableArrayRef<Value> s, ArrayRef<Value> m) {
    return SmallVector<Value>{exponentiate(s, 0, m[0]),
                              exponentiate(s, 1, m[1])};
  };
  // O times scale[h] per row half, where some row of the warp grew.
  auto rescale = [&](ArrayRef<Value> o, Value grew, ArrayRef<Value> scale) {
    return rescaleIfAnyGrew(k, grew, o, [&](MutableArrayRef<Value> x) {
      for (int64_t i = 0; i < int64_t(x.size()); ++i)
        x[i] = k.mulf(x[i], scale[(i % 4) / 2]);
    });
  };
  auto publishMax = [&](ArrayRef<Value> m, int64_t at) {
    k.ifThen(k.eq(ln.t4, k.idx(0)), [&] {
      for (int64_t h = 0; h < 2; ++h)
        k.store(m[h], mlBuf, k.add(k.idx(at), rowOf(h)));
    });
  };
  auto readMax = [&](int64_t at) {
    SmallVector<Value> m;
    for (int64_t h = 0; h < 2; ++h)
      m.push_back(memref::LoadOp::create(b, mlBuf, k.add(k.idx(at), rowOf(h))));
    return m;
  };
  auto grewAny = [&](ArrayRef<Value> now, ArrayRef<Value> before) {
    return k.lor(k.fgt(now[0], before[0]), k.fgt(now[1], before[1]));
  };
  Value tidInGroup = k.rem(f.tid, k.idx(128));
  auto issuer = [&](int64_t g) { return k.eq(f.tid, k.idx(128 * g)); };

  // The first pair, then the loop over pairs.
  k.ifThen(k.land(issuer(0), k.lt(jBegin, f.jEnd)), [&] {
    stage.copyBlocks(jBegin, k.idx(0), blocks0);
    stage.copyBlocks(jBegin, k.idx(0), others);
    stage.copyBlocks(k.add(jBegin, k.idx(N)), k.idx(1), blocks0);
    stage.copyBlocks(k.add(jBegin, k.idx(N)), k.idx(1), others);
  });
  stage.wait(0); // the query rows
  wg.fenceProxy();
  k.barrier();

  SmallVector<Value> init(nO, k.f(0.0));
  init.append(2, k.negInf());
  init.append(2, k.f(0.0));
  auto body = [&](int64_t g, Value j0, ValueRange in) -> SmallVector<Value> {
    SmallVector<Value> o(in.begin(), in.begin() + nO);
    SmallVector<Value> m = {in[nO], in[nO + 1]};
    SmallVector<Value> l = {in[nO + 2], in[nO + 3]};
    zero = LLVM::InlineAsmOp::create(
               b, b.getI64Type(),
               ValueRange{arith::IndexCastOp::create(b, b.getI64Type(), j0)},
               "and.b64 $0, $1, 0;", "=l,l", /*has_side_effects=*/false,
               /*is_align_stack=*/false, LLVM::tailcallkind::TailCallKind::None,
               LLVM::AsmDialectAttr(), ArrayAttr())
               .getResult(0);
    Value jA = j0, jB = k.add(j0, k.idx(N)), jNext = k.add(j0, k.idx(2 * N));
    Value parity = k.rem(k.div(k.sub(j0, jBegin), k.idx(2 * N)), k.idx(2));
    Value more = k.lt(jNext, f.jEnd);
    // Warpgroup g's issuer copies the next pair's tile of `slot` into
    // `blocks`, which its threads are done with: the fence orders the rows
    // they zeroed before the copies overwrite them.
    auto refill = [&](int64_t g, int64_t slot, ArrayRef<int64_t> blocks) {
      k.ifThen(k.land(issuer(g), more), [&] {
        wg.fenceProxy();
        stage.copyBlocks(slot ? k.add(jNext, k.idx(N)) : jNext, k.idx(slot),
                         blocks);
      });
    };
    Value col0 = k.mul(ln.t4, k.idx(2));
    auto own = [&] { sync(kOwnBase + g, 128); };
    auto clearAndHandOff = [&](Value jt, int64_t slot,
                               ArrayRef<int64_t> blocks) {
      stage.clearRowsPast(jt, k.idx(slot), blocks, tidInGroup, 128);
      wg.fenceProxy();
      own();
    };
    // Where the product's other operand came through the other warpgroup's
    // barrier: a hand-off within the warpgroup only after zeroing rows.
    auto clearIfPartial = [&](Value jt, int64_t slot,
                              ArrayRef<int64_t> blocks) {
      k.ifThen(k.lt(f.jEnd, k.add(jt, k.idx(N))),
               [&] { clearAndHandOff(jt, slot, blocks); });
    };
    if (g == 0) {
      SmallVector<Value> s = issueScores(
          0, llvm::to_vector(llvm::concat<int64_t>(blocks0, others)), parity);
      wg.wait(0);
      SmallVector<Value> mA;
      for (int64_t h = 0; h < 2; ++h)
        mA.push_back(maskedRowMax(s, h, k.add(jA, col0), m[h]));
      publishMax(mA, 0);
      arrive(kMaxA);
      SmallVector<Value> alpha, rowsA = exponentiateBoth(s, mA);
      for (int64_t h = 0; h < 2; ++h) {
        alpha.push_back(k.exp2(k.subf(m[h], k.finiteMax(mA[h]))));
        l[h] = k.addf(k.mulf(l[h], alpha[h]), rowsA[h]);
      }
      o = rescale(o, grewAny(mA, m), alpha);
      stage.clearRowsPast(jA, k.idx(0), blocks0, tidInGroup, 128);
      storeProbs(s, probsAView);
      wg.fenceProxy();
      arrive(kProbsA);
      own();
      o = issueValues(0, 0, probsA, o);
      sync(kMaxB, 256);
      SmallVector<Value> mB = readMax(64), toB;
      for (int64_t h = 0; h < 2; ++h) {
        toB.push_back(k.exp2(k.subf(mA[h], k.finiteMax(mB[h]))));
        l[h] = k.mulf(l[h], toB[h]);
      }
      wg.wait(0);
      arrive(kReleasedA);
      own(); // every warp's reads of its value blocks of slot 0 are done
      refill(0, 0, blocks0);
      o = rescale(o, grewAny(mB, mA), toB);
      for (int64_t c : blocks0)
        stage.waitBlock(k.idx(1), c, parity);
      clearIfPartial(jB, 1, blocks0);
      o = issueValues(0, 1, probsB, o);
      wg.wait(0);
      own();
      refill(0, 1, blocks0);
      m = mB;
    } else {
      SmallVector<Value> s = issueScores(
          1, llvm::to_vector(llvm::concat<int64_t>(others, blocks0)), parity);
      wg.wait(0);
      SmallVector<Value> rowMax;
      for (int64_t h = 0; h < 2; ++h)
        rowMax.push_back(maskedRowMax(s, h, k.add(jB, col0), k.negInf()));
      sync(kMaxA, 256);
      SmallVector<Value> mA = readMax(0), mB, toA, toB;
      for (int64_t h = 0; h < 2; ++h) {
        mB.push_back(k.maxf(mA[h], rowMax[h]));
        toA.push_back(k.exp2(k.subf(m[h], k.finiteMax(mA[h]))));
        toB.push_back(k.exp2(k.subf(mA[h], k.finiteMax(mB[h]))));
      }
      SmallVector<Value> rowsB = exponentiateBoth(s, mB);
      for (int64_t h = 0; h < 2; ++h)
        l[h] = k.addf(k.mulf(k.mulf(l[h], toA[h]), toB[h]), rowsB[h]);
      publishMax(mB, 64);
      storeProbs(s, probsBView);
      wg.fenceProxy();
      arrive(kMaxB);
      // O_1 at m_A's scale takes P_A as warpgroup 0 stored it, then moves to
      // m_B's for P_B: no second copy of P_A at m_B's scale.
      o = rescale(o, grewAny(mA, m), toA);
      for (int64_t c : blocks1)
        stage.waitBlock(k.idx(0), c, parity);
      sync(kProbsA, 256);
      clearIfPartial(jA, 0, blocks1);
      o = issueValues(1, 0, probsA, o);
      wg.wait(0);
      o = rescale(o, grewAny(mB, mA), toB);
      clearAndHandOff(jB, 1, blocks1);
      o = issueValues(1, 1, probsB, o);
      // Warpgroup 0's reads of slot 0 are done, and (256 threads) this
      // warpgroup's.
      sync(kReleasedA, 256);
      refill(1, 0, others);
      wg.wait(0);
      own();
      refill(1, 1, others);
      m = mB;
    }
    SmallVector<Value> out = o;
    out.append(m.begin(), m.end());
    out.append(l.begin(), l.end());
    return out;
  };
  // Each warpgroup its own loop over the same pairs.
  auto loopOf = [&](int64_t g) {
    return k.loop(jBegin, f.jEnd, k.idx(2 * N), init,
                  [&](Value j0, ValueRange in) { return body(g, j0, in); });
  };
  auto ifOp =
      scf::IfOp::create(b, TypeRange(ValueRange(init)), k.eq(group, k.idx(0)),
                        /*withElseRegion=*/true);
  for (int64_t g = 0; g < 2; ++g) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(g == 0 ? &ifOp.getThenRegion().front()
                                      : &ifOp.getElseRegion().front());
    scf::YieldOp::create(b, loopOf(g));
  }
  return SmallVector<Value>(ifOp.getResults());
}
