"""Stochastic gradient descent, with momentum, dampening, Nesterov momentum and weight decay."""

from __future__ import annotations

from typing import Any, Callable

from edugrad.autograd import no_grad
from edugrad.optim.optimizer import Optimizer, ParamsT


class SGD(Optimizer):
    """p <- p - lr * d, where d is the gradient (plus weight_decay * p), or with momentum the
    velocity b <- momentum * b + (1 - dampening) * d (b starts at d); nesterov uses d + momentum * b.
    maximize=True climbs the gradient instead. PyTorch's update, defaults included."""

    def __init__(self, params: ParamsT, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, *, maximize: bool = False) -> None:
        if lr < 0:
            raise ValueError(f"SGD: invalid learning rate {lr} (must be >= 0)")
        if momentum < 0:
            raise ValueError(f"SGD: invalid momentum {momentum} (must be >= 0)")
        if weight_decay < 0:
            raise ValueError(f"SGD: invalid weight_decay {weight_decay} (must be >= 0)")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum needs momentum > 0 and dampening = 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize))

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
            weight_decay, nesterov, maximize = group["weight_decay"], group["nesterov"], group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                d = -p.grad if maximize else p.grad
                if weight_decay:
                    d = d + weight_decay * p.detach()
                if momentum:
                    state = self.state.setdefault(p, {})
                    velocity = state.get("momentum_buffer")
                    if velocity is None:
                        velocity = d.detach()
                    else:
                        velocity = momentum * velocity + (d if dampening == 0 else (1 - dampening) * d)
                    state["momentum_buffer"] = velocity
                    d = d + momentum * velocity if nesterov else velocity
                p.copy_(p.detach() - lr * d)
        return loss
