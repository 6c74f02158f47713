"""Issue 13 item 6: which checkpoint a run loads is chosen (``--checkpoint-revision``), checked
(``--expect-sha256``) and recorded, through the real hub code path with the hub unreachable.

Two random-init Toto 2.0 checkpoints (``save_pretrained``) are laid out as two commits of
``Datadog/Toto-2.0-4m`` in a Hugging Face cache (``refs/main`` → the newer one); ``HF_HUB_OFFLINE`` is on and
the endpoint points at a closed port. The oracle for a weights hash is ``hashlib.sha256`` of the one weight
file, read here.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import layouts
import numpy as np
import pandas as pd
import pytest

from toto_bench.adapters.common import install_hint

pytest.importorskip("torch", reason=f"torch is not installed: {install_hint('toto2')}")
pytest.importorskip("toto2", reason=f"toto-2 is not installed: {install_hint('toto2')}")

from toto_bench.adapters.registry import ModelSpec, get_model_spec
from toto_bench.adapters.toto2 import TINY_TEST_CONFIG, save_random_checkpoint
from toto_bench.cli import main

REPO = "Datadog/Toto-2.0-4m"
MAIN = "1111111111111111111111111111111111111111"  # refs/main
OLDER = "2222222222222222222222222222222222222222"


@pytest.fixture(scope="module")
def hub_cache(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Two commits of the 4m repo in an HF cache, each a random-init checkpoint of its own seed."""
    home = tmp_path_factory.mktemp("hf")
    digests = {}
    for commit, seed in ((OLDER, 1), (MAIN, 2)):  # the last one written is refs/main
        source = save_random_checkpoint(tmp_path_factory.mktemp(f"ckpt{seed}"), TINY_TEST_CONFIG, seed=seed)
        snapshot = layouts.write_hf_cache(home, REPO, source, commit)
        (weights,) = snapshot.glob("*.safetensors")
        digests[commit] = hashlib.sha256(weights.read_bytes()).hexdigest()
    assert digests[MAIN] != digests[OLDER]
    return {"hub": home / "hub", "sha256": digests}


@pytest.fixture
def offline(hub_cache: dict[str, object], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(hub_cache["hub"]))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")  # unreachable, should anything ask
    digests = hub_cache["sha256"]
    assert isinstance(digests, dict)
    return digests


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(3)
    targets = [(10 + np.sin(np.arange(200) / 3) + rng.normal(size=200)).astype(np.float32) for _ in range(2)]
    layouts.write_dataset(root / "us_births" / "W", targets, freq="W", start=pd.Timestamp("2020-01-05"))
    return root


def _run(data: Path, out: Path, *extra: str, model: str = "toto2-4m") -> int:
    argv = ["run", "--suite", "gift-eval", "--model", model, "--data-dir", str(data)]
    argv += ["--datasets", "us_births/W", "--output-dir", str(out), "--no-progress"]
    argv += ["--device", "cpu"] if model.startswith("toto2") else []
    return main([*argv, *extra])


def _record(out: Path, model: str = "toto2-4m") -> dict:
    return json.loads((out / "gift-eval" / model / "config.json").read_text())


def test_a_revision_is_passed_to_the_hub_download_and_recorded(
    offline: dict[str, str], data: Path, tmp_path: Path
) -> None:
    assert _run(data, tmp_path / "main") == 0
    loaded = _record(tmp_path / "main")["model_details"]
    assert loaded["checkpoint_revision"] == MAIN and loaded["weights_sha256"] == offline[MAIN]
    assert _run(data, tmp_path / "older", "--checkpoint-revision", OLDER) == 0
    record = _record(tmp_path / "older")
    loaded = record["model_details"]
    assert loaded["checkpoint_revision"] == OLDER and loaded["weights_sha256"] == offline[OLDER]
    assert loaded["weights_files"] == ["model.safetensors"] and loaded["checkpoint"] == REPO
    assert record["settings"]["revision"] == OLDER and record["expect_sha256"] is None
    main_rows = pd.read_csv(tmp_path / "main" / "gift-eval" / "toto2-4m" / "all_results.csv")
    older_rows = pd.read_csv(tmp_path / "older" / "gift-eval" / "toto2-4m" / "all_results.csv")
    assert not np.allclose(main_rows.iloc[0, 2:13].to_numpy(float), older_rows.iloc[0, 2:13].to_numpy(float))


def test_the_expected_weights_hash_is_checked_before_any_forecast(
    offline: dict[str, str], data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    right = ["--checkpoint-revision", OLDER, "--expect-sha256", offline[OLDER].upper()]
    assert _run(data, tmp_path / "right", *right) == 0
    assert _record(tmp_path / "right")["expect_sha256"] == offline[OLDER]
    capsys.readouterr()
    wrong = ["--expect-sha256", offline[OLDER]]  # main is loaded: the other commit's weights
    assert _run(data, tmp_path / "wrong", *wrong) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert f"expected {offline[OLDER]}, found {offline[MAIN]}" in err
    assert "model.safetensors" in err and MAIN in err  # the files hashed, in the snapshot folder
    folder = tmp_path / "wrong" / "gift-eval" / "toto2-4m"
    assert not (folder / "all_results.csv").exists()
    journal = folder / "journal.jsonl"
    assert not journal.exists() or journal.read_text() == ""  # nothing was forecast


def test_an_unknown_revision_offline_names_it(
    offline: dict[str, str], data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = "3" * 40
    assert _run(data, tmp_path / "out", "--checkpoint-revision", missing) == 2
    err = capsys.readouterr().err
    assert f"at revision '{missing}'" in err and f"hf download {REPO} --revision {missing}" in err


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--checkpoint-revision", OLDER], "takes no hub revision"),
        (["--expect-sha256", "0" * 64], "no checkpoint weights were found to hash"),
    ],
)
def test_the_options_on_a_model_without_a_checkpoint_say_so(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], needle: str
) -> None:
    assert _run(data, tmp_path / "out", *extra, model="seasonal-naive") == 2
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1


def test_a_bad_hash_or_a_revision_with_a_local_folder_is_refused(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        _run(data, tmp_path / "out", "--expect-sha256", "abc")
    assert "64 hex digits" in capsys.readouterr().err
    assert _run(data, tmp_path / "out", "--checkpoint", str(tmp_path), "--checkpoint-revision", OLDER) == 2
    assert "give one of them" in capsys.readouterr().err


def test_no_builtin_checkpoint_claims_a_pinned_revision() -> None:
    """docs/adapters.md (shared) names no commit for any checkpoint: none is pinned, none is invented."""
    spec = get_model_spec("toto2-4m")
    assert spec.revision is None and "revision" not in spec.settings_for("gift-eval")
    pinned = ModelSpec("x", spec.factory, "toto2", REPO, revision=OLDER)
    assert pinned.settings_for("boom")["revision"] == OLDER  # a pinned commit reaches the factory
