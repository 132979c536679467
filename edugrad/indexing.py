# mypy: disable-error-code="misc"
"""The indexing engine behind `x[index]`, `x[index] = value` and `gather`.

Basic indices (ints, slices, None, ...) are movement ops: SHRINK keeps a range, STRIDE every k-th
element, RESHAPE drops or adds dims. Integer tensors (and lists) pick elements with the GATHER
primitive, whose gradient is SCATTER_ADD; a bool mask becomes the integer positions of its True
elements. A result of `x[index]` is a view in PyTorch's sense in one direction: an in-place change
to it is written back into x (InPlace._inplace), but a later change to x does not show in it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, NamedTuple, Sequence, Union

import numpy as np

from edugrad.function import Gather, Stride
from edugrad.ops import DType
from edugrad.shapes import broadcast_shape

if TYPE_CHECKING:
    from edugrad.tensor import Tensor

TensorLike = Union["Tensor", int, float, bool]


class MaxResult(NamedTuple):
    """What max(dim), min(dim), sort and topk return, as in PyTorch: the values and the index of each."""

    values: Tensor
    indices: Tensor


def holds_tensor(value: Any) -> bool:
    return hasattr(value, "storage")  # the Tensor class is defined after this module, which it builds on


def getitem(x: Tensor, index: Any) -> Tensor:
    items = normalize(x, index)
    bounds, steps, out_shape, tensor_dims = [], [], [], []
    dim = 0
    for item in items:
        if item is None:
            out_shape.append(1)
            continue
        n = x.shape[dim]
        if holds_tensor(item):
            tensor_dims.append((len(out_shape), item))
            bounds.append((0, n))
            steps.append(1)
            out_shape.append(n)
        elif isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            if not -n <= item < n:
                raise IndexError(f"index: index {item} is out of range for dim {dim} with size {n}")
            bounds.append((int(item) % n, int(item) % n + 1))
            steps.append(1)
        else:  # a slice: normalize() let nothing else through
            if item.step is not None and item.step <= 0:
                raise ValueError(f"index: slice step must be positive, got {item.step} (use flip to reverse)")
            start, stop, step = item.indices(n)
            stop = max(stop, start)
            bounds.append((start, stop))
            steps.append(step)
            out_shape.append(len(range(start, stop, step)))
        dim += 1
    out = x._shrink(bounds)
    if any(s != 1 for s in steps):
        out = Stride.apply(out, steps=tuple(steps))
    out = out.reshape(tuple(out_shape))
    if not tensor_dims:
        return out
    # Integer tensors: the basic indices (and None) first, then gather along the indexed dims.
    return index_with_tensors(out, tensor_dims)


def normalize(x: Tensor, index: Any) -> list[Any]:
    """The index as a list with one entry per dim of x (or None for a new dim): lists, ranges and
    numpy arrays become tensors, bool masks their positions, and `...` the full slices it stands for."""
    items = list(index) if isinstance(index, tuple) else [index]
    items = [index_tensor(x, i) if isinstance(i, (list, np.ndarray, range)) else i for i in items]
    for item in items:
        if not (item is None or item is Ellipsis or isinstance(item, slice) or holds_tensor(item)
                or (isinstance(item, (int, np.integer)) and not isinstance(item, bool))):
            raise TypeError(f"index: unsupported index {item!r} of type {type(item).__name__}")
    if any(holds_tensor(i) and i.dtype == DType.bool for i in items):
        items = expand_masks(x, items)
    if sum(i is Ellipsis for i in items) > 1:
        raise IndexError("index: an index can only have a single ellipsis ('...')")
    consumed = sum(1 for i in items if i is not None and i is not Ellipsis)
    if consumed > x.ndim:
        raise IndexError(f"index: too many indices for a tensor of shape {x.shape}: {consumed} given")
    # The dims no index names become full slices: at the ellipsis if there is one, else at the end.
    if any(i is Ellipsis for i in items):
        at = next(k for k, i in enumerate(items) if i is Ellipsis)
        items[at:at + 1] = [slice(None)] * (x.ndim - consumed)
    else:
        items += [slice(None)] * (x.ndim - consumed)
    return items


def index_tensor(x: Tensor, index: Any) -> Tensor:
    """A list, range or numpy array used as an index, as an int64 or bool tensor."""
    array = np.asarray(list(index) if isinstance(index, range) else index)
    if array.dtype.kind not in "iub" and array.size:
        raise IndexError(f"index: tensors used as indices must be long, int or bool tensors, got {array.dtype}")
    return x.new_tensor(array, dtype=DType.bool if array.dtype.kind == "b" else DType.int64)


def expand_masks(x: Tensor, items: list[Any]) -> list[Any]:
    """A bool mask becomes one integer index tensor per dim it covers (its true positions), after
    checking that it matches the dims it covers. The positions are read back to the host: the
    result's shape depends on the data."""
    out: list[Any] = []
    dim = 0
    for item in items:
        if holds_tensor(item) and item.dtype == DType.bool:
            if item.ndim == 0:
                raise IndexError("index: a 0-d bool mask is not supported; index with a 1-d mask of the dim's size")
            covered = x.shape[dim:dim + item.ndim]
            if item.shape != covered:
                raise IndexError(f"index: the shape of the mask {item.shape} does not match the shape "
                                 f"{covered} of the indexed tensor's dims {dim}..{dim + item.ndim - 1}")
            out.extend(x.new_tensor(p, dtype=DType.int64) for p in np.nonzero(item.numpy()))
            dim += item.ndim
        else:
            out.append(item)
            dim += item is not None and item is not Ellipsis
    return out


def check_index(index: Tensor, size: int, op: str, negative_ok: bool = True) -> Tensor:
    """The index with negative entries counted from the end, or an IndexError naming the bad one."""
    if index.dtype.is_float or index.dtype == DType.bool:
        raise IndexError(f"{op}: index tensors must be integers, got {index.dtype.value}")
    if not index.numel():
        return index
    # The bounds are read on the host: two numpy reductions, where amin and amax as Tensor ops
    # were six ops and two .item() calls, more than a small gather itself (every embedding lookup).
    host = index.storage.data.to_host()  # not .numpy(): that copies a read-only (expanded) view
    low, high = int(host.min()), int(host.max())
    if low < (-size if negative_ok else 0) or high >= size:
        raise IndexError(f"{op}: index {high if high >= size else low} is out of bounds for dim of size {size}")
    return (index + size).where(index < 0, index) if low < 0 else index


def one_hot_rows(index: Tensor, num_classes: int, dtype: DType) -> Tensor:
    """(..., num_classes) rows of 0 and 1, a 1 at each index (already checked to be in range)."""
    classes = index.new_tensor(np.arange(num_classes), dtype=DType.int64).reshape((1,) * index.ndim + (num_classes,))
    return (index.unsqueeze(-1) == classes).to(dtype)


def take_rows(x: Tensor, index: Tensor) -> Tensor:
    """x[index] along dim 0 by the GATHER primitive: each row of the result is copied from x, exactly,
    for every dtype; the gradient is added back to the rows it came from (SCATTER_ADD)."""
    n, rest = x.shape[0], x.shape[1:]
    rows = x.reshape(n, math.prod(rest))  # explicit size: -1 is ambiguous when empty
    # the same row index across each row: a stride-0 view, which the backend reads as a plain row take
    picks = index.reshape(-1, 1).expand(index.numel(), rows.shape[1])
    return Gather.apply(rows, picks, axis=0).reshape(*index.shape, *rest)


def index_with_tensors(x: Tensor, indexed: list[tuple[int, Tensor]]) -> Tensor:
    """Advanced indexing on dims `pos` with integer tensors, following numpy's placement rule:
    the index dims replace the indexed dims if those are adjacent, else they go first."""
    positions = [pos for pos, _ in indexed]
    sizes = [x.shape[pos] for pos in positions]
    indices = [check_index(t, n, "index") for (_, t), n in zip(indexed, sizes)]
    index_shape = indices[0].shape
    for t in indices[1:]:
        index_shape = broadcast_shape(index_shape, t.shape, "index")
    flat = x.new_zeros(*index_shape, dtype=DType.int64)
    for t, n in zip(indices, sizes):  # row-major position within the indexed dims
        flat = flat * n + t.to(DType.int64)
    others = [d for d in range(x.ndim) if d not in positions]
    rows = x.permute(positions + others).reshape(math.prod(sizes), *[x.shape[d] for d in others])
    out = take_rows(rows, flat)  # (*index_shape, *other dims)
    adjacent = positions == list(range(positions[0], positions[0] + len(positions)))
    if not adjacent or positions[0] == 0:
        return out
    k = len(index_shape)
    order = list(range(k, k + positions[0])) + list(range(k)) + list(range(k + positions[0], out.ndim))
    return out.permute(order)


def gather(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """out[i][j] = x[i][index[i][j]] for dim=1 (and likewise for other dims)."""
    d = x._dim(dim, "gather")
    if not holds_tensor(index) or index.ndim != x.ndim:
        raise RuntimeError(f"gather: index must be a tensor with as many dims as the input ({x.ndim}), "
                           f"got {getattr(index, 'shape', index)}")
    if any(i > s for k, (i, s) in enumerate(zip(index.shape, x.shape)) if k != d):
        raise RuntimeError(f"gather: index {index.shape} is larger than the input {x.shape} in a dim other than {d}")
    if x.ndim == 0:  # a scalar holds one value, at index 0
        check_index(index, 1, "gather", negative_ok=False)
        return x
    index = check_index(index, x.shape[d], "gather", negative_ok=False)  # as torch.gather
    values = x._shrink([(0, i) if k != d else (0, s) for k, (i, s) in enumerate(zip(index.shape, x.shape))])
    return Gather.apply(values, index.to(DType.int64), axis=d)


def setitem(x: Tensor, index: Any, value: TensorLike) -> Tensor:
    """x with the elements `index` selects replaced by `value`: a WHERE over a mask of those elements.
    The mask comes from indexing a tensor of flat positions the same way; a tensor of values is
    first GATHERed into place (where an index repeats, the last value wins, as in PyTorch)."""
    positions = x.new_tensor(np.arange(x.numel()).reshape(x.shape), dtype=DType.int64)
    chosen = getitem(positions, index)  # the flat position of every selected element
    flat_chosen = chosen.numpy().reshape(-1)
    mask = np.zeros(x.numel(), dtype=bool)
    mask[flat_chosen] = True
    keep = x.new_tensor(~mask.reshape(x.shape), dtype=DType.bool)
    if not holds_tensor(value) or value.numel() == 1:  # type: ignore[union-attr]
        fill = value.reshape(()) if holds_tensor(value) else value  # type: ignore[union-attr]
        return x.where(keep, fill)
    values = value.to(x.dtype).expand(chosen.shape).reshape(-1)  # type: ignore[union-attr]
    source = np.zeros(x.numel(), dtype=np.int64)  # for each position of x, which value lands there
    source[flat_chosen] = np.arange(flat_chosen.size)
    placed = take_rows(values, x.new_tensor(source, dtype=DType.int64)).reshape(x.shape)
    return x.where(keep, placed)


class Indexing:
    """The indexing half of Tensor's vocabulary (Tensor inherits it): reading elements by position,
    taking parts (narrow, split, chunk, roll), and the selections whose result depends on the values
    (sort, topk, nonzero)."""

    __slots__ = ()

    def __getitem__(self: Tensor, index: Any) -> Tensor:
        out = getitem(self, index)
        # a view: in-place changes to it reach self
        out._base = (self, "index", index)
        return out

    def gather(self: Tensor, dim: int, index: Tensor) -> Tensor:
        return gather(self, dim, index)

    def index_select(self: Tensor, dim: int, index: Tensor) -> Tensor:
        d = self._dim(dim, "index_select")
        if index.ndim > 1:
            raise IndexError(f"index_select: index must be 1-D, got shape {index.shape}")
        check_index(index, self.shape[d] if self.ndim else 1, "index_select", negative_ok=False)  # as PyTorch
        return self[(slice(None),) * d + (index.reshape(-1),)]

    def masked_select(self: Tensor, mask: Tensor) -> Tensor:
        shape = broadcast_shape(self.shape, mask.shape, "masked_select")
        return self.expand(shape)[mask.expand(shape)]

    def nonzero(self: Tensor, as_tuple: bool = False) -> Any:
        positions = np.nonzero(self.numpy())
        if as_tuple:
            return tuple(self.new_tensor(p, dtype=DType.int64) for p in positions)
        return self.new_tensor(np.stack(positions, axis=1).reshape(-1, self.ndim), dtype=DType.int64)

    def sort(self: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> MaxResult:
        """The order is found on the host (a data-dependent permutation); the values are then
        gathered, so they carry the gradient."""
        d = self._dim(dim, "sort")
        host = self.detach().numpy()
        keys = host.astype(np.int64) if host.dtype == np.bool_ else host
        if descending:  # NaN counts as the largest value, as in PyTorch: first when descending
            keys = np.where(np.isnan(keys), -np.inf, -keys) if keys.dtype.kind == "f" else -keys
        order = np.argsort(keys, axis=d, kind="stable")
        if descending and keys.dtype.kind == "f":  # -inf from NaN and from +inf tie: put the NaNs first
            order = np.take_along_axis(order, np.argsort(~np.isnan(np.take_along_axis(host, order, d)), axis=d,
                                                         kind="stable"), d)
        indices = self.new_tensor(order, dtype=DType.int64)
        return MaxResult(self.gather(d, indices) if self.ndim else self, indices)

    def argsort(self: Tensor, dim: int = -1, descending: bool = False) -> Tensor:
        return self.sort(dim, descending).indices

    def topk(self: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> MaxResult:
        d = self._dim(dim, "topk")
        if not 0 <= k <= self.shape[d]:
            raise RuntimeError(f"topk: k ({k}) is out of range for dim {d} of size {self.shape[d]}")
        values, indices = self.sort(d, descending=largest)
        return MaxResult(values.narrow(d, 0, k), indices.narrow(d, 0, k))

    def roll(self: Tensor, shifts: int | Sequence[int], dims: int | Sequence[int] | None = None) -> Tensor:
        """Shift elements along dims, wrapping around: the two parts swap places."""
        if dims is None:
            return self.flatten().roll(shifts, 0).reshape(self.shape)
        shift_list = [shifts] if isinstance(shifts, int) else list(shifts)
        dim_list = [dims] if isinstance(dims, int) else list(dims)
        if len(shift_list) != len(dim_list):
            raise RuntimeError(f"roll: shifts {shifts} and dims {dims} must have the same length")
        x = self
        for shift, dim in zip(shift_list, dim_list):
            d = x._dim(dim, "roll")
            n = x.shape[d]
            if n and shift % n:
                head, tail = x.split([n - shift % n, shift % n], d)
                head_padding, tail_padding = [(0, 0)] * x.ndim, [(0, 0)] * x.ndim
                head_padding[d], tail_padding[d] = (shift % n, 0), (0, n - shift % n)
                x = head._pad(head_padding) + tail._pad(tail_padding)
        return x

    def narrow(self: Tensor, dim: int, start: int, length: int) -> Tensor:
        d = self._dim(dim, "narrow")
        n = self.shape[d]
        start = start + n if start < 0 else start
        if not 0 <= start <= n or length < 0 or start + length > n:
            raise IndexError(f"narrow: start {start} and length {length} exceed dim {d} of size {n}")
        bounds = [(0, s) for s in self.shape]
        bounds[d] = (start, start + length)
        return self._shrink(bounds)

    def split(self: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0) -> list[Tensor]:
        d = self._dim(dim, "split")
        n = self.shape[d]
        if isinstance(split_size_or_sections, int):
            if split_size_or_sections < 0 or (split_size_or_sections == 0 and n > 0):
                raise RuntimeError(f"split: split_size must be positive (or 0 for a dim of size 0), got "
                                   f"{split_size_or_sections} for dim {d} of size {n}")
            # an empty dim still splits into one empty part, as in PyTorch
            sizes = [min(split_size_or_sections, n - i) for i in range(0, n, split_size_or_sections or 1)] or [0]
        elif not isinstance(split_size_or_sections, (list, tuple)):
            raise TypeError(f"split: split_size_or_sections must be an int or a list of ints, got {split_size_or_sections!r}")
        else:
            sizes = list(split_size_or_sections)
            if any(s < 0 for s in sizes) or sum(sizes) != n:
                raise RuntimeError(f"split: sections {sizes} must be non-negative and sum to dim {d}'s size {n}")
        out, start = [], 0
        for size in sizes:
            out.append(self.narrow(d, start, size))
            start += size
        return out

    def chunk(self: Tensor, chunks: int, dim: int = 0) -> list[Tensor]:
        if not isinstance(chunks, int) or chunks <= 0:
            raise RuntimeError(f"chunk: chunks must be a positive integer, got {chunks!r}")
        d = self._dim(dim, "chunk")
        n = self.shape[d]
        if n == 0:  # as in PyTorch: `chunks` empty parts
            return [self.narrow(d, 0, 0) for _ in range(chunks)]
        return self.split(math.ceil(n / chunks), dim)

    def unbind(self: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
        d = self._dim(dim, "unbind")
        return tuple(t.squeeze(d) for t in self.split(1, d))
