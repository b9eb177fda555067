"""Differential game (``differential_game``): the max of two quadratic bowls over continuous actions.

Each of ``n_agents`` agents picks ``u_i`` in ``[-action_bound, action_bound]``. The team reward is
(§6 (1) of the paper, written for ``n`` agents)::

    r(u) = max(g1(u), g2(u))
    g1(u) = h1 * [-sum_i ((u_i - centre1_i) / s1)^2] + c1
    g2(u) = h2 * [-sum_i ((u_i - centre2_i) / s2)^2] + c2

The sums run over agents in order, left to right, in float64 on the float32 actions.
``max_of_three``, ``two_modalities`` and ``max_of_two`` are instances of this game.

Spaces
    Agents ``agent_0 .. agent_{n-1}``, each acting in ``Box(-action_bound, action_bound, (1,),
    float32)``; out-of-range actions are clipped to the box and counted in ``infos["clipped"]``.
    Observation: the constant ``[0.0]`` in ``Box(0, 1, (1,), float32)``. State:
    ``[t / episode_length]`` in the same space (constant ``[0.0]`` before the one-shot step).

Parameters (all overridable)
    ``n_agents``: int in [1, 64], default 3.
    ``h1``, ``h2``: heights, reals in (0, 1e3]; defaults 0.8 and 1.
    ``s1``, ``s2``: widths, reals in [1e-3, 1e3]; defaults 3 and 1.5.
    ``centre1``, ``centre2``: sequences of ``n_agents`` reals in [-1e6, 1e6]; defaults
    (-5, -5, 3) and (7, 7, -4).
    ``c1``, ``c2``: offsets, reals in [-1e6, 1e6]; defaults 0 and 10.
    ``action_bound``: finite real in (0, 1e6], default 10.
    ``episode_length``: int in [1, 10000], default 1 (one shot).
    The defaults are ``max_of_three``'s. The ranges keep every reward finite in float64.

Optimum and trap (per step)
    Each bowl is separable with a positive height, so its maximum over the action box lies at its
    centre clipped to the box. The optimum is the larger of ``r`` at the two clipped centres; the
    RO trap is the smaller: the best value of the sub-optimal basin.

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
from ro_bench.params import integer, real, real_array



def bowls(u: np.ndarray, h: np.ndarray, s: np.ndarray, centres: np.ndarray, c: np.ndarray,
          work: np.ndarray) -> np.ndarray:
    """``g_k = h_k * [-sum_i ((u_i - centre_ki) / s_k)^2] + c_k`` for both bowls ``k`` at once.

    ``u`` is ``[B, n]``; ``h`` and ``c`` are ``[2, 1]``, ``s`` is ``[2, 1, 1]`` and ``centres`` is
    ``[2, n, 1]``: shaped to broadcast against the work array. The sum
    runs over agents left to right, as the formula reads, in float64. ``work`` is a float64
    scratch array ``[2, n, B]``, reused across steps so that a large batch does not pay for fresh
    memory every step; each agent's term is one contiguous row of it. Returns ``[2, B]``, a view
    into ``work``.
    """
    np.subtract(u.T, centres, out=work, dtype=np.float64)
    work /= s
    np.square(work, out=work)
    acc = work[:, 0]
    np.negative(acc, out=acc)
    for i in range(1, u.shape[1]):
        acc -= work[:, i]
    acc *= h
    acc += c
    return acc


class DifferentialGame(StatelessGame):
    """``r(u) = max(g1(u), g2(u))`` on a batch of ``num_envs`` copies."""

    def __init__(
        self,
        num_envs: int = 1,
        *,
        n_agents: int = 3,
        h1: float = 0.8,
        s1: float = 3.0,
        centre1: tuple[float, ...] = (-5.0, -5.0, 3.0),
        c1: float = 0.0,
        h2: float = 1.0,
        s2: float = 1.5,
        centre2: tuple[float, ...] = (7.0, 7.0, -4.0),
        c2: float = 10.0,
        action_bound: float = 10.0,
        episode_length: int = 1,
    ) -> None:
        n = integer("n_agents", n_agents, low=1, high=64)
        super().__init__(num_envs, n, episode_length)
        # The ranges keep every reward finite in float64 (see the module docstring).
        self.h1 = real("h1", h1, low=0.0, high=1e3, low_open=True)
        self.h2 = real("h2", h2, low=0.0, high=1e3, low_open=True)
        self.s1 = real("s1", s1, low=1e-3, high=1e3)
        self.s2 = real("s2", s2, low=1e-3, high=1e3)
        self.c1 = real("c1", c1, low=-1e6, high=1e6)
        self.c2 = real("c2", c2, low=-1e6, high=1e6)
        self.centre1 = real_array("centre1", centre1, shape=(n,), low=-1e6, high=1e6)
        self.centre2 = real_array("centre2", centre2, shape=(n,), low=-1e6, high=1e6)
        self.action_bound = real("action_bound", action_bound, low=0.0, high=1e6, low_open=True)
        box = spaces.Box(-self.action_bound, self.action_bound, (1,), np.float32)
        self.action_spaces = {a: box for a in self.agents}
        self._work = np.empty((2, n, self.num_envs))
        self._bowls = (
            np.array([[self.h1], [self.h2]]),
            np.array([[[self.s1]], [[self.s2]]]),
            np.stack([self.centre1, self.centre2])[:, :, None],
            np.array([[self.c1], [self.c2]]),
        )
        self._finish_init()
        peaks = [self.reward_at(mode) for mode in self.modes]
        self.optimum_reward, self.trap_reward = max(peaks), min(peaks)

    def reward_at(self, u: np.ndarray) -> float:
        """Team reward of one joint action ``u`` (``[n]``, float64), without the action checks."""
        return float(self.payoff(np.asarray(u, dtype=np.float64)[None, :, None])[0])

    def payoff(self, actions: np.ndarray) -> np.ndarray:
        b = len(actions)
        if self._work.shape[2] != b:  # reward_at's single joint action
            return np.maximum(*bowls(actions[..., 0], *self._bowls, np.empty((2, self.n_agents, b))))
        g1, g2 = bowls(actions[..., 0], *self._bowls, self._work)
        return np.maximum(g1, g2)

    def best_response_payoff(self, actions: np.ndarray, agent: int) -> np.ndarray:
        # With the others' actions fixed, each bowl is a concave parabola in the agent's own
        # action, maximised over the box at its centre coordinate clipped to the box; so
        # max_a max(g1, g2) = max_k max_a g_k is r at one of the two modes' coordinates. The
        # action played is a candidate too, so the answer is never below the executed reward
        # even by a rounding error.
        best = self.payoff(actions)
        u = actions[..., 0].astype(np.float64)
        for mode in self.modes:
            u[:, agent] = mode[agent]
            best = np.maximum(best, self.payoff(u[..., None]))
        return best

    @property
    def modes(self) -> tuple[np.ndarray, np.ndarray]:
        """The two bowls' maximisers over the action box (the game's two modes)."""
        box = self.action_spaces[self.agents[0]]
        lo, hi = float(box.low[0]), float(box.high[0])  # the float32 bounds actions can reach
        return np.clip(self.centre1, lo, hi), np.clip(self.centre2, lo, hi)


