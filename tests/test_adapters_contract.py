"""Every registered model with a test checkpoint (plus the checkpoint-free baselines) passes the adapter
contract (:mod:`toto_bench.adapters.contract`). A family whose package is not installed is skipped with the
install command in the reason.

Registered names that differ only in their published checkpoint (``toto2-4m`` ... ``toto2-2.5b`` share one
factory, one test checkpoint and the same settings) build the same adapter once ``checkpoint=`` points at the
test checkpoint: the first name of such a group runs every check, the others run ``attributes`` and
``output`` so each name is still built and exercised.

The contract's level rule is checked on a deterministic stand-in: the 9 deciles or any strictly ascending
superset inside (0, 1) pass every check (engine routing included); missing, inexact, out-of-range, unsorted
or duplicated levels, a crossing at a non-decile level and levels that change between calls are rejected with
a message naming them. Moirai 1.1 and Toto 1.0 run the contract at their default ``EVAL_LEVELS``.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from statistics import NormalDist
from typing import Any, ClassVar

import numpy as np
import pytest

from toto_bench.adapters.base import QUANTILE_LEVELS, Forecaster, QuantileForecast
from toto_bench.adapters.common import MissingExtraError
from toto_bench.adapters.contract import ContractConfig
from toto_bench.adapters.registry import ModelSpec, accepted_options, available_models, build_model
from toto_bench.engine.contract import CHECKS, check_forecaster
from toto_bench.metrics.quantiles import EVAL_LEVELS

#: Cheap baselines that need no checkpoint (the auto-* statsforecast models take seconds per series).
CHECKPOINT_FREE = ("seasonal-naive", "naive")
#: What the non-representative names of a group run.
LIGHT_CHECKS = ("attributes", "output")
#: Cheap settings for sample-based models that register no ``test_settings`` (the contract's invariants
#: hold for any number of sample paths).
FAST_SETTINGS = {"num_samples": 16}


def _group_key(spec: ModelSpec) -> Any:
    factory = spec.factory
    func = factory.func if isinstance(factory, functools.partial) else factory
    settings = repr(sorted((k, repr(v)) for k, v in spec.defaults.items()))
    suites = repr(sorted((k, repr(sorted(v.items()))) for k, v in spec.suite_settings.items()))
    return (spec.family, func, spec.test_checkpoint, settings, suites)


def _cases() -> list[tuple[str, str]]:
    models = available_models()
    names = [n for n, s in models.items() if s.test_checkpoint is not None]
    names += [n for n in CHECKPOINT_FREE if n in models]
    seen: set[Any] = set()
    cases = []
    for name in names:
        key = _group_key(models[name]) if models[name].test_checkpoint is not None else name
        checks = LIGHT_CHECKS if key in seen else tuple(CHECKS)
        seen.add(key)
        cases += [(name, check) for check in checks]
    return cases


class _Models:
    """Builds each model once per module; test checkpoints are built once per builder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.checkpoints: dict[Any, Path] = {}
        self.models: dict[str, Forecaster | BaseException] = {}

    def get(self, name: str) -> Forecaster:
        if name not in self.models:
            try:
                self.models[name] = self._build(name)
            except MissingExtraError as exc:  # the family is not installed (its message names the install)
                self.models[name] = exc
            except ModuleNotFoundError as exc:  # torch itself missing in a checkpoint builder; other
                if exc.name != "torch":  # ImportErrors are bugs and fail the test
                    raise
                self.models[name] = exc
        model = self.models[name]
        if isinstance(model, BaseException):
            pytest.skip(f"{name}: {model}")
        return model

    def _build(self, name: str) -> Forecaster:
        spec = available_models()[name]
        overrides: dict[str, Any] = {}
        if spec.test_checkpoint is not None:
            builder = spec.test_checkpoint
            if builder not in self.checkpoints:
                folder = self.root / f"ckpt{len(self.checkpoints)}"
                folder.mkdir(exist_ok=True)
                self.checkpoints[builder] = builder(folder)
            overrides["checkpoint"] = self.checkpoints[builder]
        accepted = accepted_options(spec)
        if accepted is None or "device" in accepted:
            overrides["device"] = "cpu"
        if spec.test_settings:
            overrides.update(spec.test_settings)
        else:
            fast = {k: v for k, v in FAST_SETTINGS.items() if accepted is not None and k in accepted}
            overrides.update(fast)
        return build_model(name, **overrides)


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Models]:
    yield _Models(tmp_path_factory.mktemp("contract"))


@pytest.mark.parametrize(("name", "check"), _cases())
def test_registered_model_passes_the_contract(models: _Models, name: str, check: str) -> None:
    CHECKS[check](models.get(name), ContractConfig())


def test_every_toto2_size_is_exercised() -> None:
    names = {name for name, _ in _cases()}
    assert {"toto2-4m", "toto2-22m", "toto2-313m", "toto2-1b", "toto2-2.5b"} <= names


# ----------------------------------------------------------------------------------------------------------
# Levels: the 9 deciles or a strictly ascending superset (sample-based models add the MSIS bounds)

#: A wider superset than EVAL_LEVELS, to show that any ascending superset is accepted.
WIDE_LEVELS = (0.01, 0.025, *QUANTILE_LEVELS, 0.975, 0.99)


class _StandIn:
    """A deterministic multivariate stand-in: each variate's recent mean plus ``spread[level]`` at ``levels``.

    ``spread`` is a normal quantile per level, so any ascending levels give sorted quantiles;
    ``cross`` puts the lowest level above the next one (a crossing outside the deciles);
    ``horizon1_levels``: other levels for horizon-1 calls (levels that change between calls).
    """

    name = "stand-in"
    supports_multivariate: ClassVar[bool] = True
    context_length = None

    def __init__(
        self,
        levels: Sequence[float],
        *,
        cross: bool = False,
        horizon1_levels: Sequence[float] | None = None,
        sorted_: bool = True,
    ) -> None:
        self.levels = tuple(levels)
        self.cross = cross
        self.horizon1_levels = horizon1_levels
        self.quantiles_sorted = sorted_

    def predict(
        self, contexts: list[np.ndarray], horizon: int, *, freq: str, seasonality: int
    ) -> QuantileForecast:
        levels = self.levels if horizon > 1 or self.horizon1_levels is None else tuple(self.horizon1_levels)
        z = np.array([NormalDist().inv_cdf(min(max(q, 1e-6), 1 - 1e-6)) for q in levels])
        if self.cross:
            z[0] = z[1] + 1.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN tails: 0
            level = [np.nan_to_num(np.nanmean(c[:, -48:], axis=1)) for c in contexts]
        base = np.stack(level)[:, :, None, None] if contexts else np.zeros((0, 1, 1, 1))
        steps = np.sqrt(np.arange(1, horizon + 1))[None, None, :, None]
        q = (base + 2.0 * z[None, None, None, :] * steps).astype(np.float32)
        return QuantileForecast(q, levels, mean=q[..., list(levels).index(0.5)] if 0.5 in levels else None)


@pytest.mark.parametrize("levels", [QUANTILE_LEVELS, EVAL_LEVELS, WIDE_LEVELS], ids=["9", "11", "13"])
def test_contract_accepts_the_deciles_or_an_ascending_superset(levels: tuple[float, ...]) -> None:
    assert check_forecaster(_StandIn(levels)) == list(CHECKS)  # every check, the engine routing included


@pytest.mark.parametrize(
    ("levels", "message"),
    [
        ((0.025, *QUANTILE_LEVELS[:-1], 0.975), r"lack the deciles \[0\.9\]"),
        ((*QUANTILE_LEVELS[:4], 0.5000001, *QUANTILE_LEVELS[5:]), r"lack the deciles \[0\.5\]"),
        (QUANTILE_LEVELS[:4] + QUANTILE_LEVELS[5:], r"lack the deciles \[0\.5\]"),
        ((0.0, *QUANTILE_LEVELS), r"include \[0\.0\] outside \(0, 1\)"),
        ((*QUANTILE_LEVELS, 1.0), r"include \[1\.0\] outside \(0, 1\)"),
        ((0.975, *QUANTILE_LEVELS), "not strictly ascending"),
        ((0.1, *QUANTILE_LEVELS), "not strictly ascending"),
    ],
    ids=["no-0.9", "0.5-not-exact", "8-deciles", "level-0", "level-1", "unsorted", "duplicate"],
)
def test_contract_rejects_levels_that_are_not_an_ascending_superset(
    levels: tuple[float, ...], message: str
) -> None:
    with pytest.raises(AssertionError, match=message):
        CHECKS["output"](_StandIn(levels), ContractConfig())


def test_contract_checks_the_order_of_every_level() -> None:
    """A 0.025 quantile above the 0.1 one fails the ordering check, unless the adapter declares
    ``quantiles_sorted = False`` (raw model output)."""
    with pytest.raises(AssertionError, match=r"not sorted along the level axis: .* level 0\.025 = "):
        CHECKS["output"](_StandIn(EVAL_LEVELS, cross=True), ContractConfig())
    CHECKS["output"](_StandIn(EVAL_LEVELS, cross=True, sorted_=False), ContractConfig())


def test_contract_requires_the_same_levels_on_every_call() -> None:
    model = _StandIn(EVAL_LEVELS, horizon1_levels=QUANTILE_LEVELS)
    with pytest.raises(
        AssertionError, match=r"output \(horizon 1\): levels .* differ from an earlier call's"
    ):
        CHECKS["output"](model, ContractConfig())


@pytest.mark.parametrize("name", ["moirai-1.1-small", "toto1"])
def test_sample_based_models_return_eval_levels_in_the_contract(models: _Models, name: str) -> None:
    """The contract above runs them at their registered default: the deciles plus the MSIS bounds."""
    out = models.get(name).predict([np.full((2, 100), 5.0, np.float32)], 7, freq="H", seasonality=24)
    assert out.levels == EVAL_LEVELS and out.quantiles.shape == (1, 2, 7, len(EVAL_LEVELS))
