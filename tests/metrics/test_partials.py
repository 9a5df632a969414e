"""Mergeable partials (metrics/partials.py) against NumPy, SciPy and pandas on the whole array.

Data with nulls and infinities is cut into uneven chunks (empty ones and one-value ones among them)
whose partials are merged in several orders and trees; the result must equal the statistic computed
directly on all the data: to 1e-9 where the partial is exact, within the stated bound where it is
sketched (checked on the rank of the returned value, not on the value).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from functools import reduce

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from metrics.computations.column_stats import _summary
from metrics.core.columns import ColumnData, ColumnPair, sorted_quantile
from metrics.core.definition import ColumnType
from metrics.partials import (
    CategoricalPartial,
    CorrelationPartial,
    NumericPartial,
    ks_p_value,
    ks_statistic,
    shared_category_counts,
    shared_value_counts,
    wasserstein,
)

TOL = 1e-9


def numeric_data(seed: int, n: int = 20_000, *, decimals: int | None = 2, offset: float = 0.0):
    """Normal values (rounded, so they repeat and stay under the distinct cap), ~5% NaN and a few
    infinities of each sign."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n) * 3.0 + offset
    if decimals is not None:
        x = np.round(x, decimals)
    x[rng.random(n) < 0.05] = np.nan
    x[rng.choice(n, 7, replace=False)] = np.inf
    x[rng.choice(n, 5, replace=False)] = -np.inf
    return x


def uneven_chunks(x: np.ndarray, seed: int, pieces: int = 17) -> list[np.ndarray]:
    """Random cut points (repeated ones make empty chunks), plus forced one-value chunks."""
    rng = np.random.default_rng(seed + 1000)
    cuts = np.sort(rng.integers(0, len(x), pieces))
    cuts = np.concatenate([cuts, cuts[:3], [1, 2, len(x) - 1]])  # empties and singles
    chunks = np.split(x, np.sort(cuts))
    assert any(len(c) == 0 for c in chunks)
    assert any(len(c) == 1 for c in chunks)
    return chunks


def left_fold(parts):
    return reduce(lambda a, b: a.merge(b), parts)


def right_fold(parts):
    return reduce(lambda a, b: b.merge(a), reversed(parts))


def shuffled_fold(parts):
    order = np.random.default_rng(7).permutation(len(parts))
    return reduce(lambda a, b: a.merge(b), [parts[i] for i in order])


def tree(parts):
    return NumericPartial.merge_all(parts) if isinstance(parts[0], NumericPartial) else _tree(parts)


def _tree(parts):
    while len(parts) > 1:
        parts = [
            parts[i].merge(parts[i + 1]) if i + 1 < len(parts) else parts[i]
            for i in range(0, len(parts), 2)
        ]
    return parts[0]


ORDERS: dict[str, Callable] = {
    "left": left_fold,
    "right": right_fold,
    "shuffled": shuffled_fold,
    "tree": tree,
}


def merged(x, seed, order="tree", **kwargs) -> NumericPartial:
    return ORDERS[order]([NumericPartial.from_array(c, **kwargs) for c in uneven_chunks(x, seed)])


def close(a, b, tol=TOL):
    assert a == pytest.approx(b, rel=tol, abs=tol), (a, b)


# ---- exact statistics ----------------------------------------------------------------------------


@pytest.mark.parametrize("order", list(ORDERS))
@pytest.mark.parametrize(("seed", "offset"), [(0, 0.0), (1, 1e6), (2, -50.0)])
def test_moments_and_counts_equal_numpy_and_scipy(seed, offset, order):
    x = numeric_data(seed, offset=offset)
    p = merged(x, seed, order)
    finite = x[np.isfinite(x)]
    assert p.rows == len(x)
    assert p.missing == int(np.isnan(x).sum())
    assert p.posinf == 7
    assert p.neginf == 5
    assert p.count == len(finite)
    assert p.exact
    assert p.rank_error == 0.0
    close(p.mean, np.mean(finite))
    close(p.std, np.std(finite, ddof=1))
    close(p.var, np.var(finite, ddof=1))
    close(p.std_population, np.std(finite))
    close(p.skewness, stats.skew(finite, bias=True))
    close(p.kurtosis, stats.kurtosis(finite, bias=True))
    close(p.sum, np.sum(finite))
    assert p.min == finite.min()
    assert p.max == finite.max()


def test_stable_moments_with_a_large_offset():
    """A naive sum-of-powers merge loses every digit at 1e9 + N(0, 1); Chan/Pébay does not."""
    rng = np.random.default_rng(3)
    x = 1e9 + rng.normal(size=50_000)
    p = merged(x, 3)
    close(p.std, np.std(x, ddof=1), 1e-7)
    close(p.skewness, stats.skew(x), 1e-5)
    close(p.kurtosis, stats.kurtosis(x), 1e-6)


@pytest.mark.parametrize("order", list(ORDERS))
def test_value_counts_unique_and_most_common_equal_pandas(order):
    x = numeric_data(4)
    p = merged(x, 4, order)
    finite = pd.Series(x[np.isfinite(x)])
    expected = finite.value_counts().sort_index()
    values, counts = p.values_counts
    np.testing.assert_array_equal(values, expected.index.to_numpy())
    np.testing.assert_array_equal(counts, expected.to_numpy())
    # ColumnSummary's unique: distinct finite values, plus one per sign of infinity present.
    assert p.unique == finite.nunique() + 2
    top_count = expected.max()
    assert p.most_common == (float(expected[expected == top_count].index.min()), int(top_count))


def test_merge_orders_agree_exactly_on_the_tables():
    x = numeric_data(5)
    results = [merged(x, 5, order) for order in ORDERS]
    for other in results[1:]:
        np.testing.assert_array_equal(other.values_counts[0], results[0].values_counts[0])
        np.testing.assert_array_equal(other.values_counts[1], results[0].values_counts[1])


def test_histogram_equals_numpy_with_the_same_edges():
    x = numeric_data(6)
    finite = x[np.isfinite(x)]
    edges = np.linspace(-4.0, 5.0, 13)  # values fall below and above
    for order in ORDERS:
        p = merged(x, 6, order, edges=edges)
        expected, _ = np.histogram(finite, bins=edges)
        assert p.histogram is not None
        np.testing.assert_array_equal(p.histogram, expected)
        assert p.below == int((finite < edges[0]).sum())
        assert p.above == int((finite > edges[-1]).sum())
        assert p.below + p.above + p.histogram.sum() == len(finite)


@pytest.mark.parametrize("seed", [7, 8])
def test_exact_quantiles_and_cdf_equal_sorted_quantile(seed):
    x = numeric_data(seed)
    p = merged(x, seed, "shuffled")
    ordered = np.sort(x[np.isfinite(x)])
    qs = np.r_[0.0, 1.0, 0.25, 0.5, 0.75, np.random.default_rng(seed).random(200)]
    expected = np.array([sorted_quantile(ordered, q) for q in qs])
    np.testing.assert_array_equal(p.quantile(qs), expected)
    assert p.quantile(0.5) == sorted_quantile(ordered, 0.5)
    points = np.r_[ordered[::97], ordered[0] - 1, ordered[-1] + 1, 0.005]
    expected_cdf = np.searchsorted(ordered, points, side="right") / len(ordered)
    np.testing.assert_allclose(p.cdf(points), expected_cdf, rtol=0, atol=1e-15)


def test_summary_equals_column_summary():
    x = numeric_data(9)
    p = merged(x, 9)
    expected, most_common = _summary(ColumnData(pd.Series(x, name="x"), ColumnType.NUMERICAL))
    got = p.summary()
    assert set(got) == set(expected)
    for key, value in expected.items():
        close(got[key], value)
    assert p.most_common is not None
    assert p.most_common[0] == most_common


def test_empty_and_all_null_partials():
    empty = NumericPartial.from_array([])
    nulls = NumericPartial.from_array([np.nan, np.nan, np.inf])
    both = empty.merge(nulls)
    assert (both.rows, both.missing, both.posinf, both.count) == (3, 2, 1, 0)
    assert np.isnan(both.quantile(0.5))
    assert np.isnan(both.std)
    assert np.isnan(both.skewness)
    assert both.most_common is None
    assert both.unique == 1
    one = both.merge(NumericPartial.from_array([2.5]))
    assert (one.mean, one.min, one.max, one.quantile(0.9)) == (2.5, 2.5, 2.5, 2.5)
    assert np.isnan(one.std)


# ---- sketched statistics -------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["sketched chunks", "exact chunks"])
def million(request):
    """1M continuous values (about 1M distinct, far past the cap) with a planted frequent value.
    "sketched chunks": 64 uneven chunks, each past the cap already. "exact chunks": 100 chunks
    each under the cap, so the merges turn exact tables into sketches (and merge KLL sketches into
    non-empty ones, where datasketches' iterator misreports weights). Merged as a tree."""
    rng = np.random.default_rng(11)
    x = rng.standard_t(5, size=1_000_000)
    x[rng.random(x.size) < 0.03] = 42.0
    x[rng.random(x.size) < 0.01] = np.nan
    if request.param == "sketched chunks":
        chunks = np.split(x, np.sort(rng.integers(0, x.size, 63)))
    else:
        chunks = np.array_split(x, 100)
    parts = [NumericPartial.from_array(c) for c in chunks]
    if request.param == "exact chunks":
        assert all(p.exact for p in parts)
    return x, NumericPartial.merge_all(parts)


def test_sketched_quantiles_within_the_rank_bound(million):
    x, p = million
    ordered = np.sort(x[np.isfinite(x)])
    n = len(ordered)
    assert not p.exact
    eps = p.rank_error
    assert 0 < eps < 0.02
    qs = np.r_[0.0, 1.0, np.linspace(0.001, 0.999, 999)]
    values = p.quantile(qs)
    # The true normalised rank range of each returned value must reach q within eps.
    low = np.searchsorted(ordered, values, side="left") / n
    high = np.searchsorted(ordered, values, side="right") / n
    assert np.all(low - eps <= qs)
    assert np.all(qs <= high + eps)
    points = ordered[:: n // 1000]
    true_cdf = np.searchsorted(ordered, points, side="right") / n
    assert np.max(np.abs(p.cdf(points) - true_cdf)) <= eps
    # The exact parts stay exact.
    close(p.mean, ordered.mean())
    close(p.std, ordered.std(ddof=1))
    assert (p.min, p.max) == (ordered[0], ordered[-1])


def test_sketched_cdf_after_merging_exact_chunks_within_the_bound():
    """100 chunks of 10k distinct normals (each exactly at the cap): the merges build the sketch.
    The CDF read off the merged sketch must be the sketch's own (and within its bound); reading the
    weights off datasketches' iterator instead put it 0.08 off here."""
    rng = np.random.default_rng(12)
    chunks = np.array_split(rng.normal(size=1_000_000), 100)
    p = NumericPartial.merge_all([NumericPartial.from_array(c) for c in chunks])
    assert not p.exact
    ordered = np.sort(np.concatenate(chunks))
    points = ordered[::1000]
    np.testing.assert_allclose(p.cdf(points), np.array(p.kll.get_cdf(points, True))[:-1])
    true_cdf = np.searchsorted(ordered, points, side="right") / len(ordered)
    assert np.max(np.abs(p.cdf(points) - true_cdf)) <= p.rank_error
    other = rng.normal(0.1, 1.2, size=300_000)
    d = ks_statistic(p, NumericPartial.from_array(other))
    assert abs(d.value - stats.ks_2samp(ordered, other).statistic) <= d.bound


def test_sketched_unique_and_most_common_within_their_bounds(million):
    x, p = million
    finite = x[np.isfinite(x)]
    true_unique = len(np.unique(finite))
    lower, upper = p.unique_bounds()
    assert lower <= true_unique <= upper
    assert abs(p.unique - true_unique) / true_unique < 0.03
    # Misra-Gries: the reported count is a lower bound within frequency_error.
    assert 0 < p.frequency_error <= p.count / (p.distinct_cap + 1)
    value, count = p.most_common
    true_count = int((finite == 42.0).sum())
    assert value == 42.0
    assert count <= true_count <= count + p.frequency_error


# ---- two-sample measures -------------------------------------------------------------------------


def scipy_wasserstein_normed(reference, current):
    return stats.wasserstein_distance(reference, current) / max(np.std(reference), 0.001)


@pytest.mark.parametrize("seed", [12, 13])
def test_exact_wasserstein_and_ks_equal_scipy(seed):
    x = numeric_data(seed)
    y = numeric_data(seed + 50, n=9_000, offset=0.4)
    ref, cur = merged(x, seed), merged(y, seed + 1, "left")
    rf, cf = x[np.isfinite(x)], y[np.isfinite(y)]
    w = wasserstein(ref, cur)
    assert w.exact
    assert w.bound == 0
    close(w.value, scipy_wasserstein_normed(rf, cf))
    d = ks_statistic(ref, cur)
    expected = stats.ks_2samp(rf, cf, method="asymp")
    assert d.exact
    close(d.value, expected.statistic)
    close(ks_p_value(d.value, ref.count, cur.count), expected.pvalue)


def test_wasserstein_of_a_constant_reference_uses_the_floor():
    ref = NumericPartial.from_array(np.full(10, 3.0)).merge(NumericPartial.from_array([3.0]))
    cur = NumericPartial.from_array([3.0, 3.5, 4.0])
    close(wasserstein(ref, cur).value, scipy_wasserstein_normed(np.full(11, 3.0), [3.0, 3.5, 4.0]))


def test_approximate_wasserstein_and_ks_within_their_bounds(million):
    x, ref = million
    rng = np.random.default_rng(14)
    y = rng.standard_t(5, size=400_000) * 1.1 + 0.05
    cur = NumericPartial.merge_all([NumericPartial.from_array(c) for c in np.array_split(y, 9)])
    rf = x[np.isfinite(x)]
    small = rng.normal(0.2, 1.0, size=3000).round(2)  # an exact partial against a sketched one
    small_p = NumericPartial.from_array(small)
    assert small_p.exact
    for reference, current, r, c in [(ref, cur, rf, y), (ref, small_p, rf, small)]:
        w = wasserstein(reference, current)
        assert not w.exact
        assert w.bound > 0
        assert abs(w.value - scipy_wasserstein_normed(r, c)) <= w.bound
        d = ks_statistic(reference, current)
        assert d.bound == reference.rank_error + current.rank_error
        assert abs(d.value - stats.ks_2samp(r, c).statistic) <= d.bound


def test_ks_p_value_is_scipys_asymptotic_one():
    for d, n, m in [(0.05, 1000, 700), (0.2, 50, 80), (0.01, 100_000, 3)]:
        rng = np.random.default_rng(n)
        a, b = rng.normal(size=n), rng.normal(0.1, size=m)
        expected = stats.ks_2samp(a, b, method="asymp")
        close(ks_p_value(float(expected.statistic), n, m), expected.pvalue)
        assert 0 <= ks_p_value(d, n, m) <= 1


def test_shared_value_counts_equal_column_pair():
    x, y = numeric_data(15, n=500, decimals=0), numeric_data(16, n=400, decimals=0)
    pair = ColumnPair(
        ColumnData(pd.Series(y), ColumnType.NUMERICAL),
        ColumnData(pd.Series(x), ColumnType.NUMERICAL),
    )
    for got, expected in zip(
        shared_value_counts(merged(x, 15), merged(y, 16)), pair.shared_value_counts, strict=True
    ):
        np.testing.assert_array_equal(got, expected)


# ---- serialisation and errors --------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["exact", "sketched", "empty"])
def test_numeric_round_trip_through_json(kind, million):
    edges = np.linspace(-3, 3, 7)
    if kind == "exact":
        p = merged(numeric_data(17), 17, edges=edges)
    elif kind == "sketched":
        p = NumericPartial.from_array(million[0][:200_000], edges=edges)
    else:
        p = NumericPartial.from_array([np.nan], edges=edges)
    text = json.dumps(p.to_dict(), allow_nan=False)
    q = NumericPartial.from_dict(json.loads(text))
    for name in ("rows", "missing", "posinf", "neginf", "count", "mean", "m2", "m3", "m4", "sum"):
        assert getattr(q, name) == getattr(p, name)
    np.testing.assert_array_equal([q.min, q.max], [p.min, p.max])
    np.testing.assert_array_equal(q.histogram, p.histogram)
    np.testing.assert_array_equal(q.values_counts[0], p.values_counts[0])
    np.testing.assert_array_equal(q.values_counts[1], p.values_counts[1])
    assert (q.exact, q.rank_error, q.unique, q.frequency_error) == (
        p.exact,
        p.rank_error,
        p.unique,
        p.frequency_error,
    )
    qs = np.linspace(0, 1, 11)
    np.testing.assert_array_equal(q.quantile(qs), p.quantile(qs))
    # A round-tripped partial merges like the original.
    other = NumericPartial.from_array([1.0, 2.0, np.nan], edges=edges)
    assert q.merge(other).to_dict()["counts"] == p.merge(other).to_dict()["counts"]


def test_merging_different_edges_raises_a_clear_error():
    a = NumericPartial.from_array([1.0, 2.0], edges=[0, 1, 2])
    b = NumericPartial.from_array([1.0], edges=[0, 1, 3])
    c = NumericPartial.from_array([1.0])
    with pytest.raises(ValueError, match="different histogram edges"):
        a.merge(b)
    with pytest.raises(ValueError, match="different histogram edges"):
        a.merge(c)
    with pytest.raises(ValueError, match="different settings"):
        c.merge(NumericPartial.from_array([1.0], k=100))
    with pytest.raises(ValueError, match="strictly increasing"):
        NumericPartial.from_array([1.0], edges=[0, 0, 1])
    with pytest.raises(TypeError):
        c.merge(CategoricalPartial.from_array(["a"]))  # type: ignore[arg-type]


# ---- categorical columns -------------------------------------------------------------------------


def categorical_data(seed: int, n: int = 5000) -> pd.Series:
    rng = np.random.default_rng(seed)
    labels = np.array(["a", "b", "c", "d", "e", "ff", "g"], dtype=object)
    values = labels[rng.choice(len(labels), n, p=[0.3, 0.2, 0.2, 0.1, 0.1, 0.05, 0.05])]
    values[rng.random(n) < 0.05] = None
    values[::500] = np.nan
    return pd.Series(values, name="c")


@pytest.mark.parametrize("order", list(ORDERS))
def test_categorical_counts_equal_pandas(order):
    series = categorical_data(20)
    chunks = [series.iloc[a:b] for a, b in [(0, 0), (0, 1), (1, 1700), (1700, 1701), (1701, 5000)]]
    p = ORDERS[order]([CategoricalPartial.from_array(c) for c in chunks])
    expected = series.value_counts(dropna=True)
    assert p.rows == len(series)
    assert p.missing == int(series.isna().sum())
    assert p.counts == expected.to_dict()
    labels, counts = p.value_counts()
    # Ranked as ColumnValueCounts: count descending, ties by label.
    ranking = sorted(expected.items(), key=lambda item: (-item[1], str(item[0])))
    assert list(zip(labels, counts.tolist(), strict=True)) == ranking
    assert p.most_common == ranking[0]
    assert p.unique == series.nunique()


def test_categorical_shared_counts_and_round_trip():
    ref, cur = categorical_data(21), categorical_data(22, 3000)
    cur.iloc[:40] = "new"
    # Chunks merged left to right in row order keep the order of first appearance.
    ref_p = left_fold([CategoricalPartial.from_array(c) for c in np.array_split(ref, 5)])
    cur_p = left_fold([CategoricalPartial.from_array(c) for c in np.array_split(cur, 3)])
    pair = ColumnPair(
        ColumnData(cur, ColumnType.CATEGORICAL), ColumnData(ref, ColumnType.CATEGORICAL)
    )
    for got, expected in zip(
        shared_category_counts(ref_p, cur_p), pair.shared_category_counts, strict=True
    ):
        np.testing.assert_array_equal(got, expected)
    again = CategoricalPartial.from_dict(json.loads(json.dumps(ref_p.to_dict(), allow_nan=False)))
    assert (again.rows, again.missing, again.counts) == (ref_p.rows, ref_p.missing, ref_p.counts)
    assert list(again.counts) == list(ref_p.counts)


def test_categorical_numbers_become_python_values():
    p = CategoricalPartial.from_array(np.array([1, 2, 2, 3]))
    assert p.counts == {1: 1, 2: 2, 3: 1}
    assert all(type(v) is int for v in p.counts)


# ---- correlations --------------------------------------------------------------------------------


def correlation_frame(seed: int, n: int = 6000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    base = rng.normal(size=n)
    frame = pd.DataFrame(
        {
            "a": base + 100.0,
            "b": 0.6 * base + rng.normal(size=n) * 0.8,
            "c": rng.exponential(size=n) * 1e3,
            "d": -base + rng.normal(size=n) * 0.1 - 5e4,
        }
    )
    values = frame.to_numpy(copy=True)
    values[rng.random(values.shape) < 0.07] = np.nan
    values[rng.random(values.shape) < 0.002] = np.inf
    values[:300, 2] = np.nan  # a whole chunk without column c
    return pd.DataFrame(values, columns=frame.columns)


@pytest.mark.parametrize("order", list(ORDERS))
def test_correlations_equal_pandas(order):
    frame = correlation_frame(30)
    values = frame.to_numpy()
    cuts = [0, 0, 1, 300, 301, 2000, 2000, 4500, len(values)]
    parts = [
        CorrelationPartial.from_array(values[a:b], list(frame.columns))
        for a, b in itertools.pairwise(cuts)
    ]
    matrix = ORDERS[order](parts).matrix()
    expected = frame.replace([np.inf, -np.inf], np.nan).corr().to_numpy()
    np.testing.assert_allclose(matrix, expected, rtol=TOL, atol=TOL)


def test_correlation_round_trip_and_undefined_pairs():
    values = np.array([[1.0, np.nan], [2.0, 5.0], [3.0, np.nan], [4.0, np.nan]])
    p = CorrelationPartial.from_array(values[:2]).merge(CorrelationPartial.from_array(values[2:]))
    matrix = p.matrix()
    assert np.isnan(matrix[0, 1])  # one shared row
    assert matrix[0, 0] == matrix[1, 1] == 1.0
    frame = correlation_frame(31, 500)
    q = CorrelationPartial.from_array(frame.to_numpy(), list(frame.columns))
    again = CorrelationPartial.from_dict(json.loads(json.dumps(q.to_dict(), allow_nan=False)))
    np.testing.assert_array_equal(again.matrix(), q.matrix())
    assert again.columns == ("a", "b", "c", "d")
    with pytest.raises(ValueError, match="different columns"):
        q.merge(CorrelationPartial.from_array(frame.to_numpy()[:, :3]))


def test_inputs_are_not_modified():
    x = numeric_data(40, n=300)
    frame = correlation_frame(41, 300).to_numpy(copy=True)
    x_before, frame_before = x.copy(), frame.copy()
    NumericPartial.from_array(x, edges=[-1, 0, 1])
    CorrelationPartial.from_array(frame)
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(frame, frame_before)


def test_constant_column_moments_are_nan_like_scipy():
    # 2.5 is exact in binary, so SciPy's own mean is exact and it sees zero variance (for 0.1 its
    # rounded mean leaves a variance of 1e-34 and a skewness of rounding noise).
    p = NumericPartial.from_array(np.full(50, 2.5)).merge(NumericPartial.from_array([2.5, 2.5]))
    assert p.std == 0.0
    with pytest.warns(RuntimeWarning):  # SciPy warns about the precision loss, then says NaN
        expected = (stats.skew(np.full(52, 2.5)), stats.kurtosis(np.full(52, 2.5)))
    assert np.isnan(expected).all()
    assert np.isnan(p.skewness)
    assert np.isnan(p.kurtosis)
    tiny = NumericPartial.from_array(np.full(52, 0.1))
    assert tiny.std < 1e-15
    assert np.isnan(tiny.skewness)
