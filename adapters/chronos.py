"""Chronos family: ``chronos-bolt-small``, ``chronos-bolt-base`` (univariate), ``chronos-2`` (multivariate).

Both adapters call the ``chronos-forecasting`` pipelines the way the official notebooks do
(docs/adapters.md §5, docs/boom_protocol.md §5; gift-eval ``notebooks/chronos.ipynb`` / ``chronos-2.ipynb``,
DataDog/toto ``boom/notebooks/chronos.ipynb`` / ``chronos2.ipynb``) and build the ``[n, V, H, 9]`` output
themselves:

Chronos-Bolt
    ``BaseChronosPipeline.from_pretrained(ckpt, device_map=device)`` then
    ``pipeline.predict(list_of_1d_float32_tensors, prediction_length)`` → ``(B, 9, H)`` at the pipeline's
    levels (checked to be 0.1..0.9), in chunks of ``batch_size`` = 1024 contexts, halved on out-of-memory.
    NaN gaps go to the pipeline unchanged (it masks them; left padding is NaN too); the model keeps the last
    ``chronos_config.context_length`` (2048) steps; ``H > 64`` is unrolled autoregressively by the pipeline.
    Each variate is its own series (the notebooks split multivariate data with ``to_univariate``).

Chronos-2
    ``BaseChronosPipeline.from_pretrained(ckpt, device_map=device, dtype="float32")`` then
    ``pipeline.predict_quantiles(inputs=[{"target": [V, t]}, ...], prediction_length,
    quantile_levels=0.1..0.9, batch_size=100, context_length=..., cross_learning=True)`` → list of
    ``(V, H, 9)``. ``cross_learning`` is what the notebooks pass as the deprecated alias
    ``predict_batches_jointly=True``; every suite's settings set it, while a model built without a suite keeps
    the pipeline's default (off, batch-independent). BOOM uses
    ``context_length=2048``; GIFT-Eval passes none, so the model default (8192) applies.

Neither notebook sorts the quantiles and neither keeps a mean (Chronos' "mean" is the median), so the outputs
are returned as the pipelines produce them, unsorted, with ``mean=None``.

**Cross-learning without leakage (Chronos-2).** With cross-learning every series in one pipeline batch (up to
``batch_size`` = 100 rows) attends to every other, so two windows of the same series in one batch would let
the earlier window see the later one's history, which contains its labels. The notebooks avoid this by
predicting each rolling-window index separately, window ``k`` of every series in dataset order
(``islice(test_data.input, k, None, W)``), and interleaving the results again. The adapter does the same
inside :meth:`Chronos2Forecaster.predict`: it splits the contexts it receives into *rounds* by window index
and makes one ``predict_quantiles`` call per round, in call order, so the pipeline's batches of 100 are the
notebook's batches. The window index of each context is

1. ``window_ids[i]`` when the caller passes it (preferred), else
2. inferred: contexts that are prefix views of one series array (``target[:, :cut]``, as the engine hands them
   out) start at the same memory address; a context's window index is the rank of its length among the
   contexts of its series. Contexts that share no memory count as distinct series (all window 0), so a caller
   passing *copies* of several windows of one series must pass ``window_ids``.

For the rounds to span the whole dataset (and so reproduce the notebook's batches exactly), the engine has to
hand over all contexts of a task in one call: ``Chronos2Forecaster.batch_size`` is ``None`` for that reason
(the pipeline's own batch size is ``pipeline_batch_size``). On out-of-memory the pipeline batch size of the
round halves and the round is redone, as in the notebooks; this changes the cross-learning groups, so every
halving is recorded in ``oom_events``.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import numpy as np

from toto_bench.adapters.base import QUANTILE_LEVELS, QuantileForecast
from toto_bench.adapters.common import (
    as_context,
    check_horizon,
    checkpoint_source,
    module_facts,
    offline_hint,
    require,
    resolve_device,
    run_in_batches,
)
from toto_bench.adapters.registry import ModelSpec, register

__all__ = [
    "BOLT_CHECKPOINTS",
    "CHRONOS2_CHECKPOINT",
    "CHRONOS2_PUBLISHED_SIZES",
    "Chronos2Forecaster",
    "ChronosBoltForecaster",
    "build_bolt_test_checkpoint",
    "build_chronos2_test_checkpoint",
    "chronos2_config",
    "infer_window_ids",
]

log = logging.getLogger("toto_bench.adapters.chronos")

#: Registered Chronos-Bolt models → published checkpoint ids.
BOLT_CHECKPOINTS: dict[str, str] = {
    "chronos-bolt-small": "amazon/chronos-bolt-small",
    "chronos-bolt-base": "amazon/chronos-bolt-base",
}
CHRONOS2_CHECKPOINT = "amazon/chronos-2"

#: Notebook settings. Bolt: batches of 1024 contexts (both suites). Chronos-2: pipeline batch 100 rows,
#: cross-learning, float32; BOOM truncates the context to 2048 steps, GIFT-Eval keeps the model's 8192.
BOLT_BATCH_SIZE = 1024
CHRONOS2_BATCH_SIZE = 100
CHRONOS2_BOOM_CONTEXT = 2048

_LEVELS: list[float] = list(QUANTILE_LEVELS)
_LONG_HORIZON_WARNING = "We recommend keeping prediction length"


# ----------------------------------------------------------------------------------------------------------
# Loading


def _looks_like_path(source: str) -> bool:
    """A checkpoint string that can only be a local folder (hub ids are ``name`` or ``owner/name``)."""
    return (
        os.path.isabs(source)
        or source.startswith((".", "~"))
        or source.count("/") > 1
        or (os.sep != "/" and os.sep in source)
    )


def _load_pipeline(
    checkpoint: str | os.PathLike[str] | None,
    default_id: str,
    *,
    device: str,
    dtype: str | None,
    expected: str,
) -> tuple[Any, str, str]:
    """Load a chronos pipeline the way a hub checkpoint is loaded: ``BaseChronosPipeline.from_pretrained``.

    Returns ``(pipeline, source, device)``. A hub id that is neither cached nor reachable raises ``OSError``
    naming the id and the pre-download command; a missing local folder raises ``FileNotFoundError``; a
    checkpoint of the other Chronos family raises ``ValueError``.
    """
    chronos = require("chronos", "chronos")
    require("torch", "chronos")
    source = checkpoint_source(checkpoint, default_id)
    local = Path(source).expanduser()
    if local.exists():
        if not local.is_dir():
            raise FileNotFoundError(f"checkpoint {source!r} is a file; pass the folder holding config.json")
        source = str(local)
    elif _looks_like_path(source):
        raise FileNotFoundError(f"checkpoint folder {source!r} does not exist")
    resolved = resolve_device(device)
    kwargs: dict[str, Any] = {"device_map": resolved}
    if dtype is not None:
        kwargs["dtype"] = dtype
    try:
        pipeline = chronos.BaseChronosPipeline.from_pretrained(source, **kwargs)
    except OSError as exc:
        if local.is_dir():
            raise  # a local folder with bad content: the library's own message is the precise one
        raise OSError(offline_hint(source, exc)) from exc
    if type(pipeline).__name__ != expected:
        raise ValueError(
            f"checkpoint {source!r} holds a {type(pipeline).__name__}, but this model needs a {expected}"
        )
    return pipeline, source, resolved


def _effective_context(requested: int | None, model_max: int, what: str) -> int:
    if requested is None:
        return model_max
    if requested < 1:
        raise ValueError(f"context_length must be >= 1 or None, got {requested}")
    if requested > model_max:
        log.warning(
            "%s: context_length %d exceeds the model's %d; using %d", what, requested, model_max, model_max
        )
        return model_max
    return requested


# ----------------------------------------------------------------------------------------------------------
# Chronos-Bolt


class ChronosBoltForecaster:
    """Chronos-Bolt through ``ChronosBoltPipeline.predict`` (univariate; see the module docstring).

    Args:
        name: registered model name.
        checkpoint: local folder or hub id; ``None`` loads ``default_checkpoint``.
        default_checkpoint: the published id of ``name``.
        device: ``auto`` | ``cpu`` | ``cuda`` | ``cuda:N``.
        batch_size: contexts per ``pipeline.predict`` call (1024 in the notebooks); halves on out-of-memory
            and stays halved.
        context_length: extra truncation below the model's own ``chronos_config.context_length``; ``None``
            (the notebooks) keeps the model's.
        dtype: ``None`` loads the checkpoint's dtype (the notebooks pass none), else ``float32``/``bfloat16``.
    """

    supports_multivariate: ClassVar[bool] = False

    def __init__(
        self,
        name: str = "chronos-bolt-small",
        checkpoint: str | os.PathLike[str] | None = None,
        *,
        default_checkpoint: str = BOLT_CHECKPOINTS["chronos-bolt-small"],
        device: str = "auto",
        batch_size: int = BOLT_BATCH_SIZE,
        context_length: int | None = None,
        dtype: str | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.name = name
        self.pipeline, self.checkpoint, self.device = _load_pipeline(
            checkpoint, default_checkpoint, device=device, dtype=dtype, expected="ChronosBoltPipeline"
        )
        levels = [float(q) for q in self.pipeline.quantiles]
        if len(levels) != len(_LEVELS) or not np.allclose(levels, _LEVELS, rtol=0, atol=1e-9):
            raise ValueError(f"{name}: the checkpoint predicts quantiles {levels}, expected {_LEVELS}")
        #: contexts per engine call and per pipeline call
        self.batch_size = batch_size
        self._chunk = batch_size
        self.context_length = _effective_context(
            context_length, int(self.pipeline.model_context_length), name
        )
        #: batch sizes the adapter halved to on out-of-memory
        self.oom_events: list[int] = []
        self._torch: ModuleType = require("torch", "chronos")
        self._warned_long = False

    def describe(self) -> dict[str, Any]:
        """What a run record should say about this model (the ``Describes`` hook of ``adapters.base``)."""
        module = self.pipeline.model
        step = int(self.pipeline.model_prediction_length)
        return {
            "name": self.name,
            "model_id": BOLT_CHECKPOINTS.get(self.name, self.checkpoint),
            "checkpoint": self.checkpoint,
            "device": self.device,
            "context_length": self.context_length,
            "decode_mode": f"quantile head, {step} steps per pass (longer horizons unrolled on the median)",
            "batch_size": self.batch_size,
            "seed": None,
            **module_facts(module),
            "oom_batch_sizes": list(self.oom_events),
        }

    def _on_halve(self, size: int) -> None:
        self._chunk = size
        self.oom_events.append(size)

    def _predict_chunk(self, rows: Sequence[np.ndarray], horizon: int) -> np.ndarray:
        """``rows``: 1-D float32 contexts → ``[len(rows), 9, H]`` float32 (the pipeline's layout)."""
        torch = self._torch
        tensors = [torch.tensor(row) for row in rows]
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_LONG_HORIZON_WARNING)
            out = self.pipeline.predict(tensors, prediction_length=horizon)
        return np.asarray(out.numpy(), dtype=np.float32)

    def batch_group(self, task: Any) -> tuple[()]:
        """Rows of any configs with the same horizon may share a pipeline call
        (:class:`~toto_bench.adapters.base.SharesBatches`): Bolt forecasts each row on its own (no
        cross-learning) and reads neither ``freq`` nor ``seasonality``."""
        return ()

    def predict(
        self, contexts: list[np.ndarray], horizon: int, *, freq: str, seasonality: int
    ) -> QuantileForecast:
        """Forecast ``n`` contexts, float32 ``[V, t_i]`` (NaN for gaps); each variate is its own series.

        Returns:
            ``QuantileForecast(quantiles [n, V, H, 9] float32, mean None)``, unsorted as the model emits them.
        """
        h = check_horizon(horizon)
        arrays = [as_context(c, i) for i, c in enumerate(contexts)]
        n_var = {a.shape[0] for a in arrays}
        if len(n_var) > 1:
            raise ValueError(f"all contexts of one call must have the same number of variates, got {n_var}")
        v = n_var.pop() if n_var else 1
        if h > int(self.pipeline.model_prediction_length) and not self._warned_long:
            log.info(
                "%s: horizon %d > %d, the pipeline unrolls autoregressively",
                self.name,
                h,
                self.pipeline.model_prediction_length,
            )
            self._warned_long = True
        # The pipeline left-pads with NaN and keeps the last context_length columns; truncating each row
        # first gives the identical tensor and copies less.
        rows = [row[-self.context_length :] for a in arrays for row in a]
        if not rows:
            return QuantileForecast(np.empty((0, v, h, len(_LEVELS)), dtype=np.float32))
        flat = run_in_batches(
            rows, self._chunk, lambda chunk: self._predict_chunk(chunk, h), on_halve=self._on_halve
        )
        quantiles = np.ascontiguousarray(flat.transpose(0, 2, 1)).reshape(len(arrays), v, h, len(_LEVELS))
        return QuantileForecast(quantiles=quantiles)


# ----------------------------------------------------------------------------------------------------------
# Chronos-2


def infer_window_ids(contexts: Sequence[np.ndarray]) -> list[int]:
    """Window index of each context within its series, for contexts handed out as prefix views.

    Contexts that start at the same memory address with the same leading shape, strides and dtype are
    prefixes of one series (``target[:, :cut]``); each one's index is the rank of its length among them
    (ties: call order). A context sharing its start with no other gets 0.

    Args:
        contexts: ``n`` arrays ``[V, t_i]``.
    Returns:
        ``n`` window indices.
    """
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, ctx in enumerate(contexts):
        arr = np.asarray(ctx)
        key: tuple[Any, ...] = (
            (
                arr.__array_interface__["data"][0],
                arr.shape[:-1],
                arr.strides[:-1],
                arr.dtype.str,
            )
            if arr.size
            else ("empty", i)
        )
        groups.setdefault(key, []).append(i)
    ids = [0] * len(contexts)
    for members in groups.values():
        for rank, i in enumerate(sorted(members, key=lambda j: (np.shape(contexts[j])[-1], j))):
            ids[i] = rank
    return ids


class Chronos2Forecaster:
    """Chronos-2 through ``Chronos2Pipeline.predict_quantiles`` (multivariate; see the module docstring).

    Args:
        name: registered model name.
        checkpoint: local folder or hub id; ``None`` loads ``amazon/chronos-2``.
        device: ``auto`` | ``cpu`` | ``cuda`` | ``cuda:N``.
        batch_size: the *pipeline's* batch size in rows (variates) — 100 in the notebooks; with
            cross-learning it is the group size, so it changes the forecasts. Exposed as
            ``pipeline_batch_size``; the engine-facing ``batch_size`` attribute is ``None`` (whole task in
            one call, see the module docstring).
        context_length: steps kept per context (BOOM 2048); ``None`` keeps the model's (8192, GIFT-Eval).
        cross_learning: share information across the series of a pipeline batch. ``False`` (the pipeline's
            default) forecasts every series on its own; the GIFT-Eval/BOOM/Boomlet suite settings set
            ``True``, as the notebooks do.
        dtype: model dtype (the notebooks load ``float32``).
    """

    supports_multivariate: ClassVar[bool] = True

    def __init__(
        self,
        name: str = "chronos-2",
        checkpoint: str | os.PathLike[str] | None = None,
        *,
        device: str = "auto",
        batch_size: int = CHRONOS2_BATCH_SIZE,
        context_length: int | None = None,
        cross_learning: bool = False,
        dtype: str | None = "float32",
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.name = name
        self.pipeline, self.checkpoint, self.device = _load_pipeline(
            checkpoint, CHRONOS2_CHECKPOINT, device=device, dtype=dtype, expected="Chronos2Pipeline"
        )
        #: ``None``: the engine hands over every context of a task at once (cross-learning rounds need it)
        self.batch_size: int | None = None
        self.pipeline_batch_size = batch_size
        self.cross_learning = bool(cross_learning)
        self.context_length = _effective_context(
            context_length, int(self.pipeline.model_context_length), name
        )
        #: ``(round index, halved pipeline batch size)`` for every out-of-memory retry
        self.oom_events: list[tuple[int, int]] = []
        self._torch: ModuleType = require("torch", "chronos")
        self._rounds = 0

    def describe(self) -> dict[str, Any]:
        """What a run record should say about this model (the ``Describes`` hook of ``adapters.base``).

        ``batch_size`` is the pipeline's (rows per cross-learning group); the engine hands over whole tasks.
        """
        module = self.pipeline.model
        joint = "cross-learning" if self.cross_learning else "each series alone"
        return {
            "name": self.name,
            "model_id": CHRONOS2_CHECKPOINT,
            "checkpoint": self.checkpoint,
            "device": self.device,
            "context_length": self.context_length,
            "decode_mode": f"quantile head, {joint}",
            "batch_size": self.pipeline_batch_size,
            "seed": None,
            **module_facts(module),
            "cross_learning": self.cross_learning,
            "oom_events": [list(e) for e in self.oom_events],
        }

    def _predict_round(self, arrays: Sequence[np.ndarray], horizon: int) -> np.ndarray:
        """One ``predict_quantiles`` call over ``arrays`` (``[V, t]`` each) → ``[len, V, H, 9]`` float32.

        Starts from ``pipeline_batch_size`` and halves on CUDA out-of-memory, redoing the whole round (the
        notebooks' loop).
        """
        torch = self._torch
        inputs = [{"target": a} for a in arrays]
        size = self.pipeline_batch_size
        round_index = self._rounds
        self._rounds += 1
        while True:
            try:
                with warnings.catch_warnings():
                    warnings.filterwarnings("ignore", message=_LONG_HORIZON_WARNING)
                    quantiles, _ = self.pipeline.predict_quantiles(
                        inputs=inputs,
                        prediction_length=horizon,
                        quantile_levels=_LEVELS,
                        batch_size=size,
                        context_length=self.context_length,
                        cross_learning=self.cross_learning,
                    )
                break
            except torch.cuda.OutOfMemoryError:
                if size == 1:
                    raise
                size = max(1, size // 2)
                log.warning("%s: out of memory, pipeline batch size halved to %d", self.name, size)
                self.oom_events.append((round_index, size))
                torch.cuda.empty_cache()
        return np.stack([q.numpy() for q in quantiles]).astype(np.float32, copy=False)

    def predict(
        self,
        contexts: list[np.ndarray],
        horizon: int,
        *,
        freq: str,
        seasonality: int,
        window_ids: Sequence[int] | None = None,
    ) -> QuantileForecast:
        """Forecast ``n`` contexts, float32 ``[V, t_i]`` (NaN for gaps), all variates jointly.

        Args:
            contexts: ``n`` contexts of one task, series-major (any order works; rounds keep call order).
            horizon: ``H``.
            window_ids: window index of each context within its series; inferred from shared memory when
                ``None`` (see :func:`infer_window_ids`). With cross-learning each index is one round.

        Returns:
            ``QuantileForecast(quantiles [n, V, H, 9] float32, mean None)``, unsorted as the model emits them.
        """
        h = check_horizon(horizon)
        if window_ids is not None and len(window_ids) != len(contexts):
            raise ValueError(f"window_ids has {len(window_ids)} entries for {len(contexts)} contexts")
        arrays = [as_context(c, i)[:, -self.context_length :] for i, c in enumerate(contexts)]
        n_var = {a.shape[0] for a in arrays}
        if len(n_var) > 1:
            raise ValueError(f"all contexts of one call must have the same number of variates, got {n_var}")
        v = n_var.pop() if n_var else 1
        out = np.empty((len(arrays), v, h, len(_LEVELS)), dtype=np.float32)
        if not arrays:
            return QuantileForecast(out)
        if self.cross_learning:
            ids = list(window_ids) if window_ids is not None else infer_window_ids(contexts)
        else:
            ids = [0] * len(arrays)  # no information flows between series: one call is the same
        rounds: dict[int, list[int]] = {}
        for i, w in enumerate(ids):
            rounds.setdefault(int(w), []).append(i)
        for w in sorted(rounds):
            members = rounds[w]
            out[members] = self._predict_round([arrays[i] for i in members], h)
        return QuantileForecast(quantiles=out)


# ----------------------------------------------------------------------------------------------------------
# Small random-init checkpoints (tests)

#: Tiny widths for the test checkpoints (the real models: d_model 512/768, 6-12 layers).
_D_MODEL, _D_FF, _D_KV, _HEADS, _LAYERS = 64, 128, 16, 4, 2
#: amazon/chronos-2's encoder sizes (119.5 M parameters; shared/docs/adapters.md §5), for
#: ``build_chronos2_test_checkpoint(folder, sizes=CHRONOS2_PUBLISHED_SIZES)``.
CHRONOS2_PUBLISHED_SIZES: Mapping[str, int] = {
    "d_model": 768,
    "d_ff": 3072,
    "d_kv": 64,
    "num_heads": 12,
    "num_layers": 12,
}


def _order_quantile_head(head: Any, n_quantiles: int, steps: int, spacing: float, torch: ModuleType) -> None:
    """Offset the output head's bias by quantile level so that a random model's quantiles do not cross.

    Both heads emit ``n_quantiles · steps`` values, quantile-major, in the scaled space (instance norm, plus
    arcsinh for Chronos-2), which the pipelines map back monotonically. With zero biases (the library's init)
    random weights give crossing quantiles that a trained model rarely emits; the offsets (``spacing`` per
    level, about ten standard deviations of the random part) make the test models behave like trained ones
    while every weight stays random.
    """
    offsets = spacing * (torch.arange(n_quantiles, dtype=torch.float32) - (n_quantiles - 1) / 2)
    with torch.no_grad():
        head.output_layer.bias.copy_(offsets.repeat_interleave(steps).to(head.output_layer.bias.dtype))


def build_bolt_test_checkpoint(folder: Path) -> Path:
    """A random-init Chronos-Bolt (T5 encoder-decoder, 2+2 layers, d_model 64) saved with ``save_pretrained``.

    The ``chronos_config`` is the published one (context 2048, 64-step head, patch 16, REG token, deciles), so
    truncation, patching and long-horizon unrolling behave as in the real models. Weights are seeded (0);
    the output head's bias is ordered by level (:func:`_order_quantile_head`).
    """
    require("chronos", "chronos")
    torch = require("torch", "chronos")
    from chronos.chronos_bolt import ChronosBoltModelForForecasting
    from transformers import T5Config

    # Built from a dict, as a hub config.json is read: T5Config's typed signature lacks the Chronos fields.
    config = T5Config.from_dict(
        {
            "d_model": _D_MODEL,
            "d_ff": _D_FF,
            "d_kv": _D_KV,
            "num_heads": _HEADS,
            "num_layers": _LAYERS,
            "num_decoder_layers": _LAYERS,
            "feed_forward_proj": "relu",
            "dropout_rate": 0.1,
            "layer_norm_epsilon": 1e-6,
            "initializer_factor": 0.05,
            "relative_attention_num_buckets": 32,
            "relative_attention_max_distance": 128,
            "decoder_start_token_id": 0,
            "pad_token_id": 0,
            "eos_token_id": 1,
            "vocab_size": 2,
            "is_encoder_decoder": True,
            "chronos_config": {
                "context_length": 2048,
                "prediction_length": 64,
                "input_patch_size": 16,
                "input_patch_stride": 16,
                "quantiles": _LEVELS,
                "use_reg_token": True,
            },
            "chronos_pipeline_class": "ChronosBoltPipeline",
            "architectures": ["ChronosBoltModelForForecasting"],
        }
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = ChronosBoltModelForForecasting(config)
    _order_quantile_head(model.output_patch_embedding, len(_LEVELS), 64, 1.0, torch)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    return folder


_CHRONOS2_QUANTILES = [0.01, 0.05, *(round(0.1 + 0.05 * i, 2) for i in range(17)), 0.95, 0.99]


def chronos2_config(sizes: Mapping[str, int] | None = None) -> Any:
    """A ``Chronos2CoreConfig``: the published ``chronos_config`` (context 8192, patch 16, 64 output patches,
    21 quantiles, arcsinh, REG token) with the small test encoder, or the encoder ``sizes`` given
    (``d_model``, ``d_ff``, ``d_kv``, ``num_heads``, ``num_layers``; :data:`CHRONOS2_PUBLISHED_SIZES`).
    """
    require("chronos", "chronos")
    from chronos.chronos2.config import Chronos2CoreConfig

    shape = {"d_model": _D_MODEL, "d_ff": _D_FF, "d_kv": _D_KV, "num_heads": _HEADS, "num_layers": _LAYERS}
    unknown = sorted(set(sizes or {}) - set(shape))
    if unknown:
        raise ValueError(f"unknown Chronos-2 size(s) {unknown}; valid: {sorted(shape)}")
    shape.update(sizes or {})
    return Chronos2CoreConfig(
        **shape,
        chronos_config={
            "context_length": 8192,
            "input_patch_size": 16,
            "input_patch_stride": 16,
            "output_patch_size": 16,
            "max_output_patches": 64,
            "quantiles": _CHRONOS2_QUANTILES,
            "use_reg_token": True,
            "use_arcsinh": True,
            "time_encoding_scale": 8192,
        },
        chronos_pipeline_class="Chronos2Pipeline",
        architectures=["Chronos2Model"],
    )


def build_chronos2_test_checkpoint(folder: Path, *, sizes: Mapping[str, int] | None = None) -> Path:
    """A random-init Chronos-2 (group-attention encoder, 2 layers, d_model 64) saved with ``save_pretrained``.

    ``sizes`` overrides the encoder sizes (:func:`chronos2_config`; :data:`CHRONOS2_PUBLISHED_SIZES` for the
    published model). Weights are seeded (0); the output head's bias is ordered by level
    (:func:`_order_quantile_head`).
    """
    torch = require("torch", "chronos")
    from chronos.chronos2 import Chronos2Model

    quantiles = _CHRONOS2_QUANTILES
    config = chronos2_config(sizes)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = Chronos2Model(config)
    # 21 levels: adjacent deciles are two levels apart, so 0.5 per level is 1.0 per decile
    _order_quantile_head(model.output_patch_embedding, len(quantiles), 16, 0.5, torch)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    return folder


# ----------------------------------------------------------------------------------------------------------
# Registration


def _bolt_factory(name: str) -> Callable[..., ChronosBoltForecaster]:
    """The registry factory of ``name``; its explicit signature lets the CLI validate overrides."""

    def factory(
        checkpoint: str | os.PathLike[str] | None = None,
        *,
        device: str = "auto",
        batch_size: int = BOLT_BATCH_SIZE,
        context_length: int | None = None,
        dtype: str | None = None,
    ) -> ChronosBoltForecaster:
        return ChronosBoltForecaster(
            name,
            checkpoint,
            default_checkpoint=BOLT_CHECKPOINTS[name],
            device=device,
            batch_size=batch_size,
            context_length=context_length,
            dtype=dtype,
        )

    factory.__name__ = f"build_{name.replace('-', '_')}"
    return factory


def _chronos2_factory(
    checkpoint: str | os.PathLike[str] | None = None,
    *,
    device: str = "auto",
    batch_size: int = CHRONOS2_BATCH_SIZE,
    context_length: int | None = None,
    cross_learning: bool = False,
    dtype: str | None = "float32",
) -> Chronos2Forecaster:
    return Chronos2Forecaster(
        "chronos-2",
        checkpoint,
        device=device,
        batch_size=batch_size,
        context_length=context_length,
        cross_learning=cross_learning,
        dtype=dtype,
    )


_BOLT_SETTINGS = {"batch_size": BOLT_BATCH_SIZE}
for _name, _ckpt in BOLT_CHECKPOINTS.items():
    register(
        ModelSpec(
            name=_name,
            factory=_bolt_factory(_name),
            family="chronos",
            checkpoint=_ckpt,
            description=(
                f"Chronos-Bolt {_name.rsplit('-', 1)[-1]} ({_ckpt}), univariate, pipeline.predict deciles"
            ),
            defaults=dict(_BOLT_SETTINGS),
            suite_settings={s: dict(_BOLT_SETTINGS) for s in ("gift-eval", "boom", "boomlet")},
            test_checkpoint=build_bolt_test_checkpoint,
        )
    )

#: Without a suite the model runs as the pipeline does by default (no cross-learning: forecasts do not depend
#: on the batch); every suite uses the notebooks' settings, cross-learning included.
_CHRONOS2_DEFAULTS: dict[str, Any] = {
    "batch_size": CHRONOS2_BATCH_SIZE,
    "cross_learning": False,
    "dtype": "float32",
}
_CHRONOS2_SETTINGS: dict[str, Any] = {**_CHRONOS2_DEFAULTS, "cross_learning": True}
register(
    ModelSpec(
        name="chronos-2",
        factory=_chronos2_factory,
        family="chronos",
        checkpoint=CHRONOS2_CHECKPOINT,
        description=(
            "Chronos-2 (amazon/chronos-2), multivariate, predict_quantiles with cross-learning per window "
            "index"
        ),
        defaults=dict(_CHRONOS2_DEFAULTS),
        suite_settings={
            "gift-eval": dict(_CHRONOS2_SETTINGS),
            "boom": {**_CHRONOS2_SETTINGS, "context_length": CHRONOS2_BOOM_CONTEXT},
            "boomlet": {**_CHRONOS2_SETTINGS, "context_length": CHRONOS2_BOOM_CONTEXT},
        },
        test_checkpoint=build_chronos2_test_checkpoint,
    )
)
