"""Adadelta: steps sized by the ratio of running RMS of past updates to running RMS of gradients."""

from __future__ import annotations

from typing import Any

from edugrad.creation import zeros_like
from edugrad.optim.optimizer import Optimizer, ParamsT
from edugrad.tensor import Tensor


class Adadelta(Optimizer):
    """Adadelta (Zeiler), as PyTorch computes it. With g the gradient:

        g <- g + weight_decay * p
        v <- rho v + (1 - rho) g^2                          (running mean of squared gradients)
        delta <- sqrt(u + eps) / sqrt(v + eps) * g          (u: running mean of squared updates)
        u <- rho u + (1 - rho) delta^2
        p <- p - lr * delta

    The ratio of the two RMS values gives each step the units of p, so lr=1.0 (the default) works."""

    def __init__(self, params: ParamsT, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, *, maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize))

    def init_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {"step": 0, "square_avg": zeros_like(param), "acc_delta": zeros_like(param)}

    def update(self, param: Tensor, grad: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        rho, eps = group["rho"], group["eps"]
        if group["weight_decay"]:
            grad = grad.add(param, alpha=group["weight_decay"])
        state["step"] += 1
        square_avg = state["square_avg"].mul_(rho).addcmul_(grad, grad, value=1 - rho)
        std = square_avg.add(eps).sqrt()
        delta = state["acc_delta"].add(eps).sqrt() / std * grad
        state["acc_delta"].mul_(rho).addcmul_(delta, delta, value=1 - rho)
        param.add_(delta, alpha=-group["lr"])
