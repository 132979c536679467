"""Choosing the backend: the class whose objects hold every tensor's data.

The choice comes from `EDUGRAD_BACKEND` (numpy, torch or python; numpy when unset) or from
`set_backend(name)` called before any tensor is made. Tensors of two backends never mix.
A backend that lives outside edugrad is named by its "module:Class" path, e.g.
`EDUGRAD_BACKEND=mypkg.mymod:MyData`, so adding one changes nothing here.
"""

from __future__ import annotations

import importlib
import os

from edugrad.backend.base import TensorData

BACKENDS: dict[str, str] = {
    "numpy": "edugrad.backend.numpy_backend:NumpyData",
    "torch": "edugrad.backend.torch_backend:TorchData",
    "python": "edugrad.backend.python_backend:PythonData",
}

_current: type[TensorData] | None = None


def load_backend(name: str) -> type[TensorData]:
    """Import and return the TensorData class of backend `name`, with a clear error if impossible.

    `name` is one of BACKENDS, or the "module:Class" path of any TensorData subclass."""
    if name in BACKENDS:
        path = BACKENDS[name]
    elif ":" in name:
        path = name
    else:
        raise ValueError(f"unknown edugrad backend {name!r}; available: {', '.join(BACKENDS)} "
                         "(or a TensorData subclass as 'module:Class')")
    module_name, _, class_name = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise ImportError(f"edugrad backend {name!r} needs a package that is not installed ({e}); "
                          f"available backends: {', '.join(BACKENDS)}") from e
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, TensorData)):
        raise TypeError(f"edugrad backend {name!r}: {module_name}.{class_name} is not a subclass of "
                        "edugrad.backend.base.TensorData")
    return cls


def set_backend(name: str) -> type[TensorData]:
    """Use backend `name` for all tensors made from now on; returns its TensorData class."""
    global _current
    _current = load_backend(name)
    return _current


def get_backend() -> type[TensorData]:
    """The TensorData class in use, chosen from EDUGRAD_BACKEND on first call."""
    if _current is None:
        return set_backend(os.environ.get("EDUGRAD_BACKEND", "numpy"))
    return _current


__all__ = ["TensorData", "BACKENDS", "get_backend", "set_backend", "load_backend"]
