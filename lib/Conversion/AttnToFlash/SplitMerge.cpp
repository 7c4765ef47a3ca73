//===- SplitMerge.cpp - merging at most 8 splits, all loads at once -------===//
//
// Each merged vector of 4 values (8 normalised ones) needs every split's
// (max, sum) and partial vector. Loaded one split after another, they cost an
// L2 round trip per split and per step; here a thread issues all of them for MU
// vectors before using any (SU splits, those past S weighted 0, so no load
// waits behind a condition), and needs no workgroup memory or barrier.
//
//===----------------------------------------------------------------------===//
#include "FlashKernels.h"
#include "KernelBuilder.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::attn;

void mlir::attn::mergeFewSplits(
    KernelBuilder &k, Value oPart, Value mlPart, int64_t width, Value S,
    Value tid, int64_t threads, Value count,
    function_ref<Value(Value s, Value item)> rowOf,
    function_ref<Value(Value item)> columnOf,
    function_ref<void(Value item, Value merged)> store, int64_t inFlight,
    bool normalisedRows) {
  ImplicitLocOpBuilder &b = k.b;
  auto f32x2 = VectorType::get({2}, k.f32());
  auto partType = cast<MemRefType>(oPart.getType()).getElementType();
  int64_t vec = normalisedRows ? 8 : 4;
  auto f32xV = VectorType::get({vec}, k.f32());
  auto partV = VectorType::get({vec}, partType);
  Value one = k.idx(1);
  auto direct = [&](int64_t SU, int64_t MU) {
    Value lastItem = k.sub(count, one), lastSplit = k.sub(S, one);
    k.loop(tid, count, k.idx(MU * threads), [&](Value i0) {
      SmallVector<Value> items, ml, o;
      for (int64_t mu = 0; mu < MU; ++mu) {
        items.push_back(k.add(i0, k.idx(mu * threads)));
        Value item = k.min(items[mu], lastItem);
        Value col = columnOf(item);
        for (int64_t su = 0; su < SU; ++su) {
          Value row = rowOf(k.min(k.idx(su), lastSplit), item);
          ml.push_back(vector::LoadOp::create(
              b, f32x2, mlPart, ValueRange{k.mul(row, k.idx(2))},
              /*nontemporal=*/false, llvm::MaybeAlign(8)));
          Value v = vector::LoadOp::create(
              b, partV, oPart, ValueRange{k.add(k.mul(row, k.idx(width)), col)},
              /*nontemporal=*/false, llvm::MaybeAlign(16));
          o.push_back(partType == f32xV.getElementType()
                          ? v
                          : arith::ExtFOp::create(b, f32xV, v).getResult());
        }
      }
      for (int64_t mu = 0; mu < MU; ++mu) {
        SmallVector<Value> m, l;
        Value M = k.negInf();
        for (int64_t su = 0; su < SU; ++su) {
          Value in = k.lt(k.idx(su), S);
          m.push_back(
              k.select(in, vector::ExtractOp::create(b, ml[mu * SU + su], 0),
                       k.negInf()));
          l.push_back(vector::ExtractOp::create(b, ml[mu * SU + su], 1));
          M = k.maxf(M, m[su]);
        }
        M = k.finiteMax(M);
        Value d = k.f(0.0);
        Value acc = arith::ConstantOp::create(
            b, f32xV, DenseElementsAttr::get(f32xV, 0.0f));
        for (int64_t su = 0; su < SU; ++su) {
          Value e = k.exp(k.subf(m[su], M));
          d = k.fma(e, l[su], d);
          Value w = normalisedRows ? k.mulf(e, l[su]) : e;
          acc =
              vector::FMAOp::create(b, vector::BroadcastOp::create(b, f32xV, w),
                                    o[mu * SU + su], acc);
        }
        Value inv = k.reciprocalOrZero(d);
        Value sum = arith::MulFOp::create(
            b, acc, vector::BroadcastOp::create(b, f32xV, inv));
        k.ifThen(k.lt(items[mu], count), [&] { store(items[mu], sum); });
      }
    });
  };
  // (SU, MU) by the splits: `inFlight` vector loads a step in each form.
  assert(inFlight >= 8 && "at least one vector of 8 splits a step");
  k.ifThenElse(
      k.le(S, k.idx(2)), [&] { direct(2, inFlight / 2); },
      [&] {
        k.ifThenElse(
            k.le(S, k.idx(4)), [&] { direct(4, inFlight / 4); },
            [&] { direct(8, inFlight / 8); });
      });
}

void mlir::attn::loadNormalisedRows(
    KernelBuilder &k, Value oRows, Value mlPart, int64_t width, Value S,
    Value tid, int64_t threads, Value count,
    function_ref<Value(Value s, Value item)> rowOf,
    function_ref<Value(Value item)> columnOf, Value dst,
    function_ref<Value(Value item)> dstAt) {
  ImplicitLocOpBuilder &b = k.b;
  const int64_t chunk = 8;
  auto elem = cast<MemRefType>(oRows.getType()).getElementType();
  k.ifThenElse(
      k.eq(S, k.idx(1)),
      [&] {
        k.loop(tid, count, k.idx(threads), [&](Value i) {
          Value src =
              k.add(k.mul(rowOf(k.idx(0), i), k.idx(width)), columnOf(i));
          k.copyAsync16(oRows, src, dst, dstAt(i), chunk);
        });
        NVVM::CpAsyncCommitGroupOp::create(b);
      },
      [&] {
        auto sv = VectorType::get({chunk}, elem);
        mergeFewSplits(
            k, oRows, mlPart, width, S, tid, threads, count, rowOf, columnOf,
            [&](Value i, Value sum) {
              vector::StoreOp::create(b, arith::TruncFOp::create(b, sv, sum),
                                      dst, ValueRange{dstAt(i)});
            },
            /*inFlight=*/8, /*normalisedRows=*/true);
      });
}
