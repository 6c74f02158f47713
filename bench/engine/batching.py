"""Cross-config batching: one model call filled with the contexts of several configs (and datasets).

A BOOM config hands a model 1-20 contexts; with a batch of 64 most calls would run nearly empty. A
:class:`BatchPool` collects the contexts of many configs in queues, one per *group* (contexts that may share a
call: same horizon, same number of variates, same adapter group, see
:class:`~toto_bench.adapters.base.SharesBatches`), calls the model whenever a queue holds ``batch_size``
contexts, and scatters the forecasts back::

    config A: contexts a1..a5  ─┐                      ┌─► A's series, complete, in order ─► A.scorer
    config B: contexts b1..b9  ─┼─► queue[(H, V, g)] ──┤
    config C: contexts c1..c60 ─┘   calls of batch_size └─► ...                             ─► C.scorer

Each config's scorer gets exactly the calls the per-config path makes (:func:`forecasting.score_task`): one
``update`` per series with windows, in series order, with all its windows. A config is finished (its row can
be committed) once its last context's call returned; contexts wait in their queue at most until
``max_open`` configs are open, then the oldest open config's queues are flushed, partly filled, so the
uncommitted tail of a run (and the data held in memory) stays bounded.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from toto_bench.adapters.base import (
    Forecaster,
    PrefixForecaster,
    QuantileForecast,
    SharesBatches,
    TaskAware,
)
from toto_bench.engine.checks import forecast_problem
from toto_bench.engine.protocol import EngineTask, RunError, Scorer

__all__ = ["BATCHING_MODES", "DEFAULT_MAX_OPEN", "BatchPool", "BatchStats", "PooledConfig", "shares_batches"]

#: ``--batching`` choices: ``pooled`` fills model calls across configs and datasets (the default);
#: ``config`` keeps one config's contexts per call, the path of toto-bench <= 0.x (exact per-config batches).
BATCHING_MODES: tuple[str, ...] = ("pooled", "config")

#: Configs with contexts still waiting in a queue, at most, before the oldest one is flushed.
DEFAULT_MAX_OPEN = 64


def shares_batches(model: Forecaster, *, bounded: bool, context_length: int | None) -> bool:
    """Whether the engine may fill ``model``'s calls across configs: it declares
    :class:`~toto_bench.adapters.base.SharesBatches`, has a ``batch_size``, is neither task-aware nor served
    by its prefix fast path, and the protocol does not bound batches by output size (LSF)."""
    if not isinstance(model, SharesBatches) or isinstance(model, TaskAware) or bounded:
        return False
    if isinstance(model, PrefixForecaster) and context_length is None:
        return False
    return int(getattr(model, "batch_size", 0) or 0) >= 1


@dataclass
class BatchStats:
    """Model calls made and contexts handed over (for the run record and the throughput benchmark)."""

    calls: int = 0
    contexts: int = 0

    def add(self, other: BatchStats) -> None:
        self.calls += other.calls
        self.contexts += other.contexts

    def mean_fill(self, batch_size: int) -> float:
        """Mean contexts per call / ``batch_size`` (``nan`` without calls)."""
        return self.contexts / self.calls / batch_size if self.calls and batch_size else float("nan")


@dataclass(eq=False)
class PooledConfig:
    """One config in the pool: its series, window cuts and scorer, and the forecasts received so far.

    Attributes:
        task: the config.
        items: ``(item_id, target [V_i, T_i])`` of each series.
        cuts: ``[W_i]`` window starts of each series.
        scorer: fed once per series with windows, in series order.
        tag: what the caller wants back with the finished config (its results key, ...).
    """

    task: EngineTask
    items: Sequence[tuple[str, np.ndarray]]
    cuts: Sequence[np.ndarray]
    scorer: Scorer
    tag: Any = None
    per_window: list[int] = field(default_factory=list)  # contexts per window of each series
    quantiles: list[np.ndarray | None] = field(default_factory=list)  # [W_i·k_i, v, H, Q] once allocated
    means: list[np.ndarray | None] = field(default_factory=list)
    has_mean: bool = True
    received: list[int] = field(default_factory=list)
    cursor: int = 0  # the next series to hand the scorer
    waiting: int = 0  # contexts not forecast yet

    @property
    def done(self) -> bool:
        return self.cursor == len(self.items)


@dataclass(frozen=True)
class _Slot:
    """One context in a queue: row ``row`` of series ``series`` of ``config``."""

    config: PooledConfig
    series: int
    row: int
    context: np.ndarray


class BatchPool:
    """Queues of contexts, one per group, flushed into model calls of ``model.batch_size`` contexts.

    Args:
        model: the adapter (see :func:`shares_batches`).
        context_length: the protocol's cap on the history (``None``: the full history).
        max_open: open configs at most before the oldest one's queues are flushed partly filled.
    """

    def __init__(
        self, model: Forecaster, *, context_length: int | None = None, max_open: int = DEFAULT_MAX_OPEN
    ) -> None:
        if max_open < 1:
            raise ValueError(f"max_open must be >= 1, got {max_open}")
        self.model = model
        self.context_length = context_length
        self.max_open = max_open
        self.batch_size = int(getattr(model, "batch_size", 0) or 0)
        if self.batch_size < 1:
            raise ValueError(f"a batch pool needs a model with a batch_size >= 1, got {self.batch_size}")
        self.multivariate = bool(model.supports_multivariate)
        self.sorted_declared = bool(getattr(model, "quantiles_sorted", True))
        self.stats = BatchStats()
        self._queues: dict[Hashable, deque[_Slot]] = {}
        self._open: deque[PooledConfig] = deque()  # configs in the order they were added
        self._finished: deque[PooledConfig] = deque()

    # ------------------------------------------------------------------ filling
    def _group(self, task: EngineTask, n_var: int) -> Hashable:
        group = self.model.batch_group(task) if isinstance(self.model, SharesBatches) else None
        if group is None:  # the adapter does not share this config's calls: a queue of its own
            return ("config", id(task), task.prediction_length, n_var)
        return ("shared", task.prediction_length, n_var, group)

    def add(self, config: PooledConfig) -> Iterator[PooledConfig]:
        """Queue every context of ``config``; yield the configs that this (or a forced flush) finished."""
        n = len(config.items)
        config.per_window = [1 if self.multivariate else target.shape[0] for _, target in config.items]
        config.quantiles, config.means = [None] * n, [None] * n
        config.received = [0] * n
        config.cursor = 0
        self._open.append(config)
        touched: list[Hashable] = []
        for i, ((_, target), cuts) in enumerate(zip(config.items, config.cuts, strict=True)):
            n_var = target.shape[0]
            key = self._group(config.task, n_var if self.multivariate else 1)
            queue = self._queues.setdefault(key, deque())
            row = 0
            for cut in cuts.tolist():
                lo = 0 if self.context_length is None else max(0, cut - self.context_length)
                if self.multivariate:
                    queue.append(_Slot(config, i, row, target[:, lo:cut]))
                    row += 1
                else:
                    for v in range(n_var):
                        queue.append(_Slot(config, i, row, target[v : v + 1, lo:cut]))
                        row += 1
            config.waiting += row
            if key not in touched:
                touched.append(key)
        self._advance(config)  # a config without windows is finished at once
        for key in touched:
            queue = self._queues[key]
            while len(queue) >= self.batch_size:
                self._call(queue)
        while len(self._open) > self.max_open:
            self._flush_oldest()
        yield from self._drain_finished()

    def finish(self) -> Iterator[PooledConfig]:
        """Flush every queue (partly filled calls) and yield the configs still open, all finished."""
        while self._open:
            self._flush_oldest()
        yield from self._drain_finished()

    def _flush_oldest(self) -> None:
        oldest = self._open[0]
        while not oldest.done:
            key = next(k for k, q in self._queues.items() if any(s.config is oldest for s in q))
            self._call(self._queues[key])
        self._drain_open()

    # ------------------------------------------------------------------ calling
    def _call(self, queue: deque[Any]) -> None:
        """One model call with the first ``batch_size`` contexts of ``queue``; scatter its forecasts."""
        slots = [queue.popleft() for _ in range(min(self.batch_size, len(queue)))]
        first = slots[0]
        task = first.config.task
        name = getattr(self.model, "name", type(self.model).__name__)
        item_id = first.config.items[first.series][0]
        window = first.row // first.config.per_window[first.series]
        where = f"series {item_id!r} window {window}"
        try:
            out = self.model.predict(
                [s.context for s in slots],
                task.prediction_length,
                freq=task.freq,
                seasonality=task.seasonality,
            )
        except RunError:
            raise
        except Exception as exc:
            raise RunError(
                f"{task.config}: model {name!r} raised on the batch starting at {where} (a batch shared with "
                f"other configs; --batching config gives each config its own batches): "
                f"{type(exc).__name__}: {exc}; fix the adapter, or leave the dataset out with --datasets"
            ) from exc
        if not isinstance(out, QuantileForecast):
            raise RunError(
                f"{task.config}: model {name!r} returned {type(out).__name__}, not a QuantileForecast, for "
                f"the batch starting at {where}; it must return QuantileForecast(quantiles [n, V, H, Q], "
                "levels)"
            )
        if out.quantiles.shape[0] != len(slots):
            raise RunError(
                f"{task.config}: model {name!r} returned {out.quantiles.shape[0]} forecasts for {len(slots)} "
                "contexts"
            )
        self.stats.calls += 1
        self.stats.contexts += len(slots)
        touched: list[PooledConfig] = []
        for k, slot in enumerate(slots):
            config, i = slot.config, slot.series
            q = config.quantiles[i]
            if q is None:
                rows = len(config.cuts[i]) * config.per_window[i]
                q = config.quantiles[i] = np.empty((rows, *out.quantiles.shape[1:]), out.quantiles.dtype)
                if out.mean is not None:
                    config.means[i] = np.empty((rows, *out.mean.shape[1:]), out.mean.dtype)
            q[slot.row] = out.quantiles[k]
            mean = config.means[i]
            if out.mean is None:
                config.has_mean = False
            elif mean is not None:
                mean[slot.row] = out.mean[k]
            config.received[i] += 1
            config.waiting -= 1
            if not touched or touched[-1] is not config:
                touched.append(config)
        for config in dict.fromkeys(touched):
            self._advance(config, out.levels)
        self._drain_open()

    # ------------------------------------------------------------------ scoring
    def _advance(self, config: PooledConfig, levels: tuple[float, ...] | None = None) -> None:
        """Hand ``config``'s scorer every complete series from its cursor on, in series order."""
        while config.cursor < len(config.items):
            i = config.cursor
            total = len(config.cuts[i]) * config.per_window[i]
            if config.received[i] < total:
                return
            config.cursor += 1
            if total == 0:
                continue
            q, mean = config.quantiles[i], config.means[i]
            config.quantiles[i] = config.means[i] = None  # the scorer keeps what it needs
            assert q is not None and levels is not None
            item_id, target = config.items[i]
            n_windows = len(config.cuts[i])
            if not self.multivariate:  # [W·V, 1, H, Q] → [W, V, H, Q]
                shape = (n_windows, target.shape[0], q.shape[2])
                q = q.reshape((*shape, -1))
                mean = None if mean is None else mean.reshape(shape)
            part = QuantileForecast(q, levels, mean if config.has_mean else None)
            problem = forecast_problem(
                part.quantiles, part.levels, sorted_declared=self.sorted_declared, windows=range(n_windows)
            )
            if problem:
                name = getattr(self.model, "name", type(self.model).__name__)
                raise RunError(f"{config.task.config}: model {name!r}, series {item_id!r} {problem}")
            config.scorer.update(i, item_id, target, 0, config.cuts[i], part)

    def _drain_open(self) -> None:
        """Move finished configs from the open list to the finished one, in the order they finished."""
        still = deque(c for c in self._open if not c.done)
        self._finished.extend(c for c in self._open if c.done)
        self._open = still

    def _drain_finished(self) -> Iterator[PooledConfig]:
        self._drain_open()
        while self._finished:
            yield self._finished.popleft()
