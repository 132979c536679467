"""The user's Tensor: PyTorch's API, built by composing the Functions of `function.py`.

Most methods here need no backward of their own: softmax is exp, sum and division; a linear layer
is a matmul and an add. Only `function.py` knows derivatives, and only the backend computes.
numpy appears here at the user boundary alone: turning lists and arrays into tensors and back.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterator, NamedTuple, Sequence, Union

import numpy as np

from edugrad import autograd
from edugrad import function as F
from edugrad.backend import get_backend
from edugrad.backend.base import Shape, TensorData
from edugrad.ops import BinaryOps, DType

Scalar = Union[int, float, bool]
TensorLike = Union["Tensor", Scalar]

float32, float64, int32, int64 = DType.float32, DType.float64, DType.int32, DType.int64
FLOAT_DTYPES = (DType.float32, DType.float64)
bool_ = DType.bool

# numpy dtypes accepted from the user, and the edugrad dtype each becomes (float data is float32).
HOST_DTYPES: dict[str, DType] = {
    "f": DType.float32, "i": DType.int64, "u": DType.int64, "b": DType.bool,
}


def _shape_arg(shape: tuple[Any, ...], op: str) -> Shape:
    """Accept both f(2, 3) and f((2, 3)), as PyTorch does."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for s in shape:
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"{op}: sizes must be integers, got {shape!r}")
        if s < -1:
            raise ValueError(f"{op}: sizes must be non-negative, got {tuple(shape)}")
    return tuple(int(s) for s in shape)


def _promote(a: DType, b: DType) -> DType:
    """The dtype of an op on dtypes a and b: bool < int32 < int64 < float32 < float64."""
    rank = [DType.bool, DType.int32, DType.int64, DType.float32, DType.float64]
    return a if rank.index(a) >= rank.index(b) else b


def broadcast_shape(a: Shape, b: Shape, op: str) -> Shape:
    """Shape of a and b broadcast together, aligning trailing dims as PyTorch and numpy do."""
    ndim = max(len(a), len(b))
    a_full, b_full = (1,) * (ndim - len(a)) + a, (1,) * (ndim - len(b)) + b
    out = []
    for i, (x, y) in enumerate(zip(a_full, b_full)):
        if x != y and x != 1 and y != 1:
            raise ValueError(f"{op}: shapes {a} and {b} cannot be broadcast together: "
                             f"dim {i - ndim} is {x} vs {y}")
        out.append(y if x == 1 else x)
    return tuple(out)


class MaxResult(NamedTuple):
    """What max(dim)/min(dim) return, as in PyTorch: the values and the index of each."""

    values: Tensor
    indices: Tensor


class Tensor:
    """An n-dimensional array that remembers how it was made, so gradients can flow back."""

    __slots__ = ("data", "requires_grad", "grad", "_ctx", "label", "__weakref__")
    training: bool = False  # dropout is active only while this is True (nn.Module.train() sets it)
    default_dtype: DType = DType.float32

    def __init__(self, data: Any, dtype: DType | None = None, requires_grad: bool = False,
                 label: str | None = None):
        if isinstance(data, Tensor):
            data = data.data
        if not isinstance(data, TensorData):
            data = get_backend().from_host(_to_host_array(data, dtype))
        elif dtype is not None and data.dtype != dtype:
            data = data.cast(dtype)
        self.data: TensorData = data
        self.grad: Tensor | None = None
        self._ctx: F.Function | None = None
        self.label: str | None = label
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def from_data(cls, data: TensorData, requires_grad: bool = False) -> Tensor:
        """Wrap backend data without checks: the fast path every Function result takes."""
        t = object.__new__(cls)
        t.data, t.requires_grad, t.grad, t._ctx, t.label = data, requires_grad, None, None, None
        return t

    # ------------------------------------------------------------ properties and conversions
    @property
    def shape(self) -> Shape:
        return self.data.shape

    @property
    def dtype(self) -> DType:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return len(self.data.shape)

    @property
    def device(self) -> str:
        return getattr(self.data, "device", "cpu")

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    @property
    def grad_fn(self) -> F.Function | None:
        return self._ctx

    def size(self, dim: int | None = None) -> Any:
        return self.shape if dim is None else self.shape[self._dim(dim, "size")]

    def dim(self) -> int:
        return self.ndim

    def numel(self) -> int:
        return self.data.size

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def numpy(self) -> np.ndarray:
        array = self.data.to_host()
        return array if array.flags.writeable else array.copy()

    def item(self) -> Any:
        if self.numel() != 1:
            raise ValueError(f"item: only a tensor with one element can be converted to a Python "
                             f"scalar, this one has shape {self.shape}")
        return self.data.to_host().reshape(()).item()

    def tolist(self) -> Any:
        return self.data.to_host().tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self.numel() != 1:
            raise RuntimeError(f"bool: the truth value of a tensor with shape {self.shape} is "
                               f"ambiguous; use .any() or .all()")
        return bool(self.item())

    def __iter__(self) -> Iterator[Tensor]:
        return (self[i] for i in range(len(self)))

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        body = np.array2string(self.data.to_host(), precision=4, separator=", ", threshold=50,
                               prefix="Tensor(")
        extras = [f"shape={self.shape}", f"dtype={self.dtype.value}"]
        if self._ctx is not None:
            extras.append(f"grad_fn={type(self._ctx).__name__}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        if self.label:
            extras.append(f"label={self.label!r}")
        return f"Tensor({body}, {', '.join(extras)})"

    # ------------------------------------------------------------ autograd
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and not self.dtype.is_float:
            raise RuntimeError(f"requires_grad: only floating point tensors can require gradients, "
                               f"this one is {self.dtype.value}")
        self.requires_grad = requires_grad
        return self

    def backward(self, gradient: Tensor | None = None, retain_graph: bool = False) -> None:
        """Fill `.grad` of every leaf this tensor depends on with d(self)/d(leaf), accumulating."""
        autograd.backward(self, gradient, retain_graph)

    def detach(self) -> Tensor:
        return Tensor.from_data(self.data)

    def zero_grad(self) -> None:
        self.grad = None

    def assign(self, other: TensorLike) -> Tensor:
        """Replace this tensor's values in place (no graph), keeping shape and dtype."""
        value = other if isinstance(other, Tensor) else Tensor.full(self.shape, other, dtype=self.dtype)
        if value.shape != self.shape:
            raise ValueError(f"assign: shape {value.shape} does not match {self.shape}")
        self.data = value.data if value.dtype == self.dtype else value.data.cast(self.dtype)
        return self

    def clone(self) -> Tensor:
        return self + 0 if self.dtype.is_float else Tensor.from_data(self.data)

    # ------------------------------------------------------------ creation
    @staticmethod
    def manual_seed(seed: int) -> None:
        """Restart the random stream: the same seed gives the same rand/randn/dropout values."""
        get_backend().seed(seed)

    @staticmethod
    def full(shape: Any, fill_value: Scalar, dtype: DType | None = None, requires_grad: bool = False) -> Tensor:
        shape = _shape_arg(shape if isinstance(shape, tuple) else (shape,), "full")
        if dtype is None:
            dtype = DType.bool if isinstance(fill_value, bool) else DType.int64 if isinstance(fill_value, int) \
                else Tensor.default_dtype
        data = get_backend().const(fill_value, shape, dtype)
        return Tensor(data, requires_grad=requires_grad) if requires_grad else Tensor.from_data(data)

    @staticmethod
    def zeros(*shape: Any, dtype: DType | None = None, requires_grad: bool = False) -> Tensor:
        return Tensor.full(_shape_arg(shape, "zeros"), 0.0, dtype or Tensor.default_dtype, requires_grad)

    @staticmethod
    def ones(*shape: Any, dtype: DType | None = None, requires_grad: bool = False) -> Tensor:
        return Tensor.full(_shape_arg(shape, "ones"), 1.0, dtype or Tensor.default_dtype, requires_grad)

    @staticmethod
    def empty(*shape: Any, dtype: DType | None = None, requires_grad: bool = False) -> Tensor:
        return Tensor.zeros(*shape, dtype=dtype, requires_grad=requires_grad)

    def zeros_like(self, dtype: DType | None = None, requires_grad: bool = False) -> Tensor:
        return Tensor.full(self.shape, 0, dtype or self.dtype, requires_grad)

    def ones_like(self, dtype: DType | None = None, requires_grad: bool = False) -> Tensor:
        return Tensor.full(self.shape, 1, dtype or self.dtype, requires_grad)

    def full_like(self, fill_value: Scalar, dtype: DType | None = None, requires_grad: bool = False) -> Tensor:
        return Tensor.full(self.shape, fill_value, dtype or self.dtype, requires_grad)

    @staticmethod
    def arange(start: float, end: float | None = None, step: float = 1, dtype: DType | None = None,
               requires_grad: bool = False) -> Tensor:
        if end is None:
            start, end = 0, start
        if step == 0:
            raise ValueError("arange: step must be nonzero")
        is_int = all(isinstance(v, int) for v in (start, end, step))
        dtype = dtype or (DType.int64 if is_int else Tensor.default_dtype)
        values = np.arange(start, end, step, dtype=np.float64 if not is_int else np.int64)
        return Tensor(values, dtype=dtype, requires_grad=requires_grad)

    @staticmethod
    def eye(n: int, m: int | None = None, dtype: DType | None = None, requires_grad: bool = False) -> Tensor:
        m = n if m is None else m
        rows, cols = Tensor.arange(n).reshape(n, 1).expand(n, m), Tensor.arange(m).reshape(1, m).expand(n, m)
        return (rows == cols).cast(dtype or Tensor.default_dtype).requires_grad_(requires_grad)

    @staticmethod
    def rand(*shape: Any, dtype: DType | None = None, requires_grad: bool = False) -> Tensor:
        """Uniform samples in [0, 1): the RANDOM primitive."""
        out = Tensor.from_data(get_backend().random(_shape_arg(shape, "rand")))
        if dtype is not None and dtype != out.dtype:
            out = out.cast(dtype)
        return out.requires_grad_(requires_grad)

    @staticmethod
    def randn(*shape: Any, dtype: DType | None = None, requires_grad: bool = False) -> Tensor:
        """Standard normal samples, from two uniform ones by the Box-Muller transform."""
        shape = _shape_arg(shape, "randn")
        u = Tensor.rand(2, *shape)
        radius = (-2.0 * (1.0 - u[0]).log()).sqrt()  # 1 - u lies in (0, 1], so the log is finite
        out = radius * (2.0 * math.pi * u[1]).cos()
        return out.cast(dtype or Tensor.default_dtype).detach().requires_grad_(requires_grad)

    @staticmethod
    def randint(low: int, high: int | None = None, size: Sequence[int] = (), dtype: DType | None = None) -> Tensor:
        if high is None:
            low, high = 0, low
        return (Tensor.rand(*size) * (high - low) + low).floor().cast(dtype or DType.int64)

    @staticmethod
    def uniform(*shape: Any, low: float = 0.0, high: float = 1.0, requires_grad: bool = False) -> Tensor:
        return (Tensor.rand(*shape) * (high - low) + low).detach().requires_grad_(requires_grad)

    @staticmethod
    def normal(*shape: Any, mean: float = 0.0, std: float = 1.0, requires_grad: bool = False) -> Tensor:
        return (Tensor.randn(*shape) * std + mean).detach().requires_grad_(requires_grad)

    @staticmethod
    def scaled_uniform(*shape: Any, requires_grad: bool = False) -> Tensor:
        """Uniform in [-1, 1) scaled by 1/sqrt(numel), as the original edugrad/tinygrad init."""
        shape = _shape_arg(shape, "scaled_uniform")
        scale = math.prod(shape) ** -0.5
        return Tensor.uniform(*shape, low=-scale, high=scale, requires_grad=requires_grad)

    @staticmethod
    def kaiming_uniform(*shape: Any, a: float = 0.0, requires_grad: bool = False) -> Tensor:
        """PyTorch's default init for Linear and Conv weights: U(-b, b), b = gain * sqrt(3 / fan_in)."""
        shape = _shape_arg(shape, "kaiming_uniform")
        fan_in = math.prod(shape[1:])
        bound = math.sqrt(2.0 / (1 + a * a)) * math.sqrt(3.0 / fan_in)
        return Tensor.uniform(*shape, low=-bound, high=bound, requires_grad=requires_grad)

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
        """Bring self and other (a tensor or a Python number) to one dtype and one shape."""
        if isinstance(other, Tensor):
            x, y = self, other
            if x.data.dtype is not y.data.dtype:
                dtype = _promote(x.dtype, y.dtype)
                x, y = x.cast(dtype), y.cast(dtype)
            if x.data.shape != y.data.shape:
                shape = broadcast_shape(x.shape, y.shape, op)
                x, y = x._broadcast_to(shape), y._broadcast_to(shape)
        elif isinstance(other, (int, float, bool, np.number)):
            other = other.item() if isinstance(other, np.number) else other
            x = self
            if x.data.dtype not in FLOAT_DTYPES:
                if isinstance(other, float):
                    x = self.cast(Tensor.default_dtype)
                elif isinstance(other, int) and not isinstance(other, bool) and self.dtype == DType.bool:
                    x = self.cast(DType.int64)
            # A Python number becomes a CONST of x's shape (a zero-stride view), not a broadcast chain.
            y = Tensor.from_data(type(x.data).const(other, x.shape, x.dtype))
        else:
            raise TypeError(f"{op}: unsupported operand type {type(other).__name__} "
                            f"(expected a Tensor or a Python number)")
        return (y, x) if reverse else (x, y)

    def _broadcast_to(self, shape: Shape) -> Tensor:
        return self if self.shape == shape else F.Expand.apply(self, shape=shape)

    def _float(self) -> Tensor:
        return self if self.dtype.is_float else self.cast(Tensor.default_dtype)

    # ------------------------------------------------------------ arithmetic
    def add(self, other: TensorLike, alpha: Scalar = 1) -> Tensor:
        if alpha != 1:
            other = other * alpha
        return F.Add.apply(*self._operands(other, "add"))

    def sub(self, other: TensorLike, alpha: Scalar = 1) -> Tensor:
        if alpha != 1:
            other = other * alpha
        return F.Sub.apply(*self._operands(other, "sub"))

    def mul(self, other: TensorLike) -> Tensor:
        return F.Mul.apply(*self._operands(other, "mul"))

    __mul__ = mul

    def div(self, other: TensorLike, rounding_mode: str | None = None) -> Tensor:
        x, y = self._operands(other, "div")
        out = F.Div.apply(x._float(), y._float())
        if rounding_mode == "floor":
            out = out.floor()
        elif rounding_mode == "trunc":
            out = out.trunc()
        elif rounding_mode is not None:
            raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', got {rounding_mode!r}")
        return out.cast(x.dtype) if rounding_mode and not x.dtype.is_float else out

    __truediv__ = div

    def __add__(self, other: TensorLike) -> Tensor:
        return F.Add.apply(*self._operands(other, "add"))

    def __radd__(self, other: TensorLike) -> Tensor:
        return F.Add.apply(*self._operands(other, "add", reverse=True))

    def __sub__(self, other: TensorLike) -> Tensor:
        return F.Sub.apply(*self._operands(other, "sub"))

    def __rsub__(self, other: TensorLike) -> Tensor:
        return F.Sub.apply(*self._operands(other, "sub", reverse=True))

    def __rmul__(self, other: TensorLike) -> Tensor:
        return F.Mul.apply(*self._operands(other, "mul", reverse=True))

    def __rtruediv__(self, other: TensorLike) -> Tensor:
        x, y = self._operands(other, "div", reverse=True)
        return F.Div.apply(x._float(), y._float())

    def __floordiv__(self, other: TensorLike) -> Tensor:
        return self.div(other, rounding_mode="floor")

    def __rfloordiv__(self, other: TensorLike) -> Tensor:
        x, y = self._operands(other, "floordiv", reverse=True)
        return x.div(y, rounding_mode="floor")

    def __neg__(self) -> Tensor:
        return F.Neg.apply(self)

    def __pow__(self, exponent: TensorLike) -> Tensor:
        return self.pow(exponent)

    def __rpow__(self, base: Scalar) -> Tensor:
        """base ** x = 2^(x log2 base), for a positive number base."""
        if not isinstance(base, (int, float)) or base <= 0:
            return Tensor.full(self.shape, base, dtype=self._float().dtype).pow(self)
        return (self._float() * math.log2(base)).exp2()

    def __matmul__(self, other: Tensor) -> Tensor:
        return self.matmul(other)

    def __rmatmul__(self, other: Tensor) -> Tensor:
        return Tensor(other).matmul(self)

    def pow(self, exponent: TensorLike) -> Tensor:
        if isinstance(exponent, Tensor):
            x, y = self._operands(exponent, "pow")
            x, y = x._float(), y._float()
            # x^y = sign * 2^(y log2|x|); a negative base keeps its sign for odd integer exponents
            magnitude = (y * x.abs().log2()).exp2()
            odd = (y - 2 * (y / 2).floor()) == 1
            sign = Tensor.where((x < 0) & odd, -1.0, 1.0)
            fractional_of_negative = (x < 0) & (y != y.floor())
            return Tensor.where(fractional_of_negative, math.nan, magnitude * sign)
        if not isinstance(exponent, (int, float)):
            raise TypeError(f"pow: unsupported exponent type {type(exponent).__name__}")
        if exponent == 0:  # 1 everywhere, 0^0 included (2^(0 log2 0) would be nan); the gradient is 0
            return Tensor.full(self.shape, 1, dtype=self.dtype if isinstance(exponent, int) else self._float().dtype)
        if isinstance(exponent, int) and exponent > 0 and not self.dtype.is_float:
            # integer powers of integers stay integers, as in PyTorch; float64 is exact enough to round back
            return self.cast(DType.float64).pow(exponent).round().cast(self.dtype)
        if exponent == 2:
            return self * self
        if exponent == 1:
            return self + 0
        if exponent == 0.5:
            return self._float().sqrt()
        if exponent == -1:
            return self._float().reciprocal()
        return F.Pow.apply(self._float(), exponent=float(exponent))

    # comparisons give bool tensors; they have no gradient, so they call the primitive directly
    def _compare(self, other: TensorLike, op: BinaryOps, name: str, reverse: bool = False) -> Tensor:
        x, y = self._operands(other, name, reverse)
        return Tensor.from_data(x.data.binary(op, y.data))

    def __lt__(self, other: TensorLike) -> Tensor:
        return self._compare(other, BinaryOps.CMPLT, "lt")

    def __gt__(self, other: TensorLike) -> Tensor:
        return self._compare(other, BinaryOps.CMPLT, "gt", reverse=True)

    def __le__(self, other: TensorLike) -> Tensor:
        return (self > other).logical_not()

    def __ge__(self, other: TensorLike) -> Tensor:
        return (self < other).logical_not()

    def __eq__(self, other: object) -> Tensor:  # type: ignore[override]
        return self._compare(other, BinaryOps.CMPEQ, "eq")  # type: ignore[arg-type]

    def __ne__(self, other: object) -> Tensor:  # type: ignore[override]
        return (self == other).logical_not()

    lt, gt, le, ge, eq, ne = __lt__, __gt__, __le__, __ge__, __eq__, __ne__

    def logical_not(self) -> Tensor:
        return self._compare(False, BinaryOps.CMPEQ, "logical_not") if self.dtype == DType.bool \
            else self._compare(0, BinaryOps.CMPEQ, "logical_not")

    def __invert__(self) -> Tensor:
        if self.dtype != DType.bool:
            raise TypeError(f"~: only bool tensors can be inverted, this one is {self.dtype.value}")
        return self.logical_not()

    def __and__(self, other: TensorLike) -> Tensor:
        x, y = self._operands(other, "and")
        return (x.cast(DType.int64) * y.cast(DType.int64)) != 0 if x.dtype == DType.bool else x * y

    def __or__(self, other: TensorLike) -> Tensor:
        x, y = self._operands(other, "or")
        return (x.cast(DType.int64) + y.cast(DType.int64)) != 0

    logical_and, logical_or = __and__, __or__

    @staticmethod
    def where(condition: Tensor, x: TensorLike, y: TensorLike) -> Tensor:
        """x where condition holds, else y; x and y may be tensors or numbers; all broadcast."""
        if not isinstance(condition, Tensor):
            raise TypeError(f"where: condition must be a Tensor, got {type(condition).__name__}")
        if isinstance(y, Tensor) and not isinstance(x, Tensor):
            y, x = y._operands(x, "where")
        else:
            if not isinstance(x, Tensor):  # two numbers: x becomes a tensor of the condition's shape
                x = Tensor.full(condition.shape, x, dtype=Tensor.default_dtype if isinstance(x, float) or
                                isinstance(y, float) else None)
            x, y = x._operands(y, "where")
        shape = broadcast_shape(condition.shape, x.shape, "where")
        condition = condition if condition.dtype == DType.bool else condition != 0
        return F.Where.apply(condition._broadcast_to(shape), x._broadcast_to(shape), y._broadcast_to(shape))

    def maximum(self, other: TensorLike) -> Tensor:
        return F.Maximum.apply(*self._operands(other, "maximum"))

    def minimum(self, other: TensorLike) -> Tensor:
        x, y = self._operands(other, "minimum")
        return -F.Maximum.apply(-x, -y)

    def clamp(self, min: Scalar | None = None, max: Scalar | None = None) -> Tensor:
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        # where, not maximum/minimum: a value exactly at a bound keeps its whole gradient, as in
        # PyTorch, where maximum would split it in half between the value and the bound
        out = self
        if min is not None:
            out = Tensor.where(out < min, min, out)
        if max is not None:
            out = Tensor.where(out > max, max, out)
        return out

    clip = clamp

    # ------------------------------------------------------------ math
    def exp(self) -> Tensor:
        return F.Exp.apply(self._float())

    def log(self) -> Tensor:
        return F.Log.apply(self._float())

    def exp2(self) -> Tensor:
        return F.Exp.apply(self._float() * math.log(2.0))

    def log2(self) -> Tensor:
        return self.log() / math.log(2.0)

    def sqrt(self) -> Tensor:
        return F.Sqrt.apply(self._float())

    def rsqrt(self) -> Tensor:
        return self.sqrt().reciprocal()

    def reciprocal(self) -> Tensor:
        return F.Reciprocal.apply(self._float())

    def sin(self) -> Tensor:
        return F.Sin.apply(self._float())

    def cos(self) -> Tensor:
        return (math.pi / 2 - self._float()).sin()

    def tan(self) -> Tensor:
        return self.sin() / self.cos()

    def square(self) -> Tensor:
        return self * self

    def abs(self) -> Tensor:
        return self.relu() + (-self).relu()

    def sign(self) -> Tensor:
        return (self > 0).cast(self.dtype) - (self < 0).cast(self.dtype)

    def trunc(self) -> Tensor:
        if not self.dtype.is_float:
            return self
        return self.detach().cast(DType.int64).cast(self.dtype)

    def floor(self) -> Tensor:
        truncated = self.trunc()
        return truncated - (self < truncated).cast(self.dtype) if self.dtype.is_float else self

    def ceil(self) -> Tensor:
        truncated = self.trunc()
        return truncated + (self > truncated).cast(self.dtype) if self.dtype.is_float else self

    def round(self) -> Tensor:
        """Round half to even, as PyTorch and numpy do."""
        if not self.dtype.is_float:
            return self
        nearest = (self + 0.5).floor()
        is_tie = (nearest - self) == 0.5
        is_odd = (nearest - 2 * (nearest / 2).floor()) == 1
        return Tensor.where(is_tie & is_odd, nearest - 1, nearest).detach()

    def relu(self) -> Tensor:
        return F.Relu.apply(self)

    def sigmoid(self) -> Tensor:
        return F.Sigmoid.apply(self._float())

    def tanh(self) -> Tensor:
        return 2.0 * (2.0 * self).sigmoid() - 1.0

    # where(x > 0, ...) rather than relu differences: at x = 0 the gradient is then the negative
    # side's slope, as in PyTorch, instead of the 0 that relu's kink would give
    def leaky_relu(self, negative_slope: float = 0.01) -> Tensor:
        return Tensor.where(self > 0, self, self * negative_slope)

    def elu(self, alpha: float = 1.0) -> Tensor:
        negative_part = Tensor.where(self > 0, 0.0, self)  # min(x, 0), its whole gradient going to x <= 0
        return self.relu() + alpha * (negative_part.exp() - 1)

    def erf(self) -> Tensor:
        """Abramowitz & Stegun 7.1.26 (error < 1.5e-7) for |x|, made odd: there is no erf primitive.
        where(), not sign(x) * erf(|x|): the sign's zero gradient would make the slope 0 at x = 0."""
        magnitude = Tensor.where(self < 0, -self, self)
        t = 1.0 / (1.0 + 0.3275911 * magnitude)
        poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
        positive = 1.0 - poly * (-magnitude * magnitude).exp()
        return Tensor.where(self < 0, -positive, positive)

    def gelu(self, approximate: str = "none") -> Tensor:
        if approximate == "tanh":
            # x/2 (1 + tanh(z)) with z = sqrt(2/pi) (x + 0.044715 x^3), written as x sigmoid(2z):
            # the same function, since (1 + tanh z)/2 = sigmoid(2z), in half the ops.
            cubic = self + 0.044715 * (self * self * self)
            return self * (cubic * (2 * math.sqrt(2 / math.pi))).sigmoid()
        if approximate != "none":
            raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
        return 0.5 * self * (1 + (self * (1 / math.sqrt(2))).erf())

    def silu(self) -> Tensor:
        return self * self.sigmoid()

    swish = silu

    def softplus(self, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
        """log(1 + e^(beta x)) / beta, written as max(z, 0) + log(1 + e^-|z|) so it never overflows."""
        z = self * beta
        # maximum, not relu: at z = 0 it passes half the gradient, the slope 1/2 that |z| (slope 0 there) leaves out
        smooth = (z.maximum(0) + (1 + (-z.abs()).exp()).log()) / beta
        return Tensor.where(z > threshold, self, smooth)

    def mish(self) -> Tensor:
        return self * self.softplus().tanh()

    def softsign(self) -> Tensor:
        return self / (1 + self.abs())

    def hardtanh(self, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
        """clamp, except that at the bounds themselves no gradient passes, as PyTorch's hardtanh."""
        return Tensor.where(self <= min_val, min_val, Tensor.where(self >= max_val, max_val, self))

    def relu6(self) -> Tensor:
        return self.hardtanh(0.0, 6.0)

    def logsigmoid(self) -> Tensor:
        return -(-self).softplus()

    def hardsigmoid(self) -> Tensor:
        return (self / 6 + 0.5).hardtanh(0, 1)  # hardtanh: no gradient at x = +-3 itself, as in PyTorch

    # ------------------------------------------------------------ reductions
    def _reduce(self, fn: type[F.Function], dim: int | Sequence[int] | None, keepdim: bool, op: str) -> Tensor:
        axes = self._dims(dim, op)
        for a in axes:
            if self.shape[a] == 0 and fn is F.Max:
                raise ValueError(f"{op}: cannot reduce dim {a} of size 0 (shape {self.shape}): it has no maximum")
        out = fn.apply(self, axes=axes) if axes else self
        if keepdim:
            return out
        # The shape is known to be valid: skip Tensor.reshape's checks, this runs on every reduction.
        return F.Reshape.apply(out, shape=tuple(s for i, s in enumerate(self.shape) if i not in axes)) if axes else out

    def sum(self, dim: int | Sequence[int] | None = None, keepdim: bool = False, axis: Any = None,
            dtype: DType | None = None) -> Tensor:
        # bools and int32 sum to int64, as in PyTorch, so counts and totals don't overflow
        x = self.cast(dtype) if dtype else self.cast(DType.int64) if self.dtype in (DType.bool, DType.int32) else self
        return x._reduce(F.Sum, axis if dim is None else dim, keepdim, "sum")

    def mean(self, dim: int | Sequence[int] | None = None, keepdim: bool = False, axis: Any = None) -> Tensor:
        dim = axis if dim is None else dim
        x = self._float()
        count = math.prod(x.shape[a] for a in x._dims(dim, "mean"))
        return x.sum(dim, keepdim) / count

    def amax(self, dim: int | Sequence[int] | None = None, keepdim: bool = False, axis: Any = None) -> Tensor:
        return self._reduce(F.Max, axis if dim is None else dim, keepdim, "max")

    def amin(self, dim: int | Sequence[int] | None = None, keepdim: bool = False, axis: Any = None) -> Tensor:
        return -((-self)._reduce(F.Max, axis if dim is None else dim, keepdim, "min"))

    def max(self, dim: int | None = None, keepdim: bool = False, axis: Any = None) -> Any:
        """With no dim, the largest element; with dim, (values, indices) as in PyTorch."""
        dim = axis if dim is None else dim
        if dim is None:
            return self.amax()
        return MaxResult(self.amax(dim, keepdim), self.argmax(dim, keepdim))

    def min(self, dim: int | None = None, keepdim: bool = False, axis: Any = None) -> Any:
        dim = axis if dim is None else dim
        if dim is None:
            return self.amin()
        return MaxResult(self.amin(dim, keepdim), self.argmin(dim, keepdim))

    def argmax(self, dim: int | None = None, keepdim: bool = False, axis: Any = None) -> Tensor:
        """Index of the first largest element along dim (of the flattened tensor when dim is None)."""
        dim = axis if dim is None else dim
        if dim is None:
            return self.flatten().argmax(0)
        d = self._dim(dim, "argmax")
        if self.ndim == 0:  # a single element is its own maximum
            return Tensor.full((), 0, dtype=DType.int64)
        x = self.detach()
        is_max = x == x.amax(d, keepdim=True)
        n = self.shape[d]
        positions = Tensor.arange(n).reshape([n if i == d else 1 for i in range(self.ndim)])
        first = Tensor.where(is_max, positions, n).amin(d, keepdim=keepdim)
        return first

    def argmin(self, dim: int | None = None, keepdim: bool = False, axis: Any = None) -> Tensor:
        return (-self).argmax(dim, keepdim, axis)

    def prod(self, dim: int | None = None, keepdim: bool = False, axis: Any = None) -> Tensor:
        """Multiply neighbouring pairs until one is left: exact with zeros, log2(n) steps."""
        dim = axis if dim is None else dim
        if dim is None:
            return self.flatten().prod(0)
        d = self._dim(dim, "prod")
        x = self.cast(DType.int64) if self.dtype in (DType.bool, DType.int32) else self  # as sum
        if x.ndim == 0:  # the product of one number
            return x * 1
        x = x.transpose(d, -1)
        while x.shape[-1] > 1:
            if x.shape[-1] % 2:
                x = x.pad((0, 1), value=1)
            x = x.reshape(*x.shape[:-1], x.shape[-1] // 2, 2)
            x = x[..., 0] * x[..., 1]
        if x.shape[-1] == 0:  # the empty product is 1; padding keeps the result in the graph, as torch's is
            x = x.pad((0, 1), value=1)
        x = x.transpose(d, -1)
        return x if keepdim else x.squeeze(d)

    def var(self, dim: int | Sequence[int] | None = None, keepdim: bool = False, correction: int = 1,
            unbiased: bool | None = None, axis: Any = None) -> Tensor:
        dim = axis if dim is None else dim
        if unbiased is not None:
            correction = int(unbiased)
        x = self._float()
        count = math.prod(x.shape[a] for a in x._dims(dim, "var"))
        centered = x - x.mean(dim, keepdim=True)
        return (centered * centered).sum(dim, keepdim) / max(count - correction, 0)

    def std(self, dim: int | Sequence[int] | None = None, keepdim: bool = False, correction: int = 1,
            unbiased: bool | None = None, axis: Any = None) -> Tensor:
        return self.var(dim, keepdim, correction, unbiased, axis).sqrt()

    def cumsum(self, dim: int = 0, axis: Any = None) -> Tensor:
        """Running sums as one MATMUL with an upper-triangular matrix of ones."""
        d = self._dim(axis if axis is not None else dim, "cumsum")
        n = self.shape[d] if self.ndim else 1
        x = self.reshape(1) if self.ndim == 0 else self
        upper = Tensor.ones(n, n, dtype=x._float().dtype).triu()
        out = (x._float().transpose(d, -1) @ upper).transpose(d, -1)
        out = out.reshape(()) if self.ndim == 0 else out
        return out if self.dtype.is_float else out.cast(DType.int64)

    def logsumexp(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        """log(sum(exp(x))), shifted by the max so exp never overflows."""
        x = self._float()
        axes = x._dims(dim, "logsumexp")
        if any(x.shape[a] == 0 for a in axes):  # an empty sum is 0, its log -inf; there is no max to shift by
            shift = Tensor.zeros(*[1 if i in axes else n for i, n in enumerate(x.shape)], dtype=x.dtype)
        else:
            shift = x.detach().amax(dim, keepdim=True)
            shift = Tensor.where(shift.abs() == math.inf, 0.0, shift)  # leave all -inf rows as -inf
        out = (x - shift).exp().sum(dim, keepdim=True).log() + shift
        return out if keepdim else out.squeeze(self._dims(dim, "logsumexp") if self.ndim else None)

    def softmax(self, dim: int = -1) -> Tensor:
        x = self._float()
        if x.numel() == 0:  # nothing to normalize, and no max to shift by; the dim must still exist
            x._dim(dim, "softmax")
            return x
        e = (x - x.detach().amax(dim, keepdim=True)).exp()
        return e / e.sum(dim, keepdim=True)

    def log_softmax(self, dim: int = -1) -> Tensor:
        x = self._float()
        if x.numel() == 0:  # nothing to normalize, and no max to shift by; the dim must still exist
            x._dim(dim, "log_softmax")
            return x
        shifted = x - x.detach().amax(dim, keepdim=True)
        return shifted - shifted.exp().sum(dim, keepdim=True).log()

    def all(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return (self != 0).logical_not().sum(dim, keepdim) == 0

    def any(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return (self != 0).sum(dim, keepdim) > 0

    # ------------------------------------------------------------ matmul
    def matmul(self, other: Tensor) -> Tensor:
        """Matrix product with PyTorch's rules: 1-D operands are vectors, batch dims broadcast.
        It goes to the MATMUL contraction, never to a broadcast multiply and sum."""
        if not isinstance(other, Tensor):
            raise TypeError(f"matmul: expected a Tensor, got {type(other).__name__}")
        x, y = self, other
        if x.ndim == 0 or y.ndim == 0:
            raise ValueError(f"matmul: both operands need at least 1 dim, got shapes {x.shape} and {y.shape}")
        if x.shape[-1] != y.shape[-2 if y.ndim >= 2 else 0]:
            raise ValueError(f"matmul: {x.shape} @ {y.shape}: inner dimensions {x.shape[-1]} and "
                             f"{y.shape[-2 if y.ndim >= 2 else 0]} differ")
        dtype = _promote(x.dtype, y.dtype)
        x, y = x.cast(dtype), y.cast(dtype)
        x_vector, y_vector = x.ndim == 1, y.ndim == 1
        if x_vector:
            x = x.reshape(1, -1)
        if y_vector:
            y = y.reshape(-1, 1)
        batch = broadcast_shape(x.shape[:-2], y.shape[:-2], "matmul")
        x = x._broadcast_to(batch + x.shape[-2:])
        y = y._broadcast_to(batch + y.shape[-2:])
        out = F.Matmul.apply(x, y)
        if x_vector and y_vector:
            return out.reshape(())
        if x_vector:
            return out.squeeze(-2)
        if y_vector:
            return out.squeeze(-1)
        return out

    dot = matmul

    def linear(self, weight: Tensor, bias: Tensor | None = None) -> Tensor:
        """x @ weight.T + bias, with weight shaped (out_features, in_features) as in PyTorch."""
        if weight.ndim != 2:
            out = self * weight
        elif self.ndim > 2:
            # (B, T, in) as (B*T, in) rows: one MATMUL, and one for the weight's gradient, instead
            # of a batched product against a broadcast weight whose gradient is B products summed.
            out = (self.reshape(-1, self.shape[-1]) @ weight.T).reshape(*self.shape[:-1], weight.shape[0])
        else:
            out = self @ weight.T
        return out + bias if bias is not None else out

    # ------------------------------------------------------------ movement
    def reshape(self, *shape: Any) -> Tensor:
        new_shape = list(_shape_arg(shape, "reshape"))
        if new_shape.count(-1) > 1:
            raise ValueError(f"reshape: only one dim can be -1, got {tuple(new_shape)}")
        if -1 in new_shape:
            known = math.prod(s for s in new_shape if s != -1)
            if known == 0 or self.numel() % known:
                raise ValueError(f"reshape: cannot reshape {self.shape} ({self.numel()} elements) "
                                 f"into {tuple(new_shape)}")
            new_shape[new_shape.index(-1)] = self.numel() // known
        if math.prod(new_shape) != self.numel():
            raise ValueError(f"reshape: cannot reshape {self.shape} ({self.numel()} elements) into "
                             f"{tuple(new_shape)} ({math.prod(new_shape)} elements)")
        if tuple(new_shape) == self.shape:
            return self
        return F.Reshape.apply(self, shape=tuple(new_shape))

    view = reshape

    def permute(self, *dims: Any) -> Tensor:
        given = tuple(dims[0]) if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims  # f(0, 1) or f((0, 1))
        order = tuple(self._dim(d, "permute") for d in given) if self.ndim else tuple(given)
        if sorted(order) != list(range(self.ndim)):
            raise ValueError(f"permute: {tuple(given)} is not a permutation of the {self.ndim} dims of {self.shape}")
        if order == tuple(range(self.ndim)):
            return self
        return F.Permute.apply(self, order=order)

    def transpose(self, dim0: int = -2, dim1: int = -1) -> Tensor:
        order = list(range(self.ndim))
        a, b = self._dim(dim0, "transpose"), self._dim(dim1, "transpose")
        if self.ndim == 0:  # a scalar has nothing to swap
            return self
        order[a], order[b] = order[b], order[a]
        return self.permute(order)

    @property
    def T(self) -> Tensor:
        return self.permute(tuple(reversed(range(self.ndim))))

    @property
    def mT(self) -> Tensor:
        return self.transpose(-2, -1)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        start, end = self._dim(start_dim, "flatten"), self._dim(end_dim, "flatten")
        if start > end:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} "
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
        shape = _shape_arg(sizes, "expand")
        if len(shape) < self.ndim:
            raise ValueError(f"expand: the target {shape} has fewer dims than the tensor's shape {self.shape}")
        if -1 in shape[:len(shape) - self.ndim]:
            raise ValueError(f"expand: cannot expand shape {self.shape} to {shape}: -1 (keep the size) is only "
                             f"allowed for existing dims, not for new leading ones")
        current = (1,) * (len(shape) - self.ndim) + self.shape
        target = tuple(c if s == -1 else s for c, s in zip(current, shape))
        for c, t in zip(current, target):
            if c != t and c != 1:
                raise ValueError(f"expand: cannot expand shape {self.shape} to {shape}: "
                                 f"only dims of size 1 can grow")
        return self._broadcast_to(target)

    def expand_as(self, other: Tensor) -> Tensor:
        return self.expand(other.shape)

    def repeat(self, *repeats: Any) -> Tensor:
        """Tile the tensor: expand a new size-r axis before each dim, then merge the pairs."""
        reps = _shape_arg(repeats, "repeat")
        if len(reps) < self.ndim:
            raise ValueError(f"repeat: {len(reps)} repeats for a tensor of {self.ndim} dims")
        x = self.reshape((1,) * (len(reps) - self.ndim) + self.shape)
        interleaved = x.reshape(tuple(d for s in x.shape for d in (1, s)))
        expanded = interleaved.expand(tuple(d for r, s in zip(reps, x.shape) for d in (r, s)))
        return expanded.reshape(tuple(r * s for r, s in zip(reps, x.shape)))

    def flip(self, dims: int | Sequence[int]) -> Tensor:
        axes = self._dims(dims, "flip")
        return F.Stride.apply(self, steps=tuple(-1 if i in axes else 1 for i in range(self.ndim)))

    def pad(self, pad: Sequence[Any], value: Scalar = 0.0) -> Tensor:
        """PyTorch's F.pad order: (left, right) of the last dim, then of the one before, ...
        Pairs per dim from the first, ((before, after), ...), are accepted too. Negative amounts crop."""
        if pad and isinstance(pad[0], (tuple, list)):
            pairs = [tuple(p) for p in pad]
        else:
            if len(pad) % 2 or len(pad) // 2 > self.ndim:
                raise ValueError(f"pad: {tuple(pad)} must hold (before, after) pairs for at most "
                                 f"{self.ndim} dims of {self.shape}")
            pairs = [(0, 0)] * (self.ndim - len(pad) // 2) + \
                [(pad[i], pad[i + 1]) for i in reversed(range(0, len(pad), 2))]
        if len(pairs) != self.ndim:
            raise ValueError(f"pad: {len(pairs)} pairs for a tensor of {self.ndim} dims")
        x = self
        if any(b < 0 or a < 0 for b, a in pairs):
            x = x.shrink(tuple((max(-b, 0), n - max(-a, 0)) for (b, a), n in zip(pairs, x.shape)))
            pairs = [(max(b, 0), max(a, 0)) for b, a in pairs]
        if all(b == 0 and a == 0 for b, a in pairs):
            return x
        padded = F.Pad.apply(x, padding=tuple(pairs))
        if value == 0:
            return padded
        inside = F.Pad.apply(Tensor.ones(*x.shape, dtype=DType.bool), padding=tuple(pairs))
        return Tensor.where(inside, padded, value)

    def shrink(self, bounds: Sequence[tuple[int, int]]) -> Tensor:
        """Keep [start, stop) of each dim."""
        bounds = tuple((int(a), int(b)) for a, b in bounds)
        if bounds == tuple((0, n) for n in self.shape):
            return self
        return F.Shrink.apply(self, bounds=bounds)

    def cast(self, dtype: DType) -> Tensor:
        if dtype == self.dtype:
            return self
        if not dtype.is_float:  # integers and bools carry no gradient
            return Tensor.from_data(self.data.cast(dtype))
        return F.Cast.apply(self, dtype=dtype)

    to = cast

    def contiguous(self) -> Tensor:
        return self

    @staticmethod
    def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
        """Join along dim: pad each piece to the full length with zeros and add them up,
        pairwise in a balanced tree so k pieces cost log2(k) passes over the data."""
        if not tensors:
            raise ValueError("cat: expected a non-empty list of tensors")
        first = tensors[0]
        if isinstance(first, Tensor) and first.ndim == 0:
            raise ValueError("cat: zero-dimensional tensors cannot be concatenated; stack them, or reshape to (1,)")
        d = first._dim(dim, "cat")
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(f"cat: element {i} is a {type(t).__name__}, not a Tensor")
            if t.ndim != first.ndim or any(a != b for j, (a, b) in enumerate(zip(t.shape, first.shape)) if j != d):
                raise ValueError(f"cat: tensor {i} has shape {t.shape} but tensor 0 has shape {first.shape}; "
                                 f"all dims except dim {d} must match")
        if len(tensors) == 1:
            return tensors[0]
        middle = len(tensors) // 2
        left, right = Tensor.cat(tensors[:middle], d), Tensor.cat(tensors[middle:], d)
        left_pad = [(0, 0)] * first.ndim
        right_pad = [(0, 0)] * first.ndim
        left_pad[d], right_pad[d] = (0, right.shape[d]), (left.shape[d], 0)
        return left.pad(left_pad) + right.pad(right_pad)

    @staticmethod
    def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
        if not tensors:
            raise ValueError("stack: expected a non-empty list of tensors")
        for i, t in enumerate(tensors):
            if t.shape != tensors[0].shape:
                raise ValueError(f"stack: tensor {i} has shape {t.shape} but tensor 0 has shape "
                                 f"{tensors[0].shape}; all must be equal")
        d = tensors[0]._dim(dim, "stack", tensors[0].ndim + 1)
        return Tensor.cat([t.unsqueeze(d) for t in tensors], d)

    def split(self, split_size_or_sections: int | Sequence[int], dim: int = 0) -> list[Tensor]:
        d = self._dim(dim, "split")
        n = self.shape[d]
        if isinstance(split_size_or_sections, int):
            if split_size_or_sections <= 0:
                raise ValueError(f"split: split_size must be positive, got {split_size_or_sections}")
            sizes = [min(split_size_or_sections, n - i) for i in range(0, n, split_size_or_sections)]
        else:
            sizes = list(split_size_or_sections)
            if sum(sizes) != n:
                raise ValueError(f"split: sections {sizes} sum to {sum(sizes)}, but dim {d} has size {n}")
        out, start = [], 0
        for size in sizes:
            bounds = [(0, s) for s in self.shape]
            bounds[d] = (start, start + size)
            out.append(self.shrink(bounds))
            start += size
        return out

    def chunk(self, chunks: int, dim: int = 0) -> list[Tensor]:
        n = self.shape[self._dim(dim, "chunk")]
        return self.split(max(math.ceil(n / chunks), 1), dim)

    def _triangle_mask(self, diagonal: int, upper: bool) -> Tensor:
        rows, cols = self.shape[-2], self.shape[-1]
        r = Tensor.arange(rows).reshape(rows, 1)
        c = Tensor.arange(cols).reshape(1, cols)
        return (c - r >= diagonal) if upper else (c - r <= diagonal)

    def tril(self, diagonal: int = 0) -> Tensor:
        return Tensor.where(self._triangle_mask(diagonal, upper=False), self, 0)

    def triu(self, diagonal: int = 0) -> Tensor:
        return Tensor.where(self._triangle_mask(diagonal, upper=True), self, 0)

    # ------------------------------------------------------------ indexing
    def one_hot(self, num_classes: int = -1) -> Tensor:
        if self.dtype.is_float or self.dtype == DType.bool:
            raise TypeError(f"one_hot: expected an integer tensor, got {self.dtype.value}")
        if self.numel():  # a class outside [0, num_classes) would silently get a row of zeros
            low, high = int(self.amin().item()), int(self.amax().item())
            num_classes = high + 1 if num_classes == -1 else num_classes
            if low < 0 or high >= num_classes:
                raise IndexError(f"one_hot: class {low if low < 0 else high} is out of range for "
                                 f"{num_classes} classes (expected 0 to {num_classes - 1})")
        elif num_classes == -1:
            num_classes = 0
        return self._one_hot(num_classes).cast(DType.int64)

    def _one_hot(self, num_classes: int) -> Tensor:
        """one_hot as bools, for indices already checked to lie in [0, num_classes)."""
        classes = Tensor.arange(num_classes)
        return self.unsqueeze(-1) == classes.reshape((1,) * self.ndim + (num_classes,))

    def _check_index(self, index: Tensor, size: int, op: str, negative_ok: bool = True) -> Tensor:
        if index.dtype.is_float or index.dtype == DType.bool:
            raise IndexError(f"{op}: index tensors must be integers, got {index.dtype.value}")
        if index.numel():
            low, high = int(index.amin().item()), int(index.amax().item())
            if low < (-size if negative_ok else 0) or high >= size:
                bad = high if high >= size else low
                raise IndexError(f"{op}: index {bad} is out of bounds for dim of size {size}")
        return Tensor.where(index < 0, index + size, index) if index.numel() and low < 0 else index

    def _take_rows(self, index: Tensor) -> Tensor:
        """self[index] along dim 0, as a MATMUL with the one-hot rows of index: the gradient
        (one-hot transposed times grad) is then the scatter-add that indexing needs."""
        n, rest = self.shape[0], self.shape[1:]
        one_hot = index.reshape(-1)._one_hot(n).cast(self._float().dtype)
        rows = one_hot @ self._float().reshape(n, math.prod(rest))  # explicit size: -1 is ambiguous when empty
        out = rows.reshape(*index.shape, *rest)
        return out if self.dtype.is_float else out.round().cast(self.dtype)

    def gather(self, dim: int, index: Tensor) -> Tensor:
        """out[i][j] = self[i][index[i][j]] for dim=1 (and likewise for other dims)."""
        d = self._dim(dim, "gather")
        if index.ndim != self.ndim:
            raise ValueError(f"gather: index has {index.ndim} dims but the tensor has {self.ndim}")
        if self.ndim == 0:  # a scalar holds one value, at index 0
            self._check_index(index, 1, "gather", negative_ok=False)
            return self
        index = self._check_index(index, self.shape[d], "gather", negative_ok=False)  # as torch.gather
        x = self.transpose(d, -1)
        idx = index.transpose(d, -1)
        x = x.shrink([(0, s) for s in idx.shape[:-1]] + [(0, x.shape[-1])])
        one_hot = idx._one_hot(x.shape[-1]).cast(self._float().dtype)  # (..., m, n)
        out = (one_hot @ x._float().unsqueeze(-1)).squeeze(-1)  # (..., m)
        out = out.transpose(d, -1)
        return out if self.dtype.is_float else out.round().cast(self.dtype)

    def __getitem__(self, index: Any) -> Tensor:
        """Basic indexing (ints, slices with positive steps, None, ...) by SHRINK, STRIDE and
        RESHAPE; integer tensors (or lists) by a one-hot MATMUL; bool masks by their positions."""
        items = list(index) if isinstance(index, tuple) else [index]
        items = [Tensor(i) if isinstance(i, (list, np.ndarray)) else i for i in items]
        if any(isinstance(i, Tensor) and i.dtype == DType.bool for i in items):
            items = self._expand_masks(items)
        if sum(i is Ellipsis for i in items) > 1:
            raise IndexError("index: an index can only have a single ellipsis ('...')")
        consumed = sum(1 for i in items if i is not None and i is not Ellipsis)
        if consumed > self.ndim:
            raise IndexError(f"index: too many indices for a tensor of shape {self.shape}: {consumed} given")
        # The dims no index names become full slices: at the ellipsis if there is one, else at the end.
        if any(i is Ellipsis for i in items):
            at = next(k for k, i in enumerate(items) if i is Ellipsis)
            items[at:at + 1] = [slice(None)] * (self.ndim - consumed)
        else:
            items += [slice(None)] * (self.ndim - consumed)

        bounds, steps, out_shape, tensor_dims = [], [], [], []
        dim = 0
        for item in items:
            if item is None:
                out_shape.append(1)
                continue
            n = self.shape[dim]
            if isinstance(item, Tensor):
                tensor_dims.append((len(out_shape), dim, item))
                bounds.append((0, n))
                steps.append(1)
                out_shape.append(n)
            elif isinstance(item, (int, np.integer)) and not isinstance(item, bool):
                if not -n <= item < n:
                    raise IndexError(f"index: index {item} is out of range for dim {dim} with size {n}")
                bounds.append((int(item) % n, int(item) % n + 1))
                steps.append(1)
            elif isinstance(item, slice):
                if item.step is not None and item.step <= 0:
                    raise ValueError(f"index: slice step must be positive, got {item.step} (use flip to reverse)")
                start, stop, step = item.indices(n)
                stop = max(stop, start)
                bounds.append((start, stop))
                steps.append(step)
                out_shape.append(len(range(start, stop, step)))
            else:
                raise TypeError(f"index: unsupported index {item!r} of type {type(item).__name__}")
            dim += 1
        x = self.shrink(bounds)
        if any(s != 1 for s in steps):
            x = F.Stride.apply(x, steps=tuple(steps))
        if not tensor_dims:
            return x.reshape(tuple(out_shape))
        # Integer tensors: the basic indices (and None) first, then gather along the indexed dims.
        x = x.reshape(tuple(out_shape))
        return x._index_with_tensors([(pos, t) for pos, _, t in tensor_dims])

    def _expand_masks(self, items: list[Any]) -> list[Any]:
        """A bool mask becomes one integer index tensor per dim it covers (its true positions).
        The positions are read back to the host: the result's shape depends on the data."""
        out: list[Any] = []
        for item in items:
            if isinstance(item, Tensor) and item.dtype == DType.bool:
                positions = np.nonzero(item.numpy())
                out.extend(Tensor(p.astype(np.int64)) for p in positions)
            else:
                out.append(item)
        return out

    def _index_with_tensors(self, indexed: list[tuple[int, Tensor]]) -> Tensor:
        """Advanced indexing on dims `pos` with integer tensors, following numpy's placement rule:
        the index dims replace the indexed dims if those are adjacent, else they go first."""
        positions = [pos for pos, _ in indexed]
        sizes = [self.shape[pos] for pos in positions]
        indices = [self._check_index(t, n, "index") for (_, t), n in zip(indexed, sizes)]
        index_shape = indices[0].shape
        for t in indices[1:]:
            index_shape = broadcast_shape(index_shape, t.shape, "index")
        flat = Tensor.zeros(*index_shape, dtype=DType.int64)
        for t, n in zip(indices, sizes):  # row-major position within the indexed dims
            flat = flat * n + t.cast(DType.int64)
        others = [d for d in range(self.ndim) if d not in positions]
        x = self.permute(positions + others).reshape(math.prod(sizes), *[self.shape[d] for d in others])
        out = x._take_rows(flat)  # (*index_shape, *other dims)
        adjacent = positions == list(range(positions[0], positions[0] + len(positions)))
        if not adjacent or positions[0] == 0:
            return out
        k = len(index_shape)
        order = list(range(k, k + positions[0])) + list(range(k)) + list(range(k + positions[0], out.ndim))
        return out.permute(order)

    def __setitem__(self, index: Any, value: Any) -> None:
        raise TypeError("edugrad tensors are immutable: build a new one with where(), cat() or pad() "
                        "instead of assigning into a slice")

    # ------------------------------------------------------------ neural-network functions
    def conv2d(self, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
               dilation: Any = 1, groups: int = 1) -> Tensor:
        """Cross-correlation as in torch.nn.functional.conv2d; 3-D input with 3-D weight is conv1d."""
        if self.ndim == 3 and weight.ndim == 3:
            as_2d = self.unsqueeze(2).conv2d(weight.unsqueeze(2), bias, (1, _pair(stride)[0]),
                                             (0, _pair(padding)[0]), (1, _pair(dilation)[0]), groups)
            return as_2d.squeeze(2)
        if self.ndim != 4 or weight.ndim != 4:
            raise ValueError(f"conv2d: expected input (N, C, H, W) and weight (O, C/groups, kh, kw), "
                             f"got {self.shape} and {weight.shape}")
        n, channels, height, width = self.shape
        out_channels, group_channels, kh, kw = weight.shape
        if channels % groups or out_channels % groups or channels // groups != group_channels:
            raise ValueError(f"conv2d: input has {channels} channels and groups={groups}, so the weight "
                             f"needs {channels // groups if groups else '?'} input channels per group and "
                             f"out_channels divisible by groups, but its shape is {weight.shape}")
        (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
        if height + 2 * ph < dh * (kh - 1) + 1 or width + 2 * pw < dw * (kw - 1) + 1:
            raise ValueError(f"conv2d: kernel {(kh, kw)} with dilation {(dh, dw)} is larger than the "
                             f"padded input {(height + 2 * ph, width + 2 * pw)}")
        x = self._float().pad((pw, pw, ph, ph))
        out = F.Conv2d.apply(x, weight._float(), stride=(sh, sw), dilation=(dh, dw), groups=groups)
        return out + bias.reshape(1, -1, 1, 1) if bias is not None else out

    def conv_transpose2d(self, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
                         padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                         dilation: Any = 1) -> Tensor:
        """The gradient of conv2d with respect to its input, used as a layer: spread the input out
        by the stride, pad it, and correlate with the flipped kernels (weight is (C_in, C_out/groups, kh, kw))."""
        if self.ndim != 4 or weight.ndim != 4:
            raise ValueError(f"conv_transpose2d: expected 4-D input and weight, got {self.shape} and {weight.shape}")
        in_channels, group_out, kh, kw = weight.shape
        if self.shape[1] != in_channels or in_channels % groups:
            raise ValueError(f"conv_transpose2d: input has {self.shape[1]} channels but weight {weight.shape} "
                             f"expects {in_channels} (groups={groups})")
        (sh, sw), (ph, pw), (oh, ow), (dh, dw) = _pair(stride), _pair(padding), _pair(output_padding), _pair(dilation)
        x = self._float()
        n, c, h, w = x.shape
        # spread out: (h-1)*stride + 1 rows, the input in every stride-th
        x = x.reshape(n, c, h, 1, w, 1).pad((0, sw - 1, 0, 0, 0, sh - 1)).reshape(n, c, h * sh, w * sw)
        x = x[:, :, :(h - 1) * sh + 1, :(w - 1) * sw + 1]
        edge_h, edge_w = dh * (kh - 1) - ph, dw * (kw - 1) - pw
        x = x.pad((edge_w, edge_w + ow, edge_h, edge_h + oh))
        g = groups
        kernels = weight.reshape(g, in_channels // g, group_out, kh, kw).transpose(1, 2)
        kernels = kernels.reshape(g * group_out, in_channels // g, kh, kw).flip((2, 3))
        return x.conv2d(kernels, bias, 1, 0, (dh, dw), groups)

    def _pool_windows(self, kernel_size: Any, stride: Any, padding: Any, dilation: Any, pad_value: float,
                      op: str) -> Tensor:
        if self.ndim not in (3, 4):
            raise ValueError(f"{op}: expected (N, C, H, W) or (C, H, W) input, got shape {self.shape}")
        kernel = _pair(kernel_size)
        stride_ = _pair(stride) if stride is not None else kernel
        (ph, pw), dil = _pair(padding), _pair(dilation)
        if ph > kernel[0] // 2 or pw > kernel[1] // 2:
            raise ValueError(f"{op}: padding {(ph, pw)} must be at most half the kernel {kernel}")
        x = self.pad((pw, pw, ph, ph), value=pad_value) if ph or pw else self
        if x.shape[-2] < dil[0] * (kernel[0] - 1) + 1 or x.shape[-1] < dil[1] * (kernel[1] - 1) + 1:
            raise ValueError(f"{op}: kernel {kernel} is larger than the (padded) input {x.shape[-2:]}")
        return F.Window.apply(x, kernel=kernel, stride=stride_, dilation=dil)

    def max_pool2d(self, kernel_size: Any = 2, stride: Any = None, padding: Any = 0, dilation: Any = 1) -> Tensor:
        """The largest value of each window: WINDOW (a view) then a MAX reduce over it."""
        windows = self._pool_windows(kernel_size, stride, padding, dilation, -math.inf, "max_pool2d")
        return _kernel_axes_first(windows).amax((0, 1))

    def avg_pool2d(self, kernel_size: Any = 2, stride: Any = None, padding: Any = 0) -> Tensor:
        """The mean of each window, counting padded zeros as PyTorch does by default."""
        windows = self._float()._pool_windows(kernel_size, stride, padding, 1, 0.0, "avg_pool2d")
        return _kernel_axes_first(windows).mean((0, 1))

    def layernorm(self, normalized_shape: int | Sequence[int] | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
        """Normalize over the last dims (the last one when normalized_shape is None)."""
        k = 1 if normalized_shape is None else len(_shape_arg((normalized_shape,) if isinstance(
            normalized_shape, int) else tuple(normalized_shape), "layernorm"))
        dims = tuple(range(-k, 0))
        x = self._float()
        mean = x.mean(dims, keepdim=True)
        centered = x - mean
        var = (centered * centered).mean(dims, keepdim=True)
        out = centered * (var + eps).rsqrt()
        if weight is not None:
            out = out * weight
        return out + bias if bias is not None else out

    layer_norm = layernorm

    def batchnorm(self, weight: Tensor | None, bias: Tensor | None, mean: Tensor, invstd: Tensor) -> Tensor:
        """(x - mean) * invstd * weight + bias with per-channel statistics on dim 1 (tinygrad's signature)."""
        shape = (1, -1) + (1,) * (self.ndim - 2)
        x = (self - mean.reshape(shape)) * invstd.reshape(shape)
        if weight is not None:
            x = x * weight.reshape(shape)
        return x + bias.reshape(shape) if bias is not None else x

    def dropout(self, p: float = 0.5, training: bool | None = None) -> Tensor:
        """Zero each element with probability p and scale the rest by 1/(1-p), only while training."""
        if not 0 <= p <= 1:
            raise ValueError(f"dropout: probability must be in [0, 1], got {p}")
        active = Tensor.training if training is None else training
        if not active or p == 0:
            return self
        if p == 1:
            return self * 0
        keep = Tensor.rand(*self.shape) >= p
        return Tensor.where(keep, self * (1.0 / (1.0 - p)), 0.0)

    def scaled_dot_product_attention(self, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
                                     dropout_p: float = 0.0, is_causal: bool = False,
                                     scale: float | None = None) -> Tensor:
        """softmax(q k^T / sqrt(d) + mask) v, with self as the queries (..., L, d)."""
        if self.shape[-1] != key.shape[-1]:
            raise ValueError(f"scaled_dot_product_attention: query dim {self.shape[-1]} and key dim "
                             f"{key.shape[-1]} differ")
        scale = 1.0 / math.sqrt(self.shape[-1]) if scale is None else scale
        scores = (self @ key.transpose(-2, -1)) * scale
        if is_causal:
            causal = Tensor.ones(self.shape[-2], key.shape[-2], dtype=DType.bool).tril()
            scores = Tensor.where(causal, scores, -math.inf)
        if attn_mask is not None:
            scores = Tensor.where(attn_mask, scores, -math.inf) if attn_mask.dtype == DType.bool else scores + attn_mask
            # a query whose keys are all masked gets a zero output, as in PyTorch, not softmax's 0/0 = nan
            visible = (scores.detach() > -math.inf).any(-1, keepdim=True)
            weights = Tensor.where(visible, Tensor.where(visible, scores, 0.0).softmax(-1), 0.0)
        else:
            weights = scores.softmax(-1)
        if dropout_p > 0:
            weights = weights.dropout(dropout_p, training=True)
        return weights @ value

    # ------------------------------------------------------------ losses
    def cross_entropy(self, target: Tensor, reduction: str = "mean", label_smoothing: float = 0.0,
                      ignore_index: int = -100) -> Tensor:
        """Softmax cross-entropy of logits (N, C, ...) with integer classes (N, ...) or probabilities."""
        if self.ndim < 1:
            raise ValueError("cross_entropy: input needs at least 1 dim (classes)")
        class_dim = 1 if self.ndim > 1 else 0
        log_probs = self.log_softmax(class_dim)
        num_classes = self.shape[class_dim]
        if target.dtype.is_float:
            if target.shape != self.shape:
                raise ValueError(f"cross_entropy: probability targets must match input shape {self.shape}, "
                                 f"got {target.shape}")
            probs = target * (1 - label_smoothing) + label_smoothing / num_classes
            return _reduce_loss(-(probs * log_probs).sum(class_dim), reduction, "cross_entropy")
        mask, count = self._target_mask(target, class_dim, ignore_index, "cross_entropy")
        losses = -Tensor.where(mask, log_probs, 0.0).sum(class_dim)
        if label_smoothing:
            smooth = Tensor.where(target != ignore_index, -log_probs.mean(class_dim), 0.0)
            losses = (1 - label_smoothing) * losses + label_smoothing * smooth
        return _reduce_loss(losses, reduction, "cross_entropy", count=count)

    def sparse_categorical_crossentropy(self, target: Tensor, label_smoothing: float = 0.0) -> Tensor:
        """The original edugrad/tinygrad name for cross_entropy with integer targets."""
        return self.cross_entropy(target, label_smoothing=label_smoothing)

    def nll(self, target: Tensor, reduction: str = "mean", ignore_index: int = -100) -> Tensor:
        """Negative log-likelihood of log-probabilities (N, C, ...) at integer targets (N, ...)."""
        class_dim = 1 if self.ndim > 1 else 0
        mask, count = self._target_mask(target, class_dim, ignore_index, "nll")
        return _reduce_loss(-Tensor.where(mask, self, 0.0).sum(class_dim), reduction, "nll", count=count)

    def _target_mask(self, target: Tensor, class_dim: int, ignore_index: int, op: str) -> tuple[Tensor, int]:
        """A bool one-hot of the integer targets along class_dim, all False where target is
        ignore_index, and how many targets it marks. Picking with where(mask, ...) costs a few
        elementwise ops, not a MATMUL; a target outside [0, classes) marks nothing, which is how
        it is caught."""
        expected = self.shape[:class_dim] + self.shape[class_dim + 1:]
        if not isinstance(target, Tensor) or target.dtype.is_float or target.dtype == DType.bool:
            raise TypeError(f"{op}: targets must be an integer tensor of class indices, got "
                            f"{getattr(target, 'dtype', type(target).__name__)}")
        if target.shape != expected:
            raise ValueError(f"{op}: input {self.shape} needs integer targets of shape {expected}, got {target.shape}")
        n = self.shape[class_dim]
        classes = Tensor.arange(n).reshape([n if i == class_dim else 1 for i in range(self.ndim)])
        mask = target.unsqueeze(class_dim) == classes
        if 0 <= ignore_index < n:  # ignore_index names a real class: clear its rows explicitly
            mask = mask & (target != ignore_index).unsqueeze(class_dim)
        count = int(mask.sum().item())  # targets that name a class and are not ignored
        if count != target.numel() and count + int((target == ignore_index).sum().item()) != target.numel():
            out_of_range = ((target < 0) | (target >= n)) & (target != ignore_index)
            bad = target.numpy()[out_of_range.numpy()].flat[0]
            raise IndexError(f"{op}: target {bad} is out of bounds for {n} classes")
        return mask, count

    nll_loss = nll

    def binary_crossentropy(self, target: Tensor, reduction: str = "mean") -> Tensor:
        """Self holds probabilities; logs are clamped at -100 as PyTorch does."""
        loss = -(target * self.log().maximum(-100) + (1 - target) * (1 - self).log().maximum(-100))
        return _reduce_loss(loss, reduction, "binary_crossentropy")

    def binary_crossentropy_logits(self, target: Tensor, reduction: str = "mean",
                                   pos_weight: Tensor | None = None) -> Tensor:
        """Binary cross-entropy on logits, as (1 - t) x + w softplus(-x), stable for any |x|."""
        log_weight = 1 + (pos_weight - 1) * target if pos_weight is not None else 1
        loss = (1 - target) * self + log_weight * (-self).softplus(threshold=math.inf)
        return _reduce_loss(loss, reduction, "binary_crossentropy_logits")

    binary_cross_entropy, binary_cross_entropy_with_logits = binary_crossentropy, binary_crossentropy_logits

    def mse(self, target: Tensor, reduction: str = "mean") -> Tensor:
        diff = self - target
        return _reduce_loss(diff * diff, reduction, "mse")

    mse_loss = mse

    def sequential(self, layers: Sequence[Callable[[Tensor], Tensor]]) -> Tensor:
        """Apply each layer in turn: x.sequential([l1, Tensor.relu, l2])."""
        out = self
        for layer in layers:
            out = layer(out)
        return out

    # Shorthand casts. Last in the class: inside the class body their names hide the builtins.
    def float(self) -> Tensor:
        return self.cast(DType.float32)

    def double(self) -> Tensor:
        return self.cast(DType.float64)

    def int(self) -> Tensor:
        return self.cast(DType.int32)

    def long(self) -> Tensor:
        return self.cast(DType.int64)

    def bool(self) -> Tensor:
        return self.cast(DType.bool)


def _reduce_loss(loss: Tensor, reduction: str, op: str, count: int | None = None) -> Tensor:
    """'mean', 'sum' or 'none'. Given `count`, the mean divides by it rather than by the number of
    elements: targets equal to ignore_index don't count, as in PyTorch."""
    if reduction == "mean":
        return loss.sum() / count if count is not None else loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _kernel_axes_first(windows: Tensor) -> Tensor:
    """(..., H', W', kh, kw) -> (kh, kw, ..., H', W'), a view. Reducing over the leading kernel
    axes keeps every array in the reduction and its backward in long rows of H'*W' elements."""
    n = windows.ndim
    return windows.permute(n - 2, n - 1, *range(n - 2))


def _pair(value: Any) -> tuple[int, int]:
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"expected an int or a pair, got {value!r}")
        return int(value[0]), int(value[1])
    return int(value), int(value)


def _to_host_array(data: Any, dtype: DType | None) -> np.ndarray:
    """Turn the user's lists, numbers and numpy arrays into a numpy array of an edugrad dtype."""
    if isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in data):
        data = [d.numpy() if isinstance(d, Tensor) else d for d in data]
    if not isinstance(data, (np.ndarray, list, tuple, int, float, bool, np.number, np.bool_)):
        raise TypeError(f"Tensor: cannot make a tensor from {type(data).__name__}; expected a list, "
                        f"a number or a numpy array")
    try:
        array = np.asarray(data)
    except ValueError as e:
        raise ValueError(f"Tensor: the nested lists are ragged (rows of different lengths): {e}") from None
    if dtype is None:
        if array.dtype.kind not in HOST_DTYPES:
            raise TypeError(f"Tensor: unsupported element type {array.dtype} (expected numbers or bools)")
        dtype = DType.int32 if array.dtype == np.int32 else HOST_DTYPES[array.dtype.kind]
    return array.astype(dtype.value, copy=False)

