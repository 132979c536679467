"""The backward walk: from a result back through every `_ctx` to the leaves, applying the chain rule.

Each tensor made by a Function has `_ctx`, that Function, whose `parents` are its input tensors.
`backward` orders the graph so every tensor comes before its parents (reverse topological order),
then hands each Function the gradient of its output and sends the gradients it returns on to its
parents. Leaves that require a gradient accumulate it in `.grad`. Nothing here recurses, so a
chain of any length fits in memory without touching Python's recursion limit.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from edugrad.backend.base import TensorData
from edugrad.ops import BinaryOps
from edugrad.function import Function, GradMode

if TYPE_CHECKING:
    from edugrad.tensor import Tensor

F = TypeVar("F", bound=Callable[..., Any])


def topological_order(root: Tensor) -> list[Tensor]:
    """Tensors reachable from `root` through `_ctx.parents`, each before all of its parents."""
    order: list[Tensor] = []
    visited: set[int] = set()
    # Depth-first with an explicit stack; a node is emitted after all of its parents are.
    # A node counts as visited when it is expanded, not when it is pushed: a tensor reached by two
    # paths must wait for the deeper one, or it would pass on its gradient before receiving all of it.
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        ctx = node._ctx
        if ctx is None:
            continue
        if ctx.released:
            raise RuntimeError(
                f"backward: trying to go through the graph a second time, but the saved values of "
                f"{type(ctx).__name__} were already freed by an earlier backward(). "
                f"Pass retain_graph=True to the first backward() to keep them.")
        for parent in ctx.parents:
            if parent.requires_grad and id(parent) not in visited:
                stack.append((parent, False))
    order.reverse()
    return order


def backward(root: Tensor, gradient: Tensor | None = None, retain_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf) into `leaf.grad` for every leaf that requires a gradient."""
    if not root.requires_grad:
        raise RuntimeError("backward: this tensor does not require grad and has no grad_fn; "
                           "create the inputs with requires_grad=True")
    if gradient is None:
        if root.numel() != 1:
            raise RuntimeError(f"backward: grad can be implicitly created only for scalar outputs, "
                               f"but this tensor has shape {root.shape}; pass backward(gradient) "
                               f"with a tensor of that shape")
        seed: TensorData = type(root.data).const(1.0, root.shape, root.dtype)
    else:
        if tuple(gradient.shape) != tuple(root.shape):
            raise ValueError(f"backward: gradient has shape {gradient.shape} but the tensor has "
                             f"shape {root.shape}")
        seed = gradient.data.cast(root.dtype)

    grads: dict[int, TensorData] = {id(root): seed}
    for node in topological_order(root):
        grad = grads.pop(id(node), None)
        ctx = node._ctx
        if ctx is None:  # a leaf: keep its gradient
            if grad is not None:
                accumulate(node, grad)
            continue
        if grad is None:
            continue
        parent_grads = ctx.backward(grad) if Function.tracer is None else Function.tracer.backward(ctx, grad)
        if not isinstance(parent_grads, tuple):
            parent_grads = (parent_grads,)
        for parent, parent_grad in zip(ctx.parents, parent_grads):
            if parent_grad is None or not parent.requires_grad:
                continue
            previous = grads.get(id(parent))
            grads[id(parent)] = parent_grad if previous is None else previous.binary(BinaryOps.ADD, parent_grad)
        if not retain_graph:
            ctx.release()


def accumulate(leaf: Tensor, grad: TensorData) -> None:
    """leaf.grad += grad, as a new tensor with no history."""
    if leaf.grad is None:
        leaf.grad = type(leaf).from_data(grad)
    else:
        leaf.grad = type(leaf).from_data(leaf.grad.data.binary(BinaryOps.ADD, grad))


class no_grad:
    """Don't record the graph inside this block or function: for evaluation and optimizer steps.

        with edugrad.no_grad():        @edugrad.no_grad()
            preds = model(x)           def evaluate(model, x): ...
    """

    recording = False  # what GradMode.enabled is inside the block

    def __enter__(self) -> None:
        self.previous = GradMode.enabled
        GradMode.enabled = self.recording

    def __exit__(self, *exc: object) -> None:
        GradMode.enabled = self.previous

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class enable_grad(no_grad):
    """Record the graph again inside a no_grad block."""

    recording = True


def is_grad_enabled() -> bool:
    return GradMode.enabled


__all__ = ["backward", "topological_order", "no_grad", "enable_grad", "is_grad_enabled", "Function"]
