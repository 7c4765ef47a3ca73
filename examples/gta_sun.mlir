// Sun's GTA (Grouped-head latenT Attention), GTA-1B: hidden 1280, 20 output
// heads of 64, 5 score maps (query heads of 64) over 1 key head of 64, 1
// latent value head of 128. Each output head decodes the aggregated latent
// with its own projection and a sigmoid gate of the query token's hidden
// state, after aggregation. softmax_scale = 1/8.
// Cache: 64 + 128 = 192 elements per token.

#gta_sun = #attn.variant<kv_form = separate, num_q_heads = 5, num_out_heads = 20,
                         num_kv_heads = 1, num_v_heads = 1,
                         qk_head_dim = 64, v_head_dim = 64, latent_dim = 128,
                         rope = #attn.rope<placement = full_head, dim = 64>,
                         softmax_scale = 0.125, value_epilogue = gated_latent_decoder>
#rope = #attn.rope<placement = full_head, dim = 64>

func.func @gta_sun_prefill(%x: tensor<?x?x1280xbf16>, %pos: tensor<?x?xi64>,
                           %kc: tensor<?x2048x1x64xbf16>, %vc: tensor<?x2048x1x128xbf16>,
                           %len: tensor<?xi32>,
                           %wq: tensor<1280x5x64xbf16>, %bq: tensor<5x64xbf16>,
                           %wk: tensor<1280x1x64xbf16>, %bk: tensor<1x64xbf16>,
                           %wv: tensor<1280x1x128xbf16>, %bv: tensor<1x128xbf16>,
                           %dec: tensor<20x128x64xbf16>,
                           %wg: tensor<1280x1280xbf16>, %bg: tensor<1280xbf16>,
                           %wo: tensor<20x64x1280xbf16>)
    -> (tensor<?x?x1280xbf16>, tensor<?x2048x1x64xbf16>, tensor<?x2048x1x128xbf16>) {
  %q0 = attn.linear %x, %wq bias(%bq : tensor<5x64xbf16>) : tensor<?x?x1280xbf16>, tensor<1280x5x64xbf16> -> tensor<?x?x5x64xbf16>
  %q = attn.rope #rope %q0 positions(%pos : tensor<?x?xi64>) : tensor<?x?x5x64xbf16>
  %k0 = attn.linear %x, %wk bias(%bk : tensor<1x64xbf16>) : tensor<?x?x1280xbf16>, tensor<1280x1x64xbf16> -> tensor<?x?x1x64xbf16>
  %k = attn.rope #rope %k0 positions(%pos : tensor<?x?xi64>) : tensor<?x?x1x64xbf16>
  %c = attn.linear %x, %wv bias(%bv : tensor<1x128xbf16>) : tensor<?x?x1280xbf16>, tensor<1280x1x128xbf16> -> tensor<?x?x1x128xbf16>
  %gate = attn.linear %x, %wg bias(%bg : tensor<1280xbf16>) activation = sigmoid : tensor<?x?x1280xbf16>, tensor<1280x1280xbf16> -> tensor<?x?x1280xbf16>
  %kc2 = attn.cache_update %kc, %k lengths(%len : tensor<?xi32>) : tensor<?x2048x1x64xbf16>, tensor<?x?x1x64xbf16>
  %vc2 = attn.cache_update %vc, %c lengths(%len : tensor<?xi32>) : tensor<?x2048x1x128xbf16>, tensor<?x?x1x128xbf16>
  %o = attn.attention #gta_sun query(%q : tensor<?x?x5x64xbf16>)
         keys(%k : tensor<?x?x1x64xbf16>) values(%c : tensor<?x?x1x128xbf16>)
         gate(%gate : tensor<?x?x1280xbf16>) decoder(%dec : tensor<20x128x64xbf16>)
         -> tensor<?x?x20x64xbf16>
  %y = attn.linear %o, %wo contract = 2 : tensor<?x?x20x64xbf16>, tensor<20x64x1280xbf16> -> tensor<?x?x1280xbf16>
  return %y, %kc2, %vc2 : tensor<?x?x1280xbf16>, tensor<?x2048x1x64xbf16>, tensor<?x2048x1x128xbf16>
}

func.func @gta_sun_decode(%q: tensor<?x1x5x64xbf16>, %kc: tensor<?x?x1x64xbf16>,
                          %vc: tensor<?x?x1x128xbf16>, %gate: tensor<?x1x1280xbf16>,
                          %dec: tensor<20x128x64xbf16>, %valid: tensor<?xi32>)
    -> tensor<?x1x20x64xbf16> {
  %o = attn.attention #gta_sun query(%q : tensor<?x1x5x64xbf16>)
         keys(%kc : tensor<?x?x1x64xbf16>) values(%vc : tensor<?x?x1x128xbf16>)
         seq_lens(%valid : tensor<?xi32>)
         gate(%gate : tensor<?x1x1280xbf16>) decoder(%dec : tensor<20x128x64xbf16>)
         -> tensor<?x1x20x64xbf16>
  return %o : tensor<?x1x20x64xbf16>
}
