"""Gradient utilities used between `loss.backward()` and `optimizer.step()`."""

from __future__ import annotations

import functools
import math
import operator
from typing import Iterable

from edugrad.autograd import no_grad
from edugrad.tensor import Tensor


def _with_grads(parameters: Tensor | Iterable[Tensor]) -> list[tuple[Tensor, Tensor]]:
    """(parameter, gradient) for each parameter that has a gradient."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [(p, p.grad) for p in params if p.grad is not None]


@no_grad()
def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> Tensor:
    """Scale all gradients together so that their joint norm is at most max_norm; returns that norm
    as it was before clipping. The norm treats all gradients as one long vector (norm_type=inf: the
    largest absolute value). As in PyTorch, gradients are scaled by max_norm / (norm + 1e-6) when
    that is below 1."""
    pairs = _with_grads(parameters)
    if not pairs:
        return Tensor(0.0)
    grads = [grad for _, grad in pairs]
    # One scalar per gradient, combined by a chain of scalar ops: stack() of many scalars costs
    # more here than the norms themselves.
    if norm_type == math.inf:
        total = functools.reduce(Tensor.maximum, [g.abs().amax() for g in grads])
    elif norm_type == 2.0:
        total = functools.reduce(operator.add, [(g * g).sum() for g in grads]).sqrt()
    else:
        total = functools.reduce(operator.add, [(g.abs() ** norm_type).sum() for g in grads]) ** (1.0 / norm_type)
    norm = total.item()
    if error_if_nonfinite and not math.isfinite(norm):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {norm}; "
                           f"pass error_if_nonfinite=False to clip anyway")
    scale = max_norm / (norm + 1e-6)
    if scale < 1.0:
        for p, grad in pairs:
            p.grad = grad * scale
    return total


@no_grad()
def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient element into [-clip_value, clip_value]."""
    for p, grad in _with_grads(parameters):
        p.grad = grad.clamp(-clip_value, clip_value)


__all__ = ["clip_grad_norm_", "clip_grad_value_"]
