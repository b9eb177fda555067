"""The registry: specs, make/make_aec/make_vec, the PettingZoo registry, and its errors."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pettingzoo
import pytest
from pettingzoo import AECEnv, ParallelEnv

import ro_bench
from ro_bench.vector import VecEnv


def test_list_envs_and_families():
    envs = ro_bench.list_envs()
    assert len(envs) == len(set(envs))
    assert ro_bench.list_envs("matrix") == [
        "climbing", "penalty", "pro_game", "ero_game", "matrix_game"
    ]
    assert ro_bench.list_envs("differential") == [
        "max_of_three", "two_modalities", "max_of_two", "differential_game"
    ]


def test_spec_is_frozen_and_lazy():
    env_spec = ro_bench.spec("max_of_three")
    assert isinstance(env_spec.entry_point, str)  # imported only when made
    with pytest.raises(dataclasses.FrozenInstanceError):
        env_spec.id = "other"
    with pytest.raises(TypeError):
        env_spec.kwargs["s2"] = 2.0
    assert "Max of Three" in env_spec.doc


def test_make_returns_each_face():
    assert isinstance(ro_bench.make("max_of_three", s2=1.5), ParallelEnv)
    assert isinstance(ro_bench.make_aec("max_of_three", s2=1.5), AECEnv)
    vec = ro_bench.make_vec("max_of_three", 8, s2=2.0)
    assert isinstance(vec, VecEnv) and vec.num_envs == 8 and vec.s2 == 2.0


def test_pettingzoo_registry_knows_every_env():
    env = pettingzoo.make("parallel", "ro_bench/max_of_three", s2=1.5)
    assert isinstance(env, ParallelEnv) and env.vec.s2 == 1.5
    aec = pettingzoo.make("aec", "ro_bench/penalty-v0", k=-20.0)
    assert isinstance(aec, AECEnv) and aec.unwrapped.vec.k == -20.0
    for env_id in ro_bench.list_envs():
        assert pettingzoo.spec("parallel", ro_bench.spec(env_id).pettingzoo_id)
        assert pettingzoo.spec("aec", f"ro_bench/{env_id}")


def test_registering_an_id_twice_is_an_error():
    with pytest.raises(ValueError, match="already registered"):
        ro_bench.register("max_of_three", "ro_bench.envs.max_of_three:MaxOfThree", family="x")


def test_register_checks_the_id_and_entry_point():
    with pytest.raises(ValueError, match="snake_case"):
        ro_bench.register("Max-Of-Three", "ro_bench.envs.max_of_three:MaxOfThree", family="x")
    with pytest.raises(ValueError, match="module:Class"):
        ro_bench.register("some_new_env", "ro_bench.envs.max_of_three.MaxOfThree", family="x")
    assert "some_new_env" not in ro_bench.list_envs()


def test_unknown_id_suggests_the_closest():
    with pytest.raises(ro_bench.UnknownEnvironmentError, match="'max_of_three'"):
        ro_bench.make("max_of_thre")
    with pytest.raises(ValueError, match="'climbing'"):
        ro_bench.make_vec("climbng", 4)
    with pytest.raises(ValueError, match="Registered ids: climbing"):
        ro_bench.spec("zzzzzzzz")


def test_unknown_kwarg_names_the_nearest_valid_one():
    with pytest.raises(ValueError, match=r"no parameter 's'\. Did you mean 's2'\?"):
        ro_bench.make("max_of_three", s=2.0)
    with pytest.raises(ValueError, match="Valid parameters: k, episode_length"):
        ro_bench.make("penalty", kk=-3.0)


def test_missing_required_kwarg():
    with pytest.raises(ValueError, match="needs the parameter 'payoff'"):
        ro_bench.make("matrix_game")


@pytest.mark.parametrize(
    "env_id, kwargs, message",
    [
        ("max_of_three", {"s2": 0.0}, r"s2 must be a finite real number in \[0.001, 1000\]; got 0.0"),
        ("max_of_three", {"s2": -1.5}, r"s2 .* \[0.001, 1000\]"),
        ("max_of_three", {"s2": math.nan}, r"s2 .* \[0.001, 1000\]; got nan"),
        ("max_of_three", {"s2": math.inf}, r"s2 .* \[0.001, 1000\]"),
        ("max_of_three", {"s2": 1e-300}, r"s2 .* \[0.001, 1000\]"),
        ("max_of_three", {"s2": "1.5"}, r"s2 must be a real number"),
        ("max_of_three", {"s2": True}, r"s2 must be a real number"),
        ("penalty", {"k": 5.0}, r"k .* \[-1e\+06, 0\]"),
        ("climbing", {"episode_length": 0}, r"episode_length must be an integer in \[1, 10000\]"),
        ("climbing", {"episode_length": 2.0}, r"episode_length must be an integer"),
        ("climbing", {"continuous_actions": "yes"}, r"continuous_actions must be True or False"),
        ("matrix_game", {"payoff": [1, 2, 3]}, r"payoff must be .* at least 2 dimensions.*\(3,\)"),
        ("matrix_game", {"payoff": [[1, 2], [3]]}, r"payoff must be"),
        ("matrix_game", {"payoff": np.zeros((2, 0))}, r"payoff must be .*\(2, 0\)"),
        ("matrix_game", {"payoff": [[1, np.nan]]}, r"payoff .* NaN, inf"),
        ("matrix_game", {"payoff": [[1, 1e300]]}, r"payoff .* larger number"),
        ("matrix_game", {"payoff": "abc"}, r"payoff must be"),
        ("differential_game", {"centre1": (1, 2)}, r"centre1 must have shape \(3,\)"),
        ("differential_game", {"n_agents": 0}, r"n_agents must be an integer in \[1, 64\]"),
        ("differential_game", {"h1": -1}, r"h1 .* \(0, 1000\]"),
        ("differential_game", {"centre2": (0, 0, 1e7)}, r"centre2 .* \[-1e\+06, 1e\+06\]"),
        ("differential_game", {"action_bound": 0}, r"action_bound .* \(0, 1e\+06\]"),
    ],
)
def test_bad_kwargs_name_the_parameter_and_range(env_id, kwargs, message):
    with pytest.raises(ValueError, match=message):
        ro_bench.make(env_id, **kwargs)


def test_bad_num_envs():
    with pytest.raises(ValueError, match=r"num_envs must be an integer in \[1, inf\]"):
        ro_bench.make_vec("climbing", 0)
