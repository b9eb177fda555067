"""The ro-bench algorithm zoo: agents behind one small interface, found by name.

``get(name)`` returns an algorithm's ``(Agent class, Config class)``; ``list_algorithms()`` the
names. Built-in agents register in ``algorithms/registry.py``. External ones plug in through the
entry-point group ``ro_bench.algorithms`` (``name = "module:Class"``) or are loaded directly as
``"module:Class"``; the class names its config dataclass in its ``config_class`` attribute.
"""

from algorithms.base import Agent, EnvSpaces, Transitions
from algorithms.registry import get, list_algorithms, register

__all__ = ["Agent", "EnvSpaces", "Transitions", "get", "list_algorithms", "register"]
