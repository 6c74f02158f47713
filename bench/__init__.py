"""toto-bench: exact, fast, resumable benchmarks for time-series foundation models.

The package spans three source folders mapped onto one import namespace:
``bench/`` → ``toto_bench``, ``adapters/`` → ``toto_bench.adapters``,
``metrics/`` → ``toto_bench.metrics``.
"""

from __future__ import annotations

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    """``__version__``, read from the installed metadata on first use (``importlib.metadata`` costs more
    than the rest of ``toto-bench --help``)."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("toto-bench")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        value = "0.0.0+unknown"
    globals()["__version__"] = value
    return value
