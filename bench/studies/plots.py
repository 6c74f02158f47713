"""Hand-written SVG for the studies (no plotting dependency): lines on log axes, forecast panels."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["PALETTE", "forecast_panel_svg", "line_plot_svg"]

PALETTE: tuple[str, ...] = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#7f7f7f",
    "#bcbd22",
)
_W, _H = 640, 400
_L, _R, _T, _B = 70, 190, 30, 50  # margins; the legend sits in the right one


def _axis(values: Sequence[float], log: bool) -> tuple[float, float]:
    arr = np.asarray([v for v in values if np.isfinite(v) and (v > 0 or not log)], dtype=np.float64)
    if arr.size == 0:
        return (0.0, 1.0)
    lo, hi = (np.log10(arr.min()), np.log10(arr.max())) if log else (float(arr.min()), float(arr.max()))
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    pad = 0.04 * (hi - lo)
    return float(lo - pad), float(hi + pad)


def _ticks(lo: float, hi: float, log: bool) -> list[tuple[float, str]]:
    if log:
        out = []
        for e in range(math.floor(lo), math.ceil(hi) + 1):
            for m in (1, 2, 5):
                v = math.log10(m) + e
                if lo <= v <= hi:
                    out.append((v, f"{m * 10.0**e:g}"))
        return out
    return [(float(v), f"{v:.3g}") for v in np.linspace(lo, hi, 5)]


def line_plot_svg(
    lines: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    *,
    title: str,
    x_label: str,
    y_label: str,
    log_x: bool = True,
    log_y: bool = True,
    css_class: str = "study-plot",
) -> str:
    """One ``<svg>`` with a line and markers per ``label → (xs, ys)``; non-finite (or, on a log axis,
    non-positive) points are left out."""
    xs_all = [float(x) for xs, _ in lines.values() for x in xs]
    ys_all = [float(y) for _, ys in lines.values() for y in ys]
    x0, x1 = _axis(xs_all, log_x)
    y0, y1 = _axis(ys_all, log_y)
    pw, ph = _W - _L - _R, _H - _T - _B

    def px(x: float) -> float:
        v = math.log10(x) if log_x else x
        return _L + (v - x0) / (x1 - x0) * pw

    def py(y: float) -> float:
        v = math.log10(y) if log_y else y
        return _T + ph - (v - y0) / (y1 - y0) * ph

    def ok(v: float, log: bool) -> bool:
        return math.isfinite(v) and (v > 0 or not log)

    parts = [
        f'<svg class="{css_class}" xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" '
        f'viewBox="0 0 {_W} {_H}" role="img" aria-label="{html.escape(title)}">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text class="caption" x="{_L}" y="18">{html.escape(title)}</text>',
        f'<rect x="{_L}" y="{_T}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>',
    ]
    for v, label in _ticks(x0, x1, log_x):
        x = _L + (v - x0) / (x1 - x0) * pw
        parts.append(f'<line x1="{x:.1f}" y1="{_T}" x2="{x:.1f}" y2="{_T + ph}" stroke="#eee"/>')
        parts.append(f'<text x="{x:.1f}" y="{_T + ph + 14}" text-anchor="middle">{label}</text>')
    for v, label in _ticks(y0, y1, log_y):
        y = _T + ph - (v - y0) / (y1 - y0) * ph
        parts.append(f'<line x1="{_L}" y1="{y:.1f}" x2="{_L + pw}" y2="{y:.1f}" stroke="#eee"/>')
        parts.append(f'<text x="{_L - 4}" y="{y + 3:.1f}" text-anchor="end">{label}</text>')
    parts.append(f'<text x="{_L + pw / 2}" y="{_H - 12}" text-anchor="middle">{html.escape(x_label)}</text>')
    parts.append(
        f'<text x="14" y="{_T + ph / 2}" text-anchor="middle" transform="rotate(-90 14 {_T + ph / 2})">'
        f"{html.escape(y_label)}</text>"
    )
    for i, (label, (xs, ys)) in enumerate(lines.items()):
        color = PALETTE[i % len(PALETTE)]
        pts = [
            (px(float(x)), py(float(y))) for x, y in zip(xs, ys, strict=True) if ok(x, log_x) and ok(y, log_y)
        ]
        if len(pts) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
            parts.append(
                f'<polyline class="series" fill="none" stroke="{color}" stroke-width="2" points="{path}"/>'
            )
        for x, y in pts:
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"/>')
        ly = _T + 12 + 16 * i
        parts.append(f'<rect x="{_W - _R + 10}" y="{ly - 8}" width="12" height="4" fill="{color}"/>')
        parts.append(f'<text class="legend" x="{_W - _R + 26}" y="{ly - 3}">{html.escape(label)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def forecast_panel_svg(
    context: np.ndarray,
    truth: np.ndarray,
    median: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    *,
    title: str,
) -> str:
    """One series: the context tail ``[c]``, truth, median and the 10-90% band ``[H]`` against time."""
    c, h = len(context), len(truth)
    values = np.concatenate([context, truth, median, low, high]).astype(np.float64)
    finite = values[np.isfinite(values)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    w, ht, m = 640, 220, 30
    n = c + h

    def pts(offset: int, ys: np.ndarray) -> str:
        xs = m + (np.arange(len(ys)) + offset) / max(n - 1, 1) * (w - 2 * m)
        yy = m + (hi - ys) / (hi - lo) * (ht - 2 * m)
        return " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, yy, strict=True) if np.isfinite(y))

    median = np.asarray(median)
    band = pts(c, np.asarray(high)) + " " + " ".join(reversed(pts(c, np.asarray(low)).split(" ")))
    return "\n".join(
        [
            f'<svg class="study-forecast" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{ht}" '
            f'viewBox="0 0 {w} {ht}" role="img" aria-label="{html.escape(title)}">',
            '<rect width="100%" height="100%" fill="white"/>',
            f'<text class="caption" x="{m}" y="18">{html.escape(title)}</text>',
            f'<polygon fill="#1f77b4" fill-opacity="0.2" points="{band}"/>',
            f'<polyline fill="none" stroke="#555" stroke-width="1" points="{pts(0, np.asarray(context))}"/>',
            f'<polyline fill="none" stroke="#000" stroke-width="1" points="{pts(c, np.asarray(truth))}"/>',
            f'<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="{pts(c, median)}"/>',
            "</svg>",
        ]
    )
