"""PettingZoo-face episodes per second of ``max_of_three`` (reset with a seed, then one step).

Run: ``.venv/bin/python benchmarks/bench_face.py``; to compare two checkouts, run it alternately
with ``PYTHONPATH=<other checkout>`` and compare the best figures of several alternating runs
(the machine's speed drifts between runs; alternating shares the drift).
"""

from __future__ import annotations

import time

import numpy as np

import ro_bench

EPISODES, ROUNDS = 1000, 7


def main() -> None:
    env = ro_bench.make("max_of_three")
    actions = {a: np.array([0.5], dtype=np.float32) for a in env.possible_agents}
    best = 0.0
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(EPISODES):
            env.reset(seed=0)
            env.step(actions)
        best = max(best, EPISODES / (time.perf_counter() - started))
    print(f"{ro_bench.__file__}: {best:,.0f} episodes/s (best of {ROUNDS} rounds)")


if __name__ == "__main__":
    main()
