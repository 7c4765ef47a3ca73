// RUN: attn-opt %s -split-input-file -verify-diagnostics

// One case per diagnostic of the attribute verifiers (YarnAttr, RopeAttr,
// TieAttr, VariantAttr in lib/Dialect/Attn/IR/AttnAttrs.cpp). Every case is a
// valid configuration changed in one place. Verifier errors are reported where
// the attribute is parsed: at the `<` of an inline `#attn.variant<`, or on the
// alias line for an attribute defined at the top of the module. `#attn.yarn`
// and `#attn.tie` are only ever nested, so they are tested through an alias
// (an error inside a nested attribute also reports that the enclosing one
// failed to parse).

// expected-error @+1 {{yarn 'factor' must be a finite value >= 1, got 5.000000e-01}}
#yarn = #attn.yarn<factor = 5.0e-01, original_len = 4096>
func.func @yarn_factor_below_one(%x: tensor<2x7x64xf32>, %pos: tensor<2x7xi64>) -> tensor<2x7x64xf32> {
  %0 = attn.rope #attn.rope<placement = decoupled_shared_key, dim = 64, layout = interleaved, yarn = #yarn> %x positions(%pos : tensor<2x7xi64>)
         : tensor<2x7x64xf32>
  return %0 : tensor<2x7x64xf32>
}

// -----

// expected-error @+1 {{yarn 'factor' must be a finite value >= 1, got INF}}
#yarn = #attn.yarn<factor = 0x7FF0000000000000, original_len = 4096>
func.func @yarn_factor_infinite(%x: tensor<2x7x64xf32>, %pos: tensor<2x7xi64>) -> tensor<2x7x64xf32> {
  %0 = attn.rope #attn.rope<placement = decoupled_shared_key, dim = 64, layout = interleaved, yarn = #yarn> %x positions(%pos : tensor<2x7xi64>)
         : tensor<2x7x64xf32>
  return %0 : tensor<2x7x64xf32>
}

// -----

// expected-error @+1 {{yarn 'original_len' must be positive, got 0}}
#yarn = #attn.yarn<factor = 4.0e+01, original_len = 0>
func.func @yarn_original_len_zero(%x: tensor<2x7x64xf32>, %pos: tensor<2x7xi64>) -> tensor<2x7x64xf32> {
  %0 = attn.rope #attn.rope<placement = decoupled_shared_key, dim = 64, layout = interleaved, yarn = #yarn> %x positions(%pos : tensor<2x7xi64>)
         : tensor<2x7x64xf32>
  return %0 : tensor<2x7x64xf32>
}

// -----

// expected-error @+1 {{yarn needs finite 'beta_fast' > 'beta_slow' > 0, got 5.000000e-01 and 1.000000e+00}}
#yarn = #attn.yarn<factor = 4.0e+01, original_len = 4096, beta_fast = 5.0e-01>
func.func @yarn_beta_fast_below_beta_slow(%x: tensor<2x7x64xf32>, %pos: tensor<2x7xi64>) -> tensor<2x7x64xf32> {
  %0 = attn.rope #attn.rope<placement = decoupled_shared_key, dim = 64, layout = interleaved, yarn = #yarn> %x positions(%pos : tensor<2x7xi64>)
         : tensor<2x7x64xf32>
  return %0 : tensor<2x7x64xf32>
}

// -----

// expected-error @+1 {{yarn needs finite 'beta_fast' > 'beta_slow' > 0, got 3.200000e+01 and 0.000000e+00}}
#yarn = #attn.yarn<factor = 4.0e+01, original_len = 4096, beta_slow = 0.0>
func.func @yarn_beta_slow_not_positive(%x: tensor<2x7x64xf32>, %pos: tensor<2x7xi64>) -> tensor<2x7x64xf32> {
  %0 = attn.rope #attn.rope<placement = decoupled_shared_key, dim = 64, layout = interleaved, yarn = #yarn> %x positions(%pos : tensor<2x7xi64>)
         : tensor<2x7x64xf32>
  return %0 : tensor<2x7x64xf32>
}

// -----

// expected-error @+1 {{yarn 'mscale' must be a finite positive value, got -1.000000e+00}}
#yarn = #attn.yarn<factor = 4.0e+01, original_len = 4096, mscale = -1.0>
func.func @yarn_mscale_not_positive(%x: tensor<2x7x64xf32>, %pos: tensor<2x7xi64>) -> tensor<2x7x64xf32> {
  %0 = attn.rope #attn.rope<placement = decoupled_shared_key, dim = 64, layout = interleaved, yarn = #yarn> %x positions(%pos : tensor<2x7xi64>)
         : tensor<2x7x64xf32>
  return %0 : tensor<2x7x64xf32>
}

// -----

func.func @rope_none_with_dim(%x: tensor<2x7x8x64xf32>, %pos: tensor<2x7xi64>) -> tensor<2x7x8x64xf32> {
         // expected-error @+1 {{rope 'placement = none' needs 'dim = 0', got 64}}
  %0 = attn.rope #attn.rope<placement = none, dim = 64, theta = 1.0e+04> %x positions(%pos : tensor<2x7xi64>)
         : tensor<2x7x8x64xf32>
  return %0 : tensor<2x7x8x64xf32>
}

// -----

// expected-error @+1 {{rope 'yarn' needs a rotary placement}}
#rope = #attn.rope<placement = none, yarn = #attn.yarn<factor = 4.0e+01, original_len = 4096>>
func.func @rope_none_with_yarn(%q: tensor<2x1x8x64xf32>, %k: tensor<2x?x8x64xf32>,
    %v: tensor<2x?x8x64xf32>) -> tensor<2x1x8x64xf32> {
  %o = attn.attention #attn.variant<kv_form = separate, num_q_heads = 8, num_kv_heads = 8,
         qk_head_dim = 64, v_head_dim = 64, rope = #rope, softmax_scale = 0.125>
         query(%q : tensor<2x1x8x64xf32>) keys(%k : tensor<2x?x8x64xf32>)
         values(%v : tensor<2x?x8x64xf32>) -> tensor<2x1x8x64xf32>
  return %o : tensor<2x1x8x64xf32>
}

// -----

func.func @rope_dim_not_positive(%x: tensor<2x7x8x64xf32>, %pos: tensor<2x7xi64>) -> tensor<2x7x8x64xf32> {
         // expected-error @+1 {{rope 'dim' must be positive for placement 'full_head', got 0}}
  %0 = attn.rope #attn.rope<placement = full_head, dim = 0, theta = 1.0e+04> %x positions(%pos : tensor<2x7xi64>)
         : tensor<2x7x8x64xf32>
  return %0 : tensor<2x7x8x64xf32>
}

// -----

func.func @rope_dim_odd(%x: tensor<2x7x8x64xf32>, %pos: tensor<2x7xi64>) -> tensor<2x7x8x64xf32> {
         // expected-error @+1 {{rope 'dim' must be even (channels rotate in pairs), got 63}}
  %0 = attn.rope #attn.rope<placement = full_head, dim = 63, theta = 1.0e+04> %x positions(%pos : tensor<2x7xi64>)
         : tensor<2x7x8x64xf32>
  return %0 : tensor<2x7x8x64xf32>
}

// -----

func.func @rope_theta_not_positive(%x: tensor<2x7x8x64xf32>, %pos: tensor<2x7xi64>) -> tensor<2x7x8x64xf32> {
         // expected-error @+1 {{rope 'theta' must be a finite positive value, got -1.000000e+04}}
  %0 = attn.rope #attn.rope<placement = full_head, dim = 64, theta = -1.0e+04> %x positions(%pos : tensor<2x7xi64>)
         : tensor<2x7x8x64xf32>
  return %0 : tensor<2x7x8x64xf32>
}

// -----

// expected-error @+1 {{tie 'row' must be positive, got 0}}
#tie = #attn.tie<row = 0, key = 0 : 64, value = 0 : 128>
func.func @tie_row_not_positive(%q: tensor<2x1x16x128xf32>, %rows: tensor<2x?x4x128xf32>,
    %kr: tensor<2x?x64xf32>) -> tensor<2x1x16x128xf32> {
  %o = attn.attention #attn.variant<kv_form = tied, num_q_heads = 16, num_kv_heads = 4,
         qk_head_dim = 128, v_head_dim = 128,
         rope = #attn.rope<placement = q_suffix_shared_key, dim = 64>, tie = #tie,
         softmax_scale = 0.088388347648318433>
         query(%q : tensor<2x1x16x128xf32>) rows(%rows : tensor<2x?x4x128xf32>)
         rope_keys(%kr : tensor<2x?x64xf32>) -> tensor<2x1x16x128xf32>
  return %o : tensor<2x1x16x128xf32>
}

// -----

// expected-error @+1 {{tie 'key' slice [64, 0) is empty or outside the row [0, 128)}}
#tie = #attn.tie<row = 128, key = 64 : 0, value = 0 : 128>
func.func @tie_key_slice_reversed(%q: tensor<2x1x16x128xf32>, %rows: tensor<2x?x4x128xf32>,
    %kr: tensor<2x?x64xf32>) -> tensor<2x1x16x128xf32> {
  %o = attn.attention #attn.variant<kv_form = tied, num_q_heads = 16, num_kv_heads = 4,
         qk_head_dim = 128, v_head_dim = 128,
         rope = #attn.rope<placement = q_suffix_shared_key, dim = 64>, tie = #tie,
         softmax_scale = 0.088388347648318433>
         query(%q : tensor<2x1x16x128xf32>) rows(%rows : tensor<2x?x4x128xf32>)
         rope_keys(%kr : tensor<2x?x64xf32>) -> tensor<2x1x16x128xf32>
  return %o : tensor<2x1x16x128xf32>
}

// -----

// expected-error @+1 {{tie 'key' slice [-64, 0) is empty or outside the row [0, 128)}}
#tie = #attn.tie<row = 128, key = -64 : 0, value = 0 : 128>
func.func @tie_key_slice_negative_begin(%q: tensor<2x1x16x128xf32>, %rows: tensor<2x?x4x128xf32>,
    %kr: tensor<2x?x64xf32>) -> tensor<2x1x16x128xf32> {
  %o = attn.attention #attn.variant<kv_form = tied, num_q_heads = 16, num_kv_heads = 4,
         qk_head_dim = 128, v_head_dim = 128,
         rope = #attn.rope<placement = q_suffix_shared_key, dim = 64>, tie = #tie,
         softmax_scale = 0.088388347648318433>
         query(%q : tensor<2x1x16x128xf32>) rows(%rows : tensor<2x?x4x128xf32>)
         rope_keys(%kr : tensor<2x?x64xf32>) -> tensor<2x1x16x128xf32>
  return %o : tensor<2x1x16x128xf32>
}

// -----

// expected-error @+1 {{tie 'value' slice [0, 256) is empty or outside the row [0, 128)}}
#tie = #attn.tie<row = 128, key = 0 : 64, value = 0 : 256>
func.func @tie_value_slice_past_row(%q: tensor<2x1x16x128xf32>, %rows: tensor<2x?x4x128xf32>,
    %kr: tensor<2x?x64xf32>) -> tensor<2x1x16x128xf32> {
  %o = attn.attention #attn.variant<kv_form = tied, num_q_heads = 16, num_kv_heads = 4,
         qk_head_dim = 128, v_head_dim = 128,
         rope = #attn.rope<placement = q_suffix_shared_key, dim = 64>, tie = #tie,
         softmax_scale = 0.088388347648318433>
         query(%q : tensor<2x1x16x128xf32>) rows(%rows : tensor<2x?x4x128xf32>)
         rope_keys(%kr : tensor<2x?x64xf32>) -> tensor<2x1x16x128xf32>
  return %o : tensor<2x1x16x128xf32>
}

// -----

func.func @variant_num_q_heads_zero(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x8x128xbf16>) -> tensor<4x1x32x128xbf16> {
  // expected-error @+1 {{variant 'num_q_heads' must be positive, got 0}}
  %o = attn.attention #attn.variant<kv_form = separate, num_q_heads = 0, num_kv_heads = 8,
         qk_head_dim = 128, v_head_dim = 128,
         rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
         softmax_scale = 0.088388347648318433>
         query(%q : tensor<4x1x32x128xbf16>) keys(%k : tensor<4x?x8x128xbf16>)
         values(%v : tensor<4x?x8x128xbf16>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

func.func @variant_num_kv_heads_zero(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x8x128xbf16>) -> tensor<4x1x32x128xbf16> {
  // expected-error @+1 {{variant 'num_kv_heads' must be positive, got 0}}
  %o = attn.attention #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 0,
         qk_head_dim = 128, v_head_dim = 128,
         rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
         softmax_scale = 0.088388347648318433>
         query(%q : tensor<4x1x32x128xbf16>) keys(%k : tensor<4x?x8x128xbf16>)
         values(%v : tensor<4x?x8x128xbf16>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

func.func @variant_qk_head_dim_negative(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x8x128xbf16>) -> tensor<4x1x32x128xbf16> {
  // expected-error @+1 {{variant 'qk_head_dim' must be positive, got -128}}
  %o = attn.attention #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
         qk_head_dim = -128, v_head_dim = 128,
         rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
         softmax_scale = 0.088388347648318433>
         query(%q : tensor<4x1x32x128xbf16>) keys(%k : tensor<4x?x8x128xbf16>)
         values(%v : tensor<4x?x8x128xbf16>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

func.func @variant_v_head_dim_zero(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x8x128xbf16>) -> tensor<4x1x32x128xbf16> {
  // expected-error @+1 {{variant 'v_head_dim' must be positive, got 0}}
  %o = attn.attention #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
         qk_head_dim = 128, v_head_dim = 0,
         rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
         softmax_scale = 0.088388347648318433>
         query(%q : tensor<4x1x32x128xbf16>) keys(%k : tensor<4x?x8x128xbf16>)
         values(%v : tensor<4x?x8x128xbf16>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

func.func @variant_num_out_heads_zero(%q: tensor<1x1x4x64xf32>, %k: tensor<1x?x2x64xf32>,
    %v: tensor<1x?x4x32xf32>, %gate: tensor<1x1x384xf32>,
    %dec: tensor<6x32x64xf32>) -> tensor<1x1x6x64xf32> {
  // expected-error @+1 {{variant 'num_out_heads' must be positive, got 0}}
  %o = attn.attention #attn.variant<kv_form = separate, num_q_heads = 4, num_out_heads = 0,
         num_kv_heads = 2, num_v_heads = 4, qk_head_dim = 64, v_head_dim = 64,
         latent_dim = 32, rope = #attn.rope<placement = full_head, dim = 64>,
         softmax_scale = 0.125, value_epilogue = gated_latent_decoder,
         score_map_of_head = [0, 0, 1, 2, 3, 3],
         latent_of_head = [0, 1, 1, 2, 3, 3]>
         query(%q : tensor<1x1x4x64xf32>) keys(%k : tensor<1x?x2x64xf32>)
         values(%v : tensor<1x?x4x32xf32>) gate(%gate : tensor<1x1x384xf32>)
         decoder(%dec : tensor<6x32x64xf32>) -> tensor<1x1x6x64xf32>
  return %o : tensor<1x1x6x64xf32>
}

// -----

func.func @variant_num_v_heads_zero(%q: tensor<1x1x4x64xf32>, %k: tensor<1x?x2x64xf32>,
    %v: tensor<1x?x4x32xf32>, %gate: tensor<1x1x384xf32>,
    %dec: tensor<6x32x64xf32>) -> tensor<1x1x6x64xf32> {
  // expected-error @+1 {{variant 'num_v_heads' must be positive, got 0}}
  %o = attn.attention #attn.variant<kv_form = separate, num_q_heads = 4, num_out_heads = 6,
         num_kv_heads = 2, num_v_heads = 0, qk_head_dim = 64, v_head_dim = 64,
         latent_dim = 32, rope = #attn.rope<placement = full_head, dim = 64>,
         softmax_scale = 0.125, value_epilogue = gated_latent_decoder,
         score_map_of_head = [0, 0, 1, 2, 3, 3],
         latent_of_head = [0, 1, 1, 2, 3, 3]>
         query(%q : tensor<1x1x4x64xf32>) keys(%k : tensor<1x?x2x64xf32>)
         values(%v : tensor<1x?x4x32xf32>) gate(%gate : tensor<1x1x384xf32>)
         decoder(%dec : tensor<6x32x64xf32>) -> tensor<1x1x6x64xf32>
  return %o : tensor<1x1x6x64xf32>
}

// -----

func.func @variant_latent_dim_zero(%q: tensor<2x1x16x192xf32>, %rows: tensor<2x?x1x512xf32>,
    %kr: tensor<2x?x64xf32>, %up_k: tensor<16x512x128xf32>,
    %up_v: tensor<16x512x128xf32>) -> tensor<2x1x16x128xf32> {
  // expected-error @+1 {{variant 'latent_dim' must be positive, got 0}}
  %o = attn.attention #attn.variant<kv_form = latent, num_q_heads = 16, num_kv_heads = 1,
         qk_head_dim = 192, v_head_dim = 128, latent_dim = 0,
         rope = #attn.rope<placement = decoupled_shared_key, dim = 64, layout = interleaved>,
         softmax_scale = 0.072168783648703216, value_epilogue = latent_up>
         query(%q : tensor<2x1x16x192xf32>) rows(%rows : tensor<2x?x1x512xf32>)
         rope_keys(%kr : tensor<2x?x64xf32>) up_k(%up_k : tensor<16x512x128xf32>)
         up_v(%up_v : tensor<16x512x128xf32>) -> tensor<2x1x16x128xf32>
  return %o : tensor<2x1x16x128xf32>
}

// -----

func.func @heads_not_divisible(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x8x128xbf16>) -> tensor<4x1x32x128xbf16> {
  // expected-error @+1 {{variant 'num_q_heads' (30) is not divisible by 'num_kv_heads' (8)}}
  %o = attn.attention #attn.variant<kv_form = separate, num_q_heads = 30, num_kv_heads = 8,
         qk_head_dim = 128, v_head_dim = 128,
         rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
         softmax_scale = 0.088388347648318433>
         query(%q : tensor<4x1x32x128xbf16>) keys(%k : tensor<4x?x8x128xbf16>)
         values(%v : tensor<4x?x8x128xbf16>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

func.func @softmax_scale_not_positive(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x8x128xbf16>) -> tensor<4x1x32x128xbf16> {
  // expected-error @+1 {{variant 'softmax_scale' must be a finite positive value, got 0.000000e+00}}
  %o = attn.attention #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
         qk_head_dim = 128, v_head_dim = 128,
         rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
         softmax_scale = 0.0>
         query(%q : tensor<4x1x32x128xbf16>) keys(%k : tensor<4x?x8x128xbf16>)
         values(%v : tensor<4x?x8x128xbf16>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

func.func @rope_wider_than_head(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x8x128xbf16>) -> tensor<4x1x32x128xbf16> {
  // expected-error @+1 {{variant rope 'dim' (256) is wider than 'qk_head_dim' (128)}}
  %o = attn.attention #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
         qk_head_dim = 128, v_head_dim = 128,
         rope = #attn.rope<placement = full_head, dim = 256, theta = 5.0e+05>,
         softmax_scale = 0.088388347648318433>
         query(%q : tensor<4x1x32x128xbf16>) keys(%k : tensor<4x?x8x128xbf16>)
         values(%v : tensor<4x?x8x128xbf16>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

func.func @full_head_rope_partial(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x8x128xbf16>) -> tensor<4x1x32x128xbf16> {
  // expected-error @+1 {{variant rope 'placement = full_head' needs 'dim' equal to 'qk_head_dim' (128), got 64}}
  %o = attn.attention #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
         qk_head_dim = 128, v_head_dim = 128,
         rope = #attn.rope<placement = full_head, dim = 64, theta = 5.0e+05>,
         softmax_scale = 0.088388347648318433>
         query(%q : tensor<4x1x32x128xbf16>) keys(%k : tensor<4x?x8x128xbf16>)
         values(%v : tensor<4x?x8x128xbf16>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

func.func @shared_key_rope_whole_head(%q: tensor<2x1x16x128xf32>, %rows: tensor<2x?x4x128xf32>,
    %kr: tensor<2x?x64xf32>) -> tensor<2x1x16x128xf32> {
  // expected-error @+1 {{variant rope placement 'q_suffix_shared_key' leaves no non-rotary channels: 'dim' (128) equals 'qk_head_dim'}}
  %o = attn.attention #attn.variant<kv_form = tied, num_q_heads = 16, num_kv_heads = 4,
         qk_head_dim = 128, v_head_dim = 128,
         rope = #attn.rope<placement = q_suffix_shared_key, dim = 128>,
         tie = #attn.tie<row = 128, key = 0 : 64, value = 0 : 128>,
         softmax_scale = 0.088388347648318433>
         query(%q : tensor<2x1x16x128xf32>) rows(%rows : tensor<2x?x4x128xf32>)
         rope_keys(%kr : tensor<2x?x64xf32>) -> tensor<2x1x16x128xf32>
  return %o : tensor<2x1x16x128xf32>
}

// -----

func.func @q_suffix_shared_key_not_tied(%q: tensor<2x1x16x128xf32>, %rows: tensor<2x?x4x128xf32>,
    %kr: tensor<2x?x64xf32>) -> tensor<2x1x16x128xf32> {
  // expected-error @+1 {{variant rope 'placement = q_suffix_shared_key' needs 'kv_form = tied', got 'separate'}}
  %o = attn.attention #attn.variant<kv_form = separate, num_q_heads = 16, num_kv_heads = 4,
         qk_head_dim = 128, v_head_dim = 128,
         rope = #attn.rope<placement = q_suffix_shared_key, dim = 64>,
         tie = #attn.tie<row = 128, key = 0 : 64, value = 0 : 128>,
         softmax_scale = 0.088388347648318433>
         query(%q : tensor<2x1x16x128xf32>) rows(%rows : tensor<2x?x4x128xf32>)
         rope_keys(%kr : tensor<2x?x64xf32>) -> tensor<2x1x16x128xf32>
  return %o : tensor<2x1x16x128xf32>
}

// -----

func.func @decoupled_shared_key_not_latent(%q: tensor<2x1x16x192xf32>, %rows: tensor<2x?x1x512xf32>,
    %kr: tensor<2x?x64xf32>, %up_k: tensor<16x512x128xf32>,
    %up_v: tensor<16x512x128xf32>) -> tensor<2x1x16x128xf32> {
  // expected-error @+1 {{variant rope 'placement = decoupled_shared_key' needs 'kv_form = latent', got 'separate'}}
  %o = attn.attention #attn.variant<kv_form = separate, num_q_heads = 16, num_kv_heads = 1,
         qk_head_dim = 192, v_head_dim = 128, latent_dim = 512,
         rope = #attn.rope<placement = decoupled_shared_key, dim = 64, layout = interleaved>,
         softmax_scale = 0.072168783648703216, value_epilogue = latent_up>
         query(%q : tensor<2x1x16x192xf32>) rows(%rows : tensor<2x?x1x512xf32>)
         rope_keys(%kr : tensor<2x?x64xf32>) up_k(%up_k : tensor<16x512x128xf32>)
         up_v(%up_v : tensor<16x512x128xf32>) -> tensor<2x1x16x128xf32>
  return %o : tensor<2x1x16x128xf32>
}

// -----

func.func @tie_without_tied_form(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x8x128xbf16>) -> tensor<4x1x32x128xbf16> {
  // expected-error @+1 {{variant 'tie' must be given exactly when 'kv_form = tied' (kv_form is 'separate')}}
  %o = attn.attention #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
         qk_head_dim = 128, v_head_dim = 128,
         tie = #attn.tie<row = 128, key = 0 : 128, value = 0 : 128>,
         rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
         softmax_scale = 0.088388347648318433>
         query(%q : tensor<4x1x32x128xbf16>) keys(%k : tensor<4x?x8x128xbf16>)
         values(%v : tensor<4x?x8x128xbf16>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

func.func @tied_form_without_tie(%q: tensor<2x1x16x128xf32>, %rows: tensor<2x?x4x128xf32>,
    %kr: tensor<2x?x64xf32>) -> tensor<2x1x16x128xf32> {
  // expected-error @+1 {{variant 'tie' must be given exactly when 'kv_form = tied' (kv_form is 'tied')}}
  %o = attn.attention #attn.variant<kv_form = tied, num_q_heads = 16, num_kv_heads = 4,
         qk_head_dim = 128, v_head_dim = 128,
         rope = #attn.rope<placement = q_suffix_shared_key, dim = 64>,
         softmax_scale = 0.088388347648318433>
         query(%q : tensor<2x1x16x128xf32>) rows(%rows : tensor<2x?x4x128xf32>)
         rope_keys(%kr : tensor<2x?x64xf32>) -> tensor<2x1x16x128xf32>
  return %o : tensor<2x1x16x128xf32>
}

// -----

func.func @tie_key_width_mismatch(%q: tensor<2x1x16x128xf32>, %rows: tensor<2x?x4x128xf32>,
    %kr: tensor<2x?x64xf32>) -> tensor<2x1x16x128xf32> {
  // expected-error @+1 {{variant tie 'key' slice is 32 wide, expected 64 (the non-rotary key channels)}}
  %o = attn.attention #attn.variant<kv_form = tied, num_q_heads = 16, num_kv_heads = 4,
         qk_head_dim = 128, v_head_dim = 128,
         rope = #attn.rope<placement = q_suffix_shared_key, dim = 64>,
         tie = #attn.tie<row = 128, key = 0 : 32, value = 0 : 128>,
         softmax_scale = 0.088388347648318433>
         query(%q : tensor<2x1x16x128xf32>) rows(%rows : tensor<2x?x4x128xf32>)
         rope_keys(%kr : tensor<2x?x64xf32>) -> tensor<2x1x16x128xf32>
  return %o : tensor<2x1x16x128xf32>
}

// -----

func.func @tie_value_width_mismatch(%q: tensor<2x1x16x128xf32>, %rows: tensor<2x?x4x128xf32>,
    %kr: tensor<2x?x64xf32>) -> tensor<2x1x16x128xf32> {
  // expected-error @+1 {{variant tie 'value' slice is 96 wide, expected 'v_head_dim' (128)}}
  %o = attn.attention #attn.variant<kv_form = tied, num_q_heads = 16, num_kv_heads = 4,
         qk_head_dim = 128, v_head_dim = 128,
         rope = #attn.rope<placement = q_suffix_shared_key, dim = 64>,
         tie = #attn.tie<row = 128, key = 0 : 64, value = 32 : 128>,
         softmax_scale = 0.088388347648318433>
         query(%q : tensor<2x1x16x128xf32>) rows(%rows : tensor<2x?x4x128xf32>)
         rope_keys(%kr : tensor<2x?x64xf32>) -> tensor<2x1x16x128xf32>
  return %o : tensor<2x1x16x128xf32>
}

// -----

func.func @latent_without_latent_dim(%q: tensor<2x1x16x192xf32>, %rows: tensor<2x?x1x512xf32>,
    %kr: tensor<2x?x64xf32>, %up_k: tensor<16x512x128xf32>,
    %up_v: tensor<16x512x128xf32>) -> tensor<2x1x16x128xf32> {
  // expected-error @+1 {{variant 'kv_form = latent' needs 'latent_dim'}}
  %o = attn.attention #attn.variant<kv_form = latent, num_q_heads = 16, num_kv_heads = 1,
         qk_head_dim = 192, v_head_dim = 128,
         rope = #attn.rope<placement = decoupled_shared_key, dim = 64, layout = interleaved>,
         softmax_scale = 0.072168783648703216, value_epilogue = latent_up>
         query(%q : tensor<2x1x16x192xf32>) rows(%rows : tensor<2x?x1x512xf32>)
         rope_keys(%kr : tensor<2x?x64xf32>) up_k(%up_k : tensor<16x512x128xf32>)
         up_v(%up_v : tensor<16x512x128xf32>) -> tensor<2x1x16x128xf32>
  return %o : tensor<2x1x16x128xf32>
}

// -----

func.func @latent_dim_without_latent_form(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x8x128xbf16>) -> tensor<4x1x32x128xbf16> {
  // expected-error @+1 {{variant 'latent_dim' is only meaningful with 'kv_form = latent' or 'value_epilogue = gated_latent_decoder'}}
  %o = attn.attention #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
         qk_head_dim = 128, v_head_dim = 128, latent_dim = 512,
         rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
         softmax_scale = 0.088388347648318433>
         query(%q : tensor<4x1x32x128xbf16>) keys(%k : tensor<4x?x8x128xbf16>)
         values(%v : tensor<4x?x8x128xbf16>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

func.func @latent_without_latent_up(%q: tensor<2x1x16x192xf32>, %rows: tensor<2x?x1x512xf32>,
    %kr: tensor<2x?x64xf32>, %up_k: tensor<16x512x128xf32>,
    %up_v: tensor<16x512x128xf32>) -> tensor<2x1x16x128xf32> {
  // expected-error @+1 {{variant 'value_epilogue = latent_up' goes with 'kv_form = latent' and only with it (kv_form is 'latent', value_epilogue is 'none')}}
  %o = attn.attention #attn.variant<kv_form = latent, num_q_heads = 16, num_kv_heads = 1,
         qk_head_dim = 192, v_head_dim = 128, latent_dim = 512,
         rope = #attn.rope<placement = decoupled_shared_key, dim = 64, layout = interleaved>,
         softmax_scale = 0.072168783648703216>
         query(%q : tensor<2x1x16x192xf32>) rows(%rows : tensor<2x?x1x512xf32>)
         rope_keys(%kr : tensor<2x?x64xf32>) up_k(%up_k : tensor<16x512x128xf32>)
         up_v(%up_v : tensor<16x512x128xf32>) -> tensor<2x1x16x128xf32>
  return %o : tensor<2x1x16x128xf32>
}

// -----

func.func @latent_up_without_latent(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x8x128xbf16>) -> tensor<4x1x32x128xbf16> {
  // expected-error @+1 {{variant 'value_epilogue = latent_up' goes with 'kv_form = latent' and only with it (kv_form is 'separate', value_epilogue is 'latent_up')}}
  %o = attn.attention #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
         qk_head_dim = 128, v_head_dim = 128,
         rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
         softmax_scale = 0.088388347648318433, value_epilogue = latent_up>
         query(%q : tensor<4x1x32x128xbf16>) keys(%k : tensor<4x?x8x128xbf16>)
         values(%v : tensor<4x?x8x128xbf16>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

func.func @latent_rotated(%q: tensor<2x1x16x192xf32>, %rows: tensor<2x?x1x512xf32>,
    %kr: tensor<2x?x64xf32>, %up_k: tensor<16x512x128xf32>,
    %up_v: tensor<16x512x128xf32>) -> tensor<2x1x16x128xf32> {
  // expected-error @+1 {{variant 'kv_form = latent' cannot rotate the latent: rope placement must be 'decoupled_shared_key' or 'none', got 'full_head'}}
  %o = attn.attention #attn.variant<kv_form = latent, num_q_heads = 16, num_kv_heads = 1,
         qk_head_dim = 192, v_head_dim = 128, latent_dim = 512,
         rope = #attn.rope<placement = full_head, dim = 192, layout = interleaved>,
         softmax_scale = 0.072168783648703216, value_epilogue = latent_up>
         query(%q : tensor<2x1x16x192xf32>) rows(%rows : tensor<2x?x1x512xf32>)
         rope_keys(%kr : tensor<2x?x64xf32>) up_k(%up_k : tensor<16x512x128xf32>)
         up_v(%up_v : tensor<16x512x128xf32>) -> tensor<2x1x16x128xf32>
  return %o : tensor<2x1x16x128xf32>
}

// -----

func.func @latent_norm_without_latent(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x8x128xbf16>) -> tensor<4x1x32x128xbf16> {
  // expected-error @+1 {{variant 'latent_norm' needs 'kv_form = latent'}}
  %o = attn.attention #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
         qk_head_dim = 128, v_head_dim = 128,
         rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
         softmax_scale = 0.088388347648318433, latent_norm = rms>
         query(%q : tensor<4x1x32x128xbf16>) keys(%k : tensor<4x?x8x128xbf16>)
         values(%v : tensor<4x?x8x128xbf16>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

func.func @time_stride_zero(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x8x128xbf16>) -> tensor<4x1x32x128xbf16> {
  // expected-error @+1 {{variant 'time_stride' must be at least 1, got 0}}
  %o = attn.attention #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
         qk_head_dim = 128, v_head_dim = 128,
         rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
         softmax_scale = 0.088388347648318433, time_stride = 0>
         query(%q : tensor<4x1x32x128xbf16>) keys(%k : tensor<4x?x8x128xbf16>)
         values(%v : tensor<4x?x8x128xbf16>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

func.func @time_stride_without_latent(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x8x128xbf16>) -> tensor<4x1x32x128xbf16> {
  // expected-error @+1 {{variant 'time_stride' (2) above 1 needs 'kv_form = latent'}}
  %o = attn.attention #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
         qk_head_dim = 128, v_head_dim = 128,
         rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
         softmax_scale = 0.088388347648318433, time_stride = 2>
         query(%q : tensor<4x1x32x128xbf16>) keys(%k : tensor<4x?x8x128xbf16>)
         values(%v : tensor<4x?x8x128xbf16>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

func.func @time_stride_without_temporal_merge(%q: tensor<1x4x16x576xf32>, %rows: tensor<1x4x1x512xf32>,
    %kr: tensor<1x4x64xf32>, %up_v: tensor<16x512x128xf32>) -> tensor<1x4x16x128xf32> {
  // expected-error @+1 {{variant 'temporal_merge' must be set exactly when 'time_stride' > 1 (time_stride is 2)}}
  %o = attn.attention #attn.variant<kv_form = latent, num_q_heads = 16, num_kv_heads = 1,
         qk_head_dim = 192, v_head_dim = 128, latent_dim = 512,
         rope = #attn.rope<placement = decoupled_shared_key, dim = 64>,
         softmax_scale = 0.072168783648703216, time_stride = 2,
         cache_update = append_or_accumulate_last,
         slot_rope = last_in_slot,
         latent_norm = rms, value_epilogue = latent_up>
         query(%q : tensor<1x4x16x576xf32>) rows(%rows : tensor<1x4x1x512xf32>)
         rope_keys(%kr : tensor<1x4x64xf32>) up_v(%up_v : tensor<16x512x128xf32>)
         mask = stride_aware_causal absorbed -> tensor<1x4x16x128xf32>
  return %o : tensor<1x4x16x128xf32>
}

// -----

func.func @temporal_merge_without_time_stride(%q: tensor<2x1x16x192xf32>, %rows: tensor<2x?x1x512xf32>,
    %kr: tensor<2x?x64xf32>, %up_k: tensor<16x512x128xf32>,
    %up_v: tensor<16x512x128xf32>) -> tensor<2x1x16x128xf32> {
  // expected-error @+1 {{variant 'temporal_merge' must be set exactly when 'time_stride' > 1 (time_stride is 1)}}
  %o = attn.attention #attn.variant<kv_form = latent, num_q_heads = 16, num_kv_heads = 1,
         qk_head_dim = 192, v_head_dim = 128, latent_dim = 512,
         rope = #attn.rope<placement = decoupled_shared_key, dim = 64, layout = interleaved>,
         softmax_scale = 0.072168783648703216, value_epilogue = latent_up, temporal_merge = hypernet_sigmoid_dot>
         query(%q : tensor<2x1x16x192xf32>) rows(%rows : tensor<2x?x1x512xf32>)
         rope_keys(%kr : tensor<2x?x64xf32>) up_k(%up_k : tensor<16x512x128xf32>)
         up_v(%up_v : tensor<16x512x128xf32>) -> tensor<2x1x16x128xf32>
  return %o : tensor<2x1x16x128xf32>
}

// -----

func.func @time_stride_without_accumulate(%q: tensor<1x4x16x576xf32>, %rows: tensor<1x4x1x512xf32>,
    %kr: tensor<1x4x64xf32>, %up_v: tensor<16x512x128xf32>) -> tensor<1x4x16x128xf32> {
  // expected-error @+1 {{variant 'cache_update = append_or_accumulate_last' goes with 'time_stride' > 1 and only with it (time_stride is 2)}}
  %o = attn.attention #attn.variant<kv_form = latent, num_q_heads = 16, num_kv_heads = 1,
         qk_head_dim = 192, v_head_dim = 128, latent_dim = 512,
         rope = #attn.rope<placement = decoupled_shared_key, dim = 64>,
         softmax_scale = 0.072168783648703216, time_stride = 2,
         temporal_merge = hypernet_sigmoid_dot,
         slot_rope = last_in_slot,
         latent_norm = rms, value_epilogue = latent_up>
         query(%q : tensor<1x4x16x576xf32>) rows(%rows : tensor<1x4x1x512xf32>)
         rope_keys(%kr : tensor<1x4x64xf32>) up_v(%up_v : tensor<16x512x128xf32>)
         mask = stride_aware_causal absorbed -> tensor<1x4x16x128xf32>
  return %o : tensor<1x4x16x128xf32>
}

// -----

func.func @accumulate_without_time_stride(%q: tensor<2x1x16x192xf32>, %rows: tensor<2x?x1x512xf32>,
    %kr: tensor<2x?x64xf32>, %up_k: tensor<16x512x128xf32>,
    %up_v: tensor<16x512x128xf32>) -> tensor<2x1x16x128xf32> {
  // expected-error @+1 {{variant 'cache_update = append_or_accumulate_last' goes with 'time_stride' > 1 and only with it (time_stride is 1)}}
  %o = attn.attention #attn.variant<kv_form = latent, num_q_heads = 16, num_kv_heads = 1,
         qk_head_dim = 192, v_head_dim = 128, latent_dim = 512,
         rope = #attn.rope<placement = decoupled_shared_key, dim = 64, layout = interleaved>,
         softmax_scale = 0.072168783648703216, value_epilogue = latent_up, cache_update = append_or_accumulate_last>
         query(%q : tensor<2x1x16x192xf32>) rows(%rows : tensor<2x?x1x512xf32>)
         rope_keys(%kr : tensor<2x?x64xf32>) up_k(%up_k : tensor<16x512x128xf32>)
         up_v(%up_v : tensor<16x512x128xf32>) -> tensor<2x1x16x128xf32>
  return %o : tensor<2x1x16x128xf32>
}

// -----

func.func @last_in_slot_without_time_stride(%q: tensor<2x1x16x192xf32>, %rows: tensor<2x?x1x512xf32>,
    %kr: tensor<2x?x64xf32>, %up_k: tensor<16x512x128xf32>,
    %up_v: tensor<16x512x128xf32>) -> tensor<2x1x16x128xf32> {
  // expected-error @+1 {{variant 'slot_rope = last_in_slot' needs 'time_stride' > 1}}
  %o = attn.attention #attn.variant<kv_form = latent, num_q_heads = 16, num_kv_heads = 1,
         qk_head_dim = 192, v_head_dim = 128, latent_dim = 512,
         rope = #attn.rope<placement = decoupled_shared_key, dim = 64, layout = interleaved>,
         softmax_scale = 0.072168783648703216, value_epilogue = latent_up, slot_rope = last_in_slot>
         query(%q : tensor<2x1x16x192xf32>) rows(%rows : tensor<2x?x1x512xf32>)
         rope_keys(%kr : tensor<2x?x64xf32>) up_k(%up_k : tensor<16x512x128xf32>)
         up_v(%up_v : tensor<16x512x128xf32>) -> tensor<2x1x16x128xf32>
  return %o : tensor<2x1x16x128xf32>
}

// -----

func.func @time_stride_shared_key_per_token_rope(%q: tensor<1x4x16x576xf32>, %rows: tensor<1x4x1x512xf32>,
    %kr: tensor<1x4x64xf32>, %up_v: tensor<16x512x128xf32>) -> tensor<1x4x16x128xf32> {
  // expected-error @+1 {{variant with 'time_stride' > 1 and a shared rotary key needs 'slot_rope = last_in_slot'}}
  %o = attn.attention #attn.variant<kv_form = latent, num_q_heads = 16, num_kv_heads = 1,
         qk_head_dim = 192, v_head_dim = 128, latent_dim = 512,
         rope = #attn.rope<placement = decoupled_shared_key, dim = 64>,
         softmax_scale = 0.072168783648703216, time_stride = 2,
         temporal_merge = hypernet_sigmoid_dot,
         cache_update = append_or_accumulate_last,
         latent_norm = rms, value_epilogue = latent_up>
         query(%q : tensor<1x4x16x576xf32>) rows(%rows : tensor<1x4x1x512xf32>)
         rope_keys(%kr : tensor<1x4x64xf32>) up_v(%up_v : tensor<16x512x128xf32>)
         mask = stride_aware_causal absorbed -> tensor<1x4x16x128xf32>
  return %o : tensor<1x4x16x128xf32>
}

// -----

func.func @num_out_heads_without_gated(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x8x128xbf16>) -> tensor<4x1x32x128xbf16> {
  // expected-error @+1 {{variant 'num_out_heads' is only meaningful with 'value_epilogue = gated_latent_decoder'}}
  %o = attn.attention #attn.variant<kv_form = separate, num_q_heads = 32, num_out_heads = 64, num_kv_heads = 8,
         qk_head_dim = 128, v_head_dim = 128,
         rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
         softmax_scale = 0.088388347648318433>
         query(%q : tensor<4x1x32x128xbf16>) keys(%k : tensor<4x?x8x128xbf16>)
         values(%v : tensor<4x?x8x128xbf16>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

func.func @num_v_heads_not_separate(%q: tensor<2x1x16x128xf32>, %rows: tensor<2x?x4x128xf32>,
    %kr: tensor<2x?x64xf32>) -> tensor<2x1x16x128xf32> {
  // expected-error @+1 {{variant 'num_v_heads' needs 'kv_form = separate'}}
  %o = attn.attention #attn.variant<kv_form = tied, num_q_heads = 16, num_kv_heads = 4, num_v_heads = 4,
         qk_head_dim = 128, v_head_dim = 128,
         rope = #attn.rope<placement = q_suffix_shared_key, dim = 64>,
         tie = #attn.tie<row = 128, key = 0 : 64, value = 0 : 128>,
         softmax_scale = 0.088388347648318433>
         query(%q : tensor<2x1x16x128xf32>) rows(%rows : tensor<2x?x4x128xf32>)
         rope_keys(%kr : tensor<2x?x64xf32>) -> tensor<2x1x16x128xf32>
  return %o : tensor<2x1x16x128xf32>
}

// -----

func.func @heads_not_divisible_by_v_heads(%q: tensor<1x1x4x64xf32>, %k: tensor<1x?x2x64xf32>,
    %v: tensor<1x?x4x32xf32>, %gate: tensor<1x1x384xf32>,
    %dec: tensor<6x32x64xf32>) -> tensor<1x1x6x64xf32> {
  // expected-error @+1 {{variant 'num_q_heads' (4) is not divisible by 'num_v_heads' (3)}}
  %o = attn.attention #attn.variant<kv_form = separate, num_q_heads = 4, num_out_heads = 6,
         num_kv_heads = 2, num_v_heads = 3, qk_head_dim = 64, v_head_dim = 64,
         latent_dim = 32, rope = #attn.rope<placement = full_head, dim = 64>,
         softmax_scale = 0.125, value_epilogue = gated_latent_decoder,
         score_map_of_head = [0, 0, 1, 2, 3, 3],
         latent_of_head = [0, 1, 1, 2, 3, 3]>
         query(%q : tensor<1x1x4x64xf32>) keys(%k : tensor<1x?x2x64xf32>)
         values(%v : tensor<1x?x4x32xf32>) gate(%gate : tensor<1x1x384xf32>)
         decoder(%dec : tensor<6x32x64xf32>) -> tensor<1x1x6x64xf32>
  return %o : tensor<1x1x6x64xf32>
}

// -----

func.func @gated_without_latent_dim(%q: tensor<1x1x4x64xf32>, %k: tensor<1x?x2x64xf32>,
    %v: tensor<1x?x4x32xf32>, %gate: tensor<1x1x384xf32>,
    %dec: tensor<6x32x64xf32>) -> tensor<1x1x6x64xf32> {
  // expected-error @+1 {{variant 'value_epilogue = gated_latent_decoder' needs 'kv_form = separate' and 'latent_dim'}}
  %o = attn.attention #attn.variant<kv_form = separate, num_q_heads = 4, num_out_heads = 6,
         num_kv_heads = 2, num_v_heads = 4, qk_head_dim = 64, v_head_dim = 64,
         rope = #attn.rope<placement = full_head, dim = 64>,
         softmax_scale = 0.125, value_epilogue = gated_latent_decoder,
         score_map_of_head = [0, 0, 1, 2, 3, 3],
         latent_of_head = [0, 1, 1, 2, 3, 3]>
         query(%q : tensor<1x1x4x64xf32>) keys(%k : tensor<1x?x2x64xf32>)
         values(%v : tensor<1x?x4x32xf32>) gate(%gate : tensor<1x1x384xf32>)
         decoder(%dec : tensor<6x32x64xf32>) -> tensor<1x1x6x64xf32>
  return %o : tensor<1x1x6x64xf32>
}

// -----

func.func @out_heads_not_multiple_of_q_heads(%q: tensor<1x1x4x64xf32>, %k: tensor<1x?x2x64xf32>,
    %v: tensor<1x?x4x32xf32>, %gate: tensor<1x1x384xf32>,
    %dec: tensor<6x32x64xf32>) -> tensor<1x1x6x64xf32> {
  // expected-error @+1 {{variant 'num_out_heads' (6) is not a multiple of 'num_q_heads' (4); give 'score_map_of_head' explicitly}}
  %o = attn.attention #attn.variant<kv_form = separate, num_q_heads = 4, num_out_heads = 6,
         num_kv_heads = 2, num_v_heads = 4, qk_head_dim = 64, v_head_dim = 64,
         latent_dim = 32, rope = #attn.rope<placement = full_head, dim = 64>,
         softmax_scale = 0.125, value_epilogue = gated_latent_decoder,
         latent_of_head = [0, 1, 1, 2, 3, 3]>
         query(%q : tensor<1x1x4x64xf32>) keys(%k : tensor<1x?x2x64xf32>)
         values(%v : tensor<1x?x4x32xf32>) gate(%gate : tensor<1x1x384xf32>)
         decoder(%dec : tensor<6x32x64xf32>) -> tensor<1x1x6x64xf32>
  return %o : tensor<1x1x6x64xf32>
}

// -----

func.func @out_heads_not_multiple_of_v_heads(%q: tensor<1x1x4x64xf32>, %k: tensor<1x?x2x64xf32>,
    %v: tensor<1x?x4x32xf32>, %gate: tensor<1x1x384xf32>,
    %dec: tensor<6x32x64xf32>) -> tensor<1x1x6x64xf32> {
  // expected-error @+1 {{variant 'num_out_heads' (6) is not a multiple of 'num_v_heads' (4); give 'latent_of_head' explicitly}}
  %o = attn.attention #attn.variant<kv_form = separate, num_q_heads = 4, num_out_heads = 6,
         num_kv_heads = 2, num_v_heads = 4, qk_head_dim = 64, v_head_dim = 64,
         latent_dim = 32, rope = #attn.rope<placement = full_head, dim = 64>,
         softmax_scale = 0.125, value_epilogue = gated_latent_decoder,
         score_map_of_head = [0, 0, 1, 2, 3, 3]>
         query(%q : tensor<1x1x4x64xf32>) keys(%k : tensor<1x?x2x64xf32>)
         values(%v : tensor<1x?x4x32xf32>) gate(%gate : tensor<1x1x384xf32>)
         decoder(%dec : tensor<6x32x64xf32>) -> tensor<1x1x6x64xf32>
  return %o : tensor<1x1x6x64xf32>
}

// -----

func.func @score_map_without_gated(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x8x128xbf16>) -> tensor<4x1x32x128xbf16> {
  // expected-error @+1 {{variant 'score_map_of_head' needs 'value_epilogue = gated_latent_decoder'}}
  %o = attn.attention #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
         qk_head_dim = 128, v_head_dim = 128,
         rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
         softmax_scale = 0.088388347648318433, score_map_of_head = [0, 1]>
         query(%q : tensor<4x1x32x128xbf16>) keys(%k : tensor<4x?x8x128xbf16>)
         values(%v : tensor<4x?x8x128xbf16>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

func.func @latent_map_without_gated(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x8x128xbf16>) -> tensor<4x1x32x128xbf16> {
  // expected-error @+1 {{variant 'latent_of_head' needs 'value_epilogue = gated_latent_decoder'}}
  %o = attn.attention #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
         qk_head_dim = 128, v_head_dim = 128,
         rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
         softmax_scale = 0.088388347648318433, latent_of_head = [0, 1]>
         query(%q : tensor<4x1x32x128xbf16>) keys(%k : tensor<4x?x8x128xbf16>)
         values(%v : tensor<4x?x8x128xbf16>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

func.func @score_map_wrong_length(%q: tensor<1x1x4x64xf32>, %k: tensor<1x?x2x64xf32>,
    %v: tensor<1x?x4x32xf32>, %gate: tensor<1x1x384xf32>,
    %dec: tensor<6x32x64xf32>) -> tensor<1x1x6x64xf32> {
  // expected-error @+1 {{variant 'score_map_of_head' has 5 entries, expected 'num_out_heads' (6)}}
  %o = attn.attention #attn.variant<kv_form = separate, num_q_heads = 4, num_out_heads = 6,
         num_kv_heads = 2, num_v_heads = 4, qk_head_dim = 64, v_head_dim = 64,
         latent_dim = 32, rope = #attn.rope<placement = full_head, dim = 64>,
         softmax_scale = 0.125, value_epilogue = gated_latent_decoder,
         score_map_of_head = [0, 0, 1, 2, 3],
         latent_of_head = [0, 1, 1, 2, 3, 3]>
         query(%q : tensor<1x1x4x64xf32>) keys(%k : tensor<1x?x2x64xf32>)
         values(%v : tensor<1x?x4x32xf32>) gate(%gate : tensor<1x1x384xf32>)
         decoder(%dec : tensor<6x32x64xf32>) -> tensor<1x1x6x64xf32>
  return %o : tensor<1x1x6x64xf32>
}

// -----

func.func @latent_map_wrong_length(%q: tensor<1x1x4x64xf32>, %k: tensor<1x?x2x64xf32>,
    %v: tensor<1x?x4x32xf32>, %gate: tensor<1x1x384xf32>,
    %dec: tensor<6x32x64xf32>) -> tensor<1x1x6x64xf32> {
  // expected-error @+1 {{variant 'latent_of_head' has 7 entries, expected 'num_out_heads' (6)}}
  %o = attn.attention #attn.variant<kv_form = separate, num_q_heads = 4, num_out_heads = 6,
         num_kv_heads = 2, num_v_heads = 4, qk_head_dim = 64, v_head_dim = 64,
         latent_dim = 32, rope = #attn.rope<placement = full_head, dim = 64>,
         softmax_scale = 0.125, value_epilogue = gated_latent_decoder,
         score_map_of_head = [0, 0, 1, 2, 3, 3],
         latent_of_head = [0, 1, 1, 2, 3, 3, 3]>
         query(%q : tensor<1x1x4x64xf32>) keys(%k : tensor<1x?x2x64xf32>)
         values(%v : tensor<1x?x4x32xf32>) gate(%gate : tensor<1x1x384xf32>)
         decoder(%dec : tensor<6x32x64xf32>) -> tensor<1x1x6x64xf32>
  return %o : tensor<1x1x6x64xf32>
}

// -----

func.func @score_map_entry_out_of_range(%q: tensor<1x1x4x64xf32>, %k: tensor<1x?x2x64xf32>,
    %v: tensor<1x?x4x32xf32>, %gate: tensor<1x1x384xf32>,
    %dec: tensor<6x32x64xf32>) -> tensor<1x1x6x64xf32> {
  // expected-error @+1 {{variant 'score_map_of_head' entry 2 is 4, outside [0, 4)}}
  %o = attn.attention #attn.variant<kv_form = separate, num_q_heads = 4, num_out_heads = 6,
         num_kv_heads = 2, num_v_heads = 4, qk_head_dim = 64, v_head_dim = 64,
         latent_dim = 32, rope = #attn.rope<placement = full_head, dim = 64>,
         softmax_scale = 0.125, value_epilogue = gated_latent_decoder,
         score_map_of_head = [0, 0, 4, 2, 3, 3],
         latent_of_head = [0, 1, 1, 2, 3, 3]>
         query(%q : tensor<1x1x4x64xf32>) keys(%k : tensor<1x?x2x64xf32>)
         values(%v : tensor<1x?x4x32xf32>) gate(%gate : tensor<1x1x384xf32>)
         decoder(%dec : tensor<6x32x64xf32>) -> tensor<1x1x6x64xf32>
  return %o : tensor<1x1x6x64xf32>
}

// -----

func.func @latent_map_entry_negative(%q: tensor<1x1x4x64xf32>, %k: tensor<1x?x2x64xf32>,
    %v: tensor<1x?x4x32xf32>, %gate: tensor<1x1x384xf32>,
    %dec: tensor<6x32x64xf32>) -> tensor<1x1x6x64xf32> {
  // expected-error @+1 {{variant 'latent_of_head' entry 0 is -1, outside [0, 4)}}
  %o = attn.attention #attn.variant<kv_form = separate, num_q_heads = 4, num_out_heads = 6,
         num_kv_heads = 2, num_v_heads = 4, qk_head_dim = 64, v_head_dim = 64,
         latent_dim = 32, rope = #attn.rope<placement = full_head, dim = 64>,
         softmax_scale = 0.125, value_epilogue = gated_latent_decoder,
         score_map_of_head = [0, 0, 1, 2, 3, 3],
         latent_of_head = [-1, 1, 1, 2, 3, 3]>
         query(%q : tensor<1x1x4x64xf32>) keys(%k : tensor<1x?x2x64xf32>)
         values(%v : tensor<1x?x4x32xf32>) gate(%gate : tensor<1x1x384xf32>)
         decoder(%dec : tensor<6x32x64xf32>) -> tensor<1x1x6x64xf32>
  return %o : tensor<1x1x6x64xf32>
}

// -----

func.func @key_reuse_not_tied(%q: tensor<4x1x32x128xbf16>, %k: tensor<4x?x8x128xbf16>,
    %v: tensor<4x?x8x128xbf16>) -> tensor<4x1x32x128xbf16> {
  // expected-error @+1 {{variant 'value_epilogue = key_reuse_post' needs 'kv_form = tied'}}
  %o = attn.attention #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 8,
         qk_head_dim = 128, v_head_dim = 128,
         rope = #attn.rope<placement = full_head, dim = 128, theta = 5.0e+05>,
         softmax_scale = 0.088388347648318433, value_epilogue = key_reuse_post>
         query(%q : tensor<4x1x32x128xbf16>) keys(%k : tensor<4x?x8x128xbf16>)
         values(%v : tensor<4x?x8x128xbf16>) -> tensor<4x1x32x128xbf16>
  return %o : tensor<4x1x32x128xbf16>
}

// -----

func.func @key_reuse_partial_row(%q: tensor<1x1x8x64xf32>, %rows: tensor<1x?x1x64xf32>,
    %alpha: tensor<64xf32>, %n: tensor<64x64xf32>) -> tensor<1x1x8x64xf32> {
  // expected-error @+1 {{variant 'value_epilogue = key_reuse_post' needs the tie's key and value to be the whole row}}
  %o = attn.attention #attn.variant<kv_form = tied, num_q_heads = 8, num_kv_heads = 1,
         qk_head_dim = 64, v_head_dim = 64,
         rope = #attn.rope<placement = full_head, dim = 64>,
         tie = #attn.tie<row = 128, key = 0 : 64, value = 0 : 64>,
         softmax_scale = 0.125, value_epilogue = key_reuse_post>
         query(%q : tensor<1x1x8x64xf32>) rows(%rows : tensor<1x?x1x64xf32>)
         alpha(%alpha : tensor<64xf32>) transform(%n : tensor<64x64xf32>)
         -> tensor<1x1x8x64xf32>
  return %o : tensor<1x1x8x64xf32>
}

// -----

// expected-error @+1 {{yarn needs finite 'beta_fast' > 'beta_slow' > 0, got INF and 1.000000e+00}}
#yarn = #attn.yarn<factor = 4.0e+01, original_len = 4096, beta_fast = 0x7FF0000000000000>
func.func @yarn_beta_fast_infinite(%x: tensor<2x7x64xf32>, %pos: tensor<2x7xi64>) -> tensor<2x7x64xf32> {
  %0 = attn.rope #attn.rope<placement = decoupled_shared_key, dim = 64, yarn = #yarn> %x positions(%pos : tensor<2x7xi64>)
         : tensor<2x7x64xf32>
  return %0 : tensor<2x7x64xf32>
}

// -----

// A slot can only keep "the last token's rotary key" when there is one.
func.func @last_in_slot_without_rope_key(%q: tensor<1x7x4x16xf32>, %c: tensor<1x7x1x16xf32>,
                                         %uk: tensor<4x16x16xf32>, %uv: tensor<4x16x8xf32>) -> tensor<1x7x4x8xf32> {
  // expected-error @+1 {{variant 'slot_rope = last_in_slot' needs 'time_stride' > 1 and a shared rotary key}}
  %o = attn.attention #attn.variant<kv_form = latent, num_q_heads = 4, num_kv_heads = 1, qk_head_dim = 16,
                                    v_head_dim = 8, latent_dim = 16, rope = #attn.rope<placement = none>,
                                    softmax_scale = 0.25, time_stride = 2, temporal_merge = hypernet_sigmoid_dot,
                                    cache_update = append_or_accumulate_last, slot_rope = last_in_slot,
                                    value_epilogue = latent_up>
         query(%q : tensor<1x7x4x16xf32>) rows(%c : tensor<1x7x1x16xf32>) up_k(%uk : tensor<4x16x16xf32>)
         up_v(%uv : tensor<4x16x8xf32>) -> tensor<1x7x4x8xf32>
  return %o : tensor<1x7x4x8xf32>
}
