"""Bad input stops `toto-bench run` with one clear line (exit 2) and leaves no results file behind."""

from __future__ import annotations

from pathlib import Path

import layouts
import numpy as np
import pandas as pd
import pytest

from toto_bench.cli import main

START = pd.Timestamp("2020-01-01")


def _run(data: Path, out: Path, datasets: str, model: str = "seasonal-naive") -> list[str]:
    argv = ["run", "--suite", "gift-eval", "--model", model, "--data-dir", str(data)]
    return [*argv, "--datasets", datasets, "--output-dir", str(out), "--no-progress"]


def _series(length: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (10 + np.sin(np.arange(length) / 5) + rng.normal(size=length)).astype(np.float32)


def _fails(argv: list[str], capsys: pytest.CaptureFixture[str], out: Path, *needles: str) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("toto-bench: error: ")
    assert len(err.strip().splitlines()) == 1
    for needle in needles:
        assert needle in err
    assert not list(out.rglob("all_results.csv"))
    return err


def test_missing_folder_names_the_repo_the_folder_and_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    _fails(
        _run(tmp_path / "data", out, "us_births/W"),
        capsys,
        out,
        "'us_births/W'",
        "Salesforce/GiftEval",
        "toto-bench download --suite gift-eval --datasets us_births/W",
        "--data-dir",
    )
    assert not out.exists()


def test_corrupt_arrow_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "data" / "us_births" / "W"
    layouts.write_dataset(folder, [_series(500)], freq="W", start=START)
    (arrow,) = folder.glob("*.arrow")
    arrow.write_bytes(arrow.read_bytes()[:100])
    out = tmp_path / "out"
    _fails(_run(tmp_path / "data", out, "us_births/W"), capsys, out, str(arrow))


@pytest.mark.parametrize(
    ("argv_model", "datasets", "needles"),
    [
        ("seasonal-naive", "us_birth/W", ("unknown gift-eval dataset 'us_birth/W'", "us_births/W")),
        ("seasonal-naiv", "us_births/W", ("unknown model 'seasonal-naiv'", "seasonal-naive")),
    ],
)
def test_unknown_names_suggest_close_matches(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv_model: str,
    datasets: str,
    needles: tuple[str, ...],
) -> None:
    layouts.write_dataset(tmp_path / "data" / "us_births" / "W", [_series(500)], freq="W", start=START)
    out = tmp_path / "out"
    _fails(_run(tmp_path / "data", out, datasets, model=argv_model), capsys, out, *needles)


def test_series_shorter_than_the_horizon(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # us_births/W: H = 8 (weekly short term); 6 points cannot hold one window plus one context step
    layouts.write_dataset(tmp_path / "data" / "us_births" / "W", [_series(6)], freq="W", start=START)
    out = tmp_path / "out"
    _fails(_run(tmp_path / "data", out, "us_births/W"), capsys, out, "us_births/W", "6")


def test_all_nan_series(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = np.full(300, np.nan, dtype=np.float32)
    folder = tmp_path / "data" / "us_births" / "W"
    layouts.write_dataset(folder, [_series(300), target], freq="W", start=START, item_ids=["a", "b"])
    out = tmp_path / "out"
    _fails(_run(tmp_path / "data", out, "us_births/W"), capsys, out, "'b'", "NaN")


def test_unknown_frequency_string(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    layouts.write_dataset(tmp_path / "data" / "m4_hourly", [_series(500)], freq="7Q9", start=START)
    out = tmp_path / "out"
    _fails(_run(tmp_path / "data", out, "m4_hourly"), capsys, out, "'7Q9'")


def test_an_error_midway_keeps_finished_configs_for_the_rerun(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    layouts.write_dataset(data / "us_births" / "W", [_series(500)], freq="W", start=START)
    layouts.write_dataset(data / "us_births" / "M", [_series(5)], freq="M", start=START)  # too short
    out = tmp_path / "out"
    _fails(_run(data, out, "us_births/W,us_births/M"), capsys, out, "us_births/M")
    journal = out / "gift-eval" / "seasonal-naive" / "journal.jsonl"
    assert journal.read_text().count("\n") == 1  # us_births/W/short is kept
    layouts.write_dataset(data / "us_births" / "M", [_series(200)], freq="M", start=START)
    assert main(_run(data, out, "us_births/W,us_births/M")) == 0
    frame = pd.read_csv(out / "gift-eval" / "seasonal-naive" / "all_results.csv")
    assert list(frame["dataset"]) == ["us_births/W/short", "us_births/M/short"]
