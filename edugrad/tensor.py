"""The user's Tensor: the vocabulary of PyTorch's Tensor, built by composing the Functions of `function.py`.

Most methods here need no backward of their own: softmax is exp, sum and division; a mean is a sum
and a division. Only `function.py` knows derivatives, and only the backend computes. The sections
follow `ops.py`'s groups: creation, elementwise, reductions, matmul, movement, indexing. What
PyTorch keeps off its Tensor (convolution, pooling, normalisation, dropout, losses) lives in
`nn/functional.py`; the module-level `edugrad.zeros`, `edugrad.randn`, ... in `creation.py`.

A Tensor holds a `Storage`, the backend's TensorData and a version counter: see `inplace.py`.
"""

from __future__ import annotations

import math
from typing import Any, Iterator, Sequence, Union

import numpy as np

from edugrad import autograd
from edugrad.backend import get_backend
from edugrad.backend.base import Shape, TensorData
from edugrad.conversions import Conversions
from edugrad.devices import Device, device_of
from edugrad.dtypes import category, default_float, promote, to_dtype, to_dtype_of, to_host_array
from edugrad.function import (Add, Ceil, Cos, Cumsum, Div, Erf, Exp, Expand, Floor, FloorDivide, IntPow, Log, LogSoftmax,
                              Matmul, Max, Maximum, Mul, Neg, Pad, Permute, Power, Reciprocal, Relu, Remainder,
                              Reshape, Round, Shrink, Sigmoid, Sign, Sin, Softmax, Sqrt, Stride, Sub, Sum, Tanh,
                              Trunc, Where)
from edugrad.indexing import Indexing, MaxResult
from edugrad.inplace import InPlace, Storage
from edugrad.ops import BinaryOps, DType
from edugrad.shapes import broadcast_shape, shape_arg

Scalar = Union[int, float, bool]
TensorLike = Union["Tensor", Scalar]


class Tensor(InPlace, Indexing, Conversions):
    """An n-dimensional array that remembers how it was made, so gradients can flow back."""

    __slots__ = ("storage", "requires_grad", "_grad", "_ctx", "label", "_base", "__weakref__")
    requires_grad: bool
    __array_ufunc__ = None  # numpy defers `array + tensor` and `np.float64(2) * tensor` to Tensor.__radd__, ...

    def __init__(self, data: Any, dtype: Any = None, requires_grad: bool = False, label: str | None = None,
                 device: Any = None):
        dtype = to_dtype(dtype, "Tensor")
        if isinstance(data, Tensor):
            data = data.storage.data
        if not isinstance(data, TensorData):
            data = get_backend().from_host(to_host_array(data, dtype))
        elif dtype is not None and data.dtype != dtype:
            data = data.cast(dtype)
        device_of(device, "Tensor")  # refuses a device this backend cannot reach
        self.storage = Storage(data)
        self._grad: Tensor | None = None
        self._ctx: autograd.Function | None = None
        self.label: str | None = label
        self._base = None  # the tensor this is a view of: see InPlace._inplace
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def from_data(data: TensorData, requires_grad: bool = False) -> Tensor:
        """Wrap backend data without checks: the fast path every Function result takes. Always a plain
        Tensor, never a subclass: an op on a Parameter gives a Tensor, as in PyTorch."""
        t = object.__new__(Tensor)
        t.storage, t.requires_grad, t._grad, t._ctx, t.label, t._base = Storage(data), requires_grad, None, None, None, None
        return t

    # ------------------------------------------------------------ properties and conversions
    @property
    def shape(self) -> Shape:
        return self.storage.data.shape

    @property
    def dtype(self) -> DType:
        return self.storage.data.dtype

    @property
    def ndim(self) -> int:
        return len(self.storage.data.shape)

    @property
    def device(self) -> Device:
        return Device(self.storage.data.device)

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    @property
    def grad_fn(self) -> autograd.Function | None:
        return self._ctx

    @property
    def _version(self) -> int:
        return self.storage.version

    def size(self, dim: int | None = None) -> Any:
        return self.shape if dim is None else self.shape[self._dim(dim, "size")]

    def dim(self) -> int:
        return self.ndim

    def numel(self) -> int:
        return self.storage.data.size

    nelement = numel

    def element_size(self) -> int:
        return np.dtype(self.dtype.value).itemsize

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        return (self[i] for i in range(len(self)))

    def __hash__(self) -> int:
        return id(self)

    # ------------------------------------------------------------ autograd
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and not self.dtype.is_float:
            raise RuntimeError(f"requires_grad: only floating point tensors can require gradients, "
                               f"this one is {self.dtype.value}")
        if not requires_grad and self._ctx is not None:
            raise RuntimeError("requires_grad_: you can only change requires_grad flags of leaf "
                               "tensors; use detach() to get a tensor without history")
        self.requires_grad = requires_grad
        return self

    def backward(self, gradient: Any = None, retain_graph: bool = False) -> None:
        """Fill `.grad` of every leaf this tensor depends on with d(self)/d(leaf), accumulating."""
        autograd.backward(self, gradient, retain_graph)

    def detach(self) -> Tensor:
        """The same storage without history: an in-place change to one shows in the other."""
        t = Tensor.from_data(self.storage.data)
        t.storage = self.storage
        return t

    def clone(self) -> Tensor:
        # times 1, not plus 0: -0.0 + 0 is +0.0, and a clone must keep every bit
        return self * 1 if self.dtype.is_float else Tensor.from_data(self.storage.data)

    # ------------------------------------------------------------ creation from a tensor
    def new_full(self, size: Any, fill_value: Scalar, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        shape = shape_arg(size if isinstance(size, tuple) else (size,), "new_full")
        dtype = to_dtype(dtype, "new_full") or self.dtype
        return Tensor.from_data(get_backend().const(fill_value, shape, dtype)).requires_grad_(requires_grad)

    def new_zeros(self, *size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        return self.new_full(shape_arg(size, "new_zeros"), 0, dtype, requires_grad)

    def new_ones(self, *size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        return self.new_full(shape_arg(size, "new_ones"), 1, dtype, requires_grad)

    def new_empty(self, *size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        return self.new_zeros(*size, dtype=dtype, requires_grad=requires_grad)

    def new_tensor(self, data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        return Tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)

    # ------------------------------------------------------------ helpers for dims and operands
    def _dim(self, dim: int, op: str, ndim: int | None = None) -> int:
        n = self.ndim if ndim is None else ndim
        if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
            raise TypeError(f"{op}: dim must be an integer, got {dim!r}")
        if not -max(n, 1) <= dim < max(n, 1):
            raise IndexError(f"{op}: dim {dim} is out of range for a tensor of shape {self.shape} "
                             f"(expected a dim in [{-max(n, 1)}, {max(n, 1) - 1}])")
        return int(dim) % max(n, 1)

    def _dims(self, dim: int | Sequence[int] | None, op: str) -> tuple[int, ...]:
        if dim is None:
            return tuple(range(self.ndim))
        dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)  # _dim rejects a non-integer
        out = tuple(sorted({self._dim(d, op) for d in dims}))
        if len(out) != len(dims):
            raise ValueError(f"{op}: dim {tuple(dims)} names the same dim twice")
        return out if self.ndim else ()

    def _operands(self, other: Any, op: str, reverse: bool = False) -> tuple[Tensor, Tensor]:
        """Bring self and other (a tensor, a Python number or a numpy value) to one dtype and one shape.
        This runs before every binary op: the cases come commonest first, and the checks read the
        backend data directly rather than through the properties."""
        if isinstance(other, Tensor):
            x, y = self, other
            x_data, y_data = x.storage.data, y.storage.data
            if x_data.device != y_data.device:  # strings: cheaper than two Device objects
                raise RuntimeError(f"{op}: expected all tensors to be on the same device, but found "
                                   f"{x.device} and {y.device}")
            if x_data.dtype is not y_data.dtype:
                dtype = promote(x.dtype, y.dtype)
                if (x.ndim == 0) != (y.ndim == 0) and category(x.dtype) == category(y.dtype):
                    dtype = y.dtype if x.ndim == 0 else x.dtype  # a 0-d tensor does not widen its kind, as in PyTorch
                x, y = x.to(dtype), y.to(dtype)
            if x_data.shape != y_data.shape:
                shape = broadcast_shape(x.shape, y.shape, op)
                x, y = x._broadcast_to(shape), y._broadcast_to(shape)
        elif isinstance(other, (float, int, np.number)):  # bool is an int
            if type(other) is not float:
                other = other.item() if isinstance(other, np.number) else other
                if isinstance(other, int) and not -2 ** 63 <= other < 2 ** 63:
                    raise OverflowError(f"{op}: the number {other} does not fit in int64")
            x = self
            dtype = self.storage.data.dtype
            if dtype is not DType.float32 and dtype is not DType.float64:
                if isinstance(other, float):
                    x = self.to(default_float())
                elif isinstance(other, int) and not isinstance(other, bool) and dtype is DType.bool:
                    x = self.to(DType.int64)
            # A Python number becomes a CONST of x's shape (a zero-stride view), not a broadcast chain.
            data = x.storage.data
            y = Tensor.from_data(type(data).const(other, data.shape, data.dtype))
        elif isinstance(other, (np.ndarray, np.generic)):  # an array, or a numpy bool or string
            return self._operands(Tensor(other), op, reverse)
        else:
            raise TypeError(f"{op}: unsupported operand type {type(other).__name__} "
                            f"(expected a Tensor or a Python number)")
        return (y, x) if reverse else (x, y)

    def _broadcast_to(self, shape: Shape) -> Tensor:
        return self if self.shape == shape else Expand.apply(self, shape=shape)

    def _float(self) -> Tensor:
        return self if self.dtype.is_float else self.to(default_float())

    # ------------------------------------------------------------ elementwise: arithmetic
    def add(self, other: TensorLike, alpha: Scalar = 1) -> Tensor:
        if self.dtype == DType.bool and isinstance(other, Tensor) and other.dtype == DType.bool:
            return self | other  # as in PyTorch: True + True is True
        return Add.apply(*self._operands(other if alpha == 1 else other * alpha, "add"))

    def sub(self, other: TensorLike, alpha: Scalar = 1) -> Tensor:
        self._no_bool_sub(other)
        return Sub.apply(*self._operands(other if alpha == 1 else other * alpha, "sub"))

    def mul(self, other: TensorLike) -> Tensor:
        if self.dtype == DType.bool and isinstance(other, Tensor) and other.dtype == DType.bool:
            return self & other
        return Mul.apply(*self._operands(other, "mul"))

    def div(self, other: TensorLike, rounding_mode: str | None = None) -> Tensor:
        x, y = self._operands(other, "div")
        if rounding_mode == "floor":
            return FloorDivide.apply(*x._nonzero_divisor(y, "floor_divide"))
        if rounding_mode == "trunc":
            if x.dtype.is_float:
                return Trunc.apply(Div.apply(x, y))
            quotient = FloorDivide.apply(*x._nonzero_divisor(y, "div"))  # floor; trunc is one more where signs differ
            return quotient + ((Remainder.apply(x, y) != 0) & ((x < 0) != (y < 0))).to(quotient.dtype)
        if rounding_mode is not None:
            raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', got {rounding_mode!r}")
        return Div.apply(x._float(), y._float())

    def _nonzero_divisor(self, y: Tensor, op: str) -> tuple[Tensor, Tensor]:
        """(self, y), after refusing an integer division by zero, as PyTorch does."""
        if self.dtype == DType.bool:
            raise TypeError(f"{op}: not implemented for bool tensors")
        if not self.dtype.is_float and (y == 0).any().item():
            raise RuntimeError(f"{op}: ZeroDivisionError (integer division by zero)")
        return self, y

    def __radd__(self, other: TensorLike) -> Tensor:
        return Add.apply(*self._operands(other, "add", reverse=True))

    def _no_bool_sub(self, other: TensorLike) -> None:
        if self.dtype == DType.bool or other is True or other is False or getattr(other, "dtype", None) == DType.bool:
            raise RuntimeError("sub: subtraction, the `-` operator, with a bool tensor is not supported; use "
                            "the ^ or logical_xor() operator instead")

    def __rsub__(self, other: TensorLike) -> Tensor:
        self._no_bool_sub(other)
        return Sub.apply(*self._operands(other, "sub", reverse=True))

    def __rmul__(self, other: TensorLike) -> Tensor:
        return Mul.apply(*self._operands(other, "mul", reverse=True))

    def __rtruediv__(self, other: TensorLike) -> Tensor:
        x, y = self._operands(other, "div", reverse=True)
        return Div.apply(x._float(), y._float())

    def __floordiv__(self, other: TensorLike) -> Tensor:
        return self.div(other, rounding_mode="floor")

    def __rfloordiv__(self, other: TensorLike) -> Tensor:
        x, y = self._operands(other, "floordiv", reverse=True)
        return x.div(y, rounding_mode="floor")

    def remainder(self, other: TensorLike) -> Tensor:
        """x - floor(x / y) * y: the sign of the divisor, as Python's % and PyTorch's remainder."""
        x, y = self._operands(other, "remainder")
        return Remainder.apply(*x._nonzero_divisor(y, "remainder"))

    def __rmod__(self, other: TensorLike) -> Tensor:
        x, y = self._operands(other, "remainder", reverse=True)
        return x.remainder(y)

    def neg(self) -> Tensor:
        if self.dtype == DType.bool:
            raise RuntimeError("neg: negation, the `-` operator, on a bool tensor is not supported; "
                            "use the `~` or logical_not() operator instead")
        return Neg.apply(self)

    def __pos__(self) -> Tensor:
        return self

    def __rpow__(self, base: Scalar) -> Tensor:
        return self.new_full(self.shape, base, dtype=promote(to_dtype_of(base), self.dtype)).pow(self)

    def __rmatmul__(self, other: Tensor) -> Tensor:
        return Tensor(other).matmul(self)

    def pow(self, exponent: TensorLike) -> Tensor:
        """Integer exponents by repeated squaring (5.0 ** 3 is 125 exactly); others by Power, which
        keeps C's special cases (0 ** 0 = 1 ** inf = 1)."""
        if isinstance(exponent, Tensor):
            x, y = self._operands(exponent, "pow")
            if x.dtype.is_float:
                return Power.apply(x, y)
            base, negative = x, y < 0
            out, y = x.new_ones(x.shape), y.abs()
            while y.any().item():  # exact integer powers by squaring, one bit of the exponents a step
                out, x, y = where(y % 2 == 1, out * x, out), x * x, y // 2
            # x ** -n is 1 / x ** n truncated to an integer: 0 unless x is 1 or -1, as in PyTorch
            return where(negative & (base.abs() != 1), 0, out)
        if isinstance(exponent, np.number):
            exponent = exponent.item()
        if not isinstance(exponent, (int, float)) or isinstance(exponent, bool):
            raise TypeError(f"pow: unsupported exponent type {type(exponent).__name__}")
        if float(exponent).is_integer() and abs(exponent) < 2 ** 31:
            if exponent < 0 and not self.dtype.is_float:
                raise RuntimeError("pow: integers to negative integer powers are not allowed")
            x = self._float() if isinstance(exponent, float) else self
            return x * x if exponent == 2 else IntPow.apply(x, exponent=int(exponent))
        if exponent == 0.5:
            return self._float().sqrt()
        x = self._float()
        return Power.apply(x, x.new_full(x.shape, exponent))

    # ------------------------------------------------------------ elementwise: comparisons and logic
    def _compare(self, other: TensorLike, op: BinaryOps, name: str, reverse: bool = False) -> Tensor:
        """Comparisons give bool tensors; they have no gradient, so they call the primitive directly."""
        x, y = self._operands(other, name, reverse)
        return Tensor.from_data(x.storage.data.binary(op, y.storage.data))

    def lt(self, other: TensorLike) -> Tensor:
        return self._compare(other, BinaryOps.CMPLT, "lt")

    def gt(self, other: TensorLike) -> Tensor:
        return self._compare(other, BinaryOps.CMPLT, "gt", reverse=True)

    def le(self, other: TensorLike) -> Tensor:
        # x <= y as (x < y) or (x == y), not not(x > y): with a NaN both are False, as in IEEE
        return self._compare(other, BinaryOps.CMPLT, "le") | self._compare(other, BinaryOps.CMPEQ, "le")

    def ge(self, other: TensorLike) -> Tensor:
        return self._compare(other, BinaryOps.CMPLT, "ge", reverse=True) | self._compare(other, BinaryOps.CMPEQ, "ge")

    def eq(self, other: Any) -> Tensor:
        return self._compare(other, BinaryOps.CMPEQ, "eq")

    def ne(self, other: Any) -> Tensor:
        return self.eq(other).logical_not()

    def isnan(self) -> Tensor:
        return self != self

    def isinf(self) -> Tensor:
        return self.abs() == math.inf

    def isfinite(self) -> Tensor:
        return (self == self) & (self.abs() != math.inf)

    def logical_not(self) -> Tensor:
        return self._compare(False if self.dtype == DType.bool else 0, BinaryOps.CMPEQ, "logical_not")

    def logical_and(self, other: TensorLike) -> Tensor:
        return self.bool() & Tensor._as_tensor(other).bool()

    def logical_or(self, other: TensorLike) -> Tensor:
        return self.bool() | Tensor._as_tensor(other).bool()

    def logical_xor(self, other: TensorLike) -> Tensor:
        return self.bool() != Tensor._as_tensor(other).bool()

    def __invert__(self) -> Tensor:
        if self.dtype.is_float:
            raise TypeError(f"~: bitwise_not is only defined for integer and bool tensors, this one is {self.dtype.value}")
        return self._bitwise(True if self.dtype == DType.bool else -1, BinaryOps.XOR, "bitwise_not")

    def _bitwise(self, other: TensorLike, op: BinaryOps, name: str, reverse: bool = False) -> Tensor:
        """AND, OR, XOR: bit by bit on integers, logical on bools; they have no gradient."""
        x, y = self._operands(other, name, reverse)
        if x.dtype.is_float:
            raise TypeError(f"{name}: only integer and bool tensors have bits, got {x.dtype.value}")
        return Tensor.from_data(x.storage.data.binary(op, y.storage.data))

    def bitwise_and(self, other: TensorLike) -> Tensor:
        return self._bitwise(other, BinaryOps.AND, "bitwise_and")

    def bitwise_or(self, other: TensorLike) -> Tensor:
        return self._bitwise(other, BinaryOps.OR, "bitwise_or")

    def bitwise_xor(self, other: TensorLike) -> Tensor:
        return self._bitwise(other, BinaryOps.XOR, "bitwise_xor")

    def __rand__(self, other: TensorLike) -> Tensor:
        return self._bitwise(other, BinaryOps.AND, "bitwise_and", reverse=True)

    def __ror__(self, other: TensorLike) -> Tensor:
        return self._bitwise(other, BinaryOps.OR, "bitwise_or", reverse=True)

    def __rxor__(self, other: TensorLike) -> Tensor:
        return self._bitwise(other, BinaryOps.XOR, "bitwise_xor", reverse=True)

    @staticmethod
    def _as_tensor(value: TensorLike) -> Tensor:
        return value if isinstance(value, Tensor) else Tensor(value)

    def where(self, condition: Tensor, other: TensorLike) -> Tensor:
        """self where condition holds, else other: the method form of edugrad.where(condition, self, other)."""
        return where(condition, self, other)

    def masked_fill(self, mask: Tensor, value: TensorLike) -> Tensor:
        if not isinstance(mask, Tensor) or mask.dtype != DType.bool:
            raise TypeError(f"masked_fill: mask must be a bool tensor, got "
                            f"{getattr(mask, 'dtype', type(mask).__name__)}")
        if broadcast_shape(self.shape, mask.shape, "masked_fill") != self.shape:
            raise RuntimeError(f"masked_fill: mask of shape {mask.shape} would grow the tensor of shape {self.shape}")
        return where(mask, value, self).to(self.dtype)  # the value takes self's dtype, as in PyTorch

    def maximum(self, other: TensorLike) -> Tensor:
        return Maximum.apply(*self._operands(other, "maximum"))

    def minimum(self, other: TensorLike) -> Tensor:
        x, y = self._operands(other, "minimum")
        return x & y if x.dtype == DType.bool else -(-x).maximum(-y)

    def clamp(self, min: TensorLike | None = None, max: TensorLike | None = None) -> Tensor:
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        # where, not maximum/minimum: a value exactly at a bound keeps its whole gradient, as in
        # PyTorch, where maximum would split it in half between the value and the bound
        out = self
        if min is not None:  # a nan bound gives nan, as in PyTorch (nan != nan)
            out = where((out < min) | (min != min), min, out) if isinstance(min, Tensor) or min != min else \
                where(out < min, min, out)
        if max is not None:
            out = where((out > max) | (max != max), max, out) if isinstance(max, Tensor) or max != max else \
                where(out > max, max, out)
        return out

    clip = clamp

    # ------------------------------------------------------------ elementwise: math
    def exp(self) -> Tensor:
        return Exp.apply(self._float())

    def log(self) -> Tensor:
        return Log.apply(self._float())

    def exp2(self) -> Tensor:
        return Exp.apply(self._float() * math.log(2.0))

    def log2(self) -> Tensor:
        return self.log() / math.log(2.0)

    def log1p(self) -> Tensor:
        return (self + 1).log()

    def expm1(self) -> Tensor:
        return self.exp() - 1

    def sqrt(self) -> Tensor:
        return Sqrt.apply(self._float())

    def rsqrt(self) -> Tensor:
        return self.sqrt().reciprocal()

    def reciprocal(self) -> Tensor:
        return Reciprocal.apply(self._float())

    def sin(self) -> Tensor:
        return Sin.apply(self._float())

    def cos(self) -> Tensor:
        return Cos.apply(self._float())

    def tan(self) -> Tensor:
        return self.sin() / self.cos()

    def square(self) -> Tensor:
        return self * self

    def abs(self) -> Tensor:
        # zero maps to the constant 0: abs(-0.0) is +0.0 and no gradient passes there (sgn(0) = 0), as in PyTorch
        return where(self < 0, -self, where(self == 0, 0, self)) if self.dtype != DType.bool else self

    # Rounding: exact for every float, inf and nan included; the gradient is zero, but the result
    # stays in the graph, as PyTorch's does.
    def sign(self) -> Tensor:
        return Sign.apply(self) if self.dtype != DType.bool else self

    def _rounded(self, rounding: type[autograd.Function], op: str) -> Tensor:
        if self.dtype == DType.bool:
            raise TypeError(f"{op}: not implemented for bool tensors")
        return rounding.apply(self) if self.dtype.is_float else self

    def trunc(self) -> Tensor:
        return self._rounded(Trunc, "trunc")

    def floor(self) -> Tensor:
        return self._rounded(Floor, "floor")

    def ceil(self) -> Tensor:
        return self._rounded(Ceil, "ceil")

    def round(self, decimals: int = 0) -> Tensor:
        """Round half to even, as PyTorch and numpy do."""
        if decimals and self.dtype.is_float:
            return (self * 10.0 ** decimals).round() / 10.0 ** decimals
        return self._rounded(Round, "round")

    def lerp(self, end: Tensor, weight: TensorLike) -> Tensor:
        return self._float_only("lerp") + weight * (end - self)

    def addcmul(self, tensor1: Tensor, tensor2: Tensor, value: Scalar = 1) -> Tensor:
        """self + value * tensor1 * tensor2, in PyTorch's order (a multiply by 1 is skipped: it is exact)."""
        return self + (tensor1 if value == 1 else value * tensor1) * tensor2

    def addcdiv(self, tensor1: Tensor, tensor2: Tensor, value: Scalar = 1) -> Tensor:
        """self + value * tensor1 / tensor2, in PyTorch's order."""
        return self + (tensor1 if value == 1 else value * tensor1) / tensor2

    def frac(self) -> Tensor:
        return self._float_only("frac") - self.trunc().detach()

    def _float_only(self, op: str) -> Tensor:
        if not self.dtype.is_float:
            raise TypeError(f"{op}: expected a floating-point tensor, got {self.dtype.value}")
        return self

    def relu(self) -> Tensor:
        return Relu.apply(self)

    def sigmoid(self) -> Tensor:
        return Sigmoid.apply(self._float())

    def tanh(self) -> Tensor:
        return Tanh.apply(self._float())

    def erf(self) -> Tensor:
        return Erf.apply(self._float())

    # ------------------------------------------------------------ reductions
    def _reduce(self, fn: type[autograd.Function], dim: int | Sequence[int] | None, keepdim: bool, op: str) -> Tensor:
        axes = self._dims(dim, op)
        for a in axes:
            if self.shape[a] == 0 and fn is Max:
                raise IndexError(f"{op}: cannot reduce dim {a} of size 0 (shape {self.shape}): it has no "
                                 f"{'minimum' if op == 'amin' else 'maximum'}")
        out = fn.apply(self, axes=axes) if axes else self
        if keepdim:
            return out
        # The shape is known to be valid: skip Tensor.reshape's checks, this runs on every reduction.
        return Reshape.apply(out, shape=tuple(s for i, s in enumerate(self.shape) if i not in axes)) if axes else out

    def sum(self, dim: int | Sequence[int] | None = None, keepdim: bool = False, dtype: Any = None, *,
            keepdims: bool = False) -> Tensor:
        # bools and int32 sum to int64, as in PyTorch, so counts and totals don't overflow.
        # keepdims: numpy's spelling, which PyTorch's reductions also accept.
        keepdim = keepdim or keepdims
        dtype = to_dtype(dtype, "sum")
        x = self.to(dtype) if dtype else self.to(DType.int64) if self.dtype in (DType.bool, DType.int32) else self
        return x._reduce(Sum, dim, keepdim, "sum")

    def mean(self, dim: int | Sequence[int] | None = None, keepdim: bool = False, dtype: Any = None, *,
             keepdims: bool = False) -> Tensor:
        keepdim = keepdim or keepdims
        if not self.dtype.is_float and to_dtype(dtype, "mean") is None:
            raise RuntimeError(f"mean: could not infer output dtype: input dtype must be a floating point "
                            f"type, got {self.dtype.value}; pass dtype= or call .float() first")
        x = self.to(to_dtype(dtype, "mean") or self.dtype)
        count = math.prod(x.shape[a] for a in x._dims(dim, "mean"))
        return x.sum(dim, keepdim) / count

    def amax(self, dim: int | Sequence[int] | None = None, keepdim: bool = False, *, keepdims: bool = False) -> Tensor:
        return self._reduce(Max, dim, keepdim or keepdims, "amax")  # a NaN wins: the MAX primitive propagates it

    def amin(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        if self.dtype == DType.bool:
            return self.logical_not()._reduce(Max, dim, keepdim, "amin").logical_not()
        return -((-self)._reduce(Max, dim, keepdim, "amin"))

    def max(self, dim: Any = None, keepdim: bool = False, *, keepdims: bool = False) -> Any:
        """With no dim, the largest element; with dim, (values, indices) as in PyTorch, the gradient
        going to the one element the index names; with a tensor, the elementwise maximum."""
        keepdim = keepdim or keepdims
        if isinstance(dim, Tensor):
            return self.maximum(dim)
        if dim is None:
            return self.amax()
        return self._pick(self.argmax(dim, keepdim=True), dim, keepdim)

    def min(self, dim: Any = None, keepdim: bool = False) -> Any:
        if isinstance(dim, Tensor):
            return self.minimum(dim)
        if dim is None:
            return self.amin()
        return self._pick(self.argmin(dim, keepdim=True), dim, keepdim)

    def _pick(self, index: Tensor, dim: int, keepdim: bool) -> MaxResult:
        """(values at index along dim, index): what max(dim) and min(dim) return."""
        if self.ndim == 0:
            return MaxResult(self, index)
        values = self.gather(dim, index)
        return MaxResult(values, index) if keepdim else MaxResult(values.squeeze(dim), index.squeeze(dim))

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """Index of the first largest element along dim (of the flattened tensor when dim is None);
        a NaN counts as the largest, as in PyTorch."""
        if dim is None:
            return self.flatten().argmax(0)
        d = self._dim(dim, "argmax")
        if self.ndim == 0:  # a single element is its own maximum
            return self.new_full((), 0, dtype=DType.int64)
        x = self.detach()
        if x.dtype == DType.bool:
            x = x.to(DType.int64)
        is_max = (x == x.amax(d, keepdim=True)) | (x.isnan() if x.dtype.is_float else False)
        n = self.shape[d]
        positions = Tensor(np.arange(n)).reshape([n if i == d else 1 for i in range(self.ndim)])
        return where(is_max, positions, n).amin(d, keepdim=keepdim)

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        x = self.to(DType.int64) if self.dtype == DType.bool else self
        return (-x).argmax(dim, keepdim)

    def prod(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """Multiply neighbouring pairs until one is left: exact with zeros, log2(n) steps."""
        if dim is None:
            return self.flatten().prod(0)
        d = self._dim(dim, "prod")
        x = self.to(DType.int64) if self.dtype in (DType.bool, DType.int32) else self  # as sum
        if x.ndim == 0:  # the product of one number
            return x * 1
        x = x.transpose(d, -1)
        while x.shape[-1] > 1:
            if x.shape[-1] % 2:
                x = x._pad(((0, 0),) * (x.ndim - 1) + ((0, 1),), value=1)
            x = x.reshape(*x.shape[:-1], x.shape[-1] // 2, 2)
            x = x[..., 0] * x[..., 1]
        if x.shape[-1] == 0:  # the empty product is 1; padding keeps the result in the graph, as torch's is
            x = x._pad(((0, 0),) * (x.ndim - 1) + ((0, 1),), value=1)
        x = x.transpose(d, -1)
        return x if keepdim else x.squeeze(d)

    def var(self, dim: int | Sequence[int] | None = None, keepdim: bool = False, correction: int = 1,
            unbiased: bool | None = None) -> Tensor:
        if unbiased is not None:
            correction = int(unbiased)
        x = self._float_only("var")
        count = math.prod(x.shape[a] for a in x._dims(dim, "var"))
        centered = x - x.mean(dim, keepdim=True)
        return (centered * centered).sum(dim, keepdim) / max(count - correction, 0)

    def std(self, dim: int | Sequence[int] | None = None, keepdim: bool = False, correction: int = 1,
            unbiased: bool | None = None) -> Tensor:
        variance = self.var(dim, keepdim, correction, unbiased)
        # sqrt's slope at 0 is infinite, and where every value is equal backward would multiply it by
        # zeros (nan): there the gradient is masked to 0, as PyTorch's
        constant = variance == 0  # nan stays nan: only an exact 0 is masked
        return where(constant, 0.0, where(constant, 1.0, variance).sqrt())

    def cumsum(self, dim: int, dtype: Any = None) -> Tensor:
        """Running sums along dim, added in order as PyTorch does (float32 in float64)."""
        d = self._dim(dim, "cumsum")
        x = self.to(to_dtype(dtype, "cumsum") or (DType.int64 if not self.dtype.is_float else self.dtype))
        return x * 1 if x.ndim == 0 else Cumsum.apply(x, dim=d)

    def logsumexp(self, dim: int | Sequence[int], keepdim: bool = False) -> Tensor:
        """log(sum(exp(x))), shifted by the max so exp never overflows."""
        x = self._float()
        axes = x._dims(dim, "logsumexp")
        if any(x.shape[a] == 0 for a in axes):  # an empty sum is 0, its log -inf; there is no max to shift by
            shift = x.new_zeros(*[1 if i in axes else n for i, n in enumerate(x.shape)])
        else:
            shift = x.detach().amax(dim, keepdim=True)
            shift = where(shift.abs() == math.inf, 0.0, shift)  # leave all -inf rows as -inf
        out = (x - shift).exp().sum(dim, keepdim=True).log() + shift
        return out if keepdim else out.squeeze(axes if self.ndim else None)

    def softmax(self, dim: int, dtype: Any = None) -> Tensor:
        return self._normalize(Softmax, dim, dtype, "softmax")  # e / e.sum(dim), e = (x - x.amax(dim)).exp()

    def log_softmax(self, dim: int, dtype: Any = None) -> Tensor:
        return self._normalize(LogSoftmax, dim, dtype, "log_softmax")  # shifted - shifted.exp().sum(dim).log()

    def _normalize(self, fn: type[autograd.Function], dim: int, dtype: Any, op: str) -> Tensor:
        x = self.to(dtype) if dtype is not None else self._float_only(op)
        d = x._dim(dim, op)
        if x.numel() == 0:  # nothing to normalize, and no max to shift by; the dim must still exist
            return x
        if x.ndim == 0:  # a 0-d tensor is a row of one
            return fn.apply(x.reshape(1), dim=0).reshape(())
        return fn.apply(x, dim=d)

    def all(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return (self != 0).logical_not().sum(dim, keepdim) == 0

    def any(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return (self != 0).sum(dim, keepdim) > 0

    def count_nonzero(self, dim: int | None = None) -> Tensor:
        return (self != 0).sum(dim)

    # ------------------------------------------------------------ matmul
    def matmul(self, other: Tensor) -> Tensor:
        """Matrix product with PyTorch's rules: 1-D operands are vectors, batch dims broadcast.
        It goes to the MATMUL contraction, never to a broadcast multiply and sum."""
        if not isinstance(other, Tensor):
            raise TypeError(f"matmul: expected a Tensor, got {type(other).__name__}")
        x, y = self, other
        if x.ndim == 0 or y.ndim == 0:
            raise RuntimeError(f"matmul: both operands need at least 1 dim, got shapes {x.shape} and {y.shape}")
        if x.shape[-1] != y.shape[-2 if y.ndim >= 2 else 0]:
            raise RuntimeError(f"matmul: {x.shape} @ {y.shape}: inner dimensions {x.shape[-1]} and "
                               f"{y.shape[-2 if y.ndim >= 2 else 0]} differ")
        if x.dtype != y.dtype:
            raise RuntimeError(f"matmul: expected both operands to have the same dtype, but got "
                               f"{x.dtype.value} and {y.dtype.value}")
        x_vector, y_vector = x.ndim == 1, y.ndim == 1
        if x_vector:
            x = x.reshape(1, -1)
        if y_vector:
            y = y.reshape(-1, 1)
        batch = broadcast_shape(x.shape[:-2], y.shape[:-2], "matmul")
        x = x._broadcast_to(batch + x.shape[-2:])
        y = y._broadcast_to(batch + y.shape[-2:])
        out = Matmul.apply(x, y)
        if x_vector and y_vector:
            return out.reshape(())
        if x_vector:
            return out.squeeze(-2)
        if y_vector:
            return out.squeeze(-1)
        return out

    def mm(self, mat2: Tensor) -> Tensor:
        if self.ndim != 2 or mat2.ndim != 2:
            raise RuntimeError(f"mm: both operands must be matrices, got shapes {self.shape} and {mat2.shape}")
        return self.matmul(mat2)

    def dot(self, other: Tensor) -> Tensor:
        if self.ndim != 1 or other.ndim != 1:
            raise RuntimeError(f"dot: 1D tensors expected, but got {self.ndim}D and {other.ndim}D tensors")
        return self.matmul(other)

    # ------------------------------------------------------------ movement
    def reshape(self, *shape: Any) -> Tensor:
        new_shape = list(shape_arg(shape, "reshape"))
        if new_shape.count(-1) > 1:
            raise RuntimeError(f"reshape: only one dim can be -1, got {tuple(new_shape)}")
        if -1 in new_shape:
            known = math.prod(s for s in new_shape if s != -1)
            if known == 0 or self.numel() % known:
                raise RuntimeError(f"reshape: shape {tuple(new_shape)} is invalid for input of size "
                                   f"{self.numel()} (shape {self.shape})")
            new_shape[new_shape.index(-1)] = self.numel() // known
        if math.prod(new_shape) != self.numel():
            raise RuntimeError(f"reshape: shape {tuple(new_shape)} is invalid for input of size "
                               f"{self.numel()} (shape {self.shape})")
        if tuple(new_shape) == self.shape:
            return self
        out = Reshape.apply(self, shape=tuple(new_shape))
        out._base = (self, "reshape", out.shape)  # a view: in-place changes to it reach self
        return out

    def view(self, *shape: Any) -> Tensor:
        if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list, np.integer)):
            return self.to(shape[0])  # view(dtype)
        return self.reshape(*shape)

    def view_as(self, other: Tensor) -> Tensor:
        return self.reshape(other.shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        return self.reshape(other.shape)

    def permute(self, *dims: Any) -> Tensor:
        given = tuple(dims[0]) if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims  # f(0, 1) or f((0, 1))
        order = tuple(self._dim(d, "permute") for d in given) if self.ndim else tuple(given)
        if sorted(order) != list(range(self.ndim)):
            raise RuntimeError(f"permute: {tuple(given)} is not a permutation of the {self.ndim} dims of {self.shape}")
        if order == tuple(range(self.ndim)):
            return self
        return Permute.apply(self, order=order)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        order = list(range(self.ndim))
        a, b = self._dim(dim0, "transpose"), self._dim(dim1, "transpose")
        if self.ndim == 0:  # a scalar has nothing to swap
            return self
        order[a], order[b] = order[b], order[a]
        return self.permute(order)

    def t(self) -> Tensor:
        if self.ndim > 2:
            raise RuntimeError(f"t: expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
        return self.transpose(0, -1) if self.ndim == 2 else self

    @property
    def T(self) -> Tensor:
        return self.permute(tuple(reversed(range(self.ndim))))

    @property
    def mT(self) -> Tensor:
        return self.transpose(-2, -1)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        start, end = self._dim(start_dim, "flatten"), self._dim(end_dim, "flatten")
        if start > end:
            raise RuntimeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} "
                               f"for a tensor of shape {self.shape}")
        if self.ndim == 0:
            return self.reshape(1)
        return self.reshape(*self.shape[:start], math.prod(self.shape[start:end + 1]), *self.shape[end + 1:])

    def unflatten(self, dim: int, sizes: Sequence[int]) -> Tensor:
        d = self._dim(dim, "unflatten")
        return self.reshape(*self.shape[:d], *sizes, *self.shape[d + 1:])

    def squeeze(self, dim: int | Sequence[int] | None = None) -> Tensor:
        if dim is None:
            return self.reshape(tuple(s for s in self.shape if s != 1))
        dims = self._dims(dim, "squeeze")
        return self.reshape(tuple(s for i, s in enumerate(self.shape) if not (i in dims and s == 1)))

    def unsqueeze(self, dim: int) -> Tensor:
        d = self._dim(dim, "unsqueeze", self.ndim + 1)
        return self.reshape(self.shape[:d] + (1,) + self.shape[d:])

    def expand(self, *sizes: Any) -> Tensor:
        shape = shape_arg(sizes, "expand")
        if len(shape) < self.ndim:
            raise RuntimeError(f"expand: the target {shape} has fewer dims than the tensor's shape {self.shape}")
        if -1 in shape[:len(shape) - self.ndim]:
            raise RuntimeError(f"expand: cannot expand shape {self.shape} to {shape}: -1 (keep the size) is only "
                               f"allowed for existing dims, not for new leading ones")
        current = (1,) * (len(shape) - self.ndim) + self.shape
        target = tuple(c if s == -1 else s for c, s in zip(current, shape))
        for c, t in zip(current, target):
            if c != t and c != 1:
                raise RuntimeError(f"expand: cannot expand shape {self.shape} to {shape}: "
                                   f"only dims of size 1 can grow")
        return self._broadcast_to(target)

    def expand_as(self, other: Tensor) -> Tensor:
        return self.expand(other.shape)

    def repeat(self, *repeats: Any) -> Tensor:
        """Tile the tensor: expand a new size-r axis before each dim, then merge the pairs."""
        reps = shape_arg(repeats, "repeat")
        if any(r < 0 for r in reps):
            raise RuntimeError(f"repeat: repeats can't be negative, got {reps}")
        if len(reps) < self.ndim:
            raise RuntimeError(f"repeat: {len(reps)} repeats for a tensor of {self.ndim} dims")
        x = self.reshape((1,) * (len(reps) - self.ndim) + self.shape)
        interleaved = x.reshape(tuple(d for s in x.shape for d in (1, s)))
        expanded = interleaved.expand(tuple(d for r, s in zip(reps, x.shape) for d in (r, s)))
        return expanded.reshape(tuple(r * s for r, s in zip(reps, x.shape)))

    def flip(self, *dims: Any) -> Tensor:
        axes = self._dims(dims[0] if len(dims) == 1 else dims, "flip")  # flip(0, 1) or flip((0, 1))
        return Stride.apply(self, steps=tuple(-1 if i in axes else 1 for i in range(self.ndim)))

    def _pad(self, pairs: Sequence[tuple[int, int]], value: Scalar = 0.0) -> Tensor:
        """Add (before, after) elements of `value` to each dim, from the first (F.pad takes PyTorch's order)."""
        pairs = tuple((int(b), int(a)) for b, a in pairs)
        if all(b == 0 and a == 0 for b, a in pairs):
            return self
        padded = Pad.apply(self, padding=pairs)
        if value == 0:
            return padded
        inside = Pad.apply(Tensor.from_data(get_backend().const(True, self.shape, DType.bool)), padding=pairs)
        return where(inside, padded, value)

    def _shrink(self, bounds: Sequence[tuple[int, int]]) -> Tensor:
        """Keep [start, stop) of each dim (the SHRINK primitive, for callers that checked the bounds)."""
        bounds = tuple((int(a), int(b)) for a, b in bounds)
        if bounds == tuple((0, n) for n in self.shape):
            return self
        return Shrink.apply(self, bounds=bounds)

    def contiguous(self) -> Tensor:
        return self

    def _triangle(self, diagonal: int, upper: bool, op: str) -> Tensor:
        if self.ndim < 2:
            raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions, got shape {self.shape}")
        rows, cols = self.shape[-2], self.shape[-1]
        offset = Tensor(np.arange(cols)).reshape(1, cols) - Tensor(np.arange(rows)).reshape(rows, 1)
        return where((offset >= diagonal) if upper else (offset <= diagonal), self, False if self.dtype == DType.bool else 0)

    def tril(self, diagonal: int = 0) -> Tensor:
        return self._triangle(diagonal, upper=False, op="tril")

    def triu(self, diagonal: int = 0) -> Tensor:
        return self._triangle(diagonal, upper=True, op="triu")

    # Operators are PyTorch's methods under their dunder names.
    __add__, __sub__, __mul__, __truediv__, __neg__ = add, sub, mul, div, neg
    __mod__, __pow__, __matmul__ = remainder, pow, matmul
    __lt__, __gt__, __le__, __ge__ = lt, gt, le, ge
    __eq__, __ne__ = eq, ne  # type: ignore[assignment]
    __and__, __or__, __xor__ = bitwise_and, bitwise_or, bitwise_xor
    absolute, negative, multiply, divide, subtract, true_divide = abs, neg, mul, div, sub, div
    greater, less, greater_equal, less_equal, not_equal = gt, lt, ge, le, ne


def where(condition: Tensor, input: TensorLike, other: TensorLike) -> Tensor:
    """input where condition holds, else other; input and other may be tensors or numbers; all broadcast."""
    if not isinstance(condition, Tensor):
        raise TypeError(f"where: condition must be a Tensor, got {type(condition).__name__}")
    x, y = input, other
    if isinstance(y, Tensor) and not isinstance(x, Tensor):
        y, x = y._operands(x, "where")
    else:
        if not isinstance(x, Tensor):  # two numbers: x becomes a tensor of the condition's shape
            dtype = default_float() if isinstance(x, float) or isinstance(y, float) else None
            x = Tensor.from_data(get_backend().const(x, condition.shape, dtype or to_dtype_of(x)))
        x, y = x._operands(y, "where")
    if condition.dtype != DType.bool:
        raise TypeError(f"where: expected condition to be a bool tensor, got {condition.dtype.value}")
    shape = broadcast_shape(condition.shape, x.shape, "where")
    return Where.apply(condition._broadcast_to(shape), x._broadcast_to(shape), y._broadcast_to(shape))


