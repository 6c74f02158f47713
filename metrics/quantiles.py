"""Quantile levels with gluonts forecast semantics, vectorised over whole batches.

* :func:`quantile_at_level` reproduces ``gluonts.model.forecast.QuantileForecast.quantile`` on a
  ``[..., Q]`` array: a stored level is returned as is; otherwise levels at or beyond the tail range are
  extrapolated with ``ExponentialTailApproximation`` (tol 1e-8, knots = the two outermost levels on that
  side) and interior levels are linearly interpolated between the neighbouring stored levels. The
  arithmetic follows gluonts operation by operation, so float32 knots give the same (float64) tails and
  the same (float32) interpolations.
* :func:`quantiles_from_samples` / :func:`mean_from_samples` reproduce ``SampleForecast.quantile``
  (sorted sample at index ``round((S - 1) * q)``, numpy round-half-even, no interpolation) and
  ``SampleForecast.mean``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise

import numpy as np

__all__ = [
    "CRPS_LEVELS",
    "EVAL_LEVELS",
    "MSIS_ALPHA",
    "MSIS_LEVELS",
    "MSIS_PENALTY",
    "QUANTILE_LEVELS",
    "check_levels",
    "level_array",
    "level_function",
    "mean_from_samples",
    "quantile_at_level",
    "quantiles_from_samples",
]

#: Levels of ``MeanWeightedSumQuantileLoss`` in the benchmark metric set.
CRPS_LEVELS: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
#: The ``alpha`` of the benchmark's ``MSIS(alpha=0.05)`` and its penalty factor ``2 / alpha``.
MSIS_ALPHA = 0.05
MSIS_PENALTY = 2.0 / MSIS_ALPHA
#: The interval bounds ``MSIS(alpha=0.05)`` reads: ``alpha / 2`` and ``1 - alpha / 2`` as gluonts spells them.
MSIS_LEVELS: tuple[float, float] = (MSIS_ALPHA / 2, 1.0 - MSIS_ALPHA / 2)
#: Every quantile level the metric set reads. Pass these to :func:`quantiles_from_samples` to score sample
#: forecasts exactly like a gluonts ``SampleForecast`` (no extrapolation of the MSIS bounds).
EVAL_LEVELS: tuple[float, ...] = (MSIS_LEVELS[0], *CRPS_LEVELS, MSIS_LEVELS[1])

_TOL = 1e-8  # ExponentialTailApproximation default
_SAMPLE_BLOCK_ELEMS = 1 << 22


#: The nine deciles every adapter returns, sorted ascending; an adapter may return a strictly ascending
#: superset (sample-based models: ``EVAL_LEVELS`` adds 0.025 / 0.975 for MSIS), see the adapter contract.
QUANTILE_LEVELS: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def check_levels(levels: Sequence[float], n_quantiles: int | None = None) -> tuple[float, ...]:
    """Validate quantile levels: strictly ascending floats in ``[0, 1]`` (and ``Q`` of them if given)."""
    lv = tuple(float(q) for q in levels)
    if not lv:
        raise ValueError("levels must not be empty")
    if any(not 0.0 <= q <= 1.0 for q in lv):
        raise ValueError(f"quantile levels must lie in [0, 1], got {lv}")
    if any(b <= a for a, b in pairwise(lv)):
        raise ValueError(f"quantile levels must be strictly ascending, got {lv}")
    if n_quantiles is not None and n_quantiles != len(lv):
        raise ValueError(f"quantiles has {n_quantiles} levels on its last axis but levels={lv}")
    return lv


LevelGetter = Callable[[int], np.ndarray]


def level_function(levels: tuple[float, ...], q: float) -> Callable[[LevelGetter], np.ndarray]:
    """Compile gluonts ``QuantileForecast.quantile(q)`` for stored ``levels`` (ascending).

    Returns ``f(get)`` where ``get(j)`` gives stored level ``j`` as an array; constants are precomputed.
    """
    if q in levels:
        j = levels.index(q)
        return lambda get: get(j)
    if len(levels) < 2:
        return lambda get: np.full(np.shape(get(0)), np.nan)
    left_tail = max(levels[0], min(levels[1], 0.1))
    right_tail = min(levels[-1], max(levels[-2], 0.9))
    n = len(levels)
    if q <= left_tail or q >= right_tail:
        # numpy float64 scalars on purpose: they promote float32 knots to float64 exactly like gluonts.
        if q <= left_tail:
            i0, i1, base = 0, 1, 1
            log_diff = np.log((levels[1] + _TOL) / (levels[0] + _TOL) + _TOL)
            log_x = np.log((q + _TOL) / (levels[1] + _TOL) + _TOL)
        else:
            i0, i1, base = n - 2, n - 1, n - 2
            log_diff = np.log((1 - levels[-2] + _TOL) / (1 - levels[-1] + _TOL) + _TOL)
            log_x = np.log((1 - levels[-2] + _TOL) / (1 - q + _TOL) + _TOL)

        def tail(get: LevelGetter) -> np.ndarray:
            # beta = (y1 - y0) / log_diff; beta * log_x + y_base (gluonts' ExponentialTailApproximation).
            # The knot difference is taken in the input dtype, then promoted with the float64 constants;
            # the explicit casts give the same bits as numpy's mixed-dtype ufuncs, only faster.
            diff = get(i1) - get(i0)
            dtype = np.result_type(diff, log_diff)
            out = diff.astype(dtype, copy=False)
            out /= log_diff
            out *= log_x
            out += get(base).astype(dtype, copy=False)
            return out

        return tail
    hi = next(i for i, x in enumerate(levels) if q <= x)
    frac = (q - levels[hi - 1]) / (levels[hi] - levels[hi - 1])  # Python float: keeps the input dtype

    def linear(get: LevelGetter) -> np.ndarray:
        y_lo = get(hi - 1)
        return y_lo + frac * (get(hi) - y_lo)

    return linear


def level_array(get: LevelGetter, levels: tuple[float, ...], q: float) -> np.ndarray:
    """``level_function(levels, q)(get)``: level ``q`` from stored levels accessed through ``get(j)``."""
    return level_function(levels, q)(get)


def quantile_at_level(quantiles: np.ndarray, levels: Sequence[float], q: float) -> np.ndarray:
    """The level-``q`` forecast from stored levels, as ``gluonts QuantileForecast.quantile(q)``.

    Args:
        quantiles: ``[..., Q]`` float array, stored levels on the last axis in ``levels`` order.
        levels: the ``Q`` stored levels, strictly ascending.
        q: requested level in ``[0, 1]``.

    Returns:
        ``[...]`` array: a view of the stored level when ``q`` is one of ``levels`` (input dtype); a linear
        interpolation (input dtype) for interior ``q``; an exponential-tail extrapolation (float64, as in
        gluonts) at or beyond the tail range; all-NaN float64 when fewer than two levels are stored and
        ``q`` is not one of them.
    """
    lv = check_levels(levels, quantiles.shape[-1])
    q = float(q)
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"requested quantile level {q} is outside [0, 1]")
    return level_array(lambda j: quantiles[..., j], lv, q)


def _sample_indices(n_samples: int, levels: Sequence[float]) -> list[int]:
    return [int(np.round((n_samples - 1) * q)) for q in levels]


def quantiles_from_samples(samples: np.ndarray, levels: Sequence[float] = QUANTILE_LEVELS) -> np.ndarray:
    """Empirical quantiles of sample paths, as ``gluonts SampleForecast.quantile``.

    Args:
        samples: ``[n, S, V, H]`` float array of ``S`` sample paths per window.
        levels: quantile levels in ``[0, 1]`` (any order; output follows it). Use :data:`EVAL_LEVELS` to
            score like a gluonts ``SampleForecast`` (its MSIS bounds come from the samples, not from tails).

    Returns:
        ``[n, V, H, Q]`` array in the samples' dtype: the sorted sample at index ``round((S - 1) * q)``
        (NaN sorts last, as in ``np.sort``).
    """
    s = np.asarray(samples)
    if s.ndim != 4:
        raise ValueError(f"samples must be [n, S, V, H], got shape {s.shape}")
    n, n_samples, n_var, horizon = s.shape
    if n_samples < 1:
        raise ValueError("samples must hold at least one sample path (S >= 1)")
    lv = [float(q) for q in levels]
    if any(not 0.0 <= q <= 1.0 for q in lv):
        raise ValueError(f"quantile levels must lie in [0, 1], got {lv}")
    idx = _sample_indices(n_samples, lv)
    kth = sorted(set(idx))
    out = np.empty((n, n_var, horizon, len(lv)), dtype=s.dtype)
    step = max(1, _SAMPLE_BLOCK_ELEMS // max(1, n_samples * n_var * horizon))
    for i0 in range(0, n, step):
        part = np.partition(s[i0 : i0 + step], kth, axis=1)  # order statistics at kth equal np.sort's
        out[i0 : i0 + step] = np.moveaxis(part[:, idx], 1, -1)
    return out


def mean_from_samples(samples: np.ndarray) -> np.ndarray:
    """Sample mean ``[n, V, H]`` of ``samples [n, S, V, H]``, as ``SampleForecast.mean`` (input dtype)."""
    s = np.asarray(samples)
    if s.ndim != 4:
        raise ValueError(f"samples must be [n, S, V, H], got shape {s.shape}")
    return np.mean(s, axis=1)
