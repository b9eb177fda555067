"""The leaderboard as marl-eval's raw-data JSON, the file marl-eval's tools and BenchMARL read.

``ro-bench leaderboard --format marl-eval --out FILE`` writes it. The layout is marl-eval's
("Data Structure for Raw Experiment data" in its README; instadeepai/marl-eval)::

    {env_name: {task_name: {algorithm: {"seed_<k>": {
        "step_0": {"step_count": <env steps>, "return": [<one per evaluation episode>]},
        ...
        "step_<n>": {...},
        "absolute_metrics": {"return": [<the final evaluation's episodes>]}}}}}}

- ``env_name`` and ``task_name``: the protocol's name split at its first ``-``
  (``mamujoco_cpu`` / ``halfcheetah_2x3``, ``max_of_three`` / ``s2=1.5``); a name without one
  is both (``particle_gather`` / ``particle_gather``). marl-eval lower-cases the names it looks
  up, and every protocol name is lower case already. A track is an env of its own, so that the
  tasks of one env share their evaluation steps, as marl-eval's aggregation assumes.
- ``algorithm``: the entry's name on the board (``svnr``, ``svnr+tuned``).
- ``step_<i>``: the ``i``-th evaluation point of the seed's run, its env steps and the return of
  each evaluation episode (``RunResult.episode_returns``). At the last point only the first
  ``eval_episodes`` episodes are listed, those an ordinary evaluation plays (the larger final
  evaluation starts with them), so every step holds as many episodes.
- ``absolute_metrics``: every episode of the final evaluation, ``final_eval_episodes`` of them
  (marl-eval's convention: 10x the episodes of an ordinary evaluation).

The returns are undiscounted team returns (the metric ``mean_episode_return`` is their mean).
A run that kept no per-episode returns (a RunResult of schema version 4 or older, or of a
protocol not scored by episode returns, such as a one-step game) cannot be written: its entry is
left out and named, with the reason, in what ``to_marl_eval`` returns.
"""

from __future__ import annotations

import json
from typing import Any

from ro_bench import protocols

METRIC = "return"  # BenchMARL's name for the episode return in its marl-eval files


def names(protocol: str) -> tuple[str, str]:
    """``(env_name, task_name)`` of a protocol (see the module docstring)."""
    env, _, task = protocol.partition("-")
    return env, task or protocol


def to_marl_eval(tables: dict[str, list[Any]]) -> tuple[dict[str, Any], list[str]]:
    """The marl-eval document of the board's ``tables`` (``leaderboard.read_entries``), and the
    entries left out, as ``"<protocol> <entry>: <reason>"``."""
    doc: dict[str, Any] = {}
    skipped = []
    for name, entries in tables.items():
        protocol = protocols.get(name)
        env, task = names(name)
        for entry in entries:
            missing = [r.seed for r in entry.results if not r.episode_returns]
            if missing:
                why = ("RunResult schema version 4 or older" if protocol.keeps_episode_returns
                       else f"the protocol is scored by {protocol.metric}, not by episode returns")
                skipped.append(f"{name} {entry.name}: seeds {missing} kept no per-episode returns "
                               f"({why})")
                continue
            runs = {f"seed_{r.seed}": _run(r, protocol) for r in entry.results}
            doc.setdefault(env, {}).setdefault(task, {})[entry.name] = runs
    return doc, skipped


def _run(result: Any, protocol: protocols.Protocol) -> dict[str, Any]:
    steps: dict[str, Any] = {}
    for i, ((env_steps, _), episodes) in enumerate(zip(result.curve, result.episode_returns)):
        steps[f"step_{i}"] = {"step_count": env_steps,
                              METRIC: list(episodes[:protocol.eval_episodes])}
    steps["absolute_metrics"] = {METRIC: list(result.episode_returns[-1])}
    return steps


def dumps(doc: dict[str, Any]) -> str:
    """The document as JSON text, keys in their order (each run's steps, then its absolute
    metrics last, where marl-eval looks for them)."""
    return json.dumps(doc, indent=1, allow_nan=False)
