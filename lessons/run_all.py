"""Run every lesson top to bottom in a fresh Jupyter kernel, the way CI does.

    python lessons/run_all.py                 # every lesson, each exercise filled with its solution
    python lessons/run_all.py 03 06           # only the lessons whose file names contain 03 or 06
    python lessons/run_all.py --store         # run the reader's version and save it with its outputs

Each lesson ends with an exercise: a cell tagged `exercise` that the reader fills in, then a cell
tagged `check` that says whether the answer is right. A reader sees the empty exercise; its
solution lives in `solutions/<lesson name>.py`. By default this script puts that file's text into
the exercise cell before running, so CI checks both the lesson and the solution: it fails if any
cell raises, or if a check cell does not print a line starting with "Right".

`--store` is for authors: it runs the notebook as the reader gets it (exercise empty, so the check
cell says "Not answered yet") and writes it back with its outputs, so the pictures show on the web.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

LESSONS = Path(__file__).resolve().parent
SOLUTIONS = LESSONS / "solutions"
CELL_TIMEOUT_S = 600
# What the issue promises a reader; slower lessons are reported, not failed: CI machines differ.
BUDGET_S = 120


def cells_tagged(notebook: nbformat.NotebookNode, tag: str) -> list[nbformat.NotebookNode]:
    return [cell for cell in notebook.cells if tag in cell.get("metadata", {}).get("tags", [])]


def printed_text(cell: nbformat.NotebookNode) -> str:
    """Everything a code cell printed or displayed as text."""
    pieces = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            pieces.append(output.get("text", ""))
        elif "data" in output:
            pieces.append(output["data"].get("text/plain", ""))
    return "".join(pieces)


def run(path: Path, store: bool) -> float:
    """Execute one lesson; return the seconds it took. Raises on an error or a wrong answer."""
    notebook = nbformat.read(path, as_version=4)
    exercises, checks = cells_tagged(notebook, "exercise"), cells_tagged(notebook, "check")
    if len(exercises) != 1 or len(checks) != 1:
        raise ValueError(f"{path.name}: expected one cell tagged 'exercise' and one tagged 'check', "
                         f"found {len(exercises)} and {len(checks)}")
    if not store:
        solution = SOLUTIONS / f"{path.stem}.py"
        exercises[0].source = solution.read_text(encoding="utf-8").strip()
    start = time.perf_counter()
    NotebookClient(notebook, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                   resources={"metadata": {"path": str(LESSONS)}}).execute()
    seconds = time.perf_counter() - start
    verdict = printed_text(checks[0])
    expected = "Not answered yet" if store else "Right"
    if not any(line.startswith(expected) for line in verdict.splitlines()):
        raise AssertionError(f"{path.name}: the check cell should print a line starting with {expected!r}, "
                             f"but printed:\n{verdict}")
    if store:
        for cell in notebook.cells:  # execution timestamps would make every re-run a diff
            cell.get("metadata", {}).pop("execution", None)
        nbformat.write(notebook, path)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("only", nargs="*", help="run only lessons whose file names contain one of these")
    parser.add_argument("--store", action="store_true",
                        help="run the reader's version (exercises empty) and save the outputs into the notebook")
    args = parser.parse_args(argv)
    paths = [p for p in sorted(LESSONS.glob("[0-9][0-9]_*.ipynb"))
             if not args.only or any(name in p.name for name in args.only)]
    if not paths:
        print("run_all: no lesson matches", args.only, file=sys.stderr)
        return 1
    failed = []
    for path in paths:
        try:
            seconds = run(path, args.store)
        except (CellExecutionError, AssertionError, ValueError, FileNotFoundError) as error:
            print(f"FAIL {path.name}\n{error}\n", file=sys.stderr)
            failed.append(path.name)
            continue
        note = f"  (over the {BUDGET_S} s budget)" if seconds > BUDGET_S else ""
        print(f"ok   {path.name:40s} {seconds:6.1f} s{note}", flush=True)
    if failed:
        print(f"run_all: {len(failed)} of {len(paths)} lessons failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
