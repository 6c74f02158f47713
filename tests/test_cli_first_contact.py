"""A new user's first mistakes get one clear line before any work starts (issue 13 item 10): a bad
``--output-dir`` or a model family that is not installed is reported before the progress bar, NaN cells a
board imputes are said on stderr and kept in the CSV, and ``--check`` of another suite's board says so."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import layouts
import pandas as pd
import pytest

from toto_bench.cli import main

REPO = Path(__file__).parents[1]
LEADERBOARDS = REPO / "leaderboards"


def _demo_run(output_dir: Path | str, model: str = "seasonal-naive") -> list[str]:
    # progress bar on: what is printed before the error is part of the behaviour under test
    return ["run", "--suite", "demo", "--model", model, "--output-dir", str(output_dir)]


def _one_line_error(capsys: pytest.CaptureFixture[str], *needles: str) -> str:
    err = capsys.readouterr().err
    assert err.startswith("toto-bench: error: "), err
    assert len(err.strip().splitlines()) == 1, err  # no progress bar, no traceback before the message
    assert "config/s" not in err and "0%" not in err
    for needle in needles:
        assert needle in err, err
    return err


# --- --output-dir ---------------------------------------------------------------------------------------


def test_output_dir_that_is_a_file_is_named_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    afile = tmp_path / "results.txt"
    afile.write_text("not a folder\n")
    assert main(_demo_run(afile)) == 2
    _one_line_error(capsys, f"--output-dir {afile}", f"{afile} is a file", "another --output-dir")
    assert afile.read_text() == "not a folder\n"


def test_output_dir_below_a_file_names_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    afile = tmp_path / "results.txt"
    afile.write_text("")
    assert main(_demo_run(afile / "sub")) == 2
    _one_line_error(capsys, f"--output-dir {afile / 'sub'}", f"{afile} is a file")


def test_run_folder_taken_by_a_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "out" / "demo").mkdir(parents=True)
    (tmp_path / "out" / "demo" / "seasonal-naive").write_text("")
    assert main(_demo_run(tmp_path / "out")) == 2
    _one_line_error(capsys, "--output-dir", f"{tmp_path / 'out' / 'demo' / 'seasonal-naive'} is a file")


def test_unwritable_output_dir_is_named_with_the_fix(capsys: pytest.CaptureFixture[str]) -> None:
    # /proc refuses new entries even to root (CI runs as root, where chmod cannot make a folder unwritable)
    target = Path("/proc/toto-bench-unwritable")
    assert not target.exists()
    assert main(_demo_run(target)) == 2
    _one_line_error(capsys, f"--output-dir {target}", "cannot write in /proc", "writable")
    assert not target.exists()


# --- a model family that is not installed ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "module", "extra"),
    [("auto-ets", "statsforecast", "stats"), ("chronos-bolt-small", "chronos", "chronos")],
)
def test_missing_model_family_is_reported_before_the_run_starts(
    model: str,
    module: str,
    extra: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setitem(sys.modules, module, None)  # "not installed": import fails, find_spec gives None
    assert main(_demo_run(tmp_path / "out", model)) == 2
    _one_line_error(capsys, repr(model), f"bash .ci/install-model-extras.sh {extra}", f"toto-bench[{extra}]")
    assert not (tmp_path / "out").exists()  # nothing started: no lock, no journal, no run folder


# --- imputed cells on the board ---------------------------------------------------------------------------


@pytest.fixture
def gift_results_with_nan(tmp_path: Path) -> tuple[Path, list[str]]:
    """Two GIFT-Eval result folders; model ``holey`` has NaN MASE on 2 configs and NaN CRPS on 1."""
    root = tmp_path / "results"
    layouts.write_gift_eval_results(root / "seasonal_naive", "seasonal_naive", seed=0)
    layouts.write_gift_eval_results(root / "holey", "holey", seed=3)
    path = root / "holey" / "all_results.csv"
    frame = pd.read_csv(path)
    holes = [str(frame.at[4, "dataset"]), str(frame.at[9, "dataset"])]
    frame.loc[[4, 9], "eval_metrics/MASE[0.5]"] = float("nan")
    frame.loc[[9], "eval_metrics/mean_weighted_sum_quantile_loss"] = float("nan")
    frame.to_csv(path, index=False)
    return root, holes


def test_imputed_cells_are_warned_on_stderr_naming_model_configs_and_counts(
    gift_results_with_nan: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    root, holes = gift_results_with_nan
    assert main(["leaderboard", "--suite", "gift-eval", "--results-dir", str(root)]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "imputed" in line]
    assert len(warnings) == 1, warnings  # one line for the one model with holes, none for seasonal_naive
    (line,) = warnings
    assert line.startswith("toto-bench: warning: ")
    assert "'holey'" in line and "seasonal_naive" not in line
    assert "3 NaN cell(s)" in line and "MASE 2" in line and "CRPS 1" in line
    assert all(config in line for config in holes)


def test_csv_board_keeps_the_imputed_cell_counts(
    gift_results_with_nan: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    root, _ = gift_results_with_nan
    assert main(["leaderboard", "--suite", "gift-eval", "--results-dir", str(root), "--format", "csv"]) == 0
    board = pd.read_csv(io.StringIO(capsys.readouterr().out)).set_index("model")
    assert board["imputed_cells"].to_dict() == {"holey": 3, "seasonal_naive": 0}


def test_csv_board_without_imputation_keeps_its_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for model, seed in (("seasonal_naive", 0), ("full", 1)):
        layouts.write_gift_eval_results(tmp_path / model, model, seed=seed)
    argv = ["leaderboard", "--suite", "gift-eval", "--results-dir", str(tmp_path), "--format", "csv"]
    assert main(argv) == 0
    out = capsys.readouterr()
    assert out.out.splitlines()[0] == (LEADERBOARDS / "gift_eval_leaderboard.csv").read_text().splitlines()[0]
    assert "imputed" not in out.err


# --- --check with the wrong --suite ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("committed", "suite", "its_suite"),
    [
        ("gift-eval.md", "boom", "gift-eval"),
        ("boom.md", "boomlet", "boom"),
        ("boomlet.md", "demo", "boomlet"),
    ],
)
def test_check_of_another_suites_board_says_which_suite_it_is(
    committed: str, suite: str, its_suite: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    demo = tmp_path / "demo"  # a board for --suite demo: a seasonal-naive and a naive run of the demo data
    if suite == "demo":
        for model in ("seasonal-naive", "naive"):
            assert (
                main(["run", "--suite", "demo", "--model", model, "--output-dir", str(demo), "--no-progress"])
                == 0
            )
        extra = ["--results-dir", str(demo / "demo")]
    else:
        extra = ["--results-dir", str(layouts.shared_data() / "boom" / "results")]
    capsys.readouterr()
    assert main(["leaderboard", "--suite", suite, *extra, "--check", str(LEADERBOARDS / committed)]) == 1
    err = capsys.readouterr().err
    assert f"is the {its_suite} leaderboard, not {suite}" in err
    assert f"--suite {its_suite}" in err
    assert "--output" not in err  # no advice to overwrite the other suite's file


def test_check_of_a_csv_with_other_columns_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for model, seed in (("seasonal_naive", 0), ("full", 1)):
        layouts.write_gift_eval_results(tmp_path / "r" / model, model, seed=seed)
    boom_csv = layouts.shared_data() / "boom" / "leaderboards" / "boom_leaderboard.csv"
    argv = ["leaderboard", "--suite", "gift-eval", "--results-dir", str(tmp_path / "r"), "--format", "csv"]
    assert main([*argv, "--check", str(boom_csv)]) == 1
    err = capsys.readouterr().err
    assert "columns" in err and "not those of the gift-eval board" in err
    assert "--output" not in err


@pytest.mark.parametrize("change", ["a number", "an extra column"])
def test_check_of_a_stale_csv_of_the_same_board_still_says_stale(
    change: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for model, seed in (("seasonal_naive", 0), ("full", 1)):
        layouts.write_gift_eval_results(tmp_path / "r" / model, model, seed=seed)
    argv = ["leaderboard", "--suite", "gift-eval", "--results-dir", str(tmp_path / "r"), "--format", "csv"]
    committed = tmp_path / "board.csv"
    assert main([*argv, "--output", str(committed)]) == 0
    board = pd.read_csv(committed)
    if change == "a number":
        board.loc[0, "MASE"] = float(board.loc[0, "MASE"]) * 1.5
    else:
        board["imputed_cells"] = 0  # as written when a model had NaN cells then
    board.to_csv(committed, index=False)
    capsys.readouterr()
    assert main([*argv, "--check", str(committed)]) == 1
    err = capsys.readouterr().err
    assert "is stale" in err and f"--output {committed}" in err


def test_models_with_the_same_imputed_cells_share_one_warning_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "results"
    layouts.write_gift_eval_results(root / "seasonal_naive", "seasonal_naive", seed=0)
    for name, seed in (("holey_a", 3), ("holey_b", 4), ("other", 5)):
        layouts.write_gift_eval_results(root / name, name, seed=seed)
        path = root / name / "all_results.csv"
        frame = pd.read_csv(path)
        frame.loc[[4, 9] if name != "other" else [7], "eval_metrics/MASE[0.5]"] = float("nan")
        frame.to_csv(path, index=False)
    assert main(["leaderboard", "--suite", "gift-eval", "--results-dir", str(root)]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "imputed" in line]
    assert len(warnings) == 2, warnings
    shared = next(line for line in warnings if "holey_a" in line)
    assert "2 NaN cell(s) each of 2 models (" in shared and "'holey_b'" in shared and "'other'" not in shared
    assert "1 NaN cell(s) of model 'other'" in next(line for line in warnings if "'other'" in line)
