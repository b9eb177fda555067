"""Timing helpers shared by the benchmark scripts.

The machines we measure on are shared virtual machines, where another process can slow any run
down but nothing makes a run faster. So each measurement is the best of several rounds, and the
rounds of the things being compared are interleaved, so that a slow spell hits them alike.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable


def rates(fns: dict[str, Callable[[], object]], calls: int, rounds: int = 7) -> dict[str, float]:
    """Best calls-per-second of each function, over ``rounds`` interleaved rounds of ``calls``.

    Each function's result is kept until its next call returns, as a training loop keeps the
    outputs of one step while it takes the next.
    """
    best = dict.fromkeys(fns, float("inf"))
    for fn in fns.values():
        fn()  # warm-up
    for _ in range(rounds):
        for name, fn in fns.items():
            out = None
            start = time.perf_counter()
            for _ in range(calls):
                out = fn()
            best[name] = min(best[name], time.perf_counter() - start)
            del out
    return {name: calls / seconds for name, seconds in best.items()}


def checkout_env(pythonpath: str | None) -> dict[str, str]:
    """The environment of a fresh interpreter that imports this checkout's packages, or those of
    the checkout at ``pythonpath`` (first on ``PYTHONPATH``). Run it outside any checkout's root,
    whose packages would come first."""
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    return env


def best_of_rounds(items: Iterable[str], sides: dict[str, str | None],
                   measure: Callable[[str, str | None], float], rounds: int,
                   best: Callable[[float, float], float] = min) -> dict[tuple[str, str], float]:
    """``measure(item, pythonpath)`` for every item and side (a name and its checkout, ``None``
    for this one), in ``rounds`` interleaved rounds; the ``best`` value per ``(side, item)``."""
    items = list(items)
    found: dict[tuple[str, str], float] = {}
    for _ in range(rounds):
        for item in items:
            for side, path in sides.items():
                value = measure(item, path)
                key = (side, item)
                found[key] = value if key not in found else best(found[key], value)
    return found
