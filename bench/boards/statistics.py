"""Bootstrap intervals and pairwise win rates of a board (``toto-bench leaderboard --stats``).

The resampling itself is pure and lives in :mod:`toto_bench.metrics.bootstrap`; this module applies it to a
:class:`~toto_bench.boards.leaderboard.Leaderboard`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from toto_bench.boards.leaderboard import Leaderboard
from toto_bench.metrics.bootstrap import (
    METRICS,
    Aggregate,
    bootstrap_aggregates,
    draw_indices,
    percentile_interval,
    prob_better,
    win_rates,
)

__all__ = ["BoardStatistics", "board_statistics"]


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
