"""Paired bootstrap statistics: vectorised resampling against a per-resample loop, hand cases, coverage,
and ``toto-bench leaderboard --stats`` on the published BOOM results."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from toto_bench.boards.document import compute_board
from toto_bench.boards.leaderboard import Leaderboard, gift_eval_leaderboard, time_leaderboard
from toto_bench.boards.statistics import board_statistics
from toto_bench.cli import main
from toto_bench.metrics.aggregate import gmean, shifted_gmean
from toto_bench.metrics.bootstrap import (
    bootstrap_aggregates,
    draw_indices,
    percentile_interval,
    prob_better,
    resample_counts,
    win_rates,
)

SHARED_BOOM = Path(__file__).resolve().parents[2] / "shared" / "data" / "boom"
NAN, INF = float("nan"), float("inf")


@pytest.fixture(scope="module")
def boom() -> Path:
    if not (SHARED_BOOM / "results").is_dir():
        pytest.skip(f"published BOOM results not found at {SHARED_BOOM} (shared folder beside the repo)")
    return SHARED_BOOM


def _loop_aggregates(values: np.ndarray, indices: np.ndarray, aggregate: str, mask: np.ndarray) -> np.ndarray:
    """Independent oracle: one Python pass per resample and model with the scalar aggregate functions."""
    fn = shifted_gmean if aggregate == "shifted_gmean" else gmean
    out = np.empty((indices.shape[0], values.shape[1]))
    for b, sel in enumerate(indices):
        for m in range(values.shape[1]):
            out[b, m] = fn(values[sel, m][mask[sel, m]])
    return out


def _values(seed: int, n_configs: int, n_models: int, *, specials: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    values = np.exp(rng.normal(0.0, 0.7, size=(n_configs, n_models)))
    mask = rng.random((n_configs, n_models)) > 0.15
    if specials:  # a NaN, an inf, a zero, each in its own model column
        values[3, 0], values[5, 1], values[7, 2] = NAN, INF, 0.0
    return values, mask


@pytest.mark.parametrize("aggregate", ["shifted_gmean", "gmean"])
@pytest.mark.parametrize("specials", [False, True], ids=["finite", "nan-inf-zero"])
@pytest.mark.parametrize("masked", [False, True], ids=["all-cells", "masked"])
def test_vectorised_resamples_equal_a_per_resample_loop_over_the_same_indices(
    aggregate: str, specials: bool, masked: bool
) -> None:
    values, mask = _values(7, n_configs=40, n_models=4, specials=specials)
    if not masked:
        mask = np.ones_like(mask)
    indices = draw_indices(40, 300, seed=11)  # > one chunk of 256 resamples
    fast = bootstrap_aggregates(values, indices, aggregate=aggregate, mask=mask)
    slow = _loop_aggregates(values, indices, aggregate, mask)
    np.testing.assert_array_equal(np.isnan(fast), np.isnan(slow))
    np.testing.assert_array_equal(np.isinf(fast), np.isinf(slow))
    finite = np.isfinite(slow)
    np.testing.assert_allclose(fast[finite], slow[finite], rtol=1e-12, atol=1e-15)
    if specials and not masked:  # the special cells were drawn somewhere, so every rule was exercised
        assert np.isnan(fast[:, 0]).any() and np.isinf(fast[:, 1]).any()


def test_resample_counts_equal_a_bincount_per_resample() -> None:
    indices = draw_indices(13, 50, seed=3)
    counts = resample_counts(indices, 13)
    for b in range(50):
        np.testing.assert_array_equal(counts[b], np.bincount(indices[b], minlength=13))
    assert (counts.sum(axis=1) == 13).all()


def test_draws_are_reproducible_from_the_seed_and_differ_across_seeds() -> None:
    np.testing.assert_array_equal(draw_indices(20, 5, seed=4), draw_indices(20, 5, seed=4))
    assert not np.array_equal(draw_indices(20, 5, seed=4), draw_indices(20, 5, seed=5))
    expected = np.random.default_rng(4).integers(0, 20, size=(5, 20))
    np.testing.assert_array_equal(draw_indices(20, 5, seed=4), expected)


# ---------------------------------------------------------------------------------------------------
# hand-computed 3 models x 4 configs

HAND = np.array(
    [  # A  B  C
        [1.0, 2.0, 4.0],
        [2.0, 2.0, 1.0],
        [4.0, 1.0, 2.0],
        [1.0, 4.0, 2.0],
    ]
)
HAND_INDICES = np.array([[0, 0, 1, 3], [2, 2, 2, 2], [1, 1, 3, 3]])


def test_hand_case_win_rates() -> None:
    w, n = win_rates(HAND)
    # A vs B: win, tie, loss, win = 2.5/4; A vs C: win, loss, loss, win; B vs C: win, loss, win, loss
    expected = np.array([[0.5, 0.625, 0.5], [0.375, 0.5, 0.5], [0.5, 0.5, 0.5]])
    np.testing.assert_allclose(w, expected, rtol=0, atol=1e-15)
    assert (n == 4).all()


def test_hand_case_bootstrap_aggregates_and_probabilities() -> None:
    samples = bootstrap_aggregates(HAND, HAND_INDICES, aggregate="gmean")
    # r0 draws configs 0,0,1,3: A 1,1,2,1; B 2,2,2,4; C 4,4,1,2 — r1: config 2 four times — r2: 1,1,3,3
    expected = np.array(
        [
            [2**0.25, 32**0.25, 32**0.25],
            [4.0, 1.0, 2.0],
            [4**0.25, 64**0.25, 4**0.25],
        ]
    )
    np.testing.assert_allclose(samples, expected, rtol=1e-14)
    p = prob_better(samples)
    # A<B in r0, r2; A<C in r0, tie in r2; B=C in r0, B<C in r1
    np.testing.assert_allclose(p, [[0.5, 2 / 3, 0.5], [1 / 3, 0.5, 0.5], [0.5, 0.5, 0.5]], atol=1e-15)
    lo, hi = percentile_interval(samples, confidence=0.5)  # quartiles of 3 samples, linear interpolation
    a = sorted(expected[:, 0])
    assert lo[0] == pytest.approx((a[0] + a[1]) / 2, rel=1e-14)
    assert hi[0] == pytest.approx((a[1] + a[2]) / 2, rel=1e-14)
    full = bootstrap_aggregates(HAND, np.arange(4)[None], aggregate="gmean")
    np.testing.assert_allclose(full[0], [8**0.25, 2.0, 2.0], rtol=1e-14)


def test_win_rates_of_a_pair_sum_to_one_with_ties_and_missing_cells() -> None:
    rng = np.random.default_rng(0)
    values = rng.integers(0, 4, size=(60, 5)).astype(float)  # many ties
    values[rng.random(values.shape) < 0.1] = NAN
    w, n = win_rates(values)
    np.testing.assert_allclose(w + w.T, 1.0, atol=1e-12)
    np.testing.assert_array_equal(n, n.T)
    assert (np.diag(w) == 0.5).all()
    p = prob_better(
        bootstrap_aggregates(values + 1, draw_indices(60, 200, 1), aggregate="gmean", mask=~np.isnan(values))
    )
    np.testing.assert_allclose(p + p.T, 1.0, atol=1e-12)


def test_percentile_intervals_cover_a_known_gmean_about_95_percent_of_the_time() -> None:
    # log-normal configs: the population gmean is exp(mu); 400 independent data sets, 400 resamples each
    mu, covered, reps = 0.3, 0, 400
    for r in range(reps):
        rng = np.random.default_rng(1000 + r)
        values = np.exp(rng.normal(mu, 0.5, size=(120, 1)))
        samples = bootstrap_aggregates(values, draw_indices(120, 400, rng), aggregate="gmean")
        lo, hi = percentile_interval(samples, 0.95)
        covered += int(lo[0] <= math.exp(mu) <= hi[0])
    assert 0.90 <= covered / reps <= 0.985, covered / reps


def test_bad_arguments_name_the_valid_values() -> None:
    with pytest.raises(ValueError, match="valid values: shifted_gmean, gmean"):
        bootstrap_aggregates(HAND, HAND_INDICES, aggregate="mean")
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        percentile_interval(np.ones((3, 2)), confidence=95)
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 4\)"):
        resample_counts(np.array([[0, 4]]), 4)


# ---------------------------------------------------------------------------------------------------
# boards: the identity resample gives the published point estimates


def _identity_equals_board(board: Leaderboard) -> None:
    n = len(board.config_values["CRPS" if board.board in ("gift_eval", "time") else "nonflat_CRPS"].index)
    st = board_statistics(board, indices=np.arange(n)[None])  # B = 1, the identity resample
    assert st.n_boot == 1 and list(st.intervals.index) == list(board.table["model"])
    for metric in ("MASE", "CRPS"):
        lo, hi = st.intervals[f"{metric}_lo"].to_numpy(), st.intervals[f"{metric}_hi"].to_numpy()
        np.testing.assert_array_equal(lo, hi)  # one resample: the interval collapses
        published = board.table[st.columns[metric]].to_numpy(dtype=float)
        np.testing.assert_allclose(lo, published, rtol=1e-12)


def test_identity_resample_collapses_to_the_published_boom_point_estimates(boom: Path) -> None:
    board = compute_board("boom", [boom / "results"], properties=boom / "boom_properties.json")
    _identity_equals_board(board)


def _frame(rows: dict[str, tuple[float, float]]) -> pd.DataFrame:
    df = pd.DataFrame.from_dict(rows, orient="index", columns=["MASE", "CRPS"])
    df.index.name = "dataset"
    return df


def test_identity_resample_collapses_to_the_gift_eval_and_time_point_estimates() -> None:
    c1, c2, c3 = "a/H/short", "a/H/long", "b/D/short"
    results = {
        "seasonal_naive": _frame({c1: (2.0, 0.4), c2: (4.0, 0.5), c3: (1.0, 0.2)}),
        "alpha": _frame({c1: (1.0, 0.2), c2: (2.0, 0.5), c3: (NAN, 0.1)}),
        "beta": _frame({c1: (2.0, 0.3), c2: (8.0, 1.0)}),  # lacks c3: the mask leaves it out
    }
    _identity_equals_board(gift_eval_leaderboard(results))
    _identity_equals_board(time_leaderboard(results))


# ---------------------------------------------------------------------------------------------------
# CLI


def _board(boom: Path, *extra: str) -> list[str]:
    return ["leaderboard", "--suite", "boom", "--results-dir", str(boom / "results"), *extra]


def test_stats_csv_adds_interval_columns_and_a_win_rate_file(boom: Path, tmp_path: Path) -> None:
    out = tmp_path / "tables"
    assert main(_board(boom, "--format", "csv", "--stats", "--bootstrap", "200", "--output", str(out))) == 0
    table = pd.read_csv(out / "boom_leaderboard.csv")
    published = pd.read_csv(boom / "leaderboards" / "boom_leaderboard.csv")
    # the published columns are unchanged, the intervals sit right after the column they bound
    pd.testing.assert_frame_equal(table[list(published.columns)], published)
    cols = list(table.columns)
    assert cols[1:7] == ["MASE-6750-scaled", "MASE_lo", "MASE_hi", "CRPS-6750-scaled", "CRPS_lo", "CRPS_hi"]
    for metric, col in (("MASE", "MASE-6750-scaled"), ("CRPS", "CRPS-6750-scaled")):
        assert (table[f"{metric}_lo"] <= table[col] + 1e-3).all() and (
            table[col] <= table[f"{metric}_hi"] + 1e-3
        ).all()
        others = table["model"] != "seasonalnaive"  # scaled by itself: 1 on every resample
        assert (table.loc[others, f"{metric}_lo"] < table.loc[others, f"{metric}_hi"]).all()
        assert (table.loc[~others, [f"{metric}_lo", f"{metric}_hi"]] == 1.0).all().all()
    pairs = pd.read_csv(out / "boom_win_rates.csv")
    assert len(pairs) == 23 * 22 and (pairs["n_configs"] == 6750).all()
    both = pairs.merge(pairs, left_on=["model_a", "model_b"], right_on=["model_b", "model_a"])
    # rounded to 3 decimals each, so a pair sums to 1 within 1e-3
    assert ((both["CRPS_win_rate_x"] + both["CRPS_win_rate_y"]) - 1).abs().max() <= 1e-3
    assert ((both["P_MASE_better_x"] + both["P_MASE_better_y"]) - 1).abs().max() <= 1e-3


def test_stats_markdown_and_html_carry_the_appendix_and_same_seed_same_output(
    boom: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _board(boom, "--stats", "--bootstrap", "100", "--seed", "3")
    assert main(args) == 0
    md = capsys.readouterr().out
    assert main(args) == 0
    assert capsys.readouterr().out == md
    assert "## Appendix: CRPS win rate (row model vs column model)" in md
    assert "## Appendix: P(row model's aggregate MASE is better)" in md
    assert "95% percentile bootstrap intervals" in md and "100 paired resamples" in md
    assert main(_board(boom, "--stats", "--bootstrap", "100", "--seed", "4")) == 0
    assert capsys.readouterr().out != md
    assert main(_board(boom, "--stats", "--bootstrap", "50", "--format", "html")) == 0
    html = capsys.readouterr().out
    # board, 4 breakdowns x (MASE, CRPS), imputed cells, 4 appendix matrices
    assert html.count("<table") == 1 + 4 * 2 + 1 + 4


def test_stats_with_breakdown_or_lsf_is_a_clear_error(boom: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_board(boom, "--stats", "--breakdown", "type")) == 2
    assert "--stats is for the boom, boomlet, gift-eval, time boards" in capsys.readouterr().err
    assert main(_board(boom, "--stats", "--confidence", "1.5")) == 2
    assert "--confidence must lie strictly between 0 and 1" in capsys.readouterr().err


def test_pairs_table_matches_the_matrices(boom: Path) -> None:
    board = compute_board("boom", [boom / "results"], properties=boom / "boom_properties.json")
    st = board_statistics(board, n_boot=50, seed=1)
    pairs = st.pairs().set_index(["model_a", "model_b"])
    a, b = "toto", "chronos_2"
    assert pairs.at[(a, b), "CRPS_win_rate"] == st.win_rates["CRPS"].at[a, b]
    # independent recount on the scaled non-flat CRPS
    x = board.config_values["nonflat_CRPS"]
    share = float(((x[a] < x[b]).sum() + 0.5 * (x[a] == x[b]).sum()) / len(x))
    assert pairs.at[(a, b), "CRPS_win_rate"] == pytest.approx(share, abs=1e-15)
