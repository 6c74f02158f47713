"""Convert the user's series (CSV, parquet, a pandas frame) into the GIFT-Eval layout and a suite file.

Two input shapes:

- **long**: one row per time step, columns ``id`` (optional: absent means one series), ``timestamp`` and
  one or more target columns (several targets make multivariate entries ``[V, T]``);
- **wide**: a ``timestamp`` column and one column per univariate series (the column name is its id); the
  empty cells a wide table pads shorter series with, before a series' first and after its last value, are
  trimmed (and counted in :attr:`ConvertedDataset.trimmed`).

Checks, each failing with :class:`ConvertError` naming the series, the input row and the value: missing
columns, unparsable timestamps, non-numeric targets, duplicate timestamps, a frequency that cannot be inferred
or differs between series, timestamps off the regular grid (gaps), missing values (NaN; allowed with
``allow_nan``, as in GIFT-Eval's ``*_with_missing`` datasets: models impute them and the metrics mask them),
and series too short for a term's windows (checked by :func:`check_terms`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from toto_bench.engine.data import record_series_count
from toto_bench.engine.tasks import freq_label
from toto_bench.suites.custom import DATASET_KEYS, CustomDataset, SuiteFileError

__all__ = [
    "LAYOUTS",
    "ConvertError",
    "ConvertedDataset",
    "add_to_suite_file",
    "check_terms",
    "convert_frame",
    "read_table",
    "suite_data_root",
    "write_dataset",
]

Layout = Literal["long", "wide"]
LAYOUTS: tuple[str, ...] = ("long", "wide")


class ConvertError(ValueError):
    """Input that cannot become a GIFT-Eval dataset; the message names the series, row and value."""


@dataclass
class ConvertedDataset:
    """The series of one dataset, ready to be written.

    Attributes:
        name: the dataset (storage) name.
        freq: the pandas frequency alias of every series (given or inferred).
        item_ids: one id per series.
        starts: the first timestamp of each series.
        targets: one float32 ``[V, T_i]`` array per series (``V`` = number of target columns).
        target_columns: the input columns of the ``V`` variates.
        missing: number of NaN cells kept (only with ``allow_nan``).
        trimmed: wide layout: empty cells trimmed before/after each series, by series id.
    """

    name: str
    freq: str
    item_ids: list[str]
    starts: list[pd.Timestamp]
    targets: list[np.ndarray]
    target_columns: list[str]
    missing: int = 0
    trimmed: dict[str, int] = field(default_factory=dict)

    @property
    def lengths(self) -> list[int]:
        """Time steps of each series."""
        return [int(t.shape[1]) for t in self.targets]


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A CSV (``.csv``, ``.csv.gz``, ``.tsv``) or parquet (``.parquet``, ``.pq``) file as a frame.

    Raises:
        ConvertError: an unknown extension or a missing file.
    """
    path = Path(path)
    if not path.is_file():
        raise ConvertError(f"input file {path} does not exist")
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        return pd.read_parquet(path)
    if name.endswith((".csv", ".csv.gz", ".txt")):
        return pd.read_csv(path)
    if name.endswith((".tsv", ".tsv.gz")):
        return pd.read_csv(path, sep="\t")
    raise ConvertError(f"input file {path}: unknown format; valid: .csv, .csv.gz, .tsv, .parquet, .pq")


def _require_columns(frame: pd.DataFrame, wanted: Sequence[str], what: str) -> None:
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise ConvertError(
            f"{what} column(s) {missing} not in the input; its columns: {', '.join(map(str, frame.columns))}"
        )


def _timestamps(frame: pd.DataFrame, column: str) -> pd.Series:
    raw = frame[column]
    parsed = pd.to_datetime(raw, errors="coerce")
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if bad.size:
        i = int(bad[0])
        raise ConvertError(
            f"input row {i} (0-based, after the header): timestamp {raw.iloc[i]!r} in column {column!r} "
            f"is not a date/time; {bad.size} row(s) are unparsable"
        )
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert(None)
    return parsed


def _numeric(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    out = {}
    for column in columns:
        raw = frame[column]
        values = pd.to_numeric(raw, errors="coerce")
        bad = np.flatnonzero((values.isna() & raw.notna()).to_numpy())
        if bad.size:
            i = int(bad[0])
            raise ConvertError(
                f"input row {i} (0-based, after the header): target {column!r} holds {raw.iloc[i]!r}, "
                f"not a number; {bad.size} such cell(s) in the column"
            )
        out[column] = values.astype(np.float64)
    return pd.DataFrame(out, index=frame.index)


def _has_numbers(column: pd.Series) -> bool:
    if pd.api.types.is_numeric_dtype(column):
        return True
    return bool(pd.to_numeric(column, errors="coerce").notna().any())


def _infer_freq(item: str, stamps: pd.DatetimeIndex) -> str:
    if len(stamps) < 3:
        raise ConvertError(f"series {item!r} has {len(stamps)} time step(s): too few to infer the frequency")
    inferred = pd.infer_freq(stamps)
    if inferred is None:
        steps = pd.Series(np.diff(stamps.asi8)).value_counts().index[:3]
        seen = ", ".join(str(pd.Timedelta(int(s))) for s in steps)
        raise ConvertError(
            f"series {item!r}: cannot infer a regular frequency from its timestamps (steps seen: {seen}); "
            "pass --freq (a pandas alias such as D, h, 15min, W-SUN, MS) to check them against it"
        )
    return inferred


def _check_grid(item: str, stamps: pd.DatetimeIndex, rows: np.ndarray, freq: str) -> None:
    expected = pd.date_range(stamps[0], periods=len(stamps), freq=freq)
    if expected[0] != stamps[0]:
        raise ConvertError(
            f"series {item!r}: its first timestamp {stamps[0]} (input row {rows[0]}) is not on the {freq!r} "
            f"grid (next on-grid time {expected[0]}); pass the frequency with its anchor, e.g. W-WED"
        )
    off = np.flatnonzero(expected != stamps)
    if off.size:
        k = int(off[0])
        raise ConvertError(
            f"series {item!r}: input row {rows[k]} has timestamp {stamps[k]} where the regular {freq!r} grid "
            f"expects {expected[k]} (after {stamps[k - 1]}): a gap or an off-grid step. Fill gaps with rows "
            "whose targets are empty (and --allow-nan), or resample the series to a regular grid"
        )


def _series_frames(
    frame: pd.DataFrame, layout: Layout, id_column: str | None, targets: list[str]
) -> list[tuple[str, pd.DataFrame]]:
    """``[(item id, frame with columns __row__, __ts__ and the targets)]`` in order of first appearance."""
    if layout == "wide":
        out = []
        for column in targets:
            part = frame[["__row__", "__ts__", column]]
            present = np.flatnonzero(part[column].notna().to_numpy())
            if present.size == 0:
                raise ConvertError(f"series (column) {column!r} holds no value")
            part = part.iloc[present[0] : present[-1] + 1]
            out.append((str(column), part.rename(columns={column: "__value__"})))
        return out
    if id_column is None:
        return [("0", frame)]
    return [(str(k), g) for k, g in frame.groupby(id_column, sort=False)]


def convert_frame(
    frame: pd.DataFrame,
    *,
    name: str,
    layout: Layout = "long",
    id_column: str | None = None,
    timestamp_column: str = "timestamp",
    target_columns: Sequence[str] | None = None,
    freq: str | None = None,
    allow_nan: bool = False,
) -> ConvertedDataset:
    """Check ``frame`` and turn it into the series of one GIFT-Eval dataset.

    Args:
        frame: the input table (long or wide, see the module docstring).
        name: the dataset name (its folder and the first part of its config names).
        layout: ``long`` or ``wide``.
        id_column: long: the series id column (``None``: the frame is one series).
        timestamp_column: the time column.
        target_columns: long: the target columns (default: every other numeric column); wide: the series
            columns (default: every other column).
        freq: the pandas frequency alias; ``None``: inferred from each series (they must agree).
        allow_nan: keep missing target values as NaN instead of failing on them.

    Raises:
        ConvertError: naming the series, input row and value of the first problem found.
    """
    if layout not in LAYOUTS:
        raise ConvertError(f"unknown layout {layout!r}; valid: {', '.join(LAYOUTS)}")
    if not name or name.startswith("/") or ".." in name.split("/"):
        raise ConvertError(
            f"dataset name {name!r} must be a relative folder name such as 'sales' or 'sales/D'"
        )
    if layout == "wide" and id_column is not None:
        raise ConvertError("--id-column is for the long layout; a wide table has one column per series")
    _require_columns(frame, [timestamp_column], "timestamp")
    if id_column is not None:
        _require_columns(frame, [id_column], "id")
    skip = {timestamp_column, id_column}
    if target_columns is None:
        others = [c for c in frame.columns if c not in skip]
        # a column with any number in it is a target (a stray text cell then fails the numeric check
        # instead of dropping the column silently); columns of text only (labels) are left out
        targets = [str(c) for c in others if layout == "wide" or _has_numbers(frame[c])]
        if not targets:
            raise ConvertError(
                f"no numeric target column besides {sorted(str(s) for s in skip if s)}; "
                f"its columns: {', '.join(map(str, frame.columns))}; pass --target-columns"
            )
    else:
        targets = list(target_columns)
        _require_columns(frame, targets, "target")
    if freq is not None:
        try:
            pd.tseries.frequencies.to_offset(freq)
            freq_label(freq)
        except ValueError as exc:
            raise ConvertError(f"--freq {freq!r} is not a pandas frequency alias ({exc})") from None

    work = _numeric(frame, targets)
    work.insert(0, "__ts__", _timestamps(frame, timestamp_column).to_numpy())
    work.insert(0, "__row__", np.arange(len(frame)))
    if id_column is not None:
        work[id_column] = frame[id_column].to_numpy()
    parts = _series_frames(work, layout, id_column, targets)
    value_columns = ["__value__"] if layout == "wide" else targets

    ids: list[str] = []
    starts: list[pd.Timestamp] = []
    arrays: list[np.ndarray] = []
    freqs: dict[str, str] = {}
    missing = 0
    trimmed: dict[str, int] = {}
    for item, part in parts:
        part = part.sort_values("__ts__", kind="stable")
        stamps = pd.DatetimeIndex(part["__ts__"])
        rows = part["__row__"].to_numpy()
        dup = stamps.duplicated(keep=False)
        if dup.any():
            first = stamps[dup][0]
            where = rows[stamps == first].tolist()
            raise ConvertError(
                f"series {item!r}: timestamp {first} appears {len(where)} times (input rows {where}); "
                f"{int(stamps.duplicated().sum())} duplicate(s) in the series; keep one row per time step"
            )
        item_freq = freq if freq is not None else _infer_freq(item, stamps)
        _check_grid(item, stamps, rows, item_freq)
        freqs[item] = item_freq
        values = part[value_columns].to_numpy(dtype=np.float64).T  # [V, T]
        nan = np.isnan(values)
        if nan.all(axis=1).any():
            column = value_columns[int(np.flatnonzero(nan.all(axis=1))[0])]
            raise ConvertError(f"series {item!r}: target {column!r} has no value at all")
        if nan.any():
            if not allow_nan:
                v, t = (int(x[0]) for x in np.nonzero(nan))
                column = targets[v] if layout == "long" else item
                raise ConvertError(
                    f"series {item!r}: target {column!r} is missing (NaN/empty) at input row {rows[t]} "
                    f"({stamps[t]}); {int(nan.sum())} missing cell(s) in the series. Fill them, or pass "
                    "--allow-nan to keep them as NaN (GIFT-Eval's handling: models impute, metrics mask)"
                )
            missing += int(nan.sum())
        if layout == "wide" and len(part) != len(work):
            trimmed[item] = len(work) - len(part)
        ids.append(item)
        starts.append(pd.Timestamp(stamps[0]))
        arrays.append(values.astype(np.float32))
    labels = {freq_label(f) for f in freqs.values()}
    if len(set(freqs.values())) > 1 and len(labels) > 1:
        by_freq: dict[str, list[str]] = {}
        for item, f in freqs.items():
            by_freq.setdefault(f, []).append(item)
        seen = "; ".join(f"{f}: {', '.join(items[:3])}" for f, items in by_freq.items())
        raise ConvertError(
            f"the series have different frequencies ({seen}); one dataset has one frequency: convert "
            "each frequency as its own dataset, or pass --freq"
        )
    return ConvertedDataset(
        name=name,
        freq=next(iter(freqs.values())),
        item_ids=ids,
        starts=starts,
        targets=arrays,
        target_columns=targets,
        missing=missing,
        trimmed=trimmed,
    )


def check_terms(converted: ConvertedDataset, entry: CustomDataset) -> dict[str, tuple[int, int]]:
    """``{term: (H, W)}`` of each of ``entry.terms`` on ``converted`` (GIFT-Eval's rules or the overrides).

    Raises:
        ConvertError: the shortest series cannot hold a term's windows (naming it, its length and the need).
    """
    lengths = converted.lengths
    shortest = int(np.argmin(lengths))
    out = {}
    for term in entry.terms:
        try:
            task = entry.task(
                f"{converted.name}/{freq_label(converted.freq)}/{term}",
                term,
                data_freq=converted.freq,
                min_length=lengths[shortest],
                target_dim=converted.targets[0].shape[0],
            )
        except ValueError as exc:
            raise ConvertError(
                f"{exc} (--terms, --horizon, --windows); the shortest series is "
                f"{converted.item_ids[shortest]!r}"
            ) from None
        out[term] = (task.prediction_length, task.windows)
    return out


def write_dataset(converted: ConvertedDataset, data_root: Path) -> Path:
    """Write ``<data_root>/<name>`` as a ``datasets.save_to_disk`` folder (GIFT-Eval's fields); return it."""
    import datasets

    multivariate = converted.targets[0].shape[0] > 1
    value: Any = datasets.Value("float32")
    target_feature = datasets.Sequence(datasets.Sequence(value) if multivariate else value)
    features = datasets.Features(
        {
            "item_id": datasets.Value("string"),
            "start": datasets.Value("timestamp[s]"),
            "freq": datasets.Value("string"),
            "target": target_feature,
        }
    )
    rows = {
        "item_id": converted.item_ids,
        "start": [s.to_datetime64().astype("datetime64[s]") for s in converted.starts],
        "freq": [converted.freq] * len(converted.targets),
        "target": [t if multivariate else t[0] for t in converted.targets],
    }
    path = data_root / converted.name
    datasets.disable_progress_bars()
    datasets.Dataset.from_dict(rows, features=features).save_to_disk(str(path))
    record_series_count(path)  # checked on every load: a folder that loses series later is refused
    return path


def suite_data_root(path: Path) -> Path:
    """The data root of the suite file ``path``: its ``data`` folder, or ``<stem>_data`` beside a new file."""
    from toto_bench.suites.custom import read_suite_file

    if path.is_file():
        return read_suite_file(path)[1]
    return (path.parent / f"{path.stem}_data").resolve()


def add_to_suite_file(
    path: Path, entry: CustomDataset, *, suite_name: str | None = None, replace: bool = False
) -> Path:
    """Add ``entry`` to the suite file ``path`` (created when absent); return its data root.

    Raises:
        SuiteFileError: the file lists the dataset already (unless ``replace``) or is not a suite file.
    """
    import yaml

    from toto_bench.suites.custom import read_suite_file

    record = {
        k: v
        for k, v in (
            ("name", entry.name),
            ("freq", entry.freq),
            ("terms", list(entry.terms)),
            ("domain", entry.domain),
            ("horizon", entry.horizon),
            ("windows", entry.windows),
        )
        if v not in (None, "")
    }
    assert set(record) <= set(DATASET_KEYS)
    if path.is_file():
        read_suite_file(path)  # validates it
        raw = yaml.safe_load(path.read_text())
        names = [d["name"] for d in raw["datasets"]]
        if entry.name in names:
            if not replace:
                raise SuiteFileError(
                    f"suite file {path} already lists dataset {entry.name!r}; pass --replace to convert it "
                    "again, or choose another --name"
                )
            raw["datasets"][names.index(entry.name)] = record
        else:
            raw["datasets"].append(record)
    else:
        raw = {"name": suite_name or path.stem, "data": f"{path.stem}_data", "datasets": [record]}
    header = (
        "# toto-bench suite file (docs/custom-data.md): toto-bench run --suite THIS_FILE --model M\n"
        "# keys: name, data (relative to this file), datasets: name, freq, terms, domain, horizon, windows\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + yaml.safe_dump(raw, sort_keys=False))
    _, root, _ = read_suite_file(path)
    return root
