"""Submissions to the leaderboard: RunResults checked against their protocol, then stored.

``submit`` checks every file against the rules below and, only if all of them pass, writes each
as the file of record ``<board>/<protocol>/<entry>/seed_<n>.json`` (the entry is the algorithm's
name, or ``<algorithm>+tuned`` for a config ``ro-bench tune`` chose) (in its canonical JSON,
never the submitted bytes): one bad file and nothing is written. The checks against the board and
the writes happen under an exclusive lock on ``<board>/.lock``, so concurrent submissions see each
other's files and two of them never both fill the same slot. The files of one submission land in
one transaction (``ro_bench.journal``): killed at any moment, the board holds all of them or none.

The rules check what a file says about itself, not whether its numbers are true: only re-running
it can tell that (``ro-bench verify``). A rejection is a ``SubmissionError`` whose ``rule`` names
the rule broken:

``size``           the file is at most ``results.MAX_BYTES`` long
``depth``          its JSON nests at most ``results.MAX_DEPTH`` deep
``schema``         the file is a RunResult of a schema version this ro-bench reads
``config_hash``    the recorded hash is the sha256 of the recorded config
``algorithm``      the algorithm's name can name a directory (letters, digits, ``_.:+-``)
``protocol``       the protocol is registered, at the version the run was trained under
``seed``           the seed is one of the protocol's seeds
``budget``         the run trained no more env steps than the protocol's budget
``incomplete``     the run trained its whole budget and its last evaluation is at the end
``decentralized``  execution was decentralized (or ``allow_centralized``: tables mark it)
``final``          the final metric (and, from schema 3, the final return) is the curve's last
``success``        ``success`` is the protocol's test: the final metric >= its success threshold
``command``        the command is a ``ro-bench train`` argv naming the run's algorithm, protocol,
                   seed, config overrides and ``--record-samples``; for an algorithm this
                   ro-bench knows, the config those options give is exactly the recorded one
``config_class``   a known algorithm's config reads back through its config class unchanged
``duplicate``      one submission holds each (protocol, algorithm, seed) at most once
``exists``         a seed already on the board is overwritten only with ``replace``
``config``         all seeds of an entry (protocol, algorithm) share one config
``seed_set``       a new entry arrives with all of its protocol's seeds at once
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from ro_bench import command as train_command
from ro_bench import journal, protocols
from ro_bench.results import DepthError, RunResult, RunResultError, SizeError, result_entry_name

BOARD = Path(__file__).resolve().parent.parent / "leaderboards"
RULES = ("size", "depth", "schema", "config_hash", "algorithm", "protocol", "seed", "budget",
         "incomplete", "decentralized", "final", "success", "command", "config_class",
         "duplicate", "exists", "config", "seed_set")
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
    with journal.locked(board), journal.transaction(board) as tx:
        for directory, submissions in entries.items():
            _check_entry(directory, submissions, replace)
        stored = []
        for target, (_, result) in submitted.items():
            tx.write(target.relative_to(board), (result.to_json() + "\n").encode("utf-8"))
            stored.append(Stored(target, target.exists()))
    return stored


def check_file(path: str | Path, allow_centralized: bool = False) -> RunResult:
    """The file's RunResult, if it passes every rule that does not depend on the board."""
    try:
        result = RunResult.read(path)
    except RunResultError as err:
        rule = "size" if isinstance(err, SizeError) else "depth" if isinstance(err, DepthError) \
            else err.field if err.field in ("config_hash", "command") else "schema"
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
    _check_consistency(path, result, protocol)
    _check_command(path, result, protocol)


def _check_consistency(path: Path | str, result: RunResult, protocol: protocols.Protocol) -> None:
    """The rules ``final`` and ``success``: the result's summary is its curve's last point."""
    if result.final_metric != result.curve[-1][1]:
        raise SubmissionError("final", path, f"final_metric {result.final_metric!r} is not the "
                              f"curve's last metric {result.curve[-1][1]!r}")
    if result.returns and result.final_return != result.returns[-1]:
        raise SubmissionError("final", path, f"final_return {result.final_return!r} is not the "
                              f"last of returns, {result.returns[-1]!r}")
    reached = protocol.succeeded(result.final_metric)
    if reached is None and result.success is not None:
        raise SubmissionError("success", path, f"success is {result.success}, but protocol "
                              f"{protocol.name} defines no success: it must be null")
    if reached is not None and result.success != reached:
        raise SubmissionError("success", path, f"success is {result.success}, but the final "
                              f"metric {result.final_metric!r} {'>=' if reached else '<'} the "
                              f"protocol's success threshold {protocol.success_threshold!r}")


def _check_command(path: Path | str, result: RunResult, protocol: protocols.Protocol) -> None:
    """The rules ``command`` and ``config_class``."""
    try:
        command = train_command.parse(result.command)
    except ValueError as err:
        raise SubmissionError("command", path, f"the command is not a `ro-bench train` command "
                              f"this ro-bench can re-run: {err}") from None
    disagreement = train_command.disagreement(command, result)
    if disagreement:
        option, said, recorded = disagreement
        raise SubmissionError("command", path, f"the command's {option} {said!r} is not the "
                              f"run's {recorded!r}")
    config_cls = known_config_class(result.algorithm)
    if config_cls is None:  # an outside algorithm: its overrides at least must be in the config
        expected = {**result.config, **_json_values(command.overrides)}
    else:
        _check_config_class(path, config_cls, result.config)
        from ro_bench import harness

        try:
            expected = _json_values(harness.make_config(config_cls, protocol, command.overrides))
        except ValueError as err:
            raise SubmissionError("command", path, f"the command's --config is not valid for "
                                  f"{result.algorithm}: {err}") from None
    differ = sorted(k for k in {*expected, *result.config}
                    if expected.get(k, ...) != result.config.get(k, ...))
    if differ:
        shown = ", ".join(f"{k}: command {expected.get(k, '(unset)')!r}, config "
                          f"{result.config.get(k, '(unset)')!r}" for k in differ[:5])
        raise SubmissionError("command", path, f"the command trains another config than the "
                              f"one recorded ({shown})")


def known_config_class(algorithm: str) -> type | None:
    """The config class of a registered or installed (entry point) algorithm, or None. A
    ``module:Class`` name is never imported: a submitted file must not choose code to run."""
    from ro_bench import algorithms

    if algorithm not in algorithms.names():
        return None
    return algorithms.get(algorithm)[1]


def _check_config_class(path: Path | str, config_cls: type, config: dict) -> None:
    from ro_bench.configs import from_dict

    try:
        parsed = _json_values(from_dict(config_cls, config))
    except ValueError as err:
        raise SubmissionError("config_class", path, f"the config does not parse with "
                              f"{config_cls.__name__}: {err}") from None
    missing = sorted(set(parsed) - set(config))
    if missing:
        raise SubmissionError("config_class", path, f"the config lacks the fields {missing} of "
                              f"{config_cls.__name__}")
    if parsed != config:
        raise SubmissionError("config_class", path, f"the config does not read back unchanged "
                              f"through {config_cls.__name__}")


def _json_values(config: Any) -> dict[str, Any]:
    """A config dataclass or a dict of overrides as JSON values, as a RunResult holds them."""
    from ro_bench.configs import to_dict

    values = to_dict(config) if not isinstance(config, dict) else config
    return json.loads(json.dumps(values))


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


def record_path(board: Path, result: RunResult) -> Path:
    """The file of record of a result, under its entry name (``results.entry_name``: ':' becomes
    '.', and a tuned config's entry is ``<algorithm>+tuned``)."""
    return Path(board) / result.protocol / result_entry_name(result) / f"seed_{result.seed}.json"


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
