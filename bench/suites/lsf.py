"""The LSF suite (``--suite lsf``): classic long-sequence forecasting on the Time-Series-Library CSV files.

Sources (read, not copied): thuml/Time-Series-Library ``data_provider/data_loader.py`` (``Dataset_ETT_hour``,
``Dataset_ETT_minute``, ``Dataset_Custom``: borders, column order, ``StandardScaler`` on the train rows),
cure-lab/LTSF-Linear (the "Repeat" baseline), DataDog/toto ``toto/evaluation/lsf`` (median forecast, MSE/MAE
on normalised values, context 2048); shared ``docs/time_lsf_protocol.md`` Part B.

Protocol, per dataset (one multivariate item of ``V`` columns) and horizon ``H ∈ {96, 192, 336, 720}``:

- borders: ETTh 12/4/4 months of 30 days (train ``[0, 8640)``, test ``[11520, 14400)``; later rows unused),
  ETTm the same ×4; other files 70/10/20: train ``int(.7N)`` rows, test the last ``int(.2N)`` rows;
- every column is z-scored with the mean and population std (ddof 0) of the train rows; a constant train
  column keeps scale 1 (sklearn); metrics are computed on the normalised values;
- custom files are reordered ``date, <other columns in file order>, OT``;
- forecast origins: every ``t`` in ``[test_start, test_end − H]`` with stride 1 (``test_len − H + 1``
  windows; ``--stride`` for a cheaper, non-standard run); context = the history before ``t`` (it reaches
  into val/train), optionally capped to the last ``C`` points (``--context-length``; Toto's paper used 2048);
- score: MSE and MAE of the median (0.5 quantile), pooled over windows × variates × steps.

Data layout (TSLib): ``<root>/ETT-small/ETTh1.csv``, ``<root>/weather/weather.csv``,
``<root>/electricity/electricity.csv``, ... with ``<root>`` = ``--data-dir``, else ``$LSF_DATA``, else
``~/.cache/toto-bench/lsf``. Results: ``all_results.csv`` with ``dataset, model, MSE, MAE`` and ``dataset`` =
``<name>/<horizon>``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, NamedTuple

import numpy as np
import pandas as pd

from toto_bench.adapters.base import Forecaster, QuantileForecast
from toto_bench.engine.checks import published_count_problem
from toto_bench.engine.data import CorruptDatasetError, DatasetNotFoundError, Series
from toto_bench.engine.protocol import DatasetLike, EngineTask, RunError, Scorer, SuiteProtocol, window_labels
from toto_bench.engine.results import ResultsError, find_results_files
from toto_bench.engine.tasks import seasonality
from toto_bench.metrics.per_window import PointErrorAccumulator, level_index

if TYPE_CHECKING:
    from toto_bench.engine.spec import DatasetSpec, Suite

__all__ = [
    "ENV_VAR",
    "HORIZONS",
    "LSF_DATASETS",
    "RESULT_COLUMNS",
    "Borders",
    "LSFData",
    "LSFDataset",
    "LSFProtocol",
    "LSFTask",
    "load_lsf_results",
    "lsf_borders",
    "read_lsf",
]

Split = Literal["ett_hour", "ett_minute", "custom"]

#: Env var naming the LSF data root (the folder holding ``ETT-small/``, ``weather/``, ...).
ENV_VAR = "LSF_DATA"
#: The four horizons (the suite's "terms").
HORIZONS: tuple[str, ...] = ("96", "192", "336", "720")
#: ``all_results.csv`` columns.
RESULT_COLUMNS: tuple[str, ...] = ("dataset", "model", "MSE", "MAE")
#: Where the files come from, for error messages.
DATA_HINT = (
    "the Time-Series-Library data bundle (thuml/Time-Series-Library README: all_datasets) or, for ETT, "
    "zhouhaoyi/ETDataset"
)


def split_key(key: str) -> tuple[str, int]:
    """``"ETTh1/96"`` → ``("ETTh1", 96)``; ``ValueError`` for a key without a positive integer horizon."""
    name, _, horizon = str(key).rpartition("/")
    if not name or not horizon.isdigit() or int(horizon) < 1:
        raise ValueError(f"LSF results key {key!r} is not '<dataset>/<horizon>' (e.g. 'ETTh1/96')")
    return name, int(horizon)


@dataclass(frozen=True)
class LSFDataset:
    """One LSF dataset: its file in the TSLib layout, its frequency and its border rule.

    Attributes:
        name: the results name (``ETTh1``, ``weather``, ...).
        path: the CSV under the data root (``ETT-small/ETTh1.csv``).
        freq: pandas frequency of the rows (seasonality for seasonal naive: gluonts ``get_seasonality``).
        split: ``ett_hour``, ``ett_minute`` (fixed 12/4/4-month borders) or ``custom`` (70/10/20).
        variates: the published number of data columns (the dataset is one multivariate series of that
            many variates; shared ``docs/time_lsf_protocol.md`` B.2), checked when the file is read.
    """

    name: str
    path: str
    freq: str
    split: Split
    variates: int


#: The LSF datasets in literature order. Runs without ``--datasets`` take every one whose file exists.
LSF_DATASETS: tuple[LSFDataset, ...] = (
    LSFDataset("ETTh1", "ETT-small/ETTh1.csv", "H", "ett_hour", 7),
    LSFDataset("ETTh2", "ETT-small/ETTh2.csv", "H", "ett_hour", 7),
    LSFDataset("ETTm1", "ETT-small/ETTm1.csv", "15T", "ett_minute", 7),
    LSFDataset("ETTm2", "ETT-small/ETTm2.csv", "15T", "ett_minute", 7),
    LSFDataset("weather", "weather/weather.csv", "10T", "custom", 21),
    LSFDataset("electricity", "electricity/electricity.csv", "H", "custom", 321),
    LSFDataset("traffic", "traffic/traffic.csv", "H", "custom", 862),
    LSFDataset("exchange_rate", "exchange_rate/exchange_rate.csv", "D", "custom", 8),
)
_BY_NAME: dict[str, LSFDataset] = {d.name: d for d in LSF_DATASETS}


class Borders(NamedTuple):
    """Row borders of one file: train ``[0, train_end)``, test ``[test_start, test_end)``."""

    train_end: int
    test_start: int
    test_end: int


def lsf_borders(split: Split, n_rows: int) -> Borders:
    """TSLib's borders for a file of ``n_rows`` data rows.

    Raises:
        ValueError: an ETT file shorter than its fixed borders, or a file too short to split.
    """
    if split in ("ett_hour", "ett_minute"):
        month = 30 * 24 * (4 if split == "ett_minute" else 1)
        borders = Borders(12 * month, 16 * month, 20 * month)
        if n_rows < borders.test_end:
            raise ValueError(
                f"{n_rows} rows, but the ETT borders need {borders.test_end} (train {borders.train_end}, "
                f"val {borders.test_start - borders.train_end}, test {borders.test_end - borders.test_start})"
            )
        return borders
    if split != "custom":
        raise ValueError(f"unknown LSF split {split!r}; valid: ett_hour, ett_minute, custom")
    n_train, n_test = int(n_rows * 0.7), int(n_rows * 0.2)
    if n_train < 2 or n_test < 1:
        raise ValueError(f"{n_rows} rows are too few for a 70/10/20 split")
    return Borders(n_train, n_rows - n_test, n_rows)


@dataclass
class LSFData:
    """One LSF file read, reordered and z-scored: a single multivariate item.

    Attributes:
        name: the dataset name.
        path: the CSV file.
        freq: its frequency.
        target: float32 ``[V, test_end]`` normalised values (rows after the test region dropped).
        variates: the ``V`` column names in model order.
        borders: the row borders.
        start: timestamp of the first row.
        mean, std: ``[V]`` float64 train statistics used for the z-score.
    """

    name: str
    path: Path
    freq: str
    target: np.ndarray
    variates: list[str]
    borders: Borders
    start: pd.Timestamp
    mean: np.ndarray
    std: np.ndarray

    def __iter__(self) -> Iterator[Series]:
        yield Series(item_id=self.name, start=self.start, freq=self.freq, target=self.target)

    def __len__(self) -> int:
        return 1


def read_lsf(path: Path, dataset: LSFDataset) -> LSFData:
    """Read one TSLib CSV, reorder its columns, z-score it with its train statistics.

    Raises:
        CorruptDatasetError: unreadable file, no ``date`` column, no ``OT`` column (custom files), a
            non-numeric column, a missing value (named with its row), or too few rows for the borders.
    """
    try:
        frame = pd.read_csv(path)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise CorruptDatasetError(f"LSF file {path}: unreadable CSV ({type(exc).__name__}: {exc})") from exc
    columns = [str(c) for c in frame.columns]
    if not columns or columns[0] != "date":
        raise CorruptDatasetError(
            f"LSF file {path}: the first column must be 'date', got columns {columns[:5]}"
        )
    if dataset.split == "custom":
        if "OT" not in columns:
            raise CorruptDatasetError(
                f"LSF file {path}: no 'OT' (target) column, which TSLib puts last; columns {columns[:8]}..."
            )
        variates = [c for c in columns if c not in ("date", "OT")] + ["OT"]
    else:
        variates = columns[1:]
    if not variates:
        raise CorruptDatasetError(f"LSF file {path}: no data column besides 'date'")
    bad = [c for c in variates if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise CorruptDatasetError(f"LSF file {path}: non-numeric column(s) {bad[:5]}")
    values = frame[variates].to_numpy(dtype=np.float64)
    nan_rows, nan_cols = np.nonzero(~np.isfinite(values))
    if nan_rows.size:
        raise CorruptDatasetError(
            f"LSF file {path}: {nan_rows.size} missing or infinite value(s), first in column "
            f"{variates[int(nan_cols[0])]!r} at data row {int(nan_rows[0])}; TSLib files have none"
        )
    try:
        borders = lsf_borders(dataset.split, len(values))
    except ValueError as exc:
        raise CorruptDatasetError(f"LSF file {path} ({dataset.name}): {exc}") from None
    train = values[: borders.train_end]
    mean = train.mean(axis=0)
    std = train.std(axis=0)
    std = np.where(std == 0, 1.0, std)  # sklearn StandardScaler keeps zero-variance columns unscaled
    normalised = (values[: borders.test_end] - mean) / std
    target = np.ascontiguousarray(normalised.T, dtype=np.float32)
    start = pd.Timestamp(frame["date"].iloc[0])
    return LSFData(dataset.name, path, dataset.freq, target, variates, borders, start, mean, std)


@dataclass(frozen=True)
class LSFTask:
    """One LSF config (``<name>/<H>``).

    Attributes:
        windows: forecast origins ``(test_len − H) // stride + 1``.
        test_start, test_end: the test border rows.
        stride: distance between origins (1 = the standard protocol).
    """

    config: str
    storage_name: str
    term: str
    freq: str
    prediction_length: int
    windows: int
    seasonality: int
    target_dim: int
    test_start: int
    test_end: int
    stride: int


class LSFScorer(Scorer):
    """Pooled MSE/MAE of the median forecast on the normalised values."""

    def __init__(self, task: LSFTask, *, univariate_model: bool, allow_nan_forecast: bool) -> None:
        self.task = task
        self.univariate_model = univariate_model
        self.allow_nan_forecast = allow_nan_forecast
        self.instances = 0
        self._acc = PointErrorAccumulator()

    def update(
        self,
        index: int,
        item_id: str,
        target: np.ndarray,
        start: int,
        cuts: np.ndarray,
        forecast: QuantileForecast,
    ) -> None:
        where = f"{self.task.config}"
        try:
            median = forecast.quantiles[..., level_index(forecast.levels)]
        except ValueError as exc:
            raise RunError(f"{where}: {exc}") from None
        if not self.allow_nan_forecast and np.isnan(median).any():
            raise RunError(f"{where}: Forecast contains NaN values; pass --allow-nan-forecast to score them")
        self._acc.update(window_labels(target, cuts, self.task.prediction_length), median)
        self.instances += len(cuts) * (target.shape[0] if self.univariate_model else 1)

    def row(self) -> dict[str, Any]:
        return self._acc.result()


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


class LSFProtocol(SuiteProtocol):
    """LSF hooks: TSLib CSV files, fixed borders and z-score, stride-1 origins, MSE/MAE of the median.

    Args:
        context_length: cap on the history each window's model sees (last ``C`` points); ``None`` = the whole
            history (the model applies its own cap).
        stride: distance between forecast origins (1 = the standard protocol).
    """

    name: ClassVar[str] = "lsf"
    result_columns = RESULT_COLUMNS
    bounded_batches = True

    def __init__(
        self,
        suite: Suite,
        *,
        allow_nan_forecast: bool = False,
        context_length: int | None = None,
        stride: int = 1,
    ) -> None:
        super().__init__(suite, allow_nan_forecast=allow_nan_forecast)
        if context_length is not None and (isinstance(context_length, bool) or int(context_length) < 1):
            raise ValueError(f"LSF context_length must be a positive integer or None, got {context_length!r}")
        if isinstance(stride, bool) or int(stride) != stride or stride < 1:
            raise ValueError(f"LSF stride must be a positive integer, got {stride!r}")
        self.context_length = None if context_length is None else int(context_length)
        self.stride = int(stride)

    def settings(self) -> dict[str, Any]:
        return {"context_length": self.context_length, "stride": self.stride}

    def data_root(self, data_dir: str | os.PathLike[str] | None) -> Path:
        if data_dir is not None:
            return Path(data_dir).expanduser()
        env = os.environ.get(ENV_VAR)
        if env:
            return Path(env).expanduser()
        return Path.home() / ".cache" / "toto-bench" / "lsf"

    def _origin(self, root: Path) -> str:
        if os.environ.get(ENV_VAR) and Path(os.environ[ENV_VAR]).expanduser() == root:
            return f"${ENV_VAR}"
        return "--data-dir or the default cache"

    def available(
        self, root: Path, specs: Sequence[DatasetSpec], *, explicit: bool
    ) -> tuple[list[DatasetSpec], list[str]]:
        present = [s for s in specs if (root / _BY_NAME[s.storage_name].path).is_file()]
        missing = [s.storage_name for s in specs if s not in present]
        if missing and (explicit or not present):
            expected = ", ".join(str(root / _BY_NAME[n].path) for n in missing)
            raise DatasetNotFoundError(
                f"LSF data missing: {expected} (data root {root}, from {self._origin(root)}). The files keep "
                f"the "
                f"Time-Series-Library layout (ETT-small/ETTh1.csv, weather/weather.csv, "
                f"electricity/electricity.csv, ...); get them from {DATA_HINT} and point --data-dir or "
                f"${ENV_VAR} at the folder holding them."
            )
        return present, missing

    def fingerprint(self, root: Path, spec: DatasetSpec) -> str:
        return _file_hash(root / _BY_NAME[spec.storage_name].path)

    def open(self, root: Path, spec: DatasetSpec) -> LSFData:
        """Read the file, checking its variates against the published count (``spec.series_count``)."""
        dataset = _BY_NAME[spec.storage_name]
        data = read_lsf(root / dataset.path, dataset)
        problem = published_count_problem("lsf", spec.storage_name, data.target.shape[0], spec.series_count)
        if problem:
            raise CorruptDatasetError(f"LSF file {data.path}: {problem}")
        return data

    def tasks(
        self, spec: DatasetSpec, terms: Sequence[str], data: DatasetLike, configs: Mapping[str, str]
    ) -> list[EngineTask]:
        if not isinstance(data, LSFData):
            raise TypeError(f"LSF reads CSV files, got {type(data).__name__}")
        b = data.borders
        test_len = b.test_end - b.test_start
        out: list[EngineTask] = []
        for term in terms:
            horizon = int(term)
            if test_len < horizon:
                raise ValueError(f"its test region has {test_len} rows, fewer than the horizon {horizon}")
            out.append(
                LSFTask(
                    config=configs[term],
                    storage_name=spec.storage_name,
                    term=term,
                    freq=data.freq,
                    prediction_length=horizon,
                    windows=(test_len - horizon) // self.stride + 1,
                    seasonality=seasonality(data.freq),
                    target_dim=data.target.shape[0],
                    test_start=b.test_start,
                    test_end=b.test_end,
                    stride=self.stride,
                )
            )
        return out

    def cuts(self, task: EngineTask, item_id: str, length: int) -> np.ndarray:
        assert isinstance(task, LSFTask)
        return task.test_start + task.stride * np.arange(task.windows, dtype=np.int64)

    def scorer(self, task: EngineTask, spec: DatasetSpec, model: Forecaster) -> Scorer:
        assert isinstance(task, LSFTask)
        return LSFScorer(
            task, univariate_model=not model.supports_multivariate, allow_nan_forecast=self.allow_nan_forecast
        )


def lsf_dataset(name: str) -> LSFDataset:
    """The dataset ``name``; ``ValueError`` listing the valid names otherwise."""
    if name not in _BY_NAME:
        raise ValueError(f"unknown LSF dataset {name!r}; valid: {', '.join(_BY_NAME)}")
    return _BY_NAME[name]


# ----------------------------------------------------------------------------------------------------------
# results for the board


def _read_lsf_csv(path: Path) -> pd.DataFrame:
    try:
        raw = pd.read_csv(path, dtype={"dataset": str})
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise ResultsError(f"{path}: unreadable CSV ({type(exc).__name__}: {exc})") from exc
    missing = [c for c in ("dataset", "MSE", "MAE") if c not in raw.columns]
    if missing:
        raise ResultsError(f"{path}: no column(s) {missing}; columns present: {list(raw.columns)}")
    if raw.empty:
        raise ResultsError(f"{path}: no data rows")
    frame = pd.DataFrame(index=pd.Index(raw["dataset"].astype(str).to_numpy(), name="dataset"))
    for column in ("MSE", "MAE"):
        values = pd.to_numeric(raw[column], errors="coerce")
        bad = values.isna() & raw[column].notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ResultsError(f"{path}: column {column!r} has a non-numeric cell {raw[column].iloc[row]!r}")
        frame[column] = values.to_numpy(dtype=np.float64)
    if frame.index.duplicated().any():
        raise ResultsError(f"{path}: duplicate keys {sorted(set(frame.index[frame.index.duplicated()]))[:5]}")
    for key in frame.index:
        try:
            split_key(key)
        except ValueError as exc:
            raise ResultsError(f"{path}: {exc}") from None
    frame.attrs["source"] = str(path)
    return frame


def load_lsf_results(dirs: Iterable[str | os.PathLike[str]]) -> dict[str, pd.DataFrame]:
    """``{model: frame}`` from ``<dir>/<model>/all_results.csv`` (index ``<name>/<H>``, columns ``MSE, MAE``).

    Raises:
        ResultsError: a missing directory or file, a missing/non-numeric column, a malformed or duplicate key.
    """
    files = find_results_files(list(dirs))
    return {model: _read_lsf_csv(path) for model, path in files.items()}


def dataset_order(names: Iterable[str]) -> list[str]:
    """Literature order (:data:`LSF_DATASETS`), then other names sorted."""
    names = set(names)
    known = [d.name for d in LSF_DATASETS if d.name in names]
    return known + sorted(names - set(known))
