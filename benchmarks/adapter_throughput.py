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
from forward_hooks import ForwardTimer, inner_timer

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
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
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
