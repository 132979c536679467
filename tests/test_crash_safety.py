"""Checkpoint writes are atomic: a process killed in the middle of `save` leaves the previous
checkpoint intact and loadable. (test_serialization.py covers a save that raises an exception.)

Each test runs the save in a child process that SIGKILLs itself at a chosen moment, so no
`except` or `finally` gets to clean up: exactly what a power cut or the OOM killer does.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edugrad.serialization import load, save

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")

# The child saves a new checkpoint over the old one, and dies at the moment `hook` names.
CHILD = """
import os, signal, sys
import numpy as np
from edugrad import serialization

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

real_savez = np.savez
if sys.argv[2] == "half-written":  # die after writing part of the new file
    def savez(file, **arrays):
        file.write(b"PK\\x03\\x04" + b"\\x00" * 4096)
        file.flush()
        die()
    np.savez = savez
else:  # "before-rename": the new file is complete on disk, but not yet renamed over the old one
    os.fsync = die
serialization.save({"weights": np.full((256, 256), 2.0, np.float32), "epoch": 2}, sys.argv[1])
print("not reached")
"""


def previous_checkpoint(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    path = tmp_path / "model.ckpt"
    state = {"weights": np.full((256, 256), 1.0, np.float32), "epoch": 1}
    save(state, path)
    return path, state


@pytest.mark.parametrize("moment", ["half-written", "before-rename"])
def test_killed_save_leaves_the_previous_checkpoint_intact(tmp_path: Path, moment: str) -> None:
    path, state = previous_checkpoint(tmp_path)
    old_bytes = path.read_bytes()
    repo = Path(__file__).resolve().parent.parent
    child = subprocess.run([sys.executable, "-c", CHILD, str(path), moment], cwd=repo,
                           capture_output=True, text=True, timeout=60)
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert "not reached" not in child.stdout

    assert path.read_bytes() == old_bytes
    loaded = load(path)
    assert loaded["epoch"] == 1 and np.array_equal(loaded["weights"], state["weights"])
    # What the killed process left is a hidden temporary file beside it, never the checkpoint's name.
    leftovers = [p.name for p in tmp_path.iterdir() if p != path]
    assert all(name.startswith(".model.ckpt.") for name in leftovers)
    save({"epoch": 3}, path)  # and the next save still works
    assert load(path) == {"epoch": 3}


def test_interrupted_save_cleans_up_its_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C during a save (KeyboardInterrupt is not an Exception) removes the partial file."""
    path, _ = previous_checkpoint(tmp_path)

    def interrupted(file: Any, **arrays: Any) -> None:
        file.write(b"PK\x03\x04 partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save({"epoch": 2}, path)
    monkeypatch.undo()
    assert load(path)["epoch"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["model.ckpt"]
