"""``--workers N`` on the local executor: datasets over worker processes give the bytes of the in-process run,
commit through the driver's one store, and stop cleanly when a worker raises or dies; ``auto`` uses
processes only for cheap CPU models on long runs."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import run_fixtures

from toto_bench.adapters import registry
from toto_bench.cli import main
from toto_bench.engine.executors import AUTO_MIN_UNITS, LocalExecutor
from toto_bench.engine.processes import usable_cpus

NAMES = ",".join(run_fixtures.DATASETS)


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
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
        *("--suite", "gift-eval", "--model", model, "--data-dir", str(data), "--datasets", NAMES),
        *("--output-dir", str(out), "--no-progress", *extra),
    ]


def _folder(out: Path, model: str) -> Path:
    return out / "gift-eval" / model


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return run_fixtures.write_datasets(tmp_path / "data")


@pytest.mark.parametrize("model", ["seasonal-naive", "naive"])
@pytest.mark.parametrize("workers", ["2", "3"])
def test_worker_processes_give_the_bytes_of_the_in_process_run(
    tmp_path: Path, data: Path, model: str, workers: str
) -> None:
    assert main(_argv(data, tmp_path / "one", model, "--workers", "1")) == 0
    assert main(_argv(data, tmp_path / "many", model, "--workers", workers)) == 0
    one, many = _folder(tmp_path / "one", model), _folder(tmp_path / "many", model)
    assert (many / "all_results.csv").read_bytes() == (one / "all_results.csv").read_bytes()
    record = json.loads((many / "config.json").read_text())
    assert (record["executor"], record["workers"]) == ("local", int(workers))
    assert record["model_details"] == json.loads((one / "config.json").read_text())["model_details"]
    lines = (many / "journal.jsonl").read_text().splitlines()
    assert len(lines) == len({json.loads(x)["key"]["config"] for x in lines}) == run_fixtures.CONFIGS


def test_auto_runs_in_process_below_the_threshold_and_per_cpu_above_it() -> None:
    cheap = LocalExecutor("auto", parallel_model=True)
    assert cheap.worker_count(AUTO_MIN_UNITS - 1) == 1
    assert cheap.worker_count(AUTO_MIN_UNITS) == min(usable_cpus(), AUTO_MIN_UNITS)
    assert LocalExecutor("auto", parallel_model=False).worker_count(10_000) == 1  # e.g. a GPU model
    assert LocalExecutor(4).worker_count(2) == 2  # never more workers than datasets
    with pytest.raises(ValueError, match=r"positive integer or 'auto', got 0"):
        LocalExecutor(0)


def test_the_default_run_of_a_few_datasets_stays_in_process(tmp_path: Path, data: Path) -> None:
    assert main(_argv(data, tmp_path / "out", "seasonal-naive")) == 0
    assert (
        json.loads((_folder(tmp_path / "out", "seasonal-naive") / "config.json").read_text())["workers"] == 1
    )


def test_a_dying_worker_stops_the_run_naming_its_dataset_and_keeps_the_finished_configs(
    tmp_path: Path, data: Path, plugin: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reference = tmp_path / "ref"
    assert main(_argv(data, reference, run_fixtures.MODEL)) == 0
    capsys.readouterr()
    flag = plugin / "crash-always-480.flag"  # every hourly 'medium' config (H = 480) kills its process
    flag.touch()
    out = tmp_path / "out"
    assert main(_argv(data, out, run_fixtures.MODEL, "--workers", "2")) == 2
    err = capsys.readouterr().err
    assert "worker process died (exit code 1)" in err and "'electricity/H'" in err
    committed = (_folder(out, run_fixtures.MODEL) / "journal.jsonl").read_text().splitlines()
    assert committed  # the configs finished before the crash are kept ...
    flag.unlink()
    assert main(_argv(data, out, run_fixtures.MODEL, "--workers", "2")) == 0
    assert f"{run_fixtures.CONFIGS - len(committed)} configs computed, {len(committed)} reused" in (
        capsys.readouterr().out
    )  # ... and only the rest is computed again, to the bytes of one uninterrupted run
    assert (_folder(out, run_fixtures.MODEL) / "all_results.csv").read_bytes() == (
        _folder(reference, run_fixtures.MODEL) / "all_results.csv"
    ).read_bytes()


def test_an_error_in_a_worker_stops_the_run_with_the_in_process_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import numpy as np
    from layouts import write_dataset

    data = run_fixtures.write_datasets(tmp_path / "data")
    dead = np.ones((2, 400), dtype=np.float32)
    dead[1] = np.nan  # an all-NaN series: the data loader refuses it, naming the series
    write_dataset(data / "us_births" / "D", [np.ones(400), dead[1]], freq="D", item_ids=["ok", "dead"])
    messages = []
    for workers in ("1", "2"):
        assert main(_argv(data, tmp_path / f"out{workers}", "seasonal-naive", "--workers", workers)) == 2
        messages.append(capsys.readouterr().err.strip())
    assert "series 'dead' has only NaN values" in messages[0]
    assert messages[1] == messages[0]


def test_a_forked_worker_never_holds_the_run_folder_lock(tmp_path: Path) -> None:
    """A worker that outlives its killed driver must not keep the next run out of the folder."""
    import multiprocessing

    from toto_bench.engine.lock import FolderLock

    lock = FolderLock(tmp_path / "run").acquire()
    ctx = multiprocessing.get_context("fork")
    started = ctx.Event()
    child = ctx.Process(target=_live_on, args=(started,), daemon=True)
    child.start()
    try:
        assert started.wait(30)  # the child runs (past its fork hooks)
        assert lock._fd is not None
        os.close(lock._fd)  # the parent dies as kill -9 leaves it: lock file in place, its descriptor gone
        again = FolderLock(tmp_path / "run").acquire()  # FolderLockedError if the child held a copy
        assert again.recovered is not None and again.recovered["pid"] == os.getpid()
        again.release()
    finally:
        child.terminate()
        child.join()


def _live_on(started: Any) -> None:
    started.set()
    time.sleep(30)
