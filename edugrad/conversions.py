# mypy: disable-error-code="misc"
"""The Tensor at the user boundary: turning it into numbers, numpy arrays, text, another dtype or
another device. Tensor inherits these methods; `to` is where dtype and device requests are checked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from edugrad.devices import device_of
from edugrad.dtypes import to_dtype
from edugrad.function import Cast
from edugrad.ops import DType

if TYPE_CHECKING:
    from edugrad.tensor import Tensor


class Conversions:
    """Tensor's conversions (Tensor inherits them)."""

    __slots__ = ()

    def numpy(self: Tensor) -> np.ndarray:
        array = self.storage.data.to_host()
        return array if array.flags.writeable else array.copy()

    def __array__(self: Tensor, dtype: Any = None, copy: Any = None) -> np.ndarray:
        array = self.storage.data.to_host()
        return array if dtype is None else array.astype(dtype)

    def item(self: Tensor) -> Any:
        if self.numel() != 1:
            raise RuntimeError(f"item: only a tensor with one element can be converted to a Python "
                             f"scalar, this one has shape {self.shape}")
        return self.storage.data.to_host().reshape(()).item()

    def tolist(self: Tensor) -> Any:
        return self.storage.data.to_host().tolist()

    def __float__(self: Tensor) -> float:
        return float(self.item())

    def __int__(self: Tensor) -> int:
        return int(self.item())

    def __index__(self: Tensor) -> int:
        if self.dtype.is_float or self.numel() != 1:
            raise TypeError(f"index: only integer tensors of a single element can be converted to an "
                            f"index, this one is {self.dtype.value} of shape {self.shape}")
        return int(self.item())

    def __bool__(self: Tensor) -> bool:
        if self.numel() != 1:
            raise RuntimeError(f"bool: the truth value of a tensor with shape {self.shape} is "
                               f"ambiguous; use .any() or .all()")
        return bool(self.item())

    def __format__(self: Tensor, spec: str) -> str:
        return format(self.item(), spec) if self.numel() == 1 and spec else repr(self)

    def __repr__(self: Tensor) -> str:
        body = np.array2string(self.storage.data.to_host(), precision=4, separator=", ", threshold=50,
                               prefix="tensor(")
        extras = [] if self.dtype in (DType.float32, DType.int64, DType.bool) else [f"dtype=edugrad.{self.dtype.value}"]
        if self._ctx is not None:
            extras.append(f"grad_fn=<{type(self._ctx).__name__}Backward>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        if self.label:
            extras.append(f"label={self.label!r}")
        return f"tensor({body}{''.join(', ' + e for e in extras)})"

    def to(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        """to(dtype), to(device), to(device, dtype) or to(other tensor), as PyTorch."""
        if len(args) == 1 and not kwargs and isinstance(args[0], DType):  # to(DType.x): every dtype promotion
            return self._cast(args[0])
        dtype = to_dtype(kwargs.get("dtype"), "to")
        for arg in (*args, kwargs.get("device")):
            if isinstance(arg, Conversions):  # another tensor: take its dtype
                dtype = arg.dtype  # type: ignore[attr-defined]
            elif arg is not None and to_dtype(arg, "to", strict=False) is not None:
                dtype = to_dtype(arg, "to")
            elif arg is not None:
                device_of(arg, "to")  # refuses a device this backend cannot reach
        return self._cast(dtype)

    def _cast(self: Tensor, dtype: DType | None) -> Tensor:
        if dtype is None or dtype == self.dtype:
            return self
        if not dtype.is_float:  # integers and bools carry no gradient
            return self.from_data(self.storage.data.cast(dtype))
        return Cast.apply(self, dtype=dtype)

    def type(self: Tensor, dtype: Any = None) -> Any:
        if dtype is None:
            return f"edugrad.{self.dtype.value}"
        return self.to(dtype)

    def is_floating_point(self: Tensor) -> bool:
        return self.dtype.is_float

    def type_as(self: Tensor, other: Tensor) -> Tensor:
        return self.to(other.dtype)

    def cpu(self: Tensor) -> Tensor:
        return self.to("cpu")

    def cuda(self: Tensor, device: Any = None) -> Tensor:
        return self.to(device or "cuda")

    # Shorthand casts. Last in the class: inside the class body their names hide the builtins.
    def float(self: Tensor) -> Tensor:
        return self.to(DType.float32)

    def double(self: Tensor) -> Tensor:
        return self.to(DType.float64)

    def int(self: Tensor) -> Tensor:
        return self.to(DType.int32)

    def long(self: Tensor) -> Tensor:
        return self.to(DType.int64)

    def bool(self: Tensor) -> Tensor:
        return self.to(DType.bool)

    def half(self: Tensor) -> Tensor:
        return self.to("float16")  # refused by to_dtype, naming the dtypes edugrad computes in

    def bfloat16(self: Tensor) -> Tensor:
        return self.to("bfloat16")
