"""The primitive ops: the whole contract between edugrad and a backend.

Every differentiable Function in `function.py` is written with these ops and nothing else, so a
backend that implements them (see `backend/base.py`) runs every model edugrad can express.

Conventions shared by all ops:
- elementwise ops (unary, binary, ternary) take operands of *equal shape*; broadcasting is done
  above the backend, by EXPAND, so the backend never has to guess;
- reduce ops keep the reduced axes with size 1, so the output has the input's number of dims;
- movement ops return views where the backend can (numpy does for all but PAD).
"""

from __future__ import annotations

import builtins
from enum import Enum


class PrimitiveOp(Enum):
    """Base of the op enums. Members are singletons, so hashing by identity is exact; it is also
    several times faster than Enum's hash of the name, and backends look ops up on every call."""

    __hash__ = object.__hash__


class UnaryOps(PrimitiveOp):
    """y = f(x), elementwise."""

    EXP2 = "exp2"  # 2 ** x
    LOG2 = "log2"  # log base 2 of x
    SIN = "sin"  # sin(x), x in radians
    SQRT = "sqrt"  # square root of x
    NEG = "neg"  # -x
    RECIPROCAL = "reciprocal"  # 1 / x


class BinaryOps(PrimitiveOp):
    """z = f(x, y), elementwise over two operands of equal shape."""

    ADD = "add"  # x + y
    SUB = "sub"  # x - y
    MUL = "mul"  # x * y
    DIV = "div"  # x / y (true division: integer operands give float64, as in numpy)
    MAX = "max"  # the larger of x and y
    CMPLT = "cmplt"  # x < y, as bool
    CMPEQ = "cmpeq"  # x == y, as bool


class TernaryOps(PrimitiveOp):
    """w = f(c, x, y), elementwise over three operands of equal shape."""

    WHERE = "where"  # x where c is true, else y


class ReduceOps(PrimitiveOp):
    """Reduce over some axes, keeping them with size 1."""

    SUM = "sum"  # sum of the elements along the axes
    MAX = "max"  # largest element along the axes


class MovementOps(PrimitiveOp):
    """Change which elements are where, never their values."""

    RESHAPE = "reshape"  # same elements in row-major order, new shape
    PERMUTE = "permute"  # reorder the axes: out.shape[i] = x.shape[order[i]]
    EXPAND = "expand"  # repeat size-1 axes to a larger size (a view: no copy)
    PAD = "pad"  # add (before, after) zeros to each axis
    SHRINK = "shrink"  # keep the range [start, stop) of each axis
    STRIDE = "stride"  # keep every k-th element of each axis; a negative k also reverses it
    WINDOW = "window"  # sliding windows over the last axes: (..., H, W) -> (..., H', W', kh, kw)


class LoadOps(PrimitiveOp):
    """Make new data: the only ops with no input tensor."""

    CONST = "const"  # a tensor of one shape filled with one value
    RANDOM = "random"  # uniform samples in [0, 1) from a seeded generator
    FROM_HOST = "from_host"  # copy a numpy array (the user's data) into the backend


class CastOps(PrimitiveOp):
    """Change the element type."""

    CAST = "cast"  # convert each element to another dtype (float -> int truncates toward 0)


class ContractOps(PrimitiveOp):
    """The one op that is there for speed: everything else could express it, but far slower."""

    MATMUL = "matmul"  # batched matrix product (..., n, k) @ (..., k, m) -> (..., n, m); equal batch dims


class DType(Enum):
    """Element types. Float data defaults to float32, Python ints to int64, comparisons give bool."""

    __hash__ = object.__hash__  # as for PrimitiveOp: dtypes are looked up on every op

    float32 = "float32"
    float64 = "float64"
    int32 = "int32"
    int64 = "int64"
    bool = "bool"

    @property
    def is_float(self) -> builtins.bool:  # plain `bool` here would name the member DType.bool
        return self in (DType.float32, DType.float64)

    def __repr__(self) -> str:
        return f"edugrad.{self.value}"


Op = UnaryOps | BinaryOps | TernaryOps | ReduceOps | MovementOps | LoadOps | CastOps | ContractOps
