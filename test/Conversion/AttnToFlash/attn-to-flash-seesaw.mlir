// RUN: attn-opt %s -split-input-file --attn-to-flash="tensor-cores=true warpgroup-mma=true tensor-map-copies=true seesaw=true" | FileCheck %s
// RUN: attn-opt %s -split-input-file --attn-to-flash="tensor-cores=true warpgroup-mma=true tensor-map-copies=true" | FileCheck %s --check-prefix=OFF

// MLA with 128 heads: full 64-row blocks, so the seesaw over tile pairs.
// One mbarrier per 64-column block of each slot (2 x 9), the first pair's
// 18 block copies (8192 bytes each) before the loop; then each warpgroup
// its own loop over the pairs. Warpgroup 0 scores tile A on m64n64 (36
// steps, a block's wait before its 4), publishes its row max (named
// barrier 1, arrive) and P_A (barrier 3, arrive), multiplies P_A into its
// 256 value columns, waits for warpgroup 1's max and P_B (barrier 2),
// releases slot 0 (barrier 4, arrive) and multiplies P_B. Warpgroup 1
// waits on barrier 1, arrives on 2, waits on 3 and multiplies P_A, then
// P_B, and waits on 4 before refilling slot 0. After the loops the 18
// mbarriers are invalidated. The partial outputs (a combine reads them)
// go through workgroup memory, rows padded to 264 floats: each lane's
// accumulator pairs in, then 16-byte pieces of a row out.
// CHECK-LABEL: gpu.module @mla128_decode_attn0
// CHECK: gpu.func @fwd(
// CHECK-COUNT-18: nvvm.mbarrier.init
// CHECK-NEXT: nvvm.fence.mbarrier.init
// CHECK-COUNT-18: nvvm.mbarrier.arrive.expect_tx {{.+}}, %c8192_i32
// CHECK: scf.if
// CHECK: scf.for
// CHECK: nvvm.mbarrier.try_wait.parity
// CHECK-NEXT: nvvm.wgmma.fence.aligned
// CHECK-COUNT-4: <m = 64, n = 64, k = 16>
// CHECK: nvvm.mbarrier.try_wait.parity
// CHECK: nvvm.barrier.arrive id = %c1_i32{{.*}} number_of_threads = %c256_i32
// CHECK: nvvm.barrier.arrive id = %c3_i32
// CHECK: nvvm.barrier id = %c5_i32{{.*}} number_of_threads = %c128_i32
// CHECK-COUNT-4: <m = 64, n = 256, k = 16>
// CHECK: nvvm.barrier id = %c2_i32{{.*}} number_of_threads = %c256_i32
// CHECK: nvvm.barrier.arrive id = %c4_i32
// CHECK-COUNT-4: <m = 64, n = 256, k = 16>
// CHECK: } else {
// CHECK: scf.for
// CHECK: nvvm.barrier id = %c1_i32{{.*}} number_of_threads = %c256_i32
// CHECK: nvvm.barrier.arrive id = %c2_i32
// CHECK: nvvm.barrier id = %c3_i32
// CHECK-COUNT-4: <m = 64, n = 256, k = 16>
// CHECK: nvvm.barrier id = %c6_i32{{.*}} number_of_threads = %c128_i32
// CHECK-COUNT-4: <m = 64, n = 256, k = 16>
// CHECK: nvvm.barrier id = %c4_i32{{.*}} number_of_threads = %c256_i32
// CHECK: gpu.barrier
// CHECK-COUNT-18: nvvm.mbarrier.inval
// CHECK: memref.view {{.+}} to memref<33792xf32, #gpu.address_space<workgroup>>
// CHECK-COUNT-64: vector.store {{.+}} {alignment = 8 : i64} : memref<33792xf32, #gpu.address_space<workgroup>>, vector<2xf32>
// CHECK-NEXT: gpu.barrier
// CHECK: vector.load {{.+}} {alignment = 16 : i64} : memref<33792xf32, #gpu.address_space<workgroup>>, vector<4xf32>
// CHECK: vector.store {{.+}} {alignment = 16 : i64} : memref<?xf32>, vector<4xf32>
// OFF-LABEL: gpu.module @mla128_decode_attn0
// OFF-NOT: nvvm.barrier.arrive
// OFF: <m = 64, n = 32, k = 16>
#mla128 = #attn.variant<kv_form = latent, num_q_heads = 128, num_kv_heads = 1,
                     qk_head_dim = 192, v_head_dim = 128, latent_dim = 512,
                     rope = #attn.rope<placement = decoupled_shared_key, dim = 64>,
                     softmax_scale = 0.07216878364870322, value_epilogue = latent_up>
func.func @mla128_decode(%q: tensor<?x1x128x576xbf16>, %c: tensor<?x?x1x512xbf16>,
                      %kr: tensor<?x?x64xbf16>, %uv: tensor<128x512x128xbf16>) -> tensor<?x1x128x128xbf16> {
  %o = attn.attention #mla128 query(%q : tensor<?x1x128x576xbf16>) rows(%c : tensor<?x?x1x512xbf16>)
         rope_keys(%kr : tensor<?x?x64xbf16>) up_v(%uv : tensor<128x512x128xbf16>)
         absorbed -> tensor<?x1x128x128xbf16>
  return %o : tensor<?x1x128x128xbf16>
}

// -----

// MLA with 16 heads pads each block to 64 rows and is memory-bound: the
// two-stage loop (measured 1-3% faster there than the seesaw), m64n32
// scores per warpgroup, one mbarrier per slot.
// CHECK-LABEL: gpu.module @mla16_decode_attn0
// CHECK: gpu.func @fwd(
// CHECK-COUNT-2: nvvm.mbarrier.init
// CHECK-NEXT: nvvm.fence.mbarrier.init
// CHECK-NOT: nvvm.barrier.arrive
// CHECK: <m = 64, n = 32, k = 16>
#mla16 = #attn.variant<kv_form = latent, num_q_heads = 16, num_kv_heads = 1,
                     qk_head_dim = 192, v_head_dim = 128, latent_dim = 512,
                     rope = #attn.rope<placement = decoupled_shared_key, dim = 64>,
                     softmax_scale = 0.07216878364870322, value_epilogue = latent_up>
func.func @mla16_decode(%q: tensor<?x1x16x576xbf16>, %c: tensor<?x?x1x512xbf16>,
                      %kr: tensor<?x?x64xbf16>, %uv: tensor<16x512x128xbf16>) -> tensor<?x1x16x128xbf16> {
  %o = attn.attention #mla16 query(%q : tensor<?x1x16x576xbf16>) rows(%c : tensor<?x?x1x512xbf16>)
         rope_keys(%kr : tensor<?x?x64xbf16>) up_v(%uv : tensor<16x512x128xbf16>)
         absorbed -> tensor<?x1x16x128xbf16>
  return %o : tensor<?x1x16x128xbf16>
}
