"""TimesFM 2.5 (200M, PyTorch) as the official GIFT-Eval and BOOM notebooks run it: ``timesfm-2.5-200m``.

Upstream calls (SalesforceAIResearch/gift-eval ``notebooks/timesfm2p5.ipynb``; DataDog/toto
``boom/notebooks/timesfm2_5.ipynb`` as summarised in docs/adapters.md §7 and boom_protocol.md §5)::

    tfm = TimesFM_2p5_200M_torch.from_pretrained("google/timesfm-2.5-200m-pytorch", torch_compile=...)
    tfm.compile(ForecastConfig(max_context=..., max_horizon=..., normalize_inputs=True,
                               use_continuous_quantile_head=True, force_flip_invariance=True,
                               infer_is_positive=True, fix_quantile_crossing=True, return_backcast=False,
                               per_core_batch_size=...))
    _, full = tfm.forecast(horizon=H, inputs=[context_1d, ...])   # full: [n, H, 10]
    deciles = full[:, :H, 1:]                                     # column 0 is the mean: not stored

What this adapter reproduces, and how:

* **Inputs.** Each context is the full float32 history of one variate (NaN for gaps), handed to
  ``forecast`` as is: TimesFM itself strips leading NaNs, fills the others by linear interpolation (over the
  whole history, *before* truncating to ``max_context``) and left-pads with masked zeros. The one exception
  is an all-NaN context, which crashes TimesFM under numpy >= 2.2 (``bool`` of an empty array); under the
  notebooks' numpy 1.26 it became zeros of the same length, so it is replaced by zeros here.
* **max_context.** BOOM: 2048 for every call (``context_mode="fixed"``). GIFT-Eval: per predictor batch,
  ``min(15360, longest context of the batch rounded up to 32)`` (``context_mode="batch"``; the batch is one
  ``predict`` call, i.e. the engine's batch of ``batch_size`` contexts).
* **max_horizon.** BOOM compiles once per prediction length (``max_horizon=None`` → ``H``); GIFT-Eval
  uses 1024. TimesFM rounds it up to a multiple of 128.
* **Batching.** ``forecast`` pads the caller's list *in place* with dummy series up to a multiple of
  ``per_core_batch_size``. This adapter passes a fresh list per chunk of at most ``per_core_batch_size``
  contexts and compiles each chunk with exactly its size, so no dummy series are ever computed; a CUDA
  out-of-memory error halves the chunk (:func:`~toto_bench.adapters.common.run_in_batches`).
* **Output.** Quantiles ``[n, 1, H, 9]`` float32 (deciles, sorted: ``fix_quantile_crossing``); no mean (the
  notebooks store none, so the engine uses the median, like gluonts; BOOM's published
  ``MSE[mean] == MSE[0.5]`` for this model confirms it).

Exactness: what changes the numbers at all is the max_context (through the global normalisation over the
zero-padded context) and the decode batch composition, both only at float rounding level: positions are
counted from the first unmasked patch and padded patches are masked, so TimesFM is padding-invariant in exact
arithmetic. The adapter equals a direct ``compile`` + ``forecast`` call with the same settings bit for bit.

Offline tests: TimesFM 2.5 has one hard-coded architecture (231 M parameters). A checkpoint's ``config.json``
may carry ``{"timesfm_2p5_definition": {"num_layers": L, "model_dims": D, "num_heads": N}}``; the loader then
builds the same classes at that width and depth (the official definition with 20 → L, 1280 → D, 16 → N;
patch sizes, quantile heads and context limit unchanged) around the very same ``from_pretrained`` call. Hub
checkpoints have no such key and load the official definition. :func:`build_test_checkpoint` writes such a
small random-init checkpoint with TimesFM's own ``save_pretrained``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from toto_bench.adapters import common
from toto_bench.adapters.base import QUANTILE_LEVELS, QuantileForecast
from toto_bench.adapters.registry import ModelSpec, register

__all__ = [
    "CHECKPOINT",
    "DEFINITION_KEY",
    "TEST_DEFINITION",
    "ContextMode",
    "TimesFMForecaster",
    "build_test_checkpoint",
]

log = logging.getLogger("toto_bench.adapters.timesfm")

#: The published checkpoint (HF Hub id).
CHECKPOINT = "google/timesfm-2.5-200m-pytorch"
#: ``config.json`` key that declares a non-default (smaller) width/depth; see the module docstring.
DEFINITION_KEY = "timesfm_2p5_definition"
#: The width/depth of :func:`build_test_checkpoint` (about 1.5 M parameters instead of 231 M).
TEST_DEFINITION: dict[str, int] = {"num_layers": 2, "model_dims": 64, "num_heads": 4}

#: TimesFM 2.5 constants (``TimesFM_2p5_200M_Definition``): input patch, output patch, quantile head length,
#: context + horizon limit.
INPUT_PATCH = 32
OUTPUT_PATCH = 128
MAX_QUANTILE_HORIZON = 1024
CONTEXT_LIMIT = 16384

ContextMode = Literal["fixed", "batch"]

_HUB_ERRORS: tuple[type[BaseException], ...] = (OSError,)


def _hub_errors() -> tuple[type[BaseException], ...]:
    """Exceptions meaning "checkpoint not found / not reachable" (OSError + huggingface_hub's others)."""
    try:
        from huggingface_hub import errors
    except ImportError:  # pragma: no cover - huggingface_hub is a core dependency
        return _HUB_ERRORS
    return (OSError, errors.EntryNotFoundError, errors.HFValidationError)


# ----------------------------------------------------------------------------------------------------------
# Checkpoint loading


def _definition(sizes: Mapping[str, Any] | None) -> Any:
    """The ``TimesFM_2p5_200M_Definition`` for ``sizes`` (``None``: the official one)."""
    base = common.require("timesfm.timesfm_2p5.timesfm_2p5_base", "timesfm")
    official = base.TimesFM_2p5_200M_Definition()
    if sizes is None:
        return official
    unknown = set(sizes) - {"num_layers", "model_dims", "num_heads"}
    if unknown or not sizes:
        raise ValueError(f"{DEFINITION_KEY} takes num_layers, model_dims and num_heads, got {dict(sizes)!r}")
    xf = official.stacked_transformers.transformer
    layers = int(sizes.get("num_layers", official.stacked_transformers.num_layers))
    dims = int(sizes.get("model_dims", xf.model_dims))
    heads = int(sizes.get("num_heads", xf.num_heads))
    if layers < 1 or dims < 1 or heads < 1 or dims % heads or (dims // heads) % 2:
        raise ValueError(
            f"{DEFINITION_KEY}: need num_layers >= 1 and model_dims divisible by num_heads into an even "
            f"head size, got {dict(sizes)!r}"
        )
    replace = dataclasses.replace
    return replace(
        official,
        tokenizer=replace(official.tokenizer, hidden_dims=dims, output_dims=dims),
        stacked_transformers=replace(
            official.stacked_transformers,
            num_layers=layers,
            transformer=replace(xf, model_dims=dims, hidden_dims=dims, num_heads=heads),
        ),
        output_projection_point=replace(official.output_projection_point, input_dims=dims, hidden_dims=dims),
        output_projection_quantiles=replace(
            official.output_projection_quantiles, input_dims=dims, hidden_dims=dims
        ),
    )


@contextlib.contextmanager
def _module_definition(definition: Any) -> Iterator[None]:
    """Inside the block, ``TimesFM_2p5_200M_torch_module()`` builds ``definition`` (restored after)."""
    torch_mod = common.require("timesfm.timesfm_2p5.timesfm_2p5_torch", "timesfm")
    module_cls = torch_mod.TimesFM_2p5_200M_torch_module
    saved = module_cls.config
    module_cls.config = definition
    try:
        yield
    finally:
        module_cls.config = saved


def _checkpoint_config(source: str) -> dict[str, Any]:
    """``config.json`` of a local folder or of a hub checkpoint (empty when it has none)."""
    if os.path.isdir(source):
        path: str | None = os.path.join(source, "config.json")
    else:
        from huggingface_hub import hf_hub_download

        try:
            path = hf_hub_download(repo_id=source, filename="config.json")
        except _hub_errors():
            path = None  # from_pretrained below reports an unreachable checkpoint
    if path is None or not os.path.isfile(path):
        return {}
    with open(path, encoding="utf-8") as fh:
        config = json.load(fh)
    return config if isinstance(config, dict) else {}


def load_timesfm(source: str, device: str, torch_compile: bool) -> Any:
    """``TimesFM_2p5_200M_torch.from_pretrained(source)`` on ``device`` (a folder or a hub id).

    A ``config.json`` carrying :data:`DEFINITION_KEY` builds the same classes at that size (offline tests).
    Raises ``FileNotFoundError`` with :func:`~toto_bench.adapters.common.offline_hint` when the checkpoint is
    neither local nor reachable.
    """
    torch = common.require("torch", "timesfm")
    torch_mod = common.require("timesfm.timesfm_2p5.timesfm_2p5_torch", "timesfm")
    sizes = _checkpoint_config(source).get(DEFINITION_KEY)
    definition = _definition(sizes) if sizes is not None else None
    scope = _module_definition(definition) if definition is not None else contextlib.nullcontext()
    try:
        with scope:
            tfm = torch_mod.TimesFM_2p5_200M_torch.from_pretrained(source, torch_compile=torch_compile)
    except _hub_errors() as exc:
        raise FileNotFoundError(common.offline_hint(source, exc)) from exc
    module = tfm.model
    if definition is not None:
        module.config = definition  # instance attribute: compile() reads config.context_limit
    # The module picks cuda:0 (and every visible GPU for the batch padding) by itself; pin it instead.
    module.device = torch.device(device)
    module.device_count = 1
    module.to(module.device)
    module.eval()
    return tfm


def build_test_checkpoint(directory: Path, *, seed: int = 0) -> Path:
    """A small random-init TimesFM 2.5 checkpoint (:data:`TEST_DEFINITION`) saved with ``save_pretrained``.

    Returns ``directory`` (``model.safetensors`` + ``config.json``), loadable with ``checkpoint=directory``.
    """
    torch = common.require("torch", "timesfm")
    torch_mod = common.require("timesfm.timesfm_2p5.timesfm_2p5_torch", "timesfm")
    directory = Path(directory)
    with torch.random.fork_rng(devices=[]), _module_definition(_definition(TEST_DEFINITION)):
        torch.manual_seed(seed)
        tfm = torch_mod.TimesFM_2p5_200M_torch(torch_compile=False)
    tfm.save_pretrained(directory, config={DEFINITION_KEY: dict(TEST_DEFINITION)})
    return directory


# ----------------------------------------------------------------------------------------------------------
# The adapter


def _univariate(context: np.ndarray, index: int) -> np.ndarray:
    """``[1, t]`` (or ``[t]``) float context → 1-D float32; all-NaN → zeros (the notebooks' numpy 1.26)."""
    arr = np.asarray(context, dtype=np.float32)
    if arr.ndim == 2:
        if arr.shape[0] != 1:
            raise ValueError(
                f"context {index} has {arr.shape[0]} variates: timesfm-2.5-200m is univariate "
                "(the engine gives it one [1, t] context per variate)"
            )
        arr = arr[0]
    if arr.ndim != 1:
        raise ValueError(f"context {index} must be [1, t], got shape {np.shape(context)}")
    if arr.shape[0] == 0:
        raise ValueError(f"context {index} is empty (length 0)")
    if np.isnan(arr).all():
        return np.zeros_like(arr)
    return arr


class TimesFMForecaster:
    """TimesFM 2.5 200M (univariate) with the notebooks' ``ForecastConfig``.

    Args:
        checkpoint: a folder or hub id (default :data:`CHECKPOINT`).
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
        batch_size: contexts per ``predict`` call the engine makes (the notebooks' predictor batch:
            BOOM 256, GIFT-Eval 1024).
        context_length: ``max_context`` (``context_mode="fixed"``) or its cap (``"batch"``).
        context_mode: ``"fixed"`` (BOOM) or ``"batch"``: ``min(context_length, longest context of the call
            rounded up to 32)`` (GIFT-Eval).
        max_horizon: compiled horizon; ``None`` compiles for each call's ``H`` (BOOM); GIFT-Eval uses 1024.
            At most 1024 (continuous quantile head).
        per_core_batch_size: series per decode (default ``batch_size``); GIFT-Eval 128. BOOM's notebook left
            TimesFM's default of 1 (one series per decode), which only changes float rounding.
        torch_compile: wrap the forward in ``torch.compile`` (default: on CUDA only, as the notebooks).
    """

    supports_multivariate: ClassVar[bool] = False

    def __init__(
        self,
        checkpoint: str | os.PathLike[str] | None = None,
        *,
        device: str = "auto",
        batch_size: int = 256,
        context_length: int = 2048,
        context_mode: ContextMode = "fixed",
        max_horizon: int | None = None,
        per_core_batch_size: int | None = None,
        torch_compile: bool | None = None,
        name: str = "timesfm-2.5-200m",
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if per_core_batch_size is not None and per_core_batch_size < 1:
            raise ValueError(f"per_core_batch_size must be >= 1, got {per_core_batch_size}")
        if context_mode not in ("fixed", "batch"):
            raise ValueError(f"context_mode must be 'fixed' or 'batch', got {context_mode!r}")
        if not 1 <= context_length <= CONTEXT_LIMIT - OUTPUT_PATCH:
            raise ValueError(
                f"context_length must be in [1, {CONTEXT_LIMIT - OUTPUT_PATCH}], got {context_length}"
            )
        if max_horizon is not None and not 1 <= max_horizon <= MAX_QUANTILE_HORIZON:
            raise ValueError(f"max_horizon must be in [1, {MAX_QUANTILE_HORIZON}] or None, got {max_horizon}")
        self.name = name
        self.batch_size = int(batch_size)
        self.context_length: int = int(context_length)
        self.context_mode: ContextMode = context_mode
        self.max_horizon = max_horizon
        self.per_core_batch_size = int(per_core_batch_size or batch_size)
        self.device = common.resolve_device(device)
        self.torch_compile = self.device.startswith("cuda") if torch_compile is None else bool(torch_compile)
        self.checkpoint = common.checkpoint_source(checkpoint, CHECKPOINT)
        self._torch = common.require("torch", "timesfm")
        self._configs = common.require("timesfm.configs", "timesfm")
        self.model = load_timesfm(self.checkpoint, self.device, self.torch_compile)
        self._compiled: tuple[int, int, int] | None = None

    def describe(self) -> dict[str, Any]:
        """What a run record should say about this model (the ``Describes`` hook of ``adapters.base``)."""
        module = self.model.model
        return {
            "name": self.name,
            "model_id": CHECKPOINT,
            "checkpoint": self.checkpoint,
            "device": self.device,
            "context_length": self.context_length,
            "decode_mode": "continuous quantile head, flip invariance, quantile crossing fixed",
            "batch_size": self.batch_size,
            "seed": None,
            **common.module_facts(module),
            "context_mode": self.context_mode,
            "max_horizon": self.max_horizon,
            "per_core_batch_size": self.per_core_batch_size,
            "torch_compile": self.torch_compile,
        }

    # ------------------------------------------------------------------ settings
    def batch_group(self, task: Any) -> tuple[()] | None:
        """With ``context_mode="fixed"`` (BOOM) contexts of any configs with the same horizon may share a call
        (:class:`~toto_bench.adapters.base.SharesBatches`); with ``"batch"`` (GIFT-Eval) the longest context
        of a call sets everyone's ``max_context``, so each config keeps its own calls (``None``)."""
        return () if self.context_mode == "fixed" else None

    def max_context(self, contexts: Sequence[np.ndarray]) -> int:
        """The ``max_context`` a call with these contexts compiles (a multiple of 32)."""
        if self.context_mode == "fixed":
            return math.ceil(self.context_length / INPUT_PATCH) * INPUT_PATCH
        longest = max((int(np.shape(c)[-1]) for c in contexts), default=1)
        return min(self.context_length, math.ceil(longest / INPUT_PATCH) * INPUT_PATCH)

    def _compile(self, max_context: int, max_horizon: int, per_core: int) -> None:
        key = (max_context, max_horizon, per_core)
        if self._compiled == key:
            return
        self.model.compile(
            self._configs.ForecastConfig(
                max_context=max_context,
                max_horizon=max_horizon,
                normalize_inputs=True,
                use_continuous_quantile_head=True,
                force_flip_invariance=True,
                infer_is_positive=True,
                fix_quantile_crossing=True,
                return_backcast=False,
                per_core_batch_size=per_core,
            )
        )
        self._compiled = key

    # ------------------------------------------------------------------ forecasting
    def predict(
        self, contexts: list[np.ndarray], horizon: int, *, freq: str, seasonality: int
    ) -> QuantileForecast:
        """Forecast ``n`` univariate contexts (float32 ``[1, t_i]``, full history, NaN for gaps).

        Returns ``QuantileForecast(quantiles [n, 1, H, 9] float32, mean=None)``.
        """
        h = int(horizon)
        if h < 1:
            raise ValueError(f"horizon must be >= 1, got {horizon}")
        max_horizon = self.max_horizon if self.max_horizon is not None else h
        if h > max_horizon:
            raise ValueError(f"horizon {h} exceeds max_horizon {max_horizon}")
        if max_horizon > MAX_QUANTILE_HORIZON:
            raise ValueError(
                f"horizon {h} > {MAX_QUANTILE_HORIZON}: TimesFM 2.5's continuous quantile head (which the "
                "notebooks use) stops at 1024 steps"
            )
        series = [_univariate(c, i) for i, c in enumerate(contexts)]
        if not series:
            return QuantileForecast(np.empty((0, 1, h, len(QUANTILE_LEVELS)), dtype=np.float32))
        max_context = self.max_context(series)
        compiled_horizon = math.ceil(max_horizon / OUTPUT_PATCH) * OUTPUT_PATCH
        if max_context + compiled_horizon > CONTEXT_LIMIT:
            raise ValueError(
                f"max_context {max_context} + max_horizon {compiled_horizon} > {CONTEXT_LIMIT} (TimesFM)"
            )

        def run_chunk(chunk: Sequence[np.ndarray]) -> np.ndarray:
            self._compile(max_context, max_horizon, len(chunk))
            with self._torch.no_grad():
                _, full = self.model.forecast(horizon=h, inputs=list(chunk))  # a fresh list: padded in place
            return np.asarray(full[:, :h, 1:], dtype=np.float32)

        quantiles = common.run_in_batches(series, self.per_core_batch_size, run_chunk)
        return QuantileForecast(np.ascontiguousarray(quantiles[:, None]))


# ----------------------------------------------------------------------------------------------------------
# Registration

_BOOM = {
    "context_length": 2048,
    "context_mode": "fixed",
    "max_horizon": None,
    "batch_size": 256,
    "per_core_batch_size": 256,
}

register(
    ModelSpec(
        name="timesfm-2.5-200m",
        factory=TimesFMForecaster,
        family="timesfm",
        checkpoint=CHECKPOINT,
        description=("TimesFM 2.5 200M (univariate; the notebooks' ForecastConfig; deciles, no mean)"),
        suite_settings={
            "boom": dict(_BOOM),
            "boomlet": dict(_BOOM),
            "gift-eval": {
                "context_length": 15360,
                "context_mode": "batch",
                "max_horizon": 1024,
                "batch_size": 1024,
                "per_core_batch_size": 128,
            },
        },
        test_checkpoint=build_test_checkpoint,
    )
)
