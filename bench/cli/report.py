"""``toto-bench report``: a static HTML report of a board."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from toto_bench.cli.choices import TIES
from toto_bench.cli.common import (
    EPILOG,
    UserError,
    add_board_inputs,
    board_properties,
    positive_int,
    results_dirs,
    split,
    warn,
)


def _report(args: argparse.Namespace) -> int:
    from toto_bench.boards.report import write_report

    properties = board_properties(args)
    if args.plot and not args.forecasts:
        raise UserError("--plot chooses configs of --forecasts RUN_DIR; give the run folder too")
    path = write_report(
        suite=args.suite,
        results_dirs=results_dirs(args),
        output=Path(args.output),
        properties=properties,
        ties=args.ties,
        partial=args.partial,
        forecasts=[Path(f) for f in args.forecasts or []],
        plot_configs=split(args.plot),
        plot_items=args.plot_items,
        plot_windows=args.plot_windows,
        data_dir=args.data_dir,
        warn=warn,
        studies_dir=Path(args.studies_dir) if args.studies_dir else None,
    )
    print(f"wrote {path}", file=sys.stderr)
    return 0


def register(sub: Any) -> None:
    """Add the command to ``sub``, the ``toto-bench`` sub-parsers."""
    rep = sub.add_parser(
        "report",
        help="write a static HTML report: sortable leaderboard, breakdowns, rank and forecast plots",
        description=(
            "Write <output>/index.html, one self-contained page (no network, opens from file://): the board "
            "of `toto-bench leaderboard` as a table sortable by any column, the breakdown tables, rank plots "
            "and, with --forecasts, forecast plots (context, truth, median, 10-90% band) of a run saved with "
            "`toto-bench run --save-forecasts`. See docs/report.md."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    add_board_inputs(rep)
    rep.add_argument("--output", required=True, metavar="DIR", help="folder to write index.html into")
    rep.add_argument(
        "--properties",
        metavar="PATH",
        help="BOOM properties JSON (default: <data-dir>, $BOOM, or beside the results folder)",
    )
    rep.add_argument(
        "--data-dir",
        metavar="DIR",
        help="suite data folder: context and truth of the forecast plots (default: the data_dir in the "
        "run's config.json); also searched for the BOOM properties file",
    )
    rep.add_argument(
        "--forecasts",
        action="append",
        metavar="RUN_DIR",
        help="a run folder <results>/<suite>/<model> written with --save-forecasts; repeat for more models",
    )
    rep.add_argument(
        "--plot",
        action="append",
        metavar="CONFIG[,CONFIG]",
        help="configs to plot from --forecasts, e.g. ett1/H/short (default: the first 3 saved)",
    )
    rep.add_argument(
        "--plot-items",
        type=positive_int,
        default=3,
        metavar="N",
        help="series per plotted config, the first N of the dataset (default: 3)",
    )
    rep.add_argument(
        "--plot-windows",
        type=positive_int,
        default=2,
        metavar="N",
        help="windows per plotted series, the last N forecast origins (default: 2)",
    )
    rep.add_argument(
        "--studies-dir",
        metavar="DIR",
        help="embed the plots and tables of `toto-bench study ... --output-dir DIR` (docs/studies.md)",
    )
    rep.add_argument(
        "--ties", choices=TIES, default="first", help="rank ties, as for `toto-bench leaderboard`"
    )
    rep.add_argument(
        "--partial",
        action="store_true",
        help="allow models with missing configs (the board keeps the configs every model has)",
    )
    rep.set_defaults(func=_report)
