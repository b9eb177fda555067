"""Evaluation protocols: frozen, versioned records of how an algorithm is trained and scored.

A protocol fixes the env and its kwargs, the training budget (env steps, counted over the whole
batch), the seeds, when and on how many episodes the agent is evaluated, and the metric. It also
fixes the seeds that tuning trains on (``ro-bench tune``): ``tuning_seeds``, disjoint from the
reporting ``seeds``, so that a tuned entry is never tuned on the seeds it reports. Its
optimum and trap are the env's own (one source of truth); the success threshold defaults to
halfway between them. Every protocol is registered at the bottom of this file, the one place its
numbers live. Changing a protocol's numbers means a new version.

Metrics
    ``final_step_reward``: the mean, over the evaluation episodes, of the team reward at each
    episode's last step: the instantaneous reward the paper's curves and Table 2 report (at most
    10 on the differential games, 5 on Particle Gather). The mean episode return is recorded
    beside it.

    ``also`` names metrics the tables show beside the ranked one, read from what every run
    records, so adding one changes no run and is not a new version:
    ``mean_step_reward``: the mean episode return divided by the episode length, the team reward
    per step averaged over whole episodes (Particle Gather, where the final step alone ignores
    how long the particles took to gather).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any

from ro_bench.envs.particle_gather_severity import LEVELS as PARTICLE_GATHER_LEVELS
from ro_bench.params import did_you_mean

METRICS = ("final_step_reward",)
ALSO = ("mean_step_reward",)


@dataclass(frozen=True)
class Protocol:
    name: str
    version: int
    env_id: str
    env_kwargs: Mapping[str, Any] = field(default_factory=dict)
    budget: int = 5000  # training env steps, summed over the training batch
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    eval_every: int = 250  # env steps between evaluations (and one at the end)
    eval_episodes: int = 1000
    metric: str = "final_step_reward"
    num_envs: int = 1  # training envs stepped together
    threshold: float | None = None  # success threshold; None: halfway from trap to optimum
    tuning_seeds: tuple[int, ...] = (100, 101, 102)  # what `ro-bench tune` trains on
    also: tuple[str, ...] = ()  # metrics shown beside ``metric`` (see Metrics)

    def __post_init__(self) -> None:
        object.__setattr__(self, "env_kwargs", MappingProxyType(dict(self.env_kwargs)))
        if self.metric not in METRICS:
            raise ValueError(f"metric must be one of {METRICS}; got {self.metric!r}")
        for name in self.also:
            if name not in ALSO:
                raise ValueError(f"also must name metrics among {ALSO}; got {name!r}."
                                 f"{did_you_mean(name, ALSO)}")
        if self.budget % self.num_envs or self.eval_every % self.num_envs:
            raise ValueError("budget and eval_every must be multiples of num_envs")
        if shared := sorted(set(self.seeds) & set(self.tuning_seeds)):
            raise ValueError(f"protocol {self.name!r}: tuning_seeds must be disjoint from the "
                             f"reporting seeds; both hold {shared}")

    @cached_property
    def _env_facts(self) -> tuple[float, float, int | None]:
        import ro_bench

        vec = ro_bench.make_vec(self.env_id, 1, **self.env_kwargs)
        return vec.optimum_reward, vec.trap_reward, vec.max_steps

    def also_values(self, final_return: float) -> dict[str, float]:
        """The ``also`` metrics of a run whose final evaluation's mean return is
        ``final_return``."""
        values = {"mean_step_reward": lambda: final_return / self._env_facts[2]}
        return {name: values[name]() for name in self.also}

    @property
    def optimum(self) -> float:
        """The metric's best value (the env's best one-step team reward)."""
        return self._env_facts[0]

    @property
    def trap(self) -> float:
        """The metric's value in the RO trap."""
        return self._env_facts[1]

    @property
    def success_threshold(self) -> float:
        return (self.optimum + self.trap) / 2 if self.threshold is None else self.threshold

    def eval_points(self) -> list[int]:
        """The env-step counts at which the agent is evaluated: 0, every ``eval_every``, the end."""
        points = [*range(0, self.budget, self.eval_every)]
        return points + [self.budget]


_PROTOCOLS: dict[str, Protocol] = {}


def register(protocol: Protocol) -> Protocol:
    if protocol.name in _PROTOCOLS:
        raise ValueError(f"protocol {protocol.name!r} is already registered")
    _PROTOCOLS[protocol.name] = protocol
    return protocol


def get(name: str) -> Protocol:
    try:
        return _PROTOCOLS[name]
    except KeyError:
        hint = did_you_mean(name, _PROTOCOLS) or f" Protocols: {', '.join(_PROTOCOLS)}."
        raise ValueError(f"unknown protocol {name!r}.{hint}") from None


def list() -> list[str]:  # noqa: A001  (the name the CLI uses)
    return [*_PROTOCOLS]


# The RO-severity sweep's widths of Max of Three's optimal bowl (``ro-bench sweep-s2``); the
# paper's Table 2 uses 1.5, 2.0 and 3.0. The smaller s2, the more severe the RO.
SEVERITY_S2 = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0)

# The paper's games (§6, App. F): 5000 one-step episodes, 5 seeds, 1000 evaluation episodes.
for s2 in SEVERITY_S2:
    register(Protocol(f"max_of_three-s2={s2}", 1, "max_of_three", {"s2": s2}))
# Both modes of Two Modalities are worth 10 (optimum = trap): success is reaching either peak
# within 1; covering both modes is what ro_bench.diagnostics measures.
register(Protocol("two_modalities", 1, "two_modalities", threshold=9.0))
register(Protocol("max_of_two", 1, "max_of_two"))
# Particle Gather's severity axis (ro_bench.envs.particle_gather_severity.LEVELS: chosen from the
# random-action rates of "both in" before any algorithm ran), easiest first; `particle_gather` is
# v0's defaults. Each: 5000 episodes of 25 steps, evaluated on 100 episodes.
for _name, _level in PARTICLE_GATHER_LEVELS.items():
    register(Protocol(_name, 1, "particle_gather", dict(_level), budget=125_000, eval_every=6250,
                      eval_episodes=100, also=("mean_step_reward",)))
# The classic matrix games: 5000 one-step episodes. v2: every agent acts in [-1, 1] (the env's
# continuous_actions, binned into the payoff's rows), so that every algorithm of the zoo, all of
# them continuous-action methods, plays them; v1 took Discrete actions.
register(Protocol("climbing", 2, "climbing", {"continuous_actions": True}))
register(Protocol("penalty-k=-100", 2, "penalty", {"k": -100.0, "continuous_actions": True}))
