"""pytorch/examples' DCGAN and the DCGAN tutorial of pytorch.org: a generator of ConvTranspose2d,
BatchNorm2d and ReLU, a discriminator of Conv2d, BatchNorm2d and LeakyReLU(0.2, inplace=True),
weights_init applied with model.apply (nn.init.normal_ and constant_ on .weight.data), BCELoss,
torch.full labels refilled with fill_, fake.detach() for the discriminator's step, and two Adam
optimizers with betas=(0.5, 0.999).

16x16 images of a bright diagonal stripe at a random offset instead of a photo dataset."""

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
import torch.utils.data

nc, nz, ngf, ndf = 1, 8, 8, 8


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find('Conv') != -1:
        nn.init.normal_(m.weight.data, 0.0, 0.02)
    elif classname.find('BatchNorm') != -1:
        nn.init.normal_(m.weight.data, 1.0, 0.02)
        nn.init.constant_(m.bias.data, 0)


class Generator(nn.Module):
    def __init__(self, ngpu):
        super(Generator, self).__init__()
        self.ngpu = ngpu
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, nc, 4, 2, 1, bias=False),
            nn.Tanh()
        )

    def forward(self, input):
        return self.main(input)


class Discriminator(nn.Module):
    def __init__(self, ngpu):
        super(Discriminator, self).__init__()
        self.ngpu = ngpu
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, 1, 4, 1, 0, bias=False),
            nn.Sigmoid()
        )

    def forward(self, input):
        output = self.main(input)
        return output.view(-1, 1).squeeze(1)


def stripes(n, seed):
    rng = np.random.default_rng(seed)
    images = -np.ones((n, 1, 16, 16), dtype=np.float32)
    for i in range(n):
        offset = rng.integers(-6, 7)
        for r in range(16):
            c = r + offset
            if 0 <= c < 16:
                images[i, 0, r, max(c - 1, 0):c + 2] = 1.0
    return torch.from_numpy(images)


def main(initial_state=None, path="netG.pth"):
    torch.manual_seed(999)
    device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    dataloader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(stripes(256, 0)), batch_size=32,
                                             shuffle=True)
    netG = Generator(1).to(device)
    netG.apply(weights_init)
    netD = Discriminator(1).to(device)
    netD.apply(weights_init)
    if initial_state is not None:
        netG.load_state_dict({k: torch.from_numpy(v) for k, v in initial_state["G"].items()})
        netD.load_state_dict({k: torch.from_numpy(v) for k, v in initial_state["D"].items()})
    start = {name: {k: t.detach().numpy().copy() for k, t in [*net.named_parameters(), *net.named_buffers()]}
             for name, net in (("G", netG), ("D", netD))}
    stds = [netG.main[0].weight.std().item(), netD.main[3].weight.mean().item()]
    print(netG)
    print(netD)

    criterion = nn.BCELoss()
    fixed_noise = torch.randn(16, nz, 1, 1, device=device)
    real_label = 1.
    fake_label = 0.
    optimizerD = optim.Adam(netD.parameters(), lr=0.0005, betas=(0.5, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=0.0005, betas=(0.5, 0.999))

    G_losses, D_losses, D_x_history = [], [], []
    for epoch in range(4):
        for i, data in enumerate(dataloader, 0):
            # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
            netD.zero_grad()
            real_cpu = data[0].to(device)
            b_size = real_cpu.size(0)
            label = torch.full((b_size,), real_label, dtype=torch.float, device=device)
            output = netD(real_cpu).view(-1)
            errD_real = criterion(output, label)
            errD_real.backward()
            D_x = output.mean().item()

            noise = torch.randn(b_size, nz, 1, 1, device=device)
            fake = netG(noise)
            label.fill_(fake_label)
            output = netD(fake.detach()).view(-1)
            errD_fake = criterion(output, label)
            errD_fake.backward()
            D_G_z1 = output.mean().item()
            errD = errD_real + errD_fake
            optimizerD.step()

            # (2) Update G network: maximize log(D(G(z)))
            netG.zero_grad()
            label.fill_(real_label)
            output = netD(fake).view(-1)
            errG = criterion(output, label)
            errG.backward()
            D_G_z2 = output.mean().item()
            optimizerG.step()

            if i % 4 == 0:
                print('[%d/%d][%d/%d]\tLoss_D: %.4f\tLoss_G: %.4f\tD(x): %.4f\tD(G(z)): %.4f / %.4f'
                      % (epoch, 4, i, len(dataloader), errD.item(), errG.item(), D_x, D_G_z1, D_G_z2))
            G_losses.append(errG.item())
            D_losses.append(errD.item())
            D_x_history.append(D_x)

    with torch.no_grad():
        fake = netG(fixed_noise).detach().cpu()
    torch.save(netG.state_dict(), path)
    return {"initial_state": start, "G_losses": G_losses, "D_losses": D_losses, "D_x": D_x_history,
            "fake": fake.numpy(), "init_stats": stds}


if __name__ == "__main__":
    main()
