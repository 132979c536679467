"""The default backend: each primitive op is one numpy call, and movement ops are views."""

from __future__ import annotations

import ctypes
import itertools
import sys
import warnings

import numpy as np
from numpy.lib.stride_tricks import as_strided

from edugrad.backend import threads
from edugrad.backend.base import Shape, TensorData, fold_slices, window_sizes
from edugrad.ops import BinaryOps, DType, ReduceOps, UnaryOps

# log(0) = -inf, 1/0 = inf and 0/0 = nan are the contract's answers (as in IEEE and PyTorch), not
# mistakes to warn about. Filtering here costs nothing per op, unlike np.errstate around each call.
warnings.filterwarnings("ignore", category=RuntimeWarning, module=__name__)


def keep_freed_arrays_in_the_heap() -> None:
    """Let glibc's malloc reuse the memory of freed arrays instead of handing it back to the system.

    By default glibc takes every allocation above ~128 kB to ~32 MB (the threshold adapts) from
    mmap, and gives it back on free; the kernel then zero-fills each page on its first touch. An
    op on a fresh 4 MB array paid for 1,024 page faults, as much as the arithmetic itself: with the
    heap kept, the GPT and CNN training steps took ~25-30% less CPU time. Memory freed stays with
    the process up to M_TRIM_THRESHOLD (128 MB) beyond what it uses. Other C libraries are left
    as they are."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and other libcs have no mallopt
        return
    m_trim_threshold, m_mmap_threshold = -1, -3  # from glibc's malloc.h
    mallopt(m_mmap_threshold, 32 * 2**20)  # the largest glibc accepts
    mallopt(m_trim_threshold, 128 * 2**20)


keep_freed_arrays_in_the_heap()

NUMPY_DTYPES: dict[DType, np.dtype] = {dtype: np.dtype(dtype.value) for dtype in DType}
EDUGRAD_DTYPES: dict[np.dtype, DType] = {v: k for k, v in NUMPY_DTYPES.items()}

UNARY: dict[UnaryOps, np.ufunc] = {
    UnaryOps.EXP2: np.exp2,
    UnaryOps.LOG2: np.log2,
    UnaryOps.SIN: np.sin,
    UnaryOps.COS: np.cos,
    UnaryOps.TANH: np.tanh,
    UnaryOps.SQRT: np.sqrt,
    UnaryOps.NEG: np.negative,
    UnaryOps.RECIPROCAL: np.reciprocal,
}
BINARY: dict[BinaryOps, np.ufunc] = {
    BinaryOps.ADD: np.add,
    BinaryOps.SUB: np.subtract,
    BinaryOps.MUL: np.multiply,
    BinaryOps.DIV: np.divide,
    BinaryOps.IDIV: np.floor_divide,  # Python's // for floats and ints
    BinaryOps.MOD: np.remainder,  # Python's %: the sign of the divisor
    BinaryOps.MAX: np.maximum,
    BinaryOps.CMPLT: np.less,
    BinaryOps.CMPEQ: np.equal,
    BinaryOps.AND: np.bitwise_and,  # on bools, logical
    BinaryOps.OR: np.bitwise_or,
    BinaryOps.XOR: np.bitwise_xor,
}
ELEMENTWISE: dict[ReduceOps, np.ufunc] = {ReduceOps.SUM: np.add, ReduceOps.MAX: np.maximum}

CONSTANTS: dict[tuple[object, ...], NumpyData] = {}  # NumpyData.const's made constants, by value, shape, dtype


class NumpyData(TensorData):
    """A numpy array. Not copied on the way in from another op: TensorData is never mutated."""

    __slots__ = ("array", "shape", "dtype")
    _rng = np.random.default_rng(0)

    def __init__(self, array: np.ndarray):
        if type(array) is not np.ndarray:  # ufuncs on 0-d arrays return numpy scalars; keep an ndarray
            array = np.asarray(array)
        self.array = array
        self.shape: Shape = array.shape
        self.dtype: DType = EDUGRAD_DTYPES[array.dtype]

    @classmethod
    def const(cls, value: float | int | bool, shape: Shape, dtype: DType) -> NumpyData:
        # Every scalar in `x * 2` and every zeros_like in a backward is a CONST, and building one
        # cost as much as the op it feeds on small tensors; TensorData is never mutated, so equal
        # constants can be one object. The key keeps 0.0 and -0.0 apart (they compare equal).
        key = (value, repr(value) if value == 0 else None, shape, dtype)
        cached = CONSTANTS.get(key)
        if cached is not None:
            return cached
        # A zero-stride view of one element: a constant of any shape costs one element of memory.
        numpy_dtype = NUMPY_DTYPES[dtype]
        out = np.ndarray(shape, numpy_dtype, np.array(value, numpy_dtype), 0, (0,) * len(shape))
        out.setflags(write=False)
        if len(CONSTANTS) >= 4096:  # shapes come and go: keep the table small
            CONSTANTS.clear()
        CONSTANTS[key] = made = cls(out)
        return made

    @classmethod
    def random(cls, shape: Shape) -> NumpyData:
        return cls(cls._rng.random(shape, dtype=np.float32))

    @classmethod
    def seed(cls, seed: int) -> None:
        NumpyData._rng = np.random.default_rng(seed)

    @classmethod
    def from_host(cls, array: np.ndarray) -> NumpyData:
        return cls(np.array(array, copy=True))

    def to_host(self) -> np.ndarray:
        return self.array

    # Elementwise results are laid out row-major in their logical shape (order="C"), whatever the
    # inputs' strides: the next op then runs over long contiguous rows, not over numpy's guess of
    # the inputs' layout (which, after a WINDOW or PERMUTE, can leave 2-element innermost loops).
    # Big ones are split across threads (threads.py).
    def unary(self, op: UnaryOps) -> NumpyData:
        return NumpyData(threads.elementwise(UNARY[op], self.array))

    def binary(self, op: BinaryOps, other: TensorData) -> NumpyData:
        return NumpyData(threads.elementwise(BINARY[op], self.array, other.array))  # type: ignore[attr-defined]

    def where(self, x: TensorData, y: TensorData) -> NumpyData:
        return NumpyData(np.where(self.array, x.array, y.array))  # type: ignore[attr-defined, arg-type]

    def gather(self, axis: int, index: TensorData) -> NumpyData:
        positions = index.array  # type: ignore[attr-defined]
        if positions.size and all(step == 0 for d, step in enumerate(positions.strides) if d != axis):
            # The same positions along every other axis (an embedding lookup: one row number per
            # token, expanded over the row): whole slices, one np.take, ~6x faster than
            # take_along_axis, which reads an index for every element.
            line = positions[tuple(slice(None) if d == axis else 0 for d in range(positions.ndim))]
            return NumpyData(np.take(self.array, line, axis=axis))
        return NumpyData(np.take_along_axis(self.array, positions, axis=axis))

    def scatter_add(self, axis: int, index: TensorData, shape: Shape) -> NumpyData:
        out = np.zeros(shape, self.array.dtype)
        # Each element's flat position in `out`: its own coordinates, with the index's along `axis`.
        # np.add.at adds every element, repeated positions too (out[flat] += self would keep only
        # the last of them). With 1-d positions and values it runs ~2x faster than with n-d ones or
        # over rows of `out`; np.bincount would sum in float64 (twice the memory, int64 inexact).
        coordinates = list(np.ogrid[tuple(slice(n) for n in self.shape)])
        coordinates[axis] = index.array  # type: ignore[attr-defined]
        flat = np.ravel_multi_index(tuple(np.broadcast_arrays(*coordinates)), shape)
        np.add.at(out.reshape(-1), flat.reshape(-1), self.array.reshape(-1))
        return NumpyData(out)

    def reduce(self, op: ReduceOps, axes: tuple[int, ...]) -> NumpyData:
        count = 1
        for a in axes:
            count *= self.array.shape[a]
        if 1 < count <= 16 and self.array.size >= 4096 * count and self.dtype != DType.bool:
            return NumpyData(reduce_by_slices(ELEMENTWISE[op], self.array, axes))
        out = threads.reduce(ELEMENTWISE[op], self.array, axes)
        if out.dtype != self.array.dtype:  # numpy sums bools and int32 as int64; keep the contract
            out = out.astype(self.array.dtype if self.dtype != DType.bool else np.int64, copy=False)
        return NumpyData(out)

    def reshape(self, shape: Shape) -> NumpyData:
        try:
            return NumpyData(np.reshape(self.array, shape, copy=False))  # a view, when the strides allow one
        except ValueError:  # they don't (a permuted or windowed array): copy, on every thread if it is big
            return NumpyData(threads.copy(self.array, self.array.dtype).reshape(shape))

    def permute(self, order: tuple[int, ...]) -> NumpyData:
        return NumpyData(self.array.transpose(order))

    def expand(self, shape: Shape) -> NumpyData:
        return NumpyData(broadcast(self.array, shape))

    def pad(self, padding: tuple[tuple[int, int], ...]) -> NumpyData:
        if not padding:  # a 0-d array has no axes to pad
            return self
        # Zeros, then the input copied into the middle: np.pad does the same through a general,
        # Python-level routine that costs more than the copy for the pads of pooling and folds.
        shape = tuple(before + n + after for (before, after), n in zip(padding, self.array.shape))
        out = np.zeros(shape, self.array.dtype)
        out[tuple(slice(before, before + n) for (before, _), n in zip(padding, self.array.shape))] = self.array
        return NumpyData(out)

    def shrink(self, bounds: tuple[tuple[int, int], ...]) -> NumpyData:
        return NumpyData(self.array[tuple(slice(start, stop) for start, stop in bounds)])

    def stride(self, steps: tuple[int, ...]) -> NumpyData:
        return NumpyData(self.array[tuple(slice(None, None, step) for step in steps)])

    def window(self, kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...]) -> NumpyData:
        x = self.array
        k = len(kernel)
        spatial, spatial_strides = x.shape[-k:], x.strides[-k:]
        out_sizes = window_sizes(spatial, kernel, stride, dilation)
        shape = x.shape[:-k] + tuple(out_sizes) + tuple(kernel)
        strides = (
            x.strides[:-k]
            + tuple(st * s for st, s in zip(spatial_strides, stride))
            + tuple(st * d for st, d in zip(spatial_strides, dilation))
        )
        return NumpyData(as_strided(x, shape, strides, writeable=False))

    def fold(self, shape: Shape, stride: tuple[int, ...], dilation: tuple[int, ...]) -> NumpyData:
        # One in-place add per kernel position, of its (..., H', W') slice into a strided slice.
        # The output's axes are laid out in memory in the order of the windows' own (..., H', W')
        # axes, so both sides of each add run along the same rows: after Conv2d's backward MATMUL
        # the batch axis is innermost, and the adds run over rows of W'*N elements (1,024 in
        # learn_mnist) instead of rows of W' (8), ~3x faster.
        k = len(stride)
        out_sizes, kernel = self.shape[-2 * k:-k], self.shape[-k:]
        by_memory = sorted(range(len(shape)), key=lambda axis: -abs(self.array.strides[axis]))
        # Windows that do not overlap (stride >= kernel, no dilation: 2x2 pooling) each write their
        # own elements, so a plain copy replaces the add, and if they also cover the whole output
        # nothing needs zeroing first: ~2x faster.
        disjoint = all(d == 1 and s >= kk for s, d, kk in zip(stride, dilation, kernel))
        covered = disjoint and all(s == kk and o * s == n for s, kk, o, n in zip(stride, kernel, out_sizes, shape[-k:]))
        make = np.empty if covered else np.zeros
        out = make(tuple(shape[axis] for axis in by_memory), self.array.dtype)
        out = out.transpose(tuple(by_memory.index(axis) for axis in range(len(shape))))
        windows = self.array

        def add(part: tuple[slice, ...]) -> None:  # the windows of `part`, a range of leading rows
            for into, source in fold_slices(self.shape, stride, dilation):
                if disjoint:
                    out[part + into] = windows[part + source]
                else:
                    out[part + into] += windows[part + source]

        # Big folds are split across threads (threads.py) along their first leading axis of 2 or
        # more: each chunk adds its own part of the output, so chunks never write the same element.
        lead = [axis for axis in range(len(shape) - k) if shape[axis] >= 2]
        if threads.POOL.threads == 1 or not lead or windows.size < threads.MIN_ELEMENTS:
            add(())
            return NumpyData(out)
        bounds = threads.chunks(shape[lead[0]], threads.split_count(shape[lead[0]]))
        threads.POOL.run(lambda i: add((slice(None),) * lead[0] + (slice(*bounds[i]),)), len(bounds))
        return NumpyData(out)

    def cast(self, dtype: DType) -> NumpyData:
        if NUMPY_DTYPES[dtype] == self.array.dtype:
            return self
        return NumpyData(threads.copy(self.array, NUMPY_DTYPES[dtype]))

    def matmul(self, other: TensorData) -> NumpyData:
        return NumpyData(threads.matmul(self.array, other.array))  # type: ignore[attr-defined]


def broadcast(array: np.ndarray, shape: Shape) -> np.ndarray:
    """np.broadcast_to for an array with as many dims as `shape`: a read-only view in which the
    size-1 axes that grow get stride 0. Building the view directly skips broadcast_to's general
    checks, which cost ~10x more than the view itself and run on every scalar op and expand."""
    strides = tuple(0 if n == 1 and s != 1 else st for n, s, st in zip(array.shape, shape, array.strides))
    try:
        out = np.ndarray(shape, array.dtype, array, 0, strides)
    except (ValueError, TypeError, BufferError):  # not contiguous: no plain buffer to view
        return np.broadcast_to(array, shape)
    out.setflags(write=False)
    return out


def reduce_by_slices(ufunc: np.ufunc, array: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """ufunc.reduce over a few short axes of a big array, as an elementwise ufunc over the slices
    along them. numpy's reduce walks short innermost axes (pooling windows) ~10x slower."""
    out: np.ndarray | None = None
    for position in itertools.product(*[range(array.shape[a]) for a in axes]):
        index = [slice(None)] * array.ndim
        for axis, i in zip(axes, position):
            index[axis] = slice(i, i + 1)
        part = array[tuple(index)]
        out = part if out is None else ufunc(out, part)
    assert out is not None
    return out
