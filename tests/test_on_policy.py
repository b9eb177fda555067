"""The zoo's on-policy base: GAE against hand-computed rollouts (truncation bootstraps,
termination does not), ValueNorm's running statistics, and a rollout that is learned from once
and then discarded, saved and loaded exactly."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from agent_doubles import make_spaces  # noqa: E402
from ro_bench.agents import Transitions  # noqa: E402
from ro_bench.configs import help_text  # noqa: E402
from ro_bench_zoo.common.on_policy import (  # noqa: E402
    OnPolicyAgent, OnPolicyConfig, Rollout, ValueNorm, gae, normalize_advantages)

pytestmark = pytest.mark.usefixtures("restore_process_state")

GAMMA, LAM = 0.9, 0.8


def t(values) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


# ------------------------------------------------------------------------------------- GAE
def hand_rollout(truncate: bool = True) -> dict[str, torch.Tensor]:
    """Two envs, three steps ([T, B] = [3, 2]). Env 0's episode ends at t = 1, truncated (or
    terminated with ``truncate=False``), with V(final state) = 4; env 1's ends at t = 0 and at
    t = 2, terminated (its V(s') there, 7 and 0, must not count)."""
    return {
        "rewards": t([[1.0, 1.0], [2.0, 0.0], [3.0, -1.0]]),
        "values": t([[0.5, 0.5], [1.0, 0.0], [2.0, 1.0]]),
        "next_values": t([[1.0, 7.0], [4.0, 1.0], [2.5, 0.0]]),
        "terminated": torch.tensor([[False, True], [not truncate, False], [False, True]]),
        "truncated": torch.tensor([[False, False], [truncate, False], [False, False]]),
    }


def test_gae_matches_a_hand_computed_rollout() -> None:
    r = hand_rollout()
    advantages, returns = gae(r["rewards"], r["values"], r["next_values"], r["terminated"],
                              r["truncated"], GAMMA, LAM)
    # env 0: deltas 1 + .9 * 1 - .5 = 1.4; 2 + .9 * 4 - 1 = 4.6 (bootstrapped: truncated);
    # 3 + .9 * 2.5 - 2 = 3.25 (the rollout's end bootstraps). A_1 stops at the episode's end.
    # env 1: deltas 1 - .5 = .5 (terminated); 0 + .9 * 1 - 0 = .9; -1 - 1 = -2 (terminated).
    expected = t([[1.4 + GAMMA * LAM * 4.6, 0.5],
                  [4.6, 0.9 + GAMMA * LAM * -2.0],
                  [3.25, -2.0]])
    assert torch.allclose(advantages, expected)
    assert torch.allclose(returns, expected + r["values"])


def test_termination_does_not_bootstrap_where_truncation_does() -> None:
    truncated, terminated = hand_rollout(truncate=True), hand_rollout(truncate=False)
    a_trunc, _ = gae(*truncated.values(), GAMMA, LAM)
    a_term, _ = gae(*terminated.values(), GAMMA, LAM)
    assert a_trunc[1, 0].item() == pytest.approx(4.6)
    assert a_term[1, 0].item() == pytest.approx(2.0 - 1.0)  # r - V(s): nothing after the end
    assert a_term[0, 0].item() == pytest.approx(1.4 + GAMMA * LAM * 1.0)
    assert torch.equal(a_trunc[:, 1], a_term[:, 1]) and torch.equal(a_trunc[2], a_term[2])


def test_gae_is_the_discounted_sum_of_td_errors_and_its_limits() -> None:
    gen = torch.Generator().manual_seed(0)
    steps = 6
    r = torch.randn(steps, 1, generator=gen, dtype=torch.float64)
    v = torch.randn(steps, 1, 3, generator=gen, dtype=torch.float64)  # three agents
    nv = torch.cat([v[1:], torch.randn(1, 1, 3, generator=gen, dtype=torch.float64)])
    never = torch.zeros(steps, 1, dtype=torch.bool)
    advantages, _ = gae(r, v, nv, never, never, GAMMA, LAM)
    deltas = r[..., None] + GAMMA * nv - v
    for k in range(steps):
        want = sum((GAMMA * LAM) ** j * deltas[k + j] for j in range(steps - k))
        assert torch.allclose(advantages[k], want)
    one_step, _ = gae(r, v, nv, never, never, GAMMA, 0.0)
    assert torch.allclose(one_step, deltas)
    _, monte_carlo = gae(r, v, nv, never, never, GAMMA, 1.0)
    discounted = [sum(GAMMA ** j * r[k + j] for j in range(steps - k))
                  + GAMMA ** (steps - k) * nv[-1] for k in range(steps)]
    assert torch.allclose(monte_carlo, torch.stack(discounted))


def test_advantages_are_normalized_over_the_whole_rollout() -> None:
    a = t([[1.0, 2.0], [3.0, 6.0]])
    mean, std = 3.0, np.sqrt(((1 - 3) ** 2 + (2 - 3) ** 2 + 0 + 3 ** 2) / 4)
    assert torch.allclose(normalize_advantages(a, eps=0.0), (a - mean) / std)


# ------------------------------------------------------------------------------- ValueNorm
def test_value_norm_after_one_batch_is_that_batchs_statistics() -> None:
    norm = ValueNorm()
    x = t([1.0, 3.0, 8.0])
    assert norm.normalize(x).tolist() == pytest.approx((x / 0.1).tolist())  # var 1e-2 at first
    norm.update(x)
    mean, var = norm.mean_var()
    assert mean.item() == pytest.approx(4.0)
    assert var.item() == pytest.approx(((1 - 4) ** 2 + (3 - 4) ** 2 + (8 - 4) ** 2) / 3)
    assert torch.allclose(norm.normalize(x), (x - 4.0) / np.sqrt(26 / 3))
    assert torch.allclose(norm.denormalize(norm.normalize(x)), x)


def test_value_norm_weighs_batches_by_its_debiased_moving_average() -> None:
    beta = 0.5  # far from MAPPO's 0.99999, so that the weights show
    norm = ValueNorm(beta=beta)
    first, second = t([0.0, 2.0]), t([10.0])
    norm.update(first)
    norm.update(second)
    d = (1 - beta) * beta + (1 - beta)  # 0.75
    mean = ((1 - beta) * beta * 1.0 + (1 - beta) * 10.0) / d  # (0.25 + 5) / 0.75 = 7
    mean_sq = ((1 - beta) * beta * 2.0 + (1 - beta) * 100.0) / d  # (0.5 + 50) / 0.75
    got_mean, got_var = norm.mean_var()
    assert got_mean.item() == pytest.approx(mean) and mean == pytest.approx(7.0)
    assert got_var.item() == pytest.approx(mean_sq - mean ** 2)


def test_value_norm_floors_the_variance() -> None:
    norm = ValueNorm()
    norm.update(t([5.0, 5.0]))
    assert norm.mean_var()[1].item() == pytest.approx(1e-2)
    assert norm.normalize(t([5.1])).item() == pytest.approx(1.0)


# ------------------------------------------------------------------------- rollout, agent
@dataclasses.dataclass(frozen=True)
class RecordingConfig(OnPolicyConfig):
    n_steps: int = 3


class Recording(OnPolicyAgent):
    """The smallest on-policy agent: a linear actor; ``learn`` records what it was given."""

    config_class = RecordingConfig
    saved = ("actor",)

    def __init__(self, config, spaces, seed: int) -> None:
        super().__init__(config, spaces, seed)
        self.actor = torch.nn.Linear(self.obs_dim, self.act_dim)
        self.seen: list[dict[str, torch.Tensor]] = []

    def act(self, obs: np.ndarray, *, explore: bool) -> np.ndarray:
        with torch.no_grad():
            a = torch.tanh(self.actor(torch.as_tensor(obs, dtype=torch.float32)))
        return self.box.to_env(a.numpy())

    def learn(self, rollout: dict[str, torch.Tensor]) -> dict[str, float]:
        self.seen.append(rollout)
        return {"charts/reward": rollout["reward"].mean().item()}


def feed(agent: OnPolicyAgent, reward: float, batch: int = 2, truncated: bool = False
         ) -> dict[str, float]:
    obs = np.full((batch, agent.n, agent.obs_dim), reward, np.float32)
    agent.observe(Transitions.from_step(
        obs=obs, state=obs[:, 0], actions=agent.act(obs, explore=True),
        rewards=np.full((batch, agent.n), reward), next_obs=obs, next_state=obs[:, 0] + 1,
        terminated=np.zeros((batch, agent.n), bool),
        truncated=np.full((batch, agent.n), truncated)))
    return agent.update()


def test_each_rollout_is_learned_from_once_then_discarded() -> None:
    agent = Recording(RecordingConfig(), make_spaces(n=2), seed=0)
    assert [feed(agent, r) for r in (1.0, 2.0)] == [{}, {}]
    assert feed(agent, 3.0, truncated=True) == {"charts/reward": 2.0}
    (first,) = agent.seen
    assert first["reward"].tolist() == [[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]  # [T, B], in order
    assert first["obs"].shape == (3, 2, 2, 2) and first["state"].shape == (3, 2, 2)
    assert first["truncated"][:, 0].tolist() == [False, False, True]
    assert torch.equal(first["next_state"], first["state"] + 1)
    assert len(agent.rollout) == 0 and agent.update() == {}  # discarded: nothing to learn again
    assert [feed(agent, r) for r in (4.0, 5.0, 6.0)][-1] == {"charts/reward": 5.0}
    assert agent.seen[1]["reward"][:, 0].tolist() == [4.0, 5.0, 6.0]  # only the new rollout
    assert first["reward"][:, 0].tolist() == [1.0, 2.0, 3.0]  # a copy, not the reused arrays
    assert (agent.steps, agent.updates) == (12, 2)


def test_a_full_rollout_refuses_more_steps_until_learned() -> None:
    rollout = Rollout(1, {"x": ()}, {"x": np.float32})
    rollout.add(x=np.zeros(2))
    with pytest.raises(RuntimeError, match="already holds its 1 steps"):
        rollout.add(x=np.zeros(2))
    with pytest.raises(ValueError, match="fields \\['x'\\]"):
        Rollout(2, {"x": ()}, {"x": np.float32}).add(y=np.zeros(2))


def test_a_partial_rollout_saves_and_loads_exactly(tmp_path) -> None:
    agent = Recording(RecordingConfig(), make_spaces(n=2), seed=0)
    feed(agent, 1.5)
    agent.save(tmp_path)
    other = Recording(RecordingConfig(), make_spaces(n=2), seed=7)
    other.load(tmp_path)
    assert len(other.rollout) == 1 and other.steps == 2
    for name, value in agent.rollout.arrays().items():
        assert np.array_equal(other.rollout.arrays()[name], value), name
    for a in (agent, other):
        feed(a, 2.5)
        feed(a, 3.5)
    for name in agent.seen[0]:
        assert torch.equal(agent.seen[0][name], other.seen[0][name]), name
    empty = Recording(RecordingConfig(), make_spaces(n=2), seed=0)
    empty.save(tmp_path / "empty")
    empty.load(tmp_path / "empty")
    assert len(empty.rollout) == 0
    with pytest.raises(ValueError, match="n_steps=3; this agent's is 4"):
        Recording(RecordingConfig(n_steps=4), make_spaces(n=2), seed=0).load(tmp_path)


def test_config_checks_and_help() -> None:
    with pytest.raises(ValueError, match="n_steps must be an integer in \\[1"):
        OnPolicyConfig(n_steps=0)
    with pytest.raises(ValueError, match="gae_lambda must be a finite real number in \\[0, 1\\]"):
        OnPolicyConfig(gae_lambda=1.5)
    with pytest.raises(ValueError, match="clip must be a finite real number in \\(0"):
        OnPolicyConfig(clip=0.0)
    assert "one update per rollout" in help_text(RecordingConfig, "n_steps")
