"""`toto-bench report`: the page's structure, checked in pure Python against independent oracles.

The report under test is the one of the 23 published BOOM models plus forecast plots of a seasonal-naive
GIFT-Eval run (m4_hourly and ett1/H built from ../shared/data) saved with ``--save-forecasts``. Oracles: the
results folder listing, the published ``boom_leaderboard.csv`` and breakdown files, rank-count invariants,
the stored forecasts read with plain ``np.load`` and the raw M4 / ETT CSV files.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import layouts
import numpy as np
import pandas as pd
import pytest

from toto_bench.boards.report import ForecastPanel, forecast_svg, html_page, sortable_table
from toto_bench.cli import main

SHARED_BOOM = layouts.SHARED / "data" / "boom"
RUN_PLOTS = ("m4_hourly/H/short", "ett1/H/short")
PLOT_ITEMS, PLOT_WINDOWS = 2, 2


# --------------------------------------------------------------------------------------------------
# an independent reader of the page (stdlib HTMLParser)


@dataclass
class Table:
    id: str
    caption: str = ""
    header: list[str] = field(default_factory=list)
    header_attrs: list[dict[str, str]] = field(default_factory=list)
    rows: list[list[tuple[str, str]]] = field(default_factory=list)  # (data-value, text) per cell


@dataclass
class Svg:
    attrs: dict[str, str]
    title: str = ""
    children: list[tuple[str, dict[str, str], str]] = field(default_factory=list)  # (tag, attrs, title text)

    def of_class(self, tag: str, cls: str) -> list[dict[str, str]]:
        return [a for t, a, _ in self.children if t == tag and cls in a.get("class", "").split()]


class Page(HTMLParser):
    """Tables (header, cells), SVGs (children with their <title>) and figure captions of a page."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, Table] = {}
        self.svgs: list[Svg] = []
        self.captions: list[str] = []
        self.scripts: list[str] = []
        self._table: Table | None = None
        self._svg: Svg | None = None
        self._cell: list[str] | None = None
        self._cell_value = ""
        self._in_head = False
        self._text: list[str] | None = None
        self._text_target = ""
        self._child_title: tuple[str, dict[str, str]] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "table":
            self._table = Table(a.get("id", ""))
            self.tables[self._table.id] = self._table
        elif tag == "thead":
            self._in_head = True
        elif tag == "tbody":
            self._in_head = False
        elif tag == "tr" and self._table is not None and not self._in_head:
            self._table.rows.append([])
        elif tag in ("th", "td") and self._table is not None:
            self._cell, self._cell_value = [], a.get("data-value", "")
            if self._in_head:
                self._table.header_attrs.append(a)
        elif tag == "svg":
            self._svg = Svg(a)
            self.svgs.append(self._svg)
        elif self._svg is not None:
            if tag == "title":
                self._text, self._text_target = [], "svg-title"
            else:
                self._svg.children.append((tag, a, ""))
        elif tag in ("caption", "figcaption", "script"):
            self._text, self._text_target = [], tag

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td") and self._cell is not None and self._table is not None:
            text = "".join(self._cell).strip()
            if self._in_head:
                self._table.header.append(text)
            else:
                self._table.rows[-1].append((self._cell_value, text))
            self._cell = None
        elif tag == "table":
            self._table = None
        elif tag == "svg":
            self._svg = None
        elif tag == "title" and self._svg is not None and self._text is not None:
            text = "".join(self._text)
            if self._svg.children:  # a child's tooltip
                t, attrs, _ = self._svg.children[-1]
                self._svg.children[-1] = (t, attrs, text)
            else:
                self._svg.title = text
            self._text = None
        elif tag in ("caption", "figcaption", "script") and self._text is not None:
            text = "".join(self._text).strip()
            if tag == "caption" and self._table is not None:
                self._table.caption = text
            elif tag == "figcaption":
                self.captions.append(text)
            elif tag == "script":
                self.scripts.append(text)
            self._text = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._text is not None:
            self._text.append(data)


def _points(attrs: dict[str, str]) -> np.ndarray:
    """``[n, 2]`` pixel coordinates of a polyline/polygon ``points`` attribute."""
    return np.array([[float(v) for v in p.split(",")] for p in attrs["points"].split()])


def _to_data(svg: Svg, pix: np.ndarray) -> np.ndarray:
    """Invert the documented linear map: pixels → (steps from the origin, value)."""
    frame = svg.of_class("rect", "frame")[0]
    fx, fy, fw, fh = (float(frame[k]) for k in ("x", "y", "width", "height"))
    x0, x1, y0, y1 = (float(svg.attrs[f"data-{k}"]) for k in ("x0", "x1", "y0", "y1"))
    x = x0 + (pix[:, 0] - fx) / fw * (x1 - x0)
    y = y1 - (pix[:, 1] - fy) / fh * (y1 - y0)
    return np.stack([x, y], axis=1)


# --------------------------------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="module")
def boom() -> Path:
    if not (SHARED_BOOM / "results").is_dir():
        pytest.skip(f"published BOOM results not found at {SHARED_BOOM} (shared folder beside the repo)")
    return SHARED_BOOM


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seasonal-naive GIFT-Eval run on m4_hourly + ett1/H with saved forecasts."""
    layouts.shared_data()
    root = tmp_path_factory.mktemp("run")
    layouts.build_m4_hourly(root / "data")
    layouts.build_ett(root / "data", "ett1", ["H"])
    argv = ["run", "--suite", "gift-eval", "--model", "seasonal-naive", "--data-dir", str(root / "data")]
    argv += ["--datasets", "m4_hourly,ett1/H", "--terms", "short", "--output-dir", str(root / "results")]
    assert main([*argv, "--save-forecasts", "--no-progress"]) == 0
    return root / "results" / "gift-eval" / "seasonal-naive"


def _report_argv(boom: Path, out: Path, run_folder: Path) -> list[str]:
    return [
        "report", "--suite", "boom", "--results-dir", str(boom / "results"), "--output", str(out),
        "--forecasts", str(run_folder), "--plot", ",".join(RUN_PLOTS),
        "--plot-items", str(PLOT_ITEMS), "--plot-windows", str(PLOT_WINDOWS),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def site(boom: Path, run_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    assert main(_report_argv(boom, out, run_folder)) == 0
    return out / "index.html"


@pytest.fixture(scope="module")
def page(site: Path) -> Page:
    return Page(site.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------------------------------
# board and breakdowns


def test_every_model_of_the_results_dir_is_one_board_row(boom: Path, page: Page) -> None:
    models = sorted(p.name for p in (boom / "results").iterdir() if (p / "all_results.csv").is_file())
    assert len(models) == 23
    names = [row[0][1] for row in page.tables["board"].rows]
    assert sorted(names) == models


def test_board_cells_hold_the_published_leaderboard_numbers(boom: Path, page: Page) -> None:
    published = pd.read_csv(boom / "leaderboards" / "boom_leaderboard.csv")
    board = page.tables["board"]
    assert board.header == list(published.columns)
    assert [row[0][1] for row in board.rows] == list(published["model"])  # published row order too
    for row, (_, expected) in zip(board.rows, published.iterrows(), strict=True):
        for (value, _), column in zip(row[1:], published.columns[1:], strict=True):
            assert round(float(value), 3) == pytest.approx(expected[column], abs=1e-9), (row[0], column)


def test_numeric_headers_are_marked_for_numeric_sorting_and_start_unsorted(page: Page) -> None:
    attrs = page.tables["board"].header_attrs
    assert [a["data-type"] for a in attrs] == ["text"] + ["number"] * 6
    assert {a["aria-sort"] for a in attrs} == {"none"}


@pytest.mark.parametrize(
    ("group", "metric"), [("full_benchmark", "MASE"), ("type", "MASE"), ("full_benchmark", "CRPS")]
)
def test_breakdown_tables_equal_the_published_breakdown_files(
    boom: Path, page: Page, group: str, metric: str
) -> None:
    # real_term/domain and type CRPS carry the documented upstream 2.5b/1b exchange (boom_protocol §8.1)
    published = pd.read_csv(boom / "breakdown_tabels" / f"{group}_{metric}_shifted_gmean.csv", index_col=0)
    table = next(t for t in page.tables.values() if t.caption.startswith(f"{group}: {metric} "))
    assert table.header[1:] == list(published.columns)
    assert sorted(row[0][1] for row in table.rows) == sorted(published.index)
    for row in table.rows:
        ours = [round(float(v), 3) for v, _ in row[1:]]
        assert ours == pytest.approx(list(published.loc[row[0][1]]), abs=1e-9)


def test_all_four_breakdown_groups_have_a_mase_and_a_crps_table(page: Page) -> None:
    captions = sorted(t.caption.split(" (")[0] for t in page.tables.values() if t.caption)
    groups = ("domain", "full_benchmark", "real_term", "type")
    assert captions == sorted(f"{g}: {m}" for g in groups for m in ("MASE", "CRPS"))


# --------------------------------------------------------------------------------------------------
# rank plots


def test_rank_bars_are_proportional_to_the_published_mean_ranks(boom: Path, page: Page) -> None:
    published = pd.read_csv(boom / "leaderboards" / "boom_leaderboard.csv").set_index("model")
    bars = [s for s in page.svgs if "rank-bars" in s.attrs.get("class", "")]
    assert [s.title.split(":")[0] for s in bars] == ["Rank-6750-scaled", "Rank-663-unscaled"]
    for svg in bars:
        column = svg.title.split(":")[0]
        rects = svg.of_class("rect", "bar")
        assert len(rects) == 23
        widths = np.array([float(r["width"]) for r in rects])
        # the axis spans 0..n: width / full width · 23 = the mean rank; bars come best first
        names = [t.split(":")[0] for tag, _, t in svg.children if tag == "rect"]
        np.testing.assert_allclose(widths / 300 * 23, published.loc[names, column], atol=0.01)
        assert list(published.loc[names, column]) == sorted(published[column])


@pytest.mark.parametrize(("split", "configs"), [("Non-flat", 6750), ("Flat", 663)])
def test_rank_strips_count_every_config_once_per_model_and_rank(page: Page, split: str, configs: int) -> None:
    strip = next(
        s for s in page.svgs if "rank-strip" in s.attrs.get("class", "") and s.title.startswith(split)
    )
    counts = np.zeros((23, 23), dtype=np.int64)
    models: list[str] = []
    for tag, _, tip in strip.children:
        if tag != "rect":
            continue
        match = re.fullmatch(r"(.+): rank (\d+) on (\d+) of (\d+) configs \(.*\)", tip)
        assert match, tip
        name, rank, count, total = match[1], int(match[2]), int(match[3]), int(match[4])
        assert total == configs
        if name not in models:
            models.append(name)
        counts[models.index(name), rank - 1] = count
    # ties="first": per config the 23 ranks are a permutation of 1..23, so every row and column sums up
    assert len(models) == 23
    assert counts.sum(axis=1).tolist() == [configs] * 23
    assert counts.sum(axis=0).tolist() == [configs] * 23


# --------------------------------------------------------------------------------------------------
# forecast plots


def _m4_series() -> dict[str, np.ndarray]:
    m4 = layouts.SHARED / "data" / "m4"
    train = pd.read_csv(m4 / "Hourly-train.csv", index_col=0)
    test = pd.read_csv(m4 / "Hourly-test.csv", index_col=0)
    return {
        i: np.concatenate([train.loc[i].dropna().to_numpy(), test.loc[i].dropna().to_numpy()])
        for i in train.index[:PLOT_ITEMS]
    }


_TITLE = re.compile(
    r"seasonal-naive · (\S+) · item (\S+) · window (\d+) \(origin t=(\d+)\)(?: · variate (\d+)/(\d+))?"
)


def _forecast_svgs(page: Page) -> list[tuple[re.Match[str], Svg]]:
    out = []
    for svg in page.svgs:
        if "forecast-plot" in svg.attrs.get("class", ""):
            match = _TITLE.fullmatch(svg.title)
            assert match, svg.title
            out.append((match, svg))
    return out


def test_one_titled_panel_per_chosen_config_item_and_window(page: Page, run_folder: Path) -> None:
    panels = _forecast_svgs(page)
    got = [(m[1], m[2], int(m[3]), int(m[4])) for m, _ in panels]
    expected = []
    for config in RUN_PLOTS:
        stored = np.load(run_folder / "forecasts" / (config.replace("/", "__") + ".npz"))
        offsets, cuts = stored["offsets"], stored["cuts"]
        for s in range(PLOT_ITEMS):
            if s + 1 >= len(offsets):
                break
            first, stop = int(offsets[s]), int(offsets[s + 1])
            for row in range(max(first, stop - PLOT_WINDOWS), stop):
                expected.append((config, str(stored["item_ids"][s]), row - first, int(cuts[row])))
    assert got == expected
    assert len(page.captions) == len(expected)


def test_median_polyline_points_are_the_stored_median_at_steps_0_to_h_minus_1(
    page: Page, run_folder: Path
) -> None:
    for match, svg in _forecast_svgs(page):
        config, item, window = match[1], match[2], int(match[3])
        stored = np.load(run_folder / "forecasts" / (config.replace("/", "__") + ".npz"))
        s = list(stored["item_ids"]).index(item)
        row = int(stored["offsets"][s]) + window
        median = stored["quantiles"][row, 0, :, list(stored["levels"]).index(0.5)].astype(np.float64)
        (line,) = svg.of_class("polyline", "median")  # seasonal naive has no NaN here: one run
        data = _to_data(svg, _points(line))
        np.testing.assert_allclose(data[:, 0], np.arange(len(median)), atol=0.01)
        span = float(svg.attrs["data-y1"]) - float(svg.attrs["data-y0"])
        np.testing.assert_allclose(data[:, 1], median, atol=1e-4 * span)


def test_band_polygon_runs_along_the_10_and_back_along_the_90_percent_quantile(
    page: Page, run_folder: Path
) -> None:
    match, svg = _forecast_svgs(page)[0]
    stored = np.load(run_folder / "forecasts" / (match[1].replace("/", "__") + ".npz"))
    levels = list(stored["levels"])
    s = list(stored["item_ids"]).index(match[2])
    q = stored["quantiles"][int(stored["offsets"][s]) + int(match[3]), 0].astype(np.float64)
    (band,) = svg.of_class("polygon", "band")
    data = _to_data(svg, _points(band))
    h = q.shape[0]
    span = float(svg.attrs["data-y1"]) - float(svg.attrs["data-y0"])
    np.testing.assert_allclose(data[:, 0], np.r_[np.arange(h), np.arange(h)[::-1]], atol=0.01)
    expected = np.r_[q[:, levels.index(0.1)], q[::-1, levels.index(0.9)]]
    np.testing.assert_allclose(data[:, 1], expected, atol=1e-4 * span)


def test_context_and_truth_lines_are_the_raw_m4_values_around_the_origin(page: Page) -> None:
    series = _m4_series()
    checked = 0
    for match, svg in _forecast_svgs(page):
        if match[1] != "m4_hourly/H/short":
            continue
        values, cut = series[match[2]], int(match[4])
        span = float(svg.attrs["data-y1"]) - float(svg.attrs["data-y0"])
        (context,) = svg.of_class("polyline", "context")
        ctx = _to_data(svg, _points(context))
        steps = np.rint(ctx[:, 0]).astype(int)
        assert steps[-1] == -1 and np.all(np.diff(steps) == 1)
        np.testing.assert_allclose(ctx[:, 1], values[cut + steps], atol=1e-4 * span)
        (truth,) = svg.of_class("polyline", "truth")
        tru = _to_data(svg, _points(truth))
        np.testing.assert_allclose(tru[:, 0], np.arange(48), atol=0.01)  # m4 hourly: H = 48
        np.testing.assert_allclose(tru[:, 1], values[cut : cut + 48], atol=1e-4 * span)
        checked += 1
    assert checked == PLOT_ITEMS  # one window per M4 series


def test_multivariate_panels_say_which_variate_they_show(page: Page) -> None:
    ett = [m for m, _ in _forecast_svgs(page) if m[1] == "ett1/H/short"]
    assert ett and all((m[5], m[6]) == ("1", "7") for m in ett)


def _panel(median: list[float], *, item: str = "a") -> ForecastPanel:
    h = len(median)
    return ForecastPanel(
        model="m", suite="gift-eval", config="d/H/short", item_id=item, window=0, cut=10, variate=0,
        n_variates=1, context=np.arange(10.0), truth=np.full(h, 5.0), low=np.zeros(h),
        median=np.array(median), high=np.full(h, 20.0),
    )  # fmt: skip


def test_a_nan_in_the_median_breaks_the_line_into_the_finite_runs() -> None:
    svg = Page(forecast_svg(_panel([1.0, 2.0, math.nan, 4.0, 5.0, 6.0]))).svgs[0]
    runs = [_to_data(svg, _points(p)) for p in svg.of_class("polyline", "median")]
    assert [np.rint(r[:, 0]).tolist() for r in runs] == [[0, 1], [3, 4, 5]]
    np.testing.assert_allclose(np.concatenate(runs)[:, 1], [1, 2, 4, 5, 6], atol=1e-3)


def test_hand_computed_pixel_positions_of_a_small_panel() -> None:
    # context 0..9 at x=-10..-1, horizon 4 → x domain [-10, 3]; values 0..20 → y domain [-1, 21] (5 % pad)
    svg = Page(forecast_svg(_panel([0.0, 10.0, 20.0, 10.0]))).svgs[0]
    frame = svg.of_class("rect", "frame")[0]
    assert (frame["x"], frame["y"], frame["width"], frame["height"]) == ("56", "8", "276", "148")
    (line,) = svg.of_class("polyline", "median")
    # x = 56 + (h + 10) / 13 · 276; y = 8 + (21 - v) / 22 · 148
    assert line["points"] == "268.31,149.27 289.54,82.00 310.77,14.73 332.00,82.00"


# --------------------------------------------------------------------------------------------------
# escaping, determinism, errors


def test_text_from_data_is_escaped_in_tables_and_plots() -> None:
    evil = '<img src=x onerror="alert(1)">&'
    table = sortable_table(pd.DataFrame({"model": [evil], "MASE": [0.5]}), table_id="t")
    svg = forecast_svg(_panel([1.0, 2.0], item=evil))
    text = html_page(evil, table + svg)
    assert "<img" not in text
    # page <title>, the row's data-key, the cell's data-value and text, the svg <title>
    assert text.count("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;") == 5
    assert Page(text).tables["t"].rows[0][0][1] == evil  # and reads back as the original text


def test_the_page_is_self_contained(site: Path) -> None:
    text = site.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["'](https?:)?//""", text)  # no CDN, no remote asset
    assert "fetch(" not in text and "XMLHttpRequest" not in text
    assert sorted(p.name for p in site.parent.iterdir()) == ["index.html"]


def test_rebuilding_gives_byte_identical_output(
    boom: Path, run_folder: Path, site: Path, tmp_path: Path
) -> None:
    assert main(_report_argv(boom, tmp_path, run_folder)) == 0
    assert (tmp_path / "index.html").read_bytes() == site.read_bytes()


def test_a_config_without_saved_forecasts_is_named_with_the_saved_ones(
    boom: Path, run_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["report", "--suite", "boom", "--results-dir", str(boom / "results"), "--output", str(tmp_path)]
    assert main([*argv, "--forecasts", str(run_folder), "--plot", "ett1/H/medium"]) == 2
    err = capsys.readouterr().err
    assert "no saved forecasts for ['ett1/H/medium']; saved configs: ett1/H/short, m4_hourly/H/short" in err
    assert not (tmp_path / "index.html").exists()


def test_plot_without_forecasts_is_an_error(
    boom: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["report", "--suite", "boom", "--results-dir", str(boom / "results"), "--output", str(tmp_path)]
    assert main([*argv, "--plot", "m4_hourly/H/short"]) == 2
    assert "--plot chooses configs of --forecasts" in capsys.readouterr().err
