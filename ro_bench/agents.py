"""The contract between the harness and every algorithm, zoo or not.

An agent is built as ``AgentClass(config, spaces, seed)`` from a frozen config dataclass (the
class names it in ``config_class``; ``ro_bench.configs`` turns ``--config key=value`` into one),
the env's spaces and a seed, and is never handed the experiment. The harness owns the env loop:

- ``act(obs, *, explore) -> actions`` maps observations ``[B, n_agents, obs_dim]`` to actions
  ``[B, n_agents, act_dim]`` (or ``[B, n_agents]`` integers for discrete envs). ``explore=False``
  is the evaluation policy. Each agent's action must depend only on its own observation (the
  harness checks this: decentralized execution).
- ``observe(transitions)`` receives every batch of transitions the env produced.
- ``update() -> dict[str, float]`` is called after every ``observe``; the agent learns on its own
  schedule and returns the metrics of what it did (an empty dict when it did nothing), named
  ``"group/name"`` as ``"losses/critic"`` or ``"charts/alpha"``. The harness logs them to
  ``metrics.csv`` and TensorBoard.
- ``save(path)`` / ``load(path)`` write and read everything the agent needs to continue exactly
  where it stopped (weights, optimizers, replay buffer, random states), in the directory ``path``.
  Files must be loadable without unpickling arbitrary objects (``torch.load(weights_only=True)``,
  ``numpy.load(allow_pickle=False)``, JSON).
- Optionally, ``shared_by_copies() -> tuple`` names objects that ``act`` never reads or
  changes (replay buffers): the copies the harness takes to check decentralized execution share
  them instead of copying them (``ro_bench.evaluation.acting_copy``).

ro-bench's tasks are cooperative: every agent gets the team's reward and every episode ends for
the whole team, so ``Transitions`` carries the reward and the done flags once per env.
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
    reward: np.ndarray  # [B], the team's
    next_obs: np.ndarray  # [B, n_agents, obs_dim], the final observation where an episode ended
    next_state: np.ndarray  # [B, state_dim], likewise
    terminated: np.ndarray  # [B] bool
    truncated: np.ndarray  # [B] bool

    @classmethod
    def from_step(cls, obs: np.ndarray, state: np.ndarray, actions: np.ndarray,
                  rewards: np.ndarray, next_obs: np.ndarray, next_state: np.ndarray,
                  terminated: np.ndarray, truncated: np.ndarray) -> Transitions:
        """From a batched env's per-agent ``[B, n_agents]`` rewards and flags, which must agree
        across the agents of each env (a cooperative task); ValueError naming the env otherwise."""
        team = {}
        for name, values in (("rewards", rewards), ("terminated", terminated),
                             ("truncated", truncated)):
            values = np.asarray(values)
            unequal = values != values[:, :1]
            if unequal.any():  # the index is looked for only on the way to the error
                env = int(np.flatnonzero(unequal.any(axis=1))[0])
                raise ValueError(
                    f"the agents' {name} differ in env {env} of the batch "
                    f"({values[env].tolist()}): ro-bench trains cooperative teams, whose "
                    "agents share one reward and end their episodes together")
            team[name] = values[:, 0]
        return cls(obs=obs, state=state, actions=actions, reward=team["rewards"],
                   next_obs=next_obs, next_state=next_state, terminated=team["terminated"],
                   truncated=team["truncated"])


@runtime_checkable
class Agent(Protocol):
    config_class: ClassVar[type]

    def __init__(self, config: Any, spaces: EnvSpaces, seed: int) -> None: ...

    def act(self, obs: np.ndarray, *, explore: bool) -> np.ndarray: ...

    def observe(self, transitions: Transitions) -> None: ...

    def update(self) -> dict[str, float]: ...

    def save(self, path: Path) -> None: ...

    def load(self, path: Path) -> None: ...
