"""The TIME-Output layout (``Real-TSF/TIME-Output`` ``results/<model>/<dataset>/<freq>/<term>/metrics.npz``):
reading it for the TIME board, and exporting one of our runs in it for submission.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from toto_bench.engine.results import RESULTS_FILENAME, ResultsError, find_model_folders, read_results_csv
from toto_bench.engine.tasks import TERMS
from toto_bench.suites.time import nan_mean

__all__ = ["export_time_output", "load_time_results", "read_time_output"]

log = logging.getLogger(__name__)


def read_time_output(model_dir: Path) -> pd.DataFrame:
    """Task-level scores of one TIME-Output model folder (``<dataset>/<freq>/<term>/metrics.npz``).

    Returns:
        metric frame indexed by task key ``"{dataset}/{freq}/{term}"`` (index name ``dataset``), columns
        ``MASE, MAE, CRPS, MSE`` = ``np.nanmean`` of each stored array (as compute_local_leaderboard.py).

    Raises:
        ResultsError: no ``metrics.npz`` below ``model_dir``, or one that cannot be read.
    """
    rows: dict[str, dict[str, float]] = {}
    for path in sorted(model_dir.glob("*/*/*/metrics.npz")):
        term = path.parent.name
        if term not in TERMS:
            continue
        key = "/".join(path.relative_to(model_dir).parts[:3])
        try:
            with np.load(path) as npz:
                rows[key] = {
                    m: nan_mean(npz[m]) if m in npz.files else float("nan")
                    for m in ("MASE", "MAE", "CRPS", "MSE")
                }
        except (OSError, ValueError, KeyError) as exc:
            raise ResultsError(f"{path}: unreadable metrics.npz ({type(exc).__name__}: {exc})") from exc
    if not rows:
        raise ResultsError(f"{model_dir}: no <dataset>/<freq>/<term>/metrics.npz found")
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "dataset"
    frame.attrs["source"] = str(model_dir)
    return frame


def _is_time_output(model_dir: Path) -> bool:
    return any(p.parent.name in TERMS for p in model_dir.glob("*/*/*/metrics.npz"))


def _locate_results(model_dir: Path) -> Path | None:
    """A model folder's ``all_results.csv``, else the folder itself when it holds TIME-Output files."""
    csv = model_dir / RESULTS_FILENAME
    if csv.is_file():
        return csv
    return model_dir if _is_time_output(model_dir) else None


def load_time_results(dirs: Iterable[str | os.PathLike[str]]) -> dict[str, pd.DataFrame]:
    """Every model under the results directories: ``all_results.csv`` folders (ours) or TIME-Output folders.

    A model folder with ``all_results.csv`` is read from it (``MASE, MAE, CRPS`` columns); one without it but
    with ``<dataset>/<freq>/<term>/metrics.npz`` files (``Real-TSF/TIME-Output`` ``results/<model>/``, e.g.
    the published ``seasonal_naive``) is aggregated with :func:`read_time_output`.

    Returns:
        ``{model: metric frame}`` sorted by model name.

    Raises:
        ResultsError: a missing directory, a directory without any model, a model found twice.
    """
    paths = find_model_folders(
        list(dirs),
        _locate_results,
        wanted=f"<model>/{RESULTS_FILENAME} nor <model>/<dataset>/<freq>/<term>/metrics.npz",
    )
    found: dict[str, pd.DataFrame] = {}
    for model, path in paths.items():
        if path.is_dir():
            found[model] = read_time_output(path)
        else:
            found[model] = read_results_csv(path, required_columns=("MASE", "MAE", "CRPS"))
            found[model].attrs["source"] = str(path)
    return dict(sorted(found.items()))


def export_time_output(run_folder: Path, results_root: Path, model: str) -> list[Path]:
    """Copy a TIME run's per-task files to ``<results_root>/<model>/<dataset>/<freq>/<term>/`` for submission.

    ``run_folder`` is ``<output-dir>/time/<our model name>``; ``model`` is the submission's name. Returns the
    files written. Raises ``FileNotFoundError`` when the run folder holds no task files.
    """
    files = sorted(p for p in Path(run_folder).glob("*/*/*/*") if p.name in ("metrics.npz", "config.json"))
    files = [p for p in files if p.parent.name in TERMS]
    if not files:
        raise FileNotFoundError(f"{run_folder}: no <dataset>/<freq>/<term>/metrics.npz from a TIME run")
    written = []
    for path in files:
        target = Path(results_root) / model / path.relative_to(run_folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        written.append(target)
    return written
