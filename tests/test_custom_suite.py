"""Custom suites: ``data convert`` → suite file → ``run`` (two models) → ``leaderboard`` → ``report``.

The real CSV is ``../shared/data/rdatasets-mosaicdata/Births.csv`` (read in place): the series GIFT-Eval
stores as ``us_births/D``, so the converted suite's seasonal-naive row must equal GIFT-Eval's published
``us_births/D/short`` row (the oracle). The checks' errors are exercised on small hand-written tables.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import layouts
import numpy as np
import pandas as pd
import pytest

from toto_bench.boards.document import compute_board
from toto_bench.cli import main
from toto_bench.engine.checks import recorded_series_count
from toto_bench.engine.data import load_dataset
from toto_bench.suites import get_suite
from toto_bench.suites.convert import ConvertError, check_terms, convert_frame, read_table
from toto_bench.suites.custom import CustomDataset, SuiteFileError, read_suite_file

MODELS = ("seasonal-naive", "auto-ets")


@pytest.fixture(scope="module")
def walkthrough(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """docs/custom-data.md's commands, run from an empty working directory; returns that directory."""
    births = layouts.shared_data() / "rdatasets-mosaicdata" / "Births.csv"
    work = tmp_path_factory.mktemp("custom")
    cwd = Path.cwd()
    os.chdir(work)
    try:
        convert = ["data", "convert", str(births), "--name", "us_births", "--timestamp-column", "date"]
        convert += ["--target-columns", "births", "--domain", "Healthcare", "--suite-file", "births.yaml"]
        assert main(convert) == 0
        for model in MODELS:
            assert main(["run", "--suite", "births.yaml", "--model", model, "--no-progress"]) == 0
        assert main(["report", "--suite", "births.yaml", "--output", "site"]) == 0
    finally:
        os.chdir(cwd)
    return work


def _frame(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, float_precision="round_trip").set_index("dataset")


def test_converted_csv_is_the_series_as_read(walkthrough: Path) -> None:
    births = pd.read_csv(layouts.shared_data() / "rdatasets-mosaicdata" / "Births.csv")
    name, root, datasets = read_suite_file(walkthrough / "births.yaml")
    assert (name, root) == ("births", (walkthrough / "births_data").resolve())
    assert datasets == (CustomDataset("us_births", "D", ("short",), "Healthcare"),)
    (series,) = list(load_dataset("births", "us_births", root))
    assert series.freq == "D" and series.start == pd.Timestamp(births["date"].iloc[0])
    np.testing.assert_array_equal(series.target[0], births["births"].to_numpy(dtype=np.float32))
    # the series count is recorded with the data, so a folder that loses series later is refused on load
    assert recorded_series_count(root / "us_births") == 1


def test_custom_run_applies_gift_eval_rules_to_the_published_numbers(walkthrough: Path) -> None:
    published = _frame(layouts.shared_data() / "gift-eval" / "results" / "seasonal_naive" / "all_results.csv")
    ours = _frame(walkthrough / "results" / "births" / "seasonal-naive" / "all_results.csv")
    assert list(ours.index) == ["us_births/D/short"]
    for metric in [c for c in published.columns if c.startswith("eval_metrics/")]:
        got, want = (
            float(ours.at["us_births/D/short", metric]),
            float(published.at["us_births/D/short", metric]),
        )
        assert math.isclose(got, want, rel_tol=1e-6), (metric, got, want)
    assert ours.at["us_births/D/short", "domain"] == "Healthcare"


def test_custom_board_normalises_by_seasonal_naive(walkthrough: Path) -> None:
    root = walkthrough / "results" / "births"
    snaive = _frame(root / "seasonal-naive" / "all_results.csv")
    ets = _frame(root / "auto-ets" / "all_results.csv")
    cwd = Path.cwd()
    os.chdir(walkthrough)
    try:
        board = compute_board("births.yaml", [Path("results/births")]).table.set_index("model")
    finally:
        os.chdir(cwd)
    for metric, column in (("MASE", "MASE[0.5]"), ("CRPS", "mean_weighted_sum_quantile_loss")):
        ratio = float(ets.at["us_births/D/short", f"eval_metrics/{column}"]) / float(
            snaive.at["us_births/D/short", f"eval_metrics/{column}"]
        )
        assert ratio != 1.0
        assert math.isclose(board.at["auto-ets", metric], ratio, rel_tol=1e-12)
        assert board.at["seasonal-naive", metric] == 1.0
    assert "auto-ets" in (walkthrough / "site" / "index.html").read_text()


def test_leaderboard_of_a_suite_file_prints_both_models(
    walkthrough: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cwd = Path.cwd()
    os.chdir(walkthrough)
    try:
        capsys.readouterr()
        assert main(["leaderboard", "--suite", "births.yaml"]) == 0
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    assert "births (GIFT-Eval rules) leaderboard" in out and "auto-ets" in out and "seasonal-naive" in out


def _long(stamps: list[str], values: list[float], ids: list[str] | None = None) -> pd.DataFrame:
    frame = pd.DataFrame({"timestamp": stamps, "y": values})
    if ids is not None:
        frame.insert(0, "id", ids)
    return frame


DAYS = [f"2020-01-{d:02d}" for d in range(1, 11)]


@pytest.mark.parametrize(
    ("frame", "kwargs", "message"),
    [
        (
            _long([*DAYS[:3], DAYS[2], *DAYS[4:]], [1.0] * 10),
            {},
            r"timestamp 2020-01-03 00:00:00 appears 2 times \(input rows \[2, 3\]\)",
        ),
        (
            _long(DAYS[:4] + DAYS[5:], [1.0] * 9),
            {"freq": "D"},
            r"input row 4 has timestamp 2020-01-06 .* expects 2020-01-05",
        ),
        (
            _long(DAYS, [1, 2, np.nan, 4, 5, 6, 7, 8, 9, 10]),
            {},
            r"target 'y' is missing \(NaN/empty\) at input row 2 .*--allow-nan",
        ),
        (_long(DAYS, ["1", "2", "x", *"4567890"]), {}, r"input row 2 .*target 'y' holds 'x', not a number"),
        (_long(["2020-01-01", "soon", *DAYS[2:]], [1.0] * 10), {}, r"input row 1 .*timestamp 'soon'"),
        (
            _long(
                [*DAYS[:5], "2020-02-01", "2020-03-01", "2020-04-01", "2020-05-01"],
                [1.0] * 9,
                ["a"] * 5 + ["b"] * 4,
            ),
            {"id_column": "id"},
            r"different frequencies",
        ),
        (
            _long(DAYS, [1.0] * 10),
            {"target_columns": ["sales"]},
            r"target column\(s\) \['sales'\] not in the input; its columns: timestamp, y",
        ),
        (
            _long(["2020-01-01", "2020-01-02", "2020-01-04", "2020-01-07"], [1.0] * 4),
            {},
            r"cannot infer a regular frequency .*pass --freq",
        ),
    ],
    ids=[
        "duplicate",
        "gap",
        "nan",
        "non-numeric",
        "bad-timestamp",
        "mixed-freq",
        "missing-column",
        "irregular",
    ],
)
def test_convert_rejects_bad_tables_naming_the_series_and_row(
    frame: pd.DataFrame, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ConvertError, match=message):
        convert_frame(frame, name="x", **kwargs)  # type: ignore[arg-type]


def test_convert_keeps_nan_only_when_allowed_and_counts_it() -> None:
    converted = convert_frame(_long(DAYS, [1, 2, np.nan, 4, 5, 6, 7, 8, 9, 10]), name="x", allow_nan=True)
    assert converted.missing == 1 and np.isnan(converted.targets[0][0, 2])


def test_convert_wide_table_trims_the_padding_of_shorter_series() -> None:
    frame = pd.DataFrame({"timestamp": DAYS, "a": np.arange(10.0), "b": [np.nan, np.nan, *np.arange(8.0)]})
    converted = convert_frame(frame, name="w", layout="wide")
    assert converted.item_ids == ["a", "b"] and converted.lengths == [10, 8]
    assert converted.starts[1] == pd.Timestamp("2020-01-03") and converted.trimmed == {"b": 2}


def test_convert_long_table_with_ids_and_two_targets_is_multivariate() -> None:
    frame = pd.DataFrame(
        {"id": ["s"] * 10 + ["t"] * 10, "timestamp": DAYS * 2, "u": np.arange(20.0), "v": -np.arange(20.0)}
    )
    converted = convert_frame(frame, name="m", id_column="id")
    assert converted.item_ids == ["s", "t"] and converted.freq == "D"
    np.testing.assert_array_equal(converted.targets[1], np.stack([np.arange(10.0, 20), -np.arange(10.0, 20)]))


def test_too_short_series_fail_before_anything_is_written() -> None:
    converted = convert_frame(_long(DAYS, [1.0] * 10), name="short")
    with pytest.raises(
        ConvertError, match=r"10 time steps .* need at least 31 .*--horizon.*shortest series is '0'"
    ):
        check_terms(converted, CustomDataset("short", "D", ("short",)))  # H = 30 needs 31 steps
    assert check_terms(converted, CustomDataset("short", "D", ("short",), horizon=3, windows=2)) == {
        "short": (3, 2)
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "name: s\ndatasets:\n  - name: a\n    freq: D\nhorizn: 3\n",
            r"unknown key\(s\) \['horizn'\]; valid keys: name, data, datasets",
        ),
        (
            "datasets:\n  - name: a\n    freq: D\n    horizn: 3\n",
            r"datasets\[0\]: unknown key\(s\) \['horizn'\]; "
            r"valid keys: name, freq, terms, domain, horizon, windows",
        ),
        (
            "datasets:\n  - name: a\n    freq: D\n    terms: [short, longest]\n",
            r"terms must be a non-empty list of short, medium, long",
        ),
        ("datasets:\n  - name: a\n    freq: D\n    windows: 0\n", r"windows must be a positive integer"),
        ("name: gift-eval\ndatasets:\n  - name: a\n    freq: D\n", r"name must be a new suite name"),
    ],
    ids=["suite-key", "dataset-key", "term", "windows", "builtin-name"],
)
def test_suite_file_errors_name_the_key_and_the_valid_ones(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(SuiteFileError, match=message):
        get_suite(str(path))


def test_run_rejects_data_whose_frequency_disagrees_with_the_suite_file(
    walkthrough: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (walkthrough / "births.yaml").read_text().replace("freq: D", "freq: h")
    path = tmp_path / "births.yaml"
    path.write_text(text.replace("data: births_data", f"data: {walkthrough / 'births_data'}"))
    out = tmp_path / "results"
    assert (
        main(["run", "--suite", str(path), "--model", "naive", "--output-dir", str(out), "--no-progress"])
        == 2
    )
    assert "says freq 'h'" in capsys.readouterr().err


def test_parquet_and_csv_of_the_same_table_convert_alike(tmp_path: Path) -> None:
    births_csv = layouts.shared_data() / "rdatasets-mosaicdata" / "Births.csv"
    pd.read_csv(births_csv).to_parquet(tmp_path / "births.parquet")
    kwargs = {"name": "b", "timestamp_column": "date", "target_columns": ["births"]}
    from_csv = convert_frame(read_table(births_csv), **kwargs)  # type: ignore[arg-type]
    from_parquet = convert_frame(read_table(tmp_path / "births.parquet"), **kwargs)  # type: ignore[arg-type]
    assert from_csv.freq == from_parquet.freq == "D"
    np.testing.assert_array_equal(from_csv.targets[0], from_parquet.targets[0])
