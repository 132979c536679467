"""The backend conformance kit: every primitive op of a backend, checked against plain numpy.

Each test lets hypothesis pick random inputs (at most 4 dims of at most 5 elements, size-0 and
size-1 axes included), runs one op of the backend under test, and compares shape, dtype and
values with an answer computed right here with numpy, never with NumpyData, so the numpy backend
is under test too. Float answers are computed in float64 and then rounded to the op's dtype.
Inputs arrive in four layouts (contiguous, permuted, shrunk, offset), so ops also meet the
unusual strides and offsets of views.

To check a new backend, name its TensorData subclass:

    EDUGRAD_CONFORMANCE_BACKENDS=mypkg.mymod:MyData python -m pytest tests/backend

EDUGRAD_CONFORMANCE_BACKENDS is a comma-separated list of built-in backend names (numpy, torch,
python) and "module:Class" paths. Unset, it means the three built-ins, and torch is skipped when
it is not installed.
"""

from __future__ import annotations

import importlib.util
import math
import os
from typing import Any, Callable

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edugrad.backend import BACKENDS, load_backend
from edugrad.backend.base import Shape, TensorData
from edugrad.ops import BinaryOps, DType, ReduceOps, UnaryOps

Backend = type[TensorData]


def backends_under_test() -> list[Any]:
    """One pytest parameter per backend; built-ins that cannot be imported are skipped, unless asked for."""
    requested = os.environ.get("EDUGRAD_CONFORMANCE_BACKENDS", "")
    names = [name.strip() for name in requested.split(",") if name.strip()] or list(BACKENDS)
    params = []
    for name in names:
        try:
            params.append(pytest.param(load_backend(name), id=name))  # a name or a module:Class path
        except ImportError as e:
            # Skip only the torch backend, and only when torch is not installed: a broken import
            # of a backend module itself must fail, not vanish into a skip.
            if requested or name != "torch" or importlib.util.find_spec("torch") is not None:
                raise
            params.append(pytest.param(None, id=name, marks=pytest.mark.skip(reason=str(e))))
    return params


pytestmark = [
    pytest.mark.parametrize("backend", backends_under_test()),
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),  # numpy warns on log2(0), 1/0, ...
]
conformance = settings(max_examples=25, deadline=None)

FLOATS = [DType.float32, DType.float64]
INTS = [DType.int32, DType.int64]
NUMBERS = FLOATS + INTS
ALL_DTYPES = list(DType)
RTOL = {DType.float32: 1e-5, DType.float64: 1e-10}
SPECIALS = [math.inf, -math.inf, math.nan]


# ---- strategies ----
def shapes(min_dims: int = 0, max_dims: int = 4, min_side: int = 0, max_side: int = 5) -> st.SearchStrategy[Shape]:
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def elements(dtype: DType, specials: bool = False) -> st.SearchStrategy[Any]:
    """Element values: small numbers, often ones that tie (0, -0, 1, ...), with inf and nan if asked."""
    if dtype == DType.bool:
        return st.booleans()
    if not dtype.is_float:
        return st.integers(-100, 100)
    finite = st.floats(-200, 200, width=32 if dtype == DType.float32 else 64, allow_subnormal=False)
    values = finite | st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, 2.0])
    return (values | st.sampled_from(SPECIALS)) if specials else values


def arrays(data: st.DataObject, dtype: DType, shape: Shape, specials: bool = False) -> np.ndarray:
    return data.draw(hnp.arrays(np.dtype(dtype.value), shape, elements=elements(dtype, specials)))


def load(backend: Backend, array: np.ndarray, data: st.DataObject) -> TensorData:
    """`array` in the backend, as a plain copy or as a view with other strides or an offset."""
    layout = data.draw(st.sampled_from(["contiguous", "permuted", "shrunk", "offset"]), label="layout")
    if layout == "permuted" and array.ndim >= 2:
        reverse = tuple(reversed(range(array.ndim)))  # its own inverse
        return backend.from_host(np.ascontiguousarray(array.transpose(reverse))).permute(reverse)
    if layout in ("shrunk", "offset") and array.ndim >= 1:
        # shrunk: the middle of a larger array; offset: rows 1.. of one, still contiguous in memory
        padding = [(1, 1)] * array.ndim if layout == "shrunk" else [(1, 0)] + [(0, 0)] * (array.ndim - 1)
        bounds = tuple((before, before + n) for n, (before, _) in zip(array.shape, padding))
        return backend.from_host(np.pad(array, padding)).shrink(bounds)
    return backend.from_host(array)


def draw_input(
    data: st.DataObject, backend: Backend, dtype: DType, shape: Shape, specials: bool = False
) -> tuple[np.ndarray, TensorData]:
    """A random array of `dtype` and `shape`, and the same array loaded into the backend."""
    array = arrays(data, dtype, shape, specials)
    return array, load(backend, array, data)


# ---- the one comparison every test ends with ----
def check(result: TensorData, expected: np.ndarray, scale: np.ndarray | None = None) -> None:
    """`result` has expected's shape, dtype and values (floats within tolerance, others exactly).

    `scale` is, per element, the size of the terms that were added up (for SUM and MATMUL): the
    absolute tolerance grows with it, since rounding errors do."""
    expected = np.asarray(expected)  # numpy gives 0-d results as scalars
    assert isinstance(result, TensorData)
    assert isinstance(result.shape, tuple) and all(type(n) is int for n in result.shape), result.shape
    assert result.shape == expected.shape, f"shape {result.shape}, expected {expected.shape}"
    assert result.dtype == DType(expected.dtype.name), f"dtype {result.dtype}, expected {expected.dtype}"
    host = result.to_host()
    assert isinstance(host, np.ndarray)
    assert host.shape == expected.shape and host.dtype == expected.dtype, (host.shape, host.dtype)
    if result.dtype.is_float:
        rtol = RTOL[result.dtype]
        atol = rtol * max(0.1, float(np.max(scale, initial=0.0)) if scale is not None else 0.0)
        np.testing.assert_allclose(host, expected, rtol=rtol, atol=atol, equal_nan=True)
    else:
        np.testing.assert_array_equal(host, expected)


def magnitudes(x: np.ndarray) -> np.ndarray:
    """|x| in float64, with inf and nan counted as 0 (they match exactly, not within a tolerance)."""
    x = np.abs(x.astype(np.float64))
    return np.where(np.isfinite(x), x, 0.0)


# ---- load ops ----
@conformance
@given(data=st.data())
def test_from_host_to_host(backend: Backend, data: st.DataObject) -> None:
    dtype = data.draw(st.sampled_from(ALL_DTYPES))
    array = arrays(data, dtype, data.draw(shapes(min_dims=1)), specials=True)
    views = {"contiguous": array, "transposed": array.T, "reversed": array[::-1]}  # torch dislikes the last
    view = views[data.draw(st.sampled_from(list(views)), label="host view")]
    expected = view.copy()
    result = backend.from_host(view)
    array[...] = np.zeros_like(array)  # from_host copied: later writes to the source don't show
    check(result, expected)


@conformance
@given(data=st.data())
def test_const(backend: Backend, data: st.DataObject) -> None:
    dtype = data.draw(st.sampled_from(ALL_DTYPES))
    shape = data.draw(shapes())
    finite = st.booleans() | st.integers(-1000, 1000) | st.floats(-1000, 1000, allow_nan=False, allow_infinity=False)
    value = data.draw((finite | st.sampled_from(SPECIALS)) if dtype.is_float else finite)
    check(backend.const(value, shape, dtype), np.full(shape, np.array(value, dtype=dtype.value)))


@conformance
@given(shape=shapes(), seed=st.integers(0, 2**32 - 1))
def test_random_is_uniform_float32_and_reproducible(backend: Backend, shape: Shape, seed: int) -> None:
    backend.seed(seed)
    first = backend.random(shape)
    assert first.shape == shape and first.dtype == DType.float32
    values = first.to_host()
    assert values.dtype == np.float32 and values.shape == shape
    assert np.all((values >= 0) & (values < 1))
    backend.seed(seed)
    check(backend.random(shape), values)


def test_random_stream_moves_on_and_looks_uniform(backend: Backend) -> None:
    backend.seed(1234)
    first, second = backend.random((64,)).to_host(), backend.random((64,)).to_host()
    assert not np.array_equal(first, second)
    sample = backend.random((4096,)).to_host()
    assert 0.45 < sample.mean() < 0.55 and len(np.unique(sample)) > 4000


# ---- elementwise ops ----
REFERENCE_UNARY: dict[UnaryOps, Callable[[np.ndarray], np.ndarray]] = {
    UnaryOps.EXP2: np.exp2,
    UnaryOps.LOG2: np.log2,
    UnaryOps.SIN: np.sin,
    UnaryOps.COS: np.cos,
    UnaryOps.TANH: np.tanh,
    UnaryOps.SQRT: np.sqrt,
    UnaryOps.NEG: np.negative,
    UnaryOps.RECIPROCAL: np.reciprocal,
}
REFERENCE_BINARY: dict[BinaryOps, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    BinaryOps.ADD: np.add,
    BinaryOps.SUB: np.subtract,
    BinaryOps.MUL: np.multiply,
    BinaryOps.DIV: np.divide,
    BinaryOps.IDIV: np.floor_divide,
    BinaryOps.MOD: np.remainder,
    BinaryOps.MAX: np.maximum,
    BinaryOps.CMPLT: np.less,
    BinaryOps.CMPEQ: np.equal,
    BinaryOps.AND: np.bitwise_and,
    BinaryOps.OR: np.bitwise_or,
    BinaryOps.XOR: np.bitwise_xor,
}
BINARY_DTYPES = {
    BinaryOps.ADD: NUMBERS,
    BinaryOps.SUB: NUMBERS,
    BinaryOps.MUL: NUMBERS,
    BinaryOps.DIV: NUMBERS,
    BinaryOps.IDIV: NUMBERS,
    BinaryOps.MOD: NUMBERS,
    BinaryOps.MAX: ALL_DTYPES,
    BinaryOps.CMPLT: ALL_DTYPES,
    BinaryOps.CMPEQ: ALL_DTYPES,
    BinaryOps.AND: INTS + [DType.bool],
    BinaryOps.OR: INTS + [DType.bool],
    BinaryOps.XOR: INTS + [DType.bool],
}
# Floor division and remainder are exact in the operands' own dtype (Python's fmod-based rule), so
# their answer is numpy's in that dtype, not a float64 result rounded afterwards.
IN_OWN_DTYPE = (BinaryOps.IDIV, BinaryOps.MOD)


@pytest.mark.parametrize("op", list(UnaryOps))
@conformance
@given(data=st.data())
def test_unary(backend: Backend, op: UnaryOps, data: st.DataObject) -> None:
    dtype = data.draw(st.sampled_from(NUMBERS if op == UnaryOps.NEG else FLOATS))
    x, x_data = draw_input(data, backend, dtype, data.draw(shapes()), specials=True)
    with np.errstate(all="ignore"):
        expected = REFERENCE_UNARY[op](x.astype(np.float64) if dtype.is_float else x).astype(dtype.value)
    check(x_data.unary(op), expected)


@pytest.mark.parametrize("op", list(BinaryOps))
@conformance
@given(data=st.data())
def test_binary(backend: Backend, op: BinaryOps, data: st.DataObject) -> None:
    dtype = data.draw(st.sampled_from(BINARY_DTYPES[op]))
    shape = data.draw(shapes())
    x, x_data = draw_input(data, backend, dtype, shape, specials=True)
    y = arrays(data, dtype, shape, specials=True)
    if op in IN_OWN_DTYPE and not dtype.is_float:
        y[y == 0] = 1  # an integer divisor of 0 has no answer; callers never pass one
    y_data = load(backend, y, data)
    with np.errstate(all="ignore"):
        if dtype.is_float and op not in IN_OWN_DTYPE:  # in float64, then rounded to the result's dtype
            expected = REFERENCE_BINARY[op](x.astype(np.float64), y.astype(np.float64))
            expected = expected.astype(bool if op in (BinaryOps.CMPLT, BinaryOps.CMPEQ) else dtype.value)
        else:  # exact (integer DIV gives float64)
            expected = REFERENCE_BINARY[op](x, y)
    check(x_data.binary(op, y_data), expected)


@conformance
@given(data=st.data())
def test_where(backend: Backend, data: st.DataObject) -> None:
    dtype = data.draw(st.sampled_from(ALL_DTYPES))
    shape = data.draw(shapes())
    condition, condition_data = draw_input(data, backend, DType.bool, shape)
    x, x_data = draw_input(data, backend, dtype, shape, specials=True)
    y, y_data = draw_input(data, backend, dtype, shape, specials=True)
    check(condition_data.where(x_data, y_data), np.where(condition, x, y))


# ---- index ops ----
@st.composite
def index_problems(draw: st.DrawFn, min_side: int = 0) -> tuple[Shape, int, Shape, np.ndarray, bool]:
    """(shape of the indexed tensor, axis, index shape, index values, expanded): the index has the
    tensor's size on every axis but `axis`; `expanded` says the same positions repeat along every
    other axis (an embedding lookup), which the backend is handed as an EXPAND view."""
    shape = draw(shapes(min_dims=1, min_side=min_side))
    axis = draw(st.integers(0, len(shape) - 1))
    count = draw(st.integers(0, 5)) if shape[axis] else 0  # nothing to pick from an empty axis
    index_shape = shape[:axis] + (count,) + shape[axis + 1:]
    expanded = draw(st.booleans())
    drawn_shape = tuple(n if d == axis else 1 for d, n in enumerate(index_shape)) if expanded else index_shape
    values = draw(hnp.arrays(np.int64, drawn_shape, elements=st.integers(0, max(shape[axis] - 1, 0))))
    dtype = draw(st.sampled_from([np.int32, np.int64]))
    return shape, axis, index_shape, values.astype(dtype), expanded


def load_index(backend: Backend, values: np.ndarray, shape: Shape, expanded: bool, data: st.DataObject
               ) -> tuple[np.ndarray, TensorData]:
    """The index as numpy sees it (full `shape`) and as the backend gets it (expanded if asked)."""
    if expanded:
        return np.broadcast_to(values, shape), backend.from_host(values).expand(shape)
    return values, load(backend, values, data)


@conformance
@given(data=st.data(), problem=index_problems())
def test_gather(backend: Backend, data: st.DataObject, problem: tuple[Shape, int, Shape, np.ndarray, bool]) -> None:
    shape, axis, index_shape, values, expanded = problem
    x, x_data = draw_input(data, backend, data.draw(st.sampled_from(ALL_DTYPES)), shape, specials=True)
    index, index_data = load_index(backend, values, index_shape, expanded, data)
    check(x_data.gather(axis, index_data), np.take_along_axis(x, index, axis=axis))


@conformance
@given(data=st.data(), problem=index_problems())
def test_scatter_add(backend: Backend, data: st.DataObject, problem: tuple[Shape, int, Shape, np.ndarray, bool]) -> None:
    shape, axis, index_shape, values, expanded = problem
    dtype = data.draw(st.sampled_from(NUMBERS))
    src, src_data = draw_input(data, backend, dtype, index_shape)
    index, index_data = load_index(backend, values, index_shape, expanded, data)
    coordinates = list(np.indices(index_shape, sparse=True))
    coordinates[axis] = index
    expected = np.zeros(shape, np.float64 if dtype.is_float else dtype.value)
    np.add.at(expected, tuple(coordinates), src)  # repeated positions add up
    scale = np.zeros(shape)
    np.add.at(scale, tuple(coordinates), magnitudes(src))
    check(src_data.scatter_add(axis, index_data, shape), expected.astype(dtype.value), scale=scale)


def test_gather_copies_values_exactly(backend: Backend) -> None:
    """int64 beyond 2^53 (and 2^24) comes back whole, and an inf or nan elsewhere in a row leaks nothing."""
    big = np.array([[2**24 + 1, 2**53 + 1, -(2**62) - 3], [7, 2**63 - 1, -(2**63)]], dtype=np.int64)
    index = np.array([[2, 0, 1, 1], [1, 1, 2, 0]], dtype=np.int64)
    check(backend.from_host(big).gather(1, backend.from_host(index)), np.take_along_axis(big, index, axis=1))
    table = np.array([[1.5, np.inf, -2.0], [np.nan, 3.0, -np.inf], [0.25, 1e30, -0.0]], dtype=np.float32)
    rows = np.array([[0], [2], [1], [0]])  # row 0 holds an inf, row 1 a nan
    expected = table[rows[:, 0]]
    got = backend.from_host(table).gather(0, backend.from_host(rows).expand((4, 3)))
    check(got, expected)
    finite = np.isfinite(expected)
    assert np.isfinite(got.to_host()[finite]).all()
    check(backend.from_host(table).gather(1, backend.from_host(np.array([[0], [1], [2]]))), np.array([[1.5], [3.0], [-0.0]], np.float32))


def test_scatter_add_accumulates_repeats_exactly(backend: Backend) -> None:
    src = np.array([[2**53, 1, 1], [2**40, -(2**40), 5]], dtype=np.int64)
    index = np.array([[0, 0, 0], [1, 1, 1]], dtype=np.int64)  # every element of a row to one place
    expected = np.array([[2**53 + 2, 0], [0, 5]], dtype=np.int64)
    check(backend.from_host(src).scatter_add(1, backend.from_host(index), (2, 2)), expected)
    rows = backend.from_host(np.array([[3], [1], [3], [3]])).expand((4, 2))  # an embedding's backward
    grad = backend.from_host(np.array([[1, 2], [3, 4], [5, 6], [7, 8]], dtype=np.float32))
    expected_rows = np.array([[0, 0], [3, 4], [0, 0], [13, 16], [0, 0]], dtype=np.float32)
    check(grad.scatter_add(0, rows, (5, 2)), expected_rows)


def test_integer_division_and_bitwise_ops_are_exact_for_int64(backend: Backend) -> None:
    x = np.array([2**62 + 3, -(2**62) - 3, 2**53 + 1, -7, 7, -(2**63)], dtype=np.int64)
    y = np.array([7, 7, -2, 2, -2, 3], dtype=np.int64)
    x_data, y_data = backend.from_host(x), backend.from_host(y)
    check(x_data.binary(BinaryOps.IDIV, y_data), x // y)
    check(x_data.binary(BinaryOps.MOD, y_data), x % y)
    check(x_data.binary(BinaryOps.AND, y_data), x & y)
    check(x_data.binary(BinaryOps.OR, y_data), x | y)
    check(x_data.binary(BinaryOps.XOR, y_data), x ^ y)


def test_floor_division_of_floats_follows_python(backend: Backend) -> None:
    x = np.array([1.0, 7.0, -7.0, 0.0, 7.5, -7.5, np.inf, 1.0, -1.0], dtype=np.float64)
    y = np.array([0.1, 0.0, 0.0, 0.0, -2.0, 2.0, 1.0, np.inf, np.inf], dtype=np.float64)
    quotients = [9.0, np.inf, -np.inf, np.nan, -4.0, -4.0, np.nan, 0.0, -1.0]
    remainders = [x_ % y_ if y_ and np.isfinite(x_) else np.nan for x_, y_ in zip(x, y)]
    x_data, y_data = backend.from_host(x), backend.from_host(y)
    check(x_data.binary(BinaryOps.IDIV, y_data), np.array(quotients))
    check(x_data.binary(BinaryOps.MOD, y_data), np.array(remainders))


def test_cos_and_tanh_are_exact_where_compositions_were_not(backend: Backend) -> None:
    x = np.array([12345.0, 1e-8, 1e-30, -3.0, 0.0], dtype=np.float32)
    x_data = backend.from_host(x)
    for op, reference in ((UnaryOps.COS, np.cos), (UnaryOps.TANH, np.tanh)):
        got = x_data.unary(op).to_host()
        expected = reference(x.astype(np.float64)).astype(np.float32)
        np.testing.assert_array_max_ulp(got, expected, maxulp=1)


# ---- reduce ops ----
@pytest.mark.parametrize("op", list(ReduceOps))
@conformance
@given(data=st.data())
def test_reduce(backend: Backend, op: ReduceOps, data: st.DataObject) -> None:
    dtype = data.draw(st.sampled_from(ALL_DTYPES))
    shape = data.draw(shapes())
    axes = tuple(sorted(data.draw(st.lists(st.sampled_from(range(len(shape))), unique=True) if shape else st.just([]))))
    x, x_data = draw_input(data, backend, dtype, shape, specials=True)
    if op == ReduceOps.MAX and any(shape[axis] == 0 for axis in axes):
        with pytest.raises(Exception):  # MAX over an empty axis has no answer
            x_data.reduce(op, axes)
        return
    if op == ReduceOps.MAX:
        check(x_data.reduce(op, axes), np.max(x, axis=axes, keepdims=True))
    elif dtype.is_float:
        expected = np.sum(x.astype(np.float64), axis=axes, keepdims=True).astype(dtype.value)
        check(x_data.reduce(op, axes), expected, scale=np.sum(magnitudes(x), axis=axes, keepdims=True))
    else:  # exact; bools count up in int64
        expected = np.sum(x, axis=axes, keepdims=True).astype(np.int64 if dtype == DType.bool else dtype.value)
        check(x_data.reduce(op, axes), expected)


# ---- movement ops ----
@st.composite
def same_size_shapes(draw: st.DrawFn, shape: Shape) -> Shape:
    """A shape with as many elements as `shape`: its size split into random factors, plus some 1s."""
    size = math.prod(shape)
    if size == 0:
        new = list(draw(shapes(min_dims=1)))
        new[draw(st.integers(0, len(new) - 1))] = 0
        return tuple(new)
    factors, rest = [], size
    while rest > 1:
        factor = draw(st.sampled_from([d for d in range(2, rest + 1) if rest % d == 0]))
        factors.append(factor)
        rest //= factor
    factors += [1] * draw(st.integers(0, 2))
    return tuple(draw(st.permutations(factors)))


@conformance
@given(data=st.data())
def test_reshape(backend: Backend, data: st.DataObject) -> None:
    shape = data.draw(shapes())
    new_shape = data.draw(same_size_shapes(shape))
    x, x_data = draw_input(data, backend, data.draw(st.sampled_from(ALL_DTYPES)), shape)
    check(x_data.reshape(new_shape), x.reshape(new_shape))


@conformance
@given(data=st.data())
def test_permute(backend: Backend, data: st.DataObject) -> None:
    shape = data.draw(shapes())
    order = tuple(data.draw(st.permutations(range(len(shape)))))
    x, x_data = draw_input(data, backend, data.draw(st.sampled_from(ALL_DTYPES)), shape)
    check(x_data.permute(order), x.transpose(order))


@conformance
@given(data=st.data())
def test_expand(backend: Backend, data: st.DataObject) -> None:
    shape = tuple(n if data.draw(st.booleans()) else 1 for n in data.draw(shapes()))
    new_shape = tuple(data.draw(st.integers(0, 5)) if n == 1 else n for n in shape)
    x, x_data = draw_input(data, backend, data.draw(st.sampled_from(ALL_DTYPES)), shape)
    check(x_data.expand(new_shape), np.broadcast_to(x, new_shape))


@conformance
@given(data=st.data())
def test_pad(backend: Backend, data: st.DataObject) -> None:
    shape = data.draw(shapes())
    padding = tuple((data.draw(st.integers(0, 3)), data.draw(st.integers(0, 3))) for _ in shape)
    x, x_data = draw_input(data, backend, data.draw(st.sampled_from(ALL_DTYPES)), shape, specials=True)
    check(x_data.pad(padding), np.pad(x, padding) if shape else x)  # np.pad rejects 0-d arrays


@conformance
@given(data=st.data())
def test_shrink(backend: Backend, data: st.DataObject) -> None:
    shape = data.draw(shapes())
    starts = [data.draw(st.integers(0, n)) for n in shape]
    bounds = tuple((start, data.draw(st.integers(start, n))) for start, n in zip(starts, shape))
    x, x_data = draw_input(data, backend, data.draw(st.sampled_from(ALL_DTYPES)), shape)
    check(x_data.shrink(bounds), x[tuple(slice(start, stop) for start, stop in bounds)])


@conformance
@given(data=st.data())
def test_stride(backend: Backend, data: st.DataObject) -> None:
    shape = data.draw(shapes())
    steps = tuple(data.draw(st.sampled_from([-3, -2, -1, 1, 2, 3])) for _ in shape)
    x, x_data = draw_input(data, backend, data.draw(st.sampled_from(ALL_DTYPES)), shape)
    check(x_data.stride(steps), x[tuple(slice(None, None, step) for step in steps)])


def reference_window(x: np.ndarray, kernel: Shape, stride: Shape, dilation: Shape) -> np.ndarray:
    """out[..., *position, *offset] = x[..., *(position * stride + offset * dilation)], by loops."""
    k = len(kernel)
    spatial = x.shape[-k:]
    out_sizes = tuple((n - d * (kk - 1) - 1) // s + 1 for n, kk, s, d in zip(spatial, kernel, stride, dilation))
    out = np.empty(x.shape[:-k] + out_sizes + kernel, dtype=x.dtype)
    for position in np.ndindex(*out_sizes):
        for offset in np.ndindex(*kernel):
            source = tuple(p * s + o * d for p, o, s, d in zip(position, offset, stride, dilation))
            out[(Ellipsis, *position, *offset)] = x[(Ellipsis, *source)]
    return out


@conformance
@given(data=st.data())
def test_window(backend: Backend, data: st.DataObject) -> None:
    k = data.draw(st.integers(1, 3), label="window axes")
    shape = data.draw(shapes(max_dims=4 - k)) + data.draw(shapes(min_dims=k, max_dims=k, min_side=1))
    kernel, stride, dilation = [], [], []
    for n in shape[-k:]:  # every dilated window fits: n >= d * (kk - 1) + 1
        kernel.append(data.draw(st.integers(1, n)))
        dilation.append(data.draw(st.integers(1, 3 if kernel[-1] == 1 else (n - 1) // (kernel[-1] - 1))))
        stride.append(data.draw(st.integers(1, 3)))
    x, x_data = draw_input(data, backend, data.draw(st.sampled_from(ALL_DTYPES)), shape)
    expected = reference_window(x, tuple(kernel), tuple(stride), tuple(dilation))
    check(x_data.window(tuple(kernel), tuple(stride), tuple(dilation)), expected)


def reference_fold(windows: np.ndarray, shape: Shape, stride: Shape, dilation: Shape) -> np.ndarray:
    """out[..., *(position * stride + offset * dilation)] += windows[..., *position, *offset], by loops."""
    k = len(stride)
    out = np.zeros(shape, np.float64 if windows.dtype.kind == "f" else windows.dtype)
    for position in np.ndindex(*windows.shape[-2 * k:-k]):
        for offset in np.ndindex(*windows.shape[-k:]):
            target = tuple(p * s + o * d for p, o, s, d in zip(position, offset, stride, dilation))
            out[(Ellipsis, *target)] += windows[(Ellipsis, *position, *offset)]
    return out


@conformance
@given(data=st.data())
def test_fold(backend: Backend, data: st.DataObject) -> None:
    k = data.draw(st.integers(1, 2), label="window axes")
    batch = data.draw(shapes(max_dims=2, max_side=3))
    kernel, stride, dilation, spatial, out_sizes = [], [], [], [], []
    for _ in range(k):
        kernel.append(data.draw(st.integers(1, 3)))
        stride.append(data.draw(st.integers(1, 3)))
        dilation.append(data.draw(st.integers(1, 2)))
        out_sizes.append(data.draw(st.integers(1, 3)))
        # the smallest size with that many windows, or up to stride - 1 more (rows no window reaches)
        spatial.append((out_sizes[-1] - 1) * stride[-1] + dilation[-1] * (kernel[-1] - 1) + 1
                       + data.draw(st.integers(0, stride[-1] - 1)))
    dtype = data.draw(st.sampled_from(NUMBERS))
    windows, windows_data = draw_input(data, backend, dtype, batch + tuple(out_sizes) + tuple(kernel))
    shape = batch + tuple(spatial)
    expected = reference_fold(windows, shape, tuple(stride), tuple(dilation))
    scale = reference_fold(magnitudes(windows), shape, tuple(stride), tuple(dilation))
    check(windows_data.fold(shape, tuple(stride), tuple(dilation)), expected.astype(dtype.value), scale=scale)


def test_fold_is_the_adjoint_of_window(backend: Backend) -> None:
    """<window(x), w> = <x, fold(w)> for every x and w: FOLD is WINDOW's gradient. Small integers,
    so both sides are exact."""
    rng = np.random.default_rng(0)
    x = rng.integers(-5, 5, (2, 3, 7, 8)).astype(np.float64)
    kernel, stride, dilation = (3, 2), (2, 1), (1, 3)
    windows = backend.from_host(x).window(kernel, stride, dilation)
    w = rng.integers(-5, 5, windows.shape).astype(np.float64)
    folded = backend.from_host(w).fold(x.shape, stride, dilation)
    assert float((windows.to_host() * w).sum()) == float((x * folded.to_host()).sum())


# ---- cast and matmul ----
@pytest.mark.parametrize("source", ALL_DTYPES, ids=lambda dtype: dtype.value)
@pytest.mark.parametrize("target", ALL_DTYPES, ids=lambda dtype: dtype.value)
@settings(max_examples=10, deadline=None)  # 25 pairs of dtypes, fewer examples each
@given(data=st.data())
def test_cast(backend: Backend, source: DType, target: DType, data: st.DataObject) -> None:
    # inf and nan have no integer value; every other float truncates toward zero.
    x, x_data = draw_input(data, backend, source, data.draw(shapes()), specials=target.is_float or target == DType.bool)
    check(x_data.cast(target), x.astype(target.value))
    # and the cast values are really stored as `target`: widening them again changes nothing
    check(x_data.cast(target).cast(DType.float64), x.astype(target.value).astype(np.float64))


@conformance
@given(data=st.data())
def test_matmul(backend: Backend, data: st.DataObject) -> None:
    dtype = data.draw(st.sampled_from(NUMBERS))
    batch = data.draw(shapes(max_dims=2, max_side=3))
    n, k, m = (data.draw(st.integers(0, 4)) for _ in range(3))
    x, x_data = draw_input(data, backend, dtype, batch + (n, k))
    y, y_data = draw_input(data, backend, dtype, batch + (k, m))
    if dtype.is_float:
        expected = np.matmul(x.astype(np.float64), y.astype(np.float64)).astype(dtype.value)
        check(x_data.matmul(y_data), expected, scale=np.matmul(magnitudes(x), magnitudes(y)))
    else:
        check(x_data.matmul(y_data), np.matmul(x, y))


# ---- immutability ----
def test_ops_leave_their_inputs_unchanged(backend: Backend) -> None:
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4) - 10
    x_data = backend.from_host(x)
    positive = x_data.binary(BinaryOps.CMPLT, backend.const(0.0, x_data.shape, DType.float32))
    results = [
        x_data.unary(UnaryOps.NEG),
        x_data.binary(BinaryOps.ADD, x_data),
        positive.where(x_data, x_data),
        x_data.reduce(ReduceOps.SUM, (1,)),
        x_data.reshape((4, 6)),
        x_data.permute((2, 0, 1)),
        x_data.expand((2, 3, 4)),
        x_data.pad(((1, 1), (0, 2), (3, 0))),
        x_data.shrink(((0, 1), (1, 3), (0, 4))),
        x_data.stride((1, -1, 2)),
        x_data.window((2, 2), (1, 1), (1, 1)),
        x_data.reshape((2, 3, 2, 2)).fold((4, 6), (1, 1), (2, 3)),
        x_data.cast(DType.int32),
        x_data.matmul(x_data.permute((0, 2, 1))),
        x_data.gather(1, backend.from_host(np.zeros((2, 5, 4), dtype=np.int64))),
        x_data.scatter_add(1, backend.from_host(np.ones((2, 3, 4), dtype=np.int64)), (2, 2, 4)),
    ]
    assert all(isinstance(result, TensorData) for result in results)
    check(x_data, x)
