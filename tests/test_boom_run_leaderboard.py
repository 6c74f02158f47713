"""A run on generated BOOM-layout data joins the published BOOM board as a 24th model.

The data are synthetic (the BOOM arrow files cannot be downloaded here), written in the upstream
``Datadog/BOOM`` layout under the real dataset names; the published 23 result files are read in place.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import layouts
import numpy as np
import pandas as pd
import pytest

from toto_bench.cli import main
from toto_bench.suites.metadata import expected_series_count

BOOM = layouts.SHARED / "data" / "boom"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    if not (BOOM / "results").is_dir():
        pytest.skip(f"published BOOM results not found at {BOOM} (the shared folder sits beside the repo)")
    properties = json.loads((BOOM / "boom_properties.json").read_text())
    names = list(properties)[:12]
    data = tmp_path_factory.mktemp("boom_data")
    rng = np.random.default_rng(7)
    for name in names:
        freq = name.rsplit("-", 1)[-1]
        n_var = expected_series_count("boom", name)  # the run checks the published count
        t = np.arange(4000)
        target = 5 + np.sin(2 * np.pi * t / 96)[None] + rng.normal(scale=0.3, size=(n_var, 4000))
        target[:, 1000:1040] = np.nan  # a gap, as observability data have
        layouts.write_dataset(
            data / name,
            [target.astype(np.float32) if n_var > 1 else target[0].astype(np.float32)],
            freq=freq,
            start=pd.Timestamp("2024-01-01"),
        )
    out = tmp_path_factory.mktemp("results")
    argv = ["run", "--suite", "boom", "--model", "seasonal-naive", "--data-dir", str(data)]
    argv += ["--properties", str(BOOM / "boom_properties.json"), "--output-dir", str(out), "--no-progress"]
    assert main([*argv, "--datasets", ",".join(names)]) == 0
    return out / "boom", names


def _board(capsys: pytest.CaptureFixture[str], *dirs: Path) -> pd.DataFrame:
    argv = ["leaderboard", "--suite", "boom", "--partial", "--format", "csv"]
    argv += ["--properties", str(BOOM / "boom_properties.json")]
    for d in dirs:
        argv += ["--results-dir", str(d)]
    assert main(argv) == 0
    return pd.read_csv(io.StringIO(capsys.readouterr().out)).set_index("model")


def test_the_new_model_is_ranked_against_the_23_published_ones(
    runs: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ours, names = runs
    frame = pd.read_csv(ours / "seasonal-naive" / "all_results.csv")
    assert {c.split("/")[0] for c in frame["dataset"]} == set(names)
    with_ours = _board(capsys, BOOM / "results", ours)
    # the 23 published files cut to the same configs: the board without the new model
    for folder in (BOOM / "results").iterdir():
        published = pd.read_csv(folder / "all_results.csv")
        (tmp_path / folder.name).mkdir()
        published[published["dataset"].isin(frame["dataset"])].to_csv(
            tmp_path / folder.name / "all_results.csv"
        )
    published_only = _board(capsys, tmp_path)
    assert len(with_ours) == 24 and "seasonal-naive" in with_ours.index
    rank_cols = [c for c in with_ours.columns if c.startswith("Rank-")]
    value_cols = [c for c in with_ours.columns if not c.startswith("Rank-")]
    assert all(1 <= with_ours.loc["seasonal-naive", c] <= 24 for c in rank_cols)
    # adding a model changes ranks only: every published model keeps its scaled/raw aggregates
    pd.testing.assert_frame_equal(with_ours.loc[published_only.index, value_cols], published_only[value_cols])
    # per config the ranks of 24 models sum to 24*25/2, so do their means
    assert with_ours[rank_cols[0]].sum() == pytest.approx(24 * 25 / 2, abs=0.01)
