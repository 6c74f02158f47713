"""Paired bootstrap over configs: confidence intervals of the aggregate scores, pairwise win rates.

A board's aggregate (BOOM: shifted gmean of the seasonal-naive-scaled MASE/CRPS over the non-flat
configs; GIFT-Eval: gmean of the normalised MASE/CRPS over each model's configs; TIME: NaN-ignoring gmean
of the normalised task values) is a function of a ``[config × model]`` matrix. The bootstrap redraws the
configs with replacement, ``B`` times, and recomputes the aggregate of every model on each redraw:

- **paired**: resample ``b`` uses the same config indices for every model (and for MASE and CRPS), so
  differences between models are not blurred by drawing them different configs;
- **vectorised**: a redraw is a vector of counts ``k[b, c]`` (how often config ``c`` was drawn), so the
  mean log over the redraw of every model is one matrix product ``k @ log(values) / k @ mask``;
- **percentile** intervals: the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles of the
  ``B`` recomputed aggregates (numpy's default linear interpolation).

The per-board values are taken as the board computed them (after imputation and scaling): the imputed fill
values and the seasonal-naive scaling are held fixed, only the set of configs varies.

Win rates compare models config by config: ``W[a, b]`` is the share of the configs where both have a value
on which ``a``'s value is lower than ``b``'s, ties counting half, so ``W[a, b] + W[b, a] = 1``.
``P[a, b]`` is the bootstrap probability that ``a``'s aggregate is lower (better) than ``b``'s, ties
counting half.
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
import numpy.typing as npt

from toto_bench.metrics.aggregate import SGM_EPS

__all__ = [
    "AGGREGATES",
    "Aggregate",
    "bootstrap_aggregates",
    "draw_indices",
    "percentile_interval",
    "prob_better",
    "resample_counts",
    "win_rates",
]

#: ``"shifted_gmean"`` = ``exp(mean(log(x + eps))) - eps`` (BOOM); ``"gmean"`` = ``exp(mean(log(x)))``
#: (GIFT-Eval, TIME: which cells count is given by a mask).
Aggregate = Literal["shifted_gmean", "gmean"]
AGGREGATES: tuple[str, ...] = get_args(Aggregate)

#: The two metrics each board aggregates, in output order.
METRICS: tuple[str, ...] = ("MASE", "CRPS")

#: Aggregates closer than this (relative) are a tie in :func:`prob_better`: a gmean of the same values in
#: another order differs in the last bits.
TIE_RTOL: float = 1e-12

#: Resamples per matrix product; bounds the ``[chunk × configs]`` count matrix (256 × 6750 ≈ 14 MB).
_CHUNK = 256


def draw_indices(n_configs: int, n_boot: int, seed: int | np.random.Generator = 0) -> np.ndarray:
    """Config indices of ``n_boot`` resamples with replacement: int64 ``[n_boot, n_configs]``.

    ``seed`` is an int (a fresh ``numpy.random.default_rng(seed)``) or a ``Generator`` to draw from.
    """
    if n_configs < 1:
        raise ValueError(f"n_configs must be >= 1, got {n_configs}")
    if n_boot < 1:
        raise ValueError(f"n_boot must be >= 1, got {n_boot}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return rng.integers(0, n_configs, size=(n_boot, n_configs), dtype=np.int64)


def resample_counts(indices: npt.ArrayLike, n_configs: int) -> np.ndarray:
    """How often each config is drawn in each resample: float64 ``[B, n_configs]`` from ``[B, n]`` indices."""
    idx = np.asarray(indices, dtype=np.int64)
    if idx.ndim != 2:
        raise ValueError(f"indices must be 2-D [resamples, draws], got shape {idx.shape}")
    if idx.size and (idx.min() < 0 or idx.max() >= n_configs):
        raise ValueError(f"indices must lie in [0, {n_configs}), got [{idx.min()}, {idx.max()}]")
    n_boot = idx.shape[0]
    flat = (idx + n_configs * np.arange(n_boot, dtype=np.int64)[:, None]).ravel()
    return np.bincount(flat, minlength=n_boot * n_configs).reshape(n_boot, n_configs).astype(np.float64)


def bootstrap_aggregates(
    values: npt.ArrayLike,
    indices: npt.ArrayLike,
    *,
    aggregate: Aggregate,
    mask: npt.ArrayLike | None = None,
    eps: float = SGM_EPS,
) -> np.ndarray:
    """Each model's aggregate on each resample of the configs.

    Args:
        values: ``[C, M]`` per-config values of M models.
        indices: ``[B, n]`` config indices of B resamples (:func:`draw_indices`; any ``n``, e.g. the
            identity ``arange(C)[None]`` gives the aggregate over all configs).
        aggregate: ``"shifted_gmean"`` or ``"gmean"`` (:data:`Aggregate`).
        mask: ``[C, M]`` bool, the cells that count (default: all). A drawn config that is masked out for a
            model is skipped for that model only (it is drawn for the others).
        eps: the shift of ``"shifted_gmean"``.

    Returns:
        float64 ``[B, M]``. Semantics of the aggregate functions of :mod:`toto_bench.metrics.aggregate`:
        a drawn NaN (or negative value) gives NaN; a drawn ``inf`` gives ``inf``; a drawn zero gives 0
        for ``"gmean"``; no counted cell gives NaN.
    """
    if aggregate not in AGGREGATES:
        raise ValueError(f"aggregate={aggregate!r} is not supported; valid values: {', '.join(AGGREGATES)}")
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"values must be 2-D [configs, models], got shape {x.shape}")
    n_configs = x.shape[0]
    counted = np.ones(x.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    if counted.shape != x.shape:
        raise ValueError(f"mask shape {counted.shape} differs from values shape {x.shape}")
    shift = eps if aggregate == "shifted_gmean" else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(x + shift)
    # non-finite logs would turn 0 * inf into NaN in the product: count them apart, sum the finite ones
    finite = np.where(counted & np.isfinite(logs), logs, 0.0)
    indicators = np.stack(
        [
            counted,
            counted & np.isnan(logs),
            counted & (logs == np.inf),
            counted & (logs == -np.inf),
        ]
    ).astype(np.float64)
    counts = resample_counts(indices, n_configs)
    out = np.empty((counts.shape[0], x.shape[1]), dtype=np.float64)
    for start in range(0, counts.shape[0], _CHUNK):
        k = counts[start : start + _CHUNK]
        total = k @ finite
        n, n_nan, n_pos, n_neg = (k @ ind for ind in indicators)
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = total / n
        mean = np.where(n_pos > 0, np.inf, mean)
        mean = np.where(n_neg > 0, -np.inf, mean)
        mean = np.where((n_nan > 0) | ((n_pos > 0) & (n_neg > 0)) | (n == 0), np.nan, mean)
        out[start : start + _CHUNK] = np.exp(mean) - shift
    return out


def percentile_interval(samples: npt.ArrayLike, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap interval per column of ``[B, M]`` samples → ``(lo [M], hi [M])``.

    A column holding any NaN gives NaN bounds.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    s = np.asarray(samples, dtype=np.float64)
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(s, [alpha, 1.0 - alpha], axis=0)
    bad = np.isnan(s).any(axis=0)
    return np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)


def win_rates(values: npt.ArrayLike, mask: npt.ArrayLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Pairwise win rates of M models over C configs (lower value wins, ties count half).

    Args:
        values: ``[C, M]``.
        mask: ``[C, M]`` bool, cells that count (default: all); NaN cells never count.

    Returns:
        ``(W, n)``: ``W[a, b]`` float64 ``[M, M]`` = share of the ``n[a, b]`` configs where both ``a`` and
        ``b`` count on which ``a`` is lower than ``b`` (+ half the ties); NaN where ``n[a, b] = 0``.
        ``W[a, b] + W[b, a] = 1``; the diagonal is 0.5.
    """
    x = np.asarray(values, dtype=np.float64)
    ok = ~np.isnan(x) if mask is None else np.asarray(mask, dtype=bool) & ~np.isnan(x)
    both = ok[:, :, None] & ok[:, None, :]  # [C, M, M]
    lower = (x[:, :, None] < x[:, None, :]) & both
    tie = (x[:, :, None] == x[:, None, :]) & both
    n = both.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = (lower.sum(axis=0) + 0.5 * tie.sum(axis=0)) / n
    return np.where(n > 0, rate, np.nan), n


def prob_better(samples: npt.ArrayLike) -> np.ndarray:
    """``P[a, b]``: share of the B resamples where model ``a``'s aggregate is lower than ``b``'s.

    ``samples`` is ``[B, M]``; ties (equal within a relative :data:`TIE_RTOL`: the same values summed in
    another order) count half; a resample where either is NaN does not count (NaN if none counts).
    ``P[a, b] + P[b, a] = 1``.
    """
    s = np.asarray(samples, dtype=np.float64)
    ok = ~np.isnan(s)
    both = ok[:, :, None] & ok[:, None, :]
    a, b = s[:, :, None], s[:, None, :]
    tie = np.isclose(a, b, rtol=TIE_RTOL, atol=0.0) & both
    lower = (a < b) & both & ~tie
    n = both.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = (lower.sum(axis=0) + 0.5 * tie.sum(axis=0)) / n
    return np.where(n > 0, p, np.nan)
