"""Seeded multi-scale sinusoid mixtures (the long-horizon study's data) and the Pearson correlation.

A series of length ``T`` is ``y_t = level + trend·t + Σ_k a_k · sin(2π t / P_k + φ_k) + σ·ε_t`` with ``K``
periods ``P_k`` drawn log-uniformly in ``[min_period, max_period]`` (short to very long scales), amplitudes
``a_k`` uniform in ``[0.5, 2]`` divided by ``sqrt(K)``, phases uniform in ``[0, 2π)``, ``ε_t`` standard
normal.
All draws come from ``numpy.random.default_rng(seed)`` in a fixed order, so one seed gives identical arrays
on every machine; :meth:`MixtureSpec.record` is what the run record stores.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["MixtureSpec", "SinusoidMixtures", "generate_mixtures", "pearson_r"]


@dataclass(frozen=True)
class MixtureSpec:
    """The generator's parameters (all of them enter the run record and the results key).

    Attributes:
        n_series: how many series.
        length: steps per series (context + horizon).
        n_components: sinusoids per series ``K``.
        min_period, max_period: the range of the log-uniform periods (steps).
        noise: standard deviation ``σ`` of the added Gaussian noise (0: none).
        trend: slope per step of the linear trend (0: none).
        level: constant offset (keeps the series away from 0, where MAPE-like ratios blow up).
        seed: the ``numpy.random.default_rng`` seed.
    """

    n_series: int = 8
    length: int = 4096 + 8192
    n_components: int = 4
    min_period: float = 24.0
    max_period: float = 4096.0
    noise: float = 0.0
    trend: float = 0.0
    level: float = 10.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("n_series", "length", "n_components"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"MixtureSpec.{name} must be a positive integer, got {value!r}")
        if not 0 < self.min_period <= self.max_period:
            raise ValueError(
                "MixtureSpec periods need 0 < min_period <= max_period, "
                f"got {self.min_period}, {self.max_period}"
            )
        if self.noise < 0:
            raise ValueError(f"MixtureSpec.noise must be >= 0, got {self.noise}")

    def record(self) -> dict[str, Any]:
        """The parameters as a JSON-able mapping."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class SinusoidMixtures:
    """Generated series and the draws behind them.

    Attributes:
        values: ``[n_series, length]`` float32.
        periods, amplitudes, phases: ``[n_series, K]`` float64, the drawn components.
        spec: the parameters.
    """

    values: np.ndarray
    periods: np.ndarray
    amplitudes: np.ndarray
    phases: np.ndarray
    spec: MixtureSpec


def generate_mixtures(spec: MixtureSpec) -> SinusoidMixtures:
    """The series of ``spec`` (module docstring); the same ``spec`` always gives identical arrays."""
    rng = np.random.default_rng(spec.seed)
    shape = (spec.n_series, spec.n_components)
    log_periods = rng.uniform(np.log(spec.min_period), np.log(spec.max_period), size=shape)
    periods = np.exp(log_periods)
    amplitudes = rng.uniform(0.5, 2.0, size=shape) / np.sqrt(spec.n_components)
    phases = rng.uniform(0.0, 2 * np.pi, size=shape)
    noise = rng.standard_normal((spec.n_series, spec.length))
    t = np.arange(spec.length, dtype=np.float64)
    waves = amplitudes[:, :, None] * np.sin(2 * np.pi * t / periods[:, :, None] + phases[:, :, None])
    values = spec.level + spec.trend * t + waves.sum(axis=1) + spec.noise * noise
    return SinusoidMixtures(values.astype(np.float32), periods, amplitudes, phases, spec)


def pearson_r(forecast: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Pearson correlation along the last axis.

    Args:
        forecast, truth: ``[..., H]`` arrays of one shape.

    Returns:
        ``[...]`` float64; NaN where either row is constant (no correlation is defined).
    """
    a = np.asarray(forecast, dtype=np.float64)
    b = np.asarray(truth, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"pearson_r needs arrays of one shape, got {a.shape} and {b.shape}")
    a = a - a.mean(axis=-1, keepdims=True)
    b = b - b.mean(axis=-1, keepdims=True)
    den = np.sqrt((a * a).sum(axis=-1) * (b * b).sum(axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (a * b).sum(axis=-1) / den
    return np.where(den > 0, out, np.nan)
