"""Plans of runs (ro_bench/grid.py) and the plan of the leaderboard's entries of record."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

import ro_bench
from ro_bench import agents, algorithms, grid, harness, protocols
from ro_bench.cli import main
from ro_bench.results import RunResult
from ro_bench.submit import BOARD

PLAN = BOARD / "entries.txt"


def write_plan(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plan.txt"
    path.write_text(text)
    return path


def test_plan_lines_parse_like_evaluate_options(tmp_path):
    path = write_plan(tmp_path, "# the floor\n\nrandom max_of_two  # trailing comment\n"
                                "svnr two_modalities --config alpha_end=1.0 --record-samples 7\n")
    first, second = grid.read_plan(path)
    assert (first.algo, first.protocol, first.overrides, first.record_samples) == \
        ("random", "max_of_two", {}, 0)
    assert (second.overrides, second.record_samples) == ({"alpha_end": 1.0}, 7)
    assert second.config()["alpha_end"] == 1.0
    assert second.config()["total_steps"] == 5000  # the protocol's budget, as a run records it
    assert grid.parse_line(second.command()) == second


@pytest.mark.parametrize("line, words", [
    ("svnrr max_of_two", ["svnrr", "svnr"]),
    ("svnr max_of_tow", ["max_of_tow", "max_of_two"]),
    ("svnr max_of_two --config alpah_end=1", ["alpah_end", "alpha_end"]),
    ("svnr max_of_two --config alpha_end=fast", ["alpha_end", "float"]),
    ("svnr particle_gather --record-samples 5", ["record_samples=5", "stateless"]),
    ("svnr max_of_two --record-samples -1", ["record_samples", "-1"]),
    ("svnr max_of_two --seeds 0-4", ["--seeds"]),
    ("svnr", ["protocol"]),
])
def test_a_bad_line_is_named_with_its_number(tmp_path, line, words):
    path = write_plan(tmp_path, f"random max_of_two\n\n{line}\n")
    with pytest.raises(ValueError) as error:
        grid.read_plan(path)
    message = str(error.value)
    assert message.startswith(f"{path}:3: ")
    for word in words:
        assert word in message


def test_an_entry_is_planned_once(tmp_path):
    path = write_plan(tmp_path, "random max_of_two\nrandom max_of_two --record-samples 3\n")
    with pytest.raises(ValueError, match=r"plan.txt:2: .*already planned at line 1"):
        grid.read_plan(path)


def test_a_missing_plan_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="is not a file"):
        grid.read_plan(tmp_path / "nope.txt")


def test_select_filters_and_names_the_nearest_entry():
    entries = grid.read_plan(PLAN)
    chosen = grid.select(entries, ["svnr", "mmq"], ["particle_gather"])
    assert [(e.algo, e.protocol) for e in chosen] == [("svnr", "particle_gather"),
                                                      ("mmq", "particle_gather")]
    assert grid.select(entries) == [e for e in entries if not e.cluster]
    with pytest.raises(ValueError, match="'particle_gater'.*'particle_gather'"):
        grid.select(entries, protocol_names=["particle_gater"])
    with pytest.raises(ValueError, match="'romeo'.*'rommeo'"):
        grid.select(entries, algos=["romeo"])
    with pytest.raises(ValueError, match="no planned entry runs svnr-m on climbing"):
        grid.select(entries, ["svnr-m"], ["climbing"])


def test_cluster_entries_run_only_when_asked_for(tmp_path):
    path = tmp_path / "plan.txt"
    path.write_text("random max_of_two\nrandom climbing --cluster\nfixed climbing --cluster\n")
    entries = grid.read_plan(path)
    assert [e.cluster for e in entries] == [False, True, True]
    assert entries[1].command() == "random climbing --cluster"
    assert grid.select(entries) == entries[:1]
    assert grid.select(entries, cluster=True) == entries
    assert grid.select(entries, protocol_names=["climbing"]) == entries[1:]
    assert grid.select(entries, ["fixed"], cluster=True) == entries[2:]
    planned = grid.read_plan(PLAN)
    full = [e for e in planned if e.protocol.startswith("mamujoco_full-")]
    assert full and all(e.cluster for e in full)
    assert not any(e.cluster for e in planned if e not in full)
    # MaMuJoCo: one update round per 10 env steps on the CPU track, the defaults on the full one
    cpu = [e for e in planned if e.protocol.startswith("mamujoco_cpu-")]
    tasks = {(e.protocol.partition("-")[2], e.algo) for e in cpu}  # every method, both tracks
    assert tasks == {(e.protocol.partition("-")[2], e.algo) for e in full}
    assert len(cpu) == 4 * len({e.algo for e in cpu})
    # The standing-still floor: fixed with every action 0, on every task of both tracks
    still = [e.overrides for e in [*cpu, *full] if e.algo == "fixed"]
    assert len(still) == 8 and all(o == {"actions": [0] * len(o["actions"])} for o in still)
    no_rounds = {"random", "mappo", "sb3_ppo"}  # no update rounds: random, and the on-policy two
    assert all(e.overrides == ({} if e.algo in no_rounds else {"update_every": 10})
               for e in cpu if e.algo != "fixed")
    assert all(e.overrides == {} for e in full if e.algo != "fixed")


def test_jobs_start_with_the_longest_protocol():
    entries = grid.read_plan(PLAN)
    chosen = grid.select(entries, ["maddpg"], ["max_of_three-s2=1.5", "particle_gather"])
    jobs = grid.jobs(chosen, None)
    assert [(chosen[i].protocol, seed) for i, seed in jobs] == \
        [("particle_gather", s) for s in range(5)] + [("max_of_three-s2=1.5", s) for s in range(5)]
    assert grid.jobs(chosen, [7]) == [(1, 7), (0, 7)]


def test_a_grid_gives_the_runs_of_evaluate(tmp_path):
    entries = grid.select(grid.read_plan(PLAN), ["random"], ["max_of_two", "climbing"])
    done = grid.run(entries, tmp_path / "grid", seeds=[0, 1], workers=2)
    assert done.runs == 4 and done.wall_time_s > 0
    assert 0 < done.run_time_s <= 2 * done.wall_time_s  # two processes, each busy at most wall
    for entry, results in done.results:
        assert [r.seed for r in results] == [0, 1]
        alone = harness.train_seeds(entry.algo, entry.protocol, [0, 1], tmp_path / "alone")
        assert [r.curve for r in results] == [r.curve for r in alone]
        assert [r.config for r in results] == [entry.config()] * 2


def test_cli_grid_runs_and_submits(tmp_path, capsys):
    plan = write_plan(tmp_path, "random max_of_two\nrandom climbing\n")
    board = tmp_path / "board"
    argv = ["grid", "--plan", str(plan), "--out", str(tmp_path / "runs"), "--submit", str(board)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "random on max_of_two (5 seeds)" in out and "random on climbing (5 seeds)" in out
    assert "10 runs of 2 entries with 1 worker(s)" in out and "earlier starts" not in out
    results = {p: [RunResult.read(harness.run_dir(tmp_path / "runs", p, "random", s) / "result.json")
                   for s in range(5)] for p in ("max_of_two", "climbing")}
    for protocol, done in results.items():  # the table's row, from the files
        finals = np.array([r.final_metric for r in done])
        assert (f"| random | {protocol} | 0, 1, 2, 3, 4 | {finals.mean():.4f} ± "
                f"{finals.std():.4f} | 0/5 |") in out
    assert sorted(p.relative_to(board).as_posix() for p in board.rglob("seed_*.json")) == [
        f"{protocol}/random/seed_{seed}.json" for protocol in ("climbing", "max_of_two")
        for seed in range(5)]
    again = argv + ["--resume"]  # the runs are done: they only rewrite their results
    assert main(again) == 2  # already on the board
    assert "--replace" in capsys.readouterr().err
    assert main(again + ["--replace"]) == 0
    assert ("the runs' own wall times (10 continued from an earlier start, whose time is "
            "included) sum to") in capsys.readouterr().out
    fresh = ["grid", "--plan", str(plan), "--out", str(tmp_path / "fresh"), "--resume"]
    assert main(fresh) == 0  # nothing to continue: every run starts afresh
    assert "earlier start" not in capsys.readouterr().out
    assert main(["grid", "--plan", str(plan), "--algo", "svnr", "--out", str(tmp_path)]) == 2
    assert "no planned entry has the algorithm 'svnr'" in capsys.readouterr().err


def board_entries() -> dict[tuple[str, str], list[dict]]:
    entries: dict[tuple[str, str], list[dict]] = {}
    for path in sorted(BOARD.glob("*/*/seed_*.json")):
        entries.setdefault((path.parent.parent.name, path.parent.name), []).append(
            json.loads(path.read_text()))
    return entries


def test_the_board_holds_exactly_the_planned_entries():
    planned = {(e.protocol, e.name): e for e in grid.read_plan(PLAN)}
    stored = board_entries()
    assert set(stored) <= set(planned)
    # What is planned but not on the board yet is on a protocol the plan says is left to run.
    header = PLAN.read_text().split("\n\n")[0]
    left = header[header.index("# Left to run"):]
    for protocol, algo in sorted(set(planned) - set(stored)):
        assert re.search(rf"\b{re.escape(protocol)}(\s|$)", left), (protocol, algo)
    for key, results in stored.items():
        entry = planned[key]
        for result in results:  # each stored run trained with the planned settings
            assert result["config"] == entry.config(), key
            recorded = len(result.get("action_samples") or ())
            assert (recorded > 0) == (entry.record_samples > 0), key


def test_every_planned_entry_builds_its_agent():
    """A planned config the agent rejects (a fixed joint action of the wrong length, a bad value)
    fails here, not hours into a grid."""
    spaces: dict[str, agents.EnvSpaces] = {}
    for entry in grid.read_plan(PLAN):
        protocol = protocols.get(entry.protocol)
        if protocol.name not in spaces:
            env = ro_bench.make_vec(protocol.env_id, 1, **protocol.env_kwargs)
            spaces[protocol.name] = agents.EnvSpaces.from_vec(env)
            env.close()
        agent_cls, config_cls = algorithms.get(entry.algo)
        agent_cls(harness.make_config(config_cls, protocol, entry.overrides),
                  spaces[protocol.name], 0)
