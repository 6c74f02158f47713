"""An independent, upstream-style reference pipeline: the test oracle for ``toto-bench run``.

It re-does what GIFT-Eval's ``notebooks/naive.ipynb`` (and the BOOM seasonal-naive notebook that copies it)
does with the upstream libraries, and nothing from ``toto_bench``'s protocol, metrics or adapters:

1. **Dataset** (SalesforceAIResearch/gift-eval ``src/gift_eval/data.py``, re-derived): the
   ``save_to_disk`` folder is read with ``datasets.load_from_disk(...).with_format("numpy")``; every row goes
   through ``start.item()`` and gluonts ``ProcessDataEntry(freq, one_dim_target=target_dim == 1)``;
   multivariate entries are split into ``<item_id>_dim<i>`` univariate entries when ``target_dim > 1``.
   ``H = term multiplier × PRED_LENGTH_MAP[maybe_reconvert_freq(norm_freq_str(to_offset(freq).name))]``
   (the M4 map when ``"m4" in name``); ``W = min(max(1, ceil(0.1·min_len/H)), 20)`` (1 for M4) with
   ``min_len`` the shortest first-variate length read with ``pyarrow.compute``; test instances from gluonts
   ``split(offset=-H·W)`` + ``generate_instances(H, windows=W, distance=H)``.
2. **Wrapper** (``StatsForecastPredictor``): optional truncation to the last ``max_length`` points (start
   shifted), ``float32`` context, gluonts ``LastValueImputation`` when it has NaN, a statsforecast frame
   (``unique_id``, ``ds = date_range(start.to_timestamp(), len, start.freq)``, ``y``) per batch of 512
   series, ``StatsForecast([Model(season_length=m)], freq, fallback_model=SeasonalNaive(m), n_jobs=1)
   .forecast(df, h=H, level=[20, 40, 60, 80])``, rows with NaN recomputed by a ``SeasonalNaive``
   ``StatsForecast``. statsforecast >= 2.1 rejects ``level=0`` (gift_eval_protocol.md §4.2), so quantile
   0.5 is the mean column, which is what ``lo-0`` equals. Output: gluonts ``QuantileForecast`` with keys
   ``mean, 0.1 .. 0.9``.
3. **Metrics**: gluonts ``evaluate_forecasts(..., axis=None, mask_invalid_label=True,
   allow_nan_forecast=False, seasonality=get_seasonality(freq), batch_size=512)`` with the 11 notebook
   metrics.

It is slow on purpose (pandas frames, one statsforecast call per batch): use small data. The benchmark
``benchmarks/boom_seasonal_naive.py`` times it as the "upstream-style" path.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: ``all_results.csv`` metric names (without the ``eval_metrics/`` prefix), in CSV order.
METRIC_KEYS: tuple[str, ...] = (
    "MSE[mean]",
    "MSE[0.5]",
    "MAE[0.5]",
    "MASE[0.5]",
    "MAPE[0.5]",
    "sMAPE[0.5]",
    "MSIS",
    "RMSE[mean]",
    "NRMSE[mean]",
    "ND[0.5]",
    "mean_weighted_sum_quantile_loss",
)

#: The wrapper's quantile levels and statsforecast interval levels (0 dropped: statsforecast >= 2.1).
QUANTILES: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
LEVELS: list[int] = [20, 40, 60, 80]

# gift-eval src/gift_eval/data.py
TEST_SPLIT = 0.1
MAX_WINDOW = 20
M4_PRED_LENGTH_MAP = {"A": 6, "Q": 8, "M": 18, "W": 13, "D": 14, "H": 48}
PRED_LENGTH_MAP = {"M": 12, "W": 8, "D": 30, "H": 48, "T": 48, "S": 60}
TERM_MULTIPLIER = {"short": 1, "medium": 10, "long": 15}
_RECONVERT = {"Y": "A", "YE": "A", "QE": "Q", "ME": "M", "h": "H", "min": "T", "s": "S", "us": "U"}

#: Series per statsforecast call (the notebooks' predictor ``batch_size``) and per metric batch.
BATCH_SIZE = 512


@dataclass(frozen=True)
class UpstreamResult:
    """What the upstream pipeline produced for one (dataset, term).

    Attributes:
        metrics: the 11 metrics keyed like the CSV columns (``"MSE[mean]"``, ...).
        dataset_size: ``len(test_data)`` (instances: series × windows after the univariate split).
        prediction_length: H.
        windows: W.
        seasonality: gluonts ``get_seasonality(freq)``.
    """

    metrics: dict[str, float]
    dataset_size: int
    prediction_length: int
    windows: int
    seasonality: int


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence pandas' legacy-alias FutureWarnings and statsforecast/gluonts chatter."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@contextlib.contextmanager
def _no_progress_bar() -> Iterator[None]:
    """Hide the tqdm bar ``gluonts.model.evaluation`` opens for every evaluation."""
    import functools

    from gluonts.model import evaluation
    from tqdm import tqdm

    original = evaluation.tqdm
    evaluation.tqdm = functools.partial(tqdm, disable=True)
    try:
        yield
    finally:
        evaluation.tqdm = original


class _GiftEvalDataset:
    """gift-eval ``Dataset`` logic for one ``save_to_disk`` folder, re-derived with gluonts."""

    def __init__(self, path: Path, name: str, term: str, to_univariate: bool | None = None) -> None:
        import datasets
        from gluonts.dataset.common import ProcessDataEntry

        self.hf_dataset = datasets.load_from_disk(str(path)).with_format("numpy")
        self.name = name
        self.term = term
        first = self.hf_dataset[0]
        self.freq = str(first["freq"])
        self.target_dim = int(first["target"].shape[0]) if first["target"].ndim > 1 else 1
        self._process = ProcessDataEntry(self.freq, one_dim_target=self.target_dim == 1)
        self.to_univariate = self.target_dim > 1 if to_univariate is None else to_univariate

    def _entries(self) -> Iterator[dict[str, Any]]:
        for row in self.hf_dataset:
            entry = dict(row)
            entry["start"] = entry["start"].item()  # itemize_start
            yield self._process(entry)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if not self.to_univariate:
            yield from self._entries()
            return
        for entry in self._entries():  # gift-eval MultivariateToUnivariate (non-mutating)
            for i, values in enumerate(list(entry["target"])):
                univariate = entry.copy()
                univariate["target"] = values
                univariate["item_id"] = f"{entry['item_id']}_dim{i}"
                yield univariate

    def __len__(self) -> int:
        return len(self.hf_dataset) * (self.target_dim if self.to_univariate else 1)

    @property
    def prediction_length(self) -> int:
        from gluonts.time_feature import norm_freq_str
        from pandas.tseries.frequencies import to_offset

        with _quiet():
            base = norm_freq_str(to_offset(self.freq).name)
        base = _RECONVERT.get(base, base)
        table = M4_PRED_LENGTH_MAP if "m4" in self.name else PRED_LENGTH_MAP
        return TERM_MULTIPLIER[self.term] * table[base]

    @property
    def min_series_length(self) -> int:
        import pyarrow.compute as pc

        column = self.hf_dataset.data.column("target")
        if self.hf_dataset[0]["target"].ndim > 1:
            lengths = pc.list_value_length(pc.list_flatten(pc.list_slice(column, 0, 1)))
        else:
            lengths = pc.list_value_length(column)
        return int(min(lengths.to_numpy()))

    @property
    def windows(self) -> int:
        if "m4" in self.name:
            return 1
        w = math.ceil(TEST_SPLIT * self.min_series_length / self.prediction_length)
        return min(max(1, w), MAX_WINDOW)

    def test_data(self) -> Any:
        from gluonts.dataset.split import split

        horizon, windows = self.prediction_length, self.windows
        _, template = split(self, offset=-horizon * windows)
        return template.generate_instances(prediction_length=horizon, windows=windows, distance=horizon)


class _StatsForecastWrapper:
    """naive.ipynb ``StatsForecastPredictor`` for ``SeasonalNaive`` / ``Naive`` (statsforecast >= 2.1)."""

    def __init__(
        self, model: str, prediction_length: int, season_length: int, freq: str, max_length: int | None
    ) -> None:
        from gluonts.transform.feature import LastValueImputation
        from statsforecast import StatsForecast
        from statsforecast.models import Naive, SeasonalNaive

        model_type: Any = {"seasonal_naive": SeasonalNaive, "naive": Naive}[model]
        params = {"season_length": season_length} if model_type is SeasonalNaive else {}
        self.model_name = model_type.__name__
        self.prediction_length = prediction_length
        self.freq = freq
        self.max_length = max_length
        self.imputation = LastValueImputation()
        self.model = StatsForecast(
            models=[model_type(**params)],
            freq=freq,
            fallback_model=SeasonalNaive(season_length=season_length),
            n_jobs=1,
        )
        self.fallback = StatsForecast(
            models=[SeasonalNaive(season_length=season_length)], freq=freq, n_jobs=1
        )
        self.sf_keys = ["mean"] + [
            f"{'hi' if q > 0.5 else 'lo'}-{round(200 * (max(q, 1 - q) - 0.5))}" for q in QUANTILES
        ]
        self.forecast_keys = ["mean", *(str(q) for q in QUANTILES)]

    def predict(self, inputs: Iterable[dict[str, Any]]) -> Iterator[Any]:
        from gluonts.dataset.util import forecast_start

        batch: dict[str, pd.DataFrame] = {}
        for entry in inputs:
            entry = dict(entry)  # never touch the test data's own entries
            assert entry["target"].ndim == 1 and len(entry["target"]) >= 1
            if self.max_length is not None:
                entry["start"] = entry["start"] + len(entry["target"][: -self.max_length])
                entry["target"] = entry["target"][-self.max_length :]
            target = np.asarray(entry["target"], np.float32)
            if np.isnan(target).any():
                target = self.imputation(target.copy())
            unique_id = f"{entry['item_id']}_{forecast_start(entry)!s}_{len(batch)!s}"
            start = entry["start"]
            batch[unique_id] = pd.DataFrame(
                {
                    "unique_id": unique_id,
                    "ds": pd.date_range(
                        start=start.to_timestamp(), periods=len(target), freq=start.freq
                    ).to_numpy(),
                    "y": target,
                }
            )
            if len(batch) == BATCH_SIZE:
                yield from self._forecasts(batch)
                batch = {}
        if batch:
            yield from self._forecasts(batch)

    def _sf_predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        results = self.model.forecast(df=frame, h=self.prediction_length, level=LEVELS)
        results = results.set_index("unique_id") if "unique_id" in results.columns else results
        row_nan = results.drop(columns="ds").isnull().to_numpy().any(axis=-1)
        if row_nan.any():  # the wrapper recomputes NaN rows with seasonal naive
            nan_ids = results.index[np.flatnonzero(row_nan)].unique()
            fallback = self.fallback.forecast(
                df=frame[frame["unique_id"].isin(nan_ids)], h=self.prediction_length, level=LEVELS
            )
            fallback = fallback.set_index("unique_id") if "unique_id" in fallback.columns else fallback
            fallback = fallback.rename(columns=lambda c: c.replace("SeasonalNaive", self.model_name))
            results = pd.concat([results[~results.index.isin(nan_ids)], fallback])
        return results

    def _forecasts(self, batch: dict[str, pd.DataFrame]) -> Iterator[Any]:
        from gluonts.model.forecast import QuantileForecast

        with _quiet():
            results = self._sf_predict(pd.concat(batch.values()))
        for unique_id in batch:
            prediction = results.loc[[unique_id]]
            arrays = []
            for key in self.sf_keys:
                column = self.model_name if key in ("mean", "lo-0") else f"{self.model_name}-{key}"
                arrays.append(prediction.loc[:, column].to_numpy())
            yield QuantileForecast(
                forecast_arrays=np.stack(arrays, axis=0),
                forecast_keys=self.forecast_keys,
                start_date=prediction["ds"].iloc[0].to_period(freq=self.freq),
                item_id=unique_id,
            )


def gluonts_metrics() -> list[Any]:
    """The 11 GIFT-Eval/BOOM gluonts metric definitions (every notebook's METRICS list)."""
    from gluonts.ev.metrics import (
        MAE,
        MAPE,
        MASE,
        MSE,
        MSIS,
        ND,
        NRMSE,
        RMSE,
        SMAPE,
        MeanWeightedSumQuantileLoss,
    )

    return [
        MSE(forecast_type="mean"),
        MSE(forecast_type=0.5),
        MAE(),
        MASE(),
        MAPE(),
        SMAPE(),
        MSIS(),
        RMSE(),
        NRMSE(),
        ND(),
        MeanWeightedSumQuantileLoss(quantile_levels=list(QUANTILES)),
    ]


def evaluate_upstream(
    path: str | Path,
    term: str,
    model: str,
    *,
    name: str | None = None,
    max_length: int | None = None,
) -> UpstreamResult:
    """Evaluate ``model`` on one ``save_to_disk`` folder and term the way the upstream notebooks do.

    Args:
        path: the dataset folder (``<root>/<storage name>``).
        term: ``short``, ``medium`` or ``long``.
        model: ``seasonal_naive`` or ``naive`` (hyphens accepted).
        name: the dataset name gift-eval sees (only ``"m4" in name`` matters); default: the folder name.
        max_length: the wrapper's context truncation (BOOM's seasonal naive: 2048); ``None`` keeps all.

    Raises:
        ValueError: from gluonts when a forecast holds NaN (``allow_nan_forecast=False``).
    """
    from gluonts.model.evaluation import evaluate_forecasts
    from gluonts.time_feature import get_seasonality

    path = Path(path)
    model = model.replace("-", "_")
    if model not in ("seasonal_naive", "naive"):
        raise ValueError(f"unknown model {model!r}; the oracle knows seasonal_naive and naive")
    dataset = _GiftEvalDataset(path, name if name is not None else path.name, term)
    with _quiet(), _no_progress_bar():
        season = int(get_seasonality(dataset.freq))
        horizon, windows = dataset.prediction_length, dataset.windows
        test_data = dataset.test_data()
        predictor = _StatsForecastWrapper(model, horizon, season, dataset.freq, max_length)
        forecasts = list(predictor.predict(test_data.input))
        frame = evaluate_forecasts(
            forecasts,
            test_data=test_data,
            metrics=gluonts_metrics(),
            axis=None,
            batch_size=BATCH_SIZE,
            mask_invalid_label=True,
            allow_nan_forecast=False,
            seasonality=season,
        )
    metrics = {key: float(frame[key].iloc[0]) for key in METRIC_KEYS}
    return UpstreamResult(metrics, len(forecasts), horizon, windows, season)


def upstream_metrics(
    path: str | Path,
    term: str,
    model: str,
    *,
    name: str | None = None,
    max_length: int | None = None,
) -> dict[str, float]:
    """The 11 metrics of :func:`evaluate_upstream`, keyed like ``all_results.csv`` (no prefix)."""
    return evaluate_upstream(path, term, model, name=name, max_length=max_length).metrics
