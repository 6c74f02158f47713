"""Test-session rules shared by every test module.

**A skip in CI is a failure.** With the ``CI`` environment variable set (``.ci/run`` sets it), a test or
module that skips fails instead, unless its skip reason matches :data:`ALLOWED_SKIPS`: a broken install (a
model family that did not install, chromium missing, ``../shared`` absent) must not pass as "skipped".
Outside CI (an outside contributor without ``../shared`` or the model extras) skips stay skips, each naming
its reason.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

#: Skip reasons allowed in CI (substring of the reason → why it is allowed).
ALLOWED_SKIPS: dict[str, str] = {
    "TOTO_BENCH_FULL_LSF=1": "the full LSF grid (~4 min) is opt-in; CI runs its representative subset",
}


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _reason(report: Any) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


def skip_is_allowed(reason: str) -> bool:
    """Whether a skip with this reason may happen in CI."""
    return any(key in reason for key in ALLOWED_SKIPS)


def _fail_if_disallowed(report: Any) -> None:
    if not report.skipped or hasattr(report, "wasxfail") or not _in_ci():
        return
    reason = _reason(report)
    if skip_is_allowed(reason):
        return
    report.outcome = "failed"
    report.longrepr = (
        f"skipped in CI, which counts as a failure (only tests/conftest.py ALLOWED_SKIPS may skip there): "
        f"{reason}"
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    _fail_if_disallowed(outcome.get_result())  # type: ignore[attr-defined]


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    outcome = yield
    _fail_if_disallowed(outcome.get_result())  # type: ignore[attr-defined]
