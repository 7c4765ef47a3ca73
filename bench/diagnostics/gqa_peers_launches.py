"""Launches our GQA 32/8 d128 decode, cuDNN SDPA and FA2 SDPA three times each
at one shape, for Nsight Compute to profile side by side (GPU machine, after
scripts/gpu-artifacts.sh). Usage: ncu ... python3 bench/diagnostics/gqa_peers_launches.py LABEL B L
(docs/runs/2026-11-23-h100-ncu-gqa-vs-cudnn.log)."""
import os, sys, torch, torch.nn.functional as F
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))
from attn.runtime import Artifact
from torch.nn.attention import SDPBackend, sdpa_kernel
label, B, L = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
art = Artifact(os.path.join(ROOT, "gpu-artifacts", label, "gqa-bf16"), "/tmp/attn-rt/lib/libattn_runtime.so")
mod = art.module("gqa_decode_attn0")
bf = torch.bfloat16
q = torch.randn(B, 1, 32, 128, dtype=bf, device="cuda")
k = torch.randn(B, L, 8, 128, dtype=bf, device="cuda")
v = torch.randn(B, L, 8, 128, dtype=bf, device="cuda")
out = torch.empty(B, 1, 32, 128, dtype=bf, device="cuda")
sl = torch.full((B,), L, dtype=torch.int32, device="cuda")
bufs = {"query": q.data_ptr(), "keys": k.data_ptr(), "values": v.data_ptr(), "out": out.data_ptr(), "seq_lens": sl.data_ptr()}
for i in range(3):
    mod.run({n: bufs[n] for n in mod.inputs}, B, 1, L, int(os.environ.get("SPLITS", "0")), torch.cuda.current_stream().cuda_stream)
for be in (SDPBackend.CUDNN_ATTENTION, SDPBackend.FLASH_ATTENTION):
    for i in range(3):
        with sdpa_kernel(be):
            F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), scale=0.088, enable_gqa=True)
torch.cuda.synchronize()
