"""Forecasts at a superset of the deciles (sample-based models' ``EVAL_LEVELS``: 0.025, 0.1, ..., 0.9, 0.975).

GIFT-Eval/BOOM score a forecast at its own levels, so MSIS reads its 0.025 / 0.975 bounds
(tests/test_moirai.py and tests/test_toto1.py check ``toto-bench run`` against gluonts on the families' own
predictors). TIME and LSF score the deciles and the median: a model returning EVAL_LEVELS must give exactly
the TIME/LSF numbers of the same model restricted to the 9 deciles (the oracle: a wrapper that slices the 9
decile columns out).

The stand-in model is cheap and deterministic: each variate's recent mean plus a level-dependent spread. Its
0.025 and 0.975 columns differ from every decile, and its 0.4 column from its median, so a scorer that read
quantiles by position (the median at ``[..., 4]``, CRPS over the first 9 columns) would give other numbers.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from statistics import NormalDist
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from layouts import write_dataset

from toto_bench.adapters.base import QUANTILE_LEVELS, QuantileForecast
from toto_bench.adapters.registry import available_models
from toto_bench.cli import main
from toto_bench.engine.forecasts import forecasts_path
from toto_bench.engine.protocol import RunError
from toto_bench.engine.runner import RunOptions, run_suite
from toto_bench.metrics.quantiles import EVAL_LEVELS
from toto_bench.suites import get_suite
from toto_bench.suites.time import decile_quantiles

#: Positions of the deciles in EVAL_LEVELS, written out (0.025 first, 0.975 last).
DECILE_COLUMNS = [1, 2, 3, 4, 5, 6, 7, 8, 9]


class StandIn:
    """Recent mean of each variate + ``2·z(level)·sqrt(step)`` at EVAL_LEVELS; the mean is the 0.5 column."""

    name = "stand-in"
    context_length = None
    supports_multivariate: ClassVar[bool] = True

    def __init__(self) -> None:
        self.levels = EVAL_LEVELS
        self.z = np.array([NormalDist().inv_cdf(q) for q in self.levels])

    def predict(
        self, contexts: list[np.ndarray], horizon: int, *, freq: str, seasonality: int
    ) -> QuantileForecast:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN tail: 0
            base = np.stack([np.nan_to_num(np.nanmean(c[:, -seasonality - 1 :], axis=1)) for c in contexts])
        steps = np.sqrt(np.arange(1, horizon + 1))
        q = base[:, :, None, None] + 2.0 * self.z[None, None, None, :] * steps[None, None, :, None]
        q = q.astype(np.float32)
        return QuantileForecast(q, self.levels, mean=q[..., self.levels.index(0.5)] + 0.25)


class UnivariateStandIn(StandIn):
    """The same, fed one variate at a time by the engine."""

    supports_multivariate: ClassVar[bool] = False


class DecilesOnly:
    """The same model restricted to the 9 deciles (the oracle of the invariance)."""

    name = "stand-in"
    context_length = None

    def __init__(self, model: StandIn) -> None:
        self.model = model
        self.supports_multivariate = model.supports_multivariate

    def predict(
        self, contexts: list[np.ndarray], horizon: int, *, freq: str, seasonality: int
    ) -> QuantileForecast:
        out = self.model.predict(contexts, horizon, freq=freq, seasonality=seasonality)
        assert out.levels == EVAL_LEVELS
        return QuantileForecast(out.quantiles[..., DECILE_COLUMNS].copy(), QUANTILE_LEVELS, out.mean)


def test_decile_columns_are_the_deciles() -> None:
    assert tuple(EVAL_LEVELS[i] for i in DECILE_COLUMNS) == QUANTILE_LEVELS
    assert EVAL_LEVELS[0] == 0.025 and EVAL_LEVELS[-1] == 0.975


def _run(suite: str, model, root: Path, out: Path, datasets: list[str], **kw) -> pd.DataFrame:
    options = RunOptions(datasets=datasets, output_dir=out, data_dir=root, progress=False, **kw)
    summary = run_suite(get_suite(suite), "stand-in", lambda: model, options)
    return pd.read_csv(summary.results_csv, float_precision="round_trip").set_index("dataset")


# ----------------------------------------------------------------------------------------------------------
# TIME


@pytest.fixture(scope="module")
def time_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two TIME configs: monthly univariate (L 36, H 12: 3 windows), weekly ``[3, T]`` (L 52, H 13: 4)."""
    rng = np.random.default_rng(5)
    root = tmp_path_factory.mktemp("time")
    monthly = [(20 + rng.normal(size=t).cumsum()).astype(np.float32) for t in (50, 80, 80)]
    monthly[1][-20:-17] = np.nan  # NaN labels
    weekly = [(30 + rng.normal(size=(3, t)).cumsum(axis=1)).astype(np.float32) for t in (120, 150)]
    weekly[0][1, 30:40] = np.nan  # a gap in the history
    write_dataset(root / "Housing_Inventory" / "M", monthly, freq="M")
    write_dataset(root / "Port_Activity" / "W", weekly, freq="W-SUN")
    return root


@pytest.mark.parametrize("multivariate", [True, False], ids=["multivariate", "univariate"])
def test_time_scores_eval_levels_like_the_deciles(
    time_root: Path, tmp_path: Path, multivariate: bool
) -> None:
    """Same ``all_results.csv`` rows and ``metrics.npz`` arrays, bit for bit; the stored EVAL_LEVELS
    forecasts replay (``toto-bench score``) to the same rows too."""
    datasets = ["Housing_Inventory/M", "Port_Activity/W"]
    model = StandIn() if multivariate else UnivariateStandIn()
    full = _run("time", model, time_root, tmp_path / "full", datasets, save_forecasts=True)
    nine = _run("time", DecilesOnly(model), time_root, tmp_path / "nine", datasets)
    assert list(full.index) == ["Housing_Inventory/M/short", "Port_Activity/W/short"]
    assert full["CRPS"].notna().all() and (full["CRPS"] > 0).all()
    pd.testing.assert_frame_equal(full, nine, check_exact=True)
    for config in ("Housing_Inventory/M/short", "Port_Activity/W/short"):
        a = np.load(tmp_path / "full" / "time" / "stand-in" / config / "metrics.npz")
        b = np.load(tmp_path / "nine" / "time" / "stand-in" / config / "metrics.npz")
        assert sorted(a.files) == sorted(b.files)
        for name in a.files:
            np.testing.assert_array_equal(a[name], b[name], err_msg=f"{config} {name}")
        record = json.loads((tmp_path / "full" / "time" / "stand-in" / config / "config.json").read_text())
        assert record["quantile_levels"] == list(QUANTILE_LEVELS) and record["num_quantiles"] == 9

    run_dir = tmp_path / "full" / "time" / "stand-in"
    stored = np.load(forecasts_path(run_dir, "Port_Activity/W/short"))
    assert tuple(stored["levels"]) == EVAL_LEVELS
    assert main(["score", "--suite", "time", "--run-dir", str(run_dir)]) == 0
    replay = pd.read_csv(run_dir / "scored_results.csv", float_precision="round_trip").set_index("dataset")
    pd.testing.assert_frame_equal(replay[full.columns], full, check_exact=True)


def test_time_scorer_selects_deciles_by_level() -> None:
    """A hand-built forecast: the decile columns come back in decile order, whatever surrounds them."""
    levels = (0.01, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.99)
    q = np.arange(len(levels), dtype=np.float32).reshape(1, 1, 1, -1)
    got = decile_quantiles(QuantileForecast(q, levels))
    np.testing.assert_array_equal(got[0, 0, 0], [1, 2, 4, 5, 6, 7, 8, 9, 10])
    nine = QuantileForecast(np.zeros((1, 1, 1, 9), np.float32))
    assert decile_quantiles(nine) is nine.quantiles  # nothing to select


@pytest.mark.parametrize(
    ("levels", "message"),
    [
        ((0.025, *QUANTILE_LEVELS[:-1], 0.975), r"lack \[0\.9\]"),
        ((0.975, *QUANTILE_LEVELS), "not strictly ascending"),
    ],
)
def test_time_scorer_names_unusable_levels(levels: tuple[float, ...], message: str) -> None:
    forecast = QuantileForecast(np.zeros((1, 1, 2, len(levels)), np.float32), levels)
    with pytest.raises(RunError, match=message):
        decile_quantiles(forecast, "X/D/short")


# ----------------------------------------------------------------------------------------------------------
# LSF


def test_lsf_scores_eval_levels_like_the_deciles(tmp_path: Path) -> None:
    """The LSF median is read by level (0.5), not by position: the same MSE/MAE, bit for bit."""
    rng = np.random.default_rng(9)
    n = 3000  # TSLib custom borders: test rows [2400, 3000), 505 stride-1 windows at H = 96
    t = np.arange(n)
    frame = {"date": pd.date_range("2016-07-01", periods=n, freq="D").strftime("%Y-%m-%d %H:%M:%S")}
    for j, col in enumerate([*map(str, range(7)), "OT"]):  # exchange_rate's published 8 columns
        frame[col] = 100 * (j + 1) + 10 * np.sin(2 * np.pi * t / 24) + rng.normal(size=n).cumsum()
    (tmp_path / "data" / "exchange_rate").mkdir(parents=True)
    pd.DataFrame(frame).to_csv(tmp_path / "data" / "exchange_rate" / "exchange_rate.csv", index=False)
    model = StandIn()
    kw = {"terms": ["96"]}
    full = _run("lsf", model, tmp_path / "data", tmp_path / "full", ["exchange_rate"], **kw)
    nine = _run("lsf", DecilesOnly(model), tmp_path / "data", tmp_path / "nine", ["exchange_rate"], **kw)
    assert full.loc["exchange_rate/96", "MSE"] > 0
    pd.testing.assert_frame_equal(full, nine, check_exact=True)


# ----------------------------------------------------------------------------------------------------------
# Registered defaults

SAMPLE_BASED = {"moirai-1.1-small": "levels", "moirai-1.1-base": "levels", "moirai-1.1-large": "levels"}
SAMPLE_BASED["toto1"] = "quantile_levels"
SUITES = (None, "gift-eval", "boom", "boomlet", "time", "lsf")


@pytest.mark.parametrize("name", sorted(SAMPLE_BASED))
def test_sample_based_models_default_to_eval_levels_in_every_suite(name: str) -> None:
    spec = available_models()[name]
    for suite in SUITES:
        assert spec.settings_for(suite)[SAMPLE_BASED[name]] == list(EVAL_LEVELS), suite


def test_quantile_models_keep_their_native_levels() -> None:
    """Moirai 2.0, Chronos, TimesFM, Toto 2.0 emit their own 9 quantiles: no levels setting is registered."""
    models = available_models()
    quantile_models = [n for n, s in models.items() if s.family in ("toto2", "chronos", "timesfm")]
    quantile_models.append("moirai-2-small")
    assert len(quantile_models) > 3
    for name in quantile_models:
        for suite in SUITES:
            settings = models[name].settings_for(suite)
            assert not {"levels", "quantile_levels"} & set(settings), (name, suite)
