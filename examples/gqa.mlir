// GQA, Llama-3-8B: d_model 4096, 32 query heads over 8 KV heads of 128, RoPE theta 5e5.
// Cache: 2 * 8 * 128 = 2048 elements (4 KiB in bf16) per token.

#gqa = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e5>,
                     softmax_scale = 0.088388347648318433>
#rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e5>

// Prefill of a fresh prompt: project, rotate, attend causally, write the cache.
func.func @gqa_prefill(%x: tensor<?x?x4096xbf16>, %pos: tensor<?x?xi64>,
                       %kc: tensor<?x8192x8x128xbf16>, %vc: tensor<?x8192x8x128xbf16>,
                       %len: tensor<?xi32>,
                       %wq: tensor<4096x32x128xbf16>, %wk: tensor<4096x8x128xbf16>,
                       %wv: tensor<4096x8x128xbf16>, %wo: tensor<32x128x4096xbf16>)
    -> (tensor<?x?x4096xbf16>, tensor<?x8192x8x128xbf16>, tensor<?x8192x8x128xbf16>) {
  %q0 = attn.linear %x, %wq : tensor<?x?x4096xbf16>, tensor<4096x32x128xbf16> -> tensor<?x?x32x128xbf16>
  %k0 = attn.linear %x, %wk : tensor<?x?x4096xbf16>, tensor<4096x8x128xbf16> -> tensor<?x?x8x128xbf16>
  %v = attn.linear %x, %wv : tensor<?x?x4096xbf16>, tensor<4096x8x128xbf16> -> tensor<?x?x8x128xbf16>
  %q = attn.rope #rope %q0 positions(%pos : tensor<?x?xi64>) : tensor<?x?x32x128xbf16>
  %k = attn.rope #rope %k0 positions(%pos : tensor<?x?xi64>) : tensor<?x?x8x128xbf16>
  %kc2 = attn.cache_update %kc, %k lengths(%len : tensor<?xi32>) : tensor<?x8192x8x128xbf16>, tensor<?x?x8x128xbf16>
  %vc2 = attn.cache_update %vc, %v lengths(%len : tensor<?xi32>) : tensor<?x8192x8x128xbf16>, tensor<?x?x8x128xbf16>
  %o = attn.attention #gqa query(%q : tensor<?x?x32x128xbf16>)
         keys(%k : tensor<?x?x8x128xbf16>) values(%v : tensor<?x?x8x128xbf16>)
         -> tensor<?x?x32x128xbf16>
  %y = attn.linear %o, %wo contract = 2 : tensor<?x?x32x128xbf16>, tensor<32x128x4096xbf16> -> tensor<?x?x4096xbf16>
  return %y, %kc2, %vc2 : tensor<?x?x4096xbf16>, tensor<?x8192x8x128xbf16>, tensor<?x8192x8x128xbf16>
}

// One decode step over a cache whose sequences hold different numbers of rows.
func.func @gqa_decode(%q: tensor<?x1x32x128xbf16>, %kc: tensor<?x?x8x128xbf16>,
                      %vc: tensor<?x?x8x128xbf16>, %valid: tensor<?xi32>)
    -> tensor<?x1x32x128xbf16> {
  %o = attn.attention #gqa query(%q : tensor<?x1x32x128xbf16>)
         keys(%kc : tensor<?x?x8x128xbf16>) values(%vc : tensor<?x?x8x128xbf16>)
         seq_lens(%valid : tensor<?xi32>) -> tensor<?x1x32x128xbf16>
  return %o : tensor<?x1x32x128xbf16>
}
