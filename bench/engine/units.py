"""Work units: planned by the driver (:func:`toto_bench.engine.runner.run_suite`), executed by an executor
(:mod:`toto_bench.engine.executors`: in process or on Ray actors).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from toto_bench.adapters.base import Forecaster
from toto_bench.engine.batching import DEFAULT_MAX_OPEN, BatchPool, BatchStats, PooledConfig, shares_batches
from toto_bench.engine.forecasting import score_task
from toto_bench.engine.protocol import RunError, Scorer, SuiteProtocol
from toto_bench.engine.record import describe_model, weights_problem
from toto_bench.engine.spec import DatasetSpec
from toto_bench.engine.store import EntryKey

__all__ = ["ConfigResult", "UnitJob", "WorkUnit"]


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
            :class:`~toto_bench.engine.executors.ModelRecipe` for executors in other processes.
        root: the suite data root (on a cluster: a path every worker sees).
        folder: the run folder, where scorers write side outputs (TIME ``metrics.npz``, saved forecasts).
        settings: the run settings (recorded beside side outputs).
        save_forecasts: wrap each scorer in a ``ForecastRecorder`` that saves the forecasts.
        expect_sha256: the sha256 the model's checkpoint weights must have (``--expect-sha256``), checked
            right after the model is built, before any forecast; ``None``: not checked.
        batching: ``pooled`` (fill the model's calls across configs and datasets when it shares batches) or
            ``config`` (each config's own calls, in order); see :mod:`toto_bench.engine.batching`.
        max_open: with ``pooled``, configs waiting for forecasts at most (bounds the uncommitted tail).
    """

    protocol: SuiteProtocol
    model_name: str
    model_factory: Callable[[], Forecaster]
    root: Path
    folder: Path
    settings: Mapping[str, Any]
    save_forecasts: bool = False
    expect_sha256: str | None = None
    batching: str = "pooled"
    max_open: int = DEFAULT_MAX_OPEN

    def build_model(self) -> Forecaster:
        """Build the model; with :attr:`expect_sha256`, raise :class:`RunError` unless its weights match."""
        model = self.model_factory()
        if self.expect_sha256 is not None:
            problem = weights_problem(describe_model(model), self.expect_sha256)
            if problem:
                raise RunError(f"model {self.model_name!r}: {problem}")
        return model

    def run(self, model: Forecaster, unit: WorkUnit) -> Iterator[ConfigResult]:
        """Open ``unit``'s dataset once and score its configs, yielding each when finished."""
        return self.run_many(model, [unit])

    def run_many(
        self, model: Forecaster, units: Iterable[WorkUnit], stats: BatchStats | None = None
    ) -> Iterator[ConfigResult]:
        """Score every config of ``units``, yielding each as soon as all its windows are scored.

        The next unit's dataset is opened (read, tasks derived, windows cut) on a background thread while
        the model computes. With ``batching="pooled"`` and a model that shares batches
        (:func:`~toto_bench.engine.batching.shares_batches`) the model's calls are filled with contexts of
        several configs and datasets (:class:`~toto_bench.engine.batching.BatchPool`); configs may then
        finish out of order, each still as soon as its last window is scored. Otherwise each config is
        forecast and scored on its own, in order (:func:`~toto_bench.engine.forecasting.score_task`).

        Args:
            model: the adapter.
            units: the work units, in the order to open them.
            stats: if given, the pooled model calls are counted into it.
        """
        protocol = self.protocol
        pooled = self.batching == "pooled" and shares_batches(
            model, bounded=protocol.bounded_batches, context_length=protocol.context_length
        )
        pool = (
            BatchPool(model, context_length=protocol.context_length, max_open=self.max_open)
            if pooled
            else None
        )
        opening = _prefetched(self._open, units)
        try:
            while True:
                try:
                    opened = next(opening)
                except StopIteration:
                    break
                except Exception:  # a dataset that cannot be opened: first score what is queued
                    if pool is not None:
                        for finished in pool.finish():
                            yield self._pooled_result(finished)
                    raise
                spec = opened.unit.spec
                for task, cuts in zip(opened.tasks, opened.cuts, strict=True):
                    key = opened.keys[task.term]
                    base, scorer = self._scorers(task, spec, model, key)
                    if pool is None:
                        score_task(
                            model,
                            opened.items,
                            task,
                            cuts,
                            scorer,
                            context_length=protocol.context_length,
                            bounded=protocol.bounded_batches,
                        )
                        yield self._result(task, key, base, scorer)
                        continue
                    config = PooledConfig(task, opened.items, cuts, scorer, tag=(key, base))
                    for finished in pool.add(config):
                        yield self._pooled_result(finished)
            if pool is not None:
                for finished in pool.finish():
                    yield self._pooled_result(finished)
        finally:
            opening.close()
            if pool is not None and stats is not None:
                stats.add(pool.stats)

    def _open(self, unit: WorkUnit) -> _Opened:
        """Read ``unit``'s dataset, derive its tasks and cut every series' windows."""
        protocol, spec = self.protocol, unit.spec
        keys = dict(unit.keys)
        data = protocol.open(self.root, spec)
        try:
            tasks = protocol.tasks(spec, list(keys), data, {term: key.config for term, key in keys.items()})
        except ValueError as exc:
            raise RunError(f"{protocol.suite.name} dataset {spec.storage_name!r}: {exc}") from exc
        protocol.check(data, tasks)
        items = [(series.item_id, series.target) for series in data]
        cuts = [
            [protocol.cuts(task, item_id, target.shape[1]) for item_id, target in items] for task in tasks
        ]
        return _Opened(unit, keys, list(tasks), items, cuts)

    def _scorers(
        self, task: Any, spec: DatasetSpec, model: Forecaster, key: EntryKey
    ) -> tuple[Scorer, Scorer]:
        """The task's scorer, and what feeds it (a ``ForecastRecorder`` around it with ``save_forecasts``)."""
        base = self.protocol.scorer(task, spec, model)
        if not self.save_forecasts:
            return base, base
        from toto_bench.engine.forecasts import ForecastRecorder

        return base, ForecastRecorder(base, self.folder, task.config, key=key)

    def _pooled_result(self, config: PooledConfig) -> ConfigResult:
        key, base = config.tag
        return self._result(config.task, key, base, config.scorer)

    def _result(self, task: Any, key: EntryKey, base: Scorer, scorer: Scorer) -> ConfigResult:
        row: dict[str, Any] = {"dataset": task.config, "model": self.model_name, **scorer.row()}
        scorer.finish(self.folder, self.settings)
        return ConfigResult(key, row, base.instances)


@dataclass(frozen=True)
class _Opened:
    """A unit's dataset, opened: its results keys by term, tasks, ``(item_id, target)`` series and, per
    task, each series' window cuts."""

    unit: WorkUnit
    keys: dict[str, EntryKey]
    tasks: list[Any]
    items: list[tuple[str, np.ndarray]]
    cuts: list[list[np.ndarray]]


def _prefetched(
    open_unit: Callable[[WorkUnit], _Opened], units: Iterable[WorkUnit]
) -> Generator[_Opened, None, None]:
    """``open_unit(u)`` of each of ``units`` in order, the next one opened on a background thread while
    the caller works on the current one (one ahead: at most two datasets in memory besides the pool's)."""
    from concurrent.futures import Future, ThreadPoolExecutor

    it = iter(units)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="toto-bench-prefetch") as pool:
        nxt: Future[_Opened] | None = None
        first = next(it, None)
        if first is not None:
            nxt = pool.submit(open_unit, first)
        try:
            while nxt is not None:
                opened = nxt.result()
                following = next(it, None)
                nxt = None if following is None else pool.submit(open_unit, following)
                yield opened
        finally:
            if nxt is not None:
                nxt.cancel()
