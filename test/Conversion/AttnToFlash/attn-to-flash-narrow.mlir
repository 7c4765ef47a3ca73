// RUN: attn-opt %s -split-input-file --attn-to-flash="tensor-cores=true warpgroup-mma=true tensor-map-copies=true narrow-query=true" | FileCheck %s
// RUN: attn-opt %s -split-input-file --attn-to-flash="tensor-cores=true warpgroup-mma=true tensor-map-copies=true" | FileCheck %s --check-prefix=OFF

// MLA with 16 heads, decode: the narrow kernel. One warpgroup (128
// threads), 16-row blocks, 64-row tiles by TMA (8 latent blocks and the
// rotary key's, 73728 bytes a slot). Scores^T = K Q^T: 36 m64n16k16 steps,
// both operands K-major. The softmax runs down the accumulator columns:
// each column's max over its 8 lanes by xor shuffles (4, 8, 16), then over
// the 4 warps through workgroup memory behind a barrier; the rescale only
// where some column grew. P^T is stored in the storage type, then O^T += V^T
// P^T: 8 blocks of 64 value columns times 4 k steps, the value tile read
// M-major (A transposed). After the loop the outputs go through workgroup
// memory as whole rows (16-byte stores).
// CHECK-LABEL: gpu.module @mla16_decode_attn0
// CHECK-SAME: block = [128, 1, 1]
// CHECK-SAME: grid = ["ceildiv(16*Tq,16)", "B*1", "S"], name = "fwd"
// project_slices: 16 batch rows and one of 8 slices of 64 latent columns
// of a head a block; its workgroup memory padded so that no block shares
// an SM with the forward's 169344 bytes.
// CHECK-SAME: dynamic_shared_bytes = 62096 : i64, grid = ["128", "Tq", "ceildiv(B,16)"], name = "project_slices"
// CHECK-SAME: project_slices = 8 : i64
// CHECK-SAME: rows_per_block = 16 : i64
// CHECK-SAME: schedule = "wgmma-narrow"
// CHECK-SAME: tile_rows = 64 : i64
// CHECK: gpu.func @fwd(
// CHECK-SAME: known_block_size = array<i32: 128, 1, 1>
// A group's rows fit one block: where the grid has one row block, the
// tile copies take an L2 policy that evicts them first; else none.
// CHECK: %[[GX:.+]] = gpu.grid_dim  x
// CHECK: %[[ONE:.+]] = arith.cmpi eq, %[[GX]]
// CHECK-NEXT: %[[FIRST:.+]] = llvm.inline_asm "createpolicy.fractional.L2::evict_first.b64 $0, 1.0;", "=l"
// CHECK: nvvm.mbarrier.arrive.expect_tx %{{.+}}, %c73728_i32
// CHECK: scf.if %[[ONE]] {
// CHECK-NEXT: nvvm.cp.async.bulk.tensor.shared.cluster.global {{.+}} l2_cache_hint = %[[FIRST]] :
// CHECK-NEXT: } else {
// CHECK-NEXT: nvvm.cp.async.bulk.tensor.shared.cluster.global {{.+}}] : !llvm.ptr<7>
// CHECK-COUNT-8: l2_cache_hint = %[[FIRST]] :
// CHECK: scf.for
// CHECK: nvvm.mbarrier.try_wait.parity
// CHECK: nvvm.fence.proxy
// CHECK-NEXT: gpu.barrier
// CHECK: nvvm.wgmma.fence.aligned
// CHECK: nvvm.wgmma.mma_async {{.+}} <m = 64, n = 16, k = 16>, D[<f32>, <zero>], A[<bf16>, <one>, <row>], B[<bf16>, <one>, <col>]
// CHECK-COUNT-35: nvvm.wgmma.mma_async {{.+}} <m = 64, n = 16, k = 16>, D[<f32>, <one>], A[<bf16>, <one>, <row>], B[<bf16>, <one>, <col>]
// CHECK-NEXT: llvm.extract
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK: gpu.shuffle  xor %{{.+}}, %c4_i32
// CHECK: gpu.shuffle  xor %{{.+}}, %c8_i32
// CHECK: gpu.shuffle  xor %{{.+}}, %c16_i32
// CHECK: memref.store {{.+}} : memref<96xf32, #gpu.address_space<workgroup>>
// CHECK: gpu.barrier
// CHECK: math.exp2
// CHECK: nvvm.vote.sync any
// The tied latent tiles store P^T a probability at a time.
// CHECK: memref.store {{.+}} : memref<1024xbf16, #gpu.address_space<workgroup>>
// CHECK-NOT: nvvm.stmatrix
// CHECK: nvvm.fence.proxy
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: nvvm.wgmma.fence.aligned
// CHECK-COUNT-32: nvvm.wgmma.mma_async {{.+}} <m = 64, n = 16, k = 16>, D[<f32>, <one>], A[<bf16>, <one>, <col>], B[<bf16>, <one>, <col>]
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK: scf.yield
// Each split's rows normalised, staged in the storage type, then out by
// one bulk copy a row (lanes of warp 0), kept in L2 for the kernel that
// reads them; the f32 partials likewise.
// CHECK: memref.store {{.+}} : memref<8320xbf16, #gpu.address_space<workgroup>>
// CHECK: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// CHECK-NEXT: gpu.barrier
// CHECK: %[[LAST:.+]] = llvm.inline_asm "createpolicy.fractional.L2::evict_last.b64 $0, 1.0;", "=l"
// CHECK-NEXT: nvvm.cp.async.bulk.global.shared.cta %{{.+}}, %{{.+}}, %c1024_i32 l2_cache_hint = %[[LAST]] : <1>, <3>
// CHECK-NEXT: nvvm.cp.async.bulk.commit.group
// CHECK-NEXT: nvvm.cp.async.bulk.wait_group 0 {read}
// CHECK: } else {
// CHECK: memref.store {{.+}} : memref<8320xf32, #gpu.address_space<workgroup>>
// CHECK: nvvm.fence.proxy
// CHECK-NEXT: gpu.barrier
// CHECK: nvvm.cp.async.bulk.global.shared.cta %{{.+}}, %{{.+}}, %c2048_i32 l2_cache_hint = %{{.+}} : <1>, <3>
// The one-row combine keeps a thread per two of the 512 merged values.
// CHECK: gpu.func @combine(
// CHECK-SAME: known_block_size = array<i32: 256, 1, 1>
// project_slices: a head's 8 slices are one cluster. It stages its 64 rows
// of the head's up-projection, waits for the forward grid (launched early),
// merges its rows' splits over its 64 columns, multiplies (m16n8k16: 4 k
// steps, 2 n tiles a warp), and after a cluster barrier adds the 8 blocks'
// products of its 16 output columns in slice order through distributed
// workgroup memory; a second barrier, split around its stores, keeps every
// block's products until the others have read them.
// CHECK: gpu.func @project_slices(%arg0: memref<?xbf16>, %arg1: memref<?xf32>, %arg2: memref<?xbf16>, %arg3: memref<?xbf16>, %arg4: index, %arg5: index, %arg6: index)
// CHECK-SAME: nvvm.cluster_dim = array<i32: 8, 1, 1>
// CHECK: nvgpu.device_async_copy %arg2
// CHECK: nvvm.griddepcontrol wait
// CHECK: scf.for %{{.+}} = %{{.+}} to %c4{{.*}} step %c1{{.*}} iter_args
// CHECK-COUNT-2: nvvm.mma.sync
// CHECK-NOT: nvvm.mma.sync
// CHECK: nvvm.cluster.arrive {aligned}
// CHECK-NEXT: nvvm.cluster.wait {aligned}
// CHECK: nvvm.mapa %[[LOCAL:.+]], %c0_i32 : !llvm.ptr<3> -> !llvm.ptr<7>
// CHECK-NEXT: llvm.load {{.+}} : !llvm.ptr<7> -> vector<4xf32>
// CHECK-COUNT-7: nvvm.mapa %[[LOCAL]]
// CHECK: nvvm.cluster.arrive {aligned}
// CHECK: vector.store {{.+}} : memref<?xbf16>, vector<2xbf16>
// CHECK: nvvm.cluster.wait {aligned}
// CHECK-NEXT: gpu.return
// Without narrow-query: two warpgroups on 64-row blocks.
// OFF-LABEL: gpu.module @mla16_decode_attn0
// OFF-SAME: block = [256, 1, 1]
// OFF-SAME: schedule = "wgmma"
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

// MQA decode (32 rows): 32-wide products, separate key and value tiles of
// 32 KB a slot, 4 stages (3 tiles ahead, 96 KB: the fewest that reach it).
// With one split the forward stores the normalised result itself, and it
// keeps the grid merge; where it merges in the grid, each split's rows are
// stored normalised in bf16 (o_rows) and merged 8 values a vector.
// CHECK-LABEL: gpu.module @mqa_decode_attn0
// CHECK-SAME: grid_merge = true
// CHECK-SAME: name = "o_rows"
// CHECK-SAME: rows_per_block = 32 : i64
// CHECK-SAME: schedule = "wgmma-narrow"
// CHECK: gpu.func @fwd(%{{.+}}: memref<?xbf16>, %{{.+}}: memref<?xbf16>, %{{.+}}: memref<?xbf16>, %{{.+}}: memref<?xi32>, %{{.+}}: memref<?xf32>, %{{.+}}: memref<?xf32>, %[[ROWS:.+]]: memref<?xbf16>, %[[OUT:.+]]: memref<?xbf16>,
// CHECK: nvvm.mbarrier.arrive.expect_tx %{{.+}}, %c32768_i32
// CHECK: nvvm.wgmma.mma_async {{.+}} <m = 64, n = 32, k = 16>, D[<f32>, <zero>], A[<bf16>, <one>, <row>], B[<bf16>, <one>, <col>]
// P^T (32 query rows: 8 fragments of 8 x 8 a warp) by two transposing
// matrix stores before the value product.
// CHECK-COUNT-2: nvvm.stmatrix {{.+}} {eltType = #nvvm.ld_st_matrix_elt_type<b16>, layout = #nvvm.mma_layout<col>, shape = #nvvm.ld_st_matrix_shape<m = 8, n = 8>} : !llvm.ptr<3>, i32, i32, i32, i32
// CHECK-NOT: nvvm.stmatrix
// CHECK: nvvm.fence.proxy
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: nvvm.wgmma.fence.aligned
// CHECK: nvvm.wgmma.mma_async {{.+}} <m = 64, n = 32, k = 16>, D[<f32>, <one>], A[<bf16>, <one>, <col>], B[<bf16>, <one>, <col>]
// CHECK: arith.truncf {{.+}} : vector<8xf32> to vector<8xbf16>
// CHECK: vector.store {{.+}}, %[[OUT]][{{.+}}] {{.+}} : memref<?xbf16>, vector<8xbf16>
// CHECK: arith.truncf {{.+}} : vector<8xf32> to vector<8xbf16>
// CHECK: vector.store {{.+}}, %[[ROWS]][{{.+}}] {{.+}} : memref<?xbf16>, vector<8xbf16>
// CHECK: llvm.atomicrmw uinc_wrap
// CHECK: vector.load %[[ROWS]][{{.+}}] {alignment = 16 : i64} : memref<?xbf16>, vector<8xbf16>
// The prefill (query tokens not static) keeps the 64-row form.
// CHECK-LABEL: gpu.module @mqa_prefill_attn0
// CHECK-SAME: schedule = "wgmma"
// OFF-LABEL: gpu.module @mqa_decode_attn0
// OFF-SAME: schedule = "wgmma"
#mqa = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 1,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e5>,
                     softmax_scale = 0.088388347648318433>
func.func @mqa_decode(%q: tensor<?x1x32x128xbf16>, %kc: tensor<?x?x1x128xbf16>,
                      %vc: tensor<?x?x1x128xbf16>, %valid: tensor<?xi32>)
    -> tensor<?x1x32x128xbf16> {
  %o = attn.attention #mqa query(%q : tensor<?x1x32x128xbf16>)
         keys(%kc : tensor<?x?x1x128xbf16>) values(%vc : tensor<?x?x1x128xbf16>)
         seq_lens(%valid : tensor<?xi32>) -> tensor<?x1x32x128xbf16>
  return %o : tensor<?x1x32x128xbf16>
}
func.func @mqa_prefill(%q: tensor<?x?x32x128xbf16>, %kc: tensor<?x?x1x128xbf16>,
                       %vc: tensor<?x?x1x128xbf16>) -> tensor<?x?x32x128xbf16> {
  %o = attn.attention #mqa query(%q : tensor<?x?x32x128xbf16>)
         keys(%kc : tensor<?x?x1x128xbf16>) values(%vc : tensor<?x?x1x128xbf16>)
         -> tensor<?x?x32x128xbf16>
  return %o : tensor<?x?x32x128xbf16>
}

// -----

// Sun's GTA (5 query rows a group): 8-wide products (the 3 rows past
// the group score -inf, as rows past a block's last do); 64-
// wide keys (4 k steps), 128 value columns (2 m64 blocks). Its gated
// decoder stays in the combine. With 8 rows a tile's products are a few
// instructions: two blocks an SM (minctasm 2), each on three 24 KB stages
// (48 KB ahead), in 77000 bytes. GTA's 4 rows of a tied row take the
// narrow form too (8 rows, two blocks an SM: faster there than the
// mma.sync register form from B=16).
// CHECK-LABEL: gpu.module @gta_sun_decode_attn0
// CHECK-SAME: dynamic_shared_bytes = 77000 : i64, grid = ["ceildiv(5*Tq,8)", "B*1", "S"], name = "fwd"
// CHECK-SAME: rows_per_block = 8 : i64
// CHECK-SAME: schedule = "wgmma-narrow"
// CHECK: gpu.func @fwd(
// CHECK-SAME: nvvm.minctasm = 2
// CHECK-COUNT-4: nvvm.wgmma.mma_async {{.+}} <m = 64, n = 8, k = 16>, D[<f32>, <{{zero|one}}>], A[<bf16>, <one>, <row>], B[<bf16>, <one>, <col>]
// CHECK: nvvm.stmatrix {{.+}} : !llvm.ptr<3>, i32, i32{{$}}
// CHECK-COUNT-8: nvvm.wgmma.mma_async {{.+}} <m = 64, n = 8, k = 16>, D[<f32>, <one>], A[<bf16>, <one>, <col>], B[<bf16>, <one>, <col>]
// CHECK: gpu.func @combine(
// CHECK-LABEL: gpu.module @gta_decode_attn0
// CHECK-SAME: rows_per_block = 8 : i64
// CHECK-SAME: schedule = "wgmma-narrow"
// CHECK: gpu.func @fwd(
// CHECK-SAME: nvvm.minctasm = 2
#gta_sun = #attn.variant<kv_form = separate, num_q_heads = 5, num_out_heads = 20,
                         num_kv_heads = 1, num_v_heads = 1,
                         qk_head_dim = 64, v_head_dim = 64, latent_dim = 128,
                         rope = #attn.rope<placement = full_head, dim = 64>,
                         softmax_scale = 0.125, value_epilogue = gated_latent_decoder>
func.func @gta_sun_decode(%q: tensor<?x1x5x64xbf16>, %kc: tensor<?x?x1x64xbf16>,
                          %vc: tensor<?x?x1x128xbf16>, %gate: tensor<?x1x1280xbf16>,
                          %dec: tensor<20x128x64xbf16>, %valid: tensor<?xi32>)
    -> tensor<?x1x20x64xbf16> {
  %o = attn.attention #gta_sun query(%q : tensor<?x1x5x64xbf16>)
         keys(%kc : tensor<?x?x1x64xbf16>) values(%vc : tensor<?x?x1x128xbf16>)
         seq_lens(%valid : tensor<?xi32>)
         gate(%gate : tensor<?x1x1280xbf16>) decoder(%dec : tensor<20x128x64xbf16>)
         -> tensor<?x1x20x64xbf16>
  return %o : tensor<?x1x20x64xbf16>
}
#gta = #attn.variant<kv_form = tied, num_q_heads = 32, num_kv_heads = 8,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = q_suffix_shared_key, dim = 64>,
                     tie = #attn.tie<row = 128, key = 0 : 64, value = 0 : 128>,
                     softmax_scale = 0.088388347648318433>
func.func @gta_decode(%q: tensor<?x1x32x128xbf16>, %r: tensor<?x?x8x128xbf16>,
                      %kr: tensor<?x?x64xbf16>) -> tensor<?x1x32x128xbf16> {
  %o = attn.attention #gta query(%q : tensor<?x1x32x128xbf16>) rows(%r : tensor<?x?x8x128xbf16>)
         rope_keys(%kr : tensor<?x?x64xbf16>) -> tensor<?x1x32x128xbf16>
  return %o : tensor<?x1x32x128xbf16>
}
