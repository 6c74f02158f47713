"""The declarative spec of a suite as the engine reads it: :class:`Suite` and its :class:`DatasetSpec` s.

The suites themselves (which datasets, which protocol) are defined in :mod:`toto_bench.suites`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from toto_bench.engine.tasks import TERMS, did_you_mean

if TYPE_CHECKING:
    from toto_bench.engine.protocol import SuiteProtocol

__all__ = ["DatasetSpec", "Suite"]


@dataclass(frozen=True)
class DatasetSpec:
    """One stored dataset of a suite and the configs it yields.

    Attributes:
        storage_name: the folder under the data root (``ett1/H``, ``m4_hourly``, ``ds-0-T``).
        terms: the terms evaluated on it, in order.
        domain: the ``domain`` column written to ``all_results.csv``.
        series_count: the number of univariate series (variates summed over the stored items) that the
            suite's upstream publishes for this dataset; checked when the dataset is opened, so a folder or
            file that lost series fails naming the dataset, the expected and the found count. ``None`` where
            upstream publishes none (GIFT-Eval, TIME, user suites): then only the count recorded in the
            folder's own ``dataset_info.json`` is checked.
    """

    storage_name: str
    terms: tuple[str, ...]
    domain: str = ""
    series_count: int | None = None


@dataclass(frozen=True)
class Suite:
    """A benchmark suite: its datasets, naming rule and evaluation protocol (a declarative spec).

    Attributes:
        name: ``gift-eval``, ``boom``, ``boomlet``, ``time`` or ``lsf``.
        data_source: key of :data:`toto_bench.engine.data.SOURCES` (``gift-eval``, ``boom``, ``time``), or
            ``lsf`` (CSV files, located by :class:`toto_bench.suites.lsf.LSFProtocol`).
        datasets: the datasets in upstream enumeration order.
        config_name: ``(storage_name, term, data_freq) -> config`` naming rule.
        protocol: the :class:`~toto_bench.engine.protocol.SuiteProtocol` subclass the engine builds for a run
            (GIFT-Eval's for GIFT-Eval and BOOM, TIME's, LSF's); the suite modules define them.
        protocol_options: the run options the protocol takes (LSF: ``context_length``, ``stride``, from
            ``toto-bench run --context-length/--stride``); any other is an error naming these.
        term_names: the valid terms (``short/medium/long``; LSF: the horizons ``96/192/336/720``).
        board: the leaderboard its results go on (``gift-eval`` for the demo and custom suites, which
            follow GIFT-Eval's rules); ``""``: the suite's own board (``name``).
    """

    name: str
    data_source: str
    datasets: tuple[DatasetSpec, ...]
    config_name: Callable[[str, str, str | None], str]
    protocol: type[SuiteProtocol]
    protocol_options: tuple[str, ...] = ()
    term_names: tuple[str, ...] = TERMS
    board: str = ""

    def dataset(self, storage_name: str) -> DatasetSpec:
        """The spec of ``storage_name``; unknown names get close matches."""
        for spec in self.datasets:
            if spec.storage_name == storage_name:
                return spec
        names = [d.storage_name for d in self.datasets]
        raise ValueError(
            f"unknown {self.name} dataset {storage_name!r}{did_you_mean(storage_name, names)}; "
            f"the suite has {len(names)} datasets (e.g. {', '.join(names[:3])})"
        )

    def select(
        self, datasets: Sequence[str] | None = None, terms: Sequence[str] | None = None
    ) -> list[DatasetSpec]:
        """The datasets to run (all, or ``datasets`` in the given order), restricted to ``terms``.

        Raises:
            ValueError: for an unknown dataset or term, naming it and the valid ones.
        """
        if terms is not None:
            bad = [t for t in terms if t not in self.term_names]
            if bad:
                raise ValueError(f"unknown term(s) {bad}; valid terms: {', '.join(self.term_names)}")
        chosen = list(self.datasets) if not datasets else [self.dataset(d) for d in datasets]
        if terms is None:
            return chosen
        out = []
        for spec in chosen:
            kept = tuple(t for t in spec.terms if t in terms)
            if kept:
                out.append(dataclasses.replace(spec, terms=kept))
        return out

    def configs(self) -> list[str]:
        """Every config name of the suite in enumeration order."""
        return [self.config_name(d.storage_name, t, None) for d in self.datasets for t in d.terms]
