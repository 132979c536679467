"""Long runs: backward() releases the graph, so training for thousands of steps holds its memory flat."""

from __future__ import annotations

import gc
import os
import weakref

import numpy as np
import pytest

import edugrad.nn.functional as F
import edugrad
from edugrad import Tensor, nn, optim

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_mb() -> float:
    """Current resident set size (not the peak that getrusage reports), from /proc/self/statm."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / 1e6


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux's /proc to read current RSS")
def test_rss_stays_flat_over_2000_mlp_training_steps() -> None:
    edugrad.manual_seed(0)
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = optim.Adam(model.parameters(), lr=1e-3)
    images = rng.standard_normal((8, 32, 784)).astype(np.float32)  # a few batches, cycled
    labels = rng.integers(0, 10, size=(8, 32))

    def step(i: int) -> float:
        opt.zero_grad()
        loss = F.cross_entropy(model(Tensor(images[i % 8])), Tensor(labels[i % 8]))
        loss.backward()
        opt.step()
        return loss.item()

    for i in range(200):  # warm-up: Adam's state, numpy's and malloc's pools reach their size
        step(i)
    gc.collect()
    start = resident_mb()
    samples = []
    for i in range(200, 2000):
        last = step(i)
        if i % 200 == 0:
            samples.append(resident_mb() - start)
    growth = resident_mb() - start
    assert np.isfinite(last)
    # A leaked graph would grow by its activations (~100 kB here) every step, ~180 MB in all.
    assert growth < 50, f"RSS grew {growth:.1f} MB over 1,800 steps (samples: {[round(s, 1) for s in samples]})"


def test_backward_frees_intermediates_the_user_dropped() -> None:
    x = Tensor(np.ones((4, 3), np.float32))
    w = Tensor(np.full((3, 5), 0.5, np.float32), requires_grad=True)
    hidden = (x @ w).relu()
    hidden_ref, ctx_ref = weakref.ref(hidden), weakref.ref(hidden._ctx)  # type: ignore[arg-type]
    array = getattr(hidden.data, "array", None)  # the numpy backend's buffer, saved by Relu as its output
    array_ref = weakref.ref(array) if isinstance(array, np.ndarray) else None
    loss = (hidden * hidden).sum()
    del hidden, array
    gc.collect()
    assert hidden_ref() is not None, "before backward the graph keeps the intermediate alive"

    loss.backward()
    assert loss._ctx is not None and loss._ctx.released  # the last Function let go of everything
    assert hidden_ref() is None and ctx_ref() is None  # freed by reference counting alone: no gc needed
    assert array_ref is None or array_ref() is None
    assert w.grad is not None and w.grad._ctx is None  # gradients are leaves: they hold no graph


def test_optimizer_step_builds_no_graph() -> None:
    model = nn.Linear(4, 2)
    opt = optim.Adam(model.parameters())
    model(edugrad.ones(3, 4)).sum().backward()
    opt.step()
    for p in model.parameters():
        assert p.is_leaf and p.requires_grad
        assert all(getattr(v, "_ctx", None) is None for v in opt.state[p].values())


def test_graph_dropped_without_backward_is_freed() -> None:
    """An evaluation pass that never calls backward (and forgot no_grad) is freed with its result."""
    model = nn.Linear(4, 2)
    out = model(edugrad.ones(3, 4)).relu()
    ctx_ref = weakref.ref(out._ctx)  # type: ignore[arg-type]
    del out
    assert ctx_ref() is None
