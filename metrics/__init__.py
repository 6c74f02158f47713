"""Pure, vectorised metrics and leaderboard aggregation with gluonts semantics."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

# --- per-config metrics (metrics/evaluate.py, metrics/quantiles.py, metrics/seasonal.py) ---
# Imported on first use (PEP 562): ``evaluate`` compiles numba kernels, which ``toto-bench --help`` and
# ``list`` must not pay for.
if TYPE_CHECKING:
    from .evaluate import METRIC_NAMES, MetricAccumulator, evaluate_quantile_forecasts
    from .quantiles import (
        CRPS_LEVELS,
        EVAL_LEVELS,
        MSIS_LEVELS,
        mean_from_samples,
        quantile_at_level,
        quantiles_from_samples,
    )
    from .seasonal import seasonal_errors

_HOMES = {
    "METRIC_NAMES": "evaluate",
    "MetricAccumulator": "evaluate",
    "evaluate_quantile_forecasts": "evaluate",
    "CRPS_LEVELS": "quantiles",
    "EVAL_LEVELS": "quantiles",
    "MSIS_LEVELS": "quantiles",
    "mean_from_samples": "quantiles",
    "quantile_at_level": "quantiles",
    "quantiles_from_samples": "quantiles",
    "seasonal_errors": "seasonal",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


__all__ = [
    "CRPS_LEVELS",
    "EVAL_LEVELS",
    "METRIC_NAMES",
    "MSIS_LEVELS",
    "MetricAccumulator",
    "evaluate_quantile_forecasts",
    "mean_from_samples",
    "quantile_at_level",
    "quantiles_from_samples",
    "seasonal_errors",
]
# --- end per-config metrics ---
