"""GIFT-Eval suite spec and on-disk layout: the 97 published config names, and the real ETT/M4 layouts built
from raw files give the documented lengths, horizons, windows and seasonalities, and reproduce the published
seasonal-naive and naive MASE."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from layouts import SHARED, build_ett, build_m4_hourly, shared_data

from toto_bench.engine.data import StoredDataset, load_dataset
from toto_bench.engine.tasks import Task, window_cuts
from toto_bench.suites import gift_eval

# The `dataset` column of SalesforceAIResearch/gift-eval results/Toto_2.0_22m/all_results.csv (commit
# 84493be), in file order.
PUBLISHED_CONFIGS = """
    ett1/15T/short ett1/15T/medium ett1/15T/long bitbrains_rnd/H/short electricity/D/short
    covid_deaths/D/short m4_monthly/M/short bitbrains_rnd/5T/short bitbrains_rnd/5T/medium
    bitbrains_rnd/5T/long solar/10T/short solar/10T/medium solar/10T/long
    bitbrains_fast_storage/H/short m4_hourly/H/short bizitobs_application/10S/short
    bizitobs_application/10S/medium bizitobs_application/10S/long solar/D/short restaurant/D/short
    ett1/H/short ett1/H/medium ett1/H/long car_parts/M/short sz_taxi/H/short solar/H/short
    solar/H/medium solar/H/long saugeen/M/short ett2/W/short m4_weekly/W/short us_births/W/short
    sz_taxi/15T/short sz_taxi/15T/medium sz_taxi/15T/long jena_weather/10T/short
    jena_weather/10T/medium jena_weather/10T/long m_dense/H/short m_dense/H/medium m_dense/H/long
    electricity/W/short bizitobs_service/10S/short bizitobs_service/10S/medium
    bizitobs_service/10S/long hospital/M/short bizitobs_l2c/H/short bizitobs_l2c/H/medium
    bizitobs_l2c/H/long jena_weather/D/short saugeen/W/short ett2/H/short ett2/H/medium ett2/H/long
    loop_seattle/H/short loop_seattle/H/medium loop_seattle/H/long us_births/M/short
    hierarchical_sales/D/short ett1/W/short m4_yearly/A/short kdd_cup_2018/H/short
    kdd_cup_2018/H/medium kdd_cup_2018/H/long ett2/D/short temperature_rain/D/short m4_daily/D/short
    hierarchical_sales/W/short electricity/H/short electricity/H/medium electricity/H/long
    kdd_cup_2018/D/short loop_seattle/D/short ett2/15T/short ett2/15T/medium ett2/15T/long
    electricity/15T/short electricity/15T/medium electricity/15T/long bitbrains_fast_storage/5T/short
    bitbrains_fast_storage/5T/medium bitbrains_fast_storage/5T/long solar/W/short bizitobs_l2c/5T/short
    bizitobs_l2c/5T/medium bizitobs_l2c/5T/long jena_weather/H/short jena_weather/H/medium
    jena_weather/H/long ett1/D/short loop_seattle/5T/short loop_seattle/5T/medium loop_seattle/5T/long
    us_births/D/short m_dense/D/short m4_quarterly/Q/short saugeen/D/short
""".split()


def test_the_97_config_names_are_the_published_ones() -> None:
    ours = [config for config, _, _ in gift_eval.configs()]
    assert len(ours) == len(set(ours)) == 97
    assert set(ours) == set(PUBLISHED_CONFIGS)


def test_suite_lists_and_terms() -> None:
    assert len(gift_eval.SHORT_DATASETS) == len(set(gift_eval.SHORT_DATASETS)) == 55
    assert len(gift_eval.MED_LONG_DATASETS) == len(set(gift_eval.MED_LONG_DATASETS)) == 21
    assert set(gift_eval.MED_LONG_DATASETS) <= set(gift_eval.SHORT_DATASETS)
    assert gift_eval.terms_of("ett1/H") == ("short", "medium", "long")
    assert gift_eval.terms_of("ett1/D") == ("short",)
    terms = pd.Series([term for _, _, term in gift_eval.configs()]).value_counts().to_dict()
    assert terms == {"short": 55, "medium": 21, "long": 21}


@pytest.mark.parametrize(
    ("storage_name", "term", "config"),
    [
        ("saugeenday/M", "short", "saugeen/M/short"),
        ("temperature_rain_with_missing", "short", "temperature_rain/D/short"),
        ("kdd_cup_2018_with_missing/H", "long", "kdd_cup_2018/H/long"),
        ("car_parts_with_missing", "short", "car_parts/M/short"),
        ("LOOP_SEATTLE/5T", "medium", "loop_seattle/5T/medium"),
        ("M_DENSE/D", "short", "m_dense/D/short"),
        ("bizitobs_service", "long", "bizitobs_service/10S/long"),
        ("m4_yearly", "short", "m4_yearly/A/short"),
    ],
)
def test_pretty_config_names(storage_name: str, term: str, config: str) -> None:
    assert gift_eval.config_name(storage_name, term) == config


def test_the_data_freq_must_agree_with_the_config_freq() -> None:
    assert (
        gift_eval.config_name("bizitobs_application", "short", data_freq="10s")
        == "bizitobs_application/10S/short"
    )
    assert gift_eval.config_name("m4_yearly", "short", data_freq="A-DEC") == "m4_yearly/A/short"
    assert gift_eval.config_name("m4_weekly", "short", data_freq="W-SUN") == "m4_weekly/W/short"
    with pytest.raises(
        ValueError, match=r"'hospital' has data frequency 'D' \(D\).*published configs use 'M'"
    ):
        gift_eval.config_name("hospital", "short", data_freq="D")
    assert gift_eval.config_name("hierarchical_sales/W", "short", "W-WED") == "hierarchical_sales/W/short"
    with pytest.raises(ValueError, match=r"'ett1/15T' has data frequency 'H' \(H\).*configs use '15T'"):
        gift_eval.config_name("ett1/15T", "short", data_freq="H")


def test_bad_names_and_terms_are_named() -> None:
    with pytest.raises(ValueError, match=r"unknown GIFT-Eval dataset 'ett1/h' \(did you mean 'ett1/H', "):
        gift_eval.config_name("ett1/h", "short")
    with pytest.raises(ValueError, match=r"'ett1/D' has no 'long' term; its terms: short"):
        gift_eval.config_name("ett1/D", "long")


# ----------------------------------------------------------------------------------------------------------
# Real layouts built from ../shared/data


@pytest.fixture(scope="module")
def gift_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    shared_data()
    root = tmp_path_factory.mktemp("gift_eval")
    build_ett(root, "ett1")
    build_ett(root, "ett2", freqs=("15T", "H", "W"))
    build_m4_hourly(root)
    return root


def _task(root: Path, storage_name: str, term: str) -> tuple[StoredDataset, Task]:
    ds = load_dataset("gift-eval", storage_name, root)
    task = gift_eval.task(
        storage_name, term, freq=ds.freq, min_length=ds.min_length, target_dim=ds.target_dim
    )
    return ds, task


@pytest.mark.parametrize(
    ("storage_name", "length", "seasonality", "per_term"),
    [
        # worked example of gift_eval_protocol.md §1.3: ett1/H (T=17420) 48→20, 480→4, 720→3
        ("ett1/H", 17420, 24, {"short": (48, 20), "medium": (480, 4), "long": (720, 3)}),
        ("ett1/15T", 69680, 96, {"short": (48, 20), "medium": (480, 15), "long": (720, 10)}),
        ("ett1/D", 725, 1, {"short": (30, 3)}),
        ("ett1/W", 103, 1, {"short": (8, 2)}),
        ("m4_hourly", 748, 24, {"short": (48, 1)}),
    ],
)
def test_real_layout_horizons_and_windows(
    gift_root: Path, storage_name: str, length: int, seasonality: int, per_term: dict[str, tuple[int, int]]
) -> None:
    for term, (horizon, windows) in per_term.items():
        ds, task = _task(gift_root, storage_name, term)
        assert (ds.min_length, task.seasonality) == (length, seasonality)
        assert (task.prediction_length, task.windows) == (horizon, windows)
        assert (
            task.config
            == f"{gift_eval.pretty_name(storage_name)}/{gift_eval.config_freq(storage_name)}/{term}"
        )
        cuts = window_cuts(length, horizon, windows)
        assert cuts[-1] + horizon == length and np.all(np.diff(cuts) == horizon)


def test_real_layout_shapes(gift_root: Path) -> None:
    ett = next(iter(load_dataset("gift-eval", "ett1/15T", gift_root)))
    assert ett.target.shape == (7, 69680) and ett.target.dtype == np.float32
    assert ett.start == pd.Timestamp("2016-07-01 00:00") and ett.freq == "15T"
    m4 = load_dataset("gift-eval", "m4_hourly", gift_root)
    assert len(m4) == 414 and m4.target_dim == 1
    first = next(iter(m4))
    assert first.item_id == "H1" and first.target.shape == (1, 748)
    assert first.start == pd.Timestamp("1750-01-01 00:00")


def _mase(ds: StoredDataset, task: Task, model: str) -> float:
    """MASE[0.5] of the seasonal-naive / naive point forecast over all windows (univariate split)."""
    horizon, season = task.prediction_length, task.seasonality
    scaled = []
    for series in ds:
        for variate in series.target.astype(np.float64):
            for cut in window_cuts(variate.size, horizon, task.windows, item=series.item_id):
                context, label = variate[:cut], variate[cut : cut + horizon]
                m = season if season <= context.size else 1
                seasonal_error = np.mean(np.abs(context[m:] - context[:-m]))
                if model == "seasonal_naive":
                    forecast = context[context.size - season + np.arange(horizon) % season]
                else:
                    forecast = np.full(horizon, context[-1])
                scaled.append(np.abs(label - forecast) / seasonal_error)
    return float(np.mean(np.concatenate(scaled)))


REPRODUCED = [
    "m4_hourly/H/short",
    "ett1/15T/short",
    "ett1/H/short",
    "ett1/H/medium",
    "ett1/H/long",
    "ett1/D/short",
    "ett1/W/short",
    "ett2/15T/long",
    "ett2/H/short",
    "ett2/W/short",
]


def test_published_mase_reproduces_from_the_real_layouts(gift_root: Path) -> None:
    expected = pd.read_csv(SHARED / "reference" / "gift_eval_expected.csv", float_precision="round_trip")
    expected = expected[expected["metric"] == "MASE[0.5]"].set_index(["config", "model"])["published_value"]
    storage = {config: (name, term) for config, name, term in gift_eval.configs()}
    for config in REPRODUCED:
        ds, task = _task(gift_root, *storage[config])
        assert task.config == config
        for model in ("seasonal_naive", "naive"):
            assert _mase(ds, task, model) == pytest.approx(expected[config, model], rel=1e-6), (config, model)
