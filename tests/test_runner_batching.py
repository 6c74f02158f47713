"""The engine batches contexts across series and scatters forecasts back: results do not depend on it."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest

from toto_bench.adapters.base import QuantileForecast
from toto_bench.adapters.statistical import SeasonalNaiveForecaster
from toto_bench.engine.forecasting import forecast_series
from toto_bench.engine.tasks import build_task, window_cuts


class ListOnly:
    """A model with only the list API (like the neural adapters), built on seasonal naive."""

    name = "list-only"
    supports_multivariate: ClassVar[bool] = False
    context_length = None

    def __init__(self, batch_size: int, multivariate: bool = False) -> None:
        self.batch_size = batch_size
        self.inner = SeasonalNaiveForecaster()
        self.calls: list[int] = []
        self.multivariate = multivariate

    def predict(
        self, contexts: list[np.ndarray], horizon: int, *, freq: str, seasonality: int
    ) -> QuantileForecast:
        self.calls.append(len(contexts))
        return self.inner.predict(contexts, horizon, freq=freq, seasonality=seasonality)


class ListOnlyMultivariate(ListOnly):
    supports_multivariate: ClassVar[bool] = True


def _data(seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for length in (300, 410, 520):
        x = rng.normal(size=(3, length)).astype(np.float32).cumsum(axis=1)
        x[1, 50:60] = np.nan
        out.append(x)
    return out


@pytest.mark.parametrize("model_cls", [ListOnly, ListOnlyMultivariate])
@pytest.mark.parametrize("batch_size", [1, 4, 64])
def test_batched_list_api_equals_the_prefix_path(model_cls: type[ListOnly], batch_size: int) -> None:
    targets = _data(0)
    task = build_task(
        config="x/H/short", storage_name="x", term="short", freq="H", min_length=300, target_dim=3
    )
    cuts = [window_cuts(t.shape[1], task.prediction_length, task.windows) for t in targets]
    reference = forecast_series(SeasonalNaiveForecaster(), targets, cuts, task)
    model = model_cls(batch_size)
    got = forecast_series(model, targets, cuts, task)  # type: ignore[arg-type]
    n_contexts = sum(len(c) for c in cuts) * (1 if model.supports_multivariate else 3)
    assert sum(model.calls) == n_contexts
    assert max(model.calls) <= batch_size
    for ref, out in zip(reference, got, strict=True):
        assert out.quantiles.shape == ref.quantiles.shape
        np.testing.assert_array_equal(out.quantiles, ref.quantiles)
        assert out.mean is not None and ref.mean is not None
        np.testing.assert_array_equal(out.mean, ref.mean)


def test_scorer_scores_at_the_levels_the_model_forecasts() -> None:
    # a sample-based model that also carries 0.025/0.975 must have MSIS read those, not extrapolate them
    from toto_bench.engine.protocol import window_labels
    from toto_bench.metrics import EVAL_LEVELS, evaluate_quantile_forecasts, seasonal_errors
    from toto_bench.suites.gift_eval import GiftEvalScorer

    rng = np.random.default_rng(3)
    target = rng.normal(size=(2, 400)).astype(np.float32).cumsum(axis=1)
    task = build_task(
        config="x/H/short", storage_name="x", term="short", freq="H", min_length=400, target_dim=2
    )
    cuts = window_cuts(400, task.prediction_length, task.windows)
    samples = rng.normal(size=(len(cuts), 2, task.prediction_length, 200)).astype(np.float32)
    quantiles = np.quantile(samples, EVAL_LEVELS, axis=-1).transpose(1, 2, 3, 0).astype(np.float32)
    scorer = GiftEvalScorer(task, domain="", univariate_model=False, allow_nan_forecast=False)
    scorer.update(0, "a", target, 0, cuts, QuantileForecast(quantiles, tuple(EVAL_LEVELS)))
    labels = window_labels(target, cuts, task.prediction_length)
    errors = seasonal_errors(target, cuts, task.seasonality)
    with_tails = evaluate_quantile_forecasts(labels, quantiles, errors, levels=EVAL_LEVELS)
    deciles = evaluate_quantile_forecasts(labels, quantiles[..., 1:-1], errors)
    assert scorer.row()["eval_metrics/MSIS"] == with_tails["MSIS"]
    assert with_tails["MSIS"] != deciles["MSIS"]
    assert (
        scorer.row()["eval_metrics/mean_weighted_sum_quantile_loss"]
        == deciles["mean_weighted_sum_quantile_loss"]
    )
