"""``toto-bench study latency``: forecast latency against the horizon, per model, decode mode and batch size.

Per cell (model × decode mode × horizon × batch size): ``B`` seeded sinusoid-mixture contexts of
``context_length`` steps (:mod:`.synthetic`), ``warmup`` untimed ``predict`` calls (the first one counts the
forward passes with a hook), then ``repeats`` timed calls, each between two device synchronisations. The
row: median / p10 / p90 latency per call (ms), the median per forecast step (``/ H``), the forward passes of
one call and the patch arithmetic's decoding steps per context (:func:`.models.expected_forward_passes`),
and the peak device memory of the timed calls (CUDA only; empty on CPU, where the run record has the peak
RSS). Toto 1.0's adapter decodes every context on its own, so its passes per call are ``B × steps``.

Outputs in ``<output-dir>/latency/``: ``latency.csv``, ``latency.md`` (median ms and forward passes,
model × horizon), ``latency.svg`` (latency vs horizon, one line per model/mode/batch, log axes),
``config.json`` and the journal that makes a rerun resume.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from toto_bench.adapters.common import resolve_device
from toto_bench.engine.resources import ResourceMonitor
from toto_bench.engine.store import EntryKey, ResultsStore, write_csv_atomic
from toto_bench.studies.models import (
    ForwardCounter,
    StudyModel,
    decoder_module,
    expected_forward_passes,
    load_study_model,
    parse_mode,
    precision,
    set_context,
)
from toto_bench.studies.plots import line_plot_svg
from toto_bench.studies.runs import cell_key, horizon_table, timed_call, write_study_record
from toto_bench.studies.synthetic import MixtureSpec, generate_mixtures

__all__ = ["COLUMNS", "DEFAULT_HORIZONS", "LatencyOptions", "LatencySummary", "latency_table", "run_latency"]

DEFAULT_HORIZONS: tuple[int, ...] = (96, 192, 336, 720, 1024, 2048, 4096)
COLUMNS: tuple[str, ...] = (
    "model",
    "mode",
    "horizon",
    "batch_size",
    "context_length",
    "device",
    "dtype",
    "random_init",
    "repeats",
    "latency_median_ms",
    "latency_p10_ms",
    "latency_p90_ms",
    "ms_per_step",
    "forward_passes",
    "decoding_steps",
    "peak_device_memory_mb",
)
STUDY = "latency"


@dataclass(frozen=True)
class LatencyOptions:
    """What ``toto-bench study latency`` runs (every field is recorded in ``config.json``).

    Attributes:
        models: registered model names.
        output_dir: the studies root; the study writes ``<output_dir>/latency/``.
        horizons: forecast lengths ``H``.
        modes: Toto 2.0 decode modes (``single``, ``block-N``); other models run ``native``.
        batch_sizes: contexts per call ``B``.
        context_length: steps of history per context.
        warmup, repeats: untimed and timed calls per cell.
        device, dtype: where and in which precision (``--dtype``: :data:`.models.DTYPES`).
        num_samples: Toto 1.0 sample paths (None: its default 256).
        random_init: random weights from the architectures' configs instead of the published checkpoints.
        seed: the contexts' generator seed.
    """

    models: tuple[str, ...]
    output_dir: Path
    horizons: tuple[int, ...] = DEFAULT_HORIZONS
    modes: tuple[str, ...] = ("single",)
    batch_sizes: tuple[int, ...] = (1,)
    context_length: int = 2048
    warmup: int = 2
    repeats: int = 10
    device: str = "auto"
    dtype: str = "float32"
    num_samples: int | None = None
    random_init: bool = False
    seed: int = 0
    progress: bool = field(default=True, compare=False)

    def __post_init__(self) -> None:
        for name in ("horizons", "batch_sizes"):
            bad = [v for v in getattr(self, name) if v < 1]
            if bad or not getattr(self, name):
                raise ValueError(f"{name} must be positive integers, got {list(getattr(self, name))}")
        if self.context_length < 1 or self.warmup < 1 or self.repeats < 1:
            raise ValueError(
                "context_length, warmup and repeats must be >= 1 (the first warm-up call counts the forward "
                f"passes), got {self.context_length}, {self.warmup}, {self.repeats}"
            )
        if not self.models:
            raise ValueError("no models given")
        for mode in self.modes:
            parse_mode(mode)

    def record(self) -> dict[str, Any]:
        out = asdict(self)
        out["output_dir"] = str(self.output_dir)
        out.pop("progress")
        return out


@dataclass(frozen=True)
class LatencySummary:
    """Where the study wrote its outputs and how many cells it computed / reused."""

    folder: Path
    csv: Path
    table: Path
    plot: Path
    record: Path
    computed: int
    reused: int


def _modes_for(model: str, modes: Sequence[str]) -> list[str]:
    from toto_bench.adapters.registry import get_model_spec

    return list(modes) if get_model_spec(model).family == "toto2" else ["native"]


def _cells(options: LatencyOptions) -> list[tuple[str, str, int, int]]:
    return [
        (model, mode, h, b)
        for model in options.models
        for mode in _modes_for(model, options.modes)
        for b in options.batch_sizes
        for h in options.horizons
    ]


def _contexts(options: LatencyOptions, batch: int) -> list[np.ndarray]:
    spec = MixtureSpec(n_series=batch, length=options.context_length, seed=options.seed)
    return [row[None, :] for row in generate_mixtures(spec).values]


def _measure(
    study: StudyModel, options: LatencyOptions, device: str, horizon: int, batch: int
) -> dict[str, Any]:
    model = study.model
    set_context(model, options.context_length, horizon)
    contexts = _contexts(options, batch)

    def call() -> Any:
        with precision(device, options.dtype):
            return model.predict(contexts, horizon, freq="h", seasonality=1)

    with ForwardCounter(decoder_module(model)) as counter:
        call()
    for _ in range(options.warmup - 1):
        call()
    cuda = device.startswith("cuda")
    if cuda:  # torch is there: resolve_device gives cuda only with it
        import torch

        torch.cuda.reset_peak_memory_stats(torch.device(device))
    seconds = np.array([timed_call(call, device)[0] for _ in range(options.repeats)])
    peak = torch.cuda.max_memory_allocated(torch.device(device)) / 2**20 if cuda else float("nan")
    ms = seconds * 1e3
    median = float(np.median(ms))
    return {
        "model": study.name,
        "mode": study.mode.name,
        "horizon": horizon,
        "batch_size": batch,
        "context_length": options.context_length,
        "device": device,
        "dtype": options.dtype,
        "random_init": study.random_init,
        "repeats": options.repeats,
        "latency_median_ms": median,
        "latency_p10_ms": float(np.percentile(ms, 10)),
        "latency_p90_ms": float(np.percentile(ms, 90)),
        "ms_per_step": median / horizon,
        "forward_passes": counter.count,
        "decoding_steps": expected_forward_passes(model, horizon),
        "peak_device_memory_mb": peak,
    }


def _label(row: pd.Series | dict[str, Any]) -> str:
    return f"{row['model']} · {row['mode']} · B={row['batch_size']}"


def latency_table(frame: pd.DataFrame, value: str = "latency_median_ms") -> pd.DataFrame:
    """``value`` pivoted to one row per model · mode · batch size and one column per horizon."""
    return horizon_table(frame, value, [_label(r) for _, r in frame.iterrows()], "model · mode · batch")


def _write_outputs(folder: Path, frame: pd.DataFrame, options: LatencyOptions) -> tuple[Path, Path, Path]:
    csv = folder / "latency.csv"
    write_csv_atomic(csv, frame)
    weights = "random-init weights" if options.random_init else "published weights"
    md = [
        f"# Latency vs horizon ({weights}, {frame['device'].iloc[0]}, {options.dtype}, context "
        f"{options.context_length}, median of {options.repeats} calls after {options.warmup} warm-up)",
        "",
        "## Median latency per call (ms)",
        "",
        latency_table(frame).to_markdown(floatfmt=".1f"),
        "",
        "## Forward passes per call",
        "",
        latency_table(frame, "forward_passes").to_markdown(floatfmt=".0f"),
        "",
    ]
    table = folder / "latency.md"
    table.write_text("\n".join(md), encoding="utf-8")
    lines = {
        _label(group.iloc[0]): (group["horizon"].tolist(), group["latency_median_ms"].tolist())
        for _, group in frame.groupby(["model", "mode", "batch_size"], sort=False)
    }
    plot = folder / "latency.svg"
    plot.write_text(
        line_plot_svg(
            lines,
            title=f"Latency vs horizon ({weights}, {frame['device'].iloc[0]})",
            x_label="horizon H (steps)",
            y_label="median latency per call (ms)",
        ),
        encoding="utf-8",
    )
    return csv, table, plot


def run_latency(options: LatencyOptions, *, bar: Callable[..., Any] | None = None) -> LatencySummary:
    """Run (or resume) the latency study; see the module docstring."""
    device = resolve_device(options.device)
    folder = Path(options.output_dir) / STUDY
    store = ResultsStore(folder, COLUMNS)
    monitor = ResourceMonitor().start()
    cells = _cells(options)
    keys: dict[tuple[str, str, int, int], EntryKey] = {}
    for model, mode, h, b in cells:
        settings = {
            **{k: v for k, v in options.record().items() if k not in ("models", "output_dir", "horizons")},
            "model": model,
            "mode": mode,
            "device": device,
            "modes": None,
            "batch_sizes": None,
        }
        keys[model, mode, h, b] = cell_key(f"{model}/{mode}/H={h}/B={b}", settings, {"seed": options.seed})
    pending = [cell for cell in cells if store.get(keys[cell]) is None]
    loaded: dict[str, Any] = {}
    progress = None
    if options.progress and pending:
        from tqdm.auto import tqdm

        progress = (bar or tqdm)(total=len(pending), desc="latency", unit="cell")
    with tempfile.TemporaryDirectory(prefix="toto-bench-random-init-") as tmp:
        current: StudyModel | None = None
        for model, mode, h, b in pending:
            if current is None or (current.name, current.mode.name) != (model, mode):
                current = load_study_model(
                    model,
                    parse_mode(mode),
                    device=device,
                    context_length=options.context_length,
                    random_init_dir=Path(tmp) if options.random_init else None,
                    num_samples=options.num_samples,
                )
                loaded[f"{model} · {mode}"] = current.model
            store.add(keys[model, mode, h, b], _measure(current, options, device, h, b))
            if progress is not None:
                progress.update(1)
                progress.set_postfix_str(f"{model} {mode} H={h} B={b}")
        store.sync()
        if progress is not None:
            progress.close()
        frame = pd.DataFrame(store.rows(keys[c] for c in cells), columns=list(COLUMNS))
        csv, table, plot = _write_outputs(folder, frame, options)
        record = write_study_record(
            folder, study=STUDY, options=options.record(), monitor=monitor, rows=len(frame), models=loaded
        )
    return LatencySummary(folder, csv, table, plot, record, len(pending), len(cells) - len(pending))
