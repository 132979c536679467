"""edugrad.optim against torch.optim: trajectories of every optimizer and option, schedules,
state_dict resumption, and errors."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
import torch

import edugrad
from edugrad import Tensor, nn, optim, serialization
from edugrad.optim import lr_scheduler

RNG = np.random.default_rng(0)
INIT = [RNG.standard_normal((3, 4)).astype(np.float32), RNG.standard_normal(4).astype(np.float32),
        RNG.standard_normal(()).astype(np.float32)]
OFFSETS = [RNG.standard_normal(a.shape).astype(np.float32) for a in INIT]


def gradient(index: int, value: np.ndarray) -> np.ndarray:
    """The same gradient function for both frameworks: a nonlinear function of the parameter's
    current value, so the trajectories depend on every step the optimizer took."""
    return (np.sin(3 * value) + 0.5 * value + OFFSETS[index]).astype(np.float32)


def edugrad_params() -> list[Tensor]:
    return [Tensor(a, requires_grad=True) for a in INIT]


def torch_params() -> list[torch.Tensor]:
    return [torch.tensor(a, requires_grad=True) for a in INIT]


def set_gradients(ours: list[Tensor], theirs: list[torch.Tensor]) -> None:
    for i, (p, q) in enumerate(zip(ours, theirs)):
        p.grad = Tensor(gradient(i, p.numpy()))
        q.grad = torch.tensor(gradient(i, q.detach().numpy()))


def assert_same(ours: list[Tensor], theirs: list[torch.Tensor], step: int) -> None:
    for i, (p, q) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-5,
                                   err_msg=f"parameter {i} after step {step}")


CASES: list[tuple[str, dict[str, Any]]] = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict()),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.5)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.8, weight_decay=0.1, nesterov=True)),
    ("SGD", dict(lr=0.1, momentum=0.9, maximize=True)),
    ("Adam", dict(lr=0.1)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.1, betas=(0.8, 0.99), eps=1e-3)),
    ("Adam", dict(lr=0.1, weight_decay=0.1)),
    ("Adam", dict(lr=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.1, amsgrad=True, weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=0.1, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.1)),
    ("AdamW", dict(lr=0.1, weight_decay=0.3)),
    ("AdamW", dict(lr=0.1, weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.1, maximize=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, alpha=0.9)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, eps=1e-2, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-4)),
    ("Adadelta", dict(lr=0.5, weight_decay=0.1, maximize=True)),
]


@pytest.mark.parametrize("name, options", CASES, ids=[f"{n}-{'-'.join(map(str, o.items())) or 'defaults'}"
                                                       for n, o in CASES])
def test_trajectory_matches_torch(name: str, options: dict[str, Any]) -> None:
    ours, theirs = edugrad_params(), torch_params()
    ours_opt, theirs_opt = getattr(optim, name)(ours, **options), getattr(torch.optim, name)(theirs, **options)
    for step in range(10):
        set_gradients(ours, theirs)
        ours_opt.step()
        theirs_opt.step()
        assert_same(ours, theirs, step)


@pytest.mark.parametrize("name, options", [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.1)),
                                           ("AdamW", dict(lr=0.1)), ("RMSprop", dict(lr=0.01, centered=True)),
                                           ("Adadelta", dict())])
def test_transposed_gradient(name: str, options: dict[str, Any]) -> None:
    """A Linear weight's gradient arrives as a transposed view (Adam copies it row-major first)."""
    ours, theirs = edugrad_params(), torch_params()
    ours_opt, theirs_opt = getattr(optim, name)(ours, **options), getattr(torch.optim, name)(theirs, **options)
    for step in range(5):
        set_gradients(ours, theirs)
        ours[0].grad = Tensor(np.ascontiguousarray(ours[0].grad.numpy().T)).T  # same values, a permuted view
        ours_opt.step()
        theirs_opt.step()
        assert_same(ours, theirs, step)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adadelta"])
def test_step_changes_parameters_and_buffers_in_place(name: str) -> None:
    """As in PyTorch, the parameter and its state buffers stay the same tensor objects, each step
    bumping the parameter's version; the gradient is left as it was."""
    p = Tensor(INIT[0], requires_grad=True)
    opt = getattr(optim, name)([p], lr=0.1, **({"momentum": 0.9} if name in ("SGD", "RMSprop") else {}))
    p.grad = Tensor(gradient(0, p.numpy()))
    opt.step()
    buffers, version, grad = dict(opt.state[p]), p._version, p.grad.numpy().copy()
    opt.step()
    assert p._version > version
    np.testing.assert_array_equal(p.grad.numpy(), grad)
    for key, value in buffers.items():
        if isinstance(value, Tensor):
            assert opt.state[p][key] is value, f"{name}: state {key!r} was replaced, not changed in place"


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adadelta"])
def test_param_groups_and_missing_gradients(name: str) -> None:
    """Groups with their own settings; a parameter without a gradient is left alone."""
    ours, theirs = edugrad_params(), torch_params()
    extra = {"momentum": 0.5} if name in ("SGD", "RMSprop") else {"rho": 0.5} if name == "Adadelta" \
        else {"betas": (0.5, 0.9)}
    ours_opt = getattr(optim, name)([{"params": ours[:1]}, {"params": ours[1:], "lr": 0.2, **extra}], lr=0.05)
    theirs_opt = getattr(torch.optim, name)([{"params": theirs[:1]}, {"params": theirs[1:], "lr": 0.2, **extra}],
                                            lr=0.05)
    for step in range(5):
        set_gradients(ours, theirs)
        ours[2].grad, theirs[2].grad = None, None
        ours_opt.step()
        theirs_opt.step()
        assert_same(ours, theirs, step)
    np.testing.assert_array_equal(ours[2].numpy(), INIT[2])


@pytest.mark.parametrize("name, options", [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
                                           ("Adam", dict(lr=0.1, amsgrad=True)),
                                           ("AdamW", dict(lr=0.1)),
                                           ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
                                           ("Adadelta", dict(lr=0.5, weight_decay=0.1))])
def test_state_dict_resumes_the_same_trajectory(name: str, options: dict[str, Any], tmp_path: Any) -> None:
    ours, theirs = edugrad_params(), torch_params()
    ours_opt, theirs_opt = getattr(optim, name)(ours, **options), getattr(torch.optim, name)(theirs, **options)
    for _ in range(5):
        set_gradients(ours, theirs)
        ours_opt.step()
        theirs_opt.step()
    state = ours_opt.state_dict()
    assert set(state) == {"state", "param_groups"} and sorted(state["state"]) == [0, 1, 2]
    assert state["param_groups"][0]["params"] == [0, 1, 2]
    assert set(state["state"][0]) == set(theirs_opt.state_dict()["state"][0])
    serialization.save({"optimizer": state, "params": [p.numpy() for p in ours]}, tmp_path / "ckpt.npz")
    saved = serialization.load(tmp_path / "ckpt.npz")

    resumed = [Tensor(a, requires_grad=True) for a in saved["params"]]
    resumed_opt = getattr(optim, name)(resumed, lr=123.0)  # the settings come back from the state too
    resumed_opt.load_state_dict(saved["optimizer"])
    assert resumed_opt.param_groups[0]["lr"] == options["lr"]
    # torch's own state_dict, as numpy, also resumes an edugrad optimizer
    from_torch = [Tensor(q.detach().numpy(), requires_grad=True) for q in theirs]
    from_torch_opt = getattr(optim, name)(from_torch, **options)
    torch_state = theirs_opt.state_dict()
    from_torch_opt.load_state_dict({
        "state": {i: {k: v.numpy() for k, v in s.items()} for i, s in torch_state["state"].items()},
        "param_groups": torch_state["param_groups"]})
    for step in range(5):
        set_gradients(ours, theirs)
        for i, (r, f) in enumerate(zip(resumed, from_torch)):
            r.grad, f.grad = Tensor(gradient(i, r.numpy())), Tensor(gradient(i, f.numpy()))
        for opt in (ours_opt, theirs_opt, resumed_opt, from_torch_opt):
            opt.step()
        for p, r in zip(ours, resumed):
            np.testing.assert_array_equal(p.numpy(), r.numpy())
        assert_same(from_torch, theirs, step)
        assert_same(ours, theirs, step)


def test_load_state_dict_errors() -> None:
    opt = optim.Adam(edugrad_params(), lr=0.1)
    with pytest.raises(ValueError, match="parameter groups"):
        opt.load_state_dict({"state": {}, "param_groups": []})
    with pytest.raises(ValueError, match="group 0 has 2 parameters"):
        opt.load_state_dict({"state": {}, "param_groups": [{"params": [0, 1]}]})
    bad = {"state": {0: {"step": 1, "exp_avg": np.zeros(5), "exp_avg_sq": np.zeros(5)}},
           "param_groups": [{"params": [0, 1, 2], "lr": 0.1}]}
    with pytest.raises(ValueError, match="shape"):
        opt.load_state_dict(bad)


def adam_state(**changes: Any) -> dict[str, Any]:
    """A well-formed Adam state dict for edugrad_params(), with `changes` applied to parameter 0's
    state ("state" and "param_groups" replace the whole entry)."""
    entry = {"step": 3, "exp_avg": np.zeros(4, np.float32), "exp_avg_sq": np.zeros(4, np.float32)}
    state: dict[str, Any] = {"state": {1: entry}, "param_groups": [{"params": [0, 1, 2], "lr": 0.1,
                                                                   "betas": (0.9, 0.999)}]}
    for key, value in changes.items():
        if key in ("state", "param_groups"):
            state[key] = value
        elif value is None:
            del entry[key]
        else:
            entry[key] = value
    return state


MALFORMED_STATES: list[tuple[str, Any, type[Exception], str]] = [
    ("not a dict", [1, 2], ValueError, "expected a dict with 'state' and 'param_groups', got list"),
    ("no state", {"param_groups": []}, KeyError, "no 'state' entry"),
    ("no groups", {"state": {}}, KeyError, "no 'param_groups' entry"),
    ("groups not a list", adam_state(param_groups={"params": [0]}), ValueError, "'param_groups' must be a list"),
    ("state not a dict", adam_state(state=[1]), ValueError, "'state' must be a dict"),
    ("params not indices", adam_state(param_groups=[{"params": ["a", "b", "c"]}]), ValueError,
     "group 0 must list its parameters as integer indices"),
    ("params missing", adam_state(param_groups=[{"lr": 0.1}]), ValueError, "integer indices under 'params'"),
    ("index twice", adam_state(param_groups=[{"params": [0, 0, 1]}]), ValueError, "index 0 is listed twice"),
    ("unknown index", adam_state(state={7: {}}), ValueError, "parameter 7, which no group lists"),
    ("bad lr", adam_state(param_groups=[{"params": [0, 1, 2], "lr": "fast"}]), ValueError,
     r"Adam \(loading parameter group 0\): lr must be a real number >= 0, got 'fast'"),
    ("bad betas", adam_state(param_groups=[{"params": [0, 1, 2], "betas": (0.9,)}]), ValueError,
     r"betas must be a pair of real numbers, each in \[0, 1\), got \(0.9,\)"),
    ("entry not a dict", adam_state(state={1: 5}), ValueError, "the state of parameter 1 must be a dict, got int"),
    ("missing buffer", adam_state(exp_avg_sq=None), KeyError,
     r"parameter 1 should hold \['exp_avg', 'exp_avg_sq', 'step'\]: missing \['exp_avg_sq'\]"),
    ("extra buffer", adam_state(momentum_buffer=np.zeros(4)), KeyError, r"unexpected \['momentum_buffer'\]"),
    ("step not a count", adam_state(step="three"), ValueError,
     "state 'step' of parameter 1 must be a whole number >= 0, got 'three'"),
    ("fractional step", adam_state(step=1.5), ValueError,
     "state 'step' of parameter 1 must be a whole number >= 0, got 1.5"),
    ("buffer not an array", adam_state(exp_avg="zeros"), ValueError,
     r"state 'exp_avg' of parameter 1 must be a numeric array, got str"),
    ("buffer wrong shape", adam_state(exp_avg=np.zeros((2, 2))), ValueError,
     r"state 'exp_avg' of parameter 1 has shape \(2, 2\), but the parameter has shape \(4,\)"),
]


@pytest.mark.parametrize("state, error, message", [case[1:] for case in MALFORMED_STATES],
                         ids=[case[0] for case in MALFORMED_STATES])
def test_malformed_state_dict_is_refused_by_message(state: Any, error: type[Exception], message: str) -> None:
    params = edugrad_params()
    opt = optim.Adam(params, lr=0.5)
    for i, p in enumerate(params):
        p.grad = Tensor(gradient(i, p.numpy()))
    opt.step()
    before = opt.state_dict()
    with pytest.raises(error, match=message):
        opt.load_state_dict(state)
    after = opt.state_dict()  # a refused state changes nothing
    assert after["param_groups"] == before["param_groups"]
    for i in before["state"]:
        for name, value in before["state"][i].items():
            np.testing.assert_array_equal(after["state"][i][name], value)


def test_well_formed_state_loads() -> None:
    """The reference for the malformed cases: the same dict, unchanged, loads; a 0-d step array and
    string indices (as JSON would give) are accepted."""
    opt = optim.Adam(edugrad_params())
    opt.load_state_dict(adam_state(step=np.array(3.0)))
    assert opt.param_groups[0]["lr"] == 0.1 and opt.state_dict()["state"][1]["step"] == 3
    opt.load_state_dict({"state": {"1": adam_state()["state"][1]}, "param_groups": [{"params": ["0", "1", "2"]}]})
    assert list(opt.state_dict()["state"]) == [1]


def test_end_to_end_training_matches_torch() -> None:
    """A real model, loss and backward in each framework, Adam for 10 steps."""
    model = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3))
    reference = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))
    reference.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})
    x, y = RNG.standard_normal((32, 6)).astype(np.float32), RNG.integers(0, 3, 32)
    opt, reference_opt = optim.Adam(model.parameters(), lr=0.01), torch.optim.Adam(reference.parameters(), lr=0.01)
    for _ in range(10):
        opt.zero_grad()
        reference_opt.zero_grad()
        loss = nn.CrossEntropyLoss()(model(Tensor(x)), Tensor(y))
        reference_loss = torch.nn.CrossEntropyLoss()(reference(torch.tensor(x)), torch.tensor(y))
        loss.backward()
        reference_loss.backward()
        opt.step()
        reference_opt.step()
        np.testing.assert_allclose(loss.item(), reference_loss.item(), rtol=1e-5)
    for name, value in reference.state_dict().items():
        np.testing.assert_allclose(model.state_dict()[name], value.numpy(), rtol=1e-4, atol=1e-5)


def test_zero_grad_and_closure() -> None:
    params = edugrad_params()
    opt = optim.SGD(params, lr=0.1)
    for p in params:
        p.grad = edugrad.ones(*p.shape)
    opt.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in params)
    opt.zero_grad()
    assert all(p.grad is None for p in params)

    def closure() -> Tensor:
        opt.zero_grad()
        loss = (params[0] * params[0]).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    np.testing.assert_allclose(loss.item(), (INIT[0] ** 2).sum(), rtol=1e-6)
    np.testing.assert_allclose(params[0].numpy(), INIT[0] * 0.8, rtol=1e-6)


def test_optimizer_errors() -> None:
    p = edugrad.ones(2, requires_grad=True)
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(p)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([])
    with pytest.raises(TypeError, match="ndarray, not a Tensor"):
        optim.SGD([np.ones(2)])  # type: ignore[arg-type, list-item]
    with pytest.raises(ValueError, match="twice"):
        optim.Adam([p, p])
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.Adam([{"params": [p]}, {"params": [p], "lr": 0.1}])  # type: ignore[arg-type]
    with pytest.raises(KeyError, match="group 0 has no 'params' entry"):
        optim.Adam([{"lr": 0.1}])
    with pytest.raises(ValueError, match="not a leaf"):
        optim.SGD([p * 2])
    with pytest.raises(ValueError, match="nesterov=True needs momentum > 0 and dampening = 0, got momentum=0.0"):
        optim.SGD([p], lr=0.1, nesterov=True)
    assert "Parameter Group 0" in repr(optim.SGD([p], lr=0.1)) and "lr: 0.1" in repr(optim.SGD([p], lr=0.1))


BAD_HYPERPARAMETERS: list[tuple[str, dict[str, Any], str]] = [
    ("SGD", dict(lr="0.1"), "SGD: lr must be a real number >= 0, got '0.1'"),
    ("SGD", dict(lr=-1), "SGD: lr must be a real number >= 0, got -1"),
    ("SGD", dict(lr=float("nan")), "SGD: lr must be a real number >= 0, got nan"),
    ("SGD", dict(momentum=-0.5), "SGD: momentum must be a real number >= 0, got -0.5"),
    ("SGD", dict(dampening=2), r"SGD: dampening must be a real number in \[0, 1\], got 2"),
    ("SGD", dict(weight_decay=None), "SGD: weight_decay must be a real number >= 0, got None"),
    ("SGD", dict(nesterov="yes"), "SGD: nesterov must be True or False, got 'yes'"),
    ("Adam", dict(betas=(0.9,)), r"Adam: betas must be a pair of real numbers, each in \[0, 1\), got \(0.9,\)"),
    ("Adam", dict(betas=(1.0, 0.9)), r"Adam: betas must be a pair .* got \(1.0, 0.9\)"),
    ("Adam", dict(betas=0.9), r"Adam: betas must be a pair .* got 0.9"),
    ("Adam", dict(eps=-1e-8), "Adam: eps must be a real number >= 0, got -1e-08"),
    ("AdamW", dict(weight_decay=-0.01), "AdamW: weight_decay must be a real number >= 0, got -0.01"),
    ("AdamW", dict(amsgrad=1), "AdamW: amsgrad must be True or False, got 1"),
    ("RMSprop", dict(alpha=-0.1), "RMSprop: alpha must be a real number >= 0, got -0.1"),
    ("RMSprop", dict(momentum=-0.1), "RMSprop: momentum must be a real number >= 0, got -0.1"),
    ("RMSprop", dict(maximize=None), "RMSprop: maximize must be True or False, got None"),
    ("Adadelta", dict(rho=1.5), r"Adadelta: rho must be a real number in \[0, 1\], got 1.5"),
    ("Adadelta", dict(lr=[1.0]), r"Adadelta: lr must be a real number >= 0, got \[1.0\]"),
]


@pytest.mark.parametrize("name, options, message", BAD_HYPERPARAMETERS,
                         ids=[f"{n}-{next(iter(o))}-{next(iter(o.values()))!r}" for n, o, _ in BAD_HYPERPARAMETERS])
def test_bad_hyperparameters_are_refused_by_message(name: str, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        getattr(optim, name)([edugrad.ones(2, requires_grad=True)], **options)


def test_bad_hyperparameters_in_a_group_are_refused() -> None:
    """A group's own settings pass the same checks as the defaults, at construction or added later."""
    p, q = edugrad.ones(2, requires_grad=True), edugrad.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match=r"Adam \(parameter group 1\): lr must be a real number >= 0, got -0.1"):
        optim.Adam([{"params": [p]}, {"params": [q], "lr": -0.1}])  # type: ignore[arg-type]
    opt = optim.SGD([p], lr=0.1)
    with pytest.raises(ValueError, match=r"SGD \(parameter group 1\): momentum must be .* got 'high'"):
        opt.add_param_group({"params": [q], "momentum": "high"})
    assert len(opt.param_groups) == 1


# ---------------------------------------------------------------- schedulers

SCHEDULES: list[tuple[str, Callable[[Any, Any], Any]]] = [
    ("step", lambda lib, opt: lib.StepLR(opt, step_size=3, gamma=0.5)),
    ("multistep", lambda lib, opt: lib.MultiStepLR(opt, milestones=[2, 5, 11], gamma=0.3)),
    ("exponential", lambda lib, opt: lib.ExponentialLR(opt, gamma=0.9)),
    ("cosine", lambda lib, opt: lib.CosineAnnealingLR(opt, T_max=7, eta_min=0.01)),
    ("linear_warmup", lambda lib, opt: lib.LinearLR(opt, start_factor=0.1, total_iters=4)),
    ("linear_decay", lambda lib, opt: lib.LinearLR(opt, start_factor=1.0, end_factor=0.2, total_iters=10)),
    ("linear_default", lambda lib, opt: lib.LinearLR(opt)),
    ("lambda", lambda lib, opt: lib.LambdaLR(opt, lambda epoch: 1 / (1 + epoch))),
    ("lambda_per_group", lambda lib, opt: lib.LambdaLR(opt, [lambda e: 0.9 ** e, lambda e: 1 + e])),
    ("warmup_then_cosine", lambda lib, opt: lib.SequentialLR(
        opt, [lib.LinearLR(opt, start_factor=0.2, total_iters=5), lib.CosineAnnealingLR(opt, T_max=10)],
        milestones=[5])),
    ("three_phases", lambda lib, opt: lib.SequentialLR(
        opt, [lib.LinearLR(opt, start_factor=0.5, total_iters=3), lib.ExponentialLR(opt, gamma=0.8),
              lib.StepLR(opt, step_size=2)], milestones=[3, 9])),
]


@pytest.mark.parametrize("make", [s[1] for s in SCHEDULES], ids=[s[0] for s in SCHEDULES])
def test_scheduler_matches_torch(make: Callable[[Any, Any], Any]) -> None:
    ours_opt = optim.SGD([{"params": [edugrad.ones(1, requires_grad=True)]},  # type: ignore[arg-type]
                          {"params": [edugrad.ones(1, requires_grad=True)], "lr": 0.5}], lr=0.1)
    theirs_opt = torch.optim.SGD([{"params": [torch.ones(1, requires_grad=True)]},  # type: ignore[arg-type]
                                  {"params": [torch.ones(1, requires_grad=True)], "lr": 0.5}], lr=0.1)
    ours, theirs = make(lr_scheduler, ours_opt), make(torch.optim.lr_scheduler, theirs_opt)
    for epoch in range(20):
        np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-6, err_msg=f"epoch {epoch}")
        np.testing.assert_allclose([g["lr"] for g in ours_opt.param_groups],
                                   [g["lr"] for g in theirs_opt.param_groups], rtol=1e-6)
        ours_opt.step()
        theirs_opt.step()
        ours.step()
        theirs.step()


def test_scheduler_state_dict_resumes() -> None:
    def build() -> tuple[optim.SGD, Any]:
        opt = optim.SGD([edugrad.ones(1, requires_grad=True)], lr=0.1)
        warmup, cosine = lr_scheduler.LinearLR(opt, 0.1, total_iters=3), lr_scheduler.CosineAnnealingLR(opt, 8)
        return opt, lr_scheduler.SequentialLR(opt, [warmup, cosine], milestones=[3])

    opt, schedule = build()
    for _ in range(6):
        schedule.step()
    saved_opt, saved = opt.state_dict(), schedule.state_dict()
    expected = []
    for _ in range(6):
        schedule.step()
        expected.append(schedule.get_last_lr())
    opt, schedule = build()
    opt.load_state_dict(saved_opt)
    schedule.load_state_dict(saved)
    resumed = []
    for _ in range(6):
        schedule.step()
        resumed.append(schedule.get_last_lr())
    assert resumed == expected


def test_scheduler_errors() -> None:
    opt = optim.SGD([edugrad.ones(1, requires_grad=True)], lr=0.1)
    with pytest.raises(TypeError, match="Optimizer"):
        lr_scheduler.StepLR("not an optimizer", 3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="start_factor"):
        lr_scheduler.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match="milestones"):
        lr_scheduler.SequentialLR(opt, [lr_scheduler.StepLR(opt, 2), lr_scheduler.StepLR(opt, 3)], milestones=[])
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(optim.SGD([edugrad.ones(1, requires_grad=True)]), 2, last_epoch=4)


BAD_SCHEDULES: list[tuple[Callable[[Any], Any], str]] = [
    (lambda opt: lr_scheduler.StepLR(opt, step_size=0), "StepLR: step_size must be an integer >= 1, got 0"),
    (lambda opt: lr_scheduler.StepLR(opt, step_size=2.5), "StepLR: step_size must be an integer >= 1, got 2.5"),  # type: ignore[arg-type]
    (lambda opt: lr_scheduler.StepLR(opt, 2, gamma="half"), "StepLR: gamma must be a real number >= 0, got 'half'"),  # type: ignore[arg-type]
    (lambda opt: lr_scheduler.MultiStepLR(opt, [2, -1]), "MultiStepLR: each milestone must be an integer >= 0, got -1"),
    (lambda opt: lr_scheduler.ExponentialLR(opt, gamma=-0.5), "ExponentialLR: gamma must be a real number >= 0"),
    (lambda opt: lr_scheduler.LinearLR(opt, start_factor="a"),  # type: ignore[arg-type]
     r"LinearLR: start_factor must be a real number in \[0, 1\]"),
    (lambda opt: lr_scheduler.LinearLR(opt, total_iters=-1), "LinearLR: total_iters must be an integer >= 0, got -1"),
    (lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=0), "CosineAnnealingLR: T_max must be an integer >= 1"),
    (lambda opt: lr_scheduler.ExponentialLR(opt, 0.9, last_epoch=-2), "last_epoch must be an integer >= -1, got -2"),
]


@pytest.mark.parametrize("make, message", BAD_SCHEDULES, ids=[m.split(":")[0] + str(i) for i, (_, m) in
                                                               enumerate(BAD_SCHEDULES)])
def test_bad_schedule_arguments_are_refused_by_message(make: Callable[[Any], Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make(optim.SGD([edugrad.ones(1, requires_grad=True)], lr=0.1))
    schedule = lr_scheduler.StepLR(optim.SGD([edugrad.ones(1, requires_grad=True)], lr=0.1), 2)
    with pytest.raises(ValueError, match="StepLR.load_state_dict: expected a dict, got list"):
        schedule.load_state_dict([1, 2])  # type: ignore[arg-type]
