"""The statistical baselines against statsforecast itself, on real GIFT-Eval series.

The oracle is what the GIFT-Eval wrapper (gift-eval notebooks/naive.ipynb) computes: float32 context, gluonts
``LastValueImputation`` for NaN, statsforecast ``SeasonalNaive``/``Naive`` intervals read out at the nine
quantile levels (q=0.5 is the point forecast: statsforecast 2.1 rejects level 0).
"""

from __future__ import annotations

import csv
import os
import sys
import warnings
from functools import cache
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from toto_bench.adapters.base import QUANTILE_LEVELS, Forecaster, PrefixForecaster, QuantileForecast
from toto_bench.adapters.registry import available_models, build_model
from toto_bench.adapters.statistical import (
    AutoStatsForecaster,
    NaiveForecaster,
    SeasonalNaiveForecaster,
    exploding_intervals,
    interval_columns,
    last_value_imputation,
)

sf_models = pytest.importorskip(
    "statsforecast.models", reason="statsforecast is the oracle: pip install statsforecast"
)
gluonts_feature = pytest.importorskip("gluonts.transform.feature", reason="gluonts is the imputation oracle")

DATA = Path(os.environ.get("TOTO_BENCH_SHARED_DATA", "/work/shared/data"))
needs_data = pytest.mark.skipif(
    not DATA.is_dir(), reason=f"shared raw data not found at {DATA} (set TOTO_BENCH_SHARED_DATA)"
)

SF_LEVELS = [20, 40, 60, 80]


# ----------------------------------------------------------------------------------------------------------
# Oracle


def gluonts_impute(y: np.ndarray) -> np.ndarray:
    """The wrapper's preprocessing of one univariate context."""
    y = np.asarray(y, np.float32)
    if np.isnan(y).any():
        y = gluonts_feature.LastValueImputation()(y.copy())
    return y


def oracle(model_name: str, y: np.ndarray, horizon: int, season: int) -> tuple[np.ndarray, np.ndarray]:
    """statsforecast on one (imputed) float32 series → ``(mean [H], quantiles [H, 9])`` in float32."""
    model = (
        sf_models.SeasonalNaive(season_length=season) if model_name == "seasonal-naive" else sf_models.Naive()
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Historical data shorter than season_length"
        res = model.forecast(y=gluonts_impute(y), h=horizon, level=SF_LEVELS)
    cols = [res["mean"] if level == 0 else res[f"{side}-{level}"] for level, side in interval_columns()]
    return np.asarray(res["mean"], np.float32), np.stack(cols, axis=-1).astype(np.float32)


def assert_matches_oracle(
    fc: QuantileForecast, contexts: list[np.ndarray], model_name: str, horizon: int, season: int
) -> None:
    assert fc.quantiles.dtype == np.float32 and fc.mean is not None and fc.mean.dtype == np.float32
    assert fc.quantiles.shape == (len(contexts), contexts[0].shape[0], horizon, 9)
    for i, ctx in enumerate(contexts):
        for v in range(ctx.shape[0]):
            mean, q = oracle(model_name, ctx[v], horizon, season)
            np.testing.assert_array_equal(fc.mean[i, v], mean)  # the point forecast is a copy: exact
            np.testing.assert_allclose(fc.quantiles[i, v], q, rtol=1e-6, atol=0, equal_nan=True)


# ----------------------------------------------------------------------------------------------------------
# Real data (read in place)


@cache
def m4_hourly() -> list[np.ndarray]:
    with open(DATA / "m4" / "Hourly-train.csv", newline="") as fh:
        rows = list(csv.reader(fh))[1:]
    return [np.array([float(v) for v in row[1:] if v != ""], dtype=np.float32) for row in rows]


@cache
def ettm1() -> np.ndarray:
    """``[7, 69680]`` float32 (the ett1/15T target)."""
    df = pd.read_csv(DATA / "lsf" / "ETT-small" / "ETTm1.csv")
    return np.ascontiguousarray(df.drop(columns="date").to_numpy(np.float64).T.astype(np.float32))


def gift_cuts(length: int, horizon: int, windows: int) -> np.ndarray:
    return length - horizon * np.arange(windows, 0, -1)


@needs_data
@pytest.mark.parametrize("name", ["seasonal-naive", "naive"])
def test_m4_hourly_matches_statsforecast(name: str) -> None:
    series = m4_hourly()
    contexts = [y[None, :] for y in series]
    fc = build_model(name).predict(contexts, 48, freq="H", seasonality=24)
    assert_matches_oracle(fc, contexts, name, 48, 24)
    # Bit-identical in practice: only the normal quantile differs (NormalDist vs scipy's ndtri, <= 2 ulp of
    # float64), which flips a float32 rounding about once per million values (none on M4 hourly today).
    ref = np.stack([oracle(name, y, 48, 24)[1] for y in series])
    assert np.mean(fc.quantiles[:, 0] != ref) <= 1e-4


@needs_data
def test_m4_hourly_direct_forecast_equals_the_statsforecast_pipeline() -> None:
    """The oracle (model.forecast on float32 y) equals StatsForecast.forecast on the wrapper's DataFrame."""
    from statsforecast import StatsForecast

    series = m4_hourly()[:8]
    df = pd.concat(
        pd.DataFrame(
            {"unique_id": f"H{i}", "ds": pd.date_range("2015-01-01", periods=len(y), freq="h"), "y": y}
        )
        for i, y in enumerate(series)
    )
    sf = StatsForecast(
        models=[sf_models.SeasonalNaive(season_length=24)],
        freq="h",
        fallback_model=sf_models.SeasonalNaive(season_length=24),
        n_jobs=1,
    )
    out = sf.forecast(df=df, h=48, level=SF_LEVELS)
    fc = SeasonalNaiveForecaster().predict([y[None] for y in series], 48, freq="H", seasonality=24)
    for i in range(len(series)):
        rows = out[out["unique_id"] == f"H{i}"]
        cols = [
            "SeasonalNaive" if level == 0 else f"SeasonalNaive-{side}-{level}"
            for level, side in interval_columns()
        ]
        np.testing.assert_array_equal(fc.quantiles[i, 0], rows[cols].to_numpy())
        np.testing.assert_array_equal(fc.mean[i, 0], rows["SeasonalNaive"].to_numpy())


@needs_data
@pytest.mark.parametrize(("horizon", "windows"), [(48, 20), (480, 3)])
def test_ettm1_prefixes_match_statsforecast_and_predict(horizon: int, windows: int) -> None:
    series = ettm1()
    cuts = gift_cuts(series.shape[1], horizon, windows)
    for model in (SeasonalNaiveForecaster(), NaiveForecaster()):
        fast = model.predict_prefixes(series, cuts, horizon, freq="15T", seasonality=96)
        slow = model.predict([series[:, :c] for c in cuts], horizon, freq="15T", seasonality=96)
        np.testing.assert_array_equal(fast.quantiles, slow.quantiles)
        np.testing.assert_array_equal(fast.mean, slow.mean)
        # the oracle is per series: check the first and last window of all 7 columns
        picked = [0, windows - 1]
        sub = QuantileForecast(quantiles=fast.quantiles[picked], mean=fast.mean[picked])
        assert_matches_oracle(sub, [series[:, : cuts[w]] for w in picked], model.name, horizon, 96)


@needs_data
def test_ettm1_boom_context_length_truncates_before_imputing() -> None:
    """BOOM's seasonal naive keeps the last 2048 points; leading NaN then take the window's first value."""
    series = ettm1()[:2, -6000:].copy()
    series[0, 6000 - 2048 - 10 : 6000 - 2048 + 5] = np.nan  # a gap straddling the truncation boundary
    series[1, 4000:4100] = np.nan
    model = SeasonalNaiveForecaster(context_length=2048)
    cuts = np.array([6000 - 96, 6000])
    fast = model.predict_prefixes(series, cuts, 96, freq="15T", seasonality=96)
    slow = model.predict([series[:, :c] for c in cuts], 96, freq="15T", seasonality=96)
    np.testing.assert_array_equal(fast.quantiles, slow.quantiles)
    assert_matches_oracle(slow, [series[:, c - 2048 : c] for c in cuts], "seasonal-naive", 96, 96)
    # ... which differs from imputing the full history first (the leading gap would take the earlier value).
    untruncated_fill = gluonts_impute(series[0, :6000])[-2048:]
    assert not np.array_equal(untruncated_fill, gluonts_impute(series[0, -2048:]))


# ----------------------------------------------------------------------------------------------------------
# NaN gaps (generated)


def gappy_series(seed: int, length: int = 700, season: int = 24) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    y = (10 * np.sin(2 * np.pi * t / season) + rng.normal(0, 2, length) + 0.01 * t).astype(np.float32)
    y[:7] = np.nan  # leading NaNs
    for start in rng.integers(10, length - 40, 8):
        y[start : start + rng.integers(1, 30)] = np.nan  # gaps, some longer than a season
    y[-3:] = np.nan  # trailing NaNs: the last value carries forward
    return y


@pytest.mark.parametrize("name", ["seasonal-naive", "naive"])
def test_nan_gaps_match_gluonts_imputation_then_statsforecast(name: str) -> None:
    series = np.stack([gappy_series(s) for s in range(3)])
    model = build_model(name)
    assert isinstance(model, PrefixForecaster)
    cuts = np.array([8, 30, 100, 101, 355, 600, 697, 700])  # cuts inside gaps and in the trailing NaN run
    fast = model.predict_prefixes(series, cuts, 36, freq="H", seasonality=24)
    contexts = [series[:, :c] for c in cuts]
    slow = model.predict(contexts, 36, freq="H", seasonality=24)
    np.testing.assert_array_equal(fast.quantiles, slow.quantiles)
    np.testing.assert_array_equal(fast.mean, slow.mean)
    assert_matches_oracle(fast, contexts, name, 36, 24)


def test_last_value_imputation_equals_gluonts() -> None:
    rows = np.stack([gappy_series(s, 200) for s in range(5)])
    rows[4] = 3.0  # a row without NaN
    ours = last_value_imputation(rows)
    for i in range(rows.shape[0]):
        np.testing.assert_array_equal(ours[i], gluonts_impute(rows[i]))
    assert ours.dtype == np.float32 and not np.isnan(rows[4]).any()


@pytest.mark.parametrize("name", ["seasonal-naive", "naive"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_truncated_prefixes_in_one_block_match_per_window_imputation_then_statsforecast(
    name: str, seed: int
) -> None:
    """With a context length (BOOM: 2048) the full-length windows are imputed and forecast as one block:
    each window still sees only its own last L points, with gaps straddling the window starts, windows that
    are entirely NaN (gluonts: zeros) and prefixes shorter than L in the same call."""
    length, context = 700, 96
    series = np.stack([gappy_series(seed, length), gappy_series(seed + 10, length)])
    series[0, 300:420] = np.nan  # a whole window of NaN: the cut at 420 sees none of the data before
    series[1, 500 - context - 3 : 500 - context + 4] = np.nan  # a gap across the window start of cut 500
    cuts = np.array([50, 96, 97, 420, 500, 643, 700])
    model = build_model(name, context_length=context)  # all_nan="zero", the registered default
    fast = model.predict_prefixes(series, cuts, 36, freq="H", seasonality=24)
    contexts = [series[:, :c] for c in cuts]
    slow = model.predict(contexts, 36, freq="H", seasonality=24)
    np.testing.assert_array_equal(fast.quantiles, slow.quantiles)
    np.testing.assert_array_equal(fast.mean, slow.mean)
    windows = [series[:, max(0, c - context) : c] for c in cuts]
    assert np.isnan(windows[3][0]).all()  # the all-NaN window is really in the test
    ok = [w for w in range(len(cuts)) if w != 3]  # gluonts imputes the all-NaN one to zeros, checked below
    sub = QuantileForecast(quantiles=fast.quantiles[ok], mean=fast.mean[ok])
    assert_matches_oracle(sub, [windows[w] for w in ok], name, 36, 24)
    zeros = np.zeros((1, context), np.float32)
    expected = build_model(name).predict([zeros], 36, freq="H", seasonality=24)
    np.testing.assert_array_equal(fast.quantiles[3, 0], expected.quantiles[0, 0])


def test_truncated_prefixes_still_refuse_an_all_nan_window_when_asked_to() -> None:
    series = gappy_series(0, 300)[None, :].copy()
    series[0, 150:250] = np.nan
    model = SeasonalNaiveForecaster(context_length=96, all_nan="raise")
    with pytest.raises(ValueError, match="entirely NaN"):
        model.predict_prefixes(series, np.array([120, 250, 300]), 12, freq="H", seasonality=24)


# ----------------------------------------------------------------------------------------------------------
# Edge cases


@pytest.mark.parametrize("name", ["seasonal-naive", "naive"])
@pytest.mark.parametrize("length", [1, 2, 5, 23, 24, 25, 47, 48])
def test_short_contexts_match_statsforecast(name: str, length: int) -> None:
    """statsforecast 2.1 right-aligns a context shorter than the season: steps without an observation are NaN,
    sigma is 0 while n <= m."""
    y = gappy_series(1, 60)[10 : 10 + length].copy()
    y[~np.isfinite(y)] = 1.5
    contexts = [y[None, :]]
    fc = build_model(name).predict(contexts, 50, freq="H", seasonality=24)
    assert_matches_oracle(fc, contexts, name, 50, 24)
    if name == "seasonal-naive" and length < 24:
        assert fc.mean is not None
        assert np.isnan(fc.mean[0, 0]).sum() == sum(h % 24 < 24 - length for h in range(50))
        assert np.array_equal(fc.mean[0, 0, 24 - length : 24], y)
    if length <= (24 if name == "seasonal-naive" else 1):  # sigma = 0: every quantile is the point forecast
        assert fc.mean is not None
        np.testing.assert_array_equal(fc.quantiles[0, 0], np.repeat(fc.mean[0, 0][:, None], 9, axis=1))


def test_short_prefixes_equal_predict() -> None:
    series = np.stack([gappy_series(5, 120), gappy_series(6, 120)])
    series[:, :7] = 2.0  # no leading NaN so that every prefix is valid
    cuts = np.arange(1, 121, 7)
    for model in (SeasonalNaiveForecaster(), NaiveForecaster()):
        fast = model.predict_prefixes(series, cuts, 30, freq="H", seasonality=24)
        slow = model.predict([series[:, :c] for c in cuts], 30, freq="H", seasonality=24)
        np.testing.assert_array_equal(fast.quantiles, slow.quantiles)
        np.testing.assert_array_equal(fast.mean, slow.mean)


def test_length_one_and_constant_contexts() -> None:
    one = [np.array([[4.25]], np.float32)]
    naive = NaiveForecaster().predict(one, 5, freq="D", seasonality=1)
    np.testing.assert_array_equal(naive.quantiles, np.full((1, 1, 5, 9), 4.25, np.float32))
    snaive = SeasonalNaiveForecaster().predict(one, 5, freq="D", seasonality=1)
    np.testing.assert_array_equal(snaive.quantiles, naive.quantiles)

    const = [np.full((2, 300), -7.5, np.float32)]
    for model in (SeasonalNaiveForecaster(), NaiveForecaster()):
        fc = model.predict(const, 40, freq="H", seasonality=24)
        np.testing.assert_array_equal(fc.quantiles, np.full((1, 2, 40, 9), -7.5, np.float32))
        np.testing.assert_array_equal(fc.mean, np.full((1, 2, 40), -7.5, np.float32))


def test_all_nan_context_raises_unless_zero_policy() -> None:
    ctx = np.stack([np.arange(50, dtype=np.float32), np.full(50, np.nan, np.float32)])
    with pytest.raises(ValueError, match="entirely NaN"):
        SeasonalNaiveForecaster().predict([ctx], 10, freq="H", seasonality=24)
    with pytest.raises(ValueError, match="entirely NaN"):  # a prefix inside the leading NaN run
        SeasonalNaiveForecaster().predict_prefixes(
            gappy_series(0)[None], np.array([5, 100]), 10, freq="H", seasonality=24
        )
    with pytest.raises(ValueError, match="entirely NaN"):
        NaiveForecaster().predict([np.array([[np.nan]], np.float32)], 3, freq="H", seasonality=24)
    # gluonts' LastValueImputation turns an all-NaN series into zeros; all_nan="zero" reproduces it.
    fc = SeasonalNaiveForecaster(all_nan="zero").predict([ctx], 10, freq="H", seasonality=24)
    np.testing.assert_array_equal(fc.quantiles[0, 1], oracle("seasonal-naive", ctx[1], 10, 24)[1])
    np.testing.assert_array_equal(fc.quantiles[0, 1], np.zeros((10, 9), np.float32))
    fast = SeasonalNaiveForecaster(all_nan="zero").predict_prefixes(
        ctx, np.array([20, 50]), 10, freq="H", seasonality=24
    )
    assert np.array_equal(fast.quantiles[1], fc.quantiles[0])


def test_invalid_arguments() -> None:
    model = SeasonalNaiveForecaster()
    ctx = np.ones((1, 30), np.float32)
    with pytest.raises(ValueError, match="horizon"):
        model.predict([ctx], 0, freq="H", seasonality=24)
    with pytest.raises(ValueError, match="cut"):
        model.predict_prefixes(ctx, np.array([0, 10]), 5, freq="H", seasonality=24)
    with pytest.raises(ValueError, match="cut"):
        model.predict_prefixes(ctx, np.array([31]), 5, freq="H", seasonality=24)
    with pytest.raises(ValueError, match=r"context( \d+)? is empty"):
        model.predict([np.ones((1, 0), np.float32)], 5, freq="H", seasonality=24)
    with pytest.raises(ValueError, match="same number of variates"):
        model.predict([ctx, np.ones((2, 30), np.float32)], 5, freq="H", seasonality=24)


def test_registry_and_protocols() -> None:
    models = available_models()
    for name in ("seasonal-naive", "naive", "auto-arima", "auto-ets", "auto-theta"):
        assert models[name].family == "statistical"
    for name in ("seasonal-naive", "naive"):
        model = build_model(name)
        assert isinstance(model, Forecaster) and isinstance(model, PrefixForecaster)
        assert model.name == name and model.context_length is None and not model.supports_multivariate
    assert build_model("seasonal-naive", context_length=2048).context_length == 2048
    assert [lv for lv, _ in interval_columns()] == [80, 60, 40, 20, 0, 20, 40, 60, 80]
    assert len(QUANTILE_LEVELS) == 9


# ----------------------------------------------------------------------------------------------------------
# Auto models (tiny)


def seasonal_contexts(n: int, length: int, season: int, seed: int = 0, n_var: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    return [
        (5 * np.sin(2 * np.pi * t / season) + rng.normal(0, 1, (n_var, length)) + 20).astype(np.float32)
        for _ in range(n)
    ]


def check_forecast(fc: QuantileForecast, n: int, n_var: int, horizon: int) -> None:
    assert fc.quantiles.shape == (n, n_var, horizon, 9) and fc.quantiles.dtype == np.float32
    assert fc.mean is not None and fc.mean.shape == (n, n_var, horizon)
    assert np.isfinite(fc.quantiles).all()
    assert (np.diff(fc.quantiles, axis=-1) >= 0).all()


@pytest.mark.parametrize("name", ["auto-ets", "auto-theta"])
def test_auto_models_smoke(name: str) -> None:
    contexts = seasonal_contexts(2, 80, 12, n_var=2)
    contexts[1][0, 30:33] = np.nan
    model = build_model(name, n_jobs=1, time_limit=None)
    assert isinstance(model, AutoStatsForecaster) and model.context_length == 1000
    fc = model.predict(contexts, 6, freq="M", seasonality=12)
    check_forecast(fc, 2, 2, 6)
    assert model.fallbacks == []
    assert fc.mean is not None
    if name == "auto-ets":  # normal intervals: lo-0 is the mean
        np.testing.assert_array_equal(fc.quantiles[..., 4], fc.mean)
    # the same numbers as the statsforecast model called on the imputed float32 series
    ref_model = (
        sf_models.AutoETS(season_length=12, model="ZZN") if name == "auto-ets" else sf_models.AutoTheta(12)
    )
    ref = ref_model.forecast(y=gluonts_impute(contexts[1][0]), h=6, level=[0, *SF_LEVELS])
    np.testing.assert_array_equal(fc.mean[1, 0], np.asarray(ref["mean"]).astype(np.float32))
    np.testing.assert_array_equal(fc.quantiles[1, 0, :, 4], np.asarray(ref["lo-0"]).astype(np.float32))
    np.testing.assert_array_equal(fc.quantiles[1, 0, :, 0], np.asarray(ref["lo-80"]).astype(np.float32))


def test_auto_arima_smoke() -> None:
    rng = np.random.default_rng(0)
    contexts = [np.cumsum(rng.normal(size=(2, 40)), axis=1).astype(np.float32) for _ in range(2)]
    model = build_model("auto-arima", n_jobs=1, time_limit=None)
    assert isinstance(model, AutoStatsForecaster) and model.context_length == 512
    assert model.model_params == {"max_d": 1, "max_D": 1, "stepwise": True, "approximation": False}
    fc = model.predict(contexts, 5, freq="D", seasonality=1)
    check_forecast(fc, 2, 2, 5)
    assert model.fallbacks == [] and fc.mean is not None
    np.testing.assert_array_equal(fc.quantiles[..., 4], fc.mean)


def test_auto_model_workers_equal_inline() -> None:
    contexts = seasonal_contexts(3, 60, 12, seed=3)
    inline = AutoStatsForecaster("auto-ets", n_jobs=1, time_limit=None).predict(
        contexts, 4, freq="M", seasonality=12
    )
    pooled = AutoStatsForecaster("auto-ets", n_jobs=2, time_limit=60).predict(
        contexts, 4, freq="M", seasonality=12
    )
    np.testing.assert_array_equal(inline.quantiles, pooled.quantiles)
    np.testing.assert_array_equal(inline.mean, pooled.mean)


def test_one_worker_pool_serves_every_call_without_a_time_limit() -> None:
    contexts = seasonal_contexts(5, 60, 12, seed=4)
    inline = AutoStatsForecaster("auto-ets", n_jobs=1)
    model = AutoStatsForecaster("auto-ets", n_jobs=2)  # no time limit: the default
    try:
        for horizon in (4, 6):
            want = inline.predict(contexts, horizon, freq="M", seasonality=12)
            got = model.predict(contexts, horizon, freq="M", seasonality=12)
            np.testing.assert_array_equal(got.quantiles, want.quantiles)
            np.testing.assert_array_equal(got.mean, want.mean)
            if horizon == 4:
                assert model._pool is not None
                first = model._pool._executor
        assert model._pool is not None and model._pool._executor is first  # the same pool, not a new fork
        assert model.fallbacks == []
    finally:
        model.close()
    assert model._pool is None


def test_a_worker_that_dies_in_the_pool_costs_only_its_series(monkeypatch: pytest.MonkeyPatch) -> None:
    from toto_bench.adapters import statistical

    contexts = seasonal_contexts(2, 60, 12, seed=5)
    model = AutoStatsForecaster("auto-ets", n_jobs=2)
    monkeypatch.setattr(statistical, "_pool_chunk", _die)  # forked workers inherit the patch
    try:
        fc = model.predict(contexts, 4, freq="M", seasonality=12)
    finally:
        model.close()
    assert {r.reason for r in model.fallbacks} == {"worker_error"}
    naive = SeasonalNaiveForecaster(context_length=model.context_length).predict(
        contexts, 4, freq="M", seasonality=12
    )
    np.testing.assert_array_equal(fc.quantiles, naive.quantiles)


def _die(*args: object) -> None:
    os._exit(3)


def test_auto_model_time_limit_falls_back_to_seasonal_naive_and_records_it() -> None:
    contexts = seasonal_contexts(2, 400, 24, seed=1)
    model = AutoStatsForecaster("auto-arima", n_jobs=2, time_limit=0.05)
    fc = model.predict(contexts, 24, freq="H", seasonality=24)
    assert len(model.fallbacks) == 1
    record = model.fallbacks[0]
    assert record.reason == "time_limit" and record.call == 0 and record.items == ((0, 0), (1, 0))
    expected = SeasonalNaiveForecaster(context_length=2048).predict(contexts, 24, freq="H", seasonality=24)
    np.testing.assert_array_equal(fc.quantiles, expected.quantiles)
    # a zero limit never starts a worker
    model.time_limit = 0
    model.predict(contexts, 24, freq="H", seasonality=24)
    assert [r.reason for r in model.fallbacks] == ["time_limit", "time_limit"] and model.fallbacks[
        1
    ].call == 1


def test_auto_model_exception_and_nan_fallbacks_are_recorded() -> None:
    contexts = [np.array([[1.0, 2.0]], np.float32), np.array([[1.0, 2.0, 4.0]], np.float32)]
    model = AutoStatsForecaster("auto-ets", n_jobs=1, time_limit=None)
    fc = model.predict(
        contexts, 3, freq="D", seasonality=1
    )  # ETS refuses tiny series: statsforecast falls back
    reasons = {r.reason: r for r in model.fallbacks}
    assert set(reasons) == {"exception"} and reasons["exception"].items == ((0, 0), (1, 0))
    assert "tiny datasets" in reasons["exception"].detail
    np.testing.assert_array_equal(
        fc.quantiles, NaiveForecaster().predict(contexts, 3, freq="D", seasonality=1).quantiles
    )

    model = AutoStatsForecaster("auto-ets", n_jobs=1, time_limit=None)
    fc = model.predict(contexts, 3, freq="H", seasonality=24)  # ... and its seasonal naive is NaN (n < m)
    assert {r.reason for r in model.fallbacks} == {"exception", "nan_forecast", "exploding_intervals"}
    assert np.isnan(fc.quantiles).any()


# ----------------------------------------------------------------------------------------------------------
# Exploding intervals


def _forecast_with_spread(spread: float, horizon: int = 4) -> np.ndarray:
    """``[1, H, 10]``: mean 5, quantiles 0.1 .. 0.9 evenly from ``5 - spread/2`` to ``5 + spread/2``."""
    quantiles = 5 + spread * (np.linspace(0, 1, 9) - 0.5)
    return np.concatenate([[5.0], quantiles])[None, None, :].repeat(horizon, axis=1)


@pytest.mark.parametrize(
    ("context", "spread", "flagged"),
    [
        ([0.0, 4.0, 2.0], 399.0, False),  # range 4: up to 100 x 4 = 400 is fine
        ([0.0, 4.0, 2.0], 401.0, True),
        ([-3.0, 1.0], 401.0, True),  # range 4 again, whatever the sign
        ([7.0, 7.0, 7.0], 699.0, False),  # constant context: 100 x |7|
        ([7.0, 7.0, 7.0], 701.0, True),
        ([0.0, 0.0], 99.0, False),  # constant zero context: 100 x 1
        ([0.0, 0.0], 101.0, True),
    ],
)
def test_exploding_intervals_compares_the_spread_with_the_context_range(
    context: list[float], spread: float, flagged: bool
) -> None:
    ys = [np.asarray(context, np.float32)]
    got, ratio = exploding_intervals(ys, _forecast_with_spread(spread))
    assert got.tolist() == [flagged]
    reference = np.ptp(context) or max(abs(context[0]), 1.0)
    assert ratio[0] == pytest.approx(spread / reference, rel=1e-12)


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_exploding_intervals_flags_non_finite_forecasts(bad: float) -> None:
    forecast = _forecast_with_spread(1.0)
    forecast[0, 2, 7] = bad
    got, ratio = exploding_intervals([np.arange(5, dtype=np.float32)], forecast)
    assert got.tolist() == [True] and ratio[0] == np.inf


def test_auto_model_flags_exploding_intervals_and_keeps_the_forecast() -> None:
    contexts = seasonal_contexts(3, 60, 12, seed=6)
    plain = AutoStatsForecaster("auto-ets", n_jobs=1)
    want = plain.predict(contexts, 4, freq="M", seasonality=12)
    assert plain.fallbacks == []
    model = AutoStatsForecaster("auto-ets", n_jobs=1, explosion_factor=1e-9)  # every spread is over it
    model.begin_task(SimpleNamespace(config="x/M/short"))
    got = model.predict(contexts, 4, freq="M", seasonality=12)
    np.testing.assert_array_equal(got.quantiles, want.quantiles)  # flagged, not replaced
    (record,) = model.fallbacks
    assert record.reason == "exploding_intervals" and record.config == "x/M/short"
    assert record.items == ((0, 0), (1, 0), (2, 0)) and "3 of 3 series" in record.detail
    assert model.fallback_configs == ["x/M/short"]


# ----------------------------------------------------------------------------------------------------------
# Per-suite settings


@pytest.mark.parametrize(
    ("name", "suite", "upstream", "params", "context_length", "time_limit"),
    [
        ("auto-ets", "boom", "boom", {"model": "ZZN"}, 1000, 45.0),
        ("auto-ets", "gift-eval", "gift-eval", {"model": "ZZZ"}, None, None),
        ("auto-theta", "boomlet", "boom", {}, 1000, 45.0),
        ("auto-theta", "gift-eval", "gift-eval", {}, None, None),
        (
            "auto-arima",
            "boom",
            "boom",
            {"max_d": 1, "max_D": 1, "stepwise": True, "approximation": False},
            512,
            45.0,
        ),
        ("auto-arima", "gift-eval", "gift-eval", {}, None, None),
        ("auto-ets", None, "boom", {"model": "ZZN"}, 1000, None),
    ],
)
def test_auto_models_take_each_suites_upstream_settings(
    name: str,
    suite: str | None,
    upstream: str,
    params: dict[str, object],
    context_length: int | None,
    time_limit: float | None,
) -> None:
    model = build_model(name, suite=suite)
    assert isinstance(model, AutoStatsForecaster)
    assert (model.upstream, model.model_params, model.context_length) == (upstream, params, context_length)
    assert model.time_limit == time_limit
    described = model.describe()
    assert (described["upstream"], described["model_params"]) == (upstream, params)


def test_unknown_upstream_settings_name_the_valid_ones() -> None:
    with pytest.raises(
        ValueError, match=r"unknown upstream settings 'tsl'; expected one of \['boom', 'gift-eval'\]"
    ):
        AutoStatsForecaster("auto-ets", upstream="tsl")


def test_auto_models_need_statsforecast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "statsforecast", None)
    monkeypatch.setitem(sys.modules, "statsforecast.models", None)
    with pytest.raises(ImportError, match=r'pip install "toto-bench\[stats\]"'):
        build_model("auto-arima")


@pytest.mark.parametrize("season", [1, 24, 296, 400])
@pytest.mark.parametrize("gaps", ["none", "gappy", "leading-run", "all-nan-window"])
def test_windows_forecast_from_one_pass_over_the_tail_equal_each_window_alone(gaps: str, season: int) -> None:
    """The BOOM block path imputes and differences the tail its windows cover once; each window's forecast
    must still equal imputing and forecasting that window alone, bit for bit (leading NaNs take the window's
    own first value; an all-NaN window is zeros; a season as long as the window or longer)."""
    from toto_bench.adapters.statistical import _full_windows, seasonal_naive_forecast

    rng = np.random.default_rng(3)
    arr = (rng.normal(size=(3, 900)) * 50).astype(np.float32)
    if gaps == "gappy":
        arr = np.stack([gappy_series(s, 900) for s in range(3)])
    elif gaps == "leading-run":
        arr[:, :450] = np.nan  # windows starting in the run take the first value after it
    elif gaps == "all-nan-window":
        arr[1, 300:700] = np.nan
    starts = np.array([0, 37, 250, 300, 333, 500, 604])
    length, horizon = 296, 48
    got = _full_windows(arr, starts, length, horizon, season, "zero")
    assert got is not None
    for w, s in enumerate(starts):
        y = last_value_imputation(arr[:, s : s + length], all_nan="zero")
        mean, quantiles = seasonal_naive_forecast(y, horizon, season)
        np.testing.assert_array_equal(got[0][w], mean)
        np.testing.assert_array_equal(got[1][w], quantiles)
    refused = _full_windows(arr, starts, length, horizon, season, "raise")
    any_empty = any(np.isnan(arr[:, s : s + length]).all(axis=1).any() for s in starts)
    assert (refused is None) == any_empty and (any_empty == (gaps in ("leading-run", "all-nan-window")))


@pytest.mark.parametrize("season", [1, 24, 400])
def test_interval_kernel_equals_the_numpy_float64_path_bit_for_bit(
    season: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from toto_bench.adapters import statistical

    rng = np.random.default_rng(season)
    mean = (rng.normal(size=(7, 3, 500)) * 1e3).astype(np.float32)
    sigma = np.abs(rng.normal(size=(7, 3)) * 50).astype(np.float32)
    sigma[0, 0] = 0.0
    kernel = statistical._quantiles_from_sigma(mean, sigma, 500, season)
    assert statistical._KERNEL and statistical._KERNEL[0] is not None  # the kernel really ran
    monkeypatch.setattr(statistical, "_KERNEL", [None])
    numpy_path = statistical._quantiles_from_sigma(mean, sigma, 500, season)
    np.testing.assert_array_equal(kernel, numpy_path)
    assert kernel.dtype == numpy_path.dtype == np.float32
