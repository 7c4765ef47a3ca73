// RUN: attn-opt %s -split-input-file --attn-absorb-latent=policy=always -verify-diagnostics

// RoPE on the latent does not commute with the up-projection: refuse.
#mla = #attn.variant<kv_form = latent, num_q_heads = 4, num_kv_heads = 1, qk_head_dim = 12, v_head_dim = 8,
                     latent_dim = 16, rope = #attn.rope<placement = decoupled_shared_key, dim = 4>,
                     softmax_scale = 0.28867513459481287, value_epilogue = latent_up>
func.func @rotated_latent(%q: tensor<1x7x4x12xf32>, %c0: tensor<1x7x1x16xf32>, %pos: tensor<1x7xi64>,
                          %cache: tensor<1x64x1x16xf32>, %len: tensor<1xi32>, %kr: tensor<1x64x4xf32>,
                          %uk: tensor<4x16x8xf32>, %uv: tensor<4x16x8xf32>) -> tensor<1x7x4x8xf32> {
  // expected-note @+1 {{rotation applied here}}
  %c = attn.rope #attn.rope<placement = full_head, dim = 16> %c0 positions(%pos : tensor<1x7xi64>) : tensor<1x7x1x16xf32>
  %cache2 = attn.cache_update %cache, %c lengths(%len : tensor<1xi32>) : tensor<1x64x1x16xf32>, tensor<1x7x1x16xf32>
  // expected-error @+1 {{cannot absorb the key up-projection: the latent rows are rotated by RoPE, which does not commute with up_k}}
  %o = attn.attention #mla query(%q : tensor<1x7x4x12xf32>) rows(%cache2 : tensor<1x64x1x16xf32>)
         rope_keys(%kr : tensor<1x64x4xf32>) up_k(%uk : tensor<4x16x8xf32>) up_v(%uv : tensor<4x16x8xf32>)
         -> tensor<1x7x4x8xf32>
  return %o : tensor<1x7x4x8xf32>
}
