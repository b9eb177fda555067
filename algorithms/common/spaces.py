"""The action box that the zoo's continuous-action methods squash their actions into."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from gymnasium import spaces as gym_spaces

from ro_bench.agents import EnvSpaces


@dataclass(frozen=True)
class ActionBox:
    """Every agent's bounded 1-D Box, as float64 ``low`` and ``high`` of shape ``[n, d]``."""

    low: np.ndarray
    high: np.ndarray

    @classmethod
    def of(cls, spaces: EnvSpaces, method: str) -> ActionBox:
        """The box of ``spaces``; ValueError unless every agent acts in a bounded 1-D Box of one
        size. ``method`` names the algorithm in the errors."""
        boxes = spaces.action_spaces
        if not all(isinstance(s, gym_spaces.Box) for s in boxes):
            raise ValueError(f"{method} needs continuous (Box) actions; this env's are "
                             f"{type(boxes[0]).__name__}. Matrix games offer "
                             "continuous_actions=True.")
        shapes = {s.shape for s in boxes}
        if len(shapes) != 1 or len(next(iter(shapes))) != 1:
            raise ValueError(f"{method} needs every agent's actions in a 1-D Box of one size; "
                             f"got {shapes}")
        low = np.stack([s.low for s in boxes]).astype(np.float64)
        high = np.stack([s.high for s in boxes]).astype(np.float64)
        if not (np.isfinite(low).all() and np.isfinite(high).all()):
            raise ValueError(f"{method} squashes actions into the action box, which must be "
                             "bounded")
        return cls(low, high)

    def to_env(self, unit: np.ndarray) -> np.ndarray:
        """Actions in [-1, 1] ``[B, n, d]`` as the env's, float32."""
        return (self.low + (unit + 1.0) * 0.5 * (self.high - self.low)).astype(np.float32)

    def to_unit(self, actions: np.ndarray) -> np.ndarray:
        """The env's actions ``[B, n, d]`` back in [-1, 1], float32 (clipped: float32 rounding
        can put an action a hair outside its box)."""
        scaled = 2.0 * (np.asarray(actions, np.float64) - self.low) / (self.high - self.low)
        return np.clip(scaled - 1.0, -1.0, 1.0).astype(np.float32)
