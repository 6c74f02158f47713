"""Stored forecasts: ``toto-bench run --save-forecasts`` keeps them, ``toto-bench score`` rescores them.

Oracles: the run itself (``all_results.csv`` is computed by the engine from the live forecasts; ``score``
recomputes it from the files through another path, so the two must agree byte for byte), a hand-written
seasonal naive (value at ``t − m``, statsforecast's sigma), the GIFT-Eval window rule written out again
(``W = min(max(1, ceil(0.1·min_len/H)), 20)``, M4: 1; the last window ends at the series end, H apart),
and a hand-computed MAE change for a tampered file.

Data: ETTm1 hourly (one 7-variate series) and M4 hourly (414 series) built from ``../shared/data`` by
``tests/layouts.py``, a generated multi-item 2-variate set with NaN gaps, a TIME set, LSF ETTh1.
"""

from __future__ import annotations

import json
import math
import shutil
import zipfile
from collections.abc import Mapping
from pathlib import Path
from statistics import NormalDist
from typing import Any, ClassVar

import layouts
import numpy as np
import pandas as pd
import pytest

from toto_bench.adapters.base import QUANTILE_LEVELS, QuantileForecast
from toto_bench.boards.scoring import score_run
from toto_bench.cli import main
from toto_bench.engine import forecasts as forecasts_module
from toto_bench.engine.forecasts import (
    ForecastRecorder,
    forecasts_path,
    load_forecasts,
    read_forecast_file,
    saved_configs,
)
from toto_bench.engine.protocol import RunError, Scorer
from toto_bench.engine.runner import RunOptions, run_suite
from toto_bench.suites import get_suite

GIFT_DATASETS = ["ett1/H", "m4_hourly", "bitbrains_fast_storage/H"]
#: config -> horizon H (GIFT-Eval: hourly 48, medium ×10, long ×15; M4 hourly 48)
GIFT_CONFIGS = {
    "ett1/H/short": 48,
    "ett1/H/medium": 480,
    "ett1/H/long": 720,
    "m4_hourly/H/short": 48,
    "bitbrains_fast_storage/H/short": 48,
}
SEASON = 24  # hourly


def _bitbrains_targets() -> list[np.ndarray]:
    """Three 2-variate hourly items of different lengths with NaN gaps (history, labels, leading)."""
    rng = np.random.default_rng(3)
    out = []
    for length in (700, 800, 650):
        t = np.arange(length)
        x = np.stack([50 + 10 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 2, length) for _ in range(2)])
        out.append(x.astype(np.float32))
    out[0][1, 100:110] = np.nan  # gap in every window's history
    out[1][0, -30:-25] = np.nan  # gap inside the last label window
    out[2][0, :5] = np.nan  # leading NaNs (imputed with the first observed value)
    return out


@pytest.fixture(scope="module")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("gift_data")
    layouts.build_ett(root, "ett1", ["H"])
    layouts.build_m4_hourly(root)
    layouts.write_dataset(
        root / "bitbrains_fast_storage" / "H", _bitbrains_targets(), freq="H", item_ids=["a", "b", "c"]
    )
    return root


def _run_argv(root: Path, out: Path, suite: str = "gift-eval", model: str = "seasonal-naive") -> list[str]:
    argv = ["run", "--suite", suite, "--model", model, "--data-dir", str(root), "--output-dir", str(out)]
    return [*argv, "--no-progress", "--save-forecasts"]


@pytest.fixture(scope="module")
def run_folder(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gift_results")
    assert main([*_run_argv(data_root, out), "--datasets", ",".join(GIFT_DATASETS)]) == 0
    return out / "gift-eval" / "seasonal-naive"


def _score(folder: Path, output: Path, *extra: str, suite: str = "gift-eval") -> int:
    return main(["score", "--suite", suite, "--run-dir", str(folder), "--output", str(output), *extra])


def _targets(root: Path, storage: str) -> dict[str, np.ndarray]:
    from toto_bench.engine.data import load_dataset

    return {s.item_id: s.target for s in load_dataset("gift-eval", storage, root)}


# ----------------------------------------------------------------------------------------------------------
# Round trip


def test_score_rewrites_the_runs_results_byte_for_byte(run_folder: Path, tmp_path: Path) -> None:
    assert sorted(saved_configs(run_folder)) == sorted(GIFT_CONFIGS)
    output = tmp_path / "scored.csv"
    assert _score(run_folder, output) == 0
    expected = (run_folder / "all_results.csv").read_bytes()
    assert output.read_bytes() == expected
    assert len(pd.read_csv(output)) == len(GIFT_CONFIGS)


def test_score_defaults_to_scored_results_beside_the_run(run_folder: Path, tmp_path: Path) -> None:
    folder = tmp_path / "copy"
    shutil.copytree(run_folder, folder)
    assert main(["score", "--suite", "gift-eval", "--run-dir", str(folder)]) == 0
    assert (folder / "scored_results.csv").read_bytes() == (folder / "all_results.csv").read_bytes()


@pytest.mark.parametrize("config", sorted(GIFT_CONFIGS))
def test_stored_cuts_follow_the_gift_eval_window_rule(data_root: Path, run_folder: Path, config: str) -> None:
    storage = "m4_hourly" if config.startswith("m4_hourly") else "/".join(config.split("/")[:2])
    targets = _targets(data_root, storage)
    horizon = GIFT_CONFIGS[config]
    min_len = min(t.shape[1] for t in targets.values())
    windows = 1 if "m4" in config else min(max(1, math.ceil(0.1 * min_len / horizon)), 20)
    stored = load_forecasts(run_folder, config)
    assert stored.item_ids == list(targets)  # every series, in data order
    assert stored.offsets.tolist() == [windows * s for s in range(len(targets) + 1)]
    for item_id, target in targets.items():
        length = target.shape[1]
        cuts, quantiles, mean = stored.series(item_id)
        # the last window ends at the series end; windows are H apart
        assert cuts.tolist() == [length - horizon * (windows - w) for w in range(windows)]
        assert quantiles.shape == (windows, target.shape[0], horizon, len(QUANTILE_LEVELS))
        assert mean is not None and mean.shape == quantiles.shape[:-1]
    assert stored.levels == QUANTILE_LEVELS
    assert stored.quantiles.dtype == np.float32


def _seasonal_naive_by_hand(context: np.ndarray, horizon: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """``(mean [H], quantiles [H, 9])`` of one variate: last-value imputation, then ``y[n − m + h mod m]``
    and ``mean ± z·sigma·sqrt(floor(h/m) + 1)`` with ``sigma² = Σ(y_t − y_{t−m})² / (n − m)``."""
    y = pd.Series(context.astype(np.float64)).ffill().bfill().to_numpy()
    n = len(y)
    mean = np.array([y[n - m + (h % m)] for h in range(horizon)])
    sigma = math.sqrt(float(np.sum((y[m:] - y[:-m]) ** 2)) / (n - m))
    z = np.array([NormalDist().inv_cdf(q) for q in QUANTILE_LEVELS])
    widen = np.sqrt(np.arange(horizon) // m + 1.0)
    return mean, mean[:, None] + z[None, :] * sigma * widen[:, None]


@pytest.mark.parametrize(
    ("config", "item_id", "window", "variate"),
    [
        ("ett1/H/short", "ett1", 0, 0),
        ("ett1/H/short", "ett1", 19, 6),
        ("ett1/H/long", "ett1", 2, 3),
        ("bitbrains_fast_storage/H/short", "a", 0, 1),  # NaN gap in the history
        ("bitbrains_fast_storage/H/short", "c", 1, 0),  # leading NaNs
    ],
)
def test_stored_quantiles_are_the_seasonal_naive_forecast(
    data_root: Path, run_folder: Path, config: str, item_id: str, window: int, variate: int
) -> None:
    storage = "/".join(config.split("/")[:2])
    target = _targets(data_root, storage)[item_id]
    cuts, quantiles, mean = load_forecasts(run_folder, config).series(item_id)
    cut = int(cuts[window])
    exp_mean, exp_q = _seasonal_naive_by_hand(target[variate, :cut], GIFT_CONFIGS[config], SEASON)
    assert mean is not None
    np.testing.assert_array_equal(mean[window, variate], exp_mean.astype(np.float32))  # value at t − m
    np.testing.assert_array_equal(quantiles[window, variate, :, 4], exp_mean.astype(np.float32))  # median
    np.testing.assert_allclose(quantiles[window, variate], exp_q, rtol=2e-6, atol=1e-4)


def test_dataset_size_counts_each_variate_of_a_univariate_model(run_folder: Path) -> None:
    meta = read_forecast_file(forecasts_path(run_folder, "bitbrains_fast_storage/H/short")).meta
    assert meta["univariate_model"] is True
    assert meta["instances"] == 3 * 2 * 2  # 3 items x 2 windows x 2 variates


# ----------------------------------------------------------------------------------------------------------
# Refusals and tampering


def test_a_tampered_forecast_changes_exactly_the_expected_score(
    data_root: Path, run_folder: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "run"
    shutil.copytree(run_folder, folder)
    config, delta = "ett1/H/short", 100.0
    path = forecasts_path(folder, config)
    with np.load(path) as npz:
        arrays = {name: npz[name] for name in npz.files}
    q50 = float(arrays["quantiles"][0, 0, 0, 4])
    arrays["quantiles"][0, 0, 0, 4] += delta
    with path.open("wb") as fh:
        np.savez(fh, **arrays)
    output = tmp_path / "scored.csv"
    assert _score(folder, output) == 0
    before = pd.read_csv(run_folder / "all_results.csv", float_precision="round_trip").set_index("dataset")
    after = pd.read_csv(output, float_precision="round_trip").set_index("dataset")
    pd.testing.assert_frame_equal(before.drop(index=config), after.drop(index=config))
    # MAE[0.5] = Σ|y − q50| / points over 20 windows x 7 variates x 48 steps (ETT has no NaN)
    label = float(_targets(data_root, "ett1/H")["ett1"][0, int(arrays["cuts"][0])])
    points = 20 * 7 * 48
    old = float(before.loc[config, "eval_metrics/MAE[0.5]"])
    change = (abs(label - (q50 + delta)) - abs(label - q50)) / points
    assert after.loc[config, "eval_metrics/MAE[0.5]"] == pytest.approx(old + change, rel=1e-9)
    assert after.loc[config, "eval_metrics/MSE[mean]"] == before.loc[config, "eval_metrics/MSE[mean]"]


@pytest.mark.parametrize("change", ["fingerprint", "content"])
def test_forecasts_of_other_data_are_refused(
    data_root: Path, run_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], change: str
) -> None:
    root = tmp_path / "data"
    shutil.copytree(data_root, root)
    folder = root / "ett1" / "H"
    state = (folder / "state.json").read_bytes()
    if change == "fingerprint":  # same values, another stored folder (the run's data fingerprint differs)
        (folder / "state.json").write_bytes(state + b"\n")
    else:  # one value changed, folder fingerprint kept (same state.json, same file sizes)
        target = _targets(data_root, "ett1/H")["ett1"].copy()
        target[3, 1000] += 1.0
        shutil.rmtree(folder)
        layouts.write_dataset(folder, [target], freq="H", start=layouts.ETT_START, item_ids=["ett1"])
        (folder / "state.json").write_bytes(state)
    assert _score(run_folder, tmp_path / "scored.csv", "--data-dir", str(root)) == 2
    err = capsys.readouterr().err
    assert "ett1/H/" in err and "changed since the run" in err
    assert ("has fingerprint" if change == "fingerprint" else "content hash differs") in err
    assert not (tmp_path / "scored.csv").exists()


def test_a_run_without_stored_forecasts_is_refused(
    data_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = _run_argv(data_root, tmp_path)[:-1]  # no --save-forecasts
    assert main([*argv, "--datasets", "bitbrains_fast_storage/H"]) == 0
    folder = tmp_path / "gift-eval" / "seasonal-naive"
    assert not (folder / "forecasts").exists()
    assert _score(folder, tmp_path / "scored.csv") == 2
    assert "no stored forecasts" in capsys.readouterr().err


def test_forecasts_of_another_suite_are_refused(run_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _score(run_folder, run_folder.parent / "never.csv", suite="time") == 2
    assert "outside suite 'time'" in capsys.readouterr().err


# ----------------------------------------------------------------------------------------------------------
# A multivariate model with a superset of levels and no mean


class _MultivariateLevels:
    """Multivariate stand-in: per variate, the mean of the last 10 observed points ± level offsets."""

    name = "mv-levels"
    supports_multivariate: ClassVar[bool] = True
    context_length = None
    batch_size = 2
    levels = (0.025, *QUANTILE_LEVELS, 0.975)

    def predict(
        self, contexts: list[np.ndarray], horizon: int, *, freq: str, seasonality: int
    ) -> QuantileForecast:
        base = np.stack([np.nanmean(c[:, -10:], axis=1) for c in contexts])  # [n, V]
        spread = (np.asarray(self.levels) - 0.5) * np.arange(1, horizon + 1)[:, None]  # [H, Q]
        q = base[:, :, None, None] + spread[None, None]
        return QuantileForecast(q.astype(np.float32), self.levels)


def test_a_multivariate_model_round_trips(data_root: Path, tmp_path: Path) -> None:
    suite = get_suite("gift-eval")
    model = _MultivariateLevels()
    options = RunOptions(
        datasets=["bitbrains_fast_storage/H", "ett1/H"],
        output_dir=tmp_path,
        data_dir=data_root,
        progress=False,
        save_forecasts=True,
    )
    run_suite(suite, model.name, lambda: model, options)
    folder = tmp_path / "gift-eval" / model.name
    summary = score_run(suite, folder)
    assert summary.output.read_bytes() == (folder / "all_results.csv").read_bytes()
    stored = load_forecasts(folder, "bitbrains_fast_storage/H/short")
    assert stored.levels == model.levels and stored.mean is None
    target = _targets(data_root, "bitbrains_fast_storage/H")["b"]
    cuts, quantiles, _ = stored.series("b")
    expected = model.predict([target[:, : int(cuts[1])]], 48, freq="H", seasonality=24).quantiles[0]
    np.testing.assert_array_equal(quantiles[1], expected)
    rows = pd.read_csv(folder / "all_results.csv").set_index("dataset")
    assert rows.loc["bitbrains_fast_storage/H/short", "dataset_size"] == 3 * 2  # windows, not x variates


# ----------------------------------------------------------------------------------------------------------
# TIME and LSF


def test_time_rows_and_per_window_files_are_recomputed(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    items = []
    for length in (120, 150, 181):  # Port_Activity/W: L 52, H 13 -> 4 windows
        x = (10 + rng.normal(0, 1, (3, length))).astype(np.float32)
        x[0, 20:26] = np.nan
        x[1, length - 40 : length - 37] = np.nan  # inside labels
        items.append(x)
    root = tmp_path / "time"
    layouts.write_dataset(root / "Port_Activity" / "W", items, freq="W-SUN")
    assert main([*_run_argv(root, tmp_path / "out", suite="time"), "--datasets", "Port_Activity/W"]) == 0
    folder = tmp_path / "out" / "time" / "seasonal-naive"
    side = tmp_path / "side"
    summary = score_run(get_suite("time"), folder, side_outputs=side)
    assert summary.output.read_bytes() == (folder / "all_results.csv").read_bytes()
    with (
        np.load(folder / "Port_Activity" / "W" / "short" / "metrics.npz") as run,
        np.load(side / "Port_Activity" / "W" / "short" / "metrics.npz") as rescored,
    ):
        assert sorted(run.files) == sorted(rescored.files)
        for name in run.files:
            np.testing.assert_array_equal(run[name], rescored[name])


@pytest.mark.parametrize("stride", [1, 24])
def test_lsf_rows_are_recomputed_with_the_runs_stride_and_chunks(tmp_path: Path, stride: int) -> None:
    data = layouts.shared_data() / "lsf"
    argv = [*_run_argv(data, tmp_path, suite="lsf"), "--datasets", "ETTh1", "--terms", "96"]
    assert main([*argv, "--stride", str(stride)]) == 0
    folder = tmp_path / "lsf" / "seasonal-naive"
    stored = read_forecast_file(forecasts_path(folder, "ETTh1/96"))
    # TSLib ETTh1 test rows [12·30·24, 20·30·24) = [11520, 14400); origins every `stride` steps up to T − H
    cuts = stored.forecasts.cuts
    assert cuts.tolist() == list(range(11520, 14400 - 96 + 1, stride))
    if stride == 1:  # 2785 windows x 7 x 96 x 9 values exceed the engine's 2**24 chunk: two updates, whose
        assert len(stored.chunks) == 2  # pooled sums a one-shot replay would round differently
        assert isinstance(stored.forecasts.quantiles, np.memmap)
    assert _score(folder, tmp_path / "scored.csv", suite="lsf") == 0
    assert (tmp_path / "scored.csv").read_bytes() == (folder / "all_results.csv").read_bytes()


# ----------------------------------------------------------------------------------------------------------
# The recorder on its own


class _Counting(Scorer):
    def __init__(self) -> None:
        self.instances = 0
        self.univariate_model = False

    def update(
        self,
        index: int,
        item_id: str,
        target: np.ndarray,
        start: int,
        cuts: np.ndarray,
        forecast: QuantileForecast,
    ) -> None:
        self.instances += len(cuts)

    def row(self) -> dict[str, Any]:
        return {"windows": self.instances}

    def finish(self, folder: Path, settings: Mapping[str, Any]) -> None:
        pass


def _forecast(rng: np.random.Generator, n: int, n_var: int, with_mean: bool) -> QuantileForecast:
    q = np.sort(rng.normal(size=(n, n_var, 5, 9)), axis=-1).astype(np.float32)
    return QuantileForecast(q, QUANTILE_LEVELS, q[..., 4] + 0.5 if with_mean else None)


def test_recorder_keeps_chunks_series_positions_and_fills_a_missing_mean_with_the_median(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(0)
    recorder = ForecastRecorder(_Counting(), tmp_path, "x/H/short")
    target = np.zeros((2, 100), dtype=np.float32)
    parts = [  # (series index, item, start, forecast): series 1 has no windows
        (0, "a", 0, _forecast(rng, 2, 2, True)),
        (0, "a", 2, _forecast(rng, 3, 2, False)),
        (2, "c", 0, _forecast(rng, 4, 2, True)),
    ]
    for index, item, start, fc in parts:
        n = fc.quantiles.shape[0]
        recorder.update(index, item, target, start, np.arange(start, start + n) + 50, fc)
    assert recorder.instances == 9 and recorder.row() == {"windows": 9}
    recorder.finish(tmp_path, {"model": "m"})
    assert sorted(p.name for p in (tmp_path / "forecasts").iterdir()) == ["x__H__short.npz"]  # no temp left
    monkeypatch.setattr(forecasts_module, "_MMAP_BYTES", 0)  # every member memory-mapped
    stored = read_forecast_file(forecasts_path(tmp_path, "x/H/short"))
    assert stored.chunks.tolist() == [2, 3, 4] and stored.mean_given.tolist() == [True, False, True]
    assert stored.series_index.tolist() == [0, 2]
    fc = stored.forecasts
    assert fc.item_ids == ["a", "c"] and fc.offsets.tolist() == [0, 5, 9]
    assert isinstance(fc.quantiles, np.memmap)
    np.testing.assert_array_equal(fc.quantiles, np.concatenate([p[3].quantiles for p in parts]))
    expected_mean = [parts[0][3].mean, parts[1][3].quantiles[..., 4], parts[2][3].mean]
    assert fc.mean is not None
    np.testing.assert_array_equal(fc.mean, np.concatenate(expected_mean))
    np.testing.assert_array_equal(fc.series("c")[0], [50, 51, 52, 53])
    with np.load(forecasts_path(tmp_path, "x/H/short")) as npz:  # a plain npz
        np.testing.assert_array_equal(npz["quantiles"], fc.quantiles)
        assert json.loads(str(npz["meta"]))["key"]["data"] is None  # no key given: no fingerprint
    with zipfile.ZipFile(forecasts_path(tmp_path, "x/H/short")) as zf:
        assert {i.compress_type for i in zf.infolist()} == {zipfile.ZIP_STORED}
    with pytest.raises(KeyError, match="no stored series 'b'"):
        fc.series("b")


def test_recorder_refuses_a_series_of_another_variate_count(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    recorder = ForecastRecorder(_Counting(), tmp_path, "x/H/short")
    recorder.update(0, "a", np.zeros((2, 50)), 0, np.array([40]), _forecast(rng, 1, 2, False))
    with pytest.raises(RunError, match=r"series 'b'.*one V, H and Q per config"):
        recorder.update(1, "b", np.zeros((3, 50)), 0, np.array([40]), _forecast(rng, 1, 3, False))


def test_an_unfinished_config_leaves_no_file(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    recorder = ForecastRecorder(_Counting(), tmp_path, "x/H/short")
    recorder.update(0, "a", np.zeros((1, 50)), 0, np.array([40]), _forecast(rng, 1, 1, True))
    del recorder  # the run stopped before finish()
    assert list((tmp_path / "forecasts").iterdir()) == []
    with pytest.raises(FileNotFoundError, match="stored configs: none"):
        load_forecasts(tmp_path, "x/H/short")


# ----------------------------------------------------------------------------------------------------------
# Resuming with --save-forecasts


def _summary_counts(capsys: pytest.CaptureFixture[str]) -> tuple[int, int]:
    """(computed, reused) from the run's summary line."""
    line = capsys.readouterr().out.strip().splitlines()[-1]
    computed = int(line.split(" configs computed")[0].rsplit(" ", 1)[-1])
    reused = int(line.split(" reused")[0].rsplit(", ", 1)[-1])
    return computed, reused


def test_save_forecasts_recomputes_exactly_the_finished_configs_without_a_file(
    data_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    datasets = ["--datasets", "ett1/H,m4_hourly"]  # 4 configs
    plain = [a for a in _run_argv(data_root, tmp_path) if a != "--save-forecasts"]
    folder = tmp_path / "gift-eval" / "seasonal-naive"
    assert main([*plain, *datasets]) == 0
    assert _summary_counts(capsys) == (4, 0)
    before = (folder / "all_results.csv").read_bytes()
    assert not (folder / "forecasts").exists()

    assert main([*_run_argv(data_root, tmp_path), *datasets]) == 0  # finished, but no forecasts: all again
    assert _summary_counts(capsys) == (4, 0)
    expected = sorted(c for c in GIFT_CONFIGS if c.split("/")[0] in ("ett1", "m4_hourly"))
    assert sorted(saved_configs(folder)) == expected
    assert (folder / "all_results.csv").read_bytes() == before

    assert main([*_run_argv(data_root, tmp_path), *datasets]) == 0  # everything stored: nothing to do
    assert _summary_counts(capsys) == (0, 4)
    forecasts_path(folder, "ett1/H/medium").unlink()
    assert main([*_run_argv(data_root, tmp_path), *datasets]) == 0  # only the config that lost its file
    assert _summary_counts(capsys) == (1, 3)
    assert (folder / "all_results.csv").read_bytes() == before
    assert main([*plain, *datasets]) == 0  # without the flag stored forecasts do not matter
    assert _summary_counts(capsys) == (0, 4)
