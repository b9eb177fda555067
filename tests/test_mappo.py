"""MAPPO: the Gaussian log-probability and entropy, the clipped surrogate and the clipped Huber
value loss on hand-checked numbers, the first update's losses, the raw samples kept for the
ratio, decentralized execution, exact save/load, and a learning check."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from gymnasium import spaces as gym_spaces  # noqa: E402

from agent_doubles import make_spaces  # noqa: E402
from harness_doubles import COORDINATION, train_without_ro  # noqa: E402
from ro_bench import algorithms  # noqa: E402
from ro_bench.agents import Transitions  # noqa: E402
from ro_bench.evaluation import is_decentralized  # noqa: E402
from ro_bench_zoo.mappo import (  # noqa: E402
    MAPPO, MAPPOConfig, clipped_surrogate, clipped_value_loss, gaussian_entropy,
    gaussian_log_prob, huber)

pytestmark = pytest.mark.usefixtures("restore_process_state")

SMALL = MAPPOConfig(total_steps=400, n_steps=4, hidden=(16, 16))


def step(agent: MAPPO, rng: np.random.Generator, batch: int = 2,
         terminated: bool | None = None) -> dict[str, float]:
    """act on random observations, observe made-up rewards (some episodes end), update."""
    n, o, s = agent.n, agent.obs_dim, agent.state_dim
    obs = rng.normal(size=(batch, n, o)).astype(np.float32)
    done = rng.random((batch, 1)) < 0.3 if terminated is None else np.full((batch, 1), terminated)
    agent.observe(Transitions.from_step(
        obs=obs, state=rng.normal(size=(batch, s)).astype(np.float32),
        actions=agent.act(obs, explore=True), rewards=np.repeat(rng.normal(size=(batch, 1)), n, 1),
        next_obs=rng.normal(size=(batch, n, o)).astype(np.float32),
        next_state=rng.normal(size=(batch, s)).astype(np.float32),
        terminated=np.repeat(done, n, 1), truncated=np.zeros((batch, n), dtype=bool)))
    return agent.update()


# ------------------------------------------------------------------------- pure functions
def test_log_prob_and_entropy_are_the_diagonal_gaussians() -> None:
    gen = torch.Generator().manual_seed(0)
    mean, actions = torch.randn(5, 3, generator=gen), 3 * torch.randn(5, 3, generator=gen)
    log_std = torch.tensor([-1.0, 0.0, 0.5])
    normal = torch.distributions.Normal(mean, log_std.exp())
    assert torch.allclose(gaussian_log_prob(actions, mean, log_std),
                          normal.log_prob(actions).sum(-1))
    assert torch.allclose(gaussian_entropy(log_std), normal.entropy()[0].sum())
    # one dimension by hand: log N(2; 0, 1) = -2 - log(2 pi) / 2
    assert gaussian_log_prob(torch.tensor([2.0]), torch.zeros(1), torch.zeros(1)).item() == (
        pytest.approx(-2.0 - 0.5 * math.log(2 * math.pi)))


def test_clipped_surrogate_on_hand_checked_ratios() -> None:
    ratios = torch.tensor([1.5, 1.5, 0.5, 0.5])
    advantages = torch.tensor([1.0, -1.0, 1.0, -1.0])
    # min(r A, clip(r, .8, 1.2) A): 1.2 (clipped), -1.5, 0.5, -0.8 (clipped)
    loss = clipped_surrogate(ratios.log(), torch.zeros(4), advantages, 0.2)
    assert loss.item() == pytest.approx(-(1.2 - 1.5 + 0.5 - 0.8) / 4)
    # inside the clip range the gradient is the plain policy gradient, outside it is zero
    log_prob = torch.tensor([math.log(1.1), math.log(1.5)], requires_grad=True)
    clipped_surrogate(log_prob, torch.zeros(2), torch.tensor([1.0, 1.0]), 0.2).backward()
    assert log_prob.grad.tolist() == pytest.approx([-1.1 / 2, 0.0])


def test_huber_is_symmetric_quadratic_then_linear() -> None:
    errors = torch.tensor([-15.0, -10.0, -3.0, 0.0, 3.0, 10.0, 15.0])
    expected = [10 * (15 - 5), 50.0, 4.5, 0.0, 4.5, 50.0, 10 * (15 - 5)]
    assert huber(errors, 10.0).tolist() == pytest.approx(expected)
    assert huber(errors, 0.0).tolist() == pytest.approx((0.5 * errors ** 2).tolist())


def test_clipped_value_loss_takes_the_larger_of_the_two_errors() -> None:
    old = torch.tensor([0.0, 0.0, 0.0])
    values = torch.tensor([1.0, 1.0, 0.1])
    targets = torch.tensor([2.0, 0.0, 0.1])
    # clipped values (clip 0.2): 0.2, 0.2, 0.1; squared errors /2 with delta 10:
    # sample 0: max((2 - 1)^2, (2 - .2)^2) / 2 = 1.62; sample 1: max(1, .04) / 2 = .5; sample 2: 0
    loss = clipped_value_loss(values, old, targets, 0.2, 10.0)
    assert loss.item() == pytest.approx((1.62 + 0.5 + 0.0) / 3)


# -------------------------------------------------------------------------------- acting
def test_exploring_samples_the_gaussian_and_evaluation_returns_its_clipped_mean() -> None:
    agent = MAPPO(replace(SMALL, log_std_init=math.log(0.5)), make_spaces(n=2, bound=10.0), 0)
    with torch.no_grad():
        last = agent.actor.mean[-1]
        last.weight.zero_()
        last.bias.fill_(0.2)  # mu = 0.2, i.e. 2.0 in env units
    obs = np.zeros((20000, 2, 2), np.float32)
    assert np.allclose(agent.act(obs, explore=False), 2.0, atol=1e-5)
    actions = agent.act(obs, explore=True)
    raw = agent._sampled[0]
    assert np.array_equal(agent.box.to_env(np.clip(raw, -1, 1)), actions)
    assert abs(raw.mean() - 0.2) < 0.01 and abs(raw.std() - 0.5) < 0.01
    assert 0.04 < (raw > 1).mean() < 0.07  # P(N(.2, .5) > 1) = 5.5%: clipped in the env
    with torch.no_grad():
        last.bias.fill_(3.0)
    assert np.allclose(agent.act(obs[:3], explore=False), 10.0)  # the mean, clipped to the box


def test_observe_stores_the_unclipped_samples_and_refuses_other_actions() -> None:
    agent = MAPPO(replace(SMALL, log_std_init=1.0), make_spaces(n=2), seed=0)
    rng = np.random.default_rng(0)
    step(agent, rng, batch=64)
    stored = agent.rollout.arrays()["actions"][0]
    assert np.abs(stored).max() > 1.0  # std e: many samples fall outside [-1, 1]
    obs = np.zeros((2, 2, 2), np.float32)
    actions = agent.act(obs, explore=True)
    transitions = Transitions.from_step(
        obs=obs, state=obs[:, 0], actions=actions + 0.5, rewards=np.zeros((2, 2)),
        next_obs=obs, next_state=obs[:, 0], terminated=np.ones((2, 2), bool),
        truncated=np.zeros((2, 2), bool))
    with pytest.raises(ValueError, match="MAPPO learns on-policy"):
        agent.observe(transitions)
    with pytest.raises(ValueError, match="once each"):  # the sample was used up
        agent.observe(replace(transitions, actions=actions))


def test_execution_is_decentralized_and_ids_tell_agents_apart() -> None:
    agent = MAPPO(SMALL, make_spaces(n=3), seed=0)
    rng = np.random.default_rng(0)
    for _ in range(8):
        step(agent, rng)
    obs = np.zeros((4, 3, 2), np.float32)
    assert is_decentralized(agent, obs + rng.normal(size=obs.shape).astype(np.float32), rng)
    actions = agent.act(obs, explore=False)
    assert not np.allclose(actions[:, 0], actions[:, 1])  # one network, told who it is


# ------------------------------------------------------------------------------ learning
def test_the_first_update_of_a_one_step_game_matches_a_hand_computation() -> None:
    """Every episode terminates after one step: the return is the reward, the ValueNorm holds
    that rollout's statistics, the targets are the normalized rewards, the advantages are
    ``r - V(s, i)`` normalized, and the first (only) mini-batch has ratio 1: the policy loss is
    minus the mean normalized advantage, 0."""
    config = replace(SMALL, epochs=1, minibatches=1)
    agent = MAPPO(config, make_spaces(n=2), seed=0)
    rng = np.random.default_rng(0)
    for _ in range(3):
        assert step(agent, rng, terminated=True) == {}
    critic = [p.detach().clone() for p in agent.critic.parameters()]
    obs = np.zeros((2, 2, 2), np.float32)
    transitions = Transitions.from_step(
        obs=obs, state=obs[:, 0], actions=agent.act(obs, explore=True),
        rewards=np.array([[1.0, 1.0], [-2.0, -2.0]]), next_obs=obs, next_state=obs[:, 0],
        terminated=np.ones((2, 2), bool), truncated=np.zeros((2, 2), bool))
    agent.observe(transitions)
    rollout = {k: torch.from_numpy(v.copy()) for k, v in agent.rollout.arrays().items()}
    with torch.no_grad():
        values = torch.stack([agent.critic(torch.cat([rollout["state"],
                                                      torch.eye(2)[i].expand(4, 2, 2)], -1))
                              for i in range(2)], -1).squeeze(-2)  # [T, B, N], before the step
    metrics = agent.update()
    rewards = rollout["reward"].double()
    mean, var = rewards.mean(), rewards.var(correction=0)
    targets = ((rewards - mean) / var.sqrt())[..., None].expand(4, 2, 2)
    expected_value_loss = (0.5 * (targets - values.double()) ** 2).mean()
    assert metrics["losses/value"] == pytest.approx(expected_value_loss.item(), rel=1e-5)
    assert abs(metrics["losses/policy"]) < 1e-6 and metrics["charts/clip_fraction"] == 0.0
    assert metrics["charts/return_mean"] == pytest.approx(mean.item(), rel=1e-6)
    changed = [not torch.equal(a, b) for a, b in zip(critic, agent.critic.parameters())]
    assert any(changed) and len(agent.rollout) == 0


def test_save_and_load_mid_rollout_continue_exactly(tmp_path) -> None:
    rng = np.random.default_rng(0)
    agent = MAPPO(SMALL, make_spaces(n=2, state_dim=3), seed=0)
    for _ in range(6):
        step(agent, rng)
    agent.save(tmp_path)
    resumed = MAPPO(SMALL, make_spaces(n=2, state_dim=3), seed=5)
    resumed.load(tmp_path)
    assert agent.value_norm.debiasing_term.item() > 0
    traces = []
    for a in (agent, resumed):
        rng = np.random.default_rng(1)
        traces.append([step(a, rng) for _ in range(6)])
    assert traces[0] == traces[1] and any(traces[0])
    for a, b in zip(agent.actor.parameters(), resumed.actor.parameters()):
        assert torch.equal(a, b)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mappo_solves_a_coordination_game_without_ro(seed: int, tmp_path) -> None:
    """A coordination game without RO (``harness_doubles.COORDINATION``), the documented
    defaults, the protocol's 5000 steps: the greedy joint action reaches the optimum, 11."""
    result = train_without_ro("mappo", COORDINATION, seed, tmp_path)
    assert result.final_metric == pytest.approx(11.0)
    assert result.decentralized


# ------------------------------------------------------------------ config and registry
def test_registered_and_described() -> None:
    agent_cls, config_cls = algorithms.get("mappo")
    assert agent_cls is MAPPO and config_cls is MAPPOConfig
    c = MAPPOConfig()
    assert (c.epochs, c.minibatches, c.clip, c.huber_delta, c.max_grad_norm) == (15, 1, 0.2,
                                                                                 10.0, 10.0)


def test_bad_config_values_are_explained() -> None:
    with pytest.raises(ValueError, match="minibatches must be an integer in \\[1, 4\\]"):
        MAPPOConfig(n_steps=4, minibatches=5)
    with pytest.raises(ValueError, match="value_norm must be True or False"):
        MAPPOConfig(value_norm=1)
    discrete = replace(make_spaces(), action_spaces=(gym_spaces.Discrete(3),) * 3)
    with pytest.raises(ValueError, match="continuous_actions=True"):
        MAPPO(MAPPOConfig(), discrete, seed=0)
