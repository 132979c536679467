"""The "Quickstart" tutorial of pytorch.org: a Dataset, a DataLoader, a model moved to a device,
train and test loops, and the model saved and loaded with torch.save / torch.load.

FashionMNIST is replaced by small synthetic images of ten classes (a bright bar whose position is
the class, plus noise), so the program runs in seconds without a download.
"""

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset


class BarImages(Dataset):
    """28x28 images: class k has a bright horizontal bar at rows 2k..2k+2, on noise."""

    def __init__(self, size, seed):
        rng = np.random.default_rng(seed)
        self.labels = rng.integers(0, 10, size=size)
        self.images = rng.random((size, 1, 28, 28), dtype=np.float32) * 0.5
        for i, label in enumerate(self.labels):
            self.images[i, 0, 2 * label:2 * label + 3, 4:24] += 1.0

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        return torch.from_numpy(self.images[idx]), int(self.labels[idx])


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28 * 28, 64),
            nn.ReLU(),
            nn.Linear(64, 64),
            nn.ReLU(),
            nn.Linear(64, 10),
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


def train(dataloader, model, loss_fn, optimizer, device, losses):
    size = len(dataloader.dataset)
    model.train()
    for batch, (X, y) in enumerate(dataloader):
        X, y = X.to(device), y.to(device)

        pred = model(X)
        loss = loss_fn(pred, y)

        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

        losses.append(loss.item())
        if batch % 4 == 0:
            loss, current = loss.item(), (batch + 1) * len(X)
            print(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]")


def test(dataloader, model, loss_fn, device):
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            X, y = X.to(device), y.to(device)
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    test_loss /= num_batches
    correct /= size
    print(f"Test Error: \n Accuracy: {(100*correct):>0.1f}%, Avg loss: {test_loss:>8f} \n")
    return test_loss, correct


def main(initial_state=None, path="model.pth"):
    torch.manual_seed(0)
    training_data = BarImages(384, seed=0)
    test_data = BarImages(128, seed=1)
    batch_size = 64
    train_dataloader = DataLoader(training_data, batch_size=batch_size)
    test_dataloader = DataLoader(test_data, batch_size=batch_size)
    for X, y in test_dataloader:
        print(f"Shape of X [N, C, H, W]: {X.shape}")
        print(f"Shape of y: {y.shape} {y.dtype}")
        break

    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(f"Using {device} device")
    model = NeuralNetwork().to(device)
    if initial_state is not None:
        model.load_state_dict({name: torch.tensor(value) for name, value in initial_state.items()})
    start = {name: param.detach().cpu().numpy().copy() for name, param in model.named_parameters()}
    print(model)

    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=5e-2)
    losses, results = [], []
    epochs = 3
    for t in range(epochs):
        print(f"Epoch {t+1}\n-------------------------------")
        train(train_dataloader, model, loss_fn, optimizer, device, losses)
        results.append(test(test_dataloader, model, loss_fn, device))
    print("Done!")

    torch.save(model.state_dict(), path)
    print("Saved PyTorch Model State to model.pth")
    model = NeuralNetwork().to(device)
    model.load_state_dict(torch.load(path, weights_only=True))

    classes = ["bar at row %d" % (2 * k) for k in range(10)]
    model.eval()
    x, y = test_data[0][0], test_data[0][1]
    with torch.no_grad():
        x = x.to(device)
        pred = model(x.unsqueeze(0))
        predicted, actual = classes[pred[0].argmax(0)], classes[y]
        print(f'Predicted: "{predicted}", Actual: "{actual}"')
        reloaded_loss, reloaded_accuracy = test(test_dataloader, model, loss_fn, device)
    return {"initial_state": start, "losses": losses, "test": results,
            "reloaded": (reloaded_loss, reloaded_accuracy), "predicted": predicted, "actual": actual}


if __name__ == "__main__":
    main()
