"""``toto-bench list``: the suites, and the registered models with their checkpoint ids."""

from __future__ import annotations

import argparse
from typing import Any

from toto_bench.cli.common import UserError


def _list(args: argparse.Namespace) -> int:
    if args.what == "models":
        from toto_bench.adapters.registry import available_models

        models = available_models()
        width = max(len(n) for n in models)
        family_width = max(12, *(len(s.family) for s in models.values()))
        checkpoint_width = max(28, *(len(s.checkpoint or "-") for s in models.values()))
        for name, spec in models.items():
            checkpoint = spec.checkpoint or "-"
            print(
                f"{name:<{width}}  {spec.family:<{family_width}}  {checkpoint:<{checkpoint_width}}  "
                f"{spec.description}"
            )
        return 0
    if args.what == "suites":
        rows = [
            ("boom", "7413 configs", "Datadog/BOOM; env BOOM; properties boom_properties.json"),
            ("boomlet", "96 configs", "the 32-dataset BOOM subset; properties boomlet_properties.json"),
            ("gift-eval", "97 configs", "Salesforce/GiftEval; env GIFT_EVAL"),
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
    ls = sub.add_parser("list", help="list suites or models")
    ls.add_argument("what", choices=["suites", "models"], help="what to list")
    ls.set_defaults(func=_list)
