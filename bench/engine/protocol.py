"""What a suite's protocol hands the engine (:mod:`toto_bench.engine.runner`): the per-suite hooks.

One engine runs every suite. It loads a dataset, asks the suite's :class:`SuiteProtocol` for the tasks of the
pending terms and the window starts (cuts) of every series, streams the windows' contexts through the model
in bounded batches, and feeds the forecasts to the task's :class:`Scorer`. A suite only says:

==================  ========================================================================================
hook                GIFT-Eval / BOOM · TIME · LSF
==================  ========================================================================================
``data_root``       ``$GIFT_EVAL``/``$BOOM`` · ``$TIME_DATASET`` · ``$LSF_DATA`` (else ``--data-dir``/cache)
``available``       every folder must exist · same · missing CSVs of the default selection are skipped
``open``            ``save_to_disk`` folder · same (NaN kept) · TSLib CSV, z-scored with train statistics
``tasks``           H by freq × term, ``W = ceil(.1·min_len/H)`` · per-config table, ``W = floor(L/H)`` ·
                    H = 96/192/336/720, stride 1 over the test border
``cuts``            ``T − H·W + w·H`` · ``T − L + w·H`` · ``test_start + k·stride``
``scorer``          gluonts-pooled 11 metrics · per-window MASE/CRPS, NaN-mean · pooled MSE/MAE of the median
``context_length``  none (the model's own cap) · none · optional protocol cap (last C points)
==================  ========================================================================================

The engine never copies a context: models get views ``target[:, lo:cut]`` of the stored series.
"""

from __future__ import annotations

import hashlib
import os
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np

from toto_bench.adapters.base import Forecaster, QuantileForecast
from toto_bench.engine.checks import published_count_problem
from toto_bench.engine.data import (
    CorruptDatasetError,
    Series,
    StoredDataset,
    load_dataset,
    missing_datasets_error,
    resolve_data_dir,
)

if TYPE_CHECKING:
    from toto_bench.engine.spec import DatasetSpec, Suite

__all__ = [
    "DatasetLike",
    "EngineTask",
    "RunError",
    "SavedFolderProtocol",
    "Scorer",
    "SuiteProtocol",
    "folder_fingerprint",
    "window_labels",
]


class RunError(Exception):
    """A run stopped on bad input; finished configs stay committed and a rerun resumes."""


def window_labels(target: np.ndarray, cuts: np.ndarray, horizon: int) -> np.ndarray:
    """``[W, V, H]`` labels ``target[:, cut : cut + H]`` of every window (a copy, in ``target``'s dtype)."""
    index = cuts[:, None] + np.arange(horizon)[None, :]
    return np.ascontiguousarray(np.moveaxis(target[:, index], 0, 1))


class EngineTask(Protocol):
    """What the engine reads of a task (every suite's task type has it, e.g. ``protocol.Task``).

    Attributes:
        config: the results key (``ett1/H/short``, ``SG_Weather/D/medium``, ``ETTh1/96``).
        term: the term of the config (``short``, ..., or the LSF horizon ``"96"``).
        freq: the data frequency string handed to the model.
        prediction_length: horizon H.
        seasonality: season length handed to the model (and used by seasonal metrics).
    """

    @property
    def config(self) -> str: ...

    @property
    def term(self) -> str: ...

    @property
    def freq(self) -> str: ...

    @property
    def prediction_length(self) -> int: ...

    @property
    def seasonality(self) -> int: ...


class DatasetLike(Protocol):
    """An opened dataset: its name and its series (one :class:`~toto_bench.engine.data.Series` at a time)."""

    name: str

    def __iter__(self) -> Iterator[Series]: ...


class Scorer(ABC):
    """Scores the forecasts of one task, fed window chunks series by series, in order.

    Attributes:
        instances: contexts the model saw so far (windows, times variates for univariate models).
    """

    instances: int = 0

    @abstractmethod
    def update(
        self,
        index: int,
        item_id: str,
        target: np.ndarray,
        start: int,
        cuts: np.ndarray,
        forecast: QuantileForecast,
    ) -> None:
        """Score windows ``start .. start + w`` of series ``index``.

        Args:
            index: position of the series in the dataset.
            item_id: its stored id (for error messages).
            target: float32 ``[V, T]`` full series (as the protocol opened it).
            start: index of the first of these windows among the series' windows.
            cuts: ``[w]`` their window starts (contexts ``target[:, :cut]``, labels ``target[:, cut:cut+H]``).
            forecast: ``quantiles [w, V, H, Q]`` (+ optional mean ``[w, V, H]``).
        """

    @abstractmethod
    def row(self) -> dict[str, Any]:
        """The task's metric (and metadata) columns of ``all_results.csv``, without ``dataset``/``model``."""

    def finish(self, folder: Path, settings: Mapping[str, Any]) -> None:  # noqa: B027 - optional hook
        """Write per-task side outputs under the run folder ``folder`` (default: nothing)."""


class SuiteProtocol(ABC):
    """The protocol hooks of one suite, built per run (options such as the LSF stride are fixed then).

    Attributes:
        name: protocol name recorded in the run record (``gift-eval``, ``time``, ``lsf``).
        result_columns: ``all_results.csv`` columns, in order.
        context_length: protocol cap on the history a model sees (last C points), ``None`` for the full
            history (the model then applies its own context length).
        bounded_batches: models without a ``batch_size`` get bounded batches of contexts instead of one call
            per config (needed where a config has thousands of windows).
    """

    name: ClassVar[str]
    result_columns: tuple[str, ...]
    context_length: int | None = None
    bounded_batches: bool = False

    def __init__(self, suite: Suite, *, allow_nan_forecast: bool = False) -> None:
        self.suite = suite
        self.allow_nan_forecast = allow_nan_forecast

    def settings(self) -> dict[str, Any]:
        """Protocol options that change numbers (hashed into the results key; empty by default)."""
        return {}

    @abstractmethod
    def data_root(self, data_dir: str | os.PathLike[str] | None) -> Path:
        """The suite's data root: ``data_dir``, else its env var, else the cache."""

    @abstractmethod
    def available(
        self, root: Path, specs: Sequence[DatasetSpec], *, explicit: bool
    ) -> tuple[list[DatasetSpec], list[str]]:
        """The datasets to run and the names skipped for lack of data; raise for data that must exist.

        ``explicit`` is true when the user named the datasets (then every one must exist).
        """

    @abstractmethod
    def fingerprint(self, root: Path, spec: DatasetSpec) -> str:
        """A cheap fingerprint of a dataset's stored data (part of the results key)."""

    @abstractmethod
    def open(self, root: Path, spec: DatasetSpec) -> DatasetLike:
        """Open one dataset (series are read when iterated)."""

    @abstractmethod
    def tasks(
        self, spec: DatasetSpec, terms: Sequence[str], data: DatasetLike, configs: Mapping[str, str]
    ) -> list[EngineTask]:
        """The tasks of ``terms`` (``configs`` maps each term to its results key).

        Raises:
            ValueError: the data cannot hold a task (the engine reports it as a run error).
        """

    def check(self, data: DatasetLike, tasks: Sequence[EngineTask]) -> None:  # noqa: B027 - optional hook
        """Check every series fits the tasks before any forecast (raise a ``DataError`` naming it)."""

    @abstractmethod
    def cuts(self, task: EngineTask, item_id: str, length: int) -> np.ndarray:
        """``[W]`` ascending int64 window starts of a series of ``length`` steps."""

    @abstractmethod
    def scorer(self, task: EngineTask, spec: DatasetSpec, model: Forecaster) -> Scorer:
        """A fresh scorer for ``task``."""


def folder_fingerprint(path: Path) -> str:
    """A cheap fingerprint of one ``save_to_disk`` folder: ``state.json`` plus the arrow files' sizes."""
    digest = hashlib.sha256()
    state = path / "state.json"
    if state.is_file():
        digest.update(state.read_bytes())
    for arrow in sorted(path.glob("*.arrow")):
        digest.update(f"{arrow.name}:{arrow.stat().st_size}".encode())
    return digest.hexdigest()[:16]


class SavedFolderProtocol(SuiteProtocol):
    """Storage hooks of the suites kept as ``datasets.save_to_disk`` folders (GIFT-Eval, BOOM, TIME).

    The data root and the folder errors come from :mod:`toto_bench.engine.data` with the suite's
    ``data_source``.
    """

    def data_root(self, data_dir: str | os.PathLike[str] | None) -> Path:
        return resolve_data_dir(self.suite.data_source, data_dir)

    def available(
        self, root: Path, specs: Sequence[DatasetSpec], *, explicit: bool
    ) -> tuple[list[DatasetSpec], list[str]]:
        missing = [spec.storage_name for spec in specs if not (root / spec.storage_name).is_dir()]
        if len(missing) > 1:  # fail before any work, naming them all
            raise missing_datasets_error(self.suite.data_source, missing, root)
        for name in missing:
            load_dataset(self.suite.data_source, name, root)  # raises the precise error
        return list(specs), []

    def fingerprint(self, root: Path, spec: DatasetSpec) -> str:
        return folder_fingerprint(root / spec.storage_name)

    def open(self, root: Path, spec: DatasetSpec) -> StoredDataset:
        """Load the folder, checking it against the count the suite publishes (``spec.series_count``)."""
        data = load_dataset(self.suite.data_source, spec.storage_name, root)
        name, found = spec.storage_name, data.series_count
        problem = published_count_problem(self.suite.name, name, found, spec.series_count)
        if problem:
            raise CorruptDatasetError(problem)
        return data
