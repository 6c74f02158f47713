"""The results store: per-config rows committed as they finish, ``all_results.csv`` written atomically.

Layout of one run folder ``<output-dir>/<suite>/<model>/``:

- ``journal.jsonl`` — one JSON object per finished config, appended and flushed to the OS as soon as the
  config is scored (so a killed process loses nothing finished); :meth:`ResultsStore.sync` ``fsync``s it
  (the runner does so after each dataset) against machine crashes. Each entry carries its key: ``config``,
  ``spec`` (hash of the model spec and run settings that change numbers), ``data`` (fingerprint of the
  dataset it was computed on) and ``protocol`` (the protocol version). A crash loses at most the config in
  flight; a torn last line is ignored on reload.
- ``all_results.csv`` — the upstream schema (``dataset, model, eval_metrics/..., domain, num_variates,
  dataset_size``), one row per config in suite order, rewritten atomically (temp file + ``os.replace``),
  so it is never half-written.

A rerun with the same key skips configs already in the journal; an entry whose key differs (other model
settings, changed data, newer protocol) is recomputed instead of being mixed in.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

#: Bump when a change to the protocol or metrics changes numbers; old journal entries are then recomputed.
PROTOCOL_VERSION = "1"

JOURNAL_NAME = "journal.jsonl"
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
    """Append-only journal of finished configs plus the atomically written ``all_results.csv``."""

    def __init__(self, folder: Path, columns: Sequence[str]) -> None:
        self.folder = Path(folder)
        self.columns = list(columns)
        self.journal = self.folder / JOURNAL_NAME
        self.csv_path = self.folder / RESULTS_NAME
        self._rows: dict[str, tuple[EntryKey, dict[str, Any]]] = {}
        self._load()

    def _load(self) -> None:
        if not self.journal.is_file():
            return
        with self.journal.open("r", encoding="utf-8") as fh:
            for line in fh:
                if not line.endswith("\n"):
                    break  # torn write of the config in flight: recompute it
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    break
                key = EntryKey(**entry["key"])
                row = {k: _from_json(v) for k, v in entry["row"].items()}
                self._rows[key.config] = (key, row)

    def get(self, key: EntryKey) -> dict[str, Any] | None:
        """The stored row for ``key``, or ``None`` if absent or computed under another key."""
        found = self._rows.get(key.config)
        if found is None or found[0] != key:
            return None
        return found[1]

    def add(self, key: EntryKey, row: Mapping[str, Any]) -> None:
        """Commit one finished config: append to the journal and flush it to disk."""
        missing = [c for c in self.columns if c not in row]
        if missing:
            raise ValueError(f"row for {key.config!r} lacks columns {missing}")
        self.folder.mkdir(parents=True, exist_ok=True)
        entry = {"key": key.__dict__, "row": {k: _json_safe(row[k]) for k in self.columns}}
        line = json.dumps(entry) + "\n"
        with self.journal.open("a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
        self._rows[key.config] = (key, dict(row))

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
        frame = pd.DataFrame(self.rows(keys), columns=self.columns)
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.csv_path.with_name(f".{RESULTS_NAME}.tmp-{os.getpid()}")
        frame.to_csv(tmp, index=False, lineterminator="\n")
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, self.csv_path)
        return self.csv_path


def write_json_atomic(path: Path, payload: Mapping[str, Any]) -> None:
    """Write ``payload`` as indented JSON to ``path`` via a temp file and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")
    os.replace(tmp, path)
