"""Leaderboards that reproduce the published BOOM, GIFT-Eval and TIME boards exactly.

Inputs are *metric frames* (see :mod:`toto_bench.engine.results`): ``{model: DataFrame}`` with the config/task
key as index (``"dataset"``) and canonical metric columns (``MASE``, ``MAE``, ``CRPS``). Raw
``all_results.csv`` tables (key in a ``dataset`` column, upstream column names) are accepted too.

BOOM (DataDog/toto:boom/utils/leaderboard.py; spec: shared ``docs/boom_protocol.md`` §6):

1. configs = the suite's properties enumeration (7413 BOOM / 96 BOOMLET); results files may hold more
   configs for BOOMLET (full-BOOM files are filtered), never fewer.
2. flat split = LOW_VARIANCE_DATASETS ∪ {dataset : seasonal-naive MASE == 0 on ≥ 1 config}, per dataset.
3. per model and split: ±inf → NaN → that model's column mean over the split (counted in ``imputed``).
4. non-flat: MASE and CRPS divided by the (imputed) seasonal-naive values; flat: raw MAE and CRPS.
5. per config, CRPS ranked over all models (``method="first"`` in the model order of
   :func:`order_models` by default, seasonal naive last).
6. per model: shifted gmean (eps 1e-5) of each metric, arithmetic mean of ranks; rows sorted by the
   non-flat mean rank.
7. breakdowns (full BOOM only, upstream computes none for BOOMLET → ``{}``): non-flat scaled MASE/CRPS,
   shifted gmean per (model, group) for groups ``full_benchmark``, ``real_term``, ``type``, ``domain``.

GIFT-Eval (the leaderboard space's ``src/utils.py``: ``get_grouped_dfs`` / ``standardize_df``): NaN
cells filled with the column mean over ALL rows of all models, then MASE and CRPS divided by the
seasonal-naive value of the same config; per config, normalised CRPS and normalised MASE are ranked with
``method="first"`` over rows sorted by model name; per model ``scipy.stats.gmean`` of the normalised
values and arithmetic mean of the ranks.

TIME (zqiao11/TIME:scripts/compute_local_leaderboard.py; shared ``docs/time_lsf_protocol.md`` §A.6):
per task, MASE/CRPS divided by seasonal naive (NaN where the baseline is 0 or NaN, ±inf → NaN; tasks
without a baseline dropped); NaN-ignoring gmean over tasks; ranks of the RAW task values
(``method="first"``) averaged over the tasks that have a baseline; sorted by normalised MASE.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from toto_bench.engine.results import KEY_COLUMN, ResultsError, normalize_results_frame
from toto_bench.metrics.aggregate import (
    Ties,
    check_ties,
    frame_shifted_gmean,
    gmean,
    impute_column_mean,
    nan_gmean,
    nonfinite_count,
    rank_columns,
)
from toto_bench.suites.boom import (
    LOW_VARIANCE_DATASETS,
    PUBLISHED_MODEL_ORDER,
    BoomProperties,
    boom_configs,
    config_dataset,
    config_term,
)

__all__ = [
    "BREAKDOWN_GROUPS",
    "NAIVE_MODEL_NAMES",
    "Leaderboard",
    "boom_leaderboard",
    "find_naive_model",
    "gift_eval_leaderboard",
    "imputation_warnings",
    "order_models",
    "time_leaderboard",
]

#: Names recognised as the seasonal-naive normaliser (BOOM dir name, GIFT-Eval/TIME names).
NAIVE_MODEL_NAMES: tuple[str, ...] = ("seasonalnaive", "seasonal_naive", "Seasonal_Naive")

#: BOOM breakdown groupings, in upstream file order.
BREAKDOWN_GROUPS: tuple[str, ...] = ("full_benchmark", "real_term", "type", "domain")

Suite = Literal["boom", "boomlet"]


@dataclass(frozen=True)
class Leaderboard:
    """A computed leaderboard and everything needed to audit it.

    Attributes:
        table: the board, values unrounded. BOOM: exactly the upstream ``boom_leaderboard.csv`` schema and
            row order — columns ``model, MASE-{n1}-scaled, CRPS-{n1}-scaled, Rank-{n1}-scaled,
            eval_metrics/MAE[0.5]-{n2}-unscaled, CRPS-{n2}-unscaled, Rank-{n2}-unscaled`` (n1/n2 =
            non-flat/flat config counts), rows by non-flat mean rank. GIFT-Eval: ``model, MASE, MASE_Rank,
            CRPS, CRPS_Rank`` (rows by CRPS rank, ties by model name, as the space sorts). TIME: ``model,
            MASE (norm.), CRPS (norm.), MASE_rank, CRPS_rank`` (rows by normalised MASE). RangeIndex.
        breakdowns: BOOM only: ``{group: (MASE table, CRPS table)}`` for ``full_benchmark``,
            ``real_term``, ``type``, ``domain``; each table has index ``model`` (sorted) and one column
            per group value (sorted) — the schema of ``breakdown_tabels/{group}_{MASE|CRPS}_shifted_gmean
            .csv``. Empty for BOOMLET (upstream computes none), GIFT-Eval and TIME.
        imputed: index model (model order); number of cells imputed per metric. BOOM: NaN/±inf cells
            mean-imputed, columns ``nonflat_MASE, nonflat_CRPS, flat_MAE, flat_CRPS``. GIFT-Eval: NaN
            cells filled, columns ``MASE, CRPS``. TIME (no imputation): tasks whose normalised value was
            NaN and was left out of the gmean, columns ``MASE_dropped, CRPS_dropped``.
        imputed_configs: BOOM and GIFT-Eval: ``{model: {metric column of imputed: [configs imputed]}}`` for
            the models with imputed cells (what :func:`imputation_warnings` names); empty otherwise.
        model_order: the order used to break rank ties (``ties="first"``).
        flat_datasets: BOOM flat-split dataset names (sorted); empty for other boards.
        split_sizes: counts, e.g. BOOM ``{"datasets", "configs", "flat_datasets", "flat_configs",
            "nonflat_configs"}``; GIFT-Eval/TIME ``{"configs"}``.
        config_ranks: per-config ranks, ``{name: DataFrame[config × model]}`` with columns in model order.
            BOOM ``nonflat``/``flat``; GIFT-Eval and TIME ``MASE``/``CRPS``.
        config_values: the per-config values that were aggregated/ranked, ``{name: DataFrame[config ×
            model]}``. BOOM: ``nonflat_MASE``/``nonflat_CRPS`` (imputed, naive-scaled), ``flat_MAE``/
            ``flat_CRPS`` (imputed, raw). GIFT-Eval: ``MASE``/``CRPS`` (filled, normalised). TIME:
            ``MASE``/``CRPS`` normalised (baselined tasks only; the ranks use the raw values).
        board: ``"boom"``, ``"boomlet"``, ``"gift_eval"`` or ``"time"``.
        ties: the tie rule used.
        config_present: GIFT-Eval only: ``[config × model]`` bool, the cells of ``config_values`` that enter
            each model's gmean (the model has that config; a present NaN propagates as upstream). ``None``
            for the other boards (BOOM aggregates every cell, TIME the non-NaN ones).
        metric_breakdowns: GIFT-Eval only (the space's tabs, added by
            :func:`toto_bench.boards.gift_eval_board.gift_eval_breakdowns`):
            ``{group: {"MASE" | "CRPS" | "CRPS_Rank": DataFrame[model × group value]}}``; empty otherwise.
    """

    table: pd.DataFrame
    breakdowns: dict[str, tuple[pd.DataFrame, pd.DataFrame]]
    imputed: pd.DataFrame
    model_order: list[str]
    flat_datasets: list[str] = field(default_factory=list)
    split_sizes: dict[str, int] = field(default_factory=dict)
    config_ranks: dict[str, pd.DataFrame] = field(default_factory=dict)
    config_values: dict[str, pd.DataFrame] = field(default_factory=dict)
    board: str = ""
    ties: str = "first"
    config_present: pd.DataFrame | None = None
    metric_breakdowns: dict[str, dict[str, pd.DataFrame]] = field(default_factory=dict)
    imputed_configs: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    @property
    def flat_split_sizes(self) -> tuple[int, int, int]:
        """BOOM ``(flat datasets, flat configs, non-flat configs)``, e.g. ``(253, 663, 6750)``."""
        s = self.split_sizes
        return s.get("flat_datasets", 0), s.get("flat_configs", 0), s.get("nonflat_configs", 0)


# --------------------------------------------------------------------------------------------------
# model order


def order_models(names: Iterable[str]) -> list[str]:
    """The tie-break model order: published BOOM order, then other models alphabetically, naive last.

    ``names`` in :data:`~toto_bench.suites.boom.PUBLISHED_MODEL_ORDER` come first in that order; every other
    name follows in ``sorted`` order; the seasonal-naive model (any of :data:`NAIVE_MODEL_NAMES`) is
    last. With ``ties="first"`` an earlier model wins a tie.

    Raises:
        ValueError: duplicate names, or more than one seasonal-naive name.
    """
    names = list(names)
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"duplicate model names: {dup}")
    naive = [n for n in names if n in NAIVE_MODEL_NAMES]
    if len(naive) > 1:
        raise ValueError(
            f"several seasonal-naive models {naive}; keep exactly one of {list(NAIVE_MODEL_NAMES)}"
        )
    present = set(names)
    published = [m for m in PUBLISHED_MODEL_ORDER if m in present]
    others = sorted(present - set(published) - set(naive))
    return published + others + naive


def find_naive_model(names: Iterable[str], naive_model: str | None = None) -> str:
    """Return the seasonal-naive model's name among ``names`` (``naive_model`` if given).

    Raises:
        ValueError: it is absent, or several of :data:`NAIVE_MODEL_NAMES` are present.
    """
    names = list(names)
    if naive_model is not None:
        if naive_model not in names:
            raise ValueError(f"naive_model={naive_model!r} is not among the models {sorted(names)}")
        return naive_model
    hits = [n for n in names if n in NAIVE_MODEL_NAMES]
    if len(hits) != 1:
        what = "no" if not hits else f"several ({hits})"
        raise ValueError(
            f"{what} seasonal-naive model among {sorted(names)}; expected exactly one of "
            f"{list(NAIVE_MODEL_NAMES)} (or pass naive_model=)"
        )
    return hits[0]


def _resolve_order(names: Sequence[str], model_order: Sequence[str] | None, default: list[str]) -> list[str]:
    if model_order is None:
        return default
    order = list(model_order)
    if sorted(order) != sorted(names) or len(set(order)) != len(order):
        missing = sorted(set(names) - set(order))
        extra = sorted(set(order) - set(names))
        raise ValueError(
            f"model_order must list every model exactly once; missing {missing}, unknown {extra}, "
            f"duplicates {sorted({m for m in order if order.count(m) > 1})}"
        )
    return order


# --------------------------------------------------------------------------------------------------
# helpers


def _metric_frames(results: Mapping[str, pd.DataFrame], metrics: Sequence[str]) -> dict[str, pd.DataFrame]:
    if not results:
        raise ValueError("no results given")
    out: dict[str, pd.DataFrame] = {}
    for model, df in results.items():
        if df.index.name == KEY_COLUMN and all(m in df.columns for m in metrics):
            frame = df[list(metrics)].astype(np.float64)
            if frame.index.duplicated().any():
                dup = frame.index[frame.index.duplicated()].unique()
                raise ResultsError(f"model {model!r}: duplicate config keys, e.g. {list(dup[:5])}")
        else:
            frame = normalize_results_frame(df, required_columns=metrics, source=f"model {model!r}")
        out[model] = frame
    return out


def _wide(
    frames: Mapping[str, pd.DataFrame], metric: str, index: Sequence[str], order: Sequence[str]
) -> pd.DataFrame:
    """``[config × model]`` matrix of one metric (columns in ``order``; NaN where a model lacks a config)."""
    return pd.DataFrame(
        {m: frames[m][metric].reindex(list(index)).to_numpy() for m in order},
        index=pd.Index(index, name=KEY_COLUMN),
    )


def _cells_by_model(cells: Mapping[str, pd.DataFrame]) -> dict[str, dict[str, list[str]]]:
    """``{metric: bool [config × model]}`` → ``{model: {metric: [configs where True]}}`` (models and metrics
    without a True cell left out)."""
    out: dict[str, dict[str, list[str]]] = {}
    for metric, mask in cells.items():
        for model in mask.columns:
            configs = [str(c) for c in mask.index[mask[model].to_numpy()]]
            if configs:
                out.setdefault(str(model), {})[metric] = configs
    return out


#: At most this many configs are named per model in an imputation warning.
WARN_CONFIGS = 5


def imputation_warnings(board: Leaderboard) -> list[str]:
    """One line per set of imputed cells of ``board``: the count per metric and the first configs, e.g.
    ``3 NaN cell(s) of model 'x' imputed (MASE 2, CRPS 1): ett1/H/short (MASE, CRPS), ...``.

    Models whose imputed cells are the same (metric, config) pairs share one line that names them all
    (``... cell(s) each of 18 models ('a', 'b', ...)``): on the published BOOM board most models have the
    same 29 low-variance cells, which would otherwise be 23 near-identical lines. Only the models on the
    board's table (hidden rows are left out); empty for boards that impute nothing.
    """
    kind = "NaN/inf" if board.board in ("boom", "boomlet") else "NaN"
    how = (
        "the model's column mean over the split (upstream BOOM)"
        if board.board in ("boom", "boomlet")
        else "the column mean of every model's rows (the GIFT-Eval space)"
    )
    shown = set(board.table["model"]) if "model" in board.table else set(board.model_order)
    groups: dict[tuple[tuple[str, tuple[str, ...]], ...], list[str]] = {}
    for model in board.model_order:
        by_metric = board.imputed_configs.get(model)
        if by_metric and model in shown:
            key = tuple((metric, tuple(configs)) for metric, configs in by_metric.items())
            groups.setdefault(key, []).append(model)
    lines = []
    for key, models in groups.items():
        by_metric = {metric: list(configs) for metric, configs in key}
        total = sum(len(c) for c in by_metric.values())
        counts = ", ".join(f"{metric} {len(configs)}" for metric, configs in by_metric.items())
        metrics_of: dict[str, list[str]] = {}
        for metric, configs in by_metric.items():
            for config in configs:
                metrics_of.setdefault(config, []).append(metric)
        named = sorted(metrics_of)[:WARN_CONFIGS]
        listed = ", ".join(f"{c} ({', '.join(metrics_of[c])})" for c in named)
        more = f", and {len(metrics_of) - len(named)} more config(s)" if len(metrics_of) > len(named) else ""
        who = (
            f"of model {models[0]!r}"
            if len(models) == 1
            else f"each of {len(models)} models ({', '.join(repr(m) for m in models)})"
        )
        lines.append(f"{total} {kind} cell(s) {who} imputed with {how} ({counts}): {listed}{more}")
    return lines


def _sgm_table(scaled: pd.DataFrame, labels: pd.Series, group: str) -> pd.DataFrame:
    """Shifted gmean per (group value, model) → index model (sorted), columns group values (sorted)."""
    cols = {}
    for value in sorted(labels.unique()):
        rows = labels.index[labels.to_numpy() == value]
        cols[value] = frame_shifted_gmean(scaled.loc[rows])
    out = pd.DataFrame(cols)
    out = out.loc[sorted(out.index)]
    out.index.name = "model"
    out.columns.name = group
    return out


# --------------------------------------------------------------------------------------------------
# BOOM


def boom_leaderboard(
    results: Mapping[str, pd.DataFrame],
    properties: BoomProperties,
    *,
    suite: Suite,
    ties: Ties = "first",
    model_order: Sequence[str] | None = None,
    naive_model: str | None = None,
) -> Leaderboard:
    """Compute the BOOM or BOOMLET leaderboard (upstream ``boom/utils/leaderboard.py``; module docstring).

    Args:
        results: ``{model: metric frame}`` with ``MASE``, ``MAE``, ``CRPS`` columns (from
            :func:`toto_bench.engine.results.load_results`); the model name is the results directory name.
            Must include the seasonal-naive model (``seasonalnaive``).
        properties: the suite's properties — ``boom_properties.json`` for ``suite="boom"``,
            ``boomlet_properties.json`` for ``suite="boomlet"``. Its config enumeration is the board's
            config set.
        suite: ``"boom"`` (results must hold exactly the configs; breakdowns computed) or ``"boomlet"``
            (results may hold more configs, e.g. full-BOOM files, which are filtered; no breakdowns,
            as upstream).
        ties: ``"first"`` (upstream: tie goes to the earlier model in ``model_order``) or ``"average"``.
        model_order: tie-break order, every model exactly once; default :func:`order_models`.
        naive_model: name of the seasonal-naive model if not one of :data:`NAIVE_MODEL_NAMES`.

    Returns:
        :class:`Leaderboard` (``table`` in the exact ``{suite}_leaderboard.csv`` schema, unrounded).

    Raises:
        ResultsError: a model lacks configs of the suite (or has extra ones for ``suite="boom"``).
        ValueError: bad ``suite``/``ties``/``model_order``, no seasonal-naive model.
    """
    if suite not in ("boom", "boomlet"):
        raise ValueError(f"suite={suite!r} is not supported; valid values: 'boom', 'boomlet'")
    check_ties(ties)
    frames = _metric_frames(results, ("MASE", "MAE", "CRPS"))
    names = list(frames)
    naive = find_naive_model(names, naive_model)
    order = _resolve_order(names, model_order, order_models(names))

    configs = boom_configs(properties)
    config_set = set(configs)
    for model in order:
        idx = frames[model].index
        idx_set = set(idx)
        missing = [c for c in configs if c not in idx_set]
        extra = [c for c in idx if c not in config_set] if suite == "boom" else []
        if missing or extra:
            src = frames[model].attrs.get("source", f"model {model!r}")
            parts = []
            if missing:
                parts.append(
                    f"{len(missing)} of the {len(configs)} {suite} configs missing, e.g. {missing[:5]}"
                )
            if extra:
                parts.append(f"{len(extra)} configs not in {properties.source}, e.g. {extra[:5]}")
            raise ResultsError(f"{src}: " + "; ".join(parts))

    mase = _wide(frames, "MASE", configs, order)
    mae = _wide(frames, "MAE", configs, order)
    crps = _wide(frames, "CRPS", configs, order)

    # flat split, per dataset, from the raw seasonal-naive MASE
    datasets = pd.Series([config_dataset(c) for c in configs], index=mase.index)
    zero_mase = set(datasets[mase[naive].to_numpy() == 0.0])
    flat_ds = sorted((set(LOW_VARIANCE_DATASETS) | zero_mase) & set(datasets))
    is_flat = datasets.isin(flat_ds).to_numpy()
    nonflat_idx = mase.index[~is_flat]
    flat_idx = mase.index[is_flat]

    # imputation per model and split, before scaling
    nf_mase_raw, nf_crps_raw = mase.loc[nonflat_idx], crps.loc[nonflat_idx]
    f_mae_raw, f_crps_raw = mae.loc[flat_idx], crps.loc[flat_idx]
    imputed = pd.DataFrame(
        {
            "nonflat_MASE": nonfinite_count(nf_mase_raw),
            "nonflat_CRPS": nonfinite_count(nf_crps_raw),
            "flat_MAE": nonfinite_count(f_mae_raw),
            "flat_CRPS": nonfinite_count(f_crps_raw),
        }
    ).astype(np.int64)
    imputed.index.name = "model"
    imputed_configs = _cells_by_model(
        {
            name: pd.DataFrame(
                ~np.isfinite(raw.to_numpy(dtype=np.float64)), index=raw.index, columns=raw.columns
            )
            for name, raw in (
                ("nonflat_MASE", nf_mase_raw),
                ("nonflat_CRPS", nf_crps_raw),
                ("flat_MAE", f_mae_raw),
                ("flat_CRPS", f_crps_raw),
            )
        }
    )
    nf_mase = impute_column_mean(nf_mase_raw)
    nf_crps = impute_column_mean(nf_crps_raw)
    f_mae = impute_column_mean(f_mae_raw)
    f_crps = impute_column_mean(f_crps_raw)

    # non-flat: scale by the imputed seasonal naive
    with np.errstate(divide="ignore", invalid="ignore"):
        nf_mase_s = nf_mase.div(nf_mase[naive], axis=0)
        nf_crps_s = nf_crps.div(nf_crps[naive], axis=0)

    nf_rank = rank_columns(nf_crps_s, ties)
    f_rank = rank_columns(f_crps, ties)

    n1, n2 = len(nonflat_idx), len(flat_idx)
    table = pd.DataFrame(
        {
            "model": order,
            f"MASE-{n1}-scaled": frame_shifted_gmean(nf_mase_s).to_numpy(),
            f"CRPS-{n1}-scaled": frame_shifted_gmean(nf_crps_s).to_numpy(),
            f"Rank-{n1}-scaled": nf_rank.mean(axis=0).to_numpy(),
            f"eval_metrics/MAE[0.5]-{n2}-unscaled": frame_shifted_gmean(f_mae).to_numpy(),
            f"CRPS-{n2}-unscaled": frame_shifted_gmean(f_crps).to_numpy(),
            f"Rank-{n2}-unscaled": f_rank.mean(axis=0).to_numpy(),
        }
    )
    table = table.sort_values(f"Rank-{n1}-scaled", kind="mergesort").reset_index(drop=True)

    breakdowns: dict[str, tuple[pd.DataFrame, pd.DataFrame]] = {}
    if suite == "boom":
        nf_configs = list(nonflat_idx)
        labels: dict[str, pd.Series] = {
            "full_benchmark": pd.Series("full_benchmark", index=nonflat_idx),
            "real_term": pd.Series([config_term(c) for c in nf_configs], index=nonflat_idx),
            "type": pd.Series([properties[config_dataset(c)].type for c in nf_configs], index=nonflat_idx),
        }
        dom_rows = [(c, d) for c in nf_configs for d in properties[config_dataset(c)].domain]
        dom_index = pd.Index([c for c, _ in dom_rows], name=KEY_COLUMN)
        dom_labels = pd.Series([d for _, d in dom_rows], index=pd.RangeIndex(len(dom_rows)))
        for group in BREAKDOWN_GROUPS:
            if group == "domain":
                m = nf_mase_s.loc[dom_index].reset_index(drop=True)
                c = nf_crps_s.loc[dom_index].reset_index(drop=True)
                breakdowns[group] = (_sgm_table(m, dom_labels, group), _sgm_table(c, dom_labels, group))
            else:
                lab = labels[group]
                breakdowns[group] = (_sgm_table(nf_mase_s, lab, group), _sgm_table(nf_crps_s, lab, group))

    return Leaderboard(
        table=table,
        breakdowns=breakdowns,
        imputed=imputed.loc[order],
        model_order=order,
        flat_datasets=flat_ds,
        split_sizes={
            "datasets": int(datasets.nunique()),
            "configs": len(configs),
            "flat_datasets": len(flat_ds),
            "flat_configs": n2,
            "nonflat_configs": n1,
        },
        config_ranks={"nonflat": nf_rank, "flat": f_rank},
        config_values={
            "nonflat_MASE": nf_mase_s,
            "nonflat_CRPS": nf_crps_s,
            "flat_MAE": f_mae,
            "flat_CRPS": f_crps,
        },
        board=suite,
        ties=ties,
        imputed_configs=imputed_configs,
    )


# --------------------------------------------------------------------------------------------------
# GIFT-Eval


def gift_eval_leaderboard(
    results: Mapping[str, pd.DataFrame],
    *,
    ties: Ties = "first",
    model_order: Sequence[str] | None = None,
    naive_model: str | None = None,
    terms: Collection[str] | None = None,
    exclude_datasets: Collection[str] = (),
) -> Leaderboard:
    """Compute the GIFT-Eval overall board as the GIFT-Eval leaderboard space does.

    Steps (space ``src/utils.py``, ``get_grouped_dfs`` + ``standardize_df``):

    1. keep configs whose term (3rd key component) is in ``terms`` (default: all) and whose dataset
       (1st component) is not in ``exclude_datasets`` (the space's "leakage" filter);
    2. fill NaN cells of MASE and CRPS with the column mean over ALL remaining rows of ALL models
       (±inf are not touched) — counted in ``imputed``;
    3. divide by the seasonal-naive value of the same config (every config needs a naive row);
    4. per config rank the normalised CRPS (``CRPS_Rank``) and normalised MASE (``MASE_Rank``),
       ascending, ``method="first"`` in ``model_order`` — upstream sorts rows by model name, so the
       default order is ``sorted(names)`` (NOT :func:`order_models`);
    5. per model ``scipy.stats.gmean`` of normalised MASE and CRPS over its configs (NaN/0/inf
       propagate) and the arithmetic mean of its ranks.

    Models may cover different configs (ranks are among the models present on a config).

    Returns:
        :class:`Leaderboard` with ``table`` columns ``model, MASE, MASE_Rank, CRPS, CRPS_Rank`` (one row
        per model, sorted by ``CRPS_Rank`` — ties and NaN last by model name — as the space displays it),
        unrounded.
    """
    check_ties(ties)
    frames = _metric_frames(results, ("MASE", "CRPS"))
    names = list(frames)
    naive = find_naive_model(names, naive_model)
    order = _resolve_order(names, model_order, sorted(names))
    excluded = set(exclude_datasets)

    def keep(c: str) -> bool:
        return config_dataset(c) not in excluded and (terms is None or config_term(c) in terms)

    frames = {m: f.loc[[keep(c) for c in f.index]] for m, f in frames.items()}
    configs = sorted(set().union(*(f.index for f in frames.values())))
    present = pd.DataFrame({m: pd.Index(configs).isin(frames[m].index) for m in order}, index=configs)
    lacking = [c for c in configs if not present.at[c, naive]]
    if lacking:
        raise ResultsError(
            f"{len(lacking)} config(s) have no {naive!r} row to normalise by, e.g. {lacking[:5]}"
        )

    out_vals: dict[str, pd.DataFrame] = {}
    imputed: dict[str, pd.Series] = {}
    imputed_cells: dict[str, pd.DataFrame] = {}
    for metric in ("MASE", "CRPS"):
        wide = _wide(frames, metric, configs, order)
        long_vals = np.concatenate([frames[m][metric].to_numpy() for m in order])
        fill = float(pd.Series(long_vals).mean())
        nan_cells = wide.isna() & present
        imputed[metric] = nan_cells.sum(axis=0).astype(np.int64)
        imputed_cells[metric] = nan_cells
        wide = wide.mask(nan_cells, fill)
        with np.errstate(divide="ignore", invalid="ignore"):
            out_vals[metric] = wide.div(wide[naive], axis=0).where(present)

    ranks = {m: rank_columns(out_vals[m], ties) for m in ("MASE", "CRPS")}
    rows = []
    for model in sorted(names):
        have = present[model].to_numpy()
        rows.append(
            {
                "model": model,
                "MASE": gmean(out_vals["MASE"][model].to_numpy()[have]),
                "MASE_Rank": float(ranks["MASE"][model].mean()),
                "CRPS": gmean(out_vals["CRPS"][model].to_numpy()[have]),
                "CRPS_Rank": float(ranks["CRPS"][model].mean()),
            }
        )
    imp = pd.DataFrame(imputed).loc[order]
    imp.index.name = "model"
    table = pd.DataFrame(rows, columns=["model", "MASE", "MASE_Rank", "CRPS", "CRPS_Rank"])
    table = table.sort_values("CRPS_Rank", kind="mergesort", na_position="last").reset_index(drop=True)
    return Leaderboard(
        table=table,
        breakdowns={},
        imputed=imp,
        model_order=order,
        split_sizes={"configs": len(configs)},
        config_ranks=ranks,
        config_values=out_vals,
        board="gift_eval",
        ties=ties,
        config_present=present,
        imputed_configs=_cells_by_model(imputed_cells),
    )


# --------------------------------------------------------------------------------------------------
# TIME


def time_leaderboard(
    results: Mapping[str, pd.DataFrame],
    *,
    ties: Ties = "first",
    model_order: Sequence[str] | None = None,
    naive_model: str | None = None,
) -> Leaderboard:
    """Compute the TIME overall board (zqiao11/TIME:scripts/compute_local_leaderboard.py).

    Args:
        results: ``{model: frame}`` indexed by task key ``"{dataset}/{freq}/{term}"`` with the RAW
            task-level ``MASE`` and ``CRPS`` (the nanmean over series × windows × variates). Models may
            cover different tasks. Must include the seasonal-naive model (``seasonal_naive``).
        ties: rank tie rule; ``model_order`` default: model names sorted, seasonal naive last (upstream
            uses the filesystem order of the result folders, which is not reproducible; BOOM's published
            order is BOOM's and is never used here).

    Steps: (1) ranks of the RAW MASE and CRPS per task across the models present (NaN values unranked);
    (2) per task, value / seasonal-naive value, NaN where the baseline is 0 or NaN, ±inf → NaN; tasks
    without a baseline are dropped; (3) NaN-ignoring gmean over tasks; (4) mean rank over the tasks that
    have a baseline. Rows sorted by normalised MASE (NaN last); models without any baselined task are
    dropped, as upstream.

    Returns:
        :class:`Leaderboard`, ``table`` columns ``model, MASE (norm.), CRPS (norm.), MASE_rank,
        CRPS_rank`` (unrounded; upstream rounds to 3 decimals).
    """
    check_ties(ties)
    frames = _metric_frames(results, ("MASE", "CRPS"))
    names = list(frames)
    naive = find_naive_model(names, naive_model)
    order = _resolve_order(names, model_order, [*sorted(set(names) - {naive}), naive])

    tasks = sorted(set().union(*(f.index for f in frames.values())))
    present = pd.DataFrame({m: pd.Index(tasks).isin(frames[m].index) for m in order}, index=tasks)
    base_tasks = present.index[present[naive].to_numpy()]

    ranks: dict[str, pd.DataFrame] = {}
    norm: dict[str, pd.DataFrame] = {}
    for metric in ("MASE", "CRPS"):
        raw = _wide(frames, metric, tasks, order)
        ranks[metric] = rank_columns(raw, ties)
        sub = raw.loc[base_tasks]
        base = sub[naive].to_numpy()
        ok = (base != 0) & ~np.isnan(base)
        with np.errstate(divide="ignore", invalid="ignore"):
            scaled = sub.div(np.where(ok, base, np.nan), axis=0)
        scaled = scaled.mask(np.isinf(scaled.to_numpy()))
        norm[metric] = scaled

    pres_b = present.loc[base_tasks]
    rows, dropped = [], {}
    for model in sorted(names):
        have = pres_b[model].to_numpy()
        if not have.any():
            continue
        mv = norm["MASE"][model].to_numpy()[have]
        cv = norm["CRPS"][model].to_numpy()[have]
        dropped[model] = {"MASE_dropped": int(np.isnan(mv).sum()), "CRPS_dropped": int(np.isnan(cv).sum())}
        rows.append(
            {
                "model": model,
                "MASE (norm.)": nan_gmean(mv),
                "CRPS (norm.)": nan_gmean(cv),
                "MASE_rank": float(ranks["MASE"].loc[base_tasks, model].mean()),
                "CRPS_rank": float(ranks["CRPS"].loc[base_tasks, model].mean()),
            }
        )
    table = pd.DataFrame(rows, columns=["model", "MASE (norm.)", "CRPS (norm.)", "MASE_rank", "CRPS_rank"])
    table = table.sort_values("MASE (norm.)", kind="mergesort", na_position="last").reset_index(drop=True)
    kept = [m for m in order if m in dropped]
    imp = pd.DataFrame.from_dict(dropped, orient="index").reindex(kept).astype(np.int64)
    imp.index.name = "model"
    return Leaderboard(
        table=table,
        breakdowns={},
        imputed=imp,
        model_order=order,
        split_sizes={"configs": len(base_tasks)},
        config_ranks=ranks,
        config_values=norm,
        board="time",
        ties=ties,
    )
