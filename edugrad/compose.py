"""Compositions of primitive ops on TensorData that the Functions of function.py share.

Each is a small piece of some op's math that is not one primitive: copying windows into the
columns of a convolution (`im2col`), putting zeros between elements (`dilate`), exact integer
powers, and the like. Like function.py, this sees only TensorData.
"""

from __future__ import annotations

import math
from typing import Sequence

from edugrad.backend.base import Shape, TensorData
from edugrad.ops import BinaryOps, DType, ReduceOps, UnaryOps


def zeros_like(x: TensorData) -> TensorData:
    return type(x).const(0, x.shape, x.dtype)


def full_like(x: TensorData, value: float) -> TensorData:
    return type(x).const(value, x.shape, x.dtype)


def dilate(x: TensorData, steps: Sequence[int]) -> TensorData:
    """Put step-1 zeros between neighbouring elements of each axis: (n,) -> ((n-1)*step + 1,)."""
    for axis, step in enumerate(steps):
        n = x.shape[axis]
        if step == 1 or n == 0:
            continue
        before, after = x.shape[:axis], x.shape[axis + 1:]
        x = x.reshape(before + (n, 1) + after)
        x = x.pad(tuple((0, 0) for _ in before) + ((0, 0), (0, step - 1)) + tuple((0, 0) for _ in after))
        x = x.reshape(before + (n * step,) + after)
        x = x.shrink(tuple((0, s) for s in before) + ((0, (n - 1) * step + 1),) + tuple((0, s) for s in after))
    return x


def unstride(grad: TensorData, steps: Sequence[int], shape: Shape) -> TensorData:
    """Inverse of STRIDE: place grad's elements every |step| positions in zeros of `shape`."""
    grad = grad.stride(tuple(-1 if s < 0 else 1 for s in steps))  # undo the reversals first
    grad = dilate(grad, [abs(s) for s in steps])
    padding = tuple((0, n - g) if s > 0 else (n - g, 0) for n, g, s in zip(shape, grad.shape, steps))
    return grad.pad(padding)


def join(pieces: Sequence[TensorData], dim: int) -> TensorData:
    """Pieces concatenated along `dim`: each padded to the full length, and every element taken
    from the piece it belongs to by WHERE (adding zero-padded pieces would turn -0.0 into 0.0).
    Pairwise in a balanced tree, so k pieces cost log2(k) passes over the data."""
    if len(pieces) == 1:
        return pieces[0]
    middle = len(pieces) // 2
    left, right = join(pieces[:middle], dim), join(pieces[middle:], dim)
    n_left, n_right = left.shape[dim], right.shape[dim]
    ndim = left.ndim

    def along_dim(before: int, after: int) -> tuple[tuple[int, int], ...]:
        return tuple((before, after) if axis == dim else (0, 0) for axis in range(ndim))

    # True over the left piece's part of dim, False (PAD's zeros) over the right's
    in_left = type(left).const(True, tuple(n_left if axis == dim else 1 for axis in range(ndim)), DType.bool)
    in_left = in_left.pad(along_dim(0, n_right))
    shape = tuple(n_left + n_right if axis == dim else n for axis, n in enumerate(left.shape))
    return in_left.expand(shape).where(left.pad(along_dim(0, n_right)), right.pad(along_dim(n_left, 0)))


def arange(n: int, dtype: DType, like: TensorData) -> TensorData:
    """(n,) holding 0, 1, ..., n-1 in `like`'s backend. No op makes data that differs from element
    to element, so each number is a CONST padded into its place, and they are added up: 2n ops
    on tiny arrays, for n the size of a kernel."""
    out = type(like).const(0, (n,), dtype)
    for i in range(1, n):
        out = out.binary(BinaryOps.ADD, type(like).const(i, (1,), dtype).pad(((i, n - 1 - i),)))
    return out


def isnan(x: TensorData) -> TensorData:
    """x != x: true only for nan, the one value unequal to itself."""
    return logical_not(x.binary(BinaryOps.CMPEQ, x))


def mean(x: TensorData, dims: tuple[int, ...]) -> TensorData:
    """The mean over `dims`, which stay with size 1: a SUM times 1/n."""
    total = x.reduce(ReduceOps.SUM, dims)
    return total.binary(BinaryOps.MUL, full_like(total, 1 / math.prod(x.shape[d] for d in dims)))


def running_sum(x: TensorData, dim: int, reverse: bool = False) -> TensorData:
    """Running sums along `dim` (from the far end if `reverse`), as PyTorch's CPU kernel adds them:
    one total per line, added in order, in float64 for float32 (PyTorch's accumulator), rounded once
    per output. One ADD per position: log2(n) doubling steps (Hillis-Steele) would be fewer ops,
    but add in another order, and [1e20, -1e20, 2.5] came out [1e20, 0, 0], not [1e20, 0, 2.5]."""
    n = x.shape[dim]
    if n == 0:
        return x
    wide = widened(x)
    parts: list[TensorData] = []
    total: TensorData | None = None
    for i in (range(n - 1, -1, -1) if reverse else range(n)):
        piece = wide.shrink(tuple((i, i + 1) if axis == dim else (0, size) for axis, size in enumerate(x.shape)))
        total = piece if total is None else total.binary(BinaryOps.ADD, piece)
        parts.append(total)
    out = join(parts[::-1] if reverse else parts, dim)
    return out.cast(x.dtype) if out.dtype != x.dtype else out


def transpose_last(x: TensorData) -> TensorData:
    order = tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2)
    return x.permute(order)


def im2col(windows: TensorData, batch_last: bool = False) -> TensorData:
    """(N, groups, C/groups, H', W', kh, kw) windows -> (groups, C/groups*kh*kw, N*H'*W') columns:
    one column per output pixel holding every input value its kernel sees. The pixels are ordered
    (N, H', W'), or (H', W', N) if `batch_last`."""
    n, g, group_channels, out_h, out_w, kh, kw = windows.shape
    if batch_last:
        rows = windows.permute((1, 2, 5, 6, 3, 4, 0))  # (groups, C/groups, kh, kw, H', W', N)
    else:
        rows = windows.permute((1, 2, 5, 6, 0, 3, 4))  # (groups, C/groups, kh, kw, N, H', W')
    return rows.reshape((g, group_channels * kh * kw, n * out_h * out_w))


def polynomial(x: TensorData, coefficients: Sequence[float]) -> TensorData:
    """c0 + c1 x + c2 x^2 + ... by Horner's rule: one multiply and one add per coefficient."""
    out = full_like(x, coefficients[-1])
    for c in reversed(coefficients[:-1]):
        out = out.binary(BinaryOps.MUL, x).binary(BinaryOps.ADD, full_like(x, c))
    return out


def power(x: TensorData, n: int) -> TensorData:
    """x^n for an integer n by repeated squaring (x^13 = x^8 x^4 x): about 2 log2(n) multiplies,
    exact wherever the products are, and x^0 = 1 (0^0 too). A negative n gives 1 / x^|n|."""
    if n == 0:
        return full_like(x, 1)
    out: TensorData | None = None
    square = x  # x^1, x^2, x^4, ...
    bits = bin(abs(n))[:1:-1]  # the bits of |n|, lowest first
    for k, bit in enumerate(bits):
        if bit == "1":
            out = square if out is None else out.binary(BinaryOps.MUL, square)
        if k < len(bits) - 1:
            square = square.binary(BinaryOps.MUL, square)
    assert out is not None
    return out.unary(UnaryOps.RECIPROCAL) if n < 0 else out


def widened(x: TensorData) -> TensorData:
    """float32 as float64, to compute in and round once at the end; other dtypes as they are."""
    return x.cast(DType.float64) if x.dtype == DType.float32 else x


def real_power(x: TensorData, y: TensorData) -> TensorData:
    """x^y elementwise in x's float dtype, with C pow's special cases (see Power)."""
    zero, one = zeros_like(x), full_like(x, 1.0)
    magnitude_x = x.binary(BinaryOps.MAX, x.unary(UnaryOps.NEG))
    out = y.binary(BinaryOps.MUL, magnitude_x.unary(UnaryOps.LOG2)).unary(UnaryOps.EXP2)
    negative = x.binary(BinaryOps.CMPLT, zero)
    whole_y = truncate(y)
    half_y = y.binary(BinaryOps.MUL, full_like(y, 0.5))
    is_integer = whole_y.binary(BinaryOps.CMPEQ, y)  # inf counts, and is even: (-2)^inf = inf
    odd = is_integer.binary(BinaryOps.AND, logical_not(truncate(half_y).binary(BinaryOps.CMPEQ, half_y)))
    # the sign bit: x < 0, or x = -0.0, whose reciprocal is -inf ((-0.0)^-1 = -inf, (-0.0)^3 = -0.0)
    sign_bit = negative.binary(BinaryOps.OR, x.unary(UnaryOps.RECIPROCAL).binary(BinaryOps.CMPLT, zero))
    out = sign_bit.binary(BinaryOps.AND, odd).where(out.unary(UnaryOps.NEG), out)
    finite_negative = negative.binary(BinaryOps.AND, full_like(x, -math.inf).binary(BinaryOps.CMPLT, x))
    out = finite_negative.binary(BinaryOps.AND, logical_not(is_integer)).where(full_like(out, math.nan), out)
    magnitude_y = y.binary(BinaryOps.MAX, y.unary(UnaryOps.NEG))
    minus_one_to_inf = x.binary(BinaryOps.CMPEQ, full_like(x, -1.0)).binary(
        BinaryOps.AND, magnitude_y.binary(BinaryOps.CMPEQ, full_like(y, math.inf)))
    is_one = y.binary(BinaryOps.CMPEQ, zero).binary(BinaryOps.OR, x.binary(BinaryOps.CMPEQ, one))
    return is_one.binary(BinaryOps.OR, minus_one_to_inf).where(one, out)


def truncate(x: TensorData) -> TensorData:
    """x rounded toward 0, exactly, for a float dtype. A float of magnitude 2^23 (float32) or 2^52
    (float64) or more has no fraction, and inf and nan are themselves: those stay as they are.
    The rest goes through int64 and back, which truncates exactly; a cast of 1e20 or nan to int64
    would not (it gave -9.2e18). Zero keeps x's sign: trunc(-0.5) = -0.0, as in PyTorch."""
    zero = zeros_like(x)
    limit = full_like(x, 2.0 ** (23 if x.dtype == DType.float32 else 52))
    fractional = x.binary(BinaryOps.MAX, x.unary(UnaryOps.NEG)).binary(BinaryOps.CMPLT, limit)
    small = fractional.where(x, zero)  # the cast never sees inf, nan or a huge value
    whole = small.cast(DType.int64).cast(x.dtype)
    signed_zero = small.binary(BinaryOps.MUL, zero)  # -0.0 for a negative x
    whole = whole.binary(BinaryOps.CMPEQ, zero).where(signed_zero, whole)
    return fractional.where(whole, x)


def logical_not(condition: TensorData) -> TensorData:
    """NOT of a bool tensor: condition XOR true."""
    return condition.binary(BinaryOps.XOR, type(condition).const(True, condition.shape, DType.bool))
