"""The README stays true: its Python blocks run, its pictures exist, its test command is CI's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)


def test_readme_has_python_blocks() -> None:
    assert len(PYTHON_BLOCKS) >= 3


@pytest.mark.parametrize("index", range(len(PYTHON_BLOCKS)))
def test_readme_block_runs(index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # a block that writes files writes them here
    exec(compile(PYTHON_BLOCKS[index], f"README.md python block {index}", "exec"), {"__name__": "readme"})


def test_readme_pictures_exist() -> None:
    for path in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README):
        assert (ROOT / path).is_file(), f"README shows {path}, which is not in the repository"


def test_readme_test_command_is_what_ci_runs() -> None:
    command = "python -m pytest -q -n 2 tests"
    assert command in README
    assert command in (ROOT / ".ci" / "run").read_text()


def test_readme_has_no_unmeasured_placeholders() -> None:
    assert "<<MEASURE" not in README


def test_readme_backward_trace_is_what_trace_records() -> None:
    """The annotated trace in "How it works" must be the events edugrad really records."""
    import edugrad
    from edugrad import Tensor

    shown = README.split("for event in events:\n    print(event)\n```\n\n```text\n", 1)[1].split("```", 1)[0]
    x = Tensor([[1.0, -2.0, 3.0]])
    w = Tensor([[0.5], [-1.0], [0.25]], requires_grad=True)
    loss = (x @ w).relu().sum()
    with edugrad.trace() as events:
        loss.backward()
    lines = shown.strip("\n").splitlines()
    assert len(lines) == len(events)
    for line, event in zip(lines, events):
        without_time = str(event).rsplit(" ", 2)[0].rstrip()  # drop "   0.007 ms"
        assert line.startswith(without_time), f"README shows {line!r}, trace gives {without_time!r}"
