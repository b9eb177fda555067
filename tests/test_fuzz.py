"""Fuzzing kwargs and actions: nothing fails except with the documented errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ro_bench
from conftest import available_envs, default_kwargs, parameters

ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-20, 20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([5e-324, 1e-300, 1e-3, 1e3, 1e300, -1e300]),
    st.text(max_size=3),
    st.lists(st.floats(-20, 20), max_size=4),
    st.lists(st.lists(st.integers(-5, 5), min_size=1, max_size=3), max_size=3),
)


@st.composite
def env_and_kwargs(draw):
    env_id = draw(st.sampled_from(available_envs()))
    kwargs = default_kwargs(env_id)
    names = sorted(parameters(env_id)) + ["not_a_parameter"]
    for name in draw(st.lists(st.sampled_from(names), max_size=3, unique=True)):
        kwargs[name] = draw(ANY_VALUE)
    return env_id, kwargs


def actions_for(vec, data):
    """Mostly valid actions, sometimes out of range, non-finite, or of the wrong shape."""
    shape = (vec.num_envs, *vec.action_shape)
    if data.draw(st.integers(0, 9)) == 0:
        shape = data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple))
    values = st.floats(-1e6, 1e6) if data.draw(st.booleans()) else st.floats()
    flat = data.draw(st.lists(values, min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
    actions = np.array(flat, dtype=np.float64).reshape(shape)
    if vec.discrete and data.draw(st.booleans()):
        with np.errstate(invalid="ignore"):  # inf stays non-finite, and must be refused
            actions = np.floor(np.abs(actions)) % vec._n_actions.min()
    if data.draw(st.integers(0, 9)) == 0:  # bools, which must be refused rather than read as 0/1
        actions = actions > 0
    return actions


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=env_and_kwargs(), num_envs=st.integers(1, 3), data=st.data())
def test_fuzz_kwargs_and_actions(case, num_envs, data):
    env_id, kwargs = case
    try:
        vec = ro_bench.make_vec(env_id, num_envs, **kwargs)
    except ValueError as error:
        assert any(name in str(error) for name in kwargs), str(error)  # names the parameter
        return
    vec.reset(seed=data.draw(st.integers(0, 2**32 - 1)))
    for _ in range(3):
        actions = actions_for(vec, data)
        try:
            obs, rewards, terminated, truncated, infos = vec.step(actions)
        except ValueError as error:
            assert "actions" in str(error)
            continue
        assert actions.dtype != bool
        assert obs.shape == (num_envs, vec.n_agents, vec.observation_space.shape[0])
        assert np.isfinite(rewards).all() and np.isfinite(obs).all()
        assert all(vec.observation_space.contains(o) for o in obs.reshape(-1, obs.shape[-1]))


@pytest.mark.parametrize("env_id", ["max_of_three", "differential_game"])
@settings(max_examples=200, deadline=None)
@given(u=st.lists(st.floats(-10, 10, width=32), min_size=3, max_size=3))
def test_reward_never_exceeds_optimum(env_id, u):
    vec = ro_bench.make_vec(env_id)
    vec.reset(seed=0)
    _, rewards, *_ = vec.step(np.array(u, dtype=np.float32)[None, :, None])
    assert rewards[0, 0] <= vec.optimum
