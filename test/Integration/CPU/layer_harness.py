"""Helpers for the layer-op and whole-layer CPU tests (extends harness.py).

harness.Module compiles with `attn-opt --attn-lower-to-cpu` and calls
functions returning one tensor. Here:

* `compile_module(text, passes)` runs extra attn-opt passes (for example
  `--attn-absorb-latent=policy=always`) before handing the IR to Module;
* `call(module, name, args, results)` calls a function returning several
  tensors (the C interface then passes a pointer to a struct of memref
  descriptors as its first argument);
* `check` compares every element against the float64 reference, relative to
  max|want|: 1e-5 for f32, 1e-12 for f64.
"""
import ctypes
import os
import subprocess
import tempfile

import numpy as np

from harness import (ATTN_OPT, LLVM_BIN, CompileError, Module, _CTYPES, _MLIR_TYPES,
                     _copy_out, _descriptor, _memref_struct, function, tensor_type)

__all__ = ["compile_module", "lower_to_llvm_ir", "call", "check", "tol", "function", "tensor_type",
           "mlir_type", "rounded", "CompileError"]


def mlir_type(dtype):
    return _MLIR_TYPES[np.dtype(dtype)]


def compile_module(mlir_text, passes=()):
    """A harness.Module, after running `passes` (attn-opt flags) on the text."""
    if passes:
        d = tempfile.mkdtemp(prefix="attn-cpu-pre-")
        src, out = os.path.join(d, "pre.mlir"), os.path.join(d, "post.mlir")
        with open(src, "w") as f:
            f.write(mlir_text)
        proc = subprocess.run([ATTN_OPT, src, *passes, "-o", out],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise CompileError(f"attn-opt {' '.join(passes)} failed:\n{proc.stderr}")
        with open(out) as f:
            mlir_text = f.read()
    return Module(mlir_text)


def call(module, name, args, results):
    """Calls `name` on numpy `args`; results = [(rank, dtype), ...].

    Every argument is copied first: one-shot bufferization may update a
    cache argument in place, and the caller's arrays must stay intact.
    Returns a list of arrays (one per result)."""
    args = [np.array(a, copy=True, order="C") for a in args]
    descs = [_descriptor(a) for a in args]
    fn = getattr(module._lib, "_mlir_ciface_" + name)
    fn.restype = None
    if len(results) == 1:
        res = _memref_struct(_CTYPES[np.dtype(results[0][1])], results[0][0])()
        fn(ctypes.byref(res), *[ctypes.byref(d) for d in descs])
        return [_copy_out(res, *results[0])]
    types = [_memref_struct(_CTYPES[np.dtype(dt)], r) for r, dt in results]

    class Results(ctypes.Structure):
        _fields_ = [(f"r{i}", t) for i, t in enumerate(types)]

    res = Results()
    fn(ctypes.byref(res), *[ctypes.byref(d) for d in descs])
    return [_copy_out(getattr(res, f"r{i}"), r, dt) for i, (r, dt) in enumerate(results)]


def tol(dtype):
    return 1e-5 if np.dtype(dtype) == np.float32 else 1e-12


def check(got, want, dtype, what=""):
    """Every element within tol(dtype) * max|want| of the reference."""
    want = np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    assert np.all(np.isfinite(got)), f"{what}: non-finite values"
    scale = np.max(np.abs(want)) if want.size else 1.0
    err = np.max(np.abs(got.astype(np.float64) - want)) / scale if want.size else 0.0
    assert err <= tol(dtype), f"{what}: max relative error {err:.3g} > {tol(dtype)}"
    return err


def rounded(a, dtype):
    """`a` rounded to `dtype` and back to float64: what the compiled code sees."""
    return np.asarray(a).astype(dtype).astype(np.float64)


def lower_to_llvm_ir(mlir_text, passes=()):
    """The LLVM IR text that attn-opt [passes] --attn-lower-to-cpu and
    mlir-translate make of the module (to inspect external calls)."""
    d = tempfile.mkdtemp(prefix="attn-cpu-ir-")
    src, mid, out = (os.path.join(d, n) for n in ("a.mlir", "b.mlir", "c.ll"))
    with open(src, "w") as fh:
        fh.write(mlir_text)
    for cmd in ([ATTN_OPT, src, *passes, "--attn-lower-to-cpu", "-o", mid],
                [os.path.join(LLVM_BIN, "mlir-translate"), "--mlir-to-llvmir", mid, "-o", out]):
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise CompileError(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    with open(out) as fh:
        return fh.read()
