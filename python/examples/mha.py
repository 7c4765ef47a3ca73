"""Declare MHA, report its decode cost and compile it for sm_90a and gfx942."""
import sys

import attn

v = attn.MHA(num_heads=32, head_dim=128)
print(v.attribute())
print(v.report())
for target in ("sm_90a", "gfx942"):
    k = attn.compile(v, target=target, formats=["isa"])
    out = k.write(sys.argv[1] + "/" + target if len(sys.argv) > 1 else "out-mha/" + target)
    print(f"{target}: {', '.join(a.file_name for a in k.artifacts)} -> {out}")
