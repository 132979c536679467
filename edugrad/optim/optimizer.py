"""`Optimizer`: the base class that holds parameter groups and per-parameter state.

Subclasses write only `step()`: the update rule, with Tensor operations on detached values, run
under no_grad. Each update replaces a parameter's data in place (`p.copy_(...)`), so the model
and the optimizer keep holding the same tensor objects.

Parameters come as an iterable of tensors, or as a list of dicts ("parameter groups"), each with
its own "params" and any settings that differ from the defaults, as in PyTorch:

    SGD([{"params": model.body.parameters()}, {"params": model.head.parameters(), "lr": 1e-3}], lr=1e-2)
"""

from __future__ import annotations

import copy
from typing import Any, Callable, Iterable

import numpy as np

from edugrad.creation import zeros_like
from edugrad.autograd import enable_grad
from edugrad.tensor import Tensor

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]]


class Optimizer:
    """Base class of SGD, Adam, AdamW and RMSprop.

    `param_groups` is a list of dicts, each holding "params" (a list of tensors) and the settings
    used for them; `state` maps each parameter to its buffers (momentum, moving averages, step)."""

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        expected = f"{type(self).__name__}: params must be an iterable of Tensors or of dicts (parameter groups)"
        if isinstance(params, Tensor):
            raise TypeError(f"{expected}, got a single Tensor: wrap it in a list")
        if not hasattr(params, "__iter__"):  # most often a model: Adam(model) for Adam(model.parameters())
            hint = "; pass model.parameters()" if hasattr(params, "parameters") else ""
            raise TypeError(f"{expected}, got a {type(params).__name__}{hint}")
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

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own settings (e.g. unfreezing layers while training)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"a parameter group must be a dict, got {type(param_group).__name__}")
        params = param_group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{type(self).__name__}: parameter {i} of group {len(self.param_groups)} is a "
                                f"{type(p).__name__}, not a Tensor")
            if not p.is_leaf:
                raise ValueError(f"{type(self).__name__}: parameter {i} of group {len(self.param_groups)} is "
                                 f"not a leaf (it was computed from other tensors); optimize a leaf tensor")
        first_at: dict[int, int] = {}
        for i, p in enumerate(params):
            if id(p) in first_at:
                raise ValueError(f"{type(self).__name__}: a parameter appears twice in group {len(self.param_groups)}: "
                                 f"parameter {i} (shape {p.shape}) is the same tensor as parameter {first_at[id(p)]}")
            first_at[id(p)] = i
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError(f"{type(self).__name__}: some parameters appear in more than one parameter group")
        group = {**self.defaults, **param_group, "params": params}
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients (backward accumulates into .grad), before the next backward."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.grad = None if set_to_none else zeros_like(p.grad)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; returns closure() if given (it recomputes the loss)."""
        raise NotImplementedError(f"{type(self).__name__}.step")

    @staticmethod
    def _evaluate(closure: Callable[[], Any] | None) -> Any:
        if closure is None:
            return None
        with enable_grad():
            return closure()

    # ------------------------------------------------------------ saving and resuming
    def state_dict(self) -> dict[str, Any]:
        """PyTorch's layout: {"state": {index: {name: value}}, "param_groups": [{settings, "params":
        [index, ...]}]}, parameters numbered in group order. Tensors in the state become numpy arrays."""
        index = {id(p): i for i, p in enumerate(p for group in self.param_groups for p in group["params"])}
        param_groups = []
        for group in self.param_groups:
            settings = {key: copy.deepcopy(value) for key, value in group.items() if key != "params"}
            param_groups.append({**settings, "params": [index[id(p)] for p in group["params"]]})
        state = {}
        for p, values in sorted(self.state.items(), key=lambda item: index[id(item[0])]):
            state[index[id(p)]] = {key: np.array(value.numpy(), copy=True) if isinstance(value, Tensor) else value
                                   for key, value in values.items()}
        return {"state": state, "param_groups": param_groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Resume from `state_dict()` of an optimizer over the same parameters (in the same order).
        Arrays become tensors of their parameter's dtype; the group settings are restored too."""
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"load_state_dict: the state has {len(saved_groups)} parameter groups, "
                             f"this optimizer {len(self.param_groups)}")
        by_index: dict[int, Tensor] = {}
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(f"load_state_dict: parameter group {i} has {len(saved['params'])} parameters "
                                 f"in the state but {len(group['params'])} in this optimizer")
            by_index.update(zip((int(k) for k in saved["params"]), group["params"]))
        state: dict[Tensor, dict[str, Any]] = {}
        for key, values in state_dict["state"].items():
            if int(key) not in by_index:
                raise ValueError(f"load_state_dict: the state has values for parameter {key}, which no group lists")
            p = by_index[int(key)]
            state[p] = {name: self._restore(name, value, p, int(key)) for name, value in values.items()}
        self.state = state
        for group, saved in zip(self.param_groups, saved_groups):
            group.update({key: copy.deepcopy(value) for key, value in saved.items() if key != "params"})

    @staticmethod
    def _restore(name: str, value: Any, p: Tensor, index: int) -> Any:
        if name == "step":  # a step count; PyTorch saves it as a 0-d tensor
            return int(np.asarray(value).item()) if not isinstance(value, Tensor) else int(value.item())
        if isinstance(value, (np.ndarray, Tensor)):
            array = value.numpy() if isinstance(value, Tensor) else value
            if array.shape != p.shape:
                raise ValueError(f"load_state_dict: state '{name}' of parameter {index} has shape {array.shape}, "
                                 f"but the parameter has shape {p.shape}")
            return Tensor(array, dtype=p.dtype if array.dtype.kind == "f" else None)
        return copy.deepcopy(value)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {key}: {group[key]}" for key in sorted(group) if key != "params")
        return "\n".join(lines + [")"])
