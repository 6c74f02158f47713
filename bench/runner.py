"""The protocol engine: one loop serves every suite (GIFT-Eval, BOOM, Boomlet, TIME, LSF).

A suite is a declarative spec (:mod:`toto_bench.suites`) plus a few protocol hooks
(:class:`~toto_bench.hooks.SuiteProtocol`): where its data is and how a dataset is opened (LSF z-scores its
CSV there), which tasks a dataset yields and where each series' windows start, and which scorer turns
forecasts into the results row. The engine does the rest, identically for every suite:

the driver plans (:func:`run_suite`): each selected dataset's configs not yet in the results store under
their key become a work unit (:class:`WorkUnit`; with ``--shard I/N`` only this shard's datasets). An
executor (:mod:`toto_bench.executors`: in process, or Ray actors) runs the units (:meth:`UnitJob.run`): open
the dataset once (never a whole suite in memory), and for each pending term derive the task, cut the windows
of every series, stream the windows' contexts (views of the stored series, never copies) through the model,
and feed the forecasts to the task's scorer window chunk by window chunk. Every finished config goes back to
the driver, which commits it to the results store at once; ``all_results.csv`` is written when every config
of the selection is in the store.

Data flow per series ``target [V, T]`` and task::

    cuts [W]  ──►  contexts target[:, lo:cut]  ──►  model  ──►  quantiles [w, V, H, Q] (+ mean), w ≤ W
                                                                     │   (chunks of bounded size)
                    labels [w, V, H] (+ per-window scales)  ──►  scorer.update  ──►  scorer.row()

Scorers: GIFT-Eval/BOOM pool the 11 gluonts metrics over a config (:class:`GiftEvalScorer`, this module);
TIME scores every (series, window, variate) (:mod:`toto_bench.timebench`); LSF pools MSE/MAE of the median
(:mod:`toto_bench.lsf`).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from toto_bench.adapters.base import QUANTILE_LEVELS, Forecaster, PrefixForecaster, QuantileForecast
from toto_bench.data import StoredDataset, load_dataset
from toto_bench.hooks import (
    DatasetLike,
    EngineTask,
    RunError,
    SavedFolderProtocol,
    Scorer,
    SuiteProtocol,
    folder_fingerprint,
    window_labels,
)
from toto_bench.lsf import LSFProtocol
from toto_bench.metrics import METRIC_NAMES, MetricAccumulator, seasonal_errors
from toto_bench.protocol import Task, build_task, window_cuts
from toto_bench.record import ResourceMonitor, build_run_record
from toto_bench.store import (
    JOURNAL_NAME,
    PROTOCOL_VERSION,
    EntryKey,
    ResultsStore,
    spec_hash,
    write_json_atomic,
)
from toto_bench.suites import DatasetSpec, Suite
from toto_bench.timebench import TimeProtocol

if TYPE_CHECKING:
    from toto_bench.executors import Executor, Shard

__all__ = [
    "FORECAST_BUDGET",
    "RESULT_COLUMNS",
    "ConfigResult",
    "ForecastPart",
    "GiftEvalProtocol",
    "GiftEvalScorer",
    "RunError",
    "RunOptions",
    "RunSummary",
    "UnitJob",
    "WorkUnit",
    "forecast_parts",
    "forecast_series",
    "forecast_windows",
    "make_protocol",
    "run_suite",
    "score_dataset",
    "window_labels",
]

#: ``all_results.csv`` columns of GIFT-Eval/BOOM: the upstream schema.
RESULT_COLUMNS: tuple[str, ...] = (
    "dataset",
    "model",
    *(f"eval_metrics/{name}" for name in METRIC_NAMES),
    "domain",
    "num_variates",
    "dataset_size",
)

RUN_RECORD_NAME = "config.json"

#: Forecast values (windows × variates × H × quantiles) the engine hands a scorer at once when a protocol
#: asks for bounded batches (LSF: thousands of stride-1 windows): 2**24 float32 values, 64 MiB.
FORECAST_BUDGET = 1 << 24


@dataclass
class RunOptions:
    """What ``toto-bench run`` was asked to do.

    Attributes:
        datasets: storage names to run (default: all of the suite).
        terms: terms to run (default: each dataset's terms; LSF: horizons ``96``, ...).
        output_dir: results root; the run writes ``<output_dir>/<suite>/<model>/``.
        data_dir: suite data root (else the env var / cache default of the suite).
        allow_nan_forecast: score NaN forecasts (gluonts ``allow_nan_forecast=True``; TIME/LSF: NaN metrics)
            instead of failing.
        progress: show a progress bar.
        settings: model settings recorded in the run record and hashed into the results key.
        protocol_options: suite protocol options (LSF: ``context_length``, ``stride``); they change numbers,
            so they are hashed into the results key too.
        executor: runs the work units (:mod:`toto_bench.executors`); default: in this process.
        shard: run only this shard's datasets (``--shard I/N``); journal and run record get shard names.
        model_card: model-card fields written at the top level of the run record (``model_type``, read by
            the GIFT-Eval board's columns and filters like upstream ``config.json`` files); not hashed.
        save_forecasts: save every config's forecasts beside the results (``ForecastRecorder``).
    """

    datasets: Sequence[str] | None = None
    terms: Sequence[str] | None = None
    output_dir: Path = Path("results")
    data_dir: str | os.PathLike[str] | None = None
    allow_nan_forecast: bool = False
    progress: bool = True
    settings: dict[str, Any] = field(default_factory=dict)
    protocol_options: dict[str, Any] = field(default_factory=dict)
    executor: Executor | None = None
    model_card: dict[str, Any] = field(default_factory=dict)
    shard: Shard | None = None
    save_forecasts: bool = False


@dataclass
class RunSummary:
    """What a run did: where its results are, how long it took, which datasets had no data (LSF).

    ``pending`` counts the configs of the selection not in the store yet (other shards still running);
    ``all_results.csv`` is written only when it is 0. ``configs`` is the size of the selection.
    """

    results_csv: Path
    record: Path
    computed: int
    skipped: int
    wall_seconds: float
    windows: int
    missing: list[str] = field(default_factory=list)
    pending: int = 0
    configs: int = 0

    @property
    def complete(self) -> bool:
        """Whether every config of the selection is in the store (and ``all_results.csv`` was written)."""
        return self.pending == 0


def data_fingerprint(path: Path) -> str:
    """A cheap fingerprint of one stored dataset folder: ``state.json`` plus the arrow files' sizes."""
    return folder_fingerprint(path)


# ----------------------------------------------------------------------------------------------------------
# Forecasting: contexts streamed through the model, forecasts scattered back per series


@dataclass(frozen=True)
class ForecastPart:
    """Forecasts of windows ``start .. start + n`` of series ``index`` (``quantiles [n, V, H, Q]``)."""

    index: int
    start: int
    forecast: QuantileForecast


def _split_univariate(out: QuantileForecast, n_windows: int, n_var: int, horizon: int) -> QuantileForecast:
    """``[W·V, 1, H, Q]`` (window-major contexts of one variate each) → ``[W, V, H, Q]``."""
    shape = (n_windows, n_var, horizon)
    mean = None if out.mean is None else out.mean.reshape(shape)
    return QuantileForecast(out.quantiles.reshape((*shape, -1)), out.levels, mean)


def _model_kwargs(task: EngineTask) -> dict[str, Any]:
    return {"freq": task.freq, "seasonality": task.seasonality}


def forecast_parts(
    model: Forecaster,
    targets: Sequence[np.ndarray],
    cuts: Sequence[np.ndarray],
    task: EngineTask,
    *,
    context_length: int | None = None,
    bounded: bool = False,
    budget: int = FORECAST_BUDGET,
) -> Iterator[ForecastPart]:
    """Forecast every window of several series, yielding them series by series, windows in order.

    Window ``w`` of series ``i`` has context ``targets[i][:, lo:cuts[i][w]]`` with ``lo = 0`` (full history)
    or ``cut − context_length`` (a protocol cap); contexts are views, never copies.

    - Prefix-aware models (:class:`PrefixForecaster`) get each whole series once (only without a protocol
      cap, which their prefix API cannot express).
    - Other models get lists of contexts in batches of ``model.batch_size``; a model without one gets every
      context of the config in one call, or, when ``bounded``, batches of about ``budget`` output values.

    A series is yielded once complete; with ``bounded`` also earlier, in chunks of about ``budget`` values
    (``windows × V × H × 9``), so memory stays bounded however many windows a config has.

    Args:
        model: the adapter.
        targets: float32 ``[V_i, T_i]`` series.
        cuts: ``[W_i]`` window starts of each series.
        task: horizon, frequency and seasonality handed to the model.
        context_length: protocol cap on the history, ``None`` for the full history.
        bounded: bound batches and chunks by ``budget`` (LSF).
        budget: forecast values per chunk.

    Yields:
        :class:`ForecastPart` with ``quantiles [n, V_i, H, Q]`` (+ mean); univariate models see each variate
        alone and their outputs are reassembled to ``[n, V_i, H, Q]``.
    """
    horizon = task.prediction_length
    kwargs = _model_kwargs(task)
    n_q = len(QUANTILE_LEVELS)
    if isinstance(model, PrefixForecaster) and context_length is None:
        for i, (target, c) in enumerate(zip(targets, cuts, strict=True)):
            step = max(1, budget // max(1, target.shape[0] * horizon * n_q)) if bounded else max(1, len(c))
            for s in range(0, len(c), step):
                yield ForecastPart(i, s, model.predict_prefixes(target, c[s : s + step], horizon, **kwargs))
        return
    yield from _list_parts(model, targets, cuts, task, context_length, bounded, budget)


def _list_parts(
    model: Forecaster,
    targets: Sequence[np.ndarray],
    cuts: Sequence[np.ndarray],
    task: EngineTask,
    context_length: int | None,
    bounded: bool,
    budget: int,
) -> Iterator[ForecastPart]:
    """:func:`forecast_parts` for models with the list API only."""
    horizon = task.prediction_length
    multivariate = model.supports_multivariate
    per_window = [1 if multivariate else t.shape[0] for t in targets]  # contexts per window
    totals = [len(c) * k for c, k in zip(cuts, per_window, strict=True)]
    n_total = sum(totals)
    if n_total == 0:
        return
    n_q = len(QUANTILE_LEVELS)
    widest = max(t.shape[0] for t in targets)
    batch = int(getattr(model, "batch_size", 0) or 0)
    if batch < 1:
        per_context = (widest if multivariate else 1) * horizon * n_q
        batch = max(1, budget // per_context) if bounded else n_total

    def contexts() -> Iterator[np.ndarray]:
        for target, c in zip(targets, cuts, strict=True):
            for cut in c.tolist():
                lo = 0 if context_length is None else max(0, cut - context_length)
                if multivariate:
                    yield target[:, lo:cut]
                else:
                    for v in range(target.shape[0]):
                        yield target[v : v + 1, lo:cut]

    stream = contexts()
    series, consumed, emitted = 0, 0, 0
    buf_q: list[np.ndarray] = []
    buf_m: list[np.ndarray | None] = []

    def emit(n_windows: int, levels: tuple[float, ...]) -> ForecastPart:
        nonlocal buf_q, buf_m, emitted
        k = per_window[series]
        n_ctx = n_windows * k
        q = buf_q[0] if len(buf_q) == 1 else np.concatenate(buf_q)
        means = None if any(m is None for m in buf_m) else [m for m in buf_m if m is not None]
        mean = None if means is None else (means[0] if len(means) == 1 else np.concatenate(means))
        buf_q = [q[n_ctx:]] if len(q) > n_ctx else []
        buf_m = [None if mean is None else mean[n_ctx:]] if buf_q else []
        part = QuantileForecast(q[:n_ctx], levels, None if mean is None else mean[:n_ctx])
        if not multivariate:
            part = _split_univariate(part, n_windows, targets[series].shape[0], horizon)
        start, emitted = emitted, emitted + n_windows
        return ForecastPart(series, start, part)

    done = 0
    while done < n_total:
        chunk = list(islice(stream, batch))
        out = model.predict(chunk, horizon, **_model_kwargs(task))
        if out.quantiles.shape[0] != len(chunk):
            raise RunError(
                f"{task.config}: model {getattr(model, 'name', model)!r} returned {out.quantiles.shape[0]} "
                f"forecasts for {len(chunk)} contexts"
            )
        done += len(chunk)
        offset = 0
        while offset < len(chunk):
            while totals[series] == 0:
                series += 1
            take = min(totals[series] - consumed, len(chunk) - offset)
            buf_q.append(out.quantiles[offset : offset + take])
            buf_m.append(None if out.mean is None else out.mean[offset : offset + take])
            consumed += take
            offset += take
            complete = consumed == totals[series]
            ready = consumed // per_window[series] - emitted
            values = ready * per_window[series] * int(np.prod(out.quantiles.shape[1:]))
            if complete or (bounded and ready > 0 and values >= budget):
                yield emit(ready, out.levels)
            if complete:
                series, consumed, emitted = series + 1, 0, 0
                buf_q, buf_m = [], []


def _concat(parts: Sequence[QuantileForecast]) -> QuantileForecast:
    if len(parts) == 1:
        return parts[0]
    means = [p.mean for p in parts]
    mean = None if any(m is None for m in means) else np.concatenate([m for m in means if m is not None])
    return QuantileForecast(np.concatenate([p.quantiles for p in parts]), parts[0].levels, mean)


def forecast_series(
    model: Forecaster, targets: Sequence[np.ndarray], cuts: Sequence[np.ndarray], task: EngineTask
) -> list[QuantileForecast]:
    """Forecast every window of several series, batching contexts across series.

    Prefix-aware models (:class:`PrefixForecaster`) get each whole series once. Other models get lists of
    context views in batches of ``model.batch_size`` (all at once when the model has none); the outputs are
    scattered back to one ``[W, V, H, Q]`` forecast per series (see :func:`forecast_parts`, which streams).
    """
    parts: list[list[QuantileForecast]] = [[] for _ in targets]
    for part in forecast_parts(model, targets, cuts, task):
        parts[part.index].append(part.forecast)
    out = []
    for target, p in zip(targets, parts, strict=True):
        if not p:  # a series without windows
            shape = (0, target.shape[0], task.prediction_length, len(QUANTILE_LEVELS))
            p = [QuantileForecast(np.empty(shape, dtype=np.float32))]
        out.append(_concat(p))
    return out


def forecast_windows(model: Forecaster, target: np.ndarray, cuts: np.ndarray, task: Task) -> QuantileForecast:
    """Forecast every window of one series.

    Args:
        model: the adapter.
        target: float32 ``[V, T]`` full series.
        cuts: ``[W]`` window starts; window ``w``'s context is ``target[:, :cuts[w]]``.
        task: the config (horizon, freq, seasonality).

    Returns:
        quantiles ``[W, V, H, Q]`` (+ mean ``[W, V, H]``). Univariate models see each variate alone.
    """
    return forecast_series(model, [target], [cuts], task)[0]


# ----------------------------------------------------------------------------------------------------------
# GIFT-Eval / BOOM protocol


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

    def fingerprint(self, root: Path, spec: DatasetSpec) -> str:
        return data_fingerprint(root / spec.storage_name)

    def open(self, root: Path, spec: DatasetSpec) -> StoredDataset:
        return load_dataset(self.suite.data_source, spec.storage_name, root)

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


#: protocol name → (hooks class, the protocol options it takes)
PROTOCOLS: dict[str, tuple[type[SuiteProtocol], tuple[str, ...]]] = {
    "gift-eval": (GiftEvalProtocol, ()),
    "time": (TimeProtocol, ()),
    "lsf": (LSFProtocol, ("context_length", "stride")),
}


def make_protocol(suite: Suite, options: RunOptions) -> SuiteProtocol:
    """The hooks of ``suite``'s protocol, configured with the run's options.

    Raises:
        ValueError: an unknown protocol, or an option the suite does not take (named with the valid ones).
    """
    if suite.protocol not in PROTOCOLS:
        raise ValueError(
            f"suite {suite.name!r} has unknown protocol {suite.protocol!r}; valid: {list(PROTOCOLS)}"
        )
    cls, allowed = PROTOCOLS[suite.protocol]
    unknown = sorted(set(options.protocol_options) - set(allowed))
    if unknown:
        valid = ", ".join(allowed) if allowed else "none"
        raise ValueError(f"suite {suite.name!r} takes no protocol option {unknown}; valid options: {valid}")
    return cls(suite, allow_nan_forecast=options.allow_nan_forecast, **options.protocol_options)


# ----------------------------------------------------------------------------------------------------------
# Scoring


def _score_task(
    model: Forecaster,
    items: Sequence[tuple[str, np.ndarray]],
    task: EngineTask,
    cuts: Sequence[np.ndarray],
    scorer: Scorer,
    *,
    context_length: int | None = None,
    bounded: bool = False,
) -> Scorer:
    """Forecast every window of ``items`` for ``task`` and feed them to ``scorer`` chunk by chunk.

    A model with a ``begin_task(task, first_context_length=...)`` method is told each config first (some
    notebooks fix the context length per config from its first test input).
    """
    targets = [target for _, target in items]
    begin = getattr(model, "begin_task", None)
    if callable(begin):
        first = next((int(c[0]) for c in cuts if len(c)), None)
        if context_length is not None and first is not None:
            first = min(first, context_length)
        begin(task, first_context_length=first)
    for part in forecast_parts(model, targets, cuts, task, context_length=context_length, bounded=bounded):
        item_id, target = items[part.index]
        stop = part.start + part.forecast.quantiles.shape[0]
        scorer.update(
            part.index, item_id, target, part.start, cuts[part.index][part.start : stop], part.forecast
        )
    return scorer


def score_dataset(
    model: Forecaster,
    data: StoredDataset,
    tasks: Sequence[Task],
    *,
    allow_nan_forecast: bool = False,
) -> list[tuple[dict[str, float], int]]:
    """Score every GIFT-Eval task (term) of one dataset; its series are read once and kept for all terms.

    Returns, per task, the 11 metrics and the number of scored instances (``dataset_size``).
    """
    items = [(series.item_id, series.target) for series in data]
    out = []
    for task in tasks:
        scorer = GiftEvalScorer(
            task,
            domain="",
            univariate_model=not model.supports_multivariate,
            allow_nan_forecast=allow_nan_forecast,
        )
        cuts = [window_cuts(t.shape[1], task.prediction_length, task.windows, item=i) for i, t in items]
        _score_task(model, items, task, cuts, scorer)
        out.append((scorer.accumulator.result(), scorer.instances))
    return out


def _progress(total: int, desc: str, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="config", disable=not enabled, dynamic_ncols=True)


# ----------------------------------------------------------------------------------------------------------
# Work units: planned by the driver, executed by an executor (in process or on Ray actors)


@dataclass(frozen=True)
class WorkUnit:
    """One dataset's pending configs, the unit an executor runs: the data is opened once for all of them.

    Attributes:
        spec: the dataset.
        keys: ``(term, results key)`` of each pending config, in suite order.
    """

    spec: DatasetSpec
    keys: tuple[tuple[str, EntryKey], ...]

    @property
    def name(self) -> str:
        return self.spec.storage_name

    def without(self, done: Iterable[EntryKey]) -> WorkUnit:
        """This unit minus the configs in ``done`` (what is left to retry after a worker died)."""
        finished = set(done)
        return WorkUnit(self.spec, tuple((t, k) for t, k in self.keys if k not in finished))


@dataclass(frozen=True)
class ConfigResult:
    """One finished config, as a worker hands it to the driver's store.

    Attributes:
        key: its results key.
        row: its ``all_results.csv`` row.
        windows: contexts the model saw for it.
    """

    key: EntryKey
    row: dict[str, Any]
    windows: int


@dataclass(frozen=True)
class UnitJob:
    """Everything a worker needs to run work units; picklable when ``model_factory`` is (Ray).

    Attributes:
        protocol: the suite's protocol hooks.
        model_name: the ``model`` column of the rows.
        model_factory: builds the model (once per worker); a
            :class:`~toto_bench.executors.ModelRecipe` for executors in other processes.
        root: the suite data root (on a cluster: a path every worker sees).
        folder: the run folder, where scorers write side outputs (TIME ``metrics.npz``, saved forecasts).
        settings: the run settings (recorded beside side outputs).
        save_forecasts: wrap each scorer in a ``ForecastRecorder`` that saves the forecasts.
    """

    protocol: SuiteProtocol
    model_name: str
    model_factory: Callable[[], Forecaster]
    root: Path
    folder: Path
    settings: Mapping[str, Any]
    save_forecasts: bool = False

    def build_model(self) -> Forecaster:
        return self.model_factory()

    def run(self, model: Forecaster, unit: WorkUnit) -> Iterator[ConfigResult]:
        """Open ``unit``'s dataset once and score its configs one by one, yielding each when finished."""
        protocol, spec = self.protocol, unit.spec
        keys = dict(unit.keys)
        data = protocol.open(self.root, spec)
        try:
            tasks = protocol.tasks(spec, list(keys), data, {term: key.config for term, key in keys.items()})
        except ValueError as exc:
            raise RunError(f"{protocol.suite.name} dataset {spec.storage_name!r}: {exc}") from exc
        protocol.check(data, tasks)
        items = [(series.item_id, series.target) for series in data]
        for task in tasks:
            base = protocol.scorer(task, spec, model)
            scorer = base
            if self.save_forecasts:
                from toto_bench.forecasts import ForecastRecorder

                scorer = ForecastRecorder(scorer, self.folder, task.config, key=keys[task.term])
            cuts = [protocol.cuts(task, item_id, target.shape[1]) for item_id, target in items]
            _score_task(
                model,
                items,
                task,
                cuts,
                scorer,
                context_length=protocol.context_length,
                bounded=protocol.bounded_batches,
            )
            row: dict[str, Any] = {"dataset": task.config, "model": self.model_name, **scorer.row()}
            scorer.finish(self.folder, self.settings)
            yield ConfigResult(keys[task.term], row, base.instances)


class _Commit:
    """The driver's side of an executor: commits each finished config to the store as it arrives."""

    def __init__(self, store: ResultsStore, bar: Any) -> None:
        self.store = store
        self.bar = bar
        self.computed = 0
        self.windows = 0

    def commit(self, result: ConfigResult) -> None:
        self.store.add(result.key, result.row)
        self.computed += 1
        self.windows += result.windows
        self.bar.update(1)

    def unit_done(self, unit: WorkUnit) -> None:
        self.store.sync()


def run_suite(
    suite: Suite,
    model_name: str,
    model_factory: Callable[[], Forecaster],
    options: RunOptions,
) -> RunSummary:
    """Run ``model_name`` on ``suite``; write ``<output>/<suite>/<model>/all_results.csv`` + ``config.json``.

    Planning happens here: the selected datasets (of ``options.shard`` only, when set) are split into work
    units of the configs not yet in the results store under their key (model settings, data fingerprint,
    protocol version); ``options.executor`` (default: in process) runs the units and every finished config is
    committed to the store as it arrives. ``all_results.csv`` is written once every config of the selection
    is in the store (a shard whose siblings are not done yet leaves it to the last one, see
    :attr:`RunSummary.pending`).

    Input problems found before any computation (unknown dataset, term or protocol option, missing data)
    leave nothing behind; problems found while running stop the run with finished configs kept for the next
    attempt. LSF skips datasets of its default selection whose file is absent (listed in
    ``RunSummary.missing`` and the run record). The model is built only when there is work to do.
    """
    from toto_bench.executors import LocalExecutor

    protocol = make_protocol(suite, options)
    specs = suite.select(options.datasets, options.terms)
    root = protocol.data_root(options.data_dir)
    specs, missing = protocol.available(root, specs, explicit=bool(options.datasets))
    executor: Executor = options.executor if options.executor is not None else LocalExecutor()
    shard: Shard | None = options.shard
    settings = {"model": model_name, "allow_nan_forecast": options.allow_nan_forecast, **options.settings}
    protocol_settings = protocol.settings()
    if protocol_settings:  # GIFT-Eval/BOOM keys stay as they were
        settings["protocol"] = protocol_settings
    spec_key = spec_hash(settings)
    folder = Path(options.output_dir) / suite.name / model_name
    store = ResultsStore(folder, protocol.result_columns, shard.journal_name if shard else JOURNAL_NAME)

    # planning: the keys of the whole selection (the CSV needs them all), the pending configs of this shard
    mine = set(shard.select([s.storage_name for s in specs])) if shard else None
    keys: list[EntryKey] = []
    units: list[WorkUnit] = []
    skipped = 0
    for spec in specs:
        fingerprint = protocol.fingerprint(root, spec)
        spec_keys = [
            (
                t,
                EntryKey(
                    suite.config_name(spec.storage_name, t, None), spec_key, fingerprint, PROTOCOL_VERSION
                ),
            )
            for t in spec.terms
        ]
        keys += [key for _, key in spec_keys]
        if mine is not None and spec.storage_name not in mine:
            continue
        pending = tuple(
            (t, key)
            for t, key in spec_keys
            if store.get(key) is None or (options.save_forecasts and not has_forecasts(folder, key))
        )
        skipped += len(spec_keys) - len(pending)
        if pending:
            units.append(WorkUnit(spec, pending))

    job = UnitJob(protocol, model_name, model_factory, root, folder, settings, options.save_forecasts)
    monitor = ResourceMonitor().start()
    total = skipped + sum(len(u.keys) for u in units)
    bar = _progress(total, f"{suite.name} · {model_name}", options.progress)
    bar.update(skipped)
    sink = _Commit(store, bar)
    try:
        fallbacks = executor.execute(job, units, sink)
    finally:
        bar.close()
    if shard is not None:
        store.reload()  # what the other shards committed meanwhile
    pending_configs = len(store.missing(keys))
    csv_path = store.csv_path
    if not pending_configs:
        csv_path = store.write_csv(keys)
    record_payload = {
        "suite": suite.name,
        "protocol": protocol.name,
        "model": model_name,
        "settings": settings,
        "spec_hash": spec_key,
        "protocol_version": PROTOCOL_VERSION,
        "data_dir": str(root),
        "datasets": [s.storage_name for s in specs],
        "missing_datasets": missing,
        "configs": len(keys),
        "computed": sink.computed,
        "skipped": skipped,
        "pending_configs": pending_configs,
        "executor": executor.name,
        "workers": executor.workers,
        "shard": str(shard) if shard else None,
        "command": sys.argv,
        **options.model_card,
    }
    record_payload = build_run_record(
        base=record_payload,
        model=None,
        monitor=monitor,
        windows=sink.windows,
        model_details=executor.model_details,
        fallbacks=fallbacks,
    )
    wall = float(record_payload["wall_seconds"])
    record = folder / (shard.record_name if shard else RUN_RECORD_NAME)
    write_json_atomic(record, record_payload)
    if shard is not None and not pending_configs:  # the shard that completed the CSV records the run
        record = folder / RUN_RECORD_NAME
        write_json_atomic(record, record_payload)
    return RunSummary(
        csv_path, record, sink.computed, skipped, wall, sink.windows, missing, pending_configs, len(keys)
    )


def has_forecasts(folder: Path, key: EntryKey) -> bool:
    """Whether ``folder`` holds stored forecasts of ``key.config`` computed under ``key`` (a run with
    ``--save-forecasts`` recomputes a journaled config whose forecasts are missing or from another key)."""
    from toto_bench.forecasts import forecast_key, forecasts_path

    path = forecasts_path(folder, key.config)
    if not path.is_file():
        return False
    try:
        return forecast_key(path) == {"spec": key.spec, "data": key.data, "protocol": key.protocol}
    except RunError:  # not a forecasts file (torn by hand, other format): recompute it
        return False


def load_run_record(folder: Path) -> dict[str, Any]:
    """Read ``config.json`` of a run folder."""
    return dict(json.loads((folder / RUN_RECORD_NAME).read_text()))
