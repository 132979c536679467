"""Each backend trains a small MLP on real MNIST digits: the end-to-end proof that a backend works.

A process picks its backend once, before its first tensor, so each run happens in a fresh
interpreter that runs this file as a script with EDUGRAD_BACKEND set; it prints the mean loss of
every epoch and the accuracy on held-out test images as JSON. The pure-Python backend gets a
small subset (a few seconds of training), torch enough data to pass 80%.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
MEAN, STD = 0.1307, 0.3081  # of the MNIST training pixels, as in applications/learn_mnist.py


def train_mlp(train_size: int, test_size: int, width: int, batch_size: int, epochs: int, lr: float) -> dict[str, Any]:
    """Train 784-width-10 with Adam on the first `train_size` training images, in this process's backend.

    Returns the backend's class name, the mean training loss of each epoch and the accuracy on
    the first `test_size` test images (which training never sees)."""
    import edugrad
    import edugrad.nn.functional as F
    from edugrad import Tensor, nn, optim
    from edugrad.backend import get_backend
    from edugrad.datasets import load_mnist
    from edugrad.utils.data import DataLoader, TensorDataset

    def flat(images: np.ndarray) -> np.ndarray:
        return ((images.astype(np.float32) / 255.0 - MEAN) / STD).reshape(len(images), 784)

    train_images, train_labels, test_images, test_labels = load_mnist(download=False)
    edugrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, width), nn.ReLU(), nn.Linear(width, 10))
    optimizer = optim.Adam(model.parameters(), lr=lr)
    batches = DataLoader(TensorDataset(Tensor(flat(train_images[:train_size])), Tensor(train_labels[:train_size])),
                         batch_size=batch_size, shuffle=True)
    epoch_losses = []
    for _ in range(epochs):
        losses = []
        for images, labels in batches:
            loss = F.cross_entropy(model(Tensor(images)), Tensor(labels))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        epoch_losses.append(float(np.mean(losses)))
    with edugrad.no_grad():
        predictions = model(Tensor(flat(test_images[:test_size]))).argmax(1).numpy()
    accuracy = float((predictions == test_labels[:test_size]).mean())
    return {"backend": get_backend().__name__, "epoch_losses": epoch_losses, "accuracy": accuracy}


def train_in_subprocess(backend: str, **settings: Any) -> dict[str, Any]:
    """Run `train_mlp(**settings)` in a fresh interpreter whose EDUGRAD_BACKEND is `backend`."""
    env = {k: v for k, v in os.environ.items() if k not in ("EDUGRAD_BACKEND", "EDUGRAD_DEVICE")}
    env["EDUGRAD_BACKEND"] = backend
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, __file__, json.dumps(settings)], env=env, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_python_backend_trains_the_mlp_on_a_small_mnist_subset() -> None:
    """256 images, 2 epochs of batch 16 (32 steps): a few seconds in pure Python, ~55% on 200 test images."""
    result = train_in_subprocess("python", train_size=256, test_size=200, width=16, batch_size=16, epochs=2, lr=0.01)
    assert result["backend"] == "PythonData"
    first, last = result["epoch_losses"][0], result["epoch_losses"][-1]
    assert last < 0.75 * first, f"the loss did not go down: epoch means {result['epoch_losses']}"
    assert result["accuracy"] > 0.4, f"accuracy {result['accuracy']:.1%} on 200 test images (chance is 10%)"


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed")
def test_torch_backend_trains_the_mlp_past_80_percent() -> None:
    """5,000 images, 2 epochs of batch 64: under a second of training, ~87% on 1,000 test images."""
    result = train_in_subprocess("torch", train_size=5000, test_size=1000, width=32, batch_size=64, epochs=2, lr=3e-3)
    assert result["backend"] == "TorchData"
    assert result["epoch_losses"][-1] < result["epoch_losses"][0]
    assert result["accuracy"] >= 0.8, f"accuracy {result['accuracy']:.1%} on 1,000 test images"


if __name__ == "__main__":
    print(json.dumps(train_mlp(**json.loads(sys.argv[1]))))
