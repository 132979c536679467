"""Fuzzing the public API against PyTorch with arguments that are often invalid.

Hypothesis draws shapes (size-0 and size-1 dims included), dims, target shapes and indices that
are as likely to be wrong as right, and calls edugrad and PyTorch alike. The contract, per call:

- PyTorch raises: edugrad raises an Exception whose message is non-empty and names the op;
- PyTorch succeeds: edugrad returns the same shape and dtype and the same values, and where the
  result is a float tensor, the same gradient for the input.

Never a crash, never a numpy traceback, never a silently wrong shape. (test_properties.py
explores valid arguments in more depth; this file is about the boundary between valid and not.)
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, Sequence

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import edugrad
import edugrad.nn.functional as F
from edugrad import Tensor
from helpers import assert_same

FUZZ = settings(max_examples=40, deadline=None)
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::UserWarning")

Shape = tuple[int, ...]


def shapes(max_dims: int = 4, max_side: int = 3) -> st.SearchStrategy[Shape]:
    return st.lists(st.integers(0, max_side), max_size=max_dims).map(tuple)


def values(shape: Shape, seed: int = 0) -> np.ndarray:
    """Distinct values (no ties, so argmax and max's gradient are unambiguous), some negative."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    return (rng.permutation(n).astype(np.float32) - n / 3).reshape(shape) / max(n, 1)


def agree(ops: str | Sequence[str], ours: Callable[..., Any], theirs: Callable[..., Any],
          *arrays: np.ndarray, grad: bool = True) -> None:
    """Call `theirs` on torch tensors and `ours` on edugrad tensors of the same `arrays`; check the
    contract in the module docstring. `ops`: the names of which one must appear in an error."""
    names = [ops] if isinstance(ops, str) else list(ops)
    torch_in = [torch.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    ours_in = [Tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = theirs(*torch_in)
    except (RuntimeError, IndexError, ValueError, TypeError) as torch_error:
        with pytest.raises(Exception) as caught:
            ours(*ours_in)
        message = str(caught.value)
        assert message, f"edugrad raised {type(caught.value).__name__} with no message (torch: {torch_error})"
        assert any(name in message for name in names), \
            f"the message {message!r} names none of {names} (torch: {torch_error})"
        return

    try:
        result = ours(*ours_in)
    except Exception as error:
        raise AssertionError(f"torch succeeded with shape {tuple(expected.shape)}, edugrad raised "
                             f"{type(error).__name__}: {error}") from error
    if isinstance(expected, tuple):
        assert isinstance(result, tuple) and len(result) == len(expected), \
            f"edugrad returned {len(result) if isinstance(result, tuple) else result}, torch {len(expected)} tensors"
        if not expected:
            return
    pairs = list(zip(result, expected)) if isinstance(expected, tuple) else [(result, expected)]
    for ours_out, torch_out in pairs:
        assert isinstance(ours_out, Tensor), f"edugrad returned {type(ours_out).__name__}"
        assert ours_out.shape == tuple(torch_out.shape), f"shape {ours_out.shape} vs torch's {tuple(torch_out.shape)}"
        assert ours_out.dtype.value == str(torch_out.dtype).removeprefix("torch."), \
            f"dtype {ours_out.dtype.value} vs torch's {torch_out.dtype}"
        assert ours_out.requires_grad == torch_out.requires_grad, \
            f"requires_grad {ours_out.requires_grad} vs torch's {torch_out.requires_grad}"
        assert_same(ours_out, torch_out)

    first_ours, first_torch = pairs[0]
    if not (grad and torch_in and torch_in[0].requires_grad and first_torch.requires_grad):
        return
    upstream = values(tuple(first_torch.shape), seed=1) + 0.5
    first_torch.backward(torch.tensor(upstream))
    first_ours.backward(Tensor(upstream))
    expected_grad = torch_in[0].grad
    actual = ours_in[0].grad
    if expected_grad is None:  # the input does not reach the output in torch's graph
        assert actual is None or not actual.numpy().any()
    else:  # zeros included: a piecewise-constant op still gives a gradient
        assert actual is not None, f"torch has a gradient {expected_grad}, edugrad none"
        assert_same(actual, expected_grad, name="gradient")


def torch_accepts(call: Callable[[], bool]) -> bool:
    """Whether `call` returns True without raising."""
    try:
        return call()
    except (RuntimeError, IndexError, ValueError, TypeError):
        return False


# ---------------------------------------------------------------- reductions with random dims

dims = st.one_of(st.none(), st.integers(-5, 4),
                 st.lists(st.integers(-5, 4), min_size=1, max_size=3).map(tuple))

# name -> (names its errors may use, edugrad call, torch call); dim may be None, an int or a tuple
REDUCTIONS: dict[str, tuple[list[str], Callable[..., Any], Callable[..., Any]]] = {
    "sum": (["sum"], lambda x, d, k: x.sum(d, keepdim=k), lambda x, d, k: x.sum(d, keepdim=k)),
    "mean": (["mean"], lambda x, d, k: x.mean(d, keepdim=k), lambda x, d, k: x.mean(d, keepdim=k)),
    "amax": (["max"], lambda x, d, k: x.amax(d, keepdim=k),
             lambda x, d, k: x.amax(() if d is None else d, keepdim=k)),
    "amin": (["min"], lambda x, d, k: x.amin(d, keepdim=k),
             lambda x, d, k: x.amin(() if d is None else d, keepdim=k)),
    "var": (["var", "mean"], lambda x, d, k: x.var(d, keepdim=k), lambda x, d, k: x.var(d, keepdim=k)),
    "logsumexp": (["logsumexp", "max"], lambda x, d, k: x.logsumexp(d, keepdim=k),
                  lambda x, d, k: x.logsumexp(tuple(range(x.ndim)) if d is None else d, keepdim=k)),
}
# these take a single int dim
SINGLE_DIM: dict[str, tuple[list[str], Callable[..., Any], Callable[..., Any]]] = {
    "argmax": (["argmax", "max"], lambda x, d, k: x.argmax(d, keepdim=k), lambda x, d, k: x.argmax(d, keepdim=k)),
    "max_dim": (["max", "argmax"], lambda x, d, k: x.max(d, keepdim=k), lambda x, d, k: x.max(d, keepdim=k)),
    "prod": (["prod"], lambda x, d, k: x.prod(d, keepdim=k), lambda x, d, k: x.prod(d, keepdim=k)),
    "softmax": (["softmax", "max"], lambda x, d, k: x.softmax(d), lambda x, d, k: x.softmax(d)),
    "log_softmax": (["log_softmax", "max"], lambda x, d, k: x.log_softmax(d), lambda x, d, k: x.log_softmax(d)),
    "cumsum": (["cumsum"], lambda x, d, k: x.cumsum(d), lambda x, d, k: x.cumsum(d)),
}


@FUZZ
@given(st.sampled_from(sorted(REDUCTIONS)), shapes(), dims, st.booleans())
def test_reductions_with_random_dims(name: str, shape: Shape, dim: Any, keepdim: bool) -> None:
    ops, ours, theirs = REDUCTIONS[name]
    if name in ("amax", "amin") and dim is None and 0 in shape:
        return  # torch.amax(dim=()) of an empty tensor returns it unchanged; edugrad refuses (no maximum)
    agree(ops, lambda x: ours(x, dim, keepdim), lambda x: theirs(x, dim, keepdim), values(shape))


@FUZZ
@given(st.sampled_from(sorted(SINGLE_DIM)), shapes(), st.integers(-5, 4), st.booleans())
def test_single_dim_ops_with_random_dims(name: str, shape: Shape, dim: int, keepdim: bool) -> None:
    ops, ours, theirs = SINGLE_DIM[name]
    agree(ops, lambda x: ours(x, dim, keepdim), lambda x: theirs(x, dim, keepdim), values(shape))


# ---------------------------------------------------------------- movement with random arguments

@FUZZ
@given(shapes(), st.lists(st.integers(-2, 6), max_size=4))
def test_reshape_to_random_shapes(shape: Shape, target: list[int]) -> None:
    agree("reshape", lambda x: x.reshape(tuple(target)), lambda x: x.reshape(tuple(target)), values(shape))


@FUZZ
@given(shapes(), st.lists(st.integers(-5, 4), max_size=5))
def test_permute_with_random_orders(shape: Shape, order: list[int]) -> None:
    agree("permute", lambda x: x.permute(tuple(order)), lambda x: x.permute(tuple(order)), values(shape))


@FUZZ
@given(shapes(), st.integers(-5, 4), st.integers(-5, 4), st.sampled_from(["transpose", "flatten"]))
def test_two_dim_movement(shape: Shape, a: int, b: int, op: str) -> None:
    ops = [op, "dim"]
    if op == "transpose":
        agree(ops, lambda x: x.transpose(a, b), lambda x: x.transpose(a, b), values(shape))
    else:
        agree(ops, lambda x: x.flatten(a, b), lambda x: x.flatten(a, b), values(shape))


@FUZZ
@given(shapes(), st.integers(-6, 5), st.sampled_from(["squeeze", "unsqueeze"]))
def test_squeeze_and_unsqueeze(shape: Shape, dim: int, op: str) -> None:
    agree(op, lambda x: getattr(x, op)(dim), lambda x: getattr(x, op)(dim), values(shape))


@FUZZ
@given(shapes(max_dims=3), st.lists(st.integers(-1, 4), max_size=4))
def test_expand_to_random_shapes(shape: Shape, target: list[int]) -> None:
    if -1 in target[:max(len(target) - len(shape), 0)]:
        # torch refuses -1 for a new leading dim, except that with a size-0 dim it returns a shape
        # holding -1 itself; edugrad always refuses
        with pytest.raises(RuntimeError, match=r"expand: .*only allowed for existing dims"):
            Tensor(values(shape)).expand(tuple(target))
        return
    agree("expand", lambda x: x.expand(tuple(target)), lambda x: x.expand(tuple(target)), values(shape))


# ---------------------------------------------------------------- indexing

@st.composite
def index_items(draw: st.DrawFn, ndim: int) -> tuple[Any, ...]:
    def item() -> Any:
        kind = draw(st.sampled_from(["int", "slice", "none", "ellipsis", "list"]))
        if kind == "int":
            return draw(st.integers(-4, 4))
        if kind == "slice":
            bound = st.one_of(st.none(), st.integers(-5, 5))
            return slice(draw(bound), draw(bound), draw(st.one_of(st.none(), st.integers(-1, 3))))
        if kind == "none":
            return None
        if kind == "ellipsis":
            return Ellipsis
        return draw(st.lists(st.integers(-4, 4), min_size=1, max_size=3))
    return tuple(item() for _ in range(draw(st.integers(1, ndim + 2))))


@FUZZ
@given(shapes(), st.data())
def test_getitem_with_random_indices(shape: Shape, data: st.DataObject) -> None:
    items = data.draw(index_items(len(shape)))
    if sum(isinstance(i, list) for i in items) > 1:  # torch places the dims of several index lists its own way
        items = tuple(i for i in items if not isinstance(i, list)) + ([0],)
    if sum(i is Ellipsis for i in items) > 1:  # torch lets a 0-d tensor take several; numpy and edugrad refuse
        first = items.index(Ellipsis)
        items = tuple(i for k, i in enumerate(items) if i is not Ellipsis or k == first)
    if any(isinstance(i, list) for i in items) and torch_accepts(lambda: torch.zeros(shape)[items].numel() == 0):
        # torch does not bounds-check index lists when the result has no elements; edugrad does
        try:
            Tensor(values(shape))[items]
        except IndexError as error:
            assert "out of bounds" in str(error), str(error)
            return
    agree(["index", "slice", "ellipsis"], lambda x: x[items], lambda x: x[items], values(shape))


@FUZZ
@given(shapes(max_dims=3), st.integers(-4, 3), st.lists(st.integers(-4, 4), max_size=4))
def test_gather_with_random_indices(shape: Shape, dim: int, picks: list[int]) -> None:
    index_shape = tuple(len(picks) if i == (dim % max(len(shape), 1)) else min(s, 1) for i, s in enumerate(shape))
    index = np.resize(np.array(picks or [0], dtype=np.int64), index_shape)
    agree("gather", lambda x, i: x.gather(dim, i), lambda x, i: x.gather(dim, i), values(shape), index)


# ---------------------------------------------------------------- joining and broadcasting

@st.composite
def related_shapes(draw: st.DrawFn, count: int) -> list[Shape]:
    """Shapes that mostly agree with a base shape, sometimes in one dim or in rank too."""
    base = draw(shapes(max_dims=3))
    out = []
    for _ in range(count):
        s = list(base)
        change = draw(st.sampled_from(["same", "one dim", "rank"]))
        if change == "one dim" and s:
            s[draw(st.integers(0, len(s) - 1))] = draw(st.integers(0, 3))
        elif change == "rank":
            s = list(draw(shapes(max_dims=3)))
        out.append(tuple(s))
    return out


@FUZZ
@given(st.integers(1, 3).flatmap(related_shapes), st.integers(-4, 3), st.sampled_from(["cat", "stack"]))
def test_cat_and_stack_random_inputs(operand_shapes: list[Shape], dim: int, op: str) -> None:
    if op == "cat" and any(s == (0,) for s in operand_shapes):
        return  # torch.cat skips 1-D empty tensors of any other shape (a legacy rule); edugrad does not
    arrays = [values(s, seed=k) for k, s in enumerate(operand_shapes)]
    ours = getattr(edugrad, op)
    theirs = getattr(torch, op)
    agree([op, "dim"], lambda *xs: ours(list(xs), dim), lambda *xs: theirs(list(xs), dim), *arrays)


BINARY: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {
    "add": (lambda x, y: x + y, lambda x, y: x + y),
    "mul": (lambda x, y: x * y, lambda x, y: x * y),
    "sub": (lambda x, y: x - y, lambda x, y: x - y),
    "div": (lambda x, y: x / y, lambda x, y: x / y),
    "maximum": (lambda x, y: x.maximum(y), torch.maximum),
    "lt": (lambda x, y: x < y, lambda x, y: x < y),
    "where": (lambda x, y: edugrad.where(x > 0, x, y), lambda x, y: torch.where(x > 0, x, y)),
    "matmul": (lambda x, y: x @ y, lambda x, y: x @ y),
}


@FUZZ
@given(st.sampled_from(sorted(BINARY)), st.integers(2, 2).flatmap(related_shapes), shapes())
def test_binary_ops_on_random_shape_pairs(name: str, pair: list[Shape], other: Shape) -> None:
    ours, theirs = BINARY[name]
    x_shape, y_shape = pair if name != "matmul" or pair[0] != pair[1] else (pair[0], other)
    agree(name, ours, theirs, values(x_shape) + 2, values(y_shape, seed=1) + 2)


# ---------------------------------------------------------------- sizes and arguments, valid or not

SIZED: dict[str, tuple[list[str], Callable[..., Any], Callable[..., Any]]] = {
    "chunk": (["chunk"], lambda x, n, m: x.chunk(n, -1), lambda x, n, m: x.chunk(n, -1)),
    "split": (["split"], lambda x, n, m: x.split(n, -1), lambda x, n, m: x.split(n, -1)),
    "split_sections": (["split"], lambda x, n, m: x.split([n, m], -1), lambda x, n, m: x.split([n, m], -1)),
    "narrow": (["narrow"], lambda x, n, m: x.narrow(-1, n, m), lambda x, n, m: x.narrow(-1, n, m)),
    "pad": (["pad"], lambda x, n, m: F.pad(x, (n, m)), lambda x, n, m: torch.nn.functional.pad(x, (n, m))),
    "repeat": (["repeat"], lambda x, n, m: x.repeat(*([1] * (x.ndim - 1)), n), lambda x, n, m: x.repeat(*([1] * (x.ndim - 1)), n)),
    "tril": (["tril"], lambda x, n, m: x.tril(n), lambda x, n, m: x.tril(n)),
    "topk": (["topk"], lambda x, n, m: x.topk(n), lambda x, n, m: x.topk(n)),
}


@FUZZ
@given(st.sampled_from(sorted(SIZED)), shapes(max_dims=3), st.integers(-3, 5), st.integers(-3, 5))
def test_sizes_and_counts_valid_or_not(name: str, shape: Shape, n: int, m: int) -> None:
    if not shape:
        return  # these ops take a dim; 0-d tensors are covered elsewhere
    if name == "repeat" and n < 0 and 0 in shape:
        return  # torch skips its check of the repeats for an empty tensor; edugrad refuses -1 always
    errors, ours, theirs = SIZED[name]
    agree(errors, lambda x: tuple(ours(x, n, m)) if name in ("chunk", "split", "split_sections") else ours(x, n, m),
          lambda x: tuple(theirs(x, n, m)) if name in ("chunk", "split", "split_sections") else theirs(x, n, m),
          values(shape))


@FUZZ
@given(st.sampled_from(["zeros", "ones", "rand", "eye", "arange", "randperm"]), st.integers(-3, 4), st.integers(-3, 4))
def test_creation_with_sizes_valid_or_not(name: str, n: int, m: int) -> None:
    calls = {"zeros": lambda L: L.zeros(n, m), "ones": lambda L: L.ones(n, m), "rand": lambda L: L.rand(n, m).shape,
             "eye": lambda L: L.eye(n, m), "arange": lambda L: L.arange(n, m), "randperm": lambda L: L.randperm(n).shape}
    try:
        expected = calls[name](torch)
    except (RuntimeError, ValueError, TypeError) as torch_error:
        with pytest.raises(Exception, match=name) as caught:
            calls[name](edugrad)
        assert not isinstance(caught.value, ZeroDivisionError), f"{caught.value} (torch: {torch_error})"
        return
    result = calls[name](edugrad)
    if isinstance(expected, torch.Size):
        assert tuple(result) == tuple(expected)
    else:
        assert_same(result, expected)


# ---------------------------------------------------------------- nan, inf, huge and integer values

SPECIAL = [float("nan"), float("inf"), float("-inf"), 0.0, -0.0, 1e20, -1e20, 2.5, -2.5, 0.5, 7.0, -7.0]
INTEGERS = [0, 1, -1, 7, -7, 2 ** 24 + 1, -(2 ** 24 + 1), 2 ** 40 + 3]

ELEMENTWISE: dict[str, Callable[..., Any]] = {
    "floor": lambda x: x.floor(), "ceil": lambda x: x.ceil(), "round": lambda x: x.round(),
    "trunc": lambda x: x.trunc(), "sign": lambda x: x.sign(), "abs": lambda x: x.abs(),
    "clamp": lambda x: x.clamp(-1, 1), "relu": lambda x: x.relu(), "neg": lambda x: -x,
    "floor_divide": lambda x: x // 3, "remainder": lambda x: x % 3, "pow3": lambda x: x ** 3,
    "argmax": lambda x: x.argmax(-1), "argmin": lambda x: x.argmin(-1), "max": lambda x: x.amax(-1),
    "cumsum": lambda x: x.cumsum(-1), "sort": lambda x: x.sort(-1)[0], "sort_descending": lambda x: x.sort(-1, descending=True)[0],
    "gather": lambda x: x.gather(-1, x.new_tensor(np.zeros(x.shape, np.int64), dtype=edugrad.int64)
                                 if isinstance(x, Tensor) else torch.zeros(x.shape, dtype=torch.int64)),
    "index": lambda x: x[[1, 0, 1]], "flip": lambda x: x.flip(-1),
    "sum": lambda x: x.sum(-1),
}


@FUZZ
@given(st.sampled_from(sorted(ELEMENTWISE)), st.sampled_from(["float32", "float64", "int64"]), st.data())
def test_elementwise_on_special_values(name: str, dtype: str, data: st.DataObject) -> None:
    pool = INTEGERS if dtype == "int64" else SPECIAL
    row = data.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=6))
    array = np.array([row, row[::-1]], dtype=dtype)
    op = ELEMENTWISE[name]
    agree([name.split("_")[0], "pow", "remainder", "floor_divide", "max", "min", "sort"], op, op, array, grad=False)
