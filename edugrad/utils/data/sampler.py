"""Samplers: the order in which a DataLoader visits a dataset's indices, as in ``torch.utils.data``.

Randomness. PyTorch's RandomSampler draws a fresh seed from torch's global generator at every
pass when given no ``generator``; here the seed comes from edugrad's random stream (the backend's
RANDOM op), so ``edugrad.manual_seed(0)`` makes shuffling reproducible, as ``torch.manual_seed(0)``
does in PyTorch. The permutation itself is numpy's, so the orders differ from PyTorch's.
``generator=`` takes an ``edugrad.Generator`` or any object with ``initial_seed()``, such as
``torch.Generator`` (the sampler seeds its own stream from it once), or a
``numpy.random.Generator`` (used as it is, its state advancing from pass to pass).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sized
from typing import Any, Generic, Protocol, TypeVar

import numpy as np

from edugrad.backend import get_backend

__all__ = ["BatchSampler", "RandomSampler", "Sampler", "SequentialSampler"]

T_co = TypeVar("T_co", covariant=True)


class SeededGenerator(Protocol):
    """What ``generator=`` needs of a torch-style generator: the seed it was given."""

    def initial_seed(self) -> int: ...


GeneratorLike = np.random.Generator | SeededGenerator | None


def numpy_generator(generator: GeneratorLike, op: str) -> np.random.Generator:
    """The numpy generator that draws one pass's random numbers for `op`.

    None: a new generator seeded from edugrad's random stream (see the module docstring). A
    torch-style generator: a new generator seeded with its ``initial_seed()``; keep the result to
    make later passes differ. A ``numpy.random.Generator``: itself."""
    if generator is None:
        # RANDOM gives float32 samples in [0, 1) with 24 random bits each: two make a 48-bit seed.
        high, low = get_backend().random((2,)).to_host()
        return np.random.default_rng(int(high * 2**24) << 24 | int(low * 2**24))
    if isinstance(generator, np.random.Generator):
        return generator
    if callable(getattr(generator, "initial_seed", None)):
        return np.random.default_rng(int(generator.initial_seed()))
    raise TypeError(f"{op}: generator must be None, a numpy.random.Generator or an object with "
                    f"initial_seed() (such as torch.Generator), got {type(generator).__name__}")


def check_bool(value: Any, name: str, error: type[Exception] = TypeError) -> None:
    """Refuse a flag that is not True or False, in PyTorch's words (and with its exception type)."""
    if not isinstance(value, bool):
        raise error(f"{name} should be a boolean value, but got {name}={value!r}")


def check_positive_int(value: Any, name: str) -> None:
    """Refuse a count that is not a positive int (bools and floats such as 1.5 included)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} should be a positive integer value, but got {name}={value!r}")


class Sampler(Generic[T_co]):
    """Base class: an iterable over dataset indices (or, for a batch sampler, lists of them).

    Subclasses define ``__iter__``, and ``__len__`` when the number of indices is known."""

    def __init__(self, data_source: Sized | None = None) -> None:
        pass

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler[int]):
    """Indices 0, 1, ..., len(data_source) - 1, in order: the DataLoader's default."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler[int]):
    """Indices in random order: a new permutation at every pass (``shuffle=True``).

    Without replacement each pass visits every index once (or, when `num_samples` exceeds the
    length, whole permutations followed by part of one); with replacement it draws `num_samples`
    indices independently. `num_samples` defaults to the length of the dataset."""

    def __init__(self, data_source: Sized, replacement: bool = False, num_samples: int | None = None,
                 generator: GeneratorLike = None) -> None:
        check_bool(replacement, "replacement")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        check_positive_int(self.num_samples, "num_samples")
        # A torch-style generator is asked for its seed once; this generator then carries on, so
        # passes differ from each other as they do in PyTorch.
        self._seeded = None if generator is None else numpy_generator(generator, "RandomSampler")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        rng = self._seeded if self._seeded is not None else numpy_generator(None, "RandomSampler")
        n, count = len(self.data_source), self.num_samples
        if self.replacement:
            yield from rng.integers(0, n, size=count).tolist()
            return
        for _ in range(count // n):
            yield from rng.permutation(n).tolist()
        yield from rng.permutation(n)[:count % n].tolist()

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler[list[int]]):
    """Group another sampler's indices into lists of `batch_size`; the last may be shorter,
    unless `drop_last` drops it."""

    def __init__(self, sampler: Sampler[int] | Iterable[int], batch_size: int, drop_last: bool) -> None:
        check_positive_int(batch_size, "batch_size")
        check_bool(drop_last, "drop_last", ValueError)
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        batch: list[int] = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        length = len(self.sampler)  # type: ignore[arg-type]
        if self.drop_last:
            return length // self.batch_size
        return (length + self.batch_size - 1) // self.batch_size
