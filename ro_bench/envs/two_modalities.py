"""Two Modalities (``two_modalities``): the paper's PRO-challenged differential game (§6 (1.1)).

Three agents each pick ``u_i`` in ``[-10, 10]``; the team reward is ``r = max(g1, g2)`` with::

    g1 = 0.8 * [-((u1 + 5) / 3)^2 - ((u2 + 5) / 3)^2 - ((u3 - 3) / 3)^2] + 10
    g2 = 1.0 * [-((u1 - 7) / s2)^2 - ((u2 - 7) / s2)^2 - ((u3 + 3) / s2)^2] + 10

(h2 = 1, s2 = 2, x2 = 7, y2 = 7, z2 = -3, c1 = c2 = 10). Both (-5, -5, 3) and (7, 7, -3) earn the
top reward 10, so the optimal perceived joint policy has two modes; learners that do not know
their partners' optimal policy collapse onto one (perceived RO, Figure 3 of the paper).
``ro_bench.diagnostics`` measures how many modes a trained policy covers.

Spaces, observation and state: as ``differential_game``.

Parameters
    ``s2``: width of the second bowl, a real in [1e-3, 1e3], default 2.

Optimum and trap (per step)
    Optimum 10 at either mode. Trap 10 as well: the challenge is covering both modes, not the
    value of one.

Version history
    v0: first release.
"""

from __future__ import annotations

from ro_bench.envs.differential_game import DifferentialGame


class TwoModalities(DifferentialGame):
    def __init__(self, num_envs: int = 1, *, s2: float = 2.0) -> None:
        super().__init__(
            num_envs,
            n_agents=3,
            h1=0.8,
            s1=3.0,
            centre1=(-5.0, -5.0, 3.0),
            c1=10.0,
            h2=1.0,
            s2=s2,
            centre2=(7.0, 7.0, -3.0),
            c2=10.0,
        )
