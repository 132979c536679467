"""PyTorch's `torch.nn.functional`: every neural-network function and loss, once. `import edugrad.nn.functional as F`.

Each is composed from Tensor ops, so none needs a backward of its own, except convolution, whose
Function (function.Conv2d) keeps memory down. Functions that behave differently while training
(dropout, batch_norm) take `training=` as PyTorch's do; layers pass their `Module.training`.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np

from edugrad.autograd import no_grad
from edugrad.creation import arange, cat, rand, zeros_like
from edugrad.function import Conv2d, GeluTanh, LayerNorm, Linear, MaxPool2d, Window
from edugrad.indexing import take_rows
from edugrad.ops import DType
from edugrad.shapes import broadcast_shape
from edugrad.tensor import Tensor, where

# ---------------------------------------------------------------- activations


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    return input.relu_() if inplace else input.relu()


def sigmoid(input: Tensor) -> Tensor:
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:
    return input.tanh()


# where(x > 0, ...) rather than relu differences: at x = 0 the gradient is then the negative
# side's slope, as in PyTorch, instead of the 0 that relu's kink would give
def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    return activation(input, lambda x: where(x > 0, x, x * negative_slope), inplace, "leaky_relu")


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    # min(x, 0) by where, its whole gradient going to x <= 0
    return activation(input, lambda x: x.relu() + alpha * (where(x > 0, 0.0, x).exp() - 1), inplace, "elu")


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    if approximate == "tanh":
        return GeluTanh.apply(input._float())
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return 0.5 * input * (1 + (input * (1 / math.sqrt(2))).erf())


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    return activation(input, lambda x: x * x.sigmoid(), inplace, "silu")


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + e^(beta x)) / beta, written as max(z, 0) + log(1 + e^-|z|) so it never overflows."""
    z = input * beta
    # maximum, not relu: at z = 0 it passes half the gradient, the slope 1/2 that |z| (slope 0 there) leaves out
    smooth = (z.maximum(0) + (1 + (-z.abs()).exp()).log()) / beta
    return where(z > threshold, input, smooth)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    return activation(input, lambda x: x * softplus(x).tanh(), inplace, "mish")


def softsign(input: Tensor) -> Tensor:
    return input / (1 + input.abs())


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """clamp, except that at the bounds themselves no gradient passes, as PyTorch's hardtanh; NaN stays NaN."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val {min_val} cannot be greater than max_val {max_val}")
    return activation(input, lambda x: where(x <= min_val, min_val, where(x >= max_val, max_val, x)), inplace, "hardtanh")


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    return hardtanh(input, 0.0, 6.0, inplace)


def logsigmoid(input: Tensor) -> Tensor:
    return -softplus(-input)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    return activation(input, lambda x: hardtanh(x / 6 + 0.5, 0, 1), inplace, "hardsigmoid")  # no gradient at +-3, as PyTorch


def activation(input: Tensor, fn: Callable[[Tensor], Tensor], inplace: bool, op: str) -> Tensor:
    """fn(input), or with inplace=True, input's contents replaced by it (as `relu_` does)."""
    return input._inplace(fn, op + "_") if inplace else fn(input)


def softmax_dim(ndim: int, dim: int | None) -> int:
    """The dim softmax works on; None picks PyTorch's legacy default: 0 for 0-, 1- and 3-D inputs, else 1."""
    if dim is not None:
        return dim
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:
    return input.softmax(softmax_dim(input.ndim, dim), dtype)


def log_softmax(input: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:
    return input.log_softmax(softmax_dim(input.ndim, dim), dtype)


# ---------------------------------------------------------------- layers


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """input @ weight.T + bias, with weight shaped (out_features, in_features)."""
    if weight.ndim not in (1, 2):
        raise RuntimeError(f"linear: weight must be 1-D or 2-D (out_features, in_features), got {weight.shape}")
    if (input.ndim >= 2 and weight.ndim == 2 and input.shape[-1] == weight.shape[1] and input.dtype == weight.dtype
            and (bias is None or (bias.shape == weight.shape[:1] and bias.dtype == weight.dtype))):
        # (B, T, in) as (B*T, in) rows: one MATMUL, and one for the weight's gradient, instead
        # of a batched product against a broadcast weight whose gradient is B products summed.
        rows = input.reshape(-1, input.shape[-1]) if input.ndim > 2 else input
        out = Linear.apply(rows, weight) if bias is None else Linear.apply(rows, weight, bias)
        return out.reshape(*input.shape[:-1], weight.shape[0]) if input.ndim > 2 else out
    out = input @ (weight.T if weight.ndim == 2 else weight)  # a vector input, or what matmul refuses
    return out + bias if bias is not None else out


def int_tuple(value: Any, n: int, name: str, op: str, minimum: int) -> tuple[int, ...]:
    """An int or a sequence of n ints, each at least `minimum`, as conv and pooling arguments are."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * n
    if len(values) != n or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        raise ValueError(f"{op}: {name} must be an int or {n} ints, got {value!r}")
    if any(v < minimum for v in values):
        raise ValueError(f"{op}: {name} must be {'positive' if minimum else 'non-negative'}, got {value!r}")
    return tuple(int(v) for v in values)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-D cross-correlation of (N, C, H, W) input with (O, C/groups, kh, kw) weight. padding may be an
    int, a pair, 'valid' (none) or 'same' (output as large as the input; stride 1 only; an odd total
    puts the extra row and column after, as PyTorch does)."""
    if input.ndim not in (3, 4) or weight.ndim != 4:
        raise RuntimeError(f"conv2d: expected input (N, C, H, W) or (C, H, W) and weight (O, C/groups, kh, kw), "
                           f"got {input.shape} and {weight.shape}")
    if input.ndim == 3:  # one unbatched image
        return conv2d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0)
    if not isinstance(groups, int) or groups <= 0:
        raise ValueError(f"conv2d: groups must be a positive integer, got {groups!r}")
    n, channels, height, width = input.shape
    out_channels, group_channels, kh, kw = weight.shape
    if channels % groups or out_channels % groups or channels // groups != group_channels:
        raise RuntimeError(f"conv2d: input has {channels} channels and groups={groups}, so the weight needs "
                           f"{channels // groups} input channels per group and out_channels divisible by "
                           f"groups, but its shape is {weight.shape}")
    (sh, sw), (dh, dw) = int_tuple(stride, 2, "stride", "conv2d", 1), int_tuple(dilation, 2, "dilation", "conv2d", 1)
    if padding == "same":
        if (sh, sw) != (1, 1):
            raise ValueError(f"conv2d: padding='same' needs stride 1, got stride={stride}")
        total_h, total_w = dh * (kh - 1), dw * (kw - 1)
        pads = ((total_h // 2, total_h - total_h // 2), (total_w // 2, total_w - total_w // 2))
    elif padding == "valid":
        pads = ((0, 0), (0, 0))
    elif isinstance(padding, str):
        raise ValueError(f"conv2d: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    else:
        ph, pw = int_tuple(padding, 2, "padding", "conv2d", 0)
        pads = ((ph, ph), (pw, pw))
    padded_h, padded_w = height + sum(pads[0]), width + sum(pads[1])
    if padded_h < dh * (kh - 1) + 1 or padded_w < dw * (kw - 1) + 1:
        raise RuntimeError(f"conv2d: kernel {(kh, kw)} with dilation {(dh, dw)} is larger than the "
                           f"padded input {(padded_h, padded_w)}")
    x = input._float()._pad(((0, 0), (0, 0)) + pads)
    out = Conv2d.apply(x, weight._float(), stride=(sh, sw), dilation=(dh, dw), groups=groups)
    return out + bias.reshape(1, -1, 1, 1) if bias is not None else out


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """1-D cross-correlation of (N, C, L) input: conv2d over a height of 1."""
    if input.ndim != 3 or weight.ndim != 3:
        raise RuntimeError(f"conv1d: expected input (N, C, L) and weight (O, C/groups, k), got {input.shape} "
                           f"and {weight.shape}")
    def as_2d(value: Any, name: str, minimum: int) -> Any:  # one value for L becomes (1 or 0, value)
        return value if isinstance(value, str) else (minimum, int_tuple(value, 1, name, "conv1d", minimum)[0])

    if not isinstance(groups, int) or groups < 1:
        raise ValueError(f"conv1d: groups must be a positive integer, got {groups!r}")
    out = conv2d(input.unsqueeze(2), weight.unsqueeze(2), bias, as_2d(stride, "stride", 1),
                 as_2d(padding, "padding", 0), as_2d(dilation, "dilation", 1), groups)
    return out.squeeze(2)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """The gradient of conv2d with respect to its input, used as a layer: spread the input out by the
    stride, pad it, and correlate with the flipped kernels (weight is (C_in, C_out/groups, kh, kw))."""
    op = "conv_transpose2d"
    if input.ndim != 4 or weight.ndim != 4:
        raise RuntimeError(f"{op}: expected 4-D input and weight, got {input.shape} and {weight.shape}")
    if not isinstance(groups, int) or groups <= 0:
        raise ValueError(f"{op}: groups must be a positive integer, got {groups!r}")
    in_channels, group_out, kh, kw = weight.shape
    if input.shape[1] != in_channels or in_channels % groups:
        raise RuntimeError(f"{op}: input has {input.shape[1]} channels but weight {weight.shape} "
                           f"expects {in_channels} (groups={groups})")
    sh, sw = int_tuple(stride, 2, "stride", op, 1)
    (ph, pw), (oh, ow) = int_tuple(padding, 2, "padding", op, 0), int_tuple(output_padding, 2, "output_padding", op, 0)
    dh, dw = int_tuple(dilation, 2, "dilation", op, 1)
    if oh >= max(sh, dh) or ow >= max(sw, dw):
        raise ValueError(f"{op}: output_padding {(oh, ow)} must be smaller than either stride or dilation")
    x = input._float()
    n, c, h, w = x.shape
    # spread out: (h-1)*stride + 1 rows, the input in every stride-th
    x = x.reshape(n, c, h, 1, w, 1)._pad(((0, 0), (0, 0), (0, 0), (0, sh - 1), (0, 0), (0, sw - 1)))
    x = x.reshape(n, c, h * sh, w * sw)[:, :, :(h - 1) * sh + 1, :(w - 1) * sw + 1]
    edge_h, edge_w = dh * (kh - 1) - ph, dw * (kw - 1) - pw
    if edge_h < 0 or edge_w < 0:
        raise ValueError(f"{op}: padding {(ph, pw)} is larger than dilation * (kernel - 1) = "
                         f"{(dh * (kh - 1), dw * (kw - 1))}")
    x = x._pad(((0, 0), (0, 0), (edge_h, edge_h + oh), (edge_w, edge_w + ow)))
    g = groups
    kernels = weight.reshape(g, in_channels // g, group_out, kh, kw).transpose(1, 2)  # (g, C_out/g, C_in/g, kh, kw)
    kernels = kernels.reshape(g * group_out, in_channels // g, kh, kw).flip((2, 3))
    return conv2d(x, kernels, bias, 1, 0, (dh, dw), groups)


def pool_arguments(input: Tensor, kernel_size: Any, stride: Any, padding: Any, dilation: Any, op: str
                   ) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """A 2-D pooling's kernel, stride (the kernel's by default), padding and dilation, checked."""
    if input.ndim not in (3, 4):
        raise RuntimeError(f"{op}: expected (N, C, H, W) or (C, H, W) input, got shape {input.shape}")
    kernel = int_tuple(kernel_size, 2, "kernel_size", op, 1)
    strides = kernel if stride is None or stride == [] else int_tuple(stride, 2, "stride", op, 1)
    (ph, pw), dil = int_tuple(padding, 2, "padding", op, 0), int_tuple(dilation, 2, "dilation", op, 1)
    if ph > kernel[0] // 2 or pw > kernel[1] // 2:
        raise RuntimeError(f"{op}: padding {(ph, pw)} must be at most half the kernel {kernel}")
    height, width = input.shape[-2] + 2 * ph, input.shape[-1] + 2 * pw
    if height < dil[0] * (kernel[0] - 1) + 1 or width < dil[1] * (kernel[1] - 1) + 1:
        raise RuntimeError(f"{op}: kernel {kernel} is larger than the (padded) input {(height, width)}")
    return kernel, strides, (ph, pw), dil


def pool_windows(input: Tensor, kernel_size: Any, stride: Any, padding: Any, dilation: Any, pad_value: float,
                 op: str) -> Tensor:
    """(..., H, W) -> (..., H', W', kh, kw): the windows a 2-D pooling reduces, a view (WINDOW)."""
    kernel, strides, (ph, pw), dil = pool_arguments(input, kernel_size, stride, padding, dilation, op)
    x = input._pad(((0, 0),) * (input.ndim - 2) + ((ph, ph), (pw, pw)), value=pad_value)
    return Window.apply(x, kernel=kernel, stride=strides, dilation=dil)


def kernel_axes_first(windows: Tensor) -> Tensor:
    """(..., H', W', kh, kw) -> (kh, kw, ..., H', W'), a view. Reducing over the leading kernel
    axes keeps every array in the reduction and its backward in long rows of H'*W' elements."""
    n = windows.ndim
    return windows.permute(n - 2, n - 1, *range(n - 2))


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Tensor:
    """The largest value of each window, padding counted as -inf. The gradient of each window goes
    to one element, the first largest (as PyTorch's): the MaxPool2d Function, whose backward is
    far cheaper than that of amax over WINDOW, which also shared it among ties."""
    if ceil_mode or return_indices:
        raise NotImplementedError("max_pool2d: ceil_mode and return_indices are not implemented in edugrad")
    kernel, strides, padding, dil = pool_arguments(input, kernel_size, stride, padding, dilation, "max_pool2d")
    x = input if input.dtype.is_float or padding == (0, 0) else input._float()  # ints have no -inf to pad with
    return MaxPool2d.apply(x, kernel=kernel, stride=strides, padding=padding, dilation=dil)


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """The mean of each window, counting padded zeros as PyTorch does by default."""
    if ceil_mode or not count_include_pad:
        raise NotImplementedError("avg_pool2d: ceil_mode and count_include_pad=False are not implemented in edugrad")
    windows = pool_windows(input._float(), kernel_size, stride, padding, 1, 0.0, "avg_pool2d")
    return kernel_axes_first(windows).mean((0, 1))


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """Average (..., H, W) down to (..., out_h, out_w): output cell i along a dim of size n averages
    input positions floor(i * n / out) to ceil((i + 1) * n / out), PyTorch's windows (they overlap
    when out does not divide n). None in output_size keeps that dim's size."""
    if input.ndim not in (3, 4):
        raise ValueError(f"adaptive_avg_pool2d: expected a 3-D or 4-D input, got shape {input.shape}")
    sizes = check_output_size("adaptive_avg_pool2d", output_size)
    if 0 in input.shape[-2:]:
        raise ValueError(f"adaptive_avg_pool2d: input has an empty spatial dim, shape {input.shape}")
    out_h, out_w = (n if s is None else s for s, n in zip(sizes, input.shape[-2:]))
    return adaptive_mean(adaptive_mean(input, out_h, input.ndim - 2), out_w, input.ndim - 1)


def check_output_size(op: str, output_size: Any) -> tuple[int | None, int | None]:
    sizes = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size, output_size)
    if len(sizes) != 2 or not all(s is None or (isinstance(s, int) and not isinstance(s, bool) and s >= 1) for s in sizes):
        raise ValueError(f"{op}: output_size must be an integer >= 1, None, or a pair of them, got {output_size!r}")
    return sizes[0], sizes[1]


def adaptive_mean(input: Tensor, out: int, dim: int) -> Tensor:
    """Adaptive average along one dim. Averaging rows then columns equals averaging each window,
    since every window is a rectangle."""
    n = input.shape[dim]
    if n % out == 0:  # equal, disjoint windows: split the dim into (out, n // out) and average the second
        return input.unflatten(dim, (out, n // out)).mean(dim + 1)
    windows = [(i * n // out, -(-(i + 1) * n // out)) for i in range(out)]  # [floor, ceil) bounds
    before = (slice(None),) * dim
    return cat([input[before + (slice(start, end),)].mean(dim, keepdim=True) for start, end in windows], dim)


def layer_norm(input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalize over the last len(normalized_shape) dims, then scale by weight and shift by bias."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if input.shape[input.ndim - len(shape):] != shape or len(shape) > input.ndim:
        raise RuntimeError(f"layer_norm: given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size {list(input.shape)}")
    for name, param in (("weight", weight), ("bias", bias)):
        if param is not None and param.shape != shape:
            raise RuntimeError(f"layer_norm: {name} of shape {param.shape} does not match normalized_shape {shape}")
    dims = tuple(range(-len(shape), 0))
    # (x - x.mean(dims)) * (x.var(dims, correction=0) + eps).rsqrt(), as one node
    out = LayerNorm.apply(input._float(), dims=tuple(d % input.ndim for d in dims), eps=eps)
    if weight is not None:
        out = out * weight
    return out + bias if bias is not None else out


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize each channel (dim 1) of an (N, C, ...) input, then scale and shift it per channel.

    training=True uses this batch's mean and (biased) variance, and, when running_mean and
    running_var are given, moves them toward the batch's values in place:
    running = (1 - momentum) * running + momentum * batch, with the unbiased variance, as PyTorch.
    training=False uses the running statistics."""
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C, ...), got {input.shape}")
    channels = (1, -1) + (1,) * (input.ndim - 2)  # per-channel values lined up with dim 1
    for name, stat in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        if stat is not None and stat.shape != (input.shape[1],):
            raise RuntimeError(f"batch_norm: {name} of shape {stat.shape} does not match the "
                               f"{input.shape[1]} channels of input of shape {input.shape}")
    if training:
        count = input.numel() // input.shape[1]
        if count <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, "
                             f"got input of shape {input.shape}")
        dims = (0,) + tuple(range(2, input.ndim))
        mean = input.mean(dims, keepdim=True)
        centered = input - mean
        var = (centered * centered).mean(dims, keepdim=True)
        if running_mean is not None and running_var is not None:
            with no_grad():
                running_mean.mul_(1 - momentum).add_(mean.reshape(-1) * momentum)
                running_var.mul_(1 - momentum).add_(var.reshape(-1) * (momentum * count / (count - 1)))
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: evaluation (training=False) needs running_mean and running_var")
        centered, var = input - running_mean.reshape(channels), running_var.reshape(channels)
    out = centered * (var + eps).rsqrt()
    if weight is not None:
        out = out * weight.reshape(channels)
    return out + bias.reshape(channels) if bias is not None else out


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p), only while training."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return input
    # times a mask of 0 and 1/(1-p), as PyTorch's CPU dropout does (an inf that is dropped gives nan
    # there too): a multiply forward and back, where where() took two numpy where's, ~6x slower each
    mask = (rand(*input.shape) >= p).to(input.dtype) * (1.0 / (1.0 - p)) if p < 1 else zeros_like(input)
    return activation(input, lambda x: x * mask, inplace, "dropout")


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Rows of weight picked by the integer tensor input: out[..., :] = weight[input[...], :].
    The row at padding_idx gets no gradient."""
    if input.dtype.is_float or input.dtype == DType.bool:
        raise TypeError(f"embedding: indices must be integers, got {input.dtype.value}")
    if weight.ndim != 2:
        raise RuntimeError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got shape {weight.shape}")
    n = weight.shape[0]
    if padding_idx is not None and not -n <= padding_idx < n:
        raise IndexError(f"embedding: padding_idx {padding_idx} is out of range for {n} embeddings")
    if input.numel():  # as in PyTorch, a negative index is an error here, not a count from the end
        low, high = int(input.amin().item()), int(input.amax().item())
        if low < 0 or high >= n:
            raise IndexError(f"embedding: index {low if low < 0 else high} is out of range for {n} "
                             f"embeddings (expected 0 to {n - 1})")
    rows = take_rows(weight, input)  # checked above: no second range check, as weight[input] would do
    if padding_idx is None:
        return rows
    is_padding = (input == padding_idx % n).unsqueeze(-1)
    return where(is_padding, rows.detach(), rows)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    if tensor.dtype != DType.int64:
        raise TypeError(f"one_hot: one_hot is only applicable to index tensor of type int64, got {tensor.dtype.value}")
    if tensor.numel():  # a class outside [0, num_classes) would silently get a row of zeros
        low, high = int(tensor.amin().item()), int(tensor.amax().item())
        num_classes = high + 1 if num_classes == -1 else num_classes
        if low < 0 or high >= num_classes:
            raise RuntimeError(f"one_hot: class {low if low < 0 else high} is out of range for "
                               f"{num_classes} classes (expected 0 to {num_classes - 1})")
    elif num_classes == -1:
        raise RuntimeError("one_hot: can not infer total number of classes from empty tensor")
    classes = arange(num_classes).reshape((1,) * tensor.ndim + (num_classes,))
    return (tensor.unsqueeze(-1) == classes).long()


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad with a constant, in PyTorch's order: (left, right) of the last dim, then of the one before...
    Negative amounts crop."""
    if mode != "constant":
        raise NotImplementedError(f"pad: only mode='constant' is implemented, got {mode!r}")
    if not all(isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in pad):
        raise TypeError(f"pad: amounts must be integers, got {tuple(pad)}")
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: {tuple(pad)} must hold (before, after) pairs for at most "
                         f"{input.ndim} dims of {input.shape}")
    pairs = [(0, 0)] * (input.ndim - len(pad) // 2) + [(pad[i], pad[i + 1]) for i in reversed(range(0, len(pad), 2))]
    if any(n + min(b, 0) + min(a, 0) < 0 for (b, a), n in zip(pairs, input.shape)):  # cropping past the size
        raise RuntimeError(f"pad: padding {tuple(pad)} would give a negative size for input of shape {input.shape}")
    x = input._shrink(tuple((max(-b, 0), n - max(-a, 0)) for (b, a), n in zip(pairs, input.shape)))
    return x._pad([(max(b, 0), max(a, 0)) for b, a in pairs], value=0.0 if value is None else value)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
                                 dropout_p: float = 0.0, is_causal: bool = False,
                                 scale: float | None = None) -> Tensor:
    """softmax(q k^T / sqrt(d) + mask) v, for queries (..., L, d), keys (..., S, d), values (..., S, dv)."""
    if query.shape[-1] != key.shape[-1]:
        raise RuntimeError(f"scaled_dot_product_attention: query dim {query.shape[-1]} and key dim "
                           f"{key.shape[-1]} differ")
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = (query @ key.transpose(-2, -1)) * scale
    if is_causal:
        # -inf added above the diagonal (as PyTorch's reference math does) rather than where():
        # the add's backward passes the gradient straight through (softmax already gave the
        # future weight 0), and numpy runs WHERE's per-element branch ~6x slower than an add.
        future = np.triu(np.full((query.shape[-2], key.shape[-2]), -math.inf, dtype=np.float32), 1)
        scores = scores + Tensor(future).to(scores.dtype)
    if attn_mask is not None:
        scores = where(attn_mask, scores, -math.inf) if attn_mask.dtype == DType.bool else scores + attn_mask
        # a query whose keys are all masked gets a zero output, as in PyTorch, not softmax's 0/0 = nan
        visible = (scores.detach() > -math.inf).any(-1, keepdim=True)
        weights = where(visible, where(visible, scores, 0.0).softmax(-1), 0.0)
    else:
        weights = scores.softmax(-1)
    return dropout(weights, dropout_p, training=dropout_p > 0) @ value


# ---------------------------------------------------------------- losses


def reduce_loss(loss: Tensor, reduction: str, op: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def class_dim(input: Tensor) -> int:
    """Where the classes are: dim 1 of (N, C, ...) scores, dim 0 of one unbatched (C,) row."""
    return 1 if input.ndim > 1 else 0


def check_targets(input: Tensor, target: Tensor, ignore_index: int, op: str) -> bool:
    """Refuse targets that are not integer class indices of the right shape, or out of range;
    whether any target is ignore_index. The range is checked on the host (two numpy reductions),
    where as Tensor ops it took more than the loss itself on a small batch."""
    c = class_dim(input)
    expected = input.shape[:c] + input.shape[c + 1:]
    if not isinstance(target, Tensor) or target.dtype.is_float or target.dtype == DType.bool:
        found = target.dtype.value if isinstance(target, Tensor) else type(target).__name__
        raise TypeError(f"{op}: targets must be an integer tensor of class indices, got {found}")
    if target.shape != expected:
        raise ValueError(f"{op}: input {input.shape} needs integer targets of shape {expected}, got {target.shape}")
    n, host = input.shape[c], np.asarray(target)  # the host values, no copy (Tensor.__array__)
    if host.size and (host.min() < 0 or host.max() >= n):
        bad = host[((host < 0) | (host >= n)) & (host != ignore_index)]
        if bad.size:
            raise IndexError(f"{op}: target {bad.flat[0]} is out of bounds for {n} classes")
    return bool(host.size) and bool((host == ignore_index).any())


def target_mask(input: Tensor, target: Tensor, ignore_index: int, op: str) -> Tensor:
    """A bool one-hot of the (checked) integer targets along the class dim, all False where target
    is ignore_index. Picking with where(mask, ...) cannot turn a -inf score elsewhere in the row into
    a NaN, as a product with a one-hot would."""
    check_targets(input, target, ignore_index, op)
    c, n = class_dim(input), input.shape[class_dim(input)]
    classes = arange(n).reshape([n if i == c else 1 for i in range(input.ndim)])
    return (target.unsqueeze(c) == classes) & (target != ignore_index).unsqueeze(c)


def class_weights(input: Tensor, weight: Tensor | None, op: str) -> Tensor | None:
    """Per-class weights lined up with the class dim, or None."""
    if weight is None:
        return None
    c = class_dim(input)
    if weight.shape != (input.shape[c],):
        raise ValueError(f"{op}: weight must have one entry per class, shape ({input.shape[c]},), got {weight.shape}")
    return weight.reshape([input.shape[c] if d == c else 1 for d in range(input.ndim)])


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities (N, C, ...) at integer targets (N, ...).
    The mean divides by the total weight of the targets that are not ignored, as PyTorch does."""
    return negative_log_likelihood(input, target, weight, ignore_index, reduction, "nll_loss")


def negative_log_likelihood(input: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int,
                            reduction: str, op: str) -> Tensor:
    """nll_loss, with errors named after `op`, the function the user called. Each target's score is
    picked by GATHER (backward: SCATTER_ADD), not by a (N, C) one-hot mask: a few ops on N numbers."""
    any_ignored, c = check_targets(input, target, ignore_index, op), class_dim(input)
    class_weights(input, weight, op)  # checks the weights: one per class
    valid = target != ignore_index if any_ignored else None
    index = where(valid, target, 0) if valid is not None else target  # an ignored target picks class 0, unused
    picked = input.gather(c, index.unsqueeze(c)).squeeze(c)  # (N, ...): the targets' scores
    target_weight = None if weight is None else weight.gather(0, index.reshape(-1)).reshape(index.shape)
    losses = -picked if target_weight is None else -(picked * target_weight)
    if valid is not None:
        losses = where(valid, losses, 0.0)
    if reduction == "mean":
        if target_weight is None:
            return losses.sum() / (valid.sum() if valid is not None else float(target.numel()))
        return losses.sum() / (where(valid, target_weight, 0.0) if valid is not None else target_weight).sum()
    return reduce_loss(losses, reduction, op)


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy of logits (N, C, ...) with integer classes (N, ...) or class
    probabilities (N, C, ...), optionally weighted per class and with label smoothing: the target
    keeps 1 - label_smoothing of its mass and spreads the rest evenly over the classes."""
    if input.ndim < 1:
        raise ValueError("cross_entropy: input needs at least 1 dim (classes)")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    c = class_dim(input)
    num_classes = input.shape[c]
    log_probs = input.log_softmax(c)
    w = class_weights(input, weight, "cross_entropy")
    weighted = log_probs if w is None else log_probs * w
    if target.dtype.is_float:  # class probabilities; the mean is over samples, whatever the weights
        if target.shape != input.shape:
            raise ValueError(f"cross_entropy: probability targets must match input shape {input.shape}, "
                             f"got {target.shape}")
        probs = target * (1 - label_smoothing) + label_smoothing / num_classes
        return reduce_loss(-(probs * weighted).sum(c), reduction, "cross_entropy")
    nll = negative_log_likelihood(log_probs, target, weight, ignore_index, reduction, "cross_entropy")
    if not label_smoothing:
        return nll
    valid = target != ignore_index
    smooth = where(valid, -weighted.sum(c), 0.0)
    if reduction == "mean":  # divided by the targets' total weight, like the nll term
        mask = target_mask(input, target, ignore_index, "cross_entropy")
        smooth = smooth.sum() / (valid.sum() if w is None else where(mask, w, 0.0).sum())
    else:
        smooth = reduce_loss(smooth, reduction, "cross_entropy")
    return (1 - label_smoothing) * nll + (label_smoothing / num_classes) * smooth


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    broadcast_shape(input.shape, target.shape, "mse_loss")  # so a mismatch names the loss
    diff = input - target
    return reduce_loss(diff * diff, reduction, "mse_loss")


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    broadcast_shape(input.shape, target.shape, "l1_loss")
    return reduce_loss((input - target).abs(), reduction, "l1_loss")


def smooth_l1_loss(input: Tensor, target: Tensor, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta: quadratic near 0, linear far away."""
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    broadcast_shape(input.shape, target.shape, "smooth_l1_loss")
    d = (input - target).abs()
    loss = d if beta == 0 else where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)
    return reduce_loss(loss, reduction, "smooth_l1_loss")


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """delta times smooth_l1_loss with beta = delta: the same curve, not divided by delta."""
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    return smooth_l1_loss(input, target, reduction, delta) * delta


def same_shape(input: Tensor, target: Tensor, op: str) -> None:
    if target.shape != input.shape:
        raise ValueError(f"{op}: using a target size ({target.shape}) that is different to the input size "
                         f"({input.shape}) is not allowed; make them the same")


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         reduction: str = "mean") -> Tensor:
    """BCE of probabilities in [0, 1]; logs are clamped at -100 as PyTorch does; weight rescales each element."""
    same_shape(input, target, "binary_cross_entropy")
    if input.numel() and not ((input >= 0) & (input <= 1)).all().item():
        raise RuntimeError("binary_cross_entropy: all elements of input should be between 0 and 1")
    if target.numel() and not ((target >= 0) & (target <= 1)).all().item():
        raise RuntimeError("binary_cross_entropy: all elements of target should be between 0 and 1")
    loss = -(target * input.log().maximum(-100) + (1 - target) * (1 - input).log().maximum(-100))
    return reduce_loss(loss if weight is None else loss * weight, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     reduction: str = "mean", pos_weight: Tensor | None = None) -> Tensor:
    """BCE of logits, as (1 - t) x + w softplus(-x): stable for any logit. pos_weight scales the
    positive term per class."""
    same_shape(input, target, "binary_cross_entropy_with_logits")
    log_weight = 1 + (pos_weight - 1) * target if pos_weight is not None else 1
    loss = (1 - target) * input + log_weight * softplus(-input, threshold=math.inf)
    return reduce_loss(loss if weight is None else loss * weight, reduction, "binary_cross_entropy_with_logits")


def kl_div(input: Tensor, target: Tensor, reduction: str = "mean", log_target: bool = False) -> Tensor:
    """KL(target || exp(input)) with input log-probabilities, pointwise; 'batchmean' divides by the batch."""
    loss = target.exp() * (target - input) if log_target else \
        where(target > 0, target * (where(target > 0, target, 1.0).log() - input), 0.0)
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return reduce_loss(loss, reduction, "kl_div")


__all__ = [
    "relu", "leaky_relu", "elu", "gelu", "silu", "mish", "softsign", "hardtanh", "relu6", "logsigmoid", "hardsigmoid",
    "sigmoid", "tanh", "softplus", "softmax", "log_softmax",
    "linear", "conv1d", "conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d",
    "layer_norm", "batch_norm", "dropout", "embedding", "one_hot", "pad", "scaled_dot_product_attention",
    "nll_loss", "cross_entropy", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "kl_div",
]
