"""The workloads that bench.py times, run in a process of their own, in one library.

    OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 MKL_NUM_THREADS=2 \\
        python benchmarks/workloads.py torch INPUTS mlp cnn --threads 2

bench.py starts this file in a fresh process per measurement, with the weights, batches and
repetition counts it wrote to INPUTS/<workload>.npz and the thread count in the environment:
numpy's OpenBLAS and PyTorch read those variables once, as they load, so they must be set before
the process starts. For each workload it prints one line of JSON: the seconds of each timed call,
and the memory the warm-up calls added (see `measure`).

Each workload is written once for both libraries: edugrad spells `nn`, `optim`,
`nn.functional` and `no_grad` as PyTorch does, so `library.module` is either `edugrad` or
`torch` and the same lines run on both. What differs is in `Library`.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "applications"))

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
Inputs = dict[str, np.ndarray]


@dataclass
class Library:
    """The few things edugrad and PyTorch do not share for these workloads."""

    name: str
    module: ModuleType  # edugrad or torch: its .nn, .optim and .no_grad are spelled alike
    version: str
    threads: int  # as the library reports it (edugrad: numpy's OpenBLAS, set by the environment)
    tensor: Callable[[np.ndarray], Any]  # a numpy array -> a tensor of this library, copied
    mnist_model: Callable[[str], Any]  # learn_mnist's make_model("mlp" | "cnn")
    gpt: Callable[[Any], Any]  # learn_shakespeare's GPT(config)


def load_library(name: str, threads: int) -> Library:
    if name == "edugrad":
        from learn_mnist import make_model
        from learn_shakespeare import GPT

        import edugrad

        return Library("edugrad", edugrad, f"numpy {np.__version__}", threads, edugrad.tensor, make_model, GPT)
    import torch
    from torch_mnist import make_model as torch_mnist_model
    from torch_shakespeare import GPT as TorchGPT

    torch.set_num_threads(threads)
    return Library("torch", torch, torch.__version__, torch.get_num_threads(), torch.tensor, torch_mnist_model,
                   TorchGPT)


def load_weights(library: Library, model: Any, inputs: Inputs) -> None:
    """The weights bench.py handed over (edugrad's initial ones) under their state_dict names."""
    state = {key.removeprefix("state."): library.tensor(array) for key, array in inputs.items()
             if key.startswith("state.")}
    model.load_state_dict(state)


def training_step(library: Library, model: Any, optimizer: Any, inputs: Inputs,
                  clip: float | None = None) -> Callable[[], float]:
    """One training step per call, on the handed-over batches in turn: forward, cross-entropy,
    backward, the gradient clipped if `clip` is given, the optimizer's step; returns `loss.item()`
    (bench.py checks that both libraries start from the same loss)."""
    F = library.module.nn.functional
    batches = [(library.tensor(x), library.tensor(y)) for x, y in zip(inputs["x"], inputs["y"])]
    turn = itertools.cycle(batches)

    def step() -> float:
        x, y = next(turn)
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))  # a GPT's (B, T) targets too
        optimizer.zero_grad()
        loss.backward()
        if clip is not None:
            library.module.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        return float(loss.item())

    return step


def mnist_step(library: Library, inputs: Inputs, kind: str) -> Callable[[], float]:
    """learn_mnist's training step: Adam, learning rate 1e-3."""
    model = library.mnist_model(kind)
    load_weights(library, model, inputs)
    model.train()
    return training_step(library, model, library.module.optim.Adam(model.parameters(), lr=1e-3), inputs)


def cnn_inference(library: Library, inputs: Inputs) -> Callable[[], None]:
    """learn_mnist's evaluate: the CNN's predicted digits for all images, in batches, no graph."""
    model = library.mnist_model("cnn")
    load_weights(library, model, inputs)
    model.eval()
    images, batch_size = inputs["images"], int(inputs["batch_size"])

    def infer() -> None:
        with library.module.no_grad():
            for i in range(0, len(images), batch_size):
                model(library.tensor(images[i:i + batch_size])).argmax(1).numpy()

    return infer


def gpt_step(library: Library, inputs: Inputs) -> Callable[[], float]:
    """learn_shakespeare's training step without its learning-rate schedule: AdamW that decays only
    the matrices, betas (0.9, 0.99), the gradient norm clipped to 1."""
    from learn_shakespeare import GPTConfig

    config = GPTConfig(**{key.removeprefix("config."): value.item() for key, value in inputs.items()
                          if key.startswith("config.")})
    model = library.gpt(config)
    load_weights(library, model, inputs)
    model.train()
    matrices = [p for p in model.parameters() if p.ndim >= 2]
    others = [p for p in model.parameters() if p.ndim < 2]
    optimizer = library.module.optim.AdamW([{"params": matrices, "weight_decay": 0.1},
                                            {"params": others, "weight_decay": 0.0}], lr=1e-3, betas=(0.9, 0.99))
    return training_step(library, model, optimizer, inputs, clip=1.0)


def embedding(library: Library, inputs: Inputs) -> Callable[[], None]:
    """A GPT-2-sized token embedding: look up the tokens, sum, backward into a fresh gradient of
    the whole table (as after optimizer.zero_grad())."""
    table = library.module.nn.Embedding(*inputs["state.weight"].shape)
    load_weights(library, table, inputs)
    tokens = library.tensor(inputs["tokens"])

    def forward_backward() -> None:
        table.zero_grad()
        table(tokens).sum().backward()

    return forward_backward


def elementwise_chain(library: Library, inputs: Inputs) -> Callable[[], None]:
    """Many ops on 16 numbers, forward and backward: what each op costs beyond its arithmetic."""
    ops = int(inputs["ops"])
    ones = np.ones(16, np.float32)

    def chain() -> None:
        x = library.tensor(ones).requires_grad_()
        y = x
        for i in range(ops):
            y = y * 1.0001 if i % 2 else y + 0.5
        y.sum().backward()

    return chain


Run = Callable[[], float | None]  # one timed call; a training step returns its loss
WORKLOADS: dict[str, Callable[[Library, Inputs], Run]] = {
    "mlp": lambda library, inputs: mnist_step(library, inputs, "mlp"),
    "cnn": lambda library, inputs: mnist_step(library, inputs, "cnn"),
    "inference": cnn_inference,
    "gpt": gpt_step,
    "embedding": embedding,
    "chain": elementwise_chain,
}


def memory_mib(field: str) -> float | None:
    """VmRSS (resident now) or VmHWM (the peak since the last reset) of this process, from Linux's
    /proc; None elsewhere."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    match = re.search(rf"^{field}:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else None


def reset_peak_memory() -> bool:
    """Make VmHWM start again from the resident memory of now (Linux 4.0 and later)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def measure(run: Run, repeats: int, warmup: int) -> tuple[list[float], float | None, float | None]:
    """Seconds of each of `repeats` timed calls after `warmup` untimed ones; the memory (MiB) the
    warm-up calls needed above what the setup left resident (the first call's allocations:
    gradients, optimizer state, temporaries); and what the first call returned."""
    if warmup < 1:
        raise ValueError(f"measure: warmup must be at least 1, got {warmup}: the peak memory is measured on it")
    gc.collect()
    before = memory_mib("VmRSS")
    has_peak = reset_peak_memory()
    first = run()
    for _ in range(warmup - 1):
        run()
    peak = memory_mib("VmHWM")
    extra = peak - before if has_peak and peak is not None and before is not None else None
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - start)
    return seconds, extra, first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("library", choices=["edugrad", "torch"])
    parser.add_argument("inputs", type=Path, help="the folder where bench.py wrote WORKLOAD.npz for each workload")
    parser.add_argument("workloads", nargs="+", choices=list(WORKLOADS), help="run in this order, in this process")
    parser.add_argument("--threads", type=int, required=True)
    args = parser.parse_args()
    wrong = [f"{name}={os.environ.get(name)}" for name in THREAD_VARIABLES if os.environ.get(name) != str(args.threads)]
    if wrong:
        parser.error(f"--threads {args.threads}, but {', '.join(wrong)}: set them to {args.threads} before "
                     "starting Python, since numpy and torch read them as they load")

    library = load_library(args.library, args.threads)
    for workload in args.workloads:
        with np.load(args.inputs / f"{workload}.npz") as archive:
            inputs = dict(archive)
        repeats, warmup = int(inputs.pop("repeats")), int(inputs.pop("warmup"))
        seconds, extra_mib, first_loss = measure(WORKLOADS[workload](library, inputs), repeats, warmup)
        print(json.dumps({"workload": workload, "library": library.name, "version": library.version,
                          "threads": library.threads, "seconds": seconds, "peak_mib": extra_mib,
                          "first_loss": first_loss}), flush=True)

if __name__ == "__main__":
    main()
