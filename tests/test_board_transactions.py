"""Board writes are all-or-nothing: a submission or a page regeneration killed at any moment
leaves the board whole (every entry on one config, every page's figures on disk)."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import re
import signal
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest

from ro_bench import harness, journal
from ro_bench.results import RunResult, config_hash
from ro_bench.submit import submit

PROTOCOLS = ("max_of_three-s2=1.5", "max_of_two")
OUTSIDE = "my_package.agents:Agent"  # an algorithm this ro-bench does not know: any config
KILLS = 20


def retrained(result: RunResult, lr: float) -> RunResult:
    config = {"lr": lr}
    command = ("ro-bench", "train", "--algo", OUTSIDE, "--protocol", result.protocol, "--seed",
               str(result.seed), "--out", "runs", "--config", f"lr={lr!r}")
    return dataclasses.replace(result, algorithm=OUTSIDE, config=config,
                               config_hash=config_hash(config), command=command)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, list[RunResult]]:
    out = tmp_path_factory.mktemp("runs")
    return {p: [harness.train("random", p, seed, out, progress=False) for seed in range(5)]
            for p in PROTOCOLS}


def save(directory: Path, results: list[RunResult]) -> list[str]:
    directory.mkdir(parents=True, exist_ok=True)
    for result in results:
        result.write(directory / f"seed_{result.seed}.json")
    return [str(directory / f"seed_{r.seed}.json") for r in results]


def kill_at_random_points(loop: Callable[[], None], rng: random.Random, longest: float):
    """Fork ``KILLS`` times a child running ``loop`` (endless) and SIGKILL it at a random
    moment, yielding after each kill. Forking copies this process's imports, so the child is
    busy writing from its first instant."""
    for _ in range(KILLS):
        pid = os.fork()
        if pid == 0:  # the child: never returns into pytest
            try:
                loop()
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(1)
        time.sleep(rng.uniform(0.0, longest))
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status), "the loop ended by itself (see its traceback)"
        yield


def entry_configs(board: Path) -> dict[str, set]:
    """Each entry's set of seed configs and seeds, read as ro-bench reads a board."""
    out = {}
    with journal.reading(board):
        for directory in (board / p / OUTSIDE.replace(":", ".") for p in PROTOCOLS):
            files = sorted(directory.glob("seed_*.json"))
            results = [RunResult.read(f) for f in files]
            out[str(directory.relative_to(board))] = (
                {r.config_hash for r in results}, sorted(r.seed for r in results))
    return out


def test_submit_replace_killed_anywhere_leaves_each_entry_on_one_config(tmp_path, runs):
    board = tmp_path / "board"
    sets = {lr: {p: save(tmp_path / f"lr{lr}" / p, [retrained(r, lr) for r in runs[p]])
                 for p in PROTOCOLS} for lr in (0.1, 0.2)}
    # One submission of two entries on two protocols, replacing both at once.
    submit(sets[0.1][PROTOCOLS[0]] + sets[0.1][PROTOCOLS[1]], board)

    def loop() -> None:
        while True:
            for files in sets.values():
                submit(files[PROTOCOLS[0]] + files[PROTOCOLS[1]], board, replace=True)

    seen_pending = seen = 0
    hashes = {config_hash({"lr": lr}) for lr in (0.1, 0.2)}
    for _ in kill_at_random_points(loop, random.Random(0), longest=0.5):
        seen_pending += (board / journal.JOURNAL).exists()
        configs = entry_configs(board)  # replays an interrupted submission first
        assert not (board / journal.JOURNAL).exists()
        with journal.locked(board):  # a writer clears what a kill before the commit staged
            assert not (board / journal.STAGING).exists()
        assert len(configs) == 2
        entry_hashes = [one for one, seeds in configs.values()]
        for one, seeds in configs.values():
            assert seeds == [0, 1, 2, 3, 4]
            assert len(one) == 1 and one <= hashes, "an entry mixes two submissions"
        # Both entries came in one submission: they are on the same config too.
        assert entry_hashes[0] == entry_hashes[1]
        seen += 1
    assert seen == KILLS
    print(f"{seen_pending} of {KILLS} kills left a submission to replay")


IMAGE = re.compile(r'src="([^"]+)"|\]\((site/[^)]+)\)')


def referenced_files(board: Path) -> set[Path]:
    page = (board / "site" / "index.html").read_text()
    readme = (board / "README.md").read_text()
    return {board / "site" / (a or "") if a else board / b
            for a, b in IMAGE.findall(page) + IMAGE.findall(readme)}


def test_leaderboard_write_killed_anywhere_never_leaves_a_page_without_its_figures(tmp_path,
                                                                                   runs):
    board = tmp_path / "board"
    submit(save(tmp_path / "a", runs[PROTOCOLS[0]]), board)
    submit(save(tmp_path / "b", runs[PROTOCOLS[1]]), board)
    from ro_bench.site import write_board

    write_board(board)
    seen_pending = 0
    second = board / PROTOCOLS[1]
    parked = tmp_path / "parked"
    # The loop regenerates the page with and without the second protocol's entry, so its
    # figure comes and goes: a regeneration that deleted figures before replacing the page
    # would leave the page pointing at a missing file.

    def loop() -> None:
        while True:
            with journal.locked(board):
                if second.exists():
                    second.rename(parked)
                elif parked.exists():
                    parked.rename(second)
            write_board(board)

    for _ in kill_at_random_points(loop, random.Random(1), longest=2.5):
        seen_pending += (board / journal.JOURNAL).exists()
        missing = [p for p in referenced_files(board) if not p.exists()]
        assert not missing, f"the page refers to missing files {missing} (before any replay)"
        with journal.reading(board):  # replays an interrupted regeneration, as every reader
            assert not (board / journal.JOURNAL).exists()
        page, readme = (board / "site" / "index.html").read_text(), \
            (board / "README.md").read_text()
        shown = {Path(a).name for a, _ in IMAGE.findall(page)}
        assert shown == {Path(b).name for _, b in IMAGE.findall(readme)}, \
            "README and page are from two regenerations"
        assert shown == {p.name for p in (board / "site").glob("*.png")}, "stale figures"
    print(f"{seen_pending} of {KILLS} kills left a regeneration to replay")


def test_a_transaction_replays_from_any_point_of_its_application(tmp_path, monkeypatch):
    """In-process, deterministically: the application stops after each of its renames and
    deletions in turn, and the next lock holder finishes it."""
    root = tmp_path / "root"
    (root / "a").mkdir(parents=True)
    (root / "a" / "old.txt").write_text("old")
    (root / "a" / "gone.txt").write_text("gone")
    steps = 4  # three renames and one deletion
    real_replace, real_unlink = os.replace, Path.unlink
    for stop in range(steps):
        calls = []

        def counted(function):
            def wrapper(*args, **kwargs):
                if (root / journal.JOURNAL).exists():  # applying, past the commit point
                    if len(calls) == stop:
                        raise KeyboardInterrupt("killed")
                    calls.append(args)
                return function(*args, **kwargs)
            return wrapper

        monkeypatch.setattr(os, "replace", counted(real_replace))
        monkeypatch.setattr(Path, "unlink", counted(real_unlink))
        with pytest.raises(KeyboardInterrupt):
            with journal.locked(root), journal.transaction(root) as tx:
                tx.write("a/old.txt", f"new {stop}".encode())
                tx.write("a/b/new.txt", b"new")
                tx.write("c.txt", b"c")
                tx.delete("a/gone.txt")
        monkeypatch.undo()
        assert (root / journal.JOURNAL).exists()  # committed, half applied
        with journal.locked(root):
            pass
        assert (root / "a" / "old.txt").read_text() == f"new {stop}"
        assert (root / "a" / "b" / "new.txt").read_bytes() == b"new"
        assert (root / "c.txt").read_bytes() == b"c"
        assert not (root / "a" / "gone.txt").exists()
        assert not (root / journal.JOURNAL).exists() and not (root / journal.STAGING).exists()
        (root / "a" / "gone.txt").write_text("gone")


def test_a_transaction_that_fails_before_its_commit_changes_nothing(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "kept.txt").write_text("kept")
    with pytest.raises(RuntimeError):
        with journal.locked(root), journal.transaction(root) as tx:
            tx.write("kept.txt", b"changed")
            raise RuntimeError("a failed check")
    assert (root / "kept.txt").read_text() == "kept"
    assert sorted(p.name for p in root.iterdir()) == [journal.LOCK, "kept.txt"]


def test_a_journal_cannot_name_a_path_outside_its_root(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / journal.JOURNAL).write_text(json.dumps({"renames": [[".staging/x", "../evil"]],
                                                    "deletions": []}))
    with pytest.raises(journal.JournalError, match="outside"):
        with journal.locked(root):
            pass
    with pytest.raises(journal.JournalError, match="not a file inside"):
        with journal.locked(tmp_path / "other"), journal.transaction(tmp_path / "other") as tx:
            tx.write("../escape.txt", b"x")
