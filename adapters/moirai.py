"""Moirai 1.1 (``moirai-1.1-{small,base,large}``) and Moirai 2.0 (``moirai-2-small``) through ``uni2ts``.

What the official notebooks run (docs/adapters.md §6, docs/boom_protocol.md §5), and what this adapter calls:

**Moirai 1.1** (gift-eval ``notebooks/moirai.ipynb``, DataDog/toto ``boom/notebooks/moirai.ipynb``):
``MoiraiForecast(module=MoiraiModule.from_pretrained(...), context_length=4000, patch_size=32,
num_samples=100, target_dim=V).create_predictor(batch_size)``, a gluonts ``PyTorchPredictor`` whose
``SampleForecast`` (100 sample paths) gluonts scores. Multivariate. The predictor's input pipeline is

1. ``AddObservedValuesIndicator``: ``observed = ~isnan(target)``, NaN → 0 (``DummyValueImputation``);
2. ``TFTInstanceSplitter(past_length=context_length)``: the last ``context_length`` steps, left-padded with
   target 0 / observed False / ``past_is_pad`` True;
3. ``MoiraiForecast.forward(past_target [B, L, V], past_observed_target [B, L, V], past_is_pad [B, L])``,
   which draws ``num_samples`` paths ``[B, S, H, V]`` from the predicted mixture with torch's global RNG.

This adapter builds exactly those three tensors in numpy and runs the model's own forward pass
(``MoiraiForecast._get_distr``, the part of ``forward`` before sampling) on the whole batch. Then it
draws each context's paths from that context's slice of the predicted mixture, with the torch RNG seeded
per context (:meth:`MoiraiForecaster.sample_seed`, a digest of ``seed``, the horizon and the context's
visible values). So a forecast depends neither on the batch it came in, nor on call order, nor on the
caller's RNG state (batched forward passes differ only by float rounding): it is resumable and
batch-size invariant. The notebooks draw from an unseeded global RNG, so their published numbers carry
Monte Carlo noise that no re-run reproduces bit for bit; equality with them is in distribution. With
``sampling="full"`` the draws are those of the notebooks' predictor at batch size 1 under the same seed
(bit for bit when the adapter's ``batch_size`` is 1 too; the tests check it against gluonts). The default
``sampling="horizon"`` draws only what the forecast keeps, from the same distribution, about 250× fewer
random numbers. ``seed=None`` calls ``forward`` itself on the batch with the global RNG, as the notebooks.

The samples become quantiles the way gluonts' ``SampleForecast`` reads them
(:func:`toto_bench.metrics.quantiles_from_samples`: sorted sample ``round((S-1)·q)``) plus the sample
mean. The default levels are :data:`~toto_bench.metrics.quantiles.EVAL_LEVELS` (``0.025, 0.1, …, 0.9,
0.975``): gluonts' MSIS reads 0.025 / 0.975 from the samples of a ``SampleForecast`` (from 9 stored
deciles it would extrapolate them with exponential tails), so with both bounds in the forecast all 11
metrics equal the notebooks' scoring of the same samples. The GIFT-Eval/BOOM scorer scores a forecast at its
own levels; TIME scores the 9 deciles selected from them and LSF the median, so those suites' numbers are
those of the deciles alone. ``levels=QUANTILE_LEVELS`` keeps only the deciles (MSIS then extrapolated).

**Moirai 2.0** returns 9 quantiles (0.1 … 0.9) and is deterministic.

* GIFT-Eval (gift-eval ``notebooks/moirai2.ipynb``): univariate,
  ``Moirai2Forecast(context_length=4000, target_dim=1).predict([entry["target"] for entry in batch])``, which
  returns ``[B, 9, H]``. The adapter calls the same ``predict`` (``pipeline="predict"``) on copies of the
  contexts (``predict`` imputes in place). Inside it every NaN becomes 0 with observed False: uni2ts
  ``CausalMeanImputation`` on a ``[T, 1]`` array transposes it, so its "fill the first step" rule fills the
  whole row with 0 before any causal mean is taken. Short contexts are left-padded with their first value,
  and the pad's observed flag copies the first step's.
* BOOM (DataDog/toto ``boom/notebooks/moirai2.ipynb``): multivariate through
  ``create_predictor(batch_size=1)`` with ``context_length=2048`` on gluonts 0.14. That predictor fails on
  gluonts >= 0.15, because ``QuantileForecastGenerator`` expects ``(outputs,), loc, scale``. The
  adapter (``pipeline="predictor"``) rebuilds its input pipeline and calls ``Moirai2Forecast.forward`` as
  the predictor does. The pipeline is ``AddObservedValuesIndicator`` with gluonts
  ``CausalMeanValueImputation`` when ``V == 1`` and NaN → 0 when ``V > 1``, then ``TFTInstanceSplitter``
  zero padding. gluonts 0.14's generator wraps each ``[9, H(, V)]`` output in a ``QuantileForecast`` keyed
  by the module's levels, so the forecast is that array, with no mean (the median stands in).
  uni2ts 2.0.0 cannot decode ``V > 1`` past ``H = 64`` (see :class:`Moirai2PredictorForecaster`).

Not reproduced: the GIFT-Eval Moirai 1.1 notebook also passes ``past_feat_dynamic_real`` covariates
(``past_feat_dynamic_real_dim`` per dataset); the ``Forecaster`` interface carries targets only.

Checkpoints are read from safetensors only (``config.json`` + ``model.safetensors``; no pickle, no remote
code). The published hub id goes through the standard HF cache, so ``HF_HUB_OFFLINE=1`` works once it is
downloaded; ``checkpoint=DIR`` loads a local copy through the same ``from_pretrained``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, Literal

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
    settings_dict,
)
from toto_bench.adapters.registry import ModelSpec, register
from toto_bench.metrics import mean_from_samples, quantiles_from_samples
from toto_bench.metrics.quantiles import EVAL_LEVELS, check_levels

__all__ = [
    "MOIRAI2_CHECKPOINT",
    "MOIRAI11_CHECKPOINTS",
    "Moirai2Forecaster",
    "Moirai2PredictorForecaster",
    "MoiraiForecaster",
    "build_moirai2",
    "load_module",
    "moirai2_test_checkpoint",
    "moirai11_test_checkpoint",
    "predictor_inputs",
]

EXTRA = "moirai"

#: Published Moirai 1.1 checkpoints by size.
MOIRAI11_CHECKPOINTS: dict[str, str] = {
    size: f"Salesforce/moirai-1.1-R-{size}" for size in ("small", "base", "large")
}
#: The only published Moirai 2.0 checkpoint.
MOIRAI2_CHECKPOINT = "Salesforce/moirai-2.0-R-small"

_WEIGHTS = "model.safetensors"
_CONFIG = "config.json"

Moirai2Pipeline = Literal["predict", "predictor"]
Imputation = Literal["zero", "causal_mean"]


# ----------------------------------------------------------------------------------------------------------
# Loading


def _hf_hub_download() -> Callable[..., str]:
    hub = require("huggingface_hub", EXTRA)
    fn: Callable[..., str] = hub.hf_hub_download
    return fn


def load_module(module_cls: Any, checkpoint: str | os.PathLike[str] | None, default_id: str) -> Any:
    """``module_cls.from_pretrained`` on a local safetensors directory.

    Args:
        module_cls: ``MoiraiModule`` or ``Moirai2Module`` (both ``PyTorchModelHubMixin``).
        checkpoint: a directory holding ``config.json`` + ``model.safetensors``, a hub id, or ``None`` for
            ``default_id``.
        default_id: the published hub id.

    A hub id is resolved through the HF cache (``hf_hub_download`` of the two files, so ``HF_HUB_OFFLINE=1``
    and ``HF_HOME`` are honoured), then loaded from its snapshot folder. Pickled weights are never read.

    Raises:
        FileNotFoundError: a directory without the two files, or a hub id that is neither cached nor
            reachable (the message says how to pre-download it).
    """
    source = checkpoint_source(checkpoint, default_id)
    path = Path(source).expanduser()
    if path.is_dir():
        missing = [name for name in (_CONFIG, _WEIGHTS) if not (path / name).is_file()]
        if missing:
            raise FileNotFoundError(
                f"checkpoint directory {str(path)!r} lacks {', '.join(missing)}: a Moirai checkpoint is a "
                f"{_CONFIG} + {_WEIGHTS} folder (save_pretrained output; pickled weights are not loaded)"
            )
        folder = path
    elif path.exists() or source.startswith((".", "/", "~")):
        raise FileNotFoundError(f"checkpoint {source!r} is not a directory (a local path, not a hub id)")
    else:
        download = _hf_hub_download()
        try:
            download(repo_id=source, filename=_CONFIG)
            folder = Path(download(repo_id=source, filename=_WEIGHTS)).parent
        except Exception as exc:  # offline, unknown repo, invalid id, ...: one actionable message
            raise FileNotFoundError(offline_hint(source, exc)) from exc
    return module_cls.from_pretrained(str(folder))


# ----------------------------------------------------------------------------------------------------------
# Inputs


def _as_contexts(contexts: Sequence[np.ndarray]) -> tuple[list[np.ndarray], int]:
    """float32 ``[V, t_i]`` views of ``contexts`` and their common ``V`` (``0`` for an empty list)."""
    arrays: list[np.ndarray] = []
    for i, ctx in enumerate(contexts):
        arr = as_context(ctx, i, need="Moirai needs at least one time step")
        if arrays and arr.shape[0] != arrays[0].shape[0]:
            raise ValueError(
                f"context {i} has {arr.shape[0]} variates, context 0 has {arrays[0].shape[0]}: "
                "all contexts of one call must have the same number of variates"
            )
        arrays.append(arr)
    return arrays, (arrays[0].shape[0] if arrays else 0)


def _causal_mean_imputed(row: np.ndarray) -> np.ndarray:
    """gluonts ``CausalMeanValueImputation`` of one float32 ``[T]`` row (a copy; untouched if NaN-free)."""
    if not np.isnan(row).any():
        return row
    transform = require("gluonts.transform", EXTRA)
    # gluonts divides 0 by 0 at step 0 and then overwrites that value: silence the warning only.
    with np.errstate(divide="ignore", invalid="ignore"):
        out: np.ndarray = transform.CausalMeanValueImputation()(row.copy())
    return out


def predictor_inputs(
    contexts: Sequence[np.ndarray], past_length: int, imputation: Imputation = "zero"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The tensors a uni2ts gluonts predictor feeds ``forward``, built in numpy.

    Reproduces ``AsNumpyArray`` → ``AddObservedValuesIndicator`` → ``TFTInstanceSplitter(TestSplitSampler(),
    past_length)`` on each full-history context.

    Args:
        contexts: ``n`` float32 ``[V, t_i]`` contexts (NaN for gaps), all with the same ``V``.
        past_length: ``L``, the splitter's ``past_length``.
        imputation: ``"zero"`` (gluonts ``DummyValueImputation(0.0)``, the default of
            ``AddObservedValuesIndicator``) or ``"causal_mean"`` (gluonts ``CausalMeanValueImputation`` over
            the whole history, Moirai 2.0's univariate transform; needs ``V == 1``).

    Returns:
        ``past_target [n, L, V]`` float32 (left padding 0), ``past_observed_target [n, L, V]`` bool
        (``~isnan`` of the raw values, False on padding) and ``past_is_pad [n, L]`` bool.
    """
    arrays, n_var = _as_contexts(contexts)
    if imputation not in ("zero", "causal_mean"):
        raise ValueError(f"imputation must be 'zero' or 'causal_mean', got {imputation!r}")
    if imputation == "causal_mean" and n_var > 1:
        raise ValueError(f"causal_mean imputation is univariate (V == 1), got V={n_var}")
    n = len(arrays)
    target = np.zeros((n, past_length, n_var), dtype=np.float32)
    observed = np.zeros((n, past_length, n_var), dtype=bool)
    is_pad = np.ones((n, past_length), dtype=bool)
    for i, arr in enumerate(arrays):
        tail = arr[:, -past_length:]
        nan = np.isnan(tail)
        if imputation == "causal_mean":
            values = _causal_mean_imputed(arr[0])[None, -past_length:]
        else:
            values = np.where(nan, np.float32(0.0), tail) if nan.any() else tail
        t = tail.shape[1]
        target[i, past_length - t :] = values.T
        observed[i, past_length - t :] = ~nan.T
        is_pad[i, past_length - t :] = False
    return target, observed, is_pad


# ----------------------------------------------------------------------------------------------------------
# torch helpers


@contextmanager
def _restored_rng(torch: Any, device: str) -> Iterator[None]:
    """Run the body (which reseeds torch) and restore the caller's CPU and ``device`` RNG state after."""
    devices: list[int] = []
    if device.startswith("cuda"):
        index = torch.device(device).index
        devices = [torch.cuda.current_device() if index is None else index]
    with torch.random.fork_rng(devices=devices):
        yield


def _to_device(module: Any, device: str) -> Any:
    return module.to(device).eval()


class _MoiraiBase:
    """Shared construction: checkpoint, device, batch size, context length."""

    name: str
    supports_multivariate: ClassVar[bool] = True

    def __init__(
        self,
        *,
        name: str,
        checkpoint: str | os.PathLike[str] | None,
        default_checkpoint: str,
        device: str,
        batch_size: int,
        context_length: int,
    ) -> None:
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if int(context_length) < 1:
            raise ValueError(f"context_length must be >= 1, got {context_length}")
        self.torch: Any = require("torch", EXTRA)
        self.name = name
        self.default_checkpoint = default_checkpoint
        self.checkpoint = checkpoint_source(checkpoint, default_checkpoint)
        self.device = resolve_device(device)
        self.batch_size = int(batch_size)
        self.context_length: int | None = int(context_length)

    model: Any

    @property
    def settings(self) -> dict[str, Any]:
        """What a run record should show about this model (each family adds its own)."""
        return {}

    def _decode_mode(self) -> str:
        return "quantile head"

    def describe(self) -> dict[str, Any]:
        """What a run record should say about this model (the ``Describes`` hook of ``adapters.base``)."""
        out: dict[str, Any] = {
            "name": self.name,
            "model_id": self.default_checkpoint,
            "checkpoint": self.checkpoint,
            "device": self.device,
            "context_length": self.context_length,
            "decode_mode": self._decode_mode(),
            "batch_size": self.batch_size,
            "seed": getattr(self, "seed", None),
            **module_facts(self.model),
        }
        out.update({k: v for k, v in self.settings.items() if k not in out})
        return out

    @property
    def _context(self) -> int:
        assert self.context_length is not None
        return self.context_length

    def _tensors(self, target: np.ndarray, observed: np.ndarray, is_pad: np.ndarray) -> dict[str, Any]:
        torch = self.torch
        return {
            "past_target": torch.as_tensor(target, device=self.device),
            "past_observed_target": torch.as_tensor(observed, device=self.device),
            "past_is_pad": torch.as_tensor(is_pad, device=self.device),
        }


# ----------------------------------------------------------------------------------------------------------
# Moirai 1.1


class MoiraiForecaster(_MoiraiBase):
    """Moirai 1.x: multivariate sample forecasts from ``MoiraiForecast``, read out as quantiles.

    Args:
        checkpoint: local ``save_pretrained`` directory or hub id (default: ``default_checkpoint``).
        name: the registered model name.
        default_checkpoint: the published hub id.
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
        batch_size: contexts per forward pass (halved on out-of-memory); with a ``seed`` the forecasts do
            not depend on it beyond floating-point noise.
        context_length: the predictor's ``context_length`` (notebooks: 4000).
        patch_size: one of the checkpoint's patch sizes (notebooks: 32; uni2ts' ``"auto"`` is not offered).
        num_samples: sample paths per forecast (notebooks: 100).
        seed: base of the per-context RNG seeds (:meth:`sample_seed`). ``None`` samples the whole batch
            from torch's global RNG in one ``MoiraiForecast.forward`` call, exactly as the notebooks'
            predictor does (then the draws depend on the batch composition and on earlier calls).
        levels: quantile levels read from the samples, strictly ascending, the 9 deciles or a superset
            (adapter contract). The default ``EVAL_LEVELS`` adds 0.025 / 0.975 to the deciles, which
            gluonts' MSIS reads from a ``SampleForecast``; only with them do all 11 metrics equal the
            notebooks' scoring (with ``QUANTILE_LEVELS`` MSIS extrapolates its bounds from the 0.1/0.2 and
            0.8/0.9 knots).
        sampling: how a seeded context's paths are drawn from its predicted mixture. ``"full"`` repeats
            ``MoiraiForecast.forward`` on that context alone (the gluonts predictor at batch size 1): it
            samples every token of the packed sequence, context included, and every position of the
            128-wide patch, then keeps the horizon; bit for bit the predictor's paths under the same torch
            seed. ``"horizon"`` (default) samples only the horizon tokens and the patch's first
            ``patch_size`` positions: the same distribution (the mixture is independent across tokens and
            positions), about ``(context tokens + horizon tokens) / horizon tokens × 128 / patch_size``
            times fewer draws (~250× at context 4000, H <= 32), but other random numbers.
    """

    supports_multivariate: ClassVar[bool] = True

    def __init__(
        self,
        checkpoint: str | os.PathLike[str] | None = None,
        *,
        name: str = "moirai-1.1-small",
        default_checkpoint: str = MOIRAI11_CHECKPOINTS["small"],
        device: str = "auto",
        batch_size: int = 512,
        context_length: int = 4000,
        patch_size: int = 32,
        num_samples: int = 100,
        seed: int | None = 0,
        levels: Sequence[float] = EVAL_LEVELS,
        sampling: Literal["horizon", "full"] = "horizon",
    ) -> None:
        super().__init__(
            name=name,
            checkpoint=checkpoint,
            default_checkpoint=default_checkpoint,
            device=device,
            batch_size=batch_size,
            context_length=context_length,
        )
        if int(num_samples) < 1:
            raise ValueError(f"num_samples must be >= 1, got {num_samples}")
        if sampling not in ("horizon", "full"):
            raise ValueError(f"sampling must be 'horizon' or 'full', got {sampling!r}")
        self.sampling = sampling
        self.levels: tuple[float, ...] = check_levels(levels)
        uni2ts = require("uni2ts.model.moirai", EXTRA)
        module = load_module(uni2ts.MoiraiModule, checkpoint, default_checkpoint)
        patch_sizes = tuple(int(p) for p in module.patch_sizes)
        if isinstance(patch_size, bool) or not isinstance(patch_size, int) or patch_size not in patch_sizes:
            raise ValueError(f"patch_size must be one of the checkpoint's {patch_sizes}, got {patch_size!r}")
        self.patch_size = int(patch_size)
        self.num_samples = int(num_samples)
        self.seed = seed
        self._tree_map: Callable[..., Any] = require("torch.utils._pytree", EXTRA).tree_map
        self.model: Any = _to_device(
            uni2ts.MoiraiForecast(
                module=module,
                prediction_length=1,
                target_dim=1,
                feat_dynamic_real_dim=0,
                past_feat_dynamic_real_dim=0,
                context_length=self._context,
                patch_size=self.patch_size,
                num_samples=self.num_samples,
            ),
            self.device,
        )

    @property
    def settings(self) -> dict[str, Any]:
        """What a run record should show about this model."""
        return settings_dict(
            checkpoint=self.checkpoint,
            context_length=self.context_length,
            patch_size=self.patch_size,
            num_samples=self.num_samples,
            seed=self.seed,
            sampling=self.sampling,
            batch_size=self.batch_size,
            levels=list(self.levels),
        )

    def _decode_mode(self) -> str:
        return f"{self.num_samples} sample paths ({self.sampling} sampling)"

    def batch_group(self, task: Any) -> tuple[()] | None:
        """With a ``seed`` every context draws from its own generator, so contexts of any configs with the
        same horizon and variate count may share a call (:class:`~toto_bench.adapters.base.SharesBatches`);
        without one the draws depend on the batch, so each config keeps its own calls (``None``)."""
        return None if self.seed is None else ()

    def sample_seed(self, context: np.ndarray, horizon: int) -> int | None:
        """The torch seed of one context's sample paths (``None`` when unseeded).

        A 63-bit BLAKE2b digest of ``seed``, ``num_samples``, the horizon, and the shape and float32 bytes
        of the context's last ``context_length`` steps: it depends on nothing but what the model sees.
        """
        if self.seed is None:
            return None
        tail = np.ascontiguousarray(np.asarray(context, dtype=np.float32)[..., -self._context :])
        digest = hashlib.blake2b(digest_size=8)
        digest.update(f"moirai|{self.seed}|{self.num_samples}|{int(horizon)}|{tail.shape}".encode())
        digest.update(tail.tobytes())
        return int.from_bytes(digest.digest(), "little") & (2**63 - 1)

    def _distribution_params(self, inputs: dict[str, Any]) -> tuple[Any, Any, Any]:
        """One batched pass of ``MoiraiForecast._get_distr``: the mixture's parameters and the scaler's
        ``loc`` / ``scale``, captured from the module's ``param_proj`` and ``scaler`` (batch first)."""
        module = self.model.module
        captured: dict[str, Any] = {}

        def keep(key: str) -> Callable[..., None]:
            def hook(_module: Any, _args: Any, output: Any) -> None:
                captured[key] = output

            return hook

        handles = [
            module.scaler.register_forward_hook(keep("loc_scale")),
            module.param_proj.register_forward_hook(keep("params")),
        ]
        try:
            self.model._get_distr(
                self.patch_size, inputs["past_target"], inputs["past_observed_target"], inputs["past_is_pad"]
            )
        finally:
            for handle in handles:
                handle.remove()
        loc, scale = captured["loc_scale"]
        return captured["params"], loc, scale

    def sample(self, contexts: Sequence[np.ndarray], horizon: int) -> np.ndarray:
        """Sample paths for one batch of contexts.

        Seeded: one batched forward pass, then each context's paths are drawn from its own slice of the
        predicted mixture under its own :meth:`sample_seed` (see ``sampling``). Unseeded:
        ``MoiraiForecast.forward`` on the batch with the global RNG, as the notebooks' predictor.

        Args:
            contexts: ``B`` float32 ``[V, t_i]`` contexts (NaN for gaps).
            horizon: ``H``.

        Returns:
            ``[B, S, V, H]`` float32 samples.
        """
        arrays, n_var = _as_contexts(contexts)
        h = check_horizon(horizon)
        torch = self.torch
        n, size, patch = len(arrays), torch.Size((self.num_samples,)), self.patch_size
        inputs = self._tensors(*predictor_inputs(arrays, self._context, "zero"))
        with ExitStack() as stack:
            stack.enter_context(torch.no_grad())
            stack.enter_context(self.model.hparams_context(prediction_length=h, target_dim=n_var))
            if self.seed is None:
                out = self.model(**inputs).reshape(n, self.num_samples, h, n_var)
            else:
                params, loc, scale = self._distribution_params(inputs)
                stack.enter_context(_restored_rng(torch, self.device))
                # Horizon tokens of the packed sequence: V·ceil(C/p) context tokens, then V·ceil(H/p).
                start = n_var * self.model.context_token_length(patch)
                n_tok = self.model.prediction_token_length(patch)
                full = self.sampling == "full"
                tokens = slice(None) if full else slice(start, start + n_var * n_tok)
                paths = []
                for i, array in enumerate(arrays):
                    item = slice(i, i + 1)

                    def cut(t: Any, item: slice = item) -> Any:
                        if t.ndim == 0:  # a constant parameter (NormalFixedScale's scale)
                            return t
                        return t[item] if full else t[item, tokens, :patch]

                    distr = self.model.module.distr_output.distribution(
                        self._tree_map(cut, params), loc=loc[item, tokens], scale=scale[item, tokens]
                    )
                    torch.manual_seed(self.sample_seed(array, h))
                    draws = distr.sample(size)  # [S, 1, tokens, patch]
                    if full:
                        paths.append(self.model._format_preds(patch, draws, n_var))
                    else:  # the same layout change as _format_preds: (dim seq) patch -> (seq patch) dim
                        paths.append(
                            draws.reshape(self.num_samples, n_var, n_tok * patch)[..., :h].permute(0, 2, 1)
                        )
                out = torch.stack([p.reshape(self.num_samples, h, n_var) for p in paths])
        samples = out.float().cpu().numpy()
        return np.ascontiguousarray(samples.transpose(0, 1, 3, 2))

    def _quantiles_and_mean(self, contexts: Sequence[np.ndarray], horizon: int) -> np.ndarray:
        """``[B, V, H, Q + 1]``: the sample quantiles at ``levels``, then the sample mean."""
        samples = self.sample(contexts, horizon)
        quantiles = quantiles_from_samples(samples, self.levels)
        return np.concatenate([quantiles, mean_from_samples(samples)[..., None]], axis=-1)

    def predict(
        self, contexts: list[np.ndarray], horizon: int, *, freq: str, seasonality: int
    ) -> QuantileForecast:
        """Forecast ``n`` contexts (float32 ``[V, t_i]``, NaN for gaps; full history, truncated here).

        Returns:
            ``QuantileForecast(quantiles [n, V, H, Q] float32 at ``levels``, mean [n, V, H] float32)``: the
            gluonts ``SampleForecast`` readout (sorted sample ``round((S-1)·q)``, sample mean) of each
            context's ``num_samples`` paths.
        """
        h = check_horizon(horizon)
        arrays, _ = _as_contexts(contexts)
        n_q = len(self.levels)
        if not arrays:
            return QuantileForecast(
                np.zeros((0, 0, h, n_q), np.float32), self.levels, np.zeros((0, 0, h), np.float32)
            )
        out = run_in_batches(arrays, self.batch_size, lambda chunk: self._quantiles_and_mean(chunk, h))
        return QuantileForecast(
            quantiles=np.ascontiguousarray(out[..., :n_q]), levels=self.levels, mean=out[..., n_q].copy()
        )


# ----------------------------------------------------------------------------------------------------------
# Moirai 2.0


class Moirai2Forecaster(_MoiraiBase):
    """Moirai 2.0 as the GIFT-Eval notebook runs it: univariate ``Moirai2Forecast.predict``.

    Args:
        checkpoint: local ``save_pretrained`` directory or hub id (default: ``default_checkpoint``).
        name: the registered model name.
        default_checkpoint: the published hub id.
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
        batch_size: contexts per call (halved on out-of-memory); the forecast does not depend on it beyond
            floating-point noise.
        context_length: ``Moirai2Forecast(context_length=...)`` (GIFT-Eval 4000, BOOM 2048).
    """

    supports_multivariate: ClassVar[bool] = False
    pipeline: ClassVar[Moirai2Pipeline] = "predict"

    def __init__(
        self,
        checkpoint: str | os.PathLike[str] | None = None,
        *,
        name: str = "moirai-2-small",
        default_checkpoint: str = MOIRAI2_CHECKPOINT,
        device: str = "auto",
        batch_size: int = 512,
        context_length: int = 4000,
    ) -> None:
        super().__init__(
            name=name,
            checkpoint=checkpoint,
            default_checkpoint=default_checkpoint,
            device=device,
            batch_size=batch_size,
            context_length=context_length,
        )
        uni2ts = require("uni2ts.model.moirai2", EXTRA)
        module = load_module(uni2ts.Moirai2Module, checkpoint, default_checkpoint)
        self.levels: tuple[float, ...] = tuple(float(q) for q in module.quantile_levels)
        self.model: Any = _to_device(
            uni2ts.Moirai2Forecast(
                module=module,
                prediction_length=1,
                target_dim=1,
                feat_dynamic_real_dim=0,
                past_feat_dynamic_real_dim=0,
                context_length=self._context,
            ),
            self.device,
        )

    @property
    def settings(self) -> dict[str, Any]:
        """What a run record should show about this model."""
        return settings_dict(
            checkpoint=self.checkpoint,
            pipeline=self.pipeline,
            context_length=self.context_length,
            batch_size=self.batch_size,
        )

    def _decode_mode(self) -> str:
        return f"quantile head, {self.pipeline} pipeline"

    def batch_group(self, task: Any) -> tuple[()]:
        """Moirai 2.0's quantile head is deterministic and each context is its own sample, so contexts of any
        configs with the same horizon and variate count may share a call
        (:class:`~toto_bench.adapters.base.SharesBatches`)."""
        return ()

    def quantiles(self, contexts: Sequence[np.ndarray], horizon: int) -> np.ndarray:
        """One batch: ``[B, V, H, 9]`` float32 quantiles (``V == 1``), from ``Moirai2Forecast.predict``."""
        arrays, n_var = _as_contexts(contexts)
        h = check_horizon(horizon)
        if n_var != 1:
            raise ValueError(
                f"{self.name} with pipeline='predict' is univariate (the GIFT-Eval notebook); got V={n_var}. "
                "Use pipeline='predictor' for multivariate contexts."
            )
        # predict() imputes its inputs in place: hand it copies, never views of the caller's series.
        past = [arr[0].copy() for arr in arrays]
        with self.model.hparams_context(prediction_length=h, target_dim=1, context_length=self._context):
            out = np.asarray(self.model.predict(past), dtype=np.float32)  # [B, 9, H]
        return np.ascontiguousarray(out.reshape(len(arrays), len(self.levels), h)[:, None].swapaxes(2, 3))

    def predict(
        self, contexts: list[np.ndarray], horizon: int, *, freq: str, seasonality: int
    ) -> QuantileForecast:
        """Forecast ``n`` contexts (float32 ``[V, t_i]``, NaN for gaps; full history, truncated here).

        Returns:
            ``QuantileForecast(quantiles [n, V, H, 9] float32, mean=None)``, levels = the module's
            ``quantile_levels``; values exactly as the model emits them (not re-sorted).
        """
        h = check_horizon(horizon)
        arrays, _ = _as_contexts(contexts)
        if not arrays:
            return QuantileForecast(np.zeros((0, 0, h, len(self.levels)), np.float32), self.levels)
        out = run_in_batches(arrays, self.batch_size, lambda chunk: self.quantiles(chunk, h))
        return QuantileForecast(quantiles=out, levels=self.levels)


class Moirai2PredictorForecaster(Moirai2Forecaster):
    """Moirai 2.0 as the BOOM notebook runs it: multivariate, the gluonts predictor's pipeline + ``forward``.

    Same arguments as :class:`Moirai2Forecaster` (BOOM: ``context_length=2048``, ``batch_size=1``), plus

    Args:
        long_multivariate: what to do when ``V > 1`` and ``H`` exceeds one decoding step
            (``num_predict_token · patch_size`` = 64 for 2.0-R-small). uni2ts 2.0.0's recursive decoding
            (``Moirai2Forecast.forward``, also on uni2ts main) only handles ``V == 1`` there and raises an
            einops shape error, yet BOOM published such configs from a uni2ts revision that could not be
            identified. ``"error"`` (default) raises ``ValueError``. ``"per_variate"`` forecasts each
            variate as its own ``V == 1`` series through the same predictor pipeline (so with
            causal-mean imputation), a documented deviation from the notebook.
    """

    supports_multivariate: ClassVar[bool] = True
    pipeline: ClassVar[Moirai2Pipeline] = "predictor"

    def __init__(
        self,
        checkpoint: str | os.PathLike[str] | None = None,
        *,
        long_multivariate: Literal["error", "per_variate"] = "error",
        **kwargs: Any,
    ) -> None:
        if long_multivariate not in ("error", "per_variate"):
            raise ValueError(f"long_multivariate must be 'error' or 'per_variate', got {long_multivariate!r}")
        super().__init__(checkpoint, **kwargs)
        self.long_multivariate = long_multivariate
        module = self.model.module
        #: The longest horizon one forward pass decodes; longer horizons decode recursively.
        self.single_pass_horizon = int(module.num_predict_token) * int(module.patch_size)

    @property
    def settings(self) -> dict[str, Any]:
        """What a run record should show about this model."""
        return {**super().settings, "long_multivariate": self.long_multivariate}

    def quantiles(self, contexts: Sequence[np.ndarray], horizon: int) -> np.ndarray:
        """One batch: ``[B, V, H, 9]`` float32 quantiles from ``Moirai2Forecast.forward``."""
        arrays, n_var = _as_contexts(contexts)
        h = check_horizon(horizon)
        if n_var > 1 and h > self.single_pass_horizon:
            if self.long_multivariate == "error":
                raise ValueError(
                    f"{self.name}: uni2ts Moirai2Forecast cannot decode a multivariate horizon longer than "
                    f"{self.single_pass_horizon} (V={n_var}, H={h}); pass long_multivariate='per_variate' to "
                    "forecast each variate on its own (a deviation from the BOOM notebook)"
                )
            rows = [arr[v : v + 1] for arr in arrays for v in range(n_var)]
            return self.quantiles(rows, h).reshape(len(arrays), n_var, h, len(self.levels))
        imputation: Imputation = "causal_mean" if n_var == 1 else "zero"
        inputs = self._tensors(*predictor_inputs(arrays, self._context, imputation))
        with (
            self.torch.no_grad(),
            self.model.hparams_context(prediction_length=h, target_dim=n_var, context_length=self._context),
        ):
            out = self.model(**inputs)  # [B, 9, H, V], V squeezed when 1
        arr = out.detach().float().cpu().numpy().reshape(len(arrays), len(self.levels), h, n_var)
        return np.ascontiguousarray(arr.transpose(0, 3, 2, 1))


def build_moirai2(pipeline: Moirai2Pipeline = "predict", **kwargs: Any) -> Moirai2Forecaster:
    """A Moirai 2.0 forecaster: ``pipeline="predict"`` (GIFT-Eval, univariate) or ``"predictor"`` (BOOM)."""
    if pipeline == "predict":
        return Moirai2Forecaster(**kwargs)
    if pipeline == "predictor":
        return Moirai2PredictorForecaster(**kwargs)
    raise ValueError(f"pipeline must be 'predict' or 'predictor', got {pipeline!r}")


# ----------------------------------------------------------------------------------------------------------
# Random-init test checkpoints (real architectures, tiny configs)


def _save_random(build: Callable[[], Any], directory: Path, seed: int) -> Path:
    torch = require("torch", EXTRA)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        module = build()
    module.save_pretrained(str(directory))
    return directory


def moirai11_test_checkpoint(directory: Path) -> Path:
    """A random-init ``MoiraiModule`` with the 1.1-R mixture head and patch sizes, ``d_model`` 64, 1 layer.

    Saved with ``save_pretrained`` (``config.json`` + ``model.safetensors``); returns ``directory``.
    """
    distr = require("uni2ts.distribution", EXTRA)
    moirai = require("uni2ts.model.moirai", EXTRA)

    def build() -> Any:
        return moirai.MoiraiModule(
            distr_output=distr.MixtureOutput(
                [
                    distr.StudentTOutput(),
                    distr.NormalFixedScaleOutput(),
                    distr.NegativeBinomialOutput(),
                    distr.LogNormalOutput(),
                ]
            ),
            d_model=64,  # heads = d_model // 64, so 64 is the smallest width with one head
            num_layers=1,
            patch_sizes=(8, 16, 32, 64, 128),
            max_seq_len=512,
            attn_dropout_p=0.0,
            dropout_p=0.0,
            scaling=True,
        )

    return _save_random(build, directory, seed=11)


def moirai2_test_checkpoint(directory: Path) -> Path:
    """A random-init ``Moirai2Module`` shaped like 2.0-R-small (patch 16, 4 predict tokens, 9 quantiles),
    ``d_model`` 64, ``d_ff`` 128, 1 layer. Saved with ``save_pretrained``; returns ``directory``.

    Random weights give a random quantile head, whose 9 outputs cross everywhere; the trained head emits
    ordered quantiles, which the adapter contract checks (the adapter itself never re-sorts, as the
    notebooks do not). So the head's two output projections keep their random weights scaled by 0.05 and
    get a bias rising by 0.25 (in scaled units) per quantile level: ordered quantiles that still depend on
    the input.
    """
    torch = require("torch", EXTRA)
    moirai2 = require("uni2ts.model.moirai2", EXTRA)

    def build() -> Any:
        module = moirai2.Moirai2Module(
            d_model=64,
            d_ff=128,
            num_layers=1,
            patch_size=16,
            max_seq_len=512,
            attn_dropout_p=0.0,
            dropout_p=0.0,
            scaling=True,
            num_predict_token=4,
            quantile_levels=QUANTILE_LEVELS,
        )
        head = module.out_proj
        n_q = len(QUANTILE_LEVELS)
        ramp = 0.25 * (torch.arange(n_q, dtype=torch.float32) - (n_q - 1) / 2)
        with torch.no_grad():
            head.output_layer.weight.mul_(0.05)
            head.residual_layer.weight.mul_(0.05)
            head.output_layer.bias.copy_(ramp[None, :, None].expand(4, n_q, 16).reshape(-1))
            head.residual_layer.bias.zero_()
        return module

    return _save_random(build, directory, seed=2)


# ----------------------------------------------------------------------------------------------------------
# Registration

#: Moirai 1.1 settings common to GIFT-Eval and BOOM (both notebooks).
_MOIRAI11_DEFAULTS: dict[str, Any] = {
    "context_length": 4000,
    "patch_size": 32,
    "num_samples": 100,
    "seed": 0,
    "sampling": "horizon",
    # The deciles plus the MSIS bounds 0.025 / 0.975, read from the samples as gluonts' SampleForecast does.
    "levels": list(EVAL_LEVELS),
}
#: Predictor batch sizes: gift-eval ``create_predictor(batch_size=512)``; BOOM ``batch_size=1``.
_MOIRAI11_SUITES: dict[str, dict[str, Any]] = {
    "gift-eval": {"batch_size": 512},
    "boom": {"batch_size": 1},
    "boomlet": {"batch_size": 1},
}
_MOIRAI2_SUITES: dict[str, dict[str, Any]] = {
    "gift-eval": {"pipeline": "predict", "context_length": 4000, "batch_size": 512},
    "boom": {"pipeline": "predictor", "context_length": 2048, "batch_size": 1},
    "boomlet": {"pipeline": "predictor", "context_length": 2048, "batch_size": 1},
}


def _moirai2_factory(
    checkpoint: str | os.PathLike[str] | None = None,
    *,
    pipeline: Moirai2Pipeline = "predict",
    device: str = "auto",
    batch_size: int = 512,
    context_length: int = 4000,
    long_multivariate: Literal["error", "per_variate"] = "error",
) -> Moirai2Forecaster:
    """``moirai-2-small`` with explicit options (so ``toto-bench run`` can validate overrides)."""
    kwargs: dict[str, Any] = {
        "name": "moirai-2-small",
        "default_checkpoint": MOIRAI2_CHECKPOINT,
        "device": device,
        "batch_size": batch_size,
        "context_length": context_length,
    }
    if pipeline == "predictor":
        kwargs["long_multivariate"] = long_multivariate
    elif long_multivariate != "error":
        raise ValueError("long_multivariate only applies to pipeline='predictor' (multivariate contexts)")
    return build_moirai2(pipeline, checkpoint=checkpoint, **kwargs)


for _size, _hub_id in MOIRAI11_CHECKPOINTS.items():
    register(
        ModelSpec(
            name=f"moirai-1.1-{_size}",
            factory=partial(MoiraiForecaster, name=f"moirai-1.1-{_size}", default_checkpoint=_hub_id),
            family="moirai",
            checkpoint=_hub_id,
            description=(
                "uni2ts MoiraiForecast, multivariate, context 4000, patch 32, 100 per-context seeded samples "
                "→ SampleForecast quantiles 0.025, 0.1..0.9, 0.975 + mean (needs the moirai extra)"
            ),
            defaults=_MOIRAI11_DEFAULTS,
            suite_settings=_MOIRAI11_SUITES,
            test_checkpoint=moirai11_test_checkpoint,
        )
    )
register(
    ModelSpec(
        name="moirai-2-small",
        factory=_moirai2_factory,
        family="moirai",
        checkpoint=MOIRAI2_CHECKPOINT,
        description=(
            "uni2ts Moirai2Forecast, 9 quantiles: GIFT-Eval univariate .predict (context 4000), "
            "BOOM multivariate predictor pipeline (context 2048) (needs the moirai extra)"
        ),
        defaults={},
        suite_settings=_MOIRAI2_SUITES,
        test_checkpoint=moirai2_test_checkpoint,
    )
)
