"""What evaluating large inputs in row blocks saves, per algorithm and env family.

Each algorithm's ``gradient_step`` (default config, batch 512, buffer filled as in
``bench_update``) is timed with the zoo's row blocks (``ROWS_PER_PASS`` rows at a time without
gradients) and with one pass per input, interleaved in the same process, one torch thread. The
outputs are the same bits either way (``tests/test_common_nn.py``); only the time differs.

    cd benchmarks && ../.venv/bin/python bench_row_blocks.py [--algo svnr masql] [--calls 10]
"""

from __future__ import annotations

import argparse

import torch

from _timing import rates
from bench_update import TARGETS, filled_agent
from ro_bench_zoo.common import networks

ALGORITHMS = ("maddpg", "svnr", "masql", "pr2", "rommeo", "mmq")


def with_rows(agent: object, rows: int):
    def step() -> object:
        networks.ROWS_PER_PASS = rows
        return agent.gradient_step()
    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algo", nargs="+", default=list(ALGORITHMS))
    parser.add_argument("--target", nargs="+", default=list(TARGETS))
    parser.add_argument("--calls", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(1)
    blocks = networks.ROWS_PER_PASS
    print(f"{'algorithm':<8} {'protocol or env':<26} {'one pass (ms)':>14} {'blocks (ms)':>12} "
          f"{'speed-up':>9}")
    for algo in args.algo:
        for target in args.target:
            agent = filled_agent(algo, target)
            r = rates({"whole": with_rows(agent, 10**12), "blocks": with_rows(agent, blocks)},
                      calls=args.calls, rounds=5)
            print(f"{algo:<8} {target:<26} {1e3 / r['whole']:>14.2f} {1e3 / r['blocks']:>12.2f} "
                  f"{r['blocks'] / r['whole']:>8.2f}x", flush=True)
    networks.ROWS_PER_PASS = blocks


if __name__ == "__main__":
    main()
