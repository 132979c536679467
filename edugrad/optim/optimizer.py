"""`Optimizer`: the base class that holds parameter groups and per-parameter state, and runs the step loop.

An optimizer is its update rule. The base class walks every group and every parameter that has
a gradient, and asks the subclass for two things only:

    init_state(param, group)               the buffers a parameter starts with (moving averages, step)
    update(param, grad, state, group)      change `param` and the buffers in `state` in place

`update` works on a detached view of the parameter under no_grad, with PyTorch's in-place ops
(`param.add_(d, alpha=-lr)`), so the model and the optimizer keep holding the same tensor objects
and each rule reads as PyTorch writes it. The base also negates the gradient for `maximize=True`
and checks the hyper-parameters of every group, one helper per kind of check, so
`SGD(params, lr="0.1")` is refused wherever it comes from.

Parameters come as an iterable of tensors, or as a list of dicts ("parameter groups"), each with
its own "params" and any settings that differ from the defaults, as in PyTorch:

    SGD([{"params": model.body.parameters()}, {"params": model.head.parameters(), "lr": 1e-3}], lr=1e-2)
"""

from __future__ import annotations

import copy
import math
import numbers
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from edugrad.autograd import enable_grad, no_grad
from edugrad.creation import zeros_like
from edugrad.tensor import Tensor

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]]


# ------------------------------------------------------------ hyper-parameter checks, one per kind
def _is_real(value: Any) -> bool:
    """A real number that is not a bool and not NaN (NaN passes every comparison test silently)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and not math.isnan(value)


def check_non_negative(owner: str, name: str, value: Any) -> None:
    """lr, eps, weight_decay, momentum, alpha: a real number >= 0."""
    if not _is_real(value) or value < 0:
        raise ValueError(f"{owner}: {name} must be a real number >= 0, got {value!r}")


def check_unit_interval(owner: str, name: str, value: Any) -> None:
    """rho, dampening: a real number in [0, 1]."""
    if not _is_real(value) or not 0 <= value <= 1:
        raise ValueError(f"{owner}: {name} must be a real number in [0, 1], got {value!r}")


def check_betas(owner: str, name: str, value: Any) -> None:
    """Adam's betas: a pair of numbers, each in [0, 1) (beta = 1 would never forget, and divide by 0)."""
    if not (isinstance(value, (tuple, list)) and len(value) == 2 and all(_is_real(b) and 0 <= b < 1 for b in value)):
        raise ValueError(f"{owner}: {name} must be a pair of real numbers, each in [0, 1), got {value!r}")


def check_flag(owner: str, name: str, value: Any) -> None:
    """maximize, nesterov, amsgrad, centered, ...: True or False."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{owner}: {name} must be True or False, got {value!r}")


HYPERPARAMETER_CHECKS: dict[str, Callable[[str, str, Any], None]] = {
    "lr": check_non_negative, "eps": check_non_negative, "weight_decay": check_non_negative,
    "momentum": check_non_negative, "alpha": check_non_negative,
    "rho": check_unit_interval, "dampening": check_unit_interval, "betas": check_betas,
    "maximize": check_flag, "nesterov": check_flag, "amsgrad": check_flag, "centered": check_flag,
    "decoupled_weight_decay": check_flag,
}


class Optimizer:
    """Base class of SGD, Adam, AdamW, RMSprop and Adadelta.

    `param_groups` is a list of dicts, each holding "params" (a list of tensors) and the settings
    used for them; `state` maps each parameter to its buffers (momentum, moving averages, step)."""

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        expected = f"{type(self).__name__}: params must be an iterable of Tensors or of dicts (parameter groups)"
        if isinstance(params, Tensor):
            raise TypeError(f"{expected}, got a single Tensor: wrap it in a list")
        if not hasattr(params, "__iter__"):  # most often a model: Adam(model) for Adam(model.parameters())
            hint = "; pass model.parameters()" if hasattr(params, "parameters") else ""
            raise TypeError(f"{expected}, got a {type(params).__name__}{hint}")
        self._check_settings(defaults, "")
        self.defaults = defaults
        self.state: dict[Tensor, dict[str, Any]] = {}  # tensors hash by identity
        self.param_groups: list[dict[str, Any]] = []
        groups: list[Any] = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def _check_settings(self, settings: Mapping[str, Any], where: str) -> None:
        for name, value in settings.items():
            if name in HYPERPARAMETER_CHECKS:
                HYPERPARAMETER_CHECKS[name](type(self).__name__ + where, name, value)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own settings (e.g. unfreezing layers while training)."""
        name, number = type(self).__name__, len(self.param_groups)
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: a parameter group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise KeyError(f"{name}: parameter group {number} has no 'params' entry")
        self._check_settings(param_group, f" (parameter group {number})")
        params = param_group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: parameter {i} of group {number} is a {type(p).__name__}, not a Tensor")
            if not p.is_leaf:
                raise ValueError(f"{name}: parameter {i} of group {number} is not a leaf (it was computed "
                                 f"from other tensors); optimize a leaf tensor")
        first_at: dict[int, int] = {}
        for i, p in enumerate(params):
            if id(p) in first_at:
                raise ValueError(f"{name}: a parameter appears twice in group {number}: parameter {i} "
                                 f"(shape {p.shape}) is the same tensor as parameter {first_at[id(p)]}")
            first_at[id(p)] = i
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        self.param_groups.append({**self.defaults, **param_group, "params": params})

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients (backward accumulates into .grad), before the next backward."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.grad = None if set_to_none else zeros_like(p.grad)

    # ------------------------------------------------------------ the step: the loop here, the rule in subclasses
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; returns closure() if given (it recomputes the loss)."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    grad = -p.grad if group.get("maximize") else p.grad
                    if p not in self.state:
                        self.state[p] = self.init_state(p, group)
                    self.update(p.detach(), grad, self.state[p], group)
        return loss

    def init_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        """The state a parameter starts with, before its first update (its saved names, PyTorch's)."""
        return {}

    def update(self, param: Tensor, grad: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        """The update rule: change `param` in place given its gradient, and the buffers in `state`."""
        raise NotImplementedError(f"{type(self).__name__}.update")

    # ------------------------------------------------------------ saving and resuming
    def state_dict(self) -> dict[str, Any]:
        """PyTorch's layout: {"state": {index: {name: value}}, "param_groups": [{settings, "params":
        [index, ...]}]}, parameters numbered in group order. Tensors in the state become numpy arrays;
        parameters without state (SGD without momentum) are left out, as in PyTorch."""
        index = {id(p): i for i, p in enumerate(p for group in self.param_groups for p in group["params"])}
        param_groups = []
        for group in self.param_groups:
            settings = {key: copy.deepcopy(value) for key, value in group.items() if key != "params"}
            param_groups.append({**settings, "params": [index[id(p)] for p in group["params"]]})
        state = {}
        for p, values in sorted(self.state.items(), key=lambda item: index[id(item[0])]):
            if values:
                state[index[id(p)]] = {key: np.array(value.numpy(), copy=True) if isinstance(value, Tensor) else value
                                       for key, value in values.items()}
        return {"state": state, "param_groups": param_groups}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Resume from `state_dict()` of an optimizer over the same parameters (in the same order), or
        from a PyTorch optimizer's state_dict with its tensors as numpy arrays. Arrays become tensors of
        their parameter's dtype; the group settings are restored too. A malformed state is refused
        (ValueError or KeyError naming what is wrong) before anything changes."""
        where = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, Mapping):
            raise ValueError(f"{where}: expected a dict with 'state' and 'param_groups', "
                             f"got {type(state_dict).__name__}")
        for key in ("state", "param_groups"):
            if key not in state_dict:
                raise KeyError(f"{where}: the state dict has no '{key}' entry (it has {sorted(map(str, state_dict))})")
        saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(saved_groups, (list, tuple)) or not all(isinstance(g, Mapping) for g in saved_groups):
            raise ValueError(f"{where}: 'param_groups' must be a list of dicts, got {saved_groups!r:.80}")
        if not isinstance(saved_state, Mapping):
            raise ValueError(f"{where}: 'state' must be a dict from parameter index to its values, "
                             f"got {type(saved_state).__name__}")
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{where}: the state has {len(saved_groups)} parameter groups, "
                             f"this optimizer {len(self.param_groups)}")

        groups: list[dict[str, Any]] = []  # the groups as they will be after loading
        by_index: dict[int, tuple[Tensor, dict[str, Any]]] = {}
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            indices = saved.get("params")
            if not isinstance(indices, (list, tuple)) or not all(_is_index(k) for k in indices):
                raise ValueError(f"{where}: parameter group {i} must list its parameters as integer indices "
                                 f"under 'params', got {indices!r:.80}")
            if len(group["params"]) != len(indices):
                raise ValueError(f"{where}: parameter group {i} has {len(indices)} parameters in the state "
                                 f"but {len(group['params'])} in this optimizer")
            settings = {key: copy.deepcopy(value) for key, value in saved.items() if key != "params"}
            self._check_settings(settings, f" (loading parameter group {i})")
            groups.append({**group, **settings})
            for k, p in zip(indices, group["params"]):
                if int(k) in by_index:
                    raise ValueError(f"{where}: parameter index {k} is listed twice in 'param_groups'")
                by_index[int(k)] = (p, groups[-1])

        state: dict[Tensor, dict[str, Any]] = {}
        for key, values in saved_state.items():
            if not _is_index(key) or int(key) not in by_index:
                raise ValueError(f"{where}: the state has values for parameter {key!r}, which no group lists")
            p, group = by_index[int(key)]
            state[p] = self._restored_state(values, p, group, where, key)
        self.state = state
        for group, loaded in zip(self.param_groups, groups):
            group.update(loaded)

    def _restored_state(self, values: Any, p: Tensor, group: dict[str, Any], where: str, index: Any) -> dict[str, Any]:
        """One parameter's saved state, checked against the names init_state gives this group: "step"
        is a count, every other entry a buffer shaped like the parameter."""
        if not isinstance(values, Mapping):
            raise ValueError(f"{where}: the state of parameter {index} must be a dict, got {type(values).__name__}")
        with no_grad():
            expected = set(self.init_state(p, group))
        if set(values) != expected:
            missing, unexpected = sorted(expected - set(values)), sorted(set(values) - expected, key=str)
            raise KeyError(f"{where}: the state of parameter {index} should hold {sorted(expected)}: "
                           f"missing {missing}, unexpected {unexpected}")
        restored: dict[str, Any] = {}
        for name, value in values.items():
            array = value.numpy() if isinstance(value, Tensor) else np.asarray(value)
            if name == "step":  # a count; PyTorch saves it as a 0-d tensor
                if array.shape != () or array.dtype.kind not in "iuf" or array != int(array) or array < 0:
                    raise ValueError(f"{where}: state 'step' of parameter {index} must be a whole number >= 0, "
                                     f"got {value!r:.80}")
                restored[name] = int(array)
            elif array.dtype.kind not in "iuf":
                raise ValueError(f"{where}: state '{name}' of parameter {index} must be a numeric array, "
                                 f"got {type(value).__name__} of dtype {array.dtype}")
            elif array.shape != p.shape:
                raise ValueError(f"{where}: state '{name}' of parameter {index} has shape {array.shape}, "
                                 f"but the parameter has shape {p.shape}")
            else:
                restored[name] = Tensor(array, dtype=p.dtype)
        return restored

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {key}: {group[key]}" for key in sorted(group) if key != "params")
        return "\n".join(lines + [")"])


def _is_index(key: Any) -> bool:
    """A parameter index: an int, or a string of digits (JSON-like formats turn keys into strings)."""
    if isinstance(key, str):
        return key.isdigit()
    return isinstance(key, (int, np.integer)) and not isinstance(key, bool) and bool(key >= 0)
