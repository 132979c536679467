"""detect_anomaly(): the first NaN or Inf, in forward or backward, named with the Function and
the line of the user's code that made it; deliberate infinities (masks, padding) pass."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

import edugrad.nn.functional as F
import edugrad
from edugrad import AnomalyError, Tensor
from edugrad.debug import WATCHERS

# pytest shows numpy's IEEE warnings (the backend's own filter is reset per test); here nan and inf are the point
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def here() -> int:
    """The line number of the caller."""
    frame = inspect.currentframe()
    assert frame is not None and frame.f_back is not None
    return frame.f_back.f_lineno


def test_log_of_zero_is_reported_in_forward_with_the_users_line() -> None:
    x = Tensor([1.0, 0.0, 2.0], requires_grad=True)
    with edugrad.detect_anomaly(), pytest.raises(AnomalyError) as caught:
        line = here() + 1
        x.log()
    message = str(caught.value)
    assert isinstance(caught.value, RuntimeError)
    assert "Log produced nan/inf in forward" in message
    assert "1 -inf among 3 values, the first at index (1,)" in message
    assert f"{__file__}:{line} in test_log_of_zero" in message


def test_sqrt_at_zero_is_reported_in_backward_with_the_line_that_created_it() -> None:
    x = Tensor([4.0, 0.0], requires_grad=True)
    with edugrad.detect_anomaly():
        created = here() + 1
        y = x.sqrt().sum()  # finite forward: sqrt(0) = 0
        with pytest.raises(AnomalyError) as caught:
            y.backward()  # 1 / (2 sqrt(0)) = inf
    message = str(caught.value)
    assert "Sqrt produced nan/inf in backward" in message
    assert "gradient for its input 0 (shape (2,)) has 1 inf" in message
    assert f"was created at {__file__}:{created}" in message


def user_model(x: Tensor) -> Tensor:
    """A user's function: the reported line is in here, not inside edugrad."""
    hidden = x * 2
    return hidden / hidden.sum(0)  # 0/0 for a zero column


def test_location_is_the_first_frame_outside_edugrad() -> None:
    expected = inspect.getsourcelines(user_model)[1] + 3  # the `return` line
    with edugrad.detect_anomaly(), pytest.raises(AnomalyError) as caught:
        user_model(Tensor([[0.0, 1.0], [0.0, 2.0]], requires_grad=True))
    assert "Div produced nan/inf in forward" in str(caught.value)
    assert f"{__file__}:{expected} in user_model" in str(caught.value)


def test_overflow_is_reported_even_without_grad() -> None:
    with edugrad.detect_anomaly(), edugrad.no_grad(), pytest.raises(AnomalyError, match="Exp produced nan/inf"):
        Tensor([1.0, 100.0]).exp()  # e^100 overflows float32


def test_inf_minus_inf_is_new_nan_and_reported() -> None:
    """Inputs holding inf may pass inf on, but a NaN made from them is still news."""
    a, b = Tensor([math.inf, 1.0]), Tensor([math.inf, 2.0])
    with edugrad.detect_anomaly():
        assert (a + b).tolist() == [math.inf, 3.0]  # inf in, inf out: fine
        with pytest.raises(AnomalyError, match="Sub produced nan/inf in forward.*1 nan"):
            a - b


def test_masks_and_padding_with_minus_inf_do_not_trigger() -> None:
    edugrad.manual_seed(0)
    with edugrad.detect_anomaly():
        q = edugrad.randn(2, 5, 8, requires_grad=True)
        F.scaled_dot_product_attention(q, q, q, is_causal=True).sum().backward()
        scores = edugrad.randn(3, 4, requires_grad=True)
        mask = Tensor([[True, False, True, True]] * 3)
        edugrad.where(mask, scores, -math.inf).log_softmax(-1).logsumexp(-1).sum().backward()
        image = edugrad.randn(1, 2, 5, 5, requires_grad=True)
        F.max_pool2d(image, 3, stride=2, padding=1).sum().backward()
    assert all(t.grad is not None and np.isfinite(t.grad.numpy()).all() for t in (q, scores, image))


def test_nan_the_user_passed_in_is_not_blamed_on_an_op() -> None:
    with edugrad.detect_anomaly():
        out = Tensor([math.nan, 1.0], requires_grad=True) * 3
    assert math.isnan(out.tolist()[0])


def test_backward_of_a_graph_built_outside_the_mode_says_so() -> None:
    x = Tensor([0.0], requires_grad=True)
    y = x.sqrt().sum()
    with edugrad.detect_anomaly(), pytest.raises(AnomalyError, match="ran forward outside detect_anomaly"):
        y.backward()


def test_off_outside_the_block() -> None:
    with edugrad.detect_anomaly():
        pass
    assert not WATCHERS.watching
    assert Tensor([0.0]).log().tolist() == [-math.inf]


def test_works_alongside_trace_and_profile_and_cleans_up() -> None:
    x = Tensor([1.0, 0.0], requires_grad=True)
    with edugrad.profile(show=False) as stats, edugrad.trace() as events:
        with edugrad.detect_anomaly():
            y = (x * 2).sum()
            with pytest.raises(AnomalyError, match="Log produced nan/inf in forward"):
                x.log()
        assert WATCHERS.listeners and WATCHERS.watching  # trace and profile still on
        y.backward()
    names = [(e.kind, e.name) for e in events if e.kind != "primitive"]
    assert ("forward", "Log") in names and ("backward", "Mul") in names
    assert stats.functions["Log"].forward_calls == 1
    assert not WATCHERS.watching and not WATCHERS.listeners and WATCHERS.patched is None


def test_usable_as_a_decorator() -> None:
    @edugrad.detect_anomaly()
    def step(x: Tensor) -> Tensor:
        return x.reciprocal()

    assert step(Tensor([2.0])).tolist() == [0.5]
    with pytest.raises(AnomalyError, match="Reciprocal produced nan/inf"):
        step(Tensor([0.0]))
    assert not WATCHERS.watching
