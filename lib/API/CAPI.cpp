//===- CAPI.cpp - attn compiler C API -------------------------------------===//
#include "attn-c/Compiler.h"
#include "attn/API/Compiler.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/SmallVector.h"
#include <new>

static_assert(int(attn::Severity::Error) == AttnSeverityError &&
                  int(attn::Severity::Warning) == AttnSeverityWarning &&
                  int(attn::Severity::Note) == AttnSeverityNote &&
                  int(attn::Severity::Remark) == AttnSeverityRemark,
              "the C severities mirror the C++ ones");

struct AttnCompilation {
  attn::CompileResult result;
  std::string module; // attnBuildAttention's text
};

namespace {
const attn::Diagnostic *diagnostic(const AttnCompilation *c, size_t i) {
  return c && i < c->result.diagnostics.size() ? &c->result.diagnostics[i]
                                               : nullptr;
}
const attn::Artifact *artifact(const AttnCompilation *c, size_t i) {
  return c && i < c->result.artifacts.size() ? &c->result.artifacts[i]
                                             : nullptr;
}
} // namespace

extern "C" {

const char *attnVersion(void) { return attn::version(); }

AttnCompilation *attnCompile(const char *source, size_t length,
                             const AttnCompileOptions *options) {
  auto *c = new (std::nothrow) AttnCompilation();
  if (!c)
    return nullptr;
  attn::CompileOptions o;
  if (options) {
    if (options->target)
      o.target = options->target;
    if (options->formats) {
      llvm::SmallVector<llvm::StringRef> parts;
      llvm::StringRef(options->formats).split(parts, ',', -1, false);
      for (llvm::StringRef p : parts)
        o.formats.push_back(p.trim().str());
    }
    if (options->output_dir)
      o.outputDir = options->output_dir;
    if (options->toolkit)
      o.toolkitPath = options->toolkit;
  }
  c->result = attn::compile(std::string_view(source ? source : "",
                                             source ? length : 0),
                            o);
  return c;
}

AttnCompilation *attnReport(const char *source, size_t length,
                            int tensor_cores) {
  auto *c = new (std::nothrow) AttnCompilation();
  if (!c)
    return nullptr;
  c->result = attn::report(
      std::string_view(source ? source : "", source ? length : 0),
      tensor_cores != 0);
  return c;
}

AttnCompilation *attnBuildAttention(const char *variant, const char *dtype,
                                    long query_tokens, int absorbed,
                                    int seq_lens, const char *mask,
                                    const char *function) {
  auto *c = new (std::nothrow) AttnCompilation();
  if (!c)
    return nullptr;
  attn::AttentionSpec spec;
  spec.variant = variant ? variant : "";
  if (dtype)
    spec.dtype = dtype;
  spec.queryTokens = query_tokens;
  spec.absorbed = absorbed != 0;
  spec.seqLens = seq_lens != 0;
  if (mask)
    spec.mask = mask;
  if (function)
    spec.function = function;
  attn::ModuleText m = attn::buildAttention(spec);
  c->result.ok = m.ok;
  c->result.diagnostics = std::move(m.diagnostics);
  c->module = std::move(m.text);
  return c;
}

const char *attnCompilationModule(const AttnCompilation *c) {
  return c ? c->module.c_str() : "";
}

void attnCompilationDestroy(AttnCompilation *c) { delete c; }

int attnCompilationSucceeded(const AttnCompilation *c) {
  return c && c->result.ok ? 1 : 0;
}

size_t attnCompilationNumDiagnostics(const AttnCompilation *c) {
  return c ? c->result.diagnostics.size() : 0;
}
AttnSeverity attnCompilationDiagnosticSeverity(const AttnCompilation *c,
                                               size_t i) {
  const attn::Diagnostic *d = diagnostic(c, i);
  return d ? static_cast<AttnSeverity>(d->severity) : AttnSeverityError;
}
const char *attnCompilationDiagnosticLocation(const AttnCompilation *c,
                                              size_t i) {
  const attn::Diagnostic *d = diagnostic(c, i);
  return d ? d->location.c_str() : "";
}
const char *attnCompilationDiagnosticMessage(const AttnCompilation *c,
                                             size_t i) {
  const attn::Diagnostic *d = diagnostic(c, i);
  return d ? d->message.c_str() : "";
}

const char *attnCompilationManifest(const AttnCompilation *c) {
  return c ? c->result.manifest.c_str() : "";
}
const char *attnCompilationReport(const AttnCompilation *c) {
  return c ? c->result.report.c_str() : "";
}

size_t attnCompilationNumArtifacts(const AttnCompilation *c) {
  return c ? c->result.artifacts.size() : 0;
}
const char *attnCompilationArtifactModule(const AttnCompilation *c, size_t i) {
  const attn::Artifact *a = artifact(c, i);
  return a ? a->module.c_str() : "";
}
const char *attnCompilationArtifactFormat(const AttnCompilation *c, size_t i) {
  const attn::Artifact *a = artifact(c, i);
  return a ? a->format.c_str() : "";
}
const char *attnCompilationArtifactFileName(const AttnCompilation *c,
                                            size_t i) {
  const attn::Artifact *a = artifact(c, i);
  return a ? a->fileName.c_str() : "";
}
const void *attnCompilationArtifactData(const AttnCompilation *c, size_t i,
                                        size_t *size) {
  const attn::Artifact *a = artifact(c, i);
  if (size)
    *size = a ? a->bytes.size() : 0;
  return a ? a->bytes.data() : nullptr;
}

} // extern "C"
