"""The TIME suite (``--suite time``): its 98 tasks as data, its protocol hooks, and the TIME-Output layout.

Sources (read, not copied): zqiao11/TIME ``src/timebench/config/datasets.yaml`` (per-config test length and
per-term horizons), ``src/timebench/evaluation/data.py`` (``Dataset.windows``, ``Dataset.test_data``),
``src/timebench/evaluation/metrics.py`` and ``saver.py`` (per-window metrics, ``metrics.npz``,
``config.json``),
``scripts/compute_local_leaderboard.py`` (task score = nanmean); shared ``docs/time_lsf_protocol.md`` Part A.

Protocol, per config ``{dataset}/{freq}`` with test length ``L`` and term horizon ``H``:

- ``W = max(1, floor(L / H))`` windows per series (the YAML comment says ceil; the code uses floor);
- window ``k`` of a series of length ``T`` starts at ``T − L + k·H`` (stride H, starting at ``T − L``, not at
  ``T − W·H``: when ``H`` does not divide ``L`` the last ``L − W·H`` points are never forecast);
- its context is the whole history ``target[:, :T − L + k·H]`` (the model applies its own context cap);
- every stored variate is scored, per (series, window, variate) (:mod:`toto_bench.metrics.per_window`), with
  ``m = get_seasonality(freq)``; the task score is the NaN-mean of each metric. TIME scores the 9 deciles
  (CRPS over 0.1..0.9, the median as point forecast): a model forecasting a superset of them (sample-based
  models' 0.025..0.975) is scored on the deciles selected by level (:func:`decile_quantiles`).

Data: ``Real-TSF/TIME`` on the Hugging Face Hub, one ``save_to_disk`` folder per config (``item_id, start,
freq, target, variate_names``; NaN kept), root ``--data-dir`` else ``$TIME_DATASET``.

A TIME run folder ``<output>/time/<model>/`` is itself a TIME-Output ``results/<model>/`` folder: every task
writes ``<dataset>/<freq>/<term>/metrics.npz`` (the eight ``[series, window, variate]`` arrays) and
``config.json`` as zqiao11/TIME's ``save_window_predictions`` does (predictions are not stored).
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from toto_bench.adapters.base import QUANTILE_LEVELS, Forecaster, QuantileForecast
from toto_bench.engine.data import SOURCES, InvalidSeriesError, Source, StoredDataset
from toto_bench.engine.protocol import (
    DatasetLike,
    EngineTask,
    RunError,
    SavedFolderProtocol,
    Scorer,
    window_labels,
)
from toto_bench.engine.tasks import TERMS, freq_label, seasonality
from toto_bench.metrics.per_window import TIME_METRIC_NAMES, time_seasonal_scale, time_window_metrics

if TYPE_CHECKING:
    from toto_bench.engine.spec import DatasetSpec

__all__ = [
    "RESULT_COLUMNS",
    "STORAGE_NAMES",
    "TIME_CONFIGS",
    "TimeConfig",
    "TimeProtocol",
    "TimeTask",
    "decile_quantiles",
    "nan_mean",
    "time_cuts",
    "time_windows",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TimeConfig:
    """One TIME dataset/freq config.

    Attributes:
        storage_name: ``{dataset}/{freq}``, the folder under the data root.
        test_length: ``L``, shared by all terms.
        val_length: validation length (tuning only; not evaluated).
        horizons: ``{term: H}`` for the terms the config defines.
    """

    storage_name: str
    test_length: int
    val_length: int
    horizons: Mapping[str, int]

    @property
    def terms(self) -> tuple[str, ...]:
        return tuple(t for t in TERMS if t in self.horizons)


# config, test_len, val_len, short, medium, long ("-": term not defined). docs/time_lsf_protocol.md §A.2.
_TABLE = """
Water_Quality_Darwin/15T 1440 1440 16 96 288
current_velocity/5T 4320 4320 36 288 864
current_velocity/10T 2160 2160 18 144 432
current_velocity/15T 1440 1440 12 96 288
current_velocity/20T 1080 1080 9 72 216
current_velocity/H 672 672 24 168 336
CPHL/15T 1440 1440 12 96 288
CPHL/30T 1440 1440 12 48 144
CPHL/H 672 672 24 168 336
Coastal_T_S/5T 4320 4320 36 288 864
Coastal_T_S/15T 1440 1440 12 96 288
Coastal_T_S/20T 1080 1080 9 72 216
Coastal_T_S/H 672 672 24 168 336
SG_Weather/D 366 366 3 7 14
SG_PM25/H 2208 2160 24 72 168
NE_China_Wind/H 720 720 24 72 168
Australia_Solar/H 2520 2520 24 72 168
epf_electricity_price/H 2520 2520 24 72 168
OpenElectricity_NEM/5T 4032 4032 24 96 288
EWELD_Load/15T 1344 1344 24 96 672
SG_Carpark/15T 672 672 16 96 672
Finland_Traffic/15T 2976 2880 16 96 672
Smart_Manufacturing/H 336 336 24 168 336
MetroPT-3/5T 1728 1728 48 288 576
Port_Activity/D 365 90 30 - -
Port_Activity/W 52 13 13 - -
ECDC_COVID/D 150 30 30 - -
ECDC_COVID/W 52 13 13 - -
Global_Influenza/W 52 13 13 - -
Crypto/D 273 92 30 - -
US_Term_Structure/B 717 100 20 - -
Oil_Price/B 717 100 20 - -
Job_Claims/W 52 13 13 - -
Uncertainty_1M/M 42 18 6 - -
Housing_Inventory/M 36 12 12 - -
JOLTS/M 60 12 12 - -
US_Labor/M 60 12 12 - -
Vehicle_Supply/M 60 12 12 - -
Auto_Production_SF/M 60 12 12 - -
Commodity_Production/M 60 12 12 - -
Commodity_Import/M 60 12 12 - -
WUI_Global/Q 20 20 4 - -
Global_Price/Q 20 8 4 - -
Vehicle_Sales/M 60 12 12 - -
Online_Retail_2_UCI/D 180 90 30 - -
Supply_Chain_Customer/D 365 90 30 - -
Supply_Chain_Location/D 365 90 30 - -
azure2019_D/5T 864 864 288 - -
azure2019_I/5T 864 864 288 - -
azure2019_U/5T 288 96 48 - -
"""


def _parse_table(text: str) -> tuple[TimeConfig, ...]:
    out = []
    for line in text.strip().splitlines():
        name, test, val, *horizons = line.split()
        terms = {t: int(h) for t, h in zip(TERMS, horizons, strict=True) if h != "-"}
        out.append(TimeConfig(name, int(test), int(val), terms))
    return tuple(out)


#: The 50 configs in upstream YAML order (24 with three terms, 26 with the short term only: 98 tasks).
TIME_CONFIGS: tuple[TimeConfig, ...] = _parse_table(_TABLE)
_BY_NAME: dict[str, TimeConfig] = {c.storage_name: c for c in TIME_CONFIGS}
#: Every storage folder of the suite.
STORAGE_NAMES: tuple[str, ...] = tuple(_BY_NAME)

# The data source (Hugging Face repo and env var) of the suite, known to toto_bench.engine.data's loaders.
SOURCES.setdefault("time", Source("time", "Real-TSF/TIME", "TIME_DATASET", known=STORAGE_NAMES))

#: ``all_results.csv`` columns: the task-level NaN-means (the leaderboard's MASE/CRPS first) and the shape.
RESULT_COLUMNS: tuple[str, ...] = (
    "dataset",
    "model",
    "MASE",
    "CRPS",
    "MAE",
    "MSE",
    "RMSE",
    "MAPE",
    "sMAPE",
    "ND",
    "num_series",
    "num_windows",
    "num_variates",
    "prediction_length",
)


def time_config(storage_name: str) -> TimeConfig:
    """The config ``storage_name`` (``"SG_Weather/D"``); ``ValueError`` naming close matches otherwise."""
    if storage_name not in _BY_NAME:
        from toto_bench.engine.tasks import did_you_mean

        raise ValueError(f"unknown TIME config {storage_name!r}{did_you_mean(storage_name, STORAGE_NAMES)}")
    return _BY_NAME[storage_name]


def time_windows(test_length: int, prediction_length: int) -> int:
    """``max(1, floor(test_length / H))`` (zqiao11/TIME ``Dataset.windows``)."""
    if test_length < 1 or prediction_length < 1:
        raise ValueError(f"test_length and H must be >= 1, got {test_length} and {prediction_length}")
    return max(1, test_length // prediction_length)


def time_cuts(length: int, test_length: int, prediction_length: int, windows: int) -> np.ndarray:
    """``[W]`` int64 window starts ``length − test_length + k·H`` (``k = 0..W-1``).

    Raises:
        ValueError: the series leaves no context before the test region (``length <= test_length``) or the
            windows overrun it.
    """
    first = length - test_length
    if first < 1:
        raise ValueError(
            f"{length} time steps leave no context before the TIME test region of {test_length} steps "
            f"(needs at least {test_length + 1})"
        )
    if first + prediction_length * windows > length:
        raise ValueError(f"{windows} windows of H={prediction_length} overrun a series of {length} steps")
    return first + prediction_length * np.arange(windows, dtype=np.int64)


@dataclass(frozen=True)
class TimeTask:
    """One TIME task (``{dataset}/{freq}/{term}``).

    Attributes:
        config: the task key.
        storage_name: ``{dataset}/{freq}``.
        term: short, medium or long.
        freq: the stored frequency string.
        prediction_length: H.
        windows: ``W = max(1, floor(test_length / H))``.
        seasonality: gluonts ``get_seasonality(freq)`` (the canonical m, also for Toto models).
        target_dim: variates per item.
        test_length: L.
    """

    config: str
    storage_name: str
    term: str
    freq: str
    prediction_length: int
    windows: int
    seasonality: int
    target_dim: int
    test_length: int


def nan_mean(values: np.ndarray) -> float:
    """The mean over the non-NaN values; NaN when all are NaN (TIME's aggregation, as upstream)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN: NaN, as upstream
        return float(np.nanmean(values))


def decile_quantiles(forecast: QuantileForecast, where: str = "forecast") -> np.ndarray:
    """TIME's 9 deciles ``[n, V, H, 9]``, selected by level from ``forecast.quantiles [n, V, H, Q]``.

    zqiao11/TIME scores the quantiles 0.1..0.9 (CRPS is their mean quantile loss, the point forecast their
    median). A forecast at a superset of them (sample-based models return 0.025, 0.1, ..., 0.9, 0.975 for
    the GIFT-Eval MSIS) is scored on the deciles alone, so its numbers equal those of the same model
    restricted to the deciles. A level counts when within 1e-9 of a decile.

    Raises:
        RunError: levels that are not strictly ascending or lack a decile (named, with the valid levels).
    """
    levels = tuple(float(x) for x in forecast.levels)
    if any(b <= a for a, b in pairwise(levels)):
        raise RunError(f"{where}: forecast levels {levels} are not strictly ascending")
    index: list[int] = []
    missing: list[float] = []
    for q in QUANTILE_LEVELS:
        hits = [j for j, lv in enumerate(levels) if abs(lv - q) < 1e-9]
        if hits:
            index.append(hits[0])
        else:
            missing.append(q)
    if missing:
        raise RunError(
            f"{where}: TIME scores the quantiles {QUANTILE_LEVELS}; the forecast's levels {levels} lack "
            f"{missing} (valid: the deciles or an ascending superset of them)"
        )
    if index == list(range(len(levels))):
        return forecast.quantiles
    return forecast.quantiles[..., index]


class TimeScorer(Scorer):
    """Per-window TIME metrics of one task, kept as ``[series, window, variate]`` arrays."""

    def __init__(self, task: TimeTask, *, univariate_model: bool, allow_nan_forecast: bool) -> None:
        self.task = task
        self.univariate_model = univariate_model
        self.allow_nan_forecast = allow_nan_forecast
        self.instances = 0
        self.context_length = 0
        self._series: dict[int, dict[str, np.ndarray]] = {}
        self._scale: tuple[int, np.ndarray] | None = None
        self._n_var: int | None = None

    def update(
        self,
        index: int,
        item_id: str,
        target: np.ndarray,
        start: int,
        cuts: np.ndarray,
        forecast: QuantileForecast,
    ) -> None:
        task = self.task
        where = f"{task.config}, series {item_id!r}"
        quantiles = decile_quantiles(forecast, where)
        if not self.allow_nan_forecast and np.isnan(quantiles).any():
            raise RunError(
                f"{where}: Forecast contains NaN values; pass --allow-nan-forecast to score them as TIME "
                "does "
                "(NaN metrics, left out of the task mean)"
            )
        n_var = target.shape[0]
        if self._n_var is None:
            self._n_var = n_var
        elif n_var != self._n_var:
            raise RunError(f"{where}: {n_var} variates, but the dataset's first series has {self._n_var}")
        if index not in self._series:
            all_cuts = time_cuts(target.shape[1], task.test_length, task.prediction_length, task.windows)
            self._scale = (index, time_seasonal_scale(target, all_cuts, task.seasonality))
            self._series[index] = {name: np.full((task.windows, n_var), np.nan) for name in TIME_METRIC_NAMES}
            self.context_length = max(self.context_length, int(all_cuts[-1]))
        assert self._scale is not None and self._scale[0] == index, "series must arrive one after another"
        stop = start + len(cuts)
        labels = window_labels(target, cuts, task.prediction_length)
        values = time_window_metrics(labels, quantiles, QUANTILE_LEVELS, self._scale[1][start:stop])
        for name, array in values.items():
            self._series[index][name][start:stop] = array
        self.instances += len(cuts) * (n_var if self.univariate_model else 1)

    def arrays(self) -> dict[str, np.ndarray]:
        """``{metric: [S, W, V] float64}`` in dataset order (the content of ``metrics.npz``)."""
        order = sorted(self._series)
        n_var = self._n_var or 0
        shape = (len(order), self.task.windows, n_var)
        return {
            name: np.stack([self._series[i][name] for i in order]) if order else np.empty(shape)
            for name in TIME_METRIC_NAMES
        }

    def row(self) -> dict[str, Any]:
        arrays = self.arrays()
        row: dict[str, Any] = {name: nan_mean(arrays[name]) for name in TIME_METRIC_NAMES}
        shape = arrays["MASE"].shape
        row.update(
            num_series=shape[0],
            num_windows=shape[1],
            num_variates=shape[2],
            prediction_length=self.task.prediction_length,
        )
        return row

    def finish(self, folder: Path, settings: Mapping[str, Any]) -> None:
        """Write ``<folder>/<dataset>/<freq>/<term>/{metrics.npz, config.json}`` (upstream TIME-Output)."""
        task = self.task
        arrays = self.arrays()
        out = folder / task.storage_name / task.term
        out.mkdir(parents=True, exist_ok=True)
        tmp = out / f".metrics.npz.tmp-{os.getpid()}"
        with tmp.open("wb") as fh:
            np.savez_compressed(fh, **arrays)  # type: ignore[arg-type]
        os.replace(tmp, out / "metrics.npz")
        shape = arrays["MASE"].shape
        config: dict[str, Any] = {
            "dataset_config": task.config,
            "num_series": shape[0],
            "num_windows": shape[1],
            "num_variates": shape[2],
            "prediction_length": task.prediction_length,
            "num_quantiles": len(QUANTILE_LEVELS),
            "quantile_levels": list(QUANTILE_LEVELS),
            "freq": task.freq,
            "seasonality": task.seasonality,
            "context_length": self.context_length,
            "metric_names": list(TIME_METRIC_NAMES),
            "test_length": task.test_length,
            "toto_bench_settings": dict(settings),
        }
        tmp_json = out / f".config.json.tmp-{os.getpid()}"
        tmp_json.write_text(json.dumps(config, indent=2, default=str) + "\n")
        os.replace(tmp_json, out / "config.json")


class TimeProtocol(SavedFolderProtocol):
    """TIME: per-config test length and horizons, floor windows from ``T − L``, per-window metrics."""

    name: ClassVar[str] = "time"
    result_columns = RESULT_COLUMNS

    def tasks(
        self, spec: DatasetSpec, terms: Sequence[str], data: DatasetLike, configs: Mapping[str, str]
    ) -> list[EngineTask]:
        if not isinstance(data, StoredDataset):
            raise TypeError(f"TIME reads save_to_disk folders, got {type(data).__name__}")
        config = time_config(spec.storage_name)
        suffix = spec.storage_name.rsplit("/", 1)[-1]
        if freq_label(data.freq) != suffix:
            raise ValueError(
                f"the folder holds data of frequency {data.freq!r}, but its name says {suffix!r}: is the "
                "folder the right dataset?"
            )
        out: list[EngineTask] = []
        for term in terms:
            if term not in config.horizons:
                raise ValueError(
                    f"TIME config {spec.storage_name!r} has no {term!r} term; its terms: "
                    f"{', '.join(config.terms)}"
                )
            horizon = config.horizons[term]
            out.append(
                TimeTask(
                    config=configs[term],
                    storage_name=spec.storage_name,
                    term=term,
                    freq=data.freq,
                    prediction_length=horizon,
                    windows=time_windows(config.test_length, horizon),
                    seasonality=seasonality(data.freq),
                    target_dim=data.target_dim,
                    test_length=config.test_length,
                )
            )
        return out

    def check(self, data: DatasetLike, tasks: Sequence[EngineTask]) -> None:
        if not isinstance(data, StoredDataset) or not tasks:
            return
        test_length = next(t.test_length for t in tasks if isinstance(t, TimeTask))
        short = np.flatnonzero(data.lengths <= test_length)
        if short.size:
            i = int(short[0])
            item = next(s.item_id for j, s in enumerate(data) if j == i)
            raise InvalidSeriesError(
                f"dataset {data.name!r}: series {item!r} (row {i}) has {int(data.lengths[i])} time steps, "
                f"not "
                f"more than the TIME test length {test_length} (the first window needs at least one context "
                f"step); {short.size} of {len(data)} series are too short"
            )

    def cuts(self, task: EngineTask, item_id: str, length: int) -> np.ndarray:
        assert isinstance(task, TimeTask)
        try:
            return time_cuts(length, task.test_length, task.prediction_length, task.windows)
        except ValueError as exc:
            raise RunError(f"{task.config}, series {item_id!r}: {exc}") from None

    def scorer(self, task: EngineTask, spec: DatasetSpec, model: Forecaster) -> Scorer:
        assert isinstance(task, TimeTask)
        return TimeScorer(
            task,
            univariate_model=not model.supports_multivariate,
            allow_nan_forecast=self.allow_nan_forecast,
        )
