// RUN: attn-opt %s -split-input-file --attn-to-flash="tensor-cores=true warpgroup-mma=true tensor-map-copies=true" | FileCheck %s
// RUN: attn-opt %s -split-input-file --attn-to-flash="tensor-cores=true warpgroup-mma=true tensor-map-copies=true mma-tile=32 mma-stages=2" | FileCheck %s --check-prefix=ST2
// RUN: attn-opt %s -split-input-file --attn-to-flash="tensor-cores=true warpgroup-mma=true tensor-map-copies=true mma-tile=32" | FileCheck %s --check-prefix=PIPE

// MLA with 128 heads, tiles by TMA. The manifest lists one tensor map per
// cache stream after the sizes (the 576-wide row: 512 latent columns, then
// the shared rotary key at column 512), boxes of one head's 64 rows x 64
// columns; the kernel takes them last, marked for attn-tensor-map-params.
// Thread 0 sets up one mbarrier per stage. A tile is thread 0's expect_tx of
// its 73728 bytes (9 blocks of 64 x 128) and one 4-d copy per latent block
// and one 3-d rotary copy; each iteration waits for its tile's phase (after
// any cp.async, the query rows), zeroes the rows past jEnd, and hands the
// tile to wgmma. After the loop the mbarriers are invalidated.
// CHECK-LABEL: gpu.module @mla128_decode_attn0
// CHECK-SAME: {kind = "size", name = "S"}, {kind = "size", name = "normalise"}, {box = [1, 64, 1, 64], kind = "tensor_map", name = "rows_map", swizzle = 128 : i64, tensor = "rows"}, {box = [1, 64, 64], kind = "tensor_map", name = "rope_keys_map", swizzle = 128 : i64, tensor = "rope_keys"}]
// CHECK-SAME: tile_rows = 64 : i64
// CHECK: gpu.func @fwd(
// CHECK-SAME: %{{.*}}: index, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr)
// CHECK-SAME: attn.tensor_map_args = 2 : i64
// Its two row blocks share their tiles: no L2 policy.
// CHECK-NOT: createpolicy
// CHECK-COUNT-2: nvvm.mbarrier.init
// CHECK-NEXT: nvvm.fence.mbarrier.init
// CHECK: gpu.barrier
// CHECK: nvvm.mbarrier.arrive.expect_tx {{.+}}, %c73728_i32
// CHECK-COUNT-8: nvvm.cp.async.bulk.tensor.shared.cluster.global {{.+}} box[{{.+}}, {{.+}}, {{.+}}, {{.+}}]
// CHECK: nvvm.cp.async.bulk.tensor.shared.cluster.global {{.+}} box[{{[^,]+}}, {{[^,]+}}, {{[^,]+}}] :
// CHECK-NOT: nvgpu.device_async_copy {{.+}} memref<?xbf16> to memref<{{[0-9]+}}xbf16, #gpu.address_space<workgroup>>
// CHECK: scf.for
// CHECK: nvvm.cp.async.wait.group 0
// CHECK: nvvm.mbarrier.try_wait.parity
// CHECK: vector.store %cst{{.*}} : memref<{{[0-9]+}}xbf16, #gpu.address_space<workgroup>>, vector<8xbf16>
// CHECK: nvvm.fence.proxy
// CHECK-NEXT: gpu.barrier
// CHECK: nvvm.mbarrier.arrive.expect_tx
// CHECK: nvvm.wgmma.mma_async {{.+}} <m = 64, n = 32, k = 16>
// CHECK: scf.yield
// CHECK: gpu.barrier
// CHECK-COUNT-2: nvvm.mbarrier.inval
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

// MFA decode takes 64-row tiles of keys and values on two stages (64 KB
// ahead): by TMA, evicted from L2 first with one row block, one expect_tx
// of both (2 x 4 blocks of 64 rows x 128 bytes); the query rows by
// cp.async. Each iteration waits for its tile's phase before its scores.
// CHECK-LABEL: gpu.module @mfa_decode_attn0
// CHECK-SAME: {box = [1, 64, 1, 64], kind = "tensor_map", name = "keys_map", swizzle = 128 : i64, tensor = "keys"}, {box = [1, 64, 1, 64], kind = "tensor_map", name = "values_map", swizzle = 128 : i64, tensor = "values"}]
// CHECK-SAME: tile_rows = 64 : i64
// CHECK: gpu.func @fwd(
// CHECK: %[[FIRST:.+]] = llvm.inline_asm "createpolicy.fractional.L2::evict_first.b64 $0, 1.0;"
// CHECK: nvvm.mbarrier.arrive.expect_tx %{{.+}}, %c65536_i32
// CHECK-COUNT-8: nvvm.cp.async.bulk.tensor.shared.cluster.global {{.+}} l2_cache_hint = %[[FIRST]] :
// CHECK: nvgpu.device_async_copy %arg0
// CHECK: scf.for
// CHECK: nvvm.mbarrier.try_wait.parity
// CHECK: nvvm.wgmma.mma_async {{.+}} <m = 64, n = 64, k = 16>
// CHECK: nvvm.wgmma.mma_async {{.+}} <m = 64, n = 256, k = 16>
// CHECK: scf.yield
// CHECK: gpu.func @combine
//
// With 32-row tiles MFA decode is pipelined (4 stages) over separate keys
// and values: its tiles by TMA too, evicted from L2 first with one row block
// (step 102), the query rows by cp.async. Tile 0 is waited for before the
// loop (where the block has one), each next tile inside it before its
// scores are issued.
// PIPE-LABEL: gpu.module @mfa_decode_attn0
// PIPE-SAME: {box = [1, 32, 1, 64], kind = "tensor_map", name = "keys_map", swizzle = 128 : i64, tensor = "keys"}, {box = [1, 32, 1, 64], kind = "tensor_map", name = "values_map", swizzle = 128 : i64, tensor = "values"}]
// PIPE-SAME: tile_rows = 32 : i64
// PIPE: gpu.func @fwd(
// PIPE: %[[FIRST:.+]] = llvm.inline_asm "createpolicy.fractional.L2::evict_first.b64 $0, 1.0;"
// PIPE: nvvm.mbarrier.arrive.expect_tx %{{.+}}, %c32768_i32
// PIPE: nvvm.cp.async.bulk.tensor.shared.cluster.global {{.+}} l2_cache_hint = %[[FIRST]] :
// PIPE: nvgpu.device_async_copy %arg0
// PIPE: nvvm.mbarrier.try_wait.parity
// PIPE: nvvm.wgmma.mma_async
// PIPE: scf.for
// PIPE: nvvm.mbarrier.try_wait.parity
// PIPE: nvvm.fence.proxy
// PIPE-NEXT: gpu.barrier
// PIPE: nvvm.cp.async.bulk.tensor.shared.cluster.global {{.+}} l2_cache_hint = %[[FIRST]] :
// PIPE: nvvm.wgmma.mma_async
// PIPE: scf.yield
// PIPE: gpu.func @combine
//
// With its stages fixed at two: the two-stage loop, keys into the key
// tiles and values into the value tiles, one expect_tx of both (2 x 4
// blocks of 32 rows x 128 bytes).
// ST2-LABEL: gpu.module @mfa_decode_attn0
// ST2-SAME: {box = [1, 32, 1, 64], kind = "tensor_map", name = "keys_map", swizzle = 128 : i64, tensor = "keys"}, {box = [1, 32, 1, 64], kind = "tensor_map", name = "values_map", swizzle = 128 : i64, tensor = "values"}]
// ST2: gpu.func @fwd(
// ST2: nvvm.mbarrier.arrive.expect_tx {{.+}}, %c32768_i32
// ST2-COUNT-8: nvvm.cp.async.bulk.tensor.shared.cluster.global
// ST2: scf.for
// ST2: nvvm.mbarrier.try_wait.parity
// ST2: nvvm.wgmma.mma_async {{.+}} <m = 64, n = 256, k = 16>
// ST2: scf.yield
#mfa = #attn.variant<kv_form = separate, num_q_heads = 64, num_kv_heads = 1,
                     qk_head_dim = 256, v_head_dim = 256,
                     rope = #attn.rope<placement = full_head, dim = 256>,
                     softmax_scale = 0.0625>
func.func @mfa_decode(%q: tensor<?x1x64x256xbf16>, %k: tensor<?x?x1x256xbf16>,
                      %v: tensor<?x?x1x256xbf16>) -> tensor<?x1x64x256xbf16> {
  %o = attn.attention #mfa query(%q : tensor<?x1x64x256xbf16>) keys(%k : tensor<?x?x1x256xbf16>)
         values(%v : tensor<?x?x1x256xbf16>) -> tensor<?x1x64x256xbf16>
  return %o : tensor<?x1x64x256xbf16>
}

