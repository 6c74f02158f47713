"""BOOM / BOOMLET leaderboard: exact regeneration of the published boards (oracle data in the shared folder).

Oracle: ``<repo>/../shared/data/boom`` (DataDog/toto@46bd92a artifacts + d0c2dc0 snapshot + derived lists;
see its MANIFEST.md). Published values are rounded to 3 decimals; ours are compared after Python
``round(x, 3)``, numerically.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from toto_bench.boards.leaderboard import Leaderboard, boom_leaderboard, order_models
from toto_bench.engine.results import ResultsError, load_results
from toto_bench.suites.boom import (
    LOW_VARIANCE_DATASETS,
    PUBLISHED_MODEL_ORDER,
    BoomProperties,
    boom_configs,
)

SHARED = Path(__file__).parents[1].parent / "shared"
BOOM = SHARED / "data" / "boom"
SNAP = BOOM / "snapshot_d0c2dc0"

pytestmark = pytest.mark.skipif(
    not BOOM.is_dir(), reason=f"shared BOOM oracle data not found at {BOOM} (expected next to the repo)"
)

GROUPS = ("full_benchmark", "real_term", "type", "domain")

# boom_protocol.md §8.1: the published HEAD boomlet board and breakdowns exchange toto_2.0_2.5b and
# toto_2.0_1b in exactly these cells (8 pairs = 16 cells). (file stem, column).
EXCHANGED = (
    ("boomlet_leaderboard", "MASE-90-scaled"),
    ("real_term_MASE_shifted_gmean", "short"),
    ("real_term_CRPS_shifted_gmean", "medium"),
    ("type_CRPS_shifted_gmean", "distribution"),
    ("type_CRPS_shifted_gmean", "rate"),
    ("domain_MASE_shifted_gmean", "Networking"),
    ("domain_MASE_shifted_gmean", "Security"),
    ("domain_CRPS_shifted_gmean", "Security"),
)
SWAPPED = ("toto_2.0_2.5b", "toto_2.0_1b")
KNOWN_BAD = frozenset((stem, model, col) for stem, col in EXCHANGED for model in SWAPPED)


def _r3(x: float) -> float:
    return round(float(x), 3)


def _mismatches(ours: pd.DataFrame, published: pd.DataFrame, stem: str) -> set[tuple[str, str, str]]:
    """Cells (stem, row, column) where round(ours, 3) != published; labels must match exactly."""
    assert list(ours.index) == list(published.index), f"{stem}: row order differs"
    assert list(ours.columns) == list(published.columns), f"{stem}: columns differ"
    bad = set()
    for row in published.index:
        for col in published.columns:
            if not abs(_r3(ours.at[row, col]) - float(published.at[row, col])) <= 1e-9:
                bad.add((stem, str(row), str(col)))
    return bad


def _compare_board(lb: Leaderboard, leaderboards_dir: Path, suite: str) -> set[tuple[str, str, str]]:
    pub = pd.read_csv(leaderboards_dir / f"{suite}_leaderboard.csv")
    assert list(lb.table.columns) == list(pub.columns)
    assert list(lb.table["model"]) == list(pub["model"]), "row order differs"
    assert isinstance(lb.table.index, pd.RangeIndex)
    return _mismatches(lb.table.set_index("model"), pub.set_index("model"), f"{suite}_leaderboard")


def _compare_breakdowns(lb: Leaderboard, breakdown_dir: Path) -> set[tuple[str, str, str]]:
    assert set(lb.breakdowns) == set(GROUPS)
    bad: set[tuple[str, str, str]] = set()
    n_cells = 0
    for group in GROUPS:
        for metric, table in zip(("MASE", "CRPS"), lb.breakdowns[group], strict=True):
            stem = f"{group}_{metric}_shifted_gmean"
            pub = pd.read_csv(breakdown_dir / f"{stem}.csv", index_col=0)
            assert table.index.name == "model" == pub.index.name
            bad |= _mismatches(table, pub, stem)
            n_cells += pub.size
    assert n_cells == 598
    return bad


@pytest.fixture(scope="module")
def boom_props() -> BoomProperties:
    return BoomProperties.from_json(BOOM / "boom_properties.json")


@pytest.fixture(scope="module")
def boomlet_props() -> BoomProperties:
    return BoomProperties.from_json(BOOM / "boomlet_properties.json")


@pytest.fixture(scope="module")
def head_results(boom_props: BoomProperties) -> dict[str, pd.DataFrame]:
    return load_results(BOOM / "results", expected_configs=boom_props.configs())


@pytest.fixture(scope="module")
def head_boom(head_results: dict[str, pd.DataFrame], boom_props: BoomProperties) -> Leaderboard:
    return boom_leaderboard(head_results, boom_props, suite="boom")


@pytest.fixture(scope="module")
def head_boomlet(head_results: dict[str, pd.DataFrame], boomlet_props: BoomProperties) -> Leaderboard:
    return boom_leaderboard(head_results, boomlet_props, suite="boomlet")


# ------------------------------------------------------------------------------------------------
# constants and properties


def test_low_variance_constant_matches_upstream_list() -> None:
    derived = json.loads((BOOM / "derived" / "low_variance_datasets.json").read_text())["datasets"]
    assert list(LOW_VARIANCE_DATASETS) == derived
    assert len(set(LOW_VARIANCE_DATASETS)) == 80


def test_published_model_order_constant_matches_tie_break_file() -> None:
    lines = (BOOM / "derived" / "tie_break_model_order.txt").read_text().split()
    assert [*PUBLISHED_MODEL_ORDER, "seasonalnaive"] == lines
    published = sorted(p.name for p in (BOOM / "results").iterdir())
    assert order_models(published) == lines


def test_order_models_respects_all_forced_pairs() -> None:
    order = order_models(p.name for p in (BOOM / "results").iterdir())
    pos = {m: i for i, m in enumerate(order)}
    pairs = [
        ln.split(" < ")
        for ln in (BOOM / "derived" / "tie_break_forced_pairs.txt").read_text().splitlines()
        if ln
    ]
    assert len(pairs) == 116
    for a, b in pairs:
        assert pos[a] < pos[b], (a, b)


def test_order_models_rule() -> None:
    names = ["zeta", "seasonal_naive", "toto", "alpha", "visionts"]
    assert order_models(names) == ["visionts", "toto", "alpha", "zeta", "seasonal_naive"]
    assert order_models(["b", "seasonalnaive", "a"]) == ["a", "b", "seasonalnaive"]
    with pytest.raises(ValueError, match="several seasonal-naive"):
        order_models(["seasonalnaive", "seasonal_naive"])
    with pytest.raises(ValueError, match="duplicate"):
        order_models(["a", "a"])


@pytest.mark.parametrize(
    ("props_file", "expected_file", "n"),
    [
        ("boom_properties.json", "expected_configs_boom.txt", 7413),
        ("boomlet_properties.json", "expected_configs_boomlet.txt", 96),
    ],
)
def test_config_enumeration(props_file: str, expected_file: str, n: int) -> None:
    props = BoomProperties.from_json(BOOM / props_file)
    configs = boom_configs(props)
    assert configs == (BOOM / "derived" / expected_file).read_text().split()
    assert len(configs) == n == len(set(configs))
    assert configs[:3] == [f"{next(iter(props))}/Short/{t}" for t in ("short", "medium", "long")]


def test_properties_entries(boom_props: BoomProperties, boomlet_props: BoomProperties) -> None:
    assert len(boom_props) == 2807 and len(boomlet_props) == 32
    assert set(boomlet_props) <= set(boom_props)
    assert boom_props["ds-3-10S"].domain == ("Infrastructure",)
    assert boomlet_props["ds-3-10S"].domain == ("Application Usage", "Infrastructure")
    assert sum(p.term == "short" for p in boom_props.values()) == 504
    with pytest.raises(KeyError, match="ds-nope"):
        boom_props["ds-nope"]


@pytest.mark.parametrize(
    ("entry", "match"),
    [
        (
            {"domain": ["X"], "frequency": "Hourly", "num_variates": 1, "term": "long", "type": "gauge"},
            "Hourly",
        ),
        (
            {"domain": ["X"], "frequency": "Short", "num_variates": 1, "term": "medium", "type": "gauge"},
            "medium",
        ),
        ({"domain": [], "frequency": "Short", "num_variates": 1, "term": "long", "type": "gauge"}, "domain"),
        (
            {"domain": ["X"], "frequency": "Short", "num_variates": "2", "term": "long", "type": "gauge"},
            "'2'",
        ),
        ({"domain": ["X"], "frequency": "Short", "term": "long", "type": "gauge"}, "num_variates"),
    ],
)
def test_properties_validation(tmp_path: Path, entry: dict[str, object], match: str) -> None:
    f = tmp_path / "props.json"
    f.write_text(json.dumps({"ds-1-T": entry}))
    with pytest.raises(ValueError, match=match) as e:
        BoomProperties.from_json(f)
    assert "ds-1-T" in str(e.value) and str(f) in str(e.value)


def test_properties_unreadable(tmp_path: Path) -> None:
    f = tmp_path / "props.json"
    f.write_text("{not json")
    with pytest.raises(ValueError, match="cannot read BOOM properties"):
        BoomProperties.from_json(f)


# ------------------------------------------------------------------------------------------------
# HEAD oracle


def test_head_boom_leaderboard_exact(head_boom: Leaderboard) -> None:
    """All 138 cells and the row order of the published boom_leaderboard.csv."""
    assert _compare_board(head_boom, BOOM / "leaderboards", "boom") == set()
    assert head_boom.table.shape == (23, 7)


def test_head_boom_full_precision(head_boom: Leaderboard) -> None:
    """Full-precision values of the independent regeneration (boom_protocol §7)."""
    t = head_boom.table.set_index("model")
    assert t.at["toto_2.0_313m", "MASE-6750-scaled"] == pytest.approx(0.584579, abs=1e-6)
    assert t.at["toto_2.0_313m", "CRPS-6750-scaled"] == pytest.approx(0.351490, abs=1e-6)
    assert t.at["toto_2.0_313m", "Rank-6750-scaled"] == pytest.approx(4.258074, abs=1e-6)
    assert t.at["toto", "Rank-6750-scaled"] == pytest.approx(6.938815, abs=1e-6)
    assert t.at["seasonalnaive", "MASE-6750-scaled"] == pytest.approx(1.0, abs=1e-12)


def test_head_boomlet_and_breakdowns_match_except_known_exchanged_cells(
    head_boom: Leaderboard, head_boomlet: Leaderboard
) -> None:
    bad = _compare_board(head_boomlet, BOOM / "leaderboards", "boomlet")
    bad |= _compare_breakdowns(head_boom, BOOM / "breakdown_tabels")
    assert len(KNOWN_BAD) == 16
    assert bad == KNOWN_BAD
    # ...and they are exchanged pairs: our 2.5b value is the published 1b one and vice versa.
    pub = pd.read_csv(BOOM / "leaderboards" / "boomlet_leaderboard.csv", index_col="model")
    ours = head_boomlet.table.set_index("model")
    tables = {"boomlet_leaderboard": (ours, pub)}
    for group in GROUPS:
        for metric, table in zip(("MASE", "CRPS"), head_boom.breakdowns[group], strict=True):
            stem = f"{group}_{metric}_shifted_gmean"
            tables[stem] = (table, pd.read_csv(BOOM / "breakdown_tabels" / f"{stem}.csv", index_col=0))
    a, b = SWAPPED
    for stem, col in EXCHANGED:
        o, p = tables[stem]
        assert _r3(o.at[a, col]) == pytest.approx(p.at[b, col], abs=1e-9), (stem, col)
        assert _r3(o.at[b, col]) == pytest.approx(p.at[a, col], abs=1e-9), (stem, col)


def test_boomlet_has_no_breakdowns(head_boomlet: Leaderboard) -> None:
    assert head_boomlet.breakdowns == {}
    assert head_boomlet.board == "boomlet"


def test_flat_split_sizes(head_boom: Leaderboard, head_boomlet: Leaderboard) -> None:
    derived = json.loads((BOOM / "derived" / "flat_split.json").read_text())
    assert head_boom.flat_split_sizes == (253, 663, 6750)
    assert head_boomlet.flat_split_sizes == (2, 6, 90)
    assert head_boom.flat_datasets == sorted(derived["flat_split_boom"])
    assert head_boomlet.flat_datasets == sorted(derived["flat_split_boomlet"])
    assert (derived["n_configs_flat_boom"], derived["n_configs_nonflat_boom"]) == (663, 6750)
    assert head_boom.split_sizes["configs"] == 7413 and head_boomlet.split_sizes["configs"] == 96
    assert len(head_boom.config_ranks["nonflat"]) == 6750 and len(head_boom.config_ranks["flat"]) == 663


def test_imputed_counts_match_nonfinite_inventory(
    head_boom: Leaderboard, head_results: dict[str, pd.DataFrame]
) -> None:
    imp = head_boom.imputed
    assert list(imp.index) == head_boom.model_order
    assert list(imp.columns) == ["nonflat_MASE", "nonflat_CRPS", "flat_MAE", "flat_CRPS"]
    flat = set(head_boom.config_ranks["flat"].index)
    for model, df in head_results.items():
        is_flat = df.index.isin(list(flat))
        bad = ~np.isfinite(df.to_numpy())
        assert imp.at[model, "nonflat_MASE"] == bad[~is_flat, 0].sum()
        assert imp.at[model, "flat_MAE"] == bad[is_flat, 1].sum()
        assert imp.at[model, "nonflat_CRPS"] + imp.at[model, "flat_CRPS"] == bad[:, 2].sum()
    # toto has one all-NaN row in the non-flat split (boom_protocol §8.6)
    assert np.isnan(head_results["toto"].loc["ds-786-T/Short/long"]).all()
    assert imp.at["toto", "nonflat_MASE"] >= 1
    # after imputation and scaling nothing non-finite is left
    for values in head_boom.config_values.values():
        assert np.isfinite(values.to_numpy()).all()


def test_alphabetical_tie_order_changes_26_cells(
    head_results: dict[str, pd.DataFrame], boom_props: BoomProperties, head_boom: Leaderboard
) -> None:
    """boom_protocol §6.2: with alphabetical order (naive still last), 26 rank cells of the board differ."""
    names = [*sorted(m for m in head_results if m != "seasonalnaive"), "seasonalnaive"]
    alpha = boom_leaderboard(head_results, boom_props, suite="boom", model_order=names)
    assert alpha.model_order == names
    a = alpha.table.set_index("model").loc[head_boom.table["model"]]
    h = head_boom.table.set_index("model")
    diff = (a.map(_r3) - h.map(_r3)).abs() > 1e-9
    assert int(diff.to_numpy().sum()) == 26
    assert set(diff.columns[diff.any()]) == {"Rank-6750-scaled", "Rank-663-unscaled"}
    assert _r3(a.at["toto_2.0_4m", "Rank-663-unscaled"]) == 9.219


# ------------------------------------------------------------------------------------------------
# d0c2dc0 snapshot oracle: every cell


def test_d0c2dc0_snapshot_exact(boom_props: BoomProperties, boomlet_props: BoomProperties) -> None:
    configs = boom_props.configs()
    others = [p.name for p in (BOOM / "results").iterdir() if not p.name.startswith("toto_2.0_")]
    assert len(others) == 18
    results = load_results(BOOM / "results", expected_configs=configs, models=others)
    results |= load_results(SNAP / "results", expected_configs=configs)
    assert len(results) == 23
    boom = boom_leaderboard(results, boom_props, suite="boom")
    assert _compare_board(boom, SNAP / "leaderboards", "boom") == set()
    assert _compare_breakdowns(boom, SNAP / "breakdown_tabels") == set()
    boomlet = boom_leaderboard(results, boomlet_props, suite="boomlet")
    assert _compare_board(boomlet, SNAP / "leaderboards", "boomlet") == set()


# ------------------------------------------------------------------------------------------------
# a 24th model: a twin of a published model, in a second results directory


@pytest.mark.parametrize("twin_of", ["autoarima", "timer"])
def test_twin_model_ranks_with_first_ties(
    tmp_path: Path, boom_props: BoomProperties, head_boom: Leaderboard, twin_of: str
) -> None:
    """Invariants derived from method="first" with the twin X ordered after every published model but
    before seasonal naive (order_models), T = the model it copies:

    - every original model m gets +1 exactly on the configs where v_m > v_T, or v_m == v_T and m is
      seasonal naive (the only original model ordered after X); otherwise its rank is unchanged
      (in particular T's own ranks never change);
    - rank_X = 1 + #{original m: v_m < v_T} + #{original non-naive m: v_m == v_T}
             = rank_T + 1 + k, k = #{non-naive m ordered after T with v_m == v_T}; so rank_X == rank_T + 1
      exactly on the configs where no later-ordered published model ties with T;
    - mean ranks shift by the share of configs with the +1; sgm columns do not change.
    """
    twin = f"{twin_of}_twin"
    extra = tmp_path / "extra_results"
    (extra / twin).mkdir(parents=True)
    shutil.copy(BOOM / "results" / twin_of / "all_results.csv", extra / twin / "all_results.csv")
    results = load_results([BOOM / "results", extra], expected_configs=boom_props.configs())
    assert len(results) == 24
    new = boom_leaderboard(results, boom_props, suite="boom")
    naive = "seasonalnaive"
    assert new.model_order == [*PUBLISHED_MODEL_ORDER, twin, naive]

    old_t = head_boom.table.set_index("model")
    new_t = new.table.set_index("model")
    later = PUBLISHED_MODEL_ORDER[PUBLISHED_MODEL_ORDER.index(twin_of) + 1 :]
    for split, values_key in (("nonflat", "nonflat_CRPS"), ("flat", "flat_CRPS")):
        r0, r1 = head_boom.config_ranks[split], new.config_ranks[split]
        vals = new.config_values[values_key]
        v = vals[twin_of]
        assert (vals[twin] == v).all()
        shift = {}
        for m in head_boom.model_order:
            bump = (vals[m] > v) | ((vals[m] == v) & (m == naive))
            assert (r1[m] == r0[m] + bump.astype(float)).all(), (split, m)
            shift[m] = bump.mean()
        assert (r1[twin_of] == r0[twin_of]).all()
        originals = vals[head_boom.model_order]
        expected_x = (
            1
            + (originals.lt(v, axis=0)).sum(axis=1)
            + (originals.drop(columns=naive).eq(v, axis=0)).sum(axis=1)
        )
        assert (r1[twin] == expected_x).all()
        k = vals[list(later)].eq(v, axis=0).sum(axis=1)
        assert (r1[twin] == r1[twin_of] + 1 + k).all()
        assert (k == 0).sum() > 0
        if twin_of == "timer":  # timer and time_moe_50M (ordered later) tie on many configs
            assert (k > 0).sum() > 100
        n = len(r0)
        rank_col = f"Rank-{n}-scaled" if split == "nonflat" else f"Rank-{n}-unscaled"
        for m in head_boom.model_order:
            assert new_t.at[m, rank_col] == pytest.approx(old_t.at[m, rank_col] + shift[m], abs=1e-12)
        assert new_t.at[twin, rank_col] == pytest.approx(r1[twin].mean(), abs=1e-12)
    metric_cols = [c for c in new_t.columns if not c.startswith("Rank")]
    pd.testing.assert_frame_equal(new_t.loc[old_t.index, metric_cols], old_t[metric_cols])
    assert (new_t.loc[twin, metric_cols] == new_t.loc[twin_of, metric_cols]).all()
    if twin_of == "autoarima":  # it ties with seasonal naive on ~2000 configs: naive moves down
        assert new_t.at[naive, "Rank-6750-scaled"] > old_t.at[naive, "Rank-6750-scaled"] + 0.2


def test_twin_model_average_ties(
    tmp_path: Path, boom_props: BoomProperties, head_results: dict[str, pd.DataFrame]
) -> None:
    twin = "autoarima_copy"
    extra = tmp_path / "more"
    (extra / twin).mkdir(parents=True)
    shutil.copy(BOOM / "results" / "autoarima" / "all_results.csv", extra / twin / "all_results.csv")
    results = load_results([BOOM / "results", extra], expected_configs=boom_props.configs())
    lb = boom_leaderboard(results, boom_props, suite="boom", ties="average")
    assert lb.ties == "average"
    for split in ("nonflat", "flat"):
        r = lb.config_ranks[split]
        assert (r[twin] == r["autoarima"]).all()
        assert np.allclose(r.sum(axis=1), 24 * 25 / 2)  # average ranks still sum to n(n+1)/2
    t = lb.table.set_index("model")
    assert (t.loc[twin] == t.loc["autoarima"]).all()
    # order-independent: reversing the model order changes nothing
    rev = boom_leaderboard(
        results, boom_props, suite="boom", ties="average", model_order=lb.model_order[::-1]
    )
    pd.testing.assert_frame_equal(rev.table.set_index("model").loc[t.index], t)
    # without the twin, "average" differs from the published "first" ranks only in Rank columns
    avg = boom_leaderboard(head_results, boom_props, suite="boom", ties="average").table.set_index("model")
    first = boom_leaderboard(head_results, boom_props, suite="boom").table.set_index("model")
    metric_cols = [c for c in first.columns if not c.startswith("Rank")]
    pd.testing.assert_frame_equal(avg.loc[first.index, metric_cols], first[metric_cols])


# ------------------------------------------------------------------------------------------------
# errors and performance


def test_errors(
    head_results: dict[str, pd.DataFrame], boom_props: BoomProperties, boomlet_props: BoomProperties
) -> None:
    bad_suite: Any = "giftish"
    bad_ties: Any = "min"
    no_naive = {m: df for m, df in head_results.items() if m != "seasonalnaive"}
    with pytest.raises(ValueError, match="no seasonal-naive model"):
        boom_leaderboard(no_naive, boom_props, suite="boom")
    with pytest.raises(ValueError, match=r"suite='giftish'.*'boom', 'boomlet'"):
        boom_leaderboard(head_results, boom_props, suite=bad_suite)
    with pytest.raises(ValueError, match=r"ties='min'.*'first', 'average'"):
        boom_leaderboard(head_results, boom_props, suite="boom", ties=bad_ties)
    with pytest.raises(ValueError, match=r"missing \['toto'\]"):
        boom_leaderboard(
            head_results, boom_props, suite="boom", model_order=[m for m in head_results if m != "toto"]
        )
    short = dict(head_results)
    short["toto"] = head_results["toto"].drop(index=["ds-0-T/Short/long"])
    with pytest.raises(ResultsError, match=r"1 of the 7413 boom configs missing.*ds-0-T/Short/long"):
        boom_leaderboard(short, boom_props, suite="boom")
    # boomlet accepts full-BOOM files, boom rejects configs outside its properties
    boomlet_only = {m: df.loc[boomlet_props.configs()] for m, df in head_results.items()}
    assert boom_leaderboard(boomlet_only, boomlet_props, suite="boomlet").split_sizes["configs"] == 96
    with pytest.raises(ResultsError, match="configs not in"):
        boom_leaderboard(head_results, boomlet_props, suite="boom")


def test_raw_tables_are_accepted(
    head_results: dict[str, pd.DataFrame], boomlet_props: BoomProperties, head_boomlet: Leaderboard
) -> None:
    """Raw all_results.csv-shaped tables (``dataset`` column, upstream column names) work too."""
    raw = {
        m: df.reset_index()
        .rename(
            columns={
                "MASE": "eval_metrics/MASE[0.5]",
                "MAE": "eval_metrics/MAE[0.5]",
                "CRPS": "eval_metrics/mean_weighted_sum_quantile_loss",
            }
        )
        .iloc[::-1]
        for m, df in head_results.items()
    }
    lb = boom_leaderboard(raw, boomlet_props, suite="boomlet")
    pd.testing.assert_frame_equal(lb.table, head_boomlet.table)


def test_performance(boom_props: BoomProperties) -> None:
    t0 = time.perf_counter()
    results = load_results(BOOM / "results", expected_configs=boom_props.configs())
    boom_leaderboard(results, boom_props, suite="boom")
    elapsed = time.perf_counter() - t0
    assert elapsed < 10.0, f"loading 23 files + board took {elapsed:.1f} s"
