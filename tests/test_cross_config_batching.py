"""Cross-config batching (``--batching pooled``) gives the numbers of per-config batches (``--batching
config``).

The oracle is the per-config path itself (``forecasting.score_task``, one config's contexts per call, the path
of every earlier release), run on the same data:

- a list-API seasonal naive that declares ``SharesBatches`` is exact (each context's forecast depends on it
  alone), so pooled and per-config scorer inputs are equal bit for bit, over batch sizes and ``max_open``;
  every pooled call holds one horizon and one variate count, and calls are as full as the queues allow;
- the neural families, random-init from a config (Toto 2.0 at the official 4m shape, Chronos-Bolt, Moirai 1.1
  with a seed and 2.0, TimesFM 2.5 with BOOM's fixed context, and Toto 1.0 / Chronos-2, which do not share
  batches), agree within :data:`TOLERANCE` (docs/running.md: float32 reduction order only);
- ``toto-bench run --suite boom`` on a BOOM-layout subset (``layouts.write_dataset`` + a properties file):
  seasonal naive and naive write the same ``all_results.csv`` bytes; Toto 2.0 the same rows and stored
  forecasts within tolerance, with fewer forward calls; a pooled run stopped by a failing model keeps the
  configs it finished and the rerun completes to the rows of an uninterrupted run.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any, ClassVar

import layouts
import numpy as np
import pandas as pd
import pytest

from toto_bench.adapters.base import QuantileForecast, SharesBatches
from toto_bench.adapters.common import MissingExtraError
from toto_bench.adapters.registry import accepted_options, available_models, build_model
from toto_bench.adapters.statistical import SeasonalNaiveForecaster
from toto_bench.engine.batching import BatchPool, PooledConfig, shares_batches
from toto_bench.engine.forecasting import score_task
from toto_bench.engine.protocol import RunError, Scorer
from toto_bench.engine.tasks import build_task, window_cuts

#: Max |pooled − per-config| / max(1, |per-config|) per family, on CPU (docs/running.md), of the families
#: that share batches: the same float32 network on the same rows, only the batch composition differs, which
#: changes reduction order (a few float32 ulps). Toto 1.0, Chronos-2 and the statistical models do not share
#: batches (the engine takes the per-config path for them).
TOLERANCE: dict[str, float] = {
    "toto2": 1e-4,
    "chronos": 1e-4,
    "moirai": 1e-4,
    "timesfm": 1e-4,
}


class Recorder(Scorer):
    """Keeps every ``update`` call (series index, item id, start, cuts, quantiles, mean)."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, str, int, np.ndarray, np.ndarray, np.ndarray | None]] = []
        self.instances = 0

    def update(
        self, index: int, item_id: str, target: np.ndarray, start: int, cuts: Any, forecast: Any
    ) -> None:
        self.calls.append((index, item_id, start, np.array(cuts), forecast.quantiles.copy(), forecast.mean))
        self.instances += len(cuts)

    def row(self) -> dict[str, Any]:
        return {"updates": len(self.calls)}


class PooledNaive:
    """Seasonal naive through the list API, declaring :class:`SharesBatches` with the seasonality in its
    group (its ``predict`` reads it); records each call."""

    name = "pooled-naive"
    supports_multivariate: ClassVar[bool] = False
    context_length = None

    def __init__(self, batch_size: int) -> None:
        self.batch_size = batch_size
        self.inner = SeasonalNaiveForecaster()
        self.calls: list[tuple[int, int, set[int]]] = []  # (contexts, horizon, variate counts)

    def batch_group(self, task: Any) -> tuple[int]:
        return (task.seasonality,)

    def predict(
        self, contexts: list[np.ndarray], horizon: int, *, freq: str, seasonality: int
    ) -> QuantileForecast:
        self.calls.append((len(contexts), horizon, {c.shape[0] for c in contexts}))
        return self.inner.predict(contexts, horizon, freq=freq, seasonality=seasonality)


class PooledNaiveMultivariate(PooledNaive):
    supports_multivariate: ClassVar[bool] = True


#: (name, freq, variates, series, length, terms) of the datasets of :func:`_configs`.
DATASETS: dict[str, list[tuple[str, str, int, int, int, tuple[str, ...]]]] = {
    # 11 configs, horizons 48/480/720/30, V = 1, 3, 1, 2, 1
    "full": [
        ("a", "H", 1, 2, 3000, ("short", "medium", "long")),
        ("b", "H", 3, 1, 2600, ("short", "medium", "long")),
        ("c", "5T", 1, 3, 2500, ("short", "medium", "long")),
        ("d", "D", 2, 1, 400, ("short",)),
        ("e", "H", 1, 1, 900, ("short",)),
    ],
    # 6 configs, horizons 30/8/48/480, V = 1, 2, 1, 1: cheap for the neural families on CPU
    "small": [
        ("p", "D", 1, 2, 500, ("short",)),
        ("q", "D", 2, 1, 450, ("short",)),
        ("r", "W", 1, 2, 300, ("short",)),
        ("s", "H", 1, 1, 800, ("short", "medium")),
        ("t", "D", 1, 1, 380, ("short",)),
    ],
}


def _configs(
    seed: int = 0, which: str = "full"
) -> list[tuple[Any, list[tuple[str, np.ndarray]], list[np.ndarray]]]:
    """``(task, items, cuts)`` of every config of ``DATASETS[which]`` (random walks with a NaN gap)."""
    rng = np.random.default_rng(seed)
    out = []
    for name, freq, n_var, n_series, length, terms in DATASETS[which]:
        items = []
        for s in range(n_series):
            x = rng.normal(size=(n_var, length + 37 * s)).astype(np.float32).cumsum(axis=1)
            x[:, 100:130] = np.nan
            items.append((f"{name}{s}", x))
        for term in terms:
            task = build_task(
                config=f"{name}/{freq}/{term}",
                storage_name=name,
                term=term,
                freq=freq,
                min_length=min(t.shape[1] for _, t in items),
                target_dim=n_var,
            )
            cuts = [window_cuts(t.shape[1], task.prediction_length, task.windows) for _, t in items]
            out.append((task, items, cuts))
    return out


def _per_config(model: Any, configs: list[Any], context_length: int | None = None) -> list[Recorder]:
    out = []
    for task, items, cuts in configs:
        scorer = Recorder()
        score_task(model, items, task, cuts, scorer, context_length=context_length)
        out.append(scorer)
    return out


def _pooled(
    model: Any, configs: list[Any], *, max_open: int = 64, context_length: int | None = None
) -> tuple[list[Recorder], list[list[str]]]:
    """Scorers of the pooled path, and after each ``add`` the configs finished so far (in order)."""
    pool = BatchPool(model, context_length=context_length, max_open=max_open)
    scorers = [Recorder() for _ in configs]
    finished: list[str] = []
    history = []
    for (task, items, cuts), scorer in zip(configs, scorers, strict=True):
        finished += [c.task.config for c in pool.add(PooledConfig(task, items, cuts, scorer))]
        history.append(list(finished))
    finished += [c.task.config for c in pool.finish()]
    history.append(finished)
    return scorers, history


def _assert_same(pooled: list[Recorder], reference: list[Recorder], tolerance: float) -> float:
    """Same update calls (series, ids, starts, cuts) and forecasts within ``tolerance``; the max rel. diff."""
    worst = 0.0
    for got, ref in zip(pooled, reference, strict=True):
        assert [c[:3] for c in got.calls] == [c[:3] for c in ref.calls]
        for g, r in zip(got.calls, ref.calls, strict=True):
            np.testing.assert_array_equal(g[3], r[3])
            assert g[4].shape == r[4].shape and g[4].dtype == r[4].dtype
            if tolerance == 0:
                np.testing.assert_array_equal(g[4], r[4])
                assert (g[5] is None) == (r[5] is None)
                if g[5] is not None:
                    np.testing.assert_array_equal(g[5], r[5])
                continue
            assert (g[5] is None) == (r[5] is None)
            for a, b in ((g[4], r[4]), (g[5], r[5])):
                if b is None:
                    continue
                both = np.isfinite(b)
                np.testing.assert_array_equal(np.isfinite(a), both)
                diff = np.abs(a[both] - b[both]) / np.maximum(1.0, np.abs(b[both]))
                worst = max(worst, float(diff.max(initial=0.0)))
    assert worst <= tolerance, f"max relative difference {worst:.3g} > {tolerance:g}"
    return worst


@pytest.mark.parametrize("model_cls", [PooledNaive, PooledNaiveMultivariate])
@pytest.mark.parametrize("batch_size", [1, 7, 64])
def test_pooled_scorer_inputs_equal_the_per_config_ones_bit_for_bit(
    model_cls: type[PooledNaive], batch_size: int
) -> None:
    configs = _configs()
    reference = _per_config(SeasonalNaiveForecaster(), configs)
    model = model_cls(batch_size)
    got, history = _pooled(model, configs)
    _assert_same(got, reference, 0.0)
    assert sorted(history[-1]) == sorted(t.config for t, _, _ in configs)  # each config finished once
    # one horizon and one variate count per call; every context handed over once, in full calls
    per_group: dict[tuple[int, int, int], int] = {}
    for task, items, cuts in configs:
        for (_, target), c in zip(items, cuts, strict=True):
            v = target.shape[0] if model.supports_multivariate else 1
            k = 1 if model.supports_multivariate else target.shape[0]
            key = (task.prediction_length, v, task.seasonality)
            per_group[key] = per_group.get(key, 0) + len(c) * k
    assert all(len(vs) == 1 for _, _, vs in model.calls)
    assert max(n for n, _, _ in model.calls) <= batch_size
    assert sum(n for n, _, _ in model.calls) == sum(per_group.values())
    assert len(model.calls) == sum(math.ceil(n / batch_size) for n in per_group.values())


def test_pooling_fills_calls_that_per_config_batches_leave_nearly_empty() -> None:
    configs = _configs()
    per_config, pooled = PooledNaive(64), PooledNaive(64)
    _per_config(per_config, configs)
    _pooled(pooled, configs)
    fill = [sum(n for n, _, _ in m.calls) / len(m.calls) / 64 for m in (per_config, pooled)]
    assert len(pooled.calls) < len(per_config.calls) and fill[1] > fill[0]


@pytest.mark.parametrize("max_open", [1, 2, 5])
def test_max_open_bounds_how_long_a_config_waits_for_its_forecasts(max_open: int) -> None:
    configs = _configs()
    got, history = _pooled(PooledNaive(64), configs, max_open=max_open)
    _assert_same(got, _per_config(SeasonalNaiveForecaster(), configs), 0.0)
    names = [t.config for t, _, _ in configs]
    for k, finished in enumerate(history[:-1]):  # after adding config k at most max_open are unfinished
        assert len(set(names[: k + 1]) - set(finished)) <= max_open


def test_a_config_without_windows_finishes_without_a_call() -> None:
    task, items, cuts = _configs()[0]
    model = PooledNaive(8)
    got, history = _pooled(model, [(task, items, [c[:0] for c in cuts])])
    assert history[0] == [task.config] and got[0].calls == [] and model.calls == []


class _Raises(PooledNaive):
    def predict(self, contexts: list[np.ndarray], horizon: int, **kwargs: Any) -> QuantileForecast:
        raise ValueError("bad input")


def test_a_failing_shared_call_names_the_config_the_series_and_the_way_out() -> None:
    task, items, cuts = _configs()[0]
    pool = BatchPool(_Raises(4))
    with pytest.raises(RunError) as caught:
        list(pool.add(PooledConfig(task, items, cuts, Recorder())))
    message = str(caught.value)
    assert message.startswith("a/H/short: model 'pooled-naive' raised on the batch starting at series 'a0'")
    assert "--batching config" in message and "ValueError: bad input" in message


def test_which_models_share_batches() -> None:
    assert shares_batches(PooledNaive(4), bounded=False, context_length=None)  # type: ignore[arg-type]
    assert not shares_batches(PooledNaive(4), bounded=True, context_length=None)  # type: ignore[arg-type]
    assert not shares_batches(SeasonalNaiveForecaster(), bounded=False, context_length=None)
    no_batch = PooledNaive(4)
    no_batch.batch_size = None  # type: ignore[assignment]
    assert not shares_batches(no_batch, bounded=False, context_length=None)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------------------
# Real architectures, random-init


#: Model → BOOM settings overrides that make the test cheap and give pooling something to fill.
FAMILY_CASES: dict[str, dict[str, Any]] = {
    "toto2-4m": {},
    "chronos-bolt-small": {"batch_size": 16},
    "moirai-1.1-small": {"batch_size": 8, "num_samples": 16},
    "moirai-2-small": {"batch_size": 8, "long_multivariate": "per_variate"},
    "timesfm-2.5-200m": {"batch_size": 16, "per_core_batch_size": 16},
    "toto1": {"num_samples": 8, "batch_size": 8},
    "chronos-2": {},
}
SHARES = {"toto2-4m", "chronos-bolt-small", "moirai-1.1-small", "moirai-2-small", "timesfm-2.5-200m"}


def _family_model(name: str, folder: Path) -> Any:
    spec = available_models()[name]
    if spec.family == "toto2":
        from toto_bench.adapters.toto2 import OFFICIAL_4M_CONFIG, save_random_checkpoint

        checkpoint = save_random_checkpoint(folder, OFFICIAL_4M_CONFIG, seed=3)
    else:
        assert spec.test_checkpoint is not None
        checkpoint = spec.test_checkpoint(folder)
    overrides: dict[str, Any] = {"checkpoint": checkpoint, **FAMILY_CASES[name]}
    accepted = accepted_options(spec)
    if accepted is None or "device" in accepted:
        overrides["device"] = "cpu"
    if accepted is not None:
        overrides = {k: v for k, v in overrides.items() if k in accepted}
    return build_model(name, suite="boom", **overrides)


@pytest.mark.parametrize("name", list(FAMILY_CASES))
def test_real_architectures_pooled_equal_per_config_batches_within_the_family_tolerance(
    name: str, tmp_path: Path
) -> None:
    warnings.simplefilter("ignore")
    try:
        model = _family_model(name, tmp_path)
    except MissingExtraError as exc:
        pytest.skip(str(exc))
    family = available_models()[name].family
    assert shares_batches(model, bounded=False, context_length=None) == (name in SHARES)
    if name not in SHARES:  # the engine takes the per-config path for it (UnitJob.run_many): same numbers
        return
    configs = _configs(seed=1, which="small")
    reference = _per_config(model, configs)
    got, _ = _pooled(model, configs)
    _assert_same(got, reference, TOLERANCE[family])


# ----------------------------------------------------------------------------------------------------------
# toto-bench run on a BOOM-layout subset


#: name → (variates, length, properties term): H, 5T, D and T datasets; 11 configs.
BOOM_SUBSET: dict[str, tuple[int, int, str]] = {
    "ds-9101-H": (1, 3000, "long"),
    "ds-9102-H": (3, 2600, "short"),
    "ds-9103-5T": (1, 2500, "long"),
    "ds-9104-D": (2, 420, "short"),
    "ds-9105-T": (1, 3400, "long"),
}
FREQUENCY = {"H": "Medium", "D": "Long", "5T": "Short", "T": "Short"}


def write_boom_subset(root: Path, seed: int = 0) -> Path:
    """The datasets of :data:`BOOM_SUBSET` in BOOM's on-disk layout plus their properties file."""
    rng = np.random.default_rng(seed)
    props = {}
    for name, (n_var, length, term) in BOOM_SUBSET.items():
        freq = name.rsplit("-", 1)[1]
        t = np.arange(length)
        x = 20 + 5 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 1, size=(n_var, length)).cumsum(axis=1) * 0.1
        x[:, length - 700 : length - 650] = np.nan
        target = x[0] if n_var == 1 else x
        layouts.write_dataset(root / name, [target], freq=freq, start=pd.Timestamp("2024-03-01"))
        props[name] = {
            "domain": ["Infrastructure"],
            "frequency": FREQUENCY[freq],
            "num_variates": n_var,
            "term": term,
            "type": "gauge",
        }
    path = root / "boom_properties.json"
    path.write_text(json.dumps(props))
    return path


@pytest.fixture(scope="module")
def boom(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("boom_subset")
    return {"root": root, "properties": write_boom_subset(root)}


def _run(boom: dict[str, Path], out: Path, model: str, *extra: str) -> int:
    from toto_bench.cli import main

    argv = ["run", "--suite", "boom", "--model", model, "--data-dir", str(boom["root"])]
    argv += ["--properties", str(boom["properties"]), "--output-dir", str(out), "--no-progress", *extra]
    return main(argv)


@pytest.mark.parametrize("model", ["seasonal-naive", "naive"])
def test_boom_run_of_a_per_series_model_is_byte_identical_under_both_batchings(
    boom: dict[str, Path], tmp_path: Path, model: str
) -> None:
    for mode in ("pooled", "config"):
        assert _run(boom, tmp_path / mode, model, "--batching", mode) == 0
    pooled, config = (tmp_path / m / "boom" / model for m in ("pooled", "config"))
    assert (pooled / "all_results.csv").read_bytes() == (config / "all_results.csv").read_bytes()
    record = json.loads((pooled / "config.json").read_text())
    assert record["batching"] == {"mode": "pooled", "shared_across_configs": False}


def test_boom_run_of_toto2_pooled_equals_per_config_batches_with_fewer_forward_calls(
    boom: dict[str, Path], tmp_path: Path
) -> None:
    pytest.importorskip("toto2", reason="toto-2 is not installed")
    from toto_bench.adapters.toto2 import OFFICIAL_4M_CONFIG, save_random_checkpoint
    from toto_bench.engine.forecasts import load_forecasts

    checkpoint = save_random_checkpoint(tmp_path / "ckpt", OFFICIAL_4M_CONFIG, seed=5)
    model = ["--checkpoint", str(checkpoint), "--device", "cpu", "--save-forecasts"]
    for mode in ("pooled", "config"):
        assert _run(boom, tmp_path / mode, "toto2-4m", *model, "--batching", mode) == 0
    pooled, config = (tmp_path / m / "boom" / "toto2-4m" for m in ("pooled", "config"))
    a, b = (pd.read_csv(f / "all_results.csv") for f in (pooled, config))
    assert list(a["dataset"]) == list(b["dataset"]) and len(a) == 11
    metrics = [c for c in a.columns if c.startswith("eval_metrics/")]
    np.testing.assert_allclose(
        a[metrics].to_numpy(float), b[metrics].to_numpy(float), rtol=TOLERANCE["toto2"]
    )
    for config_name in a["dataset"]:
        got, ref = (load_forecasts(f, config_name) for f in (pooled, config))
        q, r = got.quantiles, ref.quantiles
        assert q.shape == r.shape
        np.testing.assert_allclose(q, r, rtol=TOLERANCE["toto2"], atol=TOLERANCE["toto2"])
    record = json.loads((pooled / "config.json").read_text())
    batching = record["batching"]
    assert batching["mode"] == "pooled" and batching["shared_across_configs"] is True
    # per config there is one call per config and variate group here (every config holds < 64 contexts)
    assert batching["calls"] < 11 and 0 < batching["mean_fill"] <= 1
    assert json.loads((config / "config.json").read_text())["batching"]["shared_across_configs"] is False


def test_a_pooled_run_stopped_mid_way_keeps_finished_configs_and_resumes_to_the_same_rows(
    boom: dict[str, Path], tmp_path: Path
) -> None:
    from toto_bench.engine.runner import RunOptions, run_suite
    from toto_bench.suites import get_suite
    from toto_bench.suites.boom import BoomProperties

    suite = get_suite("boom", BoomProperties.from_json(boom["properties"]))

    class Flaky(PooledNaive):
        fail_at: ClassVar[int | None] = None
        made = 0

        def predict(self, contexts: list[np.ndarray], horizon: int, **kwargs: Any) -> QuantileForecast:
            Flaky.made += 1
            if Flaky.fail_at is not None and Flaky.made >= Flaky.fail_at:
                raise ValueError("simulated crash")
            return super().predict(contexts, horizon, **kwargs)

    def options(out: Path) -> RunOptions:
        return RunOptions(output_dir=out, data_dir=boom["root"], progress=False, settings={"x": 1})

    assert isinstance(Flaky(4), SharesBatches)
    full = run_suite(suite, "flaky", lambda: Flaky(4), options(tmp_path / "full"))
    total_calls = Flaky.made
    Flaky.made, Flaky.fail_at = 0, total_calls // 2
    with pytest.raises(RunError, match="simulated crash"):
        run_suite(suite, "flaky", lambda: Flaky(4), options(tmp_path / "cut"))
    journal = (tmp_path / "cut" / "boom" / "flaky").glob("journal*.jsonl")
    kept = sum(1 for path in journal for line in path.read_text().splitlines() if line.strip())
    assert 0 < kept < full.computed  # finished configs were committed before the crash
    Flaky.made, Flaky.fail_at = 0, None
    resumed = run_suite(suite, "flaky", lambda: Flaky(4), options(tmp_path / "cut"))
    assert resumed.skipped == kept and resumed.computed == full.computed - kept
    assert (tmp_path / "cut" / "boom" / "flaky" / "all_results.csv").read_bytes() == (
        full.results_csv.read_bytes()
    )
