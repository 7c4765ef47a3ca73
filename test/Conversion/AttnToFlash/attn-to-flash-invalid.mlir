// RUN: attn-opt %s -split-input-file --attn-to-flash -verify-diagnostics

#mla = #attn.variant<kv_form = latent, num_q_heads = 4, num_kv_heads = 1, qk_head_dim = 12, v_head_dim = 8,
                     latent_dim = 16, rope = #attn.rope<placement = decoupled_shared_key, dim = 4>,
                     softmax_scale = 0.28867513459481287, value_epilogue = latent_up>
func.func @unabsorbed(%q: tensor<1x1x4x12xf32>, %c: tensor<1x7x1x16xf32>, %kr: tensor<1x7x4xf32>,
                      %uk: tensor<4x16x8xf32>, %uv: tensor<4x16x8xf32>) -> tensor<1x1x4x8xf32> {
  // expected-error @+1 {{fused path needs the absorbed form of latent attention; run attn-absorb-latent first}}
  %o = attn.attention #mla query(%q : tensor<1x1x4x12xf32>) rows(%c : tensor<1x7x1x16xf32>)
         rope_keys(%kr : tensor<1x7x4xf32>) up_k(%uk : tensor<4x16x8xf32>) up_v(%uv : tensor<4x16x8xf32>)
         -> tensor<1x1x4x8xf32>
  return %o : tensor<1x1x4x8xf32>
}

// -----

#sun = #attn.variant<kv_form = separate, num_q_heads = 2, num_out_heads = 4, num_kv_heads = 1, num_v_heads = 2,
                     qk_head_dim = 8, v_head_dim = 4, latent_dim = 8, rope = #attn.rope<placement = full_head, dim = 8>,
                     softmax_scale = 0.35, value_epilogue = gated_latent_decoder,
                     score_map_of_head = [1, 0, 1, 0], latent_of_head = [0, 0, 1, 1]>
func.func @explicit_maps(%q: tensor<1x7x2x8xf32>, %k: tensor<1x7x1x8xf32>, %c: tensor<1x7x2x8xf32>,
                         %g: tensor<1x7x16xf32>, %p: tensor<4x8x4xf32>) -> tensor<1x7x4x4xf32> {
  // expected-error @+1 {{fused path: value heads (2) must equal key heads (1)}}
  %o = attn.attention #sun query(%q : tensor<1x7x2x8xf32>) keys(%k : tensor<1x7x1x8xf32>)
         values(%c : tensor<1x7x2x8xf32>) gate(%g : tensor<1x7x16xf32>) decoder(%p : tensor<4x8x4xf32>)
         -> tensor<1x7x4x4xf32>
  return %o : tensor<1x7x4x4xf32>
}

// -----

#sun = #attn.variant<kv_form = separate, num_q_heads = 2, num_out_heads = 4, num_kv_heads = 1, num_v_heads = 1,
                     qk_head_dim = 8, v_head_dim = 4, latent_dim = 8, rope = #attn.rope<placement = full_head, dim = 8>,
                     softmax_scale = 0.35, value_epilogue = gated_latent_decoder,
                     score_map_of_head = [1, 0, 1, 0]>
func.func @explicit_score_map(%q: tensor<1x7x2x8xf32>, %k: tensor<1x7x1x8xf32>, %c: tensor<1x7x1x8xf32>,
                              %g: tensor<1x7x16xf32>, %p: tensor<4x8x4xf32>) -> tensor<1x7x4x4xf32> {
  // expected-error @+1 {{fused path: explicit 'score_map_of_head' / 'latent_of_head' maps are not supported yet}}
  %o = attn.attention #sun query(%q : tensor<1x7x2x8xf32>) keys(%k : tensor<1x7x1x8xf32>)
         values(%c : tensor<1x7x1x8xf32>) gate(%g : tensor<1x7x16xf32>) decoder(%p : tensor<4x8x4xf32>)
         -> tensor<1x7x4x4xf32>
  return %o : tensor<1x7x4x4xf32>
}

// -----

#big = #attn.variant<kv_form = separate, num_q_heads = 1, num_kv_heads = 1, qk_head_dim = 8192, v_head_dim = 8192,
                     rope = #attn.rope<placement = none>, softmax_scale = 0.01>
func.func @too_wide(%q: tensor<1x1x1x8192xf32>, %k: tensor<1x7x1x8192xf32>, %v: tensor<1x7x1x8192xf32>)
    -> tensor<1x1x1x8192xf32> {
  // expected-error @+1 {{fused path: a 8192-wide cache row does not fit a tile in 45056 bytes of workgroup memory}}
  %o = attn.attention #big query(%q : tensor<1x1x1x8192xf32>) keys(%k : tensor<1x7x1x8192xf32>)
         values(%v : tensor<1x7x1x8192xf32>) -> tensor<1x1x1x8192xf32>
  return %o : tensor<1x1x1x8192xf32>
}

// -----

func.func @dynamic_row(%cache: tensor<1x64x?xf32>, %r: tensor<1x1x?xf32>, %len: tensor<1xi32>) -> tensor<1x64x?xf32> {
  // expected-error @+1 {{fused path: cache rows need static trailing dimensions, got 'tensor<1x64x?xf32>'}}
  %u = attn.cache_update %cache, %r lengths(%len : tensor<1xi32>) : tensor<1x64x?xf32>, tensor<1x1x?xf32>
  return %u : tensor<1x64x?xf32>
}
