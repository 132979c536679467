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
        p <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    Written with PyTorch's in-place ops in PyTorch's order (its single-tensor Adam), so the
    numbers agree to float32 rounding: m moves toward g by lerp_, v by mul_ and addcmul_.
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

    def update(self, param: Tensor, grad: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        lr, (beta1, beta2), weight_decay = group["lr"], group["betas"], group["weight_decay"]
        if weight_decay and not group["decoupled_weight_decay"]:
            grad = grad.add(param, alpha=weight_decay)
        if weight_decay and group["decoupled_weight_decay"]:
            param.mul_(1 - lr * weight_decay)
        state["step"] += 1
        t = state["step"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        if group["amsgrad"]:
            exp_avg_sq = state["max_exp_avg_sq"].copy_(state["max_exp_avg_sq"].maximum(exp_avg_sq))
        step_size = lr / (1 - beta1 ** t)
        denominator = (exp_avg_sq.sqrt() / math.sqrt(1 - beta2 ** t)).add_(group["eps"])
        param.addcdiv_(exp_avg, denominator, value=-step_size)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): p shrinks by lr * weight_decay * p
    each step, apart from the gradient's averages. PyTorch's default weight_decay is 0.01."""

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)
