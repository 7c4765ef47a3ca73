// GLA-2 (Grouped Latent Attention, Zadouri, Strauss and Dao), the DAO-P kernel
// benchmark shape on a DeepSeek-V2-sized model: d_model 5120, 128 query heads
// of 128 over 2 latent heads of 256, shared rotary key of 64 (half-split),
// query low rank 8 * 128 = 1024. Every projection has a bias, as in the
// released code. softmax_scale = (128 + 64)^-1/2.
// Cache: 2 * 256 + 64 = 576 elements per token (320 per device at TP 2).

#gla = #attn.variant<kv_form = latent, num_q_heads = 128, num_kv_heads = 2,
                     qk_head_dim = 192, v_head_dim = 128, latent_dim = 256,
                     rope = #attn.rope<placement = decoupled_shared_key, dim = 64>,
                     softmax_scale = 0.07216878364870322,
                     latent_norm = rms, value_epilogue = latent_up>
#rope = #attn.rope<placement = decoupled_shared_key, dim = 64>

func.func @gla_prefill(%x: tensor<?x?x5120xbf16>, %pos: tensor<?x?xi64>,
                       %cc: tensor<?x8192x2x256xbf16>, %krc: tensor<?x8192x64xbf16>,
                       %len: tensor<?xi32>,
                       %wdq: tensor<5120x1024xbf16>, %bdq: tensor<1024xbf16>,
                       %wuq: tensor<1024x128x192xbf16>, %buq: tensor<128x192xbf16>,
                       %wdkv: tensor<5120x2x256xbf16>, %bdkv: tensor<2x256xbf16>,
                       %wkr: tensor<5120x64xbf16>, %bkr: tensor<64xbf16>,
                       %uk: tensor<128x256x128xbf16>, %uv: tensor<128x256x128xbf16>,
                       %wo: tensor<128x128x5120xbf16>)
    -> (tensor<?x?x5120xbf16>, tensor<?x8192x2x256xbf16>, tensor<?x8192x64xbf16>) {
  %cq0 = attn.linear %x, %wdq bias(%bdq : tensor<1024xbf16>) : tensor<?x?x5120xbf16>, tensor<5120x1024xbf16> -> tensor<?x?x1024xbf16>
  %cq = attn.norm rms %cq0 : tensor<?x?x1024xbf16>
  %q0 = attn.linear %cq, %wuq bias(%buq : tensor<128x192xbf16>) : tensor<?x?x1024xbf16>, tensor<1024x128x192xbf16> -> tensor<?x?x128x192xbf16>
  %q = attn.rope #rope %q0 positions(%pos : tensor<?x?xi64>) : tensor<?x?x128x192xbf16>
  %a = attn.linear %x, %wdkv bias(%bdkv : tensor<2x256xbf16>) : tensor<?x?x5120xbf16>, tensor<5120x2x256xbf16> -> tensor<?x?x2x256xbf16>
  // One RMSNorm per latent head: the norm runs over the last dimension.
  %c = attn.norm rms %a : tensor<?x?x2x256xbf16>
  %r = attn.linear %x, %wkr bias(%bkr : tensor<64xbf16>) : tensor<?x?x5120xbf16>, tensor<5120x64xbf16> -> tensor<?x?x64xbf16>
  %kr = attn.rope #rope %r positions(%pos : tensor<?x?xi64>) : tensor<?x?x64xbf16>
  %cc2 = attn.cache_update %cc, %c lengths(%len : tensor<?xi32>) : tensor<?x8192x2x256xbf16>, tensor<?x?x2x256xbf16>
  %krc2 = attn.cache_update %krc, %kr lengths(%len : tensor<?xi32>) : tensor<?x8192x64xbf16>, tensor<?x?x64xbf16>
  %o = attn.attention #gla query(%q : tensor<?x?x128x192xbf16>)
         rows(%c : tensor<?x?x2x256xbf16>) rope_keys(%kr : tensor<?x?x64xbf16>)
         up_k(%uk : tensor<128x256x128xbf16>) up_v(%uv : tensor<128x256x128xbf16>)
         -> tensor<?x?x128x128xbf16>
  %y = attn.linear %o, %wo contract = 2 : tensor<?x?x128x128xbf16>, tensor<128x128x5120xbf16> -> tensor<?x?x5120xbf16>
  return %y, %cc2, %krc2 : tensor<?x?x5120xbf16>, tensor<?x8192x2x256xbf16>, tensor<?x8192x64xbf16>
}

// Absorbed decode: each latent head's 256-wide row serves its 64 query heads.
func.func @gla_decode(%q: tensor<?x1x128x320xbf16>, %c: tensor<?x?x2x256xbf16>,
                      %kr: tensor<?x?x64xbf16>, %uv: tensor<128x256x128xbf16>,
                      %valid: tensor<?xi32>) -> tensor<?x1x128x128xbf16> {
  %o = attn.attention #gla query(%q : tensor<?x1x128x320xbf16>)
         rows(%c : tensor<?x?x2x256xbf16>) rope_keys(%kr : tensor<?x?x64xbf16>)
         up_v(%uv : tensor<128x256x128xbf16>) seq_lens(%valid : tensor<?xi32>)
         absorbed -> tensor<?x1x128x128xbf16>
  return %o : tensor<?x1x128x128xbf16>
}
