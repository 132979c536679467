"""learn_mnist's run, in PyTorch: the reference for bench.py's MNIST rows.

    python benchmarks/torch_mnist.py                        # learn_mnist's default: the CNN, 2 epochs
    python benchmarks/torch_mnist.py --epochs 1 --limit 12800

The same data (edugrad's verified loader and learn_mnist's normalisation), the same models,
batch size, optimizer and test pass as applications/learn_mnist.py; `make_model` is also the
PyTorch twin that bench.py loads edugrad's weights into.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from edugrad.datasets import load_mnist

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "applications"))
from learn_mnist import normalize  # plain numpy: the same input for both libraries


def make_model(kind: str) -> nn.Module:
    """learn_mnist's make_model, spelled in PyTorch: the same layers under the same state_dict names."""
    if kind == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    return nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 4 * 4, 10),
    )


@torch.no_grad()
def evaluate(model: nn.Module, images: np.ndarray, labels: np.ndarray, batch_size: int = 1000) -> float:
    """Fraction of images whose predicted digit is right, as learn_mnist's evaluate."""
    model.eval()
    test = TensorDataset(torch.from_numpy(images), torch.from_numpy(labels.copy()))  # copy: load_mnist's is read-only
    correct = sum(int((model(x).argmax(1) == y).sum().item()) for x, y in DataLoader(test, batch_size=batch_size))
    return correct / len(labels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=["cnn", "mlp"], default="cnn")
    parser.add_argument("--epochs", type=int, default=None, help="default: 2 for cnn, 8 for mlp")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam's learning rate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None, help="train on only the first N images")
    args = parser.parse_args()
    epochs = args.epochs if args.epochs is not None else (2 if args.model == "cnn" else 8)

    train_images, train_labels, test_images, test_labels = load_mnist()
    train_x, test_x = normalize(train_images[:args.limit]), normalize(test_images)
    train_y = train_labels[:args.limit]
    torch.manual_seed(args.seed)
    model = make_model(args.model)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    batches = DataLoader(TensorDataset(torch.from_numpy(train_x), torch.from_numpy(train_y.copy())),
                         batch_size=args.batch_size, shuffle=True)
    for epoch in range(1, epochs + 1):
        model.train()
        for x, y in batches:
            loss = nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch}: test accuracy {100 * evaluate(model, test_x, test_labels):.2f}%")
    print(f"Test accuracy: {100 * evaluate(model, test_x, test_labels):.2f}%")


if __name__ == "__main__":
    main()
