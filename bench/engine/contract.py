"""The full adapter contract: the adapter's own checks plus the engine's routing of multivariate series.

:mod:`toto_bench.adapters.contract` checks an adapter on its own (output shapes and levels, missing values,
batch invariance, determinism, ...); the check here runs it through the engine's forecasting loop
(:func:`~toto_bench.engine.forecasting.forecast_series`): a ``[V, T]`` series gives ``[W, V, H, Q]``, a
univariate model sees each variate alone, and every window equals a direct call on its context.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from toto_bench.adapters.base import Forecaster, PrefixForecaster, QuantileForecast
from toto_bench.adapters.contract import CHECKS as ADAPTER_CHECKS
from toto_bench.adapters.contract import (  # the contract's own helpers, shared with its checks
    CheckFn,
    ContractConfig,
    _check_forecast,
    _close,
    _predict,
    _sorted,
    make_context,
)
from toto_bench.adapters.contract import check_forecaster as _run_checks
from toto_bench.engine.forecasting import forecast_series
from toto_bench.engine.tasks import Task

__all__ = ["CHECKS", "check_forecaster", "check_multivariate_routing"]


class _Recorder:
    """Forwards to ``model`` and records the shape of every context ``predict`` receives."""

    def __init__(self, model: Forecaster) -> None:
        self._model = model
        self.shapes: list[tuple[int, ...]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def predict(
        self, contexts: list[np.ndarray], horizon: int, *, freq: str, seasonality: int
    ) -> QuantileForecast:
        self.shapes += [tuple(np.shape(c)) for c in contexts]
        return self._model.predict(contexts, horizon, freq=freq, seasonality=seasonality)


def check_multivariate_routing(model: Forecaster, config: ContractConfig) -> None:
    """Through the engine, a ``[V, T]`` series gives ``[W, V, H, Q]`` and the right context shapes."""
    rng = np.random.default_rng(config.seed + 6)
    n_var, windows, horizon = config.n_variates, 3, config.horizon
    length = config.context + windows * horizon
    target = make_context(n_var, length, rng, config.seasonality)
    cuts = np.array([length - (windows - w) * horizon for w in range(windows)])
    task = Task(
        config="contract/H/short",
        storage_name="contract",
        term="short",
        freq=config.freq,
        prediction_length=horizon,
        windows=windows,
        seasonality=config.seasonality,
        target_dim=n_var,
        min_length=length,
    )
    recorder = _Recorder(model)
    (got,) = forecast_series(recorder, [target], [cuts], task)
    _check_forecast(got, windows, n_var, horizon, "multivariate_routing (engine)", check_order=_sorted(model))
    if isinstance(model, PrefixForecaster):
        direct = model.predict_prefixes(
            target, cuts, horizon, freq=config.freq, seasonality=config.seasonality
        )
        _close(got.quantiles, direct.quantiles, config, "multivariate_routing: engine vs predict_prefixes")
        return
    expected_shape = (
        [(n_var, int(c)) for c in cuts]
        if model.supports_multivariate
        else [(1, int(c)) for c in cuts for _ in range(n_var)]
    )
    if sorted(recorder.shapes) != sorted(expected_shape):
        kind = "multivariate" if model.supports_multivariate else "univariate"
        raise AssertionError(
            f"multivariate_routing: a {kind} model received contexts of shapes {recorder.shapes}, "
            f"expected {expected_shape}"
        )
    for w, cut in enumerate(cuts):
        if model.supports_multivariate:
            direct = _predict(model, [target[:, :cut]], horizon, config)
            _close(
                got.quantiles[w],
                direct.quantiles[0],
                config,
                f"multivariate_routing: window {w} vs direct call",
            )
        else:
            for v in range(n_var):
                direct = _predict(model, [target[v : v + 1, :cut]], horizon, config)
                _close(
                    got.quantiles[w, v],
                    direct.quantiles[0, 0],
                    config,
                    f"multivariate_routing: window {w} variate {v} vs a direct [1, t] call",
                )


#: Every check of the contract, in the order :func:`check_forecaster` runs them.
CHECKS: dict[str, CheckFn] = {**ADAPTER_CHECKS, "multivariate_routing": check_multivariate_routing}


def check_forecaster(
    model: Forecaster | Callable[[], Forecaster],
    config: ContractConfig | None = None,
    *,
    only: Sequence[str] | None = None,
) -> list[str]:
    """Run every contract check (:data:`CHECKS`) on ``model`` (an adapter, or a factory building one).

    Returns the names of the checks run; raises ``AssertionError`` listing every failed check, or
    ``ValueError`` for an unknown name in ``only``.
    """
    return _run_checks(model, config, only=only, checks=CHECKS)
