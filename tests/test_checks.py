"""What toto-bench checks (docs/checks.md): bad data and bad forecasts stop a run with one line naming them.

Each case is a repro of issue 13 that was scored silently (or raised a raw traceback) before the checks.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import layouts
import numpy as np
import pandas as pd
import pytest

from toto_bench.adapters.base import QuantileForecast
from toto_bench.adapters.statistical import SeasonalNaiveForecaster
from toto_bench.cli import main
from toto_bench.engine.data import CorruptDatasetError, load_dataset
from toto_bench.engine.forecasting import score_task
from toto_bench.engine.protocol import RunError
from toto_bench.engine.tasks import build_task, window_cuts
from toto_bench.suites.gift_eval import GiftEvalScorer

START = pd.Timestamp("2020-01-01")


def _series(length: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (10 + np.sin(np.arange(length) / 5) + rng.normal(size=length)).astype(np.float32)


def _cut_at_batch(arrow: Path, batches_kept: int) -> int:
    """Cut the arrow stream ``arrow`` right after its ``batches_kept``-th record batch; return rows kept."""
    import pyarrow as pa

    with pa.memory_map(str(arrow)) as src, pa.ipc.open_stream(src) as reader:
        schema = reader.schema
        batches = [reader.read_next_batch() for _ in range(batches_kept)]
    sink = pa.BufferOutputStream()
    writer = pa.ipc.new_stream(sink, schema)
    for batch in batches:
        writer.write_batch(batch)
    data = sink.getvalue().to_pybytes()  # no end-of-stream marker: the writer is not closed
    original = arrow.read_bytes()
    assert original.startswith(data)  # the same bytes as the original file up to that batch boundary
    arrow.write_bytes(data)
    return sum(b.num_rows for b in batches)


# ---------------------------------------------------------------------------------------------------------
# item 1: a truncated arrow file


def test_arrow_file_cut_at_a_record_batch_boundary_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "us_births" / "W"
    layouts.write_dataset(folder, [_series(60, seed=i) for i in range(2500)], freq="W", start=START)
    (arrow,) = folder.glob("*.arrow")
    kept = _cut_at_batch(arrow, 2)
    assert kept == 2000  # datasets writes batches of 1000 rows: the 2500 → 2000 case
    with pytest.raises(CorruptDatasetError, match=r"end-of-stream|truncated") as info:
        load_dataset("gift-eval", "us_births/W", tmp_path)
    assert str(arrow) in str(info.value)


def test_series_count_recorded_in_the_folder_is_checked(tmp_path: Path) -> None:
    folder = tmp_path / "us_births" / "W"
    layouts.write_dataset(folder, [_series(60, seed=i) for i in range(5)], freq="W", start=START)
    info = folder / "dataset_info.json"
    import json

    meta = json.loads(info.read_text())
    assert meta["splits"]["train"]["num_examples"] == 5  # written with the dataset
    meta["splits"]["train"]["num_examples"] = 7
    info.write_text(json.dumps(meta))
    with pytest.raises(CorruptDatasetError, match=r"7 series.*5|expected 7.*found 5"):
        load_dataset("gift-eval", "us_births/W", tmp_path)


def test_truncated_dataset_stops_the_run_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "data" / "us_births" / "W"
    layouts.write_dataset(folder, [_series(60, seed=i) for i in range(2500)], freq="W", start=START)
    (arrow,) = folder.glob("*.arrow")
    _cut_at_batch(arrow, 2)
    out = tmp_path / "out"
    argv = ["run", "--suite", "gift-eval", "--model", "seasonal-naive", "--data-dir", str(tmp_path / "data")]
    assert main([*argv, "--datasets", "us_births/W", "--output-dir", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert str(arrow) in err and len(err.strip().splitlines()) == 1
    assert not list(out.rglob("all_results.csv"))


#: A BOOM dataset with 91 variates (packaged boom_properties.json; its true target_dim in the shared
#: derived/windows_and_target_dim_per_config.csv too).
BOOM_NAME, BOOM_COUNT = "ds-2-5T", 91


def _write_boom_rows(folder: Path, n: int, batch_rows: int = 20) -> Path:
    """``n`` univariate series of 600 steps as ``n`` rows, written in record batches of ``batch_rows``."""
    from unittest import mock

    import datasets

    with mock.patch.object(datasets.config, "DEFAULT_MAX_BATCH_SIZE", batch_rows):
        layouts.write_dataset(folder, [_series(600, seed=i) for i in range(n)], freq="5T", start=START)
    (arrow,) = folder.glob("*.arrow")
    return arrow


def _cut_consistently(folder: Path, arrow: Path, batches_kept: int) -> int:
    """Cut ``arrow`` after a record batch, close the stream again and record the new count: a folder that
    is complete by its own metadata, with series missing."""
    import json

    from toto_bench.engine.checks import ARROW_EOS

    kept = _cut_at_batch(arrow, batches_kept)
    with arrow.open("ab") as fh:
        fh.write(ARROW_EOS)
    info = folder / "dataset_info.json"
    meta = json.loads(info.read_text())
    meta["splits"]["train"]["num_examples"] = kept
    info.write_text(json.dumps(meta))
    return kept


def _boom_run(data: Path, out: Path) -> list[str]:
    argv = ["run", "--suite", "boom", "--model", "seasonal-naive", "--data-dir", str(data)]
    return [*argv, "--datasets", BOOM_NAME, "--terms", "short", "--output-dir", str(out), "--no-progress"]


def test_a_boom_folder_that_lost_series_consistently_fails_on_the_published_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    folder = data / BOOM_NAME
    arrow = _write_boom_rows(folder, BOOM_COUNT)
    assert main(_boom_run(data, tmp_path / "complete")) == 0  # all 91 series: accepted
    capsys.readouterr()
    kept = _cut_consistently(folder, arrow, 4)
    assert kept == 80
    assert len(load_dataset("boom", BOOM_NAME, data)) == 80  # the folder's own checks cannot see it
    assert main(_boom_run(data, tmp_path / "cut")) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert f"dataset {BOOM_NAME!r}" in err and "expected 91, found 80" in err
    assert not list((tmp_path / "cut").rglob("all_results.csv"))


def test_a_boom_item_with_a_variate_missing_fails_on_the_published_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    target = np.stack([_series(600, seed=i) for i in range(BOOM_COUNT - 1)])  # the upstream layout: one item
    layouts.write_dataset(data / BOOM_NAME, [target], freq="5T", start=START)
    assert main(_boom_run(data, tmp_path / "out")) == 2
    err = capsys.readouterr().err
    assert f"dataset {BOOM_NAME!r}" in err and "expected 91, found 90" in err


def test_every_boom_dataset_is_checked_against_its_true_target_dim() -> None:
    """The suites' counts equal the shared reference's target dims implied by the published results."""
    from toto_bench.suites import get_suite

    table = pd.read_csv(layouts.shared_data() / "boom" / "derived" / "windows_and_target_dim_per_config.csv")
    table["dataset"] = table["config"].str.split("/").str[0]
    dims = table.groupby("dataset")["target_dim_implied"]
    assert (dims.nunique() == 1).all()
    truth = dims.first().to_dict()
    for name in ("boom", "boomlet"):
        counts = {d.storage_name: d.series_count for d in get_suite(name).datasets}
        assert counts == {ds: int(truth[ds]) for ds in counts}
    assert len(truth) == 2807


def test_an_lsf_file_with_a_column_missing_fails_on_the_published_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = pd.read_csv(layouts.shared_data() / "lsf" / "ETT-small" / "ETTh1.csv")
    path = tmp_path / "data" / "ETT-small" / "ETTh1.csv"
    path.parent.mkdir(parents=True)
    frame.drop(columns=["HULL"]).to_csv(path, index=False)
    argv = ["run", "--suite", "lsf", "--model", "naive", "--data-dir", str(tmp_path / "data")]
    argv += ["--datasets", "ETTh1", "--terms", "96", "--output-dir", str(tmp_path / "out"), "--no-progress"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "'ETTh1'" in err and "expected 7, found 6" in err


# ---------------------------------------------------------------------------------------------------------
# item 4 and 9: rows that disagree with row 0, ragged variates, an empty dataset


@pytest.mark.parametrize(
    ("targets", "freqs", "needles"),
    [
        ([_series(60), _series(60), _series(60)], ["W", "W", "D"], ("row 2", "'D'", "'W'")),
        (
            [np.stack([_series(60), _series(60, 1)]), np.stack([_series(60)] * 3)],
            ["W", "W"],
            ("row 1", "3 variates", "2"),
        ),
        ([[_series(60), _series(50)]], ["W"], ("row 0", "60", "50")),  # ragged: variates of other lengths
    ],
    ids=["other-freq", "other-num-variates", "ragged-variates"],
)
def test_rows_unlike_row_0_are_refused_naming_the_row(
    tmp_path: Path, targets: list, freqs: list[str], needles: tuple[str, ...]
) -> None:
    folder = tmp_path / "us_births" / "W"
    _write_rows(folder, targets, freqs)
    with pytest.raises(CorruptDatasetError) as info:
        load_dataset("gift-eval", "us_births/W", tmp_path)
    for needle in needles:
        assert needle in str(info.value)


def _write_rows(folder: Path, targets: list, freqs: list[str]) -> None:
    import datasets

    multivariate = isinstance(targets[0], list) or np.ndim(targets[0]) == 2
    value: object = datasets.Value("float32")
    features = datasets.Features(
        {
            "item_id": datasets.Value("string"),
            "start": datasets.Value("timestamp[s]"),
            "freq": datasets.Value("string"),
            "target": datasets.Sequence(datasets.Sequence(value) if multivariate else value),
        }
    )
    rows = {
        "item_id": [str(i) for i in range(len(targets))],
        "start": [START.to_datetime64().astype("datetime64[s]")] * len(targets),
        "freq": freqs,
        "target": [
            [list(map(float, v)) for v in t] if multivariate else list(map(float, t)) for t in targets
        ],
    }
    datasets.disable_progress_bars()
    datasets.Dataset.from_dict(rows, features=features).save_to_disk(str(folder))


@pytest.mark.parametrize("shards", [0, 1], ids=["no-arrow-file", "one-empty-arrow-file"])
def test_an_empty_dataset_is_one_line_naming_it_and_a_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], shards: int
) -> None:
    """Zero series: ``save_to_disk`` of an empty table writes no arrow file at all (``datasets`` then fails
    reading it with an ``IndexError``) or, with ``num_shards=1``, one arrow file without rows."""
    import datasets

    folder = tmp_path / "data" / "us_births" / "W"
    features = datasets.Features(
        {
            "item_id": datasets.Value("string"),
            "start": datasets.Value("timestamp[s]"),
            "freq": datasets.Value("string"),
            "target": datasets.Sequence(datasets.Value("float32")),
        }
    )
    columns: dict[str, list] = {"item_id": [], "start": [], "freq": [], "target": []}
    empty = datasets.Dataset.from_dict(columns, features=features)
    datasets.disable_progress_bars()
    empty.save_to_disk(str(folder), **({"num_shards": shards} if shards else {}))
    assert len(list(folder.glob("*.arrow"))) == shards
    with pytest.raises(CorruptDatasetError, match="no series"):
        load_dataset("gift-eval", "us_births/W", tmp_path / "data")
    out = tmp_path / "out"
    argv = ["run", "--suite", "gift-eval", "--model", "seasonal-naive", "--data-dir", str(tmp_path / "data")]
    assert main([*argv, "--datasets", "us_births/W", "--output-dir", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err and "IndexError" not in err
    assert "'us_births/W'" in err and "no series" in err
    assert "toto-bench download --suite gift-eval --datasets us_births/W" in err  # the fix


# ---------------------------------------------------------------------------------------------------------
# item 2 and 9: forecasts checked against what the adapter declares


class Bad:
    """Seasonal naive through the list API, its forecasts spoilt by ``spoil``."""

    name = "bad"
    supports_multivariate: ClassVar[bool] = False
    quantiles_sorted: ClassVar[bool] = True
    batch_size = 1

    def __init__(self, spoil: str, at: int = 1) -> None:
        self.inner = SeasonalNaiveForecaster()
        self.spoil = spoil
        self.at = at  # the call (= window, one context per call) to spoil
        self.calls = 0

    def predict(self, contexts: list[np.ndarray], horizon: int, *, freq: str, seasonality: int) -> object:
        out = self.inner.predict(contexts, horizon, freq=freq, seasonality=seasonality)
        call, self.calls = self.calls, self.calls + 1
        if call != self.at:
            return out
        q = out.quantiles.copy()
        if self.spoil == "reversed":
            q = q[..., ::-1] + np.linspace(0, 1, q.shape[-1])[::-1]
        elif self.spoil == "+inf":
            q[0, 0, 0, -1] = np.inf
        elif self.spoil == "-inf":
            q[0, 0, 0, 0] = -np.inf
        elif self.spoil == "list":
            return [q]
        elif self.spoil == "raise":
            raise RuntimeError("CUDA error: device-side assert triggered")
        return QuantileForecast(q, out.levels, out.mean)


@pytest.mark.parametrize(
    ("spoil", "needles"),
    [
        ("reversed", ("not sorted", "quantiles_sorted", "window 1")),
        ("+inf", ("+inf", "window 1")),
        ("-inf", ("-inf", "window 1")),
        ("list", ("returned list", "QuantileForecast")),
        ("raise", ("RuntimeError", "CUDA error")),
    ],
)
def test_bad_forecasts_stop_the_config_naming_config_series_and_window(
    spoil: str, needles: tuple[str, ...]
) -> None:
    targets = [_series(1500, seed=i) for i in range(3)]
    items = [(f"item-{i}", t[None, :]) for i, t in enumerate(targets)]
    task = build_task(
        config="x/H/short", storage_name="x", term="short", freq="H", min_length=1500, target_dim=1
    )
    cuts = [window_cuts(1500, task.prediction_length, task.windows) for _ in items]
    assert task.windows >= 2
    scorer = GiftEvalScorer(task, domain="Energy", univariate_model=True, allow_nan_forecast=True)
    model = Bad(spoil, at=1)
    with pytest.raises(RunError) as info:
        score_task(model, items, task, cuts, scorer)  # type: ignore[arg-type]
    message = str(info.value)
    assert "x/H/short" in message and "'item-0'" in message
    for needle in needles:
        assert needle in message


# ---------------------------------------------------------------------------------------------------------
# item 3: results cells a board would use silently


PUBLISHED = layouts.SHARED / "data" / "gift-eval" / "results" / "CHARM" / "all_results.csv"


def _spoil(tmp_path: Path, row: int, edit: str) -> Path:
    """A copy of a published GIFT-Eval file with data row ``row`` edited (``column=value`` or ``cut=N``)."""
    lines = PUBLISHED.read_text().splitlines()
    header = lines[0].split(",")
    fields = lines[row].split(",")
    name, value = edit.split("=")
    if name == "cut":
        fields = fields[: int(value)]
    else:
        fields[header.index(name)] = value
    lines[row] = ",".join(fields)
    out = tmp_path / "CHARM" / "all_results.csv"
    out.parent.mkdir(parents=True)
    out.write_text("\n".join(lines) + "\n")
    return out


@pytest.mark.parametrize(
    ("edit", "needles"),
    [
        ("eval_metrics/MASE[0.5]=-0.5", ("row 3", "'eval_metrics/MASE[0.5]'", "-0.5", "negative")),
        ("cut=5", ("line 4", "5 of the header's", "fields")),
    ],
    ids=["negative-mase", "short-row"],
)
def test_bad_results_cells_are_refused_naming_file_row_and_column(
    tmp_path: Path, edit: str, needles: tuple[str, ...]
) -> None:
    from toto_bench.engine.results import ResultsError, read_results_csv

    read_results_csv(PUBLISHED)  # the published file itself is fine
    spoilt = _spoil(tmp_path, 3, edit)
    with pytest.raises(ResultsError) as info:
        read_results_csv(spoilt)
    assert str(spoilt) in str(info.value)
    for needle in needles:
        assert needle in str(info.value)


def test_an_overflowing_literal_reads_as_inf_like_inf_itself(tmp_path: Path) -> None:
    """One test over the three spellings, so that it fails unless ``1e999`` reads like the other two (each
    one alone: ``inf`` and ``Infinity`` read as inf before issue 13 too)."""
    from toto_bench.engine.results import read_results_csv

    read = {}
    for literal in ("inf", "Infinity", "1e999"):
        edit = f"eval_metrics/mean_weighted_sum_quantile_loss={literal}"
        read[literal] = read_results_csv(_spoil(tmp_path / literal, 3, edit))["CRPS"].iloc[2]
    assert read == {literal: float(literal) for literal in read}  # Python's reading of each literal
    assert set(read.values()) == {np.inf}


# ---------------------------------------------------------------------------------------------------------
# item 10: first contact


def test_every_missing_dataset_is_listed_with_one_download_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    layouts.write_dataset(data / "us_births" / "W", [_series(500)], freq="W", start=START)
    argv = [
        "run",
        "--suite",
        "gift-eval",
        "--model",
        "seasonal-naive",
        "--data-dir",
        str(data),
        "--no-progress",
    ]
    names = "us_births/W,us_births/M,m4_hourly,ett1/H"
    assert main([*argv, "--datasets", names, "--output-dir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "us_births/M, m4_hourly, ett1/H" in err and "3 dataset folder(s) are missing" in err
    assert "toto-bench download --suite gift-eval --datasets us_births/M,m4_hourly,ett1/H" in err
    nowhere = [*argv[:-2], str(tmp_path / "nowhere"), "--no-progress"]
    assert main([*nowhere, "--datasets", names]) == 2
    assert f"the data root {tmp_path / 'nowhere'} does not exist" in capsys.readouterr().err
    assert main([*nowhere, "--datasets", "us_births/W"]) == 2  # one missing: the precise error, and why
    assert "the data root does not exist" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "suggestion"),
    [
        (["run", "--suite", "gift-eval", "--model", "seasonal-naive", "--output-dri", "x"], "'--output-dir'"),
        (["leaderboard", "--suite", "boom", "--results-dir", "x", "--parital"], "'--partial'"),
    ],
)
def test_a_misspelt_option_suggests_the_close_one(
    argv: list[str], suggestion: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "unrecognized arguments" in err and f"did you mean {suggestion}" in err


def test_a_config_set_that_differs_suggests_partial(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    published = layouts.SHARED / "data" / "gift-eval" / "results"
    for model in ("CHARM", "seasonal_naive"):
        shutil.copytree(published / model, tmp_path / model)
    charm = tmp_path / "CHARM" / "all_results.csv"
    lines = charm.read_text().splitlines()
    charm.write_text("\n".join(lines[:-1]) + "\n")  # one config missing
    assert main(["leaderboard", "--suite", "gift-eval", "--results-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "config set differs" in err and "pass --partial" in err
