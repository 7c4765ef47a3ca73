//===- MmaKernel.cpp - the tensor-core forward kernel ---------------------===//
//
// For blocks of many query rows per cache group (MQA, MLA, GLA, MTLA, MFA:
// decode intensity past the CUDA-core ridge) both products run on tensor
// cores with warp-level mma.sync (m16n8k16, bf16/f16 in, f32 accumulate).
// A block of W warps (4 or 8) holds R = 16 x MT query rows in workgroup
// memory and walks its cache rows in tiles of N rows, double buffered with
// cp.async so the next tile streams in while this one is computed:
//
//   scores  S[R x N] = Q K^T     warp w sums the k steps w, w+W, ...
//   softmax                       the W partial sums of a row added by
//                                 the 32W/R threads that own the row
//   values  O[R x DV] += P V      warp w owns the value columns w*DV/W ...
//
// Splitting the scores' k dimension gives each warp R/16 x N/8 independent
// accumulators (not one long chain of dependent mma.sync) and reads each
// query and key element from workgroup memory once. Scores and
// probabilities pass through workgroup memory between the two products
// because the warps split different dimensions of each.
//
//===----------------------------------------------------------------------===//
#include "MmaFragments.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::attn;

gpu::GPUFuncOp mlir::attn::buildMmaForwardKernel(OpBuilder &ob, Location loc,
                                                 const FlashPlan &p,
                                                 StringRef name) {
  bool sep = p.separate();
  int64_t R = p.rowsPerBlock, N = p.tileRows, NT = p.threads;
  int64_t MT = R / 16, DK = p.keyWidth, DV = p.valueWidth;
  int64_t W = NT / 32, DW = DV / W; // warps, value columns per warp
  int64_t TPR = NT / R;            // softmax threads per query row

  gpu::GPUFuncOp func = makeMmaKernel(ob, loc, p, name);
  Block &entry = func.getBody().front();
  ImplicitLocOpBuilder b(loc, ob);
  b.setInsertionPointToStart(&entry);
  KernelBuilder k(b);
  MmaFragments mma{k, p.storage};
  ForwardFrame f(k, entry, p);
  Value tid = f.tid, zero = k.idx(0), one = k.idx(1);

  MmaStaging stage(k, f, p);
  FlashPlan::MmaLayout lay = stage.lay;
  Type st = p.storage, f32 = k.f32();
  Value qs = stage.qs, kt = stage.kt, vt = stage.vt;
  Value ss = stage.view(lay.s, W * R * lay.sPitch, f32);
  Value ps = stage.view(lay.p, R * lay.pPitch, st);
  Value as = stage.view(lay.alpha, R, f32);
  stage.loadQuery();
  auto loadTile = [&](Value j0, Value slot) { stage.loadTile(j0, slot); };

  MmaLane ml(k, tid);
  Value warp = ml.warp, g = ml.g, t4 = ml.t4;
  Value aRow = ml.aRow, aCol = ml.aCol, bRow = ml.bRow, bCol = ml.bCol;
  // The softmax threads of a row, and (unless the mask is stride-aware)
  // the end of the cache rows that row sees.
  Value sRow = k.div(tid, k.idx(TPR)), sSub = k.rem(tid, k.idx(TPR));
  Value rowEnd = p.mask == Mask::StrideAwareCausal
                     ? Value()
                     : f.visibleEnd(k.add(f.rho0, sRow));

  Value jBegin = k.min(f.jBegin, f.jEnd);
  stage.prefetch(jBegin, loadTile);

  int64_t NV = DW / 8, NS = N / 8;
  SmallVector<Value> init(MT * NV * 4, k.f(0.0));
  // Scores are kept in base 2 (scale * log2 e folded into the dot product):
  // exp2 is one ex2.approx instruction.
  init.push_back(k.negInf()); // m of this thread's softmax row
  init.push_back(k.f(0.0));   // l
  SmallVector<Value> state = stage.loop(
      jBegin, init, loadTile, [&] { k.barrier(); },
      [&](Value j0, Value parity, ValueRange in) -> SmallVector<Value> {

        // Partial scores over this warp's k steps (w, w + 4, ...) for all R
        // rows and N columns: many independent accumulators per warp, and
        // each query and key element read from workgroup memory once.
        Value kBase = k.mul(parity, k.idx(N * lay.kPitch));
        SmallVector<Value> zeros(MT * NS * 4, k.f(0.0));
        SmallVector<Value> acc = k.loop(
            warp, k.idx(DK / 16), k.idx(W), zeros,
            [&](Value ks, ValueRange accIn) -> SmallVector<Value> {
              SmallVector<Value> accOut(accIn.begin(), accIn.end());
              Value d = k.mul(ks, k.idx(16));
              SmallVector<SmallVector<Value>> a;
              for (int64_t mt = 0; mt < MT; ++mt) {
                Value at = k.add(k.mul(k.add(k.idx(16 * mt), aRow),
                                       k.idx(lay.qPitch)),
                                 k.add(d, aCol));
                a.push_back(mma.load(qs, at, 4, false));
              }
              // B fragments of two 8-row column tiles per x4 load: lanes
              // address rows l % 8 (+ 8 for matrices 2, 3) at key columns
              // d (+ 8 for matrices 1, 3).
              Value col = f.tileKeyColumn(k.add(d, bCol));
              for (int64_t n16 = 0; n16 < N / 16; ++n16) {
                Value n = k.add(k.idx(16 * n16), bRow);
                Value at =
                    k.add(kBase, k.add(k.mul(n, k.idx(lay.kPitch)), col));
                SmallVector<Value> bf = mma.load(kt, at, 4, false);
                for (int64_t h = 0; h < 2; ++h) {
                  SmallVector<Value> bh = {bf[2 * h], bf[2 * h + 1]};
                  for (int64_t mt = 0; mt < MT; ++mt) {
                    auto first = accOut.begin() + (mt * NS + 2 * n16 + h) * 4;
                    SmallVector<Value> c(first, first + 4);
                    SmallVector<Value> r = mma.mma(a[mt], bh, c);
                    std::copy(r.begin(), r.end(), first);
                  }
                }
              }
              return accOut;
            });
        Value sWarp = k.mul(warp, k.idx(R * lay.sPitch));
        for (int64_t mt = 0; mt < MT; ++mt)
          for (int64_t ns = 0; ns < NS; ++ns)
            for (int64_t e = 0; e < 4; ++e) {
              Value row = k.add(k.idx(16 * mt + 8 * (e / 2)), g);
              Value col = k.add(k.idx(8 * ns + e % 2), k.mul(t4, k.idx(2)));
              k.store(acc[(mt * NS + ns) * 4 + e], ss,
                      k.add(sWarp, k.add(k.mul(row, k.idx(lay.sPitch)), col)));
            }
        k.barrier();

        // Online softmax: TPR threads per row, columns strided by TPR.
        Value mOld = in[MT * NV * 4], lOld = in[MT * NV * 4 + 1];
        Value sBase = k.mul(sRow, k.idx(lay.sPitch));
        SmallVector<Value> sv;
        Value mx = mOld;
        Value rhoS = k.add(f.rho0, sRow);
        for (int64_t c = 0; c < N; c += TPR) {
          Value col = k.add(sSub, k.idx(c));
          Value dot = k.f(0.0);
          for (int64_t w = 0; w < W; ++w)
            dot = k.addf(dot, memref::LoadOp::create(
                                  b, ss,
                                  k.add(k.idx(w * R * lay.sPitch),
                                        k.add(sBase, col))));
          Value j = k.add(j0, col);
          Value vis = rowEnd ? k.lt(j, rowEnd)
                             : k.land(f.visible(j, rhoS), k.lt(j, f.jEnd));
          sv.push_back(
              k.select(vis, k.mulf(dot, k.f(p.scale * M_LOG2E)), k.negInf()));
          mx = k.maxf(mx, sv.back());
        }
        mx = k.laneReduce(mx, TPR, /*max=*/true);
        // Nothing visible yet: keep exponents finite (p = 0, alpha = 0).
        Value mSafe = k.finiteMax(mx);
        Value alpha = k.exp2(k.subf(mOld, mSafe));
        Value sum = k.f(0.0);
        Value pBase = k.mul(sRow, k.idx(lay.pPitch));
        for (int64_t c = 0, i = 0; c < N; c += TPR, ++i) {
          Value pr = k.exp2(k.subf(sv[i], mSafe));
          sum = k.addf(sum, pr);
          k.store(arith::TruncFOp::create(b, st, pr), ps,
                  k.add(pBase, k.add(sSub, k.idx(c))));
        }
        sum = k.laneReduce(sum, TPR, /*max=*/false);
        Value lNew = k.addf(k.mulf(lOld, alpha), sum);
        k.ifThen(k.eq(sSub, zero), [&] { k.store(alpha, as, sRow); });
        k.barrier();

        // Rescale and accumulate this warp's value columns.
        SmallVector<Value> out(in.begin(), in.begin() + MT * NV * 4);
        for (int64_t mt = 0; mt < MT; ++mt) {
          Value a0 = memref::LoadOp::create(b, as, k.add(k.idx(16 * mt), g));
          Value a1 =
              memref::LoadOp::create(b, as, k.add(k.idx(16 * mt + 8), g));
          for (int64_t nv = 0; nv < NV; ++nv)
            for (int64_t e = 0; e < 4; ++e) {
              Value &o = out[(mt * NV + nv) * 4 + e];
              o = k.mulf(o, e < 2 ? a0 : a1);
            }
        }
        Value vBase = sep ? k.mul(parity, k.idx(N * lay.vPitch)) : kBase;
        int64_t vCol0 = sep ? 0 : p.valueBegin;
        for (int64_t n0 = 0; n0 < N; n0 += 16) {
          SmallVector<SmallVector<Value>> a;
          for (int64_t mt = 0; mt < MT; ++mt) {
            Value at = k.add(k.mul(k.add(k.idx(16 * mt), aRow),
                                   k.idx(lay.pPitch)),
                             k.add(k.idx(n0), aCol));
            a.push_back(mma.load(ps, at, 4, false));
          }
          // B fragment (transposed load): cache rows n0 .. n0+15 as k, the
          // warp's value columns as n.
          Value vRow = k.add(k.idx(n0), aRow);
          for (int64_t nv = 0; nv < NV; ++nv) {
            Value col = k.add(k.mul(warp, k.idx(DW)), k.idx(vCol0 + 8 * nv));
            Value at =
                k.add(vBase, k.add(k.mul(vRow, k.idx(lay.vPitch)), col));
            SmallVector<Value> bf = mma.load(vt, at, 2, true);
            for (int64_t mt = 0; mt < MT; ++mt) {
              auto first = out.begin() + (mt * NV + nv) * 4;
              SmallVector<Value> c(first, first + 4);
              SmallVector<Value> d = mma.mma(a[mt], bf, c);
              std::copy(d.begin(), d.end(), first);
            }
          }
        }
        out.push_back(mx);
        out.push_back(lNew);
        return out;
      });

  // Partial results of this split.
  for (int64_t mt = 0; mt < MT; ++mt)
    for (int64_t nv = 0; nv < NV; ++nv)
      for (int64_t e = 0; e < 4; ++e) {
        Value row = k.add(k.idx(16 * mt + 8 * (e / 2)), g);
        Value col = k.add(k.mul(warp, k.idx(DW)),
                          k.add(k.idx(8 * nv + e % 2), k.mul(t4, k.idx(2))));
        Value rho = k.add(f.rho0, row);
        k.ifThen(k.lt(rho, f.rowsTotal), [&] {
          k.store(state[(mt * NV + nv) * 4 + e], f.oPart,
                  k.add(k.mul(f.partRow(rho), k.idx(DV)), col));
        });
      }
  Value rho = k.add(f.rho0, sRow);
  k.ifThen(k.land(k.eq(sSub, zero), k.lt(rho, f.rowsTotal)), [&] {
    Value at = k.mul(f.partRow(rho), k.idx(2));
    // Back from the base-2 exponent domain to the natural one the combine
    // kernel merges in.
    k.store(k.mulf(state[MT * NV * 4], k.f(M_LN2)), f.mlPart, at);
    k.store(state[MT * NV * 4 + 1], f.mlPart, k.add(at, one));
  });
  gpu::ReturnOp::create(b);
  return func;
}
