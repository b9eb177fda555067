"""Basin shares of the differential games against closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ro_bench
from ro_bench.diagnostics import basin, boltzmann_basin_shares, sampled_basin_shares


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
