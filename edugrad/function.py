"""The math of every differentiable op: its forward and its backward, side by side, in primitive ops.

A Function sees only `TensorData` (the backend's arrays), never numpy and never a Tensor. `forward`
computes the result from its inputs; `backward` turns the gradient of the loss with respect to that
result into the gradient with respect to each input (the chain rule, one op at a time). Values that
backward needs are saved on `self` under the names of what they are (`self.x`, `self.out`).

Recording the graph and walking it are the graph layer's work: `Function.apply` and `backward` in
`autograd.py`. `tensor.py` calls `Exp.apply(x)`; nothing here knows it is being recorded.
"""

from __future__ import annotations

import itertools
import math

from edugrad.autograd import Function, Grads
from edugrad.backend.base import Shape, TensorData, window_sizes
from edugrad.compose import (arange, full_like, im2col, isnan, join, logical_not, mean, polynomial, power, real_power,
                             running_sum, transpose_last, truncate, unstride, widened, zeros_like)
from edugrad.ops import BinaryOps, DType, ReduceOps, UnaryOps

LN2 = math.log(2.0)
LOG2_E = 1.0 / LN2


# ---------------------------------------------------------------- unary

class Neg(Function):
    """d/dx (-x) = -1"""

    def forward(self, x: TensorData) -> TensorData:
        return x.unary(UnaryOps.NEG)

    def backward(self, grad: TensorData) -> TensorData:
        return grad.unary(UnaryOps.NEG)


class Reciprocal(Function):
    """d/dx (1/x) = -1/x^2 = -out^2"""

    def forward(self, x: TensorData) -> TensorData:
        self.out = x.unary(UnaryOps.RECIPROCAL)
        return self.out

    def backward(self, grad: TensorData) -> TensorData:
        return grad.binary(BinaryOps.MUL, self.out.binary(BinaryOps.MUL, self.out)).unary(UnaryOps.NEG)


class Sqrt(Function):
    """d/dx sqrt(x) = 1 / (2 sqrt(x))"""

    def forward(self, x: TensorData) -> TensorData:
        self.out = x.unary(UnaryOps.SQRT)
        return self.out

    def backward(self, grad: TensorData) -> TensorData:
        return grad.binary(BinaryOps.DIV, self.out.binary(BinaryOps.ADD, self.out))


class Sin(Function):
    """d/dx sin(x) = cos(x)"""

    def forward(self, x: TensorData) -> TensorData:
        self.x = x
        return x.unary(UnaryOps.SIN)

    def backward(self, grad: TensorData) -> TensorData:
        return grad.binary(BinaryOps.MUL, self.x.unary(UnaryOps.COS))


class Cos(Function):
    """d/dx cos(x) = -sin(x)"""

    def forward(self, x: TensorData) -> TensorData:
        self.x = x
        return x.unary(UnaryOps.COS)

    def backward(self, grad: TensorData) -> TensorData:
        return grad.binary(BinaryOps.MUL, self.x.unary(UnaryOps.SIN)).unary(UnaryOps.NEG)


class Exp(Function):
    """exp(x) = 2^(x log2 e);  d/dx exp(x) = exp(x).
    One Function rather than mul + exp2, so the graph holds one node per exp."""

    def forward(self, x: TensorData) -> TensorData:
        self.out = x.binary(BinaryOps.MUL, full_like(x, LOG2_E)).unary(UnaryOps.EXP2)
        return self.out

    def backward(self, grad: TensorData) -> TensorData:
        return grad.binary(BinaryOps.MUL, self.out)


class Log(Function):
    """log(x) = log2(x) ln 2;  d/dx log(x) = 1/x"""

    def forward(self, x: TensorData) -> TensorData:
        self.x = x
        return x.unary(UnaryOps.LOG2).binary(BinaryOps.MUL, full_like(x, LN2))

    def backward(self, grad: TensorData) -> TensorData:
        return grad.binary(BinaryOps.DIV, self.x)


class Relu(Function):
    """relu(x) = max(x, 0);  d/dx = 1 where x > 0, else 0"""

    def forward(self, x: TensorData) -> TensorData:
        self.out = x.binary(BinaryOps.MAX, zeros_like(x))
        return self.out

    def backward(self, grad: TensorData) -> TensorData:
        # A multiply by the 0/1 mask rather than WHERE: numpy's where branches on every element,
        # and on a mask as random as relu's took ~6x as long as a multiply. The one difference:
        # an inf or nan gradient reaching a unit whose input was <= 0 gives nan (0 * inf), not 0.
        positive = zeros_like(self.out).binary(BinaryOps.CMPLT, self.out).cast(grad.dtype)
        return grad.binary(BinaryOps.MUL, positive)


class Sigmoid(Function):
    """sigmoid(x) = 1 / (1 + 2^(-x log2 e));  d/dx = out (1 - out).
    A Function because differentiating the composition gives inf/inf = nan for large |x|."""

    def forward(self, x: TensorData) -> TensorData:
        exp_neg = x.binary(BinaryOps.MUL, full_like(x, -LOG2_E)).unary(UnaryOps.EXP2)
        self.out = exp_neg.binary(BinaryOps.ADD, full_like(x, 1.0)).unary(UnaryOps.RECIPROCAL)
        return self.out

    def backward(self, grad: TensorData) -> TensorData:
        one_minus = full_like(self.out, 1.0).binary(BinaryOps.SUB, self.out)
        return grad.binary(BinaryOps.MUL, self.out.binary(BinaryOps.MUL, one_minus))


class Tanh(Function):
    """d/dx tanh(x) = 1 - tanh(x)^2 = 1 - out^2"""

    def forward(self, x: TensorData) -> TensorData:
        self.out = x.unary(UnaryOps.TANH)
        return self.out

    def backward(self, grad: TensorData) -> TensorData:
        slope = full_like(self.out, 1.0).binary(BinaryOps.SUB, self.out.binary(BinaryOps.MUL, self.out))
        return grad.binary(BinaryOps.MUL, slope)


class GeluTanh(Function):
    """GPT-2's gelu: x sigmoid(2z), z = sqrt(2/pi) (x + 0.044715 x^3) (the same as x/2 (1 + tanh z)).
    d/dx = s + x s (1 - s) 2 sqrt(2/pi) (1 + 3 * 0.044715 x^2), with s = sigmoid(2z).
    A Function for speed: composed, it is about ten elementwise passes forward and twelve back;
    this is eight each way, with the constants folded (-2z log2 e = x (a + b x^2)) and x^2 kept."""

    def forward(self, x: TensorData) -> TensorData:
        c = 2 * math.sqrt(2 / math.pi) * -LOG2_E  # exp(-2z) = 2^(x (a + b x^2)), a = c, b = 0.044715 c
        self.x, self.x_squared = x, x.binary(BinaryOps.MUL, x)
        exponent = self.x_squared.binary(BinaryOps.MUL, full_like(x, 0.044715 * c))
        exponent = exponent.binary(BinaryOps.ADD, full_like(x, c))
        exp_neg = exponent.binary(BinaryOps.MUL, x).unary(UnaryOps.EXP2)  # exp(-2z)
        self.s = exp_neg.binary(BinaryOps.ADD, full_like(x, 1.0)).unary(UnaryOps.RECIPROCAL)  # sigmoid(2z)
        return x.binary(BinaryOps.MUL, self.s)

    def backward(self, grad: TensorData) -> TensorData:
        x, s, c = self.x, self.s, 2 * math.sqrt(2 / math.pi)
        ds = s.binary(BinaryOps.SUB, s.binary(BinaryOps.MUL, s))  # s (1 - s)
        dz = self.x_squared.binary(BinaryOps.MUL, full_like(x, 3 * 0.044715 * c)).binary(BinaryOps.ADD, full_like(x, c))
        slope = s.binary(BinaryOps.ADD, x.binary(BinaryOps.MUL, ds).binary(BinaryOps.MUL, dz))  # d(2z)/dx = dz
        return grad.binary(BinaryOps.MUL, slope)


# ---------------------------------------------------------------- binary (operands have equal shapes)

class Add(Function):
    """d/dx (x + y) = 1, d/dy = 1"""

    def forward(self, x: TensorData, y: TensorData) -> TensorData:
        return x.binary(BinaryOps.ADD, y)

    def backward(self, grad: TensorData) -> Grads:
        return grad, grad


class Sub(Function):
    """d/dx (x - y) = 1, d/dy = -1"""

    def forward(self, x: TensorData, y: TensorData) -> TensorData:
        return x.binary(BinaryOps.SUB, y)

    def backward(self, grad: TensorData) -> Grads:
        return grad, grad.unary(UnaryOps.NEG) if self.needs_input_grad[1] else None


class Mul(Function):
    """d/dx (x y) = y, d/dy = x"""

    def forward(self, x: TensorData, y: TensorData) -> TensorData:
        self.x, self.y = x, y
        return x.binary(BinaryOps.MUL, y)

    def backward(self, grad: TensorData) -> Grads:
        return (grad.binary(BinaryOps.MUL, self.y) if self.needs_input_grad[0] else None,
                grad.binary(BinaryOps.MUL, self.x) if self.needs_input_grad[1] else None)


class Div(Function):
    """d/dx (x / y) = 1/y, d/dy = -x/y^2"""

    def forward(self, x: TensorData, y: TensorData) -> TensorData:
        self.x, self.y = x, y
        return x.binary(BinaryOps.DIV, y)

    def backward(self, grad: TensorData) -> Grads:
        grad_x = grad.binary(BinaryOps.DIV, self.y) if self.needs_input_grad[0] else None
        grad_y = None
        if self.needs_input_grad[1]:
            y_squared = self.y.binary(BinaryOps.MUL, self.y)
            grad_y = grad.binary(BinaryOps.MUL, self.x).binary(BinaryOps.DIV, y_squared).unary(UnaryOps.NEG)
        return grad_x, grad_y


class Maximum(Function):
    """d/dx max(x, y) = 1 where x > y, 1/2 where x == y, else 0 (as PyTorch splits ties)."""

    def forward(self, x: TensorData, y: TensorData) -> TensorData:
        self.x, self.y = x, y
        return x.binary(BinaryOps.MAX, y)

    def backward(self, grad: TensorData) -> Grads:
        half = grad.binary(BinaryOps.MUL, full_like(grad, 0.5))
        tie_share = self.x.binary(BinaryOps.CMPEQ, self.y).where(half, zeros_like(grad))
        grad_x = grad_y = None
        if self.needs_input_grad[0]:
            grad_x = self.y.binary(BinaryOps.CMPLT, self.x).where(grad, tie_share)
        if self.needs_input_grad[1]:
            grad_y = self.x.binary(BinaryOps.CMPLT, self.y).where(grad, tie_share)
        return grad_x, grad_y


class Where(Function):
    """where(c, x, y): the gradient flows to x where c holds, to y elsewhere, never to c."""

    def forward(self, condition: TensorData, x: TensorData, y: TensorData) -> TensorData:
        self.condition = condition
        return condition.where(x, y)

    def backward(self, grad: TensorData) -> Grads:
        zero = zeros_like(grad)
        return (None,
                self.condition.where(grad, zero) if self.needs_input_grad[1] else None,
                self.condition.where(zero, grad) if self.needs_input_grad[2] else None)


# ---------------------------------------------------------------- reduce (axes kept with size 1)

class Sum(Function):
    """d/dx sum(x) = 1 for every element: the gradient is expanded back to x's shape."""

    def forward(self, x: TensorData, axes: tuple[int, ...]) -> TensorData:
        self.shape = x.shape
        return x.reduce(ReduceOps.SUM, axes)

    def backward(self, grad: TensorData) -> TensorData:
        return grad.expand(self.shape)


class Max(Function):
    """d/dx max(x) = 1 at the maximum; ties share the gradient equally (as torch.amax)."""

    def forward(self, x: TensorData, axes: tuple[int, ...]) -> TensorData:
        self.x, self.axes = x, axes
        self.out = x.reduce(ReduceOps.MAX, axes)
        return self.out

    def backward(self, grad: TensorData) -> TensorData:
        is_max = self.x.binary(BinaryOps.CMPEQ, self.out.expand(self.x.shape)).cast(grad.dtype)
        count = is_max.reduce(ReduceOps.SUM, self.axes)
        share = grad.binary(BinaryOps.DIV, count).expand(self.x.shape)
        return is_max.binary(BinaryOps.MUL, share)


# ---------------------------------------------------------------- normalizations
# A reduce and the elementwise ops around it as one node: forward as composed, backward in closed
# form, with fewer passes over the data and fewer arrays kept for backward.

class Softmax(Function):
    """out = e / sum(e) along `dim`, e = exp(x - max(x)) (the shift keeps exp from overflowing);
    dL/dx = out (g - sum(g out)). A Function for speed: composed of exp, sum and divide, backward
    takes ~9 passes and keeps e, its sum and the quotient alive; this takes 3 and keeps out."""

    def forward(self, x: TensorData, dim: int) -> TensorData:
        self.dim = dim
        shifted = x.binary(BinaryOps.SUB, x.reduce(ReduceOps.MAX, (dim,)).expand(x.shape))
        e = shifted.binary(BinaryOps.MUL, full_like(x, LOG2_E)).unary(UnaryOps.EXP2)
        # times 1/sum rather than divided by it: one division per row, and a multiply is cheaper
        inverse = e.reduce(ReduceOps.SUM, (dim,)).unary(UnaryOps.RECIPROCAL)
        self.out = e.binary(BinaryOps.MUL, inverse.expand(x.shape))
        return self.out

    def backward(self, grad: TensorData) -> TensorData:
        dot = grad.binary(BinaryOps.MUL, self.out).reduce(ReduceOps.SUM, (self.dim,))  # sum(g out)
        return self.out.binary(BinaryOps.MUL, grad.binary(BinaryOps.SUB, dot.expand(grad.shape)))


class LogSoftmax(Function):
    """out = x - max - log(sum(e)), e = exp(x - max(x)) along `dim`;  dL/dx = g - softmax sum(g),
    with softmax = e / sum(e). A Function for speed, as Softmax: backward is 3 passes."""

    def forward(self, x: TensorData, dim: int) -> TensorData:
        self.dim = dim
        shifted = x.binary(BinaryOps.SUB, x.reduce(ReduceOps.MAX, (dim,)).expand(x.shape))
        self.e = shifted.binary(BinaryOps.MUL, full_like(x, LOG2_E)).unary(UnaryOps.EXP2)
        self.total = self.e.reduce(ReduceOps.SUM, (dim,))
        log_total = self.total.unary(UnaryOps.LOG2).binary(BinaryOps.MUL, full_like(self.total, LN2))
        return shifted.binary(BinaryOps.SUB, log_total.expand(x.shape))

    def backward(self, grad: TensorData) -> TensorData:
        scale = grad.reduce(ReduceOps.SUM, (self.dim,)).binary(BinaryOps.DIV, self.total)  # sum(g) / sum(e)
        return grad.binary(BinaryOps.SUB, self.e.binary(BinaryOps.MUL, scale.expand(grad.shape)))


class LayerNorm(Function):
    """x_hat = (x - mean) / sqrt(var + eps) over the trailing `dims` (var is the biased variance);
    dL/dx = (g - mean(g) - x_hat mean(g x_hat)) / sqrt(var + eps), the means over the same dims.
    The scale and shift by weight and bias stay separate multiply and add nodes (F.layer_norm).
    A Function for speed: composed of means, squares and a reciprocal square root, forward and
    backward take ~20 passes over x; this takes 5 forward and 7 back."""

    def forward(self, x: TensorData, dims: tuple[int, ...], eps: float) -> TensorData:
        self.dims = dims
        centered = x.binary(BinaryOps.SUB, mean(x, dims).expand(x.shape))
        variance = mean(centered.binary(BinaryOps.MUL, centered), dims)
        self.inverse_std = variance.binary(BinaryOps.ADD, full_like(variance, eps)).unary(UnaryOps.SQRT).unary(
            UnaryOps.RECIPROCAL)
        self.x_hat = centered.binary(BinaryOps.MUL, self.inverse_std.expand(x.shape))
        return self.x_hat

    def backward(self, grad: TensorData) -> TensorData:
        mean_g, mean_g_x_hat = mean(grad, self.dims), mean(grad.binary(BinaryOps.MUL, self.x_hat), self.dims)
        out = grad.binary(BinaryOps.SUB, mean_g.expand(grad.shape))
        out = out.binary(BinaryOps.SUB, self.x_hat.binary(BinaryOps.MUL, mean_g_x_hat.expand(grad.shape)))
        return out.binary(BinaryOps.MUL, self.inverse_std.expand(grad.shape))


# ---------------------------------------------------------------- movement

class Reshape(Function):
    """The gradient is reshaped back."""

    def forward(self, x: TensorData, shape: Shape) -> TensorData:
        self.in_shape = x.shape
        return x.reshape(shape)

    def backward(self, grad: TensorData) -> TensorData:
        return grad.reshape(self.in_shape)


class Permute(Function):
    """The gradient is permuted by the inverse permutation."""

    def forward(self, x: TensorData, order: tuple[int, ...]) -> TensorData:
        self.order = order
        return x.permute(order)

    def backward(self, grad: TensorData) -> TensorData:
        inverse = tuple(sorted(range(len(self.order)), key=self.order.__getitem__))
        return grad.permute(inverse)


class Expand(Function):
    """Broadcast x to `shape` (numpy's rule: missing leading dims count as size 1). Every copy of an
    element sends its gradient back, so backward sums over the expanded axes."""

    def forward(self, x: TensorData, shape: Shape) -> TensorData:
        self.in_shape = x.shape
        padded = (1,) * (len(shape) - x.ndim) + x.shape
        return (x.reshape(padded) if padded != x.shape else x).expand(shape)

    def backward(self, grad: TensorData) -> TensorData:
        padded = (1,) * (grad.ndim - len(self.in_shape)) + self.in_shape
        axes = tuple(i for i, (a, b) in enumerate(zip(padded, grad.shape)) if a != b)
        summed = grad.reduce(ReduceOps.SUM, axes) if axes else grad
        return summed.reshape(self.in_shape) if padded != self.in_shape else summed


class Pad(Function):
    """The padding had no inputs: shrink it away from the gradient."""

    def forward(self, x: TensorData, padding: tuple[tuple[int, int], ...]) -> TensorData:
        self.bounds = tuple((before, before + n) for (before, _), n in zip(padding, x.shape))
        return x.pad(padding)

    def backward(self, grad: TensorData) -> TensorData:
        return grad.shrink(self.bounds)


class Cumsum(Function):
    """Running sums along `dim`;  dL/dx_i = the sum of the gradient from i to the end: the running
    sum of the gradient taken from the far end (compose.running_sum, in PyTorch's order)."""

    def forward(self, x: TensorData, dim: int) -> TensorData:
        self.dim = dim
        return running_sum(x, dim)

    def backward(self, grad: TensorData) -> TensorData:
        return running_sum(grad, self.dim, reverse=True)


class Cat(Function):
    """Pieces joined along `dim`. Backward hands each piece its slice of the gradient (a SHRINK, a
    view). One node for all the pieces: as a tree of pads and wheres recorded one by one, backward
    ran two WHEREs per level and stacking 29 scalars took ~10x as long."""

    def forward(self, *pieces: TensorData, dim: int) -> TensorData:
        starts = list(itertools.accumulate([p.shape[dim] for p in pieces], initial=0))
        self.bounds = [tuple((start, stop) if axis == dim else (0, n) for axis, n in enumerate(p.shape))
                       for p, start, stop in zip(pieces, starts, starts[1:])]
        return join(pieces, dim)

    def backward(self, grad: TensorData) -> Grads:
        return tuple(grad.shrink(bounds) if needed else None
                     for bounds, needed in zip(self.bounds, self.needs_input_grad))


class Shrink(Function):
    """The elements cut away get zero gradient: pad the gradient back to x's shape."""

    def forward(self, x: TensorData, bounds: tuple[tuple[int, int], ...]) -> TensorData:
        self.padding = tuple((start, n - stop) for (start, stop), n in zip(bounds, x.shape))
        return x.shrink(bounds)

    def backward(self, grad: TensorData) -> TensorData:
        return grad.pad(self.padding)


class Stride(Function):
    """The skipped elements get zero gradient: spread the gradient back out (`unstride`)."""

    def forward(self, x: TensorData, steps: tuple[int, ...]) -> TensorData:
        self.in_shape, self.steps = x.shape, steps
        return x.stride(steps)

    def backward(self, grad: TensorData) -> TensorData:
        return unstride(grad, self.steps, self.in_shape)


class Window(Function):
    """Sliding windows (a view). Each input element appears in several windows, so its gradient is
    the sum of the gradients of all its copies: FOLD."""

    def forward(self, x: TensorData, kernel: tuple[int, ...], stride: tuple[int, ...],
                dilation: tuple[int, ...]) -> TensorData:
        self.in_shape, self.stride, self.dilation = x.shape, stride, dilation
        return x.window(kernel, stride, dilation)

    def backward(self, grad: TensorData) -> TensorData:
        return grad.fold(self.in_shape, self.stride, self.dilation)


class Gather(Function):
    """out = x's elements at `index` along `axis` (GATHER): out[i][j] = x[i][index[i][j]] for axis 1.
    Each picked element's gradient is added back where it was read (SCATTER_ADD); repeats add up.
    The index gets no gradient."""

    def forward(self, x: TensorData, index: TensorData, axis: int) -> TensorData:
        self.index, self.axis, self.in_shape = index, axis, x.shape
        return x.gather(axis, index)

    def backward(self, grad: TensorData) -> Grads:
        return grad.scatter_add(self.axis, self.index, self.in_shape), None


class Cast(Function):
    """The gradient is cast back to the input's dtype."""

    def forward(self, x: TensorData, dtype: DType) -> TensorData:
        self.in_dtype = x.dtype
        return x.cast(dtype)

    def backward(self, grad: TensorData) -> TensorData:
        return grad.cast(self.in_dtype)


# ---------------------------------------------------------------- contraction

class Matmul(Function):
    """out = x @ y over equal batch dims;  dL/dx = grad @ y^T,  dL/dy = x^T @ grad"""

    def forward(self, x: TensorData, y: TensorData) -> TensorData:
        self.x, self.y = x, y
        return x.matmul(y)

    def backward(self, grad: TensorData) -> Grads:
        return (grad.matmul(transpose_last(self.y)) if self.needs_input_grad[0] else None,
                transpose_last(self.x).matmul(grad) if self.needs_input_grad[1] else None)


class Linear(Function):
    """out = x @ w^T + b for rows x (N, in), weights w (out, in) and an optional bias b (out,);
    dL/dx = grad @ w,  dL/dw = grad^T @ x,  dL/db = the sum of grad's rows.
    Matmul of x and a transposed w gives the same numbers, but its dL/dw comes out as the transpose
    of an (in, out) product: a strided view that every optimizer op then read ~10x slower. Here
    it is computed in w's own (out, in) layout, as PyTorch's addmm backward does."""

    def forward(self, x: TensorData, w: TensorData, b: TensorData | None = None) -> TensorData:
        self.x, self.w = x, w
        out = x.matmul(transpose_last(w))  # (N, out)
        return out if b is None else out.binary(BinaryOps.ADD, b.reshape((1, w.shape[0])).expand(out.shape))

    def backward(self, grad: TensorData) -> Grads:
        grad_x = grad.matmul(self.w) if self.needs_input_grad[0] else None  # (N, in)
        grad_w = transpose_last(grad).matmul(self.x) if self.needs_input_grad[1] else None  # (out, in)
        if len(self.needs_input_grad) < 3:
            return grad_x, grad_w
        grad_b = grad.reduce(ReduceOps.SUM, (0,)).reshape((self.w.shape[0],)) if self.needs_input_grad[2] else None
        return grad_x, grad_w, grad_b


class Conv2d(Function):
    """Cross-correlation of x (N, C, H, W), already padded, with w (O, C/groups, kh, kw).

    Forward is im2col then MATMUL: every window of x is copied into one column of `columns`, so the
    whole convolution is one batched MATMUL per group. Backward: dL/dw is the MATMUL of the
    gradient with those same columns; dL/dx is the MATMUL of the gradient with the kernels, which
    gives the gradient of every column entry, added back onto x by col2im (FOLD).
    Composing WINDOW, RESHAPE and MATMUL as separate Functions would give the same numbers, but
    would keep both the windows and the columns alive until backward; this keeps only the columns.

    The columns are laid out one row per (channel, kernel position) and one column per output
    pixel, (C*kh*kw, pixels), rather than the transpose: the im2col copy then reads and writes
    runs of neighbouring pixels instead of runs of kw (5) elements, ~2-10x faster in numpy, and
    the MATMUL's output comes out channel-major. The pixels are ordered (N, H', W'), runs of W'
    pixels; where those rows are short, (H', W', N), batch innermost (`batch_last`): x is first
    copied once with its batch axis innermost, and the im2col copy then runs over W'*N pixels
    (learn_mnist's second convolution, W' = 8: the copy ~2x faster, with the transposes)."""

    def forward(self, x: TensorData, w: TensorData, stride: tuple[int, int], dilation: tuple[int, int],
                groups: int) -> TensorData:
        self.x_shape, self.w, self.stride, self.dilation, self.groups = x.shape, w, stride, dilation, groups
        n, channels, height, width = x.shape
        g = groups
        out_channels, group_channels, kh, kw = w.shape
        out_h, out_w = window_sizes((height, width), (kh, kw), stride, dilation)
        self.batch_last = out_w < 16
        if self.batch_last:  # a RESHAPE of a permuted view is a copy: x laid out (C, H, W, N)
            x = x.permute((1, 2, 3, 0)).reshape((x.size,)).reshape((channels, height, width, n)).permute((3, 0, 1, 2))
        windows = x.window((kh, kw), stride, dilation)  # (N, C, H', W', kh, kw), a view
        windows = windows.reshape((n, g, group_channels, out_h, out_w, kh, kw))  # split C into groups
        self.columns = im2col(windows, self.batch_last)  # (groups, C/groups*kh*kw, pixels), the one copy
        kernels = w.reshape((g, out_channels // g, group_channels * kh * kw))  # (groups, O/groups, C/groups*kh*kw)
        out = kernels.matmul(self.columns)  # (groups, O/groups, pixels); groups and O/groups merge into O
        if self.batch_last:
            return out.reshape((out_channels, out_h, out_w, n)).permute((3, 0, 1, 2))  # (N, O, H', W'), a view
        return out.reshape((out_channels, n, out_h, out_w)).permute((1, 0, 2, 3))  # (N, O, H', W'), a view

    def backward(self, grad: TensorData) -> Grads:
        n, out_channels, out_h, out_w = grad.shape
        _, group_channels, kh, kw = self.w.shape
        g, group_out = self.groups, out_channels // self.groups
        # The gradient as the forward MATMUL's output, (groups, O/groups, pixels), batch innermost
        # too for dL/dx: FOLD then adds rows of W'*N neighbours instead of rows of W' (see numpy's).
        batch_last = grad.permute((1, 2, 3, 0)).reshape((g, group_out, out_h * out_w * n))  # pixels (H', W', N)
        grad_w = None
        if self.needs_input_grad[1]:
            grad_rows = batch_last  # in the columns' pixel order
            if not self.batch_last:
                grad_rows = grad.permute((1, 0, 2, 3)).reshape((g, group_out, n * out_h * out_w))  # pixels (N, H', W')
            grad_w = grad_rows.matmul(transpose_last(self.columns))  # (groups, O/groups, C/groups*kh*kw)
            grad_w = grad_w.reshape(self.w.shape)  # (O, C/groups, kh, kw)
        grad_x = None
        if self.needs_input_grad[0]:
            kernels = self.w.reshape((g, group_out, group_channels * kh * kw))
            grad_columns = transpose_last(kernels).matmul(batch_last)  # (groups, C/groups*kh*kw, H'*W'*N)
            grad_windows = grad_columns.reshape((g, group_channels, kh, kw, out_h, out_w, n))
            grad_windows = grad_windows.permute((0, 1, 6, 4, 5, 2, 3))  # (groups, C/groups, N, H', W', kh, kw)
            height, width = self.x_shape[2], self.x_shape[3]
            # col2im: each window entry's gradient added onto the pixel it was copied from
            folded = grad_windows.fold((g, group_channels, n, height, width), self.stride, self.dilation)
            grad_x = folded.reshape((g * group_channels, n, height, width))  # (C, N, H, W)
            grad_x = grad_x.permute((1, 0, 2, 3))  # (N, C, H, W)
        return grad_x, grad_w


class MaxPool2d(Function):
    """The largest value of each window over the last two axes of x (..., H, W), padded with -inf,
    as torch.nn.functional.max_pool2d. The gradient of each window goes to ONE of its elements,
    the one PyTorch's CPU kernel picks: the first maximum in row-major window order, or the last
    NaN. (amax shares it among equal maxima, which differs wherever a window holds ties, as the
    zeros after a ReLU do.)

    When x needs a gradient, forward runs PyTorch's loop over the kh*kw kernel positions, on whole
    (..., H', W') arrays, which finds each window's largest value and which position holds it at
    once; backward sends each window's gradient to that position with one FOLD. Otherwise
    (inference) forward is a plain MAX reduce over the windows, with the same values."""

    def forward(self, x: TensorData, kernel: tuple[int, int], stride: tuple[int, int],
                padding: tuple[int, int], dilation: tuple[int, int]) -> TensorData:
        self.x_shape, self.kernel, self.stride, self.padding, self.dilation = x.shape, kernel, stride, padding, dilation
        padded = x
        if padding != (0, 0):
            zero_padded = x.pad(self.pad_widths(x.ndim))
            inside = type(x).const(True, x.shape, DType.bool).pad(self.pad_widths(x.ndim))
            padded = inside.where(zero_padded, full_like(zero_padded, -math.inf))
        self.padded_shape = padded.shape
        if not self.needs_input_grad[0]:
            # The max of each row of the window, then the max of those: with no choice to track, a
            # 2-D max is two 1-D ones. The first reads x in long rows (each row's windows are one
            # strided run), ~2x faster in numpy than kh*kw slices of the 2-D windows.
            (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
            rows = padded.window((1, kw), (1, sw), (1, dw))  # (..., H, W', 1, kw)
            rows = rows.reduce(ReduceOps.MAX, (rows.ndim - 1,)).reshape(rows.shape[:-2])  # (..., H, W')
            columns = rows.window((kh, 1), (sh, 1), (dh, 1))  # (..., H', W', kh, 1)
            return columns.reduce(ReduceOps.MAX, (columns.ndim - 2,)).reshape(columns.shape[:-2])
        windows = padded.window(kernel, stride, dilation)  # (..., H', W', kh, kw), a view
        out_shape = windows.shape[:-2]
        # PyTorch's loop: a later element is taken if it is larger than the best so far, or nan.
        best = type(x).const(-math.inf, out_shape, x.dtype)
        self.choice = self.first_inside(x, out_shape)  # (..., H', W'), int32: which kernel position
        for position, (a, b) in enumerate(itertools.product(range(kernel[0]), range(kernel[1]))):
            bounds = tuple((0, size) for size in out_shape) + ((a, a + 1), (b, b + 1))
            # This kernel position's element of every window, copied into one flat row (a RESHAPE
            # of a strided view), so that the ops below read it contiguously.
            value = windows.shrink(bounds).reshape((math.prod(out_shape),)).reshape(out_shape)
            take = best.binary(BinaryOps.CMPLT, value).binary(BinaryOps.OR, isnan(value))
            best = best.binary(BinaryOps.MAX, value)  # nan stays nan, as PyTorch's best does
            # choice = position where taken. The positions only grow, so the last one taken is
            # the largest: a MAX of take * position, ~9x faster in numpy than WHERE on a random mask.
            taken = take.cast(DType.int32).binary(BinaryOps.MUL, type(x).const(position, out_shape, DType.int32))
            self.choice = self.choice.binary(BinaryOps.MAX, taken)
        return best

    def backward(self, grad: TensorData) -> TensorData:
        kh, kw = self.kernel
        out_shape = grad.shape
        # Each window's gradient at its choice, laid out (kh, kw, ..., H', W'): every array here is
        # then a contiguous run of whole (..., H', W') blocks, with no 2-long innermost axes.
        kernel_first = (kh, kw) + out_shape
        positions = arange(kh * kw, DType.int32, grad).reshape((kh, kw) + (1,) * len(out_shape))
        chosen = self.choice.reshape((1, 1) + out_shape).expand(kernel_first).binary(
            BinaryOps.CMPEQ, positions.expand(kernel_first))
        spread = grad.reshape((1, 1) + out_shape).expand(kernel_first)
        grad_windows = spread.binary(BinaryOps.MUL, chosen.cast(grad.dtype))  # a multiply: faster than WHERE
        n = len(kernel_first)
        grad_windows = grad_windows.permute(tuple(range(2, n)) + (0, 1))  # (..., H', W', kh, kw)
        grad_padded = grad_windows.fold(self.padded_shape, self.stride, self.dilation)
        if self.padding == (0, 0):
            return grad_padded
        widths = self.pad_widths(len(self.x_shape))
        return grad_padded.shrink(tuple((before, before + size) for (before, _), size in zip(widths, self.x_shape)))

    def pad_widths(self, ndim: int) -> tuple[tuple[int, int], ...]:
        (ph, pw) = self.padding
        return ((0, 0),) * (ndim - 2) + ((ph, ph), (pw, pw))

    def first_inside(self, x: TensorData, out_shape: Shape) -> TensorData:
        """The kernel position PyTorch starts each window's loop from: its first element inside x,
        not in the padding. That is the choice where every element is -inf (the loop never takes a
        later one). 0 without padding; windows at the top and left edges start further in."""
        if self.padding == (0, 0):
            return type(x).const(0, out_shape, DType.int32)
        kh, kw = self.kernel
        inside = type(x).const(True, x.shape[-2:], DType.bool).pad(self.pad_widths(2))
        inside = inside.window(self.kernel, self.stride, self.dilation)  # (H', W', kh, kw)
        spatial = inside.shape[:2]
        first = type(x).const(0, spatial, DType.int32)
        for position in reversed(range(kh * kw)):  # the earliest inside position is written last
            a, b = divmod(position, kw)
            here = inside.shrink(((0, spatial[0]), (0, spatial[1]), (a, a + 1), (b, b + 1))).reshape(spatial)
            first = here.where(type(x).const(position, spatial, DType.int32), first)
        return first.reshape((1,) * (len(out_shape) - 2) + spatial).expand(out_shape)


# ---------------------------------------------------------------- exact: erf, powers, rounding
# Functions that give PyTorch's values to the last bit or so, where compositions of the other
# Functions rounded too early, computed 0 * inf, or went through float32 with integers.

TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
# erf(x) = 2/sqrt(pi) * sum over n of (-1)^n x^(2n+1) / (n! (2n+1)). For |x| < 1 the terms after
# n = 10 add up to less than 1e-9 of the sum (a float32 ulp is 6e-8 of it): 11 terms, evaluated
# as a polynomial in x^2 by Horner's rule.
ERF_SERIES = [TWO_OVER_SQRT_PI * (-1) ** n / (math.factorial(n) * (2 * n + 1)) for n in range(11)]
# erfc(z) = t exp(-z^2 + P(t)), t = 1 / (1 + z/2), for z >= 0: Numerical Recipes' Chebyshev fit
# (Press et al., 2nd ed., 6.2), within 1.2e-7 of erfc(z), relatively, for every z. Used for
# |x| >= 1 only, where erfc(x) <= 0.16, so erf = 1 - erfc is within 2e-8 of erf(x) >= 0.84.
ERFC_FIT = [-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806,
            0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277]


class Erf(Function):
    """erf(x), the Gaussian integral;  d/dx erf(x) = 2/sqrt(pi) exp(-x^2).

    No backend primitive: numpy has no erf, so any backend would compute it from polynomials like
    these. They are evaluated in float64 and rounded once to x's dtype: a float32 result is within
    one unit in the last place, near 0 too (where 1 - erfc cancelled: 8x off at 1e-8). Float64
    results are as good as float32 ones (~1e-8 relative), not better. The price: ~50 float64 ops,
    about 3x the time of the float32 approximation it replaces."""

    def forward(self, x: TensorData) -> TensorData:
        self.x = x
        wide = x.cast(DType.float64)
        magnitude = wide.binary(BinaryOps.MAX, wide.unary(UnaryOps.NEG))
        near_zero = magnitude.binary(BinaryOps.CMPLT, full_like(wide, 1.0))
        # |x| < 1: the series, x * (c0 + c1 x^2 + c2 x^4 + ...)
        squared = wide.binary(BinaryOps.MUL, wide)
        series = polynomial(squared, ERF_SERIES).binary(BinaryOps.MUL, wide)
        # |x| >= 1: 1 - erfc(|x|), given x's sign
        t = full_like(wide, 1.0).binary(BinaryOps.ADD, magnitude.binary(BinaryOps.MUL, full_like(wide, 0.5)))
        t = t.unary(UnaryOps.RECIPROCAL)
        exponent = polynomial(t, ERFC_FIT).binary(BinaryOps.SUB, squared)
        erfc = t.binary(BinaryOps.MUL, exponent.binary(BinaryOps.MUL, full_like(wide, LOG2_E)).unary(UnaryOps.EXP2))
        tail = full_like(wide, 1.0).binary(BinaryOps.SUB, erfc)
        tail = wide.binary(BinaryOps.CMPLT, zeros_like(wide)).where(tail.unary(UnaryOps.NEG), tail)
        return near_zero.where(series, tail).cast(x.dtype)  # nan is not < 1: the tail keeps it nan

    def backward(self, grad: TensorData) -> TensorData:
        minus_squared = self.x.binary(BinaryOps.MUL, self.x).unary(UnaryOps.NEG)
        density = minus_squared.binary(BinaryOps.MUL, full_like(self.x, LOG2_E)).unary(UnaryOps.EXP2)
        return grad.binary(BinaryOps.MUL, density.binary(BinaryOps.MUL, full_like(self.x, TWO_OVER_SQRT_PI)))


class IntPow(Function):
    """x^n for a Python int n, by multiplying (`power`): 5.0 ** 3 is 125, not 2^(3 log2 5) =
    124.99998, and int64 powers are exact (wrapping on overflow, as in PyTorch). float32 is
    computed in float64 and rounded once. Ints take n >= 0 only (PyTorch refuses negative n).
    d/dx x^n = n x^(n-1) (0 for n = 0, 0^0 included)."""

    def forward(self, x: TensorData, exponent: int) -> TensorData:
        self.x, self.exponent = x, exponent
        return power(widened(x), exponent).cast(x.dtype)

    def backward(self, grad: TensorData) -> TensorData:
        if self.exponent == 0:
            return zeros_like(grad)
        slope = power(widened(self.x), self.exponent - 1).binary(BinaryOps.MUL, full_like(widened(self.x), self.exponent))
        return grad.binary(BinaryOps.MUL, slope.cast(grad.dtype))


class Power(Function):
    """x^y for float tensors of equal shape, with the special cases of C's pow (as PyTorch):
    x^0 = 1 and 1^y = 1 even for nan, (-1)^inf = 1, a negative x keeps its sign for odd integer y
    and gives nan for fractional y (but (-inf)^0.5 = inf). Otherwise 2^(y log2|x|), in float64 for float32 tensors, so
    the result is rounded once (5.0 ** 3.0 is 125).
    d/dx = y x^(y-1) (0 where y = 0);  d/dy = x^y ln x (0 where x = 0 and y >= 0, as PyTorch)."""

    def forward(self, x: TensorData, y: TensorData) -> TensorData:
        self.x, self.y = x, y
        self.out = real_power(widened(x), widened(y)).cast(x.dtype)
        return self.out

    def backward(self, grad: TensorData) -> Grads:
        x, y = widened(self.x), widened(self.y)
        zero = zeros_like(x)
        grad_x = grad_y = None
        if self.needs_input_grad[0]:
            slope = y.binary(BinaryOps.MUL, real_power(x, y.binary(BinaryOps.SUB, full_like(y, 1.0))))
            slope = y.binary(BinaryOps.CMPEQ, zero).where(zero, slope)
            grad_x = grad.binary(BinaryOps.MUL, slope.cast(grad.dtype))
        if self.needs_input_grad[1]:
            log_x = x.unary(UnaryOps.LOG2).binary(BinaryOps.MUL, full_like(x, LN2))
            slope = widened(self.out).binary(BinaryOps.MUL, log_x)
            no_slope = x.binary(BinaryOps.CMPEQ, zero).where(y.binary(BinaryOps.CMPLT, zero).where(slope, zero), slope)
            grad_y = grad.binary(BinaryOps.MUL, no_slope.cast(grad.dtype))
        return grad_x, grad_y


class Step(Function):
    """A piecewise-constant function of its inputs (rounding, sign, floor division): its gradient is
    0 everywhere, at the jumps too, as PyTorch defines it. It is still a Function, so its result
    requires grad when an input does and backward() through it gives zeros, not an error.
    Subclasses define forward only; every input has the output's shape."""

    def backward(self, grad: TensorData) -> Grads:
        zero = zeros_like(grad)
        return tuple(zero if needed else None for needed in self.needs_input_grad)


class Trunc(Step):
    """Round toward 0: trunc(-2.5) = -2. inf, nan and large floats are kept (see `truncate`)."""

    def forward(self, x: TensorData) -> TensorData:
        return truncate(x)


class Floor(Step):
    """Round toward -inf: floor(-2.5) = -3."""

    def forward(self, x: TensorData) -> TensorData:
        whole = truncate(x)
        return x.binary(BinaryOps.CMPLT, whole).where(whole.binary(BinaryOps.SUB, full_like(x, 1.0)), whole)


class Ceil(Step):
    """Round toward +inf: ceil(-2.5) = -2."""

    def forward(self, x: TensorData) -> TensorData:
        whole = truncate(x)
        return whole.binary(BinaryOps.CMPLT, x).where(whole.binary(BinaryOps.ADD, full_like(x, 1.0)), whole)


class Round(Step):
    """Round to the nearest integer, ties to the even one, as PyTorch: round(2.5) = 2, round(3.5) = 4.
    From the truncated value and the fraction it dropped (x - trunc(x) is exact), so no x + 0.5 is
    rounded on the way (0.49999997 + 0.5 is 1.0 in float32)."""

    def forward(self, x: TensorData) -> TensorData:
        whole = truncate(x)
        fraction = x.binary(BinaryOps.SUB, whole)
        distance = fraction.binary(BinaryOps.MAX, fraction.unary(UnaryOps.NEG))
        half = full_like(x, 0.5)
        half_whole = whole.binary(BinaryOps.MUL, half)
        odd = logical_not(truncate(half_whole).binary(BinaryOps.CMPEQ, half_whole))
        tie_to_odd = distance.binary(BinaryOps.CMPEQ, half).binary(BinaryOps.AND, odd)
        away = half.binary(BinaryOps.CMPLT, distance).binary(BinaryOps.OR, tie_to_odd)
        step = x.binary(BinaryOps.CMPLT, zeros_like(x)).where(full_like(x, -1.0), full_like(x, 1.0))
        return away.where(whole.binary(BinaryOps.ADD, step), whole)


class Sign(Step):
    """-1, 0 or 1 as x is negative, zero or positive (0 for nan, as PyTorch 2)."""

    def forward(self, x: TensorData) -> TensorData:
        zero = zeros_like(x)
        positive = zero.binary(BinaryOps.CMPLT, x).cast(x.dtype)
        return positive.binary(BinaryOps.SUB, x.binary(BinaryOps.CMPLT, zero).cast(x.dtype))


class FloorDivide(Step):
    """x // y (IDIV): floor(x / y) as Python and PyTorch compute it, exact for ints; 1.0 // 0.1 = 9.
    Whole numbers only, so its gradient is 0 (as torch.div(rounding_mode="floor"))."""

    def forward(self, x: TensorData, y: TensorData) -> TensorData:
        return x.binary(BinaryOps.IDIV, y)


class Remainder(Function):
    """x % y (MOD), with the sign of y, as Python and torch.remainder.
    x % y = x - y * (x // y): d/dx = 1, d/dy = -(x // y)."""

    def forward(self, x: TensorData, y: TensorData) -> TensorData:
        self.x, self.y = x, y
        return x.binary(BinaryOps.MOD, y)

    def backward(self, grad: TensorData) -> Grads:
        grad_y = None
        if self.needs_input_grad[1]:
            grad_y = grad.binary(BinaryOps.MUL, self.x.binary(BinaryOps.IDIV, self.y)).unary(UnaryOps.NEG)
        return grad, grad_y
