"""Data root resolution, reading one save_to_disk folder, the precise data errors, and the Hub download
(``snapshot_download`` monkeypatched: no network)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from layouts import write_dataset

from toto_bench.engine import data
from toto_bench.engine.data import (
    CorruptDatasetError,
    DatasetNotFoundError,
    DownloadError,
    InvalidSeriesError,
    UnknownDatasetError,
    download,
    load_dataset,
    resolve_data_dir,
)
from toto_bench.suites import gift_eval


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("GIFT_EVAL", raising=False)
    monkeypatch.delenv("BOOM", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def test_data_dir_argument_then_env_var_then_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert resolve_data_dir("gift-eval") == tmp_path / "home" / ".cache" / "toto-bench" / "gift-eval"
    assert resolve_data_dir("gift_eval") == resolve_data_dir("gift-eval")
    assert resolve_data_dir("boom") == tmp_path / "home" / ".cache" / "toto-bench" / "boom"
    monkeypatch.setenv("GIFT_EVAL", str(tmp_path / "env"))
    assert resolve_data_dir("gift-eval") == tmp_path / "env"
    assert resolve_data_dir("boom") == tmp_path / "home" / ".cache" / "toto-bench" / "boom"
    assert resolve_data_dir("gift-eval", tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.setenv("BOOM", str(tmp_path / "boom_env"))
    assert resolve_data_dir("boomlet") == tmp_path / "boom_env"
    with pytest.raises(ValueError, match=r"unknown suite 'lsf' for data; valid: .*gift-eval"):
        resolve_data_dir("lsf")


def test_multivariate_rows_read_as_float32_v_by_t(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    targets = [rng.normal(size=(3, 50)), rng.normal(size=(3, 40))]
    write_dataset(tmp_path / "ett1" / "H", targets, freq="H", item_ids=["a", "b"])
    ds = load_dataset("gift-eval", "ett1/H", tmp_path)
    assert (len(ds), ds.freq, ds.target_dim, ds.min_length) == (2, "H", 3, 40)
    assert ds.lengths.tolist() == [50, 40]
    series = list(ds)
    assert [s.item_id for s in series] == ["a", "b"]
    assert series[0].target.shape == (3, 50) and series[0].target.dtype == np.float32
    np.testing.assert_array_equal(series[1].target, targets[1].astype(np.float32))
    assert series[0].start == pd.Timestamp("2016-07-01") and series[0].freq == "H"


def test_univariate_rows_get_a_variate_axis(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    targets = [np.arange(30.0), np.arange(25.0)]
    starts = [pd.Timestamp("1750-01-01"), pd.Timestamp("1750-01-02 05:00")]
    write_dataset(tmp_path / "m4_hourly", targets, freq="H", start=starts)
    monkeypatch.setenv("GIFT_EVAL", str(tmp_path))
    ds = load_dataset("gift-eval", "m4_hourly")
    assert (ds.target_dim, ds.min_length) == (1, 25)
    series = list(ds)
    assert series[1].target.shape == (1, 25) and series[1].start == starts[1]


def test_a_missing_folder_names_repo_folder_place_and_remedies(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset("gift-eval", "ett1/H", tmp_path / "root")
    message = str(info.value)
    expected_parts = [
        "'ett1/H'",
        "'Salesforce/GiftEval'",
        str(tmp_path / "root" / "ett1" / "H"),
        "from --data-dir",
        "toto-bench download --suite gift-eval --datasets ett1/H",
        "$GIFT_EVAL",
    ]
    for part in expected_parts:
        assert part in message
    with pytest.raises(DatasetNotFoundError, match=r"'Datadog/BOOM'.*the default cache; \$BOOM is not set"):
        load_dataset("boom", "ds-1010-T")


def test_unknown_names_list_close_matches(tmp_path: Path) -> None:
    with pytest.raises(
        UnknownDatasetError, match=r"unknown gift-eval dataset 'ett1/h' \(did you mean 'ett1/H'"
    ):
        load_dataset("gift-eval", "ett1/h", tmp_path)
    with pytest.raises(UnknownDatasetError, match=r"'saugeen/M' \(did you mean 'saugeenday/M'"):
        load_dataset("gift-eval", "saugeen/M", tmp_path)
    write_dataset(tmp_path / "ds-1010-T", [np.zeros(10)], freq="T")
    with pytest.raises(UnknownDatasetError, match=r"'ds-1010' \(did you mean 'ds-1010-T'\?\).*'ds-1010-T'"):
        load_dataset("boom", "ds-1010", tmp_path)


def test_a_folder_outside_the_suite_list_still_loads(tmp_path: Path) -> None:
    write_dataset(tmp_path / "my_extra", [np.arange(5.0)], freq="D")
    assert load_dataset("gift-eval", "my_extra", tmp_path).min_length == 5


def _good(tmp_path: Path) -> Path:
    return write_dataset(tmp_path / "ett1" / "D", [np.ones((2, 60))], freq="D")


def test_a_truncated_arrow_file_is_named(tmp_path: Path) -> None:
    arrow = next(_good(tmp_path).glob("*.arrow"))
    arrow.write_bytes(arrow.read_bytes()[:100])
    with pytest.raises(CorruptDatasetError, match=rf"arrow file {arrow} cannot be read"):
        load_dataset("gift-eval", "ett1/D", tmp_path)


def test_missing_state_and_missing_arrow_are_named(tmp_path: Path) -> None:
    folder = _good(tmp_path)
    arrow = next(folder.glob("*.arrow"))
    arrow.unlink()
    with pytest.raises(CorruptDatasetError, match=rf"arrow file {arrow} is missing"):
        load_dataset("gift-eval", "ett1/D", tmp_path)
    (folder / "state.json").unlink()
    with pytest.raises(CorruptDatasetError, match=rf"{folder / 'state.json'} is missing"):
        load_dataset("gift-eval", "ett1/D", tmp_path)


def test_an_all_nan_variate_is_named(tmp_path: Path) -> None:
    target = np.ones((3, 20))
    target[1] = np.nan
    target[2, :5] = np.nan  # partly missing is fine
    write_dataset(tmp_path / "ett2" / "D", [np.ones((3, 20)), target], freq="D", item_ids=["ok", "dead"])
    series = iter(load_dataset("gift-eval", "ett2/D", tmp_path))
    assert next(series).item_id == "ok"
    with pytest.raises(
        InvalidSeriesError, match=r"'ett2/D': series 'dead' has only NaN values in variate\(s\) \[1\]"
    ):
        next(series)


def test_a_series_shorter_than_its_windows_is_named(tmp_path: Path) -> None:
    write_dataset(
        tmp_path / "hospital", [np.ones(84), np.ones(30), np.ones(12)], freq="M", item_ids=["a", "b", "c"]
    )
    ds = load_dataset("gift-eval", "hospital", tmp_path)
    ds.check_fits(prediction_length=6, windows=1)
    with pytest.raises(
        InvalidSeriesError,
        match=r"'hospital': series 'b' \(row 1\) has 30 time steps.* the 31 .*; 2 of 3 series",
    ):
        ds.check_fits(prediction_length=30, windows=1)
    with pytest.raises(ValueError, match=r"dataset 'hospital' \(hospital/M/short\): shortest series has 12"):
        gift_eval.task("hospital", "short", freq=ds.freq, min_length=ds.min_length, target_dim=ds.target_dim)


# ----------------------------------------------------------------------------------------------------------
# download: snapshot_download monkeypatched


class FakeHub:
    """Stands in for ``huggingface_hub.snapshot_download``; writes the folders that ``deliver`` lists."""

    def __init__(self, deliver: list[str] | None = None, fail: Exception | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.deliver = deliver or []
        self.fail = fail

    def __call__(self, **kwargs: Any) -> str:
        self.calls.append(kwargs)
        if self.fail is not None:
            raise self.fail
        for name in self.deliver:
            write_dataset(Path(kwargs["local_dir"]) / name, [np.zeros(3)], freq="H")
        return str(kwargs["local_dir"])


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> FakeHub:
    import huggingface_hub

    fake = FakeHub()
    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake)
    return fake


def test_download_fetches_only_the_requested_folders(hub: FakeHub, tmp_path: Path) -> None:
    hub.deliver = ["ett1/H", "m4_hourly"]
    root = download("gift-eval", ["ett1/H", "m4_hourly"], data_dir=tmp_path / "gift")
    assert root == tmp_path / "gift"
    assert hub.calls == [
        {
            "repo_id": "Salesforce/GiftEval",
            "repo_type": "dataset",
            "local_dir": str(tmp_path / "gift"),
            "allow_patterns": ["ett1/H/*", "m4_hourly/*"],
        }
    ]
    assert load_dataset("gift-eval", "ett1/H", root).min_length == 3


def test_download_defaults(hub: FakeHub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    hub.deliver = list(gift_eval.STORAGE_NAMES)
    monkeypatch.setenv("GIFT_EVAL", str(tmp_path / "env"))
    download("gift-eval")
    assert hub.calls[0]["local_dir"] == str(tmp_path / "env")
    assert hub.calls[0]["allow_patterns"] == [f"{name}/*" for name in gift_eval.STORAGE_NAMES]
    hub.deliver = ["ds-0-T"]
    root = download("boom")
    assert root == data.default_cache_dir("boom")
    assert hub.calls[1]["repo_id"] == "Datadog/BOOM" and hub.calls[1]["allow_patterns"] is None
    download("boom", ["ds-0-T"])
    assert hub.calls[2]["allow_patterns"] == ["ds-0-T/*"]


def test_download_errors(hub: FakeHub, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"no gift-eval datasets requested"):
        download("gift-eval", [], data_dir=tmp_path)
    with pytest.raises(UnknownDatasetError, match=r"'ett1/x'"):
        download("gift-eval", ["ett1/H", "ett1/x"], data_dir=tmp_path)
    assert hub.calls == []
    with pytest.raises(DownloadError, match=r"1 folder\(s\) are missing under .*: m4_hourly"):
        download("gift-eval", ["m4_hourly"], data_dir=tmp_path)
    hub.fail = OSError("Network is unreachable")
    with pytest.raises(DownloadError, match=r"'Datadog/BOOM'.*Network is unreachable.*--data-dir or \$BOOM"):
        download("boom", ["ds-1-T"], data_dir=tmp_path)


# ----------------------------------------------------------------------------------------------------------
# the memory-mapped reader gives the rows that datasets.load_from_disk(...).with_format("numpy") gives


def _rows_through_datasets(folder: Path) -> list[tuple[str, pd.Timestamp, str, np.ndarray]]:
    """The oracle: each row as gift-eval ``Dataset`` reads it (``datasets``' numpy format)."""
    import datasets

    out = []
    for row in datasets.load_from_disk(str(folder)).with_format("numpy"):
        target = np.asarray(row["target"], dtype=np.float32)
        out.append(
            (
                str(row["item_id"]),
                pd.Timestamp(np.datetime64(row["start"])),
                str(row["freq"]),
                target[None, :] if target.ndim == 1 else target,
            )
        )
    return out


def _save(folder: Path, rows: dict[str, list[Any]], features: dict[str, Any], shards: int = 1) -> Path:
    import datasets

    table = datasets.Dataset.from_dict(rows, features=datasets.Features(features))
    table.save_to_disk(str(folder), num_shards=shards)
    return folder


def _layout(kind: str, folder: Path) -> Path:
    import datasets

    rng = np.random.default_rng(7)
    ids = {"item_id": datasets.Value("string"), "freq": datasets.Value("string")}
    stamp = {"start": datasets.Value("timestamp[s]")}
    if kind == "univariate-nan":
        targets = [rng.normal(size=n).astype(np.float32) for n in (40, 7, 63)]
        targets[0][[0, 5, 6]] = np.nan
        return write_dataset(folder, targets, freq="H", item_ids=["a", "b", "c"])
    if kind == "multivariate":
        targets = [rng.normal(size=(3, n)).astype(np.float32) for n in (30, 12)]
        targets[1][2, :4] = np.nan
        return write_dataset(folder, targets, freq="15T", start=[pd.Timestamp("2020-01-01"), ETT_LATER])
    if kind == "float64-nulls-three-shards":  # null values in the lists, three arrow files
        targets = [[1.5, None, 2.25, float(i)] for i in range(7)]
        feats = {**ids, **stamp, "target": datasets.Sequence(datasets.Value("float64"))}
        rows = {"item_id": [f"s{i}" for i in range(7)], "freq": ["D"] * 7, "target": targets}
        rows["start"] = [pd.Timestamp("2001-02-03 04:05:06") + pd.Timedelta(days=i) for i in range(7)]
        return _save(folder, rows, feats, shards=3)
    if kind == "string-start-int-target":
        feats = {**ids, "start": datasets.Value("string")}
        feats["target"] = datasets.Sequence(datasets.Value("int64"))
        rows = {"item_id": ["x"], "freq": ["W-WED"], "start": ["1999-12-29 00:00:00"]}
        rows["target"] = [[3, 1, 4, 1]]
        return _save(folder, rows, feats)
    if kind == "multivariate-nulls":
        value = datasets.Value("float32")
        feats = {**ids, **stamp, "target": datasets.Sequence(datasets.Sequence(value))}
        rows = {
            "item_id": ["m0", "m1"],
            "freq": ["5T", "5T"],
            "start": [pd.Timestamp("2024-01-01")] * 2,
            "target": [[[1.0, None, 3.0], [4.0, 5.0, None]], [[0.5, 0.25, 0.125], [None, 2.0, 1.0]]],
        }
        return _save(folder, rows, feats)
    raise AssertionError(kind)


ETT_LATER = pd.Timestamp("2021-06-30 23:45")
LAYOUTS = [
    "univariate-nan",
    "multivariate",
    "float64-nulls-three-shards",
    "string-start-int-target",
    "multivariate-nulls",
]


@pytest.mark.parametrize("kind", LAYOUTS)
def test_rows_equal_the_datasets_library_rows(kind: str, tmp_path: Path) -> None:
    folder = _layout(kind, tmp_path / "gen" / "D")
    expected = _rows_through_datasets(folder)
    got = list(load_dataset("gift-eval", "gen/D", tmp_path))
    assert len(got) == len(expected)
    for series, (item_id, start, freq, target) in zip(got, expected, strict=True):
        assert (series.item_id, series.start, series.freq) == (item_id, start, freq)
        assert series.start.unit == start.unit
        assert series.target.dtype == np.float32 and series.target.flags.writeable
        np.testing.assert_array_equal(series.target, target)  # NaN where the oracle has NaN


@pytest.mark.parametrize("name", ["us_births/D", "us_births/W", "saugeenday/M"])
def test_packaged_demo_folders_read_as_the_datasets_library_reads_them(name: str) -> None:
    from toto_bench.engine.data import source

    root = source("demo").default_root
    assert root is not None
    expected = _rows_through_datasets(root / name)
    got = list(load_dataset("demo", name))
    assert [(s.item_id, s.start, s.freq) for s in got] == [(e[0], e[1], e[2]) for e in expected]
    for series, row in zip(got, expected, strict=True):
        np.testing.assert_array_equal(series.target, row[3])


def test_a_datasetdict_folder_and_a_target_of_strings_are_named(tmp_path: Path) -> None:
    import datasets

    folder = tmp_path / "dd"
    dd = datasets.DatasetDict({"train": datasets.Dataset.from_dict({"target": [[1.0]]})})
    dd.save_to_disk(str(folder))
    with pytest.raises(CorruptDatasetError, match=r"is a DatasetDict"):
        load_dataset("gift-eval", "dd", tmp_path)
    feats = {
        "item_id": datasets.Value("string"),
        "start": datasets.Value("string"),
        "freq": datasets.Value("string"),
        "target": datasets.Sequence(datasets.Value("string")),
    }
    _save(tmp_path / "txt", {"item_id": ["a"], "start": ["2020"], "freq": ["D"], "target": [["1"]]}, feats)
    with pytest.raises(CorruptDatasetError, match=r"column 'target' has arrow type list<item: string>"):
        load_dataset("gift-eval", "txt", tmp_path)
