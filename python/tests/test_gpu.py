"""On a GPU: decode kernels run through the runtime on torch tensors, every
element checked against a float64 computation. Where the compiler extension
is built, the kernels are compiled here from a declared variant; on a GPU
machine without MLIR they come from scripts/gpu-artifacts.sh
($ATTN_GPU_ARTIFACTS, default gpu-artifacts/sm_90a). Skips cleanly where
there is no torch or CUDA device."""
import os

import pytest

import attn
from attn.runtime import Artifact

torch = pytest.importorskip("torch")
if not torch.cuda.is_available():
    pytest.skip("no CUDA device", allow_module_level=True)

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
VARIANTS = {"gqa": lambda: attn.GQA(32, 8, 128), "mqa": lambda: attn.MQA(32, 128)}


def _decode_module(name):
    try:
        major, minor = torch.cuda.get_device_capability()
        target = "sm_90a" if major == 9 else f"sm_{major}{minor}"
        v = VARIANTS[name]()
        return attn.compile(v, target=target, formats=["bin"]).load().module(f"{name}_attn0")
    except attn.AttnError:  # no compiler here: the artifacts made elsewhere
        base = os.environ.get("ATTN_GPU_ARTIFACTS", os.path.join(ROOT, "gpu-artifacts", "sm_90a"))
        return Artifact(os.path.join(base, f"{name}-bf16")).module(f"{name}_decode_attn0")


@pytest.mark.parametrize("combine", ["auto", "row", "rows", "grid"])
@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_decode_matches_reference(name, combine):
    # Each combine kernel, forced: the plain merge has one over 8 batch
    # rows, here a partial block of 3; "grid": none, the forward kernel
    # merges the splits itself.
    mod = _decode_module(name)
    mod.set_combine(combine)
    hq, hkv = int(mod.info["num_q_heads"]), int(mod.info["num_kv_heads"])
    d, scale = int(mod.info["key_width"]), float(mod.info["softmax_scale"])
    B, L = 3, 777
    q = torch.randn(B, 1, hq, d, device="cuda", dtype=torch.bfloat16)
    k = torch.randn(B, L, hkv, d, device="cuda", dtype=torch.bfloat16)
    val = torch.randn(B, L, hkv, d, device="cuda", dtype=torch.bfloat16)
    lens = torch.tensor([L, 500, 1], device="cuda", dtype=torch.int32)
    # Rows past each sequence's length are garbage the kernels must not see.
    for b in range(B):
        k[b, int(lens[b]):] = float("nan")
        val[b, int(lens[b]):] = float("nan")
    out = torch.full((B, 1, hq, d), float("nan"), device="cuda", dtype=torch.bfloat16)
    t = {"query": q, "keys": k, "values": val, "seq_lens": lens, "out": out}
    mod.run({n: t[n].data_ptr() for n in mod.inputs}, B, 1, L)
    torch.cuda.synchronize()
    g = hq // hkv
    for b in range(B):
        n = int(lens[b])
        kk = k[b, :n].double().repeat_interleave(g, dim=1)
        vv = val[b, :n].double().repeat_interleave(g, dim=1)
        s = torch.einsum("hd,nhd->hn", q[b, 0].double(), kk) * scale
        want = torch.einsum("hn,nhd->hd", torch.softmax(s, -1), vv)
        got = out[b, 0].double()
        assert torch.isfinite(got).all()
        assert ((got - want).abs().max() / want.abs().max()).item() < 2e-2


def test_combine_choice_is_checked():
    mod = _decode_module("gqa")
    with pytest.raises(ValueError, match="combine mode"):
        mod.set_combine("many")
    mod.set_combine("row")
    mod.set_combine("auto")
