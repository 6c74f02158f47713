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
=================  ============================================================================
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from toto_bench.cli import download, importing, leaderboard, listing, report, run, score
from toto_bench.cli.common import EPILOG, UserError

__all__ = ["UserError", "build_parser", "main"]


class _Version(argparse.Action):
    """``--version``: reads the installed version only when asked (``importlib.metadata`` is slow)."""

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        from toto_bench import __version__

        parser.exit(message=f"toto-bench {__version__}\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``toto-bench`` parser with every command registered."""
    parser = argparse.ArgumentParser(
        prog="toto-bench",
        description="Exact, fast, resumable benchmarks for time-series foundation models.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in (leaderboard, importing, run, download, report, score, listing):
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "check", None) and getattr(args, "output", None):
        parser.error("--check and --output are exclusive")
    try:
        return int(args.func(args))
    except Exception as exc:
        if not isinstance(exc, _user_errors()):
            raise
        print(f"toto-bench: error: {exc}", file=sys.stderr)
        return 2


#: Error types of the engine printed as one line (exit 2), by module: imported only by the commands that
#: need them, so an error of that type can only exist once its module is loaded.
_ENGINE_ERRORS = (
    ("toto_bench.engine.data", "DataError"),
    ("toto_bench.engine.protocol", "RunError"),
    ("toto_bench.engine.results", "ResultsError"),
)


def _user_errors() -> tuple[type[Exception], ...]:
    """The exception types a command reports as ``toto-bench: error: ...`` (exit status 2)."""
    types: list[type[Exception]] = [UserError, FileNotFoundError, ValueError, ImportError]
    for module, name in _ENGINE_ERRORS:
        loaded = sys.modules.get(module)
        if loaded is not None:
            types.append(getattr(loaded, name))
    return tuple(types)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
