"""PRO game (``pro_game``): the paper's Figure 1 (left), a perceived-RO example.

Two agents, two actions each; the team reward is ``payoff[a_0, a_1]``::

            a_1=0  a_1=1
    a_0=0      3      0
    a_0=1      2      2

An agent that models its partner by its past behaviour (uniform early on) prefers the safe row 1:
against a uniform partner row 0 is worth 1.5 and row 1 is worth 2 (perceived RO, §2).

Spaces, observation and state, ``episode_length`` and ``continuous_actions``: as ``matrix_game``.

Optimum and trap (per step)
    Optimum 3 at (0, 0). Trap 2: agent 0 best-responds to a uniform partner with 1, agent 1 with
    0 (average 2.5 against 1), giving (1, 0).

Version history
    v0: first release.
"""

from __future__ import annotations

from ro_bench.envs.matrix_game import FixedMatrixGame


class ProGame(FixedMatrixGame):
    PAYOFF = ((3, 0), (2, 2))
