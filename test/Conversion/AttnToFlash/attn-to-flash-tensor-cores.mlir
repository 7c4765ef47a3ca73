// RUN: attn-opt %s -split-input-file --attn-to-flash="tensor-cores=true" | FileCheck %s
// RUN: attn-opt %s -split-input-file --attn-to-flash="tensor-cores=true no-stream-mma=true" | FileCheck %s --check-prefix=NO-STREAM-MMA
// RUN: attn-opt %s -split-input-file --attn-to-flash="tensor-cores=true stream-unroll=1" | FileCheck %s --check-prefix=UNROLL1

// MQA decode in bf16 (32 query rows per cache group, 32 FLOP/B): the mma.sync
// schedule with the softmax in registers. Two m16 row tiles per block; 4 key
// warps of 16 cache rows each make 64-row tiles, triple buffered by cp.async
// in dynamic workgroup memory. Each warp copies and waits for its own rows
// of every tile: after the query rows are in (one block barrier), the loop
// synchronises warps only with themselves. Scores stay in mma accumulators: a row's max and
// sum are reduced over the 4 lanes of a quad, the outputs are rescaled only
// when some row's max grew (a warp vote), the probabilities feed the value
// product as A fragments. The key warps merge through workgroup memory at
// the end.
// CHECK-LABEL: gpu.module @mqa_decode_attn0
// CHECK-SAME: dynamic_shared_bytes = [[BYTES:[0-9]+]] : i64, grid = ["ceildiv(32*Tq,32)", "B*1", "S"], name = "fwd"
// CHECK-SAME: dynamic_shared_bytes = 0 : i64, grid = ["32", "Tq", "B"], name = "combine"
// CHECK-SAME: rows_per_block = 32 : i64
// CHECK-SAME: schedule = "mma"
// CHECK-SAME: softmax = "registers"
// CHECK-SAME: tile_rows = 64 : i64
// CHECK: gpu.func @fwd(
// CHECK-SAME: kernel attributes {known_block_size = array<i32: 128, 1, 1>, nvvm.maxntid = array<i32: 128, 1, 1>, nvvm.minctasm = 2 : i32}
// CHECK: gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
// CHECK: nvgpu.device_async_copy {{.+}}, 8, {{.+}} {bypassL1} : memref<?xbf16> to memref<{{[0-9]+}}xbf16, #gpu.address_space<workgroup>>
// CHECK: nvvm.cp.async.commit.group
// CHECK: nvvm.cp.async.wait.group 2
// CHECK-NEXT: gpu.barrier
// CHECK: scf.for
// CHECK: nvvm.cp.async.wait.group 1
// CHECK: nvvm.bar.warp.sync
// CHECK-NOT: gpu.barrier
// CHECK: nvgpu.ldmatrix {{.+}} {numTiles = 4 : i32, transpose = false}
// CHECK: nvgpu.ldmatrix {{.+}} {numTiles = 4 : i32, transpose = false}
// CHECK: nvvm.mma.sync {{.+}} multiplicandAPtxType = #nvvm.mma_type<bf16>
// CHECK-SAME: shape = #nvvm.shape<m = 16, n = 8, k = 16>
// CHECK-NOT: gpu.barrier
// CHECK: gpu.shuffle xor
// CHECK: gpu.shuffle xor
// CHECK: math.exp2 {{.+}} fastmath<afn>
// CHECK: nvvm.vote.sync any
// CHECK: scf.if
// CHECK: arith.truncf {{.+}} : vector<2xf32> to vector<2xbf16>
// CHECK: nvgpu.ldmatrix {{.+}} {numTiles = 4 : i32, transpose = true}
// CHECK: nvvm.mma.sync
// CHECK-NOT: gpu.barrier
// CHECK: scf.yield
// CHECK: nvvm.cp.async.wait.group 0
// CHECK: gpu.barrier
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

// Absorbed MLA decode in f16 with 16 heads: the rotary stream lands beside
// the latent row in the same tile (columns 512..575); the value view is the
// latent row itself, so one 576-wide tile feeds both products. 512 value
// columns take two value warps per key slice (128 accumulators each), so
// 2 key warps make 32-row tiles. Its tensor-core combine_rows splits each
// of the 16 heads' 128 output columns over 8 blocks (16 columns, the
// up-projection's slice staged beside the 64 merged rows): 128 blocks for
// a batch of 64, each of 8 warps copying and merging, 4 of them
// multiplying.
// CHECK-LABEL: gpu.module @mla_decode_attn0
// CHECK-SAME: combine_rows_mma = true, combine_rows_overlaps = false, combine_rows_slices = 8 : i64
// CHECK-SAME: block = [256, 1, 1], dynamic_shared_bytes = 95232 : i64, grid = ["128", "Tq", "ceildiv(B,64)"], name = "combine_rows"
// CHECK-SAME: rows_per_block = 16 : i64
// CHECK-SAME: schedule = "mma"
// CHECK-SAME: softmax = "registers"
// CHECK-SAME: tile_rows = 32 : i64
// CHECK: gpu.func @fwd(
// CHECK: nvgpu.device_async_copy
// CHECK: nvgpu.device_async_copy
// CHECK: nvgpu.device_async_copy
// The two value warps of a key slice share its rows through named barrier
// 1 + slice over their 64 threads.
// CHECK: scf.for
// CHECK: nvvm.barrier id = {{%.+}} number_of_threads = %c64_i32
// CHECK: nvvm.mma.sync {{.+}} shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (vector<2xf16>, vector<2xf16>, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK: arith.truncf {{.+}} : vector<2xf32> to vector<2xf16>
// The head and the slice's first column from the block's x.
// CHECK: gpu.func @combine_rows(
// CHECK: %[[BX:.+]] = gpu.block_id  x
// CHECK: arith.divui %[[BX]], %c8
// CHECK: %[[SLICE:.+]] = arith.remui %[[BX]], %c8
// CHECK: arith.muli %[[SLICE]], %c16
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

// MFA decode (64 query rows of 256 per cache group): a whole group per
// block with no recomputed work. One m16 tile of 256 values fills a warp's
// 128 accumulators, so 4 row warps each own 16 query rows and read the same
// 32-row cache tiles (FlashAttention-2's split), double buffered for two
// blocks per SM; one key slice means the tile handoff is the block barrier.
// CHECK-LABEL: gpu.module @mfa_decode_attn0
// CHECK-SAME: rows_per_block = 64 : i64
// CHECK-SAME: softmax = "registers"
// CHECK-SAME: tile_rows = 32 : i64
// CHECK-SAME: wave_blocks_per_sm = 1 : i64
// CHECK: gpu.func @fwd(
// CHECK-SAME: known_block_size = array<i32: 128, 1, 1>
// CHECK: scf.for
// CHECK: nvvm.cp.async.wait.group 0
// CHECK-NEXT: gpu.barrier
// CHECK-NOT: gpu.barrier
// CHECK: nvvm.mma.sync
// CHECK-NOT: gpu.barrier
// CHECK: nvvm.vote.sync any
// CHECK-NOT: gpu.barrier
// CHECK: nvgpu.ldmatrix {{.+}} {numTiles = 4 : i32, transpose = true}
// CHECK-NOT: gpu.barrier
// CHECK: scf.yield
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

// MLA with 128 heads (242 FLOP/B): recomputing scores per value slice would
// make the register form compute-bound, so the warps split the scores' k
// steps and the value columns, and scores and probabilities pass through
// workgroup memory (three barriers per tile). 32 rows per block, since more
// than 4 blocks would re-read each tile.
// CHECK-LABEL: gpu.module @mla128_decode_attn0
// CHECK-SAME: rows_per_block = 32 : i64
// CHECK-SAME: schedule = "mma"
// CHECK-SAME: softmax = "workgroup"
// CHECK: gpu.func @fwd(
// CHECK: scf.for
// CHECK: gpu.barrier
// CHECK: nvvm.mma.sync
// CHECK: gpu.barrier
// CHECK: math.exp2
// CHECK: gpu.barrier
// CHECK: nvgpu.ldmatrix {{.+}} {numTiles = 2 : i32, transpose = true}
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

// GTA decode: 4 query rows per tied row are too few for the intensity
// argument, but streaming would issue two views' worth of CUDA-core work per
// loaded element; tensor cores on rows padded to 16 keep it memory-bound.
// The key view is row columns 0..63 then the shared rotary stream (tile
// columns 128..191); the value view is row columns 0..127.
// CHECK-LABEL: gpu.module @gta_decode_attn0
// CHECK-SAME: rows_per_block = 16 : i64
// CHECK-SAME: schedule = "mma"
// CHECK-SAME: softmax = "registers"
// CHECK: gpu.func @fwd(
// CHECK: nvvm.mma.sync
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

// GQA decode (4 query rows, separate 16-bit keys and values) streams its
// cache rows from global memory straight into mma.sync fragments: the query
// loaded once, then per iteration every key and value load (16 bytes each)
// before the first product, no barrier until the warps merge; with one
// split the kernel stores the result itself. Without that form
// (no-stream-mma) it streams on CUDA cores.
// NO-STREAM-MMA-LABEL: gpu.module @gqa_decode_attn0
// NO-STREAM-MMA-SAME: schedule = "streaming"
// With one 16-row step in flight (stream-unroll=1), 8 key and 8 value
// loads an iteration.
// UNROLL1-LABEL: gpu.module @gqa_decode_attn0
// UNROLL1-SAME: schedule = "mma-stream"
// UNROLL1-SAME: unroll = 1
// UNROLL1: scf.for
// UNROLL1-COUNT-8: vector.load %arg1{{.*}} vector<8xbf16>
// UNROLL1-NOT: vector.load %arg1
// UNROLL1-COUNT-8: vector.load %arg2{{.*}} vector<8xbf16>
// UNROLL1-NOT: vector.load %arg2
// UNROLL1: scf.yield
// CHECK-LABEL: gpu.module @gqa_decode_attn0
// CHECK-SAME: direct_output = true
// CHECK-SAME: grid_merge = true
// CHECK-SAME: schedule = "mma-stream"
// CHECK-SAME: unroll = 2
// CHECK: gpu.func @fwd(
// CHECK-SAME: %{{.+}}: memref<?xi32>, %{{.+}}: index, %{{.+}}: index, %{{.+}}: index, %{{.+}}: index, %{{.+}}: index)
// CHECK-SAME: workgroup(
// CHECK-SAME: known_block_size = array<i32: 256, 1, 1>
// CHECK-SAME: nvvm.minctasm = 1
// CHECK: vector.load %arg0{{.*}} vector<8xbf16>
// CHECK: scf.for
// CHECK-COUNT-16: vector.load %arg1{{.*}} vector<8xbf16>
// CHECK-COUNT-16: vector.load %arg2{{.*}} vector<8xbf16>
// CHECK-NOT: gpu.barrier
// CHECK: nvvm.mma.sync
// CHECK-NOT: gpu.barrier
// CHECK: scf.yield
// CHECK: gpu.barrier
// With grid_merge the warps' merge is followed by the splits' (its
// scratch: the warps' output buffer).
// CHECK: llvm.atomicrmw uinc_wrap
// CHECK: memref.load %{{.+}} : memref<4096xf32, #gpu.address_space<workgroup>>
#gqa = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = full_head, dim = 128>,
                     softmax_scale = 0.088388347648318433>
func.func @gqa_decode(%q: tensor<?x1x32x128xbf16>, %k: tensor<?x?x8x128xbf16>,
                      %v: tensor<?x?x8x128xbf16>) -> tensor<?x1x32x128xbf16> {
  %o = attn.attention #gqa query(%q : tensor<?x1x32x128xbf16>) keys(%k : tensor<?x?x8x128xbf16>)
         values(%v : tensor<?x?x8x128xbf16>) -> tensor<?x1x32x128xbf16>
  return %o : tensor<?x1x32x128xbf16>
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

// -----

// Keys that do not fill the lanes' 16-byte chunks (96 columns, not a
// multiple of 32) stream on CUDA cores.
// CHECK-LABEL: gpu.module @gqa96_decode_attn0
// CHECK-SAME: schedule = "streaming"
#gqa96 = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
                       qk_head_dim = 96, v_head_dim = 96,
                       rope = #attn.rope<placement = full_head, dim = 96>,
                       softmax_scale = 0.1>
func.func @gqa96_decode(%q: tensor<?x1x32x96xbf16>, %k: tensor<?x?x8x96xbf16>,
                        %v: tensor<?x?x8x96xbf16>) -> tensor<?x1x32x96xbf16> {
  %o = attn.attention #gqa96 query(%q : tensor<?x1x32x96xbf16>) keys(%k : tensor<?x?x8x96xbf16>)
         values(%v : tensor<?x?x8x96xbf16>) -> tensor<?x1x32x96xbf16>
  return %o : tensor<?x1x32x96xbf16>
}

// -----

// The lane's registers bound the rows in flight: keys and values of 192
// take one 16-row step at a time (two would spill); of 256, even one would
// spill, so those stream on CUDA cores.
// CHECK-LABEL: gpu.module @gqa192_decode_attn0
// CHECK-SAME: schedule = "mma-stream"
// CHECK-SAME: unroll = 1
// CHECK-LABEL: gpu.module @gqa256_decode_attn0
// CHECK-SAME: schedule = "streaming"
#gqa192 = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
                        qk_head_dim = 192, v_head_dim = 192,
                        rope = #attn.rope<placement = full_head, dim = 192>,
                        softmax_scale = 0.07>
func.func @gqa192_decode(%q: tensor<?x1x32x192xbf16>, %k: tensor<?x?x8x192xbf16>,
                         %v: tensor<?x?x8x192xbf16>) -> tensor<?x1x32x192xbf16> {
  %o = attn.attention #gqa192 query(%q : tensor<?x1x32x192xbf16>) keys(%k : tensor<?x?x8x192xbf16>)
         values(%v : tensor<?x?x8x192xbf16>) -> tensor<?x1x32x192xbf16>
  return %o : tensor<?x1x32x192xbf16>
}
#gqa256 = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
                        qk_head_dim = 256, v_head_dim = 256,
                        rope = #attn.rope<placement = full_head, dim = 256>,
                        softmax_scale = 0.0625>
func.func @gqa256_decode(%q: tensor<?x1x32x256xbf16>, %k: tensor<?x?x8x256xbf16>,
                         %v: tensor<?x?x8x256xbf16>) -> tensor<?x1x32x256xbf16> {
  %o = attn.attention #gqa256 query(%q : tensor<?x1x32x256xbf16>) keys(%k : tensor<?x?x8x256xbf16>)
         values(%v : tensor<?x?x8x256xbf16>) -> tensor<?x1x32x256xbf16>
  return %o : tensor<?x1x32x256xbf16>
}
