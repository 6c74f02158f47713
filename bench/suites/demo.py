"""The embedded demo suite: two real public series shipped with the package, evaluated with GIFT-Eval's rules.

Six GIFT-Eval datasets (Saugeen river flow and US births, each daily, weekly and monthly), stored in the
GIFT-Eval on-disk layout in ``toto_bench/demo_data`` (built from the raw upstream files by
``tools/build_demo_data.py``; licences and sources in ``demo_data/SOURCES.md``). Config names, horizons,
windows, metrics and the board are GIFT-Eval's: the short-term configs are GIFT-Eval's own
(``saugeen/D/short``, ...), and the two daily series are also evaluated on the medium and long terms
(``H = 300`` and ``450``), which GIFT-Eval does not list for them.

``toto-bench run --suite demo --model seasonal-naive`` needs no download and runs in seconds.
"""

from __future__ import annotations

from pathlib import Path

from toto_bench.engine.data import SOURCES, Source
from toto_bench.engine.spec import DatasetSpec, Suite
from toto_bench.engine.tasks import TERMS
from toto_bench.suites import gift_eval

#: The packaged data root (one ``save_to_disk`` folder per storage name).
DATA_ROOT: Path = Path(__file__).resolve().parents[1] / "demo_data"

#: Storage names with their terms, in suite order.
DATASETS: dict[str, tuple[str, ...]] = {
    "saugeenday/D": TERMS,
    "saugeenday/W": ("short",),
    "saugeenday/M": ("short",),
    "us_births/D": TERMS,
    "us_births/W": ("short",),
    "us_births/M": ("short",),
}


def config_name(storage_name: str, term: str, data_freq: str | None = None) -> str:
    """GIFT-Eval's config name ``<pretty>/<freq>/<term>`` (``"saugeenday/M"`` → ``"saugeen/M/short"``).

    Raises:
        ValueError: an unknown storage name or term of the demo suite (naming the valid ones), or data of
            another frequency than the name says.
    """
    if storage_name not in DATASETS:
        raise ValueError(f"unknown demo dataset {storage_name!r}; valid: {', '.join(DATASETS)}")
    if term not in DATASETS[storage_name]:
        valid = ", ".join(DATASETS[storage_name])
        raise ValueError(f"demo dataset {storage_name!r} has no {term!r} term; its terms: {valid}")
    freq = gift_eval.config_freq(storage_name, data_freq)
    return f"{gift_eval.pretty_name(storage_name)}/{freq}/{term}"


def suite() -> Suite:
    """The demo :class:`~toto_bench.engine.spec.Suite` (GIFT-Eval protocol and board)."""
    specs = tuple(DatasetSpec(name, terms, gift_eval.domain_of(name)) for name, terms in DATASETS.items())
    return Suite("demo", "demo", specs, config_name, gift_eval.GiftEvalProtocol, board="gift-eval")


SOURCES.setdefault("demo", Source("demo", "", "", known=tuple(DATASETS), default_root=DATA_ROOT))
