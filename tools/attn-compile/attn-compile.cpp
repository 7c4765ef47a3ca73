//===- attn-compile.cpp - compile attention variants to GPU kernels -------===//
//
// The command-line face of the library API (attn/API/Compiler.h):
//   attn-compile input.mlir --target=sm_90a [--formats=isa,bin] -o DIR
// writes the kernels and manifest.json to DIR and prints the report;
// diagnostics go to stderr as "location: error: message".
//
//===----------------------------------------------------------------------===//
#include "attn/API/Compiler.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;

static cl::opt<std::string> input(cl::Positional, cl::desc("<input.mlir>"),
                                  cl::Required);
static cl::opt<std::string> target("target",
                                   cl::desc("sm_80, sm_90a, gfx90a or gfx942"),
                                   cl::init("sm_90a"));
static cl::list<std::string> formats("formats", cl::CommaSeparated,
                                     cl::desc("isa, bin (default: both)"));
static cl::opt<std::string> output("o", cl::desc("Output directory"),
                                   cl::value_desc("dir"), cl::init("attn-out"));
static cl::opt<std::string> toolkit("toolkit",
                                    cl::desc("CUDA or ROCm toolkit root"));
static cl::opt<bool> quiet("quiet", cl::desc("Do not print the report"));

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv, "attn compiler\n");
  attn::CompileOptions options;
  options.target = target;
  options.formats.assign(formats.begin(), formats.end());
  options.outputDir = output;
  options.toolkitPath = toolkit;
  attn::CompileResult result = attn::compileFile(input, options);
  static const char *names[] = {"error", "warning", "note", "remark"};
  for (const attn::Diagnostic &d : result.diagnostics)
    llvm::errs() << (d.location.empty() ? "attn-compile" : d.location) << ": "
                 << names[int(d.severity)] << ": " << d.message << "\n";
  if (!result.ok)
    return 1;
  if (!quiet)
    llvm::outs() << result.report;
  llvm::outs() << "wrote " << result.artifacts.size() << " kernel files and "
               << "manifest.json to " << output << "\n";
  return 0;
}
