"""edugrad against PyTorch on the CPU, each library in its own fresh process: the README's speed table.

    python benchmarks/bench.py                        # every workload at 1 and 2 threads, 3 rounds each
    python benchmarks/bench.py --quick                # a smoke test: small sizes, 1 thread, no applications
    python benchmarks/bench.py --threads 2 --workloads mlp gpt --rounds 5

Why separate processes: in one process, numpy's OpenBLAS threads and PyTorch's OpenMP threads
fight over the same cores, and PyTorch ran 2-2.5x slower there than on its own (issue 12).
So this script writes the weights and batches to .npz files (edugrad's initial weights, real
MNIST batches, Tiny Shakespeare blocks) and, for each workload and thread count, starts
benchmarks/workloads.py in fresh processes, alternately edugrad and PyTorch (edugrad, PyTorch,
edugrad, ...), `--rounds` of each. Every process gets the thread count in OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS and MKL_NUM_THREADS before numpy or torch loads, and the PyTorch ones also
call torch.set_num_threads.

A cell is the median of every timed call of that library's processes, with the lowest and the
highest per-process median in brackets; the ratio is edugrad's median over PyTorch's (below
1.00x edugrad is faster). Peak memory: for the embedding, what its first forward and backward
added to the process's resident memory; for the applications, the largest resident memory of a
whole short run (os.wait4's ru_maxrss), one run each.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's edugrad, here and in every child process
sys.path.insert(0, str(ROOT / "applications"))
import learn_shakespeare  # the GPT and its default configuration
from learn_mnist import make_model, normalize  # the exact models learn_mnist trains

import edugrad
from edugrad.datasets import load_mnist, load_tinyshakespeare

WORKLOADS_SCRIPT = Path(__file__).with_name("workloads.py")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
UNITS = {"s": 1.0, "ms": 1e3, "us": 1e6}
LIBRARIES = ("edugrad", "torch")


@dataclass(frozen=True)
class Workload:
    key: str  # its name in workloads.py
    label: str  # the table's first column
    unit: str  # of the time: s, ms or us
    repeats: int  # timed calls per process
    warmup: int  # untimed calls before them (their peak memory is measured)
    per: int = 1  # report the time divided by this (the chain: per op)
    memory: bool = False  # also a row for the warm-up's peak memory


@dataclass(frozen=True)
class Application:
    label: str
    edugrad_command: list[str]
    torch_command: list[str]


def write_inputs(directory: Path, quick: bool) -> list[Workload]:
    """One .npz per workload with everything both libraries start from; the workloads to run."""
    train_images, train_labels, test_images, _ = load_mnist(download=False)
    n_batches, batch_size = (3 if quick else 8), 128
    x = normalize(train_images[:n_batches * batch_size]).reshape(n_batches, batch_size, 1, 28, 28)
    y = train_labels[:n_batches * batch_size].reshape(n_batches, batch_size)
    edugrad.manual_seed(0)
    mlp, cnn = make_model("mlp").state_dict(), make_model("cnn").state_dict()
    n_images = 1_000 if quick else 10_000

    defaults = learn_shakespeare.build_parser().parse_args([])  # learn_shakespeare's default model
    text = load_tinyshakespeare(download=False)
    tokenizer = learn_shakespeare.CharTokenizer.from_text(text)
    train_ids, _ = learn_shakespeare.train_val_split(tokenizer.encode(text))
    config = learn_shakespeare.GPTConfig(len(tokenizer.vocab), defaults.block_size, defaults.n_layer,
                                         defaults.n_head, defaults.n_embd, defaults.dropout)
    gpt = learn_shakespeare.GPT(config).state_dict()
    rng = np.random.default_rng(0)
    blocks = [learn_shakespeare.get_batch(train_ids, defaults.batch_size, config.block_size, rng)
              for _ in range(n_batches)]

    vocab, width, n_tokens = (5_000 if quick else 50_257), 768, 2_048
    ops = 300 if quick else 3_000
    return [
        save(directory, Workload("mlp", "MLP 784-128-10, Adam step, batch 128", "ms",
                                 3 if quick else 30, 1 if quick else 3),
             x=x, y=y, **state_arrays(mlp)),
        save(directory, Workload("cnn", "learn_mnist CNN, Adam step, batch 128", "ms",
                                 2 if quick else 10, 1 if quick else 2),
             x=x, y=y, **state_arrays(cnn)),
        save(directory, Workload("inference", f"learn_mnist CNN, inference on {n_images:,} images", "s",
                                 1 if quick else 2, 1),
             images=normalize(test_images[:n_images]), batch_size=np.array(1000), **state_arrays(cnn)),
        save(directory, Workload("gpt", f"learn_shakespeare's GPT ({config.n_layer} layers, {config.n_embd} wide, "
                                        f"{config.block_size} characters), AdamW step, batch {defaults.batch_size}",
                                 "ms", 2 if quick else 8, 1 if quick else 2),
             x=np.stack([b[0] for b in blocks]), y=np.stack([b[1] for b in blocks]),
             **{f"config.{key}": np.array(value) for key, value in vars(config).items()}, **state_arrays(gpt)),
        save(directory, Workload("embedding", f"embedding {vocab:,} x {width}, {n_tokens:,} tokens, "
                                              "forward + backward", "ms", 1 if quick else 3, 1, memory=True),
             tokens=rng.integers(0, vocab, n_tokens),  # N(0, 1) weights, as nn.Embedding starts
             **{"state.weight": rng.standard_normal((vocab, width), dtype=np.float32)}),
        save(directory, Workload("chain", f"{ops:,}-op elementwise chain on 16 numbers, forward + backward, per op",
                                 "us", 2 if quick else 5, 1 if quick else 2, per=ops),
             ops=np.array(ops)),
    ]


def save(directory: Path, workload: Workload, **arrays: np.ndarray) -> Workload:
    """Write the workload's inputs and repetition counts where workloads.py looks for them."""
    contents: dict[str, Any] = {"repeats": np.array(workload.repeats), "warmup": np.array(workload.warmup), **arrays}
    np.savez(directory / f"{workload.key}.npz", **contents)
    return workload


def state_arrays(state: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {f"state.{name}": array for name, array in state.items()}


def applications(quick: bool) -> list[Application]:
    """Short runs of both applications, in edugrad and in PyTorch, with the same arguments."""
    mnist = ["--epochs", "1", "--limit", "1280" if quick else "12800"]
    steps = "5" if quick else "50"
    shakespeare = ["--steps", steps, "--eval-every", steps] + (["--eval-batches", "2", "--length", "20"] if quick else [])
    return [
        Application(f"learn_mnist, 1 epoch on {int(mnist[-1]):,} images and 2 test passes",
                    ["applications/learn_mnist.py", *mnist], ["benchmarks/torch_mnist.py", *mnist]),
        Application(f"learn_shakespeare, {steps} steps, validation and sampling",
                    ["applications/learn_shakespeare.py", *shakespeare],
                    ["benchmarks/torch_shakespeare.py", *shakespeare]),
    ]


def child_environment(threads: int) -> dict[str, str]:
    python_path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, **{name: str(threads) for name in THREAD_VARIABLES}, "PYTHONPATH": python_path,
            "TQDM_DISABLE": "1"}


def run_workloads(library: str, workloads: list[Workload], inputs: Path, threads: int) -> list[dict]:
    """One fresh process running `workloads` in one library, in turn; a JSON report for each."""
    command = [sys.executable, str(WORKLOADS_SCRIPT), library, str(inputs), *(w.key for w in workloads),
               "--threads", str(threads)]
    done = subprocess.run(command, check=False, env=child_environment(threads), capture_output=True, text=True)
    names = " ".join(w.key for w in workloads)
    if done.returncode != 0:
        raise RuntimeError(f"bench: {names} in {library} at {threads} threads failed:\n{done.stderr[-3000:]}")
    reports = [json.loads(line) for line in done.stdout.strip().splitlines()]
    for report in reports:
        if report["threads"] != threads:
            raise RuntimeError(f"bench: {library} ran {report['workload']} on {report['threads']} threads, "
                               f"not {threads}")
    return reports


def run_application(command: list[str], threads: int) -> tuple[float, float]:
    """Peak resident memory (MiB) and wall seconds of one whole run of `command` in a fresh process."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, *command], cwd=ROOT, env=child_environment(threads),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)  # the resource usage of this one child
    seconds = time.perf_counter() - start
    assert process.stderr is not None
    errors = process.stderr.read().decode(errors="replace")
    process.stderr.close()
    if status != 0:
        raise RuntimeError(f"bench: {' '.join(command)} failed:\n{errors[-3000:]}")
    return usage.ru_maxrss / 1024, seconds  # ru_maxrss is in KiB on Linux


def number(value: float) -> str:
    """Three significant digits, without an exponent: 0.0123, 4.56, 78.9, 1,234."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def cell(values: list[float], unit: str, per_process: list[float]) -> str:
    """The median of `values`, and the range of the per-process medians if there are several."""
    text = f"{number(statistics.median(values))} {unit}"
    if len(per_process) > 1:
        text += f" ({number(min(per_process))}-{number(max(per_process))})"
    return text


def row(label: str, threads: int, torch_cell: str, edugrad_cell: str, ratio: float) -> str:
    return f"| {label} | {threads} | {torch_cell} | {edugrad_cell} | {ratio:.2f}x |"


def same_start(workload: Workload, reports: dict[str, list[dict]]) -> None:
    """A training step's first loss must agree between the libraries, or they did not get the same
    model, weights and batch, and their times do not compare."""
    losses = {library: [report["first_loss"] for report in reports[library]] for library in LIBRARIES}
    for ours, theirs in zip(losses["edugrad"], losses["torch"]):
        if ours is not None and theirs is not None and abs(ours - theirs) > 1e-4 * max(1.0, abs(theirs)):
            raise RuntimeError(f"bench: {workload.key}: edugrad's first loss is {ours:.6f} and PyTorch's "
                               f"{theirs:.6f}: the two processes did not compute the same thing")


def workload_rows(workload: Workload, reports: dict[str, list[dict]], threads: int) -> list[str]:
    """The time row of a workload (and its memory row), from the reports of every process."""
    same_start(workload, reports)
    scale = UNITS[workload.unit] / workload.per
    cells, medians = {}, {}
    for library in LIBRARIES:
        times = [t * scale for report in reports[library] for t in report["seconds"]]
        per_process = [statistics.median(report["seconds"]) * scale for report in reports[library]]
        cells[library], medians[library] = cell(times, workload.unit, per_process), statistics.median(times)
    rows = [row(workload.label, threads, cells["torch"], cells["edugrad"], medians["edugrad"] / medians["torch"])]
    peaks = {library: [report["peak_mib"] for report in reports[library]] for library in LIBRARIES}
    if workload.memory and all(None not in values for values in peaks.values()):  # None: not measurable here
        rows.append(row("the same, peak memory above the weights", threads,
                        cell(peaks["torch"], "MiB", peaks["torch"]), cell(peaks["edugrad"], "MiB", peaks["edugrad"]),
                        statistics.median(peaks["edugrad"]) / statistics.median(peaks["torch"])))
    return rows


def application_rows(app: Application, threads: int) -> list[str]:
    """Peak memory and wall time of one run of the application in each library, edugrad first."""
    ours_mib, ours_seconds = run_application(app.edugrad_command, threads)
    theirs_mib, theirs_seconds = run_application(app.torch_command, threads)
    return [row(f"{app.label}: peak memory", threads, f"{theirs_mib:,.0f} MiB", f"{ours_mib:,.0f} MiB",
                ours_mib / theirs_mib),
            row(f"{app.label}: wall time", threads, f"{number(theirs_seconds)} s", f"{number(ours_seconds)} s",
                ours_seconds / theirs_seconds)]


def conditions(args: argparse.Namespace, torch_version: str, loads: list[float], start_load: tuple[float, ...],
               minutes: float) -> str:
    blas = np.__config__.CONFIG["Build Dependencies"]["blas"]
    revision = subprocess.run(["git", "describe", "--always", "--dirty"], check=False, cwd=ROOT, capture_output=True,
                              text=True)
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")),
               platform.processor())
    processes = ("all workloads in one process per library, thread count and round" if args.quick
                 else "a fresh process per library, workload, thread count and round")
    return "\n".join([
        f"- machine: {cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
        (f"- versions: Python {platform.python_version()}, numpy {np.__version__} ({blas['name']} "
         f"{blas['version']}), torch {torch_version}, edugrad at {revision.stdout.strip() or 'an unknown revision'}"),
        (f"- threads: {' and '.join(map(str, args.threads))} per process, set in {', '.join(THREAD_VARIABLES)} "
         "and torch.set_num_threads"),
        (f"- {args.rounds} round(s), edugrad then PyTorch, {processes}; each process makes warm-up calls, "
         "then timed calls (counts in benchmarks/bench.py); the applications ran once each"),
        (f"- load average (1, 5, 15 min): {loadavg(start_load)} at the start, {loadavg(os.getloadavg())} at the "
         f"end; the 1-minute load after each process: {min(loads):.2f} to {max(loads):.2f}"),
        f"- {'--quick: a smoke test, not a measurement; ' if args.quick else ''}the whole run took {minutes:.1f} minutes",
    ])


def progress(rows: list[str]) -> list[str]:
    """Show the rows as they are measured, on stderr: the table itself comes at the end."""
    print("\n".join(rows), file=sys.stderr, flush=True)
    return rows


def loadavg(load: tuple[float, ...]) -> str:
    return ", ".join(f"{x:.2f}" for x in load)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="small sizes, one round, 1 thread, all workloads in one process per library, "
                        "no applications")
    parser.add_argument("--threads", type=int, nargs="+", default=None, help="default: 1 and 2 (quick: 1)")
    parser.add_argument("--rounds", type=int, default=None, help="processes per library and row (default 3, quick 1)")
    parser.add_argument("--workloads", nargs="+", choices=["mlp", "cnn", "inference", "gpt", "embedding", "chain"],
                        default=None, help="default: all of them")
    parser.add_argument("--apps", action=argparse.BooleanOptionalAction, default=None,
                        help="also time short runs of the applications (default: yes, except with --quick)")
    args = parser.parse_args()
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.threads = args.threads or ([1] if args.quick else [1, 2])
    with_apps = args.apps if args.apps is not None else not args.quick
    start_load, start = os.getloadavg(), time.perf_counter()
    loads: list[float] = []
    torch_version = ""
    rows = []

    with tempfile.TemporaryDirectory(prefix="edugrad-bench-") as tmp:
        workloads = [w for w in write_inputs(Path(tmp), args.quick) if not args.workloads or w.key in args.workloads]
        # Each group runs in one process per library and round: a fresh process for each workload,
        # except in a smoke test, where starting PyTorch (seconds) for each would take most of the time.
        groups = [workloads] if args.quick else [[w] for w in workloads]
        for threads in args.threads:
            for group in groups:
                reports: dict[str, list[dict]] = {library: [] for library in LIBRARIES}
                for _ in range(args.rounds):
                    for library in LIBRARIES:
                        reports[library] += run_workloads(library, group, Path(tmp), threads)
                        loads.append(os.getloadavg()[0])
                torch_version = reports["torch"][0]["version"]
                for workload in group:
                    done = {library: [r for r in reports[library] if r["workload"] == workload.key]
                            for library in LIBRARIES}
                    rows += progress(workload_rows(workload, done, threads))
            if with_apps:
                for app in applications(args.quick):
                    rows += progress(application_rows(app, threads))
                    loads.append(os.getloadavg()[0])

    print("| workload | threads | PyTorch | edugrad | edugrad / PyTorch |")
    print("|---|---:|---:|---:|---:|")
    print("\n".join(rows))
    print()
    print(conditions(args, torch_version, loads, start_load, (time.perf_counter() - start) / 60))


if __name__ == "__main__":
    main()
