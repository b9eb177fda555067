"""The batched kernel and its PettingZoo face agree step for step; bad actions are refused."""

from __future__ import annotations

import numpy as np
import pytest

import ro_bench
from conftest import env_cases

B = 5


def random_actions(vec, rng):
    if vec.discrete:
        return rng.integers(0, vec._n_actions, size=(vec.num_envs, vec.n_agents))
    low, high = vec._low, vec._high  # include out-of-range actions to exercise clipping
    span = high - low
    return rng.uniform(low - 0.2 * span, high + 0.2 * span, size=(vec.num_envs, *vec.action_shape))


@pytest.mark.parametrize("case", env_cases())
def test_batched_kernel_equals_pettingzoo_face(case):
    env_id, kwargs = case
    vec = ro_bench.make_vec(env_id, num_envs=B, **kwargs)
    faces = [ro_bench.make(env_id, **kwargs) for _ in range(B)]
    rng = np.random.default_rng(0)
    obs, _ = vec.reset(seed=3)
    for b, face in enumerate(faces):
        face_obs, _ = face.reset(seed=3 + b)  # env b of a batch seeded 3 is seeded 3 + b
        np.testing.assert_array_equal(obs[b], np.stack(list(face_obs.values())))
    for _ in range(12):
        actions = random_actions(vec, rng)
        obs, rewards, terminated, truncated, infos = vec.step(actions)
        for b, face in enumerate(faces):
            agents = face.agents
            out = face.step(dict(zip(agents, actions[b])))
            f_obs, f_rew, f_term, f_trunc, f_info = (list(d.values()) for d in out)
            np.testing.assert_array_equal(infos["final_obs"][b], np.stack(f_obs))
            np.testing.assert_array_equal(infos["final_state"][b], face.state())
            assert rewards[b].tolist() == f_rew
            assert terminated[b].tolist() == f_term and truncated[b].tolist() == f_trunc
            assert infos["clipped"][b].tolist() == [i["clipped"] for i in f_info]
            if not face.agents:  # the kernel reset this env itself; the face resets now
                face_obs, _ = face.reset()
                np.testing.assert_array_equal(obs[b], np.stack(list(face_obs.values())))
            np.testing.assert_array_equal(vec.state()[b], face.state())


def test_shapes_and_autoreset():
    vec = ro_bench.make_vec("climbing", num_envs=4, episode_length=2)
    obs, infos = vec.reset(seed=0)
    assert obs.shape == (4, 2, 1) and obs.dtype == np.float32 and infos == {}
    assert vec.state().shape == (4, 1)
    actions = np.zeros((4, 2), dtype=np.int64)
    obs, rewards, terminated, truncated, infos = vec.step(actions)
    assert rewards.shape == terminated.shape == truncated.shape == (4, 2)
    assert (vec.state() == 0.5).all() and not terminated.any()
    obs, rewards, terminated, truncated, infos = vec.step(actions)
    assert terminated.all() and (rewards == 11).all()
    assert (infos["final_obs"] == 0.0).all() and (infos["final_state"] == 1.0).all()
    assert (vec.state() == 0.0).all()  # reset inside step


def test_without_autoreset_a_finished_batch_must_be_reset():
    vec = ro_bench.make_vec("max_of_two", num_envs=3)
    vec.autoreset = False
    vec.reset(seed=0)
    vec.step(np.zeros((3, 2, 1)))
    with pytest.raises(RuntimeError, match="reset"):
        vec.step(np.zeros((3, 2, 1)))


def test_step_before_reset_is_refused():
    with pytest.raises(RuntimeError, match="reset"):
        ro_bench.make_vec("max_of_two").step(np.zeros((1, 2, 1)))
    with pytest.raises(RuntimeError, match="reset"):
        ro_bench.make("max_of_two").step({"agent_0": [0.0], "agent_1": [0.0]})


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_actions_raise(bad):
    vec = ro_bench.make_vec("max_of_three", num_envs=2)
    vec.reset(seed=0)
    actions = np.zeros((2, 3, 1))
    actions[1, 2, 0] = bad
    with pytest.raises(ValueError, match="finite"):
        vec.step(actions)
    env = ro_bench.make("max_of_three")
    env.reset(seed=0)
    with pytest.raises(ValueError, match="finite"):
        env.step({"agent_0": [0.0], "agent_1": [bad], "agent_2": [0.0]})


@pytest.mark.parametrize(
    "env_id, shape, expected",
    [
        ("max_of_three", (2, 3), r"\(2, 3, 1\)"),
        ("max_of_three", (2, 2, 1), r"\(2, 3, 1\)"),
        ("max_of_three", (3, 3, 1), r"\(2, 3, 1\)"),
        ("climbing", (2, 2, 1), r"\(2, 2\)"),
    ],
)
def test_wrong_action_shape_names_the_expected_shape(env_id, shape, expected):
    vec = ro_bench.make_vec(env_id, num_envs=2)
    vec.reset(seed=0)
    with pytest.raises(ValueError, match=expected):
        vec.step(np.zeros(shape, dtype=np.int64))


def test_face_action_errors():
    env = ro_bench.make("max_of_three")
    env.reset(seed=0)
    with pytest.raises(ValueError, match="agent_2"):
        env.step({"agent_0": [0.0], "agent_1": [0.0]})
    with pytest.raises(ValueError, match=r"shape \(1,\)"):
        env.step({"agent_0": [0.0, 1.0], "agent_1": [0.0, 1.0], "agent_2": [0.0, 1.0]})
    with pytest.raises(ValueError, match=r"shape \(1,\)"):
        env.step({"agent_0": [0.0], "agent_1": [0.0, 1.0], "agent_2": [0.0]})
    _, rewards, *_ = env.step({"agent_0": [7.0], "agent_1": [7.0], "agent_2": [-4.0]})
    assert rewards["agent_0"] == 10.0  # the failed calls changed nothing


@pytest.mark.parametrize("bad", [-1, 3, 2.5])
def test_invalid_discrete_actions_raise(bad):
    vec = ro_bench.make_vec("climbing", num_envs=1)
    vec.reset(seed=0)
    with pytest.raises(ValueError, match="discrete actions"):
        vec.step(np.array([[0, bad]]))


def test_integral_float_discrete_actions_are_accepted():
    vec = ro_bench.make_vec("climbing", num_envs=1)
    vec.reset(seed=0)
    _, rewards, *_ = vec.step(np.array([[1.0, 1.0]]))
    assert rewards[0, 0] == 7


@pytest.mark.parametrize("case", env_cases())
def test_snapshot_and_restore_resume_exactly(case):
    env_id, kwargs = case
    vec = ro_bench.make_vec(env_id, num_envs=3, **kwargs)
    rng = np.random.default_rng(0)
    vec.reset(seed=11)
    for _ in range(7):
        vec.step(random_actions(vec, rng))
    arrays, meta = vec.snapshot()
    actions = [random_actions(vec, rng) for _ in range(40)]
    first = [vec.step(a) for a in actions]
    other = ro_bench.make_vec(env_id, num_envs=3, **kwargs)
    other.restore(arrays, meta)
    second = [other.step(a) for a in actions]
    for out_a, out_b in zip(first, second):
        for x, y in zip(out_a[:4], out_b[:4]):
            np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(out_a[4]["final_obs"], out_b[4]["final_obs"])


def test_unknown_agent_keys_are_refused():
    env = ro_bench.make("max_of_three")
    env.reset(seed=0)
    actions = {"agent_0": [0.0], "agent_1": [0.0], "agent_2": [0.0], "agent_3": [0.0]}
    with pytest.raises(ValueError, match=r"unknown agent 'agent_3'.*agents: agent_0, agent_1, "
                                         r"agent_2.*Did you mean 'agent_[0-2]'"):
        env.step(actions)
    actions = {"agent_0": [0.0], "agent_1": [0.0], "agent2": [0.0]}  # a typo, not just extra
    with pytest.raises(ValueError, match=r"unknown agent 'agent2'.*Did you mean 'agent_2'"):
        env.step(actions)
    _, rewards, *_ = env.step({"agent_0": [7.0], "agent_1": [7.0], "agent_2": [-4.0]})
    assert rewards["agent_0"] == 10.0  # the refused calls changed nothing


@pytest.mark.parametrize(
    "env_id, actions",
    [
        ("climbing", {"agent_0": True, "agent_1": 0}),  # numpy would read [True, 0] as [1, 0]
        ("climbing", {"agent_0": np.bool_(False), "agent_1": np.int64(1)}),
        ("climbing", {"agent_0": np.array(True), "agent_1": np.array(True)}),
        ("max_of_three", {"agent_0": np.array([True]), "agent_1": [0.5], "agent_2": [0.5]}),
        ("max_of_three", {"agent_0": [True], "agent_1": [0.5], "agent_2": [0.5]}),
        ("max_of_three", {"agent_0": [0.5], "agent_1": [0.5], "agent_2": True}),
    ],
)
def test_bool_actions_are_refused_by_the_face(env_id, actions):
    env = ro_bench.make(env_id)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="actions must be numbers, not booleans"):
        env.step(actions)


@pytest.mark.parametrize(
    "env_id, actions",
    [
        ("climbing", np.array([[True, False]])),
        ("climbing", [[True, 0]]),
        ("max_of_three", np.ones((1, 3, 1), dtype=bool)),
        ("max_of_three", [[[0.5], [False], [0.5]]]),
    ],
)
def test_bool_actions_are_refused_by_the_batch(env_id, actions):
    vec = ro_bench.make_vec(env_id)
    vec.reset(seed=0)
    with pytest.raises(ValueError, match="actions must be numbers, not booleans"):
        vec.step(actions)
