"""Deterministic evaluation of an agent, and the check that its execution is decentralized."""

from __future__ import annotations

import copy
from typing import Any, NamedTuple

import numpy as np

from ro_bench.vector import VecEnv


class Evaluation(NamedTuple):
    """What one evaluation measured, over one episode per env of the evaluation batch."""

    final_step_reward: float  # the mean team reward of each episode's last step
    mean_return: float  # the mean episode return (undiscounted team reward)
    episode_returns: np.ndarray  # [num_envs] float64, each episode's return

    def metric(self, name: str) -> float:
        """The value of the protocol metric ``name`` (``ro_bench.protocols.METRICS``)."""
        return {"final_step_reward": self.final_step_reward,
                "mean_episode_return": self.mean_return}[name]


def evaluate(agent: Any, vec: VecEnv, seed: int) -> Evaluation:
    """Play one episode in each of ``vec``'s envs with ``explore=False``.

    ``vec`` is an env batch of its own, never the training one; row ``b`` is reset with seed
    ``seed + b``, so the first ``k`` episodes of a larger batch are those of a ``k``-env batch.
    An episode ends at termination or truncation, as Gymnasium defines them; a finished row keeps
    stepping (auto-reset) but counts no more.
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
    return Evaluation(float(last_reward.mean()), float(returns.mean()), returns)


def acting_copy(agent: Any) -> Any:
    """A deep copy of ``agent`` to call ``act`` on, sharing what acting never reads or changes.

    An agent may name such objects (its replay buffers, of up to 1M transitions on MaMuJoCo) in
    an optional method ``shared_by_copies() -> tuple``; the copy holds the same objects instead
    of copies of them, and everything else (weights, random states) is copied. Acting must then
    leave them alone, which ``tests/test_zoo.py`` checks for every algorithm: evaluating never
    changes what the agent trains on.
    """
    shared = getattr(agent, "shared_by_copies", None)
    memo = {id(obj): obj for obj in shared()} if shared is not None else {}
    return copy.deepcopy(agent, memo)


def is_decentralized(agent: Any, obs: np.ndarray, rng: np.random.Generator) -> bool:
    """Whether each agent's evaluation action ignores the other agents' observations.

    For each agent ``i``, the other agents' observations are replaced by random values and
    ``act(explore=False)`` is called on a copy of the agent taken before any call, so that
    everything else, its random state included, is the same. Agent ``i``'s action must not change.
    Copies share what acting never touches (``acting_copy``), so the check costs the weights and
    random states, not the replay buffers.
    """
    reference = acting_copy(agent).act(obs, explore=False)
    for i in range(obs.shape[1]):
        perturbed = obs + rng.normal(0.0, 1.0, size=obs.shape).astype(obs.dtype)
        perturbed[:, i] = obs[:, i]
        actions = acting_copy(agent).act(perturbed, explore=False)
        if not np.array_equal(actions[:, i], reference[:, i]):
            return False
    return True
