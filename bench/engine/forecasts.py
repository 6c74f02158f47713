"""Stored forecasts: what ``toto-bench run --save-forecasts`` keeps, read back without the model.

One file per config, ``<run folder>/forecasts/<config with "/" → "__">.npz``, an uncompressed numpy ``.npz``
(readable with ``np.load``) holding:

================  ===================  =====================================================================
member            shape, dtype         meaning
================  ===================  =====================================================================
``quantiles``     ``[N, V, H, Q]`` f4  every window's quantile forecast, series by series, windows in order
                                       (float32, the adapters' dtype; a float64 forecast is kept as float64,
                                       so replayed scores are exact)
``mean``          ``[N, V, H]`` f4     the mean forecast; absent when the model gave none (the median stands
                                       in); where only some updates had one, the median fills the others
``levels``        ``[Q]`` f8           the levels actually forecast (a superset of the deciles is kept whole)
``cuts``          ``[N]`` i8           each window's forecast origin (index into its series' time axis)
``offsets``       ``[S+1]`` i8         windows of series ``s`` are rows ``offsets[s]:offsets[s+1]``
``item_ids``      ``[S]`` str          the series with windows, in data order
``series_index``  ``[S]`` i8           their positions in the dataset
``chunks``        ``[U]`` i8           windows of each scorer update, in order; ``toto-bench score`` replays
                                       the same chunks, so pooled sums add up in the same order (bit-exact)
``mean_given``    ``[U]`` bool         whether each update carried a mean
``meta``          0-d str (JSON)       ``config``, the results ``key`` (``spec`` hash, ``data`` fingerprint,
                                       ``protocol`` version), the run ``settings``, ``univariate_model``,
                                       ``instances`` and ``data_sha256`` (a hash of the series the forecasts
                                       were scored against: item ids, shapes and float32 values)
================  ===================  =====================================================================

A config has one ``V``: the GIFT-Eval, BOOM, TIME and LSF datasets have one target dimension per dataset
(TIME's scorer rejects anything else); a series of another ``V`` stops the run with an error naming it.

Memory: :class:`ForecastRecorder` streams each update's forecast to an anonymous temporary file in the
``forecasts/`` folder (removed by the OS however the process ends), so a config never sits in memory
(LSF configs have thousands of stride-1 windows); :meth:`ForecastRecorder.finish` copies the spill into a
temporary ``.npz`` and ``os.replace``-s it in place, so a file is complete or absent. Reading maps the large
members (:func:`load_forecasts` returns read-only ``np.memmap`` views), so a report can read one series of a
big config without loading it all. Disk: ``4·N·V·H·(Q+1)`` bytes per config (LSF ETTh1 H=96 stride 1:
2785·7·96·10·4 B = 75 MB).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from toto_bench.adapters.base import QuantileForecast
from toto_bench.engine.protocol import RunError, Scorer
from toto_bench.engine.store import PROTOCOL_VERSION, EntryKey, spec_hash

__all__ = [
    "FORECASTS_DIR",
    "FORMAT_VERSION",
    "ForecastFile",
    "ForecastRecorder",
    "StoredForecasts",
    "forecast_key",
    "forecasts_path",
    "load_forecasts",
    "read_forecast_file",
    "saved_configs",
    "series_digest",
]

#: Folder of the stored forecasts inside a run folder.
FORECASTS_DIR = "forecasts"
#: Version of the file layout above (``meta["format"]``).
FORMAT_VERSION = 1
#: Members at least this large are memory-mapped when read instead of loaded.
_MMAP_BYTES = 1 << 20
_COPY_BYTES = 1 << 24


@dataclass(frozen=True)
class StoredForecasts:
    """The stored forecasts of one config.

    Attributes:
        config: the results key (``ett1/H/short``).
        levels: the ``Q`` quantile levels, ascending.
        item_ids: ``[S]`` series with windows, in data order.
        offsets: int64 ``[S+1]``; windows of series ``s`` are rows ``offsets[s]:offsets[s+1]``.
        cuts: int64 ``[N]``; forecast origin of each window (index into the series' time axis).
        quantiles: float32 ``[N, V, H, Q]``.
        mean: float32 ``[N, V, H]``, or ``None`` (the median stands in).
    """

    config: str
    levels: tuple[float, ...]
    item_ids: list[str]
    offsets: np.ndarray
    cuts: np.ndarray
    quantiles: np.ndarray
    mean: np.ndarray | None

    def series(self, item_id: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """``(cuts [W], quantiles [W, V, H, Q], mean [W, V, H] or None)`` of the series ``item_id``."""
        try:
            s = self.item_ids.index(item_id)
        except ValueError:
            shown = ", ".join(repr(i) for i in self.item_ids[:5])
            more = f", ... ({len(self.item_ids)} in all)" if len(self.item_ids) > 5 else ""
            raise KeyError(f"{self.config}: no stored series {item_id!r}; stored: {shown}{more}") from None
        rows = slice(int(self.offsets[s]), int(self.offsets[s + 1]))
        return self.cuts[rows], self.quantiles[rows], None if self.mean is None else self.mean[rows]


@dataclass(frozen=True)
class ForecastFile:
    """One stored file with what a replay needs besides the forecasts (see the module docstring).

    Attributes:
        path: the ``.npz`` file.
        forecasts: its :class:`StoredForecasts`.
        meta: the ``meta`` JSON (``config``, ``key``, ``settings``, ``univariate_model``, ``instances``,
            ``data_sha256``, ``format``).
        series_index: int64 ``[S]`` position of each stored series in the dataset.
        chunks: int64 ``[U]`` windows of each scorer update, in order.
        mean_given: bool ``[U]`` whether each update carried a mean.
    """

    path: Path
    forecasts: StoredForecasts
    meta: dict[str, Any]
    series_index: np.ndarray
    chunks: np.ndarray
    mean_given: np.ndarray


def _file_name(config: str) -> str:
    return config.replace("/", "__") + ".npz"


def forecasts_path(run_folder: Path, config: str) -> Path:
    """``<run_folder>/forecasts/<config with "/" → "__">.npz``."""
    return Path(run_folder) / FORECASTS_DIR / _file_name(config)


def _stored_files(run_folder: Path) -> list[Path]:
    folder = Path(run_folder) / FORECASTS_DIR
    return sorted(folder.glob("*.npz")) if folder.is_dir() else []


def saved_configs(run_folder: Path) -> list[str]:
    """The configs with stored forecasts under ``run_folder``, sorted (read from each file's ``meta``)."""
    return sorted(_read_meta(path)["config"] for path in _stored_files(run_folder))


def require_saved_configs(run_folder: Path, configs: Sequence[str] | None = None) -> list[str]:
    """The configs with stored forecasts under ``run_folder`` (sorted), checked to exist.

    Raises:
        RunError: no stored forecasts at all (naming the folder and ``--save-forecasts``), or configs of
            ``configs`` without stored forecasts (naming them and the saved ones).
    """
    run_folder = Path(run_folder)
    saved = saved_configs(run_folder)
    if not saved:
        raise RunError(
            f"{run_folder}: no stored forecasts (expected {run_folder / 'forecasts'}/*.npz); rerun "
            "`toto-bench run ... --save-forecasts` to keep them"
        )
    unknown = [c for c in configs or () if c not in saved]
    if unknown:
        raise RunError(
            f"{run_folder}: no saved forecasts for {unknown}; saved configs: {', '.join(saved[:20])}"
            + (f" (+{len(saved) - 20} more)" if len(saved) > 20 else "")
        )
    return saved


def series_digest(digest: Any, item_id: str, target: np.ndarray) -> None:
    """Feed one series into ``digest`` (a ``hashlib`` object): its id, shape and float32 values."""
    values = np.ascontiguousarray(target, dtype=np.float32)
    digest.update(f"{item_id}\0{values.shape}\0".encode())
    digest.update(values.data.cast("B"))


# ----------------------------------------------------------------------------------------------------------
# Writing


class ForecastRecorder(Scorer):
    """A :class:`Scorer` that scores through ``scorer`` and keeps every forecast it sees.

    The engine wraps each task's scorer in one when the run saves forecasts; ``update``, ``row``,
    ``instances`` and ``finish`` pass through, and ``finish`` then writes the config's file atomically.

    Args:
        scorer: the task's scorer (scores first, so its checks run before anything is kept).
        folder: the run folder (files go to ``<folder>/forecasts/``).
        config: the config's results key.
        key: the config's results key entry (spec hash, data fingerprint, protocol version); without it the
            spec hash is taken from the run settings ``finish`` receives and the data fingerprint is left out
            (the ``data_sha256`` content hash still guards ``toto-bench score``).
    """

    def __init__(self, scorer: Scorer, folder: Path, config: str, *, key: EntryKey | None = None) -> None:
        self.scorer = scorer
        self.folder = Path(folder)
        self.config = config
        self.key = key
        self._spill: tuple[IO[bytes], IO[bytes]] | None = None  # quantiles, mean (or median)
        self._dtype: np.dtype[Any] = np.dtype(np.float32)
        self._shape: tuple[int, ...] = ()
        self._levels: tuple[float, ...] = ()
        self._cuts: list[np.ndarray] = []
        self._item_ids: list[str] = []
        self._series_index: list[int] = []
        self._counts: list[int] = []
        self._chunks: list[int] = []
        self._mean_given: list[bool] = []
        self._digest = hashlib.sha256()

    @property
    def instances(self) -> int:
        """Contexts the model saw so far (the wrapped scorer's count)."""
        return self.scorer.instances

    @instances.setter
    def instances(self, value: int) -> None:
        self.scorer.instances = value

    def __getattr__(self, name: str) -> Any:
        scorer = self.__dict__.get("scorer")
        if scorer is None:
            raise AttributeError(name)
        return getattr(scorer, name)

    def update(
        self,
        index: int,
        item_id: str,
        target: np.ndarray,
        start: int,
        cuts: np.ndarray,
        forecast: QuantileForecast,
    ) -> None:
        self.scorer.update(index, item_id, target, start, cuts, forecast)
        quantiles = np.asarray(forecast.quantiles)
        where = f"{self.config}, series {item_id!r}"
        if self._spill is None:
            self._dtype = np.dtype(np.float64 if quantiles.dtype == np.float64 else np.float32)
            self._shape = tuple(quantiles.shape[1:])
            self._levels = tuple(float(x) for x in forecast.levels)
            folder = self.folder / FORECASTS_DIR
            folder.mkdir(parents=True, exist_ok=True)
            self._spill = (
                tempfile.TemporaryFile(dir=folder, prefix=".spill-"),
                tempfile.TemporaryFile(dir=folder, prefix=".spill-"),
            )
        elif quantiles.shape[1:] != self._shape:
            raise RunError(
                f"{where}: forecasts [n, V, H, Q] of shape {quantiles.shape}, but the config's first series "
                f"had [n, {', '.join(map(str, self._shape))}]; stored forecasts need one V, H and Q per "
                "config (run without --save-forecasts)"
            )
        elif tuple(float(x) for x in forecast.levels) != self._levels:
            raise RunError(
                f"{where}: forecast levels changed within a config ({self._levels}, {forecast.levels})"
            )
        if not self._series_index or index != self._series_index[-1]:
            if (self._series_index and index < self._series_index[-1]) or start != 0:
                raise RunError(
                    f"{where}: windows must arrive series by series, in order (got window {start})"
                )
            self._item_ids.append(str(item_id))
            self._series_index.append(int(index))
            self._counts.append(0)
            series_digest(self._digest, str(item_id), target)
        elif start != self._counts[-1]:
            raise RunError(f"{where}: window {start} arrived after {self._counts[-1]} windows of the series")
        q_file, m_file = self._spill
        q_file.write(np.ascontiguousarray(quantiles, dtype=self._dtype).data.cast("B"))
        point = forecast.mean if forecast.mean is not None else _median(quantiles, self._levels)
        m_file.write(np.ascontiguousarray(point, dtype=self._dtype).data.cast("B"))
        self._mean_given.append(forecast.mean is not None)
        self._cuts.append(np.array(cuts, dtype=np.int64))
        self._chunks.append(len(cuts))
        self._counts[-1] += len(cuts)

    def row(self) -> dict[str, Any]:
        return self.scorer.row()

    def finish(self, folder: Path, settings: Mapping[str, Any]) -> None:
        """Let the wrapped scorer write its side outputs, then write this config's forecasts file."""
        self.scorer.finish(folder, settings)
        try:
            self._write(settings)
        finally:
            self._close()

    def _close(self) -> None:
        if self._spill is not None:
            for fh in self._spill:
                fh.close()
            self._spill = None

    def _meta(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        key = (
            {"spec": self.key.spec, "data": self.key.data, "protocol": self.key.protocol}
            if self.key is not None
            else {"spec": spec_hash(settings), "data": None, "protocol": PROTOCOL_VERSION}
        )
        univariate = getattr(self.scorer, "univariate_model", None)
        return {
            "format": FORMAT_VERSION,
            "config": self.config,
            "key": key,
            "settings": json.loads(json.dumps(dict(settings), default=str)),
            "univariate_model": None if univariate is None else bool(univariate),
            "instances": int(self.scorer.instances),
            "data_sha256": self._digest.hexdigest(),
        }

    def _write(self, settings: Mapping[str, Any]) -> None:
        n = sum(self._chunks)
        shape = (n, *self._shape) if self._shape else (0, 0, 0, 0)
        small: dict[str, np.ndarray] = {
            "levels": np.asarray(self._levels, dtype=np.float64),
            "cuts": np.concatenate(self._cuts) if self._cuts else np.empty(0, dtype=np.int64),
            "offsets": np.concatenate([[0], np.cumsum(self._counts, dtype=np.int64)]).astype(np.int64),
            "item_ids": np.asarray(self._item_ids, dtype=str),
            "series_index": np.asarray(self._series_index, dtype=np.int64),
            "chunks": np.asarray(self._chunks, dtype=np.int64),
            "mean_given": np.asarray(self._mean_given, dtype=bool),
            "meta": np.asarray(json.dumps(self._meta(settings), sort_keys=True)),
        }
        path = forecasts_path(self.folder, self.config)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        try:
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
                spills = self._spill or (None, None)
                _put_spill(zf, "quantiles", self._dtype, shape, spills[0])
                if any(self._mean_given):
                    _put_spill(zf, "mean", self._dtype, shape[:-1], spills[1])
                for name, array in small.items():
                    with zf.open(f"{name}.npy", "w", force_zip64=True) as fh:
                        np.lib.format.write_array(fh, array, allow_pickle=False)
            with tmp.open("rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


def _median(quantiles: np.ndarray, levels: tuple[float, ...]) -> np.ndarray:
    """``[n, V, H]`` median of ``[n, V, H, Q]`` quantiles (NaN when 0.5 is not among ``levels``)."""
    for i, level in enumerate(levels):
        if abs(level - 0.5) < 1e-12:
            return quantiles[..., i]
    return np.full(quantiles.shape[:-1], np.nan, dtype=quantiles.dtype)


def _put_spill(
    zf: zipfile.ZipFile, name: str, dtype: np.dtype[Any], shape: tuple[int, ...], spill: IO[bytes] | None
) -> None:
    """Write the ``.npy`` member ``name`` from raw C-order values spilled to ``spill``."""
    header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape}
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    with zf.open(f"{name}.npy", "w", force_zip64=True) as fh:
        np.lib.format.write_array_header_2_0(fh, header)
        if spill is not None:
            spill.flush()
            if spill.tell() != expected:
                raise RunError(f"{name}: spilled {spill.tell()} bytes, expected {expected} for shape {shape}")
            spill.seek(0)
            shutil.copyfileobj(spill, fh, _COPY_BYTES)


# ----------------------------------------------------------------------------------------------------------
# Reading


def _read_member(path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    """One ``.npy`` member: memory-mapped when large and stored uncompressed, else read."""
    if info.compress_type == zipfile.ZIP_STORED and info.file_size >= _MMAP_BYTES:
        with path.open("rb") as raw:
            raw.seek(info.header_offset)
            local = raw.read(30)
            if local[:4] == b"PK\x03\x04":
                name_len, extra_len = struct.unpack("<HH", local[26:30])
                raw.seek(info.header_offset + 30 + name_len + extra_len)
                version = np.lib.format.read_magic(raw)
                read_header = (
                    np.lib.format.read_array_header_1_0
                    if version == (1, 0)
                    else np.lib.format.read_array_header_2_0
                )
                shape, fortran, dtype = read_header(raw)
                if not dtype.hasobject and int(np.prod(shape)) > 0:
                    return np.memmap(
                        path,
                        dtype=dtype,
                        mode="r",
                        shape=shape,
                        order="F" if fortran else "C",
                        offset=raw.tell(),
                    )
    with zf.open(info) as fh:
        return np.asarray(np.lib.format.read_array(fh, allow_pickle=False))


def _read_meta(path: Path) -> dict[str, Any]:
    try:
        with zipfile.ZipFile(path) as zf, zf.open("meta.npy") as fh:
            meta = json.loads(str(np.lib.format.read_array(fh, allow_pickle=False)[()]))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise RunError(f"{path}: not a stored-forecasts file ({type(exc).__name__}: {exc})") from exc
    return dict(meta)


def forecast_key(path: Path) -> dict[str, Any]:
    """The results key (``spec``, ``data``, ``protocol``) a stored-forecasts file was computed under, read
    from its ``meta`` alone (the arrays are not loaded)."""
    return dict(_read_meta(path)["key"])


def read_forecast_file(path: Path) -> ForecastFile:
    """Read one stored file (large members memory-mapped, read-only).

    Raises:
        RunError: the file is not a stored-forecasts file or lacks a member.
    """
    path = Path(path)
    meta = _read_meta(path)
    if meta.get("format") != FORMAT_VERSION:
        raise RunError(
            f"{path}: stored-forecasts format {meta.get('format')!r}, this toto-bench reads {FORMAT_VERSION}"
        )
    with zipfile.ZipFile(path) as zf:
        arrays = {info.filename.removesuffix(".npy"): _read_member(path, zf, info) for info in zf.infolist()}
    required = ("quantiles", "levels", "cuts", "offsets", "item_ids", "series_index", "chunks", "mean_given")
    missing = [name for name in required if name not in arrays]
    if missing:
        raise RunError(f"{path}: stored-forecasts file lacks {missing}")
    forecasts = StoredForecasts(
        config=str(meta["config"]),
        levels=tuple(float(x) for x in arrays["levels"]),
        item_ids=[str(x) for x in arrays["item_ids"]],
        offsets=arrays["offsets"],
        cuts=arrays["cuts"],
        quantiles=arrays["quantiles"],
        mean=arrays.get("mean"),
    )
    return ForecastFile(path, forecasts, meta, arrays["series_index"], arrays["chunks"], arrays["mean_given"])


def load_forecasts(run_folder: Path, config: str) -> StoredForecasts:
    """The stored forecasts of ``config`` in ``run_folder`` (large arrays are read-only memory maps).

    Raises:
        FileNotFoundError: no file for ``config`` (the message lists the stored configs).
        RunError: the file is unreadable or holds another config.
    """
    path = forecasts_path(run_folder, config)
    if not path.is_file():
        stored = saved_configs(run_folder)
        shown = ", ".join(stored[:5]) + (f", ... ({len(stored)} in all)" if len(stored) > 5 else "")
        raise FileNotFoundError(
            f"no stored forecasts for {config!r}: {path} is absent; stored configs: {shown or 'none'} "
            "(`toto-bench run --save-forecasts` stores them)"
        )
    stored_file = read_forecast_file(path)
    if stored_file.forecasts.config != config:
        raise RunError(f"{path} holds the forecasts of {stored_file.forecasts.config!r}, not {config!r}")
    return stored_file.forecasts
