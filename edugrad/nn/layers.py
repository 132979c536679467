"""Layers with weights (Linear, Conv2d, ConvTranspose2d, Embedding) and the shape layers around them.

Each initialises its weights in `reset_parameters()` with nn/init.py, as PyTorch does, so a model
starts from the same distribution: Linear and Conv weights from kaiming_uniform_(a=sqrt(5)), which
is U(-1/sqrt(fan_in), 1/sqrt(fan_in)), biases from the same range, Embedding from N(0, 1). The
random numbers come from edugrad's own generator (`edugrad.manual_seed`), not PyTorch's.

Constructor arguments are checked once, by one helper per kind of argument (a count, a pair of
sizes, a probability), so `Conv2d(1, 2, 3, stride=0)` is refused naming the layer, the argument
and the value instead of failing later inside the convolution.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from edugrad.autograd import no_grad
from edugrad.creation import arange, empty
from edugrad.nn import functional as F
from edugrad.nn import init
from edugrad.nn.module import Module, Parameter
from edugrad.tensor import Tensor, where


# ------------------------------------------------------------ argument checks, one per kind
def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_count(layer: str, name: str, value: Any, minimum: int) -> int:
    """in_features, channels, groups, num_embeddings: an int >= minimum."""
    if not _is_int(value) or value < minimum:
        raise ValueError(f"{layer}: {name} must be an integer >= {minimum}, got {value!r}")
    return value


def _check_pair(layer: str, name: str, value: Any, minimum: int) -> tuple[int, int]:
    """kernel_size, stride, padding, dilation: an int or a pair of ints, each >= minimum; returns the pair."""
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or not all(_is_int(v) and v >= minimum for v in pair):
        raise ValueError(f"{layer}: {name} must be an integer >= {minimum} or a pair of them, got {value!r}")
    return pair[0], pair[1]


def _check_probability(layer: str, name: str, value: Any) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1:
        raise ValueError(f"{layer}: {name} must be a probability in [0, 1], got {value!r}")
    return value


def _reset_bias(bias: Parameter | None, weight: Tensor) -> None:
    """PyTorch's default bias: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in taken from the weight."""
    if bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        init.uniform_(bias, -bound, bound)


class Identity(Module):
    """Returns its input: a placeholder where a layer is optional."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    """y = x @ weight.T + bias, weight shaped (out_features, in_features)."""

    weight: Parameter
    bias: Parameter | None

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        self.in_features = _check_count("Linear", "in_features", in_features, 0)
        self.out_features = _check_count("Linear", "out_features", out_features, 0)
        self.weight = Parameter(empty(out_features, in_features))
        self.bias = Parameter(empty(out_features)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        _reset_bias(self.bias, self.weight)

    def forward(self, input: Tensor) -> Tensor:
        if input.shape[-1:] != (self.in_features,):
            raise ValueError(f"Linear: expected input with last dim {self.in_features}, got shape {input.shape}")
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class _ConvNd(Module):
    """What Conv2d and ConvTranspose2d share, as in PyTorch: the checked arguments, the weight and
    bias and their init, and the repr. A convolution's weight is (C_out, C_in/groups, kh, kw); a
    transposed one's (C_in, C_out/groups, kh, kw), since it is the convolution's gradient."""

    weight: Parameter
    bias: Parameter | None

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any, padding: Any,
                 dilation: Any, transposed: bool, output_padding: Any, groups: int, bias: bool) -> None:
        super().__init__()
        name = type(self).__name__
        self.in_channels = _check_count(name, "in_channels", in_channels, 1)
        self.out_channels = _check_count(name, "out_channels", out_channels, 1)
        self.groups = _check_count(name, "groups", groups, 1)
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) "
                             f"must both be divisible by groups ({groups})")
        self.kernel_size = _check_pair(name, "kernel_size", kernel_size, 1)
        self.stride = _check_pair(name, "stride", stride, 1)
        self.dilation = _check_pair(name, "dilation", dilation, 1)
        self.padding: tuple[int, int] | str
        if isinstance(padding, str) and not transposed:
            if padding not in ("valid", "same"):
                raise ValueError(f"{name}: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
            if padding == "same" and self.stride != (1, 1):
                raise ValueError(f"{name}: padding='same' needs stride 1, got stride={stride!r}")
            self.padding = padding
        else:
            self.padding = _check_pair(name, "padding", padding, 0)
        self.output_padding = _check_pair(name, "output_padding", output_padding, 0)
        if any(o >= s and o >= d for o, s, d in zip(self.output_padding, self.stride, self.dilation)):
            raise ValueError(f"{name}: output_padding {self.output_padding} must be smaller than either "
                             f"stride {self.stride} or dilation {self.dilation}")
        self.transposed = transposed
        kh, kw = self.kernel_size
        shape = (in_channels, out_channels // groups) if transposed else (out_channels, in_channels // groups)
        self.weight = Parameter(empty(*shape, kh, kw))
        self.bias = Parameter(empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # fan_in comes from the weight's dim 1 for both kinds, as in PyTorch (C_out/groups*kh*kw when transposed)
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        _reset_bias(self.bias, self.weight)

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        for name, value, default in (("padding", self.padding, (0, 0)), ("dilation", self.dilation, (1, 1)),
                                     ("output_padding", self.output_padding, (0, 0))):
            if value != default:
                text += f", {name}={value}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        return text + (", bias=False" if self.bias is None else "")


class Conv2d(_ConvNd):
    """2-D convolution (cross-correlation) over (N, C_in, H, W); weight (C_out, C_in/groups, kh, kw).
    padding may be an int, a pair, 'valid' or 'same'."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         transposed=False, output_padding=0, groups=groups, bias=bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class ConvTranspose2d(_ConvNd):
    """The transpose (gradient) of Conv2d, used to upsample; weight (C_in, C_out/groups, kh, kw)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         transposed=True, output_padding=output_padding, groups=groups, bias=bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                  self.output_padding, self.groups, self.dilation)


def _check_pool_arguments(layer: str, kernel_size: Any, stride: Any, padding: Any, dilation: Any) -> None:
    """The pooling layers keep their arguments as given (PyTorch's repr shows them so); the checks
    see pairs. Padding beyond half the window would make windows of padding only."""
    kernel = _check_pair(layer, "kernel_size", kernel_size, 1)
    dilations = _check_pair(layer, "dilation", dilation, 1)
    _check_pair(layer, "stride", stride, 1)
    for pad, k, d in zip(_check_pair(layer, "padding", padding, 0), kernel, dilations):
        if pad > (d * (k - 1) + 1) // 2:
            raise ValueError(f"{layer}: padding {padding!r} must be at most half the kernel size {kernel_size!r}")


class MaxPool2d(Module):
    """The largest value in each kernel_size window; stride defaults to kernel_size."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        stride = kernel_size if stride is None else stride
        _check_pool_arguments("MaxPool2d", kernel_size, stride, padding, dilation)
        if return_indices or ceil_mode:  # accepted as PyTorch spells them; only the defaults are built
            raise NotImplementedError("MaxPool2d: ceil_mode=True and return_indices=True are not implemented in edugrad")
        self.kernel_size, self.stride, self.padding, self.dilation = kernel_size, stride, padding, dilation

    def forward(self, input: Tensor) -> Tensor:
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, dilation={self.dilation}"


class AvgPool2d(Module):
    """The mean of each kernel_size window (padded zeros count, as PyTorch's default)."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__()
        stride = kernel_size if stride is None else stride
        _check_pool_arguments("AvgPool2d", kernel_size, stride, padding, 1)
        if ceil_mode or not count_include_pad:  # accepted as PyTorch spells them; only the defaults are built
            raise NotImplementedError("AvgPool2d: ceil_mode=True and count_include_pad=False are not implemented in edugrad")
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class Embedding(Module):
    """A lookup table: row i of weight (num_embeddings, embedding_dim) is the vector of index i."""

    weight: Parameter

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None) -> None:
        super().__init__()
        _check_count("Embedding", "num_embeddings", num_embeddings, 0)
        _check_count("Embedding", "embedding_dim", embedding_dim, 0)
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} is out of range for "
                                 f"{num_embeddings} embeddings")
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim, self.padding_idx = num_embeddings, embedding_dim, padding_idx
        self.weight = Parameter(empty(num_embeddings, embedding_dim))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:  # the padding row starts at zero, as in PyTorch
            is_padding_row = arange(self.num_embeddings).reshape(-1, 1) == self.padding_idx
            with no_grad():  # an in-place change to a leaf that requires grad, as PyTorch's is
                self.weight.copy_(where(is_padding_row, 0.0, self.weight.detach()))

    def forward(self, input: Tensor) -> Tensor:
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        return text + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")


class Dropout(Module):
    """Zeroes each element with probability p while training, scaling the rest by 1/(1-p)."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        self.p = _check_probability("Dropout", "p", p)

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Flatten(Module):
    """Merge dims start_dim..end_dim into one: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim into the given sizes: the inverse of Flatten."""

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, input: Tensor) -> Tensor:
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size, whatever the input's: AdaptiveAvgPool2d((1, 1)) is
    global average pooling, AdaptiveAvgPool2d(7) gives (N, C, 7, 7) from any (N, C, H, W)."""

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        F.check_output_size("AdaptiveAvgPool2d", output_size)
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
