"""Forecasting: the windows' contexts streamed through a model, the forecasts scattered back per series.

Data flow per series ``target [V, T]`` and task::

    cuts [W]  ──►  contexts target[:, lo:cut]  ──►  model  ──►  quantiles [w, V, H, Q] (+ mean), w ≤ W
                                                                     │   (chunks of bounded size)
                    labels [w, V, H] (+ per-window scales)  ──►  scorer.update  ──►  scorer.row()

The engine never copies a context: models get views ``target[:, lo:cut]`` of the stored series.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

import numpy as np

from toto_bench.adapters.base import Forecaster, PrefixForecaster, QuantileForecast, TaskAware
from toto_bench.engine.checks import forecast_problem
from toto_bench.engine.protocol import EngineTask, RunError, Scorer
from toto_bench.engine.tasks import Task
from toto_bench.metrics.quantiles import QUANTILE_LEVELS

__all__ = [
    "FORECAST_BUDGET",
    "ForecastPart",
    "forecast_parts",
    "forecast_series",
    "forecast_windows",
    "score_task",
]

#: Forecast values (windows × variates × H × quantiles) the engine hands a scorer at once when a protocol
#: asks for bounded batches (LSF: thousands of stride-1 windows): 2**24 float32 values, 64 MiB.
FORECAST_BUDGET = 1 << 24


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


def _call(model: Forecaster, task: EngineTask, what: str, call: Any, *args: Any) -> QuantileForecast:
    """``call(*args)`` (the model's ``predict``/``predict_prefixes``) with errors that name the config and
    ``what`` (the first series and window of the batch) and a check that it returned a forecast."""
    name = getattr(model, "name", type(model).__name__)
    try:
        out = call(*args, **_model_kwargs(task))
    except RunError:
        raise
    except Exception as exc:
        raise RunError(
            f"{task.config}: model {name!r} raised on the batch starting at {what}: {type(exc).__name__}: "
            f"{exc}; fix the adapter, or leave the dataset out with --datasets"
        ) from exc
    if not isinstance(out, QuantileForecast):
        raise RunError(
            f"{task.config}: model {name!r} returned {type(out).__name__}, not a QuantileForecast, for the "
            f"batch starting at {what}; it must return QuantileForecast(quantiles [n, V, H, Q], levels)"
        )
    return out


def _where(item_ids: Sequence[str] | None, index: int, window: int) -> str:
    series = repr(item_ids[index]) if item_ids is not None else f"index {index}"
    return f"series {series} window {window}"


def forecast_parts(
    model: Forecaster,
    targets: Sequence[np.ndarray],
    cuts: Sequence[np.ndarray],
    task: EngineTask,
    *,
    context_length: int | None = None,
    bounded: bool = False,
    budget: int = FORECAST_BUDGET,
    item_ids: Sequence[str] | None = None,
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
        item_ids: the series' ids, to name them in errors (else their index).

    Yields:
        :class:`ForecastPart` with ``quantiles [n, V_i, H, Q]`` (+ mean); univariate models see each variate
        alone and their outputs are reassembled to ``[n, V_i, H, Q]``.
    """
    horizon = task.prediction_length
    n_q = len(QUANTILE_LEVELS)
    if isinstance(model, PrefixForecaster) and context_length is None:
        for i, (target, c) in enumerate(zip(targets, cuts, strict=True)):
            step = max(1, budget // max(1, target.shape[0] * horizon * n_q)) if bounded else max(1, len(c))
            for s in range(0, len(c), step):
                what = _where(item_ids, i, s)
                out = _call(model, task, what, model.predict_prefixes, target, c[s : s + step], horizon)
                yield ForecastPart(i, s, out)
        return
    yield from _list_parts(model, targets, cuts, task, context_length, bounded, budget, item_ids)


def _list_parts(
    model: Forecaster,
    targets: Sequence[np.ndarray],
    cuts: Sequence[np.ndarray],
    task: EngineTask,
    context_length: int | None,
    bounded: bool,
    budget: int,
    item_ids: Sequence[str] | None,
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
        first = series
        while totals[first] == 0:
            first += 1
        at = consumed if first == series else 0
        what = _where(item_ids, first, at // per_window[first])
        out = _call(model, task, what, model.predict, chunk, horizon)
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


def score_task(
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

    A :class:`~toto_bench.adapters.base.TaskAware` model is told each config first (some notebooks fix the
    context length per config from its first test input).
    """
    targets = [target for _, target in items]
    if isinstance(model, TaskAware):
        first = next((int(c[0]) for c in cuts if len(c)), None)
        if context_length is not None and first is not None:
            first = min(first, context_length)
        model.begin_task(task, first_context_length=first)
    sorted_declared = bool(getattr(model, "quantiles_sorted", True))
    ids = [item_id for item_id, _ in items]
    parts = forecast_parts(
        model, targets, cuts, task, context_length=context_length, bounded=bounded, item_ids=ids
    )
    for part in parts:
        item_id, target = items[part.index]
        stop = part.start + part.forecast.quantiles.shape[0]
        problem = forecast_problem(
            part.forecast.quantiles,
            part.forecast.levels,
            sorted_declared=sorted_declared,
            windows=range(part.start, stop),
        )
        if problem:
            name = getattr(model, "name", type(model).__name__)
            raise RunError(f"{task.config}: model {name!r}, series {item_id!r} {problem}")
        scorer.update(
            part.index, item_id, target, part.start, cuts[part.index][part.start : stop], part.forecast
        )
    return scorer
