"""learn_mnist's default run, in PyTorch: the reference for the peak-memory row of bench.py.

Same data (edugrad's verified loader), same CNN, same batch size and optimizer."""

from __future__ import annotations

import argparse

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from edugrad.datasets import load_mnist

MEAN, STD = 0.1307, 0.3081


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    train_images, train_labels, test_images, test_labels = load_mnist()
    train_x = ((train_images.astype(np.float32) / 255.0 - MEAN) / STD)[:, None]
    test_x = ((test_images.astype(np.float32) / 255.0 - MEAN) / STD)[:, None]
    torch.manual_seed(0)
    tnn = torch.nn
    model = tnn.Sequential(tnn.Conv2d(1, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Conv2d(16, 32, 5), tnn.ReLU(),
                           tnn.MaxPool2d(2), tnn.Flatten(), tnn.Linear(32 * 4 * 4, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train = TensorDataset(torch.from_numpy(train_x), torch.from_numpy(train_labels.copy()))
    test = TensorDataset(torch.from_numpy(test_x), torch.from_numpy(test_labels.copy()))
    for _ in range(args.epochs):
        model.train()
        for x, y in DataLoader(train, batch_size=128, shuffle=True):
            loss = torch.nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        correct = sum(int((model(x).argmax(1) == y).sum()) for x, y in DataLoader(test, batch_size=1000))
    print(f"Test accuracy: {100 * correct / len(test_labels):.2f}%")


if __name__ == "__main__":
    main()
