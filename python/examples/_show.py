"""What every per-variant example does with its declaration: print the
attribute and the compiler's report, and compile it for an NVIDIA and an
AMD GPU into `out/` (or the directory named on the command line)."""
import sys

import attn


def show(v):
    print(v.attribute())
    print(v.report())
    out = sys.argv[1] if len(sys.argv) > 1 else f"out-{v.name}"
    for target in ("sm_90a", "gfx942"):
        k = attn.compile(v, target=target, formats=["isa"])
        where = k.write(f"{out}/{target}")
        print(f"{target}: {', '.join(a.file_name for a in k.artifacts)} -> {where}")
