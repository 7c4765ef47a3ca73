"""A GQA layer from its declaration, run on the CPU with numpy: prefill a
prompt into caches you own, then decode tokens one at a time."""
import numpy as np

import attn

v = attn.GQA(num_q_heads=8, num_kv_heads=2, head_dim=16)
D, C, B = 64, 32, 2                      # model width, cache rows, batch
layer = attn.compile(v.layer_mlir(d_model=D, capacity=C, dtype="f32"), target="cpu")
rng = np.random.default_rng(0)
wq, wk, wv = (rng.standard_normal((D, h, 16), dtype=np.float32) * D ** -0.5 for h in (8, 2, 2))
wo = rng.standard_normal((8, 16, D), dtype=np.float32) * 128 ** -0.5
k_cache = np.zeros((B, C, 2, 16), np.float32)
v_cache = np.zeros_like(k_cache)

prompt = rng.standard_normal((B, 5, D), dtype=np.float32)
positions = np.tile(np.arange(5), (B, 1))
lengths = np.zeros(B, np.int32)
y, k_cache, v_cache = layer.gqa_prefill(prompt, positions, k_cache, v_cache, lengths,
                                        wq, wk, wv, wo)
lengths += 5
x = y[:, -1:]                            # feed the layer its own output, for show
for step in range(3):
    y, k_cache, v_cache = layer.gqa_decode(x, lengths[:, None].astype(np.int64), k_cache,
                                           v_cache, lengths, lengths + 1, wq, wk, wv, wo)
    lengths += 1
    x = y
    print(f"step {step}: cache rows {lengths.tolist()}, |y| = {np.linalg.norm(y):.3f}")
