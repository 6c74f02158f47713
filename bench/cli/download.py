"""``toto-bench download``: fetch only the named dataset folders from the Hugging Face Hub."""

from __future__ import annotations

import argparse
from typing import Any

from toto_bench.cli.choices import DOWNLOAD_SUITES
from toto_bench.cli.common import split


def _download(args: argparse.Namespace) -> int:
    from toto_bench.engine.data import download

    root = download(args.suite, split(args.datasets), args.data_dir)
    print(f"{args.suite} data ready under {root}")
    return 0


def register(sub: Any) -> None:
    """Add the command to ``sub``, the ``toto-bench`` sub-parsers."""
    dl = sub.add_parser(
        "download",
        help="fetch suite data from the Hugging Face Hub (only the requested dataset folders)",
    )
    dl.add_argument("--suite", required=True, choices=DOWNLOAD_SUITES, help="suite whose data to fetch")
    dl.add_argument("--datasets", action="append", metavar="NAMES", help="comma-separated storage names")
    dl.add_argument("--data-dir", metavar="DIR", help="where to put it (default: $GIFT_EVAL / $BOOM / cache)")
    dl.set_defaults(func=_download)
