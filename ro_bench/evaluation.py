"""Deterministic evaluation of an agent, and the check that its execution is decentralized."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from ro_bench.vector import VecEnv


def evaluate(agent: Any, vec: VecEnv, seed: int) -> tuple[float, float]:
    """Play one episode in each of ``vec``'s envs with ``explore=False``.

    Returns the mean team reward of each episode's last step (the ``final_step_reward`` metric)
    and the mean episode return. ``vec`` is an env batch of its own, never the training one.
    """
    obs, _ = vec.reset(seed=seed)
    finished = np.zeros(vec.num_envs, dtype=bool)
    last_reward = np.zeros(vec.num_envs)
    returns = np.zeros(vec.num_envs)
    while not finished.all():
        obs, rewards, terminated, truncated, _ = vec.step(agent.act(obs, explore=False))
        live = ~finished
        returns[live] += rewards[live, 0]
        done = live & (terminated[:, 0] | truncated[:, 0])
        last_reward[done] = rewards[done, 0]
        finished |= done
    return float(last_reward.mean()), float(returns.mean())


def is_decentralized(agent: Any, obs: np.ndarray, rng: np.random.Generator) -> bool:
    """Whether each agent's evaluation action ignores the other agents' observations.

    For each agent ``i``, the other agents' observations are replaced by random values and
    ``act(explore=False)`` is called on a copy of the agent taken before any call, so that
    everything else, its random state included, is the same. Agent ``i``'s action must not change.
    """
    reference = copy.deepcopy(agent).act(obs, explore=False)
    for i in range(obs.shape[1]):
        perturbed = obs + rng.normal(0.0, 1.0, size=obs.shape).astype(obs.dtype)
        perturbed[:, i] = obs[:, i]
        actions = copy.deepcopy(agent).act(perturbed, explore=False)
        if not np.array_equal(actions[:, i], reference[:, i]):
            return False
    return True
