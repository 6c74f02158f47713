"""``toto-bench leaderboard``: a board from ``<results-dir>/<model>/all_results.csv`` files."""

from __future__ import annotations

import argparse
import io
import re
import sys
from pathlib import Path
from typing import Any

from toto_bench.cli.choices import BREAKDOWNS, FORMATS, LEADERBOARD_SUITES, TIES
from toto_bench.cli.common import (
    EPILOG,
    add_board_inputs,
    board_properties,
    positive_int,
    results_dirs,
    split,
    warn,
)


def _document(args: argparse.Namespace, properties: Path | None) -> Any:
    """The board document of the command's flags (``build_document``)."""
    from toto_bench.boards.document import StatsOptions, build_document

    return build_document(
        suite=args.suite,
        results_dirs=results_dirs(args),
        properties=properties,
        fmt=args.format,
        breakdown=args.breakdown,
        ties=args.ties,
        partial=args.partial,
        warn=warn,
        model_types=split(args.model_type),
        exclude_leakage=args.exclude_leakage,
        stats=StatsOptions(args.bootstrap, args.seed, args.confidence) if args.stats else None,
        rerank=args.rerank,
    )


def _leaderboard(args: argparse.Namespace) -> int:
    from toto_bench.engine.results import ResultsError

    properties = board_properties(args)
    try:
        outputs = _document(args, properties)
    except ResultsError as exc:
        if "config set differs" in str(exc) and not args.partial:
            raise ResultsError(f"{exc}; pass --partial to rank over the configs every model has") from exc
        raise
    if args.check:
        target = Path(args.check)
        text = outputs.single()
        if not target.is_file():
            print(
                f"toto-bench: {target} does not exist; regenerate it with --output {target}", file=sys.stderr
            )
            return 1
        committed = target.read_text()
        if not _same_output(committed, text, csv=args.format == "csv"):
            other = _other_board(committed, text, suite=args.suite, csv=args.format == "csv")
            if other is not None:
                print(f"toto-bench: {target} {other}", file=sys.stderr)
                return 1
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


def _title(text: str) -> str | None:
    """The first heading of a rendered board: md ``# ...``, html ``<h1>...</h1>``; ``None`` if neither."""
    match = re.search(r"<h1>(.*?)</h1>", text[:20_000]) or re.match(r"# (.+)", text)
    if match is None:
        return None
    import html

    return html.unescape(match.group(1)).strip()


def _csv_kind(header: str) -> tuple[str, ...]:
    """What identifies a board's CSV: its first three column names, config counts (``MASE-6750-scaled``)
    replaced by ``#``."""
    return tuple(re.sub(r"\d+", "#", name) for name in header.split(",")[:3])


def _other_board(committed: str, regenerated: str, *, suite: str, csv: bool) -> str | None:
    """What is wrong when ``committed`` is another board than ``suite``'s, not a stale copy of it: another
    suite's title (md/html), or other CSV columns; ``None`` when it looks like ``suite``'s own board."""
    if csv:
        have, want = committed.partition("\n")[0], regenerated.partition("\n")[0]
        if _csv_kind(have) == _csv_kind(want):  # the same board (config counts or extra columns may differ)
            return None
        return (
            f"has the columns {have!r}, not those of the {suite} board ({want!r}): is it another suite's "
            f"board (--suite) or another --format? (nothing compared)"
        )
    from toto_bench.boards.document import suite_title

    have_title, want_title = _title(committed), _title(regenerated)
    if have_title is None or want_title is None or have_title == want_title:
        return None
    for other in LEADERBOARD_SUITES:
        name = f"{suite_title(other)} leaderboard"
        if other != suite and (have_title == name or have_title.startswith(f"{name} — ")):
            return (
                f"is the {other} leaderboard, not {suite}: check it with --suite {other} (nothing compared)"
            )
    return (
        f"is titled {have_title!r}, not {want_title!r}: another suite's board (--suite) or breakdown "
        f"(--breakdown)? (nothing compared)"
    )


#: ``--check`` of a full-precision CSV: numbers may differ by this relative amount (last-bit differences of
#: ``log``/``exp`` between numpy builds and CPUs), text cells and the layout must be identical.
CSV_CHECK_RTOL = 1e-12


def _same_output(committed: str, regenerated: str, *, csv: bool) -> bool:
    """Whether a committed table equals the regenerated one (CSV: the same cells, numbers to
    :data:`CSV_CHECK_RTOL`; other formats: the same text)."""
    if committed == regenerated:
        return True
    if not csv:
        return False
    import numpy as np
    import pandas as pd

    try:
        old = pd.read_csv(io.StringIO(committed), keep_default_na=False)
        new = pd.read_csv(io.StringIO(regenerated), keep_default_na=False)
    except (ValueError, pd.errors.ParserError):
        return False
    if list(old.columns) != list(new.columns) or old.shape != new.shape:
        return False
    for column in old.columns:
        a, b = old[column], new[column]
        if pd.api.types.is_float_dtype(a) and pd.api.types.is_float_dtype(b):
            if not np.allclose(a.to_numpy(), b.to_numpy(), rtol=CSV_CHECK_RTOL, atol=0.0, equal_nan=True):
                return False
        elif not a.astype(str).equals(b.astype(str)):
            return False
    return True


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
        help="only that breakdown's tables, not the board. BOOM: shifted-gmean MASE/CRPS by full "
        "(benchmark), term, type or domain (the upstream breakdown_tabels files); GIFT-Eval: the "
        "space's tabs by domain, term, frequency or type (uni/multivariate): gmean MASE, CRPS and mean "
        "CRPS rank. Without it md/html show every breakdown after the board",
    )
    lb.add_argument(
        "--ties",
        choices=TIES,
        default="first",
        help="rank ties: 'first' = the upstream order of each suite (BOOM: its published model order; "
        "GIFT-Eval: model names sorted, as the space; TIME: names sorted, seasonal naive last), "
        "'average' = mean rank",
    )
    lb.add_argument(
        "--properties",
        metavar="PATH",
        help="BOOM: its properties JSON (default: <data-dir>, $BOOM, or beside the results folder); "
        "GIFT-Eval: dataset_properties.json for the domain/variate breakdowns (default: beside the "
        "results folder, else the published values built in)",
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
        help="GIFT-Eval: show only models whose config.json model_type is one of these (e.g. pretrained, "
        "fine-tuned, agentic, statistical, deep-learning); like the space's checkboxes this hides rows and "
        "every rank stays the one over all models (--rerank to re-rank among the kept); what was hidden "
        "is printed on stderr",
    )
    lb.add_argument(
        "--exclude-leakage",
        action="store_true",
        help='GIFT-Eval: hide models whose config.json says testdata_leakage "Yes" (listed on stderr); '
        "ranks stay over all models unless --rerank",
    )
    lb.add_argument(
        "--rerank",
        action="store_true",
        help="GIFT-Eval with --model-type/--exclude-leakage: compute the board on the kept models only, so "
        "ranks are among them (differs from the space, which only hides rows; said in the table's notes)",
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
