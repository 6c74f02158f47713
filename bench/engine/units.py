"""Work units: planned by the driver (:func:`toto_bench.engine.runner.run_suite`), executed by an executor
(:mod:`toto_bench.engine.executors`: in process or on Ray actors).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toto_bench.adapters.base import Forecaster
from toto_bench.engine.forecasting import score_task
from toto_bench.engine.protocol import RunError, SuiteProtocol
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
    """

    protocol: SuiteProtocol
    model_name: str
    model_factory: Callable[[], Forecaster]
    root: Path
    folder: Path
    settings: Mapping[str, Any]
    save_forecasts: bool = False
    expect_sha256: str | None = None

    def build_model(self) -> Forecaster:
        """Build the model; with :attr:`expect_sha256`, raise :class:`RunError` unless its weights match."""
        model = self.model_factory()
        if self.expect_sha256 is not None:
            problem = weights_problem(describe_model(model), self.expect_sha256)
            if problem:
                raise RunError(f"model {self.model_name!r}: {problem}")
        return model

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
                from toto_bench.engine.forecasts import ForecastRecorder

                scorer = ForecastRecorder(scorer, self.folder, task.config, key=keys[task.term])
            cuts = [protocol.cuts(task, item_id, target.shape[1]) for item_id, target in items]
            score_task(
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
