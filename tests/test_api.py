"""Every registered env, with its defaults and with overridden kwargs, passes PettingZoo's tests."""

from __future__ import annotations

import numpy as np
import pytest
from pettingzoo.test import api_test, parallel_api_test

import ro_bench
from conftest import env_cases

# Constant observations are the point of the stateless games; PettingZoo warns about them.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Observation is a single number"),
    pytest.mark.filterwarnings("ignore:Observation numpy array is all zeros"),
    # Positions and velocities are unbounded, so their Box is too.
    pytest.mark.filterwarnings("ignore:Agent.s m.* observation space value is -?infinity"),
]

CASES = env_cases()


def test_every_registered_id_is_covered():
    assert {case.values[0][0] for case in CASES} == set(ro_bench.list_envs())


@pytest.mark.parametrize("case", CASES)
def test_parallel_api(case):
    env_id, kwargs = case
    parallel_api_test(ro_bench.make(env_id, **kwargs), num_cycles=100)


@pytest.mark.parametrize("case", CASES)
def test_aec_api(case):
    env_id, kwargs = case
    api_test(ro_bench.make_aec(env_id, **kwargs), num_cycles=100)


@pytest.mark.parametrize("case", CASES)
def test_state_matches_state_space(case):
    env_id, kwargs = case
    env = ro_bench.make(env_id, **kwargs)
    env.reset(seed=0)
    while env.agents:
        state = env.state()
        assert state.shape == env.state_space.shape
        assert env.state_space.contains(state)
        env.step({a: env.action_space(a).sample() for a in env.agents})


# Families whose envs have no analytic optimum or RO trap and report None (see their docs).
NO_ANALYTIC_VALUES = {"mamujoco"}


@pytest.mark.parametrize("case", CASES)
def test_optimum_is_at_least_trap(case):
    env_id, kwargs = case
    env = ro_bench.make(env_id, **kwargs)
    if ro_bench.spec(env_id).family in NO_ANALYTIC_VALUES:
        assert env.optimum is None and env.trap is None
        return
    assert np.isfinite(env.optimum) and np.isfinite(env.trap)
    assert env.optimum >= env.trap
