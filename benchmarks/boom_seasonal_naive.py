"""Benchmark: ``toto-bench run --suite boom --model seasonal-naive`` on a full-size synthetic BOOM.

1. Generates (or reuses) the synthetic suite of :mod:`boom_synthetic`: 2807 one-item datasets with BOOM's
   real names, target_dims, frequencies and per-config window counts, about 345 M float32 points
   (default ``/tmp/toto-bench-boom-synth``).
2. Times our full run (7413 configs, the default command: ``--workers auto``) in a fresh subprocess into a
   fresh output folder: wall time and peak memory (the sum of the RSS of the run's process tree, sampled
   every 50 ms, an upper bound: forked workers share pages; and ``getrusage(RUSAGE_CHILDREN)``, the
   largest single process).
3. With ``--baseline COMMIT`` (e.g. ``a9b9a00``): builds that commit of toto-bench once into
   ``/tmp/toto-bench-baseline-<commit>`` (``git archive`` + ``pip install --no-deps --target``) and times
   its same command back to back with ours, ``--repeats`` times, alternating (min and median of each); asserts
   that both write byte-identical ``all_results.csv``.
4. Times the upstream-style path (``tests/upstream.py``: gift-eval ``Dataset`` logic, the notebook's
   statsforecast wrapper with ``max_length=2048``, gluonts ``evaluate_forecasts``) on a random sample of
   configs, checks its 11 metrics against our CSV (rtol 1e-6), and extrapolates its time to the 7413
   configs with a non-negative fit ``t = a + b·instances`` (per-config overhead + per-instance cost).
5. Optionally reruns ours to show where the time goes: ``--breakdown`` times the steps of the path a
   seasonal-naive BOOM run takes (in one process, ``--workers 1``, so every step runs where it is timed),
   ``--profile`` runs it under cProfile (which inflates pure-Python code).

Targets (issue 15): ours >= 3x faster than the baseline commit (median), peak RSS < 1 GB, identical CSV;
and (issue 5) < 60 s wall on a 2-core machine, >= 20x faster than the upstream-style path. The last line
printed is ``ratio: X`` (estimated upstream-style time / ours).

Run: ``python benchmarks/boom_seasonal_naive.py [--root DIR] [--seed 0] [--sample 30] [--baseline a9b9a00
--repeats 3] [--breakdown] [--profile]``.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import math
import os
import pstats
import resource
import shutil
import statistics
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
TARGET_RSS_GB = 1.0
TARGET_RATIO = 20.0
TARGET_BASELINE_RATIO = 3.0
REPO = HERE.parent
SAMPLE_S = 0.05


@dataclass(frozen=True)
class OurRun:
    """Our subprocess run: wall seconds, peak RSS (bytes, summed over its process tree), the results table,
    the run record and the largest single process's peak RSS."""

    wall: float
    peak_rss: int
    results: dict[str, dict[str, Any]]
    record: dict[str, object]
    max_rss: int = 0


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


def _tree_memory(pid: int) -> tuple[int, int]:
    """``(sum of VmRSS, largest VmHWM)`` in bytes over ``pid`` and its descendants (Linux ``/proc``; 0 when
    unreadable): the tree's resident memory now, and the largest peak of one of its processes so far."""
    total, peak, todo = 0, 0, [pid]
    while todo:
        current = todo.pop()
        try:
            fields = dict(
                line.split(":", 1) for line in Path(f"/proc/{current}/status").read_text().splitlines()
            )
            total += int(fields["VmRSS"].split()[0]) * 1024
            peak = max(peak, int(fields["VmHWM"].split()[0]) * 1024)
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, KeyError, ValueError):
            continue
    return total, peak


@dataclass(frozen=True)
class Timed:
    """One measured subprocess: wall seconds, CPU seconds (user + system, its whole process tree), peak
    summed RSS of the tree, and the largest peak RSS of one of its processes (bytes)."""

    wall: float
    cpu: float
    tree_rss: int
    max_rss: int


def run_measured(cmd: list[str], env: dict[str, str] | None = None) -> Timed:
    """Run ``cmd``; its wall and CPU time and peak memory (process tree sampled every :data:`SAMPLE_S`)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
    tree, largest = 0, 0
    while proc.poll() is None:
        now, peak = _tree_memory(proc.pid)
        tree, largest = max(tree, now), max(largest, peak)
        time.sleep(SAMPLE_S)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, cmd)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the workers were waited for by the run
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return Timed(wall, cpu, tree, largest)


def _results(folder: Path) -> dict[str, dict[str, Any]]:
    frame = pd.read_csv(folder / "all_results.csv", float_precision="round_trip").set_index("dataset")
    return {str(c): {str(k): v for k, v in row.items()} for c, row in frame.to_dict("index").items()}


def run_ours(root: Path, properties: Path, output: Path) -> OurRun:
    """Run ``toto-bench run`` (this checkout) in a fresh subprocess and measure it."""
    timed = run_measured([sys.executable, "-m", "toto_bench.cli", *_run_command(root, properties, output)])
    folder = output / "boom" / "seasonal-naive"
    record = json.loads((folder / "config.json").read_text())
    return OurRun(timed.wall, timed.tree_rss, _results(folder), record, timed.max_rss)


def build_baseline(commit: str) -> Path:
    """``/tmp/toto-bench-baseline-<commit>/site``: toto-bench at ``commit`` installed there once (reused)."""
    sha = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--verify", f"{commit}^{{commit}}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    home = Path(tempfile.gettempdir()) / f"toto-bench-baseline-{sha[:12]}"
    site, marker = home / "site", home / "installed"
    if marker.is_file():
        return site
    shutil.rmtree(home, ignore_errors=True)
    (home / "src").mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", sha], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(home / "src")], input=archive, check=True)
    pip = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "-q",
        "--no-deps",
        "--target",
        str(site),
        str(home / "src"),
    ]
    subprocess.run(pip, check=True)
    marker.write_text(sha + "\n")
    return site


def baseline_env(site: Path) -> dict[str, str]:
    """The environment that makes ``python -m toto_bench.cli`` import the baseline in ``site``."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}


def check_baseline_import(site: Path) -> str:
    """Where ``toto_bench`` is imported from with :func:`baseline_env` (must be ``site``)."""
    code = "import toto_bench, sys; sys.stdout.write(toto_bench.__file__)"
    where = subprocess.run(
        [sys.executable, "-c", code], env=baseline_env(site), check=True, capture_output=True, text=True
    ).stdout
    if not Path(where).resolve().is_relative_to(site.resolve()):
        raise RuntimeError(f"the baseline imports toto_bench from {where}, not from {site}")
    return where


@dataclass(frozen=True)
class Comparison:
    """Baseline vs ours, back to back: the measured runs and whether their CSVs were byte-identical."""

    baseline: list[Timed]
    ours: list[Timed]
    identical: bool
    first_difference: str


def compare_baseline(root: Path, properties: Path, site: Path, repeats: int) -> Comparison:
    """Alternate baseline and our runs ``repeats`` times each (fresh output folders); compare their CSVs."""
    env = baseline_env(site)
    base_runs: list[Timed] = []
    our_runs: list[Timed] = []
    identical, first = True, ""
    for r in range(repeats):
        with (
            tempfile.TemporaryDirectory(prefix="boom-base-") as a,
            tempfile.TemporaryDirectory(prefix="boom-ours-") as b,
        ):
            order = [("baseline", Path(a)), ("ours", Path(b))]
            if r % 2:
                order.reverse()  # neither always runs first (page cache, load drift)
            for who, out in order:
                argv = [sys.executable, "-m", "toto_bench.cli", *_run_command(root, properties, out)]
                timed = run_measured(argv, env if who == "baseline" else None)
                (base_runs if who == "baseline" else our_runs).append(timed)
                print(
                    f"  repeat {r + 1} {who:8s}: wall {timed.wall:6.1f} s, CPU {timed.cpu:6.1f} s, peak RSS "
                    f"{timed.tree_rss / 2**20:5.0f} MB (tree) / {timed.max_rss / 2**20:4.0f} MB (largest "
                    "process)",
                    flush=True,
                )
            old = (Path(a) / "boom" / "seasonal-naive" / "all_results.csv").read_bytes()
            new = (Path(b) / "boom" / "seasonal-naive" / "all_results.csv").read_bytes()
            if old != new and identical:
                identical = False
                pairs = zip(old.decode().splitlines(), new.decode().splitlines(), strict=False)
                first = next(
                    (f"baseline {x!r}\n  ours     {y!r}" for x, y in pairs if x != y), "lengths differ"
                )
    return Comparison(base_runs, our_runs, identical, first)


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


#: Steps of the path a seasonal-naive BOOM run takes, timed by ``--breakdown`` (``module``, ``attribute
#: path``) → label. Seasonal naive is a ``PrefixForecaster`` with BOOM's context length 2048:
#: ``forecast_parts`` hands it each whole series and its cuts (``predict_prefixes`` →
#: ``_truncated_prefixes``), never ``forecast_windows``. Labels starting with ``"  of which"`` are parts of
#: the step above them (``"  of which  "``: of the part above). Wrapping costs ~1 µs per call (about 10^5
#: calls), unlike cProfile which slows every Python call.
TIMED_STEPS: dict[tuple[str, str], str] = {
    ("toto_bench.engine.protocol", "folder_fingerprint"): "plan: dataset folder fingerprints",
    ("toto_bench.engine.protocol", "load_dataset"): "open: pyarrow memory map + folder checks",
    ("toto_bench.engine.data", "StoredDataset.__iter__"): "read: rows to float32 [V, T] series",
    ("toto_bench.suites.gift_eval", "GiftEvalProtocol.tasks"): "tasks: freq, lengths, window counts",
    ("toto_bench.suites.gift_eval", "GiftEvalProtocol.check"): "check: every series fits its windows",
    ("toto_bench.suites.gift_eval", "GiftEvalProtocol.cuts"): "cuts: window starts per series",
    ("toto_bench.adapters.statistical", "SeasonalNaiveForecaster.predict_prefixes"): (
        "model: seasonal naive predict_prefixes"
    ),
    ("toto_bench.adapters.statistical", "_full_windows"): "  of which 2048-point windows (one pass per tail)",
    ("toto_bench.adapters.statistical", "_quantiles_from_sigma"): "  of which  intervals (9 quantiles)",
    ("toto_bench.adapters.statistical", "_native_seasonal_naive"): "  of which prefixes < 2048 (per window)",
    ("toto_bench.engine.forecasting", "forecast_problem"): "forecast checks: inf, quantile order",
    ("toto_bench.suites.gift_eval", "GiftEvalScorer.update"): "score: GiftEvalScorer.update",
    ("toto_bench.suites.gift_eval", "window_labels"): "  of which window labels",
    ("toto_bench.suites.gift_eval", "seasonal_errors"): "  of which seasonal errors",
    ("toto_bench.metrics.evaluate", "MetricAccumulator.update"): "  of which 11 metrics (accumulate)",
    ("toto_bench.engine.store", "ResultsStore.add"): "commit: one journal line per config",
    ("toto_bench.engine.store", "ResultsStore.sync"): "commit: journal fsync (every 2 s, at exit)",
    ("toto_bench.engine.store", "ResultsStore.write_csv"): "commit: all_results.csv",
}
BREAKDOWN_TAG = "BREAKDOWN-JSON "


def _timed_child(argv: list[str]) -> int:
    """Run ``toto_bench.cli.main(argv)`` with :data:`TIMED_STEPS` wrapped; print their totals and call counts
    as JSON (a step that returns a generator is timed while it is consumed)."""
    import functools
    import importlib
    import inspect
    from collections import defaultdict
    from collections.abc import Callable, Iterator

    totals: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)

    def consume(gen: Iterator[Any], label: str) -> Iterator[Any]:
        while True:
            started = time.perf_counter()
            try:
                item = next(gen)
            except StopIteration:
                totals[label] += time.perf_counter() - started
                return
            totals[label] += time.perf_counter() - started
            yield item

    def timed(func: Callable[..., Any], label: str) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls[label] += 1
            started = time.perf_counter()
            try:
                out = func(*args, **kwargs)
            finally:
                totals[label] += time.perf_counter() - started
            return consume(out, label) if inspect.isgenerator(out) else out

        return wrapper

    for (module_name, path), label in TIMED_STEPS.items():
        owner: Any = importlib.import_module(module_name)
        *parents, attr = path.split(".")
        for parent in parents:
            owner = getattr(owner, parent)
        if not hasattr(owner, attr):
            raise AttributeError(f"--breakdown: {module_name}.{path} no longer exists; update TIMED_STEPS")
        setattr(owner, attr, timed(getattr(owner, attr), label))
    from toto_bench.cli import main as cli_main

    started = time.perf_counter()
    code = cli_main(argv)
    totals["total (in-process)"] = time.perf_counter() - started
    print(BREAKDOWN_TAG + json.dumps({"seconds": totals, "calls": calls}))
    return code


def breakdown_ours(root: Path, properties: Path) -> str:
    """Rerun ours in one process (``--workers 1``) with the steps timed (:func:`_timed_child`); a table of
    seconds, shares and calls."""
    with tempfile.TemporaryDirectory(prefix="boom-breakdown-") as tmp:
        argv = [*_run_command(root, properties, Path(tmp)), "--workers", "1"]
        cmd = [sys.executable, __file__, "--timed-child", *argv]
        done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith(BREAKDOWN_TAG))
    payload = json.loads(line[len(BREAKDOWN_TAG) :])
    totals: dict[str, float] = payload["seconds"]
    calls: dict[str, int] = payload["calls"]
    total = totals.pop("total (in-process)")
    order = list(TIMED_STEPS.values())
    rows = [(label, totals.get(label, 0.0)) for label in order]
    top = sum(sec for label, sec in rows if not label.lstrip().startswith("of which"))
    rows.append(("other (run loop, context views, bookkeeping)", total - top))
    lines = [
        f"  {label:48s} {sec:6.1f} s {100 * sec / total:5.1f} % {calls.get(label, 0):8d} calls"
        for label, sec in rows
    ]
    lines.append(f"  {'total (one process, without interpreter start-up)':48s} {total:6.1f} s")
    return "\n".join(lines)


def _stats(values: list[float]) -> tuple[float, float]:
    return min(values), statistics.median(values)


def main(argv: list[str] | None = None) -> int:
    """Generate, run ours (and the baseline), time the upstream-style sample, print ``ratio: X`` last."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=boom_synthetic.DEFAULT_ROOT, help="synthetic data root")
    parser.add_argument("--seed", type=int, default=0, help="data seed (also picks the sample)")
    parser.add_argument("--sample", type=int, default=30, help="configs timed on the upstream-style path")
    parser.add_argument("--properties", type=Path, default=boom_synthetic.DEFAULT_PROPERTIES)
    parser.add_argument(
        "--baseline", metavar="COMMIT", help="also time this toto-bench commit back to back (e.g. a9b9a00)"
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs of each side with --baseline")
    parser.add_argument("--profile", action="store_true", help="also profile our run with cProfile")
    parser.add_argument("--top", type=int, default=30, help="functions shown per profile table")
    parser.add_argument(
        "--breakdown", action="store_true", help="also time the steps of our path (one process, low overhead)"
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

    comparison: Comparison | None = None
    if args.baseline:
        site = build_baseline(args.baseline)
        print(f"baseline {args.baseline}: {check_baseline_import(site)}")
        print(f"baseline vs ours, {args.repeats} repeats each, alternating:")
        comparison = compare_baseline(args.root, args.properties, site, args.repeats)

    with tempfile.TemporaryDirectory(prefix="boom-bench-") as tmp:
        ours = run_ours(args.root, args.properties, Path(tmp))
    expected = sum(len(p.windows) for p in plans)
    if len(ours.results) != expected:
        raise RuntimeError(f"expected {expected} configs, got {len(ours.results)}")
    instances = np.array([row["dataset_size"] for row in ours.results.values()], dtype=np.float64)
    windows = int(instances.sum())
    print(
        f"ours: {len(ours.results)} configs, {windows} windows, {points / 1e6:.1f} M points: "
        f"wall {ours.wall:.1f} s (engine {ours.record['wall_seconds']} s, "
        f"{ours.record['workers']} worker(s)), peak RSS {ours.peak_rss / 2**20:.0f} MB (process tree), "
        f"{ours.max_rss / 2**20:.0f} MB (largest process)"
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
        print("where our time goes (the steps of our path, timed in one process, --workers 1):")
        print(breakdown_ours(args.root, args.properties))
    if args.profile:
        print("profile of our run (cProfile, inflates pure-Python parts):")
        print(profile_ours(args.root, args.properties, args.top))

    print(f"data: {len(plans)} datasets, {points / 1e6:.1f} M points under {args.root}")
    print(f"ours: wall {ours.wall:.1f} s, peak RSS {ours.peak_rss / 2**30:.2f} GB, {windows} windows")
    ok = True
    if comparison is not None:
        b_min, b_med = _stats([t.wall for t in comparison.baseline])
        o_min, o_med = _stats([t.wall for t in comparison.ours])
        b_cpu, o_cpu = (
            statistics.median(t.cpu for t in runs) for runs in (comparison.baseline, comparison.ours)
        )
        o_rss = max(t.tree_rss for t in comparison.ours)
        print(
            f"baseline {args.baseline}: wall min {b_min:.1f} s, median {b_med:.1f} s; ours: min "
            f"{o_min:.1f} s, median {o_med:.1f} s, peak RSS {o_rss / 2**30:.2f} GB (process tree, max over "
            f"repeats)"
        )
        print(
            f"speed-up vs {args.baseline}: {b_med / o_med:.2f}x (median) / {b_min / o_min:.2f}x (min); "
            f"all_results.csv {'byte-identical' if comparison.identical else 'DIFFERS'}"
        )
        print(
            f"CPU seconds (median, whole process tree): baseline {b_cpu:.1f} s, ours {o_cpu:.1f} s "
            f"({b_cpu / o_cpu:.2f}x less work; wall also depends on the cores left free by other load)"
        )
        if not comparison.identical:
            print(f"  first differing row:\n  {comparison.first_difference}")
        met = (
            b_med / o_med >= TARGET_BASELINE_RATIO and o_rss < TARGET_RSS_GB * 2**30 and comparison.identical
        )
        ok = ok and met
        print(
            f"targets vs baseline (>= {TARGET_BASELINE_RATIO:.0f}x median, < {TARGET_RSS_GB:.0f} GB, "
            f"identical CSV): {'met' if met else 'NOT met'}"
        )
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
    met = ours.wall < TARGET_WALL_S and ours.peak_rss < TARGET_RSS_GB * 2**30 and ratio >= TARGET_RATIO
    print(
        f"targets (< {TARGET_WALL_S:.0f} s, < {TARGET_RSS_GB:.0f} GB, >= {TARGET_RATIO:.0f}x "
        f"upstream-style): {'met' if met else 'NOT met'}"
    )
    print(f"ratio: {ratio:.1f}")
    return 0 if comparison is None or comparison.identical else 1


if __name__ == "__main__":
    raise SystemExit(main())
