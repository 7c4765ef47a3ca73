"""ctypes binding of the attn runtime's C API (include/attn/Runtime/attn_runtime.h).

Runs the kernels of an artifact directory on device pointers (e.g. torch
tensors' data_ptr()). Needs only libattn_runtime.so, not the compiler: it
works on GPU machines without MLIR (bench/bench_decode.py uses it there).
"""
import ctypes
import os


class RuntimeError_(RuntimeError):
    pass


def default_library():
    """libattn_runtime.so: $ATTN_RUNTIME_LIBRARY, else the one installed
    beside this package by pip install ./python."""
    return os.environ.get("ATTN_RUNTIME_LIBRARY") or os.path.join(
        os.path.dirname(__file__), "libattn_runtime.so")


class Artifact:
    """An artifact directory (kernels + manifest.json) opened on the GPU."""

    def __init__(self, directory, library=None):
        self._lib = ctypes.CDLL(library or default_library())
        L = self._lib
        L.attn_artifact_open.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p),
                                         ctypes.c_char_p, ctypes.c_size_t]
        L.attn_artifact_find.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        L.attn_module_num_inputs.argtypes = [ctypes.c_void_p, ctypes.c_int]
        L.attn_module_input_name.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
        L.attn_module_input_name.restype = ctypes.c_char_p
        L.attn_module_manifest.argtypes = [ctypes.c_void_p, ctypes.c_int]
        L.attn_module_manifest.restype = ctypes.c_char_p
        L.attn_module_run.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_void_p),
                                      ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64,
                                      ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
        L.attn_module_set_combine.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                                              ctypes.c_char_p, ctypes.c_size_t]
        L.attn_artifact_close.argtypes = [ctypes.c_void_p]
        self._err = ctypes.create_string_buffer(1024)
        self._h = ctypes.c_void_p()
        if L.attn_artifact_open(os.fsencode(directory), ctypes.byref(self._h), self._err, 1024):
            raise RuntimeError_(self._err.value.decode())

    def module(self, name):
        i = self._lib.attn_artifact_find(self._h, name.encode())
        if i < 0:
            raise KeyError(name)
        return Module(self, i)


class Module:
    def __init__(self, art, index):
        self._a, self._i = art, index
        L = art._lib
        n = L.attn_module_num_inputs(art._h, index)
        self.inputs = [L.attn_module_input_name(art._h, index, k).decode() for k in range(n)]
        info = L.attn_module_manifest(art._h, index).decode()
        self.info = dict(kv.split("=", 1) for kv in info.split(";") if kv)

    COMBINE = {"auto": 0, "row": 1, "rows": 2, "wide": 3, "grid": 4, "slices": 5,
               "latent-slices": 6}

    def set_combine(self, mode):
        """Which combine kernel run() launches: "auto" (by size), "row" (one
        batch row per block), "wide" (the same on more threads,
        combine_wide), "slices" (that in column slices, combine_slices),
        "rows" (combine_rows), "latent-slices" (project_slices) or "grid"
        (none: the forward kernel merges the splits, grid_merge), each where
        the module has it."""
        if mode not in self.COMBINE:
            raise ValueError(f"combine mode must be one of {sorted(self.COMBINE)}, got {mode!r}")
        a = self._a
        if a._lib.attn_module_set_combine(a._h, self._i, self.COMBINE[mode], a._err, 1024):
            raise RuntimeError_(a._err.value.decode())

    def run(self, buffers, B, Tq, L, splits=0, stream=None):
        """buffers: dict name -> device pointer (int, 16-byte aligned), for
        every input."""
        ptrs = (ctypes.c_void_p * len(self.inputs))(*[buffers[n] for n in self.inputs])
        a = self._a
        if a._lib.attn_module_run(a._h, self._i, ptrs, B, Tq, L, splits, stream, a._err, 1024):
            raise RuntimeError_(a._err.value.decode())
