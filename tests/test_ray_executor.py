"""``--executor ray`` on a local 2-CPU Ray instance: the same ``all_results.csv`` bytes as the local executor,
also when an actor dies mid-dataset (its remaining configs are retried on a fresh actor), a clear error when
retries run out, and a worker's own errors reported as the local executor reports them."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import layouts
import numpy as np
import pytest
import run_fixtures

from toto_bench.adapters import registry
from toto_bench.cli import main

try:
    import ray
except ImportError:  # pragma: no cover - CI installs ray with the test extra
    ray = None

NAMES = ",".join(run_fixtures.DATASETS)


@pytest.fixture(scope="module")
def plugin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The ``slow-naive`` plugin, visible here and (through ``PYTHONPATH``) in the Ray workers; then Ray."""
    if ray is None:
        pytest.skip(
            'ray is not installed (pip install "toto-bench[ray]"; CI installs it with the test extra)'
        )
    folder = run_fixtures.install(tmp_path_factory.mktemp("plugin"))
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(folder), *([old] if old else [])])
    sys.path.insert(0, str(folder))
    registry.refresh_plugins()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield folder
    finally:
        ray.shutdown()
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old
        sys.path.remove(str(folder))
        sys.modules.pop("tb_slow_plugin", None)
        registry.refresh_plugins()


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_fixtures.write_datasets(tmp_path_factory.mktemp("data"))


def _argv(data: Path, out: Path, model: str, *extra: str) -> list[str]:
    return [
        "run",
        *("--suite", "gift-eval", "--model", model, "--data-dir", str(data), "--datasets", NAMES),
        *("--output-dir", str(out), "--no-progress"),
        *extra,
    ]


def _folder(out: Path, model: str) -> Path:
    return out / "gift-eval" / model


def _journal_configs(folder: Path) -> list[str]:
    return [json.loads(line)["key"]["config"] for line in (folder / "journal.jsonl").read_text().splitlines()]


RAY = ("--executor", "ray", "--workers", "2")


def test_ray_on_two_workers_writes_the_local_executors_bytes(
    plugin: Path, data: Path, tmp_path: Path
) -> None:
    model = "seasonal-naive"
    assert main(_argv(data, tmp_path / "local", model)) == 0
    assert main(_argv(data, tmp_path / "ray", model, *RAY)) == 0
    local, remote = _folder(tmp_path / "local", model), _folder(tmp_path / "ray", model)
    assert (remote / "all_results.csv").read_bytes() == (local / "all_results.csv").read_bytes()
    record = json.loads((remote / "config.json").read_text())
    assert (record["executor"], record["workers"], record["computed"]) == ("ray", 2, run_fixtures.CONFIGS)
    local_record = json.loads((local / "config.json").read_text())
    assert local_record["executor"] == "local"
    # the model is described inside an actor exactly as in process
    assert record["model_details"] is not None and record["model_details"] == local_record["model_details"]


def test_a_dead_actors_dataset_is_finished_on_a_fresh_actor(plugin: Path, data: Path, tmp_path: Path) -> None:
    assert main(_argv(data, tmp_path / "local", run_fixtures.MODEL)) == 0
    calls = plugin / "calls.log"
    calls.unlink()
    flag = plugin / "crash-once-480.flag"  # the first hourly 'medium' config (H = 480) kills its actor
    flag.touch()
    (plugin / "sleep.txt").write_text("0.2")  # time for the 'short' result to reach the driver first
    try:
        assert main(_argv(data, tmp_path / "ray", run_fixtures.MODEL, *RAY)) == 0
    finally:
        (plugin / "sleep.txt").unlink()
    assert not flag.exists()  # an actor did die
    remote = _folder(tmp_path / "ray", run_fixtures.MODEL)
    local = _folder(tmp_path / "local", run_fixtures.MODEL)
    assert (remote / "all_results.csv").read_bytes() == (local / "all_results.csv").read_bytes()
    configs = _journal_configs(remote)
    assert len(configs) == len(set(configs)) == run_fixtures.CONFIGS
    # every config was predicted once: the retry on the fresh actor skipped what the dead one had finished
    done = calls.read_text().splitlines()
    assert len(done) == len(set(done)) == run_fixtures.CONFIGS


def test_a_dataset_that_keeps_killing_its_actor_stops_the_run_with_the_reason(
    plugin: Path, data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flag = plugin / "crash-always-480.flag"
    flag.touch()
    try:
        assert main(_argv(data, tmp_path / "ray", run_fixtures.MODEL, *RAY)) == 2
    finally:
        flag.unlink()
    err = capsys.readouterr().err
    assert err.startswith("toto-bench: error: dataset '") and "Ray worker died 3 times (max_retries=2)" in err
    assert "rerun the same command to resume" in err
    kept = _journal_configs(_folder(tmp_path / "ray", run_fixtures.MODEL))
    assert not [c for c in kept if c.endswith("/medium")]
    assert main(_argv(data, tmp_path / "ray", run_fixtures.MODEL)) == 0  # a rerun (any executor) finishes
    assert (
        f"{run_fixtures.CONFIGS - len(kept)} configs computed, {len(kept)} reused" in capsys.readouterr().out
    )
    assert main(_argv(data, tmp_path / "local", run_fixtures.MODEL)) == 0
    assert (_folder(tmp_path / "ray", run_fixtures.MODEL) / "all_results.csv").read_bytes() == (
        _folder(tmp_path / "local", run_fixtures.MODEL) / "all_results.csv"
    ).read_bytes()


def test_a_workers_own_error_reads_as_under_the_local_executor(
    plugin: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"  # 6 weekly points cannot hold one 8-step window plus context
    layouts.write_dataset(data / "us_births" / "W", [np.ones(6, dtype=np.float32)], freq="W")
    argv = _argv(data, tmp_path / "out", "seasonal-naive")
    argv[argv.index(NAMES)] = "us_births/W"
    assert main(argv) == 2
    local = capsys.readouterr().err
    assert main([*argv, *RAY]) == 2
    assert capsys.readouterr().err == local
    assert "us_births/W" in local and "6" in local


def test_without_ray_the_error_names_the_extra_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = run_fixtures.write_datasets(tmp_path / "data", ["us_births/W"])
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    argv = _argv(data, tmp_path / "out", "seasonal-naive", *RAY)
    argv[argv.index(NAMES)] = "us_births/W"
    assert main(argv) == 2
    assert 'needs Ray, which is not installed; install it with: pip install "toto-bench[ray]"' in (
        capsys.readouterr().err
    )


def test_the_ray_address_without_the_ray_executor_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_argv(tmp_path, tmp_path / "out", "seasonal-naive", "--address", "auto")) == 2
    assert "--address applies to --executor ray only" in capsys.readouterr().err


@pytest.mark.parametrize("address", ["127.0.0.1:{port}", "ray://127.0.0.1:{port}"])
def test_an_unreachable_address_fails_fast_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], address: str
) -> None:
    import socket
    import time

    with socket.socket() as probe:  # a port nobody listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = run_fixtures.write_datasets(tmp_path / "data", ["us_births/W"])
    argv = _argv(data, tmp_path / "out", "seasonal-naive", "--executor", "ray", "--address")
    argv[argv.index(NAMES)] = "us_births/W"
    started = time.monotonic()
    assert main([*argv, address.format(port=port)]) == 2
    assert time.monotonic() - started < 30  # ray.init alone retries for minutes
    err = capsys.readouterr().err
    assert f"cannot reach Ray at --address {address.format(port=port)}" in err
    assert not (tmp_path / "out" / "gift-eval" / "seasonal-naive" / "all_results.csv").exists()
