//===- ProjectSlicesKernel.cpp - latent up-projection in latent slices ----===//
//
// project_slices (plan.projectSlices() > 0): behind a forward kernel that
// stored each split's rows normalised (plan.normalisedRows()), a block takes
// kProjectSliceRows batch rows of one (output head, token) and one slice of
// KW latent columns. It stages the slice's rows of the head's up-projection
// (KW x DO) by cp.async, merges its rows' splits over those columns into
// 16-bit rows beside them (SplitMerge.cpp; at one split copied in), and
// multiplies the two on mma.sync (m16: the block's rows):
//
//   part[ks][16 x DO] = merged[16 x KW] up_v[head][ks KW .. + KW][DO]
//
// With one slice (128 heads: MLA-128, GLA) the block stores its product as
// the result. Otherwise the KS slices of a (head, token, row block) are one
// thread-block cluster: each block keeps its partial product in its
// workgroup memory, and after a cluster barrier block ks adds the KS
// products of its DO / KS output columns, in slice order (the same result
// every run), reading the others' through distributed workgroup memory,
// and stores them. Between them the blocks read each split's rows and the
// head's weights once: the one-row combine read the weights once per batch
// row (MLA-16 B=16: 32 MB from L2), project_rows' column slices each read
// all of their rows' latent values. Its 8 warps share the one m16 tile's
// output columns, where project_rows' warps each chain the k steps of 16
// of 64 rows (steps 84 and 87 in docs/performance.md).
//
//===----------------------------------------------------------------------===//
#include "MmaFragments.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::attn;

gpu::GPUFuncOp mlir::attn::buildProjectSlicesKernel(OpBuilder &ob, Location loc,
                                                    const FlashPlan &p,
                                                    StringRef name) {
  MLIRContext *ctx = ob.getContext();
  const int64_t KS = p.projectSlices();
  assert(KS >= 1 && p.normalisedRows() && "no project_slices kernel");
  const int64_t DV = p.valueWidth, DO = p.outWidth, KW = DV / KS;
  const int64_t R = FlashPlan::kProjectSliceRows,
                NT = FlashPlan::kCombineMmaThreads;
  static_assert(FlashPlan::kProjectSliceRows == 16, "one m16 tile of rows");
  static_assert(FlashPlan::kProjectRowsMaxSplits <= kMaxFewSplits,
                "project_slices merges in one step");
  const FlashPlan::ProjectSlicesLayout lay = p.projectSlicesLayout();
  Type f32 = ob.getF32Type(), idxT = ob.getIndexType();
  // o_rows, ml_part, up_v, out, B, Tq, S.
  SmallVector<Type> args = {flatMemRef(p.storage),
                            flatMemRef(f32),
                            flatMemRef(p.storage),
                            flatMemRef(p.storage),
                            idxT,
                            idxT,
                            idxT};
  gpu::GPUFuncOp func = makeKernel(ob, loc, name, args, {}, NT);
  // Grid x's KS blocks of a head form a cluster (.reqnctapercluster).
  if (KS > 1)
    func->setAttr(NVVM::NVVMDialect::getClusterDimAttrName(),
                  ob.getDenseI32ArrayAttr({int32_t(KS), 1, 1}));
  Block &entry = func.getBody().front();
  ImplicitLocOpBuilder b(loc, ob);
  b.setInsertionPointToStart(&entry);
  KernelBuilder k(b);
  MmaFragments mma{k, p.storage};
  // Traced (plan.traceBlocks): entry, past the wait, merged, multiplied
  // (past the cluster barrier), added and stored, exit.
  BlockStamps stamps(k, p.traceBlocks);
  stamps.take();
  unsigned a = 0;
  Value oRows = entry.getArgument(a++), mlPart = entry.getArgument(a++);
  Value upV = entry.getArgument(a++), out = entry.getArgument(a++);
  Value B = entry.getArgument(a++), Tq = entry.getArgument(a++),
        S = entry.getArgument(a++);

  Value smem = k.dynamicWorkgroupMemory();
  Value as =
      k.workgroupView(smem, k.idx(lay.merged), R * lay.mergedPitch, p.storage);
  Value ws = k.workgroupView(smem, k.idx(lay.weights), KW * lay.weightPitch,
                             p.storage);
  Value sums =
      KS > 1 ? k.workgroupView(smem, k.idx(lay.sums), R * DO, f32) : Value();

  Value tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  Value bx = gpu::BlockIdOp::create(b, gpu::Dimension::x);
  Value head = k.div(bx, k.idx(KS)), ks = k.rem(bx, k.idx(KS));
  Value kc0 = k.mul(ks, k.idx(KW)); // the slice's first latent column
  Value t = gpu::BlockIdOp::create(b, gpu::Dimension::y);
  Value rb = gpu::BlockIdOp::create(b, gpu::Dimension::z);
  Value b0 = k.mul(rb, k.idx(R));
  Value one = k.idx(1);
  Value Hq = k.idx(p.qHeads), Hout = k.idx(p.outHeads);
  Value qHead = k.div(head, k.idx(p.outHeads / p.qHeads));
  auto partRow = [&](Value s, Value bIdx) {
    return k.add(k.mul(k.add(k.mul(k.add(k.mul(s, B), bIdx), Tq), t), Hq),
                 qHead);
  };
  // The output row (b, t, head) of batch row bIdx.
  auto outRow = [&](Value bIdx) {
    return k.add(k.mul(k.add(k.mul(bIdx, Tq), t), Hout), head);
  };

  // The slice's KW rows of the head's up-projection, 16 bytes a copy.
  const int64_t chunk = 8;
  copyRowsAsync(
      k, upV,
      [&](Value row, Value col) {
        return k.add(
            k.mul(k.add(k.add(k.mul(head, k.idx(DV)), kc0), row), k.idx(DO)),
            col);
      },
      KW, DO, ws, lay.weightPitch, tid, NT);
  NVVM::CpAsyncCommitGroupOp::create(b);
  // Launched early (as combine_rows): the weights are on their way; the
  // forward grid's rows are complete and visible past this point.
  if (p.combineRowsOverlaps())
    NVVM::GriddepcontrolOp::create(b, NVVM::GridDepActionKind::wait);
  stamps.take();

  // Items of 8 latent values (16 bytes) of the block's rows that exist:
  // rows past B are never read back (their outputs are not stored).
  Value rows = k.min(k.idx(R), k.sub(B, b0));
  Value items = k.mul(rows, k.idx(KW / chunk));
  auto itemRow = [&](Value i) { return k.div(i, k.idx(KW / chunk)); };
  auto itemCol = [&](Value i) {
    return k.mul(k.rem(i, k.idx(KW / chunk)), k.idx(chunk));
  };
  auto mergedAt = [&](Value i) {
    return k.add(k.mul(itemRow(i), k.idx(lay.mergedPitch)), itemCol(i));
  };
  loadNormalisedRows(
      k, oRows, mlPart, DV, S, tid, NT, items,
      [&](Value s, Value i) { return partRow(s, k.add(b0, itemRow(i))); },
      [&](Value i) { return k.add(kc0, itemCol(i)); }, as, mergedAt);
  NVVM::CpAsyncWaitGroupOp::create(b, 0);
  k.barrier();
  stamps.take();

  // The product: PW warps, each all 16 rows and DW output columns.
  const int64_t PW = DO % (16 * 8) == 0   ? 8
                     : DO % (16 * 4) == 0 ? 4
                     : DO % (16 * 2) == 0 ? 2
                                          : 1;
  const int64_t DW = DO / PW, NV = DW / 8;
  MmaLane ln(k, tid);
  Value colBase = k.mul(ln.warp, k.idx(DW));
  auto product = scf::IfOp::create(b, k.lt(ln.warp, k.idx(PW)),
                                   /*withElseRegion=*/false);
  b.setInsertionPointToStart(&product.getThenRegion().front());
  SmallVector<Value> c =
      mma.rowTileProduct(ln, as, Value(), lay.mergedPitch, ws, lay.weightPitch,
                         colBase, KW / 16, NV);
  // Rows g and g + 8 of the tile, columns 8 nv + 2 t4, + 1: with one
  // slice the result, into `out` (the rows that exist); else the slice's
  // partial product, into the block's sums.
  auto v2 = VectorType::get({2}, f32);
  auto s2 = VectorType::get({2}, p.storage);
  for (int64_t h = 0; h < 2; ++h) {
    Value row = k.add(k.idx(8 * h), ln.g);
    for (int64_t nv = 0; nv < NV; ++nv) {
      Value col = k.add(colBase, k.add(k.idx(8 * nv), k.mul(ln.t4, k.idx(2))));
      Value pair = vector::FromElementsOp::create(
          b, v2, ValueRange{c[nv * 4 + 2 * h], c[nv * 4 + 2 * h + 1]});
      if (KS > 1) {
        vector::StoreOp::create(b, pair, sums,
                                ValueRange{k.add(k.mul(row, k.idx(DO)), col)});
        continue;
      }
      k.ifThen(k.lt(row, rows), [&] {
        Value o = k.add(k.mul(outRow(k.add(b0, row)), k.idx(DO)), col);
        vector::StoreOp::create(b, arith::TruncFOp::create(b, s2, pair), out,
                                ValueRange{o}, /*nontemporal=*/false,
                                llvm::MaybeAlign(4));
      });
    }
  }
  b.setInsertionPointAfter(product);
  if (KS == 1) {
    // The cluster's phases, empty here: the same stamps as with slices.
    stamps.take();
    stamps.take();
    stamps.take();
    stamps.print(name);
    gpu::ReturnOp::create(b);
    return func;
  }

  // Every block's products are in its workgroup memory past this barrier
  // (arrive has release, wait acquire semantics at cluster scope).
  NVVM::ClusterArriveOp::create(b, /*aligned=*/b.getUnitAttr());
  NVVM::ClusterWaitOp::create(b, /*aligned=*/b.getUnitAttr());
  stamps.take();
  // Block ks adds the KS products of output columns ks CW .. + CW of its
  // rows, 4 a load, every slice's loaded at once: at most one item a
  // thread (KS >= 2), clamped to a row that exists.
  const int64_t CW = DO / KS;
  assert(R * CW / 4 <= NT && "one item of the slice sums a thread");
  auto v4 = VectorType::get({4}, f32);
  Value items4 = k.mul(rows, k.idx(CW / 4));
  Value item = k.min(tid, k.sub(items4, one));
  Value row = k.div(item, k.idx(CW / 4));
  Value col =
      k.add(k.mul(ks, k.idx(CW)), k.mul(k.rem(item, k.idx(CW / 4)), k.idx(4)));
  Value at =
      k.add(k.add(memref::ExtractAlignedPointerAsIndexOp::create(b, smem),
                  k.idx(lay.sums)),
            k.mul(k.add(k.mul(row, k.idx(DO)), col), k.idx(4)));
  Value local = LLVM::IntToPtrOp::create(
      b, LLVM::LLVMPointerType::get(ctx, /*shared=*/3),
      arith::IndexCastOp::create(b, b.getI64Type(), at).getResult());
  SmallVector<Value> parts;
  for (int64_t r = 0; r < KS; ++r) {
    Value remote = NVVM::MapaOp::create(
        b, LLVM::LLVMPointerType::get(ctx, /*shared::cluster=*/7), local,
        arith::ConstantIntOp::create(b, b.getI32Type(), r).getResult());
    parts.push_back(LLVM::LoadOp::create(b, v4, remote, /*alignment=*/16));
  }
  Value sum = parts[0];
  for (int64_t r = 1; r < KS; ++r)
    sum = arith::AddFOp::create(b, sum, parts[r]);
  // A block may leave once every block has arrived here (arrive releases:
  // its reads of the others' products are performed before), and the
  // stores go out meanwhile.
  NVVM::ClusterArriveOp::create(b, /*aligned=*/b.getUnitAttr());
  k.ifThen(k.lt(tid, items4), [&] {
    Value o = k.add(k.mul(outRow(k.add(b0, row)), k.idx(DO)), col);
    // Two 4-byte stores (the runtime checks `out` for pairs only).
    for (int64_t h = 0; h < 2; ++h) {
      Value pair = vector::FromElementsOp::create(
          b, v2,
          ValueRange{vector::ExtractOp::create(b, sum, 2 * h),
                     vector::ExtractOp::create(b, sum, 2 * h + 1)});
      vector::StoreOp::create(b, arith::TruncFOp::create(b, s2, pair), out,
                              ValueRange{k.add(o, k.idx(2 * h))},
                              /*nontemporal=*/false, llvm::MaybeAlign(4));
    }
  });
  stamps.take();
  NVVM::ClusterWaitOp::create(b, /*aligned=*/b.getUnitAttr());
  stamps.take();
  stamps.print(name);
  gpu::ReturnOp::create(b);
  return func;
}
