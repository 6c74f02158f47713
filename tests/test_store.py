"""The results store commits each config at once, survives torn writes and never mixes run keys."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import pandas as pd

from toto_bench.engine.store import EntryKey, ResultsStore, spec_hash

COLUMNS = ["dataset", "model", "eval_metrics/MASE[0.5]"]


def _key(config: str, spec: str = "s1", data: str = "d1") -> EntryKey:
    return EntryKey(config=config, spec=spec, data=data)


def test_rows_survive_a_reopen_with_nan_and_inf_intact(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path, COLUMNS)
    store.add(_key("a/H/short"), {"dataset": "a/H/short", "model": "m", "eval_metrics/MASE[0.5]": math.nan})
    store.add(_key("b/H/short"), {"dataset": "b/H/short", "model": "m", "eval_metrics/MASE[0.5]": math.inf})
    reopened = ResultsStore(tmp_path, COLUMNS)
    a = reopened.get(_key("a/H/short"))
    b = reopened.get(_key("b/H/short"))
    assert a is not None and math.isnan(a["eval_metrics/MASE[0.5]"])
    assert b is not None and b["eval_metrics/MASE[0.5]"] == math.inf


def test_a_torn_last_journal_line_is_dropped_not_fatal(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path, COLUMNS)
    store.add(_key("a/H/short"), {"dataset": "a/H/short", "model": "m", "eval_metrics/MASE[0.5]": 1.5})
    with store.journal.open("a") as fh:
        fh.write('{"key": {"config": "b/H/sh')  # the process died mid-write
    reopened = ResultsStore(tmp_path, COLUMNS)
    assert reopened.get(_key("a/H/short")) is not None
    assert reopened.get(_key("b/H/short")) is None


def test_an_entry_computed_under_another_key_is_not_reused(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path, COLUMNS)
    store.add(_key("a/H/short"), {"dataset": "a/H/short", "model": "m", "eval_metrics/MASE[0.5]": 1.0})
    assert store.get(_key("a/H/short", spec="other-settings")) is None
    assert store.get(_key("a/H/short", data="changed-data")) is None
    assert store.get(EntryKey("a/H/short", "s1", "d1", protocol="0")) is None


def test_csv_follows_the_requested_order_and_round_trips_floats_exactly(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path, COLUMNS)
    value = 0.1 + 0.2  # not representable in few digits
    for name in ["b", "a"]:
        store.add(_key(name), {"dataset": name, "model": "m", "eval_metrics/MASE[0.5]": value})
    path = store.write_csv([_key("a"), _key("b")])
    frame = pd.read_csv(path, float_precision="round_trip")
    assert list(frame["dataset"]) == ["a", "b"]
    assert frame["eval_metrics/MASE[0.5]"].tolist() == [value, value]
    assert not list(tmp_path.glob(".*tmp*"))


def test_spec_hash_is_stable_and_order_independent() -> None:
    assert spec_hash({"a": 1, "b": [1, 2]}) == spec_hash({"b": [1, 2], "a": 1})
    assert spec_hash({"a": 1}) != spec_hash({"a": 2})


def test_spec_hash_is_pinned_so_existing_journals_stay_valid() -> None:
    """A serialisation change would silently invalidate every journal (all configs recomputed): the hash
    of a typical run's settings is pinned and equals the recipe (sha256 of sorted-key JSON, 16 hex)."""
    settings = {"model": "seasonal-naive", "allow_nan_forecast": False}
    canonical = b'{"allow_nan_forecast": false, "model": "seasonal-naive"}'
    assert spec_hash(settings) == hashlib.sha256(canonical).hexdigest()[:16] == "333e87b17ef51ae0"
    nested = {"model": "toto2-4m", "protocol": {"stride": 1, "context_length": None}, "batch_size": 64}
    assert spec_hash(nested) == "e6c8a7962da338e9"
