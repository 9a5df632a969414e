"""Every drift method against an independent computation: SciPy's own test, or the formula by hand."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import spatial, stats

from metrics.computations import drift_methods as dm
from metrics.computations.drift_methods import METHODS, Measure

SEEDS = [0, 1, 2]
# (reference size, current size): equal, unequal both ways, small enough for exact p-values.
SIZES = [(60, 60), (200, 45), (9, 150)]
KINDS = ["normal", "shifted", "heavy_tails", "ties"]


def samples(seed: int, kind: str, n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    if kind == "normal":
        ref, cur = rng.normal(size=n), rng.normal(size=m)
    elif kind == "shifted":
        ref, cur = rng.normal(size=n), rng.normal(0.7, 1.5, size=m)
    elif kind == "heavy_tails":
        ref, cur = rng.standard_t(1.2, size=n), 3 * rng.standard_cauchy(size=m)
    else:  # few distinct values, so most values are tied
        ref, cur = rng.integers(0, 6, size=n) / 2, rng.integers(1, 7, size=m) / 2
    return np.sort(ref.astype(float)), np.sort(cur.astype(float))


def counts(seed: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ref = rng.integers(0, 40, size=k)
    cur = rng.integers(0, 40, size=k)
    ref[rng.random(k) < 0.2] = 0  # some empty categories on either side
    cur[rng.random(k) < 0.2] = 0
    ref[0], cur[0] = ref[0] + 1, cur[0] + 1  # a positive total each
    return ref, cur


def scipy_quietly(func, *args, **kwargs):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)


def close(a: float | None, b: float) -> bool:
    assert a is not None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


sample_cases = pytest.mark.parametrize(
    ("seed", "kind", "n", "m"),
    [(seed, kind, n, m) for seed in SEEDS for kind in KINDS for n, m in SIZES],
)
count_cases = pytest.mark.parametrize(("seed", "k"), [(s, k) for s in SEEDS for k in (2, 3, 7, 30)])


def test_registry_is_complete() -> None:
    assert len(METHODS) == 19
    for name, method in METHODS.items():
        assert method.name == name
        assert method.kind in ("p_value", "distance")
        assert method.input in ("samples", "counts")
        assert method.column_types <= {"numerical", "categorical"}


# ---- samples: SciPy's tests --------------------------------------------------------------------


@sample_cases
def test_ks_is_scipys(seed: int, kind: str, n: int, m: int) -> None:
    ref, cur = samples(seed, kind, n, m)
    expected = scipy_quietly(stats.ks_2samp, ref, cur)
    assert dm.ks(ref, cur) == Measure(expected.pvalue, expected.statistic)


@sample_cases
def test_t_test_is_welchs(seed: int, kind: str, n: int, m: int) -> None:
    ref, cur = samples(seed, kind, n, m)
    expected = scipy_quietly(stats.ttest_ind, ref, cur, equal_var=False).pvalue
    assert dm.t_test(ref, cur).value == expected
    # Welch by hand: t over the unpooled standard error, Welch-Satterthwaite degrees of freedom.
    vr, vc = np.var(ref, ddof=1) / n, np.var(cur, ddof=1) / m
    t = (ref.mean() - cur.mean()) / math.sqrt(vr + vc)
    df = (vr + vc) ** 2 / (vr**2 / (n - 1) + vc**2 / (m - 1))
    assert close(dm.t_test(ref, cur).value, 2 * stats.t.sf(abs(t), df))


@sample_cases
def test_mann_whitney_is_scipys(seed: int, kind: str, n: int, m: int) -> None:
    ref, cur = samples(seed, kind, n, m)
    expected = stats.mannwhitneyu(ref, cur, alternative="two-sided")
    assert dm.mann_whitney(ref, cur) == Measure(expected.pvalue, expected.statistic)
    # U counts the pairs where the reference value is larger, ties counting half.
    u = (ref[:, None] > cur[None, :]).sum() + 0.5 * (ref[:, None] == cur[None, :]).sum()
    assert dm.mann_whitney(ref, cur).statistic == u


@sample_cases
def test_epps_singleton_is_scipys(seed: int, kind: str, n: int, m: int) -> None:
    ref, cur = samples(seed, kind, n, m)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        expected = stats.epps_singleton_2samp(ref, cur).pvalue
    found = dm.epps_singleton(ref, cur).value
    if any(issubclass(w.category, UserWarning) for w in caught):
        # SciPy warns that the covariance is rank deficient (too few distinct values).
        assert math.isnan(found)
    else:
        assert found == expected


@sample_cases
def test_anderson_darling_is_scipys(seed: int, kind: str, n: int, m: int) -> None:
    ref, cur = samples(seed, kind, n, m)
    expected = scipy_quietly(stats.anderson_ksamp, [ref, cur], variant="midrank").pvalue
    assert dm.anderson_darling(ref, cur).value == expected
    assert 0.001 <= expected <= 0.25


@sample_cases
def test_cramer_von_mises_is_scipys(seed: int, kind: str, n: int, m: int) -> None:
    ref, cur = samples(seed, kind, n, m)
    assert dm.cramer_von_mises(ref, cur).value == stats.cramervonmises_2samp(ref, cur).pvalue


# ---- samples: distances ------------------------------------------------------------------------


@sample_cases
def test_wasserstein_normed_matches_scipy(seed: int, kind: str, n: int, m: int) -> None:
    ref, cur = samples(seed, kind, n, m)
    expected = stats.wasserstein_distance(ref, cur) / np.std(ref)
    assert close(dm.wasserstein_normed(ref, cur).value, expected)


def test_wasserstein_by_quantiles() -> None:
    # With equal sizes W1 is the mean gap between matching order statistics.
    ref, cur = samples(7, "heavy_tails", 500, 500)
    expected = np.mean(np.abs(ref - cur)) / np.std(ref)
    assert close(dm.wasserstein_normed(ref, cur).value, expected)


def test_wasserstein_on_large_samples() -> None:
    rng = np.random.default_rng(3)
    ref = np.sort(rng.normal(size=200_000))
    cur = np.sort(np.round(rng.lognormal(size=150_000), 2))  # ties across and within samples
    expected = stats.wasserstein_distance(ref, cur) / np.std(ref)
    assert close(dm.wasserstein_normed(ref, cur).value, expected)


@sample_cases
def test_energy_matches_scipy(seed: int, kind: str, n: int, m: int) -> None:
    ref, cur = samples(seed, kind, n, m)
    assert close(dm.energy(ref, cur).value, stats.energy_distance(ref, cur))


def test_energy_by_pairwise_distances() -> None:
    # The textbook form: 2E|X-Y| - E|X-X'| - E|Y-Y'|, whose square root SciPy reports.
    ref, cur = samples(4, "shifted", 120, 80)
    cross = np.abs(ref[:, None] - cur[None, :]).mean()
    within_ref = np.abs(ref[:, None] - ref[None, :]).mean()
    within_cur = np.abs(cur[:, None] - cur[None, :]).mean()
    expected = math.sqrt(2 * cross - within_ref - within_cur)
    assert close(dm.energy(ref, cur).value, expected)


# ---- samples: MMD ------------------------------------------------------------------------------


def unbiased_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    pooled = np.concatenate((x, y))
    gaps = np.abs(pooled[:, None] - pooled[None, :])
    bandwidth = np.median(gaps[np.triu_indices(pooled.size, k=1)])

    def k(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.exp(-((a[:, None] - b[None, :]) ** 2) / (2 * bandwidth**2))

    m, n = x.size, y.size
    kxx, kyy = k(x, x), k(y, y)
    xx = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
    yy = (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    return float(xx + yy - 2 * k(x, y).mean())


@pytest.mark.parametrize(("n", "m"), [(50, 50), (300, 120), (2500, 1300)])
def test_mmd_statistic_is_the_unbiased_estimate(n: int, m: int) -> None:
    ref, cur = samples(n, "shifted", n, m)
    # Larger samples are subsampled to every k-th sorted value, k = ceil(size / 1000).
    x, y = ref[:: math.ceil(n / 1000)], cur[:: math.ceil(m / 1000)]
    assert x.size <= 1000
    assert y.size <= 1000
    assert close(dm.mmd(ref, cur).statistic, unbiased_mmd2(x, y))


def test_mmd_is_deterministic_and_detects_a_shift() -> None:
    ref, cur = samples(5, "shifted", 400, 300)
    first, second = dm.mmd(ref, cur), dm.mmd(ref, cur)
    assert first == second
    # Every permuted split scores lower than the observed one: the smallest possible p-value.
    assert first.value == 1 / 201


def test_mmd_p_value_is_high_for_one_distribution() -> None:
    ref, cur = samples(6, "normal", 300, 300)
    found = dm.mmd(ref, cur)
    assert 1 / 201 <= found.value <= 1
    assert found.value >= 0.1
    assert found.statistic is not None
    assert abs(found.statistic) < 0.01


# ---- counts ------------------------------------------------------------------------------------


def table_of(ref: np.ndarray, cur: np.ndarray) -> np.ndarray:
    table = np.vstack((ref, cur))
    return table[:, table.sum(axis=0) > 0]


@count_cases
def test_chi_square_matches_scipy_and_the_formula(seed: int, k: int) -> None:
    ref, cur = counts(seed, k)
    table = table_of(ref, cur)
    found = dm.chi_square(ref, cur)
    if table.shape[1] < 2:
        assert found == Measure(1.0, 0.0)
        return
    expected = stats.chi2_contingency(table, correction=False)
    assert found == Measure(expected.pvalue, expected.statistic)
    expected_counts = table.sum(axis=1, keepdims=True) * table.sum(axis=0) / table.sum()
    chi2 = ((table - expected_counts) ** 2 / expected_counts).sum()
    assert close(found.statistic, chi2)
    assert close(found.value, stats.chi2.sf(chi2, table.shape[1] - 1))


@count_cases
def test_g_test_matches_scipy_and_the_formula(seed: int, k: int) -> None:
    ref, cur = counts(seed, k)
    table = table_of(ref, cur)
    found = dm.g_test(ref, cur)
    if table.shape[1] < 2:
        assert found == Measure(1.0, 0.0)
        return
    expected = stats.chi2_contingency(table, correction=False, lambda_="log-likelihood")
    assert found == Measure(expected.pvalue, expected.statistic)
    expected_counts = table.sum(axis=1, keepdims=True) * table.sum(axis=0) / table.sum()
    observed = table > 0
    g = 2 * (table[observed] * np.log(table[observed] / expected_counts[observed])).sum()
    assert close(found.statistic, g)
    assert close(found.value, stats.chi2.sf(g, table.shape[1] - 1))


@count_cases
def test_chisquare_gof_is_scipys_chisquare_against_the_reference_shares(seed: int, k: int) -> None:
    ref, cur = counts(seed, k)
    ref = ref + (cur > 0)  # every current category seen in the reference: a finite statistic
    table = table_of(ref, cur)
    found = dm.chi_square_goodness_of_fit(ref, cur)
    if table.shape[1] < 2:
        assert found == Measure(1.0, 0.0)
        return
    # Evidently's recipe: the reference counts scaled by current rows / reference rows.
    f_exp = table[0] * (table[1].sum() / table[0].sum())
    expected = stats.chisquare(table[1], f_exp)
    assert close(found.value, expected.pvalue)
    assert close(found.statistic, expected.statistic)
    chi2 = ((table[1] - f_exp) ** 2 / f_exp).sum()
    assert close(found.value, stats.chi2.sf(chi2, table.shape[1] - 1))


def test_chisquare_gof_is_zero_when_a_category_is_new_as_scipy_says() -> None:
    ref, cur = np.array([50, 50, 0]), np.array([49, 50, 1])
    found = dm.chi_square_goodness_of_fit(ref, cur)
    f_exp = ref * (cur.sum() / ref.sum())
    by_scipy = scipy_quietly(stats.chisquare, cur, f_exp)  # divides by the zero expected count
    assert found.value == by_scipy.pvalue == 0.0
    assert found.statistic == by_scipy.statistic == math.inf
    # The homogeneity test sees one row in a hundred: no evidence of drift.
    assert dm.chi_square(ref, cur).value > 0.3
    assert METHODS["chisquare_gof"].drifted(found.value, 0.05)


def test_chisquare_gof_ignores_a_vanished_category_only_through_its_expected_count() -> None:
    # Reference has a category that current lacks: its expected count is positive, so it counts.
    ref, cur = np.array([40, 40, 20]), np.array([50, 50, 0])
    found = dm.chi_square_goodness_of_fit(ref, cur)
    expected = stats.chisquare(cur, ref * (cur.sum() / ref.sum()))
    assert close(found.value, expected.pvalue)
    assert found.value < 1e-5


@pytest.mark.parametrize("seed", SEEDS)
def test_z_test_by_hand_and_as_a_chi_square(seed: int) -> None:
    ref, cur = counts(seed, 2)
    ref, cur = ref + 1, cur + 1  # both categories present
    found = dm.z_test(ref, cur)
    p_ref, p_cur = ref[1] / ref.sum(), cur[1] / cur.sum()
    pooled = (ref[1] + cur[1]) / (ref.sum() + cur.sum())
    z = (p_cur - p_ref) / math.sqrt(pooled * (1 - pooled) * (1 / ref.sum() + 1 / cur.sum()))
    assert close(found.statistic, z)
    assert close(found.value, 2 * stats.norm.sf(abs(z)))
    assert found.statistic is not None
    # The pooled two-proportion z-test is the 2x2 chi-square test without correction: z² = χ².
    chi2 = stats.chi2_contingency(np.vstack((ref, cur)), correction=False)
    assert close(found.statistic**2, chi2.statistic)
    assert close(found.value, chi2.pvalue)


@count_cases
def test_fisher_exact_is_scipys(seed: int, k: int) -> None:
    ref, cur = counts(seed, k)
    table = table_of(ref, cur)
    found = dm.fisher_exact(ref, cur).value
    if table.shape[1] < 2:
        assert found == 1.0
    elif table.shape[1] == 2:
        assert found == stats.fisher_exact(table).pvalue
    else:
        assert found == fisher_monte_carlo_by_scipy(table)


def fisher_monte_carlo_by_scipy(table: np.ndarray) -> float:
    method = stats.MonteCarloMethod(n_resamples=9999, rng=np.random.default_rng(0))
    # With fewer counts than cells SciPy takes the table for a batch and returns 1-element arrays.
    return float(np.ravel(stats.fisher_exact(table, method=method).pvalue)[0])


@pytest.mark.parametrize("seed", range(6))
def test_fisher_exact_on_sparse_tables_is_scipys(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ref, cur = rng.integers(0, 2, size=6), rng.integers(0, 2, size=6)
    ref[0], cur[1] = 1, 1
    table = table_of(ref, cur)
    assert table.sum() < table.size
    assert dm.fisher_exact(ref, cur).value == fisher_monte_carlo_by_scipy(table)


def test_fisher_exact_on_a_large_table() -> None:
    # 2 x 10 categories over 150k rows each: past 9999 x 20 in all, where SciPy's Monte Carlo
    # statistic cannot reshape its batch (ValueError), so there is no SciPy value to compare with.
    rng = np.random.default_rng(8)
    shares = rng.dirichlet(np.ones(10))
    ref = rng.multinomial(150_000, shares)
    same = rng.multinomial(150_000, shares)
    shifted = rng.multinomial(150_000, (shares + 0.02) / (shares + 0.02).sum())
    assert ref.sum() + same.sum() >= 9999 * 20
    assert dm.fisher_exact(ref, ref).value == 1.0
    assert dm.fisher_exact(ref, same).value >= 0.01
    assert dm.fisher_exact(ref, shifted).value == 1 / 10_000
    assert dm.fisher_exact(ref, shifted) == dm.fisher_exact(ref, shifted)


def shares(c: np.ndarray) -> list[float]:
    return [x / sum(c.tolist()) for x in c.tolist()]


@count_cases
def test_jensen_shannon_matches_scipy(seed: int, k: int) -> None:
    ref, cur = counts(seed, k)
    expected = spatial.distance.jensenshannon(ref, cur)
    assert close(dm.jensen_shannon(ref, cur).value, expected)


@count_cases
def test_psi_by_hand(seed: int, k: int) -> None:
    ref, cur = counts(seed, k)
    r = [s or dm.EPSILON for s in shares(ref)]
    c = [s or dm.EPSILON for s in shares(cur)]
    expected = sum((ci - ri) * math.log(ci / ri) for ri, ci in zip(r, c, strict=True))
    assert close(dm.psi(ref, cur).value, expected)


@count_cases
def test_kl_divergence_is_scipys_entropy(seed: int, k: int) -> None:
    ref, cur = counts(seed, k)
    r = [s or dm.EPSILON for s in shares(ref)]
    c = [s or dm.EPSILON for s in shares(cur)]
    assert close(dm.kl_divergence(ref, cur).value, stats.entropy(r, c))


@count_cases
def test_hellinger_by_hand(seed: int, k: int) -> None:
    ref, cur = counts(seed, k)
    pairs = zip(shares(ref), shares(cur), strict=True)
    expected = math.sqrt(sum((math.sqrt(r) - math.sqrt(c)) ** 2 for r, c in pairs) / 2)
    assert close(dm.hellinger(ref, cur).value, expected)


@count_cases
def test_total_variation_by_hand(seed: int, k: int) -> None:
    ref, cur = counts(seed, k)
    expected = sum(abs(r - c) for r, c in zip(shares(ref), shares(cur), strict=True)) / 2
    assert close(dm.total_variation(ref, cur).value, expected)


# ---- bin_counts --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bins", [1, 2, 10, 30])
def test_bin_counts_match_numpy_histogram(kind: str, bins: int) -> None:
    ref, cur = samples(bins, kind, 500, 340)
    edges, ref_counts, cur_counts = dm.bin_counts(ref, cur, bins)
    np.testing.assert_array_equal(edges, np.linspace(ref[0], ref[-1], bins + 1))
    widened = np.r_[-np.inf, edges[1:-1], np.inf]
    np.testing.assert_array_equal(ref_counts, np.histogram(ref, widened)[0])
    np.testing.assert_array_equal(cur_counts, np.histogram(cur, widened)[0])
    assert ref_counts.sum() == ref.size
    assert cur_counts.sum() == cur.size


def test_bin_counts_put_outliers_in_the_outer_bins_and_edges_in_the_upper_bin() -> None:
    ref = np.arange(11.0)  # edges 0, 1, ..., 10 with bins=10: values fall exactly on edges
    cur = np.array([-50.0, 0.0, 0.5, 1.0, 9.99, 10.0, 10.0, 70.0])
    edges, ref_counts, cur_counts = dm.bin_counts(ref, cur, 10)
    np.testing.assert_array_equal(edges, np.arange(11.0))
    np.testing.assert_array_equal(ref_counts, [1] * 9 + [2])  # the last bin is closed
    np.testing.assert_array_equal(cur_counts, [3, 1, 0, 0, 0, 0, 0, 0, 0, 4])


def test_bin_counts_of_a_constant_reference() -> None:
    edges, ref_counts, cur_counts = dm.bin_counts(np.full(5, 2.0), np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(edges, [2.0, 2.0])
    np.testing.assert_array_equal(ref_counts, [5])
    np.testing.assert_array_equal(cur_counts, [3])


# ---- edge cases --------------------------------------------------------------------------------


def test_same_constant_shows_no_drift() -> None:
    const = np.full(8, 3.5)
    assert dm.ks(const, const).value == 1.0
    assert dm.t_test(const, const).value == 1.0
    assert dm.mann_whitney(const, const).value == 1.0
    assert math.isnan(dm.epps_singleton(const, const).value)  # no spread: cannot decide
    assert dm.anderson_darling(const, const).value == 1.0
    assert dm.cramer_von_mises(const, const).value == 1.0
    assert dm.wasserstein_normed(const, const).value == 0.0
    assert dm.energy(const, const).value == 0.0
    assert dm.mmd(const, const) == Measure(1.0, 0.0)


def test_epps_singleton_without_enough_spread_cannot_decide() -> None:
    # Two distinct values: SciPy only warns that the covariance is rank deficient.
    ref, cur = np.array([0.0, 0, 0, 1, 1, 1]), np.array([0.0, 0, 1, 1, 1, 1])
    with pytest.warns(UserWarning, match="full rank"):
        stats.epps_singleton_2samp(ref, cur)
    assert math.isnan(dm.epps_singleton(ref, cur).value)
    # Most values tied: the interquartile range SciPy scales by is 0.
    tied = np.array([0.0, 1, 1, 1, 1, 1, 1, 2])
    assert math.isnan(dm.epps_singleton(tied, tied).value)
    assert math.isnan(dm.epps_singleton(np.arange(4.0), np.arange(9.0)).value)  # fewer than 5


def test_different_constants_drift() -> None:
    a, b = np.full(8, 3.5), np.full(6, 4.0)
    assert dm.t_test(a, b).value == 0.0
    # Evidently's floor: the reference's std (0 here) is raised to 0.001.
    assert dm.wasserstein_normed(a, b).value == pytest.approx(
        stats.wasserstein_distance(a, b) / 0.001, rel=1e-12
    )
    assert close(dm.energy(a, b).value, math.sqrt(2 * 0.5))
    assert math.isnan(dm.epps_singleton(a, b).value)
    for name, method in METHODS.items():
        if method.input == "samples" and name != "epps_singleton":
            value = method.func(a, b).value
            assert method.drifted(value, method.default_threshold), name


def test_single_values() -> None:
    one, same, other = np.array([1.0]), np.array([1.0]), np.array([2.0])
    assert dm.ks(one, same).value == 1.0
    assert dm.t_test(one, same).value == 1.0
    assert math.isnan(dm.t_test(one, other).value)  # a single value has no variance to test
    assert dm.mann_whitney(one, same).value == 1.0
    assert math.isnan(dm.epps_singleton(one, other).value)
    assert dm.anderson_darling(one, same).value == 1.0
    assert math.isnan(dm.anderson_darling(one, other).value)
    assert math.isnan(dm.cramer_von_mises(one, other).value)
    assert dm.wasserstein_normed(one, same).value == 0.0
    assert dm.wasserstein_normed(one, other).value == pytest.approx(1.0 / 0.001, rel=1e-12)
    assert close(dm.energy(one, other).value, math.sqrt(2))
    assert math.isnan(dm.mmd(one, other).value)
    # No method raises or claims p outside [0, 1] on a single value per side.
    for method in METHODS.values():
        if method.input == "samples":
            value = method.func(one, other).value
            assert math.isnan(value) or value >= 0
            assert not (method.kind == "p_value" and value > 1)


def test_a_category_only_in_current() -> None:
    ref, cur = np.array([30, 20, 0]), np.array([25, 20, 9])
    r = [0.6, 0.4, dm.EPSILON]
    c = [25 / 54, 20 / 54, 9 / 54]
    assert close(
        dm.psi(ref, cur).value, sum((b - a) * math.log(b / a) for a, b in zip(r, c, strict=True))
    )
    assert close(dm.kl_divergence(ref, cur).value, stats.entropy(r, c))
    assert close(dm.jensen_shannon(ref, cur).value, spatial.distance.jensenshannon(ref, cur))
    assert dm.chi_square(ref, cur).value < 0.01
    assert dm.g_test(ref, cur).value < 0.01
    assert dm.fisher_exact(ref, cur).value < 0.01
    for method in METHODS.values():
        if method.input == "counts" and method.name != "z_test":
            assert method.drifted(method.func(ref, cur).value, method.default_threshold)


def test_a_single_category() -> None:
    ref, cur = np.array([12]), np.array([40])
    for method in METHODS.values():
        if method.input == "counts":
            value = method.func(ref, cur).value
            assert value == (1.0 if method.kind == "p_value" else 0.0), method.name
    assert dm.chi_square(ref, cur) == Measure(1.0, 0.0)
    # Categories empty on both sides are dropped before testing: one category left.
    assert dm.chi_square(np.array([0, 12, 0]), np.array([0, 40, 0])) == Measure(1.0, 0.0)
    assert dm.z_test(np.array([0, 12]), np.array([0, 40])) == Measure(1.0, 0.0)


def test_z_test_rejects_more_than_two_categories() -> None:
    with pytest.raises(ValueError, match="3 categories"):
        dm.z_test(np.array([1, 2, 3]), np.array([3, 2, 1]))


def test_no_warnings_escape() -> None:
    # pytest turns RuntimeWarnings into errors; UserWarnings would reach users' logs.
    cases = [
        (np.full(5, 1.0), np.full(5, 1.0)),
        (np.full(5, 1.0), np.full(5, 2.0)),
        (np.array([1.0]), np.array([2.0])),
        (np.array([0.0, 0, 0, 0, 0, 1]), np.array([0.0, 0, 0, 0, 1, 1])),
        samples(0, "ties", 40, 30),
        samples(0, "heavy_tails", 300, 300),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for ref, cur in cases:
            for method in METHODS.values():
                if method.input == "samples":
                    method.func(ref, cur)
                else:
                    _, ref_counts, cur_counts = dm.bin_counts(ref, cur, 5)
                    if method.name == "z_test":
                        ref_counts, cur_counts = ref_counts[:2] + 1, cur_counts[:2] + 1
                    method.func(ref_counts, cur_counts)
