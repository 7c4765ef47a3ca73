// RUN: attn-opt %s -split-input-file --attn-to-flash="tensor-cores=true warpgroup-mma=true" | FileCheck %s

// An MFA-shaped decode with 128-wide heads (64 query rows per cache
// group) on sm_90a: one warpgroup holds the whole group. Its cache tiles
// (64 rows, 4 stages: 64 KB ahead, what hides DRAM latency, on the larger
// tile, and no more stages than that takes) are staged by cp.async in the
// 128-byte swizzled layout, aligned at run time to 1024 bytes of workgroup
// address; tile 0's copies go out first, in the query rows' commit group.
// Pipelined: the prologue scores tile 0; each iteration runs the softmax (quad shuffles, a
// vote before the rescale) after waiting for the previous tile's P V,
// writes P, waits for the next tile (ST - 3 = 1 group may still fly),
// hands both to wgmma's proxy, then issues the next tile's scores
// (m64n64k16, key tile read K-major) and this tile's P V (m64n128k16,
// value tile read transposed) and waits for the scores only.
// CHECK-LABEL: gpu.module @mfa128_decode_attn0
// CHECK-SAME: block = [128, 1, 1], dynamic_shared_bytes = {{[0-9]+}} : i64, grid = ["ceildiv(64*Tq,64)", "B*1", "S"], name = "fwd"
// CHECK-SAME: rows_per_block = 64 : i64
// CHECK-SAME: schedule = "wgmma"
// CHECK-SAME: tile_rows = 64 : i64
// CHECK-SAME: wave_blocks_per_sm = 0 : i64
// CHECK: gpu.func @fwd(
// CHECK-SAME: known_block_size = array<i32: 128, 1, 1>
// CHECK: memref.extract_aligned_pointer_as_index
// CHECK: arith.xori
// CHECK: nvgpu.device_async_copy %arg1
// CHECK-NOT: nvvm.cp.async.commit.group
// CHECK: nvgpu.device_async_copy %arg0
// CHECK: nvvm.cp.async.commit.group
// CHECK: nvvm.cp.async.wait.group 2
// CHECK-NEXT: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: nvvm.wgmma.fence.aligned
// CHECK: nvvm.wgmma.mma_async {{.+}} <m = 64, n = 64, k = 16>, D[<f32>, <zero>], A[<bf16>, <one>, <row>], B[<bf16>, <one>, <col>]
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK: scf.for
// CHECK: gpu.shuffle xor
// CHECK: math.exp2
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK: nvvm.vote.sync any
// CHECK: arith.truncf {{.+}} : vector<2xf32> to vector<2xbf16>
// CHECK: vector.store
// CHECK: nvvm.fence.proxy
// CHECK-NEXT: nvvm.cp.async.wait.group 1
// CHECK-NEXT: nvvm.fence.proxy
// CHECK-NEXT: gpu.barrier
// CHECK: nvvm.cp.async.commit.group
// CHECK-NEXT: nvvm.wgmma.fence.aligned
// CHECK: nvvm.wgmma.mma_async {{.+}} <m = 64, n = 64, k = 16>, D[<f32>, <zero>]
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK: nvvm.wgmma.mma_async {{.+}} <m = 64, n = 128, k = 16>, D[<f32>, <one>], A[<bf16>, <one>, <row>], B[<bf16>, <one>, <row>]
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 1
// CHECK: scf.yield
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK-NEXT: nvvm.cp.async.wait.group 0
// CHECK: vector.store {{.+}} : memref<?xf32>, vector<2xf32>
// CHECK: gpu.func @combine
#mfa128 = #attn.variant<kv_form = separate, num_q_heads = 64, num_kv_heads = 1,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = full_head, dim = 128>,
                     softmax_scale = 0.088>
func.func @mfa128_decode(%q: tensor<?x1x64x128xbf16>, %k: tensor<?x?x1x128xbf16>,
                      %v: tensor<?x?x1x128xbf16>) -> tensor<?x1x64x128xbf16> {
  %o = attn.attention #mfa128 query(%q : tensor<?x1x64x128xbf16>) keys(%k : tensor<?x?x1x128xbf16>)
         values(%v : tensor<?x?x1x128xbf16>) -> tensor<?x1x64x128xbf16>
  return %o : tensor<?x1x64x128xbf16>
}

// -----

// MFA decode (64 query rows of 256 per cache group): 64-row tiles of keys
// and values (64 KB a stage) fit two stages beside the query rows. 64 KB
// ahead is enough, so the larger tile wins over 32-row tiles on five stages
// (96 KB ahead): each iteration waits for its tile (no group may still
// fly), scores it (m64n64k16), runs the softmax, then P V (m64n256k16).
// CHECK-LABEL: gpu.module @mfa_decode_attn0
// CHECK-SAME: block = [128, 1, 1]
// CHECK-SAME: tile_rows = 64 : i64
// CHECK: gpu.func @fwd(
// CHECK: scf.for {{.+}} iter_args
// CHECK: nvvm.cp.async.wait.group 0
// CHECK: nvvm.wgmma.mma_async {{.+}} <m = 64, n = 64, k = 16>, D[<f32>, <zero>]
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK: math.exp2
// CHECK: nvvm.wgmma.mma_async {{.+}} <m = 64, n = 256, k = 16>, D[<f32>, <one>]
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK-NEXT: scf.yield
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

// -----

// MLA with 128 heads: 512-wide values take two warpgroups of 256 columns
// each (256 threads), each scoring half of every 64-row tile (m64n32) and
// meeting the other's row maxima in workgroup memory. Only two 72 KB tiles
// fit beside the query rows, so the loop is not pipelined: wait for the
// tile, score, softmax, P V, each in turn. Each forward block lets the
// tensor-core combine_rows launch as it starts; that kernel stages its
// slice of the up-projection, then waits for the forward grid. Where
// combine_rows would follow at most 8 splits (the runtime's `normalise`),
// the forward stores each split's rows normalised in bf16 (o_rows, through
// workgroup memory, 16 bytes a lane) and, with several splits, their (max,
// sum); else f32 partial outputs. project_rows, on combine_rows' grid,
// copies such rows in as they are at one split, or merges them 8 values a
// load, and multiplies them.
// CHECK-LABEL: gpu.module @mla128_decode_attn0
// CHECK-SAME: combine_rows_mma = true, combine_rows_overlaps = true
// CHECK-SAME: {dtype = "bf16", kind = "tensor", name = "o_rows", shape = ["S", "B", "Tq", "128", "512"]
// CHECK-SAME: {kind = "size", name = "S"}, {kind = "size", name = "normalise"}], block = [256, 1, 1]
// CHECK-SAME: name = "fwd"
// CHECK-SAME: name = "combine_rows"
// CHECK-SAME: {args = [{dtype = "bf16", kind = "tensor", name = "o_rows", shape = ["S", "B", "Tq", "128", "512"], {{.+}} name = "ml_part", {{.+}} name = "up_v", {{.+}} name = "out", {{.+}}, {kind = "size", name = "B"}, {kind = "size", name = "Tq"}, {kind = "size", name = "S"}], block = [256, 1, 1], dynamic_shared_bytes = 209920 : i64, grid = ["128", "Tq", "ceildiv(B,64)"], name = "project_rows"
// CHECK-SAME: dynamic_shared_bytes = 155904 : i64, grid = ["128", "Tq", "ceildiv(B,16)"], name = "project_slices"
// CHECK-SAME: normalised_rows = true
// CHECK-SAME: project_rows_max_splits = 8 : i64
// CHECK-SAME: project_slices = 1 : i64
// CHECK-SAME: rows_per_block = 64 : i64
// CHECK-SAME: schedule = "wgmma"
// CHECK-SAME: tile_rows = 64 : i64
// CHECK: gpu.func @fwd(
// CHECK-NEXT: nvvm.griddepcontrol launch_dependents
// CHECK: scf.for
// CHECK: nvvm.cp.async.wait.group 0
// CHECK-NEXT: nvvm.fence.proxy
// CHECK-NEXT: gpu.barrier
// CHECK: nvvm.wgmma.fence.aligned
// CHECK: nvvm.wgmma.mma_async {{.+}} <m = 64, n = 32, k = 16>
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK: gpu.shuffle xor
// CHECK: gpu.barrier
// CHECK: arith.maximumf
// CHECK: math.exp2
// CHECK: vector.store
// CHECK: nvvm.fence.proxy
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: nvvm.wgmma.fence.aligned
// CHECK: nvvm.wgmma.mma_async {{.+}} <m = 64, n = 256, k = 16>, D[<f32>, <one>], A[<bf16>, <one>, <row>], B[<bf16>, <one>, <row>]
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK: scf.yield
// CHECK: %[[ROWS:.+]] = arith.cmpi eq, %arg10, %c1{{.*}} : index
// CHECK: scf.if %[[ROWS]] {
// CHECK: %[[SPLITS:.+]] = arith.cmpi slt, %c1{{.*}}, %arg9 : index
// CHECK: arith.truncf {{.+}} : vector<2xf32> to vector<2xbf16>
// CHECK: gpu.barrier
// CHECK: vector.store {{.+}}, %arg5[{{.+}}] {alignment = 16 : i64} : memref<?xbf16>, vector<8xbf16>
// CHECK: scf.if %[[SPLITS]] {
// CHECK: memref.store {{.+}}, %arg4
// CHECK: } else {
// CHECK: vector.store {{.+}}, %arg3[{{.+}}] {alignment = 16 : i64} : memref<?xf32>, vector<4xf32>
// CHECK: gpu.func @combine_rows(
// CHECK-NOT: memref.load
// CHECK: nvvm.cp.async.commit.group
// CHECK-NEXT: nvvm.griddepcontrol wait
// CHECK: gpu.func @project_rows(%arg0: memref<?xbf16>, %arg1: memref<?xf32>, %arg2: memref<?xbf16>, %arg3: memref<?xbf16>, %arg4: index, %arg5: index, %arg6: index)
// CHECK: nvgpu.device_async_copy %arg2
// CHECK: nvvm.cp.async.commit.group
// CHECK-NEXT: nvvm.griddepcontrol wait
// CHECK: %[[S1:.+]] = arith.cmpi eq, %arg6, %c1{{.*}} : index
// CHECK: scf.if %[[S1]] {
// CHECK: nvgpu.device_async_copy %arg0[{{.+}}], %{{.+}}[{{.+}}], 8 {bypassL1} : memref<?xbf16> to memref<{{[0-9]+}}xbf16, #gpu.address_space<workgroup>>
// CHECK: nvvm.cp.async.commit.group
// CHECK: } else {
// CHECK: vector.load %arg1[{{.+}}] {alignment = 8 : i64} : memref<?xf32>, vector<2xf32>
// CHECK: vector.load %arg0[{{.+}}] {alignment = 16 : i64} : memref<?xbf16>, vector<8xbf16>
// CHECK: arith.extf {{.+}} : vector<8xbf16> to vector<8xf32>
// CHECK: arith.truncf {{.+}} : vector<8xf32> to vector<8xbf16>
// CHECK: nvvm.cp.async.wait.group 0
// CHECK: nvvm.mma.sync
// project_slices with one slice (128 heads: a block per head and 16 batch
// rows, so no cluster): all 512 rows of the head's up-projection staged,
// 32 k steps of two n tiles a warp (the 8 warps share the 128 output
// columns of the one m16 tile), the result stored from the fragments.
// CHECK: gpu.func @project_slices(
// CHECK-SAME: known_block_size = array<i32: 256, 1, 1>
// CHECK-NOT: nvvm.cluster_dim
// CHECK: nvvm.griddepcontrol wait
// CHECK: scf.for %{{.+}} = %{{.+}} to %c32{{.*}} step %c1{{.*}} iter_args
// CHECK-COUNT-2: nvvm.mma.sync
// CHECK-NOT: nvvm.cluster
// CHECK: vector.store {{.+}} : memref<?xbf16>, vector<2xbf16>
// CHECK-NOT: nvvm.cluster
// CHECK: gpu.return
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

// MLA with 16 heads: at B=1 the runtime's one-row combine has 16 rows, so
// besides combine_wide (one block a row) there is combine_slices, which
// takes each row in 8 column slices of 64 latent values (grid 128): a
// slice merges its columns of every split and multiplies them by its 64
// rows of the head's up-projection; the 8 partial sums meet in
// combine_part, and the row's last block to arrive (a counter in
// combine_sync that wraps at 7, behind a device fence) adds them in slice
// order and stores the row. One block an SM, so its 16 groups of threads
// take 8 splits each per step: the 128 splits in one round of loads.
// CHECK-LABEL: gpu.module @mla16_decode_attn0
// CHECK-SAME: combine_slices = 8 : i64
// CHECK-SAME: grid = ["16", "Tq", "B"], name = "combine_wide"
// CHECK-SAME: name = "combine_part", shape = ["B", "Tq", "16", "8", "128"]
// CHECK-SAME: name = "combine_sync", shape = ["B", "Tq", "16"]
// CHECK-SAME: grid = ["128", "Tq", "B"], name = "combine_slices"
// CHECK: gpu.func @combine_wide(%{{.+}}: memref<?xf32>, %{{.+}}: memref<?xf32>, %{{.+}}: memref<?xbf16>, %{{.+}}: memref<?xbf16>, %{{.+}}: index,
// CHECK-NOT: atomicrmw
// CHECK: gpu.func @combine_slices(%[[OPART:[a-z0-9]+]]: memref<?xf32>, %[[ML:[a-z0-9]+]]: memref<?xf32>, %[[UV:[a-z0-9]+]]: memref<?xbf16>, %[[OUT:[a-z0-9]+]]: memref<?xbf16>, %[[PART:[a-z0-9]+]]: memref<?xf32>, %[[SYNC:[a-z0-9]+]]: memref<?xi32>,
// CHECK: %[[SLICE:.+]] = arith.remui %block_id_x, %c8
// CHECK: %[[COL:.+]] = arith.muli %[[SLICE]], %c64
// CHECK: arith.divui %block_id_x, %c8
// The slice's rows of the up-projection: head * 512 + COL + c.
// CHECK: arith.addi %{{.+}}, %[[COL]]
// CHECK: vector.load %[[UV]]
// CHECK-NOT: memref.load %[[ML]]
// CHECK: vector.load %[[OPART]]{{.+}} vector<4xf32>
// CHECK-NOT: memref.load %[[ML]]
// CHECK: vector.load %[[OPART]]{{.+}} vector<4xf32>
// CHECK-NOT: memref.load %[[ML]]
// CHECK: vector.load %[[OPART]]{{.+}} vector<4xf32>
// CHECK-NOT: memref.load %[[ML]]
// CHECK: vector.load %[[OPART]]{{.+}} vector<4xf32>
// CHECK-NOT: memref.load %[[ML]]
// CHECK: vector.load %[[OPART]]{{.+}} vector<4xf32>
// CHECK-NOT: memref.load %[[ML]]
// CHECK: vector.load %[[OPART]]{{.+}} vector<4xf32>
// CHECK-NOT: memref.load %[[ML]]
// CHECK: vector.load %[[OPART]]{{.+}} vector<4xf32>
// CHECK-NOT: memref.load %[[ML]]
// CHECK: vector.load %[[OPART]]{{.+}} vector<4xf32>
// CHECK-NOT: vector.load %[[OPART]]
// CHECK: memref.load %[[ML]]
// CHECK: memref.store %{{.+}}, %[[PART]]
// CHECK: gpu.barrier
// CHECK: memref.extract_aligned_pointer_as_index %[[SYNC]]
// CHECK: nvvm.memory.barrier <gpu>
// CHECK-NEXT: llvm.atomicrmw uinc_wrap %{{.+}}, %c7_i32 syncscope("device") monotonic
// CHECK-NEXT: nvvm.memory.barrier <gpu>
// CHECK: gpu.barrier
// CHECK: scf.if
// CHECK-COUNT-8: memref.load %[[PART]]
// CHECK: memref.store %{{.+}}, %[[OUT]]
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

// GTA decode (4 query rows per tied row) would leave 60 of a warpgroup's 64
// rows empty: it keeps the mma.sync register form on rows padded to 16.
// Its plain merge has no column slices (no combine_slices kernel).
// CHECK-LABEL: gpu.module @gta_decode_attn0
// CHECK-SAME: combine_slices = 1 : i64
// CHECK-NOT: combine_slices
// CHECK-SAME: schedule = "mma"
// CHECK-NOT: nvvm.wgmma
// CHECK: gpu.func @combine
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

// -----

// MFA-KR decode: the post-transform o + alpha (o N) is one linear map for
// every row, so the forward kernel applies it to each split's unnormalised
// outputs and the combine kernels only merge: alpha and N are forward
// arguments (before the partial outputs), not the combine's. After the
// loop, N diag(alpha) is copied where the tiles were and scaled in place,
// the outputs rounded to bf16 where the query rows were, and one more
// m64n256k16 chain (k = the 256 value columns) accumulates onto the f32
// outputs before they are stored. Without a mat-vec left, the plain merge
// also has a combine_rows of 8 rows.
// CHECK-LABEL: gpu.module @mfa_kr_decode_attn0
// CHECK-SAME: combine_rows = 8 : i64
// CHECK-SAME: combine_rows_mma = false
// CHECK-SAME: direct_output = true
// CHECK-SAME: epilogue_in = "fwd"
// CHECK-SAME: grid_merge = true
// CHECK-SAME: {dtype = "bf16", kind = "tensor", name = "alpha", shape = ["256"], strides = ["1"]}, {dtype = "bf16", kind = "tensor", name = "transform", shape = ["256", "256"], strides = ["256", "1"]}, {dtype = "f32", kind = "tensor", name = "o_part"
// CHECK-SAME: name = "fwd"
// CHECK-SAME: {dtype = "f32", kind = "tensor", name = "ml_part", shape = ["S", "B", "Tq", "64", "2"], strides = ["B*Tq*128", "Tq*128", "128", "2", "1"]}, {dtype = "bf16", kind = "tensor", name = "out"
// CHECK-SAME: name = "combine"
// CHECK-SAME: value_epilogue = "key_reuse_post"
// CHECK: gpu.func @fwd(%{{.+}}: memref<?xbf16>, %{{.+}}: memref<?xbf16>, %{{.+}}: memref<?xi32>, %[[ALPHA:.+]]: memref<?xbf16>, %[[N:.+]]: memref<?xbf16>, %{{.+}}: memref<?xf32>, %{{.+}}: memref<?xf32>, %[[ROWS:.+]]: memref<?xbf16>, %[[OUT:.+]]: memref<?xbf16>, %[[SYNC:.+]]: memref<?xi32>, %{{.+}}: index, %{{.+}}: index, %{{.+}}: index, %[[S:[a-z0-9]+]]: index, %[[MERGE:[a-z0-9]+]]: index)
// CHECK: scf.for
// CHECK: scf.yield
// CHECK: gpu.barrier
// CHECK: nvgpu.device_async_copy %[[N]]
// CHECK: nvvm.cp.async.commit.group
// CHECK: arith.truncf {{.+}} : vector<2xf32> to vector<2xbf16>
// CHECK: nvvm.cp.async.wait.group 0
// CHECK: vector.load %[[ALPHA]]
// CHECK: arith.mulf {{.+}} : vector<8xf32>
// CHECK: nvvm.fence.proxy
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: nvvm.wgmma.fence.aligned
// CHECK-COUNT-16: nvvm.wgmma.mma_async {{.+}} <m = 64, n = 256, k = 16>, D[<f32>, <one>], A[<bf16>, <one>, <row>], B[<bf16>, <one>, <row>]
// CHECK-NOT: nvvm.wgmma.mma_async
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 0
// With one split (S == 1) the outputs, normalised, go straight to `out`
// in bf16, lanes t4 and t4 ^ 1 swapping pairs so that each stores 4
// adjacent values. With more, where this launch merges in the grid, each
// split's rows normalised in bf16 the same way (o_rows: half the bytes to
// write and read back); otherwise the partial outputs as usual.
// CHECK: %[[ONE:.+]] = arith.cmpi eq, %[[S]], %c1
// CHECK: scf.if %[[ONE]]
// CHECK: arith.divf
// CHECK: gpu.shuffle  xor
// CHECK: vector.store {{.+}}, %[[OUT]][{{.+}}] {alignment = 8 : i64} : memref<?xbf16>, vector<4xbf16>
// CHECK: %[[MERGES:.+]] = arith.andi
// CHECK: scf.if %[[MERGES]]
// CHECK: arith.divf
// CHECK: gpu.shuffle  xor {{.+}}, %c1_i32{{.*}}, %c32_i32{{.*}} : i32
// CHECK: vector.bitcast {{.+}} : vector<2xi32> to vector<4xbf16>
// CHECK: vector.store {{.+}}, %[[ROWS]][{{.+}}] {alignment = 8 : i64} : memref<?xbf16>, vector<4xbf16>
// CHECK: } else {
// CHECK: vector.store {{.+}} : memref<?xf32>, vector<2xf32>
// Where the runtime launched it cooperatively (merge = 1) with S > 1, the
// block's thread 0 makes its stores visible, counts itself in (the counter
// wraps to 0 at the last of the S blocks) and waits for 0; then the block
// merges its share of the rows into `out`, 8 values a vector.
// CHECK: %[[M1:.+]] = arith.cmpi eq, %[[MERGE]], %c1
// CHECK: %[[SEVERAL:.+]] = arith.cmpi slt, %c1{{.*}}, %[[S]]
// CHECK: %[[MERGING:.+]] = arith.andi %[[M1]], %[[SEVERAL]]
// CHECK: scf.if %[[MERGING]]
// CHECK: gpu.barrier
// CHECK: memref.extract_aligned_pointer_as_index %[[SYNC]]
// CHECK: nvvm.memory.barrier <gpu>
// CHECK: llvm.atomicrmw uinc_wrap {{.+}} syncscope("device") monotonic : !llvm.ptr, i32
// CHECK: scf.while
// CHECK: llvm.load volatile
// CHECK: nvvm.memory.barrier <gpu>
// CHECK: gpu.barrier
// At most 8 splits, a thread merges whole vectors from every split's
// (max, sum) and normalised rows, loaded together.
// CHECK: arith.cmpi sle, %[[S]], %c8
// CHECK: vector.load {{.+}} : memref<?xf32>, vector<2xf32>
// CHECK: vector.load %[[ROWS]][{{.+}}] {alignment = 16 : i64} : memref<?xbf16>, vector<8xbf16>
// CHECK: arith.truncf {{.+}} : vector<8xf32> to vector<8xbf16>
// CHECK: vector.store {{.+}}, %[[OUT]][{{.+}}] {alignment = 16 : i64} : memref<?xbf16>, vector<8xbf16>
// CHECK: gpu.func @combine(%{{.+}}: memref<?xf32>, %{{.+}}: memref<?xf32>, %{{.+}}: memref<?xbf16>, %{{.+}}: index, %{{.+}}: index, %{{.+}}: index)
// CHECK: gpu.func @combine_rows(
#mfa_kr = #attn.variant<kv_form = tied, num_q_heads = 64, num_kv_heads = 1,
                        qk_head_dim = 256, v_head_dim = 256,
                        tie = #attn.tie<row = 256, key = 0 : 256, value = 0 : 256>,
                        rope = #attn.rope<placement = full_head, dim = 256>,
                        softmax_scale = 0.0625, value_epilogue = key_reuse_post>
func.func @mfa_kr_decode(%q: tensor<?x1x64x256xbf16>, %kc: tensor<?x?x1x256xbf16>,
                         %alpha: tensor<256xbf16>, %n: tensor<256x256xbf16>,
                         %valid: tensor<?xi32>) -> tensor<?x1x64x256xbf16> {
  %o = attn.attention #mfa_kr query(%q : tensor<?x1x64x256xbf16>)
         rows(%kc : tensor<?x?x1x256xbf16>) seq_lens(%valid : tensor<?xi32>)
         alpha(%alpha : tensor<256xbf16>) transform(%n : tensor<256x256xbf16>)
         -> tensor<?x1x64x256xbf16>
  return %o : tensor<?x1x64x256xbf16>
}
