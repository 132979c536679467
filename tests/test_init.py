"""edugrad.nn.init against torch.nn.init: exact gains, fans and bounds; distributions by statistics
with fixed seeds (the random streams differ, so values can't match one by one); each function
fills the tensor it is given, in place, and returns it; the layers' default init comes from here."""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import pytest
import torch

import edugrad
from edugrad import Tensor, nn, optim
from edugrad.nn import init

GAINS: list[tuple[str, float | None]] = [("linear", None), ("conv2d", None), ("conv_transpose2d", None),
                                         ("sigmoid", None), ("tanh", None), ("relu", None), ("leaky_relu", None),
                                         ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)), ("selu", None)]


@pytest.mark.parametrize("nonlinearity, param", GAINS)
def test_calculate_gain_matches_torch(nonlinearity: str, param: float | None) -> None:
    assert init.calculate_gain(nonlinearity, param) == torch.nn.init.calculate_gain(nonlinearity, param)  # type: ignore[arg-type]


def test_calculate_gain_refuses_unknown_names() -> None:
    with pytest.raises(ValueError, match="calculate_gain: unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="calculate_gain: negative_slope 'a' is not a valid number"):
        init.calculate_gain("leaky_relu", "a")  # type: ignore[arg-type]


@pytest.mark.parametrize("shape", [(5, 3), (7, 1), (4, 3, 2), (8, 4, 3, 3), (2, 6, 1, 5), (3, 2, 0)])
def test_fans_match_torch(shape: tuple[int, ...]) -> None:
    assert init._calculate_fan_in_and_fan_out(edugrad.empty(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


def test_fans_need_two_dims() -> None:
    with pytest.raises(ValueError, match=r"fewer than 2 dimensions, got shape \(5,\)"):
        init._calculate_fan_in_and_fan_out(edugrad.empty(5))


def uniform_bound(ours: Callable[[Tensor], Any], shape: tuple[int, ...]) -> float:
    """The bound of a uniform scheme, read off a large sample: U(-b, b) has max |x| just under b."""
    return float(np.abs(ours(edugrad.empty(*shape)).numpy()).max())


# Each case: our call and torch's on a tensor of `shape`, and the expected standard deviation.
DISTRIBUTIONS: list[tuple[str, Callable[[Any], Any], Callable[[Any], Any], tuple[int, ...]]] = [
    ("uniform", lambda t: init.uniform_(t, -1.0, 3.0), lambda t: torch.nn.init.uniform_(t, -1.0, 3.0), (200, 100)),
    ("normal", lambda t: init.normal_(t, 2.0, 0.5), lambda t: torch.nn.init.normal_(t, 2.0, 0.5), (200, 100)),
    ("trunc_normal", lambda t: init.trunc_normal_(t, 0.5, 1.0, -1.0, 1.5),
     lambda t: torch.nn.init.trunc_normal_(t, 0.5, 1.0, -1.0, 1.5), (200, 100)),
    ("xavier_uniform", lambda t: init.xavier_uniform_(t, gain=2.0),
     lambda t: torch.nn.init.xavier_uniform_(t, gain=2.0), (200, 50, 3)),
    ("xavier_normal", lambda t: init.xavier_normal_(t), lambda t: torch.nn.init.xavier_normal_(t), (300, 60)),
    ("kaiming_uniform", lambda t: init.kaiming_uniform_(t), lambda t: torch.nn.init.kaiming_uniform_(t), (300, 60)),
    ("kaiming_uniform_a", lambda t: init.kaiming_uniform_(t, a=math.sqrt(5)),
     lambda t: torch.nn.init.kaiming_uniform_(t, a=math.sqrt(5)), (64, 16, 3, 3)),
    ("kaiming_normal_fan_out", lambda t: init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"),
     lambda t: torch.nn.init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"), (64, 16, 3, 3)),
    ("kaiming_normal_tanh", lambda t: init.kaiming_normal_(t, nonlinearity="tanh"),
     lambda t: torch.nn.init.kaiming_normal_(t, nonlinearity="tanh"), (300, 60)),
]


@pytest.mark.parametrize("name, ours, theirs, shape", DISTRIBUTIONS, ids=[c[0] for c in DISTRIBUTIONS])
def test_distribution_matches_torch(name: str, ours: Callable[[Any], Any], theirs: Callable[[Any], Any],
                                    shape: tuple[int, ...]) -> None:
    """Same mean, spread and quantiles as torch's samples (18,000 values or more: the statistics
    agree to a few percent), and, for the bounded ones, the same range."""
    edugrad.manual_seed(0)
    torch.manual_seed(0)
    a, b = ours(edugrad.empty(*shape)).numpy(), theirs(torch.empty(shape)).numpy()
    std = b.std()
    assert abs(a.mean() - b.mean()) < 0.03 * std
    assert abs(a.std() - std) < 0.02 * std
    for q in (0.1, 0.5, 0.9):  # the shapes agree too, not just the first two moments
        assert abs(np.quantile(a, q) - np.quantile(b, q)) < 0.04 * std
    if "uniform" in name or "trunc" in name:
        assert a.min() >= b.min() - 0.01 * std and a.max() <= b.max() + 0.01 * std


def test_trunc_normal_stays_inside_its_bounds() -> None:
    edugrad.manual_seed(1)
    values = init.trunc_normal_(edugrad.empty(100, 100), mean=0.0, std=1.0, a=-0.5, b=0.25).numpy()
    assert values.min() >= -0.5 and values.max() <= 0.25 and values.std() > 0.1


@pytest.mark.parametrize("name, shape, args", [
    ("kaiming_uniform_", (300, 60), {}),
    ("kaiming_uniform_", (64, 16, 3, 3), {"a": math.sqrt(5)}),
    ("kaiming_uniform_", (40, 500), {"mode": "fan_out", "nonlinearity": "relu"}),
    ("xavier_uniform_", (200, 50, 3), {"gain": 2.0}),
])
def test_uniform_schemes_bound_is_torchs(name: str, shape: tuple[int, ...], args: dict[str, Any]) -> None:
    """torch's bound, computed from its formula; our samples fill [-bound, bound) up to sampling error."""
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    if name == "xavier_uniform_":
        bound = args["gain"] * math.sqrt(6.0 / (fan_in + fan_out))
    else:
        fan = fan_in if args.get("mode", "fan_in") == "fan_in" else fan_out
        gain = torch.nn.init.calculate_gain(args.get("nonlinearity", "leaky_relu"), args.get("a", 0))
        bound = gain * math.sqrt(3.0 / fan)
    edugrad.manual_seed(0)
    observed = uniform_bound(lambda t: getattr(init, name)(t, **args), shape)
    assert bound * 0.999 < observed <= bound


def test_fills_in_place_and_returns_the_tensor() -> None:
    layer = nn.Linear(4, 3)
    weight = layer.weight
    for fill in (init.zeros_, init.ones_, lambda t: init.constant_(t, 0.25), init.xavier_normal_, init.orthogonal_,
                 lambda t: init.normal_(t, 1.0, 2.0)):
        assert fill(weight) is weight and layer.weight is weight
        assert weight.requires_grad and weight.is_leaf  # still a parameter: the fill recorded no graph
    np.testing.assert_array_equal(init.constant_(edugrad.empty(2, 3), 0.25).numpy(), np.full((2, 3), 0.25, np.float32))
    np.testing.assert_array_equal(init.ones_(edugrad.empty(3)).numpy(), np.ones(3, np.float32))
    np.testing.assert_array_equal(init.zeros_(edugrad.ones(3, dtype=edugrad.float64)).numpy(), np.zeros(3))
    assert init.zeros_(edugrad.ones(3, dtype=edugrad.float64)).dtype == edugrad.float64


def test_an_optimizer_sees_the_new_values() -> None:
    """In place means the tensor object is kept: an optimizer made before the init updates the new values."""
    layer = nn.Linear(2, 2)
    opt = optim.SGD(layer.parameters(), lr=0.5)
    init.ones_(layer.weight)
    layer(edugrad.ones(1, 2)).sum().backward()
    opt.step()
    np.testing.assert_allclose(layer.weight.numpy(), np.full((2, 2), 0.5))


@pytest.mark.parametrize("shape", [(3, 3), (2, 5), (5, 2)])
def test_eye_matches_torch(shape: tuple[int, int]) -> None:
    np.testing.assert_array_equal(init.eye_(edugrad.empty(*shape)).numpy(),
                                  torch.nn.init.eye_(torch.empty(shape)).numpy())


@pytest.mark.parametrize("shape, gain", [((6, 6), 1.0), ((3, 8), 2.0), ((8, 3), 1.0), ((4, 2, 3, 3), 0.5)])
def test_orthogonal_rows_or_columns_are_orthonormal(shape: tuple[int, ...], gain: float) -> None:
    edugrad.manual_seed(0)
    matrix = init.orthogonal_(edugrad.empty(*shape), gain=gain).numpy().reshape(shape[0], -1).astype(np.float64)
    small = min(matrix.shape)
    gram = matrix @ matrix.T if matrix.shape[0] == small else matrix.T @ matrix
    np.testing.assert_allclose(gram, gain ** 2 * np.eye(small), atol=1e-5)


def test_zero_element_tensors_are_left_alone() -> None:
    empty = edugrad.empty(0, 3)
    assert init.kaiming_uniform_(empty) is empty and init.kaiming_normal_(empty) is empty
    assert init.orthogonal_(empty) is empty and init.xavier_uniform_(empty).shape == (0, 3)


INIT_ERRORS: list[tuple[Callable[[], Any], type[Exception], str]] = [
    (lambda: init.uniform_(edugrad.empty(2), 1.0, 0.0), ValueError, "uniform_: expected a <= b, got a=1.0, b=0.0"),
    (lambda: init.normal_(edugrad.empty(2), std=-1.0), ValueError, "normal_: std must be >= 0, got -1.0"),
    (lambda: init.trunc_normal_(edugrad.empty(2), a=1.0, b=-1.0), ValueError, "expected a < b"),
    (lambda: init.trunc_normal_(edugrad.empty(2), mean=0.0, std=1.0, a=10.0, b=11.0), ValueError,
     "choose bounds nearer the mean"),
    (lambda: init.kaiming_uniform_(edugrad.empty(2, 2), mode="fan_avg"), ValueError,
     "mode must be 'fan_in' or 'fan_out', got 'fan_avg'"),
    (lambda: init.kaiming_normal_(edugrad.empty(4)), ValueError, "fewer than 2 dimensions"),
    (lambda: init.xavier_uniform_(edugrad.empty(4)), ValueError, "fewer than 2 dimensions"),
    (lambda: init.eye_(edugrad.empty(2, 2, 2)), ValueError,
     r"eye_: only 2-D tensors are supported, got shape \(2, 2, 2\)"),
    (lambda: init.orthogonal_(edugrad.empty(3)), ValueError, "orthogonal_: only tensors with 2 or more dimensions"),
    (lambda: init.zeros_(np.zeros(3)), TypeError, "constant_: expected a Tensor to fill, got ndarray"),  # type: ignore[arg-type]
    (lambda: init.kaiming_uniform_([[1.0]]), TypeError, "kaiming_uniform_: expected a Tensor to fill, got list"),  # type: ignore[arg-type]
    (lambda: init.xavier_normal_(None), TypeError, "_calculate_fan_in_and_fan_out: expected a Tensor to fill"),  # type: ignore[arg-type]
]


@pytest.mark.parametrize("call, error, message", INIT_ERRORS, ids=[m.split(":")[0] for _, _, m in INIT_ERRORS])
def test_init_errors_by_message(call: Callable[[], Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        call()


# ------------------------------------------------------------ the layers' default init
LAYERS: list[tuple[str, Callable[[Any], Any]]] = [
    ("linear", lambda lib: lib.Linear(120, 80)),
    ("conv2d", lambda lib: lib.Conv2d(16, 32, 3)),
    ("conv2d_groups", lambda lib: lib.Conv2d(16, 32, (3, 5), groups=4)),
    ("conv_transpose2d", lambda lib: lib.ConvTranspose2d(16, 32, 4, stride=2)),
    ("conv_transpose2d_groups", lambda lib: lib.ConvTranspose2d(16, 24, 3, groups=8)),
    ("embedding", lambda lib: lib.Embedding(300, 40)),
]


@pytest.mark.parametrize("make", [m for _, m in LAYERS], ids=[n for n, _ in LAYERS])
def test_layer_default_init_matches_torch(make: Callable[[Any], Any]) -> None:
    """Every parameter has torch's name, shape and spread, and the uniform ones torch's exact bound
    1/sqrt(fan_in) (our largest |value| lies just under it)."""
    edugrad.manual_seed(0)
    torch.manual_seed(0)
    ours, theirs = dict(make(nn).named_parameters()), dict(make(torch.nn).named_parameters())
    assert list(ours) == list(theirs)
    for name, p in ours.items():
        a, b = p.numpy(), theirs[name].detach().numpy()
        assert a.shape == b.shape, name
        np.testing.assert_allclose(a.std(), b.std(), rtol=0.25 if a.size < 1000 else 0.03, err_msg=name)
        if isinstance(make(torch.nn), torch.nn.Embedding):
            continue
        fan_in, _ = torch.nn.init._calculate_fan_in_and_fan_out(theirs["weight"])
        exact = 1 / math.sqrt(fan_in)  # weight and bias: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
        assert np.abs(a).max() <= exact and np.abs(a).max() > 0.8 * exact, name
        assert np.abs(b).max() <= exact, name  # the bound is torch's too


def test_embedding_padding_row_starts_at_zero_and_reset_parameters_redraws() -> None:
    edugrad.manual_seed(0)
    embedding = nn.Embedding(5, 3, padding_idx=-2)
    np.testing.assert_array_equal(embedding.weight.numpy()[3], np.zeros(3))
    before = embedding.weight.numpy().copy()
    weight = embedding.weight
    embedding.reset_parameters()
    assert embedding.weight is weight and not np.array_equal(weight.numpy(), before)
    np.testing.assert_array_equal(weight.numpy()[3], np.zeros(3))


def test_seeded_layers_are_reproducible() -> None:
    edugrad.manual_seed(3)
    first = nn.Conv2d(2, 4, 3).state_dict()
    edugrad.manual_seed(3)
    second = nn.Conv2d(2, 4, 3).state_dict()
    for key in first:
        np.testing.assert_array_equal(first[key], second[key])


def test_init_is_a_submodule_of_nn() -> None:
    assert nn.init is init and edugrad.nn.init.kaiming_uniform_ is init.kaiming_uniform_
