"""The 11 benchmark metrics over quantile forecasts, pooled like gluonts ``evaluate_forecasts(axis=None)``.

Reference semantics (gluonts 0.17 ``gluonts.ev`` + ``gluonts.model.evaluation``, ``mask_invalid_label=True``),
with the metric set ``MSE(mean), MSE(0.5), MAE, MASE, MAPE, SMAPE, MSIS, RMSE, NRMSE, ND,
MeanWeightedSumQuantileLoss(0.1..0.9)``:

* Every (window, variate, step) is pooled. Labels that are NaN/inf are masked everywhere.
* ``Mean`` metrics (MSE, MAE, MASE, MAPE, sMAPE, MSIS, mean |label|) are ``sum / count`` over unmasked
  values; a NaN value that is not masked propagates (NaN forecast -> NaN MSE/MAE/RMSE/NRMSE).
* The four ratio metrics (MASE, MAPE, sMAPE, MSIS) divide masked arrays, and numpy's masked division
  masks every non-finite quotient and every quotient with ``|num| * tiny >= |den|``. So a zero seasonal
  error, a zero label (MAPE), a NaN forecast, ... drop the point from *that* metric's sum and count
  (they neither give inf nor NaN). A metric whose every point is masked is ``0 / 0 = NaN``.
* ``Sum`` metrics (ND numerator, quantile losses, sum |label|) use ``np.nansum``: NaN forecast points
  are dropped from the numerator only. ``sum |label| == 0`` gives inf (or NaN for 0/0).
* The mean forecast falls back to the median when not given. MSIS reads the 0.025 / 0.975 levels,
  extrapolated with gluonts' exponential tails unless stored (see :mod:`.quantiles`).
* With ``allow_nan_forecast=False`` any NaN in a forecast array a metric reads ("mean", "0.5", the CRPS
  levels, the MSIS bounds) raises ``ValueError``, as gluonts' ``BatchForecast`` does.

Implementation: windows are flattened to ``[n * V, H]`` rows and processed in cache-sized chunks. A chunk
whose forecasts are all finite takes a restructured fast path (quantile losses from ``sum |e|`` and
``sum e``, MASE/MSIS as per-row sums weighted by ``1 / se``); anything else (NaN/inf forecasts, quotients
near numpy.ma's domain) goes through a pointwise transcription of gluonts. Chunk results are committed only
once a whole :meth:`MetricAccumulator.update` succeeded. With numba installed (a dependency; see
:mod:`._kernels`), the fast path is one fused compiled pass per chunk computing every sum at once; it declines
any chunk that is not clean, which then takes the numpy fast path, the kernel's reference (same sums up to
summation order; ``TOTO_BENCH_NUMBA=0`` forces numpy).

Precision: elementwise quantities are computed in the dtypes gluonts computes them in (float32 label and
quantiles give float32 errors, squared errors and percentage errors, but float64 scaled errors, MSIS and
quantile losses), and every sum is accumulated in float64. gluonts sums float32 values in float32 per
batch, so float32 results agree to ~1e-7 relative; float64 inputs agree to ~1e-15.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import numpy as np

from toto_bench.metrics.quantiles import QUANTILE_LEVELS

from . import _chunks, _kernels
from .quantiles import (
    CRPS_LEVELS,
    LevelGetter,
    check_levels,
    level_function,
)

__all__ = ["METRIC_NAMES", "MetricAccumulator", "evaluate_quantile_forecasts"]

#: The 11 metric columns, in results-CSV order.
METRIC_NAMES: tuple[str, ...] = (
    "MSE[mean]",
    "MSE[0.5]",
    "MAE[0.5]",
    "MASE[0.5]",
    "MAPE[0.5]",
    "sMAPE[0.5]",
    "MSIS",
    "RMSE[mean]",
    "NRMSE[mean]",
    "ND[0.5]",
    "mean_weighted_sum_quantile_loss",
)

#: Label elements per internal chunk: bounds temporaries and keeps them cache-resident.
_CHUNK_ELEMS = 1 << 15
#: (label, quantiles, mean or None) dtypes of a chunk: what the kernel's flags depend on.
_DtypeKey = tuple[np.dtype, np.dtype, np.dtype | None]


@functools.lru_cache(maxsize=64)
def _level_functions(levels: tuple[float, ...]) -> dict[float, Callable[[LevelGetter], np.ndarray]]:
    """The metric keys' level functions for stored ``levels`` (one dict per level set: configs share it)."""
    return {k: level_function(levels, k) for k in _chunks.KEYS}


@functools.lru_cache(maxsize=64)
def _kernel_plan(levels: tuple[float, ...]) -> _kernels.KernelPlan | None:
    return _kernels.plan_levels(levels, _chunks.KEYS)


def _as_float(x: np.ndarray, name: str) -> np.ndarray:
    a = np.asarray(x)
    if not np.issubdtype(a.dtype, np.floating):
        if not np.issubdtype(a.dtype, np.number):
            raise ValueError(f"{name} must be a numeric array, got dtype {a.dtype}")
        a = a.astype(np.float64)
    return a


def _flat(a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    return np.ascontiguousarray(a).reshape(shape)


class MetricAccumulator:
    """Streaming accumulator of the 11 metrics over batches of windows of one config.

    Feed every window of a config through :meth:`update` (in any number of batches) and read
    :meth:`result`. Equivalent to gluonts ``evaluate_forecasts(..., axis=None, mask_invalid_label=True,
    allow_nan_forecast=allow_nan_forecast)`` with ``QuantileForecast`` objects holding ``levels``.

    Args:
        levels: the ``Q`` quantile levels on the last axis of ``quantiles``, strictly ascending.
        allow_nan_forecast: when False, NaN in any forecast array a metric reads raises ``ValueError``.

    Attributes:
        n_windows: windows seen so far.
        n_points: valid (finite) label points seen so far.
        nan_forecast_keys: forecast keys (gluonts names, e.g. ``"0.5"``, ``"mean"``) that held NaN.
    """

    def __init__(self, levels: Sequence[float] = QUANTILE_LEVELS, allow_nan_forecast: bool = False) -> None:
        self.levels: tuple[float, ...] = check_levels(levels)
        self._level_fns = _level_functions(self.levels)
        self._plan = _kernel_plan(self.levels)
        self._kernel_flags: dict[_DtypeKey, tuple[np.ndarray, np.ndarray]] = {}
        self.allow_nan_forecast = bool(allow_nan_forecast)
        self.n_windows = 0
        self.nan_forecast_keys: set[str] = set()
        self._total = _chunks.Partial()

    @property
    def n_points(self) -> int:
        return self._total.n

    # ------------------------------------------------------------------ public
    def update(
        self,
        label: np.ndarray,
        quantiles: np.ndarray,
        seasonal_error: np.ndarray,
        mean: np.ndarray | None = None,
    ) -> None:
        """Add a batch of ``n`` windows.

        Args:
            label: ``[n, V, H]`` float array of targets; NaN/inf points are masked.
            quantiles: ``[n, V, H, Q]`` float array, levels in ``self.levels`` order.
            seasonal_error: ``[n, V]`` per-(window, variate) seasonal error (see :func:`seasonal_errors`);
                used as float64.
            mean: optional ``[n, V, H]`` mean forecast; the median stands in when ``None``.

        Raises:
            ValueError: bad shapes, or NaN forecasts with ``allow_nan_forecast=False``.
        """
        y = _as_float(label, "label")
        qs = _as_float(quantiles, "quantiles")
        if y.ndim != 3:
            raise ValueError(f"label must be [n, V, H], got shape {y.shape}")
        n, n_var, horizon = y.shape
        n_q = len(self.levels)
        if qs.shape != (n, n_var, horizon, n_q):
            raise ValueError(
                f"quantiles shape {qs.shape} != label shape + (Q={n_q},) = {(n, n_var, horizon, n_q)}"
            )
        se = np.asarray(seasonal_error, dtype=np.float64)
        if se.shape != (n, n_var):
            raise ValueError(f"seasonal_error shape {se.shape} != (n, V) = {(n, n_var)}")
        mu = None
        if mean is not None:
            mu = _as_float(mean, "mean")
            if mu.shape != y.shape:
                raise ValueError(f"mean shape {mu.shape} != label shape {y.shape}")
        rows = n * n_var
        if rows == 0 or horizon == 0:
            self.n_windows += n
            return
        y2 = _flat(y, (rows, horizon))
        q2 = _flat(qs, (rows, horizon, n_q))
        se2 = _flat(se, (rows,))
        mu2 = None if mu is None else _flat(mu, (rows, horizon))
        step = max(1, _CHUNK_ELEMS // horizon)

        def score(r0: int) -> _chunks.Partial:
            sl = slice(r0, r0 + step)
            args = (y2[sl], q2[sl], se2[sl], None if mu2 is None else mu2[sl])
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                part = self._chunk_fast(*args)
                if part is None:
                    part = _chunks.chunk_exact(self._level_fns, self.allow_nan_forecast, *args)
                return part

        parts = [score(r0) for r0 in range(0, rows, step)]
        for part in parts:  # all-or-nothing: a NaN error leaves the accumulator untouched
            self._commit(part)
        self.n_windows += n

    def result(self) -> dict[str, float]:
        """The 11 metrics (keys :data:`METRIC_NAMES`) over everything seen; NaN/inf as gluonts gives them."""
        t = self._total
        with np.errstate(divide="ignore", invalid="ignore"):
            n = t.n
            mse_mean = np.float64(t.sq_mean) / n
            rmse = np.sqrt(mse_mean)
            ratio = {k: np.float64(t.ratio_sum[k]) / t.ratio_count[k] for k in _chunks.RATIOS}
            sum_abs = np.float64(t.sum_abs)
            weighted = np.array([np.float64(t.ql[q]) / sum_abs for q in CRPS_LEVELS])
            values = (
                mse_mean,
                np.float64(t.sq_median) / n,
                np.float64(t.ae) / n,
                ratio["MASE"],
                ratio["MAPE"],
                ratio["sMAPE"],
                ratio["MSIS"],
                rmse,
                rmse / (sum_abs / n),
                np.float64(t.ae_nan) / sum_abs,
                np.mean(weighted),
            )
        return {name: float(v) for name, v in zip(METRIC_NAMES, values, strict=True)}

    # ----------------------------------------------------------------- private
    def _commit(self, p: _chunks.Partial) -> None:
        t = self._total
        t.n += p.n
        t.sum_abs += p.sum_abs
        t.sq_mean += p.sq_mean
        t.sq_median += p.sq_median
        t.ae += p.ae
        t.ae_nan += p.ae_nan
        for k in _chunks.RATIOS:
            t.ratio_sum[k] += p.ratio_sum[k]
            t.ratio_count[k] += p.ratio_count[k]
        for q in CRPS_LEVELS:
            t.ql[q] += p.ql[q]
        self.nan_forecast_keys |= p.nan_keys

    def _chunk_fast(
        self, y: np.ndarray, q: np.ndarray, se: np.ndarray, mean: np.ndarray | None
    ) -> _chunks.Partial | None:
        """Fast path for chunks whose forecasts are all finite; ``None`` sends the chunk to the exact path.

        The fused numba kernel (:func:`._kernels.chunk_sums`) when it is enabled and the chunk is clean,
        else the numpy code (:func:`._chunks.chunk_numpy`).
        """
        if _kernels.ENABLED:
            part = self._chunk_kernel(y, q, se, mean)
            if part is not None:
                return part
        return _chunks.chunk_numpy(self._level_fns, y, q, se, mean)

    def _kernel_setup(
        self, y: np.dtype, q: np.dtype, mean: np.dtype | None
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """``(flags, frac)`` of :func:`._kernels.chunk_sums` for these dtypes; ``None``: no kernel for them.

        The result dtype of every operation is numpy's: a key read from float32 quantiles (stored or
        interpolated) is float32, an exponential tail float64, and an error is float32 only when both the
        label and the key are.
        """
        key = (y, q, mean)
        if key in self._kernel_flags:
            return self._kernel_flags[key]
        floats = (np.dtype(np.float32), np.dtype(np.float64))
        plan = self._plan
        if plan is None or y not in floats or q not in floats or (mean is not None and mean not in floats):
            return None
        f32 = np.dtype(np.float32)
        key32 = [q == f32 and not tail for tail in plan.tails.tolist()]
        flags = np.zeros(_kernels.N_FLAGS, dtype=np.uint8)
        flags[:9] = [y == f32 and k32 for k32 in key32[:9]]
        flags[_kernels.FLAG_Q32] = q == f32
        flags[_kernels.FLAG_MEAN32] = y == f32 and mean == f32
        flags[_kernels.FLAG_MSIS32] = y == f32 and key32[9] and key32[10]
        # numpy multiplies float32 differences by the Python-float weight rounded to float32
        frac = plan.frac.astype(q).astype(np.float64)
        self._kernel_flags[key] = (flags, frac)
        return flags, frac

    def _chunk_kernel(
        self, y: np.ndarray, q: np.ndarray, se: np.ndarray, mean: np.ndarray | None
    ) -> _chunks.Partial | None:
        """The chunk's sums from :func:`._kernels.chunk_sums`; ``None`` when it declines (or cannot run)."""
        setup = self._kernel_setup(y.dtype, q.dtype, None if mean is None else mean.dtype)
        if setup is None or self._plan is None:
            return None
        flags, frac = setup
        out = np.empty(_kernels.N_CHUNK_FIELDS)
        plan = self._plan
        ok = _kernels.chunk_sums(
            y,
            q,
            se,
            y if mean is None else mean,
            mean is not None,
            plan.index,
            plan.const,
            frac,
            flags,
            plan.ql_coef,
            out,
        )
        if not ok:
            return None
        p = _chunks.Partial()
        p.n = int(out[_kernels.OUT_N])
        p.sum_abs = float(out[_kernels.OUT_SUM_ABS])
        p.sq_mean = float(out[_kernels.OUT_SQ_MEAN])
        p.sq_median = float(out[_kernels.OUT_SQ_MEDIAN])
        p.ae = p.ae_nan = float(out[_kernels.OUT_AE])
        for name, total, count in (
            ("MASE", _kernels.OUT_MASE, _kernels.OUT_N_MASE),
            ("MAPE", _kernels.OUT_MAPE, _kernels.OUT_N_MAPE),
            ("sMAPE", _kernels.OUT_SMAPE, _kernels.OUT_N_SMAPE),
            ("MSIS", _kernels.OUT_MSIS, _kernels.OUT_N_MSIS),
        ):
            p.ratio_sum[name] = float(out[total])
            p.ratio_count[name] = int(out[count])
        for j, level in enumerate(CRPS_LEVELS):
            p.ql[level] = float(out[_kernels.OUT_QL + j])
        return p


def evaluate_quantile_forecasts(
    label: np.ndarray,
    quantiles: np.ndarray,
    seasonal_error: np.ndarray,
    mean: np.ndarray | None = None,
    levels: Sequence[float] = QUANTILE_LEVELS,
    allow_nan_forecast: bool = False,
) -> dict[str, float]:
    """One-shot :class:`MetricAccumulator`: the 11 metrics of one config.

    Args:
        label: ``[n, V, H]`` targets (NaN/inf masked).
        quantiles: ``[n, V, H, Q]`` quantile forecasts in ``levels`` order.
        seasonal_error: ``[n, V]`` seasonal errors of each window's history.
        mean: optional ``[n, V, H]`` mean forecast (median when ``None``).
        levels: the ``Q`` levels, strictly ascending.
        allow_nan_forecast: score NaN forecasts (gluonts semantics) instead of raising ``ValueError``.

    Returns:
        ``{name: value}`` for every name in :data:`METRIC_NAMES`.
    """
    acc = MetricAccumulator(levels=levels, allow_nan_forecast=allow_nan_forecast)
    acc.update(label, quantiles, seasonal_error, mean=mean)
    return acc.result()
