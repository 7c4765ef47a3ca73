//===- AbsorbLatent.cpp - the attn-absorb-latent pass ---------------------===//
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNABSORBLATENT
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"

namespace {
/// Finds an attn.rope that rotates the latent rows, following the rows back
/// through cache updates and casts. Such a latent cannot be absorbed: RoPE
/// does not commute with the up-projection.
RopeOp findRotation(Value rows) {
  SmallVector<Value> work = {rows};
  DenseSet<Value> seen;
  while (!work.empty()) {
    Value v = work.pop_back_val();
    if (!seen.insert(v).second)
      continue;
    Operation *def = v.getDefiningOp();
    if (!def)
      continue;
    if (auto rope = dyn_cast<RopeOp>(def))
      return rope;
    if (auto update = dyn_cast<CacheUpdateOp>(def)) {
      work.push_back(update.getCache());
      work.push_back(update.getRows());
    } else if (auto partial = dyn_cast<PartialSlotsOp>(def)) {
      work.push_back(partial.getRows());
    } else if (isa<tensor::CastOp, tensor::ExpandShapeOp,
                   tensor::CollapseShapeOp>(def)) {
      work.push_back(def->getOperand(0));
    }
  }
  return nullptr;
}

/// q_abs[b, t, i, c] = sum_n q_nope[b, t, i, n] * up_k[i, c, n], summed in
/// f32 for 16-bit floats and rounded once at the end.
Value absorbQueryNope(OpBuilder &b, Location loc, Value qNope, Value upK) {
  auto qType = cast<RankedTensorType>(qNope.getType());
  auto kType = cast<RankedTensorType>(upK.getType());
  auto storage = cast<FloatType>(qType.getElementType());
  Type elem = storage.getWidth() < 32 ? b.getF32Type() : storage;
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, qNope);
  sizes[3] = b.getIndexAttr(kType.getDimSize(1));
  Value init = tensor::EmptyOp::create(b, loc, sizes, elem);
  Value zero =
      arith::ConstantOp::create(b, loc, elem, b.getFloatAttr(elem, 0.0));
  init = linalg::FillOp::create(b, loc, zero, init).getResult(0);
  auto d = [&](unsigned i) { return b.getAffineDimExpr(i); };
  MLIRContext *ctx = b.getContext();
  // loops: b t i c | n
  SmallVector<AffineMap> maps = {
      AffineMap::get(5, 0, {d(0), d(1), d(2), d(4)}, ctx),
      AffineMap::get(5, 0, {d(2), d(3), d(4)}, ctx),
      AffineMap::get(5, 0, {d(0), d(1), d(2), d(3)}, ctx)};
  SmallVector<utils::IteratorType> iters(4, utils::IteratorType::parallel);
  iters.push_back(utils::IteratorType::reduction);
  Value sum =
      linalg::GenericOp::create(
          b, loc, init.getType(), ValueRange{qNope, upK}, init, maps, iters,
          [&](OpBuilder &nb, Location l, ValueRange args) {
            Value x = args[0], y = args[1];
            if (elem != storage) {
              x = arith::ExtFOp::create(nb, l, elem, x);
              y = arith::ExtFOp::create(nb, l, elem, y);
            }
            Value m = arith::MulFOp::create(nb, l, x, y);
            Value s = arith::AddFOp::create(nb, l, args[2], m);
            linalg::YieldOp::create(nb, l, s);
          })
          .getResult(0);
  if (elem == storage)
    return sum;
  Value out = tensor::EmptyOp::create(b, loc, sizes, storage);
  AffineMap id = AffineMap::getMultiDimIdentityMap(4, ctx);
  return linalg::GenericOp::create(
             b, loc, out.getType(), ValueRange{sum}, out,
             SmallVector<AffineMap>{id, id},
             SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel),
             [&](OpBuilder &nb, Location l, ValueRange args) {
               Value t = arith::TruncFOp::create(nb, l, storage, args[0]);
               linalg::YieldOp::create(nb, l, t);
             })
      .getResult(0);
}

struct AttnAbsorbLatentPass
    : impl::AttnAbsorbLatentBase<AttnAbsorbLatentPass> {
  using Base::Base;

  bool profitable(AttentionOp op) {
    if (policy == AbsorbPolicy::Always)
      return true;
    int64_t tq =
        cast<RankedTensorType>(op.getQuery().getType()).getDimSize(1);
    if (ShapedType::isDynamic(tq))
      return false;
    if (policy == AbsorbPolicy::Decode)
      return tq <= maxDecodeTokens;
    VariantAttr v = op.getVariant();
    int64_t dc = *v.getLatentDim(), dr = v.getRopeDim();
    int64_t extra = (2 * dc + dr) - (v.getQkHeadDim() + v.getVHeadDim());
    return tq * extra < dc * (v.getNopeDim() + v.getVHeadDim());
  }

  void runOnOperation() override {
    SmallVector<AttentionOp> ops;
    getOperation()->walk([&](AttentionOp op) {
      if (op.getVariant().getKvForm() == KvForm::Latent && !op.getAbsorbed())
        ops.push_back(op);
    });
    for (AttentionOp op : ops) {
      if (RopeOp rope = findRotation(op.getRows())) {
        InFlightDiagnostic diag =
            op.emitError() << "cannot absorb the key up-projection: the "
                              "latent rows are rotated by RoPE, which does "
                              "not commute with up_k";
        diag.attachNote(rope.getLoc()) << "rotation applied here";
        return signalPassFailure();
      }
      if (!profitable(op))
        continue;
      rewrite(op);
    }
  }

  void rewrite(AttentionOp op) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    VariantAttr v = op.getVariant();
    Value q = op.getQuery();
    SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, q);
    SmallVector<OpFoldResult> zeros(4, b.getIndexAttr(0)),
        ones(4, b.getIndexAttr(1));
    int64_t nope = v.getNopeDim(), rope = v.getRopeDim();
    SmallVector<OpFoldResult> nopeSizes = sizes;
    nopeSizes[3] = b.getIndexAttr(nope);
    Value qNope =
        tensor::ExtractSliceOp::create(b, loc, q, zeros, nopeSizes, ones);
    Value absorbed = absorbQueryNope(b, loc, qNope, op.getUpK());
    if (v.hasSharedRopeKey()) {
      SmallVector<OpFoldResult> offsets = zeros;
      offsets[3] = b.getIndexAttr(nope);
      SmallVector<OpFoldResult> ropeSizes = sizes;
      ropeSizes[3] = b.getIndexAttr(rope);
      Value qRope =
          tensor::ExtractSliceOp::create(b, loc, q, offsets, ropeSizes, ones);
      absorbed = tensor::ConcatOp::create(b, loc, /*dim=*/3,
                                          ValueRange{absorbed, qRope});
    }
    auto newOp = AttentionOp::create(
        b, loc, op.getType(), v, absorbed, op.getKeys(), op.getValues(),
        op.getRows(), op.getRopeKeys(), /*up_k=*/Value(), op.getUpV(),
        op.getSeqLens(), op.getGate(), op.getDecoder(), op.getAlpha(),
        op.getTransform(), op.getMask(), /*absorbed=*/true);
    op.replaceAllUsesWith(newOp.getResult());
    op.erase();
  }
};
} // namespace
} // namespace mlir::attn
