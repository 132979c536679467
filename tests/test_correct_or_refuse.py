"""PyTorch's answer or a named refusal, for calls at the edges of the public API (issue 15).

Each case is a function of the library (`edugrad` or `torch`) and its `nn.functional`, run on both:

- VALUES: torch answers; edugrad must give the same values (nan where torch has nan), shape, dtype
  and requires_grad, and, where the case returns (output, input.grad), the same gradient.
- REFUSALS: torch refuses; edugrad must raise too, with a message that names the op and the values
  at fault (the regex), never a raw numpy error, a ZeroDivisionError or a hang.

The cases are grouped by the classes of the issue: sizes and arguments, shape checks, nan and inf,
integers and bools, precision, autograd edges, numpy interop, dtype arguments.
"""

from __future__ import annotations

import re
import signal
import warnings
from typing import Any, Callable

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import edugrad
import edugrad.nn.functional as EF

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::UserWarning")
inf, nan = float("inf"), float("nan")
BIG = 2 ** 24 + 1  # the first integer float32 cannot hold
Case = Callable[[Any, Any], Any]


def grad_of(op: Callable[..., Any], values: Any, dtype: str = "float32") -> Case:
    """A case giving (op(x), x.grad) for x = tensor(values), after backward of a ones gradient."""
    def case(L: Any, F: Any) -> Any:
        x = L.tensor(values, dtype=getattr(L, dtype), requires_grad=True)
        y = op(x, L, F)
        y.backward(L.ones_like(y))
        return y, x.grad
    return case


VALUES: dict[str, Case] = {
    # 1. sizes and arguments that are valid at the edge
    "zeros with a 0 dim": lambda L, F: L.zeros(2, 0),
    "arange backwards": lambda L, F: L.arange(5, 0, -1),
    "linspace of one step": lambda L, F: L.linspace(0, 1, 1),
    "eye 2x3": lambda L, F: L.eye(2, 3),
    "chunk(4) of 6": lambda L, F: L.arange(6.).chunk(4),
    "chunk(10) of 6": lambda L, F: L.arange(6.).chunk(10),
    "split([6, 0])": lambda L, F: L.arange(6.).split([6, 0]),
    "split of an empty dim": lambda L, F: L.ones(2, 0).split(2, 1),
    "chunk of an empty dim": lambda L, F: L.ones(0).chunk(3),
    "flip(0, 1)": lambda L, F: L.arange(6.).reshape(2, 3).flip(0, 1),
    "narrow at the end, length 0": lambda L, F: L.arange(6.).narrow(0, 6, 0),
    "narrow from a negative start": lambda L, F: L.arange(6.).narrow(0, -2, 2),
    "pad that crops": lambda L, F: F.pad(L.arange(4.), (-1, 1)),
    "pad that crops all": lambda L, F: F.pad(L.arange(4.), (-2, -2)),
    "tril below the diagonal": lambda L, F: L.ones(3, 4).tril(-1),
    "triu past the corner": lambda L, F: L.ones(3, 4).triu(10),
    "tril of a batch": lambda L, F: L.ones(2, 3, 3).tril(1),
    "topk(0)": lambda L, F: L.arange(3.).topk(0),
    "unflatten with -1": lambda L, F: L.ones(2, 6).unflatten(1, (-1, 2)),
    "conv2d padding='same'": lambda L, F: F.conv2d(L.ones(1, 2, 5, 5), L.ones(4, 2, 3, 3), padding="same"),
    "conv2d stride, padding, dilation": lambda L, F: F.conv2d(L.ones(1, 2, 5, 5), L.ones(4, 2, 3, 3), stride=2,
                                                            padding=1, dilation=2),
    "conv_transpose2d output_padding": lambda L, F: F.conv_transpose2d(L.ones(1, 2, 5, 5), L.ones(2, 3, 3, 3),
                                                                       stride=2, output_padding=1),
    "max_pool2d padding": lambda L, F: F.max_pool2d(L.arange(50.).reshape(1, 2, 5, 5), 3, stride=2, padding=1),
    "adaptive_avg_pool2d to more cells than pixels": lambda L, F: F.adaptive_avg_pool2d(
        L.arange(50.).reshape(1, 2, 5, 5), 7),
    # 2. shapes that broadcast legitimately
    "masked_fill with a broadcast mask": lambda L, F: L.ones(2, 3).masked_fill(L.tensor([True, False, True]), 0.0),
    "linear with a 1-D weight": lambda L, F: F.linear(L.arange(6.).reshape(2, 3), L.tensor([1.0, 2.0, 3.0])),
    "gather with a smaller index": lambda L, F: L.arange(6.).reshape(2, 3).gather(1, L.tensor([[2]])),
    "mask over the first dim": lambda L, F: L.arange(6.).reshape(2, 3)[L.tensor([True, False])],
    "copy_ broadcasts the source": lambda L, F: L.zeros(2, 3).copy_(L.arange(3.)),
    "batched matmul broadcast": lambda L, F: L.ones(2, 1, 3, 4) @ L.ones(5, 4, 2),
    "cross_entropy ignore_index": lambda L, F: F.cross_entropy(L.tensor([[1.0, 2.0], [0.0, 1.0]]), L.tensor([0, -100])),
    "cross_entropy all ignored": lambda L, F: F.cross_entropy(L.tensor([[1.0, 2.0]]), L.tensor([-100])),
    # 3. nan and inf
    "hardtanh keeps nan": lambda L, F: F.hardtanh(L.tensor([nan, 2.0, -2.0])),
    "relu6 keeps nan": lambda L, F: F.relu6(L.tensor([nan, 7.0])),
    "relu keeps nan": lambda L, F: F.relu(L.tensor([nan, -1.0])),
    "clamp keeps nan": lambda L, F: L.tensor([nan, 2.0]).clamp(0, 1),
    "clamp to a nan bound": lambda L, F: (L.tensor([0.5, 2.0]).clamp(nan, 1.0), L.tensor([0.5, 2.0]).clamp(max=nan)),
    "clamp to tensor bounds holding nan": grad_of(
        lambda x, L, F: x.clamp(L.tensor([nan, 0.0, 0.0]), L.tensor([1.0, 1.0, nan])), [0.5, 2.0, 0.5]),
    "clamp min > max": lambda L, F: L.tensor([0.5, 2.0, -1.0]).clamp(1.0, 0.0),
    "maximum with nan": lambda L, F: L.tensor([nan, 1.0]).maximum(L.tensor([0.0, nan])),
    "minimum with nan": lambda L, F: L.tensor([nan, 1.0]).minimum(L.tensor([0.0, nan])),
    "argmax with nan": lambda L, F: L.tensor([1.0, nan, 3.0]).argmax(),
    "argmin with nan": lambda L, F: L.tensor([1.0, nan, -3.0]).argmin(),
    "argmax of rows with nan": lambda L, F: L.tensor([[1.0, nan, 3.0], [4.0, 5.0, nan]]).argmax(1),
    "argmax of tied infs": lambda L, F: L.tensor([inf, 3.0, inf]).argmax(),
    "max with nan": lambda L, F: L.tensor([1.0, nan, 3.0]).max(),
    "max(dim) with nan": lambda L, F: tuple(L.tensor([[1.0, nan, 3.0]]).max(1)),
    "amin with nan": lambda L, F: L.tensor([[1.0, nan, 3.0]]).amin(1),
    "sort with nan": lambda L, F: tuple(L.tensor([3.0, nan, 1.0, -inf]).sort()),
    "sort descending with nan": lambda L, F: tuple(L.tensor([3.0, nan, 1.0, -inf]).sort(descending=True)),
    "topk with nan": lambda L, F: tuple(L.tensor([3.0, nan, 1.0]).topk(2)),
    "cumsum through inf": lambda L, F: L.tensor([1.0, inf, 2.0]).cumsum(0),
    "cumsum through -inf and inf": lambda L, F: L.tensor([1.0, -inf, inf, 2.0]).cumsum(0),
    "cumsum to overflow": lambda L, F: L.full((3,), 1e38).cumsum(0),
    "index next to inf": lambda L, F: L.tensor([inf, 1.0, 2.0])[[1, 2]],
    "index rows next to nan": lambda L, F: L.tensor([[inf, 1.0], [nan, 2.0]])[L.tensor([1])],
    "gather next to inf": lambda L, F: L.tensor([[inf, 1.0, nan]]).gather(1, L.tensor([[1]])),
    "embedding next to inf": lambda L, F: F.embedding(L.tensor([1]), L.tensor([[inf, 0.0], [1.0, 2.0]])),
    "cross_entropy with a -inf logit": grad_of(lambda x, L, F: F.cross_entropy(x, L.tensor([0, 1])),
                                               [[0.0, -inf], [1.0, 2.0]]),
    "cross_entropy with a -inf logit and weight": grad_of(
        lambda x, L, F: F.cross_entropy(x, L.tensor([0, 1]), weight=L.tensor([1.0, 2.0])), [[0.0, -inf], [1.0, 2.0]]),
    "cross_entropy with a -inf logit at the target": lambda L, F: F.cross_entropy(L.tensor([[-inf, 0.0]]), L.tensor([0])),
    "log_softmax with -inf": grad_of(lambda x, L, F: F.log_softmax(x, dim=1), [[0.0, -inf, 1.0]]),
    "softmax of all -inf": lambda L, F: F.softmax(L.tensor([[-inf, -inf]]), dim=1),
    "logsumexp of -inf rows": lambda L, F: L.tensor([[-inf, -inf], [0.0, -inf]]).logsumexp(1),
    "sign of nan and -0": lambda L, F: L.tensor([-inf, nan, -0.0, 2.0]).sign(),
    "nan <= 1": lambda L, F: L.tensor([nan]) <= 1,
    "nan >= 1": lambda L, F: L.tensor([nan]) >= 1,
    "nan != nan": lambda L, F: L.tensor([nan]) != L.tensor([nan]),
    "division by zero": lambda L, F: L.tensor([1.0, -1.0, 0.0]) / 0,
    "clamp gradient at the bounds": grad_of(lambda x, L, F: x.clamp(0, 1), [0.0, 1.0, 0.5, 2.0]),
    "max gradient of ties": grad_of(lambda x, L, F: x.max(), [1.0, 3.0, 3.0]),
    "maximum gradient of ties": grad_of(lambda x, L, F: x.maximum(L.tensor([1.0, 3.0, 0.0])), [1.0, 3.0, 3.0]),
    # 4. integers and bools
    "int64 past 2**24 through indexing": lambda L, F: L.tensor([BIG, 3, BIG + 2])[[0, 2]],
    "int64 past 2**24 through gather": lambda L, F: L.tensor([[BIG, 3]]).gather(1, L.tensor([[0, 0]])),
    "int64 cumsum": lambda L, F: L.tensor([BIG, 1, 2 ** 40]).cumsum(0),
    "int64 floor division": lambda L, F: L.tensor([BIG, -7, 7]) // 2,
    "int64 sort": lambda L, F: tuple(L.tensor([BIG + 1, BIG, 3]).sort()),
    "int64 masked_select": lambda L, F: L.tensor([BIG, 1])[L.tensor([True, False])],
    "int64 matmul": lambda L, F: L.tensor([[BIG, 1]]) @ L.tensor([[1], [1]]),
    "int ** int tensor": lambda L, F: L.tensor([2, 3]) ** L.tensor([3, 2]),
    "int tensor ** negative int tensor": lambda L, F: L.tensor([0, 1, -1, 2, -2]) ** L.tensor([-1, -1, -1, -1, -3]),
    "2 ** int tensor": lambda L, F: 2 ** L.tensor([3, 40]),
    "int64 ** 2": lambda L, F: L.tensor([BIG]) ** 2,
    "bool sum": lambda L, F: L.tensor([True, True]).sum(),
    "int32 cumsum": lambda L, F: L.tensor([1, 2], dtype=L.int32).cumsum(0),
    "float32 tensor + 0-d float64 tensor": lambda L, F: L.tensor([1.0]) + L.tensor(1.5, dtype=L.float64),
    "int tensor + 0-d float64 tensor": lambda L, F: L.tensor([1]) + L.tensor(1.5, dtype=L.float64),
    "bool tensor + 0-d int32 tensor": lambda L, F: L.tensor([True]) + L.tensor(2, dtype=L.int32),
    "bool + bool": lambda L, F: L.tensor([True]) + L.tensor([True]),
    "bool * 2.5": lambda L, F: L.tensor([True, False]) * 2.5,
    "~int": lambda L, F: ~L.tensor([5, -1]),
    **{f"{a} {op} {b}": (lambda L, F, a=a, op=op, b=b: eval(f"L.tensor({a}) {op} L.tensor({b})"))
       for op in ("&", "|", "^") for a, b in [("[12, -7]", "[10, 3]"), ("[True, False]", "[True, True]"),
                                              ("[2**40 + 3]", "[2**40 + 1]"), ("[True, False]", "[3, 2]")]},
    **{f"{a} {op} {b}": (lambda L, F, a=a, op=op, b=b: eval(f"L.tensor({a}) {op} L.tensor({b})"))
       for op in ("%", "//") for a, b in [("[7, -7, 7, -7]", "[3, 3, -3, -3]"), ("[7.5, -7.5, 7.5, -7.5]", "[2.0, 2.0, -2.0, -2.0]"),
                                          ("[BIG, 5]", "[2, 3]"), ("[7.0, -7.0, 0.0]", "[0.0, 0.0, 0.0]"),
                                          ("[inf, 1.0]", "[2.0, inf]"), ("[5.0, -5.0]", "[-inf, inf]")]},
    "7.0 // 0": lambda L, F: L.tensor([7.0, -7.0, 0.0]) // 0,
    "10 // int tensor": lambda L, F: 10 // L.tensor([3, 4]),
    "1e20 % 3": lambda L, F: L.tensor([1e20]) % 3.0,
    **{f"{fn} of inf, nan, 1e20 and halves": (lambda L, F, fn=fn: getattr(
        L.tensor([inf, -inf, nan, 1e20, -1e20, 2.5, -2.5, 0.5, -0.5, 1.5, -0.0]), fn)())
       for fn in ("floor", "ceil", "round", "trunc", "frac", "sign")},
    **{f"{fn} of int64": (lambda L, F, fn=fn: getattr(L.tensor([BIG, -3]), fn)()) for fn in ("floor", "ceil", "round", "trunc")},
    "int32 at its limit": lambda L, F: L.tensor([2 ** 31 - 1], dtype=L.int32),
    "float to int64 truncates": lambda L, F: L.tensor([3.7, -3.7]).to(L.int64),
    # 5. precision
    "cos(12345)": lambda L, F: L.tensor([12345.0, 1e4, 100.0]).cos(),
    "tanh(1e-8)": lambda L, F: L.tensor([1e-8, -1e-8, 1e-4, 0.5]).tanh(),
    "tanh gradient": grad_of(lambda x, L, F: x.tanh(), [1e-8, 3.0, 20.0]),
    "5.0 ** 3": lambda L, F: L.tensor([5.0, -3.0, 7.0]) ** 3,
    "x ** -2": lambda L, F: L.tensor([-3.0, 0.0]) ** -2,
    "0 ** 0": lambda L, F: L.tensor([0.0]) ** 0,
    "0 ** 0 as tensors": lambda L, F: L.tensor([0.0]) ** L.tensor([0.0]),
    "1 ** inf": lambda L, F: L.tensor([1.0]) ** inf,
    "1 ** nan": lambda L, F: L.tensor([1.0]) ** L.tensor([nan]),
    "nan ** 0": lambda L, F: L.tensor([nan]) ** 0,
    "-1 ** inf": lambda L, F: L.tensor([-1.0]) ** inf,
    "0 ** -1": lambda L, F: L.tensor([0.0, -0.0]) ** -1,
    "negative ** 1.5": lambda L, F: L.tensor([-4.0, 4.0]) ** 1.5,
    "-2 ** x": lambda L, F: (-2.0) ** L.tensor([2.0, 3.0, 0.5]),
    "x ** 2 gradient at 0": grad_of(lambda x, L, F: x ** 2, [0.0, -3.0]),
    "x ** 0.5 gradient at 0": grad_of(lambda x, L, F: x ** 0.5, [0.0, 4.0]),
    "0 ** x gradient": grad_of(lambda x, L, F: L.tensor([0.0, 2.0]) ** x, [2.0, 3.0]),
    "std of a constant": grad_of(lambda x, L, F: x.std(), [2.0, 2.0, 2.0]),
    "var of a constant": grad_of(lambda x, L, F: x.var(), [2.0, 2.0, 2.0]),
    "std of one value": grad_of(lambda x, L, F: x.std(), [2.0]),
    "std with too large a correction": lambda L, F: L.ones(2).std(correction=3),
    "std(dim) with a flat row": grad_of(lambda x, L, F: x.std(1, keepdim=True), [[1.0, 2.0], [3.0, 3.0]]),
    "erf near 0": lambda L, F: L.tensor([1e-8, 1e-5, -1e-7, 0.5, 3.0, -5.0, 0.0]).erf(),
    "erf gradient": grad_of(lambda x, L, F: x.erf(), [0.0, 1.0, -4.0]),
    "float64 cos(12345)": lambda L, F: L.tensor([12345.0], dtype=L.float64).cos(),
    "float64 erf": lambda L, F: L.tensor([1e-8, 0.3], dtype=L.float64).erf(),
    "gelu (erf)": lambda L, F: F.gelu(L.tensor([-1.0, 0.5, 1e-6, -10.0])),
    "sum of a million 0.1": lambda L, F: L.full((10 ** 6,), 0.1).sum(),
    # 6. autograd edges: piecewise-constant ops stay in the graph with zero gradients
    **{f"{fn} gives zero gradients": grad_of(lambda x, L, F, fn=fn: getattr(x, fn)(), [1.5, -2.5])
       for fn in ("sign", "floor", "ceil", "round", "trunc")},
    "x ** 0 gives zero gradients": grad_of(lambda x, L, F: x ** 0, [1.5, -2.5]),
    "remainder gradient": grad_of(lambda x, L, F: x % 2, [1.5, -2.5]),
    "frac gradient": grad_of(lambda x, L, F: x.frac(), [1.5, -2.5]),
    "prod gradient with a zero": grad_of(lambda x, L, F: x.prod(), [0.0, 2.0, 3.0]),
    "prod gradient with two zeros": grad_of(lambda x, L, F: x.prod(), [0.0, 0.0, 3.0]),
    "where gradient past a nan branch": grad_of(lambda x, L, F: L.where(x > 0, x.sqrt(), L.zeros(2)), [1.0, -1.0]),
    "gather gradient of repeated indices": grad_of(lambda x, L, F: x.gather(0, L.tensor([1, 1, 0])), [1.0, 2.0]),
    "embedding gradient skips padding_idx": grad_of(
        lambda w, L, F: F.embedding(L.tensor([0, 1, 0]), w, padding_idx=0), [[1.0, 2.0], [3.0, 4.0]]),
    "assigning None to .grad": lambda L, F: (lambda x: (setattr(x, "grad", None), x.grad)[1])(
        L.tensor([1.0], requires_grad=True)),
    "assigning a matching .grad": lambda L, F: (lambda x: (setattr(x, "grad", L.ones(2)), x.grad)[1])(
        L.tensor([1.0, 2.0], requires_grad=True)),
    "comparison results do not require grad": lambda L, F: L.tensor([1.0, 2.0], requires_grad=True) > 1,
    "argmax does not require grad": lambda L, F: L.tensor([1.0, 2.0], requires_grad=True).argmax(),
    # 7. numpy interop
    "np.float64 * tensor": lambda L, F: np.float64(2.0) * L.tensor([1.0, 2.0]),
    "tensor * np.float64": lambda L, F: L.tensor([1.0, 2.0]) * np.float64(2.0),
    "np.int64 + int tensor": lambda L, F: np.int64(2) + L.tensor([1, 2]),
    "np.asarray(tensor)": lambda L, F: np.asarray(L.tensor([1.0, 2.0])),
    "np.asarray(int tensor)": lambda L, F: np.asarray(L.tensor([1, 2])),
    "tensor(np.float64 scalar)": lambda L, F: L.tensor(np.float64(2.0)),
    "tensor(np.int32 scalar)": lambda L, F: L.tensor(np.int32(2)),
    "index by a numpy array": lambda L, F: L.arange(5.)[np.array([1, 3])],
    "index by a numpy bool mask": lambda L, F: L.arange(3.)[np.array([True, False, True])],
    "reshape by numpy ints": lambda L, F: L.arange(6.).reshape(np.int64(2), np.int64(3)),
    # 8. dtype arguments under PyTorch's names
    "dtype=float is float64": lambda L, F: L.zeros(2, dtype=float),
    "dtype=int is int64": lambda L, F: L.tensor([1.5, 2.0], dtype=int),
    "dtype=bool": lambda L, F: L.tensor([1.5, 0.0], dtype=bool),
    "dtype=L.double": lambda L, F: L.arange(3, dtype=L.double),
    "to(L.long)": lambda L, F: L.tensor([1.5, 2.0]).to(L.long),
    "to(device, dtype)": lambda L, F: L.tensor([1]).to("cpu", L.float32),
    "to(other tensor)": lambda L, F: L.tensor([1]).to(L.tensor([1.0], dtype=L.float64)),
    "softmax(dtype=float64) of ints": lambda L, F: L.tensor([1, 2]).softmax(0, dtype=L.float64),
    "cumsum(dtype=float32) of ints": lambda L, F: L.tensor([1, 2]).cumsum(0, dtype=L.float32),
    "is_floating_point": lambda L, F: (L.tensor([1]).is_floating_point(), L.float64.is_floating_point),
    "from_numpy float64": lambda L, F: L.from_numpy(np.array([1.5])),
}

REFUSALS: dict[str, tuple[Case, str]] = {
    # 1. sizes and arguments: the message names the op and the value at fault
    **{f"{fn}(-1)": ((lambda L, F, fn=fn: getattr(L, fn)(2, -3)), fn + r".*-3") for fn in ("zeros", "ones", "empty", "rand", "randn")},
    "zeros(10**12) refuses at once": (lambda L, F: L.zeros(10 ** 12).sum(), r"zeros|full.*memory"),
    "arange(0, 5, 0)": (lambda L, F: L.arange(0, 5, 0), r"arange.*step"),
    "arange(0, inf)": (lambda L, F: L.arange(0, inf), r"arange.*inf"),
    "split(1.5)": (lambda L, F: L.arange(6.).split(1.5), r"split.*1\.5"),
    "rand(0, -1)": (lambda L, F: L.rand(0, -1), r"rand.*-1"),
    "arange(0, 5, -1)": (lambda L, F: L.arange(0, 5, -1), r"arange.*step=-1"),
    "eye(-1)": (lambda L, F: L.eye(-1), r"eye.*-1"),
    "randint(5, 2)": (lambda L, F: L.randint(5, 2, (3,)), r"randint.*5.*2"),
    "randperm(-1)": (lambda L, F: L.randperm(-1), r"randperm.*-1"),
    "multinomial of a negative weight": (lambda L, F: L.multinomial(L.tensor([0.5, -0.1]), 1), r"multinomial.*< 0"),
    "multinomial of 0 samples": (lambda L, F: L.multinomial(L.tensor([0.5, 0.5]), 0), r"multinomial.*n_sample=0"),
    "rand(dtype=int64)": (lambda L, F: L.rand(2, dtype=L.int64), r"rand.*int64"),
    "randn(dtype=int64)": (lambda L, F: L.randn(2, dtype=L.int64), r"randn.*int64"),
    "reshape(-1, -1)": (lambda L, F: L.ones(4).reshape(-1, -1), r"reshape.*-1"),
    "reshape(3) of 4": (lambda L, F: L.ones(4).reshape(3), r"reshape.*3"),
    "expand(2, -2)": (lambda L, F: L.ones(1, 3).expand(2, -2), r"expand.*-2"),
    "repeat(-1)": (lambda L, F: L.ones(3).repeat(-1), r"repeat.*-1"),
    "chunk(0)": (lambda L, F: L.arange(6.).chunk(0), r"chunk.*0"),
    "chunk(-1)": (lambda L, F: L.arange(6.).chunk(-1), r"chunk.*-1"),
    "split(0)": (lambda L, F: L.arange(6.).split(0), r"split.*0"),
    "split([4, -1])": (lambda L, F: L.arange(6.).split([4, -1]), r"split.*-1"),
    "split([4, 3]) of 6": (lambda L, F: L.arange(6.).split([4, 3]), r"split.*6"),
    "narrow of a negative length": (lambda L, F: L.arange(6.).narrow(0, 1, -1), r"narrow.*-1"),
    "narrow past the end": (lambda L, F: L.arange(6.).narrow(0, 4, 3), r"narrow.*4.*3"),
    "pad past the size": (lambda L, F: F.pad(L.ones(3), (-5, 0)), r"pad.*-5"),
    "pad by a float": (lambda L, F: F.pad(L.ones(3), (1.5, 1)), r"pad.*1\.5"),
    "pad of an odd length": (lambda L, F: F.pad(L.ones(3), (1,)), r"pad.*\(1,\)"),
    "tril of a 1-D tensor": (lambda L, F: L.ones(3).tril(), r"tril.*\(3,\)"),
    "triu of a 1-D tensor": (lambda L, F: L.ones(3).triu(), r"triu.*\(3,\)"),
    "topk(4) of 3": (lambda L, F: L.arange(3.).topk(4), r"topk.*4"),
    "topk(-1)": (lambda L, F: L.arange(3.).topk(-1), r"topk.*-1"),
    "cat([])": (lambda L, F: L.cat([]), r"cat"),
    "stack of different shapes": (lambda L, F: L.stack([L.ones(2), L.ones(3)]), r"stack.*\(3,\).*\(2,\)"),
    "one_hot with too few classes": (lambda L, F: F.one_hot(L.tensor([0, 3]), 2), r"one_hot.*3"),
    "one_hot of a negative index": (lambda L, F: F.one_hot(L.tensor([0, -1]), 3), r"one_hot.*-1"),
    **{f"conv2d {kw}": ((lambda L, F, kw=kw: F.conv2d(L.ones(1, 2, 5, 5), L.ones(4, 2, 3, 3), **kw)),
                        r"conv2d.*" + re.escape(str(next(iter(kw.values())))))
       for kw in (dict(dilation=0), dict(padding=-1), dict(stride=0), dict(groups=0), dict(stride=-1), dict(groups=3),
                  dict(groups=2), dict(stride=(1, 1, 1)), dict(padding=1.5), dict(padding="bad"))},
    "conv2d padding='same' with stride 2": (lambda L, F: F.conv2d(L.ones(1, 2, 5, 5), L.ones(4, 2, 3, 3), stride=2,
                                                                  padding="same"), r"conv2d.*same"),
    "conv2d of the wrong channels": (lambda L, F: F.conv2d(L.ones(1, 3, 5, 5), L.ones(4, 2, 3, 3)), r"conv2d.*3.*2"),
    "conv2d kernel larger than the input": (lambda L, F: F.conv2d(L.ones(1, 2, 2, 2), L.ones(4, 2, 3, 3)), r"conv2d"),
    **{f"conv1d {kw}": ((lambda L, F, kw=kw: F.conv1d(L.ones(1, 2, 7), L.ones(4, 2, 3), **kw)),
                        r"conv1d.*" + re.escape(str(next(iter(kw.values())))))
       for kw in (dict(dilation=0), dict(padding=-1), dict(stride=0), dict(groups=0), dict(padding=(1, 2)))},
    **{f"conv_transpose2d {kw}": ((lambda L, F, kw=kw: F.conv_transpose2d(L.ones(1, 2, 5, 5), L.ones(2, 3, 3, 3), **kw)),
                                  r"conv_transpose2d.*" + re.escape(str(next(iter(kw.values())))))
       for kw in (dict(stride=0), dict(padding=-1), dict(dilation=0), dict(groups=0), dict(output_padding=2))},
    **{f"max_pool2d {kw}": ((lambda L, F, kw=kw: F.max_pool2d(L.ones(1, 2, 5, 5), **kw)),
                            r"max_pool2d.*" + re.escape(str(list(kw.values())[-1])))
       for kw in (dict(kernel_size=2, stride=0), dict(kernel_size=0), dict(kernel_size=-1), dict(kernel_size=2, padding=-1),
                  dict(kernel_size=2, padding=2), dict(kernel_size=2, dilation=0), dict(kernel_size=6))},
    "MaxPool2d(2, stride=0)": (lambda L, F: L.nn.MaxPool2d(2, stride=0)(L.ones(1, 2, 5, 5)), r"MaxPool2d|max_pool2d.*0"),
    "avg_pool2d stride=0": (lambda L, F: F.avg_pool2d(L.ones(1, 2, 5, 5), 2, stride=0), r"avg_pool2d.*0"),
    "adaptive_avg_pool2d(-1)": (lambda L, F: F.adaptive_avg_pool2d(L.ones(1, 2, 5, 5), -1), r"adaptive_avg_pool2d.*-1"),
    "nn.Linear(-1, 2)": (lambda L, F: L.nn.Linear(-1, 2), r"Linear.*-1"),
    "nn.Embedding(3, -1)": (lambda L, F: L.nn.Embedding(3, -1), r"Embedding.*-1"),
    "nn.Dropout(1.5)": (lambda L, F: L.nn.Dropout(1.5), r"Dropout.*1\.5"),
    "dropout(p=1.5)": (lambda L, F: F.dropout(L.ones(3), 1.5), r"dropout.*1\.5"),
    # 2. shape checks
    "linear of mismatched sizes": (lambda L, F: F.linear(L.ones(2, 3), L.ones(4, 2)), r"linear|matmul.*3.*2"),
    "linear with a wrong bias": (lambda L, F: F.linear(L.ones(2, 3), L.ones(4, 3), L.ones(3)), r"linear|add.*3.*4"),
    "layer_norm of a mismatched shape": (lambda L, F: F.layer_norm(L.ones(2, 3), (4,)), r"layer_norm.*\[4\].*\[2, 3\]"),
    "layer_norm of too long a shape": (lambda L, F: F.layer_norm(L.ones(3), (1, 3)), r"layer_norm.*\[1, 3\].*\[3\]"),
    "layer_norm with a wrong weight": (lambda L, F: F.layer_norm(L.ones(2, 3), (3,), L.ones(2)), r"layer_norm.*\(2,\)"),
    "binary_cross_entropy of (2, 1) and (2,)": (lambda L, F: F.binary_cross_entropy(L.full((2, 1), 0.5), L.ones(2)),
                                                r"binary_cross_entropy.*\(2,\).*\(2, 1\)"),
    "binary_cross_entropy_with_logits of (2, 1) and (2,)": (
        lambda L, F: F.binary_cross_entropy_with_logits(L.ones(2, 1), L.ones(2)), r"binary_cross_entropy_with_logits.*\(2,\)"),
    "binary_cross_entropy of an input past 1": (lambda L, F: F.binary_cross_entropy(L.tensor([1.5]), L.ones(1)),
                                                r"binary_cross_entropy.*input.*between 0 and 1"),
    "binary_cross_entropy of a target past 1": (lambda L, F: F.binary_cross_entropy(L.tensor([0.5]), L.tensor([2.0])),
                                                r"binary_cross_entropy.*target.*between 0 and 1"),
    "mse_loss of (2, 3) and (4,)": (lambda L, F: F.mse_loss(L.ones(2, 3), L.ones(4)), r"mse_loss.*\(4,\)"),
    "mse_loss reduction='avg'": (lambda L, F: F.mse_loss(L.ones(2), L.ones(2), reduction="avg"), r"mse_loss.*avg"),
    "huber_loss delta=0": (lambda L, F: F.huber_loss(L.ones(2), L.zeros(2), delta=0.0), r"huber_loss.*delta.*0"),
    "smooth_l1_loss beta=-1": (lambda L, F: F.smooth_l1_loss(L.ones(2), L.zeros(2), beta=-1.0), r"smooth_l1_loss.*-1"),
    "a bool mask of the wrong length": (lambda L, F: L.arange(4.)[L.tensor([True, False, True])], r"index.*\(3,\).*\(4,\)"),
    "a 2-D bool mask of the wrong shape": (lambda L, F: L.ones(2, 3)[L.tensor([[True, False], [True, False]])],
                                           r"index.*\(2, 2\).*\(2, 3\)"),
    "masked_fill with a mask that does not broadcast": (lambda L, F: L.ones(2, 3).masked_fill(L.tensor([True, False]), 0.0),
                                                        r"masked_fill.*\(2,\)"),
    "masked_fill with a float mask": (lambda L, F: L.ones(3).masked_fill(L.tensor([1.0, 0.0, 1.0]), 0.0),
                                      r"masked_fill.*float32"),
    "where with a float condition": (lambda L, F: L.where(L.tensor([1.0, 0.0]), L.ones(2), L.zeros(2)), r"where.*float32"),
    "where of shapes that do not broadcast": (lambda L, F: L.where(L.tensor([True, False]), L.ones(3), L.zeros(3)),
                                              r"where.*\(2,\).*\(3,\)"),
    "gather with a taller index": (lambda L, F: L.ones(2, 3).gather(1, L.tensor([[0], [1], [2]])), r"gather.*\(3, 1\)"),
    "gather with an index of another rank": (lambda L, F: L.ones(2, 3).gather(1, L.tensor([0, 1])), r"gather.*\(2,\)"),
    "gather past the end": (lambda L, F: L.ones(2, 3).gather(1, L.tensor([[3]])), r"gather.*3"),
    "gather of a negative index": (lambda L, F: L.ones(2, 3).gather(1, L.tensor([[-1]])), r"gather.*-1"),
    "gather by a float index": (lambda L, F: L.ones(2, 3).gather(1, L.tensor([[0.0]])), r"gather.*float32"),
    "index_select of a negative index": (lambda L, F: L.arange(3.).index_select(0, L.tensor([-1])), r"index_select.*-1"),
    "index_select past the end": (lambda L, F: L.ones(2, 3).index_select(1, L.tensor([3])), r"index_select.*3"),
    "embedding with a 1-D weight": (lambda L, F: F.embedding(L.tensor([0]), L.ones(3)), r"embedding.*\(3,\)"),
    "embedding padding_idx out of range": (lambda L, F: F.embedding(L.tensor([0]), L.ones(3, 2), padding_idx=5),
                                           r"embedding.*padding_idx 5"),
    "embedding by float indices": (lambda L, F: F.embedding(L.tensor([0.0]), L.ones(3, 2)), r"embedding.*float32"),
    "cross_entropy of 2 rows and 3 targets": (lambda L, F: F.cross_entropy(L.ones(2, 3), L.tensor([0, 1, 2])),
                                              r"cross_entropy|nll_loss.*3.*2"),
    "cross_entropy with a wrong weight": (lambda L, F: F.cross_entropy(L.ones(2, 3), L.tensor([0, 1]), weight=L.ones(2)),
                                          r"cross_entropy|nll_loss.*weight"),
    "cross_entropy label_smoothing=1.5": (lambda L, F: F.cross_entropy(L.ones(2, 3), L.tensor([0, 1]), label_smoothing=1.5),
                                          r"cross_entropy.*1\.5"),
    "nll_loss of a float target": (lambda L, F: F.nll_loss(L.zeros(2, 3), L.zeros(2)), r"nll_loss.*float32"),
    "matmul (2,) @ (3,)": (lambda L, F: L.ones(2) @ L.ones(3), r"matmul.*2.*3"),
    "matmul of a 0-d tensor": (lambda L, F: L.tensor(2.0) @ L.ones(2), r"matmul.*\(\)"),
    "mm of a 1-D tensor": (lambda L, F: L.ones(2).mm(L.ones(2, 2)), r"mm.*\(2,\)"),
    "dot of a 2-D tensor": (lambda L, F: L.ones(2, 2).dot(L.ones(2)), r"dot.*2D"),
    "scaled_dot_product_attention of mismatched heads": (
        lambda L, F: F.scaled_dot_product_attention(L.ones(1, 2, 4), L.ones(1, 3, 5), L.ones(1, 3, 4)),
        r"scaled_dot_product_attention|matmul.*4.*5"),
    "batch_norm with wrong running stats": (lambda L, F: F.batch_norm(L.ones(2, 3), L.zeros(4), L.ones(4)), r"batch_norm.*4.*3"),
    "BatchNorm1d of one sample in training": (lambda L, F: L.nn.BatchNorm1d(3)(L.ones(1, 3)), r"batch_norm|BatchNorm.*1"),
    "copy_ of the wrong shape": (lambda L, F: L.ones(3).copy_(L.ones(2)), r"copy_|expand.*\(2,\).*\(3,\)"),
    "add_ that would grow the tensor": (lambda L, F: L.zeros(3).add_(L.ones(2, 3)), r"add_|expand.*\(2, 3\)"),
    # 3. nan and inf
    "multinomial of nan": (lambda L, F: L.multinomial(L.tensor([nan, 1.0]), 1), r"multinomial.*nan"),
    "max of an empty tensor": (lambda L, F: L.ones(0).max(), r"max.*\(0,\)|max.*empty"),
    "argmax of an empty tensor": (lambda L, F: L.ones(0).argmax(), r"(argmax|amax).*\(0,\)"),
    # 4. integers and bools
    "bool - bool": (lambda L, F: L.tensor([True]) - L.tensor([True]), r"sub.*bool"),
    "bool - 1": (lambda L, F: L.tensor([True]) - 1, r"sub.*bool"),
    "int - bool": (lambda L, F: L.tensor([3]) - L.tensor([True]), r"sub.*bool"),
    "1 - bool": (lambda L, F: 1 - L.tensor([True]), r"sub.*bool"),
    "-bool": (lambda L, F: -L.tensor([True]), r"neg.*bool"),
    "bool % bool": (lambda L, F: L.tensor([True]) % L.tensor([True]), r"remainder.*bool"),
    "bool // bool": (lambda L, F: L.tensor([True]) // L.tensor([True]), r"floor_divide.*bool"),
    "~float": (lambda L, F: ~L.tensor([5.0]), r"float32"),
    **{f"float {op} float": ((lambda L, F, op=op: eval(f"L.tensor([1.0]) {op} L.tensor([1.0])")), r"bitwise.*float32")
       for op in ("&", "|", "^")},
    "int // 0": (lambda L, F: L.tensor([7]) // 0, r"floor_divide.*zero"),
    "int % 0": (lambda L, F: L.tensor([7]) % 0, r"remainder.*zero"),
    "int ** -1": (lambda L, F: L.tensor([3]) ** -1, r"pow.*negative"),
    **{f"{fn} of bools": ((lambda L, F, fn=fn: getattr(L.tensor([True, False]), fn)()), fn + r".*bool")
       for fn in ("floor", "ceil", "round", "trunc")},
    "frac of ints": (lambda L, F: L.tensor([1, 2]).frac(), r"frac.*int64"),
    "var of ints": (lambda L, F: L.tensor([1, 2]).var(), r"var.*int64"),
    "std of ints": (lambda L, F: L.tensor([1, 2]).std(), r"var.*int64"),
    "softmax of ints": (lambda L, F: L.tensor([1, 2]).softmax(0), r"softmax.*int64"),
    "log_softmax of ints": (lambda L, F: L.tensor([1, 2]).log_softmax(0), r"log_softmax.*int64"),
    "lerp of ints": (lambda L, F: L.tensor([1]).lerp(L.tensor([3]), 0.5), r"lerp.*int64"),
    "Tensor([2**40], dtype=int32)": (lambda L, F: L.tensor([2 ** 40], dtype=L.int32), r"1099511627776.*int32"),
    "Tensor([-2**31 - 1], dtype=int32)": (lambda L, F: L.tensor([-2 ** 31 - 1], dtype=L.int32), r"-2147483649.*int32"),
    "Tensor([2**63])": (lambda L, F: L.tensor([2 ** 63]), r"9223372036854775808"),
    "uint64 past int64": (lambda L, F: L.tensor(np.array([2 ** 63 + 5], dtype=np.uint64)), r"9223372036854775813"),
    "float 3e10 to int32": (lambda L, F: L.tensor([3e10], dtype=L.int32), r"30000000000.*int32"),
    "int tensor * 2**70": (lambda L, F: L.tensor([1]) * 2 ** 70, r"mul.*1180591620717411303424"),
    "a ragged list": (lambda L, F: L.tensor([[1, 2], [3]]), r"ragged|sequence"),
    "a list of strings": (lambda L, F: L.tensor(["a"]), r"str|<U1"),
    "int tensor requires_grad": (lambda L, F: L.tensor([1], requires_grad=True), r"floating|requires_grad"),
    # 6. autograd edges
    "backward with a gradient of the wrong shape": (
        lambda L, F: (L.tensor([1.0, 2.0], requires_grad=True) * 2).backward(L.ones(3)), r"backward.*\(3,\).*\(2,\)"),
    "backward of a non-scalar without a gradient": (
        lambda L, F: (L.tensor([1.0, 2.0], requires_grad=True) * 2).backward(), r"backward|grad.*scalar"),
    "backward of a tensor that does not require grad": (lambda L, F: L.tensor([1.0]).backward(), r"backward|grad"),
    "assigning a .grad of the wrong shape": (
        lambda L, F: setattr(L.tensor([1.0, 2.0], requires_grad=True), "grad", L.ones(3)), r"grad.*\(3,\).*\(2,\)"),
    "assigning a .grad of the wrong dtype": (
        lambda L, F: setattr(L.tensor([1.0, 2.0], requires_grad=True), "grad", L.ones(2, dtype=L.float64)), r"grad.*float64"),
    "assigning a list to .grad": (
        lambda L, F: setattr(L.tensor([1.0, 2.0], requires_grad=True), "grad", [1.0, 2.0]), r"grad.*list"),
    # 7. numpy interop
    "float() of two values": (lambda L, F: float(L.tensor([2.5, 1.0])), r"2|element"),
    "bool() of two values": (lambda L, F: bool(L.tensor([1.0, 2.0])), r"ambiguous|2"),
    "item() of two values": (lambda L, F: L.tensor([1.0, 2.0]).item(), r"item.*2|element"),
    # 8. dtype arguments
    "dtype=float16": (lambda L, F: L.tensor([1.0]).to(L.float16) if L is torch else L.zeros(2, dtype="float16"),
                      r"zeros.*float16"),
}
# torch accepts a half-precision tensor; edugrad refuses it by name (it computes in float32/float64)
# and uint64, which edugrad does not have: a value past int64 is refused instead of wrapped
TORCH_ANSWERS_BUT_EDUGRAD_REFUSES_BY_DESIGN = {"dtype=float16", "uint64 past int64"}


def _run(case: Case, lib: Any) -> Any:
    def timeout(*_: Any) -> None:
        raise TimeoutError("the call ran for more than 20 s")
    previous = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(20)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return case(lib, EF if lib is edugrad else TF)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def assert_same(ours: Any, theirs: Any, where: str = "output") -> None:
    """Same structure; tensors of the same shape, dtype, requires_grad and values (nan matching nan)."""
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, (tuple, list)) and len(ours) == len(theirs), f"{where}: {ours!r} vs torch's {theirs!r}"
        for k, (o, t) in enumerate(zip(ours, theirs)):
            assert_same(o, t, f"{where}[{k}]")
        return
    if theirs is None:
        assert ours is None, f"{where}: edugrad gave {ours!r}, torch None"
        return
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, edugrad.Tensor), f"{where}: edugrad gave {type(ours).__name__}, torch a Tensor"
        assert ours.requires_grad == theirs.requires_grad, f"{where}: requires_grad {ours.requires_grad} vs torch's"
        theirs = theirs.detach()
        assert ours.dtype.value == str(theirs.dtype).removeprefix("torch."), f"{where}: dtype {ours.dtype} vs {theirs.dtype}"
        ours, theirs = ours.detach().numpy(), theirs.numpy()
    elif isinstance(theirs, torch.dtype):
        assert str(ours).removeprefix("edugrad.") == str(theirs).removeprefix("torch."), f"{where}: {ours} vs {theirs}"
        return
    if isinstance(theirs, np.ndarray):
        assert isinstance(ours, np.ndarray), f"{where}: edugrad gave {type(ours).__name__}, torch an array"
        assert ours.shape == theirs.shape and ours.dtype == theirs.dtype, \
            f"{where}: {ours.shape} {ours.dtype} vs torch's {theirs.shape} {theirs.dtype}"
        if theirs.dtype.kind == "f":
            np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7, equal_nan=True, err_msg=where)
        else:
            np.testing.assert_array_equal(ours, theirs, err_msg=where)
        return
    assert ours == theirs, f"{where}: {ours!r} vs torch's {theirs!r}"


@pytest.mark.parametrize("name", list(VALUES))
def test_matches_torch(name: str) -> None:
    case = VALUES[name]
    assert_same(_run(case, edugrad), _run(case, torch))


@pytest.mark.parametrize("name", list(REFUSALS))
def test_refuses_by_name(name: str) -> None:
    case, pattern = REFUSALS[name]
    if name not in TORCH_ANSWERS_BUT_EDUGRAD_REFUSES_BY_DESIGN:
        with pytest.raises(Exception):
            _run(case, torch)
    with pytest.raises(Exception) as caught:
        _run(case, edugrad)
    error = caught.value
    assert not isinstance(error, (ZeroDivisionError, KeyError, AttributeError, RecursionError, TimeoutError)), \
        f"a raw {type(error).__name__}: {error}"
    assert type(error).__module__ == "builtins" or "edugrad" in type(error).__module__, f"raw {type(error)}: {error}"
    assert re.search(pattern, str(error)), f"the message {str(error)!r} does not match {pattern!r}"
