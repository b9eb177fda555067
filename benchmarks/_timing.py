"""Timing helpers shared by the benchmark scripts.

The machines we measure on are shared virtual machines, where another process can slow any run
down but nothing makes a run faster. So each measurement is the best of several rounds, and the
rounds of the things being compared are interleaved, so that a slow spell hits them alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable


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
