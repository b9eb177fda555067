"""The shared frame of the stateless games (matrix games and differential games).

A stateless game has no physical state: each step's team reward depends only on the joint action.
The episode lasts ``episode_length`` steps (1 by default: the one-shot game) and terminates after
the last one. Every agent observes the constant ``[0.0]`` (``Box(0, 1, (1,), float32)``): there is
nothing to observe. The global state is ``[t / episode_length]`` (same space), the progress through
the episode, so that a centralized critic of the repeated game can tell the steps apart.
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

    def best_response_payoff(self, actions: np.ndarray, agent: int) -> np.ndarray:
        """``max_a payoff(a, actions_{-agent})``, exactly, for each of a batch of (already checked)
        joint actions ``[B]``: the team reward if agent ``agent`` knew the others' actions and
        answered them as well as it can (the ERO gap's best response, Def. 2.1)."""
        raise NotImplementedError

    @property
    def optimum(self) -> float:
        """Best possible episode return (team reward summed over the episode)."""
        return self.episode_length * self.optimum_reward

    @property
    def trap(self) -> float:
        """Episode return of the RO trap (see the game's documentation)."""
        return self.episode_length * self.trap_reward

    optimum_reward: float  # best team reward of one step
    trap_reward: float  # team reward of one step in the RO trap

    def _reset_envs(self, mask: np.ndarray) -> None:
        pass  # the step counter, reset by VecEnv, is the whole state

    def _transition(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.payoff(actions), self.steps >= self.episode_length - 1

    def _observe(self) -> np.ndarray:
        return np.zeros((self.num_envs, self.n_agents, 1), dtype=np.float32)

    def _state(self) -> np.ndarray:
        return np.divide(self.steps[:, None], self.episode_length, dtype=np.float32)
