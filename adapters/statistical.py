"""Statistical baselines: ``seasonal-naive`` and ``naive`` (native numpy), ``auto-arima``, ``auto-ets`` and
``auto-theta`` (statsforecast).

Every model is univariate: each variate of a ``[V, t]`` context is forecast on its own. The output reproduces
what the GIFT-Eval / BOOM statsforecast wrapper (gift-eval ``notebooks/naive.ipynb``, copied into the BOOM
notebooks) hands to gluonts (docs/gift_eval_protocol.md §1.5, docs/adapters.md §8):

1. the context is cast to float32 and truncated to the model's ``context_length`` (``max_length``);
2. NaNs are imputed with gluonts ``LastValueImputation`` *after* truncation: forward fill, leading NaNs take
   the first observed value (an all-NaN context becomes zeros in gluonts; here it is an error unless
   ``all_nan="zero"``);
3. statsforecast forecasts with ``level=[0, 20, 40, 60, 80]``; quantile ``q`` is read from column ``lo-{L}``
   (q <= 0.5) or ``hi-{L}`` (q > 0.5) with ``L = round(200·(max(q, 1-q) - 0.5))``; outputs are float32
   (``StatsForecast`` stores them in the dtype of ``y``).

``seasonal-naive``/``naive`` implement statsforecast >= 2.0 ``SeasonalNaive``/``Naive`` in numpy, bit for bit
except for the normal quantile (``statistics.NormalDist`` instead of scipy's ``ndtri``: they differ by <= 2
ulp of float64, which moves a float32 output only when it sits on a rounding boundary)::

    mean[h] = y[n - m + (h mod m)]       (NaN where that index is < 0, i.e. n < m: statsforecast 2.1)
    sigma   = sqrt(nansum((y_t - y_{t-m})^2) / (n - m))   in float32; 0 when n <= m
    q_L     = mean ∓ z_L · sigma · sqrt(floor(h/m) + 1)   in float64, then cast to float32

``naive`` is the same with ``m = 1``. The auto models call the statsforecast models' ``forecast`` directly
(the per-series loop ``StatsForecast.forecast`` runs) in worker processes. Without a time limit (the default,
and every suite but BOOM) the numbers do not depend on the machine; with one (BOOM's notebooks: 45 s per
config, the ``boom``/``boomlet`` suite setting) the workers of a call that exceeds it are killed and the call
becomes seasonal naive. Every substitution by seasonal naive is recorded in ``model.fallbacks``.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from statistics import NormalDist
from typing import Any, ClassVar, Literal

import numpy as np

from toto_bench.adapters.base import QUANTILE_LEVELS, QuantileForecast
from toto_bench.adapters.common import as_context, install_hint
from toto_bench.adapters.registry import ModelSpec, register

__all__ = [
    "AUTO_MODEL_SETTINGS",
    "BOOM_TIME_LIMIT",
    "EXPLODING_INTERVALS",
    "EXPLOSION_FACTOR",
    "GIFT_EVAL_AUTO_SETTINGS",
    "UPSTREAM_SETTINGS",
    "AllNanPolicy",
    "AutoStatsForecaster",
    "FallbackRecord",
    "NaiveForecaster",
    "SeasonalNaiveForecaster",
    "exploding_intervals",
    "interval_columns",
    "last_value_imputation",
    "seasonal_naive_forecast",
]

AllNanPolicy = Literal["raise", "zero"]

STATS_INSTALL_HINT = install_hint("stats")

#: Seconds per (dataset, term) config BOOM's notebooks give the statsforecast auto models.
BOOM_TIME_LIMIT = 45.0

_NEED_DATA = "statistical models need at least one time step"


def interval_columns(levels: Sequence[float] = QUANTILE_LEVELS) -> list[tuple[int, str]]:
    """The wrapper's statsforecast column for each quantile level: ``(interval level L, "lo" | "hi")``.

    ``L = round(200·(max(q, 1-q) - 0.5))``; ``"lo"`` for ``q <= 0.5``. For the nine default levels:
    ``(80, lo), (60, lo), (40, lo), (20, lo), (0, lo), (20, hi), (40, hi), (60, hi), (80, hi)``.
    """
    return [(round(200 * (max(q, 1 - q) - 0.5)), "hi" if q > 0.5 else "lo") for q in levels]


_COLUMNS = interval_columns()
#: Interval levels passed to statsforecast (the wrapper's sorted set, 0 included).
_SF_LEVELS: list[int] = sorted({lv for lv, _ in _COLUMNS})
#: Normal quantile of each interval level, the way statsforecast derives it: ppf(0.5 + L/200).
_Z: dict[int, float] = {lv: NormalDist().inv_cdf(0.5 + lv / 200) for lv in _SF_LEVELS}


# ----------------------------------------------------------------------------------------------------------
# Imputation


def last_value_imputation(values: np.ndarray, *, all_nan: AllNanPolicy = "raise") -> np.ndarray:
    """gluonts ``LastValueImputation`` applied to every row of ``values``.

    Args:
        values: ``[N, T]`` float array.
        all_nan: what to do with a row that is entirely NaN. gluonts replaces it with zeros
            (``DummyValueImputation``); ``"zero"`` does the same, ``"raise"`` raises ``ValueError``.

    Returns:
        ``[N, T]`` array of the same dtype, without NaN: forward-filled, leading NaNs set to the row's first
        observed value. ``values`` itself is returned (not copied) when it has no NaN.
    """
    mask = np.isnan(values)
    if not mask.any():
        return values
    length = values.shape[1]
    observed = ~mask
    has_obs = observed.any(axis=1)
    if not has_obs.all():
        if all_nan == "raise":
            bad = np.flatnonzero(~has_obs).tolist()
            raise ValueError(
                f"context row(s) {bad[:10]}{'...' if len(bad) > 10 else ''} are entirely NaN "
                f"(length {length}): nothing to impute from. gluonts LastValueImputation would silently "
                "forecast from zeros; pass all_nan='zero' to reproduce that."
            )
        if all_nan != "zero":
            raise ValueError(f"all_nan must be 'raise' or 'zero', got {all_nan!r}")
    positions = np.arange(length, dtype=np.int64 if length > np.iinfo(np.int32).max else np.int32)
    idx = np.where(observed, positions, 0)
    np.maximum.accumulate(idx, axis=1, out=idx)
    first = np.argmax(observed, axis=1)  # 0 for an all-NaN row
    # Leading NaNs (before the first observation) take the first observed value.
    idx = np.where(positions[None, :] < first[:, None], first[:, None], idx)
    out = np.take_along_axis(values, idx, axis=1)
    if not has_obs.all():
        out[~has_obs] = 0
    return out


# ----------------------------------------------------------------------------------------------------------
# Seasonal naive core (statsforecast >= 2.0 semantics)


def _quantiles_from_sigma(mean: np.ndarray, sigma: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """statsforecast's symmetric normal intervals, read out at the nine quantile levels.

    Args:
        mean: ``[..., H]`` float32 point forecast.
        sigma: ``[...]`` float32 residual standard deviation.
    Returns:
        ``[..., H, 9]`` float32.
    """
    k = np.floor(np.arange(horizon) / season)
    root = np.sqrt(k + 1)  # [H] float64, as statsforecast
    out = np.empty((*mean.shape, len(_COLUMNS)), dtype=np.float32)
    kernel = _interval_kernel()
    if kernel is not None and mean.size:
        z = np.array([_Z[level] for level, _ in _COLUMNS], dtype=np.float64)
        lo = np.array([side == "lo" for _, side in _COLUMNS])
        m2 = np.ascontiguousarray(mean, dtype=np.float32).reshape(-1, horizon)
        s1 = np.ascontiguousarray(sigma, dtype=np.float32).reshape(-1)
        kernel(m2, s1, root, z, lo, out.reshape(-1, horizon, len(_COLUMNS)))
        return out
    sigmah = sigma.astype(np.float64)[..., None] * root  # [..., H] float64
    mean64 = mean.astype(np.float64)
    spreads: dict[int, np.ndarray] = {}  # one product per level, shared by its lo and hi columns
    for j, (level, side) in enumerate(_COLUMNS):
        if level not in spreads:
            spreads[level] = _Z[level] * sigmah
        spread = spreads[level]
        out[..., j] = mean64 - spread if side == "lo" else mean64 + spread
    return out


_KERNEL: list[Any] = []


def _interval_kernel() -> Any:
    """The numba kernel of :func:`_quantiles_from_sigma` (compiled once, cached on disk), or ``None`` without
    numba. It does the numpy path's float64 operations in the same order (no fastmath), so the float32
    outputs are identical: ``out[i, h, j] = float32(float64(mean) ∓ z_j · (float64(sigma) · root_h))``."""
    if not _KERNEL:
        try:
            import numba
        except ImportError:  # pragma: no cover - numba is a dependency
            _KERNEL.append(None)
            return None

        @numba.njit(cache=True)
        def intervals(mean, sigma, root, z, lo, out):
            for i in range(mean.shape[0]):
                s = np.float64(sigma[i])
                for h in range(mean.shape[1]):
                    m = np.float64(mean[i, h])
                    sh = s * root[h]
                    for j in range(z.shape[0]):
                        spread = z[j] * sh
                        out[i, h, j] = np.float32(m - spread) if lo[j] else np.float32(m + spread)

        _KERNEL.append(intervals)
    return _KERNEL[0]


def _seasonal_mean(y: np.ndarray, n: int, horizon: int, season: int) -> np.ndarray:
    """``mean[..., h] = y[..., n - m + (h mod m)]``, NaN where that index is < 0. ``y``: ``[..., >= n]``."""
    idx = n - season + np.arange(horizon) % season
    valid = idx >= 0
    mean = y[..., np.where(valid, idx, 0)]
    if not valid.all():
        mean = np.where(valid, mean, np.float32(np.nan)).astype(y.dtype, copy=False)
    return mean


def _sigma_from_sums(sums: np.ndarray, n: int, season: int) -> np.ndarray:
    """float32 ``sqrt(sums / (n - m))`` (statsforecast ``_calculate_sigma``), 0 when ``n <= m``."""
    if n - season > 0:
        return np.sqrt(sums / np.float32(n - season)).astype(np.float32, copy=False)
    return np.zeros_like(sums, dtype=np.float32)


def _squared_residuals(y: np.ndarray, season: int) -> np.ndarray:
    """``[..., T]`` float32: ``(y_t - y_{t-m})²`` for ``t >= m``; 0 before and where NaN (``nansum``)."""
    r2 = np.zeros(y.shape, dtype=np.float32)
    if y.shape[-1] > season:
        diff = y[..., season:] - y[..., :-season]
        r2[..., season:] = diff * diff
        np.copyto(r2, 0, where=np.isnan(r2))
    return r2


def seasonal_naive_forecast(y: np.ndarray, horizon: int, season: int) -> tuple[np.ndarray, np.ndarray]:
    """statsforecast ``SeasonalNaive(season).forecast(y, h, level=...)`` for every row of an imputed block.

    Args:
        y: ``[N, n]`` float32 without NaN (already imputed).
        horizon: ``H >= 1``.
        season: ``m >= 1`` (``1`` is ``Naive``).
    Returns:
        ``(mean [N, H] float32, quantiles [N, H, 9] float32)``.
    """
    n = y.shape[-1]
    mean = _seasonal_mean(y, n, horizon, season)
    sums = np.sum(_squared_residuals(y, season), axis=-1)  # float32 pairwise, as np.nansum in statsforecast
    sigma = _sigma_from_sums(sums, n, season)
    return mean, _quantiles_from_sigma(mean, sigma, horizon, season)


def _check_horizon_season(horizon: int, season: int) -> None:
    if int(horizon) < 1:
        raise ValueError(f"horizon must be >= 1, got {horizon}")
    if int(season) < 1:
        raise ValueError(f"seasonality must be >= 1, got {season}")


def _stack_variates(contexts: Sequence[np.ndarray]) -> tuple[list[np.ndarray], int]:
    arrays = [as_context(c, i, need=_NEED_DATA) for i, c in enumerate(contexts)]
    n_var = {a.shape[0] for a in arrays}
    if len(n_var) > 1:
        raise ValueError(
            f"all contexts of one call must have the same number of variates, got {sorted(n_var)}"
        )
    return arrays, (n_var.pop() if n_var else 0)


def _truncate(arr: np.ndarray, context_length: int | None) -> np.ndarray:
    return arr if context_length is None else arr[:, -context_length:]


def _native_seasonal_naive(
    contexts: Sequence[np.ndarray],
    horizon: int,
    season: int,
    context_length: int | None,
    all_nan: AllNanPolicy,
) -> QuantileForecast:
    """Per-context seasonal naive (``season=1``: naive). ``contexts``: ``n`` × ``[V, t_i]``."""
    arrays, n_var = _stack_variates(contexts)
    quantiles = np.empty((len(arrays), n_var, horizon, len(_COLUMNS)), dtype=np.float32)
    mean = np.empty((len(arrays), n_var, horizon), dtype=np.float32)
    for i, arr in enumerate(arrays):
        y = last_value_imputation(_truncate(arr, context_length), all_nan=all_nan)
        mean[i], quantiles[i] = seasonal_naive_forecast(y, horizon, season)
    return QuantileForecast(quantiles=quantiles, mean=mean)


class _NaiveBase:
    """Shared implementation of ``seasonal-naive`` and ``naive``."""

    name: str
    supports_multivariate: ClassVar[bool] = False
    _uses_season: ClassVar[bool] = True

    def __init__(self, context_length: int | None = None, *, all_nan: AllNanPolicy = "raise") -> None:
        if context_length is not None and context_length < 1:
            raise ValueError(f"context_length must be >= 1 or None, got {context_length}")
        if all_nan not in ("raise", "zero"):
            raise ValueError(f"all_nan must be 'raise' or 'zero', got {all_nan!r}")
        self.context_length = context_length
        self.all_nan: AllNanPolicy = all_nan

    def _season(self, seasonality: int) -> int:
        return int(seasonality) if self._uses_season else 1

    def describe(self) -> dict[str, Any]:
        """What a run record should say about this model (the ``Describes`` hook of ``adapters.base``)."""
        return {
            "name": self.name,
            "model_id": self.name,
            "device": "cpu",
            "dtype": "float32",
            "context_length": self.context_length,
            "decode_mode": (
                "closed form (statsforecast SeasonalNaive, season = the task's seasonality)"
                if self._uses_season
                else "closed form (statsforecast Naive)"
            ),
            "batch_size": None,
            "seed": None,
            "parameters": None,
            "all_nan": self.all_nan,
        }

    def predict(
        self, contexts: list[np.ndarray], horizon: int, *, freq: str, seasonality: int
    ) -> QuantileForecast:
        """Forecast ``n`` contexts (float32 ``[V, t_i]``, NaN for gaps).

        Returns ``QuantileForecast(quantiles [n, V, H, 9] float32, mean [n, V, H] float32)``. A context
        shorter than the season gives NaN at the steps it has no observation for (statsforecast 2.1); an
        all-NaN context raises ``ValueError`` unless ``all_nan="zero"``.
        """
        _check_horizon_season(horizon, seasonality)
        season = self._season(seasonality)
        return _native_seasonal_naive(contexts, int(horizon), season, self.context_length, self.all_nan)

    def predict_prefixes(
        self, series: np.ndarray, cuts: np.ndarray, horizon: int, *, freq: str, seasonality: int
    ) -> QuantileForecast:
        """Forecast the prefixes ``series[:, :c]`` for every ``c`` in ``cuts`` in one pass.

        Args:
            series: float32 ``[V, T]`` (one item, NaN for gaps).
            cuts: ``[W]`` integer window starts, ``1 <= c <= T``.
        Returns:
            ``QuantileForecast(quantiles [W, V, H, 9], mean [W, V, H])``, identical (bit for bit) to
            ``predict([series[:, :c] for c in cuts], ...)``.

        The imputation and the squared seasonal residuals are computed once for the whole series; each window
        then costs one float32 reduction over its prefix (the same pairwise ``np.sum`` statsforecast's
        ``np.nansum`` does, so the result stays bit-identical, and it is as fast as a cumulative sum).
        With a ``context_length`` each window's context is truncated and imputed on its own (as the wrapper
        does), which costs ``O(W·V·context_length)``, in one vectorised block for the full-length windows.
        """
        _check_horizon_season(horizon, seasonality)
        season = self._season(seasonality)
        h = int(horizon)
        arr = as_context(series, need=_NEED_DATA)
        cuts_arr = np.asarray(cuts)
        if cuts_arr.ndim != 1 or not np.issubdtype(cuts_arr.dtype, np.integer):
            raise ValueError(f"cuts must be a 1-D integer array, got {cuts_arr.dtype} shape {cuts_arr.shape}")
        n_var, length = arr.shape
        if cuts_arr.size and (cuts_arr.min() < 1 or cuts_arr.max() > length):
            raise ValueError(
                f"every cut must be in [1, {length}], got min {cuts_arr.min()} max {cuts_arr.max()}"
            )
        cut_list = [int(c) for c in cuts_arr]
        if self.context_length is not None and any(c > self.context_length for c in cut_list):
            return self._truncated_prefixes(arr, cuts_arr, h, season, self.context_length)
        mask = np.isnan(arr)
        first_obs = np.where(mask.all(axis=1), length, np.argmax(~mask, axis=1))
        some_prefix_all_nan = any(c <= int(first_obs.max()) for c in cut_list)
        if some_prefix_all_nan:
            return _native_seasonal_naive(
                [arr[:, :c] for c in cut_list], h, season, self.context_length, self.all_nan
            )

        y = last_value_imputation(arr, all_nan=self.all_nan)
        r2 = _squared_residuals(y, season)
        n_win = len(cut_list)
        mean = np.empty((n_win, n_var, h), dtype=np.float32)
        sigma = np.empty((n_win, n_var), dtype=np.float32)
        for w, c in enumerate(cut_list):
            mean[w] = _seasonal_mean(y[:, :c], c, h, season)
            sigma[w] = _sigma_from_sums(np.sum(r2[:, :c], axis=1), c, season)
        return QuantileForecast(quantiles=_quantiles_from_sigma(mean, sigma, h, season), mean=mean)

    def _truncated_prefixes(
        self, arr: np.ndarray, cuts: np.ndarray, horizon: int, season: int, context_length: int
    ) -> QuantileForecast:
        """``predict_prefixes`` with a context length: every window sees ``arr[:, c - L : c]``, imputed on
        its own (the wrapper truncates before imputing).

        The windows with a full context (``c >= L``) are forecast together by :func:`_full_windows`
        (imputation and squared seasonal residuals once over the tail the windows cover, then one row of
        ``L`` residuals per window summed as its own call sums them); shorter prefixes go through the
        per-context path. Only the tail the windows need is read, never the whole history. ``arr``:
        ``[V, T]``; ``cuts``: ``[W]``.
        """
        n_var = arr.shape[0]
        full = np.flatnonzero(cuts >= context_length)
        short = np.flatnonzero(cuts < context_length)
        mean = np.empty((len(cuts), n_var, horizon), dtype=np.float32)
        quantiles = np.empty((len(cuts), n_var, horizon, len(_COLUMNS)), dtype=np.float32)
        if full.size:
            out = _full_windows(
                arr, cuts[full] - context_length, context_length, horizon, season, self.all_nan
            )
            if out is None:
                short = np.arange(len(cuts))  # let the per-context path raise its own error
            else:
                mean[full], quantiles[full] = out
        if short.size:
            part = _native_seasonal_naive(
                [arr[:, : int(cuts[w])] for w in short], horizon, season, context_length, self.all_nan
            )
            mean[short], quantiles[short] = part.mean, part.quantiles
        return QuantileForecast(quantiles=quantiles, mean=mean)


def _full_windows(
    arr: np.ndarray, starts: np.ndarray, length: int, horizon: int, season: int, all_nan: AllNanPolicy
) -> tuple[np.ndarray, np.ndarray] | None:
    """``seasonal_naive_forecast(last_value_imputation(window))`` of every window ``arr[:, s : s + L]`` (``s``
    in ``starts``), bit for bit, without imputing and differencing each window on its own.

    Over the tail ``arr[:, min(starts) : max(starts) + L]`` the windows cover: the forward fill and the
    squared seasonal residuals ``(y_t - y_{t-m})²`` are computed once. A window that starts with an
    observation holds exactly that fill (the last observation before any of its points lies inside it), so
    its residuals at window positions ``>= m`` are the tail's; its row of ``L`` residuals (``m`` leading
    zeros, as :func:`_squared_residuals` lays it out) is summed in place with the same pairwise ``np.sum``
    over ``L`` contiguous values, and its mean reads the fill. The few windows that start inside a gap
    (their leading NaNs take their own first value) or are entirely NaN are imputed on their own.

    Args:
        arr: float32 ``[V, T]``.
        starts: ``[W]`` window starts, ``0 <= s <= T - L``.
        length: the window (context) length ``L``.
        horizon: ``H``.
        season: ``m``.
        all_nan: ``"raise"``: return ``None`` when a window of a variate is entirely NaN (the caller then
            raises the per-context error); ``"zero"``: impute it to zeros (gluonts).
    Returns:
        ``(mean [W, V, H], quantiles [W, V, H, 9])`` float32, or ``None`` (see ``all_nan``).
    """
    n_var = arr.shape[0]
    lo = int(starts.min())
    region = arr[:, lo : int(starts.max()) + length]  # [V, n]
    rel = starts.astype(np.int64) - lo  # [W] window starts within the region
    n_win, n = len(rel), region.shape[1]
    mask = np.isnan(region)
    special = np.zeros((n_win, n_var), dtype=bool)  # windows imputed on their own
    if mask.any():
        positions = np.arange(n)
        last = np.where(mask, -1, positions)
        np.maximum.accumulate(last, axis=1, out=last)  # [V, n] last observed index <= p (-1: none yet)
        following = np.where(mask, n, positions)[:, ::-1]
        following = np.minimum.accumulate(following, axis=1)[:, ::-1]  # [V, n] first observed index >= p
        filled = np.take_along_axis(region, np.maximum(last, 0), axis=1)  # [V, n] forward fill
        first = following[:, rel].T  # [W, V] first observation of each window (region index)
        empty = first >= rel[:, None] + length
        if all_nan == "raise" and empty.any():
            return None
        special = first > rel[:, None]  # starts inside a gap, or entirely NaN
    else:
        filled = region
    r2 = _squared_residuals(filled, season)  # [V, n]; a window's own residuals from its position m on
    lead = min(season, length)  # the window's first m residuals do not exist (zeros in its row)
    idx = length - season + np.arange(horizon) % season  # _seasonal_mean's indices within a window
    valid = idx >= 0
    mean = np.empty((n_win, n_var, horizon), dtype=np.float32)
    sums = np.empty((n_win, n_var), dtype=np.float32)
    for w, r in enumerate(rel.tolist()):
        # the row r2[v, r : r + L] with its first m entries zeroed, summed in place (same pairwise np.sum
        # over L contiguous values as the window's own call), then the m entries restored for later windows
        saved = r2[:, r : r + lead].copy()
        r2[:, r : r + lead] = 0
        sums[w] = np.sum(r2[:, r : r + length], axis=-1)
        r2[:, r : r + lead] = saved
        mean[w] = filled[:, r + np.where(valid, idx, 0)]
    if not valid.all():
        mean[..., ~valid] = np.nan
    for w, v in np.argwhere(special):
        window = region[v : v + 1, rel[w] : rel[w] + length]
        y = last_value_imputation(window, all_nan=all_nan)
        sums[w, v] = np.sum(_squared_residuals(y, season), axis=-1)[0]
        mean[w, v] = _seasonal_mean(y, length, horizon, season)[0]
    sigma = _sigma_from_sums(sums, length, season)  # [W, V]
    return mean, _quantiles_from_sigma(mean, sigma, horizon, season)


class SeasonalNaiveForecaster(_NaiveBase):
    """statsforecast ``SeasonalNaive(season_length=seasonality)`` through the GIFT-Eval/BOOM wrapper (numpy).

    ``context_length=None`` is GIFT-Eval (full history); BOOM's seasonal-naive run used ``max_length=2048``.
    """

    name = "seasonal-naive"


class NaiveForecaster(_NaiveBase):
    """statsforecast ``Naive()`` through the GIFT-Eval wrapper, in numpy (``seasonality`` is ignored)."""

    name = "naive"
    _uses_season = False


# ----------------------------------------------------------------------------------------------------------
# statsforecast auto models

#: BOOM settings (DataDog/toto:boom/notebooks/{autoarima,autoets,autotheta}.ipynb; docs/boom_protocol.md §5).
AUTO_MODEL_SETTINGS: dict[str, dict[str, Any]] = {
    "auto-arima": {
        "class": "AutoARIMA",
        "params": {"max_d": 1, "max_D": 1, "stepwise": True, "approximation": False},
        "context_length": 512,
    },
    "auto-ets": {"class": "AutoETS", "params": {"model": "ZZN"}, "context_length": 1000},
    "auto-theta": {"class": "AutoTheta", "params": {}, "context_length": 1000},
}

#: GIFT-Eval settings: the published ``auto_*`` rows come from unpublished code (``config.json``:
#: ``replication_code_available: No``); these are the candidates that come closest to them on the configs
#: that reproduce from public data (docs/baselines.md has the comparison and the remaining distance). Every
#: model gets ``season_length`` = the config's seasonality (gluonts ``get_seasonality``), as above.
GIFT_EVAL_AUTO_SETTINGS: dict[str, dict[str, Any]] = {
    "auto-arima": {"params": {}, "context_length": None},
    "auto-ets": {"params": {"model": "ZZZ"}, "context_length": None},
    "auto-theta": {"params": {}, "context_length": None},
}

#: Whose settings an auto model uses (``upstream=``): each suite's upstream runs.
UPSTREAM_SETTINGS: dict[str, dict[str, dict[str, Any]]] = {
    "boom": AUTO_MODEL_SETTINGS,
    "gift-eval": GIFT_EVAL_AUTO_SETTINGS,
}


#: A forecast's intervals "explode" when its 10-90% spread exceeds this many ranges of its context.
EXPLOSION_FACTOR = 100.0

#: The :class:`FallbackRecord` reason of flagged forecasts (kept as computed, not replaced).
EXPLODING_INTERVALS = "exploding_intervals"


def exploding_intervals(
    ys: Sequence[np.ndarray], forecasts: np.ndarray, factor: float = EXPLOSION_FACTOR
) -> tuple[np.ndarray, np.ndarray]:
    """Which forecasts have exploding prediction intervals, and by how much.

    A forecast explodes when its mean or a quantile is non-finite, or when its widest 10-90% spread
    ``max_h (q0.9[h] - q0.1[h])`` exceeds ``factor`` times the range ``max(y) - min(y)`` of the context
    the model saw (``max(|y|, 1)`` for a constant context). Upstream scores such forecasts as they are; the
    rule only makes them visible.

    Args:
        ys: ``N`` contexts, each ``[t_i]`` (truncated and imputed, without NaN).
        forecasts: ``[N, H, 10]``: the mean, then quantiles 0.1 .. 0.9.
        factor: the threshold, in context ranges (> 0).
    Returns:
        ``(flagged [N] bool, ratio [N] float64)``: ``ratio`` is spread / range (``inf`` when non-finite).
    """
    ratio = np.empty(len(ys), dtype=np.float64)
    for i, y in enumerate(ys):
        f = forecasts[i].astype(np.float64)
        if not np.isfinite(f).all():
            ratio[i] = np.inf
            continue
        span = float(np.max(y) - np.min(y)) if y.size else 0.0
        reference = span if span > 0 else max(float(np.max(np.abs(y))) if y.size else 0.0, 1.0)
        ratio[i] = float(np.max(f[:, -1] - f[:, 1])) / reference
    return ratio > factor, ratio


@dataclass(frozen=True)
class FallbackRecord:
    """One substitution of seasonal naive for the model's forecast.

    Attributes:
        call: 0-based index of the ``predict`` call on this model instance.
        reason: ``"time_limit"`` (the whole call ran over ``time_limit``), ``"exception"`` (the model raised
            on a series; statsforecast's ``fallback_model``), ``"nan_forecast"`` (the forecast held NaN; the
            wrapper's recompute), ``"worker_error"`` (a worker process died or its fallback raised), or
            ``"exploding_intervals"`` (not a substitution: the model's forecast is kept and flagged, see
            :func:`exploding_intervals`).
        items: the ``(context index, variate)`` pairs concerned.
        detail: human-readable cause (exception text, elapsed time, ...).
        config: the config (``dataset/freq/term``) the call belonged to, from the engine's ``begin_task``;
            ``None`` when the model was called without one.
    """

    call: int
    reason: str
    items: tuple[tuple[int, int], ...]
    detail: str = ""
    config: str | None = None


def _require_statsforecast(model: str) -> Any:
    try:
        import statsforecast.models as sf_models
    except ImportError as error:
        raise ImportError(
            f"model {model!r} needs the optional dependency statsforecast (>= 2.0): {STATS_INSTALL_HINT}"
        ) from error
    return sf_models


def _build_sf_model(class_name: str, params: dict[str, Any], season: int) -> Any:
    sf_models = _require_statsforecast(class_name)
    return getattr(sf_models, class_name)(season_length=season, **params)


def _result_to_array(result: dict[str, Any], horizon: int) -> np.ndarray:
    """``[H, 10]`` float32: the wrapper's keys ``mean, 0.1 .. 0.9`` read from a statsforecast result dict."""
    out = np.empty((horizon, 1 + len(_COLUMNS)), dtype=np.float32)
    out[:, 0] = np.asarray(result["mean"], dtype=np.float64)
    for j, (level, side) in enumerate(_COLUMNS):
        out[:, 1 + j] = np.asarray(result[f"{side}-{level}"], dtype=np.float64)
    return out


def _forecast_one(model: Any, fallback: Any, y: np.ndarray, horizon: int) -> tuple[np.ndarray, list[str]]:
    """One series the way ``StatsForecast.forecast`` + the wrapper's NaN recompute treat it."""
    notes: list[str] = []
    try:
        res = model.forecast(y=y, h=horizon, level=_SF_LEVELS)
    except Exception as error:  # statsforecast's fallback_model catches everything
        notes.append(f"exception: {type(error).__name__}: {error}")
        res = fallback.forecast(y=y, h=horizon, level=_SF_LEVELS)
    arr = _result_to_array(res, horizon)
    if np.isnan(arr).any():
        notes.append("nan_forecast")
        arr = _result_to_array(fallback.forecast(y=y, h=horizon, level=_SF_LEVELS), horizon)
    return arr, notes


def _forecast_chunk(
    class_name: str, params: dict[str, Any], season: int, ys: list[np.ndarray], horizon: int
) -> list[tuple[np.ndarray, list[str]]]:
    import warnings

    model = _build_sf_model(class_name, params, season)
    sf_models = _require_statsforecast(class_name)
    fallback = sf_models.SeasonalNaive(season_length=season)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [_forecast_one(model, fallback, y, horizon) for y in ys]


def _worker_main(
    conn: Connection, class_name: str, params: dict[str, Any], season: int, ys: list[np.ndarray], horizon: int
) -> None:
    try:
        conn.send(("ok", _forecast_chunk(class_name, params, season, ys, horizon)))
    except BaseException as error:  # report, never hang the parent
        conn.send(("error", f"{type(error).__name__}: {error}"))
    finally:
        conn.close()


#: How often a pool worker checks that the process that started it is still alive (seconds).
PARENT_POLL_SECONDS = 0.5


def _exit_with_parent(parent: int) -> None:
    """Pool worker initializer: end this worker once ``parent`` is gone (a run killed with ``kill -9``
    cannot shut its pool down, and an idle worker would otherwise wait for work forever)."""
    import threading

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="toto-bench-parent-watch", daemon=True).start()


def _mp_context() -> Any:
    methods = mp.get_all_start_methods()
    return mp.get_context("fork" if "fork" in methods else "spawn")


@dataclass
class _ChunkOutcome:
    results: list[tuple[np.ndarray, list[str]]] | None = None
    error: str | None = None
    indices: list[int] = field(default_factory=list)


def _run_workers(
    class_name: str,
    params: dict[str, Any],
    season: int,
    ys: list[np.ndarray],
    horizon: int,
    n_jobs: int,
    time_limit: float | None,
) -> list[_ChunkOutcome] | None:
    """Forecast ``ys`` in ``n_jobs`` killable worker processes; ``None`` when ``time_limit`` runs out."""
    if not ys:
        return []
    if time_limit is not None and time_limit <= 0:
        return None
    n_chunks = max(1, min(n_jobs, len(ys)))
    if n_chunks == 1 and time_limit is None:
        return [
            _ChunkOutcome(
                _forecast_chunk(class_name, params, season, ys, horizon), None, list(range(len(ys)))
            )
        ]
    ctx = _mp_context()
    deadline = None if time_limit is None else time.monotonic() + time_limit
    outcomes: list[_ChunkOutcome] = []
    procs: list[Any] = []
    pending: dict[Connection, tuple[Any, _ChunkOutcome]] = {}
    try:
        for k in range(n_chunks):
            indices = list(range(k, len(ys), n_chunks))  # interleaved: long and short series spread out
            recv, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(
                target=_worker_main,
                args=(send, class_name, params, season, [ys[i] for i in indices], horizon),
                daemon=True,
            )
            proc.start()
            send.close()
            outcome = _ChunkOutcome(indices=indices)
            outcomes.append(outcome)
            procs.append(proc)
            pending[recv] = (proc, outcome)
        while pending:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return None
            for conn in wait(list(pending), timeout=remaining):
                assert isinstance(conn, Connection)
                proc, outcome = pending.pop(conn)
                try:
                    status, payload = conn.recv()
                except EOFError:
                    proc.join()
                    outcome.error = f"worker exited with code {proc.exitcode} before answering"
                else:
                    if status == "ok":
                        outcome.results = payload
                    else:
                        outcome.error = payload
                conn.close()
        return outcomes
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        for proc in procs:
            proc.join()
        for conn in pending:
            conn.close()


def _pool_chunk(
    class_name: str, params: dict[str, Any], season: int, ys: list[np.ndarray], horizon: int
) -> tuple[str, Any]:
    """A pool task: ``("ok", results)`` or ``("error", message)`` (never raises into the pool)."""
    try:
        return "ok", _forecast_chunk(class_name, params, season, ys, horizon)
    except Exception as error:
        return "error", f"{type(error).__name__}: {error}"


class _WorkerPool:
    """One process pool for the life of a model (a run), not a fork per ``predict`` call.

    Used when there is no time limit (a limit needs killable per-call workers, :func:`_run_workers`). Each
    call's series are dealt round-robin into ``4 · workers`` chunks so long and short series spread over
    the workers; a chunk's results come back in its series' order, so the forecasts do not depend on the
    number of workers or on which finished first.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._executor: Any = None

    def run(
        self, class_name: str, params: dict[str, Any], season: int, ys: list[np.ndarray], horizon: int
    ) -> list[_ChunkOutcome]:
        if not ys:
            return []
        if self.workers == 1:
            return [
                _ChunkOutcome(
                    _forecast_chunk(class_name, params, season, ys, horizon), None, [*range(len(ys))]
                )
            ]
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                self.workers, mp_context=_mp_context(), initializer=_exit_with_parent, initargs=(os.getpid(),)
            )
        n_chunks = max(1, min(4 * self.workers, len(ys)))
        chunks = [list(range(k, len(ys), n_chunks)) for k in range(n_chunks)]
        futures = [
            self._executor.submit(_pool_chunk, class_name, params, season, [ys[i] for i in idx], horizon)
            for idx in chunks
        ]
        outcomes = []
        for idx, future in zip(chunks, futures, strict=True):
            outcome = _ChunkOutcome(indices=idx)
            try:
                status, payload = future.result()
            except BrokenProcessPool as error:  # a worker died: its chunks become seasonal naive
                outcome.error = f"worker process died: {error}"
            else:
                if status == "ok":
                    outcome.results = payload
                else:
                    outcome.error = payload
            outcomes.append(outcome)
        if any(o.error and o.error.startswith("worker process died") for o in outcomes):
            self.close()
        return outcomes

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


class AutoStatsForecaster:
    """A statsforecast auto model (AutoARIMA / AutoETS / AutoTheta) with one suite's upstream settings.

    Args:
        model: ``"auto-arima"``, ``"auto-ets"`` or ``"auto-theta"`` (see :data:`AUTO_MODEL_SETTINGS`).
        context_length: last points kept per series; the default (``-1``) is the ``upstream`` settings' one
            (BOOM: 512 / 1000 / 1000), ``None`` keeps everything.
        time_limit: seconds per ``predict`` call; past it the workers are killed and the whole call is
            replaced by seasonal naive (BOOM: 45 s per (dataset, term) config → seasonal-naive row, which
            makes the row depend on the machine's speed and load). ``None`` (default): no limit, the
            numbers are deterministic.
        n_jobs: worker processes (``-1``: all usable CPUs). Series are forecast independently. Without a
            time limit one pool serves every call of the model (:meth:`close` stops it); with one, each
            call forks killable workers.
        fallback_context_length: context of the seasonal naive that replaces a timed-out call (BOOM copies its
            seasonal-naive results, which used ``max_length=2048``).
        all_nan: ``"raise"`` or ``"zero"`` (gluonts' behaviour), for all-NaN contexts.
        model_params: override some of the ``upstream`` model parameters (e.g. ``{"approximation": True}``).
        upstream: whose settings (model parameters and context length) to use, a key of
            :data:`UPSTREAM_SETTINGS`: ``"boom"`` (BOOM's notebooks; the default) or ``"gift-eval"`` (the
            closest match to GIFT-Eval's published rows, :data:`GIFT_EVAL_AUTO_SETTINGS`).
        explosion_factor: a forecast whose intervals are non-finite or wider than this many context ranges
            is flagged (:func:`exploding_intervals`, fallback reason ``"exploding_intervals"``; the
            forecast itself is kept, as upstream scores it).

    ``fallbacks`` lists every substitution and every flagged forecast (:class:`FallbackRecord`), each with
    the config the engine announced through :meth:`begin_task`; ``fallback_configs`` lists those configs.
    Quantile 0.5 is the wrapper's ``lo-0`` column (the models accept ``level=0`` when called directly; only
    ``StatsForecast`` >= 2.1 rejects it): equal to the mean for ARIMA/ETS, the median of the simulated paths
    for AutoTheta.
    """

    supports_multivariate: ClassVar[bool] = False

    def __init__(
        self,
        model: str,
        context_length: int | None = -1,
        *,
        time_limit: float | None = None,
        n_jobs: int = -1,
        fallback_context_length: int | None = 2048,
        all_nan: AllNanPolicy = "raise",
        model_params: dict[str, Any] | None = None,
        upstream: str = "boom",
        explosion_factor: float = EXPLOSION_FACTOR,
    ) -> None:
        if model not in AUTO_MODEL_SETTINGS:
            raise ValueError(f"unknown auto model {model!r}; expected one of {sorted(AUTO_MODEL_SETTINGS)}")
        if upstream not in UPSTREAM_SETTINGS:
            valid = sorted(UPSTREAM_SETTINGS)
            raise ValueError(f"unknown upstream settings {upstream!r}; expected one of {valid}")
        if not explosion_factor > 0:
            raise ValueError(f"explosion_factor must be > 0, got {explosion_factor!r}")
        _require_statsforecast(model)
        settings = UPSTREAM_SETTINGS[upstream][model]
        self.name = model
        self.upstream = upstream
        self.explosion_factor = float(explosion_factor)
        self._class_name: str = AUTO_MODEL_SETTINGS[model]["class"]
        self.model_params: dict[str, Any] = {**settings["params"], **(model_params or {})}
        self.context_length: int | None = (
            settings["context_length"] if context_length == -1 else context_length
        )
        if self.context_length is not None and self.context_length < 1:
            raise ValueError(f"context_length must be >= 1 or None, got {self.context_length}")
        self.time_limit = time_limit
        self.n_jobs = n_jobs
        self.fallback_context_length = fallback_context_length
        if time_limit is not None and not time_limit > 0:
            raise ValueError(f"time_limit must be a positive number of seconds or None, got {time_limit!r}")
        if all_nan not in ("raise", "zero"):
            raise ValueError(f"all_nan must be 'raise' or 'zero', got {all_nan!r}")
        self.all_nan: AllNanPolicy = all_nan
        self.fallbacks: list[FallbackRecord] = []
        self._pool: _WorkerPool | None = None
        self._calls = 0
        self._config: str | None = None

    def begin_task(self, task: Any, first_context_length: int | None = None) -> None:
        """Note the config (``task.config``) the next calls belong to, so fallbacks name it."""
        self._config = getattr(task, "config", None)

    @property
    def fallback_configs(self) -> list[str]:
        """The configs with at least one seasonal-naive substitution, sorted."""
        return sorted({r.config for r in self.fallbacks if r.config is not None})

    def describe(self) -> dict[str, Any]:
        """What a run record should say about this model (the ``Describes`` hook of ``adapters.base``)."""
        return {
            "name": self.name,
            "model_id": f"statsforecast.{self._class_name}",
            "device": "cpu",
            "dtype": "float32",
            "context_length": self.context_length,
            "decode_mode": f"statsforecast {self._class_name} intervals; seasonal-naive fallback",
            "batch_size": None,
            "seed": None,
            "parameters": None,
            "upstream": self.upstream,
            "model_params": dict(self.model_params),
            "explosion_factor": self.explosion_factor,
            "time_limit": self.time_limit,
            "n_jobs": self.n_jobs,
            "fallback_context_length": self.fallback_context_length,
            "all_nan": self.all_nan,
            "fallback_configs": self.fallback_configs,
        }

    def close(self) -> None:
        """Stop the worker pool (started on the first call without a time limit); a later call restarts it."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: the pool's processes exit with it
            pass

    def _workers(self) -> int:
        if self.n_jobs == -1:
            return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        if self.n_jobs < 1:
            raise ValueError(f"n_jobs must be >= 1 or -1, got {self.n_jobs}")
        return self.n_jobs

    def predict(
        self, contexts: list[np.ndarray], horizon: int, *, freq: str, seasonality: int
    ) -> QuantileForecast:
        """Forecast ``n`` contexts (float32 ``[V, t_i]``).

        Returns ``QuantileForecast(quantiles [n, V, H, 9] float32, mean [n, V, H] float32)``.
        """
        _check_horizon_season(horizon, seasonality)
        h, season = int(horizon), int(seasonality)
        call = self._calls
        self._calls += 1
        arrays, n_var = _stack_variates(contexts)
        items = [(i, v) for i in range(len(arrays)) for v in range(n_var)]
        ys: list[np.ndarray] = []
        for arr in arrays:
            imputed = last_value_imputation(_truncate(arr, self.context_length), all_nan=self.all_nan)
            ys.extend(np.ascontiguousarray(row) for row in imputed)

        start = time.monotonic()
        if self.time_limit is None:  # one pool for the whole run
            if self._pool is None or self._pool.workers != self._workers():
                self.close()
                self._pool = _WorkerPool(self._workers())
            outcomes: list[_ChunkOutcome] | None = self._pool.run(
                self._class_name, self.model_params, season, ys, h
            )
        else:  # killable workers per call, to enforce the limit
            outcomes = _run_workers(
                self._class_name, self.model_params, season, ys, h, self._workers(), self.time_limit
            )
        if outcomes is None:
            self.fallbacks.append(
                FallbackRecord(
                    call,
                    "time_limit",
                    tuple(items),
                    f"time limit {self.time_limit} s exceeded ({time.monotonic() - start:.2f} s); "
                    f"seasonal naive on the last {self.fallback_context_length} points",
                    self._config,
                )
            )
            return _native_seasonal_naive(contexts, h, season, self.fallback_context_length, self.all_nan)

        flat = np.empty((len(ys), h, 1 + len(_COLUMNS)), dtype=np.float32)
        by_reason: dict[str, list[tuple[int, int]]] = {}
        details: dict[str, str] = {}
        for outcome in outcomes:
            if outcome.results is None:
                # A worker died or raised: seasonal naive on the model's own (truncated, imputed) context.
                by_reason.setdefault("worker_error", []).extend(items[i] for i in outcome.indices)
                details["worker_error"] = outcome.error or ""
                for i in outcome.indices:
                    mean, q = seasonal_naive_forecast(ys[i][None, :], h, season)
                    flat[i, :, 0], flat[i, :, 1:] = mean[0], q[0]
                continue
            for i, (arr, notes) in zip(outcome.indices, outcome.results, strict=True):
                flat[i] = arr
                for note in notes:
                    reason = note.split(":", 1)[0]
                    by_reason.setdefault(reason, []).append(items[i])
                    details.setdefault(reason, note)
        flagged, ratio = exploding_intervals(ys, flat, self.explosion_factor)
        if flagged.any():
            by_reason[EXPLODING_INTERVALS] = [items[i] for i in np.flatnonzero(flagged)]
            worst = float(ratio[flagged].max())
            details[EXPLODING_INTERVALS] = (
                f"{int(flagged.sum())} of {len(ys)} series: 10-90% spread up to "
                f"{'non-finite' if not np.isfinite(worst) else f'{worst:.3g}x'} the context's range "
                f"(threshold {self.explosion_factor:g}x); forecasts kept as computed"
            )
        for reason, pairs in by_reason.items():
            self.fallbacks.append(
                FallbackRecord(call, reason, tuple(pairs), details.get(reason, ""), self._config)
            )

        shaped = flat.reshape(len(arrays), n_var, h, 1 + len(_COLUMNS))
        return QuantileForecast(quantiles=np.ascontiguousarray(shaped[..., 1:]), mean=shaped[..., 0].copy())


# ----------------------------------------------------------------------------------------------------------
# Registration


def _auto_factory(model: str) -> Callable[..., AutoStatsForecaster]:
    def factory(**kwargs: Any) -> AutoStatsForecaster:
        return AutoStatsForecaster(model, **kwargs)

    factory.__name__ = f"build_{model.replace('-', '_')}"
    return factory


register(
    ModelSpec(
        name="seasonal-naive",
        factory=SeasonalNaiveForecaster,
        family="statistical",
        description="statsforecast>=2.0 SeasonalNaive (native numpy, GIFT-Eval/BOOM wrapper semantics)",
        # gluonts LastValueImputation turns an all-NaN window context into zeros (all-NaN *series* are
        # rejected by the data loader); BOOM's notebook truncates the context to the last 2048 points.
        defaults={"all_nan": "zero"},
        suite_settings={"boom": {"context_length": 2048}, "boomlet": {"context_length": 2048}},
        dataset_workers=True,
    )
)
register(
    ModelSpec(
        name="naive",
        factory=NaiveForecaster,
        family="statistical",
        description="statsforecast Naive (native numpy, GIFT-Eval wrapper semantics)",
        defaults={"all_nan": "zero"},
        suite_settings={"boom": {"context_length": 2048}, "boomlet": {"context_length": 2048}},
        dataset_workers=True,
    )
)
for _name, _settings in AUTO_MODEL_SETTINGS.items():
    _params = ", ".join(f"{k}={v!r}" for k, v in _settings["params"].items()) or "defaults"
    _gift = GIFT_EVAL_AUTO_SETTINGS[_name]
    _gift_params = ", ".join(f"{k}={v!r}" for k, v in _gift["params"].items()) or "defaults"
    _gift_length = _gift["context_length"]
    _gift_context = "full history" if _gift_length is None else f"last {_gift_length} points"
    register(
        ModelSpec(
            name=_name,
            factory=_auto_factory(_name),
            family="statistical",
            description=(
                f"statsforecast {_settings['class']}; BOOM: ({_params}), last {_settings['context_length']} "
                f"points, 45 s per config, then seasonal naive; GIFT-Eval: ({_gift_params}), "
                f"{_gift_context}"
            ),
            # No wall-clock limit by default: a limit makes rows depend on machine load. BOOM's notebooks
            # give each (dataset, term) config 45 s and copy the seasonal-naive row past it. GIFT-Eval (and
            # the suites ranked on its board: demo, suite files) take the settings closest to its rows.
            defaults={"time_limit": None},
            suite_settings={
                **{suite: {"time_limit": BOOM_TIME_LIMIT} for suite in ("boom", "boomlet")},
                "gift-eval": {"upstream": "gift-eval"},
            },
        )
    )
