"""Evaluation protocols: frozen, versioned records of how an algorithm is trained and scored.

A protocol fixes the env and its kwargs, the training budget (env steps, counted over the whole
batch), the seeds, when and on how many episodes the agent is evaluated, and the metric. It also
fixes the seeds that tuning trains on (``ro-bench tune``): ``tuning_seeds``, disjoint from the
reporting ``seeds``, so that a tuned entry is never tuned on the seeds it reports. Its
optimum and trap are the env's own (one source of truth); the success threshold defaults to
halfway between them. Every protocol is registered at the bottom of this file, the one place its
numbers live. Changing a protocol's numbers means a new version.

Evaluation and checkpoints
    Every ``eval_every`` env steps (and at 0 and at the end) the agent plays ``eval_episodes``
    episodes with ``explore=False``; the last evaluation plays ``final_eval_episodes`` (marl-eval's
    convention for episodic tasks: 10x the episodes, the "absolute metric"), and its first
    ``eval_episodes`` episodes are those an ordinary evaluation would have played. On a protocol
    scored by ``mean_episode_return`` (episodic tasks, which marl-eval reads), the return of every
    episode of every evaluation is kept (``RunResult.episode_returns``); elsewhere it is not: a
    one-step game's greedy evaluation repeats one reward a thousand times, about 400 KB a run. A
    checkpoint is
    written every ``checkpoint_every`` env steps (a multiple of ``eval_every``; default: at every
    evaluation) and at the end. These fields default to what every protocol did before they
    existed (the final evaluation as large as the others, a checkpoint at every evaluation,
    success), so the protocols registered before them kept their numbers and versions.
    ``note`` is shown with the protocol (``ro-bench list``, the board's protocol line).

Success
    Decided when the protocol is written, never after training: ``has_success=False`` for an env
    with no optimum (MaMuJoCo's locomotion), whose runs record ``success=None`` and whose boards
    show "–". A protocol with success on an env without an optimum is refused by the harness
    before its first training step.

Metrics
    ``final_step_reward``: the mean, over the evaluation episodes, of the team reward at each
    episode's last step: the instantaneous reward the paper's curves and Table 2 report (at most
    10 on the differential games, 5 on Particle Gather). The mean episode return is recorded
    beside it.

    ``mean_episode_return``: the mean, over the evaluation episodes, of each episode's
    undiscounted team return: the test return of the paper's Table 1 and of FACMAC's, HARL's and
    BenchMARL's MaMuJoCo results.

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
from ro_bench.params import did_you_mean, integer

METRICS = ("final_step_reward", "mean_episode_return")
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
    eval_episodes: int = 1000  # episodes per evaluation (every protocol states it)
    metric: str = "final_step_reward"
    num_envs: int = 1  # training envs stepped together
    threshold: float | None = None  # success threshold; None: halfway from trap to optimum
    tuning_seeds: tuple[int, ...] = (100, 101, 102)  # what `ro-bench tune` trains on
    also: tuple[str, ...] = ()  # metrics shown beside ``metric`` (see Metrics)
    final_eval_episodes: int | None = None  # the last evaluation's episodes; None: eval_episodes
    checkpoint_every: int | None = None  # env steps between checkpoints; None: every evaluation
    has_success: bool = True  # False: no success (an env without an optimum; see Success)
    note: str = ""  # shown in `ro-bench list` and on the board's protocol line

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
        for name in ("budget", "eval_every", "eval_episodes", "final_eval_episodes",
                     "checkpoint_every"):
            if getattr(self, name) is not None:
                integer(f"protocol {self.name!r}: {name}", getattr(self, name), low=1)
        if self.checkpoint_every is not None and self.checkpoint_every % self.eval_every:
            raise ValueError(f"protocol {self.name!r}: checkpoint_every must be a multiple of "
                             f"eval_every ({self.eval_every}), since checkpoints are written at "
                             f"evaluations; got {self.checkpoint_every}")
        if not self.has_success and self.threshold is not None:
            raise ValueError(f"protocol {self.name!r}: threshold={self.threshold} needs "
                             "has_success=True")
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
    def keeps_episode_returns(self) -> bool:
        """Whether runs keep every evaluation episode's return (see Evaluation and checkpoints)."""
        return self.metric == "mean_episode_return"

    @property
    def optimum(self) -> float:
        """The metric's best value (the env's best one-step team reward)."""
        return self._env_facts[0]

    @property
    def trap(self) -> float:
        """The metric's value in the RO trap."""
        return self._env_facts[1]

    @property
    def success_threshold(self) -> float | None:
        """The final metric a run must reach to succeed, or None: the protocol has no success.

        ValueError, naming the protocol, if it has success but neither a threshold nor an env
        optimum to place one at (the harness asks before training, so no run is lost to it)."""
        if not self.has_success:
            return None
        if self.threshold is not None:
            return self.threshold
        if self.optimum is None or self.trap is None:
            raise ValueError(f"protocol {self.name!r}: env {self.env_id!r} has no optimum or "
                             "trap to place a success threshold between; register the protocol "
                             "with threshold=<value> or has_success=False")
        return (self.optimum + self.trap) / 2

    def scoring(self) -> str:
        """How the metric is scored, for people: optimum, trap and success threshold, or why
        there is no success. Never raises, even for a protocol the harness would refuse."""
        if not self.has_success:
            return "no optimum: success undefined"
        if self.threshold is None and (self.optimum is None or self.trap is None):
            return "no optimum: cannot place a success threshold (the harness refuses it)"
        if self.optimum is None or self.trap is None:
            return f"no optimum, success at >= {self.threshold:g}"
        return (f"optimum {self.optimum:g}, trap {self.trap:g}, success at >= "
                f"{self.success_threshold:g}")

    def succeeded(self, final_metric: float) -> bool | None:
        """Whether a run whose final metric is ``final_metric`` succeeded; None: no success."""
        threshold = self.success_threshold
        return None if threshold is None else bool(final_metric >= threshold)

    @property
    def final_episodes(self) -> int:
        """The episodes of the last evaluation: ``final_eval_episodes``, or ``eval_episodes``."""
        return self.eval_episodes if self.final_eval_episodes is None else self.final_eval_episodes

    def eval_points(self) -> list[int]:
        """The env-step counts at which the agent is evaluated: 0, every ``eval_every``, the end."""
        points = [*range(0, self.budget, self.eval_every)]
        return points + [self.budget]

    def checkpoint_due(self, env_steps: int) -> bool:
        """Whether the evaluation at ``env_steps`` is followed by a checkpoint: every
        ``checkpoint_every`` env steps (every evaluation when None), and always at the end."""
        every = self.checkpoint_every or self.eval_every
        return env_steps % every == 0 or env_steps == self.budget


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
    register(Protocol(f"max_of_three-s2={s2}", 1, "max_of_three", {"s2": s2},
                      eval_episodes=1000))
# Both modes of Two Modalities are worth 10 (optimum = trap): success is reaching either peak
# within 1; covering both modes is what ro_bench.diagnostics measures.
register(Protocol("two_modalities", 1, "two_modalities", threshold=9.0, eval_episodes=1000))
register(Protocol("max_of_two", 1, "max_of_two", eval_episodes=1000))
# Particle Gather's severity axis (ro_bench.envs.particle_gather_severity.LEVELS: chosen from the
# random-action rates of "both in" before any algorithm ran), easiest first; `particle_gather` is
# v0's defaults. Each: 5000 episodes of 25 steps, evaluated on 100 episodes.
for _name, _level in PARTICLE_GATHER_LEVELS.items():
    register(Protocol(_name, 1, "particle_gather", dict(_level), budget=125_000, eval_every=6250,
                      eval_episodes=100, also=("mean_step_reward",)))
# The classic matrix games: 5000 one-step episodes. v2: every agent acts in [-1, 1] (the env's
# continuous_actions, binned into the payoff's rows), so that every algorithm of the zoo, all of
# them continuous-action methods, plays them; v1 took Discrete actions.
register(Protocol("climbing", 2, "climbing", {"continuous_actions": True}, eval_episodes=1000))
register(Protocol("penalty-k=-100", 2, "penalty", {"k": -100.0, "continuous_actions": True},
                  eval_episodes=1000))

# MaMuJoCo, the paper's Table 1 (App. F.1): task -> (env id, every env kwarg written out). The
# categories are gymnasium-robotics 1.4.2's defaults for agent_obsk=1 (its
# _generate_local_categories), stated so that a change of default there changes no protocol.
MAMUJOCO_TASKS: dict[str, tuple[str, dict[str, Any]]] = {
    task: (f"mamujoco_{task}", {
        "agent_obsk": 1,
        "local_categories": (tuple(depth0), ("qpos",)),
        "global_categories": ("qpos", "qvel"),
        "max_episode_steps": 1000,
    })
    for task, depth0 in (
        ("halfcheetah_2x3", ("qpos", "qvel")),
        ("coupled_halfcheetah_1p1", ("qpos", "qvel", "ten_J", "ten_length", "ten_velocity")),
        ("ant_2x4", ("qpos", "qvel", "cfrc_ext")),
        ("walker2d_2x3", ("qpos", "qvel")),
    )
}
# Two tracks per task, both scored by the mean episode return, with no success (no optimum):
# - cpu: a sample-efficiency track this machine runs (100k env steps, 10 test episodes every 10k,
#   100 at the end); its numbers are not comparable with the paper's Table 1.
# - full: 3M env steps (BenchMARL's default budget, and past every convergence step of the
#   paper's Table 10), 10 test episodes every 100k (HARL evaluates every 100-200k), 100 at the
#   end, a checkpoint at every evaluation; meant for a cluster (`ro-bench grid --ray`), with the
#   paper's Table 1 beside it. FACMAC's 10 greedy test episodes and episode limit 1000 are kept.
MAMUJOCO_TRACKS = {
    "cpu": {"budget": 100_000, "eval_every": 10_000,
            "note": "a sample-efficiency track: not comparable with the paper's Table 1, whose "
                    "methods trained for millions of env steps (the full track sits beside it)"},
    "full": {"budget": 3_000_000, "eval_every": 100_000,
             "note": "3M env steps, for a cluster (ro-bench grid --ray); the paper's Table 1 "
                     "sits beside it"},
}
for _track, _numbers in MAMUJOCO_TRACKS.items():
    for _task, (_env_id, _kwargs) in MAMUJOCO_TASKS.items():
        register(Protocol(f"mamujoco_{_track}-{_task}", 1, _env_id, _kwargs, **_numbers,
                          seeds=(0, 1, 2, 3, 4), eval_episodes=10, final_eval_episodes=100,
                          checkpoint_every=_numbers["eval_every"], metric="mean_episode_return",
                          has_success=False))
