"""Element types as the user names them, and PyTorch's rules for mixing them.

edugrad has five dtypes (ops.DType). A user may name one as PyTorch does (`edugrad.float32`,
`edugrad.long`), as a string ("float32") or as a numpy dtype or Python type; `to_dtype` turns
every spelling into a DType or refuses it by name. Half precision and complex numbers are refused
here: edugrad computes in float32 and float64.
"""

from __future__ import annotations

import builtins
from typing import Any, Union

import numpy as np

from edugrad.ops import DType

Scalar = Union[int, float, bool]

# Names PyTorch uses for the dtypes edugrad has, its aliases included (torch.long is int64).
NAMES: dict[str, DType] = {
    "float32": DType.float32, "float": DType.float32, "float64": DType.float64, "double": DType.float64,
    "int32": DType.int32, "int": DType.int32, "int64": DType.int64, "long": DType.int64, "bool": DType.bool,
}
# PyTorch dtypes edugrad knows by name but cannot compute in.
UNSUPPORTED = ("float16", "half", "bfloat16", "int8", "uint8", "int16", "short", "uint16", "uint32",
               "uint64", "complex64", "complex128", "cfloat", "cdouble")

# numpy kinds of the user's data, and the dtype each becomes (float data is float32, as in PyTorch).
HOST_KINDS: dict[str, DType] = {"f": DType.float32, "i": DType.int64, "u": DType.int64, "b": DType.bool}
RANK = [DType.bool, DType.int32, DType.int64, DType.float32, DType.float64]


class DefaultDtype:
    """The float dtype of new float tensors: float32 unless `edugrad.set_default_dtype` says otherwise."""

    value = DType.float32


def default_float() -> DType:
    return DefaultDtype.value


def to_dtype(dtype: Any, op: str, strict: bool = True) -> DType | None:
    """The DType that `dtype` names (None stays None). With strict=False, a value that names no
    dtype gives None instead of an error (so `to()` can tell a dtype from a device)."""
    if dtype is None or isinstance(dtype, DType):
        return dtype
    name: str | None = None
    if isinstance(dtype, str):
        name = dtype.removeprefix("torch.").removeprefix("edugrad.")
    elif any(dtype is t for t in (builtins.float, builtins.int, builtins.bool)):  # not ==: np.dtype("int64") == int
        name = {builtins.float: "float64", builtins.int: "int64", builtins.bool: "bool"}[dtype]  # float is float64, as in PyTorch
    elif isinstance(dtype, (np.dtype, type)):
        try:
            name = np.dtype(dtype).name
        except TypeError:
            name = None
    if name in NAMES:
        return NAMES[name]
    if not strict and name not in UNSUPPORTED:
        return None
    if name in UNSUPPORTED:
        raise TypeError(f"{op}: dtype {name} is not supported: edugrad computes in float32 and float64 "
                        f"(and int32, int64, bool)")
    raise TypeError(f"{op}: {dtype!r} is not a dtype; expected one of edugrad.float32, float64, int32, "
                    f"int64, bool (or their names as strings)")


def category(dtype: DType) -> int:
    """0 for bool, 1 for integers, 2 for floats: PyTorch's kinds of dtype."""
    return 2 if dtype.is_float else 0 if dtype == DType.bool else 1


def promote(a: DType, b: DType) -> DType:
    """The dtype of an op on dtypes a and b: bool < int32 < int64 < float32 < float64."""
    return a if RANK.index(a) >= RANK.index(b) else b


def to_host_array(data: Any, dtype: DType | None) -> np.ndarray:
    """Turn the user's lists, numbers and numpy arrays into a numpy array of an edugrad dtype."""
    if isinstance(data, (list, tuple)) and any(hasattr(d, "storage") for d in data):
        data = [np.asarray(d) for d in data]  # tensors inside a list
    if not isinstance(data, (np.ndarray, list, tuple, int, float, bool, np.number, np.bool_)):
        raise TypeError(f"Tensor: cannot make a tensor from {type(data).__name__}; expected a list, "
                        f"a number or a numpy array")
    try:
        array = np.asarray(data)
    except ValueError as e:
        raise ValueError(f"Tensor: the nested lists are ragged (rows of different lengths): {e}") from None
    if array.dtype.kind not in HOST_KINDS:
        raise TypeError(f"Tensor: unsupported element type {array.dtype} (expected numbers or bools)")
    if dtype is None:
        dtype = DType.int32 if array.dtype == np.int32 else HOST_KINDS[array.dtype.kind]
        if dtype == DType.float32 and array.dtype == np.float64 and isinstance(data, (np.ndarray, np.generic)):
            dtype = DType.float64  # a float64 numpy array stays float64, as torch.from_numpy and torch.tensor do
        elif dtype == DType.float32:
            dtype = default_float()
    if not dtype.is_float and dtype != DType.bool and array.size and array.dtype.kind in "iu":
        info = np.iinfo(dtype.value)
        low, high = array.min(), array.max()
        if low < info.min or high > info.max:
            raise OverflowError(f"Tensor: value {high if high > info.max else low} is out of range for "
                                f"{dtype.value} (from {info.min} to {info.max})")
    if not dtype.is_float and dtype != DType.bool and array.size and array.dtype.kind == "f":
        info = np.iinfo(dtype.value)
        bad = ~np.isfinite(array) | (array <= info.min - 1.0) | (array >= info.max + 1.0)
        if bad.any():
            raise OverflowError(f"Tensor: value {array[bad].flat[0]} cannot be converted to {dtype.value} "
                                f"without overflow")
    return array.astype(dtype.value, copy=False)


def to_dtype_of(value: Scalar) -> DType:
    """The dtype PyTorch gives a Python number: bool, int64, or the default float."""
    return DType.bool if isinstance(value, bool) else DType.int64 if isinstance(value, int) else default_float()
