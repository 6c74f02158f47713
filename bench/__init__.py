"""toto-bench: exact, fast, resumable benchmarks for time-series foundation models.

The package spans three source folders mapped onto one import namespace:
``bench/`` → ``toto_bench``, ``adapters/`` → ``toto_bench.adapters``,
``metrics/`` → ``toto_bench.metrics``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("toto-bench")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
