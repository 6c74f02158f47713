"""Benchmark: toto-bench's statsforecast auto models against statsforecast called directly.

Both forecast the same float32 series (``--configs`` configs of ``--series`` seasonal series each, lengths
drawn in [200, 600], no NaN) with the same settings (AutoETS ``ZZN``, BOOM's; the last 1000 points,
i.e. every point here; season 12; horizon 12):

* statsforecast direct: one ``StatsForecast(models=[AutoETS(...)], freq=1, n_jobs=<all CPUs>)``
  ``.forecast(df=..., h=12, level=[20, 40, 60, 80])`` over all series at once (how a user would call it);
* toto-bench: one ``AutoStatsForecaster("auto-ets")`` (no time limit, its one worker pool over all CPUs),
  called once per config as the engine does.

Asserts identical forecasts (the mean and the ``lo``/``hi`` columns of every level, float32 compared
exactly after toto-bench's float32 cast), and prints min/median wall time over ``--repeats`` alternating
repeats and ``ratio: X`` (statsforecast direct min / toto-bench min; >= 1.0 means toto-bench is not
slower) as the last line. The machine's load moves both alike; repeat on a quiet one for firm numbers.

Run: ``python benchmarks/statistical_vs_statsforecast.py [--configs 8] [--series 16] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings

import numpy as np
import pandas as pd

H, SEASON, LEVELS = 12, 12, [20, 40, 60, 80]


def _series(n: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        length = int(rng.integers(200, 600))
        t = np.arange(length)
        y = 50 + 10 * np.sin(2 * np.pi * t / SEASON) + 0.02 * t + rng.normal(0, 2, length)
        out.append(y.astype(np.float32))
    return out


def run_direct(series: list[np.ndarray], jobs: int) -> tuple[float, pd.DataFrame]:
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    df = pd.DataFrame(
        {
            "unique_id": np.repeat([f"s{i:05d}" for i in range(len(series))], [len(y) for y in series]),
            "ds": np.concatenate([np.arange(len(y)) for y in series]),
            "y": np.concatenate(series),
        }
    )
    sf = StatsForecast(models=[AutoETS(season_length=SEASON, model="ZZN")], freq=1, n_jobs=jobs)
    started = time.perf_counter()
    out = sf.forecast(df=df, h=H, level=LEVELS)
    return time.perf_counter() - started, out


def run_ours(configs: list[list[np.ndarray]], jobs: int) -> tuple[float, list[object]]:
    from toto_bench.adapters.statistical import AutoStatsForecaster

    model = AutoStatsForecaster("auto-ets", n_jobs=jobs)
    try:
        started = time.perf_counter()
        out = [model.predict([y[None, :] for y in ys], H, freq="M", seasonality=SEASON) for ys in configs]
        seconds = time.perf_counter() - started
    finally:
        model.close()
    assert model.fallbacks == [], model.fallbacks
    return seconds, out


def check_identical(direct: pd.DataFrame, ours: list[object], configs: list[list[np.ndarray]]) -> None:
    from toto_bench.adapters.statistical import interval_columns

    direct = direct.reset_index() if "unique_id" not in direct.columns else direct
    k = 0
    for fc, ys in zip(ours, configs, strict=True):
        for j in range(len(ys)):
            rows = direct[direct["unique_id"] == f"s{k:05d}"]
            np.testing.assert_array_equal(fc.mean[j, 0], rows["AutoETS"].to_numpy(np.float32))  # type: ignore[attr-defined]
            for q, (level, side) in enumerate(interval_columns()):
                if level == 0:
                    continue  # StatsForecast >= 2.1 rejects level 0; it is the mean for ETS
                want = rows[f"AutoETS-{side}-{level}"].to_numpy(np.float32)
                np.testing.assert_array_equal(fc.quantiles[j, 0, :, q], want)  # type: ignore[attr-defined]
            k += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", type=int, default=8)
    parser.add_argument("--series", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    jobs = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    configs = [_series(args.series, seed) for seed in range(args.configs)]
    flat = [y for ys in configs for y in ys]
    direct_t, ours_t = [], []
    for r in range(args.repeats):
        t, direct = run_direct(flat, jobs)
        direct_t.append(t)
        t, ours = run_ours(configs, jobs)
        ours_t.append(t)
        if r == 0:
            check_identical(direct, ours, configs)
    print(f"{len(flat)} series in {args.configs} configs, {jobs} CPUs, forecasts identical")
    print(f"statsforecast direct: min {min(direct_t):.2f} s, median {statistics.median(direct_t):.2f} s")
    print(f"toto-bench:           min {min(ours_t):.2f} s, median {statistics.median(ours_t):.2f} s")
    print(f"ratio: {min(direct_t) / min(ours_t):.2f}")


if __name__ == "__main__":
    main()
