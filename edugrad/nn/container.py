"""Containers: modules that hold other modules (or parameters) so that the parent sees them.

A plain Python list or dict of layers would hide their parameters from `parameters()` and
`state_dict()`; these register every entry, under its index ("0", "1", ...) or its key, so the
state_dict names are PyTorch's (`layers.0.weight`, `heads.query.weight`).

Two bases hold the bookkeeping, and each container is only what differs:
- `_ListContainer`: entries in order, indexed like a list (Sequential, ModuleList, ParameterList);
- `_DictContainer`: entries by key, in insertion order, used like a dict (ModuleDict, ParameterDict).
Both keep modules by default; `_HoldsParameters` makes them keep parameters instead. Where the
entries live (`_entries`: a registry) and how one is registered (`_store`, which checks its type)
is all that differs between the two kinds.
"""

from __future__ import annotations

import operator
from typing import Any, Iterable, Iterator, Mapping, TypeVar, overload

from edugrad.nn.module import Module, Parameter
from edugrad.tensor import Tensor

ListT = TypeVar("ListT", bound="_ListContainer")


class _Container(Module):
    """A container of modules: the entries are the submodules."""

    def _entries(self) -> dict[str, Any]:
        return self._modules

    def _store(self, name: str, value: Any) -> None:
        if not isinstance(value, Module):
            raise TypeError(f"{type(self).__name__}: entry {name!r} is {value!r:.60}, a {type(value).__name__}, "
                            f"not a Module")
        self.add_module(name, value)


class _ListContainer(_Container):
    """Entries named "0", "1", ... in order; deleting or inserting renumbers them, as in PyTorch."""

    def _from_entries(self: ListT, entries: list[tuple[str, Any]]) -> ListT:
        """A new container of the same kind holding `entries` (what slicing returns)."""
        return type(self)([value for _, value in entries])  # type: ignore[call-arg]

    def _index(self, index: Any) -> int:
        """index as a position in [0, len), from a Python int (or a numpy one) that may count from the end."""
        try:
            position = operator.index(index)
        except TypeError:
            raise TypeError(f"{type(self).__name__}: indices must be integers or slices, "
                            f"got {type(index).__name__}") from None
        if not -len(self) <= position < len(self):
            raise IndexError(f"{type(self).__name__}: index {index} is out of range for {len(self)} entries")
        return position % len(self)

    def _renumber(self, values: list[Any]) -> None:
        self._entries().clear()
        for value in values:
            self._store(str(len(self)), value)

    def __len__(self) -> int:
        return len(self._entries())

    def __iter__(self) -> Iterator[Any]:
        return iter(self._entries().values())

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self: ListT, index: slice) -> ListT: ...

    def __getitem__(self: ListT, index: int | slice) -> Any:
        entries = list(self._entries().items())
        if isinstance(index, slice):
            return self._from_entries(entries[index])
        return entries[self._index(index)][1]

    def __setitem__(self, index: int, value: Any) -> None:
        """Replace the entry at index, keeping its name and place."""
        self._store(list(self._entries())[self._index(index)], value)

    def __delitem__(self, index: int | slice) -> None:
        values = list(self._entries().values())
        del values[index if isinstance(index, slice) else self._index(index)]
        self._renumber(values)

    def append(self: ListT, value: Any) -> ListT:
        self._store(str(len(self)), value)
        return self

    def extend(self: ListT, values: Iterable[Any]) -> ListT:
        if isinstance(values, (Module, Tensor)) and not isinstance(values, _ListContainer):
            raise TypeError(f"{type(self).__name__}.extend: expected an iterable, got a {type(values).__name__}; "
                            f"use append to add one entry")
        for value in values:
            self.append(value)
        return self

    def insert(self: ListT, index: int, value: Any) -> ListT:
        """Insert before index (as list.insert); the later entries are renumbered."""
        values = list(self._entries().values())
        values.insert(operator.index(index), value)
        self._renumber(values)
        return self

    def pop(self, index: int = -1) -> Any:
        """Remove and return the entry at index; the later entries are renumbered."""
        value = self[index]
        del self[index]
        return value

    def __iadd__(self: ListT, values: Iterable[Any]) -> ListT:
        return self.extend(values)


class Sequential(_ListContainer):
    """Apply the modules in order: Sequential(Linear(4, 8), ReLU(), Linear(8, 2)).
    A dict of named modules keeps its names (they become the state_dict prefixes)."""

    def __init__(self, *modules: Module | Mapping[str, Module]) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            for name, module in modules[0].items():
                self._store(name, module)
        else:
            self.extend(modules)  # type: ignore[arg-type]

    def _from_entries(self, entries: list[tuple[str, Any]]) -> Sequential:
        return Sequential(dict(entries))  # a slice keeps the names, as in PyTorch

    def forward(self, input: Any) -> Any:
        for module in self._modules.values():
            input = module(input)  # type: ignore[misc]
        return input


class ModuleList(_ListContainer):
    """A list of modules whose parameters the parent module can see (a plain list would hide them).
    Unlike Sequential it has no forward: the parent decides how to call them."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)



class _DictContainer(_Container):
    """Entries by string key, in insertion order, with the methods of a dict."""

    def _existing(self, key: str) -> str:
        if key not in self._entries():
            raise KeyError(f"{type(self).__name__}: no entry {key!r}; the keys are {list(self._entries())}")
        return key

    def __getitem__(self, key: str) -> Any:
        return self._entries()[self._existing(key)]

    def __setitem__(self, key: str, value: Any) -> None:
        self._store(key, value)

    def __delitem__(self, key: str) -> None:
        del self._entries()[self._existing(key)]

    def __len__(self) -> int:
        return len(self._entries())

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries())

    def __contains__(self, key: object) -> bool:
        return key in self._entries()

    def keys(self) -> Iterable[str]:
        return self._entries().keys()

    def items(self) -> Iterable[tuple[str, Any]]:
        return self._entries().items()

    def values(self) -> Iterable[Any]:
        return self._entries().values()

    def pop(self, key: str) -> Any:
        value = self[key]
        del self[key]
        return value

    def clear(self) -> None:
        self._entries().clear()

    def update(self, entries: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> None:
        """Add or replace entries from a mapping (in its order) or from an iterable of (key, value) pairs."""
        name = type(self).__name__
        if isinstance(entries, (Mapping, _DictContainer)):
            pairs: Iterable[Any] = entries.items()
        elif isinstance(entries, (str, Module, Tensor)) or not hasattr(entries, "__iter__"):
            raise TypeError(f"{name}.update: expected a mapping or an iterable of (key, value) pairs, "
                            f"got {type(entries).__name__}")
        else:
            pairs = entries
        for i, pair in enumerate(pairs):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise ValueError(f"{name}.update: element {i} must be a (key, value) pair, got {pair!r}")
            self[pair[0]] = pair[1]


class ModuleDict(_DictContainer):
    """A dict of modules whose parameters the parent module can see: ModuleDict({"conv": Conv2d(1, 8, 3),
    "pool": MaxPool2d(2)}); `self.layers["conv"]`; state_dict names `layers.conv.weight`. Keys must
    be non-empty strings without '.' that do not shadow a method (e.g. not "keys")."""

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)



class _HoldsParameters(_Container):
    """Mixed into ParameterList and ParameterDict: entries live in the parameter registry, and a plain
    Tensor stored becomes a Parameter, as in PyTorch."""

    def _entries(self) -> dict[str, Any]:
        return self._parameters

    def _store(self, name: str, value: Any) -> None:
        self.register_parameter(name, _as_parameter(type(self).__name__, value))

    def extra_repr(self) -> str:
        return "\n".join(f"({name}): Parameter containing: [shape {p.shape}, dtype {p.dtype.value}]"
                         for name, p in self._parameters.items() if p is not None)


class ParameterList(_HoldsParameters, _ListContainer):
    """A list of parameters registered with the module (named "0", "1", ...)."""

    def __init__(self, values: Iterable[Tensor] | None = None) -> None:
        super().__init__()
        if values is not None:
            self.extend(values)


class ParameterDict(_HoldsParameters, _DictContainer):
    """A dict of parameters registered with the module (state_dict names `table.key`)."""

    def __init__(self, parameters: Mapping[str, Tensor] | Iterable[tuple[str, Tensor]] | None = None) -> None:
        super().__init__()
        if parameters is not None:
            self.update(parameters)


def _as_parameter(container: str, value: Any) -> Parameter:
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        return Parameter(value)
    raise TypeError(f"{container}: {value!r:.60} is a {type(value).__name__}, not a Tensor or Parameter")

