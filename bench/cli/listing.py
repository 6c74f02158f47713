"""``toto-bench list``: the suites, and the registered models with their checkpoint ids, whether their
family is installed and the one install command when it is not."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from toto_bench.cli.common import UserError

if TYPE_CHECKING:
    from toto_bench.adapters.registry import ModelSpec


def model_extra(spec: ModelSpec) -> str | None:
    """The install extra a model needs (``None``: nothing beyond toto-bench, e.g. seasonal-naive or a
    plugin, which is installed by definition once it is listed)."""
    from toto_bench.adapters.common import MODEL_EXTRAS
    from toto_bench.adapters.statistical import AUTO_MODEL_SETTINGS

    if spec.source != "builtin":
        return None
    if spec.family in MODEL_EXTRAS:
        return spec.family
    if spec.family == "statistical" and spec.name in AUTO_MODEL_SETTINGS:
        return "stats"
    return None


def missing_family(name: str, spec: ModelSpec) -> str | None:
    """Why model ``name`` cannot be built here (its family's packages are not installed, with the install
    commands), or ``None`` when it can as far as installed packages go."""
    from toto_bench.adapters.common import extra_installed, install_hint

    extra = model_extra(spec)
    if extra is None or extra_installed(extra):
        return None
    hint = install_hint(extra)
    return f"model {name!r} needs the {extra} family, which is not installed; install it: {hint}"


def _list_models() -> int:
    from toto_bench.adapters.common import extra_installed, install_command, pip_install_command
    from toto_bench.adapters.registry import available_models

    models = available_models()
    extras = {name: model_extra(spec) for name, spec in models.items()}
    installed = {e: extra_installed(e) for e in sorted({e for e in extras.values() if e is not None})}
    width = max(len(n) for n in models)
    family_width = max(12, *(len(s.family) for s in models.values()))
    checkpoint_width = max(28, *(len(s.checkpoint or "-") for s in models.values()))
    missing: set[str] = set()
    for name, spec in models.items():
        extra = extras[name]
        if extra is None or installed[extra]:
            status = "installed"
        else:
            status = f"missing: {install_command(extra)}"
            missing.add(extra)
        checkpoint = spec.checkpoint or "-"
        print(
            f"{name:<{width}}  {spec.family:<{family_width}}  {checkpoint:<{checkpoint_width}}  "
            f"{status:<46}  {spec.description}"
        )
    for extra in sorted(missing):
        print(f"# {extra} with pip only (no checkout): {pip_install_command(extra)}")
    return 0


def _list(args: argparse.Namespace) -> int:
    if args.what == "models":
        return _list_models()
    if args.what == "suites":
        rows = [
            ("boom", "7413 configs", "Datadog/BOOM; env BOOM; properties packaged (or --properties)"),
            ("boomlet", "96 configs", "the 32-dataset BOOM subset; properties packaged (or --properties)"),
            ("gift-eval", "97 configs", "Salesforce/GiftEval; env GIFT_EVAL"),
            ("demo", "10 configs", "shipped in the package (Saugeen flow, US births); GIFT-Eval rules"),
            ("FILE.yaml", "yours", "a suite file of `toto-bench data convert`; GIFT-Eval rules"),
            ("time", "98 tasks", "Real-TSF/TIME; env TIME_DATASET"),
            ("lsf", "32 configs", "TSLib CSVs (ETT, weather, electricity, traffic, exchange); env LSF_DATA"),
        ]
        width = max(len(r[0]) for r in rows)
        for name, size, source in rows:
            print(f"{name:<{width}}  {size:<12}  {source}")
        return 0
    raise UserError(f"unknown list target {args.what!r}; valid: suites, models")


def register(sub: Any) -> None:
    """Add the command to ``sub``, the ``toto-bench`` sub-parsers."""
    ls = sub.add_parser("list", help="list suites, or models with whether their family is installed")
    ls.add_argument("what", choices=["suites", "models"], help="what to list")
    ls.set_defaults(func=_list)
