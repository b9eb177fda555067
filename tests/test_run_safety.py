"""Runs that cannot be mixed: resume refuses another run's checkpoint, checkpoints are verified
against their manifest, one process per run directory, workers die with their parent, and bad
options are errors that name them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from ro_bench import algorithms  # noqa: E402
from ro_bench.agents import EnvSpaces  # noqa: E402
import ro_bench  # noqa: E402
from ro_bench import checkpoint, harness  # noqa: E402
from ro_bench.cli import main  # noqa: E402

PROTOCOL = "max_of_three-s2=1.5"


def fixed(out: Path, actions: str, *extra: str) -> int:
    return main(["train", "--algo", "fixed", "--protocol", PROTOCOL, "--seed", "0", "--out",
                 str(out), "--config", f"actions={actions}", *extra])


# --- resume ----------------------------------------------------------------------------------


def test_resume_refuses_a_checkpoint_of_another_config(tmp_path, capsys):
    assert fixed(tmp_path, "[7,7,-4]") == 0
    result = (harness.run_dir(tmp_path, PROTOCOL, "fixed", 0) / "result.json").read_bytes()
    assert fixed(tmp_path, "[-5,-5,3]", "--resume") == 2
    err = capsys.readouterr().err
    assert "cannot resume" in err and "its checkpoint is of another run" in err
    assert "config actions=[7.0, 7.0, -4.0] there, [-5.0, -5.0, 3.0] now" in err
    # Nothing was touched; the same options resume, and a fresh start is allowed.
    assert (harness.run_dir(tmp_path, PROTOCOL, "fixed", 0) / "result.json").read_bytes() == result
    assert fixed(tmp_path, "[7,7,-4]", "--resume") == 0
    assert fixed(tmp_path, "[-5,-5,3]") == 0


def test_resume_refuses_other_recorded_samples(tmp_path, capsys):
    assert fixed(tmp_path, "[7,7,-4]") == 0
    assert fixed(tmp_path, "[7,7,-4]", "--resume", "--record-samples", "3") == 2
    assert "record_samples 0 there, 3 now" in capsys.readouterr().err


def test_run_file_says_what_the_directory_runs(tmp_path):
    assert fixed(tmp_path, "[7,7,-4]") == 0
    run = json.loads((harness.run_dir(tmp_path, PROTOCOL, "fixed", 0) / "run.json").read_text())
    assert run["algorithm"] == "fixed" and run["protocol"] == PROTOCOL and run["seed"] == 0
    assert run["config"] == {"actions": [7.0, 7.0, -4.0]} and len(run["config_hash"]) == 64


# --- checkpoints -----------------------------------------------------------------------------


@pytest.fixture
def saved(tmp_path) -> tuple[Path, object, object]:
    """A checkpoint of a MADDPG agent (torch weights, optimizer, replay buffer) on max_of_two."""
    env = ro_bench.make_vec("max_of_two", 1)
    agent_cls, config_cls = algorithms.get("maddpg")
    agent = agent_cls(config_cls(), EnvSpaces.from_vec(env), 0)
    obs, _ = env.reset(seed=0)
    for _ in range(3):
        obs, _ = harness._train_step(agent, env, obs)
    checkpoint.save(tmp_path, 3, {"steps": 3}, env, obs, agent)
    return tmp_path, env, agent


def latest_dir(run: Path) -> Path:
    return run / "checkpoints" / (run / "checkpoints" / "LATEST").read_text()


def test_a_checkpoint_round_trips_through_its_manifest(saved):
    run, env, agent = saved
    manifest = json.loads((latest_dir(run) / checkpoint.MANIFEST).read_text())
    assert {"env.npz", "progress.json", "agent/networks.pt", "agent/replay.npz"} <= set(manifest)
    progress, obs = checkpoint.load(run, env, agent)
    assert progress == {"steps": 3} and obs.shape == (1, 2, 1)


def test_one_flipped_bit_in_the_weights_is_refused(saved):
    run, env, agent = saved
    weights = latest_dir(run) / "agent" / "networks.pt"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0x80  # a sign bit, somewhere in the tensors
    weights.write_bytes(bytes(data))
    with pytest.raises(checkpoint.CheckpointError, match=r"agent/networks\.pt does not match"):
        checkpoint.load(run, env, agent)


@pytest.mark.parametrize("name", ["../../..", "/etc", "step_1", "step_000000000003/../x", ""])
def test_latest_must_name_a_checkpoint_of_the_run(saved, name):
    run, env, agent = saved
    (run / "checkpoints" / "LATEST").write_text(name)
    with pytest.raises(checkpoint.CheckpointError, match="not a checkpoint directory"):
        checkpoint.load(run, env, agent)


def test_missing_added_and_unreadable_files_are_named(saved):
    run, env, agent = saved
    path = latest_dir(run)
    (path / "extra.bin").write_bytes(b"x")
    with pytest.raises(checkpoint.CheckpointError, match="extra.bin is not in the checkpoint's"):
        checkpoint.load(run, env, agent)
    (path / "extra.bin").unlink()
    # A truncated archive that the manifest vouches for still fails with the file's name.
    (path / "env.npz").write_bytes((path / "env.npz").read_bytes()[:100])
    manifest = json.loads((path / checkpoint.MANIFEST).read_text())
    import hashlib

    manifest["env.npz"] = hashlib.sha256((path / "env.npz").read_bytes()).hexdigest()
    (path / checkpoint.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(checkpoint.CheckpointError, match="cannot read the checkpoint"):
        checkpoint.load(run, env, agent)
    (path / checkpoint.MANIFEST).unlink()
    with pytest.raises(checkpoint.CheckpointError, match="MANIFEST.json is missing"):
        checkpoint.load(run, env, agent)


def test_cli_reports_a_corrupt_checkpoint_in_one_line(tmp_path, capsys):
    assert fixed(tmp_path, "[7,7,-4]") == 0
    run = harness.run_dir(tmp_path, PROTOCOL, "fixed", 0)
    (latest_dir(run) / "progress.json").write_text("{")
    assert fixed(tmp_path, "[7,7,-4]", "--resume") == 2
    err = capsys.readouterr().err
    assert err.startswith("ro-bench: error: ") and "progress.json does not match" in err


# --- one process per run directory, workers die with their parent ---------------------------


def test_a_second_process_in_a_run_directory_fails_at_once(tmp_path):
    directory = harness.run_dir(tmp_path, PROTOCOL, "fixed", 0)
    directory.mkdir(parents=True)
    with harness.run_lock(directory):
        assert (directory / harness.LOCK_FILE).read_text().strip() == str(os.getpid())
        with pytest.raises(harness.RunDirectoryError,
                           match=f"in use by process {os.getpid()}"):
            harness.train("fixed", PROTOCOL, 0, tmp_path, {"actions": [7, 7, -4]},
                          progress=False)
    harness.train("fixed", PROTOCOL, 0, tmp_path, {"actions": [7, 7, -4]}, progress=False)


def test_duplicate_runs_are_refused_before_any_starts(tmp_path):
    with pytest.raises(ValueError, match="seed 0 of random on climbing is asked for twice"):
        harness.train_many([("random", "climbing", 0, None, 0)] * 2, tmp_path, workers=2)
    assert not any(tmp_path.iterdir())


def children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads processes from /proc (Linux)")
def test_workers_die_with_a_killed_parent(tmp_path):
    parent = subprocess.Popen(
        [sys.executable, "-m", "ro_bench.cli", "evaluate", "--algo", "random", "--protocol",
         "particle_gather", "--seeds", "0-1", "--workers", "2", "--out", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    runs = [harness.run_dir(tmp_path, "particle_gather", "random", s) / "run.json"
            for s in (0, 1)]
    deadline = time.monotonic() + 120
    while not all(r.exists() for r in runs):  # both workers are training
        assert parent.poll() is None and time.monotonic() < deadline, "the workers never started"
        time.sleep(0.1)
    workers = children(parent.pid)
    assert len(workers) >= 2
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while any(alive(w) for w in workers):
        assert time.monotonic() < deadline, "workers outlived their parent"
        time.sleep(0.1)


# --- options ---------------------------------------------------------------------------------


@pytest.mark.parametrize("args, message", [
    (["evaluate", "--seeds", "4-0"], "--seeds range '4-0' is empty"),
    (["evaluate", "--seeds", "0,0,0,0", "--workers", "2"], "more than once"),
    (["evaluate", "--seeds", "-1"], "--seeds must be seeds >= 0"),
    (["evaluate", "--workers", "0"], "--workers must be an integer >= 1; got '0'"),
    (["train", "--seed", "-1"], "--seed must be an integer >= 0; got '-1'"),
    (["train", "--seed", "0", "--config", "actions=[1e999, 0, 0]"], "finite"),
])
def test_bad_options_are_named(tmp_path, capsys, args, message):
    assert exit_status([*args, "--algo", "fixed", "--protocol", PROTOCOL, "--out",
                        str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / PROTOCOL).exists()


def exit_status(argv: list[str]) -> int:
    """``main``'s status; argparse's own errors exit 2 through SystemExit."""
    try:
        return main(argv)
    except SystemExit as exit:
        return exit.code


def test_out_must_be_a_writable_directory(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    assert fixed(tmp_path / "file", "[7,7,-4]") == 2
    assert "is a file, not a directory" in capsys.readouterr().err
    assert fixed(Path("/proc/no/such"), "[7,7,-4]") == 2
    assert "cannot be made" in capsys.readouterr().err


def test_leaderboard_of_a_missing_board_is_an_error(tmp_path, capsys):
    assert main(["leaderboard", "--board", str(tmp_path / "nowhere")]) == 2
    assert "is not a directory" in capsys.readouterr().err
