"""``ro-bench tune``: the command line of ``ro_bench.tuning``.

    ro-bench tune --algo svnr masql --protocol max_of_three-s2=1.5 --trials 50 --workers 2
    ro-bench tune --algo svnr --protocol max_of_three-s2=1.5 --trials 50 \\
        --storage postgresql://user@db/ro_bench --ray auto --workers 64

Several ``--algo`` run one study each, one after the other, with the same trials, seeds, pruner
and workers (App. H.5.2's equal budget). Each prints its best value and config and the line to
put in ``leaderboards/entries.txt``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ro_bench import tuning
from ro_bench.params import parse_kwargs


def add_parser(subparsers: Any, count: Any, parse_seeds: Any) -> argparse.ArgumentParser:
    """Add ``tune`` to ``ro-bench``'s subcommands (``count`` and ``parse_seeds``: the CLI's
    argument checkers)."""
    p = subparsers.add_parser(
        "tune", help="tune algorithms' configs on a protocol: Optuna studies with the TPE "
                     "sampler, on the protocol's tuning seeds",
        description=tuning.__doc__.splitlines()[0])
    p.add_argument("--algo", nargs="+", required=True,
                   help="algorithms to tune, one study each with the same budget")
    p.add_argument("--protocol", required=True, help="protocol name (see ro-bench list)")
    p.add_argument("--trials", type=count("--trials", 1), required=True,
                   help="finished trials (complete or pruned) per study")
    p.add_argument("--out", default="tuning",
                   help="where trials' runs, the SQLite study and the results go "
                        "(default: %(default)s)")
    p.add_argument("--storage", metavar="URL",
                   help="an SQLAlchemy database URL shared by every worker, e.g. "
                        "postgresql://user@host/db (default: sqlite:///OUT/tune.db)")
    p.add_argument("--study", metavar="NAME",
                   help="the study's name, to resume it (default: ALGO-PROTOCOL; one --algo)")
    p.add_argument("--seeds", help="tuning seeds, e.g. 100-102 (default: the protocol's "
                                   "tuning_seeds; never its reporting seeds)")
    p.add_argument("--workers", type=count("--workers", 1), default=1,
                   help="trials at a time: processes here, or Ray tasks with --ray")
    p.add_argument("--ray", nargs="?", const=tuning.LOCAL_RAY, metavar="ADDRESS",
                   help="run the workers as Ray tasks: on a local Ray instance, or on the "
                        "cluster at ADDRESS (e.g. auto); the storage must reach every node")
    p.add_argument("--config", action="append", default=[], metavar="KEY=VALUE",
                   help="hold a config field at this value (not tuned; repeatable)")
    p.add_argument("--pruner", choices=tuning.PRUNERS, default="median",
                   help="stop hopeless trials at the harness's evaluations "
                        "(default: %(default)s)")
    p.add_argument("--sampler-seed", type=count("--sampler-seed", 0), default=0,
                   help="the TPE sampler's seed (worker i uses seed + i)")
    p.set_defaults(func=run, parse_seeds=parse_seeds)
    return p


def run(args: argparse.Namespace) -> None:
    if args.study and len(args.algo) > 1:
        raise ValueError("--study names one study: give one --algo with it (each algorithm "
                         "gets its own study, named ALGO-PROTOCOL by default)")
    seeds = tuple(args.parse_seeds(args.seeds)) if args.seeds else None
    settings = [tuning.Settings(algo, args.protocol, args.trials, Path(args.out), args.storage,
                                args.study, seeds, parse_kwargs(args.config), args.pruner,
                                args.sampler_seed, args.workers, args.ray)
                for algo in args.algo]  # every study checked before the first starts
    for outcome in tuning.run_all(settings):
        print(report(outcome))


def report(outcome: tuning.Outcome) -> str:
    s = outcome.settings
    values = ", ".join(f"{k}={v!r}" for k, v in outcome.best_params.items())
    return "\n".join([
        f"study {s.study_name} ({s.storage_url}): best {outcome.best_value:.4f} "
        f"(mean final metric over seeds {', '.join(map(str, s.tuning_seeds))})",
        f"  trials: {outcome.complete} complete, {outcome.pruned} pruned, {outcome.failed} "
        f"failed; {outcome.wall_time_s:.0f} s wall with {s.workers} worker(s)",
        f"  best config: {values}",
        f"  provenance: {outcome.provenance_file}",
        f"  entry line: {outcome.entry_line()}",
    ])
