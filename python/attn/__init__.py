"""attn: declare, compile and run attention variants.

    import attn
    v = attn.GQA(num_q_heads=32, num_kv_heads=8, head_dim=128)
    print(v.report())                  # cache bytes, intensity, schedule
    k = attn.compile(v, target="sm_90a")
    k.write("out/gqa")                 # kernels + manifest.json for the runtime

The compiler parts need the extension module (attn._attn, built by
`pip install ./python`); attn.runtime needs only the runtime library.
"""
from .errors import AttnError
from .variants import (GLA, GQA, GTA, MFA, MFA_KR, MHA, MLA, MQA, MTLA,
                       GTASun, Variant)
from .compiler import Compiled, compile, supported_targets, version

__all__ = ["AttnError", "Variant", "MHA", "MQA", "GQA", "GTA", "MLA", "GLA",
           "MFA", "MFA_KR", "GTASun", "MTLA", "compile", "Compiled",
           "supported_targets", "version"]
