"""The run record: what ran, on what, from which weights, and what it cost (``config.json`` of a run folder).

Four parts, each usable on its own:

- :func:`~toto_bench.engine.environment.environment`: toto-bench version and git state, Python, platform,
  host, CPU and the versions of the relevant installed packages;
- :func:`describe_model`: an adapter's ``describe()`` normalised to the common keys of :data:`MODEL_KEYS`,
  with the checkpoint revision and weights hash worked out from the checkpoint folder;
- :class:`~toto_bench.engine.resources.ResourceMonitor`: wall time, peak RSS and peak GPU memory of one
  suite run;
- :func:`build_run_record`: the runner's own record merged with the three above into one JSON-native dict.

Nothing here imports torch: GPU facts are read only when a model already imported it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from toto_bench.adapters.base import Describes, ReportsFallbacks
from toto_bench.engine.environment import PACKAGES, cpu_model, environment, git_state, package_versions
from toto_bench.engine.resources import ResourceMonitor, peak_gpu_memory_mb, peak_rss_mb

__all__ = [
    "MODEL_KEYS",
    "PACKAGES",
    "WEIGHT_SUFFIXES",
    "ResourceMonitor",
    "build_run_record",
    "checkpoint_revision",
    "cpu_model",
    "describe_model",
    "device_name",
    "environment",
    "fallback_summary",
    "git_state",
    "package_versions",
    "peak_gpu_memory_mb",
    "peak_rss_mb",
    "weights_problem",
    "weights_sha256",
]

#: Files that hold checkpoint weights; their bytes make :func:`weights_sha256`.
WEIGHT_SUFFIXES: tuple[str, ...] = (".safetensors", ".bin", ".pt", ".ckpt")

#: The keys of :func:`describe_model`'s answer, in order (the adapter's other keys go under ``settings``).
MODEL_KEYS: tuple[str, ...] = (
    "name",
    "model_id",
    "checkpoint",
    "checkpoint_dir",
    "checkpoint_revision",
    "weights_sha256",
    "weights_files",
    "device",
    "device_name",
    "dtype",
    "context_length",
    "decode_mode",
    "batch_size",
    "seed",
    "parameters",
    "settings",
)

_HASH_CHUNK = 1 << 20
_COMMIT = re.compile(r"[0-9a-f]{40}")


# ----------------------------------------------------------------------------------------------------------
# Checkpoints


def checkpoint_revision(
    checkpoint_dir: str | os.PathLike[str] | None, explicit: str | None = None
) -> str | None:
    """The checkpoint's revision: the commit of an HF cache snapshot, else ``explicit``, else None.

    A folder ``.../models--<org>--<name>/snapshots/<40-hex commit>[/sub]`` (the Hugging Face hub cache
    layout) gives that commit, whatever revision was asked for (a branch or tag resolves to it).
    """
    if checkpoint_dir is not None:
        parts = Path(checkpoint_dir).absolute().parts
        for i in range(1, len(parts) - 1):
            if (
                parts[i] == "snapshots"
                and parts[i - 1].startswith("models--")
                and _COMMIT.fullmatch(parts[i + 1])
            ):
                return parts[i + 1]
    return explicit


def _weight_files(folder: Path) -> list[Path]:
    files = [p for p in folder.rglob("*") if p.suffix in WEIGHT_SUFFIXES and p.is_file()]
    return sorted(files, key=lambda p: p.relative_to(folder).as_posix())


_HASHES: dict[str, tuple[str | None, list[str]]] = {}


def weights_sha256(checkpoint_dir: str | os.PathLike[str]) -> tuple[str | None, list[str]]:
    """sha256 of a checkpoint folder's weights, and the files it covers.

    The digest runs over the bytes of every ``*.safetensors`` / ``*.bin`` / ``*.pt`` / ``*.ckpt`` file under
    the folder (recursively, symlinks followed as in the HF cache), concatenated in the order of their
    relative POSIX paths, read in 1 MiB chunks. Computed once per folder and process.

    Returns:
        ``(hex digest, relative paths)``; ``(None, [])`` when the folder holds no weight file.
    """
    folder = Path(checkpoint_dir).resolve()
    key = str(folder)
    if key not in _HASHES:
        files = _weight_files(folder)
        digest = hashlib.sha256()
        for path in files:
            with path.open("rb") as fh:
                while chunk := fh.read(_HASH_CHUNK):
                    digest.update(chunk)
        names = [p.relative_to(folder).as_posix() for p in files]
        _HASHES[key] = (digest.hexdigest() if files else None, names)
    digest_hex, names = _HASHES[key]
    return digest_hex, list(names)


def weights_problem(details: Mapping[str, Any], expected: str) -> str | None:
    """Why the weights :func:`describe_model` found (``details``) are not the ``expected`` sha256 (hex, as
    :func:`weights_sha256` computes it), or ``None`` when they are."""
    found, files = details.get("weights_sha256"), list(details.get("weights_files") or [])
    folder = details.get("checkpoint_dir")
    expected = expected.lower()
    if found is None:
        where = f"under {folder}" if folder else "(the model names no checkpoint folder)"
        return (
            f"--expect-sha256 {expected}: no checkpoint weights were found to hash {where} "
            f"(*{', *'.join(WEIGHT_SUFFIXES)}); the check applies to models loaded from a checkpoint"
        )
    if found != expected:
        return (
            f"checkpoint weights differ from --expect-sha256: expected {expected}, found {found} "
            f"(sha256 of {', '.join(files)} under {folder}, concatenated in that order); load the intended "
            f"checkpoint (--checkpoint DIR or --checkpoint-revision REV) or re-download it"
        )
    return None


def _cached_hub_folder(
    repo_id: str, filenames: Sequence[str] = ("config.json", "model.safetensors")
) -> Path | None:
    """The HF-cache snapshot of ``repo_id`` (``refs/main``), looked up locally; None when not cached."""
    if not isinstance(repo_id, str) or repo_id.count("/") != 1 or repo_id.startswith((".", "/", "~")):
        return None
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    for filename in filenames:
        try:
            found = try_to_load_from_cache(repo_id=repo_id, filename=filename)
        except Exception:  # an invalid repo id: nothing cached under it
            return None
        if isinstance(found, str):
            return Path(found).parent
    return None


def _checkpoint_folder(raw: Mapping[str, Any]) -> Path | None:
    """Where the weights were read from: ``checkpoint_dir``, a local ``checkpoint`` or its HF snapshot."""
    folder = raw.get("checkpoint_dir")
    if folder is not None:
        return Path(folder)
    source = raw.get("checkpoint")
    if source is None:
        return None
    local = Path(os.fspath(source)).expanduser()
    if local.is_dir():
        return local.absolute()
    return _cached_hub_folder(str(source))


# ----------------------------------------------------------------------------------------------------------
# Devices


def device_name(device: str | None) -> str | None:
    """A readable name of ``device``: ``torch.cuda.get_device_name`` for ``cuda[:N]``, the CPU model for cpu.

    CUDA names are read only when torch is already imported (a model on the GPU imported it); otherwise, and
    for other devices, ``None``.
    """
    if device is None:
        return None
    if device == "cpu":
        return cpu_model()
    torch = sys.modules.get("torch")
    if device.startswith("cuda") and torch is not None:
        try:
            if torch.cuda.is_available():
                index = device.partition(":")[2]
                return str(torch.cuda.get_device_name(int(index) if index else torch.cuda.current_device()))
        except Exception:  # a driver problem must not lose the run record
            return None
    return None


# ----------------------------------------------------------------------------------------------------------
# Model


def _describe(model: Any) -> dict[str, Any]:
    try:
        raw = dict(model.describe()) if isinstance(model, Describes) else {}
    except Exception as exc:  # a broken describe() must not lose the record of a finished run
        raw = {"describe_error": f"{type(exc).__name__}: {exc}"}
    for attr in ("name", "device", "context_length", "batch_size", "seed"):  # plugins without describe()
        if attr not in raw and hasattr(model, attr):
            raw[attr] = getattr(model, attr)
    return raw


def describe_model(model: Any) -> dict[str, Any]:
    """The model's part of the run record: its ``describe()`` normalised to :data:`MODEL_KEYS`.

    An adapter's ``describe()`` may give any of the keys below; others go under ``settings``. Adapters without
    ``describe()`` (plugins) are read from their ``name``, ``device``, ``context_length``, ``batch_size``
    and ``seed`` attributes.

    Returns:
        ``name``; ``model_id`` (the published checkpoint id, e.g. ``Datadog/Toto-2.0-4m``; ``checkpoint_id``
        is accepted as an alias; the model name for models without a checkpoint); ``checkpoint`` (what was
        loaded: a hub id or a folder); ``checkpoint_dir`` (the folder the weights were read from: given by
        the adapter, else the local ``checkpoint``, else its HF-cache snapshot); ``checkpoint_revision``
        (:func:`checkpoint_revision` of that folder, else the adapter's ``revision``); ``weights_sha256`` and
        ``weights_files`` (:func:`weights_sha256`; None / [] without a checkpoint); ``device``;
        ``device_name`` (:func:`device_name`); ``dtype``; ``context_length``; ``decode_mode`` (how the
        horizon is produced, e.g. ``single pass``, ``block decoding (64 steps)``, ``256 sample paths``);
        ``batch_size``; ``seed`` (None for deterministic models); ``parameters`` (None without weights);
        ``settings`` (the adapter's other keys).
    """
    raw = _describe(model)
    out: dict[str, Any] = {}
    out["name"] = raw.pop("name", None)
    model_id = raw.pop("model_id", None)
    alias = raw.pop("checkpoint_id", None)
    out["model_id"] = model_id if model_id is not None else alias if alias is not None else out["name"]
    folder = _checkpoint_folder(raw)
    checkpoint = raw.pop("checkpoint", None)
    raw.pop("checkpoint_dir", None)
    explicit = raw.pop("revision", None)
    out["checkpoint"] = None if checkpoint is None else os.fspath(checkpoint)
    out["checkpoint_dir"] = None if folder is None else str(folder)
    out["checkpoint_revision"] = checkpoint_revision(folder, explicit)
    out["weights_sha256"], out["weights_files"] = None, []
    if folder is not None and folder.is_dir():
        try:
            out["weights_sha256"], out["weights_files"] = weights_sha256(folder)
        except OSError as exc:  # unreadable weights: say so instead of failing the record
            raw["weights_error"] = f"weights not hashed: {exc}"
    device = raw.pop("device", None)
    out["device"] = device
    out["device_name"] = raw.pop("device_name", None) or device_name(device)
    for key in ("dtype", "context_length", "decode_mode", "batch_size", "seed", "parameters"):
        out[key] = raw.pop(key, None)
    out["settings"] = raw
    return out


# ----------------------------------------------------------------------------------------------------------
# The record


def fallback_summary(model: Any = None, records: Iterable[Any] | None = None) -> list[dict[str, Any]]:
    """Seasonal-naive substitutions (``records``, else ``model.fallbacks``) as JSON-native dicts.

    Each :class:`~toto_bench.adapters.statistical.FallbackRecord` becomes ``config`` (the config it happened
    in; None when the model was never told one), ``reason``, ``call``, ``series`` (how many series/variates
    it covered) and ``detail``; mappings are kept as they are, other objects become ``{"detail": str}``.
    """
    if records is None:
        records = list(model.fallbacks) if isinstance(model, ReportsFallbacks) else []
    out: list[dict[str, Any]] = []
    for item in records:
        if dataclasses.is_dataclass(item) and not isinstance(item, type):
            fields = dataclasses.asdict(item)
        elif isinstance(item, Mapping):
            fields = dict(item)
        else:
            fields = {"detail": str(item)}
        items = fields.pop("items", None)
        if items is not None:
            fields["series"] = len(items)
        fields.setdefault("config", None)
        out.append(_jsonable(fields))
    return out


def _jsonable(value: Any) -> Any:
    """``value`` with only JSON types (dict/list/str/int/float/bool/None); non-finite floats become None."""
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((_jsonable(v) for v in value), key=str)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _jsonable(dataclasses.asdict(value))
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        try:
            return _jsonable(item())
        except (TypeError, ValueError):
            pass
    return str(value)


def build_run_record(
    *,
    base: Mapping[str, Any],
    model: Any,
    monitor: ResourceMonitor,
    windows: int,
    model_details: Mapping[str, Any] | None = None,
    fallbacks: Iterable[Any] | None = None,
) -> dict[str, Any]:
    """The full run record: ``base`` (the runner's keys) + :func:`environment` + resources + the model.

    ``monitor`` is stopped here (if it still runs). Keys of ``base`` that this function also produces
    (``versions``, ``git_sha``, ``wall_seconds``, ``windows_per_second``, ``peak_rss_mb``, ``fallbacks``) are
    replaced. The result holds only JSON types (``json.dumps`` needs no ``default``).

    Args:
        base: what the runner records (suite, settings, spec hash, datasets, counts, ...).
        model: the adapter the run used; ``None`` when no model was built here (nothing to compute, or the
            model lives in worker processes: pass ``model_details`` and ``fallbacks`` from there).
        monitor: the run's started :class:`ResourceMonitor`.
        windows: forecast instances scored in this run (``windows_per_second`` = windows / wall seconds).
        model_details: :func:`describe_model` computed elsewhere (a worker process); default: of ``model``.
        fallbacks: the fallback records (e.g. collected from workers); default: ``model.fallbacks``.
    """
    usage = monitor.stop()
    wall = usage["wall_seconds"]
    summary = fallback_summary(model, fallbacks)
    if model_details is None and model is not None:
        model_details = describe_model(model)
    record: dict[str, Any] = dict(base)
    record.update(environment())
    record.update(usage)
    record["windows"] = int(windows)
    record["windows_per_second"] = round(windows / wall, 1) if wall > 0 and windows else None
    record["fallbacks"] = summary
    record["fallback_configs"] = sorted({f["config"] for f in summary if f["config"] is not None})
    record["model_details"] = None if model_details is None else dict(model_details)
    out: dict[str, Any] = _jsonable(record)
    return out
