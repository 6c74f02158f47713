"""The choices the ``toto-bench`` parsers offer, as literals.

Building the parser (``--help``, ``list``) must not import numpy, pandas or numba, so the parsers take their
choices from here rather than from the modules that define them; ``tests/test_cli_startup.py`` checks that
each equals its source of truth (named beside it).
"""

from __future__ import annotations

#: ``toto_bench.suites.RUN_SUITES``: suites ``run`` and ``score`` accept.
RUN_SUITES: tuple[str, ...] = ("demo", "gift-eval", "boom", "boomlet", "time", "lsf")
#: ``toto_bench.boards.document.LEADERBOARD_SUITES``.
LEADERBOARD_SUITES: tuple[str, ...] = ("boom", "boomlet", "gift-eval", "demo", "time", "lsf")
#: ``toto_bench.boards.importer.IMPORT_SUITES``.
IMPORT_SUITES: tuple[str, ...] = ("boom", "gift-eval", "time")
#: ``toto_bench.boards.document.BREAKDOWN_CHOICES`` (BOOM's and GIFT-Eval's breakdowns).
BREAKDOWNS: tuple[str, ...] = ("full", "term", "type", "domain", "frequency")
#: ``toto_bench.boards.document.TIES``.
TIES: tuple[str, ...] = ("first", "average")
#: ``toto_bench.boards.render.FORMATS``.
FORMATS: tuple[str, ...] = ("md", "csv", "html")
#: ``toto_bench.engine.executors.EXECUTORS``.
EXECUTORS: tuple[str, ...] = ("local", "ray")
#: ``toto_bench.engine.batching.BATCHING_MODES``.
BATCHING: tuple[str, ...] = ("pooled", "config")
