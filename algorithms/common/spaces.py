"""The action boxes that the zoo's continuous-action methods squash their actions into."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces as gym_spaces

from algorithms.base import EnvSpaces


def action_bounds(spaces: EnvSpaces, method: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-agent ``low`` and ``high`` as float64 ``[n, d]``: every agent must act in a bounded
    1-D Box of one size. ``method`` names the algorithm in the errors."""
    boxes = spaces.action_spaces
    if not all(isinstance(s, gym_spaces.Box) for s in boxes):
        raise ValueError(f"{method} needs continuous (Box) actions; this env's are "
                         f"{type(boxes[0]).__name__}. Matrix games offer continuous_actions=True.")
    shapes = {s.shape for s in boxes}
    if len(shapes) != 1 or len(next(iter(shapes))) != 1:
        raise ValueError(f"{method} needs every agent's actions in a 1-D Box of one size; got "
                         f"{shapes}")
    low = np.stack([s.low for s in boxes]).astype(np.float64)
    high = np.stack([s.high for s in boxes]).astype(np.float64)
    if not (np.isfinite(low).all() and np.isfinite(high).all()):
        raise ValueError(f"{method} squashes actions into the action box, which must be bounded")
    return low, high
