"""MASQL: the split SVGD direction, the critics' soft targets, own-slice execution, the samplers
learning a target, the update schedule, determinism, exact resume, decentralized execution, and
learning Max of Two."""

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
from ro_bench_zoo.common.grouped import GroupedMLP  # noqa: E402
from ro_bench_zoo.masql import MASQL, MASQLConfig, split_svgd_direction  # noqa: E402
from ro_bench import protocols  # noqa: E402

SMALL = MASQLConfig(total_steps=400, batch_size=32, policy_batch_size=4, particles=8,
                    fixed_particles=4, value_samples=8, sampler_hidden=(16, 16),
                    critic_hidden=(16, 16))
LEARNING = protocols.Protocol("test-max_of_two-masql", 1, "max_of_two", budget=1000,
                              eval_every=500, eval_episodes=100)


from agent_doubles import make_spaces  # noqa: E402

pytestmark = pytest.mark.usefixtures("restore_process_state")


def fake_step(agent: MASQL, rng: np.random.Generator, batch: int = 2) -> None:
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


def parameters(agent: MASQL) -> list[torch.Tensor]:
    return [*agent.sampler.state_dict().values(), *agent.critic.state_dict().values(),
            *agent.critic_target.state_dict().values()]


def group_mlp(grouped: GroupedMLP, g: int) -> nn.Sequential:
    """Group ``g`` of a GroupedMLP as a plain float64 ``nn.Sequential``."""
    layers: list[nn.Module] = []
    for w, b in zip(grouped.weights, grouped.biases):
        linear = nn.Linear(w.shape[1], w.shape[2]).double()
        linear.weight.data = w[g].T.double().clone()
        linear.bias.data = b[g, 0].double().clone()
        layers += [linear, nn.ReLU()]
    return nn.Sequential(*layers[:-1]).requires_grad_(False)


# ------------------------------------------------------------------------------- direction
def test_split_direction_is_the_mean_over_fixed_particles() -> None:
    gen = torch.Generator().manual_seed(0)
    b, n_fixed, n_moved, d = 2, 5, 4, 3
    fixed = torch.randn(b, n_fixed, d, generator=gen, dtype=torch.float64)
    score = torch.randn(b, n_fixed, d, generator=gen, dtype=torch.float64)
    moved = torch.randn(b, n_moved, d, generator=gen, dtype=torch.float64)
    delta = split_svgd_direction(fixed, score, moved)
    for s in range(b):
        dists = sorted(((fixed[s, l] - moved[s, m]).norm() ** 2).item()
                       for l in range(n_fixed) for m in range(n_moved))
        h = dists[(len(dists) - 1) // 2] / math.log(n_fixed)  # soft Q-learning's bandwidth
        for m in range(n_moved):
            total = torch.zeros(d, dtype=torch.float64)
            for l in range(n_fixed):
                x = fixed[s, l].clone().requires_grad_(True)
                k = torch.exp(-(x - moved[s, m]).square().sum() / h)
                (grad_k,) = torch.autograd.grad(k, x)
                total += k.detach() * score[s, l] + grad_k
            assert torch.allclose(delta[s, m], total / n_fixed)


# -------------------------------------------------------------------------- critic targets
def live_batch(agent: MASQL, rng: np.random.Generator, size: int = 6) -> dict[str, torch.Tensor]:
    n, d = agent.n, agent.act_dim
    return {"state": torch.as_tensor(rng.normal(size=(size, 2)), dtype=torch.float32),
            "actions": torch.as_tensor(rng.uniform(-1, 1, (size, n, d)), dtype=torch.float32),
            "reward": torch.as_tensor(rng.normal(size=size), dtype=torch.float32),
            "next_state": torch.as_tensor(rng.normal(size=(size, 2)), dtype=torch.float32),
            "terminated": torch.tensor([False, True] * (size // 2))}


@pytest.mark.parametrize("alpha", [0.1, 2.0])
def test_flat_target_critics_give_their_value_plus_the_uniform_entropy(alpha: float) -> None:
    agent = MASQL(replace(SMALL, gamma=0.9, reward_scale=2.0), make_spaces(n=2, act_dim=2), 0)
    with torch.no_grad():
        for w in agent.critic_target.weights:
            w.zero_()
        agent.critic_target.biases[-1][:, 0, 0] = torch.tensor([3.0, -1.0])
    batch = live_batch(agent, np.random.default_rng(0))
    y = agent.critic_targets(batch, alpha)
    value = torch.tensor([3.0, -1.0])[:, None] + alpha * 4 * math.log(2.0)  # D = 4
    live = (~batch["terminated"]).float()
    assert torch.allclose(y, 2.0 * batch["reward"] + 0.9 * live * value, atol=1e-5)


def test_each_agents_target_is_its_own_networks_soft_value() -> None:
    agent = MASQL(replace(SMALL, value_samples=5), make_spaces(n=3), seed=1)
    batch = live_batch(agent, np.random.default_rng(1))
    saved = agent.update_noise.get_state()
    y = agent.critic_targets(batch, 0.5)
    uniform = torch.Generator()
    uniform.set_state(saved)
    next_states = batch["next_state"][~batch["terminated"]].double()
    a = torch.rand(len(next_states), 5, 3, generator=uniform).double() * 2 - 1
    inputs = torch.cat([next_states[:, None].expand(-1, 5, -1), a], dim=-1)
    for i in range(3):
        q = group_mlp(agent.critic_target, i)(inputs).squeeze(-1)
        v = 0.5 * (torch.logsumexp(q / 0.5, -1) - math.log(5) + 3 * math.log(2))
        expected = batch["reward"].double().clone()
        expected[~batch["terminated"]] += 0.95 * v
        assert torch.allclose(y[i].double(), expected, atol=1e-5)


def test_every_critic_learns_the_team_reward() -> None:
    config = replace(SMALL, critic_lr=1e-2, batch_size=16)
    agent = MASQL(config, make_spaces(n=2, obs_dim=2), seed=0)
    obs = np.zeros((16, 2, 2), np.float32)
    agent.observe(Transitions.from_step(
        obs=obs, state=obs[:, 0], actions=agent.act(obs, explore=True),
        rewards=np.full((16, 2), -2.0, np.float32), next_obs=obs, next_state=obs[:, 0],
        terminated=np.ones((16, 2), bool), truncated=np.zeros((16, 2), bool)))
    for _ in range(300):
        batch = {k: torch.as_tensor(v) for k, v in agent.buffer.sample(16).items()}
        agent._critic_step(batch, 1.0)
    inputs = torch.cat([batch["state"], batch["actions"].reshape(16, -1)], -1)
    q = agent.critic(inputs.expand(2, 16, -1)).squeeze(-1).detach()
    assert torch.allclose(q, torch.full((2, 16), -2.0), atol=0.05)


# ------------------------------------------------------------------------------- execution
def test_each_agent_plays_its_own_slice_of_its_own_joint_sample() -> None:
    agent = MASQL(replace(SMALL, noise_dim=3), make_spaces(n=3, act_dim=2, bound=4.0), seed=0)
    obs = np.random.default_rng(0).normal(size=(7, 3, 2)).astype(np.float32)
    saved = agent.eval_noise.get_state()
    actions = agent.act(obs, explore=False)
    gen = torch.Generator()
    gen.set_state(saved)
    noise = torch.randn(3, 7, 3, generator=gen).double()
    for i in range(3):
        joint = torch.tanh(group_mlp(agent.sampler, i)(
            torch.cat([noise[i], torch.as_tensor(obs[:, i]).double()], -1)))
        expected = 4.0 * joint[:, 2 * i: 2 * i + 2]
        assert np.allclose(actions[:, i], expected.numpy(), atol=1e-5)
    with torch.no_grad():
        agent.sampler.biases[-1][1] += 0.3  # only agent 1's sampler changes
    agent.eval_noise.set_state(saved)
    changed = (agent.act(obs, explore=False) != actions).any(-1).all(0)
    assert changed.tolist() == [False, True, False]


class GaussianCritic(nn.Module):
    """A fixed "critic" for every agent: log N(a; mu, 0.2^2 I) on a 2-D joint action."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = x[..., -2:]
        return -((a - torch.tensor([0.5, -0.3])) / 0.2).square().sum(-1, keepdim=True) / 2


@pytest.mark.parametrize("fixed_particles", [16, 0])
def test_samplers_learn_a_gaussian_joint_target(fixed_particles: int) -> None:
    config = replace(SMALL, alpha_schedule="constant", alpha_start=1.0, squash_correction=False,
                     particles=32, fixed_particles=fixed_particles, policy_batch_size=4,
                     sampler_hidden=(32, 32), policy_lr=3e-3)
    agent = MASQL(config, make_spaces(n=2, obs_dim=1, bound=1.0), seed=0)
    fake_step(agent, np.random.default_rng(0), batch=4)
    agent.critic = GaussianCritic()
    batch = {k: torch.as_tensor(v) for k, v in agent.buffer.sample(4).items()}
    for _ in range(400):
        agent._sampler_step(batch, 1.0)
    noise = torch.randn(2, 4000, agent.noise_dim, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        joint = agent.sample_joint(torch.zeros(2, 4000, 1), noise)  # [agents, samples, D]
    assert torch.allclose(joint.mean(1), torch.tensor([0.5, -0.3]).expand(2, 2), atol=0.05)
    assert ((joint.std(1) > 0.14) & (joint.std(1) < 0.26)).all()


# -------------------------------------------------------------------------------- schedule
def test_updates_follow_the_schedule_and_alpha_follows_env_steps() -> None:
    config = replace(SMALL, learning_starts=6, update_every=4, updates_per_step=3)
    agent = MASQL(config, make_spaces(), seed=0)
    rng = np.random.default_rng(0)
    counts = []
    for _ in range(6):
        fake_step(agent, rng, batch=2)  # env steps 2, 4, .., 12
        counts.append(agent.gradient_steps)
    assert counts == [0, 0, 0, 3, 3, 6]  # rounds at steps 8 and 12; 4 is before learning_starts
    assert agent.alpha == config.alpha(12)


def test_targets_move_every_target_update_every_gradient_steps() -> None:
    agent = MASQL(replace(SMALL, target_update_every=3, tau=0.5), make_spaces(), seed=0)
    rng = np.random.default_rng(0)
    fake_step(agent, rng, batch=4)
    moved = []
    for _ in range(6):
        before = [p.clone() for p in agent.critic_target.parameters()]
        agent.pending_rounds = 1  # one update round: one gradient step
        agent.update()
        moved.append(any(not torch.equal(p, q) for p, q in
                         zip(before, agent.critic_target.parameters())))
    assert moved == [False, True, False, False, True, False]  # after gradient steps 6 and 9


# ------------------------------------------------------------------ config and registry
def test_registered_name_and_bad_values_are_explained() -> None:
    agent_cls, config_cls = algorithms.get("masql")
    assert agent_cls is MASQL and config_cls is MASQLConfig
    with pytest.raises(ValueError, match="Did you mean 'geometric'"):
        MASQLConfig(alpha_schedule="geometrc")
    with pytest.raises(ValueError, match="fixed_particles must be 0"):
        MASQLConfig(fixed_particles=32)
    with pytest.raises(ValueError, match="fixed_particles must be 0"):
        MASQLConfig(fixed_particles=1)
    discrete = replace(make_spaces(), action_spaces=(gym_spaces.Discrete(3),) * 3)
    with pytest.raises(ValueError, match="continuous_actions=True"):
        MASQL(MASQLConfig(), discrete, seed=0)


# -------------------------------------------------------------------------------- learning
def test_learns_max_of_two_from_a_short_run(tmp_path) -> None:
    from ro_bench.harness import train

    if LEARNING.name not in protocols.list():
        protocols.register(LEARNING)
    small = {"batch_size": 128, "critic_hidden": (64, 64), "sampler_hidden": (32, 32),
             "critic_lr": 3e-3, "policy_lr": 3e-3, "particles": 16, "fixed_particles": 8}
    result = train("masql", LEARNING.name, 0, tmp_path, overrides=small, progress=False)
    assert result.env_steps == 1000 and result.decentralized
    assert all(math.isfinite(m) and -400 <= m <= 10 for _, m in result.curve)
    assert result.final_metric >= LEARNING.trap  # the trap is 0, random play about -6
