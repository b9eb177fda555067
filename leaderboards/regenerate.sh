#!/usr/bin/env bash
# Re-run every leaderboard entry of record and copy its RunResult here as
# leaderboards/<protocol>/<algorithm>/seed_<n>.json.
#   usage: leaderboards/regenerate.sh [ALGO [PROTOCOL]]   (default: every pair below)
# Runs go to a scratch directory (checkpoints and curves stay there); only the RunResults of
# record are copied into this folder.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
scratch="${RO_BENCH_RUNS:-$(mktemp -d)}"
workers="${WORKERS:-2}"

entries=(
  "random max_of_three-s2=1.5" "random max_of_three-s2=2.0" "random max_of_three-s2=3.0"
  "random two_modalities" "random max_of_two" "random particle_gather"
  "random climbing" "random penalty-k=-100"
  "svnr max_of_three-s2=1.5" "svnr max_of_three-s2=2.0" "svnr max_of_three-s2=3.0"
  "svnr-m max_of_three-s2=1.5"
  # App. F.2: for the perceived-RO study alpha is annealed to 1, not to 0.
  "svnr two_modalities --config alpha_end=1.0"
  # 125,000 env steps: one update round every 4 steps and 16 value samples fit 10 minutes.
  "svnr particle_gather --config update_every=4 --config value_samples=16"
)

for entry in "${entries[@]}"; do
  read -r algo protocol config <<<"$entry"
  if [[ -n "${1:-}" && "$1" != "$algo" ]] || [[ -n "${2:-}" && "$2" != "$protocol" ]]; then
    continue
  fi
  # shellcheck disable=SC2086  # $config holds several words on purpose
  ro-bench evaluate --algo "$algo" --protocol "$protocol" --workers "$workers" --out "$scratch" ${config:-}
  mkdir -p "$here/$protocol/$algo"
  for result in "$scratch/$protocol/$algo"/seed_*/result.json; do
    seed_dir="$(basename "$(dirname "$result")")"
    cp "$result" "$here/$protocol/$algo/$seed_dir.json"
  done
done
