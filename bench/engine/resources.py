"""What a run cost: wall time, peak RSS and peak GPU memory (:class:`ResourceMonitor`).

Part of the run record (:mod:`toto_bench.engine.record`); GPU figures are read only when a model already
imported torch.
"""

from __future__ import annotations

import resource
import sys
import time
from types import TracebackType
from typing import Any

__all__ = ["ResourceMonitor", "peak_gpu_memory_mb", "peak_rss_mb"]

_MB = 2**20


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident set size in MiB of this process (``RUSAGE_SELF``) or its largest waited-for child
    (``RUSAGE_CHILDREN``), over their whole lifetime (``getrusage`` ``ru_maxrss``: KiB on Linux, bytes on
    macOS)."""
    peak = resource.getrusage(who).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / _MB


def _cuda(torch: Any) -> Any:
    try:
        return torch.cuda if torch.cuda.is_available() else None
    except Exception:
        return None


def peak_gpu_memory_mb() -> list[float] | None:
    """``torch.cuda.max_memory_allocated`` of every visible device, in MiB.

    ``None`` when torch is not imported (never imported here) or sees no CUDA device; zeros while CUDA was
    never initialised in this process (nothing was allocated).
    """
    torch = sys.modules.get("torch")
    cuda = None if torch is None else _cuda(torch)
    if cuda is None:
        return None
    n = int(cuda.device_count())
    if not cuda.is_initialized():
        return [0.0] * n
    return [float(cuda.max_memory_allocated(d)) / _MB for d in range(n)]


def _reset_gpu_peaks() -> None:
    torch = sys.modules.get("torch")
    cuda = None if torch is None else _cuda(torch)
    if cuda is not None and cuda.is_initialized():
        for d in range(int(cuda.device_count())):
            cuda.reset_peak_memory_stats(d)


class ResourceMonitor:
    """What one suite run cost: wall time, peak RSS, peak GPU memory.

    Use as ``with ResourceMonitor() as monitor: ...`` or ``monitor = ResourceMonitor().start()`` …
    ``monitor.stop()``. ``start`` resets the CUDA peak counters when torch is already imported and CUDA is
    in use, so the GPU peak is this run's; the RSS peak is the process's lifetime peak (the kernel cannot
    reset it).
    """

    def __init__(self) -> None:
        self._started: float | None = None
        self._stopped: float | None = None

    def start(self) -> ResourceMonitor:
        """Start (or restart) timing; returns ``self``."""
        _reset_gpu_peaks()
        self._started = time.perf_counter()
        self._stopped = None
        return self

    def stop(self) -> dict[str, Any]:
        """Stop timing (idempotent) and return :meth:`usage`."""
        if self._started is None:
            raise RuntimeError("ResourceMonitor.stop() before start()")
        if self._stopped is None:
            self._stopped = time.perf_counter()
        return self.usage()

    @property
    def wall_seconds(self) -> float:
        """Seconds from ``start`` to ``stop`` (to now while running)."""
        if self._started is None:
            raise RuntimeError("ResourceMonitor was not started")
        end = self._stopped if self._stopped is not None else time.perf_counter()
        return end - self._started

    def usage(self) -> dict[str, Any]:
        """``wall_seconds``, ``peak_rss_mb``, ``peak_rss_children_mb``, ``peak_gpu_memory_mb`` (the largest
        device's peak, None without CUDA) and ``peak_gpu_memory_mb_by_device`` (one per visible device)."""
        gpu = peak_gpu_memory_mb()
        return {
            "wall_seconds": round(self.wall_seconds, 3),
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "peak_rss_children_mb": round(peak_rss_mb(resource.RUSAGE_CHILDREN), 1),
            "peak_gpu_memory_mb": None if not gpu else round(max(gpu), 1),
            "peak_gpu_memory_mb_by_device": None if gpu is None else [round(g, 1) for g in gpu],
        }

    def __enter__(self) -> ResourceMonitor:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._started is not None:
            self.stop()
