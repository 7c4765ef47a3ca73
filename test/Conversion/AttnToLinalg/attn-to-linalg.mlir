// RUN: attn-opt %s -split-input-file --attn-to-linalg | FileCheck %s

// The structure of the exact lowering; numerics are checked on CPU against
// the float64 reference in test/Integration/CPU.

// GQA: query head m reads KV head m floordiv 2 for both scores and values;
// scores are scaled and masked by seq_lens and the bottom-right causal rule,
// then max / exp / sum / divide.
// CHECK-DAG: #[[QMAP:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// CHECK-DAG: #[[KMAP:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d3, d2 floordiv 2, d4)>
// CHECK-DAG: #[[VMAP:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d4, d2 floordiv 2, d3)>
// CHECK-LABEL: func.func @gqa_decode
// CHECK-SAME: (%[[Q:.+]]: tensor<2x1x4x8xf32>, %[[K:.+]]: tensor<2x9x2x8xf32>, %[[V:.+]]: tensor<2x9x2x8xf32>, %[[LEN:.+]]: tensor<2xi32>)
// CHECK: %[[S:.+]] = linalg.generic {indexing_maps = [#[[QMAP]], #[[KMAP]], {{.+}}], {{.*}}"reduction"]} ins(%[[Q]], %[[K]] : {{.*}}) outs(%{{.+}} : tensor<2x1x4x9xf32>)
// CHECK: %[[M:.+]] = linalg.generic {{.*}} ins(%[[S]] : tensor<2x1x4x9xf32>)
// CHECK:   tensor.extract %[[LEN]]
// CHECK:   arith.cmpi slt
// CHECK:   arith.cmpi sle
// CHECK:   arith.constant 0.353553385 : f32
// CHECK:   arith.select %{{.+}}, %{{.+}}, %{{.+}} : f32
// CHECK:   arith.maximumf
// CHECK:   math.exp
// CHECK:   arith.addf
// CHECK:   arith.divf
// CHECK: linalg.generic {indexing_maps = [#[[QMAP]], #[[VMAP]], {{.+}}], {{.*}}"reduction"]} ins(%{{.+}}, %[[V]] : tensor<2x1x4x9xf32>, tensor<2x9x2x8xf32>) outs(%{{.+}} : tensor<2x1x4x8xf32>)
// CHECK-NOT: attn.
#gqa = #attn.variant<kv_form = separate, num_q_heads = 4, num_kv_heads = 2, qk_head_dim = 8, v_head_dim = 8,
                     rope = #attn.rope<placement = full_head, dim = 8>, softmax_scale = 0.35355339059327373>
func.func @gqa_decode(%q: tensor<2x1x4x8xf32>, %k: tensor<2x9x2x8xf32>, %v: tensor<2x9x2x8xf32>,
                      %len: tensor<2xi32>) -> tensor<2x1x4x8xf32> {
  %o = attn.attention #gqa query(%q : tensor<2x1x4x8xf32>) keys(%k : tensor<2x9x2x8xf32>)
         values(%v : tensor<2x9x2x8xf32>) seq_lens(%len : tensor<2xi32>) -> tensor<2x1x4x8xf32>
  return %o : tensor<2x1x4x8xf32>
}

// -----

// bf16 storage is widened to f32, computed, and rounded once at the end.
// CHECK-LABEL: func.func @bf16_storage
// CHECK: arith.extf %{{.+}} : bf16 to f32
// CHECK: math.exp %{{.+}} : f32
// CHECK: arith.truncf %{{.+}} : f32 to bf16
// CHECK: return %{{.+}} : tensor<1x1x4x8xbf16>
#gqa = #attn.variant<kv_form = separate, num_q_heads = 4, num_kv_heads = 2, qk_head_dim = 8, v_head_dim = 8,
                     rope = #attn.rope<placement = full_head, dim = 8>, softmax_scale = 0.35355339059327373>
func.func @bf16_storage(%q: tensor<1x1x4x8xbf16>, %k: tensor<1x9x2x8xbf16>, %v: tensor<1x9x2x8xbf16>)
    -> tensor<1x1x4x8xbf16> {
  %o = attn.attention #gqa query(%q : tensor<1x1x4x8xbf16>) keys(%k : tensor<1x9x2x8xbf16>)
         values(%v : tensor<1x9x2x8xbf16>) -> tensor<1x1x4x8xbf16>
  return %o : tensor<1x1x4x8xbf16>
}

// -----

// Tied rows: the key is the row's slice 0:4 followed by the shared rotary key,
// read with clamped indices and a select; the value is the row itself.
// CHECK-LABEL: func.func @gta
// CHECK-SAME: (%[[Q:.+]]: tensor<1x7x4x8xf32>, %[[R:.+]]: tensor<1x7x2x8xf32>, %[[KR:.+]]: tensor<1x7x4xf32>)
// CHECK: %[[KEY:.+]] = linalg.generic
// CHECK:   tensor.extract %[[R]]
// CHECK:   tensor.extract %[[KR]]
// CHECK:   arith.select
// CHECK: } -> tensor<1x7x2x8xf32>
// CHECK: linalg.generic {{.*}} ins(%[[Q]], %[[KEY]] :
#gta = #attn.variant<kv_form = tied, num_q_heads = 4, num_kv_heads = 2, qk_head_dim = 8, v_head_dim = 8,
                     rope = #attn.rope<placement = q_suffix_shared_key, dim = 4>,
                     tie = #attn.tie<row = 8, key = 0 : 4, value = 0 : 8>, softmax_scale = 0.35355339059327373>
func.func @gta(%q: tensor<1x7x4x8xf32>, %r: tensor<1x7x2x8xf32>, %kr: tensor<1x7x4xf32>) -> tensor<1x7x4x8xf32> {
  %o = attn.attention #gta query(%q : tensor<1x7x4x8xf32>) rows(%r : tensor<1x7x2x8xf32>)
         rope_keys(%kr : tensor<1x7x4xf32>) -> tensor<1x7x4x8xf32>
  return %o : tensor<1x7x4x8xf32>
}

// -----

// Unabsorbed latent: per-head up-projections of the latent (latent head
// i floordiv 4 for query head i) build keys and values.
// CHECK-DAG: #[[LAT:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2 floordiv 4, d4)>
// CHECK-DAG: #[[UP:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d2, d4, d3)>
// CHECK-LABEL: func.func @mla
// CHECK-SAME: %[[C:[^:]+]]: tensor<1x7x1x16xf32>, %[[KR:[^:]+]]: tensor<1x7x4xf32>, %[[UK:[^:]+]]: tensor<4x16x8xf32>, %[[UV:[^:]+]]: tensor<4x16x8xf32>
// CHECK: linalg.generic {indexing_maps = [#[[LAT]], #[[UP]], {{.+}}]{{.*}} ins(%[[C]], %[[UK]] :
// CHECK: linalg.generic {indexing_maps = [#[[LAT]], #[[UP]], {{.+}}]{{.*}} ins(%[[C]], %[[UV]] :
#mla = #attn.variant<kv_form = latent, num_q_heads = 4, num_kv_heads = 1, qk_head_dim = 12, v_head_dim = 8,
                     latent_dim = 16, rope = #attn.rope<placement = decoupled_shared_key, dim = 4>,
                     softmax_scale = 0.28867513459481287, value_epilogue = latent_up>
func.func @mla(%q: tensor<1x7x4x12xf32>, %c: tensor<1x7x1x16xf32>, %kr: tensor<1x7x4xf32>,
               %uk: tensor<4x16x8xf32>, %uv: tensor<4x16x8xf32>) -> tensor<1x7x4x8xf32> {
  %o = attn.attention #mla query(%q : tensor<1x7x4x12xf32>) rows(%c : tensor<1x7x1x16xf32>)
         rope_keys(%kr : tensor<1x7x4xf32>) up_k(%uk : tensor<4x16x8xf32>) up_v(%uv : tensor<4x16x8xf32>)
         -> tensor<1x7x4x8xf32>
  return %o : tensor<1x7x4x8xf32>
}

// -----

// Sun's GTA: output head i aggregates map i floordiv 2, then its decoder and
// the gate columns i * 4 + e.
// CHECK-DAG: #[[GATE:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2 * 4 + d3)>
// CHECK-LABEL: func.func @gta_sun
// CHECK: linalg.generic {indexing_maps = [{{.+}}, #[[GATE]], {{.+}}]
// CHECK:   arith.mulf
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

// Layer ops: a two-dim contraction with bias and sigmoid; cache append reads
// the new row at slot - length.
// CHECK-LABEL: func.func @layer_ops
// CHECK: linalg.generic {{.*}}"reduction", "reduction"]} ins(%{{.+}}, %{{.+}} : tensor<2x7x4x8xf32>, tensor<4x8x32xf32>)
// CHECK: math.exp
// CHECK: linalg.generic
// CHECK:   tensor.extract %{{.+}} : tensor<2xi32>
// CHECK:   arith.subi
// CHECK-NOT: attn.
func.func @layer_ops(%h: tensor<2x7x4x8xf32>, %wo: tensor<4x8x32xf32>, %b: tensor<32xf32>,
                     %cache: tensor<2x16x4xf32>, %kr: tensor<2x7x4xf32>, %len: tensor<2xi32>)
    -> (tensor<2x7x32xf32>, tensor<2x16x4xf32>) {
  %y = attn.linear %h, %wo bias(%b : tensor<32xf32>) contract = 2 activation = sigmoid
         : tensor<2x7x4x8xf32>, tensor<4x8x32xf32> -> tensor<2x7x32xf32>
  %c = attn.cache_update %cache, %kr lengths(%len : tensor<2xi32>) : tensor<2x16x4xf32>, tensor<2x7x4xf32>
  return %y, %c : tensor<2x7x32xf32>, tensor<2x16x4xf32>
}
