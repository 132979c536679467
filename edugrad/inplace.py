# mypy: disable-error-code="misc"
"""In-place operations, and the PyTorch rules that make them safe to use with autograd.

A Tensor holds a `Storage`: the backend's TensorData (immutable: every op makes new data) and a
version counter. An in-place method computes the new contents with ordinary ops, puts them into
the storage, and bumps the version. So:

- every Tensor that shares the storage (`detach()`, `.data`) sees the change, as in PyTorch;
- a Function that saved an input records the input's version; if it changed before backward,
  backward refuses (autograd.check_versions) instead of differentiating through data that is gone;
- a leaf that requires grad (a parameter) may change only under `no_grad()`: otherwise its
  gradient would describe a value it no longer has.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Union

from edugrad import autograd
from edugrad.backend import get_backend
from edugrad.backend.base import TensorData

if TYPE_CHECKING:
    from edugrad.tensor import Tensor

Scalar = Union[int, float, bool]
TensorLike = Union["Tensor", Scalar]


class Storage:
    """The data behind one or more Tensors, and how many times it was changed in place."""

    __slots__ = ("data", "version")

    def __init__(self, data: TensorData):
        self.data, self.version = data, 0


class InPlace:
    """The in-place half of Tensor's vocabulary (Tensor inherits it): methods ending in `_`, the
    augmented operators (`+=`, ...), item assignment, and `.data`."""

    __slots__ = ()
    storage: Storage

    @property
    def data(self: Tensor) -> Tensor:
        """PyTorch's `.data`: this tensor's storage, detached from the graph."""
        return self.detach()

    @data.setter
    def data(self: Tensor, value: Tensor) -> None:
        self.storage = value.storage

    def _set(self: Tensor, value: Tensor, op: str) -> Tensor:
        """Make `value` (computed from self's old contents) this tensor's contents: the heart of every
        in-place method. As in PyTorch, a leaf that requires grad may change only under no_grad."""
        if self.requires_grad and self._ctx is None and autograd.GradMode.enabled:
            raise RuntimeError(f"{op}: a leaf tensor that requires grad can't be changed in place: "
                               f"do it inside `with edugrad.no_grad():`, or on `.data`")
        if value.shape != self.shape:
            value = value.expand(self.shape)
        self.storage.data = value.storage.data if value.dtype == self.dtype else value.storage.data.cast(self.dtype)
        self.storage.version += 1
        if autograd.GradMode.enabled and value.requires_grad:  # the change becomes part of the history
            self._ctx, self.requires_grad = value._ctx, True
        return self

    def _history(self: Tensor) -> Tensor:
        """Self as it is now, as a separate node: an in-place result's graph points at this, not at self."""
        t = type(self).from_data(self.storage.data, self.requires_grad)  # a storage of its own
        t._ctx = self._ctx
        return t

    def copy_(self: Tensor, src: TensorLike) -> Tensor:
        if isinstance(src, (int, float, bool)):
            src = self.new_full(self.shape, src)
        if src.device != self.device:  # type: ignore[union-attr]
            src = src.to(self.device)  # type: ignore[union-attr]
        return self._set(src, "copy_")  # type: ignore[arg-type]

    def fill_(self: Tensor, value: Scalar) -> Tensor:
        return self._set(self.new_full(self.shape, value), "fill_")

    def zero_(self: Tensor) -> Tensor:
        return self.fill_(0)

    def add_(self: Tensor, other: TensorLike, alpha: Scalar = 1) -> Tensor:
        return self._set(self._history().add(other, alpha=alpha), "add_")

    def sub_(self: Tensor, other: TensorLike, alpha: Scalar = 1) -> Tensor:
        return self._set(self._history().sub(other, alpha=alpha), "sub_")

    def mul_(self: Tensor, other: TensorLike) -> Tensor:
        return self._set(self._history().mul(other), "mul_")

    def div_(self: Tensor, other: TensorLike) -> Tensor:
        return self._set(self._history().div(other), "div_")

    def pow_(self: Tensor, exponent: TensorLike) -> Tensor:
        return self._set(self._history().pow(exponent), "pow_")

    def clamp_(self: Tensor, min: Scalar | None = None, max: Scalar | None = None) -> Tensor:
        return self._set(self._history().clamp(min, max), "clamp_")

    def masked_fill_(self: Tensor, mask: Tensor, value: TensorLike) -> Tensor:
        return self._set(self._history().masked_fill(mask, value), "masked_fill_")

    def relu_(self: Tensor) -> Tensor:
        return self._set(self._history().relu(), "relu_")

    def sqrt_(self: Tensor) -> Tensor:
        return self._set(self._history().sqrt(), "sqrt_")

    def exp_(self: Tensor) -> Tensor:
        return self._set(self._history().exp(), "exp_")

    def neg_(self: Tensor) -> Tensor:
        return self._set(self._history().neg(), "neg_")

    def addcmul_(self: Tensor, tensor1: Tensor, tensor2: Tensor, value: Scalar = 1) -> Tensor:
        return self._set(self._history() + value * tensor1 * tensor2, "addcmul_")

    def addcdiv_(self: Tensor, tensor1: Tensor, tensor2: Tensor, value: Scalar = 1) -> Tensor:
        return self._set(self._history() + value * tensor1 / tensor2, "addcdiv_")

    def lerp_(self: Tensor, end: Tensor, weight: TensorLike) -> Tensor:
        return self._set(self._history().lerp(end, weight), "lerp_")

    def uniform_(self: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
        with autograd.no_grad():
            return self._set(self._random_like() * (b - a) + a, "uniform_")

    def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
        from edugrad.creation import randn  # creation.py builds on Tensor, so it comes later
        with autograd.no_grad():
            return self._set(randn(*self.shape, dtype=self.dtype) * std + mean, "normal_")

    def _random_like(self: Tensor) -> Tensor:
        return type(self).from_data(get_backend().random(self.shape)).to(self.dtype)

    def __iadd__(self: Tensor, other: TensorLike) -> Tensor:
        return self.add_(other)

    def __isub__(self: Tensor, other: TensorLike) -> Tensor:
        return self.sub_(other)

    def __imul__(self: Tensor, other: TensorLike) -> Tensor:
        return self.mul_(other)

    def __itruediv__(self: Tensor, other: TensorLike) -> Tensor:
        return self.div_(other)

    def __setitem__(self: Tensor, index: Any, value: TensorLike) -> None:
        """x[index] = value, as PyTorch: every element the index selects takes the value."""
        from edugrad.indexing import setitem  # the indexing engine, which imports Tensor
        self._set(setitem(self._history(), index, value), "__setitem__")

