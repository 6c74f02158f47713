"""``toto-bench run --model toto2-4m --checkpoint DIR`` end to end, against the official notebook pipeline.

A randomly initialised Toto 2.0 of the official 4m shape is saved with ``save_pretrained`` and run through the
CLI on GIFT-Eval ETT1/H (built from ``../shared/data``) and on a tiny synthetic BOOM layout. The oracle is the
notebooks' pipeline rebuilt from upstream code only: gift-eval's ``Dataset`` logic (``tests/upstream.py``,
``to_univariate=False``), ``Toto2GluonTSModel(...).create_predictor(batch_size)`` with the notebook's context
length, and gluonts ``evaluate_forecasts`` (the wrapper's multivariate ``[9, V, H]`` arrays transposed to
``[9, H, V]``, which gluonts needs). The results then go on a ``--partial`` leaderboard next to seasonal
naive.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import layouts
import numpy as np
import pandas as pd
import pytest

from toto_bench.adapters.common import install_hint

torch = pytest.importorskip("torch", reason=f"torch is not installed: {install_hint('toto2')}")
toto2 = pytest.importorskip("toto2", reason=f"toto-2 is not installed: {install_hint('toto2')}")

import upstream  # noqa: E402

from toto_bench.adapters.toto2 import OFFICIAL_4M_CONFIG, save_random_checkpoint  # noqa: E402
from toto_bench.cli import main  # noqa: E402

METRICS = [f"eval_metrics/{m}" for m in upstream.METRIC_KEYS]
COLUMNS = ["dataset", "model", *METRICS, "domain", "num_variates", "dataset_size"]
BOOM_NAME = "ds-9101-H"


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_random_checkpoint(tmp_path_factory.mktemp("toto2_4m"), OFFICIAL_4M_CONFIG, seed=7)


@pytest.fixture(scope="module")
def gift(tmp_path_factory: pytest.TempPathFactory, checkpoint: Path) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("gift_eval")
    layouts.build_ett(root, "ett1", freqs=("H",))
    out = tmp_path_factory.mktemp("results")
    base = ["run", "--suite", "gift-eval", "--data-dir", str(root), "--datasets", "ett1/H"]
    base += ["--output-dir", str(out), "--no-progress"]
    assert main([*base, "--model", "toto2-4m", "--checkpoint", str(checkpoint), "--device", "cpu"]) == 0
    assert main([*base, "--model", "seasonal-naive"]) == 0
    return {"root": root, "out": out, "base": base}


@pytest.fixture(scope="module")
def boom(tmp_path_factory: pytest.TempPathFactory, checkpoint: Path) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("boom")
    rng = np.random.default_rng(11)
    t = np.arange(5000)
    target = 20 + 5 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 1, size=t.size).cumsum() * 0.1
    target[100:400] = np.nan  # a gap
    target[4400:4460] = np.nan  # a gap right before a window cut
    layouts.write_dataset(root / BOOM_NAME, [target], freq="H", start=pd.Timestamp("2024-03-01"))
    properties = root / "tiny_boom_properties.json"
    entry = {
        "domain": ["Infrastructure"],
        "frequency": "Short",
        "num_variates": 1,
        "term": "long",
        "type": "gauge",
    }
    properties.write_text(json.dumps({BOOM_NAME: entry}))
    out = tmp_path_factory.mktemp("boom_results")
    argv = [
        "run",
        "--suite",
        "boom",
        "--model",
        "toto2-4m",
        "--checkpoint",
        str(checkpoint),
        "--device",
        "cpu",
    ]
    argv += [
        "--data-dir",
        str(root),
        "--properties",
        str(properties),
        "--output-dir",
        str(out),
        "--no-progress",
    ]
    assert main(argv) == 0
    return {"root": root, "out": out}


def _official(
    path: Path,
    name: str,
    term: str,
    checkpoint: Path,
    *,
    context_length: int,
    batch_size: int,
    allow_nan: bool,
) -> tuple[dict[str, float], int]:
    """The notebook: ``Toto2GluonTSModel`` predictor + ``evaluate_forecasts`` on gift-eval's test split."""
    from gluonts.model.evaluation import evaluate_forecasts
    from gluonts.model.forecast import QuantileForecast
    from gluonts.time_feature import get_seasonality

    model = toto2.Toto2Model.from_pretrained(str(checkpoint)).eval()
    dataset = upstream._GiftEvalDataset(path, name, term, to_univariate=False)
    with upstream._quiet(), upstream._no_progress_bar():
        config = toto2.Toto2GluonTSModelConfig(
            prediction_length=dataset.prediction_length,
            context_length=context_length,
            target_dim=dataset.target_dim,
        )
        predictor = toto2.Toto2GluonTSModel(model, config).create_predictor(
            batch_size=batch_size, device="cpu"
        )
        test_data = dataset.test_data()
        forecasts = list(predictor.predict(test_data.input))
        if dataset.target_dim > 1:  # the wrapper's [9, V, H] → gluonts' [9, H, V]
            forecasts = [
                QuantileForecast(
                    np.swapaxes(f.forecast_array, 1, 2),
                    start_date=f.start_date,
                    item_id=f.item_id,
                    forecast_keys=f.forecast_keys,
                )
                for f in forecasts
            ]
        season = int(get_seasonality(dataset.freq))
        frame = evaluate_forecasts(
            forecasts,
            test_data=test_data,
            metrics=upstream.gluonts_metrics(),
            axis=None,
            batch_size=1024,
            mask_invalid_label=True,
            allow_nan_forecast=allow_nan,
            seasonality=season,
        )
    return {f"eval_metrics/{k}": float(frame[k].iloc[0]) for k in upstream.METRIC_KEYS}, len(forecasts)


def _results(out: Path, suite: str, model: str) -> pd.DataFrame:
    frame = pd.read_csv(out / suite / model / "all_results.csv", float_precision="round_trip")
    assert list(frame.columns) == COLUMNS
    return frame.set_index("dataset")


def _assert_matches(row: pd.Series, expected: dict[str, float]) -> None:
    for key, value in expected.items():
        got = float(row[key])
        assert np.isfinite(got), key
        assert got == pytest.approx(value, rel=2e-5, abs=1e-9), key


@pytest.mark.parametrize("term", ["short", "medium", "long"])
def test_gift_eval_run_equals_the_official_notebook_pipeline(
    gift: dict[str, Any], checkpoint: Path, term: str
) -> None:
    frame = _results(gift["out"], "gift-eval", "toto2-4m")
    assert sorted(frame.index) == ["ett1/H/long", "ett1/H/medium", "ett1/H/short"]
    row = frame.loc[f"ett1/H/{term}"]
    expected, size = _official(
        gift["root"] / "ett1" / "H",
        "ett1/H",
        term,
        checkpoint,
        context_length=4096,
        batch_size=512,
        allow_nan=False,
    )
    assert (row["model"], row["domain"], int(row["num_variates"])) == ("toto2-4m", "Energy", 7)
    assert int(row["dataset_size"]) == size  # multivariate: one instance per window
    _assert_matches(row, expected)


def test_gift_eval_run_record_and_resume(
    gift: dict[str, Any], checkpoint: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = json.loads((gift["out"] / "gift-eval" / "toto2-4m" / "config.json").read_text())
    settings = record["settings"]
    assert settings["context_length"] == 4096 and settings["batch_size"] == 512
    assert settings["decode_block_size"] is None and settings["allow_nan_forecast"] is False
    assert settings["checkpoint"] == str(checkpoint.resolve()) and settings["device"] == "cpu"
    capsys.readouterr()
    argv = [*gift["base"], "--model", "toto2-4m", "--checkpoint", str(checkpoint), "--device", "cpu"]
    assert main(argv) == 0
    assert "0 configs computed, 3 reused" in capsys.readouterr().out


def test_cli_overrides_reach_the_model_and_the_record(
    gift: dict[str, Any], checkpoint: Path, tmp_path: Path
) -> None:
    argv = ["run", "--suite", "gift-eval", "--data-dir", str(gift["root"]), "--datasets", "ett1/H"]
    argv += ["--terms", "short", "--output-dir", str(tmp_path), "--no-progress", "--model", "toto2-22m"]
    argv += [
        "--checkpoint",
        str(checkpoint),
        "--device",
        "cpu",
        "--context-length",
        "512",
        "--batch-size",
        "7",
    ]
    argv += ["--decode-block-size", "64"]
    assert main(argv) == 0
    settings = json.loads((tmp_path / "gift-eval" / "toto2-22m" / "config.json").read_text())["settings"]
    assert (settings["context_length"], settings["batch_size"], settings["decode_block_size"]) == (512, 7, 64)
    frame = _results(tmp_path, "gift-eval", "toto2-22m")
    assert np.isfinite(frame[METRICS].to_numpy()).all()


def test_an_option_the_model_does_not_take_is_refused(
    gift: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", "--suite", "gift-eval", "--data-dir", str(gift["root"]), "--datasets", "ett1/H"]
    argv += ["--output-dir", str(tmp_path), "--model", "seasonal-naive", "--decode-block-size", "64"]
    assert main(argv) == 2
    assert "does not take decode_block_size (--decode-block-size)" in capsys.readouterr().err


def test_boom_run_uses_the_boom_notebook_settings_and_equals_its_pipeline(
    boom: dict[str, Any], checkpoint: Path
) -> None:
    record = json.loads((boom["out"] / "boom" / "toto2-4m" / "config.json").read_text())
    settings = record["settings"]
    assert (settings["context_length"], settings["batch_size"], settings["decode_block_size"]) == (
        2048,
        64,
        None,
    )
    assert (
        settings["allow_nan_forecast"] is True
    )  # the BOOM notebook's evaluate_model(allow_nan_forecast=True)
    frame = _results(boom["out"], "boom", "toto2-4m")
    path = boom["root"] / BOOM_NAME
    for term in ("short", "medium", "long"):
        row = frame.loc[f"{BOOM_NAME}/Short/{term}"]
        expected, size = _official(
            path, BOOM_NAME, term, checkpoint, context_length=2048, batch_size=64, allow_nan=True
        )
        assert int(row["dataset_size"]) == size
        _assert_matches(row, expected)


def test_partial_leaderboard_ranks_toto2_against_seasonal_naive(
    gift: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    board = ["leaderboard", "--suite", "gift-eval", "--results-dir", str(gift["out"] / "gift-eval")]
    capsys.readouterr()
    assert main([*board, "--format", "csv"]) == 2  # without --partial a missing config is an error
    assert "missing" in capsys.readouterr().err
    assert main([*board, "--format", "csv", "--partial"]) == 0
    captured = capsys.readouterr()
    assert "--partial: the gift-eval board uses the 3 of 97 configs present for all 2 models" in captured.err
    table = pd.read_csv(pd.io.common.StringIO(captured.out)).set_index("model")
    assert sorted(table.index) == ["seasonal-naive", "toto2-4m"]
    assert table.loc["seasonal-naive", "MASE"] == pytest.approx(1.0)  # normalised by itself
    ours = _results(gift["out"], "gift-eval", "toto2-4m")
    naive = _results(gift["out"], "gift-eval", "seasonal-naive")
    ratio = ours["eval_metrics/MASE[0.5]"] / naive["eval_metrics/MASE[0.5]"]
    # the board's CSV rounds to 3 decimals
    assert table.loc["toto2-4m", "MASE"] == pytest.approx(float(np.exp(np.log(ratio).mean())), abs=5e-4)
