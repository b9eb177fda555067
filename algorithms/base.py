"""The interface every ro-bench algorithm implements, and what the harness hands it.

An agent is built as ``AgentClass(config, spaces, seed)`` from a frozen config dataclass, the
env's spaces and a seed, and is never handed the experiment. The harness owns the env loop:

- ``act(obs, *, explore) -> actions`` maps observations ``[B, n_agents, obs_dim]`` to actions
  ``[B, n_agents, act_dim]`` (or ``[B, n_agents]`` integers for discrete envs). ``explore=False``
  is the evaluation policy. Each agent's action must depend only on its own observation (the
  harness checks this: decentralized execution).
- ``observe(transitions)`` receives every batch of transitions the env produced.
- ``update() -> dict[str, float]`` is called after every ``observe``; the agent learns on its own
  schedule and returns the metrics of what it did (an empty dict when it did nothing).
- ``save(path)`` / ``load(path)`` write and read everything the agent needs to continue exactly
  where it stopped (weights, optimizers, replay buffer, random states), in the directory ``path``.
  Files must be loadable without unpickling arbitrary objects (``torch.load(weights_only=True)``,
  ``numpy.load(allow_pickle=False)``, JSON).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np
from gymnasium import spaces as gym_spaces


@dataclass(frozen=True)
class EnvSpaces:
    """The spaces of a batched env, as an agent sees them."""

    agents: tuple[str, ...]
    observation_space: gym_spaces.Box  # one agent's (all agents share its shape)
    action_spaces: tuple[gym_spaces.Space, ...]  # per agent, in ``agents`` order
    state_space: gym_spaces.Box

    @classmethod
    def from_vec(cls, vec: Any) -> EnvSpaces:
        return cls(
            agents=tuple(vec.agents),
            observation_space=vec.observation_space,
            action_spaces=tuple(vec.action_spaces[a] for a in vec.agents),
            state_space=vec.state_space,
        )

    @property
    def n_agents(self) -> int:
        return len(self.agents)

    @property
    def discrete(self) -> bool:
        return isinstance(self.action_spaces[0], gym_spaces.Discrete)


@dataclass(frozen=True)
class Transitions:
    """One step of a batch of envs; every array has a leading ``[B]`` dimension."""

    obs: np.ndarray  # [B, n_agents, obs_dim]
    state: np.ndarray  # [B, state_dim]
    actions: np.ndarray  # [B, n_agents, act_dim] or [B, n_agents]
    rewards: np.ndarray  # [B, n_agents]
    next_obs: np.ndarray  # [B, n_agents, obs_dim], the final observation where an episode ended
    next_state: np.ndarray  # [B, state_dim], likewise
    terminated: np.ndarray  # [B, n_agents]
    truncated: np.ndarray  # [B, n_agents]


@runtime_checkable
class Agent(Protocol):
    config_class: ClassVar[type]

    def __init__(self, config: Any, spaces: EnvSpaces, seed: int) -> None: ...

    def act(self, obs: np.ndarray, *, explore: bool) -> np.ndarray: ...

    def observe(self, transitions: Transitions) -> None: ...

    def update(self) -> dict[str, float]: ...

    def save(self, path: Path) -> None: ...

    def load(self, path: Path) -> None: ...
