"""Bad input raises a Python exception that names the op and the shapes or values involved."""

from __future__ import annotations

import numpy as np
import pytest

import edugrad.nn.functional as F
import edugrad
from edugrad import Tensor


def test_matmul_inner_dims():
    with pytest.raises(RuntimeError, match=r"matmul.*\(3, 4\).*\(5, 6\).*4 and 5"):
        edugrad.ones(3, 4) @ edugrad.ones(5, 6)
    with pytest.raises(RuntimeError, match=r"matmul.*\(3,\).*\(4,\)"):
        edugrad.ones(3).dot(edugrad.ones(4))
    with pytest.raises(RuntimeError, match=r"matmul.*\(\)"):
        edugrad.ones(3) @ Tensor(2.0)


def test_matmul_batch_mismatch():
    with pytest.raises(RuntimeError, match=r"matmul.*\(2,\).*\(3,\)"):
        edugrad.ones(2, 3, 4) @ edugrad.ones(3, 4, 5)


def test_linear_shape_mismatch():
    with pytest.raises(RuntimeError, match=r"matmul.*\(2, 3\).*\(4, 5\)"):
        F.linear(edugrad.ones(2, 3), edugrad.ones(5, 4))


@pytest.mark.parametrize("op", [
    lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / b, lambda a, b: a < b,
    lambda a, b: a == b, lambda a, b: a.maximum(b), lambda a, b: edugrad.where(a > 0, a, b),
])
def test_broadcast_mismatch(op):
    with pytest.raises(RuntimeError, match=r"\(2, 3\).*\(4,\).*cannot be broadcast"):
        op(edugrad.ones(2, 3), edugrad.ones(4))


def test_reshape():
    with pytest.raises(RuntimeError, match=r"reshape: shape \(4, 2\) is invalid for input of size 6 \(shape \(2, 3\)\)"):
        edugrad.ones(2, 3).reshape(4, 2)
    with pytest.raises(RuntimeError, match=r"reshape: shape \(4, -1\).*\(2, 3\)"):
        edugrad.ones(2, 3).reshape(4, -1)
    with pytest.raises(RuntimeError, match=r"reshape: only one dim can be -1"):
        edugrad.ones(2, 3).reshape(-1, -1)
    with pytest.raises(TypeError, match=r"reshape: sizes must be integers"):
        edugrad.ones(2, 3).reshape(2.0, 3)


def test_movement_errors():
    with pytest.raises(RuntimeError, match=r"permute.*\(0, 0, 1\).*\(2, 3, 4\)"):
        edugrad.ones(2, 3, 4).permute(0, 0, 1)
    with pytest.raises(RuntimeError, match=r"expand.*\(2, 3\).*\(4, 3\)"):
        edugrad.ones(2, 3).expand(4, 3)
    with pytest.raises(ValueError, match=r"pad.*\(1, 1, 1, 1, 1, 1\).*\(2, 3\)"):
        F.pad(edugrad.ones(2, 3), (1, 1, 1, 1, 1, 1))
    with pytest.raises(RuntimeError, match=r"split.*\[1, 1\].*size 3"):
        edugrad.ones(3).split([1, 1])


def test_cat_mismatch():
    with pytest.raises(RuntimeError, match=r"cat: tensor 1 has shape \(2, 4\).*\(2, 3\)"):
        edugrad.cat([edugrad.ones(2, 3), edugrad.ones(2, 4)], dim=0)
    with pytest.raises(RuntimeError, match=r"cat: tensor 1 has shape \(2,\).*\(2, 3\)"):
        edugrad.cat([edugrad.ones(2, 3), edugrad.ones(2)])
    with pytest.raises(RuntimeError, match="cat: expected a non-empty list"):
        edugrad.cat([])


def test_stack_mismatch():
    with pytest.raises(RuntimeError, match=r"stack: tensor 2 has shape \(3, 2\).*\(2, 3\)"):
        edugrad.stack([edugrad.ones(2, 3), edugrad.ones(2, 3), edugrad.ones(3, 2)])


@pytest.mark.parametrize("op, name", [
    (lambda x: x.sum(2), "sum"), (lambda x: x.mean(-3), "mean"), (lambda x: x.amax(5), "max"),
    (lambda x: x.softmax(2), "max"), (lambda x: x.transpose(0, 2), "transpose"),
    (lambda x: x.unsqueeze(3), "unsqueeze"), (lambda x: x.squeeze(2), "squeeze"), (lambda x: x.flip(2), "flip"),
    (lambda x: x.argmax(2), "argmax"), (lambda x: x.cumsum(2), "cumsum"), (lambda x: x.split(1, dim=2), "split"),
    (lambda x: edugrad.cat([x, x], dim=2), "cat"), (lambda x: edugrad.stack([x, x], dim=3), "stack"),
    (lambda x: x.flatten(2), "flatten"), (lambda x: x.gather(2, Tensor([[0]])), "gather"),
])
def test_dim_out_of_range(op, name):
    with pytest.raises(IndexError, match=rf"{name}: dim -?\d is out of range for a tensor of shape \(2, 3\)"):
        op(edugrad.ones(2, 3))


def test_dim_not_integer():
    with pytest.raises(TypeError, match=r"sum: dim must be an integer"):
        edugrad.ones(2, 3).sum(1.0)
    with pytest.raises(ValueError, match=r"sum: dim \(1, -1\) names the same dim twice"):
        edugrad.ones(2, 3).sum((1, -1))


def test_non_integer_index_tensor():
    with pytest.raises(IndexError, match="index tensors must be integers, got float32"):
        edugrad.ones(3)[Tensor([0.0, 1.0])]
    with pytest.raises(IndexError, match="gather: index tensors must be integers, got float32"):
        edugrad.ones(2, 3).gather(1, Tensor([[0.0], [1.0]]))


def test_index_out_of_range():
    with pytest.raises(IndexError, match=r"index 3 is out of range for dim 0 with size 3"):
        edugrad.ones(3, 2)[3]
    with pytest.raises(IndexError, match=r"index -4 is out of range for dim 1 with size 3"):
        edugrad.ones(2, 3)[0, -4]
    with pytest.raises(IndexError, match=r"index 5 is out of bounds for dim of size 3"):
        edugrad.ones(3)[Tensor([0, 5])]
    with pytest.raises(IndexError, match=r"index -4 is out of bounds for dim of size 3"):
        edugrad.ones(3)[[-4]]
    with pytest.raises(IndexError, match=r"gather: index 3 is out of bounds for dim of size 3"):
        edugrad.ones(2, 3).gather(1, Tensor([[3], [0]]))
    with pytest.raises(IndexError, match=r"gather: index -1 is out of bounds for dim of size 3"):
        edugrad.ones(2, 3).gather(1, Tensor([[-1], [0]]))  # as torch.gather, no negative indices
    with pytest.raises(IndexError, match=r"too many indices for a tensor of shape \(2, 3\): 3 given"):
        edugrad.ones(2, 3)[0, 0, 0]


def test_unsupported_index():
    with pytest.raises(TypeError, match=r"index: unsupported index 'a'"):
        edugrad.ones(3)["a"]
    with pytest.raises(ValueError, match="slice step must be positive"):
        edugrad.ones(3)[::-1]
    # In-place item assignment is supported (as PyTorch), except on a leaf that requires grad.
    t = edugrad.ones(3)
    t[0] = 5.0
    np.testing.assert_array_equal(t.numpy(), [5.0, 1.0, 1.0])
    with pytest.raises(RuntimeError, match=r"__setitem__: a leaf tensor that requires grad.*can't be changed in place"):
        edugrad.ones(3, requires_grad=True)[0] = 1.0


def test_unsupported_input_types():
    with pytest.raises(TypeError, match="Tensor: cannot make a tensor from object"):
        Tensor(object())
    with pytest.raises(TypeError, match="Tensor: unsupported element type"):
        Tensor(np.array(["a", "b"]))
    with pytest.raises(ValueError, match="ragged"):
        Tensor([[1, 2], [3]])
    with pytest.raises(TypeError, match="add: unsupported operand type str"):
        edugrad.ones(2) + "a"
    with pytest.raises(TypeError, match="mul: unsupported operand type list"):
        edugrad.ones(2) * [1, 2]
    with pytest.raises(TypeError, match="sub: unsupported operand type str"):
        "a" - edugrad.ones(2)
    with pytest.raises(TypeError, match="matmul: expected a Tensor"):
        edugrad.ones(2, 2).matmul(np.ones((2, 2)))
    with pytest.raises(TypeError, match=r"zeros: sizes must be integers"):
        edugrad.zeros(2.5)


def test_conv_channel_mismatch():
    with pytest.raises(RuntimeError, match=r"conv2d: input has 3 channels.*\(4, 2, 3, 3\)"):
        F.conv2d(edugrad.ones(1, 3, 5, 5), edugrad.ones(4, 2, 3, 3))
    with pytest.raises(RuntimeError, match=r"conv2d: input has 4 channels and groups=3"):
        F.conv2d(edugrad.ones(1, 4, 5, 5), edugrad.ones(3, 1, 3, 3), groups=3)
    # An unbatched (C, H, W) input is accepted, as in PyTorch; a 2-d one is not.
    assert F.conv2d(edugrad.ones(3, 5, 5), edugrad.ones(4, 3, 3, 3)).shape == (4, 3, 3)
    with pytest.raises(RuntimeError, match=r"conv2d: expected input \(N, C, H, W\).*\(5, 5\)"):
        F.conv2d(edugrad.ones(5, 5), edugrad.ones(4, 3, 3, 3))
    with pytest.raises(RuntimeError, match=r"conv2d: kernel \(5, 5\).*larger than the padded input \(3, 3\)"):
        F.conv2d(edugrad.ones(1, 1, 3, 3), edugrad.ones(1, 1, 5, 5))
    with pytest.raises(RuntimeError, match=r"conv_transpose2d: input has 3 channels"):
        F.conv_transpose2d(edugrad.ones(1, 3, 4, 4), edugrad.ones(2, 2, 3, 3))


def test_pool_errors():
    with pytest.raises(RuntimeError, match=r"max_pool2d: kernel \(4, 4\) is larger"):
        F.max_pool2d(edugrad.ones(1, 1, 3, 3), 4)
    with pytest.raises(RuntimeError, match=r"avg_pool2d: expected \(N, C, H, W\)"):
        F.avg_pool2d(edugrad.ones(3, 3), 2)


def test_loss_errors():
    with pytest.raises(ValueError, match=r"cross_entropy: input \(3, 4\) needs integer targets of shape \(3,\)"):
        F.cross_entropy(edugrad.ones(3, 4), Tensor([0, 1]))
    with pytest.raises(IndexError, match=r"cross_entropy: target 4 is out of bounds for 4 classes"):
        F.cross_entropy(edugrad.ones(2, 4), Tensor([0, 4]))
    with pytest.raises(ValueError, match=r"nll_loss: input \(3, 4\) needs integer targets of shape \(3,\)"):
        F.nll_loss(edugrad.ones(3, 4), Tensor([0, 1, 2, 3]))
    with pytest.raises(ValueError, match=r"mse_loss: reduction must be 'mean', 'sum' or 'none'"):
        F.mse_loss(edugrad.ones(3), edugrad.ones(3), reduction="avg")
    with pytest.raises(ValueError, match=r"cross_entropy: probability targets must match input shape"):
        F.cross_entropy(edugrad.ones(3, 4), edugrad.ones(3, 5))


def test_scalar_conversions():
    with pytest.raises(RuntimeError, match=r"item: only a tensor with one element.*\(2,\)"):
        edugrad.ones(2).item()
    with pytest.raises(RuntimeError, match=r"bool: the truth value of a tensor with shape \(2,\) is ambiguous"):
        bool(edugrad.ones(2))
    with pytest.raises(ValueError, match=r"dropout: probability has to be between 0 and 1, but got 1.5"):
        F.dropout(edugrad.ones(2), 1.5)
