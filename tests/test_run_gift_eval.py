"""`toto-bench run` reproduces the published GIFT-Eval seasonal_naive and naive values from raw public data.

The GIFT-Eval-layout datasets are built from ``../shared/data`` (ETTm1/ETTm2 at 15T/H/D/W, M4 hourly) with
the recipes of ``gift_eval_protocol.md`` §2, then run through the CLI exactly as a user would. The oracle is
``../shared/reference/gift_eval_expected.csv`` (published values, all 11 metrics).
"""

from __future__ import annotations

import math
from pathlib import Path

import layouts
import pandas as pd
import pytest

from toto_bench.cli import main

DATASETS = ["ett1/15T", "ett1/H", "ett1/D", "ett1/W", "ett2/15T", "ett2/H", "ett2/D", "ett2/W", "m4_hourly"]
MODELS = {"seasonal_naive": "seasonal-naive", "naive": "naive"}


@pytest.fixture(scope="module")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("gift_eval")
    layouts.build_ett(root, "ett1")
    layouts.build_ett(root, "ett2")
    layouts.build_m4_hourly(root)
    return root


@pytest.fixture(scope="module")
def runs(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    out = tmp_path_factory.mktemp("results")
    frames = {}
    for published, ours in MODELS.items():
        argv = ["run", "--suite", "gift-eval", "--model", ours, "--data-dir", str(data_root)]
        argv += ["--datasets", ",".join(DATASETS), "--output-dir", str(out), "--no-progress"]
        assert main(argv) == 0
        path = out / "gift-eval" / ours / "all_results.csv"
        frames[published] = pd.read_csv(path, float_precision="round_trip").set_index("dataset")
    return frames


def _expected() -> pd.DataFrame:
    path = layouts.SHARED / "reference" / "gift_eval_expected.csv"
    if not path.is_file():
        pytest.skip(f"{path} is absent (the shared folder sits beside the repo)")
    frame = pd.read_csv(path, float_precision="round_trip")
    return frame[frame["status"].str.startswith("reproduced")]


def test_every_published_seasonal_naive_and_naive_value_is_reproduced(runs: dict[str, pd.DataFrame]) -> None:
    expected = _expected()
    assert len(expected) == 374  # 17 configs x 2 models x 11 metrics
    mismatches = []
    for row in expected.itertuples():
        got = float(runs[row.model].loc[row.config, f"eval_metrics/{row.metric}"])
        if not math.isclose(got, row.published_value, rel_tol=1e-6, abs_tol=0.0):
            mismatches.append((row.model, row.config, row.metric, got, row.published_value))
    assert not mismatches


def test_results_file_has_the_upstream_schema_and_one_row_per_config(runs: dict[str, pd.DataFrame]) -> None:
    frame = runs["seasonal_naive"]
    metrics = ["MSE[mean]", "MSE[0.5]", "MAE[0.5]", "MASE[0.5]", "MAPE[0.5]", "sMAPE[0.5]", "MSIS"]
    metrics += ["RMSE[mean]", "NRMSE[mean]", "ND[0.5]", "mean_weighted_sum_quantile_loss"]
    columns = ["model", *(f"eval_metrics/{m}" for m in metrics), "domain", "num_variates", "dataset_size"]
    assert list(frame.columns) == columns
    assert frame.index.is_unique and len(frame) == 17
    # ett1/H short: 20 windows x 7 variates (univariate model splits the 7 variates)
    assert frame.loc["ett1/H/short", "dataset_size"] == 140
    assert frame.loc["ett1/H/short", "domain"] == "Energy"
    assert frame.loc["m4_hourly/H/short", "dataset_size"] == 414


def test_a_rerun_reuses_every_finished_config(data_root: Path, tmp_path: Path) -> None:
    argv = ["run", "--suite", "gift-eval", "--model", "naive", "--data-dir", str(data_root)]
    argv += ["--datasets", "ett1/D,ett2/W", "--output-dir", str(tmp_path), "--no-progress"]
    assert main(argv) == 0
    csv = tmp_path / "gift-eval" / "naive" / "all_results.csv"
    first = csv.read_bytes()
    journal = tmp_path / "gift-eval" / "naive" / "journal.jsonl"
    lines = journal.read_text().count("\n")
    assert main(argv) == 0
    assert journal.read_text().count("\n") == lines  # nothing recomputed
    assert csv.read_bytes() == first
