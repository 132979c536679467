"""Hypothesis explores shapes (size-1 and size-0 dims included) for broadcasting, reductions and
movement, comparing each case with PyTorch through the same `check` helper as test_ops."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st

import edugrad.nn.functional as F
import edugrad
from helpers import check

SETTINGS = settings(max_examples=30, deadline=None)


def shapes(min_dims: int = 0, max_dims: int = 4, min_side: int = 1, max_side: int = 4) -> st.SearchStrategy:
    return st.lists(st.integers(min_side, max_side), min_size=min_dims, max_size=max_dims).map(tuple)


@st.composite
def broadcastable(draw: st.DrawFn, count: int = 2, min_side: int = 1) -> list[tuple[int, ...]]:
    """Shapes that broadcast together: each drops some leading dims of a common shape and sets others to 1."""
    full = draw(shapes(min_side=min_side))

    def operand() -> tuple[int, ...]:
        kept = full[draw(st.integers(0, len(full))):]
        return tuple(1 if draw(st.booleans()) else s for s in kept)

    return [operand() for _ in range(count)]


BINARY = {
    "add": lambda x, y: x + y,
    "sub": lambda x, y: x - y,
    "mul": lambda x, y: x * y,
    "div": lambda x, y: x / y,
    "maximum": lambda x, y: x.maximum(y),
    "pow": lambda x, y: x ** y,
    "compare": lambda x, y: (x < y, x == y),
}


@SETTINGS
@given(st.sampled_from(sorted(BINARY)), broadcastable())
def test_broadcasting_binary(name, operand_shapes):
    check(BINARY[name], operand_shapes, low=0.5, high=2.0)


@SETTINGS
@given(broadcastable(min_side=0))
def test_broadcasting_with_empty_dims(operand_shapes):
    check(lambda x, y: x * y + y, operand_shapes)


@SETTINGS
@given(broadcastable(count=3))
def test_where_broadcasts_three_ways(operand_shapes):
    check(lambda c, x, y: edugrad.where(c > 0, x, y), operand_shapes, lambda c, x, y: torch.where(c > 0, x, y))


@st.composite
def dims_of(draw: st.DrawFn, shape: tuple[int, ...]) -> tuple[int, ...]:
    """A non-empty subset of the dims of shape, each written positive or negative at random."""
    chosen = draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, max_size=len(shape), unique=True))
    return tuple(d - len(shape) if draw(st.booleans()) else d for d in chosen)


REDUCTIONS = {
    "sum": lambda x, d, k: x.sum(d, keepdim=k),
    "mean": lambda x, d, k: x.mean(d, keepdim=k),
    "amax": lambda x, d, k: x.amax(d, keepdim=k),
    "amin": lambda x, d, k: x.amin(d, keepdim=k),
    "logsumexp": lambda x, d, k: x.logsumexp(d, keepdim=k),
    "var": lambda x, d, k: x.var(d, keepdim=k, correction=0),
}


@SETTINGS
@given(st.sampled_from(sorted(REDUCTIONS)), shapes(min_dims=1), st.booleans(), st.data())
def test_reductions(name, shape, keepdim, data):
    dims = data.draw(dims_of(shape))
    check(lambda x: REDUCTIONS[name](x, dims, keepdim), [shape])


@SETTINGS
@given(shapes(min_dims=1, min_side=0), st.booleans(), st.data())
def test_sum_with_empty_dims(shape, keepdim, data):
    dims = data.draw(dims_of(shape))
    check(lambda x: x.sum(dims, keepdim=keepdim), [shape])


@SETTINGS
@given(shapes(min_dims=1), st.data())
def test_single_dim_reductions(shape, data):
    d = data.draw(st.integers(-len(shape), len(shape) - 1))
    check(lambda x: (x.softmax(d), x.log_softmax(d), x.cumsum(d), x.argmax(d), x.max(d), x.prod(d)), [shape])


@SETTINGS
@given(shapes(min_side=0), st.data())
def test_permute(shape, data):
    order = data.draw(st.permutations(range(len(shape))))
    check(lambda x: x.permute(tuple(order)), [shape])


@SETTINGS
@given(shapes(min_side=0), st.data())
def test_reshape(shape, data):
    sizes = list(data.draw(st.permutations(shape))) + [1] * data.draw(st.integers(0, 2))
    if sizes and math.prod(shape) and data.draw(st.booleans()):
        sizes[data.draw(st.integers(0, len(sizes) - 1))] = -1
    check(lambda x: x.reshape(sizes), [shape])


@SETTINGS
@given(shapes(min_dims=1, min_side=0), st.data())
def test_pad(shape, data):
    k = data.draw(st.integers(1, len(shape)))
    pads: list[int] = []
    for size in reversed(shape[len(shape) - k:]):  # torch order: last dim first
        before = data.draw(st.integers(-size // 2 if size else 0, 2))
        after = data.draw(st.integers(-(size + min(before, 0)) // 2 if size else 0, 2))
        pads += [before, after]
    value = data.draw(st.sampled_from([0.0, -1.5]))
    check(lambda x: F.pad(x, pads, value=value), [shape], lambda x: TF.pad(x, pads, value=value))


@SETTINGS
@given(shapes(min_dims=1, min_side=0), st.data())
def test_slicing(shape, data):
    index = []
    covered = data.draw(st.integers(1, len(shape)))
    for size in shape[:covered]:
        kind = data.draw(st.sampled_from(["slice", "int", "none"] if size else ["slice", "none"]))
        if kind == "int":
            index.append(data.draw(st.integers(-size, size - 1)))
        elif kind == "none":
            index.append(None)
            index.append(slice(None))
        else:
            start = data.draw(st.none() | st.integers(-size - 1, size + 1))
            stop = data.draw(st.none() | st.integers(-size - 1, size + 1))
            index.append(slice(start, stop, data.draw(st.none() | st.integers(1, 3))))
    if data.draw(st.booleans()):  # an ellipsis stands for the dims not indexed, so it goes after them
        index.insert(data.draw(st.integers(0, len(index))) if covered == len(shape) else len(index), Ellipsis)
    check(lambda x: x[tuple(index)], [shape])


@SETTINGS
@given(shapes(min_dims=1, min_side=0), st.data())
def test_flip(shape, data):
    dims = data.draw(dims_of(shape))
    check(lambda x: x.flip(dims), [shape])


@SETTINGS
@given(shapes(), st.data())
def test_expand(shape, data):
    source = tuple(1 if data.draw(st.booleans()) else s for s in shape)
    new_dims = data.draw(shapes(max_dims=2))
    sizes = tuple(-1 if data.draw(st.booleans()) else s for s in shape)  # -1 keeps a dim's size
    check(lambda x: x.expand((*new_dims, *sizes)), [source])
