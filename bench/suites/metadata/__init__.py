"""Upstream metadata shipped inside the package: BOOM/Boomlet properties, GIFT-Eval dataset properties.

The files beside this module are unmodified upstream copies (``SOURCE.md`` gives each one's repository,
revision, license and sha256). They are what :func:`toto_bench.suites.locate_properties` falls back to, so
boards and runs never need a download for metadata; ``--properties`` still overrides.

Other engineers call :func:`expected_num_variates` and :func:`expected_series_count` to check a dataset
against the published metadata.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = [
    "BOOM_TRUE_TARGET_DIMS",
    "GIFT_EVAL_PROPERTIES_FILENAME",
    "METADATA_SUITES",
    "expected_num_variates",
    "expected_series_count",
    "gift_eval_properties",
    "packaged_path",
]

#: The GIFT-Eval dataset properties file (``notebooks/dataset_properties.json`` upstream).
GIFT_EVAL_PROPERTIES_FILENAME = "dataset_properties.json"

#: Suites with packaged metadata.
METADATA_SUITES: tuple[str, ...] = ("boom", "boomlet", "gift-eval")

_FILES: dict[str, str] = {
    "boom": "boom_properties.json",
    "boomlet": "boomlet_properties.json",
    "gift-eval": GIFT_EVAL_PROPERTIES_FILENAME,
}


def _check_suite(suite: str) -> str:
    if suite not in _FILES:
        raise ValueError(f"no packaged metadata for suite {suite!r}; valid: {', '.join(METADATA_SUITES)}")
    return suite


def packaged_path(suite: str) -> Path:
    """The packaged metadata file of ``suite`` (``boom_properties.json``, ``boomlet_properties.json`` or
    GIFT-Eval's ``dataset_properties.json``) as a file-system path.

    Raises:
        ValueError: a suite without packaged metadata (naming the valid ones).
        FileNotFoundError: the file is missing from the installation (a broken wheel).
    """
    name = _FILES[_check_suite(suite)]
    path = Path(str(resources.files(__name__).joinpath(name)))
    if not path.is_file():
        raise FileNotFoundError(
            f"packaged metadata {name} missing at {path}: the installation is incomplete; "
            "reinstall toto-bench"
        )
    return path


@cache
def _load(suite: str) -> dict[str, Any]:
    with packaged_path(suite).open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def gift_eval_properties() -> dict[str, dict[str, Any]]:
    """GIFT-Eval's ``dataset_properties.json``: ``{pretty name: {"domain", "frequency", "num_variates"}}``
    (28 datasets; keys as in the config names, e.g. ``"saugeen"``, ``"ett1"``)."""
    return dict(_load("gift-eval"))


def _entry(suite: str, dataset: str) -> dict[str, Any]:
    table = _load(_check_suite(suite))
    key = dataset
    if suite == "gift-eval":
        from toto_bench.suites.gift_eval import pretty_name

        key = pretty_name(dataset) if dataset not in table else dataset
    if key not in table:
        sample = ", ".join(sorted(table)[:5])
        raise KeyError(
            f"dataset {dataset!r} is not in the {suite} metadata ({len(table)} datasets, e.g. {sample})"
        )
    entry: dict[str, Any] = table[key]
    return entry


def expected_num_variates(suite: str, dataset: str) -> int:
    """The published ``num_variates`` of ``dataset``, as upstream (BOOM: see :func:`expected_series_count`).

    ``dataset`` is a BOOM storage name (``"ds-0-T"``) or a GIFT-Eval storage or pretty name (``"ett1/H"``,
    ``"ett1"``).

    Raises:
        ValueError: a suite without packaged metadata. KeyError: a dataset not in it (named).
    """
    return int(_entry(suite, dataset)["num_variates"])


#: BOOM datasets whose published ``num_variates`` exceeds the true target dimension (by 1-4): the true
#: value, implied by the published per-config results (univariate-flattened ``dataset_size`` divided by the
#: multivariate-native one, e.g. chronos_2's). Transcribed from the shared reference's
#: ``data/boom/derived/windows_and_target_dim_per_config.csv`` (docs/boom_protocol.md, "num_variates ... is
#: NOT reliable"); ``tests/test_packaged_metadata.py`` checks all 2807 counts against that table.
BOOM_TRUE_TARGET_DIMS: dict[str, int] = {
    "ds-111-T": 27, "ds-139-5T": 96, "ds-378-T": 4, "ds-489-T": 36, "ds-579-T": 3, "ds-805-10S": 24,
    "ds-953-10S": 12, "ds-1039-T": 27, "ds-1612-5T": 97, "ds-1614-T": 34, "ds-1618-5T": 37,
    "ds-1619-H": 98, "ds-1909-D": 98, "ds-2012-30T": 99, "ds-2206-H": 15, "ds-2332-H": 10,
    "ds-2802-D": 98, "ds-2804-D": 99, "ds-2805-D": 99,
}  # fmt: skip


def expected_series_count(suite: str, dataset: str) -> int:
    """The number of univariate series ``dataset`` yields once multivariate items are split per variate.

    BOOM and Boomlet: each dataset is one multivariate item (docs/boom_protocol.md in the shared reference),
    so the count is its target dimension: the published ``num_variates``, except for the 19 datasets of
    :data:`BOOM_TRUE_TARGET_DIMS` where that field is too large. GIFT-Eval's upstream metadata gives only
    the variates per item, not how many items a dataset holds, so there is no published count to check.

    Raises:
        LookupError: GIFT-Eval (no published series counts; use :func:`expected_num_variates`).
        ValueError: a suite without packaged metadata. KeyError: a dataset not in it (named).
    """
    if suite == "gift-eval":
        raise LookupError(
            "GIFT-Eval publishes no per-dataset series counts (dataset_properties.json holds domain, "
            "frequency and num_variates only); use expected_num_variates('gift-eval', dataset)"
        )
    published = expected_num_variates(suite, dataset)
    return BOOM_TRUE_TARGET_DIMS.get(dataset, published)
