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

from dataclasses import dataclass, field
from typing import Literal, get_args

import numpy as np
import numpy.typing as npt
import pandas as pd

from toto_bench.metrics.aggregate import SGM_EPS
from toto_bench.metrics.leaderboard import Leaderboard

__all__ = [
    "AGGREGATES",
    "Aggregate",
    "BoardStatistics",
    "board_statistics",
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


@dataclass(frozen=True)
class BoardStatistics:
    """Bootstrap intervals and pairwise comparisons of one board (models in board row order).

    Attributes:
        intervals: index ``model``; columns ``MASE_lo, MASE_hi, CRPS_lo, CRPS_hi``.
        win_rates: ``{metric: [model × model]}`` share of configs where the row model beats the column
            model (ties half).
        prob_better: ``{metric: [model × model]}`` bootstrap probability that the row model's aggregate is
            better (lower) than the column model's.
        columns: ``{metric: board column}`` the intervals belong to (e.g. ``CRPS-6750-scaled``).
        n_configs: configs resampled; n_boot, seed, confidence: the settings used.
    """

    intervals: pd.DataFrame
    win_rates: dict[str, pd.DataFrame]
    prob_better: dict[str, pd.DataFrame]
    columns: dict[str, str]
    n_configs: int
    n_boot: int
    seed: int
    confidence: float
    common_configs: pd.DataFrame = field(default_factory=pd.DataFrame)

    def pairs(self) -> pd.DataFrame:
        """Long table, one row per ordered pair of distinct models: ``model_a, model_b, n_configs,
        CRPS_win_rate, MASE_win_rate, P_CRPS_better, P_MASE_better``."""
        models = list(self.intervals.index)
        n = self.common_configs.to_numpy()
        wins = {m: self.win_rates[m].to_numpy(dtype=np.float64) for m in ("CRPS", "MASE")}
        better = {m: self.prob_better[m].to_numpy(dtype=np.float64) for m in ("CRPS", "MASE")}
        rows = []
        for i, a in enumerate(models):
            for j, b in enumerate(models):
                if i == j:
                    continue
                row: dict[str, object] = {"model_a": a, "model_b": b, "n_configs": int(n[i, j])}
                for metric in ("CRPS", "MASE"):
                    row[f"{metric}_win_rate"] = float(wins[metric][i, j])
                for metric in ("CRPS", "MASE"):
                    row[f"P_{metric}_better"] = float(better[metric][i, j])
                rows.append(row)
        return pd.DataFrame(rows)


def _board_spec(board: Leaderboard) -> tuple[dict[str, str], dict[str, str], Aggregate]:
    """``(metric → config_values key, metric → table column, aggregate)`` of a board."""
    if board.board in ("boom", "boomlet"):
        n1 = board.split_sizes["nonflat_configs"]
        keys = {"MASE": "nonflat_MASE", "CRPS": "nonflat_CRPS"}
        return keys, {"MASE": f"MASE-{n1}-scaled", "CRPS": f"CRPS-{n1}-scaled"}, "shifted_gmean"
    if board.board == "gift_eval":
        return {"MASE": "MASE", "CRPS": "CRPS"}, {"MASE": "MASE", "CRPS": "CRPS"}, "gmean"
    if board.board == "time":
        return {"MASE": "MASE", "CRPS": "CRPS"}, {"MASE": "MASE (norm.)", "CRPS": "CRPS (norm.)"}, "gmean"
    raise ValueError(
        f"no bootstrap statistics for board {board.board!r}; valid: boom, boomlet, gift_eval, time"
    )


def board_statistics(
    board: Leaderboard,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    indices: npt.ArrayLike | None = None,
) -> BoardStatistics:
    """Paired bootstrap CIs of a board's MASE/CRPS aggregates and pairwise win rates (module docstring).

    The resampled configs are those the board aggregates (BOOM: the non-flat split); one set of
    ``n_boot`` index draws from ``numpy.random.default_rng(seed)`` serves every model and both metrics.
    ``indices`` (``[B, n]``, positions in the board's config order) replaces that draw, e.g. the identity
    ``arange(n)[None]``, whose single "resample" is the board itself.
    """
    keys, columns, aggregate = _board_spec(board)
    models = [str(m) for m in board.table["model"]]
    frames = {metric: board.config_values[key][models] for metric, key in keys.items()}
    n_configs = len(frames["CRPS"].index)
    if indices is None:
        indices = draw_indices(n_configs, n_boot, seed)
    else:
        indices = np.asarray(indices, dtype=np.int64)
        n_boot = int(indices.shape[0])
    intervals: dict[str, np.ndarray] = {}
    wins: dict[str, pd.DataFrame] = {}
    better: dict[str, pd.DataFrame] = {}
    common = pd.DataFrame()
    values: dict[str, np.ndarray] = {}
    masks: dict[str, np.ndarray] = {}
    for metric in METRICS:
        values[metric] = frames[metric].to_numpy(dtype=np.float64)
        if board.board == "gift_eval" and board.config_present is not None:
            masks[metric] = board.config_present.loc[frames[metric].index, models].to_numpy(dtype=bool)
        elif board.board == "time":
            masks[metric] = ~np.isnan(values[metric])
        else:
            masks[metric] = np.ones(values[metric].shape, dtype=bool)
    # both metrics side by side: one pass over the resamples, the same draw for every column
    stacked = bootstrap_aggregates(
        np.hstack([values[m] for m in METRICS]),
        indices,
        aggregate=aggregate,
        mask=np.hstack([masks[m] for m in METRICS]),
    )
    label = pd.Index(models, name="model")
    for k, metric in enumerate(METRICS):
        samples = stacked[:, k * len(models) : (k + 1) * len(models)]
        intervals[f"{metric}_lo"], intervals[f"{metric}_hi"] = percentile_interval(samples, confidence)
        w, n = win_rates(values[metric], masks[metric])
        wins[metric] = pd.DataFrame(w, index=label, columns=models)
        better[metric] = pd.DataFrame(prob_better(samples), index=label, columns=models)
        if metric == "CRPS":
            common = pd.DataFrame(n, index=models, columns=models)
    table = pd.DataFrame(
        {name: intervals[name] for name in ("MASE_lo", "MASE_hi", "CRPS_lo", "CRPS_hi")},
        index=pd.Index(models, name="model"),
    )
    return BoardStatistics(
        intervals=table,
        win_rates=wins,
        prob_better=better,
        columns=columns,
        n_configs=n_configs,
        n_boot=n_boot,
        seed=seed,
        confidence=confidence,
        common_configs=common,
    )
