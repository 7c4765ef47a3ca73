//===- Compiler.h - attn as a library: the stable C++ API -------*- C++ -*-===//
//
// The entry points a host program (a serving engine, a compiler, the Python
// package) calls to compile attention variants. Only standard C++ types cross
// this boundary, so a consumer needs neither MLIR headers nor MLIR's build
// flags; the library links MLIR privately.
//
// Every call builds its own MLIRContext: no global mutable state, and two
// calls on two threads are independent. No call aborts the host: malformed
// IR, unknown targets and inconsistent variants come back as diagnostics in
// the result. docs/API.md is the reference.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_API_COMPILER_H
#define ATTN_API_COMPILER_H

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace attn {

/// The library's version, "major.minor.patch".
const char *version();

/// The GPU targets `compile` accepts: sm_80, sm_90a (NVIDIA; tensor cores
/// from sm_80), gfx90a, gfx942 (AMD).
std::vector<std::string> supportedTargets();

enum class Severity { Error, Warning, Note, Remark };

/// One compiler diagnostic: where ("input:12:5", or empty) and what.
struct Diagnostic {
  Severity severity = Severity::Error;
  std::string location;
  std::string message;
};

/// One compiled GPU object: the gpu.module it came from, its format ("isa":
/// PTX or AMDGPU assembly; "bin": cubin or HSACO), its file name in the
/// output directory, and its bytes.
struct Artifact {
  std::string module;
  std::string format;
  std::string fileName;
  std::string bytes;
};

struct CompileOptions {
  /// One of supportedTargets().
  std::string target = "sm_90a";
  /// "isa", "bin" or both (empty: both).
  std::vector<std::string> formats;
  /// Where the artifacts and manifest.json are written; empty: a private
  /// temporary directory, removed before `compile` returns (the bytes are in
  /// the result either way).
  std::string outputDir;
  /// CUDA or ROCm toolkit root used for linking device libraries; empty: the
  /// configured default.
  std::string toolkitPath;
};

/// The outcome of one compilation. `ok` is false when any error was
/// diagnosed; the other fields then hold whatever was produced before it.
struct CompileResult {
  bool ok = false;
  std::vector<Diagnostic> diagnostics;
  std::vector<Artifact> artifacts;
  /// manifest.json: per kernel its grid, block, workgroup bytes and
  /// arguments (docs/architecture.md, "Artifacts, manifest, runtime").
  std::string manifest;
  /// The attn-report table: cache bytes per token, decode intensity, the
  /// schedule chosen for the target and why.
  std::string report;

  /// Every error, one per line ("location: message").
  std::string errors() const;
};

/// Parses and verifies `source` (MLIR text holding attn ops: attn.attention
/// and attn.cache_update, in func.func bodies) and compiles every attention
/// and cache update to fused kernels for `options.target`: the same pipeline
/// as `attn-opt --attn-compile`.
CompileResult compile(std::string_view source,
                      const CompileOptions &options = {});

/// `compile` on the contents of the file at `path`.
CompileResult compileFile(const std::string &path,
                          const CompileOptions &options = {});

/// One attention step described by its variant instead of a whole module.
struct AttentionSpec {
  /// The variant, as written in the dialect: `#attn.variant<kv_form = ...,
  /// num_q_heads = ..., ...>` (docs/Dialects/AttnDialect.md).
  std::string variant;
  /// Element type of the query, caches, weights and result: bf16, f16, f32.
  std::string dtype = "bf16";
  /// Query tokens per step: 1 for decode, N for a fixed chunk, 0 for any
  /// (prefill).
  int64_t queryTokens = 1;
  /// Latent variants: take the absorbed query (latent_dim + rope wide, no
  /// up_k), the form they decode in.
  bool absorbed = true;
  /// Take per-sequence valid cache lengths (seq_lens, i32).
  bool seqLens = true;
  /// none, causal or stride_aware_causal.
  std::string mask = "causal";
  /// Name of the generated function (its kernels are named after it).
  std::string function = "attention";
};

/// MLIR text of a module with one function `spec.function` whose body is
/// the attn.attention of `spec`; its arguments are the operands the variant
/// needs (query, keys and values or rows, rope_keys, up_v, seq_lens, the
/// epilogue weights), batch and cache length dynamic. Verified: an
/// inconsistent variant is an error diagnostic and `ok` is false.
struct ModuleText {
  bool ok = false;
  std::vector<Diagnostic> diagnostics;
  std::string text;
};
ModuleText buildAttention(const AttentionSpec &spec);

/// One function of a CPU program: its name and its argument and result
/// types as MLIR writes them ("tensor<?x1x32x128xf32>", "tensor<?xi32>").
struct FunctionSignature {
  std::string name;
  std::vector<std::string> arguments, results;
};

/// `source` compiled for this machine's CPU and loaded in-process (the naive
/// reference lowering, JIT-compiled): every func.func gets the C interface,
/// so `function(name)` is the address of `_mlir_ciface_<name>`, called with
/// pointers to memref descriptors (results first, packed in a struct when
/// several). The program stays loaded while a copy of it lives.
class CPUProgram {
public:
  bool ok = false;
  std::vector<Diagnostic> diagnostics;
  std::vector<FunctionSignature> functions;
  /// The C-interface entry of function `name`, or null.
  void *function(const std::string &name) const;

  struct Impl;
  std::shared_ptr<Impl> impl;
};
CPUProgram compileForCPU(std::string_view source);

/// Only the report of `source` (no kernels): `ok`, `diagnostics`, `report`.
/// `tensorCores`: report the schedules of a tensor-core target (an H100,
/// sm_90a: wgmma where it applies).
CompileResult report(std::string_view source, bool tensorCores = true);

} // namespace attn

#endif // ATTN_API_COMPILER_H
