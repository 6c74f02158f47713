"""Shared plumbing for the neural adapters: lazy imports, device choice, OOM-safe batching, padding.

Every family file imports torch and its model package lazily (inside the adapter's ``__init__``), so
``import toto_bench.adapters`` and ``toto-bench list models`` work without any extra installed.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any, TypeVar

import numpy as np

log = logging.getLogger("toto_bench.adapters")

T = TypeVar("T")

#: The torch build the model families are tested with; installed first (``.ci/install-model-extras.sh``).
TORCH_SPEC = "torch==2.13.0"

#: Install extras of the model families (``.ci/install-model-extras.sh FAMILY`` accepts each).
MODEL_EXTRAS: tuple[str, ...] = ("toto2", "toto1", "chronos", "moirai", "timesfm", "stats")

#: extra → the modules whose presence shows it is installed (the checks of install-model-extras.sh step 4).
EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "toto2": ("toto2",),
    "toto1": ("toto.model.toto",),
    "chronos": ("chronos",),
    "moirai": ("uni2ts.model.moirai", "uni2ts.model.moirai2"),
    "timesfm": ("timesfm",),
    "stats": ("statsforecast",),
}

#: extra → the packages installed after it without their declared dependencies (their pins do not fit).
NO_DEPS_PACKAGES: dict[str, str] = {
    "toto2": "--no-deps --ignore-requires-python toto-2==2.0.0 dd-unit-scaling==0.1.0",
    "toto1": "--no-deps toto-ts==0.2.0",
    "moirai": "--no-deps uni2ts==2.0.0",
}


def _check_extra(extra: str) -> str:
    if extra not in MODEL_EXTRAS:
        raise ValueError(f"unknown model extra {extra!r}; valid: {', '.join(MODEL_EXTRAS)}")
    return extra


def install_command(extra: str) -> str:
    """The one install command of a model extra, in a checkout: ``bash .ci/install-model-extras.sh EXTRA``."""
    return f"bash .ci/install-model-extras.sh {_check_extra(extra)}"


def pip_install_command(extra: str) -> str:
    """What a pip-only user (no checkout) runs: the same steps as :func:`install_command`, spelled out."""
    steps = [f'pip install "toto-bench[{_check_extra(extra)}]"']
    if extra != "stats":
        steps[0] = f'pip install {TORCH_SPEC} "toto-bench[{extra}]"'
    if extra in NO_DEPS_PACKAGES:
        steps.append(f"pip install {NO_DEPS_PACKAGES[extra]}")
    return " && ".join(steps)


def install_hint(extra: str) -> str:
    """The install hint every message and doc gives: the checkout command, then the pip-only one."""
    return f"{install_command(extra)} (in a checkout; with pip only: {pip_install_command(extra)})"


def extra_installed(extra: str) -> bool:
    """Whether the packages of ``extra`` are importable (found on the path; nothing is imported but the
    top-level packages that :func:`importlib.util.find_spec` needs for a dotted name)."""
    for module in EXTRA_MODULES[_check_extra(extra)]:
        try:
            if importlib.util.find_spec(module) is None:
                return False
        except (ImportError, ValueError):
            return False
    return extra == "stats" or importlib.util.find_spec("torch") is not None


#: extra name → the install hint printed when its packages are missing (torch: any torch family's).
INSTALL_HINTS: dict[str, str] = {
    **{extra: install_hint(extra) for extra in MODEL_EXTRAS},
    "torch": f"bash .ci/install-model-extras.sh FAMILY (in a checkout; it installs {TORCH_SPEC} first; with "
    f"pip only: pip install {TORCH_SPEC}, on a GPU machine the CUDA build for your driver)",
}


class MissingExtraError(ImportError):
    """A model family's packages are not installed; the message names the install command."""


def require(module: str, extra: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingExtraError` naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        hint = INSTALL_HINTS.get(extra, f"pip install the package providing {module!r}")
        raise MissingExtraError(
            f"the {extra!r} model family needs the package providing {module!r} ({exc.name or exc}); "
            f"install it with: {hint}"
        ) from exc


def resolve_device(device: str = "auto") -> str:
    """``auto`` → ``cuda`` when a GPU is visible, else ``cpu``; ``cpu``/``cuda``/``cuda:N`` pass through.

    Without torch installed (numpy-only models), ``auto`` and ``cpu`` give ``cpu``; ``cuda`` names the
    torch install it needs."""
    if device not in ("auto", "cpu") and not device.startswith("cuda"):
        raise ValueError(f"unknown device {device!r}; valid: auto, cpu, cuda, cuda:N")
    if device == "cpu" or (device == "auto" and importlib.util.find_spec("torch") is None):
        return "cpu"
    torch = require("torch", "torch")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not torch.cuda.is_available():
        raise ValueError(f"--device {device} asked for, but torch sees no CUDA device; use --device cpu")
    return device


def _is_oom(exc: BaseException) -> bool:
    name = type(exc).__name__
    return name == "OutOfMemoryError" or (
        isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()
    )


def as_context(context: Any, index: int | None = None, *, need: str = "") -> np.ndarray:
    """One context as a float32 ``[V, t]`` array (``[t]`` becomes ``[1, t]``; no copy when it already is).

    Args:
        context: ``[V, t]`` or ``[t]`` array-like.
        index: its position in the call's list, named in errors (``None``: "a context").
        need: why the model needs a non-empty context, appended to that error.

    Raises:
        ValueError: for another number of dimensions, no variate, or length 0, naming the context.
    """
    what = "a context" if index is None else f"context {index}"
    arr = np.asarray(context, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[0] < 1:
        raise ValueError(f"{what} must be [V, t], got shape {np.shape(context)}")
    if arr.shape[1] == 0:
        raise ValueError(f"{what} is empty (length 0){': ' + need if need else ''}")
    return arr


def check_horizon(horizon: int) -> int:
    """``horizon`` as an int; ``ValueError`` naming it unless it is >= 1."""
    if int(horizon) < 1:
        raise ValueError(f"horizon must be >= 1, got {horizon}")
    return int(horizon)


def run_in_batches(
    items: Sequence[T],
    batch_size: int,
    predict: Callable[[Sequence[T]], np.ndarray],
    *,
    on_halve: Callable[[int], None] | None = None,
    empty_tail: tuple[int, ...] | None = None,
) -> np.ndarray:
    """``predict`` over ``items`` in batches, concatenated along axis 0; on out-of-memory the batch halves.

    The new batch size sticks for the rest of the call and is reported through ``on_halve`` (and logged), so
    a run says when it had to shrink. A batch of 1 that still runs out of memory re-raises.

    Empty ``items`` never reach ``predict``: the result is ``[0, *empty_tail]`` float32 (e.g.
    ``(V, H, Q)``); without ``empty_tail`` an empty input is a ``ValueError`` (the output shape is unknown).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if len(items) == 0:
        if empty_tail is None:
            raise ValueError("no contexts to forecast (an empty list); give empty_tail for a [0, ...] result")
        return np.empty((0, *empty_tail), dtype=np.float32)
    outputs: list[np.ndarray] = []
    i = 0
    while i < len(items):
        chunk = items[i : i + batch_size]
        try:
            outputs.append(predict(chunk))
        except Exception as exc:
            if not _is_oom(exc) or batch_size == 1:
                raise
            _empty_cache()
            batch_size = max(1, batch_size // 2)
            log.warning("out of memory: halving the batch size to %d", batch_size)
            if on_halve is not None:
                on_halve(batch_size)
            continue
        i += len(chunk)
    return np.concatenate(outputs)


def _empty_cache() -> None:
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:  # pragma: no cover
        pass


def left_pad(contexts: Sequence[np.ndarray], length: int) -> tuple[np.ndarray, np.ndarray]:
    """Right-align ``[V, t_i]`` contexts (truncated to their last ``length`` steps) into one batch.

    Returns:
        ``values [B, V, length]`` float32 (NaN kept; padding is 0) and ``is_pad [B, V, length]`` bool.
    """
    if not contexts:
        raise ValueError("no contexts to pad")
    n_var = contexts[0].shape[0]
    values = np.zeros((len(contexts), n_var, length), dtype=np.float32)
    is_pad = np.ones((len(contexts), n_var, length), dtype=bool)
    for i, ctx in enumerate(contexts):
        if ctx.shape[0] != n_var:
            raise ValueError(f"context {i} has {ctx.shape[0]} variates, expected {n_var} like context 0")
        tail = ctx[:, -length:] if length else ctx[:, :0]
        values[i, :, length - tail.shape[1] :] = tail
        is_pad[i, :, length - tail.shape[1] :] = False
    return values, is_pad


def checkpoint_source(checkpoint: str | os.PathLike[str] | None, default_id: str) -> str:
    """The directory or hub id to load: an explicit ``--checkpoint`` wins, else the published id."""
    return os.fspath(checkpoint) if checkpoint is not None else default_id


def offline_hint(checkpoint_id: str, exc: BaseException, revision: str | None = None) -> str:
    """The message for a checkpoint (at ``revision``, default main) that is neither local nor reachable."""
    at, flag = ("", "") if revision is None else (f" at revision {revision!r}", f" --revision {revision}")
    return (
        f"cannot load checkpoint {checkpoint_id!r}{at} ({type(exc).__name__}: {exc}). Offline? Pre-download "
        f"it where the Hub is reachable with `hf download {checkpoint_id}{flag}` (it lands in the HF "
        f"cache, used with HF_HUB_OFFLINE=1), or pass --checkpoint DIR pointing at a local copy."
    )


def settings_dict(**values: Any) -> dict[str, Any]:
    """Run-record settings without ``None`` entries."""
    return {k: v for k, v in values.items() if v is not None}


def module_facts(module: Any) -> dict[str, Any]:
    """``dtype`` (of the first parameter, e.g. ``float32``) and ``parameters`` (count) of a torch module,
    for an adapter's ``describe()``."""
    return {
        "dtype": str(next(module.parameters()).dtype).removeprefix("torch."),
        "parameters": int(sum(p.numel() for p in module.parameters())),
    }
