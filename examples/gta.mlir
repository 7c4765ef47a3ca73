// GTA (Grouped-Tied Attention, Zadouri, Strauss and Dao), Llama-3-8B-shaped
// GTA-8: 32 query heads of 128 over 8 tied heads of 128, rotary width 64.
// The tied row is the value; its first 64 columns are the key's non-rotary
// part; the rotary part of the key is one stream shared by all groups.
// Cache: 8 * 128 + 64 = 1088 elements per token.

#gta = #attn.variant<kv_form = tied, num_q_heads = 32, num_kv_heads = 8,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = q_suffix_shared_key, dim = 64, theta = 5.0e5>,
                     tie = #attn.tie<row = 128, key = 0 : 64, value = 0 : 128>,
                     softmax_scale = 0.088388347648318433>
#rope = #attn.rope<placement = q_suffix_shared_key, dim = 64, theta = 5.0e5>

func.func @gta_prefill(%x: tensor<?x?x4096xbf16>, %pos: tensor<?x?xi64>,
                       %rc: tensor<?x8192x8x128xbf16>, %krc: tensor<?x8192x64xbf16>,
                       %len: tensor<?xi32>,
                       %wq: tensor<4096x32x128xbf16>, %wkv: tensor<4096x8x128xbf16>,
                       %wkr: tensor<4096x64xbf16>, %bkr: tensor<64xbf16>,
                       %wo: tensor<32x128x4096xbf16>)
    -> (tensor<?x?x4096xbf16>, tensor<?x8192x8x128xbf16>, tensor<?x8192x64xbf16>) {
  %q0 = attn.linear %x, %wq : tensor<?x?x4096xbf16>, tensor<4096x32x128xbf16> -> tensor<?x?x32x128xbf16>
  // Only the last 64 query channels rotate; the tied rows never do.
  %q = attn.rope #rope %q0 positions(%pos : tensor<?x?xi64>) : tensor<?x?x32x128xbf16>
  %kv = attn.linear %x, %wkv : tensor<?x?x4096xbf16>, tensor<4096x8x128xbf16> -> tensor<?x?x8x128xbf16>
  %r0 = attn.linear %x, %wkr bias(%bkr : tensor<64xbf16>) : tensor<?x?x4096xbf16>, tensor<4096x64xbf16> -> tensor<?x?x64xbf16>
  %kr = attn.rope #rope %r0 positions(%pos : tensor<?x?xi64>) : tensor<?x?x64xbf16>
  %rc2 = attn.cache_update %rc, %kv lengths(%len : tensor<?xi32>) : tensor<?x8192x8x128xbf16>, tensor<?x?x8x128xbf16>
  %krc2 = attn.cache_update %krc, %kr lengths(%len : tensor<?xi32>) : tensor<?x8192x64xbf16>, tensor<?x?x64xbf16>
  %o = attn.attention #gta query(%q : tensor<?x?x32x128xbf16>)
         rows(%kv : tensor<?x?x8x128xbf16>) rope_keys(%kr : tensor<?x?x64xbf16>)
         -> tensor<?x?x32x128xbf16>
  %y = attn.linear %o, %wo contract = 2 : tensor<?x?x32x128xbf16>, tensor<32x128x4096xbf16> -> tensor<?x?x4096xbf16>
  return %y, %rc2, %krc2 : tensor<?x?x4096xbf16>, tensor<?x8192x8x128xbf16>, tensor<?x8192x64xbf16>
}

// One decode step: each tied row, loaded once, is both key and value for the
// 4 query heads of its group.
func.func @gta_decode(%q: tensor<?x1x32x128xbf16>, %rows: tensor<?x?x8x128xbf16>,
                      %kr: tensor<?x?x64xbf16>, %valid: tensor<?xi32>)
    -> tensor<?x1x32x128xbf16> {
  %o = attn.attention #gta query(%q : tensor<?x1x32x128xbf16>)
         rows(%rows : tensor<?x?x8x128xbf16>) rope_keys(%kr : tensor<?x?x64xbf16>)
         seq_lens(%valid : tensor<?xi32>) -> tensor<?x1x32x128xbf16>
  return %o : tensor<?x1x32x128xbf16>
}
