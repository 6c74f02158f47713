"""Optional numba kernels for the two metric hot paths, each one fused pass over the data.

* :func:`chunk_sums` scores a chunk of label rows: every float64 sum and count that
  :class:`~toto_bench.metrics.evaluate.MetricAccumulator` accumulates, from one pass over the labels and the
  stored quantiles, without temporaries. It covers the *clean* case of the numpy fast path (every forecast
  value a metric reads is finite, no overflow, quotients far from numpy.ma's division domain) and reports
  anything else, so the caller re-scores that chunk with the numpy code, which stays the reference.
* :func:`seasonal_prefix_sums` gives, per variate, the sums and counts of the valid ``|x_t - x_{t-lag}|``
  over the first ``k`` pairs for every requested ``k``, in one pass over each series.

Dtypes follow gluonts (and the numpy path) operation by operation: the kernels compute in float64 and round
each result to float32 where numpy computes in float32 (``_r``). Rounding a float64 sum, difference, product
or quotient of float32 values to float32 gives the correctly rounded float32 result (53 >= 2 * 24 + 2), so
this is bitwise numpy's float32 arithmetic. Sums are float64, accumulated per row and then per chunk.

numba is a core dependency. Set ``TOTO_BENCH_NUMBA=0`` to use the callers' numpy code instead (the
reference the kernels are tested against). Compiled code is cached on disk
(``cache=True``), so only the first call after an install pays the compile time (a few seconds).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numba
import numpy as np

from toto_bench.metrics._chunks import DOMAIN_CANDIDATE as _DOMAIN_CANDIDATE
from toto_bench.metrics._chunks import SAFE_QUOTIENT as _SAFE_QUOTIENT
from toto_bench.metrics.quantiles import MSIS_PENALTY as _MSIS_PENALTY

__all__ = [
    "ENABLED",
    "N_CHUNK_FIELDS",
    "KernelPlan",
    "chunk_sums",
    "plan_levels",
    "seasonal_prefix_sums",
]

#: Whether the numba kernels are used: numba importable and ``TOTO_BENCH_NUMBA`` not ``"0"``.
ENABLED: bool = os.environ.get("TOTO_BENCH_NUMBA", "1") != "0"

_TOL = 1e-8  # gluonts ExponentialTailApproximation default, as in .quantiles
_F32_MAX = float(np.finfo(np.float32).max)

#: Key kinds of :func:`plan_levels` (how a requested level is read from the stored ones).
STORED, LINEAR, TAIL = 0, 1, 2

# Layout of chunk_sums' ``out`` (float64; counts are exact integers below 2**53).
OUT_N, OUT_SUM_ABS, OUT_SQ_MEAN, OUT_SQ_MEDIAN, OUT_AE = 0, 1, 2, 3, 4
OUT_MASE, OUT_MAPE, OUT_SMAPE, OUT_MSIS = 5, 6, 7, 8
OUT_N_MASE, OUT_N_MAPE, OUT_N_SMAPE, OUT_N_MSIS = 9, 10, 11, 12
OUT_QL = 13  # 9 quantile losses, CRPS level order
N_CHUNK_FIELDS = OUT_QL + 9

# Flags (uint8) of chunk_sums: per CRPS level "error in float32", then these.
FLAG_Q32, FLAG_MEAN32, FLAG_MSIS32 = 9, 10, 11
N_FLAGS = 12


def _njit(**kw: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``numba.njit(cache=True, error_model="numpy", **kw)``."""
    return numba.njit(cache=True, error_model="numpy", **kw)


# ------------------------------------------------------------------------------------------- level plan
class KernelPlan:
    """How :func:`chunk_sums` reads the 11 forecast keys (9 CRPS levels, then the two MSIS bounds).

    Mirrors :func:`toto_bench.metrics.quantiles.level_function` for stored ``levels``:

    * ``index [11, 4]`` int64: ``(kind, i0, i1, base)``; ``STORED`` reads level ``i0``; ``LINEAR`` is
      ``q[i0] + frac * (q[i1] - q[i0])`` in the quantiles' dtype; ``TAIL`` is gluonts' exponential tail
      ``float64(q[i1] - q[i0]) / log_diff * log_x + q[base]`` in float64.
    * ``const [11, 2]`` float64: ``(log_diff, log_x)`` of tails.
    * ``frac [11]`` float64: interpolation weights (rounded to float32 for float32 quantiles by the caller).
    * ``ql_coef [9]``: ``2 * level - 1`` per CRPS level.
    """

    __slots__ = ("const", "frac", "index", "ql_coef", "tails")

    def __init__(self, index: np.ndarray, const: np.ndarray, frac: np.ndarray, ql_coef: np.ndarray) -> None:
        self.index = index
        self.const = const
        self.frac = frac
        self.ql_coef = ql_coef
        #: which of the 11 keys come out float64 whatever the quantiles' dtype (exponential tails)
        self.tails = index[:, 0] == TAIL


def plan_levels(levels: tuple[float, ...], keys: tuple[float, ...]) -> KernelPlan | None:
    """The :class:`KernelPlan` reading ``keys`` (9 CRPS levels, then 2 MSIS bounds) from stored ``levels``.

    ``None`` when a key cannot be read (fewer than two stored levels and the key not stored: gluonts gives
    NaN, which only the numpy path handles).
    """
    n = len(levels)
    index = np.zeros((len(keys), 4), dtype=np.int64)
    const = np.zeros((len(keys), 2), dtype=np.float64)
    frac = np.zeros(len(keys), dtype=np.float64)
    for k, q in enumerate(keys):
        if q in levels:
            index[k] = (STORED, levels.index(q), 0, 0)
            continue
        if n < 2:
            return None
        left_tail = max(levels[0], min(levels[1], 0.1))
        right_tail = min(levels[-1], max(levels[-2], 0.9))
        if q <= left_tail:
            index[k] = (TAIL, 0, 1, 1)
            const[k] = (
                np.log((levels[1] + _TOL) / (levels[0] + _TOL) + _TOL),
                np.log((q + _TOL) / (levels[1] + _TOL) + _TOL),
            )
        elif q >= right_tail:
            index[k] = (TAIL, n - 2, n - 1, n - 2)
            const[k] = (
                np.log((1 - levels[-2] + _TOL) / (1 - levels[-1] + _TOL) + _TOL),
                np.log((1 - levels[-2] + _TOL) / (1 - q + _TOL) + _TOL),
            )
        else:
            hi = next(i for i, x in enumerate(levels) if q <= x)
            index[k] = (LINEAR, hi - 1, hi, 0)
            frac[k] = (q - levels[hi - 1]) / (levels[hi] - levels[hi - 1])
    ql_coef = np.array([2.0 * q - 1.0 for q in keys[:9]], dtype=np.float64)
    return KernelPlan(index, const, frac, ql_coef)


# -------------------------------------------------------------------------------------------- kernels
@_njit(inline="always")
def _r(x: float, f32: bool) -> float:
    """``x`` rounded to float32 when ``f32`` (numpy's float32 result of the operation that gave ``x``)."""
    if f32:
        return np.float64(np.float32(x))
    return x


# Rows of chunk_sums' per-step accumulators ``acc [N_ACC, H]``: every row of the chunk adds its values
# elementwise (no loop-carried dependency, so the loops vectorise), the chunk total sums them over steps.
_A_SIGNED = 0  # 9 rows: sum of y - f_j
_A_ABS = 9  # 9 rows: sum of |y - f_j|
_A_SUM_ABS, _A_SQ_MEDIAN, _A_SQ_MEAN, _A_MASE = 18, 19, 20, 21
_A_MAPE, _A_N_MAPE, _A_SMAPE, _A_N_SMAPE = 22, 23, 24, 25
_A_MSIS, _A_NUM, _A_ABS_NUM = 26, 27, 28
_N_ACC = 29
# Rows of the per-row scratch ``f [_N_F, H]``: the 11 keys, then the masked label, the mask, the mean.
_F_Y, _F_VALID, _F_MEAN = 11, 12, 13
_N_F = 14


@_njit()
def _fill_keys(q: Any, r: int, index: Any, const: Any, frac: Any, q32: bool, qt: Any, f: Any) -> bool:
    """Row ``r``'s stored levels into ``qt [Q, H]`` and its computed keys into ``f [k, H]``.

    Returns True when any stored level or computed key value is NaN/inf (an unread stored level counts too:
    that chunk merely takes the numpy path).
    """
    horizon, n_q = q.shape[1], q.shape[2]
    for h in range(horizon):
        for j in range(n_q):
            qt[j, h] = q[r, h, j]
    bad = False
    for j in range(n_q):
        row = qt[j]
        for h in range(horizon):
            bad |= not abs(row[h]) < np.inf
    for k in range(11):
        kind = index[k, 0]
        if kind == STORED:
            continue
        lo = qt[index[k, 1]]
        hi = qt[index[k, 2]]
        fk = f[k]
        if kind == LINEAR:
            w = frac[k]
            for h in range(horizon):
                fk[h] = _r(lo[h] + _r(w * _r(hi[h] - lo[h], q32), q32), q32)
        else:
            c0 = const[k, 0]
            c1 = const[k, 1]
            base = qt[index[k, 3]]
            for h in range(horizon):
                fk[h] = _r(hi[h] - lo[h], q32) / c0 * c1 + base[h]
        for h in range(horizon):
            bad |= not abs(fk[h]) < np.inf
    return bad


@_njit()
def chunk_sums(
    y: Any,
    q: Any,
    se: Any,
    mean: Any,
    has_mean: bool,
    index: Any,
    const: Any,
    frac: Any,
    flags: Any,
    ql_coef: Any,
    out: Any,
) -> bool:
    """Every sum and count of one chunk into ``out`` (layout ``OUT_*``); False: re-score with numpy.

    Args:
        y: ``[r, H]`` labels (NaN/inf masked). q: ``[r, H, Q]`` stored quantiles. se: ``[r]`` float64.
        mean: ``[r, H]`` mean forecast, read only when ``has_mean``.
        index, const, frac: the :class:`KernelPlan` of the 11 keys; ql_coef: ``[9]``.
        flags: ``[N_FLAGS]`` uint8: per CRPS level whether its error is float32, then whether the
            quantiles are float32 (``FLAG_Q32``), ``y - mean`` is float32, the MSIS numerator is float32.
        out: ``[N_CHUNK_FIELDS]`` float64, overwritten.

    Returns:
        True when the chunk is clean and ``out`` holds the numpy fast path's sums (up to summation order);
        False (``out`` undefined) when a forecast is non-finite, a value overflows, or a quotient may lie in
        numpy.ma's division domain (all judged conservatively: a False only costs time).
    """
    n_rows, horizon = y.shape
    q32 = flags[FLAG_Q32] != 0
    mean32 = flags[FLAG_MEAN32] != 0
    msis32 = flags[FLAG_MSIS32] != 0
    med32 = flags[4] != 0
    f = np.empty((_N_F, horizon))
    qt = np.empty((q.shape[2], horizon))
    acc = np.zeros((_N_ACC, horizon))
    n_valid = 0
    n_scaled = 0
    min_se = np.inf
    for r in range(n_rows):
        if _fill_keys(q, r, index, const, frac, q32, qt, f):
            return False
        fy = f[_F_Y]
        fv = f[_F_VALID]
        r_valid = 0
        for h in range(horizon):
            yv = np.float64(y[r, h])
            ok = abs(yv) < np.inf
            fy[h] = yv if ok else 0.0
            fv[h] = 1.0 if ok else 0.0
            r_valid += 1 if ok else 0
        n_valid += r_valid
        if has_mean:
            fm = f[_F_MEAN]
            bad = 0
            for h in range(horizon):
                fm[h] = np.float64(mean[r, h])
                bad |= not abs(fm[h]) < np.inf
            if bad:
                return False
        # Quantile losses from sum (y - f) and sum |y - f| per level (masked labels add 0).
        for j in range(9):
            e32 = flags[j] != 0
            fj = qt[index[j, 1]] if index[j, 0] == STORED else f[j]
            a_signed = acc[_A_SIGNED + j]
            a_abs = acc[_A_ABS + j]
            for h in range(horizon):
                e = _r(fy[h] - fj[h], e32) * fv[h]
                a_signed[h] += e
                a_abs[h] += abs(e)
        s = se[r]
        counted = abs(s) > 0
        w = 1.0 / s if counted else 0.0
        if counted:
            n_scaled += r_valid
            if abs(s) < min_se:  # finite and nonzero: inf > min_se always
                min_se = abs(s)
        fmed = qt[index[4, 1]] if index[4, 0] == STORED else f[4]
        flo = qt[index[9, 1]] if index[9, 0] == STORED else f[9]
        fup = qt[index[10, 1]] if index[10, 0] == STORED else f[10]
        fm = f[_F_MEAN]
        for h in range(horizon):
            yv = fy[h]
            valid = fv[h] > 0
            ae = abs(_r(yv - fmed[h], med32)) * fv[h]
            ay = abs(yv)
            acc[_A_SUM_ABS, h] += ay
            sq = _r(ae * ae, med32)
            acc[_A_SQ_MEDIAN, h] += sq
            if has_mean:
                em = _r(yv - fm[h], mean32) * fv[h]
                acc[_A_SQ_MEAN, h] += _r(em * em, mean32)
            acc[_A_MASE, h] += w * ae
            # MAPE / sMAPE, masked like numpy.ma: invalid labels and non-finite quotients drop out.
            quo = _r(ae / ay, med32)
            keep = valid and abs(quo) < np.inf
            acc[_A_MAPE, h] += quo if keep else 0.0
            acc[_A_N_MAPE, h] += 1.0 if keep else 0.0
            quo = _r(_r(2.0 * ae, med32) / _r(ay + abs(fmed[h]), med32), med32)
            keep = valid and abs(quo) < np.inf
            acc[_A_SMAPE, h] += quo if keep else 0.0
            acc[_A_N_SMAPE, h] += 1.0 if keep else 0.0
            # MSIS numerator u - l + 40 relu(l - y) + 40 relu(y - u), in gluonts' order.
            lower = flo[h]
            upper = fup[h]
            num = _r(upper - lower, msis32)
            num = _r(num + _r(max(_r(lower - yv, msis32), 0.0) * _MSIS_PENALTY, msis32), msis32)
            num = _r(num + _r(max(_r(yv - upper, msis32), 0.0) * _MSIS_PENALTY, msis32), msis32)
            num *= fv[h]
            acc[_A_MSIS, h] += w * num
            acc[_A_NUM, h] += num
            acc[_A_ABS_NUM, h] += abs(num)
    tot = np.zeros(_N_ACC)
    for a in range(_N_ACC):
        t = 0.0
        for h in range(horizon):
            t += acc[a, h]
        tot[a] = t
    sq_mean = tot[_A_SQ_MEAN] if has_mean else tot[_A_SQ_MEDIAN]
    if not (abs(tot[_A_SQ_MEDIAN]) < np.inf and abs(sq_mean) < np.inf and abs(tot[_A_NUM]) < np.inf):
        return False
    for j in range(9):
        if not (abs(tot[_A_SIGNED + j]) < np.inf and tot[_A_ABS + j] < np.inf):
            return False
    # numpy's bounds use max |x|, here bounded by sum |x| (conservative).
    limit = min_se * _SAFE_QUOTIENT
    bound = _F32_MAX if med32 else tot[_A_ABS + 4]
    if not (bound < limit and tot[_A_ABS_NUM] < limit):
        return False
    if not med32 and not (tot[_A_MAPE] < _DOMAIN_CANDIDATE and tot[_A_SMAPE] < _DOMAIN_CANDIDATE):
        return False
    out[OUT_N] = n_valid
    out[OUT_SUM_ABS] = tot[_A_SUM_ABS]
    out[OUT_SQ_MEAN] = sq_mean
    out[OUT_SQ_MEDIAN] = tot[_A_SQ_MEDIAN]
    out[OUT_AE] = tot[_A_ABS + 4]
    out[OUT_MASE] = tot[_A_MASE]
    out[OUT_MAPE] = tot[_A_MAPE]
    out[OUT_SMAPE] = tot[_A_SMAPE]
    out[OUT_MSIS] = tot[_A_MSIS]
    out[OUT_N_MASE] = n_scaled
    out[OUT_N_MAPE] = tot[_A_N_MAPE]
    out[OUT_N_SMAPE] = tot[_A_N_SMAPE]
    out[OUT_N_MSIS] = n_scaled
    for j in range(9):
        out[OUT_QL + j] = tot[_A_ABS + j] + ql_coef[j] * tot[_A_SIGNED + j]
    return True


# reassoc lets LLVM vectorise the two reductions (partial sums per SIMD lane); the pairwise differences
# stay exact IEEE operations in the series' dtype.
@_njit(fastmath={"reassoc"})
def seasonal_prefix_sums(x: Any, lag: int, bounds: Any, sums: Any, counts: Any) -> None:
    """Sums and counts of valid ``|x_t - x_{t-lag}|`` over the first ``bounds[b]`` pairs of each series.

    Args:
        x: ``[V, T]`` float32/float64 series, NaN/inf missing (a pair with a missing member is skipped; the
            difference is taken in the series' dtype, a finite pair overflowing to inf stays valid).
        lag: ``m >= 1``. bounds: ``[B]`` strictly ascending int64 pair counts, ``lag + bounds[-1] <= T``.
        sums: ``[V, B]`` float64, counts: ``[V, B]`` int64, both overwritten with running totals.
    """
    for v in range(x.shape[0]):
        xv = x[v]
        total = 0.0
        count = 0
        t = 0
        for b in range(bounds.shape[0]):
            end = bounds[b]
            for i in range(t, end):
                a = xv[i + lag]
                p = xv[i]
                ok = (abs(a) < np.inf) & (abs(p) < np.inf)
                d = abs(a - p)
                total += np.float64(d) if ok else 0.0
                count += 1 if ok else 0
            t = end
            sums[v, b] = total
            counts[v, b] = count
