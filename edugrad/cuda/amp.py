"""Mixed precision, as `torch.cuda.amp` spells it. edugrad computes in float32 and float64 only, so
a GradScaler exists for programs that build one disabled (`GradScaler(enabled=False)`, the CPU
default) and refuses to be enabled."""

from __future__ import annotations

from typing import Any


class GradScaler:
    """With enabled=False every method is the identity, as PyTorch's disabled scaler."""

    def __init__(self, init_scale: float = 2.0 ** 16, growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True) -> None:
        if enabled:
            raise NotImplementedError("GradScaler: edugrad computes in float32 and float64, so there is no "
                                      "half-precision gradient to scale; use GradScaler(enabled=False)")
        self.enabled = False

    def scale(self, outputs: Any) -> Any:
        return outputs

    def step(self, optimizer: Any, *args: Any, **kwargs: Any) -> Any:
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale: float | None = None) -> None:
        pass  # nothing is scaled, so there is nothing to adjust

    def unscale_(self, optimizer: Any) -> None:
        pass  # nothing was scaled

    def is_enabled(self) -> bool:
        return False

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass  # a disabled scaler has no state, as in PyTorch


class autocast:
    """Refuses to compute in lower precision; enabled=False is a no-op context, as in PyTorch."""

    def __init__(self, *args: Any, enabled: bool = True, **kwargs: Any) -> None:
        if enabled:
            raise NotImplementedError("autocast: edugrad computes in float32 and float64; "
                                      "use autocast(enabled=False) or remove it")

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None
