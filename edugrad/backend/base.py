"""`TensorData`: the interface every backend implements. Its docstrings are the contract.

A TensorData is an immutable n-dimensional array with a `shape` and a `dtype`. Every method
returns a new TensorData (or a view that behaves like one) and never changes `self`. The methods
are exactly the primitive ops of `edugrad/ops.py`; nothing above this layer computes on arrays.
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from typing import Any, Iterator, Sequence

import numpy as np

from edugrad.ops import BinaryOps, DType, ReduceOps, UnaryOps

Shape = tuple[int, ...]


class TensorData(ABC):
    """One backend's array. Subclasses fill in every abstract method below."""

    __slots__ = ()

    shape: Shape
    dtype: DType
    device = "cpu"  # where the data lives: "cpu", or "cuda" for a backend that computes on a GPU

    # ---- load ops: the only way data comes into existence ----
    @classmethod
    @abstractmethod
    def const(cls, value: float | int | bool, shape: Shape, dtype: DType) -> TensorData:
        """CONST: a tensor of `shape` whose every element is `value`, converted to `dtype`."""

    @classmethod
    @abstractmethod
    def random(cls, shape: Shape) -> TensorData:
        """RANDOM: float32 samples uniform in [0, 1), drawn from the backend's generator."""

    @classmethod
    @abstractmethod
    def seed(cls, seed: int) -> None:
        """Restart the generator used by `random`, so the same seed gives the same stream."""

    @classmethod
    @abstractmethod
    def from_host(cls, array: np.ndarray) -> TensorData:
        """FROM_HOST: copy a numpy array of a supported dtype into the backend."""

    @abstractmethod
    def to_host(self) -> np.ndarray:
        """The data as a numpy array (the user boundary: printing, `.numpy()`, checkpoints)."""

    # ---- elementwise ops: operands always have equal shapes ----
    @abstractmethod
    def unary(self, op: UnaryOps) -> TensorData:
        """EXP2, LOG2, SIN, COS, TANH, SQRT, NEG, RECIPROCAL applied to each element; the dtype is kept.

        Defined for float dtypes (NEG for ints too). Outside an op's domain the answer is the IEEE
        one, never an error: log2(0) = -inf, sqrt(-1) = nan, 1/0 = inf, sin(inf) = nan. Results
        are within a few units in the last place of the exact value (the C library's accuracy)."""

    @abstractmethod
    def binary(self, op: BinaryOps, other: TensorData) -> TensorData:
        """ADD, SUB, MUL, DIV, IDIV, MOD, MAX, CMPLT, CMPEQ, AND, OR, XOR of `self` and `other`
        (same shape, same dtype).

        CMPLT and CMPEQ return bool, for every dtype. ADD, SUB, MUL and MAX return the operands'
        dtype, float or int (MAX also bool); ints wrap around on overflow.
        DIV is true division: floats keep their dtype (x/0 is +-inf, 0/0 is nan) and integer
        operands give float64, as in numpy.
        IDIV and MOD, for floats and ints, keep the dtype and follow Python's // and % (and torch's
        floor_divide and remainder): IDIV rounds the quotient toward -inf, MOD has the sign of the
        divisor, and x == IDIV(x, y) * y + MOD(x, y). Ints are exact; floats are computed from
        fmod as Python does, so 1.0 // 0.1 is 9. A float divisor of 0 gives IDIV = x/0 (+-inf, or
        nan for 0/0) and MOD = nan. An integer divisor of 0 has no answer: callers never pass one.
        AND, OR and XOR are bitwise on ints and logical on bools, and keep the dtype."""

    @abstractmethod
    def where(self, x: TensorData, y: TensorData) -> TensorData:
        """WHERE: `self` is a bool condition; take `x` where it is true and `y` elsewhere."""

    # ---- index ops ----
    @abstractmethod
    def gather(self, axis: int, index: TensorData) -> TensorData:
        """GATHER: the elements of `self` at the positions `index` holds along `axis`.

        `index` is int32 or int64 with as many dims as `self` and the same size along every axis
        but `axis`; its values lie in [0, self.shape[axis]) (callers check). The result has
        index's shape and self's dtype: out[i][j][k] = self[i][index[i][j][k]][k] for axis 1.
        Values are copied, never computed: exact for every dtype, inf and nan included."""

    @abstractmethod
    def scatter_add(self, axis: int, index: TensorData, shape: Shape) -> TensorData:
        """SCATTER_ADD: zeros of `shape` and `self`'s dtype (float or int), with every element of
        `self` added at the position `index` gives along `axis`: the adjoint of GATHER.

        `index` has self's shape (int32 or int64, values in [0, shape[axis])); `shape` equals it
        except along `axis`. For axis 1: out[i][index[i][j][k]][k] += self[i][j][k]. Positions
        named several times receive the sum of their elements (floats in any order)."""

    # ---- reduce ops ----
    @abstractmethod
    def reduce(self, op: ReduceOps, axes: tuple[int, ...]) -> TensorData:
        """SUM or MAX over `axes` (non-negative, sorted); those axes stay in the shape with size 1.

        `axes` may be empty: nothing is reduced. SUM keeps the dtype, except that bools sum to
        int64; MAX keeps it too, and is an error over an axis of size 0 (nothing to take)."""

    # ---- movement ops ----
    @abstractmethod
    def reshape(self, shape: Shape) -> TensorData:
        """RESHAPE: the same elements, read in row-major order, arranged in `shape` (same size)."""

    @abstractmethod
    def permute(self, order: tuple[int, ...]) -> TensorData:
        """PERMUTE: axis i of the result is axis `order[i]` of `self`."""

    @abstractmethod
    def expand(self, shape: Shape) -> TensorData:
        """EXPAND: repeat axes of size 1 up to `shape` (same number of dims). No copy needed."""

    @abstractmethod
    def pad(self, padding: tuple[tuple[int, int], ...]) -> TensorData:
        """PAD: add `before` and `after` zeros (both >= 0) to each axis."""

    @abstractmethod
    def shrink(self, bounds: tuple[tuple[int, int], ...]) -> TensorData:
        """SHRINK: keep elements [start, stop) of each axis (0 <= start <= stop <= size)."""

    @abstractmethod
    def stride(self, steps: tuple[int, ...]) -> TensorData:
        """STRIDE: keep every `step`-th element of each axis from the first; a negative step
        starts from the last element instead, so -1 reverses the axis. Steps are never 0."""

    @abstractmethod
    def window(self, kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...]) -> TensorData:
        """WINDOW: sliding windows over the last len(kernel) axes.

        For 2 axes, (..., H, W) becomes (..., H', W', kh, kw) with
        out[..., i, j, a, b] = x[..., i*sh + a*dh, j*sw + b*dw] and H' = (H - dh*(kh-1) - 1) // sh + 1.
        Callers keep one dilated window inside each axis (H >= dh*(kh-1) + 1), so H' >= 1.
        Backends should return a view: this is what makes convolution and pooling cheap."""

    @abstractmethod
    def fold(self, shape: Shape, stride: tuple[int, ...], dilation: tuple[int, ...]) -> TensorData:
        """FOLD: the adjoint of WINDOW (PyTorch's fold, im2col's col2im). `self` holds windows
        (..., H', W', kh, kw); the result is zeros of `shape` (..., H, W) and self's dtype (float
        or int), with every window element added where WINDOW took it from:
        out[..., i*sh + a*dh, j*sw + b*dw] += self[..., i, j, a, b].

        The kernel is self's last len(stride) sizes, and H' is the window count of `shape`
        (`window_sizes`), so rows and columns past the last window stay 0. Elements that overlapping
        windows share receive the sum of their copies (floats in any order)."""

    # ---- cast ----
    @abstractmethod
    def cast(self, dtype: DType) -> TensorData:
        """CAST: each element converted to `dtype` (float to int truncates toward zero)."""

    # ---- contraction ----
    @abstractmethod
    def matmul(self, other: TensorData) -> TensorData:
        """MATMUL: (..., n, k) @ (..., k, m) -> (..., n, m); batch dims are equal and dims >= 2."""

    # ---- conveniences shared by every backend ----
    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        n = 1
        for s in self.shape:
            n *= s
        return n

    def __repr__(self) -> str:
        return f"{type(self).__name__}(shape={self.shape}, dtype={self.dtype.value})"


def window_sizes(spatial: Sequence[int], kernel: Sequence[int], stride: Sequence[int],
                 dilation: Sequence[int]) -> tuple[int, ...]:
    """How many windows fit along each axis: H' = (H - dh*(kh-1) - 1) // sh + 1 (see `window`)."""
    return tuple((n - d * (k - 1) - 1) // s + 1 for n, k, s, d in zip(spatial, kernel, stride, dilation))


def fold_slices(windows_shape: Shape, stride: Sequence[int], dilation: Sequence[int]
                ) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...]]]:
    """For FOLD, one pair of indexes per kernel position (a, b): the slice of the output that its
    H' x W' window elements land on (rows a*dh, a*dh + sh, ...), and those elements, [..., a, b]."""
    k = len(stride)
    out_sizes, kernel = windows_shape[-2 * k:-k], windows_shape[-k:]
    for position in itertools.product(*(range(size) for size in kernel)):
        target = tuple(slice(p * d, p * d + (o - 1) * s + 1, s) for p, o, s, d in zip(position, out_sizes, stride, dilation))
        yield (Ellipsis, *target), (Ellipsis, *position)
