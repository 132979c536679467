"""Stochastic gradient descent, with momentum, dampening, Nesterov momentum and weight decay."""

from __future__ import annotations

from typing import Any

from edugrad.optim.optimizer import Optimizer, ParamsT
from edugrad.tensor import Tensor


class SGD(Optimizer):
    """PyTorch's SGD, defaults included. With d the gradient (negated if maximize):

        d <- d + weight_decay * p
        b <- d on the first step, then momentum * b + (1 - dampening) * d      (if momentum)
        d <- d + momentum * b if nesterov else b                               (if momentum)
        p <- p - lr * d
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, *, maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize))
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"SGD: nesterov=True needs momentum > 0 and dampening = 0, "
                             f"got momentum={momentum!r}, dampening={dampening!r}")

    def init_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {"momentum_buffer": None} if group["momentum"] else {}

    def update(self, param: Tensor, grad: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        momentum, dampening = group["momentum"], group["dampening"]
        d = grad.add(param, alpha=group["weight_decay"]) if group["weight_decay"] else grad
        if momentum:
            velocity = state["momentum_buffer"]
            if velocity is None:
                velocity = state["momentum_buffer"] = d.clone()  # a buffer of its own, changed in place
            else:
                velocity.mul_(momentum).add_(d, alpha=1 - dampening)
            d = d.add(velocity, alpha=momentum) if group["nesterov"] else velocity
        param.add_(d, alpha=-group["lr"])
