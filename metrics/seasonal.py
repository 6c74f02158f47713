"""Seasonal errors (the MASE / MSIS scale) for every window of a series in one pass.

gluonts (``gluonts.model.evaluation._get_data_batch``) computes, per test window, the seasonal error of the
window's *entire* input history ``series[..., :cut]`` as ``gluonts.ev.ts_stats.seasonal_error`` on
``np.ma.masked_invalid(history)``:

* ``m := 1`` when ``m > len(history)`` (so ``m == len(history)`` keeps ``m`` and has no pairs);
* pairs ``(y_t, y_{t-m})`` with a NaN/inf member are masked;
* the masked mean of ``|y_t - y_{t-m}|`` is a masked scalar when no valid pair exists (all-NaN history,
  history shorter than ``m + 1``, empty history). ``np.array([...])`` in ``_get_data_batch`` turns that
  masked result into its underlying data, which is ``0.0``. The pipeline therefore uses ``0.0``, and the
  later division by zero masks every MASE/MSIS point of that series (they drop out of the mean).

Because each window's history is a prefix of the same series, every window's sum and pair count are prefix
sums: one ``np.add.reduceat`` over the sorted window boundaries followed by a cumulative sum over windows
gives all of them at once. With numba (see :mod:`._kernels`) that pass is one compiled loop per series,
without temporaries; the numpy code is the fallback and the kernel's reference.
"""

from __future__ import annotations

import numpy as np

from . import _kernels

__all__ = ["seasonal_errors"]

#: Upper bound on ``V * T`` elements processed at once (bounds temporaries for very long series).
_ROW_BLOCK_ELEMS = 1 << 22
#: Per-segment summation loop instead of ``reduceat`` when segments average at least this many elements.
_LOOP_MIN_ELEMS = 1 << 15


def _segment_sums(diff: np.ndarray, starts: list[int], ends: list[int]) -> np.ndarray:
    """``[V, S]`` float64 sums of ``diff[:, starts[j] : ends[j]]`` (contiguous, covering segments)."""
    if diff.size >= _LOOP_MIN_ELEMS * len(starts):
        # Few long segments: plain float64 sums are ~2x faster than a casting reduceat.
        out = np.empty((diff.shape[0], len(starts)), dtype=np.float64)
        for j, (a, b) in enumerate(zip(starts, ends, strict=True)):
            diff[:, a:b].sum(axis=1, dtype=np.float64, out=out[:, j])
        return out
    return np.add.reduceat(diff, starts, axis=1, dtype=np.float64)


def _prefix_sums(x: np.ndarray, lag: int, bounds: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Sums and counts of valid ``|x_t - x_{t-lag}|`` over the first ``k`` pairs, each ``k`` in ``bounds``.

    Args:
        x: ``[V, T]`` float series (NaN/inf = missing), ``T >= lag + bounds[-1]``.
        lag: the lag ``m >= 1``.
        bounds: strictly ascending positive pair counts.

    Returns:
        ``([V, len(bounds)] float64 sums, [V, len(bounds)] int64 counts)``.
    """
    k_max = bounds[-1]
    starts = [0, *bounds[:-1]]
    used = x[:, : lag + k_max]
    # Elementwise difference in the input dtype, like gluonts on a masked array.
    diff = used[:, lag:] - used[:, :k_max]
    np.abs(diff, out=diff)
    nan_pair = np.isnan(diff)
    has_nan = bool(nan_pair.any())
    if has_nan:
        np.fmax(diff, 0, out=diff)  # fmax(NaN, 0) = 0: drop pairs with a NaN member
    sums = _segment_sums(diff, starts, bounds)
    if not np.isfinite(sums).all() and np.isinf(used).any():
        # inf values in the series: a pair is invalid when either member is non-finite.
        finite = np.isfinite(used)
        valid = finite[:, lag:] & finite[:, :k_max]
        diff = np.where(valid, np.abs(used[:, lag:] - used[:, :k_max]), 0)
        sums = _segment_sums(diff, starts, bounds)
        counts = np.add.reduceat(valid.view(np.uint8), starts, axis=1, dtype=np.int64)
    else:
        # Only NaN gaps (a finite pair whose difference overflows to inf stays valid, as in gluonts).
        counts = np.diff(np.asarray([0, *bounds], dtype=np.int64))[None, :]
        if has_nan:
            counts = counts - np.add.reduceat(nan_pair.view(np.uint8), starts, axis=1, dtype=np.int64)
    np.cumsum(sums, axis=1, out=sums)
    return sums, np.cumsum(counts, axis=1)


def seasonal_errors(series: np.ndarray, cuts: np.ndarray, seasonality: int) -> np.ndarray:
    """Seasonal error of ``series[..., :cut]`` for every window start ``cut``, with gluonts semantics.

    Args:
        series: ``[V, T]`` (or ``[T]``, treated as ``V = 1``) float array; NaN/inf are missing values.
            float32 input is differenced in float32 (as gluonts does) and summed in float64.
        cuts: ``[W]`` integer window start indices, ``0 <= cut <= T``, any order. Window ``w``'s history is
            ``series[..., :cuts[w]]``.
        seasonality: the season length ``m >= 1``; a window whose history is shorter than ``m`` uses 1.

    Returns:
        ``[W, V]`` float64: mean of ``|y_t - y_{t-m}|`` over the valid pairs of each window's history, and
        ``0.0`` where there is no valid pair (what gluonts' evaluate pipeline effectively uses).
    """
    x = np.asarray(series)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2:
        raise ValueError(f"series must be [V, T] or [T], got shape {np.shape(series)}")
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    c = np.asarray(cuts)
    if c.ndim != 1:
        raise ValueError(f"cuts must be a 1-D array of window starts, got shape {c.shape}")
    if c.size and c.dtype.kind not in "iu":
        raise ValueError(f"cuts must be integers, got dtype {c.dtype}")
    cut_list = [int(v) for v in c.tolist()]
    n_var, n_time = x.shape
    for v in cut_list:
        if not 0 <= v <= n_time:
            raise ValueError(f"cut {v} is outside [0, {n_time}] (series length {n_time})")
    if isinstance(seasonality, bool) or int(seasonality) != seasonality or seasonality < 1:
        raise ValueError(f"seasonality must be a positive integer, got {seasonality!r}")
    m = int(seasonality)

    out = np.zeros((len(cut_list), n_var), dtype=np.float64)
    if not cut_list or n_var == 0:
        return out
    # gluonts: m > len(history) -> m = 1. Window w then averages its first k_w = cut_w - lag pairs.
    by_lag: dict[int, tuple[list[int], list[int]]] = {}
    for w, cut in enumerate(cut_list):
        lag = m if cut >= m else 1
        k = cut - lag
        if k > 0:
            wins, ks = by_lag.setdefault(lag, ([], []))
            wins.append(w)
            ks.append(k)
    use_kernel = _kernels.ENABLED and x.dtype in (np.float32, np.float64)
    if use_kernel:
        x = np.ascontiguousarray(x)
    rows = n_var if use_kernel else max(1, _ROW_BLOCK_ELEMS // max(1, n_time))
    for lag, (wins, ks) in by_lag.items():
        bounds = sorted(set(ks))
        pos = None
        if ks != bounds:  # unsorted or repeated cuts: gather each window's prefix
            pos = [bounds.index(k) for k in ks] if len(bounds) < 64 else np.searchsorted(bounds, ks).tolist()
        for r0 in range(0, n_var, rows):
            if use_kernel:  # one fused pass, no temporaries (same sums up to summation order)
                sums = np.empty((n_var, len(bounds)))
                counts = np.empty((n_var, len(bounds)), dtype=np.int64)
                _kernels.seasonal_prefix_sums(x, lag, np.asarray(bounds, dtype=np.int64), sums, counts)
            else:
                sums, counts = _prefix_sums(x[r0 : r0 + rows], lag, bounds)
            if pos is not None:
                sums, counts = sums[:, pos], counts[:, pos]
            counts = np.broadcast_to(counts, sums.shape)
            se = np.zeros(sums.shape)
            np.divide(sums, counts, out=se, where=counts > 0)
            out[wins, r0 : r0 + rows] = se.T
    return out
