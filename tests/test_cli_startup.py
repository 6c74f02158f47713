"""``toto-bench --help`` / ``list`` import nothing heavy (numpy, pandas, numba), the parsers' literal
choices equal their sources of truth, and a board reads each results CSV once. (Timings are in
``benchmarks/cli_startup.py``, not here.)"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from toto_bench.cli import choices, main

BOOM = Path(__file__).parents[1].parent / "shared" / "data" / "boom"
GIFT_EVAL = Path(__file__).parents[1].parent / "shared" / "data" / "gift-eval"
HEAVY = (
    "numpy",
    "pandas",
    "numba",
    "torch",
    "statsforecast",
    "pyarrow",
    "datasets",
    "scipy",
    "ray",
    "gluonts",
)

#: Runs each argv through ``toto_bench.cli.main`` in one fresh interpreter, in order, and prints
#: ``{argv: heavy modules first imported by it}`` as JSON (imports accumulate, so each command is charged
#: only with what it added; an import by the parser itself shows up under the first command).
_PROBE = """
import contextlib, io, json, sys
from toto_bench.cli import main
heavy, commands = json.loads(sys.argv[1])
seen = {m for m in heavy if m in sys.modules}
found = {"<import toto_bench.cli>": sorted(seen)}
for argv in commands:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            main(argv)
        except SystemExit:
            pass
    now = {m for m in heavy if m in sys.modules}
    found[" ".join(argv)] = sorted(now - seen)
    seen = now
print(json.dumps(found))
"""


def _commands() -> list[list[str]]:
    """``--help`` of the main parser and of every (sub-)command, from the parser itself."""
    from toto_bench.cli import build_parser

    found: list[list[str]] = [["--help"]]

    def walk(parser: argparse.ArgumentParser, prefix: list[str]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    found.append([*prefix, name, "--help"])
                    walk(child, [*prefix, name])

    walk(build_parser(), [])
    return found


def _heavy_imports(commands: list[list[str]], heavy: tuple[str, ...]) -> dict[str, list[str]]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps([heavy, commands])],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    result: dict[str, list[str]] = json.loads(out.stdout)
    return result


def test_help_of_every_command_and_list_suites_import_nothing_heavy() -> None:
    commands = [*_commands(), ["list", "suites"]]
    assert len(commands) >= 14  # the 10 commands, data convert, the 2 studies, list suites
    found = _heavy_imports(commands, HEAVY)
    assert set(found) == {"<import toto_bench.cli>", *(" ".join(c) for c in commands)}
    assert {command: modules for command, modules in found.items() if modules} == {}


def test_list_models_imports_no_data_or_model_library() -> None:
    """``list models`` imports the adapter modules for their registrations (they import numpy), but no
    data library (pandas, pyarrow, datasets), no numba kernel and no model library (torch, statsforecast)."""
    heavy = tuple(m for m in HEAVY if m != "numpy")
    found = _heavy_imports([["list", "models"]], heavy)
    assert found == {"<import toto_bench.cli>": [], "list models": []}


def test_the_probe_sees_a_heavy_import() -> None:
    """The probe above can fail: a command that builds a board imports pandas, and the probe reports it."""
    found = _heavy_imports(
        [["list", "suites"], ["leaderboard", "--suite", "demo", "--results-dir", "/nonexistent"]], HEAVY
    )
    assert found["list suites"] == []
    assert "pandas" in found["leaderboard --suite demo --results-dir /nonexistent"]


def _sources() -> list[tuple[str, Any]]:
    from toto_bench.boards import document, importer, render
    from toto_bench.engine import batching, data, executors, tasks
    from toto_bench.studies import models
    from toto_bench.suites import RUN_SUITES, convert, is_suite_file

    limits = importer.ImportLimits()
    return [
        ("RUN_SUITES", tuple(RUN_SUITES)),
        ("LEADERBOARD_SUITES", tuple(document.LEADERBOARD_SUITES)),
        ("IMPORT_SUITES", tuple(importer.IMPORT_SUITES)),
        ("BREAKDOWNS", tuple(document.BREAKDOWN_CHOICES)),
        ("TIES", tuple(document.TIES)),
        ("FORMATS", tuple(render.FORMATS)),
        ("EXECUTORS", tuple(executors.EXECUTORS)),
        ("TERMS", tuple(tasks.TERMS)),
        ("LAYOUTS", tuple(convert.LAYOUTS)),
        ("DTYPES", tuple(models.DTYPES)),
        ("DOWNLOAD_SUITES", tuple(sorted(name for name, source in data.SOURCES.items() if source.repo_id))),
        ("PUBLISHED_REVISIONS", {suite: p.revision for suite, p in importer.PUBLISHED.items()}),
        ("IMPORT_LIMITS", (limits.download_bytes, limits.unpacked_bytes, limits.members)),
        (
            "SUITE_FILE_SUFFIXES",
            tuple(s for s in (".yaml", ".yml", ".json", ".toml", ".yaml.bak", "") if is_suite_file(f"x{s}")),
        ),
        ("BATCHING", tuple(batching.BATCHING_MODES)),
    ]


@pytest.mark.parametrize("index", range(15))
def test_parser_choices_equal_their_sources(index: int) -> None:
    name, source = _sources()[index]
    assert getattr(choices, name) == source, name


@pytest.mark.parametrize(
    ("command", "suite", "results"),
    [
        ("leaderboard", "boom", BOOM / "results"),
        ("leaderboard", "gift-eval", GIFT_EVAL / "results"),
        ("report", "gift-eval", GIFT_EVAL / "results"),
    ],
)
def test_a_board_reads_each_results_csv_once(
    command: str,
    suite: str,
    results: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if not results.is_dir():
        pytest.skip(f"{results} is absent (the shared folder sits beside the repo)")
    reads: collections.Counter[str] = collections.Counter()
    original = pd.read_csv

    def counting(path: Any, *args: Any, **kwargs: Any) -> Any:
        reads[str(Path(path).resolve())] += 1
        return original(path, *args, **kwargs)

    monkeypatch.setattr(pd, "read_csv", counting)
    output = ["--output", str(tmp_path / "site")] if command == "report" else []
    assert main([command, "--suite", suite, "--results-dir", str(results), *output]) == 0
    if command == "report":
        assert (tmp_path / "site" / "index.html").is_file()
    else:
        assert "leaderboard" in capsys.readouterr().out.lower()
    csvs = {str(p.resolve()) for p in results.glob("*/all[_-]results.csv")}
    assert set(reads) >= csvs and len(csvs) > 10
    assert {p: reads[p] for p in csvs} == dict.fromkeys(csvs, 1)
