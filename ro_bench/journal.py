"""All-or-nothing writes of many files under one root (the leaderboard): staged, journalled,
applied, and replayed after a crash.

A submission touches every seed of an entry, and a page regeneration touches the README, the
page and its figures; a process killed half-way must not leave a mix of old and new files. So a
``transaction``:

1. writes every new file under ``<root>/.staging/<id>/`` (the same filesystem as its target, so
   that moving it into place is one atomic rename) and flushes it to disk;
2. writes the journal ``<root>/.journal`` atomically: the renames (staged file -> target) and the
   deletions, in order. The journal landing on disk is the commit point;
3. applies the journal: each rename (one already done is skipped), then each deletion; then
   removes the journal and the staging directory.

Killed before step 2, nothing changed and the staging directory is garbage; killed during step 3,
the journal is still there, and whoever next takes the root's lock (``locked``) or reads the board
(``reading``) replays it to the end first. Renames come before deletions, so a generated page
never refers to a file that is gone: its figures are moved in before it, and figures it no longer
shows are deleted after it.

Every writer holds an exclusive ``fcntl.flock`` on ``<root>/.lock`` (``locked``); readers hold a
shared one (``reading``), so a reader never sees a transaction half-applied.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

from ro_bench.atomic import atomic_write

JOURNAL = ".journal"
STAGING = ".staging"
LOCK = ".lock"


class JournalError(ValueError):
    """A journal that cannot be replayed (edited by hand, or naming a path outside its root)."""


@contextlib.contextmanager
def locked(root: str | os.PathLike[str]) -> Iterator[Path]:
    """Hold the root's exclusive lock, with any interrupted transaction replayed first."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        recover(root)
        yield root


@contextlib.contextmanager
def reading(root: str | os.PathLike[str]) -> Iterator[Path]:
    """Hold the root's shared lock while reading; an interrupted transaction is replayed first.

    A root this process cannot write (a board served read-only) is read without the lock, as
    long as no transaction is pending there.
    """
    root = Path(root)
    try:
        lock = open(root / LOCK, "a")
    except OSError:
        if (root / JOURNAL).exists():
            raise JournalError(f"{root} holds an unfinished transaction ({root / JOURNAL}); "
                               "run ro-bench there as a user who can write it") from None
        yield root
        return
    with lock:
        if (root / JOURNAL).exists():
            fcntl.flock(lock, fcntl.LOCK_EX)
            recover(root)
        fcntl.flock(lock, fcntl.LOCK_SH)  # a downgrade: no writer can slip in between
        yield root


class Transaction:
    """New files and deletions under ``root``, applied together by ``commit`` (see the module
    docstring). Use it through ``transaction(root)``, holding ``locked(root)``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.staging = root / STAGING / uuid.uuid4().hex
        self.staging.mkdir(parents=True)
        self.renames: list[tuple[str, str]] = []
        self.deletions: list[str] = []

    def path(self, target: str | os.PathLike[str]) -> Path:
        """A staged path to write ``target``'s new contents to (the same suffix, for tools
        such as matplotlib that pick a format by it)."""
        relative = self._relative(target)
        staged = self.staging / f"{len(self.renames)}-{Path(relative).name}"
        self.renames.append((staged.relative_to(self.root).as_posix(), relative))
        return staged

    def write(self, target: str | os.PathLike[str], data: bytes) -> None:
        self.path(target).write_bytes(data)

    def delete(self, target: str | os.PathLike[str]) -> None:
        self.deletions.append(self._relative(target))

    def commit(self) -> None:
        for staged, _ in self.renames:
            _fsync_file(self.root / staged)
        _fsync(self.staging)
        entry = {"renames": self.renames, "deletions": self.deletions}
        with atomic_write(self.root / JOURNAL) as file:
            file.write(json.dumps(entry, indent=1).encode())
        recover(self.root)

    def _relative(self, target: str | os.PathLike[str]) -> str:
        path = Path(os.path.abspath(self.root / target))
        if not path.is_relative_to(os.path.abspath(self.root)) or path == self.root:
            raise JournalError(f"{target} is not a file inside {self.root}")
        return path.relative_to(os.path.abspath(self.root)).as_posix()


@contextlib.contextmanager
def transaction(root: str | os.PathLike[str]) -> Iterator[Transaction]:
    """A ``Transaction`` committed when the block exits cleanly and discarded otherwise."""
    tx = Transaction(Path(root))
    try:
        yield tx
    except BaseException:
        shutil.rmtree(tx.staging, ignore_errors=True)
        with contextlib.suppress(OSError):
            tx.staging.parent.rmdir()  # the staging root, if no other transaction's is there
        raise
    tx.commit()


def recover(root: str | os.PathLike[str]) -> None:
    """Replay a committed transaction to its end and clear staged leftovers (hold the lock)."""
    root = Path(root)
    journal = root / JOURNAL
    if journal.exists():
        _apply(root, _read(journal))
        journal.unlink()
        _fsync(root)
    shutil.rmtree(root / STAGING, ignore_errors=True)


def _apply(root: Path, entry: dict) -> None:
    touched = set()
    for staged, target in entry["renames"]:
        source, destination = _inside(root, staged), _inside(root, target)
        if source.exists():  # else a replay already moved it
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, destination)
            touched.add(destination.parent)
    for target in entry["deletions"]:
        path = _inside(root, target)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        touched.add(path.parent)
    for directory in touched:
        _fsync(directory)


def _read(journal: Path) -> dict:
    try:
        entry = json.loads(journal.read_text())
        renames = [(str(a), str(b)) for a, b in entry["renames"]]
        deletions = [str(p) for p in entry["deletions"]]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise JournalError(f"{journal} cannot be replayed: {err}") from None
    return {"renames": renames, "deletions": deletions}


def _inside(root: Path, relative: str) -> Path:
    path = Path(os.path.abspath(root / relative))
    if not path.is_relative_to(os.path.abspath(root)) or path == Path(os.path.abspath(root)):
        raise JournalError(f"{root / JOURNAL} names {relative!r}, outside {root}")
    return path


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as file:
        os.fsync(file.fileno())


def _fsync(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
