// Compiles a GQA decode step (Llama-3-8B heads: 32 query heads over 8 KV
// heads of 128) for the target named on the command line, writes the
// kernels and manifest.json to ./attn-kernels, and prints what came out:
// what a serving engine does at start-up instead of shelling out to attn-opt.
#include "attn/API/Compiler.h"
#include <cstdio>

static const char *kGqaDecode = R"mlir(
#gqa = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e5>,
                     softmax_scale = 0.088388347648318433>
func.func @gqa_decode(%q: tensor<?x1x32x128xbf16>, %k: tensor<?x?x8x128xbf16>,
                      %v: tensor<?x?x8x128xbf16>, %len: tensor<?xi32>)
    -> tensor<?x1x32x128xbf16> {
  %o = attn.attention #gqa query(%q : tensor<?x1x32x128xbf16>)
         keys(%k : tensor<?x?x8x128xbf16>) values(%v : tensor<?x?x8x128xbf16>)
         seq_lens(%len : tensor<?xi32>) -> tensor<?x1x32x128xbf16>
  return %o : tensor<?x1x32x128xbf16>
}
)mlir";

int main(int argc, char **argv) {
  attn::CompileOptions options;
  options.target = argc > 1 ? argv[1] : "sm_90a";
  options.formats = {"isa"}; // PTX / AMDGPU assembly: no GPU toolkit needed
  options.outputDir = "attn-kernels";
  attn::CompileResult result = attn::compile(kGqaDecode, options);
  if (!result.ok) {
    std::fprintf(stderr, "attn: compilation failed\n%s", result.errors().c_str());
    return 1;
  }
  std::printf("attn %s compiled for %s:\n", attn::version(),
              options.target.c_str());
  for (const attn::Artifact &a : result.artifacts)
    std::printf("  %s: %s, %zu bytes (%s)\n", a.module.c_str(),
                a.fileName.c_str(), a.bytes.size(), a.format.c_str());
  std::printf("%s", result.report.c_str());
  return 0;
}
