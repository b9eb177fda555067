"""Spaces and made-up transitions for testing agents without an env."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces as gym_spaces

from ro_bench.agents import EnvSpaces, Transitions


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


def fake_step(agent, rng: np.random.Generator, batch: int = 2) -> dict[str, float]:
    """act on random observations, observe made-up rewards (some episodes end), update."""
    n, o, s = agent.n, agent.obs_dim, agent.state_dim
    obs = rng.normal(size=(batch, n, o)).astype(np.float32)
    actions = agent.act(obs, explore=True)
    agent.observe(Transitions.from_step(
        obs=obs, state=rng.normal(size=(batch, s)).astype(np.float32), actions=actions,
        rewards=np.repeat(rng.normal(size=(batch, 1)), n, 1),
        next_obs=rng.normal(size=(batch, n, o)).astype(np.float32),
        next_state=rng.normal(size=(batch, s)).astype(np.float32),
        terminated=np.repeat(rng.random((batch, 1)) < 0.3, n, 1),
        truncated=np.zeros((batch, n), dtype=bool)))
    return agent.update()
