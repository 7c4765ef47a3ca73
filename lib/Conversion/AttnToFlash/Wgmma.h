//===- Wgmma.h - what the wgmma kernel's loops share ------------*- C++ -*-===//
//
// wgmma (sm_90a) on accumulators held as SSA values, and the parts of the
// warpgroup kernel (MmaWarpgroupKernel.cpp) its cache loops share: the
// lanes' accumulator rows, the workgroup addresses of its buffers and the
// masked row max of a tile's scores. The seesaw over tile pairs
// (MmaSeesawLoop.cpp) is one such loop.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_LIB_CONVERSION_ATTNTOFLASH_WGMMA_H
#define ATTN_LIB_CONVERSION_ATTNTOFLASH_WGMMA_H

#include "MmaFragments.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

namespace mlir::attn {

/// wgmma over accumulators held as f32 SSA values, operands described by
/// 64-bit matrix descriptors.
struct Warpgroup {
  ImplicitLocOpBuilder &b;
  NVVM::WGMMATypes elem;

  Value i64(int64_t v) {
    return arith::ConstantIntOp::create(b, b.getI64Type(), v);
  }
  /// The descriptor of an operand at byte `addr` (a workgroup address).
  /// Without swizzle: core matrices `lbo` bytes apart along k, `sbo` along
  /// m/n. With the 128-byte swizzle: `sbo` between 8-row groups, `lbo`
  /// between 64-element blocks along m/n of an m/n-major operand.
  Value descriptor(Value addr, int64_t lbo, int64_t sbo, bool swizzle128) {
    Value start = arith::AndIOp::create(
        b, arith::ShRUIOp::create(b, addr, i64(4)), i64(0x3fff));
    uint64_t fields = ((uint64_t(lbo) >> 4) << 16) |
                      ((uint64_t(sbo) >> 4) << 32) |
                      (uint64_t(swizzle128) << 62);
    return arith::OrIOp::create(b, start, i64(int64_t(fields)));
  }
  /// The descriptor of the operand `bytes` (a multiple of 16) past the one
  /// `desc` describes: its start address field, addr / 16, grows by bytes /
  /// 16 and never carries past its 14 bits (workgroup memory ends below
  /// 256 KB). One add where a descriptor built anew takes five.
  Value advance(Value desc, int64_t bytes) {
    assert(bytes % 16 == 0 && "16-byte aligned operands");
    return bytes ? arith::AddIOp::create(b, desc, i64(bytes >> 4)) : desc;
  }
  /// D = A B (+ D unless `zero`) for an m64 x n x k16 step: A and B read
  /// K-major unless transposed (then M- or N-major).
  SmallVector<Value> mma(Value a, Value bDesc, ArrayRef<Value> d, bool zero,
                         bool transB, bool transA = false) {
    MLIRContext *ctx = b.getContext();
    int64_t n = 2 * int64_t(d.size());
    SmallVector<Type> fields(d.size(), b.getF32Type());
    auto type = LLVM::LLVMStructType::getLiteral(ctx, fields);
    Value acc = LLVM::UndefOp::create(b, type);
    for (auto [i, v] : llvm::enumerate(d))
      acc =
          LLVM::InsertValueOp::create(b, acc, v, ArrayRef<int64_t>{int64_t(i)});
    auto t = NVVM::WGMMATypesAttr::get(ctx, elem);
    auto one = NVVM::WGMMAScaleInAttr::get(ctx, NVVM::WGMMAScaleIn::one);
    Value r = NVVM::WgmmaMmaAsyncOp::create(
        b, type, acc, a, bDesc, NVVM::MMAShapeAttr::get(ctx, 64, n, 16), t, t,
        NVVM::WGMMATypesAttr::get(ctx, NVVM::WGMMATypes::f32),
        NVVM::WGMMAScaleOutAttr::get(ctx, zero ? NVVM::WGMMAScaleOut::zero
                                               : NVVM::WGMMAScaleOut::one),
        one, one,
        NVVM::MMALayoutAttr::get(ctx, transA ? NVVM::MMALayout::col
                                             : NVVM::MMALayout::row),
        NVVM::MMALayoutAttr::get(ctx, transB ? NVVM::MMALayout::row
                                             : NVVM::MMALayout::col),
        NVVM::MMAIntOverflowAttr());
    SmallVector<Value> out;
    for (int64_t i = 0; i < int64_t(d.size()); ++i)
      out.push_back(LLVM::ExtractValueOp::create(b, r, ArrayRef<int64_t>{i}));
    return out;
  }
  void fence() { NVVM::WgmmaFenceAlignedOp::create(b); }
  /// Closes the wgmma group issued since the last commit.
  void commit() { NVVM::WgmmaGroupSyncAlignedOp::create(b); }
  /// Waits until at most `pending` committed groups are in flight.
  void wait(int64_t pending) { NVVM::WgmmaWaitGroupSyncOp::create(b, pending); }
  /// Orders this thread's generic-proxy writes of workgroup memory
  /// (cp.async, stores) before wgmma's async-proxy reads.
  void fenceProxy() {
    NVVM::FenceProxyOp::create(
        b, NVVM::ProxyKind::async_shared,
        NVVM::SharedSpaceAttr::get(b.getContext(),
                                   NVVM::SharedSpace::shared_cta));
  }
  /// The block's writes of workgroup memory (copies, stores) visible to
  /// wgmma's proxy, then to every warp.
  void handOff() {
    fenceProxy();
    gpu::BarrierOp::create(b);
  }
  /// After handOff, the products `issue` issues (one commit group), waited
  /// for: a tile's value product once its probabilities are written.
  SmallVector<Value> handOffAndWait(function_ref<SmallVector<Value>()> issue) {
    handOff();
    fence();
    SmallVector<Value> out = issue();
    wait(0);
    return out;
  }
};

/// The warpgroup kernel's frame: its lanes, buffers and rows.
struct WarpgroupFrame {
  WarpgroupFrame(KernelBuilder &k, ForwardFrame &f, MmaStaging &stage,
                 const FlashPlan &p, MmaLane &ln, Warpgroup &wg);
  KernelBuilder &k;
  ForwardFrame &f;
  MmaStaging &stage;
  const FlashPlan &p;
  MmaLane &ln;
  Warpgroup &wg;
  Value base;                // workgroup address (i64) of the buffers (lay.q)
  Value group;               // the thread's warpgroup
  Value valueCol0;           // its first value column (of DV / warpgroups)
  Value mlBuf;               // a row max or sum exchange: 64 f32 per warpgroup
  SmallVector<Value> rowEnd; // per row half, unless the mask is stride-aware

  /// The lane's accumulator row 16 w + 8 h + g (w: its warp in the
  /// warpgroup).
  Value rowOf(int64_t h);
  /// The workgroup address (i64) `byteOffset` bytes into the buffers.
  Value addr(int64_t byteOffset);
  /// Core matrices of a buffer with `pitch` columns sit 128 bytes apart
  /// along the columns and 8 x pitch elements apart down the rows.
  static int64_t colBytes(int64_t col) { return col / 8 * 128; }
  int64_t groupBytes(int64_t pitch) const {
    return 8 * pitch * int64_t(p.elementBytes());
  }
  /// Copies land, become visible to wgmma's proxy, then to every warp.
  void handOff() { wg.handOff(); }
  /// Masks and scales (to base 2) the lane's scores of row half h in place,
  /// `s[ns * 4 + 2 * h + e]` at cache row col0 + 8 ns + e, and returns
  /// their row max with `prev` over the lane's quad.
  Value maskedRowMax(MutableArrayRef<Value> s, int64_t h, Value col0,
                     Value prev);
  /// exp2(x - m) in place for the lane's scores of row half h (m: their
  /// row max, -inf taken as 0); returns their sum.
  Value exponentiate(MutableArrayRef<Value> s, int64_t h, Value m);

  // The cache loops (MmaTileLoop.cpp, MmaSeesawLoop.cpp).

  /// The loop over single tiles: two stages (each tile's copies waited for,
  /// then its scores, softmax and P V in turn) or, with three or more, the
  /// pipeline. Returns what seesawLoop returns.
  SmallVector<Value> tileLoop(Value jBegin);

  /// The seesaw over tile pairs (plan.seesaw): every warpgroup's outputs
  /// (nO accumulators), then per row half the running max (base 2) and the
  /// lane's share of the sum, as the two-stage loop returns them.
  SmallVector<Value> seesawLoop(Value jBegin);
};

} // namespace mlir::attn

#endif // ATTN_LIB_CONVERSION_ATTNTOFLASH_WGMMA_H
