"""Adam and AdamW: steps scaled by running averages of the gradient and of its square."""

from __future__ import annotations

import math
from typing import Any, Callable

from edugrad.creation import zeros_like
from edugrad.autograd import no_grad
from edugrad.optim.optimizer import Optimizer, ParamsT


class Adam(Optimizer):
    """Adam (Kingma & Ba), as PyTorch computes it:

        m <- beta1 m + (1 - beta1) g            v <- beta2 v + (1 - beta2) g^2
        p <- p - lr / (1 - beta1^t) * m / (sqrt(v / (1 - beta2^t)) + eps)

    weight_decay adds weight_decay * p to g (L2), or with decoupled_weight_decay=True (AdamW)
    shrinks p by lr * weight_decay * p directly. amsgrad=True divides by the largest v seen so far."""

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False) -> None:
        name = type(self).__name__
        if lr < 0:
            raise ValueError(f"{name}: invalid learning rate {lr} (must be >= 0)")
        if eps < 0:
            raise ValueError(f"{name}: invalid eps {eps} (must be >= 0)")
        if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"{name}: invalid betas {betas} (each must be in [0, 1))")
        if weight_decay < 0:
            raise ValueError(f"{name}: invalid weight_decay {weight_decay} (must be >= 0)")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, decoupled_weight_decay=decoupled_weight_decay))

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            weight_decay, amsgrad = group["weight_decay"], group["amsgrad"]
            decoupled = group["decoupled_weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = -p.grad if group["maximize"] else p.grad
                param = p.detach()
                if weight_decay and not decoupled:
                    g = g + weight_decay * param
                state = self.state.setdefault(p, {})
                if not state:
                    state.update(step=0, exp_avg=zeros_like(p), exp_avg_sq=zeros_like(p))
                    if amsgrad:
                        state["max_exp_avg_sq"] = zeros_like(p)
                state["step"] += 1
                t = state["step"]
                m = state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * g
                v = state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * (g * g)
                if amsgrad:
                    v = state["max_exp_avg_sq"] = state["max_exp_avg_sq"].maximum(v)
                denominator = v.sqrt() * (1 / math.sqrt(1 - beta2 ** t)) + eps
                if weight_decay and decoupled:
                    param = param * (1 - lr * weight_decay)
                p.copy_(param - (lr / (1 - beta1 ** t)) * m / denominator)
        return loss


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): p shrinks by lr * weight_decay * p
    each step, apart from the gradient's averages. PyTorch's default weight_decay is 0.01."""

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)
