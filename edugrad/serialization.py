"""Save and load checkpoints: nested dicts of arrays and plain values, in one ``.npz`` file.

A checkpoint is whatever nested structure a training loop wants to resume from, e.g.
``{"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}``. Arrays (and
Tensors, through their ``.numpy()``) are stored as ``.npy`` members of the zip, named after
their place in the structure (``arrays/model/fc1.weight``), so ``np.load`` can inspect a
checkpoint without edugrad. Everything else, plus the shape of the structure itself, goes into a
JSON document stored under the reserved key ``__edugrad__``. Nothing is pickled, so loading a
checkpoint from a stranger cannot run code.

Saving is atomic: the file is written beside the target and renamed over it only when
complete, so a crash mid-save leaves the previous checkpoint intact.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import IO, Any, Callable

import numpy as np

__all__ = ["CheckpointError", "load", "save"]

FORMAT = "edugrad-checkpoint"
VERSION = 1
METADATA_KEY = "__edugrad__"
# Array members are named under this prefix so that no name can clash with METADATA_KEY, or
# with the keyword arguments of np.savez (``file``, ``allow_pickle``) that carry the arrays.
ARRAY_PREFIX = "arrays/"

# What reading a damaged checkpoint raises. A damaged member surfaces only when it is read: a bad
# CRC is BadZipFile, a cut-off array EOFError or ValueError, bad JSON ValueError, and a mangled
# structure KeyError, TypeError or ValueError.
_DAMAGE = (OSError, EOFError, ValueError, KeyError, TypeError, zipfile.BadZipFile)


class CheckpointError(RuntimeError):
    """A checkpoint file is missing, damaged or not an edugrad checkpoint; the message says which."""


def save(state: dict[Any, Any], path: str | os.PathLike[str]) -> None:
    """Write `state` to `path` as an edugrad checkpoint, replacing any file there atomically.

    `state` is a dict whose keys are str or int and whose values are numpy arrays, objects with
    a ``.numpy()`` method (edugrad Tensors), int, float, bool, str, None, or dicts, lists and
    tuples of these. Numpy scalars are stored as the equivalent Python number. Raises TypeError,
    naming the offending entry, for anything else.
    """
    if not isinstance(state, dict):
        raise TypeError(f"save: state must be a dict, got {type(state).__name__}")
    arrays: dict[str, np.ndarray] = {}
    metadata = {"format": FORMAT, "version": VERSION, "tree": _encode(state, [], arrays)}
    arrays[METADATA_KEY] = np.frombuffer(json.dumps(metadata).encode("utf-8"), dtype=np.uint8)

    # mypy fears a member named "allow_pickle"; ARRAY_PREFIX and METADATA_KEY rule it out.
    write_atomically(Path(path), lambda file: np.savez(file, **arrays))  # type: ignore[arg-type]


def write_atomically(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Call `write` on a temporary file beside `path`, flush it to disk, then rename it over `path`:
    a crash at any moment leaves either the old file or the new one, never half of one."""
    tmp = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False)
    try:
        with tmp:
            write(tmp)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp.name, path)
    except BaseException:
        Path(tmp.name).unlink(missing_ok=True)
        raise


def load(path: str | os.PathLike[str]) -> dict[Any, Any]:
    """Read a checkpoint written by `save` and return the same nested structure.

    Array leaves (including Tensors that were saved) come back as numpy arrays; tuples come back
    as tuples. Raises CheckpointError, naming the path, when the file is missing, truncated or
    corrupt, or is not an edugrad checkpoint.
    """
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path}: no such checkpoint file")
    if not path.is_file():
        raise CheckpointError(f"{path}: is a directory or device, not a checkpoint file")
    try:
        contents = np.load(path, allow_pickle=False)
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as error:
        raise CheckpointError(
            f"{path}: cannot be read as a checkpoint; it is truncated, corrupt or not an "
            f".npz file ({error})"
        ) from error
    if not isinstance(contents, np.lib.npyio.NpzFile):
        raise CheckpointError(f"{path}: holds a single .npy array, not an edugrad checkpoint")

    with contents:
        if METADATA_KEY not in contents.files:
            raise CheckpointError(
                f"{path}: is an .npz file but not an edugrad checkpoint (no {METADATA_KEY!r} entry)"
            )
        try:
            metadata = json.loads(contents[METADATA_KEY].tobytes().decode("utf-8"))
        except _DAMAGE as error:
            raise CheckpointError(f"{path}: its metadata is corrupt ({error!r})") from error
        if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
            raise CheckpointError(f"{path}: its {METADATA_KEY!r} entry is not edugrad metadata")
        if metadata.get("version") != VERSION:
            raise CheckpointError(
                f"{path}: checkpoint format version {metadata.get('version')!r}, "
                f"this edugrad reads version {VERSION}"
            )
        try:
            state = _decode(metadata["tree"], contents)
        except _DAMAGE as error:
            raise CheckpointError(f"{path}: checkpoint is corrupt ({error!r})") from error
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: checkpoint does not hold a dict")
    return state


def _encode(value: Any, where: list[str | int], arrays: dict[str, np.ndarray]) -> Any:
    """Turn `value` into a JSON-able node, moving its arrays into `arrays`.

    Plain values stay as they are. Containers and arrays become one-key dicts tagged with what
    they were: ``{"dict": [[key, node], ...]}`` (a list of pairs, so int keys stay ints),
    ``{"list": [...]}``, ``{"tuple": [...]}`` and ``{"array": member name}``. `where` is the
    path of keys leading to `value`, used to name arrays and to report errors.
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                raise TypeError(
                    f"save: key {key!r} at {_describe(where)} must be a str or int, "
                    f"got {type(key).__name__}"
                )
            items.append([key, _encode(item, [*where, key], arrays)])
        return {"dict": items}
    if isinstance(value, (list, tuple)):
        children = [_encode(item, [*where, i], arrays) for i, item in enumerate(value)]
        return {"tuple" if isinstance(value, tuple) else "list": children}
    if hasattr(value, "numpy"):
        value = np.asarray(value.numpy())
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise TypeError(f"save: array at {_describe(where)} holds Python objects; cannot save it")
        name = ARRAY_PREFIX + "/".join(str(key) for key in where)
        while name in arrays:  # a key containing "/" can mimic a nested path; keep names unique
            name += "'"
        arrays[name] = value
        return {"array": name}
    raise TypeError(f"save: cannot store {type(value).__name__} at {_describe(where)}")


def _decode(node: Any, contents: np.lib.npyio.NpzFile) -> Any:
    """Rebuild the value that `_encode` turned into `node`, reading arrays from `contents`."""
    if not isinstance(node, dict):
        return node
    if len(node) != 1:
        raise ValueError(f"malformed node with keys {sorted(node)}")
    [(tag, body)] = node.items()
    if tag == "dict":
        return {key: _decode(child, contents) for key, child in body}
    if tag == "list":
        return [_decode(child, contents) for child in body]
    if tag == "tuple":
        return tuple(_decode(child, contents) for child in body)
    if tag == "array":
        return contents[body]
    raise ValueError(f"unknown node type {tag!r}")


def _describe(where: list[str | int]) -> str:
    """Name a place in the state for error messages, e.g. ``state['model']['fc1.weight']``."""
    return "state" + "".join(f"[{key!r}]" for key in where)
