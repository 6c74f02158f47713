"""The GIFT-Eval board on the 121 published result folders equals an independent implementation of the
space's computation (long format, as its ``src/utils.py`` ``get_grouped_dfs`` / ``standardize_df`` /
``group_by``) cell for cell at 1e-9, for both tie rules, with its breakdowns; filters hide rows only;
the published files' irregularities load as documented."""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from toto_bench.boards.document import build_document, compute_board
from toto_bench.boards.report import write_report
from toto_bench.cli import main
from toto_bench.engine.results import ResultsError, load_results
from toto_bench.suites import get_suite
from toto_bench.suites.gift_eval import DOMAINS, NUM_VARIATES

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "gift-eval"
RESULTS = SHARED / "results"
CRPS = "eval_metrics/mean_weighted_sum_quantile_loss"
MASE = "eval_metrics/MASE[0.5]"


@pytest.fixture(scope="module")
def published() -> Path:
    if not RESULTS.is_dir():
        pytest.skip(f"published GIFT-Eval results not found at {RESULTS} (shared folder beside the repo)")
    return RESULTS


def _space_frame(root: Path) -> pd.DataFrame:
    """Every published row in one long frame, as the space reads them (``model`` = the file's own column;
    a folder whose column holds several names is given its most frequent one, as the board documents)."""
    frames = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        files = [folder / n for n in ("all_results.csv", "all-results.csv") if (folder / n).is_file()]
        df = pd.read_csv(files[0])
        counts = df["model"].astype(str).value_counts()
        top = max(counts.items(), key=lambda item: (item[1], item[0]))[0]
        df["model"] = top
        df["folder"] = folder.name
        frames.append(df[["dataset", "model", "folder", MASE, CRPS]])
    df = pd.concat(frames, ignore_index=True)
    df = df.sort_values(by=["model", "folder", "dataset"], kind="mergesort").reset_index(drop=True)
    df[["ds", "frequency", "term_length"]] = df["dataset"].str.split("/", expand=True)
    return df


def _space_board(df: pd.DataFrame, ties: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The space's ``standardize_df`` + ranks + overall aggregation, written independently of the board."""
    df = df.copy()
    for metric in (MASE, CRPS):
        df[metric] = df[metric].astype(float).fillna(df[metric].astype(float).mean())
    naive = df[df["folder"] == "seasonal_naive"].set_index("dataset")
    for metric in (MASE, CRPS):
        df[metric] = df[metric] / df["dataset"].map(naive[metric])
    keys = ["ds", "term_length", "frequency"]
    df["rank"] = df.groupby(keys)[CRPS].rank(method=ties, ascending=True)
    df["Rank_MASE"] = df.groupby(keys)[MASE].rank(method=ties, ascending=True)
    overall = df.groupby("folder")[[MASE, CRPS]].agg(stats.gmean)
    overall["MASE_Rank"] = df.groupby("folder")["Rank_MASE"].mean()
    overall["CRPS_Rank"] = df.groupby("folder")["rank"].mean()
    overall = overall.rename(columns={MASE: "MASE", CRPS: "CRPS"})[["MASE", "MASE_Rank", "CRPS", "CRPS_Rank"]]
    return overall, df


def _freq_name(freq: str) -> str:
    letters = re.sub(r"\d+", "", freq).split("-")[0]
    names = {"T": "Minutely", "H": "Hourly", "D": "Daily", "W": "Weekly", "M": "Monthly"}
    names |= {"Q": "Quarterly", "Y": "Yearly", "A": "Yearly", "S": "Secondly"}
    return names.get(letters, letters)


def _space_group(df: pd.DataFrame, column: str) -> pd.DataFrame:
    grouped = df.groupby([column, "folder"])[[MASE, CRPS]].agg(stats.gmean)
    grouped["Rank"] = df.groupby([column, "folder"])["rank"].mean()
    return grouped


@pytest.mark.parametrize("ties", ["first", "average"])
def test_board_equals_the_space_computation_on_the_121_published_folders(published: Path, ties: str) -> None:
    expected, _ = _space_board(_space_frame(published), ties)
    assert len(expected) == 121
    board = compute_board("gift-eval", [published], ties=ties)
    ours = board.table.set_index("model")[["MASE", "MASE_Rank", "CRPS", "CRPS_Rank"]]
    assert sorted(ours.index) == sorted(expected.index)
    pd.testing.assert_frame_equal(ours.loc[expected.index], expected, rtol=1e-9, atol=0, check_names=False)
    # rows sorted by CRPS rank, as the space shows them
    assert list(board.table["CRPS_Rank"]) == sorted(board.table["CRPS_Rank"])


def test_breakdowns_equal_the_space_group_by_tabs(published: Path) -> None:
    _, long = _space_board(_space_frame(published), "first")
    props = json.loads((SHARED / "dataset_properties.json").read_text())
    long["domain"] = long["ds"].map(lambda d: props[d]["domain"])
    long["variate_type"] = long["ds"].map(
        lambda d: "univariate" if props[d]["num_variates"] == 1 else "multivariate"
    )
    long["frequency"] = long["frequency"].map(_freq_name)
    board = compute_board("gift-eval", [published])
    for group in ("domain", "term_length", "frequency", "variate_type"):
        expected = _space_group(long, group)
        tables = board.metric_breakdowns[group]
        for ours_name, theirs in (("MASE", MASE), ("CRPS", CRPS), ("CRPS_Rank", "Rank")):
            wide = expected[theirs].unstack(group)
            ours = tables[ours_name].loc[wide.index, list(wide.columns)]
            pd.testing.assert_frame_equal(ours, wide, rtol=1e-9, atol=0, check_names=False)


def test_builtin_dataset_properties_equal_the_published_file(published: Path) -> None:
    props = json.loads((SHARED / "dataset_properties.json").read_text())
    assert {k: v["domain"] for k, v in props.items()} == DOMAINS
    assert {k: v["num_variates"] for k, v in props.items()} == NUM_VARIATES


def test_pretrained_filter_hides_rows_without_changing_any_rank(published: Path) -> None:
    full = compute_board("gift-eval", [published]).table.set_index("model")
    shown = compute_board("gift-eval", [published], model_types=["pretrained"]).table.set_index("model")
    assert 20 < len(shown) < len(full)
    assert set(shown["model_type"]) <= {"pretrained", "statistical"}  # + the seasonal-naive normaliser
    pd.testing.assert_frame_equal(shown, full.loc[shown.index])
    # re-ranking is the opt-in: Toto 2.0 313m's CRPS rank among the kept models is far better
    rerank = compute_board("gift-eval", [published], model_types=["pretrained"], rerank=True)
    toto = "Toto-2.0-313m"
    assert rerank.table.set_index("model").at[toto, "CRPS_Rank"] < shown.at[toto, "CRPS_Rank"] - 10


def test_space_tie_order_uses_the_files_model_names(published: Path, tmp_path: Path) -> None:
    # ZooCast-Top1 and chronos-2 are identical on many configs; the space sorts rows by the files' model
    # column (Chronos-2 < ZooCast-Top1), not by folder (ZooCast-Top1 < chronos-2)
    zoo = pd.read_csv(published / "ZooCast-Top1" / "all_results.csv").set_index("dataset")
    chronos = pd.read_csv(published / "chronos-2" / "all_results.csv").set_index("dataset")
    same = (zoo[CRPS] == chronos.loc[zoo.index, CRPS]).sum()
    assert same >= 40
    board = compute_board("gift-eval", [published])
    ranks = board.config_ranks["CRPS"]
    tied = zoo.index[zoo[CRPS] == chronos.loc[zoo.index, CRPS]]
    assert (ranks.loc[tied, "chronos-2"] < ranks.loc[tied, "ZooCast-Top1"]).all()


def test_irregular_published_files_load_with_all_97_configs_and_warn(
    published: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 7 files end without a newline and one has CRLF + a blank last line ("96"/"98" lines); all hold 97
    results = load_results([published], expected_configs=get_suite("gift-eval").configs())
    assert len(results) == 121 and all(len(f) == 97 for f in results.values())
    warnings: list[str] = []
    build_document(
        suite="gift-eval", results_dirs=[published], properties=None, fmt="md", warn=warnings.append
    )
    samay = [w for w in warnings if "Samay/all-results.csv" in w]
    assert samay and "read as the results of 'Samay'" in samay[0]
    zeus = [w for w in warnings if "Zeus/all_results.csv" in w]
    assert zeus and "'GestaltCog/Zeus-100M' (14 rows), 'Zeus' (83 rows)" in zeus[0]
    # import accepts the same folder the same way: it ends up on the board under the same name
    assert (
        main(["leaderboard", "--suite", "gift-eval", "--results-dir", str(published), "--format", "csv"]) == 0
    )
    table = pd.read_csv(io.StringIO(capsys.readouterr().out)).set_index("model")
    assert "Samay" in table.index


def test_folders_without_a_domain_column_are_grouped_from_the_properties(published: Path) -> None:
    lacking = [
        p.name
        for p in published.iterdir()
        if (p / "all_results.csv").is_file() and "domain" not in pd.read_csv(p / "all_results.csv", nrows=0)
    ]
    assert len(lacking) == 4
    board = compute_board("gift-eval", [published])
    domain = board.metric_breakdowns["domain"]["MASE"]
    assert not domain.loc[lacking].isna().any().any()  # every domain has a value for them


def test_a_missing_and_a_duplicated_config_are_named(published: Path, tmp_path: Path) -> None:
    root = tmp_path / "results"
    for name in ("seasonal_naive", "chronos-2"):
        shutil.copytree(published / name, root / name)
    csv = root / "chronos-2" / "all_results.csv"
    df = pd.read_csv(csv)
    df = pd.concat([df.iloc[1:], df.iloc[[5]]], ignore_index=True)  # drop row 0, duplicate row 5
    df.to_csv(csv, index=False)
    with pytest.raises(ResultsError) as err:
        compute_board("gift-eval", [root])
    text = str(err.value)
    assert str(csv) in text
    assert pd.read_csv(published / "chronos-2" / "all_results.csv")["dataset"][0] in text
    assert "1 duplicate config key(s)" in text and df["dataset"].iloc[-1] in text
    assert "1 expected config(s) missing" in text
    assert "(lines 6, 98)" in text  # row 5 of the original is row 4 (line 6) once row 0 is gone
    # a duplicate stays an error with --partial; a missing config is what --partial accepts (documented):
    # the board keeps the 96 configs every model has
    with pytest.raises(ResultsError, match="duplicate config key"):
        compute_board("gift-eval", [root], partial=True, warn=lambda _: None)
    df.iloc[:-1].to_csv(csv, index=False)
    partial = compute_board("gift-eval", [root], partial=True, warn=lambda _: None)
    assert partial.split_sizes["configs"] == 96
    assert np.isfinite(partial.table["CRPS"]).all()


def test_check_of_a_full_precision_csv_allows_last_bit_differences_only(
    published: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    board = ["leaderboard", "--suite", "gift-eval", "--results-dir", str(published), "--format", "csv"]
    target = tmp_path / "gift_eval_leaderboard.csv"
    assert main([*board, "--output", str(target)]) == 0
    table = pd.read_csv(target, keep_default_na=False)
    table.loc[0, "CRPS"] *= 1 + 1e-14  # a last-bit difference (another numpy build or CPU)
    table.to_csv(target, index=False)
    assert main([*board, "--check", str(target)]) == 0
    table.loc[0, "CRPS"] *= 1 + 1e-9  # a real change
    table.to_csv(target, index=False)
    assert main([*board, "--check", str(target)]) == 1
    assert "is stale" in capsys.readouterr().err


def test_breakdowns_are_in_the_html_board_and_the_report(published: Path, tmp_path: Path) -> None:
    html = build_document(suite="gift-eval", results_dirs=[published], properties=None, fmt="html").single()
    for title in ("domain", "term length", "frequency", "variate type"):
        assert f"Breakdown by {title}: CRPS rank" in html
    page = write_report(
        suite="gift-eval", results_dirs=[published], output=tmp_path / "site", warn=lambda _: None
    )
    text = page.read_text()
    board = compute_board("gift-eval", [published])
    for group, tables in board.metric_breakdowns.items():
        assert f"{group}: CRPS rank" in text
        # the report shows the board's numbers: a value of each group's CRPS-rank table, to 3 decimals
        value = tables["CRPS_Rank"].iloc[0, 0]
        assert f"{value:.3f}" in text
