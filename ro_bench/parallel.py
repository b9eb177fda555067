"""The PettingZoo face of a batched env: a ``ParallelEnv`` over a ``VecEnv`` with ``num_envs=1``.

No dynamics live here: every step goes through the batched kernel, so the PettingZoo env and the
batched env cannot disagree. The face does not auto-reset: when the episode ends, ``agents``
becomes empty and the next ``reset`` starts a new episode, as PettingZoo expects.

Per-agent infos hold ``{"clipped": k}``, the number of components of that agent's action that were
clipped to its Box at this step (always 0 for discrete actions).

``step`` refuses an actions dict that misses an agent or names one that does not exist (the error
gives the nearest valid name), and bool actions. ``render()`` returns the kernel's frame of its one
env, or None (with PettingZoo's warning) when ``render_mode`` is None. After ``close()``, ``step``,
``reset`` and ``render`` raise ``gymnasium.error.ClosedEnvironmentError``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.error import ClosedEnvironmentError
from pettingzoo import ParallelEnv

from ro_bench.params import did_you_mean, holds_bool
from ro_bench.vector import BOOL_ACTIONS, VecEnv


class ParallelFace(ParallelEnv):
    """``ParallelEnv`` view of one env of a batched kernel."""

    def __init__(self, vec: VecEnv, name: str) -> None:
        if vec.num_envs != 1:
            raise ValueError(f"the PettingZoo face needs num_envs=1; got {vec.num_envs}")
        vec.autoreset = False
        self.vec = vec
        self.metadata = {"name": name, "render_modes": list(vec.render_modes),
                         "is_parallelizable": True}
        if vec.render_fps is not None:
            self.metadata["render_fps"] = vec.render_fps
        self.possible_agents = list(vec.agents)
        self.agents: list[str] = []
        self.observation_spaces = dict(vec.observation_spaces)
        self.action_spaces = dict(vec.action_spaces)
        self.state_space: spaces.Box = vec.state_space
        self._action_shape = vec.action_shape[1:]

    def observation_space(self, agent: str) -> spaces.Space:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        return self.action_spaces[agent]

    @property
    def render_mode(self) -> str | None:
        return self.vec.render_mode

    @property
    def optimum(self) -> float:
        """Best possible episode return (see the env's documentation)."""
        return self.vec.optimum

    @property
    def trap(self) -> float:
        """Episode return of the RO trap (see the env's documentation)."""
        return self.vec.trap

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, dict]]:
        self.check_open()
        obs, _ = self.vec.reset(seed=seed, options=options)
        self.agents = self.possible_agents[:]
        return dict(zip(self.agents, obs[0])), {a: {} for a in self.agents}

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        if not self.agents:
            self.check_open()
            raise RuntimeError("the episode is over (or has not started): call reset() first")
        try:
            values = [actions[a] for a in self.agents]
        except KeyError:
            raise ValueError(self._keys_message(actions)) from None
        if len(actions) > len(values):
            raise ValueError(self._keys_message(actions))
        if any(map(holds_bool, values)):  # checked per agent: np.array([True, 0.5]) is floats
            raise ValueError(BOOL_ACTIONS)
        try:
            joint = np.array(values)
        except ValueError:
            raise ValueError(self._shape_message(actions)) from None
        if joint.shape[1:] != self._action_shape:
            raise ValueError(self._shape_message(actions))
        obs, rewards, terminated, truncated, infos = self.vec.step(joint[None])
        agents = self.agents
        if terminated[0, 0] or truncated[0, 0]:
            self.agents = []
        clipped = infos["clipped"][0].tolist()
        return (
            dict(zip(agents, obs[0])),
            dict(zip(agents, rewards[0].tolist())),
            dict(zip(agents, terminated[0].tolist())),
            dict(zip(agents, truncated[0].tolist())),
            {a: {"clipped": k} for a, k in zip(agents, clipped)},
        )

    def _keys_message(self, actions: dict[str, Any]) -> str:
        """What is wrong with the keys of ``actions``: missing agents, unknown names, or both."""
        missing = [a for a in self.agents if a not in actions]
        unknown = [k for k in actions if k not in self.agents]
        problems = []
        if missing:
            problems.append(f"has no entry for agent{'s' * (len(missing) > 1)} "
                            f"{', '.join(map(repr, missing))}")
        if unknown:
            problems.append(f"names unknown agent{'s' * (len(unknown) > 1)} "
                            f"{', '.join(map(repr, unknown))}")
        hints = "".join(did_you_mean(k, self.agents) for k in unknown if isinstance(k, str))
        return f"actions {' and '.join(problems)}; valid agents: {', '.join(self.agents)}.{hints}"

    def _shape_message(self, actions: dict[str, Any]) -> str:
        want = "an int" if self.vec.discrete else f"an array of shape {self._action_shape}"
        got = {a: np.shape(actions[a]) for a in self.agents}
        return f"each agent's action must be {want}; got shapes {got}"

    def state(self) -> np.ndarray:
        return self.vec.state()[0]

    def render(self) -> np.ndarray | None:
        self.check_open()
        frames = self.vec.render()
        return None if frames is None else frames[0]

    def close(self) -> None:
        self.vec.close()
        self.agents = []

    def check_open(self) -> None:
        """Raise ``ClosedEnvironmentError`` if the env is closed."""
        if self.vec.closed:
            name = self.metadata["name"]
            raise ClosedEnvironmentError(
                f"{name} is closed: make a new one with ro_bench.make({name!r}) to step or reset"
            )
