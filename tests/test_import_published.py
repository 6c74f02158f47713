"""``toto-bench import --published``: the official results as a GitHub archive at a pinned revision, served
here from 127.0.0.1 in the upstream archive layout, built from real published folders read in place."""

from __future__ import annotations

import functools
import http.server
import json
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from toto_bench.boards.importer import PUBLISHED, published_source
from toto_bench.cli import main

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
REV = "0123456789abcdef0123456789abcdef01234567"
#: (suite, repo name, results folder in the repo, a few real model folders, the shared copy of that folder)
CASES = {
    "boom": ("toto", "boom/results", ("autoets", "seasonalnaive"), SHARED / "boom" / "results"),
    "gift-eval": ("gift-eval", "results", ("auto_ets", "seasonal_naive"), SHARED / "gift-eval" / "results"),
}


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    folder = tmp_path / "served"
    folder.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _github_archive(suite: str, target: Path) -> tuple[str, ...]:
    """``<repo>-<rev>/<results folder>/<model>/{all_results.csv, config.json}`` (+ BOOM's properties file
    beside ``boom/results``, as in DataDog/toto), like GitHub's ``/archive/<rev>.tar.gz``."""
    repo, folder, models, shared = CASES[suite]
    if not shared.is_dir():
        pytest.skip(f"published results not found at {shared} (shared folder beside the repo)")
    with tarfile.open(target, "w:gz") as tf:
        for model in models:
            for path in sorted((shared / model).iterdir()):
                tf.add(path, f"{repo}-{REV}/{folder}/{model}/{path.name}")
        if suite == "boom":
            tf.add(shared.parent / "boom_properties.json", f"{repo}-{REV}/boom/boom_properties.json")
        tf.add(SHARED / "gift-eval" / "LICENSE.txt", f"{repo}-{REV}/LICENSE")
    return models


@pytest.mark.parametrize("suite", ["boom", "gift-eval"])
def test_published_results_are_fetched_at_the_revision_and_imported_byte_for_byte(
    suite: str, tmp_path: Path, served: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, url = served
    models = _github_archive(suite, folder / f"{REV}.tar.gz")
    monkeypatch.delenv("BOOM", raising=False)
    root = tmp_path / "results"
    argv = [
        "import",
        "--suite",
        suite,
        "--published",
        "--revision",
        REV,
        "--published-url",
        f"{url}/{{rev}}.tar.gz",
    ]
    assert main([*argv, "--results-root", str(root)]) == 0
    shared = CASES[suite][3]
    assert sorted(p.name for p in (root / suite).iterdir()) == sorted(models)
    for model in models:
        for path in (shared / model).iterdir():
            assert (root / suite / model / path.name).read_bytes() == path.read_bytes()
        note = json.loads((root / suite / model / "import.json").read_text())
        assert note["source"] == f"{url}/{REV}.tar.gz#{CASES[suite][0]}-{REV}/{CASES[suite][1]}"


def test_the_default_source_is_the_github_archive_at_the_reference_revision() -> None:
    # the revisions of ../shared/data/boom/MANIFEST.md and ../shared/data/gift-eval/SOURCES.md
    for suite, notes in (("boom", "boom/MANIFEST.md"), ("gift-eval", "gift-eval/SOURCES.md")):
        if (SHARED / notes).is_file():
            assert PUBLISHED[suite].revision in (SHARED / notes).read_text()
    assert published_source("boom") == (
        "https://github.com/DataDog/toto/archive/46bd92adeeef6b3c2afb21008659f607fa203e38.tar.gz"
        "#toto-46bd92adeeef6b3c2afb21008659f607fa203e38/boom/results"
    )
    assert published_source("gift-eval", "v1") == (
        "https://github.com/SalesforceAIResearch/gift-eval/archive/v1.tar.gz#gift-eval-v1/results"
    )


def test_offline_the_error_says_what_to_download_and_the_from_command(
    tmp_path: Path, served: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _, url = served  # nothing served: the fetch fails like an offline machine's
    argv = ["import", "--suite", "gift-eval", "--published", "--published-url", f"{url}/absent.tar.gz"]
    assert main([*argv, "--results-root", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    rev = PUBLISHED["gift-eval"].revision
    assert "download failed" in err
    assert f"https://github.com/SalesforceAIResearch/gift-eval/archive/{rev}.tar.gz by hand" in err
    assert f"toto-bench import --suite gift-eval --from gift-eval-{rev}/results" in err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--suite", "time", "--published"], "--published is for boom, gift-eval, not 'time'"),
        (["--suite", "boom"], "give exactly one of --from PATH_OR_URL and --published"),
        (["--suite", "boom", "--from", "x", "--published"], "give exactly one of"),
        (["--suite", "boom", "--from", "x", "--revision", "r"], "--revision and --published-url go with"),
    ],
)
def test_published_option_misuse_is_named(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", *argv]) == 2
    assert message in capsys.readouterr().err
