"""Saving and loading torch state (weights, optimizer states) without unpickling arbitrary objects.

``load_torch`` only ever calls ``torch.load(weights_only=True)``: its restricted unpickler accepts
tensors and plain containers (dict, list, tuple, str, int, float, bool, None) and refuses anything
else, so a tampered or foreign checkpoint cannot run code on load. numpy arrays are refused too:
store them with ``np.savez`` / ``np.load(allow_pickle=False)`` or convert them to tensors.
Writes are atomic (``atomic_write``): an interrupted save leaves the previous checkpoint intact.
A truncated or corrupt file is a ``ValueError`` naming it, not torch's bare ``RuntimeError``.
"""

from __future__ import annotations

import os
import pickle
import re
from typing import Any

import torch

from ro_bench.atomic import atomic_write


def save_torch(path: str | os.PathLike[str], tree: Any) -> None:
    """Write a tree of tensors and plain containers (e.g. ``{"actor": net.state_dict()}``)."""
    with atomic_write(path) as f:
        torch.save(tree, f)


def load_torch(path: str | os.PathLike[str]) -> Any:
    """Read a ``save_torch`` file onto the CPU; ``pickle.UnpicklingError`` if it holds objects,
    ``ValueError`` naming the file if it is truncated or corrupt."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        found = re.search(r"GLOBAL (\S+) was not an allowed global", str(error))
        detail = f" (it references {found.group(1)})" if found else ""
        raise pickle.UnpicklingError(
            f"refusing to load {os.fspath(path)}: it holds objects other than tensors and plain "
            f"containers{detail}, and load_torch never unpickles those"
        ) from error
    except (RuntimeError, EOFError) as error:  # torch's words for a truncated or corrupt file
        reason = (str(error).splitlines() or [type(error).__name__])[0]
        raise ValueError(f"cannot read {os.fspath(path)}: it is not a whole save_torch file "
                         f"({reason})") from error
