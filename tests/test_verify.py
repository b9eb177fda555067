"""ro-bench verify: honest entries pass, forged numbers fail naming the field, the record on the
board goes stale when a file changes, seeds are drawn without replacement, bad input is refused.

The board is built from real harness runs (``random`` and ``fixed`` on max_of_three-s2=1.5,
about a second a seed), submitted with ``submit``; forgeries rewrite the JSON on the board directly
and are consistent enough that ``submit``'s checks accept them.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import random
import re
import shlex
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ro_bench import harness, protocols, verify
from ro_bench.results import RunResult, config_hash, environment_info
from ro_bench.submit import check_file, submit

PROTOCOL = "max_of_three-s2=1.5"
SEEDS = protocols.get(PROTOCOL).seeds
OPTIMUM = {"actions": [7, 7, -4]}  # the fixed agent scores 10
SAMPLES = 3  # action samples the fixed entry records at each evaluation


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    """``(board, runs)``: a board of two entries, ``random`` and ``fixed`` (with ``--config`` and
    ``--record-samples``), every seed; the runs directory their commands name is then deleted."""
    runs, board = tmp_path_factory.mktemp("runs"), tmp_path_factory.mktemp("board")
    files = []
    for seed in SEEDS:
        harness.train("random", PROTOCOL, seed, runs, progress=False)
        harness.train("fixed", PROTOCOL, seed, runs, OPTIMUM, progress=False,
                      record_samples=SAMPLES)
        files += [harness.run_dir(runs, PROTOCOL, algo, seed) / "result.json"
                  for algo in ("random", "fixed")]
    submit(files, board)
    shutil.rmtree(runs)  # verification must neither need nor recreate the recorded --out
    return board, runs


@pytest.fixture
def board(built, tmp_path) -> Path:
    """A copy of the built board, for a test to forge."""
    return Path(shutil.copytree(built[0], tmp_path / "board"))


def entry(board: Path, algo: str = "random") -> Path:
    return board / PROTOCOL / algo


def results(board: Path, algo: str = "random") -> list[RunResult]:
    return [RunResult.read(p) for p in sorted(entry(board, algo).glob("seed_*.json"))]


def forge(board: Path, algo: str, seed: int, change) -> None:
    """Rewrite a file of record by hand: ``change(document)``; ``submit`` must still accept it."""
    path = entry(board, algo) / f"seed_{seed}.json"
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    check_file(path)  # no rule that reads the file alone can tell


def keep_seeds(board: Path, algo: str, seeds: list[int]) -> None:
    for path in entry(board, algo).glob("seed_*.json"):
        if int(path.stem.removeprefix("seed_")) not in seeds:
            path.unlink()


def raise_final_metric(document: dict) -> None:
    forged = document["final_metric"] + 0.5  # still below the success threshold
    document["final_metric"] = document["curve"][-1][1] = forged


def nudge_middle_point(document: dict) -> None:
    steps, metric = document["curve"][10]
    document["curve"][10] = [steps, math.nextafter(metric, math.inf)]  # one ulp


def cli(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ro-bench")
    verify.add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["verify", *argv])


# --- honest entries ------------------------------------------------------------------------

def test_every_run_result_field_is_compared_or_said_not_to_be():
    names = {f.name for f in dataclasses.fields(RunResult)}
    assert set(verify.COMPARED) | set(verify.NOT_COMPARED) == names
    assert not set(verify.COMPARED) & set(verify.NOT_COMPARED)


def test_an_honest_entry_passes_every_seed_in_two_processes(built):
    board, runs = built
    [done] = verify.verify(board, [(PROTOCOL, "random")], sample=None, workers=2, record=False)
    assert [s.seed for s in done.seeds] == list(SEEDS)
    assert done.passed and all(s.mismatches == () and s.not_compared == () for s in done.seeds)
    assert all(s.wall_time_s > 0 for s in done.seeds)  # each seed really ran again
    assert done.record is None and not (entry(board) / verify.RECORD).exists()
    assert str(runs) in results(board)[0].command  # the recorded --out...
    assert not runs.exists()  # ...is neither needed nor touched


def test_an_honest_entry_with_config_and_samples_passes_one_seed(board):
    echoed: list[str] = []
    [done] = verify.verify(board, [(PROTOCOL, "fixed")], sample=1, echo=echoed.append)
    assert len(done.seeds) == 1 and done.seeds[0].seed in SEEDS and done.passed
    assert any(re.fullmatch(rf"PASS {re.escape(PROTOCOL)} fixed seed \d \(re-run .* s\)", line)
               for line in echoed)
    assert done.record == entry(board, "fixed") / verify.RECORD


def test_a_schema_2_result_is_verified_without_its_returns(board):
    keep_seeds(board, "random", [2])
    [result] = results(board)
    old = dataclasses.replace(result, schema_version=2, returns=(), episode_returns=(),
                              command=shlex.join(result.command))
    old.write(entry(board) / "seed_2.json")
    [done] = verify.verify(board, [(PROTOCOL, "random")], sample=None, record=False)
    assert done.passed
    assert done.seeds[0].not_compared == (
        "returns not compared (schema version 2 records none)",
        "episode_returns not compared (schema version 2 records none)")


# --- forgeries -----------------------------------------------------------------------------

def test_a_consistently_forged_final_metric_fails_naming_the_fields(board):
    for seed in SEEDS:  # whichever seed is drawn is forged
        forge(board, "random", seed, raise_final_metric)
    [done] = verify.verify(board, [(PROTOCOL, "random")], sample=1)
    [seed] = done.seeds
    recorded = results(board)[seed.seed]
    assert not seed.passed and len(seed.mismatches) == 2
    curve, final = seed.mismatches
    assert curve.startswith(f"curve[20]: recorded (5000, {recorded.final_metric!r}) re-run "
                            f"(5000, {recorded.final_metric - 0.5!r})")
    assert final.startswith(f"final_metric: recorded {recorded.final_metric!r} re-run ")


def test_a_failure_on_another_host_says_how_the_hosts_differ(board):
    def elsewhere(document: dict) -> None:
        raise_final_metric(document)
        document["hardware"] = {**document["hardware"], "platform": "Linux-other",
                                "cpu_simd": ["avx", "avx2"]}

    for seed in SEEDS:
        forge(board, "random", seed, elsewhere)
    [done] = verify.verify(board, [(PROTOCOL, "random")], sample=1)
    [seed] = done.seeds
    here = environment_info()[2]
    simd = " ".join(here["cpu_simd"]) if "cpu_simd" in here else "extensions not on record"
    assert seed.host == (f"recorded on Linux-other, CPU avx avx2; "
                         f"re-run on {here['platform']}, CPU {simd}")
    assert seed.lines(PROTOCOL, "random")[-1] == f"    host: {seed.host}"
    [check] = json.loads((entry(board) / verify.RECORD).read_text())["checks"]
    assert check["host"] == seed.host
    shown = verify.status(entry(board), results(board))
    assert shown.other_host and shown.to_json()["other_host"] is True
    assert shown.cell() == (f"**FAILED** on another host ({shown.date}, {shown.code_revision}, "
                            f"seed {seed.seed})")
    record = json.loads((entry(board) / verify.RECORD).read_text())
    del record["checks"][0]["host"]  # a check made before checks named their host
    (entry(board) / verify.RECORD).write_text(json.dumps(record))
    assert verify.status(entry(board), results(board)).other_host  # told from its hardware
    record["checks"][0]["hardware"] = "elsewhere"  # malformed: no claim of another host
    (entry(board) / verify.RECORD).write_text(json.dumps(record))
    assert not verify.status(entry(board), results(board)).other_host


def test_a_failure_on_the_same_host_names_no_host(board):
    for seed in SEEDS:
        forge(board, "random", seed, raise_final_metric)
    [done] = verify.verify(board, [(PROTOCOL, "random")], sample=1, record=False)
    assert not done.passed and done.seeds[0].host == ""


def test_host_difference_names_both_hosts_and_an_unrecorded_cpu():
    old = {"platform": "Linux-a", "machine": "x86_64"}  # recorded before the CPU was
    new = {"platform": "Linux-b", "cpu_model": "X", "cpu_simd": ["avx2", "avx512f"]}
    assert verify.host_difference(new, dict(new)) == ""
    assert verify.host_difference(old, new) == (
        "recorded on Linux-a, CPU extensions not on record; re-run on Linux-b, CPU avx2 avx512f")
    assert verify.host_difference({"cpu_simd": [1, None]}, new).startswith(  # a forged file's
        "recorded on unknown platform, CPU 1 None; re-run on Linux-b")


def test_a_forged_point_in_the_middle_of_the_curve_fails(board):
    for seed in SEEDS:
        forge(board, "random", seed, nudge_middle_point)
    [done] = verify.verify(board, [(PROTOCOL, "random")], sample=1, record=False)
    [mismatch] = done.seeds[0].mismatches
    assert mismatch.startswith("curve[10]: recorded (2500, ")
    assert "items differ" not in mismatch  # the one point forged


def test_forged_action_samples_fail(board):
    def play_elsewhere(document: dict) -> None:
        document["action_samples"][2]["actions"][1] = [7.0, 7.0, -3.0]

    for seed in SEEDS:
        forge(board, "fixed", seed, play_elsewhere)
    [done] = verify.verify(board, [(PROTOCOL, "fixed")], sample=1, record=False)
    assert done.seeds[0].mismatches == ("action_samples[2].actions[1]: recorded (7.0, 7.0, -3.0) "
                                        "re-run (7.0, 7.0, -4.0)",)


def test_a_command_this_ro_bench_cannot_rerun_fails_without_running(board, monkeypatch):
    monkeypatch.setattr(harness, "train", lambda *a, **k: pytest.fail("nothing may run"))
    zero, one = results(board)[:2]
    keep_seeds(board, "random", [1])
    outside = "evil_package:Agent"  # importing it would let a file of record choose code to run
    command = list(zero.command)
    command[command.index("--algo") + 1] = outside
    moved = dataclasses.replace(zero, algorithm=outside, command=tuple(command))
    (board / PROTOCOL / "evil_package.Agent").mkdir()
    moved.write(board / PROTOCOL / "evil_package.Agent" / "seed_0.json")
    check_file(board / PROTOCOL / "evil_package.Agent" / "seed_0.json")  # submit accepts it
    command = list(one.command)
    command[command.index("--seed") + 1] = "4"  # a lucky seed's numbers, filed under seed 1
    dataclasses.replace(one, command=tuple(command)).write(entry(board) / "seed_1.json")

    evil, rand = verify.verify(board, [(PROTOCOL, outside), (PROTOCOL, "random")], sample=None)
    assert evil.seeds[0].mismatches == (
        f"command: --algo {outside!r} is neither registered nor installed here; a file of record "
        "never chooses code to import, so it cannot be re-run",)
    assert not evil.passed and evil.seeds[0].wall_time_s == 0
    assert rand.seeds[0].mismatches == (
        "command: --seed 4 re-runs another run than the result's 1",)
    assert verify.status(evil.directory, [moved]).cell().startswith("**FAILED** (")


def test_a_run_that_raises_fails_its_seed_and_the_others_still_run(board):
    keep_seeds(board, "fixed", [0, 1, 2])

    def two_actions(document: dict) -> None:  # a config submit accepts and the agent refuses
        document["config"]["actions"] = [7.0, 7.0]
        document["config_hash"] = config_hash(document["config"])
        document["command"][document["command"].index("--config") + 1] = "actions=[7.0, 7.0]"

    for seed in (0, 2):
        forge(board, "fixed", seed, two_actions)
    [done] = verify.verify(board, [(PROTOCOL, "fixed")], sample=None, workers=2, record=False)
    assert [s.passed for s in done.seeds] == [False, True, False]
    assert done.seeds[0].mismatches == ("re-run: training raised ValueError: fixed needs "
                                        "--config actions=[...] with 3 numbers (agents agent_0, "
                                        "agent_1, agent_2); got [7.0, 7.0]",)


def test_a_file_out_of_its_place_is_refused(board):
    shutil.copy(entry(board) / "seed_1.json", entry(board) / "seed_7.json")
    with pytest.raises(ValueError, match=r"seed_7\.json holds seed 1 of random on "
                                         r"max_of_three-s2=1\.5, whose file of record is "
                                         r".*seed_1\.json: the board was edited by hand"):
        verify.verify(board, [(PROTOCOL, "random")])


# --- the record ----------------------------------------------------------------------------

def test_the_record_is_read_back_and_goes_stale_when_a_file_changes(board):
    [done] = verify.verify(board, [(PROTOCOL, "random")], sample=1, rng=7)
    [seed] = verify.choose_seeds(SEEDS, 1, random.Random(7))
    assert [s.seed for s in done.seeds] == [seed]
    record = json.loads(done.record.read_text())
    assert record["files"] == {str(r.seed): verify.digest(r) for r in results(board)}
    assert record["files"][str(seed)] == hashlib.sha256(
        (entry(board) / f"seed_{seed}.json").read_bytes()).hexdigest()  # the file's own sha256
    [check] = record["checks"]
    assert check["chosen"] == "random, from sampling seed 7" and check["passed"]

    shown = verify.status(entry(board), results(board))
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    assert shown.passed and shown.seeds == (seed,) and shown.date == today
    assert re.fullmatch(r"[0-9a-f]{8}(\+dirty)?|unknown", shown.code_revision)
    assert str(shown) == f"yes ({today}, {shown.code_revision}, seed {seed})" == shown.cell()

    edited = [dataclasses.replace(r, wall_time_s=r.wall_time_s + (r.seed == seed))
              for r in results(board)]
    assert verify.status(entry(board), edited) is None  # the verified seed's file changed

    other = next(s for s in SEEDS if s != seed)  # replacing an unchecked seed voids it too
    replaced = dataclasses.replace(results(board)[other], wall_time_s=123.0)
    submit([replaced_file(board, replaced)], board, replace=True)
    assert verify.status(entry(board), results(board)) is None


def replaced_file(board: Path, result: RunResult) -> Path:
    path = board.parent / f"resubmitted_{result.seed}.json"
    result.write(path)
    return path


def test_a_failure_is_recorded_and_outlives_a_later_pass_of_another_seed(board):
    keep_seeds(board, "random", [0, 1])
    forge(board, "random", 1, nudge_middle_point)
    [done] = verify.verify(board, [(PROTOCOL, "random")], sample=None, workers=2)
    assert [s.passed for s in done.seeds] == [True, False]
    shown = verify.status(entry(board), results(board))
    assert not shown.passed and shown.seeds == (1,)
    assert shown.cell() == f"**FAILED** ({shown.date}, {shown.code_revision}, seed 1)"
    assert not shown.other_host  # re-run on the host that made it: the failure is the file's
    assert str(shown).startswith("FAILED (") and shown.mismatches[0].startswith("curve[10]:")

    lucky = next(s for s in range(100) if verify.choose_seeds([0, 1], 1, random.Random(s)) == (0,))
    [again] = verify.verify(board, [(PROTOCOL, "random")], sample=1, rng=lucky)
    assert again.passed and again.seeds[0].seed == 0  # a lucky draw passes...
    assert not verify.status(entry(board), results(board)).passed  # ...and hides nothing
    assert [c["seed"] for c in json.loads(again.record.read_text())["checks"]] == [0, 1]


@pytest.mark.parametrize("text", [
    "", "not json", "[]", "NaN", '{"format": 1}', "{" * 100_000,
    '{"format": 2, "files": {}, "checks": []}',
])
def test_a_malformed_record_counts_as_absent(board, text):
    (entry(board) / verify.RECORD).write_text(text)
    assert verify.status(entry(board), results(board)) is None


def test_an_edited_record_counts_as_absent(board):
    [done] = verify.verify(board, [(PROTOCOL, "random")], sample=1, rng=0)
    good = json.loads(done.record.read_text())
    assert verify.status(entry(board), results(board)) is not None
    edits = [
        lambda r: r["checks"][0].update(passed=False),  # passed, yet no mismatch
        lambda r: r["checks"][0].update(code_revision="<script>"),
        lambda r: r["checks"][0].update(verified_at="yesterday"),
        lambda r: r["checks"][0].update(seed=True),
        lambda r: r["files"].update({"0": "0" * 63}),
        lambda r: r.update(checks=[]),
    ]
    for edit in edits:
        record = json.loads(json.dumps(good))
        edit(record)
        done.record.write_text(json.dumps(record))
        assert verify.status(entry(board), results(board)) is None, record


# --- choosing seeds, comparing numbers -----------------------------------------------------

def test_seeds_are_drawn_without_replacement_and_reproducibly():
    seeds = list(range(10))
    draws = [verify.choose_seeds(seeds, 4, random.Random(s)) for s in range(200)]
    assert all(len(set(d)) == 4 and list(d) == sorted(d) and set(d) <= set(seeds) for d in draws)
    assert draws == [verify.choose_seeds(seeds, 4, random.Random(s)) for s in range(200)]
    assert len(set(draws)) > 100  # many different draws, every seed among them
    assert {s for d in draws for s in d} == set(seeds)
    assert verify.choose_seeds(seeds, None, random.Random(0)) == tuple(seeds)
    assert verify.choose_seeds([3, 1], 5, random.Random(0)) == (1, 3)  # K > seeds: all of them
    entropy = {verify.choose_seeds(seeds, 1, random.SystemRandom()) for _ in range(200)}
    assert len(entropy) > 5


def test_numbers_are_compared_bit_for_bit():
    assert verify.difference("final_metric", 0.0, -0.0) == \
        "final_metric: recorded 0.0 re-run -0.0"
    assert verify.difference("x", 1, 1.0) == "x: recorded 1 re-run 1.0"
    assert verify.difference("success", True, 1) == "success: recorded True re-run 1"
    assert verify.difference("curve", ((0, 1.5), (750, 9.98)), [[0, 1.5], [750, 9.98]]) is None
    assert verify.difference("curve", ((0, 1.0), (750, 9.98), (900, 2.0)),
                             ((0, 1.0), (750, 9.97), (900, 2.5))) == \
        "curve[1]: recorded (750, 9.98) re-run (750, 9.97); 2 of 3 items differ"
    assert verify.difference("curve", ((0, 1.0),), ((0, 1.0), (5, 2.0))) == \
        "curve: recorded 1 items, re-run 2"
    assert verify.difference("config", {"lr": 0.1}, {"lr": 0.1, "tau": 1}) == \
        "config.tau: recorded (absent) re-run 1"
    assert verify.difference("diagnostics", {"modes": [[1.0, 2.0]]}, {"modes": [[1.0, 2.5]]}) \
        == "diagnostics.modes[0]: recorded (1.0, 2.0) re-run (1.0, 2.5)"
    assert verify.difference("returns", [0.1] * 20, [0.1] * 19 + [0.2]) == \
        "returns[19]: recorded 0.1 re-run 0.2"


# --- the command line ----------------------------------------------------------------------

def test_run_exits_0_when_all_pass_and_1_on_a_mismatch(board, capsys):
    keep_seeds(board, "random", [3])
    assert verify.run(cli("--board", str(board), "--protocol", PROTOCOL, "--algo", "random",
                          "--sample", "all", "--no-record")) == 0
    out = capsys.readouterr().out
    assert f"re-running {PROTOCOL} random seed 3" in out and f"PASS {PROTOCOL} random seed 3" in out
    assert re.search(r"verified 1 seed of 1 entry in [\d.]+ s wall: 1 passed, 0 FAILED", out)
    assert not (entry(board) / verify.RECORD).exists()

    forge(board, "random", 3, raise_final_metric)
    assert verify.run(cli("--board", str(board), "--all", "--sampling-seed", "1")) == 1
    out = capsys.readouterr().out
    assert f"FAIL {PROTOCOL} random seed 3" in out and "    final_metric: recorded" in out
    assert f"PASS {PROTOCOL} fixed seed" in out  # --all: the other entry too
    assert f"FAILED: {PROTOCOL} random seed 3" in out
    assert "recorded in 2 verification.json files" in out


@pytest.mark.parametrize("argv, message", [
    (["--protocol", PROTOCOL, "--algo", "randm"],
     r"no entry of algorithm 'randm' on protocol .* Did you mean 'random'\?"),
    (["--protocol", "max_of_three-s2=1.6"], r"no entries of protocol .* Did you mean "
                                            r"'max_of_three-s2=1\.5'\?"),
    (["--all", "--sample", "0"], r"--sample must be a number of seeds K >= 1 or 'all'; got 0"),
    (["--all", "--sample", "some"], r"--sample must be .*; got 'some'"),
    (["--all", "--algo", "random"], r"--algo names one entry of one protocol"),
    (["--all", "--board", "/nonexistent/board"], r"the board /nonexistent/board is not a "
                                                 r"directory"),
])
def test_bad_input_is_refused_with_a_clear_message(board, argv, message, monkeypatch):
    monkeypatch.setattr(harness, "train", lambda *a, **k: pytest.fail("nothing may run"))
    argv = argv if "--board" in argv else ["--board", str(board), *argv]
    with pytest.raises(ValueError, match=message):
        verify.run(cli(*argv))
    with pytest.raises(ValueError, match=r"sample \(seeds per entry\) must be an integer in "
                                         r"\[1, inf\]; got 0"):
        verify.verify(board, sample=0)


def test_an_empty_board_is_refused(tmp_path):
    with pytest.raises(ValueError, match="holds no entries"):
        verify.verify(tmp_path)
