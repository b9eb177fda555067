"""Leaderboard statistics: rliable's numbers reach the tables, the paper's figures stand beside
ours, and the committed README is exactly what the RunResults of record generate."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("rliable")
from rliable import metrics  # noqa: E402

from ro_bench import harness, leaderboard, site  # noqa: E402
from ro_bench.submit import BOARD  # noqa: E402

PROTOCOL = "max_of_three-s2=1.5"
FINALS = {"random": [-11.0, -10.5, -11.4, -12.0, -10.9], "svnr": [9.9, 9.7, 9.95, 2.0, 9.8]}


def write_board(root: Path, entries: dict[str, list[float]]) -> Path:
    """A board of the given entries' five seeds, made from one real run with edited finals."""
    run = harness.train("random", PROTOCOL, 0, root / "runs", progress=False)
    for algo, finals in entries.items():
        for seed, final in enumerate(finals):
            result = replace(run, algorithm=algo, seed=seed, final_metric=final,
                             success=final >= 5.0)
            path = root / PROTOCOL / algo / f"seed_{seed}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            result.write(path)
    return root


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A board with two entries of five seeds."""
    return write_board(tmp_path_factory.mktemp("board"), FINALS)


def test_statistics_are_rliables(board: Path) -> None:
    entries = leaderboard.read_entries(board)[PROTOCOL]
    assert [e.algorithm for e in entries] == ["svnr", "random"]  # ranked by IQM
    svnr = entries[0]
    scores = np.array(FINALS["svnr"])[:, None]
    assert svnr.iqm == pytest.approx(metrics.aggregate_iqm(scores))
    low, high = svnr.iqm_ci
    assert low <= svnr.iqm <= high and low < high
    assert svnr.mean == pytest.approx(np.mean(FINALS["svnr"]))
    assert svnr.std == pytest.approx(np.std(FINALS["svnr"]))
    assert svnr.success_rate == 0.8
    table = leaderboard.to_markdown({PROTOCOL: entries})
    assert f"{svnr.iqm:.2f} [{low:.2f}, {high:.2f}]" in table
    assert "80% (4/5)" in table


def test_equal_iqms_are_ranked_by_mean(tmp_path: Path) -> None:
    """Particle Gather's boards hold many entries whose IQM is 0: the mean then decides, so one
    seed at the optimum ranks above none, whatever the names."""
    finals = {"masql": [0.0] * 5, "pr2": [1.95, 0.0, 0.0, 0.0, 0.0],
              "aaa": [-0.5, 0.0, 0.0, 0.0, 0.0]}
    entries = leaderboard.read_entries(write_board(tmp_path, finals))[PROTOCOL]
    assert {e.iqm for e in entries} == {0.0}
    assert [e.algorithm for e in entries] == ["pr2", "masql", "aaa"]


def test_confidence_interval_is_reproducible(board: Path) -> None:
    first = leaderboard.read_entries(board)[PROTOCOL][0].iqm_ci
    assert leaderboard.read_entries(board)[PROTOCOL][0].iqm_ci == first


def test_probability_of_improvement_is_rliables(board: Path) -> None:
    tables = leaderboard.read_entries(board)
    poi = leaderboard.improvement_matrices(tables)["differential"]
    assert poi["algorithms"] == ["random", "svnr"]
    expected = metrics.probability_of_improvement(
        np.array(FINALS["svnr"])[:, None], np.array(FINALS["random"])[:, None])
    assert poi["matrix"][1][0] == pytest.approx(expected)
    assert poi["matrix"][0][1] == pytest.approx(1 - expected)
    assert poi["matrix"][0][0] is None


def test_paper_figures_stand_beside_ours(board: Path) -> None:
    tables = leaderboard.read_entries(board)
    assert tables[PROTOCOL][0].paper == (9.71, 0.20)
    table = leaderboard.to_markdown(tables)
    assert "9.71 ± 0.20" in table
    assert "maddpg (not run)" in table and "-0.64 ± 0.43" in table  # Table 2's other rows
    doc = json.loads(leaderboard.to_json(tables))
    assert doc["protocols"][PROTOCOL]["entries"][0]["paper"] == [9.71, 0.2]


def test_paper_data_covers_tables_1_to_3() -> None:
    paper = leaderboard.paper()
    assert "Negotiated Reasoning" in paper["citation"]
    assert {row["table"] for row in paper["results"]} == {1, 2, 3}
    named = {row["protocol"] for row in paper["results"]} - {None}
    assert named == {"max_of_three-s2=1.5", "max_of_three-s2=2.0", "max_of_three-s2=3.0",
                     "particle_gather", "mamujoco_full-halfcheetah_2x3",
                     "mamujoco_full-coupled_halfcheetah_1p1", "mamujoco_full-ant_2x4",
                     "mamujoco_full-walker2d_2x3"}
    table_1 = [row for row in paper["results"] if row["table"] == 1]
    assert {row["protocol"] for row in table_1} == named - {
        "max_of_three-s2=1.5", "max_of_three-s2=2.0", "max_of_three-s2=3.0", "particle_gather"}
    assert {row["scenario"]: row["protocol"] for row in table_1} == {
        "HalfCheetah-2x3": "mamujoco_full-halfcheetah_2x3",
        "HalfCheetah-1p1": "mamujoco_full-coupled_halfcheetah_1p1",
        "Ant-2x4": "mamujoco_full-ant_2x4", "Walker2d-2x3": "mamujoco_full-walker2d_2x3"}


def test_entry_command_reruns_every_seed(board: Path) -> None:
    entry = leaderboard.read_entries(board)[PROTOCOL][0]
    assert entry.command == (f"ro-bench evaluate --algo random --protocol {PROTOCOL} "
                             "--seeds 0-4 --out runs")


def test_unknown_protocol_is_named() -> None:
    with pytest.raises(ValueError, match="max_of_three-s2=1.5"):
        leaderboard.read_entries(BOARD, "max_of_three-s2=1.55")


def test_committed_readme_is_generated() -> None:
    """Nothing in the committed tables is typed by hand: they regenerate byte for byte."""
    tables = leaderboard.read_entries(BOARD)
    plan = site.figure_plan(tables)
    expected = leaderboard.to_markdown(tables, site.images(plan, f"{site.SITE}/"))
    assert (BOARD / "README.md").read_text() == expected, \
        "leaderboards/README.md is stale: run `ro-bench leaderboard --write`"
    for _, file, _, _ in plan:
        assert (BOARD / site.SITE / file).stat().st_size > 0


HOSTILE = "x=' | 1 | fake | row | [click](javascript:alert(1)) `code` ``` <b>&amp;'"


def test_submitted_strings_cannot_change_the_markdown_or_html(board: Path) -> None:
    entry = leaderboard.read_entries(board)[PROTOCOL][0]
    command = (*entry.results[0].command, "--config", HOSTILE)
    hostile = replace(entry, algorithm="a_b_:c+d", results=tuple(
        replace(r, command=command) for r in entry.results))
    markdown = leaderboard.to_markdown({PROTOCOL: [hostile]})
    lines = markdown.splitlines()
    rows = [line for line in lines if line.startswith("| 1 | a\\_b\\_:c+d |")]
    assert len(rows) == 1  # one row, its name escaped
    header = next(line for line in lines if line.startswith("| Rank"))
    cell_breaks = re.compile(r"(?<!\\)\|")
    assert len(cell_breaks.findall(rows[0])) == len(cell_breaks.findall(header))
    per_seed, rerun = [line for line in lines if line.startswith("- a")]
    assert per_seed.startswith("- a\\_b\\_:c+d (final\\_step\\_reward): seed 0: ")
    fence = "````"  # one more backtick than the longest run in the command
    assert rerun.startswith("- a\\_b\\_:c+d: " + fence) and rerun.endswith(fence)
    assert rerun.count(fence) == 2 and "](javascript" not in rerun.split(fence)[0]
    page = leaderboard.to_html({PROTOCOL: [hostile]})
    assert "<b>" not in page and "&lt;b&gt;&amp;amp;" in page
    # RunResult refuses control characters in a command; the escapes drop them all the same.
    assert leaderboard.markdown_code("a\nb`") == "`` a b` ``"
    assert leaderboard.markdown_text("a\n| b") == "a \\| b"


def test_particle_gather_tables_show_the_mean_per_step_reward_and_the_bound():
    assert "Mean per-step reward (mean ± std)" in leaderboard.columns("particle_gather")
    assert leaderboard.columns("climbing") == leaderboard.COLUMNS
    entries = leaderboard.read_tables(BOARD, ["particle_gather"])["particle_gather"]
    for e in entries:
        assert e.also == {"mean_step_reward": [r.final_return / 25 for r in e.results]}
    line = leaderboard._protocol_line("particle_gather")
    assert "-4/9" in line and "MASQL, ROMMEO, MMQ lie below it" in line
    assert "paper" not in leaderboard._protocol_line("particle_gather-square-reach=0.4")


# ------------------------------------------------------------------------------- MaMuJoCo


def test_the_full_track_shows_table_1_before_any_entry_and_the_cpu_track_says_why_not(
        tmp_path: Path) -> None:
    tables = leaderboard.read_entries(tmp_path)  # an empty board
    full = [name for name in tables if name.startswith("mamujoco_full-")]
    assert full == [f"mamujoco_full-{t}" for t in ("halfcheetah_2x3", "coupled_halfcheetah_1p1",
                                                   "ant_2x4", "walker2d_2x3")]
    assert set(tables) == {*full, "max_of_three-s2=1.5", "max_of_three-s2=2.0",
                           "max_of_three-s2=3.0", "particle_gather"}  # every paper table
    assert all(entries == [] for entries in tables.values())
    markdown = leaderboard.to_markdown(tables)
    assert "| – | svnr (not run) | – | – | – | 536.00 ± 31.00 |" in markdown  # Ant-2x4
    assert "the paper's Table 1 sits beside it" in leaderboard._protocol_line(full[0])
    cpu = leaderboard._protocol_line("mamujoco_cpu-ant_2x4")
    assert "no optimum: success undefined" in cpu and "not comparable with the paper" in cpu
    assert "10 evaluation episodes every 10,000 env steps, 100 at the end" in cpu
    assert site.figure_plan(tables) == []  # no curves for tables without entries


def test_entries_without_success_show_a_dash(board: Path) -> None:
    entry = leaderboard.read_entries(board)[PROTOCOL][0]
    undefined = replace(entry, results=tuple(replace(r, success=None) for r in entry.results))
    assert undefined.success_rate is None
    row = leaderboard._cells(1, undefined)
    assert row[leaderboard.COLUMNS.index("Success")] == "–"
    assert json.loads(leaderboard.to_json({PROTOCOL: [undefined]}))["protocols"][PROTOCOL][
        "entries"][0]["success_rate"] is None
