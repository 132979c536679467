"""edugrad: a deep-learning framework written to be read.

Layers, bottom to top: ops.py (the primitive contract) -> backend/ (TensorData: numpy, torch,
pure Python) -> function.py (differentiable Functions) -> autograd.py (the backward walk) ->
tensor.py (the user's Tensor) -> nn/, optim/ (models and training).
"""

from edugrad.autograd import enable_grad, is_grad_enabled, no_grad
from edugrad.backend import get_backend, set_backend
from edugrad.debug import AnomalyError, detect_anomaly, profile, trace
from edugrad.gradcheck import GradcheckError, gradcheck
from edugrad.graph import draw_graph, graph
from edugrad.ops import DType
from edugrad.tensor import Tensor
from edugrad.serialization import load, save
from edugrad import utils

float32, float64, int32, int64, bool_ = DType.float32, DType.float64, DType.int32, DType.int64, DType.bool
manual_seed = Tensor.manual_seed

__all__ = ["Tensor", "DType", "no_grad", "enable_grad", "is_grad_enabled", "get_backend", "set_backend",
           "float32", "float64", "int32", "int64", "bool_", "manual_seed", "gradcheck", "GradcheckError",
           "draw_graph", "graph", "trace", "profile", "detect_anomaly", "AnomalyError"]
