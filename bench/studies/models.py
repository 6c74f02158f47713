"""A study's models: building them (published checkpoint or ``--random-init``), decode modes, forward passes.

**Decode modes.** ``single`` (Toto 2.0: the whole horizon in one forward pass, the leaderboards' mode),
``block-N`` (Toto 2.0: the library's own block decoding, ``Toto2Model.forecast(decode_block_size=N)``: blocks
of ``N`` steps, each conditioned on the previous block's median, with its static KV cache) and ``native``
(every other model: what its pipeline does; Toto 1.0 decodes one 64-step patch per forward with its KV cache,
Chronos-2 unrolls 1024 steps per forward).

**Random init.** ``--random-init`` builds the architecture from a config with seeded random weights, saved
through the family's own ``save_pretrained`` and loaded through the hub code path, as the tests do: Toto 2.0
with the published 4m config (:data:`~toto_bench.adapters.toto2.OFFICIAL_4M_CONFIG`, whatever the size in the
name), every other family with its registry test checkpoint (``ModelSpec.test_checkpoint``); models without
weights (the statistical baselines) run as they are.

**Forward passes** are counted with a torch forward hook on the module one decoding step runs
(:func:`decoder_module`), and :func:`expected_forward_passes` gives the patch arithmetic they must equal.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toto_bench.adapters.base import Forecaster
from toto_bench.adapters.registry import accepted_options, build_model, get_model_spec

__all__ = [
    "DTYPES",
    "DecodeMode",
    "ForwardCounter",
    "StudyModel",
    "decoder_module",
    "expected_forward_passes",
    "load_study_model",
    "parse_mode",
    "precision",
    "random_init_checkpoint",
    "set_context",
]

#: ``--dtype`` choices: float32 runs as loaded; the others run under ``torch.autocast``.
DTYPES: tuple[str, ...] = ("float32", "bfloat16", "float16")

_BLOCK = re.compile(r"^block-(\d+)$")


@dataclass(frozen=True)
class DecodeMode:
    """A decode mode: ``name`` (``single``, ``block-N``, ``native``) and Toto 2.0's ``decode_block_size``."""

    name: str
    block_size: int | None = None


def parse_mode(text: str) -> DecodeMode:
    """``single`` / ``native`` / ``block-N`` (``N`` > 0) → :class:`DecodeMode`; anything else is an error."""
    if text in ("single", "native"):
        return DecodeMode(text)
    match = _BLOCK.match(text)
    if match and int(match.group(1)) > 0:
        return DecodeMode(text, int(match.group(1)))
    raise ValueError(f"decode mode {text!r}: valid are single, native and block-N with N > 0, e.g. block-256")


def random_init_checkpoint(name: str, folder: Path) -> Path:
    """A random-init checkpoint of ``name``'s architecture in ``folder`` (module docstring); returns it.

    Raises:
        ValueError: the model's family has no random-init builder (no ``test_checkpoint`` in its spec).
    """
    spec = get_model_spec(name)
    if spec.family == "toto2":
        from toto_bench.adapters.toto2 import OFFICIAL_4M_CONFIG, save_random_checkpoint

        return save_random_checkpoint(folder, OFFICIAL_4M_CONFIG, seed=0)
    if spec.test_checkpoint is None:
        raise ValueError(f"--random-init: model {name!r} (family {spec.family}) has no random-init builder")
    return spec.test_checkpoint(folder)


@dataclass
class StudyModel:
    """A loaded model of a study and how it was built.

    Attributes:
        name: the registered name.
        mode: its decode mode.
        model: the adapter.
        settings: the factory settings (without the checkpoint path of a random-init temp folder).
        random_init: whether the weights are random.
    """

    name: str
    mode: DecodeMode
    model: Forecaster
    settings: dict[str, Any]
    random_init: bool


def load_study_model(
    name: str,
    mode: DecodeMode,
    *,
    device: str,
    context_length: int,
    random_init_dir: Path | None = None,
    num_samples: int | None = None,
) -> StudyModel:
    """Build ``name`` for ``mode`` (``block-N``/``single`` need a Toto 2.0 model, ``native`` any other).

    Args:
        name: a registered model.
        mode: the decode mode.
        device: ``auto``, ``cpu``, ``cuda[:N]``.
        context_length: the steps of history every forecast sees (see :func:`set_context`).
        random_init_dir: build random weights into this folder (``--random-init``); ``None``: the published
            checkpoint. Settings a model does not take (``device`` for a statistical one) are not passed.
        num_samples: Toto 1.0's sample paths (``None``: its default, 256).
    """
    spec = get_model_spec(name)
    is_toto2 = spec.family == "toto2"
    if is_toto2 and mode.name == "native":
        raise ValueError(f"{name}: Toto 2.0 decode modes are single and block-N, not native")
    if not is_toto2 and mode.name != "native":
        raise ValueError(f"{name}: decode mode {mode.name!r} is for Toto 2.0 models; {name} runs native only")
    accepted = accepted_options(spec)
    takes = lambda option: accepted is None or option in accepted  # noqa: E731
    settings: dict[str, Any] = {"device": device} if takes("device") else {}
    if is_toto2:
        settings["decode_block_size"] = mode.block_size
    elif takes("context_length"):
        settings["context_length"] = context_length
    if spec.family == "toto1":
        settings["context_rule"] = "truncate"
        if num_samples is not None:
            settings["num_samples"] = num_samples
    built = dict(settings)
    if random_init_dir is not None and spec.checkpoint is not None:  # models without weights run as they are
        built["checkpoint"] = str(random_init_checkpoint(name, random_init_dir / name))
    model = build_model(name, **built)
    return StudyModel(name, mode, model, settings, random_init_dir is not None)


def set_context(model: Forecaster, context_length: int, horizon: int) -> None:
    """Make ``model`` see exactly the last ``context_length`` steps for ``horizon``.

    Toto 2.0's ``context_length`` is the notebooks' budget for context + horizon (minus one patch); it is set
    to ``context_length + (ceil(H/p) - 1)·p`` so the model sees ``floor(context_length/p)·p`` steps at every
    horizon instead of a context that shrinks as ``H`` grows. The other models cap at ``context_length``
    already (:func:`load_study_model`).
    """
    from toto_bench.adapters.toto2 import Toto2Forecaster

    if isinstance(model, Toto2Forecaster):
        p = model.patch_size
        model.context_length = context_length + (math.ceil(horizon / p) - 1) * p


def decoder_module(model: Any) -> Any:
    """The torch module one decoding step runs (hooked to count forward passes); ``None`` when unknown."""
    family = type(model).__name__
    if family == "Toto2Forecaster":
        return model.model.transformer
    if family == "Toto1Forecaster":
        return model._forecaster.model  # the TotoBackbone
    if family in ("Chronos2Forecaster", "ChronosBoltForecaster"):
        return model.pipeline.model
    return None


def expected_forward_passes(model: Any, horizon: int) -> int | None:
    """Forward passes per forecast of one context at ``horizon``, from the model's patch arithmetic.

    Toto 2.0: 1 in single pass, ``ceil(ceil(H/p) / (N/p))`` with blocks of ``N`` steps; Toto 1.0:
    ``ceil(H/p)`` per batch of sample paths (``num_samples / samples_per_batch`` batches); Chronos-2 and
    Chronos-Bolt: ``ceil(H / model_prediction_length)``. ``None`` for other models.
    """
    family = type(model).__name__
    if family == "Toto2Forecaster":
        p = model.patch_size
        block = model.decode_block_size
        patches = math.ceil(horizon / p)
        return 1 if block is None else math.ceil(patches / min(block // p, patches))
    if family == "Toto1Forecaster":
        p = int(model.model.model.patch_embed.patch_size)
        batches = model.num_samples // model.samples_per_batch
        return math.ceil(horizon / p) * batches
    if family in ("Chronos2Forecaster", "ChronosBoltForecaster"):
        return math.ceil(horizon / int(model.pipeline.model_prediction_length))
    return None


class ForwardCounter:
    """Counts forward calls of ``module`` while active (a torch forward pre-hook).

    ``count`` is ``None`` when there is no module to hook.
    """

    def __init__(self, module: Any) -> None:
        self.module = module
        self.count: int | None = None if module is None else 0
        self._handle: Any = None

    def _hook(self, *_: Any) -> None:
        assert self.count is not None
        self.count += 1

    def __enter__(self) -> ForwardCounter:
        if self.module is not None:
            self.count = 0
            self._handle = self.module.register_forward_pre_hook(self._hook)
        return self

    def __exit__(self, *_: object) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None


@contextlib.contextmanager
def precision(device: str, dtype: str) -> Iterator[None]:
    """``float32``: nothing; ``bfloat16``/``float16``: ``torch.autocast`` on ``device``'s type."""
    if dtype not in DTYPES:
        raise ValueError(f"--dtype {dtype!r}: valid are {', '.join(DTYPES)}")
    if dtype == "float32":
        yield
        return
    import torch

    kind = "cuda" if device.startswith("cuda") else "cpu"
    with torch.autocast(device_type=kind, dtype=getattr(torch, dtype)):
        yield
