"""Runs as Ray tasks (ro_bench/ray_pool.py, ``ro-bench grid --ray``): the RunResults of the local
pool bit for bit, through a killed worker, and where the tasks cannot see ``out``."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="the Ray backend needs Ray: pip install 'ro-bench[dist]'")

from ro_bench import grid, harness, ray_pool, verify  # noqa: E402
from ro_bench.cli import main  # noqa: E402
from ro_bench.results import RunResult  # noqa: E402

PROTOCOL = "max_of_three-s2=1.5"  # 5000 env steps, a checkpoint every 250
# 10 updates at the end: the learning is checked, and a run lasts some seconds, not a minute.
PLAN = ["random max_of_three-s2=1.5", "maddpg max_of_three-s2=1.5 --config learning_starts=4990"]
SEEDS = [0]  # one seed each: two maddpg runs would double the time
TIMEOUT_S = 180


@pytest.fixture(scope="module")
def ray_instance():
    ray.init(address="local", num_cpus=2, include_dashboard=False,
             logging_level=logging.WARNING, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def entries() -> list[grid.Entry]:
    return [grid.parse_line(line) for line in PLAN]


@pytest.fixture(scope="module")
def local(entries, tmp_path_factory) -> dict[tuple[str, int], RunResult]:
    """The plan's RunResults from the local pool of processes, by (algorithm, seed)."""
    done = grid.run(entries, tmp_path_factory.mktemp("local"), SEEDS, workers=2)
    return {(r.algorithm, r.seed): r for _, results in done.results for r in results}


def assert_same(rerun: RunResult, local: dict[tuple[str, int], RunResult]) -> None:
    mismatches, _ = verify.compare(local[rerun.algorithm, rerun.seed], rerun)
    assert mismatches == [], (rerun.algorithm, rerun.seed)


def run_of(entry: grid.Entry, seed: int) -> harness.Run:
    return entry.algo, entry.protocol, seed, entry.overrides, entry.record_samples


def test_a_ray_grid_gives_the_local_pools_results(ray_instance, entries, local, tmp_path):
    out = tmp_path / "runs"
    done = grid.run(entries, out, SEEDS, ray_address=ray_pool.LOCAL)
    assert done.runs == 2 and done.wall_time_s > 0
    for entry, results in done.results:
        assert [(r.algorithm, r.seed) for r in results] == [(entry.algo, s) for s in SEEDS]
        for result in results:
            assert_same(result, local)
            path = harness.run_dir(out, entry.protocol, entry.algo, result.seed) / "result.json"
            assert RunResult.read(path) == result
            assert result.command[result.command.index("--out") + 1] == str(out)
    assert not list(out.glob(f"{ray_pool.MARKER}*"))  # the marker is gone
    assert ray.is_initialized()  # not started here, so not shut down here


def latest_step(directory: Path) -> int:
    try:
        return int((directory / "checkpoints" / "LATEST").read_text().strip()[len("step_"):])
    except (OSError, ValueError):
        return 0


def test_a_killed_worker_is_retried_and_gives_the_same_result(ray_instance, entries, local,
                                                              tmp_path):
    maddpg = entries[1]
    directory = harness.run_dir(tmp_path, PROTOCOL, maddpg.algo, 0)
    finished: list = []
    thread = threading.Thread(target=lambda: finished.append(ray_pool.train_many_on_ray(
        [run_of(maddpg, 0)], tmp_path)), daemon=True)
    thread.start()
    deadline = time.monotonic() + TIMEOUT_S
    while latest_step(directory) < 1000 and thread.is_alive():
        assert time.monotonic() < deadline, "the run never reached its checkpoint of step 1000"
        time.sleep(0.02)
    assert not (directory / "result.json").exists()
    killed, step = int((directory / harness.LOCK_FILE).read_text()), latest_step(directory)
    assert killed != os.getpid()
    os.kill(killed, signal.SIGKILL)
    seen = []  # the checkpoints from the kill on: a fresh start would show step 0 again
    while thread.is_alive() and time.monotonic() < deadline:
        seen.append(latest_step(directory))
        time.sleep(0.02)
    thread.join(1.0)
    assert not thread.is_alive() and len(finished) == 1, "the grid did not finish after the kill"
    assert int((directory / harness.LOCK_FILE).read_text()) != killed  # a retry finished it
    assert seen and min(seen) >= step  # it went on from the checkpoint the killed worker left
    assert_same(finished[0][0], local)


def test_tasks_that_cannot_see_out_send_their_files_back(ray_instance, entries, local, tmp_path):
    scratch = set(Path(tempfile.gettempdir()).glob("ro-bench-ray-*"))
    out = tmp_path / "runs"
    results = ray_pool.train_many_on_ray([run_of(entries[0], 0)], out, shared_filesystem=False)
    for result in results:
        assert_same(result, local)
        directory = harness.run_dir(out, PROTOCOL, result.algorithm, result.seed)
        assert RunResult.read(directory / "result.json") == result
        assert result.command[result.command.index("--out") + 1] == str(out)
        assert json.loads((directory / "run.json").read_text())["seed"] == result.seed
        rows = (directory / "curve.csv").read_text().splitlines()
        assert len(rows) == 1 + len(result.curve)
        assert (directory / "metrics.csv").is_file() and not (directory / "checkpoints").exists()
    assert set(Path(tempfile.gettempdir()).glob("ro-bench-ray-*")) <= scratch  # cleaned up


def test_the_first_failure_is_raised_and_the_rest_cancelled(ray_instance, tmp_path):
    runs = [("random", PROTOCOL, 0, {"no_such_field": 1}, 0)] + \
        [("random", PROTOCOL, seed, None, 0) for seed in range(1, 7)]
    with pytest.raises(ValueError, match="no_such_field") as error:
        ray_pool.train_many_on_ray(runs, tmp_path)
    assert not isinstance(error.value, ray.exceptions.RayError)  # the run's own error
    assert len(list(tmp_path.rglob("result.json"))) < 6
    assert ray.is_initialized()


def test_a_run_twice_or_no_ray_is_a_clear_error(tmp_path, monkeypatch):
    run = ("random", PROTOCOL, 0, None, 0)
    with pytest.raises(ValueError, match="seed 0 of random on .* asked for twice"):
        ray_pool.train_many_on_ray([run, run], tmp_path)
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    with pytest.raises(ValueError, match=r"pip install 'ro-bench\[dist\]'"):
        ray_pool.train_many_on_ray([run], tmp_path)


def test_cli_grid_on_ray(ray_instance, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # --out relative to the driver's directory, not the workers'
    Path("plan.txt").write_text("random max_of_two\n")
    argv = ["grid", "--plan", "plan.txt", "--seeds", "0", "--out", "runs", "--ray"]
    assert main(argv + ["--workers", "2"]) == 2
    assert "--workers cannot be given with --ray" in capsys.readouterr().err
    assert main(argv) == 0
    assert "1 runs of 1 entries as Ray tasks on a local Ray instance" in capsys.readouterr().out
    result = RunResult.read(harness.run_dir(Path("runs"), "max_of_two", "random", 0) /
                            "result.json")
    assert result.command[result.command.index("--out") + 1] == "runs"  # as a local run says
    with pytest.raises(SystemExit):
        main(["grid", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--ray [ADDRESS]" in text and "Ray task of one CPU" in text


def test_importing_ro_bench_imports_no_ray():
    code = ("import sys, ro_bench, ro_bench.cli, ro_bench.grid, ro_bench.ray_pool\n"
            "ro_bench.cli.build_parser()\nprint('ray' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["False"]
