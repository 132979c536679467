"""Datasets for the examples, checked before use.

The data lives in the repository's top-level ``data/`` folder, outside the package, so an
installed wheel stays small. Every loader looks for it in, in order: the ``root`` argument, the
``EDUGRAD_DATA`` environment variable, and ``<repository>/data``.

Each file is verified against a SHA-256 checksum written into this module, so a truncated copy or
a flipped byte is reported with the file's path and the fix, instead of surfacing later as a
model that mysteriously fails to learn. A file that is absent is downloaded from public mirrors
(unless ``download=False`` or ``EDUGRAD_NO_DOWNLOAD=1``), verified the same way, then saved.

The loaders return numpy arrays; to batch them, wrap them as Tensors in
``edugrad.utils.data.TensorDataset`` and iterate a ``DataLoader`` over it, as in PyTorch.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.client
import math
import os
import urllib.request
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np

from edugrad.serialization import write_atomically

__all__ = ["DatasetError", "load_mnist", "load_tinyshakespeare"]


class DatasetError(RuntimeError):
    """A dataset file is missing, truncated or corrupt; the message names the file and the fix."""


# SHA-256 of the *decompressed* IDX files (data/mnist/SHA256SUMS.decompressed). Every correct
# gzip of MNIST, from any mirror, decompresses to exactly these bytes, whereas the .gz bytes
# themselves differ between mirrors. Listed in the order load_mnist returns them.
MNIST_SHA256: dict[str, str] = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
MNIST_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

TINYSHAKESPEARE_SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
TINYSHAKESPEARE_URLS: tuple[str, ...] = (
    "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
)

# Seconds to wait for a mirror before trying the next; a dead mirror should not hang a lesson.
DOWNLOAD_TIMEOUT = 10.0

MnistArrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]

# Decoded data, keyed on the resolved folder: verifying MNIST costs ~0.3 s, so pay it once per
# process. A file changed on disk after its first load is not noticed until the process restarts.
_mnist_cache: dict[Path, MnistArrays] = {}
_text_cache: dict[Path, str] = {}

T = TypeVar("T")


def data_root(root: str | Path | None = None) -> Path:
    """The folder holding the datasets: `root`, else $EDUGRAD_DATA, else ``<repository>/data``."""
    if root is not None:
        return Path(root)
    from_env = os.environ.get("EDUGRAD_DATA")
    if from_env:
        return Path(from_env)
    return Path(__file__).resolve().parent.parent / "data"


def load_mnist(root: str | Path | None = None, download: bool = True) -> MnistArrays:
    """Load MNIST as ``(train_images, train_labels, test_images, test_labels)``.

    Images are uint8 arrays of shape (N, 28, 28) with grey levels 0-255; labels are int64 class
    indices 0-9 of shape (N,), ready for a cross-entropy loss. N is 60,000 for training and
    10,000 for test. The arrays are shared between calls, so they are read-only: make a new
    array (``images / 255.0``, ``.copy()``) rather than changing them in place.

    Files are read from ``<root>/mnist/``. Raises DatasetError, naming the file, when one is
    truncated or corrupt, or absent and cannot be downloaded.
    """
    directory = (data_root(root) / "mnist").resolve()
    if directory not in _mnist_cache:
        allow_download = download and not _downloads_disabled()
        train_images, train_labels, test_images, test_labels = (
            _load_verified(
                directory / f"{name}.gz",
                [mirror + f"{name}.gz" for mirror in MNIST_MIRRORS],
                functools.partial(_decode_idx, sha256=MNIST_SHA256[name]),
                allow_download,
            )
            for name in MNIST_SHA256
        )
        _mnist_cache[directory] = (
            train_images,
            _as_class_indices(train_labels),
            test_images,
            _as_class_indices(test_labels),
        )
    return _mnist_cache[directory]


def load_tinyshakespeare(root: str | Path | None = None, download: bool = True) -> str:
    """Load Tiny Shakespeare (``<root>/tinyshakespeare/input.txt``), about 1.1 million characters.

    Raises DatasetError, naming the file, when it is corrupt, or absent and cannot be downloaded.
    """
    path = (data_root(root) / "tinyshakespeare" / "input.txt").resolve()
    if path not in _text_cache:
        _text_cache[path] = _load_verified(
            path,
            list(TINYSHAKESPEARE_URLS),
            _decode_text,
            download and not _downloads_disabled(),
        )
    return _text_cache[path]


def _downloads_disabled() -> bool:
    """Whether $EDUGRAD_NO_DOWNLOAD forbids network access (set it to 1 on offline machines)."""
    return os.environ.get("EDUGRAD_NO_DOWNLOAD", "") not in ("", "0")


def _load_verified(
    path: Path, urls: Sequence[str], decode: Callable[[bytes], T], download: bool
) -> T:
    """Decode and verify the file at `path`; when it is absent, fetch it from `urls` first.

    `decode` turns the file's bytes into the data, raising ValueError when they are wrong. A
    download is saved only once it has passed `decode`, so a bad mirror leaves nothing behind.
    """
    checkout = f"`git checkout data/{path.parent.name}/{path.name}`"
    if path.is_dir():
        raise DatasetError(f"{path} is a folder, but the dataset file of that name should be there. Move the folder "
                           f"away, then restore the file with {checkout} or load again to download it.")
    if path.exists():
        try:
            raw = path.read_bytes()
        except OSError as error:  # e.g. no permission to read it
            raise DatasetError(f"{path} cannot be read: {error}") from error
        try:
            return decode(raw)
        except ValueError as error:
            raise DatasetError(
                f"{path} is damaged: {error}. Restore it with {checkout} (or re-copy it from the "
                "repository), or delete it and load again to download a fresh copy."
            ) from error

    if not download:
        raise DatasetError(
            f"{path} is missing and downloads are off (download=False or EDUGRAD_NO_DOWNLOAD is "
            f"set). Restore it with {checkout}, or pass root= (or set EDUGRAD_DATA) to point at "
            "a folder that holds it."
        )
    failures = []
    for url in urls:
        try:
            with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as response:
                raw = response.read()
            data = decode(raw)
        # Network errors and timeouts are OSErrors; a connection cut mid-body is an HTTPException.
        except (OSError, http.client.HTTPException, ValueError) as error:
            failures.append(f"{url}: {error}")
            continue
        try:
            _write_atomically(path, raw)
        except OSError as error:
            raise DatasetError(f"Downloaded {url} but could not save it to {path}: {error}") from error
        return data
    raise DatasetError(
        f"{path} is missing and downloading it failed ({'; '.join(failures)}). "
        f"Restore it with {checkout}, or copy it there by hand."
    )


def _decode_idx(raw: bytes, sha256: str) -> np.ndarray:
    """Decompress a gzipped IDX file, check it against `sha256` and return the array it holds.

    IDX starts with a magic number whose third byte is the element type (0x08: unsigned byte)
    and whose fourth is the number of dimensions, followed by each dimension as a big-endian
    int32; the elements follow. Images are (count, rows, cols), labels (count,).
    """
    try:
        data = gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as error:
        raise ValueError(f"it is truncated or not valid gzip ({error})") from error
    if len(data) < 4 or data[0:3] != b"\x00\x00\x08":
        raise ValueError("it does not start with the header of an IDX file of unsigned bytes")
    ndim = data[3]
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise ValueError(f"its IDX header is cut short ({len(data)} bytes)")
    shape = tuple(int(size) for size in np.frombuffer(data, dtype=">i4", count=ndim, offset=4))
    expected = header_size + math.prod(shape)
    if len(data) != expected:
        raise ValueError(
            f"its header announces shape {shape}, i.e. {expected} bytes, but it holds {len(data)}"
        )
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise ValueError(f"its contents have SHA-256 {digest}, expected {sha256}")
    # A view into the decompressed bytes, which makes it read-only and saves copying 47 MB.
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(shape)


def _decode_text(raw: bytes) -> str:
    """Check Tiny Shakespeare's bytes against its checksum and decode them as UTF-8."""
    digest = hashlib.sha256(raw).hexdigest()
    if digest != TINYSHAKESPEARE_SHA256:
        raise ValueError(f"its contents have SHA-256 {digest}, expected {TINYSHAKESPEARE_SHA256}")
    return raw.decode("utf-8")


def _as_class_indices(labels: np.ndarray) -> np.ndarray:
    """Widen uint8 labels to read-only int64, the dtype PyTorch's losses expect for classes."""
    indices = labels.astype(np.int64)
    indices.flags.writeable = False
    return indices


def _write_atomically(path: Path, data: bytes) -> None:
    """Save a downloaded file so that a crash never leaves half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, lambda file: file.write(data))
