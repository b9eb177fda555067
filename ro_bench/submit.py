"""Submissions to the leaderboard: RunResults checked against their protocol, then stored.

``submit`` checks every file against the rules below and, only if all of them pass, writes each
as the file of record ``<board>/<protocol>/<algorithm>/seed_<n>.json`` (in its canonical JSON,
never the submitted bytes): one bad file and nothing is written. The checks against the board and
the writes happen under an exclusive lock on ``<board>/.lock``, so concurrent submissions see each
other's files and two of them never both fill the same slot.

A rejection is a ``SubmissionError`` whose ``rule`` names the rule broken:

``schema``         the file is a RunResult of a schema version this ro-bench reads
``config_hash``    the recorded hash is the sha256 of the recorded config
``algorithm``      the algorithm's name can name a directory (letters, digits, ``_.:+-``)
``protocol``       the protocol is registered, at the version the run was trained under
``seed``           the seed is one of the protocol's seeds
``budget``         the run trained no more env steps than the protocol's budget
``incomplete``     the run trained its whole budget and its last evaluation is at the end
``decentralized``  execution was decentralized (or ``allow_centralized``: tables mark it)
``duplicate``      one submission holds each (protocol, algorithm, seed) at most once
``exists``         a seed already on the board is overwritten only with ``replace``
``config``         all seeds of an entry (protocol, algorithm) share one config
``seed_set``       a new entry arrives with all of its protocol's seeds at once
"""

from __future__ import annotations

import contextlib
import fcntl
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from ro_bench import protocols
from ro_bench.results import RunResult, RunResultError

BOARD = Path(__file__).resolve().parent.parent / "leaderboards"
RULES = ("schema", "config_hash", "algorithm", "protocol", "seed", "budget", "incomplete",
         "decentralized", "duplicate", "exists", "config", "seed_set")
# Registered names and ``module:Class`` paths; never '/', '..' or a hidden name on the board.
_ALGORITHM_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:+-]*")


class SubmissionError(ValueError):
    """A submitted file broke ``rule`` (one of ``RULES``); ``source`` is the file."""

    def __init__(self, rule: str, source: str | Path, reason: str):
        self.rule, self.source, self.reason = rule, str(source), reason
        super().__init__(f"{source}: rejected by rule '{rule}': {reason}")


class Stored(NamedTuple):
    path: Path
    replaced: bool
    """Whether it overwrote a file of record (``replace=True``)."""


def submit(
    files: Iterable[str | Path],
    board: str | Path = BOARD,
    replace: bool = False,
    allow_centralized: bool = False,
) -> list[Stored]:
    """Check every file, then store them all on ``board``; if one fails, raise SubmissionError."""
    board = Path(board)
    submitted: dict[Path, tuple[Path, RunResult]] = {}  # by the file of record each would be
    for source in map(Path, files):
        result = check_file(source, allow_centralized)
        target = record_path(board, result)
        if target in submitted:
            raise SubmissionError("duplicate", source, f"seed {result.seed} of {result.algorithm} "
                                  f"on {result.protocol} is also in {submitted[target][0]}")
        submitted[target] = (source, result)
    entries: dict[Path, dict[Path, tuple[Path, RunResult]]] = {}
    for target, submission in submitted.items():
        entries.setdefault(target.parent, {})[target] = submission
    board.mkdir(parents=True, exist_ok=True)
    with _locked(board / ".lock"):
        for directory, submissions in entries.items():
            _check_entry(directory, submissions, replace)
        return [_store(target, result) for target, (_, result) in submitted.items()]


def check_file(path: str | Path, allow_centralized: bool = False) -> RunResult:
    """The file's RunResult, if it passes every rule that does not depend on the board."""
    try:
        result = RunResult.read(path)
    except RunResultError as err:
        rule = "config_hash" if err.field == "config_hash" else "schema"
        unsourced = RunResultError(err.reason, err.field)  # SubmissionError names the file
        raise SubmissionError(rule, path, str(unsourced)) from None
    except OSError as err:
        raise SubmissionError("schema", path, f"cannot read it: {err.strerror}") from None
    if not _ALGORITHM_NAME.fullmatch(result.algorithm):
        raise SubmissionError("algorithm", path, f"{result.algorithm!r} cannot name a leaderboard "
                              "directory: use letters, digits and _.:+- (not first: .:+-)")
    try:
        protocol = protocols.get(result.protocol)
    except ValueError as err:
        raise SubmissionError("protocol", path, str(err)) from None
    if result.protocol_version != protocol.version:
        raise SubmissionError("protocol", path, f"the run was trained under version "
                              f"{result.protocol_version} of protocol {protocol.name!r}, which is "
                              f"now at version {protocol.version}: train it again")
    _check_run(path, result, protocol, allow_centralized)
    return result


def _check_run(path: Path | str, result: RunResult, protocol: protocols.Protocol,
               allow_centralized: bool) -> None:
    if result.seed not in protocol.seeds:
        raise SubmissionError("seed", path, f"seed {result.seed} is not one of protocol "
                              f"{protocol.name}'s seeds {protocol.seeds}")
    if result.env_steps > protocol.budget:
        raise SubmissionError("budget", path, f"{result.env_steps} env steps exceed protocol "
                              f"{protocol.name}'s budget of {protocol.budget}")
    if result.env_steps < protocol.budget:
        raise SubmissionError("incomplete", path, f"the run stopped after {result.env_steps} of "
                              f"protocol {protocol.name}'s {protocol.budget} env steps: resume it "
                              "(ro-bench train --resume) to train the whole budget")
    last = result.curve[-1][0] if result.curve else None
    if last != result.env_steps:
        raise SubmissionError("incomplete", path, f"the last evaluation is at {last} env steps, "
                              f"not at the end of training ({result.env_steps})")
    if not result.decentralized and not allow_centralized:
        raise SubmissionError("decentralized", path, "the agent's execution was not "
                              "decentralized; submit with --allow-centralized to list it, marked")


def _check_entry(directory: Path, submissions: dict[Path, tuple[Path, RunResult]],
                 replace: bool) -> None:
    """The rules that depend on the board's files of one entry: ``{target: (source, result)}``."""
    on_board = {path: RunResult.read(path) for path in sorted(directory.glob("seed_*.json"))}
    for target, (source, _) in submissions.items():
        if target in on_board and not replace:
            raise SubmissionError("exists", source, f"{target} is already on the board; "
                                  "submit with --replace to overwrite it")
    first, result = next(iter(submissions.values()))
    entry = {path: r for path, r in on_board.items() if path not in submissions}
    entry.update({source: r for source, r in submissions.values()})
    for other, r in entry.items():
        if r.config_hash != result.config_hash:
            raise SubmissionError("config", first, f"its config (hash {result.config_hash:.12}) "
                                  f"differs from that of {other} (hash {r.config_hash:.12}): all "
                                  "seeds of an entry share one config")
    protocol = protocols.get(result.protocol)
    missing = sorted(set(protocol.seeds) - {r.seed for _, r in submissions.values()})
    if not on_board and missing:
        raise SubmissionError("seed_set", first, f"{directory} is a new entry: submit all of "
                              f"protocol {protocol.name}'s seeds {protocol.seeds} at once; "
                              f"missing {missing}")


def _store(path: Path, result: RunResult) -> Stored:
    replaced = path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    result.write(path)  # atomic, canonical JSON
    return Stored(path, replaced)


def record_path(board: Path, result: RunResult) -> Path:
    """The file of record of a result; ':' becomes '.' as in the harness's run directories."""
    return Path(board) / result.protocol / result.algorithm.replace(":", ".") / \
        f"seed_{result.seed}.json"


def result_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files named, with each directory replaced by every ``result.json`` under it."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(path.rglob("result.json"))
            if not found:
                raise ValueError(f"{path}: no result.json under this directory")
            files += found
        else:
            files.append(path)
    return files


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing); closing the file releases it."""
    with open(path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
