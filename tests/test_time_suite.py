"""``--suite time``: task table, window placement, per-window metrics, aggregation, TIME-Output files, board.

Oracle: zqiao11/TIME (``evaluation/data.py``: ``W = max(1, floor(L/H))``, windows from ``T − L`` at stride H;
``evaluation/metrics.py``: per (series, window, variate) metrics, MASE over the NaN-removed history, CRPS over
the window's own Σ|y|; ``scripts/compute_local_leaderboard.py``: nanmean per task, seasonal-naive
normalisation, NaN-ignoring gmean, ranks of raw values), as summarised in ``docs/time_lsf_protocol.md``.

Data are generated in the upstream layout (``save_to_disk`` folders with ``item_id, start, freq, target,
variate_names``; NaN kept) under real TIME config names: weekly multivariate items of different lengths with
NaN gaps and an all-NaN label window, business-day and monthly univariate series (a window whose history has
fewer than m + 1 observations, an all-zero label window), and daily data with all three terms.
"""

from __future__ import annotations

import io
import json
import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from toto_bench.adapters.base import QUANTILE_LEVELS, QuantileForecast
from toto_bench.adapters.statistical import SeasonalNaiveForecaster
from toto_bench.cli import main
from toto_bench.engine.runner import RunOptions, run_suite
from toto_bench.engine.tasks import seasonality
from toto_bench.metrics.per_window import TIME_METRIC_NAMES, time_seasonal_scale, time_window_metrics
from toto_bench.suites import get_suite
from toto_bench.suites.time import TIME_CONFIGS, time_config, time_cuts, time_windows

START = pd.Timestamp("2015-01-05")


def write_time_dataset(
    path: Path,
    targets: Sequence[np.ndarray],
    *,
    freq: str,
    variate_names: Sequence[str] | None = None,
) -> Path:
    """One ``Real-TSF/TIME`` folder: ``[T]`` (univariate) or ``[V, T]`` targets, float32, NaN kept."""
    import datasets

    multivariate = np.ndim(targets[0]) == 2
    value = datasets.Value("float32")
    fields = {
        "item_id": datasets.Value("string"),
        "start": datasets.Value("timestamp[s]"),
        "freq": datasets.Value("string"),
        "target": datasets.Sequence(datasets.Sequence(value) if multivariate else value),
    }
    rows: dict[str, list[object]] = {
        "item_id": [f"item_{i}" for i in range(len(targets))],
        "start": [START.to_datetime64().astype("datetime64[s]")] * len(targets),
        "freq": [freq] * len(targets),
        "target": [np.asarray(t, dtype=np.float32) for t in targets],
    }
    if multivariate:
        fields["variate_names"] = datasets.Sequence(datasets.Value("string"))
        rows["variate_names"] = [list(variate_names or [])] * len(targets)
    datasets.disable_progress_bars()
    datasets.Dataset.from_dict(rows, features=datasets.Features(fields)).save_to_disk(str(path))
    return path


def _signal(rng: np.random.Generator, length: int, period: int, level: float = 20.0) -> np.ndarray:
    t = np.arange(length)
    return (level + 5 * np.sin(2 * np.pi * t / period) + rng.normal(0, 1, length)).astype(np.float32)


DATASETS = {
    # name: (freq, m) ; tests below rely on these shapes
    "Port_Activity/W": ("W", 1),  # L 52, H 13 → 4 windows; 3 multivariate items (V=3) of different lengths
    "US_Term_Structure/B": ("B", 5),  # L 717, H 20 → 35 windows, the last 17 points never forecast
    "Housing_Inventory/M": ("M", 12),  # L 36, H 12 → 3 windows
    "SG_Weather/D": ("D", 1),  # L 366, H 3/7/14 → 122/52/26 windows
}


@pytest.fixture(scope="module")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(7)
    root = tmp_path_factory.mktemp("time")
    weekly = []
    for length in (120, 150, 181):
        x = np.stack([_signal(rng, length, 52, level=10 * (v + 1)) for v in range(3)])
        x[0, 20:26] = np.nan  # gap in the history of every window
        x[1, length - 40 : length - 37] = np.nan  # gap inside labels and later histories
        weekly.append(x)
    weekly[2][2, -52:-39] = np.nan  # variate 2 of item 2: first test window entirely NaN
    write_time_dataset(root / "Port_Activity" / "W", weekly, freq="W-SUN", variate_names=["a", "b", "c"])
    business = [_signal(rng, 900, 5), _signal(rng, 1000, 5)]
    business[1][100:130] = np.nan
    write_time_dataset(root / "US_Term_Structure" / "B", business, freq="B")
    monthly = [_signal(rng, 50, 12), _signal(rng, 80, 12), _signal(rng, 80, 12)]
    monthly[0][3:6] = np.nan  # window 0's history: 14 points, 11 observed <= m = 12 → MASE NaN
    monthly[2][-36:-24] = 0.0  # first test window: all-zero labels → CRPS/ND NaN
    write_time_dataset(root / "Housing_Inventory" / "M", monthly, freq="M")
    daily = [np.stack([_signal(rng, 420, 7), _signal(rng, 420, 7)])]
    daily[0][1, 30:33] = np.nan
    write_time_dataset(root / "SG_Weather" / "D", daily, freq="D", variate_names=["t", "rh"])
    return root


def _cli_run(root: Path, out: Path, model: str, *extra: str) -> int:
    argv = ["run", "--suite", "time", "--model", model, "--data-dir", str(root), "--output-dir", str(out)]
    return main([*argv, "--datasets", ",".join(DATASETS), "--no-progress", *extra])


@pytest.fixture(scope="module")
def runs(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("time_results")
    for model in ("seasonal-naive", "naive"):
        assert _cli_run(data_root, out, model) == 0
    return out


# ------------------------------------------------------------------------------------------------------
# The task table and the window rule


def test_the_table_has_50_configs_and_98_tasks() -> None:
    assert len(TIME_CONFIGS) == 50
    assert sum(len(c.terms) for c in TIME_CONFIGS) == 98
    assert sum(len(c.terms) == 3 for c in TIME_CONFIGS) == 24
    assert len(get_suite("time").configs()) == 98
    assert get_suite("time").configs()[0] == "Water_Quality_Darwin/15T/short"


@pytest.mark.parametrize(
    ("config", "term", "windows"),
    [
        ("SG_Weather/D", "medium", 52),  # floor(366 / 7); ceil would give 53
        ("SG_Weather/D", "long", 26),
        ("SG_PM25/H", "medium", 30),  # 2208 / 72 = 30.67
        ("SG_PM25/H", "long", 13),
        ("SG_Carpark/15T", "long", 1),
        ("US_Term_Structure/B", "short", 35),  # 717 / 20
        ("Uncertainty_1M/M", "short", 7),
    ],
)
def test_floor_rule(config: str, term: str, windows: int) -> None:
    c = time_config(config)
    assert time_windows(c.test_length, c.horizons[term]) == windows


SEASONALITIES = {"5T": 288, "10T": 144, "15T": 96, "20T": 72, "30T": 48, "H": 24, "D": 1, "B": 5}
SEASONALITIES |= {"W": 1, "W-SUN": 1, "M": 12, "Q": 4}


@pytest.mark.parametrize(("freq", "m"), list(SEASONALITIES.items()))
def test_seasonality_is_gluonts_get_seasonality(freq: str, m: int) -> None:
    assert seasonality(freq) == m


def test_windows_start_at_T_minus_L_with_stride_H() -> None:
    # 717 / 20 → 35 windows from T − 717; the last 17 steps are never forecast
    cuts = time_cuts(1000, 717, 20, 35)
    assert cuts[0] == 283 and np.all(np.diff(cuts) == 20)
    assert cuts[-1] + 20 == 1000 - 17
    with pytest.raises(ValueError, match="no context"):
        time_cuts(717, 717, 20, 35)


class Recorder:
    """A multivariate list-API model that records its contexts and forecasts the last value."""

    name = "recorder"
    supports_multivariate: ClassVar[bool] = True
    context_length = None

    def __init__(self) -> None:
        self.lengths: list[int] = []
        self.variates: list[int] = []

    def predict(
        self, contexts: list[np.ndarray], horizon: int, *, freq: str, seasonality: int
    ) -> QuantileForecast:
        self.lengths += [c.shape[1] for c in contexts]
        self.variates += [c.shape[0] for c in contexts]
        last = np.stack([c[:, -1] for c in contexts])[:, :, None, None]
        q = np.broadcast_to(last, (len(contexts), contexts[0].shape[0], horizon, 9)).astype(np.float32)
        return QuantileForecast(np.nan_to_num(q))


def test_every_series_and_variate_is_windowed_from_its_own_end(data_root: Path, tmp_path: Path) -> None:
    model = Recorder()
    options = RunOptions(
        datasets=["Port_Activity/W"], output_dir=tmp_path, data_dir=data_root, progress=False
    )
    run_suite(get_suite("time"), "recorder", lambda: model, options)
    # 3 items of lengths 120/150/181, L = 52, H = 13 → W = 4 windows each, whole history as context
    expected = [t - 52 + 13 * k for t in (120, 150, 181) for k in range(4)]
    assert model.lengths == expected
    assert set(model.variates) == {3}  # multivariate model: whole items
    row = pd.read_csv(tmp_path / "time" / "recorder" / "all_results.csv").iloc[0]
    assert (row["num_series"], row["num_windows"], row["num_variates"]) == (3, 4, 3)


# ------------------------------------------------------------------------------------------------------
# Per-window metrics by hand


def test_seasonal_scale_drops_nans_before_differencing() -> None:
    x = np.array([[1.0, np.nan, 3.0, 4.0, np.nan, 8.0]])
    cuts = np.array([2, 3, 6])
    # histories: [1] (1 observation <= m: NaN), [1, 3] → |3-1| = 2, [1, 3, 4, 8] → (2 + 1 + 4) / 3
    np.testing.assert_allclose(time_seasonal_scale(x, cuts, 1)[:, 0], [np.nan, 2.0, 7 / 3])
    # m = 2 on [1, 3, 4, 8]: |4 - 1| and |8 - 3| → 4; [1, 3] has 2 <= m observations → NaN
    np.testing.assert_allclose(time_seasonal_scale(x, cuts, 2)[:, 0], [np.nan, np.nan, 4.0])


def test_window_metrics_hand_computed() -> None:
    levels = QUANTILE_LEVELS
    label = np.array([[[2.0, np.nan, 4.0]], [[0.0, 0.0, 0.0]], [[np.nan, np.nan, np.nan]]])  # [3, 1, 3]
    q = np.zeros((3, 1, 3, 9))
    q[0, 0] = np.array([1.0, 5.0, 5.0])[:, None]  # every quantile = [1, 5, 5]
    q[1, 0] = 1.0
    scale = np.array([[0.5], [2.0], [1.0]])
    m = time_window_metrics(label, q, levels, scale)
    # window 0: valid steps 0 and 2, errors +1 and -1, Σ|y| = 6
    assert m["MAE"][0, 0] == 1.0 and m["MSE"][0, 0] == 1.0 and m["RMSE"][0, 0] == 1.0
    assert m["MASE"][0, 0] == pytest.approx(2.0)  # MAE / scale
    assert m["MAPE"][0, 0] == pytest.approx((1 / 2 + 1 / 4) / 2)
    assert m["sMAPE"][0, 0] == pytest.approx((2 / 3 + 2 / 9) / 2)
    assert m["ND"][0, 0] == pytest.approx(2 / 6)
    # each level τ: 2|(2-1)(0-τ)| + 2|(4-5)(1-τ)| = 2 → / Σ|y| = 1/3 for every τ
    assert m["CRPS"][0, 0] == pytest.approx(1 / 3)
    # window 1: all-zero labels → Σ|y| = 0 → CRPS and ND NaN, MAPE NaN (only non-finite terms); MASE = 1/2
    assert math.isnan(m["CRPS"][1, 0]) and math.isnan(m["ND"][1, 0]) and math.isnan(m["MAPE"][1, 0])
    assert m["MAE"][1, 0] == 1.0 and m["MASE"][1, 0] == pytest.approx(0.5)
    # window 2: no valid label → everything NaN
    assert all(math.isnan(m[name][2, 0]) for name in TIME_METRIC_NAMES)


def test_crps_is_normalised_per_window_not_pooled() -> None:
    # two windows with very different scales: TIME averages the two normalised values
    label = np.array([[[1.0, 1.0]], [[100.0, 100.0]]])
    q = np.zeros((2, 1, 2, 9))
    q[0] += 2.0  # error 1 per step on a window with Σ|y| = 2
    q[1] += 101.0  # error 1 per step on a window with Σ|y| = 200
    crps = time_window_metrics(label, q, QUANTILE_LEVELS, np.ones((2, 1)))["CRPS"][:, 0]
    per_level = np.array([2 * 2 * (1 - t) for t in QUANTILE_LEVELS])  # forecast above the label
    np.testing.assert_allclose(crps, [per_level.mean() / 2, per_level.mean() / 200])
    pooled = per_level.mean() * 2 / 202
    assert np.nanmean(crps) == pytest.approx((per_level.mean() / 2 + per_level.mean() / 200) / 2)
    assert np.nanmean(crps) != pytest.approx(pooled)


# ------------------------------------------------------------------------------------------------------
# End to end against an independent per-window transcription


def _reference_window(gt: np.ndarray, q: np.ndarray, ctx: np.ndarray, m: int) -> dict[str, float]:
    """zqiao11/TIME's per-window loop for one (series, window, variate): gt [H], q [9, H], ctx [t]."""
    ctx = ctx[~np.isnan(ctx)]
    valid = ~np.isnan(gt)
    if not valid.any():
        return dict.fromkeys(TIME_METRIC_NAMES, np.nan)
    gt, q = gt[valid], q[:, valid]
    median = q[4]
    err = gt - median
    out = {"MSE": np.mean(err**2), "MAE": np.mean(np.abs(err))}
    out["RMSE"] = np.sqrt(out["MSE"])
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ape = np.abs(err) / np.abs(gt)
        out["MAPE"] = np.nanmean(np.where(np.isfinite(ape), ape, np.nan))
        sape = 2 * np.abs(err) / (np.abs(gt) + np.abs(median))
        out["sMAPE"] = np.nanmean(np.where(np.isfinite(sape), sape, np.nan))
    if len(ctx) > m:
        scale = np.mean(np.abs(ctx[m:] - ctx[:-m]))
        out["MASE"] = out["MAE"] / scale if scale > 0 else np.nan
    else:
        out["MASE"] = np.nan
    total = np.sum(np.abs(gt))
    out["ND"] = np.sum(np.abs(err)) / total if total > 0 else np.nan
    if total > 0:
        losses = [
            np.sum(2 * np.abs((gt - f) * ((f >= gt) - tau))) / total
            for tau, f in zip(QUANTILE_LEVELS, q, strict=True)
        ]
        out["CRPS"] = np.mean(losses)
    else:
        out["CRPS"] = np.nan
    return out


def _reference(root: Path, storage: str, term: str) -> dict[str, np.ndarray]:
    """Independent placement (T − L + kH) + seasonal-naive forecasts of explicit context copies."""
    import datasets

    c = time_config(storage)
    horizon = c.horizons[term]
    windows = max(1, math.floor(c.test_length / horizon))
    table = datasets.load_from_disk(str(root / storage)).with_format("numpy")
    m = seasonality(str(table[0]["freq"]))
    model = SeasonalNaiveForecaster(all_nan="zero")
    arrays = []
    for row in table:
        x = np.asarray(row["target"], dtype=np.float32)
        x = x[None, :] if x.ndim == 1 else x
        per_series = np.full((windows, x.shape[0], len(TIME_METRIC_NAMES)), np.nan)
        for k in range(windows):
            cut = x.shape[1] - c.test_length + k * horizon
            for v in range(x.shape[0]):
                ctx = x[v : v + 1, :cut].copy()
                q = model.predict([ctx], horizon, freq="x", seasonality=m).quantiles[0, 0]  # [H, 9]
                gt = x[v, cut : cut + horizon].astype(np.float64)
                vals = _reference_window(gt, q.T.astype(np.float64), ctx[0].astype(np.float64), m)
                per_series[k, v] = [vals[n] for n in TIME_METRIC_NAMES]
        arrays.append(per_series)
    stacked = np.stack(arrays)  # [S, W, V, metric]
    return {name: stacked[..., j] for j, name in enumerate(TIME_METRIC_NAMES)}


@pytest.mark.parametrize(
    ("storage", "term"),
    [
        ("Port_Activity/W", "short"),
        ("US_Term_Structure/B", "short"),
        ("Housing_Inventory/M", "short"),
        ("SG_Weather/D", "short"),
        ("SG_Weather/D", "medium"),
        ("SG_Weather/D", "long"),
    ],
)
def test_per_window_arrays_and_task_means_match_the_reference(
    data_root: Path, runs: Path, storage: str, term: str
) -> None:
    ref = _reference(data_root, storage, term)
    folder = runs / "time" / "seasonal-naive" / storage / term
    with np.load(folder / "metrics.npz") as npz:
        assert list(npz.files) == list(TIME_METRIC_NAMES)
        for name in TIME_METRIC_NAMES:
            np.testing.assert_allclose(npz[name], ref[name], rtol=1e-9, atol=0, equal_nan=True, err_msg=name)
    config = json.loads((folder / "config.json").read_text())
    shape = ref["MASE"].shape
    assert config["dataset_config"] == f"{storage}/{term}"
    assert (config["num_series"], config["num_windows"], config["num_variates"]) == shape
    assert config["quantile_levels"] == list(QUANTILE_LEVELS) and config["metric_names"] == list(
        TIME_METRIC_NAMES
    )
    row = pd.read_csv(runs / "time" / "seasonal-naive" / "all_results.csv").set_index("dataset")
    row = row.loc[f"{storage}/{term}"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for name in TIME_METRIC_NAMES:
            assert row[name] == pytest.approx(float(np.nanmean(ref[name])), rel=1e-9, nan_ok=True), name


def test_edge_windows_are_nan_where_upstream_is(runs: Path) -> None:
    base = runs / "time" / "seasonal-naive"
    with np.load(base / "Port_Activity" / "W" / "short" / "metrics.npz") as npz:
        assert np.isnan(npz["CRPS"][2, 0, 2]) and np.isnan(npz["MASE"][2, 0, 2])  # all-NaN label window
        assert np.isfinite(npz["CRPS"][0, :, :]).all()
    with np.load(base / "Housing_Inventory" / "M" / "short" / "metrics.npz") as npz:
        # series 0: window 0's history has 11 <= m = 12 observations → MASE NaN, CRPS finite
        assert np.isnan(npz["MASE"][0, 0, 0]) and np.isfinite(npz["CRPS"][0, 0, 0])
        assert np.isnan(npz["CRPS"][2, 0, 0]) and np.isfinite(npz["MAE"][2, 0, 0])  # all-zero labels


def test_univariate_and_multivariate_models_score_the_same(data_root: Path, tmp_path: Path) -> None:
    class Multi(SeasonalNaiveForecaster):
        supports_multivariate: ClassVar[bool] = True

        def predict_prefixes(self, *args: object, **kwargs: object) -> QuantileForecast:  # list API only
            raise AssertionError("not used")

    del Multi.predict_prefixes  # plain list-API model that takes whole [V, t] items
    suite = get_suite("time")
    options = RunOptions(
        datasets=["Port_Activity/W"], output_dir=tmp_path, data_dir=data_root, progress=False
    )
    run_suite(suite, "multi", lambda: Multi(all_nan="zero"), options)
    run_suite(suite, "uni", lambda: SeasonalNaiveForecaster(all_nan="zero"), options)
    multi = pd.read_csv(tmp_path / "time" / "multi" / "all_results.csv")
    uni = pd.read_csv(tmp_path / "time" / "uni" / "all_results.csv")
    cols = list(TIME_METRIC_NAMES)
    np.testing.assert_allclose(multi[cols].to_numpy(), uni[cols].to_numpy(), rtol=1e-12)


# ------------------------------------------------------------------------------------------------------
# Results layout, board, errors


def test_run_folder_is_a_time_output_results_tree(runs: Path) -> None:
    base = runs / "time" / "seasonal-naive"
    files = sorted(str(p.relative_to(base)) for p in base.glob("*/*/*/metrics.npz"))
    assert files == sorted(
        [f"{name}/short/metrics.npz" for name in DATASETS]
        + ["SG_Weather/D/medium/metrics.npz", "SG_Weather/D/long/metrics.npz"]
    )
    frame = pd.read_csv(base / "all_results.csv")
    assert list(frame.columns[:4]) == ["dataset", "model", "MASE", "CRPS"]
    assert len(frame) == 6


def test_time_board_normalises_by_seasonal_naive(runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = runs / "time"
    assert main(["leaderboard", "--suite", "time", "--results-dir", str(results), "--format", "csv"]) == 0
    board = pd.read_csv(io.StringIO(capsys.readouterr().out)).set_index("model")
    sn = pd.read_csv(results / "seasonal-naive" / "all_results.csv").set_index("dataset")
    nv = pd.read_csv(results / "naive" / "all_results.csv").set_index("dataset")
    for metric in ("MASE", "CRPS"):
        ratio = (nv[metric] / sn[metric]).to_numpy()
        expected = float(np.exp(np.mean(np.log(ratio[np.isfinite(ratio)]))))
        assert board.loc["naive", f"{metric} (norm.)"] == pytest.approx(expected, abs=5e-4)  # 3 decimals
        assert board.loc["seasonal-naive", f"{metric} (norm.)"] == 1.0
        # ranks of the raw task values, averaged over tasks
        naive_rank = 1 + (nv[metric] > sn[metric]).mean()
        assert board.loc["naive", f"{metric}_rank"] == pytest.approx(naive_rank, abs=5e-4)


def test_published_time_output_seasonal_naive_is_the_normaliser(runs: Path, tmp_path: Path) -> None:
    from toto_bench.boards.document import compute_board

    published = tmp_path / "TIME-Output" / "results" / "seasonal_naive"
    for src in (runs / "time" / "seasonal-naive").glob("*/*/*/metrics.npz"):
        dst = published / src.relative_to(runs / "time" / "seasonal-naive")
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(src.read_bytes())
    ours = tmp_path / "ours"
    (ours / "naive").mkdir(parents=True)
    (ours / "naive" / "all_results.csv").write_bytes(
        (runs / "time" / "naive" / "all_results.csv").read_bytes()
    )
    board = compute_board("time", [published.parent, ours]).table.set_index("model")
    direct = compute_board("time", [runs / "time"]).table.set_index("model")
    assert board.loc["seasonal_naive", "MASE (norm.)"] == 1.0
    assert board.loc["naive", "MASE (norm.)"] == pytest.approx(direct.loc["naive", "MASE (norm.)"], rel=1e-12)


def test_time_dataset_env_var_and_missing_folder(
    data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TIME_DATASET", str(data_root))
    argv = ["run", "--suite", "time", "--model", "naive", "--datasets", "Housing_Inventory/M"]
    assert main([*argv, "--output-dir", str(tmp_path), "--no-progress"]) == 0
    assert (tmp_path / "time" / "naive" / "Housing_Inventory" / "M" / "short" / "metrics.npz").is_file()
    monkeypatch.setenv("TIME_DATASET", str(tmp_path / "nowhere"))
    argv = [
        "run",
        "--suite",
        "time",
        "--model",
        "naive",
        "--datasets",
        "JOLTS/M",
        "--output-dir",
        str(tmp_path),
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "'JOLTS/M'" in err and "Real-TSF/TIME" in err and "$TIME_DATASET" in err


def test_series_not_longer_than_the_test_length_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(0)
    write_time_dataset(tmp_path / "d" / "JOLTS" / "M", [_signal(rng, 80, 12), _signal(rng, 60, 12)], freq="M")
    argv = ["run", "--suite", "time", "--model", "naive", "--data-dir", str(tmp_path / "d")]
    assert main([*argv, "--datasets", "JOLTS/M", "--output-dir", str(tmp_path / "o"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "'item_1'" in err and "60" in err and "test length 60" in err
    assert not list((tmp_path / "o").rglob("all_results.csv"))


def test_frequency_disagreeing_with_the_config_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(0)
    write_time_dataset(tmp_path / "d" / "JOLTS" / "M", [_signal(rng, 80, 12)], freq="D")
    argv = ["run", "--suite", "time", "--model", "naive", "--data-dir", str(tmp_path / "d")]
    assert main([*argv, "--datasets", "JOLTS/M", "--output-dir", str(tmp_path / "o"), "--no-progress"]) == 2
    assert "'D'" in capsys.readouterr().err


def test_nan_forecasts_fail_unless_allowed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # 9 points of history < m = 12: statsforecast's seasonal naive has no value for some steps (NaN)
    rng = np.random.default_rng(1)
    write_time_dataset(tmp_path / "d" / "Housing_Inventory" / "M", [_signal(rng, 45, 12)], freq="M")
    argv = ["run", "--suite", "time", "--model", "seasonal-naive", "--data-dir", str(tmp_path / "d")]
    argv += ["--datasets", "Housing_Inventory/M", "--output-dir", str(tmp_path / "o"), "--no-progress"]
    assert main(argv) == 2
    assert "--allow-nan-forecast" in capsys.readouterr().err
    assert main([*argv, "--allow-nan-forecast"]) == 0  # as upstream: NaN metrics, left out of the mean
    run = tmp_path / "o" / "time" / "seasonal-naive"
    with np.load(run / "Housing_Inventory" / "M" / "short" / "metrics.npz") as z:
        crps = z["CRPS"]
    assert np.isnan(crps[0, 0, 0]) and np.isfinite(crps[0, 1:, 0]).all()
    row = pd.read_csv(run / "all_results.csv").iloc[0]
    assert row["CRPS"] == pytest.approx(float(np.nanmean(crps)))
