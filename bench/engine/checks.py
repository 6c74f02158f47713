"""Checks of what goes into a score: stored datasets (complete files, row counts, uniform rows) and forecasts
(type, finiteness, the quantile order an adapter declares).

Each check returns ``None`` when the input is fine, or one line naming the bad value and the fix; the callers
(:mod:`toto_bench.engine.data`, :mod:`toto_bench.engine.forecasting`) raise their own error types with it, so
this module imports nothing else of the engine. ``docs/checks.md`` lists every check for users.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "ARROW_EOS",
    "arrow_stream_problem",
    "forecast_problem",
    "published_count_problem",
    "recorded_series_count",
    "row_shape_problem",
    "series_count_problem",
]

#: The 8 bytes that end every Arrow IPC stream a writer closed (continuation marker + zero length): a file cut
#: exactly at a record-batch boundary still reads, but without them.
ARROW_EOS = b"\xff\xff\xff\xff\x00\x00\x00\x00"


def arrow_stream_problem(file: Path) -> str | None:
    """Why the Arrow stream ``file`` is incomplete (no end-of-stream marker), or ``None``."""
    size = file.stat().st_size
    with file.open("rb") as fh:
        fh.seek(max(0, size - len(ARROW_EOS)))
        tail = fh.read()
    if tail != ARROW_EOS:
        return (
            f"arrow file {file} is truncated: it does not end with the Arrow end-of-stream marker, so series "
            f"after its last complete record batch are missing; re-download the dataset folder"
        )
    return None


def recorded_series_count(folder: Path) -> int | None:
    """The series count recorded in ``folder/dataset_info.json`` (``splits.*.num_examples``), or ``None``."""
    info = folder / "dataset_info.json"
    if not info.is_file():
        return None
    try:
        splits = json.loads(info.read_text()).get("splits")
    except (ValueError, AttributeError):
        return None
    if isinstance(splits, dict):
        splits = list(splits.values())
    if not isinstance(splits, list) or len(splits) != 1 or not isinstance(splits[0], dict):
        return None
    count = splits[0].get("num_examples")
    return int(count) if isinstance(count, int) and not isinstance(count, bool) else None


def series_count_problem(name: str, found: int, expected: int | None, where: str) -> str | None:
    """Why ``found`` series of dataset ``name`` disagree with the ``expected`` count (from ``where``)."""
    if expected is None or found == expected:
        return None
    return (
        f"dataset {name!r} has {found} series but {where} records {expected} series (expected {expected}, "
        f"found {found}); the folder is incomplete or was changed: re-download it"
    )


def published_count_problem(suite: str, name: str, found: int, expected: int | None) -> str | None:
    """Why dataset ``name`` of ``suite`` with ``found`` univariate series (variates summed over its items)
    disagrees with the ``expected`` count its upstream publishes (``None``: no published count)."""
    if expected is None or found == expected:
        return None
    return (
        f"{suite} dataset {name!r} has {found} series (variates summed over its items) but {suite} publishes "
        f"{expected} for it (expected {expected}, found {found}); the data is incomplete or is another "
        f"dataset: re-download it"
    )


def row_shape_problem(name: str, table: Any) -> str | None:
    """Why a row of the arrow ``table`` differs from row 0 in ``freq`` or number of variates, or has
    variates of different lengths (``[V, T]`` ragged), or ``None``.

    Args:
        name: the dataset, for the message.
        table: a ``pyarrow.Table``-like with ``freq`` (string) and ``target`` (``[T]`` or ``[V, T]`` lists).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    freq = table.column("freq")
    first = freq[0].as_py()
    differs = pc.fill_null(pc.not_equal(freq, pa.scalar(first, freq.type)), True)
    bad = pc.index(differs, True).as_py()
    if bad >= 0:
        return (
            f"dataset {name!r}: row {bad} has freq {freq[bad].as_py()!r} but row 0 has {first!r}; every "
            f"series of a dataset is evaluated with row 0's frequency: split the dataset by frequency"
        )
    target = table.column("target")
    value_type = target.type.value_type
    if not (pa.types.is_list(value_type) or pa.types.is_large_list(value_type)):
        return None
    offset = 0
    n_var0: int | None = None
    for chunk in target.chunks:
        n_var = np.asarray(chunk.value_lengths().to_numpy(zero_copy_only=False), dtype=np.int64)
        if n_var0 is None and len(n_var):
            n_var0 = int(n_var[0])
        other = np.flatnonzero(n_var != n_var0)
        if other.size:
            row = offset + int(other[0])
            return (
                f"dataset {name!r}: row {row} has {int(n_var[other[0]])} variates but row 0 has {n_var0}; "
                f"every series of a dataset must have row 0's number of variates (num_variates)"
            )
        lengths = np.asarray(chunk.flatten().value_lengths().to_numpy(zero_copy_only=False), dtype=np.int64)
        per_row = lengths.reshape(-1, n_var0) if n_var0 else lengths.reshape(len(n_var), 0)
        ragged = np.flatnonzero((per_row != per_row[:, :1]).any(axis=1)) if per_row.size else np.array([])
        if ragged.size:
            row = int(ragged[0])
            return (
                f"dataset {name!r}: row {offset + row} has variates of different lengths "
                f"{per_row[row].tolist()}; a [V, T] target needs the same T for every variate: pad the "
                f"shorter ones with NaN"
            )
        offset += len(n_var)
    return None


def forecast_problem(
    quantiles: np.ndarray, levels: Sequence[float], *, sorted_declared: bool, windows: Sequence[int]
) -> str | None:
    """Why ``quantiles [n, V, H, Q]`` (windows ``windows[i]`` of one series) cannot be scored, or ``None``.

    ``±inf`` is always an error (gluonts would turn it into inf/NaN metrics silently); NaN is left to the
    scorer's ``allow_nan_forecast``. With ``sorted_declared`` (the adapter's ``quantiles_sorted``, default
    True) a level above another must not forecast less (NaN pairs are not compared).
    """
    if quantiles.size and not np.isfinite(quantiles.min() + quantiles.max()):  # one cheap pass; NaN or inf
        inf = np.isinf(quantiles)
    else:
        inf = np.zeros((), dtype=bool)
    if inf.any():
        w, v, h, q = (int(i) for i in np.argwhere(inf)[0])
        sign = "+inf" if quantiles[w, v, h, q] > 0 else "-inf"
        return (
            f"window {windows[w]}: forecast holds {int(inf.sum())} infinite value(s), first {sign} at "
            f"variate {v} step {h} level {levels[q]}; the model diverged: fix the adapter (inf never scores)"
        )
    if sorted_declared and quantiles.shape[-1] > 1:
        crossed = quantiles[..., 1:] < quantiles[..., :-1]  # as np.diff(...) < 0, without the differences
        if crossed.any():
            w, v, h, q = (int(i) for i in np.argwhere(crossed)[0])
            return (
                f"window {windows[w]}: quantiles not sorted: at variate {v} step {h} level {levels[q]} = "
                f"{quantiles[w, v, h, q]!r} > level {levels[q + 1]} = {quantiles[w, v, h, q + 1]!r}, "
                f"although the adapter declares quantiles_sorted=True; sort them in the adapter, or declare "
                f"quantiles_sorted = False if the official pipeline scores them unsorted"
            )
    return None


def metric_cell_problem(source: str, column: str, keys: Sequence[str], values: np.ndarray) -> str | None:
    """Why metric cells of ``column`` cannot enter a board, or ``None``: a negative value (every board metric
    is an error metric, ``>= 0``; NaN and +inf are legal, boards impute or rank them as documented).

    Args:
        source: the file, for the message.
        column: the CSV column.
        keys: ``[n]`` config key of each row.
        values: ``[n]`` float64 parsed values.
    """
    negative = np.flatnonzero(values < 0)
    if negative.size:
        i = int(negative[0])
        return (
            f"{source}: row {i + 1} ({keys[i]!r}), column {column!r}: {values[i]!r} is negative, but it is "
            f"an error metric (>= 0); {negative.size} such cell(s); fix or rerun that config"
        )
    return None


def short_row_problem(source: str, path: Path) -> str | None:
    """Why a data row of the CSV ``path`` has fewer fields than its header (pandas would fill them with NaN,
    which boards impute), or ``None``."""
    import csv

    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        for line, row in enumerate(reader, start=2):
            if row and len(row) < len(header):
                return (
                    f"{source}: line {line} has {len(row)} of the header's {len(header)} fields (first: "
                    f"{row[0]!r}); the file is truncated or hand-edited: rewrite that row in full"
                )
    return None
