// RUN: attn-opt %s -split-input-file | attn-opt -split-input-file | FileCheck %s
// RUN: attn-opt %s -split-input-file --mlir-print-op-generic | attn-opt -split-input-file | FileCheck %s

// Every op and attribute of the attn dialect, with every optional part, in
// the custom form and through the generic form.

// CHECK-DAG: #[[GQA:.+]] = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8, qk_head_dim = 128, v_head_dim = 128, rope = #{{.+}}, softmax_scale = 0.088388347648318433>
// CHECK-LABEL: func.func @gqa_decode
// CHECK: attn.attention #[[GQA]] query(%{{.*}} : tensor<4x1x32x128xbf16>) keys(%{{.*}} : tensor<4x?x8x128xbf16>) values(%{{.*}} : tensor<4x?x8x128xbf16>) seq_lens(%{{.*}} : tensor<4xi32>) -> tensor<4x1x32x128xbf16>
func.func @gqa_decode(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x128xbf16>,
                      %v: tensor<4x?x8x128xbf16>, %len: tensor<4xi32>) -> tensor<4x1x32x128xbf16> {
  %o = attn.attention #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
                                    qk_head_dim = 128, v_head_dim = 128,
                                    rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e5>,
                                    softmax_scale = 0.088388347648318433>
         query(%q : tensor<4x1x32x128xbf16>) keys(%k : tensor<4x?x8x128xbf16>)
         values(%v : tensor<4x?x8x128xbf16>) seq_lens(%len : tensor<4xi32>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

// Default mask (causal) is elided; the others print.
// CHECK-LABEL: func.func @masks
// CHECK: attn.attention {{.*}} -> tensor<2x5x4x8xf32>
// CHECK-NOT: mask = causal
// CHECK: attn.attention {{.*}} mask = none -> tensor<2x1x4x8xf32>
#v = #attn.variant<kv_form = separate, num_q_heads = 4, num_kv_heads = 2, qk_head_dim = 8,
                   v_head_dim = 8, rope = #attn.rope<placement = none>, softmax_scale = 0.35355339059327373>
func.func @masks(%q: tensor<2x5x4x8xf32>, %q1: tensor<2x1x4x8xf32>, %k: tensor<2x9x2x8xf32>,
                 %v: tensor<2x9x2x8xf32>) -> (tensor<2x5x4x8xf32>, tensor<2x1x4x8xf32>) {
  %a = attn.attention #v query(%q : tensor<2x5x4x8xf32>) keys(%k : tensor<2x9x2x8xf32>)
         values(%v : tensor<2x9x2x8xf32>) mask = causal -> tensor<2x5x4x8xf32>
  %b = attn.attention #v query(%q1 : tensor<2x1x4x8xf32>) keys(%k : tensor<2x9x2x8xf32>)
         values(%v : tensor<2x9x2x8xf32>) mask = none -> tensor<2x1x4x8xf32>
  return %a, %b : tensor<2x5x4x8xf32>, tensor<2x1x4x8xf32>
}

// -----

// Tied rows with a shared rotary key (Dao's GTA).
// CHECK-DAG: #[[ROPE:.+]] = #attn.rope<placement = q_suffix_shared_key, dim = 4, layout = interleaved, theta = 5.000000e+05>
// CHECK-DAG: #[[GTA:.+]] = #attn.variant<kv_form = tied, num_q_heads = 4, num_kv_heads = 2, qk_head_dim = 8, v_head_dim = 8, rope = #[[ROPE]], tie = <row = 8, key = 0 : 4, value = 0 : 8>, softmax_scale = 0.35355339059327373>
// CHECK-LABEL: func.func @gta
// CHECK: attn.attention #[[GTA]] query(%{{.*}} : tensor<1x7x4x8xf32>) rows(%{{.*}} : tensor<1x7x2x8xf32>) rope_keys(%{{.*}} : tensor<1x7x4xf32>) -> tensor<1x7x4x8xf32>
#gta = #attn.variant<kv_form = tied, num_q_heads = 4, num_kv_heads = 2, qk_head_dim = 8, v_head_dim = 8,
                     rope = #attn.rope<placement = q_suffix_shared_key, dim = 4, layout = interleaved, theta = 5.0e5>,
                     tie = #attn.tie<row = 8, key = 0 : 4, value = 0 : 8>,
                     softmax_scale = 0.35355339059327373>
func.func @gta(%q: tensor<1x7x4x8xf32>, %r: tensor<1x7x2x8xf32>, %kr: tensor<1x7x4xf32>) -> tensor<1x7x4x8xf32> {
  %o = attn.attention #gta query(%q : tensor<1x7x4x8xf32>) rows(%r : tensor<1x7x2x8xf32>)
         rope_keys(%kr : tensor<1x7x4xf32>) -> tensor<1x7x4x8xf32>
  return %o : tensor<1x7x4x8xf32>
}

// -----

// Latent rows, unabsorbed and absorbed, with YaRN and every yarn parameter.
// CHECK-DAG: #attn.rope<placement = decoupled_shared_key, dim = 4, yarn = <factor = 4.000000e+01, original_len = 4096, beta_fast = 1.600000e+01, beta_slow = 2.000000e+00, mscale = 7.070000e-01>>
// CHECK-DAG: #attn.variant<kv_form = latent, num_q_heads = 4, num_kv_heads = 1, qk_head_dim = 12, v_head_dim = 8, latent_dim = 16, rope = {{.+}}, softmax_scale = 0.28867513459481287, latent_norm = rms, value_epilogue = latent_up>
// CHECK-LABEL: func.func @mla
// CHECK: attn.attention #{{.+}} query(%{{.*}} : tensor<1x7x4x12xf32>) rows(%{{.*}} : tensor<1x7x1x16xf32>) rope_keys(%{{.*}} : tensor<1x7x4xf32>) up_k(%{{.*}} : tensor<4x16x8xf32>) up_v(%{{.*}} : tensor<4x16x8xf32>) -> tensor<1x7x4x8xf32>
// CHECK: attn.attention #{{.+}} query(%{{.*}} : tensor<1x1x4x20xf32>) rows(%{{.*}} : tensor<1x7x1x16xf32>) rope_keys(%{{.*}} : tensor<1x7x4xf32>) up_v(%{{.*}} : tensor<4x16x8xf32>) seq_lens(%{{.*}} : tensor<1xi64>) absorbed -> tensor<1x1x4x8xf32>
#mla = #attn.variant<kv_form = latent, num_q_heads = 4, num_kv_heads = 1, qk_head_dim = 12,
                     v_head_dim = 8, latent_dim = 16,
                     rope = #attn.rope<placement = decoupled_shared_key, dim = 4,
                                       yarn = #attn.yarn<factor = 40.0, original_len = 4096, beta_fast = 16.0,
                                                         beta_slow = 2.0, mscale = 0.707>>,
                     softmax_scale = 0.28867513459481287, latent_norm = rms, value_epilogue = latent_up>
func.func @mla(%q: tensor<1x7x4x12xf32>, %qa: tensor<1x1x4x20xf32>, %c: tensor<1x7x1x16xf32>,
               %kr: tensor<1x7x4xf32>, %uk: tensor<4x16x8xf32>, %uv: tensor<4x16x8xf32>,
               %len: tensor<1xi64>) -> (tensor<1x7x4x8xf32>, tensor<1x1x4x8xf32>) {
  %o = attn.attention #mla query(%q : tensor<1x7x4x12xf32>) rows(%c : tensor<1x7x1x16xf32>)
         rope_keys(%kr : tensor<1x7x4xf32>) up_k(%uk : tensor<4x16x8xf32>) up_v(%uv : tensor<4x16x8xf32>)
         -> tensor<1x7x4x8xf32>
  %d = attn.attention #mla query(%qa : tensor<1x1x4x20xf32>) rows(%c : tensor<1x7x1x16xf32>)
         rope_keys(%kr : tensor<1x7x4xf32>) up_v(%uv : tensor<4x16x8xf32>) seq_lens(%len : tensor<1xi64>)
         absorbed -> tensor<1x1x4x8xf32>
  return %o, %d : tensor<1x7x4x8xf32>, tensor<1x1x4x8xf32>
}

// -----

// Sun's GTA: more output heads than score maps, explicit head maps, gate and decoder.
// CHECK-DAG: #[[SUN:.+]] = #attn.variant<kv_form = separate, num_q_heads = 2, num_out_heads = 4, num_kv_heads = 1, num_v_heads = 2, qk_head_dim = 8, v_head_dim = 4, latent_dim = 8, rope = #{{.+}}, softmax_scale = 0.35355339059327373, value_epilogue = gated_latent_decoder, score_map_of_head = [0, 1, 0, 1], latent_of_head = [0, 0, 1, 1]>
// CHECK-LABEL: func.func @gta_sun
// CHECK: attn.attention #[[SUN]] query(%{{.*}} : tensor<1x7x2x8xf32>) keys(%{{.*}} : tensor<1x7x1x8xf32>) values(%{{.*}} : tensor<1x7x2x8xf32>) gate(%{{.*}} : tensor<1x7x16xf32>) decoder(%{{.*}} : tensor<4x8x4xf32>) -> tensor<1x7x4x4xf32>
#sun = #attn.variant<kv_form = separate, num_q_heads = 2, num_out_heads = 4, num_kv_heads = 1,
                     num_v_heads = 2, qk_head_dim = 8, v_head_dim = 4, latent_dim = 8,
                     rope = #attn.rope<placement = full_head, dim = 8>, softmax_scale = 0.35355339059327373,
                     value_epilogue = gated_latent_decoder,
                     score_map_of_head = [0, 1, 0, 1], latent_of_head = [0, 0, 1, 1]>
func.func @gta_sun(%q: tensor<1x7x2x8xf32>, %k: tensor<1x7x1x8xf32>, %c: tensor<1x7x2x8xf32>,
                   %g: tensor<1x7x16xf32>, %p: tensor<4x8x4xf32>) -> tensor<1x7x4x4xf32> {
  %o = attn.attention #sun query(%q : tensor<1x7x2x8xf32>) keys(%k : tensor<1x7x1x8xf32>)
         values(%c : tensor<1x7x2x8xf32>) gate(%g : tensor<1x7x16xf32>) decoder(%p : tensor<4x8x4xf32>)
         -> tensor<1x7x4x4xf32>
  return %o : tensor<1x7x4x4xf32>
}

// -----

// MFA-KR: the whole tied row is key and value, post-transform after aggregation.
// CHECK-LABEL: func.func @mfa_kr
// CHECK: attn.attention #{{.+}} query(%{{.*}} : tensor<1x7x4x16xf32>) rows(%{{.*}} : tensor<1x7x1x16xf32>) alpha(%{{.*}} : tensor<16xf32>) transform(%{{.*}} : tensor<16x16xf32>) -> tensor<1x7x4x16xf32>
#kr = #attn.variant<kv_form = tied, num_q_heads = 4, num_kv_heads = 1, qk_head_dim = 16, v_head_dim = 16,
                    rope = #attn.rope<placement = full_head, dim = 16>,
                    tie = #attn.tie<row = 16, key = 0 : 16, value = 0 : 16>,
                    softmax_scale = 0.25, value_epilogue = key_reuse_post>
func.func @mfa_kr(%q: tensor<1x7x4x16xf32>, %r: tensor<1x7x1x16xf32>, %a: tensor<16xf32>,
                  %n: tensor<16x16xf32>) -> tensor<1x7x4x16xf32> {
  %o = attn.attention #kr query(%q : tensor<1x7x4x16xf32>) rows(%r : tensor<1x7x1x16xf32>)
         alpha(%a : tensor<16xf32>) transform(%n : tensor<16x16xf32>) -> tensor<1x7x4x16xf32>
  return %o : tensor<1x7x4x16xf32>
}

// -----

// MTLA: stride, merge, slot update policy, stride-aware prefill mask.
// CHECK-DAG: #[[MTLA:.+]] = #attn.variant<kv_form = latent, num_q_heads = 4, num_kv_heads = 1, qk_head_dim = 12, v_head_dim = 8, latent_dim = 16, rope = #{{.+}}, softmax_scale = 0.28867513459481287, time_stride = 2, temporal_merge = hypernet_sigmoid_dot, cache_update = append_or_accumulate_last, slot_rope = last_in_slot, latent_norm = layer, value_epilogue = latent_up>
// CHECK-LABEL: func.func @mtla
// CHECK: attn.attention #[[MTLA]] {{.*}} mask = stride_aware_causal -> tensor<1x7x4x8xf32>
#mtla = #attn.variant<kv_form = latent, num_q_heads = 4, num_kv_heads = 1, qk_head_dim = 12,
                      v_head_dim = 8, latent_dim = 16,
                      rope = #attn.rope<placement = decoupled_shared_key, dim = 4>,
                      softmax_scale = 0.28867513459481287, time_stride = 2,
                      temporal_merge = hypernet_sigmoid_dot, cache_update = append_or_accumulate_last,
                      slot_rope = last_in_slot, latent_norm = layer, value_epilogue = latent_up>
func.func @mtla(%q: tensor<1x7x4x12xf32>, %c: tensor<1x7x1x16xf32>, %kr: tensor<1x7x4xf32>,
                %uk: tensor<4x16x8xf32>, %uv: tensor<4x16x8xf32>) -> tensor<1x7x4x8xf32> {
  %o = attn.attention #mtla query(%q : tensor<1x7x4x12xf32>) rows(%c : tensor<1x7x1x16xf32>)
         rope_keys(%kr : tensor<1x7x4xf32>) up_k(%uk : tensor<4x16x8xf32>) up_v(%uv : tensor<4x16x8xf32>)
         mask = stride_aware_causal -> tensor<1x7x4x8xf32>
  return %o : tensor<1x7x4x8xf32>
}

// -----

// CHECK-LABEL: func.func @linear
// CHECK: attn.linear %{{.*}}, %{{.*}} : tensor<2x7x32xf32>, tensor<32x4x8xf32> -> tensor<2x7x4x8xf32>
// CHECK: attn.linear %{{.*}}, %{{.*}} bias(%{{.*}} : tensor<32xf32>) contract = 2 activation = sigmoid : tensor<2x7x4x8xf32>, tensor<4x8x32xf32> -> tensor<2x7x32xf32>
func.func @linear(%x: tensor<2x7x32xf32>, %w: tensor<32x4x8xf32>, %wo: tensor<4x8x32xf32>,
                  %b: tensor<32xf32>) -> tensor<2x7x32xf32> {
  %h = attn.linear %x, %w : tensor<2x7x32xf32>, tensor<32x4x8xf32> -> tensor<2x7x4x8xf32>
  %y = attn.linear %h, %wo bias(%b : tensor<32xf32>) contract = 2 activation = sigmoid
         : tensor<2x7x4x8xf32>, tensor<4x8x32xf32> -> tensor<2x7x32xf32>
  return %y : tensor<2x7x32xf32>
}

// -----

// CHECK-LABEL: func.func @norm
// CHECK: attn.norm rms %{{.*}} : tensor<1x7x2x8xf32>
// CHECK: attn.norm layer %{{.*}} weight(%{{.*}} : tensor<8xf32>) bias(%{{.*}} : tensor<8xf32>) {epsilon = 1.000000e-05 : f64} : tensor<1x7x2x8xf32>
func.func @norm(%x: tensor<1x7x2x8xf32>, %w: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<1x7x2x8xf32> {
  %a = attn.norm rms %x : tensor<1x7x2x8xf32>
  %c = attn.norm layer %a weight(%w : tensor<8xf32>) bias(%b : tensor<8xf32>) {epsilon = 1.0e-5 : f64} : tensor<1x7x2x8xf32>
  return %c : tensor<1x7x2x8xf32>
}

// -----

// CHECK-LABEL: func.func @rope
// CHECK: attn.rope #{{.+}} %{{.*}} positions(%{{.*}} : tensor<1x7xi64>) : tensor<1x7x4x12xf32>
// CHECK: attn.rope #{{.+}} %{{.*}} positions(%{{.*}} : tensor<1x7xi32>) : tensor<1x7x4xf32>
#r = #attn.rope<placement = decoupled_shared_key, dim = 4, layout = interleaved, theta = 1.0e4>
func.func @rope(%q: tensor<1x7x4x12xf32>, %k: tensor<1x7x4xf32>, %p: tensor<1x7xi64>,
                %p32: tensor<1x7xi32>) -> (tensor<1x7x4x12xf32>, tensor<1x7x4xf32>) {
  %a = attn.rope #r %q positions(%p : tensor<1x7xi64>) : tensor<1x7x4x12xf32>
  %b = attn.rope #r %k positions(%p32 : tensor<1x7xi32>) : tensor<1x7x4xf32>
  return %a, %b : tensor<1x7x4x12xf32>, tensor<1x7x4xf32>
}

// -----

// CHECK-LABEL: func.func @mtla_layer_ops
// CHECK: attn.merge_weights %{{.*}} positions(%{{.*}} : tensor<1x7xi64>) chunk(%{{.*}}, %{{.*}} : tensor<16x4xf32>, tensor<4xf32>) token(%{{.*}}, %{{.*}} : tensor<16x4xf32>, tensor<4xf32>) time_stride = 2 : tensor<1x7x16xf32> -> tensor<1x7xf32>
// CHECK: attn.partial_slots %{{.*}} weights(%{{.*}} : tensor<1x7xf32>) positions(%{{.*}} : tensor<1x7xi64>) time_stride = 2 : tensor<1x7x16xf32>
// CHECK: attn.cache_update %{{.*}}, %{{.*}} lengths(%{{.*}} : tensor<1xi32>) weights(%{{.*}} : tensor<1x7xf32>) time_stride = 2 merge = weighted_sum : tensor<1x64x16xf32>, tensor<1x7x16xf32>
// CHECK: attn.cache_update %{{.*}}, %{{.*}} lengths(%{{.*}} : tensor<1xi32>) time_stride = 2 merge = replace : tensor<1x64x4xf32>, tensor<1x7x4xf32>
// CHECK: attn.cache_update %{{.*}}, %{{.*}} lengths(%{{.*}} : tensor<1xi32>) : tensor<1x64x4xf32>, tensor<1x7x4xf32>
func.func @mtla_layer_ops(%c: tensor<1x7x16xf32>, %kr: tensor<1x7x4xf32>, %p: tensor<1x7xi64>,
                          %wc: tensor<16x4xf32>, %bc: tensor<4xf32>, %wp: tensor<16x4xf32>,
                          %bp: tensor<4xf32>, %cc: tensor<1x64x16xf32>, %krc: tensor<1x64x4xf32>,
                          %len: tensor<1xi32>)
    -> (tensor<1x7x16xf32>, tensor<1x64x16xf32>, tensor<1x64x4xf32>, tensor<1x64x4xf32>) {
  %w = attn.merge_weights %c positions(%p : tensor<1x7xi64>) chunk(%wc, %bc : tensor<16x4xf32>, tensor<4xf32>)
         token(%wp, %bp : tensor<16x4xf32>, tensor<4xf32>) time_stride = 2 : tensor<1x7x16xf32> -> tensor<1x7xf32>
  %s = attn.partial_slots %c weights(%w : tensor<1x7xf32>) positions(%p : tensor<1x7xi64>) time_stride = 2 : tensor<1x7x16xf32>
  %cc2 = attn.cache_update %cc, %c lengths(%len : tensor<1xi32>) weights(%w : tensor<1x7xf32>)
           time_stride = 2 merge = weighted_sum : tensor<1x64x16xf32>, tensor<1x7x16xf32>
  %krc2 = attn.cache_update %krc, %kr lengths(%len : tensor<1xi32>) time_stride = 2 merge = replace
            : tensor<1x64x4xf32>, tensor<1x7x4xf32>
  %krc3 = attn.cache_update %krc, %kr lengths(%len : tensor<1xi32>) : tensor<1x64x4xf32>, tensor<1x7x4xf32>
  return %s, %cc2, %krc2, %krc3 : tensor<1x7x16xf32>, tensor<1x64x16xf32>, tensor<1x64x4xf32>, tensor<1x64x4xf32>
}
