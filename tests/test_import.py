"""``toto-bench import``: published results copied into results/<suite>/ after validation, from a folder,
an http(s) archive (a real local HTTP server) or an hf:// dataset folder (the offline hub cache)."""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import shutil
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import layouts
import pandas as pd
import pytest

from toto_bench.cli import main
from toto_bench.suites import get_suite

SHARED_BOOM = Path(__file__).resolve().parents[2] / "shared" / "data" / "boom"
FEW = ("chronos_2", "seasonalnaive", "toto")


@pytest.fixture(scope="module")
def boom() -> Path:
    if not (SHARED_BOOM / "results").is_dir():
        pytest.skip(f"published BOOM results not found at {SHARED_BOOM} (shared folder beside the repo)")
    return SHARED_BOOM


def _import(source: str | Path, root: Path, *extra: str, suite: str = "boom") -> list[str]:
    return ["import", "--suite", suite, "--from", str(source), "--results-root", str(root), *extra]


def _props(boom: Path) -> tuple[str, str]:
    return ("--properties", str(boom / "boom_properties.json"))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _model_dirs(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def test_importing_all_published_boom_models_reproduces_the_published_board_byte_for_byte(
    boom: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_import(boom / "results", tmp_path / "results", *_props(boom))) == 0
    assert "23 boom model(s) imported" in capsys.readouterr().out
    imported = tmp_path / "results" / "boom"
    assert _model_dirs(imported) == _model_dirs(boom / "results")
    board = [
        "leaderboard",
        "--suite",
        "boom",
        "--results-dir",
        str(imported),
        *_props(boom),
        "--format",
        "csv",
    ]
    assert main(board) == 0
    assert capsys.readouterr().out == (boom / "leaderboards" / "boom_leaderboard.csv").read_text()


def test_files_are_copied_byte_for_byte_with_a_provenance_note(boom: Path, tmp_path: Path) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    assert main(_import(boom / "results", tmp_path, *_props(boom), "--models", "toto,chronos_2")) == 0
    assert _model_dirs(tmp_path / "boom") == ["chronos_2", "toto"]
    for model in ("toto", "chronos_2"):
        src, dst = boom / "results" / model / "all_results.csv", tmp_path / "boom" / model / "all_results.csv"
        assert dst.read_bytes() == src.read_bytes()
        note = json.loads((tmp_path / "boom" / model / "import.json").read_text())
        assert note["sha256"] == _sha(src) == note["files"]["all_results.csv"]
        assert note["source"] == str((boom / "results").resolve()) and note["suite"] == "boom"
        stamp = datetime.fromisoformat(note["imported_at"])
        assert before <= stamp <= datetime.now(UTC) + timedelta(seconds=1)
    assert not any(p.name.startswith(".") for p in (tmp_path / "boom").iterdir())  # no temp folders left


def test_a_single_model_folder_is_a_source(boom: Path, tmp_path: Path) -> None:
    assert main(_import(boom / "results" / "autoets", tmp_path, *_props(boom))) == 0
    assert _model_dirs(tmp_path / "boom") == ["autoets"]


def test_existing_models_are_replaced_only_with_force(
    boom: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _import(boom / "results", tmp_path, *_props(boom), "--models", "toto,seasonalnaive")
    assert main(args) == 0
    mine = tmp_path / "boom" / "toto" / "all_results.csv"
    mine.write_text("locally edited\n")
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "2 model(s) already in" in err and "seasonalnaive, toto" in err and "--force" in err
    assert mine.read_text() == "locally edited\n"
    assert main([*args, "--force"]) == 0
    assert mine.read_bytes() == (boom / "results" / "toto" / "all_results.csv").read_bytes()


def _corrupt(kind: str, csv: Path) -> str:
    """Break a copied all_results.csv in one way; return a phrase the error must contain."""
    df = pd.read_csv(csv, dtype=str, keep_default_na=False)
    if kind == "missing-config":
        df = df.iloc[1:]
        phrase = "1 expected config(s) missing"
    elif kind == "duplicate-config":
        df = pd.concat([df, df.iloc[[5]]])
        phrase = "1 duplicate config key(s)"
    elif kind == "missing-column":
        df = df.drop(columns=["eval_metrics/mean_weighted_sum_quantile_loss"])
        phrase = "no column for CRPS"
    elif kind == "non-numeric":
        df.loc[df.index[3], "eval_metrics/MASE[0.5]"] = "oops"
        phrase = "non-numeric cell"
    else:
        raise AssertionError(kind)
    df.to_csv(csv, index=False)
    return phrase


@pytest.mark.parametrize("kind", ["missing-config", "duplicate-config", "missing-column", "non-numeric"])
def test_a_bad_file_is_named_with_its_problem_and_nothing_is_written(
    boom: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    src = tmp_path / "upstream"
    for model in FEW:
        shutil.copytree(boom / "results" / model, src / model)
    bad = src / "toto" / "all_results.csv"
    phrase = _corrupt(kind, bad)
    assert main(_import(src, tmp_path / "results", *_props(boom))) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and phrase in err and "nothing was imported" in err
    assert not (tmp_path / "results").exists()


def test_unknown_model_names_list_the_available_ones(
    boom: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_import(boom / "results", tmp_path, *_props(boom), "--models", "toto,nope")) == 2
    err = capsys.readouterr().err
    assert "['nope'] not found" in err and "'visionts'" in err


# ---------------------------------------------------------------------------------------------------
# http(s) archives, served for real


@pytest.fixture()
def http_root(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _archive(boom: Path, target: Path) -> None:
    """``boom-main/boom/{boom_properties.json, results/<model>/all_results.csv}`` as upstream's layout."""
    members = {
        f"boom-main/boom/results/{m}/all_results.csv": boom / "results" / m / "all_results.csv" for m in FEW
    }
    members["boom-main/boom/boom_properties.json"] = boom / "boom_properties.json"
    members["boom-main/README.md"] = boom / "MANIFEST.md"
    if target.name.endswith(".zip"):
        with zipfile.ZipFile(target, "w") as zf:
            for name, path in members.items():
                zf.write(path, name)
    else:
        with tarfile.open(target, "w:gz") as tf:
            for name, path in members.items():
                tf.add(path, name)


@pytest.mark.parametrize("name", ["boom-main.zip", "boom-main.tar.gz"])
def test_an_http_archive_is_downloaded_unpacked_and_imported(
    boom: Path,
    tmp_path: Path,
    http_root: tuple[Path, str],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
) -> None:
    served, url = http_root
    _archive(boom, served / name)
    monkeypatch.delenv("BOOM", raising=False)  # the properties file is found beside results/ in the archive
    assert main(_import(f"{url}/{name}", tmp_path / "results")) == 0
    out = tmp_path / "results" / "boom"
    assert _model_dirs(out) == list(FEW)
    for model in FEW:
        assert (out / model / "all_results.csv").read_bytes() == (
            boom / "results" / model / "all_results.csv"
        ).read_bytes()
        assert json.loads((out / model / "import.json").read_text())["source"] == f"{url}/{name}"


def test_an_archive_url_can_point_inside_and_a_missing_one_is_named(
    boom: Path, tmp_path: Path, http_root: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    served, url = http_root
    _archive(boom, served / "boom-main.zip")
    inner = f"{url}/boom-main.zip#boom-main/boom/results/toto"
    assert main(_import(inner, tmp_path / "results", *_props(boom))) == 0
    assert _model_dirs(tmp_path / "results" / "boom") == ["toto"]
    assert main(_import(f"{url}/absent.zip", tmp_path / "other", *_props(boom))) == 2
    assert f"{url}/absent.zip: download failed (HTTPError: HTTP Error 404" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------------
# hf:// — the real huggingface_hub.snapshot_download, answered from an offline cache


def _hf_offline(monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    import huggingface_hub.constants as constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))


def test_an_hf_dataset_folder_is_read_from_the_hub_cache(
    boom: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # the hub cache layout of a dataset repo: datasets--<owner>--<name>/{refs/main, snapshots/<rev>/...}
    cache = tmp_path / "hub"
    repo = cache / "datasets--Datadog--boom-results"
    revision = "1" * 40
    for model in FEW:
        shutil.copytree(boom / "results" / model, repo / "snapshots" / revision / "results" / model)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)
    _hf_offline(monkeypatch, cache)
    url = "hf://datasets/Datadog/boom-results/results"
    assert main(_import(url, tmp_path / "results", *_props(boom))) == 0
    out = tmp_path / "results" / "boom"
    assert _model_dirs(out) == list(FEW)
    assert (out / "toto" / "all_results.csv").read_bytes() == (
        boom / "results" / "toto" / "all_results.csv"
    ).read_bytes()
    assert main(_import("hf://datasets/Datadog/not-cached/results", tmp_path / "r2", *_props(boom))) == 2
    err = capsys.readouterr().err
    assert "hf://datasets/Datadog/not-cached/results: could not fetch 'Datadog/not-cached'" in err
    assert main(_import("hf://models/Datadog/x", tmp_path / "r3", *_props(boom))) == 2
    assert "expected hf://datasets/<owner>/<name>" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------------
# GIFT-Eval: config.json travels with the results


def _gift_model(folder: Path, model: str, card: str | None, *, seed: int = 0) -> None:
    """A GIFT-Eval ``all_results.csv`` over the 97 configs (upstream columns) and an optional config.json."""
    layouts.write_gift_eval_results(folder, model, seed=seed)
    if card is not None:
        (folder / "config.json").write_text(card)


def test_gift_eval_config_json_is_copied_and_a_malformed_one_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "gift-eval" / "results"
    card = '{\n    "model": "Alpha",\n    "model_type": "pretrained",\n    "testdata_leakage": "No"\n}'
    _gift_model(src / "alpha", "Alpha", card)
    _gift_model(src / "seasonal_naive", "seasonal_naive", None)
    # an upstream-style slip: a missing comma between two fields
    _gift_model(src / "broken", "Broken", '{\n "model": "Broken"\n "model_type": "pretrained"\n}')
    root = tmp_path / "results"
    assert main(_import(src, root, suite="gift-eval")) == 2
    err = capsys.readouterr().err
    assert str(src / "broken" / "config.json") in err and "unreadable JSON" in err
    assert not root.exists()
    assert main(_import(src, root, "--models", "alpha,seasonal_naive", suite="gift-eval")) == 0
    assert (root / "gift-eval" / "alpha" / "config.json").read_text() == card
    assert not (root / "gift-eval" / "seasonal_naive" / "config.json").exists()
    note = json.loads((root / "gift-eval" / "alpha" / "import.json").read_text())
    assert set(note["files"]) == {"all_results.csv", "config.json"}
    assert note["files"]["config.json"] == hashlib.sha256(card.encode()).hexdigest()


def test_gift_eval_files_must_hold_the_97_configs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "results"
    _gift_model(src / "alpha", "Alpha", None)
    csv = src / "alpha" / "all_results.csv"
    df = pd.read_csv(csv)
    df.iloc[:-1].to_csv(csv, index=False)
    assert main(_import(src, tmp_path / "out", suite="gift-eval")) == 2
    assert "config set differs from the 97 expected: 1 expected config(s) missing" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------------
# TIME: TIME-Output trees (metrics.npz per task) and all_results.csv folders


def _time_sources(root: Path) -> list[str]:
    import numpy as np

    tasks = get_suite("time").configs()[:3]
    rng = np.random.default_rng(0)
    for model in ("seasonal_naive", "model_x"):
        for task in tasks:
            folder = root / model / task
            folder.mkdir(parents=True)
            mase, mae, crps, mse = (rng.uniform(0.5, 2.0, size=(4, 2)) for _ in range(4))
            with (folder / "metrics.npz").open("wb") as fh:
                np.savez(fh, MASE=mase, MAE=mae, CRPS=crps, MSE=mse)
    (root / "model_csv").mkdir(parents=True)
    pd.DataFrame(
        {
            "dataset": tasks,
            "eval_metrics/MASE[0.5]": [1.0, 0.9, 1.1],
            "eval_metrics/MAE[0.5]": [0.3, 0.3, 0.3],
            "eval_metrics/mean_weighted_sum_quantile_loss": [0.4, 0.5, 0.6],
        }
    ).to_csv(root / "model_csv" / "all_results.csv", index=False)
    return tasks


def test_time_output_trees_import_and_give_the_same_board(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "TIME-Output" / "results"
    tasks = _time_sources(src)
    assert main(_import(src, tmp_path / "results", suite="time")) == 0
    out = tmp_path / "results" / "time"
    assert _model_dirs(out) == ["model_csv", "model_x", "seasonal_naive"]
    npz = out / "model_x" / tasks[1] / "metrics.npz"
    assert npz.read_bytes() == (src / "model_x" / tasks[1] / "metrics.npz").read_bytes()
    note = json.loads((out / "model_x" / "import.json").read_text())
    assert sorted(note["files"]) == sorted(f"{t}/metrics.npz" for t in tasks)
    capsys.readouterr()
    boards = []
    for folder in (src, out):
        assert main(["leaderboard", "--suite", "time", "--results-dir", str(folder), "--format", "csv"]) == 0
        boards.append(capsys.readouterr().out)
    assert boards[0] == boards[1] and "model_x" in boards[0]


def test_time_keys_outside_the_suite_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "results"
    _time_sources(src)
    csv = src / "model_csv" / "all_results.csv"
    df = pd.read_csv(csv)
    df.loc[0, "dataset"] = "Not_A_Task/D/short"
    df.to_csv(csv, index=False)
    assert main(_import(src, tmp_path / "out", suite="time")) == 2
    err = capsys.readouterr().err
    assert str(csv) in err and "1 task key(s) not in the TIME suite" in err and "Not_A_Task/D/short" in err


# ---------------------------------------------------------------------------------------------------
# bounded imports (issue 13 item 5): download size, member count, uncompressed size, only the sub-folder


def _zip_with(target: Path, boom: Path, extra: dict[str, bytes]) -> None:
    """The upstream-layout archive of :func:`_archive` plus ``extra`` members."""
    _archive(boom, target)
    with zipfile.ZipFile(target, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in extra.items():
            zf.writestr(name, data)


@pytest.mark.parametrize(
    ("extra", "flags", "needle"),
    [
        (
            {"boom-main/big.bin": b"\0" * (8 << 20)},
            ("--max-unpacked-mb", "4"),
            "more than the limit of 4 MiB",
        ),
        (
            {f"boom-main/many/{i}.txt": b"x" for i in range(40)},
            ("--max-files", "20"),
            "more than the limit of 20",
        ),
        ({"boom-main/big.bin": bytes(range(256)) * (8 << 12)}, ("--max-download-mb", "1"), "larger than"),
    ],
    ids=["uncompressed-size", "member-count", "download-size"],
)
def test_an_archive_over_a_limit_is_refused_and_nothing_is_written(
    boom: Path,
    tmp_path: Path,
    http_root: tuple[Path, str],
    capsys: pytest.CaptureFixture[str],
    extra: dict[str, bytes],
    flags: tuple[str, ...],
    needle: str,
) -> None:
    served, url = http_root
    _zip_with(served / "boom-main.zip", boom, extra)
    assert main(_import(f"{url}/boom-main.zip", tmp_path / "results", *_props(boom), *flags)) == 2
    err = capsys.readouterr().err
    assert needle in err and flags[0] in err
    assert not (tmp_path / "results").exists()


def test_only_the_requested_sub_folder_is_unpacked(
    boom: Path, tmp_path: Path, http_root: tuple[Path, str]
) -> None:
    served, url = http_root
    _zip_with(served / "boom-main.zip", boom, {"boom-main/big.bin": b"\0" * (8 << 20)})
    inner = f"{url}/boom-main.zip#boom-main/boom/results/toto"
    # the 8 MiB member outside the sub-folder counts for nothing: a 4 MiB cap passes
    assert main(_import(inner, tmp_path / "results", *_props(boom), "--max-unpacked-mb", "4")) == 0
    assert _model_dirs(tmp_path / "results" / "boom") == ["toto"]


@pytest.mark.parametrize("sub", ["results/../..", "../x", "results/../../../etc"])
def test_hf_sub_paths_must_stay_inside_the_snapshot(
    boom: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], sub: str
) -> None:
    assert main(_import(f"hf://datasets/Datadog/boom-results/{sub}", tmp_path / "r", *_props(boom))) == 2
    assert "must stay inside the repo" in capsys.readouterr().err
