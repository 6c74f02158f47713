"""``toto-bench run``: evaluate a model on a suite with the upstream protocol."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toto_bench.cli.choices import BATCHING, EXECUTORS, RUN_SUITES
from toto_bench.cli.common import (
    EPILOG,
    UserError,
    check_output_folder,
    non_negative_int,
    positive_int,
    split,
    suite_argument,
    suite_properties,
)
from toto_bench.cli.listing import missing_family

if TYPE_CHECKING:
    from toto_bench.engine.executors import Executor, Shard


def _protocol_options(args: argparse.Namespace) -> dict[str, int | None]:
    """Suite protocol options from the run flags: LSF's ``--context-length`` cap and ``--stride``."""
    if args.suite == "lsf":
        return {"context_length": args.context_length, "stride": 1 if args.stride is None else args.stride}
    if args.stride is not None:
        raise UserError(f"--stride is an LSF option (forecast origin spacing); --suite {args.suite} has none")
    return {}


def _model_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """Model settings given on the command line; they override the suite's and enter the run settings."""
    from toto_bench.adapters.registry import check_overrides

    overrides: dict[str, Any] = {}
    if args.checkpoint is not None:
        overrides["checkpoint"] = str(Path(args.checkpoint).expanduser().resolve())
    if args.checkpoint_revision is not None:
        _check_revision_option(args)
        overrides["revision"] = args.checkpoint_revision
    if args.device is not None:
        overrides["device"] = args.device
    if args.batch_size is not None:
        overrides["batch_size"] = args.batch_size
    if args.decode_block_size is not None:
        overrides["decode_block_size"] = args.decode_block_size or None  # 0: one forward pass
    if args.time_limit is not None:  # "none": no limit, on BOOM too
        overrides["time_limit"] = None if args.time_limit == _NO_LIMIT else args.time_limit
    if args.context_length is not None and args.suite != "lsf":  # LSF: a protocol cap instead
        overrides["context_length"] = args.context_length
    check_overrides(args.model, overrides)
    return overrides


def _check_revision_option(args: argparse.Namespace) -> None:
    """``--checkpoint-revision`` needs a model that downloads a published checkpoint (no ``--checkpoint``)."""
    from toto_bench.adapters.registry import accepted_options, get_model_spec

    if args.checkpoint is not None:
        raise UserError(
            f"--checkpoint-revision {args.checkpoint_revision} picks a commit of the published checkpoint, "
            f"but --checkpoint {args.checkpoint} loads a local folder: give one of them"
        )
    spec = get_model_spec(args.model)
    accepted = accepted_options(spec)
    if accepted is not None and "revision" not in accepted:
        what = f"checkpoint {spec.checkpoint}" if spec.checkpoint else "no checkpoint"
        raise UserError(
            f"--checkpoint-revision: model {args.model!r} (family {spec.family}, {what}) takes no hub "
            f"revision; the Toto 2.0 models do (toto2-*); for the others pass --checkpoint DIR with a "
            f"local copy of the commit you want"
        )


def _sha256_hex(text: str) -> str:
    """``--expect-sha256 HEX``: 64 hex digits (any case), returned in lower case."""
    value = text.strip().lower()
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise argparse.ArgumentTypeError(f"must be a sha256 of 64 hex digits, got {text!r}")
    return value


#: ``--time-limit none``: parsed to this marker, then to ``None`` in the overrides.
_NO_LIMIT = "none"


def _time_limit(text: str) -> float | str:
    """``--time-limit SECONDS|none``: a positive number of seconds, or ``none`` (no wall-clock limit)."""
    if text.strip().lower() == _NO_LIMIT:
        return _NO_LIMIT
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds > 0 or 'none', got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of seconds > 0 or 'none', got {text!r}")
    return value


def _shard(text: str) -> Shard:
    from toto_bench.engine.executors import parse_shard

    try:
        return parse_shard(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _workers(text: str) -> int | str:
    """``--workers N|auto``: a positive integer, or ``auto``."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return positive_int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer or 'auto', got {text!r}") from None


def _executor(args: argparse.Namespace, dataset_workers: bool) -> Executor:
    """``--executor`` with its options; Ray-only flags on the local executor are an error."""
    from toto_bench.engine.executors import LocalExecutor, RayExecutor

    workers = args.workers if args.workers is not None else "auto"
    if args.executor == "ray":
        return RayExecutor(address=args.address, workers=None if workers == "auto" else int(workers))
    if args.address:
        raise UserError(f"--address applies to --executor ray only (got --executor {args.executor})")
    return LocalExecutor(workers, parallel_model=dataset_workers)


def _run(args: argparse.Namespace) -> int:
    from toto_bench.adapters.registry import check_overrides, get_model_spec
    from toto_bench.adapters.statistical import EXPLODING_INTERVALS
    from toto_bench.engine.executors import ModelRecipe
    from toto_bench.engine.runner import RunOptions, run_suite
    from toto_bench.suites import get_suite

    spec = get_model_spec(args.model)  # an unknown model fails before anything else
    missing = missing_family(args.model, spec)
    if missing and not args.address:  # a remote Ray cluster may have packages this machine lacks
        raise UserError(missing)
    executor = _executor(args, spec.dataset_workers)
    overrides = _model_overrides(args)
    suite = get_suite(args.suite, suite_properties(args))
    run_folder = Path(args.output_dir) / suite.name / args.model
    check_output_folder(run_folder, flag="--output-dir", given=args.output_dir)
    rules = suite.board or suite.name  # the demo and custom suites take the model's GIFT-Eval settings
    settings = {**spec.settings_for(rules), **overrides}
    allow_nan = args.allow_nan_forecast
    if allow_nan is None:  # the official notebook's choice for this model and suite
        allow_nan = spec.allows_nan_forecast(rules)
    options = RunOptions(
        datasets=split(args.datasets),
        terms=split(args.terms),
        output_dir=Path(args.output_dir),
        data_dir=args.data_dir,
        allow_nan_forecast=allow_nan,
        progress=not args.no_progress,
        settings=settings,
        protocol_options=_protocol_options(args),
        executor=executor,
        shard=args.shard,
        save_forecasts=args.save_forecasts,
        wait=args.wait,
        expect_sha256=args.expect_sha256,
        batching=args.batching,
        model_card={"model_type": spec.card_model_type} if spec.card_model_type else {},
    )
    build = dict(overrides)
    if args.jobs is not None:  # how many processes, not what they compute: kept out of the results key
        check_overrides(args.model, {"n_jobs": args.jobs})
        build["n_jobs"] = args.jobs
    summary = run_suite(suite, args.model, ModelRecipe(args.model, rules, build), options)
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
    for reason, configs in summary.fallbacks.items():
        shown = ", ".join(configs[:10]) + (", ..." if len(configs) > 10 else "")
        if reason == EXPLODING_INTERVALS:
            print(
                f"flagged ({reason}): {len(configs)} of the {summary.computed} computed configs hold "
                "forecasts with exploding prediction intervals (non-finite, or wider than the model's "
                "explosion_factor times the context's range; kept and scored as upstream does, see "
                f"docs/baselines.md): {shown}; details in {summary.record}",
                file=sys.stderr,
            )
            continue
        why = (
            "wall-clock limit exceeded: these rows depend on the machine's speed and load"
            if reason == "time_limit"
            else "the model failed on some series"
        )
        print(
            f"fallback ({reason}): {len(configs)} of the {summary.computed} computed configs hold "
            f"seasonal-naive forecasts ({why}): {shown}; details in {summary.record}",
            file=sys.stderr,
        )
    if summary.missing:
        print(f"skipped (no data file under --data-dir): {', '.join(summary.missing)}", file=sys.stderr)
    return 0


def register(sub: Any) -> None:
    """Add the command to ``sub``, the ``toto-bench`` sub-parsers."""
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
    run.add_argument(
        "--suite",
        required=True,
        type=suite_argument(RUN_SUITES),
        metavar="{" + ",".join(RUN_SUITES) + "} or SUITE.yaml",
        help="benchmark suite, or a suite file written by `toto-bench data convert` (docs/custom-data.md)",
    )
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
        "--checkpoint-revision",
        metavar="REV",
        help="the hub revision (commit, tag or branch) of the model's published checkpoint to load (default: "
        "the registry's pinned commit, where upstream publishes one, else main); recorded with the commit it "
        "resolved to, and part of the results key",
    )
    run.add_argument(
        "--expect-sha256",
        type=_sha256_hex,
        metavar="HEX",
        help="fail before any forecast unless the sha256 of the loaded checkpoint's weight files (as the run "
        "record's weights_sha256 computes it) is HEX; the error names the expected and found hash and the "
        "files hashed",
    )
    run.add_argument(
        "--device",
        metavar="auto|cpu|cuda[:N]",
        help="where neural models run (default: auto = CUDA if visible)",
    )
    run.add_argument(
        "--batch-size",
        type=positive_int,
        metavar="N",
        help="contexts per forward pass (default: the suite's)",
    )
    run.add_argument(
        "--decode-block-size",
        type=non_negative_int,
        metavar="N",
        help="Toto 2.0: 0 = one forward pass for the whole horizon (the notebooks'), else block decoding",
    )
    run.add_argument(
        "--time-limit",
        type=_time_limit,
        metavar="SECONDS|none",
        help="statsforecast auto models: wall-clock seconds per config before it falls back to seasonal "
        "naive (default: the suite's upstream setting, 45 on BOOM/Boomlet where the notebooks use it, none "
        "elsewhere); a limit makes rows depend on machine load, the run summary and boards count them",
    )
    run.add_argument(
        "--jobs",
        type=positive_int,
        metavar="N",
        help="statsforecast auto models: worker processes of the run's one pool (default: all usable CPUs); "
        "the forecasts do not depend on it, so it is not part of the results key",
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
        "--batching",
        choices=BATCHING,
        default="pooled",
        help="'pooled' (default): models that allow it (Toto 2.0, Chronos-Bolt, Moirai with a seed, TimesFM "
        "with a fixed context) get forward passes filled with contexts of several configs and datasets of "
        "the same horizon; 'config': each config's own batches, as before (same numbers to float32 "
        "rounding, see docs/running.md); each config is still committed once all its windows are scored",
    )
    run.add_argument(
        "--address",
        metavar="ADDR",
        help="--executor ray: the Ray cluster to join (e.g. auto, ray://head:10001); default: $RAY_ADDRESS, "
        "else start a local Ray instance",
    )
    run.add_argument(
        "--workers",
        type=_workers,
        metavar="N|auto",
        help="local: worker processes the datasets are spread over (1 = this process; each worker builds "
        "its own model: keep 1 for GPU models); auto (default) = one per usable CPU for cheap CPU models "
        "(seasonal-naive, naive) on runs of 64+ datasets, else 1. --executor ray: number of actors (auto: "
        "the cluster's GPUs, or its CPUs without GPUs; more actors than GPUs share them). Results and the "
        "results key do not depend on it",
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
    run.add_argument(
        "--wait",
        action="store_true",
        help="when another run is writing the same results folder, wait for it to finish instead of "
        "failing (one writer per folder; --shard runs each hold their own shard's lock)",
    )
    run.set_defaults(func=_run)
