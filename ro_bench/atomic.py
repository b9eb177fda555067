"""Atomic file writes: a reader sees the old file or the new one, never half of one.

A checkpoint written in place and interrupted (crash, pre-emption, full disk) would destroy the
last good checkpoint with it, so writers go through ``atomic_write``: bytes go to a temporary file
in the destination's directory (``os.replace`` is only atomic within one filesystem), are flushed
to disk, and the temporary file is renamed over the destination. On any exception the temporary
file is removed and the destination is left untouched. The new file gets the mode a plain
``open(path, "w")`` would give it (0666 less the umask), not ``mkstemp``'s 0600: a board served from
disk by another user must be able to read it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from typing import BinaryIO


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Yield a binary file whose contents replace ``path`` only if the block exits cleanly."""
    path = os.path.abspath(os.fspath(path))
    directory, name = os.path.split(path)
    fd, tmp = _create_temporary(directory, name)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())  # the rename must not reach the disk before the data does
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def _create_temporary(directory: str, name: str) -> tuple[int, str]:
    """A new file beside ``name``, opened for writing, made as ``open(path, "w")`` makes one:
    the kernel applies the umask to mode 0666. (``mkstemp`` makes 0600; reading the umask to
    widen that means setting it, which races with every other thread creating files.)"""
    for _ in range(100):
        tmp = os.path.join(directory, f".{name}.{secrets.token_hex(8)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {os.path.join(directory, name)}")


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
