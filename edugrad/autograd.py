"""The graph layer: recording how each tensor was made, and walking that record backward.

Forward: `Function.apply` runs one differentiable op and, when an input needs a gradient, stores
the Function as the result's `_ctx`, with the input tensors as its `parents`. That record is the
whole graph: there is no separate graph object.

Backward: `backward` orders the graph so every tensor comes before its parents (reverse
topological order), then hands each Function the gradient of its output and sends the gradients
it returns on to its parents. Leaves that require a gradient accumulate it in `.grad`. Nothing
here recurses, so a chain of any length fits in memory without touching Python's recursion limit.

The math of each op (its `forward` and `backward`) lives in `function.py`; the instruments of
`debug.py` attach to it from outside, so this layer has no branch for them.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from edugrad.backend.base import TensorData
from edugrad.ops import BinaryOps

if TYPE_CHECKING:
    from edugrad.tensor import Tensor

Decorated = TypeVar("Decorated", bound=Callable[..., Any])
Grads = TensorData | None | tuple[TensorData | None, ...]


class GradMode:
    """Whether Function.apply records the graph; `no_grad` switches it off."""

    enabled = True


class Function:
    """One differentiable op, and the node it leaves in the graph. Subclasses (function.py) define
    `forward` and `backward` on TensorData; `apply` runs them on Tensors."""

    parents: tuple[Tensor, ...]
    needs_input_grad: tuple[bool, ...]
    saved_versions: list[int | None]  # each parent's version when recorded, where it matters: check_versions
    released = False

    def forward(self, *args: Any, **kwargs: Any) -> TensorData:
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def backward(self, grad: TensorData) -> Grads:
        """Gradients for each input, in order, or None where `needs_input_grad` is False."""
        raise NotImplementedError(f"{type(self).__name__} has no backward")

    @classmethod
    def apply(cls, *parents: Tensor, **kwargs: Any) -> Tensor:
        """Run forward on the parents' data; record the graph when any parent needs a gradient."""
        ctx = cls()
        ctx.needs_input_grad = needs = tuple([p.requires_grad for p in parents])
        out = Tensor.from_data(ctx.forward(*[p.storage.data for p in parents], **kwargs))
        if GradMode.enabled and True in needs:
            out.requires_grad = True
            out._ctx = ctx
            ctx.parents = parents
            ctx.saved_versions = versions_to_check(ctx, parents)
        return out

    @property
    def next_functions(self) -> tuple[tuple[Function | AccumulateGrad | None, int], ...]:
        """Each input's node, as PyTorch shows the graph (`loss.grad_fn.next_functions[0][0]`): the
        Function that made it, AccumulateGrad for a leaf that requires grad, None for an input
        that needs no gradient. The 0 is the output index; edugrad's Functions have one output."""
        if self.released:
            raise RuntimeError(f"{type(self).__name__}.next_functions: the graph was freed by backward; "
                               f"call backward(retain_graph=True) to keep it")
        return tuple((p._ctx if p._ctx is not None else AccumulateGrad(p) if p.requires_grad else None, 0)
                     for p in self.parents)

    def release(self) -> None:
        """Drop the saved values and parents once backward has used them, freeing their memory."""
        self.__dict__.clear()
        self.released = True


class AccumulateGrad:
    """The node PyTorch shows for a leaf that requires grad: backward adds into `variable.grad`."""

    next_functions: tuple[tuple[Function | AccumulateGrad | None, int], ...] = ()

    def __init__(self, variable: Tensor) -> None:
        self.variable = variable

    def __repr__(self) -> str:
        return f"<AccumulateGrad for a leaf of shape {self.variable.shape}>"


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
    grads: dict[int, TensorData] = {id(root): seed_gradient(root, gradient)}
    for node in topological_order(root):
        grad = grads.pop(id(node), None)
        ctx = node._ctx
        if ctx is None:  # a leaf: keep its gradient
            if grad is not None:
                accumulate(node, grad)
            continue
        if grad is None:
            continue
        check_versions(ctx)
        parent_grads = ctx.backward(grad)
        if not isinstance(parent_grads, tuple):
            parent_grads = (parent_grads,)
        for parent, parent_grad in zip(ctx.parents, parent_grads):
            if parent_grad is None or not parent.requires_grad:
                continue
            previous = grads.get(id(parent))
            grads[id(parent)] = parent_grad if previous is None else previous.binary(BinaryOps.ADD, parent_grad)
        if not retain_graph:
            ctx.release()


def seed_gradient(root: Tensor, gradient: Any) -> TensorData:
    """The gradient backward starts from: 1 for a scalar, else the one the caller passes."""
    if gradient is None:
        if root.numel() != 1:
            raise RuntimeError(f"backward: grad can be implicitly created only for scalar outputs, "
                               f"but this tensor has shape {root.shape}; pass backward(gradient) "
                               f"with a tensor of that shape")
        return type(root.storage.data).const(1.0, root.shape, root.dtype)
    if not isinstance(gradient, Tensor):
        gradient = Tensor(gradient, dtype=root.dtype)
    if tuple(gradient.shape) != tuple(root.shape):
        raise RuntimeError(f"backward: gradient has shape {gradient.shape} but the tensor has "
                           f"shape {root.shape}")
    return gradient.storage.data.cast(root.dtype)


def versions_to_check(ctx: Function, parents: tuple[Tensor, ...]) -> list[int | None]:
    """The version of each parent that backward must find unchanged: of the ones whose data the
    Function saved, and of the ones made by other Functions (an in-place change rewrites their
    history). A leaf the Function did not save may change freely, as in PyTorch (None)."""
    versions: list[int | None] = []
    for p in parents:
        storage = p.storage
        if p._ctx is None:
            # A plain loop, not any(...): this runs on every recorded op with a leaf input (each
            # `x * 2` has one, the constant), and a generator costs more than the few saved values.
            for value in ctx.__dict__.values():
                if value is storage.data:
                    break
            else:
                versions.append(None)  # a leaf whose data backward does not read
                continue
        versions.append(storage.version)
    return versions


def check_versions(ctx: Function) -> None:
    """Refuse to differentiate through an input that was changed in place after the op used it:
    its saved values would describe data that no longer exists, and the gradient would be wrong."""
    for position, (parent, version) in enumerate(zip(ctx.parents, ctx.saved_versions)):
        if version is not None and parent.storage.version != version:
            raise RuntimeError(
                f"backward: one of the variables needed for gradient computation has been modified "
                f"by an inplace operation: input {position} of {type(ctx).__name__}, a tensor of "
                f"shape {parent.shape}, is at version {parent._version}; expected version {version}. "
                f"Clone it before changing it, or change it after backward().")


def accumulate(leaf: Tensor, grad: TensorData) -> None:
    """leaf.grad += grad, as a new tensor with no history."""
    if leaf.grad is None:
        leaf.grad = Tensor.from_data(grad)
    else:
        leaf.grad = Tensor.from_data(leaf.grad.storage.data.binary(BinaryOps.ADD, grad))


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

    def __call__(self, fn: Decorated) -> Decorated:
        recording = self.recording

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            block = no_grad()  # a fresh block per call, so calls may nest and recurse
            block.recording = recording
            with block:
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class enable_grad(no_grad):
    """Record the graph again inside a no_grad block."""

    recording = True


class inference_mode(no_grad):
    """PyTorch's faster no_grad; in edugrad the two are the same."""

    def __init__(self, mode: bool = True) -> None:
        self.recording = not mode


def is_grad_enabled() -> bool:
    return GradMode.enabled


# The Tensor class is the layer above and imports this module, so it is imported last.
from edugrad.tensor import Tensor  # noqa: E402
