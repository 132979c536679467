"""`torch.cuda` as a PyTorch program calls it. edugrad reaches a GPU only through the torch backend
(EDUGRAD_BACKEND=torch EDUGRAD_DEVICE=cuda); otherwise `is_available()` is False and programs
that check it, as most do, run on the CPU."""

from __future__ import annotations

from edugrad.backend import get_backend
from edugrad.cuda import amp

__all__ = ["is_available", "device_count", "manual_seed", "manual_seed_all", "synchronize", "amp"]


def is_available() -> bool:
    return getattr(get_backend(), "device", "cpu") == "cuda"


def device_count() -> int:
    return int(is_available())


def manual_seed(seed: int) -> None:
    """Seeds the GPU's random stream; edugrad has one stream per backend, seeded by edugrad.manual_seed."""
    if is_available():
        get_backend().seed(seed)


manual_seed_all = manual_seed


def synchronize() -> None:
    """Wait for the GPU: edugrad's ops return when their results are ready, so there is nothing to wait for."""
