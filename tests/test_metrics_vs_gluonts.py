"""toto_bench.metrics against gluonts' own ``evaluate_forecasts`` (the independent oracle).

Every case builds a gluonts ``TestData`` with ``split`` on a list dataset (full-history inputs, rolling
non-overlapping windows, as GIFT-Eval/BOOM do), gluonts ``QuantileForecast``/``SampleForecast`` objects, and
runs ``evaluate_forecasts(axis=None, mask_invalid_label=True)`` with the benchmark metric set. Ours gets the
same numbers as arrays, with seasonal errors from :func:`seasonal_errors` on the series.

Tolerances: float64 inputs rtol 1e-9 (gluonts computes in the input dtype, so only summation order
differs; observed ~1e-15). float32 inputs rtol 1e-6: gluonts sums float32 values in float32 per batch
(``np.ma.sum``) and sums the seasonal-error differences in float32, we accumulate in float64.
NaN must equal NaN and inf must equal inf (same sign).
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest

warnings.filterwarnings("ignore", message="Using `json`-module")
gluonts_eval = pytest.importorskip("gluonts.model.evaluation")
from gluonts.dataset.split import split  # noqa: E402
from gluonts.ev.ts_stats import seasonal_error as gluonts_seasonal_error  # noqa: E402
from gluonts.model.forecast import QuantileForecast, SampleForecast  # noqa: E402
from upstream import gluonts_metrics  # noqa: E402

import toto_bench.metrics.evaluate as metrics_evaluate  # noqa: E402
from toto_bench.adapters.base import QUANTILE_LEVELS  # noqa: E402
from toto_bench.metrics import (  # noqa: E402
    EVAL_LEVELS,
    METRIC_NAMES,
    MetricAccumulator,
    evaluate_quantile_forecasts,
    mean_from_samples,
    quantile_at_level,
    quantiles_from_samples,
    seasonal_errors,
)

logging.getLogger("gluonts").setLevel(logging.ERROR)

GLUONTS_METRICS = gluonts_metrics()
RTOL = {np.dtype(np.float64): 1e-9, np.dtype(np.float32): 1e-6}


@pytest.fixture(autouse=True, params=["fast", "small-chunks", "exact"])
def chunk_path(request, monkeypatch):
    """Run every case through the fast path (with its per-chunk fallbacks), through the same with tiny
    chunks (many partial sums, fast and exact chunks mixed), and through the pointwise exact path only."""
    if request.param == "small-chunks":
        monkeypatch.setattr(metrics_evaluate, "_CHUNK_ELEMS", 40)
    if request.param == "exact":
        monkeypatch.setattr(MetricAccumulator, "_chunk_fast", lambda self, *args: None)
    return request.param


# ---------------------------------------------------------------------------------------------- helpers
@dataclass
class Case:
    """Series of one config plus per-window forecasts, in gluonts iteration order (item, then window)."""

    series: list[np.ndarray]  # each [T_i] (univariate) or [V, T_i]
    horizon: int
    windows: int
    seasonality: int
    quantiles: np.ndarray = field(default_factory=lambda: np.empty(0))  # [n, V, H, Q]
    mean: np.ndarray | None = None  # [n, V, H]
    levels: tuple[float, ...] = QUANTILE_LEVELS
    samples: np.ndarray | None = None  # [n, S, V, H]

    @property
    def univariate(self) -> bool:
        return self.series[0].ndim == 1

    def cuts(self, s: np.ndarray) -> np.ndarray:
        t = s.shape[-1]
        return t - self.windows * self.horizon + self.horizon * np.arange(self.windows)

    def ours_inputs(self) -> tuple[np.ndarray, np.ndarray]:
        """``label [n, V, H]`` and ``seasonal_error [n, V]``."""
        labels, ses = [], []
        for s in self.series:
            s2 = s[None, :] if s.ndim == 1 else s
            cuts = self.cuts(s2)
            labels.extend(s2[:, c : c + self.horizon] for c in cuts)
            ses.append(seasonal_errors(s, cuts, self.seasonality))
        return np.stack(labels), np.concatenate(ses)

    def test_data(self):
        ds = [
            {"start": pd.Period("2021-01-01 00:00", "h"), "target": s, "item_id": str(i)}
            for i, s in enumerate(self.series)
        ]
        _, template = split(ds, offset=-self.windows * self.horizon)
        return template.generate_instances(
            prediction_length=self.horizon, windows=self.windows, distance=self.horizon
        )

    def gluonts_forecasts(self, test_data) -> list:
        out = []
        for i, (_, lab) in enumerate(test_data):
            start = lab["start"]
            if self.samples is not None:
                smp = self.samples[i]  # [S, V, H] -> gluonts [S, H] or [S, H, V]
                arr = smp[:, 0, :] if self.univariate else np.transpose(smp, (0, 2, 1))
                out.append(SampleForecast(samples=np.ascontiguousarray(arr), start_date=start))
                continue
            q = np.moveaxis(self.quantiles[i], -1, 0)  # [Q, V, H]
            keys = [str(lv) for lv in self.levels]
            if self.mean is not None:
                q = np.concatenate([q, self.mean[i][None]], axis=0)
                keys.append("mean")
            arr = q[:, 0, :] if self.univariate else np.transpose(q, (0, 2, 1))  # [K, H] / [K, H, V]
            out.append(QuantileForecast(np.ascontiguousarray(arr), start_date=start, forecast_keys=keys))
        return out


def run_gluonts(case: Case, allow_nan: bool = False, batch_size: int = 7) -> dict[str, float]:
    td = case.test_data()
    res = gluonts_eval.evaluate_forecasts(
        case.gluonts_forecasts(td),
        test_data=td,
        metrics=GLUONTS_METRICS,
        axis=None,
        batch_size=batch_size,
        mask_invalid_label=True,
        allow_nan_forecast=allow_nan,
        seasonality=case.seasonality,
    )
    return {k: float(v) for k, v in res.iloc[0].items()}


def run_ours(case: Case, allow_nan: bool = False) -> dict[str, float]:
    label, se = case.ours_inputs()
    if case.samples is not None:
        q = quantiles_from_samples(case.samples, EVAL_LEVELS)
        return evaluate_quantile_forecasts(
            label,
            q,
            se,
            mean=mean_from_samples(case.samples),
            levels=EVAL_LEVELS,
            allow_nan_forecast=allow_nan,
        )
    return evaluate_quantile_forecasts(
        label, case.quantiles, se, mean=case.mean, levels=case.levels, allow_nan_forecast=allow_nan
    )


def assert_metrics_equal(ours: dict[str, float], ref: dict[str, float], rtol: float) -> None:
    assert set(ours) == set(METRIC_NAMES)
    assert list(ref) == list(METRIC_NAMES)
    bad = []
    for name in METRIC_NAMES:
        a, b = ours[name], ref[name]
        if math.isnan(b) or math.isnan(a):
            ok = math.isnan(a) and math.isnan(b)
        elif math.isinf(b) or math.isinf(a):
            ok = a == b
        else:
            ok = math.isclose(a, b, rel_tol=rtol, abs_tol=0.0)
        if not ok:
            bad.append(f"{name}: ours={a!r} gluonts={b!r}")
    assert not bad, "\n".join(bad)


def make_quantiles(rng, n, n_var, horizon, levels, dtype, scale=1.0, loc=0.0, sort=True) -> np.ndarray:
    q = loc + scale * rng.normal(size=(n, n_var, horizon, len(levels)))
    if sort:
        q = np.sort(q, axis=-1)
    return q.astype(dtype)


def make_case(
    seed: int = 0,
    n_items: int = 2,
    n_var: int | None = None,
    length: int = 120,
    horizon: int = 12,
    windows: int = 3,
    seasonality: int = 1,
    dtype=np.float64,
    levels: tuple[float, ...] = QUANTILE_LEVELS,
    with_mean: bool = False,
    sort: bool = True,
) -> Case:
    """Random-walk-plus-season series, noisy forecasts around the truth-ish level."""
    rng = np.random.default_rng(seed)
    series = []
    for i in range(n_items):
        t = length + 7 * i
        shape = (t,) if n_var is None else (n_var, t)
        base = np.cumsum(rng.normal(size=shape), axis=-1) + 5 * np.sin(np.arange(t) * 2 * np.pi / 24)
        series.append((base + 20).astype(dtype))
    case = Case(series, horizon, windows, seasonality, levels=levels)
    n = n_items * windows
    v = 1 if n_var is None else n_var
    case.quantiles = make_quantiles(rng, n, v, horizon, levels, dtype, scale=3.0, loc=20.0, sort=sort)
    if with_mean:
        case.mean = (20.0 + rng.normal(size=(n, v, horizon))).astype(dtype)
    return case


def check(case: Case, allow_nan: bool = False, batch_size: int = 7) -> dict[str, float]:
    ref = run_gluonts(case, allow_nan=allow_nan, batch_size=batch_size)
    ours = run_ours(case, allow_nan=allow_nan)
    dtype = np.result_type(*case.series)
    assert_metrics_equal(ours, ref, RTOL[np.dtype(dtype)])
    return ours


# ---------------------------------------------------------------------------------------------- cases
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("seasonality", [1, 24])
@pytest.mark.parametrize("horizon", [1, 12])
def test_random_univariate(seed, seasonality, horizon):
    check(make_case(seed=seed, seasonality=seasonality, horizon=horizon, windows=4))


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("with_mean", [False, True])
@pytest.mark.parametrize("seasonality", [1, 7])
def test_random_multivariate(seed, with_mean, seasonality):
    check(make_case(seed=seed, n_var=3, seasonality=seasonality, with_mean=with_mean))


@pytest.mark.parametrize("n_var", [None, 2])
@pytest.mark.parametrize("with_mean", [False, True])
def test_float32(n_var, with_mean):
    check(make_case(seed=5, n_var=n_var, dtype=np.float32, seasonality=24, with_mean=with_mean))


def test_float32_long_horizon_many_windows():
    check(
        make_case(
            seed=6, n_items=3, n_var=4, length=2000, horizon=300, windows=3, seasonality=24, dtype=np.float32
        ),
        batch_size=4,
    )


def test_long_horizon():
    check(make_case(seed=7, n_items=1, n_var=2, length=1500, horizon=600, windows=2, seasonality=24))


def test_mixed_dtypes_float32_label_float64_forecast():
    case = make_case(seed=8, n_var=2, dtype=np.float32, seasonality=24, with_mean=True)
    case.quantiles = case.quantiles.astype(np.float64)
    check(case)


def test_mixed_dtypes_float64_label_float32_forecast():
    case = make_case(seed=8, n_var=2, dtype=np.float64, seasonality=24, with_mean=True)
    case.quantiles = case.quantiles.astype(np.float32)
    case.series[0][0, -3] = np.nan
    check(case)


def test_negative_and_infinite_seasonal_error():
    """Not producible from a series, but the arrays API accepts any se: x / -se counts, x / inf is 0."""
    case = make_case(seed=9, n_var=2)
    label, se = case.ours_inputs()
    se[0, 0], se[1, 1], se[2, 0] = -se[0, 0], np.inf, np.nan
    ours = evaluate_quantile_forecasts(label, case.quantiles, se)
    sem = np.ma.masked_invalid(label)
    mase = np.ma.abs(sem - case.quantiles[..., 4]) / se[..., None]
    assert math.isclose(ours["MASE[0.5]"], float(mase.sum() / mase.count()), rel_tol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_nan_and_inf_labels(dtype):
    case = make_case(seed=9, n_var=2, seasonality=12, dtype=dtype, length=150)
    rng = np.random.default_rng(9)
    for s in case.series:
        s[rng.random(s.shape) < 0.15] = np.nan
        s[rng.random(s.shape) < 0.02] = np.inf
        s[rng.random(s.shape) < 0.02] = -np.inf
    check(case)


def test_all_nan_window_and_variate():
    case = make_case(seed=10, n_var=3, seasonality=4)
    s = case.series[0]
    s[:, -12:] = np.nan  # last window of item 0: every label NaN
    case.series[1][1, :] = np.nan  # variate 1 of item 1: all NaN (context and labels)
    check(case)


def test_all_nan_context():
    # History of the first windows entirely NaN -> masked seasonal error -> 0.0 -> MASE/MSIS points dropped.
    case = make_case(seed=11, n_var=2, seasonality=3, length=60, windows=4)
    for s in case.series:
        s[:, : s.shape[-1] - 2 * case.horizon] = np.nan
    check(case)


def test_all_labels_nan():
    case = make_case(seed=12, n_var=2)
    for s in case.series:
        s[:, -case.windows * case.horizon :] = np.nan
    ours = check(case)
    assert all(math.isnan(v) for v in ours.values())


def test_constant_series_zero_seasonal_error():
    case = make_case(seed=13, n_var=2, seasonality=5)
    case.series = [np.full_like(s, 3.5) for s in case.series]
    ours = check(case)
    assert math.isnan(ours["MASE[0.5]"]) and math.isnan(ours["MSIS"])


def test_partly_constant_series():
    case = make_case(seed=14, n_var=3, seasonality=2)
    case.series[0][1] = 7.0  # one variate with zero seasonal error, others normal
    ours = check(case)
    assert math.isfinite(ours["MASE[0.5]"])


def test_zero_labels():
    case = make_case(seed=15, n_var=2)
    case.series = [np.zeros_like(s) for s in case.series]
    ours = check(case)
    assert math.isinf(ours["ND[0.5]"]) and math.isnan(ours["MAPE[0.5]"])


def test_zero_labels_perfect_forecast():
    case = make_case(seed=16, n_var=2)
    case.series = [np.zeros_like(s) for s in case.series]
    case.quantiles = np.zeros_like(case.quantiles)
    check(case)  # 0/0 everywhere


def test_some_zero_labels_mape_masked():
    case = make_case(seed=17)
    for s in case.series:
        s[-case.windows * case.horizon :: 3] = 0.0
    check(case)


@pytest.mark.parametrize(
    ("length", "windows", "horizon", "seasonality"),
    [
        (26, 5, 4, 24),  # every history shorter than m -> m = 1
        (24 + 3 * 4, 3, 4, 24),  # first history length == m: no pair -> 0.0
        (25 + 3 * 4, 3, 4, 24),  # first history length m + 1: one pair
        (3 * 4, 3, 4, 2),  # first window has an empty history
        (1 + 3 * 4, 3, 4, 1),  # one-point history: no pair
    ],
)
def test_short_contexts(length, windows, horizon, seasonality):
    check(
        make_case(seed=18, n_var=2, length=length, windows=windows, horizon=horizon, seasonality=seasonality)
    )


def test_short_contexts_univariate():
    check(make_case(seed=19, length=20, windows=4, horizon=4, seasonality=12))


@pytest.mark.parametrize(
    "levels",
    [
        (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95),  # 0.025 extrapolated from 0.05/0.1
        (0.2, 0.5, 0.8),  # tails from 0.2/0.5, interior levels interpolated
        (0.1, 0.3, 0.5, 0.7, 0.9),  # even levels interpolated
        (0.1, 0.25, 0.75, 0.9),  # median interpolated, mean falls back to it
        (0.025, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.975),  # MSIS bounds stored
        (0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99),  # 0.025 interpolated
    ],
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_other_quantile_levels(levels, dtype):
    check(make_case(seed=20, n_var=2, levels=levels, dtype=dtype, seasonality=3))


def test_crossing_quantiles():
    # Unsorted quantile values: negative interval widths reach MSIS through the exponential tails.
    check(make_case(seed=21, n_var=2, sort=False, seasonality=2))


# ---------------------------------------------------------------------------------------------- NaN forecasts
def nan_case(seed: int, where: str, with_mean: bool, dtype=np.float64) -> Case:
    case = make_case(seed=seed, n_var=2, with_mean=with_mean, dtype=dtype, seasonality=2)
    rng = np.random.default_rng(seed)
    mask = rng.random(case.quantiles.shape[:-1]) < 0.1
    if where == "median":
        case.quantiles[..., 4][mask] = np.nan
    elif where == "q0.1":
        case.quantiles[..., 0][mask] = np.nan
    elif where == "q0.7":
        case.quantiles[..., 6][mask] = np.nan
    elif where == "all_levels":
        case.quantiles[mask] = np.nan
    elif where == "whole_window":
        case.quantiles[1] = np.nan
    elif where == "mean":
        assert case.mean is not None
        case.mean[mask] = np.nan
    return case


@pytest.mark.parametrize(
    ("where", "with_mean"),
    [
        ("median", False),
        ("median", True),
        ("q0.1", False),
        ("q0.7", True),
        ("all_levels", False),
        ("whole_window", True),
        ("mean", True),
    ],
)
def test_nan_forecasts_allowed(where, with_mean):
    check(nan_case(30, where, with_mean), allow_nan=True)


def test_nan_forecasts_allowed_float32():
    check(nan_case(31, "all_levels", True, dtype=np.float32), allow_nan=True)


def test_nan_forecast_masked_in_ratio_metrics():
    """A NaN median drops the point from MASE/MAPE/sMAPE (masked division), but NaNs MAE/MSE."""
    ours = check(nan_case(32, "median", False), allow_nan=True)
    assert math.isnan(ours["MAE[0.5]"]) and math.isnan(ours["MSE[0.5]"])
    assert math.isfinite(ours["MASE[0.5]"]) and math.isfinite(ours["ND[0.5]"])


@pytest.mark.parametrize(
    ("where", "with_mean"), [("median", False), ("q0.1", False), ("q0.7", True), ("mean", True)]
)
def test_nan_forecasts_raise(where, with_mean):
    case = nan_case(33, where, with_mean)
    with pytest.raises(ValueError, match="Forecast contains NaN"):
        run_gluonts(case)
    with pytest.raises(ValueError, match="Forecast contains NaN"):
        run_ours(case)


def test_nan_forecast_under_masked_label_still_raises():
    # gluonts checks whole forecast arrays, masked labels included.
    case = make_case(seed=38, n_var=2)
    case.series[0][0, -1] = np.nan  # last label point of item 0, variate 0
    case.quantiles[case.windows - 1, 0, -1, 4] = np.nan  # the median forecast of exactly that point
    with pytest.raises(ValueError, match="Forecast contains NaN"):
        run_gluonts(case)
    with pytest.raises(ValueError, match="Forecast contains NaN"):
        run_ours(case)
    check(case, allow_nan=True)


def test_nan_in_unread_level_does_not_raise():
    # gluonts only inspects the keys the metrics read; 0.95 is not read when 0.975 comes from 0.99/0.9...
    levels = (0.025, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.975)
    case = make_case(seed=34, n_var=2, levels=levels)
    case.quantiles[0, 0, 0, levels.index(0.95)] = np.nan
    check(case, allow_nan=False)


def test_inf_forecasts():
    # inf is not NaN: no error; quantile losses become inf, ratio metrics mask the point.
    case = make_case(seed=35, n_var=2, seasonality=2)
    case.quantiles[0, 0, 3, 4] = np.inf
    case.quantiles[1, 1, 5, 8] = -np.inf
    check(case)


def test_inf_forecast_knots_make_nan_tail():
    # inf at both right knots -> inf - inf = NaN in the extrapolated 0.975 -> gluonts raises.
    case = make_case(seed=36, n_var=2)
    case.quantiles[0, 0, 0, 7:] = np.inf
    with pytest.raises(ValueError, match="Forecast contains NaN"):
        run_gluonts(case)
    with pytest.raises(ValueError, match="Forecast contains NaN"):
        run_ours(case)
    check(case, allow_nan=True)


def test_numpy_ma_division_domain():
    """Subnormal seasonal error: finite quotients |e| / se >= 1 / tiny are masked by numpy.ma's safe division.

    Without that rule the variate-0 MASE points (~1e308 each) would overflow the sum to inf.
    """
    case = make_case(seed=37, n_items=1, n_var=2, length=60, windows=2, horizon=6)
    s = case.series[0]
    s[0, :] = 1e-300 + np.arange(s.shape[1]) * 5e-311  # seasonal error ~5e-311 (subnormal)
    rng = np.random.default_rng(0)
    err = rng.choice([-1.0, 1.0], size=(2, 6, 9)) * rng.uniform(3e-3, 8e-3, size=(2, 6, 9))
    case.quantiles[:, 0] = np.sort(err, axis=-1)  # |e| / se in [6e307, 1.6e308]: finite, in the domain
    ours = check(case)
    assert math.isfinite(ours["MASE[0.5]"])


# ---------------------------------------------------------------------------------------------- samples
@pytest.mark.parametrize(("n_samples", "n_var"), [(100, None), (51, 2), (20, 3)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sample_forecasts(n_samples, n_var, dtype):
    case = make_case(seed=40, n_var=n_var, dtype=dtype, seasonality=24)
    rng = np.random.default_rng(40)
    n = case.windows * len(case.series)
    case.samples = (20 + 3 * rng.normal(size=(n, n_samples, n_var or 1, case.horizon))).astype(dtype)
    check(case)


def test_sample_forecasts_with_nan_samples():
    case = make_case(seed=41, n_var=2)
    rng = np.random.default_rng(41)
    n = case.windows * len(case.series)
    case.samples = 20 + 3 * rng.normal(size=(n, 30, 2, case.horizon))
    case.samples[rng.random(case.samples.shape) < 0.01] = np.nan
    check(case, allow_nan=True)
    with pytest.raises(ValueError, match="Forecast contains NaN"):
        run_gluonts(case)
    with pytest.raises(ValueError, match="Forecast contains NaN"):
        run_ours(case)


def test_quantiles_from_samples_bitwise():
    rng = np.random.default_rng(42)
    for n_samples in (1, 2, 10, 11, 100, 101):
        s = rng.normal(size=(3, n_samples, 2, 5)).astype(np.float32)
        s[0, 0, 0, 0] = np.nan
        ours = quantiles_from_samples(s, EVAL_LEVELS)
        mean = mean_from_samples(s)
        for i in range(3):
            fc = SampleForecast(samples=np.transpose(s[i], (0, 2, 1)), start_date=pd.Period("2021", "h"))
            for j, lv in enumerate(EVAL_LEVELS):
                np.testing.assert_array_equal(ours[i, :, :, j], fc.quantile(lv).T)
            np.testing.assert_array_equal(mean[i], fc.mean.T)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_quantile_at_level_bitwise(dtype):
    rng = np.random.default_rng(43)
    for levels in [QUANTILE_LEVELS, (0.2, 0.5, 0.8), (0.05, 0.1, 0.5, 0.9, 0.95), (0.3,)]:
        q = np.sort(rng.normal(size=(4, 6, len(levels))), axis=-1).astype(dtype)
        fc = QuantileForecast(np.moveaxis(q[0], -1, 0), pd.Period("2021", "h"), [str(x) for x in levels])
        for req in (0.0, 0.01, 0.025, 0.1, 0.15, 0.3, 0.5, 0.55, 0.9, 0.975, 0.999, 1.0):
            ref = fc.quantile(req)
            got = quantile_at_level(q, levels, req)[0]
            assert got.dtype == ref.dtype, (levels, req)
            np.testing.assert_array_equal(got, ref)


# ------------------------------------------------------------------------------------- seasonal errors
def gluonts_window_se(x: np.ndarray, cut: int, m: int) -> np.ndarray:
    """What ``_get_data_batch`` hands the metrics for one window: ``np.array`` of the masked result."""
    se = gluonts_seasonal_error(np.ma.masked_invalid(x[..., :cut]), seasonality=m, time_axis=-1)
    return np.array([se]).reshape(-1)


@pytest.mark.parametrize("m", [1, 2, 5, 24])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("ndim", [1, 2])
def test_seasonal_errors_every_prefix(m, dtype, ndim):
    rng = np.random.default_rng(m)
    t = 60
    x = np.cumsum(rng.normal(size=(3, t)), axis=-1)
    x[rng.random(x.shape) < 0.2] = np.nan
    x[0, :30] = np.nan  # all-NaN early prefixes for variate 0
    x[1, 5] = np.inf
    x[2, 40:] = 4.0  # constant tail
    x = x.astype(dtype)
    if ndim == 1:
        x = x[2]
    cuts = np.arange(t + 1)[::-1]  # every prefix, including empty and full, unsorted
    ours = seasonal_errors(x, cuts, m)
    assert ours.shape == (t + 1, 1 if ndim == 1 else 3) and ours.dtype == np.float64
    ref = np.stack([gluonts_window_se(x, int(c), m) for c in cuts])
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(ours, ref, rtol=rtol, atol=0)


@pytest.mark.parametrize("nan", [False, True])
def test_seasonal_errors_long_series(nan):
    # Long segments take the per-segment float64 summation branch.
    rng = np.random.default_rng(7)
    x = np.cumsum(rng.normal(size=(2, 70_000)), axis=-1).astype(np.float32)
    if nan:
        x[rng.random(x.shape) < 0.1] = np.nan
    cuts = np.array([40_000, 50_000, 60_000, 70_000, 100])
    ours = seasonal_errors(x, cuts, 360)
    ref = np.stack([gluonts_window_se(x, int(c), 360) for c in cuts])
    np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=0)


def test_seasonal_errors_overflow_and_inf():
    # A finite pair whose float32 difference overflows stays valid (inf error); inf values are masked.
    # (Sums that overflow only in gluonts' float32 accumulator, not in our float64 one, are avoided.)
    x = np.array([3e38, -3e38, 1.0, np.nan, 2.0, 4.0, 5.0, 6.0], dtype=np.float32)
    y = x.copy()
    y[2] = np.inf
    for series in (x, y, np.stack([x, y])):
        cuts = np.arange(series.shape[-1] + 1)
        for m in (1, 2):
            ours = seasonal_errors(series, cuts, m)
            ref = np.stack([gluonts_window_se(series, int(c), m) for c in cuts])
            np.testing.assert_array_equal(np.isinf(ours), np.isinf(ref))
            np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=0)


def test_seasonal_errors_validation():
    x = np.arange(10.0)
    with pytest.raises(ValueError, match="outside"):
        seasonal_errors(x, np.array([11]), 1)
    with pytest.raises(ValueError, match="seasonality"):
        seasonal_errors(x, np.array([5]), 0)
    with pytest.raises(ValueError, match="integers"):
        seasonal_errors(x, np.array([5.0]), 1)
    assert seasonal_errors(x, np.array([], dtype=int), 3).shape == (0, 1)


# ---------------------------------------------------------------------------------------------- streaming/API
def test_streaming_equals_one_shot():
    case = make_case(seed=50, n_items=3, n_var=2, windows=5, with_mean=True, seasonality=3)
    label, se = case.ours_inputs()
    one = evaluate_quantile_forecasts(label, case.quantiles, se, mean=case.mean)
    acc = MetricAccumulator()
    for sl in (slice(0, 1), slice(1, 9), slice(9, 15)):
        acc.update(label[sl], case.quantiles[sl], se[sl], mean=case.mean[sl])  # type: ignore[index]
    assert acc.n_windows == 15
    assert_metrics_equal(acc.result(), one, 1e-12)
    assert_metrics_equal(one, run_gluonts(case), 1e-9)


def test_nan_batch_leaves_accumulator_untouched():
    case = nan_case(51, "median", False)
    label, se = case.ours_inputs()
    acc = MetricAccumulator()
    acc.update(label[:1], np.full_like(case.quantiles[:1], 20.0), se[:1])
    before = acc.result()
    with pytest.raises(ValueError, match="Forecast contains NaN"):
        acc.update(label, case.quantiles, se)  # some window holds NaN: nothing of this batch is kept
    assert acc.n_windows == 1
    assert_metrics_equal(acc.result(), before, 0.0)


def test_shape_errors_name_the_problem():
    label = np.zeros((2, 3, 4))
    with pytest.raises(ValueError, match="quantiles shape"):
        evaluate_quantile_forecasts(label, np.zeros((2, 3, 4, 5)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="seasonal_error shape"):
        evaluate_quantile_forecasts(label, np.zeros((2, 3, 4, 9)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="mean shape"):
        evaluate_quantile_forecasts(label, np.zeros((2, 3, 4, 9)), np.ones((2, 3)), mean=np.zeros(4))
    with pytest.raises(ValueError, match="ascending"):
        MetricAccumulator(levels=(0.5, 0.1))
