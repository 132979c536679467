"""Numerical gradient checking: does backward agree with the slope you can measure?

For each input x that requires a gradient, nudge one element at a time by +-eps and watch the
output move: (f(x + eps) - f(x - eps)) / (2 eps) is the derivative, up to eps^2 error. That is
slow (two forward passes per element) but needs no calculus, so it checks every Function's
backward independently of how it was derived. It runs in float64: in float32 the rounding error
of f, divided by a small eps, would drown the derivative.

A non-scalar output is reduced to a scalar with fixed random weights, sum(w * f(x)), so every
output element (and every wrong entry of the Jacobian) moves the result.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from edugrad.autograd import no_grad
from edugrad.ops import DType
from edugrad.tensor import Tensor


class GradcheckError(RuntimeError):
    """Raised by `gradcheck` when analytic and numerical gradients disagree."""


def gradcheck(fn: Callable[..., Tensor], *inputs: Any, eps: float = 1e-3, atol: float = 1e-4,
              rtol: float = 1e-3, raise_exception: bool = True) -> bool:
    """Compare fn's backward with central finite differences for every input that requires grad.

    Float tensors among `inputs` are replaced by float64 copies (keeping `requires_grad`); other
    inputs (integer index tensors, Python values) are passed to `fn` unchanged. Returns True when
    every gradient element satisfies |analytic - numeric| <= atol + rtol * |numeric|; otherwise
    raises GradcheckError naming the input, the worst element and both values, or returns False
    when `raise_exception` is False.
    """
    args = [_float64_copy(x) for x in inputs]
    checked = [i for i, x in enumerate(args) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True, so there is nothing to check")

    out = fn(*args)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    if out.dtype != DType.float64:
        return _fail(f"gradcheck: fn returned {out.dtype.value} for float64 inputs; finite differences "
                     f"need float64 all the way, so some op cast its input down", raise_exception)
    weights = Tensor(np.random.default_rng(0).standard_normal(out.shape), dtype=DType.float64)

    def loss(*xs: Any) -> float:
        return float((fn(*xs) * weights).sum().item())

    if out.requires_grad:  # otherwise backward has nothing to say: every analytic gradient is 0
        (out * weights).sum().backward()
    for i in checked:
        x = args[i]
        analytic = np.zeros(x.shape) if x.grad is None else x.grad.numpy()
        if analytic.shape != x.shape:
            return _fail(f"gradcheck: input {i} has shape {x.shape} but backward gave a gradient of "
                         f"shape {analytic.shape}", raise_exception)
        numeric = _numeric_grad(loss, args, i, eps)
        error = np.abs(analytic - numeric)
        bad = ~(error <= atol + rtol * np.abs(numeric))  # written so that a nan counts as bad
        if bad.any():
            worst = np.unravel_index(int(np.argmax(np.where(bad, np.nan_to_num(error, nan=np.inf), -1.0))),
                                     x.shape)
            index = tuple(int(k) for k in worst)
            return _fail(f"gradcheck: gradient of input {i} (shape {x.shape}) is wrong at {bad.sum()} of "
                         f"{bad.size} elements; worst at index {index}: analytic {float(analytic[index]):.6g} vs "
                         f"numeric {float(numeric[index]):.6g}, max abs error {float(error[index]):.3g} "
                         f"(atol={atol}, rtol={rtol})", raise_exception)
    return True


def _float64_copy(x: Any) -> Any:
    if isinstance(x, Tensor) and x.dtype.is_float:
        return Tensor(x.numpy().astype(np.float64), dtype=DType.float64, requires_grad=x.requires_grad)
    return x


def _numeric_grad(loss: Callable[..., float], args: list[Any], i: int, eps: float) -> np.ndarray:
    """d loss / d args[i] by central differences, one element at a time."""
    base = args[i].numpy()  # float64 already: _float64_copy made it
    grad = np.zeros_like(base)
    with no_grad():
        for index in np.ndindex(base.shape):
            slopes = []
            for step in (eps, -eps):
                nudged = base.copy()
                nudged[index] += step
                moved = args[:i] + [Tensor(nudged, dtype=DType.float64)] + args[i + 1:]
                slopes.append(loss(*moved))
            grad[index] = (slopes[0] - slopes[1]) / (2 * eps)
    return grad


def _fail(message: str, raise_exception: bool) -> bool:
    if raise_exception:
        raise GradcheckError(message)
    return False


__all__ = ["gradcheck", "GradcheckError"]
