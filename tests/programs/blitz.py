"""The "Deep Learning with PyTorch: A 60 Minute Blitz" tutorial of pytorch.org: tensors, autograd
(Q.backward(gradient=...), grad_fn and next_functions), and LeNet trained one step with optim.SGD."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, input):
        c1 = F.relu(self.conv1(input))
        s2 = F.max_pool2d(c1, (2, 2))
        c3 = F.relu(self.conv2(s2))
        s4 = F.max_pool2d(c3, 2)
        s4 = torch.flatten(s4, 1)
        f5 = F.relu(self.fc1(s4))
        f6 = F.relu(self.fc2(f5))
        output = self.fc3(f6)
        return output


def main(initial_state=None, path=None):
    results = {}
    # Tensors
    data = [[1, 2], [3, 4]]
    x_data = torch.tensor(data)
    np_array = np.array(data)
    x_np = torch.from_numpy(np_array)
    x_ones = torch.ones_like(x_data)
    x_rand = torch.rand_like(x_data, dtype=torch.float)
    print(f"Ones Tensor: \n {x_ones} \n", f"Random Tensor: \n {x_rand} \n")
    shape = (2, 3,)
    rand_tensor = torch.rand(shape)
    ones_tensor = torch.ones(shape)
    zeros_tensor = torch.zeros(shape)
    print(rand_tensor.shape, ones_tensor.dtype, zeros_tensor.device)
    tensor = torch.ones(4, 4)
    if torch.cuda.is_available():
        tensor = tensor.to("cuda")
    print(f"First row: {tensor[0]}")
    print(f"First column: {tensor[:, 0]}")
    print(f"Last column: {tensor[..., -1]}")
    tensor[:, 1] = 0
    t1 = torch.cat([tensor, tensor, tensor], dim=1)
    y1 = tensor @ tensor.T
    y2 = tensor.matmul(tensor.T)
    y3 = torch.rand_like(y1)
    torch.matmul(tensor, tensor.T, out=y3)
    z1 = tensor * tensor
    z2 = tensor.mul(tensor)
    z3 = torch.rand_like(tensor)
    torch.mul(tensor, tensor, out=z3)
    agg = tensor.sum()
    agg_item = agg.item()
    print(agg_item, type(agg_item))
    tensor.add_(5)
    t = torch.ones(5)
    n = t.numpy()
    results["tensors"] = [x_np.numpy(), t1.numpy(), y1.numpy(), y2.numpy(), y3.numpy(), z1.numpy(), z2.numpy(),
                          z3.numpy(), agg_item, tensor.numpy(), n]

    # Autograd
    a = torch.tensor([2., 3.], requires_grad=True)
    b = torch.tensor([6., 4.], requires_grad=True)
    Q = 3*a**3 - b**2
    external_grad = torch.tensor([1., 1.])
    Q.backward(gradient=external_grad)
    print(9*a**2 == a.grad)
    print(-2*b == b.grad)
    results["autograd"] = [a.grad.numpy(), b.grad.numpy()]
    x = torch.rand(5, 5)
    y = torch.rand(5, 5)
    z = torch.rand((5, 5), requires_grad=True)
    a = x + y
    print(f"Does `a` require gradients?: {a.requires_grad}")
    b = x + z
    print(f"Does `b` require gradients?: {b.requires_grad}")
    results["requires_grad"] = [a.requires_grad, b.requires_grad]

    # Neural networks
    torch.manual_seed(0)
    net = Net()
    if initial_state is not None:
        net.load_state_dict({name: torch.from_numpy(value) for name, value in initial_state.items()})
    results["initial_state"] = {name: p.detach().numpy().copy() for name, p in net.named_parameters()}
    print(net)
    params = list(net.parameters())
    print(len(params))
    print(params[0].size())
    input = torch.from_numpy(np.random.default_rng(0).standard_normal((1, 1, 32, 32)).astype(np.float32))
    out = net(input)
    print(out)
    net.zero_grad()
    out.backward(torch.from_numpy(np.ones((1, 10), dtype=np.float32)))
    results["conv1_grad"] = net.conv1.weight.grad.numpy().copy()

    output = net(input)
    target = torch.arange(1, 11).float()
    target = target.view(1, -1)
    criterion = nn.MSELoss()
    loss = criterion(output, target)
    print(loss)
    results["graph"] = [loss.grad_fn is not None, loss.grad_fn.next_functions[0][0] is not None,
                        loss.grad_fn.next_functions[0][0].next_functions[0][0] is not None]
    print(loss.grad_fn)
    print(loss.grad_fn.next_functions[0][0])
    print(loss.grad_fn.next_functions[0][0].next_functions[0][0])
    net.zero_grad()
    print("conv1.bias.grad before backward")
    print(net.conv1.bias.grad)
    loss.backward()
    print("conv1.bias.grad after backward")
    print(net.conv1.bias.grad)
    results["conv1_bias_grad"] = net.conv1.bias.grad.numpy().copy()

    learning_rate = 0.01
    for f in net.parameters():
        f.data.sub_(f.grad.data * learning_rate)

    optimizer = optim.SGD(net.parameters(), lr=0.01)
    losses = []
    for _ in range(5):
        optimizer.zero_grad()
        output = net(input)
        loss = criterion(output, target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    results["losses"] = losses
    print(losses)
    return results


if __name__ == "__main__":
    main()
