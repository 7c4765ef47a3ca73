// MLA with 16 query heads (DeepSeek-V2-Lite's attention: latent 512, rotary
// 64, value 128), absorbed decode: issue 5's "16 heads >= 2.5 TB/s" shape.
// Benchmark-only: scripts/gpu-artifacts.sh compiles bench/variants/ too.

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
