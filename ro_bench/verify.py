"""``ro-bench verify``: re-run seeds of leaderboard entries and compare every number bit for bit.

``submit`` checks what a RunResult says about itself; only re-running it shows whether it is true.
``verify`` takes ``K`` seeds of each entry (``<board>/<protocol>/<algorithm>/``), chosen at random
from OS entropy so that a forger cannot know which seeds will be checked (``--sampling-seed``
makes the choice reproducible, for tests), or every seed (also when ``K`` is at least their
number). Each is re-run from its RunResult alone:
its ``command`` is parsed by ``ro_bench.command.parse`` and trained again with
``harness.train`` in a fresh temporary directory, never the recorded ``--out``, on CPU (no
algorithm here selects a GPU). Seeds run in this process one after the other, or with
``workers > 1`` in a pool through ``harness.train_many``.

Compared (``COMPARED``), exactly: protocol, protocol_version, algorithm, seed, config, config_hash,
env_steps, curve, returns, episode_returns, final_metric, final_return, success, decentralized,
diagnostics and action_samples: every number the harness derives from the seed, and every fact that
selects the run. A field an older schema does not record is not compared, and the report says so
(schema 4 has no ``episode_returns``; schema 2 no ``returns``; schema 1 neither ``diagnostics`` nor
``action_samples``).
Floats match when their bits do (``float.hex``), so ``-0.0`` differs from ``0.0``: a file of
record holds the shortest repr of each float, which reads back to the very same bits, so an
honest re-run reproduces even the sign of a zero. Types match too (``1`` is not ``1.0``, ``true``
is not ``1``). Not compared (``NOT_COMPARED``): ``wall_time_s``, ``hardware``, ``packages`` and
``code_revision`` describe the machine, not the result; ``command`` differs in ``--out`` (the
words that select the run are checked before re-running: ``--algo``, ``--protocol`` and
``--seed`` must be the result's, and a board holding a file anywhere but where its protocol,
algorithm and seed put it is refused); ``schema_version`` is the document's format; ``tuning``
is the provenance of the entry's config (the study that chose it), which the config itself
carries into the re-run.

A mismatch names the field and its first differing position, ``curve[3]: recorded (750,
9.98) re-run (750, 9.97); 18 of 21 items differ``. A seed whose command cannot be re-run here
(not a ``ro-bench train`` command, an algorithm neither registered nor installed: a file of record
never chooses code to import) or whose re-run raises fails as well, with the reason.

Unless ``record=False`` each entry verified gets the record
``<board>/<protocol>/<algorithm>/verification.json``, written atomically under the board's
exclusive lock (``journal.locked``)::

    {"format": 1,
     "protocol": str, "algorithm": str,
     "files": {"<seed>": sha256, ...},  # every seed's file of record when verified
     "checks": [                         # one per verified seed, in seed order
       {"seed": int, "passed": bool,
        "mismatches": [str, ...],        # at most MAX_MISMATCHES, each at most MAX_TEXT chars
        "not_compared": [str, ...],
        "verified_at": "YYYY-MM-DDTHH:MM:SSZ", "code_revision": str,
        "packages": {name: version}, "hardware": {...},
        "chosen": "all" | "random, from OS entropy" | "random, from sampling seed S",
        "wall_time_s": float,            # the re-run's own training time
        "host": str}]}                   # a failed seed re-run on another host: how they differ

The sha256 of a file of record is that of its canonical document, ``result.to_json() + "\\n"``,
the bytes ``submit`` writes. ``files`` covers every seed, not only the verified ones: a record
names the seeds it checked, so replacing an unchecked seed must void it as surely as replacing a
checked one. A record whose ``files`` no longer match the board is stale and shows as absent. A
new verification of an entry whose record is current keeps the record's checks of other seeds, so
a failure stays on the record until that very seed is verified again: verifying until a lucky
draw passes cannot hide it. ``status`` reads the record for the tables; a record that is
malformed in any way counts as absent (it is JSON, read with a size cap, never unpickled).

A record is a claim, not a signature: anyone can check it by running ``ro-bench verify`` again.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ro_bench import command as train_command
from ro_bench import harness, journal, protocols
from ro_bench.atomic import atomic_write
from ro_bench.params import did_you_mean, integer
from ro_bench.results import ADDED_IN, RunResult, RunResultError, environment_info
from ro_bench.submit import BOARD, record_path

COMPARED = ("protocol", "protocol_version", "algorithm", "seed", "config", "config_hash",
            "env_steps", "curve", "returns", "episode_returns", "final_metric", "final_return",
            "success", "decentralized", "diagnostics", "action_samples")
NOT_COMPARED = ("wall_time_s", "hardware", "packages", "code_revision", "command",
                "schema_version", "tuning")
RECORD = "verification.json"
RECORD_FORMAT = 1
MAX_RECORD_BYTES = 2**20
MAX_MISMATCHES = 20  # per seed in the record; the report prints every one
MAX_TEXT = 500
ROW = 8  # a sequence of at most this many numbers (a curve point, a joint action) shows whole

Echo = Callable[[str], None]
_REVISION = re.compile(r"(unknown|[0-9a-f]{7,40}(\+dirty)?)")
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_ABSENT = object()


@dataclass(frozen=True)
class SeedVerification:
    """One re-run seed: the mismatches found (none: it passed) and the fields not compared."""

    seed: int
    mismatches: tuple[str, ...]
    not_compared: tuple[str, ...] = ()
    wall_time_s: float = 0.0
    """The re-run's own training time (0 when it did not run)."""
    host: str = ""
    """For a failed seed re-run on another host than its recorded run: how the two differ."""

    @property
    def passed(self) -> bool:
        return not self.mismatches

    def lines(self, protocol: str, algorithm: str) -> list[str]:
        """``PASS|FAIL protocol algorithm seed n (...)``, then each mismatch, indented."""
        notes = "".join(f"; {n}" for n in self.not_compared)
        return [f"{'PASS' if self.passed else 'FAIL'} {protocol} {algorithm} seed {self.seed} "
                f"(re-run {self.wall_time_s:.1f} s{notes})", *(f"    {m}" for m in self.mismatches),
                *([f"    host: {self.host}"] if self.host else [])]


@dataclass(frozen=True)
class EntryVerification:
    """The seeds verified of one entry, and the record written (None with ``record=False``)."""

    protocol: str
    algorithm: str
    directory: Path
    seeds: tuple[SeedVerification, ...]
    record: Path | None

    @property
    def passed(self) -> bool:
        return all(s.passed for s in self.seeds)

    def lines(self) -> list[str]:
        """A PASS/FAIL line per seed, each mismatch indented under its FAIL."""
        return [line for s in self.seeds for line in s.lines(self.protocol, self.algorithm)]


@dataclass(frozen=True)
class VerificationStatus:
    """What the tables show of an entry's current verification record (``status``)."""

    passed: bool
    date: str
    """UTC date of the latest check shown, ``YYYY-MM-DD``."""
    code_revision: str
    """The short code revision it ran on: 8 hex digits, ``+dirty``, or ``unknown``."""
    seeds: tuple[int, ...]
    """Every verified seed if all passed, else the failed ones."""
    mismatches: tuple[str, ...] = ()
    """The failed seeds' mismatches, as recorded."""
    other_host: bool = False
    """Every failed seed was re-run on another host than its recorded run claims (``same_host`` of
    the file's hardware and the check's): the floats may differ for that reason alone (README,
    "ro-bench verify"). It does not vouch for the file, whose hardware a forger writes too; only a
    pass on a CPU like the recorded one does."""

    def __str__(self) -> str:
        """Plain text, e.g. ``yes (2026-11-27, 1a2b3c4d, seed 3)``, ``FAILED (...)`` or
        ``FAILED on another host (...)``."""
        return f"{'yes' if self.passed else 'FAILED'}{self._where()} ({self._details()})"

    def cell(self) -> str:
        """The Markdown table cell: FAILED in bold. Built only from fixed words and checked
        characters (digits, hex, ``-+,()``), it needs no escaping."""
        return f"{'yes' if self.passed else '**FAILED**'}{self._where()} ({self._details()})"

    def to_json(self) -> dict[str, Any]:
        return {"passed": self.passed, "date": self.date, "code_revision": self.code_revision,
                "seeds": list(self.seeds), "mismatches": list(self.mismatches),
                "other_host": self.other_host}

    def _where(self) -> str:
        return " on another host" if self.other_host else ""

    def _details(self) -> str:
        return f"{self.date}, {self.code_revision}, {_seeds_text(self.seeds)}"


@dataclass(frozen=True)
class _Plan:
    """An entry as read from the board, the seeds chosen, and what re-runs each of them."""

    directory: Path
    results: dict[int, RunResult]
    chosen: tuple[int, ...]
    commands: dict[int, train_command.TrainCommand | str]  # a str says why it cannot re-run
    how: str


# --- verifying ---------------------------------------------------------------------------------

def verify(board: str | Path = BOARD, entries: Sequence[tuple[str, str]] | None = None,
           sample: int | None = 1, workers: int = 1, rng: random.Random | int | None = None,
           record: bool = True, echo: Echo | None = None,
           progress: bool = False) -> list[EntryVerification]:
    """Re-run ``sample`` seeds (None: all) of each ``(protocol, algorithm)`` entry on ``board``
    (None: every entry) and compare them with the files of record; write each entry's record.

    ``rng`` (a ``random.Random``, or an int to seed one) chooses the seeds (default: OS entropy,
    which a submitter cannot predict). ``echo`` receives progress and a PASS/FAIL
    line per seed; ``progress`` shows each run's step bar on a terminal. ValueError for an
    unknown board, protocol or algorithm (naming the nearest), ``sample < 1`` or ``workers < 1``.
    """
    board, echo = Path(board), echo or (lambda _: None)
    if sample is not None:
        integer("sample (seeds per entry)", sample, low=1)
    integer("workers", workers, low=1)
    how = "all" if sample is None else "random, from OS entropy" if rng is None else \
        f"random, from sampling seed {rng}" if isinstance(rng, int) else \
        "random, from the caller's generator"
    rng = random.SystemRandom() if rng is None else \
        random.Random(rng) if isinstance(rng, int) else rng
    with journal.reading(_existing(board)):
        directories = entries_on(board) if entries is None else \
            [_entry_directory(board, p, a) for p, a in entries]
        plans = [_plan(board, d, sample, rng, how) for d in directories]
    if not plans:
        raise ValueError(f"the board {board} holds no entries to verify")
    echo(f"verifying {_plural(sum(len(p.chosen) for p in plans), 'seed')} of "
         f"{_plural(len(plans), 'entry', 'entries')} on {board}; seeds: {how}; "
         f"{_plural(workers, 'worker')}")
    done = []
    with tempfile.TemporaryDirectory(prefix="ro-bench-verify-") as tmp:
        for plan, checks in _rerun(plans, Path(tmp), workers, progress, echo):
            done.append(_entry(board, plan, checks, record))
    return done


def _rerun(plans: list[_Plan], out: Path, workers: int, progress: bool,
           echo: Echo) -> Iterator[tuple[_Plan, list[SeedVerification]]]:
    """Each plan with its seeds' verifications once they are all known; each seed's lines are
    echoed as soon as it is checked."""
    jobs = [(plan, seed) for plan in plans for seed in plan.chosen]
    pooled = _run_pool(jobs, out, workers, echo) if workers > 1 else {}
    checks: list[SeedVerification] = []
    for i, (plan, seed) in enumerate(jobs, 1):
        cmd = plan.commands[seed]
        if (plan.directory, seed) in pooled:
            rerun = pooled[plan.directory, seed]
        elif isinstance(cmd, str):
            rerun = cmd
        else:
            echo(f"[{i}/{len(jobs)}] re-running {plan.directory.parent.name} {cmd.algo} "
                 f"seed {seed}")
            rerun = _train(cmd, out, progress)
        checks.append(_check(plan, seed, rerun))
        for line in checks[-1].lines(plan.directory.parent.name, plan.results[seed].algorithm):
            echo(line)
        if seed == plan.chosen[-1]:
            yield plan, checks
            checks = []


def _run_pool(jobs: list[tuple[_Plan, int]], out: Path, workers: int,
              echo: Echo) -> dict[tuple[Path, int], RunResult | str]:
    """The re-runs of the runnable jobs, ``{(entry directory, seed): result}``, through
    ``harness.train_many``; empty when fewer than two would share the pool."""
    runnable = [((plan.directory, seed), plan.commands[seed]) for plan, seed in jobs
                if not isinstance(plan.commands[seed], str)]
    if len(runnable) < 2:
        return {}
    echo(f"re-running {len(runnable)} seeds in {workers} processes")
    return dict(zip([key for key, _ in runnable],
                    _train_many([cmd for _, cmd in runnable], out, workers)))


def _train(cmd: train_command.TrainCommand, out: Path, progress: bool) -> RunResult | str:
    """The re-run's RunResult, or why it failed. An OSError (a full disk) is the machine's
    fault, not the result's: it propagates."""
    try:
        return harness.train(cmd.algo, cmd.protocol, cmd.seed, out, cmd.overrides,
                             record_samples=cmd.record_samples, progress=progress)
    except OSError:
        raise
    except Exception as err:  # the recorded run cannot be reproduced: that is the finding
        return f"re-run: training raised {type(err).__name__}: {err}"


def _train_many(commands: list[train_command.TrainCommand], out: Path,
                workers: int) -> list[RunResult | str]:
    runs = [(c.algo, c.protocol, c.seed, c.overrides, c.record_samples) for c in commands]
    try:
        return harness.train_many(runs, out, workers, False, "verify")
    except OSError:
        raise
    except Exception:
        # train_many stops at the first run that raised. The runs that finished have written
        # their result.json; the others run again here, one by one, for their own errors.
        return [_finished(c, out) or _train(c, out, False) for c in commands]


def _finished(cmd: train_command.TrainCommand, out: Path) -> RunResult | None:
    path = harness.run_dir(out, cmd.protocol, cmd.algo, cmd.seed) / "result.json"
    return RunResult.read(path) if path.exists() else None


def _check(plan: _Plan, seed: int, rerun: RunResult | str) -> SeedVerification:
    if isinstance(rerun, str):
        return SeedVerification(seed, (_clip(rerun),))
    recorded = plan.results[seed]
    mismatches, not_compared = compare(recorded, rerun)
    host = host_difference(recorded.hardware, rerun.hardware) if mismatches else ""
    return SeedVerification(seed, tuple(mismatches), tuple(not_compared), rerun.wall_time_s, host)


HOST_FIELDS = ("platform", "cpu_model", "cpu_simd")  # results.environment_info's hardware


def host_difference(recorded: dict[str, Any], rerun: dict[str, Any]) -> str:
    """How the re-run's host differs from the recorded run's, "" if it does not: the same code and
    seed give other floats on CPUs whose SIMD extensions differ (``results.SIMD_FLAGS``)."""
    def describe(hardware: dict[str, Any]) -> str:
        simd = hardware.get("cpu_simd")
        cpu = " ".join(map(str, simd)) if isinstance(simd, list) else "extensions not on record"
        return f"{hardware.get('platform', 'unknown platform')}, CPU {cpu}"

    return "" if same_host(recorded, rerun) else \
        f"recorded on {describe(recorded)}; re-run on {describe(rerun)}"


def same_host(recorded: dict[str, Any], rerun: dict[str, Any]) -> bool:
    """Whether two ``hardware`` records name the same host (``HOST_FIELDS``): what they claim,
    which a forged file can claim too."""
    return all(recorded.get(k) == rerun.get(k) for k in HOST_FIELDS)


def _entry(board: Path, plan: _Plan, checks: list[SeedVerification],
           record: bool) -> EntryVerification:
    algorithm = next(iter(plan.results.values())).algorithm
    path = write_record(board, plan.directory, plan.results, checks, plan.how) if record else None
    return EntryVerification(plan.directory.parent.name, algorithm, plan.directory,
                             tuple(checks), path)


# --- choosing what to re-run -------------------------------------------------------------------

def entries_on(board: str | Path = BOARD, protocol: str | None = None,
               algorithm: str | None = None) -> list[Path]:
    """The entry directories on ``board`` (those holding ``seed_*.json`` files), sorted; only
    ``protocol``'s, or only one. ValueError naming the nearest name for one not on the board."""
    board = _existing(Path(board))
    if algorithm is not None and protocol is None:
        raise ValueError("--algo names an entry of one protocol: give --protocol too")
    if protocol is not None:
        return [_entry_directory(board, protocol, algorithm)] if algorithm is not None else \
            _entries_of(board, protocol)
    return [d for name in _protocols_on(board) for d in _entries_of(board, name)]


def _existing(board: Path) -> Path:
    if not board.is_dir():
        raise ValueError(f"the board {board} is not a directory; give --board DIR, a leaderboard "
                         f"directory such as {BOARD}")
    return board


def _protocols_on(board: Path) -> list[str]:
    return sorted(p.name for p in board.iterdir()
                  if p.is_dir() and not p.name.startswith(".") and any(p.glob("*/seed_*.json")))


def _entries_of(board: Path, protocol: str) -> list[Path]:
    names = _protocols_on(board)
    if protocol not in names:
        hint = did_you_mean(protocol, names) or f" Protocols on it: {', '.join(names) or 'none'}."
        raise ValueError(f"no entries of protocol {protocol!r} on the board {board}.{hint}")
    return sorted(d for d in (board / protocol).iterdir()
                  if d.is_dir() and any(d.glob("seed_*.json")))


def _entry_directory(board: Path, protocol: str, algorithm: str) -> Path:
    entries = {d.name: d for d in _entries_of(board, protocol)}
    name = algorithm.replace(":", ".")  # as on the board
    if name not in entries:
        hint = did_you_mean(name, entries) or f" Algorithms on it: {', '.join(entries)}."
        raise ValueError(f"no entry of algorithm {algorithm!r} on protocol {protocol!r} on the "
                         f"board {board}.{hint}")
    return entries[name]


def choose_seeds(seeds: Sequence[int], sample: int | None, rng: random.Random) -> tuple[int, ...]:
    """``sample`` of ``seeds`` drawn without replacement (all of them when ``sample`` is None or
    at least their number), in increasing order."""
    seeds = sorted(seeds)
    if sample is None or sample >= len(seeds):
        return tuple(seeds)
    return tuple(sorted(rng.sample(seeds, sample)))


def _plan(board: Path, directory: Path, sample: int | None, rng: random.Random,
          how: str) -> _Plan:
    """Read an entry's files of record, draw its seeds and check that each can be re-run."""
    results = {}
    for path in sorted(directory.glob("seed_*.json")):
        try:
            result = RunResult.read(path)
        except RunResultError as err:
            raise ValueError(f"the board's file of record does not read: {err}") from None
        if record_path(board, result) != path:
            raise ValueError(f"{path} holds seed {result.seed} of {result.algorithm} on "
                             f"{result.protocol}, whose file of record is "
                             f"{record_path(board, result)}: the board was edited by hand")
        results[result.seed] = result
    chosen = choose_seeds(list(results), sample, rng)
    return _Plan(directory, results, chosen, {s: rerunnable(results[s]) for s in chosen}, how)


def rerunnable(result: RunResult) -> train_command.TrainCommand | str:
    """The command that re-runs ``result``, or (a str) why it cannot be re-run here."""
    from ro_bench import algorithms

    try:
        cmd = train_command.parse(result.command)
    except ValueError as err:
        return f"command: not a `ro-bench train` command this ro-bench can re-run: {err}"
    disagreement = train_command.disagreement(cmd, result)
    if disagreement:
        option, said, recorded = disagreement
        return f"command: {option} {said!r} re-runs another run than the result's {recorded!r}"
    if cmd.algo not in algorithms.names():
        return (f"command: --algo {cmd.algo!r} is neither registered nor installed here; a file of "
                "record never chooses code to import, so it cannot be re-run")
    try:
        protocol = protocols.get(cmd.protocol)
        harness.make_config(algorithms.get(cmd.algo)[1], protocol, cmd.overrides)
        harness.check_record_samples(protocol, cmd.record_samples)
    except (TypeError, ValueError) as err:
        return f"command: cannot be re-run: {err}"
    return cmd


# --- comparing ---------------------------------------------------------------------------------

def compare(recorded: RunResult, rerun: RunResult) -> tuple[list[str], list[str]]:
    """``(mismatches, not_compared)``: the first difference of each field of ``COMPARED``, and
    the fields the recorded schema version does not hold."""
    mismatches, not_compared = [], []
    for name in COMPARED:
        added = ADDED_IN.get(name, 1)
        if recorded.schema_version < added:
            not_compared.append(f"{name} not compared (schema version "
                                f"{recorded.schema_version} records none)")
            continue
        found = difference(name, getattr(recorded, name), getattr(rerun, name))
        if found:
            mismatches.append(found)
    return mismatches, not_compared


def difference(name: str, recorded: Any, rerun: Any) -> str | None:
    """None if the values are the same bit for bit; else ``name[i]...: recorded X re-run Y`` at
    the first difference, and how many of the items of a sequence differ."""
    found = _first_difference(name, recorded, rerun)
    if found is None or not (_is_sequence(recorded) and _is_sequence(rerun)):
        return found
    differ = sum(not _same(a, b) for a, b in zip(recorded, rerun)) + \
        abs(len(recorded) - len(rerun))
    total = max(len(recorded), len(rerun))
    return found if differ <= 1 or _is_row(recorded) else f"{found}; {differ} of {total} items " \
                                                          "differ"


def _first_difference(path: str, recorded: Any, rerun: Any) -> str | None:
    if _same(recorded, rerun):
        return None
    if isinstance(recorded, dict) and isinstance(rerun, dict):
        for key in sorted({*recorded, *rerun}):
            if key not in recorded or key not in rerun:
                return f"{path}.{key}: recorded {_show(recorded.get(key, _ABSENT))} re-run " \
                       f"{_show(rerun.get(key, _ABSENT))}"
            found = _first_difference(f"{path}.{key}", recorded[key], rerun[key])
            if found:
                return found
    elif _is_sequence(recorded) and _is_sequence(rerun) and \
            not (_is_row(recorded) and _is_row(rerun)):
        for i, (a, b) in enumerate(zip(recorded, rerun)):
            found = _first_difference(f"{path}[{i}]", a, b)
            if found:
                return found
        return f"{path}: recorded {len(recorded)} items, re-run {len(rerun)}"
    return f"{path}: recorded {_show(recorded)} re-run {_show(rerun)}"


def _same(a: Any, b: Any) -> bool:
    """Equal bit for bit: floats by their bits (``-0.0`` is not ``0.0``), types included (a list
    and a tuple are both a JSON array)."""
    if _is_sequence(a) and _is_sequence(b):
        return len(a) == len(b) and all(map(_same, a, b))
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a.hex() == b.hex()
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


def _is_sequence(value: Any) -> bool:
    return isinstance(value, (list, tuple))


def _is_row(value: Any) -> bool:
    return _is_sequence(value) and len(value) <= ROW and \
        not any(isinstance(v, (list, tuple, dict)) for v in value)


def _show(value: Any) -> str:
    if value is _ABSENT:
        return "(absent)"
    if _is_row(value):
        return "(" + ", ".join(map(_show, value)) + ")"
    if _is_sequence(value):
        return f"[{len(value)} items]"
    if isinstance(value, dict):
        return "{" + ", ".join(map(repr, sorted(value))) + "}"
    return repr(value)  # a float's shortest round-trip form: distinct bits give distinct text


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 3] + "..."


# --- the record --------------------------------------------------------------------------------

def digest(result: RunResult) -> str:
    """sha256 of the file of record of ``result``: its canonical document, as ``submit`` writes."""
    return hashlib.sha256((result.to_json() + "\n").encode("utf-8")).hexdigest()


def write_record(board: Path, directory: Path, results: dict[int, RunResult],
                 checks: list[SeedVerification], how: str) -> Path:
    """Write (or update) ``directory``'s record with ``checks`` of the files ``results``, under
    the board's exclusive lock. A current record's checks of other seeds are kept."""
    code_revision, packages, hardware = environment_info()
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    new = [{"seed": c.seed, "passed": c.passed,
            "mismatches": [_clip(m) for m in c.mismatches[:MAX_MISMATCHES]]
            + ([f"... and {len(c.mismatches) - MAX_MISMATCHES} more"]
               if len(c.mismatches) > MAX_MISMATCHES else []),
            "not_compared": list(c.not_compared), "verified_at": now,
            **({"host": c.host} if c.host else {}),
            "code_revision": code_revision, "packages": packages, "hardware": hardware,
            "chosen": how, "wall_time_s": c.wall_time_s} for c in checks]
    files = {seed: digest(r) for seed, r in results.items()}
    path = directory / RECORD
    with journal.locked(board):
        previous = read_record(path)
        verified = {c.seed for c in checks}
        kept = [] if previous is None or previous["files"] != files else \
            [old for old in previous["checks"] if old["seed"] not in verified]
        algorithm = next(iter(results.values())).algorithm
        document = {"format": RECORD_FORMAT, "protocol": directory.parent.name,
                    "algorithm": algorithm, "files": {str(s): d for s, d in sorted(files.items())},
                    "checks": sorted(kept + new, key=lambda c: c["seed"])}
        text = json.dumps(document, indent=2, sort_keys=True, allow_nan=False) + "\n"
        with atomic_write(path) as file:
            file.write(text.encode("utf-8"))
    return path


def read_record(path: Path) -> dict[str, Any] | None:
    """The record at ``path`` with ``files`` keyed by int seed, or None if it is absent or
    malformed in any way (never an exception)."""
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_RECORD_BYTES + 1)
        if len(data) > MAX_RECORD_BYTES:
            return None
        record = json.loads(data.decode("utf-8"), parse_constant=_reject)
        return _checked_record(record)
    except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return None


def _reject(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _checked_record(record: Any) -> dict[str, Any] | None:
    if not isinstance(record, dict) or record.get("format") != RECORD_FORMAT:
        return None
    files = record["files"]
    if not isinstance(files, dict) or not all(
            isinstance(s, str) and s.isdigit() and isinstance(d, str) and _SHA256.fullmatch(d)
            for s, d in files.items()):
        return None
    files = {int(s): d for s, d in files.items()}
    checks = record["checks"]
    if not isinstance(checks, list) or not checks or not all(_good_check(c, files)
                                                             for c in checks):
        return None
    if len({c["seed"] for c in checks}) != len(checks):
        return None
    return {**record, "files": files}


def _good_check(check: Any, files: dict[int, str]) -> bool:
    return (isinstance(check, dict) and type(check.get("seed")) is int and check["seed"] in files
            and isinstance(check.get("passed"), bool)
            and isinstance(check.get("mismatches"), list)
            and all(isinstance(m, str) for m in check["mismatches"])
            and check["passed"] == (not check["mismatches"])
            and isinstance(check.get("verified_at"), str)
            and bool(_TIMESTAMP.fullmatch(check["verified_at"]))
            and isinstance(check.get("code_revision"), str)
            and bool(_REVISION.fullmatch(check["code_revision"])))


def status(entry_dir: str | Path, results: Sequence[RunResult]) -> VerificationStatus | None:
    """What the tables show of the entry in ``entry_dir`` whose files of record are ``results``:
    None if it has no record, or one that is stale (its files changed since) or malformed."""
    record = read_record(Path(entry_dir) / RECORD)
    if record is None or not results or record["files"] != {r.seed: digest(r) for r in results}:
        return None
    failed = [c for c in record["checks"] if not c["passed"]]
    shown = failed or record["checks"]
    latest = max(shown, key=lambda c: c["verified_at"])
    revision = latest["code_revision"]
    short = revision if revision == "unknown" else revision[:8] + \
        ("+dirty" if revision.endswith("+dirty") else "")
    recorded = {r.seed: r.hardware for r in results}
    other_host = bool(failed) and all(  # also a check made before checks named their host
        isinstance(c.get("hardware"), dict) and not same_host(recorded[c["seed"]], c["hardware"])
        for c in failed)
    return VerificationStatus(not failed, latest["verified_at"][:10], short,
                              tuple(c["seed"] for c in shown),
                              tuple(m for c in failed for m in c["mismatches"]), other_host)


# --- the command line --------------------------------------------------------------------------

def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``verify`` to ``ro-bench``'s subcommands; ``run`` is its function (``args.func``)."""
    p = subparsers.add_parser(
        "verify", help="re-run randomly chosen seeds of leaderboard entries and compare every "
                       "recorded number bit for bit",
        description=__doc__.splitlines()[0])
    p.add_argument("--board", default=str(BOARD), help="the leaderboard (default: %(default)s)")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", help="every entry on the board")
    which.add_argument("--protocol", help="the entries of this protocol (or one, with --algo)")
    p.add_argument("--algo", help="with --protocol: only this algorithm's entry")
    p.add_argument("--sample", default="1", metavar="K|all",
                   help="seeds re-run per entry, drawn at random, or all (also when K is at "
                        "least the entry's seeds; default: %(default)s)")
    p.add_argument("--workers", type=int, default=1, help="processes at a time")
    p.add_argument("--sampling-seed", type=int, metavar="S",
                   help="draw the seeds from this seed, reproducibly (default: OS entropy, "
                        "which a submitter cannot predict)")
    p.add_argument("--no-record", action="store_true",
                   help="do not write BOARD/<protocol>/<algo>/verification.json")
    p.set_defaults(func=run)
    return p


def parse_sample(text: str) -> int | None:
    """``--sample``: ``all`` (None) or a count K >= 1."""
    if text.strip().lower() == "all":
        return None
    try:
        k = int(text)
    except ValueError:
        raise ValueError(f"--sample must be a number of seeds K >= 1 or 'all'; got {text!r}") \
            from None
    if k < 1:
        raise ValueError(f"--sample must be a number of seeds K >= 1 or 'all'; got {k}")
    return k


def run(args: argparse.Namespace) -> int:
    """``ro-bench verify``: 0 if every seed passed, 1 if any failed (each mismatch printed)."""
    sample = parse_sample(args.sample)
    if args.all and args.algo:
        raise ValueError("--algo names one entry of one protocol: give --protocol, not --all")
    board = Path(args.board)
    entries = None if args.all else [
        (d.parent.name, d.name) for d in entries_on(board, args.protocol, args.algo)]
    started = time.perf_counter()
    done = verify(board, entries, sample, args.workers, args.sampling_seed,
                  record=not args.no_record,
                  echo=lambda line: print(line, flush=True), progress=True)
    print(summary(done, time.perf_counter() - started))
    return 0 if all(e.passed for e in done) else 1


def summary(done: Sequence[EntryVerification], wall_time_s: float) -> str:
    """The closing lines: seeds passed and failed, the wall time, the failed seeds, the records."""
    seeds = [s for e in done for s in e.seeds]
    passed = sum(s.passed for s in seeds)
    lines = [f"verified {_plural(len(seeds), 'seed')} of {_plural(len(done), 'entry', 'entries')}"
             f" in {wall_time_s:.1f} s wall: {passed} passed, {len(seeds) - passed} FAILED"]
    for e in done:
        if not e.passed:
            lines.append(f"  FAILED: {e.protocol} {e.algorithm} "
                         f"{_seeds_text([s.seed for s in e.seeds if not s.passed])}")
    records = [e.record for e in done if e.record is not None]
    if records:
        lines.append(f"recorded in {_plural(len(records), 'verification.json file')}: "
                     f"{records[0]}{', ...' if len(records) > 1 else ''}")
    return "\n".join(lines)


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else plural or word + 's'}"


def _seeds_text(seeds: Sequence[int]) -> str:
    """``seed 3`` or ``seeds 1, 3``."""
    return f"seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))}"
