"""The exact Functions of issue 15 against PyTorch, on every backend: values to the last unit in
the last place (or bit for bit, where PyTorch's answer is exact), and gradients.

Each test builds its tensors from one backend's data (`Tensor.from_data`), so one run checks the
numpy, torch and pure-Python backends alike, whatever EDUGRAD_BACKEND says.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import pytest
import torch

from edugrad import Tensor
from edugrad import function as F
from edugrad.backend import BACKENDS, load_backend
from edugrad.backend.base import TensorData

Backend = type[TensorData]
pytestmark = [
    pytest.mark.parametrize("backend", [pytest.param(load_backend(name), id=name) for name in BACKENDS]),
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),  # numpy warns on 1/0, cos(inf), ...
]

SPECIAL = [0.0, -0.0, 0.5, -0.5, 1.5, -2.5, 2.5, 0.49999997, 1e-30, -3e-8, 8388609.0, 1e20, -1e20,
           3e38, math.inf, -math.inf, math.nan]


def leaf(backend: Backend, array: Any, requires_grad: bool = False) -> Tensor:
    return Tensor.from_data(backend.from_host(np.asarray(array)), requires_grad=requires_grad)


def assert_same(ours: Tensor, theirs: torch.Tensor, maxulp: int = 0, signed_zeros: bool = False) -> None:
    """Same shape and dtype; nan and inf in the same places; other values within `maxulp` units in
    the last place (0: equal), and with the same sign of zero if asked."""
    got, expected = ours.numpy(), theirs.detach().numpy()
    assert got.shape == expected.shape and got.dtype == expected.dtype, (got.shape, got.dtype, expected.shape, expected.dtype)
    if got.dtype.kind != "f":
        np.testing.assert_array_equal(got, expected)
        return
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected), err_msg=f"nan places: {got} vs {expected}")
    finite = np.isfinite(expected)
    np.testing.assert_array_equal(got[~finite & ~np.isnan(expected)], expected[~finite & ~np.isnan(expected)])
    if maxulp:
        np.testing.assert_array_max_ulp(got[finite], expected[finite], maxulp=maxulp)
    else:
        np.testing.assert_array_equal(got[finite], expected[finite])
    if signed_zeros:
        number = ~np.isnan(expected)  # a nan's sign bit means nothing
        np.testing.assert_array_equal(np.signbit(got[number]), np.signbit(expected[number]), err_msg=f"{got} vs {expected}")


def compare_grads(backend: Backend, ours_fn: Callable[..., Tensor], theirs_fn: Callable[..., torch.Tensor],
                  *arrays: np.ndarray, rtol: float = 1e-5, atol: float = 1e-6) -> None:
    """Same output and the same gradient for every float input, for one random upstream gradient."""
    ours_in = [leaf(backend, a, requires_grad=a.dtype.kind == "f") for a in arrays]
    theirs_in = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    ours, theirs = ours_fn(*ours_in), theirs_fn(*theirs_in)
    assert ours.requires_grad, "the result must require grad when an input does, as in PyTorch"
    upstream = np.random.default_rng(0).standard_normal(theirs.shape).astype(theirs.detach().numpy().dtype)
    theirs.backward(torch.tensor(upstream))
    ours.backward(leaf(backend, upstream))
    for k, (o, t) in enumerate(zip(ours_in, theirs_in)):
        if t.requires_grad:
            assert o.grad is not None, f"input {k}: no gradient"
            np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=atol, err_msg=f"input {k}")


# ---- Gather: exact values, scatter-added gradients ----
def test_gather_values_are_exact_for_every_dtype(backend: Backend) -> None:
    index = np.array([[2, 0, 2], [1, 1, 0]])
    tables = [np.array([[2**24 + 1, 2**53 + 1, -(2**62)], [5, -7, 2**63 - 1]], dtype=np.int64),
              np.array([[1.5, np.inf, np.nan], [-np.inf, 3.0, 1e-30]], dtype=np.float32),
              np.array([[1.5, np.inf, -0.0], [0.1, 3.0, 1e300]], dtype=np.float64),
              np.array([[True, False, True], [False, True, False]]),
              np.array([[7, -8, 9], [2**31 - 1, 0, -(2**31)]], dtype=np.int32)]
    for table in tables:
        ours = F.Gather.apply(leaf(backend, table), leaf(backend, index), axis=1)
        assert_same(ours, torch.gather(torch.tensor(table), 1, torch.tensor(index)))


def test_gather_gradient_adds_repeated_picks(backend: Backend) -> None:
    x = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    index = np.array([[0, 0, 3], [2, 2, 2], [1, 0, 1]])  # repeats within rows
    compare_grads(backend, lambda t, i: F.Gather.apply(t, i, axis=1), lambda t, i: torch.gather(t, 1, i), x, index)
    compare_grads(backend, lambda t, i: F.Gather.apply(t, i, axis=0), lambda t, i: torch.gather(t, 0, i),
                  x, np.array([[2, 0, 1, 2], [2, 2, 0, 0]]))


def test_gather_as_embedding_matches_torch(backend: Backend) -> None:
    """An embedding lookup: row numbers expanded over the row, gathered along axis 0."""
    weight = np.random.default_rng(2).standard_normal((7, 3)).astype(np.float32)
    weight[4, 1] = np.inf  # a row holding an inf leaks no nan into other rows, or its own other entries
    tokens = np.array([3, 0, 3, 6, 4])

    def ours(w: Tensor, t: Tensor) -> Tensor:
        rows = Tensor.from_data(t.storage.data.reshape((5, 1)).expand((5, 3)))
        return F.Gather.apply(w, rows, axis=0)

    out = ours(leaf(backend, weight), leaf(backend, tokens))
    assert_same(out, torch.nn.functional.embedding(torch.tensor(tokens), torch.tensor(weight)))
    compare_grads(backend, ours, lambda w, t: torch.nn.functional.embedding(t, w), weight, tokens)


# ---- Elementary functions: within an ulp of PyTorch ----
def test_cos_and_tanh_are_accurate(backend: Backend) -> None:
    x = np.array([12345.0, 1e-8, -1e-20, 0.5, -3.0, 20.0, 1e4 + 0.25, 0.0, math.inf, math.nan], dtype=np.float32)
    assert_same(F.Cos.apply(leaf(backend, x)), torch.cos(torch.tensor(x)), maxulp=1)
    assert_same(F.Tanh.apply(leaf(backend, x)), torch.tanh(torch.tensor(x)), maxulp=1)
    assert F.Tanh.apply(leaf(backend, np.float32([1e-8]))).numpy()[0] == np.float32(1e-8)
    smooth = np.linspace(-4, 4, 9, dtype=np.float32) + 0.1
    compare_grads(backend, F.Cos.apply, torch.cos, smooth)
    compare_grads(backend, F.Tanh.apply, torch.tanh, smooth)


def test_erf_is_within_an_ulp_everywhere(backend: Backend) -> None:
    count = 2001 if backend.__name__ == "PythonData" else 20001
    x = np.concatenate([np.linspace(-6, 6, count), [1e-8, -1e-20, 1e-3, 0.99999994, 1.0, 30.0, math.inf, -math.inf,
                                                    math.nan, 0.0]]).astype(np.float32)
    assert_same(F.Erf.apply(leaf(backend, x)), torch.erf(torch.tensor(x)), maxulp=1)
    x64 = np.array([1e-8, 0.3, -0.9, 1.7, -4.0])
    np.testing.assert_allclose(F.Erf.apply(leaf(backend, x64)).numpy(), torch.erf(torch.tensor(x64)).numpy(), rtol=1e-7)
    compare_grads(backend, F.Erf.apply, torch.erf, np.linspace(-3, 3, 13, dtype=np.float32))


# ---- Powers ----
def test_integer_powers_are_exact(backend: Backend) -> None:
    assert F.IntPow.apply(leaf(backend, np.float32([5.0])), exponent=3).numpy()[0] == 125.0
    ints = np.array([3, -3, 2, 0, 1], dtype=np.int64)
    assert_same(F.IntPow.apply(leaf(backend, ints), exponent=39), torch.tensor(ints) ** 39)  # 3^39 > 2^53
    x = np.array([0.0, -0.0, 1.5, -2.0, 1e-3, 1e10, math.inf, -math.inf, math.nan], dtype=np.float32)
    for n in (0, 1, 2, 3, 7, -1, -2, -3):
        assert_same(F.IntPow.apply(leaf(backend, x), exponent=n), torch.tensor(x) ** n, maxulp=1)
    values = np.array([0.0, 1.5, -2.0, 0.3, -0.7], dtype=np.float32)
    for n in (0, 1, 2, 3, -2):
        compare_grads(backend, lambda t, n=n: F.IntPow.apply(t, exponent=n), lambda t, n=n: t**n, values[1:] if n < 0 else values)


def test_power_follows_c_pow_special_cases(backend: Backend) -> None:
    values = [0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 3.0, 2.5, math.inf, -math.inf, math.nan]
    x, y = (np.array(a, dtype=np.float32) for a in zip(*[(a, b) for a in values for b in values]))
    ours = F.Power.apply(leaf(backend, x), leaf(backend, y))
    theirs = torch.pow(torch.tensor(x), torch.tensor(y))
    assert_same(ours, theirs, maxulp=1, signed_zeros=True)
    assert F.Power.apply(leaf(backend, np.float32([5.0])), leaf(backend, np.float32([3.0]))).numpy()[0] == 125.0
    base = np.array([0.0, 0.0, 0.5, 2.0, 3.0, 1.7, 0.0], dtype=np.float32)
    exponent = np.array([0.0, 2.0, -1.5, 3.0, 0.5, 0.0, 1.0], dtype=np.float32)
    compare_grads(backend, F.Power.apply, torch.pow, base, exponent)


# ---- Rounding: exact, inf and nan kept, zero gradient that still flows ----
@pytest.mark.parametrize("name", ["Trunc", "Floor", "Ceil", "Round", "Sign"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rounding_is_exact_and_differentiable(backend: Backend, name: str, dtype: type) -> None:
    x = np.array(SPECIAL + [2**52 + 0.5 if dtype == np.float64 else 4194304.5, 4194303.5, 3.5, -3.5], dtype=dtype)
    ours = getattr(F, name).apply(leaf(backend, x))
    theirs = getattr(torch, name.lower())(torch.tensor(x))
    assert_same(ours, theirs, signed_zeros=name != "Sign")
    compare_grads(backend, getattr(F, name).apply, getattr(torch, name.lower()), np.array([1.5, -0.5, 2.0], dtype=dtype))


# ---- Floor division and remainder ----
def test_floor_division_and_remainder_match_torch(backend: Backend) -> None:
    x = np.array([7.0, -7.0, 0.0, 1.0, 7.5, -7.5, math.inf, 1.0, -1.0, 5.0, 1e20], dtype=np.float32)
    y = np.array([0.0, 0.0, 0.0, 0.1, -2.0, 2.0, 1.0, math.inf, math.inf, math.nan, 3.0], dtype=np.float32)
    tx, ty = torch.tensor(x), torch.tensor(y)
    assert_same(F.FloorDivide.apply(leaf(backend, x), leaf(backend, y)), torch.floor_divide(tx, ty))
    assert_same(F.Remainder.apply(leaf(backend, x), leaf(backend, y)), torch.remainder(tx, ty))
    big = np.array([2**62 + 3, -(2**62) - 3, 2**53 + 1, -7, 7], dtype=np.int64)
    divisor = np.array([7, 7, -2, 2, -2], dtype=np.int64)
    tb, td = torch.tensor(big), torch.tensor(divisor)
    assert_same(F.FloorDivide.apply(leaf(backend, big), leaf(backend, divisor)), torch.floor_divide(tb, td))
    assert_same(F.Remainder.apply(leaf(backend, big), leaf(backend, divisor)), torch.remainder(tb, td))
    a = np.array([7.5, -3.2, 4.0, 0.3], dtype=np.float32)
    b = np.array([2.0, 1.5, -3.0, -0.7], dtype=np.float32)
    compare_grads(backend, F.Remainder.apply, torch.remainder, a, b)
    compare_grads(backend, F.FloorDivide.apply, lambda p, q: torch.div(p, q, rounding_mode="floor"), a, b)
