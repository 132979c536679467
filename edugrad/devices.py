"""Where data lives. edugrad's numpy and pure-Python backends compute on the CPU; the torch backend
on the CPU or, with EDUGRAD_DEVICE=cuda, a GPU. A tensor's device is its backend's: `.to(device)`
accepts that device and refuses any other with a message that says how to get it."""

from __future__ import annotations

from typing import Any

from edugrad.backend import get_backend


class Device:
    """PyTorch's `torch.device`: a type ("cpu" or "cuda") and an optional index."""

    def __init__(self, type: Any, index: int | None = None):
        if isinstance(type, Device):
            type, index = type.type, type.index if index is None else index
        text = str(type)
        if ":" in text:
            text, _, number = text.partition(":")
            index = int(number)
        if text not in ("cpu", "cuda", "meta", "mps"):
            raise RuntimeError(f"device: expected one of cpu, cuda, ... device type at start of device "
                               f"string: {text!r}")
        self.type: str = text
        self.index: int | None = index

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            other = Device(other)
        return isinstance(other, Device) and self.type == other.type and (
            self.index is None or other.index is None or self.index == other.index)

    def __hash__(self) -> int:
        return hash(self.type)

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type={self.type!r}{index})"


def backend_device() -> Device:
    """The device the backend in use computes on."""
    return Device(getattr(get_backend(), "device", "cpu"))


def device_of(device: Any, op: str) -> Device:
    """The device `device` names, refused unless the backend in use computes there."""
    here = backend_device()
    if device is None:
        return here
    wanted = Device(device if not isinstance(device, int) else f"cuda:{device}")
    if wanted.type != here.type:
        how = ("start with EDUGRAD_BACKEND=torch EDUGRAD_DEVICE=cuda on a machine with a GPU"
               if wanted.type == "cuda" else f"this backend computes on {here}")
        raise RuntimeError(f"{op}: cannot put a tensor on {wanted}: edugrad's data lives on {here} "
                           f"({get_backend().__name__}); {how}")
    return here
