"""Small shared primitives of the algorithm zoo, each in a file of its own and tested.

The numpy-only ones import eagerly; the torch ones load on first use, so that
``from ro_bench_zoo.common import ReplayBuffer`` works without the optional torch extra.
"""

from __future__ import annotations

import importlib
from typing import Any

from ro_bench.atomic import atomic_write
from ro_bench_zoo.common.replay_buffer import ReplayBuffer
from ro_bench_zoo.common.seeding import rng_state, seed_everything, set_rng_state

_TORCH_NAMES = {
    "mlp": "ro_bench_zoo.common.networks",
    "soft_update": "ro_bench_zoo.common.target",
    "hard_update": "ro_bench_zoo.common.target",
    "save_torch": "ro_bench_zoo.common.torch_files",
    "load_torch": "ro_bench_zoo.common.torch_files",
}

__all__ = ["ReplayBuffer", "atomic_write", "rng_state", "seed_everything", "set_rng_state",
           *_TORCH_NAMES]


def __getattr__(name: str) -> Any:
    if name in _TORCH_NAMES:
        return getattr(importlib.import_module(_TORCH_NAMES[name]), name)
    raise AttributeError(f"module 'ro_bench_zoo.common' has no attribute {name!r}")
