"""edugrad.nn against torch.nn: each layer with copied weights, forward and backward; state_dict names;
Module bookkeeping; losses; functional; clip_grad_norm_."""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import pytest
import torch

import edugrad
import edugrad.nn.functional as F
from edugrad import Tensor, nn

RNG = np.random.default_rng(0)
# torch notes that padding='same' with an even kernel copies the input; that is its business.
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")


@pytest.fixture(autouse=True)
def seed():
    """Every test starts from the same random stream (conftest restores Tensor.training)."""
    edugrad.manual_seed(0)


def randn(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def to_torch_state(state: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    return {k: torch.from_numpy(v) for k, v in state.items()}


def compare_module(ours: nn.Module, theirs: torch.nn.Module, *inputs: np.ndarray, train: bool = True,
                   passes: int = 1, atol: float = 1e-5, rtol: float = 1e-4) -> None:
    """Copy our weights into torch's twin, then compare outputs, input and parameter gradients, and
    the state (running statistics) after each of `passes` forward/backward passes."""
    theirs.load_state_dict(to_torch_state(ours.state_dict()))
    ours.train(train)
    theirs.train(train)
    for _ in range(passes):
        ours_in = [Tensor(x, requires_grad=x.dtype.kind == "f") for x in inputs]
        theirs_in = [torch.tensor(x, requires_grad=x.dtype.kind == "f") for x in inputs]
        ours.zero_grad()
        theirs.zero_grad()
        out, expected = ours(*ours_in), theirs(*theirs_in)
        np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), atol=atol, rtol=rtol, err_msg="forward")
        if expected.requires_grad:
            upstream = randn(*expected.shape)
            out.backward(Tensor(upstream))
            expected.backward(torch.tensor(upstream))
            for a, b in zip(ours_in, theirs_in):
                if b.grad is not None:
                    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=atol, rtol=rtol,
                                               err_msg="input grad")
            torch_params = dict(theirs.named_parameters())
            assert [name for name, _ in ours.named_parameters()] == list(torch_params)
            for name, p in ours.named_parameters():
                np.testing.assert_allclose(p.grad.numpy(), torch_params[name].grad.numpy(), atol=atol, rtol=rtol,
                                           err_msg=f"grad of {name}")
        theirs_state = theirs.state_dict()
        assert list(ours.state_dict()) == list(theirs_state)
        for name, value in ours.state_dict().items():
            np.testing.assert_allclose(value, theirs_state[name].numpy(), atol=atol, rtol=rtol, err_msg=name)


# ---------------------------------------------------------------- layers vs torch

LAYERS: list[tuple[str, Callable[[], nn.Module], Callable[[], torch.nn.Module], tuple[int, ...]]] = [
    ("linear", lambda: nn.Linear(5, 3), lambda: torch.nn.Linear(5, 3), (4, 5)),
    ("linear_3d_no_bias", lambda: nn.Linear(5, 3, bias=False), lambda: torch.nn.Linear(5, 3, bias=False), (2, 4, 5)),
    ("conv", lambda: nn.Conv2d(3, 4, 3), lambda: torch.nn.Conv2d(3, 4, 3), (2, 3, 7, 7)),
    ("conv_strided", lambda: nn.Conv2d(3, 4, 3, stride=2, padding=1),
     lambda: torch.nn.Conv2d(3, 4, 3, stride=2, padding=1), (2, 3, 7, 6)),
    ("conv_groups", lambda: nn.Conv2d(4, 6, (3, 2), groups=2, bias=False, dilation=(1, 2)),
     lambda: torch.nn.Conv2d(4, 6, (3, 2), groups=2, bias=False, dilation=(1, 2)), (2, 4, 6, 6)),
    ("conv_same", lambda: nn.Conv2d(2, 3, (3, 4), padding="same", dilation=(2, 1)),
     lambda: torch.nn.Conv2d(2, 3, (3, 4), padding="same", dilation=(2, 1)), (1, 2, 6, 5)),
    ("conv_transpose", lambda: nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1),
     lambda: torch.nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1), (2, 3, 4, 5)),
    ("conv_transpose_groups", lambda: nn.ConvTranspose2d(4, 2, 2, groups=2),
     lambda: torch.nn.ConvTranspose2d(4, 2, 2, groups=2), (1, 4, 3, 3)),
    ("maxpool", lambda: nn.MaxPool2d(2), lambda: torch.nn.MaxPool2d(2), (2, 3, 6, 6)),
    ("maxpool_padded", lambda: nn.MaxPool2d(3, stride=2, padding=1),
     lambda: torch.nn.MaxPool2d(3, stride=2, padding=1), (2, 2, 7, 7)),
    ("avgpool", lambda: nn.AvgPool2d(2), lambda: torch.nn.AvgPool2d(2), (2, 3, 6, 6)),
    ("avgpool_padded", lambda: nn.AvgPool2d(3, 2, 1), lambda: torch.nn.AvgPool2d(3, 2, 1), (2, 2, 7, 7)),
    ("layernorm", lambda: nn.LayerNorm(5), lambda: torch.nn.LayerNorm(5), (3, 4, 5)),
    ("layernorm_2d", lambda: nn.LayerNorm((4, 5)), lambda: torch.nn.LayerNorm((4, 5)), (3, 4, 5)),
    ("layernorm_no_bias", lambda: nn.LayerNorm(5, bias=False), lambda: torch.nn.LayerNorm(5, bias=False), (3, 5)),
    ("layernorm_no_affine", lambda: nn.LayerNorm(5, elementwise_affine=False),
     lambda: torch.nn.LayerNorm(5, elementwise_affine=False), (3, 5)),
    ("flatten", lambda: nn.Flatten(), lambda: torch.nn.Flatten(), (2, 3, 4, 5)),
    ("flatten_dims", lambda: nn.Flatten(0, 1), lambda: torch.nn.Flatten(0, 1), (2, 3, 4)),
    ("unflatten", lambda: nn.Unflatten(1, (3, 4)), lambda: torch.nn.Unflatten(1, (3, 4)), (2, 12)),
    ("identity", lambda: nn.Identity(), lambda: torch.nn.Identity(), (2, 3)),
    ("relu", lambda: nn.ReLU(), lambda: torch.nn.ReLU(), (4, 5)),
    ("tanh", lambda: nn.Tanh(), lambda: torch.nn.Tanh(), (4, 5)),
    ("sigmoid", lambda: nn.Sigmoid(), lambda: torch.nn.Sigmoid(), (4, 5)),
    ("gelu", lambda: nn.GELU(), lambda: torch.nn.GELU(), (4, 5)),
    ("gelu_tanh", lambda: nn.GELU("tanh"), lambda: torch.nn.GELU("tanh"), (4, 5)),
    ("silu", lambda: nn.SiLU(), lambda: torch.nn.SiLU(), (4, 5)),
    ("leaky_relu", lambda: nn.LeakyReLU(0.2), lambda: torch.nn.LeakyReLU(0.2), (4, 5)),
    ("softmax", lambda: nn.Softmax(dim=1), lambda: torch.nn.Softmax(dim=1), (3, 4, 5)),
    ("log_softmax", lambda: nn.LogSoftmax(dim=-1), lambda: torch.nn.LogSoftmax(dim=-1), (3, 4, 5)),
    ("dropout_zero", lambda: nn.Dropout(0.0), lambda: torch.nn.Dropout(0.0), (4, 5)),
    ("small_cnn", lambda: nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                                        nn.Flatten(), nn.Linear(36, 10), nn.LogSoftmax(1)),
     lambda: torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                                 torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(36, 10),
                                 torch.nn.LogSoftmax(1)), (3, 1, 6, 6)),
]


@pytest.mark.parametrize("ours, theirs, shape", [case[1:] for case in LAYERS], ids=[case[0] for case in LAYERS])
def test_layer_matches_torch(ours: Callable[[], nn.Module], theirs: Callable[[], torch.nn.Module],
                             shape: tuple[int, ...]) -> None:
    compare_module(ours(), theirs(), randn(*shape))


def test_layers_in_eval_mode_match_torch() -> None:
    compare_module(nn.Dropout(0.5), torch.nn.Dropout(0.5), randn(4, 5), train=False)


BATCHNORMS = [
    ("bn1d", lambda: nn.BatchNorm1d(4), lambda: torch.nn.BatchNorm1d(4), (8, 4)),
    ("bn1d_3d", lambda: nn.BatchNorm1d(4, momentum=0.3), lambda: torch.nn.BatchNorm1d(4, momentum=0.3), (5, 4, 3)),
    ("bn2d", lambda: nn.BatchNorm2d(3), lambda: torch.nn.BatchNorm2d(3), (4, 3, 5, 5)),
    ("bn2d_cumulative", lambda: nn.BatchNorm2d(3, momentum=None), lambda: torch.nn.BatchNorm2d(3, momentum=None),
     (2, 3, 4, 4)),
    ("bn2d_no_bias", lambda: nn.BatchNorm2d(3, bias=False), lambda: torch.nn.BatchNorm2d(3, bias=False), (2, 3, 4, 4)),
    ("bn2d_no_affine", lambda: nn.BatchNorm2d(3, affine=False, eps=1e-3),
     lambda: torch.nn.BatchNorm2d(3, affine=False, eps=1e-3), (2, 3, 4, 4)),
    ("bn2d_no_running_stats", lambda: nn.BatchNorm2d(3, track_running_stats=False),
     lambda: torch.nn.BatchNorm2d(3, track_running_stats=False), (2, 3, 4, 4)),
]


@pytest.mark.parametrize("ours, theirs, shape", [case[1:] for case in BATCHNORMS], ids=[case[0] for case in BATCHNORMS])
def test_batchnorm_matches_torch_in_train_then_eval(ours: Callable[[], nn.Module],
                                                     theirs: Callable[[], torch.nn.Module],
                                                     shape: tuple[int, ...]) -> None:
    ours_bn, theirs_bn = ours(), theirs()
    x = randn(*shape) * 3 + 1
    compare_module(ours_bn, theirs_bn, x, passes=3)  # running stats move three times
    compare_module(ours_bn, theirs_bn, randn(*shape), train=False)  # then are used, unchanged


def test_batchnorm_rejects_bad_inputs() -> None:
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(Tensor(randn(1, 3)))
    with pytest.raises(ValueError, match="4-D"):
        nn.BatchNorm2d(3)(Tensor(randn(2, 3)))
    with pytest.raises(ValueError, match="3 channels"):
        nn.BatchNorm2d(3)(Tensor(randn(2, 4, 2, 2)))


def test_embedding_matches_torch() -> None:
    ours, theirs = nn.Embedding(10, 4), torch.nn.Embedding(10, 4)
    compare_module(ours, theirs, RNG.integers(0, 10, size=(3, 5)))
    ours.zero_grad()
    ours(Tensor(np.array([[1, 2], [2, 9]]))).sum().backward()
    grad = ours.weight.grad.numpy()
    np.testing.assert_array_equal(grad[2], 2 * np.ones(4, np.float32))  # index 2 used twice: summed
    np.testing.assert_array_equal(grad[0], np.zeros(4, np.float32))


def test_embedding_padding_idx_gets_no_gradient() -> None:
    ours, theirs = nn.Embedding(6, 3, padding_idx=-1), torch.nn.Embedding(6, 3, padding_idx=-1)
    assert ours.padding_idx == theirs.padding_idx == 5
    np.testing.assert_array_equal(ours.weight.numpy()[5], np.zeros(3, np.float32))
    compare_module(ours, theirs, np.array([[5, 1, 5], [0, 2, 3]]))
    with pytest.raises(TypeError, match="integers"):
        ours(Tensor([0.5]))


def test_dropout_module_follows_train_and_eval() -> None:
    drop = nn.Dropout(0.25)
    x = edugrad.ones(200, 50)
    kept = drop(x).numpy()
    assert abs((kept == 0).mean() - 0.25) < 0.03
    np.testing.assert_allclose(kept[kept != 0], 1 / 0.75)
    drop.eval()
    assert drop.training is False
    np.testing.assert_array_equal(drop(x).numpy(), x.numpy())
    drop.train()
    assert drop.training is True
    assert (drop(x).numpy() == 0).any()  # dropping again once back in training mode


# ---------------------------------------------------------------- losses and functional vs torch

def _losses() -> list[tuple[str, Any, Any, Callable[[], list[np.ndarray]]]]:
    weight = np.array([0.5, 2.0, 1.0, 3.0], np.float32)
    classes = lambda: [randn(6, 4), RNG.integers(0, 4, size=6)]  # noqa: E731
    with_ignored = lambda: [randn(6, 4), np.array([0, 3, -100, 1, 2, -100])]  # noqa: E731
    spatial = lambda: [randn(2, 4, 3, 3), RNG.integers(0, 4, size=(2, 3, 3))]  # noqa: E731
    probabilities = lambda: [randn(5, 4), np.abs(randn(5, 4)) / 4]  # noqa: E731
    binary = lambda: [randn(4, 3), RNG.integers(0, 2, size=(4, 3)).astype(np.float32)]  # noqa: E731
    probs_binary = lambda: [RNG.uniform(0.05, 0.95, (4, 3)).astype(np.float32),  # noqa: E731
                            RNG.integers(0, 2, size=(4, 3)).astype(np.float32)]
    w_ours, w_torch = Tensor(weight), torch.tensor(weight)
    el, el_t = Tensor(np.abs(randn(4, 3))), None
    el_t = torch.tensor(el.numpy())
    pos, pos_t = Tensor(np.array([1.0, 2.0, 0.5], np.float32)), torch.tensor([1.0, 2.0, 0.5])
    cases = [
        ("ce", nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss(), classes),
        ("ce_sum", nn.CrossEntropyLoss(reduction="sum"), torch.nn.CrossEntropyLoss(reduction="sum"), classes),
        ("ce_none", nn.CrossEntropyLoss(reduction="none"), torch.nn.CrossEntropyLoss(reduction="none"), classes),
        ("ce_smooth", nn.CrossEntropyLoss(label_smoothing=0.2), torch.nn.CrossEntropyLoss(label_smoothing=0.2), classes),
        ("ce_ignore", nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss(), with_ignored),
        ("ce_spatial", nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss(), spatial),
        ("ce_probs", nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss(), probabilities),
        ("ce_weight", nn.CrossEntropyLoss(w_ours), torch.nn.CrossEntropyLoss(w_torch), with_ignored),
        ("ce_weight_sum", nn.CrossEntropyLoss(w_ours, reduction="sum"),
         torch.nn.CrossEntropyLoss(w_torch, reduction="sum"), classes),
        ("ce_weight_smooth", nn.CrossEntropyLoss(w_ours, label_smoothing=0.1),
         torch.nn.CrossEntropyLoss(w_torch, label_smoothing=0.1), with_ignored),
        ("ce_weight_smooth_none", nn.CrossEntropyLoss(w_ours, label_smoothing=0.1, reduction="none"),
         torch.nn.CrossEntropyLoss(w_torch, label_smoothing=0.1, reduction="none"), with_ignored),
        ("ce_weight_probs", nn.CrossEntropyLoss(w_ours, label_smoothing=0.1),
         torch.nn.CrossEntropyLoss(w_torch, label_smoothing=0.1), probabilities),
        ("nll", nn.NLLLoss(), torch.nn.NLLLoss(), with_ignored),
        ("nll_weight", nn.NLLLoss(w_ours), torch.nn.NLLLoss(w_torch), with_ignored),
        ("nll_weight_sum", nn.NLLLoss(w_ours, reduction="sum"), torch.nn.NLLLoss(w_torch, reduction="sum"), classes),
        ("mse", nn.MSELoss(), torch.nn.MSELoss(), lambda: [randn(3, 4), randn(3, 4)]),
        ("mse_sum", nn.MSELoss(reduction="sum"), torch.nn.MSELoss(reduction="sum"), lambda: [randn(3, 4), randn(3, 4)]),
        ("l1", nn.L1Loss(), torch.nn.L1Loss(), lambda: [randn(3, 4), randn(3, 4)]),
        ("bce", nn.BCELoss(), torch.nn.BCELoss(), probs_binary),
        ("bce_weight", nn.BCELoss(el), torch.nn.BCELoss(el_t), probs_binary),
        ("bce_logits", nn.BCEWithLogitsLoss(), torch.nn.BCEWithLogitsLoss(), binary),
        ("bce_logits_weights", nn.BCEWithLogitsLoss(el, pos_weight=pos),
         torch.nn.BCEWithLogitsLoss(el_t, pos_weight=pos_t), binary),
        ("bce_logits_none", nn.BCEWithLogitsLoss(reduction="none"), torch.nn.BCEWithLogitsLoss(reduction="none"),
         binary),
    ]
    return cases


LOSSES = _losses()


@pytest.mark.parametrize("ours, theirs, make_inputs", [c[1:] for c in LOSSES], ids=[c[0] for c in LOSSES])
def test_loss_matches_torch(ours: nn.Module, theirs: torch.nn.Module, make_inputs: Callable[[], list[np.ndarray]]) -> None:
    compare_module(ours, theirs, *make_inputs())


def test_loss_modules_keep_their_weights_as_buffers() -> None:
    weight = np.array([1.0, 2.0], np.float32)
    assert list(nn.CrossEntropyLoss(Tensor(weight)).state_dict()) == \
        list(torch.nn.CrossEntropyLoss(torch.tensor(weight)).state_dict()) == ["weight"]
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="average")


def test_functional_matches_torch() -> None:
    x, w = randn(2, 3, 6, 6), randn(4, 3, 3, 3)
    tx, tw = torch.tensor(x), torch.tensor(w)
    cases = [
        (F.conv2d(Tensor(x), Tensor(w), padding="same", dilation=2),
         torch.nn.functional.conv2d(tx, tw, padding="same", dilation=2)),
        (F.conv2d(Tensor(x), Tensor(w), padding="valid"), torch.nn.functional.conv2d(tx, tw, padding="valid")),
        (F.softmax(Tensor(x), 1), torch.nn.functional.softmax(tx, 1)),
        (F.log_softmax(Tensor(x), -1), torch.nn.functional.log_softmax(tx, -1)),
        (F.pad(Tensor(x), (1, 2, 0, 1), value=3.0), torch.nn.functional.pad(tx, (1, 2, 0, 1), value=3.0)),
        (F.one_hot(Tensor(np.array([0, 2, 1])), 4), torch.nn.functional.one_hot(torch.tensor([0, 2, 1]), 4)),
        (F.linear(Tensor(x[0, 0]), Tensor(x[1, 0, :4]), Tensor(x[1, 1, 0, :4])),
         torch.nn.functional.linear(tx[0, 0], tx[1, 0, :4], tx[1, 1, 0, :4])),
        (F.scaled_dot_product_attention(Tensor(x[0]), Tensor(x[1]), Tensor(x[0]), is_causal=True),
         torch.nn.functional.scaled_dot_product_attention(tx[0], tx[1], tx[0], is_causal=True)),
        (F.batch_norm(Tensor(x), edugrad.zeros(3), edugrad.ones(3), training=False),
         torch.nn.functional.batch_norm(tx, torch.zeros(3), torch.ones(3), training=False)),
        (F.elu(Tensor(x)), torch.nn.functional.elu(tx)),
        (F.softplus(Tensor(x), beta=2.0), torch.nn.functional.softplus(tx, beta=2.0)),
    ]
    for ours, theirs in cases:
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-5, rtol=1e-4)
    with pytest.raises(ValueError, match="stride 1"):
        F.conv2d(Tensor(x), Tensor(w), stride=2, padding="same")
    with pytest.raises(NotImplementedError, match="constant"):
        F.pad(Tensor(x), (1, 1), mode="reflect")


def test_functional_dropout_defaults_to_training_as_torch() -> None:
    x = edugrad.ones(100, 100)
    assert (F.dropout(x, 0.5).numpy() == 0).any()
    np.testing.assert_array_equal(F.dropout(x, 0.5, training=False).numpy(), x.numpy())


def test_default_initialisation_follows_torch() -> None:
    linear = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    for p in (linear.weight.numpy(), linear.bias.numpy()):
        assert np.abs(p).max() <= bound
        assert abs(p.std() - bound / math.sqrt(3)) < 0.1 * bound
    conv = nn.Conv2d(8, 16, 3)
    conv_bound = 1 / math.sqrt(8 * 9)
    assert np.abs(conv.weight.numpy()).max() <= conv_bound and conv.weight.numpy().std() > 0.5 * conv_bound
    transpose = nn.ConvTranspose2d(16, 8, 3)
    assert np.abs(transpose.weight.numpy()).max() <= 1 / math.sqrt(8 * 9)
    embedding = nn.Embedding(300, 100).weight.numpy()
    assert abs(embedding.mean()) < 0.02 and abs(embedding.std() - 1) < 0.02
    bn = nn.BatchNorm2d(3)
    np.testing.assert_array_equal(bn.weight.numpy(), np.ones(3))
    np.testing.assert_array_equal(bn.bias.numpy(), np.zeros(3))
    for p in nn.Linear(3, 2).parameters():
        assert p.requires_grad and isinstance(p, nn.Parameter)


# ---------------------------------------------------------------- Module bookkeeping

def add_layers(model: Any, lib: Any) -> None:
    """The same small CNN in both frameworks: named layers and Sequentials inside."""
    model.conv1 = lib.Conv2d(1, 4, 3, padding=1)
    model.bn = lib.BatchNorm2d(4)
    model.features = lib.Sequential(lib.Conv2d(4, 8, 3), lib.ReLU(), lib.MaxPool2d(2), lib.BatchNorm2d(8))
    model.head = lib.Sequential(lib.Flatten(), lib.Linear(8 * 2 * 2, 10))


def net_forward(model: Any, x: Any) -> Any:
    return model.head(model.features(model.bn(model.conv1(x)).relu()))


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        add_layers(self, nn)

    forward = net_forward


class TorchNet(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        add_layers(self, torch.nn)

    forward = net_forward


def test_state_dict_keys_match_torch() -> None:
    ours, theirs = Net(), TorchNet()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert "bn.num_batches_tracked" in ours.state_dict() and "features.0.weight" in ours.state_dict()
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert repr(ours.head) == repr(theirs.head)
    layers = lambda lib: lib.Sequential(  # noqa: E731
        lib.Conv2d(1, 2, 3, stride=2, bias=False), lib.Conv2d(2, 2, 3, padding="same"), lib.BatchNorm2d(2),
        lib.ConvTranspose2d(2, 3, 3, stride=2, output_padding=1), lib.AvgPool2d(2), lib.LayerNorm(3),
        lib.Embedding(3, 4), lib.Softmax(1), lib.GELU(), lib.LeakyReLU(), lib.CrossEntropyLoss(), lib.Linear(3, 4))
    assert repr(layers(nn)) == repr(layers(torch.nn))


def test_whole_network_matches_torch_and_loads_its_state_dict() -> None:
    ours, theirs = Net(), TorchNet()
    ours.load_state_dict(theirs.state_dict())  # torch tensors go in through np.asarray
    # conv, batch norm and linear layers in a row: float32 sums in another order (the pure-Python
    # backend's matmul) differ by a few 1e-5 at the weight of the first layer
    compare_module(ours, theirs, randn(2, 1, 6, 6), passes=2, atol=5e-5)
    compare_module(ours, theirs, randn(2, 1, 6, 6), train=False)


def test_state_dict_round_trip_and_copies() -> None:
    a, b = Net(), Net()
    x = Tensor(randn(2, 1, 6, 6))
    a.train()
    a(x)  # move the running statistics away from their start
    state = a.state_dict()
    assert all(isinstance(v, np.ndarray) for v in state.values())
    assert state["bn.num_batches_tracked"].dtype == np.int64 and state["bn.num_batches_tracked"] == 1
    weight = b.conv1.weight
    result = b.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert b.conv1.weight is weight, "loading must keep the parameter objects (optimizers hold them)"
    a.eval(), b.eval()
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    state["conv1.weight"][...] = 0  # the state_dict holds copies, not the model's memory
    assert np.abs(a.conv1.weight.numpy()).sum() > 0
    b.load_state_dict({k: Tensor(v) for k, v in a.state_dict().items()})  # Tensors are accepted too


def test_load_state_dict_reports_every_problem_and_changes_nothing() -> None:
    model = Net()
    before = model.state_dict()
    state = dict(before)
    del state["bn.running_var"]
    state["extra.weight"] = np.zeros(3, np.float32)
    state["head.1.weight"] = np.zeros((10, 31), np.float32)
    state["conv1.weight"] = np.ones_like(state["conv1.weight"])
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(state)
    message = str(info.value)
    assert 'Missing key(s) in state_dict: "bn.running_var"' in message
    assert 'Unexpected key(s) in state_dict: "extra.weight"' in message
    assert "size mismatch for head.1.weight" in message and "(10, 31)" in message and "(10, 32)" in message
    np.testing.assert_array_equal(model.conv1.weight.numpy(), before["conv1.weight"])
    with pytest.raises(RuntimeError, match="size mismatch"):  # shapes must match even when not strict
        model.load_state_dict(state, strict=False)
    state["head.1.weight"] = before["head.1.weight"]
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["bn.running_var"] and result.unexpected_keys == ["extra.weight"]
    np.testing.assert_array_equal(model.conv1.weight.numpy(), np.ones_like(before["conv1.weight"]))
    with pytest.raises(TypeError):
        model.load_state_dict([1, 2])  # type: ignore[arg-type]


def test_registration_by_assignment() -> None:
    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = nn.Linear(2, 2)
            self.scale = nn.Parameter(edugrad.ones(2))
            self.register_buffer("count", edugrad.zeros(1))
            self.register_buffer("scratch", edugrad.zeros(1), persistent=False)
            self.plain = edugrad.zeros(3)  # a plain tensor attribute is not state
            self.doubled = self.scale * 2  # ops on parameters give plain tensors

    block = Block()
    assert type(block.doubled) is Tensor
    assert [n for n, _ in block.named_parameters()] == ["scale", "linear.weight", "linear.bias"]
    assert [n for n, _ in block.named_buffers()] == ["count", "scratch"]
    assert list(block.state_dict()) == ["scale", "count", "linear.weight", "linear.bias"]
    block.count = edugrad.ones(1)  # a new tensor for a buffer stays a buffer
    assert block.state_dict()["count"] == 1
    with pytest.raises(TypeError, match="Parameter or None"):
        block.scale = edugrad.ones(2)
    block.scale = None  # declared, absent
    assert "scale" not in block.state_dict()
    del block.linear
    assert [n for n, _ in block.named_parameters()] == []
    with pytest.raises(AttributeError, match="no attribute 'linear'"):
        block.linear
    with pytest.raises(KeyError, match="already exists"):
        block.register_buffer("plain", edugrad.zeros(1))

    class Forgetful(nn.Module):
        def __init__(self) -> None:
            self.linear = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"super\(\)\.__init__\(\)"):
        Forgetful()
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(edugrad.ones(1))


def test_shared_parameters_are_listed_once_but_saved_under_each_name() -> None:
    shared = nn.Linear(3, 3)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    reference_shared = torch.nn.Linear(3, 3)
    reference = torch.nn.Sequential(reference_shared, torch.nn.ReLU(), reference_shared)
    assert len(list(model.parameters())) == 2
    assert [n for n, _ in model.named_modules()] == [n for n, _ in reference.named_modules()]
    assert list(model.state_dict()) == list(reference.state_dict())


def test_containers() -> None:
    seq = nn.Sequential({"embed": nn.Linear(2, 3), "act": nn.ReLU(), "out": nn.Linear(3, 1)})
    assert list(seq.state_dict()) == ["embed.weight", "embed.bias", "out.weight", "out.bias"]
    assert isinstance(seq[-1], nn.Linear) and len(seq) == 3
    tail = seq[1:]
    assert isinstance(tail, nn.Sequential) and list(tail.state_dict()) == ["out.weight", "out.bias"]
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Linear"]
    seq.append(nn.Sigmoid())
    assert seq(edugrad.ones(4, 2)).shape == (4, 1)
    with pytest.raises(IndexError, match="out of range"):
        seq[7]
    with pytest.raises(TypeError, match="not a Module"):
        nn.Sequential(nn.ReLU(), Tensor.relu)  # type: ignore[arg-type]

    layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])
    layers.append(nn.Linear(2, 3))
    layers.insert(0, nn.Identity())
    layers[1] = nn.Linear(2, 5)
    assert [type(m).__name__ for m in layers] == ["Identity", "Linear", "Linear", "Linear"]
    assert list(layers.state_dict())[:2] == ["1.weight", "1.bias"] and layers[1].out_features == 5
    assert len(layers[1:]) == 3

    class Holder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.blocks = layers

    assert len(list(Holder().parameters())) == 6


def test_train_eval_and_zero_grad_reach_every_module() -> None:
    model = Net()
    model.eval()
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    model(Tensor(randn(2, 1, 6, 6))).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_apply_visits_children_before_parents() -> None:
    visited: list[str] = []
    nn.Sequential(nn.Linear(1, 1), nn.Sequential(nn.ReLU(), nn.Tanh())).apply(lambda m: visited.append(type(m).__name__))
    assert visited == ["Linear", "ReLU", "Tanh", "Sequential", "Sequential"]


def test_deep_nesting_needs_no_recursion() -> None:
    model = nn.Linear(2, 2)
    for _ in range(3000):
        model = nn.Sequential(model)
    assert len(list(model.parameters())) == 2
    state = model.state_dict()
    assert len(state) == 2 and next(iter(state)).startswith("0.0.0.")
    model.load_state_dict(state)
    assert repr(model).count("Sequential(") == 3000
    model.eval()


# ---------------------------------------------------------------- clip_grad_norm_

@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type: float, max_norm: float) -> None:
    grads = [randn(3, 4), randn(5), randn(2, 2, 2)]
    ours = [nn.Parameter(edugrad.zeros(*g.shape)) for g in grads]
    theirs = [torch.nn.Parameter(torch.zeros(g.shape)) for g in grads]
    for p, q, g in zip(ours, theirs, grads):
        p.grad, q.grad = Tensor(g), torch.tensor(g)
    ours.append(nn.Parameter(edugrad.zeros(2)))  # a parameter without a gradient is skipped
    total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-5)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_clip_grad_norm_edge_cases() -> None:
    assert nn.utils.clip_grad_norm_([nn.Parameter(edugrad.ones(2))], 1.0).item() == 0.0
    p = nn.Parameter(edugrad.ones(2))
    p.grad = Tensor([math.inf, 1.0])
    with pytest.raises(RuntimeError, match="inf"):
        nn.utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    p.grad = Tensor([-3.0, 0.5])
    nn.utils.clip_grad_value_(p, 1.0)
    np.testing.assert_array_equal(p.grad.numpy(), [-1.0, 0.5])
