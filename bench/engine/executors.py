"""Executors: who runs the work units the engine (:func:`toto_bench.engine.runner.run_suite`) plans.

A work unit is one dataset's pending configs (:class:`~toto_bench.engine.units.WorkUnit`): a worker opens
the data once, scores each config and hands back one :class:`~toto_bench.engine.units.ConfigResult` per
finished config; the driver commits it to the results store at once, so killing the driver loses nothing
finished.

- :class:`LocalExecutor` (``--executor local``, the default): one model in this process, units in suite order;
  with ``--workers N`` (or ``auto`` for cheap CPU models) units over N worker processes of this machine
  (:mod:`toto_bench.engine.processes`).
- :class:`RayExecutor` (``--executor ray``): one actor per GPU (or per CPU slot when no GPU is in the
  cluster), each building the model once from a picklable :class:`ModelRecipe` and working through units
  handed out by the driver; results stream back config by config. A unit whose actor dies is given, minus
  its already committed configs, to a fresh actor, at most ``max_retries`` times.

Sharding (``--shard I/N``, :class:`Shard`) splits the suite's datasets for job arrays: every shard plans the
whole selection but runs only its own datasets, and appends to its own journal.
"""

from __future__ import annotations

import re
import socket
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

from toto_bench.adapters.base import ReportsFallbacks
from toto_bench.engine.batching import BatchStats
from toto_bench.engine.protocol import RunError
from toto_bench.engine.record import describe_model

if TYPE_CHECKING:
    from toto_bench.adapters.base import Forecaster
    from toto_bench.engine.units import ConfigResult, UnitJob, WorkUnit

__all__ = [
    "EXECUTORS",
    "Executor",
    "LocalExecutor",
    "ModelRecipe",
    "ModelReport",
    "RayExecutor",
    "ResultSink",
    "Shard",
    "parse_shard",
]

#: ``--executor`` choices.
EXECUTORS: tuple[str, ...] = ("local", "ray")

RAY_INSTALL_HINT = 'pip install "toto-bench[ray]"'


@dataclass(frozen=True)
class ModelRecipe:
    """A picklable way to build a registered model in another process: ``build_model(model, suite, ...)``.

    Attributes:
        model: the registered model name.
        suite: the suite whose model settings apply.
        overrides: command-line model settings (``checkpoint``, ``device``, ``batch_size``, ...).
    """

    model: str
    suite: str | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)

    def __call__(self) -> Forecaster:
        from toto_bench.adapters.registry import build_model

        return build_model(self.model, suite=self.suite, **dict(self.overrides))


class ResultSink(Protocol):
    """The driver's side: commits a finished config to the store; told when a unit is done."""

    def commit(self, result: ConfigResult) -> None: ...

    def unit_done(self, unit: WorkUnit) -> None: ...


@dataclass(frozen=True)
class ModelReport:
    """What an execution says about its model(s), for the run record.

    Attributes:
        details: :func:`~toto_bench.engine.record.describe_model` of a model the execution built (``None``
            when there was nothing to compute).
        fallbacks: the models' substitute-forecast records
            (:class:`~toto_bench.adapters.base.ReportsFallbacks`), from every worker.
        batches: how the model's calls were filled (:func:`_batches`): the batching mode, and with pooled
            batches the calls made, contexts handed over and mean fill (``None``: nothing computed).
    """

    details: dict[str, Any] | None = None
    fallbacks: tuple[Any, ...] = ()
    batches: dict[str, Any] | None = None


class Executor(ABC):
    """Runs work units and hands each finished config to the driver's sink as it arrives.

    Attributes:
        name: ``local`` or ``ray`` (recorded in the run record).
        workers: how many models work in parallel.
    """

    name: ClassVar[str]
    workers: int = 1

    @abstractmethod
    def execute(self, job: UnitJob, units: Sequence[WorkUnit], sink: ResultSink) -> ModelReport:
        """Run every unit of ``units``; call ``sink.commit`` per finished config (in the driver process).

        Returns:
            the models' description and fallback records, for the run record.
        """


#: ``--workers auto`` spreads a run over processes only from this many pending datasets on: a worker's
#: start-up and the dataset hand-off pay off on BOOM's 2807 datasets, not on a handful.
AUTO_MIN_UNITS = 64


class LocalExecutor(Executor):
    """On this machine: in this process (``workers=1``), or over worker processes
    (:mod:`toto_bench.engine.processes`: datasets dealt to the first idle worker, every finished config
    committed by this process's store; the results do not depend on the worker count).

    Args:
        workers: worker processes, or ``"auto"``: one per usable CPU when ``parallel_model`` and at least
            :data:`AUTO_MIN_UNITS` datasets are pending (never more than the datasets), else 1.
        parallel_model: the model is cheap, single-threaded and CPU-only (the registry's
            ``ModelSpec.dataset_workers``: seasonal naive, naive), so ``auto`` may use processes.

    Attributes:
        model: the in-process model of the last :meth:`execute` (``None`` when there was nothing to compute
            or the units ran in worker processes).
        workers: the worker count of the last :meth:`execute` (1 before it, or for ``auto`` in process).
    """

    name: ClassVar[str] = "local"

    def __init__(self, workers: int | Literal["auto"] = 1, *, parallel_model: bool = False) -> None:
        if workers != "auto" and (not isinstance(workers, int) or workers < 1):
            raise ValueError(f"workers must be a positive integer or 'auto', got {workers!r}")
        self.requested_workers = workers
        self.parallel_model = parallel_model
        self.workers = workers if isinstance(workers, int) else 1
        self.model: Forecaster | None = None

    def worker_count(self, pending_units: int) -> int:
        """Worker processes for ``pending_units`` datasets (1: in this process)."""
        if self.requested_workers == "auto":
            if not self.parallel_model or pending_units < AUTO_MIN_UNITS:
                return 1
            from toto_bench.engine.processes import usable_cpus

            return max(1, min(usable_cpus(), pending_units))
        return max(1, min(int(self.requested_workers), pending_units))

    def execute(self, job: UnitJob, units: Sequence[WorkUnit], sink: ResultSink) -> ModelReport:
        self.model = None
        if not units:
            return ModelReport()
        self.workers = self.worker_count(len(units))
        if self.workers > 1:
            from toto_bench.engine.processes import run_in_processes

            details, fallbacks = run_in_processes(job, units, sink, self.workers)
            return ModelReport(details, fallbacks)
        model = self.model = job.build_model()
        stats = BatchStats()
        left = {unit.name: len(unit.keys) for unit in units}
        by_key = {key: unit for unit in units for _, key in unit.keys}
        for result in job.run_many(model, units, stats):
            sink.commit(result)
            unit = by_key[result.key]
            left[unit.name] -= 1
            if not left[unit.name]:
                sink.unit_done(unit)
        batch = int(getattr(model, "batch_size", 0) or 0)
        return ModelReport(
            describe_model(model), _fallbacks(model), _batch_summary(job.batching, stats, batch)
        )


def _batch_summary(mode: str, stats: BatchStats, batch_size: int) -> dict[str, Any]:
    """The run record's ``batching`` entry: the mode asked for, whether calls were shared across configs,
    and for shared calls the calls, contexts and mean fill of ``batch_size``."""
    out: dict[str, Any] = {"mode": mode, "shared_across_configs": stats.calls > 0}
    if stats.calls:
        out.update(
            calls=stats.calls, contexts=stats.contexts, mean_fill=round(stats.mean_fill(batch_size), 4)
        )
    return out


def _fallbacks(model: Forecaster | None) -> tuple[Any, ...]:
    return tuple(model.fallbacks) if isinstance(model, ReportsFallbacks) else ()


class _UnitWorker:
    """A Ray actor's body: builds the model on its first units and keeps it for the next ones."""

    def __init__(self, job: UnitJob) -> None:
        self.job = job
        self.model: Forecaster | None = None
        self.stats = BatchStats()

    def run(self, units: Sequence[WorkUnit]) -> Any:  # a generator of ConfigResult (Ray streams it)
        if self.model is None:
            self.model = self.job.build_model()
        yield from self.job.run_many(self.model, units, self.stats)

    def fallbacks(self) -> tuple[Any, ...]:
        return _fallbacks(self.model)

    def details(self) -> dict[str, Any] | None:
        return None if self.model is None else describe_model(self.model)

    def batch_stats(self) -> tuple[int, int, int]:
        """``(calls, contexts, batch_size)`` of the pooled calls so far."""
        batch = int(getattr(self.model, "batch_size", 0) or 0)
        return self.stats.calls, self.stats.contexts, batch


#: Work units handed to a Ray actor at once, at most: their configs share the model's calls (pooled
#: batching) and their data is prefetched; a dead actor's undone units are retried one by one.
RAY_UNITS_PER_CALL = 32


def units_per_call(pending: int, workers: int) -> int:
    """Units to hand an actor when ``pending`` are queued: a quarter of an even share, 1 .. 32."""
    return max(1, min(RAY_UNITS_PER_CALL, pending // (4 * max(1, workers))))


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise ImportError(
            f"--executor ray needs Ray, which is not installed; install it with: {RAY_INSTALL_HINT}"
        ) from exc
    return ray


def check_reachable(address: str, timeout: float = 5.0) -> None:
    """Fail fast when a Ray ``address`` (``host:port`` or ``ray://host:port``) does not accept connections:
    ``ray.init`` would otherwise retry for minutes. ``auto`` and other forms are left to Ray.

    Raises:
        RunError: nothing listens at the address within ``timeout`` seconds.
    """
    match = re.fullmatch(r"(?:ray://)?\[?([^\]/]+?)\]?:(\d+)", address.strip())
    if match is None:
        return
    host, port = match.group(1), int(match.group(2))
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        raise RunError(
            f"cannot reach Ray at --address {address} ({type(exc).__name__}: {exc}); is the head node up "
            "(`ray start --head` there)? Leave --address out to start a local Ray instance"
        ) from None


class RayExecutor(Executor):
    """Work units on Ray actors, one per GPU (or CPU slot), each loading the model once.

    Args:
        address: a Ray cluster address (``auto``, ``ray://host:10001``, ``host:6379``); ``None`` connects to
            the instance this process already started, else ``$RAY_ADDRESS``, else starts a local one.
        workers: actors to start; default: the cluster's GPUs, or its CPUs when it has none. More workers
            than GPUs (CPUs) share them (fractional resources).
        max_retries: how often a unit whose actor died is retried on a fresh actor before the run stops.

    The actors open the data from ``job.root`` and write side outputs (TIME metrics, saved forecasts) under
    ``job.folder``: on a multi-node cluster both must be on a filesystem every node sees. The model must be
    built by a picklable factory (:class:`ModelRecipe`).
    """

    name: ClassVar[str] = "ray"

    def __init__(self, address: str | None = None, workers: int | None = None, max_retries: int = 2) -> None:
        if workers is not None and workers < 1:
            raise ValueError(f"workers must be a positive integer, got {workers}")
        if max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, got {max_retries}")
        self.address = address
        self.requested_workers = workers
        self.workers = workers or 0  # known once connected
        self.max_retries = max_retries

    def _connect(self, ray: Any) -> bool:
        """Connect to (or start) Ray; return whether this call started it (and must shut it down)."""
        if self.address is not None:
            check_reachable(self.address)
        if ray.is_initialized():
            return False
        try:
            if self.address is None:
                ray.init(include_dashboard=False)
            else:
                ray.init(address=self.address)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = f"--address {self.address}" if self.address else "$RAY_ADDRESS or a new local instance"
            raise RunError(f"could not start or join Ray ({where}): {type(exc).__name__}: {exc}") from exc
        return True

    def _resources(self, ray: Any) -> dict[str, float]:
        """Per-actor resources and the worker count: one GPU each if the cluster has GPUs, else one CPU."""
        cluster = ray.cluster_resources()
        gpus, cpus = float(cluster.get("GPU", 0)), float(cluster.get("CPU", 1))
        kind, slots = ("num_gpus", gpus) if gpus >= 1 else ("num_cpus", cpus)
        self.workers = self.requested_workers or max(1, int(slots))
        share = min(1.0, slots / self.workers)
        resources = {kind: share}
        if kind == "num_gpus":
            resources["num_cpus"] = 0
        return resources

    def execute(self, job: UnitJob, units: Sequence[WorkUnit], sink: ResultSink) -> ModelReport:
        ray = _import_ray()
        if not units:
            return ModelReport()
        started = self._connect(ray)
        try:
            return self._execute(ray, job, units, sink)
        finally:
            if started:
                ray.shutdown()

    def _execute(self, ray: Any, job: UnitJob, units: Sequence[WorkUnit], sink: ResultSink) -> ModelReport:
        from ray.exceptions import RayActorError, RayTaskError

        actor_class = ray.remote(max_restarts=0)(_UnitWorker).options(**self._resources(ray))
        # absolute paths: a worker's working directory need not be the driver's
        job_ref = ray.put(replace(job, root=job.root.resolve(), folder=job.folder.resolve()))
        queue: deque[tuple[WorkUnit, ...]] = deque((u,) for u in units)
        attempts: dict[str, int] = {}
        idle = [actor_class.remote(job_ref) for _ in range(min(self.workers, len(units)))]
        # generator → (actor, units, configs committed so far, units already reported done)
        running: dict[Any, tuple[Any, tuple[WorkUnit, ...], list[Any], set[str]]] = {}
        live: list[Any] = list(idle)
        fallbacks: list[Any] = []
        try:
            while queue or running:
                while queue and idle:
                    take = units_per_call(len(queue), self.workers)
                    chunk: tuple[WorkUnit, ...] = ()
                    while queue and len(chunk) < take:
                        chunk += queue.popleft()
                    actor = idle.pop()
                    stream = actor.run.options(num_returns="streaming").remote(chunk)
                    running[stream] = (actor, chunk, [], set())
                ready, _ = ray.wait(list(running), num_returns=1, fetch_local=False)
                stream = ready[0]
                actor, chunk, done, reported = running[stream]
                try:
                    result = ray.get(next(stream))
                except StopIteration:
                    del running[stream]
                    for unit in chunk:
                        if unit.name not in reported:
                            sink.unit_done(unit)
                    idle.append(actor)
                    continue
                except RayTaskError as exc:  # the unit failed in the worker: report its own error
                    cause = exc.cause if isinstance(getattr(exc, "cause", None), BaseException) else None
                    raise (cause or RunError(str(exc))) from None
                except RayActorError as exc:
                    del running[stream]
                    live.remove(actor)
                    ray.kill(actor)
                    undone = [left for left in (u.without(done) for u in chunk) if left.keys]
                    for unit in chunk:
                        if unit.name not in reported and not any(u.name == unit.name for u in undone):
                            sink.unit_done(unit)
                    for left in undone:
                        attempts[left.name] = attempts.get(left.name, 0) + 1
                        if attempts[left.name] > self.max_retries:
                            raise RunError(
                                f"dataset {left.name!r}: its Ray worker died {attempts[left.name]} times "
                                f"(max_retries={self.max_retries}); {len(left.keys)} config(s) left undone, "
                                f"finished ones are kept: rerun the same command to resume. Last error: "
                                f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
                            ) from None
                    queue.extendleft((left,) for left in reversed(undone))  # retried one by one
                    replacement = actor_class.remote(job_ref)
                    live.append(replacement)
                    idle.append(replacement)
                    continue
                sink.commit(result)
                done.append(result.key)
                finished = _finished_units(chunk, done, reported)
                for unit in finished:
                    reported.add(unit.name)
                    sink.unit_done(unit)
            details: dict[str, Any] | None = None
            stats, batch = BatchStats(), 0
            for actor in live:
                try:
                    fallbacks += ray.get(actor.fallbacks.remote())
                    if details is None:
                        details = ray.get(actor.details.remote())
                    calls, contexts, size = ray.get(actor.batch_stats.remote())
                    stats.add(BatchStats(calls, contexts))
                    batch = batch or size
                except RayActorError:
                    continue
            return ModelReport(details, tuple(fallbacks), _batch_summary(job.batching, stats, batch))
        finally:
            for actor in live:
                ray.kill(actor)


def _finished_units(chunk: Sequence[WorkUnit], done: Sequence[Any], reported: set[str]) -> list[WorkUnit]:
    """The units of ``chunk`` whose every config is in ``done`` and that were not reported yet."""
    have = set(done)
    return [u for u in chunk if u.name not in reported and all(k in have for _, k in u.keys)]


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (1-based, ``--shard 1/4`` .. ``4/4``) of a suite's datasets.

    Datasets are dealt round-robin in selection order (the suite's, or the ``--datasets`` order): dataset
    ``k`` (0-based) goes to shard ``k mod count + 1``. The ``count`` shards of one command cover every
    selected dataset exactly once.
    """

    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError(f"shard count must be a positive integer, got {self.count}")
        if not 1 <= self.index <= self.count:
            raise ValueError(
                f"shard index {self.index} is out of range for {self.count} shards; valid: 1..{self.count} "
                f"(shards are numbered from 1)"
            )

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def select(self, names: Sequence[str]) -> list[str]:
        """This shard's share of ``names`` (kept in their order)."""
        return [name for k, name in enumerate(names) if k % self.count == self.index - 1]

    @property
    def journal_name(self) -> str:
        return f"journal.shard-{self.index}-of-{self.count}.jsonl"

    @property
    def record_name(self) -> str:
        return f"config.shard-{self.index}-of-{self.count}.json"


def parse_shard(text: str) -> Shard:
    """``"2/4"`` → ``Shard(2, 4)``; raises ``ValueError`` naming the expected form and the valid range."""
    match = re.fullmatch(r"\s*(-?\d+)\s*/\s*(-?\d+)\s*", text)
    if match is None:
        raise ValueError(f"--shard must look like I/N (e.g. 2/4, shards numbered 1..N), got {text!r}")
    return Shard(int(match.group(1)), int(match.group(2)))
