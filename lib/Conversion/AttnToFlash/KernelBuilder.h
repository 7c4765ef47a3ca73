//===- KernelBuilder.h - terse construction of GPU kernel bodies -*- C++ -*-===//
//
// The fused kernels are written out op by op; these helpers keep the index
// arithmetic, loads and loops readable.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_LIB_CONVERSION_ATTNTOFLASH_KERNELBUILDER_H
#define ATTN_LIB_CONVERSION_ATTNTOFLASH_KERNELBUILDER_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include <functional>

namespace mlir::attn {

class KernelBuilder {
public:
  explicit KernelBuilder(ImplicitLocOpBuilder &b) : b(b) {}
  ImplicitLocOpBuilder &b;

  Type f32() { return b.getF32Type(); }
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, v); }
  Value f(double v) {
    return arith::ConstantOp::create(b, f32(), b.getF32FloatAttr(v));
  }
  Value negInf();

  Value add(Value x, Value y) { return arith::AddIOp::create(b, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, x, y); }
  Value div(Value x, Value y) { return arith::DivUIOp::create(b, x, y); }
  Value rem(Value x, Value y) { return arith::RemUIOp::create(b, x, y); }
  Value min(Value x, Value y) { return arith::MinSIOp::create(b, x, y); }
  Value max(Value x, Value y) { return arith::MaxSIOp::create(b, x, y); }
  Value lt(Value x, Value y) {
    return arith::CmpIOp::create(b, arith::CmpIPredicate::slt, x, y);
  }
  Value le(Value x, Value y) {
    return arith::CmpIOp::create(b, arith::CmpIPredicate::sle, x, y);
  }
  Value eq(Value x, Value y) {
    return arith::CmpIOp::create(b, arith::CmpIPredicate::eq, x, y);
  }
  Value land(Value x, Value y) { return arith::AndIOp::create(b, x, y); }
  Value lor(Value x, Value y) { return arith::OrIOp::create(b, x, y); }
  Value select(Value c, Value x, Value y) {
    return arith::SelectOp::create(b, c, x, y);
  }

  Value addf(Value x, Value y) { return arith::AddFOp::create(b, x, y); }
  Value subf(Value x, Value y) { return arith::SubFOp::create(b, x, y); }
  Value mulf(Value x, Value y) { return arith::MulFOp::create(b, x, y); }
  Value divf(Value x, Value y) { return arith::DivFOp::create(b, x, y); }
  Value maxf(Value x, Value y) { return arith::MaximumFOp::create(b, x, y); }
  /// x * y + z, one rounding.
  Value fma(Value x, Value y, Value z) {
    return math::FmaOp::create(b, x, y, z);
  }
  Value exp(Value x) { return math::ExpOp::create(b, x); }
  /// 2^x as one ex2.approx (scores kept in base 2).
  Value exp2(Value x) {
    return math::Exp2Op::create(b, x, arith::FastMathFlags::afn);
  }
  /// A running max made safe to subtract: -inf (nothing seen yet) becomes
  /// 0, so exponents stay finite and give 0.
  Value finiteMax(Value m) { return select(feq(m, negInf()), f(0.0), m); }
  /// 1 / x where x > 0, else 0: a row that saw nothing (sum 0) yields
  /// zeros rather than NaN.
  Value reciprocalOrZero(Value x) {
    return select(fgt(x, f(0.0)), divf(f(1.0), x), f(0.0));
  }
  /// Logical not of an i1.
  Value lnot(Value x) {
    return arith::XOrIOp::create(
        b, x, arith::ConstantIntOp::create(b, b.getI1Type(), 1));
  }
  /// Max (or sum) of `v` over groups of `lanes` adjacent lanes (a power of
  /// two), by xor shuffles.
  Value laneReduce(Value v, int64_t lanes, bool max);
  Value feq(Value x, Value y) {
    return arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, x, y);
  }
  Value fgt(Value x, Value y) {
    return arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, x, y);
  }

  /// Loads element `i` of a flat memref, widened to f32.
  Value loadF32(Value memref, Value i);
  /// Loads element `i` of a flat integer memref as an index.
  Value loadIndex(Value memref, Value i);
  void store(Value v, Value memref, Value i) {
    memref::StoreOp::create(b, v, memref, i);
  }
  /// Stores an f32 into a flat memref of any float type (rounding).
  void storeF32(Value v, Value memref, Value i);

  /// The max (or sum) of `xs` as a balanced tree: log2 dependent steps
  /// where a running value takes one per element (a tile's softmax lies on
  /// the loop's critical path).
  Value tree(ArrayRef<Value> xs, bool max);
  /// for (i = lb; i < ub; i += step) body(i)
  void loop(Value lb, Value ub, Value step, function_ref<void(Value)> body);
  /// A loop carrying values: returns the final values.
  SmallVector<Value>
  loop(Value lb, Value ub, Value step, ValueRange init,
       function_ref<SmallVector<Value>(Value, ValueRange)> body);
  /// Single carried value convenience.
  Value reduce(Value lb, Value ub, Value init,
               function_ref<Value(Value, Value)> body);
  /// if (cond) body()
  void ifThen(Value cond, function_ref<void()> body);
  /// if (cond) then() else otherwise(): one code form per branch of a
  /// uniform condition.
  void ifThenElse(Value cond, function_ref<void()> then,
                  function_ref<void()> otherwise);
  void barrier() { gpu::BarrierOp::create(b); }
  /// NVIDIA only (NVVM fences). A pointer to i32 counter `i` of `counters`;
  /// a device-scope fence; and one arrival at the counter after such a
  /// fence (publishing this thread's stores and, behind a block barrier,
  /// its block's): an atomic increment that wraps from `last` to 0, so the
  /// last of last + 1 arrivals leaves it ready for the next launch. Returns
  /// the count before.
  Value counterPointer(Value counters, Value i);
  void deviceFence();
  /// Timing studies (plan.traceBlocks): the global nanosecond timer, and
  /// the block's record (its x, y, z and SM, then the stamps), written by
  /// thread 0 into the module's global for kernel `tag`
  /// (attn/Runtime/TraceRecords.h), which the runtime prints after the
  /// step (bench/trace_blocks.py reads the lines).
  Value timer();
  /// NVIDIA only: an L2 cache policy (createpolicy, the whole access
  /// range) whose lines are evicted before (`evict_first`), with
  /// (`evict_normal`) or after (`evict_last`) the rest, for the
  /// l2_cache_hint of bulk and tensor copies.
  Value l2Policy(StringRef priority);
  /// One 16-byte asynchronous copy (cp.async, past L1) of `elements`
  /// elements of `src` at `srcAt` into workgroup memory `dst` at `dstAt`;
  /// with `srcElements`, only that many are read and the rest zero-filled.
  void copyAsync16(Value src, Value srcAt, Value dst, Value dstAt,
                   int64_t elements, Value srcElements = Value());
  void traceBlock(StringRef tag, ArrayRef<Value> stamps);
  Value arrive(Value counter, Value last);
  /// The kernel's dynamic workgroup memory, as bytes (its size is given at
  /// launch), and a view of `n` elements of `elem` at byte `offset` of it.
  Value dynamicWorkgroupMemory();
  Value workgroupView(Value bytes, Value offset, int64_t n, Type elem);
};

/// A traced block's %globaltimer stamps (plan.traceBlocks), recorded by its
/// thread 0 once all are taken; nothing where the plan does not trace.
class BlockStamps {
public:
  BlockStamps(KernelBuilder &k, bool traced) : k(k), traced(traced) {}
  void take() {
    if (traced)
      stamps.push_back(k.timer());
  }
  void print(StringRef tag) {
    if (traced)
      k.traceBlock(tag, stamps);
  }

private:
  KernelBuilder &k;
  bool traced;
  SmallVector<Value> stamps;
};

/// A dynamically sized 1-D memref of `elem`: the kernels' tensor arguments.
MemRefType flatMemRef(Type elem);
/// A static f32 workgroup buffer of `n` elements.
MemRefType workgroupBuffer(MLIRContext *ctx, int64_t n);
/// A `gpu.func` kernel with `threads` threads per block (known_block_size).
gpu::GPUFuncOp makeKernel(OpBuilder &b, Location loc, StringRef name,
                          ArrayRef<Type> args, ArrayRef<Type> workgroup,
                          int64_t threads);

} // namespace mlir::attn

#endif // ATTN_LIB_CONVERSION_ATTNTOFLASH_KERNELBUILDER_H
