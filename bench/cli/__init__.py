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
``data convert``   :mod:`toto_bench.cli.data`
``doctor``         :mod:`toto_bench.cli.doctor`
``study``          :mod:`toto_bench.cli.study`
=================  ============================================================================
"""

from __future__ import annotations

import argparse
import errno
import sys
from collections.abc import Sequence

from toto_bench import __version__
from toto_bench.cli import data, doctor, download, importing, leaderboard, listing, report, run, score, study
from toto_bench.cli.common import EPILOG, UserError
from toto_bench.engine.data import DataError
from toto_bench.engine.lock import FolderLockedError
from toto_bench.engine.protocol import RunError
from toto_bench.engine.results import ResultsError
from toto_bench.engine.tasks import did_you_mean

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
    for command in (leaderboard, importing, run, download, report, score, listing, data, doctor, study):
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras:
        parser.error(_unrecognized(parser, getattr(args, "command", None), extras))
    if getattr(args, "check", None) and getattr(args, "output", None):
        parser.error("--check and --output are exclusive")
    errors = (UserError, ResultsError, DataError, RunError, FolderLockedError, FileNotFoundError, ValueError)
    try:
        return int(args.func(args))
    except (*errors, ImportError) as exc:
        print(f"toto-bench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        print(f"toto-bench: {exc or 'interrupted'}", file=sys.stderr)
        return 130
    except OSError as exc:  # disk full, permissions, ...: name the file and the fix, no traceback
        print(f"toto-bench: error: {_os_error(exc)}", file=sys.stderr)
        return 2


def _unrecognized(parser: argparse.ArgumentParser, command: str | None, extras: Sequence[str]) -> str:
    """argparse's "unrecognized arguments" message, with the command's close options for each misspelt one."""
    options: list[str] = []
    for action in parser._actions:  # the command's sub-parser holds its options
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            options = [o for a in action.choices[command]._actions for o in a.option_strings]
    hints = [f"{e}{did_you_mean(e.split('=')[0], options)}" for e in extras if e.startswith("--")]
    hinted = [h for h in hints if "did you mean" in h]
    return f"unrecognized arguments: {' '.join(extras)}" + (f"; {'; '.join(hinted)}" if hinted else "")


def _os_error(exc: OSError) -> str:
    where = f" writing {exc.filename}" if exc.filename else ""
    if exc.errno == errno.ENOSPC:
        return (
            f"disk full{where} ({exc.strerror}); free space or choose another --output-dir, then rerun the "
            f"same command: finished configs are kept"
        )
    return f"{type(exc).__name__}{where}: {exc.strerror or exc}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
