"""RMSprop: steps divided by a running root-mean-square of the gradient."""

from __future__ import annotations

from typing import Any

from edugrad.creation import zeros_like
from edugrad.optim.optimizer import Optimizer, ParamsT
from edugrad.tensor import Tensor


class RMSprop(Optimizer):
    """RMSprop (Hinton), as PyTorch computes it. With g the gradient:

        g <- g + weight_decay * p
        v <- alpha v + (1 - alpha) g^2
        v~ <- v - gbar^2, gbar <- alpha gbar + (1 - alpha) g      (centered: a variance estimate)
        b <- momentum b + g / (sqrt(v~) + eps), p <- p - lr * b   (momentum > 0)
        p <- p - lr * g / (sqrt(v~) + eps)                        (otherwise)
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, maximize=maximize))

    def init_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        state = {"step": 0, "square_avg": zeros_like(param)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = zeros_like(param)
        if group["centered"]:
            state["grad_avg"] = zeros_like(param)
        return state

    def update(self, param: Tensor, grad: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        alpha, momentum = group["alpha"], group["momentum"]
        if group["weight_decay"]:
            grad = grad.add(param, alpha=group["weight_decay"])
        state["step"] += 1
        square_avg = state["square_avg"].mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
        if group["centered"]:
            grad_avg = state["grad_avg"].lerp_(grad, 1 - alpha)
            average = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt()
        else:
            average = square_avg.sqrt()
        average = average.add_(group["eps"])
        if momentum > 0:
            velocity = state["momentum_buffer"].mul_(momentum).addcdiv_(grad, average)
            param.add_(velocity, alpha=-group["lr"])
        else:
            param.addcdiv_(grad, average, value=-group["lr"])
