"""The model registry: names → factories building a :class:`~toto_bench.adapters.base.Forecaster`.

Built-in families (:data:`BUILTIN_FAMILIES`) register their :class:`ModelSpec` objects when their module is
imported; the registry imports them lazily, on the first lookup. Third-party adapters register through the
``toto_bench.adapters`` entry-point group (:data:`ENTRY_POINT_GROUP`): each entry point loads either a
:class:`ModelSpec`, a list of them, or a callable returning one or a list. In a plugin's ``pyproject.toml``::

    [project.entry-points."toto_bench.adapters"]
    my-models = "my_package.toto_bench_plugin:model_specs"

A plugin that fails to load, or that reuses a registered name, is skipped with a warning; the reason is
kept (:func:`plugin_errors`) and shown when that name is asked for.

Checkpoint revisions: a :class:`ModelSpec` pins the hub commit of its checkpoint (:attr:`ModelSpec.revision`)
where upstream publishes one. None of the built-in checkpoints has one here: the official notebooks and model
cards, as recorded in the shared ``docs/adapters.md``, load every checkpoint by id without a commit, so hub
loads take the repository's ``main`` unless ``toto-bench run --checkpoint-revision REV`` is given. No commit
is made up; the run record says which commit was loaded (``checkpoint_revision``) and its weights' sha256.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import inspect
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from toto_bench.adapters.base import Forecaster

__all__ = [
    "BUILTIN_FAMILIES",
    "ENTRY_POINT_GROUP",
    "ModelSpec",
    "accepted_options",
    "available_models",
    "build_model",
    "check_overrides",
    "get_model_spec",
    "plugin_errors",
    "refresh_plugins",
    "register",
]

#: Entry-point group third-party adapters declare.
ENTRY_POINT_GROUP = "toto_bench.adapters"


@dataclass(frozen=True)
class ModelSpec:
    """A registered model: its name, a factory, and what ``toto-bench list models`` shows.

    Attributes:
        name: the ``--model`` name.
        factory: builds the adapter from keyword arguments (``defaults``, the suite's settings and CLI
            overrides such as ``checkpoint``, ``device``, ``context_length``, ``batch_size``).
        family: the model family (``toto2``, ``chronos``, ``statistical``, a plugin's own name, ...).
        checkpoint: the published checkpoint id, if any.
        defaults: factory keyword arguments for every suite.
        suite_settings: per-suite keyword arguments from the official notebooks (e.g. BOOM's seasonal naive
            sees the last 2048 points); they override ``defaults`` and are recorded in the run record.
        allow_nan_forecast: per suite, whether the official notebook scores NaN forecasts
            (gluonts ``evaluate_model(allow_nan_forecast=True)``); ``toto-bench run`` uses it unless
            ``--[no-]allow-nan-forecast`` is given. Suites not listed: False.
        test_checkpoint: for tests, builds a small randomly initialised checkpoint of this architecture in
            the given folder (with the family's own ``save_pretrained``) and returns the folder to pass as
            ``checkpoint=``.
        test_settings: factory overrides for CPU tests with ``test_checkpoint`` (e.g. fewer sample paths),
            which keep them fast without changing what the contract checks.
        source: where the spec came from: ``"builtin"`` or ``"plugin <entry point> (<distribution>)"``.
        model_type: the GIFT-Eval model-card ``model_type`` written into the run record (``config.json``), so
            ``toto-bench leaderboard --model-type`` can filter our runs like published ones; default: see
            :attr:`card_model_type`.
        revision: the hub commit of ``checkpoint`` that upstream publishes, passed to the factory as
            ``revision`` (recorded and hashed into the results key like any setting); ``None``: none is
            published (every built-in, see the module docstring), so the hub's ``main`` is loaded unless a run
            gives ``--checkpoint-revision``.
        dataset_workers: the model is cheap, single-threaded numpy on the CPU (seasonal naive, naive), so
            ``toto-bench run`` (``--workers auto``, the default) runs a long run's datasets in one process
            per CPU; other models run in one process unless ``--workers N`` is given.
    """

    name: str
    factory: Callable[..., Forecaster]
    family: str
    checkpoint: str | None = None
    description: str = ""
    defaults: Mapping[str, Any] = field(default_factory=dict)
    suite_settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    allow_nan_forecast: Mapping[str, bool] = field(default_factory=dict)
    test_checkpoint: Callable[[Path], Path] | None = None
    test_settings: Mapping[str, Any] = field(default_factory=dict)
    source: str = "builtin"
    model_type: str | None = None
    revision: str | None = None
    dataset_workers: bool = False

    @property
    def card_model_type(self) -> str | None:
        """``model_type`` if given, else ``statistical`` for the statistical family and ``pretrained`` for a
        model loaded from a published checkpoint (GIFT-Eval's names); ``None`` when unknown (plugins)."""
        if self.model_type is not None:
            return self.model_type
        if self.family == "statistical":
            return "statistical"
        return "pretrained" if self.checkpoint else None

    def settings_for(self, suite: str | None) -> dict[str, Any]:
        """The factory keyword arguments for ``suite`` (pinned ``revision``, defaults, the suite's own)."""
        pinned = {} if self.revision is None else {"revision": self.revision}
        return {**pinned, **self.defaults, **(self.suite_settings.get(suite, {}) if suite else {})}

    def allows_nan_forecast(self, suite: str | None) -> bool:
        """Whether the official notebook for ``suite`` evaluates with ``allow_nan_forecast=True``."""
        return bool(self.allow_nan_forecast.get(suite, False)) if suite else False


_REGISTRY: dict[str, ModelSpec] = {}
_PLUGINS: dict[str, ModelSpec] = {}
_PLUGIN_ERRORS: dict[str, str] = {}
_state = {"builtins": False, "plugins": False}


def register(spec: ModelSpec) -> ModelSpec:
    """Add ``spec`` to the registry; a second registration of the same name is an error."""
    if not isinstance(spec, ModelSpec):
        raise TypeError(f"register() takes a ModelSpec, got {type(spec).__name__}")
    existing = _REGISTRY.get(spec.name) or _PLUGINS.get(spec.name)
    if existing is not None:
        raise ValueError(
            f"model {spec.name!r} is already registered (family {existing.family}, {existing.source})"
        )
    _REGISTRY[spec.name] = spec
    return spec


#: Built-in family modules (``toto_bench.adapters.<name>``), imported for their registrations. Each imports
#: its heavy packages (torch, the model library) only when a model is built.
BUILTIN_FAMILIES: tuple[str, ...] = ("statistical", "toto2", "toto1", "chronos", "moirai", "timesfm")


def _load_builtins() -> None:
    _state["builtins"] = True
    for family in BUILTIN_FAMILIES:
        name = f"toto_bench.adapters.{family}"
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:  # a family file that exists but fails to import is a bug: surface it
                raise


def _as_specs(obj: Any, where: str) -> list[ModelSpec]:
    """An entry point's object → its specs (a spec, an iterable of specs, or a callable returning either)."""
    if callable(obj) and not isinstance(obj, ModelSpec):
        obj = obj()
    items = [obj] if isinstance(obj, ModelSpec) else obj
    if not isinstance(items, Iterable) or isinstance(items, str | bytes | Mapping):
        raise TypeError(f"{where} must give a ModelSpec or a list of them, got {type(obj).__name__}")
    specs = list(items)
    bad = [type(s).__name__ for s in specs if not isinstance(s, ModelSpec)]
    if bad:
        raise TypeError(f"{where} must give ModelSpec objects, got {', '.join(bad)}")
    return specs


def _load_plugins() -> None:
    _state["plugins"] = True
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(ep.dist, "name", None) or "unknown distribution"
        where = f"entry point {ep.name!r} = {ep.value!r} ({dist})"
        try:
            specs = _as_specs(ep.load(), where)
        except Exception as exc:  # a broken plugin must not take the built-ins down with it
            reason = f"{where} failed to load: {type(exc).__name__}: {exc}"
            _PLUGIN_ERRORS[ep.name] = reason
            warnings.warn(f"toto-bench: skipping adapter plugin: {reason}", RuntimeWarning, stacklevel=2)
            continue
        for spec in specs:
            existing = _REGISTRY.get(spec.name) or _PLUGINS.get(spec.name)
            if existing is not None:
                reason = (
                    f"{where} registers model {spec.name!r}, already registered by {existing.source} "
                    f"(family {existing.family}); the plugin's spec is ignored"
                )
                _PLUGIN_ERRORS[f"{ep.name}:{spec.name}"] = reason
                warnings.warn(f"toto-bench: {reason}", RuntimeWarning, stacklevel=2)
                continue
            source = f"plugin {ep.name} ({dist})"
            _PLUGINS[spec.name] = dataclasses.replace(spec, source=source)


def refresh_plugins() -> None:
    """Forget the loaded plugins so the next lookup scans the entry points again (e.g. after installs)."""
    _PLUGINS.clear()
    _PLUGIN_ERRORS.clear()
    _state["plugins"] = False
    importlib.invalidate_caches()


def plugin_errors() -> dict[str, str]:
    """Why plugins (or some of their specs) were skipped, by entry-point name."""
    available_models()
    return dict(_PLUGIN_ERRORS)


def available_models() -> dict[str, ModelSpec]:
    """All registered models by name: built-ins (and direct :func:`register` calls) first, then plugins."""
    if not _state["builtins"]:
        _load_builtins()
    if not _state["plugins"]:
        _load_plugins()
    return {**_REGISTRY, **_PLUGINS}


def get_model_spec(name: str) -> ModelSpec:
    """The spec of ``name``; an unknown name lists the valid ones, close matches and plugin failures."""
    models = available_models()
    if name not in models:
        close = difflib.get_close_matches(name, models, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        failed = (
            f" Plugins that failed to load: {'; '.join(_PLUGIN_ERRORS.values())}." if _PLUGIN_ERRORS else ""
        )
        raise ValueError(
            f"unknown model {name!r}.{hint} Registered models: {', '.join(sorted(models))}.{failed}"
        )
    return models[name]


def accepted_options(spec: ModelSpec) -> set[str] | None:
    """The keyword arguments ``spec.factory`` takes (``None`` when it takes ``**kwargs``)."""
    try:
        signature = inspect.signature(spec.factory)
    except (TypeError, ValueError):  # builtins without a signature: let the call itself decide
        return None
    names: set[str] = set()
    for param in signature.parameters.values():
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            return None
        if param.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY):
            names.add(param.name)
    return names


def check_overrides(name: str, overrides: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` if model ``name`` does not take one of ``overrides`` (e.g. ``--batch-size``)."""
    spec = get_model_spec(name)
    accepted = accepted_options(spec)
    if accepted is None:
        return
    unknown = sorted(set(overrides) - accepted)
    if unknown:
        flags = ", ".join(f"{k} (--{k.replace('_', '-')})" for k in unknown)
        raise ValueError(
            f"model {name!r} (family {spec.family}) does not take {flags}; it takes: "
            f"{', '.join(sorted(accepted)) or 'no options'}"
        )


def build_model(name: str, suite: str | None = None, **overrides: Any) -> Forecaster:
    """Instantiate the registered model ``name`` with ``suite``'s settings and ``overrides`` on top."""
    spec = get_model_spec(name)
    check_overrides(name, overrides)
    return spec.factory(**{**spec.settings_for(suite), **overrides})
