"""The marl-eval export: marl-eval's raw-data layout, every evaluation episode's return, the
final evaluation as the absolute metric, and a file marl-eval's own pipeline reads."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("rliable")
pytest.importorskip("gymnasium_robotics")

from harness_doubles import SMALL_MUJOCO, register_small_protocol  # noqa: E402
from ro_bench import harness, leaderboard, marl_eval  # noqa: E402
from ro_bench.cli import main  # noqa: E402

SEEDS = (0, 1)


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``random`` on a miniature MaMuJoCo protocol (4 episodes per evaluation, 8 at the end),
    two seeds, and ``fixed`` filed from the same runs with an older schema (no episodes)."""
    register_small_protocol()
    root = tmp_path_factory.mktemp("board")
    for seed in SEEDS:
        run = harness.train("random", SMALL_MUJOCO.name, seed, root / "runs", progress=False)
        (root / SMALL_MUJOCO.name / "random").mkdir(parents=True, exist_ok=True)
        run.write(root / SMALL_MUJOCO.name / "random" / f"seed_{seed}.json")
        old = dataclasses.replace(run, algorithm="fixed", schema_version=4, episode_returns=(),
                                  success=False)
        (root / SMALL_MUJOCO.name / "fixed").mkdir(exist_ok=True)
        old.write(root / SMALL_MUJOCO.name / "fixed" / f"seed_{seed}.json")
    return root


def test_the_layout_is_marl_evals_and_holds_every_episode(board: Path) -> None:
    tables = leaderboard.read_entries(board, SMALL_MUJOCO.name)
    doc, skipped = marl_eval.to_marl_eval(tables)
    assert list(doc) == ["test"] and list(doc["test"]) == ["mamujoco"]  # env, task
    assert list(doc["test"]["mamujoco"]) == ["random"]
    assert skipped == ["test-mamujoco fixed: seeds [0, 1] kept no per-episode returns "
                       "(RunResult schema version 4 or older)"]
    runs = doc["test"]["mamujoco"]["random"]
    assert list(runs) == ["seed_0", "seed_1"]
    results = {f"seed_{r.seed}": r for r in tables[SMALL_MUJOCO.name][0].results}
    for key, steps in runs.items():
        result = results[key]
        assert list(steps) == [f"step_{i}" for i in range(5)] + ["absolute_metrics"]
        assert [steps[f"step_{i}"]["step_count"] for i in range(5)] == [0, 20, 40, 60, 80]
        for i, episodes in enumerate(result.episode_returns):
            assert steps[f"step_{i}"]["return"] == list(episodes[:4])  # eval_episodes each
            assert set(steps[f"step_{i}"]) == {"step_count", "return"}
        final = steps["absolute_metrics"]["return"]
        assert len(final) == 8 and np.mean(final) == result.final_metric  # 10x in a real track
    assert runs["seed_0"] != runs["seed_1"]


def test_the_command_writes_the_file(board: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "marl_eval.json"
    assert main(["leaderboard", "--board", str(board), "--protocol", SMALL_MUJOCO.name,
                 "--format", "marl-eval", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert f"wrote {out}" in captured.out and "left out of the marl-eval file" in captured.err
    tables = leaderboard.read_entries(board, SMALL_MUJOCO.name)
    assert json.loads(out.read_text()) == marl_eval.to_marl_eval(tables)[0]


def test_protocol_names_split_into_env_and_task() -> None:
    assert marl_eval.names("mamujoco_cpu-halfcheetah_2x3") == ("mamujoco_cpu", "halfcheetah_2x3")
    assert marl_eval.names("max_of_three-s2=1.5") == ("max_of_three", "s2=1.5")
    assert marl_eval.names("particle_gather") == ("particle_gather", "particle_gather")


def test_marl_evals_own_pipeline_reads_the_file(board: Path, tmp_path: Path) -> None:
    data_processing = pytest.importorskip("marl_eval.utils.data_processing_utils")
    tables = leaderboard.read_entries(board, SMALL_MUJOCO.name)
    raw = json.loads(marl_eval.dumps(marl_eval.to_marl_eval(tables)[0]))
    processed = data_processing.data_process_pipeline(raw_data=raw, metrics_to_normalize=[])
    assert processed["extra"]["algorithm_list"] == ["random"]
    assert processed["extra"]["number_of_runs"] == len(SEEDS)
    assert processed["extra"]["evaluation_interval"] == {"test": 20}
    for result in tables[SMALL_MUJOCO.name][0].results:
        run = processed["test"]["mamujoco"]["random"][f"seed_{result.seed}"]
        assert run["absolute_metrics"]["mean_return"] == pytest.approx(result.final_metric)
        assert run["step_1"]["mean_return"] == pytest.approx(result.returns[1])
