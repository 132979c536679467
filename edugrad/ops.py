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
    COS = "cos"  # cos(x), x in radians: for exactness, see below
    TANH = "tanh"  # hyperbolic tangent: for exactness near 0, see below
    SQRT = "sqrt"  # square root of x
    NEG = "neg"  # -x
    RECIPROCAL = "reciprocal"  # 1 / x

    # COS and TANH are there for exactness, not because nothing else could express them.
    # cos(x) = sin(pi/2 - x) rounds pi/2 - x to the tensor's dtype first, which throws away the
    # low bits of a large x: cos(12345.) came out wrong in the third digit in float32, and float64
    # has no wider type to compute in. tanh(x) = 2 sigmoid(2x) - 1 subtracts two numbers near 1
    # for small x, so tanh(1e-8) lost all but a few bits. Every backend has both functions, exact
    # to the last bit or two, and each is one op where the compositions took three to six.


class BinaryOps(PrimitiveOp):
    """z = f(x, y), elementwise over two operands of equal shape."""

    ADD = "add"  # x + y
    SUB = "sub"  # x - y
    MUL = "mul"  # x * y
    DIV = "div"  # x / y (true division: integer operands give float64, as in numpy)
    IDIV = "idiv"  # floor(x / y) as Python's // and torch's floor_divide: exact, see below
    MOD = "mod"  # x - y * floor(x / y), the sign of y, as Python's % and torch.remainder
    MAX = "max"  # the larger of x and y
    CMPLT = "cmplt"  # x < y, as bool
    CMPEQ = "cmpeq"  # x == y, as bool
    AND = "and"  # bitwise and of ints; logical and of bools
    OR = "or"  # bitwise or of ints; logical or of bools
    XOR = "xor"  # bitwise exclusive or of ints; logical xor of bools

    # IDIV, MOD and the bitwise ops are there for exactness. Composed from DIV they would pass
    # through a float: int64 beyond 2^53 (2^24 in float32) loses its low digits, and even floats
    # differ, since floor(1 / 0.1) = 10 while 1 // 0.1 = 9 (0.1 is a little more than 1/10).
    # The bitwise ops have no arithmetic composition at all short of one op per bit.


class TernaryOps(PrimitiveOp):
    """w = f(c, x, y), elementwise over three operands of equal shape."""

    WHERE = "where"  # x where c is true, else y


class IndexOps(PrimitiveOp):
    """Read or write elements at positions held in an integer index tensor, along one axis."""

    GATHER = "gather"  # out[i][j][k] = x[i][index[i][j][k]][k] for axis 1, as torch.gather
    SCATTER_ADD = "scatter_add"  # zeros, then out[i][index[i][j][k]][k] += src[i][j][k]: GATHER's adjoint

    # There for exactness and speed. Without them, picking elements by index is a one-hot MATMUL:
    # it routes integers through floats (int64 beyond 2^24 was not exact in float32), computes
    # 0 * inf = nan wherever the row holds an inf, and builds an (index count x axis size) matrix,
    # 2048 x 50257 floats (411 MB) for one GPT-2 embedding lookup. GATHER reads each element once;
    # SCATTER_ADD, the gradient of GATHER, adds each gradient element once into its row.


class ReduceOps(PrimitiveOp):
    """Reduce over some axes, keeping them with size 1."""

    SUM = "sum"  # sum of the elements along the axes
    MAX = "max"  # largest element along the axes


class MovementOps(PrimitiveOp):
    """Change which elements are where, never their values (but FOLD, which adds copies up)."""

    RESHAPE = "reshape"  # same elements in row-major order, new shape
    PERMUTE = "permute"  # reorder the axes: out.shape[i] = x.shape[order[i]]
    EXPAND = "expand"  # repeat size-1 axes to a larger size (a view: no copy)
    PAD = "pad"  # add (before, after) zeros to each axis
    SHRINK = "shrink"  # keep the range [start, stop) of each axis
    STRIDE = "stride"  # keep every k-th element of each axis; a negative k also reverses it
    WINDOW = "window"  # sliding windows over the last axes: (..., H, W) -> (..., H', W', kh, kw)
    FOLD = "fold"  # WINDOW's adjoint: add each window element back where it came from (col2im)

    # FOLD is there for speed: the gradient of WINDOW, and of every convolution and pooling. As
    # compositions it was one PAD and one ADD of an input-sized array per kernel position (25 of
    # each for a 5x5 kernel); a backend adds the kh*kw slices into one zeroed array in place.


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

    is_floating_point = is_float  # PyTorch's name
    def __repr__(self) -> str:
        return f"edugrad.{self.value}"

    __str__ = __repr__  # print(x.dtype) shows edugrad.float32, as PyTorch shows torch.float32


Op = UnaryOps | BinaryOps | TernaryOps | IndexOps | ReduceOps | MovementOps | LoadOps | CastOps | ContractOps
