"""Env steps per second of training on a MaMuJoCo task, one gradient round per env step.

Every algorithm of the zoo trains through the harness's own step (``harness._train_step``: act,
step the env, observe, update) on one env of the task, with ``update_every=1``. Each first runs
``--warm-up`` steps (updates start after ``--learning-starts``), then ``--steps`` steps are timed.
Each measurement runs in a fresh interpreter, one torch thread; the figure is the best of
``--rounds`` interleaved rounds (see ``_timing``). ``--compare DIR`` measures the same with
``DIR`` first on ``PYTHONPATH`` (a checkout of another revision, e.g. a ``git worktree``, whose
zoo must be importable as ``ro_bench_zoo``) in the same rounds, and prints the ratio.

    python benchmarks/bench_train_speed.py [--env mamujoco_halfcheetah_2x3] [--compare DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

ALGORITHMS = ("random", "maddpg", "svnr", "masql", "pr2", "rommeo", "mmq")

# One measurement, in a fresh interpreter: prints the env steps per second.
PROBE = """
import sys, time
import torch
import ro_bench
from ro_bench import agents, algorithms, harness
from ro_bench.configs import override

algo, env_id, warm_up, starts, steps = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6])
agent_cls, config_cls = algorithms.get(algo)
fields = {f for f in getattr(config_cls, "__dataclass_fields__", {})}
budget = 100_000
wanted = {"total_steps": budget, "update_every": 1, "learning_starts": starts,
          "warmup_fraction": starts / budget, "torch_threads": 1}
config = override(config_cls(), {k: v for k, v in wanted.items() if k in fields})
env = ro_bench.make_vec(env_id, 1)
agent = agent_cls(config, agents.EnvSpaces.from_vec(env), 0)
torch.set_num_threads(1)
obs, _ = env.reset(seed=0)
for _ in range(warm_up):
    obs, _ = harness._train_step(agent, env, obs)
start = time.perf_counter()
for _ in range(steps):
    obs, _ = harness._train_step(agent, env, obs)
print(steps / (time.perf_counter() - start))
"""


def measure(algo: str, args: argparse.Namespace, pythonpath: str | None) -> float:
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    done = subprocess.run(
        [sys.executable, "-c", PROBE, algo, args.env, str(args.warm_up),
         str(args.learning_starts), str(args.steps)],
        env=env, capture_output=True, text=True, check=True,
        cwd=tempfile.gettempdir())  # not a checkout's root, whose packages would come first
    return float(done.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="mamujoco_halfcheetah_2x3")
    parser.add_argument("--algo", nargs="+", default=list(ALGORITHMS))
    parser.add_argument("--warm-up", type=int, default=600)
    parser.add_argument("--learning-starts", type=int, default=500)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--compare", help="another checkout, measured in the same rounds")
    args = parser.parse_args()
    sides = {"this": None} | ({"other": args.compare} if args.compare else {})
    best = {(s, a): 0.0 for s in sides for a in args.algo}
    for _ in range(args.rounds):
        for algo in args.algo:
            for side, path in sides.items():
                best[side, algo] = max(best[side, algo], measure(algo, args, path))
    header = f"{'algorithm':<10} {'this (steps/s)':>15}"
    if args.compare:
        header += f" {'other (steps/s)':>16} {'this/other':>11}"
    print(f"{args.env}, one gradient round per env step\n{header}")
    for algo in args.algo:
        line = f"{algo:<10} {best['this', algo]:>15.1f}"
        if args.compare:
            line += (f" {best['other', algo]:>16.1f} "
                     f"{best['this', algo] / best['other', algo]:>11.2f}")
        print(line)


if __name__ == "__main__":
    main()
