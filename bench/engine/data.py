"""Where suite data lives, how one upstream dataset folder is read, and how it is downloaded.

Layout (GIFT-Eval ``Salesforce/GiftEval`` and BOOM ``Datadog/BOOM`` on the Hugging Face Hub): one
``datasets.Dataset.save_to_disk`` folder per dataset under the data root (``ett1/H/``, ``m4_hourly/``,
``ds-1010-T/``), each holding ``state.json``, ``dataset_info.json`` and ``data-*.arrow``. Each row has
``item_id``, ``start``, ``freq`` and ``target`` (``[T]`` univariate or ``[V, T]`` multivariate). The rows are
the ones gift-eval ``Dataset`` reads with ``datasets.load_from_disk(path).with_format("numpy")``, but read
straight from the memory-mapped arrow streams that ``state.json`` lists (pyarrow, no ``datasets`` object,
features or fingerprint per folder; tests check the rows equal the ``datasets`` ones). Every check of the
folder (complete streams, recorded series count, uniform rows) runs on the same arrow table.

``pyarrow``, ``datasets`` and ``huggingface_hub`` are imported on first use so that importing this module
stays cheap.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from toto_bench.engine.checks import (
    arrow_stream_problem,
    recorded_series_count,
    row_shape_problem,
    series_count_problem,
)
from toto_bench.engine.tasks import did_you_mean


@dataclass(frozen=True)
class Source:
    """Where a suite's data comes from: Hugging Face dataset repo and the upstream env var."""

    suite: str
    repo_id: str
    env_var: str
    #: storage names known without looking at the disk (empty: any name matching ``pattern``)
    known: tuple[str, ...] = ()
    pattern: re.Pattern[str] | None = None
    #: the data root when neither ``--data-dir`` nor the env var is set (data shipped with the package or
    #: beside a suite file); ``None``: the download cache
    default_root: Path | None = None


#: The data sources by suite; each suite module registers its own (``SOURCES.setdefault(...)``) on import:
#: :mod:`toto_bench.suites.gift_eval`, :mod:`toto_bench.suites.boom`, :mod:`toto_bench.suites.time`.
SOURCES: dict[str, Source] = {}
_SUITE_ALIASES = {"gift_eval": "gift-eval", "gifteval": "gift-eval", "boomlet": "boom"}


class DataError(Exception):
    """Base class of the errors raised while locating, reading or downloading suite data."""


class DatasetNotFoundError(DataError, FileNotFoundError):
    """A known dataset folder is not under the data root."""


class UnknownDatasetError(DataError, ValueError):
    """A dataset name that the suite does not have."""


class CorruptDatasetError(DataError, ValueError):
    """A dataset folder exists but cannot be read."""


class InvalidSeriesError(DataError, ValueError):
    """A series the protocol cannot evaluate (all NaN, or too short for its windows)."""


class DownloadError(DataError, RuntimeError):
    """The Hugging Face Hub download failed or did not deliver a requested folder."""


def source(suite: str) -> Source:
    """The :class:`Source` of ``suite`` (``"gift-eval"``/``"gift_eval"``, ``"boom"``/``"boomlet"``)."""
    key = _SUITE_ALIASES.get(suite, suite)
    if key not in SOURCES:
        raise ValueError(f"unknown suite {suite!r} for data; valid: {', '.join([*SOURCES, *_SUITE_ALIASES])}")
    return SOURCES[key]


def default_cache_dir(suite: str) -> Path:
    """``~/.cache/toto-bench/<suite>``: where :func:`download` puts data when nothing else is set."""
    return Path.home() / ".cache" / "toto-bench" / source(suite).suite


def resolve_data_dir(suite: str, data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The data root: ``data_dir`` (``--data-dir``), else ``$GIFT_EVAL`` / ``$BOOM``, else the source's
    ``default_root`` (the demo suite's packaged data, a custom suite's folder), else the cache dir."""
    return _resolve(suite, data_dir)[0]


def _resolve(suite: str, data_dir: str | os.PathLike[str] | None) -> tuple[Path, str]:
    """The data root and where it came from, for error messages."""
    src = source(suite)
    env_var = src.env_var
    if data_dir is not None:
        return Path(data_dir).expanduser(), "from --data-dir"
    env = os.environ.get(env_var) if env_var else None
    if env:
        return Path(env).expanduser(), f"from ${env_var}"
    if src.default_root is not None:
        return src.default_root, f"the {src.suite} suite's own data folder"
    return default_cache_dir(suite), f"the default cache; ${env_var} is not set"


def check_name(suite: str, name: str, data_root: Path | None = None) -> None:
    """Raise :class:`UnknownDatasetError` unless ``name`` is a dataset of ``suite`` (close matches listed)."""
    src = source(suite)
    if name in src.known or (src.pattern is not None and src.pattern.match(name)):
        return
    candidates = list(src.known) + _folders_on_disk(data_root)
    example = " (BOOM names look like 'ds-1010-T')" if src.pattern is not None else ""
    hint = did_you_mean(name, candidates)
    raise UnknownDatasetError(f"unknown {src.suite} dataset {name!r}{hint}{example}")


def _folders_on_disk(root: Path | None) -> list[str]:
    if root is None or not root.is_dir():
        return []
    return sorted(str(p.parent.relative_to(root)) for p in root.glob("**/state.json"))


@dataclass(frozen=True)
class Series:
    """One stored entry.

    Attributes:
        item_id: the stored ``item_id``.
        start: timestamp of the first step.
        freq: the stored pandas frequency alias (``"H"``, ``"15T"``, ``"W-WED"``).
        target: float32 ``[V, T]`` (``V = 1`` for univariate entries), NaN for gaps.
    """

    item_id: str
    start: pd.Timestamp
    freq: str
    target: np.ndarray


class StoredDataset:
    """One ``save_to_disk`` folder, iterable as :class:`Series` (one row converted at a time).

    Summary properties (``freq``, ``target_dim``, ``lengths``, ``min_length``) follow gift-eval ``Dataset``:
    row 0 decides ``freq`` and ``target_dim``; lengths are of the first variate, read from the arrow
    column without materialising the targets.

    Args:
        name: the storage name, for messages.
        path: the folder.
        table: the folder's rows, a ``pyarrow.Table`` (memory-mapped) with ``item_id``, ``start``, ``freq``
            and ``target`` (``list<float>`` or ``list<list<float>>``).
    """

    def __init__(self, name: str, path: Path, table: Any) -> None:
        self.name = name
        self.path = path
        self._table = table

    def __len__(self) -> int:
        return int(self._table.num_rows)

    def __iter__(self) -> Iterator[Series]:
        table = self._table
        item_ids = table.column("item_id").to_pylist()
        freqs = table.column("freq").to_pylist()
        starts = table.column("start").to_numpy(zero_copy_only=False)
        row = 0
        for chunk in table.column("target").chunks:
            for target in _chunk_targets(self.name, chunk, row):
                yield self._series(str(item_ids[row]), starts[row], str(freqs[row]), target)
                row += 1

    def __repr__(self) -> str:
        return f"StoredDataset({self.name!r}, {len(self)} series, path={str(self.path)!r})"

    @cached_property
    def freq(self) -> str:
        """Row 0's frequency string (read from the arrow column, no target is materialised)."""
        return str(self._table.column("freq")[0].as_py())

    @cached_property
    def target_dim(self) -> int:
        """Number of variates of row 0 (1 for a 1-D target), read from the arrow column."""
        import pyarrow.compute as pc

        column = self._table.column("target")
        if not _is_nested(column.type):
            return 1
        return int(pc.list_value_length(column.slice(0, 1)).to_numpy(zero_copy_only=False)[0])

    @property
    def series_count(self) -> int:
        """Univariate series held: rows × ``target_dim`` (every row has row 0's variates, checked on load)."""
        return len(self) * self.target_dim

    @cached_property
    def lengths(self) -> np.ndarray:
        """``[n_series]`` int64 length of each series (of its first variate)."""
        import pyarrow.compute as pc

        column = self._table.column("target")
        if _is_nested(column.type):
            column = pc.list_flatten(pc.list_slice(column, 0, 1))
        return np.asarray(pc.list_value_length(column).to_numpy(zero_copy_only=False), dtype=np.int64)

    @cached_property
    def min_length(self) -> int:
        """Length of the shortest series (first variate), which fixes the number of test windows."""
        return int(self.lengths.min())

    def check_fits(self, prediction_length: int, windows: int) -> None:
        """Raise :class:`InvalidSeriesError` naming the first series shorter than ``H·W + 1`` steps."""
        need = prediction_length * windows + 1
        short = np.flatnonzero(self.lengths < need)
        if short.size:
            i = int(short[0])
            item = str(self._table.column("item_id")[i].as_py())
            raise InvalidSeriesError(
                f"dataset {self.name!r}: series {item!r} (row {i}) has {int(self.lengths[i])} time steps, "
                f"shorter than the {need} that {windows} window(s) of prediction_length {prediction_length} "
                f"need (H·W label steps + 1 context step); {short.size} of {len(self)} series are too short"
            )

    def _series(self, item_id: str, start: Any, freq: str, target: np.ndarray) -> Series:
        all_nan = np.flatnonzero(np.isnan(target).all(axis=-1))
        if all_nan.size:
            raise InvalidSeriesError(
                f"dataset {self.name!r}: series {item_id!r} has only NaN values in variate(s) "
                f"{all_nan.tolist()} of {target.shape[0]} ({target.shape[1]} time steps); no model can "
                f"forecast it and no seasonal error exists"
            )
        return Series(item_id=item_id, start=pd.Timestamp(np.datetime64(start)), freq=freq, target=target)


def _chunk_targets(name: str, chunk: Any, first_row: int) -> Iterator[np.ndarray]:
    """The targets of one arrow chunk of the ``target`` column, each a fresh float32 ``[V, T]`` array.

    The chunk's values are converted once (a zero-copy view of the memory map for float32 without nulls;
    nulls become NaN, as in ``datasets``' numpy format); each row is then one contiguous slice of them
    (rows are uniform: :func:`~toto_bench.engine.checks.row_shape_problem` ran when the folder was opened).
    """
    if chunk.null_count:
        row = first_row + int(np.flatnonzero(chunk.is_null().to_numpy(zero_copy_only=False))[0])
        raise InvalidSeriesError(f"dataset {name!r}: row {row} has no target (null); re-download the dataset")
    outer = chunk.offsets.to_numpy()
    nested = _is_nested(chunk.type)
    inner = chunk.values.offsets.to_numpy() if nested else None
    leaf = chunk.values.values if nested else chunk.values
    values = leaf.to_numpy(zero_copy_only=False)
    for i in range(len(chunk)):
        lo, hi = int(outer[i]), int(outer[i + 1])
        if inner is None:
            yield np.array(values[lo:hi], dtype=np.float32)[None, :]
            continue
        n_var = hi - lo
        if n_var == 0:  # an empty [V, T] target: the all-NaN check names it
            yield np.empty((1, 0), dtype=np.float32)
            continue
        a, b = int(inner[lo]), int(inner[hi])
        yield np.array(values[a:b], dtype=np.float32).reshape(n_var, (b - a) // n_var)


def _is_nested(arrow_type: Any) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_list(arrow_type.value_type) or pa.types.is_large_list(arrow_type.value_type))


def load_dataset(suite: str, name: str, data_dir: str | os.PathLike[str] | None = None) -> StoredDataset:
    """Open one stored dataset folder of ``suite``.

    Raises:
        UnknownDatasetError: ``name`` is not a dataset of the suite (close matches listed).
        DatasetNotFoundError: the folder is missing; says where it was expected and how to get it.
        CorruptDatasetError: the folder exists but a file in it cannot be read (the file is named).
    """
    root, origin = _resolve(suite, data_dir)
    path = root / name
    if not path.is_dir():
        check_name(suite, name, root)
        raise _not_found(suite, name, root, origin)
    return StoredDataset(name, path, _open(path, suite, name))


def _not_found(suite: str, name: str, root: Path, origin: str) -> DatasetNotFoundError:
    src = source(suite)
    if not src.repo_id:  # data that is not downloaded: the demo suite's package folder, a custom suite's
        return DatasetNotFoundError(
            f"{src.suite} dataset {name!r} not found: expected the folder {root / name} (data root {root}, "
            f"{origin}); write it with `toto-bench data convert` or point --data-dir at its data root"
        )
    return DatasetNotFoundError(
        f"{src.suite} dataset {name!r} not found: expected the folder {name!r} of the Hugging Face dataset "
        f"repo {src.repo_id!r} at {root / name} (data root {root}, {origin}"
        f"{'' if root.is_dir() else '; the data root does not exist'}). Download it with "
        f"`toto-bench download --suite {src.suite} --datasets {name}` (or toto_bench.engine.data.download), "
        f"or point --data-dir or ${src.env_var} at a local copy of {src.repo_id}."
    )


def missing_datasets_error(suite: str, names: Sequence[str], root: Path) -> DatasetNotFoundError:
    """One error naming every dataset folder of ``names`` missing under ``root`` (and the root itself when it
    does not exist), with one download command for all of them."""
    src = source(suite)
    for name in names:
        check_name(suite, name, root)
    where = (
        f"the data root {root} does not exist"
        if not root.is_dir()
        else f"{len(names)} dataset folder(s) are missing under the data root {root}"
    )
    command = f"toto-bench download --suite {src.suite} --datasets {','.join(names)}"
    return DatasetNotFoundError(
        f"{where}: {', '.join(names)}. Download them with `{command}` (into ${src.env_var} or the cache), or "
        f"point --data-dir or ${src.env_var} at a local copy of {src.repo_id}."
    )


def _empty_error(suite: str, name: str, path: Path, what: str) -> CorruptDatasetError:
    """The error for a dataset folder without series (``what`` says what the folder holds)."""
    src = source(suite)
    fix = (
        f"re-download it with `toto-bench download --suite {src.suite} --datasets {name}`"
        if src.repo_id
        else "rewrite it with `toto-bench data convert`"
    )
    return CorruptDatasetError(
        f"{src.suite} dataset {name!r} has no series: the folder {path} holds {what}; {fix}, or leave it "
        f"out of --datasets"
    )


#: The columns every stored dataset must have (gift-eval ``Dataset``'s fields).
REQUIRED_COLUMNS = ("item_id", "start", "freq", "target")


def _open(path: Path, suite: str, name: str) -> Any:
    """The rows of the ``save_to_disk`` folder ``path`` as one memory-mapped ``pyarrow.Table``, checked.

    Reads the arrow streams ``state.json`` lists, in order (what ``datasets.load_from_disk`` maps); checks
    that each ends its stream, that the row count equals the one ``dataset_info.json`` records, and that
    every row has row 0's ``freq`` and number of variates.
    """
    import pyarrow as pa

    files = _data_files(path)
    if not files:  # save_to_disk of zero rows writes no arrow file
        raise _empty_error(suite, name, path, "no arrow file (state.json lists no data files)")
    tables = []
    for file in files:
        if not file.is_file():
            raise CorruptDatasetError(
                f"corrupt dataset folder {path}: arrow file {file} is missing; re-download it"
            )
        try:
            with pa.memory_map(str(file)) as source_, pa.ipc.open_stream(source_) as reader:
                tables.append(reader.read_all())
        except (pa.ArrowException, OSError) as err:
            raise CorruptDatasetError(
                f"corrupt dataset folder {path}: arrow file {file} cannot be read ({err}); re-download it"
            ) from err
        problem = arrow_stream_problem(file)
        if problem:
            raise CorruptDatasetError(f"corrupt dataset folder {path}: {problem}")
    try:
        table = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
    except pa.ArrowInvalid as err:
        raise CorruptDatasetError(
            f"corrupt dataset folder {path}: its arrow files {[f.name for f in files]} have different "
            f"schemas ({err}); re-download it"
        ) from err
    missing = [c for c in REQUIRED_COLUMNS if c not in table.column_names]
    if missing:
        raise CorruptDatasetError(f"{path}: columns {sorted(missing)} missing; found {table.column_names}")
    target_type = table.schema.field("target").type
    if not _is_list_of_numbers(target_type):
        raise CorruptDatasetError(
            f"{path}: column 'target' has arrow type {target_type}; expected a list of numbers ([T], "
            f"datasets Sequence(Value('float32'))) or a list of such lists ([V, T])"
        )
    if table.num_rows == 0:
        raise _empty_error(suite, name, path, "arrow file(s) without rows")
    problem = series_count_problem(
        str(path), table.num_rows, recorded_series_count(path), f"{path / 'dataset_info.json'} (splits)"
    )
    if problem is None:
        problem = row_shape_problem(str(path), table)
    if problem:
        raise CorruptDatasetError(problem)
    return table


def _data_files(path: Path) -> list[Path]:
    """The arrow files ``path/state.json`` lists (``_data_files``), in order (none for zero rows)."""
    state = path / "state.json"
    if not state.is_file():
        if (path / "dataset_dict.json").is_file():
            raise CorruptDatasetError(
                f"{path} is a DatasetDict (splits in {path / 'dataset_dict.json'}), not one Dataset folder; "
                f"point at one split's folder"
            )
        raise CorruptDatasetError(f"{path} is not a datasets.save_to_disk folder: {state} is missing")
    try:
        entries = json.loads(state.read_text())["_data_files"]
        files = [path / entry["filename"] for entry in entries]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise CorruptDatasetError(f"corrupt dataset folder {path}: cannot read {state} ({err!r})") from err
    return files  # empty for a dataset of zero rows (no arrow file)


def _is_list_of_numbers(arrow_type: Any) -> bool:
    import pyarrow as pa

    def is_list(t: Any) -> bool:
        return bool(pa.types.is_list(t) or pa.types.is_large_list(t))

    def is_number(t: Any) -> bool:
        return bool(pa.types.is_floating(t) or pa.types.is_integer(t))

    if not is_list(arrow_type):
        return False
    value = arrow_type.value_type
    return is_number(value) or (is_list(value) and is_number(value.value_type))


def record_series_count(path: str | os.PathLike[str]) -> int:
    """Record the number of series of the ``save_to_disk`` folder ``path`` in its ``dataset_info.json``
    (``splits.train.num_examples``, the ``datasets`` field), so that a later load can check it; return it.

    Call it after writing a dataset (``Dataset.save_to_disk`` leaves ``splits`` empty).
    """
    import datasets

    folder = Path(path)
    count = 0 if _data_files(folder) == [] else len(datasets.load_from_disk(str(folder)))
    info_path = folder / "dataset_info.json"
    info = json.loads(info_path.read_text())
    info["splits"] = {"train": {"name": "train", "num_bytes": 0, "num_examples": count, "dataset_name": None}}
    info_path.write_text(json.dumps(info, indent=2) + "\n")
    return count


def download(
    suite: str,
    datasets: Sequence[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
) -> Path:
    """Download dataset folders of ``suite`` from the Hugging Face Hub into the data root; return the root.

    Only the requested folders are fetched (``allow_patterns=["<name>/*", ...]``); ``datasets=None`` means
    every GIFT-Eval storage name, or the whole ``Datadog/BOOM`` repo for BOOM.

    Raises:
        UnknownDatasetError: a requested name is not a dataset of the suite.
        DownloadError: the Hub could not be reached, or a requested folder did not arrive.
    """
    src = source(suite)
    root = resolve_data_dir(suite, data_dir)
    names = list(src.known) if datasets is None else list(datasets)
    if datasets is not None and not names:
        raise ValueError(f"no {src.suite} datasets requested; pass names, or None for all of them")
    for name in names:
        check_name(suite, name, root)
    patterns = [f"{name}/*" for name in names] or None
    _snapshot(src, root, patterns)
    missing = [name for name in names if not (root / name / "state.json").is_file()]
    if missing:
        raise DownloadError(
            f"download from {src.repo_id!r} finished but {len(missing)} folder(s) are missing under {root}: "
            f"{', '.join(missing)}"
        )
    return root


def _snapshot(src: Source, root: Path, patterns: list[str] | None) -> None:
    from huggingface_hub import snapshot_download

    root.mkdir(parents=True, exist_ok=True)
    try:
        snapshot_download(
            repo_id=src.repo_id, repo_type="dataset", local_dir=str(root), allow_patterns=patterns
        )
    except Exception as exc:
        raise DownloadError(
            f"could not download {src.repo_id!r} (repo_type=dataset) into {root}: "
            f"{type(exc).__name__}: {exc}. If the Hub is unreachable, copy the repo's folders there, "
            f"or point --data-dir or ${src.env_var} at a local copy."
        ) from exc
