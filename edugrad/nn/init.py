"""edugrad.nn.init: PyTorch's weight initialisation schemes, under PyTorch's names.

Each function fills the tensor it is given in place and returns it, as PyTorch's trailing `_`
promises:

    nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")
    nn.init.zeros_(conv.bias)

"In place" here means the tensor object keeps its identity (a model and an optimizer holding it
see the new values) while its data is replaced (`Tensor.assign`), under no_grad so that no graph
is recorded. The random numbers come from edugrad's default generator (`edugrad.manual_seed`), or the
`generator=` given, as in PyTorch.

The schemes scale the spread of the weights by the layer's fan (see `_calculate_fan_in_and_fan_out`)
so that activations and gradients keep roughly the same variance from layer to layer:
Xavier/Glorot for tanh/sigmoid networks, Kaiming/He for ReLU networks.
"""

from __future__ import annotations

import math

import numpy as np

from edugrad.autograd import no_grad
from edugrad.creation import eye, full, rand, randn
from edugrad.random import Generator
from edugrad.tensor import Tensor, where

_LINEAR_GAINS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                 "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor by which a nonlinearity shrinks the standard deviation of its input, to undo in
    the init: 1 for linear layers and sigmoid, 5/3 for tanh, sqrt(2) for relu,
    sqrt(2 / (1 + slope^2)) for leaky_relu (slope 0.01 unless `param` gives it), 3/4 for selu."""
    if nonlinearity in _LINEAR_GAINS:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; expected one of "
                     f"{', '.join(_LINEAR_GAINS)}, tanh, relu, leaky_relu, selu")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight shaped (out, in, *kernel): in * prod(kernel), out * prod(kernel).
    ConvTranspose weights are shaped (in, out/groups, *kernel), so their "fan_in" is PyTorch's too."""
    if len(_shape_of(tensor, "_calculate_fan_in_and_fan_out")) < 2:
        raise ValueError(f"_calculate_fan_in_and_fan_out: fan in and fan out can not be computed for a tensor "
                         f"with fewer than 2 dimensions, got shape {tensor.shape}")
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _shape_of(tensor: Tensor, op: str) -> tuple[int, ...]:
    """The shape of the tensor to fill, checking first that it is one."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{op}: expected a Tensor to fill, got {type(tensor).__name__}")
    return tensor.shape


def _fill(tensor: Tensor, values: Tensor) -> Tensor:
    """Replace tensor's values with `values` (cast to its dtype), keeping the tensor object."""
    with no_grad():
        return tensor.copy_(values)


def _check_std(op: str, std: float) -> None:
    if not std >= 0:  # also refuses NaN
        raise ValueError(f"{op}: std must be >= 0, got {std}")


# ------------------------------------------------------------ plain distributions and constants
def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Fill with samples from U(a, b)."""
    if not a <= b:
        raise ValueError(f"uniform_: expected a <= b, got a={a}, b={b}")
    return _fill(tensor, rand(*_shape_of(tensor, "uniform_"), generator=generator) * (b - a) + a)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Fill with samples from N(mean, std^2)."""
    _check_std("normal_", std)
    return _fill(tensor, randn(*_shape_of(tensor, "normal_"), generator=generator) * std + mean)


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0,
                  generator: Generator | None = None) -> Tensor:
    """Fill with samples from N(mean, std^2) restricted to [a, b] (a and b are values, not multiples
    of std, as in PyTorch). Samples outside [a, b] are drawn again until none are left: the same
    distribution PyTorch's inverse-CDF method gives, though not the same numbers."""
    _check_std("trunc_normal_", std)
    if not a < b:
        raise ValueError(f"trunc_normal_: expected a < b, got a={a}, b={b}")
    inside = _normal_cdf((b - mean) / std) - _normal_cdf((a - mean) / std) if std > 0 else float(a <= mean <= b)
    if inside < 1e-6:  # redrawing would take millions of rounds
        raise ValueError(f"trunc_normal_: [{a}, {b}] holds a fraction {inside:.3g} of N({mean}, {std}^2); "
                         f"choose bounds nearer the mean")
    values = randn(*_shape_of(tensor, "trunc_normal_"), generator=generator) * std + mean
    outside = (values < a) | (values > b)
    while outside.any().item():
        values = where(outside, randn(*tensor.shape, generator=generator) * std + mean, values)
        outside = (values < a) | (values > b)
    return _fill(tensor, values)


def _normal_cdf(x: float) -> float:
    return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with the value val."""
    return _fill(tensor, full(_shape_of(tensor, "constant_"), val, dtype=tensor.dtype))


def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1.0)


def zeros_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 0.0)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity matrix (ones on the diagonal of a non-square one too):
    a linear layer that starts by passing its inputs through."""
    if len(_shape_of(tensor, "eye_")) != 2:
        raise ValueError(f"eye_: only 2-D tensors are supported, got shape {tensor.shape}")
    rows, cols = tensor.shape
    return _fill(tensor, eye(rows, cols, dtype=tensor.dtype))


# ------------------------------------------------------------ schemes scaled by the fans
def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Glorot & Bengio: U(-bound, bound), bound = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out)) if fan_in + fan_out else 0.0
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Glorot & Bengio: N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out)) if fan_in + fan_out else 0.0
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator: Generator | None = None) -> Tensor:
    """He et al.: U(-bound, bound), bound = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a).
    With a=sqrt(5), PyTorch's default for Linear and Conv weights, bound = 1 / sqrt(fan_in).
    A tensor with no elements is left as it is (PyTorch warns)."""
    if 0 in _shape_of(tensor, "kaiming_uniform_"):
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))
    bound = math.sqrt(3.0) * std  # U(-b, b) has standard deviation b / sqrt(3)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator: Generator | None = None) -> Tensor:
    """He et al.: N(0, std^2), std = gain / sqrt(fan), gain = calculate_gain(nonlinearity, a)."""
    if 0 in _shape_of(tensor, "kaiming_normal_"):
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Saxe et al.: a (semi-)orthogonal matrix times gain; a tensor of more than 2 dims is treated as
    (shape[0], the rest flattened). Its rows (or columns, whichever are fewer) are orthonormal, so
    the layer preserves the norm of what it passes on."""
    if len(_shape_of(tensor, "orthogonal_")) < 2:
        raise ValueError(f"orthogonal_: only tensors with 2 or more dimensions are supported, got shape {tensor.shape}")
    if tensor.numel() == 0:
        return tensor
    rows, cols = tensor.shape[0], tensor.numel() // tensor.shape[0]
    sample = randn(rows, cols, generator=generator).numpy().astype(np.float64)
    # QR of the taller orientation; scaling Q's columns by the signs of R's diagonal makes the result
    # uniformly distributed over orthogonal matrices (as PyTorch does), not biased by the QR routine.
    q, r = np.linalg.qr(sample.T if rows < cols else sample)
    q *= np.sign(np.diag(r))
    matrix = q.T if rows < cols else q
    return _fill(tensor, Tensor(gain * matrix, dtype=tensor.dtype).reshape(tensor.shape))


__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_",
           "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_"]
