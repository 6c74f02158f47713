"""The model registry: names → factories building a :class:`~toto_bench.adapters.base.Forecaster`.

Built-in models register here; third-party adapters will register through the ``toto_bench.adapters``
entry-point group.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toto_bench.adapters.base import Forecaster


@dataclass(frozen=True)
class ModelSpec:
    """A registered model: its name, a factory, and what ``toto-bench list models`` shows.

    Attributes:
        defaults: factory keyword arguments for every suite.
        suite_settings: per-suite keyword arguments from the official notebooks (e.g. BOOM's seasonal naive
            sees the last 2048 points); they override ``defaults`` and are recorded in the run record.
    """

    name: str
    factory: Callable[..., Forecaster]
    family: str
    checkpoint: str | None = None
    description: str = ""
    defaults: Mapping[str, Any] = field(default_factory=dict)
    suite_settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: For tests: builds a small randomly initialised checkpoint of this architecture in the given folder
    #: (with the family's own ``save_pretrained``) and returns the folder to pass as ``checkpoint=``.
    test_checkpoint: Callable[[Path], Path] | None = None

    def settings_for(self, suite: str | None) -> dict[str, Any]:
        """The factory keyword arguments for ``suite`` (defaults, then the suite's own)."""
        return {**self.defaults, **(self.suite_settings.get(suite, {}) if suite else {})}


_REGISTRY: dict[str, ModelSpec] = {}


def register(spec: ModelSpec) -> ModelSpec:
    """Add ``spec`` to the registry; a second registration of the same name is an error."""
    if spec.name in _REGISTRY:
        raise ValueError(f"model {spec.name!r} is already registered (family {_REGISTRY[spec.name].family})")
    _REGISTRY[spec.name] = spec
    return spec


#: Built-in family modules (``toto_bench.adapters.<name>``), imported for their registrations. Each imports
#: its heavy packages (torch, the model library) only when a model is built.
BUILTIN_FAMILIES: tuple[str, ...] = ("statistical", "toto2", "toto1", "chronos", "moirai", "timesfm")


def _load_builtins() -> None:
    for family in BUILTIN_FAMILIES:
        name = f"toto_bench.adapters.{family}"
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:  # a family file that exists but fails to import is a bug: surface it
                raise


def available_models() -> dict[str, ModelSpec]:
    """All registered models by name (built-ins first)."""
    if not _REGISTRY:
        _load_builtins()
    return dict(_REGISTRY)


def get_model_spec(name: str) -> ModelSpec:
    """The spec of ``name``; an unknown name lists the valid ones and close matches."""
    models = available_models()
    if name not in models:
        close = difflib.get_close_matches(name, models, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"unknown model {name!r}.{hint} Registered models: {', '.join(sorted(models))}")
    return models[name]


def build_model(name: str, suite: str | None = None, **overrides: Any) -> Forecaster:
    """Instantiate the registered model ``name`` with ``suite``'s settings and ``overrides`` on top."""
    spec = get_model_spec(name)
    return spec.factory(**{**spec.settings_for(suite), **overrides})
