"""Algorithms by name: ``get(name) -> (Agent class, Config class)`` and ``names()``.

ro-bench knows no algorithm of its own. Packages register theirs under the entry-point group
``ro_bench.algorithms`` (``name = "module:Class"`` in their ``pyproject.toml``), as the zoo that
ships beside ro-bench does; an algorithm can also be named directly as ``"module:Class"``, or
registered for this process with ``register``. Only the module of the algorithm asked for is
imported. The class names its config dataclass in its ``config_class`` attribute.
"""

from __future__ import annotations

import importlib
from importlib import metadata

from ro_bench.params import did_you_mean

ENTRY_POINT_GROUP = "ro_bench.algorithms"
_REGISTERED: dict[str, str] = {}  # name -> "module:Class", registered in this process


def register(name: str, entry_point: str) -> None:
    """Register ``"module:Class"`` under ``name`` for this process (an error if it is taken)."""
    if name in names():
        raise ValueError(f"algorithm {name!r} is already registered")
    _REGISTERED[name] = entry_point


def entry_points() -> dict[str, str]:
    """Every name with its ``"module:Class"``: installed packages' entry points, in the order
    they declare them, then those registered in this process."""
    installed = {ep.name: ep.value for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}
    return installed | _REGISTERED


def names() -> list[str]:
    return list(entry_points())


def get(name: str) -> tuple[type, type]:
    """``(AgentClass, ConfigClass)`` for a registered name or ``module:Class``."""
    known = entry_points()
    entry_point = known.get(name)
    if entry_point is None and ":" in name:
        entry_point = name
    if entry_point is None:
        hint = did_you_mean(name, known) or f" Known: {', '.join(known) or 'none'}."
        raise ValueError(f"unknown algorithm {name!r}.{hint} Or give an external one as "
                         "module:Class.")
    module_name, _, attr = entry_point.partition(":")
    try:
        agent_cls = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"cannot load algorithm {entry_point!r}: {error}") from error
    config_cls = getattr(agent_cls, "config_class", None)
    if config_cls is None:
        raise ValueError(f"{entry_point} must name its config dataclass in `config_class`")
    return agent_cls, config_cls
