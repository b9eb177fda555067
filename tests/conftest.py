"""Shared test data: the kwargs every registered env is tested with."""

from __future__ import annotations

import inspect
import os
from typing import Any

import pytest

import ro_bench

# A value for each required parameter (no default), by parameter name.
REQUIRED = {"payoff": [[1.0, 0.0], [0.0, 1.0]]}

# A valid non-default value for each parameter name; an env is tested with every one it accepts.
OVERRIDES: dict[str, Any] = {
    "continuous_actions": True,
    "episode_length": 3,
    "s2": 3.0,
    "k": -50.0,
    "h1": 0.5,
    "c1": 2.0,
    "action_bound": 4.0,
    "agent_obsk": 2,
    "max_episode_steps": 10,  # short MaMuJoCo episodes: auto-resets within the 12-step tests
}

# Further cases that need several parameters to agree.
EXTRA_CASES: list[tuple[str, dict[str, Any]]] = [
    ("matrix_game", {"payoff": [[[1, 2], [3, 4]], [[5, 6], [7, 8]]], "episode_length": 2}),
    ("matrix_game", {"payoff": [[1, 2, 3]], "continuous_actions": True}),
    ("differential_game", {"n_agents": 2, "centre1": (-5, -5), "centre2": (5, 5), "s2": 1.0}),
    ("differential_game", {"n_agents": 5, "centre1": (1,) * 5, "centre2": (-9,) * 5}),
    # Padded observations and actions (9 and 8 actuators) on the gathered observations, and
    # padded observations through gymnasium-robotics' own build_obs.
    ("mamujoco", {"scenario": "Humanoid", "agent_conf": "9|8", "max_episode_steps": 10}),
    ("mamujoco", {"scenario": "Hopper", "agent_conf": "3x1", "max_episode_steps": 10}),
]


def parameters(env_id: str) -> dict[str, inspect.Parameter]:
    env_spec = ro_bench.spec(env_id)
    if not env_spec.available:
        return {}
    cls = env_spec.load()
    params = inspect.signature(cls.__init__).parameters
    return {n: p for n, p in params.items() if p.kind is p.KEYWORD_ONLY}


def default_kwargs(env_id: str) -> dict[str, Any]:
    """Only the required parameters: every other one keeps its default."""
    return {n: REQUIRED[n] for n, p in parameters(env_id).items() if p.default is p.empty}


def override_kwargs(env_id: str) -> dict[str, Any]:
    kwargs = default_kwargs(env_id)
    kwargs.update({n: OVERRIDES[n] for n in parameters(env_id) if n in OVERRIDES})
    return kwargs


def env_cases() -> list:
    """``pytest.param((id, kwargs))`` for every registered id: defaults, overrides, extra cases.

    An env whose optional dependencies are missing is kept, as a case that skips and says why.
    """
    cases = []
    for env_id in ro_bench.list_envs():
        cases.append((env_id, default_kwargs(env_id)))
        if override_kwargs(env_id) != default_kwargs(env_id):
            cases.append((env_id, override_kwargs(env_id)))
    return [_skip_if_missing(case) for case in cases + EXTRA_CASES]


def _skip_if_missing(case: tuple[str, dict[str, Any]]):
    env_spec = ro_bench.spec(case[0])
    marks = []
    if not env_spec.available:
        why = f"{env_spec.id} needs {env_spec.requires}: pip install 'ro-bench[{env_spec.extra}]'"
        marks.append(pytest.mark.skip(reason=why))
    return pytest.param(case, marks=marks, id=case_id(case))


def available_envs() -> list[str]:
    return [env_id for env_id in ro_bench.list_envs() if ro_bench.spec(env_id).available]


def case_id(case) -> str:
    env_id, kwargs = case
    return env_id + "".join(f"-{k}={v}" for k, v in kwargs.items() if k not in REQUIRED)


@pytest.fixture(autouse=True, scope="session")
def _work_in_a_temporary_directory(tmp_path_factory):
    """MuJoCo appends warnings to MUJOCO_LOG.TXT in the working directory: keep it out of the repo."""
    previous = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("cwd"))
    yield
    os.chdir(previous)


@pytest.fixture
def restore_process_state():
    """Agents seed the global RNGs and set torch's thread count and determinism when built; put
    all of it back after the test (``pytestmark = pytest.mark.usefixtures(...)`` in a module)."""
    import random

    import numpy as np
    import torch

    saved = (random.getstate(), np.random.get_state(), torch.get_rng_state(),
             torch.get_num_threads(), torch.are_deterministic_algorithms_enabled(),
             torch.is_deterministic_algorithms_warn_only_enabled())
    yield
    random.setstate(saved[0])
    np.random.set_state(saved[1])
    torch.set_rng_state(saved[2])
    torch.set_num_threads(saved[3])
    torch.use_deterministic_algorithms(saved[4], warn_only=saved[5])


def env_ids() -> list:
    """``pytest.param(id)`` for every registered id; an id whose optional dependencies are missing
    is kept, as a case that skips and says why."""
    return [pytest.param(env_id, marks=_skip_if_missing((env_id, {})).marks, id=env_id)
            for env_id in ro_bench.list_envs()]
