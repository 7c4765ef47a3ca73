"""Compile attn IR for the host CPU and call it on numpy arrays.

The module goes through `attn-opt --attn-lower-to-cpu`, `mlir-translate` and
clang into a shared object; functions marked `llvm.emit_c_interface` are then
called through ctypes with memref descriptors built over the numpy arrays.
"""
import ctypes
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BUILD = os.environ.get("ATTN_BUILD_DIR", os.path.join(ROOT, "build"))
ATTN_OPT = os.path.join(BUILD, "bin", "attn-opt")
LLVM_BIN = "/usr/lib/llvm-22/bin"

# Memref descriptors: the Python package's helpers (python/attn/_memref.py).
sys.path.insert(0, os.path.join(ROOT, "python"))
from attn._memref import CTYPES as _CTYPES  # noqa: E402
from attn._memref import copy_out as _copy_out  # noqa: E402
from attn._memref import descriptor as _descriptor  # noqa: E402
from attn._memref import memref_struct as _memref_struct  # noqa: E402

_MLIR_TYPES = {
    np.dtype(np.float32): "f32",
    np.dtype(np.float64): "f64",
    np.dtype(np.int32): "i32",
    np.dtype(np.int64): "i64",
}


def tensor_type(shape, dtype):
    """`tensor<2x7x4x8xf32>` for a shape (None = dynamic) and numpy dtype."""
    dims = "x".join("?" if d is None else str(d) for d in shape)
    return f"tensor<{dims}x{_MLIR_TYPES[np.dtype(dtype)]}>"


class CompileError(RuntimeError):
    pass


class Module:
    """A compiled module: call its functions with numpy arrays."""

    def __init__(self, mlir_text, keep_dir=None):
        self._dir = keep_dir or tempfile.mkdtemp(prefix="attn-cpu-")
        src = os.path.join(self._dir, "module.mlir")
        llvm_mlir = os.path.join(self._dir, "module.llvm.mlir")
        ll = os.path.join(self._dir, "module.ll")
        so = os.path.join(self._dir, "module.so")
        with open(src, "w") as f:
            f.write(mlir_text)
        self._run([ATTN_OPT, src, "--attn-lower-to-cpu", "-o", llvm_mlir])
        self._run([os.path.join(LLVM_BIN, "mlir-translate"), "--mlir-to-llvmir",
                   llvm_mlir, "-o", ll])
        self._run(["clang-22", "-shared", "-fPIC", "-O1", "-Wno-override-module",
                   ll, "-o", so, "-lm"])
        self._lib = ctypes.CDLL(so)
        self._keep = [self._lib]

    @staticmethod
    def _run(cmd):
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise CompileError(f"{' '.join(cmd)} failed:\n{proc.stderr}")

    def call(self, name, args, out_shape_rank, out_dtype):
        """Calls `name` (returning one tensor) and copies the result out."""
        args = [np.ascontiguousarray(a) for a in args]
        descs = [_descriptor(a) for a in args]
        out_ct = _CTYPES[np.dtype(out_dtype)]
        result = _memref_struct(out_ct, out_shape_rank)()
        fn = getattr(self._lib, "_mlir_ciface_" + name)
        fn.restype = None
        fn(ctypes.byref(result), *[ctypes.byref(d) for d in descs])
        # The result buffer was malloc'ed by the compiled code; copy it out.
        return _copy_out(result, out_shape_rank, out_dtype)


def function(name, args, result_type, body):
    """A func.func with the C interface: args = [(ssa, type)], body lines."""
    sig = ", ".join(f"%{n}: {t}" for n, t in args)
    lines = "\n    ".join(body)
    return (f"func.func @{name}({sig}) -> {result_type} "
            f"attributes {{llvm.emit_c_interface}} {{\n    {lines}\n}}\n")
