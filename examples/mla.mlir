// MLA, DeepSeek-V3: d_model 7168, 128 heads, query low rank 1536, latent 512,
// non-rotary 128, rotary 64 (interleaved, YaRN factor 40), value 128.
// softmax_scale = 192^-1/2 * m^2 with m = 0.1 * ln(40) + 1 (YaRN).
// Cache: 512 + 64 = 576 elements (1152 B in bf16) per token.

#mla = #attn.variant<kv_form = latent, num_q_heads = 128, num_kv_heads = 1,
                     qk_head_dim = 192, v_head_dim = 128, latent_dim = 512,
                     rope = #attn.rope<placement = decoupled_shared_key, dim = 64,
                                       layout = interleaved,
                                       yarn = #attn.yarn<factor = 40.0, original_len = 4096>>,
                     softmax_scale = 0.1352337788608801,
                     latent_norm = rms, value_epilogue = latent_up>
#rope = #attn.rope<placement = decoupled_shared_key, dim = 64, layout = interleaved,
                   yarn = #attn.yarn<factor = 40.0, original_len = 4096>>

// Prefill, unabsorbed: keys and values are built from the latent per head.
func.func @mla_prefill(%x: tensor<?x?x7168xbf16>, %pos: tensor<?x?xi64>,
                       %cc: tensor<?x8192x1x512xbf16>, %krc: tensor<?x8192x64xbf16>,
                       %len: tensor<?xi32>,
                       %wqa: tensor<7168x1536xbf16>, %wqb: tensor<1536x128x192xbf16>,
                       %wkva: tensor<7168x1x512xbf16>, %wkr: tensor<7168x64xbf16>,
                       %uk: tensor<128x512x128xbf16>, %uv: tensor<128x512x128xbf16>,
                       %wo: tensor<128x128x7168xbf16>)
    -> (tensor<?x?x7168xbf16>, tensor<?x8192x1x512xbf16>, tensor<?x8192x64xbf16>) {
  %cq0 = attn.linear %x, %wqa : tensor<?x?x7168xbf16>, tensor<7168x1536xbf16> -> tensor<?x?x1536xbf16>
  %cq = attn.norm rms %cq0 : tensor<?x?x1536xbf16>
  %q0 = attn.linear %cq, %wqb : tensor<?x?x1536xbf16>, tensor<1536x128x192xbf16> -> tensor<?x?x128x192xbf16>
  %q = attn.rope #rope %q0 positions(%pos : tensor<?x?xi64>) : tensor<?x?x128x192xbf16>
  %a = attn.linear %x, %wkva : tensor<?x?x7168xbf16>, tensor<7168x1x512xbf16> -> tensor<?x?x1x512xbf16>
  %c = attn.norm rms %a : tensor<?x?x1x512xbf16>
  %r = attn.linear %x, %wkr : tensor<?x?x7168xbf16>, tensor<7168x64xbf16> -> tensor<?x?x64xbf16>
  %kr = attn.rope #rope %r positions(%pos : tensor<?x?xi64>) : tensor<?x?x64xbf16>
  %cc2 = attn.cache_update %cc, %c lengths(%len : tensor<?xi32>) : tensor<?x8192x1x512xbf16>, tensor<?x?x1x512xbf16>
  %krc2 = attn.cache_update %krc, %kr lengths(%len : tensor<?xi32>) : tensor<?x8192x64xbf16>, tensor<?x?x64xbf16>
  %o = attn.attention #mla query(%q : tensor<?x?x128x192xbf16>)
         rows(%c : tensor<?x?x1x512xbf16>) rope_keys(%kr : tensor<?x?x64xbf16>)
         up_k(%uk : tensor<128x512x128xbf16>) up_v(%uv : tensor<128x512x128xbf16>)
         -> tensor<?x?x128x128xbf16>
  %y = attn.linear %o, %wo contract = 2 : tensor<?x?x128x128xbf16>, tensor<128x128x7168xbf16> -> tensor<?x?x7168xbf16>
  return %y, %cc2, %krc2 : tensor<?x?x7168xbf16>, tensor<?x8192x1x512xbf16>, tensor<?x8192x64xbf16>
}

// Absorbed decode: the query is [q_nope up_k^T ; q_rope] (576 wide), one
// 576-wide latent row per token serves all 128 heads, up_v follows.
func.func @mla_decode(%q: tensor<?x1x128x576xbf16>, %c: tensor<?x?x1x512xbf16>,
                      %kr: tensor<?x?x64xbf16>, %uv: tensor<128x512x128xbf16>,
                      %valid: tensor<?xi32>) -> tensor<?x1x128x128xbf16> {
  %o = attn.attention #mla query(%q : tensor<?x1x128x576xbf16>)
         rows(%c : tensor<?x?x1x512xbf16>) rope_keys(%kr : tensor<?x?x64xbf16>)
         up_v(%uv : tensor<128x512x128xbf16>) seq_lens(%valid : tensor<?xi32>)
         absorbed -> tensor<?x1x128x128xbf16>
  return %o : tensor<?x1x128x128xbf16>
}
