"""Choosing a backend: by name, by EDUGRAD_BACKEND, and the errors when the choice cannot work."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable, Iterator

import pytest

import edugrad.backend as backend_module
from edugrad.backend import BACKENDS, TensorData, get_backend, load_backend, set_backend

REPO_ROOT = Path(__file__).resolve().parents[2]
HAS_TORCH = importlib.util.find_spec("torch") is not None
CLASS_NAMES = {"numpy": "NumpyData", "torch": "TorchData", "python": "PythonData"}


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter that imports this checkout of edugrad, with extra env vars."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("EDUGRAD_BACKEND", "EDUGRAD_DEVICE")}
    full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    full_env.update(env)
    return subprocess.run([sys.executable, "-c", code], env=full_env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)


@pytest.fixture
def restore_backend() -> Iterator[None]:
    """Put back whichever backend was chosen before the test."""
    saved = backend_module._current
    yield
    backend_module._current = saved


@pytest.mark.parametrize("choose", [load_backend, set_backend])
def test_unknown_backend_names_the_available_ones(
    choose: Callable[[str], type[TensorData]], restore_backend: None
) -> None:
    with pytest.raises(ValueError) as error:
        choose("tpu")
    message = str(error.value)
    assert "tpu" in message
    for name in BACKENDS:
        assert name in message


@pytest.mark.parametrize("name", ["numpy", "python"] + (["torch"] if HAS_TORCH else []))
def test_set_backend_changes_get_backend(name: str, restore_backend: None) -> None:
    cls = set_backend(name)
    assert cls.__name__ == CLASS_NAMES[name]
    assert get_backend() is cls


@pytest.mark.parametrize("name", ["numpy", "python"] + (["torch"] if HAS_TORCH else []))
def test_edugrad_backend_env_var_is_honoured(name: str) -> None:
    done = run_python("from edugrad.backend import get_backend; print(get_backend().__name__)", EDUGRAD_BACKEND=name)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == CLASS_NAMES[name]


def test_a_backend_outside_edugrad_is_named_by_module_and_class(restore_backend: None) -> None:
    cls = set_backend("edugrad.backend.python_backend:PythonData")
    assert cls.__name__ == "PythonData" and get_backend() is cls
    code = "from edugrad import Tensor; print(type(Tensor([1.0]).storage.data).__name__)"
    done = run_python(code, EDUGRAD_BACKEND="edugrad.backend.python_backend:PythonData")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "PythonData"


def test_a_module_class_path_that_is_no_backend_fails_clearly() -> None:
    with pytest.raises(TypeError, match="edugrad.ops.DType is not a subclass of edugrad.backend.base.TensorData"):
        load_backend("edugrad.ops:DType")
    with pytest.raises(TypeError, match="not a subclass"):
        load_backend("edugrad.ops:NoSuchClass")
    with pytest.raises(ImportError, match="'no_such_module:MyData' needs a package that is not installed"):
        load_backend("no_such_module:MyData")


def test_numpy_is_the_default() -> None:
    done = run_python("from edugrad.backend import get_backend; print(get_backend().__name__)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "NumpyData"


def test_unknown_edugrad_backend_env_var_fails_clearly() -> None:
    done = run_python("from edugrad.backend import get_backend; get_backend()", EDUGRAD_BACKEND="tpu")
    assert done.returncode != 0
    assert "ValueError" in done.stderr and "'tpu'" in done.stderr and "available: numpy, torch, python" in done.stderr


@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
def test_torch_backend_on_cuda_without_a_gpu_fails_clearly() -> None:
    # CUDA_VISIBLE_DEVICES="" hides any GPU from the child, so this runs on GPU machines too.
    code = (
        "import torch\n"
        "if torch.cuda.is_available(): print('GPU STILL VISIBLE'); raise SystemExit\n"
        "from edugrad.backend import load_backend\n"
        "load_backend('torch')\n"
    )
    done = run_python(code, EDUGRAD_BACKEND="torch", EDUGRAD_DEVICE="cuda", CUDA_VISIBLE_DEVICES="")
    if "GPU STILL VISIBLE" in done.stdout:
        pytest.skip("cannot hide the GPU from torch on this machine")
    assert done.returncode != 0
    assert "EDUGRAD_DEVICE='cuda'" in done.stderr and "is_available() is False" in done.stderr, done.stderr


@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
def test_torch_backend_with_a_bad_device_name_fails_clearly() -> None:
    done = run_python("from edugrad.backend import load_backend; load_backend('torch')", EDUGRAD_DEVICE="gpu0")
    assert done.returncode != 0
    assert "EDUGRAD_DEVICE='gpu0' is not a torch device name" in done.stderr, done.stderr
