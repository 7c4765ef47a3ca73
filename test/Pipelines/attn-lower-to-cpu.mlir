// RUN: attn-opt %s --attn-lower-to-cpu | FileCheck %s

// Every bundled example lowers to the LLVM dialect for the host CPU.
// RUN: attn-opt %examples/mla.mlir --attn-lower-to-cpu | FileCheck %s --check-prefix=MLA
// RUN: attn-opt %examples/mtla.mlir --attn-lower-to-cpu | FileCheck %s --check-prefix=MTLA
// RUN: attn-opt %examples/gta_sun.mlir --attn-lower-to-cpu | FileCheck %s --check-prefix=SUN
// RUN: attn-opt %examples/mfa_kr.mlir --attn-lower-to-cpu | FileCheck %s --check-prefix=KR
// RUN: attn-opt %examples/gta.mlir --attn-lower-to-cpu | FileCheck %s --check-prefix=GTA
// MLA: llvm.func @mla_prefill
// MLA: llvm.func @mla_decode
// MTLA: llvm.func @mtla_prefill
// SUN: llvm.func @gta_sun_decode
// KR: llvm.func @mfa_kr_decode
// GTA: llvm.func @gta_decode

// A function marked for the C interface gets its _mlir_ciface_ wrapper; only
// the LLVM dialect remains.
// CHECK-LABEL: llvm.func @decode
// CHECK: llvm.intr.exp
// CHECK-LABEL: llvm.func @_mlir_ciface_decode
// CHECK-NOT: attn.
// CHECK-NOT: linalg.
// CHECK-NOT: memref.
#gqa = #attn.variant<kv_form = separate, num_q_heads = 4, num_kv_heads = 2, qk_head_dim = 8, v_head_dim = 8,
                     rope = #attn.rope<placement = full_head, dim = 8>, softmax_scale = 0.35355339059327373>
func.func @decode(%q: tensor<?x1x4x8xf32>, %k: tensor<?x?x2x8xf32>, %v: tensor<?x?x2x8xf32>,
                  %len: tensor<?xi32>) -> tensor<?x1x4x8xf32> attributes {llvm.emit_c_interface} {
  %o = attn.attention #gqa query(%q : tensor<?x1x4x8xf32>) keys(%k : tensor<?x?x2x8xf32>)
         values(%v : tensor<?x?x2x8xf32>) seq_lens(%len : tensor<?xi32>) -> tensor<?x1x4x8xf32>
  return %o : tensor<?x1x4x8xf32>
}
