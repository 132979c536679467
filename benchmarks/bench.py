"""edugrad next to PyTorch on the CPU: same machine, same process, same weights and batches.

    python benchmarks/bench.py                 # the table of issue #4 (about 2 minutes)
    python benchmarks/bench.py --scaling       # also step time against batch size and width
    python benchmarks/bench.py --quick         # fewer repetitions, for a smoke test

Each workload runs in edugrad and in PyTorch alternately, `--repeats` times each, and the table
shows the median of each and their ratio (edugrad / PyTorch: lower is better, 1.0 is a tie).
Peak memory is measured on whole training runs in fresh processes (see `peak_memory`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

import edugrad.nn.functional as F
import edugrad
from edugrad import Tensor, nn, optim

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "applications"))
from learn_mnist import make_model  # noqa: E402  (the exact CNN learn_mnist trains)


def torch_model(kind: str, width: int = 128) -> torch.nn.Module:
    tnn = torch.nn
    if kind == "mlp":
        return tnn.Sequential(tnn.Flatten(), tnn.Linear(784, width), tnn.ReLU(), tnn.Linear(width, 10))
    return tnn.Sequential(
        tnn.Conv2d(1, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Conv2d(16, 32, 5), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Flatten(), tnn.Linear(32 * 4 * 4, 10),
    )


def edugrad_model(kind: str, width: int = 128) -> nn.Module:
    if kind == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, width), nn.ReLU(), nn.Linear(width, 10))
    return make_model(kind)


def twin_models(kind: str, width: int = 128) -> tuple[nn.Module, torch.nn.Module]:
    """The same architecture in both libraries, edugrad's weights copied into PyTorch's."""
    ours, theirs = edugrad_model(kind, width), torch_model(kind, width)
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})  # numpy arrays
    return ours, theirs


def batches(n: int, batch_size: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((batch_size, 1, 28, 28)).astype(np.float32),
             rng.integers(0, 10, batch_size)) for _ in range(n)]


def step_functions(kind: str, batch_size: int, width: int = 128) -> tuple[Callable[[], None], Callable[[], None]]:
    """One Adam training step in each library, cycling through the same batches."""
    ours, theirs = twin_models(kind, width)
    our_opt, their_opt = optim.Adam(ours.parameters(), lr=1e-3), torch.optim.Adam(theirs.parameters(), lr=1e-3)
    data = batches(8, batch_size)
    our_data = [(Tensor(x), Tensor(y)) for x, y in data]
    their_data = [(torch.tensor(x), torch.tensor(y)) for x, y in data]
    count = [0, 0]

    def edugrad_step() -> None:
        x, y = our_data[count[0] % len(our_data)]
        count[0] += 1
        loss = F.cross_entropy(ours(x), y)
        our_opt.zero_grad()
        loss.backward()
        our_opt.step()

    def torch_step() -> None:
        x, y = their_data[count[1] % len(their_data)]
        count[1] += 1
        loss = torch.nn.functional.cross_entropy(theirs(x), y)
        their_opt.zero_grad()
        loss.backward()
        their_opt.step()

    return edugrad_step, torch_step


def inference_functions() -> tuple[Callable[[], None], Callable[[], None]]:
    """The CNN on 10,000 images in batches of 1,000, without recording a graph."""
    ours, theirs = twin_models("cnn")
    ours.eval()
    theirs.eval()
    images = np.random.default_rng(1).standard_normal((10_000, 1, 28, 28)).astype(np.float32)

    def edugrad_infer() -> None:
        with edugrad.no_grad():
            for i in range(0, len(images), 1000):
                ours(Tensor(images[i:i + 1000])).argmax(1).numpy()

    def torch_infer() -> None:
        with torch.no_grad():
            for i in range(0, len(images), 1000):
                theirs(torch.from_numpy(images[i:i + 1000])).argmax(1).numpy()

    return edugrad_infer, torch_infer


CHAIN = 3000


def dispatch_functions() -> tuple[Callable[[], None], Callable[[], None]]:
    """3,000 elementwise ops on 16 elements, forward and backward: the cost of one op's bookkeeping."""
    def edugrad_chain() -> None:
        x = Tensor(np.ones(16, np.float32), requires_grad=True)
        y = x
        for i in range(CHAIN):
            y = y * 1.0001 if i % 2 else y + 0.5
        y.sum().backward()

    def torch_chain() -> None:
        x = torch.ones(16, requires_grad=True)
        y = x
        for i in range(CHAIN):
            y = y * 1.0001 if i % 2 else y + 0.5
        y.sum().backward()

    return edugrad_chain, torch_chain


def compare(ours: Callable[[], None], theirs: Callable[[], None], repeats: int, inner: int = 1,
            warmup: int = 3) -> tuple[float, float]:
    """Median seconds per call of each, timed alternately so both see the same machine state."""
    for _ in range(warmup):
        ours()
        theirs()
    our_times, their_times = [], []
    for _ in range(repeats):
        for fn, times in ((ours, our_times), (theirs, their_times)):
            start = time.perf_counter()
            for _ in range(inner):
                fn()
            times.append((time.perf_counter() - start) / inner)
    return statistics.median(our_times), statistics.median(their_times)


def peak_memory(library: str) -> float:
    """Peak resident memory (MB) of a fresh process doing learn_mnist's default run (CNN, 2 epochs)."""
    if library == "edugrad":
        command = [sys.executable, str(ROOT / "applications" / "learn_mnist.py")]
    else:
        command = [sys.executable, str(Path(__file__).with_name("torch_mnist.py"))]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "TQDM_DISABLE": "1"})
    _, status, usage = os.wait4(process.pid, 0)  # the resource usage of this one child
    if status != 0:
        raise RuntimeError(f"peak_memory: {' '.join(command)} failed")
    return usage.ru_maxrss / 1024  # kilobytes on Linux


def row(name: str, ours: float, theirs: float, unit: str, target: float) -> str:
    ratio = ours / theirs
    verdict = "yes" if ratio <= target else "NO"
    return f"| {name} | {ours:.3g} {unit} | {theirs:.3g} {unit} | {ratio:.2f}x | <= {target}x | {verdict} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--scaling", action="store_true")
    parser.add_argument("--no-memory", action="store_true")
    args = parser.parse_args()
    repeats = 5 if args.quick else args.repeats
    edugrad.manual_seed(0)
    torch.manual_seed(0)

    print(f"torch {torch.__version__} ({torch.get_num_threads()} threads), numpy {np.__version__}, "
          f"{os.cpu_count()} cores\n")
    print("| workload | edugrad | PyTorch | ratio | target | met |")
    print("|---|---|---|---|---|---|")
    ours, theirs = compare(*step_functions("mlp", 128), repeats=repeats, inner=10)
    print(row("MLP 784-128-10, batch 128, Adam: one training step", ours * 1e3, theirs * 1e3, "ms", 1.5), flush=True)
    ours, theirs = compare(*step_functions("cnn", 128), repeats=repeats, inner=2)
    print(row("learn_mnist CNN, batch 128, Adam: one training step", ours * 1e3, theirs * 1e3, "ms", 2), flush=True)
    ours, theirs = compare(*inference_functions(), repeats=max(repeats // 3, 3))
    print(row("learn_mnist CNN: inference on 10,000 images", ours, theirs, "s", 2), flush=True)
    ours, theirs = compare(*dispatch_functions(), repeats=max(repeats // 3, 3))
    print(row("3,000-op elementwise chain on 16 elements, fwd+bwd, per op", ours / CHAIN * 1e6,
              theirs / CHAIN * 1e6, "us", 2), flush=True)
    if not args.no_memory:
        ours_mb, theirs_mb = peak_memory("edugrad"), peak_memory("torch")
        print(row("peak resident memory, learn_mnist default run (CNN, 2 epochs)", ours_mb, theirs_mb, "MB", 1.5))

    if args.scaling:
        print("\nStep time (ms) against batch size and width, edugrad / PyTorch:\n")
        print("| model | batch | width | edugrad | PyTorch | ratio |")
        print("|---|---|---|---|---|---|")
        settings = [("mlp", b, 128) for b in (32, 128, 512)] + [("mlp", 128, w) for w in (512, 2048)] + \
            [("cnn", b, 0) for b in (32, 128, 512)]
        for kind, batch, width in settings:
            ours, theirs = compare(*step_functions(kind, batch, width or 128), repeats=max(repeats // 3, 5),
                                   inner=2 if kind == "cnn" else 5)
            print(f"| {kind} | {batch} | {width or '-'} | {ours * 1e3:.2f} | {theirs * 1e3:.2f} | "
                  f"{ours / theirs:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
