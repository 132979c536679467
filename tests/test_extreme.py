"""Extreme logits: the numerically delicate ops stay finite and match PyTorch up to |x| = 1e4.

Every op here has a naive form that overflows (exp(1e4) = inf, then inf/inf = nan); edugrad
shifts by the max, writes softplus as max(z, 0) + log(1 + e^-|z|), and gives sigmoid its own
Function so that neither the values nor the gradients ever pass through inf.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import edugrad.nn.functional as F
import edugrad
from edugrad import Tensor
from helpers import check, fixed

# pytest shows numpy's IEEE warnings (the backend's own filter is reset per test): sigmoid's
# 2^(-x log2 e) overflows to inf for x << 0, and 1/(1 + inf) = 0 is the right answer
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

# Rows mix huge and ordinary logits: a winner far ahead, ties at the extremes, all-equal rows.
LOGITS = np.array([
    [-1e4, -1e3, -100.0, -20.0, -1.0, 0.0, 1.0, 20.0, 100.0, 1e4],
    [1e4, 1e4, -1e4, 0.0, 0.5, 3.0, -1e4, 5.0, 1e4, -7.0],
    [-1e4] * 10,
    [1e4] * 10,
    [88.0, 89.0, 90.0, -88.0, -89.0, -90.0, 700.0, -700.0, 1e4 - 1, -1e4 + 1],  # float32 exp limits
], dtype=np.float32)
CLASSES = np.array([0, 2, 5, 9, 7])  # includes classes whose logit is -1e4 below the winner
PROBABILITIES = np.random.default_rng(0).dirichlet(np.ones(10), size=5).astype(np.float32)
BINARY_TARGETS = (np.arange(50).reshape(5, 10) % 3 == 0).astype(np.float32)
POS_WEIGHT = np.linspace(0.5, 3.0, 10).astype(np.float32)

Op = Callable[..., Any]
ELEMENTWISE: dict[str, tuple[Op, Op]] = {
    "sigmoid": (lambda x: x.sigmoid(), torch.sigmoid),
    "tanh": (lambda x: x.tanh(), torch.tanh),
    "softplus": (lambda x: F.softplus(x), TF.softplus),
    "softplus_beta": (lambda x: F.softplus(x, beta=2.0, threshold=30.0), lambda x: TF.softplus(x, 2.0, 30.0)),
    "logsigmoid": (lambda x: F.logsigmoid(x), TF.logsigmoid),
    "silu": (lambda x: F.silu(x), TF.silu),
    "mish": (lambda x: F.mish(x), TF.mish),
    "gelu": (lambda x: F.gelu(x), TF.gelu),
    "gelu_tanh": (lambda x: F.gelu(x, "tanh"), lambda x: TF.gelu(x, approximate="tanh")),
    "elu": (lambda x: F.elu(x), TF.elu),
    "erf": (lambda x: x.erf(), torch.erf),  # LOGITS hold 0.0, where erf's slope is 2/sqrt(pi)
}
ALONG_A_DIM: dict[str, tuple[Op, Op]] = {
    "softmax": (lambda x: x.softmax(-1), lambda x: x.softmax(-1)),
    "softmax_dim0": (lambda x: x.softmax(0), lambda x: x.softmax(0)),
    "log_softmax": (lambda x: x.log_softmax(-1), lambda x: x.log_softmax(-1)),
    "log_softmax_dim0": (lambda x: x.log_softmax(0), lambda x: x.log_softmax(0)),
    # torch's float32 backward, exp(x - logsumexp), inherits the rounding of a logsumexp near 1e4
    # (one ulp is 1e-3) and is off by 2e-4; edugrad's shifted form is exact, so compare in float64.
    "logsumexp": (lambda x: x.logsumexp(-1), lambda x: x.double().logsumexp(-1).float()),
    "logsumexp_keepdim": (lambda x: x.logsumexp(0, keepdim=True),
                          lambda x: x.double().logsumexp(0, keepdim=True).float()),
    "logsumexp_all": (lambda x: x.logsumexp((0, 1)), lambda x: x.double().logsumexp((0, 1)).float()),
}
LOSSES: dict[str, tuple[Op, Op, list[Any]]] = {
    "cross_entropy": (lambda x, y: F.cross_entropy(x, y), TF.cross_entropy, [CLASSES]),
    "cross_entropy_sum": (lambda x, y: F.cross_entropy(x, y, reduction="sum"),
                          lambda x, y: TF.cross_entropy(x, y, reduction="sum"), [CLASSES]),
    "cross_entropy_smoothing": (lambda x, y: F.cross_entropy(x, y, label_smoothing=0.1),
                                lambda x, y: TF.cross_entropy(x, y, label_smoothing=0.1), [CLASSES]),
    "cross_entropy_probabilities": (lambda x, p: F.cross_entropy(x, p), TF.cross_entropy, [fixed(PROBABILITIES)]),
    "binary_crossentropy_logits": (lambda x, t: F.binary_cross_entropy_with_logits(x, t),
                                   TF.binary_cross_entropy_with_logits, [fixed(BINARY_TARGETS)]),
    "binary_crossentropy_logits_none": (
        lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction="none"),
        lambda x, t: TF.binary_cross_entropy_with_logits(x, t, reduction="none"), [fixed(BINARY_TARGETS)]),
    "binary_crossentropy_logits_pos_weight": (
        lambda x, t, w: F.binary_cross_entropy_with_logits(x, t, pos_weight=w),
        lambda x, t, w: TF.binary_cross_entropy_with_logits(x, t, pos_weight=w),
        [fixed(BINARY_TARGETS), fixed(POS_WEIGHT)]),
}


def grad(t: Tensor) -> np.ndarray:
    assert t.grad is not None, "no gradient reached this tensor"
    return t.grad.numpy()


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_at_extremes_matches_torch(name: str) -> None:
    ours, theirs = ELEMENTWISE[name]
    check(ours, [LOGITS], theirs)


@pytest.mark.parametrize("name", ALONG_A_DIM)
def test_softmax_family_at_extremes_matches_torch(name: str) -> None:
    ours, theirs = ALONG_A_DIM[name]
    check(ours, [LOGITS], theirs)


@pytest.mark.parametrize("name", LOSSES)
def test_losses_at_extremes_match_torch(name: str) -> None:
    ours, theirs, extra = LOSSES[name]
    # a loss of 2e4 in float32 carries rounding of about 1e-3, hence the absolute tolerance
    check(ours, [LOGITS, *extra], theirs, atol=1e-3)


def test_float64_logits_beyond_float32_range() -> None:
    """float64 survives exp(1e4) = inf too: the shift by the max is what saves it, not the dtype."""
    logits = np.array([[-1e4, 0.0, 1e4], [1e300, -1e300, 0.0]])
    for ours, theirs in [(lambda x: x.log_softmax(-1), lambda x: x.log_softmax(-1)),
                         (lambda x: x.sigmoid(), torch.sigmoid),
                         (lambda x: F.softplus(x), TF.softplus),
                         (lambda x: x.logsumexp(-1), lambda x: x.logsumexp(-1))]:
        x = Tensor(logits, dtype=edugrad.float64, requires_grad=True)
        t = torch.tensor(logits, requires_grad=True)
        out, expected = ours(x), theirs(t)
        out.sum().backward()
        expected.sum().backward()
        np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-12)
        assert t.grad is not None
        np.testing.assert_allclose(grad(x), t.grad.numpy(), rtol=1e-12, atol=1e-300)


def test_no_anomaly_at_extremes() -> None:
    """Under detect_anomaly, no Function inside these ops turns finite values into inf or nan.
    (Sigmoid's own 2^(-x log2 e) may overflow to inf inside its Function; 1 / (1 + inf) = 0.)"""
    with edugrad.detect_anomaly():
        for ours, _ in [*ELEMENTWISE.values(), *ALONG_A_DIM.values()]:
            x = Tensor(LOGITS, requires_grad=True)
            out = ours(x)
            out.sum().backward()
            assert np.isfinite(out.numpy()).all() and np.isfinite(grad(x)).all()
        x = Tensor(LOGITS, requires_grad=True)
        loss = F.cross_entropy(x, Tensor(CLASSES)) + F.binary_cross_entropy_with_logits(x, Tensor(BINARY_TARGETS))
        loss.backward()
        assert np.isfinite(loss.item()) and np.isfinite(grad(x)).all()


def test_saturated_sigmoid_gradient_is_exactly_zero_not_nan() -> None:
    x = Tensor([-1e4, 1e4], requires_grad=True)
    x.sigmoid().sum().backward()
    assert grad(x).tolist() == [0.0, 0.0]


def test_confident_wrong_prediction_has_a_large_finite_loss() -> None:
    """The true class 2e4 below the winner: loss 2e4, gradient exactly one-hot difference."""
    logits = Tensor([[1e4, -1e4]], requires_grad=True)
    loss = F.cross_entropy(logits, Tensor([1]))
    loss.backward()
    assert loss.item() == pytest.approx(2e4)
    assert grad(logits).tolist() == [[1.0, -1.0]]
