/*===- attn-c/Compiler.h - attn compiler C API --------------------*- C -*-===*\
|*                                                                            *|
|* A C interface over attn/API/Compiler.h for FFI (ctypes, Rust, Go...).      *|
|* Every string returned is owned by the AttnCompilation it came from and    *|
|* lives until attnCompilationDestroy. No function aborts the host process:  *|
|* failures are reported as diagnostics of the compilation.                   *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/
#ifndef ATTN_C_COMPILER_H
#define ATTN_C_COMPILER_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version, "major.minor.patch". */
const char *attnVersion(void);

typedef enum AttnSeverity {
  AttnSeverityError = 0,
  AttnSeverityWarning = 1,
  AttnSeverityNote = 2,
  AttnSeverityRemark = 3
} AttnSeverity;

typedef struct AttnCompileOptions {
  const char *target;      /* sm_80, sm_90a, gfx90a, gfx942; NULL: sm_90a   */
  const char *formats;     /* "isa", "bin" or "isa,bin"; NULL: both         */
  const char *output_dir;  /* NULL: a private temporary directory           */
  const char *toolkit;     /* CUDA/ROCm root; NULL: the configured default  */
} AttnCompileOptions;

/* The result of one compilation (opaque). */
typedef struct AttnCompilation AttnCompilation;

/* Compiles `length` bytes of MLIR text. `options` may be NULL. Returns NULL
 * only when out of memory. */
AttnCompilation *attnCompile(const char *source, size_t length,
                             const AttnCompileOptions *options);
/* One attention step described by its variant (attn::buildAttention):
 * `variant` is "#attn.variant<...>" text or its <...> body; `dtype` bf16,
 * f16 or f32 (NULL: bf16); `query_tokens` 1 for decode, 0 for any; `mask`
 * none, causal or stride_aware_causal (NULL: causal); `function` the
 * function name (NULL: "attention"). The module text is returned by
 * attnCompilationModule; diagnostics as for attnCompile. */
AttnCompilation *attnBuildAttention(const char *variant, const char *dtype,
                                    long query_tokens, int absorbed,
                                    int seq_lens, const char *mask,
                                    const char *function);
/* The module text built by attnBuildAttention ("" otherwise). */
const char *attnCompilationModule(const AttnCompilation *compilation);

/* Only the attn-report of the source (no kernels). */
AttnCompilation *attnReport(const char *source, size_t length,
                            int tensor_cores);
void attnCompilationDestroy(AttnCompilation *compilation);

/* 1 when no error was diagnosed. */
int attnCompilationSucceeded(const AttnCompilation *compilation);

size_t attnCompilationNumDiagnostics(const AttnCompilation *compilation);
AttnSeverity attnCompilationDiagnosticSeverity(const AttnCompilation *c,
                                               size_t index);
/* "input:12:5" or "" when the diagnostic has no location. */
const char *attnCompilationDiagnosticLocation(const AttnCompilation *c,
                                              size_t index);
const char *attnCompilationDiagnosticMessage(const AttnCompilation *c,
                                             size_t index);

/* manifest.json, and the attn-report table ("" when not produced). */
const char *attnCompilationManifest(const AttnCompilation *compilation);
const char *attnCompilationReport(const AttnCompilation *compilation);

size_t attnCompilationNumArtifacts(const AttnCompilation *compilation);
const char *attnCompilationArtifactModule(const AttnCompilation *c,
                                          size_t index);
/* "isa" or "bin". */
const char *attnCompilationArtifactFormat(const AttnCompilation *c,
                                          size_t index);
const char *attnCompilationArtifactFileName(const AttnCompilation *c,
                                            size_t index);
/* The artifact's bytes; `size` receives their count. */
const void *attnCompilationArtifactData(const AttnCompilation *c, size_t index,
                                        size_t *size);

#ifdef __cplusplus
}
#endif

#endif /* ATTN_C_COMPILER_H */
