"""Toto 1.0 (Datadog/Toto-Open-Base-1.0) as the official BOOM and GIFT-Eval notebooks run it: ``toto1``.

Upstream path (DataDog/toto ``boom/notebooks/toto.ipynb``; GIFT-Eval ``notebooks/toto.ipynb`` as summarised in
docs/adapters.md §4): ``TotoPredictor.create_for_eval(model, H, context_length, Multivariate(...),
samples_per_batch)`` then ``predict(test_data, num_samples=S, use_kv_cache=True)``, which yields gluonts
``TotoSampleForecast`` objects scored as sample forecasts. Inside, per multivariate item ``[V, T]``:

1. gluonts ``AddObservedValuesIndicator`` with its default ``DummyValueImputation(0.0)``: NaN → 0, and those
   zeros are then treated as observed (the model only sees the padding mask);
2. ``InstanceSplitter(past_length=context_length)``: the last ``context_length`` steps, left-padded with
   zeros to exactly ``context_length``; padding is masked;
3. ``TotoForecaster.forecast(MaskedTimeseries(...), H, num_samples, samples_per_batch, use_kv_cache=True)``
   (left-pads again to a multiple of the 64-step patch); samples ``[S, H, V]``, and the forecast mean is
   ``samples.mean(-1)`` computed by torch (the "deterministic mean" of ``TotoSampleForecast``).

This adapter calls step 3 itself on exactly the inputs steps 1–2 build (timestamps are not used by the
model, so zeros are passed) and reduces the samples the way gluonts ``SampleForecast.quantile`` does
(:func:`~toto_bench.metrics.quantiles_from_samples`); the mean is the forecaster's own.

**Context length.** The padding length changes the forecast (time attention does not mask padding), so the
notebooks' ``context_length`` is reproduced per config by ``context_rule``:

* ``"first-window"`` (BOOM): ``min(context_length=2048, length of the config's first test input)``; every
  window of the config is then truncated/padded to it (BOOM's CSV records it: 2048 for 6781 configs, the
  first window's length for the rest);
* ``"shortest-train"`` (GIFT-Eval, per docs/adapters.md §4 — the notebook is not in the reference index):
  ``min(context_length=4096, shortest series − (W + 1)·H)`` (at least 1);
* ``"fixed"``: ``context_length`` for every window;
* ``"truncate"`` (the default outside the suites): ``min(context_length, t)`` per window, i.e. no padding
  beyond the context's own length (TotoForecaster still left-pads to a multiple of the patch).

The first two need the config, which :meth:`Toto1Forecaster.begin_task` provides (the engine should call it
at the start of every config); without it they fall back to ``"fixed"`` with a warning.

**Randomness.** Toto samples from its predictive mixture with torch's global generator. Upstream seeds once
per run (GIFT-Eval: 42; BOOM: not at all), so its sample paths depend on the batch composition and run order
and cannot be reproduced draw for draw. Here every window is forecast on its own under
``torch.manual_seed(window_seed(seed, context, H))`` (a hash of the seed, the horizon and the context bytes)
inside ``torch.random.fork_rng``: a window's forecast depends only on its own input and the settings — not on
batch size, order, or the caller's RNG state — and windows do not share random streams. After a CUDA
out-of-memory error ``samples_per_batch`` halves (as the notebooks), which changes the draws.

**Levels and MSIS.** The default ``quantile_levels`` are :data:`~toto_bench.metrics.quantiles.EVAL_LEVELS`
(0.025, 0.1…0.9, 0.975), and the GIFT-Eval/BOOM scorer scores a forecast at its own levels, so all 11 metrics
equal gluonts' scoring of the ``SampleForecast``: MSIS reads its 0.025/0.975 bounds from the samples as
gluonts does. Stored deciles alone (``quantile_levels=QUANTILE_LEVELS``) reproduce every metric except MSIS,
whose bounds a 9-level ``QuantileForecast`` extrapolates from the 0.1/0.2 and 0.8/0.9 deciles. TIME scores
the deciles selected from the forecast and LSF the median, so their numbers do not depend on the extra
levels.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from toto_bench.adapters import common
from toto_bench.adapters.base import QuantileForecast, TaskInfo
from toto_bench.adapters.registry import ModelSpec, register
from toto_bench.metrics.quantiles import EVAL_LEVELS, check_levels, quantiles_from_samples

__all__ = [
    "CHECKPOINT",
    "PUBLISHED_CONFIG",
    "TEST_CONFIG",
    "ContextRule",
    "Toto1Forecaster",
    "build_test_checkpoint",
    "load_toto1",
    "model_input",
    "window_seed",
]

log = logging.getLogger("toto_bench.adapters.toto1")

#: The published checkpoint (HF Hub id).
CHECKPOINT = "Datadog/Toto-Open-Base-1.0"

#: A small config of the real architecture for offline tests (Toto-Open-Base-1.0: embed_dim 768, 12 layers,
#: 12 heads, mlp 3072, 24 mixture components; patch, scaler, output distribution and flags as published).
TEST_CONFIG: dict[str, Any] = {
    "patch_size": 64,
    "stride": 64,
    "embed_dim": 32,
    "num_layers": 2,
    "num_heads": 2,
    "mlp_hidden_dim": 64,
    "dropout": 0.1,
    "spacewise_every_n_layers": 2,
    "spacewise_first": False,
    "scaler_cls": "<class 'model.scaler.CausalPatchStdMeanScaler'>",
    "output_distribution_classes": ["<class 'model.distribution.MixtureOfStudentTsOutput'>"],
    "output_distribution_kwargs": {"k_components": 24},
    "stabilize_with_global": True,
    "scale_factor_exponent": 10.0,
    "use_memory_efficient_attention": True,
}

#: The published Toto-Open-Base-1.0 sizes (151.3 M parameters, shared/docs/adapters.md §4) over
#: :data:`TEST_CONFIG`, for a real-shaped checkpoint: ``build_test_checkpoint(dir, config=PUBLISHED_CONFIG)``.
PUBLISHED_CONFIG: dict[str, Any] = {
    **TEST_CONFIG,
    "embed_dim": 768,
    "num_layers": 12,
    "num_heads": 12,
    "mlp_hidden_dim": 3072,
    "spacewise_every_n_layers": 12,
}

ContextRule = Literal["truncate", "fixed", "first-window", "shortest-train"]
_RULES: tuple[str, ...] = ("truncate", "fixed", "first-window", "shortest-train")


def _hub_errors() -> tuple[type[BaseException], ...]:
    from huggingface_hub import errors

    return (OSError, errors.EntryNotFoundError, errors.HFValidationError)


# ----------------------------------------------------------------------------------------------------------
# Checkpoint


def _checkpoint_dir(source: str) -> str:
    """The folder with ``config.json`` + ``model.safetensors``: ``source`` itself or its HF-cache snapshot."""
    if os.path.isdir(source):
        return source
    from huggingface_hub import hf_hub_download

    try:
        hf_hub_download(repo_id=source, filename="config.json")
        weights = hf_hub_download(repo_id=source, filename="model.safetensors")
    except _hub_errors() as exc:
        raise FileNotFoundError(common.offline_hint(source, exc)) from exc
    return os.path.dirname(weights)


def load_toto1(source: str, device: str) -> Any:
    """``Toto.load_from_checkpoint`` on a folder or hub id (``Toto.from_pretrained`` breaks on hub >= 1.0).

    Safetensors weights and ``config.json`` only; memory-efficient attention is switched off by the loader
    when xformers is missing. Returns the ``Toto`` module in eval mode on ``device``.
    """
    toto_mod = common.require("toto.model.toto", "toto1")
    folder = _checkpoint_dir(source)
    if not os.path.isfile(os.path.join(folder, "model.safetensors")):
        raise FileNotFoundError(
            common.offline_hint(source, FileNotFoundError(f"no model.safetensors in {folder}"))
        )
    model = toto_mod.Toto.load_from_checkpoint(folder, map_location=device)
    model.eval()
    return model


def build_test_checkpoint(directory: Path, *, seed: int = 0, config: Mapping[str, Any] = TEST_CONFIG) -> Path:
    """A random-init Toto 1.0 of ``config`` (default the small :data:`TEST_CONFIG`; :data:`PUBLISHED_CONFIG`
    for the published sizes) in the hub layout (safetensors + ``config.json``).

    Toto 1.0 has no ``save_pretrained`` of its own (``ModelHubMixin`` without ``_save_pretrained``); its
    published checkpoint is exactly these two files, written here with ``safetensors.torch.save_model``.
    """
    import json

    torch = common.require("torch", "toto1")
    toto_mod = common.require("toto.model.toto", "toto1")
    from safetensors.torch import save_model

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    build = {**config, "use_memory_efficient_attention": False}  # builds without xformers
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = toto_mod.Toto(**build)
    save_model(model, str(directory / "model.safetensors"))
    (directory / "config.json").write_text(json.dumps(dict(config), indent=2, sort_keys=True))
    return directory


# ----------------------------------------------------------------------------------------------------------
# Inputs and seeds


def model_input(context: np.ndarray, past_length: int) -> tuple[np.ndarray, np.ndarray]:
    """What the notebooks' gluonts transforms hand to ``TotoForecaster`` for one ``[V, t]`` context.

    Returns:
        ``series [V, past_length]`` float32 (last ``past_length`` steps, NaN → 0, left-padded with zeros) and
        ``observed [V, past_length]`` bool (False on the padding only).
    """
    arr = np.asarray(context, dtype=np.float32)
    n_var, length = arr.shape
    tail = arr[:, max(0, length - past_length) :]
    series = np.zeros((n_var, past_length), dtype=np.float32)
    observed = np.zeros((n_var, past_length), dtype=bool)
    series[:, past_length - tail.shape[1] :] = np.where(np.isnan(tail), np.float32(0), tail)
    observed[:, past_length - tail.shape[1] :] = True
    return series, observed


def window_seed(seed: int, context: np.ndarray, horizon: int) -> int:
    """A window's torch seed: 63-bit hash of ``seed``, ``horizon`` and the float32 context ``[V, t]``."""
    arr = np.ascontiguousarray(context, dtype=np.float32)
    digest = hashlib.blake2b(digest_size=8)
    digest.update(np.array([seed, horizon, *arr.shape], dtype=np.int64).tobytes())
    digest.update(arr.tobytes())
    return int.from_bytes(digest.digest(), "little") & (2**63 - 1)


def _is_oom(exc: BaseException) -> bool:
    return type(exc).__name__ == "OutOfMemoryError" or (
        isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()
    )


# ----------------------------------------------------------------------------------------------------------
# The adapter


class Toto1Forecaster:
    """Toto 1.0 (multivariate, sample-based) with the notebooks' predictor settings.

    Args:
        checkpoint: a folder or hub id (default :data:`CHECKPOINT`).
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
        batch_size: windows per ``predict`` call the engine makes (each window is sampled on its own).
        context_length: the notebooks' context cap (BOOM 2048, GIFT-Eval 4096).
        context_rule: how the per-config ``context_length`` is derived (module docstring).
        num_samples: sample paths per window (BOOM's published run: 256, its notebook default 128;
            GIFT-Eval 256).
        samples_per_batch: sample paths per forward (default ``num_samples``, as the notebooks); must divide
            ``num_samples``; halves on CUDA out-of-memory.
        seed: base seed of :func:`window_seed`.
        quantile_levels: levels returned, strictly ascending, the nine deciles or a superset (adapter
            contract). The default ``EVAL_LEVELS`` adds the MSIS bounds 0.025 / 0.975, which makes MSIS
            exact as well; ``QUANTILE_LEVELS`` returns the deciles only.
        use_kv_cache: the notebooks' ``use_kv_cache=True``.
        float32_matmul_precision: set around each forward on CUDA only (BOOM's notebook: ``"high"``, i.e.
            TF32); ``None`` leaves torch's setting alone.
    """

    supports_multivariate: ClassVar[bool] = True

    def __init__(
        self,
        checkpoint: str | os.PathLike[str] | None = None,
        *,
        device: str = "auto",
        batch_size: int = 16,
        context_length: int = 2048,
        context_rule: ContextRule = "truncate",
        num_samples: int = 256,
        samples_per_batch: int | None = None,
        seed: int = 42,
        quantile_levels: Sequence[float] = EVAL_LEVELS,
        use_kv_cache: bool = True,
        float32_matmul_precision: str | None = None,
        name: str = "toto1",
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if context_length < 1:
            raise ValueError(f"context_length must be >= 1, got {context_length}")
        if context_rule not in _RULES:
            raise ValueError(f"context_rule must be one of {_RULES}, got {context_rule!r}")
        if num_samples < 1:
            raise ValueError(f"num_samples must be >= 1, got {num_samples}")
        spb = num_samples if samples_per_batch is None else int(samples_per_batch)
        if spb < 1 or num_samples % spb:
            raise ValueError(f"samples_per_batch ({spb}) must be >= 1 and divide num_samples ({num_samples})")
        if float32_matmul_precision not in (None, "highest", "high", "medium"):
            raise ValueError(
                f"float32_matmul_precision must be highest/high/medium or None, got "
                f"{float32_matmul_precision!r}"
            )
        self.name = name
        self.batch_size = int(batch_size)
        self.context_length: int = int(context_length)
        self.context_rule: ContextRule = context_rule
        self.num_samples = int(num_samples)
        self.samples_per_batch = spb
        self.seed = int(seed)
        self.quantile_levels: tuple[float, ...] = check_levels(quantile_levels)
        self.use_kv_cache = bool(use_kv_cache)
        self.float32_matmul_precision = float32_matmul_precision
        self.device = common.resolve_device(device)
        self.checkpoint = common.checkpoint_source(checkpoint, CHECKPOINT)
        self._torch = common.require("torch", "toto1")
        self._dataset = common.require("toto.data.util.dataset", "toto1")
        forecaster_mod = common.require("toto.inference.forecaster", "toto1")
        self.model = load_toto1(self.checkpoint, self.device)
        self._forecaster = forecaster_mod.TotoForecaster(self.model.model)
        self._task_context: int | None = None
        self._warned_no_task = False

    def describe(self) -> dict[str, Any]:
        """What a run record should say about this model (the ``Describes`` hook of ``adapters.base``).

        ``checkpoint`` is the folder or hub id loaded (its folder and revision are found by the record);
        ``samples_per_batch`` is the current one (smaller after an out-of-memory halving).
        """
        return {
            "name": self.name,
            "model_id": CHECKPOINT,
            "checkpoint": self.checkpoint,
            "device": self.device,
            "context_length": self.context_length,
            "decode_mode": f"{self.num_samples} sample paths" + ("" if self.use_kv_cache else ", no cache"),
            "batch_size": self.batch_size,
            "seed": self.seed,
            **common.module_facts(self.model),
            "context_rule": self.context_rule,
            "num_samples": self.num_samples,
            "samples_per_batch": self.samples_per_batch,
            "quantile_levels": list(self.quantile_levels),
            "float32_matmul_precision": self.float32_matmul_precision,
        }

    # ------------------------------------------------------------------ per-config context
    def begin_task(self, task: TaskInfo, first_context_length: int | None = None) -> None:
        """Set the config's context length (call at the start of every config, before its ``predict`` calls).

        Args:
            task: the config (``prediction_length``, ``windows``, ``min_length`` are read).
            first_context_length: length of the config's first test input (first series, first window),
                needed by ``context_rule="first-window"``.
        """
        if self.context_rule in ("fixed", "truncate"):
            self._task_context = None
        elif self.context_rule == "first-window":
            if first_context_length is None or first_context_length < 1:
                raise ValueError("context_rule='first-window' needs first_context_length >= 1")
            self._task_context = min(self.context_length, int(first_context_length))
        else:
            shortest_train = task.min_length - (task.windows + 1) * task.prediction_length
            self._task_context = max(1, min(self.context_length, shortest_train))

    def past_length(self, length: int | None = None) -> int:
        """What a window of ``length`` steps is truncated / padded to (the notebooks' ``context_length``).

        Only ``context_rule="truncate"`` depends on ``length`` (``None``: the cap).
        """
        if self.context_rule == "truncate":
            return self.context_length if length is None else min(self.context_length, int(length))
        if self._task_context is not None:
            return self._task_context
        if self.context_rule != "fixed" and not self._warned_no_task:
            log.warning(
                "toto1: context_rule=%r needs begin_task() per config; using context_length=%d for every "
                "window instead",
                self.context_rule,
                self.context_length,
            )
            self._warned_no_task = True
        return self.context_length

    # ------------------------------------------------------------------ forecasting
    @contextlib.contextmanager
    def _scope(self, seed: int) -> Iterator[None]:
        torch = self._torch
        cuda = self.device.startswith("cuda")
        devices = [torch.device(self.device).index or 0] if cuda else []
        previous = torch.get_float32_matmul_precision()
        with torch.random.fork_rng(devices=devices), torch.no_grad():
            torch.manual_seed(seed)
            if cuda and self.float32_matmul_precision is not None:
                torch.set_float32_matmul_precision(self.float32_matmul_precision)
            try:
                yield
            finally:
                torch.set_float32_matmul_precision(previous)

    def _sample(
        self, series: np.ndarray, observed: np.ndarray, horizon: int, seed: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(samples [S, V, H], mean [V, H])`` float32 for one window's model input ``[V, L]``."""
        torch = self._torch
        x = torch.from_numpy(series)[None].to(self.device)
        mask = torch.from_numpy(observed)[None].to(self.device)
        inputs = self._dataset.MaskedTimeseries(
            series=x,
            padding_mask=mask,
            id_mask=torch.zeros_like(x, dtype=torch.int),
            timestamp_seconds=torch.zeros_like(x, dtype=torch.int),
            time_interval_seconds=torch.zeros(x.shape[:2], dtype=torch.int, device=x.device),
        )
        with self._scope(seed):
            out = self._forecaster.forecast(
                inputs,
                prediction_length=horizon,
                num_samples=self.num_samples,
                samples_per_batch=self.samples_per_batch,
                use_kv_cache=self.use_kv_cache,
            )
        samples = out.samples[0].permute(2, 0, 1).to(torch.float32).cpu().numpy()  # [V, H, S] → [S, V, H]
        mean = out.mean[0].to(torch.float32).cpu().numpy()
        return samples, mean

    def _smaller_samples_per_batch(self) -> int:
        target = self.samples_per_batch // 2
        return max(d for d in range(1, target + 1) if self.num_samples % d == 0)

    def forecast_window(self, context: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        """``(samples [S, V, H], mean [V, H])`` of one ``[V, t]`` context (full history, NaN for gaps)."""
        arr = common.as_context(context, 0)
        series, observed = model_input(arr, self.past_length(arr.shape[1]))
        seed = window_seed(self.seed, arr, horizon)
        while True:
            try:
                return self._sample(series, observed, horizon, seed)
            except Exception as exc:
                if not _is_oom(exc) or self.samples_per_batch == 1:
                    raise
                self.samples_per_batch = self._smaller_samples_per_batch()
                log.warning("out of memory: samples_per_batch halved to %d", self.samples_per_batch)
                if self.device.startswith("cuda"):
                    self._torch.cuda.empty_cache()

    def predict(
        self, contexts: list[np.ndarray], horizon: int, *, freq: str, seasonality: int
    ) -> QuantileForecast:
        """Forecast ``n`` contexts (float32 ``[V, t_i]``, same ``V``, full history, NaN for gaps).

        Returns ``QuantileForecast(quantiles [n, V, H, Q] float32, levels=quantile_levels,
        mean [n, V, H] float32)``: empirical quantiles of ``num_samples`` paths (gluonts ``SampleForecast``)
        and the forecaster's sample mean.
        """
        h = int(horizon)
        if h < 1:
            raise ValueError(f"horizon must be >= 1, got {horizon}")
        arrays = [common.as_context(c, i) for i, c in enumerate(contexts)]
        n_vars = {a.shape[0] for a in arrays}
        if len(n_vars) > 1:
            raise ValueError(
                f"all contexts of one call must have the same number of variates, got {sorted(n_vars)}"
            )
        n_var = n_vars.pop() if n_vars else 1
        levels = self.quantile_levels
        quantiles = np.empty((len(arrays), n_var, h, len(levels)), dtype=np.float32)
        mean = np.empty((len(arrays), n_var, h), dtype=np.float32)
        for i, arr in enumerate(arrays):
            samples, mean[i] = self.forecast_window(arr, h)
            quantiles[i] = quantiles_from_samples(samples[None], levels)[0]
        return QuantileForecast(quantiles, levels, mean)


# ----------------------------------------------------------------------------------------------------------
# Registration

_BOOM = {
    "context_length": 2048,
    "context_rule": "first-window",
    "num_samples": 256,
    "seed": 42,
    "float32_matmul_precision": "high",
}

register(
    ModelSpec(
        name="toto1",
        factory=Toto1Forecaster,
        family="toto1",
        checkpoint=CHECKPOINT,
        description=(
            "Toto 1.0 (Toto-Open-Base-1.0; multivariate; sample quantiles 0.025, 0.1..0.9, 0.975 + sample "
            "mean)"
        ),
        # Recorded in every run's settings (and so in the results key): the MSIS bounds are read, not
        # extrapolated, which changes MSIS.
        defaults={"quantile_levels": list(EVAL_LEVELS)},
        suite_settings={
            "boom": dict(_BOOM),
            "boomlet": dict(_BOOM),
            "gift-eval": {
                "context_length": 4096,
                "context_rule": "shortest-train",
                "num_samples": 256,
                "seed": 42,
            },
        },
        test_checkpoint=build_test_checkpoint,
    )
)
