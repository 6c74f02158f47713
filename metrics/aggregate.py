"""Aggregation primitives for leaderboards: (shifted) geometric means, imputation, per-task ranks.

All functions are pure and vectorised (numpy / pandas only; scipy is not a runtime dependency).
Semantics follow the upstream leaderboard code they reproduce:

- :func:`shifted_gmean`: ``exp(mean(log(x + eps))) - eps`` (BOOM, DataDog/toto:boom/utils/leaderboard.py).
- :func:`gmean`: ``scipy.stats.gmean`` semantics (GIFT-Eval space).
- :func:`nan_gmean`: ``scipy.stats.gmean`` of the non-NaN values (TIME ``compute_local_leaderboard.py``).
- :func:`impute_column_mean`: ``±inf → NaN`` then ``NaN → column mean`` (BOOM, per model and split).
- :func:`rank_within` / :func:`rank_columns`: pandas ``rank`` within each task, ``method="first"``
  (ties go to the model that comes first in the model order) or ``"average"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "SGM_EPS",
    "Ties",
    "check_ties",
    "frame_shifted_gmean",
    "gmean",
    "impute_column_mean",
    "nan_gmean",
    "nonfinite_count",
    "rank_columns",
    "rank_within",
    "shifted_gmean",
]

#: The BOOM shifted-geometric-mean epsilon (added inside the log, subtracted at the end).
SGM_EPS: float = 1e-5

#: How rank ties are broken: ``"first"`` = pandas ``method="first"`` (earlier model in the model order
#: gets the better rank; what every published board uses), ``"average"`` = pandas ``method="average"``
#: (tied models share the mean of their ranks; order-independent, the principled alternative).
Ties = Literal["first", "average"]
_TIES: tuple[str, ...] = get_args(Ties)


def check_ties(ties: str) -> Ties:
    """Validate a ``ties`` argument and return it typed; raise ``ValueError`` naming the valid values."""
    if ties not in _TIES:
        raise ValueError(f"ties={ties!r} is not supported; valid values: {', '.join(map(repr, _TIES))}")
    return ties  # type: ignore[return-value]


def _as_1d(x: npt.ArrayLike) -> np.ndarray:
    return np.asarray(x, dtype=np.float64).reshape(-1)


def shifted_gmean(x: npt.ArrayLike, eps: float = SGM_EPS) -> float:
    """Shifted geometric mean ``exp(mean(log(x_i + eps))) - eps`` of all values of ``x`` (flattened).

    ``eps`` is added inside the log and subtracted at the end (BOOM protocol §6.7). NaN propagates;
    an empty input gives NaN.
    """
    a = _as_1d(x)
    if a.size == 0:
        return float("nan")
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.exp(np.mean(np.log(a + eps))) - eps)


def frame_shifted_gmean(df: pd.DataFrame, eps: float = SGM_EPS) -> pd.Series:
    """Column-wise :func:`shifted_gmean` of a ``[rows × columns]`` frame → Series indexed by column.

    NaN propagates (a column with any NaN gives NaN); a frame with no rows gives NaN per column.
    """
    values = df.to_numpy(dtype=np.float64)
    if values.shape[0] == 0:
        return pd.Series(np.nan, index=df.columns, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.exp(np.mean(np.log(values + eps), axis=0)) - eps
    return pd.Series(out, index=df.columns, dtype=np.float64)


def gmean(x: npt.ArrayLike) -> float:
    """Geometric mean with ``scipy.stats.gmean`` semantics: ``exp(mean(log(x)))`` over all values.

    A zero gives 0, a negative value or a NaN gives NaN, ``inf`` gives ``inf``; empty input gives NaN.
    """
    a = _as_1d(x)
    if a.size == 0:
        return float("nan")
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.exp(np.mean(np.log(a))))


def nan_gmean(x: npt.ArrayLike) -> float:
    """:func:`gmean` of the non-NaN values of ``x`` (NaN when there are none).

    ``±inf`` are not dropped (the TIME board turns them into NaN before aggregating).
    """
    a = _as_1d(x)
    return gmean(a[~np.isnan(a)])


def nonfinite_count(df: pd.DataFrame) -> pd.Series:
    """Number of NaN or ±inf cells per column of a numeric frame (what :func:`impute_column_mean` fills)."""
    return pd.Series((~np.isfinite(df.to_numpy(dtype=np.float64))).sum(axis=0), index=df.columns)


def impute_column_mean(df: pd.DataFrame) -> pd.DataFrame:
    """Replace ``±inf`` by NaN, then every NaN by the mean of its column's remaining (finite) values.

    Shapes and labels are kept. A column without any finite value stays all-NaN. This is exactly
    upstream BOOM's ``replace([inf, -inf], nan)`` + ``fillna(col.mean())``, applied per model and split.
    """
    values = df.to_numpy(dtype=np.float64, copy=True)
    values[~np.isfinite(values)] = np.nan
    out = pd.DataFrame(values, index=df.index, columns=df.columns)
    return out.fillna(out.mean(axis=0, skipna=True))


def rank_columns(wide: pd.DataFrame, ties: Ties = "first") -> pd.DataFrame:
    """Rank the values of each row across the columns (ascending, 1 = smallest).

    ``wide`` is ``[tasks × models]`` with the columns in model order; with ``ties="first"`` a tie goes
    to the column that comes first. NaN cells get a NaN rank and are not counted (pandas
    ``na_option="keep"``), so ranks run over the models present on that task.
    """
    check_ties(ties)
    return wide.rank(axis=1, method=ties, ascending=True, na_option="keep")


def rank_within(
    df: pd.DataFrame,
    by: str | Sequence[str],
    value: str,
    model_order: Sequence[str],
    ties: Ties = "first",
    *,
    model_col: str = "model",
) -> pd.Series:
    """Rank ``value`` within each group ``by`` of a long table, breaking ties by ``model_order``.

    Args:
        df: long table with (at least) columns ``by``, ``model_col`` and ``value``; one row per
            (group, model).
        by: the task key column(s) (e.g. ``"dataset"``).
        value: the column to rank ascending (smaller is better).
        model_order: every model of ``df[model_col]``; with ``ties="first"`` the model listed first
            gets the better rank (upstream: concatenation order + pandas ``method="first"``).
        ties: ``"first"`` or ``"average"``.

    Returns:
        float Series of ranks aligned with ``df.index`` (NaN values get NaN ranks).
    """
    check_ties(ties)
    position = {m: i for i, m in enumerate(model_order)}
    if len(position) != len(model_order):
        raise ValueError("model_order contains duplicate names")
    unknown = sorted(set(df[model_col]) - position.keys())
    if unknown:
        raise ValueError(f"models missing from model_order: {unknown[:5]} (model_order={list(model_order)})")
    pos = df[model_col].map(position)
    ordered = df.assign(_pos=pos.to_numpy()).sort_values("_pos", kind="mergesort")
    keys = [by] if isinstance(by, str) else list(by)
    ranks = ordered.groupby(keys, sort=False)[value].rank(method=ties, ascending=True, na_option="keep")
    return ranks.reindex(df.index)
