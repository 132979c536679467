"""Tests for edugrad.serialization: round trips, atomic writes and damaged checkpoints."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edugrad import serialization
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

    monkeypatch.np.setattr("savez", write_half_then_fail)
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
