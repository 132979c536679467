"""Every Function's backward against finite differences (float64), through the Tensor method that uses it."""

from __future__ import annotations

import numpy as np
import pytest

import edugrad.nn.functional as F
import edugrad
from edugrad import GradcheckError, Tensor, gradcheck
from edugrad.backend.base import TensorData
from edugrad import function
from edugrad.function import Function
from edugrad.ops import BinaryOps, UnaryOps

RNG = np.random.default_rng(0)


def rand(*shape: int, low: float = -2.0, high: float = 2.0, grad: bool = True) -> Tensor:
    return Tensor(RNG.uniform(low, high, shape), dtype=edugrad.float64, requires_grad=grad)


MASK = Tensor(np.array([[True, False, True], [False, True, True]]))


FUNCTION_CASES = [  # (the Function, a Tensor method that runs it, inputs)
    ("Neg", lambda x: -x, [rand(2, 3)]),
    ("Reciprocal", lambda x: x.reciprocal(), [rand(2, 3, low=0.5)]),
    ("Sqrt", lambda x: x.sqrt(), [rand(2, 3, low=0.2)]),
    ("Sin", lambda x: x.sin(), [rand(2, 3)]),
    ("Exp", lambda x: x.exp(), [rand(2, 3)]),
    ("Log", lambda x: x.log(), [rand(2, 3, low=0.2)]),
    ("Relu", lambda x: x.relu(), [rand(2, 3)]),
    ("Sigmoid", lambda x: x.sigmoid(), [rand(2, 3)]),
    ("Pow odd", lambda x: x ** 3, [rand(2, 3)]),
    ("Pow negative", lambda x: x ** -0.5, [rand(2, 3, low=0.2)]),
    ("Add", lambda x, y: x + y, [rand(2, 3), rand(3)]),
    ("Sub", lambda x, y: x - y, [rand(2, 3), rand(2, 1)]),
    ("Mul", lambda x, y: x * y, [rand(2, 3), rand(2, 3)]),
    ("Div", lambda x, y: x / y, [rand(2, 3), rand(2, 3, low=0.5)]),
    ("Maximum", lambda x, y: x.maximum(y), [rand(2, 3), rand(2, 3)]),
    ("Where", lambda x, y: edugrad.where(MASK, x, y), [rand(2, 3), rand(3)]),
    ("Sum", lambda x: x.sum(1), [rand(2, 3, 4)]),
    ("Sum all", lambda x: x.sum(), [rand(2, 3)]),
    ("Max", lambda x: x.amax(1), [rand(2, 3, 4)]),
    ("Max ties", lambda x: x.amax(), [Tensor([1.0, 3.0, 3.0, 2.0], dtype=edugrad.float64, requires_grad=True)]),
    ("Reshape", lambda x: x.reshape(3, 2) * Tensor(np.arange(6.0).reshape(3, 2), dtype=edugrad.float64), [rand(2, 3)]),
    ("Permute", lambda x: x.permute(2, 0, 1), [rand(2, 3, 4)]),
    ("Expand", lambda x: x.expand(2, 3, 4), [rand(3, 1)]),
    ("Pad", lambda x: F.pad(x, (1, 2, 0, 1)), [rand(2, 3)]),
    ("Shrink", lambda x: x[1:, :2], [rand(3, 4)]),
    ("Stride", lambda x: x[::2, 1::3], [rand(5, 7)]),
    ("Stride flip", lambda x: x.flip((0, 1)), [rand(2, 3)]),
    ("MaxPool2d overlapping", lambda x: F.max_pool2d(x, 3, stride=1), [rand(1, 2, 4, 5)]),
    ("MaxPool2d padded", lambda x: F.max_pool2d(x, 3, stride=2, padding=1), [rand(2, 5, 6)]),
    ("Window overlapping", lambda x: F.avg_pool2d(x, 3, stride=1, padding=1), [rand(1, 2, 4, 5)]),
    ("Window strided", lambda x: F.avg_pool2d(x, 2, stride=3, padding=1), [rand(1, 2, 6, 7)]),
    ("Window tiled", lambda x: F.avg_pool2d(x, 2), [rand(2, 1, 4, 5)]),
    ("MaxPool2d dilated", lambda x: F.max_pool2d(x, 2, stride=(1, 2), dilation=2), [rand(1, 1, 5, 6)]),
    ("Matmul", lambda x, y: x @ y, [rand(2, 3), rand(3, 4)]),
    ("Matmul batched", lambda x, y: x @ y, [rand(2, 1, 2, 3), rand(3, 3, 2)]),
    ("Conv2d", lambda x, w: F.conv2d(x, w), [rand(2, 2, 4, 4), rand(3, 2, 2, 2)]),
    ("Conv2d options", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, dilation=(2, 1), groups=2),
     [rand(1, 4, 5, 6), rand(2, 2, 2, 3), rand(2)]),
    ("Conv2d transposed", lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1),
     [rand(1, 2, 3, 3), rand(2, 1, 3, 3)]),
    ("Gather", lambda x: function.Gather.apply(x, Tensor([[2, 0, 2], [1, 1, 0]]), axis=1), [rand(2, 3)]),
    ("GeluTanh", function.GeluTanh.apply, [rand(2, 3)]),
    ("Softmax", lambda x: function.Softmax.apply(x, dim=1), [rand(2, 3)]),
    ("Cumsum", lambda x: function.Cumsum.apply(x, dim=1), [rand(2, 4)]),
    ("Linear", lambda x, w, b: function.Linear.apply(x, w, b), [rand(4, 3), rand(2, 3), rand(2)]),
    ("Linear without bias", lambda x, w: function.Linear.apply(x, w), [rand(4, 3), rand(2, 3)]),
    ("Cat", lambda x, y, z: function.Cat.apply(x, y, z, dim=1), [rand(2, 3), rand(2, 1), rand(2, 2)]),
    ("LogSoftmax", lambda x: function.LogSoftmax.apply(x, dim=0), [rand(2, 3)]),
    ("LayerNorm", lambda x: function.LayerNorm.apply(x, dims=(1, 2), eps=1e-5), [rand(2, 3, 4)]),
    ("Cos", function.Cos.apply, [rand(2, 3)]), ("Tanh", function.Tanh.apply, [rand(2, 3)]), ("Erf", function.Erf.apply, [rand(2, 3)]),
    ("IntPow", lambda x: function.IntPow.apply(x, exponent=3), [rand(2, 3)]),
    ("Power", function.Power.apply, [rand(2, 3, low=0.5), rand(2, 3)]),
    ("Step", lambda x: function.Floor.apply(x) + x, [Tensor([[0.25, -1.3, 2.6]], dtype=edugrad.float64, requires_grad=True)]),
    ("Remainder", function.Remainder.apply, [rand(2, 3), rand(2, 3, low=0.5)]),
]


@pytest.mark.parametrize("fn, inputs", [pytest.param(fn, inputs, id=name) for name, fn, inputs in FUNCTION_CASES])
def test_function_gradients(fn, inputs):
    assert gradcheck(fn, *inputs)


def test_every_function_is_checked():
    """A new Function in function.py needs a case here (Cast has its own test below)."""
    functions = {cls.__name__ for cls in Function.__subclasses__() if cls.__module__ == "edugrad.function"}
    checked = {name.split()[0] for name, _, _ in FUNCTION_CASES} | {"Cast"}
    assert functions - checked == set()


def test_cast():
    """Through float32 and back: the float32 rounding needs a larger step and tolerance."""
    assert gradcheck(lambda x: x.float().double() * 3, rand(2, 3), eps=1e-2, atol=1e-3)


@pytest.mark.parametrize("fn", [
    lambda x: x.softmax(1), lambda x: x.log_softmax(0), lambda x: x.logsumexp(1), lambda x: x.tanh(),
    lambda x: F.gelu(x), lambda x: F.gelu(x, approximate="tanh"), lambda x: F.mish(x), lambda x: F.softplus(x),
    lambda x: F.elu(x), lambda x: F.layer_norm(x, x.shape[-1]), lambda x: x.std(0), lambda x: x.var(1), lambda x: x.cumsum(1),
    lambda x: x.prod(1), lambda x: x.tril(), lambda x: x.repeat(2, 1), lambda x: F.pad(x, (1, 1), value=2.0),
    lambda x: edugrad.cat([x, x * 2], 1), lambda x: x[x > 0], lambda x: x[Tensor([2, 0, 2]), 1:],
    lambda x: F.scaled_dot_product_attention(x, x, x, is_causal=True),
    lambda x: F.cross_entropy(x, Tensor([1, 0, 3]), label_smoothing=0.1),
    lambda x: F.binary_cross_entropy_with_logits(x, edugrad.ones(3, 4) * 0.3),
    lambda x: F.conv1d(x.reshape(1, 3, 4), edugrad.ones(2, 3, 2, dtype=edugrad.float64), stride=2, padding=1),
])
def test_composed_ops_keep_float64_and_gradients(fn):
    """Ops derived from the Functions need no backward of their own; these check the derivation."""
    assert gradcheck(fn, rand(3, 4))


def test_float64_flows_and_int_inputs_pass_through():
    index = Tensor([[0], [2]])
    assert gradcheck(lambda x, i: x.gather(1, i) * 2.0, rand(2, 3), index)


def test_only_inputs_that_require_grad_are_checked():
    assert gradcheck(lambda x, y: x * y, rand(2, 3), rand(2, 3, grad=False))
    with pytest.raises(ValueError, match="nothing to check"):
        gradcheck(lambda x: x * 2, rand(2, grad=False))


class WrongSin(Function):
    """sin with a deliberately wrong derivative: -cos(x) instead of cos(x)."""

    def forward(self, x: TensorData) -> TensorData:
        self.x = x
        return x.unary(UnaryOps.SIN)

    def backward(self, grad: TensorData) -> TensorData:
        half_pi = type(self.x).const(np.pi / 2, self.x.shape, self.x.dtype)
        cos = half_pi.binary(BinaryOps.SUB, self.x).unary(UnaryOps.SIN)
        return grad.binary(BinaryOps.MUL, cos).unary(UnaryOps.NEG)


def test_catches_wrong_backward():
    """The error is 2|cos(x)| per element, largest at x = 0: that is the element the message names."""
    x = Tensor([[1.5, 0.0, 1.0]], dtype=edugrad.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match=r"input 0 \(shape \(1, 3\)\) is wrong at 3 of 3 elements; "
                                             r"worst at index \(0, 1\): analytic -?[\d.]+ vs numeric -?[\d.]+"):
        gradcheck(lambda x: WrongSin.apply(x).sum(), x)
    assert gradcheck(lambda x: WrongSin.apply(x), x, raise_exception=False) is False
    assert gradcheck(lambda x: x.sin(), x)  # the real Sin passes on the same input


def test_catches_float32_leak():
    with pytest.raises(GradcheckError, match="float32"):
        gradcheck(lambda x: x.float(), rand(2))
