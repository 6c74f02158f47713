"""Pure, vectorised metrics and leaderboard aggregation with gluonts semantics."""

# --- per-config metrics (metrics/evaluate.py, metrics/quantiles.py, metrics/seasonal.py) ---
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
