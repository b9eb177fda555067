"""ro-bench envs in the shape PettingZoo's test kit (``pettingzoo.test``) asks for.

Most of the kit takes an env or a constructor, and ``ro_bench.make`` / ``ro_bench.make_aec``
serve it directly. ``max_cycles_test(mod)`` takes a module like PettingZoo's own env modules
(``pettingzoo.butterfly.pistonball_v6``), whose ``parallel_env(max_cycles=...)`` and
``env(max_cycles=...)`` build the env with episodes of at most ``max_cycles`` steps.
``pettingzoo_module(env_id)`` is that module for a ro-bench id: ``max_cycles`` becomes the env's
own episode-length parameter, ``episode_length`` (matrix games, ``differential_game``, Particle
Gather) or ``max_episode_steps`` (MaMuJoCo).

``max_of_three``, ``two_modalities`` and ``max_of_two`` have no episode-length parameter: each is
the paper's one-shot game, one step by definition, so there is nothing for ``max_cycles`` to set
and ``max_cycles_test`` does not apply to them. Passing ``max_cycles`` to them raises
``ValueError``. Their generic form, ``differential_game``, takes ``episode_length``.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from pettingzoo import AECEnv, ParallelEnv

from ro_bench.registry import make, make_aec, spec

EPISODE_LENGTH_PARAMETERS = ("episode_length", "max_episode_steps")


def episode_length_parameter(env_id: str) -> str | None:
    """The name of ``env_id``'s episode-length parameter, or None for a one-shot game."""
    params = inspect.signature(spec(env_id).load().__init__).parameters
    return next((name for name in EPISODE_LENGTH_PARAMETERS if name in params), None)


@dataclass(frozen=True)
class PettingZooModule:
    """A PettingZoo-style env module for ``env_id`` with fixed ``kwargs`` (see the module doc)."""

    env_id: str
    kwargs: Mapping[str, Any]

    def parallel_env(self, max_cycles: int | None = None, **kwargs: Any) -> ParallelEnv:
        return make(self.env_id, **self._kwargs(max_cycles, kwargs))

    def env(self, max_cycles: int | None = None, **kwargs: Any) -> AECEnv:
        return make_aec(self.env_id, **self._kwargs(max_cycles, kwargs))

    def _kwargs(self, max_cycles: int | None, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        merged = {**self.kwargs, **kwargs}
        if max_cycles is not None:
            name = episode_length_parameter(self.env_id)
            if name is None:
                raise ValueError(
                    f"max_cycles does not apply to {self.env_id}: a one-shot game with no "
                    f"episode length (parameters with one: {', '.join(EPISODE_LENGTH_PARAMETERS)})"
                )
            merged[name] = max_cycles
        return merged


def pettingzoo_module(env_id: str, **kwargs: Any) -> PettingZooModule:
    """The PettingZoo-style module of ``env_id``; ``kwargs`` go to every env it makes."""
    spec(env_id)  # an unknown id fails here, naming the closest ones
    return PettingZooModule(env_id, MappingProxyType(dict(kwargs)))
