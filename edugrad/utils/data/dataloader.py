"""The DataLoader: fetch a dataset's samples in batches, and ``default_collate`` to stack them.

A pass over ``DataLoader(dataset, batch_size=64, shuffle=True)`` asks its sampler for an order
of indices, its batch sampler to cut that order into lists of 64, and for each list fetches
``[dataset[i] for i in indices]`` and hands them to ``collate_fn``, which makes one batch.
Everything runs in the calling process: ``num_workers``, ``pin_memory`` and the other options
for worker processes and GPUs are accepted so PyTorch programs run, and change nothing.
"""

from __future__ import annotations

import collections.abc
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Generic, TypeVar

import numpy as np

from edugrad.ops import DType
from edugrad.tensor import Tensor
from edugrad.utils.data.dataset import Dataset, TensorDataset
from edugrad.utils.data.sampler import (BatchSampler, GeneratorLike, RandomSampler, Sampler, SequentialSampler,
                                        check_bool)

__all__ = ["DataLoader", "default_collate", "default_convert"]

T_co = TypeVar("T_co", covariant=True)

COLLATE_TYPES = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _is_text_or_object(array: np.ndarray | np.generic) -> bool:
    """Strings, bytes and Python objects have no Tensor dtype: PyTorch refuses to collate them."""
    return array.dtype.kind in "SaUO"


def _as_tensor(array: np.ndarray) -> Tensor:
    """A Tensor of the array's own dtype, as ``torch.as_tensor`` keeps it (``Tensor(array)`` alone
    would make float64 float32); dtypes edugrad lacks go to its nearest (uint8 -> int64)."""
    names = {dtype.value for dtype in DType}
    return Tensor(array, dtype=DType(array.dtype.name) if array.dtype.name in names else None)


def _stack(arrays: list[np.ndarray]) -> Tensor:
    """Stack equal-shaped arrays along a new first dimension, with torch.stack's error otherwise."""
    for entry, array in enumerate(arrays):
        if array.shape != arrays[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(arrays[0].shape)} at "
                               f"entry 0 and {list(array.shape)} at entry {entry}")
    return _as_tensor(np.stack(arrays))


def default_collate(batch: Sequence[Any]) -> Any:
    """Turn a list of samples into one batch, by the type of the first sample (PyTorch's rules):

    - Tensors and numpy arrays: stacked into one Tensor with a new first dimension;
    - Python floats: a float64 Tensor; Python ints: an int64 Tensor (bools: a bool Tensor);
      numpy scalars: a Tensor of their dtype;
    - strings and bytes: left as they are, a list (or, inside tuples, a tuple) of them;
    - dicts: a dict collating each key; namedtuples: the same namedtuple collating each field;
      tuples and lists: a list collating each position (all samples must have the same length).

    The stacked Tensor is built from numpy copies, so it starts a new graph: datasets hold data,
    not parameters. Dtypes edugrad lacks become its nearest (uint8 -> int64, float16 -> float32).
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        if not all(isinstance(sample, Tensor) for sample in batch):
            raise TypeError("default_collate: the batch mixes Tensors with other types: "
                            f"{sorted({type(sample).__name__ for sample in batch})}")
        return _stack([sample.numpy() for sample in batch])
    if isinstance(elem, (np.ndarray, np.generic)) and not isinstance(elem, (np.str_, np.bytes_)):
        if _is_text_or_object(elem):
            raise TypeError(COLLATE_TYPES.format(elem.dtype))
        return _stack([np.asarray(sample) for sample in batch])
    if isinstance(elem, float):
        return _as_tensor(np.array(batch, dtype=np.float64))
    if isinstance(elem, int):
        return Tensor(list(batch))  # int64, or bool for bools (or float32 if floats follow), as torch.tensor infers
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return {key: default_collate([sample[key] for sample in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple
        return type(elem)(*(default_collate(field) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(sample) != len(elem) for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(position) for position in zip(*batch)]
    raise TypeError(COLLATE_TYPES.format(type(elem)))


def default_convert(data: Any) -> Any:
    """Turn numpy arrays (and numpy scalars) inside one sample into Tensors, leaving the rest:
    the collate function when ``batch_size=None`` turns batching off."""
    if isinstance(data, (np.ndarray, np.generic)) and not isinstance(data, (np.str_, np.bytes_)):
        return data if _is_text_or_object(data) else _as_tensor(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        return {key: default_convert(value) for key, value in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(value) for value in data))
    if isinstance(data, (tuple, list)):
        return [default_convert(value) for value in data]
    return data


class DataLoader(Generic[T_co]):
    """Iterate over `dataset` in batches, as ``torch.utils.data.DataLoader`` does.

    ``shuffle=True`` visits the samples in a new random order at every pass (seeded from
    ``edugrad.manual_seed``'s stream, or from `generator`); `sampler` or `batch_sampler` choose
    the order instead. The last batch is smaller when the length does not divide evenly, unless
    `drop_last` drops it. ``batch_size=None`` turns batching off: each item is one sample.
    Arguments are checked here, so a mistake is reported where the loader is made, not at the
    first pass. ``len(loader)`` is the number of batches in a pass.
    """

    def __init__(self, dataset: Dataset[T_co], batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Sampler[int] | Iterable[int] | None = None,
                 batch_sampler: Sampler[list[int]] | Iterable[list[int]] | None = None, num_workers: int = 0,
                 collate_fn: Callable[[Any], Any] | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn: Callable[[int], None] | None = None,
                 multiprocessing_context: Any = None, generator: GeneratorLike = None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "") -> None:
        if not callable(getattr(dataset, "__getitem__", None)):
            raise TypeError(f"DataLoader: dataset must support dataset[i] (a map-style Dataset), got "
                            f"{type(dataset).__name__}; iterable-style datasets are not supported")
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"num_workers option should be a non-negative int, got num_workers={num_workers!r}; "
                             "use num_workers=0 to disable multiprocessing")
        if timeout < 0:
            raise ValueError(f"timeout option should be non-negative, got timeout={timeout!r}")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing: let "
                             "num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if shuffle is not None:
            check_bool(shuffle, "shuffle")
        check_bool(pin_memory, "pin_memory")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"DataLoader: collate_fn must be callable, got {type(collate_fn).__name__}")

        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                                 "and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with "
                             "drop_last")
        if sampler is None:
            if not callable(getattr(dataset, "__len__", None)):
                raise TypeError(f"DataLoader: dataset {type(dataset).__name__} has no __len__, so the default "
                                "samplers cannot number its samples; give it __len__ or pass sampler=")
            sized: Any = dataset
            sampler = RandomSampler(sized, generator=generator) if shuffle else SequentialSampler(sized)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator
        self.collate_fn: Callable[[Any], Any] = collate_fn if collate_fn is not None else (
            default_convert if batch_sampler is None else default_collate)

    def __iter__(self) -> Iterator[Any]:
        if self.batch_sampler is None:  # batching turned off: one converted sample at a time
            for index in self.sampler:
                yield self.collate_fn(self.dataset[index])
            return
        for indices in self.batch_sampler:
            yield self._fetch(indices)

    def _fetch(self, indices: list[int]) -> Any:
        """One batch: the samples at `indices`, collated."""
        if isinstance(self.dataset, TensorDataset) and self.collate_fn is default_collate:
            return self.dataset.collated(indices)
        return self.collate_fn([self.dataset[index] for index in indices])

    def __len__(self) -> int:
        counted = self.batch_sampler if self.batch_sampler is not None else self.sampler
        return len(counted)  # type: ignore[arg-type]
