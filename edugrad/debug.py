"""Watching edugrad work: trace every Function and primitive op, and profile where the time goes.

Three ways in, one mechanism underneath:

- `EDUGRAD_DEBUG=1` in the environment prints every Function's forward and backward, with shapes
  and time, to stderr; `EDUGRAD_DEBUG=2` also prints every primitive op call. `set_debug(level)`
  does the same from code (handy in a notebook).
- `with edugrad.trace() as events:` collects the same events as `Event` objects in a list.
- `with edugrad.profile() as stats:` counts primitive calls per op, the FLOPs of MATMUL, the bytes
  that op outputs allocate and the time spent in each Function, and prints a table at exit.
- `with edugrad.detect_anomaly():` raises `AnomalyError` at the first Function whose forward or
  backward turns finite values into NaN or Inf, naming it and the line of your code that made it.

Why it costs nothing when nobody watches: nothing in the core checks for a watcher. While someone
listens, the `forward` and `backward` of every Function class (function.py's, and any you wrote)
are replaced by wrappers that time each call and report it; while a listener wants primitive ops,
the backend class's methods (`unary`, `binary`, `matmul`, ...) are wrapped the same way. The
originals are put back when the last listener leaves. Tracing watches one thread, the backend
active when it starts, and the Function classes that exist then.
"""

from __future__ import annotations

import inspect
import os
import sys
import time
import weakref
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, Callable, Iterator, TextIO

import numpy as np

from edugrad.autograd import Function, GradMode, Grads
from edugrad.backend import get_backend
from edugrad.backend.base import Shape, TensorData
from edugrad.ops import CastOps, ContractOps, DType, IndexOps, LoadOps, MovementOps, Op, TernaryOps

# The TensorData methods that are primitive ops. unary, binary and reduce take the op as their
# first argument; each of the others is one op.
PRIMITIVE_METHODS: dict[str, Op | None] = {
    "unary": None, "binary": None, "reduce": None,
    "where": TernaryOps.WHERE,
    "reshape": MovementOps.RESHAPE, "permute": MovementOps.PERMUTE, "expand": MovementOps.EXPAND,
    "pad": MovementOps.PAD, "shrink": MovementOps.SHRINK, "stride": MovementOps.STRIDE,
    "window": MovementOps.WINDOW, "fold": MovementOps.FOLD,
    "cast": CastOps.CAST, "matmul": ContractOps.MATMUL,
    "gather": IndexOps.GATHER, "scatter_add": IndexOps.SCATTER_ADD,
    "const": LoadOps.CONST, "random": LoadOps.RANDOM, "from_host": LoadOps.FROM_HOST,
}
# Ops whose output can share the input's memory instead of allocating (numpy: always, for these).
VIEW_METHODS = {"reshape", "permute", "expand", "shrink", "stride", "window", "const", "cast"}
ITEMSIZE: dict[DType, int] = {DType.float32: 4, DType.float64: 8, DType.int32: 4, DType.int64: 8, DType.bool: 1}


@dataclass
class Event:
    """One call: a Function's forward or backward, or a primitive op.

    A backward event has the same shapes as its forward: `output_shape` is the gradient arriving
    (shaped like the forward's output) and `input_shapes` those of the gradients it sends back
    (shaped like the forward's inputs)."""

    kind: str  # "forward", "backward" or "primitive"
    name: str  # the Function's class name ("Matmul"), or the primitive op ("ContractOps.MATMUL")
    input_shapes: tuple[Shape, ...]
    output_shape: Shape | None  # None if the call raised
    seconds: float = 0.0
    depth: int = 0  # 0 for an outermost call, 1 for a primitive op run inside a Function
    allocated: int = 0  # primitives: bytes of new memory the output needed (0 for a view)

    def __str__(self) -> str:
        inputs = ", ".join(str(s) for s in self.input_shapes) or "-"
        output = "error" if self.output_shape is None else str(self.output_shape)
        flow = f"{output} -> {inputs}" if self.kind == "backward" else f"{inputs} -> {output}"
        indent = "  " * self.depth
        return f"{indent}{self.kind:<9} {self.name:<{28 - len(indent)}} {flow:<48} {self.seconds * 1e3:9.3f} ms"


class Listener:
    """Receives events, one finished outermost call at a time, in the order the calls started."""

    primitives = False  # whether this listener needs primitive-op events

    def receive(self, events: list[Event]) -> None:
        raise NotImplementedError

    def after_forward(self, ctx: Function, inputs: list[TensorData], out: TensorData) -> None:
        """Called with each Function's result as soon as its forward returns; may raise to stop it."""

    def after_backward(self, ctx: Function, grad: TensorData, grads: Grads) -> None:
        """Called with the gradients each Function's backward returns, before they flow on."""


class Watchers:
    """Everyone listening, and the hooks installed for them: the wrapped Function methods and the
    wrapped backend methods. One object, `WATCHERS`, is shared by trace(), profile() and EDUGRAD_DEBUG."""

    def __init__(self) -> None:
        self.listeners: list[Listener] = []
        self.open: list[Event] = []  # calls running now, outermost first
        self.group: list[Event] = []  # events of the current outermost call, in start order
        self.in_primitive = False  # a backend op calling another op is counted once, as itself
        self.patched: type[TensorData] | None = None
        self.originals: dict[str, Any] = {}  # method name -> what the backend class itself defined
        self.function_originals: dict[tuple[type, str], Any] = {}  # (Function class, method) -> original

    # ---- who listens
    def add(self, listener: Listener) -> None:
        self.listeners.append(listener)
        if not self.function_originals:
            self.watch_functions()
        if listener.primitives and self.patched is None:
            self.patch(get_backend())

    def remove(self, listener: Listener) -> None:
        self.listeners.remove(listener)
        if not any(x.primitives for x in self.listeners):
            self.unpatch()
        if not self.listeners:
            self.unwatch_functions()
            self.open, self.group = [], []

    @property
    def watching(self) -> bool:
        return bool(self.function_originals)

    # ---- events
    def start(self, kind: str, name: str, input_shapes: tuple[Shape, ...]) -> Event:
        event = Event(kind, name, input_shapes, None, depth=len(self.open))
        self.open.append(event)
        self.group.append(event)
        return event

    def finish(self, event: Event, output_shape: Shape | None, seconds: float) -> None:
        event.output_shape, event.seconds = output_shape, seconds
        if self.open and self.open[-1] is event:
            self.open.pop()
        if not self.open:
            group, self.group = self.group, []
            for listener in list(self.listeners):
                listener.receive(group)

    # ---- the Function hooks: wrappers around every Function class's forward and backward
    def watch_functions(self) -> None:
        for cls in function_classes():
            for name, wrap in (("forward", self.watched_forward), ("backward", self.watched_backward)):
                if name in cls.__dict__:
                    self.function_originals[(cls, name)] = cls.__dict__[name]
                    setattr(cls, name, wrap(cls.__dict__[name]))

    def unwatch_functions(self) -> None:
        for (cls, name), original in self.function_originals.items():
            setattr(cls, name, original)
        self.function_originals = {}

    def watched_forward(self, forward: Callable[..., TensorData]) -> Callable[..., TensorData]:
        def watched(ctx: Function, *inputs: TensorData, **kwargs: Any) -> TensorData:
            event = self.start("forward", type(ctx).__name__, tuple(x.shape for x in inputs))
            out: TensorData | None = None
            start = time.perf_counter()
            try:
                out = forward(ctx, *inputs, **kwargs)
            finally:
                self.finish(event, None if out is None else out.shape, time.perf_counter() - start)
            for listener in self.listeners:
                listener.after_forward(ctx, list(inputs), out)
            return out

        return watched

    def watched_backward(self, backward: Callable[[Function, TensorData], Grads]) -> Callable[..., Grads]:
        def watched(ctx: Function, grad: TensorData) -> Grads:
            event = self.start("backward", type(ctx).__name__, tuple(p.shape for p in ctx.parents))
            ok = False
            start = time.perf_counter()
            try:
                grads = backward(ctx, grad)
                ok = True
            finally:
                self.finish(event, grad.shape if ok else None, time.perf_counter() - start)
            for listener in self.listeners:
                listener.after_backward(ctx, grad, grads)
            return grads

        return watched

    # ---- the primitive hooks: wrappers around the backend's methods, there only while wanted
    def patch(self, backend: type[TensorData]) -> None:
        self.patched, self.originals = backend, {}
        for name in PRIMITIVE_METHODS:
            if name in backend.__dict__:
                self.originals[name] = backend.__dict__[name]
            setattr(backend, name, self.traced(name, inspect.getattr_static(backend, name)))

    def unpatch(self) -> None:
        backend, self.patched = self.patched, None
        if backend is None:
            return
        for name in PRIMITIVE_METHODS:
            if name in self.originals:
                setattr(backend, name, self.originals[name])
            else:  # inherited: remove the wrapper and the parent class's method shows through again
                delattr(backend, name)
        self.originals = {}

    def traced(self, name: str, method: Any) -> Any:
        """A wrapper of backend method `name` that reports each call as a primitive event."""
        is_classmethod = isinstance(method, classmethod)
        function: Callable[..., TensorData] = method.__func__ if is_classmethod else method
        fixed_op = PRIMITIVE_METHODS[name]

        def traced_op(*args: Any, **kwargs: Any) -> TensorData:
            if self.in_primitive:
                return function(*args, **kwargs)
            op = fixed_op if fixed_op is not None else kwargs.get("op", args[1] if len(args) > 1 else None)
            inputs = tuple(a for a in (*args, *kwargs.values()) if isinstance(a, TensorData))
            event = self.start("primitive", str(op), tuple(a.shape for a in inputs))
            out: TensorData | None = None
            self.in_primitive = True
            start = time.perf_counter()
            try:
                out = function(*args, **kwargs)
                return out
            finally:
                seconds = time.perf_counter() - start
                self.in_primitive = False
                if out is not None:
                    event.allocated = allocated_bytes(name, out, inputs)
                self.finish(event, None if out is None else out.shape, seconds)

        traced_op.__name__ = traced_op.__qualname__ = name
        traced_op.__doc__ = function.__doc__
        return classmethod(traced_op) if is_classmethod else traced_op


def function_classes() -> list[type[Function]]:
    """Every subclass of Function defined so far, subclasses of subclasses included."""
    found: list[type[Function]] = []
    todo = list(Function.__subclasses__())
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def allocated_bytes(method: str, out: TensorData, inputs: tuple[TensorData, ...]) -> int:
    """Bytes of new memory behind `out`: 0 when it is a view of memory that already existed."""
    array = getattr(out, "array", None)
    if isinstance(array, np.ndarray):  # numpy-backed: ask numpy whether it is a view
        if array.base is not None or any(array is getattr(x, "array", None) for x in inputs):
            return 0
        return int(array.nbytes)
    if method in VIEW_METHODS:  # other backends: assume their movement ops are views, as numpy's are
        return 0
    return out.size * ITEMSIZE[out.dtype]


WATCHERS = Watchers()


# ---------------------------------------------------------------- EDUGRAD_DEBUG: print as it happens

class Printer(Listener):
    """Prints each event as one line; level 1 Functions only, level 2 also primitive ops."""

    def __init__(self, level: int, stream: TextIO | None = None):
        self.level, self.primitives, self.stream = level, level >= 2, stream

    def receive(self, events: list[Event]) -> None:
        stream = self.stream or sys.stderr  # looked up late, so pytest's capsys and notebooks see it
        for event in events:
            if event.kind != "primitive" or self.primitives:
                print(f"[edugrad] {event}", file=stream)


_printer: Printer | None = None


def set_debug(level: int, stream: TextIO | None = None) -> None:
    """Print Function calls (level 1), also primitive ops (level 2), or nothing (level 0), to
    `stream` (stderr by default). `EDUGRAD_DEBUG=level` in the environment does this at import."""
    global _printer
    if _printer is not None:
        WATCHERS.remove(_printer)
        _printer = None
    if level > 0:
        _printer = Printer(level, stream)
        WATCHERS.add(_printer)


# ---------------------------------------------------------------- trace(): the events as a list

class Collector(Listener):
    def __init__(self, events: list[Event], primitives: bool):
        self.events, self.primitives = events, primitives

    def receive(self, events: list[Event]) -> None:
        self.events.extend(e for e in events if e.kind != "primitive" or self.primitives)


@contextmanager
def trace(primitives: bool = True) -> Iterator[list[Event]]:
    """Collect an `Event` for every Function forward, backward and (if `primitives`) primitive op
    run inside the block, in the order they started:

        with edugrad.trace() as events:
            loss = model(x).sum()
            loss.backward()
        print(*events, sep="\\n")
    """
    events: list[Event] = []
    collector = Collector(events, primitives)
    WATCHERS.add(collector)
    try:
        yield events
    finally:
        WATCHERS.remove(collector)


# ---------------------------------------------------------------- profile(): where the time goes

@dataclass
class OpStats:
    """One primitive op's totals."""

    calls: int = 0
    seconds: float = 0.0
    flops: int = 0
    allocated: int = 0


@dataclass
class FunctionStats:
    """One Function's totals; its time includes that of the primitive ops it ran."""

    forward_calls: int = 0
    forward_seconds: float = 0.0
    backward_calls: int = 0
    backward_seconds: float = 0.0

    @property
    def seconds(self) -> float:
        return self.forward_seconds + self.backward_seconds


def matmul_flops(x: Shape, y: Shape) -> int:
    """(..., n, k) @ (..., k, m): n*m dot products of length k, a multiply and an add each."""
    *batch, n, k = x
    m = y[-1]
    count = 2 * n * k * m
    for b in batch:
        count *= b
    return count


def human(n: int, unit: str = "") -> str:
    """1234567 -> '1.23M': a count with a metric prefix, short enough for a table column."""
    for prefix, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g}{prefix}{unit}"
    return f"{n}{unit}"


@dataclass
class Profile(Listener):
    """What `profile()` measured. `table()` is what it prints."""

    functions: dict[str, FunctionStats] = field(default_factory=dict)
    ops: dict[str, OpStats] = field(default_factory=dict)
    primitives = True

    @property
    def flops(self) -> int:
        return sum(s.flops for s in self.ops.values())

    @property
    def allocated(self) -> int:
        return sum(s.allocated for s in self.ops.values())

    def receive(self, events: list[Event]) -> None:
        for e in events:
            if e.kind == "primitive":
                op = self.ops.setdefault(e.name, OpStats())
                op.calls += 1
                op.seconds += e.seconds
                op.allocated += e.allocated
                if e.name == str(ContractOps.MATMUL) and e.output_shape is not None:
                    op.flops += matmul_flops(*e.input_shapes)
            else:
                fn = self.functions.setdefault(e.name, FunctionStats())
                if e.kind == "forward":
                    fn.forward_calls += 1
                    fn.forward_seconds += e.seconds
                else:
                    fn.backward_calls += 1
                    fn.backward_seconds += e.seconds

    def table(self) -> str:
        lines = [f"{'Function':<20} {'fwd calls':>9} {'fwd ms':>10} {'bwd calls':>9} {'bwd ms':>10} {'total ms':>10}"]
        for name, fn in sorted(self.functions.items(), key=lambda kv: -kv[1].seconds):
            lines.append(f"{name:<20} {fn.forward_calls:>9} {fn.forward_seconds * 1e3:>10.3f} "
                         f"{fn.backward_calls:>9} {fn.backward_seconds * 1e3:>10.3f} {fn.seconds * 1e3:>10.3f}")
        lines.append("")
        lines.append(f"{'primitive op':<20} {'calls':>9} {'ms':>10} {'FLOPs':>10} {'allocated':>10}")
        for name, op in sorted(self.ops.items(), key=lambda kv: -kv[1].seconds):
            lines.append(f"{name:<20} {op.calls:>9} {op.seconds * 1e3:>10.3f} {human(op.flops):>10} "
                         f"{human(op.allocated, 'B'):>10}")
        lines.append(f"{'total':<20} {sum(op.calls for op in self.ops.values()):>9} "
                     f"{sum(op.seconds for op in self.ops.values()) * 1e3:>10.3f} {human(self.flops):>10} "
                     f"{human(self.allocated, 'B'):>10}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


@contextmanager
def profile(show: bool = True) -> Iterator[Profile]:
    """Measure the block: calls, time, MATMUL FLOPs and bytes allocated per primitive op, and
    forward/backward time per Function. Prints the tables, slowest first, at exit if `show`:

        with edugrad.profile() as stats:
            model(x).sum().backward()
        stats.ops["ContractOps.MATMUL"].flops
    """
    stats = Profile()
    WATCHERS.add(stats)
    try:
        yield stats
    finally:
        WATCHERS.remove(stats)
        if show:
            print(stats.table())


# ---------------------------------------------------------------- detect_anomaly(): the first NaN or Inf

class AnomalyError(RuntimeError):
    """A Function produced NaN or Inf from finite values while `detect_anomaly()` was on."""


PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep

# Where in the user's code each Function ran forward, for those recorded while detect_anomaly was
# on. Weak keys: an entry goes when its Function does, so the table never keeps a graph alive.
CREATED_AT: weakref.WeakKeyDictionary[Function, str] = weakref.WeakKeyDictionary()


def user_code_location() -> str:
    """'file:line in function' of the innermost stack frame outside the edugrad package."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and _inside_edugrad(frame.f_code.co_filename):
        frame = frame.f_back
    if frame is None:
        return "an unknown place (every frame on the stack is inside edugrad)"
    return f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"


_inside: dict[str, bool] = {}


def _inside_edugrad(filename: str) -> bool:
    if filename not in _inside:
        _inside[filename] = os.path.abspath(filename).startswith(PACKAGE_DIR)
    return _inside[filename]


def non_finite(data: TensorData) -> tuple[int, int, int]:
    """How many NaN, +Inf and -Inf values `data` holds (all zero for integer and bool data)."""
    array = data.to_host()
    if array.dtype.kind != "f":
        return 0, 0, 0
    return int(np.isnan(array).sum()), int(np.isposinf(array).sum()), int(np.isneginf(array).sum())


def describe_non_finite(data: TensorData) -> str:
    """'1 nan, 2 -inf among 6 values, the first at index (0, 1)'"""
    counts = non_finite(data)
    found = ", ".join(f"{n} {name}" for n, name in zip(counts, ("nan", "inf", "-inf")) if n)
    array = data.to_host()
    first = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
    return f"{found} among {array.size} values, the first at index {first}"


def is_new_anomaly(inputs: list[TensorData], result: TensorData) -> bool:
    """The rule: NaN in `result` while no input holds NaN, or Inf while every input is finite.
    Values already non-finite going in (a -inf attention mask, the -inf padding of max_pool2d)
    may flow on; turning them into something worse (inf - inf = nan) is still reported."""
    nan, pos, neg = non_finite(result)
    if not (nan or pos or neg):
        return False
    before = [non_finite(x) for x in inputs]
    had_nan = any(n for n, _, _ in before)
    had_inf = any(p or m for _, p, m in before)
    return (nan > 0 and not had_nan) or ((pos or neg) > 0 and not had_nan and not had_inf)


class AnomalyDetector(Listener):
    """Checks every Function's output in forward and every gradient it returns in backward."""

    def receive(self, events: list[Event]) -> None:
        pass  # it needs the values, not the events: see after_forward and after_backward

    def after_forward(self, ctx: Function, inputs: list[TensorData], out: TensorData) -> None:
        name = type(ctx).__name__
        if is_new_anomaly(inputs, out):
            raise AnomalyError(
                f"detect_anomaly: {name} produced nan/inf in forward: its output of shape {out.shape} has "
                f"{describe_non_finite(out)}, though its inputs were finite. "
                f"The {name} ran at {user_code_location()}.")
        if GradMode.enabled and any(ctx.needs_input_grad):  # its backward may run later: remember where
            CREATED_AT[ctx] = user_code_location()

    def after_backward(self, ctx: Function, grad: TensorData, grads: Grads) -> None:
        name = type(ctx).__name__
        inputs = [grad] + [p.storage.data for p in ctx.parents]
        for i, g in enumerate(grads if isinstance(grads, tuple) else (grads,)):
            if g is None or not is_new_anomaly(inputs, g):
                continue
            created = CREATED_AT.get(ctx)
            where = f"was created at {created}" if created else \
                "ran forward outside detect_anomaly(), so where it was created is unknown"
            raise AnomalyError(
                f"detect_anomaly: {name} produced nan/inf in backward: the gradient for its input {i} "
                f"(shape {g.shape}) has {describe_non_finite(g)}, though the incoming gradient and the "
                f"inputs were finite. The {name} {where}.")


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise AnomalyError at the first Function that produces NaN or Inf from finite values,
    in forward or in backward, naming the Function and the line of your code that created it:

        with edugrad.detect_anomaly():
            loss = model(x).log().sum()   # AnomalyError: Log produced nan/inf in forward ... at train.py:12
            loss.backward()

    The rule, per Function call: a NaN counts when none of its inputs held a NaN, an Inf when all
    of them were finite (in backward the inputs are the incoming gradient and the forward's
    inputs), so deliberate -inf masks pass. Each Function's output is copied to the host and
    scanned, so it is slow: switch it on to find a NaN, not for whole training runs."""
    detector = AnomalyDetector()
    WATCHERS.add(detector)
    try:
        yield
    finally:
        WATCHERS.remove(detector)


def _level_from_environment() -> int:
    value = os.environ.get("EDUGRAD_DEBUG", "0").strip() or "0"
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"EDUGRAD_DEBUG must be 0, 1 or 2, got {value!r}") from None


set_debug(_level_from_environment())

__all__ = ["Event", "trace", "profile", "Profile", "OpStats", "FunctionStats", "set_debug", "matmul_flops",
           "detect_anomaly", "AnomalyError"]
