"""The CI skip guard of ``tests/conftest.py``: with ``CI`` set, a skip outside the allowlist fails."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

CONFTEST = Path(__file__).with_name("conftest.py")


def _run(tmp_path: Path, body: str, ci: str | None) -> subprocess.CompletedProcess[str]:
    (tmp_path / "conftest.py").write_text(CONFTEST.read_text())
    (tmp_path / "test_sample.py").write_text(textwrap.dedent(body))
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )


SKIPPING = """
    import pytest

    def test_needs_a_family():
        pytest.skip("chronos: the 'chronos' model family needs ...")

    def test_ok():
        assert True
"""


@pytest.mark.parametrize(("ci", "failed"), [(None, False), ("true", True), ("1", True), ("0", False)])
def test_a_skip_fails_only_in_ci(tmp_path: Path, ci: str | None, failed: bool) -> None:
    done = _run(tmp_path, SKIPPING, ci)
    summary = done.stdout.strip().splitlines()[-1]
    if failed:
        assert done.returncode == 1 and "1 failed, 1 passed" in summary, done.stdout
        assert "skipped in CI, which counts as a failure" in done.stdout
    else:
        assert done.returncode == 0 and "1 passed, 1 skipped" in summary, done.stdout


def test_an_allowlisted_skip_stays_a_skip_in_ci(tmp_path: Path) -> None:
    body = """
        import pytest

        def test_full_grid():
            pytest.skip("TOTO_BENCH_FULL_LSF=1: ~4 min")
    """
    done = _run(tmp_path, body, "true")
    assert done.returncode == 0 and "1 skipped" in done.stdout.strip().splitlines()[-1], done.stdout


def test_a_module_level_importorskip_fails_in_ci(tmp_path: Path) -> None:
    body = """
        import pytest

        pytest.importorskip("a_package_that_is_not_installed_anywhere")

        def test_never_runs():
            assert True
    """
    done = _run(tmp_path, body, "true")
    assert done.returncode != 0 and "skipped in CI" in done.stdout, done.stdout
