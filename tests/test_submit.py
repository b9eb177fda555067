"""ro-bench submit: each rule's rejection, all-or-nothing canonical writes, concurrent writers."""

from __future__ import annotations

import dataclasses
import fcntl
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest

from ro_bench import harness, protocols, results
from ro_bench.cli import main
from ro_bench.results import RunResult, config_hash
from ro_bench.submit import RULES, Stored, SubmissionError, submit

PROTOCOL = "max_of_three-s2=1.5"
SEEDS = protocols.get(PROTOCOL).seeds
OTHER_CONFIG = {"lr": 0.001}
OUTSIDE = "my_package.agents:Agent"  # an algorithm this ro-bench does not know


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory) -> Path:
    """Real harness output, ``<out>/<protocol>/random/seed_<n>/result.json``, for every seed."""
    out = tmp_path_factory.mktemp("runs")
    for seed in SEEDS:
        harness.train("random", PROTOCOL, seed, out, progress=False)
    return out


@pytest.fixture(scope="module")
def runs(runs_dir) -> list[RunResult]:
    return [RunResult.read(harness.run_dir(runs_dir, PROTOCOL, "random", seed) / "result.json")
            for seed in SEEDS]


def save(directory: Path, results: list[RunResult]) -> list[Path]:
    """Each result as ``<directory>/<i>.json``, in compact (non-canonical) JSON."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, result in enumerate(results):
        paths.append(directory / f"{i}.json")
        paths[-1].write_text(json.dumps(json.loads(result.to_json())))
    return paths


def edit(path: Path, **changes) -> Path:
    """Change fields of a saved document by hand, bypassing RunResult's checks; ``...`` deletes."""
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps({k: v for k, v in data.items() if v is not ...}))
    return path


def record(board: Path, result: RunResult) -> Path:
    return board / result.protocol / result.algorithm.replace(":", ".") / f"seed_{result.seed}.json"


def put_on_board(board: Path, results: list[RunResult]) -> None:
    """Files of record placed directly, bypassing submit (e.g. an entry of fewer seeds)."""
    for result in results:
        record(board, result).parent.mkdir(parents=True, exist_ok=True)
        result.write(record(board, result))


def contents(board: Path) -> dict[str, bytes]:
    if not board.exists():
        return {}
    return {str(p.relative_to(board)): p.read_bytes()
            for p in board.rglob("*") if p.is_file() and p.name != ".lock"}


def retrained(result: RunResult, algorithm: str | None = None, config: dict | None = None,
              **changes) -> RunResult:
    """The result as if ``algorithm`` had trained it with ``config``, its command saying so."""
    algorithm = result.algorithm if algorithm is None else algorithm
    config = result.config if config is None else config
    command = ["ro-bench", "train", "--algo", algorithm, "--protocol", result.protocol,
               "--seed", str(result.seed), "--out", "runs"]
    for key, value in config.items():
        command += ["--config", f"{key}={value!r}"]
    return dataclasses.replace(result, algorithm=algorithm, config=config,
                               config_hash=config_hash(config), command=tuple(command), **changes)


def with_config(result: RunResult, config: dict) -> RunResult:
    """An outside algorithm's result (so any config is valid) trained with ``config``."""
    return retrained(result, OUTSIDE, config)


def outside(results: list[RunResult]) -> list[RunResult]:
    return [retrained(r, OUTSIDE) for r in results]


# --- rejections: (rule, a fragment of the message, the files submitted) ------------------------

Case = Callable[[Path, list[RunResult], Path], list[Path]]


def _good(tmp, runs, board):
    return save(tmp / "in", runs)


def _not_json(tmp, runs, board):
    files = _good(tmp, runs, board)
    files[2].write_text('{"schema_version": 1,')
    return files


def _missing_field(tmp, runs, board):
    files = _good(tmp, runs, board)
    edit(files[1], env_steps=...)
    return files


def _unknown_schema_version(tmp, runs, board):
    files = _good(tmp, runs, board)
    edit(files[0], schema_version=99)
    return files


def _config_edited(tmp, runs, board):
    files = _good(tmp, runs, board)
    edit(files[3], config=OTHER_CONFIG)
    return files


def _algorithm_escapes_board(tmp, runs, board):
    return save(tmp / "in", [dataclasses.replace(r, algorithm="../../outside") for r in runs])


def _unknown_protocol(tmp, runs, board):
    return save(tmp / "in", [dataclasses.replace(r, protocol=PROTOCOL[:-1] + "6") for r in runs])


def _old_protocol_version(tmp, runs, board):
    return save(tmp / "in", [dataclasses.replace(r, protocol_version=0) for r in runs])


def _seed_not_in_protocol(tmp, runs, board):
    return save(tmp / "in", [*runs, dataclasses.replace(runs[0], seed=7)])


def _over_budget(tmp, runs, board):
    budget = protocols.get(PROTOCOL).budget
    longer = dataclasses.replace(runs[4], env_steps=budget + 250,
                                 curve=(*runs[4].curve, (budget + 250, 0.0)),
                                 returns=(*runs[4].returns, 0.0),
                                 episode_returns=runs[4].episode_returns
                                 and (*runs[4].episode_returns, (0.0,)))
    return save(tmp / "in", [*runs[:4], longer])


def _stopped_early(tmp, runs, board):
    short = dataclasses.replace(runs[1], env_steps=runs[1].curve[-2][0], curve=runs[1].curve[:-1],
                                returns=runs[1].returns[:-1],
                                episode_returns=runs[1].episode_returns[:-1])
    return save(tmp / "in", [runs[0], short, *runs[2:]])


def _no_final_evaluation(tmp, runs, board):
    return save(tmp / "in", [*runs[:4], dataclasses.replace(
        runs[4], curve=runs[4].curve[:-1], returns=runs[4].returns[:-1],
        episode_returns=runs[4].episode_returns[:-1])])


def _centralized(tmp, runs, board):
    return save(tmp / "in", [*runs[:3], dataclasses.replace(runs[3], decentralized=False),
                             runs[4]])


def _same_seed_twice(tmp, runs, board):
    return save(tmp / "in", [*runs, runs[2]])


def _already_on_board(tmp, runs, board):
    submit(save(tmp / "first", runs), board)
    return save(tmp / "in", [dataclasses.replace(runs[0], wall_time_s=1.0)])


def _mixed_configs(tmp, runs, board):
    return save(tmp / "in", [*outside(runs[:4]), with_config(runs[4], OTHER_CONFIG)])


def _config_differs_from_board(tmp, runs, board):
    put_on_board(board, outside(runs[:3]))
    return save(tmp / "in", [with_config(r, OTHER_CONFIG) for r in runs[3:]])


def _too_large(tmp, runs, board):
    files = _good(tmp, runs, board)
    files[1].write_text(files[1].read_text() + " " * results.MAX_BYTES)
    return files


def _nested_too_deep(tmp, runs, board):
    files = _good(tmp, runs, board)
    deep: dict = {}
    for _ in range(40):
        deep = {"x": deep}
    edit(files[2], hardware=deep)
    return files


def _forged_summary(tmp, runs, board):
    """The issue's forgery: a random run renamed, its final metric and success raised."""
    forged = [dataclasses.replace(retrained(r, "x"), final_metric=10.0, success=True)
              for r in runs]
    return save(tmp / "in", forged)


def _forged_final_return(tmp, runs, board):
    return save(tmp / "in", [*runs[:4], dataclasses.replace(runs[4], final_return=10.0)])


def _forged_success(tmp, runs, board):
    return save(tmp / "in", [dataclasses.replace(runs[0], success=True), *runs[1:]])


def _command_of_another_algorithm(tmp, runs, board):
    return save(tmp / "in", [dataclasses.replace(r, algorithm="x") for r in runs])


def _command_of_another_seed(tmp, runs, board):
    swapped = dataclasses.replace(runs[0], command=runs[1].command)
    return save(tmp / "in", [swapped, *runs[1:]])


def _command_of_another_config(tmp, runs, board):
    told = [with_config(r, {"lr": 0.1}) for r in runs]
    lying = [dataclasses.replace(r, command=r.command[:-1] + ("lr=0.2",)) for r in told]
    return save(tmp / "in", lying)


def _command_that_does_not_split(tmp, runs, board):
    files = _good(tmp, runs, board)
    edit(files[0], schema_version=2, returns=..., tuning=..., episode_returns=...,
         command="ro-bench train 'unterminated")
    return files


def _command_with_a_newline(tmp, runs, board):
    files = _good(tmp, runs, board)
    edit(files[3], command=["ro-bench", "train", "--algo", "random\n| 1 | fake | 99 |"])
    return files


def _command_records_other_samples(tmp, runs, board):
    more = [dataclasses.replace(r, command=(*r.command, "--record-samples", "5")) for r in runs]
    return save(tmp / "in", more)


def _config_outside_its_class(tmp, runs, board):
    return save(tmp / "in", [retrained(r, config=OTHER_CONFIG) for r in runs])


def _new_entry_missing_seeds(tmp, runs, board):
    return save(tmp / "in", runs[:3])


REJECTIONS: list[tuple[str, str, Case]] = [
    ("schema", "not JSON", _not_json),
    ("schema", "missing fields: 'env_steps'", _missing_field),
    ("schema", "schema version 99 is not supported", _unknown_schema_version),
    ("config_hash", "does not match the config", _config_edited),
    ("algorithm", "use letters, digits and _.:+-", _algorithm_escapes_board),
    ("protocol", f"Did you mean '{PROTOCOL}'", _unknown_protocol),
    ("protocol", "now at version 1", _old_protocol_version),
    ("seed", f"seed 7 is not one of protocol {PROTOCOL}'s seeds (0, 1, 2, 3, 4)",
     _seed_not_in_protocol),
    ("budget", "5250 env steps exceed protocol", _over_budget),
    ("incomplete", "stopped after 4750 of", _stopped_early),
    ("incomplete", "last evaluation is at 4750 env steps", _no_final_evaluation),
    ("decentralized", "--allow-centralized", _centralized),
    ("duplicate", "is also in", _same_seed_twice),
    ("exists", "--replace", _already_on_board),
    ("config", "share one config", _mixed_configs),
    ("config", "share one config", _config_differs_from_board),
    ("seed_set", "missing [3, 4]", _new_entry_missing_seeds),
    ("size", "larger than the cap", _too_large),
    ("depth", "deeper than the cap of 16 levels", _nested_too_deep),
    ("final", "final_metric 10.0 is not the curve's last metric", _forged_summary),
    ("final", "final_return 10.0 is not the last of returns", _forged_final_return),
    ("success", "success is True, but the final metric", _forged_success),
    ("command", "the command's --algo 'random' is not the run's 'x'",
     _command_of_another_algorithm),
    ("command", "the command's --seed 1 is not the run's 0", _command_of_another_seed),
    ("command", "lr: command 0.2, config 0.1", _command_of_another_config),
    ("command", "No closing quotation", _command_that_does_not_split),
    ("command", "control character", _command_with_a_newline),
    ("command", "the command's --record-samples 5 is not the run's 0",
     _command_records_other_samples),
    ("config_class", "has no field 'lr'", _config_outside_its_class),
]


def test_every_rule_has_a_rejection_test():
    assert {rule for rule, _, _ in REJECTIONS} == set(RULES)


@pytest.mark.parametrize("rule, message, case", REJECTIONS, ids=[c.__name__[1:] for *_, c in
                                                                 REJECTIONS])
def test_a_broken_rule_is_named_and_nothing_is_written(tmp_path, runs, rule, message, case):
    board = tmp_path / "board"
    files = case(tmp_path, runs, board)
    before = contents(board)
    with pytest.raises(SubmissionError) as error:
        submit(files, board)
    assert error.value.rule == rule
    assert error.value.source in map(str, files)
    assert f"rule '{rule}'" in str(error.value) and error.value.source in str(error.value)
    assert message in str(error.value)
    assert contents(board) == before
    assert not (tmp_path / "outside").exists()


# --- acceptance ------------------------------------------------------------------------------


def test_a_full_seed_set_is_stored_canonically(tmp_path, runs):
    board = tmp_path / "board"
    stored = submit(save(tmp_path / "in", runs), board)
    assert stored == [Stored(board / PROTOCOL / "random" / f"seed_{s}.json", False) for s in SEEDS]
    for (path, _), result in zip(stored, runs):
        assert RunResult.read(path) == result
        assert path.read_text() == result.to_json() + "\n"  # canonical, not the compact input
    assert (board / ".lock").exists()


def test_a_module_class_algorithm_is_stored_like_its_run_directory(tmp_path, runs):
    algorithm = "my_package.agents:Agent"
    stored = submit(save(tmp_path / "in", [retrained(r, algorithm) for r in runs]), tmp_path)
    assert stored[0].path.parent == harness.run_dir(tmp_path, PROTOCOL, algorithm, 0).parent
    assert stored[0].path.parent.name == "my_package.agents.Agent"


def test_replace_overwrites_a_seed_only_when_asked(tmp_path, runs):
    board = tmp_path / "board"
    submit(save(tmp_path / "first", runs), board)
    rerun = [dataclasses.replace(runs[2], wall_time_s=123.0)]
    with pytest.raises(SubmissionError, match="'exists'"):
        submit(save(tmp_path / "again", rerun), board)
    assert RunResult.read(record(board, runs[2])) == runs[2]
    assert submit(save(tmp_path / "again", rerun), board, replace=True) == \
        [Stored(record(board, runs[2]), True)]
    assert RunResult.read(record(board, runs[2])) == rerun[0]
    assert all(RunResult.read(record(board, r)) == r for r in runs if r.seed != 2)


def test_replace_may_change_the_config_of_a_whole_entry_only(tmp_path, runs):
    board = tmp_path / "board"
    runs = outside(runs)
    submit(save(tmp_path / "first", runs), board)
    retuned = [with_config(r, OTHER_CONFIG) for r in runs]
    with pytest.raises(SubmissionError, match="'config'"):
        submit(save(tmp_path / "one", retuned[:1]), board, replace=True)
    submit(save(tmp_path / "all", retuned), board, replace=True)
    assert [RunResult.read(record(board, r)) for r in runs] == retuned


def test_seeds_may_be_added_to_an_existing_entry(tmp_path, runs):
    put_on_board(tmp_path, runs[:3])
    assert [s.path for s in submit(save(tmp_path / "in", runs[3:]), tmp_path)] == \
        [record(tmp_path, r) for r in runs[3:]]
    assert [RunResult.read(record(tmp_path, r)) for r in runs] == runs


def test_allow_centralized_accepts_a_centralized_run(tmp_path, runs):
    centralized = [dataclasses.replace(r, decentralized=False) for r in runs]
    submit(save(tmp_path / "in", centralized), tmp_path / "board", allow_centralized=True)
    assert RunResult.read(record(tmp_path / "board", runs[0])).decentralized is False


# --- the command line ------------------------------------------------------------------------


def test_cli_expands_a_directory_and_says_what_it_wrote(tmp_path, runs_dir, runs, capsys):
    board = tmp_path / "board"
    assert main(["submit", str(runs_dir / PROTOCOL / "random"), "--board", str(board)]) == 0
    assert capsys.readouterr().out.splitlines() == [f"added {record(board, r)}" for r in runs]
    assert main(["submit", str(runs_dir / PROTOCOL / "random" / "seed_1"), "--board", str(board),
                 "--replace"]) == 0
    assert capsys.readouterr().out == f"replaced {record(board, runs[1])}\n"


def test_cli_rejects_a_bad_file_with_status_2_and_the_rule(tmp_path, runs, capsys):
    files = save(tmp_path / "in", [*runs[:4], dataclasses.replace(runs[4], seed=9)])
    assert main(["submit", *map(str, files), "--board", str(tmp_path / "board")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"ro-bench: error: {files[4]}: rejected by rule 'seed'")
    assert contents(tmp_path / "board") == {}


def test_cli_rejects_a_directory_without_results(tmp_path, capsys):
    assert main(["submit", str(tmp_path), "--board", str(tmp_path / "board")]) == 2
    assert "no result.json under" in capsys.readouterr().err


# --- concurrent submitters -------------------------------------------------------------------


def start_submit(*args: str | Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "ro_bench.cli", "submit", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


def test_concurrent_submitters_lose_nothing_and_never_share_a_slot(tmp_path, runs):
    board = tmp_path / "board"
    entries = {name: [retrained(r, name) for r in runs] for name in ("alpha", "beta")}
    # Two submitters race for one new entry, with documents that tell them apart.
    contenders = [[retrained(r, "gamma", wall_time_s=float(i)) for r in runs] for i in range(2)]
    replacement = dataclasses.replace(entries["alpha"][0], wall_time_s=99.0)
    procs = [start_submit(*save(tmp_path / name, results), "--board", board)
             for name, results in entries.items()]
    procs += [start_submit(*save(tmp_path / f"c{i}", c), "--board", board)
              for i, c in enumerate(contenders)]
    replacer = start_submit(*save(tmp_path / "r", [replacement]), "--board", board, "--replace")
    done = [finish(p) for p in [*procs, replacer]]

    for code, _, err in done[:2]:
        assert code == 0, err
    alpha = [RunResult.read(record(board, r)) for r in entries["alpha"]]
    assert alpha[1:] == entries["alpha"][1:]
    assert [RunResult.read(record(board, r)) for r in entries["beta"]] == entries["beta"]

    winners = [i for i, (code, _, _) in enumerate(done[2:4]) if code == 0]
    assert len(winners) == 1
    for i, (code, _, err) in enumerate(done[2:4]):
        assert i in winners or (code == 2 and "rule 'exists'" in err), err
    assert [RunResult.read(record(board, r)) for r in contenders[0]] == contenders[winners[0]]

    # The replacement either came after alpha was stored, or found no entry and was refused.
    code, out, err = done[4]
    if code == 0:
        assert out == f"replaced {record(board, replacement)}\n" and alpha[0] == replacement
    else:
        assert "rule 'seed_set'" in err and alpha[0] == entries["alpha"][0]
    assert sorted(p.name for p in board.rglob("*") if p.is_file()) == \
        sorted([".lock"] + [f"seed_{s}.json" for s in SEEDS] * 3)


def test_a_submitter_waits_for_the_board_lock(tmp_path, runs):
    board = tmp_path / "board"
    board.mkdir()
    with open(board / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        proc = start_submit(*save(tmp_path / "in", runs), "--board", board)
        deadline = time.monotonic() + 120
        while not blocked_on_flock(proc.pid):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the submitter never waited for the lock"
            time.sleep(0.02)
        assert contents(board) == {}  # blocked before reading the board, so before writing it
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert out.splitlines() == [f"added {record(board, r)}" for r in runs]


def blocked_on_flock(pid: int) -> bool:
    try:
        locks = Path("/proc/locks").read_text()
    except OSError:
        pytest.skip("needs /proc/locks (Linux) to see a process wait for a lock")
    return any(line.split()[1:3] == ["->", "FLOCK"] and str(pid) in line.split()
               for line in locks.splitlines())


def test_success_must_be_null_where_the_protocol_has_none(runs) -> None:
    from ro_bench.submit import _check_consistency

    unscored = dataclasses.replace(protocols.get(PROTOCOL), has_success=False)
    _check_consistency("r.json", dataclasses.replace(runs[0], success=None), unscored)
    for claimed in (True, False):
        with pytest.raises(SubmissionError, match=f"success is {claimed}, but protocol "
                                                  f"{PROTOCOL} defines no success"):
            _check_consistency("r.json", dataclasses.replace(runs[0], success=claimed), unscored)
    with pytest.raises(SubmissionError, match="success is None, but the final metric"):
        _check_consistency("r.json", dataclasses.replace(runs[0], success=None),
                           protocols.get(PROTOCOL))
