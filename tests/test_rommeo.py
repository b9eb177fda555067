"""ROMMEO: the tanh-Gaussian density against numerical integrals, the critic target and the policy
and opponent losses against per-agent computations by hand, the prior's maximum-likelihood fit and
its window, execution, determinism, exact resume, decentralized execution, and a short learning
run."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from gymnasium import spaces as gym_spaces  # noqa: E402

from ro_bench import algorithms  # noqa: E402
from ro_bench.agents import EnvSpaces, Transitions  # noqa: E402
from ro_bench_zoo.common.grouped import GroupedMLP  # noqa: E402
from ro_bench_zoo.rommeo import (  # noqa: E402
    OWN_ACTIONS, ROMMEO, ROMMEOConfig, clipped_atanh, log_tanh_jacobian, tanh_gaussian_log_prob)
from ro_bench import protocols  # noqa: E402

SMALL = ROMMEOConfig(total_steps=400, batch_size=32, policy_batch_size=16, prior_batch_size=16,
                     prior_window=64, learning_starts=1, policy_hidden=(16, 16),
                     opponent_hidden=(16, 16), prior_hidden=(16, 16), critic_hidden=(16, 16))


pytestmark = pytest.mark.usefixtures("restore_process_state")


def make_spaces(n: int = 3, act_dim: int = 1, obs_dim: int = 2, state_dim: int = 3,
                bound: float = 10.0) -> EnvSpaces:
    box = gym_spaces.Box(-bound, bound, (act_dim,), np.float32)
    return EnvSpaces(agents=tuple(f"agent_{i}" for i in range(n)),
                     observation_space=gym_spaces.Box(-np.inf, np.inf, (obs_dim,), np.float32),
                     action_spaces=(box,) * n,
                     state_space=gym_spaces.Box(-np.inf, np.inf, (state_dim,), np.float32))


def fake_step(agent: ROMMEO, rng: np.random.Generator, batch: int = 2) -> None:
    """act on random observations, observe made-up rewards (some episodes end), update."""
    n, o = agent.n, agent.obs_dim
    obs = rng.normal(size=(batch, n, o)).astype(np.float32)
    actions = agent.act(obs, explore=True)
    agent.observe(Transitions.from_step(
        obs=obs, state=rng.normal(size=(batch, agent.state_dim)).astype(np.float32),
        actions=actions, rewards=np.repeat(rng.normal(size=(batch, 1)), n, 1),
        next_obs=rng.normal(size=(batch, n, o)).astype(np.float32),
        next_state=rng.normal(size=(batch, agent.state_dim)).astype(np.float32),
        terminated=np.repeat(rng.random((batch, 1)) < 0.3, n, 1),
        truncated=np.zeros((batch, n), dtype=bool)))
    agent.update()


def parameters(agent: ROMMEO) -> list[torch.Tensor]:
    nets = (agent.policy, agent.opponent, agent.prior, agent.critic, agent.critic_target)
    return [t for net in nets for t in net.state_dict().values()]


def group_forward(net: GroupedMLP, g: int, x: torch.Tensor) -> torch.Tensor:
    """Group ``g`` of a GroupedMLP as a plain MLP, layer by layer (an independent computation)."""
    last = len(net.weights) - 1
    for i, (w, b) in enumerate(zip(net.weights, net.biases)):
        x = x @ w[g] + b[g, 0]
        x = x.clamp(min=0.0) if i < last else x
    return x


def gaussian(net: GroupedMLP, g: int, x: torch.Tensor) -> torch.distributions.Normal:
    mean, log_std = group_forward(net, g, x).chunk(2, -1)
    return torch.distributions.Normal(mean, log_std.clamp(-20.0, 2.0).exp())


def squashed_log_prob(dist: torch.distributions.Normal, u: torch.Tensor) -> torch.Tensor:
    """log p(tanh(u)) by the textbook formula, for moderate u."""
    return (dist.log_prob(u) - torch.log(1.0 - torch.tanh(u) ** 2)).sum(-1)


def trained_agent(config: ROMMEOConfig = SMALL, steps: int = 12, **spaces) -> ROMMEO:
    agent = ROMMEO(config, make_spaces(**spaces), seed=0)
    rng = np.random.default_rng(0)
    for _ in range(steps):
        fake_step(agent, rng, batch=3)
    return agent


# ------------------------------------------------------------------- the tanh-Gaussian
@pytest.mark.parametrize("mean, std", [(0.0, 1.0), (0.7, 0.3), (-1.2, 0.6), (0.1, 0.02)])
def test_tanh_gaussian_density_integrates_to_one_and_gives_the_gaussians_cdf(mean, std) -> None:
    a = torch.linspace(-1.0, 1.0, 400_001, dtype=torch.float64)[1:-1]
    density = tanh_gaussian_log_prob(torch.atanh(a)[:, None], torch.tensor([mean]),
                                     torch.tensor([math.log(std)], dtype=torch.float64)).exp()
    assert torch.trapezoid(density, a).item() == pytest.approx(1.0, abs=1e-5)
    for t in (-0.5, 0.0, 0.4, 0.9):
        below = a <= t
        cdf = torch.trapezoid(density[below], a[below]).item()
        expected = 0.5 * (1.0 + math.erf((math.atanh(t) - mean) / (std * math.sqrt(2.0))))
        assert cdf == pytest.approx(expected, abs=1e-5)


def test_two_dimensional_tanh_gaussian_integrates_to_one() -> None:
    grid = torch.linspace(-1.0, 1.0, 1_201, dtype=torch.float64)[1:-1]
    a = torch.stack(torch.meshgrid(grid, grid, indexing="ij"), -1)  # [G, G, 2]
    mean = torch.tensor([0.3, -0.4], dtype=torch.float64)
    log_std = torch.tensor([math.log(0.5), math.log(0.8)], dtype=torch.float64)
    density = tanh_gaussian_log_prob(torch.atanh(a), mean, log_std).exp()
    total = torch.trapezoid(torch.trapezoid(density, grid, dim=1), grid).item()
    assert total == pytest.approx(1.0, abs=2e-3)


def test_log_jacobian_is_exact_and_finite_where_the_direct_form_is_not() -> None:
    u = torch.linspace(-6.0, 6.0, 101, dtype=torch.float64)
    assert torch.allclose(log_tanh_jacobian(u), torch.log(1.0 - torch.tanh(u) ** 2))
    far = torch.tensor([-50.0, -20.0, 20.0, 50.0], requires_grad=True)
    assert torch.isinf(torch.log(1.0 - torch.tanh(far.detach()) ** 2)).all()  # float32 fails
    value = log_tanh_jacobian(far)
    assert torch.allclose(value, -2.0 * far.detach().abs() + 2.0 * math.log(2.0))
    (grad,) = torch.autograd.grad(value.sum(), far)
    assert torch.allclose(grad, -2.0 * torch.sign(far.detach()))


def test_log_prob_of_a_sample_far_in_the_tail_is_finite_and_exact() -> None:
    u = torch.tensor([[12.0], [-30.0]])
    mean, log_std = torch.tensor([[10.0], [-29.0]]), torch.tensor([[0.5], [0.0]])
    got = tanh_gaussian_log_prob(u, mean, log_std)
    u64, m64, s64 = u.double(), mean.double(), log_std.double().exp()
    # log(1 - tanh(u)^2) = 2 log 2 - 2 |u| - 2 log(1 + exp(-2 |u|)), the symmetric form
    log_jacobian = 2.0 * (math.log(2.0) - u64.abs() - torch.log1p(torch.exp(-2.0 * u64.abs())))
    exact = (torch.distributions.Normal(m64, s64).log_prob(u64) - log_jacobian).sum(-1)
    assert torch.isfinite(got).all() and torch.allclose(got.double(), exact, rtol=1e-6)


def test_clipped_atanh_keeps_actions_on_the_bounds_finite() -> None:
    u = clipped_atanh(torch.tensor([-1.0, -0.5, 0.0, 1.0]))
    assert torch.isfinite(u).all() and u[3] == pytest.approx(7.25, abs=0.01)
    assert u[1] == pytest.approx(math.atanh(-0.5)) and u[0] == -u[3]


# --------------------------------------------------------------------------- the losses
def live_batch(agent: ROMMEO, size: int = 12) -> dict[str, torch.Tensor]:
    batch = agent._grouped(agent.buffer.sample(size))
    assert batch["terminated"].any() and not batch["terminated"].all()
    return batch


def test_critic_target_is_eq_16_computed_by_hand() -> None:
    agent = trained_agent()
    batch, alpha, gamma = live_batch(agent), 0.7, agent.config.gamma
    y = agent.critic_targets(batch, alpha, torch.Generator().manual_seed(5))
    live = ~batch["terminated"]
    gen = torch.Generator().manual_seed(5)  # the same draws: rho's noise, then pi's
    rho_noise = torch.randn(agent.n, int(live.sum()), agent.opp_dim, generator=gen)
    pi_noise = torch.randn(agent.n, int(live.sum()), agent.act_dim, generator=gen)
    for i in range(agent.n):
        obs, state = batch["next_obs"][i][live], batch["next_state"][i][live]
        rho = gaussian(agent.opponent, i, obs)
        u_others = rho.loc + rho.scale * rho_noise[i]
        pi = gaussian(agent.policy, i, torch.cat([obs, torch.tanh(u_others)], -1))
        u_own = pi.loc + pi.scale * pi_noise[i]
        q = group_forward(agent.critic_target, i,
                          torch.cat([state, torch.tanh(u_own), torch.tanh(u_others)], -1))[:, 0]
        value = (q - squashed_log_prob(rho, u_others) - alpha * squashed_log_prob(pi, u_own)
                 + squashed_log_prob(gaussian(agent.prior, i, obs), u_others))
        expected = batch["reward"][i].clone()
        expected[live] += gamma * value
        assert torch.allclose(y[i], expected, atol=1e-5)


@pytest.mark.parametrize("own_action", OWN_ACTIONS)
def test_policy_and_opponent_losses_are_eqs_17_and_19_computed_by_hand(own_action: str) -> None:
    agent = trained_agent(replace(SMALL, opponent_own_action=own_action))
    batch, alpha, reg = live_batch(agent), 0.3, agent.config.gaussian_reg
    policy_loss, opponent_loss, _ = agent.policy_losses(batch, alpha,
                                                        torch.Generator().manual_seed(8))
    b = batch["obs"].shape[1]
    gen = torch.Generator().manual_seed(8)
    rho_noise = torch.randn(agent.n, b, agent.opp_dim, generator=gen)
    pi_noise = torch.randn(agent.n, b, agent.act_dim, generator=gen)
    expected_policy = expected_opponent = 0.0
    with torch.no_grad():
        for i in range(agent.n):
            obs, state = batch["obs"][i], batch["state"][i]
            rho = gaussian(agent.opponent, i, obs)
            u_others = rho.loc + rho.scale * rho_noise[i]
            others = torch.tanh(u_others)
            pi = gaussian(agent.policy, i, torch.cat([obs, others], -1))
            u_own = pi.loc + pi.scale * pi_noise[i]
            q = group_forward(agent.critic, i, torch.cat([state, torch.tanh(u_own), others], -1))
            soft_q = q[:, 0] - alpha * squashed_log_prob(pi, u_own)
            penalty = reg / 2 * (pi.loc.square().mean() + pi.scale.log().square().mean())
            expected_policy += -soft_q.mean() + penalty
            if own_action == "replay":
                own = batch["own"][i]
                q = group_forward(agent.critic, i, torch.cat([state, own, others], -1))
                u_replayed = torch.atanh(own.clamp(-1 + 1e-6, 1 - 1e-6))
                soft_q = q[:, 0] - alpha * squashed_log_prob(pi, u_replayed)
            kl = squashed_log_prob(rho, u_others) - squashed_log_prob(
                gaussian(agent.prior, i, obs), u_others)
            expected_opponent += ((kl - soft_q).mean()
                                  + reg / 2 * (rho.loc.square().mean()
                                               + rho.scale.log().square().mean()))
    assert policy_loss.item() == pytest.approx(expected_policy.item(), rel=1e-5, abs=1e-5)
    assert opponent_loss.item() == pytest.approx(expected_opponent.item(), rel=1e-5, abs=1e-5)


def test_a_gradient_step_moves_each_network_by_its_own_loss_only() -> None:
    """pi's loss does not reach rho (nor rho's pi); the critic and the prior have their own."""
    agent = trained_agent()
    batch = live_batch(agent, 16)
    policy_loss, opponent_loss, _ = agent.policy_losses(batch, 0.5, torch.Generator())
    pi_params, rho_params = list(agent.policy.parameters()), list(agent.opponent.parameters())
    expected_pi = torch.autograd.grad(policy_loss, pi_params, retain_graph=True)
    expected_rho = torch.autograd.grad(opponent_loss, rho_params, retain_graph=True)
    for p in [*pi_params, *rho_params, *agent.critic.parameters(), *agent.prior.parameters()]:
        p.grad = None
    policy_loss.backward(inputs=pi_params, retain_graph=True)
    opponent_loss.backward(inputs=rho_params)
    assert all(torch.equal(p.grad, g) for p, g in zip(pi_params, expected_pi))
    assert all(torch.equal(p.grad, g) for p, g in zip(rho_params, expected_rho))
    assert all(p.grad is None for p in [*agent.critic.parameters(), *agent.prior.parameters()])
    # rho's loss depends on pi's weights through the re-sampled a_i: it would move pi otherwise
    leak = torch.autograd.grad(agent.policy_losses(batch, 0.5, torch.Generator())[1], pi_params)
    assert any(g.abs().sum() > 0 for g in leak)


# -------------------------------------------------------------------------------- prior
def test_prior_fits_the_opponents_tanh_gaussian_by_maximum_likelihood() -> None:
    config = replace(SMALL, prior_window=512, prior_batch_size=256)
    agent = ROMMEO(config, make_spaces(n=2, obs_dim=1, state_dim=1, bound=1.0), seed=0)
    rng = np.random.default_rng(0)
    actions = np.tanh(rng.normal([0.4, -0.8], [0.3, 0.5], size=(512, 2)))[..., None]
    obs = np.ones((512, 2, 1), np.float32)
    agent.observe(Transitions.from_step(
        obs=obs, state=obs[:, 0], actions=actions.astype(np.float32),
        rewards=np.zeros((512, 2)), next_obs=obs, next_state=obs[:, 0],
        terminated=np.ones((512, 2), bool), truncated=np.zeros((512, 2), bool)))
    for _ in range(400):
        agent._prior_step({})
    mean, log_std = agent.heads(agent.prior, torch.ones(2, 1, 1))
    # agent 0's prior models agent 1 (tanh N(-0.8, 0.5^2)), agent 1's models agent 0
    assert mean.flatten().tolist() == pytest.approx([-0.8, 0.4], abs=0.06)
    assert log_std.exp().flatten().tolist() == pytest.approx([0.5, 0.3], abs=0.04)


def test_the_prior_window_holds_the_most_recent_transitions_only() -> None:
    agent = ROMMEO(replace(SMALL, prior_window=5), make_spaces(n=2, bound=1.0), seed=0)
    for k in range(8):
        obs = np.full((1, 2, 2), k, np.float32)
        agent.observe(Transitions.from_step(
            obs=obs, state=np.zeros((1, 3), np.float32), actions=np.full((1, 2, 1), k / 10),
            rewards=np.zeros((1, 2)), next_obs=obs, next_state=np.zeros((1, 3), np.float32),
            terminated=np.ones((1, 2), bool), truncated=np.zeros((1, 2), bool)))
    held = agent.window.state_dict()["arrays"]
    assert sorted(held["obs"][:, 0, 0].tolist()) == [3, 4, 5, 6, 7]
    assert len(agent.buffer) == 8
    assert agent.window.sample(50)["obs"][:, 0, 0].min() >= 3


# ----------------------------------------------------------------------------- execution
def test_evaluation_is_the_tanh_of_the_means() -> None:
    agent = trained_agent()
    obs = np.random.default_rng(3).normal(size=(6, 3, 2)).astype(np.float32)
    got = agent.act(obs, explore=False) / 10.0  # the box is [-10, 10]
    explored = agent.act(obs, explore=True) / 10.0
    for i in range(agent.n):
        o = torch.from_numpy(obs[:, i])
        others = torch.tanh(gaussian(agent.opponent, i, o).loc)
        own = torch.tanh(gaussian(agent.policy, i, torch.cat([o, others], -1)).loc)
        assert np.allclose(got[:, i], own.detach().numpy(), atol=1e-6)
    assert np.abs(explored - got).max() > 1e-3 and (np.abs(explored) <= 1).all()


def test_exploration_draws_rho_then_pi_from_the_agents_own_noise() -> None:
    agent = trained_agent()
    obs = np.random.default_rng(3).normal(size=(6, 3, 2)).astype(np.float32)
    gen = torch.Generator()
    gen.set_state(agent.explore_noise.get_state())
    explored = agent.act(obs, explore=True) / 10.0
    rho_noise = torch.randn(agent.n, 6, agent.opp_dim, generator=gen)
    pi_noise = torch.randn(agent.n, 6, agent.act_dim, generator=gen)
    for i in range(agent.n):
        o = torch.from_numpy(obs[:, i])
        rho = gaussian(agent.opponent, i, o)
        others = torch.tanh(rho.loc + rho.scale * rho_noise[i])
        pi = gaussian(agent.policy, i, torch.cat([o, others], -1))
        own = torch.tanh(pi.loc + pi.scale * pi_noise[i])
        assert np.allclose(explored[:, i], own.detach().numpy(), atol=1e-6)


# ------------------------------------------------------------- schedule and reproducibility
def test_updates_follow_the_schedule_and_alpha_follows_env_steps() -> None:
    config = replace(SMALL, learning_starts=6, update_every=4, updates_per_step=3)
    agent = ROMMEO(config, make_spaces(), seed=0)
    rng = np.random.default_rng(0)
    counts = []
    for _ in range(6):
        fake_step(agent, rng, batch=2)  # env steps 2, 4, .., 12
        counts.append(agent.gradient_steps)
    assert counts == [0, 0, 0, 3, 3, 6]  # rounds at steps 8 and 12; 4 is before learning_starts
    assert agent.alpha == config.alpha(12) == SMALL.alpha(12)


SHORT_MAX_OF_TWO = protocols.Protocol("test-rommeo-max_of_two", 1, "max_of_two", budget=600,
                                      eval_every=300, eval_episodes=100)


def test_a_short_max_of_two_run_climbs_to_the_trap_without_diverging(tmp_path) -> None:
    """A broken update fails this: from about -6 at the start, seed 0 ends within 0.01 of the
    trap's peak (0 at (-5, -5)) after 600 steps (seeds 1 and 2: 9.4 and -0.2); the reward never
    exceeds 10."""
    from ro_bench.harness import train

    if SHORT_MAX_OF_TWO.name not in protocols.list():
        protocols.register(SHORT_MAX_OF_TWO)
    overrides = {"batch_size": 64, "policy_batch_size": 64, "prior_batch_size": 64,
                 "policy_hidden": (32, 32), "opponent_hidden": (32, 32),
                 "prior_hidden": (32, 32), "critic_hidden": (32, 32)}
    result = train("rommeo", SHORT_MAX_OF_TWO.name, 0, tmp_path, overrides=overrides,
                   progress=False)
    assert math.isfinite(result.final_metric) and -0.1 <= result.final_metric <= 10.0
    assert result.curve[0][1] < -1.0 and result.decentralized


# ------------------------------------------------------------------ config and registry
def test_registered_and_described() -> None:
    agent_cls, config_cls = algorithms.get("rommeo")
    assert agent_cls is ROMMEO and config_cls is ROMMEOConfig
    assert (ROMMEOConfig().batch_size, ROMMEOConfig().prior_window) == (512, 512)


def test_bad_config_values_are_explained() -> None:
    with pytest.raises(ValueError, match="Did you mean 'replay'"):
        ROMMEOConfig(opponent_own_action="replai")
    with pytest.raises(ValueError, match="policy_batch_size must be an integer in \\[1"):
        ROMMEOConfig(policy_batch_size=0)
    with pytest.raises(ValueError, match="log_std_min must be below"):
        ROMMEOConfig(log_std_min=3.0)
    discrete = replace(make_spaces(), action_spaces=(gym_spaces.Discrete(3),) * 3)
    with pytest.raises(ValueError, match="continuous_actions=True"):
        ROMMEO(ROMMEOConfig(), discrete, seed=0)
    with pytest.raises(ValueError, match="at least 2"):
        ROMMEO(ROMMEOConfig(), make_spaces(n=1), seed=0)
