"""compile(): variants (or MLIR text) to GPU kernels, through the library."""
import json
import os

from .errors import AttnError


def _ext():
    try:
        from . import _attn
    except ImportError as e:  # the runtime-only use of the package
        raise AttnError("the attn compiler extension (attn._attn) is not built: "
                        f"pip install ./python after scripts/build.sh ({e})") from None
    return _attn


def version():
    return _ext().version()


def supported_targets():
    return ["cpu"] + list(_ext().supported_targets())


class Compiled:
    """Kernels for one target: `artifacts` (module, format, file_name, data),
    `manifest` (dict), `report` (text)."""

    def __init__(self, result, target):
        self.target = target
        self.artifacts = list(result.artifacts)
        self.manifest = json.loads(result.manifest)
        self.report = result.report

    def write(self, directory):
        """Writes the kernels and manifest.json (what the runtime loads)."""
        os.makedirs(directory, exist_ok=True)
        for a in self.artifacts:
            with open(os.path.join(directory, a.file_name), "wb") as f:
                f.write(a.data)
        with open(os.path.join(directory, "manifest.json"), "w") as f:
            json.dump(self.manifest, f, indent=2)
        return directory

    def load(self, directory=None, library=None):
        """Writes the kernels (to `directory`, or a temporary one) and opens
        them with the runtime on this machine's GPU: an attn.runtime.Artifact
        whose modules run on device pointers (torch tensors' data_ptr()).
        Raises attn.runtime.RuntimeError_ naming the problem where there is
        no GPU driver or device."""
        import tempfile
        from .runtime import Artifact
        if directory is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="attn-")
            directory = self._tmp.name
        return Artifact(self.write(directory), library)

    def modules(self):
        return [m["module"] for m in self.manifest.get("modules", [])]

    def __repr__(self):
        return f"Compiled({self.target}: {', '.join(self.modules())})"


def compile(what, target="sm_90a", formats=("isa", "bin"), **mlir_options):
    """Compiles a Variant (one attention step; `mlir_options` as for
    Variant.mlir) or MLIR text for `target`: "cpu" (an attn.cpu.CPUProgram
    whose functions run on numpy arrays) or a GPU (sm_80, sm_90a, gfx90a,
    gfx942: a Compiled holding kernels for the runtime). Raises AttnError
    carrying the compiler's diagnostics."""
    from .variants import Variant
    source = what.mlir(**mlir_options) if isinstance(what, Variant) else str(what)
    if target == "cpu":
        from .cpu import CPUProgram
        return CPUProgram(source)
    r = _ext().compile(source, target, list(formats))
    if not r.ok:
        raise AttnError(f"compilation for {target} failed", r.diagnostics)
    return Compiled(r, target)
