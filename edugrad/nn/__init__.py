"""edugrad.nn: building blocks for models, with PyTorch's names.

    from edugrad import nn
    import edugrad.nn.functional as F

    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    loss = nn.CrossEntropyLoss()(model(x), y)

`Module` (module.py) is the base class; layers.py holds the layers with weights, normalization.py,
activation.py, loss.py and container.py the rest; functional.py the same operations as functions;
init.py the weight initialisation schemes (`nn.init.kaiming_uniform_`, ...).
"""

from edugrad.nn import functional, init, parallel, utils
from edugrad.nn.activation import GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Tanh
from edugrad.nn.container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from edugrad.nn.layers import (
                               AdaptiveAvgPool2d,
                               AvgPool2d,
                               Conv2d,
                               ConvTranspose2d,
                               Dropout,
                               Embedding,
                               Flatten,
                               Identity,
                               Linear,
                               MaxPool2d,
                               Unflatten,
)
from edugrad.nn.loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from edugrad.nn.module import IncompatibleKeys, Module, Parameter
from edugrad.nn.normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from edugrad.nn.parallel import DataParallel

__all__ = [
    "Module", "Parameter", "IncompatibleKeys", "functional", "init", "utils", "parallel", "DataParallel",
    "Linear", "Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Embedding", "Dropout",
    "Flatten", "Unflatten", "Identity", "BatchNorm1d", "BatchNorm2d", "LayerNorm",
    "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict",
    "ReLU", "Tanh", "Sigmoid", "GELU", "SiLU", "LeakyReLU", "Softmax", "LogSoftmax",
    "CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "BCEWithLogitsLoss", "BCELoss",
]
