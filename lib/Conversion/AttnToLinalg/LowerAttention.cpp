//===- LowerAttention.cpp - attn.attention to linalg, naive and exact -----===//
//
// The reference lowering: materialise every head's keys and values from the
// cache rows, compute all scores, mask, softmax, aggregate, then the value
// epilogue. Obviously right rather than fast; the fused path is checked
// against it. Everything is computed in f32 (or f64 for f64 inputs).
//
//===----------------------------------------------------------------------===//
#include "TensorBuilder.h"
#include "attn/Conversion/AttnToLinalg/AttnToLinalg.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/PatternMatch.h"
#include <limits>

using namespace mlir;
using namespace mlir::attn;

namespace {
/// Clamps an index into [0, size - 1] so that both sides of a select can be
/// read safely; the select then discards the clamped read.
Value clampIndex(OpBuilder &b, Location loc, Value idx, int64_t size) {
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value hi = arith::ConstantIndexOp::create(b, loc, size - 1);
  Value lo = arith::MaxSIOp::create(b, loc, idx, zero);
  return arith::MinSIOp::create(b, loc, lo, hi);
}

Value indexAdd(OpBuilder &b, Location loc, Value a, int64_t c) {
  return arith::AddIOp::create(b, loc, a,
                               arith::ConstantIndexOp::create(b, loc, c));
}

/// `[first ; second]` along the last dimension: out[..., d] = d < split ?
/// first[..., d] : second2[..., d - split], where `second` may drop the head
/// dimension (a shared rotary key [B, L, R]).
Value concatLast(TensorBuilder &tb, ArrayRef<OpFoldResult> outSizes,
                 Value first, int64_t firstOffset, int64_t firstWidth,
                 Value second, bool secondHasHeads) {
  int64_t split = firstWidth;
  int64_t secondWidth =
      cast<RankedTensorType>(second.getType()).getShape().back();
  return tb.elementwise(
      outSizes, tb.computeType(),
      [&](OpBuilder &b, Location loc, LoopIndices &iv, ValueRange, Value) {
        Value d = iv[3];
        Value splitV = arith::ConstantIndexOp::create(b, loc, split);
        Value isFirst =
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, d, splitV);
        Value fi = clampIndex(b, loc, indexAdd(b, loc, d, firstOffset),
                              firstOffset + firstWidth);
        Value a = tb.extract(b, first, {iv[0], iv[1], iv[2], fi});
        Value si = clampIndex(b, loc, arith::SubIOp::create(b, loc, d, splitV),
                              secondWidth);
        Value c = secondHasHeads
                      ? tb.extract(b, second, {iv[0], iv[1], iv[2], si})
                      : tb.extract(b, second, {iv[0], iv[1], si});
        return arith::SelectOp::create(b, loc, isFirst, a, c).getResult();
      });
}

struct AttentionLowering {
  AttentionOp op;
  VariantAttr v;
  TensorBuilder &tb;
  OpFoldResult batch, tokens, rows;
  int64_t hq, hout;

  Value toCompute(Value x) {
    return x ? tb.castTensor(x, tb.computeType()) : x;
  }

  /// c @ w[i] per query head i, reading latent head i / group:
  /// out[b, j, i, e] = sum_c rows[b, j, i / g, c] * w[i, c, e].
  Value upProject(Value latent, Value w) {
    int64_t g = v.getGroupSize();
    auto wShape = cast<RankedTensorType>(w.getType()).getShape();
    SmallVector<OpFoldResult> out = {batch, rows, tb.builder().getIndexAttr(hq),
                                     tb.builder().getIndexAttr(wShape[2])};
    // loops: b j i e | c
    auto d = [&](unsigned i) { return tb.dim(i); };
    return tb.contract(out, latent,
                       tb.map(5, {d(0), d(1), d(2).floorDiv(g), d(4)}), w,
                       tb.map(5, {d(2), d(4), d(3)}),
                       {tb.builder().getIndexAttr(wShape[1])});
  }

  /// Keys [B, L, Hk, Dk] and the number of query heads per key head.
  std::pair<Value, int64_t> buildKeys() {
    OpBuilder &b = tb.builder();
    int64_t rope = v.hasSharedRopeKey() ? v.getRopeDim() : 0;
    Value ropeKeys = toCompute(op.getRopeKeys());
    switch (v.getKvForm()) {
    case KvForm::Separate:
      return {toCompute(op.getKeys()), v.getGroupSize()};
    case KvForm::Tied: {
      Value rowsT = toCompute(op.getRows());
      TieAttr tie = v.getTie();
      int64_t width = v.getQkHeadDim();
      SmallVector<OpFoldResult> out = {batch, rows,
                                       b.getIndexAttr(v.getNumKvHeads()),
                                       b.getIndexAttr(width)};
      int64_t keyWidth = tie.getKeyEnd() - tie.getKeyBegin();
      if (rope == 0) // The key slice is the whole key.
        return {concatLast(tb, out, rowsT, tie.getKeyBegin(), keyWidth, rowsT,
                           true),
                v.getGroupSize()};
      return {concatLast(tb, out, rowsT, tie.getKeyBegin(), keyWidth, ropeKeys,
                         false),
              v.getGroupSize()};
    }
    case KvForm::Latent: {
      Value latent = toCompute(op.getRows());
      int64_t dc = *v.getLatentDim();
      if (op.getAbsorbed()) {
        SmallVector<OpFoldResult> out = {batch, rows,
                                         b.getIndexAttr(v.getNumKvHeads()),
                                         b.getIndexAttr(dc + rope)};
        if (rope == 0)
          return {latent, v.getGroupSize()};
        return {concatLast(tb, out, latent, 0, dc, ropeKeys, false),
                v.getGroupSize()};
      }
      Value nope = upProject(latent, toCompute(op.getUpK()));
      if (rope == 0)
        return {nope, 1};
      SmallVector<OpFoldResult> out = {batch, rows, b.getIndexAttr(hq),
                                       b.getIndexAttr(v.getQkHeadDim())};
      return {concatLast(tb, out, nope, 0, v.getNopeDim(), ropeKeys, false),
              1};
    }
    }
    llvm_unreachable("unknown kv_form");
  }

  /// Values [B, L, Hv, Dv] (the aggregated width).
  Value buildValues() {
    OpBuilder &b = tb.builder();
    switch (v.getKvForm()) {
    case KvForm::Separate:
      return toCompute(op.getValues());
    case KvForm::Tied: {
      Value rowsT = toCompute(op.getRows());
      TieAttr tie = v.getTie();
      int64_t width = tie.getValueEnd() - tie.getValueBegin();
      SmallVector<OpFoldResult> out = {batch, rows,
                                       b.getIndexAttr(v.getNumKvHeads()),
                                       b.getIndexAttr(width)};
      return concatLast(tb, out, rowsT, tie.getValueBegin(), width, rowsT,
                        true);
    }
    case KvForm::Latent: {
      Value latent = toCompute(op.getRows());
      if (op.getAbsorbed())
        return latent;
      return upProject(latent, toCompute(op.getUpV()));
    }
    }
    llvm_unreachable("unknown kv_form");
  }

  /// scores[b, t, m, j] = sum_d q[b, t, m, d] * k[b, j, m / g, d].
  Value scores(Value q, Value k, int64_t g) {
    OpBuilder &b = tb.builder();
    int64_t width = cast<RankedTensorType>(q.getType()).getShape()[3];
    auto d = [&](unsigned i) { return tb.dim(i); };
    // loops: b t m j | d
    return tb.contract({batch, tokens, b.getIndexAttr(hq), rows}, q,
                       tb.map(5, {d(0), d(1), d(2), d(4)}), k,
                       tb.map(5, {d(0), d(3), d(2).floorDiv(g), d(4)}),
                       {b.getIndexAttr(width)});
  }

  /// Scaled scores with -inf where the mask hides a row.
  Value mask(Value s) {
    OpBuilder &b = tb.builder();
    Location loc = tb.location();
    double scale = v.getSoftmaxScale().convertToDouble();
    Value seqLens = op.getSeqLens();
    Value tq = tensor::DimOp::create(b, loc, op.getQuery(), 1);
    Value lAll = tensor::DimOp::create(b, loc, s, 3);
    Mask kind = op.getMask();
    int64_t stride = v.getTimeStride();
    return tb.generic(
        tb.sizes(s), tb.computeType(), {s},
        {tb.map(4, {tb.dim(0), tb.dim(1), tb.dim(2), tb.dim(3)})}, {}, Value(),
        [&](OpBuilder &nb, Location l, LoopIndices &iv, ValueRange in, Value) {
          Value t = iv[1], j = iv[3];
          Value len = lAll;
          if (seqLens) {
            Value raw = tb.extract(nb, seqLens, {iv[0]});
            len = arith::IndexCastOp::create(nb, l, nb.getIndexType(), raw);
          }
          using P = arith::CmpIPredicate;
          Value visible = arith::CmpIOp::create(nb, l, P::slt, j, len);
          // The query's own position: bottom-right aligned.
          Value pos = arith::AddIOp::create(
              nb, l, arith::SubIOp::create(nb, l, len, tq), t);
          if (kind == Mask::Causal) {
            Value c = arith::CmpIOp::create(nb, l, P::sle, j, pos);
            visible = arith::AndIOp::create(nb, l, visible, c);
          } else if (kind == Mask::StrideAwareCausal) {
            Value self = arith::CmpIOp::create(nb, l, P::eq, j, pos);
            Value before = arith::CmpIOp::create(nb, l, P::sle, j, pos);
            Value rem = arith::RemSIOp::create(
                nb, l, indexAdd(nb, l, j, 1),
                arith::ConstantIndexOp::create(nb, l, stride));
            Value closes = arith::CmpIOp::create(
                nb, l, P::eq, rem, arith::ConstantIndexOp::create(nb, l, 0));
            Value complete = arith::AndIOp::create(nb, l, before, closes);
            Value c = arith::OrIOp::create(nb, l, self, complete);
            visible = arith::AndIOp::create(nb, l, visible, c);
          }
          Value scaled = arith::MulFOp::create(nb, l, in[0], tb.constF(nb, scale));
          Value ninf =
              tb.constF(nb, -std::numeric_limits<double>::infinity());
          return arith::SelectOp::create(nb, l, visible, scaled, ninf)
              .getResult();
        });
  }

  /// Softmax over the last dimension; a row with nothing visible gives 0.
  Value softmax(Value s) {
    OpBuilder &b = tb.builder();
    auto d = [&](unsigned i) { return tb.dim(i); };
    SmallVector<OpFoldResult> sz = tb.sizes(s);
    SmallVector<OpFoldResult> rowSz(sz.begin(), sz.begin() + 3);
    AffineMap full = tb.map(4, {d(0), d(1), d(2), d(3)});
    AffineMap row = tb.map(4, {d(0), d(1), d(2)});
    Value ninf = tb.constF(b, -std::numeric_limits<double>::infinity());
    Value max = tb.generic(
        rowSz, tb.computeType(), {s}, {full}, {sz[3]}, ninf,
        [](OpBuilder &nb, Location l, LoopIndices &, ValueRange in, Value acc) {
          return arith::MaximumFOp::create(nb, l, acc, in[0]).getResult();
        });
    Value e = tb.generic(
        sz, tb.computeType(), {s, max}, {full, row}, {}, Value(),
        [&](OpBuilder &nb, Location l, LoopIndices &, ValueRange in, Value) {
          // exp(-inf - -inf) would be NaN: a row with no visible key is 0.
          Value empty = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OEQ,
                                              in[1], ninf);
          Value x = math::ExpOp::create(
              nb, l, arith::SubFOp::create(nb, l, in[0], in[1]));
          return arith::SelectOp::create(nb, l, empty, tb.constF(nb, 0.0), x)
              .getResult();
        });
    Value sum = tb.generic(
        rowSz, tb.computeType(), {e}, {full}, {sz[3]}, tb.constF(b, 0.0),
        [](OpBuilder &nb, Location l, LoopIndices &, ValueRange in, Value acc) {
          return arith::AddFOp::create(nb, l, acc, in[0]).getResult();
        });
    return tb.generic(
        sz, tb.computeType(), {e, sum}, {full, row}, {}, Value(),
        [&](OpBuilder &nb, Location l, LoopIndices &, ValueRange in, Value) {
          Value zero = tb.constF(nb, 0.0);
          Value pos = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OGT,
                                            in[1], zero);
          Value p = arith::DivFOp::create(nb, l, in[0], in[1]);
          return arith::SelectOp::create(nb, l, pos, p, zero).getResult();
        });
  }

  /// Gathers dimension 2 of `t` through `table` (output head -> source head).
  Value gatherHeads(Value t, ArrayRef<int64_t> table) {
    OpBuilder &b = tb.builder();
    SmallVector<OpFoldResult> sz = tb.sizes(t);
    sz[2] = b.getIndexAttr(table.size());
    auto tableType = RankedTensorType::get({static_cast<int64_t>(table.size())},
                                           b.getIndexType());
    SmallVector<APInt> vals;
    for (int64_t x : table)
      vals.push_back(APInt(64, x));
    Value tableV = arith::ConstantOp::create(
        b, tb.location(), DenseElementsAttr::get(tableType, vals));
    return tb.elementwise(
        sz, tb.computeType(),
        [&](OpBuilder &nb, Location, LoopIndices &iv, ValueRange, Value) {
          Value src = tb.extract(nb, tableV, {iv[2]});
          return tb.extract(nb, t, {iv[0], iv[1], src, iv[3]});
        });
  }

  /// agg[b, t, i, e] = sum_j p[b, t, i / gp, j] * v[b, j, i / gv, e].
  Value aggregate(Value p, Value vals, int64_t heads, int64_t gp, int64_t gv) {
    OpBuilder &b = tb.builder();
    int64_t width = cast<RankedTensorType>(vals.getType()).getShape()[3];
    auto d = [&](unsigned i) { return tb.dim(i); };
    // loops: b t i e | j
    // A row the query does not see has p = 0 and may hold anything (past
    // seq_lens the cache is unwritten, NaN bits included): it must add
    // nothing rather than 0 * NaN.
    return tb.generic(
        {batch, tokens, b.getIndexAttr(heads), b.getIndexAttr(width)},
        tb.computeType(), {p, vals},
        {tb.map(5, {d(0), d(1), d(2).floorDiv(gp), d(4)}),
         tb.map(5, {d(0), d(4), d(2).floorDiv(gv), d(3)})},
        {rows}, tb.constF(b, 0.0),
        [&](OpBuilder &nb, Location l, LoopIndices &, ValueRange in,
            Value acc) {
          Value seen = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::ONE,
                                             in[0], tb.constF(nb, 0.0));
          return arith::SelectOp::create(nb, l, seen,
                                         mulAdd(nb, l, acc, in[0], in[1]), acc)
              .getResult();
        });
  }

  /// out[b, t, i, e] = sum_c a[b, t, i, c] * w[i, c, e] (per-head matrix),
  /// or with `shared`, w[c, e] for every head.
  Value perHeadMatmul(Value a, Value w, bool shared) {
    OpBuilder &b = tb.builder();
    auto aShape = cast<RankedTensorType>(a.getType()).getShape();
    int64_t out = cast<RankedTensorType>(w.getType()).getShape().back();
    auto d = [&](unsigned i) { return tb.dim(i); };
    AffineMap wMap = shared ? tb.map(5, {d(4), d(3)})
                            : tb.map(5, {d(2), d(4), d(3)});
    return tb.contract(
        {batch, tokens, b.getIndexAttr(aShape[2]), b.getIndexAttr(out)}, a,
        tb.map(5, {d(0), d(1), d(2), d(4)}), w, wMap,
        {b.getIndexAttr(aShape[3])});
  }

  Value epilogue(Value agg) {
    int64_t dv = v.getVHeadDim();
    auto d = [&](unsigned i) { return tb.dim(i); };
    AffineMap full = tb.map(4, {d(0), d(1), d(2), d(3)});
    switch (v.getValueEpilogue()) {
    case ValueEpilogue::None:
      return agg;
    case ValueEpilogue::LatentUp:
      // Unabsorbed, the values were already up-projected.
      return op.getAbsorbed() ? perHeadMatmul(agg, toCompute(op.getUpV()), false)
                              : agg;
    case ValueEpilogue::GatedLatentDecoder: {
      Value dec = perHeadMatmul(agg, toCompute(op.getDecoder()), false);
      Value gate = toCompute(op.getGate());
      return tb.generic(
          tb.sizes(dec), tb.computeType(), {dec, gate},
          {full, tb.map(4, {d(0), d(1), d(2) * dv + d(3)})}, {}, Value(),
          [](OpBuilder &nb, Location l, LoopIndices &, ValueRange in, Value) {
            return arith::MulFOp::create(nb, l, in[0], in[1]).getResult();
          });
    }
    case ValueEpilogue::KeyReusePost: {
      Value mixed = perHeadMatmul(agg, toCompute(op.getTransform()), true);
      Value alpha = toCompute(op.getAlpha());
      return tb.generic(
          tb.sizes(agg), tb.computeType(), {agg, mixed, alpha},
          {full, full, tb.map(4, {d(3)})}, {}, Value(),
          [](OpBuilder &nb, Location l, LoopIndices &, ValueRange in, Value) {
            return mulAdd(nb, l, in[0], in[2], in[1]);
          });
    }
    }
    llvm_unreachable("unknown value epilogue");
  }

  Value lower() {
    Value q = toCompute(op.getQuery());
    auto [keys, gk] = buildKeys();
    Value vals = buildValues();
    Value p = softmax(mask(scores(q, keys, gk)));
    int64_t hv = cast<RankedTensorType>(vals.getType()).getShape()[2];
    Value agg;
    if (!v.getScoreMapOfHead().empty() || !v.getLatentOfHead().empty()) {
      // Explicit head maps (Sun's GTA): gather per output head first.
      SmallVector<int64_t> maps, lats;
      for (int64_t i = 0; i < hout; ++i) {
        maps.push_back(v.getScoreMapOfHead(i));
        lats.push_back(v.getValueHeadOfOutputHead(i));
      }
      agg = aggregate(gatherHeads(p, maps), gatherHeads(vals, lats), hout, 1,
                      1);
    } else {
      agg = aggregate(p, vals, hout, hout / hq, hout / hv);
    }
    return epilogue(agg);
  }
};

struct LowerAttentionPattern : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    auto resultType = cast<RankedTensorType>(op.getType());
    TensorBuilder tb(rewriter, op.getLoc(),
                     getComputeType(resultType.getElementType()));
    VariantAttr v = op.getVariant();
    Value cacheRows = op.getKeys() ? op.getKeys() : op.getRows();
    AttentionLowering lowering{op,
                               v,
                               tb,
                               tensor::getMixedSize(rewriter, op.getLoc(),
                                                    op.getQuery(), 0),
                               tensor::getMixedSize(rewriter, op.getLoc(),
                                                    op.getQuery(), 1),
                               tensor::getMixedSize(rewriter, op.getLoc(),
                                                    cacheRows, 1),
                               v.getNumQHeads(),
                               v.getNumOutputHeads()};
    Value out = lowering.lower();
    out = tb.castTensor(out, resultType.getElementType());
    if (out.getType() != resultType)
      out = tensor::CastOp::create(rewriter, op.getLoc(), resultType, out);
    rewriter.replaceOp(op, out);
    return success();
  }
};
} // namespace

void mlir::attn::populateLowerAttentionPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerAttentionPattern>(patterns.getContext());
}
