"""Packaged upstream metadata: byte-identical to the reference copies, in the wheel's package data, used by
boards when nothing else is given, and its expected counts agree with independent derived tables."""

from __future__ import annotations

import csv
import hashlib
import tomllib
from pathlib import Path

import pytest

from toto_bench.cli import main
from toto_bench.suites import locate_properties
from toto_bench.suites.metadata import (
    expected_num_variates,
    expected_series_count,
    gift_eval_properties,
    packaged_path,
)

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"

#: sha256 of the upstream files as listed in ../shared/data/boom/MANIFEST.md (BOOM) and measured on
#: ../shared/data/gift-eval/dataset_properties.json (GIFT-Eval @ 4fd98a9).
UPSTREAM_SHA256 = {
    "boom": "eddcd09ba5d66c5a8d6d0b3b294dde001975cbf53a063b51d94ac0b5c6ed8383",
    "boomlet": "f4114191761375921dd97ec49b5ce873ef087a0f2b7b8d3b52e6f6e01fbbdc73",
    "gift-eval": "fd9b53a32b3f953f7033fe385610cbdd2ddb02a77d6e320c0e73056e1318ad4a",
}
REFERENCE = {
    "boom": SHARED / "boom" / "boom_properties.json",
    "boomlet": SHARED / "boom" / "boomlet_properties.json",
    "gift-eval": SHARED / "gift-eval" / "dataset_properties.json",
}


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"reference data not found at {path} (shared folder beside the repo)")
    return path


@pytest.mark.parametrize("suite", ["boom", "boomlet", "gift-eval"])
def test_packaged_file_is_the_upstream_file_byte_for_byte(suite: str) -> None:
    packaged = packaged_path(suite).read_bytes()
    assert hashlib.sha256(packaged).hexdigest() == UPSTREAM_SHA256[suite]
    assert packaged == _need(REFERENCE[suite]).read_bytes()


def test_package_data_globs_cover_every_metadata_file() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "toto_bench.suites.metadata" in config["tool"]["setuptools"]["packages"]
    globs = config["tool"]["setuptools"]["package-data"]["toto_bench.suites.metadata"]
    folder = ROOT / "bench" / "suites" / "metadata"
    shipped = {p.name for g in globs for p in folder.glob(g)}
    data_files = {p.name for p in folder.iterdir() if p.is_file() and p.suffix != ".py"}
    assert data_files == shipped
    assert {"SOURCE.md", "LICENSE-gift-eval.txt", "boom_properties.json"} <= shipped


def test_properties_fall_back_to_the_packaged_copy_only_when_nothing_else_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BOOM", raising=False)
    results = tmp_path / "r" / "results"
    results.mkdir(parents=True)
    assert locate_properties("boom", results_dirs=[results]) == packaged_path("boom")
    beside = tmp_path / "r" / "boom_properties.json"
    beside.write_text("{}")
    assert locate_properties("boom", results_dirs=[results]) == beside
    explicit = tmp_path / "mine.json"
    explicit.write_text("{}")
    assert locate_properties("boom", properties=explicit, results_dirs=[results]) == explicit
    with pytest.raises(FileNotFoundError, match="no such file"):
        locate_properties("boom", properties=tmp_path / "absent.json")


def test_leaderboard_without_properties_reproduces_the_published_boom_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    boom = _need(SHARED / "boom" / "results").parent
    monkeypatch.delenv("BOOM", raising=False)
    results = tmp_path / "r" / "results"  # nothing beside it: the packaged properties must serve
    results.mkdir(parents=True)
    for model in (boom / "results").iterdir():
        (results / model.name).symlink_to(model)  # read in place, never copied
    assert main(["leaderboard", "--suite", "boom", "--results-dir", str(results), "--format", "csv"]) == 0
    assert capsys.readouterr().out == (boom / "leaderboards" / "boom_leaderboard.csv").read_text()


def test_boom_series_counts_equal_the_target_dims_implied_by_the_published_results() -> None:
    # Independent oracle: target_dim_implied is the univariate/multivariate dataset_size ratio of the
    # published chronos_2 results (../shared/data/boom/derived), not read from the properties file.
    table = _need(SHARED / "boom" / "derived" / "windows_and_target_dim_per_config.csv")
    with table.open() as fh:
        implied = {row["config"].split("/")[0]: int(row["target_dim_implied"]) for row in csv.DictReader(fh)}
    assert len(implied) == 2807
    assert {ds: expected_series_count("boom", ds) for ds in implied} == implied
    assert expected_series_count("boomlet", "ds-1062-5T") == implied["ds-1062-5T"]


@pytest.mark.parametrize(
    ("dataset", "variates"), [("ett1/H", 7), ("ett2", 7), ("jena_weather/10T", 21), ("m4_hourly", 1)]
)
def test_gift_eval_variates_come_from_dataset_properties(dataset: str, variates: int) -> None:
    # published all_results.csv num_variates column: ett 7, jena_weather 21, m4 1
    assert expected_num_variates("gift-eval", dataset) == variates
    assert len(gift_eval_properties()) == 28


def test_unknown_dataset_suite_and_unpublished_count_are_named_errors() -> None:
    with pytest.raises(KeyError, match="'no-such-ds'"):
        expected_series_count("boom", "no-such-ds")
    with pytest.raises(ValueError, match="valid: boom, boomlet, gift-eval"):
        expected_series_count("lsf", "ETTh1")
    with pytest.raises(LookupError, match="expected_num_variates"):
        expected_series_count("gift-eval", "ett1/H")
