"""MHA 32 d128 decode at B=16, L=8k: our kernel and cuDNN after a 17 GB
allocation was made and freed ("big") or in a fresh process ("fresh"),
REPS eager calls each. Usage (GPU machine, gpu-artifacts/sm_90a, the runtime
built in /tmp/attn-rt by scripts/gpu-runtime.sh):
    python3 bench/diagnostics/mha_alloc_state.py fresh|big REPS
(docs/runs/2026-11-23-h100-mha-alloc-state.log)."""
import os, sys, torch, torch.nn.functional as F
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))
from attn.runtime import Artifact
from torch.nn.attention import SDPBackend, sdpa_kernel
state, reps = sys.argv[1], int(sys.argv[2])
if state == "big":
    x = torch.empty(17 * 2**30 // 2, dtype=torch.bfloat16, device="cuda"); x.fill_(1.0)
    del x; torch.cuda.synchronize(); torch.cuda.empty_cache()
art = Artifact(os.path.join(ROOT, "gpu-artifacts", "sm_90a", "mha-bf16"), "/tmp/attn-rt/lib/libattn_runtime.so")
mod = art.module("mha_decode_attn0")
B, L, H, D = 16, 8192, 32, 128
bf = torch.bfloat16
q = torch.randn(B, 1, H, D, dtype=bf, device="cuda")
k = torch.randn(B, L, H, D, dtype=bf, device="cuda")
v = torch.randn(B, L, H, D, dtype=bf, device="cuda")
out = torch.empty(B, 1, H, D, dtype=bf, device="cuda")
sl = torch.full((B,), L, dtype=torch.int32, device="cuda")
print(state, "k at", hex(k.data_ptr()), "v at", hex(v.data_ptr()))
bufs = {"query": q.data_ptr(), "keys": k.data_ptr(), "values": v.data_ptr(), "out": out.data_ptr(), "seq_lens": sl.data_ptr()}
ours = lambda: mod.run({n: bufs[n] for n in mod.inputs}, B, 1, L, 0, torch.cuda.current_stream().cuda_stream)
def cudnn():
    with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
        F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), scale=0.088)
for name, fn in (("ours", ours), ("cudnn", cudnn)):
    fn(); torch.cuda.synchronize()
    a, b = torch.cuda.Event(True), torch.cuda.Event(True)
    a.record()
    for _ in range(reps): fn()
    b.record(); torch.cuda.synchronize()
    print(state, name, f"{a.elapsed_time(b) * 1e3 / reps:.1f} us")
