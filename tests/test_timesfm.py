"""``timesfm-2.5-200m`` against the notebooks' own calls of the TimesFM library, on a small random-init model.

The oracle is what the GIFT-Eval / BOOM predictors do with the library directly: ``from_pretrained`` on the
checkpoint, ``compile(ForecastConfig(...))`` with the notebook's values, ``forecast(H, raw contexts)`` and the
decile columns ``[:, :H, 1:]``. The model is the real TimesFM 2.5 classes at reduced width/depth (the test
checkpoint's ``config.json`` declares the size; the oracle rebuilds that definition on its own).
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

from toto_bench.adapters.common import install_hint

warnings.filterwarnings("ignore", message="Using `json`-module")
torch = pytest.importorskip("torch", reason=f"torch is not installed: {install_hint('timesfm')}")
pytest.importorskip(
    "timesfm.timesfm_2p5.timesfm_2p5_torch", reason=f"timesfm is not installed: {install_hint('timesfm')}"
)
from timesfm import configs  # noqa: E402
from timesfm.timesfm_2p5 import timesfm_2p5_base, timesfm_2p5_torch  # noqa: E402

from toto_bench.adapters import common  # noqa: E402
from toto_bench.adapters.base import QUANTILE_LEVELS, Forecaster  # noqa: E402
from toto_bench.adapters.contract import ContractConfig  # noqa: E402
from toto_bench.adapters.registry import available_models, build_model, get_model_spec  # noqa: E402
from toto_bench.adapters.timesfm import (  # noqa: E402
    CHECKPOINT,
    DEFINITION_KEY,
    TEST_DEFINITION,
    TimesFMForecaster,
    build_test_checkpoint,
)
from toto_bench.engine.forecasting import forecast_series  # noqa: E402
from toto_bench.engine.tasks import build_task, window_cuts  # noqa: E402

NAME = "timesfm-2.5-200m"
KW = {"freq": "H", "seasonality": 24}


# ----------------------------------------------------------------------------------------------------------
# Oracle: the notebooks' calls


def oracle_definition(sizes: dict[str, int]) -> timesfm_2p5_base.TimesFM_2p5_200M_Definition:
    """The official definition with width/depth/heads replaced (what the test checkpoint declares)."""
    d = timesfm_2p5_base.TimesFM_2p5_200M_Definition()
    md, layers, heads = sizes["model_dims"], sizes["num_layers"], sizes["num_heads"]
    xf = dataclasses.replace(
        d.stacked_transformers.transformer, model_dims=md, hidden_dims=md, num_heads=heads
    )
    return dataclasses.replace(
        d,
        tokenizer=dataclasses.replace(d.tokenizer, hidden_dims=md, output_dims=md),
        stacked_transformers=configs.StackedTransformersConfig(num_layers=layers, transformer=xf),
        output_projection_point=dataclasses.replace(d.output_projection_point, input_dims=md, hidden_dims=md),
        output_projection_quantiles=dataclasses.replace(
            d.output_projection_quantiles, input_dims=md, hidden_dims=md
        ),
    )


def notebook_forecast(
    tfm: timesfm_2p5_torch.TimesFM_2p5_200M_torch,
    contexts: list[np.ndarray],
    horizon: int,
    *,
    max_context: int,
    max_horizon: int,
    per_core: int,
) -> np.ndarray:
    """``[n, H, 9]`` deciles exactly as the notebook predictors compute them."""
    tfm.compile(
        forecast_config=configs.ForecastConfig(
            max_context=max_context,
            max_horizon=max_horizon,
            infer_is_positive=True,
            use_continuous_quantile_head=True,
            fix_quantile_crossing=True,
            force_flip_invariance=True,
            return_backcast=False,
            normalize_inputs=True,
            per_core_batch_size=per_core,
        )
    )
    _, full = tfm.forecast(horizon=horizon, inputs=[np.array(c) for c in contexts])
    return full[:, :horizon, 1:]


def gift_max_context(contexts: list[np.ndarray]) -> int:
    longest = max(len(c) for c in contexts)
    return min(15360, ((longest + 31) // 32) * 32)


# ----------------------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    builder = get_model_spec(NAME).test_checkpoint
    assert builder is not None
    return builder(tmp_path_factory.mktemp("timesfm-ckpt"))


@pytest.fixture(scope="module")
def oracle(ckpt: Path) -> timesfm_2p5_torch.TimesFM_2p5_200M_torch:
    sizes = json.loads((ckpt / "config.json").read_text())[DEFINITION_KEY]
    module_cls = timesfm_2p5_torch.TimesFM_2p5_200M_torch_module
    saved = module_cls.config
    module_cls.config = oracle_definition(sizes)
    try:
        tfm = timesfm_2p5_torch.TimesFM_2p5_200M_torch.from_pretrained(str(ckpt), torch_compile=False)
    finally:
        module_cls.config = saved
    tfm.model.to("cpu")
    tfm.model.device = torch.device("cpu")
    tfm.model.device_count = 1
    return tfm


@pytest.fixture(scope="module")
def contexts() -> list[np.ndarray]:
    """Univariate ``[1, t]`` float32 contexts: short, long (> 2048), NaN leading / inside / trailing."""
    rng = np.random.default_rng(0)
    out = []
    for length in (40, 97, 300, 2500):
        t = np.arange(length)
        y = 10 + 3 * np.sin(2 * np.pi * t / 24) + rng.normal(size=length).cumsum() * 0.3
        out.append(y.astype(np.float32)[None, :])
    out[1][0, :7] = np.nan  # leading
    out[2][0, 100:130] = np.nan  # inside
    out[2][0, -3:] = np.nan  # trailing
    out[3][0, 400:410] = np.nan  # inside the part truncated away: interpolated over the full history first
    out.append(-out[0] * 2)  # negative: infer_is_positive off
    return out


def build(ckpt: Path, suite: str | None = "boom", **kw: object) -> TimesFMForecaster:
    model = build_model(NAME, suite, checkpoint=ckpt, **{"device": "cpu", **kw})
    assert isinstance(model, TimesFMForecaster)
    return model


# ----------------------------------------------------------------------------------------------------------
# Registration


def test_registered_with_the_notebook_settings() -> None:
    spec = available_models()[NAME]
    assert spec.family == "timesfm" and spec.checkpoint == CHECKPOINT == "google/timesfm-2.5-200m-pytorch"
    assert spec.test_checkpoint is build_test_checkpoint
    assert spec.settings_for("boom") == {
        "context_length": 2048,
        "context_mode": "fixed",
        "max_horizon": None,
        "batch_size": 256,
        "per_core_batch_size": 256,
    }
    assert spec.settings_for("boomlet") == spec.settings_for("boom")
    assert spec.settings_for("gift-eval") == {
        "context_length": 15360,
        "context_mode": "batch",
        "max_horizon": 1024,
        "batch_size": 1024,
        "per_core_batch_size": 128,
    }


def test_test_checkpoint_is_the_small_real_architecture(ckpt: Path) -> None:
    assert sorted(p.name for p in ckpt.iterdir()) == ["README.md", "config.json", "model.safetensors"]
    assert json.loads((ckpt / "config.json").read_text()) == {DEFINITION_KEY: TEST_DEFINITION}
    model = build(ckpt)
    assert isinstance(model, Forecaster) and model.supports_multivariate is False
    assert model.name == NAME and model.batch_size == 256 and model.context_length == 2048
    module = model.model.model
    assert type(module) is timesfm_2p5_torch.TimesFM_2p5_200M_torch_module
    assert len(module.stacked_xf) == 2 and module.md == 64 and module.h == 4
    assert (module.p, module.o, module.os, module.q) == (32, 128, 1024, 10)  # patches and heads as published
    assert 1e6 < sum(p.numel() for p in module.parameters()) < 2e6
    # The scoped definition did not leak: a plain construction is the official 231 M-parameter definition.
    assert timesfm_2p5_torch.TimesFM_2p5_200M_torch_module.config.stacked_transformers.num_layers == 20
    # Same weights as the saved file.
    from safetensors.torch import load_file

    saved = load_file(str(ckpt / "model.safetensors"))
    state = module.state_dict()
    assert set(saved) == set(state) and all(torch.equal(saved[k], state[k]) for k in saved)


# ----------------------------------------------------------------------------------------------------------
# Parity with the notebooks


@pytest.mark.parametrize("horizon", [1, 50, 130])
def test_boom_settings_equal_the_notebook_call(ckpt, oracle, contexts, horizon) -> None:
    model = build(ckpt, "boom")
    fc = model.predict(contexts, horizon, **KW)
    assert fc.quantiles.shape == (len(contexts), 1, horizon, 9) and fc.quantiles.dtype == np.float32
    assert fc.mean is None and fc.levels == QUANTILE_LEVELS
    # BOOM notebook: max_context 2048, compiled per prediction length, per_core_batch_size left at 1.
    ref = notebook_forecast(
        oracle, [c[0] for c in contexts], horizon, max_context=2048, max_horizon=horizon, per_core=1
    )
    np.testing.assert_array_equal(fc.quantiles[:, 0], ref)
    assert np.isfinite(fc.quantiles).all()
    assert (np.diff(fc.quantiles, axis=-1) >= 0).all()  # fix_quantile_crossing: sorted
    for c, q in zip(contexts, fc.quantiles, strict=True):  # infer_is_positive
        if np.nanmin(c) >= 0:
            assert (q >= 0).all()
    assert (fc.quantiles[4] < 0).any()


def test_gift_eval_settings_equal_the_notebook_call(ckpt, oracle, contexts) -> None:
    model = build(ckpt, "gift-eval")
    given = [contexts[1], contexts[2], contexts[4]]  # 97, 300, 40 steps: max_context 320
    raw = [c[0] for c in given]
    assert model.max_context(raw) == gift_max_context(raw) == 320
    horizon = 130  # > one 128-step output patch: autoregressive decoding
    fc = model.predict(given, horizon, **KW)
    # GIFT-Eval notebook: per batch max_context = longest rounded up to 32 (cap 15360), max_horizon 1024,
    # per_core_batch_size 128 (the library pads the batch with dummy series; the adapter computes none).
    ref = notebook_forecast(oracle, raw, horizon, max_context=320, max_horizon=1024, per_core=128)
    np.testing.assert_array_equal(fc.quantiles[:, 0], ref)


def test_gift_eval_max_context_rule(ckpt) -> None:
    model = build(ckpt, "gift-eval")
    for lengths, expected in (
        ([1], 32),
        ([33, 5], 64),
        ([2500, 40], 2528),
        ([15360], 15360),
        ([20000, 3], 15360),
    ):
        assert model.max_context([np.zeros(n, np.float32) for n in lengths]) == expected
    assert build(ckpt, "boom").max_context([np.zeros(20000, np.float32)]) == 2048


def test_all_nan_context_is_zeros_as_under_numpy_1(ckpt, oracle, contexts) -> None:
    nan = np.full((1, 60), np.nan, dtype=np.float32)
    fc = build(ckpt).predict([contexts[0], nan], 20, **KW)
    ref = notebook_forecast(
        oracle, [contexts[0][0], np.zeros(60, np.float32)], 20, max_context=2048, max_horizon=20, per_core=1
    )
    np.testing.assert_array_equal(fc.quantiles[:, 0], ref)
    # The library itself crashes on it under numpy >= 2.2 (bool of an empty array), hence the adapter's guard.
    if tuple(int(x) for x in np.__version__.split(".")[:2]) >= (2, 2):
        with pytest.raises(ValueError, match="truth value of an empty array"):
            notebook_forecast(oracle, [nan[0]], 20, max_context=2048, max_horizon=20, per_core=1)


def test_context_length_changes_only_rounding(ckpt, contexts) -> None:
    """TimesFM is padding-invariant in exact arithmetic: max_context 2048 vs 320 differ by float rounding."""
    short = contexts[:3]  # all <= 320 steps
    a = build(ckpt, context_length=2048).predict(short, 50, **KW).quantiles
    b = build(ckpt, context_length=320).predict(short, 50, **KW).quantiles
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


# ----------------------------------------------------------------------------------------------------------
# Batching, determinism, the engine


@pytest.mark.parametrize("suite", ["boom", "gift-eval"])
def test_batch_size_invariance_and_determinism(ckpt, contexts, suite) -> None:
    given = contexts[:3]
    model = build(ckpt, suite)
    ref = model.predict(given, 40, **KW).quantiles
    np.testing.assert_array_equal(model.predict(given, 40, **KW).quantiles, ref)  # again: bit-identical
    tol = ContractConfig()  # the contract's documented batch-invariance tolerance (float32 kernels differ
    for per_core in (1, 2):  # by batch shape: ~1e-6 here)
        model = build(ckpt, suite, per_core_batch_size=per_core)
        got = model.predict(given, 40, **KW).quantiles
        np.testing.assert_allclose(got, ref, rtol=tol.rtol, atol=tol.atol)
        np.testing.assert_array_equal(
            model.predict(given, 40, **KW).quantiles, got
        )  # repeated: bit-identical


def test_inputs_are_not_modified(ckpt, contexts) -> None:
    copies = [c.copy() for c in contexts]
    given = list(contexts)
    build(ckpt, per_core_batch_size=4).predict(given, 10, **KW)
    assert len(given) == len(contexts)  # TimesFM pads the list it gets in place: it must be a private copy
    for a, b in zip(given, copies, strict=True):
        np.testing.assert_array_equal(a, b)


def test_engine_splits_variates_and_batches(ckpt) -> None:
    rng = np.random.default_rng(3)
    targets = [rng.normal(size=(2, n)).astype(np.float32).cumsum(axis=1) + 50 for n in (180, 230)]
    targets[1][1, 20:40] = np.nan
    task = build_task(
        config="x/H/short", storage_name="x", term="short", freq="H", min_length=180, target_dim=2
    )
    cuts = [window_cuts(t.shape[1], task.prediction_length, task.windows) for t in targets]
    one = forecast_series(build(ckpt, batch_size=1), targets, cuts, task)
    many = forecast_series(build(ckpt, batch_size=64), targets, cuts, task)
    for t, c, a, b in zip(targets, cuts, one, many, strict=True):
        assert a.quantiles.shape == (len(c), 2, task.prediction_length, 9) and a.mean is None
        np.testing.assert_array_equal(a.quantiles, b.quantiles)
        direct = build(ckpt).predict([t[v : v + 1, : c[-1]] for v in range(2)], task.prediction_length, **KW)
        np.testing.assert_array_equal(a.quantiles[-1], direct.quantiles[:, 0])


# ----------------------------------------------------------------------------------------------------------
# Errors


def test_errors(ckpt, contexts) -> None:
    model = build(ckpt)
    with pytest.raises(ValueError, match="horizon must be >= 1"):
        model.predict(contexts, 0, **KW)
    with pytest.raises(ValueError, match="univariate"):
        model.predict([np.zeros((2, 50), np.float32)], 5, **KW)
    with pytest.raises(ValueError, match="empty"):
        model.predict([np.zeros((1, 0), np.float32)], 5, **KW)
    with pytest.raises(ValueError, match="1024"):
        model.predict(contexts, 1025, **KW)
    with pytest.raises(ValueError, match="exceeds max_horizon"):
        build(ckpt, max_horizon=64).predict(contexts, 65, **KW)
    assert model.predict([], 5, **KW).quantiles.shape == (0, 1, 5, 9)
    for bad in ({"batch_size": 0}, {"context_mode": "longest"}, {"max_horizon": 2048}, {"context_length": 0}):
        with pytest.raises(ValueError):
            build(ckpt, **bad)
    with pytest.raises(ValueError, match="unknown device"):
        build(ckpt, device="tpu")


def test_bad_definition_in_config(tmp_path, ckpt) -> None:
    for name in ("model.safetensors", "README.md"):
        (tmp_path / name).symlink_to(ckpt / name)
    (tmp_path / "config.json").write_text(json.dumps({DEFINITION_KEY: {"model_dims": 30, "num_heads": 4}}))
    with pytest.raises(ValueError, match=DEFINITION_KEY):
        TimesFMForecaster(tmp_path, device="cpu")


def test_missing_checkpoint_folder(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match=r"model\.safetensors"):
        TimesFMForecaster(tmp_path, device="cpu")


def test_missing_extra(monkeypatch, ckpt) -> None:
    for mod in [m for m in sys.modules if m == "timesfm" or m.startswith("timesfm.")]:
        monkeypatch.setitem(sys.modules, mod, None)
    with pytest.raises(common.MissingExtraError, match="timesfm"):
        TimesFMForecaster(ckpt, device="cpu")


# ----------------------------------------------------------------------------------------------------------
# Hub checkpoints from the HF cache, offline

HF_SCRIPT = textwrap.dedent(
    """
    import json, os, shutil, sys, warnings
    from pathlib import Path
    import numpy as np
    warnings.filterwarnings("ignore")
    from toto_bench.adapters.registry import build_model

    ckpt, out = Path(sys.argv[1]), Path(sys.argv[2])
    report = {}
    try:
        build_model("timesfm-2.5-200m", device="cpu")
    except FileNotFoundError as exc:
        report["missing"] = str(exc)
    # The hub cache layout: blobs + snapshot symlinks + refs/main.
    repo = Path(os.environ["HF_HOME"]) / "hub" / "models--google--timesfm-2.5-200m-pytorch"
    rev = "0123456789abcdef0123456789abcdef01234567"
    (repo / "blobs").mkdir(parents=True)
    (repo / "snapshots" / rev).mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(rev)
    for i, name in enumerate(["config.json", "model.safetensors"]):
        blob = repo / "blobs" / f"blob{i}"
        shutil.copy(ckpt / name, blob)
        (repo / "snapshots" / rev / name).symlink_to(os.path.relpath(blob, repo / "snapshots" / rev))
    model = build_model("timesfm-2.5-200m", "boom", device="cpu")
    ctx = [np.linspace(0, 5, 90, dtype=np.float32)[None], np.cos(np.arange(300, dtype=np.float32))[None]]
    np.save(out, model.predict(ctx, 30, freq="H", seasonality=24).quantiles)
    report["checkpoint"] = model.checkpoint
    print(json.dumps(report))
    """
)


def test_hub_checkpoint_from_the_hf_cache_offline(tmp_path, ckpt) -> None:
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1"}
    env.pop("HF_HUB_CACHE", None)
    out = tmp_path / "q.npy"
    proc = subprocess.run(
        [sys.executable, "-c", HF_SCRIPT, str(ckpt), str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "google/timesfm-2.5-200m-pytorch" in report["missing"]
    assert "hf download" in report["missing"] and "HF_HUB_OFFLINE" in report["missing"]
    assert report["checkpoint"] == CHECKPOINT
    ctx = [np.linspace(0, 5, 90, dtype=np.float32)[None], np.cos(np.arange(300, dtype=np.float32))[None]]
    local = build(ckpt, "boom").predict(ctx, 30, **KW).quantiles
    np.testing.assert_array_equal(np.load(out), local)
