"""pytorch/examples' regression example: fit a polynomial with one nn.Linear layer, updating the
parameters by hand with param.data.add_(-lr * param.grad) until the smooth L1 loss is small."""

import numpy as np
import torch
import torch.nn.functional as F

POLY_DEGREE = 4


def make_features(x):
    """Builds features i.e. a matrix with columns [x, x^2, x^3, x^4]."""
    x = x.unsqueeze(1)
    return torch.cat([x ** i for i in range(1, POLY_DEGREE+1)], 1)


def poly_desc(W, b):
    """Creates a string description of a polynomial."""
    result = "y = "
    for i, w in enumerate(W):
        result += "{:+.2f} x^{} ".format(w, i + 1)
    result += "{:+.2f}".format(b[0])
    return result


def main(initial_state=None, path=None):
    rng = np.random.default_rng(0)
    W_target = torch.from_numpy(rng.standard_normal((POLY_DEGREE, 1)).astype(np.float32)) * 5
    b_target = torch.from_numpy(rng.standard_normal(1).astype(np.float32)) * 5

    def f(x):
        """Approximated function."""
        return x.mm(W_target) + b_target.item()

    def get_batch(batch_size=32):
        """Builds a batch i.e. (x, f(x)) pair."""
        random = torch.from_numpy(rng.standard_normal(batch_size).astype(np.float32))
        x = make_features(random)
        y = f(x)
        return x, y

    torch.manual_seed(0)
    fc = torch.nn.Linear(W_target.size(0), 1)
    if initial_state is not None:
        fc.load_state_dict({name: torch.from_numpy(value) for name, value in initial_state.items()})
    start = {name: p.detach().numpy().copy() for name, p in fc.named_parameters()}

    losses = []
    for batch_idx in range(1, 2000):
        batch_x, batch_y = get_batch()
        fc.zero_grad()
        output = F.smooth_l1_loss(fc(batch_x), batch_y)
        loss = output.item()
        output.backward()
        for param in fc.parameters():
            param.data.add_(-0.1 * param.grad)
        losses.append(loss)
        if loss < 1e-3:
            break

    print('Loss: {:.6f} after {} batches'.format(loss, batch_idx))
    print('==> Learned function:\t' + poly_desc(fc.weight.view(-1), fc.bias))
    print('==> Actual function:\t' + poly_desc(W_target.view(-1), b_target))
    return {"initial_state": start, "losses": losses, "batches": batch_idx,
            "weight": fc.weight.detach().numpy(), "target": W_target.view(-1).numpy()}


if __name__ == "__main__":
    main()
