"""Every registered model with a test checkpoint (plus the checkpoint-free baselines) passes the adapter
contract (:mod:`toto_bench.adapters.contract`). A family whose package is not installed is skipped with the
install command in the reason.

Registered names that differ only in their published checkpoint (``toto2-4m`` ... ``toto2-2.5b`` share one
factory, one test checkpoint and the same settings) build the same adapter once ``checkpoint=`` points at the
test checkpoint: the first name of such a group runs every check, the others run ``attributes`` and
``output`` so each name is still built and exercised.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from toto_bench.adapters.base import Forecaster
from toto_bench.adapters.contract import CHECKS, ContractConfig
from toto_bench.adapters.registry import ModelSpec, accepted_options, available_models, build_model

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
            except ImportError as exc:  # MissingExtraError, or torch itself missing in a checkpoint builder
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
