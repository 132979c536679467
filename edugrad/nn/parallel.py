"""`torch.nn.parallel` and `nn.DataParallel`: running one model on several devices. edugrad has
one device, so DataParallel runs its module as it is (what PyTorch's does when there is no GPU),
and DistributedDataParallel, which needs a process group, is refused."""

from __future__ import annotations

from typing import Any, Sequence

from edugrad.distributed import WHY
from edugrad.nn.module import Module


class DataParallel(Module):
    """Wraps `module`; with one device, calling it calls the module. The module stays reachable as
    `.module`, so its state_dict keys gain the prefix "module." as in PyTorch."""

    def __init__(self, module: Module, device_ids: Sequence[Any] | None = None, output_device: Any = None,
                 dim: int = 0) -> None:
        super().__init__()
        if device_ids is not None and len(device_ids) > 1:
            raise RuntimeError(f"DataParallel: device_ids={list(device_ids)}: edugrad computes on one device")
        self.module = module

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        return self.module(*inputs, **kwargs)


class DistributedDataParallel(Module):
    def __init__(self, module: Module, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError(f"DistributedDataParallel: {WHY}")


__all__ = ["DataParallel", "DistributedDataParallel"]
