"""Aggregation primitives: shifted gmean, (NaN-)gmean, column-mean imputation, ranks with tie orders."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from toto_bench.metrics.aggregate import (
    SGM_EPS,
    check_ties,
    frame_shifted_gmean,
    gmean,
    impute_column_mean,
    nan_gmean,
    nonfinite_count,
    rank_columns,
    rank_within,
    shifted_gmean,
)

EPS = 1e-5
_BAD_TIES: Any = "dense"  # not a valid Ties value


def test_shifted_gmean_hand_values() -> None:
    assert SGM_EPS == EPS
    # eps added inside the log, subtracted at the end
    assert shifted_gmean([1.0, 4.0]) == pytest.approx(math.sqrt((1 + EPS) * (4 + EPS)) - EPS, rel=1e-15)
    assert shifted_gmean([0.0, 1.0]) == pytest.approx(math.sqrt(EPS * (1 + EPS)) - EPS, rel=1e-12)
    assert shifted_gmean([0.0, 1.0]) == pytest.approx(0.0031522935, abs=1e-10)
    # the "+eps at the end" variant would be different
    assert shifted_gmean([0.0, 1.0]) != pytest.approx(math.sqrt(EPS * (1 + EPS)), abs=1e-9)
    assert shifted_gmean([0.0, 0.0]) == pytest.approx(0.0, abs=1e-18)
    assert shifted_gmean([2.0, 2.0, 2.0]) == pytest.approx(2.0, rel=1e-14)
    assert shifted_gmean([3.0], eps=1.0) == pytest.approx(3.0)
    assert shifted_gmean([1.0, 9.0], eps=1.0) == pytest.approx(math.sqrt(20) - 1)


def test_shifted_gmean_nan_and_empty() -> None:
    assert math.isnan(shifted_gmean([1.0, float("nan")]))
    assert math.isnan(shifted_gmean([]))
    assert shifted_gmean([float("inf"), 1.0]) == float("inf")


def test_frame_shifted_gmean_matches_scalar() -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.gamma(1.0, 1.0, size=(50, 4)), columns=list("abcd"))
    df.iloc[3, 1] = 0.0
    out = frame_shifted_gmean(df)
    assert list(out.index) == list("abcd")
    for c in df.columns:
        assert out[c] == pytest.approx(shifted_gmean(df[c]), rel=1e-14)
        assert out[c] == pytest.approx(stats.gmean(df[c] + EPS) - EPS, rel=1e-12)
    assert frame_shifted_gmean(df.iloc[:0]).isna().all()


def test_gmean_scipy_semantics() -> None:
    rng = np.random.default_rng(1)
    x = rng.gamma(2.0, 1.0, size=100)
    assert gmean(x) == pytest.approx(stats.gmean(x), rel=1e-13)
    assert gmean([4.0, 1.0]) == 2.0
    assert gmean([0.0, 3.0]) == 0.0
    assert math.isnan(gmean([1.0, float("nan")]))
    assert math.isnan(gmean([-1.0, 1.0]))
    assert gmean([float("inf"), 1.0]) == float("inf")
    assert math.isnan(gmean([]))


def test_nan_gmean() -> None:
    assert nan_gmean([float("nan"), 2.0, 8.0]) == pytest.approx(4.0)
    assert math.isnan(nan_gmean([float("nan"), float("nan")]))
    assert math.isnan(nan_gmean([]))
    x = np.array([0.5, np.nan, 2.0, 3.0, np.nan])
    assert nan_gmean(x) == pytest.approx(stats.gmean(x[~np.isnan(x)]), rel=1e-14)
    assert nan_gmean(pd.Series([1.0, np.nan, 9.0])) == pytest.approx(3.0)


def test_impute_column_mean_hand_case() -> None:
    df = pd.DataFrame(
        {
            "a": [1.0, np.nan, 3.0, np.inf],
            "b": [-np.inf, 2.0, 4.0, 6.0],
            "c": [np.nan] * 4,
            "d": [1.0, 2.0, 3.0, 4.0],
        },
        index=["w", "x", "y", "z"],
    )
    assert nonfinite_count(df).to_dict() == {"a": 2, "b": 1, "c": 4, "d": 0}
    out = impute_column_mean(df)
    assert list(out.index) == list(df.index) and list(out.columns) == list(df.columns)
    assert out["a"].tolist() == [1.0, 2.0, 3.0, 2.0]  # inf → NaN → mean(1, 3)
    assert out["b"].tolist() == [4.0, 2.0, 4.0, 6.0]  # -inf → mean(2, 4, 6)
    assert out["c"].isna().all()  # nothing to impute from
    assert out["d"].tolist() == df["d"].tolist()
    assert np.isinf(df.at["z", "a"])  # input untouched


def test_rank_within_tie_order_and_average() -> None:
    df = pd.DataFrame(
        {
            "dataset": ["c1", "c1", "c1", "c2", "c2", "c2"],
            "model": ["naive", "m1", "m2", "m2", "naive", "m1"],
            "crps": [1.0, 1.0, 0.5, 2.0, 2.0, np.nan],
        }
    )
    first = rank_within(df, "dataset", "crps", ["m1", "m2", "naive"])
    assert first.tolist()[:3] == [3.0, 2.0, 1.0]  # c1: m2 best; m1 ahead of naive in the order
    assert first.tolist()[3:5] == [1.0, 2.0] and math.isnan(first.iloc[5])  # NaN is not ranked
    rev = rank_within(df, "dataset", "crps", ["naive", "m2", "m1"])
    assert rev.tolist()[:3] == [2.0, 3.0, 1.0]
    assert rev.tolist()[3:5] == [2.0, 1.0]
    avg = rank_within(df, "dataset", "crps", ["m1", "m2", "naive"], ties="average")
    assert avg.tolist()[:5] == [2.5, 2.5, 1.0, 1.5, 1.5]
    assert list(first.index) == list(df.index)


def test_rank_within_errors() -> None:
    df = pd.DataFrame({"dataset": ["c"], "model": ["x"], "v": [1.0]})
    with pytest.raises(ValueError, match=r"missing from model_order: \['x'\]"):
        rank_within(df, "dataset", "v", ["y"])
    with pytest.raises(ValueError, match="duplicate"):
        rank_within(df, "dataset", "v", ["x", "x"])
    with pytest.raises(ValueError, match=r"ties='dense'.*'first', 'average'"):
        rank_within(df, "dataset", "v", ["x"], ties=_BAD_TIES)
    with pytest.raises(ValueError, match="'first', 'average'"):
        check_ties("max")


@pytest.mark.parametrize("ties", ["first", "average"])
def test_rank_columns_equals_rank_within(ties: Any) -> None:
    rng = np.random.default_rng(2)
    models = ["m3", "m1", "naive", "m2"]
    wide = pd.DataFrame(
        rng.integers(0, 3, size=(40, 4)).astype(float), columns=models, index=[f"c{i}" for i in range(40)]
    )
    wide.iloc[5, 2] = np.nan
    wide_ranks = rank_columns(wide, ties)
    long = wide.stack(future_stack=True).rename("v").reset_index()
    long.columns = ["dataset", "model", "v"]
    long = long.sample(frac=1.0, random_state=0)  # row order must not matter
    r = rank_within(long, "dataset", "v", models, ties)
    back = long.assign(r=r).pivot(index="dataset", columns="model", values="r").loc[wide.index, models]
    pd.testing.assert_frame_equal(back, wide_ranks, check_names=False)
    if ties == "first":  # a permutation of 1..n on rows without NaN
        full = wide_ranks.dropna()
        assert (np.sort(full.to_numpy(), axis=1) == np.arange(1, 5)).all()
