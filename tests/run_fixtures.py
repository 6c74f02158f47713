"""Fixtures of the resume, shard and executor tests: GIFT-Eval data in the upstream layout, and a test-only
model plugin (seasonal naive that can be slow, or crash).

:func:`write_datasets` writes synthetic series for a few GIFT-Eval storage names with
``layouts.write_dataset`` (hourly ones have 3 terms, the others 1).

:func:`install` writes a tiny installed distribution (module + ``dist-info`` with a ``toto_bench.adapters``
entry point, as ``tests/test_adapter_plugins.py`` does) into a folder; put it on ``PYTHONPATH`` (subprocesses,
Ray workers) or ``sys.path`` (this process) and the model ``slow-naive`` is registered. Its numbers are
seasonal naive's. Its behaviour is steered by files beside the module, so that every process that imports
it (a CLI subprocess, a Ray actor started long before) sees the same switches:

- ``sleep.txt``: seconds to sleep in each ``predict`` call (makes a run last long enough to be killed);
- ``crash-once-<H>.flag``: the first ``predict`` call with horizon ``H`` that removes this file ends its
  process with ``os._exit(1)`` (a worker dying mid-dataset, once);
- ``crash-always-<H>.flag``: every ``predict`` call with horizon ``H`` ends its process.

Each call that returns appends ``<horizon> <length of its first context>`` to ``calls.log`` beside the module
(one call per config, as the model has no batch size), so a test can tell which configs were computed.
"""

from __future__ import annotations

from pathlib import Path

import layouts
import numpy as np

MODEL = "slow-naive"

#: storage name -> (freq, series length); 3 hourly datasets × 3 terms + 3 one-term datasets = 12 configs
DATASETS: dict[str, tuple[str, int]] = {
    "electricity/H": ("H", 1500),
    "us_births/D": ("D", 400),
    "solar/H": ("H", 1600),
    "us_births/W": ("W", 300),
    "LOOP_SEATTLE/H": ("H", 1700),
    "saugeenday/M": ("M", 240),
}
CONFIGS = 12


def write_datasets(root: Path, names: list[str] | None = None, *, seed: int = 0, series: int = 3) -> Path:
    """Write ``<root>/<storage name>`` for ``names`` (default: all of :data:`DATASETS`); return ``root``."""
    for k, name in enumerate(names or list(DATASETS)):
        freq, length = DATASETS[name]
        rng = np.random.default_rng([seed, k])
        t = np.arange(length)
        targets = [
            (20 + 5 * np.sin(2 * np.pi * t / 24) + i + rng.normal(size=length)).astype(np.float32)
            for i in range(series)
        ]
        layouts.write_dataset(root / name, targets, freq=freq)
    return root


MODULE = '''
"""slow-naive: seasonal naive that sleeps or crashes on request (see tests/plugin_models.py)."""
import os
import time
from pathlib import Path

from toto_bench.adapters.registry import ModelSpec
from toto_bench.adapters.statistical import SeasonalNaiveForecaster

HERE = Path(__file__).resolve().parent


class SlowNaive:
    """Seasonal naive through the list API only (no prefix fast path, so every config calls predict)."""

    name = "slow-naive"
    supports_multivariate = False

    def __init__(self, context_length=None, batch_size=None):
        self.inner = SeasonalNaiveForecaster(context_length)
        self.context_length = context_length
        self.batch_size = batch_size

    def predict(self, contexts, horizon, *, freq, seasonality):
        sleep = HERE / "sleep.txt"
        if sleep.is_file():
            time.sleep(float(sleep.read_text()))
        if (HERE / f"crash-always-{horizon}.flag").is_file():
            os._exit(1)
        try:
            (HERE / f"crash-once-{horizon}.flag").unlink()
        except FileNotFoundError:
            pass
        else:
            os._exit(1)
        with open(HERE / "calls.log", "a") as log:  # one line per successful call: horizon, series length
            log.write(f"{horizon} {contexts[0].shape[-1]}\\n")
        return self.inner.predict(contexts, horizon, freq=freq, seasonality=seasonality)


def model_specs():
    return [ModelSpec(name="slow-naive", factory=SlowNaive, family="test", description="slow seasonal naive")]
'''


def install(folder: Path) -> Path:
    """Write the plugin (module ``tb_slow_plugin`` + its ``dist-info``) into ``folder``; return ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tb_slow_plugin.py").write_text(MODULE)
    info = folder / "tb_slow_plugin-0.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tb-slow-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[toto_bench.adapters]\nslow = tb_slow_plugin:model_specs\n")
    return folder
