"""Shape rules shared by every layer above the backend: size arguments and broadcasting."""

from __future__ import annotations

from typing import Any

import numpy as np

from edugrad.backend.base import Shape


def shape_arg(shape: tuple[Any, ...], op: str) -> Shape:
    """Accept both f(2, 3) and f((2, 3)), as PyTorch does; sizes are non-negative (or -1 to infer)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for s in shape:
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"{op}: sizes must be integers, got {shape!r}")
        if s < -1:
            raise ValueError(f"{op}: sizes must be non-negative, got {tuple(shape)}")
    return tuple(int(s) for s in shape)


def broadcast_shape(a: Shape, b: Shape, op: str) -> Shape:
    """Shape of a and b broadcast together, aligning trailing dims as PyTorch and numpy do."""
    ndim = max(len(a), len(b))
    a_full, b_full = (1,) * (ndim - len(a)) + a, (1,) * (ndim - len(b)) + b
    out = []
    for i, (x, y) in enumerate(zip(a_full, b_full)):
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"{op}: shapes {a} and {b} cannot be broadcast together: "
                             f"dim {i - ndim} is {x} vs {y}")
        out.append(y if x == 1 else x)
    return tuple(out)
