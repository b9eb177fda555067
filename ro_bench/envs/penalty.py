"""Penalty game (``penalty``): two optimal joint actions guarded by a miscoordination penalty ``k``.

Two agents, three actions each (Claus & Boutilier 1998); the team reward is ``payoff[a_0, a_1]``::

            a_1=0  a_1=1  a_1=2
    a_0=0     10      0      k
    a_0=1      0      2      0
    a_0=2      k      0     10

Parameters
    ``k``: the penalty, a finite real number in [-1e6, 0], default -100.
    ``episode_length`` and ``continuous_actions``: as ``matrix_game``.

Optimum and trap (per step)
    Optimum 10 at (0, 0) and (2, 2). When ``k < -8`` the middle action is every agent's best
    response to uniformly random partners (average 2/3 against (10 + k)/3), so learners settle on
    (1, 1): trap 2. For ``-8 <= k <= 0`` the trap follows the same rule (see ``matrix_game``).

Version history
    v0: first release.
"""

from __future__ import annotations

from ro_bench.envs.matrix_game import MatrixGame
from ro_bench.params import real


class Penalty(MatrixGame):
    def __init__(
        self,
        num_envs: int = 1,
        *,
        k: float = -100.0,
        episode_length: int = 1,
        continuous_actions: bool = False,
    ) -> None:
        self.k = real("k", k, low=-1e6, high=0.0)
        payoff = ((10, 0, self.k), (0, 2, 0), (self.k, 0, 10))
        super().__init__(
            num_envs,
            payoff=payoff,
            episode_length=episode_length,
            continuous_actions=continuous_actions,
        )
