"""``toto-bench import``: published results folders, validated, copied into ``results/<suite>/``."""

from __future__ import annotations

import argparse
from typing import Any

from toto_bench.cli.choices import IMPORT_LIMITS, IMPORT_SUITES, PUBLISHED_REVISIONS
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
        metavar="PATH_OR_URL",
        help="local folder, hf://datasets/<owner>/<name>/<path>, or http(s)://...{.zip,.tar.gz}[#sub/folder]",
    )
    imp.add_argument(
        "--published",
        action="store_true",
        help="instead of --from: the official published results (boom: DataDog/toto boom/results; "
        "gift-eval: SalesforceAIResearch/gift-eval results/) as a GitHub archive at a pinned revision",
    )
    imp.add_argument(
        "--revision",
        metavar="REV",
        help="with --published: the upstream commit or tag (default: "
        + ", ".join(f"{s} {revision[:7]}" for s, revision in PUBLISHED_REVISIONS.items())
        + ")",
    )
    imp.add_argument(
        "--published-url",
        metavar="URL",
        help="with --published: fetch the archive from URL instead of GitHub ({rev} is replaced by the "
        "revision), e.g. a mirror",
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
    download_bytes, unpacked_bytes, members = IMPORT_LIMITS
    imp.add_argument(
        "--max-download-mb",
        type=float,
        default=download_bytes / 2**20,
        metavar="MB",
        help="http(s) archives: refuse a larger download (default: %(default).0f)",
    )
    imp.add_argument(
        "--max-unpacked-mb",
        type=float,
        default=unpacked_bytes / 2**20,
        metavar="MB",
        help="http(s) archives: refuse more uncompressed data in what is extracted (default: %(default).0f)",
    )
    imp.add_argument(
        "--max-files",
        type=int,
        default=members,
        metavar="N",
        help="http(s) archives: refuse more members in the extracted folder (default: %(default)s)",
    )
    imp.set_defaults(func=_import)
