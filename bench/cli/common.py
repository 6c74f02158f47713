"""What the ``toto-bench`` commands share: the user-error type, argument types, board and suite inputs.

Imported when the parser is built, so it imports the suites (numpy, pandas, numba) only inside the
functions a command's handler calls.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from toto_bench.cli.choices import LEADERBOARD_SUITES, SUITE_FILE_SUFFIXES

if TYPE_CHECKING:
    from toto_bench.suites.boom import BoomProperties

__all__ = [
    "EPILOG",
    "UserError",
    "add_board_inputs",
    "board_properties",
    "check_output_folder",
    "non_negative_int",
    "positive_int",
    "split",
    "suite_argument",
    "suite_properties",
    "warn",
]


#: Examples printed under ``--help`` of the main parser and of the commands.
EPILOG = """\
examples:
  toto-bench run --suite gift-eval --model seasonal-naive --data-dir ~/gift_eval --datasets ett1/H,m4_hourly
  toto-bench run --suite boom --model seasonal-naive --data-dir ~/boom_benchmark
  toto-bench run --suite time --model seasonal-naive --data-dir ~/TIME --datasets SG_Weather/D
  toto-bench run --suite lsf --model naive --data-dir ~/all_datasets --datasets ETTh1,weather --terms 96,720
  toto-bench leaderboard --suite lsf --results-dir results/lsf
  toto-bench leaderboard --suite boom --results-dir ../shared/data/boom/results
  toto-bench leaderboard --suite boom --results-dir published/ --results-dir results/boom --format csv
  toto-bench leaderboard --suite boom --results-dir R --breakdown domain --format csv --output tables/
  toto-bench score --suite gift-eval --run-dir results/gift-eval/seasonal-naive
  toto-bench report --suite boom --results-dir ../shared/data/boom/results --output site/
  toto-bench import --suite boom --from ../shared/data/boom/results
  toto-bench leaderboard --suite boom --results-dir results/boom --stats --format csv --output tables/
"""


class UserError(Exception):
    """A problem with the user's input: printed as one line, exit status 2."""


def warn(message: str) -> None:
    """Print ``toto-bench: warning: <message>`` on stderr."""
    print(f"toto-bench: warning: {message}", file=sys.stderr)


def check_output_folder(folder: Path, *, flag: str, given: str) -> None:
    """Raise :class:`UserError` unless ``folder`` (``given`` to ``flag``, or a folder below it) can be created
    and written: a file on the way, or a location that refuses a new file, is named with the fix before
    any work starts (nothing is created here)."""
    existing = folder
    while not (existing.exists() or existing.is_symlink()) and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        raise UserError(
            f"{flag} {given}: {existing} is a file, not a folder; choose another {flag} "
            f"(or move {existing} away)"
        )
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UserError(
            f"{flag} {given}: cannot write in {existing} ({reason}); choose a writable {flag}"
        ) from None


def board_properties(args: argparse.Namespace) -> Path | None:
    """The BOOM/Boomlet properties file of a board command (``--properties``, ``--data-dir``, beside the
    results); GIFT-Eval: ``--properties`` as given (the board looks beside the results, then uses the
    built-in values); ``None`` for the other suites."""
    if args.suite == "gift-eval":
        return Path(args.properties) if getattr(args, "properties", None) else None
    if args.suite not in ("boom", "boomlet"):
        return None
    from toto_bench.suites import locate_properties

    return locate_properties(
        args.suite, properties=args.properties, data_dir=args.data_dir, results_dirs=results_dirs(args)
    )


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or a positive integer, got {text}")
    return value


def split(values: Sequence[str] | None) -> list[str] | None:
    """``["a,b", "c"]`` → ``["a", "b", "c"]`` (flags may be repeated or comma-separated)."""
    if not values:
        return None
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def suite_properties(args: argparse.Namespace) -> BoomProperties | None:
    if args.suite not in ("boom", "boomlet"):
        return None
    from toto_bench.suites import locate_properties
    from toto_bench.suites.boom import BoomProperties

    data_dir = args.data_dir or os.environ.get("BOOM")
    path = locate_properties(args.suite, properties=args.properties, data_dir=data_dir)
    return BoomProperties.from_json(path)


def suite_argument(names: Sequence[str]) -> Callable[[str], str]:
    """An argparse type for ``--suite``: one of ``names``, or an existing suite file (``*.yaml``)."""

    def parse(text: str) -> str:
        if text in names:
            return text
        if text.endswith(SUITE_FILE_SUFFIXES):
            if not Path(text).is_file():
                raise argparse.ArgumentTypeError(f"suite file {text} does not exist")
            return text
        raise argparse.ArgumentTypeError(
            f"unknown suite {text!r}; valid: {', '.join(names)}, or a suite file SUITE.yaml"
        )

    return parse


def default_results_dir(suite: str) -> str:
    """``results/<suite name>``: where ``toto-bench run --suite S`` writes by default."""
    if suite in ("boom", "boomlet"):
        return str(Path("results") / suite)
    from toto_bench.suites import get_suite

    return str(Path("results") / get_suite(suite).name)


def add_board_inputs(parser: argparse.ArgumentParser) -> None:
    """``--suite`` and the repeatable ``--results-dir`` of the commands that build a board."""
    parser.add_argument(
        "--suite",
        required=True,
        type=suite_argument(LEADERBOARD_SUITES),
        metavar="{" + ",".join(LEADERBOARD_SUITES) + "} or SUITE.yaml",
        help="benchmark suite, or a suite file of `toto-bench data convert`",
    )
    parser.add_argument(
        "--results-dir",
        action="append",
        metavar="DIR",
        help="folder of <model>/all_results.csv; repeat to combine (e.g. published + your own runs); "
        "default: results/<suite>, where `toto-bench run` writes",
    )


def results_dirs(args: argparse.Namespace) -> list[str]:
    """The ``--results-dir`` values, or the suite's default run folder (:func:`default_results_dir`)."""
    return list(args.results_dir) if args.results_dir else [default_results_dir(args.suite)]
