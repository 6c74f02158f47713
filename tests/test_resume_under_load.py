"""Issue 15's "done when": a GIFT-Eval ``auto-theta`` run killed with SIGKILL on a loaded machine and rerun
ends with the bytes of an uninterrupted run on an idle one.

The issue's repro was exactly this: the same command, killed and resumed on a busier machine, gave other
rows (configs over a wall-clock limit became seasonal naive). Here every core is kept busy by spinning
processes while the interrupted run and its resume execute, the reference runs before they start, and the
comparison is on the bytes of ``all_results.csv``. Only the run's own process is killed (as ``kill -9 PID``
or the OOM killer do), not its statsforecast workers: they must neither keep the folder locked against the
rerun nor outlive the run.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import run_fixtures

from toto_bench.cli import main

MODEL = "auto-theta"
#: 4 configs (the hourly dataset's short term only), 2 series each: small enough for CI on 2 cores.
DATASETS = ["us_births/D", "us_births/W", "saugeenday/M", "electricity/H"]
CONFIGS = 4
SUMMARY = re.compile(r"(\d+) configs computed, (\d+) reused")
SPIN = "import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end:\n    pass\n"


def _argv(data: Path, out: Path) -> list[str]:
    return [
        "run",
        "--suite",
        "gift-eval",
        "--model",
        MODEL,
        "--data-dir",
        str(data),
        "--datasets",
        ",".join(DATASETS),
        "--terms",
        "short",
        "--output-dir",
        str(out),
        "--no-progress",
    ]


@contextlib.contextmanager
def _every_core_busy(seconds: float) -> Iterator[list[subprocess.Popen[bytes]]]:
    """One spinning process per usable CPU (each ends by itself after ``seconds``, and is killed on exit)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    hogs = [
        subprocess.Popen([sys.executable, "-c", SPIN.format(seconds=seconds)]) for _ in range(max(1, cores))
    ]
    try:
        yield hogs
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait(timeout=30)


def _live_members(group: int) -> list[int]:
    """Pids of the live (not zombie) processes of process group ``group``, from ``/proc``."""
    live = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:  # ended meanwhile
            continue
        if fields[0] != "Z" and int(fields[2]) == group:
            live.append(int(stat.parent.name))
    return live


def _journal_lines(folder: Path) -> int:
    path = folder / "journal.jsonl"
    return path.read_bytes().count(b"\n") if path.is_file() else 0


def test_auto_theta_killed_and_resumed_under_load_gives_the_uninterrupted_bytes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("statsforecast")
    data = run_fixtures.write_datasets(tmp_path / "data", DATASETS, series=2)
    assert main(_argv(data, tmp_path / "ref")) == 0
    summary = SUMMARY.search(capsys.readouterr().out)
    assert summary and int(summary.group(1)) == CONFIGS
    csv = Path("gift-eval", MODEL, "all_results.csv")
    reference = (tmp_path / "ref" / csv).read_bytes()

    out = tmp_path / "out"
    folder = out / "gift-eval" / MODEL
    cmd = [sys.executable, "-m", "toto_bench.cli", *_argv(data, out)]
    with _every_core_busy(seconds=120) as hogs:
        time.sleep(0.5)
        assert all(h.poll() is None for h in hogs)  # the machine is loaded for the whole kill and resume
        # its own process group, so that what it forked can be found (and cleaned up) after the kill
        run = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.monotonic() + 90
        while _journal_lines(folder) < 1 and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        assert run.poll() is None, "the run ended before a config was committed and it could be killed"
        run.send_signal(signal.SIGKILL)
        assert run.wait(timeout=30) == -signal.SIGKILL
        run.stderr.close()  # type: ignore[union-attr]
        committed = _journal_lines(folder)
        assert 0 < committed < CONFIGS  # killed mid-run, after at least one commit
        assert not (folder / "all_results.csv").exists()

        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
            assert all(h.poll() is None for h in hogs), "a spinning process ended before the resume did"
            deadline = time.monotonic() + 10
            while _live_members(run.pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            orphans = _live_members(run.pid)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(run.pid, signal.SIGKILL)
    assert done.returncode == 0, done.stderr[-2000:]
    assert orphans == [], "worker processes of the killed run are still alive"
    summary = SUMMARY.search(done.stdout)
    assert summary, done.stdout
    assert (int(summary.group(1)), int(summary.group(2))) == (CONFIGS - committed, committed)
    assert (folder / "all_results.csv").read_bytes() == reference
    record = json.loads((folder / "config.json").read_text())
    assert record["settings"]["time_limit"] is None and record["fallback_configs"] == []


def test_a_child_forked_under_the_lock_does_not_keep_it_after_the_parent_dies(tmp_path: Path) -> None:
    """A ``flock`` is shared with forked children: the lock module closes the child's copy at fork, so
    the folder is free once the holder dies even while its child lives on (here: sleeping)."""
    script = (
        "import os, sys, time\n"
        "from pathlib import Path\n"
        "from toto_bench.engine.lock import FolderLock\n"
        "FolderLock(Path(sys.argv[1])).acquire()\n"
        "child = os.fork()\n"
        "if child == 0:\n"
        "    null = os.open(os.devnull, os.O_RDWR)\n"
        "    os.dup2(null, 1), os.dup2(null, 2)  # leave the test's pipes to the parent\n"
        "    time.sleep(60)\n"
        "    os._exit(0)\n"
        "print(child, flush=True)\n"
        "os._exit(0)  # dies holding the lock, without releasing it\n"
    )
    folder = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-c", script, str(folder)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    child = int(done.stdout.split()[0])
    try:
        assert _live_members(os.getpgid(child)) and Path(f"/proc/{child}").exists()  # the child lives on
        from toto_bench.engine.lock import FolderLock

        lock = FolderLock(folder).acquire()  # old behaviour: FolderLockedError naming the dead parent
        assert lock.recovered is not None  # the dead holder's record is taken over
        lock.release()
    finally:
        os.kill(child, signal.SIGKILL)
