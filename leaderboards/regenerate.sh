#!/usr/bin/env bash
# Re-run every leaderboard entry of record, submit its RunResults (ro-bench submit --replace) and
# regenerate leaderboards/README.md and leaderboards/site/.
#   usage: leaderboards/regenerate.sh [ALGO [PROTOCOL]]   (default: every entry below)
#   env: RO_BENCH_RUNS (scratch dir), WORKERS (default 2), WRITE=0 (skip the pages)
# Runs go to a scratch directory (checkpoints and curves stay there); only the RunResults are
# stored here, as leaderboards/<protocol>/<algorithm>/seed_<n>.json.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
scratch="${RO_BENCH_RUNS:-$(mktemp -d)}"
workers="${WORKERS:-2}"

severity=("max_of_three-s2=1.0" "max_of_three-s2=1.5" "max_of_three-s2=2.0"
          "max_of_three-s2=2.5" "max_of_three-s2=3.0" "max_of_three-s2=4.0")
entries=()
for protocol in "${severity[@]}" two_modalities max_of_two particle_gather climbing \
                "penalty-k=-100"; do
  entries+=("random $protocol")
done
for protocol in "${severity[@]}"; do
  # s2=1.5 keeps 100 joint actions per evaluation for the Figure 5/7 plot.
  if [[ "$protocol" == "max_of_three-s2=1.5" ]]; then
    entries+=("svnr $protocol --record-samples 100")
  else
    entries+=("svnr $protocol")
  fi
done
entries+=(
  "svnr-m max_of_three-s2=1.5"
  # App. F.2: for the perceived-RO study alpha is annealed to 1, not to 0.
  "svnr two_modalities --config alpha_end=1.0 --record-samples 100"
  # 125,000 env steps: one update round every 4 steps and 16 value samples fit 10 minutes.
  "svnr particle_gather --config update_every=4 --config value_samples=16"
)

# The paper's baselines (Table 2, App. G) on its RO tasks. On Particle Gather each trains every
# few env steps (update_every) so that a run fits about 3 minutes of one core.
declare -A pg_options=(
  [maddpg]="--config update_every=8"
  [masql]="--config update_every=32"
  [pr2]="--config update_every=20 --config value_samples=4"
  [rommeo]="--config update_every=16"
  [mmq]="--config update_every=100"
)
for algo in maddpg masql pr2 rommeo mmq; do
  for protocol in "max_of_three-s2=1.5" "max_of_three-s2=2.0" "max_of_three-s2=3.0" \
                  two_modalities max_of_two; do
    entries+=("$algo $protocol")
  done
  entries+=("$algo particle_gather ${pg_options[$algo]}")
done

for entry in "${entries[@]}"; do
  read -r algo protocol options <<<"$entry"
  if [[ -n "${1:-}" && "$1" != "$algo" ]] || [[ -n "${2:-}" && "$2" != "$protocol" ]]; then
    continue
  fi
  # shellcheck disable=SC2086  # $options holds several words on purpose
  ro-bench evaluate --algo "$algo" --protocol "$protocol" --workers "$workers" --out "$scratch" \
    ${options:-}
  ro-bench submit --replace --board "$here" "$scratch/$protocol/$algo"
done
if [[ "${WRITE:-1}" == 1 ]]; then ro-bench leaderboard --write --board "$here"; fi
