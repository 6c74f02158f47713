"""Build GIFT-Eval/BOOM on-disk layouts (``datasets.save_to_disk`` folders) for tests.

Real data is derived from the raw public files in ``../shared/data`` (read in place, never copied into the
repo) with the recipes of ``shared/docs/gift_eval_protocol.md`` §2; synthetic data comes from
:func:`write_dataset`. Each builder writes under a caller-provided root, e.g. a pytest ``tmp_path``.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from toto_bench.engine.data import record_series_count

#: ``shared/`` sits beside the repository root.
SHARED = Path(__file__).resolve().parents[2] / "shared"

ETT_START = pd.Timestamp("2016-07-01 00:00")
M4_START = pd.Timestamp("1750-01-01 00:00")


def shared_data() -> Path:
    """``shared/data``, or skip the calling test when the shared folder is absent."""
    data = SHARED / "data"
    if not data.is_dir():
        pytest.skip(f"shared data folder {data} is absent (expected beside the repo as ../shared/data)")
    return data


def write_dataset(
    path: Path,
    targets: Sequence[np.ndarray],
    *,
    freq: str,
    start: pd.Timestamp | Sequence[pd.Timestamp] = ETT_START,
    item_ids: Sequence[str] | None = None,
) -> Path:
    """Write one ``save_to_disk`` folder with GIFT-Eval's fields.

    Args:
        path: the dataset folder to create (``<root>/<storage name>``).
        targets: one array per row, ``[T]`` (univariate) or ``[V, T]`` (multivariate), stored as float32.
        freq: the ``freq`` string stored on every row.
        start: one start for all rows, or one per row.
        item_ids: row ids; ``"0"``, ``"1"``, ... by default.
    """
    import datasets

    multivariate = np.ndim(targets[0]) == 2
    value: object = datasets.Value("float32")
    target_feature = datasets.Sequence(datasets.Sequence(value) if multivariate else value)
    features = datasets.Features(
        {
            "item_id": datasets.Value("string"),
            "start": datasets.Value("timestamp[s]"),
            "freq": datasets.Value("string"),
            "target": target_feature,
        }
    )
    starts = [start] * len(targets) if isinstance(start, pd.Timestamp) else list(start)
    rows = {
        "item_id": list(item_ids) if item_ids is not None else [str(i) for i in range(len(targets))],
        "start": [s.to_datetime64().astype("datetime64[s]") for s in starts],
        "freq": [freq] * len(targets),
        "target": [np.asarray(t, dtype=np.float32) for t in targets],
    }
    datasets.disable_progress_bars()
    datasets.Dataset.from_dict(rows, features=features).save_to_disk(str(path))
    record_series_count(path)
    return path


def _ett_15min(which: str) -> pd.DataFrame:
    """ETTm{1,2}.csv as float64, indexed by time: ``[69680, 7]`` (HUFL, HULL, MUFL, MULL, LUFL, LULL, OT)."""
    number = {"ett1": 1, "ett2": 2}[which]
    frame = pd.read_csv(shared_data() / "lsf" / "ETT-small" / f"ETTm{number}.csv", index_col="date")
    frame.index = pd.DatetimeIndex(frame.index)
    return frame.astype(np.float64)


def _complete_bins(frame: pd.DataFrame, rule: str, per_bin: int) -> pd.DataFrame:
    """Float64 sums over left-labelled bins starting at the first day, keeping only full bins."""
    grouped = frame.resample(rule)
    sums = grouped.sum()
    return sums[grouped.size() == per_bin]


#: GIFT-Eval ETT configs: storage suffix -> (stored freq, resample rule, 15-min steps per bin)
ETT_FREQS: dict[str, tuple[str, str | None, int]] = {
    "15T": ("15T", None, 1),
    "H": ("H", "h", 4),
    "D": ("D", "D", 96),
    "W": ("W", "7D", 672),
}


def build_ett(root: Path, which: str, freqs: Sequence[str] = tuple(ETT_FREQS)) -> dict[str, Path]:
    """Write ``<root>/<which>/<freq>`` for ``which`` in {ett1, ett2}; one 7-variate entry per folder.

    15T is the CSV as is; H/D/W are float64 sums of the 15-minute values over full hours, days and 7-day
    blocks from 2016-07-01 (trailing partial bins dropped), cast to float32: 69680/17420/725/103 steps.
    """
    raw = _ett_15min(which)
    paths = {}
    for suffix in freqs:
        stored_freq, rule, per_bin = ETT_FREQS[suffix]
        frame = raw if rule is None else _complete_bins(raw, rule, per_bin)
        target = frame.to_numpy().T.astype(np.float32)
        paths[suffix] = write_dataset(
            root / which / suffix, [target], freq=stored_freq, start=frame.index[0], item_ids=[which]
        )
    return paths


def _m4_rows(path: Path) -> dict[str, np.ndarray]:
    with path.open(newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        return {row[0]: np.array([float(v) for v in row[1:] if v != ""]) for row in reader}


def build_m4_hourly(root: Path) -> Path:
    """Write ``<root>/m4_hourly``: 414 series, train then test values, start 1750-01-01 00:00, freq "H"."""
    m4 = shared_data() / "m4"
    train, test = _m4_rows(m4 / "Hourly-train.csv"), _m4_rows(m4 / "Hourly-test.csv")
    ids = list(train)
    targets = [np.concatenate([train[i], test[i]]) for i in ids]
    return write_dataset(root / "m4_hourly", targets, freq="H", start=M4_START, item_ids=ids)


def write_hf_cache(hf_home: Path, repo_id: str, source: Path, revision: str = "0" * 40) -> Path:
    """Lay the files of ``source`` out as the Hugging Face hub cache holds a downloaded model repo:
    ``<hf_home>/hub/models--org--name/{refs/main, snapshots/<revision>/...}``; returns the snapshot folder."""
    repo = hf_home / "hub" / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / revision
    snapshot.mkdir(parents=True)
    for file in sorted(source.iterdir()):
        if file.is_file():
            shutil.copy(file, snapshot / file.name)
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text(revision)
    return snapshot


def write_gift_eval_results(folder: Path, model: str, *, seed: int = 0) -> None:
    """A GIFT-Eval ``all_results.csv`` over the 97 configs (upstream columns) in ``folder`` (created);
    MASE and CRPS vary by config and ``seed``, so equal seeds give identical results."""
    from toto_bench.suites import get_suite

    configs = get_suite("gift-eval").configs()
    folder.mkdir(parents=True)
    n = len(configs)
    pd.DataFrame(
        {
            "dataset": configs,
            "model": model,
            "eval_metrics/MASE[0.5]": [1.0 + ((i * 7 + seed) % 11) / 10 for i in range(n)],
            "eval_metrics/MAE[0.5]": [0.5] * n,
            "eval_metrics/mean_weighted_sum_quantile_loss": [
                0.2 + ((i * 5 + seed) % 13) / 50 for i in range(n)
            ],
            "domain": "Energy",
            "num_variates": 1,
        }
    ).to_csv(folder / "all_results.csv", index=False)
