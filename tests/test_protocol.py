"""Protocol rules: frequency normalisation and seasonality against gluonts itself, GIFT-Eval horizons and
windows (including BOOM's published per-config windows), and window placement against gluonts' split."""

from __future__ import annotations

import csv
import logging
import math
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from layouts import SHARED, write_dataset

from toto_bench.engine.data import load_dataset
from toto_bench.engine.tasks import (
    base_freq,
    build_task,
    freq_label,
    norm_freq_str,
    num_windows,
    parse_freq,
    prediction_length,
    seasonality,
    window_cuts,
)

BASES = [
    "S", "s", "T", "min", "H", "h", "D", "W", "M", "ME", "MS", "Q", "QE", "QS", "A", "Y", "YE", "AS", "YS",
    "B", "BM", "BME", "BMS", "BQ", "BQE", "BQS", "BA", "BY", "BYE", "BYS", "SME", "SMS", "C", "CBMS",
    "BH", "bh", "L", "ms", "U", "us", "N", "ns", "d", "m", "t", "Min",
]  # fmt: skip
MULTIPLES = ["", "1", "2", "3", "4", "5", "7", "10", "12", "15", "30", "60", "90", "3600", "7200"]
ANCHORED = ["W-SUN", "W-WED", "2W-WED", "Q-DEC", "QE-DEC", "Q-NOV", "A-DEC", "YE-DEC", "Y-JUN", "QS-JAN",
            "AS-JAN", "YS-JAN", "BQ-DEC", "SME-15"]  # fmt: skip
ALIASES = [n + b for b in BASES for n in MULTIPLES] + ANCHORED


def _gluonts(freq: str) -> tuple[int, str]:
    from gluonts.time_feature import get_seasonality
    from gluonts.time_feature import norm_freq_str as gluonts_norm_freq_str
    from pandas.tseries.frequencies import to_offset

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas' deprecation of the old aliases
        return get_seasonality(freq), gluonts_norm_freq_str(to_offset(freq).name)


def test_seasonality_and_norm_freq_str_equal_gluonts_over_many_aliases(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="gluonts")  # "Multiple n does not divide base seasonality"
    assert len(ALIASES) > 600
    for freq in ALIASES:
        assert (seasonality(freq), norm_freq_str(freq)) == _gluonts(freq), freq


@pytest.mark.parametrize(
    ("freq", "season"),
    [("15T", 96), ("10T", 144), ("5T", 288), ("10S", 360), ("H", 24), ("D", 1), ("W", 1), ("M", 12),
     ("Q", 4), ("A", 1), ("30T", 48), ("15min", 96), ("10s", 360), ("h", 24), ("ME", 12), ("QE-DEC", 4)],
)  # fmt: skip
def test_documented_seasonalities(freq: str, season: int) -> None:
    assert seasonality(freq) == season


@pytest.mark.parametrize(
    ("freq", "base"),
    [("10S", "S"), ("s", "S"), ("T", "T"), ("5T", "T"), ("15T", "T"), ("15min", "T"), ("min", "T"),
     ("H", "H"), ("h", "H"), ("2h", "H"), ("D", "D"), ("W", "W"), ("W-SUN", "W"), ("W-WED", "W"),
     ("M", "M"), ("ME", "M"), ("MS", "M"), ("Q", "Q"), ("QE-DEC", "Q"), ("A", "A"), ("A-DEC", "A"),
     ("YE", "A"), ("Y", "A"), ("B", "B"), ("us", "U"), ("ms", "ms")],
)  # fmt: skip
def test_base_freq_folds_old_and_new_aliases(freq: str, base: str) -> None:
    assert base_freq(freq) == base


def test_parse_and_label() -> None:
    assert parse_freq("15T") == parse_freq("15min")
    assert parse_freq("W-WED").anchor == "WED"
    assert [freq_label(f) for f in ("10s", "10S", "W-WED", "A-DEC", "15min", "1D", "MS")] == [
        "10S", "10S", "W", "A", "15T", "D", "M",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "freq", ["", "foo", "15X", "0H", "-1H", "1.5h", "W-FOO", "H-DEC", "Q-SUN", "1h30min"]
)
def test_unknown_frequencies_are_named_with_the_valid_bases(freq: str) -> None:
    with pytest.raises(
        ValueError, match=rf"unknown frequency '{freq}'.*valid base aliases: .*\bmin\b.*\bT\b"
    ):
        seasonality(freq)


@pytest.mark.parametrize(
    ("freq", "name", "short"),
    [("M", "hospital", 12), ("W", "us_births/W", 8), ("D", "x", 30), ("H", "x", 48), ("15T", "x", 48),
     ("10S", "x", 60), ("h", "x", 48), ("ME", "x", 12), ("W-WED", "hierarchical_sales/W", 8),
     ("A-DEC", "m4_yearly", 6), ("Q-DEC", "m4_quarterly", 8), ("M", "m4_monthly", 18),
     ("W-SUN", "m4_weekly", 13), ("D", "m4_daily", 14), ("H", "m4_hourly", 48), ("YE", "m4_yearly", 6)],
)  # fmt: skip
def test_prediction_length(freq: str, name: str, short: int) -> None:
    assert [prediction_length(freq, term, name) for term in ("short", "medium", "long")] == [
        short, 10 * short, 15 * short,
    ]  # fmt: skip


def test_prediction_length_errors_name_the_value_and_the_valid_ones() -> None:
    with pytest.raises(
        ValueError, match=r"dataset 'covid': frequency 'A' \(base 'A'\) .*valid bases: M, W, D, H, T, S"
    ):
        prediction_length("A", "short", "covid")
    with pytest.raises(
        ValueError, match=r"'m4_x'.*'10S'.*M4 GIFT-Eval horizon; valid bases: A, Q, M, W, D, H"
    ):
        prediction_length("10S", "short", "m4_x")
    with pytest.raises(ValueError, match=r"unknown term 'mid'; valid terms: short, medium, long"):
        prediction_length("H", "mid", "x")


def _upstream_windows(min_length: int, horizon: int) -> int:
    # gift-eval Dataset.windows, written out independently
    return min(max(1, math.ceil(0.1 * min_length / horizon)), 20)


def test_num_windows() -> None:
    assert [num_windows(17420, h, "ett1/H") for h in (48, 480, 720)] == [20, 4, 3]
    assert num_windows(10**6, 48, "m4_hourly") == 1
    assert num_windows(5, 48, "x") == 1
    assert num_windows(10**9, 48, "x") == 20
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 200_000, 2000).tolist()
    horizons = rng.choice([6, 8, 12, 30, 48, 60, 480, 900], 2000).tolist()
    for min_length, horizon in zip(lengths, horizons, strict=True):
        assert num_windows(min_length, horizon, "x") == _upstream_windows(min_length, horizon)
    # exact multiples of 10·H: the float expression decides, as upstream
    for horizon in (8, 12, 30, 48, 60, 480, 720, 900):
        for w in range(1, 21):
            assert num_windows(10 * horizon * w, horizon, "x") == _upstream_windows(10 * horizon * w, horizon)


def test_window_cuts_tile_the_last_h_w_steps() -> None:
    cuts = window_cuts(17420, 480, 4)
    assert cuts.tolist() == [15500, 15980, 16460, 16940] and cuts.dtype == np.int64
    assert window_cuts(49, 48, 1).tolist() == [1]
    with pytest.raises(
        ValueError, match=r"series 'H7' has 48 time steps but 1 test window\(s\) .* need at least 49"
    ):
        window_cuts(48, 48, 1, item="H7")


def test_build_task_names_a_dataset_too_short_for_its_windows() -> None:
    task = build_task(
        config="ett1/H/long", storage_name="ett1/H", term="long", freq="H", min_length=17420, target_dim=7
    )
    assert (task.prediction_length, task.windows, task.seasonality, task.target_dim) == (720, 3, 24, 7)
    with pytest.raises(
        ValueError, match=r"dataset 'tiny' \(tiny/D/short\): shortest series has 30 time steps"
    ):
        build_task(
            config="tiny/D/short", storage_name="tiny", term="short", freq="D", min_length=30, target_dim=1
        )


# ----------------------------------------------------------------------------------------------------------
# Window placement vs gluonts split(...).generate_instances(...)


def test_window_cuts_match_gluonts_split_on_a_generated_dataset() -> None:
    from gluonts.dataset.split import split

    rng = np.random.default_rng(1)
    for freq, target_dim, lengths in [("h", 1, [300, 451, 1000]), ("15min", 3, [700, 333]), ("D", 2, [95])]:
        arrays = [rng.normal(size=(target_dim, n)).astype(np.float32) for n in lengths]
        targets = [a[0] if target_dim == 1 else a for a in arrays]
        start = pd.Period("2020-01-01", freq=freq)
        entries = [{"start": start, "target": t, "item_id": str(i)} for i, t in enumerate(targets)]
        for term in ("short", "medium", "long"):
            horizon = prediction_length(freq, term, "generated")
            windows = num_windows(min(lengths), horizon, "generated")
            if min(lengths) < horizon * windows + 1:
                continue
            _, template = split(entries, offset=-horizon * windows)
            pairs = list(
                template.generate_instances(prediction_length=horizon, windows=windows, distance=horizon)
            )
            ours = [(t, cut) for t in targets for cut in window_cuts(t.shape[-1], horizon, windows)]
            assert len(pairs) == len(ours)
            for (inp, label), (target, cut) in zip(pairs, ours, strict=True):
                np.testing.assert_array_equal(inp["target"], target[..., :cut])
                np.testing.assert_array_equal(label["target"], target[..., cut : cut + horizon])


# ----------------------------------------------------------------------------------------------------------
# BOOM: published windows per config

BOOM_WINDOWS = SHARED / "data" / "boom" / "derived" / "windows_and_target_dim_per_config.csv"
#: boom_protocol.md §3: horizon of the short term by freq suffix, and the freq category in config names
BOOM_SHORT_HORIZON = {"10S": 60, "T": 48, "5T": 48, "30T": 48, "H": 48, "D": 30}
BOOM_CATEGORY = {"10S": "Short", "T": "Short", "5T": "Short", "30T": "Short", "H": "Medium", "D": "Long"}


def _boom_rows() -> dict[str, list[tuple[str, int, int]]]:
    """dataset -> [(term, windows, target_dim)] from the published per-config windows."""
    if not BOOM_WINDOWS.is_file():
        pytest.skip(f"{BOOM_WINDOWS} is absent (the shared data folder sits beside the repo)")
    rows: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
    with BOOM_WINDOWS.open() as fh:
        for row in csv.DictReader(fh):
            dataset, _, term = row["config"].split("/")
            rows[dataset].append((term, int(row["windows"]), int(row["target_dim_implied"])))
    return rows


def _length_for(dataset: str, terms: list[tuple[str, int, int]]) -> int:
    """A series length inside every term's window interval (strictly, away from float boundaries)."""
    freq = dataset.rsplit("-", 1)[1]
    low, high = 1, 10**9
    for term, windows, _ in terms:
        horizon = prediction_length(freq, term, dataset)
        low = max(low, 10 * horizon * (windows - 1) + 1, horizon * windows + 1)
        if windows < 20:
            high = min(high, 10 * horizon * windows - 1)
    assert low <= high, f"{dataset}: no series length gives windows {terms}"
    return (low + high) // 2 if high < 10**9 else low + 1


def test_boom_windows_and_horizons_for_every_config() -> None:
    rows = _boom_rows()
    assert sum(len(t) for t in rows.values()) == 7413
    for dataset, terms in rows.items():
        freq = dataset.rsplit("-", 1)[1]
        length = _length_for(dataset, terms)
        for term, windows, _ in terms:
            horizon = prediction_length(freq, term, dataset)
            assert horizon == BOOM_SHORT_HORIZON[freq] * {"short": 1, "medium": 10, "long": 15}[term]
            assert num_windows(length, horizon, dataset) == windows, (dataset, term, length)


def test_boom_sample_from_generated_layouts(tmp_path: Path) -> None:
    rows = _boom_rows()
    sample: dict[str, str] = {}
    for dataset, terms in rows.items():  # first dataset of each freq with a small target_dim
        freq = dataset.rsplit("-", 1)[1]
        if freq not in sample and terms[0][2] <= 4:
            sample[freq] = dataset
    assert set(sample) == {"10S", "T", "5T", "30T", "H", "D"}
    rng = np.random.default_rng(2)
    for freq, dataset in sample.items():
        terms = rows[dataset]
        target = rng.normal(size=(terms[0][2], _length_for(dataset, terms))).astype(np.float32)
        write_dataset(tmp_path / dataset, [target if target.shape[0] > 1 else target[0]], freq=freq)
        ds = load_dataset("boom", dataset, tmp_path)
        for term, windows, target_dim in terms:
            task = build_task(
                config=f"{dataset}/{BOOM_CATEGORY[freq]}/{term}",
                storage_name=dataset,
                term=term,
                freq=ds.freq,
                min_length=ds.min_length,
                target_dim=ds.target_dim,
            )
            assert (task.windows, task.target_dim) == (windows, target_dim), task
            assert len(window_cuts(ds.min_length, task.prediction_length, task.windows)) == windows
