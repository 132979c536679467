"""Save and load checkpoints: nested dicts of tensors, arrays and plain values, in one ``.npz`` file.

``edugrad.save(obj, f)`` and ``edugrad.load(f)`` are called as PyTorch's are, e.g.
``edugrad.save(model.state_dict(), "model.pt")`` then ``model.load_state_dict(edugrad.load("model.pt"))``,
or with a whole training state: ``{"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}``.

The format is edugrad's own, not PyTorch's pickle. Tensors and numpy arrays are stored as ``.npy``
members of a zip, named after their place in the structure (``arrays/model/fc1.weight``), so
``np.load`` can inspect a checkpoint without edugrad. Everything else, plus the shape of the
structure itself, goes into a JSON document stored under the reserved key ``__edugrad__``.
Nothing is pickled, so loading a checkpoint from a stranger cannot run code; a PyTorch file is
refused with the recipe to convert it.

Saving to a path is atomic: the file is written beside the target and renamed over it only when
complete, so a crash mid-save leaves the previous checkpoint intact.
"""

from __future__ import annotations

import io
import json
import math
import os
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any, Callable

import numpy as np

from edugrad.ops import DType
from edugrad.tensor import Tensor

__all__ = ["CheckpointError", "load", "save"]

FORMAT = "edugrad-checkpoint"
# Version 2 tells tensors from numpy arrays, so each loads back as what was saved; version 1
# files (every array loads as a numpy array) are still read.
VERSION = 2
READABLE_VERSIONS = (1, 2)
METADATA_KEY = "__edugrad__"
# Array members are named under this prefix so that no name can clash with METADATA_KEY, or
# with the keyword arguments of np.savez (``file``, ``allow_pickle``) that carry the arrays.
ARRAY_PREFIX = "arrays/"

# What reading a damaged file raises, from zipfile (a bad directory: BadZipFile, struct.error,
# NotImplementedError for an unknown compression, RuntimeError for an encrypted member, and
# others for fields that make no sense), zlib (a corrupt compressed member), numpy's .npy header
# parser (ValueError), json, and our own walk over the structure (KeyError, TypeError,
# RecursionError for metadata nested deeper than Python's stack). Any of them means "damaged".
_DAMAGE = (OSError, EOFError, ValueError, KeyError, TypeError, IndexError, OverflowError, MemoryError,
           RuntimeError, struct.error, zlib.error, zipfile.BadZipFile, zipfile.LargeZipFile)

PYTORCH_HOW_TO_CONVERT = (
    "edugrad does not unpickle files, since loading a pickle can run any code. To convert it, in "
    "PyTorch run: sd = torch.load(path, map_location='cpu'); then save "
    "{k: v.numpy() for k, v in sd.items()} with numpy (np.savez) or with edugrad.save, and pass "
    "what you load to load_state_dict"
)

FileLike = str | os.PathLike[str] | IO[bytes]


class CheckpointError(RuntimeError):
    """A checkpoint file is missing, damaged or not an edugrad checkpoint; the message says which."""


def save(obj: Any, f: FileLike) -> None:
    """Write `obj` to `f` (a path, or a binary file object such as ``io.BytesIO``) as an edugrad
    checkpoint; a file at the path is replaced atomically.

    `obj` is a Tensor, numpy array, int, float, bool, str or None, or a dict (with str or int
    keys), list or tuple of these, nested as deep as you like: ``model.state_dict()``,
    ``optimizer.state_dict()`` and dicts holding them all qualify. Numpy scalars are stored as the
    equivalent Python number. Raises TypeError, naming the offending entry, for anything else
    (a whole Module, for instance: save its state_dict()).
    """
    arrays: dict[str, np.ndarray] = {}
    metadata = {"format": FORMAT, "version": VERSION, "tree": _encode(obj, [], arrays, set())}
    arrays[METADATA_KEY] = np.frombuffer(json.dumps(metadata).encode("utf-8"), dtype=np.uint8)

    # mypy fears a member named "allow_pickle"; ARRAY_PREFIX and METADATA_KEY rule it out.
    def write(file: IO[bytes]) -> None:
        np.savez(file, **arrays)  # type: ignore[arg-type]

    if hasattr(f, "write"):
        write(f)  # type: ignore[arg-type]
    else:
        write_atomically(Path(f), write)  # type: ignore[arg-type]


def write_atomically(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Call `write` on a temporary file beside `path`, flush it to disk, then rename it over `path`:
    a crash at any moment leaves either the old file or the new one, never half of one."""
    if not path.parent.is_dir():
        raise FileNotFoundError(f"save: cannot write {path}: the folder {path.parent} does not exist "
                                f"(create it first, e.g. os.makedirs({str(path.parent)!r}))")
    if path.is_dir():
        raise IsADirectoryError(f"save: cannot write {path}: it is a folder; give a file name inside it")
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


def load(f: FileLike, map_location: Any = None, pickle_module: Any = None, *, weights_only: bool | None = None,
         mmap: bool | None = None) -> Any:
    """Read a checkpoint written by `save` from `f` (a path or a binary file object) and return
    what was saved: Tensors where Tensors were saved, numpy arrays where arrays were, tuples as
    tuples. Loading runs no code.

    The other arguments are PyTorch's, accepted so that PyTorch programs run: edugrad never
    unpickles, so `weights_only` (either value) and `mmap` change nothing, and `pickle_module`
    must be None. Tensors load on the CPU, so `map_location` may be None, "cpu" or a CPU device; a
    dict or function, which in PyTorch remaps tensors by the device they were saved from, sees only
    the CPU here. Any other device is refused.

    Raises CheckpointError, naming the file, when it is missing, truncated or corrupt, a PyTorch
    pickle (the message says how to convert it), or otherwise not an edugrad checkpoint.
    """
    if pickle_module is not None:
        raise ValueError("load: edugrad checkpoints are not pickles, so pickle_module must be None")
    for flag, value in (("weights_only", weights_only), ("mmap", mmap)):
        if value is not None and not isinstance(value, bool):
            raise TypeError(f"load: {flag} must be True, False or None, got {value!r}")
    if _device_of(map_location) != "cpu":
        raise ValueError(f"load: map_location={map_location!r}: edugrad loads checkpoints onto the CPU; load with "
                         f"map_location='cpu' and move the model afterwards")

    if hasattr(f, "read"):
        name = f"<{type(f).__name__}>"
        file: IO[bytes] = io.BytesIO(f.read())  # type: ignore[union-attr]
        obj = _read(file, name)
    else:
        path = Path(f)  # type: ignore[arg-type]
        name = str(path)
        if not path.exists():
            raise CheckpointError(f"{path}: no such checkpoint file")
        if not path.is_file():
            raise CheckpointError(f"{path}: is a directory or device, not a checkpoint file")
        try:
            with open(path, "rb") as file:
                obj = _read(file, name)
        except OSError as error:  # e.g. no permission to read it
            raise CheckpointError(f"{path}: cannot be read ({error})") from error
    return obj


def _read(file: IO[bytes], name: str) -> Any:
    """Check what kind of file `file` is, then rebuild the saved structure from its members."""
    head = file.read(6)
    file.seek(0)
    if head[:1] == b"\x80":  # every pickle of protocol 2 or later, as torch.save's legacy format
        raise CheckpointError(f"{name}: is a pickle (PyTorch's torch.save format, or Python's pickle), not an "
                              f"edugrad checkpoint. {PYTORCH_HOW_TO_CONVERT}")
    if head == b"\x93NUMPY":
        raise CheckpointError(f"{name}: holds a single .npy array, not an edugrad checkpoint")
    try:
        archive = zipfile.ZipFile(file)
    except _DAMAGE as error:
        raise CheckpointError(f"{name}: cannot be read as a checkpoint; it is truncated, corrupt or not an "
                              f".npz file ({error!r})") from error
    with archive:
        members = archive.namelist()
        if any(member.endswith("data.pkl") for member in members):
            raise CheckpointError(f"{name}: is a PyTorch checkpoint (torch.save's zip of pickles), not an "
                                  f"edugrad checkpoint. {PYTORCH_HOW_TO_CONVERT}")
        if METADATA_KEY + ".npy" not in members:
            raise CheckpointError(f"{name}: is an .npz file but not an edugrad checkpoint "
                                  f"(no {METADATA_KEY!r} entry)")
        try:
            metadata = json.loads(_read_array(archive, METADATA_KEY).tobytes().decode("utf-8"))
        except _DAMAGE as error:
            raise CheckpointError(f"{name}: its metadata is corrupt ({error!r})") from error
        if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
            raise CheckpointError(f"{name}: its {METADATA_KEY!r} entry is not edugrad metadata")
        if metadata.get("version") not in READABLE_VERSIONS:
            raise CheckpointError(f"{name}: checkpoint format version {metadata.get('version')!r}, this edugrad "
                                  f"reads versions {', '.join(map(str, READABLE_VERSIONS))}")
        try:
            return _decode(metadata["tree"], archive)
        except _DAMAGE as error:
            raise CheckpointError(f"{name}: checkpoint is corrupt ({error!r})") from error


def _read_array(archive: zipfile.ZipFile, key: str) -> np.ndarray:
    """The array stored as member ``key.npy``, checked against its header before it is built.

    np.load would trust the header and allocate what it claims (a header announcing 10^15
    elements asks for petabytes); here the claim must match the bytes the member really holds."""
    with archive.open(key + ".npy") as member:
        raw = member.read()
    stream = io.BytesIO(raw)
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(stream)
    elif version == (2, 0):
        shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(stream)
    else:
        raise ValueError(f"{key}: unsupported .npy format version {version}")
    if dtype.hasobject:
        raise ValueError(f"{key}: holds Python objects, which would have to be unpickled")
    count = math.prod(shape)
    held = len(raw) - stream.tell()
    if count * dtype.itemsize != held:
        raise ValueError(f"{key}: its header announces shape {shape} of {dtype} ({count * dtype.itemsize} bytes), "
                         f"but it holds {held} bytes")
    array = np.frombuffer(raw, dtype=dtype, count=count, offset=stream.tell())
    return array.reshape(shape, order="F" if fortran_order else "C").copy()  # writable, its own memory


def _encode(value: Any, where: list[str | int], arrays: dict[str, np.ndarray], containing: set[int]) -> Any:
    """Turn `value` into a JSON-able node, moving its arrays into `arrays`.

    Plain values stay as they are. Containers and arrays become one-key dicts tagged with what
    they were: ``{"dict": [[key, node], ...]}`` (a list of pairs, so int keys stay ints),
    ``{"list": [...]}``, ``{"tuple": [...]}``, ``{"array": member name}`` for a numpy array and
    ``{"tensor": member name}`` for a Tensor (or anything else with ``.numpy()``, such as a torch
    tensor). `where` is the path of keys leading to `value`, used to name arrays and to report
    errors; `containing` holds the ids of the containers around it, to catch one inside itself.
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (dict, list, tuple)):
        if id(value) in containing:
            raise TypeError(f"save: {_describe(where)} contains itself; cannot save a cycle")
        inside = containing | {id(value)}
        if isinstance(value, dict):
            items = []
            for key, item in value.items():
                if isinstance(key, bool) or not isinstance(key, (str, int)):
                    raise TypeError(f"save: key {key!r} at {_describe(where)} must be a str or int, "
                                    f"got {type(key).__name__}")
                items.append([key, _encode(item, [*where, key], arrays, inside)])
            return {"dict": items}
        children = [_encode(item, [*where, i], arrays, inside) for i, item in enumerate(value)]
        return {"tuple" if isinstance(value, tuple) else "list": children}
    tag = "array"
    if not isinstance(value, np.ndarray) and hasattr(value, "numpy"):
        detached = value.detach() if hasattr(value, "detach") else value  # torch refuses .numpy() with grad
        value, tag = np.asarray(detached.numpy()), "tensor"
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise TypeError(f"save: array at {_describe(where)} holds Python objects; cannot save it")
        name = ARRAY_PREFIX + "/".join(str(key) for key in where)
        while name in arrays:  # a key containing "/" can mimic a nested path; keep names unique
            name += "'"
        arrays[name] = value
        return {tag: name}
    hint = "; save its state_dict() instead" if hasattr(value, "state_dict") else ""
    raise TypeError(f"save: cannot store {type(value).__name__} at {_describe(where)}{hint}")


def _decode(node: Any, archive: zipfile.ZipFile) -> Any:
    """Rebuild the value that `_encode` turned into `node`, reading arrays from `archive`."""
    if not isinstance(node, dict):
        return node
    if len(node) != 1:
        raise ValueError(f"malformed node with keys {sorted(node)}")
    [(tag, body)] = node.items()
    if tag == "dict":
        return {key: _decode(child, archive) for key, child in body}
    if tag == "list":
        return [_decode(child, archive) for child in body]
    if tag == "tuple":
        return tuple(_decode(child, archive) for child in body)
    if tag == "array":
        return _read_array(archive, body)
    if tag == "tensor":
        array = _read_array(archive, body)
        # Keep the saved dtype (Tensor(array) alone would make float64 float32); a dtype edugrad
        # lacks, from a torch tensor, becomes its nearest (uint8 -> int64, float16 -> float32).
        names = {dtype.value for dtype in DType}
        return Tensor(array, dtype=DType(array.dtype.name) if array.dtype.name in names else None)
    raise ValueError(f"unknown node type {tag!r}")


def _device_of(map_location: Any) -> str:
    """The device `map_location` asks for: a device's name, or "cpu" for None, a dict or a function.
    A dict maps the device a tensor was saved from to where it goes; edugrad saves from the CPU."""
    if map_location is None or callable(map_location):
        return "cpu"
    if isinstance(map_location, Mapping):
        return str(map_location.get("cpu", "cpu")).split(":")[0]
    return str(map_location).split(":")[0]


def _describe(where: list[str | int]) -> str:
    """Name a place in the state for error messages, e.g. ``state['model']['fc1.weight']``."""
    return "state" + "".join(f"[{key!r}]" for key in where)
