"""Spaces for testing agents without an env."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces as gym_spaces

from ro_bench.agents import EnvSpaces


def make_spaces(n: int = 3, act_dim: int = 1, obs_dim: int = 2, state_dim: int | None = None,
                bound: float = 10.0, obs_low: float = -np.inf,
                obs_high: float = np.inf) -> EnvSpaces:
    """``n`` agents acting in ``[-bound, bound]^act_dim``; the state is the observation's space
    unless ``state_dim`` is given."""
    box = gym_spaces.Box(-bound, bound, (act_dim,), np.float32)
    obs = gym_spaces.Box(obs_low, obs_high, (obs_dim,), np.float32)
    state = obs if state_dim is None else gym_spaces.Box(-np.inf, np.inf, (state_dim,), np.float32)
    return EnvSpaces(agents=tuple(f"agent_{i}" for i in range(n)), observation_space=obs,
                     action_spaces=(box,) * n, state_space=state)
