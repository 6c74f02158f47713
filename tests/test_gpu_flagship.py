"""``benchmarks/gpu_flagship.sh OUT --device cpu --shapes small``: the GPU flagship script, kept from rotting.

The CPU mode runs the whole script (subset, checkpoint, ``toto-bench run``, the official direct path) on a
small subset with the 4m architecture at test width. The oracles are invariants and the published tables:
every window of a config goes into one forward call (BOOM has at most 20 windows per config, under the batch
of 64), so the forward calls equal the configs and the batch fill is mean(W)/64 with W from BOOM's
published windows per config; the run's quantiles equal the official ``Toto2GluonTSModel`` path's within the
documented tolerance; fractions lie in [0, 1].
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import layouts
import pandas as pd
import pytest

pytest.importorskip("torch")
pytest.importorskip("toto2", reason="toto-2 is not installed (bash .ci/install-model-extras.sh toto2)")

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu_flagship.sh"
WINDOWS_CSV = layouts.SHARED / "data" / "boom" / "derived" / "windows_and_target_dim_per_config.csv"


def _keys(output: str) -> dict[str, str]:
    """The ``key: value`` lines of the script's output."""
    keys = {}
    for line in output.splitlines():
        key, sep, value = line.partition(": ")
        if sep and " " not in key:
            keys[key] = value
    return keys


@pytest.fixture(scope="module")
def cpu_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], Path, int]:
    out = tmp_path_factory.mktemp("flagship")
    env = {**os.environ, "SKIP_INSTALL": "1", "PYTHON": sys.executable}
    done = subprocess.run(
        ["bash", str(SCRIPT), str(out), "--device", "cpu", "--shapes", "small"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return _keys(done.stdout), out, done.returncode


def test_cpu_mode_prints_every_figure(cpu_run: tuple[dict[str, str], Path, int]) -> None:
    keys, out, _ = cpu_run
    for key in (
        "wall_s",
        "forward_s",
        "overhead_fraction",
        "gpu_busy_fraction",
        "batch_fill",
        "peak_memory_mib",
        "forecasts_per_s",
        "max_abs_diff",
        "direct_wall_s",
    ):
        assert f"fp32.{key}" in keys, f"fp32.{key} missing from {sorted(keys)}"
    assert keys["fp32.gpu_busy_fraction"] == "n/a"
    assert keys["latency"] in ("skipped (study not available)",) or keys["latency"].startswith("exit 0")
    assert json.loads((out / "summary.json").read_text())["fp32.diff_ok"] is True


def test_cpu_mode_figures_satisfy_their_invariants(cpu_run: tuple[dict[str, str], Path, int]) -> None:
    keys, out, _ = cpu_run
    wall, forward = float(keys["fp32.wall_s"]), float(keys["fp32.forward_s"])
    assert 0 < forward <= wall
    assert 0.0 <= float(keys["fp32.overhead_fraction"]) <= 1.0
    assert 0.0 <= float(keys["fp32.direct_overhead_fraction"]) <= 1.0
    assert float(keys["fp32.max_rel_diff"]) <= float(keys["fp32.diff_tolerance"]) == 1e-4
    # independent oracle: BOOM's published windows per config of the datasets in the subset
    names = set(json.loads((out / "data" / "boom_properties.json").read_text()))
    table = pd.read_csv(WINDOWS_CSV)
    windows = table.loc[table["config"].str.split("/").str[0].isin(names), "windows"]
    assert int(keys["fp32.configs"]) == int(keys["fp32.forward_calls"]) == len(windows)
    fill = float(keys["fp32.batch_fill"])
    assert 0.0 < fill <= 1.0
    assert fill == pytest.approx(windows.mean() / 64, rel=1e-3)
    assert float(keys["fp32.direct_batch_fill"]) == pytest.approx(fill, rel=1e-3)


def test_cuda_mode_without_cuda_exits_with_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import torch

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import gpu_flagship

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert gpu_flagship.main([str(tmp_path / "out"), "--device", "cuda"]) == 3
    err = capsys.readouterr().err
    assert "--device cuda but CUDA is not available" in err and "--device cpu" in err
    assert not (tmp_path / "out").exists()
