"""The numpy backend's threads: big ops split into chunks that a small pool of threads shares.

Two things numpy does with a second core, and why this module replaces them:

1. Its elementwise ops run on one thread, where PyTorch splits a big op across its threads: an
   exp or a tanh of a million floats takes ~4 ms on one core of the machines we measure on.
2. Its BLAS (OpenBLAS) splits a matrix product, but OpenBLAS's threads spin while they wait for
   each other: on a busy machine a product waits for a thread the OS has not scheduled, and the
   GPT training step took 660-806 ms at two threads against 244-302 ms at one (load ~5 on two cores).

So BLAS runs on one thread, and the backend splits big products and elementwise ops itself into
chunks, which the calling thread and the pool's workers take one at a time until none is left. A
worker the OS hasn't scheduled takes no chunk, and the caller does them all: a busy machine costs
the speed of one thread, not a stall. numpy lets go of Python's GIL inside its loops and BLAS
calls, so chunks really run side by side. Small ops run as they are: waking a worker costs ~10-30 us.

`edugrad.set_num_threads(n)` sets the pool's size, as torch.set_num_threads does; it starts at the
thread count BLAS was given (OPENBLAS_NUM_THREADS, OMP_NUM_THREADS, or the number of cores).
"""

from __future__ import annotations

import ctypes
import glob
import itertools
import os
import queue
import threading
import warnings
from typing import Callable

import numpy as np

# 1/0 = inf and 0/0 = nan are the contract's answers, as in numpy_backend.py: no warnings.
warnings.filterwarnings("ignore", category=RuntimeWarning, module=__name__)


def find_openblas() -> tuple[Callable[[], int], Callable[[int], None]] | None:
    """(get_num_threads, set_num_threads) of the OpenBLAS numpy was built with, or None (another BLAS,
    or one we can't find): then BLAS keeps its own threads and products are not split here."""
    libraries = glob.glob(os.path.join(os.path.dirname(np.__file__) + ".libs", "*openblas*"))
    for path in libraries:
        try:
            library = ctypes.CDLL(path)  # already loaded by numpy: this only looks it up
        except OSError:
            continue
        for prefix, suffix in (("scipy_openblas", "64_"), ("scipy_openblas", ""), ("openblas", "64_"), ("openblas", "")):
            get = getattr(library, f"{prefix}_get_num_threads{suffix}", None)
            set_ = getattr(library, f"{prefix}_set_num_threads{suffix}", None)
            if get is not None and set_ is not None:
                return get, set_
    return None


OPENBLAS = find_openblas()


class Job:
    """One op split into `count` chunks; `run(i)` computes chunk i. Threads take chunk numbers from
    a shared counter (next() on itertools.count is atomic under the GIL), so no chunk runs twice."""

    def __init__(self, run: Callable[[int], None], count: int) -> None:
        self.run, self.count = run, count
        self.next_chunk = itertools.count()
        self.finished: list[int] = []  # list.append is atomic too
        self.done = threading.Event()
        self.error: BaseException | None = None

    def work(self) -> None:
        for i in self.next_chunk:
            if i >= self.count:
                return
            try:
                self.run(i)
            except BaseException as error:  # noqa: BLE001 - handed to the caller, who raises it
                self.error = error
            self.finished.append(i)
            if len(self.finished) == self.count:
                self.done.set()


class Pool:
    """`threads - 1` workers beside the calling thread, which always works too."""

    def __init__(self) -> None:
        self.threads = 1
        self.jobs: queue.SimpleQueue[Job] = queue.SimpleQueue()
        self.workers: list[threading.Thread] = []

    def resize(self, threads: int) -> None:
        self.threads = threads
        while len(self.workers) < threads - 1:  # workers are never stopped: a smaller pool just
            worker = threading.Thread(target=self.serve, daemon=True, name="edugrad-worker")  # posts fewer jobs
            worker.start()
            self.workers.append(worker)

    def serve(self) -> None:
        while True:
            self.jobs.get().work()

    def run(self, run: Callable[[int], None], count: int) -> None:
        """Run chunks 0 .. count-1, on this thread and on whichever workers are free."""
        job = Job(run, count)
        for _ in range(min(self.threads - 1, count - 1)):
            self.jobs.put(job)
        job.work()
        if len(job.finished) < count:  # a worker is still on its last chunk
            job.done.wait()
        if job.error is not None:
            raise job.error


POOL = Pool()

# Below these sizes an op runs on the calling thread alone. A worker takes ~0.1-0.3 ms to wake and
# start here, so a split only pays on ops of about a millisecond: a (128, 784) @ (784, 128) product
# (0.4 ms) measured no faster on two threads, a (2048, 128) @ (128, 128) one 1.0 -> 0.7 ms.
MIN_ELEMENTS = 1 << 18  # strided copies (im2col, casts, folds): a 1M-element im2col copy 4.5 -> 2.8 ms
MIN_ELEMENTS_TRANSCENDENTAL = 1 << 17  # exp2, log2, tanh, sin, cos: ~4 ns per element each
MIN_MULTIPLY_ADDS = 1 << 24  # a matrix product's m * k * n
# Add, multiply, compare, and sums stream through memory, which one core nearly saturates: at a
# million float32s (~0.2 ms) two threads measured no faster, so only far bigger ones are split.
MIN_ELEMENTS_STREAMING = 1 << 22
TRANSCENDENTAL = frozenset([np.exp2, np.log2, np.tanh, np.sin, np.cos])


def set_num_threads(threads: int) -> None:
    """How many threads the numpy backend splits big ops across (PyTorch's torch.set_num_threads)."""
    if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
        raise ValueError(f"set_num_threads: expected a positive integer, got {threads!r}")
    POOL.resize(threads)


def get_num_threads() -> int:
    return POOL.threads


def start() -> None:
    """Take over BLAS's thread count (so an OPENBLAS_NUM_THREADS=2 run uses two threads in all),
    and keep BLAS itself on one."""
    if OPENBLAS is not None:
        get, set_ = OPENBLAS
        threads = max(1, int(get()))  # what OPENBLAS_NUM_THREADS or OMP_NUM_THREADS said, or the cores
        set_(1)
    else:  # another BLAS keeps its threads; the pool still reads the usual variables
        threads = os.cpu_count() or 1
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            if os.environ.get(name, "").isdigit() and int(os.environ[name]) > 0:
                threads = int(os.environ[name])
    set_num_threads(threads)


def chunks(length: int, count: int) -> list[tuple[int, int]]:
    """[start, stop) bounds that cut range(length) into `count` nearly equal parts."""
    return [(length * i // count, length * (i + 1) // count) for i in range(count)]


def split_count(length: int) -> int:
    """Chunks for an op whose outermost split axis is `length` long: two per thread, so a thread that
    comes late still finds work and one that never comes leaves the others half as much to wait for."""
    return min(length, 2 * POOL.threads)


def elementwise(ufunc: np.ufunc, *arrays: np.ndarray) -> np.ndarray:
    """ufunc(*arrays) in C order, in chunks of its first axis when the result is big enough."""
    size = arrays[0].size
    if size < MIN_ELEMENTS_TRANSCENDENTAL or POOL.threads == 1:  # nearly every op: the smallest threshold
        return ufunc(*arrays, order="C")
    shape = arrays[0].shape
    if size < (MIN_ELEMENTS_TRANSCENDENTAL if ufunc in TRANSCENDENTAL else MIN_ELEMENTS_STREAMING) or shape[0] < 2:
        return ufunc(*arrays, order="C")
    out_dtype = ufunc.resolve_dtypes(tuple(a.dtype for a in arrays) + (None,))[-1]
    out = np.empty(shape, out_dtype)
    bounds = chunks(shape[0], split_count(shape[0]))

    def run(i: int) -> None:
        start, stop = bounds[i]
        ufunc(*(a[start:stop] for a in arrays), out=out[start:stop])

    POOL.run(run, len(bounds))
    return out


def copy(array: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """A C-order copy of `array` as `dtype` (a cast, or the copy a reshape of a strided view needs)."""
    if POOL.threads == 1 or array.ndim == 0 or array.size < MIN_ELEMENTS or array.shape[0] < 2:
        return np.array(array, dtype, order="C")
    out = np.empty(array.shape, dtype)
    bounds = chunks(array.shape[0], split_count(array.shape[0]))

    def run(i: int) -> None:
        start, stop = bounds[i]
        np.copyto(out[start:stop], array[start:stop], casting="unsafe")

    POOL.run(run, len(bounds))
    return out


def reduce(ufunc: np.ufunc, array: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """ufunc.reduce over `axes`, keeping them with size 1, in chunks of the first axis that is not
    reduced; floats only, whose result has the input's dtype."""
    kept = [axis for axis in range(array.ndim) if axis not in axes and array.shape[axis] >= 2]
    if POOL.threads == 1 or not kept or array.size < MIN_ELEMENTS_STREAMING or array.dtype.kind != "f":
        return ufunc.reduce(array, axis=axes, keepdims=True)
    axis = kept[0]
    out = np.empty(tuple(1 if a in axes else n for a, n in enumerate(array.shape)), array.dtype)
    bounds = chunks(array.shape[axis], split_count(array.shape[axis]))

    def run(i: int) -> None:
        part = (slice(None),) * axis + (slice(*bounds[i]),)
        ufunc.reduce(array[part], axis=axes, keepdims=True, out=out[part])

    POOL.run(run, len(bounds))
    return out


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b (equal batch dims), in chunks of the batch, of a's rows or of b's columns, whichever is
    longest, when BLAS is ours to split and the product is big enough."""
    m, k, n = a.shape[-2], a.shape[-1], b.shape[-1]
    batch = a.shape[:-2]
    if OPENBLAS is None or POOL.threads == 1 or m * k * n * int(np.prod(batch)) < MIN_MULTIPLY_ADDS:
        return np.matmul(a, b)
    out = np.empty(batch + (m, n), np.result_type(a, b))
    length, axis = max((batch[0] if batch else 0, "batch"), (m, "rows"), (n, "columns"))
    bounds = chunks(length, split_count(length))

    def run(i: int) -> None:
        part = slice(*bounds[i])
        if axis == "batch":
            np.matmul(a[part], b[part], out=out[part])
        elif axis == "rows":
            np.matmul(a[..., part, :], b, out=out[..., part, :])
        else:
            np.matmul(a, b[..., part], out=out[..., part])

    POOL.run(run, len(bounds))
    return out


start()
