"""The command that re-runs a training run, as the argv list a RunResult records, and back.

``build`` writes ``["ro-bench", "train", "--algo", ..., "--protocol", ..., "--seed", ...,
"--out", ..., "--config", "key=value", ..., "--record-samples", N]``, which the harness records in
every RunResult. ``parse`` reads it back into a ``TrainCommand``, refusing anything else, and
``disagreement`` names an option that contradicts the run, so that ``submit`` can check that a
result's command names its algorithm, protocol, seed and config, and ``ro-bench verify`` can run
it again.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ro_bench.params import parse_kwargs

if TYPE_CHECKING:
    from ro_bench.results import RunResult

PROGRAM = ("ro-bench", "train")


@dataclass(frozen=True)
class TrainCommand:
    """What a ``ro-bench train`` command asks for."""

    algo: str
    protocol: str
    seed: int
    out: str
    overrides: dict[str, Any] = field(default_factory=dict)
    """``--config`` values as Python literals (``ro_bench.params.parse_kwargs``), in order."""
    record_samples: int = 0


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # raise, don't exit: the caller names the file
        raise ValueError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ro-bench train", add_help=False, allow_abbrev=False)
    parser.add_argument("--algo", required=True)
    parser.add_argument("--protocol", required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--config", action="append", default=[])
    parser.add_argument("--record-samples", type=int, default=0)
    return parser


def build(algo: str, protocol: str, seed: int, out: str | Path, config: dict[str, Any],
          overrides: dict[str, Any] | None, record_samples: int = 0) -> list[str]:
    """The argv that re-runs a training run: ``config``'s value of each overridden key."""
    words = [*PROGRAM, "--algo", algo, "--protocol", protocol, "--seed", str(seed),
             "--out", str(out)]
    for key in overrides or {}:
        words += ["--config", f"{key}={config[key]!r}"]
    if record_samples:
        words += ["--record-samples", str(record_samples)]
    return words


def disagreement(command: TrainCommand, result: RunResult) -> tuple[str, Any, Any] | None:
    """The first option of ``command`` that names another run than ``result``, as ``(option,
    the command's value, the result's)``, or None."""
    samples = len(result.action_samples[0]["actions"]) if result.action_samples else 0
    for option, said, recorded in (("--algo", command.algo, result.algorithm),
                                   ("--protocol", command.protocol, result.protocol),
                                   ("--seed", command.seed, result.seed),
                                   ("--record-samples", command.record_samples, samples)):
        if said != recorded:
            return option, said, recorded
    return None


def parse(argv: Sequence[str]) -> TrainCommand:
    """The ``TrainCommand`` of an argv; ValueError if it is not a ``ro-bench train`` command."""
    argv = list(argv)
    if tuple(argv[:2]) != PROGRAM:
        raise ValueError(f"it must start with {' '.join(PROGRAM)!r}; got {argv[:2]!r}")
    args = _parser().parse_args(argv[2:])
    if args.seed < 0 or args.record_samples < 0:
        raise ValueError("--seed and --record-samples must be >= 0")
    return TrainCommand(args.algo, args.protocol, args.seed, args.out,
                        parse_kwargs(args.config), args.record_samples)
