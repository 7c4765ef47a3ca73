/* The C API (attn-c/Compiler.h), from C: a compilation's artifacts and
 * report, diagnostics for bad input, NULL and out-of-range arguments.
 *
 * RUN: attn-capi-test 2>&1 | FileCheck %s
 */
#include "attn-c/Compiler.h"
#include <stdio.h>
#include <string.h>

static const char *kGqa =
    "#gqa = #attn.variant<kv_form = separate, num_q_heads = 8, num_kv_heads = 2,\n"
    "  qk_head_dim = 64, v_head_dim = 64,\n"
    "  rope = #attn.rope<placement = full_head, dim = 64>, softmax_scale = 0.125>\n"
    "func.func @gqa_decode(%q: tensor<?x1x8x64xf16>, %k: tensor<?x?x2x64xf16>,\n"
    "                      %v: tensor<?x?x2x64xf16>) -> tensor<?x1x8x64xf16> {\n"
    "  %o = attn.attention #gqa query(%q : tensor<?x1x8x64xf16>)\n"
    "         keys(%k : tensor<?x?x2x64xf16>) values(%v : tensor<?x?x2x64xf16>)\n"
    "         -> tensor<?x1x8x64xf16>\n"
    "  return %o : tensor<?x1x8x64xf16>\n"
    "}\n";

static void show(const char *what, AttnCompilation *c) {
  size_t i;
  printf("%s: ok=%d artifacts=%zu\n", what, attnCompilationSucceeded(c),
         attnCompilationNumArtifacts(c));
  for (i = 0; i < attnCompilationNumDiagnostics(c); ++i)
    printf("  diagnostic %d %s: %s\n", (int)attnCompilationDiagnosticSeverity(c, i),
           attnCompilationDiagnosticLocation(c, i),
           attnCompilationDiagnosticMessage(c, i));
}

int main(void) {
  AttnCompileOptions options = {"gfx942", "isa", NULL, NULL};
  AttnCompilation *c;
  size_t size = 0;
  const char *data;

  printf("version %s\n", attnVersion());
  // CHECK: version {{[0-9]+\.[0-9]+\.[0-9]+}}

  c = attnCompile(kGqa, strlen(kGqa), &options);
  show("gqa gfx942", c);
  // CHECK-LABEL: gqa gfx942: ok=1 artifacts=1
  data = (const char *)attnCompilationArtifactData(c, 0, &size);
  printf("%s %s %s amdgcn=%d bytes>0=%d\n", attnCompilationArtifactModule(c, 0),
         attnCompilationArtifactFormat(c, 0), attnCompilationArtifactFileName(c, 0),
         size > 0 && strstr(data, "amdgcn") != NULL, size > 0);
  // CHECK-NEXT: gqa_decode_attn0 isa gqa_decode_attn0.gfx942.s amdgcn=1 bytes>0=1
  printf("manifest has gfx942: %d\n",
         strstr(attnCompilationManifest(c), "gfx942") != NULL);
  // CHECK-NEXT: manifest has gfx942: 1
  attnCompilationDestroy(c);

  c = attnReport(kGqa, strlen(kGqa), 1);
  printf("%s", attnCompilationReport(c));
  // CHECK: gqa_decode {{.*}} mma-stream
  attnCompilationDestroy(c);

  /* A variant described, then compiled. */
  c = attnBuildAttention("<kv_form = separate, num_q_heads = 8, num_kv_heads = 1, "
                         "qk_head_dim = 64, v_head_dim = 64, "
                         "rope = #attn.rope<placement = full_head, dim = 64>, "
                         "softmax_scale = 0.125>",
                         "f16", 1, 1, 1, NULL, "mqa_step");
  printf("described: ok=%d %s\n", attnCompilationSucceeded(c),
         strstr(attnCompilationModule(c), "func.func @mqa_step(") ? "has @mqa_step" : "-");
  // CHECK-LABEL: described: ok=1 has @mqa_step
  {
    AttnCompilation *k;
    const char *text = attnCompilationModule(c);
    options.target = "sm_80";
    k = attnCompile(text, strlen(text), &options);
    show("described sm_80", k);
    // CHECK-NEXT: described sm_80: ok=1 artifacts=1
    attnCompilationDestroy(k);
  }
  attnCompilationDestroy(c);
  c = attnBuildAttention("<kv_form = separate>", NULL, 1, 1, 1, NULL, NULL);
  show("described badly", c);
  // CHECK-LABEL: described badly: ok=0
  // CHECK-NEXT: diagnostic 0
  attnCompilationDestroy(c);

  c = attnCompile("module {", 8, NULL);
  show("malformed", c);
  // CHECK-LABEL: malformed: ok=0 artifacts=0
  // CHECK-NEXT: diagnostic 0 input:1:7: expected operation name in quotes
  attnCompilationDestroy(c);

  options.target = "gfx1100";
  c = attnCompile(kGqa, strlen(kGqa), &options);
  show("unknown target", c);
  // CHECK-LABEL: unknown target: ok=0
  // CHECK-NEXT: diagnostic 0 : unknown target 'gfx1100'
  /* Out-of-range indices and NULL compilations answer empty, not crash. */
  printf("out of range: '%s' '%s' %p\n", attnCompilationDiagnosticMessage(c, 99),
         attnCompilationArtifactFileName(c, 99),
         attnCompilationArtifactData(c, 99, &size));
  // CHECK-NEXT: out of range: '' '' (nil)
  attnCompilationDestroy(c);
  printf("null: %d %zu '%s'\n", attnCompilationSucceeded(NULL),
         attnCompilationNumDiagnostics(NULL), attnCompilationManifest(NULL));
  // CHECK-NEXT: null: 0 0 ''
  attnCompilationDestroy(NULL);
  return 0;
}
