// MFA (Multi-matrix Factorization Attention), Step-3: d_model 7168, 64 query
// heads of 256 from a low-rank (2048) RMS-normalised query, one K and one V
// head of 256, RoPE over the whole head (theta 5e5). softmax_scale = 1/16.
// Cache: 2 * 256 = 512 elements (1 KiB in bf16) per token.

#mfa = #attn.variant<kv_form = separate, num_q_heads = 64, num_kv_heads = 1,
                     qk_head_dim = 256, v_head_dim = 256,
                     rope = #attn.rope<placement = full_head, dim = 256, theta = 5.0e5>,
                     softmax_scale = 0.0625>
#rope = #attn.rope<placement = full_head, dim = 256, theta = 5.0e5>

func.func @mfa_prefill(%x: tensor<?x?x7168xbf16>, %pos: tensor<?x?xi64>,
                       %kc: tensor<?x8192x1x256xbf16>, %vc: tensor<?x8192x1x256xbf16>,
                       %len: tensor<?xi32>,
                       %wqa: tensor<7168x2048xbf16>, %wqb: tensor<2048x64x256xbf16>,
                       %wk: tensor<7168x1x256xbf16>, %wv: tensor<7168x1x256xbf16>,
                       %wo: tensor<64x256x7168xbf16>)
    -> (tensor<?x?x7168xbf16>, tensor<?x8192x1x256xbf16>, tensor<?x8192x1x256xbf16>) {
  %cq0 = attn.linear %x, %wqa : tensor<?x?x7168xbf16>, tensor<7168x2048xbf16> -> tensor<?x?x2048xbf16>
  %cq = attn.norm rms %cq0 : tensor<?x?x2048xbf16>
  %q0 = attn.linear %cq, %wqb : tensor<?x?x2048xbf16>, tensor<2048x64x256xbf16> -> tensor<?x?x64x256xbf16>
  %q = attn.rope #rope %q0 positions(%pos : tensor<?x?xi64>) : tensor<?x?x64x256xbf16>
  %k0 = attn.linear %x, %wk : tensor<?x?x7168xbf16>, tensor<7168x1x256xbf16> -> tensor<?x?x1x256xbf16>
  %k = attn.rope #rope %k0 positions(%pos : tensor<?x?xi64>) : tensor<?x?x1x256xbf16>
  %v = attn.linear %x, %wv : tensor<?x?x7168xbf16>, tensor<7168x1x256xbf16> -> tensor<?x?x1x256xbf16>
  %kc2 = attn.cache_update %kc, %k lengths(%len : tensor<?xi32>) : tensor<?x8192x1x256xbf16>, tensor<?x?x1x256xbf16>
  %vc2 = attn.cache_update %vc, %v lengths(%len : tensor<?xi32>) : tensor<?x8192x1x256xbf16>, tensor<?x?x1x256xbf16>
  %o = attn.attention #mfa query(%q : tensor<?x?x64x256xbf16>)
         keys(%k : tensor<?x?x1x256xbf16>) values(%v : tensor<?x?x1x256xbf16>)
         -> tensor<?x?x64x256xbf16>
  %y = attn.linear %o, %wo contract = 2 : tensor<?x?x64x256xbf16>, tensor<64x256x7168xbf16> -> tensor<?x?x7168xbf16>
  return %y, %kc2, %vc2 : tensor<?x?x7168xbf16>, tensor<?x8192x1x256xbf16>, tensor<?x8192x1x256xbf16>
}

func.func @mfa_decode(%q: tensor<?x1x64x256xbf16>, %kc: tensor<?x?x1x256xbf16>,
                      %vc: tensor<?x?x1x256xbf16>, %valid: tensor<?xi32>)
    -> tensor<?x1x64x256xbf16> {
  %o = attn.attention #mfa query(%q : tensor<?x1x64x256xbf16>)
         keys(%kc : tensor<?x?x1x256xbf16>) values(%vc : tensor<?x?x1x256xbf16>)
         seq_lens(%valid : tensor<?xi32>) -> tensor<?x1x64x256xbf16>
  return %o : tensor<?x1x64x256xbf16>
}
