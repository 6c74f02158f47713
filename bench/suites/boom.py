"""BOOM suite definition: properties files, config enumeration and the upstream protocol constants.

Sources (see ``docs/boom_protocol.md`` in the shared folder):

- ``boom_properties.json`` / ``boomlet_properties.json`` (DataDog/toto:boom/): dataset → properties.
- Config enumeration (§2): for each dataset in file order, terms ``short, medium, long`` when the
  dataset's ``term`` is ``"long"``, else ``short`` only; key ``f"{dataset}/{frequency}/{term}"``.
  BOOM = 7413 configs, BOOMLET = 96.
- :data:`LOW_VARIANCE_DATASETS`: the 80 names hard-coded in DataDog/toto:boom/utils/leaderboard.py
  (part of the "flat" split, §6.3).
- :data:`PUBLISHED_MODEL_ORDER`: the model concatenation order that reproduces the published rank
  ties (§6.2), seasonal naive excluded (it always goes last).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toto_bench.engine.data import SOURCES, Source

__all__ = [
    "BOOM_FREQUENCIES",
    "BOOM_NAIVE_MODEL",
    "BOOM_TERMS",
    "LOW_VARIANCE_DATASETS",
    "PUBLISHED_MODEL_ORDER",
    "BoomProperties",
    "DatasetProperties",
    "boom_configs",
    "config_dataset",
    "config_term",
]

#: Name of the seasonal-naive results directory on the BOOM board (the normaliser; ranked last).
BOOM_NAIVE_MODEL = "seasonalnaive"

#: Terms in enumeration order; "medium"/"long" only exist for datasets whose ``term`` is "long".
BOOM_TERMS: tuple[str, ...] = ("short", "medium", "long")

#: Valid ``frequency`` categories of a properties entry (a category, not a pandas alias).
BOOM_FREQUENCIES: tuple[str, ...] = ("Short", "Medium", "Long")

_DATASET_TERMS: dict[str, tuple[str, ...]] = {"long": BOOM_TERMS, "short": ("short",)}

#: LOW_VARIANCE_DATASETS of DataDog/toto:boom/utils/leaderboard.py @46bd92a (80 names, upstream order).
LOW_VARIANCE_DATASETS: tuple[str, ...] = (
    "ds-1040-5T", "ds-462-5T", "ds-2801-D", "ds-947-T", "ds-2332-H", "ds-491-T", "ds-1901-D",
    "ds-1721-30T", "ds-2806-D", "ds-438-5T", "ds-372-10S", "ds-1719-30T", "ds-1902-D", "ds-111-T",
    "ds-2026-D", "ds-2089-H", "ds-299-5T", "ds-1596-T", "ds-4-5T", "ds-1723-H", "ds-953-10S",
    "ds-2394-D", "ds-1838-D", "ds-489-T", "ds-2802-D", "ds-1925-D", "ds-441-10S", "ds-1520-10S",
    "ds-2782-H", "ds-607-10S", "ds-177-5T", "ds-1643-30T", "ds-442-T", "ds-1909-D", "ds-2762-D",
    "ds-1135-5T", "ds-139-5T", "ds-805-10S", "ds-784-T", "ds-949-T", "ds-977-5T", "ds-1641-30T",
    "ds-303-5T", "ds-162-5T", "ds-608-T", "ds-551-T", "ds-2567-30T", "ds-1731-D", "ds-2206-H",
    "ds-206-5T", "ds-1718-H", "ds-1722-D", "ds-1195-10S", "ds-2514-H", "ds-1264-5T", "ds-1720-H",
    "ds-1564-10S", "ds-532-10S", "ds-300-5T", "ds-207-5T", "ds-1039-T", "ds-1733-D", "ds-2805-D",
    "ds-979-T", "ds-1619-H", "ds-1818-H", "ds-492-T", "ds-1894-H", "ds-2804-D", "ds-2012-30T",
    "ds-181-T", "ds-1642-30T", "ds-2027-H", "ds-890-10S", "ds-1768-30T", "ds-458-10S", "ds-1767-H",
    "ds-137-10S", "ds-2197-D", "ds-493-T",
)  # fmt: skip

#: Model concatenation order that reproduces the published BOOM rank ties (boom_protocol §6.2; upstream
#: uses ``os.listdir`` order with seasonal naive moved last). Seasonal naive is NOT listed: it is always
#: placed last. Models not listed here go after these, alphabetically (see
#: :func:`toto_bench.boards.leaderboard.order_models`).
PUBLISHED_MODEL_ORDER: tuple[str, ...] = (
    "visionts", "toto", "autoarima", "toto_2.0_4m", "timesfm_2_0_500m", "timer", "autoets",
    "toto_2.0_2.5b", "moirai_2_small", "chronos_2", "time_moe_50M", "autotheta", "toto_2.0_313m",
    "timesfm_2_5_200m", "chronos_bolt_small", "toto_2.0_1b", "chronos_bolt_base", "time_moe_200M",
    "toto_2.0_22m", "moirai_1.1_small", "moirai_1.1_large", "moirai_1.1_base",
)  # fmt: skip


def config_dataset(config: str) -> str:
    """Dataset part of a config key ``"{dataset}/{frequency}/{term}"`` (e.g. ``ds-0-T``)."""
    return config.split("/", 1)[0]


def config_term(config: str) -> str:
    """Term part (3rd component) of a config key (``short``/``medium``/``long``)."""
    parts = config.split("/")
    if len(parts) != 3:
        raise ValueError(f"config key {config!r} is not of the form 'dataset/frequency/term'")
    return parts[2]


@dataclass(frozen=True)
class DatasetProperties:
    """One entry of a BOOM properties file.

    Attributes:
        domain: one or more of Application Usage, Infrastructure, Database, Networking, Security.
        frequency: category ``Short`` (10S/T/5T/30T), ``Medium`` (H) or ``Long`` (D).
        num_variates: as published (over-states the true target_dim for 19 datasets; informative only).
        term: ``"long"`` (short+medium+long configs) or ``"short"`` (short only).
        type: ``gauge``, ``rate``, ``distribution`` or ``count``.
    """

    domain: tuple[str, ...]
    frequency: str
    num_variates: int
    term: str
    type: str

    @property
    def terms(self) -> tuple[str, ...]:
        """The terms this dataset is evaluated on, in enumeration order."""
        return _DATASET_TERMS[self.term]


def _parse_entry(name: str, raw: Any, source: str) -> DatasetProperties:
    if not isinstance(raw, dict):
        raise ValueError(f"{source}: entry {name!r} must be an object, got {type(raw).__name__}")
    missing = [k for k in ("domain", "frequency", "num_variates", "term", "type") if k not in raw]
    if missing:
        raise ValueError(f"{source}: entry {name!r} lacks keys {missing}")
    domain = raw["domain"]
    if isinstance(domain, str):
        domain = [domain]
    if not isinstance(domain, list) or not domain or not all(isinstance(d, str) for d in domain):
        raise ValueError(
            f"{source}: entry {name!r} has domain={raw['domain']!r}; expected a non-empty list of str"
        )
    if raw["frequency"] not in BOOM_FREQUENCIES:
        raise ValueError(
            f"{source}: entry {name!r} has frequency={raw['frequency']!r}; valid: {list(BOOM_FREQUENCIES)}"
        )
    if raw["term"] not in _DATASET_TERMS:
        raise ValueError(
            f"{source}: entry {name!r} has term={raw['term']!r}; valid: {sorted(_DATASET_TERMS)}"
        )
    if not isinstance(raw["num_variates"], int) or isinstance(raw["num_variates"], bool):
        raise ValueError(
            f"{source}: entry {name!r} has num_variates={raw['num_variates']!r}; expected an int"
        )
    if not isinstance(raw["type"], str):
        raise ValueError(f"{source}: entry {name!r} has type={raw['type']!r}; expected a str")
    return DatasetProperties(
        domain=tuple(domain),
        frequency=raw["frequency"],
        num_variates=int(raw["num_variates"]),
        term=raw["term"],
        type=raw["type"],
    )


@dataclass(frozen=True)
class BoomProperties(Mapping[str, DatasetProperties]):
    """An ordered ``dataset name → DatasetProperties`` mapping (``boom_properties.json`` or the boomlet one).

    Iteration follows the file order, which is the config enumeration order.
    """

    entries: Mapping[str, DatasetProperties]
    source: str = field(default="<memory>", compare=False)

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> BoomProperties:
        """Load a properties JSON file ``{dataset: {domain, frequency, num_variates, term, type}}``."""
        p = Path(path)
        try:
            raw = json.loads(p.read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise ValueError(f"cannot read BOOM properties file {p}: {e}") from e
        return cls.from_dict(raw, source=str(p))

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], *, source: str = "<memory>") -> BoomProperties:
        """Build from an already-parsed properties mapping (insertion order is kept)."""
        if not isinstance(raw, Mapping) or not raw:
            raise ValueError(f"{source}: expected a non-empty JSON object of datasets")
        entries = {str(name): _parse_entry(str(name), v, source) for name, v in raw.items()}
        return cls(entries=entries, source=source)

    def __getitem__(self, name: str) -> DatasetProperties:
        try:
            return self.entries[name]
        except KeyError:
            raise KeyError(f"dataset {name!r} is not in {self.source}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def configs(self) -> list[str]:
        """All config keys in enumeration order (same as :func:`boom_configs`)."""
        return boom_configs(self)


def boom_configs(properties: Mapping[str, DatasetProperties]) -> list[str]:
    """Enumerate the configs of a suite: ``f"{ds}/{frequency}/{term}"`` in properties order (§2).

    Terms are ``short, medium, long`` for datasets with ``term == "long"`` and ``short`` otherwise:
    7413 configs for BOOM, 96 for BOOMLET.
    """
    return [f"{ds}/{p.frequency}/{t}" for ds, p in properties.items() for t in p.terms]


#: Where BOOM's (and Boomlet's) data comes from: any ``ds-<n>-<freq>`` folder of Datadog/BOOM.
SOURCES.setdefault("boom", Source("boom", "Datadog/BOOM", "BOOM", pattern=re.compile(r"^ds-\d+-\w+$")))
