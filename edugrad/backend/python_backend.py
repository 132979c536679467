"""A pure-Python backend: the primitive ops spelled out with lists and loops, to be read, not run fast.

A tensor is a flat Python list of its elements in row-major order plus its `shape`. The element
at index (i0, i1, ..., ik) sits at `offset(index, shape)`, and every movement op is a `move`:
for each index of the result, say which index of the input it reads. numpy appears only at the
user boundary (`from_host`, `to_host`).

Precision: each op computes in Python floats (double precision) and then rounds its results to
the tensor's dtype, so float32 tensors hold float32 values, integers wrap around like numpy's
int32/int64, and bools stay bools. Slow by design: use it on small shapes.
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
import random
from array import array as c_array
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from edugrad.backend.base import Shape, TensorData, window_sizes
from edugrad.ops import BinaryOps, DType, ReduceOps, UnaryOps

Value = Any  # one element: float, int or bool, as the dtype says


# ---- indexing: where the element at a multi-index lives in the flat list ----
def indices(shape: Shape) -> Iterator[tuple[int, ...]]:
    """Every multi-index of `shape`, in row-major order (the order of the flat list)."""
    return itertools.product(*(range(n) for n in shape))


def offset(index: Sequence[int], shape: Shape) -> int:
    """Position in the flat row-major list of the element at `index`."""
    position = 0
    for i, n in zip(index, shape):
        position = position * n + i
    return position


def fit(values: list[Value], dtype: DType) -> list[Value]:
    """The values as elements of `dtype`: float32-rounded, wrapped to the int width, or bool."""
    if dtype == DType.float32:
        return c_array("f", values).tolist()  # a C float array stores, so rounds to, float32
    if dtype == DType.float64:
        return [float(v) for v in values]
    if dtype == DType.bool:
        return [bool(v) for v in values]
    bits = 32 if dtype == DType.int32 else 64
    half = 2 ** (bits - 1)
    return [(int(v) + half) % (2 * half) - half for v in values]  # int() truncates toward zero


# ---- elementwise math with numpy's answers (inf, nan) where Python's math would raise ----
def divide(x: Value, y: Value) -> float:
    """x / y; a zero divisor gives +-inf, or nan for 0 / 0, as in IEEE arithmetic."""
    if y != 0:
        return x / y
    if x == 0 or math.isnan(x):
        return math.nan
    return math.copysign(math.inf, x) * math.copysign(1.0, y)


def maximum(x: Value, y: Value) -> Value:
    """The larger of x and y; nan if either is nan, as numpy.maximum."""
    return x if (x >= y or x != x) else y


def exp2(x: float) -> float:
    """2 ** x, inf when it overflows."""
    try:
        return 2.0**x
    except OverflowError:
        return math.inf


def log2(x: float) -> float:
    """log2(x): -inf at 0, nan below 0."""
    if x > 0:
        return math.log2(x)
    return -math.inf if x == 0 else math.nan


def sqrt(x: float) -> float:
    """sqrt(x): nan below 0."""
    return math.sqrt(x) if x >= 0 else math.nan


def sin(x: float) -> float:
    """sin(x): nan at +-inf."""
    return math.sin(x) if math.isfinite(x) else math.nan


def cos(x: float) -> float:
    """cos(x): nan at +-inf."""
    return math.cos(x) if math.isfinite(x) else math.nan


def floor_divide(x: Value, y: Value) -> Value:
    """x // y as Python computes it; a float divisor of 0 gives x / 0 (+-inf or nan), as in IEEE."""
    if y == 0 and isinstance(y, float):
        return divide(x, y)
    return x // y


def remainder(x: Value, y: Value) -> Value:
    """x % y as Python computes it (the sign of y); a float divisor of 0 gives nan."""
    if y == 0 and isinstance(y, float):
        return math.nan
    return x % y


UNARY: dict[UnaryOps, Callable[[Value], Value]] = {
    UnaryOps.EXP2: exp2,
    UnaryOps.LOG2: log2,
    UnaryOps.SIN: sin,
    UnaryOps.COS: cos,
    UnaryOps.TANH: math.tanh,
    UnaryOps.SQRT: sqrt,
    UnaryOps.NEG: operator.neg,
    UnaryOps.RECIPROCAL: lambda x: divide(1.0, x),
}
BINARY: dict[BinaryOps, Callable[[Value, Value], Value]] = {
    BinaryOps.ADD: operator.add,
    BinaryOps.SUB: operator.sub,
    BinaryOps.MUL: operator.mul,
    BinaryOps.DIV: divide,
    BinaryOps.IDIV: floor_divide,
    BinaryOps.MOD: remainder,
    BinaryOps.MAX: maximum,
    BinaryOps.CMPLT: operator.lt,
    BinaryOps.CMPEQ: operator.eq,
    BinaryOps.AND: operator.and_,  # Python's & | ^ are bitwise on ints (two's complement) and logical on bools
    BinaryOps.OR: operator.or_,
    BinaryOps.XOR: operator.xor,
}


def own(data: TensorData) -> PythonData:
    """`data` itself, checked to come from this backend too."""
    if not isinstance(data, PythonData):
        raise TypeError(f"python backend: cannot mix PythonData with {type(data).__name__}")
    return data


class PythonData(TensorData):
    """A flat list of Python values in row-major order, with a shape and a dtype."""

    __slots__ = ("values", "shape", "dtype")
    _rng = random.Random(0)

    def __init__(self, values: list[Value], shape: Shape, dtype: DType):
        self.values = values
        self.shape: Shape = shape
        self.dtype: DType = dtype

    def at(self, index: Sequence[int]) -> Value:
        """The element at a multi-index."""
        return self.values[offset(index, self.shape)]

    def move(self, shape: Shape, source: Callable[[tuple[int, ...]], Sequence[int]]) -> PythonData:
        """A tensor of `shape` whose element at `index` is self's element at `source(index)`."""
        return PythonData([self.at(source(index)) for index in indices(shape)], shape, self.dtype)

    # ---- load ops ----
    @classmethod
    def const(cls, value: float | int | bool, shape: Shape, dtype: DType) -> PythonData:
        """Every element equal to `value`, converted to `dtype`."""
        return cls(fit([value], dtype) * math.prod(shape), shape, dtype)

    @classmethod
    def random(cls, shape: Shape) -> PythonData:
        """Uniform in [0, 1) on a grid of 2**-24: every value is exact in float32, none rounds up to 1."""
        values = [cls._rng.getrandbits(24) / 2**24 for _ in range(math.prod(shape))]
        return cls(values, shape, DType.float32)

    @classmethod
    def seed(cls, seed: int) -> None:
        """Restart the generator."""
        PythonData._rng = random.Random(seed)

    @classmethod
    def from_host(cls, array: np.ndarray) -> PythonData:
        """Copy a numpy array into a list (tolist gives Python floats, ints and bools)."""
        try:
            dtype = DType(array.dtype.name)
        except ValueError:
            supported = ", ".join(d.value for d in DType)
            raise TypeError(f"from_host: numpy dtype {array.dtype} is not supported; edugrad has {supported}") from None
        return cls(array.reshape(-1).tolist(), tuple(int(n) for n in array.shape), dtype)

    def to_host(self) -> np.ndarray:
        """A numpy array of the declared dtype."""
        return np.array(self.values, dtype=self.dtype.value).reshape(self.shape)

    # ---- elementwise ops ----
    def unary(self, op: UnaryOps) -> PythonData:
        """f(x) for each element x."""
        f = UNARY[op]
        return PythonData(fit([f(x) for x in self.values], self.dtype), self.shape, self.dtype)

    def binary(self, op: BinaryOps, other: TensorData) -> PythonData:
        """f(x, y) for each pair of elements; comparisons give bool, integer DIV gives float64."""
        f = BINARY[op]
        if op in (BinaryOps.CMPLT, BinaryOps.CMPEQ):
            dtype = DType.bool
        elif op == BinaryOps.DIV and not self.dtype.is_float:
            dtype = DType.float64
        else:
            dtype = self.dtype
        values = [f(x, y) for x, y in zip(self.values, own(other).values)]
        return PythonData(fit(values, dtype), self.shape, dtype)

    def where(self, x: TensorData, y: TensorData) -> PythonData:
        """x's element where the condition is true, else y's."""
        values = [a if c else b for c, a, b in zip(self.values, own(x).values, own(y).values)]
        return PythonData(values, self.shape, x.dtype)

    # ---- index ops ----
    def gather(self, axis: int, index: TensorData) -> PythonData:
        """Each result index reads self at the same index, with the position index holds along `axis`."""
        positions = own(index)

        def source(at: tuple[int, ...]) -> list[int]:
            return [positions.at(at) if d == axis else i for d, i in enumerate(at)]

        return self.move(positions.shape, source)

    def scatter_add(self, axis: int, index: TensorData, shape: Shape) -> PythonData:
        """Zeros of `shape`; each element of self is added where its index, with the position
        index holds along `axis`, points. Repeated positions add up."""
        positions = own(index)
        values = fit([0] * math.prod(shape), self.dtype)
        for at in indices(self.shape):
            target = [positions.at(at) if d == axis else i for d, i in enumerate(at)]
            values[offset(target, shape)] += self.at(at)
        return PythonData(fit(values, self.dtype), shape, self.dtype)

    # ---- reduce ops ----
    def reduce(self, op: ReduceOps, axes: tuple[int, ...]) -> PythonData:
        """For each index of the result, sum (or max) the elements the reduced axes run over."""
        if op == ReduceOps.MAX and any(self.shape[axis] == 0 for axis in axes):
            raise ValueError(f"reduce MAX: shape {self.shape} has no elements along axes {axes}")
        shape = tuple(1 if axis in axes else n for axis, n in enumerate(self.shape))
        dtype = DType.int64 if op == ReduceOps.SUM and self.dtype == DType.bool else self.dtype
        reduced = list(indices(tuple(self.shape[axis] for axis in axes)))
        values = []
        for index in indices(shape):
            group = []
            for inner in reduced:
                full = list(index)
                for axis, i in zip(axes, inner):
                    full[axis] = i
                group.append(self.at(full))
            values.append(sum(group) if op == ReduceOps.SUM else functools.reduce(maximum, group))
        return PythonData(fit(values, dtype), shape, dtype)

    # ---- movement ops: every one a move, except PAD, which also makes zeros ----
    def reshape(self, shape: Shape) -> PythonData:
        """Row-major order is unchanged, so the list is reused as it is."""
        return PythonData(self.values, shape, self.dtype)

    def permute(self, order: tuple[int, ...]) -> PythonData:
        """Result axis i is input axis order[i]."""

        def source(index: tuple[int, ...]) -> list[int]:
            src = [0] * len(order)
            for i, axis in enumerate(order):
                src[axis] = index[i]
            return src

        return self.move(tuple(self.shape[axis] for axis in order), source)

    def expand(self, shape: Shape) -> PythonData:
        """Every index along an axis of size 1 reads that axis's only element."""
        return self.move(shape, lambda index: [0 if n == 1 else i for i, n in zip(index, self.shape)])

    def pad(self, padding: tuple[tuple[int, int], ...]) -> PythonData:
        """Inside the padding, read self shifted by `before`; elsewhere a zero."""
        shape = tuple(before + n + after for n, (before, after) in zip(self.shape, padding))
        zero = fit([0], self.dtype)[0]
        values = []
        for index in indices(shape):
            src = [i - before for i, (before, _) in zip(index, padding)]
            inside = all(0 <= i < n for i, n in zip(src, self.shape))
            values.append(self.at(src) if inside else zero)
        return PythonData(values, shape, self.dtype)

    def shrink(self, bounds: tuple[tuple[int, int], ...]) -> PythonData:
        """Read self shifted by each axis's start."""
        shape = tuple(stop - start for start, stop in bounds)
        return self.move(shape, lambda index: [i + start for i, (start, _) in zip(index, bounds)])

    def stride(self, steps: tuple[int, ...]) -> PythonData:
        """Index i reads i * step, counted from the end of the axis when step < 0."""
        shape = tuple((n + abs(step) - 1) // abs(step) for n, step in zip(self.shape, steps))

        def source(index: tuple[int, ...]) -> list[int]:
            return [i * step if step > 0 else n - 1 + i * step for i, n, step in zip(index, self.shape, steps)]

        return self.move(shape, source)

    def window(self, kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...]) -> PythonData:
        """(..., positions..., offsets...) reads (..., position * stride + offset * dilation)."""
        k = len(kernel)
        batch, spatial = self.shape[:-k], self.shape[-k:]
        out_sizes = window_sizes(spatial, kernel, stride, dilation)

        def source(index: tuple[int, ...]) -> list[int]:
            positions, offsets = index[len(batch) : len(batch) + k], index[len(batch) + k :]
            return list(index[: len(batch)]) + [p * s + o * d for p, o, s, d in zip(positions, offsets, stride, dilation)]

        return self.move(batch + out_sizes + kernel, source)

    def fold(self, shape: Shape, stride: tuple[int, ...], dilation: tuple[int, ...]) -> PythonData:
        """Zeros of `shape`; each element (..., positions..., offsets...) is added at
        (..., position * stride + offset * dilation), WINDOW's source read backwards."""
        k = len(stride)
        batch = len(self.shape) - 2 * k
        values = fit([0] * math.prod(shape), self.dtype)
        for index in indices(self.shape):
            positions, offsets = index[batch:batch + k], index[batch + k:]
            target = list(index[:batch]) + [p * s + o * d for p, o, s, d in zip(positions, offsets, stride, dilation)]
            values[offset(target, shape)] += self.at(index)
        return PythonData(fit(values, self.dtype), shape, self.dtype)

    # ---- cast and matmul ----
    def cast(self, dtype: DType) -> PythonData:
        """Each element converted to `dtype` (int() truncates floats toward zero)."""
        return PythonData(fit(self.values, dtype), self.shape, dtype)

    def matmul(self, other: TensorData) -> PythonData:
        """out[b, i, j] = sum over p of self[b, i, p] * other[b, p, j], for each batch index b.

        In the flat row-major lists, row i of a matrix is a run of k neighbours and column j is
        every m-th element from j, so both are list slices and each output is one `sum`."""
        other = own(other)
        *batch, n, k = self.shape
        m = other.shape[-1]
        values: list[Value] = []
        for b in range(math.prod(batch)):
            x, y = b * n * k, b * k * m  # where matrix b starts in self's and other's lists
            rows = [self.values[x + i * k : x + (i + 1) * k] for i in range(n)]
            columns = [other.values[y + j : y + k * m : m] for j in range(m)]
            values.extend(sum(map(operator.mul, row, column)) for row in rows for column in columns)
        return PythonData(fit(values, self.dtype), (*batch, n, m), self.dtype)
