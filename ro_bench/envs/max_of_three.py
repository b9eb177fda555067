"""Max of Three (``max_of_three``): the paper's ERO-challenged differential game (§6 (1.2)).

Three agents each pick ``u_i`` in ``[-10, 10]``; the team reward is ``r = max(g1, g2)`` with::

    g1 = 0.8 * [-((u1 + 5) / 3)^2 - ((u2 + 5) / 3)^2 - ((u3 - 3) / 3)^2] + 0
    g2 = 1.0 * [-((u1 - 7) / s2)^2 - ((u2 - 7) / s2)^2 - ((u3 + 4) / s2)^2] + 10

(h2 = 1, x2 = 7, y2 = 7, z2 = -4, c1 = 0, c2 = 10). The wide bowl ``g1`` pulls gradient-based
learners to (-5, -5, 3); the narrow bowl ``g2`` holds the optimum. The smaller ``s2``, the
narrower ``g2`` and the more severe the executed RO. The paper uses ``s2`` in {1.5, 2, 3}.

Spaces, observation and state: as ``differential_game`` (actions ``Box(-10, 10, (1,))``, constant
observation ``[0.0]``, one step).

Parameters
    ``s2``: width of the optimal bowl, a real in [1e-3, 1e3], default 1.5.

Optimum and trap (per step)
    Optimum 10 at (7, 7, -4). Trap 0 at (-5, -5, 3), where ``g2`` is far below ``g1``.

Version history
    v0: first release.
"""

from __future__ import annotations

from ro_bench.envs.differential_game import DifferentialGame


class MaxOfThree(DifferentialGame):
    def __init__(self, num_envs: int = 1, *, s2: float = 1.5) -> None:
        super().__init__(
            num_envs,
            n_agents=3,
            h1=0.8,
            s1=3.0,
            centre1=(-5.0, -5.0, 3.0),
            c1=0.0,
            h2=1.0,
            s2=s2,
            centre2=(7.0, 7.0, -4.0),
            c2=10.0,
        )
