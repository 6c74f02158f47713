"""Build leaderboard documents for a suite from results folders (what ``toto-bench leaderboard`` prints).

Loads ``<dir>/<model>/all_results.csv`` (validated against the suite's config set), computes the board with
:mod:`toto_bench.boards.leaderboard`, and lays it out as a :class:`~toto_bench.boards.render.Document` or, for
``--format csv``, as the upstream files (``boom_leaderboard.csv`` schema, breakdown tables).

Options that add to a board without changing it when left out: the GIFT-Eval board carries the
``model_type`` and ``testdata_leakage`` fields of each model's ``config.json`` and can be filtered on them
(``model_types``, ``exclude_leakage``: rows are hidden and every rank stays the one computed over all
models, as the GIFT-Eval space's checkboxes; ``rerank`` recomputes the board on the kept models instead);
``stats`` adds paired-bootstrap confidence intervals and a pairwise
win-rate appendix (:mod:`toto_bench.metrics.bootstrap`).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from toto_bench.adapters.statistical import EXPLODING_INTERVALS
from toto_bench.boards.gift_eval_board import (
    BREAKDOWN_METRICS,
    GIFT_EVAL_BREAKDOWNS,
    gift_eval_breakdowns,
    hide_models,
    locate_gift_eval_properties,
    space_tie_order,
)
from toto_bench.boards.leaderboard import (
    NAIVE_MODEL_NAMES,
    Leaderboard,
    boom_leaderboard,
    gift_eval_leaderboard,
    imputation_warnings,
    time_leaderboard,
)
from toto_bench.boards.lsf_board import lsf_leaderboard
from toto_bench.boards.render import Document, Section, render, to_csv
from toto_bench.boards.statistics import BoardStatistics, board_statistics
from toto_bench.boards.time_output import load_time_results
from toto_bench.engine.results import (
    METADATA_COLUMNS,
    RESULTS_FILENAME,
    ResultsError,
    RunFallbacks,
    has_leakage,
    load_fallbacks,
    load_metadata,
    load_results,
    nonfinite_counts,
)
from toto_bench.metrics.aggregate import check_ties
from toto_bench.suites import get_suite
from toto_bench.suites.boom import BoomProperties
from toto_bench.suites.lsf import dataset_order, load_lsf_results
from toto_bench.suites.metadata import packaged_path

LEADERBOARD_SUITES: tuple[str, ...] = ("boom", "boomlet", "gift-eval", "demo", "time", "lsf")
TIES: tuple[str, ...] = ("first", "average")
#: ``--breakdown`` value → upstream group column, BOOM (DataDog/toto ``breakdown_tabels``).
BREAKDOWNS: dict[str, str] = {
    "full": "full_benchmark",
    "term": "real_term",
    "type": "type",
    "domain": "domain",
}
#: ``--breakdown`` values of each suite that has breakdowns (GIFT-Eval: the space's tabs).
SUITE_BREAKDOWNS: dict[str, dict[str, str]] = {"boom": BREAKDOWNS, "gift-eval": GIFT_EVAL_BREAKDOWNS}
#: Every ``--breakdown`` value of any suite (the CLI's choices).
BREAKDOWN_CHOICES: tuple[str, ...] = tuple(dict.fromkeys([*BREAKDOWNS, *GIFT_EVAL_BREAKDOWNS]))

_TITLES = {
    "boom": "BOOM",
    "boomlet": "Boomlet",
    "gift-eval": "GIFT-Eval",
    "demo": "Demo (GIFT-Eval rules)",
    "time": "TIME",
    "lsf": "LSF",
}


def suite_title(suite: str) -> str:
    """The heading name of a suite (``GIFT-Eval``; a suite file's ``<name> (GIFT-Eval rules)``)."""
    if suite in _TITLES:
        return _TITLES[suite]
    return f"{get_suite(suite).name} (GIFT-Eval rules)"


def board_of(suite: str) -> str:
    """The board a suite's results go on: its own, or ``gift-eval`` for the suites that follow GIFT-Eval's
    rules (the demo suite, suite files of ``toto-bench data convert``; :attr:`Suite.board`)."""
    if suite in ("boom", "boomlet", "time", "lsf"):
        return suite
    return get_suite(suite).board or suite


@dataclass(frozen=True)
class Outputs:
    """Rendered output: file name → text (one file, or two for CSV breakdowns)."""

    files: dict[str, str]

    def single(self) -> str:
        """The text of a one-file output (all files concatenated otherwise)."""
        return "".join(self.files.values())

    def write(self, target: Path) -> list[Path]:
        """Write to ``target``: a file for one output, a directory for several. Returns the paths written."""
        if len(self.files) == 1:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(self.single())
            return [target]
        target.mkdir(parents=True, exist_ok=True)
        written = []
        for name, text in self.files.items():
            path = target / name
            path.write_text(text)
            written.append(path)
        return written


Warn = Callable[[str], None]
#: Boards that ``stats`` (``--stats``) can bootstrap.
STATS_SUITES: tuple[str, ...] = ("boom", "boomlet", "gift-eval", "time")
#: Suites whose board carries ``config.json`` metadata columns and takes the metadata filters.
METADATA_SUITES: tuple[str, ...] = ("gift-eval",)


@dataclass(frozen=True)
class StatsOptions:
    """``--stats`` settings: bootstrap resamples, seed of ``numpy.random.default_rng``, CI level."""

    n_boot: int = 1000
    seed: int = 0
    confidence: float = 0.95

    def __post_init__(self) -> None:
        if self.n_boot < 1:
            raise ValueError(f"--bootstrap must be >= 1, got {self.n_boot}")
        if not 0.0 < self.confidence < 1.0:
            raise ValueError(f"--confidence must lie strictly between 0 and 1, got {self.confidence}")


#: Boards that ``--partial`` can restrict to the configs common to every model.
PARTIAL_SUITES: tuple[str, ...] = ("boom", "boomlet", "gift-eval", "time")


def _coverage(results: Mapping[str, pd.DataFrame], kept: int) -> str:
    return "; ".join(f"{m} has {len(f)} (drops {len(f) - kept})" for m, f in results.items())


def restrict_to_common(
    results: Mapping[str, pd.DataFrame],
    *,
    suite: str,
    universe: Sequence[str] | None,
    allow_extra: bool = False,
    warn: Warn | None = None,
) -> dict[str, pd.DataFrame]:
    """``--partial``: keep only the configs that every model has, and say so through ``warn``.

    Args:
        results: ``{model: metric frame}`` indexed by config key.
        suite: for messages.
        universe: the suite's configs in board order (``None``: any key, sorted).
        allow_extra: configs outside ``universe`` are dropped (Boomlet boards of full-BOOM files) instead
            of being an error.

    Raises:
        ResultsError: a file holds configs outside the suite, or no config is common to all models.
    """
    if not results:
        raise ResultsError("no results to put on a board")
    frames = dict(results)
    if universe is not None:
        allowed = set(universe)
        for model, frame in frames.items():
            extra = [c for c in frame.index if c not in allowed]
            if extra and not allow_extra:
                src = frame.attrs.get("source", f"model {model!r}")
                raise ResultsError(
                    f"{src}: {len(extra)} config(s) not in the {suite} suite, e.g. {extra[:5]}"
                )
    common = set.intersection(*(set(f.index) for f in frames.values()))
    order = [c for c in universe if c in common] if universe is not None else sorted(common)
    total = (
        len(universe) if universe is not None else len(set().union(*(set(f.index) for f in frames.values())))
    )
    if not order:
        raise ResultsError(
            f"--partial: no {suite} config is present for every model ({_coverage(frames, 0)}); "
            "run the missing configs or leave out a model"
        )
    if warn is not None:
        warn(
            f"--partial: the {suite} board uses the {len(order)} of {total} configs present for all "
            f"{len(frames)} models; {_coverage(frames, len(order))}"
        )
    out = {}
    for model, frame in frames.items():
        part = frame.loc[order]
        part.attrs = dict(frame.attrs)
        out[model] = part
    return out


def _partial_boom(
    results: Mapping[str, pd.DataFrame], props: BoomProperties, suite: str, warn: Warn | None
) -> tuple[dict[str, pd.DataFrame], BoomProperties]:
    """``--partial`` for BOOM/Boomlet: the board keeps the datasets whose every term all models have."""
    common = restrict_to_common(
        results, suite=suite, universe=props.configs(), allow_extra=suite == "boomlet"
    )
    have = set(next(iter(common.values())).index)
    entries = {
        ds: p for ds, p in props.entries.items() if all(f"{ds}/{p.frequency}/{t}" in have for t in p.terms)
    }
    if not entries:
        raise ResultsError(
            f"--partial: no {suite} dataset has all its terms for every model; run them or leave out a model"
        )
    kept = BoomProperties(entries=entries, source=f"{props.source} (--partial: {len(entries)} datasets)")
    configs = kept.configs()
    if warn is not None:
        warn(
            f"--partial: the {suite} board uses the {len(entries)} of {len(props)} datasets "
            f"({len(configs)} of {len(props.configs())} configs) complete for all {len(results)} models; "
            f"{_coverage(results, len(configs))}"
        )
    out = {}
    for model, frame in common.items():
        part = frame.loc[configs]
        part.attrs = dict(frame.attrs)
        out[model] = part
    return out, kept


def _harness_naive(results: Mapping[str, pd.DataFrame]) -> str | None:
    """``seasonal-naive`` (this harness's run) as the normaliser when no upstream-named one is present."""
    upstream_names = {"seasonalnaive", "seasonal_naive", "Seasonal_Naive"}
    if "seasonal-naive" in results and not upstream_names & set(results):
        return "seasonal-naive"
    return None


def select_models(
    metadata: pd.DataFrame,
    *,
    model_types: Sequence[str] | None = None,
    exclude_leakage: bool = False,
    warn: Warn | None = None,
    verb: str = "dropped",
) -> list[str] | None:
    """The models that pass the ``config.json`` filters (``None``: no filter asked, keep all).

    ``verb`` says in the messages what happens to the others (``"hid"`` for the board's row filter,
    ``"dropped"`` when the board is recomputed without them).

    ``model_types`` keeps the models whose ``model_type`` is one of them (case-insensitive);
    ``exclude_leakage`` drops the models whose ``testdata_leakage`` says yes (a model without the field is
    kept, and named through ``warn``). The seasonal-naive model is always kept: it normalises every score.

    Raises:
        ValueError: no model other than seasonal naive passes (naming the types present).
    """
    if not model_types and not exclude_leakage:
        return None
    wanted = {t.strip().lower() for t in model_types} if model_types else None
    kept: list[str] = []
    dropped_type: list[str] = []
    dropped_leak: list[str] = []
    unknown_leak: list[str] = []
    naive = [m for m in metadata.index if m in NAIVE_MODEL_NAMES or m == "seasonal-naive"]
    for model in metadata.index:
        mtype = str(metadata.at[model, "model_type"])
        leak = str(metadata.at[model, "testdata_leakage"])
        if model in naive:
            kept.append(model)
        elif wanted is not None and mtype.lower() not in wanted:
            dropped_type.append(model)
        elif exclude_leakage and has_leakage(leak):
            dropped_leak.append(model)
        else:
            kept.append(model)
            if exclude_leakage and not leak:
                unknown_leak.append(model)
    if not set(kept) - set(naive):
        present = sorted({str(t) for t in metadata["model_type"]} - {""})
        raise ValueError(
            "no model passes the filters"
            + (f" --model-type {','.join(sorted(wanted))}" if wanted else "")
            + (" --exclude-leakage" if exclude_leakage else "")
            + f"; model types present: {present or 'none (no config.json with model_type)'}"
        )
    if warn is not None:
        if dropped_type:
            asked = ",".join(model_types or [])
            types = ", ".join(f"{m} ({str(metadata.at[m, 'model_type']) or '?'})" for m in dropped_type)
            warn(f"--model-type {asked}: {verb} {len(dropped_type)} model(s) of other types: {types}")
        if dropped_leak:
            warn(
                f"--exclude-leakage: {verb} {len(dropped_leak)} model(s) with testdata_leakage Yes: "
                + ", ".join(dropped_leak)
            )
        if unknown_leak:
            warn(
                f"--exclude-leakage: kept {len(unknown_leak)} model(s) whose config.json does not say "
                "testdata_leakage: " + ", ".join(unknown_leak)
            )
        if naive and verb == "dropped":
            warn(f"kept {', '.join(naive)} whatever its metadata: it normalises every score")
    return kept


def _with_metadata(board: Leaderboard, metadata: pd.DataFrame) -> Leaderboard:
    table = board.table.copy()
    for column in METADATA_COLUMNS:
        table[column] = table["model"].map(metadata[column]).fillna("").astype(str)
    return dataclasses.replace(board, table=table)


def compute_board(
    suite: str,
    results_dirs: Sequence[str | os.PathLike[str]],
    *,
    properties: Path | None = None,
    ties: str = "first",
    partial: bool = False,
    warn: Warn | None = None,
    model_types: Sequence[str] | None = None,
    exclude_leakage: bool = False,
    rerank: bool = False,
) -> Leaderboard:
    """Load and validate the results for ``suite`` and compute its board; ``warn`` receives one line per
    model whose NaN (BOOM: NaN/inf) cells were imputed (:func:`imputation_warnings`) besides the
    messages of :func:`_compute_board`."""
    board = _compute_board(
        suite,
        results_dirs,
        properties=properties,
        ties=ties,
        partial=partial,
        warn=warn,
        model_types=model_types,
        exclude_leakage=exclude_leakage,
        rerank=rerank,
    )
    if warn is not None:
        for line in imputation_warnings(board):
            warn(line)
    return board


def _compute_board(
    suite: str,
    results_dirs: Sequence[str | os.PathLike[str]],
    *,
    properties: Path | None,
    ties: str,
    partial: bool,
    warn: Warn | None,
    model_types: Sequence[str] | None,
    exclude_leakage: bool,
    rerank: bool,
) -> Leaderboard:
    """Load and validate the results for ``suite`` and compute its board.

    With ``partial``, models may lack configs: the board is restricted to the configs every model has
    (BOOM/Boomlet: the datasets complete for every model) and ``warn`` receives the counts. Without it a
    missing config is an error. GIFT-Eval: the table gets ``model_type`` and ``testdata_leakage`` columns
    from each model's ``config.json`` (``""`` when absent) and the space's breakdowns
    (``metric_breakdowns``; ``properties`` = its ``dataset_properties.json``, default: beside the results
    or the built-in published values); ``model_types`` / ``exclude_leakage`` hide the other models' rows
    of a board computed over all models (:func:`select_models`, :func:`hide_models`), or with ``rerank``
    drop them before the board is computed, so that ranks are among the models kept.

    Raises:
        ResultsError: a malformed or incomplete results file (named in the message).
        ValueError: an unknown suite or tie rule (BOOM without properties uses the packaged copy).
    """
    rule = check_ties(ties)
    if partial and board_of(suite) not in PARTIAL_SUITES:
        raise ValueError(f"--partial is for the {', '.join(PARTIAL_SUITES)} boards, not {suite!r}")
    if (model_types or exclude_leakage or rerank) and board_of(suite) not in METADATA_SUITES:
        raise ValueError(
            f"--model-type/--exclude-leakage/--rerank filter on GIFT-Eval config.json metadata "
            f"(--suite {', '.join(METADATA_SUITES)}); the {suite!r} board has none"
        )
    if rerank and not (model_types or exclude_leakage):
        raise ValueError(
            "--rerank re-ranks among the models a filter keeps: give --model-type or --exclude-leakage"
        )
    if suite in ("boom", "boomlet"):
        # No --properties and none beside the results: the packaged upstream copy.
        props = BoomProperties.from_json(properties if properties is not None else packaged_path(suite))
        if partial:
            results, props = _partial_boom(load_results(results_dirs), props, suite, warn)
        else:
            # Boomlet boards accept full-BOOM files (filtered to the 32 datasets) or Boomlet-only ones.
            expected = props.configs() if suite == "boom" else None
            results = load_results(results_dirs, expected_configs=expected)
        return boom_leaderboard(results, props, suite=suite, ties=rule, naive_model=_harness_naive(results))
    if board_of(suite) == "gift-eval":
        configs = get_suite(suite).configs()
        # the space's breakdown tabs need every dataset's domain and variate count: GIFT-Eval's own suite
        gift_properties = (
            locate_gift_eval_properties(properties, results_dirs) if suite == "gift-eval" else None
        )
        metadata = load_metadata(results_dirs)
        keep = select_models(
            metadata,
            model_types=model_types,
            exclude_leakage=exclude_leakage,
            warn=warn,
            verb="dropped" if rerank else "hid",
        )
        load = keep if rerank else None
        if partial:
            results = restrict_to_common(
                load_results(results_dirs, models=load), suite=suite, universe=configs, warn=warn
            )
        else:
            results = load_results(results_dirs, expected_configs=configs, models=load)
        _warn_model_columns(results, warn)
        # ties break in the space's order (rows sorted by the files' model names), never BOOM's order
        board = gift_eval_leaderboard(
            results, ties=rule, naive_model=_harness_naive(results), model_order=space_tie_order(results)
        )
        if gift_properties is not None:
            board = dataclasses.replace(board, metric_breakdowns=gift_eval_breakdowns(board, gift_properties))
        if keep is not None and not rerank:
            board = hide_models(board, keep)
        return _with_metadata(board, metadata)
    if suite == "time":
        # all_results.csv folders (our runs) and TIME-Output results/<model>/ trees (e.g. the published
        # seasonal_naive, which upstream normalises by; our own run is named seasonal-naive)
        results = load_time_results(results_dirs)
        if partial:
            results = restrict_to_common(results, suite=suite, universe=None, warn=warn)
        naive = "seasonal-naive" if "seasonal-naive" in results and "seasonal_naive" not in results else None
        return time_leaderboard(results, ties=rule, naive_model=naive)
    if suite == "lsf":
        lsf_results = load_lsf_results(results_dirs)
        return lsf_leaderboard(lsf_results, dataset_order=dataset_order(_lsf_names(lsf_results)))
    raise ValueError(f"unknown suite {suite!r}; valid suites: {', '.join(LEADERBOARD_SUITES)}")


def _warn_model_columns(results: Mapping[str, pd.DataFrame], warn: Warn | None) -> None:
    """Say when a file's ``model`` column holds several names (e.g. GIFT-Eval ``Zeus``): the board names
    every model by its folder, whatever that column says."""
    if warn is None:
        return
    for model, frame in results.items():
        source = str(frame.attrs.get("source", ""))
        if source and Path(source).name != RESULTS_FILENAME:
            warn(
                f"{source}: read as the results of {model!r} (an upstream spelling of {RESULTS_FILENAME}; "
                f"`toto-bench import` copies it as {RESULTS_FILENAME})"
            )
        names = frame.attrs.get("model_names") or {}
        if len(names) > 1:
            listed = ", ".join(f"{name!r} ({count} rows)" for name, count in names.items())
            warn(
                f"{frame.attrs.get('source', model)}: its 'model' column holds {len(names)} names "
                f"({listed}); all its rows are ranked as one model, {model!r} (the folder name)"
            )


def _lsf_names(results: dict[str, pd.DataFrame]) -> set[str]:
    return {str(key).rpartition("/")[0] for frame in results.values() for key in frame.index}


#: The GIFT-Eval-board CSV column with each model's imputed MASE + CRPS cells (present when any was imputed).
IMPUTED_COLUMN = "imputed_cells"


def with_imputed_column(table: pd.DataFrame, board: Leaderboard) -> pd.DataFrame:
    """``table`` with a last column :data:`IMPUTED_COLUMN` (cells imputed per model, all metrics) when the
    board imputed any cell; ``table`` itself otherwise, so a board without imputation keeps its schema."""
    if board.imputed.empty or int(board.imputed.to_numpy().sum()) == 0:
        return table
    counts = board.imputed.sum(axis=1).astype(int)
    return table.assign(**{IMPUTED_COLUMN: table["model"].map(counts).fillna(0).astype(int).to_numpy()})


def _imputation_section(board: Leaderboard) -> Section | None:
    imputed = board.imputed
    if imputed.empty or int(imputed.to_numpy().sum()) == 0:
        return None
    if board.board == "time":
        note = "Tasks whose normalised value is NaN are left out of the geometric mean (upstream TIME)."
    elif board.board == "gift_eval":
        note = (
            "NaN cells replaced by the mean of that metric over every row of every model on the board "
            "(the space's standardize_df: fillna with the column mean of all results), before the "
            "seasonal-naive scaling; ±inf cells are kept as they are."
        )
    else:
        note = "NaN/inf cells replaced by the model's column mean over the split, before any scaling."
    return Section("Imputed cells", imputed.astype(int), index=True, note=note)


def board_description(suite: str, board: Leaderboard) -> str:
    """What the board's numbers are, in plain sentences (LSF, BOOM/Boomlet; empty for the others), each
    starting with a space so it can follow an introduction."""
    if suite == "lsf":
        return (
            " MSE and MAE of the median on z-scored data (TSLib borders; stride and context cap in each"
            " run's config.json), averaged over the horizons of each dataset; per-horizon values below."
        )
    if suite in ("boom", "boomlet"):
        flat_ds, flat_cfg, nonflat = board.flat_split_sizes
        return (
            f" Non-flat split: {nonflat} configs, MASE and CRPS scaled by seasonal naive, shifted geometric"
            f" mean, mean CRPS rank. Flat split: {flat_ds} datasets / {flat_cfg} configs, raw MAE and CRPS."
        )
    return ""


def _intro(suite: str, board: Leaderboard, results_dirs: Sequence[str | os.PathLike[str]]) -> str:
    dirs = ", ".join(f"`{d}`" for d in results_dirs)
    n = len(board.model_order)
    text = (
        f"{n} models from {dirs}. Generated by `toto-bench leaderboard --suite {suite}`; "
        "see docs/leaderboards.md."
    )
    return text + board_description(suite, board)


def with_intervals(table: pd.DataFrame, stats: BoardStatistics) -> pd.DataFrame:
    """``table`` with ``{MASE,CRPS}_lo`` / ``_hi`` inserted right after the column they bound."""
    out = table.copy()
    for metric in ("MASE", "CRPS"):
        at = list(out.columns).index(stats.columns[metric]) + 1
        for offset, bound in enumerate(("lo", "hi")):
            name = f"{metric}_{bound}"
            out.insert(at + offset, name, out["model"].map(stats.intervals[name]).to_numpy(dtype=float))
    return out


def _stats_sections(stats: BoardStatistics) -> list[Section]:
    n = stats.n_configs
    sections = []
    for metric in ("CRPS", "MASE"):
        sections.append(
            Section(
                f"Appendix: {metric} win rate (row model vs column model)",
                stats.win_rates[metric],
                index=True,
                note=f"Share of the configs (of {n}) where the row model's {metric} is lower than the column "
                "model's; ties count half, so W[a, b] + W[b, a] = 1.",
            )
        )
    for metric in ("CRPS", "MASE"):
        sections.append(
            Section(
                f"Appendix: P(row model's aggregate {metric} is better)",
                stats.prob_better[metric],
                index=True,
                note=f"Share of the {stats.n_boot} paired bootstrap resamples of the configs where the row "
                f"model's aggregate {metric} is lower than the column model's (ties count half).",
            )
        )
    return sections


def _stats_note(stats: BoardStatistics) -> str:
    return (
        f"`*_lo`/`*_hi`: {stats.confidence:.0%} percentile bootstrap intervals of "
        f"`{stats.columns['MASE']}` and `{stats.columns['CRPS']}` over the {stats.n_configs} configs they "
        f"aggregate ({stats.n_boot} paired resamples: the same configs for every model; numpy "
        f"default_rng seed {stats.seed}). Imputed values and the seasonal-naive scaling are held fixed."
    )


def build_document(
    *,
    suite: str,
    results_dirs: Sequence[str | os.PathLike[str]],
    properties: Path | None,
    fmt: str,
    breakdown: str | None = None,
    ties: str = "first",
    partial: bool = False,
    warn: Warn | None = None,
    model_types: Sequence[str] | None = None,
    exclude_leakage: bool = False,
    stats: StatsOptions | None = None,
    rerank: bool = False,
) -> Outputs:
    """Compute the board of ``suite`` and render it in ``fmt`` (``md``, ``csv`` or ``html``).

    Without ``breakdown``: md/html give the board, then (BOOM, GIFT-Eval) every breakdown, then notes;
    csv gives the board in the upstream schema (GIFT-Eval: full precision). With ``breakdown``: that
    group's tables — BOOM: MASE and CRPS (csv: the two upstream files
    ``{group}_{MASE|CRPS}_shifted_gmean.csv``); GIFT-Eval: MASE, CRPS and CRPS rank (csv: one file
    ``gift_eval_{group}.csv`` in the space's layout, columns ``<value> (MASE)``, ``<value> (CRPS)``,
    ``<value> (CRPS_Rank)`` per group value).

    ``model_types`` / ``exclude_leakage`` / ``rerank``: GIFT-Eval filters (:func:`compute_board`).
    ``stats``: the board gets ``MASE_lo, MASE_hi, CRPS_lo, CRPS_hi`` columns and md/html an appendix of
    pairwise win-rate and bootstrap-probability matrices; csv gives two files, the board and
    ``{suite}_win_rates.csv`` (one row per ordered model pair).
    """
    if breakdown is not None and suite not in SUITE_BREAKDOWNS:
        raise ValueError(
            f"--breakdown is computed for the {' and '.join(SUITE_BREAKDOWNS)} boards (as upstream), "
            f"not {suite!r}"
        )
    if breakdown is not None and breakdown not in SUITE_BREAKDOWNS[suite]:
        valid = ", ".join(SUITE_BREAKDOWNS[suite])
        raise ValueError(f"unknown {suite} breakdown {breakdown!r}; valid: {valid}")
    if stats is not None and (breakdown is not None or board_of(suite) not in STATS_SUITES):
        what = "--breakdown tables" if breakdown is not None else f"the {suite!r} board"
        raise ValueError(f"--stats is for the {', '.join(STATS_SUITES)} boards, not {what}")
    board = compute_board(
        suite,
        results_dirs,
        properties=properties,
        ties=ties,
        partial=partial,
        warn=warn,
        model_types=model_types,
        exclude_leakage=exclude_leakage,
        rerank=rerank,
    )
    board_stats = None
    if stats is not None:
        board_stats = board_statistics(
            board, n_boot=stats.n_boot, seed=stats.seed, confidence=stats.confidence
        )
        board = dataclasses.replace(board, table=with_intervals(board.table, board_stats))
    if board.metric_breakdowns:
        return _gift_eval_outputs(
            suite,
            board,
            results_dirs,
            fmt=fmt,
            breakdown=breakdown,
            board_stats=board_stats,
            rerank=rerank,
            filtered=bool(model_types or exclude_leakage),
        )
    groups = [BREAKDOWNS[breakdown]] if breakdown else list(board.breakdowns)

    if fmt == "csv":
        if breakdown is None:
            stem = suite.replace("-", "_")
            files = {
                f"{stem}_leaderboard.csv": to_csv(board.table, full_precision=board.board == "gift_eval")
            }
            if board_stats is not None:
                files[f"{stem}_win_rates.csv"] = to_csv(board_stats.pairs())
            return Outputs(files)
        mase, crps = board.breakdowns[groups[0]]
        return Outputs(
            {
                f"{groups[0]}_MASE_shifted_gmean.csv": to_csv(mase, index=True),
                f"{groups[0]}_CRPS_shifted_gmean.csv": to_csv(crps, index=True),
            }
        )

    fallbacks = load_fallbacks(results_dirs)
    table = mark_fallbacks(board.table, fallbacks)
    sections = [] if breakdown else [Section("Leaderboard", table)]
    if suite == "lsf":
        sections.append(Section("Per horizon", board.config_values["per_horizon"]))
    for group in groups:
        mase, crps = board.breakdowns[group]
        sections.append(Section(f"Breakdown by {group}: MASE (scaled, shifted gmean)", mase, index=True))
        sections.append(Section(f"Breakdown by {group}: CRPS (scaled, shifted gmean)", crps, index=True))
    imputed = None if breakdown else _imputation_section(board)
    if imputed is not None:
        sections.append(imputed)
    if board_stats is not None:
        sections += _stats_sections(board_stats)
    notes = [
        f"Rank ties: `{board.ties}`"
        + (" (pandas method first in the model order below)." if board.ties == "first" else " (mean rank)."),
        "Model order: " + ", ".join(f"`{m}`" for m in board.model_order) + ".",
    ]
    if suite == "lsf":  # raw errors, no ranks
        notes = notes[1:]
    notes += fallback_notes(fallbacks, board.model_order)
    if board_stats is not None:
        notes.append(_stats_note(board_stats))
    title = f"{suite_title(suite)} leaderboard" + (f" — breakdown by {groups[0]}" if breakdown else "")
    doc = Document(title=title, intro=_intro(suite, board, results_dirs), sections=sections, notes=notes)
    ext = "md" if fmt == "md" else "html"
    return Outputs({f"{suite}.{ext}": render(doc, fmt)})


def _space_layout(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One group's tables side by side as the space's tab: ``<value> (MASE)``, ``<value> (CRPS)``,
    ``<value> (CRPS_Rank)`` for each group value, index ``model``."""
    first = tables[BREAKDOWN_METRICS[0]]
    columns = {
        f"{value} ({metric})": tables[metric][value]
        for value in first.columns
        for metric in BREAKDOWN_METRICS
    }
    return pd.DataFrame(columns, index=first.index)


_GROUP_TITLES = {
    "domain": "domain",
    "term_length": "term length",
    "frequency": "frequency",
    "variate_type": "variate type",
}
_METRIC_TITLES = {
    "MASE": "MASE (normalised by seasonal naive, gmean)",
    "CRPS": "CRPS (normalised by seasonal naive, gmean)",
    "CRPS_Rank": "CRPS rank (mean of the per-config ranks over all models)",
}


def _gift_eval_notes(board: Leaderboard, *, rerank: bool, filtered: bool) -> list[str]:
    n_ranked = len(board.model_order)
    shown = len(board.table)
    if rerank:
        ranks = (
            f"Ranks re-computed among the {n_ranked} models the filters keep (--rerank): they differ from "
            "the GIFT-Eval space's, which ranks over all models and only hides rows."
        )
    elif filtered:
        ranks = (
            f"Ranks computed once over all {n_ranked} models; the filters hide rows ({shown} shown), as "
            "the GIFT-Eval space's model-type and leakage checkboxes do, so every number equals the "
            "unfiltered board's."
        )
    else:
        ranks = f"Ranks computed once over all {n_ranked} models, per config, as the GIFT-Eval space does."
    return [
        ranks,
        f"Rank ties: `{board.ties}`"
        + (
            " (pandas method first over the models sorted by the `model` column of their files, as the "
            "space's sorted rows; folder names break equal names)."
            if board.ties == "first"
            else " (mean rank)."
        ),
        "Rows sorted by CRPS rank (ties by model name). Breakdowns: the space's tabs — domain and "
        "variate type from dataset_properties.json, frequency and term from the config key; gmean of the "
        "normalised values and mean of the overall CRPS rank over each group's configs.",
        "Model order for ties: " + ", ".join(f"`{m}`" for m in board.model_order) + ".",
    ]


def _gift_eval_outputs(
    suite: str,
    board: Leaderboard,
    results_dirs: Sequence[str | os.PathLike[str]],
    *,
    fmt: str,
    breakdown: str | None,
    board_stats: BoardStatistics | None,
    rerank: bool,
    filtered: bool,
) -> Outputs:
    """The GIFT-Eval document: board (with ``board_stats``' intervals already in its table), the space's
    breakdown tabs, imputation counts and notes."""
    groups = [GIFT_EVAL_BREAKDOWNS[breakdown]] if breakdown else list(board.metric_breakdowns)
    stem = suite.replace("-", "_")
    if fmt == "csv":
        if breakdown is None:
            table = with_imputed_column(board.table, board)
            files = {f"{stem}_leaderboard.csv": to_csv(table, full_precision=True)}
            if board_stats is not None:
                files[f"{stem}_win_rates.csv"] = to_csv(board_stats.pairs(), full_precision=True)
            return Outputs(files)
        layout = _space_layout(board.metric_breakdowns[groups[0]])
        return Outputs({f"{stem}_{groups[0]}.csv": to_csv(layout, index=True, full_precision=True)})
    fallbacks = load_fallbacks(results_dirs)
    marked = mark_fallbacks(board.table, fallbacks)
    sections = [] if breakdown else [Section("Leaderboard", marked)]
    for group in groups:
        for metric, table in board.metric_breakdowns[group].items():
            title = f"Breakdown by {_GROUP_TITLES[group]}: {_METRIC_TITLES[metric]}"
            sections.append(Section(title, table, index=True))
    imputed = None if breakdown else _imputation_section(board)
    if imputed is not None:
        sections.append(imputed)
    if board_stats is not None:
        sections += _stats_sections(board_stats)
    notes = _gift_eval_notes(board, rerank=rerank, filtered=filtered)
    notes += fallback_notes(fallbacks, board.model_order)
    if board_stats is not None:
        notes.append(_stats_note(board_stats))
    title = f"{suite_title(suite)} leaderboard" + (
        f" — breakdown by {_GROUP_TITLES[groups[0]]}" if breakdown else ""
    )
    doc = Document(title=title, intro=_intro(suite, board, results_dirs), sections=sections, notes=notes)
    ext = "md" if fmt == "md" else "html"
    return Outputs({f"{suite}.{ext}": render(doc, fmt)})


#: Appended to a model's name in md/html boards when some of its rows hold seasonal-naive substitutes or
#: flagged forecasts.
FALLBACK_MARK = " †"


def fallback_notes(fallbacks: Mapping[str, RunFallbacks], models: Sequence[str]) -> list[str]:
    """One note per model of ``models`` whose run record lists seasonal-naive substitutes or flagged
    forecasts (exploding intervals), or used a wall-clock limit (then its rows depend on the machine)."""
    notes = []
    for model in models:
        info = fallbacks.get(model)
        if info is None:
            continue
        parts = []
        for reason, configs in info.configs.items():
            shown = ", ".join(f"`{c}`" for c in configs[:5]) + (", ..." if len(configs) > 5 else "")
            if reason == EXPLODING_INTERVALS:
                parts.append(
                    f"{len(configs)} config(s) hold forecasts with exploding prediction intervals "
                    f"(non-finite or far beyond the context's range; scored as computed): {shown}"
                )
            else:
                parts.append(f"{len(configs)} config(s) fell back to seasonal naive ({reason}): {shown}")
        if info.time_limit is not None:
            parts.append(
                f"the run had a {info.time_limit:g} s wall-clock limit per config, so its rows depend on the "
                "machine's speed and load"
            )
        mark = FALLBACK_MARK if info.configs else ""
        notes.append(f"`{model}`{mark}: " + "; ".join(parts) + " (run record: config.json `fallbacks`).")
    return notes


def mark_fallbacks(table: pd.DataFrame, fallbacks: Mapping[str, RunFallbacks]) -> pd.DataFrame:
    """``table`` with :data:`FALLBACK_MARK` after the ``model`` name of models with substitutes."""
    marked = {m for m, info in fallbacks.items() if info.configs}
    if "model" not in table.columns or not marked:
        return table
    out = table.copy()
    out["model"] = [f"{m}{FALLBACK_MARK}" if m in marked else m for m in out["model"]]
    return out


def nonfinite_report(results_dirs: Sequence[str | os.PathLike[str]]) -> pd.DataFrame:
    """Per-model NaN/inf counts of the loaded metric columns (what the board will impute)."""
    return nonfinite_counts(load_results(results_dirs))
