"""``toto-bench leaderboard``: a board from ``<results-dir>/<model>/all_results.csv`` files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from toto_bench.cli.choices import BREAKDOWNS, FORMATS, TIES
from toto_bench.cli.common import EPILOG, add_board_inputs, board_properties, positive_int, split, warn


def _leaderboard(args: argparse.Namespace) -> int:
    from toto_bench.boards.document import StatsOptions, build_document

    properties = board_properties(args)
    outputs = build_document(
        suite=args.suite,
        results_dirs=list(args.results_dir),
        properties=properties,
        fmt=args.format,
        breakdown=args.breakdown,
        ties=args.ties,
        partial=args.partial,
        warn=warn,
        model_types=split(args.model_type),
        exclude_leakage=args.exclude_leakage,
        stats=StatsOptions(args.bootstrap, args.seed, args.confidence) if args.stats else None,
    )
    if args.check:
        target = Path(args.check)
        text = outputs.single()
        if not target.is_file():
            print(
                f"toto-bench: {target} does not exist; regenerate it with --output {target}", file=sys.stderr
            )
            return 1
        if target.read_text() != text:
            print(
                f"toto-bench: {target} is stale: it differs from the regenerated {args.suite} leaderboard; "
                f"regenerate it with --output {target}",
                file=sys.stderr,
            )
            return 1
        print(f"{target}: up to date")
        return 0
    if args.output is None:
        for name, text in outputs.files.items():
            if len(outputs.files) > 1:
                print(f"# {name}")
            sys.stdout.write(text)
        return 0
    written = outputs.write(Path(args.output))
    for path in written:
        print(f"wrote {path}", file=sys.stderr)
    return 0


def register(sub: Any) -> None:
    """Add the command to ``sub``, the ``toto-bench`` sub-parsers."""
    lb = sub.add_parser(
        "leaderboard",
        help="build a leaderboard from <results-dir>/<model>/all_results.csv files",
        description=(
            "Build a leaderboard from <results-dir>/<model>/all_results.csv files (model name = "
            "directory name). BOOM/Boomlet follow DataDog/toto boom/utils/leaderboard.py exactly: flat "
            "split, per-model mean imputation, seasonal-naive scaling, shifted geometric mean, CRPS ranks."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    add_board_inputs(lb)
    lb.add_argument("--format", choices=FORMATS, default="md", help="output format (default: md)")
    lb.add_argument(
        "--output",
        metavar="FILE",
        help="write here instead of stdout (a directory for --format csv with --breakdown)",
    )
    lb.add_argument(
        "--check",
        metavar="FILE",
        help="regenerate and compare with FILE; exit 1 if it is stale (used by CI)",
    )
    lb.add_argument(
        "--breakdown",
        choices=BREAKDOWNS,
        help="BOOM only: shifted-gmean breakdown by full_benchmark, term, type or domain (not the board)",
    )
    lb.add_argument(
        "--ties",
        choices=TIES,
        default="first",
        help="rank ties: 'first' = published model order (reproduces upstream), 'average' = mean rank",
    )
    lb.add_argument(
        "--properties",
        metavar="PATH",
        help="BOOM properties JSON (default: <data-dir>, $BOOM, or beside the results folder)",
    )
    lb.add_argument("--data-dir", metavar="DIR", help="suite data folder (searched for the properties file)")
    lb.add_argument(
        "--partial",
        action="store_true",
        help="allow models with missing configs: the board keeps the configs every model has (BOOM: whole "
        "datasets) and prints the counts on stderr; without it a missing config is an error",
    )
    lb.add_argument(
        "--model-type",
        action="append",
        metavar="TYPE[,TYPE]",
        help="GIFT-Eval: keep only models whose config.json model_type is one of these (e.g. pretrained, "
        "fine-tuned, agentic, statistical, deep-learning); seasonal naive is always kept; ranks are among "
        "the models kept; what was dropped is printed on stderr",
    )
    lb.add_argument(
        "--exclude-leakage",
        action="store_true",
        help='GIFT-Eval: drop models whose config.json says testdata_leakage "Yes" (listed on stderr)',
    )
    lb.add_argument(
        "--stats",
        action="store_true",
        help="add paired-bootstrap confidence intervals (MASE_lo/_hi, CRPS_lo/_hi columns: configs "
        "resampled, the same draw for every model) and a pairwise win-rate appendix (md/html: more tables; "
        "csv: a second file <suite>_win_rates.csv, so give --output a directory)",
    )
    lb.add_argument(
        "--bootstrap",
        type=positive_int,
        default=1000,
        metavar="N",
        help="--stats: bootstrap resamples (default: 1000)",
    )
    lb.add_argument(
        "--seed", type=int, default=0, metavar="S", help="--stats: numpy default_rng seed (default: 0)"
    )
    lb.add_argument(
        "--confidence",
        type=float,
        default=0.95,
        metavar="C",
        help="--stats: confidence level of the percentile intervals, in (0, 1) (default: 0.95)",
    )
    lb.set_defaults(func=_leaderboard)
