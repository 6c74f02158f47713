"""Loading per-config results files (``<results_dir>/<model>/all_results.csv``) for leaderboards.

A results directory holds one sub-directory per model; the model name is the DIRECTORY name (the CSV
``model`` column is ignored: upstream it is inconsistent, e.g. ``naive``, ``moirai_small``,
``visonts``). Several directories may be given; a model name found in two of them is an error.

Every loaded table is normalised to the *metric frame* schema used by the leaderboards:

- index: config key (``"{dataset}/{freq}/{term}"``), named ``"dataset"``, unique;
- columns: the requested canonical metric names (``MASE``, ``MAE``, ``CRPS``), float64, in that order.

Canonical names are matched against the CSV header by name (:data:`METRIC_COLUMNS` lists the accepted
spellings, with or without the ``eval_metrics/`` prefix). Upstream quirks that are tolerated
(boom_protocol §8.4–8.9): extra columns, an unnamed index column, ``dd-`` prefixed config keys
(stripped), any row order (rows are keyed by config). Anything else that is wrong — unreadable file,
missing column, non-numeric metric cell, duplicate or missing/unexpected config — raises
:class:`ResultsError` naming the file and the problem. NaN/±inf cells are legal (they are what the
BOOM board mean-imputes); :func:`nonfinite_counts` reports them.

A model folder may also hold a ``config.json``: upstream GIFT-Eval's model card or this harness's run record.
:func:`load_metadata` reads the card fields that become leaderboard columns (:data:`METADATA_COLUMNS`).
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from toto_bench.engine.checks import metric_cell_problem, short_row_problem

__all__ = [
    "BOOM_METRICS",
    "CONFIG_FILENAME",
    "KEY_COLUMN",
    "METADATA_COLUMNS",
    "METRIC_COLUMNS",
    "RESULTS_ALIASES",
    "RESULTS_FILENAME",
    "ResultsError",
    "RunFallbacks",
    "check_configs",
    "find_results_files",
    "has_leakage",
    "load_fallbacks",
    "load_metadata",
    "load_results",
    "nonfinite_counts",
    "normalize_results_frame",
    "read_model_config",
    "read_results_csv",
    "results_file",
]

log = logging.getLogger(__name__)

#: File name of a model's per-config results inside ``<results_dir>/<model>/``.
RESULTS_FILENAME = "all_results.csv"

#: Column holding the config key.
KEY_COLUMN = "dataset"

#: Canonical metric name → accepted CSV column names (first match wins; two matches is an error).
METRIC_COLUMNS: dict[str, tuple[str, ...]] = {
    "MASE": ("eval_metrics/MASE[0.5]", "MASE[0.5]", "MASE"),
    "MAE": ("eval_metrics/MAE[0.5]", "MAE[0.5]", "MAE"),
    "CRPS": (
        "eval_metrics/mean_weighted_sum_quantile_loss",
        "mean_weighted_sum_quantile_loss",
        "CRPS",
    ),
}

#: The metrics the BOOM board needs (non-flat: MASE, CRPS; flat: MAE, CRPS).
BOOM_METRICS: tuple[str, ...] = ("MASE", "MAE", "CRPS")

#: Model card beside ``all_results.csv``: upstream GIFT-Eval ``results/<model>/config.json`` (``model``,
#: ``model_type``, ``model_dtype``, ``model_link``, ``code_link``, ``org``, ``testdata_leakage``,
#: ``replication_code_available``) or this harness's run record (none of those fields).
CONFIG_FILENAME = "config.json"

#: ``config.json`` fields that become leaderboard columns (GIFT-Eval board); ``""`` when absent.
METADATA_COLUMNS: tuple[str, ...] = ("model_type", "testdata_leakage")

#: Config-key prefixes stripped on load (upstream commit f67fbc3 shipped ``dd-ds-...`` keys).
DEFAULT_STRIP_PREFIXES: tuple[str, ...] = ("dd-",)

_MAX_EXAMPLES = 5

#: Spellings of a missing value accepted in metric cells (besides what ``pd.read_csv`` already parses).
_NA_TOKENS = frozenset({"", "nan", "-nan", "na", "n/a", "<na>", "null", "none"})


def _overflow(text: str) -> float:
    """``±inf`` for a number literal beyond the float64 range (``1e999``), else NaN (not a number)."""
    try:
        value = float(text)
    except ValueError:
        return float("nan")
    return value if np.isinf(value) else float("nan")


class ResultsError(ValueError):
    """A results file or directory is unusable; the message names the file and the problem."""


def _examples(items: Iterable[str]) -> str:
    items = list(items)
    shown = ", ".join(repr(x) for x in items[:_MAX_EXAMPLES])
    return shown + (", ..." if len(items) > _MAX_EXAMPLES else "")


def _resolve_columns(header: Sequence[str], required: Sequence[str], source: str) -> dict[str, str]:
    """Map each canonical metric name to the one header column that spells it."""
    unknown = [m for m in required if m not in METRIC_COLUMNS]
    if unknown:
        raise ValueError(f"unknown metric names {unknown}; valid: {list(METRIC_COLUMNS)}")
    present = set(header)
    resolved: dict[str, str] = {}
    problems: list[str] = []
    for metric in required:
        hits = [c for c in METRIC_COLUMNS[metric] if c in present]
        if not hits:
            problems.append(f"no column for {metric} (accepted names: {list(METRIC_COLUMNS[metric])})")
        elif len(hits) > 1:
            problems.append(f"ambiguous columns for {metric}: {hits}")
        else:
            resolved[metric] = hits[0]
    if KEY_COLUMN not in present:
        problems.insert(0, f"no {KEY_COLUMN!r} column (the config key)")
    if problems:
        raise ResultsError(f"{source}: " + "; ".join(problems) + f". Columns present: {list(header)}")
    return resolved


def normalize_results_frame(
    df: pd.DataFrame,
    *,
    required_columns: Sequence[str] = BOOM_METRICS,
    source: str = "<frame>",
    strip_prefixes: Sequence[str] = DEFAULT_STRIP_PREFIXES,
    expected_configs: Collection[str] | None = None,
) -> pd.DataFrame:
    """Turn a raw results table into a metric frame (module docstring), validating it.

    ``expected_configs``: when given, a duplicated config's error also names the expected configs that
    are missing (a file of the right length with one config twice and another one absent).

    ``df`` may be a raw ``all_results.csv`` table (config keys in a ``dataset`` column, upstream column
    names) or an already-normalised metric frame (config keys as the index named ``dataset``).

    Raises:
        ResultsError: missing/ambiguous columns, non-numeric metric cells, empty or duplicate keys.
    """
    if KEY_COLUMN not in df.columns and df.index.name == KEY_COLUMN:
        df = df.reset_index()
    resolved = _resolve_columns([str(c) for c in df.columns], required_columns, source)
    keys = df[KEY_COLUMN]
    if keys.isna().any():
        rows = [int(i) for i in np.flatnonzero(keys.isna().to_numpy())]
        raise ResultsError(f"{source}: {len(rows)} row(s) with an empty {KEY_COLUMN!r} key (rows {rows[:5]})")
    keys = keys.astype(str)
    for prefix in strip_prefixes:
        has = keys.str.startswith(prefix)
        if has.any():
            keys = keys.where(~has, keys.str.slice(len(prefix)))
    data: dict[str, np.ndarray] = {}
    for metric, col in resolved.items():
        raw = df[col]
        if pd.api.types.is_bool_dtype(raw) or not (
            pd.api.types.is_numeric_dtype(raw) or raw.dtype == object or pd.api.types.is_string_dtype(raw)
        ):
            raise ResultsError(f"{source}: column {col!r} has non-numeric dtype {raw.dtype}")
        if pd.api.types.is_numeric_dtype(raw):
            values = raw.to_numpy(dtype=np.float64)
        else:
            text = raw.astype("string").str.strip()
            text = text.mask(text.str.lower().isin(_NA_TOKENS))
            coerced = pd.to_numeric(text, errors="coerce")
            # literals beyond the float64 range (1e999) read as ±inf, as Python's float() and "inf" do
            coerced = coerced.where(coerced.notna() | text.isna(), text.map(_overflow, na_action="ignore"))
            bad = coerced.isna() & text.notna()
            if bad.any():
                idx = np.flatnonzero(bad.to_numpy())
                cells = ", ".join(f"{keys.iloc[i]!r}: {raw.iloc[i]!r}" for i in idx[:_MAX_EXAMPLES])
                raise ResultsError(
                    f"{source}: column {col!r} has {len(idx)} non-numeric cell(s), e.g. {cells}"
                )
            values = coerced.to_numpy(dtype=np.float64)
        problem = metric_cell_problem(source, col, keys.tolist(), values)
        if problem:
            raise ResultsError(problem)
        data[metric] = values
    out = pd.DataFrame(data, index=pd.Index(keys.to_numpy(), name=KEY_COLUMN), columns=list(required_columns))
    dup = out.index[out.index.duplicated()].unique()
    if len(dup):
        lines = ", ".join(str(int(i) + 2) for i in np.flatnonzero(out.index.isin(dup))[:_MAX_EXAMPLES])
        message = f"{source}: {len(dup)} duplicate config key(s), e.g. {_examples(dup)} (lines {lines})"
        if expected_configs is not None:
            missing = [c for c in expected_configs if c not in set(out.index)]
            if missing:
                message += f"; {len(missing)} expected config(s) missing, e.g. {_examples(missing)}"
        raise ResultsError(message)
    return out


def read_results_csv(
    path: str | os.PathLike[str],
    *,
    required_columns: Sequence[str] = BOOM_METRICS,
    strip_prefixes: Sequence[str] = DEFAULT_STRIP_PREFIXES,
    expected_configs: Collection[str] | None = None,
) -> pd.DataFrame:
    """Read one ``all_results.csv`` into a metric frame (see the module docstring for checks and quirks)."""
    p = Path(path)
    source = str(p)
    # One read, every column parsed (not usecols): a ragged row must fail loudly, not be silently truncated.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            raw = pd.read_csv(p, dtype={KEY_COLUMN: str}, index_col=False)
    except FileNotFoundError:
        raise ResultsError(f"{source}: file not found") from None
    except pd.errors.ParserWarning as e:
        raise ResultsError(f"{source}: malformed CSV (rows longer than the header: {e})") from e
    except (OSError, UnicodeDecodeError, pd.errors.EmptyDataError) as e:
        raise ResultsError(f"{source}: unreadable CSV ({type(e).__name__}: {e})") from e
    except (pd.errors.ParserError, ValueError) as e:
        raise ResultsError(f"{source}: malformed CSV ({type(e).__name__}: {e})") from e
    _resolve_columns([str(c) for c in raw.columns], required_columns, source)
    if raw.empty:
        raise ResultsError(f"{source}: no data rows")
    problem = short_row_problem(source, p)
    if problem:
        raise ResultsError(problem)
    frame = normalize_results_frame(
        raw,
        required_columns=required_columns,
        source=source,
        strip_prefixes=strip_prefixes,
        expected_configs=expected_configs,
    )
    if "model" in raw.columns:
        # what the file says its model is called (GIFT-Eval's Zeus holds two names); the board uses the folder
        counts = raw["model"].astype(str).value_counts(sort=False)
        frame.attrs["model_names"] = {str(k): int(v) for k, v in counts.items()}
    return frame


def check_configs(df: pd.DataFrame, expected: Collection[str], *, source: str = "<frame>") -> None:
    """Raise :class:`ResultsError` unless ``df.index`` is exactly the ``expected`` config set."""
    have = set(df.index)
    want = set(expected)
    missing = [c for c in expected if c not in have]
    unexpected = [c for c in df.index if c not in want]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"{len(missing)} expected config(s) missing, e.g. {_examples(missing)}")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected config(s), e.g. {_examples(unexpected)}")
        raise ResultsError(f"{source}: config set differs from the {len(want)} expected: " + "; ".join(parts))


#: Spellings of the results file: ``all_results.csv`` and the upstream alias ``all-results.csv``
#: (GIFT-Eval ``results/Samay``). ``leaderboard`` reads either (and says so); ``import`` copies either as
#: ``all_results.csv``.
RESULTS_ALIASES: tuple[str, ...] = (RESULTS_FILENAME, "all-results.csv")


def find_model_folders(
    dirs: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    locate: Callable[[Path], Path | None],
    *,
    wanted: str = f"<model>/{RESULTS_FILENAME}",
) -> dict[str, Path]:
    """The results of every model folder ``<dir>/<model>/``, over every results directory.

    ``locate(folder)`` gives the results path of a model folder (its ``all_results.csv``, or the folder
    itself for other layouts), or ``None`` to skip it (logged). Returns ``{model: path}`` sorted by model.

    Raises:
        ResultsError: no directory given, a directory that does not exist or holds no accepted folder
            (``wanted`` says what was looked for), or a model name found in two directories.
    """
    dir_list = [dirs] if isinstance(dirs, str | os.PathLike) else list(dirs)
    if not dir_list:
        raise ResultsError("no results directory given")
    found: dict[str, Path] = {}
    for d in dir_list:
        root = Path(d)
        if not root.is_dir():
            raise ResultsError(f"{root}: results directory does not exist or is not a directory")
        n_here = 0
        for sub in sorted(p for p in root.iterdir() if p.is_dir()):
            path = locate(sub)
            if path is None:
                log.warning("skipping %s: no %s", sub, wanted.removeprefix("<model>/"))
                continue
            if sub.name in found:
                raise ResultsError(f"model {sub.name!r} appears twice: {found[sub.name]} and {path}")
            found[sub.name] = path
            n_here += 1
        if n_here == 0:
            raise ResultsError(f"{root}: no {wanted} found")
    return dict(sorted(found.items()))


def find_results_files(dirs: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> dict[str, Path]:
    """Discover ``<dir>/<model>/all_results.csv`` → ``{model: path}`` (sorted by model name).

    Sub-directories without ``all_results.csv`` are skipped (logged). Raises :class:`ResultsError` if a
    directory does not exist, holds no results at all, or if a model name appears in two directories.
    """
    return find_model_folders(dirs, results_file)


def results_file(folder: Path) -> Path | None:
    """The results file of a model folder: ``all_results.csv`` or an upstream alias of it
    (:data:`RESULTS_ALIASES`); ``None`` when it has none.

    Raises:
        ResultsError: the folder holds two spellings (which one counts would be a guess).
    """
    hits = [folder / n for n in RESULTS_ALIASES if (folder / n).is_file()]
    if len(hits) > 1:
        raise ResultsError(f"{folder}: both {hits[0].name} and {hits[1].name}; keep one")
    return hits[0] if hits else None


def load_results(
    dirs: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    expected_configs: Sequence[str] | None = None,
    required_columns: Sequence[str] = BOOM_METRICS,
    strip_prefixes: Sequence[str] = DEFAULT_STRIP_PREFIXES,
    models: Collection[str] | None = None,
) -> dict[str, pd.DataFrame]:
    """Load every model's results from one or more results directories.

    Args:
        dirs: a results directory or several; each holds ``<model>/all_results.csv``.
        expected_configs: when given, every file must hold exactly these config keys
            (e.g. ``boom_configs(props)``, 7413 for BOOM); ``None`` skips the check.
        required_columns: canonical metric names to load (keys of :data:`METRIC_COLUMNS`).
        strip_prefixes: config-key prefixes to strip (``dd-`` by default).
        models: load only these model names (error if one is absent).

    Returns:
        ``{model: metric frame}`` sorted by model name; frame index = config key (``"dataset"``),
        columns = ``required_columns`` as float64. ``frame.attrs["source"]`` is the file path.

    Raises:
        ResultsError: naming the file and the problem (see module docstring).
    """
    files = find_results_files(dirs)
    if models is not None:
        absent = sorted(set(models) - files.keys())
        if absent:
            raise ResultsError(f"requested model(s) {absent} not found; available: {sorted(files)}")
        files = {m: p for m, p in files.items() if m in set(models)}
    out: dict[str, pd.DataFrame] = {}
    for model, path in files.items():
        df = read_results_csv(
            path,
            required_columns=required_columns,
            strip_prefixes=strip_prefixes,
            expected_configs=expected_configs,
        )
        if expected_configs is not None:
            check_configs(df, expected_configs, source=str(path))
        df.attrs["source"] = str(path)
        out[model] = df
    return out


def nonfinite_counts(results: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """NaN and ±inf cell counts per model and metric: index model, columns ``f"{metric}_nan"``/``_inf``."""
    rows: dict[str, dict[str, int]] = {}
    for model, df in results.items():
        values = df.to_numpy(dtype=np.float64)
        row: dict[str, int] = {}
        for j, metric in enumerate(df.columns):
            row[f"{metric}_nan"] = int(np.isnan(values[:, j]).sum())
            row[f"{metric}_inf"] = int(np.isinf(values[:, j]).sum())
        rows[model] = row
    out = pd.DataFrame.from_dict(rows, orient="index").fillna(0).astype(np.int64)
    out.index.name = "model"
    return out


def read_model_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a model's ``config.json`` (a JSON object); raise :class:`ResultsError` naming it if unusable.

    Upstream files are not always valid JSON (e.g. a missing comma): that is an error here, because the
    leakage and model-type filters must not silently treat an unreadable card as "no leakage".
    """
    p = Path(path)
    try:
        payload = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsError(f"{p}: file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ResultsError(f"{p}: unreadable JSON ({type(e).__name__}: {e})") from e
    if not isinstance(payload, dict):
        raise ResultsError(f"{p}: expected a JSON object, got {type(payload).__name__}")
    return payload


def _metadata_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value).strip()


def has_leakage(value: str) -> bool:
    """Whether a ``testdata_leakage`` value says yes (``Yes``/``yes``/``true``; ``""`` = unknown = no)."""
    return value.strip().lower() in {"yes", "true", "y", "1"}


def load_metadata(
    dirs: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    columns: Sequence[str] = METADATA_COLUMNS,
) -> pd.DataFrame:
    """The ``config.json`` fields ``columns`` of every model found by :func:`find_results_files`.

    Returns:
        DataFrame indexed by model name (sorted), one string column per field: the value as written
        (stripped; JSON booleans become ``Yes``/``No``), ``""`` when the model has no ``config.json`` or
        the field is absent (e.g. this harness's run records).

    Raises:
        ResultsError: a ``config.json`` that is not a JSON object (named in the message).
    """
    files = find_results_files(dirs)
    rows: dict[str, dict[str, str]] = {}
    for model, csv in files.items():
        card = csv.parent / CONFIG_FILENAME
        payload = read_model_config(card) if card.is_file() else {}
        rows[model] = {c: _metadata_text(payload.get(c)) for c in columns}
    out = pd.DataFrame.from_dict(rows, orient="index", columns=list(columns))
    out.index.name = "model"
    return out.astype(str) if len(out) else out


@dataclass(frozen=True)
class RunFallbacks:
    """What a run record says about seasonal-naive substitutes in a model's rows.

    Attributes:
        configs: ``{reason: sorted configs}`` (``time_limit``, ``exception``, ``nan_forecast``, ...).
        time_limit: the wall-clock limit per config the run used (seconds), ``None`` for none.
    """

    configs: dict[str, list[str]] = field(default_factory=dict)
    time_limit: float | None = None

    @property
    def all_configs(self) -> list[str]:
        """Every config with a substitute, sorted."""
        return sorted({c for configs in self.configs.values() for c in configs})


def load_fallbacks(
    dirs: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
) -> dict[str, RunFallbacks]:
    """The fallback records of every model whose ``config.json`` is this harness's run record.

    Returns:
        ``{model: RunFallbacks}`` for the models whose run record used a time limit or lists a fallback
        (upstream cards, and runs with neither, are left out).

    Raises:
        ResultsError: a ``config.json`` that is not a JSON object (named in the message).
    """
    out: dict[str, RunFallbacks] = {}
    for model, csv in find_results_files(dirs).items():
        card = csv.parent / CONFIG_FILENAME
        if not card.is_file():
            continue
        payload = read_model_config(card)
        settings = payload.get("settings")
        limit = settings.get("time_limit") if isinstance(settings, dict) else None
        records = payload.get("fallbacks")
        by_reason: dict[str, set[str]] = {}
        for item in records if isinstance(records, list) else []:
            if isinstance(item, dict):
                by_reason.setdefault(str(item.get("reason", "?")), set()).add(str(item.get("config") or "?"))
        if by_reason or limit is not None:
            out[model] = RunFallbacks(
                {reason: sorted(c) for reason, c in sorted(by_reason.items())},
                float(limit) if isinstance(limit, int | float) else None,
            )
    return out
