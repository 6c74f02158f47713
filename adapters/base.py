"""The ``Forecaster`` interface every model adapter implements, and the forecast container.

An adapter loads its model once and then predicts many batches of contexts. It never sees labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol, runtime_checkable

import numpy as np

from toto_bench.metrics.quantiles import QUANTILE_LEVELS

__all__ = ["QUANTILE_LEVELS", "Forecaster", "PrefixForecaster", "QuantileForecast"]


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

    Optional attributes: ``batch_size`` (int: the engine hands over at most that many contexts per call;
    ``None``/absent: all of a task's contexts at once) and ``quantiles_sorted`` (default True; False when
    the adapter returns a model's raw, possibly crossing quantiles because the official pipeline does not
    sort them). :mod:`toto_bench.adapters.contract` checks both.
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
