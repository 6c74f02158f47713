"""The ``toto-bench`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from toto_bench import __version__
from toto_bench.boards import BREAKDOWNS, LEADERBOARD_SUITES, TIES, build_document
from toto_bench.data import DataError
from toto_bench.render import FORMATS
from toto_bench.results import ResultsError
from toto_bench.runner import RunError
from toto_bench.suites import locate_properties

EPILOG = """\
examples:
  toto-bench leaderboard --suite boom --results-dir ../shared/data/boom/results
  toto-bench leaderboard --suite boom --results-dir published/ --results-dir results/boom --format csv
  toto-bench leaderboard --suite boom --results-dir R --breakdown domain --format csv --output tables/
"""


class UserError(Exception):
    """A problem with the user's input: printed as one line, exit status 2."""


def _leaderboard(args: argparse.Namespace) -> int:
    properties = None
    if args.suite in ("boom", "boomlet"):
        properties = locate_properties(
            args.suite, properties=args.properties, data_dir=args.data_dir, results_dirs=args.results_dir
        )
    outputs = build_document(
        suite=args.suite,
        results_dirs=list(args.results_dir),
        properties=properties,
        fmt=args.format,
        breakdown=args.breakdown,
        ties=args.ties,
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


def _list(args: argparse.Namespace) -> int:
    if args.what == "suites":
        rows = [
            ("boom", "7413 configs", "Datadog/BOOM; env BOOM; properties boom_properties.json"),
            ("boomlet", "96 configs", "the 32-dataset BOOM subset; properties boomlet_properties.json"),
            ("gift-eval", "97 configs", "Salesforce/GiftEval; env GIFT_EVAL"),
            ("time", "98 tasks", "Real-TSF/TIME; env TIME_DATASET"),
        ]
        width = max(len(r[0]) for r in rows)
        for name, size, source in rows:
            print(f"{name:<{width}}  {size:<12}  {source}")
        return 0
    raise UserError(f"unknown list target {args.what!r}; valid: suites")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="toto-bench",
        description="Exact, fast, resumable benchmarks for time-series foundation models.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"toto-bench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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
    lb.add_argument("--suite", required=True, choices=LEADERBOARD_SUITES, help="benchmark suite")
    lb.add_argument(
        "--results-dir",
        action="append",
        required=True,
        metavar="DIR",
        help="folder of <model>/all_results.csv; repeat to combine (e.g. published + your own runs)",
    )
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
        choices=list(BREAKDOWNS),
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
    lb.set_defaults(func=_leaderboard)

    ls = sub.add_parser("list", help="list suites")
    ls.add_argument("what", choices=["suites"], help="what to list")
    ls.set_defaults(func=_list)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "check", None) and getattr(args, "output", None):
        parser.error("--check and --output are exclusive")
    try:
        return int(args.func(args))
    except (UserError, ResultsError, DataError, RunError, FileNotFoundError, ValueError, ImportError) as exc:
        print(f"toto-bench: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
