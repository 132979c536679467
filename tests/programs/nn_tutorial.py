"""The "What is torch.nn really?" tutorial of pytorch.org: logistic regression on MNIST-shaped
data written from scratch (manual weights, a hand-made log_softmax and negative log-likelihood,
in-place SGD under torch.no_grad), then refactored step by step into nn.Module, nn.Parameter,
nn.Linear, optim, TensorDataset, DataLoader and a small CNN.

MNIST is replaced by synthetic 28x28 digits-like images (a class-dependent blob on noise).
"""

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn, optim
from torch.utils.data import DataLoader, TensorDataset


def get_arrays(n, seed):
    """Ten classes, each a bright blob at its own place, on noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, size=n)
    x = rng.random((n, 28, 28), dtype=np.float32) * 0.3
    for i, label in enumerate(y):
        row, col = 4 + 2 * (label // 5) * 5, 3 + 4 * (label % 5)
        x[i, row:row + 6, col:col + 4] += 0.7
    return x.reshape(n, 784), y


def log_softmax(x):
    return x - x.exp().sum(-1).log().unsqueeze(-1)


def nll(input, target):
    return -input[range(target.shape[0]), target].mean()


def accuracy(out, yb):
    preds = torch.argmax(out, dim=1)
    return (preds == yb).float().mean()


class Mnist_Logistic(nn.Module):
    def __init__(self):
        super().__init__()
        self.weights = nn.Parameter(torch.randn(784, 10) / math.sqrt(784))
        self.bias = nn.Parameter(torch.zeros(10))

    def forward(self, xb):
        return xb @ self.weights + self.bias


class Lambda(nn.Module):
    def __init__(self, func):
        super().__init__()
        self.func = func

    def forward(self, x):
        return self.func(x)


def preprocess(x):
    return x.view(-1, 1, 28, 28)


def loss_batch(model, loss_func, xb, yb, opt=None):
    loss = loss_func(model(xb), yb)
    if opt is not None:
        loss.backward()
        opt.step()
        opt.zero_grad()
    return loss.item(), len(xb)


def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
    history = []
    for epoch in range(epochs):
        model.train()
        for xb, yb in train_dl:
            loss_batch(model, loss_func, xb, yb, opt)
        model.eval()
        with torch.no_grad():
            losses, nums = zip(*[loss_batch(model, loss_func, xb, yb) for xb, yb in valid_dl])
        val_loss = np.sum(np.multiply(losses, nums)) / np.sum(nums)
        print(epoch, val_loss)
        history.append(val_loss)
    return history


def main(initial_state=None, path=None):
    torch.manual_seed(0)
    x_train, y_train, x_valid, y_valid = map(torch.tensor, (*get_arrays(256, 0), *get_arrays(128, 1)))
    n, c = x_train.shape
    print(x_train, y_train, x_train.shape, y_train.min(), y_train.max())
    initial_state = initial_state or {"weights": (torch.randn(784, 10) / math.sqrt(784)).numpy(),
                                      "conv1": [p.detach().numpy() for p in nn.Conv2d(1, 8, 3, 2, 1).parameters()],
                                      "conv2": [p.detach().numpy() for p in nn.Conv2d(8, 10, 3, 2, 1).parameters()]}
    results = {"initial_state": initial_state}

    # From scratch: a weight matrix, a bias, and SGD written out by hand.
    weights = torch.tensor(initial_state["weights"])
    weights.requires_grad_()
    bias = torch.zeros(10, requires_grad=True)

    def model(xb):
        return log_softmax(xb @ weights + bias)

    loss_func = nll
    bs, lr, epochs = 64, 0.5, 2
    xb, yb = x_train[0:bs], y_train[0:bs]
    results["scratch_start"] = (loss_func(model(xb), yb).item(), accuracy(model(xb), yb).item())
    for epoch in range(epochs):
        for i in range((n - 1) // bs + 1):
            start_i = i * bs
            end_i = start_i + bs
            xb = x_train[start_i:end_i]
            yb = y_train[start_i:end_i]
            pred = model(xb)
            loss = loss_func(pred, yb)

            loss.backward()
            with torch.no_grad():
                weights -= weights.grad * lr
                bias -= bias.grad * lr
                weights.grad.zero_()
                bias.grad.zero_()
    results["scratch_end"] = (loss_func(model(xb), yb).item(), accuracy(model(xb), yb).item())
    print(results["scratch_start"], results["scratch_end"])

    # Refactored: F.cross_entropy, nn.Module with nn.Parameter, then the loop over parameters().
    loss_func = F.cross_entropy
    model = Mnist_Logistic()
    with torch.no_grad():
        model.weights.copy_(torch.tensor(initial_state["weights"]))
    results["module_start"] = loss_func(model(xb), yb).item()

    def fit_by_hand():
        for epoch in range(epochs):
            for i in range((n - 1) // bs + 1):
                start_i = i * bs
                end_i = start_i + bs
                xb = x_train[start_i:end_i]
                yb = y_train[start_i:end_i]
                pred = model(xb)
                loss = loss_func(pred, yb)

                loss.backward()
                with torch.no_grad():
                    for p in model.parameters():
                        p -= p.grad * lr
                    model.zero_grad()

    fit_by_hand()
    results["module_end"] = loss_func(model(xb), yb).item()
    print(results["module_start"], results["module_end"])

    # nn.Linear, optim.SGD, TensorDataset and DataLoader.
    model = nn.Linear(784, 10)
    with torch.no_grad():
        model.weight.copy_(torch.tensor(initial_state["weights"]).t())
        model.bias.zero_()
    opt = optim.SGD(model.parameters(), lr=lr)
    train_ds = TensorDataset(x_train, y_train)
    valid_ds = TensorDataset(x_valid, y_valid)
    train_dl = DataLoader(train_ds, batch_size=bs)
    valid_dl = DataLoader(valid_ds, batch_size=bs * 2)
    results["linear_history"] = fit(epochs, model, loss_func, opt, train_dl, valid_dl)
    results["linear_end"] = loss_func(model(xb), yb).item()

    # A CNN built with nn.Sequential and a Lambda layer, trained with momentum.
    model = nn.Sequential(
        Lambda(preprocess),
        nn.Conv2d(1, 8, kernel_size=3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(8, 10, kernel_size=3, stride=2, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        Lambda(lambda x: x.view(x.size(0), -1)),
    )
    with torch.no_grad():
        for p, value in zip([*model[1].parameters(), *model[3].parameters()],
                            initial_state["conv1"] + initial_state["conv2"]):
            p.copy_(torch.from_numpy(value))
        torch.nn.init.zeros_(model[3].bias)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    results["cnn_history"] = fit(2, model, loss_func, opt, train_dl, valid_dl)
    return results


if __name__ == "__main__":
    main()
