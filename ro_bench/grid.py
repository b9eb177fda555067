"""A plan of runs: many (algorithm, protocol) entries, every seed, in one pool of processes.

A plan file holds one entry per line, written as the options of ``ro-bench evaluate``::

    # comments and blank lines are ignored
    svnr max_of_three-s2=1.5 --record-samples 100
    svnr particle_gather --config update_every=4 --config value_samples=16
    masql max_of_three-s2=2.0 --config policy_lr=0.0031 --tuned tuned/masql.tuned.json

``--cluster`` marks an entry meant for a cluster (the MaMuJoCo full track: 3M env steps a run):
``select`` leaves it out unless asked for it, by ``--cluster`` on ``ro-bench grid`` or by naming
its protocol, so that running the whole plan on one machine never starts it by accident.

``--tuned FILE`` names the provenance that ``ro-bench tune`` wrote with the config (relative
paths from the plan's folder): the entry's RunResults carry it (``RunResult.tuning``) and its
leaderboard row says "tuned", and the line's ``--config`` values must be the study's best.

``leaderboards/entries.txt`` is the plan of the entries of record: ``leaderboards/regenerate.sh``
and the Table 2 wall-time benchmark both run it, so a leaderboard entry's settings live there
and nowhere else. ``read_plan`` checks every line (algorithm, protocol, config keys and types)
before anything runs and names the line of a mistake.

``run`` trains every (entry, seed) through ``harness.train`` with ``workers`` processes sharing
one queue, longest protocol first, so no worker idles while another entry still has seeds left;
or, given a Ray address, as Ray tasks of one CPU each (``ro_bench.ray_pool``).
The results are exactly those of ``ro-bench evaluate``: same run directories, same RunResults.
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ro_bench import algorithms, checkpoint, harness, protocols, ray_pool
from ro_bench.configs import json_values, to_dict
from ro_bench.params import did_you_mean, parse_kwargs
from ro_bench.results import RunResult, entry_name


@dataclasses.dataclass(frozen=True)
class Entry:
    """One line of a plan: what ``ro-bench evaluate`` would be given."""

    algo: str
    protocol: str
    overrides: dict[str, Any] = dataclasses.field(default_factory=dict)
    record_samples: int = 0
    tuned: str | None = None  # the .tuned.json file of the study that chose the config
    cluster: bool = False  # a run for a cluster: only selected when asked for (see select)

    def config(self) -> dict[str, Any]:
        """The config (as JSON values) that this entry's runs train with."""
        _, config_cls = algorithms.get(self.algo)
        return to_dict(harness.make_config(config_cls, protocols.get(self.protocol),
                                           self.overrides))

    def command(self) -> str:
        words = [self.algo, self.protocol]
        for key, value in self.overrides.items():
            words += ["--config", f"{key}={value}"]
        if self.record_samples:
            words += ["--record-samples", str(self.record_samples)]
        if self.tuned:
            words += ["--tuned", self.tuned]
        if self.cluster:
            words.append("--cluster")
        return shlex.join(words)

    @property
    def name(self) -> str:
        """The entry's name on the board (``results.entry_name``)."""
        return entry_name(self.algo, self.tuned is not None)

    def tuning(self) -> dict[str, Any] | None:
        """The provenance of a tuned entry (None for a hand-set one), checked against the
        entry: the study tuned this algorithm on this protocol's version, and chose these
        values."""
        if not self.tuned:
            return None
        from ro_bench.tuning import read_provenance

        record, params = read_provenance(self.tuned)
        protocol = protocols.get(self.protocol)
        if record["protocol_version"] != protocol.version:
            raise ValueError(f"{self.tuned}: tuned on version {record['protocol_version']} of "
                             f"{self.protocol}, which is now version {protocol.version}")
        mine = json_values(self.overrides)
        differing = [f"{k}={v!r} there, {mine.get(k, '(unset)')!r} here"
                     for k, v in params.items() if mine.get(k) != v]
        if differing:
            raise ValueError(f"{self.tuned}: the study's best config is not this entry's "
                             f"({'; '.join(differing)})")
        return record


class _LineParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # raise, don't exit: the caller names the line
        raise ValueError(message)


def _line_parser() -> argparse.ArgumentParser:
    parser = _LineParser(prog="plan line", add_help=False)
    parser.add_argument("algo")
    parser.add_argument("protocol")
    parser.add_argument("--config", action="append", default=[])
    parser.add_argument("--record-samples", type=int, default=0)
    parser.add_argument("--tuned")
    parser.add_argument("--cluster", action="store_true")
    return parser


def parse_line(text: str, folder: Path | None = None) -> Entry:
    """One plan line -> ``Entry``, every name and config value checked; a relative ``--tuned``
    path is taken from ``folder`` (the plan's)."""
    args = _line_parser().parse_args(shlex.split(text))
    protocol = protocols.get(args.protocol)
    tuned = args.tuned
    if tuned and folder is not None and not Path(tuned).is_absolute():
        tuned = str(Path(folder) / tuned)
    entry = Entry(args.algo, args.protocol, parse_kwargs(args.config),
                  harness.check_record_samples(protocol, args.record_samples), tuned,
                  args.cluster)
    entry.config()  # unknown algorithms, config keys and value types fail here
    entry.tuning()  # a tuned entry's provenance must be readable and match
    return entry



def read_plan(path: Path) -> list[Entry]:
    """Every entry of a plan file; a bad line raises ``ValueError`` naming the file and line."""
    if not Path(path).is_file():
        raise ValueError(f"plan {str(path)!r} is not a file")
    entries, seen = [], {}
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            entry = parse_line(text, Path(path).parent)
        except ValueError as error:
            raise ValueError(f"{path}:{number}: {error}") from None
        key = (entry.name, entry.protocol)
        if key in seen:
            raise ValueError(f"{path}:{number}: {entry.name} on {entry.protocol} is already "
                             f"planned at line {seen[key]}; one entry per algorithm and protocol "
                             "(and one tuned entry beside it)")
        seen[key] = number
        entries.append(entry)
    return entries


def select(entries: Sequence[Entry], algos: Iterable[str] = (),
           protocol_names: Iterable[str] = (), cluster: bool = False) -> list[Entry]:
    """The entries whose algorithm is in ``algos`` and protocol in ``protocol_names`` (an empty
    filter keeps all); an entry marked ``--cluster`` only with ``cluster`` or when its protocol
    is named. A name that matches no entry is an error naming the nearest one, and so is a
    choice that leaves nothing to run."""
    algos, protocol_names = list(algos), list(protocol_names)
    entries = [e for e in entries if cluster or not e.cluster or e.protocol in protocol_names]
    for wanted, have, what in ((algos, {e.algo for e in entries}, "algorithm"),
                               (protocol_names, {e.protocol for e in entries}, "protocol")):
        for name in wanted:
            if name not in have:
                raise ValueError(f"no planned entry has the {what} {name!r}."
                                 f"{did_you_mean(name, sorted(have))} Planned: "
                                 f"{', '.join(sorted(have))}.")
    chosen = [e for e in entries if (not algos or e.algo in algos)
              and (not protocol_names or e.protocol in protocol_names)]
    if entries and not chosen:
        raise ValueError(f"no planned entry runs {' or '.join(algos)} on "
                         f"{' or '.join(protocol_names)}")
    return chosen


@dataclasses.dataclass
class GridResult:
    results: list[tuple[Entry, list[RunResult]]]  # in plan order; each entry's in seed order
    wall_time_s: float  # the whole grid, first start to last finish
    resumed: int = 0  # runs continued from a checkpoint of an earlier start (``resume``)

    @property
    def runs(self) -> int:
        return sum(len(rs) for _, rs in self.results)

    @property
    def run_time_s(self) -> float:
        """Sum of the runs' own wall times."""
        return sum(r.wall_time_s for _, rs in self.results for r in rs)


def jobs(entries: Sequence[Entry], seeds: Sequence[int] | None) -> list[tuple[int, int]]:
    """Every (entry index, seed), longest protocol budget first, then in plan and seed order."""
    order = sorted(range(len(entries)), key=lambda i: -protocols.get(entries[i].protocol).budget)
    return [(i, seed) for i in order
            for seed in (seeds if seeds is not None else protocols.get(entries[i].protocol).seeds)]


def run(entries: Sequence[Entry], out: Path, seeds: Sequence[int] | None = None,
        workers: int = 1, resume: bool = False, ray_address: str | None = None) -> GridResult:
    """Train every entry on ``seeds`` (default: each protocol's), ``workers`` at a time; or,
    given ``ray_address``, each run as a Ray task on that cluster (``ray_pool.LOCAL``: a new
    local Ray instance), where Ray decides how many run at once."""
    if ray_address is not None and workers != 1:
        raise ValueError(f"workers={workers} with ray_address: Ray places the runs, one CPU each; "
                         "leave workers at 1")
    todo = jobs(entries, seeds)
    tunings = [entry.tuning() for entry in entries]
    runs = [harness.Run(entries[i].algo, entries[i].protocol, seed, entries[i].overrides,
                        entries[i].record_samples, tunings[i]) for i, seed in todo]
    resumed = sum(checkpoint.exists(run.directory(out)) for run in runs) if resume else 0
    started = time.perf_counter()
    if ray_address is None:
        finished = harness.train_many(runs, out, workers, resume, "grid")
    else:
        finished = ray_pool.train_many_on_ray(runs, out, resume, ray_address, "grid")
    wall = time.perf_counter() - started
    done: dict[int, list[RunResult]] = {i: [] for i in range(len(entries))}
    for (i, _), result in zip(todo, finished):
        done[i].append(result)
    return GridResult([(entry, sorted(done[i], key=lambda r: r.seed))
                       for i, entry in enumerate(entries)], wall, resumed)
