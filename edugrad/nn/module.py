"""`Module`, the base of every layer and model, and `Parameter`, the tensors a model learns.

A Module finds its parts by watching attribute assignment: `self.fc = Linear(4, 2)` registers a
submodule and `self.weight = Parameter(...)` a parameter, so `parameters()` and `state_dict()`
can walk the tree without being told what is inside. The walks use an explicit stack, never
recursion, so a model nested a thousand levels deep is still fine.

`state_dict()` names entries as PyTorch does (`0.weight`, `conv1.bias`, `bn.running_mean`), which
lets weights move between edugrad and PyTorch as plain numpy arrays.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, Mapping, NamedTuple

import numpy as np

from edugrad.autograd import no_grad
from edugrad.creation import zeros_like
from edugrad.dtypes import to_dtype
from edugrad.ops import DType
from edugrad.tensor import Tensor


class Parameter(Tensor):
    """A tensor that is one of a module's weights: assigning it to a Module attribute registers it.

    It requires a gradient by default. The results of ops on a parameter are plain Tensors (as in
    PyTorch), so `self.cache = self.weight * 2` does not register a second parameter.
    """

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True):
        super().__init__(data.detach() if isinstance(data, Tensor) else data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class IncompatibleKeys(NamedTuple):
    """What `load_state_dict(strict=False)` skipped: keys the model has but the state lacks, and
    keys the state has but the model does not."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class for layers and models: subclass it, assign parts in `__init__`, write `forward`.

        class MLP(Module):
            def __init__(self):
                super().__init__()
                self.fc1, self.fc2 = Linear(784, 128), Linear(128, 10)

            def forward(self, x):
                return self.fc2(self.fc1(x).relu())
    """

    training: bool
    # Registries, in assignment order. None marks a declared but absent part: register_parameter("bias", None).
    _parameters: dict[str, Parameter | None]
    _buffers: dict[str, Tensor | None]
    _modules: dict[str, Module | None]
    _non_persistent_buffers: set[str]

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_non_persistent_buffers", set())

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no forward(): define it in the subclass")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------ registration by assignment
    def __setattr__(self, name: str, value: Any) -> None:
        # Before Module.__init__ has run there are no registries: only plain attributes can be set.
        params, buffers, modules = (self.__dict__.get(registry) for registry in ("_parameters", "_buffers", "_modules"))
        if isinstance(value, (Parameter, Module)):
            if params is None or modules is None:
                raise AttributeError(f"cannot assign {type(value).__name__} '{name}' before Module.__init__() "
                                     f"is called: call super().__init__() first in {type(self).__name__}.__init__")
            registry = params if isinstance(value, Parameter) else modules
            self._forget(name, keep=registry)
            registry[name] = value
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as parameter '{name}' of "
                                f"{type(self).__name__}: expected a Parameter or None")
            params[name] = None
        elif modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as submodule '{name}' of "
                                f"{type(self).__name__}: expected a Module or None")
            modules[name] = None
        elif buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign {type(value).__name__} as buffer '{name}' of "
                                f"{type(self).__name__}: expected a Tensor or None")
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        # Called only when normal lookup fails: registered parts live in the registries, not __dict__.
        for registry in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__.get(registry)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        if name in self._parameters or name in self._buffers or name in self._modules:
            self._forget(name)
        else:
            object.__delattr__(self, name)

    def _forget(self, name: str, keep: dict[str, Any] | None = None) -> None:
        """Remove `name` from the plain attributes and the registries, before registering it again;
        in `keep`, the registry it goes back into, it keeps its place (so replacing model[1] keeps order)."""
        self.__dict__.pop(name, None)
        for registry in (self._parameters, self._buffers, self._modules):
            if registry is not keep:
                registry.pop(name, None)
        self._non_persistent_buffers.discard(name)

    def _check_new_name(self, name: Any, kind: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{kind} name must be a string, got {type(name).__name__}")
        if not name or "." in name:
            raise KeyError(f"{kind} name must be non-empty and contain no '.', got {name!r}")
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot register {kind} '{name}' before Module.__init__() is called")
        if hasattr(self, name) and name not in self._parameters and name not in self._buffers \
                and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists on {type(self).__name__}")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        self._check_new_name(name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: '{name}' must be a Parameter or None, "
                            f"got {type(param).__name__}")
        self._forget(name, keep=self._parameters)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """A tensor that is part of the module's state but not learned (BatchNorm's running_mean).
        Persistent buffers are saved in the state_dict."""
        self._check_new_name(name, "buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: '{name}' must be a Tensor or None, got {type(tensor).__name__}")
        self._forget(name, keep=self._buffers)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        self._check_new_name(name, "module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: '{name}' must be a Module or None, got {type(module).__name__}")
        self._forget(name, keep=self._modules)
        self._modules[name] = module

    register_module = add_module

    # ------------------------------------------------------------ walking the tree
    def named_modules(self, prefix: str = "", remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """This module and every module inside it, parents before children, with dotted names."""
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if remove_duplicate:
                if id(module) in seen:
                    continue
                seen.add(id(module))
            yield name, module
            children = [(f"{name}.{child_name}" if name else child_name, child)
                        for child_name, child in module._modules.items() if child is not None]
            stack.extend(reversed(children))  # so the first child is visited first

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen: set[int] = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def _named_tensors(self, registry: str, prefix: str, recurse: bool,
                       remove_duplicate: bool) -> Iterator[tuple[str, Any]]:
        seen: set[int] = set()
        modules = self.named_modules(prefix, remove_duplicate) if recurse else iter([(prefix, self)])
        for module_name, module in modules:
            for name, tensor in getattr(module, registry).items():
                if tensor is None or (remove_duplicate and id(tensor) in seen):
                    continue
                seen.add(id(tensor))
                yield (f"{module_name}.{name}" if module_name else name), tensor

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """Every parameter with its dotted name; a parameter shared by two layers appears once."""
        return self._named_tensors("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_tensors("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def get_submodule(self, target: str) -> Module:
        """The module at a dotted path such as 'features.0'."""
        module = self
        for part in target.split(".") if target else []:
            child = module._modules.get(part)
            if child is None:
                raise AttributeError(f"{type(module).__name__} has no submodule '{part}' (looking up '{target}')")
            module = child
        return module

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call fn on every submodule, children before their parents, then on self (for custom init)."""
        mirrored: list[Module] = []  # parents before children, last child first
        stack: list[Module] = [self]
        seen: set[int] = set()
        while stack:
            module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            mirrored.append(module)
            stack.extend(child for child in module._modules.values() if child is not None)
        for module in reversed(mirrored):
            fn(module)
        return self

    # ------------------------------------------------------------ modes and gradients
    def train(self, mode: bool = True) -> Module:
        """Switch this module and all inside it to training mode (dropout on, batch statistics in
        BatchNorm), or to evaluation mode with mode=False. Each module's `training` is the only
        record of the mode: layers pass it to the functions that care (F.dropout(..., training=))."""
        if not isinstance(mode, bool):
            raise ValueError(f"train: mode must be a bool, got {mode!r}")
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient (backward accumulates into .grad)."""
        for param in self.parameters():
            if param.grad is not None:
                param.grad = None if set_to_none else zeros_like(param.grad)

    # ------------------------------------------------------------ devices and dtypes
    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Move and/or cast every parameter and buffer, with what `Tensor.to` accepts (a device, a
        dtype, both, or a tensor); returns self. As in PyTorch, a dtype applies to floating-point
        tensors only (an integer buffer such as BatchNorm's step count keeps its type). The tensors
        keep their identity, only their data changes, so an optimizer made before `.to` still
        holds this model's parameters."""
        for module in self.modules():
            for registry in (module._parameters, module._buffers):
                for tensor in registry.values():
                    if tensor is None:
                        continue
                    if tensor.dtype.is_float:
                        moved = tensor.data.to(*args, **kwargs)
                    else:  # only the device part applies
                        moved = tensor.data.to(*[a for a in args if to_dtype(a, "to", strict=False) is None
                                                 and not isinstance(a, Tensor)], device=kwargs.get("device"))
                    if moved.storage is not tensor.storage:
                        tensor.data = moved
        return self

    def cpu(self) -> Module:
        return self.to("cpu")

    def cuda(self, device: Any = None) -> Module:
        return self.to(device or "cuda")

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    # ------------------------------------------------------------ saving and loading
    def _state_tensors(self) -> dict[str, Tensor]:
        """Parameters and persistent buffers under their state_dict names, in PyTorch's order: each
        module's own parameters, then its buffers, then its children's. Shared modules appear under
        every name they have, as in PyTorch."""
        out: dict[str, Tensor] = {}
        for module_name, module in self.named_modules(remove_duplicate=False):
            prefix = module_name + "." if module_name else ""
            for name, param in module._parameters.items():
                if param is not None:
                    out[prefix + name] = param
            for name, buffer in module._buffers.items():
                if buffer is not None and name not in module._non_persistent_buffers:
                    out[prefix + name] = buffer
        return out

    def state_dict(self) -> dict[str, np.ndarray]:
        """Every parameter and persistent buffer as a numpy array (a copy), under PyTorch's names.

        The arrays load into the same architecture in PyTorch with
        `torch_model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})`."""
        return {name: np.array(tensor.numpy(), copy=True) for name, tensor in self._state_tensors().items()}

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy values (numpy arrays, Tensors, or anything np.asarray accepts, such as a PyTorch
        state_dict's tensors) into this model's parameters and buffers, keeping the tensor objects
        (an optimizer holding them stays valid). Values are cast to the model's dtypes.

        With strict=True (the default) missing or unexpected keys are an error; shapes must always
        match. Raises RuntimeError listing every problem, before changing anything."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict: expected a dict of arrays, got {type(state_dict).__name__}")
        targets = self._state_tensors()
        missing = [key for key in targets if key not in state_dict]
        unexpected = [key for key in state_dict if key not in targets]
        problems = []
        if strict and unexpected:
            problems.append("Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ".")
        if strict and missing:
            problems.append("Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ".")
        arrays: dict[str, np.ndarray] = {}
        for key, target in targets.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            array = value.numpy() if isinstance(value, Tensor) else np.asarray(value)
            if array.dtype.kind not in "fiub":
                problems.append(f'value for "{key}" is not numeric (dtype {array.dtype}).')
            elif array.shape != target.shape:
                problems.append(f"size mismatch for {key}: copying a param with shape {array.shape} from "
                                f"checkpoint, the shape in current model is {target.shape}.")
            arrays[key] = array
        if problems:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(problems))
        for key, array in arrays.items():
            with no_grad():
                targets[key].copy_(Tensor(array, dtype=targets[key].dtype))
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        """The settings shown between the parentheses of repr, e.g. 'in_features=4, out_features=2'."""
        return ""

    def __repr__(self) -> str:
        """PyTorch's layout: one line per module, children indented under their parent."""
        lines: list[str] = []
        # Entries are modules to print, or closing lines (plain strings) to emit when reached.
        stack: list[tuple[str, Module, int] | str] = [("", self, 0)]
        while stack:
            entry = stack.pop()
            if isinstance(entry, str):
                lines.append(entry)
                continue
            label, module, depth = entry
            indent = "  " * depth
            extra = module.extra_repr()
            children = [(name, child) for name, child in module._modules.items() if child is not None]
            if not children and "\n" not in extra:
                lines.append(f"{indent}{label}{type(module).__name__}({extra})")
                continue
            lines.append(f"{indent}{label}{type(module).__name__}(")
            lines.extend(f"{indent}  {line}" for line in extra.split("\n") if extra)
            stack.append(f"{indent})")
            stack.extend((f"({name}): ", child, depth + 1) for name, child in reversed(children))
        return "\n".join(lines)

    # Shorthand casts. Last in the class: inside the class body their names hide the builtins.
    def float(self) -> Module:
        return self.to(DType.float32)

    def double(self) -> Module:
        return self.to(DType.float64)

    def half(self) -> Module:
        return self.to("float16")  # refused by to_dtype, naming the dtypes edugrad computes in
