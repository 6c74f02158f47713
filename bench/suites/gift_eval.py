"""The GIFT-Eval suite: storage names, terms, pretty config names, its tasks, protocol and scorer.

Dataset lists: SalesforceAIResearch/gift-eval ``notebooks/naive.ipynb`` (commented ``short_datasets`` and
``med_long_datasets``). Pretty names and the frequency of names without ``/``: the ``pretty_names`` map and
``notebooks/dataset_properties.json`` used by the upstream notebooks to write ``all_results.csv``.

The 97 config names built here were checked against the ``dataset`` column of
SalesforceAIResearch/gift-eval ``results/Toto_2.0_22m/all_results.csv`` (commit 84493be): the same 97 names,
as a set. ``tests/test_gift_eval_layout.py`` keeps that list and asserts the equality.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from toto_bench.adapters.base import Forecaster, QuantileForecast
from toto_bench.engine.data import SOURCES, Source, StoredDataset
from toto_bench.engine.protocol import (
    DatasetLike,
    EngineTask,
    RunError,
    SavedFolderProtocol,
    Scorer,
    window_labels,
)
from toto_bench.engine.spec import DatasetSpec
from toto_bench.engine.tasks import TERMS, Task, build_task, did_you_mean, freq_label, window_cuts
from toto_bench.metrics import METRIC_NAMES, MetricAccumulator, seasonal_errors
from toto_bench.metrics.quantiles import QUANTILE_LEVELS

#: The 55 storage names evaluated on the short term, in notebook order.
SHORT_DATASETS: tuple[str, ...] = tuple(
    """
    m4_yearly m4_quarterly m4_monthly m4_weekly m4_daily m4_hourly
    electricity/15T electricity/H electricity/D electricity/W
    solar/10T solar/H solar/D solar/W
    hospital covid_deaths
    us_births/D us_births/M us_births/W
    saugeenday/D saugeenday/M saugeenday/W
    temperature_rain_with_missing kdd_cup_2018_with_missing/H kdd_cup_2018_with_missing/D
    car_parts_with_missing restaurant hierarchical_sales/D hierarchical_sales/W
    LOOP_SEATTLE/5T LOOP_SEATTLE/H LOOP_SEATTLE/D SZ_TAXI/15T SZ_TAXI/H M_DENSE/H M_DENSE/D
    ett1/15T ett1/H ett1/D ett1/W ett2/15T ett2/H ett2/D ett2/W
    jena_weather/10T jena_weather/H jena_weather/D
    bitbrains_fast_storage/5T bitbrains_fast_storage/H bitbrains_rnd/5T bitbrains_rnd/H
    bizitobs_application bizitobs_service bizitobs_l2c/5T bizitobs_l2c/H
    """.split()
)

#: The 21 storage names also evaluated on the medium and long terms, in notebook order.
MED_LONG_DATASETS: tuple[str, ...] = tuple(
    """
    electricity/15T electricity/H solar/10T solar/H kdd_cup_2018_with_missing/H
    LOOP_SEATTLE/5T LOOP_SEATTLE/H SZ_TAXI/15T M_DENSE/H
    ett1/15T ett1/H ett2/15T ett2/H jena_weather/10T jena_weather/H
    bitbrains_fast_storage/5T bitbrains_rnd/5T
    bizitobs_application bizitobs_service bizitobs_l2c/5T bizitobs_l2c/H
    """.split()
)

#: Every storage folder of the suite (the short list covers the medium/long one).
STORAGE_NAMES: tuple[str, ...] = SHORT_DATASETS

#: Upstream ``pretty_names``, applied after lower-casing.
PRETTY_NAMES: dict[str, str] = {
    "saugeenday": "saugeen",
    "temperature_rain_with_missing": "temperature_rain",
    "kdd_cup_2018_with_missing": "kdd_cup_2018",
    "car_parts_with_missing": "car_parts",
}

#: Config frequency of the storage names without ``/`` (``dataset_properties.json`` "frequency"; for these
#: datasets it is the data frequency in legacy spelling, checked against the data by :func:`config_freq`).
UNSPLIT_FREQ: dict[str, str] = {
    "m4_yearly": "A",
    "m4_quarterly": "Q",
    "m4_monthly": "M",
    "m4_weekly": "W",
    "m4_daily": "D",
    "m4_hourly": "H",
    "hospital": "M",
    "covid_deaths": "D",
    "temperature_rain": "D",
    "car_parts": "M",
    "restaurant": "D",
    "bizitobs_application": "10S",
    "bizitobs_service": "10S",
}


#: The ``domain`` column of GIFT-Eval's ``all_results.csv``, by pretty dataset name (as published in
#: SalesforceAIResearch/gift-eval ``results/*/all_results.csv``).
DOMAINS: dict[str, str] = {
    **dict.fromkeys(("ett1", "ett2", "electricity", "solar"), "Energy"),
    **dict.fromkeys(
        (
            "bitbrains_rnd",
            "bitbrains_fast_storage",
            "bizitobs_application",
            "bizitobs_service",
            "bizitobs_l2c",
        ),
        "Web/CloudOps",
    ),
    **dict.fromkeys(("covid_deaths", "us_births", "hospital"), "Healthcare"),
    **dict.fromkeys(
        ("m4_yearly", "m4_quarterly", "m4_monthly", "m4_weekly", "m4_daily", "m4_hourly"), "Econ/Fin"
    ),
    **dict.fromkeys(("restaurant", "car_parts", "hierarchical_sales"), "Sales"),
    **dict.fromkeys(("sz_taxi", "m_dense", "loop_seattle"), "Transport"),
    **dict.fromkeys(("saugeen", "jena_weather", "kdd_cup_2018", "temperature_rain"), "Nature"),
}


#: ``num_variates`` of each dataset, by pretty dataset name (SalesforceAIResearch/gift-eval
#: ``notebooks/dataset_properties.json``; the leaderboard space's variate-type tab: 1 = univariate).
NUM_VARIATES: dict[str, int] = {
    **dict.fromkeys(DOMAINS, 1),
    **dict.fromkeys(("ett1", "ett2", "bizitobs_l2c"), 7),
    "jena_weather": 21,
    **dict.fromkeys(
        ("bitbrains_fast_storage", "bitbrains_rnd", "bizitobs_application", "bizitobs_service"), 2
    ),
}


def domain_of(storage_name: str) -> str:
    """The published ``domain`` of a storage name (``"ett1/H"`` → ``"Energy"``)."""
    return DOMAINS[pretty_name(storage_name)]


def terms_of(storage_name: str) -> tuple[str, ...]:
    """The terms a storage name is evaluated on: short, plus medium and long for the med/long list."""
    _check_name(storage_name)
    return TERMS if storage_name in MED_LONG_DATASETS else ("short",)


def pretty_name(storage_name: str) -> str:
    """The dataset part of the config name: ``"saugeenday/M"`` → ``"saugeen"``, ``"LOOP_SEATTLE/5T"`` →
    ``"loop_seattle"``, ``"car_parts_with_missing"`` → ``"car_parts"``."""
    key = storage_name.split("/")[0].lower()
    return PRETTY_NAMES.get(key, key)


def config_freq(storage_name: str, data_freq: str | None = None) -> str:
    """The frequency part of the config name.

    ``/``-names carry it (``"ett1/15T"`` → ``"15T"``); the others use the published frequency, which is the
    data frequency in legacy spelling with the anchor dropped (``"10s"`` → ``"10S"``, ``"A-DEC"`` → ``"A"``).

    Raises:
        ValueError: when ``data_freq`` is given and disagrees with that frequency (wrong dataset folder).
    """
    if "/" in storage_name:
        published = storage_name.split("/", 1)[1]
    else:
        published = UNSPLIT_FREQ[pretty_name(storage_name)]
    if data_freq is not None and freq_label(data_freq) != published:
        raise ValueError(
            f"GIFT-Eval dataset {storage_name!r} has data frequency {data_freq!r} ({freq_label(data_freq)}), "
            f"but its published configs use {published!r}: is the folder the right dataset?"
        )
    return published


def config_name(storage_name: str, term: str, data_freq: str | None = None) -> str:
    """The published config name ``<pretty>/<freq>/<term>``, e.g. ``"kdd_cup_2018/H/medium"``."""
    if term not in terms_of(storage_name):
        valid = ", ".join(terms_of(storage_name))
        raise ValueError(f"GIFT-Eval dataset {storage_name!r} has no {term!r} term; its terms: {valid}")
    return f"{pretty_name(storage_name)}/{config_freq(storage_name, data_freq)}/{term}"


def configs() -> list[tuple[str, str, str]]:
    """All 97 ``(config name, storage name, term)`` triples, short list order then terms."""
    return [(config_name(name, term), name, term) for name in STORAGE_NAMES for term in terms_of(name)]


def task(storage_name: str, term: str, *, freq: str, min_length: int, target_dim: int) -> Task:
    """The :class:`~toto_bench.engine.tasks.Task` of one config from its dataset summary (row-0 freq and
    target_dim, shortest first-variate length)."""
    return build_task(
        config=config_name(storage_name, term, freq),
        storage_name=storage_name,
        term=term,
        freq=freq,
        min_length=min_length,
        target_dim=target_dim,
    )


def _check_name(storage_name: str) -> None:
    if storage_name not in STORAGE_NAMES:
        raise ValueError(
            f"unknown GIFT-Eval dataset {storage_name!r}{did_you_mean(storage_name, STORAGE_NAMES)}; "
            f"its {len(STORAGE_NAMES)} storage names are in toto_bench.suites.gift_eval.SHORT_DATASETS"
        )


#: Where GIFT-Eval's data comes from (its Hugging Face repo and the upstream env var).
SOURCES.setdefault("gift-eval", Source("gift-eval", "Salesforce/GiftEval", "GIFT_EVAL", known=STORAGE_NAMES))


# ----------------------------------------------------------------------------------------------------------
# Protocol and scorer (also BOOM's)


#: ``all_results.csv`` columns of GIFT-Eval/BOOM: the upstream schema.
RESULT_COLUMNS: tuple[str, ...] = (
    "dataset",
    "model",
    *(f"eval_metrics/{name}" for name in METRIC_NAMES),
    "domain",
    "num_variates",
    "dataset_size",
)


class GiftEvalScorer(Scorer):
    """The 11 GIFT-Eval metrics of one config, pooled over every window with gluonts semantics."""

    def __init__(self, task: Task, *, domain: str, univariate_model: bool, allow_nan_forecast: bool) -> None:
        self.task = task
        self.domain = domain
        self.univariate_model = univariate_model
        self.allow_nan_forecast = allow_nan_forecast
        self._accumulator: MetricAccumulator | None = None
        self.instances = 0

    @property
    def accumulator(self) -> MetricAccumulator:
        """Scores at the levels the model forecasts (the 9 deciles, or a superset such as sample-based
        models' 0.025..0.975, which makes MSIS read its bounds instead of extrapolating them)."""
        if self._accumulator is None:
            self._accumulator = MetricAccumulator(QUANTILE_LEVELS, allow_nan_forecast=self.allow_nan_forecast)
        return self._accumulator

    def _accumulator_for(self, levels: tuple[float, ...]) -> MetricAccumulator:
        if self._accumulator is None:
            missing = [q for q in QUANTILE_LEVELS if not any(abs(q - lv) < 1e-12 for lv in levels)]
            if missing:
                raise RunError(f"{self.task.config}: forecast levels {levels} lack the deciles {missing}")
            self._accumulator = MetricAccumulator(levels, allow_nan_forecast=self.allow_nan_forecast)
        elif tuple(self._accumulator.levels) != tuple(levels):
            raise RunError(
                f"{self.task.config}: forecast levels changed within a config "
                f"({self._accumulator.levels} then {levels})"
            )
        return self._accumulator

    def update(
        self,
        index: int,
        item_id: str,
        target: np.ndarray,
        start: int,
        cuts: np.ndarray,
        forecast: QuantileForecast,
    ) -> None:
        labels = window_labels(target, cuts, self.task.prediction_length)
        errors = seasonal_errors(target, cuts, self.task.seasonality)
        accumulator = self._accumulator_for(tuple(forecast.levels))
        try:
            accumulator.update(labels, forecast.quantiles, errors, forecast.mean)
        except ValueError as exc:
            raise RunError(f"{self.task.config}, series {item_id!r}: {exc}") from exc
        self.instances += len(cuts) * (target.shape[0] if self.univariate_model else 1)

    def row(self) -> dict[str, Any]:
        metrics = self.accumulator.result()
        row: dict[str, Any] = {"domain": self.domain}
        row.update({f"eval_metrics/{name}": float(metrics[name]) for name in METRIC_NAMES})
        row["num_variates"] = self.task.target_dim
        row["dataset_size"] = self.instances
        return row


class GiftEvalProtocol(SavedFolderProtocol):
    """GIFT-Eval rules (also BOOM's): H by frequency × term, ``W = min(max(1, ceil(.1·min_len/H)), 20)``."""

    name: ClassVar[str] = "gift-eval"
    result_columns = RESULT_COLUMNS

    def tasks(
        self, spec: DatasetSpec, terms: Sequence[str], data: DatasetLike, configs: Mapping[str, str]
    ) -> list[EngineTask]:
        assert isinstance(data, StoredDataset)
        out: list[EngineTask] = []
        for term in terms:
            self.suite.config_name(spec.storage_name, term, data.freq)  # raises if the data's freq disagrees
            out.append(
                build_task(
                    config=configs[term],
                    storage_name=spec.storage_name,
                    term=term,
                    freq=data.freq,
                    min_length=data.min_length,
                    target_dim=data.target_dim,
                )
            )
        return out

    def check(self, data: DatasetLike, tasks: Sequence[EngineTask]) -> None:
        assert isinstance(data, StoredDataset)
        for task in tasks:
            assert isinstance(task, Task)
            data.check_fits(task.prediction_length, task.windows)

    def cuts(self, task: EngineTask, item_id: str, length: int) -> np.ndarray:
        assert isinstance(task, Task)
        return window_cuts(length, task.prediction_length, task.windows, item=item_id)

    def scorer(self, task: EngineTask, spec: DatasetSpec, model: Forecaster) -> Scorer:
        assert isinstance(task, Task)
        return GiftEvalScorer(
            task,
            domain=spec.domain,
            univariate_model=not model.supports_multivariate,
            allow_nan_forecast=self.allow_nan_forecast,
        )
