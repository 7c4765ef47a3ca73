//===- LowerLayerOps.cpp - attn layer ops to linalg, naive and exact ------===//
#include "TensorBuilder.h"
#include "attn/Conversion/AttnToLinalg/AttnToLinalg.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/PatternMatch.h"
#include <cmath>

using namespace mlir;
using namespace mlir::attn;

namespace {
using Body = TensorBuilder::Body;

Value sigmoid(OpBuilder &b, Location l, Value x, Value one) {
  Value e = math::ExpOp::create(b, l, arith::NegFOp::create(b, l, x));
  return arith::DivFOp::create(b, l, one, arith::AddFOp::create(b, l, one, e));
}

/// Replaces `op` by `value` cast back to the op's result element type.
void replaceWithCast(PatternRewriter &rw, TensorBuilder &tb, Operation *op,
                     Value value) {
  auto type = cast<RankedTensorType>(op->getResult(0).getType());
  Value out = tb.castTensor(value, type.getElementType());
  if (out.getType() != type)
    out = tensor::CastOp::create(rw, op->getLoc(), type, out);
  rw.replaceOp(op, out);
}

TensorBuilder makeBuilder(PatternRewriter &rw, Operation *op) {
  auto type = cast<RankedTensorType>(op->getResult(0).getType());
  return TensorBuilder(rw, op->getLoc(), getComputeType(type.getElementType()));
}

SmallVector<AffineExpr> dims(TensorBuilder &tb, unsigned from, unsigned to) {
  SmallVector<AffineExpr> e;
  for (unsigned i = from; i < to; ++i)
    e.push_back(tb.dim(i));
  return e;
}

//===----------------------------------------------------------------------===//
// linear: a tensordot, then bias and activation.
//===----------------------------------------------------------------------===//
struct LowerLinear : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rw) const override {
    TensorBuilder tb = makeBuilder(rw, op);
    Type f = tb.computeType();
    Value x = tb.castTensor(op.getInput(), f);
    Value w = tb.castTensor(op.getWeight(), f);
    int64_t k = op.getContract();
    unsigned xr = op.getInput().getType().getRank();
    unsigned wr = op.getWeight().getType().getRank();
    unsigned lead = xr - k, outs = wr - k, n = lead + outs, loops = n + k;
    SmallVector<OpFoldResult> xs = tb.sizes(x), ws = tb.sizes(w);
    SmallVector<OpFoldResult> outSizes(xs.begin(), xs.begin() + lead);
    outSizes.append(ws.begin() + k, ws.end());
    SmallVector<OpFoldResult> red(xs.begin() + lead, xs.end());
    // loops: lead | outs | contracted
    SmallVector<AffineExpr> xm = dims(tb, 0, lead);
    xm.append(dims(tb, n, loops));
    SmallVector<AffineExpr> wm = dims(tb, n, loops);
    wm.append(dims(tb, lead, n));
    Value y = tb.contract(outSizes, x, tb.map(loops, xm), w,
                          tb.map(loops, wm), red);
    Value bias = op.getBias() ? tb.castTensor(op.getBias(), f) : Value();
    bool act = op.getActivation() == Activation::Sigmoid;
    if (bias || act) {
      SmallVector<Value> ins = {y};
      SmallVector<AffineMap> maps = {tb.map(n, dims(tb, 0, n))};
      if (bias) {
        ins.push_back(bias);
        maps.push_back(tb.map(n, dims(tb, lead, n)));
      }
      y = tb.generic(outSizes, f, ins, maps, {}, Value(),
                     [&](OpBuilder &b, Location l, LoopIndices &, ValueRange in,
                         Value) -> Value {
                       Value v = in[0];
                       if (bias)
                         v = arith::AddFOp::create(b, l, v, in[1]);
                       if (act)
                         v = sigmoid(b, l, v, tb.constF(b, 1.0));
                       return v;
                     });
    }
    replaceWithCast(rw, tb, op, y);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// norm: statistics over the last dimension, then normalise.
//===----------------------------------------------------------------------===//
struct LowerNorm : OpRewritePattern<NormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(NormOp op, PatternRewriter &rw) const override {
    TensorBuilder tb = makeBuilder(rw, op);
    Type f = tb.computeType();
    Value x = tb.castTensor(op.getInput(), f);
    unsigned r = op.getInput().getType().getRank();
    SmallVector<OpFoldResult> sz = tb.sizes(x);
    SmallVector<OpFoldResult> rowSz(sz.begin(), sz.end() - 1);
    AffineMap full = tb.map(r, dims(tb, 0, r));
    AffineMap row = tb.map(r, dims(tb, 0, r - 1));
    AffineMap last = tb.map(r, {tb.dim(r - 1)});
    Value width = arith::UIToFPOp::create(
        rw, op.getLoc(), f,
        arith::IndexCastOp::create(
            rw, op.getLoc(), rw.getI64Type(),
            tensor::DimOp::create(rw, op.getLoc(), x, r - 1)));
    bool layer = op.getKind() == NormKind::Layer;
    auto sum = [&](Value in, Value center, bool square) {
      SmallVector<Value> ins = {in};
      SmallVector<AffineMap> maps = {full};
      if (center) {
        ins.push_back(center);
        maps.push_back(row);
      }
      return tb.generic(rowSz, f, ins, maps, {sz.back()}, tb.constF(rw, 0.0),
                        [&](OpBuilder &b, Location l, LoopIndices &,
                            ValueRange v, Value acc) -> Value {
                          Value e = v[0];
                          if (center)
                            e = arith::SubFOp::create(b, l, e, v[1]);
                          if (square)
                            e = arith::MulFOp::create(b, l, e, e);
                          return arith::AddFOp::create(b, l, acc, e);
                        });
    };
    auto divBy = [&](Value t) {
      return tb.generic(rowSz, f, {t}, {tb.map(r - 1, dims(tb, 0, r - 1))}, {},
                        Value(),
                        [&](OpBuilder &b, Location l, LoopIndices &, ValueRange v,
                            Value) -> Value {
                          return arith::DivFOp::create(b, l, v[0], width);
                        });
    };
    Value mean = layer ? divBy(sum(x, Value(), false)) : Value();
    Value var = divBy(sum(x, mean, true)); // mean of squares for rms
    double eps = op.getEpsilon().convertToDouble();
    Value w = op.getWeight() ? tb.castTensor(op.getWeight(), f) : Value();
    Value bias = op.getBias() ? tb.castTensor(op.getBias(), f) : Value();
    SmallVector<Value> ins = {x, var};
    SmallVector<AffineMap> maps = {full, row};
    if (mean) {
      ins.push_back(mean);
      maps.push_back(row);
    }
    if (w) {
      ins.push_back(w);
      maps.push_back(last);
    }
    if (bias) {
      ins.push_back(bias);
      maps.push_back(last);
    }
    Value y = tb.generic(
        sz, f, ins, maps, {}, Value(),
        [&](OpBuilder &b, Location l, LoopIndices &, ValueRange v,
            Value) -> Value {
          unsigned next = 2;
          Value e = v[0];
          if (mean)
            e = arith::SubFOp::create(b, l, e, v[next++]);
          Value denom = math::SqrtOp::create(
              b, l, arith::AddFOp::create(b, l, v[1], tb.constF(b, eps)));
          e = arith::DivFOp::create(b, l, e, denom);
          if (w)
            e = arith::MulFOp::create(b, l, e, v[next++]);
          if (bias)
            e = arith::AddFOp::create(b, l, e, v[next++]);
          return e;
        });
    replaceWithCast(rw, tb, op, y);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// rope: rotate the last `dim` channels; angles in f64 for exactness.
//===----------------------------------------------------------------------===//

/// Inverse frequencies theta^(-2k/dim), with DeepSeek's YaRN correction.
SmallVector<double> inverseFrequencies(RopeAttr rope) {
  int64_t dim = rope.getDim();
  double theta = rope.getTheta().convertToDouble();
  SmallVector<double> inv;
  for (int64_t k = 0; k < dim / 2; ++k)
    inv.push_back(std::pow(theta, -2.0 * k / dim));
  if (YarnAttr yarn = rope.getYarn()) {
    double factor = yarn.getFactor().convertToDouble();
    double orig = yarn.getOriginalLen();
    auto correctionDim = [&](double rotations) {
      return dim * std::log(orig / (rotations * 2 * M_PI)) /
             (2 * std::log(theta));
    };
    double low = std::max(
        std::floor(correctionDim(yarn.getBetaFast().convertToDouble())), 0.0);
    double high =
        std::min(std::ceil(correctionDim(yarn.getBetaSlow().convertToDouble())),
                 static_cast<double>(dim - 1));
    if (low == high)
      high += 0.001;
    for (int64_t k = 0; k < dim / 2; ++k) {
      double ramp = std::clamp((k - low) / (high - low), 0.0, 1.0);
      double smooth = 1.0 - ramp;
      inv[k] = inv[k] / factor * (1.0 - smooth) + inv[k] * smooth;
    }
  }
  return inv;
}

struct LowerRope : OpRewritePattern<RopeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RopeOp op, PatternRewriter &rw) const override {
    TensorBuilder tb = makeBuilder(rw, op);
    Type f = tb.computeType();
    Location loc = op.getLoc();
    Value x = tb.castTensor(op.getInput(), f);
    auto type = op.getInput().getType();
    unsigned r = type.getRank();
    RopeAttr rope = op.getRope();
    int64_t dim = rope.getDim(), half = dim / 2;
    bool interleaved = rope.getLayout() == RopeLayout::Interleaved;
    SmallVector<double> inv = inverseFrequencies(rope);
    Type f64 = rw.getF64Type();
    auto invType = RankedTensorType::get({half}, f64);
    Value invT = arith::ConstantOp::create(
        rw, loc, DenseElementsAttr::get(invType, ArrayRef<double>(inv)));
    Value widthV = tensor::DimOp::create(rw, loc, x, r - 1);
    Value pos = op.getPositions();
    Value y = tb.elementwise(
        tb.sizes(x), f,
        [&](OpBuilder &b, Location l, LoopIndices &iv, ValueRange, Value) {
          using P = arith::CmpIPredicate;
          auto c = [&](int64_t v) {
            return arith::ConstantIndexOp::create(b, l, v).getResult();
          };
          Value ch = iv[r - 1];
          Value off = arith::SubIOp::create(b, l, widthV, c(dim));
          Value k = arith::SubIOp::create(b, l, ch, off);
          Value rotary = arith::CmpIOp::create(b, l, P::sge, k, c(0));
          Value kc = arith::MaxSIOp::create(b, l, k, c(0));
          Value partnerK, freq, first;
          if (interleaved) {
            Value odd = arith::RemSIOp::create(b, l, kc, c(2));
            first = arith::CmpIOp::create(b, l, P::eq, odd, c(0));
            partnerK = arith::SelectOp::create(
                b, l, first, arith::AddIOp::create(b, l, kc, c(1)),
                arith::SubIOp::create(b, l, kc, c(1)));
            freq = arith::DivSIOp::create(b, l, kc, c(2));
          } else {
            first = arith::CmpIOp::create(b, l, P::slt, kc, c(half));
            partnerK = arith::SelectOp::create(
                b, l, first, arith::AddIOp::create(b, l, kc, c(half)),
                arith::SubIOp::create(b, l, kc, c(half)));
            freq = arith::RemSIOp::create(b, l, kc, c(half));
          }
          SmallVector<Value> idx = iv.all();
          Value self = tb.extract(b, x, idx);
          idx[r - 1] = arith::AddIOp::create(b, l, off, partnerK);
          // Outside the rotary channels the partner read is clamped and unused.
          idx[r - 1] = arith::SelectOp::create(b, l, rotary, idx[r - 1], ch);
          Value partner = tb.extract(b, x, idx);
          Value p = tb.extract(b, pos, {iv[0], iv[1]});
          Value pf = arith::SIToFPOp::create(b, l, f64, p);
          Value angle = arith::MulFOp::create(b, l, pf,
                                              tb.extract(b, invT, {freq}));
          Value cs = math::CosOp::create(b, l, angle);
          Value sn = math::SinOp::create(b, l, angle);
          if (f != f64) {
            cs = arith::TruncFOp::create(b, l, f, cs);
            sn = arith::TruncFOp::create(b, l, f, sn);
          }
          // first of a pair: x cos - x' sin; second: x cos + x' sin.
          Value a = arith::MulFOp::create(b, l, self, cs);
          Value s = arith::MulFOp::create(b, l, partner, sn);
          Value rot = arith::SelectOp::create(
              b, l, first, arith::SubFOp::create(b, l, a, s),
              arith::AddFOp::create(b, l, a, s));
          return arith::SelectOp::create(b, l, rotary, rot, self).getResult();
        });
    replaceWithCast(rw, tb, op, y);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// merge_weights: w = sigmoid(<PE(pos / s) Wc + bc, c Wp + bp>).
//===----------------------------------------------------------------------===//
struct LowerMergeWeights : OpRewritePattern<MergeWeightsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MergeWeightsOp op,
                                PatternRewriter &rw) const override {
    TensorBuilder tb = makeBuilder(rw, op);
    Type f = tb.computeType();
    Type f64 = rw.getF64Type();
    Value c = tb.castTensor(op.getLatent(), f);
    Value wc = tb.castTensor(op.getChunkWeight(), f);
    Value bc = tb.castTensor(op.getChunkBias(), f);
    Value wp = tb.castTensor(op.getTokenWeight(), f);
    Value bp = tb.castTensor(op.getTokenBias(), f);
    Value pos = op.getPositions();
    int64_t stride = op.getTimeStride();
    SmallVector<OpFoldResult> cs = tb.sizes(c), ws = tb.sizes(wc);
    SmallVector<OpFoldResult> hid = {cs[0], cs[1], ws[1]};
    Value width = tensor::DimOp::create(rw, op.getLoc(), c, 2);
    auto d = [&](unsigned i) { return tb.dim(i); };
    // loops: b t r | k ; the chunk embedding is computed in the body.
    Value hc = tb.generic(
        hid, f, {wc}, {tb.map(4, {d(3), d(2)})}, {cs[2]}, tb.constF(rw, 0.0),
        [&](OpBuilder &b, Location l, LoopIndices &iv, ValueRange in,
            Value acc) -> Value {
          auto ci = [&](int64_t v) {
            return arith::ConstantIndexOp::create(b, l, v).getResult();
          };
          Value p = tb.extract(b, pos, {iv[0], iv[1]});
          Value chunk = arith::DivSIOp::create(
              b, l, p,
              arith::ConstantOp::create(b, l, b.getIntegerAttr(p.getType(),
                                                               stride)));
          Value k = iv[3];
          Value pair = arith::DivSIOp::create(b, l, k, ci(2));
          Value even = arith::CmpIOp::create(
              b, l, arith::CmpIPredicate::eq,
              arith::RemSIOp::create(b, l, k, ci(2)), ci(0));
          auto toF64 = [&](Value idx) {
            return arith::SIToFPOp::create(
                b, l, f64,
                arith::IndexCastOp::create(b, l, b.getI64Type(), idx));
          };
          // 10000^(-2 pair / width) = exp(-2 pair / width * ln 10000)
          Value ratio = arith::DivFOp::create(
              b, l,
              arith::MulFOp::create(
                  b, l, toF64(pair),
                  arith::ConstantOp::create(
                      b, l, b.getF64FloatAttr(-2.0 * std::log(10000.0)))),
              toF64(width));
          Value angle = arith::MulFOp::create(
              b, l, arith::SIToFPOp::create(b, l, f64, chunk),
              math::ExpOp::create(b, l, ratio));
          Value pe = arith::SelectOp::create(b, l, even,
                                             math::SinOp::create(b, l, angle),
                                             math::CosOp::create(b, l, angle));
          Value pef = f == f64 ? pe
                               : arith::TruncFOp::create(b, l, f, pe).getResult();
          return mulAdd(b, l, acc, pef, in[0]);
        });
    Value hp = tb.contract(hid, c, tb.map(4, {d(0), d(1), d(3)}), wp,
                           tb.map(4, {d(3), d(2)}), {cs[2]});
    // loops: b t | r
    Value dot = tb.generic(
        {cs[0], cs[1]}, f, {hc, bc, hp, bp},
        {tb.map(3, {d(0), d(1), d(2)}), tb.map(3, {d(2)}),
         tb.map(3, {d(0), d(1), d(2)}), tb.map(3, {d(2)})},
        {ws[1]}, tb.constF(rw, 0.0),
        [](OpBuilder &b, Location l, LoopIndices &, ValueRange in, Value acc) {
          Value x = arith::AddFOp::create(b, l, in[0], in[1]);
          Value y = arith::AddFOp::create(b, l, in[2], in[3]);
          return mulAdd(b, l, acc, x, y);
        });
    Value w = tb.generic(
        {cs[0], cs[1]}, f, {dot}, {tb.map(2, {d(0), d(1)})}, {}, Value(),
        [&](OpBuilder &b, Location l, LoopIndices &, ValueRange in, Value) {
          return sigmoid(b, l, in[0], tb.constF(b, 1.0));
        });
    replaceWithCast(rw, tb, op, w);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// partial_slots: a segmented inclusive prefix sum, written as a masked
// reduction over all tokens (O(T^2), exact).
//===----------------------------------------------------------------------===//
struct LowerPartialSlots : OpRewritePattern<PartialSlotsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(PartialSlotsOp op,
                                PatternRewriter &rw) const override {
    TensorBuilder tb = makeBuilder(rw, op);
    Type f = tb.computeType();
    Value rows = tb.castTensor(op.getRows(), f);
    Value w = tb.castTensor(op.getWeights(), f);
    Value pos = op.getPositions();
    unsigned r = op.getRows().getType().getRank();
    SmallVector<OpFoldResult> sz = tb.sizes(rows);
    int64_t stride = op.getTimeStride();
    // loops: b i rest... | j
    SmallVector<AffineExpr> rm = {tb.dim(0), tb.dim(r)};
    rm.append(dims(tb, 2, r));
    Value y = tb.generic(
        sz, f, {rows, w}, {tb.map(r + 1, rm), tb.map(r + 1, {tb.dim(0), tb.dim(r)})},
        {sz[1]}, tb.constF(rw, 0.0),
        [&](OpBuilder &b, Location l, LoopIndices &iv, ValueRange in,
            Value acc) -> Value {
          Value i = iv[1], j = iv[r];
          Value pi = tb.extract(b, pos, {iv[0], i});
          Value pj = tb.extract(b, pos, {iv[0], j});
          Value s = arith::ConstantOp::create(
              b, l, b.getIntegerAttr(pi.getType(), stride));
          Value same = arith::CmpIOp::create(
              b, l, arith::CmpIPredicate::eq, arith::DivSIOp::create(b, l, pi, s),
              arith::DivSIOp::create(b, l, pj, s));
          Value before =
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::sle, j, i);
          Value take = arith::AndIOp::create(b, l, same, before);
          Value sum = mulAdd(b, l, acc, in[1], in[0]);
          return arith::SelectOp::create(b, l, take, sum, acc);
        });
    replaceWithCast(rw, tb, op, y);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// cache_update: every cache element computed from the rows that land in its
// slot; a slot gathers at most `time_stride` consecutive tokens.
//===----------------------------------------------------------------------===//
struct LowerCacheUpdate : OpRewritePattern<CacheUpdateOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CacheUpdateOp op,
                                PatternRewriter &rw) const override {
    TensorBuilder tb = makeBuilder(rw, op);
    Type f = tb.computeType();
    Value cache = tb.castTensor(op.getCache(), f);
    Value rows = tb.castTensor(op.getRows(), f);
    Value w = op.getWeights() ? tb.castTensor(op.getWeights(), f) : Value();
    Value lengths = op.getLengths();
    int64_t stride = op.getTimeStride();
    bool weighted = op.getMerge() == SlotMerge::WeightedSum;
    unsigned r = op.getCache().getType().getRank();
    Value tokens = tensor::DimOp::create(rw, op.getLoc(), rows, 1);
    Value y = tb.elementwise(
        tb.sizes(cache), f,
        [&](OpBuilder &b, Location l, LoopIndices &iv, ValueRange,
            Value) -> Value {
          using P = arith::CmpIPredicate;
          auto ci = [&](int64_t v) {
            return arith::ConstantIndexOp::create(b, l, v).getResult();
          };
          Value len = arith::IndexCastOp::create(
              b, l, b.getIndexType(), tb.extract(b, lengths, {iv[0]}));
          Value old = tb.extract(b, cache, iv.all());
          // Token index (within this call) of the slot's u-th token.
          Value first = arith::SubIOp::create(
              b, l, arith::MulIOp::create(b, l, iv[1], ci(stride)), len);
          auto inCall = [&](Value i) {
            Value ge = arith::CmpIOp::create(b, l, P::sge, i, ci(0));
            Value lt = arith::CmpIOp::create(b, l, P::slt, i, tokens);
            return arith::AndIOp::create(b, l, ge, lt).getResult();
          };
          auto rowAt = [&](Value i) {
            Value ic = arith::MinSIOp::create(
                b, l, arith::MaxSIOp::create(b, l, i, ci(0)),
                arith::SubIOp::create(b, l, tokens, ci(1)));
            SmallVector<Value> idx = iv.all();
            idx[1] = ic;
            return std::make_pair(ic, tb.extract(b, rows, idx));
          };
          if (!weighted) {
            // Append, or replace: the last token landing in the slot wins.
            Value v = old;
            for (int64_t u = 0; u < stride; ++u) {
              Value i = arith::AddIOp::create(b, l, first, ci(u));
              v = arith::SelectOp::create(b, l, inCall(i), rowAt(i).second, v);
            }
            return v;
          }
          // A slot that starts in this call starts from zero.
          Value v = arith::SelectOp::create(b, l, inCall(first),
                                            tb.constF(b, 0.0), old);
          for (int64_t u = 0; u < stride; ++u) {
            Value i = arith::AddIOp::create(b, l, first, ci(u));
            auto [ic, row] = rowAt(i);
            Value wi = tb.extract(b, w, {iv[0], ic});
            v = arith::SelectOp::create(b, l, inCall(i), mulAdd(b, l, v, wi, row),
                                        v);
          }
          return v;
        });
    (void)r;
    replaceWithCast(rw, tb, op, y);
    return success();
  }
};
} // namespace

void mlir::attn::populateLowerLayerOpsPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerLinear, LowerNorm, LowerRope, LowerMergeWeights,
               LowerPartialSlots, LowerCacheUpdate>(patterns.getContext());
}
