"""Climbing game (``climbing``): the classic RO matrix game of Claus & Boutilier (1998).

Two agents, three actions each; the team reward is ``PAYOFF[a_0, a_1]``::

            a_1=0  a_1=1  a_1=2
    a_0=0     11    -30      0
    a_0=1    -30      7      6
    a_0=2      0      0      5

Spaces, observation and state, ``episode_length`` and ``continuous_actions``: as ``matrix_game``.

Optimum and trap (per step)
    Optimum 11 at (0, 0). Against uniformly random partners action 2 is each agent's best
    response (average 5/3 for agent 0, 11/3 for agent 1), so learners that average over each
    other's exploration climb to (2, 2): trap 5.

Version history
    v0: first release.
"""

from __future__ import annotations

from ro_bench.envs.matrix_game import FixedMatrixGame


class Climbing(FixedMatrixGame):
    PAYOFF = ((11, -30, 0), (-30, 7, 6), (0, 0, 5))
