"""GIFT-Eval protocol rules shared by every suite that follows them (GIFT-Eval itself and BOOM).

Pure functions, no I/O, no pandas: frequency normalisation, seasonality, horizon, number of test windows,
window placement, and the :class:`Task` record that ties them to one config.

Sources (read, not copied): SalesforceAIResearch/gift-eval ``src/gift_eval/data.py`` (``PRED_LENGTH_MAP``,
``M4_PRED_LENGTH_MAP``, ``Term``, ``maybe_reconvert_freq``, ``Dataset.windows``, ``Dataset.test_data``) and
gluonts 0.17 ``time_feature/seasonality.py`` / ``time_feature/_base.py:norm_freq_str``.

Frequency strings are parsed here rather than with ``pandas.tseries.frequencies.to_offset`` because the
stored GIFT-Eval/BOOM data uses pandas < 2.2 aliases (``"H"``, ``"15T"``, ``"10S"``, ``"M"``, ``"A-DEC"``)
that pandas 3 rejects, while newer data may use the new ones (``"h"``, ``"15min"``, ``"ME"``, ``"YE"``).
Both spellings give the same result on any pandas version. The result of :func:`norm_freq_str` is what
``gluonts.time_feature.norm_freq_str(to_offset(freq).name)`` returns on pandas >= 2.2.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, cast, get_args

import numpy as np

Term = Literal["short", "medium", "long"]
TERMS: tuple[Term, ...] = get_args(Term)
TERM_MULTIPLIER: dict[str, int] = {"short": 1, "medium": 10, "long": 15}

#: gift-eval ``TEST_SPLIT`` and ``MAX_WINDOW``.
TEST_SPLIT = 0.1
MAX_WINDOWS = 20

#: Base horizon by legacy base frequency (gift-eval ``PRED_LENGTH_MAP`` / ``M4_PRED_LENGTH_MAP``).
PRED_LENGTH_MAP: dict[str, int] = {"M": 12, "W": 8, "D": 30, "H": 48, "T": 48, "S": 60}
M4_PRED_LENGTH_MAP: dict[str, int] = {"A": 6, "Q": 8, "M": 18, "W": 13, "D": 14, "H": 48}

#: gluonts ``DEFAULT_SEASONALITIES``, keyed by the pandas >= 2.2 base names :func:`norm_freq_str` returns
#: (gluonts also lists the old spellings S/T/H/M/Q, which map to the same values).
BASE_SEASONALITY: dict[str, int] = {
    "s": 3600,
    "min": 1440,
    "h": 24,
    "D": 1,
    "W": 1,
    "ME": 12,
    "B": 5,
    "QE": 4,
}

#: gift-eval ``maybe_reconvert_freq``: pandas >= 2.2 base names back to the legacy aliases.
_LEGACY_BASE: dict[str, str] = {
    "Y": "A",
    "YE": "A",
    "QE": "Q",
    "ME": "M",
    "h": "H",
    "min": "T",
    "s": "S",
    "us": "U",
}

# Every accepted base alias (old and new pandas spellings) -> the name pandas >= 2.2 gives its offset.
_CANONICAL_BASE: dict[str, str] = {
    **{a: "YE" for a in ("A", "Y", "YE")},
    **{a: "YS" for a in ("AS", "YS")},
    **{a: "BYE" for a in ("BA", "BY", "BYE")},
    **{a: "BYS" for a in ("BAS", "BYS")},
    **{a: "QE" for a in ("Q", "QE")},
    "QS": "QS",
    **{a: "BQE" for a in ("BQ", "BQE")},
    "BQS": "BQS",
    **{a: "ME" for a in ("M", "ME")},
    "MS": "MS",
    **{a: "BME" for a in ("BM", "BME")},
    "BMS": "BMS",
    **{a: "SME" for a in ("SM", "SME")},
    "SMS": "SMS",
    **{a: "CBME" for a in ("CBM", "CBME")},
    "CBMS": "CBMS",
    "W": "W",
    "D": "D",
    "B": "B",
    "C": "C",
    **{a: "bh" for a in ("BH", "bh")},
    **{a: "cbh" for a in ("CBH", "cbh")},
    **{a: "h" for a in ("H", "h")},
    **{a: "min" for a in ("T", "min")},
    **{a: "s" for a in ("S", "s")},
    **{a: "ms" for a in ("L", "ms")},
    **{a: "us" for a in ("U", "us")},
    **{a: "ns" for a in ("N", "ns")},
}
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
_MONTH_ANCHORED = frozenset({"YE", "YS", "BYE", "BYS", "QE", "QS", "BQE", "BQS"})
_FREQ_RE = re.compile(r"^(?P<n>\d*)(?P<base>[A-Za-z]+)(?:-(?P<anchor>[A-Za-z0-9]+))?$")


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``" (did you mean 'a', 'b'?)"`` with up to five close matches of ``name`` in ``known``, or ``""``.

    Matching ignores case, so a case slip (``"ett1/h"``) ranks its intended name first.
    """
    by_lower: dict[str, list[str]] = {}
    for candidate in known:
        by_lower.setdefault(candidate.lower(), []).append(candidate)
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=5, cutoff=0.6)
    matches = [candidate for key in close for candidate in by_lower[key]][:5]
    return f" (did you mean {', '.join(repr(m) for m in matches)}?)" if matches else ""


@dataclass(frozen=True)
class Freq:
    """A parsed frequency string: ``n`` × ``base`` (pandas >= 2.2 base name) with an optional anchor."""

    n: int
    base: str
    anchor: str | None = None


def _freq_error(freq: str, why: str) -> ValueError:
    valid = ", ".join(sorted(_CANONICAL_BASE, key=str.lower))
    return ValueError(
        f"unknown frequency {freq!r}: {why}. A frequency is an optional positive multiple, a base alias "
        f"and an optional anchor (e.g. '15T', '15min', 'H', 'W-WED', 'QE-DEC'); valid base aliases: {valid}"
    )


def _check_anchor(freq: str, base: str, anchor: str) -> None:
    if base == "W":
        valid: tuple[str, ...] = _WEEKDAYS
    elif base in _MONTH_ANCHORED:
        valid = _MONTHS
    elif base in ("SME", "SMS") and anchor.isdigit():
        return
    else:
        raise _freq_error(freq, f"base {base!r} takes no anchor, got {anchor!r}")
    if anchor not in valid:
        raise _freq_error(freq, f"anchor {anchor!r} is not one of {', '.join(valid)}")


def _lookup_alias(freq: str, alias: str) -> str:
    # Exact spelling first ("MS" month start vs "ms" millisecond), then pandas' case-insensitive fallback.
    for candidate in (alias, alias.lower(), alias.upper()):
        if candidate in _CANONICAL_BASE:
            return candidate
    raise _freq_error(freq, f"{alias!r} is not a pandas frequency alias")


def parse_freq(freq: str) -> Freq:
    """Parse a pandas frequency alias (old or new spelling) into multiple, canonical base and anchor.

    >>> parse_freq("15T")
    Freq(n=15, base='min', anchor=None)
    >>> parse_freq("A-DEC")
    Freq(n=1, base='YE', anchor='DEC')
    """
    match = _FREQ_RE.match(freq.strip()) if isinstance(freq, str) else None
    if match is None:
        raise _freq_error(str(freq), "it does not look like '<multiple><alias>[-<anchor>]'")
    alias = _lookup_alias(freq, match["base"])
    n = int(match["n"]) if match["n"] else 1
    if n < 1:
        raise _freq_error(freq, "the multiple must be a positive integer")
    base = _CANONICAL_BASE[alias]
    if match["anchor"] is not None:
        _check_anchor(freq, base, match["anchor"])
    return Freq(n=n, base=base, anchor=match["anchor"])


def norm_freq_str(freq: str) -> str:
    """gluonts ``norm_freq_str(to_offset(freq).name)`` on pandas >= 2.2: the base, no multiple or anchor.

    Start-anchored aliases fold onto their end-anchored twin, as gluonts does (``"MS"`` → ``"ME"``).

    >>> [norm_freq_str(f) for f in ("15T", "15min", "W-SUN", "Q-DEC", "QE-DEC", "A", "MS", "10S")]
    ['min', 'min', 'W', 'QE', 'QE', 'YE', 'ME', 's']
    """
    base = parse_freq(freq).base
    if len(base) >= 2 and base.endswith("S"):
        return base[:-1] + "E"
    return base


def maybe_reconvert_freq(base: str) -> str:
    """gift-eval ``maybe_reconvert_freq``: map a pandas >= 2.2 base name back to its legacy alias."""
    return _LEGACY_BASE.get(base, base)


def base_freq(freq: str) -> str:
    """The legacy base alias GIFT-Eval keys its horizons on: ``"15min"`` → ``"T"``, ``"YE-DEC"`` → ``"A"``."""
    return maybe_reconvert_freq(norm_freq_str(freq))


def freq_label(freq: str) -> str:
    """Legacy spelling, multiple kept, anchor dropped: ``"10s"`` → ``"10S"``, ``"W-WED"`` → ``"W"``.

    This is how GIFT-Eval config names spell a data frequency (``bizitobs_service/10S/short``).
    """
    n = parse_freq(freq).n
    return f"{n if n > 1 else ''}{base_freq(freq)}"


def seasonality(freq: str) -> int:
    """gluonts ``get_seasonality(freq)``: the base season divided by the multiple, 1 when it does not divide.

    Unknown bases (A/YE, ms, B-month ends, ...) give 1, exactly like gluonts.

    >>> [seasonality(f) for f in ("15T", "10T", "5min", "10S", "H", "D", "W", "M", "Q", "A", "7T")]
    [96, 144, 288, 360, 24, 1, 1, 12, 4, 1, 1]
    """
    parsed = parse_freq(freq)
    season, remainder = divmod(BASE_SEASONALITY.get(norm_freq_str(freq), 1), parsed.n)
    return 1 if remainder else season


def _check_term(term: str) -> Term:
    if term not in TERM_MULTIPLIER:
        raise ValueError(f"unknown term {term!r}; valid terms: {', '.join(TERMS)}")
    return cast(Term, term)


def prediction_length(freq: str, term: str, dataset_name: str) -> int:
    """gift-eval ``Dataset.prediction_length``: base horizon for the frequency × term multiplier (1/10/15).

    M4 datasets (``"m4" in dataset_name``, case-sensitive as upstream) use the M4 horizons.
    """
    multiplier = TERM_MULTIPLIER[_check_term(term)]
    base = base_freq(freq)
    table = M4_PRED_LENGTH_MAP if "m4" in dataset_name else PRED_LENGTH_MAP
    if base not in table:
        kind = "M4 " if table is M4_PRED_LENGTH_MAP else ""
        raise ValueError(
            f"dataset {dataset_name!r}: frequency {freq!r} (base {base!r}) has no {kind}GIFT-Eval horizon; "
            f"valid bases: {', '.join(table)}"
        )
    return multiplier * table[base]


def num_windows(min_length: int, prediction_length: int, dataset_name: str) -> int:
    """gift-eval ``Dataset.windows``: ``min(max(1, ceil(0.1·min_length / H)), 20)``; M4 datasets use 1.

    ``min_length`` is the shortest series of the dataset (first variate for multivariate entries). The float
    expression is evaluated in the same order as upstream so boundary cases round identically.
    """
    if prediction_length < 1:
        raise ValueError(f"prediction_length must be >= 1, got {prediction_length}")
    if "m4" in dataset_name:
        return 1
    w = math.ceil(TEST_SPLIT * min_length / prediction_length)
    return min(max(1, w), MAX_WINDOWS)


def window_cuts(length: int, prediction_length: int, windows: int, *, item: str | None = None) -> np.ndarray:
    """Where each test window starts: ``cut_w = length − H·W + w·H`` for ``w = 0..W-1``.

    Window ``w`` has context ``target[..., :cut_w]`` (full history) and label ``target[..., cut_w:cut_w+H]``;
    the windows tile the last ``H·W`` steps. Same placement as gluonts ``split(offset=-H·W)`` then
    ``generate_instances(H, W, distance=H)``.

    Returns:
        ``[W]`` int64 array of cut indices, ascending.

    Raises:
        ValueError: when the series leaves no context before the first window (``length < H·W + 1``);
            the message names ``item`` when given.
    """
    if windows < 1 or prediction_length < 1:
        raise ValueError(f"windows and prediction_length must be >= 1, got {windows} and {prediction_length}")
    first = length - prediction_length * windows
    if first < 1:
        who = f"series {item!r}" if item is not None else "series"
        raise ValueError(
            f"{who} has {length} time steps but {windows} test window(s) of prediction_length "
            f"{prediction_length} need at least {prediction_length * windows + 1} "
            f"(H·W = {prediction_length * windows} label steps + 1 context step)"
        )
    return first + prediction_length * np.arange(windows, dtype=np.int64)


@dataclass(frozen=True)
class Task:
    """One evaluation config (``<name>/<freq>/<term>``) and its protocol parameters.

    Attributes:
        config: the published config name, e.g. ``"ett1/H/short"`` or ``"ds-0-T/Short/long"``.
        storage_name: the on-disk dataset folder, e.g. ``"ett1/H"``, ``"saugeenday/M"``, ``"ds-0-T"``.
        term: short, medium or long.
        freq: the data frequency string as stored (``"15T"``, ``"H"``, ``"W-WED"``).
        prediction_length: horizon H.
        windows: number of non-overlapping test windows W.
        seasonality: gluonts seasonality of ``freq`` (seasonal naive season and MASE/MSIS scale).
        target_dim: number of variates of the stored entries (1 for univariate).
        min_length: length of the shortest stored series (first variate), which fixed ``windows``.
    """

    config: str
    storage_name: str
    term: Term
    freq: str
    prediction_length: int
    windows: int
    seasonality: int
    target_dim: int
    min_length: int


def build_task(
    *,
    config: str,
    storage_name: str,
    term: str,
    freq: str,
    min_length: int,
    target_dim: int,
    base_horizon: int | None = None,
    windows: int | None = None,
) -> Task:
    """Derive H, W and the seasonality of one config from its dataset summary, checking the data fits.

    ``base_horizon`` (the short-term H; medium/long multiply it by 10/15) and ``windows`` replace GIFT-Eval's
    horizon and window rules when given (custom suites' overrides).

    Raises:
        ValueError: for an unknown term or frequency, ``target_dim < 1``, or when the shortest series of
            ``storage_name`` cannot hold the ``W`` windows of ``H`` steps plus one context step.
    """
    checked_term = _check_term(term)
    if target_dim < 1:
        raise ValueError(f"dataset {storage_name!r}: target_dim must be >= 1, got {target_dim}")
    if base_horizon is not None:
        horizon = base_horizon * TERM_MULTIPLIER[checked_term]
    else:
        horizon = prediction_length(freq, checked_term, storage_name)
    if windows is None:
        windows = num_windows(min_length, horizon, storage_name)
    try:
        window_cuts(min_length, horizon, windows)
    except ValueError as exc:
        raise ValueError(f"dataset {storage_name!r} ({config}): shortest {exc}") from None
    return Task(
        config=config,
        storage_name=storage_name,
        term=checked_term,
        freq=freq,
        prediction_length=horizon,
        windows=windows,
        seasonality=seasonality(freq),
        target_dim=target_dim,
        min_length=min_length,
    )
