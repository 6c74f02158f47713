"""The ``Forecaster`` interface of every model adapter, its optional hooks, and the forecast container.

An adapter loads its model once and then predicts many batches of contexts. It never sees labels.

Besides :class:`Forecaster` (required), an adapter may implement any of these optional hooks; the engine
checks for them with ``isinstance`` (they are ``runtime_checkable`` Protocols), so a plugin needs no base
class:

=========================  ===============================================================================
hook                       what the engine does with it
=========================  ===============================================================================
:class:`PrefixForecaster`  calls ``predict_prefixes(series, cuts, ...)`` instead of ``predict`` (fast path)
:class:`TaskAware`         calls ``begin_task(task, first_context_length=...)`` before each config's calls
:class:`SharesBatches`     fills ``predict`` calls with contexts of several configs (``batch_group(task)``)
:class:`Describes`         records ``describe()`` in the run record (``model_details``)
:class:`ReportsFallbacks`  records ``fallbacks`` (substitute forecasts the model made) in the run record
=========================  ===============================================================================

Optional attributes read by the engine: ``batch_size`` (int: the engine hands over at most that many
contexts per call; ``None``/absent: all of a task's contexts at once) and ``quantiles_sorted`` (default
True; False when the adapter returns a model's raw, possibly crossing quantiles because the official
pipeline does not sort them). :mod:`toto_bench.adapters.contract` checks them.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from toto_bench.metrics.quantiles import QUANTILE_LEVELS

__all__ = [
    "QUANTILE_LEVELS",
    "Describes",
    "Forecaster",
    "PrefixForecaster",
    "QuantileForecast",
    "ReportsFallbacks",
    "SharesBatches",
    "TaskAware",
    "TaskInfo",
]


@dataclass(frozen=True)
class QuantileForecast:
    """Quantile forecasts for a batch of windows.

    Attributes:
        quantiles: ``[n, V, H, Q]`` float array, levels in ``levels`` order (ascending).
        levels: the ``Q`` quantile levels.
        mean: optional ``[n, V, H]`` mean forecast; when ``None`` the median stands in for it
            (gluonts ``QuantileForecast`` semantics).
    """

    quantiles: np.ndarray
    levels: tuple[float, ...] = QUANTILE_LEVELS
    mean: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.quantiles.ndim != 4:
            raise ValueError(f"quantiles must be [n, V, H, Q], got shape {self.quantiles.shape}")
        if self.quantiles.shape[-1] != len(self.levels):
            raise ValueError(
                f"quantiles has {self.quantiles.shape[-1]} levels on its last axis, levels={self.levels}"
            )
        if self.mean is not None and self.mean.shape != self.quantiles.shape[:-1]:
            raise ValueError(f"mean shape {self.mean.shape} != quantiles shape {self.quantiles.shape[:-1]}")


@runtime_checkable
class Forecaster(Protocol):
    """A model that turns contexts into quantile forecasts.

    ``predict`` takes a list of ``n`` contexts, each float32 ``[V, t_i]`` (full history, NaN for gaps;
    the adapter truncates to its own context length) and returns a :class:`QuantileForecast` with
    ``quantiles [n, V, H, Q]`` at ``levels``: the 9 deciles or an ascending superset of them.

    Optional attributes (``batch_size``, ``quantiles_sorted``) and hooks: see the module docstring.
    """

    name: str
    supports_multivariate: ClassVar[bool]
    context_length: int | None

    def predict(
        self, contexts: list[np.ndarray], horizon: int, *, freq: str, seasonality: int
    ) -> QuantileForecast: ...


@runtime_checkable
class PrefixForecaster(Protocol):
    """Optional fast path for models whose forecast of a prefix is computable from cumulative sums.

    The engine calls ``predict_prefixes`` instead of ``predict`` when an adapter has it: ``series`` is
    float32 ``[V, T]`` (one item, full length) and ``cuts`` ``[W]`` the window starts, so window ``w``'s
    context is ``series[:, :cuts[w]]``. Returns ``quantiles [W, V, H, Q]`` (+ optional mean ``[W, V, H]``),
    identical to ``predict([series[:, :c] for c in cuts], ...)``.
    """

    def predict_prefixes(
        self, series: np.ndarray, cuts: np.ndarray, horizon: int, *, freq: str, seasonality: int
    ) -> QuantileForecast: ...


class TaskInfo(Protocol):
    """What an adapter may read of the config it is about to forecast (the engine's task objects).

    Attributes:
        config: ``dataset/freq/term``, the results key.
        freq: the data's pandas frequency string.
        prediction_length: the horizon ``H``.
        windows: the number of test windows per series.
        seasonality: the seasonal period used for MASE/seasonal naive.
        min_length: the shortest series of the dataset (GIFT-Eval/BOOM tasks; protocols without one give
            the shortest series length they know).
        target_dim: variates per series.
    """

    @property
    def config(self) -> str: ...
    @property
    def freq(self) -> str: ...
    @property
    def prediction_length(self) -> int: ...
    @property
    def windows(self) -> int: ...
    @property
    def seasonality(self) -> int: ...
    @property
    def min_length(self) -> int: ...
    @property
    def target_dim(self) -> int: ...


@runtime_checkable
class TaskAware(Protocol):
    """Optional hook: the model is told each config before its ``predict`` calls.

    The engine calls ``begin_task(task, first_context_length=n)`` at the start of every config, with ``n``
    the length of the config's first context (first series, first window, after any protocol cap), or
    ``None`` when the config has no window. Some notebooks fix the context length per config from it
    (Toto 1.0); statistical models use the config to name their fallbacks.
    """

    def begin_task(self, task: Any, first_context_length: int | None = None) -> None: ...


@runtime_checkable
class SharesBatches(Protocol):
    """Optional hook: one ``predict`` call may hold contexts of several configs (and datasets).

    Without it the engine fills each call with the contexts of one config only (BOOM: 1-20 contexts against
    a batch of 64). With it, contexts of configs whose groups are equal share calls of up to ``batch_size``
    contexts: the engine's group of a context is ``(task.prediction_length, its number of variates,
    batch_group(task))``. The call is made with the ``freq`` and ``seasonality`` of its first context's
    config, so an adapter whose ``predict`` reads them must put them in its group.

    Declare it only when a context's forecast does not depend on its batch mates beyond floating-point
    reduction order (no cross-learning, no shared random stream, no per-batch padding rule); return ``None``
    for a setting under which it does (e.g. Moirai 1.1 without a seed): that config's calls then hold its
    own contexts only. The engine does not share calls for :class:`TaskAware` models (their state is per
    config) nor for :class:`PrefixForecaster` ones (one call per series).
    """

    def batch_group(self, task: TaskInfo) -> Hashable | None: ...


@runtime_checkable
class Describes(Protocol):
    """Optional hook: what the run record says about the model.

    ``describe()`` returns any of ``name, model_id, checkpoint, checkpoint_revision, checkpoint_dir,
    weights_sha256, device, dtype, decode_mode, context_length, batch_size, seed, parameters`` (see
    :func:`toto_bench.engine.record.describe_model`, which normalises them); other keys go under ``settings``.
    Without it, the record reads the ``name``, ``device``, ``context_length``, ``batch_size`` and ``seed``
    attributes.
    """

    def describe(self) -> dict[str, Any]: ...


@runtime_checkable
class ReportsFallbacks(Protocol):
    """Optional hook: forecasts the model substituted (e.g. seasonal naive after a time limit).

    ``fallbacks`` is a sequence of records (dataclasses or mappings with ``config``, ``reason``, ``call``,
    ``items``/``series`` and ``detail``) that the run record lists under ``fallbacks``.
    """

    @property
    def fallbacks(self) -> Sequence[Any]: ...
