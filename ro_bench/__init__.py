"""ro-bench: a benchmark suite for relative over-generalization in cooperative multi-agent RL."""

from ro_bench.registry import (
    EnvSpec,
    MissingDependencyError,
    UnknownEnvironmentError,
    list_envs,
    make,
    make_aec,
    make_vec,
    register,
    spec,
)

import ro_bench.envs  # noqa: E402,F401  (registers every environment)

__version__ = "0.1.0"
__all__ = [
    "EnvSpec",
    "MissingDependencyError",
    "UnknownEnvironmentError",
    "list_envs",
    "make",
    "make_aec",
    "make_vec",
    "register",
    "spec",
]
