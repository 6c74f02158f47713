"""Benchmark: adapter throughput at BOOM-like shapes, and the share of wall time spent outside the model.

For each adapter (random weights; Toto 2.0 at the official 4m shape, other families at their registered test
checkpoint, which is smaller than the published models) and each shape, the engine's own path
(:func:`toto_bench.engine.forecasting.forecast_series`: context views, batching by ``model.batch_size``, the
adapter's preprocessing, the model call, output conversion, scatter back to series) is timed against the time
spent inside the model package's lowest-level call (``Toto2Model.forecast``, ``pipeline.predict``, ...),
measured by wrapping that call (with CUDA synchronisation on a GPU). ``outside %`` = (wall − inside) / wall;
the target is < 5 %.

Shapes (BOOM: high-frequency series, terms short/medium/long = H 48/480/720, up to 20 windows; the BOOM
notebook settings: context budget 2048, batch 64, single-pass decoding): 2 % of the values are NaN gaps.

``--overhead`` replaces the model's inner call by a stub returning zeros (Toto 2.0): the wall time is then
what the harness and the adapter cost per window, i.e. the outside share at any model speed.

Run: ``python benchmarks/adapter_throughput.py [--models toto2-4m,chronos-2] [--device cpu|cuda]
[--repeat 2] [--scale 1.0] [--overhead]``; prints one table row per (model, shape).

``--cross-config`` measures cross-config batching instead: ``toto-bench run --suite boom --model toto2-4m``
(random-init, official 4m shape; BOOM settings: context 2048, batch 64) on a BOOM-layout synthetic subset
(``gpu_flagship.build_subset``: ``--per-freq`` datasets of each BOOM frequency, alternately 1-D and
multivariate, at most ``--max-variates``), once with ``--batching config`` (before: each config's own
batches) and once with ``--batching pooled`` (after), alternately, ``--repeat`` times each, in this process.
Per mode it prints the forward calls (``Toto2Model.forecast``), the mean batch fill (rows per call / 64), the
wall time and the process CPU time of the whole run command and the seconds inside the forward calls (min and
median over the repeats; on a loaded machine wall time is mostly waiting, CPU time is steadier), then the
ratios of the medians, and
asserts that the stored forecasts of the two modes agree within ``CROSS_CONFIG_TOLERANCE`` (the documented
Toto 2.0 tolerance, docs/running.md).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from forward_hooks import ForwardTimer, inner_timer, toto2_rows

from toto_bench.adapters.common import MissingExtraError
from toto_bench.adapters.registry import ModelSpec, accepted_options, available_models, build_model
from toto_bench.engine.forecasting import forecast_series
from toto_bench.engine.tasks import Task


@dataclass(frozen=True)
class Shape:
    """``series`` items of ``variates × length`` points, ``windows`` windows of horizon ``horizon`` each."""

    label: str
    series: int
    variates: int
    length: int
    horizon: int
    windows: int


SHAPES: tuple[Shape, ...] = (
    Shape("short V=1", series=32, variates=1, length=6000, horizon=48, windows=20),
    Shape("short V=4", series=16, variates=4, length=6000, horizon=48, windows=20),
    Shape("long V=1", series=32, variates=1, length=12000, horizon=720, windows=2),
)


def _series(shape: Shape, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    t = np.arange(shape.length)
    for _ in range(shape.series):
        base = 50 + 10 * np.sin(2 * np.pi * t / 360 + rng.uniform(0, 6.3, size=(shape.variates, 1)))
        x = (base + rng.normal(0, 1, size=(shape.variates, shape.length)).cumsum(axis=1) * 0.05).astype(
            np.float32
        )
        for _ in range(3):  # ~2 % NaN in three gaps
            start = int(rng.integers(0, shape.length - shape.horizon * shape.windows - 50))
            x[:, start : start + shape.length // 150] = np.nan
        out.append(x)
    return out


def _toto2_stub(inputs: dict[str, Any], horizon: int, **kwargs: Any) -> Any:
    """Stands in for ``Toto2Model.forecast``: zeros of the right shape ``[9, B, V, H]``, no compute."""
    target = inputs["target"]
    return target.new_zeros((9, *target.shape[:2], horizon))


#: Adapter class → a stub of its inner call, for ``--overhead`` (the cost of everything but the model).
INNER_STUBS: dict[str, Callable[..., Any]] = {"Toto2Forecaster": _toto2_stub}


def _checkpoint(spec: ModelSpec, folder: Path) -> tuple[Path | None, str]:
    if spec.family == "toto2":
        from toto_bench.adapters.toto2 import OFFICIAL_4M_CONFIG, save_random_checkpoint

        return save_random_checkpoint(folder, OFFICIAL_4M_CONFIG), "official 4m shape"
    if spec.test_checkpoint is not None:
        return spec.test_checkpoint(folder), "test checkpoint (smaller than published)"
    return None, "no weights"


def _task(shape: Shape) -> Task:
    return Task(
        config=f"bench/T/{shape.label}",
        storage_name="bench",
        term="short",
        freq="T",
        prediction_length=shape.horizon,
        windows=shape.windows,
        seasonality=1440,
        target_dim=shape.variates,
        min_length=shape.length,
    )


def bench_model(
    name: str, device: str, repeat: int, shapes: tuple[Shape, ...], root: Path, *, overhead: bool = False
) -> list[dict[str, Any]]:
    """Time ``name`` on every shape: wall, inside-the-model seconds and windows/s (best of ``repeat``).

    With ``overhead`` the model's inner call is replaced by a stub (:data:`INNER_STUBS`), so the wall time
    is the harness's and the adapter's own cost.
    """
    spec = available_models()[name]
    folder = root / name
    folder.mkdir()
    checkpoint, weights = _checkpoint(spec, folder)
    overrides: dict[str, Any] = {} if checkpoint is None else {"checkpoint": checkpoint}
    accepted = accepted_options(spec)
    if accepted is None or "device" in accepted:
        overrides["device"] = device
    model = build_model(name, suite="boom", **overrides)
    timer = inner_timer(model, cuda=device.startswith("cuda"))
    if overhead:
        stub = INNER_STUBS.get(type(model).__name__)
        if timer is None or stub is None:
            raise ValueError(
                f"--overhead has no stub for {type(model).__name__}; stubs: {sorted(INNER_STUBS)}"
            )
        setattr(timer.owner, timer.method, stub)
        timer = ForwardTimer(timer.owner, timer.method)
        weights = "stub model (harness + adapter cost only)"
    rows = []
    for shape in shapes:
        targets = _series(shape, seed=0)
        cuts = [
            np.array([shape.length - (shape.windows - w) * shape.horizon for w in range(shape.windows)])
            for _ in targets
        ]
        task = _task(shape)
        forecast_series(model, targets[:2], [c[:2] for c in cuts[:2]], task)  # warm-up
        best: tuple[float, float] | None = None
        for _ in range(repeat):
            with timer.installed() if timer is not None else contextlib.nullcontext():
                if timer is not None:
                    timer.reset()
                start = time.perf_counter()
                forecast_series(model, targets, cuts, task)
                wall = time.perf_counter() - start
                inside = timer.seconds if timer is not None else float("nan")
            if best is None or wall < best[0]:
                best = (wall, inside)
        assert best is not None
        wall, inside = best
        windows = shape.series * shape.windows
        rows.append(
            {
                "model": name,
                "weights": weights,
                "shape": f"{shape.label} H={shape.horizon} ({shape.series}x{shape.windows} windows)",
                "windows_per_s": windows / wall,
                "us_per_window_outside": 1e6 * (wall - inside) / windows
                if timer is not None
                else float("nan"),
                "wall_s": wall,
                "inside_s": inside,
                "outside_pct": 100 * (wall - inside) / wall if timer is not None else float("nan"),
            }
        )
    return rows


#: Max |pooled − per-config| / max(1, |per-config|) of the stored quantiles (docs/running.md, Toto 2.0):
#: the same float32 network on the same rows, only the batch composition differs (CPU; TF32 on CUDA).
CROSS_CONFIG_TOLERANCE = {"cpu": 1e-4, "cuda": 1e-2}


def cross_config(
    root: Path, device: str, repeat: int, per_freq: int, max_variates: int
) -> dict[str, dict[str, Any]]:
    """Run toto2-4m on a BOOM-layout subset with ``--batching config`` and ``pooled``; see the docstring."""
    import statistics

    import gpu_flagship
    import toto2

    from toto_bench.adapters.toto2 import OFFICIAL_4M_CONFIG, save_random_checkpoint
    from toto_bench.cli import main as cli
    from toto_bench.engine.forecasts import load_forecasts, saved_configs

    data = root / "data"
    names = gpu_flagship.build_subset(data, per_freq, max_variates, tuple(gpu_flagship.boom_synthetic.FREQS))
    checkpoint = save_random_checkpoint(root / "toto2-4m", OFFICIAL_4M_CONFIG, seed=0)
    modes = ("config", "pooled")
    runs: dict[str, list[dict[str, Any]]] = {m: [] for m in modes}
    for r in range(repeat):
        for mode in modes if r % 2 == 0 else modes[::-1]:  # alternate who runs first (load drifts)
            out = root / f"runs-{r}-{mode}"
            argv = ["run", "--suite", "boom", "--model", "toto2-4m", "--checkpoint", str(checkpoint)]
            argv += [
                "--device",
                device,
                "--data-dir",
                str(data),
                "--properties",
                str(data / "boom_properties.json"),
            ]
            argv += ["--output-dir", str(out), "--save-forecasts", "--no-progress", "--batching", mode]
            timer = ForwardTimer(
                toto2.Toto2Model, "forecast", rows=toto2_rows, sync=device.startswith("cuda")
            )
            with timer.installed(), contextlib.redirect_stdout(sys.stderr):
                start, cpu = time.perf_counter(), time.process_time()
                code = cli(argv)
                wall, cpu = time.perf_counter() - start, time.process_time() - cpu
            if code != 0:
                raise SystemExit(f"adapter_throughput: `toto-bench {' '.join(argv)}` exited {code}")
            runs[mode].append(
                {
                    "wall": wall,
                    "cpu": cpu,
                    "forward": timer.seconds,
                    "calls": timer.calls,
                    "rows": sum(timer.batch_rows),
                    "fill": timer.batch_fill(64),
                    "folder": out / "boom" / "toto2-4m",
                }
            )
    worst = 0.0
    first = {m: runs[m][0]["folder"] for m in modes}
    configs = saved_configs(first["config"])
    for name in configs:
        ref, got = (load_forecasts(first[m], name).quantiles for m in modes)
        assert ref.shape == got.shape, (name, ref.shape, got.shape)
        both = np.isfinite(ref) & np.isfinite(got)
        assert (np.isfinite(ref) == np.isfinite(got)).all(), f"{name}: NaN pattern differs"
        diff = np.abs(got[both] - ref[both]) / np.maximum(1.0, np.abs(ref[both]))
        worst = max(worst, float(diff.max(initial=0.0)))
    tolerance = CROSS_CONFIG_TOLERANCE["cuda" if device.startswith("cuda") else "cpu"]
    summary: dict[str, dict[str, Any]] = {}
    for mode in modes:
        summary[mode] = {
            "calls": runs[mode][0]["calls"],
            "rows": runs[mode][0]["rows"],
            "fill": runs[mode][0]["fill"],
        }
        for what in ("wall", "cpu", "forward"):
            values = [x[what] for x in runs[mode]]
            summary[mode][f"{what}_min"] = min(values)
            summary[mode][f"{what}_median"] = statistics.median(values)
    summary["check"] = {
        "datasets": len(names),
        "configs": len(configs),
        "max_rel_diff": worst,
        "tolerance": tolerance,
    }
    print(
        f"BOOM-layout subset: {len(names)} datasets, {len(configs)} configs; toto2-4m random-init "
        f"(official 4m shape), batch 64, device {device}, {repeat} repeat(s) per mode, alternating"
    )
    header = f"{'batching':<28} {'forward calls':>13} {'contexts':>8} {'mean fill':>9}"
    header += f" {'wall s min/med':>15} {'CPU s min/med':>15} {'forward s min/med':>17}"
    print(header)
    for mode, label in (("config", "before (per-config batches)"), ("pooled", "after (cross-config)")):
        x = summary[mode]
        line = f"{label:<28} {x['calls']:>13d} {x['rows']:>8d} {x['fill']:>9.3f}"
        for what, width in (("wall", 15), ("cpu", 15), ("forward", 17)):
            line += f" {x[what + '_min']:>{width - 8}.2f}/{x[what + '_median']:<7.2f}"
        print(line)
    for what in ("wall", "cpu", "forward"):
        ratio = summary["config"][f"{what}_median"] / summary["pooled"][f"{what}_median"]
        print(f"ratio {what} (before median / after median): {ratio:.2f}")
    print(
        f"forward calls ratio (before / after): {summary['config']['calls'] / summary['pooled']['calls']:.2f}"
    )
    print(f"max relative difference of the stored quantiles: {worst:.3g} (tolerance {tolerance:g})")
    assert summary["config"]["rows"] == summary["pooled"]["rows"], (
        "both modes must forecast the same contexts"
    )
    assert worst <= tolerance, f"pooled and per-config forecasts differ by {worst:.3g} > {tolerance:g}"
    return summary


def _print_header() -> None:
    header = f"{'model':<16} {'shape':<38} {'windows/s':>10} {'wall s':>8} {'model s':>8} {'outside %':>9}"
    header += f" {'outside us/window':>17}  weights"
    print(header)
    print("-" * len(header), flush=True)


def _print_row(r: dict[str, Any]) -> None:
    print(
        f"{r['model']:<16} {r['shape']:<38} {r['windows_per_s']:>10.1f} {r['wall_s']:>8.3f} "
        f"{r['inside_s']:>8.3f} {r['outside_pct']:>9.2f} {r['us_per_window_outside']:>17.1f}"
        f"  {r['weights']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", help="comma-separated model names (default: one per family with weights)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    parser.add_argument("--repeat", type=int, default=2, help="timed passes per shape; the best is kept")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the number of series per shape")
    parser.add_argument(
        "--overhead",
        action="store_true",
        help="replace the model's inner call by a stub: what the harness and adapter cost per window",
    )
    parser.add_argument(
        "--cross-config",
        action="store_true",
        help="toto2-4m on a BOOM-layout subset, --batching config vs pooled (see the module docstring)",
    )
    parser.add_argument("--per-freq", type=int, default=3, help="--cross-config: datasets per BOOM frequency")
    parser.add_argument(
        "--max-variates", type=int, default=4, help="--cross-config: most variates of a dataset"
    )
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    if args.cross_config:
        with tempfile.TemporaryDirectory() as tmp:
            cross_config(Path(tmp), args.device, args.repeat, args.per_freq, args.max_variates)
        return 0
    models = available_models()
    if args.models:
        names = [n.strip() for n in args.models.split(",") if n.strip()]
    else:  # one representative per family that has weights to build
        seen: set[Any] = set()
        names = []
        for name, spec in models.items():
            key = (spec.family, spec.test_checkpoint)
            if spec.test_checkpoint is not None and key not in seen:
                seen.add(key)
                names.append(name)
    shapes = tuple(
        Shape(s.label, max(1, round(s.series * args.scale)), s.variates, s.length, s.horizon, s.windows)
        for s in SHAPES
    )
    rows: list[dict[str, Any]] = []
    _print_header()
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            try:
                new = bench_model(name, args.device, args.repeat, shapes, Path(tmp), overhead=args.overhead)
            except MissingExtraError as exc:
                print(f"skipping {name}: {exc}", file=sys.stderr)
                continue
            for row in new:
                _print_row(row)
            sys.stdout.flush()
            rows += new
    return 0


if __name__ == "__main__":
    sys.exit(main())
