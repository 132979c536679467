"""Deep graphs and deep models: nothing in edugrad recurses with depth.

Each walk runs under `shallow_stack()`, which lowers Python's recursion limit to a little above
the current depth, so an implementation that recursed once per node or module would fail here
long before it reached the depths used (a 100,000-op chain, 2,000 nested modules).
"""

from __future__ import annotations

import gc
import sys
import weakref
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np

import edugrad
from edugrad import Tensor, nn

HEADROOM = 120  # frames a walk may use beyond where it starts (numpy's printing needs a few dozen)


@contextmanager
def shallow_stack() -> Iterator[None]:
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back  # type: ignore[assignment]
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + HEADROOM)
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


def test_100k_op_chain_forward_backward_draw_repr_and_free(tmp_path: Path) -> None:
    x = Tensor([1.0, -2.0], requires_grad=True, label="x")
    with shallow_stack():
        y = x
        for i in range(100_000):
            y = y * 1.0 if i % 2 else y + 1.0
        text = repr(y)
        source = edugrad.draw_graph(y, tmp_path / "chain.dot").read_text()
        loss = y.sum()
        loss.backward(retain_graph=True)
    assert text.startswith("tensor([50001., 49998.]") and "grad_fn=<MulBackward>" in text
    assert "... 99999 ops ..." in source  # every link but the drawn result itself
    assert x.grad is not None and x.grad.tolist() == [1.0, 1.0]
    # Dropping a retained graph this deep frees it without blowing the C stack.
    result = weakref.ref(y)
    del y, loss
    gc.collect()
    assert result() is None


def test_shared_nodes_deep_dag_gets_every_path() -> None:
    """y = (y + y) * 0.5 twenty thousand times: every node is used twice, so a walk that
    emitted a node before both paths reached it would send on half a gradient."""
    x = Tensor([3.0], requires_grad=True)
    with shallow_stack():
        y = x
        for _ in range(20_000):
            y = (y + y) * 0.5
        y.backward(Tensor([1.0]))
    assert x.grad is not None and x.grad.tolist() == [1.0]


def nested(depth: int) -> nn.Module:
    model: nn.Module = nn.Linear(3, 2)
    for _ in range(depth):
        model = nn.Sequential(model)
    return model


def test_2000_nested_modules_walk_without_recursion() -> None:
    depth = 2000
    model = nested(depth)
    key = ".".join(["0"] * depth) + ".weight"
    with shallow_stack():
        state = model.state_dict()
        names = [name for name, _ in model.named_modules()]
        params = list(model.named_parameters())
        text = repr(model)
        model.load_state_dict({k: np.zeros_like(v) for k, v in state.items()})
        model.eval()
        model.apply(lambda m: None)
        model.zero_grad()
    assert list(state) == [key, key[:-len("weight")] + "bias"]
    assert len(names) == depth + 1 and names[-1] == ".".join(["0"] * depth)
    assert [name for name, _ in params] == list(state)
    assert text.count("Sequential(") == depth and "Linear(" in text
    assert not model.training and not model.get_submodule(names[-1]).training
    assert all((p.numpy() == 0).all() for p in model.parameters())


def test_deep_graph_is_freed_by_backward() -> None:
    """After backward every Function on a deep chain has let go of its inputs and saved values."""
    x = Tensor([1.0], requires_grad=True)
    y = x.sin()
    middle = weakref.ref(y)
    for _ in range(10_000):
        y = y.sin()
    y.sum().backward()
    gc.collect()
    assert middle() is None  # only the graph held it, and backward released the graph
