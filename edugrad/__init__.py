"""edugrad: a deep-learning framework written to be read, with PyTorch's API: `import edugrad as torch`.

Layers, bottom to top: ops.py (the primitive contract) -> backend/ (TensorData: numpy, torch,
pure Python) -> autograd.py (the graph: recording it and walking it backward) -> function.py (the
math of each differentiable op) -> tensor.py (the user's Tensor; inplace.py and indexing.py beside
it) -> creation.py (edugrad.zeros, ...) -> nn/, optim/, utils/data (models and training).
"""

# ruff: noqa: F401, I001  (a namespace of re-exports, in an order that matters: see the first line)
import builtins
import functools
from typing import Any, Callable

from edugrad import autograd  # first: the graph layer imports tensor.py once it is defined
from edugrad.autograd import enable_grad, inference_mode, is_grad_enabled, no_grad
from edugrad.backend import get_backend, set_backend
from edugrad.backend.threads import get_num_threads, set_num_threads
from edugrad.creation import (arange, as_tensor, cat, empty, empty_like, eye, from_numpy, full, full_like,
                              get_default_dtype, linspace, multinomial, ones, ones_like, rand,
                              rand_like, randint, randn, randn_like, randperm, set_default_dtype, stack, tensor,
                              zeros, zeros_like)
from edugrad.debug import AnomalyError, detect_anomaly, profile, trace
from edugrad.devices import Device as device
from edugrad.gradcheck import GradcheckError, gradcheck
from edugrad.graph import draw_graph, graph
from edugrad.ops import DType
from edugrad.random import Generator, default_generator, initial_seed, manual_seed, seed
from edugrad.tensor import Tensor, where
from edugrad import cuda, distributed, nn, optim, utils  # they build on everything above
from edugrad.nn import functional as _functional

# dtypes under PyTorch's names and aliases; the half-precision names exist and are refused when used
float32 = float = DType.float32
float64 = double = DType.float64
int32 = int = DType.int32
int64 = long = DType.int64
bool = DType.bool
float16, half, bfloat16, uint8, int8, int16, complex64 = "float16", "half", "bfloat16", "uint8", "int8", "int16", "complex64"
dtype = DType
Size = tuple  # a tensor's shape is a tuple, which is what torch.Size is



def with_out(method: Callable[..., Any], name: str) -> Callable[..., Any]:
    """The module-level function of a Tensor method: edugrad.exp(x) is x.exp(), and, as in PyTorch,
    edugrad.exp(x, out=y) writes the result into y (of the result's shape; outside autograd)."""

    @functools.wraps(method)
    def function(*args: Any, out: Tensor | None = None, **kwargs: Any) -> Any:
        result = method(*args, **kwargs)
        if out is None:
            return result
        if not isinstance(out, Tensor) or not isinstance(result, Tensor):
            raise TypeError(f"{name}: out= must be a Tensor, for an op whose result is one (got {type(out).__name__})")
        if is_grad_enabled() and (result.requires_grad or out.requires_grad):
            raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic differentiation, "
                               f"but one of the arguments requires grad")
        if out.shape != result.shape:
            raise RuntimeError(f"{name}: out= has shape {out.shape} but the result has shape {result.shape}; "
                               f"edugrad does not resize out, so pass a tensor of the result's shape")
        return out.copy_(result)

    return function


# Every Tensor method PyTorch also offers as a function: edugrad.exp(x) is x.exp().
for _name in ("abs", "exp", "exp2", "log", "log2", "log1p", "expm1", "sqrt", "rsqrt", "sin", "cos", "tan", "tanh",
              "sigmoid", "relu", "erf", "sign", "floor", "ceil", "round", "trunc", "frac", "square", "reciprocal",
              "neg", "clamp", "clip", "maximum", "minimum", "pow", "add", "sub", "mul", "div", "remainder",
              "matmul", "mm", "dot", "sum", "mean", "prod", "amax", "amin", "max", "min", "argmax", "argmin",
              "var", "std", "cumsum", "logsumexp", "softmax", "log_softmax", "all", "any", "count_nonzero",
              "reshape", "permute", "transpose", "t", "flatten", "unflatten", "squeeze", "unsqueeze", "flip", "roll",
              "narrow", "split", "chunk", "unbind", "tril", "triu", "gather", "index_select", "masked_select",
              "masked_fill", "nonzero", "topk", "sort", "argsort", "isnan", "isinf", "isfinite", "logical_not",
              "logical_and", "logical_or", "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor", "eq", "ne",
              "lt", "gt", "le", "ge", "numel", "clone", "detach", "lerp"):
    globals()[_name] = with_out(getattr(Tensor, _name), _name)
div = true_divide = divide = globals()["div"]
floor_divide = Tensor.__floordiv__
dropout = _functional.dropout


def is_tensor(obj: object) -> builtins.bool:  # the builtin: edugrad.bool is the dtype
    return isinstance(obj, Tensor)


def compile(model: object, *args: object, **kwargs: object) -> object:
    raise NotImplementedError("compile: edugrad has no compiler; it runs your model eagerly, op by op, so "
                              "you can step into each one. Remove the edugrad.compile call.")


from edugrad.serialization import load, save  # noqa: E402

__all__ = ["Tensor", "DType", "tensor", "no_grad", "enable_grad", "inference_mode", "is_grad_enabled", "get_backend",
           "set_backend", "manual_seed", "Generator", "seed", "initial_seed", "gradcheck", "GradcheckError", "draw_graph", "graph", "trace", "profile",
           "detect_anomaly", "AnomalyError", "device", "nn", "optim", "cuda", "distributed", "utils", "save", "load", "where"]
