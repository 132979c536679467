"""Making tensors, as PyTorch's module-level functions do: `edugrad.zeros(2, 3)`, `edugrad.randn(4)`,
`edugrad.tensor([1, 2])`, `edugrad.cat([a, b])`, ...

Every tensor starts as one of three primitives: CONST (a value repeated), RANDOM (uniform samples
from the backend's seeded generator) or FROM_HOST (the user's numbers). Everything else here is
composed from those and the Tensor's ops.
"""

from __future__ import annotations

import math
import os
from typing import Any, Sequence

import numpy as np

from edugrad.backend import get_backend
from edugrad.function import Cat
from edugrad.devices import device_of
from edugrad.dtypes import DefaultDtype, default_float, promote, to_dtype
from edugrad.ops import DType
from edugrad.random import generator_of
from edugrad.shapes import shape_arg
from edugrad.tensor import Scalar, Tensor


def _physical_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows): a generous bound
        return 2 ** 40


_MEMORY_BYTES = _physical_memory()


def set_default_dtype(dtype: Any) -> None:
    resolved = to_dtype(dtype, "set_default_dtype")
    if resolved is None or not resolved.is_float:
        raise TypeError(f"set_default_dtype: only floating-point types are supported as the default type, got {dtype!r}")
    DefaultDtype.value = resolved


def get_default_dtype() -> DType:
    return default_float()


def tensor(data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of `data` (numbers, nested lists, a numpy array or a tensor)."""
    if isinstance(data, Tensor):
        data = data.detach().numpy()
    return Tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    if isinstance(data, Tensor) and dtype is None:
        return data
    return tensor(data, dtype, device)


def from_numpy(array: np.ndarray) -> Tensor:
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(array).__name__})")
    return Tensor(array, dtype=to_dtype(array.dtype, "from_numpy"))


def full(size: Any, fill_value: Scalar, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    shape = _sizes(tuple(size) if isinstance(size, (tuple, list)) else (size,), "full")
    resolved = to_dtype(dtype, "full") or (DType.bool if isinstance(fill_value, bool) else DType.int64
                                           if isinstance(fill_value, int) else default_float())
    device_of(device, "full")
    # CONST is lazy (one value, broadcast), so a huge size would only fail, or run for hours, later
    nbytes = math.prod(shape) * np.dtype(resolved.value).itemsize
    if nbytes > _MEMORY_BYTES:
        raise RuntimeError(f"full: a tensor of shape {shape} would take {nbytes} bytes, "
                           f"more than this machine's memory ({_MEMORY_BYTES} bytes)")
    return Tensor.from_data(get_backend().const(fill_value, shape, resolved)).requires_grad_(requires_grad)


def _sizes(size: tuple[Any, ...], op: str) -> tuple[int, ...]:
    """The sizes of a new tensor, refused by the name of the function the user called."""
    shape = shape_arg(size, op)
    if -1 in shape:
        raise ValueError(f"{op}: sizes must be non-negative, got {shape}")
    return shape


def zeros(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return full(_sizes(size, "zeros"), 0.0, dtype=to_dtype(dtype, "zeros") or default_float(), device=device, requires_grad=requires_grad)


def ones(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return full(_sizes(size, "ones"), 1.0, dtype=to_dtype(dtype, "ones") or default_float(), device=device, requires_grad=requires_grad)


def empty(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return full(_sizes(size, "empty"), 0.0, dtype=to_dtype(dtype, "empty") or default_float(), device=device, requires_grad=requires_grad)


def zeros_like(input: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return full(input.shape, 0, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)


def ones_like(input: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return full(input.shape, 1, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)


def empty_like(input: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return zeros_like(input, dtype, device, requires_grad)


def full_like(input: Tensor, fill_value: Scalar, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    return full(input.shape, fill_value, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, *, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if not all(math.isfinite(v) for v in (start, end, step)):
        raise RuntimeError(f"arange: unsupported range: start={start}, end={end}, step={step} (must be finite)")
    if (end - start) * step < 0:
        raise RuntimeError(f"arange: upper bound and larger bound inconsistent with step sign "
                           f"(start={start}, end={end}, step={step})")
    is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
    values = np.arange(start, end, step, dtype=np.int64 if is_int else np.float64)
    return Tensor(values, dtype=to_dtype(dtype, "arange") or (DType.int64 if is_int else default_float()),
                  device=device, requires_grad=requires_grad)


def linspace(start: float, end: float, steps: int, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    if not isinstance(steps, int) or steps < 0:
        raise RuntimeError(f"linspace: number of steps must be non-negative, got {steps!r}")
    return Tensor(np.linspace(start, end, steps), dtype=to_dtype(dtype, "linspace") or default_float(),
                  device=device, requires_grad=requires_grad)


def eye(n: int, m: int | None = None, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    m = n if m is None else m
    if n < 0 or m < 0:
        raise RuntimeError(f"eye: n and m must be non-negative, got {n} and {m}")
    return Tensor(np.eye(n, m), dtype=to_dtype(dtype, "eye") or default_float(), device=device,
                  requires_grad=requires_grad)


def rand(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
         generator: Any = None) -> Tensor:
    """Uniform samples in [0, 1): the RANDOM primitive, or `generator`'s stream (edugrad/random.py)."""
    device_of(device, "rand")
    samples = generator_of(generator, "rand").uniform(_sizes(size, "rand"))
    out = Tensor.from_data(samples).to(_float_dtype(dtype, "rand"))
    return out.requires_grad_(requires_grad)


def randn(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
          generator: Any = None) -> Tensor:
    """Standard normal samples, from two uniform ones by the Box-Muller transform."""
    shape = _sizes(size, "randn")
    u = rand(2, *shape, dtype=DType.float64, generator=generator)
    radius = (-2.0 * (1.0 - u[0]).log()).sqrt()  # 1 - u lies in (0, 1], so the log is finite
    out = radius * (2.0 * math.pi * u[1]).cos()
    return out.to(_float_dtype(dtype, "randn")).requires_grad_(requires_grad)


def _float_dtype(dtype: Any, op: str) -> DType:
    resolved = to_dtype(dtype, op) or default_float()
    if not resolved.is_float:
        raise TypeError(f"{op}: samples are floating-point; dtype {resolved.value} is not (use randint for integers)")
    return resolved


def rand_like(input: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return rand(*input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randn_like(input: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return randn(*input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randint(*args: Any, size: Any = None, dtype: Any = None, device: Any = None, generator: Any = None) -> Tensor:
    """randint(high, size) or randint(low, high, size): integers uniform in [low, high)."""
    if size is None:
        if not args:
            raise TypeError("randint: missing the size argument")
        *args, size = args  # type: ignore[assignment]
    low, high = (0, args[0]) if len(args) == 1 else tuple(args)
    if low >= high:
        raise RuntimeError(f"randint: random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    shape = shape_arg(tuple(size) if isinstance(size, (tuple, list)) else (size,), "randint")
    samples = (rand(*shape, dtype=DType.float64, generator=generator) * (high - low)).floor() + low
    return samples.to(to_dtype(dtype, "randint") or DType.int64)


def randperm(n: int, *, dtype: Any = None, device: Any = None, generator: Any = None) -> Tensor:
    """A random order of 0..n-1: the positions of n uniform samples when sorted."""
    if n < 0:
        raise RuntimeError(f"randperm: n must be non-negative, got {n}")
    return rand(n, generator=generator).argsort().to(to_dtype(dtype, "randperm") or DType.int64)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *, generator: Any = None) -> Tensor:
    """Draw class indices with the probabilities in each row of `input` (weights need not sum to 1).
    With replacement: invert the cumulative distribution at uniform samples. Without: the
    Gumbel-top-k trick, the k largest of log(p) - log(-log(u))."""
    if not isinstance(num_samples, int) or num_samples <= 0:
        raise RuntimeError(f"multinomial: cannot sample n_sample={num_samples!r} samples; expected an integer >= 1")
    if input.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape {input.shape}")
    weights = input.detach().reshape(-1, input.shape[-1]).to(DType.float64)
    host = weights.numpy()
    if (host < 0).any() or not np.isfinite(host).all() or (host.sum(-1) <= 0).any():
        raise RuntimeError("multinomial: probability tensor contains either inf, nan or element < 0, "
                           "or a row that sums to 0")
    categories = host.shape[-1]
    if not replacement and num_samples > categories:
        raise RuntimeError(f"multinomial: cannot sample n_sample={num_samples} > prob_dist.size(-1)={categories} "
                           f"samples without replacement")
    u = rand(host.shape[0], num_samples, dtype=DType.float64, generator=generator).numpy()
    if replacement:
        cumulative = np.cumsum(host, axis=-1)
        picks = np.stack([np.searchsorted(c, row * c[-1], side="right") for c, row in zip(cumulative, u)])
        picks = np.minimum(picks, categories - 1)
    else:
        with np.errstate(divide="ignore"):  # log(0) = -inf: a category of probability 0 is never drawn
            keys = np.log(host) - np.log(-np.log(rand(*host.shape, dtype=DType.float64, generator=generator).numpy()
                                                 + 1e-300))
        picks = np.argsort(-keys, axis=-1, kind="stable")[:, :num_samples]
    out = Tensor(picks.astype(np.int64))
    return out.reshape(num_samples) if input.ndim == 1 else out


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join along dim (the Cat Function: pieces padded to the full length, each element picked from
    its own by WHERE, so -0.0, inf and nan come through untouched)."""
    if not tensors:
        raise RuntimeError("cat: expected a non-empty list of tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"cat: element {i} is a {type(t).__name__}, not a Tensor")
    first = tensors[0]
    if first.ndim == 0:
        raise RuntimeError("cat: zero-dimensional tensors cannot be concatenated; stack them, or reshape to (1,)")
    d = first._dim(dim, "cat")
    dtype = first.dtype
    for i, t in enumerate(tensors):
        if t.ndim != first.ndim or any(a != b for j, (a, b) in enumerate(zip(t.shape, first.shape)) if j != d):
            raise RuntimeError(f"cat: tensor {i} has shape {t.shape} but tensor 0 has shape {first.shape}; "
                               f"all dims except dim {d} must match")
        dtype = promote(dtype, t.dtype)
    tensors = [t.to(dtype) for t in tensors]
    return tensors[0] if len(tensors) == 1 else Cat.apply(*tensors, dim=d)


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    if not tensors:
        raise RuntimeError("stack: expected a non-empty list of tensors")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise RuntimeError(f"stack: tensor {i} has shape {t.shape} but tensor 0 has shape "
                               f"{tensors[0].shape}; all must be equal")
    d = tensors[0]._dim(dim, "stack", tensors[0].ndim + 1)
    return cat([t.unsqueeze(d) for t in tensors], d)


