"""MADDPG: the critic target, the actor loss with the others' replayed actions, per-agent clipping,
exploration noise, determinism, exact resume, decentralized execution, and a short learning run."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from gymnasium import spaces as gym_spaces  # noqa: E402

from ro_bench import algorithms  # noqa: E402
from ro_bench.agents import Transitions  # noqa: E402
from ro_bench_zoo.common.grouped import GroupedMLP  # noqa: E402
from ro_bench_zoo.maddpg import (  # noqa: E402
    MADDPG, MADDPGConfig, clip_grad_norm_per_agent_, critic_targets, joint_with_own,
    piecewise_constant, policy_loss)
from ro_bench import protocols  # noqa: E402

SMALL = MADDPGConfig(total_steps=400, batch_size=32, actor_hidden=(16, 16),
                     critic_hidden=(16, 16), learning_starts=1)


from agent_doubles import make_spaces  # noqa: E402

pytestmark = pytest.mark.usefixtures("restore_process_state")


def fake_step(agent: MADDPG, rng: np.random.Generator, batch: int = 2) -> None:
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


def parameters(agent: MADDPG) -> list[torch.Tensor]:
    nets = (agent.actor, agent.critic, agent.actor_target, agent.critic_target)
    return [t for net in nets for t in net.state_dict().values()]


def group_forward(net: GroupedMLP, g: int, x: torch.Tensor) -> torch.Tensor:
    """Group ``g`` of a GroupedMLP as a plain MLP, layer by layer (an independent computation)."""
    last = len(net.weights) - 1
    for i, (w, b) in enumerate(zip(net.weights, net.biases)):
        x = x @ w[g] + b[g, 0]
        x = x.clamp(min=0.0) if i < last else x
    return x


def replayed(agent: MADDPG, size: int = 16) -> dict[str, torch.Tensor]:
    return {k: torch.from_numpy(v) for k, v in agent.buffer.sample(size).items()}


# ------------------------------------------------------------------------- pure functions
def test_critic_target_bootstraps_only_live_transitions() -> None:
    r = torch.tensor([[1.0, -2.0, 0.5]])
    done = torch.tensor([[False, True, False]])
    q = torch.tensor([[4.0, 100.0, -1.0]])
    expected = torch.tensor([[1.0 + 0.9 * 4.0, -2.0, 0.5 - 0.9]])
    assert torch.allclose(critic_targets(r, done, q, 0.9), expected)


def test_joint_with_own_puts_each_agents_action_in_its_own_slot_only() -> None:
    gen = torch.Generator().manual_seed(0)
    n, b, d = 3, 4, 2
    buffer_actions = torch.randn(b, n, d, generator=gen)
    own = torch.randn(n, b, d, generator=gen, requires_grad=True)
    joint = joint_with_own(buffer_actions, own).reshape(n, b, n, d)
    for i in range(n):
        for j in range(n):
            want = own[i] if i == j else buffer_actions[:, j]
            assert torch.equal(joint[i, :, j], want)
        (grad,) = torch.autograd.grad(joint[i].sum(), own, retain_graph=True)
        assert grad[i].eq(1).all() and grad[torch.arange(n) != i].eq(0).all()


def test_policy_loss_is_minus_q_plus_the_pre_tanh_penalty_per_agent() -> None:
    q = torch.tensor([[1.0, 3.0], [-2.0, 0.0]])  # [N=2, B=2]
    pre = torch.tensor([[[1.0], [3.0]], [[2.0], [0.0]]])  # [N, B, d=1]
    expected = -(2.0 + -1.0) + 1e-3 * ((1 + 9) / 2 + (4 + 0) / 2)
    assert policy_loss(q, pre, 1e-3).item() == pytest.approx(expected)


def test_clipping_scales_each_agents_each_tensor_on_its_own() -> None:
    w = torch.zeros(2, 3, 4, requires_grad=True)
    b = torch.zeros(2, 1, 4, requires_grad=True)
    w.grad = torch.zeros(2, 3, 4)
    w.grad[0, 0, 0], w.grad[1, 0, 0] = 2.0, 0.1  # agent 0 over the limit, agent 1 under
    b.grad = torch.full((2, 1, 4), 0.5)  # each agent's bias gradient has norm 1
    clip_grad_norm_per_agent_([w, b], 0.5)
    assert w.grad[0, 0, 0].item() == pytest.approx(0.5)
    assert w.grad[1, 0, 0].item() == pytest.approx(0.1)
    assert torch.allclose(b.grad.flatten(1).norm(dim=1), torch.tensor([0.5, 0.5]))


def test_noise_follows_the_piecewise_schedule() -> None:
    assert piecewise_constant(0.0, (3.0, 2.0, 1.0), (0.2, 0.5)) == 3.0
    assert piecewise_constant(0.2, (3.0, 2.0, 1.0), (0.2, 0.5)) == 3.0
    assert piecewise_constant(0.3, (3.0, 2.0, 1.0), (0.2, 0.5)) == 2.0
    assert piecewise_constant(1.0, (3.0, 2.0, 1.0), (0.2, 0.5)) == 1.0
    config = MADDPGConfig(total_steps=6000)
    assert [config.noise_std(s) for s in (0, 600, 601, 1000, 1001, 6000)] == [
        0.5, 0.5, 0.1, 0.1, 0.01, 0.01]


# ------------------------------------------------------------------- the agent's losses
@pytest.mark.parametrize("critic_input", ["obs", "state"])
def test_losses_match_a_per_agent_computation(critic_input: str) -> None:
    config = replace(SMALL, critic_input=critic_input, gamma=0.9, reward_scale=2.0)
    agent = MADDPG(config, make_spaces(n=3, act_dim=2), seed=0)
    rng = np.random.default_rng(0)
    for _ in range(10):
        fake_step(agent, rng, batch=4)
    batch = replayed(agent)
    n, b = 3, 16
    x, x_next = ((batch["state"], batch["next_state"]) if critic_input == "state" else
                 (batch["obs"].reshape(b, -1), batch["next_obs"].reshape(b, -1)))
    with torch.no_grad():
        next_joint = torch.cat([torch.tanh(group_forward(agent.actor_target, j,
                                                         batch["next_obs"][:, j]))
                                for j in range(n)], -1)
        critic_loss, actor_loss = 0.0, 0.0
        for i in range(n):
            q_next = group_forward(agent.critic_target, i, torch.cat([x_next, next_joint], -1))
            live = (~batch["terminated"]).float()
            y = 2.0 * batch["reward"] + 0.9 * live * q_next[:, 0]
            q = group_forward(agent.critic, i, torch.cat([x, batch["actions"].reshape(b, -1)], -1))
            critic_loss += ((q[:, 0] - y) ** 2).mean()
            pre = group_forward(agent.actor, i, batch["obs"][:, i])
            actions = batch["actions"].clone()
            actions[:, i] = torch.tanh(pre)
            q_own = group_forward(agent.critic, i, torch.cat([x, actions.reshape(b, -1)], -1))
            actor_loss += -q_own.mean() + 1e-3 * (pre ** 2).mean()
    assert batch["terminated"].any() and not batch["terminated"].all()
    assert agent.critic_loss(batch).item() == pytest.approx(critic_loss.item(), rel=1e-5)
    assert agent.actor_loss(batch)[0].item() == pytest.approx(actor_loss.item(), rel=1e-5)


def test_actor_loss_reaches_only_the_actors_and_each_agent_only_through_its_own_slot() -> None:
    agent = MADDPG(replace(SMALL, action_reg=0.0), make_spaces(n=3), seed=0)
    rng = np.random.default_rng(0)
    for _ in range(5):
        fake_step(agent, rng)
    # A critic i that ignores agent i's action slot gives actor i no gradient.
    with torch.no_grad():
        first = agent.critic.weights[0]  # [N, x + N d, h]; the actions are the last N rows
        first[1, -3 + 1] = 0.0
    agent.actor.zero_grad()
    agent.critic.zero_grad()
    loss, _ = agent.actor_loss(replayed(agent))
    loss.backward()
    assert all(p.grad is None or not p.grad.any() for p in agent.critic.parameters())
    grads = agent.actor.weights[0].grad  # [N, o, h]
    assert grads[0].abs().sum() > 0 and grads[2].abs().sum() > 0
    assert not grads[1].any()


def test_terminal_batches_need_no_target_networks() -> None:
    agent = MADDPG(SMALL, make_spaces(), seed=0)
    rng = np.random.default_rng(0)
    for _ in range(5):
        fake_step(agent, rng)
    batch = replayed(agent)
    batch["terminated"][:] = True
    before = agent.critic_loss(batch).item()
    with torch.no_grad():
        for p in agent.critic_target.parameters():
            p.fill_(float("nan"))
    assert agent.critic_loss(batch).item() == before


# ------------------------------------------------------------------------------- acting
def test_exploration_adds_clipped_gaussian_noise_and_evaluation_is_deterministic() -> None:
    agent = MADDPG(SMALL, make_spaces(n=2, bound=10.0), seed=0)
    with torch.no_grad():
        agent.actor.weights[-1].zero_()
        agent.actor.biases[-1].fill_(math.atanh(0.2))  # mu = 0.2, i.e. 2.0 in env units
    obs = np.zeros((20000, 2, 2), np.float32)
    assert np.allclose(agent.act(obs, explore=False), 2.0, atol=1e-5)
    a = agent.act(obs, explore=True) / 10.0  # back to [-1, 1] units
    assert agent.noise_std == 0.5
    clipped = (a == 1.0) | (a == -1.0)
    assert 0.0 < clipped.mean() < 0.2  # 0.2 + N(0, 0.5): P(> 1) is about 5.5%, P(< -1) 0.8%
    assert abs(np.median(a) - 0.2) < 0.02 and abs(np.percentile(a, 75) - (0.2 + 0.337)) < 0.02


# ----------------------------------------------------------------------------- learning
SHORT_MAX_OF_TWO = protocols.Protocol("test-maddpg-max_of_two", 1, "max_of_two", budget=1000,
                                      eval_every=500, eval_episodes=100)


def test_a_short_max_of_two_run_climbs_to_the_trap_without_diverging(tmp_path) -> None:
    """A broken update fails this: within 1000 steps every seed tried (0, 1, 2) ends within 0.1
    of the trap's peak (0 at (-5, -5)) or at the optimum (10 at (5, 5)), from -4.3 to -0.8 at
    the start; the reward never exceeds 10."""
    from ro_bench.harness import train

    if SHORT_MAX_OF_TWO.name not in protocols.list():
        protocols.register(SHORT_MAX_OF_TWO)
    overrides = {"batch_size": 64, "actor_hidden": (32, 32), "critic_hidden": (32, 32)}
    result = train("maddpg", SHORT_MAX_OF_TWO.name, 0, tmp_path, overrides=overrides,
                   progress=False)
    assert math.isfinite(result.final_metric) and -0.1 <= result.final_metric <= 10.0
    assert result.decentralized


# ------------------------------------------------------------------ config and registry
def test_registered_and_described() -> None:
    agent_cls, config_cls = algorithms.get("maddpg")
    assert agent_cls is MADDPG and config_cls is MADDPGConfig
    assert MADDPGConfig().batch_size == 512


def test_bad_config_values_are_explained() -> None:
    with pytest.raises(ValueError, match="Did you mean 'state'"):
        MADDPGConfig(critic_input="stat")
    with pytest.raises(ValueError, match="one fewer entry"):
        MADDPGConfig(exploration_noise=(0.5, 0.1), noise_boundaries=(0.1, 0.2))
    with pytest.raises(ValueError, match="increasing fractions"):
        MADDPGConfig(noise_boundaries=(0.5, 0.2))
    with pytest.raises(ValueError, match="batch_size must be an integer in \\[1"):
        MADDPGConfig(batch_size=0)
    discrete = replace(make_spaces(), action_spaces=(gym_spaces.Discrete(3),) * 3)
    with pytest.raises(ValueError, match="continuous_actions=True"):
        MADDPG(MADDPGConfig(), discrete, seed=0)
