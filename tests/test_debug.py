"""The instruments: graph pictures (edugrad.graph), tracing and profiling (edugrad.debug)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import edugrad
from edugrad import Tensor
from edugrad.backend import get_backend
from edugrad.debug import PRIMITIVE_METHODS, WATCHERS, Event, function_classes
from edugrad.graph import Graph, GraphvizNotFound

HAS_DOT = shutil.which("dot") is not None
REPO = Path(__file__).resolve().parents[1]


def tiny_mlp() -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """loss = sum(relu(x @ W1 + b1)); returns loss, x, W1, b1."""
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((4, 5)).astype(np.float32), label="x")
    w1 = Tensor(rng.standard_normal((5, 3)).astype(np.float32), requires_grad=True, label="W1")
    b1 = Tensor(np.zeros(3, np.float32), requires_grad=True)
    b1.label = "b1"  # labels can be given later too
    loss = (x @ w1 + b1).relu().sum()
    return loss, x, w1, b1


# ---------------------------------------------------------------- graph pictures

def test_dot_file_shows_labels_functions_shapes(tmp_path: Path) -> None:
    loss, *_ = tiny_mlp()
    path = edugrad.draw_graph(loss, tmp_path / "mlp.dot")
    source = path.read_text()
    assert source.startswith("digraph")
    for text in ("W1", "b1", "x\\n", "Matmul", "Add", "Relu", "Sum", "(5, 3) float32", "(4, 3) float32", "(3,) float32"):
        assert text in source, text
    ids = {name: node_id(source, name) for name in ("x", "W1", "Matmul")}
    assert f"{ids['x']} -> {ids['Matmul']};" in source and f"{ids['W1']} -> {ids['Matmul']};" in source


def node_id(source: str, first_line: str) -> str:
    """The DOT id of the node whose label starts with `first_line`."""
    return next(line.split()[0] for line in source.splitlines() if f'[label="{first_line}\\n' in line)


def test_node_kinds_are_styled_apart() -> None:
    loss, *_ = tiny_mlp()
    lines = edugrad.graph(loss).source.splitlines()
    fill = {name: next(line for line in lines if f'label="{name}\\n' in line).split('fillcolor="')[1][:7]
            for name in ("x", "W1", "b1", "Matmul")}
    assert fill["W1"] == fill["b1"] != fill["x"]  # parameters vs a plain leaf
    assert fill["Matmul"] not in (fill["W1"], fill["x"])  # intermediates differ from both


def test_gradients_shown_after_backward_with_retain_graph() -> None:
    loss, x, w1, b1 = tiny_mlp()
    loss.backward(retain_graph=True)
    source = edugrad.graph(loss).source
    norm = float(np.linalg.norm(w1.grad.numpy()))  # type: ignore[union-attr]
    assert f"grad (5, 3), norm {norm:.4g}" in source
    assert "grad (3,)" in source
    assert "grad" not in edugrad.graph(loss, show_grad=False).source.replace("edugrad", "")


def test_graph_after_plain_backward_does_not_crash() -> None:
    loss, *_ = tiny_mlp()
    loss.backward()  # frees every Function's saved values and parents
    source = edugrad.graph(loss).source
    assert "freed by backward" in source


def test_deep_chain_draws_without_recursion_and_collapses(tmp_path: Path) -> None:
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True, label="x")
    y = x
    for i in range(5000):
        y = y.sin() if i % 2 else y * 0.5  # the 0.5 constants fold into the chain too
    y.label = "y"
    source = edugrad.draw_graph(y, tmp_path / "deep.dot").read_text()
    assert "... 4999 ops ..." in source  # everything between x and the labelled output
    assert "Mul x2500, Sin x2499" in source  # the labelled y is drawn on its own
    assert source.count("[label=") == 3  # x, the collapsed chain, y
    everything = edugrad.graph(y, collapse=None, max_nodes=50).source
    assert everything.count("[label=") == 51 and "more nodes not drawn (max_nodes=50)" in everything


def test_short_chains_stay_visible() -> None:
    loss, *_ = tiny_mlp()
    assert "ops ..." not in edugrad.graph(loss).source


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot program is not installed")
def test_svg_and_png_render(tmp_path: Path) -> None:
    loss, *_ = tiny_mlp()
    svg = edugrad.draw_graph(loss, tmp_path / "mlp.svg").read_text()
    assert "<svg" in svg and "W1" in svg
    assert edugrad.draw_graph(loss, tmp_path / "mlp.png").read_bytes().startswith(b"\x89PNG")
    bundle = edugrad.graph(loss)._repr_mimebundle_()
    assert "<svg" in bundle["image/svg+xml"]


def test_missing_dot_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH with no dot on it
    loss, *_ = tiny_mlp()
    with pytest.raises(GraphvizNotFound, match="apt-get install graphviz") as info:
        edugrad.draw_graph(loss, tmp_path / "mlp.svg")
    assert "conda install graphviz" in str(info.value) and ".dot" in str(info.value)
    assert edugrad.draw_graph(loss, tmp_path / "mlp.dot").exists()  # .dot needs nothing
    graph = edugrad.graph(loss)
    assert isinstance(graph, Graph) and graph._repr_svg_() is None
    assert "apt-get install graphviz" in graph._repr_mimebundle_()["text/plain"]


def test_unknown_extension_is_an_error(tmp_path: Path) -> None:
    loss, *_ = tiny_mlp()
    with pytest.raises(ValueError, match="mlp.jpeg"):
        edugrad.draw_graph(loss, tmp_path / "mlp.jpeg")


# ---------------------------------------------------------------- tracing

def test_trace_mlp_forward_and_backward() -> None:
    with edugrad.trace() as events:
        loss, *_ = tiny_mlp()
        loss.backward()
    forward = [(e.name, e.input_shapes, e.output_shape) for e in events if e.kind == "forward"]
    assert ("Matmul", ((4, 5), (5, 3)), (4, 3)) in forward
    assert ("Add", ((4, 3), (4, 3)), (4, 3)) in forward
    assert ("Relu", ((4, 3),), (4, 3)) in forward
    assert ("Sum", ((4, 3),), (1, 1)) in forward
    backward = [(e.name, e.input_shapes, e.output_shape) for e in events if e.kind == "backward"]
    assert ("Matmul", ((4, 5), (5, 3)), (4, 3)) in backward  # the same shapes as its forward
    order = [e.name for e in events if e.kind == "backward"]
    assert order.index("Sum") < order.index("Relu") < order.index("Add") < order.index("Matmul")
    matmul = next(i for i, e in enumerate(events) if e.kind == "forward" and e.name == "Matmul")
    assert events[matmul + 1].kind == "primitive" and events[matmul + 1].name == "ContractOps.MATMUL"
    assert events[matmul + 1].depth == 1
    assert all(e.seconds >= 0 for e in events)


def test_trace_without_primitives() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    with edugrad.trace(primitives=False) as events:
        (x * x).sum().backward()
    assert events and all(isinstance(e, Event) and e.kind != "primitive" for e in events)
    assert_unhooked()


def assert_unhooked() -> None:
    """No listener left, every Function's forward and backward is its own again, the backend's methods are its own."""
    assert not WATCHERS.watching and not WATCHERS.listeners and WATCHERS.patched is None
    for cls in function_classes():
        for method in ("forward", "backward"):
            if method in cls.__dict__:
                assert not cls.__dict__[method].__qualname__.startswith("Watchers."), (cls, method)
    backend = get_backend()
    for name in PRIMITIVE_METHODS:
        assert getattr(backend, name).__qualname__.startswith(backend.__name__ + "."), name


def test_hooks_removed_after_trace_and_profile() -> None:
    backend = get_backend()
    originals = {name: backend.__dict__.get(name) for name in PRIMITIVE_METHODS}
    with edugrad.trace():
        assert WATCHERS.watching and backend.__dict__["matmul"] is not originals["matmul"]
        with edugrad.profile(show=False):
            Tensor([[1.0]]) @ Tensor([[2.0]])
    assert_unhooked()
    assert {name: backend.__dict__.get(name) for name in PRIMITIVE_METHODS} == originals
    with pytest.raises(ZeroDivisionError), edugrad.trace():
        1 / 0
    assert_unhooked()


def run_with_debug(level: str) -> str:
    code = ("import edugrad\n"
            "x = edugrad.Tensor([[1.0, 2.0]], requires_grad=True)\n"
            "w = edugrad.Tensor([[3.0], [4.0]])\n"
            "(x @ w).sum().backward()\n")
    env = {**os.environ, "EDUGRAD_DEBUG": level, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stderr


def test_edugrad_debug_environment_variable() -> None:
    level1 = run_with_debug("1")
    assert "forward   Matmul" in level1 and "backward  Matmul" in level1 and "(1, 2), (2, 1) -> (1, 1)" in level1
    assert "ContractOps.MATMUL" not in level1
    level2 = run_with_debug("2")
    assert "forward   Matmul" in level2 and "primitive ContractOps.MATMUL" in level2
    assert run_with_debug("0") == ""


# ---------------------------------------------------------------- profiling

def test_profile_counts_matmul_flops_exactly(capsys: pytest.CaptureFixture[str]) -> None:
    a, b = edugrad.ones(2, 3, 4, requires_grad=True), edugrad.ones(2, 4, 5)
    with edugrad.profile() as stats:
        (a @ b).sum().backward()
    forward, backward = 2 * 3 * 4 * 5 * 2, 2 * 3 * 5 * 4 * 2  # grad_a = grad (2,3,5) @ b^T (2,5,4)
    assert stats.ops["ContractOps.MATMUL"].flops == stats.flops == forward + backward
    assert stats.ops["ContractOps.MATMUL"].calls == 2
    assert stats.functions["Matmul"].forward_calls == 1 and stats.functions["Matmul"].backward_calls == 1
    assert stats.ops["ContractOps.MATMUL"].allocated == (2 * 3 * 5 + 2 * 3 * 4) * 4  # float32 outputs
    assert stats.ops["MovementOps.PERMUTE"].allocated == 0  # a view
    table = capsys.readouterr().out
    assert "Matmul" in table and "ContractOps.MATMUL" in table and "480" in table
    assert_unhooked()
