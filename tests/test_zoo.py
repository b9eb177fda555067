"""Every algorithm of the zoo plays every protocol's env: it acts, learns for a few steps, and its
execution is decentralized (the harness's check), or the algorithm refuses the env clearly."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

pytest.importorskip("torch")

import algorithms  # noqa: E402
import ro_bench  # noqa: E402
from algorithms.config import override  # noqa: E402
from ro_bench import harness, protocols  # noqa: E402
from ro_bench.evaluation import is_decentralized  # noqa: E402

# One protocol per env: the others differ only in parameters.
ENV_PROTOCOLS = list({protocols.get(p).env_id: p for p in reversed(protocols.list())}.values())
SMALL = {"batch_size": 16, "policy_batch_size": 4, "particles": 8, "fixed_particles": 4,
         "update_every": 1,
         "value_samples": 4}
STEPS = 6


def small_config(config_cls: type, protocol: protocols.Protocol, spaces) -> object:
    names = {f.name for f in dataclasses.fields(config_cls)}
    values = {k: v for k, v in SMALL.items() if k in names}
    values |= {k: 2 for k in ("learning_starts", "warmup_steps") if k in names}
    if "warmup_fraction" in names:  # MMQ: uniform random actions for a share of the budget
        values["warmup_fraction"] = 2 / protocol.budget
    values |= harness.budget_fields(config_cls, protocol)
    if "actions" in names:  # the fixed agent: the centre of every action box
        values["actions"] = [0.0] * spaces.n_agents
    return override(config_cls(), values)


@pytest.mark.parametrize("protocol_name", ENV_PROTOCOLS)
@pytest.mark.parametrize("algo", algorithms.list_algorithms())
def test_algorithm_plays_protocol(algo: str, protocol_name: str) -> None:
    protocol = protocols.get(protocol_name)
    agent_cls, config_cls = algorithms.get(algo)
    env = ro_bench.make_vec(protocol.env_id, 2, **protocol.env_kwargs)
    spaces = algorithms.EnvSpaces.from_vec(env)
    agent = agent_cls(small_config(config_cls, protocol, spaces), spaces, 0)
    obs, _ = env.reset(seed=0)
    for _ in range(STEPS):
        obs = harness._train_step(agent, env, obs)
    actions = agent.act(obs, explore=False)
    assert actions.shape == (2, spaces.n_agents, *spaces.action_spaces[0].shape)
    assert np.isfinite(actions).all()
    assert is_decentralized(agent, obs, np.random.default_rng(0))


@pytest.mark.parametrize("algo", algorithms.list_algorithms())
def test_float_fields_refuse_infinite_and_nan_overrides(algo: str) -> None:
    _, config_cls = algorithms.get(algo)
    floats = [f.name for f in dataclasses.fields(config_cls)
              if isinstance(getattr(config_cls(), f.name), float)]
    if not floats:
        pytest.skip(f"{algo}'s config has no float field")
    for name in floats:
        for value in (float("inf"), -float("inf"), float("nan")):
            with pytest.raises(ValueError, match=f"{name} must be a finite number"):
                override(config_cls(), {name: value})
