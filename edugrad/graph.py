"""Pictures of the computation graph: the tensors a result was made from, and the Functions that made them.

    edugrad.draw_graph(loss, "loss.svg")   # .svg, .png, .pdf need Graphviz's `dot`; .dot needs nothing
    display(edugrad.graph(loss))            # in a Jupyter notebook: the picture, inline

Each box is a tensor: its label (`Tensor(..., label="W1")` or `t.label = "W1"`), the Function
that made it, its shape and dtype and, once backward has run, its gradient's shape and norm.
Grey boxes are leaves that need no gradient (inputs, constants), blue ones are parameters (leaves
that require a gradient), orange ovals are intermediate results, the green oval is the tensor drawn.

Draw before `backward()`, or call `backward(retain_graph=True)` first to see the gradients:
backward frees each Function's saved values and its links to its inputs, so afterwards only the
final node is left to draw (it is marked "freed by backward").

Large graphs stay legible: a run of `collapse` or more single-input, unlabelled intermediate
results becomes one "... N ops ..." node, and at most `max_nodes` nodes (those nearest the
result) are drawn. Graph walks use an explicit queue, never recursion, so any depth is fine.
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from edugrad.tensor import Tensor

RENDERED_FORMATS = {".svg", ".png", ".pdf"}
TEXT_FORMATS = {".dot", ".gv"}
INSTALL_HINT = ("Graphviz's `dot` program is not installed (not found on PATH). Install it with "
                "`apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS) or "
                "`conda install graphviz`. Saving to a .dot file needs nothing.")

STYLES: dict[str, dict[str, str]] = {
    "leaf": {"shape": "box", "style": "rounded,filled", "fillcolor": "#e8e8e8"},
    "parameter": {"shape": "box", "style": "filled,bold", "fillcolor": "#c6dbef"},
    "intermediate": {"shape": "ellipse", "style": "filled", "fillcolor": "#fdebd0"},
    "output": {"shape": "ellipse", "style": "filled", "fillcolor": "#d9f0d3", "peripheries": "2"},
    "released": {"shape": "ellipse", "style": "filled,dashed", "fillcolor": "#f4f4f4"},
    "collapsed": {"shape": "box", "style": "dashed", "fillcolor": "white"},
    "truncated": {"shape": "plaintext", "fillcolor": "white"},
}
LEGEND = "grey: leaves · blue: parameters · orange: intermediates · green: this tensor"


class GraphvizNotFound(RuntimeError):
    """Rendering to an image needs the `dot` program, and it is not installed."""


@dataclass
class Node:
    """One box of the picture: a tensor, a collapsed chain of them, or the 'more not drawn' note."""

    key: str
    kind: str  # a key of STYLES
    lines: list[str]
    parents: list[str] = field(default_factory=list)  # keys of the nodes whose arrows point here


class Graph:
    """A drawn graph: `.source` is its DOT text; `save(path)` writes it; in a notebook it shows itself."""

    def __init__(self, source: str):
        self.source = source
        self._svg: str | None = None

    def pipe(self, format: str) -> bytes:
        """The picture in `format` ("svg", "png", "pdf"), made by running `dot`."""
        dot = shutil.which("dot")
        if dot is None:
            raise GraphvizNotFound(f"graph: cannot make {format}: {INSTALL_HINT}")
        result = subprocess.run([dot, f"-T{format}"], input=self.source.encode(), capture_output=True)
        if result.returncode != 0:
            raise RuntimeError(f"graph: dot failed to make {format}: {result.stderr.decode(errors='replace')}")
        return result.stdout

    def save(self, path: str | Path) -> Path:
        """Write the graph to `path`, in the format its extension names (.dot, .gv, .svg, .png, .pdf)."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix in TEXT_FORMATS:
            path.write_text(self.source, encoding="utf-8")
        elif suffix in RENDERED_FORMATS:
            path.write_bytes(self.pipe(suffix[1:]))
        else:
            known = ", ".join(sorted(TEXT_FORMATS | RENDERED_FORMATS))
            raise ValueError(f"draw_graph: cannot tell the format of {str(path)!r}; use one of {known}")
        return path

    def _repr_svg_(self) -> str | None:
        if self._svg is None:
            if shutil.which("dot") is None:
                return None
            self._svg = self.pipe("svg").decode()
        return self._svg

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """What Jupyter shows: the SVG, or without Graphviz the DOT text and how to get pictures."""
        svg = self._repr_svg_()
        if svg is None:
            return {"text/plain": f"{self.source}\n# {INSTALL_HINT}"}
        return {"image/svg+xml": svg, "text/plain": f"<edugrad Graph: {self.source.count(' -> ')} edges>"}

    def __str__(self) -> str:
        return self.source


def graph(tensor: Tensor, *, max_nodes: int = 300, collapse: int | None = 6, show_grad: bool = True) -> Graph:
    """The graph behind `tensor` as a `Graph` (`.source` is DOT text). See the module docstring.

    collapse: runs of at least this many single-input unlabelled results become one node (None: never).
    max_nodes: draw at most this many nodes, those closest to `tensor`.
    show_grad: add each gradient's shape and norm to the nodes that have one."""
    from edugrad.tensor import Tensor

    if not isinstance(tensor, Tensor):
        raise TypeError(f"graph: expected a Tensor, got {type(tensor).__name__}")
    if max_nodes < 1:
        raise ValueError(f"graph: max_nodes must be at least 1, got {max_nodes}")
    tensors, parents = walk(tensor)
    nodes = build_nodes(tensors, parents, collapse, show_grad)
    return Graph(to_dot(truncate(nodes, max_nodes)))


def draw_graph(tensor: Tensor, path: str | Path, *, max_nodes: int = 300, collapse: int | None = 6,
               show_grad: bool = True) -> Path:
    """Draw the graph behind `tensor` into `path` (.dot, .svg, .png or .pdf); returns the path.
    Call it before backward(), or after backward(retain_graph=True). See the module docstring."""
    return graph(tensor, max_nodes=max_nodes, collapse=collapse, show_grad=show_grad).save(path)


# ---------------------------------------------------------------- from tensors to nodes

def walk(root: Tensor) -> tuple[list[Tensor], list[list[int]]]:
    """Every tensor reachable from `root` through `_ctx.parents`, breadth first (root is index 0),
    and for each the indices of its parents. A Function freed by backward has no parents left."""
    tensors: list[Tensor] = [root]
    index: dict[int, int] = {id(root): 0}
    parents: list[list[int]] = [[]]
    queue: deque[int] = deque([0])
    while queue:
        i = queue.popleft()
        ctx = tensors[i]._ctx
        for parent in getattr(ctx, "parents", ()) if ctx is not None else ():
            if id(parent) not in index:
                index[id(parent)] = len(tensors)
                tensors.append(parent)
                parents.append([])
                queue.append(index[id(parent)])
            parents[i].append(index[id(parent)])
    return tensors, parents


def kind_of(t: Tensor, is_root: bool, parameter_class: type | None) -> str:
    if is_root:
        return "released" if t._ctx is not None and t._ctx.released else "output"
    if t._ctx is None:
        is_parameter = t.requires_grad or (parameter_class is not None and isinstance(t, parameter_class))
        return "parameter" if is_parameter else "leaf"
    return "released" if t._ctx.released else "intermediate"


def describe(t: Tensor, kind: str, show_grad: bool) -> list[str]:
    """The lines of text in a tensor's box."""
    lines = [t.label] if t.label else []
    if t._ctx is not None:
        lines.append(type(t._ctx).__name__ + (" (freed by backward)" if t._ctx.released else ""))
    elif kind == "parameter":
        lines.append("parameter")
    lines.append(f"{shape_text(t.shape)} {t.dtype.value}")
    if show_grad and t.grad is not None:
        norm = float(np.linalg.norm(t.grad.numpy().astype(np.float64)))
        lines.append(f"grad {shape_text(t.grad.shape)}, norm {norm:.4g}")
    return lines


def shape_text(shape: tuple[int, ...]) -> str:
    return str(tuple(shape))


def build_nodes(tensors: list[Tensor], parents: list[list[int]], collapse: int | None,
                show_grad: bool) -> list[Node]:
    """One node per tensor, except that long chains become one node each (see `chains`)."""
    parameter_class = _parameter_class()
    consumers = [0] * len(tensors)
    for ps in parents:
        for p in set(ps):
            consumers[p] += 1
    group_of: dict[int, str] = {}  # tensor index -> key of the collapsed node it is drawn in
    dropped: set[int] = set()  # constants used only inside a collapsed chain
    collapsed: list[Node] = []
    for n, chain in enumerate(chains(tensors, parents, consumers) if collapse else []):
        if len(chain) < (collapse or 0):
            continue
        key = f"c{n}"
        names = Counter(type(tensors[i]._ctx).__name__ for i in chain)
        summary = ", ".join(f"{name} x{count}" for name, count in names.most_common(3))
        if len(names) > 3:
            summary += ", ..."
        head, tail = tensors[chain[0]], tensors[chain[-1]]
        lines = [f"... {len(chain)} ops ...", summary, f"{shape_text(head.shape)} ... {shape_text(tail.shape)}"]
        # The run's input is its first link's one non-constant parent, never itself a link.
        main = [p for p in parents[chain[0]] if not is_constant(tensors, consumers, p)]
        collapsed.append(Node(key, "collapsed", lines, [f"t{main[0]}"]))
        for i in chain:
            group_of[i] = key
            dropped.update(p for p in parents[i] if is_constant(tensors, consumers, p))
    nodes: list[Node] = []
    for i, t in enumerate(tensors):
        if i in group_of or i in dropped:
            continue
        kind = kind_of(t, i == 0, parameter_class)
        node_parents = [group_of.get(p, f"t{p}") for p in parents[i]]
        nodes.append(Node(f"t{i}", kind, describe(t, kind, show_grad), node_parents))
    return nodes + collapsed


def is_constant(tensors: list[Tensor], consumers: list[int], i: int) -> bool:
    """A leaf nobody will look for: no gradient, no label, used once (like the 2 in `x * 2`)."""
    t = tensors[i]
    return i != 0 and t._ctx is None and not t.requires_grad and not t.label and consumers[i] == 1


def chains(tensors: list[Tensor], parents: list[list[int]], consumers: list[int]) -> list[list[int]]:
    """Maximal runs of links, in order from the input side. A link is an unlabelled intermediate
    result used exactly once, whose inputs are one tensor plus constants (see `is_constant`)."""
    main_parent: dict[int, int] = {}
    for i, t in enumerate(tensors):
        if i == 0 or t._ctx is None or t.label or consumers[i] != 1:
            continue
        main = {p for p in parents[i] if not is_constant(tensors, consumers, p)}
        if len(main) == 1:
            main_parent[i] = main.pop()
    next_link = {p: i for i, p in main_parent.items() if p in main_parent}
    runs = []
    for i, p in main_parent.items():
        if p in main_parent:
            continue  # not the first link of its run
        run = [i]
        while run[-1] in next_link:
            run.append(next_link[run[-1]])
        runs.append(run)
    return runs


def truncate(nodes: list[Node], max_nodes: int) -> list[Node]:
    """Keep the `max_nodes` nodes nearest the output (breadth first); one note stands for the rest."""
    if len(nodes) <= max_nodes:
        return nodes
    by_key = {node.key: node for node in nodes}
    kept: dict[str, Node] = {}
    queue: deque[str] = deque([nodes[0].key])
    seen = {nodes[0].key}
    while queue and len(kept) < max_nodes:
        node = by_key[queue.popleft()]
        kept[node.key] = node
        for p in node.parents:
            if p not in seen:
                seen.add(p)
                queue.append(p)
    note = Node("more", "truncated", [f"... {len(nodes) - len(kept)} more nodes not drawn (max_nodes={max_nodes})"])
    result: list[Node] = []
    for node in kept.values():
        cut = [p for p in node.parents if p not in kept]
        parents = [p for p in node.parents if p in kept] + (["more"] if cut else [])
        result.append(Node(node.key, node.kind, node.lines, parents))
    return result + [note]


def to_dot(nodes: list[Node]) -> str:
    """Graphviz DOT text: inputs at the top, the result at the bottom."""
    out = ["digraph edugrad {",
           f'  graph [fontname="Helvetica", fontsize=10, labelloc=b, label="{quote(LEGEND)}"];',
           '  node [fontname="Helvetica", fontsize=10];',
           '  edge [color="#666666", arrowsize=0.7];']
    for node in nodes:
        attrs = ", ".join(f'{k}="{v}"' for k, v in STYLES[node.kind].items())
        label = "\\n".join(quote(line) for line in node.lines)
        out.append(f'  {node.key} [label="{label}", {attrs}];')
    drawn = {node.key for node in nodes}
    for node in nodes:
        for parent in dict.fromkeys(node.parents) if node.kind in ("collapsed", "truncated") else node.parents:
            if parent in drawn:
                out.append(f"  {parent} -> {node.key};")
    out.append("}")
    return "\n".join(out) + "\n"


def quote(text: str) -> str:
    """Text made safe inside a DOT double-quoted string."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _parameter_class() -> type | None:
    """edugrad.nn.Parameter if edugrad.nn defines one; the drawing works without it."""
    try:
        nn = importlib.import_module("edugrad.nn")
    except ImportError:
        return None
    parameter = getattr(nn, "Parameter", None)
    return parameter if isinstance(parameter, type) else None


__all__ = ["Graph", "graph", "draw_graph", "GraphvizNotFound"]
