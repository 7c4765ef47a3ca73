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
  std::printf("ptx targets sm_90a: %d, has mma.sync: %d\n",
              r.artifacts[0].bytes.find(".target sm_90a") != std::string::npos,
              r.artifacts[0].bytes.find("mma.sync") != std::string::npos);
  // CHECK-NEXT: ptx targets sm_90a: 1, has mma.sync: 1
  std::printf("manifest names fwd: %d\n",
              r.manifest.find("\"name\": \"fwd\"") != std::string::npos);
  // CHECK-NEXT: manifest names fwd: 1
  std::printf("%s", r.report.c_str());
  // CHECK-NEXT: function
  // CHECK-NEXT: mqa_decode {{.*}} mma

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
