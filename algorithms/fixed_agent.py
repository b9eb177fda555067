"""Fixed: the team plays one given joint action, always.

A test double for the harness and a reference point for the leaderboards: the fixed agent playing
a game's optimum (``--config actions=[7,7,-4]`` on ``max_of_three``) must score the optimum.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ro_bench.agents import EnvSpaces, Transitions


@dataclass(frozen=True)
class FixedConfig:
    actions: tuple[float, ...] = field(
        default=(),
        metadata={"help": "the joint action: every agent's action, flattened in agent order"},
    )


class FixedAgent:
    config_class = FixedConfig

    def __init__(self, config: FixedConfig, spaces: EnvSpaces, seed: int) -> None:
        self.config = config
        shape = (spaces.n_agents,) if spaces.discrete else (
            spaces.n_agents, *spaces.action_spaces[0].shape)
        if len(config.actions) != int(np.prod(shape)):
            raise ValueError(
                f"fixed needs --config actions=[...] with {int(np.prod(shape))} numbers "
                f"(agents {', '.join(spaces.agents)}); got {list(config.actions)}"
            )
        dtype = np.int64 if spaces.discrete else np.float32
        self.joint_action = np.array(config.actions, dtype=dtype).reshape(shape)

    def act(self, obs: np.ndarray, *, explore: bool) -> np.ndarray:
        return np.broadcast_to(self.joint_action, (len(obs), *self.joint_action.shape)).copy()

    def observe(self, transitions: Transitions) -> None:
        pass

    def update(self) -> dict[str, float]:
        return {}

    def save(self, path: Path) -> None:
        Path(path).mkdir(parents=True, exist_ok=True)  # nothing changes during training

    def load(self, path: Path) -> None:
        pass
