"""How long one MNIST training step takes on each edugrad backend: same models, optimizer and data.

    python benchmarks/backends.py                      # about 20 seconds on 2 cores
    python benchmarks/backends.py --repeats 5          # quicker, noisier
    OMP_NUM_THREADS=1 python benchmarks/backends.py    # on a busy or shared machine (see below)
    EDUGRAD_DEVICE=cuda python benchmarks/backends.py  # the torch backend on a GPU

A step is what applications/learn_mnist.py does per batch: forward, cross-entropy, backward and an
Adam update, ending with `loss.item()` (so a GPU has finished the step when the clock stops).
numpy and torch train learn_mnist's CNN and its 784-128-10 MLP on batches of 128. The pure-Python
backend is about a thousand times slower, so it trains the MLP on batches of 8 and the CNN on
batches of 2, for fewer steps: compare it with the others per image, not per step.
Each row is the median step after two warm-up steps; the header gives the machine's load.
When other programs hold the cores, BLAS threads that wait for one spin instead of sleeping and
can make a step several times slower: one thread per process gives figures that compare.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import edugrad.nn.functional as F
import edugrad
from edugrad import Tensor, optim
from edugrad.backend import set_backend
from edugrad.datasets import load_mnist

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "applications"))
from learn_mnist import make_model, normalize  # noqa: E402  (the exact models learn_mnist trains)

WORKLOADS = [  # (backend, model, batch size)
    ("numpy", "cnn", 128),
    ("numpy", "mlp", 128),
    ("torch", "cnn", 128),
    ("torch", "mlp", 128),
    ("python", "mlp", 8),
    ("python", "cnn", 2),
]
PYTHON_REPEATS = 5  # the pure-Python steps take seconds each


def step_time(backend: str, kind: str, batch_size: int, repeats: int) -> float:
    """Median seconds of one training step of model `kind` on `backend`, each step on a new batch."""
    set_backend(backend)  # every tensor below is made after this, so backends never mix
    edugrad.manual_seed(0)
    model = make_model(kind)
    model.train()
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    train_images, train_labels, _, _ = load_mnist(download=False)
    times = []
    for i in range(repeats + 2):
        images = normalize(train_images[i * batch_size : (i + 1) * batch_size])
        labels = train_labels[i * batch_size : (i + 1) * batch_size]
        start = time.perf_counter()
        loss = F.cross_entropy(model(Tensor(images)), Tensor(labels))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss.item()
        times.append(time.perf_counter() - start)
    return statistics.median(times[2:])


def machine_note() -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    note = f"{os.cpu_count()} CPU cores, load average {load}"
    if "torch" in sys.modules:
        import torch

        device = os.environ.get("EDUGRAD_DEVICE", "cpu")
        note += f"; torch {torch.__version__} on {device}, {torch.get_num_threads()} threads"
    return note


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=20, help="timed steps per row (at most 5 for python)")
    args = parser.parse_args()

    rows = []
    for backend, kind, batch_size in WORKLOADS:
        repeats = min(args.repeats, PYTHON_REPEATS) if backend == "python" else args.repeats
        try:
            seconds = step_time(backend, kind, batch_size, repeats)
        except ImportError as e:  # torch not installed: say so and go on
            print(f"skipping {backend}: {e}")
            continue
        rows.append((backend, kind, batch_size, seconds))
        print(f"{backend:>6} {kind}  batch {batch_size:>3}: {1000 * seconds:9.1f} ms/step", flush=True)

    print(f"\n{machine_note()}\n")
    print("| backend | model | batch | ms per step | ms per image |")
    print("|---|---|---:|---:|---:|")
    for backend, kind, batch_size, seconds in rows:
        print(f"| {backend} | {kind} | {batch_size} | {1000 * seconds:.1f} | {1000 * seconds / batch_size:.2f} |")


if __name__ == "__main__":
    main()
