"""One writer per run folder: an exclusive ``flock`` on ``<run folder>/.lock`` (or a shard's own lock file).

The kernel releases the lock when its holder dies (``kill -9`` included), so a lock left by a dead process
never blocks: the next run takes it over, and says so. The lock file holds the holder's host, pid, start time
and command line, which a second run prints when it refuses to start (or waits, with ``--wait``).

A lock belongs to the process that took it: a forked child (a ``--workers`` process) closes its inherited
copy of the descriptor at once, so a worker that outlives a killed driver never keeps the folder locked.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["FolderLock", "FolderLockedError"]


#: Descriptors of the locks this process holds; a forked child closes its copies (:func:`_drop_in_child`).
_HELD: set[int] = set()


def _drop_in_child() -> None:
    for fd in _HELD:
        try:
            os.close(fd)
        except OSError:
            pass
    _HELD.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_drop_in_child)


class FolderLockedError(RuntimeError):
    """Another live process holds the run folder's lock."""


class FolderLock:
    """An exclusive lock on ``folder / name``, held from :meth:`acquire` to :meth:`release` (context manager).

    Args:
        folder: the run folder (created if missing).
        name: the lock file's name (``.lock``; shards: ``.shard-I-of-N.lock``).
        wait: block until the holder releases the lock instead of raising :class:`FolderLockedError`.
    """

    def __init__(self, folder: Path, name: str = ".lock", *, wait: bool = False) -> None:
        self.path = Path(folder) / name
        self.wait = wait
        self._fd: int | None = None
        self._created: list[Path] = []  # folders made by acquire, removed by release when left empty
        #: what the previous holder's record said when it died holding the file (``None``: no stale record)
        self.recovered: dict[str, Any] | None = None

    def acquire(self) -> FolderLock:
        missing = [p for p in [self.path.parent, *self.path.parent.parents] if not p.exists()]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._created = missing
        while True:
            self.path.parent.mkdir(parents=True, exist_ok=True)  # a holder may remove it when it leaves
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _describe(_read(self.path))
                if not self.wait:
                    os.close(fd)
                    raise FolderLockedError(
                        f"results folder {self.path.parent} is in use by {holder}; wait for it to finish, "
                        f"rerun with --wait to start when it does, or choose another --output-dir"
                    ) from None
                print(f"toto-bench: waiting for {holder} to release {self.path.parent}", file=sys.stderr)
                fcntl.flock(fd, fcntl.LOCK_EX)
            if _same_file(fd, self.path):
                break
            os.close(fd)  # the holder removed the file between our open and our lock: take the new one
        previous = _read(self.path)
        if previous:
            self.recovered = previous
        record = {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "command": " ".join(sys.argv),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(record) + "\n").encode(), 0)
        self._fd = fd
        _HELD.add(fd)
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        finally:
            _HELD.discard(self._fd)
            os.close(self._fd)  # closing drops the flock
            self._fd = None
        for folder in self._created:  # deepest first
            try:
                folder.rmdir()
            except OSError:
                break  # not empty: the run wrote something

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def _same_file(fd: int, path: Path) -> bool:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    own = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (own.st_dev, own.st_ino)


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _describe(record: dict[str, Any]) -> str:
    if not record:
        return "another process"
    return (
        f"pid {record.get('pid')} on {record.get('host')} (started {record.get('started')}: "
        f"{record.get('command')})"
    )
