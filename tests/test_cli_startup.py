"""``toto-bench --help`` / ``list`` import nothing heavy (numpy, pandas, numba), the parsers' literal
choices equal their sources of truth, and a board reads each results CSV once. (Timings are in
``benchmarks/cli_startup.py``, not here.)"""

from __future__ import annotations

import collections
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from toto_bench.cli import choices, main

BOOM = Path(__file__).parents[1].parent / "shared" / "data" / "boom"
HEAVY = ("numpy", "pandas", "numba", "torch", "statsforecast", "pyarrow")


def _sources() -> list[tuple[str, Any]]:
    from toto_bench.boards import document, importer, render
    from toto_bench.engine import batching, executors
    from toto_bench.suites import RUN_SUITES

    return [
        ("RUN_SUITES", tuple(RUN_SUITES)),
        ("LEADERBOARD_SUITES", tuple(document.LEADERBOARD_SUITES)),
        ("IMPORT_SUITES", tuple(importer.IMPORT_SUITES)),
        ("BREAKDOWNS", tuple(document.BREAKDOWN_CHOICES)),
        ("TIES", tuple(document.TIES)),
        ("FORMATS", tuple(render.FORMATS)),
        ("EXECUTORS", tuple(executors.EXECUTORS)),
        ("BATCHING", tuple(batching.BATCHING_MODES)),
    ]


@pytest.mark.parametrize("index", range(8))
def test_parser_choices_equal_their_sources(index: int) -> None:
    name, source = _sources()[index]
    assert getattr(choices, name) == source, name


def test_a_boom_board_reads_each_results_csv_once(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    results = BOOM / "results"
    if not results.is_dir():
        pytest.skip(f"{results} is absent (the shared folder sits beside the repo)")
    reads: collections.Counter[str] = collections.Counter()
    original = pd.read_csv

    def counting(path: Any, *args: Any, **kwargs: Any) -> Any:
        reads[str(Path(path).resolve())] += 1
        return original(path, *args, **kwargs)

    monkeypatch.setattr(pd, "read_csv", counting)
    assert main(["leaderboard", "--suite", "boom", "--results-dir", str(results)]) == 0
    assert "# BOOM" in capsys.readouterr().out
    csvs = {str(p.resolve()) for p in results.glob("*/all_results.csv")}
    assert set(reads) >= csvs and len(csvs) > 10
    assert {p: reads[p] for p in csvs} == dict.fromkeys(csvs, 1)
