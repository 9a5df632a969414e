"""Mergeable partial aggregates of columns: statistics computed per chunk or partition, then merged.

For data larger than memory, or spread over the partitions of a distributed engine, every column
statistic is computed from *partials*: each chunk of rows gives one partial (`from_array`), partials
are combined with `merge` (pure: a new partial is returned; the order and the tree of merges do not
matter beyond floating-point rounding), and the statistics are read off the final partial. A
partial travels between processes as JSON (`to_dict` / `from_dict`).

What is exact and what is approximate:

- `NumericPartial`: row, missing and infinity counts, sum, min, max, mean and the central moments
  M2, M3, M4 (merged with Chan's and Pébay's pairwise formulas, so std, skewness and kurtosis are
  as accurate as a two-pass computation) are exact up to rounding. While a column has at most
  `distinct_cap` distinct finite values its value counts are kept exactly, and then quantiles,
  the CDF, the unique count and the most common value are exact too (quantiles by the same linear
  interpolation as `metrics.core.columns.sorted_quantile`). Beyond the cap:

  * quantiles and the CDF come from a KLL sketch (`datasketches.kll_doubles_sketch`, always
    maintained). The rank of any returned quantile, and any CDF value, is within `rank_error`
    (the sketch's normalised single-sided rank error, about 1.33% for k=200) of the truth, at
    datasketches' stated confidence of about 99%.
  * the unique count comes from an HLL sketch (`datasketches.hll_sketch`, lg_k = 14: relative
    standard error about 0.8%; `unique_bounds` gives datasketches' 2-standard-deviation bounds,
    about 95% confidence).
  * the value counts are kept as a Misra-Gries summary of at most `distinct_cap` values (the
    mergeable variant of Agarwal et al., "Mergeable summaries", 2012): whenever a table exceeds
    the cap, the (cap+1)-th largest count is subtracted from every count and the non-positive ones
    dropped. Each kept count is then a lower bound, and every value's true count (kept or not) is
    at most its kept count plus `frequency_error`, the sum of everything subtracted, which never
    exceeds count / (cap + 1). `most_common` reports the largest kept count; it is the true mode
    whenever its count exceeds the runner-up's by more than `frequency_error`.

- `CategoricalPartial`: exact counts per value (a Python dict; merging adds).
- `CorrelationPartial`: exact pairwise-complete Pearson correlations of k numeric columns (per pair
  counts, means, M2s and co-moments, merged with Chan's formulas).

Two-sample drift on numeric partials: `wasserstein` (normalised as `wasserstein_normed`) and
`ks_statistic` / `ks_p_value`. Both are exact when both partials are exact; otherwise they are
computed exactly on the sketches' step CDFs and returned with an error bound (see each function).

Datasketches' HLL has no array update, so when a partial first goes past the cap its distinct
values (not its rows) are fed to the HLL one call each; that is the one Python-level loop, and it
costs about 0.15 s per million distinct values.
"""

from __future__ import annotations

import base64
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

import datasketches
import numpy as np
import pandas as pd
from scipy import stats

from metrics.computations.column_stats import ranked
from metrics.computations.drift_methods import WASSERSTEIN_MIN_STD

__all__ = [
    "CategoricalPartial",
    "CorrelationPartial",
    "Estimate",
    "NumericPartial",
    "ks_p_value",
    "ks_statistic",
    "shared_category_counts",
    "shared_value_counts",
    "wasserstein",
]

DEFAULT_K = 200
DEFAULT_DISTINCT_CAP = 10_000
HLL_LG_K = 14
HLL_TYPE = datasketches.tgt_hll_type.HLL_8
# to_dict's format version, checked by from_dict.
FORMAT = 1


class Estimate(NamedTuple):
    """A two-sample measure and a bound on its error: |value - exact value| <= bound (0 when
    exact). Approximate bounds hold with the KLL sketch's confidence (about 99%)."""

    value: float
    bound: float
    exact: bool


# ---- helpers -----------------------------------------------------------------------------------


def _b64(array: np.ndarray, dtype: str) -> str:
    return base64.b64encode(np.ascontiguousarray(array, dtype=dtype).tobytes()).decode("ascii")


def _unb64(text: str, dtype: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=dtype).copy()


def _float_or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _none_to_nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def _kll_copy(sketch: datasketches.kll_doubles_sketch) -> datasketches.kll_doubles_sketch:
    return datasketches.kll_doubles_sketch.deserialize(sketch.serialize())


def _hll_from_values(values: np.ndarray) -> datasketches.hll_sketch:
    """An HLL sketch of the given (distinct) finite values. datasketches' HLL updates one datum
    per call: map() drives the calls from C, without a Python-level loop body."""
    sketch = datasketches.hll_sketch(HLL_LG_K, HLL_TYPE)
    deque(map(sketch.update, values.tolist()), maxlen=0)
    return sketch


def _hll_union(*sketches: datasketches.hll_sketch) -> datasketches.hll_sketch:
    union = datasketches.hll_union(HLL_LG_K)
    for sketch in sketches:
        union.update(sketch)
    return union.get_result(HLL_TYPE)


def _merge_tables(
    values_a: np.ndarray, counts_a: np.ndarray, values_b: np.ndarray, counts_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The union of two sorted (value, count) tables, counts added, values sorted."""
    if len(values_a) == 0:
        return values_b, counts_b
    if len(values_b) == 0:
        return values_a, counts_a
    values, inverse = np.unique(np.concatenate([values_a, values_b]), return_inverse=True)
    counts = np.zeros(len(values), dtype=np.int64)
    np.add.at(counts, inverse, np.concatenate([counts_a, counts_b]))
    return values, counts


def _truncate(
    values: np.ndarray, counts: np.ndarray, cap: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """Misra-Gries reduction of a table to at most `cap` values: subtract the (cap+1)-th largest
    count from every count and keep the positive ones. Returns (values, counts, subtracted)."""
    if len(counts) <= cap:
        return values, counts, 0
    threshold = int(np.partition(counts, len(counts) - cap - 1)[len(counts) - cap - 1])
    reduced = counts - threshold
    keep = reduced > 0
    return values[keep], reduced[keep], threshold


def _step_cdf(partial: NumericPartial) -> tuple[np.ndarray, np.ndarray]:
    """The partial's CDF as a right-continuous step function: (jump points ascending, F at each
    point). Exact: the distinct values and their cumulative shares. Sketched: the KLL sketch's
    retained items and the sketch's own inclusive CDF at them (its CDF only jumps there).

    The weights the sketch's iterator reports are not used: in datasketches 5.2.0 they read 1 for
    every item after a sketch has been merged into a non-empty one, while get_cdf stays right.
    """
    if partial.exact:
        cumulative = np.cumsum(partial.values_counts[1])
        return partial.values_counts[0], cumulative / cumulative[-1]
    items = np.array([item for item, _ in partial.kll], dtype=np.float64)
    points = np.unique(items)
    shares = np.asarray(partial.kll.get_cdf(points, True), dtype=np.float64)[:-1]
    return points, shares


def _cdfs_on_union(
    reference: NumericPartial, current: NumericPartial
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Both step CDFs evaluated on the union of their jump points."""
    ref_points, ref_cdf = _step_cdf(reference)
    cur_points, cur_cdf = _step_cdf(current)
    support = np.union1d(ref_points, cur_points)

    def at(points: np.ndarray, cdf: np.ndarray) -> np.ndarray:
        index = np.searchsorted(points, support, side="right") - 1
        return np.where(index >= 0, cdf[np.maximum(index, 0)], 0.0)

    return support, at(ref_points, ref_cdf), at(cur_points, cur_cdf)


def _require_comparable(reference: NumericPartial, current: NumericPartial) -> None:
    if reference.count == 0 or current.count == 0:
        raise ValueError("both partials need at least one finite value")


# ---- numeric columns ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class NumericPartial:
    """Partial aggregates of one numeric column (float64; NaN is null) over some rows.

    Build with `from_array`, combine with `merge`, read the statistics off the properties.
    Nulls are NaN; +inf and -inf are counted apart and excluded from every other statistic (as
    `ColumnData.sorted_finite` does).
    """

    rows: int = 0
    missing: int = 0
    posinf: int = 0
    neginf: int = 0
    count: int = 0  # finite values
    mean: float = 0.0
    m2: float = 0.0  # sum of squared deviations from the mean
    m3: float = 0.0
    m4: float = 0.0
    sum: float = 0.0
    min: float = float("nan")
    max: float = float("nan")
    k: int = DEFAULT_K
    distinct_cap: int = DEFAULT_DISTINCT_CAP
    kll: datasketches.kll_doubles_sketch = field(
        default_factory=lambda: datasketches.kll_doubles_sketch(DEFAULT_K)
    )
    # Sorted distinct finite values and their counts: exact while frequency_error == 0, else the
    # Misra-Gries summary described in the module docstring.
    values_counts: tuple[np.ndarray, np.ndarray] = field(
        default_factory=lambda: (np.zeros(0), np.zeros(0, dtype=np.int64))
    )
    frequency_error: int = 0
    hll: datasketches.hll_sketch | None = None  # only once past the cap
    edges: np.ndarray | None = None
    histogram: np.ndarray | None = None  # counts per bin [e_i, e_i+1), the last one closed
    below: int = 0  # finite values below edges[0]
    above: int = 0  # finite values above edges[-1]

    # ---- building and merging -------------------------------------------------------------------

    @classmethod
    def empty(
        cls,
        *,
        edges: np.ndarray | None = None,
        k: int = DEFAULT_K,
        distinct_cap: int = DEFAULT_DISTINCT_CAP,
    ) -> NumericPartial:
        return cls.from_array(np.zeros(0), edges=edges, k=k, distinct_cap=distinct_cap)

    @classmethod
    def from_array(
        cls,
        values: Any,
        *,
        edges: Any = None,
        k: int = DEFAULT_K,
        distinct_cap: int = DEFAULT_DISTINCT_CAP,
    ) -> NumericPartial:
        """The partial of one chunk. `values`: anything np.asarray turns into float64 (NaN for
        nulls). `edges`: histogram bin edges (finite, strictly increasing, at least two), the same
        for every partial that is merged."""
        if distinct_cap < 1:
            raise ValueError(f"distinct_cap must be at least 1, not {distinct_cap}")
        data = np.asarray(values, dtype=np.float64).ravel()
        edge_array = _check_edges(edges)
        finite_mask = np.isfinite(data)
        finite = np.sort(data[finite_mask], kind="quicksort")
        n = int(finite.size)
        nan = int(np.count_nonzero(np.isnan(data)))
        posinf = int(np.count_nonzero(data == np.inf))
        neginf = int(np.count_nonzero(data == -np.inf))

        kll = datasketches.kll_doubles_sketch(k)
        if n:
            kll.update(finite)
            mean = float(np.mean(finite))
            deviations = finite - mean
            # One correction step: the mean's rounding error, measured by the deviations' sum.
            correction = float(np.sum(deviations)) / n
            mean += correction
            deviations -= correction
            squared = deviations * deviations
            m2 = float(np.sum(squared))
            m3 = float(np.sum(squared * deviations))
            m4 = float(np.sum(squared * squared))
            starts = np.flatnonzero(np.r_[True, finite[1:] != finite[:-1]])
            distinct = finite[starts]
            counts = np.diff(np.r_[starts, n]).astype(np.int64)
            low, high, total = float(finite[0]), float(finite[-1]), float(np.sum(finite))
        else:
            mean = m2 = m3 = m4 = total = 0.0
            low = high = float("nan")
            distinct, counts = np.zeros(0), np.zeros(0, dtype=np.int64)

        hll = None
        error = 0
        if len(distinct) > distinct_cap:
            hll = _hll_from_values(distinct)
            distinct, counts, error = _truncate(distinct, counts, distinct_cap)

        histogram = None
        below = above = 0
        if edge_array is not None:
            lower = np.searchsorted(finite, edge_array[:-1], side="left")
            last = int(np.searchsorted(finite, edge_array[-1], side="right"))
            histogram = np.diff(np.append(lower, last)).astype(np.int64)
            below = int(lower[0])
            above = n - last

        return cls(
            rows=int(data.size),
            missing=nan,
            posinf=posinf,
            neginf=neginf,
            count=n,
            mean=mean,
            m2=m2,
            m3=m3,
            m4=m4,
            sum=total,
            min=low,
            max=high,
            k=k,
            distinct_cap=distinct_cap,
            kll=kll,
            values_counts=(distinct, counts),
            frequency_error=error,
            hll=hll,
            edges=edge_array,
            histogram=histogram,
            below=below,
            above=above,
        )

    def merge(self, other: NumericPartial) -> NumericPartial:
        """A new partial of both partials' rows. Both must have the same k, distinct_cap and
        histogram edges (ValueError otherwise)."""
        if not isinstance(other, NumericPartial):
            raise TypeError(f"cannot merge a NumericPartial with {type(other).__name__}")
        if self.k != other.k or self.distinct_cap != other.distinct_cap:
            raise ValueError(
                f"cannot merge partials built with different settings: k={self.k} and "
                f"k={other.k}, distinct_cap={self.distinct_cap} and {other.distinct_cap}"
            )
        if (self.edges is None) != (other.edges is None) or (
            self.edges is not None
            and other.edges is not None
            and not np.array_equal(self.edges, other.edges)
        ):
            raise ValueError(
                "cannot merge partials with different histogram edges "
                f"({_edges_text(self.edges)} and {_edges_text(other.edges)})"
            )
        a, b = self, other
        na, nb = a.count, b.count
        n = na + nb
        if na == 0 or nb == 0:
            source = b if na == 0 else a
            mean, m2, m3, m4 = source.mean, source.m2, source.m3, source.m4
        else:
            # Chan et al. (M2) and Pébay (M3, M4): moments of the union from the parts'.
            delta = b.mean - a.mean
            delta_n = delta / n
            mean = a.mean + delta_n * nb
            m2 = a.m2 + b.m2 + delta * delta_n * na * nb
            m3 = (
                a.m3
                + b.m3
                + delta * delta_n * delta_n * na * nb * (na - nb)
                + 3.0 * delta_n * (na * b.m2 - nb * a.m2)
            )
            m4 = (
                a.m4
                + b.m4
                + delta * delta_n**3 * na * nb * (na * na - na * nb + nb * nb)
                + 6.0 * delta_n * delta_n * (na * na * b.m2 + nb * nb * a.m2)
                + 4.0 * delta_n * (na * b.m3 - nb * a.m3)
            )

        kll = _kll_copy(a.kll)
        kll.merge(b.kll)

        values, counts = _merge_tables(*a.values_counts, *b.values_counts)
        hll: datasketches.hll_sketch | None = None
        if a.hll is not None or b.hll is not None or len(values) > self.distinct_cap:
            # Unique counts: union the HLLs; an exact side contributes its distinct values.
            parts = [
                p.hll if p.hll is not None else _hll_from_values(p.values_counts[0]) for p in (a, b)
            ]
            hll = _hll_union(*parts)
        values, counts, subtracted = _truncate(values, counts, self.distinct_cap)

        histogram = None
        if a.histogram is not None and b.histogram is not None:
            histogram = a.histogram + b.histogram

        return replace(
            self,
            rows=a.rows + b.rows,
            missing=a.missing + b.missing,
            posinf=a.posinf + b.posinf,
            neginf=a.neginf + b.neginf,
            count=n,
            mean=float(mean),
            m2=float(m2),
            m3=float(m3),
            m4=float(m4),
            sum=a.sum + b.sum,
            min=float(np.fmin(a.min, b.min)),
            max=float(np.fmax(a.max, b.max)),
            kll=kll,
            values_counts=(values, counts),
            frequency_error=a.frequency_error + b.frequency_error + subtracted,
            hll=hll,
            histogram=histogram,
            below=a.below + b.below,
            above=a.above + b.above,
        )

    @classmethod
    def merge_all(cls, partials: list[NumericPartial]) -> NumericPartial:
        """All partials merged as a balanced tree (fewer large intermediate tables than a chain)."""
        if not partials:
            raise ValueError("nothing to merge")
        level = list(partials)
        while len(level) > 1:
            merged = [level[i].merge(level[i + 1]) for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                merged.append(level[-1])
            level = merged
        return level[0]

    # ---- statistics -----------------------------------------------------------------------------

    @property
    def exact(self) -> bool:
        """Whether the value counts (so quantiles, CDF, unique, most common) are exact."""
        return self.frequency_error == 0 and self.hll is None

    @property
    def rank_error(self) -> float:
        """The bound on the normalised rank error of `quantile` and `cdf`: 0 when exact, else
        the KLL sketch's single-sided normalised rank error (about 99% confidence)."""
        return 0.0 if self.exact else float(self.kll.normalized_rank_error(False))

    @property
    def non_missing(self) -> int:
        """Non-null values, infinities included (ColumnSummary's `count`)."""
        return self.rows - self.missing

    @property
    def infinite(self) -> int:
        return self.posinf + self.neginf

    @property
    def var(self) -> float:
        """Variance of the finite values, ddof=1 (NaN for fewer than two)."""
        return self.m2 / (self.count - 1) if self.count > 1 else float("nan")

    @property
    def std(self) -> float:
        """Standard deviation of the finite values, ddof=1 (NaN for fewer than two)."""
        return float(np.sqrt(self.var)) if self.count > 1 else float("nan")

    @property
    def std_population(self) -> float:
        """Standard deviation with ddof=0 (NaN when there is no finite value)."""
        return float(np.sqrt(self.m2 / self.count)) if self.count else float("nan")

    def _moment_degenerate(self) -> bool:
        # scipy.stats.skew / kurtosis: NaN when the second moment is within rounding of zero.
        if self.count == 0:
            return True
        return bool(self.m2 / self.count <= (np.finfo(np.float64).eps * self.mean) ** 2)

    @property
    def skewness(self) -> float:
        """Sample skewness, as scipy.stats.skew(bias=True)."""
        if self._moment_degenerate():
            return float("nan")
        n = self.count
        return float(np.sqrt(n) * self.m3 / self.m2**1.5)

    @property
    def kurtosis(self) -> float:
        """Excess (Fisher) kurtosis, as scipy.stats.kurtosis(bias=True)."""
        if self._moment_degenerate():
            return float("nan")
        return float(self.count * self.m4 / (self.m2 * self.m2) - 3.0)

    def quantile(self, q: float | np.ndarray) -> Any:
        """The q-quantile(s) of the finite values (NaN when there is none). Exact: linear
        interpolation between order statistics, as `sorted_quantile`. Sketched: the KLL sketch's
        inclusive quantile, whose rank is within `rank_error` of q."""
        qs = np.asarray(q, dtype=np.float64)
        if np.any((qs < 0) | (qs > 1)):
            raise ValueError("quantiles must be between 0 and 1")
        if self.count == 0:
            result = np.full(qs.shape, np.nan)
        elif self.exact:
            distinct, counts = self.values_counts
            cumulative = np.cumsum(counts)
            position = qs * (self.count - 1)
            low = np.floor(position).astype(np.int64)
            high = np.minimum(low + 1, self.count - 1)
            fraction = position - low
            at_low = distinct[np.searchsorted(cumulative, low, side="right")]
            at_high = distinct[np.searchsorted(cumulative, high, side="right")]
            result = at_low + (at_high - at_low) * fraction
        else:
            flat = np.atleast_1d(qs).ravel()
            result = np.asarray(self.kll.get_quantiles(flat.tolist(), True)).reshape(qs.shape)
        return float(result) if result.ndim == 0 else result

    def cdf(self, x: float | np.ndarray) -> Any:
        """The share of finite values <= x (exact, or within `rank_error` when sketched)."""
        xs = np.asarray(x, dtype=np.float64)
        if self.count == 0:
            result = np.full(xs.shape, np.nan)
        else:
            points, shares = _step_cdf(self)
            index = np.searchsorted(points, xs, side="right") - 1
            result = np.where(index >= 0, shares[np.maximum(index, 0)], 0.0)
        return float(result) if result.ndim == 0 else result

    @property
    def unique(self) -> int:
        """Distinct non-null values, each infinity counting as one (ColumnSummary's `unique`).
        Past the cap: the HLL estimate, rounded."""
        infinities = int(self.posinf > 0) + int(self.neginf > 0)
        if self.hll is None:
            return len(self.values_counts[0]) + infinities
        return round(self.hll.get_estimate()) + infinities

    def unique_bounds(self, num_std_devs: int = 2) -> tuple[int, int]:
        """(lower, upper) bounds on `unique`: equal to it when exact, else HLL's bounds at 1, 2
        or 3 standard deviations (about 68%, 95%, 99.7% confidence)."""
        if self.hll is None:
            return self.unique, self.unique
        infinities = int(self.posinf > 0) + int(self.neginf > 0)
        return (
            int(np.floor(self.hll.get_lower_bound(num_std_devs))) + infinities,
            int(np.ceil(self.hll.get_upper_bound(num_std_devs))) + infinities,
        )

    @property
    def most_common(self) -> tuple[float, int] | None:
        """(value, count) of the most frequent finite value (the smallest on ties), None without
        finite values. Past the cap, from the Misra-Gries summary: the count is a lower bound
        (the true one is at most `frequency_error` more), the value is certainly the mode only
        when its count beats the runner-up's by more than `frequency_error`, and None means that
        no value is frequent enough to survive the summary (every count <= frequency_error)."""
        distinct, counts = self.values_counts
        if len(counts) == 0:
            return None
        top = int(np.argmax(counts))
        return float(distinct[top]), int(counts[top])

    @property
    def most_common_share(self) -> float:
        """The most common value's count over the non-null values (infinities included), as
        ColumnSummary's `most_common_share`; NaN without finite values."""
        top = self.most_common
        return top[1] / self.non_missing if top is not None else float("nan")

    def summary(self) -> dict[str, Any]:
        """The numeric part of ColumnSummary's values, from the partial."""
        nan = float("nan")
        has = self.count > 0
        return {
            "count": self.non_missing,
            "missing": self.missing,
            "missing_share": self.missing / self.rows if self.rows else nan,
            "unique": self.unique,
            "unique_share": self.unique / self.non_missing if self.non_missing else nan,
            "most_common_share": self.most_common_share,
            "infinite": self.infinite,
            "min": self.min if has else nan,
            "max": self.max if has else nan,
            "mean": self.mean if has else nan,
            "std": self.std,
            "sum": self.sum if has else nan,
            "median": self.quantile(0.5),
            "p25": self.quantile(0.25),
            "p75": self.quantile(0.75),
        }

    # ---- serialisation --------------------------------------------------------------------------

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled through to_dict (the sketches do not pickle): partials travel to and from
        # the workers of a distributed engine.
        return (type(self).from_dict, (self.to_dict(),))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (no NaN or infinity; arrays and sketches as base64)."""
        distinct, counts = self.values_counts
        return {
            "type": "numeric",
            "format": FORMAT,
            "rows": self.rows,
            "missing": self.missing,
            "posinf": self.posinf,
            "neginf": self.neginf,
            "count": self.count,
            "mean": self.mean,
            "m2": self.m2,
            "m3": self.m3,
            "m4": self.m4,
            "sum": self.sum,
            "min": _float_or_none(self.min),
            "max": _float_or_none(self.max),
            "k": self.k,
            "distinct_cap": self.distinct_cap,
            "kll": base64.b64encode(self.kll.serialize()).decode("ascii"),
            "values": _b64(distinct, "<f8"),
            "counts": _b64(counts, "<i8"),
            "frequency_error": self.frequency_error,
            "hll": (
                base64.b64encode(self.hll.serialize_compact()).decode("ascii")
                if self.hll is not None
                else None
            ),
            "edges": self.edges.tolist() if self.edges is not None else None,
            "histogram": self.histogram.tolist() if self.histogram is not None else None,
            "below": self.below,
            "above": self.above,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NumericPartial:
        if data.get("type") != "numeric" or data.get("format") != FORMAT:
            raise ValueError(
                f"not a numeric partial of format {FORMAT}: type={data.get('type')!r}, "
                f"format={data.get('format')!r}"
            )
        return cls(
            rows=int(data["rows"]),
            missing=int(data["missing"]),
            posinf=int(data["posinf"]),
            neginf=int(data["neginf"]),
            count=int(data["count"]),
            mean=float(data["mean"]),
            m2=float(data["m2"]),
            m3=float(data["m3"]),
            m4=float(data["m4"]),
            sum=float(data["sum"]),
            min=_none_to_nan(data["min"]),
            max=_none_to_nan(data["max"]),
            k=int(data["k"]),
            distinct_cap=int(data["distinct_cap"]),
            kll=datasketches.kll_doubles_sketch.deserialize(base64.b64decode(data["kll"])),
            values_counts=(_unb64(data["values"], "<f8"), _unb64(data["counts"], "<i8")),
            frequency_error=int(data["frequency_error"]),
            hll=(
                datasketches.hll_sketch.deserialize(base64.b64decode(data["hll"]))
                if data["hll"] is not None
                else None
            ),
            edges=np.asarray(data["edges"], dtype=np.float64)
            if data["edges"] is not None
            else None,
            histogram=(
                np.asarray(data["histogram"], dtype=np.int64)
                if data["histogram"] is not None
                else None
            ),
            below=int(data["below"]),
            above=int(data["above"]),
        )


def _check_edges(edges: Any) -> np.ndarray | None:
    if edges is None:
        return None
    array = np.asarray(edges, dtype=np.float64).ravel()
    if array.size < 2 or not np.all(np.isfinite(array)) or np.any(np.diff(array) <= 0):
        raise ValueError("histogram edges must be at least two finite, strictly increasing values")
    return array


def _edges_text(edges: np.ndarray | None) -> str:
    if edges is None:
        return "no edges"
    return f"{len(edges)} edges from {edges[0]:g} to {edges[-1]:g}"


# ---- two-sample measures on numeric partials -----------------------------------------------------


def wasserstein(reference: NumericPartial, current: NumericPartial) -> Estimate:
    """The first Wasserstein distance between the finite values, divided by
    max(reference std (ddof=0), WASSERSTEIN_MIN_STD), as `drift_methods.wasserstein_normed`.

    Exact when both partials are exact (from the two value-count tables). Otherwise the integral
    of |F_r - F_c| is computed exactly on the sketches' step CDFs (an exact side uses its exact
    CDF). A sketch's CDF F^ is exact (0 or 1) outside [min, max] of its own side (min and max are
    tracked exactly and every retained item lies between them), and inside it is within the rank
    error eps of the truth. Since | |F^_r - F^_c| - |F_r - F_c| | <= |F^_r - F_r| + |F^_c - F_c|,
        bound = (eps_r * (max_r - min_r) + eps_c * (max_c - min_c)) / max(std_r, 0.001),
    with eps = 0 for an exact side; at most (eps_r + eps_c) * (max - min over both) / scale.
    """
    _require_comparable(reference, current)
    support, ref_cdf, cur_cdf = _cdfs_on_union(reference, current)
    with np.errstate(over="ignore"):
        distance = float(np.sum(np.abs(ref_cdf[:-1] - cur_cdf[:-1]) * np.diff(support)))
    spread = reference.std_population if reference.m2 > 0 else 0.0
    scale = max(spread, WASSERSTEIN_MIN_STD)
    bound = (
        reference.rank_error * (reference.max - reference.min)
        + current.rank_error * (current.max - current.min)
    ) / scale
    exact = reference.exact and current.exact
    return Estimate(distance / scale, 0.0 if exact else bound, exact)


def ks_statistic(reference: NumericPartial, current: NumericPartial) -> Estimate:
    """The two-sample Kolmogorov-Smirnov D = sup |F_r - F_c| over the finite values (as
    scipy.stats.ks_2samp's statistic). Exact when both are exact; otherwise from the step CDFs,
    whose difference is constant between jump points, so the sup is a max over them, and
    |D^ - D| <= eps_r + eps_c."""
    _require_comparable(reference, current)
    _, ref_cdf, cur_cdf = _cdfs_on_union(reference, current)
    d = float(np.max(np.abs(ref_cdf - cur_cdf)))
    exact = reference.exact and current.exact
    return Estimate(d, 0.0 if exact else reference.rank_error + current.rank_error, exact)


def ks_p_value(statistic: float, n_reference: int, n_current: int) -> float:
    """The two-sided asymptotic KS p-value of D for samples of these sizes: the survival function
    of the one-sample KS distribution (scipy.stats.kstwo) at D with the effective size
    round(n*m/(n+m)), the p-value of scipy.stats.ks_2samp(method="asymp"). For an approximate D,
    evaluate at D +- its bound for an interval."""
    if n_reference < 1 or n_current < 1:
        return float("nan")
    effective = float(n_reference) * float(n_current) / (float(n_reference) + float(n_current))
    return float(np.clip(stats.kstwo.sf(statistic, np.round(effective)), 0.0, 1.0))


def shared_value_counts(
    reference: NumericPartial, current: NumericPartial
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For a numeric column read as categories (both exact): (values, reference counts, current
    counts) over the union of values, as `ColumnPair.shared_value_counts`."""
    if not (reference.exact and current.exact):
        raise ValueError("value counts are only known exactly below the distinct cap")
    ref_values, ref_counts = reference.values_counts
    cur_values, cur_counts = current.values_counts
    values = np.union1d(ref_values, cur_values)
    ref_aligned = np.zeros(len(values), dtype=np.int64)
    cur_aligned = np.zeros(len(values), dtype=np.int64)
    ref_aligned[np.searchsorted(values, ref_values)] = ref_counts
    cur_aligned[np.searchsorted(values, cur_values)] = cur_counts
    return values, ref_aligned, cur_aligned


# ---- categorical columns -------------------------------------------------------------------------


def _python_value(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


@dataclass(frozen=True, eq=False)
class CategoricalPartial:
    """Partial aggregates of one categorical column: rows, missing and exact counts per value.

    Values are Python objects (NumPy scalars become Python ones); the dict keeps the order of
    first appearance in merge order, so merging chunks left to right in row order gives the
    order of appearance of the whole column (what `ColumnPair.shared_category_counts` uses).
    """

    rows: int = 0
    missing: int = 0
    counts: dict[Any, int] = field(default_factory=dict)

    @classmethod
    def from_array(cls, values: Any) -> CategoricalPartial:
        """The partial of one chunk; nulls are what pandas.isna says."""
        series = pd.Series(values, dtype=object) if not isinstance(values, pd.Series) else values
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        present = codes[codes >= 0]
        counts = np.bincount(present, minlength=len(uniques))
        return cls(
            rows=len(series),
            missing=int(len(codes) - len(present)),
            counts=dict(zip((_python_value(u) for u in uniques), counts.tolist(), strict=True)),
        )

    def merge(self, other: CategoricalPartial) -> CategoricalPartial:
        if not isinstance(other, CategoricalPartial):
            raise TypeError(f"cannot merge a CategoricalPartial with {type(other).__name__}")
        counts = dict(self.counts)
        for value, count in other.counts.items():
            counts[value] = counts.get(value, 0) + count
        return CategoricalPartial(self.rows + other.rows, self.missing + other.missing, counts)

    @property
    def count(self) -> int:
        return self.rows - self.missing

    @property
    def unique(self) -> int:
        return len(self.counts)

    def value_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """(values, counts), most frequent first, ties by label text (`column_stats.ranked`)."""
        labels = np.empty(len(self.counts), dtype=object)
        labels[:] = list(self.counts)
        counts = np.fromiter(self.counts.values(), dtype=np.int64, count=len(self.counts))
        order = ranked(labels, counts) if len(counts) else np.zeros(0, dtype=np.int64)
        return labels[order], counts[order]

    @property
    def most_common(self) -> tuple[Any, int] | None:
        labels, counts = self.value_counts()
        return (labels[0], int(counts[0])) if len(counts) else None

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled through to_dict (the sketches do not pickle): partials travel to and from
        # the workers of a distributed engine.
        return (type(self).from_dict, (self.to_dict(),))

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe when the values are (str, int, float, bool): the counts as [value, count]."""
        return {
            "type": "categorical",
            "format": FORMAT,
            "rows": self.rows,
            "missing": self.missing,
            "counts": [[value, count] for value, count in self.counts.items()],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CategoricalPartial:
        if data.get("type") != "categorical" or data.get("format") != FORMAT:
            raise ValueError(f"not a categorical partial of format {FORMAT}")
        return cls(
            int(data["rows"]),
            int(data["missing"]),
            {value: int(count) for value, count in data["counts"]},
        )


def shared_category_counts(
    reference: CategoricalPartial, current: CategoricalPartial
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(categories, reference counts, current counts): the reference's categories in its order,
    then those new in current, as `ColumnPair.shared_category_counts` (the input of chi-square,
    z-test, PSI, Jensen-Shannon, ... in `drift_methods`)."""
    categories = list(reference.counts) + [v for v in current.counts if v not in reference.counts]
    labels = np.empty(len(categories), dtype=object)
    labels[:] = categories
    ref = np.array([reference.counts.get(v, 0) for v in categories], dtype=np.int64)
    cur = np.array([current.counts.get(v, 0) for v in categories], dtype=np.int64)
    return labels, ref, cur


# ---- correlations --------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class CorrelationPartial:
    """Pairwise-complete Pearson correlations of k numeric columns, mergeable exactly.

    For each pair (i, j), over the rows where both columns are finite: `n[i, j]` rows,
    `means[i, j]` the mean of column i (so `means[j, i]` is column j's), `m2[i, j]` the sum of
    squared deviations of column i, and `comoment[i, j]` the sum of products of deviations.
    """

    n: np.ndarray
    means: np.ndarray
    m2: np.ndarray
    comoment: np.ndarray
    columns: tuple[str, ...] | None = None

    @classmethod
    def from_array(cls, values: Any, columns: list[str] | None = None) -> CorrelationPartial:
        """The partial of one chunk: `values` of shape (rows, k), float64, NaN/inf as missing."""
        data = np.asarray(values, dtype=np.float64)
        if data.ndim != 2:
            raise ValueError(f"expected a (rows, columns) array, got shape {data.shape}")
        if columns is not None and len(columns) != data.shape[1]:
            raise ValueError(f"{len(columns)} column names for {data.shape[1]} columns")
        x = np.array(data.T, order="C", copy=True)  # one row per column; our working copy
        present = np.isfinite(x)
        mask = present.astype(np.float64)
        np.copyto(x, 0.0, where=~present)
        per_column = mask.sum(axis=1)
        # Centre each column on its own mean first so the one-pass sums below do not cancel.
        centre = np.divide(x.sum(axis=1), per_column, out=np.zeros(len(x)), where=per_column > 0)
        x -= centre[:, None]
        np.copyto(x, 0.0, where=~present)
        n = mask @ mask.T
        sums = x @ mask.T  # [i, j]: sum of (centred) column i over rows where j is present too
        products = x @ x.T
        squares = (x * x) @ mask.T
        with np.errstate(invalid="ignore", divide="ignore"):
            shifted = np.where(n > 0, sums / n, 0.0)
        m2 = np.maximum(squares - shifted * sums, 0.0)
        comoment = products - shifted * sums.T
        means = shifted + centre[:, None]
        return cls(n, means, m2, comoment, tuple(columns) if columns is not None else None)

    def merge(self, other: CorrelationPartial) -> CorrelationPartial:
        if not isinstance(other, CorrelationPartial):
            raise TypeError(f"cannot merge a CorrelationPartial with {type(other).__name__}")
        if self.n.shape != other.n.shape or self.columns != other.columns:
            raise ValueError("cannot merge correlation partials of different columns")
        na, nb = self.n, other.n
        n = na + nb
        with np.errstate(invalid="ignore", divide="ignore"):
            weight_b = np.where(n > 0, nb / n, 0.0)
            cross = np.where(n > 0, na * nb / n, 0.0)
        # [i, j]: the change of column i's mean over the rows of pair (i, j); when one side has
        # no rows, `cross` is 0 and the merged mean is the other side's.
        delta = other.means - self.means
        means = np.where(na > 0, self.means + delta * weight_b, other.means)
        m2 = self.m2 + other.m2 + delta * delta * cross
        comoment = self.comoment + other.comoment + delta * delta.T * cross
        return CorrelationPartial(n, means, m2, comoment, self.columns)

    def matrix(self) -> np.ndarray:
        """Pearson r per pair, as `quality._pairwise_pearson`: NaN without spread or with fewer
        than two shared rows, 1 on the diagonal, clipped to [-1, 1]."""
        with np.errstate(invalid="ignore", divide="ignore"):
            matrix = self.comoment / np.sqrt(self.m2 * self.m2.T)
        matrix = np.where(self.n >= 2, matrix, np.nan)
        np.fill_diagonal(matrix, 1.0)
        return np.clip(matrix, -1.0, 1.0)

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled through to_dict (the sketches do not pickle): partials travel to and from
        # the workers of a distributed engine.
        return (type(self).from_dict, (self.to_dict(),))

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "correlation",
            "format": FORMAT,
            "k": int(self.n.shape[0]),
            "columns": list(self.columns) if self.columns is not None else None,
            "n": _b64(self.n, "<f8"),
            "means": _b64(self.means, "<f8"),
            "m2": _b64(self.m2, "<f8"),
            "comoment": _b64(self.comoment, "<f8"),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CorrelationPartial:
        if data.get("type") != "correlation" or data.get("format") != FORMAT:
            raise ValueError(f"not a correlation partial of format {FORMAT}")
        k = int(data["k"])

        def square(key: str) -> np.ndarray:
            return _unb64(data[key], "<f8").reshape(k, k)

        columns = tuple(data["columns"]) if data["columns"] is not None else None
        return cls(square("n"), square("means"), square("m2"), square("comoment"), columns)
