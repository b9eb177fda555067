"""RO diagnostics: basin shares against closed forms, ERO gaps and best responses."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest

from ro_bench import algorithms
from ro_bench.agents import EnvSpaces  # noqa: E402
import ro_bench
from ro_bench.diagnostics import (basin, boltzmann_basin_shares, measure, mode_coverage,
                                  sampled_basin_shares)


def gaussian_mass(h, s, m, c, alpha, a, b):
    """Closed form of the integral of exp((h * -((u - m) / s)^2 + c) / alpha) over [a, b]."""
    sigma = s * math.sqrt(alpha / (2 * h))
    cdf = lambda x: 0.5 * (1 + math.erf((x - m) / (sigma * math.sqrt(2))))  # noqa: E731
    return math.exp(c / alpha) * sigma * math.sqrt(2 * math.pi) * (cdf(b) - cdf(a))


@pytest.mark.parametrize("alpha", [0.5, 1.0, 3.0])
def test_one_agent_shares_match_the_error_function(alpha):
    h1, s1, m1, c1, h2, s2, m2, c2 = 0.8, 3.0, -5.0, 0.0, 1.0, 1.5, 7.0, 10.0
    game = ro_bench.make_vec("differential_game", n_agents=1, h1=h1, s1=s1, centre1=(m1,), c1=c1,
                             h2=h2, s2=s2, centre2=(m2,), c2=c2)
    # The basins meet where g1 = g2: a quadratic in u; keep the root between the centres.
    a = -h1 / s1**2 + h2 / s2**2
    b = 2 * h1 * m1 / s1**2 - 2 * h2 * m2 / s2**2
    k = -h1 * m1**2 / s1**2 + c1 + h2 * m2**2 / s2**2 - c2
    roots = np.roots([a, b, k])
    edge = float(next(r.real for r in roots if m1 < r.real < m2))
    # Shift the offsets as the grid does (by the optimum, 10) so the numbers stay moderate.
    first = gaussian_mass(h1, s1, m1, c1 - 10, alpha, -10, edge)
    second = gaussian_mass(h2, s2, m2, c2 - 10, alpha, edge, 10)
    expected = np.array([first, second]) / (first + second)
    np.testing.assert_allclose(boltzmann_basin_shares(game, alpha, 20_001), expected, atol=1e-4)


def test_mirrored_bowls_share_equally():
    game = ro_bench.make_vec("differential_game", n_agents=2, centre1=(-4, 3), centre2=(4, -3),
                             h1=1.0, s1=2.0, c1=5.0, h2=1.0, s2=2.0, c2=5.0)
    np.testing.assert_allclose(boltzmann_basin_shares(game, 1.0, 200), [0.5, 0.5], atol=1e-12)


def test_two_modalities_narrow_basin_share_at_alpha_one():
    game = ro_bench.make_vec("two_modalities")
    coarse, fine = (boltzmann_basin_shares(game, 1.0, n) for n in (101, 201))
    np.testing.assert_allclose(coarse, fine, atol=1e-3)  # the grid has converged
    assert 0.15 < fine[1] < 0.20  # the narrow (7, 7, -3) bowl holds under a fifth of the mass


def test_sampled_shares_and_basin_membership():
    game = ro_bench.make_vec("max_of_three")
    u = np.array([[-5.0, -5.0, 3.0], [7.0, 7.0, -4.0], [6.5, 7.2, -4.1], [0.0, 0.0, 0.0]])
    assert basin(game, u).tolist() == [0, 1, 1, 0]
    np.testing.assert_array_equal(sampled_basin_shares(game, u), [0.5, 0.5])


# --- ERO gap and mode coverage ---------------------------------------------------------------


class IndependentMixer:
    """Each agent of ``ero_game`` picks 0 or 1 uniformly, independently of the other: both optima
    are covered, but executing the marginals miscoordinates half the time (the paper's ERO)."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)

    def act(self, obs: np.ndarray, *, explore: bool) -> np.ndarray:
        return self.rng.integers(0, 2, size=obs.shape[:2])


class CorrelatedMixer(IndependentMixer):
    """Both agents play the same optimum of ``ero_game``, drawn from shared randomness."""

    def act(self, obs: np.ndarray, *, explore: bool) -> np.ndarray:
        return np.repeat(self.rng.integers(0, 2, size=(len(obs), 1)), obs.shape[1], axis=1)


def fixed_agent(env, actions):
    agent_cls, config_cls = algorithms.get("fixed")
    return agent_cls(config_cls(actions=tuple(actions)), EnvSpaces.from_vec(env), 0)


@pytest.mark.parametrize("env_id, kwargs, optimum, mode", [
    ("max_of_three", {}, (7.0, 7.0, -4.0), 1),
    ("climbing", {}, (0, 0), 0),
    ("climbing", {"continuous_actions": True}, (-0.9, -0.9), 0),  # the first of three bins
])
def test_a_fixed_agent_at_the_optimum_has_no_ero_and_covers_it(env_id, kwargs, optimum, mode):
    env = ro_bench.make_vec(env_id, **kwargs)
    report = measure(fixed_agent(env, optimum), env, samples=50)
    assert report["ero_gap"] == 0.0 and report["ero_gap_per_agent"] == [0.0] * env.n_agents
    assert report["executed_reward"] == env.optimum_reward
    assert report["mode_coverage"][mode] == 1.0 and sum(report["mode_coverage"]) == 1.0
    assert report["samples"] == 50
    assert json.loads(json.dumps(report)) == report  # JSON values only


def test_a_fixed_agent_off_the_optimum_has_the_best_responses_gap():
    env = ro_bench.make_vec("climbing")
    report = measure(fixed_agent(env, (2, 2)), env, samples=10)  # the RO trap, reward 5
    # Agent 0 answers a_1 = 2 with 1 (reward 6); agent 1 answers a_0 = 2 with 0 or 1 (reward 0).
    assert report["ero_gap_per_agent"] == [1.0, 0.0] and report["ero_gap"] == 1.0
    assert report["executed_reward"] == 5.0
    assert report["modes"] == [[0.0, 0.0]] and report["mode_coverage"] == [0.0]


# Each sample's best response is worth exactly 3 (match the other's action), so each agent's gap
# is 3 minus the executed reward, whose mean over K samples has standard deviation
# 3 * sqrt(0.25 / K) = 0.015 at K = 10_000: the tolerance is five of those.
K = 10_000
TOLERANCE = 5 * 3 * math.sqrt(0.25 / K)


def test_independent_mixing_between_optima_suffers_ero():
    env = ro_bench.make_vec("ero_game")
    report = measure(IndependentMixer(), env, samples=K)
    assert report["executed_reward"] == pytest.approx(1.5, abs=TOLERANCE)
    assert report["ero_gap_per_agent"][0] == report["ero_gap_per_agent"][1]
    assert report["ero_gap"] == pytest.approx(1.5, abs=TOLERANCE)
    assert report["ero_gap"] == pytest.approx(3.0 - report["executed_reward"], abs=1e-12)
    assert report["modes"] == [[0.0, 0.0], [1.0, 1.0]]
    # Each optimum holds a quarter of the samples (sd sqrt(0.25 * 0.75 / K) = 0.0043).
    np.testing.assert_allclose(report["mode_coverage"], [0.25, 0.25], atol=5 * 0.0044)


def test_correlated_mixing_between_optima_has_no_ero():
    env = ro_bench.make_vec("ero_game")
    report = measure(CorrelatedMixer(), env, samples=K)
    assert report["ero_gap"] == 0.0 and report["executed_reward"] == 3.0
    np.testing.assert_allclose(report["mode_coverage"], [0.5, 0.5], atol=5 * 0.005)
    assert sum(report["mode_coverage"]) == 1.0


def test_measuring_does_not_change_the_agent():
    env = ro_bench.make_vec("max_of_three")
    agent = algorithms.get("random")[0](algorithms.get("random")[1](),
                                        EnvSpaces.from_vec(env), 3)
    untouched = copy.deepcopy(agent)
    first = measure(agent, env, samples=100, seed=5)
    obs = np.zeros((4, 3, 1), dtype=np.float32)
    np.testing.assert_array_equal(agent.act(obs, explore=True), untouched.act(obs, explore=True))
    assert measure(agent, env, samples=100, seed=5) != first  # the agent moved on; a copy did not


def test_no_measure_outside_the_stateless_games():
    env = ro_bench.make_vec("particle_gather")
    agent = algorithms.get("random")[0](algorithms.get("random")[1](),
                                        EnvSpaces.from_vec(env), 0)
    assert measure(agent, env) is None


DIFFERENTIAL_GAMES = [
    ("max_of_three", {}),
    ("two_modalities", {}),
    ("max_of_two", {}),
    # Centres outside the box: the best response is a clipped centre coordinate.
    ("differential_game", {"n_agents": 2, "centre1": (-14.0, 2.5), "centre2": (3.3, 12.0),
                           "action_bound": 4.0, "s2": 0.7}),
]


@pytest.mark.parametrize("env_id, kwargs", DIFFERENTIAL_GAMES)
def test_differential_best_response_is_the_maximum_over_a_fine_grid(env_id, kwargs):
    game = ro_bench.make_vec(env_id, **kwargs)
    rng = np.random.default_rng(0)
    bound = game.action_bound
    u = rng.uniform(-bound, bound, size=(16, game.n_agents, 1)).astype(np.float32)
    grid = np.linspace(-bound, bound, 40_001)
    for i in range(game.n_agents):
        candidates = np.repeat(u[:, None].astype(np.float64), len(grid), axis=1)  # [B, G, n, 1]
        candidates[:, :, i, 0] = grid
        on_grid = game.payoff(candidates.reshape(-1, game.n_agents, 1)).reshape(len(u), -1)
        best = game.best_response_payoff(u, i)
        # The grid misses the maximiser by at most half a step (2.5e-4 * bound / 10); the
        # steepest bowl loses h / s^2 * (half step)^2 < 1e-6 there.
        assert (best >= on_grid.max(axis=1) - 1e-9).all()
        np.testing.assert_allclose(best, on_grid.max(axis=1), rtol=0, atol=1e-6)


@pytest.mark.parametrize("continuous", [False, True])
def test_matrix_best_response_enumerates_the_agents_actions(continuous):
    payoff = np.random.default_rng(1).normal(size=(3, 4, 2))
    game = ro_bench.make_vec("matrix_game", payoff=payoff, continuous_actions=continuous)
    indices = np.stack(np.unravel_index(np.arange(payoff.size), payoff.shape), axis=1)
    actions = indices
    if continuous:  # a continuous action at the centre of its bin plays that bin
        actions = ((indices + 0.5) / payoff.shape * 2 - 1)[..., None].astype(np.float32)
    for i in range(3):
        expected = [max(payoff[tuple(np.r_[u[:i], a, u[i + 1:]])] for a in range(payoff.shape[i]))
                    for u in indices]
        np.testing.assert_array_equal(game.best_response_payoff(actions, i), expected)


def test_matrix_modes_are_every_optimal_joint_action():
    game = ro_bench.make_vec("matrix_game", payoff=[[2, 0, 2], [0, 2, 1]])
    assert game.optima.tolist() == [[0, 0], [0, 2], [1, 1]]
    played = np.array([[0, 0], [0, 0], [1, 1], [1, 2]])
    coverage, modes = mode_coverage(game, played)
    assert coverage.tolist() == [0.5, 0.0, 0.25] and modes == [[0, 0], [0, 2], [1, 1]]
