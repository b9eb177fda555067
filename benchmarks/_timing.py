"""Timing helper shared by the benchmark scripts."""

from __future__ import annotations

import time
from collections.abc import Callable


def rate(fn: Callable[[], object], calls: int, repeats: int = 5) -> float:
    """Best calls-per-second of ``fn`` over ``repeats`` timed runs of ``calls`` calls each."""
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, time.perf_counter() - start)
    return calls / best
