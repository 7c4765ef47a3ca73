// RUN: attn-opt %s -split-input-file --attn-absorb-latent=policy=always | FileCheck %s --check-prefix=ALWAYS
// RUN: attn-opt %s -split-input-file --attn-absorb-latent | FileCheck %s --check-prefix=AUTO
// RUN: attn-opt %s -split-input-file --attn-absorb-latent="policy=decode max-decode-tokens=1" | FileCheck %s --check-prefix=DECODE

#mla = #attn.variant<kv_form = latent, num_q_heads = 4, num_kv_heads = 1, qk_head_dim = 12, v_head_dim = 8,
                     latent_dim = 16, rope = #attn.rope<placement = decoupled_shared_key, dim = 4>,
                     softmax_scale = 0.28867513459481287, latent_norm = rms, value_epilogue = latent_up>

// The query's first 8 channels meet up_k per head (a contraction over them),
// the rotary 4 are appended; the key up-projection leaves the op, the
// variant (and with it the unabsorbed softmax scale) stays.
// ALWAYS-LABEL: func.func @short_prefill
// ALWAYS-SAME: %[[Q:[^:]+]]: tensor<2x7x4x12xf32>, %[[C:[^:]+]]: tensor<2x7x1x16xf32>, %[[KR:[^:]+]]: tensor<2x7x4xf32>, %[[UK:[^:]+]]: tensor<4x16x8xf32>, %[[UV:[^:]+]]: tensor<4x16x8xf32>
// ALWAYS: %[[NOPE:.+]] = tensor.extract_slice %[[Q]][0, 0, 0, 0] [2, 7, 4, 8] [1, 1, 1, 1]
// ALWAYS: %[[ABS:.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[NOPE]], %[[UK]] : tensor<2x7x4x8xf32>, tensor<4x16x8xf32>)
// ALWAYS: %[[ROPE:.+]] = tensor.extract_slice %[[Q]][0, 0, 0, 8] [2, 7, 4, 4] [1, 1, 1, 1]
// ALWAYS: %[[QA:.+]] = tensor.concat dim(3) %[[ABS]], %[[ROPE]] : (tensor<2x7x4x16xf32>, tensor<2x7x4x4xf32>) -> tensor<2x7x4x20xf32>
// ALWAYS: attn.attention #{{.+}} query(%[[QA]] : tensor<2x7x4x20xf32>) rows(%[[C]] : {{.*}}) rope_keys(%[[KR]] : {{.*}}) up_v(%[[UV]] : {{.*}}) absorbed
// ALWAYS-NOT: up_k
// Auto: 7 tokens * 16 extra FLOPs per pair < 16 * 16 to materialise: absorb.
// AUTO-LABEL: func.func @short_prefill
// AUTO: attn.attention {{.*}} absorbed
// DECODE-LABEL: func.func @short_prefill
// DECODE: attn.attention {{.*}} up_k
// DECODE-NOT: absorbed
func.func @short_prefill(%q: tensor<2x7x4x12xf32>, %c: tensor<2x7x1x16xf32>, %kr: tensor<2x7x4xf32>,
                         %uk: tensor<4x16x8xf32>, %uv: tensor<4x16x8xf32>) -> tensor<2x7x4x8xf32> {
  %o = attn.attention #mla query(%q : tensor<2x7x4x12xf32>) rows(%c : tensor<2x7x1x16xf32>)
         rope_keys(%kr : tensor<2x7x4xf32>) up_k(%uk : tensor<4x16x8xf32>) up_v(%uv : tensor<4x16x8xf32>)
         -> tensor<2x7x4x8xf32>
  return %o : tensor<2x7x4x8xf32>
}

// -----

#mla = #attn.variant<kv_form = latent, num_q_heads = 4, num_kv_heads = 1, qk_head_dim = 12, v_head_dim = 8,
                     latent_dim = 16, rope = #attn.rope<placement = decoupled_shared_key, dim = 4>,
                     softmax_scale = 0.28867513459481287, latent_norm = rms, value_epilogue = latent_up>

// Auto keeps long prefills materialised (32 * 16 >= 256), cannot decide for
// a dynamic token count, and absorbs a decode step; the decode policy takes
// one-token steps only.
// AUTO-LABEL: func.func @long_and_dynamic
// AUTO: attn.attention {{.*}} up_k
// AUTO: attn.attention {{.*}} up_k
// AUTO: attn.attention {{.*}} query(%{{.*}} : tensor<2x1x4x20xf32>) {{.*}} absorbed
// DECODE-LABEL: func.func @long_and_dynamic
// DECODE: attn.attention {{.*}} up_k
// DECODE: attn.attention {{.*}} up_k
// DECODE: attn.attention {{.*}} query(%{{.*}} : tensor<2x1x4x20xf32>) {{.*}} absorbed
func.func @long_and_dynamic(%q: tensor<2x32x4x12xf32>, %qd: tensor<2x?x4x12xf32>, %q1: tensor<2x1x4x12xf32>,
                            %c: tensor<2x32x1x16xf32>, %kr: tensor<2x32x4xf32>,
                            %uk: tensor<4x16x8xf32>, %uv: tensor<4x16x8xf32>)
    -> (tensor<2x32x4x8xf32>, tensor<2x?x4x8xf32>, tensor<2x1x4x8xf32>) {
  %a = attn.attention #mla query(%q : tensor<2x32x4x12xf32>) rows(%c : tensor<2x32x1x16xf32>)
         rope_keys(%kr : tensor<2x32x4xf32>) up_k(%uk : tensor<4x16x8xf32>) up_v(%uv : tensor<4x16x8xf32>)
         -> tensor<2x32x4x8xf32>
  %b = attn.attention #mla query(%qd : tensor<2x?x4x12xf32>) rows(%c : tensor<2x32x1x16xf32>)
         rope_keys(%kr : tensor<2x32x4xf32>) up_k(%uk : tensor<4x16x8xf32>) up_v(%uv : tensor<4x16x8xf32>)
         -> tensor<2x?x4x8xf32>
  %d = attn.attention #mla query(%q1 : tensor<2x1x4x12xf32>) rows(%c : tensor<2x32x1x16xf32>)
         rope_keys(%kr : tensor<2x32x4xf32>) up_k(%uk : tensor<4x16x8xf32>) up_v(%uv : tensor<4x16x8xf32>)
         -> tensor<2x1x4x8xf32>
  return %a, %b, %d : tensor<2x32x4x8xf32>, tensor<2x?x4x8xf32>, tensor<2x1x4x8xf32>
}

// -----

// bf16 queries are absorbed with an f32 sum, rounded once.
// ALWAYS-LABEL: func.func @bf16
// ALWAYS: linalg.generic {{.*}} outs(%{{.*}} : tensor<1x1x4x16xf32>)
// ALWAYS: arith.extf
// ALWAYS: linalg.generic {{.*}} outs(%{{.*}} : tensor<1x1x4x16xbf16>)
// ALWAYS: arith.truncf
// ALWAYS: attn.attention {{.*}} absorbed -> tensor<1x1x4x8xbf16>
#mla = #attn.variant<kv_form = latent, num_q_heads = 4, num_kv_heads = 1, qk_head_dim = 12, v_head_dim = 8,
                     latent_dim = 16, rope = #attn.rope<placement = decoupled_shared_key, dim = 4>,
                     softmax_scale = 0.28867513459481287, value_epilogue = latent_up>
func.func @bf16(%q: tensor<1x1x4x12xbf16>, %c: tensor<1x9x1x16xbf16>, %kr: tensor<1x9x4xbf16>,
                %uk: tensor<4x16x8xbf16>, %uv: tensor<4x16x8xbf16>) -> tensor<1x1x4x8xbf16> {
  %o = attn.attention #mla query(%q : tensor<1x1x4x12xbf16>) rows(%c : tensor<1x9x1x16xbf16>)
         rope_keys(%kr : tensor<1x9x4xbf16>) up_k(%uk : tensor<4x16x8xbf16>) up_v(%uv : tensor<4x16x8xbf16>)
         -> tensor<1x1x4x8xbf16>
  return %o : tensor<1x1x4x8xbf16>
}
