"""``toto-bench study {latency,long-horizon}``: the Toto 2.0 paper's other experiments (docs/studies.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from toto_bench.cli.choices import DTYPES
from toto_bench.cli.common import EPILOG, positive_int, split


def _ints(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def _modes(args: argparse.Namespace, default: tuple[str, ...]) -> tuple[str, ...]:
    modes = split(args.modes)
    return tuple(modes) if modes else default


def _latency(args: argparse.Namespace) -> int:
    from toto_bench.studies.latency import DEFAULT_HORIZONS, LatencyOptions, run_latency

    options = LatencyOptions(
        models=tuple(split(args.models) or []),
        output_dir=Path(args.output_dir),
        horizons=args.horizons or DEFAULT_HORIZONS,
        modes=_modes(args, ("single",)),
        batch_sizes=args.batch_sizes,
        context_length=args.context_length,
        warmup=args.warmup,
        repeats=args.repeats,
        device=args.device,
        dtype=args.dtype,
        num_samples=args.num_samples,
        random_init=args.random_init,
        seed=args.seed,
        progress=not args.no_progress,
    )
    summary = run_latency(options)
    print(
        f"{summary.csv}: {summary.computed} cells computed, {summary.reused} reused; table {summary.table}, "
        f"plot {summary.plot}, run record {summary.record}"
    )
    print(summary.table.read_text(encoding="utf-8"), file=sys.stderr)
    return 0


def _long_horizon(args: argparse.Namespace) -> int:
    from toto_bench.studies.long_horizon import DEFAULT_HORIZONS, LongHorizonOptions, run_long_horizon

    options = LongHorizonOptions(
        models=tuple(split(args.models) or []),
        output_dir=Path(args.output_dir),
        horizons=args.horizons or DEFAULT_HORIZONS,
        modes=_modes(args, ("block-256",)),
        context_length=args.context_length,
        n_series=args.series,
        n_components=args.components,
        min_period=args.min_period,
        max_period=args.max_period,
        noise=args.noise,
        trend=args.trend,
        seed=args.seed,
        device=args.device,
        dtype=args.dtype,
        num_samples=args.num_samples,
        random_init=args.random_init,
        plot_series=args.plot_series,
        progress=not args.no_progress,
    )
    summary = run_long_horizon(options)
    print(
        f"{summary.csv}: {summary.computed} cells computed, {summary.reused} reused; table {summary.table}, "
        f"plot {summary.plot}, {len(summary.forecast_plots)} forecast plots, run record {summary.record}"
    )
    print(summary.table.read_text(encoding="utf-8"), file=sys.stderr)
    return 0


def _common(parser: argparse.ArgumentParser, *, context: int, modes: str) -> None:
    parser.add_argument(
        "--models",
        action="append",
        required=True,
        metavar="NAMES",
        help="comma-separated registered models, e.g. toto2-313m,toto1,chronos-2",
    )
    parser.add_argument(
        "--output-dir",
        default="results/studies",
        metavar="DIR",
        help="studies root; the study writes DIR/<study>/ (default: results/studies)",
    )
    parser.add_argument(
        "--horizons", type=_ints, metavar="H[,H]", help="forecast lengths (default: the study's)"
    )
    parser.add_argument(
        "--modes",
        action="append",
        metavar="MODES",
        help=f"Toto 2.0 decode modes: single and/or block-N (N: a multiple of 32); default: {modes}; "
        "other models run their native decoding",
    )
    parser.add_argument(
        "--context-length",
        type=positive_int,
        default=context,
        metavar="N",
        help=f"history steps (default {context})",
    )
    parser.add_argument("--device", default="auto", metavar="auto|cpu|cuda[:N]", help="default: auto")
    parser.add_argument(
        "--dtype",
        choices=DTYPES,
        default="float32",
        help="float32 (default) runs the weights as loaded; bfloat16/float16 under torch.autocast",
    )
    parser.add_argument(
        "--num-samples",
        type=positive_int,
        metavar="N",
        help="Toto 1.0 sample paths (default: 256, its notebooks')",
    )
    parser.add_argument(
        "--random-init",
        action="store_true",
        help="random weights from the architectures' configs (Toto 2.0: the 4m config), no download: "
        "checks the machinery and the cost curve's shape on CPU",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="generator seed of the synthetic series (default 0)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def register(sub: Any) -> None:
    """Add the command to ``sub``, the ``toto-bench`` sub-parsers."""
    study = sub.add_parser(
        "study",
        help="the Toto 2.0 paper's latency-vs-horizon and long-horizon-stability experiments",
        description="Run one of the paper's other experiments on the engine's adapters and resumable store "
        "(docs/studies.md). Rerunning the same command resumes.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    kinds = study.add_subparsers(dest="study", required=True, metavar="STUDY")
    lat = kinds.add_parser(
        "latency",
        help="latency per call vs horizon, per model, decode mode and batch size",
        description="Warm-up, then repeated timed predict calls with device synchronisation; median/p10/p90 "
        "ms per call and per step, forward passes, peak device memory. Writes latency.csv, latency.md, "
        "latency.svg and config.json under <output-dir>/latency/.",
    )
    _common(lat, context=2048, modes="single")
    lat.add_argument(
        "--batch-sizes", type=_ints, default=(1,), metavar="B[,B]", help="contexts per call (default 1)"
    )
    lat.add_argument(
        "--warmup", type=positive_int, default=2, metavar="N", help="untimed calls per cell (default 2)"
    )
    lat.add_argument(
        "--repeats", type=positive_int, default=10, metavar="N", help="timed calls per cell (default 10)"
    )
    lat.set_defaults(func=_latency)
    lh = kinds.add_parser(
        "long-horizon",
        help="Pearson r / MASE / CRPS of very long forecasts on seeded sinusoid mixtures",
        description="Forecast seeded multi-scale sinusoid mixtures at long horizons (default 2048, 4096, "
        "8192) and score the median's Pearson r against the truth (the paper's figure), MASE, CRPS. Writes "
        "long_horizon.csv, long_horizon.md, long_horizon.svg, forecasts/*.svg and config.json under "
        "<output-dir>/long-horizon/.",
    )
    _common(lh, context=2048, modes="block-256")
    lh.add_argument("--series", type=positive_int, default=8, metavar="N", help="series (default 8)")
    lh.add_argument(
        "--components", type=positive_int, default=4, metavar="K", help="sinusoids per series (4)"
    )
    lh.add_argument(
        "--min-period", type=float, default=24.0, metavar="P", help="shortest period (default 24)"
    )
    lh.add_argument(
        "--max-period", type=float, default=4096.0, metavar="P", help="longest period (default 4096)"
    )
    lh.add_argument("--noise", type=float, default=0.0, metavar="SD", help="Gaussian noise sd (default 0)")
    lh.add_argument("--trend", type=float, default=0.0, metavar="SLOPE", help="trend per step (default 0)")
    lh.add_argument(
        "--plot-series", type=positive_int, default=3, metavar="N", help="series per forecast plot (3)"
    )
    lh.set_defaults(func=_long_horizon)
