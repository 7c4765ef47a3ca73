// RUN: attn-opt %s -split-input-file --attn-to-flash | FileCheck %s

// GQA decode (one query token, 2 query heads per KV head): the streaming
// schedule. Each warp streams whole cache rows with vector loads, a score is
// a lane dot product plus a 5-step xor reduction over the warp; the warps'
// states merge in workgroup memory (4 warps x 2 rows x 32 columns). The
// plain merge has a combine_rows of 8 batch rows for large batches.
// CHECK-LABEL: gpu.module @gqa_decode_attn0
// CHECK-SAME: combine_rows = 8 : i64
// CHECK-SAME: grid = ["ceildiv(2*Tq,2)", "B*2", "S"], name = "fwd"
// CHECK-SAME: grid = ["4", "Tq", "B"], name = "combine"
// CHECK-SAME: op = "attention"
// CHECK-SAME: rows_per_block = 2 : i64
// CHECK-SAME: schedule = "streaming"
// CHECK: gpu.func @fwd(%{{.+}}: memref<?xf32>, %{{.+}}: memref<?xf32>, %{{.+}}: memref<?xf32>, %{{.+}}: memref<?xi32>, %{{.+}}: memref<?xf32>, %{{.+}}: memref<?xf32>, %{{.+}}: index, %{{.+}}: index, %{{.+}}: index, %{{.+}}: index)
// CHECK-SAME: workgroup(%{{.+}} : memref<256xf32, #gpu.address_space<workgroup>>, %{{.+}} : memref<8xf32, #gpu.address_space<workgroup>>, %{{.+}} : memref<8xf32, #gpu.address_space<workgroup>>)
// CHECK-SAME: kernel attributes {known_block_size = array<i32: 128, 1, 1>}
// CHECK: scf.for
// CHECK: vector.load
// CHECK: vector.load
// CHECK-COUNT-5: gpu.shuffle xor
// CHECK: math.exp
// CHECK: gpu.barrier
// CHECK: gpu.func @combine
#gqa = #attn.variant<kv_form = separate, num_q_heads = 4, num_kv_heads = 2, qk_head_dim = 8, v_head_dim = 8,
                     rope = #attn.rope<placement = full_head, dim = 8>, softmax_scale = 0.35355339059327373>
func.func @gqa_decode(%q: tensor<2x1x4x8xf32>, %k: tensor<2x9x2x8xf32>, %v: tensor<2x9x2x8xf32>,
                      %len: tensor<2xi32>) -> tensor<2x1x4x8xf32> {
  %o = attn.attention #gqa query(%q : tensor<2x1x4x8xf32>) keys(%k : tensor<2x9x2x8xf32>)
         values(%v : tensor<2x9x2x8xf32>) seq_lens(%len : tensor<2xi32>) -> tensor<2x1x4x8xf32>
  return %o : tensor<2x1x4x8xf32>
}

// -----

// A prefill (query tokens unknown): the tiled schedule stages 64 cache rows
// of keys and values per tile in workgroup memory for blocks of 16 query rows
// (key rows padded to 9 floats against bank conflicts).
// CHECK-LABEL: gpu.module @gqa_prefill_attn0
// CHECK-SAME: rows_per_block = 16 : i64
// CHECK-SAME: schedule = "tiled"
// CHECK-SAME: tile_rows = 64 : i64
// CHECK: gpu.func @fwd
// CHECK-SAME: workgroup(%{{.+}} : memref<128xf32, #gpu.address_space<workgroup>>, %{{.+}} : memref<576xf32, #gpu.address_space<workgroup>>, %{{.+}} : memref<1024xf32, #gpu.address_space<workgroup>>
// CHECK: gpu.barrier
// CHECK: math.exp
#gqa = #attn.variant<kv_form = separate, num_q_heads = 4, num_kv_heads = 2, qk_head_dim = 8, v_head_dim = 8,
                     rope = #attn.rope<placement = full_head, dim = 8>, softmax_scale = 0.35355339059327373>
func.func @gqa_prefill(%q: tensor<2x?x4x8xf32>, %k: tensor<2x?x2x8xf32>, %v: tensor<2x?x2x8xf32>) -> tensor<2x?x4x8xf32> {
  %o = attn.attention #gqa query(%q : tensor<2x?x4x8xf32>) keys(%k : tensor<2x?x2x8xf32>)
         values(%v : tensor<2x?x2x8xf32>) -> tensor<2x?x4x8xf32>
  return %o : tensor<2x?x4x8xf32>
}

// -----

// Tied rows: one tile holds the 8-wide row and the shared 4-wide rotary key
// (12 columns, padded to 13), read once for both the key and the value view; no separate
// value tile.
// CHECK-LABEL: gpu.module @gta_attn0
// CHECK-SAME: key_nope = 4 : i64
// CHECK-SAME: kv_form = "tied"
// CHECK-SAME: rope_dim = 4 : i64
// CHECK: gpu.func @fwd(%{{.+}}: memref<?xbf16>, %{{.+}}: memref<?xbf16>, %{{.+}}: memref<?xbf16>, %{{.+}}: memref<?xf32>, %{{.+}}: memref<?xf32>, %{{.+}}: index, %{{.+}}: index, %{{.+}}: index, %{{.+}}: index)
// CHECK-SAME: workgroup(%{{.+}} : memref<128xf32, #gpu.address_space<workgroup>>, %{{.+}} : memref<832xf32, #gpu.address_space<workgroup>>, %{{.+}} : memref<1024xf32, #gpu.address_space<workgroup>>, %{{.+}} : memref<16xf32, #gpu.address_space<workgroup>>, %{{.+}} : memref<16xf32, #gpu.address_space<workgroup>>, %{{.+}} : memref<16xf32, #gpu.address_space<workgroup>>)
// CHECK-SAME: kernel
#gta = #attn.variant<kv_form = tied, num_q_heads = 4, num_kv_heads = 2, qk_head_dim = 8, v_head_dim = 8,
                     rope = #attn.rope<placement = q_suffix_shared_key, dim = 4>,
                     tie = #attn.tie<row = 8, key = 0 : 4, value = 0 : 8>, softmax_scale = 0.35355339059327373>
func.func @gta(%q: tensor<1x?x4x8xbf16>, %r: tensor<1x?x2x8xbf16>, %kr: tensor<1x?x4xbf16>) -> tensor<1x?x4x8xbf16> {
  %o = attn.attention #gta query(%q : tensor<1x?x4x8xbf16>) rows(%r : tensor<1x?x2x8xbf16>)
         rope_keys(%kr : tensor<1x?x4xbf16>) -> tensor<1x?x4x8xbf16>
  return %o : tensor<1x?x4x8xbf16>
}

// -----

// The value epilogue runs in the combine kernel: Sun's GTA takes the gate and
// the decoder after the partials.
// CHECK-LABEL: gpu.module @gta_sun_attn0
// CHECK-SAME: value_epilogue = "gated_latent_decoder"
// CHECK: gpu.func @combine(%{{.+}}: memref<?xf32>, %{{.+}}: memref<?xf32>, %{{.+}}: memref<?xf32>, %{{.+}}: memref<?xf32>, %{{.+}}: memref<?xf32>, %{{.+}}: index, %{{.+}}: index, %{{.+}}: index)
#sun = #attn.variant<kv_form = separate, num_q_heads = 2, num_out_heads = 4, num_kv_heads = 1, num_v_heads = 1,
                     qk_head_dim = 8, v_head_dim = 4, latent_dim = 8, rope = #attn.rope<placement = full_head, dim = 8>,
                     softmax_scale = 0.35, value_epilogue = gated_latent_decoder>
func.func @gta_sun(%q: tensor<1x7x2x8xf32>, %k: tensor<1x7x1x8xf32>, %c: tensor<1x7x1x8xf32>,
                   %g: tensor<1x7x16xf32>, %p: tensor<4x8x4xf32>) -> tensor<1x7x4x4xf32> {
  %o = attn.attention #sun query(%q : tensor<1x7x2x8xf32>) keys(%k : tensor<1x7x1x8xf32>)
         values(%c : tensor<1x7x1x8xf32>) gate(%g : tensor<1x7x16xf32>) decoder(%p : tensor<4x8x4xf32>)
         -> tensor<1x7x4x4xf32>
  return %o : tensor<1x7x4x4xf32>
}

// -----

// MTLA's slot merge becomes an in-place update kernel.
// CHECK-LABEL: gpu.module @mtla_step_update0
// CHECK-SAME: merge = "weighted_sum"
// CHECK-SAME: op = "cache_update"
// CHECK-SAME: row_elements = 16 : i64
// CHECK-SAME: time_stride = 2 : i64
// CHECK: gpu.func @update(%{{.+}}: memref<?xf32>, %{{.+}}: memref<?xf32>, %{{.+}}: memref<?xi32>, %{{.+}}: memref<?xf32>, %{{.+}}: index, %{{.+}}: index, %{{.+}}: index) kernel
func.func @mtla_step(%cache: tensor<?x64x1x16xf32>, %c: tensor<?x1x1x16xf32>, %len: tensor<?xi32>,
                     %w: tensor<?x1xf32>) -> tensor<?x64x1x16xf32> {
  %u = attn.cache_update %cache, %c lengths(%len : tensor<?xi32>) weights(%w : tensor<?x1xf32>)
         time_stride = 2 merge = weighted_sum : tensor<?x64x1x16xf32>, tensor<?x1x1x16xf32>
  return %u : tensor<?x64x1x16xf32>
}

// -----

// An epilogue mat-vec gets a second combine kernel over 8 batch rows per
// block (grid ceildiv(B,8)): each 16-byte load of a head's up-projection
// serves all 8 rows, and the partial sums of the threads sharing an output
// column are added by shuffles. The runtime picks one of the two by size.
// CHECK-LABEL: gpu.module @mla_small_decode_attn0
// CHECK-SAME: combine_rows = 8 : i64
// CHECK-SAME: block = [128, 1, 1], dynamic_shared_bytes = 0 : i64, grid = ["4", "Tq", "B"], name = "combine"
// CHECK-SAME: block = [512, 1, 1], dynamic_shared_bytes = 0 : i64, grid = ["4", "Tq", "B"], name = "combine_wide"
// CHECK-SAME: block = [128, 1, 1], dynamic_shared_bytes = 0 : i64, grid = ["4", "Tq", "ceildiv(B,8)"], name = "combine_rows"
// CHECK: gpu.func @combine(
// CHECK-SAME: known_block_size = array<i32: 128, 1, 1>
// The one-row kernel on 512 threads (the runtime's choice where its blocks
// are fewer than the SMs) for the 16 vectors of 4 values of its row
// (16-byte loads): min(16, ceil(S / 4)) groups of 16 threads take every
// group-th split, 4 a step, then add their sums through workgroup memory.
// CHECK: gpu.func @combine_wide(%[[P1:[a-z0-9]+]]: memref<?xf32>,
// CHECK-SAME: %[[S1:[a-z0-9]+]]: index) workgroup(%[[SUMS:[a-z0-9]+]] : memref<1024xf32, #gpu.address_space<workgroup>>
// CHECK-SAME: known_block_size = array<i32: 512, 1, 1>
// CHECK: %[[UP:.+]] = arith.addi %[[S1]], %c3
// CHECK: %[[CEIL:.+]] = arith.divui %[[UP]], %c4
// CHECK: %[[GS:.+]] = arith.minsi %c16, %[[CEIL]]
// CHECK: %[[USED:.+]] = arith.muli %[[GS]], %c16
// CHECK: %[[ACTIVE:.+]] = arith.cmpi slt, %thread_id_x, %[[USED]]
// CHECK-COUNT-4: vector.load %[[P1]][%{{.+}}] {alignment = 16 : i64} : memref<?xf32>, vector<4xf32>
// CHECK: gpu.barrier
// CHECK: scf.for
// CHECK-COUNT-4: vector.load %[[P1]]
// CHECK: scf.if %[[ACTIVE]]
// CHECK: vector.store %{{.+}}, %[[SUMS]]
// CHECK: gpu.barrier
// CHECK: scf.for %{{.+}} = %thread_id_x to %c64{{.*}} step %c512
// CHECK: scf.for %{{.+}} = %c1{{.*}} to %[[GS]]
// CHECK: memref.load %[[SUMS]]
// CHECK: gpu.barrier
// CHECK: gpu.func @combine_rows(%[[PART:[a-z0-9]+]]: memref<?xf32>, %[[ML:[a-z0-9]+]]: memref<?xf32>,
// CHECK-SAME: workgroup(%{{.+}} : memref<512xf32, #gpu.address_space<workgroup>>, %{{.+}} : memref<1024xf32, #gpu.address_space<workgroup>>)
// The first splits' partial outputs load before the (max, sum) of the splits.
// CHECK: vector.load %[[PART]][%{{.+}}] {alignment = 16 : i64} : memref<?xf32>, vector<4xf32>
// CHECK: memref.load %[[ML]]
// CHECK-COUNT-20: gpu.shuffle xor
// CHECK: gpu.barrier
// CHECK: scf.for
// CHECK: gpu.barrier
// CHECK: scf.for
// CHECK: vector.load {{.+}} : memref<?xbf16>, vector<8xbf16>
// CHECK: math.fma
// CHECK: scf.yield
// CHECK-COUNT-5: gpu.shuffle xor
// CHECK-NOT: gpu.barrier
// CHECK: scf.if
// CHECK: arith.truncf
#mla_small = #attn.variant<kv_form = latent, num_q_heads = 4, num_kv_heads = 1,
                           qk_head_dim = 24, v_head_dim = 32, latent_dim = 64,
                           rope = #attn.rope<placement = decoupled_shared_key, dim = 8>,
                           softmax_scale = 0.2, value_epilogue = latent_up>
func.func @mla_small_decode(%q: tensor<?x1x4x72xbf16>, %c: tensor<?x?x1x64xbf16>,
                            %kr: tensor<?x?x8xbf16>, %uv: tensor<4x64x32xbf16>,
                            %valid: tensor<?xi32>) -> tensor<?x1x4x32xbf16> {
  %o = attn.attention #mla_small query(%q : tensor<?x1x4x72xbf16>)
         rows(%c : tensor<?x?x1x64xbf16>) rope_keys(%kr : tensor<?x?x8xbf16>)
         up_v(%uv : tensor<4x64x32xbf16>) seq_lens(%valid : tensor<?xi32>)
         absorbed -> tensor<?x1x4x32xbf16>
  return %o : tensor<?x1x4x32xbf16>
}
