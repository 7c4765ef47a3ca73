//===- StreamKernel.cpp - the streaming decode kernel ---------------------===//
//
// For few query rows per cache group (decode of MHA, GQA, GTA, Sun's GTA):
// every warp streams whole cache rows straight into registers with vector
// loads, each lane owning a slice of the row's columns. A score is a lane
// partial dot product plus a warp reduction; each lane keeps the online
// softmax state and its slice of the accumulators. A tied row is loaded once
// and read as key (through the query slots that meet it) and as value. The
// warps' states merge through workgroup memory at the end. Same arguments
// and partial outputs as the tiled kernel, so combine and the runtime are
// shared.
//
//===----------------------------------------------------------------------===//
#include "FlashKernels.h"
#include "KernelBuilder.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::attn;

gpu::GPUFuncOp mlir::attn::buildStreamingForwardKernel(OpBuilder &ob,
                                                       Location loc,
                                                       const FlashPlan &p,
                                                       StringRef name) {
  MLIRContext *ctx = ob.getContext();
  const bool sep = p.separate();
  const int64_t R = p.rowsPerBlock, NT = p.threads, NW = NT / 32;
  const int64_t DK = p.keyWidth, DV = p.valueWidth;
  const int64_t VK = p.vecK, VV = p.vecV;
  const int64_t SK = p.keySlots(), SV = p.valueSlots(), AW = p.accWidth();
  const int64_t CK = SK / VK, CV = SV / VV;
  SmallVector<Type> args = ForwardFrame::argumentTypes(ob, p);
  SmallVector<Type> wg = {workgroupBuffer(ctx, NW * R * AW),
                          workgroupBuffer(ctx, NW * R),
                          workgroupBuffer(ctx, NW * R)};
  gpu::GPUFuncOp func = makeKernel(ob, loc, name, args, wg, NT);

  Block &entry = func.getBody().front();
  ImplicitLocOpBuilder b(loc, ob);
  b.setInsertionPointToStart(&entry);
  KernelBuilder k(b);
  ForwardFrame f(k, entry, p);
  // The key stream is the keys (separate) or the tied / latent rows.
  Value q = f.q, keys = sep ? f.keys : f.rows, values = f.values,
        rope = f.rope, oPart = f.oPart, mlPart = f.mlPart, L = f.L;
  Value accW = func.getWorkgroupAttributions()[0];
  Value mW = func.getWorkgroupAttributions()[1];
  Value lW = func.getWorkgroupAttributions()[2];

  Value tid = f.tid, zero = k.idx(0), one = k.idx(1), w32 = k.idx(32);
  Value lane = k.rem(tid, w32), warp = k.div(tid, w32);
  Value Hkv = f.Hkv, gk = f.gk, bIdx = f.bIdx, rowsTotal = f.rowsTotal,
        rho0 = f.rho0, jBegin = f.jBegin, jEnd = f.jEnd;
  // Tile column of slot (chunk c, element e) of this lane.
  auto column = [&](int64_t c, int64_t e, int64_t vec) {
    return k.add(k.mul(k.add(k.idx(c * 32), lane), k.idx(vec)), k.idx(e));
  };

  // The query slices of this lane: key-view columns d = (32 c + lane) vec + e
  // (the query is laid out as the key view: non-rotary part, then rotary).
  SmallVector<Value> qv;
  for (int64_t r = 0; r < R; ++r) {
    Value rho = k.add(rho0, k.idx(r));
    Value rowOk = k.lt(rho, rowsTotal);
    Value base = k.mul(f.queryRow(k.min(rho, k.sub(rowsTotal, one))), k.idx(DK));
    for (int64_t c = 0; c < CK; ++c)
      for (int64_t e = 0; e < VK; ++e) {
        Value d = column(c, e, VK);
        Value ok = k.land(k.lt(d, k.idx(DK)), rowOk);
        Value at = k.add(base, k.min(d, k.idx(DK - 1)));
        qv.push_back(k.select(ok, k.loadF32(q, at), k.f(0.0)));
      }
  }

  auto vecType = [&](int64_t vec) { return VectorType::get({vec}, p.storage); };
  auto widen = [&](Value vec, int64_t n, Value ok) {
    SmallVector<Value> out;
    for (int64_t e = 0; e < n; ++e) {
      Value x = vector::ExtractOp::create(b, vec, e);
      if (cast<FloatType>(p.storage).getWidth() < 32)
        x = arith::ExtFOp::create(b, b.getF32Type(), x);
      out.push_back(k.select(ok, x, k.f(0.0)));
    }
    return out;
  };
  auto rawLoad = [&](Value mem, Value at, int64_t vec) -> Value {
    int64_t bytes = vec * int64_t(p.elementBytes());
    return vector::LoadOp::create(b, vecType(vec), mem, ValueRange{at},
                                  /*nontemporal=*/false,
                                  llvm::MaybeAlign(bytes));
  };
  // scf.if yielding one vector: `then` and `otherwise` build it.
  auto branch = [&](Value cond, int64_t vec, function_ref<Value()> then,
                    function_ref<Value()> otherwise) -> Value {
    auto ifOp = scf::IfOp::create(b, TypeRange{vecType(vec)}, cond,
                                  /*withElse=*/true);
    for (auto [region, build] :
         {std::make_pair(&ifOp.getThenRegion(), then),
          std::make_pair(&ifOp.getElseRegion(), otherwise)}) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&region->front());
      scf::YieldOp::create(b, build());
    }
    return ifOp.getResult(0);
  };
  const int64_t W = p.rowWidth, kb = p.keyBegin, nope = p.keyNope;
  // The key view of cache row `tok`, one vector per chunk: the row's key
  // slice, then the shared rotary key (lanes past the slice read it).
  auto loadKeyVectors = [&](Value tok) {
    SmallVector<Value> vecs;
    Value head = k.add(k.mul(tok, Hkv), gk);
    for (int64_t c = 0; c < CK; ++c) {
      Value d = column(c, 0, VK);
      if (sep) {
        vecs.push_back(rawLoad(
            keys, k.add(k.mul(head, k.idx(DK)), k.min(d, k.idx(DK - VK))),
            VK));
        continue;
      }
      auto fromRow = [&] {
        return rawLoad(keys,
                       k.add(k.mul(head, k.idx(W)),
                             k.add(k.idx(kb), k.min(d, k.idx(nope - VK)))),
                       VK);
      };
      if (!p.ropeDim || (c + 1) * 32 * VK <= nope) {
        vecs.push_back(fromRow());
        continue;
      }
      auto fromRope = [&] {
        Value rc = k.min(k.max(k.sub(d, k.idx(nope)), zero),
                         k.idx(p.ropeDim - VK));
        return rawLoad(rope, k.add(k.mul(tok, k.idx(p.ropeDim)), rc), VK);
      };
      if (c * 32 * VK >= nope)
        vecs.push_back(fromRope());
      else
        vecs.push_back(branch(k.lt(d, k.idx(nope)), VK, fromRow, fromRope));
    }
    return vecs;
  };
  auto keyValues = [&](ArrayRef<Value> vecs) {
    SmallVector<Value> xs;
    for (int64_t c = 0; c < CK; ++c)
      for (Value x : widen(vecs[c], VK, k.lt(column(c, 0, VK), k.idx(DK))))
        xs.push_back(x);
    return xs;
  };
  // The value view. Where the lane already holds the same row columns as
  // part of its key view (a tied or absorbed-latent row), it reuses them
  // instead of loading again: one load feeds both products.
  auto loadValueRow = [&](Value tok, ArrayRef<Value> keyVecs) {
    SmallVector<Value> xs;
    Value head = k.add(k.mul(tok, Hkv), gk);
    for (int64_t c = 0; c < CV; ++c) {
      Value v0 = column(c, 0, VV);
      Value ok = k.lt(v0, k.idx(DV));
      auto load = [&] {
        if (sep)
          return rawLoad(values,
                         k.add(k.mul(head, k.idx(DV)),
                               k.min(v0, k.idx(DV - VV))),
                         VV);
        return rawLoad(keys,
                       k.add(k.mul(head, k.idx(W)),
                             k.add(k.idx(p.valueBegin),
                                   k.min(v0, k.idx(DV - VV)))),
                       VV);
      };
      Value vec;
      int64_t shared = 0, match = -1;
      for (int64_t ck = 0; !sep && VK == VV && ck < CK; ++ck)
        if (kb + 32 * ck * VK == p.valueBegin + 32 * c * VV) {
          match = ck;
          shared = std::clamp<int64_t>((nope - 32 * ck * VK) / VK, 0, 32);
        }
      if (match >= 0 && shared == 32)
        vec = keyVecs[match];
      else if (match >= 0 && shared > 0)
        vec = branch(k.lt(lane, k.idx(shared)), VV,
                     [&] { return keyVecs[match]; }, load);
      else
        vec = load();
      for (Value x : widen(vec, VV, ok))
        xs.push_back(x);
    }
    return xs;
  };

  // The U x R scores of one iteration, reduced across the warp in one
  // reduce-scatter butterfly (lane l ends with score l >> sh, u-major), so a
  // score costs about one shuffle instead of five. The online softmax then
  // runs once per block of U rows: one max, one rescale per query row.
  auto shfl = [&](Value v, int32_t off, gpu::ShuffleMode mode) {
    return gpu::ShuffleOp::create(b, v, off, 32, mode).getShuffleResult();
  };
  auto butterflyUpdate = [&](ArrayRef<Value> js,
                             ArrayRef<SmallVector<Value>> rowsK,
                             ArrayRef<SmallVector<Value>> rowsV, ValueRange in,
                             SmallVector<Value> &out) {
    const int64_t U = js.size(), N = U * R;
    int64_t logN = llvm::Log2_64(N), logR = llvm::Log2_64(R);
    SmallVector<Value> cur;
    for (int64_t u = 0; u < U; ++u)
      for (int64_t r = 0; r < R; ++r) {
        Value s = k.f(0.0);
        for (int64_t i = 0; i < SK; ++i)
          s = math::FmaOp::create(b, qv[r * SK + i], rowsK[u][i], s);
        cur.push_back(s);
      }
    Value laneI32 = arith::IndexCastOp::create(b, b.getI32Type(), lane);
    for (int32_t off = 16; off >= 1; off /= 2) {
      if (cur.size() == 1) {
        cur[0] = k.addf(cur[0], shfl(cur[0], off, gpu::ShuffleMode::XOR));
        continue;
      }
      Value bit = arith::CmpIOp::create(
          b, arith::CmpIPredicate::ne,
          arith::AndIOp::create(
              b, laneI32,
              arith::ConstantOp::create(b, b.getI32IntegerAttr(off))),
          arith::ConstantOp::create(b, b.getI32IntegerAttr(0)));
      size_t half = cur.size() / 2;
      SmallVector<Value> next;
      for (size_t i = 0; i < half; ++i) {
        Value send = k.select(bit, cur[i], cur[i + half]);
        Value keep = k.select(bit, cur[i + half], cur[i]);
        next.push_back(k.addf(keep, shfl(send, off, gpu::ShuffleMode::XOR)));
      }
      cur = next;
    }
    int64_t sh = 5 - logN;
    Value idxL = k.div(lane, k.idx(int64_t(1) << sh));
    Value uL = k.div(idxL, k.idx(R)), rL = k.rem(idxL, k.idx(R));
    Value jL = k.add(js[0], k.mul(uL, k.idx(NW)));
    Value vis = k.land(f.visible(jL, k.add(rho0, rL)), k.lt(jL, jEnd));
    Value sOwn = k.select(vis, k.mulf(cur[0], k.f(p.scale)), k.negInf());
    // Block max per query row: over the lane bits that hold u.
    Value mx = sOwn;
    for (int64_t bitPos = sh + logR; bitPos < 5; ++bitPos)
      mx = k.maxf(mx, shfl(mx, int32_t(1) << bitPos, gpu::ShuffleMode::XOR));
    SmallVector<Value> mSafe, alpha;
    Value mSafeOwn = k.f(0.0);
    for (int64_t r = 0; r < R; ++r) {
      Value mBlock = shfl(mx, int32_t(r << sh), gpu::ShuffleMode::IDX);
      Value mNew = k.maxf(in[2 * r], mBlock);
      Value ms = k.finiteMax(mNew);
      mSafe.push_back(ms);
      alpha.push_back(k.exp(k.subf(in[2 * r], ms)));
      out[2 * r] = mNew;
      mSafeOwn = k.select(k.eq(rL, k.idx(r)), ms, mSafeOwn);
    }
    Value pOwn = k.exp(k.subf(sOwn, mSafeOwn));
    for (int64_t r = 0; r < R; ++r) {
      Value l = k.mulf(in[2 * r + 1], alpha[r]);
      SmallVector<Value> acc;
      for (int64_t i = 0; i < SV; ++i)
        acc.push_back(k.mulf(in[2 * R + r * SV + i], alpha[r]));
      for (int64_t u = 0; u < U; ++u) {
        Value pr =
            shfl(pOwn, int32_t((u * R + r) << sh), gpu::ShuffleMode::IDX);
        l = k.addf(l, pr);
        for (int64_t i = 0; i < SV; ++i)
          acc[i] = math::FmaOp::create(b, pr, rowsV[u][i], acc[i]);
      }
      out[2 * r + 1] = l;
      for (int64_t i = 0; i < SV; ++i)
        out[2 * R + r * SV + i] = acc[i];
    }
  };

  // Online softmax state per query row (max, sum) and the accumulators.
  SmallVector<Value> init;
  for (int64_t r = 0; r < R; ++r) {
    init.push_back(k.negInf());
    init.push_back(k.f(0.0));
  }
  for (int64_t i = 0; i < R * SV; ++i)
    init.push_back(k.f(0.0));

  // Each iteration issues the loads of U rows (warp w: rows j + u * NW)
  // before computing on any of them, to keep several rows in flight.
  const int64_t U = p.unroll;
  SmallVector<Value> state = k.loop(
      k.add(jBegin, warp), jEnd, k.idx(NW * U), init,
      [&](Value j0, ValueRange in) -> SmallVector<Value> {
        SmallVector<Value> js, xks, xvs;
        SmallVector<SmallVector<Value>> rowsK, rowsV;
        for (int64_t u = 0; u < U; ++u) {
          Value j = k.add(j0, k.idx(u * NW));
          Value tok = k.add(k.mul(bIdx, L), k.min(j, k.sub(jEnd, one)));
          js.push_back(j);
          SmallVector<Value> kv = loadKeyVectors(tok);
          rowsK.push_back(keyValues(kv));
          rowsV.push_back(loadValueRow(tok, kv));
        }
        SmallVector<Value> out(in.begin(), in.end());
        if (p.butterfly) {
          butterflyUpdate(js, rowsK, rowsV, in, out);
          return out;
        }
        for (int64_t u = 0; u < U; ++u) {
          Value j = js[u];
          SmallVector<Value> &xk = rowsK[u], &xv = rowsV[u];
          SmallVector<Value> cur(out.begin(), out.end());
          for (int64_t r = 0; r < R; ++r) {
            Value s = k.f(0.0);
            for (int64_t i = 0; i < SK; ++i)
              s = math::FmaOp::create(b, qv[r * SK + i], xk[i], s);
            for (int32_t off = 16; off >= 1; off /= 2)
              s = k.addf(s, gpu::ShuffleOp::create(b, s, off, 32,
                                                   gpu::ShuffleMode::XOR)
                                .getShuffleResult());
            Value rho = k.add(rho0, k.idx(r));
            Value vis = k.land(f.visible(j, rho), k.lt(j, jEnd));
            s = k.select(vis, k.mulf(s, k.f(p.scale)), k.negInf());
            Value mOld = cur[2 * r], lOld = cur[2 * r + 1];
            Value mNew = k.maxf(mOld, s);
            Value mSafe = k.finiteMax(mNew);
            Value alpha = k.exp(k.subf(mOld, mSafe));
            Value pr = k.exp(k.subf(s, mSafe));
            out[2 * r] = mNew;
            out[2 * r + 1] = math::FmaOp::create(b, lOld, alpha, pr);
            for (int64_t i = 0; i < SV; ++i) {
              Value accIn = cur[2 * R + r * SV + i];
              out[2 * R + r * SV + i] =
                  math::FmaOp::create(b, pr, xv[i], k.mulf(accIn, alpha));
            }
          }
        }
        return out;
      });

  // Each warp's state into workgroup memory, then merge the warps.
  for (int64_t r = 0; r < R; ++r) {
    Value slot = k.add(k.mul(warp, k.idx(R)), k.idx(r));
    k.ifThen(k.eq(lane, zero), [&] {
      k.store(state[2 * r], mW, slot);
      k.store(state[2 * r + 1], lW, slot);
    });
    for (int64_t c = 0; c < CV; ++c)
      for (int64_t e = 0; e < VV; ++e)
        k.store(state[2 * R + r * SV + c * VV + e], accW,
                k.add(k.mul(slot, k.idx(AW)), column(c, e, VV)));
  }
  k.barrier();

  auto rowMax = [&](Value r) {
    Value M = k.reduce(zero, k.idx(NW), k.negInf(), [&](Value w, Value m) {
      return k.maxf(m, memref::LoadOp::create(b, mW, k.add(k.mul(w, k.idx(R)), r)));
    });
    return std::make_pair(M, k.finiteMax(M));
  };
  k.loop(tid, k.idx(R * DV), k.idx(NT), [&](Value i) {
    Value r = k.div(i, k.idx(DV)), e = k.rem(i, k.idx(DV));
    Value rho = k.add(rho0, r);
    k.ifThen(k.lt(rho, rowsTotal), [&] {
      Value mSafe = rowMax(r).second;
      Value col = e; // accumulators are indexed by value-view column
      Value o = k.reduce(zero, k.idx(NW), k.f(0.0), [&](Value w, Value acc) {
        Value slot = k.add(k.mul(w, k.idx(R)), r);
        Value wt = k.exp(k.subf(memref::LoadOp::create(b, mW, slot), mSafe));
        Value x = memref::LoadOp::create(
            b, accW, k.add(k.mul(slot, k.idx(AW)), col));
        return math::FmaOp::create(b, wt, x, acc).getResult();
      });
      k.store(o, oPart, k.add(k.mul(f.partRow(rho), k.idx(DV)), e));
    });
  });
  k.loop(tid, k.idx(R), k.idx(NT), [&](Value r) {
    Value rho = k.add(rho0, r);
    k.ifThen(k.lt(rho, rowsTotal), [&] {
      auto [M, mSafeRow] = rowMax(r);
      Value mSafe = mSafeRow;
      Value l = k.reduce(zero, k.idx(NW), k.f(0.0), [&](Value w, Value acc) {
        Value slot = k.add(k.mul(w, k.idx(R)), r);
        Value wt = k.exp(k.subf(memref::LoadOp::create(b, mW, slot), mSafe));
        return math::FmaOp::create(
                   b, wt, memref::LoadOp::create(b, lW, slot), acc)
            .getResult();
      });
      Value at = k.mul(f.partRow(rho), k.idx(2));
      k.store(M, mlPart, at);
      k.store(l, mlPart, k.add(at, one));
    });
  });
  gpu::ReturnOp::create(b);
  return func;
}
