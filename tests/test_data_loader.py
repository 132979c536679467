"""Tests for edugrad.utils.data against torch.utils.data: the same batches, collated to the same
types, shapes and dtypes, and the same arguments refused when the loader is made."""

from __future__ import annotations

import collections
import re
from typing import Any

import numpy as np
import pytest
import torch
import torch.utils.data

import edugrad
from edugrad import Tensor, nn, optim
from edugrad.utils.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)
from edugrad.utils.data.dataloader import DataLoader as DataLoaderFromItsModule

Point = collections.namedtuple("Point", "x y")


def assert_same_batch(ours: Any, theirs: Any) -> None:
    """Our batch has torch's structure, and each Tensor torch's shape, dtype and values."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, Tensor), f"expected a Tensor, got {type(ours).__name__}"
        assert ours.shape == tuple(theirs.shape)
        assert ours.dtype.value == str(theirs.dtype).removeprefix("torch."), (ours.dtype, theirs.dtype)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    elif isinstance(theirs, dict):
        assert isinstance(ours, dict) and list(ours) == list(theirs)
        for key in theirs:
            assert_same_batch(ours[key], theirs[key])
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs), (ours, theirs)
        for mine, its in zip(ours, theirs):
            assert_same_batch(mine, its)
    else:
        assert ours == theirs


class Samples(Dataset[Any]):
    """A map-style dataset returning prepared samples; `to_torch` makes torch's twin of it."""

    def __init__(self, samples: list[Any]) -> None:
        self.samples = samples

    def __getitem__(self, index: int) -> Any:
        return self.samples[index]

    def __len__(self) -> int:
        return len(self.samples)


class TorchSamples(torch.utils.data.Dataset):  # type: ignore[type-arg]
    def __init__(self, samples: list[Any]) -> None:
        self.samples = samples

    def __getitem__(self, index: int) -> Any:
        return self.samples[index]

    def __len__(self) -> int:
        return len(self.samples)


def to_torch(value: Any) -> Any:
    """The same sample with edugrad Tensors replaced by torch tensors."""
    if isinstance(value, Tensor):
        return torch.from_numpy(value.numpy().copy())
    if isinstance(value, dict):
        return {key: to_torch(item) for key, item in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(to_torch(item) for item in value))
    if isinstance(value, (list, tuple)):
        return type(value)(to_torch(item) for item in value)
    return value


RNG = np.random.default_rng(0)
SAMPLE_KINDS = {
    "tensor and label": lambda i: (Tensor(RNG.normal(size=(2, 3)).astype(np.float32)), i),
    "numpy arrays": lambda i: (RNG.normal(size=3), np.arange(i, i + 2, dtype=np.int32), np.array(i % 2 == 0)),
    "python numbers": lambda i: (float(i) / 3, i, i % 2 == 0),
    "numpy scalars": lambda i: (np.float32(i) / 3, np.int64(i), np.float64(i)),
    "strings": lambda i: (f"sample {i}", b"bytes"),
    "dict": lambda i: {"image": Tensor(RNG.normal(size=4)), "label": i, "name": str(i)},
    "namedtuple": lambda i: Point(float(i), np.full(2, i)),
    "nested lists": lambda i: [[i, i + 1], {"a": [float(i)]}],
    "tensor only": lambda i: Tensor([i, -i]),
}


@pytest.mark.parametrize("kind", SAMPLE_KINDS)
@pytest.mark.parametrize("batch_size, drop_last", [(1, False), (3, False), (3, True), (7, False)])
def test_batches_match_torch_in_order(kind: str, batch_size: int, drop_last: bool) -> None:
    samples = [SAMPLE_KINDS[kind](i) for i in range(7)]
    ours = list(DataLoader(Samples(samples), batch_size=batch_size, drop_last=drop_last))
    theirs = list(torch.utils.data.DataLoader(TorchSamples([to_torch(s) for s in samples]), batch_size=batch_size,
                                              drop_last=drop_last))
    assert len(ours) == len(theirs)
    for mine, its in zip(ours, theirs):
        assert_same_batch(mine, its)


@pytest.mark.parametrize("length, batch_size, drop_last", [(10, 4, False), (10, 4, True), (8, 4, False),
                                                            (3, 5, True), (3, 5, False), (0, 2, False)])
def test_tensor_dataset_batches_and_len_match_torch(length: int, batch_size: int, drop_last: bool) -> None:
    x = RNG.normal(size=(length, 2, 3)).astype(np.float32)
    y = np.arange(length)
    loader = DataLoader(TensorDataset(Tensor(x), Tensor(y)), batch_size=batch_size, drop_last=drop_last)
    reference = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
                                            batch_size=batch_size, drop_last=drop_last)
    assert len(loader) == len(reference) == len(list(loader))
    for mine, its in zip(loader, reference):
        assert_same_batch(mine, its)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64, np.bool_])
def test_tensor_dataset_shortcut_equals_collating_sample_by_sample(dtype: type) -> None:
    """The DataLoader picks a TensorDataset's rows in one step; that must be what collating gives."""
    dataset = TensorDataset(Tensor((RNG.normal(size=(9, 2)) > 0).astype(dtype)), Tensor(np.arange(9)))
    order = [4, 0, 8, 3]
    shortcut = list(DataLoader(dataset, batch_size=4, sampler=order))
    one_by_one = list(DataLoader(dataset, batch_size=4, sampler=order, collate_fn=lambda b: default_collate(b)))
    for mine, its in zip(shortcut, one_by_one):
        for a, b in zip(mine, its):
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_collate_types_match_torch() -> None:
    """Python floats collate to float64 and ints to int64, in PyTorch as here."""
    for batch in ([1.5, 2.0], [1, 2], [True, False], [1, 2.5], [np.float32(1), np.float32(2)], [np.int64(3)],
                  [np.array(1.5), np.array(2.5)], [np.zeros((2, 2), np.float64)] * 3):
        assert_same_batch(default_collate(batch), torch.utils.data.default_collate(batch))


def test_collate_of_dtypes_edugrad_lacks_takes_the_nearest() -> None:
    """torch keeps uint8 and float16; edugrad has neither, so they become int64 and float32."""
    assert default_collate([np.zeros(2, np.uint8)] * 2).dtype == edugrad.int64
    assert default_collate([np.zeros(2, np.float16)] * 2).dtype == edugrad.float32


@pytest.mark.parametrize("batch, error, message", [
    ([[1, 2], [3]], RuntimeError, "each element in list of batch should be of equal size"),
    ([object(), object()], TypeError, "batch must contain tensors, numpy arrays, numbers, dicts or lists; found "
                                      "<class 'object'>"),
    ([np.array(["a"]), np.array(["b"])], TypeError, "batch must contain tensors, numpy arrays, numbers, dicts or "
                                                    "lists; found <U1"),
    ([np.zeros(3), np.zeros(2)], RuntimeError, r"stack expects each tensor to be equal size, but got [3] at entry 0 "
                                               r"and [2] at entry 1"),
])
def test_collate_refuses_as_torch_does(batch: list[Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=re.escape(message)):
        default_collate(batch)
    with pytest.raises(error, match=re.escape(message)):
        torch.utils.data.default_collate(batch)


def test_collate_refuses_tensors_mixed_with_other_types() -> None:
    with pytest.raises(TypeError, match=r"default_collate: the batch mixes Tensors with other types"):
        default_collate([Tensor([1.0]), np.ones(1)])


def test_batch_size_none_yields_converted_samples_as_torch_does() -> None:
    samples = [(np.arange(3) + i, float(i), "x") for i in range(3)]
    ours = list(DataLoader(Samples(samples), batch_size=None))
    theirs = list(torch.utils.data.DataLoader(TorchSamples(samples), batch_size=None))
    assert len(ours) == len(theirs) == 3
    for mine, its in zip(ours, theirs):
        assert_same_batch(mine, its)


# Each of these is refused by torch too, when the loader is made (not at the first pass).
REFUSED = [
    (dict(batch_size=1.5), ValueError, "batch_size should be a positive integer value, but got batch_size=1.5"),
    (dict(batch_size=0), ValueError, "batch_size should be a positive integer value, but got batch_size=0"),
    (dict(batch_size=True), ValueError, "batch_size should be a positive integer value, but got batch_size=True"),
    (dict(batch_size="2"), ValueError, "batch_size should be a positive integer value, but got batch_size='2'"),
    (dict(drop_last="yes"), ValueError, "drop_last should be a boolean value, but got drop_last='yes'"),
    (dict(shuffle=True, sampler=[0]), ValueError, "sampler option is mutually exclusive with shuffle"),
    (dict(batch_sampler=[[0]], batch_size=2), ValueError, "batch_sampler option is mutually exclusive with "
                                                          "batch_size, shuffle, sampler, and drop_last"),
    (dict(batch_size=None, drop_last=True), ValueError, "batch_size=None option disables auto-batching"),
    (dict(num_workers=-1), ValueError, "num_workers option should be a non-negative int, got num_workers=-1"),
    (dict(timeout=-1), ValueError, "timeout option should be non-negative"),
    (dict(persistent_workers=True), ValueError, "persistent_workers option needs num_workers > 0"),
]


@pytest.mark.parametrize("arguments, error, message", REFUSED)
def test_bad_arguments_are_refused_when_the_loader_is_made(arguments: dict[str, Any], error: type[Exception],
                                                           message: str) -> None:
    with pytest.raises(error, match=re.escape(message)):
        DataLoader(TensorDataset(Tensor(np.zeros(5))), **arguments)
    with pytest.raises(error):
        torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.zeros(5)), **arguments)


@pytest.mark.parametrize("arguments, error, message", [
    (dict(replacement=1), TypeError, "replacement should be a boolean value, but got replacement=1"),
    (dict(num_samples=0), ValueError, "num_samples should be a positive integer value, but got num_samples=0"),
    (dict(num_samples=1.5), ValueError, "num_samples should be a positive integer value, but got num_samples=1.5"),
])
def test_random_sampler_refuses_as_torch_does(arguments: dict[str, Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=re.escape(message)):
        RandomSampler(range(5), **arguments)
    with pytest.raises(error, match=re.escape(message.replace("=1.5", "="))):
        torch.utils.data.RandomSampler(range(5), **arguments)


def test_refusals_torch_leaves_for_later() -> None:
    """torch fails on these only at the first pass, or with a raw error; edugrad names them up front."""
    with pytest.raises(TypeError, match=r"DataLoader: dataset must support dataset\[i\].*got int"):
        DataLoader(5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"DataLoader: collate_fn must be callable, got int"):
        DataLoader(Samples([1]), collate_fn=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"RandomSampler: generator must be None, a numpy.random.Generator or an "
                                        r"object with initial_seed\(\).*got str"):
        DataLoader(Samples([1]), shuffle=True, generator="seed")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"num_samples should be a positive integer value, but got num_samples=0"):
        DataLoader(Samples([]), shuffle=True)  # torch refuses an empty dataset to shuffle too
    with pytest.raises(TypeError, match=r"shuffle should be a boolean value, but got shuffle='yes'"):
        DataLoader(Samples([1]), shuffle="yes")  # type: ignore[arg-type]


def test_tensor_dataset_refusals() -> None:
    with pytest.raises(ValueError, match=r"TensorDataset: size mismatch between tensors: first dimensions are \[3, 4\]"):
        TensorDataset(Tensor(np.zeros(3)), Tensor(np.zeros(4)))
    with pytest.raises(TypeError, match=r"TensorDataset: argument 1 is a ndarray, expected a Tensor"):
        TensorDataset(Tensor(np.zeros(3)), np.zeros(3))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"TensorDataset: argument 0 is a 0-d tensor"):
        TensorDataset(Tensor(1.0))


def shuffled_epochs(loader: DataLoader[Any], epochs: int = 2) -> list[list[int]]:
    return [[int(i) for batch in loader for i in batch[0].numpy()] for _ in range(epochs)]


def test_shuffle_follows_manual_seed_and_reshuffles_every_epoch() -> None:
    loader = DataLoader(TensorDataset(Tensor(np.arange(50))), batch_size=8, shuffle=True)
    edugrad.manual_seed(0)
    first, second = shuffled_epochs(loader)
    edugrad.manual_seed(0)
    assert shuffled_epochs(loader) == [first, second]
    assert sorted(first) == sorted(second) == list(range(50))
    assert first != second and first != list(range(50))


@pytest.mark.parametrize("make_generator", [lambda: np.random.default_rng(3), lambda: torch.Generator().manual_seed(3)])
def test_shuffle_with_a_generator_is_reproducible(make_generator: Any) -> None:
    def run() -> list[list[int]]:
        dataset = TensorDataset(Tensor(np.arange(20)))
        return shuffled_epochs(DataLoader(dataset, batch_size=6, shuffle=True, generator=make_generator()))
    first, second = run()
    assert run() == [first, second] and first != second and sorted(first) == list(range(20))


@pytest.mark.parametrize("replacement, num_samples", [(False, None), (False, 23), (False, 4), (True, None), (True, 30)])
def test_random_sampler_draws_as_many_as_torch(replacement: bool, num_samples: int | None) -> None:
    ours = list(RandomSampler(range(10), replacement=replacement, num_samples=num_samples))
    theirs = list(torch.utils.data.RandomSampler(range(10), replacement=replacement, num_samples=num_samples))
    assert len(ours) == len(theirs) == len(RandomSampler(range(10), replacement, num_samples))
    assert all(0 <= i < 10 for i in ours)
    if not replacement:  # whole permutations, then part of one
        counts = np.bincount(ours, minlength=10)
        assert counts.max() - counts.min() <= 1


def test_samplers_and_batch_sampler_match_torch() -> None:
    assert list(SequentialSampler(range(5))) == list(torch.utils.data.SequentialSampler(range(5)))
    for drop_last in (False, True):
        ours = BatchSampler(SequentialSampler(range(10)), 3, drop_last)
        theirs = torch.utils.data.BatchSampler(torch.utils.data.SequentialSampler(range(10)), 3, drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)
    loader = DataLoader(Samples(list(range(6))), batch_sampler=[[5, 0], [2]])
    assert [batch.numpy().tolist() for batch in loader] == [[5, 0], [2]]


@pytest.mark.parametrize("lengths", [[3, 7], [0.3, 0.7], [0.25, 0.25, 0.5], [11, 0]])
def test_random_split_sizes_match_torch_and_cover_the_dataset(lengths: list[Any]) -> None:
    total = 11 if lengths != [0.3, 0.7] else 10
    dataset = Samples(list(range(total)))
    if sum(lengths) not in (1, total):
        return
    parts = random_split(dataset, lengths)
    theirs = torch.utils.data.random_split(TorchSamples(list(range(total))), lengths)
    assert [len(p) for p in parts] == [len(p) for p in theirs]
    assert all(isinstance(p, Subset) for p in parts)
    assert sorted(p[i] for p in parts for i in range(len(p))) == list(range(total))


def test_random_split_refusals() -> None:
    with pytest.raises(ValueError, match=r"random_split: sum of input lengths \(6\) does not equal the length of the "
                                         r"input dataset \(10\)"):
        random_split(Samples(list(range(10))), [3, 3])
    with pytest.raises(ValueError, match=r"random_split: length at index 1 must be a non-negative int"):
        random_split(Samples(list(range(10))), [12, -2])


def test_the_module_path_pytorch_programs_import() -> None:
    assert DataLoaderFromItsModule is DataLoader
    assert edugrad.utils.data.DataLoader is DataLoader


def test_a_training_loop_over_a_dataloader_matches_torch() -> None:
    """Linear regression, four epochs of SGD over the same batches: the same losses as PyTorch's."""
    x = RNG.normal(size=(40, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32) + 0.1).astype(np.float32)
    reference = torch.nn.Linear(3, 1)
    model = nn.Linear(3, 1)
    model.load_state_dict({key: value.detach().numpy() for key, value in reference.state_dict().items()})

    def train(make_loader: Any, model: Any, optimizer: Any, loss_fn: Any, wrap: Any) -> list[float]:
        losses = []
        for _ in range(4):
            for xb, yb in make_loader():
                loss = loss_fn(model(wrap(xb)), wrap(yb))
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
        return losses

    ours = train(lambda: DataLoader(TensorDataset(Tensor(x), Tensor(y)), batch_size=8), model,
                 optim.SGD(model.parameters(), lr=0.1), nn.MSELoss(), lambda t: t)
    theirs = train(lambda: torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(x),
                                                                                      torch.from_numpy(y)),
                                                       batch_size=8),
                   reference, torch.optim.SGD(reference.parameters(), lr=0.1), torch.nn.MSELoss(), lambda t: t)
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6)
    assert ours[-1] < 0.1 * ours[0]


def test_worker_and_memory_options_change_nothing() -> None:
    """Loading runs in the calling process: num_workers and pin_memory give the same batches."""
    dataset = TensorDataset(Tensor(np.arange(10.0)))
    plain = [batch[0].tolist() for batch in DataLoader(dataset, batch_size=3)]
    options = DataLoader(dataset, batch_size=3, num_workers=2, pin_memory=True, persistent_workers=True,
                         prefetch_factor=2)
    assert [batch[0].tolist() for batch in options] == plain
