"""Datasets: anything with ``len(dataset)`` and ``dataset[i]``, as in ``torch.utils.data``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Generic, TypeVar

import numpy as np

from edugrad.tensor import Tensor
from edugrad.utils.data.sampler import GeneratorLike, numpy_generator

__all__ = ["Dataset", "Subset", "TensorDataset", "random_split"]

T_co = TypeVar("T_co", covariant=True)


class Dataset(Generic[T_co]):
    """Base class for a map-style dataset: subclass it and define ``__getitem__`` and ``__len__``.

    ``dataset[i]`` returns one sample, e.g. an ``(image, label)`` pair; the DataLoader collates
    samples into batches."""

    def __getitem__(self, index: int) -> T_co:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")


class TensorDataset(Dataset[tuple[Tensor, ...]]):
    """Samples are rows of tensors that share their first dimension: ``dataset[i]`` is
    ``(tensors[0][i], tensors[1][i], ...)``, e.g. an image and its label."""

    def __init__(self, *tensors: Tensor) -> None:
        for position, tensor in enumerate(tensors):
            if not isinstance(tensor, Tensor):
                raise TypeError(f"TensorDataset: argument {position} is a {type(tensor).__name__}, expected a "
                                f"Tensor (wrap a numpy array as edugrad.Tensor(array))")
            if tensor.ndim == 0:
                raise ValueError(f"TensorDataset: argument {position} is a 0-d tensor; samples are taken "
                                 f"along the first dimension")
        sizes = [tensor.shape[0] for tensor in tensors]
        if len(set(sizes)) > 1:
            raise ValueError(f"TensorDataset: size mismatch between tensors: first dimensions are {sizes}")
        self.tensors = tensors

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        return tuple(tensor[index] for tensor in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0] if self.tensors else 0

    def collated(self, indices: Sequence[int]) -> list[Tensor]:
        """What ``default_collate([self[i] for i in indices])`` returns, in one step per tensor.

        Collating the rows picked by `indices` is the same as picking them all at once, so the
        DataLoader uses this instead of building and stacking one small Tensor per sample, which
        would cost more than training a small model on the batch. The rows are picked on the host
        (``Tensor.numpy()`` is no copy on the numpy backend), as default_collate stacks them."""
        rows = np.asarray(indices, dtype=np.int64)
        return [Tensor(tensor.numpy()[rows], dtype=tensor.dtype) for tensor in self.tensors]


class Subset(Dataset[T_co]):
    """The samples of `dataset` at `indices`, in that order: ``subset[i]`` is ``dataset[indices[i]]``."""

    def __init__(self, dataset: Dataset[T_co], indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index: int) -> T_co:
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(dataset: Dataset[T_co], lengths: Sequence[int | float],
                 generator: GeneratorLike = None) -> list[Subset[T_co]]:
    """Split `dataset` at random into non-overlapping Subsets of the given lengths.

    `lengths` are counts that add up to ``len(dataset)``, or fractions that add up to 1; as in
    PyTorch, fractions are floored and the samples left over go one each to the first subsets."""
    total = len(dataset)  # type: ignore[arg-type]
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for position, fraction in enumerate(lengths):
            if not 0 <= fraction <= 1:
                raise ValueError(f"random_split: fraction at index {position} is not between 0 and 1: {fraction}")
        counts = [math.floor(total * fraction) for fraction in lengths]
        for position in range(total - sum(counts)):
            counts[position % len(counts)] += 1
    else:
        counts = []
        for position, length in enumerate(lengths):
            if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 0:
                raise ValueError(f"random_split: length at index {position} must be a non-negative int "
                                 f"(or all lengths fractions adding up to 1), got {length!r}")
            counts.append(int(length))
    if sum(counts) != total:
        raise ValueError(f"random_split: sum of input lengths ({sum(counts)}) does not equal the length of the "
                         f"input dataset ({total})")
    order = numpy_generator(generator, "random_split").permutation(total).tolist()
    ends = np.cumsum(counts).tolist()
    return [Subset(dataset, order[end - count:end]) for end, count in zip(ends, counts)]
