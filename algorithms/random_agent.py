"""Random: every agent samples its action uniformly from its action space, always.

The leaderboards' floor, and a test double for the harness. It learns nothing; its only state is
its random generator, which ``save``/``load`` keep so that a resumed run continues the same draws.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ro_bench.agents import EnvSpaces, Transitions


@dataclass(frozen=True)
class RandomConfig:
    """The random agent has nothing to configure."""


class RandomAgent:
    config_class = RandomConfig

    def __init__(self, config: RandomConfig, spaces: EnvSpaces, seed: int) -> None:
        self.config = config
        self.spaces = spaces
        self.rng = np.random.default_rng(seed)

    def act(self, obs: np.ndarray, *, explore: bool) -> np.ndarray:
        batch = len(obs)
        if self.spaces.discrete:
            n = np.array([s.n for s in self.spaces.action_spaces])
            return self.rng.integers(0, n, size=(batch, len(n)))
        low = np.stack([s.low for s in self.spaces.action_spaces])
        high = np.stack([s.high for s in self.spaces.action_spaces])
        return self.rng.uniform(low, high, size=(batch, *low.shape)).astype(np.float32)

    def observe(self, transitions: Transitions) -> None:
        pass

    def update(self) -> dict[str, float]:
        return {}

    def save(self, path: Path) -> None:
        Path(path).mkdir(parents=True, exist_ok=True)
        (Path(path) / "rng.json").write_text(json.dumps(self.rng.bit_generator.state))

    def load(self, path: Path) -> None:
        self.rng.bit_generator.state = json.loads((Path(path) / "rng.json").read_text())


