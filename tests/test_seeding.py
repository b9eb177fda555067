"""Seeding: the same seed gives the same whole episodes, not just the same first step."""

from __future__ import annotations

import pytest
from gymnasium.utils.env_checker import data_equivalence

import ro_bench
from conftest import env_cases

EPISODES = 4


def rollout(env, seed: int) -> list:
    """Every output of ``EPISODES`` episodes: the first reset seeded, later ones not."""
    for i, agent in enumerate(env.possible_agents):
        env.action_space(agent).seed(seed + i)
    record = []
    for episode in range(EPISODES):
        obs, infos = env.reset(seed=seed if episode == 0 else None)
        record.append((obs, infos, env.state()))
        while env.agents:
            actions = {a: env.action_space(a).sample() for a in env.agents}
            record.append((actions, env.step(actions), env.state()))
    return record


@pytest.mark.parametrize("case", env_cases())
def test_same_seed_same_episodes(case):
    env_id, kwargs = case
    first = rollout(ro_bench.make(env_id, **kwargs), seed=42)
    second = rollout(ro_bench.make(env_id, **kwargs), seed=42)
    assert len(first) > EPISODES
    assert len(first) == len(second)
    for step, (a, b) in enumerate(zip(first, second)):
        assert data_equivalence(a, b), f"{env_id}: trajectories differ at record {step}"


@pytest.mark.parametrize("case", env_cases())
def test_reseeding_one_env_replays_it(case):
    env_id, kwargs = case
    env = ro_bench.make(env_id, **kwargs)
    assert data_equivalence(rollout(env, seed=7), rollout(env, seed=7))
