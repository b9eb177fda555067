"""What a run directory keeps straight beyond test_run_safety.py: a fresh start leaves nothing of
the old run to resume, a checkpoint that passes its manifest but still cannot be read is named,
pools stop at the first failure, and bad input to the CLI is one line naming the option."""

from __future__ import annotations

import hashlib
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
from ro_bench import atomic, checkpoint, harness  # noqa: E402
from ro_bench.cli import main  # noqa: E402
from ro_bench.results import RunResult  # noqa: E402

PROTOCOL = "max_of_three-s2=1.5"


def fixed(out: Path, actions: list, resume: bool = False) -> RunResult:
    return harness.train("fixed", PROTOCOL, 0, out, {"actions": actions}, resume=resume,
                         progress=False)


def test_a_fresh_start_leaves_no_checkpoint_of_the_old_run(tmp_path, monkeypatch):
    fixed(tmp_path, [7, 7, -4])  # the optimum: metric 10
    run = harness.run_dir(tmp_path, PROTOCOL, "fixed", 0)

    def killed(*args, **kwargs):  # the new run dies before its first checkpoint
        raise KeyboardInterrupt

    monkeypatch.setattr(harness, "_train", killed)
    with pytest.raises(KeyboardInterrupt):
        fixed(tmp_path, [-5, -5, 3])
    monkeypatch.undo()
    assert not (run / "checkpoints").exists() and not (run / "result.json").exists()
    resumed = fixed(tmp_path, [-5, -5, 3], resume=True)
    whole = fixed(tmp_path / "whole", [-5, -5, 3])
    assert resumed.config == whole.config and resumed.curve == whole.curve  # not the old 10s


def saved_checkpoint(run: Path) -> tuple[Path, object, object]:
    env = ro_bench.make_vec("max_of_two", 1)
    agent_cls, config_cls = algorithms.get("maddpg")
    agent = agent_cls(config_cls(), EnvSpaces.from_vec(env), 0)
    obs, _ = env.reset(seed=0)
    path = checkpoint.save(run, 1, {"steps": 1}, env, obs, agent)
    return path, env, agent


def vouch_for(path: Path, name: str) -> None:
    """Make the manifest agree with the file ``name`` as it is now (a bug or a careful editor)."""
    manifest = json.loads((path / checkpoint.MANIFEST).read_text())
    manifest[name] = hashlib.sha256((path / name).read_bytes()).hexdigest()
    (path / checkpoint.MANIFEST).write_text(json.dumps(manifest))


@pytest.mark.parametrize("name, edit, named", [
    ("agent/networks.pt", lambda b: b[:200], "agent/networks.pt"),
    ("progress.json", lambda b: b'{"progress": {}}', "progress.json"),
    ("env.npz", lambda b: b"", "env.npz"),
])
def test_a_vouched_for_but_unreadable_checkpoint_is_named(tmp_path, name, edit, named):
    path, env, agent = saved_checkpoint(tmp_path)
    (path / name).write_bytes(edit((path / name).read_bytes()))
    vouch_for(path, name)
    with pytest.raises(checkpoint.CheckpointError) as error:
        checkpoint.load(tmp_path, env, agent)
    assert named in str(error.value)


def test_latest_may_not_lead_out_through_a_symbolic_link(tmp_path):
    path, env, agent = saved_checkpoint(tmp_path / "elsewhere")
    root = tmp_path / "run" / "checkpoints"
    root.mkdir(parents=True)
    (root / path.name).symlink_to(path, target_is_directory=True)
    (root / "LATEST").write_text(path.name)
    with pytest.raises(checkpoint.CheckpointError, match="not a checkpoint directory"):
        checkpoint.load(tmp_path / "run", env, agent)


def test_a_pool_stops_starting_runs_after_the_first_failure(tmp_path):
    runs = [("random", "climbing", seed, None, 0) for seed in range(8)]
    first = harness.run_dir(tmp_path, "climbing", "random", 0)
    first.mkdir(parents=True)
    with harness.run_lock(first):  # run 0 fails at once in its worker
        with pytest.raises(harness.RunDirectoryError, match="in use by process"):
            harness.train_many(runs, tmp_path, workers=2)
    started = [s for s in range(8)
               if (harness.run_dir(tmp_path, "climbing", "random", s) / "run.json").exists()]
    assert len(started) < 7, f"seeds {started} all ran after seed 0 failed"


def test_load_torch_names_a_truncated_file(tmp_path):
    from ro_bench_zoo.common.torch_files import load_torch, save_torch

    save_torch(tmp_path / "w.pt", {"w": torch.arange(100)})
    (tmp_path / "w.pt").write_bytes((tmp_path / "w.pt").read_bytes()[:100])
    with pytest.raises(ValueError, match=r"w\.pt"):
        load_torch(tmp_path / "w.pt")


def test_atomic_write_leaves_the_process_umask_alone(tmp_path, monkeypatch):
    """Setting the umask to read it races with every other thread creating files."""
    def forbidden(mask):
        raise AssertionError(f"os.umask({mask:o}) called")

    monkeypatch.setattr(os, "umask", forbidden)
    with atomic.atomic_write(tmp_path / "f") as file:
        file.write(b"x")
    monkeypatch.undo()
    mask = os.umask(0o022)
    os.umask(mask)
    assert (tmp_path / "f").stat().st_mode & 0o777 == 0o666 & ~mask


# --- the command line -----------------------------------------------------------------------


def one_line_error(capsys, argv: list[str]) -> str:
    try:
        status = main(argv)
    except SystemExit as exit:
        status = exit.code
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("ro-bench: error: ") and err.count("\n") == 1, err
    return err


@pytest.mark.parametrize("argv, words", [
    (["train", "--seed", "-1"], ["--seed must be an integer >= 0", "-1"]),
    (["evaluate", "--workers", "0"], ["--workers must be an integer >= 1", "0"]),
    (["train", "--seed", "0", "--config", "actions=[1" + "0" * 400 + ", 0, 0]"],
     ["actions", "finite"]),
])
def test_bad_options_are_one_line(tmp_path, capsys, argv, words):
    err = one_line_error(capsys, [*argv, "--algo", "fixed", "--protocol", PROTOCOL,
                                  "--out", str(tmp_path)])
    assert all(word in err for word in words), err


def test_diagnose_of_a_missing_run_is_named(tmp_path, capsys):
    err = one_line_error(capsys, ["diagnose", "--run", str(tmp_path / "nowhere")])
    assert str(tmp_path / "nowhere") in err


# --- workers die with their parent, also where the kernel cannot be asked -----------------


CHILD = """
import ctypes, os, sys, time
def no_libc(*args, **kwargs):
    raise OSError("no prctl here")
ctypes.CDLL = no_libc  # as on macOS: only the watchdog thread is left
from ro_bench.harness import die_with_parent
die_with_parent(os.getppid())
print(os.getpid(), flush=True)
time.sleep(60)
"""

MIDDLE = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", sys.argv[1]], stdout=sys.stdout)
time.sleep(60)
"""


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads processes from /proc (Linux)")
def test_the_watchdog_kills_a_worker_whose_parent_died(tmp_path):
    middle = subprocess.Popen([sys.executable, "-c", MIDDLE, CHILD], stdout=subprocess.PIPE,
                              text=True)
    child = int(middle.stdout.readline())
    middle.send_signal(signal.SIGKILL)
    middle.wait()
    deadline = time.monotonic() + 10
    try:
        while Path(f"/proc/{child}").exists() and _state(child) != "Z":
            assert time.monotonic() < deadline, "the worker outlived its parent"
            time.sleep(0.1)
    finally:
        if Path(f"/proc/{child}").exists() and _state(child) != "Z":
            os.kill(child, signal.SIGKILL)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


@pytest.mark.parametrize("argv, words", [
    (["sweep-s2", "--algo", "random", "--s2", "1.5,abc"], ["--s2", "1.5,3.0", "'1.5,abc'"]),
    (["sweep-s2", "--algo", "random", "--s2", "1.5,1.5"], ["--s2", "more than once"]),
    (["list", "--family", "matrx"], ["--family", "Did you mean 'matrix'"]),
])
def test_bad_names_and_lists_are_one_line(tmp_path, capsys, argv, words):
    err = one_line_error(capsys, [*argv, *(["--out", str(tmp_path)] if argv[0] != "list" else [])])
    assert all(word in err for word in words), err
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("alpha", ["nan", "0", "-1", "inf"])
def test_diagnose_needs_a_positive_temperature(tmp_path, capsys, alpha):
    harness.train("fixed", "two_modalities", 0, tmp_path, {"actions": [7.0, 7.0, -3.0]},
                  progress=False)
    run = harness.run_dir(tmp_path, "two_modalities", "fixed", 0)
    err = one_line_error(capsys, ["diagnose", "--run", str(run), "--alpha", alpha])
    assert "--alpha must be a finite real number in (0, inf)" in err
