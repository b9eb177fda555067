"""Atomic checkpoints of a training run: the harness's progress, the env batch and the agent.

A checkpoint is a directory ``checkpoints/step_<n>`` written in full under a temporary name and
renamed into place; the file ``checkpoints/LATEST`` then names it, replaced atomically. A run
killed at any moment, even in the middle of writing, leaves ``LATEST`` naming a complete
checkpoint. Nothing is pickled: arrays go to ``.npz`` (read with ``allow_pickle=False``), the rest
to JSON, and the agent writes its own directory (``Agent.save``).

Every checkpoint ends with ``MANIFEST.json``, the sha256 of each of its files, and ``load`` checks
every file against it before reading any: a flipped bit, a truncated or a missing file, or one
added, is an error naming the file, never a silently different run; so is a checkpoint that
passes but still cannot be read. ``LATEST`` must name a ``step_<12 digits>`` directory beside it,
not a symbolic link, nothing else (no path can lead out of the run).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ro_bench.atomic import atomic_write
from ro_bench.vector import VecEnv

MANIFEST = "MANIFEST.json"
_NAME = re.compile(r"step_\d{12}")


class CheckpointError(ValueError):
    """A checkpoint that cannot be trusted or read; the message names the file."""


def save(run_dir: Path, step: int, progress: dict[str, Any], env: VecEnv, obs: np.ndarray,
         agent: Any) -> Path:
    """Write the checkpoint of ``step`` and make it the latest; older ones are removed."""
    root = Path(run_dir) / "checkpoints"
    final = root / f"step_{step:012d}"
    partial = root / f"{final.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    arrays, env_meta = env.snapshot()
    np.savez(partial / "env.npz", obs=obs, **arrays)
    (partial / "progress.json").write_text(json.dumps({"progress": progress, "env": env_meta}))
    agent.save(partial / "agent")
    (partial / MANIFEST).write_text(json.dumps(_digests(partial), indent=1, sort_keys=True))
    shutil.rmtree(final, ignore_errors=True)
    os.replace(partial, final)
    _write_atomically(root / "LATEST", final.name)
    for old in root.iterdir():
        if old.is_dir() and old != final:
            shutil.rmtree(old, ignore_errors=True)
    return final


def exists(run_dir: Path) -> bool:
    """Whether ``run_dir`` has a checkpoint for ``load`` to resume from."""
    return (Path(run_dir) / "checkpoints" / "LATEST").exists()


def load(run_dir: Path, env: VecEnv, agent: Any) -> tuple[dict[str, Any], np.ndarray] | None:
    """Restore ``env`` and ``agent`` from the latest checkpoint; return (progress, obs) or None."""
    if not exists(run_dir):
        return None
    path = latest(Path(run_dir) / "checkpoints")
    verify(path)
    with _reading(path / "progress.json"):
        saved = json.loads((path / "progress.json").read_text())
        progress, env_meta = saved["progress"], saved["env"]
    with _reading(path / "env.npz"):
        with np.load(path / "env.npz", allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
        obs = arrays.pop("obs")
        env.restore(arrays, env_meta)
    with _reading(path / "agent"):
        agent.load(path / "agent")
    return progress, obs


@contextlib.contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Any failure inside the block becomes a CheckpointError naming ``path``. The manifest
    proves the bytes are the ones written, not that they load (an edited manifest, a bug, a
    change of format), and an agent's own ``load`` may raise anything."""
    try:
        yield
    except Exception as err:
        raise CheckpointError(f"{path}: cannot read the checkpoint: {type(err).__name__}: "
                              f"{err}") from err


def latest(root: Path) -> Path:
    """The checkpoint directory ``root/LATEST`` names, which must be ``step_<12 digits>``."""
    try:
        name = (root / "LATEST").read_text().strip()
    except (OSError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{root / 'LATEST'}: cannot read it: {err}") from None
    if not _NAME.fullmatch(name) or (root / name).is_symlink() or not (root / name).is_dir():
        raise CheckpointError(f"{root / 'LATEST'} names {name[:80]!r}, which is not a checkpoint "
                              f"directory step_<12 digits> in {root}")
    return root / name


def verify(path: Path) -> None:
    """Check every file of the checkpoint ``path`` against its manifest; raise CheckpointError."""
    try:
        expected = json.loads((path / MANIFEST).read_text())
    except FileNotFoundError:
        raise CheckpointError(f"{path / MANIFEST} is missing: the checkpoint is incomplete or "
                              "from an older ro-bench; train again without --resume") from None
    except (OSError, ValueError) as err:
        raise CheckpointError(f"{path / MANIFEST}: cannot read it: {err}") from None
    found = _digests(path)
    if not isinstance(expected, dict):
        raise CheckpointError(f"{path / MANIFEST} is not a manifest of file -> sha256")
    for name in sorted(set(expected) | set(found)):
        if name not in found:
            raise CheckpointError(f"{path / name} is missing from the checkpoint")
        if name not in expected:
            raise CheckpointError(f"{path / name} is not in the checkpoint's manifest")
        if found[name] != expected[name]:
            raise CheckpointError(f"{path / name} does not match its sha256 in {MANIFEST}: the "
                                  "checkpoint is corrupt or was edited")


def _digests(path: Path) -> dict[str, str]:
    """sha256 of every file under ``path`` but the manifest, by relative POSIX path."""
    return {file.relative_to(path).as_posix(): hashlib.sha256(file.read_bytes()).hexdigest()
            for file in sorted(path.rglob("*"))
            if file.is_file() and file.relative_to(path).as_posix() != MANIFEST}


def _write_atomically(path: Path, text: str) -> None:
    with atomic_write(path) as file:
        file.write(text.encode())
