//===- CPUProgram.cpp - attn modules JIT-compiled for the host CPU --------===//
//
// The reference lowering (attn-lower-to-cpu) through MLIR's ExecutionEngine:
// what the Python package runs on numpy arrays, and what checks compiled GPU
// kernels' semantics on machines without a GPU.
//
//===----------------------------------------------------------------------===//
#include "Session.h"
#include "attn/Pipelines/Pipelines.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include <mutex>

namespace attn {

struct CPUProgram::Impl {
  std::unique_ptr<mlir::ExecutionEngine> engine;
};

void *CPUProgram::function(const std::string &name) const {
  if (!impl || !impl->engine)
    return nullptr;
  llvm::Expected<void *> fn = impl->engine->lookup("_mlir_ciface_" + name);
  if (!fn) {
    llvm::consumeError(fn.takeError());
    return nullptr;
  }
  return *fn;
}

static std::string typeText(mlir::Type t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  t.print(os);
  return s;
}

CPUProgram compileForCPU(std::string_view source) {
  static std::once_flag nativeTarget;
  std::call_once(nativeTarget, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
  CPUProgram program;
  detail::Session s(program.diagnostics);
  mlir::OwningOpRef<mlir::ModuleOp> module = s.parse(source, "input");
  if (!module)
    return program;
  for (auto func : module->getOps<mlir::func::FuncOp>()) {
    if (func.isExternal())
      continue;
    func->setAttr("llvm.emit_c_interface", mlir::UnitAttr::get(&s.context));
    FunctionSignature sig{func.getSymName().str(), {}, {}};
    for (mlir::Type t : func.getArgumentTypes())
      sig.arguments.push_back(typeText(t));
    for (mlir::Type t : func.getResultTypes())
      sig.results.push_back(typeText(t));
    program.functions.push_back(std::move(sig));
  }
  mlir::PassManager pm(&s.context);
  mlir::attn::buildLowerToCPUPipeline(pm);
  if (mlir::failed(pm.run(*module)))
    return program;
  mlir::ExecutionEngineOptions options;
  auto transformer = mlir::makeOptimizingTransformer(
      /*optLevel=*/2, /*sizeLevel=*/0, /*targetMachine=*/nullptr);
  options.transformer = transformer;
  auto engine = mlir::ExecutionEngine::create(*module, options);
  if (!engine) {
    s.error("cannot JIT-compile for the host CPU: " +
            llvm::toString(engine.takeError()));
    return program;
  }
  program.impl = std::make_shared<CPUProgram::Impl>();
  program.impl->engine = std::move(*engine);
  program.ok = !s.failed();
  return program;
}

} // namespace attn
