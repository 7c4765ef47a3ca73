"""compile(): kernels, manifest and report per target; diagnostics as
exceptions; several threads at once."""
import concurrent.futures as futures
import os

import pytest

import attn


def test_targets_and_version():
    assert attn.supported_targets() == ["cpu", "sm_80", "sm_90a", "gfx90a", "gfx942"]
    assert attn.version().count(".") == 2


@pytest.mark.parametrize("make", [
    lambda: attn.MHA(8, 64), lambda: attn.MQA(16, 64), lambda: attn.GQA(32, 8, 128),
    lambda: attn.GTA(32, 8, 128), lambda: attn.MLA(16), lambda: attn.GLA(32),
    lambda: attn.MFA(16, 128), lambda: attn.MFA_KR(16, 128),
    lambda: attn.GTASun(5, 20, 64, 128), lambda: attn.MTLA(16),
])
@pytest.mark.parametrize("target", ["sm_90a", "gfx942"])
def test_every_variant_compiles(make, target, tmp_path):
    v = make()
    k = attn.compile(v, target=target, formats=["isa"])
    assert k.modules() == [f"{v.name}_attn0"]
    (a,) = k.artifacts
    assert a.format == "isa"
    assert (b".target sm_90a" if target == "sm_90a" else b"amdgcn") in a.data
    fwd = k.manifest["modules"][0]["kernels"][0]
    assert fwd["name"] == "fwd"
    out = k.write(str(tmp_path / "kernels"))
    assert sorted(os.listdir(out)) == sorted([a.file_name, "manifest.json"])


@pytest.mark.parametrize("target, marker", [("sm_80", b".target sm_80"), ("gfx90a", b"gfx90a")])
def test_other_targets(target, marker):
    (a,) = attn.compile(attn.MLA(16), target=target, formats=["isa"]).artifacts
    assert marker in a.data


def test_prefill_and_mlir_text():
    v = attn.MQA(16, 64)
    k = attn.compile(v.mlir(query_tokens=0, function="mqa_prefill"), target="sm_80",
                     formats=["isa"])
    assert k.modules() == ["mqa_prefill_attn0"]
    assert k.manifest["modules"][0]["schedule"] == "mma"


def test_errors_carry_diagnostics():
    with pytest.raises(attn.AttnError, match="unknown target 'sm_61'"):
        attn.compile(attn.MHA(8, 64), target="sm_61")
    with pytest.raises(attn.AttnError) as e:
        attn.compile("func.func @f( {", target="sm_90a")
    assert e.value.diagnostics[0].location == "input:1:14"


def test_threads():
    v = attn.GQA(32, 8, 128)
    want = attn.compile(v, formats=["isa"]).artifacts[0].data
    with futures.ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda _: attn.compile(v, formats=["isa"]).artifacts[0].data,
                            range(8)))
    assert all(g == want for g in got)


def test_load_without_driver_names_the_problem(tmp_path):
    import ctypes
    try:
        ctypes.CDLL("libcuda.so.1")
        pytest.skip("a CUDA driver is present")
    except OSError:
        pass
    k = attn.compile(attn.MHA(4, 64), target="sm_90a", formats=["isa"])
    with pytest.raises(RuntimeError, match="no CUDA driver: cannot open libcuda.so.1"):
        k.load(str(tmp_path))


@pytest.mark.parametrize("make", [lambda: attn.GQA(8, 2, 64), lambda: attn.GTA(8, 2, 64, 32),
                                  lambda: attn.MLA(16)], ids=["gqa", "gta", "mla"])
def test_layers_compile_for_gpu(make):
    """A declared layer for the GPU: its attentions and cache updates become
    kernels (projections stay the framework's)."""
    v = make()
    k = attn.compile(v.layer_mlir(d_model=256, capacity=1024), target="sm_90a", formats=["isa"])
    mods = k.modules()
    assert f"{v.name}_prefill_attn0" in mods and f"{v.name}_decode_attn0" in mods
    assert f"{v.name}_decode_update0" in mods and f"{v.name}_decode_update1" in mods
