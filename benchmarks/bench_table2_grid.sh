#!/usr/bin/env bash
# Wall time of the whole Table 2 grid: SVNR and the five baselines on max_of_three (s2 = 1.5,
# 2.0, 3.0) and particle_gather, 5 seeds each (120 runs), two processes at a time, with the
# settings of the entries of record (leaderboards/entries.txt). ro-bench grid prints the total.
#   usage: benchmarks/bench_table2_grid.sh [extra ro-bench grid options, e.g. --submit leaderboards --replace]
#   env: RO_BENCH_RUNS (where the runs go; default a new temporary directory)
set -euo pipefail
ro-bench grid --workers 2 --out "${RO_BENCH_RUNS:-$(mktemp -d)}" \
  --algo svnr maddpg masql pr2 rommeo mmq \
  --protocol max_of_three-s2=1.5 max_of_three-s2=2.0 max_of_three-s2=3.0 particle_gather "$@"
