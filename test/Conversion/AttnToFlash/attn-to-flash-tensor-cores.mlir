// RUN: attn-opt %s -split-input-file --attn-to-flash="tensor-cores=true" | FileCheck %s

// MQA decode in bf16 (32 query rows per cache group): the mma.sync schedule.
// Two m16 row tiles per block, 32-row cache tiles triple buffered by
// cp.async in dynamic workgroup memory (zero-filled past the sequence; the
// wait leaves the newest tile in flight),
// scores (warps splitting the k steps) and values on m16n8k16 tensor-core
// tiles.
// CHECK-LABEL: gpu.module @mqa_decode_attn0
// CHECK-SAME: dynamic_shared_bytes = [[BYTES:[0-9]+]] : i64, grid = ["ceildiv(32*Tq,32)", "B*1", "S"], name = "fwd"
// CHECK-SAME: dynamic_shared_bytes = 0 : i64, grid = ["32", "Tq", "B"], name = "combine"
// CHECK-SAME: rows_per_block = 32 : i64
// CHECK-SAME: schedule = "mma"
// CHECK-SAME: tile_rows = 32 : i64
// CHECK: gpu.func @fwd(
// CHECK-SAME: kernel attributes {known_block_size = array<i32: 128, 1, 1>, nvvm.maxntid = array<i32: 128, 1, 1>, nvvm.minctasm = 2 : i32}
// CHECK: gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
// CHECK: nvgpu.device_async_copy {{.+}}, 8, {{.+}} {bypassL1} : memref<?xbf16> to memref<{{[0-9]+}}xbf16, #gpu.address_space<workgroup>>
// CHECK: nvvm.cp.async.commit.group
// CHECK: scf.for
// CHECK: nvvm.cp.async.wait.group 1
// CHECK: gpu.barrier
// CHECK: scf.for
// CHECK: nvgpu.ldmatrix {{.+}} {numTiles = 4 : i32, transpose = false}
// CHECK: nvgpu.ldmatrix {{.+}} {numTiles = 4 : i32, transpose = false}
// CHECK: nvvm.mma.sync {{.+}} multiplicandAPtxType = #nvvm.mma_type<bf16>
// CHECK-SAME: shape = #nvvm.shape<m = 16, n = 8, k = 16>
// CHECK: gpu.shuffle xor
// CHECK: math.exp2 {{.+}} fastmath<afn>
// CHECK: nvgpu.ldmatrix {{.+}} {numTiles = 2 : i32, transpose = true}
// CHECK: nvvm.mma.sync
// CHECK: gpu.func @combine
#mqa = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 1,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = full_head, dim = 128>,
                     softmax_scale = 0.088388347648318433>
func.func @mqa_decode(%q: tensor<?x1x32x128xbf16>, %k: tensor<?x?x1x128xbf16>,
                      %v: tensor<?x?x1x128xbf16>) -> tensor<?x1x32x128xbf16> {
  %o = attn.attention #mqa query(%q : tensor<?x1x32x128xbf16>) keys(%k : tensor<?x?x1x128xbf16>)
         values(%v : tensor<?x?x1x128xbf16>) -> tensor<?x1x32x128xbf16>
  return %o : tensor<?x1x32x128xbf16>
}

// -----

// Absorbed MLA decode in f16: the rotary stream lands beside the latent
// row in the same tile (columns 512..575); the value view is the latent row
// itself, so one 576-wide tile feeds both products. A 512-wide value keeps
// one m16 tile per block (64 accumulators a thread), 32-row cache tiles.
// CHECK-LABEL: gpu.module @mla_decode_attn0
// CHECK-SAME: rows_per_block = 16 : i64
// CHECK-SAME: schedule = "mma"
// CHECK-SAME: tile_rows = 32 : i64
// CHECK: gpu.func @fwd(
// CHECK: nvgpu.device_async_copy
// CHECK: nvgpu.device_async_copy
// CHECK: nvgpu.device_async_copy
// CHECK: nvvm.mma.sync {{.+}} shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (vector<2xf16>, vector<2xf16>, f32) -> !llvm.struct<(f32, f32, f32, f32)>
#mla = #attn.variant<kv_form = latent, num_q_heads = 16, num_kv_heads = 1,
                     qk_head_dim = 192, v_head_dim = 128, latent_dim = 512,
                     rope = #attn.rope<placement = decoupled_shared_key, dim = 64>,
                     softmax_scale = 0.07216878364870322, value_epilogue = latent_up>
func.func @mla_decode(%q: tensor<?x1x16x576xf16>, %c: tensor<?x?x1x512xf16>,
                      %kr: tensor<?x?x64xf16>, %uv: tensor<16x512x128xf16>) -> tensor<?x1x16x128xf16> {
  %o = attn.attention #mla query(%q : tensor<?x1x16x576xf16>) rows(%c : tensor<?x?x1x512xf16>)
         rope_keys(%kr : tensor<?x?x64xf16>) up_v(%uv : tensor<16x512x128xf16>)
         absorbed -> tensor<?x1x16x128xf16>
  return %o : tensor<?x1x16x128xf16>
}

// -----

// Tensor cores take 16-bit caches only: the same MQA in f32 stays on the
// CUDA-core tiled kernel.
// CHECK-LABEL: gpu.module @mqa_f32_attn0
// CHECK-SAME: schedule = "tiled"
// CHECK-NOT: nvvm.mma.sync
// CHECK: gpu.func @combine
#mqa = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 1,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = full_head, dim = 128>,
                     softmax_scale = 0.088388347648318433>
func.func @mqa_f32(%q: tensor<?x1x32x128xf32>, %k: tensor<?x?x1x128xf32>,
                   %v: tensor<?x?x1x128xf32>) -> tensor<?x1x32x128xf32> {
  %o = attn.attention #mqa query(%q : tensor<?x1x32x128xf32>) keys(%k : tensor<?x?x1x128xf32>)
         values(%v : tensor<?x?x1x128xf32>) -> tensor<?x1x32x128xf32>
  return %o : tensor<?x1x32x128xf32>
}

// -----

// A value width that 4 warps cannot split into 8-column slices (40) stays
// on the tiled kernel too.
// CHECK-LABEL: gpu.module @mqa_narrow_attn0
// CHECK-SAME: schedule = "tiled"
#narrow = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 1,
                        qk_head_dim = 48, v_head_dim = 40,
                        rope = #attn.rope<placement = full_head, dim = 48>,
                        softmax_scale = 0.14433756729740643>
func.func @mqa_narrow(%q: tensor<?x1x32x48xbf16>, %k: tensor<?x?x1x48xbf16>,
                      %v: tensor<?x?x1x40xbf16>) -> tensor<?x1x32x40xbf16> {
  %o = attn.attention #narrow query(%q : tensor<?x1x32x48xbf16>) keys(%k : tensor<?x?x1x48xbf16>)
         values(%v : tensor<?x?x1x40xbf16>) -> tensor<?x1x32x40xbf16>
  return %o : tensor<?x1x32x40xbf16>
}
