"""On a GPU: a compiled variant run through the runtime on torch tensors,
every element checked against a float64 computation. Skips cleanly where
there is no torch, CUDA driver or device."""
import pytest

import attn

torch = pytest.importorskip("torch")
if not torch.cuda.is_available():
    pytest.skip("no CUDA device", allow_module_level=True)


def test_no_driver_message_is_clear(monkeypatch, tmp_path):
    monkeypatch.setenv("ATTN_RUNTIME_LIBRARY", "/nonexistent/libattn_runtime.so")
    with pytest.raises(OSError, match="libattn_runtime"):
        attn.compile(attn.MHA(4, 64), target="sm_90a", formats=["bin"]).load(str(tmp_path))


@pytest.mark.parametrize("make", [lambda: attn.GQA(8, 2, 64), lambda: attn.MQA(16, 64)])
def test_decode_matches_reference(make):
    major, minor = torch.cuda.get_device_capability()
    target = "sm_90a" if major == 9 else f"sm_{major}{minor}"
    v = make()
    art = attn.compile(v, target=target, formats=["bin"]).load()
    mod = art.module(f"{v.name}_attn0")
    hq, hkv, d = v.fields["num_q_heads"], v.fields["num_kv_heads"], v.fields["qk_head_dim"]
    B, L = 3, 777
    q = torch.randn(B, 1, hq, d, device="cuda", dtype=torch.bfloat16)
    k = torch.randn(B, L, hkv, d, device="cuda", dtype=torch.bfloat16)
    val = torch.randn(B, L, hkv, d, device="cuda", dtype=torch.bfloat16)
    lens = torch.tensor([L, 500, 1], device="cuda", dtype=torch.int32)
    out = torch.full((B, 1, hq, d), float("nan"), device="cuda", dtype=torch.bfloat16)
    t = {"query": q, "keys": k, "values": val, "seq_lens": lens, "out": out}
    mod.run({n: t[n].data_ptr() for n in mod.inputs}, B, 1, L)
    torch.cuda.synchronize()
    g = hq // hkv
    for b in range(B):
        n = int(lens[b])
        kk = k[b, :n].double().repeat_interleave(g, dim=1)     # [n, hq, d]
        vv = val[b, :n].double().repeat_interleave(g, dim=1)
        s = torch.einsum("hd,nhd->hn", q[b, 0].double(), kk) * v.fields["softmax_scale"]
        want = torch.einsum("hn,nhd->hd", torch.softmax(s, -1), vv)
        got = out[b, 0].double()
        assert torch.isfinite(got).all()
        assert (got - want).abs().max() / want.abs().max() < 2e-2
