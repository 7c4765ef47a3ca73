//===- CombineMmaKernel.cpp - epilogue mat-vecs on tensor cores ----------===//
//
// combine_rows on tensor-core targets for the epilogues that multiply the
// merged values by a matrix: latent_up (MLA, GLA, MTLA) and MFA-KR's
// key_reuse_post. A block takes one (output head, token) and 64 batch
// rows (grid x: heads times combineMmaSlices(), each slice SW of the DO
// output columns): it merges their splits into bf16/f16 rows in workgroup
// memory, while cp.async stages its slice of the matrix (DV x SW) beside
// them, then multiplies the two on mma.sync:
//
//   latent_up       out[64 x DO] = merged[64 x DV] up_v[head][DV x DO]
//   key_reuse_post  out[64 x DV] = merged + alpha * (merged transform)
//                   (the sum's merged in f32, recomputed from the splits)
//
// Its project_rows form (plan.normalisedRows()) follows a forward kernel
// that stored each split's rows normalised in the storage type (half the
// bytes of f32 partials): at one split those rows are the A operand as
// they are, copied in by cp.async; with 2 to 8 they are merged as above,
// 8 values a load, each split weighted by its sum. A separate kernel
// rather than a branch of combine_rows: with the branch, MLA-128 at B=16 /
// 32 (4 and 2 splits) took 1.5-2 us longer (docs/performance.md, step 60).
//
// The CUDA-core kernels read the head's weights once per 1 or 8 batch rows
// and spend an FMA per weight and row; here each block reads them once per
// 64 rows and the tensor cores do the products. Warps own 16 rows each,
// and (with 8 warps) half of the output columns; the block has at least 8
// warps for the copies and the merge (their loads in flight) even where
// the slice is too narrow for more than 4 warps of products.
//
//===----------------------------------------------------------------------===//
#include "MmaFragments.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::attn;

gpu::GPUFuncOp mlir::attn::buildCombineMmaKernel(OpBuilder &ob, Location loc,
                                                 const FlashPlan &p,
                                                 StringRef name,
                                                 bool projectRows) {
  const int64_t DV = p.valueWidth, DO = p.outWidth, NT = p.combineRowsThreads(),
                MT = p.combineMmaThreads();
  const int64_t CS = p.combineMmaSlices(), SW = p.combineMmaSliceWidth();
  const int64_t R = FlashPlan::kCombineMmaRows,
                MS = FlashPlan::kCombineMmaSplits;
  const FlashPlan::CombineMmaLayout lay = p.combineMmaLayout();
  Type f32 = ob.getF32Type(), idxT = ob.getIndexType();
  bool post = p.combineEpilogue() == ValueEpilogue::KeyReusePost;
  assert((!projectRows || p.normalisedRows()) && "no normalised rows");
  static_assert(FlashPlan::kProjectRowsMaxSplits <= kMaxFewSplits,
                "project_rows merges in one step");
  // o_part (o_rows for project_rows), ml_part, the matrix, out, B, Tq, S.
  SmallVector<Type> args = {flatMemRef(projectRows ? p.storage : f32),
                            flatMemRef(f32), flatMemRef(p.storage)};
  if (post)
    args.push_back(flatMemRef(p.storage)); // alpha, then the transform
  args.append({flatMemRef(p.storage), idxT, idxT, idxT});
  gpu::GPUFuncOp func = makeKernel(ob, loc, name, args, {}, NT);
  // Behind the warpgroup form (sm_90a: an H100's 228 KB an SM, 1 KB of it
  // reserved per block), registers capped for as many resident blocks as
  // the workgroup memory allows, up to 2: uncapped, the few-splits merge
  // (16 vectors in flight) took GLA's kernel to 160 registers, one block
  // per SM, and its 256 blocks at B=128 into two waves (258 -> 262 us).
  // (An A100 holds one such block an SM whatever the registers.)
  if (p.warpgroup) {
    int64_t resident =
        std::clamp<int64_t>(FlashPlan::residentBlocks(lay.total), 1, 2);
    func->setAttr(NVVM::NVVMDialect::getMaxntidAttrName(),
                  ob.getDenseI32ArrayAttr({int32_t(NT), 1, 1}));
    func->setAttr(NVVM::NVVMDialect::getMinctasmAttrName(),
                  ob.getI32IntegerAttr(int32_t(resident)));
  }
  Block &entry = func.getBody().front();
  ImplicitLocOpBuilder b(loc, ob);
  b.setInsertionPointToStart(&entry);
  KernelBuilder k(b);
  MmaFragments mma{k, p.storage};
  // Traced (plan.traceBlocks): entry, the matrix's copies issued, past the
  // wait, merged, the matrix staged, exit.
  BlockStamps stamps(k, p.traceBlocks);
  stamps.take();
  unsigned a = 0;
  Value oPart = entry.getArgument(a++), mlPart = entry.getArgument(a++);
  Value alpha = post ? entry.getArgument(a++) : Value();
  Value matrix = entry.getArgument(a++); // up_v or the transform
  Value out = entry.getArgument(a++), B = entry.getArgument(a++),
        Tq = entry.getArgument(a++), S = entry.getArgument(a++);

  Value smem = k.dynamicWorkgroupMemory();
  auto view = [&](int64_t offset, int64_t n, Type elem) {
    return k.workgroupView(smem, k.idx(offset), n, elem);
  };
  Value as = view(lay.merged, R * lay.mergedPitch, p.storage);
  Value ws = view(lay.weights, DV * lay.weightPitch, p.storage);
  Value split = view(lay.splits, R * MS, f32);

  Value tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  Value bx = gpu::BlockIdOp::create(b, gpu::Dimension::x);
  Value head = k.div(bx, k.idx(CS));
  Value c0 = k.mul(k.rem(bx, k.idx(CS)), k.idx(SW)); // the slice's columns
  Value t = gpu::BlockIdOp::create(b, gpu::Dimension::y);
  Value b0 = k.mul(gpu::BlockIdOp::create(b, gpu::Dimension::z), k.idx(R));
  Value one = k.idx(1);
  Value Hq = k.idx(p.qHeads), Hout = k.idx(p.outHeads);
  // Output head `head` reads score map head / (outHeads / qHeads).
  Value qHead = k.div(head, k.idx(p.outHeads / p.qHeads));
  auto partRow = [&](Value s, Value bIdx) {
    return k.add(k.mul(k.add(k.mul(k.add(k.mul(s, B), bIdx), Tq), t), Hq),
                 qHead);
  };

  // The slice of the head's up-projection (or of the shared transform)
  // into workgroup memory, 16 bytes a copy (rows padded so ldmatrix's 8
  // rows fall in distinct banks).
  const int64_t chunk = 8;
  Value matrixRow0 = post ? k.idx(0) : k.mul(head, k.idx(DV));
  copyRowsAsync(
      k, matrix,
      [&](Value row, Value col) {
        return k.add(k.mul(k.add(matrixRow0, row), k.idx(DO)), k.add(c0, col));
      },
      DV, SW, ws, lay.weightPitch, tid, NT);
  NVVM::CpAsyncCommitGroupOp::create(b);
  stamps.take();
  // Launched early (plan.combineRowsOverlaps()): the matrix is on its way;
  // the forward grid's outputs are complete and visible past this point.
  if (p.combineRowsOverlaps())
    NVVM::GriddepcontrolOp::create(b, NVVM::GridDepActionKind::wait);
  stamps.take();

  // The block's rows that exist as items of `w` adjacent values (rows past
  // B are never read back: their outputs are not stored); an item's row,
  // column and place in the merged rows.
  auto itemsOf = [&](int64_t w) {
    return k.mul(k.min(k.idx(R), k.sub(B, b0)), k.idx(DV / w));
  };
  auto itemRow = [&](Value i, int64_t w) { return k.div(i, k.idx(DV / w)); };
  auto itemCol = [&](Value i, int64_t w) {
    return k.mul(k.rem(i, k.idx(DV / w)), k.idx(w));
  };
  auto mergedAt = [&](Value i, int64_t w) {
    return k.add(k.mul(itemRow(i, w), k.idx(lay.mergedPitch)), itemCol(i, w));
  };
  // Items of `w` values merged from 2-8 splits, every split's loaded at
  // once (SplitMerge.cpp), rounded into the merged rows. 8 in flight: two
  // blocks of 8 warps per SM, registers capped at 128 (16 in flight spilled
  // GLA's kernel).
  auto mergeFew = [&](int64_t w, Value items, bool normalised) {
    auto sv = VectorType::get({w}, p.storage);
    mergeFewSplits(
        k, oPart, mlPart, DV, S, tid, NT, items,
        [&](Value s, Value i) { return partRow(s, k.add(b0, itemRow(i, w))); },
        [&](Value i) { return itemCol(i, w); },
        [&](Value i, Value sum) {
          vector::StoreOp::create(b, arith::TruncFOp::create(b, sv, sum), as,
                                  ValueRange{mergedAt(i, w)});
        },
        /*inFlight=*/8, normalised);
  };
  if (projectRows) {
    // 8 values of a row per item (16 bytes): at one split copied in as they
    // are by cp.async; with 2-8, merged from every split's at once.
    loadNormalisedRows(
        k, oPart, mlPart, DV, S, tid, NT, itemsOf(chunk),
        [&](Value s, Value i) {
          return partRow(s, k.add(b0, itemRow(i, chunk)));
        },
        [&](Value i) { return itemCol(i, chunk); }, as,
        [&](Value i) { return mergedAt(i, chunk); });
  } else {
    // Split weights exp(m_s - M) / sum of each of the block's rows, one
    // thread per row (S <= kCombineMmaSplits); zeros for rows past B and rows
    // that saw nothing. Only where the merge below takes one split after
    // another (one split: the few-splits form would load its (max, sum) with
    // every 4 values, GLA B=128 258 -> 261 us; more than 8), or where the
    // post-transform recomputes merged values.
    Value few = k.land(k.lt(k.idx(1), S), k.le(S, k.idx(kMaxFewSplits)));
    Value perRowWeights =
        post ? k.lt(tid, k.idx(R)) : k.land(k.lt(tid, k.idx(R)), k.lnot(few));
    k.ifThen(perRowWeights, [&] {
      Value bIdx = k.add(b0, tid);
      k.ifThen(k.lt(bIdx, B), [&] {
        auto ml = [&](Value s, int64_t e) {
          return memref::LoadOp::create(
              b, mlPart, k.add(k.mul(partRow(s, bIdx), k.idx(2)), k.idx(e)));
        };
        Value M = k.reduce(k.idx(0), S, k.negInf(), [&](Value s, Value m) {
          return k.maxf(m, ml(s, 0));
        });
        M = k.finiteMax(M);
        // exp(m_s - M) stored while summing, then scaled by 1 / sum.
        auto at = [&](Value s) { return k.add(k.mul(tid, k.idx(MS)), s); };
        Value total = k.reduce(k.idx(0), S, k.f(0.0), [&](Value s, Value acc) {
          Value e = k.exp(k.subf(ml(s, 0), M));
          k.store(e, split, at(s));
          return k.fma(e, ml(s, 1), acc);
        });
        Value inv = k.reciprocalOrZero(total);
        k.loop(k.idx(0), S, one, [&](Value s) {
          k.store(k.mulf(memref::LoadOp::create(b, split, at(s)), inv), split,
                  at(s));
        });
      });
    });
    k.barrier();

    // The merge: 4 adjacent values of one row per item (one 16-byte load:
    // the runtime's workspace starts with the partial outputs), rounded to the
    // storage type. Only the block's rows that exist (the rest of the A
    // operand is never stored: its rows' outputs are not). With 2 to 8
    // splits every split of an item is loaded at once (mergeFewSplits: at
    // S = 2 the loop below waited out 2 L2 round trips per 8 items); else
    // U items per step so their loads are in flight together.
    const int64_t quads = DV / 4, U = 8;
    Value items = itemsOf(4);
    Value lastItem = k.sub(items, one);
    auto v4 = VectorType::get({4}, f32);
    auto s4 = VectorType::get({4}, p.storage);
    auto fewSplits = [&] { mergeFew(4, items, /*normalised=*/false); };
    auto splitBySplit = [&] {
      k.loop(tid, items, k.idx(NT * U), [&](Value i0) {
        SmallVector<Value> rows, cols, valid;
        SmallVector<Value> acc;
        for (int64_t u = 0; u < U; ++u) {
          Value i = k.min(k.add(i0, k.idx(u * NT)), lastItem);
          rows.push_back(k.div(i, k.idx(quads)));
          cols.push_back(k.mul(k.rem(i, k.idx(quads)), k.idx(4)));
          valid.push_back(k.lt(k.add(b0, rows.back()), B));
          acc.push_back(arith::ConstantOp::create(
              b, v4, DenseElementsAttr::get(v4, 0.0f)));
        }
        acc = k.loop(k.idx(0), S, one, acc, [&](Value s, ValueRange in) {
          SmallVector<Value> next;
          for (int64_t u = 0; u < U; ++u) {
            Value bIdx = k.min(k.add(b0, rows[u]), k.sub(B, one));
            Value v = vector::LoadOp::create(
                b, v4, oPart,
                ValueRange{k.add(k.mul(partRow(s, bIdx), k.idx(DV)), cols[u])},
                /*nontemporal=*/false, llvm::MaybeAlign(16));
            Value w = memref::LoadOp::create(
                b, split, k.add(k.mul(rows[u], k.idx(MS)), s));
            w = k.select(valid[u], w, k.f(0.0));
            Value wv = vector::BroadcastOp::create(b, v4, w);
            next.push_back(vector::FMAOp::create(b, wv, v, in[u]));
          }
          return next;
        });
        for (int64_t u = 0; u < U; ++u)
          k.ifThen(k.lt(k.add(i0, k.idx(u * NT)), items), [&] {
            vector::StoreOp::create(
                b, arith::TruncFOp::create(b, s4, acc[u]), as,
                ValueRange{
                    k.add(k.mul(rows[u], k.idx(lay.mergedPitch)), cols[u])});
          });
      });
    };
    if (post)
      splitBySplit(); // its per-row weights are computed anyway
    else
      k.ifThenElse(few, fewSplits, splitBySplit);
  }
  stamps.take();
  NVVM::CpAsyncWaitGroupOp::create(b, 0);
  k.barrier();
  stamps.take();

  // The product: warp w < MT / 32 owns rows 16 (w % 4) .. and output
  // columns (w / 4) DW .. of the block's slice; warps past those only
  // copied and merged.
  MmaLane ln(k, tid);
  auto product = scf::IfOp::create(b, k.lt(ln.warp, k.idx(MT / 32)),
                                   /*withElseRegion=*/false);
  b.setInsertionPointToStart(&product.getThenRegion().front());
  const int64_t colGroups = MT / 32 / 4, DW = SW / colGroups, NV = DW / 8;
  Value rowBase = k.mul(k.rem(ln.warp, k.idx(4)), k.idx(16));
  Value colBase = k.mul(k.div(ln.warp, k.idx(4)), k.idx(DW));
  SmallVector<Value> c =
      mma.rowTileProduct(ln, as, rowBase, lay.mergedPitch, ws, lay.weightPitch,
                         colBase, DV / 16, NV);

  // Rows g and g + 8 of the warp's tile, columns 8 nv + 2 t4, + 1.
  auto pairType = VectorType::get({2}, p.storage);
  for (int64_t h = 0; h < 2; ++h) {
    Value bIdx = k.add(b0, k.add(rowBase, k.add(k.idx(8 * h), ln.g)));
    k.ifThen(k.lt(bIdx, B), [&] {
      Value rowAt =
          k.mul(k.add(k.mul(k.add(k.mul(bIdx, Tq), t), Hout), head), k.idx(DO));
      Value r = k.sub(bIdx, b0);
      auto v2 = VectorType::get({2}, f32);
      auto colOf = [&](int64_t nv) { // of the head's output
        return k.add(k.add(c0, colBase),
                     k.add(k.idx(8 * nv), k.mul(ln.t4, k.idx(2))));
      };
      // Chunks of CH column pairs: the post-transform's merged values of a
      // chunk come from one loop over the splits with CH loads in flight (a
      // loop per pair waited out S L2 round trips per pair, 2 NV S a thread).
      const int64_t CH = post ? std::min<int64_t>(8, NV) : NV;
      for (int64_t n0 = 0; n0 < NV; n0 += CH) {
        int64_t n1 = std::min(NV, n0 + CH);
        SmallVector<Value> merged;
        if (post) {
          Value zero2 = arith::ConstantOp::create(
              b, v2, DenseElementsAttr::get(v2, 0.0f));
          merged = k.loop(
              k.idx(0), S, one, SmallVector<Value>(n1 - n0, zero2),
              [&](Value s, ValueRange in) -> SmallVector<Value> {
                Value w = memref::LoadOp::create(b, split,
                                                 k.add(k.mul(r, k.idx(MS)), s));
                Value wv = vector::BroadcastOp::create(b, v2, w);
                Value at = k.mul(partRow(s, bIdx), k.idx(DV));
                SmallVector<Value> vs, next;
                for (int64_t nv = n0; nv < n1; ++nv)
                  vs.push_back(vector::LoadOp::create(
                      b, v2, oPart, ValueRange{k.add(at, colOf(nv))},
                      /*nontemporal=*/false, llvm::MaybeAlign(8)));
                for (int64_t i = 0; i < n1 - n0; ++i)
                  next.push_back(vector::FMAOp::create(b, wv, vs[i], in[i]));
                return next;
              });
        }
        for (int64_t nv = n0; nv < n1; ++nv) {
          Value pair = vector::FromElementsOp::create(
              b, v2, ValueRange{c[nv * 4 + 2 * h], c[nv * 4 + 2 * h + 1]});
          Value col = colOf(nv);
          if (post) {
            // merged + alpha * sum, with merged in f32 from the splits.
            Value a16 = vector::LoadOp::create(
                b, VectorType::get({2}, p.storage), alpha, ValueRange{col});
            Value al = arith::ExtFOp::create(b, v2, a16);
            pair = vector::FMAOp::create(b, al, pair, merged[nv - n0]);
          }
          // One 4-byte store a pair (the runtime checks `out`'s alignment);
          // unaligned, each element went out alone (7.6% of MLA-128's
          // combine samples draining them).
          vector::StoreOp::create(b, arith::TruncFOp::create(b, pairType, pair),
                                  out, ValueRange{k.add(rowAt, col)},
                                  /*nontemporal=*/false, llvm::MaybeAlign(4));
        }
      }
    });
  }
  b.setInsertionPointAfter(product);
  if (p.traceBlocks) {
    k.barrier();
    stamps.take();
    stamps.print(name);
  }
  gpu::ReturnOp::create(b);
  return func;
}
