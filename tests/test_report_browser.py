"""`toto-bench report` in a real browser: headless Debian Chromium driven by Selenium (chromium-driver).

Loads the report of the 23 published BOOM models (plus forecast plots of a seasonal-naive GIFT-Eval run saved
with ``--save-forecasts``) from ``file://`` and checks: no console error (browser log level SEVERE), exactly
the 23 model rows, clicking numeric headers sorts the rows (checked against the published
``boom_leaderboard.csv``, both directions), NaN sorts last, and a full-page screenshot PNG is written (copied
to ``$TOTO_BENCH_SCREENSHOT_DIR`` when set).

Needs ``apt-get install -y chromium chromium-driver`` and ``pip install selenium`` (the ``test`` extra). When
they are missing the tests skip, except under CI (``$CI`` set), where they fail: CI must run them.
"""

from __future__ import annotations

import base64
import importlib.util
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import layouts
import numpy as np
import pandas as pd
import pytest

from toto_bench.boards.report import html_page, sortable_table
from toto_bench.cli import main

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
INSTALL = "apt-get install -y chromium chromium-driver && pip install selenium"
#: Flags that keep Chromium off the (closed) network and out of the user's profile.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
)
SHARED_BOOM = layouts.SHARED / "data" / "boom"


def _require_browser() -> None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.is_file()]
    if importlib.util.find_spec("selenium") is None:
        missing.append("the selenium package")
    if not missing:
        return
    message = f"report browser test needs {', '.join(missing)}: {INSTALL}"
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {message}")
    pytest.skip(message)


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    _require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        yield browser
    finally:
        browser.quit()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (SHARED_BOOM / "results").is_dir():
        pytest.skip(f"published BOOM results not found at {SHARED_BOOM} (shared folder beside the repo)")
    root = tmp_path_factory.mktemp("report")
    layouts.build_m4_hourly(root / "data")
    run = ["run", "--suite", "gift-eval", "--model", "seasonal-naive", "--data-dir", str(root / "data")]
    run += ["--datasets", "m4_hourly", "--output-dir", str(root / "results"), "--no-progress"]
    assert main([*run, "--save-forecasts"]) == 0
    studies = ["--models", "seasonal-naive", "--output-dir", str(root / "studies"), "--no-progress"]
    lat = ["study", "latency", "--horizons", "48,96,192", "--warmup", "1", "--repeats", "2", *studies]
    assert main(lat) == 0
    assert main(["study", "long-horizon", "--horizons", "128,256", "--series", "2", *studies]) == 0
    report = ["report", "--suite", "boom", "--results-dir", str(SHARED_BOOM / "results")]
    report += ["--studies-dir", str(root / "studies")]
    report += ["--output", str(root / "site"), "--forecasts", str(root / "results/gift-eval/seasonal-naive")]
    assert main([*report, "--plot", "m4_hourly/H/short", "--plot-items", "3", "--plot-windows", "1"]) == 0
    return root / "site" / "index.html"


@dataclass
class Loaded:
    """The browser with the report freshly (re)loaded, and the console log of that load."""

    browser: Any
    log: list[dict[str, Any]]


@pytest.fixture
def loaded(driver: Any, site: Path) -> Loaded:
    driver.get(site.as_uri())  # a fresh load per test: no sort state carries over
    return Loaded(driver, driver.get_log("browser"))


@pytest.fixture(scope="module")
def published() -> pd.DataFrame:
    return pd.read_csv(SHARED_BOOM / "leaderboards" / "boom_leaderboard.csv").set_index("model")


def _severe(log: list[dict[str, Any]]) -> list[str]:
    return [entry["message"] for entry in log if entry.get("level") == "SEVERE"]


def _row_names(browser: Any, table: str = "board") -> list[str]:
    from selenium.webdriver.common.by import By

    rows = browser.find_elements(By.CSS_SELECTOR, f"#{table} tbody tr")
    return [row.find_elements(By.CSS_SELECTOR, "th, td")[0].text for row in rows]


def _headers(browser: Any, table: str = "board") -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(browser.find_elements(By.CSS_SELECTOR, f"#{table} thead th"))


def _header(browser: Any, name: str, table: str = "board") -> Any:
    return next(h for h in _headers(browser, table) if h.text.rstrip(" ▲▼") == name)


def test_the_report_loads_without_console_errors(loaded: Loaded) -> None:
    assert loaded.browser.title == "BOOM report"
    assert _severe(loaded.log) == []


def test_the_console_check_catches_a_script_error(driver: Any, tmp_path: Path) -> None:
    # the check above can fail: a page whose script throws logs a SEVERE entry
    broken = tmp_path / "broken.html"
    broken.write_text(html_page("broken", "<script>undefinedFunction();</script>"))
    driver.get(broken.as_uri())
    assert any("undefinedFunction" in m for m in _severe(driver.get_log("browser")))


def test_the_board_has_exactly_the_23_published_models(loaded: Loaded, published: pd.DataFrame) -> None:
    names = _row_names(loaded.browser)
    assert len(names) == 23
    assert sorted(names) == sorted(p.name for p in (SHARED_BOOM / "results").iterdir() if p.is_dir())
    assert names == list(published.index)  # served in the published (rank) order


@pytest.mark.parametrize("column", ["MASE-6750-scaled", "CRPS-663-unscaled", "Rank-663-unscaled"])
def test_clicking_a_numeric_header_sorts_by_its_numbers_then_reverses(
    loaded: Loaded, published: pd.DataFrame, column: str
) -> None:
    browser = loaded.browser
    header = _header(browser, column)
    header.click()
    ascending = _row_names(browser)
    assert header.get_attribute("aria-sort") == "ascending"
    values = published.loc[ascending, column].to_numpy()  # the published numbers, read independently
    assert sorted(ascending) == sorted(published.index)
    assert np.all(np.diff(values) >= 0), list(zip(ascending, values, strict=True))
    assert ascending != list(published.index)  # this column's order differs from the served rank order
    header.click()
    descending = _row_names(browser)
    assert header.get_attribute("aria-sort") == "descending"
    assert np.all(np.diff(published.loc[descending, column].to_numpy()) <= 0)
    states = [(h.text.rstrip(" ▲▼"), h.get_attribute("aria-sort")) for h in _headers(browser)]
    assert [state for name, state in states if name != column] == ["none"] * 6


def test_clicking_the_model_header_sorts_names_alphabetically(loaded: Loaded) -> None:
    header = _header(loaded.browser, "model")
    header.click()
    assert _row_names(loaded.browser) == sorted(_row_names(loaded.browser))
    header.click()
    assert _row_names(loaded.browser) == sorted(_row_names(loaded.browser), reverse=True)


def test_nan_cells_sort_last_in_both_directions(driver: Any, tmp_path: Path) -> None:
    table = pd.DataFrame({"model": ["a", "b", "c", "d"], "score": [2.0, float("nan"), 10.0, 1.0]})
    page = tmp_path / "nan.html"
    page.write_text(html_page("nan", sortable_table(table, table_id="t")))
    driver.get(page.as_uri())
    header = _header(driver, "score", table="t")
    header.click()
    assert _row_names(driver, "t") == ["d", "a", "c", "b"]  # numeric: 10 after 2, not before
    header.click()
    assert _row_names(driver, "t") == ["c", "a", "d", "b"]
    assert _severe(driver.get_log("browser")) == []


def test_the_study_plots_render_with_one_line_per_run(loaded: Loaded) -> None:
    from selenium.webdriver.common.by import By

    browser = loaded.browser
    plots = browser.find_elements(By.CSS_SELECTOR, "#studies svg.study-plot")
    assert [p.get_attribute("aria-label") for p in plots] == [
        "Latency vs horizon (published weights, cpu)",
        "Pearson r vs horizon (published weights)",
    ]
    assert all(p.size["width"] > 300 and p.size["height"] > 200 for p in plots)
    lines = plots[0].find_elements(By.CSS_SELECTOR, "polyline.series")  # one run: one line over 3 horizons
    assert len(lines) == 1 and len(lines[0].get_attribute("points").split()) == 3
    # seasonal naive at lag 1 forecasts a constant: Pearson r is NaN, so the plot has no line, only its axes
    assert plots[1].find_elements(By.CSS_SELECTOR, "polyline.series") == []
    assert len(plots[1].find_elements(By.CSS_SELECTOR, "text.legend")) == 1
    assert [r for r in _row_names(browser, "study-latency")] == ["seasonal-naive"] * 3
    assert browser.find_element(By.CSS_SELECTOR, 'nav a[href="#studies"]').text == "Studies"


def test_a_full_page_screenshot_is_written(loaded: Loaded, tmp_path_factory: pytest.TempPathFactory) -> None:
    from selenium.webdriver.common.by import By

    browser = loaded.browser
    plots = browser.find_elements(By.CSS_SELECTOR, "svg.forecast-plot")
    assert len(plots) == 3 and all(p.size["width"] > 300 and p.size["height"] > 150 for p in plots)
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.rank-bars, svg.rank-strip")) == 4
    width = browser.execute_script("return document.documentElement.scrollWidth")
    height = browser.execute_script("return document.documentElement.scrollHeight")
    shot = browser.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
        },
    )
    png = base64.b64decode(shot["data"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(png[16:20], "big") == width and int.from_bytes(png[20:24], "big") == height
    path = tmp_path_factory.mktemp("screenshot") / "report.png"
    path.write_bytes(png)
    target = os.environ.get("TOTO_BENCH_SCREENSHOT_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(target) / "report.png")
    print(f"report screenshot: {path} ({width}x{height})")
