"""Crash-safe resume: a run killed with SIGKILL at random points and rerun ends with the same bytes as an
uninterrupted run, recomputing only what was not committed; a changed model setting, dataset or protocol
version recomputes exactly the configs it affects; damaged journal lines never cost other configs."""

from __future__ import annotations

import json
import math
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import run_fixtures

from toto_bench.adapters import registry
from toto_bench.cli import main
from toto_bench.engine import runner
from toto_bench.engine.store import EntryKey, ResultsStore

SUMMARY = re.compile(r"(\d+) configs computed, (\d+) reused")
NAMES = ",".join(run_fixtures.DATASETS)


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The ``slow-naive`` plugin, registered in this process and importable by subprocesses."""
    folder = run_fixtures.install(tmp_path / "plugin")
    monkeypatch.syspath_prepend(str(folder))
    registry.refresh_plugins()
    yield folder
    monkeypatch.undo()
    sys.modules.pop("tb_slow_plugin", None)
    registry.refresh_plugins()


def _argv(data: Path, out: Path, model: str, *extra: str) -> list[str]:
    return [
        "run",
        "--suite",
        "gift-eval",
        "--model",
        model,
        "--data-dir",
        str(data),
        "--datasets",
        NAMES,
        "--output-dir",
        str(out),
        "--no-progress",
        *extra,
    ]


def _counts(text: str) -> tuple[int, int]:
    """(computed, reused) from the run's summary line."""
    match = SUMMARY.search(text)
    assert match, text
    return int(match.group(1)), int(match.group(2))


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, int]:
    assert main(argv) == 0
    return _counts(capsys.readouterr().out)


def _journal_configs(folder: Path) -> list[str]:
    """Configs of the complete journal lines, in commit order (an independent reader of the format)."""
    out = []
    for path in sorted(folder.glob("journal*.jsonl")):
        for line in path.read_text().splitlines(keepends=True):
            if line.endswith("\n"):
                out.append(json.loads(line)["key"]["config"])
    return out


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.is_file() else 0


@pytest.mark.parametrize("workers", ["1", "2"])
def test_kill_9_at_random_points_then_rerun_gives_the_uninterrupted_bytes(
    tmp_path: Path, plugin: Path, capsys: pytest.CaptureFixture[str], workers: str
) -> None:
    """Also with ``--workers 2`` (the killed driver's worker processes exit at their next send)."""
    data = run_fixtures.write_datasets(tmp_path / "data")
    assert _run(_argv(data, tmp_path / "ref", run_fixtures.MODEL), capsys) == (run_fixtures.CONFIGS, 0)
    reference = (tmp_path / "ref" / "gift-eval" / run_fixtures.MODEL / "all_results.csv").read_bytes()

    (plugin / "sleep.txt").write_text("0.15")  # ~2 s of predicting for the 12 configs
    out = tmp_path / "out"
    folder = out / "gift-eval" / run_fixtures.MODEL
    journal = folder / "journal.jsonl"
    cmd = [
        sys.executable,
        "-m",
        "toto_bench.cli",
        *_argv(data, out, run_fixtures.MODEL, "--workers", workers),
    ]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin), os.environ.get("PYTHONPATH", "")])}
    rng = random.Random(20240607)
    # (commits to wait for, then seconds to wait): 0 commits = early (start-up, data loading, first config);
    # a delay of ~0 after a commit lands right after a journal write, in the next config or the fsync
    plan = [
        (0, rng.uniform(0.05, 0.8)),
        (1, rng.uniform(0.0, 0.02)),
        (0, rng.uniform(0.05, 0.8)),
        (2, rng.uniform(0.0, 0.3)),
        (1, rng.uniform(0.0, 0.02)),
    ]
    for commits, delay in plan:
        before = _lines(journal)
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while _lines(journal) < before + commits and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        time.sleep(delay)
        assert proc.poll() is None, "the run finished before it could be killed; make the model slower"
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
        proc.stderr.close()  # type: ignore[union-attr]
    committed = _journal_configs(folder)
    assert 0 < len(committed) < run_fixtures.CONFIGS  # the kills landed mid-run
    assert not (folder / "all_results.csv").exists()

    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    computed, reused = _counts(done.stdout)
    assert (computed, reused) == (run_fixtures.CONFIGS - len(committed), len(committed))
    final = _journal_configs(folder)
    assert len(final) == len(set(final)) == run_fixtures.CONFIGS  # nothing finished was ever recomputed
    assert (folder / "all_results.csv").read_bytes() == reference


def _rows(csv: Path) -> dict[str, str]:
    lines = csv.read_text().splitlines()[1:]
    return {line.split(",")[0]: line for line in lines}


def test_a_changed_setting_dataset_or_protocol_recomputes_exactly_what_it_affects(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = run_fixtures.write_datasets(tmp_path / "data")
    out = tmp_path / "out"
    csv = out / "gift-eval" / "seasonal-naive" / "all_results.csv"
    total = run_fixtures.CONFIGS
    assert _run(_argv(data, out, "seasonal-naive"), capsys) == (total, 0)
    first = _rows(csv)
    assert _run(_argv(data, out, "seasonal-naive"), capsys) == (0, total)

    # a model setting is in every key: all recomputed, and the CSV is that of a fresh run with the setting
    assert _run(_argv(data, out, "seasonal-naive", "--context-length", "200"), capsys) == (total, 0)
    assert _run(_argv(data, tmp_path / "fresh", "seasonal-naive", "--context-length", "200"), capsys) == (
        total,
        0,
    )
    assert (
        csv.read_bytes()
        == (tmp_path / "fresh" / "gift-eval" / "seasonal-naive" / "all_results.csv").read_bytes()
    )
    assert _rows(csv) != first  # the cap changes numbers, so mixing would show

    # back to the default setting: its old entries are still valid
    assert _run(_argv(data, out, "seasonal-naive"), capsys) == (0, total)

    # new data for one dataset: only its configs are recomputed
    run_fixtures.write_datasets(data, ["us_births/W"], seed=1, series=4)
    assert _run(_argv(data, out, "seasonal-naive"), capsys) == (1, total - 1)
    changed = _rows(csv)
    assert changed["us_births/W/short"] != first["us_births/W/short"]
    assert {k: v for k, v in changed.items() if k != "us_births/W/short"} == {
        k: v for k, v in first.items() if k != "us_births/W/short"
    }
    assert _run(_argv(data, tmp_path / "fresh2", "seasonal-naive"), capsys) == (total, 0)
    assert (
        csv.read_bytes()
        == (tmp_path / "fresh2" / "gift-eval" / "seasonal-naive" / "all_results.csv").read_bytes()
    )

    # a newer protocol version invalidates every entry
    monkeypatch.setattr(runner, "PROTOCOL_VERSION", "999")
    assert _run(_argv(data, out, "seasonal-naive"), capsys) == (total, 0)


COLUMNS = ["dataset", "model", "eval_metrics/MASE[0.5]"]


def _row(config: str, value: float) -> dict[str, object]:
    return {"dataset": config, "model": "m", "eval_metrics/MASE[0.5]": value}


def test_a_torn_tail_is_cut_before_the_next_append_so_later_entries_survive(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path, COLUMNS)
    store.add(EntryKey("a", "s", "d"), _row("a", 1.0))
    with store.journal.open("a") as fh:
        fh.write('{"key": {"config": "b", "sp')  # killed mid-write
    resumed = ResultsStore(tmp_path, COLUMNS)
    resumed.add(EntryKey("c", "s", "d"), _row("c", 3.0))
    resumed.add(EntryKey("d", "s", "d"), _row("d", 4.0))
    reread = ResultsStore(tmp_path, COLUMNS)
    assert [reread.get(EntryKey(c, "s", "d")) is not None for c in "abcd"] == [True, False, True, True]
    assert _journal_configs(tmp_path) == ["a", "c", "d"]  # every remaining line is whole JSON


def test_a_damaged_middle_line_costs_only_its_own_config(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path, COLUMNS)
    for k, config in enumerate("abc"):
        store.add(EntryKey(config, "s", "d"), _row(config, float(k)))
    lines = store.journal.read_text().splitlines(keepends=True)
    lines[1] = lines[1][:20] + "\n"  # e.g. a disk error inside the file
    store.journal.write_text("".join(lines))
    reread = ResultsStore(tmp_path, COLUMNS)
    assert [reread.get(EntryKey(c, "s", "d")) is not None for c in "abc"] == [True, False, True]


def test_rows_read_back_equal_the_rows_committed(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path, COLUMNS)
    values = [0.1 + 0.2, math.nan, math.inf, 1e-300, 2.0 / 3.0]
    keys = [EntryKey(f"c{k}", "s", "d") for k in range(len(values))]
    for key, value in zip(keys, values, strict=True):
        store.add(key, _row(key.config, value))
    uninterrupted = store.write_csv(keys).read_bytes()
    reread = ResultsStore(tmp_path / "copy", COLUMNS)
    (tmp_path / "copy").mkdir()
    (tmp_path / "copy" / "journal.jsonl").write_bytes(store.journal.read_bytes())
    reread.reload()
    assert reread.write_csv(keys).read_bytes() == uninterrupted


@pytest.mark.parametrize(("interval", "syncs"), [(3600.0, 1), (0.0, 6 + 1)])
def test_the_journal_is_fsynced_every_few_seconds_and_at_exit_not_per_dataset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, interval: float, syncs: int
) -> None:
    data = run_fixtures.write_datasets(tmp_path / "data")
    calls: list[int] = []
    original = ResultsStore.sync

    def counting(self: ResultsStore) -> None:
        calls.append(_lines(self.journal))
        original(self)

    monkeypatch.setattr(ResultsStore, "sync", counting)
    monkeypatch.setattr(runner, "SYNC_INTERVAL_S", interval)
    assert main(_argv(data, tmp_path / "out", "naive")) == 0
    assert len(calls) == syncs  # 6 datasets: one sync per dataset only when the interval is 0
    assert calls[-1] == run_fixtures.CONFIGS  # the last one, at exit, covers every committed line
