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

from typing import TYPE_CHECKING, Any, Callable, Union

from edugrad import autograd
from edugrad.backend.base import TensorData
from edugrad.random import generator_of

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
    # the tensor this is a view of, and which view: ("reshape", shape) or ("index", index). Only
    # these are stored, not functions to read and write the view: views are made on every forward
    # pass, and an in-place change to one is rare; `read_view` and `write_view` derive the two then.
    _base: tuple[Tensor, str, Any] | None
    _grad: Tensor | None

    @property
    def grad(self: Tensor) -> Tensor | None:
        """The gradient that backward() accumulated (None until then)."""
        return self._grad

    @grad.setter
    def grad(self: Tensor, value: Tensor | None) -> None:
        """As in PyTorch, an assigned gradient must be None or a tensor of this tensor's shape and dtype."""
        if value is not None:
            if not isinstance(value, InPlace):  # every Tensor is one
                raise TypeError(f"grad: assigned grad expected to be a Tensor or None, got {type(value).__name__}")
            if value.shape != self.shape or value.dtype != self.dtype:
                raise RuntimeError(f"grad: attempting to assign a gradient of shape {value.shape} and dtype "
                                   f"{value.dtype.value} to a tensor of shape {self.shape} and dtype {self.dtype.value}")
        self._grad = value

    @property
    def data(self: Tensor) -> Tensor:
        """PyTorch's `.data`: this tensor's storage, detached from the graph."""
        return self.detach()

    @data.setter
    def data(self: Tensor, value: Tensor) -> None:
        self.storage = value.storage

    def _inplace(self: Tensor, new_contents: Callable[[Tensor], Tensor], op: str) -> Tensor:
        """Replace this tensor's contents by `new_contents(old contents)`: the heart of every in-place
        method. The old contents are passed as a separate graph node, so the result's history points
        at them, not at self (whose history is about to change). A view (`x[0]`, `x.view(-1)`)
        writes the change through to the tensor it views, as in PyTorch."""
        if self._base is None:
            # With no graph being recorded (an optimizer step) the old contents need no node of their own.
            return self._set(new_contents(self._history() if autograd.GradMode.enabled else self), op)
        base, kind, where = self._base
        base_now = base._history()
        new_view = new_contents(read_view(base_now, kind, where))
        base._inplace(lambda _: write_view(base_now, kind, where, new_view), op)
        return self._set(new_view, op)

    def _set(self: Tensor, value: Tensor, op: str) -> Tensor:
        """Put `value` into this tensor's storage and take its history. As in PyTorch, a leaf that
        requires grad may change only under no_grad: its gradient would describe a value it no longer has."""
        if self.requires_grad and self._ctx is None and autograd.GradMode.enabled:
            raise RuntimeError(f"{op}: a leaf tensor that requires grad (or a view of one) can't be changed "
                               f"in place: do it inside `with edugrad.no_grad():`, or on `.data`")
        if value.dtype.is_float and not self.dtype.is_float:
            raise RuntimeError(f"{op}: result type {value.dtype.value} can't be cast to the desired output "
                               f"type {self.dtype.value}")
        if value.shape != self.shape:
            if len(value.shape) > self.ndim or any(v not in (1, s) for v, s in zip(value.shape[::-1], self.shape[::-1])):
                raise RuntimeError(f"{op}: the result of shape {value.shape} doesn't match the tensor's shape "
                                   f"{self.shape}")
            value = value.expand(self.shape)
        if value.requires_grad and value._ctx is None:
            value = value.clone()  # a node of its own, so the gradient reaches value (copy_ from a parameter)
        self.storage.data = value.storage.data if value.dtype == self.dtype else value.storage.data.cast(self.dtype)
        self.storage.version += 1
        if autograd.GradMode.enabled:  # the change becomes part of the history
            self._ctx, self.requires_grad = value._ctx, value.requires_grad
        return self

    def _history(self: Tensor) -> Tensor:
        """Self as it is now, as a separate node: an in-place result's graph points at this, not at self."""
        t = self.from_data(self.storage.data, self.requires_grad)  # a storage of its own
        t._ctx = self._ctx
        return t

    def copy_(self: Tensor, src: TensorLike) -> Tensor:
        if isinstance(src, (int, float, bool)):
            src = self.new_full(self.shape, src)
        if src.device != self.device:  # type: ignore[union-attr]
            src = src.to(self.device)  # type: ignore[union-attr]
        return self._inplace(lambda old: src, "copy_")  # type: ignore[arg-type,return-value]

    def fill_(self: Tensor, value: Scalar) -> Tensor:
        return self._inplace(lambda old: old.new_full(old.shape, value), "fill_")

    def zero_(self: Tensor) -> Tensor:
        return self.fill_(0)

    def add_(self: Tensor, other: TensorLike, alpha: Scalar = 1) -> Tensor:
        return self._inplace(lambda old: old.add(other, alpha=alpha), "add_")

    def sub_(self: Tensor, other: TensorLike, alpha: Scalar = 1) -> Tensor:
        return self._inplace(lambda old: old.sub(other, alpha=alpha), "sub_")

    def mul_(self: Tensor, other: TensorLike) -> Tensor:
        return self._inplace(lambda old: old.mul(other), "mul_")

    def div_(self: Tensor, other: TensorLike) -> Tensor:
        return self._inplace(lambda old: old.div(other), "div_")

    def pow_(self: Tensor, exponent: TensorLike) -> Tensor:
        return self._inplace(lambda old: old.pow(exponent), "pow_")

    def clamp_(self: Tensor, min: Scalar | None = None, max: Scalar | None = None) -> Tensor:
        return self._inplace(lambda old: old.clamp(min, max), "clamp_")

    def masked_fill_(self: Tensor, mask: Tensor, value: TensorLike) -> Tensor:
        return self._inplace(lambda old: old.masked_fill(mask, value), "masked_fill_")

    def relu_(self: Tensor) -> Tensor:
        return self._inplace(lambda old: old.relu(), "relu_")

    def sqrt_(self: Tensor) -> Tensor:
        return self._inplace(lambda old: old.sqrt(), "sqrt_")

    def exp_(self: Tensor) -> Tensor:
        return self._inplace(lambda old: old.exp(), "exp_")

    def neg_(self: Tensor) -> Tensor:
        return self._inplace(lambda old: old.neg(), "neg_")

    def addcmul_(self: Tensor, tensor1: Tensor, tensor2: Tensor, value: Scalar = 1) -> Tensor:
        return self._inplace(lambda old: old.addcmul(tensor1, tensor2, value), "addcmul_")

    def addcdiv_(self: Tensor, tensor1: Tensor, tensor2: Tensor, value: Scalar = 1) -> Tensor:
        return self._inplace(lambda old: old.addcdiv(tensor1, tensor2, value), "addcdiv_")

    def lerp_(self: Tensor, end: Tensor, weight: TensorLike) -> Tensor:
        return self._inplace(lambda old: old.lerp(end, weight), "lerp_")

    def uniform_(self: Tensor, a: float = 0.0, b: float = 1.0, *, generator: Any = None) -> Tensor:
        with autograd.no_grad():
            return self._inplace(lambda old: old._random_like(generator) * (b - a) + a, "uniform_")

    def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Tensor:
        from edugrad.creation import randn  # creation.py builds on Tensor, so it comes later
        with autograd.no_grad():
            return self._inplace(lambda old: randn(*old.shape, dtype=old.dtype, generator=generator) * std + mean,
                                 "normal_")

    def _random_like(self: Tensor, generator: Any = None) -> Tensor:
        return self.from_data(generator_of(generator, "uniform_").uniform(self.shape)).to(self.dtype)

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
        self._inplace(lambda old: setitem(old, index, value), "__setitem__")


def read_view(base: Tensor, kind: str, where: Any) -> Tensor:
    """The view of `base` that `x.reshape(where)` ("reshape") or `x[where]` ("index") made."""
    from edugrad.indexing import getitem  # the indexing engine, which imports Tensor
    return base.reshape(where) if kind == "reshape" else getitem(base, where)


def write_view(base: Tensor, kind: str, where: Any, value: Tensor) -> Tensor:
    """`base` with that view of it replaced by `value`."""
    from edugrad.indexing import setitem
    return value.reshape(base.shape) if kind == "reshape" else setitem(base, where, value)
