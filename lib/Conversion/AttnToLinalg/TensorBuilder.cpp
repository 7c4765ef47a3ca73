//===- TensorBuilder.cpp - small helpers to build linalg on tensors -------===//
#include "TensorBuilder.h"

using namespace mlir;
using namespace mlir::attn;

FloatType mlir::attn::getComputeType(Type elementType) {
  auto ft = cast<FloatType>(elementType);
  if (ft.getWidth() < 32)
    return Float32Type::get(ft.getContext());
  return ft;
}

AffineMap TensorBuilder::map(unsigned numLoops,
                             ArrayRef<AffineExpr> results) const {
  return AffineMap::get(numLoops, 0, results, b.getContext());
}

SmallVector<OpFoldResult> TensorBuilder::sizes(Value tensor) {
  return tensor::getMixedSizes(b, loc, tensor);
}

Value TensorBuilder::extract(OpBuilder &nb, Value tensor, ValueRange indices) {
  return tensor::ExtractOp::create(nb, loc, tensor, indices);
}

Value TensorBuilder::constF(OpBuilder &nb, double v) const {
  return arith::ConstantOp::create(nb, loc, f, nb.getFloatAttr(f, v));
}

Value TensorBuilder::constIndex(OpBuilder &nb, int64_t v) const {
  return arith::ConstantIndexOp::create(nb, loc, v);
}

Value TensorBuilder::generic(ArrayRef<OpFoldResult> outSizes, Type elemType,
                             ValueRange inputs, ArrayRef<AffineMap> inputMaps,
                             ArrayRef<OpFoldResult> reductionSizes, Value init,
                             Body body) {
  unsigned n = outSizes.size(), r = reductionSizes.size();
  Value out = tensor::EmptyOp::create(b, loc, outSizes, elemType);
  if (init)
    out = linalg::FillOp::create(b, loc, init, out).getResult(0);
  SmallVector<AffineMap> maps(inputMaps.begin(), inputMaps.end());
  SmallVector<AffineExpr> outExprs;
  for (unsigned i = 0; i < n; ++i)
    outExprs.push_back(dim(i));
  maps.push_back(map(n + r, outExprs));
  SmallVector<utils::IteratorType> iterators(n, utils::IteratorType::parallel);
  iterators.append(r, utils::IteratorType::reduction);
  bool reduce = r > 0;
  auto gen = linalg::GenericOp::create(
      b, loc, out.getType(), inputs, out, maps, iterators,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        LoopIndices ivs(nb, nl, n + r);
        Value acc = reduce ? args.back() : Value();
        Value v = body(nb, nl, ivs, args.drop_back(), acc);
        linalg::YieldOp::create(nb, nl, v);
      });
  // Reduction sizes are carried by the inputs' shapes; a reduction with no
  // input ranging over it would have no bound, so callers always pass one.
  (void)reductionSizes;
  return gen.getResult(0);
}

Value LoopIndices::operator[](unsigned i) {
  assert(i < values.size() && "loop index out of range");
  if (!values[i])
    values[i] = linalg::IndexOp::create(b, loc, i);
  return values[i];
}

SmallVector<Value> LoopIndices::all() {
  SmallVector<Value> out;
  for (unsigned i = 0; i < values.size(); ++i)
    out.push_back((*this)[i]);
  return out;
}

Value mlir::attn::mulAdd(OpBuilder &b, Location loc, Value acc, Value x,
                         Value y) {
  return arith::AddFOp::create(b, loc, acc, arith::MulFOp::create(b, loc, x, y));
}

Value TensorBuilder::contract(ArrayRef<OpFoldResult> outSizes, Value a,
                              AffineMap aMap, Value bv, AffineMap bMap,
                              ArrayRef<OpFoldResult> reductionSizes) {
  return generic(outSizes, f, {a, bv}, {aMap, bMap}, reductionSizes,
                 constF(b, 0.0),
                 [](OpBuilder &nb, Location l, LoopIndices &, ValueRange in,
                    Value acc) { return mulAdd(nb, l, acc, in[0], in[1]); });
}

Value TensorBuilder::castTensor(Value tensor, Type elemType) {
  auto type = cast<RankedTensorType>(tensor.getType());
  if (type.getElementType() == elemType)
    return tensor;
  unsigned rank = type.getRank();
  SmallVector<AffineExpr> ids;
  for (unsigned i = 0; i < rank; ++i)
    ids.push_back(dim(i));
  bool widen = cast<FloatType>(elemType).getWidth() >
               cast<FloatType>(type.getElementType()).getWidth();
  return generic(sizes(tensor), elemType, tensor, {map(rank, ids)}, {},
                 Value(),
                 [&](OpBuilder &nb, Location nl, LoopIndices &, ValueRange in,
                     Value) -> Value {
                   if (widen)
                     return arith::ExtFOp::create(nb, nl, elemType, in[0]);
                   return arith::TruncFOp::create(nb, nl, elemType, in[0]);
                 });
}
