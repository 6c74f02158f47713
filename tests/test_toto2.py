"""Toto 2.0 adapter: parity with the upstream model and its official gluonts predictor, loading paths, errors.

Models are the real ``toto2.Toto2Model`` architecture with random weights (the official 4m config, or the tiny
test config), saved with the package's own ``save_pretrained`` and loaded back through the adapter's normal
path. Oracles are upstream code: ``Toto2Model.forecast`` on inputs built here with upstream's own
``ffill_imputation`` over the whole history, ``Toto2GluonTSModel(...).create_predictor()`` (the notebooks'
predictor), and the notebooks' settings written out as constants.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import layouts
import numpy as np
import pytest

from toto_bench.adapters.common import install_hint

torch = pytest.importorskip("torch", reason=f"torch is not installed: {install_hint('toto2')}")
toto2 = pytest.importorskip("toto2", reason=f"toto-2 is not installed: {install_hint('toto2')}")

from toto2.model import ffill_imputation  # noqa: E402

from toto_bench.adapters.common import MissingExtraError  # noqa: E402
from toto_bench.adapters.registry import available_models, build_model  # noqa: E402
from toto_bench.adapters.toto2 import (  # noqa: E402
    OFFICIAL_4M_CONFIG,
    SIZED_313M_CONFIG,
    TINY_TEST_CONFIG,
    Toto2Forecaster,
    past_length,
    prepare_inputs,
    save_random_checkpoint,
)
from toto_bench.cli import main  # noqa: E402

SIZES = {"4m": "4m", "22m": "22m", "313m": "313m", "1b": "1B", "2.5b": "2.5B"}


@pytest.fixture(scope="module")
def official_4m(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_random_checkpoint(tmp_path_factory.mktemp("toto2_4m"), OFFICIAL_4M_CONFIG, seed=1)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_random_checkpoint(tmp_path_factory.mktemp("toto2_tiny"), TINY_TEST_CONFIG, seed=2)


@pytest.fixture(scope="module")
def upstream_model(official_4m: Path) -> Any:
    return toto2.Toto2Model.from_pretrained(str(official_4m)).eval()


def _series(n_var: int, seed: int = 0) -> list[np.ndarray]:
    """Contexts covering every imputation/padding case: shorter than a patch, leading NaN, a gap, trailing
    NaN, and a NaN run longer than the model context (the fill value comes from before the window)."""
    rng = np.random.default_rng(seed)
    out = [
        (rng.normal(size=(n_var, n)).cumsum(-1) + 10).astype(np.float32) for n in (20, 300, 700, 1000, 1000)
    ]
    out[1][:, :50] = np.nan
    out[2][:, 500:650] = np.nan
    out[2][0, 100] = np.nan
    out[3][:, -40:] = np.nan
    out[4][:, 300:] = np.nan
    out[4][-1, 310] = 3.0
    return out


def _direct(model: Any, contexts: list[np.ndarray], horizon: int, budget: int) -> np.ndarray:
    """The oracle: upstream ffill over the whole history, last P steps, left pad, one ``forecast`` call."""
    patch = model.config.patch_size
    # the notebook's instance splitter, written out independently
    p = max(patch, math.floor((budget - (math.ceil(horizon / patch) - 1) * patch) / patch) * patch)
    n_var = contexts[0].shape[0]
    target = np.zeros((len(contexts), n_var, p), dtype=np.float32)
    mask = np.zeros((len(contexts), n_var, p), dtype=bool)
    for i, ctx in enumerate(contexts):
        filled = ffill_imputation(ctx)
        observed = ~np.isnan(ctx)
        keep = min(p, ctx.shape[1])
        target[i, :, p - keep :] = filled[:, ctx.shape[1] - keep :]
        mask[i, :, p - keep :] = observed[:, ctx.shape[1] - keep :]
    inputs = {
        "target": torch.from_numpy(target),
        "target_mask": torch.from_numpy(mask),
        "series_ids": torch.zeros((len(contexts), n_var), dtype=torch.long),
    }
    q = model.forecast(
        inputs,
        horizon,
        decode_block_size=None,
        has_missing_values=True,
        scaler_fallback_min_obs=8,
        quantile_real_cap_k=1e4,
    )
    return q.numpy()  # [9, B, V, H]


# ----------------------------------------------------------------------------------------------------------
# Parity


@pytest.mark.parametrize("n_var", [1, 3])
@pytest.mark.parametrize(("budget", "horizon"), [(512, 45), (256, 300)])
def test_adapter_equals_a_direct_low_level_forecast_call(
    official_4m: Path, upstream_model: Any, n_var: int, budget: int, horizon: int
) -> None:
    contexts = _series(n_var)
    adapter = Toto2Forecaster(official_4m, context_length=budget, batch_size=64, device="cpu")
    got = adapter.predict(contexts, horizon, freq="h", seasonality=24).quantiles
    expected = np.moveaxis(_direct(upstream_model, contexts, horizon, budget), 0, -1)
    assert got.shape == (len(contexts), n_var, horizon, 9)
    assert np.isfinite(got).all()
    np.testing.assert_array_equal(got, expected)  # max abs diff 0: same inputs, same call


@pytest.mark.parametrize("n_var", [1, 3])
def test_adapter_equals_the_official_gluonts_predictor(
    official_4m: Path, upstream_model: Any, n_var: int
) -> None:
    import pandas as pd
    from gluonts.dataset.common import ListDataset

    horizon, budget = 45, 512
    series = _series(n_var, seed=3)
    config = toto2.Toto2GluonTSModelConfig(prediction_length=horizon, context_length=budget, target_dim=n_var)
    predictor = toto2.Toto2GluonTSModel(upstream_model, config).create_predictor(batch_size=2, device="cpu")
    entries = [
        {"start": pd.Period("2020-01-01", freq="h"), "target": s[0] if n_var == 1 else s} for s in series
    ]
    forecasts = list(predictor.predict(ListDataset(entries, freq="h", one_dim_target=n_var == 1)))
    adapter = Toto2Forecaster(official_4m, context_length=budget, batch_size=2, device="cpu")
    got = adapter.predict(series, horizon, freq="h", seasonality=24).quantiles
    for i, forecast in enumerate(forecasts):
        # univariate: [9, H]; multivariate: the wrapper's [9, V, H] (gluonts expects [9, H, V]: its bug)
        ref = forecast.forecast_array[:, None, :] if n_var == 1 else forecast.forecast_array
        np.testing.assert_array_equal(got[i], np.moveaxis(ref, 0, -1))


@pytest.mark.parametrize("n_var", [1, 3])
def test_inputs_equal_the_notebook_transforms_on_random_gaps(upstream_model: Any, n_var: int) -> None:
    """Our target/mask vs the wrapper's own gluonts transform chain (imputation, instance splitter)."""
    import pandas as pd

    rng = np.random.default_rng(9)
    contexts = []
    for k in range(60):
        x = rng.normal(size=(n_var, int(rng.integers(1, 400)))).astype(np.float32)
        x[rng.random(size=x.shape) < rng.uniform(0, 0.9)] = np.nan
        if k % 5 == 0:
            x[:, -150:] = np.nan  # a NaN run longer than the model context: the fill comes from before it
        if k % 7 == 0:
            x[-1] = np.nan  # a variate without any observation
        contexts.append(x)
    horizon, budget = 30, 160
    config = toto2.Toto2GluonTSModelConfig(prediction_length=horizon, context_length=budget, target_dim=n_var)
    wrapper = toto2.Toto2GluonTSModel(upstream_model, config)
    transform = wrapper.input_transform + wrapper.instance_splitter
    entries = [
        {"start": pd.Period("2020-01-01", freq="h"), "target": x[0] if n_var == 1 else x} for x in contexts
    ]
    expected = list(transform.apply(entries, is_train=False))
    target, mask = prepare_inputs(contexts, past_length(budget, horizon, 32))
    for i, entry in enumerate(expected):
        np.testing.assert_array_equal(target[i], entry["past_target"])
        np.testing.assert_array_equal(
            mask[i], entry["past_observed_target"] & ~entry["past_is_pad"].astype(bool)
        )


def test_block_decoding_equals_the_low_level_call(tiny: Path) -> None:
    model = toto2.Toto2Model.from_pretrained(str(tiny)).eval()
    contexts = _series(2, seed=4)
    adapter = Toto2Forecaster(tiny, context_length=512, decode_block_size=64, device="cpu")
    got = adapter.predict(contexts, 150, freq="h", seasonality=24).quantiles
    past = past_length(512, 150, 32)
    target = np.stack([np.nan_to_num(ffill_imputation(c)[:, -past:]) for c in contexts[2:]])
    mask = np.stack([~np.isnan(c[:, -past:]) for c in contexts[2:]])
    q = model.forecast(
        {
            "target": torch.from_numpy(target),
            "target_mask": torch.from_numpy(mask),
            "series_ids": torch.zeros(target.shape[:2], dtype=torch.long),
        },
        150,
        decode_block_size=64,
        has_missing_values=True,
        scaler_fallback_min_obs=8,
        quantile_real_cap_k=1e4,
    )
    np.testing.assert_allclose(got[2:], np.moveaxis(q.numpy(), 0, -1), rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize(("budget", "horizon"), [(2048, 1), (2048, 48), (2048, 720), (4096, 900), (64, 900)])
def test_past_length_matches_the_official_instance_splitter(
    upstream_model: Any, budget: int, horizon: int
) -> None:
    config = toto2.Toto2GluonTSModelConfig(prediction_length=horizon, context_length=budget, target_dim=1)
    splitter = toto2.Toto2GluonTSModel(upstream_model, config).instance_splitter
    assert past_length(budget, horizon, 32) == splitter.past_length


def test_oom_halves_the_batch_and_keeps_the_numbers(tiny: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    contexts = _series(1, seed=5) * 2
    adapter = Toto2Forecaster(tiny, context_length=256, batch_size=8, device="cpu")
    reference = adapter.predict(contexts, 30, freq="h", seasonality=24).quantiles
    real = adapter.forecast_arrays
    sizes: list[int] = []

    def flaky(target: np.ndarray, mask: np.ndarray, horizon: int) -> np.ndarray:
        sizes.append(target.shape[0])
        if target.shape[0] > 3:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return real(target, mask, horizon)

    monkeypatch.setattr(adapter, "forecast_arrays", flaky)
    got = adapter.predict(contexts, 30, freq="h", seasonality=24).quantiles
    assert sizes[:3] == [8, 4, 2]
    assert adapter.batch_size == 2 and adapter.batch_size_halvings == [4, 2]
    np.testing.assert_allclose(got, reference, rtol=1e-6, atol=1e-5)


# ----------------------------------------------------------------------------------------------------------
# Registry and settings (the notebooks' values, written out)


def test_every_size_is_registered_with_its_checkpoint_and_notebook_settings(tiny: Path) -> None:
    models = available_models()
    for size, hub_size in SIZES.items():
        spec = models[f"toto2-{size}"]
        assert spec.family == "toto2" and spec.checkpoint == f"Datadog/Toto-2.0-{hub_size}"
        assert spec.settings_for("boom") == {
            "context_length": 2048,
            "batch_size": 64,
            "decode_block_size": None,
        }
        assert spec.settings_for("gift-eval") == {
            "context_length": 4096,
            "batch_size": 512,
            "decode_block_size": None,
        }
        assert spec.allows_nan_forecast("boom") and not spec.allows_nan_forecast("gift-eval")
    model = build_model("toto2-313m", suite="boom", checkpoint=tiny, device="cpu")
    assert isinstance(model, Toto2Forecaster) and model.supports_multivariate
    assert (model.name, model.context_length, model.batch_size, model.decode_block_size) == (
        "toto2-313m",
        2048,
        64,
        None,
    )
    described = model.describe()
    assert described["checkpoint_id"] == "Datadog/Toto-2.0-313m" and described["dtype"] == "float32"


def test_checkpoint_dir_loads_the_saved_weights(official_4m: Path, upstream_model: Any) -> None:
    from safetensors.torch import load_file

    model = build_model("toto2-4m", checkpoint=official_4m, device="cpu")
    assert isinstance(model, Toto2Forecaster)
    saved = load_file(str(official_4m / "model.safetensors"))
    state = model.model.state_dict()
    assert saved.keys() == state.keys()
    assert all(torch.equal(saved[k], state[k]) for k in saved)
    assert sum(p.numel() for p in model.model.parameters()) == 4_144_448  # the published "4.1M"


def test_hub_id_loads_from_the_hf_cache_offline(
    official_4m: Path, upstream_model: Any, tmp_path: Path
) -> None:
    revision = "0123456789abcdef0123456789abcdef01234567"
    snapshot = layouts.write_hf_cache(tmp_path / "hf", "Datadog/Toto-2.0-4m", official_4m, revision)
    contexts = _series(3, seed=6)
    np.save(tmp_path / "contexts.npy", np.stack([c[:, -300:] for c in contexts[1:]]))
    script = textwrap.dedent(
        f"""
        import json, numpy as np
        from toto_bench.adapters.registry import build_model
        model = build_model("toto2-4m", context_length=512, device="cpu")
        ctx = list(np.load({str(tmp_path / "contexts.npy")!r}))
        np.save({str(tmp_path / "out.npy")!r}, model.predict(ctx, 45, freq="h", seasonality=24).quantiles)
        print(json.dumps(model.describe()))
        """
    )
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1"}
    env.pop("HF_HUB_CACHE", None)
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    described = json.loads(done.stdout.strip().splitlines()[-1])
    assert described["revision"] == revision and described["checkpoint_dir"] == str(snapshot)
    ctx = list(np.load(tmp_path / "contexts.npy"))
    expected = np.moveaxis(_direct(upstream_model, ctx, 45, 512), 0, -1)
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), expected, rtol=1e-6, atol=1e-5)


# ----------------------------------------------------------------------------------------------------------
# Errors


def test_missing_checkpoint_offline_names_the_id_and_the_download_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError) as info:
        build_model("toto2-22m", device="cpu")
    message = str(info.value)
    assert "Datadog/Toto-2.0-22m" in message
    assert "hf download Datadog/Toto-2.0-22m" in message and "--checkpoint" in message
    data = tmp_path / "data"
    data.mkdir()
    argv = ["run", "--suite", "gift-eval", "--model", "toto2-22m", "--data-dir", str(data), "--device", "cpu"]
    argv += ["--output-dir", str(tmp_path / "out"), "--no-progress"]
    (data / "m4_hourly").mkdir()  # the run reaches the model before any data is read
    code = main([*argv, "--datasets", "m4_hourly"])
    err = capsys.readouterr().err
    assert code == 2 and "hf download Datadog/Toto-2.0-22m" in err


def test_missing_package_names_the_install_command(tiny: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "toto2", None)  # import toto2 → ImportError
    with pytest.raises(MissingExtraError, match=r"bash \.ci/install-model-extras\.sh toto2"):
        build_model("toto2-4m", checkpoint=tiny, device="cpu")


@pytest.mark.parametrize(
    ("overrides", "pattern"),
    [
        ({"decode_block_size": 48}, r"multiple of the patch size 32.*got 48"),
        ({"batch_size": 0}, r"batch_size must be a positive integer, got 0"),
        ({"context_length": -5}, r"context_length must be a positive integer, got -5"),
        ({"device": "tpu"}, r"unknown device 'tpu'; valid: auto, cpu, cuda"),
    ],
)
def test_bad_settings_name_the_value_and_the_valid_ones(
    tiny: Path, overrides: dict[str, Any], pattern: str
) -> None:
    with pytest.raises(ValueError, match=pattern):
        build_model("toto2-4m", checkpoint=tiny, **{"device": "cpu", **overrides})


def test_unsafe_or_absent_checkpoint_dirs_are_refused(tiny: Path, tmp_path: Path) -> None:
    pickled = tmp_path / "pickled"
    pickled.mkdir()
    (pickled / "config.json").write_bytes((tiny / "config.json").read_bytes())
    (pickled / "pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(FileNotFoundError, match=r"no \*\.safetensors weights.*pytorch_model\.bin"):
        build_model("toto2-4m", checkpoint=pickled, device="cpu")
    with pytest.raises(FileNotFoundError, match=r"--checkpoint .*nowhere: not a directory"):
        build_model("toto2-4m", checkpoint=tmp_path / "nowhere", device="cpu")


def test_contexts_with_different_variate_counts_are_rejected(tiny: Path) -> None:
    adapter = Toto2Forecaster(tiny, context_length=256, device="cpu")
    contexts = [np.zeros((2, 50), np.float32), np.zeros((3, 50), np.float32)]
    with pytest.raises(ValueError, match=r"context 1 has shape \(3, 50\).*same V"):
        adapter.predict(contexts, 10, freq="h", seasonality=24)


#: Published parameter counts (toto-2 README table; shared/docs/adapters.md §3, §4, §5), in millions.
@pytest.mark.parametrize(
    ("family", "published_m"),
    [("toto2-313m", 313.0), ("toto1", 151.3), ("chronos-2", 119.5)],
)
def test_real_shaped_random_checkpoints_have_the_published_parameter_count(
    family: str, published_m: float
) -> None:
    """The real-shaped builders (benchmarks/gpu_flagship.py) give the published sizes within 0.5 %."""
    with torch.device("meta"):
        if family == "toto2-313m":
            model = toto2.Toto2Model(toto2.Toto2ModelConfig(**SIZED_313M_CONFIG))
        elif family == "toto1":
            toto_model = pytest.importorskip("toto.model.toto", reason="toto-ts is not installed")
            from toto_bench.adapters.toto1 import PUBLISHED_CONFIG

            model = toto_model.Toto(**{**PUBLISHED_CONFIG, "use_memory_efficient_attention": False})
        else:
            pytest.importorskip("chronos", reason="chronos-forecasting is not installed")
            from chronos.chronos2 import Chronos2Model

            from toto_bench.adapters.chronos import CHRONOS2_PUBLISHED_SIZES, chronos2_config

            model = Chronos2Model(chronos2_config(CHRONOS2_PUBLISHED_SIZES))
    count = sum(p.numel() for p in model.parameters()) / 1e6
    assert abs(count - published_m) / published_m < 0.005, f"{family}: {count:.2f} M vs {published_m} M"
