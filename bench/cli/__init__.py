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

from toto_bench.cli import data, doctor, download, importing, leaderboard, listing, report, run, score, study
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
    try:
        return int(args.func(args))
    except KeyboardInterrupt as exc:
        print(f"toto-bench: {exc or 'interrupted'}", file=sys.stderr)
        return 130
    except Exception as exc:
        if isinstance(exc, _user_errors()):
            print(f"toto-bench: error: {exc}", file=sys.stderr)
            return 2
        if isinstance(exc, OSError):  # disk full, permissions, ...: name the file and the fix, no traceback
            print(f"toto-bench: error: {_os_error(exc)}", file=sys.stderr)
            return 2
        raise


def _unrecognized(parser: argparse.ArgumentParser, command: str | None, extras: Sequence[str]) -> str:
    """argparse's "unrecognized arguments" message, with the command's close options for each misspelt one."""
    from toto_bench.engine.tasks import did_you_mean  # lazily: --help stays free of numpy

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


#: Error types of the engine printed as one line (exit 2), by module: imported only by the commands that
#: need them, so an error of that type can only exist once its module is loaded.
_ENGINE_ERRORS = (
    ("toto_bench.engine.data", "DataError"),
    ("toto_bench.engine.lock", "FolderLockedError"),
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
