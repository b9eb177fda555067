"""Atomic checkpoints of a training run: the harness's progress, the env batch and the agent.

A checkpoint is a directory ``checkpoints/step_<n>`` written in full under a temporary name and
renamed into place; the file ``checkpoints/LATEST`` then names it, replaced atomically. A run
killed at any moment, even in the middle of writing, leaves ``LATEST`` naming a complete
checkpoint. Nothing is pickled: arrays go to ``.npz`` (read with ``allow_pickle=False``), the rest
to JSON, and the agent writes its own directory (``Agent.save``).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from ro_bench.atomic import atomic_write
from ro_bench.vector import VecEnv


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
    shutil.rmtree(final, ignore_errors=True)
    os.replace(partial, final)
    _write_atomically(root / "LATEST", final.name)
    for old in root.iterdir():
        if old.is_dir() and old != final:
            shutil.rmtree(old, ignore_errors=True)
    return final


def load(run_dir: Path, env: VecEnv, agent: Any) -> tuple[dict[str, Any], np.ndarray] | None:
    """Restore ``env`` and ``agent`` from the latest checkpoint; return (progress, obs) or None."""
    root = Path(run_dir) / "checkpoints"
    if not (root / "LATEST").exists():
        return None
    path = root / (root / "LATEST").read_text().strip()
    saved = json.loads((path / "progress.json").read_text())
    with np.load(path / "env.npz", allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    obs = arrays.pop("obs")
    env.restore(arrays, saved["env"])
    agent.load(path / "agent")
    return saved["progress"], obs


def _write_atomically(path: Path, text: str) -> None:
    with atomic_write(path) as file:
        file.write(text.encode())
