"""Random streams, as PyTorch's `torch.Generator` and `torch.manual_seed` spell them.

Every random tensor starts as uniform samples in [0, 1) (the RANDOM primitive); a Generator is
where those samples come from. `default_generator` is the backend's own stream, the one
`edugrad.manual_seed` restarts and every function uses when given no `generator=`. A Generator
you make is a stream of its own, so code that passes it (`torch.randn(27, 27, generator=g)`)
gets the same numbers on every run whatever else draws random numbers meanwhile.

The numbers differ from PyTorch's for the same seed: the streams are numpy's (or the backend's),
not PyTorch's Philox and Mersenne Twister.
"""

from __future__ import annotations

import secrets
from typing import Any

import numpy as np

from edugrad.backend import TensorData, get_backend
from edugrad.devices import Device, device_of

DEFAULT_SEED = 67280421310721  # PyTorch's initial seed for its default generator


def check_seed(seed: Any, op: str) -> int:
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"{op}: seed must be an integer, got {seed!r}")
    return int(seed) % 2**64  # PyTorch accepts negative seeds, wrapping them the same way


class Generator:
    """A seeded stream of uniform samples: `g = edugrad.Generator().manual_seed(42)`."""

    def __init__(self, device: Any = "cpu") -> None:
        device_of(device, "Generator")  # refuses a device this backend cannot reach
        self.device = Device(device)
        self.manual_seed(DEFAULT_SEED)

    def manual_seed(self, seed: int) -> Generator:
        """Restart the stream; returns the generator, so `Generator().manual_seed(s)` is one line."""
        self._initial_seed = check_seed(seed, "Generator.manual_seed")
        self._rng = np.random.default_rng(self._initial_seed)
        return self

    def seed(self) -> int:
        """Restart the stream from a fresh nondeterministic seed, and return that seed."""
        self.manual_seed(secrets.randbits(63))
        return self._initial_seed

    def initial_seed(self) -> int:
        return self._initial_seed

    def uniform(self, shape: tuple[int, ...]) -> TensorData:
        """float32 samples in [0, 1) on a grid of 2**-24, as the backends' RANDOM makes them."""
        grid = self._rng.integers(0, 2**24, size=shape, dtype=np.int64)
        return get_backend().from_host((grid / 2**24).astype(np.float32))

    def __repr__(self) -> str:
        return f"<edugrad.Generator object, initial_seed={self._initial_seed}>"


class DefaultGenerator(Generator):
    """The backend's stream (its RANDOM op), which `edugrad.manual_seed` restarts."""

    def manual_seed(self, seed: int) -> Generator:
        self._initial_seed = check_seed(seed, "manual_seed")
        get_backend().seed(self._initial_seed)
        return self

    def uniform(self, shape: tuple[int, ...]) -> TensorData:
        return get_backend().random(shape)


default_generator: Generator = DefaultGenerator()


def manual_seed(seed: int) -> Generator:
    """Restart the default stream: the same seed gives the same rand/randn/dropout values.
    Returns the default generator, as PyTorch does."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default stream nondeterministically; returns the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def generator_of(generator: Any, op: str) -> Generator:
    """The stream `op` draws from: the one given, or the default."""
    if generator is None:
        return default_generator
    if not isinstance(generator, Generator):
        raise TypeError(f"{op}: generator must be an edugrad.Generator, got {type(generator).__name__}")
    return generator
