"""The compute a part of the board cost: the runs' own wall times, read from its RunResults.

For every protocol whose name starts with one of the given prefixes (default: Particle Gather's
levels) it prints each entry's seeds, the sum, median and range of their wall times, and the
protocol's total; then the whole part's total in CPU-hours and what it takes on two worker
processes at best (half the total; two runs at a time each run 10-30% slower than alone, which
the recorded times already include when the runs were made two at a time).

    cd benchmarks && ../.venv/bin/python board_wall_time.py [PREFIX ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ro_bench.results import RunResult
from ro_bench.submit import BOARD


def main(prefixes: list[str]) -> None:
    total = 0.0
    for protocol in sorted(p for p in Path(BOARD).iterdir() if p.is_dir()):
        if not protocol.name.startswith(tuple(prefixes)):
            continue
        print(f"{protocol.name}")
        part = 0.0
        for entry in sorted(p for p in protocol.iterdir() if p.is_dir()):
            times = [RunResult.read(f).wall_time_s for f in sorted(entry.glob("seed_*.json"))]
            part += sum(times)
            print(f"  {entry.name:<16} {len(times)} seeds  sum {sum(times) / 60:7.1f} min  "
                  f"median {np.median(times):6.1f} s  range {min(times):.0f}-{max(times):.0f} s")
        print(f"  {'protocol total':<16} {part / 3600:.2f} CPU-hours")
        total += part
    print(f"all: {total / 3600:.2f} CPU-hours; on 2 workers at best {total / 2 / 3600:.2f} hours")


if __name__ == "__main__":
    main(sys.argv[1:] or ["particle_gather"])
