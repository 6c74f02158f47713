"""GIFT-Eval and TIME boards on small hand-computed cases.

GIFT-Eval: the leaderboard space's ``src/utils.py`` (``get_grouped_dfs`` / ``standardize_df``): NaN →
column mean over all rows of all models, / seasonal naive per config, ``scipy.stats.gmean``, ranks of
the normalised CRPS and MASE with ``method="first"`` over rows sorted by model name.
TIME: zqiao11/TIME:scripts/compute_local_leaderboard.py (shared docs/time_lsf_protocol.md §A.6).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import layouts
import numpy as np
import pandas as pd
import pytest

from toto_bench.boards.gift_eval_board import (
    GiftEvalProperties,
    frequency_name,
    gift_eval_breakdowns,
    hide_models,
)
from toto_bench.boards.leaderboard import gift_eval_leaderboard, time_leaderboard
from toto_bench.engine.results import ResultsError

NAN = float("nan")
INF = float("inf")


def _frame(rows: dict[str, tuple[float, float]]) -> pd.DataFrame:
    """{config: (MASE, CRPS)} → metric frame (index 'dataset')."""
    df = pd.DataFrame.from_dict(rows, orient="index", columns=["MASE", "CRPS"])
    df.index.name = "dataset"
    return df


# ------------------------------------------------------------------------------------------------
# GIFT-Eval

C1, C2, C3 = "ds_a/H/short", "ds_a/H/long", "ds_b/D/short"


def _gift_results(naive: str = "seasonal_naive") -> dict[str, pd.DataFrame]:
    return {
        naive: _frame({C1: (2.0, 0.4), C2: (4.0, 0.5), C3: (1.0, 0.2)}),
        "alpha": _frame({C1: (1.0, 0.2), C2: (2.0, 0.5), C3: (NAN, 0.1)}),
        "beta": _frame({C1: (2.0, NAN), C2: (8.0, 1.0), C3: (0.5, 0.4)}),
    }


def test_gift_eval_hand_case() -> None:
    lb = gift_eval_leaderboard(_gift_results())
    t = lb.table.set_index("model")
    assert list(lb.table.columns) == ["model", "MASE", "MASE_Rank", "CRPS", "CRPS_Rank"]
    assert list(t.index) == ["alpha", "seasonal_naive", "beta"]  # by CRPS rank (1, 2, 3), as the space shows
    assert lb.model_order == ["alpha", "beta", "seasonal_naive"]  # upstream: rows sorted by model name
    # NaN → mean over ALL 8 non-NaN MASE cells of all models = 20.5 / 8, then / naive
    fill_mase = 20.5 / 8
    assert t.at["alpha", "MASE"] == pytest.approx((0.5 * 0.5 * fill_mase) ** (1 / 3), rel=1e-12)
    assert t.at["beta", "MASE"] == pytest.approx((1.0 * 2.0 * 0.5) ** (1 / 3), rel=1e-12)
    assert t.at["seasonal_naive", "MASE"] == pytest.approx(1.0, rel=1e-15)
    fill_crps = (0.4 + 0.5 + 0.2 + 0.2 + 0.5 + 0.1 + 1.0 + 0.4) / 8  # 0.4125
    assert t.at["beta", "CRPS"] == pytest.approx((fill_crps / 0.4 * 2.0 * 2.0) ** (1 / 3), rel=1e-12)
    assert t.at["alpha", "CRPS"] == pytest.approx((0.5 * 1.0 * 0.5) ** (1 / 3), rel=1e-12)
    # normalised MASE: C1 alpha .5, beta 1, naive 1 (tie → beta, earlier by name);
    # C2 .5, 2, 1; C3 fill/1, .5, 1
    assert lb.config_ranks["MASE"].loc[C1].tolist() == [1.0, 2.0, 3.0]
    assert t.at["alpha", "MASE_Rank"] == pytest.approx((1 + 1 + 3) / 3)
    assert t.at["beta", "MASE_Rank"] == pytest.approx((2 + 3 + 1) / 3)
    assert t.at["seasonal_naive", "MASE_Rank"] == pytest.approx((3 + 2 + 2) / 3)
    # normalised CRPS: C1 .5, 1.03125, 1; C2 1, 2, 1 (alpha/naive tie → alpha); C3 .5, 2, 1
    assert lb.config_ranks["CRPS"].loc[C2].tolist() == [1.0, 3.0, 2.0]
    assert t.at["alpha", "CRPS_Rank"] == pytest.approx(1.0)
    assert t.at["beta", "CRPS_Rank"] == pytest.approx(3.0)
    assert t.at["seasonal_naive", "CRPS_Rank"] == pytest.approx(2.0)
    assert lb.imputed.to_dict(orient="index") == {
        "alpha": {"MASE": 1, "CRPS": 0},
        "beta": {"MASE": 0, "CRPS": 1},
        "seasonal_naive": {"MASE": 0, "CRPS": 0},
    }
    assert lb.split_sizes == {"configs": 3} and lb.breakdowns == {} and lb.board == "gift_eval"


HAND_PROPERTIES = GiftEvalProperties(
    entries={"ds_a": ("Energy", 7), "ds_b": ("Sales", 1)}, source="hand case"
)


def test_gift_eval_breakdowns_hand_case() -> None:
    lb = gift_eval_leaderboard(_gift_results())
    tabs = gift_eval_breakdowns(lb, HAND_PROPERTIES)
    assert list(tabs) == ["domain", "term_length", "frequency", "variate_type"]
    fill_mase, fill_crps = 20.5 / 8, 0.4125
    # domain: Energy = {C1, C2} (ds_a), Sales = {C3}; normalised values as in the hand case above
    mase, crps, rank = (tabs["domain"][m] for m in ("MASE", "CRPS", "CRPS_Rank"))
    assert list(mase.columns) == ["Energy", "Sales"] and list(mase.index) == [
        "alpha",
        "seasonal_naive",
        "beta",
    ]
    assert mase.at["alpha", "Energy"] == pytest.approx((0.5 * 0.5) ** 0.5, rel=1e-12)
    assert mase.at["alpha", "Sales"] == pytest.approx(fill_mase, rel=1e-12)
    assert crps.at["beta", "Energy"] == pytest.approx((fill_crps / 0.4 * 2.0) ** 0.5, rel=1e-12)
    # the CRPS rank of a group is the mean of the ranks over ALL models: C1 and C2 rank alpha 1,
    # naive 2 (C2: a tie with alpha, broken by name), beta 3
    assert rank.at["beta", "Energy"] == 3.0 and rank.at["seasonal_naive", "Energy"] == 2.0
    # frequency from the config key ('H' → Hourly, 'D' → Daily), term from its 3rd part
    assert list(tabs["frequency"]["MASE"].columns) == ["Daily", "Hourly"]
    assert list(tabs["term_length"]["CRPS"].columns) == ["long", "short"]
    assert tabs["term_length"]["MASE"].at["beta", "long"] == pytest.approx(2.0, rel=1e-12)
    # variate type from num_variates (ds_a has 7 → multivariate); same configs as the domain split here
    pd.testing.assert_frame_equal(
        tabs["variate_type"]["MASE"].rename(columns={"multivariate": "Energy", "univariate": "Sales"}), mase
    )


@pytest.mark.parametrize(
    ("freq", "name"),
    [("15T", "Minutely"), ("5T", "Minutely"), ("10S", "Secondly"), ("H", "Hourly"), ("W-SUN", "Weekly"),
     ("A", "Yearly"), ("A-DEC", "Yearly"), ("Q", "Quarterly"), ("M", "Monthly"), ("D", "Daily")],
)  # fmt: skip
def test_frequency_names_follow_the_space_unify_freq(freq: str, name: str) -> None:
    assert frequency_name(freq) == name


def test_hidden_rows_keep_every_number_of_the_full_board() -> None:
    lb = gift_eval_leaderboard(_gift_results())
    lb = dataclasses.replace(lb, metric_breakdowns=gift_eval_breakdowns(lb, HAND_PROPERTIES))
    shown = hide_models(lb, ["beta", "seasonal_naive"])
    assert list(shown.table["model"]) == ["seasonal_naive", "beta"]
    full = lb.table.set_index("model")
    pd.testing.assert_frame_equal(shown.table.set_index("model"), full.loc[["seasonal_naive", "beta"]])
    assert list(shown.metric_breakdowns["domain"]["CRPS_Rank"].index) == ["seasonal_naive", "beta"]
    assert list(shown.imputed.index) == ["beta", "seasonal_naive"]


def test_gift_eval_tie_order_upstream_name_sort_and_average() -> None:
    # Upstream's naive is called "Seasonal_Naive": uppercase sorts first, so it wins ties.
    lb = gift_eval_leaderboard(_gift_results("Seasonal_Naive"))
    assert lb.model_order == ["Seasonal_Naive", "alpha", "beta"]
    assert lb.config_ranks["MASE"].loc[C1].tolist() == [2.0, 1.0, 3.0]
    assert lb.table.set_index("model").at["beta", "MASE_Rank"] == pytest.approx((3 + 3 + 1) / 3)
    # an explicit order (e.g. order_models) puts naive last again
    lb2 = gift_eval_leaderboard(
        _gift_results("Seasonal_Naive"), model_order=["alpha", "beta", "Seasonal_Naive"]
    )
    assert list(lb2.config_ranks["MASE"].columns) == ["alpha", "beta", "Seasonal_Naive"]
    assert lb2.config_ranks["MASE"].loc[C1].tolist() == [1.0, 2.0, 3.0]
    avg = gift_eval_leaderboard(_gift_results(), ties="average")
    assert avg.config_ranks["MASE"].loc[C1].tolist() == [1.0, 2.5, 2.5]
    assert avg.config_ranks["CRPS"].loc[C2].tolist() == [1.5, 3.0, 1.5]


def test_gift_eval_filters_and_errors() -> None:
    lb = gift_eval_leaderboard(_gift_results(), exclude_datasets=["ds_b"])
    assert lb.split_sizes == {"configs": 2}
    assert lb.table.set_index("model").at["alpha", "MASE"] == pytest.approx(0.5)
    short = gift_eval_leaderboard(_gift_results(), terms=["short"])
    assert list(short.config_ranks["MASE"].index) == [C1, C3]
    assert short.split_sizes == {"configs": 2}
    # a model may lack configs: it is ranked only where present
    res = _gift_results()
    res["gamma"] = _frame({C1: (0.1, 0.1)})
    g = gift_eval_leaderboard(res).table.set_index("model")
    assert g.at["gamma", "MASE_Rank"] == 1.0 and g.at["gamma", "MASE"] == pytest.approx(0.05)
    # a config without a naive row cannot be normalised
    res2 = _gift_results()
    res2["alpha"] = pd.concat([res2["alpha"], _frame({"ds_c/W/short": (1.0, 1.0)})])
    with pytest.raises(ResultsError, match=r"1 config\(s\) have no 'seasonal_naive' row.*ds_c/W/short"):
        gift_eval_leaderboard(res2)
    with pytest.raises(ValueError, match="no seasonal-naive model"):
        gift_eval_leaderboard({"alpha": _gift_results()["alpha"]})
    bad_ties: Any = "dense"
    with pytest.raises(ValueError, match="ties='dense'"):
        gift_eval_leaderboard(_gift_results(), ties=bad_ties)


def test_gift_eval_accepts_raw_csv_tables() -> None:
    raw = {
        m: df.reset_index()
        .rename(
            columns={"MASE": "eval_metrics/MASE[0.5]", "CRPS": "eval_metrics/mean_weighted_sum_quantile_loss"}
        )
        .assign(model="ignored", domain="Econ/Fin")
        for m, df in _gift_results().items()
    }
    pd.testing.assert_frame_equal(
        gift_eval_leaderboard(raw).table, gift_eval_leaderboard(_gift_results()).table
    )


# ------------------------------------------------------------------------------------------------
# TIME

T1, T2, T3, T4 = "A/H/short", "A/H/long", "B/D/short", "C/W/short"


def _time_results() -> dict[str, pd.DataFrame]:
    return {
        "seasonal_naive": _frame({T1: (2.0, 0.5), T2: (1.0, 0.2), T3: (0.0, 0.4)}),  # no row for T4
        "m1": _frame({T1: (1.0, 0.25), T2: (1.0, 0.4), T3: (3.0, 0.2), T4: (5.0, 0.1)}),
        "m2": _frame({T1: (4.0, 0.5), T2: (NAN, 0.1), T3: (1.0, INF), T4: (2.0, 0.3)}),
    }


def test_time_hand_case() -> None:
    lb = time_leaderboard(_time_results())
    assert list(lb.table.columns) == ["model", "MASE (norm.)", "CRPS (norm.)", "MASE_rank", "CRPS_rank"]
    assert lb.model_order == ["m1", "m2", "seasonal_naive"]  # order_models: naive last
    assert list(lb.table["model"]) == ["m1", "seasonal_naive", "m2"]  # by normalised MASE
    t = lb.table.set_index("model")
    # normalised MASE: T3 baseline 0 → NaN for all; m2 T2 NaN; T4 has no baseline → dropped
    assert t.at["m1", "MASE (norm.)"] == pytest.approx(math.sqrt(0.5 * 1.0), rel=1e-12)
    assert t.at["m2", "MASE (norm.)"] == pytest.approx(2.0, rel=1e-12)
    assert t.at["seasonal_naive", "MASE (norm.)"] == pytest.approx(1.0)
    # normalised CRPS: m1 .5, 2, .5; m2 1, .5, inf → NaN
    assert t.at["m1", "CRPS (norm.)"] == pytest.approx(2 ** (-1 / 3), rel=1e-12)
    assert t.at["m2", "CRPS (norm.)"] == pytest.approx(math.sqrt(0.5), rel=1e-12)
    # ranks on RAW values (T3 MASE is ranked although its normalised values are all NaN),
    # averaged over the tasks with a baseline (T1-T3, not T4)
    assert lb.config_ranks["MASE"].loc[T3].tolist() == [3.0, 2.0, 1.0]
    assert lb.config_ranks["MASE"].loc[T2, ["m1", "seasonal_naive"]].tolist() == [1.0, 2.0]  # tie → m1
    assert math.isnan(lb.config_ranks["MASE"].at[T2, "m2"])
    assert lb.config_ranks["MASE"].loc[T4, ["m1", "m2"]].tolist() == [2.0, 1.0]
    assert t.at["m1", "MASE_rank"] == pytest.approx((1 + 1 + 3) / 3)
    assert t.at["m2", "MASE_rank"] == pytest.approx((3 + 2) / 2)
    assert t.at["seasonal_naive", "MASE_rank"] == pytest.approx((2 + 2 + 1) / 3)
    assert lb.config_ranks["CRPS"].loc[T1].tolist() == [1.0, 2.0, 3.0]  # m2 == naive → m2 first
    assert lb.config_ranks["CRPS"].loc[T3].tolist() == [1.0, 3.0, 2.0]  # raw inf is ranked last
    assert t.at["m1", "CRPS_rank"] == pytest.approx((1 + 3 + 1) / 3)
    assert t.at["m2", "CRPS_rank"] == pytest.approx((2 + 1 + 3) / 3)
    assert t.at["seasonal_naive", "CRPS_rank"] == pytest.approx((3 + 2 + 2) / 3)
    assert lb.imputed.to_dict(orient="index") == {
        "m1": {"MASE_dropped": 1, "CRPS_dropped": 0},
        "m2": {"MASE_dropped": 2, "CRPS_dropped": 1},
        "seasonal_naive": {"MASE_dropped": 1, "CRPS_dropped": 0},
    }
    assert lb.split_sizes == {"configs": 3} and lb.board == "time"
    assert set(lb.config_values["MASE"].index) == {T1, T2, T3}


def test_time_average_ties_and_order() -> None:
    avg = time_leaderboard(_time_results(), ties="average")
    assert avg.config_ranks["MASE"].loc[T2, ["m1", "seasonal_naive"]].tolist() == [1.5, 1.5]
    assert avg.config_ranks["CRPS"].loc[T1].tolist() == [1.0, 2.5, 2.5]
    # normalised values do not depend on the tie rule
    t_avg, t_first = avg.table.set_index("model"), time_leaderboard(_time_results()).table.set_index("model")
    cols = ["MASE (norm.)", "CRPS (norm.)"]
    pd.testing.assert_frame_equal(t_avg.loc[t_first.index, cols], t_first[cols])
    rev = time_leaderboard(_time_results(), model_order=["seasonal_naive", "m2", "m1"])
    assert rev.config_ranks["MASE"].loc[T2, ["m1", "seasonal_naive"]].tolist() == [2.0, 1.0]
    with pytest.raises(ValueError, match="model_order must list every model"):
        time_leaderboard(_time_results(), model_order=["m1", "m2"])


def test_time_naive_name_and_missing_models() -> None:
    res = _time_results()
    res["seasonalnaive"] = res.pop("seasonal_naive")
    assert time_leaderboard(res).model_order[-1] == "seasonalnaive"
    res["m3"] = _frame({T4: (1.0, 1.0)})  # only a task without baseline: not on the board (upstream)
    lb = time_leaderboard(res)
    assert "m3" not in set(lb.table["model"]) and "m3" in lb.model_order
    custom = {"base": res["seasonalnaive"], "m1": res["m1"]}
    lb2 = time_leaderboard(custom, naive_model="base")
    assert lb2.table.set_index("model").at["base", "MASE (norm.)"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="naive_model='nope' is not among the models"):
        time_leaderboard(custom, naive_model="nope")
    assert np.isnan(time_leaderboard({"seasonal_naive": _frame({T1: (0.0, 0.0)})}).table.iloc[0, 1])


# ------------------------------------------------------------------------------------------------
# Tie order of the boards built from results folders: each suite's own, never BOOM's published order


def test_gift_eval_board_breaks_ties_by_model_name_not_boom_order(tmp_path: Any) -> None:
    """Issue 11's repro: ``visionts`` is early in BOOM's published order, ``aaa`` is not; identical
    results must tie-break like the space (rows sorted by model name), so ``aaa`` ranks first."""
    from toto_bench.boards.document import compute_board
    from toto_bench.suites.boom import PUBLISHED_MODEL_ORDER

    assert "visionts" in PUBLISHED_MODEL_ORDER and "aaa" not in PUBLISHED_MODEL_ORDER
    root = tmp_path / "results"
    for name, seed in (("aaa", 1), ("visionts", 1), ("seasonal_naive", 0)):
        layouts.write_gift_eval_results(root / name, name, seed=seed)
    board = compute_board(suite="gift-eval", results_dirs=[root], ties="first")
    ranks = board.config_ranks["CRPS"]
    assert (ranks["aaa"] < ranks["visionts"]).all()  # aaa wins every tie
    table = board.table.set_index("model")
    assert table.at["aaa", "CRPS_Rank"] < table.at["visionts", "CRPS_Rank"]
    assert table.at["aaa", "CRPS"] == table.at["visionts", "CRPS"]  # the values themselves are equal


def test_time_board_default_tie_order_is_model_names_with_naive_last() -> None:
    lb = time_leaderboard(_time_results())
    assert lb.model_order == [*sorted(set(lb.model_order) - {"seasonal_naive"}), "seasonal_naive"]
