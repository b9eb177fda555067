"""sb3_ppo: Stable-Baselines3's PPO driven by the harness. The rollout it hands SB3 (unclipped
samples, SB3's time-limit bootstrap, episode starts), the first update's losses on a hand-checked
one-step batch, the refusal of foreign actions, exact save/load mid-rollout, determinism, a
learning check, and the README's recipe for SB3's own ``learn()`` through SuperSuit."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("stable_baselines3",
                    reason="sb3_ppo needs Stable-Baselines3: pip install 'ro-bench[sb3]'")

from agent_doubles import make_spaces  # noqa: E402
from harness_doubles import COORDINATION, train_without_ro  # noqa: E402
from ro_bench import algorithms  # noqa: E402
from ro_bench.agents import Transitions  # noqa: E402
from ro_bench.evaluation import is_decentralized  # noqa: E402
from ro_bench_zoo.sb3_ppo import SB3PPO, SB3PPOConfig  # noqa: E402

pytestmark = pytest.mark.usefixtures("restore_process_state")

ROOT = Path(__file__).resolve().parents[1]
SMALL = SB3PPOConfig(total_steps=400, n_steps=4, batch_size=8, hidden=(16, 16))


def transitions(agent: SB3PPO, obs: np.ndarray, rewards: np.ndarray, next_obs: np.ndarray,
                terminated: np.ndarray, truncated: np.ndarray) -> Transitions:
    n = agent.n
    return Transitions.from_step(
        obs=obs, state=obs[:, 0], actions=agent.act(obs, explore=True),
        rewards=np.repeat(rewards[:, None], n, 1), next_obs=next_obs, next_state=next_obs[:, 0],
        terminated=np.repeat(terminated[:, None], n, 1),
        truncated=np.repeat(truncated[:, None], n, 1))


def step(agent: SB3PPO, rng: np.random.Generator, batch: int = 2) -> dict[str, float]:
    """act on random observations, observe made-up rewards (some episodes end), update."""
    shape = (batch, agent.n, agent.obs_dim)
    obs = rng.normal(size=shape).astype(np.float32)
    next_obs = rng.normal(size=shape).astype(np.float32)
    agent.observe(transitions(agent, obs, rng.normal(size=batch), next_obs,
                              rng.random(batch) < 0.2, rng.random(batch) < 0.2))
    return agent.update()


# ---------------------------------------------------------------------------- the rollout
@pytest.mark.parametrize("shared", [False, True])
def test_the_rollout_holds_what_sb3s_collect_rollouts_would(shared: bool) -> None:
    agent = SB3PPO(replace(SMALL, shared_policy=shared, log_std_init=1.0), make_spaces(n=2), 0)
    obs = np.zeros((2, 2, 2), np.float32)
    final = np.ones((2, 2, 2), np.float32)
    agent.observe(transitions(agent, obs, np.array([1.0, 2.0]), final,
                              terminated=np.array([True, False]),
                              truncated=np.array([True, True])))
    buffers = agent.rollouts.buffers
    assert len(buffers) == (1 if shared else 2)
    inputs = agent.slots(final)
    for k, (buffer, policy) in enumerate(zip(buffers, agent.policies)):
        with torch.no_grad():
            v_final = policy.predict_values(torch.as_tensor(inputs[k])).numpy().ravel()
        # env 0 terminated (and truncated): no bootstrap; env 1 truncated: r + gamma V(final)
        per_env = 2 if shared else 1
        want = np.repeat([1.0, 2.0], per_env)
        want[per_env:] += 0.99 * v_final[per_env:]
        assert np.allclose(buffer.rewards[0], want)
        assert buffer.episode_starts[0].tolist() == [1.0] * len(want)  # the first step
        assert agent.rollouts.episode_starts[k].tolist() == [1.0] * len(want)  # both ended
    raw = np.concatenate([b.actions[0].ravel() for b in buffers])
    assert np.abs(raw).max() > 1.0  # std e: unclipped samples are stored, clipped ones played


def test_observe_refuses_actions_it_did_not_sample() -> None:
    agent = SB3PPO(SMALL, make_spaces(n=2), seed=0)
    obs = np.zeros((2, 2, 2), np.float32)
    t = transitions(agent, obs, np.zeros(2), obs, np.zeros(2, bool), np.zeros(2, bool))
    with pytest.raises(ValueError, match="SB3PPO learns on-policy"):
        agent.observe(replace(t, actions=t.actions + 0.5))
    agent.act(obs, explore=True)
    with pytest.raises(ValueError, match="once each"):
        agent.observe(t)  # the actions of an earlier act


# ------------------------------------------------------------------------------- the update
def test_the_first_update_of_a_one_step_game_matches_a_hand_computation() -> None:
    """Every episode terminates after one step: the return is the reward, SB3's value loss is
    ``mean((r - V(o))^2)`` with the values of the rollout, the first mini-batch (all of it, one
    epoch) has ratio 1, so the policy loss is minus the mean normalized advantage, 0, and the
    entropy loss is minus the Gaussian's entropy, ``-(log(2 pi e) / 2 + log_std)`` per
    dimension."""
    config = replace(SMALL, epochs=1, batch_size=8, log_std_init=-0.5)
    agent = SB3PPO(config, make_spaces(n=2), seed=0)
    rng = np.random.default_rng(0)
    done = np.ones(2, bool)
    for _ in range(4):
        obs = rng.normal(size=(2, 2, 2)).astype(np.float32)
        agent.observe(transitions(agent, obs, rng.normal(size=2), obs, done, ~done))
    buffers = agent.rollouts.buffers
    expected = [np.mean((b.rewards - b.values) ** 2) for b in buffers]
    for b in buffers:
        assert np.allclose(b.returns, b.rewards)
    metrics = agent.update()
    assert metrics["losses/value"] == pytest.approx(np.mean(expected), rel=1e-5)
    assert abs(metrics["losses/policy"]) < 1e-6 and metrics["charts/clip_fraction"] == 0.0
    assert metrics["losses/entropy"] == pytest.approx(-(0.5 * math.log(2 * math.pi * math.e)
                                                        - 0.5), rel=1e-6)
    assert metrics["charts/std"] == pytest.approx(math.exp(-0.5), rel=1e-6)
    assert all(not b.full and b.pos == 0 for b in buffers)  # discarded


def test_update_draws_its_minibatch_order_from_its_own_generator() -> None:
    rng = np.random.default_rng(0)
    agent = SB3PPO(SMALL, make_spaces(n=2), seed=0)
    for _ in range(3):
        step(agent, rng)
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    step(agent, rng)
    assert agent.updates == 1
    assert np.array_equal(np.random.get_state()[1], before)  # the caller's state is untouched


# ---------------------------------------------------------------------- save, load, seeds
@pytest.mark.parametrize("shared", [False, True])
def test_save_and_load_mid_rollout_continue_exactly(shared: bool, tmp_path) -> None:
    config = replace(SMALL, shared_policy=shared)
    agent = SB3PPO(config, make_spaces(n=2), seed=0)
    rng = np.random.default_rng(0)
    for _ in range(6):
        step(agent, rng)
    agent.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["networks.pt", "progress.json",
                                                          "rollout.npz"]
    resumed = SB3PPO(config, make_spaces(n=2), seed=9)
    resumed.load(tmp_path)
    traces = []
    for a in (agent, resumed):
        rng = np.random.default_rng(1)
        traces.append([step(a, rng) for _ in range(6)])
        np.random.seed(0)  # the global generator must not matter
    assert traces[0] == traces[1] and any(traces[0])
    for p, q in zip(agent.policies, resumed.policies):
        for (name, a), b in zip(p.state_dict().items(), q.state_dict().values()):
            assert torch.equal(a, b), name


def test_the_same_seed_repeats_and_another_differs() -> None:
    def trace(seed: int) -> list:
        agent = SB3PPO(SMALL, make_spaces(n=3), seed=seed)
        rng = np.random.default_rng(0)
        out = [step(agent, rng) for _ in range(8)]
        return out + [agent.act(np.zeros((2, 3, 2), np.float32), explore=False).tolist()]

    first = trace(3)
    assert first == trace(3) and first != trace(4)


def test_execution_is_decentralized() -> None:
    for shared in (False, True):
        agent = SB3PPO(replace(SMALL, shared_policy=shared), make_spaces(n=3), seed=0)
        rng = np.random.default_rng(0)
        for _ in range(4):
            step(agent, rng)
        obs = rng.normal(size=(4, 3, 2)).astype(np.float32)
        assert is_decentralized(agent, obs, rng)


# ------------------------------------------------------------------------------- learning
@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sb3_ppo_solves_a_coordination_game_without_ro(seed: int, tmp_path) -> None:
    """A coordination game without RO (``harness_doubles.COORDINATION``), the documented
    defaults, the protocol's 5000 steps: the greedy joint action reaches the optimum, 11."""
    result = train_without_ro("sb3_ppo", COORDINATION, seed, tmp_path)
    assert result.final_metric == pytest.approx(11.0)
    assert result.decentralized


# ------------------------------------------------------------------ config and registry
def test_registered_with_sb3s_defaults() -> None:
    agent_cls, config_cls = algorithms.get("sb3_ppo")
    assert agent_cls is SB3PPO and config_cls is SB3PPOConfig
    c = SB3PPOConfig()
    assert (c.lr, c.batch_size, c.epochs, c.clip, c.entropy_coef, c.vf_coef,
            c.max_grad_norm) == (3e-4, 64, 10, 0.2, 0.0, 0.5, 0.5)
    model = SB3PPO(SMALL, make_spaces(n=2), seed=0).models[0]
    assert (model.n_steps, model.batch_size, model.n_epochs) == (4, 8, 10)


def test_bad_config_values_are_explained() -> None:
    with pytest.raises(ValueError, match="batch_size must be an integer in \\[2"):
        SB3PPOConfig(batch_size=1)
    with pytest.raises(ValueError, match="shared_policy must be True or False"):
        SB3PPOConfig(shared_policy="yes")


# ---------------------------------------------------- the README's SuperSuit recipe
def test_the_readmes_supersuit_recipe_runs_as_printed() -> None:
    """The README's block for SB3's own ``learn()``, run as printed (512 env steps)."""
    pytest.importorskip("supersuit", reason="the recipe needs SuperSuit: pip install "
                                            "'ro-bench[sb3]'")
    text = (ROOT / "README.md").read_text()
    block = re.search(r"### Stable-Baselines3's own `learn\(\)`.*?```python\n(.*?)```", text,
                      re.S).group(1)
    torch.set_num_threads(1)
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102
    model, venv, actions = namespace["model"], namespace["venv"], namespace["actions"]
    assert venv.num_envs == 4 and model.num_timesteps == 512
    assert actions.shape == (4, 1) and np.all(np.abs(actions) <= 1)
