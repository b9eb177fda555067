"""Env steps per second of training: on a MaMuJoCo task, or as an entry of record trains.

Every algorithm of the zoo trains through the harness's own step (``harness._train_step``: act,
step the env, observe, update) on one env. With ``--env`` (default HalfCheetah-2x3) each uses
its default config with ``update_every=1`` (one gradient round per env step) and updates from
``--learning-starts``; with ``--protocol P`` each uses the protocol's env and budget and the
settings of its entry of record on P (``leaderboards/entries.txt``), so the figure is the speed
of that entry's runs. Each first runs ``--warm-up`` steps past its warm-up, then ``--steps``
steps are timed (for an on-policy method, whole rollouts: both are rounded up to multiples of
its ``n_steps``, so that every update is timed). Each measurement runs in a fresh interpreter,
one torch thread; the figure is the best of ``--rounds`` interleaved rounds (see ``_timing``).
``--compare DIR`` measures the same with ``DIR`` first on ``PYTHONPATH`` (a checkout of another
revision, e.g. a ``git worktree``, whose zoo must be importable as ``ro_bench_zoo``) in the same
rounds, and prints the ratio.

    python benchmarks/bench_train_speed.py [--env ENV | --protocol P] [--compare DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile

from _timing import best_of_rounds, checkout_env
from ro_bench import grid, protocols

ALGORITHMS = ("random", "maddpg", "svnr", "masql", "pr2", "rommeo", "mmq", "qmix", "facmac",
              "mappo", "sb3_ppo")

# One measurement, in a fresh interpreter: prints the env steps per second.
PROBE = """
import json, sys, time
import torch
import ro_bench
from ro_bench import agents, algorithms, harness
from ro_bench.configs import override

algo, env_id, kwargs, values = sys.argv[1], sys.argv[2], *map(json.loads, sys.argv[3:5])
warm_up, steps = map(int, sys.argv[5:7])
agent_cls, config_cls = algorithms.get(algo)
fields = {f for f in getattr(config_cls, "__dataclass_fields__", {})}
config = override(config_cls(), {k: v for k, v in values.items() if k in fields})
env = ro_bench.make_vec(env_id, 1, **kwargs)
agent = agent_cls(config, agents.EnvSpaces.from_vec(env), 0)
torch.set_num_threads(1)
obs, _ = env.reset(seed=0)
rollout = getattr(config, "n_steps", 1)  # on-policy: time whole rollouts, each with its update
whole = lambda n: -(-n // rollout) * rollout  # n rounded up to whole rollouts
warm_up, steps = whole(getattr(config, "learning_starts", 0) + warm_up), whole(steps)
for _ in range(warm_up):
    obs, _ = harness._train_step(agent, env, obs)
start = time.perf_counter()
for _ in range(steps):
    obs, _ = harness._train_step(agent, env, obs)
print(steps / (time.perf_counter() - start))
"""


def probe_args(algo: str, args: argparse.Namespace) -> list[str]:
    """The probe's arguments for ``algo``: its env id, env kwargs and config values (JSON), the
    warm-up and the steps timed."""
    if args.protocol is None:
        budget = 100_000
        env_id, kwargs = args.env, {}
        values = {"total_steps": budget, "update_every": 1, "torch_threads": 1,
                  "learning_starts": args.learning_starts,
                  "warmup_fraction": args.learning_starts / budget}
    else:
        protocol = protocols.get(args.protocol)
        entry, = grid.select(grid.read_plan(args.plan), [algo], [args.protocol])
        env_id, kwargs, values = protocol.env_id, dict(protocol.env_kwargs), entry.config()
    return [algo, env_id, json.dumps(kwargs), json.dumps(values), str(args.warm_up),
            str(args.steps)]


def measure(probe: list[str], pythonpath: str | None) -> float:
    done = subprocess.run([sys.executable, "-c", PROBE, *probe], env=checkout_env(pythonpath),
                          capture_output=True, text=True, check=True, cwd=tempfile.gettempdir())
    return float(done.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--env", default="mamujoco_halfcheetah_2x3")
    where.add_argument("--protocol", help="measure each algorithm's entry of record on it")
    parser.add_argument("--plan", default="leaderboards/entries.txt")
    parser.add_argument("--algo", nargs="+", default=list(ALGORITHMS))
    parser.add_argument("--warm-up", type=int, default=100,
                        help="steps run after each algorithm's learning_starts, untimed")
    parser.add_argument("--learning-starts", type=int, default=500)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--compare", help="another checkout, measured in the same rounds")
    args = parser.parse_args()
    sides = {"this": None} | ({"other": args.compare} if args.compare else {})
    probes = {algo: probe_args(algo, args) for algo in args.algo}
    best = best_of_rounds(args.algo, sides, lambda algo, path: measure(probes[algo], path),
                          args.rounds, best=max)
    header = f"{'algorithm':<10} {'this (steps/s)':>15}"
    if args.compare:
        header += f" {'other (steps/s)':>16} {'this/other':>11}"
    what = (f"{args.protocol}, as its entries of record train" if args.protocol else
            f"{args.env}, one gradient round per env step")
    print(f"{what}\n{header}")
    for algo in args.algo:
        line = f"{algo:<10} {best['this', algo]:>15.1f}"
        if args.compare:
            line += (f" {best['other', algo]:>16.1f} "
                     f"{best['this', algo] / best['other', algo]:>11.2f}")
        print(line)


if __name__ == "__main__":
    main()
