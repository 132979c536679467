"""Adam and AdamW: steps scaled by running averages of the gradient and of its square."""

from __future__ import annotations

import math
from typing import Any

from edugrad.creation import zeros_like
from edugrad.optim.optimizer import Optimizer, ParamsT
from edugrad.tensor import Tensor


class Adam(Optimizer):
    """Adam (Kingma & Ba), as PyTorch computes it. With g the gradient and t the step count:

        g <- g + weight_decay * p                  (L2; with decoupled_weight_decay, AdamW, instead
                                                    p <- p - lr * weight_decay * p)
        m <- beta1 m + (1 - beta1) g               v <- beta2 v + (1 - beta2) g^2
        v <- max(v_max, v)                         (amsgrad: the largest v seen so far)
        p <- p - lr / (1 - beta1^t) * m / (sqrt(v / (1 - beta2^t)) + eps)
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, decoupled_weight_decay=decoupled_weight_decay))

    def init_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        state = {"step": 0, "exp_avg": zeros_like(param), "exp_avg_sq": zeros_like(param)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = zeros_like(param)
        return state

    def update(self, param: Tensor, grad: Tensor, state: dict[str, Any], group: dict[str, Any]) -> Tensor:
        lr, (beta1, beta2), weight_decay = group["lr"], group["betas"], group["weight_decay"]
        if weight_decay and not group["decoupled_weight_decay"]:
            grad = grad + weight_decay * param
        state["step"] += 1
        t = state["step"]
        m = state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * grad
        v = state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * (grad * grad)
        if group["amsgrad"]:
            v = state["max_exp_avg_sq"] = state["max_exp_avg_sq"].maximum(v)
        if weight_decay and group["decoupled_weight_decay"]:
            param = param * (1 - lr * weight_decay)
        denominator = v.sqrt() * (1 / math.sqrt(1 - beta2 ** t)) + group["eps"]
        return param - (lr / (1 - beta1 ** t)) * m / denominator


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): p shrinks by lr * weight_decay * p
    each step, apart from the gradient's averages. PyTorch's default weight_decay is 0.01."""

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)
