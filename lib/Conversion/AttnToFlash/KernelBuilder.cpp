//===- KernelBuilder.cpp - terse construction of GPU kernel bodies --------===//
#include "KernelBuilder.h"
#include "attn/Runtime/TraceRecords.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include <limits>

using namespace mlir;
using namespace mlir::attn;
namespace trace = ::attn::trace;

Value KernelBuilder::tree(ArrayRef<Value> xs, bool max) {
  assert(!xs.empty() && "nothing to reduce");
  SmallVector<Value> level(xs);
  while (level.size() > 1) {
    SmallVector<Value> next;
    for (size_t i = 0; i + 1 < level.size(); i += 2)
      next.push_back(max ? maxf(level[i], level[i + 1])
                         : addf(level[i], level[i + 1]));
    if (level.size() % 2)
      next.push_back(level.back());
    level = std::move(next);
  }
  return level.front();
}

Value KernelBuilder::counterPointer(Value counters, Value i) {
  Value addr = add(memref::ExtractAlignedPointerAsIndexOp::create(b, counters),
                   mul(i, idx(4)));
  return LLVM::IntToPtrOp::create(
      b, LLVM::LLVMPointerType::get(b.getContext()),
      arith::IndexCastOp::create(b, b.getI64Type(), addr).getResult());
}

Value KernelBuilder::l2Policy(StringRef priority) {
  // No NVVM op creates a policy in MLIR 22.
  return LLVM::InlineAsmOp::create(
             b, b.getI64Type(), ValueRange{},
             ("createpolicy.fractional.L2::" + priority + ".b64 $0, 1.0;")
                 .str(),
             "=l", /*has_side_effects=*/false, /*is_align_stack=*/false,
             LLVM::tailcallkind::TailCallKind::None, LLVM::AsmDialectAttr(),
             ArrayAttr())
      .getResult(0);
}

void KernelBuilder::copyAsync16(Value src, Value srcAt, Value dst, Value dstAt,
                                int64_t elements, Value srcElements) {
  nvgpu::DeviceAsyncCopyOp::create(
      b, nvgpu::DeviceAsyncTokenType::get(b.getContext()), dst,
      ValueRange{dstAt}, src, ValueRange{srcAt}, b.getIndexAttr(elements),
      srcElements, b.getUnitAttr());
}

Value KernelBuilder::timer() {
  return NVVM::GlobalTimerOp::create(b, b.getI64Type());
}

void KernelBuilder::traceBlock(StringRef tag, ArrayRef<Value> stamps) {
  // The block's record goes to a global of the module that the runtime
  // prints after the step, not through vprintf: ptxas serialises every
  // wgmma of a kernel that calls a function (C7510, the wgmma pipeline may
  // not cross a call), and those products are what the trace times.
  assert(int64_t(stamps.size()) <= trace::kMaxStamps && "too many stamps");
  auto module =
      b.getInsertionBlock()->getParentOp()->getParentOfType<gpu::GPUModuleOp>();
  std::string symbol = (trace::kPrefix + tag).str();
  Type i64 = b.getI64Type();
  if (!module.lookupSymbol(symbol)) {
    OpBuilder mb = OpBuilder::atBlockBegin(module.getBody());
    int64_t words = trace::kMaxBlocks * trace::kRecordWords;
    auto zeros = DenseElementsAttr::get(RankedTensorType::get({words}, i64),
                                        APInt(64, 0));
    LLVM::GlobalOp::create(mb, b.getLoc(), LLVM::LLVMArrayType::get(i64, words),
                           /*isConstant=*/false, LLVM::Linkage::External,
                           symbol, zeros, /*alignment=*/8, /*addrSpace=*/1);
  }
  Value tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  Value bx = gpu::BlockIdOp::create(b, gpu::Dimension::x);
  Value by = gpu::BlockIdOp::create(b, gpu::Dimension::y);
  Value bz = gpu::BlockIdOp::create(b, gpu::Dimension::z);
  Value linear = add(
      bx, mul(gpu::GridDimOp::create(b, gpu::Dimension::x),
              add(by, mul(gpu::GridDimOp::create(b, gpu::Dimension::y), bz))));
  ifThen(land(eq(tid, idx(0)), lt(linear, idx(trace::kMaxBlocks))),
         [&] {
           auto ptr = LLVM::LLVMPointerType::get(b.getContext(), /*global=*/1);
           Value base = LLVM::AddressOfOp::create(b, ptr, symbol);
           Value record = mul(linear, idx(trace::kRecordWords));
           auto word = [&](int64_t i, Value v) {
             Value at = arith::IndexCastOp::create(b, i64, add(record, idx(i)));
             Value p = LLVM::GEPOp::create(b, ptr, i64, base, ValueRange{at});
             if (v.getType() != i64)
               v = v.getType().isIndex()
                       ? arith::IndexCastOp::create(b, i64, v).getResult()
                       : arith::ExtUIOp::create(b, i64, v).getResult();
             LLVM::StoreOp::create(b, v, p);
           };
           word(0, idx(int64_t(stamps.size())));
           word(1, bx);
           word(2, by);
           word(3, bz);
           word(4, NVVM::SmIdOp::create(b, b.getI32Type()));
           for (auto [i, s] : llvm::enumerate(stamps))
             word(trace::kHeaderWords + int64_t(i), s);
         });
}

void KernelBuilder::deviceFence() {
  NVVM::MembarOp::create(b, NVVM::MemScopeKind::GPU);
}

Value KernelBuilder::arrive(Value counter, Value last) {
  deviceFence();
  return LLVM::AtomicRMWOp::create(b, LLVM::AtomicBinOp::uinc_wrap, counter,
                                   last, LLVM::AtomicOrdering::monotonic,
                                   "device");
}

Value KernelBuilder::negInf() {
  return f(-std::numeric_limits<double>::infinity());
}

Value KernelBuilder::loadF32(Value memref, Value i) {
  Value v = memref::LoadOp::create(b, memref, i);
  auto ft = cast<FloatType>(v.getType());
  if (ft.getWidth() < 32)
    return arith::ExtFOp::create(b, f32(), v);
  if (ft.getWidth() > 32)
    return arith::TruncFOp::create(b, f32(), v);
  return v;
}

Value KernelBuilder::laneReduce(Value v, int64_t lanes, bool max) {
  for (int64_t off = 1; off < lanes; off *= 2) {
    Value o = gpu::ShuffleOp::create(b, v, off, 32, gpu::ShuffleMode::XOR)
                  .getShuffleResult();
    v = max ? maxf(v, o) : addf(v, o);
  }
  return v;
}

Value KernelBuilder::dynamicWorkgroupMemory() {
  auto space = gpu::AddressSpaceAttr::get(
      b.getContext(), gpu::GPUDialect::getWorkgroupAddressSpace());
  return gpu::DynamicSharedMemoryOp::create(
      b, MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                         MemRefLayoutAttrInterface(), space));
}

Value KernelBuilder::workgroupView(Value bytes, Value offset, int64_t n,
                                   Type elem) {
  auto space = cast<MemRefType>(bytes.getType()).getMemorySpace();
  auto type = MemRefType::get({n}, elem, MemRefLayoutAttrInterface(), space);
  return memref::ViewOp::create(b, type, bytes, offset, ValueRange{});
}

Value KernelBuilder::loadIndex(Value memref, Value i) {
  Value v = memref::LoadOp::create(b, memref, i);
  return arith::IndexCastOp::create(b, b.getIndexType(), v);
}

void KernelBuilder::storeF32(Value v, Value memref, Value i) {
  Type elem = cast<MemRefType>(memref.getType()).getElementType();
  auto ft = cast<FloatType>(elem);
  if (ft.getWidth() < 32)
    v = arith::TruncFOp::create(b, elem, v);
  else if (ft.getWidth() > 32)
    v = arith::ExtFOp::create(b, elem, v);
  store(v, memref, i);
}

void KernelBuilder::loop(Value lb, Value ub, Value step,
                         function_ref<void(Value)> body) {
  scf::ForOp::create(b, lb, ub, step, ValueRange{},
                     [&](OpBuilder &nb, Location loc, Value iv, ValueRange) {
                       OpBuilder::InsertionGuard guard(b);
                       b.setInsertionPoint(nb.getInsertionBlock(),
                                           nb.getInsertionPoint());
                       body(iv);
                       scf::YieldOp::create(b);
                     });
}

SmallVector<Value>
KernelBuilder::loop(Value lb, Value ub, Value step, ValueRange init,
                    function_ref<SmallVector<Value>(Value, ValueRange)> body) {
  auto forOp = scf::ForOp::create(
      b, lb, ub, step, init,
      [&](OpBuilder &nb, Location loc, Value iv, ValueRange args) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
        SmallVector<Value> next = body(iv, args);
        scf::YieldOp::create(b, next);
      });
  return SmallVector<Value>(forOp.getResults());
}

Value KernelBuilder::reduce(Value lb, Value ub, Value init,
                            function_ref<Value(Value, Value)> body) {
  return loop(lb, ub, idx(1), ValueRange{init},
              [&](Value iv, ValueRange args) -> SmallVector<Value> {
                return {body(iv, args[0])};
              })[0];
}

void KernelBuilder::ifThen(Value cond, function_ref<void()> body) {
  auto ifOp = scf::IfOp::create(b, cond, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&ifOp.getThenRegion().front());
  body();
}

void KernelBuilder::ifThenElse(Value cond, function_ref<void()> then,
                               function_ref<void()> otherwise) {
  auto ifOp = scf::IfOp::create(b, cond, /*withElseRegion=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&ifOp.getThenRegion().front());
  then();
  b.setInsertionPointToStart(&ifOp.getElseRegion().front());
  otherwise();
}

MemRefType mlir::attn::flatMemRef(Type elem) {
  return MemRefType::get({ShapedType::kDynamic}, elem);
}

MemRefType mlir::attn::workgroupBuffer(MLIRContext *ctx, int64_t n) {
  auto space = gpu::AddressSpaceAttr::get(
      ctx, gpu::GPUDialect::getWorkgroupAddressSpace());
  return MemRefType::get({n}, Float32Type::get(ctx),
                         MemRefLayoutAttrInterface(), space);
}

gpu::GPUFuncOp mlir::attn::makeKernel(OpBuilder &b, Location loc,
                                      StringRef name, ArrayRef<Type> args,
                                      ArrayRef<Type> workgroup,
                                      int64_t threads) {
  auto type = FunctionType::get(b.getContext(), args, {});
  auto func = gpu::GPUFuncOp::create(b, loc, name, type, workgroup);
  func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
  func.setKnownBlockSizeAttr(
      b.getDenseI32ArrayAttr({static_cast<int32_t>(threads), 1, 1}));
  return func;
}
