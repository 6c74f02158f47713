"""``toto-bench run`` against an independent upstream-style harness on generated data.

"Other configs are checked the same way by an independent harness that builds its own data: the protocol
must be right in general." Seeded synthetic datasets are written in the GIFT-Eval and BOOM on-disk layouts
and evaluated twice:

- by ``toto_bench.cli.main(["run", ...])`` (the engine, the native seasonal-naive/naive adapters, our
  metrics), read back from ``all_results.csv``;
- by ``tests/upstream.py`` (gift-eval ``Dataset`` logic with gluonts, the notebook's statsforecast wrapper,
  gluonts ``evaluate_forecasts``), which shares no protocol, model or metric code with toto_bench.

Every metric of every config must agree at ``rtol = 1e-6`` (NaN == NaN), the scale at which the current
library stack reproduces the published numbers (gift_eval_protocol.md §3).

Coverage: frequencies 10S, T, 5T, 10T, 15T, 30T, H, D, W, W-WED, M, Q-DEC, A-DEC; M4 horizon/window rules
(``"m4" in name``); univariate datasets with items of different lengths and starts (windows fixed by the
shortest); multivariate items (V = 3..5); NaN gaps inside contexts and labels, leading NaNs, label windows
that are entirely NaN; constant and all-zero series (zero seasonal error: masked MASE/MSIS, NaN metrics);
short/medium/long terms; BOOM layout with its properties file and the 2048-point context of its
seasonal naive (contexts longer than 2048, one whose last 2048 points are all NaN).

GIFT-Eval folders are named after real storage names whose published frequency matches the generated one
(the suite only knows those names); 1-minute and 30-minute data go through the BOOM layout.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from layouts import write_dataset
from upstream import METRIC_KEYS, evaluate_upstream

from toto_bench.cli import main

RTOL = 1e-6
MODELS = ("seasonal-naive", "naive")
SEED = 20240611

# ----------------------------------------------------------------------------------------------------------
# Signal generation


def _signal(
    rng: np.random.Generator,
    length: int,
    period: int,
    *,
    level: float = 50.0,
    amp: float = 10.0,
    noise: float = 2.0,
    gaps: int = 3,
    max_gap: int = 40,
    leading_nan: int = 0,
    tail_gaps: tuple[tuple[int, int], ...] = (),
    spikes: int = 3,
    integer: bool = False,
) -> np.ndarray:
    """A float32 periodic + trend + noise series with spikes and NaN gaps.

    ``tail_gaps`` are ``(offset from the end, length)`` NaN runs, placed where the test windows are.
    """
    t = np.arange(length, dtype=np.float64)
    phase = rng.uniform(0, 2 * np.pi)
    y = (
        level
        + amp * np.sin(2 * np.pi * t / max(period, 2) + phase)
        + 0.3 * amp * np.sin(4 * np.pi * t / max(period, 2))
        + rng.normal(0, 1) * t / length * amp
        + noise * rng.standard_normal(length)
    )
    if spikes:
        y[rng.integers(0, length, spikes)] += rng.uniform(3, 8) * amp
    if integer:
        y = np.maximum(np.round(y), 0)
    for _ in range(gaps):
        start = int(rng.integers(0, length - 1))
        y[start : start + int(rng.integers(1, max_gap + 1))] = np.nan
    for offset, run in tail_gaps:
        y[length - offset : length - offset + run] = np.nan
    y[:leading_nan] = np.nan
    return y.astype(np.float32)


def _starts(n: int, freq: str, base: str = "2020-01-01") -> list[pd.Timestamp]:
    """Distinct starts, ``k`` periods apart, on the grid of ``freq``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # legacy aliases ("H", "T", "A-DEC") as stored
        first = pd.Period(base, freq=freq)
    return [(first + 3 * k).to_timestamp() for k in range(n)]


# ----------------------------------------------------------------------------------------------------------
# GIFT-Eval layout


@dataclass(frozen=True)
class Case:
    """One generated dataset written under a GIFT-Eval storage name.

    Attributes:
        storage: the storage folder (a real GIFT-Eval storage name).
        prefix: expected config-name prefix (``<pretty>/<freq>``).
        freq: the stored frequency string.
        terms: the suite's terms for that storage name.
        build: ``rng -> list of targets`` (``[T]`` or ``[V, T]`` each).
    """

    storage: str
    prefix: str
    freq: str
    terms: tuple[str, ...]
    build: Callable[[np.random.Generator], list[np.ndarray]]


ALL = ("short", "medium", "long")
SHORT = ("short",)


def _items(
    lengths: list[int], period: int, **kwargs: object
) -> Callable[[np.random.Generator], list[np.ndarray]]:
    """Univariate items of the given lengths."""

    def build(rng: np.random.Generator) -> list[np.ndarray]:
        return [_signal(rng, n, period, **kwargs) for n in lengths]  # type: ignore[arg-type]

    return build


def _multi(
    n_var: int, length: int, period: int, **kwargs: object
) -> Callable[[np.random.Generator], list[np.ndarray]]:
    """One multivariate item ``[n_var, length]``."""

    def build(rng: np.random.Generator) -> list[np.ndarray]:
        rows = [_signal(rng, length, period, level=10.0 * (v + 1), **kwargs) for v in range(n_var)]  # type: ignore[arg-type]
        return [np.stack(rows)]

    return build


def _sparse_and_flat(rng: np.random.Generator) -> list[np.ndarray]:
    """Counts with many zeros, a constant series and a series with long flat stretches."""
    counts = np.where(rng.random(3000) < 0.7, 0.0, rng.poisson(3, 3000)).astype(np.float32)
    counts[200:260] = np.nan
    constant = np.full(3400, 7.5, dtype=np.float32)
    stretches = _signal(rng, 3200, 288, gaps=1)
    stretches[-700:-400] = stretches[-700]  # flat across several windows
    stretches[-100:] = 0.0  # all-zero labels at the end
    return [counts, constant, stretches]


def _all_flat(rng: np.random.Generator) -> list[np.ndarray]:
    """Zero seasonal error everywhere: MASE/MSIS fully masked (NaN), an all-zero item (0/0 ratios)."""
    return [np.zeros(2500, dtype=np.float32), np.full(2600, 3.0, dtype=np.float32)]


def _all_zero(rng: np.random.Generator) -> list[np.ndarray]:
    """Only zeros (and a NaN run): every ratio metric is 0/0 (NaN), CRPS included."""
    first = np.zeros(1500, dtype=np.float32)
    first[700:760] = np.nan
    return [first, np.zeros(1700, dtype=np.float32)]


def _label_all_nan(rng: np.random.Generator) -> list[np.ndarray]:
    """A whole label window NaN in one item, leading NaNs in another (weekly anchored data)."""
    first = _signal(rng, 110, 13, gaps=0, tail_gaps=((16, 8),))  # window 0 of W=2 (H=8) entirely NaN
    second = _signal(rng, 140, 13, gaps=1, leading_nan=9)
    third = _signal(rng, 175, 13, gaps=2, tail_gaps=((3, 2),))
    return [first, second, third]


CASES: tuple[Case, ...] = (
    # 10S, 3 items: short W=12, medium W=2, long W=1 (shortest 7000); NaN runs in the test region
    Case(
        "bizitobs_application",
        "bizitobs_application/10S",
        "10S",
        ALL,
        _items([7000, 7900, 8800], 360, tail_gaps=((500, 70), (1250, 20))),
    ),
    # 5T multivariate (V=3): short W=20, medium W=3, long W=2
    Case("LOOP_SEATTLE/5T", "loop_seattle/5T", "5T", ALL, _multi(3, 10000, 288, tail_gaps=((130, 30),))),
    # 5T degenerate: sparse counts, constant, flat stretches and zero labels
    Case("bitbrains_rnd/5T", "bitbrains_rnd/5T", "5T", ALL, _sparse_and_flat),
    # 5T: every seasonal error zero
    Case("bitbrains_fast_storage/5T", "bitbrains_fast_storage/5T", "5T", ALL, _all_flat),
    # H, all zeros: NaN MASE/MAPE/sMAPE/MSIS/NRMSE/ND/CRPS
    Case("bitbrains_rnd/H", "bitbrains_rnd/H", "H", SHORT, _all_zero),
    # 10T multivariate (V=4) with leading NaNs
    Case("solar/10T", "solar/10T", "10T", ALL, _multi(4, 6000, 144, leading_nan=200)),
    # 15T, 4 items of different lengths: short W=9, medium/long W=1
    Case(
        "electricity/15T",
        "electricity/15T",
        "15T",
        ALL,
        _items([4100, 5000, 6100, 8000], 96, leading_nan=30, tail_gaps=((60, 48),)),
    ),
    # H multivariate (V=5): short W=11, medium W=2, long W=1
    Case("ett1/H", "ett1/H", "H", ALL, _multi(5, 5000, 24, tail_gaps=((500, 25),))),
    # M4 rules: W=1 and the M4 horizons (H 48, D 14, W 13, M 18, Q 8, A 6)
    Case("m4_hourly", "m4_hourly/H", "H", SHORT, _items([700, 748, 1008, 900, 960], 24)),
    Case("m4_daily", "m4_daily/D", "D", SHORT, _items([200, 260, 333], 7, leading_nan=5)),
    Case("m4_weekly", "m4_weekly/W", "W-SUN", SHORT, _items([90, 120, 300], 52, max_gap=5)),
    Case("m4_monthly", "m4_monthly/M", "M", SHORT, _items([60, 99, 150], 12, max_gap=3)),
    Case("m4_quarterly", "m4_quarterly/Q", "Q-DEC", SHORT, _items([30, 44, 61], 4, gaps=1, max_gap=2)),
    Case("m4_yearly", "m4_yearly/A", "A-DEC", SHORT, _items([25, 31, 47], 1, gaps=1, max_gap=2)),
    # D, integer counts with zeros: W=ceil(0.1·730/30)=3
    Case(
        "covid_deaths",
        "covid_deaths/D",
        "D",
        SHORT,
        _items([730, 800, 1100], 7, level=3.0, amp=3.0, integer=True),
    ),
    Case("ett1/D", "ett1/D", "D", SHORT, _multi(3, 725, 7)),
    # W: W=ceil(0.1·300/8)=4
    Case("us_births/W", "us_births/W", "W", SHORT, _items([300, 350, 420], 52, max_gap=6)),
    Case("hierarchical_sales/W", "hierarchical_sales/W", "W-WED", SHORT, _label_all_nan),
    # M: W=ceil(0.1·250/12)=3
    Case("hospital", "hospital/M", "M", SHORT, _items([250, 260, 300, 333, 251], 12, max_gap=4)),
    Case("us_births/M", "us_births/M", "M", SHORT, _items([120, 150], 12, leading_nan=13, gaps=0)),
)


def _write_gift(root: Path) -> None:
    """Write every :data:`CASES` dataset under ``root`` (seeded, distinct starts per item)."""
    for i, case in enumerate(CASES):
        rng = np.random.default_rng([SEED, i])
        targets = case.build(rng)
        write_dataset(
            root / case.storage,
            targets,
            freq=case.freq,
            start=_starts(len(targets), case.freq),
            item_ids=[f"{case.storage.replace('/', '_')}_{k}" for k in range(len(targets))],
        )


#: ``all_results.csv`` read back: config → column → value.
Rows = dict[str, dict[str, Any]]


def _read_results(csv_path: Path) -> Rows:
    """Our ``all_results.csv`` by config, floats parsed round-trip exactly."""
    frame = pd.read_csv(csv_path, float_precision="round_trip").set_index("dataset")
    return {
        str(config): {str(k): v for k, v in row.items()} for config, row in frame.to_dict("index").items()
    }


def _run(suite: str, model: str, root: Path, out: Path, names: list[str], *extra: str) -> Rows:
    """``toto-bench run`` in-process on ``names``; its results by config."""
    argv = ["run", "--suite", suite, "--model", model, "--data-dir", str(root), "--output-dir", str(out)]
    argv += ["--datasets", ",".join(names), "--no-progress", *extra]
    assert main(argv) == 0
    return _read_results(out / suite / model / "all_results.csv")


@pytest.fixture(scope="module")
def gift_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Rows]]:
    """Write :data:`CASES` and run both models on them with ``toto-bench run --suite gift-eval``."""
    root = tmp_path_factory.mktemp("gift_data")
    out = tmp_path_factory.mktemp("gift_results")
    _write_gift(root)
    names = [case.storage for case in CASES]
    return root, {model: _run("gift-eval", model, root, out, names) for model in MODELS}


# ----------------------------------------------------------------------------------------------------------
# BOOM layout

#: ``ds-<id>-<freq>`` → (properties entry, build). Lengths exceed 2048 so the 2048-point context matters.
BOOM_CASES: dict[str, tuple[dict[str, object], Callable[[np.random.Generator], list[np.ndarray]]]] = {
    # T, V=3, L=12000: short W=20, medium W=3, long W=2; m=1440 < 2048
    "ds-9001-T": (
        {
            "domain": ["Infrastructure"],
            "frequency": "Short",
            "num_variates": 3,
            "term": "long",
            "type": "gauge",
        },
        _multi(3, 12000, 1440, tail_gaps=((300, 60),)),
    ),
    # 30T univariate, L=9000: short W=19, medium W=2, long W=2; m=48
    "ds-9002-30T": (
        {
            "domain": ["Database", "Networking"],
            "frequency": "Short",
            "num_variates": 1,
            "term": "long",
            "type": "rate",
        },
        _items([9000], 48, leading_nan=100),
    ),
    # 10S univariate, L=8000: a 2600-step NaN run ends at a window cut, so that window's last 2048 context
    # points are all NaN (the wrapper imputes zeros); m=360
    "ds-9003-10S": (
        {"domain": ["Security"], "frequency": "Short", "num_variates": 1, "term": "long", "type": "count"},
        _items([8000], 360, tail_gaps=((2900, 2600),)),
    ),
    # D, short only, V=4, L=3000: W=10, contexts > 2048; m=1
    "ds-9004-D": (
        {
            "domain": ["Application Usage"],
            "frequency": "Long",
            "num_variates": 5,  # over-stated, as for 19 real BOOM datasets
            "term": "short",
            "type": "distribution",
        },
        _multi(4, 3000, 7),
    ),
    # H, V=3, L=6000: short W=13, medium W=2, long W=1; m=24
    "ds-9005-H": (
        {
            "domain": ["Infrastructure"],
            "frequency": "Medium",
            "num_variates": 3,
            "term": "long",
            "type": "gauge",
        },
        _multi(3, 6000, 24, leading_nan=40),
    ),
}
BOOM_TERMS = {"long": ALL, "short": SHORT}


@pytest.fixture(scope="module")
def boom_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Rows]]:
    """Write :data:`BOOM_CASES` + a tiny properties file; run both models with ``--suite boom``."""
    root = tmp_path_factory.mktemp("boom_data")
    out = tmp_path_factory.mktemp("boom_results")
    props = {name: entry for name, (entry, _) in BOOM_CASES.items()}
    properties = root / "tiny_boom_properties.json"
    properties.write_text(json.dumps(props, indent=1))
    for i, (name, (_, build)) in enumerate(BOOM_CASES.items()):
        freq = name.split("-", 2)[2]
        targets = build(np.random.default_rng([SEED, 100 + i]))
        write_dataset(root / name, targets, freq=freq, start=_starts(1, freq, "2024-03-01"), item_ids=[name])
    extra = ("--properties", str(properties))
    return root, {model: _run("boom", model, root, out, list(BOOM_CASES), *extra) for model in MODELS}


# ----------------------------------------------------------------------------------------------------------
# Comparison


def _assert_same(config: str, ours: dict[str, Any], upstream: dict[str, float]) -> None:
    """Every metric equal at :data:`RTOL` (NaN == NaN); the message lists each disagreement."""
    bad = []
    for key in METRIC_KEYS:
        mine, ref = float(ours[f"eval_metrics/{key}"]), upstream[key]
        if math.isnan(ref) and math.isnan(mine):
            continue
        if not math.isclose(mine, ref, rel_tol=RTOL, abs_tol=0.0):
            rel = abs(mine - ref) / abs(ref) if ref else math.inf
            bad.append(f"{key}: ours {mine!r} vs upstream {ref!r} (rel {rel:.2e})")
    assert not bad, f"{config}: " + "; ".join(bad)


GIFT_PARAMS = [
    pytest.param(model, case, term, id=f"{model}-{case.prefix}/{term}")
    for model in MODELS
    for case in CASES
    for term in case.terms
]


@pytest.mark.parametrize(("model", "case", "term"), GIFT_PARAMS)
def test_gift_eval_run_matches_upstream(
    gift_run: tuple[Path, dict[str, Rows]], model: str, case: Case, term: str
) -> None:
    """One GIFT-Eval config: our CSV row equals the upstream-style evaluation (metrics and size)."""
    root, results = gift_run
    config = f"{case.prefix}/{term}"
    assert config in results[model], f"{config} missing from our all_results.csv"
    row = results[model][config]
    reference = evaluate_upstream(root / case.storage, term, model, name=case.storage)
    assert int(row["dataset_size"]) == reference.dataset_size
    _assert_same(config, row, reference.metrics)


def test_gift_eval_run_has_exactly_the_expected_configs(
    gift_run: tuple[Path, dict[str, Rows]],
) -> None:
    """The run writes exactly the configs of the datasets asked for, under their published names."""
    expected = {f"{case.prefix}/{term}" for case in CASES for term in case.terms}
    for model in MODELS:
        assert set(gift_run[1][model]) == expected


BOOM_PARAMS = [
    pytest.param(model, name, term, id=f"{model}-{name}/{term}")
    for model in MODELS
    for name, (entry, _) in BOOM_CASES.items()
    for term in BOOM_TERMS[str(entry["term"])]
]


@pytest.mark.parametrize(("model", "name", "term"), BOOM_PARAMS)
def test_boom_run_matches_upstream(
    boom_run: tuple[Path, dict[str, Rows]], model: str, name: str, term: str
) -> None:
    """One BOOM config (2048-point contexts): our CSV row equals the upstream-style evaluation."""
    root, results = boom_run
    entry = BOOM_CASES[name][0]
    config = f"{name}/{entry['frequency']}/{term}"
    assert config in results[model], f"{config} missing from our all_results.csv"
    row = results[model][config]
    reference = evaluate_upstream(root / name, term, model, name=name, max_length=2048)
    assert int(row["dataset_size"]) == reference.dataset_size
    assert int(row["num_variates"]) == _target_dim(root / name)
    _assert_same(config, row, reference.metrics)


def _target_dim(path: Path) -> int:
    """Row 0's number of variates, read the way gift-eval does."""
    import datasets

    target = datasets.load_from_disk(str(path)).with_format("numpy")[0]["target"]
    return int(target.shape[0]) if target.ndim > 1 else 1


def test_boom_truncation_matters(boom_run: tuple[Path, dict[str, Rows]]) -> None:
    """Sanity check of the oracle itself: without ``max_length`` the BOOM numbers change."""
    root, results = boom_run
    full = evaluate_upstream(root / "ds-9002-30T", "short", "naive", max_length=None).metrics
    ours = results["naive"]["ds-9002-30T/Short/short"]
    assert not math.isclose(
        full["mean_weighted_sum_quantile_loss"],
        ours["eval_metrics/mean_weighted_sum_quantile_loss"],
        rel_tol=1e-6,
    )
