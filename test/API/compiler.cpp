// The C++ API (attn/API/Compiler.h): a compilation's artifacts, manifest and
// report; bad input coming back as diagnostics, never aborting; and two
// threads compiling at once with the same results as one after the other.
//
// RUN: attn-api-test 2>&1 | FileCheck %s

#include "attn/API/Compiler.h"
#include <cstdio>
#include <string>
#include <thread>

static const char *kMqa = R"mlir(
#mqa = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 1,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = full_head, dim = 128>,
                     softmax_scale = 0.088388347648318433>
func.func @mqa_decode(%q: tensor<?x1x32x128xbf16>, %k: tensor<?x?x1x128xbf16>,
                      %v: tensor<?x?x1x128xbf16>) -> tensor<?x1x32x128xbf16> {
  %o = attn.attention #mqa query(%q : tensor<?x1x32x128xbf16>)
         keys(%k : tensor<?x?x1x128xbf16>) values(%v : tensor<?x?x1x128xbf16>)
         -> tensor<?x1x32x128xbf16>
  return %o : tensor<?x1x32x128xbf16>
}
)mlir";

static void show(const char *what, const attn::CompileResult &r) {
  std::printf("%s: ok=%d artifacts=%zu\n", what, int(r.ok), r.artifacts.size());
  for (const attn::Diagnostic &d : r.diagnostics)
    std::printf("  diagnostic %d %s: %s\n", int(d.severity), d.location.c_str(),
                d.message.c_str());
}

static attn::CompileOptions isa(const char *target) {
  attn::CompileOptions o;
  o.target = target;
  o.formats = {"isa"};
  return o;
}

int main() {
  std::printf("version %s\n", attn::version());
  // CHECK: version {{[0-9]+\.[0-9]+\.[0-9]+}}

  attn::CompileResult r = attn::compile(kMqa, isa("sm_90a"));
  show("mqa sm_90a", r);
  // CHECK-LABEL: mqa sm_90a: ok=1 artifacts=1
  std::printf("module %s format %s file %s\n", r.artifacts[0].module.c_str(),
              r.artifacts[0].format.c_str(), r.artifacts[0].fileName.c_str());
  // CHECK-NEXT: module mqa_decode_attn0 format isa file mqa_decode_attn0.sm_90a.ptx
  std::printf("ptx targets sm_90a: %d, has wgmma: %d\n",
              r.artifacts[0].bytes.find(".target sm_90a") != std::string::npos,
              r.artifacts[0].bytes.find("wgmma.mma_async") != std::string::npos);
  // CHECK-NEXT: ptx targets sm_90a: 1, has wgmma: 1
  std::printf("manifest names fwd: %d\n",
              r.manifest.find("\"name\": \"fwd\"") != std::string::npos);
  // CHECK-NEXT: manifest names fwd: 1
  std::printf("%s", r.report.c_str());
  // CHECK-NEXT: function
  // CHECK-NEXT: mqa_decode {{.*}} wgmma

  // Bad input: diagnostics, no abort.
  show("malformed", attn::compile("func.func @f( {", isa("sm_90a")));
  // CHECK-LABEL: malformed: ok=0 artifacts=0
  // CHECK-NEXT: diagnostic 0 input:1:14: expected non-function type
  show("unknown target", attn::compile(kMqa, isa("sm_75")));
  // CHECK-LABEL: unknown target: ok=0
  // CHECK-NEXT: diagnostic 0 : unknown target 'sm_75' (expected sm_80, sm_90a, gfx90a or gfx942)
  attn::CompileOptions badFormat = isa("sm_90a");
  badFormat.formats = {"elf"};
  show("unknown format", attn::compile(kMqa, badFormat));
  // CHECK-LABEL: unknown format: ok=0
  // CHECK-NEXT: unknown format 'elf' (expected isa or bin)
  std::string inconsistent = kMqa;
  inconsistent.replace(inconsistent.find("num_kv_heads = 1"), 16,
                       "num_kv_heads = 3");
  show("inconsistent variant", attn::compile(inconsistent, isa("sm_90a")));
  // CHECK-LABEL: inconsistent variant: ok=0
  // CHECK-NEXT: diagnostic 0 input:2:21: variant 'num_q_heads' (32) is not divisible by 'num_kv_heads' (3)
  show("missing file", attn::compileFile("/nonexistent/x.mlir"));
  // CHECK-LABEL: missing file: ok=0
  // CHECK-NEXT: diagnostic 0 /nonexistent/x.mlir: cannot read: No such file or directory

  // Variants described instead of written out: the generated function's
  // signature, then a compilation of it.
  struct Case {
    const char *name, *variant;
    bool absorbed;
  } cases[] = {
      {"mla", "<kv_form = latent, num_q_heads = 16, num_kv_heads = 1, "
              "qk_head_dim = 192, v_head_dim = 128, latent_dim = 512, "
              "rope = #attn.rope<placement = decoupled_shared_key, dim = 64>, "
              "softmax_scale = 0.0721, value_epilogue = latent_up>",
       true},
      {"mla_unabsorbed",
       "<kv_form = latent, num_q_heads = 16, num_kv_heads = 1, "
       "qk_head_dim = 192, v_head_dim = 128, latent_dim = 512, "
       "rope = #attn.rope<placement = decoupled_shared_key, dim = 64>, "
       "softmax_scale = 0.0721, value_epilogue = latent_up>",
       false},
      {"gta", "#attn.variant<kv_form = tied, num_q_heads = 32, num_kv_heads = 8, "
              "qk_head_dim = 128, v_head_dim = 128, "
              "rope = #attn.rope<placement = q_suffix_shared_key, dim = 64>, "
              "tie = #attn.tie<row = 128, key = 0 : 64, value = 0 : 128>, "
              "softmax_scale = 0.0884>",
       true},
      {"gta_sun", "<kv_form = separate, num_q_heads = 5, num_out_heads = 20, "
                  "num_kv_heads = 1, num_v_heads = 1, qk_head_dim = 64, "
                  "v_head_dim = 64, latent_dim = 128, "
                  "rope = #attn.rope<placement = full_head, dim = 64>, "
                  "softmax_scale = 0.125, value_epilogue = gated_latent_decoder>",
       true},
      {"mfa_kr", "<kv_form = tied, num_q_heads = 64, num_kv_heads = 1, "
                 "qk_head_dim = 256, v_head_dim = 256, "
                 "rope = #attn.rope<placement = full_head, dim = 256>, "
                 "tie = #attn.tie<row = 256, key = 0 : 256, value = 0 : 256>, "
                 "softmax_scale = 0.0625, value_epilogue = key_reuse_post>",
       true},
  };
  for (const Case &c : cases) {
    attn::AttentionSpec spec;
    spec.variant = c.variant;
    spec.absorbed = c.absorbed;
    spec.function = c.name;
    attn::ModuleText m = attn::buildAttention(spec);
    size_t at = m.text.find("func.func");
    std::printf("describe %s: ok=%d %s\n", c.name, int(m.ok),
                m.text.substr(at, m.text.find('{', at) - at).c_str());
    attn::CompileResult r = attn::compile(m.text, isa("sm_90a"));
    std::printf("  compiled: ok=%d artifacts=%zu%s\n", int(r.ok),
                r.artifacts.size(), r.errors().empty() ? "" : " (errors)");
  }
  // CHECK-LABEL: describe mla: ok=1 func.func @mla(%arg0: tensor<?x1x16x576xbf16>, %arg1: tensor<?x?x1x512xbf16>, %arg2: tensor<?x?x64xbf16>, %arg3: tensor<16x512x128xbf16>, %arg4: tensor<?xi32>) -> tensor<?x1x16x128xbf16>
  // CHECK-NEXT: compiled: ok=1 artifacts=1
  // CHECK-NEXT: describe mla_unabsorbed: ok=1 func.func @mla_unabsorbed(%arg0: tensor<?x1x16x192xbf16>, %arg1: tensor<?x?x1x512xbf16>, %arg2: tensor<?x?x64xbf16>, %arg3: tensor<16x512x128xbf16>, %arg4: tensor<16x512x128xbf16>, %arg5: tensor<?xi32>) -> tensor<?x1x16x128xbf16>
  // CHECK-NEXT: compiled: ok=1 artifacts=1
  // CHECK-NEXT: describe gta: ok=1 func.func @gta(%arg0: tensor<?x1x32x128xbf16>, %arg1: tensor<?x?x8x128xbf16>, %arg2: tensor<?x?x64xbf16>, %arg3: tensor<?xi32>) -> tensor<?x1x32x128xbf16>
  // CHECK-NEXT: compiled: ok=1 artifacts=1
  // CHECK-NEXT: describe gta_sun: ok=1 func.func @gta_sun(%arg0: tensor<?x1x5x64xbf16>, %arg1: tensor<?x?x1x64xbf16>, %arg2: tensor<?x?x1x128xbf16>, %arg3: tensor<?xi32>, %arg4: tensor<?x1x1280xbf16>, %arg5: tensor<20x128x64xbf16>) -> tensor<?x1x20x64xbf16>
  // CHECK-NEXT: compiled: ok=1 artifacts=1
  // CHECK-NEXT: describe mfa_kr: ok=1 func.func @mfa_kr(%arg0: tensor<?x1x64x256xbf16>, %arg1: tensor<?x?x1x256xbf16>, %arg2: tensor<?xi32>, %arg3: tensor<256xbf16>, %arg4: tensor<256x256xbf16>) -> tensor<?x1x64x256xbf16>
  // CHECK-NEXT: compiled: ok=1 artifacts=1

  attn::AttentionSpec bad;
  bad.variant = "<kv_form = separate, num_q_heads = 6, num_kv_heads = 4, "
                "qk_head_dim = 64, v_head_dim = 64, "
                "rope = #attn.rope<placement = full_head, dim = 64>, "
                "softmax_scale = 0.125>";
  attn::ModuleText m = attn::buildAttention(bad);
  std::printf("describe inconsistent: ok=%d %s\n", int(m.ok),
              m.diagnostics.empty() ? "" : m.diagnostics[0].message.c_str());
  // CHECK-NEXT: describe inconsistent: ok=0 variant 'num_q_heads' (6) is not divisible by 'num_kv_heads' (4)
  bad.variant = "#attn.rope<placement = full_head, dim = 64>";
  m = attn::buildAttention(bad);
  std::printf("describe not a variant: ok=%d %s\n", int(m.ok),
              m.diagnostics.empty() ? "" : m.diagnostics[0].message.c_str());
  // CHECK-NEXT: describe not a variant: ok=0 not an #attn.variant: '#attn.rope<placement = full_head, dim = 64>'
  attn::AttentionSpec f8 = attn::AttentionSpec();
  f8.variant = cases[0].variant;
  f8.dtype = "f8";
  m = attn::buildAttention(f8);
  std::printf("describe f8: ok=%d %s\n", int(m.ok),
              m.diagnostics.empty() ? "" : m.diagnostics[0].message.c_str());
  // CHECK-NEXT: describe f8: ok=0 unknown dtype 'f8' (expected bf16, f16 or f32)

  // Two threads, two targets, each compiling three times; the same bytes as
  // one compilation after the other.
  attn::CompileResult nvidia = attn::compile(kMqa, isa("sm_90a"));
  attn::CompileResult amd = attn::compile(kMqa, isa("gfx942"));
  bool same[2] = {true, true};
  auto work = [&](int i) {
    const attn::CompileResult &want = i ? amd : nvidia;
    for (int n = 0; n < 3; ++n) {
      attn::CompileResult got = attn::compile(kMqa, isa(i ? "gfx942" : "sm_90a"));
      same[i] = same[i] && got.ok && got.manifest == want.manifest &&
                got.artifacts.size() == want.artifacts.size() &&
                got.artifacts[0].bytes == want.artifacts[0].bytes;
    }
  };
  std::thread a(work, 0), b(work, 1);
  a.join();
  b.join();
  std::printf("threads: sm_90a %s, gfx942 %s\n", same[0] ? "same" : "DIFFERENT",
              same[1] ? "same" : "DIFFERENT");
  // CHECK-LABEL: threads: sm_90a same, gfx942 same
  return 0;
}
