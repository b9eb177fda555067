"""FACMAC: the centralised policy gradient (every agent's current action, through the mixer), the
critic target by hand, exploration, determinism, exact resume, and (slow) a learning check."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from ro_bench import algorithms  # noqa: E402
from ro_bench.agents import Transitions  # noqa: E402
from ro_bench_zoo.facmac import FACMAC, FACMACConfig, policy_loss  # noqa: E402

from agent_doubles import fake_step, make_spaces  # noqa: E402
from harness_doubles import ONE_BOWL, train_without_ro  # noqa: E402

SMALL = FACMACConfig(total_steps=400, batch_size=32, critic_hidden=(16, 16),
                     actor_hidden=(16, 16), learning_starts=1, warmup_fraction=0.0,
                     mixing_embed=8, hypernet_hidden=8)

pytestmark = pytest.mark.usefixtures("restore_process_state")



def trained(seed: int = 0, steps: int = 12, config: FACMACConfig = SMALL) -> FACMAC:
    agent = FACMAC(config, make_spaces(n=3, act_dim=2), seed=seed)
    rng = np.random.default_rng(0)
    for _ in range(steps):
        fake_step(agent, rng)
    return agent


def replayed(agent: FACMAC, size: int = 16) -> dict[str, torch.Tensor]:
    return {k: torch.from_numpy(v) for k, v in agent.buffer.sample(size).items()}


def state_of(agent) -> list[torch.Tensor]:
    tensors = [t.clone() for name in agent.saved if hasattr(getattr(agent, name), "state_dict")
               for t in getattr(agent, name).state_dict().values() if torch.is_tensor(t)]
    return tensors + [agent.explore_noise.get_state()]


# ------------------------------------------------------------------- the policy gradient
def test_policy_loss_is_minus_mean_q_tot_plus_the_action_penalty() -> None:
    q_tot = torch.tensor([1.0, 3.0])
    actions = torch.tensor([[[0.5], [1.0]], [[0.0], [-1.0]]])  # [n=2, B=2, d=1]
    expected = -2.0 + 1e-3 * (0.25 + 1.0 + 0.0 + 1.0) / 4
    assert policy_loss(q_tot, actions, 1e-3).item() == pytest.approx(expected)


@pytest.mark.parametrize("mixer", ["monotonic", "nonmonotonic"])
def test_the_actor_gradient_reaches_every_actor_through_the_mixer(mixer: str) -> None:
    """Every actor gets a gradient; the critics and mixer get none; the replayed actions play no
    part; and an agent whose utility the mixer ignores (its W_1 row zero) gets none, so the
    gradient runs through the mixer, from all agents' current actions at once."""
    agent = trained(config=replace(SMALL, mixer=mixer, action_reg=0.0), steps=4)
    batch = replayed(agent)
    for net in (agent.actor, agent.critic, agent.mixer):
        net.zero_grad(set_to_none=True)
    loss, _ = agent.actor_loss(batch)
    loss.backward()
    grads = agent.actor.weights[0].grad  # [n, o, h]
    assert all(grads[i].abs().sum() > 0 for i in range(3))
    assert all(p.grad is None for p in [*agent.critic.parameters(), *agent.mixer.parameters()])
    other = {**batch, "actions": torch.rand_like(batch["actions"]) * 2 - 1}
    assert agent.actor_loss(other)[0].item() == loss.item()
    with torch.no_grad():  # W_1(s)[1, :] = 0: the last hypernet layer's rows for agent 1
        last = agent.mixer.hyper_w1[2]
        rows = slice(1 * 8, 2 * 8)
        last.weight[rows] = 0.0
        last.bias[rows] = 0.0
    agent.actor.zero_grad()
    agent.actor_loss(batch)[0].backward()
    grads = agent.actor.weights[0].grad
    assert grads[0].abs().sum() > 0 and grads[2].abs().sum() > 0
    assert not grads[1].any()


def test_the_actor_gradient_is_the_chain_rule_through_q_tot() -> None:
    """d(-mean Q_tot)/d mu_i computed by hand: the mixer's slope in each agent's utility times
    that utility's slope in the action."""
    agent = trained(config=replace(SMALL, action_reg=0.0), steps=4)
    batch = replayed(agent, 8)
    obs = batch["obs"].transpose(0, 1)
    actions = torch.tanh(agent.actor(obs)).detach().requires_grad_(True)  # [n, B, d]
    loss = -agent.mixed(agent.critic, agent.mixer, obs, actions, batch["state"]).mean()
    (auto,) = torch.autograd.grad(loss, actions)
    q = agent.critic(torch.cat([obs, actions], -1)).squeeze(-1)  # [n, B]
    (dq_da,) = torch.autograd.grad(q.sum(), actions, retain_graph=True)
    q_leaf = q.detach().T.clone().requires_grad_(True)
    (dmix,) = torch.autograd.grad(agent.mixer(q_leaf, batch["state"]).sum(), q_leaf)  # [B, n]
    by_hand = -dmix.T[..., None] * dq_da / 8
    assert torch.allclose(auto, by_hand, atol=1e-6)
    assert (dmix >= 0).all()  # the monotonic mixer


# -------------------------------------------------------------------------- the critic
def set_linear_targets(agent: FACMAC, actions: list[float]) -> None:
    """Target actors (no hidden layer) output ``tanh(atanh(actions[i]))``; target critics
    ``Q'_i(o, u) = u`` (no hidden layer); the target mixer (embed 1, one-layer hypernets)
    ``W_1 = [1, 2, 1]``, ``b_1 = 0.5``, ``w_2 = 3``, ``V = -1``."""
    with torch.no_grad():
        agent.actor_target.weights[0].zero_()
        agent.actor_target.biases[0].copy_(torch.tensor([math.atanh(a) for a in actions])
                                           .view(-1, 1, 1))
        agent.critic_target.weights[0].zero_()
        agent.critic_target.weights[0][:, -1] = 1.0  # the action's input row
        agent.critic_target.biases[0].zero_()
        for p in agent.mixer_target.parameters():
            p.zero_()
        agent.mixer_target.hyper_w1.bias.copy_(torch.tensor([1.0, 2.0, 1.0]))
        agent.mixer_target.hyper_w2.bias.fill_(3.0)
        agent.mixer_target.hyper_b1.bias.fill_(0.5)
        agent.mixer_target.value[2].bias.fill_(-1.0)


def test_critic_target_by_hand_with_target_actors_critics_and_mixer() -> None:
    config = replace(SMALL, actor_hidden=(), critic_hidden=(), mixing_embed=1,
                     hypernet_hidden=0, gamma=0.9, reward_scale=2.0)
    agent = FACMAC(config, make_spaces(n=3), seed=0)
    set_linear_targets(agent, [0.3, -0.6, 0.2])
    # Q_tot' = 3 ELU(0.3 + 2 (-0.6) + 0.2 + 0.5) - 1 = 3 (e^-0.2 - 1) - 1
    q_next = 3.0 * (math.exp(-0.2) - 1.0) - 1.0
    rng = np.random.default_rng(0)
    b = 3
    t = Transitions(obs=rng.normal(size=(b, 3, 2)), state=rng.normal(size=(b, 2)),
                    actions=rng.uniform(-10, 10, size=(b, 3, 1)),
                    reward=np.array([1.0, -1.0, 0.25]),
                    next_obs=rng.normal(size=(b, 3, 2)), next_state=rng.normal(size=(b, 2)),
                    terminated=np.array([True, False, False]),
                    truncated=np.array([False, True, False]))
    batch = {k: torch.from_numpy(v) for k, v in agent.replay_fields(t).items()}
    expected = [2.0 * 1.0, 2.0 * -1.0 + 0.9 * q_next, 2.0 * 0.25 + 0.9 * q_next]
    assert agent.td_target(batch).tolist() == pytest.approx(expected, rel=1e-5)
    # The critic loss regresses Q_tot(s, u) with the replayed actions onto that target.
    loss, q_tot, y = agent.critic_loss(batch)
    with torch.no_grad():
        obs, u = batch["obs"].transpose(0, 1), batch["actions"].transpose(0, 1)
        q = torch.stack([torch.cat([obs[i], u[i]], -1) @ agent.critic.weights[0][i]
                         + agent.critic.biases[0][i] for i in range(3)])[..., 0]
        want = agent.mixer(q.T, batch["state"])
    assert torch.allclose(q_tot, want, atol=1e-6)
    assert loss.item() == pytest.approx((want - y).square().mean().item(), rel=1e-5)
    with torch.no_grad():  # every step terminated: no target network is read
        for p in agent.mixer_target.parameters():
            p.fill_(float("nan"))
    batch["terminated"][:] = True
    assert agent.td_target(batch).tolist() == pytest.approx([2.0, -2.0, 0.5])


def test_a_gradient_step_moves_every_target_by_tau() -> None:
    agent = trained(steps=3)
    pairs = [(agent.actor_target, agent.actor), (agent.critic_target, agent.critic),
             (agent.mixer_target, agent.mixer)]
    before = [[p.clone() for p in t.parameters()] for t, _ in pairs]
    agent.pending_rounds = 1
    agent.update()
    for old, (target, source) in zip(before, pairs):
        for t0, t1, s1 in zip(old, target.parameters(), source.parameters()):
            assert torch.allclose(t1, 0.999 * t0 + 0.001 * s1, atol=1e-7)


# ------------------------------------------------------------------------------- acting
def test_warmup_is_uniform_then_the_policy_plus_gaussian_noise() -> None:
    config = replace(SMALL, total_steps=1000, warmup_fraction=0.01, exploration_noise=0.1)
    agent = FACMAC(config, make_spaces(n=2, bound=10.0), seed=0)
    with torch.no_grad():
        agent.actor.weights[-1].zero_()
        agent.actor.biases[-1].fill_(math.atanh(0.2))  # mu = 0.2, i.e. 2.0 in env units
    obs = np.zeros((4000, 2, 2), np.float32)
    uniform = agent.act(obs, explore=True) / 10.0
    assert abs(uniform.mean()) < 0.03 and abs(uniform.var() - 1 / 3) < 0.02
    assert np.allclose(agent.act(obs[:3], explore=False), 2.0, atol=1e-5)
    agent.steps = 10  # warm-up over
    noisy = agent.act(obs, explore=True) / 10.0
    assert abs(noisy.mean() - 0.2) < 0.01 and abs(noisy.std() - 0.1) < 0.01


# ------------------------------------------------------------------ determinism, resume
def test_the_same_seed_gives_the_same_run_and_another_seed_another() -> None:
    a, b, c = trained(seed=3), trained(seed=3), trained(seed=4)
    assert all(torch.equal(x, y) for x, y in zip(state_of(a), state_of(b)))
    assert not all(torch.equal(x, y) for x, y in zip(state_of(a), state_of(c)))


def test_save_and_load_resume_exactly(tmp_path) -> None:
    agent = trained(seed=1, steps=8)
    agent.save(tmp_path / "a")
    resumed = FACMAC(SMALL, make_spaces(n=3, act_dim=2), seed=99)
    resumed.load(tmp_path / "a")
    assert resumed.steps == agent.steps and resumed.gradient_steps == agent.gradient_steps
    rng_a, rng_b = np.random.default_rng(5), np.random.default_rng(5)
    for _ in range(5):
        assert fake_step(agent, rng_a) == fake_step(resumed, rng_b)
    assert all(torch.equal(x, y) for x, y in zip(state_of(agent), state_of(resumed)))
    other = FACMAC(replace(SMALL, mixer="nonmonotonic"), make_spaces(n=3, act_dim=2), seed=0)
    other.load(tmp_path / "a")  # same tensors: a mixer's kind is its config, saved with a run
    assert other.mixer.monotonic is False


# ------------------------------------------------------------------ config and registry
def test_registered_and_described() -> None:
    agent_cls, config_cls = algorithms.get("facmac")
    assert agent_cls is FACMAC and config_cls is FACMACConfig
    c = FACMACConfig()
    assert (c.batch_size, c.gamma, c.tau, c.actor_lr, c.critic_lr) == (100, 0.99, 0.001, 1e-3,
                                                                       1e-3)
    assert (c.actor_hidden, c.critic_hidden, c.exploration_noise) == ((400, 400), (400, 400), 0.1)


def test_bad_config_values_are_explained() -> None:
    with pytest.raises(ValueError, match="Did you mean 'nonmonotonic'"):
        FACMACConfig(mixer="non-monotonic")
    with pytest.raises(ValueError, match=r"action_reg must be a finite real number in \[0"):
        FACMACConfig(action_reg=-1.0)


# ----------------------------------------------------------------------------- learning
@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_facmac_solves_a_smooth_game_without_ro(seed: int, tmp_path) -> None:
    """Max of Two as one smooth bowl (``harness_doubles.ONE_BOWL``), the documented defaults,
    the protocol's 5000 steps: the greedy joint action reaches the peak, 10, within 0.1."""
    result = train_without_ro("facmac", ONE_BOWL, seed, tmp_path)
    assert result.final_metric >= 9.9, result.final_metric
    assert result.decentralized
