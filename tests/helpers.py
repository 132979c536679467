"""The one test helper: run an op in edugrad and in PyTorch on the same inputs, compare both ways.

    check(lambda x, y: x @ y, [(3, 4), (4, 5)])

makes seeded random float32 inputs of those shapes, runs the function on edugrad tensors and on
torch tensors holding the same values, compares the outputs (shape, dtype, requires_grad and
values), then sends the same random upstream gradient back through both and compares every input's
gradient: where torch has a gradient (zeros included) edugrad must have one, of the same shape,
dtype and values; where torch has none, edugrad must have none or zeros.
edugrad mirrors torch's spelling, so one lambda usually serves both; when it doesn't, pass the
torch version as `torch_fn`.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, Sequence

import numpy as np
import torch

from edugrad import Tensor


def check(fn: Callable[..., Any], inputs: Sequence[Any] = (), torch_fn: Callable[..., Any] | None = None, *,
          grad: bool = True, atol: float = 1e-5, rtol: float = 1e-4, grad_atol: float | None = None,
          grad_rtol: float | None = None, low: float = -2.0, high: float = 2.0, seed: int = 0) -> None:
    """Compare `fn` on edugrad tensors with `torch_fn` (default: `fn`) on torch tensors.

    Each entry of `inputs` is a shape (a tuple of ints: uniform random float32 in [low, high)),
    a numpy array (used as is: float arrays become float32 inputs, int and bool arrays index or
    mask tensors), `fixed(array)` (a float input that takes no gradient, such as a target), or any
    other value (passed to both functions unchanged). Float inputs require a gradient when `grad`
    is True. The outputs may be a tensor or a tuple/list of tensors.
    """
    rng = np.random.default_rng(seed)
    arrays = [_make_input(spec, rng, low, high) for spec in inputs]
    ours_in = [_to_edugrad(a, grad) for a in arrays]
    theirs_in = [_to_torch(a, grad) for a in arrays]

    ours = fn(*ours_in)
    theirs = (torch_fn or fn)(*theirs_in)
    outputs = list(_pairs("output", ours, theirs))
    for name, o, t in outputs:
        _compare(name, o, t.detach(), atol, rtol)
        assert o.requires_grad == t.requires_grad, \
            f"{name}: requires_grad is {o.requires_grad}, torch's is {t.requires_grad}"
    if not grad:
        return

    upstream = [rng.standard_normal(t.shape).astype(np.float32) for _, _, t in outputs]
    _backward_torch([t for _, _, t in outputs], upstream)
    _backward_edugrad([o for _, o, _ in outputs], upstream)
    for k, (o_in, t_in) in enumerate(zip(ours_in, theirs_in)):
        if not isinstance(t_in, torch.Tensor) or not t_in.requires_grad:
            continue
        if t_in.grad is None:  # the input does not reach the outputs in torch's graph
            assert o_in.grad is None or not o_in.grad.numpy().any(), \
                f"input {k}: torch gives no gradient, edugrad gives {o_in.grad}"
            continue
        assert o_in.grad is not None, f"input {k}: edugrad gave no gradient, torch's is {t_in.grad}"
        _compare(f"grad of input {k}", o_in.grad, t_in.grad,
                 atol if grad_atol is None else grad_atol, rtol if grad_rtol is None else grad_rtol)


def assert_same(ours: Any, theirs: Any, *, atol: float = 1e-5, rtol: float = 1e-4, name: str = "value") -> None:
    """An edugrad tensor (or a numpy array) against a torch tensor (or an array, or a list): same
    shape and dtype, then the same values (nan where the other has nan). Use it wherever a test
    would compare bare values, so that a wrong shape or dtype cannot hide behind broadcasting."""
    ours_array = ours.detach().numpy() if isinstance(ours, Tensor) else np.asarray(ours)
    theirs_array = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    assert ours_array.shape == theirs_array.shape, f"{name}: shape {ours_array.shape} vs {theirs_array.shape}"
    assert ours_array.dtype == theirs_array.dtype, f"{name}: dtype {ours_array.dtype} vs {theirs_array.dtype}"
    np.testing.assert_allclose(ours_array, theirs_array, atol=atol, rtol=rtol, equal_nan=True, err_msg=name)


class fixed:
    """An input array that never requires a gradient: targets, running statistics."""

    def __init__(self, array: Any):
        self.array = np.asarray(array, dtype=np.float32 if np.asarray(array).dtype.kind == "f" else None)


def _make_input(spec: Any, rng: np.random.Generator, low: float, high: float) -> Any:
    if isinstance(spec, tuple) and all(isinstance(s, int) for s in spec):
        return rng.uniform(low, high, size=spec).astype(np.float32)
    if isinstance(spec, np.ndarray) and spec.dtype.kind == "f":
        return spec.astype(np.float32)
    return spec


def _to_edugrad(value: Any, grad: bool) -> Any:
    if isinstance(value, fixed):
        return Tensor(value.array)
    if not isinstance(value, np.ndarray):
        return value
    return Tensor(value, requires_grad=grad and value.dtype.kind == "f")


def _to_torch(value: Any, grad: bool) -> Any:
    if isinstance(value, fixed):
        return torch.tensor(value.array)
    if not isinstance(value, np.ndarray):
        return value
    return torch.tensor(value, requires_grad=grad and value.dtype.kind == "f")


def _pairs(name: str, ours: Any, theirs: Any) -> Iterator[tuple[str, Any, torch.Tensor]]:
    """(name, edugrad output, torch output) for every tensor in matching (nested) outputs."""
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, (tuple, list)), f"{name}: torch returned a sequence, edugrad a {type(ours).__name__}"
        assert len(ours) == len(theirs), f"{name}: edugrad returned {len(ours)} items, torch {len(theirs)}"
        for k, (o, t) in enumerate(zip(ours, theirs)):
            yield from _pairs(f"{name}[{k}]", o, t)
    else:
        assert isinstance(theirs, torch.Tensor), f"{name}: torch returned {type(theirs).__name__}"
        assert isinstance(ours, Tensor), f"{name}: edugrad returned {type(ours).__name__}, not a Tensor"
        yield name, ours, theirs


def _compare(name: str, ours: Tensor, theirs: torch.Tensor, atol: float, rtol: float) -> None:
    assert ours.shape == tuple(theirs.shape), f"{name}: shape {ours.shape} vs torch's {tuple(theirs.shape)}"
    torch_dtype = str(theirs.dtype).removeprefix("torch.")
    assert ours.dtype.value == torch_dtype, f"{name}: dtype {ours.dtype.value} vs torch's {torch_dtype}"
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=atol, rtol=rtol, err_msg=name)


def _backward_torch(outputs: list[torch.Tensor], upstream: list[np.ndarray]) -> None:
    pairs = [(t, torch.from_numpy(g).to(t.dtype)) for t, g in zip(outputs, upstream) if t.requires_grad]
    if pairs:
        torch.autograd.backward([t for t, _ in pairs], [g for _, g in pairs])


def _backward_edugrad(outputs: list[Tensor], upstream: list[np.ndarray]) -> None:
    """One output: backward(gradient). Several: backward of sum(output * gradient) over them."""
    pairs = [(o, Tensor(g, dtype=o.dtype)) for o, g in zip(outputs, upstream) if o.requires_grad]
    if len(pairs) == 1:
        pairs[0][0].backward(pairs[0][1])
    elif pairs:
        total = (pairs[0][0] * pairs[0][1]).sum()
        for o, g in pairs[1:]:
            total = total + (o * g).sum()
        total.backward()
