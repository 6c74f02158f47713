"""The numba kernels of toto_bench.metrics against the pure-numpy paths they replace (the oracle).

The numpy paths are themselves checked against gluonts in tests/test_metrics_vs_gluonts.py; here every case
is scored twice, with the kernels enabled and with ``_kernels.ENABLED = False``, and the 11 metrics must agree
to 1e-12 relative (only the summation order differs), NaN with NaN and inf with inf. Each clean case also
asserts that the kernel really scored it (a kernel that always declined would pass vacuously otherwise), and
each case the kernel must refuse asserts that it did.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import pytest

import toto_bench.metrics.evaluate as metrics_evaluate
from toto_bench.adapters.base import QUANTILE_LEVELS
from toto_bench.metrics import EVAL_LEVELS, METRIC_NAMES, MetricAccumulator, _kernels, seasonal_errors

pytest.importorskip("numba")

RTOL = 1e-12


@pytest.fixture
def kernel_calls(monkeypatch):
    """Wraps ``chunk_sums``: records whether each call accepted (True) or declined (False) its chunk."""
    calls: list[bool] = []
    original = _kernels.chunk_sums

    def spy(*args):
        ok = bool(original(*args))
        calls.append(ok)
        return ok

    monkeypatch.setattr(_kernels, "chunk_sums", spy)
    return calls


def score(label, quantiles, se, mean=None, levels=QUANTILE_LEVELS, allow_nan=False, kernel=True):
    old = _kernels.ENABLED
    _kernels.ENABLED = kernel
    try:
        acc = MetricAccumulator(levels=levels, allow_nan_forecast=allow_nan)
        acc.update(label, quantiles, se, mean=mean)
        return acc.result()
    finally:
        _kernels.ENABLED = old


def assert_same(a: dict[str, float], b: dict[str, float]) -> None:
    bad = []
    for name in METRIC_NAMES:
        x, y = a[name], b[name]
        if math.isnan(x) or math.isnan(y):
            ok = math.isnan(x) and math.isnan(y)
        elif math.isinf(x) or math.isinf(y):
            ok = x == y
        else:
            ok = math.isclose(x, y, rel_tol=RTOL, abs_tol=0.0)
        if not ok:
            bad.append(f"{name}: kernel={x!r} numpy={y!r}")
    assert not bad, "\n".join(bad)


def random_case(
    seed,
    n=6,
    n_var=3,
    horizon=37,
    levels=QUANTILE_LEVELS,
    ydtype=np.float64,
    qdtype=None,
    nan_frac=0.05,
    with_mean=False,
    mean_dtype=None,
):
    rng = np.random.default_rng(seed)
    y = 20 + np.cumsum(rng.normal(size=(n, n_var, horizon)), axis=-1)
    y[rng.random(y.shape) < nan_frac] = np.nan
    q = 20 + rng.normal(size=(n, n_var, horizon, 1)) + 3 * rng.normal(size=(n, n_var, horizon, len(levels)))
    q = np.sort(q, axis=-1)
    se = rng.random((n, n_var)) + 0.05
    mean = None
    if with_mean:
        mean = (q.mean(axis=-1) + rng.normal(size=q.shape[:3])).astype(mean_dtype or ydtype)
    return y.astype(ydtype), q.astype(qdtype or ydtype), se, mean


def check(kernel_calls, *args, expect=True, **kw):
    ours = score(*args, **kw, kernel=True)
    assert kernel_calls, "the kernel was never called"
    if expect is True:
        assert all(kernel_calls), f"the kernel declined a clean chunk: {kernel_calls}"
    elif expect is False:
        assert not any(kernel_calls), f"the kernel accepted a chunk it must refuse: {kernel_calls}"
    assert_same(ours, score(*args, **kw, kernel=False))


# ------------------------------------------------------------------------------------------ clean cases
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    ("ydtype", "qdtype"),
    [(np.float32, np.float32), (np.float64, np.float64), (np.float32, np.float64), (np.float64, np.float32)],
)
def test_random_matches_numpy(kernel_calls, seed, ydtype, qdtype):
    check(kernel_calls, *random_case(seed, ydtype=ydtype, qdtype=qdtype))


@pytest.mark.parametrize(
    ("ydtype", "mean_dtype"),
    [(np.float32, np.float32), (np.float32, np.float64), (np.float64, np.float64), (np.float64, np.float32)],
)
def test_mean_forecast_matches_numpy(kernel_calls, ydtype, mean_dtype):
    check(kernel_calls, *random_case(3, ydtype=ydtype, with_mean=True, mean_dtype=mean_dtype))


@pytest.mark.parametrize(
    "levels",
    [
        EVAL_LEVELS,  # MSIS bounds stored, not extrapolated
        (0.05, 0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75, 0.85, 0.95),  # every CRPS level interpolated
        (0.2, 0.3, 0.5, 0.7, 0.8),  # 0.1 and 0.9 (and the MSIS bounds) from exponential tails
        (0.1, 0.5, 0.9),
        (0.01, 0.025, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.975, 0.99),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_other_levels_match_numpy(kernel_calls, levels, dtype):
    check(kernel_calls, *random_case(4, levels=levels, ydtype=dtype), levels=levels)


def test_single_stored_level_is_left_to_numpy(kernel_calls):
    """One stored level: the other keys are NaN in gluonts, which only the numpy path models."""
    y, q, se, _ = random_case(5, levels=(0.5,))
    assert_same(
        score(y, q, se, levels=(0.5,), allow_nan=True),
        score(y, q, se, levels=(0.5,), allow_nan=True, kernel=False),
    )
    assert not kernel_calls


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_small_chunks_match_numpy(kernel_calls, monkeypatch, dtype):
    """Many chunks (some of one row): per-chunk sums add up like the numpy path's."""
    monkeypatch.setattr(metrics_evaluate, "_CHUNK_ELEMS", 40)
    check(kernel_calls, *random_case(6, n=9, horizon=23, ydtype=dtype))
    assert len(kernel_calls) > 20


# ------------------------------------------------------------------------------------------- edge cases
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_masked_labels_zero_labels_and_odd_seasonal_errors(kernel_calls, dtype):
    """NaN/inf labels, an all-NaN row, zero labels (MAPE masks them, sMAPE 0/0 too), and seasonal errors
    that are zero, NaN, inf or negative (the row drops out of MASE/MSIS, or weighs 0, or negative)."""
    y, q, se, _ = random_case(7, n=5, n_var=4, ydtype=dtype)
    y[0, 0, :5] = np.inf
    y[0, 1, 3] = -np.inf
    y[1, 2] = np.nan
    y[2, 0, :7] = 0
    q[2, 0, :3] = 0  # zero label and zero forecast: sMAPE 0/0
    se[0, 0], se[1, 1], se[2, 2], se[3, 3] = 0.0, np.nan, np.inf, -0.7
    check(kernel_calls, y, q, se)


def test_all_labels_nan(kernel_calls):
    y, q, se, _ = random_case(8)
    y[:] = np.nan
    check(kernel_calls, y, q, se)


def test_all_seasonal_errors_zero(kernel_calls):
    y, q, se, _ = random_case(9)
    check(kernel_calls, y, q, np.zeros_like(se))


def test_crossing_quantiles(kernel_calls):
    """Unsorted levels: negative interval widths in MSIS, negative signed errors everywhere."""
    rng = np.random.default_rng(10)
    y, q, se, _ = random_case(10, ydtype=np.float32)
    q = rng.permuted(q, axis=-1)
    check(kernel_calls, y, q, se)


@pytest.mark.parametrize("where", ["median", "tail knot", "masked label", "mean"])
def test_nan_forecasts_are_left_to_numpy(kernel_calls, where):
    """Any NaN forecast a metric reads (even under a masked label) makes the kernel decline its chunk; the
    numpy path then scores it (allow_nan_forecast=True) or raises (False)."""
    y, q, se, mean = random_case(11, with_mean=True)
    if where == "median":
        q[1, 0, 4, 4] = np.nan
    elif where == "tail knot":
        q[2, 1, 5, 0] = np.nan
    elif where == "masked label":
        y[3, 2, 6] = np.nan
        q[3, 2, 6, 7] = np.nan
    else:
        mean[0, 0, 0] = np.nan
    check(kernel_calls, y, q, se, mean=mean, allow_nan=True, expect=False)
    with pytest.raises(ValueError, match="NaN"):
        score(y, q, se, mean=mean, allow_nan=False)


def test_inf_forecast_is_left_to_numpy(kernel_calls):
    y, q, se, _ = random_case(15, ydtype=np.float32)
    q[0, 1, 2, 8] = np.inf
    check(kernel_calls, y, q, se, expect=False)


def test_float32_overflow_is_left_to_numpy(kernel_calls):
    """Errors overflowing float32 (|y - f| > 3.4e38) are non-finite: numpy's exact path decides."""
    y, q, se, _ = random_case(12, ydtype=np.float32)
    y[0, 0, 0] = 3e38
    q[0, 0, 0, :] = -3e38
    check(kernel_calls, y, q, se, expect=None)
    assert not all(kernel_calls)


def test_quotients_near_the_masked_division_domain_are_left_to_numpy(kernel_calls):
    """float64 quotients >= 2**1021 (tiny seasonal error, tiny labels) may fall in numpy.ma's domain."""
    y, q, se, _ = random_case(13)
    se[0, 0] = 1e-308  # MASE/MSIS quotients ~1e308
    y[1, 1, :4] = 5e-307  # MAPE quotients ~4e307 >= 2**1021, still finite
    check(kernel_calls, y, q, se, expect=None)
    assert not all(kernel_calls)


def test_tiny_float32_labels_mask_overflowing_quotients(kernel_calls):
    """float32 MAPE quotients overflow to inf for subnormal labels and are masked, as numpy.ma does."""
    y, q, se, _ = random_case(14, ydtype=np.float32)
    y[0, 0, :6] = np.float32(1e-44)
    check(kernel_calls, y, q, se)


# --------------------------------------------------------------------------------------- seasonal errors
def seasonal_both(x, cuts, m):
    old = _kernels.ENABLED
    try:
        _kernels.ENABLED = True
        a = seasonal_errors(x, cuts, m)
        _kernels.ENABLED = False
        b = seasonal_errors(x, cuts, m)
    finally:
        _kernels.ENABLED = old
    return a, b


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m", [1, 7, 24, 400])
def test_seasonal_errors_match_numpy(dtype, m):
    rng = np.random.default_rng(m)
    x = np.cumsum(rng.normal(size=(5, 900)), axis=-1).astype(dtype)
    x[rng.random(x.shape) < 0.1] = np.nan
    x[0, 17] = np.inf
    x[1, 30:] = np.nan  # all-NaN tail
    x[2, :] = 3.0  # constant: zero seasonal error
    cuts = np.array([900, 0, 1, m, m + 1, 450, 899, 450, 3, 700])  # unsorted, repeated, shorter than m
    a, b = seasonal_both(x, cuts, m)
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=0)
    assert np.array_equal(a == 0, b == 0)


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_seasonal_errors_float32_overflow_stays_valid():
    """A finite float32 pair whose difference overflows counts (inf), as in gluonts and the numpy path."""
    x = np.array([[3e38, -3e38, 1.0, 2.0, 5.0, np.nan, 1.0]], dtype=np.float32)
    a, b = seasonal_both(x, np.arange(8), 1)
    np.testing.assert_array_equal(a, b)
    assert np.isinf(a[2:, 0]).all()


def test_seasonal_errors_hand_computed():
    """Lag 1 on [1, 2, 4]: (|2-1| + |4-2|) / 2. Lag 2 on the whole series: |4-1| and |3-4| (the pairs with
    the NaN are skipped), mean 2."""
    x = np.array([1.0, 2.0, 4.0, np.nan, 3.0, 5.0])
    old = _kernels.ENABLED
    _kernels.ENABLED = True
    try:
        assert seasonal_errors(x, np.array([3]), 1)[0, 0] == 1.5
        assert seasonal_errors(x, np.array([6]), 2)[0, 0] == ((4 - 1) + (4 - 3)) / 2
    finally:
        _kernels.ENABLED = old


# ---------------------------------------------------------------------------------------------- switch
def test_env_var_disables_kernels():
    env = {**os.environ, "TOTO_BENCH_NUMBA": "0"}
    code = "from toto_bench.metrics import _kernels; print(_kernels.ENABLED)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
