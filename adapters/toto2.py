"""Toto 2.0 (PyPI ``toto-2``, module ``toto2``): ``toto2-4m``, ``toto2-22m``, ``toto2-313m``, ``toto2-1b``,
``toto2-2.5b``.

The adapter reproduces what the official notebooks do (DataDog/toto ``boom/notebooks/toto2.ipynb``,
SalesforceAIResearch/gift-eval ``notebooks/toto_2_0.ipynb``; shared/docs/boom_protocol.md §5.1), but calls the
model's lowest-level ``Toto2Model.forecast`` itself instead of going through ``Toto2GluonTSModel``'s gluonts
predictor. Per context ``[V, t]`` and horizon ``H`` (patch size ``p``, context budget ``C``):

1. past length ``P = max(p, floor((C - (ceil(H/p) - 1)·p) / p)·p)`` — the budget covers context + horizon
   minus one patch, so long horizons see a shorter context (gluonts ``TFTInstanceSplitter`` in the wrapper);
2. the last ``P`` steps are taken; a shorter context is left-padded with zeros marked as padding;
3. NaNs are forward-filled along time over the *whole* history (the wrapper's ``ffill`` imputation in
   gluonts ``AddObservedValuesIndicator``; leading NaNs become 0) and marked unobserved;
4. ``target_mask = observed & ~is_pad``, ``series_ids = 0`` for every variate (the variates of one item attend
   to each other);
5. ``forecast(inputs, H, decode_block_size=None, has_missing_values=True, scaler_fallback_min_obs=8,
   quantile_real_cap_k=1e4)`` returns ``[9, B, V, H]`` (sorted along the quantile axis), which becomes
   ``[B, V, H, 9]``. No mean is produced: the median stands in for it, as in the notebooks.

Building the outputs here also avoids the wrapper's multivariate bug (it hands gluonts ``[9, V, H]`` arrays
where ``[9, H, V]`` are expected; shared/docs/adapters.md §3).

Weights are loaded once, as float32 safetensors only (``huggingface_hub.load_torch_model`` with its safe
defaults; a checkpoint without ``*.safetensors`` is refused). Inference runs under
``torch.inference_mode``; on CUDA ``torch.set_float32_matmul_precision("high")`` is set as in the BOOM
notebook. A batch that runs out of memory is halved (:func:`~toto_bench.adapters.common.run_in_batches`)
and the smaller size sticks.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from toto_bench.adapters.base import QUANTILE_LEVELS, QuantileForecast
from toto_bench.adapters.common import (
    checkpoint_source,
    module_facts,
    offline_hint,
    require,
    resolve_device,
    run_in_batches,
)
from toto_bench.adapters.registry import ModelSpec, register

__all__ = [
    "BOOM_SETTINGS",
    "CHECKPOINTS",
    "GIFT_EVAL_SETTINGS",
    "OFFICIAL_4M_CONFIG",
    "QUANTILE_REAL_CAP_K",
    "SCALER_FALLBACK_MIN_OBS",
    "SIZED_313M_CONFIG",
    "TINY_TEST_CONFIG",
    "Toto2Forecaster",
    "build_test_checkpoint",
    "past_length",
    "prepare_inputs",
    "save_random_checkpoint",
]

FAMILY = "toto2"

#: Registered size → Hugging Face checkpoint id (DataDog/toto ``toto2/README.md``).
CHECKPOINTS: dict[str, str] = {
    "4m": "Datadog/Toto-2.0-4m",
    "22m": "Datadog/Toto-2.0-22m",
    "313m": "Datadog/Toto-2.0-313m",
    "1b": "Datadog/Toto-2.0-1B",
    "2.5b": "Datadog/Toto-2.0-2.5B",
}

#: ``Toto2GluonTSModelConfig`` defaults used by both notebooks (nothing is overridden there).
SCALER_FALLBACK_MIN_OBS = 8
QUANTILE_REAL_CAP_K = 1e4

#: BOOM notebook: ``CONTEXT_LENGTH=2048``, ``create_predictor(batch_size=64)``, single-pass decoding,
#: ``evaluate_model(..., allow_nan_forecast=True)`` (the last one is a run option, see the registration).
BOOM_SETTINGS: Mapping[str, Any] = {"context_length": 2048, "batch_size": 64, "decode_block_size": None}
#: GIFT-Eval notebook: ``context_length=4096``, ``create_predictor(batch_size=512)``,
#: ``allow_nan_forecast=False``.
GIFT_EVAL_SETTINGS: Mapping[str, Any] = {"context_length": 4096, "batch_size": 512, "decode_block_size": None}

#: ``huggingface.co/Datadog/Toto-2.0-4m/blob/main/config.json`` (4.14 M parameters;
#: shared/docs/adapters.md §3).
#: ``residual_attn_ratio`` = sqrt(S / ln S) with S = 4096 / 32.
OFFICIAL_4M_CONFIG: Mapping[str, Any] = {
    "patch_size": 32,
    "d_model": 256,
    "d_ff": 688,
    "num_heads": 4,
    "num_groups": 4,
    "qk_dim": 64,
    "v_dim": 64,
    "num_layers": 4,
    "layer_group_size": 4,
    "num_variate_layers_per_group": 1,
    "variate_layer_first": False,
    "attn_bias": True,
    "mlp_bias": False,
    "qk_norm": False,
    "per_dim_scale": True,
    "use_xpos": True,
    "norm_eps": 1e-4,
    "residual_mult": 0.75,
    "residual_attn_ratio": math.sqrt(128 / math.log(128)),
}

#: The 4m architecture widened and deepened to the published 313m **parameter count** (312.7 M; the README
#: table says 313M, the f32 file is 1.2 GB): d_model 1024, 16 heads of 64, 24 layers in groups of 4 (one
#: variate layer per group), default ``d_ff`` (2728). The published 313m ``config.json`` is not available
#: offline (shared/docs/adapters.md §3): this is a stand-in of the right size for timing and memory, not
#: the published layout; use the real ``config.json`` where it is at hand.
SIZED_313M_CONFIG: Mapping[str, Any] = {
    **{k: v for k, v in OFFICIAL_4M_CONFIG.items() if k != "d_ff"},
    "d_model": 1024,
    "num_heads": 16,
    "num_groups": 16,
    "qk_dim": 64,
    "v_dim": 64,
    "num_layers": 24,
}

#: The same architecture, narrower and shallower, for fast offline tests (one time and one variate layer).
TINY_TEST_CONFIG: Mapping[str, Any] = {
    **OFFICIAL_4M_CONFIG,
    "d_model": 32,
    "d_ff": 64,
    "num_heads": 2,
    "num_groups": 2,
    "qk_dim": 16,
    "v_dim": 16,
    "num_layers": 2,
    "layer_group_size": 2,
}

_WEIGHT_PATTERNS = ("config.json", "*.safetensors", "model.safetensors.index.json")


def past_length(context_length: int, horizon: int, patch_size: int) -> int:
    """The context length ``P`` the notebook's instance splitter gives the model for ``horizon``.

    ``P = max(p, floor((C - (ceil(H/p) - 1)·p) / p)·p)``: the budget ``C`` covers the context and the
    horizon rounded up to whole patches, minus one patch, and ``P`` is a positive multiple of ``p``.
    """
    if context_length < 1 or horizon < 1 or patch_size < 1:
        raise ValueError(
            "context_length, horizon and patch_size must be >= 1, "
            f"got {context_length}, {horizon}, {patch_size}"
        )
    budget = context_length - (math.ceil(horizon / patch_size) - 1) * patch_size
    return max(patch_size, (budget // patch_size) * patch_size)


def _last_observed(prefix: np.ndarray) -> np.ndarray:
    """``[V]`` float32: the last non-NaN value of each row of ``prefix [V, s]`` (0 for a row without one)."""
    carry = np.zeros(prefix.shape[0], dtype=np.float32)
    for v in range(prefix.shape[0]):
        observed = np.flatnonzero(~np.isnan(prefix[v]))
        if observed.size:
            carry[v] = prefix[v, observed[-1]]
    return carry


def prepare_inputs(contexts: Sequence[np.ndarray], past: int) -> tuple[np.ndarray, np.ndarray]:
    """The notebook pipeline's model inputs for a batch of contexts.

    Args:
        contexts: ``n`` float arrays ``[V, t_i]`` (same ``V``; full history, NaN for missing values).
        past: the model context length ``P`` (see :func:`past_length`).

    Returns:
        ``target [n, V, P]`` float32 — the last ``P`` steps, forward-filled over the whole history (leading
        NaNs → 0), left-padded with 0 — and ``target_mask [n, V, P]`` bool, True where a value was observed
        (not NaN and not padding).
    """
    if not contexts:
        raise ValueError("no contexts to forecast")
    first = np.shape(contexts[0])
    n_var = first[0] if len(first) == 2 else 0
    target = np.zeros((len(contexts), n_var, past), dtype=np.float32)
    starts = np.empty(len(contexts), dtype=np.int64)  # first non-padding position of each row
    for i, context in enumerate(contexts):
        arr = np.asarray(context)
        if arr.ndim != 2 or arr.shape[0] != n_var or len(first) != 2:
            raise ValueError(
                f"context {i} has shape {arr.shape}; every context of a batch must be [V, t] with the same V "
                f"(context 0 is {first})"
            )
        keep = min(arr.shape[1], past)
        starts[i] = past - keep
        if keep:
            target[i, :, past - keep :] = arr[:, arr.shape[1] - keep :]  # cast to float32 (AsNumpyArray)
    positions = np.arange(past, dtype=np.int32)
    mask = np.broadcast_to(positions >= starts[:, None, None], target.shape).copy()  # not padding
    missing = np.isnan(target)
    rows = missing.any(axis=-1)  # [n, V]
    if rows.any():
        mask &= ~missing
        # Forward fill along time (only the rows with a NaN) with a carry-in: column 0 of `extended` holds
        # the last observed value before the window (0 when there is none, like the wrapper's fillna(0)).
        # Padding is 0 and counts as a value: the wrapper gives a leading NaN of a series shorter than P 0.
        carry = np.zeros(target.shape[:2], dtype=np.float32)
        for row in np.flatnonzero(missing[:, :, 0].any(axis=1) & (starts == 0)).tolist():
            arr = np.asarray(contexts[row], dtype=np.float32)
            carry[row] = _last_observed(arr[:, : arr.shape[1] - past])
        extended = np.concatenate([carry[rows][:, None], target[rows]], axis=-1)  # [r, 1 + P]
        source = np.where(missing[rows], 0, positions + 1)
        np.maximum.accumulate(source, axis=-1, out=source)
        target[rows] = np.take_along_axis(extended, source, axis=-1)
    return target, mask


def _config_object(toto2: Any, config: Mapping[str, Any]) -> Any:
    known = {f.name for f in dataclasses.fields(toto2.Toto2ModelConfig)}
    unknown = sorted(set(config) - known)
    if unknown:
        raise ValueError(f"unknown Toto2ModelConfig field(s) {unknown}; valid: {sorted(known)}")
    return toto2.Toto2ModelConfig(**config)


def save_random_checkpoint(
    folder: str | os.PathLike[str], config: Mapping[str, Any] = OFFICIAL_4M_CONFIG, *, seed: int = 0
) -> Path:
    """Build a randomly initialised ``Toto2Model`` of ``config`` and save it with its own ``save_pretrained``.

    The folder then holds ``config.json`` + ``model.safetensors`` exactly like a hub checkpoint, and loads
    through the same path (``--checkpoint DIR``, or a Hugging Face cache snapshot).
    """
    torch = require("torch", FAMILY)
    toto2 = require("toto2", FAMILY)
    cfg = _config_object(toto2, config)
    generator_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        model = toto2.Toto2Model(cfg)
    finally:
        torch.random.set_rng_state(generator_state)
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path, config=dataclasses.asdict(cfg))
    return path


def build_test_checkpoint(folder: Path) -> Path:
    """The registry's test checkpoint: :data:`TINY_TEST_CONFIG` with random weights, saved in ``folder``."""
    return save_random_checkpoint(folder, TINY_TEST_CONFIG, seed=0)


def _positive(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


class Toto2Forecaster:
    """A Toto 2.0 checkpoint behind the :class:`~toto_bench.adapters.base.Forecaster` interface.

    Args:
        checkpoint: a local folder with ``config.json`` + ``*.safetensors`` (``--checkpoint DIR``); default:
            ``checkpoint_id`` from the Hugging Face cache / Hub.
        checkpoint_id: the published checkpoint (``Datadog/Toto-2.0-<size>``).
        name: the registered model name.
        context_length: the notebook's ``context_length`` budget ``C`` (context + horizon, see
            :func:`past_length`): 2048 for BOOM, 4096 for GIFT-Eval.
        batch_size: contexts per forward pass (64 BOOM, 512 GIFT-Eval); halves on out-of-memory.
        decode_block_size: ``None`` (or 0) = one forward pass for the whole horizon, as every leaderboard
            result; a multiple of the patch size = block decoding with a KV cache and median feedback.
        device: ``auto`` (CUDA when visible), ``cpu``, ``cuda`` or ``cuda:N``.
        revision: hub revision (branch, tag or commit) when loading ``checkpoint_id``.
    """

    supports_multivariate: ClassVar[bool] = True

    def __init__(
        self,
        checkpoint: str | os.PathLike[str] | None = None,
        *,
        checkpoint_id: str = CHECKPOINTS["4m"],
        name: str = "toto2-4m",
        context_length: int = 4096,
        batch_size: int = 512,
        decode_block_size: int | None = None,
        device: str = "auto",
        revision: str | None = None,
    ) -> None:
        self.name = name
        self.context_length: int | None = _positive("context_length", context_length)
        self.batch_size = _positive("batch_size", batch_size)
        self.torch = require("torch", FAMILY)
        self.toto2 = require("toto2", FAMILY)
        self.device = resolve_device(device)
        if self.device.startswith("cuda"):
            self.torch.set_float32_matmul_precision("high")  # as the BOOM notebook
        self.checkpoint_id = checkpoint_id
        self.folder, self.revision = self._resolve(checkpoint, revision)
        self.model = self.toto2.Toto2Model.from_pretrained(str(self.folder), map_location=self.device)
        self.model.to(self.device).eval()
        self.patch_size = int(self.model.config.patch_size)
        if decode_block_size is not None and decode_block_size != 0:
            block = _positive("decode_block_size", decode_block_size)
            if block % self.patch_size:
                raise ValueError(
                    f"decode_block_size must be a multiple of the patch size {self.patch_size} "
                    f"(or 0/None for one forward pass), got {decode_block_size}"
                )
            self.decode_block_size: int | None = block
        else:
            self.decode_block_size = None
        self.batch_size_halvings: list[int] = []

    def _resolve(
        self, checkpoint: str | os.PathLike[str] | None, revision: str | None
    ) -> tuple[Path, str | None]:
        """The local folder holding the weights, and the hub revision (commit) when it came from the hub."""
        source = checkpoint_source(checkpoint, self.checkpoint_id)
        if checkpoint is not None:
            folder = Path(source).expanduser()
            if not folder.is_dir():
                raise FileNotFoundError(
                    f"--checkpoint {source}: not a directory. Expected a folder with config.json and "
                    f"model.safetensors, e.g. from `hf download {self.checkpoint_id} "
                    "--local-dir DIR`."
                )
            rev = None
        else:
            hub = require("huggingface_hub", FAMILY)
            try:
                folder = Path(
                    hub.snapshot_download(
                        repo_id=self.checkpoint_id, revision=revision, allow_patterns=list(_WEIGHT_PATTERNS)
                    )
                )
            except Exception as exc:  # offline, unknown repo, network: all end in the same advice
                raise FileNotFoundError(offline_hint(self.checkpoint_id, exc, revision)) from exc
            rev = folder.name  # snapshots/<commit>
        if not (folder / "config.json").is_file():
            raise FileNotFoundError(
                f"checkpoint {folder} has no config.json (a Toto 2.0 checkpoint holds one)"
            )
        if not any(folder.glob("*.safetensors")):
            present = sorted(p.name for p in folder.iterdir())
            raise FileNotFoundError(
                f"checkpoint {folder} has no *.safetensors weights (files: {present}); only safetensors "
                "checkpoints are loaded (no pickle)"
            )
        return folder, rev

    def describe(self) -> dict[str, Any]:
        """What a run record should say about this model (checkpoint, revision, device, dtype, decoding).

        ``revision`` is the hub commit (the snapshot folder's name) when loaded from the hub, else None;
        ``batch_size`` is the current one (smaller after an out-of-memory halving, listed in
        ``batch_size_halvings``). See :func:`toto_bench.engine.record.describe_model` for the keys.
        """
        block = self.decode_block_size
        return {
            "name": self.name,
            "checkpoint_id": self.checkpoint_id,
            "checkpoint": self.checkpoint_id if self.revision is not None else str(self.folder),
            "checkpoint_dir": str(self.folder),
            "revision": self.revision,
            "device": self.device,
            "context_length": self.context_length,
            "decode_mode": "single pass" if block is None else f"block decoding ({block} steps)",
            "batch_size": self.batch_size,
            "seed": None,  # deterministic: quantiles come straight from the head
            "decode_block_size": block,
            "patch_size": self.patch_size,
            **module_facts(self.model),
            "batch_size_halvings": list(self.batch_size_halvings),
        }

    def past_length(self, horizon: int) -> int:
        """The context length the model sees for ``horizon`` (:func:`past_length` with this budget)."""
        assert self.context_length is not None
        return past_length(self.context_length, horizon, self.patch_size)

    def forecast_arrays(self, target: np.ndarray, mask: np.ndarray, horizon: int) -> np.ndarray:
        """One ``Toto2Model.forecast`` call on prepared inputs.

        Args:
            target: ``[B, V, P]`` float32, ``P`` a multiple of the patch size, no NaN.
            mask: ``[B, V, P]`` bool, True where observed.

        Returns:
            ``[B, V, H, 9]`` float32 quantiles (levels 0.1..0.9, sorted).
        """
        torch = self.torch
        inputs = {
            "target": torch.from_numpy(target).to(self.device),
            "target_mask": torch.from_numpy(mask).to(self.device),
            "series_ids": torch.zeros(target.shape[:2], dtype=torch.long, device=self.device),
        }
        with torch.inference_mode():
            quantiles = self.model.forecast(
                inputs,
                horizon,
                decode_block_size=self.decode_block_size,
                has_missing_values=True,
                scaler_fallback_min_obs=SCALER_FALLBACK_MIN_OBS,
                quantile_real_cap_k=QUANTILE_REAL_CAP_K,
            )
            out = quantiles.permute(1, 2, 3, 0).contiguous().cpu().numpy()
        return np.asarray(out, dtype=np.float32)

    def _halved(self, batch_size: int) -> None:
        self.batch_size = batch_size
        self.batch_size_halvings.append(batch_size)

    def batch_group(self, task: Any) -> tuple[()]:
        """Contexts of any configs with the same horizon and variate count may share a forward pass
        (:class:`~toto_bench.adapters.base.SharesBatches`): each row is scaled, masked and decoded on its own,
        and ``freq``/``seasonality`` are not read."""
        return ()

    def predict(
        self, contexts: list[np.ndarray], horizon: int, *, freq: str, seasonality: int
    ) -> QuantileForecast:
        """Forecast ``n`` contexts ``[V, t_i]`` (same ``V``): quantiles ``[n, V, H, 9]``, no mean."""
        horizon = _positive("horizon", horizon)
        if not contexts:
            raise ValueError("predict() got no contexts")
        past = self.past_length(horizon)

        def run(chunk: Sequence[np.ndarray]) -> np.ndarray:
            target, mask = prepare_inputs(chunk, past)
            return self.forecast_arrays(target, mask, horizon)

        quantiles = run_in_batches(contexts, self.batch_size, run, on_halve=self._halved)
        return QuantileForecast(quantiles, QUANTILE_LEVELS)


def _register() -> None:
    for size, checkpoint_id in CHECKPOINTS.items():
        name = f"toto2-{size}"
        register(
            ModelSpec(
                name=name,
                factory=functools.partial(Toto2Forecaster, checkpoint_id=checkpoint_id, name=name),
                family=FAMILY,
                checkpoint=checkpoint_id,
                description=(
                    f"Toto 2.0 {size}: multivariate, 9 quantiles, single-pass decoding, notebook pipeline "
                    "(BOOM context 2048/batch 64; GIFT-Eval 4096/512)"
                ),
                defaults=dict(GIFT_EVAL_SETTINGS),
                suite_settings={
                    "boom": dict(BOOM_SETTINGS),
                    "boomlet": dict(BOOM_SETTINGS),
                    "gift-eval": dict(GIFT_EVAL_SETTINGS),
                },
                allow_nan_forecast={"boom": True, "boomlet": True, "gift-eval": False},
                test_checkpoint=build_test_checkpoint,
            )
        )


_register()
