"""Suites as declarative specs: which datasets and terms, how configs are named, where data lives.

One protocol engine (:mod:`toto_bench.engine.runner`) serves every suite; a suite only says

- its datasets (storage names) with their terms and metadata (domain, ...),
- how a config is named (``<pretty>/<freq>/<term>`` for GIFT-Eval, ``<ds>/<category>/<term>`` for BOOM),
- where its data comes from (:mod:`toto_bench.engine.data` source: HF repo, env var),
- which model is its seasonal-naive normaliser on the leaderboard,
- which protocol (:class:`~toto_bench.engine.protocol.SuiteProtocol` subclass) the engine applies: GIFT-Eval's
  rules for GIFT-Eval and BOOM (:mod:`toto_bench.suites.gift_eval`), TIME's (:mod:`toto_bench.suites.time`),
  LSF's (:mod:`toto_bench.suites.lsf`).

:class:`~toto_bench.engine.spec.Suite` and :class:`~toto_bench.engine.spec.DatasetSpec` are re-exported here.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from toto_bench.engine.spec import DatasetSpec, Suite
from toto_bench.engine.tasks import freq_label
from toto_bench.suites import custom, demo, gift_eval, lsf, metadata
from toto_bench.suites import time as timebench
from toto_bench.suites.boom import BoomProperties

__all__ = [
    "RUN_SUITES",
    "DatasetSpec",
    "Suite",
    "get_suite",
    "is_suite_file",
    "locate_properties",
    "properties_filename",
]

#: Suites the run engine knows (TIME and LSF have their own protocol variants).
RUN_SUITES: tuple[str, ...] = ("demo", "gift-eval", "boom", "boomlet", "time", "lsf")


def _gift_eval_suite() -> Suite:
    specs = tuple(
        DatasetSpec(name, gift_eval.terms_of(name), gift_eval.domain_of(name))
        for name in gift_eval.STORAGE_NAMES
    )
    return Suite(
        "gift-eval", "gift-eval", specs, gift_eval.config_name, gift_eval.GiftEvalProtocol, board="gift-eval"
    )


def _published_series_count(suite: str, dataset: str) -> int | None:
    """BOOM's published count of ``dataset`` (:func:`metadata.expected_series_count`; Boomlet's datasets are
    BOOM's); ``None`` for a name that BOOM does not have (a ``--properties`` file of the user's datasets)."""
    for source in dict.fromkeys((suite, "boom")):
        try:
            return metadata.expected_series_count(source, dataset)
        except KeyError:
            continue
    return None


def _boom_suite(name: str, properties: BoomProperties) -> Suite:
    specs = tuple(
        DatasetSpec(ds, p.terms, ", ".join(p.domain), _published_series_count(name, ds))
        for ds, p in properties.items()
    )

    def config_name(storage_name: str, term: str, data_freq: str | None = None) -> str:
        if data_freq is not None:
            suffix = storage_name.rsplit("-", 1)[-1]
            if freq_label(data_freq) != suffix:
                raise ValueError(
                    f"BOOM dataset {storage_name!r} holds data of frequency {data_freq!r}, but its name says "
                    f"{suffix!r}: is the folder the right dataset?"
                )
        return f"{storage_name}/{properties[storage_name].frequency}/{term}"

    return Suite(name, "boom", specs, config_name, gift_eval.GiftEvalProtocol)


def _time_suite() -> Suite:
    specs = tuple(DatasetSpec(c.storage_name, c.terms) for c in timebench.TIME_CONFIGS)

    def config_name(storage_name: str, term: str, data_freq: str | None = None) -> str:
        return (
            f"{storage_name}/{term}"  # "{dataset}/{freq}/{term}"; the data's freq is checked by the protocol
        )

    return Suite("time", "time", specs, config_name, timebench.TimeProtocol)


def _lsf_suite() -> Suite:
    specs = tuple(DatasetSpec(d.name, lsf.HORIZONS, series_count=d.variates) for d in lsf.LSF_DATASETS)

    def config_name(storage_name: str, term: str, data_freq: str | None = None) -> str:
        return f"{storage_name}/{term}"  # "ETTh1/96"

    return Suite(
        "lsf",
        "lsf",
        specs,
        config_name,
        lsf.LSFProtocol,
        ("context_length", "stride"),
        term_names=lsf.HORIZONS,
    )


def is_suite_file(name: str | os.PathLike[str]) -> bool:
    """Whether ``name`` names a suite file (``*.yaml`` / ``*.yml``, :mod:`toto_bench.suites.custom`)."""
    return str(name).endswith((".yaml", ".yml"))


def get_suite(name: str, properties: BoomProperties | None = None) -> Suite:
    """The suite ``name``, or the custom suite of the suite file ``name`` (``*.yaml``); BOOM and Boomlet
    use ``properties``, else the packaged copy (:mod:`.metadata`)."""
    if is_suite_file(name):
        return custom.load_suite(name)
    if name == "gift-eval":
        return _gift_eval_suite()
    if name == "demo":
        return demo.suite()
    if name == "time":
        return _time_suite()
    if name == "lsf":
        return _lsf_suite()
    if name in ("boom", "boomlet"):
        if properties is None:
            properties = BoomProperties.from_json(metadata.packaged_path(name))
        return _boom_suite(name, properties)
    raise ValueError(f"unknown suite {name!r}; valid suites: {', '.join(RUN_SUITES)}")


def properties_filename(suite: str) -> str:
    """``boom_properties.json`` or ``boomlet_properties.json``."""
    if suite not in ("boom", "boomlet"):
        raise ValueError(f"suite {suite!r} has no properties file; only boom and boomlet do")
    return f"{suite}_properties.json"


def locate_properties(
    suite: str,
    *,
    properties: str | os.PathLike[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    results_dirs: Sequence[str | os.PathLike[str]] = (),
) -> Path:
    """Find the BOOM/Boomlet properties JSON.

    Search order: ``properties`` (explicit path); ``<data_dir>/<file>``; ``$BOOM/<file>``; ``<file>`` in the
    folder above each results dir (the upstream ``boom/results`` + ``boom/boom_properties.json`` layout);
    else the copy packaged in :mod:`toto_bench.suites.metadata` (DataDog/toto at the revision its
    ``SOURCE.md`` names), so no download is ever needed.

    Raises:
        FileNotFoundError: an explicit ``properties`` path that is not a file.
    """
    name = properties_filename(suite)
    if properties is not None:
        path = Path(properties)
        if not path.is_file():
            raise FileNotFoundError(
                f"--properties {path}: no such file; omit --properties to use the packaged {name}"
            )
        return path
    candidates: list[Path] = []
    if data_dir is not None:
        candidates.append(Path(data_dir) / name)
    if os.environ.get("BOOM"):
        candidates.append(Path(os.environ["BOOM"]) / name)
    candidates += [Path(d).resolve().parent / name for d in results_dirs]
    for path in candidates:
        if path.is_file():
            return path
    return metadata.packaged_path(suite)
