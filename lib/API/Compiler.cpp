//===- Compiler.cpp - attn as a library: the stable C++ API ---------------===//
#include "attn/API/Compiler.h"
#include "Session.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"
#include "attn/Pipelines/Pipelines.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

namespace attn {

const char *version() { return "0.1.0"; }

std::vector<std::string> supportedTargets() {
  return {"sm_80", "sm_90a", "gfx90a", "gfx942"};
}

std::string CompileResult::errors() const {
  std::string out;
  for (const Diagnostic &d : diagnostics)
    if (d.severity == Severity::Error)
      out += (d.location.empty() ? "" : d.location + ": ") + d.message + "\n";
  return out;
}

namespace {
using detail::Session;

/// Runs attn-report over `module` into `report`.
bool runReport(Session &s, mlir::ModuleOp module, bool tensorCores,
               bool warpgroupMma, std::string &report) {
  llvm::SmallString<128> path;
  if (llvm::sys::fs::createTemporaryFile("attn-report", "txt", path)) {
    s.error("cannot create a temporary file for the report");
    return false;
  }
  mlir::PassManager pm(&s.context);
  mlir::attn::AttnReportOptions options;
  options.outputFile = path.str().str();
  options.tensorCores = tensorCores;
  options.warpgroupMma = warpgroupMma;
  pm.addPass(mlir::attn::createAttnReport(options));
  bool ok = succeeded(pm.run(module));
  if (auto text = llvm::MemoryBuffer::getFile(path))
    report = (*text)->getBuffer().str();
  llvm::sys::fs::remove(path);
  return ok;
}

/// Reads manifest.json and every file it names from `dir` into `result`.
bool collect(const std::string &dir, CompileResult &result) {
  auto text = llvm::MemoryBuffer::getFile(dir + "/manifest.json");
  if (!text) {
    result.diagnostics.push_back(
        {Severity::Error, "", "no manifest.json was written to '" + dir + "'"});
    return false;
  }
  result.manifest = (*text)->getBuffer().str();
  llvm::Expected<llvm::json::Value> json = llvm::json::parse(result.manifest);
  if (!json) {
    llvm::consumeError(json.takeError());
    result.diagnostics.push_back(
        {Severity::Error, "", "manifest.json in '" + dir + "' is not JSON"});
    return false;
  }
  const llvm::json::Array *modules =
      json->getAsObject() ? json->getAsObject()->getArray("modules") : nullptr;
  if (!modules)
    return true;
  for (const llvm::json::Value &m : *modules) {
    const llvm::json::Object *mod = m.getAsObject();
    const llvm::json::Object *files = mod ? mod->getObject("files") : nullptr;
    if (!files)
      continue;
    for (const auto &[format, name] : *files) {
      std::optional<llvm::StringRef> file = name.getAsString();
      if (!file)
        continue;
      auto bytes = llvm::MemoryBuffer::getFile(dir + "/" + file->str(),
                                               /*IsText=*/false);
      if (!bytes) {
        result.diagnostics.push_back(
            {Severity::Error, "", "cannot read artifact '" + file->str() + "'"});
        return false;
      }
      // The manifest names files by kind (ptx, s, cubin, hsaco).
      std::string kind = format.str();
      std::string fmt = kind == "ptx" || kind == "s" ? "isa" : "bin";
      result.artifacts.push_back(
          {mod->getString("module").value_or("").str(), fmt, file->str(),
           (*bytes)->getBuffer().str()});
    }
  }
  return true;
}
} // namespace

/// `compile`, with diagnostics located in `name` (the file, or "input").
static CompileResult compileNamed(std::string_view source, llvm::StringRef name,
                                  const CompileOptions &options) {
  CompileResult result;
  Session s(result.diagnostics);
  mlir::OwningOpRef<mlir::ModuleOp> module = s.parse(source, name);
  if (!module)
    return result;
  const std::vector<std::string> targets = supportedTargets();
  if (std::find(targets.begin(), targets.end(), options.target) ==
      targets.end()) {
    s.error("unknown target '" + options.target +
            "' (expected sm_80, sm_90a, gfx90a or gfx942)");
    return result;
  }
  for (const std::string &f : options.formats)
    if (f != "isa" && f != "bin") {
      s.error("unknown format '" + f + "' (expected isa or bin)");
      return result;
    }
  mlir::attn::GPUTargetFeatures features =
      mlir::attn::gpuTargetFeatures(options.target);
  if (!runReport(s, *module, features.tensorCores, features.warpgroupMma,
                 result.report))
    return result;

  // The output directory: the caller's, or a private temporary one.
  std::string dir = options.outputDir;
  bool temporary = dir.empty();
  if (temporary) {
    llvm::SmallString<128> tmp;
    if (llvm::sys::fs::createUniqueDirectory("attn-compile", tmp)) {
      s.error("cannot create a temporary output directory");
      return result;
    }
    dir = tmp.str().str();
  }
  mlir::PassManager pm(&s.context);
  mlir::attn::GPUCompileOptions extra;
  extra.toolkit = options.toolkitPath;
  if (failed(mlir::attn::buildCompilePipeline(pm, options.target, dir,
                                              options.formats, extra))) {
    s.error("cannot build the pipeline for target '" + options.target + "'");
  } else if (succeeded(pm.run(*module))) {
    result.ok = collect(dir, result);
  }
  if (temporary)
    llvm::sys::fs::remove_directories(dir);
  // An error diagnosed by a pass that still "succeeded" is a failure.
  if (s.failed())
    result.ok = false;
  return result;
}

CompileResult compile(std::string_view source, const CompileOptions &options) {
  return compileNamed(source, "input", options);
}

CompileResult compileFile(const std::string &path,
                          const CompileOptions &options) {
  auto text = llvm::MemoryBuffer::getFile(path);
  if (!text) {
    CompileResult result;
    result.diagnostics.push_back(
        {Severity::Error, path, "cannot read: " + text.getError().message()});
    return result;
  }
  return compileNamed((*text)->getBuffer().str(), path, options);
}

CompileResult report(std::string_view source, bool tensorCores) {
  CompileResult result;
  Session s(result.diagnostics);
  mlir::OwningOpRef<mlir::ModuleOp> module = s.parse(source, "input");
  if (!module)
    return result;
  result.ok = runReport(s, *module, tensorCores, tensorCores, result.report) &&
              !s.failed();
  return result;
}

} // namespace attn
