"""benchmarks/bench.py runs and prints its table: a smoke test on its smallest workload (no timings checked)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_quick_bench_prints_a_table_and_its_conditions() -> None:
    command = [sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--quick", "--workloads", "chain",
               "--threads", "1", "--no-apps"]
    done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[:2] == ["| workload | threads | PyTorch | edugrad | edugrad / PyTorch |", "|---|---:|---:|---:|---:|"]
    number = r"[\d,]+(\.\d+)?"
    row = rf"\| 300-op elementwise chain on 16 numbers, forward \+ backward, per op \| 1 \| {number} us \| {number} us \| {number}x \|"
    assert re.fullmatch(row, lines[2]), lines[2]
    assert lines[3] == "", "one workload at one thread count makes one row"
    conditions = "\n".join(lines[4:])
    for expected in ("machine:", "numpy", "torch 2.", "threads: 1 per process", "load average (1, 5, 15 min):"):
        assert expected in conditions, f"{expected!r} is missing from the conditions:\n{conditions}"
