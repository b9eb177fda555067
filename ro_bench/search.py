"""Search spaces of tuned config fields, declared next to each field's default.

A config field that ``ro-bench tune`` may tune says so where it is declared::

    critic_lr: float = documented(1e-3, "Adam learning rate of the critics",
                                  search=LogUniform(1e-4, 1e-1))

The spaces follow the benchmark paper's Table 9 (App. H.5.2): learning rates log-uniform in
[1e-4, 1e-1], batch size in {256, 512, 1024}, tau uniform in [0.001, 0.01], reward scale in
{1, 10, 100}, hidden units in {64, 128, 256} (every hidden layer of a network the same width),
SVNR's particles M in 16..64, PR2's recursion level k in 1..3; and App. F.2's temperature alpha'
in [0.1, 10], the value its schedule settles at (``alpha_end`` of the maximum-entropy methods;
App. F.2 calls it "the initial alpha'", as the schedule adds a decaying 500 to it). A subclass that redeclares a field only to change its default keeps the base's
space, as it keeps the base's help (``space_of`` walks the MRO).

Each space turns into one Optuna suggestion (``suggest``); nothing here imports Optuna.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Protocol


class Trial(Protocol):
    """The part of ``optuna.Trial`` a space uses."""

    def suggest_float(self, name: str, low: float, high: float, *, log: bool = False) -> float: ...
    def suggest_int(self, name: str, low: int, high: int) -> int: ...
    def suggest_categorical(self, name: str, choices: list) -> Any: ...


@dataclasses.dataclass(frozen=True)
class LogUniform:
    """A float drawn uniformly in log space from ``[low, high]``."""

    low: float
    high: float

    def __post_init__(self) -> None:
        if not 0 < self.low < self.high or not math.isfinite(self.high):
            raise ValueError(f"LogUniform needs 0 < low < high < inf; got "
                             f"[{self.low}, {self.high}]")

    def suggest(self, trial: Trial, name: str) -> float:
        return trial.suggest_float(name, self.low, self.high, log=True)

    def examples(self) -> tuple[float, ...]:
        return self.low, self.high

    size = math.inf  # how many values it holds

    def describe(self) -> str:
        return f"log-uniform [{self.low:g}, {self.high:g}]"


@dataclasses.dataclass(frozen=True)
class Uniform:
    """A float drawn uniformly from ``[low, high]``."""

    low: float
    high: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low < self.high):
            raise ValueError(f"Uniform needs finite low < high; got [{self.low}, {self.high}]")

    def suggest(self, trial: Trial, name: str) -> float:
        return trial.suggest_float(name, self.low, self.high)

    def examples(self) -> tuple[float, ...]:
        return self.low, self.high

    size = math.inf

    def describe(self) -> str:
        return f"uniform [{self.low:g}, {self.high:g}]"


@dataclasses.dataclass(frozen=True)
class IntUniform:
    """An integer drawn uniformly from ``low, ..., high``."""

    low: int
    high: int

    def __post_init__(self) -> None:
        if not self.low < self.high:
            raise ValueError(f"IntUniform needs low < high; got {self.low}..{self.high}")

    def suggest(self, trial: Trial, name: str) -> int:
        return trial.suggest_int(name, self.low, self.high)

    def examples(self) -> tuple[int, ...]:
        return self.low, self.high

    @property
    def size(self) -> int:
        return self.high - self.low + 1

    def describe(self) -> str:
        return f"integer uniform {self.low}..{self.high}"


@dataclasses.dataclass(frozen=True)
class Choice:
    """One of ``values``, each equally likely a priori (Optuna's categorical)."""

    values: tuple

    def __post_init__(self) -> None:
        if len(self.values) < 2:
            raise ValueError(f"Choice needs at least two values; got {self.values!r}")

    def suggest(self, trial: Trial, name: str) -> Any:
        return trial.suggest_categorical(name, list(self.values))

    def examples(self) -> tuple:
        return self.values

    @property
    def size(self) -> int:
        return len(self.values)

    def describe(self) -> str:
        return "one of " + ", ".join(map(str, self.values))


@dataclasses.dataclass(frozen=True)
class Width:
    """Hidden layers all of one width, drawn from ``widths``; the layer count is the field's
    default's (a 2-layer network stays a 2-layer network)."""

    widths: tuple[int, ...]

    def __post_init__(self) -> None:
        if len(self.widths) < 2 or any(w < 1 for w in self.widths):
            raise ValueError(f"Width needs at least two widths >= 1; got {self.widths!r}")

    def suggest(self, trial: Trial, name: str, layers: int) -> tuple[int, ...]:
        return (trial.suggest_categorical(name, list(self.widths)),) * layers

    def examples(self, layers: int) -> tuple[tuple[int, ...], ...]:
        return tuple((w,) * layers for w in self.widths)

    @property
    def size(self) -> int:
        return len(self.widths)

    def describe(self) -> str:
        return "every hidden layer one of " + ", ".join(map(str, self.widths)) + " units"


Space = LogUniform | Uniform | IntUniform | Choice | Width

# Table 9's spaces, shared by every algorithm that has the field.
LEARNING_RATE = LogUniform(1e-4, 1e-1)
BATCH_SIZE = Choice((256, 512, 1024))
TAU = Uniform(0.001, 0.01)
REWARD_SCALE = Choice((1.0, 10.0, 100.0))
HIDDEN_UNITS = Width((64, 128, 256))


def space_of(config_cls: type, name: str) -> Space | None:
    """The search space of field ``name``: its own, or that of the nearest base declaring one."""
    for cls in config_cls.__mro__:
        declared = getattr(cls, "__dataclass_fields__", {}).get(name)
        if declared is not None and "search" in declared.metadata:
            return declared.metadata["search"]
    return None


def search_space(config_cls: type) -> dict[str, Space]:
    """Every tuned field of ``config_cls`` and its space, in declaration order."""
    spaces = {f.name: space_of(config_cls, f.name) for f in dataclasses.fields(config_cls)}
    return {name: space for name, space in spaces.items() if space is not None}


def suggest(trial: Trial, config_cls: type, fixed: dict[str, Any] | None = None
            ) -> dict[str, Any]:
    """One value per tuned field of ``config_cls`` not in ``fixed`` (fields held fixed are not
    tuned): the overrides of one trial."""
    values = {}
    for name, space in search_space(config_cls).items():
        if fixed and name in fixed:
            continue
        if isinstance(space, Width):
            values[name] = space.suggest(trial, name, len(_default(config_cls, name)))
        else:
            values[name] = space.suggest(trial, name)
    return values


def configurations(config_cls: type, fixed: dict[str, Any] | None = None) -> float:
    """How many configurations the tuned fields not in ``fixed`` span (``math.inf`` with any
    continuous one)."""
    return math.prod(space.size for name, space in search_space(config_cls).items()
                     if not (fixed and name in fixed))


def describe(config_cls: type) -> dict[str, str]:
    """Each tuned field's space in words, as the provenance of a tuned entry records it."""
    return {name: space.describe() for name, space in search_space(config_cls).items()}


def examples(config_cls: type, name: str) -> tuple:
    """Values of field ``name``'s space to check a config against: bounds or every choice."""
    space = search_space(config_cls)[name]
    if isinstance(space, Width):
        return space.examples(len(_default(config_cls, name)))
    return space.examples()


def _default(config_cls: type, name: str) -> Any:
    return next(f.default for f in dataclasses.fields(config_cls) if f.name == name)
