"""The ``toto-bench`` command line: one module per command, each with a ``register(subparsers)``.

=================  ============================================================================
command            module
=================  ============================================================================
``run``            :mod:`toto_bench.cli.run`
``leaderboard``    :mod:`toto_bench.cli.leaderboard`
``import``         :mod:`toto_bench.cli.importing`
``score``          :mod:`toto_bench.cli.score`
``report``         :mod:`toto_bench.cli.report`
``download``       :mod:`toto_bench.cli.download`
``list``           :mod:`toto_bench.cli.listing`
``study``          :mod:`toto_bench.cli.study`
=================  ============================================================================
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from toto_bench import __version__
from toto_bench.cli import download, importing, leaderboard, listing, report, run, score, study
from toto_bench.cli.common import EPILOG, UserError
from toto_bench.engine.data import DataError
from toto_bench.engine.protocol import RunError
from toto_bench.engine.results import ResultsError

__all__ = ["UserError", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The ``toto-bench`` parser with every command registered."""
    parser = argparse.ArgumentParser(
        prog="toto-bench",
        description="Exact, fast, resumable benchmarks for time-series foundation models.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"toto-bench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in (leaderboard, importing, run, download, report, score, listing, study):
        command.register(sub)
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
