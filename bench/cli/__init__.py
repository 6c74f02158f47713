"""The ``toto-bench`` command line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from toto_bench import __version__
from toto_bench.adapters.registry import available_models, check_overrides, get_model_spec
from toto_bench.boards.document import BREAKDOWNS, LEADERBOARD_SUITES, TIES, StatsOptions, build_document
from toto_bench.boards.importer import IMPORT_SUITES, run_import
from toto_bench.boards.render import FORMATS
from toto_bench.engine.data import DataError, download
from toto_bench.engine.executors import (
    EXECUTORS,
    Executor,
    LocalExecutor,
    ModelRecipe,
    RayExecutor,
    Shard,
    parse_shard,
)
from toto_bench.engine.results import ResultsError
from toto_bench.engine.runner import RunError, RunOptions, run_suite
from toto_bench.suites import RUN_SUITES, get_suite, locate_properties
from toto_bench.suites.boom import BoomProperties

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


def _board_properties(args: argparse.Namespace) -> Path | None:
    """The BOOM/Boomlet properties file of a board command (``--properties``, ``--data-dir``, beside the
    results); ``None`` for the other suites."""
    if args.suite not in ("boom", "boomlet"):
        return None
    return locate_properties(
        args.suite, properties=args.properties, data_dir=args.data_dir, results_dirs=args.results_dir
    )


def _leaderboard(args: argparse.Namespace) -> int:
    properties = _board_properties(args)
    outputs = build_document(
        suite=args.suite,
        results_dirs=list(args.results_dir),
        properties=properties,
        fmt=args.format,
        breakdown=args.breakdown,
        ties=args.ties,
        partial=args.partial,
        warn=lambda message: print(f"toto-bench: warning: {message}", file=sys.stderr),
        model_types=_split(args.model_type),
        exclude_leakage=args.exclude_leakage,
        stats=StatsOptions(args.bootstrap, args.seed, args.confidence) if args.stats else None,
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


def _shard(text: str) -> Shard:
    try:
        return parse_shard(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _executor(args: argparse.Namespace) -> Executor:
    """``--executor`` with its options; Ray-only flags on the local executor are an error."""
    if args.executor == "ray":
        return RayExecutor(address=args.address, workers=args.workers)
    given = [flag for flag, value in (("--address", args.address), ("--workers", args.workers)) if value]
    if given:
        flags = " and ".join(given)
        raise UserError(f"{flags} apply to --executor ray only (got --executor {args.executor})")
    return LocalExecutor()


def _run(args: argparse.Namespace) -> int:
    spec = get_model_spec(args.model)  # an unknown model fails before anything else
    executor = _executor(args)
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
        executor=executor,
        shard=args.shard,
        save_forecasts=args.save_forecasts,
        model_card={"model_type": spec.card_model_type} if spec.card_model_type else {},
    )
    summary = run_suite(suite, args.model, ModelRecipe(args.model, args.suite, overrides), options)
    if summary.complete:
        print(
            f"{summary.results_csv}: {summary.computed} configs computed, {summary.skipped} reused "
            f"in {summary.wall_seconds:.1f} s ({summary.windows} windows); run record {summary.record}"
        )
    else:
        print(
            f"shard {args.shard}: {summary.computed} configs computed, {summary.skipped} reused in "
            f"{summary.wall_seconds:.1f} s ({summary.windows} windows); {summary.pending} of "
            f"{summary.configs} configs of the selection are not done yet (other shards), so "
            f"{summary.results_csv} is not written: the last shard to finish writes it, or rerun the same "
            f"command without --shard to complete it from the journals without recomputing; "
            f"run record {summary.record}"
        )
    if summary.missing:
        print(f"skipped (no data file under --data-dir): {', '.join(summary.missing)}", file=sys.stderr)
    return 0


def _download(args: argparse.Namespace) -> int:
    root = download(args.suite, _split(args.datasets), args.data_dir)
    print(f"{args.suite} data ready under {root}")
    return 0


def _score(args: argparse.Namespace) -> int:
    from toto_bench.boards.scoring import score_run

    suite = get_suite(args.suite, _suite_properties(args))
    output = Path(args.output) if args.output else None
    summary = score_run(suite, Path(args.run_dir), data_dir=args.data_dir, output=output)
    print(f"{summary.output}: {len(summary.configs)} configs scored from stored forecasts")
    return 0


def _report(args: argparse.Namespace) -> int:
    from toto_bench.boards.report import write_report

    properties = _board_properties(args)
    if args.plot and not args.forecasts:
        raise UserError("--plot chooses configs of --forecasts RUN_DIR; give the run folder too")
    path = write_report(
        suite=args.suite,
        results_dirs=list(args.results_dir),
        output=Path(args.output),
        properties=properties,
        ties=args.ties,
        partial=args.partial,
        forecasts=[Path(f) for f in args.forecasts or []],
        plot_configs=_split(args.plot),
        plot_items=args.plot_items,
        plot_windows=args.plot_windows,
        data_dir=args.data_dir,
        warn=lambda message: print(f"toto-bench: warning: {message}", file=sys.stderr),
    )
    print(f"wrote {path}", file=sys.stderr)
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


def _add_board_inputs(parser: argparse.ArgumentParser) -> None:
    """``--suite`` and the repeatable ``--results-dir`` of the commands that build a board."""
    parser.add_argument("--suite", required=True, choices=LEADERBOARD_SUITES, help="benchmark suite")
    parser.add_argument(
        "--results-dir",
        action="append",
        required=True,
        metavar="DIR",
        help="folder of <model>/all_results.csv; repeat to combine (e.g. published + your own runs)",
    )


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
    _add_board_inputs(lb)
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
    lb.add_argument(
        "--model-type",
        action="append",
        metavar="TYPE[,TYPE]",
        help="GIFT-Eval: keep only models whose config.json model_type is one of these (e.g. pretrained, "
        "fine-tuned, agentic, statistical, deep-learning); seasonal naive is always kept; ranks are among "
        "the models kept; what was dropped is printed on stderr",
    )
    lb.add_argument(
        "--exclude-leakage",
        action="store_true",
        help='GIFT-Eval: drop models whose config.json says testdata_leakage "Yes" (listed on stderr)',
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
        type=_positive_int,
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
    imp.set_defaults(func=run_import)

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
    run.add_argument(
        "--executor",
        choices=EXECUTORS,
        default="local",
        help="who runs the configs: 'local' = one model in this process (default); 'ray' = Ray actors, one "
        "per GPU (or per CPU when there is none), each loading the model once; finished configs stream back "
        "to this process's results store, a dead actor's datasets are retried "
        '(needs pip install "toto-bench[ray]")',
    )
    run.add_argument(
        "--address",
        metavar="ADDR",
        help="--executor ray: the Ray cluster to join (e.g. auto, ray://head:10001); default: $RAY_ADDRESS, "
        "else start a local Ray instance",
    )
    run.add_argument(
        "--workers",
        type=_positive_int,
        metavar="N",
        help="--executor ray: number of actors (default: the cluster's GPUs, or its CPUs without GPUs); "
        "more actors than GPUs share them",
    )
    run.add_argument(
        "--shard",
        type=_shard,
        metavar="I/N",
        help="run only shard I of N (numbered 1..N, e.g. a job array's task id) of the selected datasets, "
        "dealt round-robin in selection order (the suite's, or the --datasets order: give every shard the "
        "same command); shards may share --output-dir concurrently (one journal each) and the last one to "
        "finish writes all_results.csv",
    )
    run.add_argument(
        "--save-forecasts",
        action="store_true",
        help="also keep every computed config's forecasts (all quantile levels, the mean, window origins) in "
        "<output-dir>/<suite>/<model>/forecasts/<config>.npz, for `toto-bench score` and `toto-bench report "
        "--forecasts`; finished configs without their forecasts file are forecast again (docs/running.md)",
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

    rep = sub.add_parser(
        "report",
        help="write a static HTML report: sortable leaderboard, breakdowns, rank and forecast plots",
        description=(
            "Write <output>/index.html, one self-contained page (no network, opens from file://): the board "
            "of `toto-bench leaderboard` as a table sortable by any column, the breakdown tables, rank plots "
            "and, with --forecasts, forecast plots (context, truth, median, 10-90% band) of a run saved with "
            "`toto-bench run --save-forecasts`. See docs/report.md."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    _add_board_inputs(rep)
    rep.add_argument("--output", required=True, metavar="DIR", help="folder to write index.html into")
    rep.add_argument(
        "--properties",
        metavar="PATH",
        help="BOOM properties JSON (default: <data-dir>, $BOOM, or beside the results folder)",
    )
    rep.add_argument(
        "--data-dir",
        metavar="DIR",
        help="suite data folder: context and truth of the forecast plots (default: the data_dir in the "
        "run's config.json); also searched for the BOOM properties file",
    )
    rep.add_argument(
        "--forecasts",
        action="append",
        metavar="RUN_DIR",
        help="a run folder <results>/<suite>/<model> written with --save-forecasts; repeat for more models",
    )
    rep.add_argument(
        "--plot",
        action="append",
        metavar="CONFIG[,CONFIG]",
        help="configs to plot from --forecasts, e.g. ett1/H/short (default: the first 3 saved)",
    )
    rep.add_argument(
        "--plot-items",
        type=_positive_int,
        default=3,
        metavar="N",
        help="series per plotted config, the first N of the dataset (default: 3)",
    )
    rep.add_argument(
        "--plot-windows",
        type=_positive_int,
        default=2,
        metavar="N",
        help="windows per plotted series, the last N forecast origins (default: 2)",
    )
    rep.add_argument(
        "--ties", choices=TIES, default="first", help="rank ties, as for `toto-bench leaderboard`"
    )
    rep.add_argument(
        "--partial",
        action="store_true",
        help="allow models with missing configs (the board keeps the configs every model has)",
    )
    rep.set_defaults(func=_report)

    sc = sub.add_parser(
        "score",
        help="recompute a run's all_results.csv rows from its stored forecasts (no model loaded)",
        description=(
            "Recompute the results rows of every config stored by `toto-bench run --save-forecasts` in "
            "RUN_DIR/forecasts/: the data are reopened through the suite's protocol (labels, seasonal errors "
            "and scales come from the data) and the run's scorer is fed the stored forecasts. Forecasts made "
            "on other data (fingerprint or content hash) or by another protocol version are refused. Writes "
            "the rows in the all_results.csv schema and order (the run's datasets, then suite order)."
        ),
    )
    sc.add_argument("--suite", required=True, choices=RUN_SUITES, help="the suite the run ran")
    sc.add_argument(
        "--run-dir", required=True, metavar="DIR", help="the run folder <output-dir>/<suite>/<model>"
    )
    sc.add_argument(
        "--data-dir",
        metavar="DIR",
        help="suite data root (default: the one in RUN_DIR/config.json, else $GIFT_EVAL / $BOOM / ...)",
    )
    sc.add_argument("--output", metavar="FILE", help="the CSV to write (default: RUN_DIR/scored_results.csv)")
    sc.add_argument("--properties", metavar="PATH", help="BOOM/Boomlet properties JSON")
    sc.set_defaults(func=_score)

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
