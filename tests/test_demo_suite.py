"""The embedded demo suite: packaged GIFT-Eval-layout data, GIFT-Eval's numbers, GIFT-Eval's board.

Oracles: GIFT-Eval's published ``Seasonal_Naive`` rows (``../shared/data/gift-eval/results``, read in place)
for the six short-term configs, which are GIFT-Eval's own; the raw upstream files (``../shared/data``) for the
packaged series; the board's definition (gmean of per-config ratios to seasonal naive) computed by hand from
the two runs' ``all_results.csv``.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import layouts
import numpy as np
import pandas as pd
import pytest
from scipy.stats import gmean

from toto_bench.boards.document import compute_board
from toto_bench.cli import main
from toto_bench.engine.data import load_dataset
from toto_bench.suites import demo, get_suite

SHORT = [
    "saugeen/D/short",
    "saugeen/W/short",
    "saugeen/M/short",
    "us_births/D/short",
    "us_births/W/short",
    "us_births/M/short",
]


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``results/`` of seasonal-naive and naive demo runs made from an empty working directory."""
    work = tmp_path_factory.mktemp("work")
    cwd = Path.cwd()
    os.chdir(work)
    try:
        for model in ("seasonal-naive", "naive"):
            assert main(["run", "--suite", "demo", "--model", model, "--no-progress"]) == 0
    finally:
        os.chdir(cwd)
    return work / "results"


def _frame(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, float_precision="round_trip").set_index("dataset")


def test_demo_runs_from_the_packaged_data_and_names_gift_eval_configs(results: Path) -> None:
    frame = _frame(results / "demo" / "seasonal-naive" / "all_results.csv")
    assert list(frame.index) == get_suite("demo").configs()
    assert set(SHORT) <= set(frame.index)
    assert {"saugeen/D/medium", "saugeen/D/long", "us_births/D/medium", "us_births/D/long"} <= set(
        frame.index
    )


def test_demo_short_configs_reproduce_gift_eval_published_seasonal_naive(results: Path) -> None:
    published_csv = layouts.shared_data() / "gift-eval" / "results" / "seasonal_naive" / "all_results.csv"
    published = _frame(published_csv)
    ours = _frame(results / "demo" / "seasonal-naive" / "all_results.csv")
    metrics = [c for c in published.columns if c.startswith("eval_metrics/")]
    assert len(metrics) == 11
    for config in SHORT:
        for metric in metrics:
            got, want = float(ours.at[config, metric]), float(published.at[config, metric])
            # 1e-6: the scale at which the current stack reproduces GIFT-Eval (gift_eval_protocol.md §3)
            assert math.isclose(got, want, rel_tol=1e-6), (config, metric, got, want)
        assert ours.at[config, "domain"] == published.at[config, "domain"]
        assert ours.at[config, "num_variates"] == published.at[config, "num_variates"]


def _tsf_values(path: Path) -> np.ndarray:
    body = path.read_text().split("@data", 1)[1].strip()
    return np.asarray(body.split(":", 2)[2].split(","), dtype=np.float32)


@pytest.mark.parametrize(
    ("storage", "length", "freq"),
    [
        ("saugeenday/D", 23741, "D"),
        ("saugeenday/W", 3391, "W-FRI"),
        ("saugeenday/M", 780, "M"),
        ("us_births/D", 7305, "D"),
        ("us_births/W", 1043, "W-WED"),
        ("us_births/M", 240, "M"),
    ],
)
def test_packaged_series_are_the_upstream_series(storage: str, length: int, freq: str) -> None:
    shared = layouts.shared_data()
    (series,) = list(load_dataset("demo", storage))
    assert series.target.shape == (1, length) and series.freq == freq
    if storage.startswith("saugeen"):
        daily = _tsf_values(shared / "monash-saugeenday" / "saugeenday_dataset.tsf")
        assert series.start == pd.Timestamp("1915-01-01")
    else:
        births = pd.read_csv(shared / "rdatasets-mosaicdata" / "Births.csv")
        daily = births["births"].to_numpy(dtype=np.float32)
        assert series.start == pd.Timestamp("1969-01-01")
    kind = storage.rsplit("/", 1)[1]
    if kind == "D":
        np.testing.assert_array_equal(series.target[0], daily)
    elif kind == "W":  # first and last complete 7-day blocks, by hand
        blocks = daily[: 7 * length].reshape(length, 7).astype(np.float64)
        agg = blocks.mean(axis=1) if storage.startswith("saugeen") else blocks.sum(axis=1)
        np.testing.assert_allclose(series.target[0], agg, rtol=1e-6)
    else:  # January of the first year: 31 days
        first = daily[:31].astype(np.float64)
        want = first.mean() if storage.startswith("saugeen") else first.sum()
        assert math.isclose(float(series.target[0, 0]), float(want), rel_tol=1e-6)


COLUMNS = {"MASE": "eval_metrics/MASE[0.5]", "CRPS": "eval_metrics/mean_weighted_sum_quantile_loss"}


def test_demo_board_is_the_gift_eval_board_normalised_by_seasonal_naive(results: Path) -> None:
    root = results / "demo"
    naive = _frame(root / "naive" / "all_results.csv")
    snaive = _frame(root / "seasonal-naive" / "all_results.csv")
    board = compute_board("demo", [root]).table.set_index("model")
    for metric, column in COLUMNS.items():
        ratio = naive[column] / snaive.loc[naive.index, column]
        assert ratio.max() > 1.5  # monthly data: naive is not seasonal naive there
        assert math.isclose(board.at["naive", metric], float(gmean(ratio)), rel_tol=1e-12)
        assert board.at["seasonal-naive", metric] == 1.0


def test_demo_leaderboard_defaults_to_the_run_folder(
    results: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cwd = Path.cwd()
    os.chdir(results.parent)
    try:
        capsys.readouterr()
        assert main(["leaderboard", "--suite", "demo"]) == 0
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    assert "`results/demo`" in out
    assert re.search(r"\|\s*naive\s*\|", out) and re.search(r"\|\s*seasonal-naive\s*\|\s*1\.000", out)


def test_demo_report_writes_a_page(results: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert (
        main(["report", "--suite", "demo", "--results-dir", str(results / "demo"), "--output", str(out)]) == 0
    )
    html = (out / "index.html").read_text()
    assert "seasonal-naive" in html and "naive" in html


def test_demo_data_stays_small_and_carries_its_licences() -> None:
    files = [p for p in demo.DATA_ROOT.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) < 3 * 1024 * 1024
    sources = (demo.DATA_ROOT / "SOURCES.md").read_text()
    for storage in demo.DATASETS:
        assert (demo.DATA_ROOT / storage / "state.json").is_file()
        assert storage in sources
    assert "CC BY 4.0" in sources and "public domain" in sources
    assert re.search(r"commit\s+`?[0-9a-f]{40}", sources)


def test_readme_first_command_is_the_demo() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    first_block = readme.split("```bash", 1)[1].split("```", 1)[0]
    assert "toto-bench run --suite demo --model seasonal-naive" in first_block
    assert "toto-bench leaderboard --suite demo" in first_block
