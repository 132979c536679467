"""Datasets, samplers and the DataLoader that batches them, as in ``torch.utils.data``.

A Dataset answers ``len(dataset)`` and ``dataset[i]``; a Sampler decides the order of the
indices; a BatchSampler groups them; the DataLoader fetches each group and collates the samples
into one batch (``default_collate``: numbers and arrays become Tensors stacked along a new first
dimension, tuples and dicts are collated field by field).
"""

from edugrad.utils.data.dataloader import DataLoader, default_collate, default_convert
from edugrad.utils.data.dataset import Dataset, Subset, TensorDataset, random_split
from edugrad.utils.data.sampler import (
           BatchSampler,
           RandomSampler,
           Sampler,
           SequentialSampler,
)

__all__ = [
           "BatchSampler",
           "DataLoader",
           "Dataset",
           "RandomSampler",
           "Sampler",
           "SequentialSampler",
           "Subset",
           "TensorDataset",
           "default_collate",
           "default_convert",
           "random_split",
]
