"""RO diagnostics for the differential games: which optimum's basin a joint action lies in, and
how the exact Boltzmann target ``exp(r(u) / alpha)`` shares its mass between the basins.

A differential game's reward is ``r = max(g1, g2)``; the basin of the first bowl is where
``g1 >= g2`` and the basin of the second is the rest. A perceived joint policy that covers both
modes (the paper's Figure 3) puts mass in both basins; the exact target at temperature ``alpha``
says how much each basin deserves.
"""

from __future__ import annotations

import numpy as np

from ro_bench.envs.differential_game import DifferentialGame, bowls

CHUNK = 1 << 18  # grid points evaluated at once


def basin(game: DifferentialGame, u: np.ndarray) -> np.ndarray:
    """0 where ``g1 >= g2`` (the first bowl's basin), 1 elsewhere; ``u`` is ``[B, n_agents]``."""
    u = np.asarray(u, dtype=np.float64)
    g1, g2 = bowls(u, *game._bowls, np.empty((2, game.n_agents, len(u))))
    return (g2 > g1).astype(np.int64)


def sampled_basin_shares(game: DifferentialGame, u: np.ndarray) -> np.ndarray:
    """The share of the joint actions ``u`` (``[B, n_agents]``) in each of the two basins."""
    return np.bincount(basin(game, u), minlength=2) / len(u)


def boltzmann_basin_shares(
    game: DifferentialGame, alpha: float, points_per_axis: int = 101
) -> np.ndarray:
    """Each basin's share of the mass of ``exp(r(u) / alpha)`` over the action box.

    Midpoint rule on a regular grid of ``points_per_axis`` points per agent (the cell volume
    cancels in the shares); the weights are shifted by the game's optimum so they never overflow.
    """
    low, high = -game.action_bound, game.action_bound
    axis = low + (np.arange(points_per_axis) + 0.5) * (high - low) / points_per_axis
    n = game.n_agents
    total = points_per_axis**n
    mass = np.zeros(2)
    for start in range(0, total, CHUNK):
        index = np.arange(start, min(start + CHUNK, total))
        u = axis[np.stack(np.unravel_index(index, (points_per_axis,) * n), axis=1)]
        g1, g2 = bowls(u, *game._bowls, np.empty((2, n, len(u))))
        weight = np.exp((np.maximum(g1, g2) - game.optimum_reward) / alpha)
        mass += np.bincount((g2 > g1).astype(np.int64), weights=weight, minlength=2)
    return mass / mass.sum()
