"""The pieces of PyTorch's surface that the programs in tests/programs needed, each against torch:
Generator, the keepdims alias, out=, grad_fn.next_functions, Module.to, in-place activation
modules, distributed and DataParallel, and the half-precision names refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import edugrad
from edugrad import nn
from edugrad.nn import functional as F
from edugrad.nn.parallel import DistributedDataParallel


def test_generator_is_its_own_seeded_stream() -> None:
    g = edugrad.Generator().manual_seed(2147483647)
    first = edugrad.randn(3, 3, generator=g).numpy()
    edugrad.rand(10)  # the default stream moving on does not move g's
    g.manual_seed(2147483647)
    edugrad.manual_seed(5)
    np.testing.assert_array_equal(edugrad.randn((3, 3), generator=g).numpy(), first)
    assert g.initial_seed() == 2147483647
    assert not np.array_equal(edugrad.randn(3, 3).numpy(), first)


@pytest.mark.parametrize("draw", [
    lambda g: edugrad.rand(4, generator=g),
    lambda g: edugrad.randn(4, generator=g),
    lambda g: edugrad.randint(0, 10, (4,), generator=g),
    lambda g: edugrad.randperm(6, generator=g),
    lambda g: edugrad.multinomial(edugrad.tensor([0.2, 0.3, 0.5]), 8, replacement=True, generator=g),
    lambda g: edugrad.empty(4).normal_(generator=g),
    lambda g: edugrad.empty(4).uniform_(-1, 1, generator=g),
])
def test_every_random_function_honours_the_generator(draw) -> None:
    runs = [draw(edugrad.Generator().manual_seed(7)).numpy() for _ in range(2)]
    np.testing.assert_array_equal(*runs)


def test_manual_seed_returns_the_default_generator_as_torch() -> None:
    assert isinstance(torch.manual_seed(3), torch.Generator)
    g = edugrad.manual_seed(3)
    assert g is edugrad.default_generator and edugrad.initial_seed() == 3
    a = edugrad.rand(3).numpy()
    edugrad.manual_seed(3)
    np.testing.assert_array_equal(edugrad.rand(3).numpy(), a)


def test_generator_refuses_what_is_not_one() -> None:
    with pytest.raises(TypeError, match="rand: generator must be an edugrad.Generator, got Generator"):
        edugrad.rand(2, generator=np.random.default_rng(0))
    with pytest.raises(TypeError, match="seed must be an integer"):
        edugrad.Generator().manual_seed(1.5)


def test_dataloader_shuffles_reproducibly_with_a_generator() -> None:
    data = edugrad.utils.data.TensorDataset(edugrad.arange(10))
    orders = [[int(x) for (batch,) in edugrad.utils.data.DataLoader(data, batch_size=5, shuffle=True,
                                                                    generator=edugrad.Generator().manual_seed(1))
               for x in batch] for _ in range(2)]
    assert orders[0] == orders[1] and sorted(orders[0]) == list(range(10))


@pytest.mark.parametrize("op", ["sum", "mean", "amax"])
def test_keepdims_alias(op: str) -> None:
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    ours = getattr(edugrad.tensor(x), op)(1, keepdims=True)
    theirs = getattr(torch.tensor(x), op)(1, keepdims=True)
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    np.testing.assert_allclose(edugrad.tensor(x).max(1, keepdims=True).values.numpy(),
                               torch.tensor(x).max(1, keepdims=True).values.numpy())


def test_out_argument_writes_into_the_tensor() -> None:
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    ours, theirs = edugrad.zeros(2, 2), torch.zeros(2, 2)
    result = edugrad.matmul(edugrad.tensor(a), edugrad.tensor(a).T, out=ours)
    torch.matmul(torch.tensor(a), torch.tensor(a).T, out=theirs)
    assert result is ours
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        edugrad.exp(edugrad.ones(2, requires_grad=True), out=edugrad.zeros(2))
    with pytest.raises(RuntimeError, match="out= has shape"):
        edugrad.exp(edugrad.ones(2), out=edugrad.zeros(3))


def test_next_functions_lead_to_the_leaves_as_in_torch() -> None:
    """Walking grad_fn.next_functions from the loss reaches an AccumulateGrad node for each leaf
    that requires grad (its `variable`), and None for inputs that need no gradient. The nodes in
    between differ (edugrad composes exp from exp2, for instance), so only the ends are compared."""

    def ends(node, leaves: list, nones: list) -> None:
        for child, index in node.next_functions:
            assert index == 0
            if child is None:
                nones.append(None)
            elif type(child).__name__ == "AccumulateGrad":
                leaves.append(child.variable)
            else:
                ends(child, leaves, nones)

    for lib in (edugrad, torch):
        w, b = lib.ones(3, requires_grad=True), lib.zeros(3, requires_grad=True)
        loss = ((w * lib.ones(3)).exp() + b).sum()
        leaves: list = []
        nones: list = []
        ends(loss.grad_fn, leaves, nones)
        assert len(leaves) == 2 and leaves[0] is w and leaves[1] is b, lib.__name__
        assert nones, lib.__name__


def test_next_functions_after_backward_is_refused() -> None:
    loss = (edugrad.ones(2, requires_grad=True) * 2).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="freed by backward"):
        loss.grad_fn.next_functions


def test_module_to_returns_self_and_keeps_parameters() -> None:
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    weight = model[0].weight
    assert model.to("cpu") is model and model.to(edugrad.device("cpu")) is model and model.cpu() is model
    model.double()
    reference = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3)).double()
    assert model[0].weight is weight
    for (name, ours), theirs in zip(model._state_tensors().items(), reference.state_dict().values()):
        assert ours.dtype.value == str(theirs.dtype).removeprefix("torch."), name  # num_batches_tracked stays int64
    model.to(edugrad.float32)
    assert weight.dtype == edugrad.float32
    with pytest.raises(RuntimeError, match="cannot put a tensor on cuda"):
        model.to("cuda")
    with pytest.raises(TypeError, match="float16 is not supported"):
        model.half()


@pytest.mark.parametrize("make", [lambda lib: lib.nn.ReLU(inplace=True), lambda lib: lib.nn.LeakyReLU(0.2, True)])
def test_inplace_activation_modules(make) -> None:
    x = np.array([-2.0, -0.5, 0.5, 3.0], dtype=np.float32)
    results = []
    for lib in (edugrad, torch):
        leaf = lib.tensor(x, requires_grad=True)
        hidden = leaf * 3
        out = make(lib)(hidden)
        assert out is hidden
        (out * lib.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
        results.append((out.detach().numpy(), leaf.grad.numpy(), repr(make(lib))))
    np.testing.assert_allclose(results[0][0], results[1][0])
    np.testing.assert_allclose(results[0][1], results[1][1])
    assert results[0][2] == results[1][2]


def test_inplace_elu_and_hardtanh_keep_the_graph() -> None:
    for fn, reference in ((F.elu, torch.nn.functional.elu), (F.hardtanh, torch.nn.functional.hardtanh)):
        x = np.array([-2.0, -0.5, 0.5, 3.0], dtype=np.float32)
        ours, theirs = edugrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        fn(ours * 1, inplace=True).sum().backward()
        reference(theirs * 1, inplace=True).sum().backward()
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-6)


def test_from_numpy_keeps_integer_dtypes() -> None:
    for array in (np.array([[1, 2], [3, 4]]), np.array([1, 2], dtype=np.int32), np.array([True])):
        assert edugrad.from_numpy(array).dtype.value == str(torch.from_numpy(array).dtype).removeprefix("torch.")


def test_distributed_is_unavailable_and_refuses() -> None:
    assert edugrad.distributed.is_available() is False and edugrad.distributed.is_initialized() is False
    with pytest.raises(RuntimeError, match="init_process_group: edugrad runs in one process"):
        edugrad.distributed.init_process_group(backend="gloo")
    with pytest.raises(RuntimeError, match="get_rank: Default process group has not been initialized"):
        edugrad.distributed.get_rank()
    with pytest.raises(RuntimeError, match="DistributedDataParallel"):
        DistributedDataParallel(nn.Linear(2, 2))


def test_data_parallel_runs_the_module_with_torch_keys() -> None:
    ours = nn.DataParallel(nn.Linear(2, 3))
    theirs = torch.nn.DataParallel(torch.nn.Linear(2, 3))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["module.weight", "module.bias"]
    assert ours(edugrad.ones(4, 2)).shape == (4, 3)


@pytest.mark.parametrize("make", [lambda: edugrad.ones(2).half(), lambda: edugrad.ones(2).bfloat16(),
                                  lambda: edugrad.zeros(2, dtype=edugrad.float16),
                                  lambda: edugrad.ones(2).to(edugrad.bfloat16)])
def test_half_precision_is_refused_by_name(make) -> None:
    with pytest.raises(TypeError, match="edugrad computes in float32 and float64"):
        make()


def test_compile_is_refused() -> None:
    with pytest.raises(NotImplementedError, match="edugrad has no compiler"):
        edugrad.compile(nn.Linear(2, 2))


def test_dtype_prints_as_torch_does() -> None:
    assert str(edugrad.ones(2, dtype=edugrad.long).dtype) == str(torch.ones(2, dtype=torch.long).dtype).replace(
        "torch", "edugrad") == "edugrad.int64"
    assert f"{edugrad.float32}" == "edugrad.float32"


@pytest.mark.parametrize("name", ["uniform_", "normal_", "trunc_normal_", "xavier_uniform_", "xavier_normal_",
                                  "kaiming_uniform_", "kaiming_normal_", "orthogonal_"])
def test_init_schemes_take_a_generator_as_torch(name: str) -> None:
    torch_init = getattr(torch.nn.init, name)
    torch_init(torch.empty(3, 4), generator=torch.Generator().manual_seed(0))  # the same keyword in PyTorch
    runs = [getattr(nn.init, name)(edugrad.empty(3, 4), generator=edugrad.Generator().manual_seed(0)).numpy()
            for _ in range(2)]
    np.testing.assert_array_equal(*runs)
