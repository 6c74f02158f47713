"""``toto-bench score``: a run's rows recomputed from its stored forecasts (no model loaded)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from toto_bench.cli.choices import RUN_SUITES
from toto_bench.cli.common import suite_properties


def _score(args: argparse.Namespace) -> int:
    from toto_bench.boards.scoring import score_run
    from toto_bench.suites import get_suite

    suite = get_suite(args.suite, suite_properties(args))
    output = Path(args.output) if args.output else None
    summary = score_run(suite, Path(args.run_dir), data_dir=args.data_dir, output=output)
    print(f"{summary.output}: {len(summary.configs)} configs scored from stored forecasts")
    return 0


def register(sub: Any) -> None:
    """Add the command to ``sub``, the ``toto-bench`` sub-parsers."""
    sc = sub.add_parser(
        "score",
        help="recompute a run's all_results.csv rows from its stored forecasts (no model loaded)",
        description=(
            "Recompute the results rows of every config stored by `toto-bench run --save-forecasts` in "
            "RUN_DIR/forecasts/: the data are reopened through the suite's protocol (labels, seasonal errors "
            "and scales come from the data) and the run's scorer is fed the stored forecasts. Forecasts made "
            "on other data (fingerprint or content hash) or by another protocol version are refused. Writes "
            "the rows in the all_results.csv schema and order (the run's datasets, then suite order)."
        ),
    )
    sc.add_argument("--suite", required=True, choices=RUN_SUITES, help="the suite the run ran")
    sc.add_argument(
        "--run-dir", required=True, metavar="DIR", help="the run folder <output-dir>/<suite>/<model>"
    )
    sc.add_argument(
        "--data-dir",
        metavar="DIR",
        help="suite data root (default: the one in RUN_DIR/config.json, else $GIFT_EVAL / $BOOM / ...)",
    )
    sc.add_argument("--output", metavar="FILE", help="the CSV to write (default: RUN_DIR/scored_results.csv)")
    sc.add_argument("--properties", metavar="PATH", help="BOOM/Boomlet properties JSON")
    sc.set_defaults(func=_score)
