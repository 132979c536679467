"""Normalization layers: BatchNorm (statistics over the batch, per channel) and LayerNorm (per sample)."""

from __future__ import annotations

from typing import Sequence

from edugrad.creation import ones, zeros
from edugrad.nn import functional as F
from edugrad.nn.module import Module, Parameter
from edugrad.ops import DType
from edugrad.tensor import Tensor


class _BatchNorm(Module):
    """Normalize each channel with the batch's mean and variance while training, and keep running
    averages of them for evaluation.

    momentum: how far each batch moves the running statistics, running = (1 - momentum) * running +
    momentum * batch; None averages all batches seen so far equally. The running variance uses the
    unbiased batch variance, the normalization the biased one, both as in PyTorch.
    track_running_stats=False keeps no running statistics and uses batch statistics in eval too."""

    weight: Parameter | None
    bias: Parameter | None
    running_mean: Tensor | None
    running_var: Tensor | None
    num_batches_tracked: Tensor | None
    input_dims: tuple[int, ...] = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, *, bias: bool = True) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.weight = Parameter(ones(num_features)) if affine else None
        self.bias = Parameter(zeros(num_features)) if affine and bias else None
        track = track_running_stats
        self.register_buffer("running_mean", zeros(num_features) if track else None)
        self.register_buffer("running_var", ones(num_features) if track else None)
        self.register_buffer("num_batches_tracked", Tensor(0, dtype=DType.int64) if track else None)

    def forward(self, input: Tensor) -> Tensor:
        name = type(self).__name__
        if input.ndim not in self.input_dims:
            raise ValueError(f"{name}: expected a {' or '.join(f'{d}-D' for d in self.input_dims)} input, "
                             f"got shape {input.shape}")
        if input.shape[1] != self.num_features:
            raise ValueError(f"{name}: expected {self.num_features} channels in dim 1, got shape {input.shape}")
        momentum = self.momentum
        if self.training and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            if momentum is None:  # a cumulative average: batch k gets weight 1/k
                momentum = 1.0 / self.num_batches_tracked.item()
        use_batch_stats = self.training or self.running_mean is None
        return F.batch_norm(input, self.running_mean, self.running_var, self.weight, self.bias,
                            use_batch_stats, momentum if momentum is not None else 0.0, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """BatchNorm over (N, C) or (N, C, L) inputs."""

    input_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """BatchNorm over (N, C, H, W) inputs."""

    input_dims = (4,)


class LayerNorm(Module):
    """Normalize each sample over its last dims (normalized_shape), then scale and shift."""

    weight: Parameter | None
    bias: Parameter | None

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape, self.eps, self.elementwise_affine = shape, eps, elementwise_affine
        self.weight = Parameter(ones(*shape)) if elementwise_affine else None
        self.bias = Parameter(zeros(*shape)) if elementwise_affine and bias else None

    def forward(self, input: Tensor) -> Tensor:
        if input.shape[input.ndim - len(self.normalized_shape):] != self.normalized_shape:
            raise ValueError(f"LayerNorm: expected input whose last dims are {self.normalized_shape}, "
                             f"got shape {input.shape}")
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")
