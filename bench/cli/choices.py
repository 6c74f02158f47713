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
#: ``toto_bench.engine.tasks.TERMS``.
TERMS: tuple[str, ...] = ("short", "medium", "long")
#: ``toto_bench.suites.convert.LAYOUTS``: table layouts of ``data convert``.
LAYOUTS: tuple[str, ...] = ("long", "wide")
#: ``toto_bench.studies.models.DTYPES``: the studies' ``--dtype``.
DTYPES: tuple[str, ...] = ("float32", "bfloat16", "float16")
#: the suites with a Hub repo in ``toto_bench.engine.data.SOURCES``: what ``download`` fetches.
DOWNLOAD_SUITES: tuple[str, ...] = ("boom", "gift-eval", "time")
#: ``toto_bench.boards.importer.PUBLISHED``: each suite's pinned revision (``import --published``).
PUBLISHED_REVISIONS: dict[str, str] = {
    "boom": "46bd92adeeef6b3c2afb21008659f607fa203e38",
    "gift-eval": "4fd98a9f803a0266f062737281555ddcd220bf81",
}
#: ``toto_bench.boards.importer.ImportLimits()``: (download bytes, unpacked bytes, members).
IMPORT_LIMITS: tuple[int, int, int] = (256 << 20, 1 << 30, 20_000)
#: The endings ``toto_bench.suites.is_suite_file`` accepts for a suite file (``--suite FILE.yaml``).
SUITE_FILE_SUFFIXES: tuple[str, ...] = (".yaml", ".yml")
#: ``toto_bench.engine.batching.BATCHING_MODES``.
BATCHING: tuple[str, ...] = ("pooled", "config")
