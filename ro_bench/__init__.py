"""ro-bench: a benchmark suite for relative over-generalization in cooperative multi-agent RL."""

from importlib import metadata

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

try:
    __version__ = metadata.version("ro-bench")  # pyproject.toml holds the one version number
except metadata.PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "unknown"
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
