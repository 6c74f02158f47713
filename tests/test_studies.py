"""``toto-bench study latency`` / ``long-horizon``: the generator, forward-pass counts, tiny CPU runs.

Oracles: the sinusoid formula recomputed here from the drawn components, numpy's ``corrcoef`` for Pearson r,
and the forward-pass counts worked out by hand from the patch sizes (Toto 2.0: patch 32, one pass, or
``ceil(ceil(H/32) / (N/32))`` blocks; Toto 1.0: patch 64, ``ceil(H/64)`` decoding steps per batch of sample
paths; Chronos-2: 64 output patches of 16 = 1024 steps per pass). Models are random-init real architectures
(Toto 2.0 in the published 4m shape) loaded through the hub code path.
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from toto_bench.cli import main
from toto_bench.studies.models import parse_mode
from toto_bench.studies.synthetic import MixtureSpec, generate_mixtures, pearson_r

SVG = "{http://www.w3.org/2000/svg}"


# ------------------------------------------------------------------------------------------- generator
@pytest.mark.parametrize(
    "spec", [MixtureSpec(n_series=3, length=500, seed=1), MixtureSpec(noise=0.3, trend=0.01)]
)
def test_one_seed_gives_identical_series(spec: MixtureSpec) -> None:
    a, b = generate_mixtures(spec), generate_mixtures(spec)
    assert np.array_equal(a.values, b.values) and np.array_equal(a.periods, b.periods)
    other = generate_mixtures(MixtureSpec(**{**spec.record(), "seed": spec.seed + 1}))
    assert not np.array_equal(a.values, other.values)


def test_the_series_are_the_documented_sinusoid_mixture() -> None:
    spec = MixtureSpec(n_series=2, length=3000, n_components=3, min_period=10, max_period=2000, trend=0.002)
    mix = generate_mixtures(spec)
    t = np.arange(spec.length)
    for i in range(spec.n_series):
        expected = spec.level + spec.trend * t
        for p, a, phi in zip(mix.periods[i], mix.amplitudes[i], mix.phases[i], strict=True):
            expected = expected + a * np.sin(2 * np.pi * t / p + phi)
        np.testing.assert_allclose(mix.values[i], expected, rtol=0, atol=1e-5)
    assert ((mix.periods >= 10) & (mix.periods <= 2000)).all()
    assert mix.values.dtype == np.float32 and mix.values.shape == (2, 3000)


def test_pearson_r_against_itself_is_one_and_matches_numpy() -> None:
    values = generate_mixtures(MixtureSpec(n_series=4, length=800, noise=0.5)).values
    np.testing.assert_allclose(pearson_r(values, values), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(pearson_r(values, -values), -1.0, rtol=0, atol=1e-12)
    other = np.random.default_rng(3).normal(size=values.shape)
    oracle = [np.corrcoef(values[i], other[i])[0, 1] for i in range(4)]
    np.testing.assert_allclose(pearson_r(values, other), oracle, rtol=1e-10)
    assert np.isnan(pearson_r(np.ones(10), np.arange(10.0)))  # a constant forecast has no correlation


@pytest.mark.parametrize("bad", [{"n_series": 0}, {"min_period": 100, "max_period": 10}, {"noise": -1.0}])
def test_bad_generator_parameters_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad)).split("_")[0]):
        MixtureSpec(**bad)


@pytest.mark.parametrize("text", ["block-0", "block", "blocks-64", "double"])
def test_unknown_decode_modes_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="valid are single, native and block-N"):
        parse_mode(text)


# ----------------------------------------------------------------------------------- forward passes
FORWARD_CASES = [
    # (model, mode, horizon, passes by hand)
    ("toto2-4m", "single", 96, 1),
    ("toto2-4m", "single", 1024, 1),
    ("toto2-4m", "single", 4096, 1),
    ("toto2-4m", "block-256", 1024, 4),  # 32 patches in blocks of 8
    ("toto2-4m", "block-64", 96, 2),  # 3 patches in blocks of 2
    ("toto2-4m", "block-256", 96, 1),  # one block covers the horizon
    ("toto1", "native", 96, 2),  # ceil(96/64)
    ("toto1", "native", 1024, 16),  # the paper's 16 steps at H=1024
    ("chronos-2", "native", 1024, 1),
    ("chronos-2", "native", 2048, 2),
]
_FAMILY = {"toto2-4m": "toto2", "toto1": "toto.model.toto", "chronos-2": "chronos"}


@pytest.fixture(scope="module")
def study_models(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Any]:
    return {}


def _model(cache: dict[tuple[str, str], Any], folder: Path, name: str, mode: str) -> Any:
    pytest.importorskip("torch")
    pytest.importorskip(
        _FAMILY[name], reason=f"{name}'s family is not installed (.ci/install-model-extras.sh)"
    )
    from toto_bench.studies.models import load_study_model

    if (name, mode) not in cache:
        cache[name, mode] = load_study_model(
            name, parse_mode(mode), device="cpu", context_length=256, random_init_dir=folder, num_samples=4
        ).model
    return cache[name, mode]


@pytest.mark.parametrize(("name", "mode", "horizon", "passes"), FORWARD_CASES)
def test_forward_passes_follow_the_patch_arithmetic(
    study_models: dict[tuple[str, str], Any],
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    mode: str,
    horizon: int,
    passes: int,
) -> None:
    from toto_bench.studies.models import ForwardCounter, decoder_module, expected_forward_passes, set_context

    model = _model(study_models, tmp_path_factory.mktemp("init"), name, mode)
    set_context(model, 256, horizon)
    context = generate_mixtures(MixtureSpec(n_series=1, length=256)).values
    with ForwardCounter(decoder_module(model)) as counter:
        forecast = model.predict([context], horizon, freq="h", seasonality=1)
    assert forecast.quantiles.shape[:3] == (1, 1, horizon)
    assert counter.count == passes
    assert expected_forward_passes(model, horizon) == passes


# ------------------------------------------------------------------------------------- end to end
MODELS = "toto2-4m,toto1,chronos-2"


def _need_models() -> None:
    pytest.importorskip("torch")
    for family in ("toto2", "toto.model.toto", "chronos"):
        pytest.importorskip(family, reason=f"{family} is not installed (.ci/install-model-extras.sh)")


def _svg(path: Path) -> ET.Element:
    root = ET.fromstring(path.read_text(encoding="utf-8"))
    assert root.tag == f"{SVG}svg"
    return root


def test_latency_study_runs_end_to_end_on_cpu_and_resumes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _need_models()
    command = [
        "study",
        "latency",
        "--models",
        MODELS,
        "--random-init",
        "--device",
        "cpu",
        "--horizons",
        "64,192",
    ]
    command += ["--modes", "single,block-64", "--context-length", "128", "--warmup", "1", "--repeats", "2"]
    command += ["--num-samples", "2", "--output-dir", str(tmp_path), "--no-progress"]
    assert main(command) == 0
    assert "8 cells computed, 0 reused" in capsys.readouterr().out
    folder = tmp_path / "latency"
    frame = pd.read_csv(folder / "latency.csv")
    runs = [("toto2-4m", "single"), ("toto2-4m", "block-64"), ("toto1", "native"), ("chronos-2", "native")]
    assert list(zip(frame["model"], frame["mode"], strict=True)) == [r for r in runs for _ in (64, 192)]
    passes = frame.set_index(["model", "mode", "horizon"])["forward_passes"]
    by_hand = {
        ("toto2-4m", "single", 64): 1,
        ("toto2-4m", "single", 192): 1,
        ("toto2-4m", "block-64", 64): 1,
        ("toto2-4m", "block-64", 192): 3,
        ("toto1", "native", 64): 1,
        ("toto1", "native", 192): 3,
        ("chronos-2", "native", 64): 1,
        ("chronos-2", "native", 192): 1,
    }
    assert passes.to_dict() == by_hand
    assert (frame["forward_passes"] == frame["decoding_steps"]).all()
    assert (frame["latency_p10_ms"] <= frame["latency_median_ms"]).all()
    assert (frame["latency_median_ms"] <= frame["latency_p90_ms"]).all()
    np.testing.assert_allclose(frame["ms_per_step"], frame["latency_median_ms"] / frame["horizon"])
    assert frame["random_init"].all() and frame["peak_device_memory_mb"].isna().all()  # CPU: no device peak
    assert "| toto1 · native · B=1" in (folder / "latency.md").read_text()
    svg = _svg(folder / "latency.svg")
    assert len(svg.findall(f"{SVG}polyline")) == 4  # one line per model · mode · batch
    record = json.loads((folder / "config.json").read_text())
    assert record["study"] == "latency" and record["options"]["horizons"] == [64, 192]
    assert set(record["model_details"]) == {f"{m} · {d}" for m, d in runs}
    assert main(command) == 0  # a rerun resumes: nothing is recomputed
    assert "0 cells computed, 8 reused" in capsys.readouterr().out
    pd.testing.assert_frame_equal(pd.read_csv(folder / "latency.csv"), frame)


def test_long_horizon_study_runs_end_to_end_on_cpu(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _need_models()
    command = ["study", "long-horizon", "--models", MODELS, "--random-init", "--device", "cpu"]
    command += ["--horizons", "128,256", "--modes", "block-64", "--context-length", "256", "--series", "3"]
    command += ["--max-period", "512", "--noise", "0.1", "--num-samples", "2", "--plot-series", "2"]
    command += ["--output-dir", str(tmp_path), "--no-progress"]
    assert main(command) == 0
    assert "6 cells computed, 0 reused" in capsys.readouterr().out
    folder = tmp_path / "long-horizon"
    frame = pd.read_csv(folder / "long_horizon.csv")
    assert len(frame) == 6 and set(frame["mode"]) == {"block-64", "native"}
    assert frame["pearson_r"].between(-1, 1).all() and (frame["pearson_r_min"] <= frame["pearson_r"]).all()
    assert (frame["MASE"] > 0).all() and (frame["CRPS"] > 0).all()
    toto2 = frame[frame["model"] == "toto2-4m"].set_index("horizon")["forward_passes"]
    assert toto2.to_dict() == {128: math.ceil(4 / 2), 256: math.ceil(8 / 2)}
    assert "Pearson r of the median forecast" in (folder / "long_horizon.md").read_text()
    assert len(_svg(folder / "long_horizon.svg").findall(f"{SVG}polyline")) == 3
    plots = sorted((folder / "forecasts").glob("*.svg"))
    assert len(plots) == 6 and all(p.read_text().count("<svg") == 2 for p in plots)
    record = json.loads((folder / "config.json").read_text())
    mixture = record["options"]["mixture"]
    assert mixture["noise"] == 0.1 and mixture["length"] == 256 + 256 and mixture["seed"] == 0


def test_long_horizon_pearson_r_is_nan_for_a_flat_forecast(tmp_path: Path) -> None:
    # naive (seasonality 1) repeats the last value: a constant forecast, whose correlation is undefined
    command = ["study", "long-horizon", "--models", "naive", "--horizons", "64", "--context-length", "128"]
    assert main([*command, "--series", "2", "--output-dir", str(tmp_path), "--no-progress"]) == 0
    frame = pd.read_csv(tmp_path / "long-horizon" / "long_horizon.csv")
    assert frame["pearson_r"].isna().all() and frame["forward_passes"].isna().all()


def test_report_studies_dir_without_study_outputs_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from layouts import SHARED

    results = SHARED / "data" / "boom" / "results"
    if not results.is_dir():
        pytest.skip(f"published BOOM results not found at {results}")
    command = ["report", "--suite", "boom", "--results-dir", str(results), "--output", str(tmp_path / "site")]
    assert main([*command, "--studies-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"--studies-dir {tmp_path}: no study outputs there" in err and "latency/latency.svg" in err
