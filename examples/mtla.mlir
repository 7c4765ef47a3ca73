// MTLA (Multi-head Temporal Latent Attention), LLM-scale configuration of
// variants.md §11.4 (b): d_model 4096, 32 heads, latent 512 (LayerNorm),
// non-rotary 128, rotary 64, value 128, time stride 2 with a hypernetwork of
// width 128 deciding each token's merge weight. softmax_scale = 192^-1/2.
// Cache: (512 + 64) / 2 = 288 elements per token on average.

#mtla = #attn.variant<kv_form = latent, num_q_heads = 32, num_kv_heads = 1,
                      qk_head_dim = 192, v_head_dim = 128, latent_dim = 512,
                      rope = #attn.rope<placement = decoupled_shared_key, dim = 64>,
                      softmax_scale = 0.07216878364870322,
                      time_stride = 2, temporal_merge = hypernet_sigmoid_dot,
                      cache_update = append_or_accumulate_last, slot_rope = last_in_slot,
                      latent_norm = layer, value_epilogue = latent_up>
#rope = #attn.rope<placement = decoupled_shared_key, dim = 64>

// Prefill of a fresh prompt: every query attends over the complete slots
// before it and its own partial slot (the stride-aware mask); the cache keeps
// one merged slot per 2 tokens and the rotary key of each slot's last token.
func.func @mtla_prefill(%x: tensor<?x?x4096xbf16>, %pos: tensor<?x?xi64>,
                        %cc: tensor<?x4096x1x512xbf16>, %krc: tensor<?x4096x64xbf16>,
                        %len: tensor<?xi32>,
                        %wq: tensor<4096x32x192xbf16>, %wdkv: tensor<4096x1x512xbf16>,
                        %wkr: tensor<4096x64xbf16>,
                        %whc: tensor<512x128xbf16>, %bhc: tensor<128xbf16>,
                        %whp: tensor<512x128xbf16>, %bhp: tensor<128xbf16>,
                        %uk: tensor<32x512x128xbf16>, %uv: tensor<32x512x128xbf16>,
                        %wo: tensor<32x128x4096xbf16>)
    -> (tensor<?x?x4096xbf16>, tensor<?x4096x1x512xbf16>, tensor<?x4096x64xbf16>) {
  %q0 = attn.linear %x, %wq : tensor<?x?x4096xbf16>, tensor<4096x32x192xbf16> -> tensor<?x?x32x192xbf16>
  %q = attn.rope #rope %q0 positions(%pos : tensor<?x?xi64>) : tensor<?x?x32x192xbf16>
  %a = attn.linear %x, %wdkv : tensor<?x?x4096xbf16>, tensor<4096x1x512xbf16> -> tensor<?x?x1x512xbf16>
  %c = attn.norm layer %a {epsilon = 1.0e-5 : f64} : tensor<?x?x1x512xbf16>
  %r = attn.linear %x, %wkr : tensor<?x?x4096xbf16>, tensor<4096x64xbf16> -> tensor<?x?x64xbf16>
  %kr = attn.rope #rope %r positions(%pos : tensor<?x?xi64>) : tensor<?x?x64xbf16>
  %c3 = tensor.collapse_shape %c [[0], [1], [2, 3]] : tensor<?x?x1x512xbf16> into tensor<?x?x512xbf16>
  %w = attn.merge_weights %c3 positions(%pos : tensor<?x?xi64>)
         chunk(%whc, %bhc : tensor<512x128xbf16>, tensor<128xbf16>)
         token(%whp, %bhp : tensor<512x128xbf16>, tensor<128xbf16>)
         time_stride = 2 : tensor<?x?x512xbf16> -> tensor<?x?xbf16>
  %partial = attn.partial_slots %c weights(%w : tensor<?x?xbf16>)
               positions(%pos : tensor<?x?xi64>) time_stride = 2 : tensor<?x?x1x512xbf16>
  %cc2 = attn.cache_update %cc, %c lengths(%len : tensor<?xi32>) weights(%w : tensor<?x?xbf16>)
           time_stride = 2 merge = weighted_sum : tensor<?x4096x1x512xbf16>, tensor<?x?x1x512xbf16>
  %krc2 = attn.cache_update %krc, %kr lengths(%len : tensor<?xi32>)
            time_stride = 2 merge = replace : tensor<?x4096x64xbf16>, tensor<?x?x64xbf16>
  %o = attn.attention #mtla query(%q : tensor<?x?x32x192xbf16>)
         rows(%partial : tensor<?x?x1x512xbf16>) rope_keys(%kr : tensor<?x?x64xbf16>)
         up_k(%uk : tensor<32x512x128xbf16>) up_v(%uv : tensor<32x512x128xbf16>)
         mask = stride_aware_causal -> tensor<?x?x32x128xbf16>
  %y = attn.linear %o, %wo contract = 2 : tensor<?x?x32x128xbf16>, tensor<32x128x4096xbf16> -> tensor<?x?x4096xbf16>
  return %y, %cc2, %krc2 : tensor<?x?x4096xbf16>, tensor<?x4096x1x512xbf16>, tensor<?x4096x64xbf16>
}

// Absorbed decode over ceil(tokens / 2) slots, the last one possibly partial.
func.func @mtla_decode(%q: tensor<?x1x32x576xbf16>, %slots: tensor<?x?x1x512xbf16>,
                       %kr: tensor<?x?x64xbf16>, %uv: tensor<32x512x128xbf16>,
                       %valid: tensor<?xi32>) -> tensor<?x1x32x128xbf16> {
  %o = attn.attention #mtla query(%q : tensor<?x1x32x576xbf16>)
         rows(%slots : tensor<?x?x1x512xbf16>) rope_keys(%kr : tensor<?x?x64xbf16>)
         up_v(%uv : tensor<32x512x128xbf16>) seq_lens(%valid : tensor<?xi32>)
         absorbed -> tensor<?x1x32x128xbf16>
  return %o : tensor<?x1x32x128xbf16>
}
