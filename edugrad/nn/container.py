"""Containers: modules that hold other modules, named "0", "1", ... as in PyTorch."""

from __future__ import annotations

from typing import Iterable, Iterator, Mapping, overload

from edugrad.nn.module import Module
from edugrad.tensor import Tensor


class Sequential(Module):
    """Apply the modules in order: Sequential(Linear(4, 8), ReLU(), Linear(8, 2)).
    A dict of named modules keeps its names (they become the state_dict prefixes)."""

    def __init__(self, *modules: Module | Mapping[str, Module]) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for index, layer in enumerate(modules):
                self.add_module(str(index), layer)  # type: ignore[arg-type]

    def add_module(self, name: str, module: Module | None) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}: {module!r} is a {type(module).__name__}, not a Module")
        super().add_module(name, module)

    def forward(self, input: Tensor) -> Tensor:
        for module in self._modules.values():
            input = module(input)  # type: ignore[misc]
        return input

    @overload
    def __getitem__(self, index: int) -> Module: ...

    @overload
    def __getitem__(self, index: slice) -> Sequential: ...

    def __getitem__(self, index: int | slice) -> Module | Sequential:
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(dict(items[index]))  # type: ignore[arg-type]
        return items[_checked_index(index, len(items), type(self).__name__)][1]  # type: ignore[return-value]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())  # type: ignore[arg-type]

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self)), module)
        return self


class ModuleList(Module):
    """A list of modules whose parameters the parent module can see (a plain list would hide them)."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def add_module(self, name: str, module: Module | None) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}: {module!r} is a {type(module).__name__}, not a Module")
        super().add_module(name, module)

    @overload
    def __getitem__(self, index: int) -> Module: ...

    @overload
    def __getitem__(self, index: slice) -> ModuleList: ...

    def __getitem__(self, index: int | slice) -> Module | ModuleList:
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return ModuleList(modules[index])  # type: ignore[arg-type]
        return modules[_checked_index(index, len(modules), type(self).__name__)]  # type: ignore[return-value]

    def __setitem__(self, index: int, module: Module) -> None:
        self.add_module(str(_checked_index(index, len(self), type(self).__name__) % len(self)), module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())  # type: ignore[arg-type]

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Insert before index; the later modules are renumbered."""
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._modules.clear()
        self.extend(modules)  # type: ignore[arg-type]


def _checked_index(index: int, length: int, container: str) -> int:
    if not -length <= index < length:
        raise IndexError(f"{container}: index {index} is out of range for {length} modules")
    return index
