"""One writer per run folder, no temp files left behind, one line instead of a traceback (issue 13, 7-9)."""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import layouts
import numpy as np
import pandas as pd
import pytest

from toto_bench.adapters.statistical import SeasonalNaiveForecaster
from toto_bench.cli import main
from toto_bench.engine import store
from toto_bench.engine.lock import FolderLock
from toto_bench.engine.runner import RunInterrupted, RunOptions, run_suite
from toto_bench.suites import get_suite

START = pd.Timestamp("2020-01-01")


def _data(root: Path, *names: str) -> Path:
    rng = np.random.default_rng(0)
    for name in names:
        freq = name.split("/")[1]
        target = (10 + rng.normal(size=400)).astype(np.float32)
        layouts.write_dataset(root / name, [target], freq=freq, start=START)
    return root


def _argv(data: Path, out: Path, *extra: str) -> list[str]:
    return [
        "run", "--suite", "gift-eval", "--model", "seasonal-naive", "--data-dir", str(data),
        "--datasets", "us_births/W", "--output-dir", str(out), "--no-progress", *extra,
    ]  # fmt: skip


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_second_run_into_a_held_folder_names_the_holder_and_computes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, out = _data(tmp_path / "data", "us_births/W"), tmp_path / "out"
    folder = out / "gift-eval" / "seasonal-naive"
    with FolderLock(folder):
        assert main(_argv(data, out)) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert f"pid {os.getpid()}" in err and "--wait" in err and str(folder) in err
    assert not (folder / "journal.jsonl").exists() and not (folder / "all_results.csv").exists()


def test_wait_starts_when_the_holder_releases(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, out = _data(tmp_path / "data", "us_births/W"), tmp_path / "out"
    folder = out / "gift-eval" / "seasonal-naive"
    lock = FolderLock(folder).acquire()
    released = threading.Event()

    def release_soon() -> None:
        time.sleep(0.5)
        released.set()
        lock.release()

    thread = threading.Thread(target=release_soon)
    thread.start()
    try:
        assert main(_argv(data, out, "--wait")) == 0
    finally:
        thread.join()
    assert released.is_set()  # the run could only finish after the holder let go
    assert "waiting for" in capsys.readouterr().err
    assert (folder / "all_results.csv").is_file()


def test_a_stale_lock_of_a_dead_process_is_taken_over(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, out = _data(tmp_path / "data", "us_births/W"), tmp_path / "out"
    folder = out / "gift-eval" / "seasonal-naive"
    folder.mkdir(parents=True)
    dead = _dead_pid()
    (folder / ".lock").write_text(json.dumps({"pid": dead, "host": socket.gethostname()}))
    assert main(_argv(data, out)) == 0
    assert f"pid {dead}" in capsys.readouterr().err
    assert (folder / "all_results.csv").is_file() and not (folder / ".lock").exists()


def test_temp_files_of_dead_writers_are_removed_on_start(tmp_path: Path) -> None:
    data, out = _data(tmp_path / "data", "us_births/W"), tmp_path / "out"
    folder = out / "gift-eval" / "seasonal-naive"
    folder.mkdir(parents=True)
    host, dead, live = socket.gethostname(), _dead_pid(), os.getppid()
    stale = [folder / f".all_results.csv.tmp-{host}-{dead}-k2j3", folder / f".config.json.tmp-{dead}"]
    kept = [
        folder / f".all_results.csv.tmp-{host}-{live}-x9z1",
        folder / f".config.json.tmp-otherhost-{dead}-a",
    ]
    for path in [*stale, *kept]:
        path.write_text("")
    assert main(_argv(data, out)) == 0
    assert [p.exists() for p in stale] == [False, False]
    assert [p.exists() for p in kept] == [True, True]


def test_write_json_atomic_fsyncs_and_leaves_no_temp_file_on_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd))[1])
    target = tmp_path / "config.json"
    store.write_json_atomic(target, {"a": 1})
    assert json.loads(target.read_text()) == {"a": 1} and synced

    def full(*_: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(OSError, match="No space"):
        store.write_json_atomic(target, {"a": 2})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json"]
    assert json.loads(target.read_text()) == {"a": 1}


def test_disk_full_is_one_line_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data, out = _data(tmp_path / "data", "us_births/W"), tmp_path / "out"

    def full(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store.os, "write", full)
    assert main(_argv(data, out)) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "disk full" in err and "journal.jsonl" in err and "--output-dir" in err


class _InterruptSecond(SeasonalNaiveForecaster):
    """Seasonal naive that gets Ctrl-C on its second config."""

    def __init__(self) -> None:
        super().__init__()
        self.tasks = 0

    def predict_prefixes(self, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        self.tasks += 1
        if self.tasks == 2:
            raise KeyboardInterrupt
        return super().predict_prefixes(*args, **kwargs)  # type: ignore[arg-type]


def test_ctrl_c_says_how_many_configs_are_saved_and_how_to_resume(tmp_path: Path) -> None:
    data, out = _data(tmp_path / "data", "us_births/W", "us_births/M"), tmp_path / "out"
    model = _InterruptSecond()
    options = RunOptions(
        datasets=["us_births/W", "us_births/M"], output_dir=out, data_dir=data, progress=False
    )
    with pytest.raises(RunInterrupted, match=r"interrupted: 1 config\(s\).*rerun the same command"):
        run_suite(get_suite("gift-eval"), "naive-x", lambda: model, options)


def test_ctrl_c_prints_one_line_and_exits_130(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import toto_bench.engine.runner as engine_runner  # the run command imports run_suite from here on use

    def interrupted(*_: object, **__: object) -> None:
        raise RunInterrupted("interrupted: 3 config(s) computed now and 0 earlier are saved in X; rerun")

    monkeypatch.setattr(engine_runner, "run_suite", interrupted)
    assert main(_argv(tmp_path, tmp_path / "out")) == 130
    err = capsys.readouterr().err
    assert (
        err.strip() == "toto-bench: interrupted: 3 config(s) computed now and 0 earlier are saved in X; rerun"
    )
