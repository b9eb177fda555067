"""PettingZoo's own test kit passes on every registered id, with the env as ``make`` returns it.

No seed wrapper stands between the kit and the env. ``max_cycles_test`` gets the module-like
object it asks for, ``ro_bench.testing.pettingzoo_module``; ``render_test``'s constructor builds
its one metadata probe without ``"human"``, a mode no ro-bench env has (see ``test_render_test``).
"""

from __future__ import annotations

import functools

import pytest
from pettingzoo.test import (
    api_test,
    max_cycles_test,
    parallel_api_test,
    parallel_seed_test,
    performance_benchmark,
    render_test,
    seed_test,
)

import ro_bench
from conftest import default_kwargs, env_ids
from ro_bench.testing import episode_length_parameter, pettingzoo_module

pytestmark = [
    # Constant observations are the point of the stateless games; PettingZoo warns about them.
    pytest.mark.filterwarnings("ignore:Observation is a single number"),
    pytest.mark.filterwarnings("ignore:Observation numpy array is all zeros"),
    # Positions and velocities are unbounded, so their Box is too.
    pytest.mark.filterwarnings("ignore:Agent.s m.* observation space value is -?infinity"),
]

ENVS = env_ids()  # every registered id; one whose extra is missing skips


def parallel_fn(env_id: str):
    """``make`` with the env's default kwargs, as a constructor."""
    return functools.partial(ro_bench.make, env_id, **default_kwargs(env_id))


def aec_fn(env_id: str):
    """``make_aec`` with the env's default kwargs, as a constructor."""
    return functools.partial(ro_bench.make_aec, env_id, **default_kwargs(env_id))


@pytest.mark.parametrize("env_id", ENVS)
def test_parallel_api_test(env_id):
    parallel_api_test(parallel_fn(env_id)(), num_cycles=100)


@pytest.mark.parametrize("env_id", ENVS)
def test_api_test(env_id):
    api_test(aec_fn(env_id)(), num_cycles=100)


@pytest.mark.parametrize("env_id", ENVS)
def test_seed_test(env_id):
    seed_test(aec_fn(env_id), num_cycles=100)


@pytest.mark.parametrize("env_id", ENVS)
def test_parallel_seed_test(env_id):
    parallel_seed_test(parallel_fn(env_id), num_cycles=100)


@pytest.mark.parametrize("env_id", ENVS)
def test_max_cycles_test(env_id):
    module = pettingzoo_module(env_id, **default_kwargs(env_id))
    if episode_length_parameter(env_id) is None:
        with pytest.raises(ValueError, match=f"max_cycles does not apply to {env_id}"):
            module.parallel_env(max_cycles=4)
        pytest.skip(f"{env_id} is a one-shot game with no episode length: max_cycles does not "
                    "apply (see ro_bench.testing.pettingzoo_module)")
    max_cycles_test(module)


@pytest.mark.parametrize("env_id", ENVS)
def test_performance_benchmark(env_id, capsys):
    performance_benchmark(aec_fn(env_id)())
    turns_per_second = float(capsys.readouterr().out.split("\n")[1].split()[0])
    assert turns_per_second > 100


def declares_render_modes(env_id: str) -> bool:
    env_spec = ro_bench.spec(env_id)
    return env_spec.available and bool(env_spec.load().render_modes)


@pytest.mark.parametrize("env_id", [e for e in ENVS if declares_render_modes(e.values[0])])
def test_render_test(env_id):
    def env_fn(render_mode=None):
        # render_test builds its first env with render_mode="human" only to read
        # metadata["render_modes"]. ro-bench has no window to draw in (a benchmark runs
        # headless), so that env is built without a render mode; every mode it then tests is
        # one the env declares.
        return aec_fn(env_id)(render_mode=None if render_mode == "human" else render_mode)

    render_test(env_fn)
