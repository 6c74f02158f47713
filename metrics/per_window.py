"""Per-window metrics of TIME and the pooled point errors of LSF, vectorised over windows and variates.

TIME (zqiao11/TIME:src/timebench/evaluation/metrics.py, ``compute_per_window_metrics_from_quantiles``;
shared ``docs/time_lsf_protocol.md`` §A.5). Every metric is computed per (window, variate) on the raw scale,
in float64, over the steps whose label is not NaN (a window whose labels are all NaN gets NaN everywhere):

- ``MSE``/``MAE``/``RMSE`` of the median (the 0.5 quantile); a NaN forecast at a valid step gives NaN;
- ``MAPE`` = nanmean of ``|e| / |y|``, ``sMAPE`` = nanmean of ``2|e| / (|y| + |ŷ|)``, non-finite terms
  dropped;
- ``MASE`` = MAE / scale, where scale = mean ``|c[m:] − c[:-m]|`` of the window's whole history ``c`` with its
  NaNs removed first (so pairs span gaps); NaN when ``len(c) <= m`` or the scale is not > 0;
- ``ND`` = Σ|e| / Σ|y| and ``CRPS`` = mean over the quantile levels τ of
  ``Σ_t 2|(y − q_τ)(1{q_τ ≥ y} − τ)| / Σ|y|``, both normalised by **that window's own** Σ|y| (NaN when it
  is 0), not by gluonts' pooled Σ|y|.

A task's score is the NaN-ignoring mean of these ``[series, window, variate]`` arrays (``np.nanmean``).

LSF (TSLib / DataDog/toto ``lsf_evaluator``; §B.3): MSE and MAE of the median, pooled over every window,
variate and step (labels that are NaN/inf are masked, as gluonts' ``mask_invalid_label``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "TIME_METRIC_NAMES",
    "PointErrorAccumulator",
    "level_index",
    "time_seasonal_scale",
    "time_window_metrics",
]

#: The per-window metrics TIME stores in ``metrics.npz``, in upstream order.
TIME_METRIC_NAMES: tuple[str, ...] = ("MSE", "MAE", "RMSE", "MAPE", "sMAPE", "MASE", "ND", "CRPS")


def level_index(levels: Sequence[float], level: float = 0.5) -> int:
    """Position of ``level`` in ``levels`` (to read the median); ``ValueError`` naming them if absent."""
    for i, value in enumerate(levels):
        if abs(float(value) - level) < 1e-9:
            return i
    raise ValueError(f"the forecast has no {level} quantile; its levels are {list(levels)}")


def time_seasonal_scale(series: np.ndarray, cuts: np.ndarray, seasonality: int) -> np.ndarray:
    """TIME's MASE denominator for every window of one series.

    Args:
        series: ``[V, T]`` (or ``[T]``) float array, NaN for gaps.
        cuts: ``[W]`` integer window starts in ``[0, T]``, any order; window ``w``'s history is
            ``series[:, :cuts[w]]``.
        seasonality: ``m >= 1``.

    Returns:
        ``[W, V]`` float64: mean ``|c[m:] − c[:-m]|`` of the history ``c`` with NaNs removed, NaN where the
        history has ``<= m`` observed points. Sums run per segment between consecutive cuts (pairwise
        summation inside each), then cumulate over the few segments, so the result matches ``np.mean`` of
        the full difference vector to ~1e-15 relative.
    """
    x = np.asarray(series, dtype=np.float64)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2:
        raise ValueError(f"series must be [V, T] or [T], got shape {np.shape(series)}")
    c = np.asarray(cuts)
    if c.ndim != 1 or (c.size and c.dtype.kind not in "iu"):
        raise ValueError(f"cuts must be a 1-D integer array, got dtype {c.dtype} shape {c.shape}")
    m = int(seasonality)
    if m < 1 or m != seasonality:
        raise ValueError(f"seasonality must be a positive integer, got {seasonality!r}")
    n_var, length = x.shape
    if c.size and (int(c.min()) < 0 or int(c.max()) > length):
        raise ValueError(f"cuts must lie in [0, {length}], got min {int(c.min())} max {int(c.max())}")
    out = np.full((c.size, n_var), np.nan)
    for v in range(n_var):
        row = x[v]
        observed = ~np.isnan(row)
        seen = np.concatenate(([0], np.cumsum(observed)))  # observed points before each position
        pairs = seen[c] - m  # pairs (c[j], c[j - m]) of the compressed history of each window
        if not (pairs > 0).any():
            continue
        y = row[observed]
        diff = np.abs(y[m:] - y[:-m])
        bounds = np.unique(pairs[pairs > 0])
        starts = np.concatenate(([0], bounds[:-1]))
        sums = np.cumsum([diff[a:b].sum() for a, b in zip(starts, bounds, strict=True)])
        total = dict(zip(bounds.tolist(), sums.tolist(), strict=True))
        for w, k in enumerate(pairs.tolist()):
            if k > 0:
                out[w, v] = total[k] / k
    return out


def time_window_metrics(
    label: np.ndarray, quantiles: np.ndarray, levels: Sequence[float], scale: np.ndarray
) -> dict[str, np.ndarray]:
    """TIME's eight metrics of every (window, variate).

    Args:
        label: ``[n, V, H]`` ground truth (NaN steps are dropped).
        quantiles: ``[n, V, H, Q]`` quantile forecasts at ``levels`` (must include 0.5).
        levels: the ``Q`` quantile levels.
        scale: ``[n, V]`` MASE denominators (:func:`time_seasonal_scale`).

    Returns:
        ``{name: [n, V] float64}`` for every name of :data:`TIME_METRIC_NAMES`.
    """
    y = np.asarray(label, dtype=np.float64)
    q = np.asarray(quantiles, dtype=np.float64)
    if y.ndim != 3:
        raise ValueError(f"label must be [n, V, H], got shape {y.shape}")
    if q.shape != (*y.shape, len(levels)):
        raise ValueError(
            f"quantiles shape {q.shape} != label shape + (Q={len(levels)},) = {(*y.shape, len(levels))}"
        )
    s = np.asarray(scale, dtype=np.float64)
    if s.shape != y.shape[:2]:
        raise ValueError(f"scale shape {s.shape} != (n, V) = {y.shape[:2]}")
    median = q[..., level_index(levels)]
    valid = ~np.isnan(y)
    count = valid.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        err = np.where(valid, y - median, 0.0)
        abs_err = np.abs(err)
        abs_y = np.where(valid, np.abs(y), 0.0)
        mse = np.square(err).sum(axis=-1) / count
        mae = abs_err.sum(axis=-1) / count
        out: dict[str, np.ndarray] = {"MSE": mse, "MAE": mae, "RMSE": np.sqrt(mse)}
        for name, num, den in (
            ("MAPE", abs_err, abs_y),
            ("sMAPE", 2 * abs_err, abs_y + np.abs(median)),
        ):
            ratio = num / den
            keep = valid & np.isfinite(ratio)
            out[name] = np.where(keep, ratio, 0.0).sum(axis=-1) / keep.sum(axis=-1)
        out["MASE"] = np.where(s > 0, mae / s, np.nan)
        abs_sum = abs_y.sum(axis=-1)
        positive = abs_sum > 0
        out["ND"] = np.where(positive, abs_err.sum(axis=-1) / abs_sum, np.nan)
        weighted = np.zeros_like(abs_sum)
        for j, tau in enumerate(levels):
            f = q[..., j]
            loss = 2 * np.abs((y - f) * ((f >= y) - float(tau)))
            weighted += np.where(valid, loss, 0.0).sum(axis=-1) / abs_sum
        out["CRPS"] = np.where(positive, weighted / len(levels), np.nan)
    empty = count == 0
    if empty.any():
        for name in out:
            out[name][empty] = np.nan
    return {name: out[name] for name in TIME_METRIC_NAMES}


class PointErrorAccumulator:
    """Pooled MSE and MAE of point forecasts (LSF): sums over each (window, variate, step) with finite label.

    Attributes:
        n_points: label points counted so far.
    """

    def __init__(self) -> None:
        self._sq = 0.0
        self._abs = 0.0
        self.n_points = 0

    def update(self, label: np.ndarray, point: np.ndarray) -> None:
        """Add ``[n, V, H]`` labels and point forecasts (a NaN forecast at a valid step makes results NaN)."""
        y = np.asarray(label)
        f = np.asarray(point)
        if y.shape != f.shape:
            raise ValueError(f"point forecast shape {f.shape} != label shape {y.shape}")
        err = f.astype(np.float64) - y.astype(np.float64)
        valid = np.isfinite(y)
        if not valid.all():
            err = np.where(valid, err, 0.0)
        self._sq += float(np.square(err).sum())
        self._abs += float(np.abs(err).sum())
        self.n_points += int(np.count_nonzero(valid))

    def result(self) -> dict[str, float]:
        """``{"MSE": ..., "MAE": ...}`` (NaN before any valid point)."""
        if self.n_points == 0:
            return {"MSE": float("nan"), "MAE": float("nan")}
        return {"MSE": self._sq / self.n_points, "MAE": self._abs / self.n_points}
