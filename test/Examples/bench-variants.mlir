// The benchmark-only shapes (bench/variants/) verify and compile like the
// examples, so the benchmark never finds one broken on the GPU machine.
//
// RUN: attn-compile %attn_src_root/bench/variants/mla16.mlir --target=sm_90a --formats=isa -o %t | FileCheck %s
// CHECK: mla16_decode{{ +}}latent{{ +}}16{{ +}}1{{ +}}16{{ +}}576.0{{ +}}1152.0{{.*}}mma
// CHECK: wrote 1 kernel files and manifest.json
