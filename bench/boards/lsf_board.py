"""The LSF board: MSE/MAE per (dataset, horizon) and their four-horizon averages, as LSF papers print them.

Input: ``{model: frame}`` indexed by ``"<dataset>/<horizon>"`` (``ETTh1/96``) with ``MSE`` and ``MAE`` columns
(``<dir>/<model>/all_results.csv`` of ``toto-bench run --suite lsf``). Output tables (one pair of columns
``<model> MSE``, ``<model> MAE`` per model, models sorted by name):

- board: one row per dataset, the arithmetic mean over its horizons (the union of the horizons any model has;
  a model lacking one of them gets NaN rather than an average over fewer horizons), then, with several
  datasets, a ``mean`` row over datasets (NaN for a model lacking a dataset);
- per horizon: one row per (dataset, horizon).

No normalisation and no ranks: LSF papers compare raw errors on z-scored data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from toto_bench.boards.leaderboard import Leaderboard
from toto_bench.suites.lsf import split_key

__all__ = ["lsf_leaderboard"]

_METRICS = ("MSE", "MAE")


def lsf_leaderboard(results: Mapping[str, pd.DataFrame], *, dataset_order: Sequence[str] = ()) -> Leaderboard:
    """Compute the LSF board (module docstring).

    Args:
        results: ``{model: frame}``, index ``<dataset>/<horizon>``, columns ``MSE``, ``MAE``.
        dataset_order: preferred row order of datasets; others follow sorted.

    Returns:
        :class:`Leaderboard` with ``table`` = the horizon-averaged board (columns ``dataset, horizons,
        <model> MSE, <model> MAE, ...``), ``config_values["per_horizon"]`` = the per-(dataset, horizon) table,
        ``board="lsf"``, no breakdowns and nothing imputed.

    Raises:
        ValueError: no results, a malformed key, or a frame without ``MSE``/``MAE``.
    """
    if not results:
        raise ValueError("no results given")
    models = sorted(results)
    cells: dict[str, dict[tuple[str, int], tuple[float, float]]] = {}
    for model in models:
        frame = results[model]
        absent = [m for m in _METRICS if m not in frame.columns]
        if absent:
            raise ValueError(f"model {model!r}: no {absent} column(s); columns {list(frame.columns)}")
        cells[model] = {
            split_key(key): (float(mse), float(mae))
            for key, mse, mae in zip(frame.index, frame["MSE"], frame["MAE"], strict=True)
        }
    names = {name for c in cells.values() for name, _ in c}
    order = [d for d in dataset_order if d in names] + sorted(names - set(dataset_order))
    horizons = {d: sorted({h for c in cells.values() for name, h in c if name == d}) for d in order}

    def values(model: str, keys: list[tuple[str, int]]) -> np.ndarray:
        return np.array([cells[model].get(k, (np.nan, np.nan)) for k in keys], dtype=np.float64).reshape(
            -1, 2
        )

    keys = [(d, h) for d in order for h in horizons[d]]
    per_horizon = pd.DataFrame({"dataset": [d for d, _ in keys], "horizon": [h for _, h in keys]})
    board = pd.DataFrame({"dataset": order, "horizons": ["/".join(map(str, horizons[d])) for d in order]})
    for model in models:
        v = values(model, keys)
        per_horizon[f"{model} MSE"], per_horizon[f"{model} MAE"] = v[:, 0], v[:, 1]
        avg = np.array([values(model, [(d, h) for h in horizons[d]]).mean(axis=0) for d in order])
        board[f"{model} MSE"], board[f"{model} MAE"] = avg[:, 0], avg[:, 1]
    if len(order) > 1:
        mean_row: dict[str, object] = {"dataset": "mean", "horizons": ""}
        for column in board.columns[2:]:
            mean_row[column] = float(board[column].mean(skipna=False))
        board = pd.concat([board, pd.DataFrame([mean_row])], ignore_index=True)
    imputed = pd.DataFrame(index=pd.Index(models, name="model"))
    return Leaderboard(
        table=board,
        breakdowns={},
        imputed=imputed,
        model_order=models,
        split_sizes={"configs": len(keys), "datasets": len(order)},
        config_values={"per_horizon": per_horizon},
        board="lsf",
    )
