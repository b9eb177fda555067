"""ERO game (``ero_game``): the paper's Figure 1 (right), an executed-RO example.

Two agents, two actions each; the team reward is ``payoff[a_0, a_1]``::

            a_1=0  a_1=1
    a_0=0      3      0
    a_0=1      0      3

Both (0, 0) and (1, 1) are optimal. A perceived joint policy that puts half its mass on each is
right, but executing its marginals independently miscoordinates half the time (executed RO, §2).

Spaces, observation and state, ``episode_length`` and ``continuous_actions``: as ``matrix_game``.

Optimum and trap (per step)
    Optimum 3. Trap 1.5: against a uniform partner both actions are worth 1.5, so each agent
    mixes uniformly and the executed joint policy earns 0.25 * (3 + 0 + 0 + 3).

Version history
    v0: first release.
"""

from __future__ import annotations

from ro_bench.envs.matrix_game import FixedMatrixGame


class EroGame(FixedMatrixGame):
    PAYOFF = ((3, 0), (0, 3))
