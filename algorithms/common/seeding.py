"""Seeding every global RNG a training run touches, and capturing them for exact resume.

What makes two CPU runs with the same seed produce bit-identical results:

- Every generator is seeded: python ``random``, numpy's legacy global RNG (``np.random.*``, still
  used by libraries), torch's default CPU generator (weight init, dropout, ``torch.rand*``), and the
  ``np.random.Generator`` that ``seed_everything`` returns for the caller's own numpy draws. Envs
  and replay buffers own generators seeded separately; they are not global.
- ``torch.use_deterministic_algorithms(True, warn_only=True)``: few CPU kernels are
  nondeterministic, but those that are now warn, and uninitialised memory (``torch.empty``) is
  filled with NaN instead of whatever was there. The cost on CPU is small.
- The same torch build, CPU type and thread count (``torch.set_num_threads``): parallel
  reductions and BLAS/oneDNN kernels (picked by instruction set) add in orders that depend on
  them. Equality is guaranteed within one configuration, not across machines; this module does
  not change the thread count.
- ``PYTHONHASHSEED`` for code iterating over sets of strings; it only takes effect at interpreter
  start, so it cannot be set from here.

Generators built from the same integer draw the same stream, so give each component (env, replay
buffer, exploration noise) its own seed, e.g. from ``np.random.SeedSequence(seed).spawn(n)``.
Exact resume also needs the returned generator's ``bit_generator.state`` (JSON-able) saved by
whoever owns it; ``rng_state`` covers only the global RNGs. CUDA generators are not captured
(ro-bench trains on CPU).
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from ro_bench.params import boolean, integer

try:
    import torch
except ImportError:  # torch is the optional "algos" extra; numpy-only code can still seed
    torch = None


def seed_everything(seed: int, *, deterministic: bool = True) -> np.random.Generator:
    """Seed python, numpy (legacy global) and torch; return a fresh Generator seeded with ``seed``.

    ``deterministic`` switches on torch's deterministic algorithms (process-wide; warn-only).
    """
    seed = integer("seed", seed, low=0, high=2**32 - 1)  # numpy's legacy RNG takes 32 bits
    deterministic = boolean("deterministic", deterministic)
    random.seed(seed)
    np.random.seed(seed)
    if torch is not None:
        torch.manual_seed(seed)
        if deterministic:
            torch.use_deterministic_algorithms(True, warn_only=True)
    return np.random.default_rng(seed)


def rng_state() -> dict[str, Any]:
    """The global RNG states as JSON-able values (lists, ints, floats, None)."""
    version, internal, gauss_next = random.getstate()
    numpy_state = np.random.get_state(legacy=False)
    numpy_state["state"] = {
        "key": numpy_state["state"]["key"].tolist(),
        "pos": int(numpy_state["state"]["pos"]),
    }
    return {
        "python": [version, list(internal), gauss_next],
        "numpy": numpy_state,
        "torch": None if torch is None else torch.get_rng_state().tolist(),
    }


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore ``rng_state()`` output (also after a JSON round trip)."""
    if (state.get("torch") is None) != (torch is None):
        raise ValueError("state and this process disagree on torch: captured with torch "
                         f"{state.get('torch') is not None}, torch installed {torch is not None}")
    version, internal, gauss_next = state["python"]
    random.setstate((version, tuple(internal), gauss_next))
    numpy_state = dict(state["numpy"])
    numpy_state["state"] = {
        "key": np.asarray(numpy_state["state"]["key"], dtype=np.uint32),
        "pos": numpy_state["state"]["pos"],
    }
    np.random.set_state(numpy_state)
    if torch is not None:
        torch.set_rng_state(torch.tensor(state["torch"], dtype=torch.uint8))
