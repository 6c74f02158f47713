"""Custom suites on the user's own data: a suite file (YAML) evaluated with GIFT-Eval's rules.

A suite file, as ``toto-bench data convert`` writes it (:mod:`toto_bench.suites.convert`)::

    name: my_suite              # results go to results/<name>/<model>/
    data: my_suite_data         # the data root, relative to this file (one save_to_disk folder per dataset)
    datasets:
      - name: births            # the folder under the data root
        freq: D                 # checked against the stored data
        terms: [short, medium]  # default: [short]
        domain: Healthcare      # the all_results.csv domain column (default: "")
        horizon: 14             # optional: the short-term horizon H (medium/long: 10x / 15x, like GIFT-Eval)
        windows: 5              # optional: the number of test windows W (default: GIFT-Eval's rule)

Without overrides, each config gets GIFT-Eval's horizon by frequency and term and its rolling windows
``W = min(max(1, ceil(0.1·min_len/H)), 20)``; the board is GIFT-Eval's (normalised by seasonal naive).
Config names are ``<name>/<freq label>/<term>``. Unknown keys are errors naming the key and the valid ones.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from toto_bench.engine.data import SOURCES, Source, StoredDataset
from toto_bench.engine.protocol import DatasetLike, EngineTask
from toto_bench.engine.spec import DatasetSpec, Suite
from toto_bench.engine.tasks import TERMS, Task, build_task, freq_label
from toto_bench.suites.gift_eval import GiftEvalProtocol

__all__ = ["DATASET_KEYS", "SUITE_KEYS", "CustomDataset", "SuiteFileError", "load_suite", "read_suite_file"]

#: Names a suite file cannot take (the built-in suites' results folders).
BUILTIN_SUITES: tuple[str, ...] = ("gift-eval", "demo", "boom", "boomlet", "time", "lsf")

#: The keys of a suite file and of each of its datasets.
SUITE_KEYS: tuple[str, ...] = ("name", "data", "datasets")
DATASET_KEYS: tuple[str, ...] = ("name", "freq", "terms", "domain", "horizon", "windows")


class SuiteFileError(ValueError):
    """A suite file that cannot be used: the message names the file, the key and the valid values."""


@dataclass(frozen=True)
class CustomDataset:
    """One dataset of a suite file.

    Attributes:
        name: the storage folder under the data root.
        freq: the data frequency (pandas alias, checked against the stored ``freq``).
        terms: the terms to evaluate.
        domain: the ``domain`` column of ``all_results.csv``.
        horizon: the short-term horizon override (medium/long: ×10 / ×15); ``None``: GIFT-Eval's.
        windows: the number of test windows override; ``None``: GIFT-Eval's rule.
    """

    name: str
    freq: str
    terms: tuple[str, ...] = ("short",)
    domain: str = ""
    horizon: int | None = None
    windows: int | None = None

    def task(self, config: str, term: str, *, data_freq: str, min_length: int, target_dim: int) -> Task:
        """The config's :class:`~toto_bench.engine.tasks.Task`: GIFT-Eval's H and W unless overridden.

        Raises:
            ValueError: the shortest series cannot hold the windows (naming the config and the lengths).
        """
        try:
            return build_task(
                config=config,
                storage_name=self.name,
                term=term,
                freq=data_freq,
                min_length=min_length,
                target_dim=target_dim,
                base_horizon=self.horizon,
                windows=self.windows,
            )
        except ValueError as exc:
            raise ValueError(f"{exc}; give a smaller horizon/windows or drop the term") from None


class CustomProtocol(GiftEvalProtocol):
    """GIFT-Eval's protocol with a suite file's per-dataset ``horizon`` / ``windows`` overrides.

    :func:`load_suite` makes one subclass per suite file holding its datasets in :attr:`datasets`.
    """

    name: ClassVar[str] = "gift-eval"
    datasets: ClassVar[Mapping[str, CustomDataset]] = {}

    def tasks(
        self, spec: DatasetSpec, terms: Sequence[str], data: DatasetLike, configs: Mapping[str, str]
    ) -> list[EngineTask]:
        assert isinstance(data, StoredDataset)
        entry = self.datasets[spec.storage_name]
        out: list[EngineTask] = []
        for term in terms:
            self.suite.config_name(spec.storage_name, term, data.freq)  # raises if the data's freq disagrees
            out.append(
                entry.task(
                    configs[term],
                    term,
                    data_freq=data.freq,
                    min_length=data.min_length,
                    target_dim=data.target_dim,
                )
            )
        return out


def _check_keys(where: str, given: Mapping[str, Any], valid: Sequence[str]) -> None:
    unknown = [str(k) for k in given if k not in valid]
    if unknown:
        raise SuiteFileError(f"{where}: unknown key(s) {unknown}; valid keys: {', '.join(valid)}")


def _positive(where: str, key: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SuiteFileError(f"{where}: {key} must be a positive integer or absent, got {value!r}")
    return value


def _dataset(path: Path, index: int, raw: Any) -> CustomDataset:
    where = f"suite file {path}, datasets[{index}]"
    if not isinstance(raw, Mapping):
        raise SuiteFileError(f"{where}: expected a mapping with keys {', '.join(DATASET_KEYS)}, got {raw!r}")
    _check_keys(where, raw, DATASET_KEYS)
    for key in ("name", "freq"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise SuiteFileError(f"{where}: `{key}` is required (a string), got {raw.get(key)!r}")
    where = f"suite file {path}, dataset {raw['name']!r}"
    try:
        freq_label(raw["freq"])
    except ValueError as exc:
        raise SuiteFileError(f"{where}: freq {raw['freq']!r} is not a pandas frequency ({exc})") from None
    terms = raw.get("terms", ["short"])
    if isinstance(terms, str):
        terms = [terms]
    if not isinstance(terms, list) or not terms or any(t not in TERMS for t in terms):
        raise SuiteFileError(f"{where}: terms must be a non-empty list of {', '.join(TERMS)}, got {terms!r}")
    domain = raw.get("domain", "")
    if not isinstance(domain, str):
        raise SuiteFileError(f"{where}: domain must be a string, got {domain!r}")
    return CustomDataset(
        name=raw["name"],
        freq=raw["freq"],
        terms=tuple(terms),
        domain=domain,
        horizon=_positive(where, "horizon", raw.get("horizon")),
        windows=_positive(where, "windows", raw.get("windows")),
    )


def read_suite_file(path: str | os.PathLike[str]) -> tuple[str, Path, tuple[CustomDataset, ...]]:
    """``(suite name, data root, datasets)`` of a suite file.

    Raises:
        SuiteFileError: a missing file, bad YAML, an unknown key (naming it and the valid ones), a missing
            or ill-typed value, or a dataset listed twice.
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise SuiteFileError(f"suite file {path} does not exist; write one with `toto-bench data convert`")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise SuiteFileError(f"suite file {path} is not valid YAML: {exc}") from None
    if not isinstance(raw, Mapping):
        raise SuiteFileError(f"suite file {path}: expected a mapping with keys {', '.join(SUITE_KEYS)}")
    _check_keys(f"suite file {path}", raw, SUITE_KEYS)
    name = raw.get("name", path.stem)
    if not isinstance(name, str) or not name or "/" in name or name in BUILTIN_SUITES:
        raise SuiteFileError(f"suite file {path}: name must be a new suite name without '/', got {name!r}")
    data = raw.get("data", f"{path.stem}_data")
    if not isinstance(data, str):
        raise SuiteFileError(f"suite file {path}: data must be a folder path, got {data!r}")
    entries = raw.get("datasets")
    if not isinstance(entries, list) or not entries:
        raise SuiteFileError(f"suite file {path}: `datasets` must be a non-empty list of datasets")
    datasets = tuple(_dataset(path, i, e) for i, e in enumerate(entries))
    names = [d.name for d in datasets]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise SuiteFileError(f"suite file {path}: dataset(s) {twice} listed more than once")
    root = Path(data).expanduser()
    return name, root if root.is_absolute() else (path.parent / root).resolve(), datasets


def load_suite(path: str | os.PathLike[str]) -> Suite:
    """The :class:`~toto_bench.engine.spec.Suite` of a suite file (GIFT-Eval protocol and board).

    Registers the suite's data source (its data root) under the suite's name.
    """
    name, root, datasets = read_suite_file(path)
    by_name = {d.name: d for d in datasets}

    def config_name(storage_name: str, term: str, data_freq: str | None = None) -> str:
        entry = by_name.get(storage_name)
        if entry is None:
            raise ValueError(f"unknown {name} dataset {storage_name!r}; valid: {', '.join(by_name)}")
        if term not in entry.terms:
            terms = ", ".join(entry.terms)
            raise ValueError(f"{name} dataset {storage_name!r} has no {term!r} term; its terms: {terms}")
        if data_freq is not None and freq_label(data_freq) != freq_label(entry.freq):
            raise ValueError(
                f"{name} dataset {storage_name!r} holds data of frequency {data_freq!r}, but the suite file "
                f"says freq {entry.freq!r}: fix `freq` in {path} or convert the data again"
            )
        return f"{storage_name}/{freq_label(entry.freq)}/{term}"

    protocol = type(f"CustomProtocol_{name}", (CustomProtocol,), {"datasets": by_name})
    SOURCES[name] = Source(name, "", "", known=tuple(by_name), default_root=root)
    specs = tuple(DatasetSpec(d.name, d.terms, d.domain) for d in datasets)
    return Suite(name, name, specs, config_name, protocol, board="gift-eval")
