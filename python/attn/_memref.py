"""Memref descriptors over numpy arrays: how compiled MLIR functions with the
C interface (`_mlir_ciface_<name>`) take and return tensors."""
import ctypes
import re

import numpy as np

CTYPES = {
    np.dtype(np.uint16): ctypes.c_uint16,  # bf16 bits
    np.dtype(np.float16): ctypes.c_uint16,
    np.dtype(np.float32): ctypes.c_float,
    np.dtype(np.float64): ctypes.c_double,
    np.dtype(np.int32): ctypes.c_int32,
    np.dtype(np.int64): ctypes.c_int64,
}
DTYPES = {"f16": np.float16, "f32": np.float32, "f64": np.float64,
          "i32": np.int32, "i64": np.int64}


def memref_struct(ctype, rank):
    class MemRef(ctypes.Structure):
        _fields_ = [
            ("allocated", ctypes.POINTER(ctype)),
            ("aligned", ctypes.POINTER(ctype)),
            ("offset", ctypes.c_int64),
            ("sizes", ctypes.c_int64 * rank),
            ("strides", ctypes.c_int64 * rank),
        ]
    return MemRef


def descriptor(array):
    """A descriptor viewing `array` (kept alive by the caller)."""
    ctype = CTYPES[array.dtype]
    desc = memref_struct(ctype, array.ndim)()
    ptr = array.ctypes.data_as(ctypes.POINTER(ctype))
    desc.allocated = ptr
    desc.aligned = ptr
    desc.offset = 0
    for i, (n, s) in enumerate(zip(array.shape, array.strides)):
        desc.sizes[i] = n
        desc.strides[i] = s // array.itemsize
    return desc


def copy_out(desc, rank, dtype):
    """A numpy copy of the tensor a result descriptor describes."""
    dtype = np.dtype(dtype)
    shape = tuple(desc.sizes[i] for i in range(rank))
    strides = tuple(desc.strides[i] * dtype.itemsize for i in range(rank))
    if shape and min(shape) == 0:
        return np.zeros(shape, dtype)
    base = ctypes.cast(desc.aligned, ctypes.c_void_p).value
    n = sum((s - 1) * st for s, st in zip(shape, strides))
    buf = (ctypes.c_char * (n + dtype.itemsize)).from_address(
        base + desc.offset * dtype.itemsize)
    return np.array(np.ndarray(shape, dtype=dtype, buffer=buf, strides=strides), copy=True)


BF16 = "bf16"  # numpy has none: float32 arrays outside, bf16 bits inside


def to_bf16_bits(array):
    """float32 -> bf16 bit patterns (uint16), rounded to nearest even."""
    bits = np.ascontiguousarray(array, dtype=np.float32).view(np.uint32)
    rounded = bits + 0x7FFF + ((bits >> 16) & 1)
    return (rounded >> 16).astype(np.uint16)


def from_bf16_bits(bits):
    """bf16 bit patterns (uint16) -> float32."""
    return (bits.astype(np.uint32) << 16).view(np.float32)


def parse_tensor_type(text):
    """`tensor<?x1x32x128xf32>` -> (rank, numpy dtype, or BF16)."""
    m = re.fullmatch(r"tensor<(.*)>", text)
    if not m:
        raise ValueError(f"not a tensor type: {text}")
    parts = m.group(1).split("x")
    if parts[-1] == "bf16":
        return len(parts) - 1, BF16
    if parts[-1] not in DTYPES:
        raise ValueError(f"element type {parts[-1]} has no numpy equivalent here: {text}")
    return len(parts) - 1, np.dtype(DTYPES[parts[-1]])
