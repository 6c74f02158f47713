"""The results store: per-config rows committed as they finish, ``all_results.csv`` written atomically.

Layout of one run folder ``<output-dir>/<suite>/<model>/``:

- ``journal.jsonl`` — one JSON object per finished config, appended with one ``write`` call as soon as the
  config is scored (so a killed process loses nothing finished); :meth:`ResultsStore.sync` ``fsync``s it
  (the runner does so after each dataset) against machine crashes. Each entry carries its key:
  ``config``, ``spec`` (hash of the model spec and run settings that change numbers), ``data`` (fingerprint of
  the dataset it was computed on) and ``protocol`` (the protocol version). A crash loses at most the config
  in flight; a torn last line is ignored on reload and cut off before the next append.
- ``journal.shard-I-of-N.jsonl`` — the journal of shard ``I`` of an ``N``-way ``--shard`` run; each writer
  appends to its own file, so concurrent shards never interleave lines. The store reads every
  ``journal*.jsonl`` of the folder.
- ``all_results.csv`` — the upstream schema (``dataset, model, eval_metrics/..., domain, num_variates,
  dataset_size``), one row per config in suite order, rewritten atomically (unique temp file +
  ``os.replace``), so it is never half-written, even by two shards finishing together.

A rerun with the same key skips configs already in the journal; an entry whose key differs (other model
settings, changed data, newer protocol) is recomputed instead of being mixed in.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import socket
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pandas as pd

#: Bump when a change to the protocol or metrics changes numbers; old journal entries are then recomputed.
PROTOCOL_VERSION = "1"

JOURNAL_NAME = "journal.jsonl"
#: Every journal file of a run folder: the unsharded one and the shards' ``journal.shard-I-of-N.jsonl``.
JOURNAL_GLOB = "journal*.jsonl"
RESULTS_NAME = "all_results.csv"


def spec_hash(settings: Mapping[str, Any]) -> str:
    """A short stable hash of the settings that change a model's numbers (JSON, sorted keys)."""
    blob = json.dumps(settings, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


@dataclass(frozen=True)
class EntryKey:
    """What a stored row was computed from; a row is reused only when all four match."""

    config: str
    spec: str
    data: str
    protocol: str = PROTOCOL_VERSION


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)  # 'nan', 'inf', '-inf' — JSON has no literal for them
    return value


def _from_json(value: Any) -> Any:
    if value in ("nan", "inf", "-inf"):
        return float(value)
    return value


class ResultsStore:
    """Append-only journals of finished configs plus the atomically written ``all_results.csv``.

    Args:
        folder: the run folder.
        columns: ``all_results.csv`` columns, in order (every committed row must have them).
        journal: the journal file this store appends to (``journal.jsonl``, or a shard's own file); rows are
            read from every ``journal*.jsonl`` of the folder.
    """

    def __init__(self, folder: Path, columns: Sequence[str], journal: str = JOURNAL_NAME) -> None:
        self.folder = Path(folder)
        self.columns = list(columns)
        self.journal = self.folder / journal
        self.csv_path = self.folder / RESULTS_NAME
        self._rows: dict[EntryKey, dict[str, Any]] = {}
        self._torn_at: int | None = None  # byte offset of a torn last line of our own journal
        self._folder_made = False  # mkdir once per store, not once per config
        self.reload()

    def reload(self) -> None:
        """Re-read every journal of the folder (e.g. to see what concurrent shards committed)."""
        self._rows = {}
        self._torn_at = None
        for path in sorted(self.folder.glob(JOURNAL_GLOB)):
            torn = self._load(path)
            if path == self.journal:
                self._torn_at = torn

    def _load(self, path: Path) -> int | None:
        """Read one journal; return the offset of its torn last line, if any."""
        offset = 0
        with path.open("rb") as fh:
            for raw in fh:
                if not raw.endswith(b"\n"):
                    return offset  # torn write of the config in flight: recompute it
                offset += len(raw)
                try:
                    entry = json.loads(raw)
                    key = EntryKey(**entry["key"])
                    row = {k: _from_json(v) for k, v in entry["row"].items()}
                except (ValueError, TypeError, KeyError):
                    continue  # a damaged line: that config is recomputed
                self._rows[key] = row
        return None

    def get(self, key: EntryKey) -> dict[str, Any] | None:
        """The stored row for ``key``, or ``None`` if absent or computed under another key."""
        return self._rows.get(key)

    def add(self, key: EntryKey, row: Mapping[str, Any]) -> None:
        """Commit one finished config: append one line to the journal with a single ``write``.

        The row is kept as it reads back from the journal, so a resumed run and an uninterrupted one hold
        the same values.
        """
        missing = [c for c in self.columns if c not in row]
        if missing:
            raise ValueError(f"row for {key.config!r} lacks columns {missing}")
        if not self._folder_made:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._folder_made = True
        entry = {"key": key.__dict__, "row": {k: _json_safe(row[k]) for k in self.columns}}
        line = (json.dumps(entry) + "\n").encode()
        fd = os.open(self.journal, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            if self._torn_at is not None:  # cut a torn tail off, else the next line would be glued to it
                os.ftruncate(fd, self._torn_at)
                self._torn_at = None
            written = os.write(fd, line)
            if written != len(line):  # pragma: no cover - regular files take small writes whole
                raise OSError(f"short write to {self.journal}: {written} of {len(line)} bytes")
        except OSError as exc:
            if exc.filename is None:  # os.write does not say which file
                raise OSError(exc.errno, exc.strerror or str(exc), str(self.journal)) from exc
            raise
        finally:
            os.close(fd)
        self._rows[key] = {k: _from_json(v) for k, v in json.loads(line)["row"].items()}

    def missing(self, keys: Iterable[EntryKey]) -> list[EntryKey]:
        """The ``keys`` with no stored row."""
        return [key for key in keys if key not in self._rows]

    def sync(self) -> None:
        """``fsync`` the journal so finished configs survive a machine crash, not only a process crash."""
        if self.journal.is_file():
            fd = os.open(self.journal, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def rows(self, keys: Iterable[EntryKey]) -> list[dict[str, Any]]:
        """Stored rows for ``keys`` in the given order, skipping keys not stored."""
        out = []
        for key in keys:
            row = self.get(key)
            if row is not None:
                out.append(row)
        return out

    def write_csv(self, keys: Iterable[EntryKey]) -> Path:
        """Write ``all_results.csv`` for ``keys`` (suite order) atomically and return its path."""
        write_csv_atomic(self.csv_path, pd.DataFrame(self.rows(keys), columns=self.columns))
        return self.csv_path


def temp_prefix(path: Path) -> str:
    """The prefix of the temp files written beside ``path``: ``.<name>.tmp-<host>-<pid>-`` (the writer is
    named so that :func:`remove_stale_temp_files` can tell a dead writer's leftovers from a live one's)."""
    return f".{path.name}.tmp-{socket.gethostname()}-{os.getpid()}-"


_TEMP = re.compile(r"^\..+\.tmp-(?P<host>.+)-(?P<pid>\d+)-[^-]*$")


def remove_stale_temp_files(folder: Path) -> list[Path]:
    """Remove the temp files of ``folder`` (``.*.tmp-*``) left by writers that died on this host; return
    them. Temp files of live processes and of other hosts are left alone; unnamed ones (older versions'
    ``.<name>.tmp-<pid>``) count as this host's."""
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    host = socket.gethostname()
    for tmp in folder.glob(".*.tmp-*"):
        match = _TEMP.match(tmp.name)
        if match is not None:
            if match["host"] != host:
                continue
            pid = int(match["pid"])
        else:
            tail = tmp.name.rsplit("-", 1)[-1]
            pid = int(tail) if tail.isdigit() else -1
        if pid == os.getpid() or _alive(pid):
            continue
        try:
            tmp.unlink()
        except FileNotFoundError:  # pragma: no cover - removed meanwhile
            continue
        removed.append(tmp)
    return removed


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - another user's live process
        return True
    return True


def _write_atomic(path: Path, write: Callable[[IO[str]], None]) -> None:
    """``write`` into a unique temp file beside ``path``, fsync it, ``os.replace`` it onto ``path``; the temp
    file is removed on any error (disk full included)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=temp_prefix(path), dir=path.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_csv_atomic(path: Path, frame: pd.DataFrame) -> None:
    """Write ``frame`` as ``all_results.csv`` is written (no index, ``\\n`` line ends) to ``path``: a unique
    temp file beside it, fsynced, then ``os.replace``, so readers see the old file or the whole new one."""
    _write_atomic(path, lambda fh: frame.to_csv(fh, index=False, lineterminator="\n"))


def write_json_atomic(path: Path, payload: Mapping[str, Any]) -> None:
    """Write ``payload`` as indented JSON to ``path`` as :func:`write_csv_atomic` writes (fsynced temp file,
    ``os.replace``, the temp file removed on error)."""
    text = json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n"

    def write(fh: IO[str]) -> None:
        fh.write(text)

    _write_atomic(path, write)
