"""Max of Two (``max_of_two``): the two-agent differential game of MASQL, PR2 and ROMMEO.

Two agents each pick ``a_i`` in ``[-10, 10]``; the team reward is ``r = max(f1, f2)`` with::

    f1 = 0.8 * [-((a1 + 5) / 3)^2 - ((a2 + 5) / 3)^2]
    f2 = -((a1 - 5) / s2)^2 - ((a2 - 5) / s2)^2 + 10

Spaces, observation and state: as ``differential_game``.

Parameters
    ``s2``: width of the optimal bowl, a real in [1e-3, 1e3], default 1.

Optimum and trap (per step)
    Optimum 10 at (5, 5). Trap 0 at (-5, -5).

Version history
    v0: first release.
"""

from __future__ import annotations

from ro_bench.envs.differential_game import DifferentialGame


class MaxOfTwo(DifferentialGame):
    def __init__(self, num_envs: int = 1, *, s2: float = 1.0) -> None:
        super().__init__(
            num_envs,
            n_agents=2,
            h1=0.8,
            s1=3.0,
            centre1=(-5.0, -5.0),
            c1=0.0,
            h2=1.0,
            s2=s2,
            centre2=(5.0, 5.0),
            c2=10.0,
        )
