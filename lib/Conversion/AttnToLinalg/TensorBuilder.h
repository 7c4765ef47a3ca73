//===- TensorBuilder.h - small helpers to build linalg on tensors -*- C++ -*-===//
//
// The naive lowering writes every step as one linalg.generic over named loop
// dimensions. These helpers keep each step to a few lines: the output shape,
// the inputs with their indexing maps, and a body that returns one value.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_LIB_CONVERSION_ATTNTOLINALG_TENSORBUILDER_H
#define ATTN_LIB_CONVERSION_ATTNTOLINALG_TENSORBUILDER_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::attn {

/// The loop indices of a linalg.generic body, materialised as linalg.index
/// on first use so bodies carry only the indices they read.
class LoopIndices {
public:
  LoopIndices(OpBuilder &b, Location loc, unsigned numLoops)
      : b(b), loc(loc), values(numLoops) {}
  Value operator[](unsigned i);
  SmallVector<Value> all();

private:
  OpBuilder &b;
  Location loc;
  SmallVector<Value> values;
};

/// Builds linalg.generic ops over tensors at one location.
class TensorBuilder {
public:
  TensorBuilder(OpBuilder &b, Location loc, FloatType computeType)
      : b(b), loc(loc), f(computeType) {}

  /// Body callback: the builder, the loop induction values (linalg.index of
  /// every loop), the input element values, and (for reductions) the
  /// accumulator. Returns the value to yield.
  using Body = function_ref<Value(OpBuilder &, Location, LoopIndices &ivs,
                                  ValueRange inputs, Value acc)>;

  /// out[d0..dn-1] = body(...) with `numReduction` trailing reduction loops
  /// of sizes `reductionSizes`; the accumulator starts at `init`.
  /// `inputMaps` map the (n + r) loops to each input.
  Value generic(ArrayRef<OpFoldResult> outSizes, Type elemType,
                ValueRange inputs, ArrayRef<AffineMap> inputMaps,
                ArrayRef<OpFoldResult> reductionSizes, Value init, Body body);

  /// A contraction: out = sum over the trailing `reductionSizes` loops of
  /// a * b, in the compute type.
  Value contract(ArrayRef<OpFoldResult> outSizes, Value a, AffineMap aMap,
                 Value b, AffineMap bMap, ArrayRef<OpFoldResult> reductionSizes);

  /// Elementwise over `outSizes` without inputs (everything read through
  /// tensor.extract or computed from indices).
  Value elementwise(ArrayRef<OpFoldResult> outSizes, Type elemType, Body body) {
    return generic(outSizes, elemType, {}, {}, {}, Value(), body);
  }

  /// Affine map from `numLoops` loops to the listed loop dimensions.
  AffineMap map(unsigned numLoops, ArrayRef<AffineExpr> results) const;
  AffineExpr dim(unsigned i) const { return b.getAffineDimExpr(i); }

  /// Converts a float tensor to `elemType` (extf/truncf), or returns it.
  Value castTensor(Value tensor, Type elemType);
  /// Mixed (static or dynamic) sizes of a ranked tensor.
  SmallVector<OpFoldResult> sizes(Value tensor);
  /// tensor.extract at indices.
  Value extract(OpBuilder &nb, Value tensor, ValueRange indices);

  Value constF(OpBuilder &nb, double v) const;
  Value constIndex(OpBuilder &nb, int64_t v) const;
  FloatType computeType() const { return f; }
  OpBuilder &builder() { return b; }
  Location location() const { return loc; }

private:
  OpBuilder &b;
  Location loc;
  FloatType f;
};

/// acc + x * y.
Value mulAdd(OpBuilder &b, Location loc, Value acc, Value x, Value y);

/// The float type the naive lowering computes in: f32 for narrower floats,
/// the element type itself otherwise.
FloatType getComputeType(Type elementType);

} // namespace mlir::attn

#endif // ATTN_LIB_CONVERSION_ATTNTOLINALG_TENSORBUILDER_H
