"""Matrix game (``matrix_game``): any cooperative normal-form game, one-shot or repeated.

The team reward of a joint action ``(a_1, ..., a_n)`` is ``payoff[a_1, ..., a_n]``, shared by every
agent. The number of agents is the number of dimensions of ``payoff``; agent ``i`` has
``payoff.shape[i]`` actions.

Spaces
    Agents ``agent_0 .. agent_{n-1}``. Actions ``Discrete(payoff.shape[i])`` by default. With
    ``continuous_actions=True`` every agent acts in ``Box(-1, 1, (1,), float32)`` and a continuous
    action ``x`` picks the discrete action ``min(floor((x + 1) / 2 * n_i), n_i - 1)``: the interval
    ``[-1, 1]`` is cut into ``n_i`` equal bins, left to right, the right edge belonging to the last
    one. Out-of-range continuous actions are clipped to ``[-1, 1]`` first (and counted in
    ``infos["clipped"]``). Observation: the constant ``[0.0]`` in ``Box(0, 1, (1,), float32)``.
    State: ``[t / episode_length]`` in the same space.

Parameters
    ``payoff``: array of real numbers in [-1e12, 1e12] with at least 2 dimensions, each of size
    >= 1 and at most 1e6 entries in all (required). Bools are refused, also mixed with numbers.
    ``episode_length``: int in [1, 10000], default 1 (the one-shot game); the game is repeated that
    many times and the episode terminates after the last step.
    ``continuous_actions``: bool, default False.

Optimum and trap (per step; ``optimum`` and ``trap`` report them times ``episode_length``)
    The optimum is ``payoff.max()``. The RO trap is the expected payoff when every agent plays its
    best response to uniformly random partners, choosing uniformly among tied best responses: the
    joint action that independent learners settle on when they average over each other's
    exploration (Claus & Boutilier 1998; Wei et al. 2018).

Seeding and rendering
    Nothing is random: ``reset`` takes any non-negative int seed, or none, and every episode is
    the same. There is nothing to draw: ``render_mode`` must be None (``metadata["render_modes"]``
    is empty).

Version history
    v0: first release.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from ro_bench.envs.stateless import StatelessGame
from ro_bench.params import boolean, holds_bool

MAX_ENTRIES = 1_000_000
MAX_ABS_PAYOFF = 1e12  # keeps the averages behind the trap value finite


def check_payoff(value: object) -> np.ndarray:
    """A finite payoff array with >= 2 dimensions, each of size >= 1; ValueError otherwise."""
    want = (
        f"an array of real numbers in [-{MAX_ABS_PAYOFF:g}, {MAX_ABS_PAYOFF:g}] with at least "
        "2 dimensions, each of size >= 1"
    )
    try:
        payoff = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"payoff must be {want}; got {value!r}") from None
    if holds_bool(value):  # numpy reads True as 1
        raise ValueError(f"payoff must be {want}, not booleans; got {value!r}")
    if payoff.ndim < 2 or 0 in payoff.shape or payoff.size > MAX_ENTRIES:
        raise ValueError(
            f"payoff must be {want} (at most {MAX_ENTRIES} entries); got shape {payoff.shape}"
        )
    if not (np.abs(payoff) <= MAX_ABS_PAYOFF).all():  # False for NaN too
        raise ValueError(f"payoff must be {want}; it contains NaN, inf or a larger number")
    payoff.setflags(write=False)
    return payoff


def ro_trap(payoff: np.ndarray) -> float:
    """Expected payoff when each agent best-responds to uniformly random partners (ties uniform)."""
    policies = []
    for i in range(payoff.ndim):
        others = tuple(j for j in range(payoff.ndim) if j != i)
        value = payoff.mean(axis=others)
        best = np.isclose(value, value.max(), rtol=1e-12, atol=1e-12)
        policies.append(best / best.sum())
    expected = payoff
    for policy in reversed(policies):  # contract the last axis each time
        expected = expected @ policy
    return float(expected)


class MatrixGame(StatelessGame):
    """A cooperative matrix game on a batch of ``num_envs`` copies."""

    def __init__(
        self,
        num_envs: int = 1,
        *,
        payoff: object,
        episode_length: int = 1,
        continuous_actions: bool = False,
    ) -> None:
        self.payoff_table = check_payoff(payoff)
        super().__init__(num_envs, self.payoff_table.ndim, episode_length)
        self.continuous_actions = boolean("continuous_actions", continuous_actions)
        self._sizes = np.array(self.payoff_table.shape)
        self._strides = np.array([s // 8 for s in self.payoff_table.strides], dtype=np.int64)
        self._flat = self.payoff_table.ravel()
        if self.continuous_actions:
            box = spaces.Box(-1.0, 1.0, (1,), np.float32)
            self.action_spaces = {a: box for a in self.agents}
        else:
            self.action_spaces = {
                a: spaces.Discrete(int(n)) for a, n in zip(self.agents, self._sizes)
            }
        self.optimum_reward = float(self.payoff_table.max())
        self.trap_reward = ro_trap(self.payoff_table)
        self._finish_init()

    def to_discrete(self, actions: np.ndarray) -> np.ndarray:
        """Map continuous actions ``[B, n, 1]`` in [-1, 1] to action indices ``[B, n]``."""
        bins = np.floor((actions[..., 0].astype(np.float64) + 1.0) / 2.0 * self._sizes)
        return np.minimum(bins.astype(np.int64), self._sizes - 1)

    def payoff(self, actions: np.ndarray) -> np.ndarray:
        if self.continuous_actions:
            actions = self.to_discrete(actions)
        return self._flat[actions @ self._strides]

    def best_response_payoff(self, actions: np.ndarray, agent: int) -> np.ndarray:
        if self.continuous_actions:  # every bin is reachable, so the best bin is the best action
            actions = self.to_discrete(actions)
        stride = self._strides[agent]
        others = actions @ self._strides - actions[:, agent] * stride
        candidates = others[:, None] + np.arange(self._sizes[agent]) * stride  # [B, n_agent]
        return self._flat[candidates].max(axis=1)

    @property
    def optima(self) -> np.ndarray:
        """Every optimal joint action (``payoff == payoff.max()``), ``[M, n_agents]`` action
        indices in row-major order."""
        return np.argwhere(self.payoff_table == self.optimum_reward)


class FixedMatrixGame(MatrixGame):
    """A named game: subclasses set ``PAYOFF``; the episode length and action face stay kwargs."""

    PAYOFF: tuple

    def __init__(
        self, num_envs: int = 1, *, episode_length: int = 1, continuous_actions: bool = False
    ) -> None:
        super().__init__(
            num_envs,
            payoff=self.PAYOFF,
            episode_length=episode_length,
            continuous_actions=continuous_actions,
        )
