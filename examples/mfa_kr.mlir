// MFA-KR (MFA with key reuse), on the Step-3 shape (hypothetical): only the
// rotated key is cached; the value is v = k + alpha * (k N). Because that map
// is linear and shared by all heads, attention runs tied (K = V = the cached
// row) and the map is applied once per head after aggregation.
// Cache: 256 elements per token.

#mfa_kr = #attn.variant<kv_form = tied, num_q_heads = 64, num_kv_heads = 1,
                        qk_head_dim = 256, v_head_dim = 256,
                        rope = #attn.rope<placement = full_head, dim = 256, theta = 5.0e5>,
                        tie = #attn.tie<row = 256, key = 0 : 256, value = 0 : 256>,
                        softmax_scale = 0.0625, value_epilogue = key_reuse_post>
#rope = #attn.rope<placement = full_head, dim = 256, theta = 5.0e5>

func.func @mfa_kr_prefill(%x: tensor<?x?x7168xbf16>, %pos: tensor<?x?xi64>,
                          %kc: tensor<?x8192x1x256xbf16>, %len: tensor<?xi32>,
                          %wqa: tensor<7168x2048xbf16>, %wqb: tensor<2048x64x256xbf16>,
                          %wk: tensor<7168x1x256xbf16>, %alpha: tensor<256xbf16>,
                          %n: tensor<256x256xbf16>, %wo: tensor<64x256x7168xbf16>)
    -> (tensor<?x?x7168xbf16>, tensor<?x8192x1x256xbf16>) {
  %cq0 = attn.linear %x, %wqa : tensor<?x?x7168xbf16>, tensor<7168x2048xbf16> -> tensor<?x?x2048xbf16>
  %cq = attn.norm rms %cq0 : tensor<?x?x2048xbf16>
  %q0 = attn.linear %cq, %wqb : tensor<?x?x2048xbf16>, tensor<2048x64x256xbf16> -> tensor<?x?x64x256xbf16>
  %q = attn.rope #rope %q0 positions(%pos : tensor<?x?xi64>) : tensor<?x?x64x256xbf16>
  %k0 = attn.linear %x, %wk : tensor<?x?x7168xbf16>, tensor<7168x1x256xbf16> -> tensor<?x?x1x256xbf16>
  %k = attn.rope #rope %k0 positions(%pos : tensor<?x?xi64>) : tensor<?x?x1x256xbf16>
  %kc2 = attn.cache_update %kc, %k lengths(%len : tensor<?xi32>) : tensor<?x8192x1x256xbf16>, tensor<?x?x1x256xbf16>
  %o = attn.attention #mfa_kr query(%q : tensor<?x?x64x256xbf16>)
         rows(%k : tensor<?x?x1x256xbf16>)
         alpha(%alpha : tensor<256xbf16>) transform(%n : tensor<256x256xbf16>)
         -> tensor<?x?x64x256xbf16>
  %y = attn.linear %o, %wo contract = 2 : tensor<?x?x64x256xbf16>, tensor<64x256x7168xbf16> -> tensor<?x?x7168xbf16>
  return %y, %kc2 : tensor<?x?x7168xbf16>, tensor<?x8192x1x256xbf16>
}

func.func @mfa_kr_decode(%q: tensor<?x1x64x256xbf16>, %kc: tensor<?x?x1x256xbf16>,
                         %alpha: tensor<256xbf16>, %n: tensor<256x256xbf16>,
                         %valid: tensor<?xi32>) -> tensor<?x1x64x256xbf16> {
  %o = attn.attention #mfa_kr query(%q : tensor<?x1x64x256xbf16>)
         rows(%kc : tensor<?x?x1x256xbf16>) seq_lens(%valid : tensor<?xi32>)
         alpha(%alpha : tensor<256xbf16>) transform(%n : tensor<256x256xbf16>)
         -> tensor<?x1x64x256xbf16>
  return %o : tensor<?x1x64x256xbf16>
}
