"""Deterministic baselines by default: a wall-clock limit only on the suites whose upstream runs use one
(BOOM's notebooks: 45 s per config), ``--time-limit SECONDS|none`` to change it, and every row a fallback
produced counted in the run summary and marked on the boards and the report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import layouts
import pytest
import run_fixtures

from toto_bench.adapters.registry import get_model_spec
from toto_bench.boards.document import build_document
from toto_bench.boards.report import write_report
from toto_bench.cli import build_parser, main
from toto_bench.cli.run import _model_overrides

AUTO_MODELS = ["auto-arima", "auto-ets", "auto-theta"]


@pytest.mark.parametrize("model", AUTO_MODELS)
@pytest.mark.parametrize(
    ("suite", "limit"),
    [("gift-eval", None), ("time", None), ("lsf", None), ("boom", 45.0), ("boomlet", 45.0), (None, None)],
)
def test_auto_models_have_a_time_limit_only_where_the_upstream_runs_have_one(
    model: str, suite: str | None, limit: float | None
) -> None:
    assert get_model_spec(model).settings_for(suite)["time_limit"] == limit


@pytest.mark.parametrize(
    ("flag", "suite", "expected"),
    [("none", "boom", None), ("NONE", "gift-eval", None), ("30", "gift-eval", 30.0), ("0.5", "boom", 0.5)],
)
def test_time_limit_flag_overrides_the_suite_setting(flag: str, suite: str, expected: float | None) -> None:
    args = build_parser().parse_args(["run", "--suite", suite, "--model", "auto-ets", "--time-limit", flag])
    assert _model_overrides(args) == {"time_limit": expected}


@pytest.mark.parametrize("flag", ["0", "-3", "inf", "soon"])
def test_time_limit_flag_rejects_what_is_not_a_positive_number_or_none(
    flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--suite", "boom", "--model", "auto-ets", "--time-limit", flag])
    assert "must be a number of seconds > 0 or 'none'" in capsys.readouterr().err


def test_time_limit_flag_is_refused_by_models_without_one(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["run", "--suite", "gift-eval", "--model", "seasonal-naive", "--time-limit", "10"]
    assert main(argv) == 2
    assert "does not take time_limit (--time-limit)" in capsys.readouterr().err


def _run_auto(data: Path, out: Path, datasets: str, *extra: str) -> int:
    argv = ["run", "--suite", "gift-eval", "--model", "auto-ets", "--data-dir", str(data)]
    return main([*argv, "--datasets", datasets, "--output-dir", str(out), "--no-progress", *extra])


def test_an_interrupted_auto_model_run_resumes_to_the_uninterrupted_bytes(tmp_path: Path) -> None:
    pytest.importorskip("statsforecast")
    names = ["us_births/D", "us_births/W", "saugeenday/M"]
    data = run_fixtures.write_datasets(tmp_path / "data", names, series=2)
    assert _run_auto(data, tmp_path / "ref", ",".join(names)) == 0
    assert _run_auto(data, tmp_path / "out", names[1]) == 0  # a first part, then the rest resumes
    assert _run_auto(data, tmp_path / "out", ",".join(names)) == 0
    csv = Path("gift-eval", "auto-ets", "all_results.csv")
    assert (tmp_path / "out" / csv).read_bytes() == (tmp_path / "ref" / csv).read_bytes()
    record = json.loads((tmp_path / "out" / csv.parent / "config.json").read_text())
    assert record["settings"]["time_limit"] is None and record["fallback_configs"] == []


def test_time_limit_fallbacks_are_counted_in_the_summary_and_marked_on_the_board(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("statsforecast")
    names = ["us_births/W", "saugeenday/M"]
    data = run_fixtures.write_datasets(tmp_path / "data", names, series=2)
    out = tmp_path / "out"
    # a limit no fit can meet: every config falls back, whatever the machine's load
    assert _run_auto(data, out, ",".join(names), "--time-limit", "0.000001") == 0
    err = capsys.readouterr().err
    assert "fallback (time_limit): 2 of the 2 computed configs hold seasonal-naive forecasts" in err
    assert "saugeen/M/short" in err and "us_births/W/short" in err

    # the board: our run beside two complete GIFT-Eval result folders
    results = tmp_path / "board"
    layouts.write_gift_eval_results(results / "auto-ets", "auto-ets", seed=1)
    layouts.write_gift_eval_results(results / "seasonal_naive", "seasonal_naive", seed=2)
    record = json.loads((out / "gift-eval" / "auto-ets" / "config.json").read_text())
    (results / "auto-ets" / "config.json").write_text(json.dumps(record))
    text = build_document(suite="gift-eval", results_dirs=[results], properties=None, fmt="md").files[
        "gift-eval.md"
    ]
    assert re.search(r"^\| auto-ets † +\|", text, re.M) and re.search(r"^\| seasonal_naive +\|", text, re.M)
    assert "`auto-ets` †: 2 config(s) fell back to seasonal naive (time_limit)" in text
    assert "1e-06 s wall-clock limit per config, so its rows depend on the machine" in text

    page = write_report(suite="gift-eval", results_dirs=[results], output=tmp_path / "site")
    html = Path(page).read_text()
    assert "auto-ets †" in html and "2 config(s) fell back to seasonal naive (time_limit)" in html


def test_jobs_changes_the_worker_count_but_neither_the_numbers_nor_the_results_key(tmp_path: Path) -> None:
    pytest.importorskip("statsforecast")
    names = "us_births/W,saugeenday/M"
    data = run_fixtures.write_datasets(tmp_path / "data", names.split(","), series=3)
    records = {}
    for jobs in ("1", "2"):
        assert _run_auto(data, tmp_path / jobs, names, "--jobs", jobs) == 0
        records[jobs] = json.loads((tmp_path / jobs / "gift-eval" / "auto-ets" / "config.json").read_text())
    csv = Path("gift-eval", "auto-ets", "all_results.csv")
    assert (tmp_path / "1" / csv).read_bytes() == (tmp_path / "2" / csv).read_bytes()
    assert records["1"]["spec_hash"] == records["2"]["spec_hash"] and "n_jobs" not in records["1"]["settings"]
    assert [records[j]["model_details"]["settings"]["n_jobs"] for j in ("1", "2")] == [1, 2]


def test_jobs_is_refused_by_models_without_workers(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = run_fixtures.write_datasets(tmp_path / "data", ["us_births/W"])
    argv = ["run", "--suite", "gift-eval", "--model", "naive", "--data-dir", str(data), "--jobs", "2"]
    assert main([*argv, "--output-dir", str(tmp_path / "out"), "--no-progress"]) == 2
    assert "does not take n_jobs" in capsys.readouterr().err
