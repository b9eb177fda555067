"""COMIX (``qmix``): CEM on known concave functions, the TD target by hand (terminated vs
truncated), the loss against an independent computation, exploration, determinism, exact resume,
and (slow) a learning check on Max of Two as one smooth bowl."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from ro_bench import algorithms  # noqa: E402
from ro_bench.agents import Transitions  # noqa: E402
from ro_bench_zoo.qmix import QMIX, QMIXConfig, cem_argmax  # noqa: E402

from agent_doubles import fake_step, make_spaces  # noqa: E402
from harness_doubles import ONE_BOWL, train_without_ro  # noqa: E402

SMALL = QMIXConfig(total_steps=400, batch_size=32, critic_hidden=(16, 16), learning_starts=1,
                   warmup_fraction=0.0, mixing_embed=8, hypernet_hidden=8, cem_samples=16,
                   cem_elites=4)

pytestmark = pytest.mark.usefixtures("restore_process_state")



def trained(seed: int = 0, steps: int = 12, config: QMIXConfig = SMALL) -> QMIX:
    agent = QMIX(config, make_spaces(n=3, act_dim=2), seed=seed)
    rng = np.random.default_rng(0)
    for _ in range(steps):
        fake_step(agent, rng)
    return agent


def state_of(agent) -> list[torch.Tensor]:
    tensors = [t.clone() for name in agent.saved if hasattr(getattr(agent, name), "state_dict")
               for t in getattr(agent, name).state_dict().values() if torch.is_tensor(t)]
    return tensors + [agent.explore_noise.get_state(), agent.update_noise.get_state()]


# ----------------------------------------------------------------------------------- CEM
def test_cem_finds_the_maximum_of_concave_functions() -> None:
    """150 problems ``-|a - c|^2`` with ``c`` uniform in [-0.8, 0.8]^2: the defaults (64 samples,
    6 elites, 2 iterations) land within 0.2 of ``c`` (0.06 on average); 6 iterations within
    0.05. The value returned is the function's at the action returned."""
    gen = torch.Generator().manual_seed(0)
    centre = torch.rand(3, 50, 2, generator=gen) * 1.6 - 0.8

    def f(a: torch.Tensor) -> torch.Tensor:
        return -(a - centre[:, :, None, :]).square().sum(-1)

    action, value = cem_argmax(f, (3, 50), 2, torch.Generator().manual_seed(1))
    error = (action - centre).norm(dim=-1)
    assert error.max() < 0.2 and error.mean() < 0.06
    assert torch.allclose(value, f(action[:, :, None])[..., 0])
    action, _ = cem_argmax(f, (3, 50), 2, torch.Generator().manual_seed(1), iterations=6)
    assert (action - centre).norm(dim=-1).max() < 0.05
    # One iteration is random search over 64 draws: CEM's refit does better on average.
    one, _ = cem_argmax(f, (3, 50), 2, torch.Generator().manual_seed(1), iterations=1)
    assert (one - centre).norm(dim=-1).mean() > error.mean()


def test_cem_answers_each_problem_from_its_own_inputs_only() -> None:
    centre = torch.tensor([[0.5], [-0.3], [0.1]])
    moved = torch.tensor([[0.5], [0.9], [-0.7]])

    def run(c: torch.Tensor) -> torch.Tensor:
        return cem_argmax(lambda a: -(a - c[:, None, :]).square().sum(-1), (3,), 1,
                          torch.Generator().manual_seed(0))[0]

    assert torch.equal(run(centre)[0], run(moved)[0])
    assert abs(run(centre)[0].item() - 0.5) < 0.05


def test_cem_stays_inside_the_action_box() -> None:
    action, _ = cem_argmax(lambda a: a.sum(-1), (4,), 3, torch.Generator().manual_seed(0))
    assert (action.abs() <= 1).all() and (action > 0.75).all()  # 2 iterations: near the edge


# ------------------------------------------------------------------------------ the loss
def constant_target(agent: QMIX, utilities: list[float]) -> None:
    """Target utilities ``Q'_i = utilities[i]`` whatever the input; a target mixer (embed 1,
    one-layer hypernets) with ``W_1 = [1, 2, 1]``, ``b_1 = 0.5``, ``w_2 = 3``, ``V = -1``."""
    with torch.no_grad():
        agent.utility_target.weights[-1].zero_()
        agent.utility_target.biases[-1].copy_(torch.tensor(utilities).view(-1, 1, 1))
        for p in agent.mixer_target.parameters():
            p.zero_()
        agent.mixer_target.hyper_w1.bias.copy_(torch.tensor([1.0, 2.0, 1.0]))
        agent.mixer_target.hyper_w2.bias.fill_(3.0)
        agent.mixer_target.hyper_b1.bias.fill_(0.5)
        agent.mixer_target.value[2].bias.fill_(-1.0)


def test_td_target_by_hand_bootstraps_truncated_steps_and_not_terminated_ones() -> None:
    config = replace(SMALL, mixing_embed=1, hypernet_hidden=0, gamma=0.9, reward_scale=2.0)
    agent = QMIX(config, make_spaces(n=3), seed=0)
    constant_target(agent, [1.0, -2.0, 0.5])
    # Q_tot' = 3 ELU(1 * 1 + 2 * (-2) + 1 * 0.5 + 0.5) - 1 = 3 (e^-2 - 1) - 1
    q_next = 3.0 * (math.exp(-2.0) - 1.0) - 1.0
    rng = np.random.default_rng(0)
    b = 3
    t = Transitions(obs=rng.normal(size=(b, 3, 2)), state=rng.normal(size=(b, 2)),
                    actions=rng.uniform(-10, 10, size=(b, 3, 1)),
                    reward=np.array([1.0, -1.0, 0.25]),
                    next_obs=rng.normal(size=(b, 3, 2)), next_state=rng.normal(size=(b, 2)),
                    terminated=np.array([True, False, False]),
                    truncated=np.array([False, True, False]))
    batch = {k: torch.from_numpy(v) for k, v in agent.replay_fields(t).items()}
    y = agent.td_target(batch)
    expected = [2.0 * 1.0, 2.0 * -1.0 + 0.9 * q_next, 2.0 * 0.25 + 0.9 * q_next]
    assert y.tolist() == pytest.approx(expected, rel=1e-6)
    # Every step terminated: the targets are the rewards, with no CEM and no target network.
    with torch.no_grad():
        for p in agent.mixer_target.parameters():
            p.fill_(float("nan"))
    batch["terminated"][:] = True
    before = agent.update_noise.get_state()
    assert agent.td_target(batch).tolist() == pytest.approx([2.0, -2.0, 0.5])
    assert torch.equal(agent.update_noise.get_state(), before)


def test_loss_matches_an_independent_computation() -> None:
    agent = trained()
    batch = {k: torch.from_numpy(v) for k, v in agent.buffer.sample(16).items()}
    assert batch["terminated"].any() and not batch["terminated"].all()
    update_state = agent.update_noise.get_state()
    y = agent.td_target(batch)
    with torch.no_grad():
        q = torch.stack([
            agent.utility(torch.cat([batch["obs"], batch["actions"]], -1).transpose(0, 1))[i, :, 0]
            for i in range(3)], dim=1)  # [B, n]
        q_tot = agent.mixer(q, batch["state"])
        agent.update_noise.set_state(update_state)  # the same CEM draws again
        next_a, _ = agent.greedy(agent.utility_target, batch["next_obs"].transpose(0, 1),
                                 agent.update_noise)
        next_q = agent.utility_target(torch.cat([batch["next_obs"].transpose(0, 1), next_a], -1))
        live = (~batch["terminated"]).float()
        want_y = batch["reward"] + 0.99 * live * agent.mixer_target(next_q[..., 0].T,
                                                                    batch["next_state"])
    assert torch.allclose(y, want_y, atol=1e-5)
    agent.update_noise.set_state(update_state)
    loss, _, _ = agent.loss(batch)
    assert loss.item() == pytest.approx((q_tot - want_y).square().mean().item(), rel=1e-5)


def test_a_gradient_step_lowers_the_loss_on_its_batch_and_moves_the_targets_by_tau() -> None:
    agent = trained(steps=3)
    batch = {k: torch.from_numpy(v) for k, v in agent.buffer.sample(32).items()}
    batch["terminated"][:] = True  # a fixed target: the loss must fall
    before = agent.loss(batch)[0].item()
    target = [p.clone() for p in agent.utility_target.parameters()]
    online = [p.clone() for p in agent.utility.parameters()]
    agent.buffer.sample = lambda size: {k: v.numpy() for k, v in batch.items()}
    agent.gradient_step()
    assert agent.loss(batch)[0].item() < before
    for t0, o0, t1, o1 in zip(target, online, agent.utility_target.parameters(),
                              agent.utility.parameters()):
        assert torch.allclose(t1, 0.999 * t0 + 0.001 * o1, atol=1e-7)
        assert not torch.equal(o0, o1)


# ------------------------------------------------------------------------------- acting
def test_warmup_is_uniform_then_the_cem_action_plus_gaussian_noise() -> None:
    config = replace(SMALL, total_steps=1000, warmup_fraction=0.01, exploration_noise=0.1)
    agent = QMIX(config, make_spaces(n=2, bound=10.0), seed=0)
    obs = np.zeros((4000, 2, 2), np.float32)
    uniform = agent.act(obs, explore=True) / 10.0
    assert abs(uniform.mean()) < 0.03 and abs(uniform.var() - 1 / 3) < 0.02
    agent.steps = 10  # warm-up over: CEM's answer (here a stand-in, 0.2) plus N(0, 0.1^2)
    agent.greedy = lambda net, o, gen: (torch.full((*o.shape[:2], 1), 0.2), None)
    noisy = agent.act(obs, explore=True) / 10.0
    assert abs(noisy.mean() - 0.2) < 0.01 and abs(noisy.std() - 0.1) < 0.01


def test_evaluation_is_deterministic_and_never_moves_the_training_generators() -> None:
    agent = trained()
    obs = np.random.default_rng(1).normal(size=(5, 3, 2)).astype(np.float32)
    before = [agent.explore_noise.get_state(), agent.update_noise.get_state()]
    first = agent.act(obs, explore=False)
    assert np.array_equal(first, agent.act(obs, explore=False))
    assert all(torch.equal(a, b) for a, b in zip(
        before, [agent.explore_noise.get_state(), agent.update_noise.get_state()]))
    assert (np.abs(first) <= 10).all()


# ------------------------------------------------------------------ determinism, resume
def test_the_same_seed_gives_the_same_run_and_another_seed_another() -> None:
    a, b, c = trained(seed=3), trained(seed=3), trained(seed=4)
    assert all(torch.equal(x, y) for x, y in zip(state_of(a), state_of(b)))
    assert not all(torch.equal(x, y) for x, y in zip(state_of(a), state_of(c)))


def test_save_and_load_resume_exactly(tmp_path) -> None:
    agent = trained(seed=1, steps=8)
    agent.save(tmp_path / "a")
    resumed = QMIX(SMALL, make_spaces(n=3, act_dim=2), seed=99)
    resumed.load(tmp_path / "a")
    assert resumed.steps == agent.steps and resumed.gradient_steps == agent.gradient_steps
    rng_a, rng_b = np.random.default_rng(5), np.random.default_rng(5)
    for _ in range(5):
        assert fake_step(agent, rng_a) == fake_step(resumed, rng_b)
    assert all(torch.equal(x, y) for x, y in zip(state_of(agent), state_of(resumed)))


# ------------------------------------------------------------------ config and registry
def test_registered_and_described() -> None:
    agent_cls, config_cls = algorithms.get("qmix")
    assert agent_cls is QMIX and config_cls is QMIXConfig
    c = QMIXConfig()
    assert (c.cem_samples, c.cem_elites, c.cem_iterations, c.cem_std) == (64, 6, 2, 1.0)
    assert (c.batch_size, c.gamma, c.tau, c.critic_hidden) == (100, 0.99, 0.001, (400, 400))


def test_bad_config_values_are_explained() -> None:
    with pytest.raises(ValueError, match=r"cem_elites must be an integer in \[2, 64\]"):
        QMIXConfig(cem_elites=65)
    with pytest.raises(ValueError, match=r"cem_std must be a finite real number in \(0"):
        QMIXConfig(cem_std=0.0)
    with pytest.raises(ValueError, match=r"warmup_fraction must be a finite real number"):
        QMIXConfig(warmup_fraction=1.5)


# ----------------------------------------------------------------------------- learning
@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_comix_solves_a_smooth_game_without_ro(seed: int, tmp_path) -> None:
    """Max of Two as one smooth bowl (``harness_doubles.ONE_BOWL``), the documented defaults,
    the protocol's 5000 steps: the greedy joint action reaches the peak, 10, within 0.1."""
    result = train_without_ro("qmix", ONE_BOWL, seed, tmp_path)
    assert result.final_metric >= 9.9, result.final_metric
    assert result.decentralized
