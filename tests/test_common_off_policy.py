"""The zoo's off-policy base: one update schedule, the action box, the replayed team reward, the
shared config fields and their help, and save/load of named state."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from gymnasium import spaces as gym_spaces  # noqa: E402

from agent_doubles import make_spaces  # noqa: E402
from ro_bench.agents import Transitions  # noqa: E402
from ro_bench.configs import describe, help_text  # noqa: E402
from ro_bench_zoo.common.off_policy import (  # noqa: E402
    OffPolicyAgent, OffPolicyConfig, ReplayConfig, update_rounds)
from ro_bench_zoo.common.spaces import ActionBox  # noqa: E402

pytestmark = pytest.mark.usefixtures("restore_process_state")


@dataclasses.dataclass(frozen=True)
class CountingConfig(OffPolicyConfig):
    batch_size: int = 4
    total_steps: int = 100


class Counting(OffPolicyAgent):
    """The smallest off-policy agent: a linear actor, and gradient steps that only count."""

    config_class = CountingConfig
    saved = ("actor", "noise", "rounds_seen")

    def __init__(self, config, spaces, seed: int) -> None:
        super().__init__(config, spaces, seed)
        self.noise = self.generator(0)
        self.actor = torch.nn.Linear(self.obs_dim, self.act_dim)
        self.buffer = self.make_buffer(("obs", "actions", "reward", "terminated"), stream=1)
        self.rounds_seen = 0

    def act(self, obs: np.ndarray, *, explore: bool) -> np.ndarray:
        with torch.no_grad():
            a = torch.tanh(self.actor(torch.as_tensor(obs, dtype=torch.float32)))
        return self.box.to_env(a.numpy())

    def gradient_step(self) -> dict[str, float]:
        self.rounds_seen += 1
        return {"charts/replayed_reward": float(self.buffer.sample(4)["reward"].mean())}


def feed(agent: OffPolicyAgent, batch: int, reward: float = 1.0) -> dict[str, float]:
    obs = np.zeros((batch, agent.n, agent.obs_dim), np.float32)
    agent.observe(Transitions.from_step(
        obs=obs, state=obs[:, 0], actions=agent.act(obs, explore=True),
        rewards=np.full((batch, agent.n), reward), next_obs=obs, next_state=obs[:, 0],
        terminated=np.ones((batch, agent.n), bool), truncated=np.zeros((batch, agent.n), bool)))
    return agent.update()


# --------------------------------------------------------------------------------- schedule
def test_rounds_fall_on_multiples_of_update_every_from_learning_starts() -> None:
    # learning_starts 6, update_every 4: rounds at env steps 8, 12, 16, ...
    assert [update_rounds(s - 2, s, 6, 4) for s in range(2, 14, 2)] == [0, 0, 0, 1, 0, 1]
    assert update_rounds(0, 9, 6, 4) == 1  # one batch across learning_starts: step 8's round
    assert update_rounds(0, 16, 6, 4) == 3  # 8, 12, 16; not 4, before learning_starts
    assert update_rounds(0, 16, 1, 4) == 4
    assert update_rounds(7, 8, 8, 1) == 1 and update_rounds(6, 7, 8, 1) == 0


@pytest.mark.parametrize("batch", [1, 2, 3, 7])
def test_the_count_of_rounds_does_not_depend_on_the_batch_size(batch: int) -> None:
    """What MaMuJoCo's batches of envs need: B envs stepping together reach the same number of
    update rounds as one env stepping B times (up to the last partial batch)."""
    total = 84  # a multiple of every batch size tried
    config = CountingConfig(learning_starts=10, update_every=3, updates_per_step=2)
    agent = Counting(config, make_spaces(n=2), seed=0)
    for _ in range(total // batch):
        feed(agent, batch)
    assert agent.gradient_steps == agent.rounds_seen == 2 * (total // 3 - 9 // 3)


def test_the_team_reward_is_replayed_once_per_transition() -> None:
    agent = Counting(CountingConfig(), make_spaces(n=3), seed=0)
    feed(agent, 5, reward=-2.5)
    stored = agent.buffer.state_dict()["arrays"]
    assert stored["reward"].shape == (5,) and (stored["reward"] == -2.5).all()
    assert stored["terminated"].shape == (5,) and stored["terminated"].all()


def test_transitions_refuse_agents_that_do_not_share_the_reward() -> None:
    obs = np.zeros((2, 2, 1), np.float32)
    with pytest.raises(ValueError, match="rewards differ in env 1 .* cooperative"):
        Transitions.from_step(obs=obs, state=obs[:, 0], actions=obs, next_obs=obs,
                              next_state=obs[:, 0], rewards=np.array([[1.0, 1.0], [1.0, 0.0]]),
                              terminated=np.zeros((2, 2), bool),
                              truncated=np.zeros((2, 2), bool))


# ------------------------------------------------------------------------------ action box
def test_the_action_box_maps_unit_actions_to_the_env_and_back() -> None:
    box = ActionBox.of(make_spaces(n=2, act_dim=3, bound=4.0), "X")
    unit = np.random.default_rng(0).uniform(-1, 1, (5, 2, 3)).astype(np.float32)
    env = box.to_env(unit)
    assert env.dtype == np.float32 and np.allclose(env, 4.0 * unit, atol=1e-6)
    assert np.allclose(box.to_unit(env), unit, atol=1e-6)
    assert box.to_unit(np.full((1, 2, 3), 4.000001)).max() == 1.0  # rounding past the bound


def test_the_action_box_refuses_what_it_cannot_squash_into() -> None:
    spaces = make_spaces()
    with pytest.raises(ValueError, match="X needs continuous .* continuous_actions=True"):
        ActionBox.of(dataclasses.replace(spaces, action_spaces=(gym_spaces.Discrete(3),) * 3),
                     "X")
    unbounded = gym_spaces.Box(-np.inf, np.inf, (1,), np.float32)
    with pytest.raises(ValueError, match="must be bounded"):
        ActionBox.of(dataclasses.replace(spaces, action_spaces=(unbounded,) * 3), "X")


# ---------------------------------------------------------------------------------- config
def test_a_default_changed_in_a_subclass_keeps_the_base_help() -> None:
    assert help_text(CountingConfig, "batch_size") == help_text(ReplayConfig, "batch_size") != ""
    lines = "\n".join(describe(CountingConfig))
    assert "batch_size (int, default 4): replayed transitions per gradient step" in lines


@pytest.mark.parametrize("field, value, message", [
    ("batch_size", 0, r"batch_size must be an integer in \[1, inf\]"),
    ("gamma", 1.5, r"gamma must be a finite real number in \[0, 1\]"),
    ("critic_hidden", (8, 0), r"every width of critic_hidden must be an integer in \[1"),
    ("learning_starts", 0, r"learning_starts must be an integer in \[1"),
    ("torch_threads", -1, r"torch_threads must be an integer in \[0"),
])
def test_shared_fields_are_checked_naming_the_field(field: str, value, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CountingConfig(**{field: value})


# ------------------------------------------------------------------------------ save / load
def test_save_and_load_restore_named_state_counters_and_buffers(tmp_path) -> None:
    agent = Counting(CountingConfig(), make_spaces(n=2), seed=0)
    for _ in range(7):
        feed(agent, 1)
    agent.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["networks.pt", "progress.json",
                                                          "replay.npz"]
    counters = json.loads((tmp_path / "progress.json").read_text())["counters"]
    assert counters == {"steps": 7, "pending_rounds": 0, "gradient_steps": 7, "rounds_seen": 7}
    other = Counting(CountingConfig(), make_spaces(n=2), seed=5)
    other.load(tmp_path)
    assert other.steps == 7 and other.rounds_seen == 7 and len(other.buffer) == 7
    assert torch.equal(other.actor.weight, agent.actor.weight)
    assert torch.equal(other.noise.get_state(), agent.noise.get_state())


def test_load_refuses_the_files_of_another_agent(tmp_path) -> None:
    agent = Counting(CountingConfig(), make_spaces(n=2), seed=0)
    agent.save(tmp_path)

    class Other(Counting):
        saved = ("actor", "noise")

    with pytest.raises(ValueError, match="holds the state of another agent"):
        Other(CountingConfig(), make_spaces(n=2), seed=0).load(tmp_path)


def test_truncation_is_bootstrapped_and_termination_is_not() -> None:
    """Gymnasium's episode ends: a truncated step (time limit) still has a future, so its target
    bootstraps from the final observation; a terminated one has none. The base replays
    ``terminated`` only, and the targets read ``1 - terminated``."""
    from ro_bench_zoo.maddpg import critic_targets
    from ro_bench_zoo.mmq import maxmax_target

    agent = Counting(CountingConfig(), make_spaces(n=2, act_dim=3, obs_dim=4), 0)
    agent.buffer = agent.make_buffer(("obs", "next_obs", "terminated"), stream=2, name="ends")
    obs = np.zeros((2, 2, 4), np.float32)
    final = np.arange(16, dtype=np.float32).reshape(2, 2, 4) + 1  # the final, not the reset, obs
    ends = np.array([[False, False], [True, True]])  # env 0: truncated; env 1: terminated
    agent.observe(Transitions.from_step(
        obs=obs, state=obs[:, 0], actions=np.zeros((2, 2, 3), np.float32),
        rewards=np.ones((2, 2)), next_obs=final, next_state=final[:, 0],
        terminated=ends, truncated=~ends))
    stored = agent.buffers["ends"]._data
    assert stored["terminated"][:2].tolist() == [False, True]
    np.testing.assert_array_equal(stored["next_obs"][:2], final)
    rewards, terminated = torch.tensor([1.0, 1.0]), torch.as_tensor(stored["terminated"][:2])
    next_q = torch.tensor([[10.0, 10.0]])  # [N agents = 1, B]
    assert critic_targets(rewards, terminated, next_q, 0.9).tolist() == [[10.0, 1.0]]
    y, _ = maxmax_target(torch.tensor([[1.0], [1.0]]), terminated, torch.tensor([[10.0], [10.0]]),
                         0.9)
    assert y.tolist() == [10.0, 1.0]
