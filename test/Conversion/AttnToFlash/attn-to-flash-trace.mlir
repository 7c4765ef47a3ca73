// RUN: attn-opt %s -split-input-file --attn-to-flash="tensor-cores=true warpgroup-mma=true tensor-map-copies=true narrow-query=true trace-blocks=true" | FileCheck %s
// RUN: attn-opt %s -split-input-file --attn-to-flash="tensor-cores=true warpgroup-mma=true tensor-map-copies=true narrow-query=true trace-blocks=true" | FileCheck %s --check-prefix=NOCALL
// RUN: attn-opt %s -split-input-file --attn-to-flash="tensor-cores=true warpgroup-mma=true tensor-map-copies=true narrow-query=true" | FileCheck %s --check-prefix=OFF

// trace-blocks (timing studies): the narrow forward kernel reads the global
// timer at its entry, its loop's start, after its loop, after its stores and
// at its exit; in the loop as each tile lands, after its scores, after P^T's
// stores and after its value product, carrying when the first and last tiles
// landed, when the last iteration ended, and the sums over tiles of the
// wait, scores, softmax and value phases, and the tiles. Thread 0 writes
// their count (12), the block's coordinates and SM, then them into the block's record of
// the module's global for its kernel (attn_trace_<kernel>, 16384 records of
// 24 words in global memory), which the runtime prints after the step.
// No kernel calls a function (printf): ptxas would then serialise every
// wgmma of the kernel (C7510), the products the trace is there to time.
// The CUDA-core combines record their entry and exit. Without the option
// no kernel reads the timer and the module has no trace globals.
// CHECK-LABEL: gpu.module @mla16_decode_attn0
// CHECK-DAG: llvm.mlir.global external @attn_trace_fwd(dense<0> : tensor<393216xi64>) {addr_space = 1 : i32, alignment = 8 : i64} : !llvm.array<393216 x i64>
// CHECK-DAG: llvm.mlir.global external @attn_trace_combine(dense<0> : tensor<393216xi64>) {addr_space = 1 : i32, alignment = 8 : i64} : !llvm.array<393216 x i64>
// CHECK-DAG: llvm.mlir.global external @attn_trace_combine_slices(
// CHECK: gpu.func @fwd(
// CHECK-NEXT: nvvm.read.ptx.sreg.globaltimer : i64
// CHECK: %[[LOOP:.+]] = nvvm.read.ptx.sreg.globaltimer : i64
// CHECK: scf.for {{.+}} iter_args({{.+}}, %[[FIRST:[^ ]+]] = %[[LOOP]], %{{[^ ]+}} = %[[LOOP]], %[[PREV:[^ ]+]] = %[[LOOP]], {{.+}}) -> ({{.+}}, i64, i64, i64, i64, i64, i64, i64, i64)
// CHECK: nvvm.mbarrier.try_wait.parity
// CHECK: %[[LANDED:.+]] = nvvm.read.ptx.sreg.globaltimer : i64
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK-NEXT: %[[SCORED:.+]] = nvvm.read.ptx.sreg.globaltimer : i64
// CHECK: arith.select %{{.+}}, %[[LANDED]], %[[FIRST]] : i64
// CHECK: arith.subi %[[LANDED]], %[[PREV]] : i64
// CHECK: arith.subi %[[SCORED]], %[[LANDED]] : i64
// CHECK: scf.yield
// CHECK: %[[EXIT:.+]] = nvvm.read.ptx.sreg.globaltimer : i64
// CHECK: %[[RECORDS:.+]] = llvm.mlir.addressof @attn_trace_fwd : !llvm.ptr<1>
// CHECK: %[[AT:.+]] = llvm.getelementptr %[[RECORDS]][%{{.+}}] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, i64
// CHECK-NEXT: %[[COUNT:.+]] = arith.index_cast {{%c12(_[0-9]+)?}} : index to i64
// CHECK-NEXT: llvm.store %[[COUNT]], %[[AT]] : i64, !llvm.ptr<1>
// CHECK: nvvm.read.ptx.sreg.smid : i32
// CHECK: llvm.store %[[EXIT]], %{{.+}} : i64, !llvm.ptr<1>
// CHECK: gpu.func @combine(
// CHECK-NEXT: nvvm.read.ptx.sreg.globaltimer : i64
// CHECK: llvm.mlir.addressof @attn_trace_combine : !llvm.ptr<1>
// CHECK: gpu.func @combine_slices(
// CHECK: llvm.mlir.addressof @attn_trace_combine_slices : !llvm.ptr<1>
// NOCALL-NOT: gpu.printf
// NOCALL-NOT: llvm.call
// OFF-LABEL: gpu.module @mla16_decode_attn0
// OFF-NOT: globaltimer
// OFF-NOT: attn_trace
#mla16 = #attn.variant<kv_form = latent, num_q_heads = 16, num_kv_heads = 1,
                       qk_head_dim = 192, v_head_dim = 128, latent_dim = 512,
                       rope = #attn.rope<placement = decoupled_shared_key, dim = 64>,
                       softmax_scale = 0.07216878364870322,
                       latent_norm = rms, value_epilogue = latent_up>
func.func @mla16_decode(%q: tensor<?x1x16x576xbf16>, %c: tensor<?x?x1x512xbf16>,
                        %kr: tensor<?x?x64xbf16>, %uv: tensor<16x512x128xbf16>,
                        %valid: tensor<?xi32>) -> tensor<?x1x16x128xbf16> {
  %o = attn.attention #mla16 query(%q : tensor<?x1x16x576xbf16>)
         rows(%c : tensor<?x?x1x512xbf16>) rope_keys(%kr : tensor<?x?x64xbf16>)
         up_v(%uv : tensor<16x512x128xbf16>) seq_lens(%valid : tensor<?xi32>)
         absorbed -> tensor<?x1x16x128xbf16>
  return %o : tensor<?x1x16x128xbf16>
}

// -----

// The 64-row warpgroup kernel (MFA) records entry, loop start, loop end,
// stored and exit.
// CHECK-LABEL: gpu.module @mfa_decode_attn0
// CHECK: gpu.func @fwd(
// CHECK-NEXT: nvvm.read.ptx.sreg.globaltimer : i64
// CHECK: llvm.mlir.addressof @attn_trace_fwd : !llvm.ptr<1>
#mfa = #attn.variant<kv_form = separate, num_q_heads = 64, num_kv_heads = 1,
                     qk_head_dim = 256, v_head_dim = 256,
                     rope = #attn.rope<placement = full_head, dim = 256>,
                     softmax_scale = 0.0625>
func.func @mfa_decode(%q: tensor<?x1x64x256xbf16>, %k: tensor<?x?x1x256xbf16>,
                      %v: tensor<?x?x1x256xbf16>,
                      %valid: tensor<?xi32>) -> tensor<?x1x64x256xbf16> {
  %o = attn.attention #mfa query(%q : tensor<?x1x64x256xbf16>)
         keys(%k : tensor<?x?x1x256xbf16>) values(%v : tensor<?x?x1x256xbf16>)
         seq_lens(%valid : tensor<?xi32>) -> tensor<?x1x64x256xbf16>
  return %o : tensor<?x1x64x256xbf16>
}
