"""The per-chunk arithmetic of :class:`~toto_bench.metrics.evaluate.MetricAccumulator` in numpy.

Two paths compute the float64 sums and counts of one chunk of windows (a :class:`Partial`):
:func:`chunk_numpy`, the fast path for finite forecasts (and the numba kernel's reference), and
:func:`chunk_exact`, pointwise gluonts semantics for any input (NaN/inf forecasts, zero/inf seasonal errors).
Shapes: ``y [r, H]`` labels, ``q [r, H, Q]`` quantiles, ``se [r]`` float64 seasonal errors, ``mean [r, H]``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from toto_bench.metrics.quantiles import CRPS_LEVELS, MSIS_LEVELS, MSIS_PENALTY, LevelGetter

__all__ = [
    "DOMAIN_CANDIDATE",
    "KEYS",
    "RATIOS",
    "SAFE_QUOTIENT",
    "Partial",
    "chunk_exact",
    "chunk_numpy",
    "masked_ratio",
]

#: Forecast keys a metric reads, by gluonts name.
KEYS: tuple[float, ...] = (*CRPS_LEVELS, *MSIS_LEVELS)
#: The metrics that are masked means of ratios.
RATIOS = ("MASE", "MAPE", "sMAPE", "MSIS")
#: numpy.ma's safe-division tolerance (``np.finfo(float).tiny``), a float64 scalar like numpy's.
_TINY = np.finfo(np.float64).tiny
#: A finite quotient can only fall in numpy.ma's division domain when ``|quotient| >= 2**1021``.
DOMAIN_CANDIDATE = 2.0**1021
#: Fast path bound: ``max |x| < min se * 2**1020`` keeps every quotient finite and outside that domain.
SAFE_QUOTIENT = 2.0**1020


class Partial:
    """Float64 sums and counts of one chunk; committed to the accumulator only once complete."""

    __slots__ = (
        "ae",
        "ae_nan",
        "n",
        "nan_keys",
        "ql",
        "ratio_count",
        "ratio_sum",
        "sq_mean",
        "sq_median",
        "sum_abs",
    )

    def __init__(self) -> None:
        self.n = 0
        self.sum_abs = 0.0
        self.sq_mean = 0.0
        self.sq_median = 0.0
        self.ae = 0.0  # NaN-propagating sum |y - median| (MAE)
        self.ae_nan = 0.0  # np.nansum variant (ND)
        self.ratio_sum = dict.fromkeys(RATIOS, 0.0)
        self.ratio_count = dict.fromkeys(RATIOS, 0)
        self.ql = dict.fromkeys(CRPS_LEVELS, 0.0)
        self.nan_keys: set[str] = set()


def masked_ratio(
    num: np.ndarray, den: np.ndarray, quotient: np.ndarray, valid: np.ndarray | None, nonneg: bool
) -> tuple[float, int]:
    """Sum and count of the unmasked entries of ``num / den`` (``quotient``, a fresh array), numpy.ma rules.

    Masked: label invalid (``~valid``), non-finite quotient, or ``|num| * tiny >= |den|`` (numpy.ma's
    safe-division domain, which can only bite when ``|quotient| >= 2**1021``).
    """
    keep = np.isfinite(quotient)
    if valid is not None:
        keep &= valid
    count = int(np.count_nonzero(keep))
    if count != quotient.size:
        np.copyto(quotient, 0, where=~keep)
    total = quotient.sum(dtype=np.float64)
    if quotient.dtype.itemsize >= 8:
        if nonneg:
            suspicious = not total < DOMAIN_CANDIDATE
        else:
            suspicious = bool(quotient.max() >= DOMAIN_CANDIDATE or quotient.min() <= -DOMAIN_CANDIDATE)
        if suspicious:  # exact numpy.ma domain test, only for astronomically large quotients
            domain = (np.abs(num) * _TINY >= np.abs(den)) & keep
            if domain.any():
                count -= int(np.count_nonzero(domain))
                np.copyto(quotient, 0, where=domain)
                total = quotient.sum(dtype=np.float64)
    return float(total), count


def chunk_numpy(
    level_fns: dict[float, Callable[[LevelGetter], np.ndarray]],
    y: np.ndarray,
    q: np.ndarray,
    se: np.ndarray,
    mean: np.ndarray | None,
) -> Partial | None:
    """The fast path in numpy (the kernel's reference); ``None`` sends the chunk to the exact path.

    Same definitions as :func:`chunk_exact`, restructured: quantile losses from ``sum |e|`` and
    ``sum e``; MASE and MSIS as ``sum_rows (sum_h x) / se_row`` (every quotient is provably finite and
    outside numpy.ma's division domain here, so the masked mean reduces to row weights); MAPE/sMAPE
    counts equal the valid-label count whenever their sum is finite.
    """
    finite_y = np.isfinite(y)
    n_valid = int(np.count_nonzero(finite_y))
    has_invalid = n_valid != y.size
    y0 = y
    keep = None  # label mask as 0/1 floats: multiplying keeps NaN/inf forecasts visible (NaN * 0 = NaN)
    if has_invalid:
        y0 = y.copy()
        y0[~finite_y] = 0
        keep = finite_y.astype(y.dtype)
    p = Partial()
    p.n = n_valid
    abs_y = np.abs(y0)
    p.sum_abs = float(abs_y.sum(dtype=np.float64))

    n_q = q.shape[-1]
    q_t = q.reshape(-1, n_q).T.copy().reshape((n_q, *y.shape))  # [Q, r, H]: each level contiguous
    forecast = {k: fn(q_t.__getitem__) for k, fn in level_fns.items()}

    # Errors are multiplied by the label mask rather than overwritten: a NaN/inf forecast at a masked
    # label then still turns the sum non-finite (gluonts checks forecasts everywhere).
    abs_err = np.empty(0)
    buf = None
    for level in CRPS_LEVELS:
        fc = forecast[level]
        dtype = np.result_type(y0, fc)
        if level == 0.5 or buf is None or buf.dtype != dtype:
            err = np.subtract(y0, fc)
            if level != 0.5:
                buf = err
        else:
            err = np.subtract(y0, fc, out=buf)
        if keep is not None:
            err *= keep
        signed = err.sum(dtype=np.float64)
        if not np.isfinite(signed):
            return None  # NaN/inf forecast (or overflow): exact path
        np.abs(err, out=err)
        absolute = err.sum(dtype=np.float64)
        if not np.isfinite(absolute):
            return None
        p.ql[level] = float(absolute + (2.0 * level - 1.0) * signed)
        if level == 0.5:
            abs_err = err
            p.ae = p.ae_nan = float(absolute)
    del buf
    p.sq_median = float(np.square(abs_err).sum(dtype=np.float64))
    if mean is None:
        p.sq_mean = p.sq_median
    else:
        err = y0 - mean
        if keep is not None:
            err *= keep
        p.sq_mean = float(np.square(err).sum(dtype=np.float64))
    if not (np.isfinite(p.sq_median) and np.isfinite(p.sq_mean)):
        return None

    # MASE / MSIS: rows with se != 0 (inf included: quotients are 0) keep all their valid points;
    # se == 0 or NaN masks the whole row (x / 0 and x / NaN are non-finite).
    abs_se = np.abs(se)
    counted = abs_se > 0
    weight = np.zeros_like(se)
    np.divide(1.0, se, out=weight, where=counted)
    finite_se = counted & np.isfinite(se)
    min_se = abs_se[finite_se].min() if finite_se.any() else np.inf
    count_scaled = n_valid
    if not counted.all():
        count_scaled -= int(np.count_nonzero(finite_y[~counted]))
    bound = float(np.finfo(abs_err.dtype).max) if abs_err.dtype.itemsize < 8 else float(abs_err.max())
    if not bound < min_se * SAFE_QUOTIENT:
        return None
    p.ratio_sum["MASE"] = float((weight @ abs_err.astype(np.float64)).sum())
    p.ratio_count["MASE"] = count_scaled

    num = _interval_numerator_fast(y0, forecast[MSIS_LEVELS[0]], forecast[MSIS_LEVELS[1]])
    if keep is not None:
        num *= keep if num.dtype == keep.dtype else keep.astype(num.dtype)
    bound = max(float(num.max()), -float(num.min()))
    if not bound < min_se * SAFE_QUOTIENT:  # also catches NaN/inf
        return None
    p.ratio_sum["MSIS"] = float((weight @ num.astype(np.float64, copy=False)).sum())
    p.ratio_count["MSIS"] = count_scaled

    # MAPE / sMAPE: masked labels contribute 0 / 1 and 0 / |f|; a non-finite sum -> exact masking.
    if keep is None:
        den = abs_y
    else:
        den = 1 - keep
        den += abs_y
    _fast_ratio(p, "MAPE", abs_err, den, abs_err / den, n_valid, finite_y)
    num = 2 * abs_err
    den = np.add(abs_y, np.abs(forecast[0.5]))
    _fast_ratio(p, "sMAPE", num, den, num / den, n_valid, finite_y)
    return p


def _fast_ratio(
    p: Partial,
    name: str,
    num: np.ndarray,
    den: np.ndarray,
    quotient: np.ndarray,
    n_valid: int,
    valid: np.ndarray,
) -> None:
    total = quotient.sum(dtype=np.float64)
    if np.isfinite(total) and (quotient.dtype.itemsize < 8 or total < DOMAIN_CANDIDATE):
        p.ratio_sum[name], p.ratio_count[name] = float(total), n_valid
    else:
        p.ratio_sum[name], p.ratio_count[name] = masked_ratio(num, den, quotient, valid, nonneg=True)


def _interval_numerator_fast(y0: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """``u - l + 40 relu(l - y) + 40 relu(y - u)``: bitwise gluonts' numerator for finite inputs."""
    dtype = np.result_type(lower, upper, y0)
    num = np.subtract(upper, lower, dtype=dtype)
    y = y0.astype(dtype, copy=False)  # one explicit cast: mixed-dtype ufuncs are much slower
    pen = np.subtract(lower, y, dtype=dtype)
    np.maximum(pen, 0, out=pen)
    pen *= MSIS_PENALTY
    num += pen
    np.subtract(y, upper, out=pen, dtype=dtype)
    np.maximum(pen, 0, out=pen)
    pen *= MSIS_PENALTY
    num += pen
    return num


def chunk_exact(
    level_fns: dict[float, Callable[[LevelGetter], np.ndarray]],
    allow_nan_forecast: bool,
    y: np.ndarray,
    q: np.ndarray,
    se: np.ndarray,
    mean: np.ndarray | None,
) -> Partial:
    """Pointwise gluonts semantics for any input (NaN/inf forecasts, zero/inf seasonal errors, ...).

    ``y [r, H]``, ``q [r, H, Q]``, ``se [r]`` float64, ``mean [r, H] | None``.
    """
    p = Partial()
    finite_y = np.isfinite(y)
    n_valid = int(np.count_nonzero(finite_y))
    invalid = None if n_valid == y.size else ~finite_y
    abs_y = np.abs(y)
    if invalid is not None:
        np.copyto(abs_y, 0, where=invalid)
    p.n = n_valid
    p.sum_abs = float(abs_y.sum(dtype=np.float64))

    q_t = np.ascontiguousarray(np.moveaxis(q, -1, 0))
    forecast = {k: fn(q_t.__getitem__) for k, fn in level_fns.items()}
    median = forecast[0.5]
    mean_fc = median if mean is None else mean

    # Inspect exactly the arrays the metrics read, everywhere (masked labels included), like gluonts.
    named = [("mean", mean_fc), *((str(k), forecast[k]) for k in KEYS)]
    p.nan_keys = {key for key, arr in named if np.isnan(arr).any()}
    if p.nan_keys and not allow_nan_forecast:
        raise ValueError(
            f"Forecast contains NaN values (forecast keys {sorted(p.nan_keys)}); "
            "pass allow_nan_forecast=True to score it anyway"
        )
    se_col = se[:, None]

    # Median: ratio metrics on raw errors (an invalid label gives a non-finite quotient -> masked).
    err = y - median
    abs_err = np.abs(err)
    for name, num, den in (
        ("MASE", abs_err, se_col),
        ("MAPE", abs_err, abs_y),
        ("sMAPE", 2 * abs_err, abs_y + np.abs(median)),
    ):
        p.ratio_sum[name], p.ratio_count[name] = masked_ratio(num, den, num / den, None, nonneg=True)
    if invalid is not None:
        np.copyto(err, 0, where=invalid)
        np.copyto(abs_err, 0, where=invalid)
    p.sq_median = float(np.square(err).sum(dtype=np.float64))
    p.ae = float(abs_err.sum(dtype=np.float64))
    p.ae_nan = p.ae
    if "0.5" in p.nan_keys:
        nan_pos = np.isnan(abs_err)
        np.copyto(abs_err, 0, where=nan_pos)
        p.ae_nan = float(abs_err.sum(dtype=np.float64))
    del err, abs_err

    if mean is None:
        p.sq_mean = p.sq_median
    else:
        err = y - mean
        if invalid is not None:
            np.copyto(err, 0, where=invalid)
        p.sq_mean = float(np.square(err).sum(dtype=np.float64))

    for level in CRPS_LEVELS:
        fc = forecast[level]
        loss = 2 * np.abs((y - fc) * ((fc >= y) - level))  # float64, as in gluonts
        if invalid is not None:
            np.copyto(loss, 0, where=invalid)
        if str(level) in p.nan_keys:
            np.copyto(loss, 0, where=np.isnan(loss))
        p.ql[level] = float(loss.sum(dtype=np.float64))

    num = _interval_numerator_exact(y, forecast[MSIS_LEVELS[0]], forecast[MSIS_LEVELS[1]])
    msis = masked_ratio(num, se_col, num / se_col, None, nonneg=False)
    p.ratio_sum["MSIS"], p.ratio_count["MSIS"] = msis
    return p


def _interval_numerator_exact(y: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """``u - l + 40 (l - y)[y < l] + 40 (y - u)[y > u]`` in gluonts' operation order (inf * 0 = NaN)."""
    num = upper - lower
    dtype = np.result_type(lower, upper, y)
    if num.dtype != dtype:
        num = num.astype(dtype)
    pen = lower - y
    pen *= MSIS_PENALTY
    pen *= y < lower
    num += pen
    pen = y - upper
    pen *= MSIS_PENALTY
    pen *= y > upper
    num += pen
    return num
