"""Declare MFA_KR, report its decode cost and compile it for sm_90a and gfx942."""
import sys

import attn

v = attn.MFA_KR(num_q_heads=64, head_dim=256)
print(v.attribute())
print(v.report())
for target in ("sm_90a", "gfx942"):
    k = attn.compile(v, target=target, formats=["isa"])
    out = k.write(sys.argv[1] + "/" + target if len(sys.argv) > 1 else "out-mfa_kr/" + target)
    print(f"{target}: {', '.join(a.file_name for a in k.artifacts)} -> {out}")
