"""``--suite lsf``: TSLib borders, train z-score, stride-1 origins, MSE/MAE of the median, the LSF board.

Oracles:

- the published LTSF-Linear "Repeat" row at H=96 (ETTh2 0.432/0.422, ETTm1 1.214/0.665, ETTm2 0.266/0.328,
  weather 0.259/0.254, MSE/MAE), reproduced by ``toto-bench run --suite lsf --model naive`` on the raw files
  of ``../shared/data/lsf`` (read in place);
- an independent numpy transcription of the TSLib split + ``StandardScaler`` + Repeat / seasonal-repeat
  forecast (:func:`tslib_reference`) for the other horizons, the seasonal-naive model and generated
  exchange_rate/traffic files in the TSLib layout;
- ``TOTO_BENCH_FULL_LSF=1`` also runs every dataset and horizon against the averages of
  ``docs/time_lsf_protocol.md`` §B.5 (about four minutes on two cores).
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import ClassVar

import layouts
import numpy as np
import pandas as pd
import pytest

from toto_bench.adapters.base import QuantileForecast
from toto_bench.adapters.statistical import NaiveForecaster
from toto_bench.cli import main
from toto_bench.engine.forecasting import forecast_parts, forecast_series
from toto_bench.engine.runner import RunOptions, run_suite
from toto_bench.engine.tasks import build_task
from toto_bench.suites import get_suite
from toto_bench.suites.lsf import lsf_borders

#: LTSF-Linear (cure-lab/LTSF-Linear) "Repeat" row, H = 96: (MSE, MAE).
PUBLISHED_REPEAT_96 = {
    "ETTh2": (0.432, 0.422),
    "ETTm1": (1.214, 0.665),
    "ETTm2": (0.266, 0.328),
    "weather": (0.259, 0.254),
}
#: docs/time_lsf_protocol.md §B.5 "computed_here": averages over the four horizons (MSE, MAE).
DOC_AVERAGES = {
    "naive": {
        "ETTh1": (1.3211, 0.7368),
        "ETTh2": (0.5393, 0.4810),
        "ETTm1": (1.2710, 0.6980),
        "ETTm2": (0.3850, 0.3935),
        "weather": (0.3525, 0.3193),
    },
    "seasonal-naive": {
        "ETTh1": (0.5996, 0.4793),
        "ETTh2": (0.4825, 0.4371),
        "ETTm1": (0.4890, 0.4206),
        "ETTm2": (0.3577, 0.3572),
        "weather": (0.3713, 0.3235),
    },
}
FILES = {
    "ETTh1": ("ETT-small/ETTh1.csv", "hour", 24),
    "ETTh2": ("ETT-small/ETTh2.csv", "hour", 24),
    "ETTm1": ("ETT-small/ETTm1.csv", "minute", 96),
    "ETTm2": ("ETT-small/ETTm2.csv", "minute", 96),
    "weather": ("weather/weather.csv", "custom", 144),
    "electricity": ("electricity/electricity.csv", "custom", 24),
    "traffic": ("traffic/traffic.csv", "custom", 24),
    "exchange_rate": ("exchange_rate/exchange_rate.csv", "custom", 1),
}


def tslib_reference(path: Path, kind: str, horizon: int, season: int = 1) -> tuple[float, float]:
    """MSE/MAE of repeating the value ``season`` steps back (1 = LTSF-Linear "Repeat"), TSLib protocol.

    Written from the TSLib data loaders' description: ETT borders 12/4/4 months of 30 days (×4 for 15-minute
    data), other files 70/10/20 with the test region at the end and columns ``others + OT``; z-score with the
    train rows' mean and population std; origins every row of the test region that leaves H labels.
    """
    frame = pd.read_csv(path)
    if kind == "custom":
        cols = [c for c in frame.columns if c not in ("date", "OT")] + ["OT"]
        n = len(frame)
        train_end, test_start, test_end = int(n * 0.7), n - int(n * 0.2), n
    else:
        cols = list(frame.columns[1:])
        month = 30 * 24 * (4 if kind == "minute" else 1)
        train_end, test_start, test_end = 12 * month, 16 * month, 20 * month
    x = frame[cols].to_numpy(np.float64)
    mean, std = x[:train_end].mean(axis=0), x[:train_end].std(axis=0)
    z = (x - mean) / np.where(std == 0, 1, std)
    origins = np.arange(test_start, test_end - horizon + 1)
    sq = ab = 0.0
    for h in range(horizon):
        error = z[origins + h] - z[origins - season + (h % season)]
        sq += float(np.square(error).sum())
        ab += float(np.abs(error).sum())
    count = len(origins) * horizon * x.shape[1]
    return sq / count, ab / count


def _shared_lsf() -> Path:
    return layouts.shared_data() / "lsf"


def _run(data: Path, out: Path, model: str, *extra: str) -> int:
    argv = ["run", "--suite", "lsf", "--model", model, "--data-dir", str(data), "--output-dir", str(out)]
    return main([*argv, "--no-progress", *extra])


def _results(out: Path, model: str) -> pd.DataFrame:
    return pd.read_csv(out / "lsf" / model / "all_results.csv", float_precision="round_trip").set_index(
        "dataset"
    )


# ------------------------------------------------------------------------------------------------------
# Real data


@pytest.fixture(scope="module")
def repeat_96(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("lsf96")
    assert _run(_shared_lsf(), out, "naive", "--datasets", "ETTh2,ETTm1,ETTm2,weather", "--terms", "96") == 0
    return _results(out, "naive")


@pytest.mark.parametrize("name", list(PUBLISHED_REPEAT_96))
def test_naive_reproduces_the_published_repeat_row(repeat_96: pd.DataFrame, name: str) -> None:
    mse, mae = PUBLISHED_REPEAT_96[name]
    row = repeat_96.loc[f"{name}/96"]
    assert abs(row["MSE"] - mse) <= 0.0015 and abs(row["MAE"] - mae) <= 0.0015
    path, kind, _ = FILES[name]
    ref = tslib_reference(_shared_lsf() / path, kind, 96)
    np.testing.assert_allclose([row["MSE"], row["MAE"]], ref, rtol=1e-5)


def test_results_file_schema(repeat_96: pd.DataFrame) -> None:
    assert list(repeat_96.reset_index().columns) == ["dataset", "model", "MSE", "MAE"]
    assert list(repeat_96.index) == ["ETTh2/96", "ETTm1/96", "ETTm2/96", "weather/96"]


@pytest.fixture(scope="module")
def etth1(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("etth1")
    assert _run(_shared_lsf(), out, "naive", "--datasets", "ETTh1") == 0
    assert _run(_shared_lsf(), out, "seasonal-naive", "--datasets", "ETTh1", "--terms", "96,720") == 0
    return out


@pytest.mark.parametrize(("model", "season"), [("naive", 1), ("seasonal-naive", 24)])
def test_every_horizon_matches_the_independent_tslib_transcription(
    etth1: Path, model: str, season: int
) -> None:
    results = _results(etth1, model)
    horizons = [96, 192, 336, 720] if model == "naive" else [96, 720]
    assert list(results.index) == [f"ETTh1/{h}" for h in horizons]
    for h in horizons:
        ref = tslib_reference(_shared_lsf() / FILES["ETTh1"][0], "hour", h, season)
        np.testing.assert_allclose(results.loc[f"ETTh1/{h}", ["MSE", "MAE"]].to_numpy(float), ref, rtol=1e-5)
    if model == "naive":  # the four-horizon average of the doc's computed_here table
        avg = results[["MSE", "MAE"]].mean().to_numpy()
        np.testing.assert_allclose(avg, DOC_AVERAGES["naive"]["ETTh1"], atol=6e-5)


def test_run_record_and_default_selection(etth1: Path) -> None:
    record = json.loads((etth1 / "lsf" / "naive" / "config.json").read_text())
    assert record["protocol"] == "lsf"
    assert record["settings"]["protocol"] == {"context_length": None, "stride": 1}
    assert record["datasets"] == ["ETTh1"] and record["missing_datasets"] == []


FULL = pytest.mark.skipif(not os.environ.get("TOTO_BENCH_FULL_LSF"), reason="TOTO_BENCH_FULL_LSF=1: ~4 min")


@FULL
def test_full_suite_matches_the_doc_averages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for model in ("naive", "seasonal-naive"):
        assert _run(_shared_lsf(), tmp_path, model) == 0
        assert "electricity" in capsys.readouterr().err  # absent from the shared data: skipped, reported
        results = _results(tmp_path, model)
        for name, expected in DOC_AVERAGES[model].items():
            rows = results.loc[[f"{name}/{h}" for h in (96, 192, 336, 720)], ["MSE", "MAE"]]
            np.testing.assert_allclose(rows.mean().to_numpy(), expected, atol=6e-5, err_msg=f"{model} {name}")
            path, kind, season = FILES[name]
            for h in (96, 192, 336, 720):
                ref = tslib_reference(
                    _shared_lsf() / path, kind, h, season if model == "seasonal-naive" else 1
                )
                np.testing.assert_allclose(rows.loc[f"{name}/{h}"].to_numpy(float), ref, rtol=1e-5)


# ------------------------------------------------------------------------------------------------------
# Generated files in the TSLib layout (exchange_rate is not in the shared data; a generated one has the
# published 8 columns, which the suite checks, and stays small)


def _write_custom(
    root: Path, name: str, n_rows: int, columns: list[str], seed: int = 0, freq: str = "h"
) -> Path:
    """``<root>/<name>/<name>.csv``: ``date`` + ``columns`` (rows every ``freq``), seasonal random walks."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_rows)
    data = {"date": pd.date_range("2016-07-01", periods=n_rows, freq=freq).strftime("%Y-%m-%d %H:%M:%S")}
    for j, col in enumerate(columns):
        data[col] = 100 * (j + 1) + 10 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 1, n_rows).cumsum()
    path = root / name / f"{name}.csv"
    path.parent.mkdir(parents=True)
    pd.DataFrame(data).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tslib")
    # OT first in the file: TSLib moves it last; 3000 rows → train 2100, test [2400, 3000)
    _write_custom(root, "exchange_rate", 3000, ["OT", *map(str, range(7))], freq="D")
    return root


@pytest.mark.parametrize(("model", "season"), [("naive", 1), ("seasonal-naive", 1)])  # daily: m = 1
def test_exchange_rate_from_a_user_file(generated: Path, tmp_path: Path, model: str, season: int) -> None:
    assert _run(generated, tmp_path, model, "--datasets", "exchange_rate", "--terms", "96,192,336") == 0
    results = _results(tmp_path, model)
    for h in (96, 192, 336):
        ref = tslib_reference(generated / FILES["exchange_rate"][0], "custom", h, season)
        np.testing.assert_allclose(
            results.loc[f"exchange_rate/{h}", ["MSE", "MAE"]].to_numpy(float), ref, rtol=1e-5
        )


def test_custom_borders_and_column_order() -> None:
    assert lsf_borders("custom", 52696) == (36887, 52696 - 10539, 52696)  # weather: 70/10/20
    assert lsf_borders("custom", 26304)[:2] == (18412, 26304 - 5260)  # electricity
    assert lsf_borders("ett_hour", 17420) == (8640, 11520, 14400)
    assert lsf_borders("ett_minute", 69680) == (34560, 46080, 57600)
    with pytest.raises(ValueError, match="14400"):
        lsf_borders("ett_hour", 14000)


class Recorder:
    """A multivariate list-API model: records context shapes, forecasts the last value."""

    name = "recorder"
    supports_multivariate: ClassVar[bool] = True
    context_length = None

    def __init__(self) -> None:
        self.shapes: list[tuple[int, int]] = []
        self.calls: list[int] = []

    def predict(
        self, contexts: list[np.ndarray], horizon: int, *, freq: str, seasonality: int
    ) -> QuantileForecast:
        self.shapes += [c.shape for c in contexts]
        self.calls.append(len(contexts))
        last = np.stack([c[:, -1] for c in contexts])[:, :, None, None]
        return QuantileForecast(np.broadcast_to(last, (len(contexts), last.shape[1], horizon, 9)).copy())


def test_protocol_context_cap_stride_and_whole_items(generated: Path, tmp_path: Path) -> None:
    model = Recorder()
    options = RunOptions(
        datasets=["exchange_rate"],
        terms=["96"],
        output_dir=tmp_path,
        data_dir=generated,
        progress=False,
        protocol_options={"context_length": 512, "stride": 24},
    )
    run_suite(get_suite("lsf"), "recorder", lambda: model, options)
    # test [2400, 3000): origins 2400, 2424, ... up to 3000 - 96 → (600 - 96) // 24 + 1 = 22 windows
    assert len(model.shapes) == 22 and set(model.shapes) == {(8, 512)}
    results = _results(tmp_path, "recorder")
    ref = tslib_reference(generated / FILES["exchange_rate"][0], "custom", 96)  # stride 1, for scale only
    assert results.loc["exchange_rate/96", "MSE"] == pytest.approx(ref[0], rel=0.3)
    record = json.loads((tmp_path / "lsf" / "recorder" / "config.json").read_text())
    assert record["settings"]["protocol"] == {"context_length": 512, "stride": 24}


def test_protocol_options_change_the_results_key(generated: Path, tmp_path: Path) -> None:
    base = ["--datasets", "exchange_rate", "--terms", "96"]
    assert _run(generated, tmp_path, "naive", *base) == 0
    journal = tmp_path / "lsf" / "naive" / "journal.jsonl"
    assert _run(generated, tmp_path, "naive", *base) == 0
    assert journal.read_text().count("\n") == 1  # reused
    assert _run(generated, tmp_path, "naive", *base, "--context-length", "200") == 0
    assert journal.read_text().count("\n") == 2  # recomputed under the new key
    # the last value does not depend on the cap
    lines = [json.loads(x) for x in journal.read_text().splitlines()]
    assert lines[0]["row"]["MSE"] == pytest.approx(lines[1]["row"]["MSE"], rel=1e-12)


def test_missing_files_are_skipped_by_default_and_required_when_named(
    generated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LSF_DATA", str(generated))  # the env var locates the data
    argv = ["run", "--suite", "lsf", "--model", "naive", "--terms", "96", "--output-dir", str(tmp_path)]
    assert main([*argv, "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "skipped" in err and "ETTh1" in err and "traffic" in err
    assert list(_results(tmp_path, "naive").index) == ["exchange_rate/96"]
    assert main([*argv, "--datasets", "traffic"]) == 2
    err = capsys.readouterr().err
    assert str(generated / "traffic" / "traffic.csv") in err and "$LSF_DATA" in err


@pytest.mark.parametrize(
    ("columns", "edit", "needle"),
    [
        (["0", "1"], None, "'OT'"),
        (["0", "OT"], "nan", "missing"),
        (["0", "OT"], "text", "non-numeric"),
    ],
)
def test_bad_files_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], columns: list[str], edit: str | None, needle: str
) -> None:
    path = _write_custom(tmp_path / "d", "traffic", 1000, columns)
    if edit is not None:
        frame = pd.read_csv(path)
        frame["0"] = frame["0"].astype(object)
        frame.loc[500, "0"] = np.nan if edit == "nan" else "x"
        frame.to_csv(path, index=False)
    assert _run(tmp_path / "d", tmp_path / "o", "naive", "--datasets", "traffic", "--terms", "96") == 2
    err = capsys.readouterr().err
    assert str(path) in err and needle in err


def test_stride_is_an_lsf_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["run", "--suite", "gift-eval", "--model", "naive", "--stride", "2", "--output-dir", str(tmp_path)]
    assert main(argv) == 2
    assert "--stride" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------------
# Bounded memory: chunks of windows, identical numbers


@pytest.mark.parametrize("model_kind", ["prefix", "list"])
def test_bounded_chunks_give_identical_forecasts(model_kind: str) -> None:
    rng = np.random.default_rng(3)
    target = rng.normal(size=(3, 2000)).astype(np.float32).cumsum(axis=1)
    cuts = np.arange(1500, 2000 - 48 + 1, dtype=np.int64)  # 453 stride-1 windows
    task = build_task(config="x", storage_name="x", term="short", freq="H", min_length=2000, target_dim=3)
    model = NaiveForecaster()
    if model_kind == "list":

        class ListOnly:
            name = "list"
            supports_multivariate: ClassVar[bool] = False
            context_length = None

            def predict(self, contexts: list[np.ndarray], horizon: int, **kw: object) -> QuantileForecast:
                return model.predict(contexts, horizon, freq="H", seasonality=24)

        used: object = ListOnly()
    else:
        used = model
    full = forecast_series(model, [target], [cuts], task)[0]
    budget = 3 * 48 * 9 * 40  # 40 windows of values
    parts = list(forecast_parts(used, [target], [cuts], task, bounded=True, budget=budget))  # type: ignore[arg-type]
    assert len(parts) > 5 and all(p.forecast.quantiles.shape[0] <= 41 for p in parts)
    assert [p.start for p in parts] == list(
        np.cumsum([0] + [p.forecast.quantiles.shape[0] for p in parts])[:-1]
    )
    np.testing.assert_array_equal(np.concatenate([p.forecast.quantiles for p in parts]), full.quantiles)


# ------------------------------------------------------------------------------------------------------
# The board


def test_lsf_board_averages_the_horizons(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for model, values in {"a": (1.0, 0.5), "b": (2.0, 1.0)}.items():
        folder = tmp_path / model
        folder.mkdir()
        rows = [
            {"dataset": f"{name}/{h}", "model": model, "MSE": values[0] * h / 96, "MAE": values[1] * k}
            for k, name in enumerate(["weather", "ETTh1"], start=1)
            for h in (96, 192, 336, 720)
        ]
        pd.DataFrame(rows).to_csv(folder / "all_results.csv", index=False)
    assert main(["leaderboard", "--suite", "lsf", "--results-dir", str(tmp_path), "--format", "csv"]) == 0
    board = pd.read_csv(io.StringIO(capsys.readouterr().out)).set_index("dataset")
    assert list(board.index) == ["ETTh1", "weather", "mean"]  # literature order, then the mean row
    factor = (96 + 192 + 336 + 720) / 4 / 96
    assert board.loc["ETTh1", "a MSE"] == pytest.approx(round(factor, 3))
    assert board.loc["ETTh1", "b MAE"] == pytest.approx(2.0)
    assert board.loc["weather", "b MAE"] == pytest.approx(1.0)
    assert board.loc["mean", "a MAE"] == pytest.approx(0.75)
    assert board.loc["ETTh1", "horizons"] == "96/192/336/720"
    assert main(["leaderboard", "--suite", "lsf", "--results-dir", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "# LSF leaderboard" in text and "## Per horizon" in text and "Rank ties" not in text
