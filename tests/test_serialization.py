"""Tests for edugrad.serialization: round trips, atomic writes, PyTorch-style calls and damaged checkpoints."""

from __future__ import annotations

import io
import json
import pickle
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import edugrad
from edugrad import Tensor, nn, serialization
from edugrad.serialization import CheckpointError, load, save


class FakeTensor:
    """Stands in for an edugrad Tensor: all `save` needs is a ``.numpy()`` method."""

    def __init__(self, data: np.ndarray) -> None:
        self.data = data

    def numpy(self) -> np.ndarray:
        return self.data


def _state() -> dict[str, Any]:
    """A checkpoint shaped like a training loop's: model, optimizer state, and bookkeeping."""
    return {
        "model": {
            "fc1.weight": np.arange(12, dtype=np.float32).reshape(3, 4),
            "fc1.bias": FakeTensor(np.array([0.5, -1.5], dtype=np.float64)),
            "steps": np.array(7, dtype=np.int64),
        },
        "optimizer": {
            "state": {0: {"momentum": np.ones(3)}, 1: {"momentum": np.zeros((2, 2))}},
            "param_groups": [{"lr": 0.01, "betas": (0.9, 0.999), "params": [0, 1], "nesterov": False}],
        },
        "epoch": 3,
        "best_loss": np.float32(0.25),
        "note": "after warm-up",
        "scheduler": None,
        "history": [[1.0, 0.5], []],
        "a/b": np.array([1, 2], dtype=np.uint8),
        "a": {"b": np.array([3, 4], dtype=np.uint8)},
    }


def _saved(tmp_path: Path) -> Path:
    path = tmp_path / "model.ckpt"
    save(_state(), path)
    return path


def test_round_trip_rebuilds_the_nested_structure(tmp_path: Path) -> None:
    path = tmp_path / "model.ckpt"
    save(_state(), str(path))
    state = load(path)

    model = state["model"]
    np.testing.assert_array_equal(model["fc1.weight"], np.arange(12).reshape(3, 4))
    assert model["fc1.weight"].dtype == np.float32
    np.testing.assert_array_equal(model["fc1.bias"], [0.5, -1.5])
    assert model["steps"].shape == () and model["steps"] == 7
    assert set(state["optimizer"]["state"]) == {0, 1}, "int keys must stay ints"
    np.testing.assert_array_equal(state["optimizer"]["state"][1]["momentum"], np.zeros((2, 2)))
    assert state["optimizer"]["param_groups"] == [
        {"lr": 0.01, "betas": (0.9, 0.999), "params": [0, 1], "nesterov": False}
    ]
    assert state["epoch"] == 3 and state["best_loss"] == 0.25
    assert state["note"] == "after warm-up" and state["scheduler"] is None
    assert state["history"] == [[1.0, 0.5], []]
    np.testing.assert_array_equal(state["a/b"], [1, 2])
    np.testing.assert_array_equal(state["a"]["b"], [3, 4])


def test_arrays_are_inspectable_with_plain_numpy(tmp_path: Path) -> None:
    with np.load(_saved(tmp_path), allow_pickle=False) as contents:
        assert "arrays/model/fc1.weight" in contents.files
        assert serialization.METADATA_KEY in contents.files


def test_save_overwrites_an_existing_checkpoint(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    save({"epoch": 4}, path)
    assert load(path) == {"epoch": 4}


def test_failed_save_leaves_previous_checkpoint_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _saved(tmp_path)

    def write_half_then_fail(file: Any, *args: Any, **kwargs: Any) -> None:
        file.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", write_half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        save({"epoch": 99}, path)
    monkeypatch.undo()

    assert load(path)["epoch"] == 3
    assert [p.name for p in tmp_path.iterdir()] == ["model.ckpt"]


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda raw: raw[: len(raw) // 2], "truncated, corrupt"),
        (lambda raw: b"certainly not a zip file" * 10, "truncated, corrupt"),
        (lambda raw: b"", "truncated, corrupt"),
    ],
)
def test_damaged_checkpoint_is_reported_with_its_path(
    tmp_path: Path, damage: Callable[[bytes], bytes], message: str
) -> None:
    path = _saved(tmp_path)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(CheckpointError, match=re.escape(str(path)) + ".*" + message):
        load(path)


def test_flipped_byte_inside_an_array_is_detected(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    raw = bytearray(path.read_bytes())
    offset = raw.find(np.arange(12, dtype=np.float32).tobytes())
    assert offset > 0
    raw[offset + 5] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match=re.escape(str(path)) + ".*corrupt"):
        load(path)


def test_missing_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.ckpt"
    with pytest.raises(CheckpointError, match=re.escape(str(path)) + ".*no such"):
        load(path)


def test_other_numpy_files_are_not_checkpoints(tmp_path: Path) -> None:
    npz = tmp_path / "plain.npz"
    np.savez(npz, weights=np.ones(3))
    with pytest.raises(CheckpointError, match=re.escape(str(npz)) + ".*not an edugrad checkpoint"):
        load(npz)
    npy = tmp_path / "single.npy"
    np.save(npy, np.ones(3))
    with pytest.raises(CheckpointError, match=re.escape(str(npy)) + ".*not an edugrad checkpoint"):
        load(npy)


@pytest.mark.parametrize(
    "state, message",
    [
        ({"tags": {"a", "b"}}, r"cannot store set at state\['tags'\]"),
        ({"objects": np.array([None, 1], dtype=object)}, "holds Python objects"),
        ({("layer", 1): np.ones(2)}, "must be a str or int"),
    ],
)
def test_unsupported_values_are_refused(tmp_path: Path, state: dict[Any, Any], message: str) -> None:
    with pytest.raises(TypeError, match=message):
        save(state, tmp_path / "bad.ckpt")
    assert list(tmp_path.iterdir()) == []


def test_unsupported_values_are_refused_with_a_hint() -> None:
    with pytest.raises(TypeError, match=r"cannot store Linear at state; save its state_dict\(\) instead"):
        save(nn.Linear(2, 1), io.BytesIO())
    cycle: dict[str, Any] = {"a": []}
    cycle["a"].append(cycle)
    with pytest.raises(TypeError, match=r"save: state\['a'\]\[0\] contains itself"):
        save(cycle, io.BytesIO())


# ---------------------------------------------------------------- called as PyTorch programs call it

def test_save_and_load_a_state_dict_at_module_level(tmp_path: Path) -> None:
    edugrad.manual_seed(0)
    model, other = nn.Linear(3, 2), nn.Linear(3, 2)
    saved = model.state_dict()
    edugrad.save(saved, tmp_path / "model.pt")
    state = edugrad.load(tmp_path / "model.pt")
    assert {key: type(value) for key, value in state.items()} == {key: type(value) for key, value in saved.items()}
    other.load_state_dict(state)

    def host(value: Any) -> np.ndarray:
        return value.numpy() if isinstance(value, Tensor) else value

    for key, value in saved.items():
        np.testing.assert_array_equal(host(other.state_dict()[key]), host(value))


def test_tensors_keep_their_dtype_and_arrays_stay_arrays(tmp_path: Path) -> None:
    path = tmp_path / "mixed.pt"
    saved = [Tensor([0.5, 1.5], dtype=edugrad.float64), Tensor([1, 2]), Tensor([True]), np.ones(2, np.float32), 7]
    save(saved, path)  # not only dicts: torch.save takes any structure, a bare tensor included
    loaded = load(path)
    assert [type(value) for value in loaded] == [Tensor, Tensor, Tensor, np.ndarray, int]
    assert [t.dtype for t in loaded[:3]] == [edugrad.float64, edugrad.int64, edugrad.bool]
    save(Tensor([1.5]), path)
    assert load(path).tolist() == [1.5]


def test_file_objects_work_as_in_pytorch() -> None:
    buffer = io.BytesIO()
    save({"w": Tensor([1.0, 2.0]), "step": 3}, buffer)
    buffer.seek(0)
    state = load(buffer)
    assert state["step"] == 3 and state["w"].tolist() == [1.0, 2.0]


@pytest.mark.parametrize("arguments", [
    dict(map_location="cpu"), dict(map_location=None), dict(weights_only=True), dict(weights_only=False),
    dict(map_location=lambda storage, location: storage), dict(map_location={"cuda:0": "cpu"}), dict(mmap=False),
])
def test_pytorch_load_arguments_are_accepted(tmp_path: Path, arguments: dict[str, Any]) -> None:
    save({"w": Tensor([1.0])}, tmp_path / "w.pt")
    assert load(tmp_path / "w.pt", **arguments)["w"].tolist() == [1.0]


def test_pytorch_load_arguments_that_cannot_be_honoured_are_refused(tmp_path: Path) -> None:
    import torch

    save({"w": Tensor([1.0])}, tmp_path / "w.pt")
    assert load(tmp_path / "w.pt", map_location=torch.device("cpu"))["w"].tolist() == [1.0]
    with pytest.raises(ValueError, match="pickle_module must be None"):
        load(tmp_path / "w.pt", pickle_module=pickle)
    with pytest.raises(TypeError, match="load: weights_only must be True, False or None, got 'yes'"):
        load(tmp_path / "w.pt", weights_only="yes")  # type: ignore[arg-type]
    with pytest.raises((ValueError, RuntimeError), match="cuda"):
        load(tmp_path / "w.pt", map_location="cuda")


@pytest.mark.parametrize("write", [
    lambda torch, sd, path: torch.save(sd, path),
    lambda torch, sd, path: torch.save(sd, path, _use_new_zipfile_serialization=False),
    lambda torch, sd, path: path.write_bytes(pickle.dumps({k: v.numpy() for k, v in sd.items()})),
], ids=["torch.save", "torch.save-legacy", "pickle"])
def test_pytorch_files_are_refused_with_how_to_convert(tmp_path: Path, write: Callable[..., Any]) -> None:
    import torch

    path = tmp_path / "model.pth"
    write(torch, torch.nn.Linear(2, 1).state_dict(), path)
    with pytest.raises(CheckpointError, match=re.escape(str(path)) + r": is a (PyTorch checkpoint|pickle).*"
                                              r"does not unpickle.*\{k: v.numpy\(\) for k, v in sd.items\(\)\}"):
        load(path)


def test_version_1_checkpoints_still_load(tmp_path: Path) -> None:
    """Version 1 told no tensors from arrays: every array loads as a numpy array."""
    path = tmp_path / "old.ckpt"
    tree = {"dict": [["w", {"array": "arrays/w"}], ["epoch", 2]]}
    write_members(path, {"arrays/w": np.ones(2), serialization.METADATA_KEY: metadata_bytes(tree, version=1)})
    state = load(path)
    assert state["epoch"] == 2 and isinstance(state["w"], np.ndarray)


# ---------------------------------------------------------------- damage never escapes as a raw error

def metadata_bytes(tree: Any, version: int = serialization.VERSION) -> np.ndarray:
    document = {"format": serialization.FORMAT, "version": version, "tree": tree}
    return np.frombuffer(json.dumps(document).encode(), dtype=np.uint8)


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array)
    return buffer.getvalue()


def write_members(path: Path, members: dict[str, np.ndarray | bytes], compression: int = zipfile.ZIP_STORED) -> None:
    """A zip of .npy members, written by hand so that a test can make it say anything."""
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, content in members.items():
            archive.writestr(name + ".npy", content if isinstance(content, bytes) else npy(content))


def test_every_flipped_byte_in_the_zip_directory_is_a_checkpoint_error(tmp_path: Path) -> None:
    path = tmp_path / "small.ckpt"
    save({"w": Tensor([1.0, 2.0]), "epoch": 1}, path)
    raw = path.read_bytes()
    directory = raw.index(b"PK\x01\x02")  # the central directory runs from here to the end
    refused = 0
    for offset in range(directory, len(raw)):
        for mask in (0x01, 0x80, 0xFF):
            damaged = bytearray(raw)
            damaged[offset] ^= mask
            path.write_bytes(bytes(damaged))
            try:
                load(path)  # some fields (timestamps, attributes) do not matter to reading
            except CheckpointError as error:
                assert str(path) in str(error)
                refused += 1
    assert refused > (len(raw) - directory)


def test_a_corrupt_compressed_member_is_a_checkpoint_error(tmp_path: Path) -> None:
    path = tmp_path / "deflated.ckpt"
    weights = np.zeros(10_000, np.float32)
    members = {"arrays/w": weights, serialization.METADATA_KEY: metadata_bytes({"tensor": "arrays/w"})}
    write_members(path, members, compression=zipfile.ZIP_DEFLATED)
    assert load(path).tolist() == weights.tolist(), "a compressed checkpoint is still a checkpoint"
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("arrays/w.npy")
    data_start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for offset in range(data_start, data_start + info.compress_size, 7):
        damaged = bytearray(raw)
        damaged[offset] ^= 0x5A
        path.write_bytes(bytes(damaged))
        with pytest.raises(CheckpointError, match=re.escape(str(path)) + ".*corrupt"):
            load(path)


def test_an_npy_header_claiming_too_many_elements_is_refused_before_allocating(tmp_path: Path) -> None:
    path = tmp_path / "huge.ckpt"
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f4", "fortran_order": False, "shape": (10**15,)})
    members = {"arrays/w": buffer.getvalue() + bytes(12), serialization.METADATA_KEY: metadata_bytes({"tensor": "arrays/w"})}
    write_members(path, members)
    with pytest.raises(CheckpointError, match=r"header announces shape \(1000000000000000,\) of float32 "
                                              r"\(4000000000000000 bytes\), but it holds 12 bytes"):
        load(path)


@pytest.mark.parametrize("depth", [200, 100_000])
def test_deeply_nested_metadata_is_a_checkpoint_error(tmp_path: Path, depth: int) -> None:
    path = tmp_path / "deep.ckpt"
    document = ('{"format": "%s", "version": 2, "tree": ' % serialization.FORMAT
                + '{"list": [' * depth + ']}' * depth + "}")
    members = {serialization.METADATA_KEY: np.frombuffer(document.encode(), np.uint8)}
    write_members(path, members)
    if depth == 200:  # deep, but within Python's stack: an honest structure
        nested = load(path)
        for _ in range(depth - 1):
            nested = nested[0]
        assert nested == []
        return
    with pytest.raises(CheckpointError, match=re.escape(str(path)) + ".*(RecursionError|nested)"):
        load(path)


def test_saving_into_a_missing_folder_names_the_folder(tmp_path: Path) -> None:
    missing = tmp_path / "runs" / "today"
    with pytest.raises(FileNotFoundError) as caught:
        save({"epoch": 1}, missing / "model.ckpt")
    assert f"the folder {missing} does not exist" in str(caught.value)
    assert ".model.ckpt." not in str(caught.value), "the message should not name the temporary file"
    with pytest.raises(IsADirectoryError, match=re.escape(str(tmp_path)) + ": it is a folder"):
        save({"epoch": 1}, tmp_path)
