#!/usr/bin/env bash
# Re-run the leaderboard's entries of record (leaderboards/entries.txt), submit their RunResults
# (ro-bench submit --replace) and regenerate leaderboards/README.md and leaderboards/site/.
#   usage: leaderboards/regenerate.sh [ALGO [PROTOCOL]]   (default: every entry of record)
#   env: RO_BENCH_RUNS (scratch dir), WORKERS (default 2), WRITE=0 (skip the pages)
# Runs go to a scratch directory (checkpoints and curves stay there); only the RunResults are
# stored here, as leaderboards/<protocol>/<algorithm>/seed_<n>.json.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
scratch="${RO_BENCH_RUNS:-$(mktemp -d)}"
filters=()
if [[ -n "${1:-}" ]]; then filters+=(--algo "$1"); fi
if [[ -n "${2:-}" ]]; then filters+=(--protocol "$2"); fi

ro-bench grid --plan "$here/entries.txt" --workers "${WORKERS:-2}" --out "$scratch" \
  --submit "$here" --replace \
  "${filters[@]}"
if [[ "${WRITE:-1}" == 1 ]]; then ro-bench leaderboard --write --board "$here"; fi
