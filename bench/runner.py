"""The protocol engine: one loop that serves every GIFT-Eval-style suite (GIFT-Eval, BOOM, Boomlet).

For each selected dataset (loaded one at a time, never a whole suite in memory) and each of its pending
terms: derive the task (H, W, m), cut the windows of every stored series, forecast them, and score them with
gluonts semantics. Every finished config is committed to the results store before the next one starts.

Data flow per series ``target [V, T]`` and task ``(H, W, m)``::

    cuts [W]  ──►  labels [W, V, H],  seasonal errors [W, V]  (one cumulative pass)
         └──────►  model: quantiles [W, V, H, 9] (+ mean)  ──►  MetricAccumulator
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from toto_bench import __version__
from toto_bench.adapters.base import QUANTILE_LEVELS, Forecaster, PrefixForecaster, QuantileForecast
from toto_bench.data import StoredDataset, load_dataset, resolve_data_dir
from toto_bench.metrics import METRIC_NAMES, MetricAccumulator, seasonal_errors
from toto_bench.protocol import Task, build_task, window_cuts
from toto_bench.store import PROTOCOL_VERSION, EntryKey, ResultsStore, spec_hash, write_json_atomic
from toto_bench.suites import DatasetSpec, Suite

#: ``all_results.csv`` columns: the upstream schema.
RESULT_COLUMNS: tuple[str, ...] = (
    "dataset",
    "model",
    *(f"eval_metrics/{name}" for name in METRIC_NAMES),
    "domain",
    "num_variates",
    "dataset_size",
)

RUN_RECORD_NAME = "config.json"


class RunError(Exception):
    """A run stopped on bad input; finished configs stay committed and a rerun resumes."""


@dataclass
class RunOptions:
    """What ``toto-bench run`` was asked to do.

    Attributes:
        datasets: storage names to run (default: all of the suite).
        terms: terms to run (default: each dataset's terms).
        output_dir: results root; the run writes ``<output_dir>/<suite>/<model>/``.
        data_dir: suite data root (else the env var / cache default of :mod:`toto_bench.data`).
        allow_nan_forecast: score NaN forecasts as gluonts does with ``allow_nan_forecast=True``.
        progress: show a progress bar.
    """

    datasets: Sequence[str] | None = None
    terms: Sequence[str] | None = None
    output_dir: Path = Path("results")
    data_dir: str | os.PathLike[str] | None = None
    allow_nan_forecast: bool = False
    progress: bool = True
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunSummary:
    """What a run did: where its results are and how long it took."""

    results_csv: Path
    record: Path
    computed: int
    skipped: int
    wall_seconds: float
    windows: int


def data_fingerprint(path: Path) -> str:
    """A cheap fingerprint of one stored dataset folder: ``state.json`` plus the arrow files' sizes."""
    digest = hashlib.sha256()
    state = path / "state.json"
    if state.is_file():
        digest.update(state.read_bytes())
    for arrow in sorted(path.glob("*.arrow")):
        digest.update(f"{arrow.name}:{arrow.stat().st_size}".encode())
    return digest.hexdigest()[:16]


def _split_univariate(out: QuantileForecast, n_windows: int, n_var: int, horizon: int) -> QuantileForecast:
    """``[W·V, 1, H, Q]`` (window-major contexts of one variate each) → ``[W, V, H, Q]``."""
    shape = (n_windows, n_var, horizon)
    mean = None if out.mean is None else out.mean.reshape(shape)
    return QuantileForecast(out.quantiles.reshape((*shape, -1)), out.levels, mean)


def _contexts(model: Forecaster, target: np.ndarray, cuts: np.ndarray) -> list[np.ndarray]:
    """The contexts the model sees for one series: whole ``[V, c]`` items, or ``[1, c]`` per variate."""
    if model.supports_multivariate:
        return [target[:, :c] for c in cuts]
    return [target[v : v + 1, :c] for c in cuts for v in range(target.shape[0])]


def forecast_windows(model: Forecaster, target: np.ndarray, cuts: np.ndarray, task: Task) -> QuantileForecast:
    """Forecast every window of one series.

    Args:
        model: the adapter.
        target: float32 ``[V, T]`` full series.
        cuts: ``[W]`` window starts; window ``w``'s context is ``target[:, :cuts[w]]``.
        task: the config (horizon, freq, seasonality).

    Returns:
        quantiles ``[W, V, H, 9]`` (+ mean ``[W, V, H]``). Univariate models see each variate alone.
    """
    return forecast_series(model, [target], [cuts], task)[0]


def forecast_series(
    model: Forecaster, targets: Sequence[np.ndarray], cuts: Sequence[np.ndarray], task: Task
) -> list[QuantileForecast]:
    """Forecast every window of several series, batching contexts across series.

    Prefix-aware models (:class:`PrefixForecaster`) get each whole series once. Other models get lists of
    context views in batches of ``model.batch_size`` (all at once when the model has none); the outputs are
    scattered back to one ``[W, V, H, 9]`` forecast per series.
    """
    horizon = task.prediction_length
    kwargs = {"freq": task.freq, "seasonality": task.seasonality}
    if isinstance(model, PrefixForecaster):
        return [model.predict_prefixes(t, c, horizon, **kwargs) for t, c in zip(targets, cuts, strict=True)]
    contexts = [ctx for t, c in zip(targets, cuts, strict=True) for ctx in _contexts(model, t, c)]
    batch = int(getattr(model, "batch_size", 0) or len(contexts)) or 1
    outputs = [
        model.predict(contexts[i : i + batch], horizon, **kwargs) for i in range(0, len(contexts), batch)
    ]
    quantiles = np.concatenate([o.quantiles for o in outputs])
    means = None if any(o.mean is None for o in outputs) else np.concatenate([o.mean for o in outputs])
    levels = outputs[0].levels
    result, offset = [], 0
    for t, c in zip(targets, cuts, strict=True):
        n = len(c) * (1 if model.supports_multivariate else t.shape[0])
        part = QuantileForecast(
            quantiles[offset : offset + n], levels, None if means is None else means[offset : offset + n]
        )
        if not model.supports_multivariate:
            part = _split_univariate(part, len(c), t.shape[0], horizon)
        result.append(part)
        offset += n
    return result


def window_labels(target: np.ndarray, cuts: np.ndarray, horizon: int) -> np.ndarray:
    """``[W, V, H]`` labels ``target[:, cut : cut + H]`` of every window."""
    index = cuts[:, None] + np.arange(horizon)[None, :]
    return np.ascontiguousarray(np.moveaxis(target[:, index], 0, 1))


def score_dataset(
    model: Forecaster,
    data: StoredDataset,
    tasks: Sequence[Task],
    *,
    allow_nan_forecast: bool = False,
) -> list[tuple[dict[str, float], int]]:
    """Score every task (term) of one dataset; its series are read once and kept for all terms.

    Returns, per task, the 11 metrics and the number of scored instances (``dataset_size``).
    """
    items = [(series.item_id, series.target) for series in data]
    targets = [target for _, target in items]
    out = []
    for task in tasks:
        accumulator = MetricAccumulator(QUANTILE_LEVELS, allow_nan_forecast=allow_nan_forecast)
        cuts = [
            window_cuts(t.shape[1], task.prediction_length, task.windows, item=item_id)
            for item_id, t in items
        ]
        forecasts = forecast_series(model, targets, cuts, task)
        size = 0
        for (item_id, target), c, forecast in zip(items, cuts, forecasts, strict=True):
            labels = window_labels(target, c, task.prediction_length)
            errors = seasonal_errors(target, c, task.seasonality)
            try:
                accumulator.update(labels, forecast.quantiles, errors, forecast.mean)
            except ValueError as exc:
                raise RunError(f"{task.config}, series {item_id!r}: {exc}") from exc
            size += len(c) * (1 if model.supports_multivariate else target.shape[0])
        out.append((accumulator.result(), size))
    return out


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "toto-bench": __version__}
    for package in ("numpy", "pandas", "datasets", "pyarrow", "statsforecast", "torch"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return out


def _git_sha() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        result = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 2**20


def _progress(total: int, desc: str, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="config", disable=not enabled, dynamic_ncols=True)


def run_suite(
    suite: Suite,
    model_name: str,
    model_factory: Callable[[], Forecaster],
    options: RunOptions,
) -> RunSummary:
    """Run ``model_name`` on ``suite``; write ``<output>/<suite>/<model>/all_results.csv`` + ``config.json``.

    Configs already in the results store under the same key are skipped. Input problems found before any
    computation (unknown dataset or term, missing folder) leave nothing behind; problems found while
    running stop the run with finished configs kept for the next attempt.
    """
    specs = suite.select(options.datasets, options.terms)
    root = resolve_data_dir(suite.data_source, options.data_dir)
    for spec in specs:  # fail before any work on a missing folder
        if not (root / spec.storage_name).is_dir():
            load_dataset(suite.data_source, spec.storage_name, root)  # raises the precise error
    model = model_factory()
    settings = {"model": model_name, "allow_nan_forecast": options.allow_nan_forecast, **options.settings}
    spec_key = spec_hash(settings)
    folder = Path(options.output_dir) / suite.name / model_name
    store = ResultsStore(folder, RESULT_COLUMNS)

    keys: list[EntryKey] = []
    computed = skipped = windows = 0
    started = time.perf_counter()
    total = sum(len(s.terms) for s in specs)
    bar = _progress(total, f"{suite.name} · {model_name}", options.progress)
    try:
        for spec in specs:
            fingerprint = data_fingerprint(root / spec.storage_name)
            names = {t: suite.config_name(spec.storage_name, t, None) for t in spec.terms}
            spec_keys = {t: EntryKey(names[t], spec_key, fingerprint, PROTOCOL_VERSION) for t in spec.terms}
            keys += spec_keys.values()
            pending = [t for t in spec.terms if store.get(spec_keys[t]) is None]
            skipped += len(spec.terms) - len(pending)
            bar.update(len(spec.terms) - len(pending))
            if not pending:
                continue
            computed_here, windows_here = _run_dataset(
                suite, spec, pending, model, model_name, root, store, spec_keys, options, bar
            )
            computed += computed_here
            windows += windows_here
    finally:
        bar.close()
    wall = time.perf_counter() - started
    csv_path = store.write_csv(keys)
    record = folder / RUN_RECORD_NAME
    write_json_atomic(
        record,
        {
            "suite": suite.name,
            "model": model_name,
            "settings": settings,
            "spec_hash": spec_key,
            "protocol_version": PROTOCOL_VERSION,
            "data_dir": str(root),
            "datasets": [s.storage_name for s in specs],
            "configs": len(keys),
            "computed": computed,
            "skipped": skipped,
            "wall_seconds": round(wall, 3),
            "windows_per_second": round(windows / wall, 1) if wall > 0 and windows else None,
            "peak_rss_mb": round(_peak_rss_mb(), 1),
            "versions": _versions(),
            "git_sha": _git_sha(),
            "command": sys.argv,
            "fallbacks": list(getattr(model, "fallbacks", [])),
        },
    )
    return RunSummary(csv_path, record, computed, skipped, wall, windows)


def _run_dataset(
    suite: Suite,
    spec: DatasetSpec,
    pending: Sequence[str],
    model: Forecaster,
    model_name: str,
    root: Path,
    store: ResultsStore,
    keys: dict[str, EntryKey],
    options: RunOptions,
    bar: Any,
) -> tuple[int, int]:
    data = load_dataset(suite.data_source, spec.storage_name, root)
    tasks = []
    for term in pending:
        try:
            suite.config_name(spec.storage_name, term, data.freq)  # raises if the data's freq disagrees
            task = build_task(
                config=keys[term].config,
                storage_name=spec.storage_name,
                term=term,
                freq=data.freq,
                min_length=data.min_length,
                target_dim=data.target_dim,
            )
        except ValueError as exc:
            raise RunError(f"{suite.name} dataset {spec.storage_name!r}: {exc}") from exc
        tasks.append(task)
    for task in tasks:
        data.check_fits(task.prediction_length, task.windows)
    scores = score_dataset(model, data, tasks, allow_nan_forecast=options.allow_nan_forecast)
    windows = 0
    for task, (metrics, size) in zip(tasks, scores, strict=True):
        row: dict[str, Any] = {"dataset": task.config, "model": model_name, "domain": spec.domain}
        row.update({f"eval_metrics/{name}": float(metrics[name]) for name in METRIC_NAMES})
        row["num_variates"] = task.target_dim
        row["dataset_size"] = size
        store.add(keys[task.term], row)
        windows += size
        bar.update(1)
    store.sync()
    return len(tasks), windows


def load_run_record(folder: Path) -> dict[str, Any]:
    """Read ``config.json`` of a run folder."""
    return dict(json.loads((folder / RUN_RECORD_NAME).read_text()))
