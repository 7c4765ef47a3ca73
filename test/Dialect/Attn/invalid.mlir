// RUN: attn-opt %s -split-input-file -verify-diagnostics

// One case per diagnostic of the op verifiers (lib/Dialect/Attn/IR/AttnOps.cpp)
// and a few parse errors. Every case is a valid op changed in one place (an
// operand added or dropped, one type or one attribute changed).

#gqa = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
                     softmax_scale = 0.088388347648318433>
func.func @absorbed_without_latent(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x8x128xbf16>, %len: tensor<4xi32>) -> tensor<4x1x32x128xbf16> {
  // expected-error @+1 {{'absorbed' needs 'kv_form = latent', got 'separate'}}
  %o = attn.attention #gqa query(%q : tensor<4x1x32x128xbf16>)
         keys(%k : tensor<4x?x8x128xbf16>) values(%v : tensor<4x?x8x128xbf16>)
         seq_lens(%len : tensor<4xi32>) absorbed -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

#gqa = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
                     softmax_scale = 0.088388347648318433>
func.func @separate_without_keys(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x8x128xbf16>, %len: tensor<4xi32>) -> tensor<4x1x32x128xbf16> {
  // expected-error @+1 {{needs 'keys' with 'kv_form = separate'}}
  %o = attn.attention #gqa query(%q : tensor<4x1x32x128xbf16>)
         values(%v : tensor<4x?x8x128xbf16>)
         seq_lens(%len : tensor<4xi32>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

#gqa = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
                     softmax_scale = 0.088388347648318433>
func.func @separate_without_values(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x8x128xbf16>, %len: tensor<4xi32>) -> tensor<4x1x32x128xbf16> {
  // expected-error @+1 {{needs 'values' with 'kv_form = separate'}}
  %o = attn.attention #gqa query(%q : tensor<4x1x32x128xbf16>)
         keys(%k : tensor<4x?x8x128xbf16>)
         seq_lens(%len : tensor<4xi32>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

#dao_gta = #attn.variant<kv_form = tied, num_q_heads = 16, num_kv_heads = 4,
                         qk_head_dim = 128, v_head_dim = 128,
                         rope = #attn.rope<placement = q_suffix_shared_key, dim = 64>,
                         tie = #attn.tie<row = 128, key = 0 : 64, value = 0 : 128>,
                         softmax_scale = 0.088388347648318433>
func.func @tied_with_keys(%q: tensor<2x1x16x128xf32>, %rows: tensor<2x?x4x128xf32>,
    %kr: tensor<2x?x64xf32>, %k: tensor<2x?x4x128xf32>) -> tensor<2x1x16x128xf32> {
  // expected-error @+1 {{does not take 'keys' without 'kv_form = separate'}}
  %o = attn.attention #dao_gta query(%q : tensor<2x1x16x128xf32>) keys(%k : tensor<2x?x4x128xf32>)
         rows(%rows : tensor<2x?x4x128xf32>) rope_keys(%kr : tensor<2x?x64xf32>)
         -> tensor<2x1x16x128xf32>
  return %o : tensor<2x1x16x128xf32>
}

// -----

#mla = #attn.variant<kv_form = latent, num_q_heads = 16, num_kv_heads = 1,
                     qk_head_dim = 192, v_head_dim = 128, latent_dim = 512,
                     rope = #attn.rope<placement = decoupled_shared_key, dim = 64, layout = interleaved>,
                     softmax_scale = 0.072168783648703216, value_epilogue = latent_up>
func.func @latent_with_values(%q: tensor<2x1x16x192xf32>, %rows: tensor<2x?x1x512xf32>,
    %kr: tensor<2x?x64xf32>, %up_k: tensor<16x512x128xf32>,
    %up_v: tensor<16x512x128xf32>, %v: tensor<2x?x16x128xf32>) -> tensor<2x1x16x128xf32> {
  // expected-error @+1 {{does not take 'values' without 'kv_form = separate'}}
  %o = attn.attention #mla query(%q : tensor<2x1x16x192xf32>) values(%v : tensor<2x?x16x128xf32>)
         rows(%rows : tensor<2x?x1x512xf32>) rope_keys(%kr : tensor<2x?x64xf32>)
         up_k(%up_k : tensor<16x512x128xf32>) up_v(%up_v : tensor<16x512x128xf32>)
         -> tensor<2x1x16x128xf32>
  return %o : tensor<2x1x16x128xf32>
}

// -----

#dao_gta = #attn.variant<kv_form = tied, num_q_heads = 16, num_kv_heads = 4,
                         qk_head_dim = 128, v_head_dim = 128,
                         rope = #attn.rope<placement = q_suffix_shared_key, dim = 64>,
                         tie = #attn.tie<row = 128, key = 0 : 64, value = 0 : 128>,
                         softmax_scale = 0.088388347648318433>
func.func @tied_without_rows(%q: tensor<2x1x16x128xf32>, %rows: tensor<2x?x4x128xf32>,
    %kr: tensor<2x?x64xf32>) -> tensor<2x1x16x128xf32> {
  // expected-error @+1 {{needs 'rows' with 'kv_form = tied'}}
  %o = attn.attention #dao_gta query(%q : tensor<2x1x16x128xf32>)
         rope_keys(%kr : tensor<2x?x64xf32>)
         -> tensor<2x1x16x128xf32>
  return %o : tensor<2x1x16x128xf32>
}

// -----

#gqa = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
                     softmax_scale = 0.088388347648318433>
func.func @separate_with_rows(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x8x128xbf16>, %len: tensor<4xi32>, %rows: tensor<4x?x8x128xbf16>) -> tensor<4x1x32x128xbf16> {
  // expected-error @+1 {{does not take 'rows' without 'kv_form = tied' or 'kv_form = latent'}}
  %o = attn.attention #gqa query(%q : tensor<4x1x32x128xbf16>)
         keys(%k : tensor<4x?x8x128xbf16>) values(%v : tensor<4x?x8x128xbf16>) rows(%rows : tensor<4x?x8x128xbf16>)
         seq_lens(%len : tensor<4xi32>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

#dao_gta = #attn.variant<kv_form = tied, num_q_heads = 16, num_kv_heads = 4,
                         qk_head_dim = 128, v_head_dim = 128,
                         rope = #attn.rope<placement = q_suffix_shared_key, dim = 64>,
                         tie = #attn.tie<row = 128, key = 0 : 64, value = 0 : 128>,
                         softmax_scale = 0.088388347648318433>
func.func @shared_key_without_rope_keys(%q: tensor<2x1x16x128xf32>, %rows: tensor<2x?x4x128xf32>,
    %kr: tensor<2x?x64xf32>) -> tensor<2x1x16x128xf32> {
  // expected-error @+1 {{needs 'rope_keys' with a shared rotary key (rope placement 'q_suffix_shared_key' or 'decoupled_shared_key')}}
  %o = attn.attention #dao_gta query(%q : tensor<2x1x16x128xf32>)
         rows(%rows : tensor<2x?x4x128xf32>)
         -> tensor<2x1x16x128xf32>
  return %o : tensor<2x1x16x128xf32>
}

// -----

#gqa = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
                     softmax_scale = 0.088388347648318433>
func.func @full_head_with_rope_keys(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x8x128xbf16>, %len: tensor<4xi32>, %kr: tensor<4x?x64xbf16>) -> tensor<4x1x32x128xbf16> {
  // expected-error @+1 {{does not take 'rope_keys' without a shared rotary key (rope placement 'q_suffix_shared_key' or 'decoupled_shared_key')}}
  %o = attn.attention #gqa query(%q : tensor<4x1x32x128xbf16>)
         keys(%k : tensor<4x?x8x128xbf16>) values(%v : tensor<4x?x8x128xbf16>) rope_keys(%kr : tensor<4x?x64xbf16>)
         seq_lens(%len : tensor<4xi32>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

#mla = #attn.variant<kv_form = latent, num_q_heads = 16, num_kv_heads = 1,
                     qk_head_dim = 192, v_head_dim = 128, latent_dim = 512,
                     rope = #attn.rope<placement = decoupled_shared_key, dim = 64, layout = interleaved>,
                     softmax_scale = 0.072168783648703216, value_epilogue = latent_up>
func.func @latent_without_up_k(%q: tensor<2x1x16x192xf32>, %rows: tensor<2x?x1x512xf32>,
    %kr: tensor<2x?x64xf32>, %up_k: tensor<16x512x128xf32>,
    %up_v: tensor<16x512x128xf32>) -> tensor<2x1x16x128xf32> {
  // expected-error @+1 {{needs 'up_k' with 'kv_form = latent' before absorption}}
  %o = attn.attention #mla query(%q : tensor<2x1x16x192xf32>)
         rows(%rows : tensor<2x?x1x512xf32>) rope_keys(%kr : tensor<2x?x64xf32>)
         up_v(%up_v : tensor<16x512x128xf32>)
         -> tensor<2x1x16x128xf32>
  return %o : tensor<2x1x16x128xf32>
}

// -----

#mla = #attn.variant<kv_form = latent, num_q_heads = 16, num_kv_heads = 1,
                     qk_head_dim = 192, v_head_dim = 128, latent_dim = 512,
                     rope = #attn.rope<placement = decoupled_shared_key, dim = 64, layout = interleaved>,
                     softmax_scale = 0.072168783648703216, value_epilogue = latent_up>
func.func @absorbed_with_up_k(%q: tensor<2x1x16x576xf32>, %rows: tensor<2x?x1x512xf32>,
    %kr: tensor<2x?x64xf32>, %up_v: tensor<16x512x128xf32>, %up_k: tensor<16x512x128xf32>) -> tensor<2x1x16x128xf32> {
  // expected-error @+1 {{does not take 'up_k' once 'absorbed'}}
  %o = attn.attention #mla query(%q : tensor<2x1x16x576xf32>)
         rows(%rows : tensor<2x?x1x512xf32>) rope_keys(%kr : tensor<2x?x64xf32>) up_k(%up_k : tensor<16x512x128xf32>)
         up_v(%up_v : tensor<16x512x128xf32>) absorbed -> tensor<2x1x16x128xf32>
  return %o : tensor<2x1x16x128xf32>
}

// -----

#gqa = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
                     softmax_scale = 0.088388347648318433>
func.func @separate_with_up_k(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x8x128xbf16>, %len: tensor<4xi32>, %up_k: tensor<32x512x128xbf16>) -> tensor<4x1x32x128xbf16> {
  // expected-error @+1 {{does not take 'up_k' without 'kv_form = latent' before absorption}}
  %o = attn.attention #gqa query(%q : tensor<4x1x32x128xbf16>)
         keys(%k : tensor<4x?x8x128xbf16>) values(%v : tensor<4x?x8x128xbf16>) up_k(%up_k : tensor<32x512x128xbf16>)
         seq_lens(%len : tensor<4xi32>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

#mla = #attn.variant<kv_form = latent, num_q_heads = 16, num_kv_heads = 1,
                     qk_head_dim = 192, v_head_dim = 128, latent_dim = 512,
                     rope = #attn.rope<placement = decoupled_shared_key, dim = 64, layout = interleaved>,
                     softmax_scale = 0.072168783648703216, value_epilogue = latent_up>
func.func @latent_without_up_v(%q: tensor<2x1x16x192xf32>, %rows: tensor<2x?x1x512xf32>,
    %kr: tensor<2x?x64xf32>, %up_k: tensor<16x512x128xf32>,
    %up_v: tensor<16x512x128xf32>) -> tensor<2x1x16x128xf32> {
  // expected-error @+1 {{needs 'up_v' with 'kv_form = latent'}}
  %o = attn.attention #mla query(%q : tensor<2x1x16x192xf32>)
         rows(%rows : tensor<2x?x1x512xf32>) rope_keys(%kr : tensor<2x?x64xf32>)
         up_k(%up_k : tensor<16x512x128xf32>)
         -> tensor<2x1x16x128xf32>
  return %o : tensor<2x1x16x128xf32>
}

// -----

#dao_gta = #attn.variant<kv_form = tied, num_q_heads = 16, num_kv_heads = 4,
                         qk_head_dim = 128, v_head_dim = 128,
                         rope = #attn.rope<placement = q_suffix_shared_key, dim = 64>,
                         tie = #attn.tie<row = 128, key = 0 : 64, value = 0 : 128>,
                         softmax_scale = 0.088388347648318433>
func.func @tied_with_up_v(%q: tensor<2x1x16x128xf32>, %rows: tensor<2x?x4x128xf32>,
    %kr: tensor<2x?x64xf32>, %up_v: tensor<16x128x128xf32>) -> tensor<2x1x16x128xf32> {
  // expected-error @+1 {{does not take 'up_v' without 'kv_form = latent'}}
  %o = attn.attention #dao_gta query(%q : tensor<2x1x16x128xf32>)
         rows(%rows : tensor<2x?x4x128xf32>) rope_keys(%kr : tensor<2x?x64xf32>) up_v(%up_v : tensor<16x128x128xf32>)
         -> tensor<2x1x16x128xf32>
  return %o : tensor<2x1x16x128xf32>
}

// -----

// A missing required operand is reported as "needs 'X' unless ..." (it means
// "with"); the test pins the verifier's current wording.
#sun_gta = #attn.variant<kv_form = separate, num_q_heads = 4, num_out_heads = 6,
                         num_kv_heads = 2, num_v_heads = 4, qk_head_dim = 64, v_head_dim = 64,
                         latent_dim = 32, rope = #attn.rope<placement = full_head, dim = 64>,
                         softmax_scale = 0.125, value_epilogue = gated_latent_decoder,
                         score_map_of_head = [0, 0, 1, 2, 3, 3],
                         latent_of_head = [0, 1, 1, 2, 3, 3]>
func.func @gated_without_gate(%q: tensor<1x1x4x64xf32>, %k: tensor<1x?x2x64xf32>,
    %v: tensor<1x?x4x32xf32>, %gate: tensor<1x1x384xf32>,
    %dec: tensor<6x32x64xf32>) -> tensor<1x1x6x64xf32> {
  // expected-error @+1 {{needs 'gate' with 'value_epilogue = gated_latent_decoder'}}
  %o = attn.attention #sun_gta query(%q : tensor<1x1x4x64xf32>)
         keys(%k : tensor<1x?x2x64xf32>) values(%v : tensor<1x?x4x32xf32>)
         decoder(%dec : tensor<6x32x64xf32>)
         -> tensor<1x1x6x64xf32>
  return %o : tensor<1x1x6x64xf32>
}

// -----

#gqa = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
                     softmax_scale = 0.088388347648318433>
func.func @gate_without_gated_epilogue(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x8x128xbf16>, %len: tensor<4xi32>, %gate: tensor<4x1x4096xbf16>) -> tensor<4x1x32x128xbf16> {
  // expected-error @+1 {{does not take 'gate' without 'value_epilogue = gated_latent_decoder'}}
  %o = attn.attention #gqa query(%q : tensor<4x1x32x128xbf16>)
         keys(%k : tensor<4x?x8x128xbf16>) values(%v : tensor<4x?x8x128xbf16>)
         seq_lens(%len : tensor<4xi32>) gate(%gate : tensor<4x1x4096xbf16>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

#sun_gta = #attn.variant<kv_form = separate, num_q_heads = 4, num_out_heads = 6,
                         num_kv_heads = 2, num_v_heads = 4, qk_head_dim = 64, v_head_dim = 64,
                         latent_dim = 32, rope = #attn.rope<placement = full_head, dim = 64>,
                         softmax_scale = 0.125, value_epilogue = gated_latent_decoder,
                         score_map_of_head = [0, 0, 1, 2, 3, 3],
                         latent_of_head = [0, 1, 1, 2, 3, 3]>
func.func @gated_without_decoder(%q: tensor<1x1x4x64xf32>, %k: tensor<1x?x2x64xf32>,
    %v: tensor<1x?x4x32xf32>, %gate: tensor<1x1x384xf32>,
    %dec: tensor<6x32x64xf32>) -> tensor<1x1x6x64xf32> {
  // expected-error @+1 {{needs 'decoder' with 'value_epilogue = gated_latent_decoder'}}
  %o = attn.attention #sun_gta query(%q : tensor<1x1x4x64xf32>)
         keys(%k : tensor<1x?x2x64xf32>) values(%v : tensor<1x?x4x32xf32>)
         gate(%gate : tensor<1x1x384xf32>)
         -> tensor<1x1x6x64xf32>
  return %o : tensor<1x1x6x64xf32>
}

// -----

#gqa = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
                     softmax_scale = 0.088388347648318433>
func.func @decoder_without_gated_epilogue(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x8x128xbf16>, %len: tensor<4xi32>, %dec: tensor<32x128x128xbf16>) -> tensor<4x1x32x128xbf16> {
  // expected-error @+1 {{does not take 'decoder' without 'value_epilogue = gated_latent_decoder'}}
  %o = attn.attention #gqa query(%q : tensor<4x1x32x128xbf16>)
         keys(%k : tensor<4x?x8x128xbf16>) values(%v : tensor<4x?x8x128xbf16>)
         seq_lens(%len : tensor<4xi32>) decoder(%dec : tensor<32x128x128xbf16>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

#mfa_kr = #attn.variant<kv_form = tied, num_q_heads = 8, num_kv_heads = 1,
                        qk_head_dim = 64, v_head_dim = 64,
                        rope = #attn.rope<placement = full_head, dim = 64>,
                        tie = #attn.tie<row = 64, key = 0 : 64, value = 0 : 64>,
                        softmax_scale = 0.125, value_epilogue = key_reuse_post>
func.func @key_reuse_without_alpha(%q: tensor<1x1x8x64xf32>, %rows: tensor<1x?x1x64xf32>,
    %alpha: tensor<64xf32>, %n: tensor<64x64xf32>) -> tensor<1x1x8x64xf32> {
  // expected-error @+1 {{needs 'alpha' with 'value_epilogue = key_reuse_post'}}
  %o = attn.attention #mfa_kr query(%q : tensor<1x1x8x64xf32>)
         rows(%rows : tensor<1x?x1x64xf32>)
         transform(%n : tensor<64x64xf32>) -> tensor<1x1x8x64xf32>
  return %o : tensor<1x1x8x64xf32>
}

// -----

#dao_gta = #attn.variant<kv_form = tied, num_q_heads = 16, num_kv_heads = 4,
                         qk_head_dim = 128, v_head_dim = 128,
                         rope = #attn.rope<placement = q_suffix_shared_key, dim = 64>,
                         tie = #attn.tie<row = 128, key = 0 : 64, value = 0 : 128>,
                         softmax_scale = 0.088388347648318433>
func.func @alpha_without_key_reuse(%q: tensor<2x1x16x128xf32>, %rows: tensor<2x?x4x128xf32>,
    %kr: tensor<2x?x64xf32>, %alpha: tensor<128xf32>) -> tensor<2x1x16x128xf32> {
  // expected-error @+1 {{does not take 'alpha' without 'value_epilogue = key_reuse_post'}}
  %o = attn.attention #dao_gta query(%q : tensor<2x1x16x128xf32>)
         rows(%rows : tensor<2x?x4x128xf32>) rope_keys(%kr : tensor<2x?x64xf32>) alpha(%alpha : tensor<128xf32>)
         -> tensor<2x1x16x128xf32>
  return %o : tensor<2x1x16x128xf32>
}

// -----

#mfa_kr = #attn.variant<kv_form = tied, num_q_heads = 8, num_kv_heads = 1,
                        qk_head_dim = 64, v_head_dim = 64,
                        rope = #attn.rope<placement = full_head, dim = 64>,
                        tie = #attn.tie<row = 64, key = 0 : 64, value = 0 : 64>,
                        softmax_scale = 0.125, value_epilogue = key_reuse_post>
func.func @key_reuse_without_transform(%q: tensor<1x1x8x64xf32>, %rows: tensor<1x?x1x64xf32>,
    %alpha: tensor<64xf32>, %n: tensor<64x64xf32>) -> tensor<1x1x8x64xf32> {
  // expected-error @+1 {{needs 'transform' with 'value_epilogue = key_reuse_post'}}
  %o = attn.attention #mfa_kr query(%q : tensor<1x1x8x64xf32>)
         rows(%rows : tensor<1x?x1x64xf32>) alpha(%alpha : tensor<64xf32>)
         -> tensor<1x1x8x64xf32>
  return %o : tensor<1x1x8x64xf32>
}

// -----

#dao_gta = #attn.variant<kv_form = tied, num_q_heads = 16, num_kv_heads = 4,
                         qk_head_dim = 128, v_head_dim = 128,
                         rope = #attn.rope<placement = q_suffix_shared_key, dim = 64>,
                         tie = #attn.tie<row = 128, key = 0 : 64, value = 0 : 128>,
                         softmax_scale = 0.088388347648318433>
func.func @transform_without_key_reuse(%q: tensor<2x1x16x128xf32>, %rows: tensor<2x?x4x128xf32>,
    %kr: tensor<2x?x64xf32>, %n: tensor<128x128xf32>) -> tensor<2x1x16x128xf32> {
  // expected-error @+1 {{does not take 'transform' without 'value_epilogue = key_reuse_post'}}
  %o = attn.attention #dao_gta query(%q : tensor<2x1x16x128xf32>)
         rows(%rows : tensor<2x?x4x128xf32>) rope_keys(%kr : tensor<2x?x64xf32>) transform(%n : tensor<128x128xf32>)
         -> tensor<2x1x16x128xf32>
  return %o : tensor<2x1x16x128xf32>
}

// -----

// checkElementTypes prints the first operand's name through a StringRef to a
// std::string that no longer exists, so that name is not matched.
#gqa = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
                     softmax_scale = 0.088388347648318433>
func.func @keys_element_type_mismatch(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x128xf16>,
    %v: tensor<4x?x8x128xbf16>, %len: tensor<4xi32>) -> tensor<4x1x32x128xbf16> {
  // expected-error @+1 {{'keys' element type 'f16' differs from 'query' element type 'bf16'}}
  %o = attn.attention #gqa query(%q : tensor<4x1x32x128xbf16>)
         keys(%k : tensor<4x?x8x128xf16>) values(%v : tensor<4x?x8x128xbf16>)
         seq_lens(%len : tensor<4xi32>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

#gqa = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
                     softmax_scale = 0.088388347648318433>
func.func @result_element_type_mismatch(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x8x128xbf16>, %len: tensor<4xi32>) -> tensor<4x1x32x128xf32> {
  // expected-error-re @+1 {{'result' element type 'f32' differs from '{{.*}}' element type 'bf16'}}
  %o = attn.attention #gqa query(%q : tensor<4x1x32x128xbf16>)
         keys(%k : tensor<4x?x8x128xbf16>) values(%v : tensor<4x?x8x128xbf16>)
         seq_lens(%len : tensor<4xi32>) -> tensor<4x1x32x128xf32>
  return %o : tensor<4x1x32x128xf32>
}

// -----

#gqa = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
                     softmax_scale = 0.088388347648318433>
func.func @seq_lens_not_integer(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x8x128xbf16>, %len: tensor<4xf32>) -> tensor<4x1x32x128xbf16> {
  // expected-error @+1 {{operand #3 must be ranked tensor of 32-bit signless integer or 64-bit signless integer values, but got 'tensor<4xf32>'}}
  %o = attn.attention #gqa query(%q : tensor<4x1x32x128xbf16>)
         keys(%k : tensor<4x?x8x128xbf16>) values(%v : tensor<4x?x8x128xbf16>)
         seq_lens(%len : tensor<4xf32>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

#gqa = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
                     softmax_scale = 0.088388347648318433>
func.func @query_rank(%q: tensor<4x32x128xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x8x128xbf16>, %len: tensor<4xi32>) -> tensor<4x1x32x128xbf16> {
  // expected-error @+1 {{'query' must have rank 4 [batch, query tokens, num_q_heads, qk_head_dim], got 'tensor<4x32x128xbf16>'}}
  %o = attn.attention #gqa query(%q : tensor<4x32x128xbf16>)
         keys(%k : tensor<4x?x8x128xbf16>) values(%v : tensor<4x?x8x128xbf16>)
         seq_lens(%len : tensor<4xi32>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

#gqa = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
                     softmax_scale = 0.088388347648318433>
func.func @query_heads(%q: tensor<4x1x16x128xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x8x128xbf16>, %len: tensor<4xi32>) -> tensor<4x1x32x128xbf16> {
  // expected-error @+1 {{'query' dimension 2 (num_q_heads) is 16, expected 32}}
  %o = attn.attention #gqa query(%q : tensor<4x1x16x128xbf16>)
         keys(%k : tensor<4x?x8x128xbf16>) values(%v : tensor<4x?x8x128xbf16>)
         seq_lens(%len : tensor<4xi32>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

#gqa = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
                     softmax_scale = 0.088388347648318433>
func.func @query_width(%q: tensor<4x1x32x64xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x8x128xbf16>, %len: tensor<4xi32>) -> tensor<4x1x32x128xbf16> {
  // expected-error @+1 {{'query' dimension 3 (qk_head_dim) is 64, expected 128}}
  %o = attn.attention #gqa query(%q : tensor<4x1x32x64xbf16>)
         keys(%k : tensor<4x?x8x128xbf16>) values(%v : tensor<4x?x8x128xbf16>)
         seq_lens(%len : tensor<4xi32>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

#mla = #attn.variant<kv_form = latent, num_q_heads = 16, num_kv_heads = 1,
                     qk_head_dim = 192, v_head_dim = 128, latent_dim = 512,
                     rope = #attn.rope<placement = decoupled_shared_key, dim = 64, layout = interleaved>,
                     softmax_scale = 0.072168783648703216, value_epilogue = latent_up>
func.func @absorbed_query_width(%q: tensor<2x1x16x192xf32>, %rows: tensor<2x?x1x512xf32>,
    %kr: tensor<2x?x64xf32>, %up_v: tensor<16x512x128xf32>) -> tensor<2x1x16x128xf32> {
  // expected-error @+1 {{'query' dimension 3 (latent_dim + rope dim) is 192, expected 576}}
  %o = attn.attention #mla query(%q : tensor<2x1x16x192xf32>)
         rows(%rows : tensor<2x?x1x512xf32>) rope_keys(%kr : tensor<2x?x64xf32>)
         up_v(%up_v : tensor<16x512x128xf32>) absorbed -> tensor<2x1x16x128xf32>
  return %o : tensor<2x1x16x128xf32>
}

// -----

#gqa = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
                     softmax_scale = 0.088388347648318433>
func.func @keys_batch(%q: tensor<4x1x32x128xbf16>, %k: tensor<2x?x8x128xbf16>,
    %v: tensor<4x?x8x128xbf16>, %len: tensor<4xi32>) -> tensor<4x1x32x128xbf16> {
  // expected-error @+1 {{'keys' dimension 0 (batch) is 2, expected 4}}
  %o = attn.attention #gqa query(%q : tensor<4x1x32x128xbf16>)
         keys(%k : tensor<2x?x8x128xbf16>) values(%v : tensor<4x?x8x128xbf16>)
         seq_lens(%len : tensor<4xi32>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

#gqa = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
                     softmax_scale = 0.088388347648318433>
func.func @keys_heads(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x4x128xbf16>,
    %v: tensor<4x?x8x128xbf16>, %len: tensor<4xi32>) -> tensor<4x1x32x128xbf16> {
  // expected-error @+1 {{'keys' dimension 2 (num_kv_heads) is 4, expected 8}}
  %o = attn.attention #gqa query(%q : tensor<4x1x32x128xbf16>)
         keys(%k : tensor<4x?x4x128xbf16>) values(%v : tensor<4x?x8x128xbf16>)
         seq_lens(%len : tensor<4xi32>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

#gqa = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
                     softmax_scale = 0.088388347648318433>
func.func @keys_width(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x64xbf16>,
    %v: tensor<4x?x8x128xbf16>, %len: tensor<4xi32>) -> tensor<4x1x32x128xbf16> {
  // expected-error @+1 {{'keys' dimension 3 (qk_head_dim) is 64, expected 128}}
  %o = attn.attention #gqa query(%q : tensor<4x1x32x128xbf16>)
         keys(%k : tensor<4x?x8x64xbf16>) values(%v : tensor<4x?x8x128xbf16>)
         seq_lens(%len : tensor<4xi32>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

#gqa = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
                     softmax_scale = 0.088388347648318433>
func.func @values_heads(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x4x128xbf16>, %len: tensor<4xi32>) -> tensor<4x1x32x128xbf16> {
  // expected-error @+1 {{'values' dimension 2 (num_v_heads) is 4, expected 8}}
  %o = attn.attention #gqa query(%q : tensor<4x1x32x128xbf16>)
         keys(%k : tensor<4x?x8x128xbf16>) values(%v : tensor<4x?x4x128xbf16>)
         seq_lens(%len : tensor<4xi32>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

#gqa = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
                     softmax_scale = 0.088388347648318433>
func.func @values_width(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x8x64xbf16>, %len: tensor<4xi32>) -> tensor<4x1x32x128xbf16> {
  // expected-error @+1 {{'values' dimension 3 (v_head_dim) is 64, expected 128}}
  %o = attn.attention #gqa query(%q : tensor<4x1x32x128xbf16>)
         keys(%k : tensor<4x?x8x128xbf16>) values(%v : tensor<4x?x8x64xbf16>)
         seq_lens(%len : tensor<4xi32>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

#gqa = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
                     softmax_scale = 0.088388347648318433>
func.func @values_rows_differ_from_keys(%q: tensor<1x8x32x128xbf16>, %k: tensor<1x8x8x128xbf16>,
    %v: tensor<1x16x8x128xbf16>) -> tensor<1x8x32x128xbf16> {
  // expected-error @+1 {{'values' dimension 1 (cache rows) is 16, expected 8}}
  %o = attn.attention #gqa query(%q : tensor<1x8x32x128xbf16>)
         keys(%k : tensor<1x8x8x128xbf16>) values(%v : tensor<1x16x8x128xbf16>)
         mask = causal -> tensor<1x8x32x128xbf16>
  return %o : tensor<1x8x32x128xbf16>
}

// -----

#sun_gta = #attn.variant<kv_form = separate, num_q_heads = 4, num_out_heads = 6,
                         num_kv_heads = 2, num_v_heads = 4, qk_head_dim = 64, v_head_dim = 64,
                         latent_dim = 32, rope = #attn.rope<placement = full_head, dim = 64>,
                         softmax_scale = 0.125, value_epilogue = gated_latent_decoder,
                         score_map_of_head = [0, 0, 1, 2, 3, 3],
                         latent_of_head = [0, 1, 1, 2, 3, 3]>
func.func @gated_values_width(%q: tensor<1x1x4x64xf32>, %k: tensor<1x?x2x64xf32>,
    %v: tensor<1x?x4x64xf32>, %gate: tensor<1x1x384xf32>,
    %dec: tensor<6x32x64xf32>) -> tensor<1x1x6x64xf32> {
  // expected-error @+1 {{'values' dimension 3 (latent_dim) is 64, expected 32}}
  %o = attn.attention #sun_gta query(%q : tensor<1x1x4x64xf32>)
         keys(%k : tensor<1x?x2x64xf32>) values(%v : tensor<1x?x4x64xf32>)
         gate(%gate : tensor<1x1x384xf32>) decoder(%dec : tensor<6x32x64xf32>)
         -> tensor<1x1x6x64xf32>
  return %o : tensor<1x1x6x64xf32>
}

// -----

#dao_gta = #attn.variant<kv_form = tied, num_q_heads = 16, num_kv_heads = 4,
                         qk_head_dim = 128, v_head_dim = 128,
                         rope = #attn.rope<placement = q_suffix_shared_key, dim = 64>,
                         tie = #attn.tie<row = 128, key = 0 : 64, value = 0 : 128>,
                         softmax_scale = 0.088388347648318433>
func.func @tied_rows_width(%q: tensor<2x1x16x128xf32>, %rows: tensor<2x?x4x64xf32>,
    %kr: tensor<2x?x64xf32>) -> tensor<2x1x16x128xf32> {
  // expected-error @+1 {{'rows' dimension 3 (tie row) is 64, expected 128}}
  %o = attn.attention #dao_gta query(%q : tensor<2x1x16x128xf32>)
         rows(%rows : tensor<2x?x4x64xf32>) rope_keys(%kr : tensor<2x?x64xf32>)
         -> tensor<2x1x16x128xf32>
  return %o : tensor<2x1x16x128xf32>
}

// -----

#mla = #attn.variant<kv_form = latent, num_q_heads = 16, num_kv_heads = 1,
                     qk_head_dim = 192, v_head_dim = 128, latent_dim = 512,
                     rope = #attn.rope<placement = decoupled_shared_key, dim = 64, layout = interleaved>,
                     softmax_scale = 0.072168783648703216, value_epilogue = latent_up>
func.func @latent_rows_width(%q: tensor<2x1x16x192xf32>, %rows: tensor<2x?x1x256xf32>,
    %kr: tensor<2x?x64xf32>, %up_k: tensor<16x512x128xf32>,
    %up_v: tensor<16x512x128xf32>) -> tensor<2x1x16x128xf32> {
  // expected-error @+1 {{'rows' dimension 3 (latent_dim) is 256, expected 512}}
  %o = attn.attention #mla query(%q : tensor<2x1x16x192xf32>)
         rows(%rows : tensor<2x?x1x256xf32>) rope_keys(%kr : tensor<2x?x64xf32>)
         up_k(%up_k : tensor<16x512x128xf32>) up_v(%up_v : tensor<16x512x128xf32>)
         -> tensor<2x1x16x128xf32>
  return %o : tensor<2x1x16x128xf32>
}

// -----

#mla = #attn.variant<kv_form = latent, num_q_heads = 16, num_kv_heads = 1,
                     qk_head_dim = 192, v_head_dim = 128, latent_dim = 512,
                     rope = #attn.rope<placement = decoupled_shared_key, dim = 64, layout = interleaved>,
                     softmax_scale = 0.072168783648703216, value_epilogue = latent_up>
func.func @latent_rows_rank(%q: tensor<2x1x16x192xf32>, %rows: tensor<2x?x512xf32>,
    %kr: tensor<2x?x64xf32>, %up_k: tensor<16x512x128xf32>,
    %up_v: tensor<16x512x128xf32>) -> tensor<2x1x16x128xf32> {
  // expected-error @+1 {{'rows' must have rank 4 [batch, cache rows, num_kv_heads, latent_dim], got 'tensor<2x?x512xf32>'}}
  %o = attn.attention #mla query(%q : tensor<2x1x16x192xf32>)
         rows(%rows : tensor<2x?x512xf32>) rope_keys(%kr : tensor<2x?x64xf32>)
         up_k(%up_k : tensor<16x512x128xf32>) up_v(%up_v : tensor<16x512x128xf32>)
         -> tensor<2x1x16x128xf32>
  return %o : tensor<2x1x16x128xf32>
}

// -----

#dao_gta = #attn.variant<kv_form = tied, num_q_heads = 16, num_kv_heads = 4,
                         qk_head_dim = 128, v_head_dim = 128,
                         rope = #attn.rope<placement = q_suffix_shared_key, dim = 64>,
                         tie = #attn.tie<row = 128, key = 0 : 64, value = 0 : 128>,
                         softmax_scale = 0.088388347648318433>
func.func @rope_keys_width(%q: tensor<2x1x16x128xf32>, %rows: tensor<2x?x4x128xf32>,
    %kr: tensor<2x?x32xf32>) -> tensor<2x1x16x128xf32> {
  // expected-error @+1 {{'rope_keys' dimension 2 (rope dim) is 32, expected 64}}
  %o = attn.attention #dao_gta query(%q : tensor<2x1x16x128xf32>)
         rows(%rows : tensor<2x?x4x128xf32>) rope_keys(%kr : tensor<2x?x32xf32>)
         -> tensor<2x1x16x128xf32>
  return %o : tensor<2x1x16x128xf32>
}

// -----

#mla = #attn.variant<kv_form = latent, num_q_heads = 16, num_kv_heads = 1,
                     qk_head_dim = 192, v_head_dim = 128, latent_dim = 512,
                     rope = #attn.rope<placement = decoupled_shared_key, dim = 64, layout = interleaved>,
                     softmax_scale = 0.072168783648703216, value_epilogue = latent_up>
func.func @rope_keys_rank(%q: tensor<2x1x16x192xf32>, %rows: tensor<2x?x1x512xf32>,
    %kr: tensor<2x?x1x64xf32>, %up_k: tensor<16x512x128xf32>,
    %up_v: tensor<16x512x128xf32>) -> tensor<2x1x16x128xf32> {
  // expected-error @+1 {{'rope_keys' must have rank 3 [batch, cache rows, rope dim], got 'tensor<2x?x1x64xf32>'}}
  %o = attn.attention #mla query(%q : tensor<2x1x16x192xf32>)
         rows(%rows : tensor<2x?x1x512xf32>) rope_keys(%kr : tensor<2x?x1x64xf32>)
         up_k(%up_k : tensor<16x512x128xf32>) up_v(%up_v : tensor<16x512x128xf32>)
         -> tensor<2x1x16x128xf32>
  return %o : tensor<2x1x16x128xf32>
}

// -----

#mtla = #attn.variant<kv_form = latent, num_q_heads = 16, num_kv_heads = 1,
                      qk_head_dim = 192, v_head_dim = 128, latent_dim = 512,
                      rope = #attn.rope<placement = decoupled_shared_key, dim = 64>,
                      softmax_scale = 0.072168783648703216, time_stride = 2,
                      temporal_merge = hypernet_sigmoid_dot,
                      cache_update = append_or_accumulate_last, slot_rope = last_in_slot,
                      latent_norm = rms, value_epilogue = latent_up>
func.func @rope_keys_rows_differ_from_rows(%q: tensor<1x4x16x576xf32>, %rows: tensor<1x4x1x512xf32>,
    %kr: tensor<1x5x64xf32>, %up_v: tensor<16x512x128xf32>) -> tensor<1x4x16x128xf32> {
  // expected-error @+1 {{'rope_keys' dimension 1 (cache rows) is 5, expected 4}}
  %o = attn.attention #mtla query(%q : tensor<1x4x16x576xf32>)
         rows(%rows : tensor<1x4x1x512xf32>) rope_keys(%kr : tensor<1x5x64xf32>)
         up_v(%up_v : tensor<16x512x128xf32>) mask = stride_aware_causal absorbed
         -> tensor<1x4x16x128xf32>
  return %o : tensor<1x4x16x128xf32>
}

// -----

#mla = #attn.variant<kv_form = latent, num_q_heads = 16, num_kv_heads = 1,
                     qk_head_dim = 192, v_head_dim = 128, latent_dim = 512,
                     rope = #attn.rope<placement = decoupled_shared_key, dim = 64, layout = interleaved>,
                     softmax_scale = 0.072168783648703216, value_epilogue = latent_up>
func.func @up_k_heads(%q: tensor<2x1x16x192xf32>, %rows: tensor<2x?x1x512xf32>,
    %kr: tensor<2x?x64xf32>, %up_k: tensor<8x512x128xf32>,
    %up_v: tensor<16x512x128xf32>) -> tensor<2x1x16x128xf32> {
  // expected-error @+1 {{'up_k' dimension 0 (num_q_heads) is 8, expected 16}}
  %o = attn.attention #mla query(%q : tensor<2x1x16x192xf32>)
         rows(%rows : tensor<2x?x1x512xf32>) rope_keys(%kr : tensor<2x?x64xf32>)
         up_k(%up_k : tensor<8x512x128xf32>) up_v(%up_v : tensor<16x512x128xf32>)
         -> tensor<2x1x16x128xf32>
  return %o : tensor<2x1x16x128xf32>
}

// -----

#mla = #attn.variant<kv_form = latent, num_q_heads = 16, num_kv_heads = 1,
                     qk_head_dim = 192, v_head_dim = 128, latent_dim = 512,
                     rope = #attn.rope<placement = decoupled_shared_key, dim = 64, layout = interleaved>,
                     softmax_scale = 0.072168783648703216, value_epilogue = latent_up>
func.func @up_k_width(%q: tensor<2x1x16x192xf32>, %rows: tensor<2x?x1x512xf32>,
    %kr: tensor<2x?x64xf32>, %up_k: tensor<16x512x192xf32>,
    %up_v: tensor<16x512x128xf32>) -> tensor<2x1x16x128xf32> {
  // expected-error @+1 {{'up_k' dimension 2 (non-rotary key width) is 192, expected 128}}
  %o = attn.attention #mla query(%q : tensor<2x1x16x192xf32>)
         rows(%rows : tensor<2x?x1x512xf32>) rope_keys(%kr : tensor<2x?x64xf32>)
         up_k(%up_k : tensor<16x512x192xf32>) up_v(%up_v : tensor<16x512x128xf32>)
         -> tensor<2x1x16x128xf32>
  return %o : tensor<2x1x16x128xf32>
}

// -----

#mla = #attn.variant<kv_form = latent, num_q_heads = 16, num_kv_heads = 1,
                     qk_head_dim = 192, v_head_dim = 128, latent_dim = 512,
                     rope = #attn.rope<placement = decoupled_shared_key, dim = 64, layout = interleaved>,
                     softmax_scale = 0.072168783648703216, value_epilogue = latent_up>
func.func @up_v_latent_dim(%q: tensor<2x1x16x192xf32>, %rows: tensor<2x?x1x512xf32>,
    %kr: tensor<2x?x64xf32>, %up_k: tensor<16x512x128xf32>,
    %up_v: tensor<16x256x128xf32>) -> tensor<2x1x16x128xf32> {
  // expected-error @+1 {{'up_v' dimension 1 (latent_dim) is 256, expected 512}}
  %o = attn.attention #mla query(%q : tensor<2x1x16x192xf32>)
         rows(%rows : tensor<2x?x1x512xf32>) rope_keys(%kr : tensor<2x?x64xf32>)
         up_k(%up_k : tensor<16x512x128xf32>) up_v(%up_v : tensor<16x256x128xf32>)
         -> tensor<2x1x16x128xf32>
  return %o : tensor<2x1x16x128xf32>
}

// -----

#mla = #attn.variant<kv_form = latent, num_q_heads = 16, num_kv_heads = 1,
                     qk_head_dim = 192, v_head_dim = 128, latent_dim = 512,
                     rope = #attn.rope<placement = decoupled_shared_key, dim = 64, layout = interleaved>,
                     softmax_scale = 0.072168783648703216, value_epilogue = latent_up>
func.func @up_v_width(%q: tensor<2x1x16x192xf32>, %rows: tensor<2x?x1x512xf32>,
    %kr: tensor<2x?x64xf32>, %up_k: tensor<16x512x128xf32>,
    %up_v: tensor<16x512x64xf32>) -> tensor<2x1x16x128xf32> {
  // expected-error @+1 {{'up_v' dimension 2 (v_head_dim) is 64, expected 128}}
  %o = attn.attention #mla query(%q : tensor<2x1x16x192xf32>)
         rows(%rows : tensor<2x?x1x512xf32>) rope_keys(%kr : tensor<2x?x64xf32>)
         up_k(%up_k : tensor<16x512x128xf32>) up_v(%up_v : tensor<16x512x64xf32>)
         -> tensor<2x1x16x128xf32>
  return %o : tensor<2x1x16x128xf32>
}

// -----

#gqa = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
                     softmax_scale = 0.088388347648318433>
func.func @seq_lens_batch(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x8x128xbf16>, %len: tensor<2xi32>) -> tensor<4x1x32x128xbf16> {
  // expected-error @+1 {{'seq_lens' dimension 0 (batch) is 2, expected 4}}
  %o = attn.attention #gqa query(%q : tensor<4x1x32x128xbf16>)
         keys(%k : tensor<4x?x8x128xbf16>) values(%v : tensor<4x?x8x128xbf16>)
         seq_lens(%len : tensor<2xi32>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

#sun_gta = #attn.variant<kv_form = separate, num_q_heads = 4, num_out_heads = 6,
                         num_kv_heads = 2, num_v_heads = 4, qk_head_dim = 64, v_head_dim = 64,
                         latent_dim = 32, rope = #attn.rope<placement = full_head, dim = 64>,
                         softmax_scale = 0.125, value_epilogue = gated_latent_decoder,
                         score_map_of_head = [0, 0, 1, 2, 3, 3],
                         latent_of_head = [0, 1, 1, 2, 3, 3]>
func.func @gate_width(%q: tensor<1x1x4x64xf32>, %k: tensor<1x?x2x64xf32>,
    %v: tensor<1x?x4x32xf32>, %gate: tensor<1x1x256xf32>,
    %dec: tensor<6x32x64xf32>) -> tensor<1x1x6x64xf32> {
  // expected-error @+1 {{'gate' dimension 2 (num_out_heads * v_head_dim) is 256, expected 384}}
  %o = attn.attention #sun_gta query(%q : tensor<1x1x4x64xf32>)
         keys(%k : tensor<1x?x2x64xf32>) values(%v : tensor<1x?x4x32xf32>)
         gate(%gate : tensor<1x1x256xf32>) decoder(%dec : tensor<6x32x64xf32>)
         -> tensor<1x1x6x64xf32>
  return %o : tensor<1x1x6x64xf32>
}

// -----

#sun_gta = #attn.variant<kv_form = separate, num_q_heads = 4, num_out_heads = 6,
                         num_kv_heads = 2, num_v_heads = 4, qk_head_dim = 64, v_head_dim = 64,
                         latent_dim = 32, rope = #attn.rope<placement = full_head, dim = 64>,
                         softmax_scale = 0.125, value_epilogue = gated_latent_decoder,
                         score_map_of_head = [0, 0, 1, 2, 3, 3],
                         latent_of_head = [0, 1, 1, 2, 3, 3]>
func.func @gate_tokens(%q: tensor<1x1x4x64xf32>, %k: tensor<1x?x2x64xf32>,
    %v: tensor<1x?x4x32xf32>, %gate: tensor<1x2x384xf32>,
    %dec: tensor<6x32x64xf32>) -> tensor<1x1x6x64xf32> {
  // expected-error @+1 {{'gate' dimension 1 (query tokens) is 2, expected 1}}
  %o = attn.attention #sun_gta query(%q : tensor<1x1x4x64xf32>)
         keys(%k : tensor<1x?x2x64xf32>) values(%v : tensor<1x?x4x32xf32>)
         gate(%gate : tensor<1x2x384xf32>) decoder(%dec : tensor<6x32x64xf32>)
         -> tensor<1x1x6x64xf32>
  return %o : tensor<1x1x6x64xf32>
}

// -----

#sun_gta = #attn.variant<kv_form = separate, num_q_heads = 4, num_out_heads = 6,
                         num_kv_heads = 2, num_v_heads = 4, qk_head_dim = 64, v_head_dim = 64,
                         latent_dim = 32, rope = #attn.rope<placement = full_head, dim = 64>,
                         softmax_scale = 0.125, value_epilogue = gated_latent_decoder,
                         score_map_of_head = [0, 0, 1, 2, 3, 3],
                         latent_of_head = [0, 1, 1, 2, 3, 3]>
func.func @decoder_heads(%q: tensor<1x1x4x64xf32>, %k: tensor<1x?x2x64xf32>,
    %v: tensor<1x?x4x32xf32>, %gate: tensor<1x1x384xf32>,
    %dec: tensor<4x32x64xf32>) -> tensor<1x1x6x64xf32> {
  // expected-error @+1 {{'decoder' dimension 0 (num_out_heads) is 4, expected 6}}
  %o = attn.attention #sun_gta query(%q : tensor<1x1x4x64xf32>)
         keys(%k : tensor<1x?x2x64xf32>) values(%v : tensor<1x?x4x32xf32>)
         gate(%gate : tensor<1x1x384xf32>) decoder(%dec : tensor<4x32x64xf32>)
         -> tensor<1x1x6x64xf32>
  return %o : tensor<1x1x6x64xf32>
}

// -----

#sun_gta = #attn.variant<kv_form = separate, num_q_heads = 4, num_out_heads = 6,
                         num_kv_heads = 2, num_v_heads = 4, qk_head_dim = 64, v_head_dim = 64,
                         latent_dim = 32, rope = #attn.rope<placement = full_head, dim = 64>,
                         softmax_scale = 0.125, value_epilogue = gated_latent_decoder,
                         score_map_of_head = [0, 0, 1, 2, 3, 3],
                         latent_of_head = [0, 1, 1, 2, 3, 3]>
func.func @decoder_latent_dim(%q: tensor<1x1x4x64xf32>, %k: tensor<1x?x2x64xf32>,
    %v: tensor<1x?x4x32xf32>, %gate: tensor<1x1x384xf32>,
    %dec: tensor<6x64x64xf32>) -> tensor<1x1x6x64xf32> {
  // expected-error @+1 {{'decoder' dimension 1 (latent_dim) is 64, expected 32}}
  %o = attn.attention #sun_gta query(%q : tensor<1x1x4x64xf32>)
         keys(%k : tensor<1x?x2x64xf32>) values(%v : tensor<1x?x4x32xf32>)
         gate(%gate : tensor<1x1x384xf32>) decoder(%dec : tensor<6x64x64xf32>)
         -> tensor<1x1x6x64xf32>
  return %o : tensor<1x1x6x64xf32>
}

// -----

#mfa_kr = #attn.variant<kv_form = tied, num_q_heads = 8, num_kv_heads = 1,
                        qk_head_dim = 64, v_head_dim = 64,
                        rope = #attn.rope<placement = full_head, dim = 64>,
                        tie = #attn.tie<row = 64, key = 0 : 64, value = 0 : 64>,
                        softmax_scale = 0.125, value_epilogue = key_reuse_post>
func.func @alpha_width(%q: tensor<1x1x8x64xf32>, %rows: tensor<1x?x1x64xf32>,
    %alpha: tensor<32xf32>, %n: tensor<64x64xf32>) -> tensor<1x1x8x64xf32> {
  // expected-error @+1 {{'alpha' dimension 0 (tie row) is 32, expected 64}}
  %o = attn.attention #mfa_kr query(%q : tensor<1x1x8x64xf32>)
         rows(%rows : tensor<1x?x1x64xf32>) alpha(%alpha : tensor<32xf32>)
         transform(%n : tensor<64x64xf32>) -> tensor<1x1x8x64xf32>
  return %o : tensor<1x1x8x64xf32>
}

// -----

#mfa_kr = #attn.variant<kv_form = tied, num_q_heads = 8, num_kv_heads = 1,
                        qk_head_dim = 64, v_head_dim = 64,
                        rope = #attn.rope<placement = full_head, dim = 64>,
                        tie = #attn.tie<row = 64, key = 0 : 64, value = 0 : 64>,
                        softmax_scale = 0.125, value_epilogue = key_reuse_post>
func.func @transform_shape(%q: tensor<1x1x8x64xf32>, %rows: tensor<1x?x1x64xf32>,
    %alpha: tensor<64xf32>, %n: tensor<64x32xf32>) -> tensor<1x1x8x64xf32> {
  // expected-error @+1 {{'transform' dimension 1 (tie row) is 32, expected 64}}
  %o = attn.attention #mfa_kr query(%q : tensor<1x1x8x64xf32>)
         rows(%rows : tensor<1x?x1x64xf32>) alpha(%alpha : tensor<64xf32>)
         transform(%n : tensor<64x32xf32>) -> tensor<1x1x8x64xf32>
  return %o : tensor<1x1x8x64xf32>
}

// -----

#gqa = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
                     softmax_scale = 0.088388347648318433>
func.func @result_batch(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x8x128xbf16>, %len: tensor<4xi32>) -> tensor<2x1x32x128xbf16> {
  // expected-error @+1 {{'result' dimension 0 (batch) is 2, expected 4}}
  %o = attn.attention #gqa query(%q : tensor<4x1x32x128xbf16>)
         keys(%k : tensor<4x?x8x128xbf16>) values(%v : tensor<4x?x8x128xbf16>)
         seq_lens(%len : tensor<4xi32>) -> tensor<2x1x32x128xbf16>
  return %o : tensor<2x1x32x128xbf16>
}

// -----

#gqa = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
                     softmax_scale = 0.088388347648318433>
func.func @result_tokens(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x8x128xbf16>, %len: tensor<4xi32>) -> tensor<4x2x32x128xbf16> {
  // expected-error @+1 {{'result' dimension 1 (query tokens) is 2, expected 1}}
  %o = attn.attention #gqa query(%q : tensor<4x1x32x128xbf16>)
         keys(%k : tensor<4x?x8x128xbf16>) values(%v : tensor<4x?x8x128xbf16>)
         seq_lens(%len : tensor<4xi32>) -> tensor<4x2x32x128xbf16>
  return %o : tensor<4x2x32x128xbf16>
}

// -----

#sun_gta = #attn.variant<kv_form = separate, num_q_heads = 4, num_out_heads = 6,
                         num_kv_heads = 2, num_v_heads = 4, qk_head_dim = 64, v_head_dim = 64,
                         latent_dim = 32, rope = #attn.rope<placement = full_head, dim = 64>,
                         softmax_scale = 0.125, value_epilogue = gated_latent_decoder,
                         score_map_of_head = [0, 0, 1, 2, 3, 3],
                         latent_of_head = [0, 1, 1, 2, 3, 3]>
func.func @result_heads(%q: tensor<1x1x4x64xf32>, %k: tensor<1x?x2x64xf32>,
    %v: tensor<1x?x4x32xf32>, %gate: tensor<1x1x384xf32>,
    %dec: tensor<6x32x64xf32>) -> tensor<1x1x4x64xf32> {
  // expected-error @+1 {{'result' dimension 2 (num_out_heads) is 4, expected 6}}
  %o = attn.attention #sun_gta query(%q : tensor<1x1x4x64xf32>)
         keys(%k : tensor<1x?x2x64xf32>) values(%v : tensor<1x?x4x32xf32>)
         gate(%gate : tensor<1x1x384xf32>) decoder(%dec : tensor<6x32x64xf32>)
         -> tensor<1x1x4x64xf32>
  return %o : tensor<1x1x4x64xf32>
}

// -----

#gqa = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
                     softmax_scale = 0.088388347648318433>
func.func @result_width(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x8x128xbf16>, %len: tensor<4xi32>) -> tensor<4x1x32x64xbf16> {
  // expected-error @+1 {{'result' dimension 3 (v_head_dim) is 64, expected 128}}
  %o = attn.attention #gqa query(%q : tensor<4x1x32x128xbf16>)
         keys(%k : tensor<4x?x8x128xbf16>) values(%v : tensor<4x?x8x128xbf16>)
         seq_lens(%len : tensor<4xi32>) -> tensor<4x1x32x64xbf16>
  return %o : tensor<4x1x32x64xbf16>
}

// -----

#mla = #attn.variant<kv_form = latent, num_q_heads = 16, num_kv_heads = 1,
                     qk_head_dim = 192, v_head_dim = 128, latent_dim = 512,
                     rope = #attn.rope<placement = decoupled_shared_key, dim = 64, layout = interleaved>,
                     softmax_scale = 0.072168783648703216, value_epilogue = latent_up>
func.func @stride_aware_mask_without_time_stride(%q: tensor<2x1x16x576xf32>, %rows: tensor<2x?x1x512xf32>,
    %kr: tensor<2x?x64xf32>, %up_v: tensor<16x512x128xf32>) -> tensor<2x1x16x128xf32> {
  // expected-error @+1 {{'mask = stride_aware_causal' needs a variant with 'time_stride' > 1, got 1}}
  %o = attn.attention #mla query(%q : tensor<2x1x16x576xf32>)
         rows(%rows : tensor<2x?x1x512xf32>) rope_keys(%kr : tensor<2x?x64xf32>)
         up_v(%up_v : tensor<16x512x128xf32>) mask = stride_aware_causal absorbed -> tensor<2x1x16x128xf32>
  return %o : tensor<2x1x16x128xf32>
}

// -----

#mtla = #attn.variant<kv_form = latent, num_q_heads = 16, num_kv_heads = 1,
                      qk_head_dim = 192, v_head_dim = 128, latent_dim = 512,
                      rope = #attn.rope<placement = decoupled_shared_key, dim = 64>,
                      softmax_scale = 0.072168783648703216, time_stride = 2,
                      temporal_merge = hypernet_sigmoid_dot,
                      cache_update = append_or_accumulate_last, slot_rope = last_in_slot,
                      latent_norm = rms, value_epilogue = latent_up>
func.func @stride_aware_mask_rows_differ_from_queries(%q: tensor<1x4x16x576xf32>, %rows: tensor<1x8x1x512xf32>,
    %kr: tensor<1x?x64xf32>, %up_v: tensor<16x512x128xf32>) -> tensor<1x4x16x128xf32> {
  // expected-error @+1 {{'mask = stride_aware_causal' attends over one partial slot state per query token: query tokens (4) must equal cache rows (8)}}
  %o = attn.attention #mtla query(%q : tensor<1x4x16x576xf32>)
         rows(%rows : tensor<1x8x1x512xf32>) rope_keys(%kr : tensor<1x?x64xf32>)
         up_v(%up_v : tensor<16x512x128xf32>) mask = stride_aware_causal absorbed
         -> tensor<1x4x16x128xf32>
  return %o : tensor<1x4x16x128xf32>
}

// -----

#gqa = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
                     softmax_scale = 0.088388347648318433>
func.func @causal_more_queries_than_rows(%q: tensor<1x8x32x128xbf16>, %k: tensor<1x4x8x128xbf16>,
    %v: tensor<1x?x8x128xbf16>) -> tensor<1x8x32x128xbf16> {
  // expected-error @+1 {{causal attention with more query tokens (8) than cache rows (4) leaves the first queries with nothing to see}}
  %o = attn.attention #gqa query(%q : tensor<1x8x32x128xbf16>)
         keys(%k : tensor<1x4x8x128xbf16>) values(%v : tensor<1x?x8x128xbf16>)
         mask = causal -> tensor<1x8x32x128xbf16>
  return %o : tensor<1x8x32x128xbf16>
}

// -----

func.func @linear_element_type_mismatch(%x: tensor<2x7x64xf32>, %w: tensor<64x32xf16>,
    %b: tensor<32xf32>) -> tensor<2x7x32xf32> {
  // expected-error @+1 {{'weight' element type 'f16' differs from 'input' element type 'f32'}}
  %0 = attn.linear %x, %w bias(%b : tensor<32xf32>) activation = sigmoid
         : tensor<2x7x64xf32>, tensor<64x32xf16> -> tensor<2x7x32xf32>
  return %0 : tensor<2x7x32xf32>
}

// -----

func.func @linear_contract_zero(%x: tensor<2x7x64xf32>, %w: tensor<64x32xf32>,
    %b: tensor<32xf32>) -> tensor<2x7x32xf32> {
  // expected-error @+1 {{'contract' (0) must be between 1 and the rank of both 'input' (3) and 'weight' (2)}}
  %0 = attn.linear %x, %w bias(%b : tensor<32xf32>) contract = 0 activation = sigmoid
         : tensor<2x7x64xf32>, tensor<64x32xf32> -> tensor<2x7x32xf32>
  return %0 : tensor<2x7x32xf32>
}

// -----

func.func @linear_contract_above_weight_rank(%x: tensor<2x7x64xf32>, %w: tensor<64x32xf32>,
    %b: tensor<32xf32>) -> tensor<2x7x32xf32> {
  // expected-error @+1 {{'contract' (3) must be between 1 and the rank of both 'input' (3) and 'weight' (2)}}
  %0 = attn.linear %x, %w bias(%b : tensor<32xf32>) contract = 3 activation = sigmoid
         : tensor<2x7x64xf32>, tensor<64x32xf32> -> tensor<2x7x32xf32>
  return %0 : tensor<2x7x32xf32>
}

// -----

func.func @linear_scalar_input(%x: tensor<f32>, %w: tensor<64x32xf32>,
    %b: tensor<32xf32>) -> tensor<2x7x32xf32> {
  // expected-error @+1 {{'contract' (1) must be between 1 and the rank of both 'input' (0) and 'weight' (2)}}
  %0 = attn.linear %x, %w bias(%b : tensor<32xf32>) activation = sigmoid
         : tensor<f32>, tensor<64x32xf32> -> tensor<2x7x32xf32>
  return %0 : tensor<2x7x32xf32>
}

// -----

func.func @linear_weight_without_output_dims(%x: tensor<2x7x64xf32>, %w: tensor<64xf32>,
    %b: tensor<32xf32>) -> tensor<2x7x32xf32> {
  // expected-error @+1 {{'weight' 'tensor<64xf32>' has no output dimensions left after contracting 1}}
  %0 = attn.linear %x, %w bias(%b : tensor<32xf32>) activation = sigmoid
         : tensor<2x7x64xf32>, tensor<64xf32> -> tensor<2x7x32xf32>
  return %0 : tensor<2x7x32xf32>
}

// -----

func.func @linear_weight_input_features(%x: tensor<2x7x64xf32>, %w: tensor<32x32xf32>,
    %b: tensor<32xf32>) -> tensor<2x7x32xf32> {
  // expected-error @+1 {{'weight' dimension 0 (contracted input dimension) is 32, expected 64}}
  %0 = attn.linear %x, %w bias(%b : tensor<32xf32>) activation = sigmoid
         : tensor<2x7x64xf32>, tensor<32x32xf32> -> tensor<2x7x32xf32>
  return %0 : tensor<2x7x32xf32>
}

// -----

func.func @linear_output_projection_heads(%o: tensor<2x7x32x128xbf16>, %wo: tensor<16x128x4096xbf16>) -> tensor<2x7x4096xbf16> {
  // expected-error @+1 {{'weight' dimension 0 (contracted input dimension) is 16, expected 32}}
  %0 = attn.linear %o, %wo contract = 2
         : tensor<2x7x32x128xbf16>, tensor<16x128x4096xbf16> -> tensor<2x7x4096xbf16>
  return %0 : tensor<2x7x4096xbf16>
}

// -----

func.func @linear_bias_width(%x: tensor<2x7x64xf32>, %w: tensor<64x32xf32>,
    %b: tensor<16xf32>) -> tensor<2x7x32xf32> {
  // expected-error @+1 {{'bias' dimension 0 (output dimension) is 16, expected 32}}
  %0 = attn.linear %x, %w bias(%b : tensor<16xf32>) activation = sigmoid
         : tensor<2x7x64xf32>, tensor<64x32xf32> -> tensor<2x7x32xf32>
  return %0 : tensor<2x7x32xf32>
}

// -----

func.func @linear_bias_rank(%x: tensor<2x7x64xf32>, %w: tensor<64x32xf32>,
    %b: tensor<1x32xf32>) -> tensor<2x7x32xf32> {
  // expected-error @+1 {{'bias' must have rank 1 [output dimension], got 'tensor<1x32xf32>'}}
  %0 = attn.linear %x, %w bias(%b : tensor<1x32xf32>) activation = sigmoid
         : tensor<2x7x64xf32>, tensor<64x32xf32> -> tensor<2x7x32xf32>
  return %0 : tensor<2x7x32xf32>
}

// -----

func.func @linear_result_features(%x: tensor<2x7x64xf32>, %w: tensor<64x32xf32>,
    %b: tensor<32xf32>) -> tensor<2x7x16xf32> {
  // expected-error @+1 {{'result' dimension 2 (output dimension) is 16, expected 32}}
  %0 = attn.linear %x, %w bias(%b : tensor<32xf32>) activation = sigmoid
         : tensor<2x7x64xf32>, tensor<64x32xf32> -> tensor<2x7x16xf32>
  return %0 : tensor<2x7x16xf32>
}

// -----

func.func @linear_result_leading_dim(%x: tensor<2x7x64xf32>, %w: tensor<64x32xf32>,
    %b: tensor<32xf32>) -> tensor<2x8x32xf32> {
  // expected-error @+1 {{'result' dimension 1 (input dimension) is 8, expected 7}}
  %0 = attn.linear %x, %w bias(%b : tensor<32xf32>) activation = sigmoid
         : tensor<2x7x64xf32>, tensor<64x32xf32> -> tensor<2x8x32xf32>
  return %0 : tensor<2x8x32xf32>
}

// -----

func.func @linear_result_rank(%x: tensor<2x7x64xf32>, %w: tensor<64x32xf32>,
    %b: tensor<32xf32>) -> tensor<14x32xf32> {
  // expected-error @+1 {{'result' must have rank 3 [input dimension, input dimension, output dimension], got 'tensor<14x32xf32>'}}
  %0 = attn.linear %x, %w bias(%b : tensor<32xf32>) activation = sigmoid
         : tensor<2x7x64xf32>, tensor<64x32xf32> -> tensor<14x32xf32>
  return %0 : tensor<14x32xf32>
}

// -----

func.func @partial_slots_time_stride_one(%c: tensor<1x7x1x256xf32>, %w: tensor<1x7xf32>, %pos: tensor<1x7xi64>) {
  // expected-error @+1 {{'time_stride' must be at least 2 for slots to merge tokens, got 1}}
  %0 = attn.partial_slots %c weights(%w : tensor<1x7xf32>)
         positions(%pos : tensor<1x7xi64>) time_stride = 1 : tensor<1x7x1x256xf32>
  return
}

// -----

func.func @partial_slots_element_type_mismatch(%c: tensor<1x7x1x256xf32>, %w: tensor<1x7xbf16>, %pos: tensor<1x7xi64>) {
  // expected-error @+1 {{'weights' element type 'bf16' differs from 'rows' element type 'f32'}}
  %0 = attn.partial_slots %c weights(%w : tensor<1x7xbf16>)
         positions(%pos : tensor<1x7xi64>) time_stride = 2 : tensor<1x7x1x256xf32>
  return
}

// -----

func.func @partial_slots_rows_rank(%c: tensor<1x7xf32>, %w: tensor<1x7xf32>, %pos: tensor<1x7xi64>) {
  // expected-error @+1 {{'rows' must be [batch, tokens, ..., width], got 'tensor<1x7xf32>'}}
  %0 = attn.partial_slots %c weights(%w : tensor<1x7xf32>)
         positions(%pos : tensor<1x7xi64>) time_stride = 2 : tensor<1x7xf32>
  return
}

// -----

func.func @partial_slots_weights_tokens(%c: tensor<1x7x1x256xf32>, %w: tensor<1x6xf32>, %pos: tensor<1x7xi64>) {
  // expected-error @+1 {{'weights' dimension 1 (tokens) is 6, expected 7}}
  %0 = attn.partial_slots %c weights(%w : tensor<1x6xf32>)
         positions(%pos : tensor<1x7xi64>) time_stride = 2 : tensor<1x7x1x256xf32>
  return
}

// -----

func.func @partial_slots_weights_rank(%c: tensor<1x7x1x256xf32>, %w: tensor<7xf32>, %pos: tensor<1x7xi64>) {
  // expected-error @+1 {{'weights' must have rank 2 [batch, tokens], got 'tensor<7xf32>'}}
  %0 = attn.partial_slots %c weights(%w : tensor<7xf32>)
         positions(%pos : tensor<1x7xi64>) time_stride = 2 : tensor<1x7x1x256xf32>
  return
}

// -----

func.func @partial_slots_positions_batch(%c: tensor<1x7x1x256xf32>, %w: tensor<1x7xf32>, %pos: tensor<2x7xi64>) {
  // expected-error @+1 {{'positions' dimension 0 (batch) is 2, expected 1}}
  %0 = attn.partial_slots %c weights(%w : tensor<1x7xf32>)
         positions(%pos : tensor<2x7xi64>) time_stride = 2 : tensor<1x7x1x256xf32>
  return
}

// -----

func.func @norm_kind_none(%x: tensor<2x7x64xf32>, %w: tensor<64xf32>, %b: tensor<64xf32>) {
  // expected-error @+1 {{kind 'none' is not a normalisation; drop the op}}
  %0 = attn.norm none %x weight(%w : tensor<64xf32>) bias(%b : tensor<64xf32>)
         {epsilon = 1.0e-05 : f64} : tensor<2x7x64xf32>
  return
}

// -----

func.func @norm_epsilon_zero(%x: tensor<2x7x64xf32>, %w: tensor<64xf32>, %b: tensor<64xf32>) {
  // expected-error @+1 {{'epsilon' must be a finite positive value, got 0.000000e+00}}
  %0 = attn.norm layer %x weight(%w : tensor<64xf32>) bias(%b : tensor<64xf32>)
         {epsilon = 0.0 : f64} : tensor<2x7x64xf32>
  return
}

// -----

func.func @norm_rms_with_bias(%x: tensor<2x7x64xf32>, %w: tensor<64xf32>, %b: tensor<64xf32>) {
  // expected-error @+1 {{'bias' is only defined for 'layer' normalisation}}
  %0 = attn.norm rms %x weight(%w : tensor<64xf32>) bias(%b : tensor<64xf32>)
         {epsilon = 1.0e-05 : f64} : tensor<2x7x64xf32>
  return
}

// -----

func.func @norm_element_type_mismatch(%x: tensor<2x7x64xf32>, %w: tensor<64xbf16>, %b: tensor<64xf32>) {
  // expected-error @+1 {{'weight' element type 'bf16' differs from 'input' element type 'f32'}}
  %0 = attn.norm layer %x weight(%w : tensor<64xbf16>) bias(%b : tensor<64xf32>)
         {epsilon = 1.0e-05 : f64} : tensor<2x7x64xf32>
  return
}

// -----

func.func @norm_scalar_input(%x: tensor<f32>, %w: tensor<64xf32>, %b: tensor<64xf32>) {
  // expected-error @+1 {{'input' must have rank >= 1, got 'tensor<f32>'}}
  %0 = attn.norm layer %x weight(%w : tensor<64xf32>) bias(%b : tensor<64xf32>)
         {epsilon = 1.0e-05 : f64} : tensor<f32>
  return
}

// -----

func.func @norm_weight_width(%x: tensor<2x7x64xf32>, %w: tensor<32xf32>, %b: tensor<64xf32>) {
  // expected-error @+1 {{'weight' dimension 0 (normalised width) is 32, expected 64}}
  %0 = attn.norm layer %x weight(%w : tensor<32xf32>) bias(%b : tensor<64xf32>)
         {epsilon = 1.0e-05 : f64} : tensor<2x7x64xf32>
  return
}

// -----

func.func @norm_bias_width(%x: tensor<2x7x64xf32>, %w: tensor<64xf32>, %b: tensor<64x1xf32>) {
  // expected-error @+1 {{'bias' must have rank 1 [normalised width], got 'tensor<64x1xf32>'}}
  %0 = attn.norm layer %x weight(%w : tensor<64xf32>) bias(%b : tensor<64x1xf32>)
         {epsilon = 1.0e-05 : f64} : tensor<2x7x64xf32>
  return
}

// -----

#rope = #attn.rope<placement = none, theta = 5.0e+05>
func.func @rope_op_placement_none(%x: tensor<2x7x8x128xf32>, %pos: tensor<2x7xi64>) {
  // expected-error @+1 {{rope with 'placement = none' rotates nothing}}
  %0 = attn.rope #rope %x positions(%pos : tensor<2x7xi64>)
         : tensor<2x7x8x128xf32>
  return
}

// -----

#rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>
func.func @rope_op_input_rank(%x: tensor<14x128xf32>, %pos: tensor<2x7xi64>) {
  // expected-error @+1 {{'input' must be [batch, tokens, width] or [batch, tokens, heads, width], got 'tensor<14x128xf32>'}}
  %0 = attn.rope #rope %x positions(%pos : tensor<2x7xi64>)
         : tensor<14x128xf32>
  return
}

// -----

#rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>
func.func @rope_op_dim_wider_than_input(%x: tensor<2x7x8x64xf32>, %pos: tensor<2x7xi64>) {
  // expected-error @+1 {{rope 'dim' (128) is wider than the input's last dimension (64)}}
  %0 = attn.rope #rope %x positions(%pos : tensor<2x7xi64>)
         : tensor<2x7x8x64xf32>
  return
}

// -----

#rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>
func.func @rope_op_positions_batch(%x: tensor<2x7x8x128xf32>, %pos: tensor<1x7xi64>) {
  // expected-error @+1 {{'positions' dimension 0 (batch) is 1, expected 2}}
  %0 = attn.rope #rope %x positions(%pos : tensor<1x7xi64>)
         : tensor<2x7x8x128xf32>
  return
}

// -----

#rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>
func.func @rope_op_positions_rank(%x: tensor<2x7x8x128xf32>, %pos: tensor<14xi64>) {
  // expected-error @+1 {{'positions' must have rank 2 [batch, tokens], got 'tensor<14xi64>'}}
  %0 = attn.rope #rope %x positions(%pos : tensor<14xi64>)
         : tensor<2x7x8x128xf32>
  return
}

// -----

func.func @merge_time_stride_one(%c: tensor<2x7x256xf32>, %pos: tensor<2x7xi64>,
    %wc: tensor<256x64xf32>, %bc: tensor<64xf32>,
    %wp: tensor<256x64xf32>, %bp: tensor<64xf32>) -> tensor<2x7xf32> {
  // expected-error @+1 {{'time_stride' must be at least 2 for a merge, got 1}}
  %w = attn.merge_weights %c positions(%pos : tensor<2x7xi64>)
         chunk(%wc, %bc : tensor<256x64xf32>, tensor<64xf32>)
         token(%wp, %bp : tensor<256x64xf32>, tensor<64xf32>)
         time_stride = 1 : tensor<2x7x256xf32> -> tensor<2x7xf32>
  return %w : tensor<2x7xf32>
}

// -----

func.func @merge_element_type_mismatch(%c: tensor<2x7x256xf32>, %pos: tensor<2x7xi64>,
    %wc: tensor<256x64xf32>, %bc: tensor<64xf16>,
    %wp: tensor<256x64xf32>, %bp: tensor<64xf32>) -> tensor<2x7xf32> {
  // expected-error @+1 {{'chunk_bias' element type 'f16' differs from 'latent' element type 'f32'}}
  %w = attn.merge_weights %c positions(%pos : tensor<2x7xi64>)
         chunk(%wc, %bc : tensor<256x64xf32>, tensor<64xf16>)
         token(%wp, %bp : tensor<256x64xf32>, tensor<64xf32>)
         time_stride = 2 : tensor<2x7x256xf32> -> tensor<2x7xf32>
  return %w : tensor<2x7xf32>
}

// -----

func.func @merge_latent_rank(%c: tensor<2x7x1x256xf32>, %pos: tensor<2x7xi64>,
    %wc: tensor<256x64xf32>, %bc: tensor<64xf32>,
    %wp: tensor<256x64xf32>, %bp: tensor<64xf32>) -> tensor<2x7xf32> {
  // expected-error @+1 {{'latent' must have rank 3 [batch, tokens, latent width], got 'tensor<2x7x1x256xf32>'}}
  %w = attn.merge_weights %c positions(%pos : tensor<2x7xi64>)
         chunk(%wc, %bc : tensor<256x64xf32>, tensor<64xf32>)
         token(%wp, %bp : tensor<256x64xf32>, tensor<64xf32>)
         time_stride = 2 : tensor<2x7x1x256xf32> -> tensor<2x7xf32>
  return %w : tensor<2x7xf32>
}

// -----

func.func @merge_latent_width_odd(%c: tensor<2x7x255xf32>, %pos: tensor<2x7xi64>,
    %wc: tensor<256x64xf32>, %bc: tensor<64xf32>,
    %wp: tensor<256x64xf32>, %bp: tensor<64xf32>) -> tensor<2x7xf32> {
  // expected-error @+1 {{latent width (255) must be even: the chunk embedding pairs sin and cos channels}}
  %w = attn.merge_weights %c positions(%pos : tensor<2x7xi64>)
         chunk(%wc, %bc : tensor<256x64xf32>, tensor<64xf32>)
         token(%wp, %bp : tensor<256x64xf32>, tensor<64xf32>)
         time_stride = 2 : tensor<2x7x255xf32> -> tensor<2x7xf32>
  return %w : tensor<2x7xf32>
}

// -----

func.func @merge_chunk_weight_rows(%c: tensor<2x7x256xf32>, %pos: tensor<2x7xi64>,
    %wc: tensor<128x64xf32>, %bc: tensor<64xf32>,
    %wp: tensor<256x64xf32>, %bp: tensor<64xf32>) -> tensor<2x7xf32> {
  // expected-error @+1 {{'chunk_weight' dimension 0 (latent width) is 128, expected 256}}
  %w = attn.merge_weights %c positions(%pos : tensor<2x7xi64>)
         chunk(%wc, %bc : tensor<128x64xf32>, tensor<64xf32>)
         token(%wp, %bp : tensor<256x64xf32>, tensor<64xf32>)
         time_stride = 2 : tensor<2x7x256xf32> -> tensor<2x7xf32>
  return %w : tensor<2x7xf32>
}

// -----

func.func @merge_chunk_bias_width(%c: tensor<2x7x256xf32>, %pos: tensor<2x7xi64>,
    %wc: tensor<256x64xf32>, %bc: tensor<32xf32>,
    %wp: tensor<256x64xf32>, %bp: tensor<64xf32>) -> tensor<2x7xf32> {
  // expected-error @+1 {{'chunk_bias' dimension 0 (hypernetwork width) is 32, expected 64}}
  %w = attn.merge_weights %c positions(%pos : tensor<2x7xi64>)
         chunk(%wc, %bc : tensor<256x64xf32>, tensor<32xf32>)
         token(%wp, %bp : tensor<256x64xf32>, tensor<64xf32>)
         time_stride = 2 : tensor<2x7x256xf32> -> tensor<2x7xf32>
  return %w : tensor<2x7xf32>
}

// -----

func.func @merge_token_weight_width(%c: tensor<2x7x256xf32>, %pos: tensor<2x7xi64>,
    %wc: tensor<256x64xf32>, %bc: tensor<64xf32>,
    %wp: tensor<256x32xf32>, %bp: tensor<64xf32>) -> tensor<2x7xf32> {
  // expected-error @+1 {{'token_weight' dimension 1 (hypernetwork width) is 32, expected 64}}
  %w = attn.merge_weights %c positions(%pos : tensor<2x7xi64>)
         chunk(%wc, %bc : tensor<256x64xf32>, tensor<64xf32>)
         token(%wp, %bp : tensor<256x32xf32>, tensor<64xf32>)
         time_stride = 2 : tensor<2x7x256xf32> -> tensor<2x7xf32>
  return %w : tensor<2x7xf32>
}

// -----

func.func @merge_token_bias_width(%c: tensor<2x7x256xf32>, %pos: tensor<2x7xi64>,
    %wc: tensor<256x64xf32>, %bc: tensor<64xf32>,
    %wp: tensor<256x64xf32>, %bp: tensor<32xf32>) -> tensor<2x7xf32> {
  // expected-error @+1 {{'token_bias' dimension 0 (hypernetwork width) is 32, expected 64}}
  %w = attn.merge_weights %c positions(%pos : tensor<2x7xi64>)
         chunk(%wc, %bc : tensor<256x64xf32>, tensor<64xf32>)
         token(%wp, %bp : tensor<256x64xf32>, tensor<32xf32>)
         time_stride = 2 : tensor<2x7x256xf32> -> tensor<2x7xf32>
  return %w : tensor<2x7xf32>
}

// -----

func.func @merge_positions_tokens(%c: tensor<2x7x256xf32>, %pos: tensor<2x6xi64>,
    %wc: tensor<256x64xf32>, %bc: tensor<64xf32>,
    %wp: tensor<256x64xf32>, %bp: tensor<64xf32>) -> tensor<2x7xf32> {
  // expected-error @+1 {{'positions' dimension 1 (tokens) is 6, expected 7}}
  %w = attn.merge_weights %c positions(%pos : tensor<2x6xi64>)
         chunk(%wc, %bc : tensor<256x64xf32>, tensor<64xf32>)
         token(%wp, %bp : tensor<256x64xf32>, tensor<64xf32>)
         time_stride = 2 : tensor<2x7x256xf32> -> tensor<2x7xf32>
  return %w : tensor<2x7xf32>
}

// -----

func.func @merge_result_tokens(%c: tensor<2x7x256xf32>, %pos: tensor<2x7xi64>,
    %wc: tensor<256x64xf32>, %bc: tensor<64xf32>,
    %wp: tensor<256x64xf32>, %bp: tensor<64xf32>) -> tensor<2x6xf32> {
  // expected-error @+1 {{'result' dimension 1 (tokens) is 6, expected 7}}
  %w = attn.merge_weights %c positions(%pos : tensor<2x7xi64>)
         chunk(%wc, %bc : tensor<256x64xf32>, tensor<64xf32>)
         token(%wp, %bp : tensor<256x64xf32>, tensor<64xf32>)
         time_stride = 2 : tensor<2x7x256xf32> -> tensor<2x6xf32>
  return %w : tensor<2x6xf32>
}

// -----

func.func @cache_time_stride_zero(%cache: tensor<2x8x4x128xbf16>, %k: tensor<2x4x4x128xbf16>,
    %len: tensor<2xi32>) {
  // expected-error @+1 {{'time_stride' must be at least 1, got 0}}
  %0 = attn.cache_update %cache, %k lengths(%len : tensor<2xi32>) time_stride = 0
         : tensor<2x8x4x128xbf16>, tensor<2x4x4x128xbf16>
  return
}

// -----

func.func @cache_stride_without_merge(%cache: tensor<1x1024x1x256xf32>, %c: tensor<1x1x1x256xf32>,
    %len: tensor<1xi32>, %w: tensor<1x1xf32>) {
  // expected-error @+1 {{'merge' must be given exactly when 'time_stride' > 1 (time_stride is 2)}}
  %0 = attn.cache_update %cache, %c lengths(%len : tensor<1xi32>)
         weights(%w : tensor<1x1xf32>) time_stride = 2
         : tensor<1x1024x1x256xf32>, tensor<1x1x1x256xf32>
  return
}

// -----

func.func @cache_merge_without_stride(%cache: tensor<2x8x4x128xbf16>, %k: tensor<2x4x4x128xbf16>,
    %len: tensor<2xi32>) {
  // expected-error @+1 {{'merge' must be given exactly when 'time_stride' > 1 (time_stride is 1)}}
  %0 = attn.cache_update %cache, %k lengths(%len : tensor<2xi32>) merge = replace
         : tensor<2x8x4x128xbf16>, tensor<2x4x4x128xbf16>
  return
}

// -----

func.func @cache_weighted_sum_without_weights(%cache: tensor<1x1024x1x256xf32>, %c: tensor<1x1x1x256xf32>,
    %len: tensor<1xi32>, %w: tensor<1x1xf32>) {
  // expected-error @+1 {{'weights' must be given exactly when 'merge = weighted_sum'}}
  %0 = attn.cache_update %cache, %c lengths(%len : tensor<1xi32>)
         time_stride = 2 merge = weighted_sum
         : tensor<1x1024x1x256xf32>, tensor<1x1x1x256xf32>
  return
}

// -----

func.func @cache_replace_with_weights(%cache: tensor<1x1024x1x256xf32>, %c: tensor<1x1x1x256xf32>,
    %len: tensor<1xi32>, %w: tensor<1x1xf32>) {
  // expected-error @+1 {{'weights' must be given exactly when 'merge = weighted_sum'}}
  %0 = attn.cache_update %cache, %c lengths(%len : tensor<1xi32>)
         weights(%w : tensor<1x1xf32>) time_stride = 2 merge = replace
         : tensor<1x1024x1x256xf32>, tensor<1x1x1x256xf32>
  return
}

// -----

func.func @cache_element_type_mismatch(%cache: tensor<2x8x4x128xbf16>, %k: tensor<2x4x4x128xf16>,
    %len: tensor<2xi32>) {
  // expected-error @+1 {{'rows' element type 'f16' differs from 'cache' element type 'bf16'}}
  %0 = attn.cache_update %cache, %k lengths(%len : tensor<2xi32>)
         : tensor<2x8x4x128xbf16>, tensor<2x4x4x128xf16>
  return
}

// -----

func.func @cache_rank(%cache: tensor<2x8xbf16>, %k: tensor<2x4x4x128xbf16>,
    %len: tensor<2xi32>) {
  // expected-error @+1 {{'cache' must be [batch, slots, ..., width], got 'tensor<2x8xbf16>'}}
  %0 = attn.cache_update %cache, %k lengths(%len : tensor<2xi32>)
         : tensor<2x8xbf16>, tensor<2x4x4x128xbf16>
  return
}

// -----

func.func @cache_rows_rank(%cache: tensor<2x8x4x128xbf16>, %k: tensor<2x4x512xbf16>,
    %len: tensor<2xi32>) {
  // expected-error @+1 {{'rows' must have rank 4 [batch, new tokens, cache row dimension, cache row dimension], got 'tensor<2x4x512xbf16>'}}
  %0 = attn.cache_update %cache, %k lengths(%len : tensor<2xi32>)
         : tensor<2x8x4x128xbf16>, tensor<2x4x512xbf16>
  return
}

// -----

func.func @cache_rows_batch(%cache: tensor<2x8x4x128xbf16>, %k: tensor<1x4x4x128xbf16>,
    %len: tensor<2xi32>) {
  // expected-error @+1 {{'rows' dimension 0 (batch) is 1, expected 2}}
  %0 = attn.cache_update %cache, %k lengths(%len : tensor<2xi32>)
         : tensor<2x8x4x128xbf16>, tensor<1x4x4x128xbf16>
  return
}

// -----

func.func @cache_rows_width(%cache: tensor<2x8x4x128xbf16>, %k: tensor<2x4x4x64xbf16>,
    %len: tensor<2xi32>) {
  // expected-error @+1 {{'rows' dimension 3 (cache row dimension) is 64, expected 128}}
  %0 = attn.cache_update %cache, %k lengths(%len : tensor<2xi32>)
         : tensor<2x8x4x128xbf16>, tensor<2x4x4x64xbf16>
  return
}

// -----

func.func @cache_append_past_capacity(%cache: tensor<2x8x4x128xbf16>, %k: tensor<2x16x4x128xbf16>,
    %len: tensor<2xi32>) {
  // expected-error @+1 {{appends 16 rows to a cache of capacity 8}}
  %0 = attn.cache_update %cache, %k lengths(%len : tensor<2xi32>)
         : tensor<2x8x4x128xbf16>, tensor<2x16x4x128xbf16>
  return
}

// -----

func.func @cache_lengths_batch(%cache: tensor<2x8x4x128xbf16>, %k: tensor<2x4x4x128xbf16>,
    %len: tensor<3xi32>) {
  // expected-error @+1 {{'lengths' dimension 0 (batch) is 3, expected 2}}
  %0 = attn.cache_update %cache, %k lengths(%len : tensor<3xi32>)
         : tensor<2x8x4x128xbf16>, tensor<2x4x4x128xbf16>
  return
}

// -----

func.func @cache_weights_tokens(%cache: tensor<1x1024x1x256xf32>, %c: tensor<1x1x1x256xf32>,
    %len: tensor<1xi32>, %w: tensor<1x2xf32>) {
  // expected-error @+1 {{'weights' dimension 1 (new tokens) is 2, expected 1}}
  %0 = attn.cache_update %cache, %c lengths(%len : tensor<1xi32>)
         weights(%w : tensor<1x2xf32>) time_stride = 2 merge = weighted_sum
         : tensor<1x1024x1x256xf32>, tensor<1x1x1x256xf32>
  return
}

// -----

// An unknown enum value is reported twice: the enum, then the parameter.
// expected-error @+2 {{expected ::mlir::attn::KvForm to be one of: separate, tied, latent}}
// expected-error @+1 {{failed to parse Attn_VariantAttr parameter 'kv_form' which is to be a `::mlir::attn::KvForm`}}
#gqa = #attn.variant<kv_form = fused, num_q_heads = 32, num_kv_heads = 8,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
                     softmax_scale = 0.088388347648318433>
func.func @unknown_kv_form(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x8x128xbf16>, %len: tensor<4xi32>) -> tensor<4x1x32x128xbf16> {
  %o = attn.attention #gqa query(%q : tensor<4x1x32x128xbf16>)
         keys(%k : tensor<4x?x8x128xbf16>) values(%v : tensor<4x?x8x128xbf16>)
         seq_lens(%len : tensor<4xi32>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

// A missing parameter is reported at the closing '>', hence @+N: a comment
// inside the attribute's '<...>' would be part of its body.
// expected-error @+3 {{struct is missing required parameter: softmax_scale}}
#gqa = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>>
func.func @missing_softmax_scale(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x8x128xbf16>, %len: tensor<4xi32>) -> tensor<4x1x32x128xbf16> {
  %o = attn.attention #gqa query(%q : tensor<4x1x32x128xbf16>)
         keys(%k : tensor<4x?x8x128xbf16>) values(%v : tensor<4x?x8x128xbf16>)
         seq_lens(%len : tensor<4xi32>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

// expected-error @+3 {{struct is missing required parameter: rope}}
#gqa = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
                     qk_head_dim = 128, v_head_dim = 128,
                     softmax_scale = 0.088388347648318433>
func.func @missing_rope(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x8x128xbf16>, %len: tensor<4xi32>) -> tensor<4x1x32x128xbf16> {
  %o = attn.attention #gqa query(%q : tensor<4x1x32x128xbf16>)
         keys(%k : tensor<4x?x8x128xbf16>) values(%v : tensor<4x?x8x128xbf16>)
         seq_lens(%len : tensor<4xi32>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

// expected-error @+1 {{duplicate or unknown struct parameter name: num_k_heads}}
#gqa = #attn.variant<kv_form = separate, num_q_heads = 32, num_k_heads = 8,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
                     softmax_scale = 0.088388347648318433>
func.func @unknown_variant_parameter(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x8x128xbf16>, %len: tensor<4xi32>) -> tensor<4x1x32x128xbf16> {
  %o = attn.attention #gqa query(%q : tensor<4x1x32x128xbf16>)
         keys(%k : tensor<4x?x8x128xbf16>) values(%v : tensor<4x?x8x128xbf16>)
         seq_lens(%len : tensor<4xi32>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

#gqa = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
                     softmax_scale = 0.088388347648318433>
func.func @unknown_mask(%q: tensor<1x8x32x128xbf16>, %k: tensor<1x8x8x128xbf16>,
    %v: tensor<1x?x8x128xbf16>) -> tensor<1x8x32x128xbf16> {
  %o = attn.attention #gqa query(%q : tensor<1x8x32x128xbf16>)
         keys(%k : tensor<1x8x8x128xbf16>) values(%v : tensor<1x?x8x128xbf16>)
         // expected-error @+2 {{expected ::mlir::attn::Mask to be one of: none, causal, stride_aware_causal}}
         // expected-error @+1 {{failed to parse Attn_MaskAttr parameter 'value' which is to be a `::mlir::attn::Mask`}}
         mask = sliding_window -> tensor<1x8x32x128xbf16>
  return %o : tensor<1x8x32x128xbf16>
}

// -----

// Dynamic dimensions unify across operands: the batch fixed by seq_lens
// must match the result's.
#gqa = #attn.variant<kv_form = separate, num_q_heads = 4, num_kv_heads = 2, qk_head_dim = 8,
                     v_head_dim = 8, rope = #attn.rope<placement = full_head, dim = 8>, softmax_scale = 0.35>
func.func @batch_unified_through_seq_lens(%q: tensor<?x1x4x8xf32>, %k: tensor<?x?x2x8xf32>,
                                          %v: tensor<?x?x2x8xf32>, %len: tensor<2xi32>) -> tensor<4x1x4x8xf32> {
  // expected-error @+1 {{'result' dimension 0 (batch) is 4, expected 2}}
  %o = attn.attention #gqa query(%q : tensor<?x1x4x8xf32>) keys(%k : tensor<?x?x2x8xf32>)
         values(%v : tensor<?x?x2x8xf32>) seq_lens(%len : tensor<2xi32>) -> tensor<4x1x4x8xf32>
  return %o : tensor<4x1x4x8xf32>
}

// -----

#sun = #attn.variant<kv_form = separate, num_q_heads = 2, num_out_heads = 4, num_kv_heads = 1, num_v_heads = 1,
                     qk_head_dim = 8, v_head_dim = 4, latent_dim = 8, rope = #attn.rope<placement = full_head, dim = 8>,
                     softmax_scale = 0.35, value_epilogue = gated_latent_decoder>
func.func @tokens_unified_through_gate(%q: tensor<1x?x2x8xf32>, %k: tensor<1x7x1x8xf32>, %c: tensor<1x7x1x8xf32>,
                                       %g: tensor<1x3x16xf32>, %p: tensor<4x8x4xf32>) -> tensor<1x1x4x4xf32> {
  // expected-error @+1 {{'result' dimension 1 (query tokens) is 1, expected 3}}
  %o = attn.attention #sun query(%q : tensor<1x?x2x8xf32>) keys(%k : tensor<1x7x1x8xf32>)
         values(%c : tensor<1x7x1x8xf32>) gate(%g : tensor<1x3x16xf32>) decoder(%p : tensor<4x8x4xf32>)
         -> tensor<1x1x4x4xf32>
  return %o : tensor<1x1x4x4xf32>
}

// -----

func.func @merge_weights_batch_unified(%c: tensor<?x7x256xf32>, %pos: tensor<2x7xi64>, %wc: tensor<256x64xf32>,
                                       %bc: tensor<64xf32>, %wp: tensor<256x64xf32>, %bp: tensor<64xf32>) -> tensor<3x7xf32> {
  // expected-error @+1 {{'result' dimension 0 (batch) is 3, expected 2}}
  %w = attn.merge_weights %c positions(%pos : tensor<2x7xi64>) chunk(%wc, %bc : tensor<256x64xf32>, tensor<64xf32>)
         token(%wp, %bp : tensor<256x64xf32>, tensor<64xf32>) time_stride = 2 : tensor<?x7x256xf32> -> tensor<3x7xf32>
  return %w : tensor<3x7xf32>
}

// -----

func.func @merge_weights_width_unified(%c: tensor<1x7x256xf32>, %pos: tensor<1x7xi64>, %wc: tensor<256x?xf32>,
                                       %bc: tensor<32xf32>, %wp: tensor<256x64xf32>, %bp: tensor<64xf32>) -> tensor<1x7xf32> {
  // expected-error @+1 {{'token_weight' dimension 1 (hypernetwork width) is 64, expected 32}}
  %w = attn.merge_weights %c positions(%pos : tensor<1x7xi64>) chunk(%wc, %bc : tensor<256x?xf32>, tensor<32xf32>)
         token(%wp, %bp : tensor<256x64xf32>, tensor<64xf32>) time_stride = 2 : tensor<1x7x256xf32> -> tensor<1x7xf32>
  return %w : tensor<1x7xf32>
}

// -----

func.func @cache_update_batch_unified(%cache: tensor<?x64x16xf32>, %rows: tensor<?x1x16xf32>, %len: tensor<2xi32>,
                                      %w: tensor<3x1xf32>) -> tensor<?x64x16xf32> {
  // expected-error @+1 {{'weights' dimension 0 (batch) is 3, expected 2}}
  %c = attn.cache_update %cache, %rows lengths(%len : tensor<2xi32>) weights(%w : tensor<3x1xf32>)
         time_stride = 2 merge = weighted_sum : tensor<?x64x16xf32>, tensor<?x1x16xf32>
  return %c : tensor<?x64x16xf32>
}

// -----

func.func @norm_epsilon_infinite(%x: tensor<1x7x8xf32>) -> tensor<1x7x8xf32> {
  // expected-error @+1 {{'epsilon' must be a finite positive value, got INF}}
  %y = attn.norm rms %x {epsilon = 0x7FF0000000000000 : f64} : tensor<1x7x8xf32>
  return %y : tensor<1x7x8xf32>
}

// -----

func.func @absorbed_with_up_k(%q: tensor<1x1x4x20xf32>, %c: tensor<1x7x1x16xf32>, %kr: tensor<1x7x4xf32>,
                              %uk: tensor<4x16x8xf32>, %uv: tensor<4x16x8xf32>) -> tensor<1x1x4x8xf32> {
  // expected-error @+1 {{does not take 'up_k' once 'absorbed': the query already carries it}}
  %o = attn.attention #attn.variant<kv_form = latent, num_q_heads = 4, num_kv_heads = 1, qk_head_dim = 12,
                                    v_head_dim = 8, latent_dim = 16,
                                    rope = #attn.rope<placement = decoupled_shared_key, dim = 4>,
                                    softmax_scale = 0.29, value_epilogue = latent_up>
         query(%q : tensor<1x1x4x20xf32>) rows(%c : tensor<1x7x1x16xf32>) rope_keys(%kr : tensor<1x7x4xf32>)
         up_k(%uk : tensor<4x16x8xf32>) up_v(%uv : tensor<4x16x8xf32>) absorbed -> tensor<1x1x4x8xf32>
  return %o : tensor<1x1x4x8xf32>
}
