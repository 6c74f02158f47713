"""``toto-bench data convert``: the user's series → GIFT-Eval layout + a suite file (docs/custom-data.md)."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Any

from toto_bench.cli.choices import LAYOUTS, TERMS
from toto_bench.cli.common import UserError, positive_int, split


def _convert(args: argparse.Namespace) -> int:
    from toto_bench.engine.tasks import freq_label
    from toto_bench.suites.convert import (
        add_to_suite_file,
        check_terms,
        convert_frame,
        read_table,
        suite_data_root,
        write_dataset,
    )
    from toto_bench.suites.custom import CustomDataset

    suite_file = Path(args.suite_file)
    if suite_file.suffix not in (".yaml", ".yml"):
        raise UserError(f"--suite-file {suite_file}: a suite file ends in .yaml or .yml")
    terms = split(args.terms) or ["short"]
    bad = [t for t in terms if t not in TERMS]
    if bad:
        raise UserError(f"unknown term(s) {bad}; valid terms: {', '.join(TERMS)}")
    frame = read_table(args.input)
    converted = convert_frame(
        frame,
        name=args.name,
        layout=args.layout,
        id_column=args.id_column,
        timestamp_column=args.timestamp_column,
        target_columns=split(args.target_columns),
        freq=args.freq,
        allow_nan=args.allow_nan,
    )
    entry = CustomDataset(
        name=args.name,
        freq=converted.freq,
        terms=tuple(terms),
        domain=args.domain or "",
        horizon=args.horizon,
        windows=args.windows,
    )
    plan = check_terms(converted, entry)
    root = suite_data_root(suite_file)
    target = root / converted.name
    if target.exists():
        if not args.replace:
            raise UserError(f"{target} exists; pass --replace to convert {args.name!r} again")
        shutil.rmtree(target)
    write_dataset(converted, root)
    add_to_suite_file(suite_file, entry, suite_name=args.suite_name, replace=args.replace)
    lengths = converted.lengths
    variates = converted.targets[0].shape[0]
    columns = ", ".join(converted.target_columns)
    print(
        f"wrote {target}: {len(lengths)} series ({variates} variate(s): {columns}), "
        f"freq {converted.freq}, {min(lengths)}..{max(lengths)} steps"
    )
    if converted.missing:
        print(f"kept {converted.missing} missing value(s) as NaN (--allow-nan)", file=sys.stderr)
    if converted.trimmed:
        total = sum(converted.trimmed.values())
        print(f"trimmed {total} empty leading/trailing cell(s) of the wide table", file=sys.stderr)
    label = freq_label(converted.freq)
    configs = ", ".join(f"{args.name}/{label}/{t} (H={h}, W={w})" for t, (h, w) in plan.items())
    print(f"{suite_file}: {configs}")
    print(f"next: toto-bench run --suite {suite_file} --model seasonal-naive")
    return 0


def register(sub: Any) -> None:
    """Add the ``data`` command (``data convert``) to ``sub``, the ``toto-bench`` sub-parsers."""
    data = sub.add_parser("data", help="prepare your own data: `data convert` (docs/custom-data.md)")
    actions = data.add_subparsers(dest="action", required=True, metavar="ACTION")
    conv = actions.add_parser(
        "convert",
        help="CSV/parquet (long or wide) → GIFT-Eval layout + a suite file for `run --suite FILE.yaml`",
        description=(
            "Check a table of time series (regular timestamps, no duplicates, no missing values unless "
            "--allow-nan, long enough for the terms) and write it in the GIFT-Eval on-disk layout, adding "
            "the dataset to a suite file; `toto-bench run --suite FILE.yaml` then applies GIFT-Eval's rules "
            "(horizon by frequency and term, rolling windows) and `leaderboard`/`report --suite FILE.yaml` "
            "its board. See docs/custom-data.md."
        ),
    )
    conv.add_argument("input", help="a .csv/.tsv/.parquet file")
    conv.add_argument("--name", required=True, help="the dataset name (its config names: NAME/FREQ/TERM)")
    conv.add_argument(
        "--suite-file",
        required=True,
        metavar="FILE.yaml",
        help="the suite file to create or add the dataset to; its data go to <stem>_data/ beside it",
    )
    conv.add_argument("--suite-name", help="the suite's name in a new suite file (default: the file's stem)")
    conv.add_argument(
        "--layout",
        choices=LAYOUTS,
        default="long",
        help="long: rows of (id, timestamp, targets...); wide: a timestamp column + one column per series",
    )
    conv.add_argument("--id-column", metavar="COL", help="long: the series id column (default: one series)")
    conv.add_argument(
        "--timestamp-column", default="timestamp", metavar="COL", help="the time column (default: timestamp)"
    )
    conv.add_argument(
        "--target-columns",
        action="append",
        metavar="A,B",
        help="long: the target columns (several: multivariate); wide: the series columns; "
        "default: every other (numeric) column",
    )
    conv.add_argument(
        "--freq", help="pandas frequency alias (D, h, 15min, W-SUN, MS, ...); default: inferred"
    )
    conv.add_argument(
        "--terms", action="append", metavar="TERMS", help="comma-separated short,medium,long (default: short)"
    )
    conv.add_argument("--domain", help="the all_results.csv domain column (e.g. Energy)")
    conv.add_argument(
        "--horizon",
        type=positive_int,
        metavar="H",
        help="short-term horizon instead of GIFT-Eval's for the frequency (medium/long: 10x/15x)",
    )
    conv.add_argument(
        "--windows", type=positive_int, metavar="W", help="number of test windows instead of GIFT-Eval's rule"
    )
    conv.add_argument(
        "--allow-nan",
        action="store_true",
        help="keep missing target values as NaN (GIFT-Eval's handling: models impute, metrics mask them)",
    )
    conv.add_argument("--replace", action="store_true", help="convert a dataset the suite file already lists")
    conv.set_defaults(func=_convert)
