"""Benchmark: toto_bench.metrics vs gluonts ``evaluate_forecasts`` on BOOM-sized configs.

Both score identical float32 quantile forecasts (the 9 levels) of the same float32 series with the
benchmark metric set (axis=None, mask_invalid_label=True, allow_nan_forecast=False) on

* a BOOM-like config set: 100 seeded datasets, one multivariate item each, variates drawn like BOOM's
  target_dim (median 1, max 100), BOOM frequencies (seasonality 1..1440), short/medium/long horizons with
  BOOM's window rule (short mostly 20 windows, medium/long 1-5), some series with NaN gaps;
* two GIFT-Eval-like univariate configs with many items (500 and 2000 windows).

* gluonts: ``evaluate_forecasts(batch_size=1024)`` on ``QuantileForecast`` objects built beforehand
  (not timed); its test-pair slicing and seasonal-error computation are timed, being part of its evaluate.
  One run per config.
* ours: slicing the label windows out of the series, :func:`seasonal_errors` on the series, and
  :func:`evaluate_quantile_forecasts`, all timed; median of 3 runs per config.

Asserts the 11 numbers agree (rtol 1e-6: gluonts sums float32 values in float32), prints a timing table
(BOOM-like rows grouped by term and variate count), subtotals, and ``speedup: X`` (total gluonts time /
total ours) as the last line. Expect the speedup to grow with the number of windows per config: gluonts
recomputes every window's seasonal error over its whole history and pays per-forecast overhead, while
the per-point cost of both sides is closer (~12 ns/point here for ours with the numba kernels, ~30 with
``TOTO_BENCH_NUMBA=0``). A warm-up on a tiny config first loads (or, right after an install, compiles) the
kernels; its time is printed, not counted.

Run: ``python benchmarks/metrics_vs_gluonts.py [--quick]`` (about 20 s; ``--quick`` runs a third).
"""

from __future__ import annotations

import argparse
import logging
import math
import time
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)

from gluonts.dataset.split import split  # noqa: E402
from gluonts.ev.metrics import (  # noqa: E402
    MAE,
    MAPE,
    MASE,
    MSE,
    MSIS,
    ND,
    NRMSE,
    RMSE,
    SMAPE,
    MeanWeightedSumQuantileLoss,
)
from gluonts.model.evaluation import evaluate_forecasts  # noqa: E402
from gluonts.model.forecast import QuantileForecast  # noqa: E402

from toto_bench.adapters.base import QUANTILE_LEVELS  # noqa: E402
from toto_bench.metrics import METRIC_NAMES, evaluate_quantile_forecasts, seasonal_errors  # noqa: E402

GLUONTS_METRICS = [
    MSE(forecast_type="mean"),
    MSE(forecast_type=0.5),
    MAE(),
    MASE(),
    MAPE(),
    SMAPE(),
    MSIS(),
    RMSE(),
    NRMSE(),
    ND(),
    MeanWeightedSumQuantileLoss(quantile_levels=list(QUANTILE_LEVELS)),
]
RTOL = 1e-6


@dataclass(frozen=True)
class Config:
    group: str  # dataset (BOOM: its three terms share it) or GIFT-like config
    term: str
    items: int
    variates: int  # 0 = univariate 1-D targets
    length: int
    windows: int
    horizon: int
    seasonality: int
    nan_fraction: float


def boom_windows(length: int, horizon: int) -> int:
    """BOOM / GIFT-Eval rule: ``min(max(1, ceil(0.1 * L / H)), 20)``."""
    return min(max(1, math.ceil(0.1 * length / horizon)), 20)


#: BOOM frequencies: seasonality, base horizon, typical series lengths (BOOM's window counts: short mostly
#: 20, medium 1-4, long 1-3), terms (D is short-only).
FREQS = {
    "10S": (360, 60, (12_000, 24_000), 3),
    "T": (1440, 48, (10_000, 20_000), 3),
    "5T": (288, 48, (10_000, 20_000), 3),
    "30T": (48, 48, (10_000, 20_000), 3),
    "H": (24, 48, (10_000, 20_000), 3),
    "D": (1, 30, (800, 3_000), 1),
}
#: Variate counts drawn like BOOM's target_dim (median 1, 90th percentile 43, max 100).
VARIATES = (1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4, 5, 7, 10, 15, 25, 43, 60, 100)
N_BOOM_DATASETS = 100


def boom_like_datasets(seed: int = 1) -> list[tuple[str, int, int, int, int, float, int]]:
    """(name, variates (0 = 1-D target), length, seasonality, base horizon, NaN fraction, terms)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(N_BOOM_DATASETS):
        freq = str(rng.choice(list(FREQS)))
        m, base, (lo, hi), terms = FREQS[freq]
        v = int(rng.choice(VARIATES))
        nan_frac = float(rng.choice([0.0, 0.0, 0.01, 0.05]))
        length = int(rng.integers(lo, hi))
        out.append((f"ds{i} {freq} V={v}", v if v > 1 else 0, length, m, base, nan_frac, terms))
    return out


#: GIFT-Eval-style univariate configs with many items (e.g. ``to_univariate`` or many-series datasets):
#: name, items, length, seasonality, horizon, NaN fraction.
GIFT_LIKE = (
    ("uni 100 items", 100, 3_000, 24, 60, 0.05),
    ("uni 400 items", 400, 2_000, 48, 48, 0.0),
)


def build_configs() -> tuple[Config, ...]:
    out = []
    for name, v, length, m, base, nan_frac, n_terms in boom_like_datasets():
        for term, mult in (("short", 1), ("medium", 10), ("long", 15))[:n_terms]:
            h = base * mult
            out.append(Config(name, term, 1, v, length, boom_windows(length, h), h, m, nan_frac))
    for name, items, length, m, h, nan_frac in GIFT_LIKE:
        out.append(Config(name, "short", items, 0, length, boom_windows(length, h), h, m, nan_frac))
    return tuple(out)


CONFIGS = build_configs()


def make_data(cfg: Config, rng: np.random.Generator) -> tuple[list[np.ndarray], np.ndarray]:
    """Series (float32, ``cfg.nan_fraction`` NaN) and quantiles ``[n, V, H, 9]`` float32, gluonts order."""
    series = []
    v = max(cfg.variates, 1)
    for _ in range(cfg.items):
        t = np.arange(cfg.length)
        x = 50 + np.cumsum(rng.normal(size=(v, cfg.length)), axis=-1) + 10 * np.sin(t * 2 * np.pi / 24)
        x[rng.random(x.shape) < cfg.nan_fraction] = np.nan
        x = x.astype(np.float32)
        series.append(x if cfg.variates else x[0])
    n = cfg.items * cfg.windows
    q = 50 + 10 * rng.normal(size=(n, v, cfg.horizon, 1)) + rng.normal(size=(n, v, cfg.horizon, 9))
    return series, np.sort(q, axis=-1).astype(np.float32)


def run_ours(cfg: Config, series: list[np.ndarray], quantiles: np.ndarray) -> dict[str, float]:
    """Slice labels and seasonal errors out of the series, then score (the whole thing is timed)."""
    labels, ses = [], []
    for s in series:
        s2 = s if s.ndim == 2 else s[None]
        cuts = s2.shape[-1] - cfg.horizon * (cfg.windows - np.arange(cfg.windows))
        labels.extend(s2[:, c : c + cfg.horizon] for c in cuts.tolist())  # [V, H] each
        ses.append(seasonal_errors(s2, cuts, cfg.seasonality))
    return evaluate_quantile_forecasts(np.stack(labels), quantiles, np.concatenate(ses))


def gluonts_inputs(cfg: Config, series: list[np.ndarray], quantiles: np.ndarray):
    ds = [
        {"start": pd.Period("2020-01-01 00:00", "h"), "target": s, "item_id": str(i)}
        for i, s in enumerate(series)
    ]
    _, template = split(ds, offset=-cfg.windows * cfg.horizon)
    test_data = template.generate_instances(
        prediction_length=cfg.horizon, windows=cfg.windows, distance=cfg.horizon
    )
    keys = [str(q) for q in QUANTILE_LEVELS]
    forecasts = []
    for i, (_, lab) in enumerate(test_data):
        arr = np.moveaxis(quantiles[i], -1, 0)  # [Q, V, H]
        arr = arr[:, 0] if cfg.variates == 0 else np.transpose(arr, (0, 2, 1))
        forecasts.append(
            QuantileForecast(np.ascontiguousarray(arr), start_date=lab["start"], forecast_keys=keys)
        )
    return test_data, forecasts


def run_gluonts(cfg: Config, test_data, forecasts) -> dict[str, float]:
    res = evaluate_forecasts(
        forecasts,
        test_data=test_data,
        metrics=GLUONTS_METRICS,
        axis=None,
        batch_size=1024,
        mask_invalid_label=True,
        allow_nan_forecast=False,
        seasonality=cfg.seasonality,
    )
    return {k: float(v) for k, v in res.iloc[0].items()}


def row_label(cfg: Config) -> str:
    """Table row: BOOM-like configs by term and variate bucket, GIFT-like ones by name."""
    if cfg.items > 1:
        return cfg.group
    v = max(cfg.variates, 1)
    bucket = "1" if v == 1 else "2-9" if v < 10 else "10-43" if v <= 43 else "44-100"
    return f"BOOM {cfg.term:6s} V {bucket}"


def timed(fn, repeat: int):
    """Result and median wall time of ``repeat`` calls."""
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="every third config only")
    args = parser.parse_args()
    configs = CONFIGS[::3] if args.quick else CONFIGS
    # Warm-up on a tiny config (own seed, so the data below is unchanged): numba compiles the metric kernels
    # once per install (cached on disk) and loads them once per process; neither is per-config work.
    t0 = time.perf_counter()
    warm = Config("warm-up", "short", 1, 2, 300, 2, 24, 24, 0.05)
    run_ours(warm, *make_data(warm, np.random.default_rng(1)))
    print(f"warm-up (kernel compile or cache load, not timed): {time.perf_counter() - t0:.2f} s")
    rng = np.random.default_rng(0)
    groups: dict[str, dict] = {}
    for cfg in configs:
        series, quantiles = make_data(cfg, rng)
        test_data, forecasts = gluonts_inputs(cfg, series, quantiles)
        ref, t_g = timed(lambda: run_gluonts(cfg, test_data, forecasts), 1)  # noqa: B023
        ours, t_o = timed(lambda: run_ours(cfg, series, quantiles), 3)  # noqa: B023
        worst = 0.0
        for name in METRIC_NAMES:
            a, b = ours[name], ref[name]
            assert math.isclose(a, b, rel_tol=RTOL, abs_tol=0.0), f"{cfg} {name}: ours={a!r} gluonts={b!r}"
            worst = max(worst, abs(a - b) / abs(b))
        n, v, h = quantiles.shape[:3]
        g = groups.setdefault(
            row_label(cfg),
            {
                "configs": 0,
                "windows": 0,
                "points": 0,
                "g": 0.0,
                "o": 0.0,
                "worst": 0.0,
                "boom": cfg.items == 1,
            },
        )
        g["configs"] += 1
        g["windows"] += n
        g["points"] += n * v * h
        g["g"] += t_g
        g["o"] += t_o
        g["worst"] = max(g["worst"], worst)

    print(
        f"{'configs':26s} {'n':>4s} {'windows':>8s} {'points':>9s} {'gluonts s':>10s} {'ours s':>8s} "
        f"{'speedup':>8s} {'max rel diff':>12s}"
    )
    for name, g in sorted(groups.items(), key=lambda kv: (not kv[1]["boom"], kv[0])):
        print(
            f"{name:26s} {g['configs']:4d} {g['windows']:8d} {g['points']:9d} {g['g']:10.3f} {g['o']:8.4f} "
            f"{g['g'] / g['o']:8.1f} {g['worst']:12.2e}"
        )
    for label, sel in (("BOOM-like", True), ("GIFT-like", False)):
        part = [g for g in groups.values() if g["boom"] is sel]
        if part:
            t_g, t_o = sum(g["g"] for g in part), sum(g["o"] for g in part)
            n_cfg = sum(g["configs"] for g in part)
            print(
                f"subtotal {label} ({n_cfg} configs): gluonts {t_g:.3f} s, ours {t_o:.4f} s, "
                f"speedup {t_g / t_o:.1f}"
            )
    total_g = sum(g["g"] for g in groups.values())
    total_o = sum(g["o"] for g in groups.values())
    print(
        f"total ({sum(g['configs'] for g in groups.values())} configs): gluonts {total_g:.3f} s, "
        f"ours {total_o:.4f} s"
    )
    print(f"speedup: {total_g / total_o:.1f}")


if __name__ == "__main__":
    main()
