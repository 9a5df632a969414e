"""Column-level statistics: summaries, quantiles, value counts, ranges and lists, category shares,
regular expressions and distributions.

Every metric here reads one column and reports the current data and, when given, the reference under
`values["current"]` and `values["reference"]`. Statistics ignore nulls; numerical statistics also
ignore infinities (counted apart as `infinite`). Standard deviations are sample ones (ddof=1).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from metrics.core.base import (
    Context,
    Distribution,
    Metric,
    MetricError,
    MetricResult,
    numeric_column,
)
from metrics.core.columns import ColumnData, ColumnPair, sorted_quantile
from metrics.core.definition import ColumnType

MAX_BINS = 100
MAX_CATEGORIES = 50


def _sides(pair: ColumnPair) -> dict[str, ColumnData]:
    sides = {"current": pair.current}
    if pair.reference is not None:
        sides["reference"] = pair.reference
    return sides


def _share(count: int, total: int) -> float:
    return count / total if total else float("nan")


def ranked(labels: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Positions by count, most frequent first, ties by label: the same whatever the row order."""
    return np.lexsort((np.array([label_text(v) for v in labels], dtype=object), -counts))


def label_text(value: Any) -> str:
    """A label, id or category as text for the details (3.0 reads "3")."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


class ColumnSummary(Metric):
    """The usual statistics of one column.

    All types: `count` (non-null values), `missing`, `missing_share`, `unique`, `unique_share`
    (distinct among non-null) and `most_common_share`; the most common value is in the details.
    Numerical: also `min`, `max`, `mean`, `std`, `sum`, `median`, `p25`, `p75`, `infinite`.
    Text: also `mean_length` (characters). Datetime: `min` and `max` as seconds since the epoch
    (ISO dates in the details).
    """

    column_param = "column"

    def __init__(self, *, column: str) -> None:
        super().__init__(column=column)

    def compute(self, ctx: Context) -> MetricResult:
        assert self.column is not None  # required by __init__
        pair = ctx.pair(self.column)
        values: dict[str, Any] = {}
        details: dict[str, Any] = {"column_type": str(pair.type)}
        for side, data in _sides(pair).items():
            stats, most_common = _summary(data)
            values[side] = stats
            details[f"{side}_most_common"] = most_common
            if data.type == ColumnType.DATETIME and data.n_rows > data.n_missing:
                details[f"{side}_min"] = pd.Timestamp(
                    int(data.sorted_finite[0]), tz="UTC"
                ).isoformat()
                details[f"{side}_max"] = pd.Timestamp(
                    int(data.sorted_finite[-1]), tz="UTC"
                ).isoformat()
        return self.result(values, details)


def _summary(data: ColumnData) -> tuple[dict[str, Any], Any]:
    n = data.n_rows
    missing = data.n_missing
    count = n - missing
    stats: dict[str, Any] = {
        "count": count,
        "missing": missing,
        "missing_share": _share(missing, n),
    }
    if data.type in (ColumnType.NUMERICAL, ColumnType.DATETIME):
        finite = data.sorted_finite
        distinct, counts = data.value_counts_sorted()
        stats["unique"] = len(distinct) + (
            int(np.isposinf(data.values).any()) + int(np.isneginf(data.values).any())
        )
        stats["unique_share"] = _share(stats["unique"], count)
        top = int(np.argmax(counts)) if len(counts) else None
        stats["most_common_share"] = (
            _share(int(counts[top]), count) if top is not None else float("nan")
        )
        most_common = float(distinct[top]) if top is not None else None
        if data.type == ColumnType.DATETIME:
            scale = 1e9  # nanoseconds to seconds
            stats["min"] = finite[0] / scale if len(finite) else float("nan")
            stats["max"] = finite[-1] / scale if len(finite) else float("nan")
            if most_common is not None:
                most_common = pd.Timestamp(int(most_common), tz="UTC").isoformat()
            return stats, most_common
        stats["infinite"] = data.n_infinite
        if len(finite):
            stats.update(
                min=finite[0],
                max=finite[-1],
                mean=float(np.mean(finite)),
                std=float(np.std(finite, ddof=1)) if len(finite) > 1 else float("nan"),
                sum=float(np.sum(finite)),
                median=sorted_quantile(finite, 0.5),
                p25=sorted_quantile(finite, 0.25),
                p75=sorted_quantile(finite, 0.75),
            )
        else:
            for key in ("min", "max", "mean", "std", "sum", "median", "p25", "p75"):
                stats[key] = float("nan")
        return stats, most_common
    uniques, counts = data.category_counts
    stats["unique"] = len(uniques)
    stats["unique_share"] = _share(len(uniques), count)
    top = int(ranked(uniques, counts)[0]) if len(counts) else None
    stats["most_common_share"] = (
        _share(int(counts[top]), count) if top is not None else float("nan")
    )
    if data.type == ColumnType.TEXT:
        lengths = data.series.dropna().astype(str).str.len()
        stats["mean_length"] = float(lengths.mean()) if len(lengths) else float("nan")
    return stats, (label_text(uniques[top]) if top is not None else None)


class ColumnQuantile(Metric):
    """The `q`-quantile of a numerical column (linear interpolation, as NumPy's default)."""

    column_param = "column"

    def __init__(self, *, column: str, q: float) -> None:
        if not 0 <= q <= 1:
            raise ValueError(f"q must be between 0 and 1, not {q}.")
        super().__init__(column=column, q=float(q))

    def compute(self, ctx: Context) -> MetricResult:
        assert self.column is not None  # required by __init__
        pair = numeric_column(ctx, self.column)
        q = self.params["q"]
        return self.result(
            {
                side: {"value": sorted_quantile(data.sorted_finite, q)}
                for side, data in _sides(pair).items()
            }
        )


class ColumnValueCounts(Metric):
    """How often each value occurs: the `top` most frequent, with counts and shares, in details
    (`values` has the number of distinct values per side)."""

    column_param = "column"

    def __init__(self, *, column: str, top: int = 20) -> None:
        if not 1 <= top <= MAX_CATEGORIES:
            raise ValueError(f"top must be between 1 and {MAX_CATEGORIES}, not {top}.")
        super().__init__(column=column, top=top)

    def compute(self, ctx: Context) -> MetricResult:
        assert self.column is not None  # required by __init__
        pair = ctx.pair(self.column)
        values: dict[str, Any] = {}
        details: dict[str, Any] = {}
        for side, data in _sides(pair).items():
            values[side], details[side] = value_counts_summary(*_counts(data), self.params["top"])
        return self.result(values, details)


def value_counts_summary(
    labels: np.ndarray, counts: np.ndarray, top: int
) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """ColumnValueCounts' values and details of one side: the `top` values, most frequent first."""
    order = ranked(np.asarray(labels, dtype=object), counts)[:top]
    total = int(counts.sum())
    details = [
        {
            "value": label_text(labels[i]),
            "count": int(counts[i]),
            "share": _share(int(counts[i]), total),
        }
        for i in order
    ]
    return {"distinct": len(labels), "count": total}, details


def _counts(data: ColumnData) -> tuple[np.ndarray, np.ndarray]:
    if data.type in (ColumnType.NUMERICAL, ColumnType.DATETIME):
        return data.value_counts_sorted()
    return data.category_counts


class ColumnValueRange(Metric):
    """Values inside and outside [left, right] (inclusive), among non-null values; infinities are
    outside. Without bounds, the reference's minimum and maximum are used: the share of current
    values out of the reference's range."""

    column_param = "column"

    def __init__(
        self, *, column: str, left: float | None = None, right: float | None = None
    ) -> None:
        super().__init__(column=column, left=left, right=right)

    def compute(self, ctx: Context) -> MetricResult:
        assert self.column is not None  # required by __init__
        pair = numeric_column(ctx, self.column)
        left, right = self.params.get("left"), self.params.get("right")
        if left is None or right is None:
            reference = pair.require_reference().sorted_finite
            if len(reference) == 0:
                raise MetricError(
                    f"The reference has no finite values in {self.column!r} to take a range from."
                )
            left = reference[0] if left is None else left
            right = reference[-1] if right is None else right
        values = {}
        for side, data in _sides(pair).items():
            finite = data.sorted_finite
            inside = int(
                np.searchsorted(finite, right, "right") - np.searchsorted(finite, left, "left")
            )
            total = data.n_rows - data.n_missing
            values[side] = {
                "in_range": inside,
                "in_range_share": _share(inside, total),
                "out_range": total - inside,
                "out_range_share": _share(total - inside, total),
            }
        return self.result(values, {"left": float(left), "right": float(right)})


class ColumnValueList(Metric):
    """Values in and out of a list, among non-null values. Without a list, the reference's values
    are the list: `out_list` counts current values the reference never had, `new_values` how many
    distinct ones there are (new categories), and `vanished_values` how many of the list's values
    the side does not have at all (vanished categories)."""

    column_param = "column"

    def __init__(self, *, column: str, values: list[Any] | None = None) -> None:
        super().__init__(column=column, values=values)

    def compute(self, ctx: Context) -> MetricResult:
        assert self.column is not None  # required by __init__
        pair = ctx.pair(self.column)
        allowed = self.params.get("values")
        numeric = pair.type in (ColumnType.NUMERICAL, ColumnType.DATETIME)
        if allowed is None:
            allowed_values = _counts(pair.require_reference())[0]
        else:
            allowed_values = np.asarray(allowed, dtype=np.float64 if numeric else object)
        listed = pd.Index(allowed_values).unique()
        result: dict[str, Any] = {}
        details: dict[str, Any] = {}
        for side, data in _sides(pair).items():
            labels, counts = _counts(data)
            if numeric:
                known = np.isin(labels, allowed_values)
                absent = ~np.isin(listed.to_numpy(), labels)
            else:
                known = pd.Index(labels).isin(listed)
                absent = ~listed.isin(pd.Index(labels))
            total = int(counts.sum())
            inside = int(counts[known].sum())
            result[side] = {
                "in_list": inside,
                "in_list_share": _share(inside, total),
                "out_list": total - inside,
                "out_list_share": _share(total - inside, total),
                "new_values": int((~known).sum()),
                "vanished_values": int(absent.sum()),
            }
            unknown = np.flatnonzero(~known)
            top_unknown = unknown[ranked(labels[unknown], counts[unknown])[:10]]
            details[f"{side}_out_of_list_examples"] = [label_text(labels[i]) for i in top_unknown]
            gone = sorted(label_text(v) for v in listed[absent])[:10]
            details[f"{side}_vanished_examples"] = gone
        return self.result(result, details)


class ColumnCategoryShare(Metric):
    """Count and share of one category among the column's non-null values."""

    column_param = "column"

    def __init__(self, *, column: str, category: str | int | float | bool) -> None:
        super().__init__(column=column, category=category)

    def compute(self, ctx: Context) -> MetricResult:
        assert self.column is not None  # required by __init__
        pair = ctx.pair(self.column)
        category = self.params["category"]
        values = {}
        for side, data in _sides(pair).items():
            labels, counts = _counts(data)
            if pair.type in (ColumnType.NUMERICAL, ColumnType.DATETIME):
                match = labels == float(category)
            else:
                match = np.fromiter((v == category for v in labels), dtype=bool, count=len(labels))
            total = int(counts.sum())
            count = int(counts[match].sum())
            values[side] = {"count": count, "share": _share(count, total)}
        return self.result(values)


class ColumnRegexMatch(Metric):
    """Count and share of non-null values that match a regular expression in full."""

    column_param = "column"

    def __init__(self, *, column: str, pattern: str) -> None:
        import re

        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(
                f"pattern {pattern!r} is not a valid regular expression: {exc}"
            ) from None
        super().__init__(column=column, pattern=pattern)

    def compute(self, ctx: Context) -> MetricResult:
        assert self.column is not None  # required by __init__
        pair = ctx.pair(self.column)
        values = {}
        for side, data in _sides(pair).items():
            labels, counts = _counts(data)
            matched = (
                pd.Series(labels, dtype=object).astype(str).str.fullmatch(self.params["pattern"])
            )
            mask = matched.to_numpy(dtype=bool)
            total = int(counts.sum())
            count = int(counts[mask].sum())
            values[side] = {
                "match": count,
                "match_share": _share(count, total),
                "no_match": total - count,
                "no_match_share": _share(total - count, total),
            }
        return self.result(values)


class ColumnDistribution(Metric):
    """Histogram of a column for charts, current against reference on the same bins: `bins`
    equal-width bins over both sides' range for numbers, the `top` most frequent categories (the
    rest summed as "other") for categories. Bounded in size whatever the data."""

    column_param = "column"

    def __init__(self, *, column: str, bins: int = 20, top: int = 20) -> None:
        if not 1 <= bins <= MAX_BINS:
            raise ValueError(f"bins must be between 1 and {MAX_BINS}, not {bins}.")
        if not 1 <= top <= MAX_CATEGORIES:
            raise ValueError(f"top must be between 1 and {MAX_CATEGORIES}, not {top}.")
        super().__init__(column=column, bins=bins, top=top)

    def compute(self, ctx: Context) -> MetricResult:
        assert self.column is not None  # required by __init__
        pair = ctx.pair(self.column)
        sides = _sides(pair)
        if pair.type in (ColumnType.NUMERICAL, ColumnType.DATETIME):
            distribution = _histogram(sides, self.params["bins"], pair.type)
        else:
            distribution = _categories(pair, self.params["top"])
        values = {side: {"count": int(np.sum(getattr(distribution, side)))} for side in sides}
        return self.result(values, distribution=distribution)


def histogram_edges(low: float, high: float, bins: int, column_type: ColumnType) -> np.ndarray:
    """`bins` equal-width edges over [low, high] (a unit-wide bin around a single number)."""
    if low == high:
        return (
            np.array([low - 0.5, high + 0.5])
            if column_type == ColumnType.NUMERICAL
            else np.array([low, high])
        )
    return np.linspace(low, high, bins + 1)


def _histogram(sides: dict[str, ColumnData], bins: int, column_type: ColumnType) -> Distribution:
    arrays = {side: data.sorted_finite for side, data in sides.items()}
    non_empty = [a for a in arrays.values() if len(a)]
    if not non_empty:
        raise MetricError("The column has no finite values to draw.")
    low = min(a[0] for a in non_empty)
    high = max(a[-1] for a in non_empty)
    edges = histogram_edges(low, high, bins, column_type)
    counts = {}
    for side, data in arrays.items():
        # Bin i holds edges[i] <= x < edges[i+1]; the last bin also holds its right edge.
        positions = np.searchsorted(data, edges[1:-1], "left")
        counts[side] = np.diff(np.r_[0, positions, len(data)]).tolist()
    if column_type == ColumnType.DATETIME:
        edges = edges / 1e9
    return Distribution(
        kind="histogram",
        current=counts["current"],
        reference=counts.get("reference"),
        edges=[float(e) for e in edges],
    )


def _categories(pair: ColumnPair, top: int) -> Distribution:
    if pair.reference is not None:
        labels, ref_counts, cur_counts = pair.shared_category_counts
    else:
        labels, cur_counts = pair.current.category_counts
        ref_counts = None
    return category_distribution(labels, cur_counts, ref_counts, top)


def category_distribution(
    labels: np.ndarray, cur_counts: np.ndarray, ref_counts: np.ndarray | None, top: int
) -> Distribution:
    """The `top` categories of both sides together, the rest summed as "other"."""
    totals = cur_counts + (ref_counts if ref_counts is not None else 0)
    order = ranked(labels, totals)
    shown, rest = order[:top], order[top:]

    def pick(counts: np.ndarray) -> list[int]:
        picked = counts[shown].tolist()
        if len(rest):
            picked.append(int(counts[rest].sum()))
        return picked

    names = [label_text(labels[i]) for i in shown] + (["other"] if len(rest) else [])
    return Distribution(
        kind="categories",
        current=pick(cur_counts),
        reference=pick(ref_counts) if ref_counts is not None else None,
        labels=names,
    )
