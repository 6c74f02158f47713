"""``toto-bench study long-horizon``: how coherent very long forecasts stay, on seeded sinusoid mixtures.

The data: ``n_series`` series of :mod:`.synthetic` (periods log-uniform from ``min_period`` to
``max_period`` steps, optional noise and trend; every parameter in the run record), each
``context_length + max(horizons)`` steps long. Per cell (model × decode mode × horizon ``H``) every series'
first ``context_length`` steps are the context and the next ``H`` the truth; one ``predict`` call forecasts
them all. The row:

- ``pearson_r``: the mean over series of the Pearson correlation between the median forecast and the truth
  (the paper's figure); ``pearson_r_min`` the worst series. A NaN forecast gives NaN (never skipped);
- ``MASE`` and ``CRPS`` (``mean_weighted_sum_quantile_loss``) of :func:`toto_bench.metrics.evaluate
  .evaluate_quantile_forecasts`, pooled over series, with the seasonal error of the context at lag 1
  (synthetic data has no calendar season);
- ``forward_passes`` of the call (hook count) and ``seconds``.

Outputs in ``<output-dir>/long-horizon/``: ``long_horizon.csv``, ``long_horizon.md`` (Pearson r, model ×
horizon, like the paper's table; then MASE and CRPS), ``long_horizon.svg`` (Pearson r vs horizon),
``forecasts/<cell>.svg`` (the first ``plot_series`` series: context tail, truth, median, 10-90% band, from
``forecasts/<cell>.npz``, kept so a resumed run still plots), ``config.json`` and the journal.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from toto_bench.adapters.common import resolve_device
from toto_bench.engine.resources import ResourceMonitor
from toto_bench.engine.store import EntryKey, ResultsStore, write_csv_atomic
from toto_bench.metrics.evaluate import evaluate_quantile_forecasts
from toto_bench.metrics.per_window import level_index
from toto_bench.metrics.seasonal import seasonal_errors
from toto_bench.studies.models import (
    ForwardCounter,
    StudyModel,
    decoder_module,
    load_study_model,
    parse_mode,
    precision,
    set_context,
)
from toto_bench.studies.plots import forecast_panel_svg, line_plot_svg
from toto_bench.studies.runs import cell_key, horizon_table, write_study_record
from toto_bench.studies.synthetic import MixtureSpec, generate_mixtures, pearson_r

__all__ = ["COLUMNS", "DEFAULT_HORIZONS", "LongHorizonOptions", "LongHorizonSummary", "run_long_horizon"]

DEFAULT_HORIZONS: tuple[int, ...] = (2048, 4096, 8192)
COLUMNS: tuple[str, ...] = (
    "model",
    "mode",
    "horizon",
    "context_length",
    "n_series",
    "device",
    "dtype",
    "random_init",
    "pearson_r",
    "pearson_r_min",
    "MASE",
    "CRPS",
    "forward_passes",
    "seconds",
)
STUDY = "long-horizon"
#: How many context steps a forecast plot shows before the horizon.
PLOT_CONTEXT = 512


@dataclass(frozen=True)
class LongHorizonOptions:
    """What ``toto-bench study long-horizon`` runs (every field is recorded in ``config.json``).

    Attributes:
        models: registered model names.
        output_dir: the studies root; the study writes ``<output_dir>/long-horizon/``.
        horizons: forecast lengths.
        modes: Toto 2.0 decode modes (``single``, ``block-N``); other models run ``native``.
        context_length: steps of history per series.
        n_series, n_components, min_period, max_period, noise, trend, seed: the generator
            (:class:`~toto_bench.studies.synthetic.MixtureSpec`).
        device, dtype, num_samples, random_init: as for the latency study.
        plot_series: series per forecast plot.
    """

    models: tuple[str, ...]
    output_dir: Path
    horizons: tuple[int, ...] = DEFAULT_HORIZONS
    modes: tuple[str, ...] = ("block-256",)
    context_length: int = 2048
    n_series: int = 8
    n_components: int = 4
    min_period: float = 24.0
    max_period: float = 4096.0
    noise: float = 0.0
    trend: float = 0.0
    seed: int = 0
    device: str = "auto"
    dtype: str = "float32"
    num_samples: int | None = None
    random_init: bool = False
    plot_series: int = 3
    progress: bool = field(default=True, compare=False)

    def __post_init__(self) -> None:
        if not self.horizons or min(self.horizons) < 1:
            raise ValueError(f"horizons must be positive integers, got {list(self.horizons)}")
        if self.context_length < 2:
            raise ValueError(f"context_length must be >= 2, got {self.context_length}")
        if not self.models:
            raise ValueError("no models given")
        for mode in self.modes:
            parse_mode(mode)
        self.mixture()  # validates the generator's parameters

    def mixture(self) -> MixtureSpec:
        """The generator spec: series of ``context_length + max(horizons)`` steps."""
        return MixtureSpec(
            n_series=self.n_series,
            length=self.context_length + max(self.horizons),
            n_components=self.n_components,
            min_period=self.min_period,
            max_period=self.max_period,
            noise=self.noise,
            trend=self.trend,
            seed=self.seed,
        )

    def record(self) -> dict[str, Any]:
        out = asdict(self)
        out["output_dir"] = str(self.output_dir)
        out.pop("progress")
        out["mixture"] = self.mixture().record()
        return out


@dataclass(frozen=True)
class LongHorizonSummary:
    """Where the study wrote its outputs and how many cells it computed / reused."""

    folder: Path
    csv: Path
    table: Path
    plot: Path
    forecast_plots: list[Path]
    record: Path
    computed: int
    reused: int


def _slug(cell: str) -> str:
    return re.sub(r"[^A-Za-z0-9.=-]+", "_", cell)


def _score(
    study: StudyModel, options: LongHorizonOptions, device: str, values: np.ndarray, horizon: int
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    model = study.model
    ctx = options.context_length
    set_context(model, ctx, horizon)
    contexts = [row[None, :ctx] for row in values]
    truth = values[:, ctx : ctx + horizon]  # [n, H]
    start = time.perf_counter()
    with ForwardCounter(decoder_module(model)) as counter, precision(device, options.dtype):
        forecast = model.predict(contexts, horizon, freq="h", seasonality=1)
    seconds = time.perf_counter() - start
    levels = tuple(forecast.levels)
    quantiles = np.asarray(forecast.quantiles, dtype=np.float64)  # [n, 1, H, Q]
    median = quantiles[:, 0, :, level_index(levels, 0.5)]
    r = pearson_r(median, truth)
    season = seasonal_errors(values[:, :ctx], np.array([ctx]), 1).T  # [n, 1]
    metrics = evaluate_quantile_forecasts(
        truth[:, None, :], quantiles, season, mean=forecast.mean, levels=levels
    )
    row = {
        "model": study.name,
        "mode": study.mode.name,
        "horizon": horizon,
        "context_length": ctx,
        "n_series": len(values),
        "device": device,
        "dtype": options.dtype,
        "random_init": study.random_init,
        "pearson_r": float(np.mean(r)),
        "pearson_r_min": float(np.min(r)),
        "MASE": metrics["MASE[0.5]"],
        "CRPS": metrics["mean_weighted_sum_quantile_loss"],
        "forward_passes": counter.count,
        "seconds": seconds,
    }
    k = min(options.plot_series, len(values))
    keep = {
        "context": values[:k, max(0, ctx - PLOT_CONTEXT) : ctx],
        "truth": truth[:k],
        "median": median[:k],
        "low": quantiles[:k, 0, :, level_index(levels, 0.1)],
        "high": quantiles[:k, 0, :, level_index(levels, 0.9)],
    }
    return row, keep


def _save(path: Path, keep: dict[str, np.ndarray]) -> None:
    np.savez(
        path,
        context=keep["context"],
        truth=keep["truth"],
        median=keep["median"],
        low=keep["low"],
        high=keep["high"],
    )


def _forecast_plot(path: Path, data: dict[str, np.ndarray], cell: str, r: np.ndarray) -> None:
    panels = [
        forecast_panel_svg(
            data["context"][i],
            data["truth"][i],
            data["median"][i],
            data["low"][i],
            data["high"][i],
            title=f"{cell} · series {i} · Pearson r {r[i]:.3f}",
        )
        for i in range(len(data["truth"]))
    ]
    path.write_text("\n".join(["<div class='study-forecasts'>", *panels, "</div>"]), encoding="utf-8")


def _table(frame: pd.DataFrame, value: str) -> pd.DataFrame:
    labels = [f"{m} · {d}" for m, d in zip(frame["model"], frame["mode"], strict=True)]
    return horizon_table(frame, value, labels, "model · mode")


def _write_outputs(folder: Path, frame: pd.DataFrame, options: LongHorizonOptions) -> tuple[Path, Path, Path]:
    csv = folder / "long_horizon.csv"
    write_csv_atomic(csv, frame)
    weights = "random-init weights" if options.random_init else "published weights"
    md = [
        f"# Long-horizon stability ({weights}, {options.n_series} sinusoid mixtures, seed {options.seed}, "
        f"context {options.context_length})",
        "",
        "## Pearson r of the median forecast vs the truth (mean over series)",
        "",
        _table(frame, "pearson_r").to_markdown(floatfmt=".3f"),
        "",
        "## MASE (lag-1 seasonal error)",
        "",
        _table(frame, "MASE").to_markdown(floatfmt=".3f"),
        "",
        "## CRPS (mean weighted sum quantile loss)",
        "",
        _table(frame, "CRPS").to_markdown(floatfmt=".4f"),
        "",
    ]
    table = folder / "long_horizon.md"
    table.write_text("\n".join(md), encoding="utf-8")
    lines = {
        f"{m} · {d}": (g["horizon"].tolist(), g["pearson_r"].tolist())
        for (m, d), g in frame.groupby(["model", "mode"], sort=False)
    }
    plot = folder / "long_horizon.svg"
    plot.write_text(
        line_plot_svg(
            lines,
            title=f"Pearson r vs horizon ({weights})",
            x_label="horizon H (steps)",
            y_label="Pearson r (median vs truth)",
            log_y=False,
        ),
        encoding="utf-8",
    )
    return csv, table, plot


def run_long_horizon(
    options: LongHorizonOptions, *, bar: Callable[..., Any] | None = None
) -> LongHorizonSummary:
    """Run (or resume) the long-horizon study; see the module docstring."""
    from toto_bench.adapters.registry import get_model_spec

    device = resolve_device(options.device)
    folder = Path(options.output_dir) / "long-horizon"
    store = ResultsStore(folder, COLUMNS)
    monitor = ResourceMonitor().start()
    values = generate_mixtures(options.mixture()).values
    cells = [
        (model, mode, h)
        for model in options.models
        for mode in (options.modes if get_model_spec(model).family == "toto2" else ("native",))
        for h in options.horizons
    ]
    data = options.mixture().record()
    keys: dict[tuple[str, str, int], EntryKey] = {}
    for model, mode, h in cells:
        settings = {
            "model": model,
            "mode": mode,
            "device": device,
            "dtype": options.dtype,
            "num_samples": options.num_samples,
            "random_init": options.random_init,
            "context_length": options.context_length,
        }
        keys[model, mode, h] = cell_key(f"{model}/{mode}/H={h}", settings, data)
    plots_dir = folder / "forecasts"
    pending = [
        c
        for c in cells
        if store.get(keys[c]) is None or not (plots_dir / f"{_slug(keys[c].config)}.npz").is_file()
    ]
    loaded: dict[str, Any] = {}
    progress = None
    if options.progress and pending:
        from tqdm.auto import tqdm

        progress = (bar or tqdm)(total=len(pending), desc="long-horizon", unit="cell")
    with tempfile.TemporaryDirectory(prefix="toto-bench-random-init-") as tmp:
        current: StudyModel | None = None
        for model, mode, h in pending:
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
            row, keep = _score(current, options, device, values, h)
            plots_dir.mkdir(parents=True, exist_ok=True)
            _save(plots_dir / f"{_slug(keys[model, mode, h].config)}.npz", keep)
            store.add(keys[model, mode, h], row)
            if progress is not None:
                progress.update(1)
                progress.set_postfix_str(f"{model} {mode} H={h}")
        store.sync()
        if progress is not None:
            progress.close()
        frame = pd.DataFrame(store.rows(keys[c] for c in cells), columns=list(COLUMNS))
        csv, table, plot = _write_outputs(folder, frame, options)
        figures = []
        for cell in cells:
            name = _slug(keys[cell].config)
            with np.load(plots_dir / f"{name}.npz") as npz:
                saved = {k: npz[k] for k in npz.files}
            figure = plots_dir / f"{name}.svg"
            _forecast_plot(figure, saved, keys[cell].config, pearson_r(saved["median"], saved["truth"]))
            figures.append(figure)
        record = write_study_record(
            folder, study=STUDY, options=options.record(), monitor=monitor, rows=len(frame), models=loaded
        )
    return LongHorizonSummary(
        folder, csv, table, plot, figures, record, len(pending), len(cells) - len(pending)
    )
