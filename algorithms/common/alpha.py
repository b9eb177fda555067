"""Temperature (entropy coefficient) schedules for maximum-entropy learners: alpha at an env step.

``alpha_at(schedule, step, ...)`` with ``step`` the env steps done so far and ``total_steps`` the
training budget. The schedules (``start`` and ``end`` are alpha's first and last values):

- ``constant``: ``start`` throughout.
- ``linear``: ``start`` to ``end`` linearly over the first ``anneal_fraction`` of the budget, then
  ``end`` (App. H.4.2, Table 8's linear decays).
- ``geometric``: ``start`` to ``end`` geometrically (linearly in log alpha) over the first
  ``anneal_fraction`` of the budget, then ``end``. Equal factors per step suit a temperature that
  spans orders of magnitude.
- ``exponential``: ``end + (start - end) exp(-step / tau)`` (eq. 20, App. H.5.3; Table 8's
  "tau = 0.9995" per step is ``tau`` ~ 2000 steps here).
- ``paper``: ``start + 500 exp(-0.1 max(step - 10, 0))`` (App. F.2, where ``start`` is the initial
  alpha alpha'); it is within 1e-3 of ``start`` after ~140 steps.
- ``authors``: the piecewise schedule of the authors' public research code (``Jarvis-K/rommeo``,
  ``experiment/res_gpf.py``): the ``paper`` formula for the first third of the budget,
  ``start / 10`` until half of it, then ``end`` (their run: start 10, end 0.3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ro_bench.configs import documented
from ro_bench.params import choice, integer, real
from ro_bench.search import LogUniform
from ro_bench_zoo.common.off_policy import OffPolicyConfig

SCHEDULES = ("constant", "linear", "geometric", "exponential", "paper", "authors")


def alpha_at(schedule: str, step: int, *, total_steps: int, start: float, end: float,
             anneal_fraction: float = 0.6, tau: float = 2000.0) -> float:
    """alpha after ``step`` env steps of a ``total_steps`` budget (see the module docstring)."""
    choice("alpha schedule", schedule, SCHEDULES)
    step = integer("step", step, low=0)
    total_steps = integer("total_steps", total_steps, low=1)
    start = real("alpha start", start, low=0.0, low_open=True)
    end = real("alpha end", end, low=0.0, low_open=True)
    fraction = real("anneal_fraction", anneal_fraction, low=0.0, high=1.0, low_open=True)
    progress = min(step / (fraction * total_steps), 1.0)
    if schedule == "constant":
        return start
    if schedule == "linear":
        return start + (end - start) * progress
    if schedule == "geometric":
        return start * (end / start) ** progress
    if schedule == "exponential":
        tau = real("tau", tau, low=0.0, low_open=True)
        return end + (start - end) * math.exp(-step / tau)
    if schedule == "paper":
        return _paper(step, start)
    if step < total_steps / 3:  # "authors"
        return _paper(step, start)
    return start / 10 if step < total_steps / 2 else end


def _paper(step: int, start: float) -> float:
    return start + 500.0 * math.exp(-0.1 * max(step - 10, 0))


@dataclass(frozen=True)
class AnnealedAlpha(OffPolicyConfig):
    """The temperature settings of every maximum-entropy method of the zoo, in one place: the
    benchmark runs them all on one schedule (App. H.5.3), laid out over ``total_steps``. A config
    dataclass inherits these fields (with their defaults, SVNR's) and calls
    ``super().__post_init__()`` from its own."""

    alpha_schedule: str = documented("geometric",
        f"temperature schedule: one of {', '.join(SCHEDULES)} (algorithms/common/alpha.py); one "
        "schedule for every maximum-entropy method (App. H.5.3)")
    alpha_start: float = documented(30.0,
        "first alpha; about the reward gap between the optima of the one-step games")
    # App. F.2 tunes "the initial alpha'" in [0.1, 10]; in its schedule alpha' + 500 exp(-0.1
    # max(t - 10, 0)) that alpha' is the value alpha settles at, which here is alpha_end.
    alpha_end: float = documented(0.1,
        "last alpha of the annealed schedules (the paper's alpha', App. F.2)",
        search=LogUniform(0.1, 10.0))
    anneal_fraction: float = documented(0.6,
        "linear/geometric: the share of total_steps over which alpha falls to alpha_end")
    alpha_tau: float = documented(2000.0,
        "exponential: decay time in env steps (eq. 20)")

    def __post_init__(self) -> None:
        super().__post_init__()
        choice("alpha_schedule", self.alpha_schedule, SCHEDULES)
        self.alpha(0)  # checks every field, naming the bad one

    def alpha(self, step: int) -> float:
        """The temperature after ``step`` env steps."""
        return alpha_at(self.alpha_schedule, step, total_steps=self.total_steps,
                        start=self.alpha_start, end=self.alpha_end,
                        anneal_fraction=self.anneal_fraction, tau=self.alpha_tau)
