"""Start-up time of the ``ro-bench`` command line, and whether each command imports torch.

Each command runs in a fresh interpreter (``python -m ro_bench.cli ...``), as a user's shell
starts it; the figure is the best wall time of several interleaved rounds (see ``_timing``).
``--compare DIR`` times the same commands with ``DIR`` first on ``PYTHONPATH`` (a checkout of
another revision, e.g. a ``git worktree``) in the same rounds, and prints the ratio.

    python benchmarks/bench_cli.py [--rounds 7] [--compare /path/to/other/checkout]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time

from _timing import best_of_rounds, checkout_env

COMMANDS = {
    "list": ["list"],
    "play climbing": ["play", "climbing"],
    "--help": ["--help"],
    "train --help": ["train", "--help"],
    "train --algo maddpg --help": ["train", "--algo", "maddpg", "--help"],
}
PROBE = ("import runpy, sys, atexit\n"
         "atexit.register(lambda: print('torch imported:', 'torch' in sys.modules, "
         "file=sys.stderr))\n"
         "sys.argv = ['ro-bench', *sys.argv[1:]]\n"
         "runpy.run_module('ro_bench.cli', run_name='__main__')\n")


def run(argv: list[str], pythonpath: str | None) -> tuple[float, bool]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], env=checkout_env(pythonpath),
                          capture_output=True, text=True, cwd=tempfile.gettempdir())
    seconds = time.perf_counter() - start
    return seconds, "torch imported: True" in done.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--compare", help="another checkout, timed in the same rounds")
    args = parser.parse_args()
    sides = {"this": None} | ({"other": args.compare} if args.compare else {})
    imported = {}  # (checkout, command) -> whether it imported torch

    def seconds(command: str, path: str | None) -> float:
        took, imported[path, command] = run(COMMANDS[command], path)
        return took

    best = best_of_rounds(COMMANDS, sides, seconds, args.rounds)
    torch = {(side, c): imported[path, c] for side, path in sides.items() for c in COMMANDS}
    header = f"{'command':<28} {'this (s)':>9} {'torch':>6}"
    if args.compare:
        header += f" {'other (s)':>10} {'torch':>6} {'other/this':>11}"
    print(header)
    for command in COMMANDS:
        line = f"{command:<28} {best['this', command]:>9.3f} {str(torch['this', command]):>6}"
        if args.compare:
            line += (f" {best['other', command]:>10.3f} {str(torch['other', command]):>6} "
                     f"{best['other', command] / best['this', command]:>11.2f}")
        print(line)


if __name__ == "__main__":
    main()
