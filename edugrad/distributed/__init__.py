"""`torch.distributed` as PyTorch programs call it. edugrad runs in one process on one device, so
there is no process group: `is_available()` is False, which is what programs that support
distributed training check, and starting a group is refused with a message saying so."""

from __future__ import annotations

from typing import Any

__all__ = ["is_available", "is_initialized", "init_process_group", "destroy_process_group", "get_rank",
           "get_world_size", "barrier", "all_reduce"]

WHY = ("edugrad runs in one process on one device and has no distributed training; "
       "run the program without torchrun (world size 1)")


def is_available() -> bool:
    return False


def is_initialized() -> bool:
    return False


def init_process_group(*args: Any, **kwargs: Any) -> None:
    raise RuntimeError(f"init_process_group: {WHY}")


def not_initialized(op: str) -> RuntimeError:
    return RuntimeError(f"{op}: Default process group has not been initialized: {WHY}")


def destroy_process_group(*args: Any, **kwargs: Any) -> None:
    raise not_initialized("destroy_process_group")


def get_rank(*args: Any, **kwargs: Any) -> int:
    raise not_initialized("get_rank")


def get_world_size(*args: Any, **kwargs: Any) -> int:
    raise not_initialized("get_world_size")


def barrier(*args: Any, **kwargs: Any) -> None:
    raise not_initialized("barrier")


def all_reduce(*args: Any, **kwargs: Any) -> None:
    raise not_initialized("all_reduce")
