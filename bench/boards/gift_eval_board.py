"""The GIFT-Eval board's breakdowns and row filters, as the GIFT-Eval leaderboard space shows them.

The space (Hugging Face ``Salesforce/GIFT-Eval``, ``src/utils.py``: ``get_grouped_dfs``, ``group_by``,
``unify_freq``, ``pivot_existed_df``) computes everything once over ALL result folders:

- per config, the normalised CRPS is ranked over every model (the ``rank`` column);
- the overall tab aggregates per model; the ``domain``, ``term_length``, ``frequency`` and
  ``univariate`` tabs group the same per-config values first: ``scipy.stats.gmean`` of the normalised
  MASE and CRPS and the arithmetic mean of the (overall) CRPS rank per (group value, model);
- ``domain`` and ``num_variates`` come from ``dataset_properties.json`` by dataset name (they replace
  the columns of the results files, so files that lack ``domain`` are grouped like the others);
  ``frequency`` is the config key's frequency with digits and any ``-anchor`` removed, spelled out
  (``15T`` → ``Minutely``, ``10S`` → ``Secondly``, ``A`` → ``Yearly``); variate type is
  ``univariate`` when ``num_variates == 1``, else ``multivariate``;
- the model-type and test-leakage checkboxes only hide rows: no rank is recomputed.

:func:`hide_models` is that row filter; a board computed on fewer models (``--rerank``) re-ranks instead.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from toto_bench.boards.leaderboard import Leaderboard
from toto_bench.metrics.aggregate import gmean
from toto_bench.suites import gift_eval as gift_eval_suite

#: ``--breakdown`` value → the space's tab (its group column) for the GIFT-Eval board, in tab order.
GIFT_EVAL_BREAKDOWNS: dict[str, str] = {
    "domain": "domain",
    "term": "term_length",
    "frequency": "frequency",
    "type": "variate_type",
}

#: The breakdown tables of each group: normalised MASE and CRPS (gmean) and the mean overall CRPS rank.
BREAKDOWN_METRICS: tuple[str, ...] = ("MASE", "CRPS", "CRPS_Rank")

#: The space's ``unify_freq`` spelling of a frequency letter.
FREQUENCY_NAMES: dict[str, str] = {
    "T": "Minutely",
    "H": "Hourly",
    "D": "Daily",
    "W": "Weekly",
    "M": "Monthly",
    "Q": "Quarterly",
    "Y": "Yearly",
    "A": "Yearly",
    "S": "Secondly",
}

PROPERTIES_FILENAME = "dataset_properties.json"


@dataclass(frozen=True)
class GiftEvalProperties:
    """What the breakdowns need of each dataset: ``{dataset: (domain, num_variates)}``, and its source."""

    entries: Mapping[str, tuple[str, int]]
    source: str

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> GiftEvalProperties:
        """Read the upstream ``dataset_properties.json`` (``{dataset: {domain, frequency, num_variates}}``).

        Raises:
            ValueError: not a JSON object of objects, or an entry without ``domain``/``num_variates``.
        """
        source = str(path)
        try:
            raw = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"{source}: cannot read the GIFT-Eval dataset properties: {exc}") from exc
        if not isinstance(raw, dict):
            raise ValueError(f"{source}: expected a JSON object {{dataset: {{domain, num_variates}}}}")
        entries: dict[str, tuple[str, int]] = {}
        for name, entry in raw.items():
            if not isinstance(entry, dict) or "domain" not in entry or "num_variates" not in entry:
                raise ValueError(f"{source}: entry {name!r} needs 'domain' and 'num_variates', got {entry!r}")
            entries[str(name)] = (str(entry["domain"]), int(entry["num_variates"]))
        return cls(entries=entries, source=source)

    @classmethod
    def builtin(cls) -> GiftEvalProperties:
        """The published values kept in :mod:`toto_bench.suites.gift_eval` (``DOMAINS``, ``NUM_VARIATES``)."""
        entries = {
            name: (domain, gift_eval_suite.NUM_VARIATES[name])
            for name, domain in gift_eval_suite.DOMAINS.items()
        }
        return cls(entries=entries, source="toto_bench.suites.gift_eval (published dataset_properties.json)")

    def lookup(self, dataset: str) -> tuple[str, int]:
        try:
            return self.entries[dataset]
        except KeyError:
            raise ValueError(
                f"dataset {dataset!r} is not in the GIFT-Eval dataset properties ({self.source}); "
                f"known: {', '.join(sorted(self.entries))}"
            ) from None


def locate_gift_eval_properties(
    properties: str | os.PathLike[str] | None, results_dirs: Sequence[str | os.PathLike[str]]
) -> GiftEvalProperties:
    """``--properties`` if given, else ``dataset_properties.json`` in the folder above a results dir (the
    published ``gift-eval/results`` + ``gift-eval/dataset_properties.json`` layout), else the built-in
    published values.

    Raises:
        FileNotFoundError: an explicit ``--properties`` path that does not exist.
    """
    if properties is not None:
        path = Path(properties)
        if not path.is_file():
            raise FileNotFoundError(f"--properties {path}: no such file")
        return GiftEvalProperties.from_json(path)
    for d in results_dirs:
        path = Path(d).resolve().parent / PROPERTIES_FILENAME
        if path.is_file():
            return GiftEvalProperties.from_json(path)
    return GiftEvalProperties.builtin()


def frequency_name(freq: str) -> str:
    """The space's ``unify_freq``: ``"15T"`` → ``"Minutely"``, ``"W-SUN"`` → ``"Weekly"``; an unknown letter
    is kept as it is (as upstream's ``replace`` does)."""
    letters = "".join(ch for ch in freq if not ch.isdigit()).split("-")[0]
    return FREQUENCY_NAMES.get(letters, letters)


def config_groups(configs: Sequence[str], properties: GiftEvalProperties) -> pd.DataFrame:
    """The group label of every config for each breakdown.

    Args:
        configs: config keys ``"<dataset>/<freq>/<term>"``.

    Returns:
        index = ``configs``, columns = :data:`GIFT_EVAL_BREAKDOWNS` values (``domain``, ``term_length``,
        ``frequency``, ``variate_type``).

    Raises:
        ValueError: a config key without three parts, or a dataset the properties do not know.
    """
    rows = []
    for config in configs:
        parts = str(config).split("/")
        if len(parts) != 3:
            raise ValueError(f"GIFT-Eval config key {config!r} is not '<dataset>/<freq>/<term>'")
        dataset, freq, term = parts
        domain, num_variates = properties.lookup(dataset)
        rows.append(
            {
                "domain": domain,
                "term_length": term,
                "frequency": frequency_name(freq),
                "variate_type": "univariate" if num_variates == 1 else "multivariate",
            }
        )
    return pd.DataFrame(rows, index=pd.Index(list(configs), name="dataset"))


def gift_eval_breakdowns(
    board: Leaderboard, properties: GiftEvalProperties
) -> dict[str, dict[str, pd.DataFrame]]:
    """The space's breakdown tabs of a computed GIFT-Eval ``board``.

    For each group (``domain``, ``term_length``, ``frequency``, ``variate_type``) and group value, per
    model over the configs of that value the model has: ``gmean`` of the normalised MASE and CRPS
    (``board.config_values``) and the mean of the per-config CRPS rank computed over all the board's
    models (``board.config_ranks["CRPS"]``).

    Returns:
        ``{group: {"MASE" | "CRPS" | "CRPS_Rank": DataFrame}}``; each table has index ``model`` in the
        board's row order and one column per group value (sorted, as the space's ``pivot_table``); NaN
        where a model has no config of that value.
    """
    if board.board != "gift_eval" or board.config_present is None:
        raise ValueError(f"GIFT-Eval breakdowns need a GIFT-Eval board, got {board.board!r}")
    present = board.config_present
    configs = list(present.index)
    labels = config_groups(configs, properties)
    models = [str(m) for m in board.table["model"]]
    values = {"MASE": board.config_values["MASE"], "CRPS": board.config_values["CRPS"]}
    ranks = board.config_ranks["CRPS"]
    out: dict[str, dict[str, pd.DataFrame]] = {}
    for group in GIFT_EVAL_BREAKDOWNS.values():
        tables: dict[str, dict[str, list[float]]] = {metric: {} for metric in BREAKDOWN_METRICS}
        for value in sorted(labels[group].unique()):
            rows = (labels[group] == value).to_numpy()
            columns: dict[str, list[float]] = {metric: [] for metric in BREAKDOWN_METRICS}
            for model in models:
                have = rows & present[model].to_numpy()
                if not have.any():
                    for column in columns.values():
                        column.append(float("nan"))
                    continue
                columns["MASE"].append(gmean(values["MASE"][model].to_numpy()[have]))
                columns["CRPS"].append(gmean(values["CRPS"][model].to_numpy()[have]))
                columns["CRPS_Rank"].append(float(np.mean(ranks[model].to_numpy()[have])))
            for metric, column in columns.items():
                tables[metric][str(value)] = column
        out[group] = {
            metric: pd.DataFrame(cols, index=pd.Index(models, name="model"))
            for metric, cols in tables.items()
        }
    return out


def space_name(model: str, frame: pd.DataFrame) -> str:
    """The name the space knows a model by: its file's ``model`` column (the most frequent value when a
    file holds several, e.g. ``Zeus``), else the folder name."""
    names: Mapping[str, int] = frame.attrs.get("model_names") or {}
    if not names:
        return model
    return max(names.items(), key=lambda item: (item[1], item[0]))[0]


def space_tie_order(results: Mapping[str, pd.DataFrame]) -> list[str]:
    """The models in the order the space breaks ``method="first"`` ties: its rows are sorted by the
    ``model`` column of the files (``sort_values(by=["model", "dataset"])``), so by :func:`space_name`,
    case-sensitive (``Chronos-2`` < ``ZooCast-Top1`` < ``aaa``); folder names break ties between equal
    names (identical files)."""
    return sorted(results, key=lambda model: (space_name(model, results[model]), model))


def hide_models(board: Leaderboard, keep: Collection[str]) -> Leaderboard:
    """The board with only the rows of ``keep`` shown (the space's checkboxes): every number, rank and
    imputation count stays what it was over all models."""
    wanted = set(keep)
    table = board.table[board.table["model"].isin(wanted)].reset_index(drop=True)
    imputed = board.imputed.loc[[m for m in board.imputed.index if m in wanted]]
    breakdowns = {
        group: {
            metric: frame.loc[[m for m in frame.index if m in wanted]] for metric, frame in tables.items()
        }
        for group, tables in board.metric_breakdowns.items()
    }
    return dataclasses.replace(board, table=table, imputed=imputed, metric_breakdowns=breakdowns)
