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


class _WrongCount:
    """Returns one forecast fewer than it was given contexts."""

    name = "wrong-count"
    supports_multivariate: ClassVar[bool] = True
    context_length = None
    batch_size = 4

    def predict(
        self, contexts: list[np.ndarray], horizon: int, *, freq: str, seasonality: int
    ) -> QuantileForecast:
        n = max(0, len(contexts) - 1)
        return QuantileForecast(np.zeros((n, contexts[0].shape[0], horizon, 9), np.float32))


def test_a_model_returning_too_few_forecasts_is_a_run_error_naming_the_counts() -> None:
    from toto_bench.engine.protocol import RunError

    target = np.arange(400, dtype=np.float32)[None, :]
    task = build_task(
        config="x/H/short", storage_name="x", term="short", freq="H", min_length=400, target_dim=1
    )
    cuts = [window_cuts(400, task.prediction_length, task.windows)]
    with pytest.raises(RunError, match=r"x/H/short: model 'wrong-count' returned 0 forecasts for 1 contexts"):
        forecast_series(_WrongCount(), [target], cuts, task)


def test_run_in_batches_concatenates_halves_on_oom_and_handles_empty_input() -> None:
    from toto_bench.adapters.common import run_in_batches

    items = list(range(10))
    seen: list[int] = []

    def predict(chunk: list[int]) -> np.ndarray:
        if len(chunk) > 3:
            raise RuntimeError("CUDA out of memory (simulated)")
        seen.append(len(chunk))
        return np.array(chunk, dtype=np.float32)[:, None] * 2

    halved: list[int] = []
    out = run_in_batches(items, 8, predict, on_halve=halved.append)
    np.testing.assert_array_equal(out[:, 0], np.arange(10) * 2)  # order kept, every item once
    assert halved == [4, 2] and seen == [2, 2, 2, 2, 2]  # 8 -> 4 -> 2 and it sticks
    empty = run_in_batches([], 8, predict, empty_tail=(3, 5, 9))
    assert empty.shape == (0, 3, 5, 9) and empty.dtype == np.float32
    with pytest.raises(ValueError, match="no contexts to forecast"):
        run_in_batches([], 8, predict)
    with pytest.raises(RuntimeError, match="out of memory"):  # a batch of 1 that still fails re-raises
        run_in_batches([1], 1, lambda chunk: (_ for _ in ()).throw(RuntimeError("out of memory")))
    with pytest.raises(ValueError, match="boom"):  # other errors are not retried
        run_in_batches(items, 2, lambda chunk: (_ for _ in ()).throw(ValueError("boom")))
