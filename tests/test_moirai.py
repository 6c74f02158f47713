"""Moirai 1.1 / 2.0 adapters against independent oracles built from uni2ts + gluonts themselves.

Oracles (none of them use the adapter's input construction):

* Moirai 1.1: the notebooks' own path, ``MoiraiForecast(...).create_predictor(batch_size=1)`` (a gluonts
  ``PyTorchPredictor``, BOOM's batch size) on gluonts data entries, each under the adapter's seed for that
  context; with ``sampling="full"`` its ``SampleForecast`` objects' ``quantile(q)`` / ``mean`` equal the
  adapter's output bit for bit (batched adapter passes: to float rounding). ``seed=None`` is checked
  against the predictor on the whole batch under one global seed. End to end, ``run_suite`` on a GIFT-Eval
  folder equals gluonts ``evaluate_forecasts`` of that predictor's forecasts of the gift-eval ``Dataset``
  windows, all 11 metrics (MSIS from the default ``EVAL_LEVELS``).
* Moirai 2.0, GIFT-Eval: ``Moirai2Forecast(context_length, target_dim=1).predict(list_of_targets)``, as the
  notebook calls it.
* Moirai 2.0, BOOM: the gluonts predictor's ``input_transform`` (``create_predictor`` still builds on gluonts
  0.17; only its forecast generator fails), batched and passed to ``Moirai2Forecast.forward``.

Checkpoints are the real architectures with random weights and tiny widths (``ModelSpec.test_checkpoint``).
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import layouts
import numpy as np
import pytest

from toto_bench.adapters.common import install_hint

pytest.importorskip("uni2ts.model.moirai", reason=f"uni2ts is not installed: {install_hint('moirai')}")
torch = pytest.importorskip("torch", reason=f"torch is not installed: {install_hint('moirai')}")
pd = pytest.importorskip("pandas")

from toto_bench.adapters import moirai as M  # noqa: E402
from toto_bench.adapters.base import QUANTILE_LEVELS, Forecaster, QuantileForecast  # noqa: E402
from toto_bench.adapters.registry import build_model, get_model_spec  # noqa: E402
from toto_bench.metrics import (  # noqa: E402
    EVAL_LEVELS,
    METRIC_NAMES,
    evaluate_quantile_forecasts,
    mean_from_samples,
    quantiles_from_samples,
)

pytestmark = [
    pytest.mark.filterwarnings("ignore:invalid value encountered in divide:RuntimeWarning"),  # gluonts
    pytest.mark.filterwarnings("ignore:Using `json`-module"),
    pytest.mark.filterwarnings("ignore:'H' is deprecated:FutureWarning"),  # gluonts reading GIFT-Eval's "H"
]

H_SHORT = 20  # not a multiple of either patch size (32 for 1.1, 16 for 2.0)
CTX = 96  # context_length for the tests (notebooks: 4000 / 2048)
KW = {"freq": "h", "seasonality": 24}


# ---------------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def ckpt11(tmp_path_factory) -> Path:
    return M.moirai11_test_checkpoint(tmp_path_factory.mktemp("moirai11"))


@pytest.fixture(scope="module")
def ckpt2(tmp_path_factory) -> Path:
    return M.moirai2_test_checkpoint(tmp_path_factory.mktemp("moirai2"))


def make_contexts(n_var: int, lengths=(50, 150, 300), seed: int = 0) -> list[np.ndarray]:
    """Float32 ``[V, t]`` contexts with NaN gaps: leading NaN, a gap, trailing NaN, and a short one."""
    rng = np.random.default_rng(seed)
    out = []
    for t in lengths:
        base = 50 + 10 * np.sin(np.arange(t) * 2 * np.pi / 24) + np.cumsum(rng.normal(size=(n_var, t)), -1)
        out.append(base.astype(np.float32))
    out[0][:, :3] = np.nan
    if len(out) > 1:
        out[1][-1, 40:60] = np.nan
    if len(out) > 2:
        out[2][0, -4:] = np.nan
    return out


def moirai11(ckpt: Path, **kwargs) -> M.MoiraiForecaster:
    return M.MoiraiForecaster(str(ckpt), **{"device": "cpu", "context_length": CTX, **kwargs})


def moirai2(ckpt: Path, pipeline: str = "predict", **kwargs) -> M.Moirai2Forecaster:
    return M.build_moirai2(
        pipeline, checkpoint=str(ckpt), **{"device": "cpu", "context_length": CTX, **kwargs}
    )


def entries(contexts: list[np.ndarray]) -> list[dict]:
    """gluonts data entries as gift-eval's ``Dataset`` yields them (1-D target when V == 1)."""
    return [
        {
            "start": pd.Period("2021-01-01 00:00", "h"),
            "item_id": str(i),
            "target": c[0].copy() if c.shape[0] == 1 else c.copy(),
        }
        for i, c in enumerate(contexts)
    ]


# ---------------------------------------------------------------------------------------------- oracles
def oracle_moirai11(ckpt, contexts, horizon, seeds, *, num_samples=100):
    """The notebooks' gluonts predictor path, one context per call (BOOM's ``batch_size=1``), each under
    its own torch seed → list of ``SampleForecast``."""
    from uni2ts.model.moirai import MoiraiForecast, MoiraiModule

    model = MoiraiForecast(
        module=MoiraiModule.from_pretrained(str(ckpt)),
        prediction_length=horizon,
        context_length=CTX,
        patch_size=32,
        num_samples=num_samples,
        target_dim=contexts[0].shape[0],
        feat_dynamic_real_dim=0,
        past_feat_dynamic_real_dim=0,
    )
    predictor = model.create_predictor(batch_size=1, device="cpu")
    out = []
    for entry, seed in zip(entries(contexts), seeds, strict=True):
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            out.extend(predictor.predict([entry]))
    return out


def sample_forecast_readout(forecasts, levels) -> tuple[np.ndarray, np.ndarray]:
    """gluonts ``SampleForecast.quantile`` / ``.mean`` → ``[n, V, H, Q]``, ``[n, V, H]``."""

    def vh(a: np.ndarray) -> np.ndarray:
        return a[None, :] if a.ndim == 1 else a.T

    q = np.stack([np.stack([vh(f.quantile(lv)) for lv in levels], -1) for f in forecasts])
    return q, np.stack([vh(f.mean) for f in forecasts])


def oracle_moirai2_predict(ckpt, contexts, horizon) -> np.ndarray:
    """gift-eval moirai2 notebook: ``Moirai2Forecast(...).predict([entry["target"], ...])``, ``[n, 9, H]``."""
    from uni2ts.model.moirai2 import Moirai2Forecast, Moirai2Module

    model = Moirai2Forecast(
        module=Moirai2Module.from_pretrained(str(ckpt)),
        prediction_length=horizon,
        context_length=CTX,
        target_dim=1,
        feat_dynamic_real_dim=0,
        past_feat_dynamic_real_dim=0,
    )
    return model.predict([e["target"] for e in entries(contexts)])


def oracle_moirai2_predictor(ckpt, contexts, horizon) -> np.ndarray:
    """BOOM moirai2 notebook: the predictor's input transform + ``forward`` → ``[n, 9, H(, V)]``."""
    from uni2ts.model.moirai2 import Moirai2Forecast, Moirai2Module

    model = Moirai2Forecast(
        module=Moirai2Module.from_pretrained(str(ckpt)),
        prediction_length=horizon,
        context_length=CTX,
        target_dim=contexts[0].shape[0],
        feat_dynamic_real_dim=0,
        past_feat_dynamic_real_dim=0,
    ).eval()
    predictor = model.create_predictor(batch_size=len(contexts), device="cpu")
    instances = list(predictor.input_transform.apply(entries(contexts), is_train=False))
    batch = {
        name: torch.as_tensor(np.stack([inst[name] for inst in instances]))
        for name in ("past_target", "past_observed_target", "past_is_pad")
    }
    with torch.no_grad():
        return model(**batch).numpy()


# ---------------------------------------------------------------------------------------------- Moirai 1.1
@pytest.mark.parametrize(("n_var", "horizon"), [(3, H_SHORT), (1, H_SHORT), (3, 70)])
def test_moirai11_equals_gluonts_predictor(ckpt11, n_var, horizon):
    """``sampling="full"``: the predictor's SampleForecast under each context's seed, bit for bit when the
    adapter's forward pass runs one context at a time too (batched passes differ by float rounding)."""
    contexts = make_contexts(n_var)
    model = moirai11(ckpt11, sampling="full", levels=EVAL_LEVELS, batch_size=1)
    fc = model.predict(contexts, horizon, **KW)
    seeds = [model.sample_seed(c, horizon) for c in contexts]
    ref_q, ref_mean = sample_forecast_readout(oracle_moirai11(ckpt11, contexts, horizon, seeds), EVAL_LEVELS)
    assert fc.levels == EVAL_LEVELS
    assert fc.quantiles.shape == (3, n_var, horizon, len(EVAL_LEVELS)) and fc.quantiles.dtype == np.float32
    assert fc.mean is not None and fc.mean.shape == (3, n_var, horizon) and fc.mean.dtype == np.float32
    np.testing.assert_array_equal(fc.quantiles, ref_q)
    np.testing.assert_array_equal(fc.mean, ref_mean)
    assert np.isfinite(fc.quantiles).all()
    assert (np.diff(fc.quantiles, axis=-1) >= 0).all()  # order statistics are sorted
    batched = moirai11(ckpt11, sampling="full", levels=EVAL_LEVELS, batch_size=3).predict(
        contexts, horizon, **KW
    )
    np.testing.assert_allclose(batched.quantiles, ref_q, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(batched.mean, ref_mean, rtol=1e-5, atol=1e-5)


def test_moirai11_horizon_sampling_same_distribution(ckpt11):
    """``sampling="horizon"`` draws other numbers from the same distribution: per (variate, step), a
    two-sample Kolmogorov-Smirnov distance between 4000 paths of each mode stays below the 0.1% critical
    value."""
    contexts = make_contexts(2, lengths=(150,))
    full = moirai11(ckpt11, sampling="full", num_samples=4000).sample(contexts, 40)[0]  # [S, V, H]
    fast = moirai11(ckpt11, num_samples=4000).sample(contexts, 40)[0]
    assert not np.array_equal(full, fast)
    n = full.shape[0]
    worst = 0.0
    for a, b in zip(full.reshape(n, -1).T, fast.reshape(n, -1).T, strict=True):  # one (variate, step)
        a, b = np.sort(a), np.sort(b)
        grid = np.concatenate([a, b])
        ecdf_gap = np.abs(np.searchsorted(a, grid, "right") - np.searchsorted(b, grid, "right")) / n
        worst = max(worst, float(ecdf_gap.max()))
    assert worst < 1.3 * 1.95 * math.sqrt(2 / n)  # KS 0.1% critical value, x1.3 for the 80 positions


def test_moirai11_levels(ckpt11):
    """The default levels are EVAL_LEVELS (the deciles plus the MSIS bounds); ``levels=QUANTILE_LEVELS``
    gives the same deciles and mean from the same samples."""
    contexts = make_contexts(1)
    full = moirai11(ckpt11).predict(contexts, H_SHORT, **KW)
    assert full.levels == EVAL_LEVELS and full.quantiles.shape[-1] == 11
    deciles = moirai11(ckpt11, levels=QUANTILE_LEVELS).predict(contexts, H_SHORT, **KW)
    assert deciles.levels == QUANTILE_LEVELS and deciles.quantiles.shape[-1] == 9
    np.testing.assert_array_equal(deciles.quantiles, full.quantiles[..., 1:-1])
    np.testing.assert_array_equal(deciles.mean, full.mean)
    samples = moirai11(ckpt11).sample(contexts, H_SHORT)
    np.testing.assert_array_equal(full.quantiles, quantiles_from_samples(samples, EVAL_LEVELS))
    np.testing.assert_array_equal(full.mean, mean_from_samples(samples))


@pytest.mark.parametrize("sampling", ["horizon", "full"])
def test_moirai11_batch_invariant_deterministic_call_independent(ckpt11, sampling):
    contexts = make_contexts(2, lengths=(50, 150, 300, 120, 90))
    model = moirai11(ckpt11, num_samples=30, sampling=sampling, batch_size=5)
    together = model.predict(contexts, H_SHORT, **KW)
    for batch in (1, 2):  # equal up to the float rounding of batched matrix products
        other = moirai11(ckpt11, num_samples=30, sampling=sampling, batch_size=batch)
        np.testing.assert_allclose(
            other.predict(contexts, H_SHORT, **KW).quantiles, together.quantiles, rtol=1e-5, atol=1e-5
        )
    torch.manual_seed(1234)  # the caller's RNG state does not matter ...
    state = torch.random.get_rng_state()
    again = model.predict(contexts[::-1], H_SHORT, **KW)
    assert torch.equal(state, torch.random.get_rng_state())  # ... and is left untouched
    np.testing.assert_array_equal(again.quantiles[::-1], together.quantiles)
    np.testing.assert_array_equal(
        model.predict(contexts[2:3], H_SHORT, **KW).quantiles, together.quantiles[2:3]
    )
    other_seed = moirai11(ckpt11, num_samples=30, sampling=sampling, seed=1).predict(contexts, H_SHORT, **KW)
    assert not np.array_equal(other_seed.quantiles, together.quantiles)
    seeds = {model.sample_seed(c, H_SHORT) for c in contexts}
    assert len(seeds) == len(contexts) and model.sample_seed(contexts[0], H_SHORT + 1) not in seeds


def test_moirai11_unseeded_is_the_notebook_forward(ckpt11):
    """``seed=None``: ``MoiraiForecast.forward`` on the whole batch with the global RNG (the predictor)."""
    from uni2ts.model.moirai import MoiraiForecast, MoiraiModule

    contexts = make_contexts(3)
    model = moirai11(ckpt11, seed=None, batch_size=8, num_samples=50, levels=EVAL_LEVELS)
    torch.manual_seed(7)
    fc = model.predict(contexts, H_SHORT, **KW)
    oracle = MoiraiForecast(
        module=MoiraiModule.from_pretrained(str(ckpt11)),
        prediction_length=H_SHORT,
        context_length=CTX,
        patch_size=32,
        num_samples=50,
        target_dim=3,
        feat_dynamic_real_dim=0,
        past_feat_dynamic_real_dim=0,
    ).create_predictor(batch_size=8, device="cpu")
    torch.manual_seed(7)
    ref = sample_forecast_readout(list(oracle.predict(entries(contexts))), EVAL_LEVELS)[0]
    np.testing.assert_array_equal(fc.quantiles, ref)
    assert model.sample_seed(contexts[0], H_SHORT) is None


def test_moirai11_metrics_equal_gluonts_sample_forecast(ckpt11):
    """With EVAL_LEVELS the 11 metrics equal gluonts ``evaluate_forecasts`` of the notebook's forecasts."""
    gluonts_eval = pytest.importorskip("gluonts.model.evaluation")
    from gluonts.dataset.split import split
    from gluonts.ev import metrics as gm

    from toto_bench.metrics import seasonal_errors

    rng = np.random.default_rng(3)
    horizon, windows, season = 12, 2, 24
    series = [
        (60 + 8 * np.sin(np.arange(t) * 2 * np.pi / 24) + np.cumsum(rng.normal(size=(2, t)), -1)).astype(
            np.float32
        )
        for t in (220, 260)
    ]
    cuts = [s.shape[1] - windows * horizon + horizon * np.arange(windows) for s in series]
    contexts = [s[:, :c] for s, cs in zip(series, cuts, strict=True) for c in cs]
    model = moirai11(ckpt11, sampling="full", levels=EVAL_LEVELS)
    fc = model.predict(contexts, horizon, **KW)
    labels = np.stack([s[:, c : c + horizon] for s, cs in zip(series, cuts, strict=True) for c in cs])
    se = np.concatenate([seasonal_errors(s, cs, season) for s, cs in zip(series, cuts, strict=True)])
    ours = evaluate_quantile_forecasts(labels, fc.quantiles, se, mean=fc.mean, levels=fc.levels)

    ds = [
        {"start": pd.Period("2021-01-01 00:00", "h"), "target": s, "item_id": str(i)}
        for i, s in enumerate(series)
    ]
    _, template = split(ds, offset=-windows * horizon)
    test_data = template.generate_instances(prediction_length=horizon, windows=windows, distance=horizon)
    seeds = [model.sample_seed(c, horizon) for c in contexts]
    forecasts = oracle_moirai11(ckpt11, contexts, horizon, seeds)
    metrics = [
        gm.MSE(forecast_type="mean"),
        gm.MSE(forecast_type=0.5),
        gm.MAE(),
        gm.MASE(),
        gm.MAPE(),
        gm.SMAPE(),
        gm.MSIS(),
        gm.RMSE(),
        gm.NRMSE(),
        gm.ND(),
        gm.MeanWeightedSumQuantileLoss(quantile_levels=list(QUANTILE_LEVELS)),
    ]
    ref = gluonts_eval.evaluate_forecasts(
        forecasts,
        test_data=test_data,
        metrics=metrics,
        axis=None,
        mask_invalid_label=True,
        allow_nan_forecast=False,
        seasonality=season,
    ).iloc[0]
    for name in METRIC_NAMES:
        assert math.isclose(ours[name], float(ref[name]), rel_tol=1e-6), (name, ours[name], float(ref[name]))
    # the 9 deciles alone extrapolate the MSIS bounds: everything else stays, MSIS moves
    nine = evaluate_quantile_forecasts(
        labels, fc.quantiles[..., 1:-1], se, mean=fc.mean, levels=QUANTILE_LEVELS
    )
    assert all(nine[k] == ours[k] for k in METRIC_NAMES if k != "MSIS")
    assert nine["MSIS"] != ours["MSIS"]


def _gift_folder(root: Path) -> Path:
    """A GIFT-Eval ``ett1/H`` folder: two ``[2, T]`` hourly items (T 600, 650), NaN in history and labels.

    gift-eval rules: short term H = 48, W = ceil(0.1 · 600 / 48) = 2 windows per item.
    """
    rng = np.random.default_rng(11)
    items = []
    for t in (600, 650):
        x = 40 + 6 * np.sin(np.arange(t) * 2 * np.pi / 24) + np.cumsum(rng.normal(size=(2, t)), -1)
        items.append(x.astype(np.float32))
    items[0][1, 300:320] = np.nan  # a gap in every window's history
    items[1][0, -30:-25] = np.nan  # NaN labels in the last window
    layouts.write_dataset(root / "ett1" / "H", items, freq="H")
    return root


def _run_gift(ckpt: Path, root: Path, out: Path, **settings) -> dict[str, float]:
    """``run_suite`` (the engine behind ``toto-bench run``) with the registered gift-eval settings of
    ``moirai-1.1-small`` plus ``settings``; the 11 metrics of ``ett1/H/short`` from ``all_results.csv``."""
    from toto_bench.engine.runner import RunOptions, run_suite
    from toto_bench.suites import get_suite

    def factory():
        return build_model("moirai-1.1-small", "gift-eval", checkpoint=str(ckpt), device="cpu", **settings)

    options = RunOptions(
        datasets=["ett1/H"], terms=["short"], output_dir=out, data_dir=root, progress=False, settings=settings
    )
    summary = run_suite(get_suite("gift-eval"), "moirai-1.1-small", factory, options)
    row = (
        pd.read_csv(summary.results_csv, float_precision="round_trip")
        .set_index("dataset")
        .loc["ett1/H/short"]
    )
    return {name: float(row[f"eval_metrics/{name}"]) for name in METRIC_NAMES}


def test_moirai11_run_equals_gluonts_evaluation_of_the_notebook_predictor(ckpt11, tmp_path):
    """``toto-bench run``'s engine with the registered defaults (``levels = EVAL_LEVELS``) against the
    notebooks' path on the same GIFT-Eval folder: gift-eval ``Dataset`` windows (tests/upstream.py), the
    uni2ts gluonts predictor at batch size 1 under each window's seed, and gluonts ``evaluate_forecasts`` of
    its ``SampleForecast`` objects with the 11 notebook metrics. All 11 agree at rtol 1e-6, MSIS included
    (read from the samples' 0.025 / 0.975 quantiles); restricted to the 9 deciles only MSIS moves
    (extrapolated)."""
    from gluonts.model.evaluation import evaluate_forecasts
    from upstream import _GiftEvalDataset, gluonts_metrics

    root = _gift_folder(tmp_path / "data")
    same_draws = {"context_length": CTX, "sampling": "full", "batch_size": 1}
    ours = _run_gift(ckpt11, root, tmp_path / "run", **same_draws)
    deciles = _run_gift(ckpt11, root, tmp_path / "deciles", **same_draws, levels=list(QUANTILE_LEVELS))

    dataset = _GiftEvalDataset(root / "ett1" / "H", "ett1/H", "short", to_univariate=False)
    horizon, windows = dataset.prediction_length, dataset.windows
    assert (horizon, windows) == (48, 2)
    test_data = dataset.test_data()
    inputs = [dict(entry) for entry in test_data.input]
    assert len(inputs) == 4 and all(e["target"].shape[0] == 2 for e in inputs)
    # the adapter's per-window torch seed (a digest of the window's context): the only thing borrowed
    seeder = moirai11(ckpt11)
    seeds = [seeder.sample_seed(np.asarray(e["target"], np.float32), horizon) for e in inputs]
    forecasts = oracle_moirai11(ckpt11, [np.asarray(e["target"]) for e in inputs], horizon, seeds)
    frame = evaluate_forecasts(
        forecasts,
        test_data=test_data,
        metrics=gluonts_metrics(),
        axis=None,
        mask_invalid_label=True,
        allow_nan_forecast=False,
        seasonality=24,
    )
    ref = {name: float(frame[name].iloc[0]) for name in METRIC_NAMES}
    for name in METRIC_NAMES:
        assert math.isclose(ours[name], ref[name], rel_tol=1e-6), (name, ours[name], ref[name])
        if name != "MSIS":
            assert math.isclose(deciles[name], ref[name], rel_tol=1e-6), (name, deciles[name], ref[name])
    assert not math.isclose(deciles["MSIS"], ref["MSIS"], rel_tol=1e-3), (deciles["MSIS"], ref["MSIS"])


# ---------------------------------------------------------------------------------------------- Moirai 2.0
@pytest.mark.parametrize("horizon", [H_SHORT, 70])  # 70 > 4 tokens x 16: recursive decoding
def test_moirai2_predict_equals_notebook_call(ckpt2, horizon):
    contexts = make_contexts(1, lengths=(50, 150, 300, 30))
    model = moirai2(ckpt2)
    assert not model.supports_multivariate and model.pipeline == "predict"
    copies = [c.copy() for c in contexts]
    fc = model.predict(contexts, horizon, **KW)
    for c, before in zip(contexts, copies, strict=True):  # predict() imputes in place upstream: not ours
        np.testing.assert_array_equal(c, before)
    ref = oracle_moirai2_predict(ckpt2, contexts, horizon)  # [n, 9, H]
    assert fc.levels == QUANTILE_LEVELS and fc.mean is None
    assert fc.quantiles.shape == (4, 1, horizon, 9) and fc.quantiles.dtype == np.float32
    np.testing.assert_array_equal(fc.quantiles[:, 0], ref.transpose(0, 2, 1))


@pytest.mark.parametrize(("n_var", "horizon"), [(3, H_SHORT), (1, H_SHORT), (1, 70)])
def test_moirai2_predictor_equals_gluonts_pipeline(ckpt2, n_var, horizon):
    contexts = make_contexts(n_var)
    model = moirai2(ckpt2, "predictor")
    assert model.supports_multivariate and model.pipeline == "predictor"
    fc = model.predict(contexts, horizon, **KW)
    ref = oracle_moirai2_predictor(ckpt2, contexts, horizon).reshape(3, 9, horizon, n_var)
    assert fc.quantiles.shape == (3, n_var, horizon, 9) and fc.mean is None
    np.testing.assert_array_equal(fc.quantiles, ref.transpose(0, 3, 2, 1))


def test_moirai2_predictor_imputation_matches_gluonts(ckpt2):
    """V == 1: gluonts CausalMeanValueImputation over the whole history; V > 1: NaN → 0."""
    from gluonts.transform import CausalMeanValueImputation

    ctx = make_contexts(1, lengths=(150,))[0]
    ctx[0, 100:110] = np.nan
    target, observed, is_pad = M.predictor_inputs([ctx], 64, "causal_mean")
    np.testing.assert_array_equal(target[0, :, 0], CausalMeanValueImputation()(ctx[0].copy())[-64:])
    np.testing.assert_array_equal(observed[0, :, 0], ~np.isnan(ctx[0, -64:]))
    assert not is_pad.any()
    target, observed, is_pad = M.predictor_inputs([np.tile(ctx, (2, 1))[:, :40]], 64, "zero")
    assert is_pad[0, :24].all() and not is_pad[0, 24:].any()
    assert (target[0, :24] == 0).all() and not observed[0, :24].any()


@pytest.mark.parametrize("pipeline", ["predict", "predictor"])
def test_moirai2_batch_size_invariant(ckpt2, pipeline):
    n_var = 1 if pipeline == "predict" else 2
    contexts = make_contexts(n_var, lengths=(50, 150, 300, 90, 120))
    one = moirai2(ckpt2, pipeline, batch_size=1).predict(contexts, H_SHORT, **KW)
    all_ = moirai2(ckpt2, pipeline, batch_size=5).predict(contexts, H_SHORT, **KW)
    two = moirai2(ckpt2, pipeline, batch_size=2).predict(contexts, H_SHORT, **KW)
    np.testing.assert_allclose(one.quantiles, all_.quantiles, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(two.quantiles, all_.quantiles, rtol=1e-5, atol=1e-4)


def test_moirai2_long_multivariate(ckpt2):
    contexts = make_contexts(2)
    with pytest.raises(ValueError, match="multivariate horizon longer than 64"):
        moirai2(ckpt2, "predictor").predict(contexts, 70, **KW)
    fc = moirai2(ckpt2, "predictor", long_multivariate="per_variate").predict(contexts, 70, **KW)
    per_var = [
        moirai2(ckpt2, "predictor").predict([c[v : v + 1] for c in contexts], 70, **KW) for v in range(2)
    ]
    np.testing.assert_array_equal(fc.quantiles, np.concatenate([p.quantiles for p in per_var], axis=1))


# ------------------------------------------------------------------------------------------ shapes, errors
@pytest.mark.parametrize("family", ["1.1", "2-predict", "2-predictor"])
def test_protocol_shapes_and_all_nan(ckpt11, ckpt2, family):
    if family == "1.1":
        model: Forecaster = moirai11(ckpt11, num_samples=10)
    else:
        model = moirai2(ckpt2, family.split("-")[1])
    assert isinstance(model, Forecaster)
    n_var = 2 if model.supports_multivariate else 1
    contexts = [np.full((n_var, 40), np.nan, np.float32), np.ones((n_var, 1), np.float32)]
    fc = model.predict(contexts, 5, **KW)
    assert isinstance(fc, QuantileForecast) and fc.quantiles.shape[:3] == (2, n_var, 5)
    empty = model.predict([], 5, **KW)
    assert empty.quantiles.shape[0] == 0 and empty.quantiles.shape[2:] == (5, len(fc.levels))


def test_input_errors(ckpt11, ckpt2):
    m11 = moirai11(ckpt11, num_samples=5)
    with pytest.raises(ValueError, match="horizon"):
        m11.predict([np.ones((1, 10), np.float32)], 0, **KW)
    with pytest.raises(ValueError, match="variates"):
        m11.predict([np.ones((2, 10), np.float32), np.ones((3, 10), np.float32)], 4, **KW)
    with pytest.raises(ValueError, match="empty"):
        m11.predict([np.ones((1, 0), np.float32)], 4, **KW)
    with pytest.raises(ValueError, match="univariate"):
        moirai2(ckpt2).predict([np.ones((3, 10), np.float32)], 4, **KW)
    for bad in (24, "auto"):
        with pytest.raises(ValueError, match="patch_size"):
            moirai11(ckpt11, patch_size=bad)
    with pytest.raises(ValueError, match="sampling"):
        moirai11(ckpt11, sampling="some")
    with pytest.raises(ValueError, match="ascending"):
        moirai11(ckpt11, levels=(0.5, 0.1))
    with pytest.raises(ValueError, match="pipeline"):
        M.build_moirai2("gluonts", checkpoint=str(ckpt2), device="cpu")
    with pytest.raises(ValueError, match="batch_size"):
        moirai11(ckpt11, batch_size=0)


def test_checkpoint_errors(tmp_path, ckpt2, monkeypatch):
    pickled = tmp_path / "pickled"
    pickled.mkdir()
    shutil.copy(ckpt2 / "config.json", pickled / "config.json")
    (pickled / "pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(FileNotFoundError, match=r"lacks model\.safetensors"):
        moirai2(pickled)
    with pytest.raises(FileNotFoundError, match="not a directory"):
        moirai2(tmp_path / "missing")
    # offline with an empty cache: the offline hint
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    with pytest.raises(FileNotFoundError, match=re.escape("hf download Salesforce/moirai-2.0-R-small")):
        M.build_moirai2(device="cpu")


def test_offline_hf_cache_layout(tmp_path, ckpt11, ckpt2, monkeypatch):
    """The published ids load from an HF cache under HF_HOME with HF_HUB_OFFLINE=1 (no network)."""
    home = tmp_path / "hf-home"
    layouts.write_hf_cache(home, M.MOIRAI11_CHECKPOINTS["small"], ckpt11)
    layouts.write_hf_cache(home, M.MOIRAI2_CHECKPOINT, ckpt2)
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(home / "hub"))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    contexts = make_contexts(1)
    hub11 = build_model("moirai-1.1-small", "gift-eval", device="cpu", context_length=CTX, num_samples=10)
    assert hub11.checkpoint == "Salesforce/moirai-1.1-R-small"
    local11 = moirai11(ckpt11, num_samples=10)
    np.testing.assert_array_equal(
        hub11.predict(contexts, 8, **KW).quantiles, local11.predict(contexts, 8, **KW).quantiles
    )
    hub2 = build_model("moirai-2-small", "gift-eval", device="cpu", context_length=CTX)
    np.testing.assert_array_equal(
        hub2.predict(contexts, 8, **KW).quantiles, moirai2(ckpt2).predict(contexts, 8, **KW).quantiles
    )
    with pytest.raises(
        FileNotFoundError, match=re.escape("Salesforce/moirai-1.1-R-base")
    ):  # not in the cache
        build_model("moirai-1.1-base", device="cpu")


def test_offline_hf_cache_subprocess(tmp_path, ckpt2):
    """The same through the real environment variables, in a fresh interpreter (hub reads them at import)."""
    home = tmp_path / "hf-home"
    layouts.write_hf_cache(home, M.MOIRAI2_CHECKPOINT, ckpt2)
    code = (
        "import numpy as np; from toto_bench.adapters.registry import build_model; "
        "m = build_model('moirai-2-small', 'boom', device='cpu', context_length=64); "
        "ctx = [np.arange(80, dtype=np.float32).reshape(2, 40)]; "
        "q = m.predict(ctx, 8, freq='h', seasonality=24).quantiles; "
        "print(m.checkpoint, q.shape, np.isfinite(q).all())"
    )
    env = {**os.environ, "HF_HOME": str(home), "HF_HUB_OFFLINE": "1", "PYTHONWARNINGS": "ignore"}
    env.pop("HF_HUB_CACHE", None)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split("\n")[-2] == "Salesforce/moirai-2.0-R-small (1, 2, 8, 9) True"


def test_runner_passes_levels_through(ckpt11, ckpt2):
    """The engine's batching and splitting keep the adapter's levels (11 for Moirai 1.1, 9 for Moirai 2.0)."""
    from toto_bench.engine.forecasting import forecast_series

    task = SimpleNamespace(prediction_length=H_SHORT, freq="h", seasonality=24)
    rng = np.random.default_rng(5)
    targets = [(50 + np.cumsum(rng.normal(size=(2, t)), -1)).astype(np.float32) for t in (200, 240)]
    cuts = [np.array([150, 170]), np.array([180, 200, 220])]
    m11, m2 = moirai11(ckpt11, num_samples=10, batch_size=3), moirai2(ckpt2, batch_size=3)
    assert m11.levels == EVAL_LEVELS and m2.levels == QUANTILE_LEVELS
    for model in (m11, m2):
        out = forecast_series(model, targets, cuts, task)
        n_q = len(model.levels)
        assert [o.quantiles.shape for o in out] == [(2, 2, H_SHORT, n_q), (3, 2, H_SHORT, n_q)]
        assert all(o.levels == model.levels for o in out)
    # univariate Moirai 2.0: window 1 of series 1, variate 1 is that variate's own forecast
    out2 = forecast_series(m2, targets, cuts, task)
    direct = m2.predict([targets[1][1:2, :200]], H_SHORT, **KW).quantiles[0, 0]
    np.testing.assert_allclose(out2[1].quantiles[1, 1], direct, rtol=1e-5, atol=1e-4)


def test_test_checkpoint_round_trip(tmp_path):
    """``test_checkpoint`` writes safetensors that ``from_pretrained(dir)`` reloads bit for bit."""
    from safetensors.torch import load_file
    from uni2ts.model.moirai import MoiraiModule
    from uni2ts.model.moirai2 import Moirai2Module

    for name, cls in (("moirai-1.1-small", MoiraiModule), ("moirai-2-small", Moirai2Module)):
        spec = get_model_spec(name)
        assert spec.test_checkpoint is not None
        folder = spec.test_checkpoint(tmp_path / name)
        assert sorted(p.name for p in folder.iterdir() if p.suffix in (".json", ".safetensors", ".bin")) == [
            "config.json",
            "model.safetensors",
        ]
        module = cls.from_pretrained(str(folder))
        saved = load_file(str(folder / "model.safetensors"))
        assert set(saved) == set(module.state_dict())
        assert all(torch.equal(saved[k], v) for k, v in module.state_dict().items())
        again = spec.test_checkpoint(tmp_path / f"{name}-again")  # seeded: same weights every time
        assert (again / "model.safetensors").read_bytes() == (folder / "model.safetensors").read_bytes()
    config = json.loads((tmp_path / "moirai-1.1-small" / "config.json").read_text())
    assert config["patch_sizes"] == [8, 16, 32, 64, 128] and config["distr_output"]["_target_"].endswith(
        "MixtureOutput"
    )


# ---------------------------------------------------------------------------------------------- registry
def test_registry(ckpt11, ckpt2):
    for size in ("small", "base", "large"):
        spec = get_model_spec(f"moirai-1.1-{size}")
        assert spec.family == "moirai" and spec.checkpoint == f"Salesforce/moirai-1.1-R-{size}"
        assert spec.settings_for("gift-eval") == {
            "context_length": 4000,
            "patch_size": 32,
            "num_samples": 100,
            "seed": 0,
            "sampling": "horizon",
            "levels": list(EVAL_LEVELS),
            "batch_size": 512,
        }
        assert spec.settings_for("boom")["batch_size"] == 1
        json.dumps(spec.settings_for("boom"))  # run records hash the settings
    spec2 = get_model_spec("moirai-2-small")
    assert spec2.checkpoint == "Salesforce/moirai-2.0-R-small"
    assert spec2.settings_for("gift-eval") == {
        "pipeline": "predict",
        "context_length": 4000,
        "batch_size": 512,
    }
    assert spec2.settings_for("boom") == {"pipeline": "predictor", "context_length": 2048, "batch_size": 1}

    boom11 = build_model("moirai-1.1-large", "boom", checkpoint=str(ckpt11), device="cpu")
    assert boom11.name == "moirai-1.1-large" and boom11.context_length == 4000
    assert boom11.batch_size == 1 and boom11.supports_multivariate
    boom2 = build_model("moirai-2-small", "boomlet", checkpoint=str(ckpt2), device="cpu")
    assert isinstance(boom2, M.Moirai2PredictorForecaster) and boom2.context_length == 2048
    with pytest.raises(ValueError, match="does not take num_samples"):
        build_model("moirai-2-small", checkpoint=str(ckpt2), device="cpu", num_samples=5)
    with pytest.raises(ValueError, match="long_multivariate only applies"):
        build_model("moirai-2-small", checkpoint=str(ckpt2), device="cpu", long_multivariate="per_variate")
    boom_long = build_model("moirai-2-small", "boom", checkpoint=str(ckpt2), long_multivariate="per_variate")
    assert boom_long.long_multivariate == "per_variate"
    gift2 = build_model("moirai-2-small", "gift-eval", checkpoint=str(ckpt2), device="cpu")
    assert type(gift2) is M.Moirai2Forecaster and gift2.context_length == 4000
    assert gift2.settings == {
        "checkpoint": str(ckpt2),
        "pipeline": "predict",
        "context_length": 4000,
        "batch_size": 512,
    }
