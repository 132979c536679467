"""PyTorch programs run unchanged with edugrad in torch's place.

Each program in tests/programs/ is plain PyTorch, written once in the manner of PyTorch's
tutorials and examples. `run_program` executes it twice: with PyTorch, and with edugrad, where
only the import lines are rewritten (`import torch` -> `import edugrad as torch`,
`from torch.utils.data import X` -> `from edugrad.utils.data import X`); every other line runs as
written. Where the program's randomness allows (weights copied through `initial_state`, the same
numpy data, no shuffling or dropout), the two runs print the same numbers to float tolerance;
elsewhere both must learn.
"""

from __future__ import annotations

import ast
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

PROGRAMS = Path(__file__).parent / "programs"


class EdugradImports(ast.NodeTransformer):
    """Rewrite `torch` to `edugrad` in import statements, binding the same names as before."""

    @staticmethod
    def renamed(module: str) -> str:
        return "edugrad" + module.removeprefix("torch") if module.split(".")[0] == "torch" else module

    def visit_Import(self, node: ast.Import) -> list[ast.stmt]:
        statements: list[ast.stmt] = []
        for alias in node.names:
            if alias.name.split(".")[0] != "torch":
                statements.append(ast.Import(names=[alias]))
            elif alias.asname is not None or alias.name == "torch":  # import torch.nn as nn; import torch
                statements.append(ast.Import(names=[ast.alias(self.renamed(alias.name), alias.asname or "torch")]))
            else:  # import torch.utils.data: load the submodule, and bind torch
                statements.append(ast.Import(names=[ast.alias(self.renamed(alias.name))]))
                statements.append(ast.Import(names=[ast.alias("edugrad", "torch")]))
        return statements

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.ImportFrom:
        if node.module is not None:
            node.module = self.renamed(node.module)
        return node


def load_program(name: str, library: str) -> types.ModuleType:
    """Execute tests/programs/<name>.py with `library` ("torch" or "edugrad") as torch."""
    path = PROGRAMS / f"{name}.py"
    tree = ast.parse(path.read_text(), str(path))
    if library == "edugrad":
        tree = ast.fix_missing_locations(EdugradImports().visit(tree))
    module = types.ModuleType(f"program_{name}_{library}")
    module.__file__ = str(path)
    sys.modules[module.__name__] = module  # dataclasses and pickling look classes up by module name
    try:
        exec(compile(tree, str(path), "exec"), module.__dict__)
    finally:
        del sys.modules[module.__name__]
    return module


def test_only_import_lines_are_rewritten() -> None:
    source = ("import torch\nimport torch.nn as nn\nimport torch.utils.data\nfrom torch.utils.data import DataLoader\n"
              "x = torch.zeros(2)\n")
    rewritten = ast.unparse(EdugradImports().visit(ast.parse(source)))
    assert rewritten.splitlines() == ["import edugrad as torch", "import edugrad.nn as nn", "import edugrad.utils.data",
                                      "import edugrad as torch", "from edugrad.utils.data import DataLoader",
                                      "x = torch.zeros(2)"]


def run_both(name: str, tmp_path: Path, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The program's results with PyTorch, then with edugrad started from PyTorch's initial weights."""
    theirs = load_program(name, "torch").main(path=str(tmp_path / "torch.pth"), **kwargs)
    ours = load_program(name, "edugrad").main(initial_state=theirs.get("initial_state"),
                                              path=str(tmp_path / "edugrad.pth"), **kwargs)
    return ours, theirs


def falls(losses: list[float], by: float = 0.5) -> bool:
    """The mean of the last quarter is below `by` times the mean of the first quarter."""
    quarter = max(1, len(losses) // 4)
    return float(np.mean(losses[-quarter:])) < by * float(np.mean(losses[:quarter]))


def test_quickstart(tmp_path: Path) -> None:
    ours, theirs = run_both("quickstart", tmp_path)
    np.testing.assert_allclose(ours["losses"], theirs["losses"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours["test"], theirs["test"], rtol=1e-4, atol=1e-5)
    assert ours["reloaded"] == pytest.approx(ours["test"][-1], rel=1e-6)
    assert ours["losses"][-1] < ours["losses"][0]
    assert (ours["predicted"], ours["actual"]) == (theirs["predicted"], theirs["actual"])


def test_nn_tutorial(tmp_path: Path) -> None:
    ours, theirs = run_both("nn_tutorial", tmp_path)
    for key in ("scratch_start", "scratch_end", "module_start", "module_end", "linear_history", "linear_end",
                "cnn_history"):
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-4, atol=1e-5, err_msg=key)
    # The in-place `p -= p.grad * lr` under no_grad really changes the parameters: the loss falls.
    assert ours["scratch_end"][0] < 0.5 * ours["scratch_start"][0]
    assert ours["module_end"] < 0.5 * ours["module_start"]
    # The tutorial's CNN ends in global average pooling, which cannot see where the blob is, so on
    # this data it barely learns; it is here to run Conv2d, AdaptiveAvgPool2d and momentum as torch does.


def test_makemore(tmp_path: Path) -> None:
    ours, theirs = run_both("makemore", tmp_path)
    np.testing.assert_array_equal(ours["counts"], theirs["counts"])
    assert ours["bigram_nll"] == pytest.approx(theirs["bigram_nll"], rel=1e-5)
    # The generators' streams differ from PyTorch's, so the networks start elsewhere; both learn
    # the bigram statistics down to about the counting model's loss.
    for results in (ours, theirs):
        assert falls(results["neural_bigram_losses"], by=0.85)
        assert results["neural_bigram_losses"][-1] == pytest.approx(results["bigram_nll"], abs=0.15)
        assert falls(results["mlp_losses"], by=0.85) and results["mlp_full_loss"] < 2.6
        assert all(name.endswith(".") for name in results["bigram_samples"] + results["mlp_samples"])
    assert ours["mlp_full_loss"] == pytest.approx(theirs["mlp_full_loss"], abs=0.15)


def test_blitz(tmp_path: Path) -> None:
    ours, theirs = run_both("blitz", tmp_path)
    for mine, reference in zip(ours["tensors"], theirs["tensors"]):
        np.testing.assert_allclose(mine, reference, rtol=1e-6)
    for key in ("autograd", "conv1_grad", "conv1_bias_grad", "losses"):
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-4, atol=1e-6, err_msg=key)
    assert ours["requires_grad"] == theirs["requires_grad"] == [False, True]
    assert ours["graph"] == [True, True, True]
    assert ours["losses"][-1] < ours["losses"][0]


def test_regression(tmp_path: Path) -> None:
    ours, theirs = run_both("regression", tmp_path)
    assert ours["batches"] == theirs["batches"] < 1999  # stopped at the same batch, loss below 1e-3
    np.testing.assert_allclose(ours["losses"], theirs["losses"], rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(ours["weight"].reshape(-1), ours["target"], atol=0.1)


def test_gpt(tmp_path: Path) -> None:
    ours, theirs = run_both("gpt", tmp_path)
    np.testing.assert_allclose(ours["losses"], theirs["losses"], rtol=1e-4, atol=1e-5)
    assert falls(ours["losses"], by=0.8)
    assert ours["iter_num"] == 29 and ours["tokens"] == (1, 21) and ours["text"].startswith("s")


def test_mnist_cnn(tmp_path: Path) -> None:
    ours, theirs = run_both("mnist_cnn", tmp_path)
    # Dropout draws from each library's own stream, so the runs differ; both learn.
    for results in (ours, theirs):
        test_losses = [loss for loss, _ in results["test"]]
        assert test_losses[-1] < test_losses[0] < 2.35
        assert results["test"][-1][1] > 0.2  # above the 0.1 of guessing
    np.testing.assert_allclose(ours["rates"], theirs["rates"], rtol=1e-12)
    assert (tmp_path / "edugrad.pth").exists()


def test_vae(tmp_path: Path) -> None:
    ours, theirs = run_both("vae", tmp_path)
    # randn_like and shuffling draw from each library's own stream: the runs differ a little.
    for results in (ours, theirs):
        test_losses = [test_loss for _, test_loss, _ in results["history"]]
        assert test_losses[-1] < 0.85 * test_losses[0]
        assert results["history"][0][2] == (16, 1, 8, 8)
        assert results["sample"].shape == (16, 64) and ((results["sample"] > 0) & (results["sample"] < 1)).all()
    assert ours["history"][-1][1] == pytest.approx(theirs["history"][-1][1], rel=0.1)


def test_dcgan(tmp_path: Path) -> None:
    ours, theirs = run_both("dcgan", tmp_path)
    # The noise and shuffling come from each library's own stream; in both the discriminator
    # learns to tell the stripes from the generator's early fakes.
    for results in (ours, theirs):
        std, batchnorm_mean = results["init_stats"]
        assert std == pytest.approx(0.02, rel=0.2) and batchnorm_mean == pytest.approx(1.0, abs=0.02)
        assert np.mean(results["D_x"][-8:]) > np.mean(results["D_x"][:4])
        assert np.mean(results["D_losses"][-8:]) < np.mean(results["D_losses"][:4])
        assert results["fake"].shape == (16, 1, 16, 16) and np.abs(results["fake"]).max() <= 1.0
