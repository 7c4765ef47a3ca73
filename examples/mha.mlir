// MHA, Llama-2-7B shape: d_model 4096, 32 heads of 128, RoPE over the whole
// head (half-split, theta 1e4). Cache: 2 * 32 * 128 = 8192 elements per token.

#mha = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 32,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = full_head, dim = 128>,
                     softmax_scale = 0.088388347648318433>
#rope = #attn.rope<placement = full_head, dim = 128>

// Prefill of a fresh prompt: project, rotate, attend causally, write the cache.
func.func @mha_prefill(%x: tensor<?x?x4096xbf16>, %pos: tensor<?x?xi64>,
                       %kc: tensor<?x4096x32x128xbf16>, %vc: tensor<?x4096x32x128xbf16>,
                       %len: tensor<?xi32>,
                       %wq: tensor<4096x32x128xbf16>, %wk: tensor<4096x32x128xbf16>,
                       %wv: tensor<4096x32x128xbf16>, %wo: tensor<32x128x4096xbf16>)
    -> (tensor<?x?x4096xbf16>, tensor<?x4096x32x128xbf16>, tensor<?x4096x32x128xbf16>) {
  %q0 = attn.linear %x, %wq : tensor<?x?x4096xbf16>, tensor<4096x32x128xbf16> -> tensor<?x?x32x128xbf16>
  %k0 = attn.linear %x, %wk : tensor<?x?x4096xbf16>, tensor<4096x32x128xbf16> -> tensor<?x?x32x128xbf16>
  %v = attn.linear %x, %wv : tensor<?x?x4096xbf16>, tensor<4096x32x128xbf16> -> tensor<?x?x32x128xbf16>
  %q = attn.rope #rope %q0 positions(%pos : tensor<?x?xi64>) : tensor<?x?x32x128xbf16>
  %k = attn.rope #rope %k0 positions(%pos : tensor<?x?xi64>) : tensor<?x?x32x128xbf16>
  %kc2 = attn.cache_update %kc, %k lengths(%len : tensor<?xi32>) : tensor<?x4096x32x128xbf16>, tensor<?x?x32x128xbf16>
  %vc2 = attn.cache_update %vc, %v lengths(%len : tensor<?xi32>) : tensor<?x4096x32x128xbf16>, tensor<?x?x32x128xbf16>
  %o = attn.attention #mha query(%q : tensor<?x?x32x128xbf16>)
         keys(%k : tensor<?x?x32x128xbf16>) values(%v : tensor<?x?x32x128xbf16>)
         -> tensor<?x?x32x128xbf16>
  %y = attn.linear %o, %wo contract = 2 : tensor<?x?x32x128xbf16>, tensor<32x128x4096xbf16> -> tensor<?x?x4096xbf16>
  return %y, %kc2, %vc2 : tensor<?x?x4096xbf16>, tensor<?x4096x32x128xbf16>, tensor<?x4096x32x128xbf16>
}

// One decode step over a cache whose sequences hold different numbers of rows.
func.func @mha_decode(%q: tensor<?x1x32x128xbf16>, %kc: tensor<?x?x32x128xbf16>,
                      %vc: tensor<?x?x32x128xbf16>, %valid: tensor<?xi32>)
    -> tensor<?x1x32x128xbf16> {
  %o = attn.attention #mha query(%q : tensor<?x1x32x128xbf16>)
         keys(%kc : tensor<?x?x32x128xbf16>) values(%vc : tensor<?x?x32x128xbf16>)
         seq_lens(%valid : tensor<?xi32>) -> tensor<?x1x32x128xbf16>
  return %o : tensor<?x1x32x128xbf16>
}
