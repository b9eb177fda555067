"""RO diagnostics of an agent on a stateless game (the matrix and differential families).

``measure`` reports two things about an agent, on copies of it so that its future behaviour is
untouched:

- The **ERO gap** (Def. 2.1, executed relative over-generalization). ``K`` joint actions ``u^k``
  are drawn from the executed policy (``act(explore=False)``). For each agent ``i``,
  ``gap_i = mean_k [max_a r(a, u^k_{-i}) - r(u^k)]``: what the team would gain if agent ``i``
  knew the others' sampled actions and answered them best, exactly (each game's
  ``best_response_payoff``). ``ero_gap = max_i gap_i``; it is 0 when no agent suffers ERO.
- The **mode coverage** of the perceived joint policy (``act(explore=True)``): on a differential
  game, the share of sampled joint actions in each of the two bowls' basins (below); on a matrix
  game, the share equal to each optimal joint action (continuous actions mapped to their bins).

A differential game's reward is ``r = max(g1, g2)``; the basin of the first bowl is where
``g1 >= g2`` and the basin of the second is the rest. A perceived joint policy that covers both
modes (the paper's Figure 3) puts mass in both basins; the exact target at temperature ``alpha``
says how much each basin deserves (``boltzmann_basin_shares``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ro_bench.evaluation import acting_copy
from ro_bench.envs.differential_game import DifferentialGame, bowls
from ro_bench.envs.stateless import StatelessGame
from ro_bench.params import integer

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


def is_stateless(env: Any) -> bool:
    """Whether ``env`` is a stateless game, the only kind these diagnostics measure."""
    return isinstance(env, StatelessGame)


def measure(agent: Any, env: StatelessGame, samples: int = 1000, seed: int = 0) -> dict | None:
    """The ERO gap and mode coverage of ``agent`` on the stateless game ``env``, as JSON values.

    Only a stateless game has one observation to sample the joint policy at and an exact best
    response to measure the gap against: on any other env (Particle Gather, MaMuJoCo) it returns
    None at once, having called and copied nothing.

    Returns ``{"ero_gap", "ero_gap_per_agent", "executed_reward", "mode_coverage", "modes",
    "samples"}`` (see the module docstring; ``modes`` are the two bowls' maximisers on a
    differential game, the optimal joint actions' indices on a matrix game, in the order of
    ``mode_coverage``), or None when ``env`` is not a stateless game. ``env`` is reset with
    ``seed`` to read its observation; the agent is only ever called on copies of itself.
    """
    if not is_stateless(env):
        return None
    samples = integer("samples", samples, low=1)
    executed = joint_actions(agent, env, samples, explore=False, seed=seed)
    gaps, executed_reward = ero_gaps(env, executed)
    perceived = joint_actions(agent, env, samples, explore=True, seed=seed)
    coverage, modes = mode_coverage(env, perceived)
    return {
        "ero_gap": float(gaps.max()),
        "ero_gap_per_agent": gaps.tolist(),
        "executed_reward": executed_reward,
        "mode_coverage": coverage.tolist(),
        "modes": modes,
        "samples": samples,
    }


def joint_actions(agent: Any, env: StatelessGame, samples: int, *, explore: bool,
                  seed: int) -> np.ndarray:
    """``samples`` joint actions of a copy of ``agent`` at the game's observation, as the game
    plays them (continuous ones clipped to the box, as float32; discrete ones as int64)."""
    obs, _ = env.reset(seed=seed)
    actions = np.asarray(acting_copy(agent).act(np.repeat(obs[:1], samples, axis=0),
                                                  explore=explore))
    if env.discrete:
        return actions.astype(np.int64)
    low = np.stack([env.action_spaces[a].low for a in env.agents])
    high = np.stack([env.action_spaces[a].high for a in env.agents])
    return np.clip(actions, low, high).astype(np.float32)


def ero_gaps(env: StatelessGame, actions: np.ndarray) -> tuple[np.ndarray, float]:
    """Each agent's ERO gap over the executed joint actions ``actions``, and their mean reward."""
    executed = env.payoff(actions)
    gaps = [np.mean(env.best_response_payoff(actions, i) - executed) for i in range(env.n_agents)]
    return np.array(gaps, dtype=np.float64), float(executed.mean())


def mode_coverage(env: StatelessGame, actions: np.ndarray) -> tuple[np.ndarray, list]:
    """The share of the joint actions ``actions`` at each mode, and the modes as JSON lists."""
    if isinstance(env, DifferentialGame):
        return sampled_basin_shares(env, actions[..., 0]), [m.tolist() for m in env.modes]
    played = env.to_discrete(actions) if env.continuous_actions else actions
    shape = env.payoff_table.shape
    counts = np.bincount(np.ravel_multi_index(played.T, shape), minlength=int(np.prod(shape)))
    optima = env.optima
    coverage = counts[np.ravel_multi_index(optima.T, shape)] / len(played)
    return coverage, optima.astype(np.float64).tolist()


def perceived_samples(agent: Any, env: StatelessGame, samples: int,
                      seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``samples`` joint actions of the perceived policy (``explore=True``, on a copy of
    ``agent``) as ``[samples, n_agents]`` float64, and their team rewards ``[samples]``."""
    actions = joint_actions(agent, env, samples, explore=True, seed=seed)
    rewards = env.payoff(actions)
    return actions.reshape(samples, env.n_agents).astype(np.float64), rewards.astype(np.float64)
