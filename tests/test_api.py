"""Every registered env, with its defaults and with overridden kwargs, passes PettingZoo's tests."""

from __future__ import annotations

import numpy as np
import pettingzoo
import pytest
from gymnasium.error import ClosedEnvironmentError
from gymnasium.utils.env_checker import data_equivalence
from pettingzoo.test import api_test, parallel_api_test

import ro_bench
from conftest import default_kwargs, env_cases, env_ids

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


# ------------------------------------------------------------------------------- rendering
# The render modes each family declares: a numpy rasterizer for Particle Gather, MuJoCo's own
# renderer for MaMuJoCo; the games have nothing to draw.
RENDER_MODES = {"matrix": [], "differential": [], "particle": ["rgb_array"],
                "mamujoco": ["rgb_array"]}


def render_modes(env_id: str) -> list[str]:
    return RENDER_MODES[ro_bench.spec(env_id).family]


@pytest.mark.parametrize("env_id", env_ids())
def test_metadata_declares_the_render_modes(env_id):
    kwargs = default_kwargs(env_id)
    assert ro_bench.make(env_id, **kwargs).metadata["render_modes"] == render_modes(env_id)
    assert ro_bench.make_aec(env_id, **kwargs).metadata["render_modes"] == render_modes(env_id)
    if render_modes(env_id):
        assert ro_bench.make(env_id, **kwargs).metadata["render_fps"] > 0


@pytest.mark.parametrize("env_id", env_ids())
def test_render_mode_none_everywhere(env_id):
    kwargs = default_kwargs(env_id)
    pz_id = ro_bench.spec(env_id).pettingzoo_id
    for env in (ro_bench.make(env_id, render_mode=None, **kwargs),
                ro_bench.make_aec(env_id, render_mode=None, **kwargs),
                pettingzoo.make("parallel", pz_id, render_mode=None, **kwargs),
                pettingzoo.make("aec", pz_id, render_mode=None, **kwargs)):
        assert env.render_mode is None
        env.reset(seed=0)
        with pytest.warns(UserWarning, match="without specifying any render mode"):
            assert env.render() is None  # as PettingZoo's own envs do
    vec = ro_bench.make_vec(env_id, 2, render_mode=None, **kwargs)
    vec.reset(seed=0)
    with pytest.warns(UserWarning, match="without specifying any render mode"):
        assert vec.render() is None


@pytest.mark.parametrize("env_id", env_ids())
def test_rgb_array_frames(env_id):
    kwargs = default_kwargs(env_id)
    if not render_modes(env_id):
        with pytest.raises(ValueError, match=r"render_mode must be None: .* no renderer"):
            ro_bench.make(env_id, render_mode="rgb_array", **kwargs)
        return
    pz_id = ro_bench.spec(env_id).pettingzoo_id
    env = pettingzoo.make("parallel", pz_id, render_mode="rgb_array", **kwargs)
    assert env.render_mode == "rgb_array"
    env.reset(seed=0)
    first = env.render()
    assert first.ndim == 3 and first.shape[2] == 3 and first.dtype == np.uint8
    assert first.min() < first.max()  # something is drawn
    for _ in range(5):
        env.step({a: env.action_space(a).high for a in env.agents})  # full thrust: things move
    assert not np.array_equal(env.render(), first)
    aec = ro_bench.make_aec(env_id, render_mode="rgb_array", **kwargs)
    aec.reset(seed=0)
    np.testing.assert_array_equal(aec.render(), first)
    vec = ro_bench.make_vec(env_id, 2, render_mode="rgb_array", **kwargs)
    vec.reset(seed=0)
    frames = vec.render()  # Gymnasium's vector convention: one frame per env
    assert len(frames) == 2
    np.testing.assert_array_equal(frames[0], first)
    env.close()


@pytest.mark.parametrize("env_id", [e for e in env_ids() if render_modes(e.values[0])])
def test_rendering_leaves_the_trajectory_alone(env_id):
    def run(render_mode):
        env = ro_bench.make(env_id, render_mode=render_mode, **default_kwargs(env_id))
        record = [env.reset(seed=0)]
        for i, agent in enumerate(env.possible_agents):
            env.action_space(agent).seed(i)
        for _ in range(5):
            if render_mode:
                env.render()
            record.append(env.step({a: env.action_space(a).sample() for a in env.agents}))
        return record

    assert data_equivalence(run(None), run("rgb_array"))


@pytest.mark.parametrize(
    "env_id, mode, message",
    [
        ("particle_gather", "rgb_arry", r"render_mode must be None or one of 'rgb_array' for "
         r"particle_gather; got 'rgb_arry'\. Did you mean 'rgb_array'\?"),
        ("particle_gather", "human", r"render_mode must be None or one of 'rgb_array'"),
        ("particle_gather", 3, r"render_mode .* got 3"),
        ("max_of_three", "rgb_array", r"render_mode must be None: max_of_three has no renderer; "
         r"got 'rgb_array'"),
    ],
)
def test_unsupported_render_mode_is_refused(env_id, mode, message):
    for make in (ro_bench.make, ro_bench.make_aec, ro_bench.make_vec):
        with pytest.raises(ValueError, match=message):
            make(env_id, render_mode=mode)
    with pytest.raises(ValueError, match=message):
        pettingzoo.make("parallel", ro_bench.spec(env_id).pettingzoo_id, render_mode=mode)


def test_misspelt_render_mode_parameter_is_suggested():
    with pytest.raises(ValueError, match=r"no parameter 'render_mod'\. Did you mean 'render_mode'"):
        ro_bench.make("particle_gather", render_mod="rgb_array")


# ---------------------------------------------------------------------------------- close
@pytest.mark.parametrize("env_id", env_ids())
def test_closed_envs_refuse_to_step_and_reset(env_id):
    kwargs = default_kwargs(env_id)
    env = ro_bench.make(env_id, **kwargs)
    env.reset(seed=0)
    actions = {a: env.action_space(a).sample() for a in env.agents}
    env.close()
    env.close()  # closing twice is harmless, as in Gymnasium
    with pytest.raises(ClosedEnvironmentError, match=f"{env_id} is closed"):
        env.step(actions)
    with pytest.raises(ClosedEnvironmentError, match=f"{env_id} is closed"):
        env.reset(seed=0)
    aec = ro_bench.make_aec(env_id, **kwargs)
    aec.reset(seed=0)
    aec.close()
    with pytest.raises(ClosedEnvironmentError, match="closed"):
        aec.step(actions[aec.agent_selection])
    vec = ro_bench.make_vec(env_id, 2, **kwargs)
    vec.reset(seed=0)
    vec.close()
    with pytest.raises(ClosedEnvironmentError, match="closed"):
        vec.step(np.stack([np.stack(list(actions.values()))] * 2))
    with pytest.raises(ClosedEnvironmentError, match="closed"):
        vec.reset()
