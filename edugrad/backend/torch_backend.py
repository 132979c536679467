"""A backend that keeps every tensor's data in a `torch.Tensor`, on the CPU or a GPU.

Each primitive op is one or two torch calls. Only torch's array library is used, never its
autograd: edugrad computes its own gradients, and no tensor here ever requires grad, so torch
records no graph (and the caller's grad mode is left alone).

The device comes from the environment variable `EDUGRAD_DEVICE` ("cpu" when unset; "cuda",
"cuda:1", ... for a GPU), read once when this module is imported.
"""

from __future__ import annotations

import os
from typing import Callable

import numpy as np
import torch

from edugrad.backend.base import Shape, TensorData, fold_slices, window_sizes
from edugrad.ops import BinaryOps, DType, ReduceOps, UnaryOps

TORCH_DTYPES: dict[DType, torch.dtype] = {
    DType.float32: torch.float32,
    DType.float64: torch.float64,
    DType.int32: torch.int32,
    DType.int64: torch.int64,
    DType.bool: torch.bool,
}
EDUGRAD_DTYPES: dict[torch.dtype, DType] = {v: k for k, v in TORCH_DTYPES.items()}
SUPPORTED_NAMES = [dtype.value for dtype in DType]


def pick_device(name: str) -> torch.device:
    """The torch device called `name`, or a clear error if this machine cannot use it."""
    try:
        device = torch.device(name)
    except RuntimeError as e:
        raise ValueError(f"EDUGRAD_DEVICE={name!r} is not a torch device name ({e}); try 'cpu' or 'cuda'") from e
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            f"EDUGRAD_DEVICE={name!r} asks for a CUDA GPU, but torch {torch.__version__} sees none "
            "(torch.cuda.is_available() is False); unset EDUGRAD_DEVICE or set it to 'cpu'"
        )
    return device


DEVICE = pick_device(os.environ.get("EDUGRAD_DEVICE", "cpu"))


def true_divide(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """x / y. Integers divide as numpy does, to float64 (torch alone would give float32)."""
    if not x.dtype.is_floating_point:
        x, y = x.double(), y.double()
    return torch.div(x, y)


UNARY: dict[UnaryOps, Callable[[torch.Tensor], torch.Tensor]] = {
    UnaryOps.EXP2: torch.exp2,
    UnaryOps.LOG2: torch.log2,
    UnaryOps.SIN: torch.sin,
    UnaryOps.COS: torch.cos,
    UnaryOps.TANH: torch.tanh,
    UnaryOps.SQRT: torch.sqrt,
    UnaryOps.NEG: torch.neg,
    UnaryOps.RECIPROCAL: torch.reciprocal,
}
BINARY: dict[BinaryOps, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    BinaryOps.ADD: torch.add,
    BinaryOps.SUB: torch.sub,
    BinaryOps.MUL: torch.mul,
    BinaryOps.DIV: true_divide,
    BinaryOps.IDIV: torch.floor_divide,  # Python's // for floats and ints
    BinaryOps.MOD: torch.remainder,  # Python's %: the sign of the divisor
    BinaryOps.MAX: torch.maximum,
    BinaryOps.CMPLT: torch.lt,
    BinaryOps.CMPEQ: torch.eq,
    BinaryOps.AND: torch.bitwise_and,  # on bools, logical
    BinaryOps.OR: torch.bitwise_or,
    BinaryOps.XOR: torch.bitwise_xor,
}


def tensor_of(data: TensorData) -> torch.Tensor:
    """The torch.Tensor inside `data`, which must come from this backend too."""
    if not isinstance(data, TorchData):
        raise TypeError(f"torch backend: cannot mix TorchData with {type(data).__name__}")
    return data.tensor


class TorchData(TensorData):
    """A torch.Tensor on DEVICE. Movement ops return torch views, except PAD and negative STRIDE."""

    __slots__ = ("tensor", "shape", "dtype")
    _generator = torch.Generator(device=DEVICE).manual_seed(0)
    device = DEVICE.type  # where every tensor of this backend lives (edugrad/device.py)

    def __init__(self, tensor: torch.Tensor):
        self.tensor = tensor
        self.shape: Shape = tuple(tensor.shape)
        self.dtype: DType = EDUGRAD_DTYPES[tensor.dtype]

    @classmethod
    def const(cls, value: float | int | bool, shape: Shape, dtype: DType) -> TorchData:
        # Convert in Python first, so that e.g. 2.7 as int32 truncates to 2 exactly as numpy does;
        # then expand one element to the shape, a zero-stride view like numpy's broadcast_to.
        if dtype.is_float:
            value = float(value)
        else:
            value = bool(value) if dtype == DType.bool else int(value)
        one = torch.tensor(value, dtype=TORCH_DTYPES[dtype], device=DEVICE)
        return cls(one.expand(shape))

    @classmethod
    def random(cls, shape: Shape) -> TorchData:
        return cls(torch.rand(shape, generator=cls._generator, dtype=torch.float32, device=DEVICE))

    @classmethod
    def seed(cls, seed: int) -> None:
        TorchData._generator = torch.Generator(device=DEVICE).manual_seed(seed)

    @classmethod
    def from_host(cls, array: np.ndarray) -> TorchData:
        if array.dtype.name not in SUPPORTED_NAMES:
            raise TypeError(f"from_host: numpy dtype {array.dtype} is not supported; "
                            f"edugrad has {', '.join(SUPPORTED_NAMES)}")
        # The numpy copy owns its memory, is C-ordered (torch rejects negative strides) and is never
        # seen by the caller, so sharing it with the CPU tensor is safe.
        return cls(torch.from_numpy(np.array(array, copy=True, order="C")).to(DEVICE))

    def to_host(self) -> np.ndarray:
        return self.tensor.cpu().numpy()

    def unary(self, op: UnaryOps) -> TorchData:
        return TorchData(UNARY[op](self.tensor))

    def binary(self, op: BinaryOps, other: TensorData) -> TorchData:
        return TorchData(BINARY[op](self.tensor, tensor_of(other)))

    def where(self, x: TensorData, y: TensorData) -> TorchData:
        return TorchData(torch.where(self.tensor, tensor_of(x), tensor_of(y)))

    # torch's index ops take int64 positions only; an int64 index passes through `.long()` uncopied.
    def gather(self, axis: int, index: TensorData) -> TorchData:
        return TorchData(torch.gather(self.tensor, axis, tensor_of(index).long()))

    def scatter_add(self, axis: int, index: TensorData, shape: Shape) -> TorchData:
        out = torch.zeros(shape, dtype=self.tensor.dtype, device=DEVICE)
        return TorchData(out.scatter_add_(axis, tensor_of(index).long(), self.tensor))

    def reduce(self, op: ReduceOps, axes: tuple[int, ...]) -> TorchData:
        out_dtype = TORCH_DTYPES[DType.int64 if self.dtype == DType.bool and op == ReduceOps.SUM else self.dtype]
        if not axes:  # torch reads an empty `dim` as "every axis"; the contract means "none"
            return TorchData(self.tensor.to(out_dtype))
        if op == ReduceOps.SUM:
            # An explicit dtype, or torch would sum int32 into int64.
            return TorchData(torch.sum(self.tensor, dim=axes, keepdim=True, dtype=out_dtype))
        return TorchData(torch.amax(self.tensor, dim=axes, keepdim=True))

    def reshape(self, shape: Shape) -> TorchData:
        return TorchData(self.tensor.reshape(shape))

    def permute(self, order: tuple[int, ...]) -> TorchData:
        return TorchData(self.tensor.permute(order))

    def expand(self, shape: Shape) -> TorchData:
        return TorchData(self.tensor.expand(shape))

    def pad(self, padding: tuple[tuple[int, int], ...]) -> TorchData:
        # Zeros of the padded shape with `self` written into the middle: one rule for every dtype
        # and number of dims (torch.nn.functional.pad lists axes backwards and rejects some dtypes).
        shape = tuple(before + n + after for n, (before, after) in zip(self.shape, padding))
        out = torch.zeros(shape, dtype=self.tensor.dtype, device=DEVICE)
        out[tuple(slice(before, before + n) for n, (before, _) in zip(self.shape, padding))] = self.tensor
        return TorchData(out)

    def shrink(self, bounds: tuple[tuple[int, int], ...]) -> TorchData:
        return TorchData(self.tensor[tuple(slice(start, stop) for start, stop in bounds)])

    def stride(self, steps: tuple[int, ...]) -> TorchData:
        # torch slicing has no negative steps: reverse those axes (a copy), then step forwards.
        reversed_axes = [axis for axis, step in enumerate(steps) if step < 0]
        x = self.tensor.flip(reversed_axes) if reversed_axes else self.tensor
        return TorchData(x[tuple(slice(None, None, abs(step)) for step in steps)])

    def window(self, kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...]) -> TorchData:
        # The same strided view as the numpy backend, over a contiguous copy when needed (an
        # expanded or permuted input has strides that as_strided cannot simply scale).
        x = self.tensor.contiguous()
        k = len(kernel)
        spatial, spatial_strides = x.shape[-k:], x.stride()[-k:]
        out_sizes = window_sizes(spatial, kernel, stride, dilation)
        shape = tuple(x.shape[:-k]) + tuple(out_sizes) + tuple(kernel)
        strides = (
            x.stride()[:-k]
            + tuple(st * s for st, s in zip(spatial_strides, stride))
            + tuple(st * d for st, d in zip(spatial_strides, dilation))
        )
        return TorchData(x.as_strided(shape, strides))

    def fold(self, shape: Shape, stride: tuple[int, ...], dilation: tuple[int, ...]) -> TorchData:
        # As the numpy backend: one in-place add per kernel position into a strided slice.
        out = torch.zeros(shape, dtype=self.tensor.dtype, device=DEVICE)
        for into, source in fold_slices(self.shape, stride, dilation):
            out[into] += self.tensor[source]
        return TorchData(out)

    def cast(self, dtype: DType) -> TorchData:
        return TorchData(self.tensor.to(TORCH_DTYPES[dtype]))  # float -> int truncates toward 0

    def matmul(self, other: TensorData) -> TorchData:
        x, y = self.tensor, tensor_of(other)
        if x.dtype.is_floating_point:
            return TorchData(torch.matmul(x, y))
        # torch has no integer matmul on GPUs: multiply (..., n, k, 1) by (..., 1, k, m), sum over k.
        return TorchData(torch.sum(x.unsqueeze(-1) * y.unsqueeze(-3), dim=-2).to(x.dtype))
