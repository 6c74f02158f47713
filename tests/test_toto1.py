"""``toto1`` against the notebooks' own gluonts path (``TotoPredictor.create_for_eval(...).predict``).

The oracle is what the BOOM / GIFT-Eval notebooks run: a gluonts dataset of the window's context, toto's
``TotoPredictor`` (``AddObservedValuesIndicator`` + ``InstanceSplitter(past_length=context_length)`` +
``TotoForecaster``), and the resulting ``TotoSampleForecast``'s ``quantile``/``mean``. Upstream seeds torch
once per run; the adapter seeds every window with :func:`window_seed`, so the oracle is run one window at a
time under that same seed — everything else (preprocessing, padding, sampling, reductions) is upstream's
code. The model is the real Toto 1.0 architecture at a small size (``TEST_CONFIG``) with random weights.
End to end, ``run_suite`` on a GIFT-Eval folder equals gluonts ``evaluate_forecasts`` of the predictor's
forecasts of the gift-eval ``Dataset`` windows, all 11 metrics (MSIS from the default ``EVAL_LEVELS``).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from toto_bench.adapters.common import install_hint

warnings.filterwarnings("ignore", message="Using `json`-module")
torch = pytest.importorskip("torch", reason=f"torch is not installed: {install_hint('toto1')}")
pytest.importorskip(
    "toto.inference.gluonts_predictor", reason=f"toto-ts is not installed: {install_hint('toto1')}"
)
from gluonts.dataset.common import ListDataset  # noqa: E402
from gluonts.dataset.split import split  # noqa: E402
from gluonts.model.evaluation import evaluate_forecasts  # noqa: E402
from toto.inference.gluonts_predictor import Multivariate, TotoPredictor  # noqa: E402
from toto.model.toto import Toto  # noqa: E402
from upstream import gluonts_metrics  # noqa: E402

from toto_bench.adapters import common  # noqa: E402
from toto_bench.adapters.base import QUANTILE_LEVELS, Forecaster  # noqa: E402
from toto_bench.adapters.registry import available_models, build_model, get_model_spec  # noqa: E402
from toto_bench.adapters.toto1 import (  # noqa: E402
    CHECKPOINT,
    TEST_CONFIG,
    Toto1Forecaster,
    build_test_checkpoint,
    window_seed,
)
from toto_bench.engine.forecasting import forecast_series  # noqa: E402
from toto_bench.engine.tasks import build_task, window_cuts  # noqa: E402
from toto_bench.metrics import EVAL_LEVELS, METRIC_NAMES, evaluate_quantile_forecasts, seasonal_errors  # noqa: E402

logging.getLogger("gluonts").setLevel(logging.ERROR)

NAME = "toto1"
KW = {"freq": "H", "seasonality": 24}
SAMPLES = 16


# ----------------------------------------------------------------------------------------------------------
# Oracle: the notebooks' gluonts predictor, one window at a time


def notebook_forecast(
    model: Toto,
    context: np.ndarray,
    horizon: int,
    *,
    context_length: int,
    seed: int,
    num_samples: int = SAMPLES,
    samples_per_batch: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(quantiles [V, H, len(EVAL_LEVELS)], mean [V, H])`` of one ``[V, t]`` context, upstream's way."""
    univariate = context.shape[0] == 1
    target = context[0] if univariate else context
    ds = ListDataset(
        [{"start": pd.Period("2024-01-01 00:00", "h"), "target": target, "item_id": "x"}],
        freq="h",
        one_dim_target=univariate,
    )
    predictor = TotoPredictor.create_for_eval(
        model=model,
        prediction_length=horizon,
        context_length=context_length,
        mode=Multivariate(batch_size=context.shape[0]),
        samples_per_batch=samples_per_batch or num_samples,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(window_seed(seed, context, horizon))
        (fc,) = list(predictor.predict(ds, num_samples=num_samples, use_kv_cache=True))
    q = np.stack([fc.quantile(level) for level in EVAL_LEVELS], axis=-1)  # [H(, V), Q]
    mean = np.asarray(fc.mean)
    if univariate:
        return q[None], mean[None]
    return np.moveaxis(q, 1, 0), mean.T


# ----------------------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    builder = get_model_spec(NAME).test_checkpoint
    assert builder is not None
    return builder(tmp_path_factory.mktemp("toto1-ckpt"))


@pytest.fixture(scope="module")
def oracle(ckpt: Path) -> Toto:
    model = Toto.load_from_checkpoint(str(ckpt), map_location="cpu")
    return model.eval()


@pytest.fixture(scope="module")
def model(ckpt: Path) -> Toto1Forecaster:
    return build(ckpt, context_length=256, context_rule="fixed", quantile_levels=EVAL_LEVELS)


def build(ckpt: Path, suite: str | None = None, **kw: object) -> Toto1Forecaster:
    m = build_model(NAME, suite, checkpoint=ckpt, **{"device": "cpu", "num_samples": SAMPLES, **kw})
    assert isinstance(m, Toto1Forecaster)
    return m


def series(seed: int, n_var: int, length: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    base = 20 + 4 * np.sin(2 * np.pi * t / 24)[None, :] * rng.uniform(0.5, 2, size=(n_var, 1))
    return (base + rng.normal(size=(n_var, length)).cumsum(axis=1) * 0.5).astype(np.float32)


@pytest.fixture(scope="module")
def contexts() -> list[np.ndarray]:
    """Multivariate ``[3, t]`` contexts: shorter than the context length (padded), longer (truncated), NaN."""
    a, b = series(1, 3, 100), series(2, 3, 300)
    a[1, 10:20] = np.nan  # kept, becomes an observed 0
    b[0, 20:30] = np.nan  # truncated away
    b[2, -5:] = np.nan  # trailing
    return [a, b]


# ----------------------------------------------------------------------------------------------------------
# Registration and checkpoint


def test_registered_with_the_notebook_settings() -> None:
    spec = available_models()[NAME]
    assert spec.family == "toto1" and spec.checkpoint == CHECKPOINT == "Datadog/Toto-Open-Base-1.0"
    assert spec.test_checkpoint is build_test_checkpoint
    boom = {
        "context_length": 2048,
        "context_rule": "first-window",
        "num_samples": 256,
        "seed": 42,
        "float32_matmul_precision": "high",
    }
    # every suite: the deciles plus the MSIS bounds, read from the samples (part of the results key)
    assert spec.defaults == {"quantile_levels": list(EVAL_LEVELS)}
    boom["quantile_levels"] = list(EVAL_LEVELS)
    assert spec.settings_for("boom") == boom and spec.settings_for("boomlet") == boom
    assert spec.settings_for("gift-eval") == {
        "quantile_levels": list(EVAL_LEVELS),
        "context_length": 4096,
        "context_rule": "shortest-train",
        "num_samples": 256,
        "seed": 42,
    }
    assert spec.settings_for("time") == spec.settings_for("lsf") == {"quantile_levels": list(EVAL_LEVELS)}


def test_test_checkpoint_is_the_small_real_architecture(ckpt: Path, model: Toto1Forecaster) -> None:
    assert sorted(p.name for p in ckpt.iterdir()) == ["config.json", "model.safetensors"]
    assert json.loads((ckpt / "config.json").read_text()) == TEST_CONFIG
    assert isinstance(model, Forecaster) and model.supports_multivariate is True and model.name == NAME
    assert type(model.model) is Toto and not model.model.training
    backbone = model.model.model
    assert backbone.patch_embed.stride == 64 and backbone.embed_dim == 32 and backbone.num_layers == 2
    from safetensors.torch import load_file

    saved = load_file(str(ckpt / "model.safetensors"))
    state = model.model.state_dict()
    assert set(saved) <= set(state) and all(torch.equal(saved[k], state[k]) for k in saved)


# ----------------------------------------------------------------------------------------------------------
# Parity with the notebooks' path


@pytest.mark.parametrize("rule", ["truncate", "fixed"])
def test_multivariate_equals_the_notebook_predictor(ckpt, oracle, contexts, rule) -> None:
    model = build(ckpt, context_length=256, context_rule=rule, quantile_levels=EVAL_LEVELS)
    horizon = 70  # not a multiple of the 64-step patch: two decoding steps, trimmed
    fc = model.predict(contexts, horizon, **KW)
    assert fc.quantiles.shape == (2, 3, horizon, len(EVAL_LEVELS)) and fc.levels == EVAL_LEVELS
    assert fc.mean is not None and fc.mean.shape == (2, 3, horizon)
    assert fc.quantiles.dtype == np.float32 and fc.mean.dtype == np.float32
    for i, ctx in enumerate(contexts):
        # "fixed": every window padded to 256 (the notebooks' InstanceSplitter); "truncate": to min(256, t).
        length = 256 if rule == "fixed" else min(256, ctx.shape[1])
        q, mean = notebook_forecast(oracle, ctx, horizon, context_length=length, seed=42)
        np.testing.assert_array_equal(fc.quantiles[i], q)
        np.testing.assert_array_equal(fc.mean[i], mean)
    assert np.isfinite(fc.quantiles).all() and (np.diff(fc.quantiles, axis=-1) >= 0).all()


def test_univariate_first_window_rule_and_samples_per_batch(ckpt, oracle) -> None:
    """BOOM: context_length = min(2048, first test input's length); samples drawn 4 per forward."""
    m = build(ckpt, "boom", samples_per_batch=4)
    task = build_task(
        config="x/H/short", storage_name="x", term="short", freq="H", min_length=400, target_dim=1
    )
    m.begin_task(task, first_context_length=130)
    assert m.past_length() == 130
    ctx = [series(5, 1, 130), series(6, 1, 180)]
    ctx[1][0, :9] = np.nan  # leading NaN
    fc = m.predict(ctx, 30, **KW)
    assert fc.quantiles.shape == (2, 1, 30, 11) and fc.levels == EVAL_LEVELS  # the registered default
    deciles = build(ckpt, "boom", samples_per_batch=4, quantile_levels=QUANTILE_LEVELS)
    deciles.begin_task(task, first_context_length=130)
    only9 = deciles.predict(ctx, 30, **KW)
    assert only9.quantiles.shape == (2, 1, 30, 9) and only9.levels == QUANTILE_LEVELS
    for i, c in enumerate(ctx):
        q, mean = notebook_forecast(oracle, c, 30, context_length=130, seed=42, samples_per_batch=4)
        np.testing.assert_array_equal(fc.quantiles[i], q)
        np.testing.assert_array_equal(fc.mean[i], mean)
        np.testing.assert_array_equal(
            only9.quantiles[i], q[..., [EVAL_LEVELS.index(x) for x in QUANTILE_LEVELS]]
        )
        np.testing.assert_array_equal(only9.mean[i], mean)
    m.begin_task(task, first_context_length=5000)
    assert m.past_length() == 2048


def test_context_rules(ckpt, caplog) -> None:
    task = build_task(
        config="x/H/medium", storage_name="x", term="medium", freq="H", min_length=3000, target_dim=1
    )
    h, w = task.prediction_length, task.windows
    gift = build(ckpt, "gift-eval")
    gift.begin_task(task)
    assert gift.past_length() == min(4096, 3000 - (w + 1) * h)
    tiny = build_task(
        config="y/H/short", storage_name="y", term="short", freq="H", min_length=60, target_dim=1
    )
    gift.begin_task(tiny)
    assert gift.past_length() == 1  # min_length - (W+1)·H < 1 is clamped
    fixed = build(ckpt, context_length=300, context_rule="fixed")
    fixed.begin_task(task, first_context_length=10)
    assert fixed.past_length() == fixed.past_length(10) == 300
    truncate = build(ckpt, context_length=300)
    assert truncate.context_rule == "truncate"
    truncate.begin_task(task, first_context_length=10)
    assert truncate.past_length(10) == 10 and truncate.past_length(5000) == truncate.past_length() == 300
    boom = build(ckpt, "boom")
    with caplog.at_level(logging.WARNING, logger="toto_bench.adapters.toto1"):
        assert boom.past_length() == 2048  # no begin_task: falls back to context_length, once with a warning
        assert boom.past_length() == 2048
    assert sum("begin_task" in r.getMessage() for r in caplog.records) == 1
    with pytest.raises(ValueError, match="first_context_length"):
        boom.begin_task(task)


# ----------------------------------------------------------------------------------------------------------
# Randomness, batching, the engine


def test_window_forecasts_do_not_depend_on_batching_or_global_rng(model, contexts) -> None:
    c = series(9, 3, 140)
    together = model.predict([*contexts, c], 20, **KW)
    torch.manual_seed(1234)  # the caller's RNG state does not matter ...
    alone = [model.predict([x], 20, **KW) for x in (contexts[1], c, contexts[0])]
    state = torch.get_rng_state()
    model.predict([c], 20, **KW)
    assert torch.equal(torch.get_rng_state(), state)  # ... and the adapter leaves it alone
    for i, j in ((0, 1), (1, 2), (2, 0)):
        np.testing.assert_array_equal(alone[i].quantiles[0], together.quantiles[j])
        np.testing.assert_array_equal(alone[i].mean[0], together.mean[j])
    other = build(
        Path(model.checkpoint), context_length=256, context_rule="fixed", quantile_levels=EVAL_LEVELS, seed=7
    )
    assert not np.array_equal(other.predict([c], 20, **KW).quantiles[0], together.quantiles[2])


def test_engine_batching_is_irrelevant(ckpt) -> None:
    targets = [series(11, 2, 200), series(12, 2, 260)]
    targets[1][0, 50:60] = np.nan
    task = build_task(
        config="x/H/short", storage_name="x", term="short", freq="H", min_length=200, target_dim=2
    )
    cuts = [window_cuts(t.shape[1], task.prediction_length, task.windows) for t in targets]
    outs = []
    for batch_size in (1, 8):
        m = build(ckpt, "boom", batch_size=batch_size)
        m.begin_task(task, first_context_length=int(cuts[0][0]))
        outs.append(forecast_series(m, targets, cuts, task))
    for a, b, c in zip(*outs, cuts, strict=True):
        assert a.quantiles.shape == (len(c), 2, task.prediction_length, len(EVAL_LEVELS))
        np.testing.assert_array_equal(a.quantiles, b.quantiles)
        np.testing.assert_array_equal(a.mean, b.mean)


def test_out_of_memory_halves_samples_per_batch(ckpt, monkeypatch) -> None:
    m = build(ckpt, context_length=128)
    ref = build(ckpt, context_length=128, samples_per_batch=8).predict([series(3, 2, 90)], 12, **KW)
    real = Toto1Forecaster._sample
    calls: list[int] = []

    def flaky(self, *args, **kwargs):
        calls.append(self.samples_per_batch)
        if self.samples_per_batch > 8:
            raise RuntimeError("CUDA out of memory. Tried to allocate 1 GiB")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Toto1Forecaster, "_sample", flaky)
    got = m.predict([series(3, 2, 90)], 12, **KW)
    assert calls == [16, 8] and m.samples_per_batch == 8
    np.testing.assert_array_equal(got.quantiles, ref.quantiles)
    monkeypatch.setattr(
        Toto1Forecaster, "_sample", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom"))
    )
    with pytest.raises(RuntimeError, match="boom"):
        m.predict([series(3, 2, 90)], 12, **KW)


# ----------------------------------------------------------------------------------------------------------
# Metrics: what storing only deciles loses


METRICS = gluonts_metrics()


def test_eval_levels_score_exactly_like_the_sample_forecasts(model, oracle) -> None:
    targets = [series(21, 2, 170), series(22, 2, 190)]
    horizon, windows, season = 24, 2, 24
    task_cuts = [window_cuts(t.shape[1], horizon, windows) for t in targets]
    labels = np.concatenate(
        [np.stack([t[:, c : c + horizon] for c in cs]) for t, cs in zip(targets, task_cuts, strict=True)]
    )
    se = np.concatenate([seasonal_errors(t, cs, season) for t, cs in zip(targets, task_cuts, strict=True)])
    contexts = [t[:, :c] for t, cs in zip(targets, task_cuts, strict=True) for c in cs]
    fc = model.predict(contexts, horizon, **KW)

    # gluonts on upstream's own TotoSampleForecast objects (item-major, window-minor, as ours).
    ds = [
        {"start": pd.Period("2024-01-01 00:00", "h"), "target": t, "item_id": str(i)}
        for i, t in enumerate(targets)
    ]
    _, template = split(ds, offset=-windows * horizon)
    test_data = template.generate_instances(prediction_length=horizon, windows=windows, distance=horizon)
    forecasts = []
    for (inp, _), ctx in zip(test_data, contexts, strict=True):
        np.testing.assert_array_equal(inp["target"], ctx)
        data = ListDataset(
            [{"start": inp["start"], "target": ctx, "item_id": "x"}], freq="h", one_dim_target=False
        )
        predictor = TotoPredictor.create_for_eval(oracle, horizon, 256, Multivariate(batch_size=2), SAMPLES)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(window_seed(42, ctx, horizon))
            forecasts.extend(predictor.predict(data, num_samples=SAMPLES, use_kv_cache=True))
    ref = evaluate_forecasts(
        forecasts,
        test_data=test_data,
        metrics=METRICS,
        axis=None,
        mask_invalid_label=True,
        allow_nan_forecast=False,
        seasonality=season,
    ).iloc[0]
    ref_metrics = {k: float(v) for k, v in ref.items()}

    exact = evaluate_quantile_forecasts(labels, fc.quantiles, se, mean=fc.mean, levels=EVAL_LEVELS)
    deciles_only = evaluate_quantile_forecasts(
        labels, fc.quantiles[..., 1:-1], se, mean=fc.mean, levels=QUANTILE_LEVELS
    )
    for name in METRIC_NAMES:
        np.testing.assert_allclose(exact[name], ref_metrics[name], rtol=1e-6, err_msg=name)
        if name != "MSIS":
            np.testing.assert_allclose(deciles_only[name], ref_metrics[name], rtol=1e-6, err_msg=name)
    # Nine levels: MSIS's 0.025/0.975 bounds are extrapolated from the decile tails instead of read off the
    # samples.
    assert deciles_only["MSIS"] != pytest.approx(ref_metrics["MSIS"], rel=1e-3)


def _run_gift(ckpt: Path, root: Path, out: Path, **settings: object) -> dict[str, float]:
    """``run_suite`` (the engine behind ``toto-bench run``) with toto1's registered gift-eval settings,
    ``SAMPLES`` paths and ``settings``; the 11 metrics of ``ett1/H/short`` from ``all_results.csv``."""
    from toto_bench.engine.runner import RunOptions, run_suite
    from toto_bench.suites import get_suite

    overrides = {"checkpoint": str(ckpt), "device": "cpu", "num_samples": SAMPLES, **settings}
    options = RunOptions(
        datasets=["ett1/H"],
        terms=["short"],
        output_dir=out,
        data_dir=root,
        progress=False,
        settings=overrides,
    )
    summary = run_suite(
        get_suite("gift-eval"), NAME, lambda: build_model(NAME, "gift-eval", **overrides), options
    )
    frame = pd.read_csv(summary.results_csv, float_precision="round_trip").set_index("dataset")
    return {name: float(frame.loc["ett1/H/short", f"eval_metrics/{name}"]) for name in METRIC_NAMES}


@pytest.mark.filterwarnings("ignore:'H' is deprecated:FutureWarning")  # gluonts reading GIFT-Eval's "H"
def test_run_equals_gluonts_evaluation_of_the_notebook_predictor(ckpt, oracle, tmp_path) -> None:
    """``toto-bench run``'s engine with toto1's registered gift-eval settings (default levels
    ``EVAL_LEVELS``, ``context_rule="shortest-train"``) against the notebook's path on the same GIFT-Eval
    folder: gift-eval ``Dataset`` windows (tests/upstream.py), ``TotoPredictor.create_for_eval`` with the
    notebook's context length ``min(4096, shortest series - (W + 1)·H)``, one window at a time under the
    adapter's window seed, and gluonts ``evaluate_forecasts`` of the ``TotoSampleForecast`` objects with the
    11 notebook metrics. All 11 agree at rtol 1e-6, MSIS included; restricted to the deciles, only MSIS
    moves."""
    from layouts import write_dataset
    from upstream import _GiftEvalDataset

    items = [series(31, 2, 600), series(32, 2, 650)]
    items[0][1, 300:320] = np.nan  # in the history of both windows (and inside their 456-step context)
    items[1][0, -30:-25] = np.nan  # NaN labels in the last window
    write_dataset(tmp_path / "data" / "ett1" / "H", items, freq="H")
    ours = _run_gift(ckpt, tmp_path / "data", tmp_path / "run")
    deciles = _run_gift(ckpt, tmp_path / "data", tmp_path / "deciles", quantile_levels=list(QUANTILE_LEVELS))

    dataset = _GiftEvalDataset(tmp_path / "data" / "ett1" / "H", "ett1/H", "short", to_univariate=False)
    horizon, windows = dataset.prediction_length, dataset.windows
    context_length = min(4096, dataset.min_series_length - (windows + 1) * horizon)
    assert (horizon, windows, context_length) == (48, 2, 456)
    test_data = dataset.test_data()
    predictor = TotoPredictor.create_for_eval(
        oracle, horizon, context_length, Multivariate(batch_size=2), SAMPLES
    )
    forecasts = []
    for entry in test_data.input:
        ctx = np.asarray(entry["target"], dtype=np.float32)
        data = ListDataset(
            [{"start": entry["start"], "target": ctx, "item_id": entry["item_id"]}],
            freq="h",
            one_dim_target=False,
        )
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(window_seed(42, ctx, horizon))
            forecasts.extend(predictor.predict(data, num_samples=SAMPLES, use_kv_cache=True))
    assert len(forecasts) == 4
    frame = evaluate_forecasts(
        forecasts,
        test_data=test_data,
        metrics=METRICS,
        axis=None,
        mask_invalid_label=True,
        allow_nan_forecast=False,
        seasonality=24,
    )
    ref = {name: float(frame[name].iloc[0]) for name in METRIC_NAMES}
    for name in METRIC_NAMES:
        np.testing.assert_allclose(ours[name], ref[name], rtol=1e-6, err_msg=name)
        if name != "MSIS":
            np.testing.assert_allclose(deciles[name], ref[name], rtol=1e-6, err_msg=name)
    assert deciles["MSIS"] != pytest.approx(ref["MSIS"], rel=1e-3)


# ----------------------------------------------------------------------------------------------------------
# Errors


def test_errors(ckpt, model) -> None:
    with pytest.raises(ValueError, match="horizon must be >= 1"):
        model.predict([series(1, 3, 50)], 0, **KW)
    with pytest.raises(ValueError, match="same number of variates"):
        model.predict([series(1, 3, 50), series(1, 2, 50)], 5, **KW)
    with pytest.raises(ValueError, match="empty"):
        model.predict([np.zeros((2, 0), np.float32)], 5, **KW)
    out = model.predict([], 5, **KW)
    assert out.quantiles.shape == (0, 1, 5, len(EVAL_LEVELS))
    for bad in (
        {"samples_per_batch": 5},
        {"num_samples": 0},
        {"context_rule": "longest"},
        {"batch_size": 0},
        {"quantile_levels": (0.9, 0.1)},
        {"float32_matmul_precision": "low"},
    ):
        with pytest.raises(ValueError):
            build(ckpt, **bad)
    with pytest.raises(ValueError, match="unknown device"):
        build(ckpt, device="tpu")


def test_all_nan_context_forecasts_from_zeros(model) -> None:
    ctx = np.full((3, 80), np.nan, dtype=np.float32)
    fc = model.predict([ctx], 8, **KW)
    assert np.isfinite(fc.quantiles).all()


def test_missing_checkpoint_folder(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match=r"model\.safetensors"):
        Toto1Forecaster(tmp_path, device="cpu")


def test_missing_extra(monkeypatch, ckpt) -> None:
    for mod in [m for m in sys.modules if m == "toto" or m.startswith("toto.")]:
        monkeypatch.setitem(sys.modules, mod, None)
    with pytest.raises(common.MissingExtraError, match="toto1"):
        Toto1Forecaster(ckpt, device="cpu")


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
        build_model("toto1", device="cpu")
    except FileNotFoundError as exc:
        report["missing"] = str(exc)
    repo = Path(os.environ["HF_HOME"]) / "hub" / "models--Datadog--Toto-Open-Base-1.0"
    rev = "89abcdef0123456789abcdef0123456789abcdef"
    (repo / "blobs").mkdir(parents=True)
    (repo / "snapshots" / rev).mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(rev)
    for i, name in enumerate(["config.json", "model.safetensors"]):
        blob = repo / "blobs" / f"blob{i}"
        shutil.copy(ckpt / name, blob)
        (repo / "snapshots" / rev / name).symlink_to(os.path.relpath(blob, repo / "snapshots" / rev))
    model = build_model("toto1", device="cpu", num_samples=8, context_length=128)
    ctx = np.stack([np.linspace(0, 5, 90, dtype=np.float32), np.cos(np.arange(90, dtype=np.float32))])
    np.save(out, model.predict([ctx], 10, freq="H", seasonality=24).quantiles)
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
    assert "Datadog/Toto-Open-Base-1.0" in report["missing"] and "hf download" in report["missing"]
    assert report["checkpoint"] == CHECKPOINT
    ctx = np.stack([np.linspace(0, 5, 90, dtype=np.float32), np.cos(np.arange(90, dtype=np.float32))])
    local = build(ckpt, num_samples=8, context_length=128).predict([ctx], 10, **KW).quantiles
    np.testing.assert_array_equal(np.load(out), local)
