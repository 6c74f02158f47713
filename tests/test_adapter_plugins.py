"""Third-party adapters: a package outside toto-bench registers models through the ``toto_bench.adapters``
entry-point group, shows up in ``toto-bench list models``, runs, and passes the adapter contract.

The plugin is a real (tiny) installed distribution: a module plus ``<name>.dist-info/{METADATA,
entry_points.txt}`` in a temporary folder put on ``sys.path``, which is all ``importlib.metadata`` needs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from toto_bench.adapters import registry
from toto_bench.adapters.contract import ContractConfig
from toto_bench.cli import main
from toto_bench.engine.contract import check_forecaster

PLUGIN_MODULE = textwrap.dedent(
    '''
    """A demo toto-bench plugin: a damped-mean forecaster that knows nothing about toto-bench internals."""
    from statistics import NormalDist
    from typing import ClassVar

    import numpy as np

    from toto_bench.adapters.base import QUANTILE_LEVELS, QuantileForecast
    from toto_bench.adapters.registry import ModelSpec

    Z = np.array([NormalDist().inv_cdf(q) for q in QUANTILE_LEVELS])


    class RecentMean:
        """Mean of the last ``window`` observed values; spread grows with sqrt(step)."""

        supports_multivariate: ClassVar[bool] = False

        def __init__(self, window: int = 24, context_length: int | None = None, batch_size: int = 16):
            self.name = "demo-recent-mean"
            self.window = window
            self.context_length = context_length
            self.batch_size = batch_size

        def predict(self, contexts, horizon, *, freq, seasonality):
            out = np.empty((len(contexts), 1, horizon, len(Z)), dtype=np.float32)
            steps = np.sqrt(np.arange(1, horizon + 1))
            for i, context in enumerate(contexts):
                values = np.asarray(context, dtype=np.float64)[0]
                if self.context_length:
                    values = values[-self.context_length :]
                seen = values[~np.isnan(values)]
                recent = seen[-self.window :]
                level = recent.mean() if recent.size else 0.0
                spread = recent.std() if recent.size > 1 else 1.0
                out[i, 0] = level + spread * steps[:, None] * Z[None, :]
            return QuantileForecast(out)


    def model_specs():
        return [
            ModelSpec(
                name="demo-recent-mean",
                factory=RecentMean,
                family="demo",
                checkpoint="demo/recent-mean-1",
                description="demo plugin: mean of the last 24 observations",
                suite_settings={"boom": {"context_length": 2048}},
            )
        ]
    '''
)


def _dist(root: Path, name: str, entry_points: str) -> None:
    info = root / f"{name.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(entry_points)


@pytest.fixture
def plugin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "tb_demo_plugin.py").write_text(PLUGIN_MODULE)
    _dist(tmp_path, "tb-demo-plugin", "[toto_bench.adapters]\ndemo = tb_demo_plugin:model_specs\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry.refresh_plugins()
    yield tmp_path
    monkeypatch.undo()
    sys.modules.pop("tb_demo_plugin", None)
    registry.refresh_plugins()


def test_plugin_is_discovered_listed_and_built(plugin_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = registry.get_model_spec("demo-recent-mean")
    assert (spec.family, spec.checkpoint) == ("demo", "demo/recent-mean-1")
    assert spec.source == "plugin demo (tb-demo-plugin)"
    assert main(["list", "models"]) == 0
    lines = [line.split() for line in capsys.readouterr().out.splitlines()]
    row = next(line for line in lines if line[0] == "demo-recent-mean")
    assert row[1:3] == ["demo", "demo/recent-mean-1"]
    assert any(line[0] == "toto2-313m" for line in lines)  # built-ins still there
    model = registry.build_model("demo-recent-mean", suite="boom")
    assert model.context_length == 2048 and not model.supports_multivariate


def test_plugin_passes_the_contract(plugin_dir: Path) -> None:
    ran = check_forecaster(lambda: registry.build_model("demo-recent-mean"), ContractConfig())
    assert len(ran) == 8


def test_the_contract_reports_a_broken_adapter(plugin_dir: Path) -> None:
    model = registry.build_model("demo-recent-mean")
    original = model.predict

    def unsorted(contexts, horizon, *, freq, seasonality):  # type: ignore[no-untyped-def]
        out = original(contexts, horizon, freq=freq, seasonality=seasonality)
        return type(out)(out.quantiles[..., ::-1].copy())

    model.predict = unsorted  # type: ignore[method-assign]
    with pytest.raises(
        AssertionError, match=r"(?s)demo-recent-mean: 1 contract check\(s\) failed:\n\[output\].*not sorted"
    ):
        check_forecaster(model, only=["output", "determinism"])


def test_plugin_models_run_through_the_cli(plugin_dir: Path, tmp_path: Path) -> None:
    import layouts

    data = tmp_path / "data"
    layouts.build_ett(data, "ett1", freqs=("W",))
    argv = ["run", "--suite", "gift-eval", "--model", "demo-recent-mean", "--data-dir", str(data)]
    argv += ["--datasets", "ett1/W", "--output-dir", str(tmp_path / "out"), "--no-progress"]
    assert main(argv) == 0
    text = (tmp_path / "out" / "gift-eval" / "demo-recent-mean" / "all_results.csv").read_text()
    assert "ett1/W/short,demo-recent-mean," in text


def test_listing_in_a_fresh_process_finds_the_plugin(plugin_dir: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_dir), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-m", "toto_bench.cli", "list", "models"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert any(
        line.split()[:3] == ["demo-recent-mean", "demo", "demo/recent-mean-1"]
        for line in done.stdout.splitlines()
    )


def test_broken_and_conflicting_plugins_are_skipped_with_the_reason(
    plugin_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (plugin_dir / "tb_clash_plugin.py").write_text(
        "from toto_bench.adapters.registry import ModelSpec\n"
        "from tb_demo_plugin import RecentMean\n"
        "def specs():\n"
        "    return ModelSpec(name='seasonal-naive', factory=RecentMean, family='clash')\n"
    )
    _dist(plugin_dir, "tb-broken-plugin", "[toto_bench.adapters]\nbroken = tb_missing_module:specs\n")
    _dist(plugin_dir, "tb-clash-plugin", "[toto_bench.adapters]\nclash = tb_clash_plugin:specs\n")
    registry.refresh_plugins()
    with pytest.warns(RuntimeWarning) as caught:
        models = registry.available_models()
    messages = " | ".join(str(w.message) for w in caught)
    assert "entry point 'broken' = 'tb_missing_module:specs' (tb-broken-plugin) failed to load" in messages
    assert "registers model 'seasonal-naive', already registered by builtin" in messages
    assert models["seasonal-naive"].family == "statistical"  # the built-in wins
    assert "demo-recent-mean" in models  # a good plugin still loads
    with pytest.raises(
        ValueError, match=r"unknown model 'broken-model'.*Plugins that failed to load.*tb_missing"
    ):
        registry.get_model_spec("broken-model")


def test_entry_point_objects_must_be_model_specs(plugin_dir: Path) -> None:
    (plugin_dir / "tb_wrong_plugin.py").write_text("def specs():\n    return ['not a spec']\n")
    _dist(plugin_dir, "tb-wrong-plugin", "[toto_bench.adapters]\nwrong = tb_wrong_plugin:specs\n")
    registry.refresh_plugins()
    with pytest.warns(RuntimeWarning, match=r"must give ModelSpec objects, got str"):
        registry.available_models()
