"""The exception that carries the compiler's diagnostics."""


class AttnError(Exception):
    """A compilation or declaration failed; `diagnostics` lists what the
    compiler said (each with `.severity`, `.location`, `.message`)."""

    def __init__(self, what, diagnostics=()):
        self.diagnostics = list(diagnostics)
        lines = [f"{d.location}: {d.message}" if d.location else d.message
                 for d in self.diagnostics]
        super().__init__("\n".join([what] + lines))
