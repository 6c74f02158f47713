"""The adapter contract: checks every :class:`~toto_bench.adapters.base.Forecaster` must pass.

Importable by third parties to test their own adapters (no pytest needed)::

    from toto_bench.adapters.contract import check_forecaster

    check_forecaster(lambda: MyForecaster(checkpoint="tiny/"))  # raises AssertionError listing failures

or one check at a time (``CHECKS`` maps names to functions ``check(model, config)``), e.g. to parametrize a
pytest suite. Every check feeds synthetic contexts (a seasonal random walk around 50, deterministic given
``ContractConfig.seed``) and asserts invariants that hold for any correct adapter, comparing the adapter only
with itself under a transformation that must not change its answer (batch composition, call order, seed):

- ``attributes``: ``name``, ``supports_multivariate``, ``context_length``, optional ``batch_size``;
- ``output``: ``QuantileForecast`` with ``quantiles [n, V, H, Q]`` at ``Q`` levels that are the 9 deciles
  0.1..0.9 or a strictly ascending superset of them inside ``(0, 1)`` (sample-based models return
  :data:`~toto_bench.metrics.quantiles.EVAL_LEVELS`, ``0.025, 0.1, ..., 0.9, 0.975``, so that MSIS reads its
  bounds instead of extrapolating them), the same levels on every call, finite, sorted along the level axis
  (all ``Q`` levels), an optional finite ``mean [n, V, H]``; the caller's contexts are not modified. An
  adapter that returns a model's raw quantiles because the official pipeline does not sort them (exact
  parity) declares ``quantiles_sorted = False``; every other check still applies;
- ``long_horizon``: horizons longer than the context and not a multiple of any patch size;
- ``missing_values``: leading NaNs, gaps, trailing NaNs, one variate with NaNs only in part;
- ``batch_invariance``: a batch of ``batch_size`` (64) contexts gives the same numbers as one-context calls;
- ``mixed_lengths``: contexts of very different lengths (shorter than a patch, longer than the model's
  context) in one batch give the same numbers as alone;
- ``determinism``: two calls after seeding the RNGs with the same seed give identical numbers;
- ``multivariate_routing``: through the engine (:func:`toto_bench.engine.runner.forecast_series`) a ``[V, T]``
  series gives ``[W, V, H, Q]``; multivariate models receive ``[V, t]`` contexts, univariate ones ``[1, t]``,
  and each variate's forecast equals a direct call on that context.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np

from toto_bench.adapters.base import QUANTILE_LEVELS, Forecaster, QuantileForecast

__all__ = [
    "CHECKS",
    "ContractConfig",
    "check_forecaster",
    "check_levels_superset",
    "make_context",
    "seed_everything",
]


@dataclass(frozen=True)
class ContractConfig:
    """Knobs of the contract checks.

    Attributes:
        freq, seasonality: passed to ``predict`` (hourly data, daily season).
        horizon: the ordinary horizon.
        long_horizons: horizons longer than ``short_context`` and not multiples of 16, 32 or 64.
        short_context: length of the contexts in ``long_horizon``.
        context: length of the ordinary contexts.
        n_variates: ``V`` of multivariate inputs (univariate models get ``V = 1``).
        batch: contexts in the ``batch_invariance`` batch (the notebooks' BOOM batch is 64).
        singles: how many of those are also predicted one at a time (first, last, evenly spaced).
        rtol, atol: tolerance of the invariance checks; ``atol`` is relative to the data level (~50).
        determinism_atol: tolerance of ``determinism`` (0: bit-identical).
        seed: seed of the synthetic data and of ``determinism``.
    """

    freq: str = "H"
    seasonality: int = 24
    horizon: int = 24
    long_horizons: tuple[int, ...] = (97, 150)
    short_context: int = 40
    context: int = 300
    n_variates: int = 3
    batch: int = 64
    singles: int = 3
    rtol: float = 1e-4
    atol: float = 1e-4
    determinism_atol: float = 0.0
    seed: int = 0


CheckFn = Callable[[Forecaster, ContractConfig], None]

LEVEL = 50.0


def seed_everything(seed: int) -> None:
    """Seed Python's, numpy's and (if already imported) torch's global RNGs."""
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - adapters may draw from the legacy global RNG
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)


def make_context(n_var: int, length: int, rng: np.random.Generator, season: int = 24) -> np.ndarray:
    """A float32 ``[n_var, length]`` seasonal random walk around :data:`LEVEL` (no NaN)."""
    t = np.arange(length)
    phase = rng.uniform(0, 2 * np.pi, size=(n_var, 1))
    walk = np.cumsum(rng.normal(0, 0.5, size=(n_var, length)), axis=1)
    values = (
        LEVEL + 8 * np.sin(2 * np.pi * t / season + phase) + walk + rng.normal(0, 1, size=(n_var, length))
    )
    return values.astype(np.float32)


def _n_var(model: Forecaster, config: ContractConfig) -> int:
    return config.n_variates if model.supports_multivariate else 1


def _predict(
    model: Forecaster, contexts: list[np.ndarray], horizon: int, config: ContractConfig
) -> QuantileForecast:
    return model.predict(list(contexts), horizon, freq=config.freq, seasonality=config.seasonality)


def _close(
    a: np.ndarray, b: np.ndarray, config: ContractConfig, what: str, atol: float | None = None
) -> None:
    tol = config.atol * LEVEL if atol is None else atol * LEVEL
    if a.shape != b.shape:
        raise AssertionError(f"{what}: shapes differ, {a.shape} vs {b.shape}")
    if np.array_equal(a, b, equal_nan=True):
        return
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    if not np.array_equal(nan_a, nan_b):
        raise AssertionError(f"{what}: NaN at different positions ({int(nan_a.sum())} vs {int(nan_b.sum())})")
    diff = np.abs(np.where(nan_a, 0, a - b))
    allowed = tol + config.rtol * np.abs(np.where(nan_b, 0, b))
    if np.any(diff > allowed):
        worst = np.unravel_index(int(np.argmax(diff - allowed)), diff.shape)
        raise AssertionError(
            f"{what}: max abs diff {float(diff.max()):.3g} exceeds the tolerance (rtol={config.rtol}, "
            f"atol={tol:.3g}); worst at index {tuple(int(i) for i in worst)}: {a[worst]!r} vs {b[worst]!r}"
        )


def check_levels_superset(levels: Any, what: str = "levels") -> tuple[float, ...]:
    """``levels`` as a float tuple if they are the 9 deciles or a strictly ascending superset of them inside
    ``(0, 1)``; otherwise ``AssertionError`` naming the bad value and what is valid.

    A decile counts as present only when it is stored exactly (``0.1``, not ``0.1000001``): the metrics read a
    stored level as is and interpolate any other.
    """
    try:
        lv = tuple(float(x) for x in levels)
    except (TypeError, ValueError):
        raise AssertionError(f"{what}: levels {levels!r} are not a sequence of numbers") from None
    valid = f"the 9 deciles {QUANTILE_LEVELS} or a strictly ascending superset of them inside (0, 1)"
    outside = [q for q in lv if not 0.0 < q < 1.0]
    if outside:
        raise AssertionError(f"{what}: levels {lv} include {outside} outside (0, 1); expected {valid}")
    if any(b <= a for a, b in pairwise(lv)):
        raise AssertionError(f"{what}: levels {lv} are not strictly ascending; expected {valid}")
    missing = [q for q in QUANTILE_LEVELS if q not in lv]
    if missing:
        raise AssertionError(f"{what}: levels {lv} lack the deciles {missing}; expected {valid}")
    return lv


def _check_forecast(
    out: Any,
    n: int,
    n_var: int,
    horizon: int,
    what: str,
    *,
    check_order: bool = True,
    levels: tuple[float, ...] | None = None,
) -> QuantileForecast:
    """Shape, levels, dtype, finiteness and (unless ``check_order`` is False) ordering of one result.

    ``levels``: the levels an earlier call of the same model returned (they must not change between calls).
    """
    if not isinstance(out, QuantileForecast):
        raise AssertionError(f"{what}: predict() returned {type(out).__name__}, expected QuantileForecast")
    lv = check_levels_superset(out.levels, what)
    if levels is not None and lv != levels:
        raise AssertionError(f"{what}: levels {lv} differ from an earlier call's {levels}")
    q = out.quantiles
    expected = (n, n_var, horizon, len(lv))
    if not isinstance(q, np.ndarray) or q.shape != expected:
        raise AssertionError(
            f"{what}: quantiles shape {getattr(q, 'shape', None)}, expected [n, V, H, Q] = {expected} "
            f"(Q = {len(lv)} levels)"
        )
    if not np.issubdtype(q.dtype, np.floating):
        raise AssertionError(f"{what}: quantiles dtype {q.dtype}, expected a float dtype")
    if not np.isfinite(q).all():
        bad = int((~np.isfinite(q)).sum())
        raise AssertionError(f"{what}: {bad} of {q.size} quantile values are not finite")
    steps = np.diff(q, axis=-1)
    if check_order and (steps < 0).any():
        where = np.unravel_index(int(np.argmin(steps)), steps.shape)
        raise AssertionError(
            f"{what}: quantiles not sorted along the level axis: at (window, variate, step) "
            f"{tuple(int(i) for i in where[:3])} level {lv[where[3]]} = {q[where]!r} > "
            f"level {lv[where[3] + 1]} = {q[(*where[:3], where[3] + 1)]!r}"
        )
    if out.mean is not None:
        if out.mean.shape != expected[:3]:
            raise AssertionError(f"{what}: mean shape {out.mean.shape}, expected {expected[:3]}")
        if not np.isfinite(out.mean).all():
            raise AssertionError(f"{what}: {int((~np.isfinite(out.mean)).sum())} mean values are not finite")
    return out


def _sorted(model: Forecaster) -> bool:
    """Whether to require sorted quantiles: adapters may declare ``quantiles_sorted = False`` when they return
    the model's raw quantiles unsorted because the official pipeline does not sort them (exact parity)."""
    return bool(getattr(model, "quantiles_sorted", True))


def check_attributes(model: Forecaster, config: ContractConfig) -> None:
    """``name`` (non-empty str), ``supports_multivariate`` (bool), ``context_length``, ``batch_size``."""
    name = getattr(model, "name", None)
    if not isinstance(name, str) or not name:
        raise AssertionError(f"model.name must be a non-empty str, got {name!r}")
    multivariate = getattr(model, "supports_multivariate", None)
    if not isinstance(multivariate, bool):
        raise AssertionError(f"supports_multivariate must be a bool, got {multivariate!r}")
    length = getattr(model, "context_length", "missing")
    if length is not None and (isinstance(length, bool) or not isinstance(length, int) or length < 1):
        raise AssertionError(f"context_length must be None or a positive int, got {length!r}")
    batch = getattr(model, "batch_size", None)
    if batch is not None and (isinstance(batch, bool) or not isinstance(batch, int) or batch < 1):
        raise AssertionError(f"batch_size must be absent, None or a positive int, got {batch!r}")
    if not callable(getattr(model, "predict", None)):
        raise AssertionError("model has no predict() method")
    order = getattr(model, "quantiles_sorted", True)
    if not isinstance(order, bool):
        raise AssertionError(f"quantiles_sorted must be absent or a bool, got {order!r}")


def check_output(model: Forecaster, config: ContractConfig) -> None:
    """Shape ``[n, V, H, Q]``, the deciles or a superset as levels (the same on every call), finite sorted
    quantiles; contexts are left untouched."""
    rng = np.random.default_rng(config.seed)
    n_var = _n_var(model, config)
    contexts = [make_context(n_var, config.context, rng, config.seasonality) for _ in range(5)]
    copies = [c.copy() for c in contexts]
    given = list(contexts)
    out = model.predict(given, config.horizon, freq=config.freq, seasonality=config.seasonality)
    _check_forecast(out, len(contexts), n_var, config.horizon, "output", check_order=_sorted(model))
    levels = tuple(float(x) for x in out.levels)
    if len(given) != len(contexts):
        raise AssertionError(
            f"output: predict() changed the length of the context list ({len(contexts)} → {len(given)})"
        )
    for i, (c, ref) in enumerate(zip(contexts, copies, strict=True)):
        if not np.array_equal(c, ref, equal_nan=True):
            raise AssertionError(f"output: predict() modified context {i} in place")
    one = _predict(model, contexts[:1], 1, config)
    _check_forecast(one, 1, n_var, 1, "output (horizon 1)", check_order=_sorted(model), levels=levels)


def check_long_horizon(model: Forecaster, config: ContractConfig) -> None:
    """Horizons longer than the context and not a multiple of any patch size."""
    rng = np.random.default_rng(config.seed + 1)
    n_var = _n_var(model, config)
    contexts = [make_context(n_var, config.short_context + k, rng, config.seasonality) for k in (0, 7)]
    for horizon in config.long_horizons:
        out = _predict(model, contexts, horizon, config)
        _check_forecast(
            out,
            len(contexts),
            n_var,
            horizon,
            f"long_horizon (context {config.short_context}, H={horizon})",
            check_order=_sorted(model),
        )


def _with_missing(n_var: int, length: int, rng: np.random.Generator, season: int) -> list[np.ndarray]:
    base = [make_context(n_var, length, rng, season) for _ in range(5)]
    base[0][:, :37] = np.nan  # leading NaNs
    base[1][:, length // 3 : length // 3 + 25] = np.nan  # a gap
    base[1][:, length // 2] = np.nan  # an isolated NaN
    base[2][:, -5:] = np.nan  # trailing NaNs
    base[3][-1, 10 : length - 20 : 3] = np.nan  # every third step of one variate
    base[4][:, : length - 30] = np.nan  # only the last 30 steps observed
    return base


def check_missing_values(model: Forecaster, config: ContractConfig) -> None:
    """NaN in the context (leading, gaps, trailing, sparse) gives finite sorted forecasts."""
    rng = np.random.default_rng(config.seed + 2)
    n_var = _n_var(model, config)
    contexts = _with_missing(n_var, config.context, rng, config.seasonality)
    out = _predict(model, contexts, config.horizon, config)
    _check_forecast(out, len(contexts), n_var, config.horizon, "missing_values", check_order=_sorted(model))
    for i in (0, 4):  # leading NaNs; only the last 30 steps observed
        alone = _predict(model, [contexts[i]], config.horizon, config)
        _close(
            alone.quantiles[0], out.quantiles[i], config, f"missing_values: context {i} alone vs in the batch"
        )


def _singles(n: int, k: int) -> list[int]:
    return sorted({round(x) for x in np.linspace(0, n - 1, max(2, k))})


def check_batch_invariance(model: Forecaster, config: ContractConfig) -> None:
    """A batch of ``config.batch`` contexts gives the same numbers as one-context calls."""
    rng = np.random.default_rng(config.seed + 3)
    n_var = _n_var(model, config)
    contexts = [make_context(n_var, config.context, rng, config.seasonality) for _ in range(config.batch)]
    contexts[1][:, :20] = np.nan
    batched = _predict(model, contexts, config.horizon, config)
    _check_forecast(
        batched, len(contexts), n_var, config.horizon, "batch_invariance", check_order=_sorted(model)
    )
    for i in _singles(len(contexts), config.singles):
        alone = _predict(model, [contexts[i]], config.horizon, config)
        what = f"batch_invariance: context {i} at batch 1 vs batch {len(contexts)}"
        _close(alone.quantiles[0], batched.quantiles[i], config, what + " (quantiles)")
        if (alone.mean is None) != (batched.mean is None):
            raise AssertionError(f"{what}: mean present in one call only")
        if alone.mean is not None and batched.mean is not None:
            _close(alone.mean[0], batched.mean[i], config, what + " (mean)")


def check_mixed_lengths(model: Forecaster, config: ContractConfig) -> None:
    """Contexts of very different lengths in one batch give the same numbers as alone."""
    rng = np.random.default_rng(config.seed + 4)
    n_var = _n_var(model, config)
    longest = max(2 * (model.context_length or 0) + 17, 3 * config.context)
    lengths = [
        config.short_context + 3,
        config.context,
        longest,
        2 * config.seasonality + 1,
        config.context + 33,
    ]
    contexts = [make_context(n_var, n, rng, config.seasonality) for n in lengths]
    together = _predict(model, contexts, config.horizon, config)
    _check_forecast(
        together, len(contexts), n_var, config.horizon, "mixed_lengths", check_order=_sorted(model)
    )
    for i, context in enumerate(contexts):
        alone = _predict(model, [context], config.horizon, config)
        _close(
            alone.quantiles[0],
            together.quantiles[i],
            config,
            f"mixed_lengths: length {lengths[i]} alone vs mixed",
        )
    swapped = _predict(model, contexts[::-1], config.horizon, config)
    _close(swapped.quantiles[::-1], together.quantiles, config, "mixed_lengths: reversed batch order")


def check_determinism(model: Forecaster, config: ContractConfig) -> None:
    """Two calls after seeding with the same seed give identical forecasts."""
    rng = np.random.default_rng(config.seed + 5)
    n_var = _n_var(model, config)
    contexts = [make_context(n_var, config.context, rng, config.seasonality) for _ in range(3)]
    seed_everything(config.seed)
    first = _predict(model, contexts, config.horizon, config)
    seed_everything(config.seed)
    second = _predict(model, contexts, config.horizon, config)
    _close(first.quantiles, second.quantiles, config, "determinism (same seed)", atol=config.determinism_atol)
    if first.mean is not None and second.mean is not None:
        _close(first.mean, second.mean, config, "determinism (mean)", atol=config.determinism_atol)


#: Check name → function, in the order :func:`check_forecaster` runs them.
CHECKS: dict[str, CheckFn] = {
    "attributes": check_attributes,
    "output": check_output,
    "long_horizon": check_long_horizon,
    "missing_values": check_missing_values,
    "batch_invariance": check_batch_invariance,
    "mixed_lengths": check_mixed_lengths,
    "determinism": check_determinism,
}


def check_forecaster(
    model: Forecaster | Callable[[], Forecaster],
    config: ContractConfig | None = None,
    *,
    only: Sequence[str] | None = None,
    checks: Mapping[str, CheckFn] | None = None,
) -> list[str]:
    """Run the contract checks on ``model`` (an adapter, or a zero-argument factory building one).

    ``checks`` defaults to :data:`CHECKS`, the adapter's own checks;
    :func:`toto_bench.engine.contract.check_forecaster` adds the check of the engine's routing of
    multivariate series (the full contract, run by this repository's tests).

    Returns the names of the checks run. Raises ``AssertionError`` listing every failed check with its
    message, or ``ValueError`` for an unknown name in ``only``.
    """
    config = config or ContractConfig()
    table = CHECKS if checks is None else checks
    names = list(table) if only is None else list(only)
    unknown = [n for n in names if n not in table]
    if unknown:
        raise ValueError(f"unknown contract check(s) {unknown}; valid: {list(table)}")
    forecaster = model if hasattr(model, "predict") else model()
    label = getattr(forecaster, "name", type(forecaster).__name__)
    failures = []
    for name in names:
        try:
            table[name](forecaster, config)
        except AssertionError as exc:
            failures.append(f"[{name}] {exc}")
    if failures:
        raise AssertionError(f"{label}: {len(failures)} contract check(s) failed:\n" + "\n".join(failures))
    return names
