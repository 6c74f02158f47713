"""The Chronos adapters against the chronos-forecasting pipelines themselves, on tiny random-init checkpoints.

The oracle is what the official notebooks compute (gift-eval ``notebooks/chronos.ipynb`` and
``chronos-2.ipynb``, DataDog/toto ``boom/notebooks/chronos.ipynb`` and ``chronos2.ipynb``): a separately
loaded pipeline called directly, ``ChronosBoltPipeline.predict(list_of_1d_tensors, H)`` and, for Chronos-2,
``predict_quantiles([{"target": ...}], H, quantile_levels=deciles, batch_size=100, cross_learning=True)``
once per rolling-window index. Checkpoints are the real architectures with random weights, built and saved by
the registry's ``test_checkpoint`` and loaded through ``BaseChronosPipeline.from_pretrained`` like a hub
checkpoint.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any

import layouts
import numpy as np
import pytest

from toto_bench.adapters.base import QUANTILE_LEVELS, Forecaster
from toto_bench.adapters.common import MissingExtraError, install_hint
from toto_bench.adapters.registry import available_models, build_model
from toto_bench.engine.forecasting import forecast_series
from toto_bench.engine.tasks import Task, window_cuts

chronos = pytest.importorskip("chronos", reason=f"chronos is not installed: {install_hint('chronos')}")
torch = pytest.importorskip("torch", reason=f"torch is not installed: {install_hint('chronos')}")

from toto_bench.adapters.chronos import (  # noqa: E402  (after the importorskip guards)
    Chronos2Forecaster,
    ChronosBoltForecaster,
    infer_window_ids,
)

LEVELS = list(QUANTILE_LEVELS)
KW: dict[str, Any] = {"freq": "H", "seasonality": 24}


# ----------------------------------------------------------------------------------------------------------
# Fixtures: one tiny checkpoint per architecture, adapters and independent oracle pipelines


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("chronos-ckpt")
    models = available_models()
    bolt = models["chronos-bolt-small"].test_checkpoint
    chronos2 = models["chronos-2"].test_checkpoint
    assert bolt is not None and chronos2 is not None
    return {"bolt": bolt(root / "bolt"), "chronos2": chronos2(root / "chronos2")}


def _bolt(ckpt: dict[str, Path], **kw: Any) -> ChronosBoltForecaster:
    model = build_model("chronos-bolt-small", "boom", checkpoint=str(ckpt["bolt"]), device="cpu", **kw)
    assert isinstance(model, ChronosBoltForecaster)
    return model


def _chronos2(ckpt: dict[str, Path], suite: str = "boom", **kw: Any) -> Chronos2Forecaster:
    model = build_model("chronos-2", suite, checkpoint=str(ckpt["chronos2"]), device="cpu", **kw)
    assert isinstance(model, Chronos2Forecaster)
    return model


@pytest.fixture(scope="module")
def bolt(ckpt: dict[str, Path]) -> ChronosBoltForecaster:
    return _bolt(ckpt)


@pytest.fixture(scope="module")
def chronos2(ckpt: dict[str, Path]) -> Chronos2Forecaster:
    return _chronos2(ckpt)


@pytest.fixture(scope="module")
def bolt_oracle(ckpt: dict[str, Path]) -> Any:
    return chronos.BaseChronosPipeline.from_pretrained(str(ckpt["bolt"]), device_map="cpu")


@pytest.fixture(scope="module")
def chronos2_oracle(ckpt: dict[str, Path]) -> Any:
    return chronos.BaseChronosPipeline.from_pretrained(
        str(ckpt["chronos2"]), device_map="cpu", dtype="float32"
    )


def bolt_reference(pipeline: Any, rows: list[np.ndarray], horizon: int) -> np.ndarray:
    """The notebook: ``pipeline.predict([torch.tensor(target) ...], H)`` → ``[n, H, 9]``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = pipeline.predict([torch.tensor(r) for r in rows], prediction_length=horizon)
    return np.asarray(out.numpy()).transpose(0, 2, 1)


def chronos2_reference(
    pipeline: Any, targets: list[np.ndarray], horizon: int, *, batch_size: int = 100, **kw: Any
) -> np.ndarray:
    """The notebook's predictor for one window index → ``[n, V, H, 9]``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quantiles, _ = pipeline.predict_quantiles(
            inputs=[{"target": t} for t in targets],
            prediction_length=horizon,
            quantile_levels=LEVELS,
            batch_size=batch_size,
            predict_batches_jointly=True,  # the notebooks' spelling of cross_learning=True
            **kw,
        )
    return torch.stack(quantiles).numpy()


def _series(rng: np.random.Generator, n_var: int, lengths: tuple[int, ...]) -> list[np.ndarray]:
    out = []
    for length in lengths:
        x = rng.normal(size=(n_var, length)).astype(np.float32).cumsum(axis=1) + 5
        out.append(x)
    return out


# ----------------------------------------------------------------------------------------------------------
# Registry, lazy imports, errors


def test_registered_models_and_notebook_settings() -> None:
    models = available_models()
    for name, ckpt_id in [
        ("chronos-bolt-small", "amazon/chronos-bolt-small"),
        ("chronos-bolt-base", "amazon/chronos-bolt-base"),
    ]:
        spec = models[name]
        assert (spec.family, spec.checkpoint) == ("chronos", ckpt_id)
        assert spec.test_checkpoint is not None
        for suite in ("gift-eval", "boom", "boomlet"):
            assert spec.settings_for(suite) == {"batch_size": 1024}
    spec = models["chronos-2"]
    assert (spec.family, spec.checkpoint) == ("chronos", "amazon/chronos-2")
    common = {"batch_size": 100, "cross_learning": True, "dtype": "float32"}
    assert spec.settings_for("gift-eval") == common  # no context_length: the model's 8192
    assert spec.settings_for("boom") == spec.settings_for("boomlet") == {**common, "context_length": 2048}
    # without a suite: the pipeline's default, no cross-learning (batch-independent forecasts)
    assert spec.settings_for(None) == {**common, "cross_learning": False}


def test_module_imports_without_torch_or_chronos() -> None:
    code = (
        "import sys; import toto_bench.adapters.chronos; from toto_bench.adapters.registry import "
        "available_models; assert 'chronos-2' in available_models(); "
        "bad = [m for m in ('torch', 'chronos', 'transformers') if m in sys.modules]; assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_test_checkpoint_round_trip(ckpt: dict[str, Path], bolt_oracle: Any, chronos2_oracle: Any) -> None:
    """``test_checkpoint`` writes config.json + safetensors (no pickle, no remote code) that
    ``BaseChronosPipeline.from_pretrained(dir)`` reloads bit for bit, dispatching on the config alone."""
    from safetensors.torch import load_file

    for key, pipeline, cls in [
        ("bolt", bolt_oracle, "ChronosBoltPipeline"),
        ("chronos2", chronos2_oracle, "Chronos2Pipeline"),
    ]:
        folder = ckpt[key]
        assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]
        config = json.loads((folder / "config.json").read_text())
        assert config["chronos_pipeline_class"] == cls and "auto_map" not in config
        assert type(pipeline).__name__ == cls
        saved = load_file(str(folder / "model.safetensors"))
        state = pipeline.model.state_dict()
        assert saved and all(torch.equal(saved[k], state[k]) for k in saved)
        assert not pipeline.model.training


def test_missing_package_names_the_extra(monkeypatch: pytest.MonkeyPatch, ckpt: dict[str, Path]) -> None:
    monkeypatch.setitem(sys.modules, "chronos", None)  # import chronos → ImportError
    with pytest.raises(MissingExtraError, match=r"toto-bench\[chronos\]"):
        build_model("chronos-bolt-small", checkpoint=str(ckpt["bolt"]), device="cpu")


def test_missing_local_folder_and_wrong_family(tmp_path: Path, ckpt: dict[str, Path]) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        build_model("chronos-2", checkpoint=str(tmp_path / "nope"), device="cpu")
    with pytest.raises(ValueError, match="Chronos2Pipeline"):
        build_model("chronos-2", checkpoint=str(ckpt["bolt"]), device="cpu")
    with pytest.raises(ValueError, match="ChronosBoltPipeline"):
        build_model("chronos-bolt-base", checkpoint=str(ckpt["chronos2"]), device="cpu")


def test_bolt_rejects_other_quantile_levels(tmp_path: Path, ckpt: dict[str, Path]) -> None:
    folder = tmp_path / "bolt-other-levels"
    shutil.copytree(ckpt["bolt"], folder)
    config = json.loads((folder / "config.json").read_text())
    config["chronos_config"]["quantiles"] = [0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95]
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="expected"):
        build_model("chronos-bolt-small", checkpoint=str(folder), device="cpu")


def test_offline_hf_cache_load_and_missing_checkpoint(
    tmp_path: Path, ckpt: dict[str, Path], bolt: ChronosBoltForecaster, chronos2: Chronos2Forecaster
) -> None:
    """The published ids resolve from a pre-populated HF cache with HF_HUB_OFFLINE=1; an uncached one fails
    with the id and the pre-download command. Runs in a fresh interpreter so HF_HOME takes effect."""
    for repo_id, src in [("amazon/chronos-bolt-small", ckpt["bolt"]), ("amazon/chronos-2", ckpt["chronos2"])]:
        layouts.write_hf_cache(tmp_path / "hf", repo_id, src)
    rng = np.random.default_rng(7)
    x_bolt = rng.normal(size=(1, 150)).astype(np.float32)
    x_c2 = rng.normal(size=(3, 150)).astype(np.float32)
    np.save(tmp_path / "x_bolt.npy", x_bolt)
    np.save(tmp_path / "x_c2.npy", x_c2)
    script = textwrap.dedent(
        f"""
        import json, numpy as np
        from pathlib import Path
        from toto_bench.adapters.registry import build_model
        out = Path({str(tmp_path)!r})
        b = build_model("chronos-bolt-small", "boom", device="cpu")
        c = build_model("chronos-2", "boom", device="cpu")
        kw = dict(freq="H", seasonality=24)
        np.save(out / "y_bolt.npy", b.predict([np.load(out / "x_bolt.npy")], 20, **kw).quantiles)
        np.save(out / "y_c2.npy", c.predict([np.load(out / "x_c2.npy")], 20, **kw).quantiles)
        try:
            build_model("chronos-bolt-base", device="cpu")
            err = None
        except OSError as exc:
            err = str(exc)
        (out / "err.json").write_text(json.dumps({{"err": err, "checkpoint": b.checkpoint}}))
        """
    )
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1"}
    env.pop("HF_HUB_CACHE", None)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120, env=env)
    result = json.loads((tmp_path / "err.json").read_text())
    assert result["checkpoint"] == "amazon/chronos-bolt-small"  # loaded by id, from the cache
    assert "amazon/chronos-bolt-base" in result["err"] and "download" in result["err"]
    np.testing.assert_array_equal(
        np.load(tmp_path / "y_bolt.npy"), bolt.predict([x_bolt], 20, **KW).quantiles
    )
    np.testing.assert_array_equal(
        np.load(tmp_path / "y_c2.npy"), chronos2.predict([x_c2], 20, **KW).quantiles
    )


# ----------------------------------------------------------------------------------------------------------
# Chronos-Bolt


def _bolt_contexts(rng: np.random.Generator) -> list[np.ndarray]:
    """``[1, t]`` contexts: short, shorter than a patch, NaN gaps, leading NaN, all-NaN, longer than 2048."""
    lengths = (5, 40, 333, 2100, 97, 64)
    ctx = [rng.normal(size=(1, n)).astype(np.float32).cumsum(axis=1) * 3 + 10 for n in lengths]
    ctx[1][0, 10:20] = np.nan
    ctx[2][0, :50] = np.nan
    ctx[2][0, 200:210] = np.nan
    ctx[4][0, :] = np.nan
    ctx[5][0, -3:] = np.nan
    return ctx


@pytest.mark.parametrize("horizon", [13, 70])  # 13: not a multiple of the patch; 70 > 64: unrolled
def test_bolt_equals_pipeline_predict(bolt: ChronosBoltForecaster, bolt_oracle: Any, horizon: int) -> None:
    assert isinstance(bolt, Forecaster) and not bolt.supports_multivariate
    assert bolt.context_length == 2048 and bolt.batch_size == 1024
    ctx = _bolt_contexts(np.random.default_rng(0))
    got = bolt.predict(ctx, horizon, **KW)
    assert got.quantiles.shape == (len(ctx), 1, horizon, 9) and got.quantiles.dtype == np.float32
    assert got.mean is None and got.levels == QUANTILE_LEVELS
    expected = bolt_reference(bolt_oracle, [c[0] for c in ctx], horizon)
    # Same batch as the notebook → bit-identical, including NaN handling, truncation and (unsorted) order.
    np.testing.assert_array_equal(got.quantiles[:, 0], expected)
    assert np.isfinite(got.quantiles).all()


def test_bolt_splits_variates_and_runs_through_the_engine(
    bolt: ChronosBoltForecaster, bolt_oracle: Any
) -> None:
    rng = np.random.default_rng(1)
    targets = _series(rng, 3, (120, 180))
    targets[0][1, 30:40] = np.nan
    horizon, windows = 12, 2
    task = Task("x/H/short", "x", "short", "H", horizon, windows, 24, 3, 120)
    cuts = [window_cuts(t.shape[1], horizon, windows) for t in targets]
    got = forecast_series(bolt, targets, cuts, task)
    for target, c, forecast in zip(targets, cuts, got, strict=True):
        assert forecast.quantiles.shape == (windows, 3, horizon, 9)
        rows = [target[v, :cut] for cut in c for v in range(3)]
        ref = bolt_reference(bolt_oracle, rows, horizon).reshape(windows, 3, horizon, 9)
        np.testing.assert_allclose(forecast.quantiles, ref, rtol=1e-5, atol=1e-5)  # other batch padding
    direct = bolt.predict([targets[1][:, : cuts[1][0]]], horizon, **KW).quantiles[0]
    np.testing.assert_allclose(direct, got[1].quantiles[0], rtol=1e-5, atol=1e-5)


def test_bolt_batch_size_invariance_and_oom_halving(
    ckpt: dict[str, Path], bolt: ChronosBoltForecaster, bolt_oracle: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = _bolt_contexts(np.random.default_rng(2))
    full = bolt.predict(ctx, 16, **KW).quantiles
    small = _bolt(ckpt, batch_size=2)
    np.testing.assert_allclose(small.predict(ctx, 16, **KW).quantiles, full, rtol=1e-5, atol=1e-5)

    oom = _bolt(ckpt, batch_size=8)
    original = oom.pipeline.predict

    def predict(inputs: list[Any], **kw: Any) -> Any:
        if len(inputs) > 2:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return original(inputs, **kw)

    monkeypatch.setattr(oom.pipeline, "predict", predict)
    got = oom.predict(ctx, 16, **KW).quantiles
    assert oom.oom_events == [4, 2]
    rows = [c[0] for c in ctx]
    expected = np.concatenate([bolt_reference(bolt_oracle, rows[i : i + 2], 16) for i in range(0, 6, 2)])
    np.testing.assert_array_equal(got[:, 0], expected)


# ----------------------------------------------------------------------------------------------------------
# Chronos-2


def _mv_contexts(rng: np.random.Generator, n_var: int = 3) -> list[np.ndarray]:
    ctx = _series(rng, n_var, (60, 2100, 17, 300))
    ctx[0][1, 5:25] = np.nan
    ctx[3][:, :40] = np.nan
    ctx[3][2, :] = np.nan  # one variate entirely missing
    return ctx


@pytest.mark.parametrize("horizon", [20, 40])
def test_chronos2_equals_predict_quantiles_multivariate(
    chronos2: Chronos2Forecaster, chronos2_oracle: Any, horizon: int
) -> None:
    assert isinstance(chronos2, Forecaster) and chronos2.supports_multivariate
    assert chronos2.batch_size is None and chronos2.pipeline_batch_size == 100
    assert chronos2.context_length == 2048 and chronos2.cross_learning
    ctx = _mv_contexts(np.random.default_rng(3))  # independent arrays: distinct series, one window each
    got = chronos2.predict(ctx, horizon, **KW)
    assert got.quantiles.shape == (4, 3, horizon, 9) and got.quantiles.dtype == np.float32
    assert got.mean is None
    expected = chronos2_reference(chronos2_oracle, ctx, horizon, context_length=2048)
    np.testing.assert_array_equal(got.quantiles, expected)
    assert np.isfinite(got.quantiles).all()


def test_chronos2_univariate_equals_1d_targets(chronos2: Chronos2Forecaster, chronos2_oracle: Any) -> None:
    """Univariate datasets reach the notebook's predictor as 1-D targets; the engine passes ``[1, t]``."""
    ctx = _series(np.random.default_rng(4), 1, (50, 90, 130))
    got = chronos2.predict(ctx, 24, **KW).quantiles
    expected = chronos2_reference(chronos2_oracle, [c[0] for c in ctx], 24, context_length=2048)
    np.testing.assert_array_equal(got, expected)


def test_chronos2_context_length_per_suite(
    ckpt: dict[str, Path], chronos2: Chronos2Forecaster, chronos2_oracle: Any
) -> None:
    ctx = _series(np.random.default_rng(5), 2, (2500, 700))
    boom = chronos2.predict(ctx, 16, **KW).quantiles
    # BOOM: the last 2048 steps, exactly as if only they had been passed
    np.testing.assert_array_equal(boom, chronos2.predict([c[:, -2048:] for c in ctx], 16, **KW).quantiles)
    gift = _chronos2(ckpt, "gift-eval")
    assert gift.context_length == 8192  # no context_length in the notebook: the model's default
    got = gift.predict(ctx, 16, **KW).quantiles
    np.testing.assert_array_equal(got, chronos2_reference(chronos2_oracle, ctx, 16))
    assert not np.allclose(got[0], boom[0])


def test_chronos2_rolling_windows_are_predicted_per_window_index(
    chronos2: Chronos2Forecaster, chronos2_oracle: Any
) -> None:
    """Through the engine (views, whole task in one call) = the notebook's per-window-index loop."""
    rng = np.random.default_rng(6)
    targets = _series(rng, 3, (200, 260, 230, 300))
    targets[2][0, 100:120] = np.nan
    horizon, windows = 16, 3
    task = Task("x/H/short", "x", "short", "H", horizon, windows, 24, 3, 200)
    cuts = [window_cuts(t.shape[1], horizon, windows) for t in targets]
    got = forecast_series(chronos2, targets, cuts, task)

    # The notebook: window k of every series in dataset order, one predict_quantiles call each.
    per_window = [
        chronos2_reference(
            chronos2_oracle,
            [t[:, : c[k]] for t, c in zip(targets, cuts, strict=True)],
            horizon,
            context_length=2048,
        )
        for k in range(windows)
    ]
    for i, forecast in enumerate(got):
        assert forecast.quantiles.shape == (windows, 3, horizon, 9)
        for k in range(windows):
            np.testing.assert_array_equal(forecast.quantiles[k], per_window[k][i])

    # One joint call would let windows of a series see each other (the leak the notebooks avoid).
    flat = [t[:, :cut] for t, c in zip(targets, cuts, strict=True) for cut in c]
    joint = chronos2_reference(chronos2_oracle, flat, horizon, context_length=2048)
    assert np.abs(joint - np.concatenate([f.quantiles for f in got])).max() > 1e-4


def test_window_ids_explicit_and_inferred(chronos2: Chronos2Forecaster) -> None:
    rng = np.random.default_rng(8)
    a, b = _series(rng, 3, (150, 170))
    views = [a[:, :100], a[:, :120], b[:, :130], b[:, :110], a[:, :140]]
    assert infer_window_ids(views) == [0, 1, 1, 0, 2]
    copies = [v.copy() for v in views]
    assert infer_window_ids(copies) == [0, 0, 0, 0, 0]
    inferred = chronos2.predict(views, 16, **KW).quantiles
    explicit = chronos2.predict(copies, 16, **KW, window_ids=[0, 1, 1, 0, 2]).quantiles
    np.testing.assert_array_equal(inferred, explicit)
    with pytest.raises(ValueError, match="window_ids"):
        chronos2.predict(copies, 16, **KW, window_ids=[0, 1])


def test_chronos2_pipeline_batch_size_and_oom(
    ckpt: dict[str, Path], chronos2: Chronos2Forecaster, chronos2_oracle: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = _series(np.random.default_rng(9), 2, (80, 90, 100, 110, 120))
    # batch_size counts rows (variates): with cross-learning it sets the groups, so it changes the forecast
    small = _chronos2(ckpt, batch_size=4)
    got = small.predict(ctx, 16, **KW).quantiles
    np.testing.assert_array_equal(
        got, chronos2_reference(chronos2_oracle, ctx, 16, batch_size=4, context_length=2048)
    )
    assert np.abs(got - chronos2.predict(ctx, 16, **KW).quantiles).max() > 1e-4

    oom = _chronos2(ckpt, batch_size=8)
    original = oom.pipeline.predict_quantiles

    def predict_quantiles(**kw: Any) -> Any:
        if kw["batch_size"] > 4:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return original(**kw)

    monkeypatch.setattr(oom.pipeline, "predict_quantiles", predict_quantiles)
    np.testing.assert_array_equal(oom.predict(ctx, 16, **KW).quantiles, got)  # the round redone at 4
    assert oom.oom_events == [(0, 4)]


def test_chronos2_without_cross_learning_is_per_series(ckpt: dict[str, Path]) -> None:
    model = _chronos2(ckpt, cross_learning=False)
    ctx = _series(np.random.default_rng(10), 3, (70, 140, 210))
    joint = model.predict(ctx, 16, **KW).quantiles
    alone = np.concatenate([model.predict([c], 16, **KW).quantiles for c in ctx])
    np.testing.assert_allclose(joint, alone, rtol=1e-5, atol=1e-6)
