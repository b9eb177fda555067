"""How hard a Particle Gather setting is, measured before any algorithm is run.

Two yardsticks, both computed with the env's own kernels (``integrate``, ``team_reward``) from a
fixed seed, so the published figures regenerate exactly:

- ``random_rates``: under uniform random actions in [-1, 1], the share of steps (over every step
  of ``EPISODES`` episodes) on which both particles are within reach (+5) and on which exactly one
  is (-2). The rarer "both in", the less often exploration stumbles on the optimum; the more
  common "exactly one in" against it, the more the trap is taught.
- ``scripted_scores``: the final-step reward and the mean per-step reward of two decentralized
  controllers, each agent steering its own axis with ``a = clip(GAIN * (landmark - p) - DAMP *
  v, -1, 1)``: ``"both go"`` (all four agents steer: the optimum is reachable) and ``"one
  goes"`` (particle 1's agents stay still: what one particle's exploration costs the team).

``LEVELS`` are the settings the protocols register as the severity axis (``ro_bench.protocols``),
and ``CANDIDATES`` the grid they were chosen from. The figures of every candidate are published
in ``ro_bench/data/particle_gather_severity.json``, written by ``python -m
ro_bench.envs.particle_gather_severity --write`` and tested equal to a fresh computation, so that
``ro-bench list``, the board and the env page (``table``) read them without recomputing
(about half a second per setting).
"""

from __future__ import annotations

import inspect
import json
import sys
from functools import cache
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ro_bench.envs.particle_gather import ParticleGather, draw_offsets, integrate

EPISODES = 40_000  # 1M random steps: v0's rarest event, "both in", is seen about a dozen times
STARTS = 4_000  # the scripted controllers are deterministic: only their start varies
SEED = 0
GAIN, DAMP = 5.0, 2.0  # the scripted controllers' gains


class Rates(NamedTuple):
    both_in: float
    one_in: float
    both_in_steps: int  # how many of the EPISODES * episode_length steps had both in


class Scores(NamedTuple):
    final_step: float
    mean_step: float


def _starts(env: ParticleGather, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` start states ``[n, 2, 2]`` drawn from the env's start distribution."""
    return env.landmark + draw_offsets(env.start, env.start_radius, rng, (n, 2))


@cache
def random_rates(level: tuple[tuple[str, object], ...] = ()) -> Rates:
    """Shares of steps with both particles in / exactly one in, under uniform random actions.

    ``level``: the env kwargs as sorted ``(name, value)`` pairs (hashable, for the cache)."""
    env = ParticleGather(**dict(level))
    rng = np.random.default_rng(SEED)
    pos, vel = _starts(env, rng, EPISODES), np.zeros((EPISODES, 2, 2))
    inside = np.zeros(3, dtype=np.int64)
    for _ in range(env.max_steps):
        actions = rng.uniform(-1.0, 1.0, size=(EPISODES, 2, 2)).astype(np.float32)
        integrate(pos, vel, actions, env.integrator)
        inside += np.bincount(_count_inside(env, pos), minlength=3)
    steps = EPISODES * env.max_steps
    return Rates(inside[2] / steps, inside[1] / steps, int(inside[2]))


def _count_inside(env: ParticleGather, pos: np.ndarray) -> np.ndarray:
    reward = env.team_reward(pos)
    return np.where(reward == 5.0, 2, np.where(reward == -2.0, 1, 0))


@cache
def scripted_scores(level: tuple[tuple[str, object], ...] = (), movers: int = 2) -> Scores:
    """The scripted controller's scores: particles ``0 .. movers - 1`` steer, the rest stay."""
    env = ParticleGather(**dict(level))
    rng = np.random.default_rng(SEED)
    pos, vel = _starts(env, rng, STARTS), np.zeros((STARTS, 2, 2))
    total = np.zeros(STARTS)
    for _ in range(env.max_steps):
        actions = np.clip(GAIN * (env.landmark - pos) - DAMP * vel, -1.0, 1.0)
        actions[:, movers:] = 0.0
        integrate(pos, vel, actions.astype(np.float32), env.integrator)
        reward = env.team_reward(pos)
        total += reward
    return Scores(float(reward.mean()), float(total.mean() / env.max_steps))


def level(**kwargs: object) -> tuple[tuple[str, object], ...]:
    """Env kwargs as the hashable key the functions above take."""
    return tuple(sorted(kwargs.items()))


# The severity axis, easiest first, chosen from ``table(CANDIDATES)`` alone: each level changes
# one parameter of the next harder one, and random exploration finds "both in" one to two orders
# of magnitude less often at each: the square start with reach 0.4 (the draw and arrival radius of
# MMQ's RO variant of cooperative navigation), the square start with v0's reach, then v0 itself
# (rest on the unit circle).
LEVELS = {
    "particle_gather-square-reach=0.4": level(start="square", reach=0.4),
    "particle_gather-square-reach=0.2": level(start="square", reach=0.2),
    "particle_gather": level(),
}
CANDIDATES = [level(start="square", reach=r) for r in (0.1, 0.2, 0.3, 0.4)] + [
    level(start_radius=s, reach=r) for s in (0.5, 1.0) for r in (0.1, 0.2, 0.3, 0.4)]


def describe(key: tuple[tuple[str, object], ...]) -> str:
    kwargs = dict(key)
    start = kwargs.get("start", "circle")
    radius = kwargs.get("start_radius", 1.0)
    where = f"square ±{radius:g}" if start == "square" else f"circle r={radius:g}"
    return f"{where}, reach {kwargs.get('reach', 0.2):g}"


DATA = "data/particle_gather_severity.json"


def measure(key: tuple[tuple[str, object], ...]) -> dict:
    """A setting's published record: its kwargs, random-action rates and scripted scores."""
    return {"kwargs": dict(key), "random": random_rates(key)._asdict(),
            "both_go": scripted_scores(key, 2)._asdict(),
            "one_goes": scripted_scores(key, 1)._asdict()}


def _full(kwargs: dict) -> str:
    """Env kwargs with the env's defaults filled in, as a lookup key."""
    defaults = {name: p.default for name, p in
                inspect.signature(ParticleGather.__init__).parameters.items()
                if p.default is not inspect.Parameter.empty and name != "num_envs"}
    return json.dumps({**defaults, **kwargs}, sort_keys=True)


@cache
def _published() -> dict[str, dict]:
    records = json.loads(resources.files("ro_bench").joinpath(DATA).read_text())
    return {_full(r["kwargs"]): r for r in records}


def published(key: tuple[tuple[str, object], ...]) -> tuple[Rates, Scores, Scores]:
    """A candidate's published rates and scripted scores (both go, one goes)."""
    try:
        r = _published()[_full(dict(key))]
    except KeyError:
        raise ValueError(f"{describe(key)} is not among the published candidates; measure it "
                         "with measure()") from None
    return Rates(**r["random"]), Scores(**r["both_go"]), Scores(**r["one_goes"])


def write(path: Path) -> None:
    """Measure every candidate and write the published figures to ``path``."""
    path.write_text(json.dumps([measure(k) for k in CANDIDATES], indent=1) + "\n")


def row(key: tuple[tuple[str, object], ...]) -> list[str]:
    """Cells: setting, both in, exactly one in, scripted scores (final / mean per step)."""
    rates, both, one = published(key)
    return [describe(key), f"{100 * rates.both_in:.2g}% ({rates.both_in_steps:,} steps)",
            f"{100 * rates.one_in:.2g}%",
            f"{both.final_step:.2f} / {both.mean_step:.2f}",
            f"{one.final_step:.2f} / {one.mean_step:.2f}"]


HEADER = ["protocol", "setting", "both in (random)", "exactly one in (random)",
          "both go: final / per step", "one goes: final / per step"]


def table(keys: list[tuple[tuple[str, object], ...]]) -> str:
    """A Markdown table of ``row`` for each setting, with the protocol registered on it."""
    names = {key: name for name, key in LEVELS.items()}
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join([names.get(k, ""), *row(k)]) + " |" for k in keys]
    return "\n".join(lines)


def page_table() -> str:
    """The table the env page shows (the candidates, levels marked), indented for a docstring."""
    return "\n".join("    " + line for line in table(CANDIDATES).splitlines())


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python -m ro_bench.envs.particle_gather_severity --write")
    write(Path(__file__).resolve().parent.parent / DATA)
    print(page_table())
