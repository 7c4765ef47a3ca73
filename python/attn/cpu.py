"""Programs JIT-compiled for the host CPU (the reference lowering), called on
numpy arrays: a layer of one of examples/*.mlir with your own weights and
caches, or one attention step of a variant."""
import ctypes

import numpy as np

from . import _memref
from .errors import AttnError


class Function:
    def __init__(self, program, signature):
        self.name = signature.name
        self._program = program  # keeps the JIT-compiled code loaded
        self.arguments = [_memref.parse_tensor_type(t) for t in signature.arguments]
        self.results = [_memref.parse_tensor_type(t) for t in signature.results]
        address = program._p.address(self.name)
        if not address:
            raise AttnError(f"function {self.name} was not compiled")
        self._fn = ctypes.CFUNCTYPE(None, *([ctypes.c_void_p] * (1 + len(self.arguments))))(address)

    def __call__(self, *arrays):
        """Calls the function; returns its result (a tuple when several).
        Arrays are converted to the element type the signature declares;
        bf16 arguments take float32 arrays (rounded to bf16) and bf16 results
        come back as float32."""
        if len(arrays) != len(self.arguments):
            raise AttnError(f"{self.name} takes {len(self.arguments)} arrays, got {len(arrays)}")
        keep = []
        for a, (rank, dtype) in zip(arrays, self.arguments):
            # A copy: bufferization may update an argument (a cache) in
            # place, and the caller's arrays must stay as they were.
            if dtype == _memref.BF16:
                a = _memref.to_bf16_bits(a)  # a new array
            else:
                a = np.array(a, dtype=dtype, copy=True, order="C")
            if a.ndim != rank:
                raise AttnError(f"{self.name}: an argument of rank {rank} got shape {a.shape}")
            keep.append(a)
        descs = [_memref.descriptor(a) for a in keep]
        store = [np.dtype(np.uint16) if d == _memref.BF16 else d for _, d in self.results]
        fields = [(f"r{i}", _memref.memref_struct(_memref.CTYPES[d], r))
                  for i, ((r, _), d) in enumerate(zip(self.results, store))]
        Results = type("Results", (ctypes.Structure,), {"_fields_": fields})
        out = Results()
        # One result is returned through a pointer to its descriptor; several
        # through a pointer to a struct of descriptors: the same address.
        self._fn(ctypes.addressof(out), *[ctypes.addressof(d) for d in descs])
        values = tuple(_memref.copy_out(getattr(out, f"r{i}"), r, d)
                       for i, ((r, _), d) in enumerate(zip(self.results, store)))
        values = tuple(_memref.from_bf16_bits(v) if d == _memref.BF16 else v
                       for v, (_, d) in zip(values, self.results))
        return values[0] if len(values) == 1 else values


class CPUProgram:
    """A module compiled for this CPU; `program.<function>(*arrays)` or
    `program["name"](*arrays)` calls a function."""

    def __init__(self, source):
        from .compiler import _ext
        self._p = _ext().compile_cpu(source)
        if not self._p.ok:
            raise AttnError("compilation for the CPU failed", self._p.diagnostics)
        self.functions = {s.name: Function(self, s) for s in self._p.functions}

    def __getitem__(self, name):
        return self.functions[name]

    def __getattr__(self, name):
        try:
            return self.__dict__["functions"][name]
        except KeyError:
            raise AttributeError(name) from None
