"""A learner's mistakes beyond single ops: each error names the operation and the offending values.

Op-level shape errors (matmul, broadcasting, reshape, cat, conv2d on tensors, dims, index
tensors on Tensor) are in test_errors.py; this file covers autograd, layers, optimizers,
state dicts, checkpoints and datasets.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import edugrad.nn.functional as F
import edugrad
from edugrad import Tensor, nn, optim
from edugrad.datasets import DatasetError, load_mnist
from edugrad.serialization import CheckpointError, load, save

REPO_MNIST = Path(__file__).resolve().parent.parent / "data" / "mnist"


# ---------------------------------------------------------------- autograd

def test_second_backward_through_a_freed_graph_says_retain_graph() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match=r"backward: trying to go through the graph a second time.*"
                                           r"saved values of \w+ were already freed.*retain_graph=True"):
        loss.backward()


def test_retain_graph_allows_a_second_backward_that_accumulates() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    assert x.grad is not None and x.grad.tolist() == [4.0, 8.0]


def test_backward_on_a_non_scalar_names_the_shape() -> None:
    y = edugrad.ones(2, 3, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"backward: grad can be implicitly created only for scalar outputs.*\(2, 3\)"):
        y.backward()
    with pytest.raises(RuntimeError, match=r"backward: gradient has shape \(3,\) but the tensor has shape \(2, 3\)"):
        y.backward(edugrad.ones(3))


@pytest.mark.parametrize("make", [
    lambda: Tensor([1, 2], requires_grad=True),
    lambda: edugrad.arange(3).requires_grad_(),
    lambda: Tensor(np.array([1, 2], np.int32), requires_grad=True),
    lambda: Tensor([True, False], requires_grad=True),
    lambda: nn.Parameter(Tensor([1, 2])),
], ids=["list", "requires_grad_", "int32", "bool", "Parameter"])
def test_requires_grad_on_a_non_float_tensor(make: object) -> None:
    with pytest.raises(RuntimeError, match=r"requires_grad: only floating point tensors can require gradients, "
                                           r"this one is (int64|int32|bool)"):
        make()  # type: ignore[operator]


# ---------------------------------------------------------------- optimizers

def test_optimizer_rejects_a_duplicate_parameter_naming_both_positions() -> None:
    weight, bias = nn.Linear(3, 2).parameters()
    with pytest.raises(ValueError, match=r"SGD: a parameter appears twice in group 0: parameter 2 \(shape \(2, 3\)\) "
                                         r"is the same tensor as parameter 0"):
        optim.SGD([weight, bias, weight], lr=0.1)


@pytest.mark.parametrize("params, message", [
    ([nn.Parameter(Tensor([1.0])), 3.0], r"Adam: parameter 1 of group 0 is a float, not a Tensor"),
    ([nn.Parameter(Tensor([1.0])), np.ones(2)], r"Adam: parameter 1 of group 0 is a ndarray, not a Tensor"),
    (nn.Linear(2, 2), r"Adam: params must be an iterable of Tensors .*got a Linear; pass model.parameters\(\)"),
    (nn.Parameter(Tensor([1.0])), r"got a single Tensor: wrap it in a list"),
], ids=["float", "ndarray", "module", "single tensor"])
def test_optimizer_rejects_non_tensor_parameters(params: object, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        optim.Adam(params)  # type: ignore[arg-type]


def test_optimizer_rejects_a_parameter_in_two_groups() -> None:
    weight, bias = nn.Linear(3, 2).parameters()
    groups: list[dict[str, Any]] = [{"params": [weight, bias]}, {"params": [bias]}]
    with pytest.raises(ValueError, match="SGD: some parameters appear in more than one parameter group"):
        optim.SGD(groups, lr=0.1)


def test_optimizer_state_for_other_parameters_is_refused() -> None:
    big, small = nn.Linear(4, 3), nn.Linear(2, 3)
    opt = optim.Adam(big.parameters())
    big(edugrad.ones(1, 4)).sum().backward()
    opt.step()
    other = optim.Adam(small.parameters())
    with pytest.raises(ValueError, match=r"load_state_dict: state 'exp_avg' of parameter 0 has shape \(3, 4\), "
                                         r"but the parameter has shape \(3, 2\)"):
        other.load_state_dict(opt.state_dict())


# ---------------------------------------------------------------- state dicts

def small_model() -> nn.Module:
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def test_load_state_dict_lists_missing_and_unexpected_keys_and_changes_nothing() -> None:
    model = small_model()
    before = model.state_dict()
    state = {k: v + 1 for k, v in before.items() if k != "2.bias"}
    state["3.weight"] = np.zeros((2, 2), np.float32)
    with pytest.raises(RuntimeError) as caught:
        model.load_state_dict(state)
    message = str(caught.value)
    assert "Error(s) in loading state_dict for Sequential" in message
    assert 'Missing key(s) in state_dict: "2.bias"' in message
    assert 'Unexpected key(s) in state_dict: "3.weight"' in message
    assert all((model.state_dict()[k] == v).all() for k, v in before.items()), "a failed load changed the model"
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["2.bias"] and result.unexpected_keys == ["3.weight"]


def test_load_state_dict_names_the_key_and_both_shapes() -> None:
    model = small_model()
    state = model.state_dict()
    state["0.weight"] = state["0.weight"].T
    with pytest.raises(RuntimeError, match=r"size mismatch for 0.weight: copying a param with shape \(3, 4\) from "
                                           r"checkpoint, the shape in current model is \(4, 3\)"):
        model.load_state_dict(state, strict=False)  # shapes must match even when not strict


def test_load_state_dict_rejects_non_numeric_values() -> None:
    model = nn.Linear(2, 1)
    with pytest.raises(RuntimeError, match=r'value for "bias" is not numeric'):
        model.load_state_dict({"weight": np.zeros((1, 2)), "bias": np.array(["x"])})


# ---------------------------------------------------------------- checkpoints

def test_truncated_checkpoint_of_a_model_is_reported_and_the_model_untouched(tmp_path: Path) -> None:
    model = small_model()
    before = model.state_dict()
    path = tmp_path / "model.ckpt"
    save({"model": before, "epoch": 1}, path)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(CheckpointError, match=re.escape(str(path)) + ".*(truncated|corrupt)"):
        model.load_state_dict(load(path)["model"])
    assert all((model.state_dict()[k] == v).all() for k, v in before.items())


def test_checkpoint_of_another_architecture_names_the_mismatch(tmp_path: Path) -> None:
    path = tmp_path / "model.ckpt"
    save({"model": nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2)).state_dict()}, path)
    with pytest.raises(RuntimeError, match=r"size mismatch for 0.weight: .*\(5, 3\).*\(4, 3\)"):
        small_model().load_state_dict(load(path)["model"])


# ---------------------------------------------------------------- datasets

def test_missing_mnist_without_downloads_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDUGRAD_NO_DOWNLOAD", "1")
    with pytest.raises(DatasetError, match=re.escape(str((tmp_path / "mnist").resolve())) +
                       r".*train-images-idx3-ubyte.gz is missing and downloads are off"):
        load_mnist(tmp_path)


def test_corrupt_mnist_names_the_file_and_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDUGRAD_NO_DOWNLOAD", "1")
    (tmp_path / "mnist").mkdir()
    for name in ("train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(REPO_MNIST / name, tmp_path / "mnist" / name)
    broken = tmp_path / "mnist" / "train-images-idx3-ubyte.gz"
    broken.write_bytes(b"this is not gzip")  # the first file read, so the test stays fast
    with pytest.raises(DatasetError, match=re.escape(str(broken.resolve())) + r" is damaged: it is truncated or "
                       r"not valid gzip.*git checkout data/mnist/train-images-idx3-ubyte.gz"):
        load_mnist(tmp_path)


# ---------------------------------------------------------------- layers and index tensors

def test_conv_layer_given_the_wrong_number_of_channels() -> None:
    conv = nn.Conv2d(3, 8, 3)
    with pytest.raises(RuntimeError, match=r"conv2d: input has 1 channels.*weight.*\(8, 3, 3, 3\)"):
        conv(edugrad.ones(2, 1, 28, 28))  # a grey image into an RGB layer
    with pytest.raises(RuntimeError, match=r"conv2d: input has 1 channels.*weight.*\(8, 3, 3, 3\)"):
        conv(edugrad.ones(1, 28, 28))  # unbatched (C, H, W), as PyTorch allows
    with pytest.raises(RuntimeError, match=r"conv2d: expected input \(N, C, H, W\).*\(28, 28\)"):
        conv(edugrad.ones(28, 28))


@pytest.mark.parametrize("indices, message", [
    (Tensor([0, 7]), r"embedding: index 7 is out of range for 5 embeddings \(expected 0 to 4\)"),
    (Tensor([-1, 2]), r"embedding: index -1 is out of range for 5 embeddings"),  # torch refuses negatives too
    (Tensor([0.0, 1.0]), r"embedding: indices must be integers, got float32"),
])
def test_embedding_rejects_bad_indices(indices: Tensor, message: str) -> None:
    with pytest.raises((IndexError, TypeError), match=message):
        nn.Embedding(5, 3)(indices)


def test_one_hot_rejects_classes_out_of_range() -> None:
    with pytest.raises(RuntimeError, match=r"one_hot: class 5 is out of range for 3 classes \(expected 0 to 2\)"):
        F.one_hot(Tensor([0, 5]), 3)
    with pytest.raises(RuntimeError, match=r"one_hot: class -1 is out of range"):
        F.one_hot(Tensor([0, -1]))
    with pytest.raises(TypeError, match=r"one_hot: .*index tensor of type int64, got float32"):
        F.one_hot(Tensor([0.0, 1.0]), 2)


def test_gather_refuses_negative_indices_as_torch_does() -> None:
    with pytest.raises(IndexError, match=r"gather: index -1 is out of bounds for dim of size 2"):
        Tensor([[1.0, 2.0], [3.0, 4.0]]).gather(1, Tensor([[0], [-1]]))


def test_cross_entropy_targets_out_of_range_or_of_the_wrong_type() -> None:
    logits = edugrad.ones(2, 3)
    with pytest.raises(IndexError, match=r"cross_entropy: target -5 is out of bounds for 3 classes"):
        F.cross_entropy(logits, Tensor([0, -5]))
    with pytest.raises(TypeError, match=r"cross_entropy: targets must be an integer tensor of class indices, got bool"):
        F.cross_entropy(logits, Tensor([True, False]))
    with pytest.raises(IndexError, match=r"nll_loss: target 3 is out of bounds for 3 classes"):
        F.nll_loss(logits.log_softmax(1), Tensor([3, 0]))
