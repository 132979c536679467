"""Tests for edugrad.datasets: verified loading, damage reports and downloads (the DataLoader: test_data_loader.py).

No test reaches the network: `urlopen` is replaced for every test, by a refusal by default and by
a fake mirror in the download tests.
"""

from __future__ import annotations

import gzip
import io
import re
import shutil
import time
import urllib.error
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from edugrad import datasets
from edugrad.datasets import DatasetError, load_mnist, load_tinyshakespeare

REPO_DATA = Path(__file__).resolve().parent.parent / "data"
LABELS = "t10k-labels-idx1-ubyte.gz"


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any download attempt fail the test loudly instead of touching the network."""

    def refuse(url: str, timeout: float | None = None) -> None:
        raise AssertionError(f"test tried to download {url}")

    monkeypatch.setattr(datasets.urllib.request, "urlopen", refuse)


@pytest.fixture
def mnist_root(tmp_path: Path) -> Path:
    """A fresh copy of the repository's MNIST files, safe to damage and never cached yet."""
    shutil.copytree(REPO_DATA / "mnist", tmp_path / "mnist")
    return tmp_path


def test_mnist_shapes_dtypes_labels_and_speed(mnist_root: Path) -> None:
    start = time.perf_counter()
    train_images, train_labels, test_images, test_labels = load_mnist(mnist_root, download=False)
    elapsed = time.perf_counter() - start

    assert train_images.shape == (60000, 28, 28) and train_images.dtype == np.uint8
    assert test_images.shape == (10000, 28, 28) and test_images.dtype == np.uint8
    assert train_labels.shape == (60000,) and train_labels.dtype == np.int64
    assert test_labels.shape == (10000,) and test_labels.dtype == np.int64
    for labels in (train_labels, test_labels):
        assert set(np.unique(labels)) == set(range(10))
    assert train_images.max() == 255 and train_images.min() == 0
    assert not train_images.flags.writeable and not train_labels.flags.writeable
    # The target is 1.5 s for decompressing and verifying all four files; the slack absorbs a
    # CI machine busy with other test workers.
    assert elapsed < 3.0, f"loading MNIST took {elapsed:.2f} s"
    assert load_mnist(mnist_root)[0] is train_images, "second load should come from the cache"


def test_data_root_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("EDUGRAD_DATA", raising=False)
    assert datasets.data_root() == REPO_DATA
    monkeypatch.setenv("EDUGRAD_DATA", str(tmp_path))
    assert datasets.data_root() == tmp_path
    assert datasets.data_root("elsewhere") == Path("elsewhere")


def _truncate(raw: bytes) -> bytes:
    return raw[: len(raw) // 2]


def _flip_compressed_byte(raw: bytes) -> bytes:
    damaged = bytearray(raw)
    damaged[len(raw) // 2] ^= 0xFF
    return bytes(damaged)


def _change_one_label(raw: bytes) -> bytes:
    """A well-formed gzip and IDX file whose contents differ from MNIST's in one label."""
    data = bytearray(gzip.decompress(raw))
    data[100] = (data[100] + 1) % 10
    return gzip.compress(bytes(data))


def _drop_last_label(raw: bytes) -> bytes:
    """A well-formed gzip whose IDX header promises one label more than the file holds."""
    return gzip.compress(gzip.decompress(raw)[:-1])


@pytest.mark.parametrize(
    "damage, reason",
    [
        (_truncate, "truncated"),
        (_flip_compressed_byte, "damaged"),
        (_change_one_label, "SHA-256"),
        (_drop_last_label, "header announces"),
    ],
)
def test_damaged_mnist_file_is_reported_with_path_and_fix(
    mnist_root: Path, damage: Callable[[bytes], bytes], reason: str
) -> None:
    path = mnist_root / "mnist" / LABELS
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(DatasetError, match=re.escape(str(path.resolve()))) as caught:
        load_mnist(mnist_root, download=False)
    assert reason in str(caught.value)
    assert f"git checkout data/mnist/{LABELS}" in str(caught.value)


def test_missing_file_without_download_is_reported(mnist_root: Path) -> None:
    path = mnist_root / "mnist" / LABELS
    path.unlink()
    with pytest.raises(DatasetError, match=re.escape(str(path.resolve())) + ".*missing"):
        load_mnist(mnist_root, download=False)


def test_no_download_env_var_disables_downloads(
    mnist_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (mnist_root / "mnist" / LABELS).unlink()
    monkeypatch.setenv("EDUGRAD_NO_DOWNLOAD", "1")
    # download=True, yet the refusing urlopen is never reached.
    with pytest.raises(DatasetError, match="downloads are off"):
        load_mnist(mnist_root, download=True)


def test_missing_file_is_downloaded_verified_and_saved(
    mnist_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = mnist_root / "mnist" / LABELS
    path.unlink()
    good = (REPO_DATA / "mnist" / LABELS).read_bytes()
    requested = []

    def fake_mirror(url: str, timeout: float | None = None) -> io.BytesIO:
        requested.append(url)
        if url.startswith(datasets.MNIST_MIRRORS[0]):
            raise urllib.error.URLError("first mirror is down")
        return io.BytesIO(good)

    monkeypatch.delenv("EDUGRAD_NO_DOWNLOAD", raising=False)
    monkeypatch.setattr(datasets.urllib.request, "urlopen", fake_mirror)
    test_labels = load_mnist(mnist_root)[3]

    assert requested == [mirror + LABELS for mirror in datasets.MNIST_MIRRORS]
    assert path.read_bytes() == good
    assert test_labels.shape == (10000,)
    assert sorted(p.name for p in path.parent.iterdir()) == sorted(
        p.name for p in (REPO_DATA / "mnist").iterdir()
    ), "the download must leave no temporary file behind"


def test_corrupt_download_is_rejected_and_not_saved(
    mnist_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = mnist_root / "mnist" / LABELS
    path.unlink()
    bad = _change_one_label((REPO_DATA / "mnist" / LABELS).read_bytes())
    monkeypatch.delenv("EDUGRAD_NO_DOWNLOAD", raising=False)
    monkeypatch.setattr(
        datasets.urllib.request, "urlopen", lambda url, timeout=None: io.BytesIO(bad)
    )
    with pytest.raises(DatasetError, match="downloading it failed.*SHA-256"):
        load_mnist(mnist_root)
    assert not path.exists()
    assert LABELS not in " ".join(p.name for p in path.parent.iterdir())


def test_tinyshakespeare_loads_and_detects_corruption(tmp_path: Path) -> None:
    text = load_tinyshakespeare()
    assert len(text) == 1115394 and text.startswith("First Citizen:")

    (tmp_path / "tinyshakespeare").mkdir()
    path = tmp_path / "tinyshakespeare" / "input.txt"
    path.write_text(text.replace("Citizen", "Citizan", 1))
    with pytest.raises(DatasetError, match=re.escape(str(path.resolve())) + ".*SHA-256"):
        load_tinyshakespeare(tmp_path)


@pytest.mark.parametrize("download", [False, True])
def test_a_folder_where_a_file_should_be_is_named(mnist_root: Path, download: bool) -> None:
    """Not IsADirectoryError: the message names the folder, and nothing is downloaded over it."""
    path = mnist_root / "mnist" / LABELS
    path.unlink()
    path.mkdir()
    with pytest.raises(DatasetError, match=re.escape(str(path.resolve())) + r" is a folder, but the dataset file"):
        load_mnist(mnist_root, download=download)


def test_a_folder_where_tinyshakespeare_should_be_is_named(tmp_path: Path) -> None:
    path = tmp_path / "tinyshakespeare" / "input.txt"
    path.mkdir(parents=True)
    with pytest.raises(DatasetError, match=re.escape(str(path.resolve())) + r" is a folder"):
        load_tinyshakespeare(tmp_path, download=False)
