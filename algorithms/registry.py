"""Algorithm names -> (Agent class, Config class), plus external algorithms.

The built-in algorithms are registered at the bottom of this file, the one list of them.
"""

from __future__ import annotations

import importlib
from importlib import metadata

from ro_bench.params import did_you_mean

ENTRY_POINT_GROUP = "ro_bench.algorithms"
_REGISTRY: dict[str, str] = {}  # name -> "module:Class", imported on first use


def register(name: str, entry_point: str) -> None:
    """Register an agent class under ``name`` (an error if the name is taken)."""
    if name in _REGISTRY:
        raise ValueError(f"algorithm {name!r} is already registered")
    _REGISTRY[name] = entry_point


def list_algorithms() -> list[str]:
    """Built-in names, then those of installed packages' ``ro_bench.algorithms`` entry points."""
    external = [ep.name for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)]
    return list(_REGISTRY) + [n for n in external if n not in _REGISTRY]


def get(name: str) -> tuple[type, type]:
    """``(AgentClass, ConfigClass)`` for a registered name, an entry point or ``module:Class``."""
    entry_point = _REGISTRY.get(name)
    if entry_point is None:
        found = metadata.entry_points(group=ENTRY_POINT_GROUP, name=name)
        entry_point = next(iter(found)).value if found else None
    if entry_point is None and ":" in name:
        entry_point = name
    if entry_point is None:
        hint = did_you_mean(name, list_algorithms()) or f" Known: {', '.join(list_algorithms())}."
        raise ValueError(f"unknown algorithm {name!r}.{hint} Or give an external one as module:Class.")
    module_name, _, attr = entry_point.partition(":")
    try:
        agent_cls = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"cannot load algorithm {entry_point!r}: {error}") from error
    config_cls = getattr(agent_cls, "config_class", None)
    if config_cls is None:
        raise ValueError(f"{entry_point} must name its config dataclass in `config_class`")
    return agent_cls, config_cls


register("random", "algorithms.random_agent:RandomAgent")
register("fixed", "algorithms.fixed_agent:FixedAgent")
register("svnr", "algorithms.svnr:SVNR")
register("svnr-m", "algorithms.svnr:SVNRM")
register("svnr-f", "algorithms.svnr:SVNRF")
register("maddpg", "algorithms.maddpg:MADDPG")
register("masql", "algorithms.masql:MASQL")
register("pr2", "algorithms.pr2:PR2")
register("mmq", "algorithms.mmq:MMQ")
register("rommeo", "algorithms.rommeo:ROMMEO")
