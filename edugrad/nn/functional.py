"""PyTorch's `torch.nn.functional` names over edugrad's Tensor methods: `import edugrad.nn.functional as F`.

Most functions are one line: the Tensor method does the work. The few with more lines add what
the method lacks: per-class loss weights, 'same' convolution padding, and BatchNorm's running
statistics.
"""

from __future__ import annotations

from typing import Any, Sequence

from edugrad.ops import DType
from edugrad.tensor import Tensor
from edugrad.tensor import _reduce_loss as _reduce  # the same 'mean'/'sum'/'none' rule as Tensor's losses

# ---------------------------------------------------------------- activations


def relu(input: Tensor) -> Tensor:
    return input.relu()


def leaky_relu(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    return input.leaky_relu(negative_slope)


def elu(input: Tensor, alpha: float = 1.0) -> Tensor:
    return input.elu(alpha)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    return input.gelu(approximate)


def silu(input: Tensor) -> Tensor:
    return input.silu()


def sigmoid(input: Tensor) -> Tensor:
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:
    return input.tanh()


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    return input.softplus(beta, threshold)


def softmax_dim(ndim: int, dim: int | None) -> int:
    """The dim softmax works on; None picks PyTorch's legacy default: 0 for 0-, 1- and 3-D inputs, else 1."""
    if dim is not None:
        return dim
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None) -> Tensor:
    return input.softmax(softmax_dim(input.ndim, dim))


def log_softmax(input: Tensor, dim: int | None = None) -> Tensor:
    return input.log_softmax(softmax_dim(input.ndim, dim))


# ---------------------------------------------------------------- layers


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """input @ weight.T + bias, with weight shaped (out_features, in_features)."""
    return input.linear(weight, bias)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-D cross-correlation. padding may be an int, a pair, 'valid' (none) or 'same' (output as large
    as the input; stride 1 only; an odd total puts the extra row and column after, as PyTorch does)."""
    if padding == "valid":
        padding = 0
    elif padding == "same":
        if stride not in (1, (1, 1), [1, 1]):
            raise ValueError(f"conv2d: padding='same' needs stride 1, got stride={stride}")
        dh, dw = (dilation, dilation) if isinstance(dilation, int) else dilation
        total_h, total_w = dh * (weight.shape[-2] - 1), dw * (weight.shape[-1] - 1)
        input = input.pad((total_w // 2, total_w - total_w // 2, total_h // 2, total_h - total_h // 2))
        padding = 0
    elif isinstance(padding, str):
        raise ValueError(f"conv2d: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    return input.conv2d(weight, bias, stride, padding, dilation, groups)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    return input.conv_transpose2d(weight, bias, stride, padding, output_padding, groups, dilation)


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1) -> Tensor:
    return input.max_pool2d(kernel_size, stride, padding, dilation)


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Tensor:
    return input.avg_pool2d(kernel_size, stride, padding)


def layer_norm(input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    return input.layernorm(normalized_shape, weight, bias, eps)


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize each channel (dim 1) of an (N, C, ...) input.

    training=True uses this batch's mean and (biased) variance, and, when running_mean and
    running_var are given, moves them toward the batch's values in place:
    running = (1 - momentum) * running + momentum * batch, with the unbiased variance, as PyTorch.
    training=False uses the running statistics."""
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C, ...), got {input.shape}")
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: evaluation (training=False) needs running_mean and running_var")
        return input.batchnorm(weight, bias, running_mean, (running_var + eps).rsqrt())
    count = input.numel() // input.shape[1]
    if count <= 1:
        raise ValueError(f"batch_norm: expected more than 1 value per channel when training, "
                         f"got input of shape {input.shape}")
    dims = (0,) + tuple(range(2, input.ndim))
    mean = input.mean(dims, keepdim=True)
    centered = input - mean
    var = (centered * centered).mean(dims, keepdim=True)
    if running_mean is not None and running_var is not None:
        batch_mean, batch_var = mean.detach().reshape(-1), var.detach().reshape(-1)
        running_mean.assign(running_mean * (1 - momentum) + batch_mean * momentum)
        running_var.assign(running_var * (1 - momentum) + batch_var * (momentum * count / (count - 1)))
    return input.batchnorm(weight, bias, mean.reshape(-1), (var + eps).rsqrt().reshape(-1))


def dropout(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    return input.dropout(p, training)


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Rows of weight picked by the integer tensor input: out[..., :] = weight[input[...], :].
    The row at padding_idx gets no gradient."""
    if input.dtype.is_float or input.dtype == DType.bool:
        raise TypeError(f"embedding: indices must be integers, got {input.dtype.value}")
    n = weight.shape[0]
    if input.numel():  # as in PyTorch, a negative index is an error here, not a count from the end
        low, high = int(input.amin().item()), int(input.amax().item())
        if low < 0 or high >= n:
            raise IndexError(f"embedding: index {low if low < 0 else high} is out of range for {n} "
                             f"embeddings (expected 0 to {n - 1})")
    rows = weight[input]
    if padding_idx is None:
        return rows
    is_padding = (input == padding_idx % weight.shape[0]).unsqueeze(-1)
    return Tensor.where(is_padding, rows.detach(), rows)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    return tensor.one_hot(num_classes)


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad with a constant, in PyTorch's order: (left, right) of the last dim, then of the one before..."""
    if mode != "constant":
        raise NotImplementedError(f"pad: only mode='constant' is implemented, got {mode!r}")
    return input.pad(pad, value=0.0 if value is None else value)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
                                 dropout_p: float = 0.0, is_causal: bool = False,
                                 scale: float | None = None) -> Tensor:
    return query.scaled_dot_product_attention(key, value, attn_mask, dropout_p, is_causal, scale)


# ---------------------------------------------------------------- losses


def _class_weight_shape(input: Tensor, weight: Tensor, op: str) -> tuple[int, ...]:
    """The shape that lines a per-class weight up with the class dim (1, or 0 for 1-D input)."""
    class_dim = 1 if input.ndim > 1 else 0
    if weight.shape != (input.shape[class_dim],):
        raise ValueError(f"{op}: weight must have one entry per class, shape ({input.shape[class_dim]},), "
                         f"got {weight.shape}")
    return tuple(input.shape[class_dim] if d == class_dim else 1 for d in range(input.ndim))


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, *, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities (N, C, ...) at integer targets (N, ...).
    With per-class weights the mean divides by the total weight of the targets, as PyTorch does."""
    if weight is None:
        return input.nll(target, reduction, ignore_index)
    _class_weight_shape(input, weight, "nll_loss")
    class_dim = 1 if input.ndim > 1 else 0
    valid = target != ignore_index
    safe_target = Tensor.where(valid, target, 0)
    picked = -input.gather(class_dim, safe_target.unsqueeze(class_dim)).squeeze(class_dim)
    target_weight = Tensor.where(valid, weight[safe_target], 0.0)
    loss = picked * target_weight
    if reduction == "mean":
        return loss.sum() / target_weight.sum()
    return _reduce(loss, reduction, "nll_loss")


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, *, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy of logits (N, C, ...) with integer classes (N, ...) or class
    probabilities (N, C, ...), optionally weighted per class and with label smoothing."""
    if weight is None:
        return input.cross_entropy(target, reduction, label_smoothing, ignore_index)
    class_weight = weight
    weight = weight.reshape(_class_weight_shape(input, weight, "cross_entropy"))  # lined up with the classes
    class_dim = 1 if input.ndim > 1 else 0
    num_classes = input.shape[class_dim]
    log_probs = input.log_softmax(class_dim)
    if target.dtype.is_float:
        probs = target * (1 - label_smoothing) + label_smoothing / num_classes
        return _reduce(-(probs * log_probs * weight).sum(class_dim), reduction, "cross_entropy")
    nll = nll_loss(log_probs, target, class_weight, ignore_index=ignore_index, reduction=reduction)
    if not label_smoothing:
        return nll
    # Smoothing spreads label_smoothing of each target's mass evenly over the classes.
    valid = target != ignore_index
    smooth = Tensor.where(valid, -(log_probs * weight).sum(class_dim), 0.0)
    if reduction == "mean":  # divided by the targets' total weight, like the nll term
        target_weight = Tensor.where(valid, class_weight[Tensor.where(valid, target, 0)], 0.0)
        smooth = smooth.sum() / target_weight.sum()
    else:
        smooth = _reduce(smooth, reduction, "cross_entropy")
    return (1 - label_smoothing) * nll + (label_smoothing / num_classes) * smooth


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    return input.mse(target, reduction)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    return _reduce((input - target).abs(), reduction, "l1_loss")


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         reduction: str = "mean") -> Tensor:
    """BCE of probabilities in [0, 1]; weight rescales each element's loss."""
    if weight is None:
        return input.binary_crossentropy(target, reduction)
    return _reduce(input.binary_crossentropy(target, "none") * weight, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     reduction: str = "mean", pos_weight: Tensor | None = None) -> Tensor:
    """BCE of logits, stable for any logit; pos_weight scales the positive term per class."""
    if weight is None:
        return input.binary_crossentropy_logits(target, reduction, pos_weight)
    loss = input.binary_crossentropy_logits(target, "none", pos_weight) * weight
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")


__all__ = [
    "relu", "leaky_relu", "elu", "gelu", "silu", "sigmoid", "tanh", "softplus", "softmax", "log_softmax",
    "linear", "conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d", "layer_norm", "batch_norm",
    "dropout", "embedding", "one_hot", "pad", "scaled_dot_product_attention",
    "nll_loss", "cross_entropy", "mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
]
