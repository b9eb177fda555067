"""The environment registry: one frozen ``EnvSpec`` per id, behind ``make``, ``make_aec`` and
``make_vec``.

Every id is registered once, in ``ro_bench/envs/__init__.py``. Registering an id also registers it
in PettingZoo's own registry as ``ro_bench/<id>-v<version>``, so code written against PettingZoo
can call ``pettingzoo.make("parallel", "ro_bench/max_of_three", s2=1.5)`` after ``import ro_bench``.

Every face takes ``render_mode`` besides the env's own parameters: None, or one of the env class's
``render_modes`` (which the faces' ``metadata["render_modes"]`` lists).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import inspect
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import pettingzoo
from pettingzoo import AECEnv
from pettingzoo.utils.conversions import parallel_to_aec_wrapper
from pettingzoo.utils.wrappers import OrderEnforcingWrapper

from ro_bench.parallel import ParallelFace
from ro_bench.vector import VecEnv
from ro_bench.params import did_you_mean

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
PETTINGZOO_NAMESPACE = "ro_bench"


class UnknownEnvironmentError(ValueError):
    """Raised for an id that is not registered."""


class MissingDependencyError(ImportError):
    """Raised when an env's optional dependencies (a pip extra) are not installed."""


@dataclass(frozen=True)
class EnvSpec:
    """What ro-bench knows about one environment id.

    ``entry_point`` is a ``"module:Class"`` string naming the batched ``VecEnv`` class; it is
    imported only when the env is made. ``kwargs`` are defaults passed on every ``make``.
    ``requires`` names the modules the env needs beyond the core install, and ``extra`` the pip
    extra of ro-bench that installs them.
    """

    id: str
    entry_point: str
    family: str
    version: int = 0
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    requires: tuple[str, ...] = ()
    extra: str | None = None

    def __post_init__(self) -> None:
        if not ID_PATTERN.match(self.id):
            raise ValueError(f"env id must be lowercase snake_case; got {self.id!r}")
        if not isinstance(self.entry_point, str) or ":" not in self.entry_point:
            raise ValueError(f"entry_point must be 'module:Class'; got {self.entry_point!r}")
        object.__setattr__(self, "kwargs", MappingProxyType(dict(self.kwargs)))

    @property
    def pettingzoo_id(self) -> str:
        return f"{PETTINGZOO_NAMESPACE}/{self.id}-v{self.version}"

    @property
    def available(self) -> bool:
        """Whether the modules this env requires are installed."""
        return all(importlib.util.find_spec(name) is not None for name in self.requires)

    def load(self) -> type[VecEnv]:
        """Import and return the batched env class."""
        if not self.available:
            missing = [n for n in self.requires if importlib.util.find_spec(n) is None]
            raise MissingDependencyError(
                f"{self.id} needs {', '.join(missing)}: pip install 'ro-bench[{self.extra}]'"
            )
        module, attr = self.entry_point.split(":")
        return getattr(importlib.import_module(module), attr)

    @property
    def doc(self) -> str:
        """The env's documentation page (its module docstring)."""
        return inspect.getmodule(self.load()).__doc__ or ""


_REGISTRY: dict[str, EnvSpec] = {}


def register(
    id: str,
    entry_point: str,
    *,
    family: str,
    version: int = 0,
    kwargs: Mapping[str, Any] | None = None,
    requires: tuple[str, ...] = (),
    extra: str | None = None,
) -> EnvSpec:
    """Register an environment id (an error if the id is already registered)."""
    if id in _REGISTRY:
        raise ValueError(f"environment id {id!r} is already registered")
    env_spec = EnvSpec(id, entry_point, family, version, kwargs or {}, tuple(requires), extra)
    _REGISTRY[id] = env_spec
    pettingzoo.register("parallel", env_spec.pettingzoo_id, functools.partial(make, id))
    pettingzoo.register("aec", env_spec.pettingzoo_id, functools.partial(make_aec, id))
    return env_spec


def list_envs(family: str | None = None) -> list[str]:
    """Registered ids in registration order, optionally of one family."""
    return [i for i, s in _REGISTRY.items() if family is None or s.family == family]


def spec(id: str) -> EnvSpec:
    """The ``EnvSpec`` of a registered id; the error names the closest ids."""
    if not isinstance(id, str):
        raise UnknownEnvironmentError(f"environment id must be a str; got {id!r}")
    try:
        return _REGISTRY[id]
    except KeyError:
        hint = did_you_mean(id, _REGISTRY) or f" Registered ids: {', '.join(_REGISTRY)}."
        raise UnknownEnvironmentError(f"unknown environment id {id!r}.{hint}") from None


def make_vec(id: str, num_envs: int = 1, *, render_mode: str | None = None,
             **kwargs: Any) -> VecEnv:
    """The batched env of ``id`` with ``num_envs`` copies."""
    env_spec = spec(id)
    cls = env_spec.load()
    merged = {**env_spec.kwargs, **kwargs}
    _check_kwarg_names(id, cls, merged)
    render_mode = cls.check_render_mode(render_mode, id)
    vec = cls(num_envs, **merged)
    vec.render_mode = render_mode
    return vec


def make(id: str, **kwargs: Any) -> ParallelFace:
    """The PettingZoo ``ParallelEnv`` of ``id`` (the ``num_envs=1`` face of its batched kernel)."""
    return ParallelFace(make_vec(id, 1, **kwargs), name=id)


def make_aec(id: str, **kwargs: Any) -> AECEnv:
    """The PettingZoo ``AECEnv`` of ``id``: ``make(id, **kwargs)`` through PettingZoo's
    ``parallel_to_aec`` (its wrappers, with ``render`` and ``close`` passed on)."""
    return OrderEnforcingWrapper(_ParallelToAEC(make(id, **kwargs)))


class _ParallelToAEC(parallel_to_aec_wrapper):
    """PettingZoo's ``parallel_to_aec_wrapper``, which (in PettingZoo 1.27) passes neither
    ``render`` nor ``close`` on to the parallel env, and only steps it after the last agent's
    action: a closed env must refuse every agent's step."""

    env: ParallelFace

    def step(self, action: Any) -> None:
        self.env.check_open()
        super().step(action)

    def render(self) -> Any:
        return self.env.render()

    def close(self) -> None:
        self.env.close()


def _check_kwarg_names(id: str, cls: type, kwargs: Mapping[str, Any]) -> None:
    params = inspect.signature(cls.__init__).parameters
    accepted = [n for n, p in params.items() if p.kind is p.KEYWORD_ONLY]
    for name in kwargs:
        if name not in accepted:
            valid_names = [*accepted, "render_mode"]  # make_vec's own parameter
            hint = did_you_mean(name, valid_names)
            valid = ", ".join(valid_names)
            raise ValueError(
                f"{id} has no parameter {name!r}.{hint} Valid parameters: {valid}."
            )
    for name in accepted:
        if params[name].default is inspect.Parameter.empty and name not in kwargs:
            raise ValueError(f"{id} needs the parameter {name!r}; see ro_bench.spec({id!r}).doc")
