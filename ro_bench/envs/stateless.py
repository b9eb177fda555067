"""The shared frame of the stateless games (matrix games and differential games).

A stateless game has no physical state: each step's team reward depends only on the joint action.
The episode lasts ``episode_length`` steps (1 by default: the one-shot game) and terminates after
the last one. The only thing that changes is the step counter ``t``, so every agent observes
``[t / episode_length]`` (float32, in ``[0, 1]``) and the global state is the same vector. In the
one-shot game every decision is taken at ``t = 0``: the observation is the constant ``[0.0]``.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from ro_bench.vector import VecEnv
from ro_bench.params import integer


class StatelessGame(VecEnv):
    """A repeated game whose team reward is ``payoff(joint action)``; subclasses give the payoff."""

    def __init__(self, num_envs: int, n_agents: int, episode_length: int) -> None:
        super().__init__(num_envs)
        self.episode_length = integer("episode_length", episode_length, low=1, high=10_000)
        self.agents = tuple(f"agent_{i}" for i in range(n_agents))
        box = spaces.Box(0.0, 1.0, (1,), np.float32)
        self.observation_spaces = {a: box for a in self.agents}
        self.state_space = box

    def payoff(self, actions: np.ndarray) -> np.ndarray:
        """Team reward ``[B]`` of a batch of (already checked) joint actions."""
        raise NotImplementedError

    @property
    def optimum(self) -> float:
        """Best possible episode return (team reward summed over the episode)."""
        return self.episode_length * self.optimum_step

    @property
    def trap(self) -> float:
        """Episode return of the RO trap (see the game's documentation)."""
        return self.episode_length * self.trap_step

    optimum_step: float
    trap_step: float

    def _reset_envs(self, mask: np.ndarray) -> None:
        pass  # the step counter, reset by VecEnv, is the whole state

    def _transition(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.payoff(actions), self.steps + 1 >= self.episode_length

    def _observe(self) -> np.ndarray:
        return self._state()[:, None, :].repeat(self.n_agents, axis=1)

    def _state(self) -> np.ndarray:
        return (self.steps / self.episode_length).astype(np.float32)[:, None]
