"""learn_mnist's pieces on the real data: a short training run must generalise, and the flags work."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

import edugrad
from edugrad import Tensor, optim
from edugrad.datasets import load_mnist
from edugrad.utils.data import DataLoader, TensorDataset

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "applications"))
import learn_mnist  # noqa: E402


class Silent:
    """Stands in for the tqdm bar."""

    def set_postfix(self, **kwargs: object) -> None:
        pass

    def update(self, n: int) -> None:
        pass


def train_briefly(kind: str, train_count: int, test_count: int) -> tuple[float, list[float]]:
    """One epoch on the first train_count training images; accuracy on the first test_count test
    images, which training never saw; and the loss of every step."""
    train_images, train_labels, test_images, test_labels = load_mnist()
    edugrad.manual_seed(0)
    model = learn_mnist.make_model(kind)
    optimizer = optim.Adam(model.parameters(), lr=2e-3)
    history: dict[str, list[float]] = {"loss": [], "train_accuracy": []}
    batches = DataLoader(TensorDataset(Tensor(learn_mnist.normalize(train_images[:train_count])),
                                       Tensor(train_labels[:train_count])), batch_size=64, shuffle=True)
    learn_mnist.train_epoch(model, optimizer, batches, Silent(), history)  # type: ignore[arg-type]
    accuracy = learn_mnist.evaluate(model, learn_mnist.normalize(test_images[:test_count]), test_labels[:test_count])
    return accuracy, history["loss"]


def test_short_mlp_run_reaches_90_percent_on_unseen_images() -> None:
    accuracy, losses = train_briefly("mlp", train_count=20_000, test_count=10_000)
    assert accuracy >= 0.90, f"test accuracy {accuracy:.3f} after one short epoch"
    assert np.mean(losses[-20:]) < np.mean(losses[:20])


def test_cnn_learns_on_a_small_subset() -> None:
    accuracy, _ = train_briefly("cnn", train_count=2000, test_count=1000)
    assert accuracy >= 0.70, f"CNN test accuracy {accuracy:.3f} after 2,000 images"


def test_flags_save_load_and_plot(tmp_path: Path) -> None:
    checkpoint, plot = tmp_path / "mnist.npz", tmp_path / "curves.png"
    script = str(ROOT / "applications" / "learn_mnist.py")
    env_run = dict(capture_output=True, text=True, check=True, cwd=tmp_path, timeout=300)
    trained = subprocess.run([sys.executable, script, "--model", "mlp", "--epochs", "1", "--limit", "3000",
                              "--save", str(checkpoint), "--plot", str(plot)], **env_run)  # type: ignore[call-overload]
    assert checkpoint.is_file() and plot.stat().st_size > 10_000
    accuracy = trained.stdout.strip().splitlines()[-1]
    assert accuracy.startswith("Test accuracy: ")
    loaded = subprocess.run([sys.executable, script, "--model", "mlp", "--load", str(checkpoint)], **env_run)  # type: ignore[call-overload]
    assert loaded.stdout.strip().splitlines()[-1] == accuracy  # the same model, evaluated again


def test_training_loop_takes_a_pytorch_dataloader() -> None:
    """Any iterable of numpy (images, labels) batches will do, e.g. torch's DataLoader."""
    import torch.utils.data

    train_images, train_labels, _, _ = load_mnist()
    images, labels = learn_mnist.normalize(train_images[:512]), train_labels[:512]

    def to_numpy(batch: list[tuple[np.ndarray, np.integer]]) -> tuple[np.ndarray, np.ndarray]:
        return np.stack([image for image, _ in batch]), np.array([label for _, label in batch])

    loader = torch.utils.data.DataLoader(list(zip(images, labels)), batch_size=64, shuffle=True,
                                         collate_fn=to_numpy)
    edugrad.manual_seed(0)
    model = learn_mnist.make_model("mlp")
    history: dict[str, list[float]] = {"loss": [], "train_accuracy": []}
    learn_mnist.train_epoch(model, optim.Adam(model.parameters()), loader, Silent(), history)  # type: ignore[arg-type]
    assert len(history["loss"]) == 8 and history["loss"][-1] < history["loss"][0]
