"""``toto-bench import``: published results folders, validated, copied into ``results/<suite>/``."""

from __future__ import annotations

import argparse
from typing import Any

from toto_bench.cli.choices import IMPORT_SUITES
from toto_bench.cli.common import EPILOG


def _import(args: argparse.Namespace) -> int:
    from toto_bench.boards.importer import run_import

    return run_import(args)


def register(sub: Any) -> None:
    """Add the command to ``sub``, the ``toto-bench`` sub-parsers."""
    imp = sub.add_parser(
        "import",
        help="copy published <model>/all_results.csv folders into results/<suite>/ after validation",
        description=(
            "Import upstream results so a new model is compared against the published ones without "
            "rerunning them. --from is a local results folder (<root>/<model>/all_results.csv "
            "[+ config.json]) or one model folder, hf://datasets/<owner>/<name>[@rev]/<path>, or an "
            "http(s) .zip/.tar.gz archive (URL#sub/folder points inside). Every model is validated first "
            "(config set, duplicates, columns); one bad file stops the import, naming it, and nothing is "
            "written. Each model lands in <results-root>/<suite>/<model>/ with its all_results.csv and "
            "config.json copied byte for byte and an import.json provenance note (source, sha256, date)."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    imp.add_argument("--suite", required=True, choices=IMPORT_SUITES, help="benchmark suite of the results")
    imp.add_argument(
        "--from",
        dest="source",
        required=True,
        metavar="PATH_OR_URL",
        help="local folder, hf://datasets/<owner>/<name>/<path>, or http(s)://...{.zip,.tar.gz}[#sub/folder]",
    )
    imp.add_argument(
        "--results-root",
        default="results",
        metavar="DIR",
        help="results root; models go to DIR/<suite>/<model>/ (default: results)",
    )
    imp.add_argument(
        "--models",
        action="append",
        metavar="A,B",
        help="import only these model folders (comma-separated or repeated); default: all",
    )
    imp.add_argument(
        "--force", action="store_true", help="replace model folders that already exist (default: error)"
    )
    imp.add_argument(
        "--properties",
        metavar="PATH",
        help="BOOM properties JSON for the config check (default: beside the source folder, $BOOM, "
        "--data-dir)",
    )
    imp.add_argument("--data-dir", metavar="DIR", help="suite data folder (searched for the properties file)")
    imp.set_defaults(func=_import)
