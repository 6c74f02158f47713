"""A static HTML report of a suite (``toto-bench report``): one self-contained ``index.html``.

The page holds, in order:

- the board (:func:`toto_bench.boards.document.compute_board`, the same numbers as ``toto-bench leaderboard``)
  as a table sortable by clicking any column header (inline vanilla JS; numbers sort numerically, NaN last in
  both directions, a second click reverses; the state is in each header's ``aria-sort``);
- the breakdown tables (BOOM: ``full_benchmark``, ``real_term``, ``type``, ``domain``; GIFT-Eval: the
  space's ``domain``, ``term_length``, ``frequency``, ``variate_type`` tabs; LSF: per horizon),
  sortable the same way;
- rank plots (inline SVG): each model's mean rank per rank column as bars, and the distribution of its
  per-config ranks as a heat strip (one cell per rank 1..n, shaded by the share of configs);
- forecast plots (inline SVG) for chosen configs of runs saved with ``toto-bench run --save-forecasts``:
  per item and window, the context tail, the truth, the median and the shaded 10–90 % band.

Everything is inline (CSS, JS, SVG): the page makes no request and works from ``file://``. The output is
deterministic (no timestamps, no absolute paths beyond the ones given on the command line), so two builds
from the same inputs are byte-identical.

Forecast plot coordinates (what :func:`forecast_svg` draws), per panel: ``x`` = steps relative to the
forecast origin (context ``-L..-1``, horizon ``0..H-1``), mapped linearly from the domain
``[data-x0, data-x1]`` onto the frame rectangle (class ``frame``) left to right; ``y`` = series values,
mapped from ``[data-y0, data-y1]`` onto the frame bottom to top.
"""

from __future__ import annotations

import html
import json
import math
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from toto_bench.boards.document import (
    board_description,
    compute_board,
    fallback_notes,
    mark_fallbacks,
    suite_title,
)
from toto_bench.boards.leaderboard import Leaderboard
from toto_bench.engine.results import load_fallbacks
from toto_bench.studies.outputs import StudyOutput, read_study_outputs
from toto_bench.suites import DatasetSpec, Suite, get_suite, locate_properties
from toto_bench.suites.boom import BoomProperties

__all__ = [
    "DEFAULT_PLOT_CONFIGS",
    "DEFAULT_PLOT_ITEMS",
    "DEFAULT_PLOT_WINDOWS",
    "REPORT_FILENAME",
    "ForecastPanel",
    "StoredForecastsLike",
    "build_report",
    "forecast_svg",
    "html_page",
    "load_run_panels",
    "panels_from_forecasts",
    "rank_bars_svg",
    "rank_strip_svg",
    "sortable_table",
    "write_report",
]

REPORT_FILENAME = "index.html"
#: Forecast plots: configs of a run plotted when none is chosen (the first ones saved).
DEFAULT_PLOT_CONFIGS = 3
#: Forecast plots: items (series) per config, the first ones of the dataset.
DEFAULT_PLOT_ITEMS = 3
#: Forecast plots: windows per item, the last ones (latest forecast origins).
DEFAULT_PLOT_WINDOWS = 2
#: Quantile levels drawn: band low, median, band high.
BAND_LEVELS: tuple[float, float, float] = (0.1, 0.5, 0.9)

_STRIP_TITLES = {
    "nonflat": "Non-flat split: scaled-CRPS rank per config",
    "flat": "Flat split: CRPS rank per config",
    "MASE": "MASE rank per config",
    "CRPS": "CRPS rank per config",
}

Warn = Callable[[str], None]


# --------------------------------------------------------------------------------------------------
# forecasts


class StoredForecastsLike(Protocol):
    """What the plots read of :class:`toto_bench.engine.forecasts.StoredForecasts` (one config of one run)."""

    @property
    def config(self) -> str: ...
    @property
    def levels(self) -> tuple[float, ...]: ...
    @property
    def item_ids(self) -> list[str]: ...
    @property
    def offsets(self) -> np.ndarray: ...
    @property
    def cuts(self) -> np.ndarray: ...
    @property
    def quantiles(self) -> np.ndarray: ...


@dataclass(frozen=True)
class ForecastPanel:
    """One small multiple: one variate of one series around one forecast origin.

    Attributes:
        model: the run's model name (its folder name).
        suite: the run's suite (from its ``config.json``).
        config: the config key (``ett1/H/short``).
        item_id: the series' stored id.
        window: window number within the series (0 = earliest origin).
        cut: the forecast origin, an index into the series' time axis.
        variate: the variate shown; ``n_variates`` how many the series has.
        context: ``[L]`` the last ``L`` observed values before the origin (x = ``-L..-1``).
        truth: ``[H']`` observed values from the origin on (x = ``0..H'-1``; ``H' ≤ H``).
        low, median, high: ``[H]`` the 0.1, 0.5 and 0.9 quantiles (x = ``0..H-1``).
    """

    model: str
    suite: str
    config: str
    item_id: str
    window: int
    cut: int
    variate: int
    n_variates: int
    context: np.ndarray
    truth: np.ndarray
    low: np.ndarray
    median: np.ndarray
    high: np.ndarray

    @property
    def title(self) -> str:
        var = f" · variate {self.variate + 1}/{self.n_variates}" if self.n_variates > 1 else ""
        return f"{self.config} · item {self.item_id} · window {self.window} (origin t={self.cut}){var}"


def _level_index(levels: Sequence[float], level: float, config: str) -> int:
    for i, value in enumerate(levels):
        if math.isclose(float(value), level, abs_tol=1e-9):
            return i
    raise ValueError(
        f"stored forecasts of {config!r} have no {level} quantile (levels {list(levels)}); "
        f"the plots need {list(BAND_LEVELS)}"
    )


def context_tail(horizon: int, cut: int) -> int:
    """How many context points a panel shows: ``3·H`` (at least 48, at most 2000), never more than exist."""
    return int(min(cut, max(3 * horizon, 48), 2000))


def panels_from_forecasts(
    stored: StoredForecastsLike,
    targets: Mapping[int, np.ndarray],
    *,
    model: str,
    suite: str,
    windows: int = DEFAULT_PLOT_WINDOWS,
    variate: int = 0,
) -> list[ForecastPanel]:
    """The panels of the series in ``targets`` (series index → ``target [V, T]``), last ``windows`` each.

    Series are taken in index order; a series' windows in origin order.

    Raises:
        ValueError: a series index outside the stored forecasts, a target whose variate count differs from
            the forecasts', or levels without 0.1/0.5/0.9.
    """
    lo_i, med_i, hi_i = (_level_index(stored.levels, lv, stored.config) for lv in BAND_LEVELS)
    n_series = len(stored.offsets) - 1
    horizon = int(stored.quantiles.shape[2])
    out = []
    for s in sorted(targets):
        if not 0 <= s < n_series:
            raise ValueError(f"series index {s} outside the {n_series} series of {stored.config!r}")
        target = np.asarray(targets[s])
        n_var = int(stored.quantiles.shape[1])
        if target.ndim != 2 or target.shape[0] != n_var:
            raise ValueError(
                f"{stored.config!r} item {stored.item_ids[s]!r}: target shape {target.shape} does not match "
                f"the forecasts' {n_var} variate(s)"
            )
        first, stop = int(stored.offsets[s]), int(stored.offsets[s + 1])
        for row in range(max(first, stop - windows), stop):
            cut = int(stored.cuts[row])
            tail = context_tail(horizon, cut)
            q = np.asarray(stored.quantiles[row, variate], dtype=np.float64)  # [H, Q]
            out.append(
                ForecastPanel(
                    model=model,
                    suite=suite,
                    config=stored.config,
                    item_id=str(stored.item_ids[s]),
                    window=row - first,
                    cut=cut,
                    variate=variate,
                    n_variates=n_var,
                    context=np.asarray(target[variate, cut - tail : cut], dtype=np.float64),
                    truth=np.asarray(target[variate, cut : cut + horizon], dtype=np.float64),
                    low=q[:, lo_i],
                    median=q[:, med_i],
                    high=q[:, hi_i],
                )
            )
    return out


def _find_spec(suite: Suite, config: str) -> DatasetSpec:
    for spec in suite.datasets:
        for term in spec.terms:
            if suite.config_name(spec.storage_name, term, None) == config:
                return spec
    raise ValueError(f"config {config!r} is not in the {suite.name} suite")


def _read_targets(
    suite: Suite,
    data_dir: str | os.PathLike[str] | None,
    config: str,
    positions: Mapping[int, int],
    item_ids: Sequence[str],
) -> dict[int, np.ndarray]:
    """``{stored series s: target [V, T]}`` from the data (``positions``: s → position in the dataset)."""
    from toto_bench.engine.runner import RunOptions, make_protocol

    protocol = make_protocol(suite, RunOptions(data_dir=data_dir, progress=False))
    root = protocol.data_root(data_dir)
    spec = _find_spec(suite, config)
    data = protocol.open(root, spec)
    by_position = {p: s for s, p in positions.items()}
    out: dict[int, np.ndarray] = {}
    for position, series in enumerate(data):
        s = by_position.get(position)
        if s is not None:
            if str(series.item_id) != str(item_ids[s]):
                raise ValueError(
                    f"{config!r}: series {position} of {root / spec.storage_name} is {series.item_id!r}, but "
                    f"the forecasts were saved for {item_ids[s]!r}; is --data-dir the data the run used?"
                )
            out[s] = series.target
        if len(out) == len(by_position):
            break
    if len(out) < len(by_position):
        raise ValueError(f"{config!r}: the data under {root} has fewer series than the saved forecasts")
    return out


def _run_suite(run_folder: Path, default: str) -> tuple[str, str | None]:
    """The suite and data folder recorded in the run's ``config.json`` (else ``default`` and ``None``)."""
    record = run_folder / "config.json"
    if not record.is_file():
        return default, None
    meta = json.loads(record.read_text())
    return str(meta.get("suite") or default), meta.get("data_dir")


def load_run_panels(
    run_folder: Path,
    *,
    suite: str,
    configs: Sequence[str] | None = None,
    items: int = DEFAULT_PLOT_ITEMS,
    windows: int = DEFAULT_PLOT_WINDOWS,
    data_dir: str | os.PathLike[str] | None = None,
    properties: Path | None = None,
) -> list[ForecastPanel]:
    """Panels of a run saved with ``--save-forecasts`` (``<results>/<suite>/<model>``).

    The run's suite and data folder come from its ``config.json`` when present (``suite`` and ``data_dir``
    are defaults); context and truth are read from the data with the suite's protocol hooks (LSF: the
    z-scored values the model saw). Items are the first ``items`` series with a window, in dataset order
    (the stored ``series_index`` locates them in the data).

    Raises:
        RunError: no forecasts saved, a chosen config without saved forecasts (the saved ones are named);
        ValueError:
            data that does not match the forecasts.
    """
    from toto_bench.engine.forecasts import forecasts_path, read_forecast_file, require_saved_configs

    run_folder = Path(run_folder)
    saved = require_saved_configs(run_folder, configs)
    chosen = list(configs) if configs else saved[:DEFAULT_PLOT_CONFIGS]
    run_suite_name, recorded_dir = _run_suite(run_folder, suite)
    where = data_dir if data_dir is not None else recorded_dir
    props = None
    if run_suite_name in ("boom", "boomlet"):
        given = properties if run_suite_name == suite else None  # the board's file is for the board's suite
        path = given or locate_properties(run_suite_name, data_dir=where, results_dirs=[run_folder.parent])
        props = BoomProperties.from_json(path)
    suite_obj = get_suite(run_suite_name, props)
    panels: list[ForecastPanel] = []
    for config in chosen:
        saved_file = read_forecast_file(forecasts_path(run_folder, config))
        stored = saved_file.forecasts
        positions = {s: int(saved_file.series_index[s]) for s in range(min(items, len(stored.item_ids)))}
        targets = _read_targets(suite_obj, where, config, positions, stored.item_ids)
        panels += panels_from_forecasts(
            stored, targets, model=run_folder.name, suite=run_suite_name, windows=windows
        )
    return panels


# --------------------------------------------------------------------------------------------------
# SVG


def _f2(value: float) -> str:
    return f"{value:.2f}"


def _tick(value: float) -> str:
    return f"{value:.4g}"


def _segments(xs: np.ndarray, ys: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Runs of consecutive finite ``ys`` (a NaN breaks the line)."""
    finite = np.isfinite(ys)
    start = None
    for i, ok in enumerate([*finite.tolist(), False]):
        if ok and start is None:
            start = i
        elif not ok and start is not None:
            yield xs[start:i], ys[start:i]
            start = None


def _domain(values: Iterable[np.ndarray]) -> tuple[float, float]:
    finite = [v[np.isfinite(v)] for v in values]
    pool = np.concatenate(finite) if finite else np.array([])
    if pool.size == 0:
        return -1.0, 1.0
    lo, hi = float(pool.min()), float(pool.max())
    if hi == lo:
        pad = max(abs(lo) * 0.1, 1.0)
        return lo - pad, hi + pad
    pad = 0.05 * (hi - lo)
    return lo - pad, hi + pad


#: Forecast panel geometry (pixels): size and frame margins.
PANEL_W, PANEL_H = 340, 180
_LEFT, _RIGHT, _TOP, _BOTTOM = 56, 8, 8, 24


def forecast_svg(panel: ForecastPanel) -> str:
    """One panel as an inline ``<svg>`` (coordinates in the module docstring).

    Elements: ``rect.frame``, ``polygon.band`` (10–90 %, one per finite run), ``polyline.context``,
    ``polyline.truth``, ``polyline.median`` (one per finite run; NaN breaks a line), ``line.origin``.
    """
    horizon = len(panel.median)
    tail = len(panel.context)
    x0, x1 = float(-tail), float(max(horizon - 1, 0))
    if x1 == x0:
        x0, x1 = x0 - 0.5, x1 + 0.5
    y0, y1 = _domain([panel.context, panel.truth, panel.low, panel.median, panel.high])
    pw, ph = PANEL_W - _LEFT - _RIGHT, PANEL_H - _TOP - _BOTTOM

    def px(x: np.ndarray) -> np.ndarray:
        return _LEFT + (x - x0) / (x1 - x0) * pw

    def py(y: np.ndarray) -> np.ndarray:
        return _TOP + (y1 - y) / (y1 - y0) * ph

    def points(xs: np.ndarray, ys: np.ndarray) -> str:
        return " ".join(f"{_f2(a)},{_f2(b)}" for a, b in zip(px(xs), py(ys), strict=True))

    title = html.escape(f"{panel.model} · {panel.title}")
    parts = [
        f'<svg class="forecast-plot" xmlns="http://www.w3.org/2000/svg" width="{PANEL_W}" height="{PANEL_H}" '
        f'viewBox="0 0 {PANEL_W} {PANEL_H}" role="img" data-x0="{x0!r}" data-x1="{x1!r}" '
        f'data-y0="{y0!r}" data-y1="{y1!r}"><title>{title}</title>',
        f'<rect class="frame" x="{_LEFT}" y="{_TOP}" width="{pw}" height="{ph}"/>',
    ]
    for frac in (0.0, 0.5, 1.0):  # y ticks: bottom, middle, top of the domain
        value = y0 + frac * (y1 - y0)
        ypix = _TOP + (1 - frac) * ph
        parts.append(
            f'<line class="grid" x1="{_LEFT}" x2="{_LEFT + pw}" y1="{_f2(ypix)}" y2="{_f2(ypix)}"/>'
            f'<text class="tick" x="{_LEFT - 4}" y="{_f2(ypix + 3)}" text-anchor="end">'
            f"{html.escape(_tick(value))}</text>"
        )
    xs_h = np.arange(horizon, dtype=np.float64)
    lo_hi_ok = np.isfinite(panel.low) & np.isfinite(panel.high)
    for xs, _ in _segments(xs_h, np.where(lo_hi_ok, 0.0, np.nan)):
        idx = xs.astype(np.int64)
        ring = np.concatenate([xs, xs[::-1]]), np.concatenate([panel.low[idx], panel.high[idx][::-1]])
        parts.append(f'<polygon class="band" points="{points(*ring)}"/>')
    origin = _f2(float(px(np.array([-0.5]))[0])) if tail else _f2(_LEFT)
    parts.append(f'<line class="origin" x1="{origin}" x2="{origin}" y1="{_TOP}" y2="{_TOP + ph}"/>')
    series = (
        ("context", np.arange(-tail, 0, dtype=np.float64), panel.context),
        ("truth", np.arange(len(panel.truth), dtype=np.float64), panel.truth),
        ("median", xs_h, panel.median),
    )
    for cls, xs, ys in series:
        for seg_x, seg_y in _segments(xs, ys):
            parts.append(f'<polyline class="{cls}" points="{points(seg_x, seg_y)}"/>')
    base = _TOP + ph + 16
    labels = ((_LEFT, "start", f"t{-tail:+d}" if tail else "t+0"), (float(origin), "middle", "origin"))
    for x, anchor, text in (*labels, (_LEFT + pw, "end", f"t+{horizon - 1}")):
        parts.append(f'<text class="tick" x="{_f2(x)}" y="{base}" text-anchor="{anchor}">{text}</text>')
    parts.append("</svg>")
    return "".join(parts)


def rank_bars_svg(table: pd.DataFrame, column: str, *, n_models: int) -> str:
    """Horizontal bars of each model's mean rank in ``column`` (best first; the axis spans 1..n)."""
    rows = table[["model", column]].sort_values(column, kind="mergesort", na_position="last")
    label_w, bar_w, row_h, top = 150, 300, 16, 22
    height = top + row_h * len(rows) + 8
    width = label_w + bar_w + 60
    parts = [
        f'<svg class="rank-bars" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img"><title>{html.escape(column)}: mean rank per model '
        f"(lower is better)</title>",
        f'<text class="caption" x="0" y="14">{html.escape(column)} — mean rank '
        f"(1 = best of {n_models})</text>",
    ]
    for i, (model, value) in enumerate(zip(rows["model"], rows[column], strict=True)):
        y = top + i * row_h
        name = html.escape(str(model))
        parts.append(f'<text class="label" x="{label_w - 6}" y="{y + 12}" text-anchor="end">{name}</text>')
        if np.isfinite(value):
            w = bar_w * float(value) / max(n_models, 1)
            parts.append(
                f'<rect class="bar" x="{label_w}" y="{y + 2}" width="{_f2(w)}" height="{row_h - 4}">'
                f"<title>{name}: {value:.3f}</title></rect>"
                f'<text class="value" x="{_f2(label_w + w + 4)}" y="{y + 12}">{value:.2f}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def rank_strip_svg(ranks: pd.DataFrame, title: str, *, models: Sequence[str]) -> str:
    """Per model (rows, ``models`` order), the share of configs at each rank 1..n (``ranks``: config × model).

    A cell's opacity is the share of the model's configs at that rank divided by the largest share on the
    plot; fractional ranks (``--ties average``) are rounded to the nearest rank.
    """
    n = len(models)
    counts = np.zeros((n, n), dtype=np.int64)
    for i, model in enumerate(models):
        values = ranks[model].to_numpy(dtype=np.float64)
        values = values[np.isfinite(values)]
        binned = np.clip(np.rint(values).astype(np.int64), 1, n)
        counts[i] = np.bincount(binned - 1, minlength=n)
    n_configs = len(ranks)
    top_share = counts.max() / n_configs if n_configs and counts.max() else 1.0
    label_w, cell, top = 150, 14, 34
    width, height = label_w + cell * n + 10, top + cell * n + 8
    parts = [
        f'<svg class="rank-strip" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img"><title>{html.escape(title)}</title>',
        f'<text class="caption" x="0" y="14">{html.escape(title)} ({n_configs} configs)</text>',
    ]
    for k in (1, n):
        x = label_w + (k - 0.5) * cell
        parts.append(f'<text class="tick" x="{_f2(x)}" y="{top - 4}" text-anchor="middle">{k}</text>')
    for i, model in enumerate(models):
        y = top + i * cell
        name = html.escape(str(model))
        parts.append(f'<text class="label" x="{label_w - 6}" y="{y + 11}" text-anchor="end">{name}</text>')
        for k in range(n):
            c = int(counts[i, k])
            if c == 0:
                continue
            share = c / n_configs
            parts.append(
                f'<rect class="cell" x="{label_w + k * cell}" y="{y}" width="{cell - 1}" height="{cell - 1}" '
                f'fill-opacity="{share / top_share:.3f}"><title>{name}: rank {k + 1} on {c} of '
                f"{n_configs} configs ({100 * share:.1f} %)</title></rect>"
            )
    parts.append("</svg>")
    return "".join(parts)


# --------------------------------------------------------------------------------------------------
# HTML


def _cell(value: Any) -> tuple[str, str]:
    """(``data-value``, displayed text) of a table cell."""
    if isinstance(value, bool | np.bool_):
        return str(value), str(value)
    if isinstance(value, int | np.integer):
        return str(int(value)), str(int(value))
    if isinstance(value, float | np.floating):
        v = float(value)
        if math.isnan(v):
            return "NaN", "NaN"
        if math.isinf(v):
            return ("Infinity" if v > 0 else "-Infinity"), ("inf" if v > 0 else "-inf")
        return repr(v), _display(v)
    return str(value), str(value)


def _display(value: float) -> str:
    """3 decimals as the published tables, 3 significant digits below 0.01 (flat-split MAE ~ 1e-4)."""
    if value == 0 or abs(value) >= 0.01:
        return f"{value:.3f}"
    return f"{value:#.3g}"


def sortable_table(table: pd.DataFrame, *, table_id: str, caption: str = "") -> str:
    """``table`` (RangeIndex; first column = row label) as an HTML table sortable by any header.

    Numeric columns get ``data-type="number"``; every cell keeps its full value in ``data-value`` and shows
    it rounded to 3 decimals, as the published tables.
    """
    numeric = [
        pd.api.types.is_numeric_dtype(table[c]) and not pd.api.types.is_bool_dtype(table[c])
        for c in table.columns
    ]
    head = []
    for i, (col, num) in enumerate(zip(table.columns, numeric, strict=True)):
        kind = "number" if num else "text"
        head.append(
            f'<th scope="col" data-col="{i}" data-type="{kind}" aria-sort="none" tabindex="0" '
            f'title="sort by {html.escape(str(col))}">{html.escape(str(col))}</th>'
        )
    body = []
    for row in table.itertuples(index=False, name=None):
        cells = []
        for j, value in enumerate(row):
            data, text = _cell(value)
            tag = "th" if j == 0 else "td"
            scope = ' scope="row"' if j == 0 else ""
            cells.append(f'<{tag}{scope} data-value="{html.escape(data)}">{html.escape(text)}</{tag}>')
        body.append(f'<tr data-key="{html.escape(_cell(row[0])[0])}">' + "".join(cells) + "</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return (
        f'<table class="sortable" id="{html.escape(table_id)}">{cap}<thead><tr>{"".join(head)}</tr></thead>'
        "<tbody>\n" + "\n".join(body) + "\n</tbody></table>"
    )


_CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5rem 2rem; color: #222; max-width: 1400px; }
h1 { margin-bottom: .3rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
nav a { margin-right: 1rem; }
table { border-collapse: collapse; margin: .6rem 0 1.4rem; font-size: .85rem; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; }
th, td { border: 1px solid #ccc; padding: .25rem .55rem; text-align: right; white-space: nowrap; }
thead th { background: #eef1f5; cursor: pointer; user-select: none; }
thead th:hover, thead th:focus { background: #dde4ee; }
thead th[aria-sort="ascending"]::after { content: " \\25B2"; }
thead th[aria-sort="descending"]::after { content: " \\25BC"; }
tbody th, thead th:first-child { text-align: left; } tbody th { font-weight: normal; }
tbody tr:nth-child(even) td, tbody tr:nth-child(even) th { background: #f8f8f8; }
.tables { display: flex; flex-wrap: wrap; gap: 0 2rem; }
.plots { display: flex; flex-wrap: wrap; gap: 1rem 2rem; align-items: flex-start; }
figure { margin: 0; } figcaption { font-size: .75rem; color: #444; max-width: 340px; }
svg text { font-size: 10px; fill: #333; } svg .caption { font-size: 12px; font-weight: 600; }
.rank-bars .bar { fill: #4c78a8; } .rank-strip .cell { fill: #4c78a8; }
.forecast-plot .frame { fill: #fff; stroke: #bbb; } .forecast-plot .grid { stroke: #eee; }
.forecast-plot .band { fill: #4c78a8; fill-opacity: .25; stroke: none; }
.forecast-plot polyline { fill: none; stroke-width: 1.3; }
.forecast-plot .context { stroke: #555; } .forecast-plot .truth { stroke: #111; stroke-dasharray: 3 2; }
.forecast-plot .median { stroke: #1f5fa8; stroke-width: 1.6; }
.forecast-plot .origin { stroke: #c33; stroke-dasharray: 2 2; }
.legend span { margin-right: 1.2rem; font-size: .85rem; }
.swatch { display: inline-block; width: 1.6rem; height: .6rem; margin-right: .3rem; vertical-align: middle; }
.note { color: #555; font-size: .85rem; }
"""

# Click (or Enter/Space on) a header: ascending, again: descending. NaN last both ways; stable for ties.
_JS = """
"use strict";
(function () {
  function key(cell, numeric) {
    var raw = cell.getAttribute("data-value");
    if (raw === null) { raw = cell.textContent.trim(); }
    return numeric ? parseFloat(raw) : raw;
  }
  function sortTable(table, th) {
    var col = parseInt(th.getAttribute("data-col"), 10);
    var numeric = th.getAttribute("data-type") === "number";
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[col], numeric), y = key(b.cells[col], numeric);
      if (numeric) {
        var xn = isNaN(x), yn = isNaN(y);
        if (xn || yn) { return xn === yn ? 0 : (xn ? 1 : -1); }
        return ascending ? x - y : y - x;
      }
      var c = x < y ? -1 : (x > y ? 1 : 0);
      return ascending ? c : -c;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) {
      h.setAttribute("aria-sort", h === th ? (ascending ? "ascending" : "descending") : "none");
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      th.addEventListener("click", function () { sortTable(table, th); });
      th.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sortTable(table, th); }
      });
    });
  });
}());
"""


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")


def _intro(suite: str, board: Leaderboard, results_dirs: Sequence[str | os.PathLike[str]]) -> str:
    dirs = ", ".join(str(d) for d in results_dirs)
    text = (
        f"{len(board.model_order)} models from {dirs}. The numbers are those of toto-bench leaderboard "
        f"--suite {suite} (see docs/leaderboards.md); click a column header to sort, click again to reverse."
    )
    return text + board_description(suite, board)


_GIFT_EVAL_METRIC_CAPTIONS = {
    "MASE": "MASE (normalised, gmean)",
    "CRPS": "CRPS (normalised, gmean)",
    "CRPS_Rank": "CRPS rank (mean over configs, ranked over all models)",
}


def _breakdown_tables(suite: str, board: Leaderboard) -> list[tuple[str, pd.DataFrame]]:
    out = []
    for group, (mase, crps) in board.breakdowns.items():
        for metric, frame in (("MASE", mase), ("CRPS", crps)):
            table = frame.reset_index()
            table.columns = [str(c) for c in table.columns]
            out.append((f"{group}: {metric} (scaled, shifted gmean)", table))
    for group, tables in board.metric_breakdowns.items():  # GIFT-Eval: the space's tabs
        for metric, frame in tables.items():
            table = frame.reset_index()
            table.columns = [str(c) for c in table.columns]
            out.append((f"{group}: {_GIFT_EVAL_METRIC_CAPTIONS[metric]}", table))
    if suite == "lsf" and "per_horizon" in board.config_values:
        out.append(("per horizon", board.config_values["per_horizon"].reset_index(drop=True)))
    return out


def _rank_section(board: Leaderboard) -> list[str]:
    table = board.table
    n = len(table)
    parts = []
    rank_columns = [c for c in table.columns if "rank" in str(c).lower()]
    for column in rank_columns:
        parts.append(f"<figure>{rank_bars_svg(table, str(column), n_models=n)}</figure>")
    models = [str(m) for m in table["model"]] if "model" in table.columns else []
    for name, ranks in board.config_ranks.items():
        if models and set(models) <= set(map(str, ranks.columns)):
            title = _STRIP_TITLES.get(name, f"{name} rank per config")
            parts.append(f"<figure>{rank_strip_svg(ranks, title, models=models)}</figure>")
    return parts


def _forecast_section(panels: Sequence[ForecastPanel], suite: str) -> list[str]:
    legend = (
        '<p class="legend"><span><span class="swatch" style="background:#555;height:2px"></span>context'
        '</span><span><span class="swatch" style="border-top:2px dashed #111;height:0"></span>truth</span>'
        '<span><span class="swatch" style="background:#1f5fa8;height:2px"></span>median</span>'
        '<span><span class="swatch" style="background:rgba(76,120,168,.25)"></span>10–90 % band</span>'
        '<span><span class="swatch" style="border-top:2px dashed #c33;height:0"></span>forecast origin'
        "</span></p>"
    )
    parts = [legend]
    groups: dict[tuple[str, str, str], list[ForecastPanel]] = {}
    for panel in panels:
        groups.setdefault((panel.model, panel.suite, panel.config), []).append(panel)
    for (model, run_suite, config), group in groups.items():
        other = f" ({run_suite} run)" if run_suite != suite else ""
        heading = html.escape(f"{model}{other} · {config}")
        parts.append(f'<h3>{heading}</h3><div class="plots">')
        for panel in group:
            parts.append(
                f'<figure class="forecast">{forecast_svg(panel)}'
                f"<figcaption>{html.escape(panel.title)}</figcaption></figure>"
            )
        parts.append("</div>")
    return parts


def _study_section(studies: Sequence[StudyOutput]) -> list[str]:
    parts = []
    for study in studies:
        parts.append(f'<figure class="study" id="study-{_slug(study.study)}">{study.svg}</figure>')
        parts.append(sortable_table(study.table, table_id=f"study-{_slug(study.study)}", caption=study.title))
    return parts


def build_report(
    *,
    suite: str,
    board: Leaderboard,
    results_dirs: Sequence[str | os.PathLike[str]],
    panels: Sequence[ForecastPanel] = (),
    studies: Sequence[StudyOutput] = (),
) -> str:
    """The page (``index.html`` text) for a computed ``board``, forecast ``panels`` and study outputs."""
    title = f"{suite_title(suite)} report"
    fallbacks = load_fallbacks(results_dirs)
    nav = [("leaderboard", "Leaderboard")]
    breakdowns = _breakdown_tables(suite, board)
    if breakdowns:
        nav.append(("breakdowns", "Breakdowns"))
    ranks = _rank_section(board)
    if ranks:
        nav.append(("ranks", "Rank plots"))
    if panels:
        nav.append(("forecasts", "Forecasts"))
    if studies:
        nav.append(("studies", "Studies"))
    body = [
        f"<header><h1>{html.escape(title)}</h1>",
        "<nav>" + "".join(f'<a href="#{a}">{html.escape(t)}</a>' for a, t in nav) + "</nav>",
        f"<p>{html.escape(_intro(suite, board, results_dirs))}</p></header><main>",
        '<section id="leaderboard"><h2>Leaderboard</h2>',
        sortable_table(mark_fallbacks(board.table, fallbacks), table_id="board"),
        "</section>",
    ]
    if breakdowns:
        body.append('<section id="breakdowns"><h2>Breakdowns</h2><div class="tables">')
        for caption, table in breakdowns:
            body.append(sortable_table(table, table_id=f"breakdown-{_slug(caption)}", caption=caption))
        body.append("</div></section>")
    if ranks:
        body.append('<section id="ranks"><h2>Rank plots</h2><div class="plots">')
        body += ranks
        body.append("</div></section>")
    if panels:
        body.append('<section id="forecasts"><h2>Forecasts</h2>')
        body += _forecast_section(panels, suite)
        body.append("</section>")
    if studies:
        body.append('<section id="studies"><h2>Studies</h2><div class="plots">')
        body += _study_section(studies)
        body.append("</div></section>")
    notes = [f"Rank ties: {board.ties}.", "Model order for ties: " + ", ".join(board.model_order) + "."]
    imputed = int(board.imputed.to_numpy().sum()) if not board.imputed.empty else 0
    if imputed:
        notes.append(f"{imputed} NaN/inf cells imputed (see the notes of toto-bench leaderboard).")
    notes += [n.replace("`", "") for n in fallback_notes(fallbacks, board.model_order)]
    body.append('<section id="notes"><h2>Notes</h2><ul class="note">')
    body += [f"<li>{html.escape(n)}</li>" for n in notes]
    body.append("</ul></section></main>")
    return html_page(title, "\n".join(body))


def html_page(title: str, body: str) -> str:
    """A standalone page: ``body`` (HTML) with the report's inline CSS and table-sorting script."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{html.escape(title)}</title><link rel="icon" href="data:,"><style>{_CSS}</style></head>\n'
        f"<body>\n{body}\n<script>{_JS}</script>\n</body></html>\n"
    )


def write_report(
    *,
    suite: str,
    results_dirs: Sequence[str | os.PathLike[str]],
    output: Path,
    properties: Path | None = None,
    ties: str = "first",
    partial: bool = False,
    forecasts: Sequence[Path] = (),
    plot_configs: Sequence[str] | None = None,
    plot_items: int = DEFAULT_PLOT_ITEMS,
    plot_windows: int = DEFAULT_PLOT_WINDOWS,
    data_dir: str | os.PathLike[str] | None = None,
    warn: Warn | None = None,
    studies_dir: Path | None = None,
) -> Path:
    """Compute the board of ``suite`` and write ``<output>/index.html``; returns its path.

    ``forecasts``: run folders (``<results>/<suite>/<model>``) saved with ``--save-forecasts``, plotted for
    ``plot_configs`` (default: the first saved ones); see :func:`load_run_panels`. ``studies_dir``: the
    ``--output-dir`` of ``toto-bench study`` (or one study's folder); its plots and tables get a section.

    Raises:
        ResultsError, ValueError: as ``toto-bench leaderboard``, plus bad forecast choices.
    """
    if plot_items < 1 or plot_windows < 1:
        raise ValueError(f"--plot-items and --plot-windows must be ≥ 1, got {plot_items}, {plot_windows}")
    board = compute_board(suite, results_dirs, properties=properties, ties=ties, partial=partial, warn=warn)
    panels: list[ForecastPanel] = []
    for run_folder in forecasts:
        panels += load_run_panels(
            Path(run_folder),
            suite=suite,
            configs=plot_configs,
            items=plot_items,
            windows=plot_windows,
            data_dir=data_dir,
            properties=properties,
        )
    studies = read_study_outputs(Path(studies_dir)) if studies_dir is not None else []
    text = build_report(suite=suite, board=board, results_dirs=results_dirs, panels=panels, studies=studies)
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    target = output / REPORT_FILENAME
    target.write_text(text, encoding="utf-8")
    return target
