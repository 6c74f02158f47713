"""``toto-bench score``: recompute a run's results rows from its stored forecasts, without the model.

For every config stored under ``<run folder>/forecasts/`` (see :mod:`toto_bench.engine.forecasts`):

1. rebuild the suite's protocol hooks with the run's stored settings (``allow_nan_forecast``, LSF
   ``context_length``/``stride``) and reopen the dataset through them: labels and per-window seasonal
   errors/scales come from the data, never from the file;
2. refuse forecasts that do not belong to this data or engine: another protocol version, another data
   fingerprint (when the file records one), other series contents (``data_sha256``: item ids, shapes and
   values of every forecast series), other series or window origins than the protocol cuts now;
3. build the scorer the run used (``protocol.scorer(task, spec, model)`` with a stand-in model that only says
   whether the run's model was multivariate) and feed it the stored forecasts in the run's own update chunks,
   so pooled sums add up in the same order and the row is bit-identical;
4. write the rows (upstream ``all_results.csv`` schema) atomically to ``--output``, in the order the run
   wrote ``all_results.csv`` (its datasets as recorded in ``config.json``, each dataset's terms in suite
   order), then any other stored config in suite order.

GIFT-Eval, BOOM and Boomlet rows are the 11 pooled gluonts metrics; LSF rows pooled MSE/MAE of the median;
TIME rows the task means of the per-window metrics (its per-window ``metrics.npz`` side files are written
only when ``side_outputs`` names a folder, never over the run's own).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from toto_bench.adapters.base import QuantileForecast
from toto_bench.engine.forecasts import (
    ForecastFile,
    forecasts_path,
    read_forecast_file,
    require_saved_configs,
    series_digest,
)
from toto_bench.engine.protocol import DatasetLike, RunError, SuiteProtocol
from toto_bench.engine.runner import RunOptions, make_protocol
from toto_bench.engine.store import PROTOCOL_VERSION, write_csv_atomic
from toto_bench.suites import DatasetSpec, Suite

__all__ = ["SCORED_NAME", "ScoreSummary", "score_run"]

#: Default output file inside the run folder.
SCORED_NAME = "scored_results.csv"


@dataclass(frozen=True)
class ScoreSummary:
    """What ``score`` did: where the rows went and which configs they cover (in output order)."""

    output: Path
    configs: list[str]


class _StoredModel:
    """Stands in for the run's model: scorers only read ``supports_multivariate`` (``dataset_size``)."""

    supports_multivariate: ClassVar[bool] = False
    context_length: int | None = None

    def __init__(self, name: str) -> None:
        self.name = name

    def predict(
        self, contexts: list[np.ndarray], horizon: int, *, freq: str, seasonality: int
    ) -> QuantileForecast:
        raise RunError("toto-bench score replays stored forecasts; no model is loaded")


class _StoredMultivariateModel(_StoredModel):
    supports_multivariate: ClassVar[bool] = True


def _run_record(run_folder: Path) -> dict[str, Any]:
    """The run's ``config.json`` (empty when absent or unreadable)."""
    try:
        record = json.loads((run_folder / "config.json").read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _dataset_order(suite: Suite, record: dict[str, Any]) -> list[DatasetSpec]:
    """The run's datasets in its own order (``all_results.csv`` follows ``--datasets``), then the rest of the
    suite in suite order."""
    named = [str(d) for d in record.get("datasets") or []]
    known = {spec.storage_name: spec for spec in suite.datasets}
    first = [known[name] for name in dict.fromkeys(named) if name in known]
    return first + [spec for spec in suite.datasets if spec.storage_name not in set(named)]


def score_run(
    suite: Suite,
    run_folder: Path,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    output: Path | None = None,
    side_outputs: Path | None = None,
) -> ScoreSummary:
    """Recompute the results rows of every stored config of ``run_folder`` and write them to ``output``.

    Args:
        suite: the suite the run ran.
        run_folder: ``<output-dir>/<suite>/<model>`` of a run made with ``--save-forecasts``.
        data_dir: the suite data root; default: the run's (``config.json``), else the suite's env var/cache.
        output: the CSV to write (default ``<run_folder>/scored_results.csv``).
        side_outputs: folder for the scorers' side files (TIME ``metrics.npz``); default: none written.

    Raises:
        RunError: no stored forecasts, configs outside ``suite``, or forecasts that do not fit the data.
    """
    run_folder = Path(run_folder)
    saved = set(require_saved_configs(run_folder))
    order = suite.configs()
    unknown = sorted(saved - set(order))
    if unknown:
        raise RunError(
            f"{run_folder}: stored forecasts of configs outside suite {suite.name!r}: "
            f"{', '.join(unknown[:5])}{' ...' if len(unknown) > 5 else ''}; is --suite right?"
        )
    record = _run_record(run_folder)
    if data_dir is None and record.get("data_dir") and Path(record["data_dir"]).exists():
        data_dir = str(record["data_dir"])
    rows: list[dict[str, Any]] = []
    columns: tuple[str, ...] = ()
    for spec in _dataset_order(suite, record):
        configs = {t: suite.config_name(spec.storage_name, t, None) for t in spec.terms}
        for term, config in configs.items():
            if config not in saved:
                continue
            stored = read_forecast_file(forecasts_path(run_folder, config))
            protocol = _protocol(suite, stored)
            columns = protocol.result_columns
            rows.append(_score_config(protocol, spec, term, stored, data_dir, side_outputs))
    out = Path(output) if output is not None else run_folder / SCORED_NAME
    write_csv_atomic(out, pd.DataFrame(rows, columns=list(columns)))
    return ScoreSummary(out, [str(r["dataset"]) for r in rows])


def _protocol(suite: Suite, stored: ForecastFile) -> SuiteProtocol:
    settings = stored.meta.get("settings") or {}
    options = RunOptions(
        allow_nan_forecast=bool(settings.get("allow_nan_forecast", False)),
        protocol_options=dict(settings.get("protocol") or {}),
    )
    try:
        return make_protocol(suite, options)
    except ValueError as exc:
        raise RunError(f"{stored.path}: its run settings do not fit suite {suite.name!r}: {exc}") from exc


def _score_config(
    protocol: SuiteProtocol,
    spec: DatasetSpec,
    term: str,
    stored: ForecastFile,
    data_dir: str | os.PathLike[str] | None,
    side_outputs: Path | None,
) -> dict[str, Any]:
    meta, fc = stored.meta, stored.forecasts
    where = f"{stored.path} ({fc.config})"
    key = meta.get("key") or {}
    if key.get("protocol") != PROTOCOL_VERSION:
        raise RunError(
            f"{where}: forecasts from protocol version {key.get('protocol')!r}, this toto-bench scores "
            f"version {PROTOCOL_VERSION!r}; rerun the model with --save-forecasts"
        )
    root = protocol.data_root(data_dir)
    fingerprint = protocol.fingerprint(root, spec)
    if key.get("data") is not None and key["data"] != fingerprint:
        raise RunError(
            f"{where}: forecasts were made on data with fingerprint {key['data']}, but {spec.storage_name!r} "
            f"under {root} has fingerprint {fingerprint}: the data changed since the run (point --data-dir "
            "at the data the run used, or rerun the model)"
        )
    data = protocol.open(root, spec)
    try:
        tasks = protocol.tasks(spec, [term], data, {term: fc.config})
    except ValueError as exc:
        raise RunError(f"{protocol.suite.name} dataset {spec.storage_name!r}: {exc}") from exc
    protocol.check(data, tasks)
    task = tasks[0]
    items = _stored_items(data, stored, fingerprint, root)
    # every series the protocol windows must be stored, with the protocol's own window origins
    stored_at = {int(i): s for s, i in enumerate(stored.series_index)}
    for index, (item_id, target) in enumerate(items):
        cuts = protocol.cuts(task, item_id, target.shape[1])
        s = stored_at.get(index)
        got = np.empty(0, dtype=np.int64) if s is None else fc.cuts[fc.offsets[s] : fc.offsets[s + 1]]
        if not np.array_equal(cuts, got):
            raise RunError(
                f"{where}: series {item_id!r} has stored window origins {got[:5].tolist()}"
                f"{'...' if len(got) > 5 else ''}, but the protocol cuts {cuts[:5].tolist()}"
                f"{'...' if len(cuts) > 5 else ''} ({len(cuts)} windows) from the data"
            )
    settings = dict(meta.get("settings") or {})
    model_cls = _StoredModel if meta.get("univariate_model", True) else _StoredMultivariateModel
    scorer = protocol.scorer(task, spec, model_cls(str(settings.get("model", ""))))
    u = 0
    for s, index in enumerate(stored.series_index.tolist()):
        item_id, target = items[index]
        lo, hi = int(fc.offsets[s]), int(fc.offsets[s + 1])
        start = 0
        while lo + start < hi:
            n = int(stored.chunks[u])
            rows = slice(lo + start, lo + start + n)
            mean = fc.mean[rows] if fc.mean is not None and bool(stored.mean_given[u]) else None
            forecast = QuantileForecast(
                np.array(fc.quantiles[rows]), fc.levels, None if mean is None else np.array(mean)
            )
            scorer.update(index, item_id, target, start, np.array(fc.cuts[rows]), forecast)
            start += n
            u += 1
    if scorer.instances != meta.get("instances", scorer.instances):
        raise RunError(f"{where}: replay scored {scorer.instances} instances, the run {meta['instances']}")
    row: dict[str, Any] = {"dataset": fc.config, "model": settings.get("model", ""), **scorer.row()}
    if side_outputs is not None:
        scorer.finish(Path(side_outputs), settings)
    return row


def _stored_items(
    data: DatasetLike, stored: ForecastFile, fingerprint: str, root: Path
) -> list[tuple[str, np.ndarray]]:
    """The dataset's ``(item_id, target)`` series, checked against the stored ids and content hash."""
    items = [(series.item_id, series.target) for series in data]
    fc = stored.forecasts
    where = f"{stored.path} ({fc.config})"
    digest = hashlib.sha256()
    for s, index in enumerate(stored.series_index.tolist()):
        if index >= len(items) or items[index][0] != fc.item_ids[s]:
            found = repr(items[index][0]) if index < len(items) else "nothing"
            raise RunError(
                f"{where}: stored series {fc.item_ids[s]!r} was row {index} of the data, which now holds "
                f"{found} (data under {root}, fingerprint {fingerprint}): the data changed since the run"
            )
        series_digest(digest, *items[index])
    if digest.hexdigest() != stored.meta.get("data_sha256"):
        raise RunError(
            f"{where}: the series under {root} (fingerprint {fingerprint}) are not the data these forecasts "
            "were made on (their content hash differs): the data changed since the run; point --data-dir at "
            "the data the run used, or rerun the model"
        )
    return items
