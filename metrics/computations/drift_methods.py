"""Drift measures between a reference and a current sample of one column.

Pure functions on NumPy arrays, and a registry (`METHODS`) describing each: what input it takes,
whether its value is a p-value or a distance, its default threshold, and how it compares with the
threshold. The comparisons follow Evidently's: p-value tests drift when p < threshold, except
Kolmogorov-Smirnov and Cramér-von Mises, which drift at p <= threshold; distances drift when
distance >= threshold, except the energy distance, which drifts when distance > threshold.

Two kinds of input:

- **samples**: two 1-D float64 arrays of finite values (nulls and infinities already removed), each
  sorted ascending and non-empty. Used by the numeric tests (KS, t-test, ...) and numeric distances
  (Wasserstein, energy, MMD).
- **counts**: two 1-D integer arrays of the same length, the number of reference and current values
  in each category (or histogram bin), aligned on the same categories; at least one count in each.
  Used by the categorical tests (chi-square, its goodness-of-fit variant, z-test, Fisher, G-test) and the frequency distances
  (Jensen-Shannon, PSI, KL, Hellinger, TVD). For a numeric column, `sturges_counts` and
  `bin_counts` turn samples into counts over bins.

Every function returns a `Measure(value, statistic)`: `value` is the p-value or the distance that
is compared with the threshold; `statistic` is the test statistic where it differs (the KS D, the
chi-square statistic, ...) or None.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np
from scipy import special, stats

# Empty bins get this share before the logarithms of PSI and KL, so they stay finite (or, when the
# smallest non-empty share is at most EPSILON, that share / EMPTY_DIVISOR), as Evidently does.
EPSILON = 1e-4
EMPTY_DIVISOR = 1e6
# With an explicit `bins=`, binned numeric methods use that many equal-width bins over the reference.
DEFAULT_BINS = 30
# Below this the normed Wasserstein distance's reference standard deviation is raised to it.
WASSERSTEIN_MIN_STD = 0.001
# MMD works on at most this many values per sample, with this many seeded permutations.
MMD_MAX_SAMPLE = 1000
MMD_PERMUTATIONS = 200
MMD_SEED = 0
# Fisher's test on tables wider than 2x2 is a Monte Carlo test; seeded so reruns agree.
FISHER_RESAMPLES = 9999
FISHER_SEED = 0


class Measure(NamedTuple):
    value: float
    statistic: float | None = None


Kind = Literal["p_value", "distance"]
Input = Literal["samples", "counts"]


@dataclass(frozen=True)
class DriftMethod:
    """A drift measure and how to read it."""

    name: str
    title: str
    kind: Kind
    input: Input
    default_threshold: float
    # Column kinds the method applies to: "numerical" (samples, or counts over bins of a numeric
    # column) and/or "categorical" (counts over categories).
    column_types: frozenset[str]
    func: Callable[..., Measure]
    # Whether a value exactly at the threshold counts as drift (Evidently's convention per method).
    at_threshold: bool = False
    # How a numeric column becomes counts: "shared" (Sturges bins over both samples when the
    # reference has more than CATEGORICAL_MAX distinct values, else one count per value) or
    # "distinct" (Sturges bins over the distinct values of both samples, Evidently's Hellinger).
    numeric_binning: Literal["shared", "distinct"] = "shared"

    def drifted(self, value: float, threshold: float) -> bool:
        if np.isnan(value):
            return False
        if self.kind == "p_value":
            return value <= threshold if self.at_threshold else value < threshold
        return value >= threshold if self.at_threshold else value > threshold

    @property
    def rule(self) -> str:
        """How the value is compared, in words: "at or below", "below", "at or above", "above"."""
        if self.kind == "p_value":
            return "at or below" if self.at_threshold else "below"
        return "at or above" if self.at_threshold else "above"


# A numeric column whose reference has at most this many distinct values is compared by the
# frequency methods (PSI, KL, Jensen-Shannon) value by value, as categories; above it, in bins.
CATEGORICAL_MAX = 20


def sturges_edges(low: float, high: float, size: int) -> np.ndarray:
    """What np.histogram_bin_edges(values, bins="sturges") returns for `size` values spanning
    [low, high], without the values: ceil(range / (range / (log2(size) + 1))) equal-width bins."""
    if low == high:
        # NumPy widens a zero range by 0.5 on each side and keeps one bin.
        return np.array([low - 0.5, high + 0.5])
    width = (high - low) / (np.log2(size) + 1.0)
    count = int(np.ceil((high - low) / width))
    return np.linspace(low, high, count + 1)


def histogram_counts(sorted_values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """np.histogram(sorted_values, edges)[0] read off a sorted array: bins [e_i, e_i+1), the last
    one closed; values outside the edges are not counted."""
    below = np.searchsorted(sorted_values, edges[:-1], side="left")
    last = np.searchsorted(sorted_values, edges[-1], side="right")
    return np.diff(np.append(below, last))


def sturges_counts(
    reference: np.ndarray, current: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts of two sorted samples over Sturges bins spanning both (Evidently's binning of
    numerical columns for PSI, KL and Jensen-Shannon). Returns (edges, reference, current)."""
    low = min(float(reference[0]), float(current[0]))
    high = max(float(reference[-1]), float(current[-1]))
    edges = sturges_edges(low, high, reference.size + current.size)
    return edges, histogram_counts(reference, edges), histogram_counts(current, edges)


def distinct_sturges_counts(
    reference: np.ndarray, current: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts over Sturges bins of the distinct values of both sorted samples (Evidently's
    binning of numerical columns for the Hellinger distance). Returns (edges, reference, current)."""
    distinct = np.union1d(_distinct_sorted(reference), _distinct_sorted(current))
    edges = sturges_edges(float(distinct[0]), float(distinct[-1]), distinct.size)
    return edges, histogram_counts(reference, edges), histogram_counts(current, edges)


def bin_counts(
    reference: np.ndarray, current: np.ndarray, bins: int = DEFAULT_BINS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts of two sorted samples over `bins` equal-width bins spanning the reference.

    The outer edges are widened to -inf and +inf so current values outside the reference's range
    land in the first or last bin. Returns (edges, reference_counts, current_counts); `edges` keeps
    the finite reference range (for charts). A constant reference gives one bin.
    """
    assert bins >= 1
    low, high = float(reference[0]), float(reference[-1])
    if low == high:
        return np.array([low, high]), np.array([reference.size]), np.array([current.size])
    edges = np.linspace(low, high, bins + 1)
    # Bins are [e_i, e_i+1) like np.histogram's; the number of values below each inner edge, read
    # off the sorted arrays, gives the counts without touching every value.
    inner = edges[1:-1]
    reference_counts = np.diff(np.searchsorted(reference, inner), prepend=0, append=reference.size)
    current_counts = np.diff(np.searchsorted(current, inner), prepend=0, append=current.size)
    return edges, reference_counts, current_counts


# ---- samples -----------------------------------------------------------------------------------


def ks(reference: np.ndarray, current: np.ndarray) -> Measure:
    """Two-sample Kolmogorov-Smirnov test (scipy.stats.ks_2samp, two-sided, method="auto").
    value: p-value; statistic: D."""
    with _quiet(RuntimeWarning):  # the exact method may fall back to the asymptotic one
        result = stats.ks_2samp(reference, current, alternative="two-sided", method="auto")
    return Measure(float(result.pvalue), float(result.statistic))


def t_test(reference: np.ndarray, current: np.ndarray) -> Measure:
    """Welch's two-sample t-test (scipy.stats.ttest_ind, equal_var=False). value: p-value.
    Constant identical samples give p = 1 (no evidence of drift) rather than NaN."""
    if _is_constant(reference) and _is_constant(current):
        # Welch's statistic divides by zero. Equal constants: no evidence of drift. Different ones:
        # certain drift, unless a sample has a single value, whose variance is unknown.
        if reference[0] == current[0]:
            return Measure(1.0)
        return Measure(0.0 if min(reference.size, current.size) >= 2 else np.nan)
    with _quiet(RuntimeWarning):  # precision-loss warnings on (nearly) constant samples
        result = stats.ttest_ind(reference, current, equal_var=False)
    # NaN when a single value leaves a sample's variance undefined: cannot decide.
    return Measure(float(result.pvalue))


def mann_whitney(reference: np.ndarray, current: np.ndarray) -> Measure:
    """Mann-Whitney U test (scipy.stats.mannwhitneyu, two-sided). value: p-value; statistic: U."""
    result = stats.mannwhitneyu(reference, current, alternative="two-sided")
    if reference[0] == reference[-1] == current[0] == current[-1]:
        # All values tied: the normal approximation has zero variance and SciPy says NaN.
        return Measure(1.0, float(result.statistic))
    return Measure(float(result.pvalue), float(result.statistic))


def epps_singleton(reference: np.ndarray, current: np.ndarray) -> Measure:
    """Epps-Singleton test (scipy.stats.epps_singleton_2samp). value: p-value. Needs at least 5
    values per sample and some spread; otherwise value is NaN (cannot decide)."""
    if reference.size < 5 or current.size < 5:
        return Measure(np.nan)
    # The test scales its frequencies by the pooled interquartile range: without spread it divides
    # by zero.
    if stats.iqr(np.concatenate((reference, current))) == 0:
        return Measure(np.nan)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = stats.epps_singleton_2samp(reference, current)
        except (ValueError, np.linalg.LinAlgError):
            return Measure(np.nan)
    # A rank-deficient covariance (few distinct values) makes the chi-square reference
    # distribution wrong; SciPy only warns. Too little spread to decide.
    if any(issubclass(w.category, UserWarning) for w in caught):
        return Measure(np.nan)
    return Measure(float(result.pvalue))


def anderson_darling(reference: np.ndarray, current: np.ndarray) -> Measure:
    """k-sample Anderson-Darling test (scipy.stats.anderson_ksamp, 2 samples). value: its p-value
    (SciPy caps it to [0.001, 0.25]; that is fine for a 0.1 threshold)."""
    if reference[0] == reference[-1] == current[0] == current[-1]:
        # SciPy refuses a single distinct value; identical constants show no drift at all.
        return Measure(1.0)
    # UserWarning: the p-value was capped or floored to SciPy's table, as documented above.
    with _quiet(UserWarning, RuntimeWarning):
        try:
            result = stats.anderson_ksamp([reference, current], variant="midrank")
        except (ValueError, IndexError):  # two or three values in all: too few to decide
            return Measure(np.nan)
    return Measure(float(result.pvalue))


def cramer_von_mises(reference: np.ndarray, current: np.ndarray) -> Measure:
    """Two-sample Cramér-von Mises test (scipy.stats.cramervonmises_2samp). value: p-value."""
    with _quiet(RuntimeWarning):  # SmallSampleWarning: fewer than two values, NaN
        result = stats.cramervonmises_2samp(reference, current)
    return Measure(float(result.pvalue))


def wasserstein_normed(reference: np.ndarray, current: np.ndarray) -> Measure:
    """First Wasserstein distance divided by the reference's standard deviation (ddof=0), raised
    to WASSERSTEIN_MIN_STD (0.001) when smaller, as Evidently does; computed from the sorted
    samples in O(n) (must equal scipy.stats.wasserstein_distance / max(np.std(ref), 0.001))."""
    support, reference_cdf, current_cdf = _merged_cdfs(reference, current)
    # Overflow (values spanning more than the float range, a tiny spread against a large shift)
    # gives inf, which reads right.
    with np.errstate(over="ignore", under="ignore"):
        distance = np.sum(np.abs(reference_cdf - current_cdf) * np.diff(support))
        spread = np.std(reference)
        if _is_constant(reference):
            spread = 0.0
        elif not 0 < spread < np.inf:
            # The squares under- or overflowed (values beyond about 1e-154 or 1e154): the same spread,
            # measured in units of the largest value.
            scale = max(abs(reference[0]), abs(reference[-1]))
            spread = np.std(reference / scale) * scale
        return Measure(float(distance / max(spread, WASSERSTEIN_MIN_STD)))


def energy(reference: np.ndarray, current: np.ndarray) -> Measure:
    """Energy distance (scipy.stats.energy_distance), in the column's units."""
    support, reference_cdf, current_cdf = _merged_cdfs(reference, current)
    # Energy distance is sqrt(2) times the L2 distance between the two CDFs (SciPy's definition).
    with np.errstate(over="ignore"):
        l2 = np.sqrt(np.sum(np.square(reference_cdf - current_cdf) * np.diff(support)))
    return Measure(float(np.sqrt(2) * l2))


def mmd(reference: np.ndarray, current: np.ndarray) -> Measure:
    """Empirical maximum mean discrepancy with a Gaussian kernel (bandwidth: the median pairwise
    distance of the pooled sample), tested by permutation. value: permutation p-value;
    statistic: the unbiased MMD² estimate. Deterministic: samples larger than 1000 are subsampled
    evenly (every k-th of the sorted values) and permutations use a fixed seed (200 of them)."""
    x, y = _every_kth(reference, MMD_MAX_SAMPLE), _every_kth(current, MMD_MAX_SAMPLE)
    m, n = x.size, y.size
    if m < 2 or n < 2:  # the unbiased estimate needs two values on each side
        return Measure(np.nan)
    pooled = np.concatenate((x, y))
    distances = np.abs(pooled[:, None] - pooled[None, :])
    bandwidth = _mmd_bandwidth(distances)
    if bandwidth == 0:  # one value in all: both samples are that constant
        return Measure(1.0, 0.0)
    with np.errstate(over="ignore", under="ignore"):  # far pairs: kernel 0
        kernel = np.exp(-np.square(distances / bandwidth) / 2)

    rng = np.random.default_rng(MMD_SEED)
    size = pooled.size
    # Row 0 is the observed split; the others put a random m of the pooled values on the reference
    # side.
    members = np.zeros((MMD_PERMUTATIONS + 1, size))
    members[0, :m] = 1
    chosen = np.argsort(rng.random((MMD_PERMUTATIONS, size)), axis=1)[:, :m]
    np.put_along_axis(members[1:], chosen, 1.0, axis=1)
    # For each split a (1 on the reference side), every block sum follows from a'Ka and a'K1:
    # x-x = a'Ka, x-y = a'K1 - a'Ka, y-y = 1'K1 - 2a'K1 + a'Ka; the diagonal (all ones) is removed.
    row_sums = kernel.sum(axis=1)
    total = row_sums.sum()
    aka = np.einsum("pi,pi->p", members @ kernel, members)
    ak1 = members @ row_sums
    xx = (aka - m) / (m * (m - 1))
    yy = (total - 2 * ak1 + aka - n) / (n * (n - 1))
    xy = (ak1 - aka) / (m * n)
    statistics = xx + yy - 2 * xy
    observed = statistics[0]
    # The tolerance keeps splits that tie with the observed one (up to rounding) counted as ties.
    exceed = np.count_nonzero(statistics[1:] >= observed - 1e-12)
    return Measure(float((1 + exceed) / (MMD_PERMUTATIONS + 1)), float(observed))


# ---- counts ------------------------------------------------------------------------------------


def chi_square(reference: np.ndarray, current: np.ndarray) -> Measure:
    """Chi-square test of homogeneity on the 2 x k table of counts (scipy.stats.chi2_contingency,
    correction=False), after dropping categories empty in both. value: p-value; statistic: χ².
    A single category left: p = 1."""
    table = _table(reference, current)
    if table.shape[1] < 2:
        return Measure(1.0, 0.0)
    result = stats.chi2_contingency(table, correction=False)
    return Measure(float(result.pvalue), float(result.statistic))


def chi_square_goodness_of_fit(reference: np.ndarray, current: np.ndarray) -> Measure:
    """Evidently's chi-square: a goodness-of-fit test of the current counts against the
    reference's shares (scipy.stats.chisquare with expected = reference share x current count),
    after dropping categories empty in both. The reference is treated as the true distribution,
    not as a sample, so unlike `chi_square` its own noise is ignored. value: p-value;
    statistic: χ².

    A category absent from the reference but present in current has an expected count of 0: the
    current data is impossible under the hypothesis, so p = 0 and χ² = inf (Evidently's result,
    which SciPy reaches by dividing by zero). A single category left: p = 1.
    """
    table = _table(reference, current)
    if table.shape[1] < 2:
        return Measure(1.0, 0.0)
    expected = table[0] / table[0].sum() * table[1].sum()
    if np.any((expected == 0) & (table[1] > 0)):
        return Measure(0.0, float("inf"))
    result = stats.chisquare(table[1], expected)
    return Measure(float(result.pvalue), float(result.statistic))


def g_test(reference: np.ndarray, current: np.ndarray) -> Measure:
    """G-test (log-likelihood ratio) on the same table (chi2_contingency, lambda_="log-likelihood",
    correction=False). value: p-value; statistic: G."""
    table = _table(reference, current)
    if table.shape[1] < 2:
        return Measure(1.0, 0.0)
    result = stats.chi2_contingency(table, correction=False, lambda_="log-likelihood")
    return Measure(float(result.pvalue), float(result.statistic))


def z_test(reference: np.ndarray, current: np.ndarray) -> Measure:
    """Two-proportion z-test for a binary column (exactly two categories), pooled proportion,
    two-sided. value: p-value; statistic: z. More than two categories: ValueError."""
    if reference.size > 2:
        raise ValueError(f"the z-test needs a binary column, got {reference.size} categories")
    if reference.size < 2:  # one category: both proportions are 1
        return Measure(1.0, 0.0)
    n_reference, n_current = reference.sum(), current.sum()
    # The tested proportion is the second category's (the "positive" one of a sorted binary pair).
    p_reference, p_current = reference[1] / n_reference, current[1] / n_current
    pooled = (reference[1] + current[1]) / (n_reference + n_current)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n_reference + 1 / n_current))
    if se == 0:  # both samples all in one category: identical proportions
        return Measure(1.0, 0.0)
    z = (p_current - p_reference) / se
    return Measure(float(2 * special.ndtr(-abs(z))), float(z))


def fisher_exact(reference: np.ndarray, current: np.ndarray) -> Measure:
    """Fisher's exact test on the 2 x k table (scipy.stats.fisher_exact; for k > 2 with the method
    SciPy offers for larger tables, seeded so it is deterministic). value: p-value."""
    table = _table(reference, current)
    if table.shape[1] < 2:
        return Measure(1.0)
    if table.shape[1] == 2:
        return Measure(float(stats.fisher_exact(table).pvalue))
    # SciPy's method for larger tables is a Monte Carlo test over random tables with the same
    # margins (MonteCarloMethod). Called through fisher_exact, its vectorised statistic guesses
    # whether it got one table or a batch from the total count: past n_resamples x cells it
    # raises (cannot reshape), and with fewer counts than cells it returns arrays. So the same test
    # runs here, on the same random tables from the same seed.
    return Measure(_fisher_monte_carlo(table))


def jensen_shannon(reference: np.ndarray, current: np.ndarray) -> Measure:
    """Jensen-Shannon distance (scipy.spatial.distance.jensenshannon of the two share vectors,
    natural log). In [0, sqrt(ln 2)]."""
    r, c = _shares(reference), _shares(current)
    mixture = (r + c) / 2
    divergence = (special.rel_entr(r, mixture).sum() + special.rel_entr(c, mixture).sum()) / 2
    # max(): rounding can leave a tiny negative divergence for nearly equal shares.
    return Measure(float(np.sqrt(max(divergence, 0.0))))


def psi(reference: np.ndarray, current: np.ndarray) -> Measure:
    """Population stability index: sum((c - r) * ln(c / r)) over shares, empty shares filled as
    `_filled_shares` says."""
    r, c = _filled_shares(reference), _filled_shares(current)
    return Measure(float(np.sum((c - r) * np.log(c / r))))


def kl_divergence(reference: np.ndarray, current: np.ndarray) -> Measure:
    """Kullback-Leibler divergence of the reference shares from the current shares,
    sum(r * ln(r / c)) (scipy.stats.entropy(r, c)), empty shares filled as `_filled_shares` says."""
    # scipy.stats.entropy normalises its inputs, so after the empty shares are filled they are
    # rescaled to sum to 1, which also keeps the divergence >= 0.
    r, c = _filled_shares(reference), _filled_shares(current)
    r, c = r / r.sum(), c / c.sum()
    return Measure(float(special.rel_entr(r, c).sum()))


def hellinger(reference: np.ndarray, current: np.ndarray) -> Measure:
    """Hellinger distance: sqrt(sum((sqrt(r) - sqrt(c))²) / 2) over shares. In [0, 1]."""
    r, c = _shares(reference), _shares(current)
    return Measure(float(np.sqrt(np.sum(np.square(np.sqrt(r) - np.sqrt(c))) / 2)))


def total_variation(reference: np.ndarray, current: np.ndarray) -> Measure:
    """Total variation distance: sum(|r - c|) / 2 over shares. In [0, 1]."""
    r, c = _shares(reference), _shares(current)
    return Measure(float(np.abs(r - c).sum() / 2))


# ---- helpers -----------------------------------------------------------------------------------


@contextmanager
def _quiet(*categories: type[Warning]) -> Iterator[None]:
    """Ignore the given warnings (and NumPy floating-point warnings) inside the block."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        for category in categories:
            warnings.simplefilter("ignore", category)
        yield


def _is_constant(sample: np.ndarray) -> bool:
    return bool(sample[0] == sample[-1])  # sorted


def _merged_cdfs(
    reference: np.ndarray, current: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The merged sorted support of two sorted samples and both empirical CDFs on each interval
    between consecutive support points (one value fewer than the support)."""
    n, m = reference.size, current.size
    merged = np.concatenate((reference, current))
    # A stable sort of two sorted runs is one merge (Timsort finds the runs); ties keep the
    # reference values first. Inside a run of equal values the running counts are off, but those
    # intervals have width 0.
    order = np.argsort(merged, kind="stable")
    support = merged[order]
    current_seen = np.cumsum(order[:-1] >= n)
    current_cdf = current_seen / m
    reference_cdf = (np.arange(1, n + m) - current_seen) / n
    return support, reference_cdf, current_cdf


def _distinct_sorted(sample: np.ndarray) -> np.ndarray:
    return sample[np.r_[True, sample[1:] != sample[:-1]]]


def _every_kth(sample: np.ndarray, limit: int) -> np.ndarray:
    step = -(-sample.size // limit)  # ceil
    return sample[::step]


def _mmd_bandwidth(distances: np.ndarray) -> float:
    """Median pairwise distance (pairs i < j); if most pairs are ties, the median of the nonzero
    ones, so heavily tied samples still get a usable kernel; 0 only when all values are equal."""
    pairs = distances[np.triu_indices(distances.shape[0], k=1)]
    bandwidth = float(np.median(pairs))
    if bandwidth == 0:
        positive = pairs[pairs > 0]
        bandwidth = float(np.median(positive)) if positive.size else 0.0
    return bandwidth


def _table(reference: np.ndarray, current: np.ndarray) -> np.ndarray:
    """The 2 x k table without the categories empty in both samples (they carry no information and
    make expected counts zero)."""
    table = np.vstack((reference, current)).astype(np.int64)
    return table[:, table.sum(axis=0) > 0]


def _shares(counts: np.ndarray) -> np.ndarray:
    return counts / counts.sum()


def _filled_shares(counts: np.ndarray) -> np.ndarray:
    """Shares with the empty ones filled (Evidently's rule): EPSILON, or the smallest non-empty
    share / EMPTY_DIVISOR when that share is itself at most EPSILON."""
    shares = _shares(counts)
    smallest = float(shares[shares > 0].min())
    fill = smallest / EMPTY_DIVISOR if smallest <= EPSILON else EPSILON
    return np.where(shares == 0, fill, shares)


def _fisher_monte_carlo(table: np.ndarray) -> float:
    """What stats.fisher_exact(table, method=MonteCarloMethod(FISHER_RESAMPLES, rng=seeded))
    computes: (1 + the number of random tables with the same margins at most as probable as
    `table`) / (1 + FISHER_RESAMPLES)."""
    distribution = stats.random_table(
        table.sum(axis=1), table.sum(axis=0), seed=np.random.default_rng(FISHER_SEED)
    )
    # Log-probabilities: the probabilities of large tables underflow to 0. They subtract terms as
    # large as ln(N!), so equally probable tables can differ by that term's rounding.
    null = distribution.logpmf(distribution.rvs(size=FISHER_RESAMPLES))
    observed = distribution.logpmf(table)
    tolerance = 1e-12 * (1 + special.gammaln(table.sum() + 1))
    extreme = np.count_nonzero(null <= observed + tolerance)
    return float((1 + extreme) / (FISHER_RESAMPLES + 1))


NUMERICAL = frozenset({"numerical"})
CATEGORICAL = frozenset({"categorical"})
BOTH = NUMERICAL | CATEGORICAL

METHODS: dict[str, DriftMethod] = {
    m.name: m
    for m in [
        DriftMethod(
            "ks", "Kolmogorov-Smirnov", "p_value", "samples", 0.05, NUMERICAL, ks, at_threshold=True
        ),
        DriftMethod("t_test", "Welch's t-test", "p_value", "samples", 0.05, NUMERICAL, t_test),
        DriftMethod(
            "mann_whitney", "Mann-Whitney U", "p_value", "samples", 0.05, NUMERICAL, mann_whitney
        ),
        DriftMethod(
            "epps_singleton",
            "Epps-Singleton",
            "p_value",
            "samples",
            0.05,
            NUMERICAL,
            epps_singleton,
        ),
        DriftMethod(
            "anderson", "Anderson-Darling", "p_value", "samples", 0.1, NUMERICAL, anderson_darling
        ),
        DriftMethod(
            "cramer_von_mises",
            "Cramér-von Mises",
            "p_value",
            "samples",
            0.1,
            NUMERICAL,
            cramer_von_mises,
            at_threshold=True,
        ),
        DriftMethod(
            "wasserstein",
            "Wasserstein distance (normed)",
            "distance",
            "samples",
            0.1,
            NUMERICAL,
            wasserstein_normed,
            at_threshold=True,
        ),
        DriftMethod("energy", "Energy distance", "distance", "samples", 0.1, NUMERICAL, energy),
        DriftMethod("mmd", "Maximum mean discrepancy", "p_value", "samples", 0.1, NUMERICAL, mmd),
        DriftMethod("chi_square", "Chi-square", "p_value", "counts", 0.05, CATEGORICAL, chi_square),
        DriftMethod(
            "chisquare_gof",
            "Chi-square goodness of fit",
            "p_value",
            "counts",
            0.05,
            CATEGORICAL,
            chi_square_goodness_of_fit,
        ),
        DriftMethod(
            "z_test", "Two-proportion z-test", "p_value", "counts", 0.05, CATEGORICAL, z_test
        ),
        DriftMethod(
            "fisher", "Fisher's exact", "p_value", "counts", 0.1, CATEGORICAL, fisher_exact
        ),
        DriftMethod("g_test", "G-test", "p_value", "counts", 0.1, CATEGORICAL, g_test),
        DriftMethod(
            "jensen_shannon",
            "Jensen-Shannon distance",
            "distance",
            "counts",
            0.1,
            BOTH,
            jensen_shannon,
            at_threshold=True,
        ),
        DriftMethod(
            "psi",
            "Population stability index",
            "distance",
            "counts",
            0.1,
            BOTH,
            psi,
            at_threshold=True,
        ),
        DriftMethod(
            "kl_div",
            "Kullback-Leibler divergence",
            "distance",
            "counts",
            0.1,
            BOTH,
            kl_divergence,
            at_threshold=True,
        ),
        DriftMethod(
            "hellinger",
            "Hellinger distance",
            "distance",
            "counts",
            0.1,
            BOTH,
            hellinger,
            at_threshold=True,
            numeric_binning="distinct",
        ),
        DriftMethod(
            "tvd",
            "Total variation distance",
            "distance",
            "counts",
            0.1,
            CATEGORICAL,
            total_variation,
            at_threshold=True,
        ),
    ]
}

# Evidently's method names (and the misspelling `emperical_mmd`), accepted wherever a method is
# named and replaced by ours. Evidently's "TVD" is a permutation test, not our distance: no alias.
ALIASES: dict[str, str] = {
    "chisquare": "chi_square",
    "z": "z_test",
    "jensenshannon": "jensen_shannon",
    "ed": "energy",
    "fisher_exact": "fisher",
    "empirical_mmd": "mmd",
    "emperical_mmd": "mmd",
    "mannw": "mann_whitney",
    "es": "epps_singleton",
}


def canonical(name: str) -> str:
    """Our name for a method named by ours or by Evidently's name; ValueError listing the valid
    names for any other."""
    if name in METHODS:
        return name
    if name in ALIASES:
        return ALIASES[name]
    known = ", ".join(sorted(METHODS))
    aliases = ", ".join(f"{a} ({t})" for a, t in sorted(ALIASES.items()))
    raise ValueError(
        f"unknown drift method {name!r}; choose one of {known}, or Evidently's names {aliases}."
    )
