"""The ``toto-bench`` command line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from toto_bench import __version__
from toto_bench.adapters.registry import available_models, build_model, check_overrides, get_model_spec
from toto_bench.boards import BREAKDOWNS, LEADERBOARD_SUITES, TIES, build_document
from toto_bench.boom import BoomProperties
from toto_bench.data import DataError, download
from toto_bench.render import FORMATS
from toto_bench.results import ResultsError
from toto_bench.runner import RunError, RunOptions, run_suite
from toto_bench.suites import RUN_SUITES, get_suite, locate_properties

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
"""


class UserError(Exception):
    """A problem with the user's input: printed as one line, exit status 2."""


def _leaderboard(args: argparse.Namespace) -> int:
    properties = None
    if args.suite in ("boom", "boomlet"):
        properties = locate_properties(
            args.suite, properties=args.properties, data_dir=args.data_dir, results_dirs=args.results_dir
        )
    outputs = build_document(
        suite=args.suite,
        results_dirs=list(args.results_dir),
        properties=properties,
        fmt=args.format,
        breakdown=args.breakdown,
        ties=args.ties,
        partial=args.partial,
        warn=lambda message: print(f"toto-bench: warning: {message}", file=sys.stderr),
    )
    if args.check:
        target = Path(args.check)
        text = outputs.single()
        if not target.is_file():
            print(
                f"toto-bench: {target} does not exist; regenerate it with --output {target}", file=sys.stderr
            )
            return 1
        if target.read_text() != text:
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


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or a positive integer, got {text}")
    return value


def _split(values: Sequence[str] | None) -> list[str] | None:
    """``["a,b", "c"]`` → ``["a", "b", "c"]`` (flags may be repeated or comma-separated)."""
    if not values:
        return None
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def _suite_properties(args: argparse.Namespace) -> BoomProperties | None:
    if args.suite not in ("boom", "boomlet"):
        return None
    data_dir = args.data_dir or os.environ.get("BOOM")
    path = locate_properties(args.suite, properties=args.properties, data_dir=data_dir)
    return BoomProperties.from_json(path)


def _protocol_options(args: argparse.Namespace) -> dict[str, int | None]:
    """Suite protocol options from the run flags: LSF's ``--context-length`` cap and ``--stride``."""
    if args.suite == "lsf":
        return {"context_length": args.context_length, "stride": 1 if args.stride is None else args.stride}
    if args.stride is not None:
        raise UserError(f"--stride is an LSF option (forecast origin spacing); --suite {args.suite} has none")
    return {}


def _model_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """Model settings given on the command line; they override the suite's and enter the run settings."""
    overrides: dict[str, Any] = {}
    if args.checkpoint is not None:
        overrides["checkpoint"] = str(Path(args.checkpoint).expanduser().resolve())
    if args.device is not None:
        overrides["device"] = args.device
    if args.batch_size is not None:
        overrides["batch_size"] = args.batch_size
    if args.decode_block_size is not None:
        overrides["decode_block_size"] = args.decode_block_size or None  # 0: one forward pass
    if args.context_length is not None and args.suite != "lsf":  # LSF: a protocol cap instead
        overrides["context_length"] = args.context_length
    check_overrides(args.model, overrides)
    return overrides


def _run(args: argparse.Namespace) -> int:
    spec = get_model_spec(args.model)  # an unknown model fails before anything else
    overrides = _model_overrides(args)
    suite = get_suite(args.suite, _suite_properties(args))
    settings = {**spec.settings_for(args.suite), **overrides}
    allow_nan = args.allow_nan_forecast
    if allow_nan is None:  # the official notebook's choice for this model and suite
        allow_nan = spec.allows_nan_forecast(args.suite)
    options = RunOptions(
        datasets=_split(args.datasets),
        terms=_split(args.terms),
        output_dir=Path(args.output_dir),
        data_dir=args.data_dir,
        allow_nan_forecast=allow_nan,
        progress=not args.no_progress,
        settings=settings,
        protocol_options=_protocol_options(args),
    )
    summary = run_suite(
        suite, args.model, lambda: build_model(args.model, suite=args.suite, **overrides), options
    )
    print(
        f"{summary.results_csv}: {summary.computed} configs computed, {summary.skipped} reused "
        f"in {summary.wall_seconds:.1f} s ({summary.windows} windows); run record {summary.record}"
    )
    if summary.missing:
        print(f"skipped (no data file under --data-dir): {', '.join(summary.missing)}", file=sys.stderr)
    return 0


def _download(args: argparse.Namespace) -> int:
    root = download(args.suite, _split(args.datasets), args.data_dir)
    print(f"{args.suite} data ready under {root}")
    return 0


def _list(args: argparse.Namespace) -> int:
    if args.what == "models":
        models = available_models()
        width = max(len(n) for n in models)
        family_width = max(12, *(len(s.family) for s in models.values()))
        checkpoint_width = max(28, *(len(s.checkpoint or "-") for s in models.values()))
        for name, spec in models.items():
            checkpoint = spec.checkpoint or "-"
            print(
                f"{name:<{width}}  {spec.family:<{family_width}}  {checkpoint:<{checkpoint_width}}  "
                f"{spec.description}"
            )
        return 0
    if args.what == "suites":
        rows = [
            ("boom", "7413 configs", "Datadog/BOOM; env BOOM; properties boom_properties.json"),
            ("boomlet", "96 configs", "the 32-dataset BOOM subset; properties boomlet_properties.json"),
            ("gift-eval", "97 configs", "Salesforce/GiftEval; env GIFT_EVAL"),
            ("time", "98 tasks", "Real-TSF/TIME; env TIME_DATASET"),
            ("lsf", "32 configs", "TSLib CSVs (ETT, weather, electricity, traffic, exchange); env LSF_DATA"),
        ]
        width = max(len(r[0]) for r in rows)
        for name, size, source in rows:
            print(f"{name:<{width}}  {size:<12}  {source}")
        return 0
    raise UserError(f"unknown list target {args.what!r}; valid: suites, models")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="toto-bench",
        description="Exact, fast, resumable benchmarks for time-series foundation models.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"toto-bench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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
    lb.add_argument("--suite", required=True, choices=LEADERBOARD_SUITES, help="benchmark suite")
    lb.add_argument(
        "--results-dir",
        action="append",
        required=True,
        metavar="DIR",
        help="folder of <model>/all_results.csv; repeat to combine (e.g. published + your own runs)",
    )
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
        choices=list(BREAKDOWNS),
        help="BOOM only: shifted-gmean breakdown by full_benchmark, term, type or domain (not the board)",
    )
    lb.add_argument(
        "--ties",
        choices=TIES,
        default="first",
        help="rank ties: 'first' = published model order (reproduces upstream), 'average' = mean rank",
    )
    lb.add_argument(
        "--properties",
        metavar="PATH",
        help="BOOM properties JSON (default: <data-dir>, $BOOM, or beside the results folder)",
    )
    lb.add_argument("--data-dir", metavar="DIR", help="suite data folder (searched for the properties file)")
    lb.add_argument(
        "--partial",
        action="store_true",
        help="allow models with missing configs: the board keeps the configs every model has (BOOM: whole "
        "datasets) and prints the counts on stderr; without it a missing config is an error",
    )
    lb.set_defaults(func=_leaderboard)

    run = sub.add_parser(
        "run",
        help="evaluate a model on a suite and write <output-dir>/<suite>/<model>/all_results.csv",
        description=(
            "Evaluate a registered model on a suite with the upstream protocol (GIFT-Eval windows and "
            "metrics; BOOM = GIFT-Eval rules on the BOOM datasets; TIME per-window metrics; LSF TSLib "
            "borders, z-score, stride 1, MSE/MAE). Writes all_results.csv (upstream schema) "
            "and config.json (the run record). Finished configs are committed one by one: rerunning the same "
            "command after a crash or Ctrl-C resumes where it stopped."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    run.add_argument("--suite", required=True, choices=RUN_SUITES, help="benchmark suite")
    run.add_argument("--model", required=True, help="registered model name (see `toto-bench list models`)")
    run.add_argument(
        "--data-dir",
        metavar="DIR",
        help="suite data root (default: $GIFT_EVAL / $BOOM / $TIME_DATASET / $LSF_DATA, else the cache)",
    )
    run.add_argument(
        "--datasets",
        action="append",
        metavar="NAMES",
        help="comma-separated storage names (e.g. us_births/W,m4_hourly or ds-1010-T); default: all",
    )
    run.add_argument(
        "--terms",
        action="append",
        metavar="TERMS",
        help="comma-separated: short,medium,long (LSF: horizons 96,192,336,720)",
    )
    run.add_argument("--output-dir", default="results", metavar="DIR", help="results root (default: results)")
    run.add_argument("--properties", metavar="PATH", help="BOOM/Boomlet properties JSON")
    run.add_argument(
        "--allow-nan-forecast",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="score NaN forecasts like gluonts allow_nan_forecast=True instead of failing (default: what the "
        "model's official notebook does for the suite, e.g. True for Toto 2.0 on BOOM)",
    )
    run.add_argument(
        "--checkpoint",
        metavar="DIR",
        help="load the model from this local folder instead of its published checkpoint id (HF cache/Hub)",
    )
    run.add_argument(
        "--device",
        metavar="auto|cpu|cuda[:N]",
        help="where neural models run (default: auto = CUDA if visible)",
    )
    run.add_argument(
        "--batch-size",
        type=_positive_int,
        metavar="N",
        help="contexts per forward pass (default: the suite's)",
    )
    run.add_argument(
        "--decode-block-size",
        type=_non_negative_int,
        metavar="N",
        help="Toto 2.0: 0 = one forward pass for the whole horizon (the notebooks'), else block decoding",
    )
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument(
        "--context-length",
        type=int,
        metavar="N",
        help="LSF: every model sees at most the last N points of the history (protocol cap, part of the "
        "results key; Toto's paper used 2048); default: the whole history, capped by the model itself. "
        "Other suites: the model's context length (Toto 2.0: context+horizon budget; default: the suite's)",
    )
    run.add_argument(
        "--stride",
        type=int,
        metavar="N",
        help="LSF: distance between forecast origins (default 1, the standard protocol)",
    )
    run.set_defaults(func=_run)

    dl = sub.add_parser(
        "download",
        help="fetch suite data from the Hugging Face Hub (only the requested dataset folders)",
    )
    dl.add_argument(
        "--suite", required=True, choices=["gift-eval", "boom", "time"], help="suite whose data to fetch"
    )
    dl.add_argument("--datasets", action="append", metavar="NAMES", help="comma-separated storage names")
    dl.add_argument("--data-dir", metavar="DIR", help="where to put it (default: $GIFT_EVAL / $BOOM / cache)")
    dl.set_defaults(func=_download)

    ls = sub.add_parser("list", help="list suites or models")
    ls.add_argument("what", choices=["suites", "models"], help="what to list")
    ls.set_defaults(func=_list)
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
