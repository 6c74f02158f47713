"""`toto-bench leaderboard` end to end: upstream bytes, check mode, formats, ties and clear errors."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pandas as pd
import pytest

from toto_bench.cli import main

SHARED_BOOM = Path(__file__).resolve().parents[2] / "shared" / "data" / "boom"


@pytest.fixture(scope="module")
def boom() -> Path:
    if not (SHARED_BOOM / "results").is_dir():
        pytest.skip(f"published BOOM results not found at {SHARED_BOOM} (shared folder beside the repo)")
    return SHARED_BOOM


def _board(boom: Path, *extra: str) -> list[str]:
    return ["leaderboard", "--suite", "boom", "--results-dir", str(boom / "results"), *extra]


def test_csv_output_is_byte_identical_to_the_published_boom_leaderboard(
    boom: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_board(boom, "--format", "csv")) == 0
    assert capsys.readouterr().out == (boom / "leaderboards" / "boom_leaderboard.csv").read_text()


@pytest.mark.parametrize("group", ["full_benchmark", "type"])
def test_breakdown_csv_files_equal_the_published_ones_where_upstream_is_consistent(
    boom: Path, tmp_path: Path, group: str
) -> None:
    # real_term/domain (and type CRPS) hold the documented 2.5b/1b exchange (boom_protocol §8.1)
    flag = {"full_benchmark": "full", "type": "type"}[group]
    assert main(_board(boom, "--format", "csv", "--breakdown", flag, "--output", str(tmp_path))) == 0
    ours = (tmp_path / f"{group}_MASE_shifted_gmean.csv").read_text()
    assert ours == (boom / "breakdown_tabels" / f"{group}_MASE_shifted_gmean.csv").read_text()


def test_check_mode_flags_a_stale_table(
    boom: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "boom.md"
    assert main(_board(boom, "--output", str(target))) == 0
    assert main(_board(boom, "--check", str(target))) == 0
    target.write_text(target.read_text().replace("0.581", "0.580", 1))
    assert main(_board(boom, "--check", str(target))) == 1
    assert "stale" in capsys.readouterr().err


def test_markdown_and_html_list_every_model(boom: Path, capsys: pytest.CaptureFixture[str]) -> None:
    models = sorted(p.name for p in (boom / "results").iterdir() if (p / "all_results.csv").is_file())
    assert len(models) == 23
    assert main(_board(boom, "--format", "md")) == 0
    md = capsys.readouterr().out
    assert main(_board(boom, "--format", "html")) == 0
    html = capsys.readouterr().out
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    for model in models:
        assert f"| {model} " in md
        assert f"<td>{model}</td>" in html


@pytest.mark.parametrize("ties", ["first", "average"])
def test_mean_ranks_sum_to_the_rank_total_under_both_tie_rules(
    boom: Path, ties: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # per config the ranks of n models sum to n(n+1)/2 whatever the tie rule, so do the mean ranks
    assert main(_board(boom, "--format", "csv", "--ties", ties)) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    n = len(table)
    full = pd.read_csv(boom / "leaderboards" / "boom_leaderboard.csv")
    assert table["Rank-6750-scaled"].sum() == pytest.approx(n * (n + 1) / 2, abs=0.02)
    if ties == "average":  # average ranks differ from the published (first) ones somewhere
        ours, published = table.set_index("model"), full.set_index("model")
        assert not ours["Rank-663-unscaled"].equals(published["Rank-663-unscaled"])


def test_a_model_from_a_second_results_dir_joins_the_board(
    boom: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ours = tmp_path / "ours" / "my_model"
    ours.mkdir(parents=True)
    shutil.copy(boom / "results" / "chronos_2" / "all_results.csv", ours / "all_results.csv")
    assert main(_board(boom, "--results-dir", str(tmp_path / "ours"), "--format", "csv")) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out)).set_index("model")
    assert len(table) == 24
    # identical numbers to its twin; its CRPS rank is worse by at least one tie-broken place on average
    assert table.loc["my_model", "MASE-6750-scaled"] == table.loc["chronos_2", "MASE-6750-scaled"]
    assert table.loc["my_model", "Rank-6750-scaled"] > table.loc["chronos_2", "Rank-6750-scaled"]


def test_a_missing_explicit_properties_file_is_a_clear_error(
    boom: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    absent = tmp_path / "absent_properties.json"
    assert main(_board(boom, "--properties", str(absent))) == 2
    err = capsys.readouterr().err
    assert f"--properties {absent}: no such file" in err and "packaged" in err


def test_a_malformed_results_file_is_named(
    boom: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad" / "broken_model"
    bad.mkdir(parents=True)
    (bad / "all_results.csv").write_text("dataset,model\nds-0-T/Short/short,x\n")
    assert main(_board(boom, "--results-dir", str(tmp_path / "bad"))) == 2
    err = capsys.readouterr().err
    assert str(bad / "all_results.csv") in err
