"""SVNR: negotiation sets, the MPSVGD direction, the soft value, learning a bimodal target,
determinism, exact resume, decentralized execution, and (slow) escaping Max of Three's trap."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from gymnasium import spaces as gym_spaces  # noqa: E402
from torch import nn  # noqa: E402

from ro_bench import algorithms  # noqa: E402
from ro_bench.agents import Transitions  # noqa: E402
from ro_bench_zoo.common.soft_value import soft_value  # noqa: E402
from ro_bench_zoo.common.svgd import svgd_direction  # noqa: E402
from ro_bench_zoo.svnr import (  # noqa: E402
    SVNR, TOPOLOGIES, SVNRConfig, negotiation_direction, negotiation_masks)

SMALL = SVNRConfig(total_steps=400, batch_size=32, policy_batch_size=4, particles=8,
                   value_samples=8, sampler_hidden=(16, 16), critic_hidden=(16, 16))


from agent_doubles import make_spaces  # noqa: E402

pytestmark = pytest.mark.usefixtures("restore_process_state")


def fake_step(agent: SVNR, rng: np.random.Generator, batch: int = 2) -> None:
    """act on random observations, observe made-up rewards (some episodes end), update."""
    n, o = agent.n, agent.obs_dim
    obs = rng.normal(size=(batch, n, o)).astype(np.float32)
    actions = agent.act(obs, explore=True)
    agent.observe(Transitions.from_step(
        obs=obs, state=obs[:, 0], actions=actions,
        rewards=np.repeat(rng.normal(size=(batch, 1)), n, 1),
        next_obs=obs, next_state=rng.normal(size=(batch, o)).astype(np.float32),
        terminated=np.repeat(rng.random((batch, 1)) < 0.3, n, 1),
        truncated=np.zeros((batch, n), dtype=bool)))
    agent.update()


def parameters(agent: SVNR) -> list[torch.Tensor]:
    return [*agent.sampler.state_dict().values(), *agent.critic.state_dict().values(),
            *agent.critic_target.state_dict().values()]


# --------------------------------------------------------------------- negotiation sets
def test_fixed_topologies_give_the_papers_sets() -> None:
    gen = torch.Generator()
    lower = torch.tensor([[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 1]], dtype=torch.bool)
    assert torch.equal(negotiation_masks("nested", 4, 2, gen), lower.expand(2, 4, 4))
    eye = torch.eye(4, dtype=torch.bool)
    assert torch.equal(negotiation_masks("mean_field", 4, 1, gen)[0], eye)
    assert negotiation_masks("full", 4, 1, gen).all()


def test_random_topologies_are_partial_dags_and_sampled_peers() -> None:
    gen = torch.Generator().manual_seed(0)
    eye = torch.eye(4, dtype=torch.bool)
    dags = torch.stack([negotiation_masks("dag", 4, 1, gen)[0] for _ in range(200)])
    assert (dags[:, eye]).all() and not (dags & ~torch.ones(4, 4, dtype=torch.bool).tril()).any()
    assert 0.4 < dags[:, 3, :3].float().mean() < 0.6  # each earlier agent kept with p = 1/2
    for k in (1, 2, 5):
        masks = negotiation_masks("sample", 4, 300, gen, sample_k=k)
        assert masks[:, eye].all() and (masks.sum(-1) == min(k, 3) + 1).all()
        distinct = len({tuple(m.flatten().tolist()) for m in masks})
        assert distinct > 1 if k < 3 else distinct == 1  # redrawn per row, unless all are peers


@pytest.mark.parametrize("topology", TOPOLOGIES)
def test_each_agent_conditions_on_exactly_its_sets_noise(topology: str) -> None:
    agent = SVNR(replace(SMALL, topology=topology, noise_dim=2), make_spaces(n=4), seed=0)
    gen = torch.Generator().manual_seed(1)
    masks = agent._masks(16, gen)
    obs = torch.randn(16, 4, 2, generator=gen)
    noise = torch.randn(16, 8, generator=gen)
    base = agent.sample(obs, noise, masks)
    for j in range(4):
        moved = noise.clone()
        moved[:, 2 * j: 2 * j + 2] += 1.0
        changed = (agent.sample(obs, moved, masks) != base).any(-1)  # [rows, agents]
        assert torch.equal(changed, masks[:, :, j])


# ------------------------------------------------------------------- direction and value
def test_negotiation_direction_is_svgd_on_each_agents_set() -> None:
    gen = torch.Generator().manual_seed(2)
    b, m, n, d = 3, 6, 3, 2
    x = torch.randn(b, m, n * d, generator=gen, dtype=torch.float64)
    score = torch.randn(b, m, n * d, generator=gen, dtype=torch.float64)
    masks = negotiation_masks("sample", n, b, gen, sample_k=1)
    own = torch.eye(n, dtype=torch.float64).repeat_interleave(d, -1)
    delta = negotiation_direction(x, score, masks.repeat_interleave(d, -1), own)
    for s in range(b):
        for i in range(n):
            dims = [a * d + e for a in range(n) if masks[s, i, a] for e in range(d)]
            local = svgd_direction(x[s][:, dims], score[s][:, dims])
            mine = [dims.index(i * d + e) for e in range(d)]
            assert torch.allclose(delta[s][:, i * d:(i + 1) * d], local[:, mine])


class ConstantCritic(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.full((*x.shape[:-1], 1), 3.0)


@pytest.mark.parametrize("alpha", [0.1, 2.0])
def test_soft_value_of_a_flat_critic_is_its_value_plus_uniform_entropy(alpha: float) -> None:
    v = soft_value(ConstantCritic(), torch.zeros(5, 2), 4, 16, alpha, torch.Generator())
    assert torch.allclose(v, torch.full((5,), 3.0 + alpha * 4 * math.log(2.0)))


# ------------------------------------------------------------------------------ learning
class BimodalLogDensity(nn.Module):
    """A fixed "critic": log of 0.5 N(-0.5, 0.2^2) + 0.5 N(0.5, 0.2^2) in the action (with
    narrower modes, 1 seed in 4 puts every particle in one of them: amortized SVGD moves mass
    locally)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = x[..., -1:]
        comps = torch.stack([-((a + 0.5) / 0.2) ** 2 / 2, -((a - 0.5) / 0.2) ** 2 / 2])
        return torch.logsumexp(comps, 0)


def test_amortized_sampler_learns_a_bimodal_target() -> None:
    config = replace(SMALL, alpha_schedule="constant", alpha_start=1.0, squash_correction=False,
                     particles=32, policy_batch_size=8, sampler_hidden=(64, 64))
    agent = SVNR(config, make_spaces(n=1, obs_dim=1, bound=1.0), seed=0)
    fake_step(agent, np.random.default_rng(0), batch=8)
    agent.critic = BimodalLogDensity()
    batch = {k: torch.as_tensor(v) for k, v in agent.buffer.sample(8).items()}
    for _ in range(1500):
        agent._sampler_step(batch, 1.0)
    a = agent.act(np.zeros((4000, 1, 1), np.float32), explore=False)[:, 0, 0]
    left, right = a[a < 0], a[a > 0]
    assert 0.35 < len(left) / len(a) < 0.65
    assert left.mean() == pytest.approx(-0.5, abs=0.1)
    assert right.mean() == pytest.approx(0.5, abs=0.1)
    assert 0.1 < left.std() < 0.3 and 0.1 < right.std() < 0.3


def test_updates_follow_the_schedule_and_alpha_follows_env_steps() -> None:
    config = replace(SMALL, learning_starts=6, update_every=4, updates_per_step=3)
    agent = SVNR(config, make_spaces(), seed=0)
    rng = np.random.default_rng(0)
    counts = []
    for _ in range(6):
        fake_step(agent, rng, batch=2)  # env steps 2, 4, .., 12
        counts.append(agent.gradient_steps)
    assert counts == [0, 0, 0, 3, 3, 6]  # rounds at steps 8 and 12; 4 is before learning_starts
    assert agent.alpha == config.alpha(12)


# ------------------------------------------------------------------ config and registry
def test_registered_names_and_their_topologies() -> None:
    for name, topology, peers in (("svnr", "nested", 1), ("svnr-m", "mean_field", 1),
                                  ("svnr-f", "full", 1), ("svnr-dag", "dag", 1),
                                  ("svnr-sample2", "sample", 2), ("svnr-sample1", "sample", 1)):
        agent_cls, config_cls = algorithms.get(name)
        assert issubclass(agent_cls, SVNR) and config_cls().topology == topology
        assert config_cls().sample_k == peers


def test_bad_config_values_are_explained() -> None:
    with pytest.raises(ValueError, match="Did you mean 'nested'"):
        SVNRConfig(topology="nestd")
    with pytest.raises(ValueError, match=r"particles must be an integer in \[2"):
        SVNRConfig(particles=1)
    discrete = replace(make_spaces(), action_spaces=(gym_spaces.Discrete(3),) * 3)
    with pytest.raises(ValueError, match="continuous_actions=True"):
        SVNR(SVNRConfig(), discrete, seed=0)


@pytest.mark.slow
def test_svnr_escapes_the_max_of_three_trap(tmp_path) -> None:
    from ro_bench.harness import train

    result = train("svnr", "max_of_three-s2=1.5", 0, tmp_path, progress=False)
    assert result.final_metric >= 9.0 and result.decentralized
