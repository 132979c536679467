"""Containers against torch.nn's: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict.
Each operation is run on both libraries' containers and the results compared: the order and names of
the entries (as state_dict keys), indexing, slicing, and the refusals."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable

import numpy as np
import pytest
import torch

import edugrad
from edugrad import Tensor, nn


def keys(container: Any) -> list[str]:
    return list(container.state_dict())


def layer_names(container: Any) -> list[str]:
    """The entries' names and kinds, in order: what both libraries must agree on."""
    return [f"{name}:{type(module).__name__}" for name, module in container.named_children()]


def build_list(lib: Any, kind: str) -> Any:
    """Linear, ReLU, Linear in a Sequential (given as arguments) or a ModuleList (given as a list)."""
    layers = [lib.Linear(2, 3), lib.ReLU(), lib.Linear(3, 1)]
    return lib.Sequential(*layers) if kind == "Sequential" else lib.ModuleList(layers)


LIST_OPERATIONS: list[tuple[str, Callable[[Any, Any], Any]]] = [
    ("append", lambda lib, c: c.append(lib.Tanh())),
    ("extend", lambda lib, c: c.extend([lib.Tanh(), lib.Linear(1, 2)])),
    ("insert_front", lambda lib, c: c.insert(0, lib.Linear(2, 2))),
    ("insert_middle", lambda lib, c: c.insert(2, lib.Tanh())),
    ("insert_negative", lambda lib, c: c.insert(-1, lib.Tanh())),
    ("setitem", lambda lib, c: c.__setitem__(1, lib.Sigmoid())),
    ("setitem_negative", lambda lib, c: c.__setitem__(-1, lib.Linear(3, 4))),
    ("delitem", lambda lib, c: c.__delitem__(0)),
    ("delitem_negative", lambda lib, c: c.__delitem__(-2)),
    ("delitem_slice", lambda lib, c: c.__delitem__(slice(0, 2))),
    ("pop", lambda lib, c: c.pop(1)),
]


# torch's ModuleList.insert fails on a negative index (a KeyError); edugrad's inserts as list.insert does.
LIST_CASES = [(kind, name, op) for kind in ("Sequential", "ModuleList") for name, op in LIST_OPERATIONS
              if (kind, name) != ("ModuleList", "insert_negative")]


@pytest.mark.parametrize("kind, name, operation", LIST_CASES, ids=[f"{k}-{n}" for k, n, _ in LIST_CASES])
def test_list_operations_match_torch(kind: str, name: str, operation: Callable[[Any, Any], Any]) -> None:
    ours, theirs = build_list(nn, kind), build_list(torch.nn, kind)

    returned, expected = operation(nn, ours), operation(torch.nn, theirs)
    assert layer_names(ours) == layer_names(theirs)
    assert keys(ours) == list(theirs.state_dict())
    assert len(ours) == len(theirs)
    if expected is not None:  # torch's ModuleList.insert returns None, edugrad's the list as Sequential's does
        assert type(returned).__name__ == type(expected).__name__


@pytest.mark.parametrize("kind", ["Sequential", "ModuleList"])
@pytest.mark.parametrize("index", [0, 2, -1, -3, slice(1, None), slice(None, None, -1), slice(0, 0)])
def test_indexing_matches_torch(kind: str, index: Any) -> None:
    ours, theirs = build_list(nn, kind), build_list(torch.nn, kind)
    got, expected = ours[index], theirs[index]
    assert type(got).__name__ == type(expected).__name__
    if isinstance(index, slice):
        assert layer_names(got) == layer_names(expected)  # Sequential keeps names, ModuleList renumbers


def test_named_sequential_keeps_names_until_renumbered() -> None:
    ours = nn.Sequential({"embed": nn.Linear(2, 3), "act": nn.ReLU(), "out": nn.Linear(3, 1)})
    theirs = torch.nn.Sequential(OrderedDict(embed=torch.nn.Linear(2, 3), act=torch.nn.ReLU(),
                                             out=torch.nn.Linear(3, 1)))
    assert keys(ours) == list(theirs.state_dict()) == ["embed.weight", "embed.bias", "out.weight", "out.bias"]
    assert layer_names(ours[1:]) == layer_names(theirs[1:])
    ours[0], theirs[0] = nn.Linear(2, 3), torch.nn.Linear(2, 3)  # replacing keeps the name
    assert layer_names(ours) == layer_names(theirs)
    del ours[1]
    del theirs[1]
    assert layer_names(ours) == layer_names(theirs) == ["0:Linear", "1:Linear"]


def test_sequential_forward_matches_torch() -> None:
    ours, theirs = build_list(nn, "Sequential"), build_list(torch.nn, "Sequential")
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((4, 2)).astype(np.float32)
    for _ in range(2):
        np.testing.assert_allclose(ours(Tensor(x)).numpy(), theirs(torch.from_numpy(x)).detach().numpy(),
                                   rtol=1e-5, atol=1e-6)
        ours.append(nn.Tanh())  # the second pass runs through the appended layer
        theirs.append(torch.nn.Tanh())


def test_module_list_in_a_model_registers_its_parameters() -> None:
    class Stack(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = nn.ModuleList(nn.Linear(2, 2) for _ in range(3))
            self.layers += [nn.Linear(2, 1)]

    assert keys(Stack()) == [f"layers.{i}.{p}" for i in range(4) for p in ("weight", "bias")]
    assert len(list(Stack().parameters())) == 8


LIST_ERRORS: list[tuple[Callable[[], Any], type[Exception], str]] = [
    (lambda: nn.Sequential(nn.ReLU(), Tensor.relu),  # type: ignore[arg-type]
     TypeError, "Sequential: entry '1' is <function .*>, a function, not a Module"),
    (lambda: nn.ModuleList([nn.ReLU(), 3]), TypeError, "ModuleList: entry '1' is 3, a int, not a Module"),  # type: ignore[list-item]
    (lambda: nn.ModuleList([nn.ReLU()])[1], IndexError, "ModuleList: index 1 is out of range for 1 entries"),
    (lambda: nn.Sequential(nn.ReLU())[-2], IndexError, "Sequential: index -2 is out of range for 1 entries"),
    (lambda: nn.Sequential(nn.ReLU())["0"], TypeError, "Sequential: indices must be integers or slices, got str"),  # type: ignore[call-overload]
    (lambda: nn.ModuleList([nn.ReLU()]).__setitem__(3, nn.ReLU()), IndexError, "index 3 is out of range"),
    (lambda: nn.ModuleList().extend(nn.ReLU()), TypeError, "ModuleList.extend: expected an iterable, got a ReLU"),
    (lambda: nn.ModuleList().pop(), IndexError, "ModuleList: index -1 is out of range for 0 entries"),
]


@pytest.mark.parametrize("call, error, message", LIST_ERRORS, ids=[m.split(":")[0] + str(i) for i, (_, _, m) in
                                                                   enumerate(LIST_ERRORS)])
def test_list_errors_by_message(call: Callable[[], Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        call()


# ------------------------------------------------------------ ModuleDict
def test_module_dict_matches_torch() -> None:
    def build(lib: Any) -> Any:
        return lib.ModuleDict({"query": lib.Linear(4, 4), "act": lib.GELU(), "key": lib.Linear(4, 2)})

    ours, theirs = build(nn), build(torch.nn)
    assert keys(ours) == list(theirs.state_dict()) == ["query.weight", "query.bias", "key.weight", "key.bias"]
    assert list(ours) == list(theirs) and list(ours.keys()) == list(theirs.keys())
    assert [type(m).__name__ for m in ours.values()] == [type(m).__name__ for m in theirs.values()]
    assert [k for k, _ in ours.items()] == [k for k, _ in theirs.items()]
    assert ("act" in ours, "value" in ours, len(ours)) == ("act" in theirs, "value" in theirs, len(theirs))
    for lib, container in ((nn, ours), (torch.nn, theirs)):
        container["value"] = lib.Linear(4, 3)
        container["query"] = lib.Linear(4, 5)  # replacing keeps the place
        del container["act"]
        container.update([("proj", lib.Linear(3, 4)), ("key", lib.Linear(4, 6))])
        container.update({"z": lib.ReLU()})
        assert type(container.pop("z")).__name__ == "ReLU"
    assert layer_names(ours) == layer_names(theirs)
    assert keys(ours) == list(theirs.state_dict())
    assert ours["key"].out_features == theirs["key"].out_features == 6
    ours.clear()
    theirs.clear()
    assert len(ours) == len(theirs) == 0


def test_module_dict_in_a_gpt_style_model() -> None:
    """The minGPT layout: ModuleDict(wte=..., h=ModuleList(...)) gives its state_dict names."""
    def build(lib: Any) -> Any:
        model = lib.Module()
        model.transformer = lib.ModuleDict(dict(wte=lib.Embedding(10, 4), h=lib.ModuleList([lib.Linear(4, 4)] * 1),
                                                ln_f=lib.LayerNorm(4)))
        return model

    assert keys(build(nn)) == list(build(torch.nn).state_dict())


DICT_ERRORS: list[tuple[Callable[[], Any], type[Exception], str]] = [
    (lambda: nn.ModuleDict({"a": nn.ReLU()})["b"], KeyError, r"ModuleDict: no entry 'b'; the keys are \['a'\]"),
    (lambda: nn.ModuleDict({"a": 1}), TypeError, "ModuleDict: entry 'a' is 1, a int, not a Module"),  # type: ignore[arg-type]
    (lambda: nn.ModuleDict({"a.b": nn.ReLU()}), KeyError, "must be non-empty and contain no '.'"),
    (lambda: nn.ModuleDict({"keys": nn.ReLU()}), KeyError, "attribute 'keys' already exists"),
    (lambda: nn.ModuleDict({1: nn.ReLU()}), TypeError, "module name must be a string, got int"),  # type: ignore[arg-type]
    (lambda: nn.ModuleDict([("a", nn.ReLU(), 3)]), ValueError, "element 0 must be a .key, value. pair"),  # type: ignore[list-item]
    (lambda: nn.ModuleDict(nn.ReLU()), TypeError, "expected a mapping or an iterable of .key, value. pairs, got ReLU"),
    (lambda: nn.ModuleDict().pop("x"), KeyError, "no entry 'x'"),
]


@pytest.mark.parametrize("call, error, message", DICT_ERRORS, ids=[str(i) for i in range(len(DICT_ERRORS))])
def test_dict_errors_by_message(call: Callable[[], Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        call()


# ------------------------------------------------------------ parameter containers
def test_parameter_list_and_dict_match_torch() -> None:
    def build(lib: Any, make: Callable[..., Any]) -> Any:
        model = lib.Module()
        model.scales = lib.ParameterList([lib.Parameter(make(2)), make(3)])
        model.scales.append(make(4))
        model.table = lib.ParameterDict({"a": make(1, 2)})
        model.table["b"] = make(5)
        return model

    ours, theirs = build(nn, edugrad.ones), build(torch.nn, torch.ones)
    assert keys(ours) == list(theirs.state_dict()) == ["scales.0", "scales.1", "scales.2", "table.a", "table.b"]
    assert all(isinstance(p, nn.Parameter) for p in ours.scales) and isinstance(ours.table["b"], nn.Parameter)
    assert [p.shape for p in ours.scales] == [tuple(p.shape) for p in theirs.scales]
    assert len(list(ours.parameters())) == 5 and ours.scales[-1].requires_grad
    assert list(ours.table) == list(theirs.table) == ["a", "b"] and "a" in ours.table
    with pytest.raises(TypeError, match="ParameterList: 3.0 is a float, not a Tensor or Parameter"):
        nn.ParameterList([3.0])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="ParameterDict: 'w' is a str, not a Tensor or Parameter"):
        nn.ParameterDict({"a": "w"})  # type: ignore[arg-type, dict-item]
