"""Benchmark: ``toto-bench run --suite boom --model seasonal-naive`` on a full-size synthetic BOOM.

1. Generates (or reuses) the synthetic suite of :mod:`boom_synthetic`: 2807 one-item datasets with BOOM's
   real names, target_dims, frequencies and per-config window counts, about 345 M float32 points
   (default ``/tmp/toto-bench-boom-synth``).
2. Times our full run (7413 configs) in a subprocess: wall time and peak RSS
   (``getrusage(RUSAGE_CHILDREN)``), into a fresh output folder so nothing is resumed.
3. Times the upstream-style path (``tests/upstream.py``: gift-eval ``Dataset`` logic, the notebook's
   statsforecast wrapper with ``max_length=2048``, gluonts ``evaluate_forecasts``) on a random sample of
   configs, checks its 11 metrics against our CSV (rtol 1e-6), and extrapolates its time to the 7413
   configs with a non-negative fit ``t = a + b·instances`` (per-config overhead + per-instance cost).
4. Optionally reruns ours to show where the time goes: ``--breakdown`` times the engine's steps with
   cheap wrappers, ``--profile`` runs it under cProfile (which inflates pure-Python code).

Targets (issue): ours < 60 s wall and < 4 GB peak RSS on a 2-core machine, and >= 20× faster than the
upstream-style path. The last line printed is ``ratio: X`` (estimated upstream-style time / ours).

Run: ``python benchmarks/boom_seasonal_naive.py [--root DIR] [--seed 0] [--sample 30] [--breakdown]
[--profile]``.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import math
import pstats
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

import boom_synthetic  # noqa: E402
from upstream import METRIC_KEYS, evaluate_upstream  # noqa: E402

RTOL = 1e-6
TARGET_WALL_S = 60.0
TARGET_RSS_GB = 4.0
TARGET_RATIO = 20.0


@dataclass(frozen=True)
class OurRun:
    """Our subprocess run: wall seconds, peak RSS (bytes) and the results table."""

    wall: float
    peak_rss: int
    results: dict[str, dict[str, Any]]
    record: dict[str, object]


@dataclass(frozen=True)
class Sampled:
    """One upstream-style config: seconds, instances, and the worst relative difference to ours."""

    config: str
    seconds: float
    instances: int
    worst_rel: float
    mismatches: tuple[str, ...]


def _run_command(root: Path, properties: Path, output: Path) -> list[str]:
    return [
        "run",
        "--suite",
        "boom",
        "--model",
        "seasonal-naive",
        "--data-dir",
        str(root),
        "--properties",
        str(properties),
        "--no-progress",
        "--output-dir",
        str(output),
    ]


def run_ours(root: Path, properties: Path, output: Path) -> OurRun:
    """Run ``toto-bench run`` in a fresh subprocess and measure it."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "toto_bench.cli", *_run_command(root, properties, output)], check=True
    )
    wall = time.perf_counter() - started
    # Max over the waited-for children; this is the first child of the process (profiling comes later).
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    folder = output / "boom" / "seasonal-naive"
    frame = pd.read_csv(folder / "all_results.csv", float_precision="round_trip").set_index("dataset")
    results = {str(c): {str(k): v for k, v in row.items()} for c, row in frame.to_dict("index").items()}
    record = json.loads((folder / "config.json").read_text())
    return OurRun(wall, peak_kb * 1024, results, record)


def _compare(config: str, ours: dict[str, Any], upstream: dict[str, float]) -> tuple[float, tuple[str, ...]]:
    worst, bad = 0.0, []
    for key in METRIC_KEYS:
        mine, ref = float(ours[f"eval_metrics/{key}"]), upstream[key]
        if math.isnan(mine) and math.isnan(ref):
            continue
        rel = abs(mine - ref) / abs(ref) if ref != 0 else (0.0 if mine == ref else math.inf)
        if math.isnan(rel):
            rel = math.inf
        worst = max(worst, rel)
        if not math.isclose(mine, ref, rel_tol=RTOL, abs_tol=0.0):
            bad.append(f"{config} {key}: ours {mine!r} upstream {ref!r}")
    return worst, tuple(bad)


def run_upstream_sample(root: Path, configs: list[str], ours: dict[str, dict[str, Any]]) -> list[Sampled]:
    """Time the upstream-style pipeline on ``configs`` (after one untimed warm-up) and compare to ours."""
    warmup = configs[0].split("/")
    evaluate_upstream(root / warmup[0], warmup[2], "seasonal_naive", name=warmup[0], max_length=2048)
    out = []
    for config in configs:
        name, _, term = config.split("/")
        started = time.perf_counter()
        result = evaluate_upstream(root / name, term, "seasonal_naive", name=name, max_length=2048)
        seconds = time.perf_counter() - started
        worst, bad = _compare(config, ours[config], result.metrics)
        size = int(ours[config]["dataset_size"])
        if size != result.dataset_size:
            bad += (f"{config} dataset_size: ours {size} upstream {result.dataset_size}",)
        out.append(Sampled(config, seconds, result.dataset_size, worst, bad))
        print(
            f"  {config:28s} {result.dataset_size:5d} instances {seconds:7.2f} s  worst rel {worst:.1e}",
            flush=True,
        )
    return out


def extrapolate(sample: list[Sampled], instances_per_config: np.ndarray) -> tuple[float, float, float]:
    """Estimated upstream-style time of every config: non-negative fit ``t = a + b·instances``.

    Returns ``(total seconds, a, b)``.
    """
    from scipy.optimize import nnls

    x = np.array([[1.0, s.instances] for s in sample])
    t = np.array([s.seconds for s in sample])
    (a, b), _ = nnls(x, t)
    return float(a * len(instances_per_config) + b * instances_per_config.sum()), float(a), float(b)


def profile_ours(root: Path, properties: Path, top: int) -> str:
    """Rerun ours under cProfile in a subprocess; the top functions by cumulative and by own time."""
    with tempfile.TemporaryDirectory(prefix="boom-prof-") as tmp:
        prof = Path(tmp) / "run.prof"
        cmd = [sys.executable, "-m", "cProfile", "-o", str(prof), "-m", "toto_bench.cli"]
        subprocess.run([*cmd, *_run_command(root, properties, Path(tmp) / "out")], check=True)
        stream = io.StringIO()
        stats = pstats.Stats(str(prof), stream=stream)
        stats.sort_stats("cumulative").print_stats(r"toto_bench|bench/|adapters/|metrics/|datasets/load", top)
        stats.sort_stats("tottime").print_stats(top)
        return stream.getvalue()


#: Engine steps timed by ``--breakdown`` (``module``, ``attribute path``) → label. Wrapping them costs
#: ~1 µs per call (about 40k calls), unlike cProfile which slows every Python call.
TIMED_STEPS: dict[tuple[str, str], str] = {
    ("toto_bench.engine.protocol", "load_dataset"): "load_dataset (datasets.load_from_disk + with_format)",
    # the path seasonal naive takes (a PrefixForecaster: forecast_parts hands it whole series and cuts);
    # the two below it are parts of it
    ("toto_bench.adapters.statistical", "SeasonalNaiveForecaster.predict_prefixes"): (
        "seasonal naive predict_prefixes (whole adapter call)"
    ),
    ("toto_bench.adapters.statistical", "last_value_imputation"): "  of which last_value_imputation",
    ("toto_bench.adapters.statistical", "seasonal_naive_forecast"): "  of which seasonal_naive_forecast",
    ("toto_bench.metrics.evaluate", "MetricAccumulator.update"): "metrics MetricAccumulator.update",
    ("toto_bench.suites.gift_eval", "seasonal_errors"): "metrics seasonal_errors",
    ("toto_bench.engine.store", "ResultsStore.add"): "store ResultsStore.add (one fsync per config)",
    ("toto_bench.suites.gift_eval", "window_labels"): "window_labels",
    ("toto_bench.engine.protocol", "folder_fingerprint"): "folder_fingerprint",
}
BREAKDOWN_TAG = "BREAKDOWN-JSON "


def _timed_child(argv: list[str]) -> int:
    """Run ``toto_bench.cli.main(argv)`` with :data:`TIMED_STEPS` wrapped; print their totals as JSON."""
    import functools
    import importlib
    from collections import defaultdict
    from collections.abc import Callable

    totals: dict[str, float] = defaultdict(float)

    def timed(func: Callable[..., Any], label: str) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                totals[label] += time.perf_counter() - started

        return wrapper

    for (module_name, path), label in TIMED_STEPS.items():
        owner: Any = importlib.import_module(module_name)
        *parents, attr = path.split(".")
        for parent in parents:
            owner = getattr(owner, parent)
        if hasattr(owner, attr):
            setattr(owner, attr, timed(getattr(owner, attr), label))
    from toto_bench.cli import main as cli_main

    started = time.perf_counter()
    code = cli_main(argv)
    totals["total (in-process)"] = time.perf_counter() - started
    print(BREAKDOWN_TAG + json.dumps(totals))
    return code


def breakdown_ours(root: Path, properties: Path) -> str:
    """Rerun ours with the engine steps timed (:func:`_timed_child`); a table of seconds and shares."""
    with tempfile.TemporaryDirectory(prefix="boom-breakdown-") as tmp:
        cmd = [sys.executable, __file__, "--timed-child", *_run_command(root, properties, Path(tmp))]
        done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith(BREAKDOWN_TAG))
    totals: dict[str, float] = json.loads(line[len(BREAKDOWN_TAG) :])
    total = totals.pop("total (in-process)")
    rows = sorted(totals.items(), key=lambda item: -item[1])
    nested = sum(sec for label, sec in totals.items() if label.startswith("  of which"))
    rows.append(
        (
            "other (StoredDataset row formatting, freq/target_dim reads, bookkeeping)",
            total - (sum(totals.values()) - nested),
        )
    )
    lines = [f"  {label:75s} {sec:6.1f} s {100 * sec / total:5.1f} %" for label, sec in rows]
    lines.append(f"  {'total (in-process, without interpreter start-up)':75s} {total:6.1f} s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Generate, run ours, time the upstream-style sample, print the summary and ``ratio: X`` last."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=boom_synthetic.DEFAULT_ROOT, help="synthetic data root")
    parser.add_argument("--seed", type=int, default=0, help="data seed (also picks the sample)")
    parser.add_argument("--sample", type=int, default=30, help="configs timed on the upstream-style path")
    parser.add_argument("--properties", type=Path, default=boom_synthetic.DEFAULT_PROPERTIES)
    parser.add_argument("--profile", action="store_true", help="also profile our run with cProfile")
    parser.add_argument("--top", type=int, default=30, help="functions shown per profile table")
    parser.add_argument(
        "--breakdown", action="store_true", help="also time the engine's steps (low overhead)"
    )
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--timed-child"]:
        return _timed_child(argv[1:])
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)

    boom_synthetic.generate(args.root, seed=args.seed, properties=args.properties)
    plans = boom_synthetic.load_plans(args.root)
    points = sum(p.points for p in plans)

    with tempfile.TemporaryDirectory(prefix="boom-bench-") as tmp:
        ours = run_ours(args.root, args.properties, Path(tmp))
    expected = sum(len(p.windows) for p in plans)
    if len(ours.results) != expected:
        raise RuntimeError(f"expected {expected} configs, got {len(ours.results)}")
    instances = np.array([row["dataset_size"] for row in ours.results.values()], dtype=np.float64)
    windows = int(instances.sum())
    print(
        f"ours: {len(ours.results)} configs, {windows} windows, {points / 1e6:.1f} M points: "
        f"wall {ours.wall:.1f} s (engine {ours.record['wall_seconds']} s), "
        f"peak RSS {ours.peak_rss / 2**20:.0f} MB"
    )

    rng = np.random.default_rng([args.seed, 3])
    configs = list(ours.results)
    chosen = [
        configs[i]
        for i in sorted(rng.choice(len(configs), size=min(args.sample, len(configs)), replace=False))
    ]
    print(f"upstream-style path (tests/upstream.py) on {len(chosen)} random configs:")
    sample = run_upstream_sample(args.root, chosen, ours.results)
    estimate, per_config, per_instance = extrapolate(sample, instances)
    sample_seconds = sum(s.seconds for s in sample)
    sample_instances = sum(s.instances for s in sample)
    per_instance_only = sample_seconds / sample_instances * instances.sum()
    per_config_only = sample_seconds / len(sample) * len(instances)
    mismatches = [m for s in sample for m in s.mismatches]
    worst = max(s.worst_rel for s in sample)

    if args.breakdown:
        print("where our time goes (engine steps timed in a separate run):")
        print(breakdown_ours(args.root, args.properties))
    if args.profile:
        print("profile of our run (cProfile, inflates pure-Python parts):")
        print(profile_ours(args.root, args.properties, args.top))

    print(f"data: {len(plans)} datasets, {points / 1e6:.1f} M points under {args.root}")
    print(f"ours: wall {ours.wall:.1f} s, peak RSS {ours.peak_rss / 2**30:.2f} GB, {windows} windows")
    print(
        f"upstream-style: sample {sample_seconds:.1f} s for {sample_instances} instances; fit "
        f"{per_config * 1e3:.1f} ms/config + {per_instance * 1e3:.2f} ms/instance -> est. {estimate:.0f} s "
        f"for {len(instances)} configs (per-instance only: {per_instance_only:.0f} s; "
        f"per-config only: {per_config_only:.0f} s)"
    )
    print(
        f"agreement on the sample: worst relative difference {worst:.1e}, "
        f"{len(mismatches)} mismatches at rtol {RTOL}"
    )
    for line in mismatches:
        print(f"  MISMATCH {line}")
    ratio = estimate / ours.wall
    ok = ours.wall < TARGET_WALL_S and ours.peak_rss < TARGET_RSS_GB * 2**30 and ratio >= TARGET_RATIO
    print(
        f"targets (< {TARGET_WALL_S:.0f} s, < {TARGET_RSS_GB:.0f} GB, >= {TARGET_RATIO:.0f}x): "
        f"{'met' if ok else 'NOT met'}"
    )
    print(f"ratio: {ratio:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
