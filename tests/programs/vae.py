"""pytorch/examples' variational autoencoder: an encoder to mu and logvar, the reparameterisation
trick with torch.randn_like, a sigmoid decoder, and the loss binary cross-entropy + KL divergence,
trained with Adam; then samples decoded from torch.randn.

On synthetic 8x8 "images" (two bright squares at random places) instead of MNIST, with a 64-32-2
network, so that it runs in seconds."""

import numpy as np
import torch
import torch.utils.data
from torch import nn, optim
from torch.nn import functional as F


class VAE(nn.Module):
    def __init__(self):
        super(VAE, self).__init__()
        self.fc1 = nn.Linear(64, 32)
        self.fc21 = nn.Linear(32, 2)
        self.fc22 = nn.Linear(32, 2)
        self.fc3 = nn.Linear(2, 32)
        self.fc4 = nn.Linear(32, 64)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5*logvar)
        eps = torch.randn_like(std)
        return mu + eps*std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 64))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, 64), reduction='sum')
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD


def squares(n, seed):
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 1, 8, 8), dtype=np.float32)
    for i in range(n):
        for _ in range(2):
            r, c = rng.integers(0, 6, size=2)
            images[i, 0, r:r + 3, c:c + 3] = 1.0
    return torch.from_numpy(images)


def main(initial_state=None, path=None):
    torch.manual_seed(1)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    train_loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(squares(512, 0)),
                                               batch_size=64, shuffle=True)
    test_loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(squares(128, 1)),
                                              batch_size=64, shuffle=False)
    model = VAE().to(device)
    if initial_state is not None:
        model.load_state_dict({k: torch.from_numpy(v) for k, v in initial_state.items()})
    start = {k: p.detach().numpy().copy() for k, p in model.named_parameters()}
    optimizer = optim.Adam(model.parameters(), lr=1e-2)

    def train(epoch):
        model.train()
        train_loss = 0
        for batch_idx, (data,) in enumerate(train_loader):
            data = data.to(device)
            optimizer.zero_grad()
            recon_batch, mu, logvar = model(data)
            loss = loss_function(recon_batch, data, mu, logvar)
            loss.backward()
            train_loss += loss.item()
            optimizer.step()
        print('====> Epoch: {} Average loss: {:.4f}'.format(epoch, train_loss / len(train_loader.dataset)))
        return train_loss / len(train_loader.dataset)

    def test(epoch):
        model.eval()
        test_loss = 0
        with torch.no_grad():
            for i, (data,) in enumerate(test_loader):
                data = data.to(device)
                recon_batch, mu, logvar = model(data)
                test_loss += loss_function(recon_batch, data, mu, logvar).item()
                if i == 0:
                    n = min(data.size(0), 8)
                    comparison = torch.cat([data[:n], recon_batch.view(64, 1, 8, 8)[:n]])
        test_loss /= len(test_loader.dataset)
        print('====> Test set loss: {:.4f}'.format(test_loss))
        return test_loss, comparison.shape

    history = []
    for epoch in range(1, 9):
        history.append((train(epoch), *test(epoch)))
        with torch.no_grad():
            sample = torch.randn(16, 2).to(device)
            sample = model.decode(sample).cpu()
    return {"initial_state": start, "history": history, "sample": sample.numpy()}


if __name__ == "__main__":
    main()
