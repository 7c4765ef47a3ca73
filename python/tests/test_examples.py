"""Every script in python/examples runs against the installed package."""
import glob
import os
import subprocess
import sys

import pytest

EXAMPLES = sorted(p for p in glob.glob(os.path.join(os.path.dirname(__file__), "..", "examples", "*.py"))
                  if not os.path.basename(p).startswith("_"))  # _show.py: their helper


@pytest.mark.parametrize("script", EXAMPLES, ids=os.path.basename)
def test_example_runs(script, tmp_path):
    r = subprocess.run([sys.executable, script, str(tmp_path)], cwd=tmp_path,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout


def test_compare_lists_every_variant():
    script = [s for s in EXAMPLES if s.endswith("compare_variants.py")][0]
    out = subprocess.run([sys.executable, script], capture_output=True, text=True).stdout
    for name in ("mha", "gqa", "mqa", "gta", "mla", "gla", "mfa", "mfa_kr", "gta_sun", "mtla"):
        assert f"\n{name} " in out
