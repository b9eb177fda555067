"""The SVGD primitives against autograd, the median rule and a known bimodal target; the alpha
schedules against their formulas; grouped MLPs against separate ones."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from ro_bench_zoo.common.alpha import SCHEDULES, alpha_at  # noqa: E402
from ro_bench_zoo.common.grouped import GroupedMLP  # noqa: E402
from ro_bench_zoo.common.svgd import (  # noqa: E402
    MIN_BANDWIDTH, median_bandwidth, rbf_kernel, squared_distances, svgd_direction)

DTYPE = torch.float64


def test_rbf_kernel_and_its_gradient_agree_with_autograd() -> None:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 5, 3, generator=gen, dtype=DTYPE, requires_grad=True)
    y = torch.randn(2, 4, 3, generator=gen, dtype=DTYPE)
    h = torch.tensor([0.7, 2.0], dtype=DTYPE)
    k, grad = rbf_kernel(x, y, h)
    for b in range(2):
        for l in range(5):
            for m in range(4):
                want = torch.exp(-((x[b, l] - y[b, m]) ** 2).sum() / h[b])
                assert torch.allclose(k[b, l, m], want)
                (auto,) = torch.autograd.grad(want, x)
                assert torch.allclose(grad[b, l, m], auto[b, l])


def test_squared_distances_match_differences() -> None:
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(3, 6, 4, generator=gen, dtype=DTYPE)
    y = torch.randn(3, 5, 4, generator=gen, dtype=DTYPE)
    want = ((x[:, :, None] - y[:, None]) ** 2).sum(-1)
    assert torch.allclose(squared_distances(x, y), want)
    assert (squared_distances(x, x) >= 0).all()


@pytest.mark.parametrize("m", [5, 8])
def test_bandwidth_is_the_median_rule_per_particle_set(m: int) -> None:
    rng = np.random.default_rng(m)
    x = rng.normal(size=(3, m, 2))
    h = median_bandwidth(squared_distances(torch.tensor(x), torch.tensor(x)))
    assert h.shape == (3,)
    for b in range(3):
        dists = sorted(np.linalg.norm(x[b, i] - x[b, j]) for i in range(m) for j in range(i + 1, m))
        med = dists[(len(dists) - 1) // 2]  # the lower median of the M (M - 1) / 2 distances
        assert h[b].item() == pytest.approx(med**2 / math.log(m), rel=1e-9)


def test_bandwidth_of_coincident_particles_is_the_floor_and_needs_pairs() -> None:
    assert median_bandwidth(torch.zeros(4, 4, dtype=DTYPE)).item() == MIN_BANDWIDTH
    with pytest.raises(ValueError, match="M >= 2"):
        median_bandwidth(torch.zeros(1, 1))


def naive_direction(x: torch.Tensor, score: torch.Tensor, h: float) -> torch.Tensor:
    """phi(x_m) = 1/M sum_l k(x_l, x_m) score_l + grad_{x_l} k(x_l, x_m), term by term."""
    k, grad = rbf_kernel(x, x, h)  # grad[l, m] = grad_{x_l} k(x_l, x_m)
    m = len(x)
    return torch.stack([sum(k[l, j] * score[l] + grad[l, j] for l in range(m)) / m
                        for j in range(m)])


def test_svgd_direction_matches_the_formula_term_by_term() -> None:
    gen = torch.Generator().manual_seed(2)
    x = torch.randn(7, 3, generator=gen, dtype=DTYPE)
    score = torch.randn(7, 3, generator=gen, dtype=DTYPE)
    h = median_bandwidth(squared_distances(x, x))
    assert torch.allclose(svgd_direction(x, score), naive_direction(x, score, h.item()))
    assert torch.allclose(svgd_direction(x, score, h=0.3), naive_direction(x, score, 0.3))


def test_local_kernel_sees_only_its_coordinates() -> None:
    """With a coordinate mask the direction on those coordinates is plain SVGD on them alone."""
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(6, 4, generator=gen, dtype=DTYPE)
    score = torch.randn(6, 4, generator=gen, dtype=DTYPE)
    coords = torch.tensor([1.0, 0.0, 1.0, 0.0], dtype=DTYPE)
    masked = svgd_direction(x, score, coords=coords)
    alone = svgd_direction(x[:, [0, 2]], score[:, [0, 2]])
    assert torch.allclose(masked[:, [0, 2]], alone)
    # Off the kernel's coordinates only the drive remains: no repulsion there.
    sub = x[:, [0, 2]]
    k = torch.exp(-squared_distances(sub, sub) / median_bandwidth(squared_distances(sub, sub)))
    assert torch.allclose(masked[:, [1, 3]], k @ score[:, [1, 3]] / 6)


def test_svgd_direction_broadcasts_kernel_masks_over_leading_dims() -> None:
    gen = torch.Generator().manual_seed(4)
    x = torch.randn(2, 1, 5, 3, generator=gen, dtype=DTYPE)
    score = torch.randn(2, 1, 5, 3, generator=gen, dtype=DTYPE)
    coords = torch.tensor([[1.0, 0, 0], [1, 1, 0], [1, 1, 1]], dtype=DTYPE)
    phi = svgd_direction(x, score, coords=coords)
    assert phi.shape == (2, 3, 5, 3)
    for b in range(2):
        for i in range(3):
            assert torch.allclose(phi[b, i], svgd_direction(x[b, 0], score[b, 0], coords[i]))


def bimodal_score(x: torch.Tensor) -> torch.Tensor:
    """grad log of 0.5 N(-2, 0.5^2) + 0.5 N(2, 0.5^2)."""
    x = x.detach().requires_grad_(True)
    comps = torch.stack([-((x + 2) / 0.5) ** 2 / 2, -((x - 2) / 0.5) ** 2 / 2])
    (score,) = torch.autograd.grad(torch.logsumexp(comps, 0).sum(), x)
    return score


def test_plain_svgd_moves_particles_onto_both_modes() -> None:
    x = torch.randn(100, 1, generator=torch.Generator().manual_seed(5), dtype=DTYPE) * 0.5
    for _ in range(1000):
        x = x + 0.1 * svgd_direction(x, bimodal_score(x))
    left, right = x[x < 0], x[x > 0]
    assert 0.4 <= len(left) / len(x) <= 0.6  # both modes, evenly
    assert left.mean().item() == pytest.approx(-2.0, abs=0.1)
    assert right.mean().item() == pytest.approx(2.0, abs=0.1)
    assert 0.3 < left.std().item() < 0.7 and 0.3 < right.std().item() < 0.7  # spread, not collapsed


# ------------------------------------------------------------------------------ alpha
def alpha(schedule: str, step: int, **kwargs) -> float:
    args = {"total_steps": 1000, "start": 30.0, "end": 0.1, "anneal_fraction": 0.5, "tau": 100.0}
    return alpha_at(schedule, step, **{**args, **kwargs})


def test_annealed_schedules_start_end_and_midpoint() -> None:
    for schedule in ("linear", "geometric"):
        assert alpha(schedule, 0) == pytest.approx(30.0)
        assert alpha(schedule, 500) == pytest.approx(0.1)
        assert alpha(schedule, 10_000) == pytest.approx(0.1)
    assert alpha("linear", 250) == pytest.approx(15.05)
    assert alpha("geometric", 250) == pytest.approx(math.sqrt(30.0 * 0.1))
    assert alpha("constant", 999) == 30.0


def test_exponential_paper_and_authors_schedules_follow_their_formulas() -> None:
    assert alpha("exponential", 200) == pytest.approx(0.1 + 29.9 * math.exp(-2.0))
    assert alpha("paper", 5) == pytest.approx(530.0)
    assert alpha("paper", 30) == pytest.approx(30.0 + 500.0 * math.exp(-2.0))
    assert alpha("authors", 300, start=10.0, end=0.3) == pytest.approx(10.0, abs=1e-9)
    assert alpha("authors", 400, start=10.0, end=0.3) == 1.0
    assert alpha("authors", 500, start=10.0, end=0.3) == 0.3


def test_every_schedule_is_positive_and_bad_names_are_explained() -> None:
    for schedule in SCHEDULES:
        assert all(alpha(schedule, t) > 0 for t in range(0, 2000, 50))
    with pytest.raises(ValueError, match="Did you mean 'geometric'"):
        alpha("geometrik", 0)


# ---------------------------------------------------------------------------- grouped
def test_grouped_mlp_is_one_independent_mlp_per_group() -> None:
    torch.manual_seed(6)
    net = GroupedMLP(3, 4, 2, hidden=(5, 6))
    x = torch.randn(3, 10, 4)
    out = net(x)
    assert out.shape == (3, 10, 2)
    for g in range(3):
        h = x[g]
        for i, (w, b) in enumerate(zip(net.weights, net.biases)):
            h = h @ w[g] + b[g]
            h = torch.relu(h) if i < 2 else h
        assert torch.allclose(out[g], h, atol=1e-6)
    other = x.clone()
    other[1] += 1.0
    changed = net(other)
    assert torch.equal(changed[0], out[0]) and torch.equal(changed[2], out[2])
    assert not torch.equal(changed[1], out[1])
    with pytest.raises(ValueError, match="n_groups=3"):
        net(torch.zeros(2, 10, 4))


def test_every_maximum_entropy_method_shares_one_alpha_schedule() -> None:
    """App. H.5.3: one schedule for SVNR, MASQL, PR2 and ROMMEO, defined once."""
    import dataclasses

    from ro_bench import algorithms
    from ro_bench_zoo.common.alpha import AnnealedAlpha
    from ro_bench_zoo.common.off_policy import OffPolicyConfig

    shared = {f.name for f in dataclasses.fields(OffPolicyConfig)} - {"total_steps"}
    names = [f.name for f in dataclasses.fields(AnnealedAlpha) if f.name not in shared]
    assert "alpha_schedule" in names and "alpha_start" in names
    for algo in ("svnr", "svnr-m", "svnr-f", "masql", "pr2", "rommeo"):
        _, config_cls = algorithms.get(algo)
        assert issubclass(config_cls, AnnealedAlpha)
        config = config_cls()
        assert {n: getattr(config, n) for n in names} == \
            {n: getattr(AnnealedAlpha(), n) for n in names}
        assert config.alpha(0) == 30.0 and config.alpha(config.total_steps) == 0.1
        with pytest.raises(ValueError, match="alpha_schedule must be one of .*geometric"):
            config_cls(alpha_schedule="geometrc")
