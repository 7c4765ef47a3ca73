"""Declaring variants: the attribute written, the verifier's messages, the
MLIR of a step, and the report's cache sizes against variants.md's table."""
import pytest

import attn


def test_gqa_attribute_and_mlir():
    v = attn.GQA(num_q_heads=32, num_kv_heads=8, head_dim=128)
    assert v.attribute().startswith("#attn.variant<kv_form = separate, num_q_heads = 32, "
                                    "num_kv_heads = 8, qk_head_dim = 128")
    text = v.mlir()
    assert "func.func @gqa(%arg0: tensor<?x1x32x128xbf16>, %arg1: tensor<?x?x8x128xbf16>" in text
    assert "attn.attention" in text
    prefill = v.mlir(dtype="f16", query_tokens=0)
    assert "tensor<?x?x32x128xf16>" in prefill


@pytest.mark.parametrize("make, bytes_per_token", [
    (lambda: attn.MHA(32, 128), 2 * 32 * 128 * 2),
    (lambda: attn.MQA(32, 128), 2 * 128 * 2),
    (lambda: attn.GQA(32, 8, 128), 2 * 8 * 128 * 2),
    (lambda: attn.GTA(32, 8, 128, rope_dim=64), (8 * 128 + 64) * 2),
    (lambda: attn.MLA(128), (512 + 64) * 2),
    (lambda: attn.GLA(128, num_latent_heads=2, latent_dim=256), (2 * 256 + 64) * 2),
    (lambda: attn.MFA(64, 256), 2 * 256 * 2),
    (lambda: attn.MFA_KR(64, 256), 256 * 2),
    (lambda: attn.GTASun(5, 20, 64, 128), (64 + 128) * 2),
    (lambda: attn.MTLA(32, time_stride=2), (512 + 64) * 2 / 2),
])
def test_cache_bytes_per_token(make, bytes_per_token):
    assert make().cache_bytes_per_token() == pytest.approx(bytes_per_token)


def test_report_names_schedule():
    assert "mma-stream" in attn.GQA(32, 8, 128).report()
    assert "streaming" in attn.GQA(32, 8, 128).report(tensor_cores=False)
    assert "mma" in attn.MLA(128).report()
    assert "tiled" in attn.MLA(128).report(tensor_cores=False)


def test_verifier_messages():
    with pytest.raises(attn.AttnError) as e:
        attn.GQA(num_q_heads=6, num_kv_heads=4, head_dim=64)
    assert "variant 'num_q_heads' (6) is not divisible by 'num_kv_heads' (4)" in str(e.value)
    assert e.value.diagnostics[0].message.startswith("variant 'num_q_heads'")
    with pytest.raises(attn.AttnError, match="rope"):
        attn.GTA(32, 8, 128, rope_dim=256)
    with pytest.raises(attn.AttnError, match="unknown dtype 'f8'"):
        attn.MHA(8, 64).mlir(dtype="f8")
