"""RMSprop: steps divided by a running root-mean-square of the gradient."""

from __future__ import annotations

from typing import Any, Callable

from edugrad.creation import zeros_like
from edugrad.autograd import no_grad
from edugrad.optim.optimizer import Optimizer, ParamsT


class RMSprop(Optimizer):
    """RMSprop (Hinton), as PyTorch computes it:

        v <- alpha v + (1 - alpha) g^2          p <- p - lr * g / (sqrt(v) + eps)

    centered=True subtracts the squared running mean of g from v (a variance estimate);
    momentum > 0 accumulates b <- momentum b + g / (sqrt(v) + eps) and steps by lr * b."""

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False, *,
                 maximize: bool = False) -> None:
        for name, value in (("learning rate", lr), ("alpha", alpha), ("eps", eps), ("weight_decay", weight_decay),
                            ("momentum", momentum)):
            if value < 0:
                raise ValueError(f"RMSprop: invalid {name} {value} (must be >= 0)")
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, maximize=maximize))

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, alpha, eps, weight_decay = group["lr"], group["alpha"], group["eps"], group["weight_decay"]
            momentum, centered = group["momentum"], group["centered"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = -p.grad if group["maximize"] else p.grad
                if weight_decay:
                    g = g + weight_decay * p.detach()
                state = self.state.setdefault(p, {})
                if not state:
                    state.update(step=0, square_avg=zeros_like(p))
                    if momentum > 0:
                        state["momentum_buffer"] = zeros_like(p)
                    if centered:
                        state["grad_avg"] = zeros_like(p)
                state["step"] += 1
                v = state["square_avg"] = alpha * state["square_avg"] + (1 - alpha) * (g * g)
                if centered:
                    mean = state["grad_avg"] = alpha * state["grad_avg"] + (1 - alpha) * g
                    v = v - mean * mean
                denominator = v.sqrt() + eps
                if momentum > 0:
                    velocity = state["momentum_buffer"] = momentum * state["momentum_buffer"] + g / denominator
                    p.copy_(p.detach() - lr * velocity)
                else:
                    p.copy_(p.detach() - lr * g / denominator)
        return loss
