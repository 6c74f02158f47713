"""The flagship call measured: ``toto-bench run --suite boom --model toto2-313m`` on a BOOM-shaped subset.

Called by ``benchmarks/gpu_flagship.sh OUTDIR [--device cuda|cpu] [--shapes full|small]`` (docs/gpu.md).
Everything is built offline, under ``OUTDIR``:

1. ``data/``: a BOOM-layout synthetic subset from ``benchmarks/boom_synthetic.py`` (the same series the
   full generator writes for those datasets): ``--per-freq`` datasets per frequency (full: 40 of each of
   10S, T, 5T, 30T, H, D; small: 2 of H and D), alternately 1-D and multivariate (at most
   ``--max-variates``), with the generator's NaN gaps, and a ``boom_properties.json`` listing them.
2. ``checkpoints/``: random-init checkpoints saved through each library's own save path: Toto 2.0 with
   :data:`~toto_bench.adapters.toto2.SIZED_313M_CONFIG` (the published 313M parameter count; the published
   ``config.json`` is not available offline, ``--toto2-config FILE`` takes it), Toto 1.0 and Chronos-2 at
   their published sizes (``--shapes small``: the 4m-architecture test config and the test checkpoints).
3. ``runs/<variant>/``: ``toto-bench run --suite boom --model toto2-313m --checkpoint DIR --device D
   --save-forecasts`` in this process, per variant: ``fp32`` (``float32_matmul_precision("highest")``) and,
   on CUDA, ``upstream`` (float32 weights with TF32 matmuls, ``precision("high")``, what the BOOM notebook
   and the adapter set). On CPU the two are the same computation, so only ``fp32`` runs.
4. The direct path: the official library calls of the BOOM notebook (``Toto2Model.from_pretrained`` +
   ``Toto2GluonTSModel(...).create_predictor(batch_size=64)`` on gift-eval's test split, rebuilt in
   ``tests/upstream.py``), and the max abs difference of its quantiles to the run's stored ones.
5. The latency study (``toto-bench study latency``) when this tree has it, else ``latency: skipped``.

Printed as ``key: value`` lines (also in ``OUTDIR/summary.json``), per variant ``<variant>.<key>``:
``wall_s`` (the whole run command), ``forward_s`` (inside ``Toto2Model.forecast``: CUDA events on a GPU,
``perf_counter`` on CPU), ``first_forward_s`` (wall time before the first forward: data and weights),
``overhead_fraction`` = (wall − forward) / wall, ``overhead_fraction_after_load`` (the same from the first
forward on), ``gpu_busy_fraction`` (NVML utilisation sampled every 0.1 s; ``torch.cuda.utilization`` without
pynvml; ``n/a`` on CPU), ``batch_fill`` (mean rows per forward / batch size 64), ``peak_memory_mib``
(``torch.cuda.max_memory_allocated`` on a GPU, the process's peak RSS on CPU), ``forecasts_per_s`` (windows
forecast / wall), ``direct_*`` the same for the direct path, and ``max_abs_diff`` / ``max_rel_diff`` (the
largest |run − direct| over every stored quantile; relative to max(1, |direct|)) with ``diff_tolerance`` and
``diff_ok``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import resource
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # tests/upstream.py: the gift-eval dataset logic

import boom_synthetic  # noqa: E402
from forward_hooks import ForwardTimer, toto2_rows  # noqa: E402

MODEL = "toto2-313m"
#: The BOOM notebook's settings (adapters/toto2.py BOOM_SETTINGS).
CONTEXT_LENGTH, BATCH_SIZE = 2048, 64
#: Max relative difference (|run − direct| / max(1, |direct|)) allowed between the run and the direct path.
#: Both run the same float32 network on the same inputs; only the batch composition can differ, which
#: changes reduction order: float32 rounding, a few ulps of the values (CPU), TF32 rounding on CUDA.
TOLERANCE = {"cpu": 1e-4, "cuda": 1e-2}
#: ``--shapes`` → (datasets per frequency, max variates, frequencies).
SUBSETS: dict[str, tuple[int, int, tuple[str, ...]]] = {
    "full": (40, 16, tuple(boom_synthetic.FREQS)),
    "small": (2, 3, ("H", "D")),
}
LATENCY_HORIZONS = "96,192,336,720,1024,2048,4096"


def emit(results: dict[str, Any], key: str, value: Any) -> None:
    """Print ``key: value`` (floats to 4 significant digits) and keep it for ``summary.json``."""
    results[key] = value
    shown = f"{value:.4g}" if isinstance(value, float) else value
    print(f"{key}: {shown}", flush=True)


# ----------------------------------------------------------------------------------------------------------
# Data and checkpoints


def build_subset(
    root: Path, per_freq: int, max_variates: int, freqs: tuple[str, ...], seed: int = 0
) -> list[str]:
    """Write ``per_freq`` synthetic BOOM datasets per frequency of ``freqs`` under ``root`` (see the module
    docstring)."""
    plans = boom_synthetic.plan(seed)
    chosen: list[tuple[int, boom_synthetic.DatasetPlan]] = []
    for freq in freqs:
        uni = [(i, p) for i, p in enumerate(plans) if p.freq == freq and p.target_dim == 1]
        multi = [(i, p) for i, p in enumerate(plans) if p.freq == freq and 1 < p.target_dim <= max_variates]
        picked: list[tuple[int, boom_synthetic.DatasetPlan]] = []
        while len(picked) < per_freq and (uni or multi):
            source = multi if (len(picked) % 2 and multi) or not uni else uni
            picked.append(source.pop(0))
        chosen += picked
    props = json.loads(boom_synthetic.DEFAULT_PROPERTIES.read_text())
    root.mkdir(parents=True, exist_ok=True)
    import pandas as pd

    for i, p in chosen:
        rng = np.random.default_rng([seed, 2, i])  # the full generator's stream for dataset i
        target = boom_synthetic.make_target(p, rng)
        start = pd.Timestamp("2024-01-01") + pd.Timedelta(minutes=int(rng.integers(0, 60 * 24 * 30)))
        start = start.floor(
            {"10S": "10s", "T": "min", "5T": "5min", "30T": "30min", "H": "h", "D": "D"}[p.freq]
        )
        boom_synthetic.write_save_to_disk(
            root / p.name, target, item_id=p.name, start=start, freq=p.freq, fingerprint=f"{seed}:{p.name}"
        )
    names = [p.name for _, p in chosen]
    (root / "boom_properties.json").write_text(json.dumps({n: props[n] for n in names}, indent=1))
    return names


def build_checkpoints(
    root: Path, shapes: str, toto2_config: Path | None, *, others: bool
) -> dict[str, Path | str]:
    """Random-init checkpoints (see the module docstring); a family that is not installed is reported.

    Toto 1.0 and Chronos-2 are built only with ``others`` (the latency study is the only user).
    """
    from toto_bench.adapters import toto2

    out: dict[str, Path | str] = {}
    config: Mapping[str, Any]
    if toto2_config is not None:
        config = json.loads(toto2_config.read_text())
    else:
        config = toto2.SIZED_313M_CONFIG if shapes == "full" else toto2.TINY_TEST_CONFIG
    out["toto2-313m"] = toto2.save_random_checkpoint(root / "toto2-313m", config, seed=0)
    if not others:
        out["toto1"] = out["chronos-2"] = "not built (only the latency study uses it)"
        return out
    try:
        from toto_bench.adapters import toto1

        cfg = toto1.PUBLISHED_CONFIG if shapes == "full" else toto1.TEST_CONFIG
        out["toto1"] = toto1.build_test_checkpoint(root / "toto1", config=cfg)
    except ImportError as exc:  # MissingExtraError is an ImportError
        out["toto1"] = f"not built ({exc})"
    try:
        from toto_bench.adapters import chronos

        sizes = chronos.CHRONOS2_PUBLISHED_SIZES if shapes == "full" else None
        out["chronos-2"] = chronos.build_chronos2_test_checkpoint(root / "chronos-2", sizes=sizes)
    except ImportError as exc:
        out["chronos-2"] = f"not built ({exc})"
    return out


def parameters(folder: Path) -> int:
    """Parameters stored in ``folder/*.safetensors`` (read from the headers)."""
    from safetensors import safe_open

    total = 0
    for path in sorted(folder.glob("*.safetensors")):
        with safe_open(str(path), "pt") as f:
            total += sum(math.prod(f.get_slice(k).get_shape()) for k in f.keys())
    return total


# ----------------------------------------------------------------------------------------------------------
# Measurement


class BusySampler:
    """Samples GPU utilisation every ``interval`` s in a thread (NVML, else ``torch.cuda.utilization``)."""

    def __init__(self, cuda: bool, interval: float = 0.1) -> None:
        self.samples: list[float] = []
        self.source = "n/a"
        self._read: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.interval = interval
        if not cuda:
            return
        try:
            import pynvml

            pynvml.nvmlInit()
            import torch

            handle = pynvml.nvmlDeviceGetHandleByIndex(torch.cuda.current_device())
            self._read = lambda: pynvml.nvmlDeviceGetUtilizationRates(handle).gpu
            self.source = "nvml"
        except Exception:
            try:
                import torch

                torch.cuda.utilization()
                self._read = torch.cuda.utilization
                self.source = "torch.cuda.utilization"
            except Exception:
                self._read = None

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.samples.append(float(self._read()) / 100.0)

    @contextlib.contextmanager
    def running(self) -> Iterator[BusySampler]:
        if self._read is not None:
            self._thread = threading.Thread(target=self._loop, daemon=True)
            self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            if self._thread is not None:
                self._thread.join()

    def fraction(self) -> float | str:
        return float(np.mean(self.samples)) if self.samples else "n/a"


@contextlib.contextmanager
def matmul_precision(torch: Any, precision: str | None) -> Iterator[None]:
    """Hold ``float32_matmul_precision`` at ``precision`` (the adapter's own ``"high"`` call is ignored)."""
    if precision is None:
        yield
        return
    before = torch.get_float32_matmul_precision()
    setter = torch.set_float32_matmul_precision
    setter(precision)
    torch.set_float32_matmul_precision = lambda _value: None
    try:
        yield
    finally:
        torch.set_float32_matmul_precision = setter
        setter(before)


def measure(results: dict[str, Any], prefix: str, device: str, action: Any) -> tuple[float, ForwardTimer]:
    """Run ``action()`` with the forward timer, the busy sampler and peak memory; emit the figures."""
    import torch
    import toto2

    cuda = device.startswith("cuda")
    timer = ForwardTimer(toto2.Toto2Model, "forecast", cuda=cuda, rows=toto2_rows)
    sampler = BusySampler(cuda)
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    with timer.installed(), sampler.running():
        start = time.perf_counter()
        action()
        if cuda:
            torch.cuda.synchronize()
        wall = time.perf_counter() - start
    forward = timer.seconds
    first = (timer.first_call - start) if timer.first_call is not None else float("nan")
    emit(results, f"{prefix}wall_s", wall)
    emit(results, f"{prefix}forward_s", forward)
    emit(results, f"{prefix}first_forward_s", first)
    emit(results, f"{prefix}forward_calls", timer.calls)
    emit(results, f"{prefix}overhead_fraction", (wall - forward) / wall)
    emit(results, f"{prefix}overhead_fraction_after_load", (wall - first - forward) / (wall - first))
    emit(results, f"{prefix}gpu_busy_fraction", sampler.fraction())
    emit(results, f"{prefix}gpu_busy_source", sampler.source)
    emit(results, f"{prefix}batch_fill", timer.batch_fill(BATCH_SIZE))
    if cuda:
        peak, kind = torch.cuda.max_memory_allocated() / 2**20, "cuda max_memory_allocated"
    else:
        peak, kind = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "cpu peak rss (process)"
    emit(results, f"{prefix}peak_memory_mib", peak)
    emit(results, f"{prefix}peak_memory_kind", kind)
    emit(results, f"{prefix}forecasts_per_s", sum(timer.batch_rows) / wall)
    return wall, timer


def run_harness(data: Path, checkpoint: Path, out: Path, device: str) -> Path:
    """``toto-bench run --suite boom --model toto2-313m`` in this process; returns the run folder."""
    from toto_bench.cli import main

    argv = ["run", "--suite", "boom", "--model", MODEL, "--checkpoint", str(checkpoint), "--device", device]
    argv += ["--data-dir", str(data), "--properties", str(data / "boom_properties.json")]
    argv += ["--output-dir", str(out), "--save-forecasts", "--no-progress"]
    code = main(argv)
    if code != 0:
        raise SystemExit(f"gpu_flagship: `toto-bench {' '.join(argv)}` exited {code}")
    return out / "boom" / MODEL


def run_direct(data: Path, checkpoint: Path, configs: list[str], device: str) -> dict[str, np.ndarray]:
    """The BOOM notebook's library calls: quantiles ``[N, V, H, 9]`` per config, windows in order."""
    import toto2
    import upstream

    model = toto2.Toto2Model.from_pretrained(str(checkpoint), map_location=device).to(device).eval()
    out = {}
    for config in configs:
        name, term = config.split("/")[0], config.split("/")[-1]
        dataset = upstream._GiftEvalDataset(data / name, name, term, to_univariate=False)
        with upstream._quiet(), upstream._no_progress_bar():
            cfg = toto2.Toto2GluonTSModelConfig(
                prediction_length=dataset.prediction_length,
                context_length=CONTEXT_LENGTH,
                target_dim=dataset.target_dim,
            )
            predictor = toto2.Toto2GluonTSModel(model, cfg).create_predictor(
                batch_size=BATCH_SIZE, device=device
            )
            forecasts = list(predictor.predict(dataset.test_data().input))
        arrays = [
            f.forecast_array[:, None, :] if dataset.target_dim == 1 else f.forecast_array for f in forecasts
        ]  # [9, V, H] (the wrapper's multivariate layout)
        out[config] = np.stack([np.moveaxis(a, 0, -1) for a in arrays])
    return out


def compare(run_folder: Path, direct: dict[str, np.ndarray]) -> tuple[float, float]:
    """Max abs and max relative (to max(1, |direct|)) difference of the stored quantiles to ``direct``."""
    from toto_bench.engine.forecasts import load_forecasts

    worst_abs = worst_rel = 0.0
    for config, reference in direct.items():
        stored = np.asarray(load_forecasts(run_folder, config).quantiles)
        if stored.shape != reference.shape:
            raise SystemExit(
                f"gpu_flagship: {config}: run forecasts {stored.shape} vs direct {reference.shape}"
            )
        diff = np.abs(stored.astype(np.float64) - reference)
        worst_abs = max(worst_abs, float(np.nanmax(diff)))
        worst_rel = max(worst_rel, float(np.nanmax(diff / np.maximum(1.0, np.abs(reference)))))
    return worst_abs, worst_rel


_CLI = [sys.executable, "-m", "toto_bench.cli"]


def latency_available() -> bool:
    """Whether ``toto-bench study --help`` works in this tree."""
    return subprocess.run([*_CLI, "study", "--help"], capture_output=True).returncode == 0


def latency(out: Path, device: str, checkpoints: Mapping[str, Path | str], results: dict[str, Any]) -> None:
    """``toto-bench study latency`` for Toto 2.0 313m, Toto 1.0 and Chronos-2 at H = 96..4096, single pass
    and block decoding. The study builds its own random-init architectures (``--random-init``: the study's
    configs, not the real-shaped checkpoints above, which it does not take); on CPU a short smoke run
    (H = 96, 192, one timed call). ``LATENCY_EXTRA_ARGS`` adds options."""
    del checkpoints  # the study loads models by name; see the docstring
    cpu = device == "cpu"
    argv = [
        *_CLI,
        "study",
        "latency",
        "--models",
        "toto2-313m,toto1,chronos-2",
        "--horizons",
        "96,192" if cpu else LATENCY_HORIZONS,
        "--modes",
        "single,block-256",
        "--random-init",
        "--no-progress",
        "--device",
        device,
        "--output-dir",
        str(out / "latency"),
    ]
    if cpu:
        argv += ["--context-length", "256", "--num-samples", "16", "--warmup", "1", "--repeats", "1"]
    argv += os.environ.get("LATENCY_EXTRA_ARGS", "").split()
    done = subprocess.run(argv, text=True)
    emit(results, "latency", f"exit {done.returncode} ({out / 'latency'})")


# ----------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", type=Path, help="everything is written here")
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--shapes", default="full", choices=sorted(SUBSETS), help="full (default) or small")
    parser.add_argument("--per-freq", type=int, help="datasets per frequency (default: full 40, small 1)")
    parser.add_argument("--max-variates", type=int, help="largest multivariate target_dim kept")
    parser.add_argument("--toto2-config", type=Path, help="a Toto 2.0 config.json to build instead")
    parser.add_argument("--no-latency", action="store_true", help="skip the latency study")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        print(
            f"error: --device cuda but CUDA is not available to torch {torch.__version__} "
            f"(built for CUDA {torch.version.cuda}); install a CUDA build (TORCH_INDEX_URL) "
            "or use --device cpu",
            file=sys.stderr,
        )
        return 3
    results: dict[str, Any] = {}
    out: Path = args.outdir.resolve()
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    emit(results, "device", torch.cuda.get_device_name() if args.device == "cuda" else "cpu")
    emit(results, "torch", torch.__version__)
    per_freq, max_variates, freqs = SUBSETS[args.shapes]
    names = build_subset(out / "data", args.per_freq or per_freq, args.max_variates or max_variates, freqs)
    emit(results, "datasets", len(names))
    study = not args.no_latency and latency_available()
    checkpoints = build_checkpoints(out / "checkpoints", args.shapes, args.toto2_config, others=study)
    for name, path in checkpoints.items():
        emit(
            results,
            f"checkpoint.{name}",
            f"{parameters(path)} parameters" if isinstance(path, Path) else path,
        )
    emit(results, "setup_s", time.perf_counter() - started)
    variants = [("fp32", "highest"), ("upstream", "high")] if args.device == "cuda" else [("fp32", "highest")]
    if args.device == "cpu":
        emit(results, "upstream", "same as fp32 on cpu (TF32 matmuls are CUDA-only)")
    ckpt = checkpoints[MODEL]
    assert isinstance(ckpt, Path)
    tolerance = TOLERANCE[args.device]
    for variant, precision in variants:
        folder = out / "runs" / variant
        run_folder = folder / "boom" / MODEL
        with matmul_precision(torch, precision):
            measure(
                results,
                f"{variant}.",
                args.device,
                lambda f=folder: run_harness(out / "data", ckpt, f, args.device),
            )
            from toto_bench.engine.forecasts import saved_configs

            configs = saved_configs(run_folder)
            emit(results, f"{variant}.configs", len(configs))
            direct: dict[str, np.ndarray] = {}

            def go(cs: list[str] = configs, into: dict[str, np.ndarray] = direct) -> None:
                into.update(run_direct(out / "data", ckpt, cs, args.device))

            measure(results, f"{variant}.direct_", args.device, go)
        worst_abs, worst_rel = compare(run_folder, direct)
        emit(results, f"{variant}.max_abs_diff", worst_abs)
        emit(results, f"{variant}.max_rel_diff", worst_rel)
        emit(results, f"{variant}.diff_tolerance", tolerance)
        emit(results, f"{variant}.diff_ok", worst_rel <= tolerance)
    if args.no_latency:
        emit(results, "latency", "skipped (--no-latency)")
    elif not study:
        emit(results, "latency", "skipped (study not available)")
    else:
        latency(out, args.device, checkpoints, results)
    emit(results, "total_s", time.perf_counter() - started)
    (out / "summary.json").write_text(json.dumps(results, indent=1, default=str))
    return 0 if all(v for k, v in results.items() if k.endswith(".diff_ok")) else 1


if __name__ == "__main__":
    sys.exit(main())
