"""Particle Gather built on mpe2's own engine: the reference our kernel is checked against.

The scenario uses mpe2's ``World``, ``Agent`` and ``Landmark`` with their defaults and runs
through mpe2's ``SimpleEnv`` (continuous actions, wrapped by ``make_env`` so that mpe2 clips
out-of-range actions itself). mpe2 has one agent per particle with a 5-component action
``[no-op, left, right, down, up]``; ``mpe2_action`` encodes an x-agent's and a y-agent's scalar
actions into it, so that mpe2's ``u = [a[2] - a[1], a[4] - a[3]]`` gives back exactly the pair.

Needs the ``mpe2`` package (in the ``dev`` extra).
"""

from __future__ import annotations

import numpy as np
from mpe2._mpe_utils.core import Agent, Landmark, World
from mpe2._mpe_utils.scenario import BaseScenario
from mpe2._mpe_utils.simple_env import SimpleEnv, make_env
from pettingzoo.utils.conversions import parallel_wrapper_fn


class GatherScenario(BaseScenario):
    """Two colliding particles and one non-colliding landmark, all with mpe2's defaults."""

    def __init__(self, landmark=(0.0, 0.0), reach: float = 0.2, start_radius: float = 1.0):
        self.landmark = np.array(landmark, dtype=np.float64)
        self.reach = reach
        self.start_radius = start_radius
        self.start: tuple[np.ndarray, np.ndarray] | None = None  # (pos [2, 2], vel [2, 2])

    def make_world(self) -> World:
        world = World()
        world.dim_c = 0
        world.agents = [Agent() for _ in range(2)]
        for i, agent in enumerate(world.agents):
            agent.name, agent.silent, agent.collide = f"particle_{i}", True, True
        landmark = Landmark()
        landmark.name, landmark.collide, landmark.movable = "landmark", False, False
        world.landmarks = [landmark]
        return world

    def reset_world(self, world: World, np_random) -> None:
        if self.start is None:
            angles = np_random.uniform(0.0, 2 * np.pi, size=2)
            offsets = np.stack([np.cos(angles), np.sin(angles)], axis=-1) * self.start_radius
            pos, vel = self.landmark + offsets, np.zeros((2, 2))
        else:
            pos, vel = self.start
        for i, agent in enumerate(world.agents):
            agent.color = np.zeros(3)
            agent.state.p_pos, agent.state.p_vel = pos[i].copy(), vel[i].copy()
            agent.state.c = np.zeros(0)
        world.landmarks[0].color = np.zeros(3)
        world.landmarks[0].state.p_pos = self.landmark.copy()
        world.landmarks[0].state.p_vel = np.zeros(2)

    def reward(self, agent: Agent, world: World) -> float:
        landmark = world.landmarks[0].state.p_pos
        inside = sum(
            np.sqrt(np.sum(np.square(a.state.p_pos - landmark))) <= self.reach
            for a in world.agents
        )
        return (0.0, -2.0, 5.0)[inside]

    def observation(self, agent: Agent, world: World) -> np.ndarray:
        parts = [np.concatenate([a.state.p_pos, a.state.p_vel]) for a in world.agents]
        return np.concatenate(parts + [world.landmarks[0].state.p_pos])


class GatherMPE(SimpleEnv):
    """The scenario as an mpe2 ``SimpleEnv`` with continuous actions and 25-step episodes."""

    metadata = {**SimpleEnv.metadata, "name": "particle_gather_mpe2"}

    def __init__(self, max_cycles: int = 25, **scenario_kwargs):
        scenario = GatherScenario(**scenario_kwargs)
        super().__init__(scenario, scenario.make_world(), max_cycles, continuous_actions=True)


aec_env = make_env(GatherMPE)
parallel_env = parallel_wrapper_fn(aec_env)


def mpe2_action(a_x: float, a_y: float) -> np.ndarray:
    """mpe2's 5-component action for one particle from its x- and y-agents' float32 actions."""
    a_x, a_y = np.float32(a_x), np.float32(a_y)
    zero = np.float32(0)
    return np.array(
        [zero, max(zero, -a_x), max(zero, a_x), max(zero, -a_y), max(zero, a_y)], np.float32
    )
