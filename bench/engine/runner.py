"""The driver of a run: one loop serves every suite (GIFT-Eval, BOOM, Boomlet, TIME, LSF).

A suite is a declarative spec (:class:`~toto_bench.engine.spec.Suite`) whose protocol
(:class:`~toto_bench.engine.protocol.SuiteProtocol`) says where its data is and how a dataset is opened
(LSF z-scores its CSV there), which tasks a dataset yields, where each series' windows start, and which
scorer turns forecasts into the results row. The engine does the rest, identically for every suite.

:func:`run_suite` plans: each selected dataset's configs not yet in the results store under their key
become a work unit (:class:`~toto_bench.engine.units.WorkUnit`; with ``--shard I/N`` only this shard's
datasets). An executor (:mod:`toto_bench.engine.executors`: in process, or Ray actors) runs the units
(:meth:`~toto_bench.engine.units.UnitJob.run`: open the dataset once, never a whole suite in memory; for each
pending term derive the task, cut the windows of every series and stream their contexts through the model,
:mod:`toto_bench.engine.forecasting`, feeding the forecasts to the task's scorer chunk by chunk). Every
finished config goes back to the driver, which commits it to the results store at once;
``all_results.csv`` is written when every config of the selection is in the store.

Scorers: GIFT-Eval/BOOM pool the 11 gluonts metrics over a config (:mod:`toto_bench.suites.gift_eval`);
TIME scores every (series, window, variate) (:mod:`toto_bench.suites.time`); LSF pools MSE/MAE of the
median (:mod:`toto_bench.suites.lsf`).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toto_bench.adapters.base import Forecaster
from toto_bench.engine.lock import FolderLock
from toto_bench.engine.protocol import RunError, SuiteProtocol
from toto_bench.engine.record import ResourceMonitor, build_run_record
from toto_bench.engine.spec import Suite
from toto_bench.engine.store import (
    JOURNAL_NAME,
    PROTOCOL_VERSION,
    EntryKey,
    ResultsStore,
    remove_stale_temp_files,
    spec_hash,
    write_json_atomic,
)
from toto_bench.engine.units import ConfigResult, UnitJob, WorkUnit

if TYPE_CHECKING:
    from toto_bench.engine.executors import Executor, Shard

__all__ = [
    "RunError",
    "RunInterrupted",
    "RunOptions",
    "RunSummary",
    "fallbacks_by_reason",
    "has_forecasts",
    "make_protocol",
    "run_suite",
]

RUN_RECORD_NAME = "config.json"


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
        executor: runs the work units (:mod:`toto_bench.engine.executors`); default: in this process.
        shard: run only this shard's datasets (``--shard I/N``); journal and run record get shard names.
        model_card: model-card fields written at the top level of the run record (``model_type``, read by
            the GIFT-Eval board's columns and filters like upstream ``config.json`` files); not hashed.
        save_forecasts: save every config's forecasts beside the results (``ForecastRecorder``).
        wait: when another run holds the results folder's lock, wait for it instead of failing.
        expect_sha256: the sha256 of the checkpoint weights (``--expect-sha256``), checked when the model is
            built, before any forecast; recorded, not hashed into the results key (it changes no number).
        batching: ``pooled`` (default): a model that shares batches gets calls filled with contexts of
            several configs and datasets; ``config``: each config's own calls, as before cross-config
            batching (:mod:`toto_bench.engine.batching`). Not hashed: the numbers agree to the float
            tolerance of docs/running.md.
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
    wait: bool = False
    expect_sha256: str | None = None
    batching: str = "pooled"


@dataclass
class RunSummary:
    """What a run did: where its results are, how long it took, which datasets had no data (LSF).

    ``pending`` counts the configs of the selection not in the store yet (other shards still running);
    ``all_results.csv`` is written only when it is 0. ``configs`` is the size of the selection.
    ``fallbacks`` maps each fallback reason (``time_limit``, ``exception``, ...) to the configs computed in
    this run whose rows hold seasonal-naive substitutes for that reason (the run record lists the details).
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
    fallbacks: dict[str, list[str]] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Whether every config of the selection is in the store (and ``all_results.csv`` was written)."""
        return self.pending == 0


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run; the message says how many configs are saved and how to resume."""


def make_protocol(suite: Suite, options: RunOptions) -> SuiteProtocol:
    """``suite``'s protocol (:attr:`Suite.protocol`), configured with the run's options.

    Raises:
        ValueError: an option the suite's protocol does not take (named with the valid ones).
    """
    allowed = suite.protocol_options
    unknown = sorted(set(options.protocol_options) - set(allowed))
    if unknown:
        valid = ", ".join(allowed) if allowed else "none"
        raise ValueError(f"suite {suite.name!r} takes no protocol option {unknown}; valid options: {valid}")
    return suite.protocol(suite, allow_nan_forecast=options.allow_nan_forecast, **options.protocol_options)


def _progress(total: int, desc: str, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="config", disable=not enabled, dynamic_ncols=True)


#: Seconds between two ``fsync`` of the journal at most (besides the one at the end of the run). Every
#: config's line is written (``os.write``) as it finishes, so a killed process loses nothing finished; the
#: interval bounds what a machine crash can lose, without one ``fsync`` per dataset (2807 on BOOM).
SYNC_INTERVAL_S = 2.0


class _Commit:
    """The driver's side of an executor: commits each finished config to the store as it arrives."""

    def __init__(self, store: ResultsStore, bar: Any, sync_interval: float | None = None) -> None:
        self.store = store
        self.bar = bar
        self.computed = 0
        self.windows = 0
        self.sync_interval = SYNC_INTERVAL_S if sync_interval is None else sync_interval
        self._synced_at = time.monotonic()

    def commit(self, result: ConfigResult) -> None:
        self.store.add(result.key, result.row)
        self.computed += 1
        self.windows += result.windows
        self.bar.update(1)

    def unit_done(self, unit: WorkUnit) -> None:
        if time.monotonic() - self._synced_at >= self.sync_interval:
            self.sync()

    def sync(self) -> None:
        self.store.sync()
        self._synced_at = time.monotonic()


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
    from toto_bench.engine.batching import BATCHING_MODES
    from toto_bench.engine.executors import LocalExecutor

    if options.batching not in BATCHING_MODES:
        raise ValueError(f"batching must be one of {', '.join(BATCHING_MODES)}, got {options.batching!r}")
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
    lock_name = ".lock" if shard is None else f".{shard.journal_name.removesuffix('.jsonl')}.lock"
    lock = FolderLock(folder, lock_name, wait=options.wait).acquire()
    if lock.recovered:
        print(
            f"toto-bench: took over the lock of {folder} left by a process that is gone "
            f"(pid {lock.recovered.get('pid')} on {lock.recovered.get('host')})",
            file=sys.stderr,
        )
    try:
        remove_stale_temp_files(folder)
        store = ResultsStore(folder, protocol.result_columns, shard.journal_name if shard else JOURNAL_NAME)

        # planning: the keys of the whole selection (the CSV needs them all), this shard's pending configs
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

        job = UnitJob(
            protocol,
            model_name,
            model_factory,
            root,
            folder,
            settings,
            options.save_forecasts,
            options.expect_sha256,
            batching=options.batching,
        )
        monitor = ResourceMonitor().start()
        total = skipped + sum(len(u.keys) for u in units)
        bar = _progress(total, f"{suite.name} · {model_name}", options.progress)
        bar.update(skipped)
        sink = _Commit(store, bar)
        try:
            report = executor.execute(job, units, sink)
        except KeyboardInterrupt:
            raise RunInterrupted(
                f"interrupted: {sink.computed} config(s) computed now and {skipped} earlier are saved in "
                f"{folder}; rerun the same command to resume"
            ) from None
        finally:
            bar.close()
            sink.sync()  # at exit, also when the run stops on an error
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
            "batching": report.batches or {"mode": options.batching, "shared_across_configs": False},
            "command": sys.argv,
            "expect_sha256": options.expect_sha256,
            **options.model_card,
        }
        record_payload = build_run_record(
            base=record_payload,
            model=None,
            monitor=monitor,
            windows=sink.windows,
            model_details=report.details,
            fallbacks=report.fallbacks,
        )
        wall = float(record_payload["wall_seconds"])
        record = folder / (shard.record_name if shard else RUN_RECORD_NAME)
        write_json_atomic(record, record_payload)
        if shard is not None and not pending_configs:  # the shard that completed the CSV records the run
            record = folder / RUN_RECORD_NAME
            write_json_atomic(record, record_payload)
        return RunSummary(
            csv_path,
            record,
            sink.computed,
            skipped,
            wall,
            sink.windows,
            missing,
            pending_configs,
            len(keys),
            fallbacks_by_reason(record_payload["fallbacks"]),
        )
    finally:
        lock.release()


def fallbacks_by_reason(fallbacks: Sequence[dict[str, Any]]) -> dict[str, list[str]]:
    """``{reason: sorted configs}`` of a run record's ``fallbacks`` list (records without a config are
    counted under ``"?"``)."""
    out: dict[str, set[str]] = {}
    for item in fallbacks:
        out.setdefault(str(item.get("reason", "?")), set()).add(str(item.get("config") or "?"))
    return {reason: sorted(configs) for reason, configs in sorted(out.items())}


def has_forecasts(folder: Path, key: EntryKey) -> bool:
    """Whether ``folder`` holds stored forecasts of ``key.config`` computed under ``key`` (a run with
    ``--save-forecasts`` recomputes a journaled config whose forecasts are missing or from another key)."""
    from toto_bench.engine.forecasts import forecast_key, forecasts_path

    path = forecasts_path(folder, key.config)
    if not path.is_file():
        return False
    try:
        return forecast_key(path) == {"spec": key.spec, "data": key.data, "protocol": key.protocol}
    except RunError:  # not a forecasts file (torn by hand, other format): recompute it
        return False
