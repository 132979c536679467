"""edugrad.optim: optimizers and learning-rate schedules, with PyTorch's names, defaults and update rules.

    opt = optim.Adam(model.parameters(), lr=1e-3)
    for x, y in batches:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
"""

from edugrad.optim import lr_scheduler
from edugrad.optim.adadelta import Adadelta
from edugrad.optim.adam import Adam, AdamW
from edugrad.optim.optimizer import Optimizer
from edugrad.optim.rmsprop import RMSprop
from edugrad.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adadelta", "lr_scheduler"]
