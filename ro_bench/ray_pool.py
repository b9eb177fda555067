"""Harness runs as Ray tasks: ``ro-bench grid --ray`` on a local Ray instance or a cluster.

``train_many_on_ray`` takes the runs of ``harness.train_many`` and makes each one a Ray task of
one CPU calling ``harness.train``; it returns the same RunResults, read back from ``out``.

A task whose worker process dies (killed, out of memory, its node lost) is retried by Ray up to
``RETRIES`` times, and a retry continues the run from its last checkpoint (one in a scratch
directory, see below, only on the same node). For that every task trains with ``resume=True``:
without ``resume`` the driver first clears each run directory itself (``harness.clear_run``,
under the run's lock), so each run still starts afresh once, and a retry finds only the
checkpoints of its own killed attempt. An ordinary exception (a bad config, a bug) is not
retried: the first is raised at once and the runs not yet done are cancelled (one under way
stops at its last checkpoint, which ``resume`` continues).

Tasks need not see ``out``. The driver writes a marker file into ``out``; a task whose node sees
it at the same absolute path trains in ``out`` itself (a shared filesystem, or a local
instance). Any other task trains in a scratch directory of its node and returns the finished
run directory's files but the checkpoints, which the driver writes into ``out``. Such a run
cannot continue a checkpoint in ``out``: with ``resume`` it starts afresh on its node. Either
way ``result.json``'s command names ``out`` as the driver was given it, as a local run's does.

Ray is an optional dependency (``pip install 'ro-bench[dist]'``), imported only when used; the
nodes of a cluster need ro-bench installed too.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

from ro_bench import harness
from ro_bench.atomic import atomic_write
from ro_bench.results import RunResult

LOCAL = "local"  # the address that starts a new local Ray instance (as in ``ray.init``)
RETRIES = 3  # how often Ray retries a run whose worker process died
MARKER = ".ro-bench-ray-"  # + a token: the file telling a task that it sees the driver's out


def train_many_on_ray(runs: list[harness.Run], out: Path, resume: bool = False,
                      address: str | None = None, description: str = "runs",
                      shared_filesystem: bool | None = None) -> list[RunResult]:
    """``harness.train`` for each run as a Ray task of one CPU; the RunResults in run order.

    ``address``: a Ray cluster to connect to (``"auto"``, ``"ray://host:10001"``, ...); None or
    ``LOCAL`` starts a local instance with every CPU of this machine. If Ray is already
    initialized, its instance is used whatever the address; only an instance started here is
    shut down here. ``shared_filesystem``: whether tasks train in ``out`` itself (True) or in a
    scratch directory of their node (False); None decides per task by the marker file.
    """
    directories = harness.run_directories(runs, out)
    ray = import_ray()
    started = start(ray, address)
    token = uuid.uuid4().hex
    marker = Path(out).absolute() / f"{MARKER}{token}"
    try:
        if not resume:
            for directory in directories:
                _clear(directory)
        marker.write_text(token)
        _run_tasks(ray, runs, out, token, shared_filesystem, description)
        return [RunResult.read(d / "result.json") for d in directories]
    finally:
        marker.unlink(missing_ok=True)
        if started:
            ray.shutdown()


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ValueError("running on Ray needs Ray: pip install 'ro-bench[dist]'") from None
    return ray


def start(ray: Any, address: str | None) -> bool:
    """Connect to ``address`` or start a local instance, unless Ray is initialized already;
    whether this call started it."""
    if ray.is_initialized():
        return False
    if address is None or address == LOCAL:
        ray.init(address=LOCAL, num_cpus=os.cpu_count(), include_dashboard=False,
                 logging_level=logging.WARNING, log_to_driver=False)
    else:
        ray.init(address=address)
    return True


def _clear(directory: Path) -> None:
    """What ``harness.train`` without ``resume`` does first, done once by the driver."""
    directory.mkdir(parents=True, exist_ok=True)
    with harness.run_lock(directory):
        harness.clear_run(directory)


def _run_tasks(ray: Any, runs: list[harness.Run], out: Path, token: str,
               shared_filesystem: bool | None, description: str) -> None:
    """Submit every run, then settle each as it finishes, with a bar of the runs done; the
    first failure cancels the rest and is raised."""
    from tqdm import tqdm

    task = ray.remote(train_task).options(num_cpus=1, max_retries=RETRIES,
                                          retry_exceptions=False)
    where = str(Path(out).absolute())
    index = {task.remote(run, where, i, token, shared_filesystem): i
             for i, run in enumerate(runs)}
    pending = list(index)
    try:
        with tqdm(total=len(runs), desc=description, unit="run", leave=False) as bar:
            while pending:
                ready, pending = ray.wait(pending, num_returns=1)
                for ref in ready:
                    run = runs[index[ref]]
                    _settle(_outcome(ray, ref, run), run, out)
                    bar.update()
    except BaseException:
        for ref in pending:
            with contextlib.suppress(Exception):  # best effort: the failure is what to report
                ray.cancel(ref)
        raise


def _outcome(ray: Any, ref: Any, run: harness.Run) -> dict[str, bytes] | None:
    """What the task returned; the run's own exception if it raised one."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as error:
        if isinstance(error.cause, Exception):
            raise error.cause from error  # a ValueError stays one, as in the local pool
        raise
    except ray.exceptions.RayError as error:
        algo, protocol, seed = run[:3]
        raise RuntimeError(f"{algo} on {protocol}, seed {seed}: Ray could not finish the run "
                           f"(its worker died {RETRIES + 1} times, or Ray failed): {error}"
                           ) from error


def train_task(run: harness.Run, out: str, index: int, token: str,
               shared_filesystem: bool | None) -> dict[str, bytes] | None:
    """One run, on a Ray worker: trained in ``out`` if this node sees it (None is returned),
    else in a scratch directory whose files (but the checkpoints) are returned by name."""
    run = harness.Run(*run)
    shared = sees(Path(out) / f"{MARKER}{token}", token) if shared_filesystem is None \
        else shared_filesystem
    if shared:
        run.train(Path(out), True, False)
        return None
    # Named by the grid and the run, so a retry on the same node continues the killed attempt.
    scratch = Path(tempfile.gettempdir()) / f"ro-bench-ray-{token}-{index}"
    try:
        run.train(scratch, True, False)
        return run_files(run.directory(scratch))
    finally:  # a worker that dies never gets here: its scratch waits for the retry
        shutil.rmtree(scratch, ignore_errors=True)


def sees(marker: Path, token: str) -> bool:
    """Whether this process sees the driver's marker file, so shares the driver's ``out``."""
    try:
        return marker.read_text() == token
    except OSError:
        return False


def run_files(directory: Path) -> dict[str, bytes]:
    """A finished run directory's files by relative path, but its checkpoints and lock."""
    return {path.relative_to(directory).as_posix(): path.read_bytes()
            for path in sorted(directory.rglob("*")) if path.is_file()
            and path.relative_to(directory).parts[0] not in ("checkpoints", harness.LOCK_FILE)}


def _settle(files: dict[str, bytes] | None, run: harness.Run, out: Path) -> None:
    """Put a finished run into ``out``: the files a task returned (if it trained elsewhere),
    and ``out`` as given into result.json's command."""
    directory = harness.Run(*run).directory(out)
    if files is not None:
        write_run(directory, files)
    _name_out(directory / "result.json", out)


def write_run(directory: Path, files: dict[str, bytes]) -> None:
    """Replace the run in ``directory`` with ``files`` (relative path -> bytes), under its lock.
    Its checkpoints go too: they were of another attempt than this result."""
    directory.mkdir(parents=True, exist_ok=True)
    with harness.run_lock(directory):
        harness.clear_run(directory)
        for name, data in files.items():
            if Path(name).is_absolute() or ".." in Path(name).parts:
                raise ValueError(f"a Ray task returned the file {name!r}, outside its run")
            path = directory / name
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_write(path) as file:
                file.write(data)


def _name_out(path: Path, out: Path) -> None:
    """Make the command in the RunResult at ``path`` say ``--out OUT`` with ``out`` as given:
    the task trained under another path (its node's scratch directory, or ``out`` made
    absolute)."""
    result = RunResult.read(path)
    words = list(result.command)
    at = words.index("--out") + 1
    if words[at] != str(out):
        words[at] = str(out)
        dataclasses.replace(result, command=tuple(words)).write(path)
