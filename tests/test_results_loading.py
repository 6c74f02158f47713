"""Loading ``<dir>/<model>/all_results.csv`` files: normalisation, upstream quirks, clear errors."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from toto_bench.engine.results import (
    ResultsError,
    find_results_files,
    load_results,
    nonfinite_counts,
    normalize_results_frame,
    read_results_csv,
)
from toto_bench.suites.boom import BoomProperties

SHARED = Path(__file__).parents[1].parent / "shared"
BOOM = SHARED / "data" / "boom"
needs_shared = pytest.mark.skipif(
    not BOOM.is_dir(), reason=f"shared BOOM oracle data not found at {BOOM} (expected next to the repo)"
)

HEADER = (
    "dataset,model,eval_metrics/MSE[mean],eval_metrics/MAE[0.5],eval_metrics/MASE[0.5],"
    "eval_metrics/mean_weighted_sum_quantile_loss,domain,num_variates"
)
CONFIGS = ["ds-0-T/Short/short", "ds-0-T/Short/medium", "ds-0-T/Short/long", "ds-1-D/Long/short"]


def _rows(model: str, configs: list[str] = CONFIGS, mase: list[str] | None = None) -> list[str]:
    mase = mase or [f"{0.5 + i / 10}" for i in range(len(configs))]
    return [
        f"{c},{model},1.0,{0.1 * (i + 1)},{m},{0.2 * (i + 1)},Database,1"
        for i, (c, m) in enumerate(zip(configs, mase, strict=True))
    ]


def _write(root: Path, model: str, lines: list[str], header: str = HEADER) -> Path:
    d = root / model
    d.mkdir(parents=True, exist_ok=True)
    f = d / "all_results.csv"
    f.write_text("\n".join([header, *lines]) + "\n")
    return f


def test_load_basic(tmp_path: Path) -> None:
    _write(tmp_path, "b_model", _rows("whatever_name"))
    _write(tmp_path, "a_model", _rows("naive"))
    (tmp_path / "not_a_model").mkdir()  # no all_results.csv: skipped
    (tmp_path / "README.md").write_text("x")
    res = load_results(tmp_path, expected_configs=CONFIGS)
    assert list(res) == ["a_model", "b_model"]  # named by directory, not by the CSV model column
    df = res["a_model"]
    assert df.index.name == "dataset" and list(df.index) == CONFIGS
    assert list(df.columns) == ["MASE", "MAE", "CRPS"]
    assert (df.dtypes == np.float64).all()
    assert df.at["ds-0-T/Short/medium", "MASE"] == 0.6
    assert df.at["ds-1-D/Long/short", "CRPS"] == pytest.approx(0.8)
    assert df.attrs["source"] == str(tmp_path / "a_model" / "all_results.csv")
    only = load_results(tmp_path, required_columns=["CRPS"], models=["b_model"])
    assert list(only) == ["b_model"] and list(only["b_model"].columns) == ["CRPS"]


def test_upstream_quirks_are_normalised(tmp_path: Path) -> None:
    """f67fbc3-style file: unnamed index column, ``dd-`` keys, other model name, extra columns, other
    row order, short column names — gives the same frame as the clean file."""
    clean = read_results_csv(_write(tmp_path / "clean", "m", _rows("m")))
    lines = _rows("toto_v2_umup_capk1e4")[::-1]
    quirky_lines = [f"{i},dd-{ln},extra" for i, ln in enumerate(lines)]
    header = (
        ",dataset,model,MSE[mean],MAE[0.5],MASE[0.5],mean_weighted_sum_quantile_loss,domain,num_variates,foo"
    )
    quirky = read_results_csv(_write(tmp_path / "quirky", "m", quirky_lines, header=header))
    pd.testing.assert_frame_equal(quirky.loc[clean.index], clean)


def test_nan_and_inf_cells_are_legal_and_counted(tmp_path: Path) -> None:
    # -inf is negative, and every board metric is an error metric (>= 0): refused (tests/test_checks.py)
    _write(tmp_path, "m", _rows("m", mase=["nan", "inf", "", "Infinity"]))
    res = load_results(tmp_path)
    mase = res["m"]["MASE"].to_numpy()
    assert np.isnan(mase[0]) and mase[1] == np.inf and np.isnan(mase[2]) and mase[3] == np.inf
    counts = nonfinite_counts(res)
    assert counts.loc["m", ["MASE_nan", "MASE_inf", "MAE_nan", "CRPS_inf"]].tolist() == [2, 2, 0, 0]


def test_model_in_two_dirs_is_an_error(tmp_path: Path) -> None:
    a = _write(tmp_path / "run1", "toto", _rows("toto"))
    b = _write(tmp_path / "run2", "toto", _rows("toto"))
    with pytest.raises(ResultsError, match="'toto' appears twice") as e:
        load_results([tmp_path / "run1", tmp_path / "run2"])
    assert str(a) in str(e.value) and str(b) in str(e.value)


def test_missing_metric_column(tmp_path: Path) -> None:
    header = HEADER.replace("eval_metrics/MASE[0.5]", "eval_metrics/MAPE[0.5]")
    f = _write(tmp_path, "m", _rows("m"), header=header)
    with pytest.raises(
        ResultsError, match=r"no column for MASE \(accepted names: \['eval_metrics/MASE\[0.5\]'"
    ) as e:
        load_results(tmp_path)
    assert str(f) in str(e.value) and "Columns present" in str(e.value)


def test_missing_key_column(tmp_path: Path) -> None:
    f = _write(tmp_path, "m", _rows("m"), header=HEADER.replace("dataset,", "config,", 1))
    with pytest.raises(ResultsError, match="no 'dataset' column") as e:
        read_results_csv(f)
    assert str(f) in str(e.value)


def test_ambiguous_metric_column(tmp_path: Path) -> None:
    header = HEADER + ",MASE[0.5]"
    f = _write(tmp_path, "m", [ln + ",0.3" for ln in _rows("m")], header=header)
    with pytest.raises(
        ResultsError, match=r"ambiguous columns for MASE: \['eval_metrics/MASE\[0.5\]', 'MASE\[0.5\]'\]"
    ):
        read_results_csv(f)


def test_non_numeric_metric_cell(tmp_path: Path) -> None:
    f = _write(tmp_path, "m", _rows("m", mase=["0.5", "oops", "0.7", "1e-3"]))
    with pytest.raises(
        ResultsError,
        match=r"'eval_metrics/MASE\[0.5\]' has 1 non-numeric cell\(s\), e.g. 'ds-0-T/Short/medium': 'oops'",
    ) as e:
        load_results(tmp_path)
    assert str(f) in str(e.value)


def test_duplicate_config_keys(tmp_path: Path) -> None:
    lines = _rows("m")
    f = _write(
        tmp_path, "m", [*lines, lines[1].replace("ds-0-T", "dd-ds-0-T")]
    )  # a duplicate after dd- stripping
    with pytest.raises(ResultsError, match=r"1 duplicate config key\(s\), e.g. 'ds-0-T/Short/medium'") as e:
        read_results_csv(f)
    assert str(f) in str(e.value)


def test_missing_and_unexpected_configs(tmp_path: Path) -> None:
    configs = [*CONFIGS[:3], "ds-9-H/Medium/short"]
    f = _write(tmp_path, "m", _rows("m", configs=configs))
    with pytest.raises(ResultsError) as e:
        load_results(tmp_path, expected_configs=CONFIGS)
    msg = str(e.value)
    assert str(f) in msg
    assert "1 expected config(s) missing, e.g. 'ds-1-D/Long/short'" in msg
    assert "1 unexpected config(s), e.g. 'ds-9-H/Medium/short'" in msg
    many = [f"ds-{i}-T/Short/short" for i in range(100, 120)]
    with pytest.raises(
        ResultsError, match=r"20 expected config\(s\) missing, e.g. 'ds-100-T/Short/short', .*, \.\.\.$"
    ):
        load_results(tmp_path, expected_configs=many + configs)


def test_unreadable_and_empty_files(tmp_path: Path) -> None:
    d = tmp_path / "bin" / "m"
    d.mkdir(parents=True)
    (d / "all_results.csv").write_bytes(b"\xff\xfe\x00\x81garbage\x00\x00")
    with pytest.raises(ResultsError, match=r"all_results\.csv") as e:
        load_results(tmp_path / "bin")
    assert "m/all_results.csv" in str(e.value)
    d2 = tmp_path / "empty" / "m"
    d2.mkdir(parents=True)
    (d2 / "all_results.csv").write_text("")
    with pytest.raises(ResultsError, match="unreadable CSV"):
        load_results(tmp_path / "empty")
    f = _write(tmp_path / "header_only", "m", [])
    with pytest.raises(ResultsError, match="no data rows") as e:
        load_results(tmp_path / "header_only")
    assert str(f) in str(e.value)


def test_ragged_csv(tmp_path: Path) -> None:
    lines = _rows("m")
    lines[2] = lines[2] + ",1,2,3,4"
    f = _write(tmp_path, "m", lines)
    with pytest.raises(ResultsError, match="malformed CSV") as e:
        read_results_csv(f)
    assert str(f) in str(e.value)


def test_bad_directories(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="does not exist"):
        load_results(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ResultsError, match=r"no <model>/all_results\.csv found"):
        find_results_files(tmp_path / "empty")
    with pytest.raises(ResultsError, match="no results directory"):
        find_results_files([])
    _write(tmp_path / "r", "m", _rows("m"))
    with pytest.raises(ResultsError, match=r"requested model\(s\) \['x'\] not found; available: \['m'\]"):
        load_results(tmp_path / "r", models=["x"])


def test_normalize_frame_and_unknown_metric() -> None:
    raw = pd.DataFrame({"dataset": CONFIGS, "CRPS": [0.1, 0.2, 0.3, 0.4], "MASE": ["1", "2", "nan", "3"]})
    out = normalize_results_frame(raw, required_columns=["MASE", "CRPS"], source="frame X")
    assert out["MASE"].tolist()[:2] == [1.0, 2.0] and np.isnan(out["MASE"].iloc[2])
    assert normalize_results_frame(out, required_columns=["CRPS"]).equals(out[["CRPS"]])
    with pytest.raises(ValueError, match=r"unknown metric names \['MSIS'\]"):
        normalize_results_frame(raw, required_columns=["MSIS"])
    bad = raw.assign(dataset=[CONFIGS[0], None, CONFIGS[2], CONFIGS[3]])
    with pytest.raises(ResultsError, match=r"frame Y: 1 row\(s\) with an empty 'dataset' key"):
        normalize_results_frame(bad, required_columns=["CRPS"], source="frame Y")


@needs_shared
def test_published_results_load_fast_and_inventory() -> None:
    props = BoomProperties.from_json(BOOM / "boom_properties.json")
    t0 = time.perf_counter()
    res = load_results(BOOM / "results", expected_configs=props.configs())
    elapsed = time.perf_counter() - t0
    assert elapsed < 8.0, f"loading 23 published files took {elapsed:.1f} s"
    assert len(res) == 23 and all(len(df) == 7413 for df in res.values())
    counts = nonfinite_counts(res)
    # boom_protocol §8.6 inventory
    assert counts.at["moirai_2_small", "MASE_nan"] == 35
    assert (counts.at["moirai_2_small", "CRPS_nan"], counts.at["moirai_2_small", "CRPS_inf"]) == (38, 32)
    assert counts.at["seasonalnaive", "MASE_nan"] == 31
    assert res["toto"].loc["ds-786-T/Short/long"].isna().all()
    # row order differs between files (keyed by config, not position)
    raw_order = pd.read_csv(BOOM / "results" / "toto_2.0_1b" / "all_results.csv", usecols=["dataset"])[
        "dataset"
    ]
    assert list(res["toto_2.0_1b"].index) == list(raw_order)
    assert list(raw_order) != props.configs()
